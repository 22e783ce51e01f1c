//! The handler-facing API: [`Socket`], [`AckSender`], [`Broadcaster`],
//! [`Io`], and the commands they send to the driver.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use socketio_sansio::legacy::LegacyAck;
use socketio_sansio::{AckId, Args, Broadcast, ConnId, DisconnectReason, EngineData, Handshake};

/// Why an acknowledgement did not arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckError {
    /// The deadline passed first.
    Timeout,
    /// The socket disconnected first.
    Disconnected,
    /// The emit could not be sent (reserved name, socket gone, too many pending acks...).
    NotSent(String),
    /// The server stopped.
    ServerStopped,
    /// [`Socket::emit_with_ack`] was called from a handler: it would block the
    /// thread that delivers the answer. Use [`Socket::emit_with_ack_then`].
    WouldDeadlock,
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("no acknowledgement before the timeout"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::NotSent(why) => write!(f, "the event was not sent: {why}"),
            AckError::ServerStopped => f.write_str("the server stopped"),
            AckError::WouldDeadlock => f.write_str(
                "emit_with_ack blocks and cannot be called from a handler; use emit_with_ack_then",
            ),
        }
    }
}

impl std::error::Error for AckError {}

/// The answer to an emit with acknowledgement.
pub type AckResult = Result<Args, AckError>;

/// A namespace's connection handler refused the client: the client receives
/// a CONNECT_ERROR with this message (and data, for Socket.IO ≥ 3 clients).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The error message (`err.message` on the client).
    pub message: String,
    /// Extra data (`err.data` on the client).
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

pub(crate) type EngineHandler = Arc<dyn Fn(&EngineSocket, EngineData) + Send + Sync>;
pub(crate) type NamespaceFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;
pub(crate) type ConnectHandler =
    Arc<dyn Fn(&Socket, &Value) -> Result<(), ConnectError> + Send + Sync>;
pub(crate) type EventHandler = Arc<dyn Fn(&Socket, Args, Option<AckSender>) + Send + Sync>;
pub(crate) type AnyHandler = Arc<dyn Fn(&Socket, &str, Args, Option<AckSender>) + Send + Sync>;
pub(crate) type DisconnectHandler = Arc<dyn Fn(&Socket, &DisconnectReason) + Send + Sync>;

/// What a 0.9 `message` / `json` packet carries.
pub(crate) enum LegacyPayload {
    Message(String),
    Json(Value),
}

pub(crate) enum AckReply {
    Channel(mpsc::Sender<AckResult>),
    Callback(Box<dyn FnOnce(AckResult) + Send>),
}

impl AckReply {
    pub(crate) fn resolve(self, result: AckResult) {
        match self {
            AckReply::Channel(tx) => {
                let _ = tx.send(result);
            }
            AckReply::Callback(cb) => cb(result),
        }
    }
}

pub(crate) enum Command {
    Emit {
        conn: ConnId,
        nsp: Arc<str>,
        event: String,
        args: Args,
    },
    EmitWithAck {
        conn: ConnId,
        nsp: Arc<str>,
        event: String,
        args: Args,
        timeout: Option<Duration>,
        reply: AckReply,
    },
    Ack {
        conn: ConnId,
        nsp: Arc<str>,
        id: AckId,
        args: Args,
    },
    Join {
        conn: ConnId,
        nsp: Arc<str>,
        room: String,
    },
    Leave {
        conn: ConnId,
        nsp: Arc<str>,
        room: String,
    },
    Broadcast {
        op: Broadcast,
        event: String,
        args: Args,
    },
    Disconnect {
        conn: ConnId,
        nsp: Arc<str>,
    },
    Close {
        conn: ConnId,
    },
    On {
        conn: ConnId,
        nsp: Arc<str>,
        event: String,
        handler: EventHandler,
    },
    OnAny {
        conn: ConnId,
        nsp: Arc<str>,
        handler: AnyHandler,
    },
    OnDisconnect {
        conn: ConnId,
        nsp: Arc<str>,
        handler: DisconnectHandler,
    },
    OnLegacy {
        conn: ConnId,
        nsp: Arc<str>,
        json: bool,
        handler: EventHandler,
    },
    SendLegacy {
        conn: ConnId,
        nsp: Arc<str>,
        payload: LegacyPayload,
        ack: LegacyAck,
        reply: Option<AckReply>,
    },
    EngineSend {
        conn: ConnId,
        data: EngineData,
    },
    Shutdown,
}

