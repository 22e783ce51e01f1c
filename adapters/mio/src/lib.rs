//! # socketio-mio
//!
//! A Socket.IO server on one thread: a [`mio`] event loop that owns the
//! [`socketio_sansio::Server`] state machine, the listener and every
//! connection. No thread per connection, no channels on the message path:
//! handlers run inline on the loop thread and act on the core directly.
//!
//! * WebSocket (`/socket.io/?EIO=4&transport=websocket`) with a small
//!   in-house frame codec: reads go into one shared scratch buffer (an idle
//!   connection holds no read buffer), everything queued for a connection
//!   in a loop turn is encoded into its output buffer and written with one
//!   `write`, and the buffer goes back to a pool once flushed.
//! * HTTP long-polling (and the upgrade to WebSocket): a request goes to
//!   [`Server::handle_http`], a held GET is a connection waiting for its
//!   response; keep-alive and optional [`Cors`].
//! * HTTP parsing, routing (Socket.IO, the 0.9 endpoints, the bare
//!   Engine.IO path, static files via [`Builder::serve_static`]), WebSocket
//!   handshake validation and the frame codec come from `socketio-http`,
//!   shared with the blocking driver.
//! * Timers come from [`Server::poll_timeout`]; the clock is read once per
//!   loop turn.
//!
//! Handlers are registered per namespace ([`Namespace`]) and receive a
//! [`Ctx`] to emit, acknowledge, join rooms, broadcast and disconnect.
//! Other threads talk to the loop through a [`Handle`] (`Clone + Send`,
//! woken with a [`mio::Waker`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_mio::{Broadcast, MioServer, Namespace};
//!
//! let chat = Namespace::new()
//!     .on_connect(|ctx, auth| {
//!         ctx.emit("welcome", auth.clone())?;
//!         ctx.join("lobby")?;
//!         Ok(())
//!     })
//!     .on("message", |ctx, args, _ack| {
//!         let _ = ctx.emit("message-back", args);
//!     })
//!     .on("shout", |ctx, args, ack| {
//!         let _ = ctx.broadcast(&Broadcast::to("/").room("lobby"), "shout", &args);
//!         if let Some(id) = ack {
//!             let _ = ctx.ack(id, ());
//!         }
//!     });
//! let server = MioServer::builder()
//!     .config(|c| c.ping_interval(Duration::from_secs(25)))
//!     .ns("/", chat)
//!     .bind("127.0.0.1:3000")?;
//! let handle = server.handle();
//! std::thread::spawn(move || {
//!     std::thread::sleep(Duration::from_secs(60));
//!     handle.broadcast(Broadcast::to("/"), "bye", "server going down".into());
//!     handle.shutdown();
//! });
//! server.run()?; // returns after shutdown
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod event_loop;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
pub use socketio_sansio::{
    AckId, Args, Broadcast, Config, ConfigBuilder, ConnId, DisconnectReason, Handshake, Server,
    UsageError,
};

pub use event_loop::MioServer;
pub use socketio_sansio::Cors;

/// Refuses a namespace CONNECT (the client gets a CONNECT_ERROR).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The error message.
    pub message: String,
    /// Optional data for the client.
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with a message.
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

