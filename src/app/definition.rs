//! The application definition: namespaces, their connect middlewares and
//! connection handlers, and the bare Engine.IO handler. Built once, cloned
//! cheaply (every handler is behind an `Arc`), served by any driver.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::config::ConfigBuilder;
use crate::conn::{EngineData, Handshake};
use crate::server::ConnId;
use crate::wire::sio::Args;

use super::cluster::{ServerSideAck, ServerSideHandler};
use super::context::{Ack, EngineSocket, Io, Socket};
use super::recovery::{EvictionHandler, RecoveryConfig, RecoveryEviction};
use super::state::EventHandler;

/// Refuses a namespace CONNECT: the client receives a CONNECT_ERROR with
/// this message (`err.message`) and, for Socket.IO 3+ clients, `data`
/// (`err.data`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The error message.
    pub message: String,
    /// Extra data for the client.
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data for the client.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

/// What a connect middleware sees: the client asking to join a namespace,
/// before its socket exists. It may read the handshake and auth, and set
/// the socket's data.
pub struct Connecting<'a, D> {
    pub(crate) conn: ConnId,
    pub(crate) nsp: &'a str,
    pub(crate) handshake: &'a Handshake,
    pub(crate) auth: &'a Value,
    pub(crate) data: &'a mut D,
}

impl<D> Connecting<'_, D> {
    /// The connection asking.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// The namespace it asks to join.
    pub fn nsp(&self) -> &str {
        self.nsp
    }

    /// The connection's handshake request (URL, query, headers).
    pub fn handshake(&self) -> &Handshake {
        self.handshake
    }

    /// The auth payload of the CONNECT (`{}` when none; rev 4 clients: the
    /// namespace's query as an object).
    pub fn auth(&self) -> &Value {
        self.auth
    }

    /// The socket's data, as set by earlier middlewares.
    pub fn data(&self) -> &D {
        self.data
    }

    /// The socket's data, to set for the handlers that follow.
    pub fn data_mut(&mut self) -> &mut D {
        self.data
    }
}