/// Messages into the driver thread.
pub(crate) enum Msg {
    Cmd(Command),
    Net(crate::driver::Net),
}

thread_local! {
    /// Commands issued by handlers on a driver thread: applied as soon as the
    /// handler returns, before the next network message (so `socket.on(...)`
    /// in a connection handler catches the very next event).
    static LOCAL: RefCell<Option<(u64, VecDeque<Command>)>> = const { RefCell::new(None) };
}

pub(crate) fn enter_driver(server_id: u64) {
    LOCAL.with(|l| *l.borrow_mut() = Some((server_id, VecDeque::new())));
}

pub(crate) fn take_local() -> Option<Command> {
    LOCAL.with(|l| l.borrow_mut().as_mut().and_then(|(_, q)| q.pop_front()))
}

fn on_driver(server_id: u64) -> bool {
    LOCAL.with(|l| l.borrow().as_ref().is_some_and(|(id, _)| *id == server_id))
}

/// Sends commands to one server's driver thread.
#[derive(Clone)]
pub(crate) struct CommandSender {
    pub(crate) server_id: u64,
    pub(crate) tx: mpsc::Sender<Msg>,
}

impl CommandSender {
    /// Queues a command; `false` when the server has stopped.
    pub(crate) fn send(&self, cmd: Command) -> bool {
        let local = LOCAL.with(|l| match l.borrow_mut().as_mut() {
            Some((id, q)) if *id == self.server_id => {
                q.push_back(cmd);
                None
            }
            _ => Some(cmd),
        });
        match local {
            None => true,
            Some(cmd) => self.tx.send(Msg::Cmd(cmd)).is_ok(),
        }
    }
}

pub(crate) struct SocketInner {
    pub(crate) conn: ConnId,
    pub(crate) nsp: Arc<str>,
    pub(crate) id: String,
    pub(crate) handshake: Arc<Handshake>,
    pub(crate) auth: Value,
    pub(crate) rooms: Mutex<BTreeSet<String>>,
    pub(crate) cmd: CommandSender,
    pub(crate) legacy: bool,
}

/// One client's socket in one namespace. Cheap to clone, `Send + Sync`:
/// keep it, hand it to other threads, emit later.
///
/// Commands (`emit`, `join`, ...) are queued to the driver thread; issued
/// from a handler, they take effect when the handler returns, in order.
#[derive(Clone)]
pub struct Socket {
    pub(crate) inner: Arc<SocketInner>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.inner.id)
            .field("nsp", &self.inner.nsp)
            .finish()
    }
}

