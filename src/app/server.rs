//! [`AppServer`]: the core [`Server`] with the application on top. It has
//! the core's verbs (`handle_*` with `now`, `poll_*`), and consumes the
//! core's events itself by running the application's handlers.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::config::{ConfigBuilder, ConfigError};
use crate::conn::{EngineData, Event, Handshake, MessageKind};
use crate::engine::Transmit;
use crate::http::{HttpRequest, HttpResponse, Method, RequestId};
use crate::rand::RandomSource;
use crate::server::{ConnId, Rejection, Server, ServerEvent};
use crate::wire::sio::{AckId, Args, Revision};
use crate::DisconnectReason;

use crate::cluster::{Cluster, ClusterMessage};

use super::cluster::{ClusterLink, ClusterOutlet};
use super::context::{Ack, EngineSocket, Io, Socket};
use super::definition::{App, Connecting};
use super::journal::{HandlerKind, JournalEntry, JournalObserver};
use super::recovery::{self, RecoveryStats, Restored, Session};
use super::remote::{AckError, AckResult, Command, Remote};
use super::state::{IncomingEvent, PendingAck, SocketState, State};

/// A running application: the core [`Server`] plus the handlers, socket
/// data and callbacks of an [`App`]. Pure like the core: drivers feed it
/// input with `now`, write what [`AppServer::poll_transmit`] and
/// [`AppServer::poll_http_response`] return, and call
/// [`AppServer::handle_timeout`] at [`AppServer::poll_timeout`]. Handlers
/// run inside the `handle_*` and [`AppServer::apply`] calls.
///
/// ```
/// use std::time::Instant;
/// use socketio_sansio::app::{App, AppServer, Namespace};
/// use socketio_sansio::{Config, Frame, Handshake, SeededRandom, Transmit};
///
/// let app: App = App::new().ns("/", Namespace::new().on_connection(|socket| {
///     socket.on("hello", |socket, args, _ack| socket.emit("hello-back", args));
/// }));
/// let mut io = AppServer::with_random(Config::builder(), app, Box::new(SeededRandom::new(1)))
///     .expect("valid configuration");
/// let now = Instant::now();
/// let conn = io
///     .handle_ws_open(now, Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]))
///     .expect("valid handshake");
/// io.handle_ws_text(now, conn, "40");
/// io.handle_ws_text(now, conn, r#"42["hello","world"]"#);
/// let mut sent = Vec::new();
/// while let Some((_, Transmit::Frame(Frame::Text(text)))) = io.poll_transmit() {
///     sent.push(text.to_string());
/// }
/// assert_eq!(sent.last().unwrap(), r#"42["hello-back","world"]"#);
/// ```
pub struct AppServer<D = ()> {
    server: Server,
    state: State<D>,
}

impl<D> std::fmt::Debug for AppServer<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppServer")
            .field("server", &self.server)
            .field("app", &self.state.app)
            .finish()
    }
}

impl<D: Default + Send + 'static> AppServer<D> {
    /// Serves `app` with the configuration `config` (the application's
    /// namespaces are added to it), session ids from the OS.
    #[cfg(feature = "os-rng")]
    pub fn new(config: ConfigBuilder, app: App<D>) -> Result<Self, ConfigError> {
        Self::with_random(config, app, Box::new(crate::rand::OsRandom))
    }

    /// As [`AppServer::new`], with ids drawn from `rng` (deterministic
    /// under a seeded source).
    pub fn with_random(
        config: ConfigBuilder,
        app: App<D>,
        rng: Box<dyn RandomSource>,
    ) -> Result<Self, ConfigError> {
        let config = app.configure(config).build()?;
        let mut server = Server::with_random(config, rng);
        // Recovery keeps a departed socket's rooms.
        server.set_keep_departed_rooms(app.recovery.is_some());
        Ok(AppServer {
            server,
            state: State::new(app),
        })
    }
}