impl From<UsageError> for ConnectError {
    fn from(e: UsageError) -> Self {
        ConnectError::new(e.to_string())
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The client did not acknowledge in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckTimeout;

type ConnectFn = dyn FnMut(&mut Ctx<'_>, &Value) -> Result<(), ConnectError> + Send;
type EventFn = dyn FnMut(&mut Ctx<'_>, Args, Option<AckId>) + Send;
type AnyFn = dyn FnMut(&mut Ctx<'_>, &str, Args, Option<AckId>) + Send;
type DisconnectFn = dyn FnMut(&mut Ctx<'_>, &DisconnectReason) + Send;
type RunFn = dyn FnOnce(&mut Server, Instant) + Send;
type AckFn = dyn FnOnce(&mut Ctx<'_>, Result<Args, AckTimeout>) + Send;

/// The handlers of one namespace.
#[derive(Default)]
pub struct Namespace {
    on_connect: Option<Box<ConnectFn>>,
    events: HashMap<String, Box<EventFn>>,
    on_any: Option<Box<AnyFn>>,
    on_disconnect: Option<Box<DisconnectFn>>,
}

impl Namespace {
    /// A namespace that accepts every CONNECT and ignores every event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called for each CONNECT with the client's `auth` (`{}` when none).
    /// `Ok` accepts it, `Err` refuses it (unless the handler already used
    /// the socket, which accepts it).
    pub fn on_connect(
        mut self,
        f: impl FnMut(&mut Ctx<'_>, &Value) -> Result<(), ConnectError> + Send + 'static,
    ) -> Self {
        self.on_connect = Some(Box::new(f));
        self
    }

    /// Called for the event `name` with its arguments and ack id (when the
    /// client asked for one: answer with [`Ctx::ack`]).
    pub fn on(
        mut self,
        name: impl Into<String>,
        f: impl FnMut(&mut Ctx<'_>, Args, Option<AckId>) + Send + 'static,
    ) -> Self {
        self.events.insert(name.into(), Box::new(f));
        self
    }

    /// Called for events that have no handler of their own.
    pub fn on_any(
        mut self,
        f: impl FnMut(&mut Ctx<'_>, &str, Args, Option<AckId>) + Send + 'static,
    ) -> Self {
        self.on_any = Some(Box::new(f));
        self
    }

    /// Called when a socket of this namespace goes away.
    pub fn on_disconnect(
        mut self,
        f: impl FnMut(&mut Ctx<'_>, &DisconnectReason) + Send + 'static,
    ) -> Self {
        self.on_disconnect = Some(Box::new(f));
        self
    }
}

/// Pending `emit_with_ack` callbacks, by connection, namespace and ack id.
pub(crate) type AckCallbacks = HashMap<(ConnId, String, AckId), Box<AckFn>>;

/// What a handler can do: act on one socket (a connection in a namespace)
/// or, through [`Ctx::server`], on the whole core. Runs on the loop thread;
/// everything queued is written at the end of the loop turn.
pub struct Ctx<'a> {
    pub(crate) server: &'a mut Server,
    pub(crate) acks: &'a mut AckCallbacks,
    pub(crate) now: Instant,
    pub(crate) conn: ConnId,
    pub(crate) nsp: &'a str,
    /// A CONNECT not answered yet: the first use of the socket accepts it.
    pub(crate) connecting: bool,
}

impl<'a> Ctx<'a> {
    /// The connection.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        self.nsp
    }

    /// The time of this loop turn.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The socket id in this namespace (once accepted).
    pub fn socket_id(&self) -> Option<&str> {
        self.server.socket_id(self.conn, self.nsp)
    }

    /// The handshake request of the connection.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.server.handshake(self.conn)
    }

    /// The core, for anything else (other connections, rooms, stats).
    pub fn server(&mut self) -> &mut Server {
        self.accept_pending();
        self.server
    }

    fn accept_pending(&mut self) {
        if self.connecting {
            self.connecting = false;
            if let Err(e) = self.server.accept(self.now, self.conn, self.nsp, None) {
                log::debug!("{}: accept {}: {e}", self.conn, self.nsp);
            }
        }
    }

    /// Emits `event` to this socket.
    pub fn emit(&mut self, event: &str, args: impl Into<Args>) -> Result<(), UsageError> {
        self.accept_pending();
        self.server
            .emit(self.now, self.conn, self.nsp, event, args.into())
    }

    /// Emits `event` asking for an ack; `then` runs with the client's answer
    /// or [`AckTimeout`] after `timeout`.
    pub fn emit_with_ack(
        &mut self,
        event: &str,
        args: impl Into<Args>,
        timeout: Option<Duration>,
        then: impl FnOnce(&mut Ctx<'_>, Result<Args, AckTimeout>) + Send + 'static,
    ) -> Result<AckId, UsageError> {
        self.accept_pending();
        let id = self.server.emit_with_ack(
            self.now,
            self.conn,
            self.nsp,
            event,
            args.into(),
            timeout,
        )?;
        self.acks
            .insert((self.conn, self.nsp.to_owned(), id), Box::new(then));
        Ok(id)
    }

    /// Answers the client's ack request `id`.
    pub fn ack(&mut self, id: AckId, args: impl Into<Args>) -> Result<(), UsageError> {
        self.accept_pending();
        self.server
            .ack(self.now, self.conn, self.nsp, id, args.into())
    }

    /// Joins `room` (of this namespace).
    pub fn join(&mut self, room: &str) -> Result<(), UsageError> {
        self.accept_pending();
        self.server.join(self.conn, self.nsp, room)
    }

    /// Leaves `room`.
    pub fn leave(&mut self, room: &str) -> Result<(), UsageError> {
        self.server.leave(self.conn, self.nsp, room)
    }

    /// Broadcasts (encoded once); returns how many sockets it reached.
    pub fn broadcast(
        &mut self,
        op: &Broadcast,
        event: &str,
        args: &Args,
    ) -> Result<usize, UsageError> {
        self.accept_pending();
        self.server.broadcast(self.now, op, event, args)
    }

    /// Disconnects this socket from the namespace.
    pub fn disconnect(&mut self) -> Result<(), UsageError> {
        self.accept_pending();
        self.server.disconnect(self.now, self.conn, self.nsp)
    }

    /// Closes the whole connection (every namespace).
    pub fn close(&mut self) -> Result<(), UsageError> {
        self.server.close(self.now, self.conn)
    }
}

/// A command for the loop from another thread.
pub(crate) enum Command {
    Run(Box<RunFn>),
    Shutdown,
}

pub(crate) struct Shared {
    pub(crate) waker: mio::Waker,
    pub(crate) queue: Mutex<Vec<Command>>,
}

/// Talks to a running [`MioServer`] from any thread. Commands are queued and
/// the loop is woken; they run on the loop thread in order.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    fn send(&self, cmd: Command) {
        if let Ok(mut q) = self.shared.queue.lock() {
            q.push(cmd);
        }
        if let Err(e) = self.shared.waker.wake() {
            log::debug!("waking the loop failed: {e}");
        }
    }

    /// Runs `f` on the loop thread with the core and the turn's time.
    pub fn run(&self, f: impl FnOnce(&mut Server, Instant) + Send + 'static) {
        self.send(Command::Run(Box::new(f)));
    }

    /// Emits `event` to the socket of `conn` in `nsp`.
    pub fn emit(&self, conn: ConnId, nsp: impl Into<String>, event: impl Into<String>, args: Args) {
        let (nsp, event) = (nsp.into(), event.into());
        self.run(move |s, now| {
            if let Err(e) = s.emit(now, conn, &nsp, &event, args) {
                log::debug!("{conn}: emit {event:?}: {e}");
            }
        });
    }

    /// Broadcasts `event`.
    pub fn broadcast(&self, op: Broadcast, event: impl Into<String>, args: Args) {
        let event = event.into();
        self.run(move |s, now| {
            if let Err(e) = s.broadcast(now, &op, &event, &args) {
                log::debug!("broadcast {event:?}: {e}");
            }
        });
    }

    /// Closes every session, stops accepting, and makes
    /// [`MioServer::run`] return once the goodbyes are written (at most
    /// about a second later).
    pub fn shutdown(&self) {
        self.send(Command::Shutdown);
    }
}

/// Builds a [`MioServer`].
pub struct Builder {
    config: ConfigBuilder,
    namespaces: HashMap<String, Namespace>,
    cors: Option<Cors>,
    static_dir: Option<PathBuf>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            config: Config::builder(),
            namespaces: HashMap::new(),
            cors: None,
            static_dir: None,
        }
    }
}

impl Builder {
    /// Adjusts the protocol settings (ping interval, limits, path...).
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.config = f(self.config);
        self
    }

    /// Serves namespace `path` with these handlers.
    pub fn ns(mut self, path: impl Into<String>, ns: Namespace) -> Self {
        let path = path.into();
        self.config = self.config.namespace(path.clone());
        self.namespaces.insert(path, ns);
        self
    }

    /// Allows cross-origin polling requests.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Also serves the files of `dir` (for examples): a `GET` or `HEAD` for a
    /// path outside the Socket.IO path is answered from it, `/` and
    /// directories with their `index.html`. Paths that would leave `dir`
    /// (`..`, symlinks pointing out...) are refused; other methods get 405.
    /// Without this, such requests get 404. [`Builder::bind`] fails if `dir`
    /// does not exist. Files are read on the loop thread: keep them small.
    pub fn serve_static(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    /// Binds the listener (nonblocking) and builds the server; call
    /// [`MioServer::run`] to serve.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<MioServer> {
        let config = self
            .config
            .build()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let addr: SocketAddr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
        let router = socketio_http::Router::new(config.clone())
            .with_cors(self.cors)
            .with_static_dir(self.static_dir.as_deref())?;
        MioServer::new(config, addr, self.namespaces, router)
    }
}