impl Socket {
    /// The socket id (what other clients may address with `to(id)`).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.inner.nsp
    }

    /// The handshake request (URL, query, headers).
    pub fn handshake(&self) -> &Handshake {
        &self.inner.handshake
    }

    /// The auth data the client connected with (`{}` when none).
    pub fn auth(&self) -> &Value {
        &self.inner.auth
    }

    /// The rooms this socket is in (its own id included).
    pub fn rooms(&self) -> BTreeSet<String> {
        self.inner
            .rooms
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    fn send(&self, cmd: Command) {
        if !self.inner.cmd.send(cmd) {
            log::debug!(
                "socket {}: the server has stopped; command dropped",
                self.inner.id
            );
        }
    }

    /// Registers the handler for `event`. It runs on the driver thread with
    /// the arguments and, when the client asked for one, an [`AckSender`].
    pub fn on(
        &self,
        event: impl Into<String>,
        handler: impl Fn(&Socket, Args, Option<AckSender>) + Send + Sync + 'static,
    ) {
        self.send(Command::On {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            event: event.into(),
            handler: Arc::new(handler),
        });
    }

    /// Registers a catch-all handler for events without a handler of their own.
    pub fn on_any(
        &self,
        handler: impl Fn(&Socket, &str, Args, Option<AckSender>) + Send + Sync + 'static,
    ) {
        self.send(Command::OnAny {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            handler: Arc::new(handler),
        });
    }

    /// Registers a handler for the socket's disconnection (exactly once per socket).
    pub fn on_disconnect(
        &self,
        handler: impl Fn(&Socket, &DisconnectReason) + Send + Sync + 'static,
    ) {
        self.send(Command::OnDisconnect {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            handler: Arc::new(handler),
        });
    }

    /// Emits `event` to this client.
    pub fn emit(&self, event: impl Into<String>, args: impl Into<Args>) {
        self.send(Command::Emit {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            event: event.into(),
            args: args.into(),
        });
    }

    /// Emits `event` and blocks until the client acknowledges it or
    /// `timeout` passes. Not callable from a handler (it would block the
    /// driver): returns [`AckError::WouldDeadlock`] there.
    pub fn emit_with_ack(
        &self,
        event: impl Into<String>,
        args: impl Into<Args>,
        timeout: Duration,
    ) -> AckResult {
        if on_driver(self.inner.cmd.server_id) {
            return Err(AckError::WouldDeadlock);
        }
        let (tx, rx) = mpsc::channel();
        self.send(Command::EmitWithAck {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            event: event.into(),
            args: args.into(),
            timeout: Some(timeout),
            reply: AckReply::Channel(tx),
        });
        rx.recv().unwrap_or(Err(AckError::ServerStopped))
    }

    /// Emits `event` and calls `then` with the acknowledgement (or the
    /// error) on the driver thread. Usable from handlers.
    pub fn emit_with_ack_then(
        &self,
        event: impl Into<String>,
        args: impl Into<Args>,
        timeout: Option<Duration>,
        then: impl FnOnce(AckResult) + Send + 'static,
    ) {
        self.send(Command::EmitWithAck {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            event: event.into(),
            args: args.into(),
            timeout,
            reply: AckReply::Callback(Box::new(then)),
        });
    }

    /// Joins `room`.
    pub fn join(&self, room: impl Into<String>) {
        let room = room.into();
        if let Ok(mut rooms) = self.inner.rooms.lock() {
            rooms.insert(room.clone());
        }
        self.send(Command::Join {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            room,
        });
    }

    /// Leaves `room`.
    pub fn leave(&self, room: impl Into<String>) {
        let room = room.into();
        if let Ok(mut rooms) = self.inner.rooms.lock() {
            rooms.remove(&room);
        }
        self.send(Command::Leave {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            room,
        });
    }

    /// A broadcast to the members of `room`, without this socket.
    pub fn to(&self, room: impl Into<String>) -> Broadcaster {
        self.broadcast().to(room)
    }

    /// A broadcast to every socket of the namespace but this one.
    pub fn broadcast(&self) -> Broadcaster {
        Broadcaster {
            op: Broadcast::to(self.nsp()).except(self.id()),
            cmd: self.inner.cmd.clone(),
        }
    }

    /// True for a Socket.IO 0.9 client.
    pub fn is_legacy(&self) -> bool {
        self.inner.legacy
    }

    /// Registers the handler for 0.9 `message` packets (type 3): the one
    /// argument is the text. Without it, such packets go to the `message`
    /// event handler (`on("message", ..)`).
    pub fn on_message_packet(
        &self,
        handler: impl Fn(&Socket, Args, Option<AckSender>) + Send + Sync + 'static,
    ) {
        self.send(Command::OnLegacy {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            json: false,
            handler: Arc::new(handler),
        });
    }

    /// Registers the handler for 0.9 `json` packets (type 4): the one
    /// argument is the value. Without it, they go to `on("json", ..)`.
    pub fn on_json_packet(
        &self,
        handler: impl Fn(&Socket, Args, Option<AckSender>) + Send + Sync + 'static,
    ) {
        self.send(Command::OnLegacy {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            json: true,
            handler: Arc::new(handler),
        });
    }

    /// Sends a 0.9 `message` packet (3) with `text` (0.9 clients only).
    /// `ack` asks for a receipt (`Auto`) or data (`Data`) acknowledgement;
    /// `then` is called with it on the driver thread.
    pub fn send_message_packet(
        &self,
        text: impl Into<String>,
        ack: LegacyAck,
        then: Option<Box<dyn FnOnce(AckResult) + Send>>,
    ) {
        self.send(Command::SendLegacy {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            payload: LegacyPayload::Message(text.into()),
            ack,
            reply: then.map(AckReply::Callback),
        });
    }

    /// Sends a 0.9 `json` packet (4) with `value` (0.9 clients only); see
    /// [`Socket::send_message_packet`].
    pub fn send_json_packet(
        &self,
        value: Value,
        ack: LegacyAck,
        then: Option<Box<dyn FnOnce(AckResult) + Send>>,
    ) {
        self.send(Command::SendLegacy {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
            payload: LegacyPayload::Json(value),
            ack,
            reply: then.map(AckReply::Callback),
        });
    }

    /// Server-wide operations (e.g. `socket.io().of("/").emit(...)` reaches
    /// every socket of `/`, this one included).
    pub fn io(&self) -> Io {
        Io {
            cmd: self.inner.cmd.clone(),
        }
    }

    /// Disconnects this socket from its namespace (the client is told).
    pub fn disconnect(&self) {
        self.send(Command::Disconnect {
            conn: self.inner.conn,
            nsp: self.inner.nsp.clone(),
        });
    }

    /// Disconnects every namespace of this client and closes its connection.
    pub fn close(&self) {
        self.send(Command::Close {
            conn: self.inner.conn,
        });
    }
}