impl<D: 'static> AppServer<D> {
    /// Installs (or, with `None`, removes) the journal observer: from now
    /// on it is called with every handler run, socket departure and
    /// broadcast ([`JournalEntry`]). For tests and simulators; without one
    /// the journal costs nothing but a check.
    pub fn set_journal(&mut self, observer: Option<JournalObserver>) {
        self.state.journal = observer;
    }

    /// The core, read-only.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The connection state recovery store's size and counters (`None`
    /// when recovery is off).
    pub fn recovery_stats(&self) -> Option<RecoveryStats> {
        self.state.recovery.as_ref().map(|s| s.stats())
    }

    /// Namespace sockets the application holds, over every connection.
    pub fn socket_count(&self) -> usize {
        self.state.sockets.values().map(Vec::len).sum()
    }

    /// Acknowledgements the application awaits from clients (callbacks and
    /// broadcast collectors), over every socket.
    pub fn pending_ack_count(&self) -> usize {
        let callbacks: usize = self
            .state
            .sockets
            .values()
            .flatten()
            .map(|s| s.pending.len())
            .sum();
        callbacks + self.state.collectors.len()
    }

    /// Installs the handle other threads use ([`Io::remote`] hands it out).
    pub fn set_remote(&mut self, remote: Remote<D>) {
        self.state.remote = Some(remote);
    }

    /// True once [`Command::Shutdown`] (or [`AppServer::shutdown`]) ran.
    pub fn is_shutting_down(&self) -> bool {
        self.state.shutting_down
    }

    /// The namespaces being served: the fixed ones and the dynamic children
    /// created so far (without the emptied ones when the application asked
    /// for [`App::cleanup_empty_child_namespaces`]).
    pub fn namespaces(&self) -> Vec<String> {
        let mut names: BTreeSet<String> = self.state.app.fixed.keys().cloned().collect();
        names.extend(self.state.children.keys().cloned());
        names.into_iter().collect()
    }

    /// Runs `f` with server-wide access, as a handler would (for tests and
    /// for drivers' own operations).
    pub fn with_io<R>(&mut self, now: Instant, f: impl FnOnce(&mut Io<'_, D>) -> R) -> R {
        let result = f(&mut Io::new(&mut self.server, &mut self.state, now));
        self.dispatch(now);
        result
    }

    // ---- inputs: the core's, then the handlers run --------------------

    /// A WebSocket handshake (see [`Server::handle_ws_open`]).
    pub fn handle_ws_open(
        &mut self,
        now: Instant,
        handshake: Handshake,
    ) -> Result<ConnId, Rejection> {
        let result = self.server.handle_ws_open(now, handshake);
        self.dispatch(now);
        result
    }

    /// A WebSocket text message.
    pub fn handle_ws_text(&mut self, now: Instant, conn: ConnId, text: &str) {
        self.server.handle_ws_text(now, conn, text);
        self.dispatch(now);
    }

    /// A WebSocket binary message.
    pub fn handle_ws_binary(&mut self, now: Instant, conn: ConnId, data: Vec<u8>) {
        self.server.handle_ws_binary(now, conn, data);
        self.dispatch(now);
    }

    /// The WebSocket of `conn` closed or failed.
    pub fn handle_ws_closed(&mut self, now: Instant, conn: ConnId) {
        self.server.handle_ws_closed(now, conn);
        self.dispatch(now);
    }

    /// An HTTP request (polling, 0.9 handshake...); the answer comes from
    /// [`AppServer::poll_http_response`].
    pub fn handle_http(&mut self, now: Instant, req: RequestId, request: HttpRequest) {
        self.server.handle_http(now, req, request);
        self.dispatch(now);
    }

    /// The head of request `req` is read and its body still arriving (see
    /// [`Server::handle_http_started`]).
    pub fn handle_http_started(&mut self, now: Instant, req: RequestId, method: Method, url: &str) {
        self.server.handle_http_started(now, req, method, url);
        self.dispatch(now);
    }

    /// The client of a held HTTP request went away.
    pub fn handle_http_aborted(&mut self, now: Instant, req: RequestId) {
        self.server.handle_http_aborted(now, req);
        self.dispatch(now);
    }

    /// The driver holds enough unwritten data for `conn` (see
    /// [`Server::handle_write_blocked`]).
    pub fn handle_write_blocked(&mut self, conn: ConnId) {
        self.server.handle_write_blocked(conn);
    }

    /// The driver's unwritten data for `conn` drained (see
    /// [`Server::handle_write_ready`]).
    pub fn handle_write_ready(&mut self, conn: ConnId) {
        self.server.handle_write_ready(conn);
    }

    /// Fires due timers (heartbeats, ack deadlines, cluster requests...).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now);
        if let Some(store) = self.state.recovery.as_mut() {
            store.prune(now);
        }
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.handle_timeout(now);
        }
        self.dispatch(now);
    }

    // ---- the cluster ----------------------------------------------------

    /// Joins a cluster (see [`crate::cluster`]): server-wide operations
    /// that are not `local` reach the other nodes, and what they ask runs
    /// here. Feed it with [`AppServer::handle_cluster_message`] and
    /// [`AppServer::set_cluster_node_count`]; publish what
    /// [`AppServer::poll_cluster_message`] returns (or give an `outlet`
    /// that takes each message as it is produced).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use socketio_sansio::app::{App, AppServer, Namespace};
    /// use socketio_sansio::cluster::{Cluster, ClusterMessage};
    /// use socketio_sansio::{Config, SeededRandom};
    ///
    /// let app: App = App::new().ns("/", Namespace::new());
    /// let mut io = AppServer::with_random(Config::builder(), app, Box::new(SeededRandom::new(1)))
    ///     .expect("valid configuration");
    /// io.attach_cluster(Cluster::new("node-1", Duration::from_secs(5)), None);
    /// let now = Instant::now();
    /// io.with_io(now, |io| io.of("/").emit("news", "hi"));
    /// assert!(matches!(io.poll_cluster_message(), Some(ClusterMessage::Broadcast { .. })));
    /// ```
    pub fn attach_cluster(&mut self, cluster: Cluster, outlet: Option<ClusterOutlet>) {
        self.state.cluster = Some(ClusterLink::new(cluster, outlet));
    }

    /// The attached cluster, read-only.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.state.cluster.as_ref().map(|c| &c.cluster)
    }

    /// A message from another node; the handlers it calls for run now.
    pub fn handle_cluster_message(&mut self, now: Instant, message: ClusterMessage) {
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.handle_message(now, message);
        }
        self.dispatch(now);
    }

    /// How many nodes serve `nsp`, this one included.
    pub fn set_cluster_node_count(&mut self, now: Instant, nsp: &str, count: usize) {
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.set_node_count(now, nsp, count);
        }
        self.dispatch(now);
    }

    /// The next message to publish to the other nodes (when no outlet was
    /// given).
    #[must_use]
    pub fn poll_cluster_message(&mut self) -> Option<ClusterMessage> {
        self.state.cluster.as_mut()?.cluster.poll_message()
    }

    /// Applies a command from another thread.
    pub fn apply(&mut self, now: Instant, command: Command<D>) {
        match command {
            Command::Run(f) => f(&mut Io::new(&mut self.server, &mut self.state, now)),
            Command::Shutdown => self.shutdown(now),
        }
        self.dispatch(now);
    }

    /// Closes every session (clients see the transport close and may
    /// reconnect elsewhere); the driver stops once
    /// [`Server::connection_count`] is zero.
    pub fn shutdown(&mut self, now: Instant) {
        self.state.shutting_down = true;
        self.server.shutdown(now);
        self.dispatch(now);
    }

    // ---- outputs --------------------------------------------------------

    /// The next frame (or transport close) to write.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<(ConnId, Transmit)> {
        self.server.poll_transmit()
    }

    /// The next HTTP response to write.
    #[must_use]
    pub fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        self.server.poll_http_response()
    }

    /// When [`AppServer::handle_timeout`] is due next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let cluster = self
            .state
            .cluster
            .as_ref()
            .and_then(|c| c.cluster.poll_timeout());
        let recovery = self.state.recovery.as_ref().and_then(|s| s.next_deadline());
        [self.server.poll_timeout(), cluster, recovery]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- dispatch ------------------------------------------------------

    /// Runs the handlers of every pending core event (handlers may cause
    /// more events; they run too, in order).
    fn dispatch(&mut self, now: Instant) {
        self.state.last_now = Some(now);
        loop {
            self.dispatch_core(now);
            let Some(event) = self
                .state
                .cluster
                .as_mut()
                .and_then(|c| c.cluster.poll_event())
            else {
                break;
            };
            self.io(now).on_cluster_event(event);
        }
        if let Some(link) = self.state.cluster.as_mut() {
            link.flush();
        }
    }

    fn dispatch_core(&mut self, now: Instant) {
        while let Some(ServerEvent { conn, event }) = self.server.poll_event() {
            match event {
                Event::Connect { nsp, auth } => self.on_connect(now, conn, nsp, auth),
                Event::Message {
                    nsp,
                    name,
                    args,
                    ack,
                    kind,
                } => self.on_message(now, conn, &nsp, name, args, ack, kind),
                Event::AckReceived { nsp, id, args } => {
                    self.resolve_ack(now, conn, &nsp, id, Ok(args))
                }
                Event::AckTimedOut { nsp, id } => {
                    self.resolve_ack(now, conn, &nsp, id, Err(AckError::Timeout))
                }
                Event::Disconnected { nsp, reason } => {
                    self.on_disconnected(now, conn, &nsp, &reason)
                }
                Event::EngineMessage { data } => self.on_engine_message(now, conn, data),
                Event::Closed { reason } => log::debug!("{conn}: closed ({reason})"),
            }
        }
    }

    fn io(&mut self, now: Instant) -> Io<'_, D> {
        Io::new(&mut self.server, &mut self.state, now)
    }

    fn on_connect(&mut self, now: Instant, conn: ConnId, nsp: String, auth: Value) {
        let Some((definition, dynamic)) = self.state.app.namespace(&nsp) else {
            let _ = self
                .server
                .reject(now, conn, &nsp, "Invalid namespace", None);
            return;
        };
        let definition = definition.clone();
        let handshake = self.server.shared_handshake(conn).unwrap_or_default();
        // Connection state recovery: rev 5 sessions only (older clients
        // have no CONNECT payload to carry the pid).
        let recovering = self.state.recovery.is_some()
            && self
                .server
                .connection(conn)
                .is_some_and(|c| c.revision() == Revision::V5);
        let restored = if recovering {
            self.restore(now, &nsp, &auth)
        } else {
            None
        };
        let skip_middlewares = restored.is_some()
            && self
                .state
                .recovery
                .as_ref()
                .is_some_and(|s| s.config.skip_middlewares);
        let (mut data, restored) = match restored {
            Some(Restored { session, missed }) => {
                (session.data, Some((session.id, session.rooms, missed)))
            }
            None => (self.new_data(), None),
        };
        let main = if skip_middlewares {
            Vec::new()
        } else if nsp == "/" {
            self.state.app.main_middlewares.clone()
        } else {
            Vec::new()
        };
        let own: &[_] = if skip_middlewares {
            &[]
        } else {
            &definition.middlewares
        };
        for middleware in main.iter().chain(own) {
            let mut connecting = Connecting {
                conn,
                nsp: &nsp,
                handshake: &handshake,
                auth: &auth,
                data: &mut data,
            };
            if let Err(refusal) = middleware(&mut connecting) {
                let _ = self
                    .server
                    .reject(now, conn, &nsp, &refusal.message, refusal.data);
                return;
            }
        }
        let pid: Option<Arc<str>> = recovering.then(|| match &restored {
            Some(_) => auth
                .get("pid")
                .and_then(Value::as_str)
                .map(Arc::from)
                .unwrap_or_else(|| Arc::from(self.server.random_id())),
            None => Arc::from(self.server.random_id()),
        });
        let extra = pid.as_ref().map(|pid| {
            let mut map = serde_json::Map::new();
            map.insert("pid".to_owned(), Value::String(pid.to_string()));
            map
        });
        let recovered = restored.is_some();
        let accepted = match restored {
            Some((id, rooms, missed)) => {
                self.server
                    .accept_restored(now, conn, &nsp, id.to_string(), extra, missed, &rooms)
            }
            None => self.server.accept(now, conn, &nsp, extra),
        };
        let connect_seq = self.state.recovery.as_ref().map_or(0, |s| s.position());
        let id = match accepted {
            Ok(id) => id,
            Err(e) => {
                log::debug!("{conn}: accept {nsp}: {e}");
                return;
            }
        };
        let legacy = self
            .server
            .any_connection(conn)
            .is_some_and(|c| c.is_legacy());
        if dynamic {
            *self.state.children.entry(nsp.clone()).or_default() += 1;
        }
        let nsp: Arc<str> = Arc::from(nsp);
        self.state
            .sockets
            .entry(conn)
            // Most connections join one namespace: no spare capacity.
            .or_insert_with(|| Vec::with_capacity(1))
            .push(SocketState {
                nsp: nsp.clone(),
                id: Arc::from(id),
                handshake,
                auth,
                data,
                legacy,
                handlers: None,
                shared_events: definition.events.clone(),
                pending: Default::default(),
                pid,
                connect_seq,
                recovered,
            });
        if let Some(handler) = definition.on_connection {
            self.state
                .journal_handler(conn, &nsp, HandlerKind::Connection);
            let mut socket = Socket {
                io: self.io(now),
                conn,
                nsp,
            };
            handler(&mut socket);
        }
    }

    /// The session a CONNECT's auth (`pid`, `offset`) asks to restore.
    fn restore(&mut self, now: Instant, nsp: &str, auth: &Value) -> Option<Restored<D>> {
        let pid = auth.get("pid")?.as_str()?;
        let offset = match auth.get("offset") {
            None | Some(Value::Null) => None,
            Some(Value::String(offset)) => Some(offset.as_str()),
            Some(_) => return None,
        };
        let store = self.state.recovery.as_mut()?;
        store.restore(now, nsp, pid, offset)
    }

    fn new_data(&self) -> D {
        // `D::default`, captured by the constructors (which require it).
        (self.state.make_data)()
    }

    #[allow(clippy::too_many_arguments)]
    fn on_message(
        &mut self,
        now: Instant,
        conn: ConnId,
        nsp: &str,
        name: String,
        args: Args,
        ack: Option<AckId>,
        kind: MessageKind,
    ) {
        let Some(socket) = self.state.socket(conn, nsp) else {
            log::debug!("{conn}: event {name:?} for {nsp}, which has no socket");
            return;
        };
        let nsp = socket.nsp.clone();
        let middlewares = socket.own(|h| &h.middlewares);
        let mut event = IncomingEvent {
            name,
            args,
            wants_ack: ack.is_some(),
        };
        let mut socket = Socket {
            io: Io::new(&mut self.server, &mut self.state, now),
            conn,
            nsp: nsp.clone(),
        };
        for middleware in &middlewares {
            socket
                .state
                .journal_handler(conn, &nsp, HandlerKind::Middleware);
            if let Err(refusal) = middleware(&mut socket, &mut event) {
                if let (Some(id), Some(reply)) = (ack, refusal.reply.clone()) {
                    Ack {
                        conn,
                        nsp: nsp.clone(),
                        id,
                    }
                    .send(&mut socket, reply);
                }
                let handlers = socket
                    .state()
                    .map(|s| s.own(|h| &h.errors))
                    .unwrap_or_default();
                for handler in handlers {
                    socket.state.journal_handler(conn, &nsp, HandlerKind::Error);
                    handler(&mut socket, &refusal);
                }
                return;
            }
        }
        let Some(state) = socket.state() else {
            return;
        };
        let any = state.own(|h| &h.any);
        let special = match kind {
            MessageKind::LegacyMessage => state.own(|h| &h.legacy_message),
            MessageKind::LegacyJson => state.own(|h| &h.legacy_json),
            _ => None,
        };
        let handler = special
            .or_else(|| {
                state
                    .handlers
                    .as_deref()
                    .and_then(|h| h.events.get(&event.name).cloned())
            })
            .or_else(|| state.shared_events.get(&event.name).cloned());
        for listener in any {
            socket.state.journal_handler(conn, &nsp, HandlerKind::Any);
            listener(&mut socket, &event.name, &event.args);
        }
        if handler.is_some() {
            socket.state.journal_handler(conn, &nsp, HandlerKind::Event);
        }
        let ack = ack.map(|id| Ack { conn, nsp, id });
        match handler {
            Some(handler) => handler(&mut socket, event.args, ack),
            None => log::debug!("{conn}: no handler for event {:?}", event.name),
        }
    }

    fn resolve_ack(&mut self, now: Instant, conn: ConnId, nsp: &str, id: AckId, result: AckResult) {
        let Some(socket) = self.state.socket_mut(conn, nsp) else {
            return;
        };
        let Some(pending) = socket.pending.remove(&id) else {
            return;
        };
        let (nsp, socket_id) = (socket.nsp.clone(), socket.id.clone());
        self.run_pending(now, conn, nsp, &socket_id, pending, result);
    }

    fn run_pending(
        &mut self,
        now: Instant,
        conn: ConnId,
        nsp: Arc<str>,
        socket_id: &str,
        pending: PendingAck<D>,
        result: AckResult,
    ) {
        match pending {
            PendingAck::Callback(then) => {
                self.state
                    .journal_handler(conn, &nsp, HandlerKind::AckCallback);
                let mut socket = Socket {
                    io: self.io(now),
                    conn,
                    nsp,
                };
                then(&mut socket, result);
            }
            PendingAck::Collector(id) => {
                if let Some(done) = self.state.collect(id, socket_id, result) {
                    (done.done)(&mut self.io(now), done.acks);
                }
            }
        }
    }

    fn on_disconnected(
        &mut self,
        now: Instant,
        conn: ConnId,
        nsp: &str,
        reason: &DisconnectReason,
    ) {
        let Some(socket) = self.state.socket_mut(conn, nsp) else {
            return;
        };
        let (nsp, socket_id) = (socket.nsp.clone(), socket.id.clone());
        let pending: Vec<(AckId, PendingAck<D>)> = socket.pending.drain().collect();
        let handlers = socket.own(|h| &h.disconnect);
        for (_, waiter) in pending {
            self.run_pending(
                now,
                conn,
                nsp.clone(),
                &socket_id,
                waiter,
                Err(AckError::Disconnected),
            );
        }
        let mut socket = Socket {
            io: self.io(now),
            conn,
            nsp: nsp.clone(),
        };
        for handler in handlers {
            socket
                .state
                .journal_handler(conn, &nsp, HandlerKind::Disconnect);
            handler(&mut socket, reason);
        }
        // Waiters registered by the disconnect handlers cannot be answered.
        let removed = self.state.remove_socket(conn, &nsp);
        if let (Some(observer), Some(s)) = (self.state.journal.as_mut(), removed.as_ref()) {
            observer(JournalEntry::Disconnected {
                conn,
                nsp: s.nsp.clone(),
                socket: s.id.clone(),
            });
        }
        let rooms = self.server.take_departed_rooms(conn, &nsp);
        let late: Vec<PendingAck<D>> = match removed {
            Some(s) => {
                let late = s.pending.into_values().collect();
                if let (Some(store), Some(pid)) = (self.state.recovery.as_mut(), s.pid) {
                    if recovery::is_recoverable(reason) {
                        let session = Session {
                            nsp: s.nsp,
                            id: s.id,
                            rooms: rooms.unwrap_or_default(),
                            data: s.data,
                            connect_seq: s.connect_seq,
                            expires: now,
                        };
                        store.persist(now, &pid, session);
                    }
                }
                late
            }
            None => Vec::new(),
        };
        for waiter in late {
            self.run_detached(now, conn, &nsp, &socket_id, waiter, AckError::Disconnected);
        }
        if let Some(count) = self.state.children.get_mut(&*nsp) {
            *count = count.saturating_sub(1);
            if *count == 0 && self.state.app.cleanup_empty_children {
                self.state.children.remove(&*nsp);
            }
        }
    }

    fn on_engine_message(&mut self, now: Instant, conn: ConnId, data: EngineData) {
        let Some(handler) = self.state.app.engine.clone() else {
            log::debug!("{conn}: Engine.IO message without an engine_io handler");
            return;
        };
        let mut engine = EngineSocket {
            io: self.io(now),
            conn,
        };
        handler(&mut engine, data);
    }
}