pub(crate) type Middleware<D> =
    Arc<dyn Fn(&mut Connecting<'_, D>) -> Result<(), ConnectError> + Send + Sync>;
/// Appends to a shared middleware list (at definition time only).
fn push<D>(list: &mut Arc<[Middleware<D>]>, middleware: Middleware<D>) {
    let mut grown = list.to_vec();
    grown.push(middleware);
    *list = grown.into();
}

pub(crate) type ConnectionHandler<D> = Arc<dyn Fn(&mut Socket<'_, D>) + Send + Sync>;
pub(crate) type EngineHandler<D> = Arc<dyn Fn(&mut EngineSocket<'_, D>, EngineData) + Send + Sync>;
pub(crate) type NamePredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// One namespace's connect middlewares and connection handler (socket.io's
/// `nsp.use(...)` and `nsp.on("connection", ...)`).
///
/// ```
/// use socketio_sansio::app::{ConnectError, Namespace};
///
/// let admin: Namespace<Option<String>> = Namespace::new()
///     .use_middleware(|c| match c.auth()["token"].as_str() {
///         Some(token) => {
///             *c.data_mut() = Some(token.to_owned());
///             Ok(())
///         }
///         None => Err(ConnectError::new("not authorized")),
///     })
///     .on_connection(|socket| socket.emit("welcome", ()));
/// # let _ = admin;
/// ```
pub struct Namespace<D> {
    /// Shared: a connection takes a reference, never a copy.
    pub(crate) middlewares: Arc<[Middleware<D>]>,
    pub(crate) on_connection: Option<ConnectionHandler<D>>,
    /// Handlers every socket of the namespace starts with (shared).
    pub(crate) events: Arc<HashMap<String, EventHandler<D>>>,
}

impl<D> Clone for Namespace<D> {
    fn clone(&self) -> Self {
        Namespace {
            middlewares: self.middlewares.clone(),
            on_connection: self.on_connection.clone(),
            events: self.events.clone(),
        }
    }
}

impl<D> Default for Namespace<D> {
    fn default() -> Self {
        Namespace {
            middlewares: Arc::new([]),
            on_connection: None,
            events: Arc::default(),
        }
    }
}

impl<D> fmt::Debug for Namespace<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("middlewares", &self.middlewares.len())
            .field("on_connection", &self.on_connection.is_some())
            .field("events", &self.events.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<D> Namespace<D> {
    /// A namespace that accepts every client and does nothing with them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a connect middleware. Middlewares run in order for every
    /// CONNECT; the first `Err` refuses the client with a CONNECT_ERROR and
    /// the rest do not run.
    pub fn use_middleware(
        mut self,
        middleware: impl Fn(&mut Connecting<'_, D>) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> Self {
        push(&mut self.middlewares, Arc::new(middleware));
        self
    }

    /// Registers the handler of `event` for every socket of the namespace,
    /// once for all: the same as each socket's connection handler calling
    /// [`Socket::on`], without a per-socket registration (no memory or time
    /// per connection). A socket's own [`Socket::on`] for the same event
    /// takes precedence.
    pub fn on(
        mut self,
        event: impl Into<String>,
        handler: impl Fn(&mut Socket<'_, D>, Args, Option<Ack>) + Send + Sync + 'static,
    ) -> Self {
        Arc::make_mut(&mut self.events).insert(event.into(), Arc::new(handler));
        self
    }

    /// Sets the connection handler: it runs once the socket is connected
    /// (the client already has its CONNECT answer), and typically registers
    /// the socket's event handlers.
    pub fn on_connection(
        mut self,
        handler: impl Fn(&mut Socket<'_, D>) + Send + Sync + 'static,
    ) -> Self {
        self.on_connection = Some(Arc::new(handler));
        self
    }
}

/// The application: what every driver serves. Build it once; a driver (or
/// the simulator) turns it into a running [`super::AppServer`].
///
/// `D` is the per-socket data the application chooses (socket.io's
/// `socket.data`); it starts as `D::default()` for every socket.
///
/// ```
/// use socketio_sansio::app::{App, Namespace};
///
/// let app: App = App::new()
///     .ns("/", Namespace::new().on_connection(|socket| {
///         socket.on("ping", |socket, _args, ack| {
///             if let Some(ack) = ack {
///                 ack.send(socket, "pong");
///             }
///         });
///     }))
///     .dynamic_ns(|name| name.starts_with("/room-"), Namespace::new())
///     .cleanup_empty_child_namespaces(true);
/// # let _ = app;
/// ```
pub struct App<D = ()> {
    pub(crate) fixed: BTreeMap<String, Namespace<D>>,
    pub(crate) dynamic: Vec<(NamePredicate, Namespace<D>)>,
    /// Shared, as [`Namespace`]'s.
    pub(crate) main_middlewares: Arc<[Middleware<D>]>,
    pub(crate) cleanup_empty_children: bool,
    pub(crate) engine: Option<EngineHandler<D>>,
    pub(crate) server_side: HashMap<String, ServerSideHandler<D>>,
    pub(crate) cluster_encode: fn(&D) -> Value,
    pub(crate) cluster_decode: fn(&Value) -> Option<D>,
    pub(crate) recovery: Option<RecoveryConfig>,
    pub(crate) on_eviction: Option<EvictionHandler>,
}

impl<D> Clone for App<D> {
    fn clone(&self) -> Self {
        App {
            fixed: self.fixed.clone(),
            dynamic: self.dynamic.clone(),
            main_middlewares: self.main_middlewares.clone(),
            cleanup_empty_children: self.cleanup_empty_children,
            engine: self.engine.clone(),
            server_side: self.server_side.clone(),
            cluster_encode: self.cluster_encode,
            cluster_decode: self.cluster_decode,
            recovery: self.recovery.clone(),
            on_eviction: self.on_eviction.clone(),
        }
    }
}

impl<D> Default for App<D> {
    fn default() -> Self {
        App {
            // The main namespace always exists, as in socket.io (`io.sockets`):
            // Socket.IO 1.x/2.x clients join it before any other.
            fixed: BTreeMap::from([("/".to_owned(), Namespace::new())]),
            dynamic: Vec::new(),
            main_middlewares: Arc::new([]),
            cleanup_empty_children: false,
            engine: None,
            server_side: HashMap::new(),
            cluster_encode: |_| Value::Null,
            cluster_decode: |_| None,
            recovery: None,
            on_eviction: None,
        }
    }
}

impl<D> fmt::Debug for App<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("namespaces", &self.fixed.keys().collect::<Vec<_>>())
            .field("dynamic", &self.dynamic.len())
            .field("cleanup_empty_children", &self.cleanup_empty_children)
            .field("engine_io", &self.engine.is_some())
            .field("recovery", &self.recovery)
            .finish()
    }
}

impl<D> App<D> {
    /// An application serving only the main namespace `/`, without
    /// handlers (as socket.io's `io.sockets` always exists); define it with
    /// [`App::ns`]`("/", ..)`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles the inter-server event `event` that another node of the
    /// cluster sent with [`Io::server_side_emit`] (socket.io's
    /// `io.on("hello", (...args, ack) => ..)` for `serverSideEmit`); `ack`
    /// is present when the sender waits for an answer.
    ///
    /// ```
    /// use socketio_sansio::app::App;
    ///
    /// let app: App = App::new().on_server_side_emit("hello", |io, _args, ack| {
    ///     if let Some(ack) = ack {
    ///         ack.send(io, "node-1");
    ///     }
    /// });
    /// # let _ = app;
    /// ```
    pub fn on_server_side_emit(
        mut self,
        event: impl Into<String>,
        handler: impl Fn(&mut Io<'_, D>, Args, Option<ServerSideAck>) + Send + Sync + 'static,
    ) -> Self {
        self.server_side.insert(event.into(), Arc::new(handler));
        self
    }

    /// How `socket.data` crosses the cluster in `fetchSockets` (JSON both
    /// ways; `decode` returning `None` gives the default). Without it,
    /// other nodes see `null` and remote sockets carry `D::default()`.
    pub fn cluster_data(
        mut self,
        encode: fn(&D) -> Value,
        decode: fn(&Value) -> Option<D>,
    ) -> Self {
        self.cluster_encode = encode;
        self.cluster_decode = decode;
        self
    }

    /// Serves namespace `name` (socket.io's `io.of(name)`). A second call
    /// with the same name replaces the first.
    pub fn ns(mut self, name: impl Into<String>, namespace: Namespace<D>) -> Self {
        self.fixed.insert(name.into(), namespace);
        self
    }

    /// Serves every namespace `accept` approves that has no definition of
    /// its own (socket.io's `io.of(regex)` or `io.of(fn)`): each such name
    /// becomes a child namespace with these middlewares and handler. The
    /// first matching predicate wins.
    pub fn dynamic_ns(
        mut self,
        accept: impl Fn(&str) -> bool + Send + Sync + 'static,
        namespace: Namespace<D>,
    ) -> Self {
        self.dynamic.push((Arc::new(accept), namespace));
        self
    }

    /// Forget a dynamic child namespace once its last socket left
    /// (socket.io's `cleanupEmptyChildNamespaces`, off by default). See
    /// [`super::AppServer::namespaces`].
    pub fn cleanup_empty_child_namespaces(mut self, cleanup: bool) -> Self {
        self.cleanup_empty_children = cleanup;
        self
    }

    /// A connect middleware for the main namespace `/` (socket.io's
    /// `io.use(...)`), run before the middlewares of `/`'s own definition.
    pub fn use_middleware(
        mut self,
        middleware: impl Fn(&mut Connecting<'_, D>) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> Self {
        push(&mut self.main_middlewares, Arc::new(middleware));
        self
    }

    /// Handles the messages of bare Engine.IO sessions (served under
    /// [`crate::Config::engine_path`], which the driver's configuration
    /// must set).
    pub fn engine_io(
        mut self,
        on_message: impl Fn(&mut EngineSocket<'_, D>, EngineData) + Send + Sync + 'static,
    ) -> Self {
        self.engine = Some(Arc::new(on_message));
        self
    }

    /// Turns connection state recovery on (socket.io's
    /// `connectionStateRecovery`; off by default): see
    /// [`RecoveryConfig`] and the [module](super::RecoveryConfig) docs. A
    /// socket restored after a transport cut keeps its id, rooms and data,
    /// gets the events it missed, and [`super::Socket::recovered`] is true
    /// in its connection handler.
    ///
    /// ```
    /// use std::time::Instant;
    /// use socketio_sansio::app::{App, AppServer, Namespace, RecoveryConfig};
    /// use socketio_sansio::{Config, Frame, Handshake, SeededRandom, Transmit};
    ///
    /// let app: App = App::new()
    ///     .ns("/", Namespace::new().on_connection(|socket| socket.join("news")))
    ///     .connection_state_recovery(RecoveryConfig::default());
    /// let mut io = AppServer::with_random(Config::builder(), app, Box::new(SeededRandom::new(1)))
    ///     .unwrap();
    /// let now = Instant::now();
    /// let ws = Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]);
    /// let conn = io.handle_ws_open(now, ws.clone()).unwrap();
    /// io.handle_ws_text(now, conn, "40");
    /// let mut texts = |io: &mut AppServer| {
    ///     let mut out = Vec::new();
    ///     while let Some((_, t)) = io.poll_transmit() {
    ///         if let Transmit::Frame(Frame::Text(t)) = t { out.push(t.to_string()); }
    ///     }
    ///     out
    /// };
    /// let answer: serde_json::Value = serde_json::from_str(&texts(&mut io)[1][2..]).unwrap();
    /// let (sid, pid) = (answer["sid"].as_str().unwrap(), answer["pid"].as_str().unwrap());
    ///
    /// // The transport is cut; meanwhile the room gets news.
    /// io.handle_ws_closed(now, conn);
    /// io.with_io(now, |io| io.to("news").emit("headline", "hi"));
    ///
    /// // The client comes back with its pid: same id, the news first.
    /// let conn = io.handle_ws_open(now, ws).unwrap();
    /// let _open = texts(&mut io);
    /// io.handle_ws_text(now, conn, &format!(r#"40{{"pid":"{pid}"}}"#));
    /// let sent = texts(&mut io);
    /// assert_eq!(sent[0], r#"42["headline","hi","1"]"#);
    /// assert!(sent[1].contains(sid));
    /// ```
    pub fn connection_state_recovery(mut self, config: RecoveryConfig) -> Self {
        self.recovery = Some(config);
        self
    }

    /// Runs `handler` whenever the recovery store drops a session or
    /// packets (see [`RecoveryEviction`]).
    pub fn on_recovery_eviction(
        mut self,
        handler: impl Fn(&RecoveryEviction) + Send + Sync + 'static,
    ) -> Self {
        self.on_eviction = Some(Arc::new(handler));
        self
    }

    /// Registers the application's namespaces with the core configuration
    /// (the core refuses namespaces it does not know before the application
    /// sees them). [`super::AppServer::new`] calls it.
    pub fn configure(&self, mut config: ConfigBuilder) -> ConfigBuilder {
        for name in self.fixed.keys() {
            config = config.namespace(name.clone());
        }
        if !self.dynamic.is_empty() {
            let predicates: Vec<NamePredicate> =
                self.dynamic.iter().map(|(p, _)| p.clone()).collect();
            config = config.dynamic_namespaces(move |name| predicates.iter().any(|p| p(name)));
        }
        config
    }

    /// The definition serving `nsp`, and whether it is a dynamic child.
    pub(crate) fn namespace(&self, nsp: &str) -> Option<(&Namespace<D>, bool)> {
        if let Some(ns) = self.fixed.get(nsp) {
            return Some((ns, false));
        }
        self.dynamic
            .iter()
            .find(|(accept, _)| accept(nsp))
            .map(|(_, ns)| (ns, true))
    }
}