/// Answers one client event that asked for an acknowledgement. Sending
/// consumes it, so a client gets at most one answer; dropping it unsent
/// sends nothing.
pub struct AckSender {
    pub(crate) conn: ConnId,
    pub(crate) nsp: Arc<str>,
    pub(crate) id: AckId,
    pub(crate) cmd: CommandSender,
}

impl fmt::Debug for AckSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckSender")
            .field("nsp", &self.nsp)
            .field("id", &self.id)
            .finish()
    }
}

impl AckSender {
    /// Sends the acknowledgement with `args`.
    pub fn send(self, args: impl Into<Args>) {
        let _ = self.cmd.send(Command::Ack {
            conn: self.conn,
            nsp: self.nsp,
            id: self.id,
            args: args.into(),
        });
    }
}

/// A broadcast being built: `io.of("/").to("room").except("other").emit(...)`.
#[derive(Clone)]
pub struct Broadcaster {
    pub(crate) op: Broadcast,
    pub(crate) cmd: CommandSender,
}

impl fmt::Debug for Broadcaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.op.fmt(f)
    }
}

impl Broadcaster {
    /// Adds `room` to the recipients (the union of all rooms given).
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.op = self.op.room(room);
        self
    }

    /// Leaves out the members of `room`.
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.op = self.op.except(room);
        self
    }

    /// Drops the packet for clients that cannot take it right now.
    pub fn volatile(mut self) -> Self {
        self.op = self.op.volatile();
        self
    }

    /// Emits to every selected socket (the packet is encoded once).
    pub fn emit(self, event: impl Into<String>, args: impl Into<Args>) {
        let _ = self.cmd.send(Command::Broadcast {
            op: self.op,
            event: event.into(),
            args: args.into(),
        });
    }
}

/// Server-wide operations, usable from any thread.
#[derive(Clone)]
pub struct Io {
    pub(crate) cmd: CommandSender,
}

impl fmt::Debug for Io {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Io")
    }
}

impl Io {
    /// A broadcast to every socket of `nsp` (narrow it with `to`/`except`).
    pub fn of(&self, nsp: impl Into<String>) -> Broadcaster {
        Broadcaster {
            op: Broadcast::to(nsp),
            cmd: self.cmd.clone(),
        }
    }

    /// A broadcast to the members of `room` in the default namespace `/`.
    pub fn to(&self, room: impl Into<String>) -> Broadcaster {
        self.of("/").to(room)
    }

    /// Emits to every socket of the default namespace `/`.
    pub fn emit(&self, event: impl Into<String>, args: impl Into<Args>) {
        self.of("/").emit(event, args)
    }
}

/// One bare Engine.IO session (see [`crate::Builder::engine_io`]).
#[derive(Clone)]
pub struct EngineSocket {
    pub(crate) conn: ConnId,
    pub(crate) cmd: CommandSender,
}

impl fmt::Debug for EngineSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineSocket")
            .field("conn", &self.conn)
            .finish()
    }
}

impl EngineSocket {
    /// Sends a message (text or binary).
    pub fn send(&self, data: EngineData) {
        let _ = self.cmd.send(Command::EngineSend {
            conn: self.conn,
            data,
        });
    }

    /// Closes the session.
    pub fn close(&self) {
        let _ = self.cmd.send(Command::Close { conn: self.conn });
    }
}