impl<D> AppServer<D> {
    /// Resolves a waiter whose socket state is gone: callbacks run with a
    /// context whose socket accessors fall back to defaults.
    fn run_detached(
        &mut self,
        now: Instant,
        conn: ConnId,
        nsp: &Arc<str>,
        socket_id: &str,
        waiter: PendingAck<D>,
        error: AckError,
    ) {
        match waiter {
            PendingAck::Callback(then) => {
                let mut socket = Socket {
                    io: Io::new(&mut self.server, &mut self.state, now),
                    conn,
                    nsp: nsp.clone(),
                };
                then(&mut socket, Err(error));
            }
            PendingAck::Collector(id) => {
                if let Some(done) = self.state.collect(id, socket_id, Err(error)) {
                    (done.done)(
                        &mut Io::new(&mut self.server, &mut self.state, now),
                        done.acks,
                    );
                }
            }
        }
    }
}

impl<D> Drop for AppServer<D> {
    fn drop(&mut self) {
        // Every waiter gets its one outcome: the server stopped (at the time
        // of the last input; without any input nothing can be waiting).
        let Some(now) = self.state.last_now else {
            return;
        };
        let waiters: Vec<_> = self
            .state
            .sockets
            .iter_mut()
            .flat_map(|(conn, sockets)| {
                sockets.iter_mut().flat_map(move |s| {
                    let (nsp, id) = (s.nsp.clone(), s.id.clone());
                    s.pending
                        .drain()
                        .map(move |(_, w)| (*conn, nsp.clone(), id.clone(), w))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for (conn, nsp, id, waiter) in waiters {
            self.run_detached(now, conn, &nsp, &id, waiter, AckError::ServerStopped);
        }
    }
}
