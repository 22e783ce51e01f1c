//! The driver thread: owns the sans-IO `Server`, stamps `now` on every input,
//! runs the handlers, and hands frames to the connections' writer threads.
//!
//! Loop: wait on the one inbound channel until the next core deadline; apply
//! the message (network input or a command from a [`crate::Socket`] or
//! [`crate::Io`] handle); fire due timers; then drain the core: transmits go
//! to writers, events run handlers, and commands issued by a handler are
//! applied as soon as it returns.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use socketio_sansio::{
    AckId, ConnId, Event, Frame, Handshake, HttpRequest, HttpResponse, MessageKind, Rejection,
    RequestId, Server, ServerEvent, Transmit,
};
use tungstenite::protocol::frame::Utf8Bytes;

use crate::api::{
    self, AckError, AckReply, AckSender, AnyHandler, Command, CommandSender, ConnectHandler,
    DisconnectHandler, EngineHandler, EngineSocket, EventHandler, LegacyPayload, Msg,
    NamespaceFilter, Socket, SocketInner,
};

/// What a connection's writer thread is asked to do.
pub(crate) enum WriterMsg {
    Frame(Frame),
    /// Answer a WebSocket ping.
    Pong(tungstenite::Bytes),
    /// Send a close frame with this status code and stop.
    Close(Option<u16>),
}

/// Identifies one WebSocket (a session may see several: upgrade candidates).
pub(crate) type WsToken = u64;

/// Network input from connection threads.
pub(crate) enum Net {
    Open {
        handshake: Handshake,
        token: WsToken,
        writer: mpsc::Sender<WriterMsg>,
        reply: mpsc::Sender<Result<ConnId, Rejection>>,
    },
    Text(ConnId, Utf8Bytes),
    Binary(ConnId, Vec<u8>),
    /// A WebSocket ping to answer.
    Pong(ConnId, WsToken, tungstenite::Bytes),
    Closed(ConnId, WsToken),
    Error(ConnId, WsToken, String),
    /// A polling request; the answer goes to `reply`.
    Http {
        req: RequestId,
        request: HttpRequest,
        reply: mpsc::Sender<HttpResponse>,
    },
}

pub(crate) struct Namespaces {
    pub(crate) fixed: HashMap<String, ConnectHandler>,
    pub(crate) dynamic: Option<(NamespaceFilter, ConnectHandler)>,
    /// Messages of bare Engine.IO sessions.
    pub(crate) engine: Option<EngineHandler>,
}

impl Namespaces {
    fn handler(&self, nsp: &str) -> Option<&ConnectHandler> {
        self.fixed.get(nsp).or_else(|| {
            self.dynamic
                .as_ref()
                .filter(|(accept, _)| accept(nsp))
                .map(|(_, h)| h)
        })
    }
}

#[derive(Default)]
struct Handlers {
    events: HashMap<String, EventHandler>,
    /// 0.9 `message` / `json` packet handlers.
    legacy_message: Option<EventHandler>,
    legacy_json: Option<EventHandler>,
    any: Option<AnyHandler>,
    disconnect: Vec<DisconnectHandler>,
}

struct SocketEntry {
    socket: Socket,
    handlers: Handlers,
}

pub(crate) struct Driver {
    server: Server,
    namespaces: Namespaces,
    cmd: CommandSender,
    writers: HashMap<ConnId, (WsToken, mpsc::Sender<WriterMsg>)>,
    /// Who waits for the answer to each HTTP request.
    http_waiting: HashMap<RequestId, mpsc::Sender<HttpResponse>>,
    sockets: HashMap<(ConnId, Arc<str>), SocketEntry>,
    pending_acks: HashMap<(ConnId, Arc<str>, AckId), AckReply>,
    shutting_down: bool,
}

impl Driver {
    pub(crate) fn new(server: Server, namespaces: Namespaces, cmd: CommandSender) -> Self {
        Driver {
            server,
            namespaces,
            cmd,
            writers: HashMap::new(),
            http_waiting: HashMap::new(),
            sockets: HashMap::new(),
            pending_acks: HashMap::new(),
            shutting_down: false,
        }
    }

    /// Runs until shut down and every connection is closed, or every sender is gone.
    pub(crate) fn run(mut self, rx: mpsc::Receiver<Msg>, done: Arc<Mutex<bool>>) {
        api::enter_driver(self.cmd.server_id);
        loop {
            let msg = match self.server.poll_timeout() {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(m) => Some(m),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => break,
                },
            };
            let now = Instant::now();
            if let Some(msg) = msg {
                self.apply(now, msg);
                // Take whatever else is already waiting before draining, so
                // bursts cost one drain.
                for _ in 0..64 {
                    match rx.try_recv() {
                        Ok(m) => self.apply(now, m),
                        Err(_) => break,
                    }
                }
            }
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
            }
            self.drain(now);
            if self.shutting_down && self.server.connection_count() == 0 && self.writers.is_empty()
            {
                break;
            }
        }
        // Whatever is still pending will never be answered.
        for (_, reply) in self.pending_acks.drain() {
            reply.resolve(Err(AckError::ServerStopped));
        }
        if let Ok(mut d) = done.lock() {
            *d = true;
        }
    }

    fn apply(&mut self, now: Instant, msg: Msg) {
        match msg {
            Msg::Net(net) => self.apply_net(now, net),
            Msg::Cmd(cmd) => self.apply_cmd(now, cmd),
        }
    }

    fn apply_net(&mut self, now: Instant, net: Net) {
        match net {
            Net::Open {
                handshake,
                token,
                writer,
                reply,
            } => {
                if self.shutting_down {
                    let _ = reply.send(Err(Rejection::BAD_REQUEST));
                    return;
                }
                let result = self.server.handle_ws_open(now, handshake);
                if let Ok(id) = result {
                    self.writers.insert(id, (token, writer));
                }
                let _ = reply.send(result);
            }
            Net::Text(id, text) => self.server.handle_ws_text(now, id, &text),
            Net::Binary(id, data) => self.server.handle_ws_binary(now, id, data),
            Net::Pong(id, token, data) => {
                if let Some((t, w)) = self.writers.get(&id) {
                    if *t == token {
                        let _ = w.send(WriterMsg::Pong(data));
                    }
                }
            }
            Net::Closed(id, token) => {
                if self.writers.get(&id).is_some_and(|(t, _)| *t == token) {
                    self.server.handle_ws_closed(now, id);
                }
                self.forget(id, token);
            }
            Net::Error(id, token, why) => {
                if let Some((t, w)) = self.writers.get(&id) {
                    if *t == token {
                        let _ = w.send(WriterMsg::Close(Some(1009)));
                        self.server.handle_ws_closed(now, id);
                    }
                }
                log::debug!("{id}: transport error: {why}");
                self.forget(id, token);
            }
            Net::Http {
                req,
                request,
                reply,
            } => {
                self.http_waiting.insert(req, reply);
                self.server.handle_http(now, req, request);
            }
        }
    }

    /// Drops the writer of WebSocket `token` (not a newer one of the same
    /// session, e.g. after an abandoned upgrade).
    fn forget(&mut self, id: ConnId, token: WsToken) {
        if self.writers.get(&id).is_some_and(|(t, _)| *t == token) {
            self.writers.remove(&id);
        }
    }

    fn apply_cmd(&mut self, now: Instant, cmd: Command) {
        let s = &mut self.server;
        let result = match cmd {
            Command::Emit {
                conn,
                nsp,
                event,
                args,
            } => s.emit(now, conn, &nsp, &event, args),
            Command::EmitWithAck {
                conn,
                nsp,
                event,
                args,
                timeout,
                reply,
            } => {
                match s.emit_with_ack(now, conn, &nsp, &event, args, timeout) {
                    Ok(id) => {
                        self.pending_acks.insert((conn, nsp, id), reply);
                    }
                    Err(e) => reply.resolve(Err(AckError::NotSent(e.to_string()))),
                }
                Ok(())
            }
            Command::Ack {
                conn,
                nsp,
                id,
                args,
            } => s.ack(now, conn, &nsp, id, args),
            Command::Join { conn, nsp, room } => s.join(conn, &nsp, &room),
            Command::Leave { conn, nsp, room } => s.leave(conn, &nsp, &room),
            Command::Broadcast { op, event, args } => {
                s.broadcast(now, &op, &event, &args).map(|_| ())
            }
            Command::Disconnect { conn, nsp } => s.disconnect(now, conn, &nsp),
            Command::Close { conn } => s.close(now, conn),
            Command::On {
                conn,
                nsp,
                event,
                handler,
            } => {
                if let Some(entry) = self.sockets.get_mut(&(conn, nsp)) {
                    entry.handlers.events.insert(event, handler);
                }
                Ok(())
            }
            Command::OnAny { conn, nsp, handler } => {
                if let Some(entry) = self.sockets.get_mut(&(conn, nsp)) {
                    entry.handlers.any = Some(handler);
                }
                Ok(())
            }
            Command::OnDisconnect { conn, nsp, handler } => {
                if let Some(entry) = self.sockets.get_mut(&(conn, nsp)) {
                    entry.handlers.disconnect.push(handler);
                }
                Ok(())
            }
            Command::OnLegacy {
                conn,
                nsp,
                json,
                handler,
            } => {
                if let Some(entry) = self.sockets.get_mut(&(conn, nsp)) {
                    if json {
                        entry.handlers.legacy_json = Some(handler);
                    } else {
                        entry.handlers.legacy_message = Some(handler);
                    }
                }
                Ok(())
            }
            Command::SendLegacy {
                conn,
                nsp,
                payload,
                ack,
                reply,
            } => {
                let sent = match payload {
                    LegacyPayload::Message(text) => {
                        s.send_legacy_message(now, conn, &nsp, &text, ack)
                    }
                    LegacyPayload::Json(value) => s.send_legacy_json(now, conn, &nsp, value, ack),
                };
                match (sent, reply) {
                    (Ok(Some(id)), Some(reply)) => {
                        self.pending_acks.insert((conn, nsp, id), reply);
                    }
                    (Err(e), Some(reply)) => reply.resolve(Err(AckError::NotSent(e.to_string()))),
                    (Err(e), None) => log::debug!("legacy send failed: {e}"),
                    (Ok(_), _) => {}
                }
                Ok(())
            }
            Command::EngineSend { conn, data } => s.send_engine_message(now, conn, data),
            Command::Shutdown => {
                self.shutting_down = true;
                s.shutdown(now);
                Ok(())
            }
        };
        if let Err(e) = result {
            log::debug!("command not applied: {e}");
        }
    }

    /// Applies the commands the handler that just ran has issued.
    fn apply_local(&mut self, now: Instant) {
        while let Some(cmd) = api::take_local() {
            self.apply_cmd(now, cmd);
        }
    }

    fn drain(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some((id, t)) = self.server.poll_transmit() {
                progressed = true;
                match t {
                    Transmit::Frame(frame) => {
                        if let Some((_, w)) = self.writers.get(&id) {
                            let _ = w.send(WriterMsg::Frame(frame));
                        }
                    }
                    Transmit::Close => {
                        if let Some((_, w)) = self.writers.remove(&id) {
                            let _ = w.send(WriterMsg::Close(None));
                        }
                    }
                }
            }
            while let Some((req, response)) = self.server.poll_http_response() {
                progressed = true;
                if let Some(reply) = self.http_waiting.remove(&req) {
                    let _ = reply.send(response);
                }
            }
            while let Some(ev) = self.server.poll_event() {
                progressed = true;
                self.dispatch(now, ev);
                self.apply_local(now);
            }
            if !progressed {
                break;
            }
        }
    }

    fn dispatch(&mut self, now: Instant, ev: ServerEvent) {
        let conn = ev.conn;
        match ev.event {
            Event::Connect { nsp, auth } => self.on_connect(now, conn, nsp, auth),
            Event::Message {
                nsp,
                name,
                args,
                ack,
                kind,
            } => {
                let key = (conn, Arc::<str>::from(nsp.as_str()));
                let Some(entry) = self.sockets.get(&key) else {
                    return;
                };
                let socket = entry.socket.clone();
                let ack = ack.map(|id| AckSender {
                    conn,
                    nsp: key.1.clone(),
                    id,
                    cmd: self.cmd.clone(),
                });
                let special = match kind {
                    MessageKind::LegacyMessage => entry.handlers.legacy_message.clone(),
                    MessageKind::LegacyJson => entry.handlers.legacy_json.clone(),
                    _ => None,
                };
                if let Some(h) = special.or_else(|| entry.handlers.events.get(&name).cloned()) {
                    h(&socket, args, ack);
                } else if let Some(h) = entry.handlers.any.clone() {
                    h(&socket, &name, args, ack);
                } else {
                    log::debug!("{conn}: no handler for event {name:?} on {nsp}");
                }
            }
            Event::AckReceived { nsp, id, args } => {
                if let Some(reply) = self
                    .pending_acks
                    .remove(&(conn, Arc::from(nsp.as_str()), id))
                {
                    reply.resolve(Ok(args));
                }
            }
            Event::AckTimedOut { nsp, id } => {
                if let Some(reply) = self
                    .pending_acks
                    .remove(&(conn, Arc::from(nsp.as_str()), id))
                {
                    reply.resolve(Err(AckError::Timeout));
                }
            }
            Event::Disconnected { nsp, reason } => {
                let key = (conn, Arc::<str>::from(nsp.as_str()));
                let orphans: Vec<_> = self
                    .pending_acks
                    .keys()
                    .filter(|(c, n, _)| *c == conn && *n == key.1)
                    .cloned()
                    .collect();
                for k in orphans {
                    if let Some(reply) = self.pending_acks.remove(&k) {
                        reply.resolve(Err(AckError::Disconnected));
                    }
                }
                if let Some(entry) = self.sockets.remove(&key) {
                    for h in &entry.handlers.disconnect {
                        h(&entry.socket, &reason);
                        self.apply_local(now);
                    }
                }
            }
            Event::EngineMessage { data } => {
                if let Some(h) = self.namespaces.engine.clone() {
                    h(
                        &EngineSocket {
                            conn,
                            cmd: self.cmd.clone(),
                        },
                        data,
                    );
                }
            }
            Event::Closed { reason } => log::debug!("{conn}: closed ({reason})"),
            other => log::debug!("{conn}: unhandled event {other:?}"),
        }
    }

    fn on_connect(&mut self, now: Instant, conn: ConnId, nsp: String, auth: Value) {
        let Some(handler) = self.namespaces.handler(&nsp).cloned() else {
            let _ = self
                .server
                .reject(now, conn, &nsp, "Invalid namespace", None);
            return;
        };
        let Some(id) = self.server.socket_id(conn, &nsp).map(str::to_owned) else {
            return;
        };
        let handshake = self
            .server
            .handshake(conn)
            .map(|h| Arc::new(h.clone()))
            .unwrap_or_default();
        let legacy = self
            .server
            .any_connection(conn)
            .is_some_and(|c| c.is_legacy());
        let nsp: Arc<str> = Arc::from(nsp);
        let socket = Socket {
            inner: Arc::new(SocketInner {
                conn,
                nsp: nsp.clone(),
                id: id.clone(),
                handshake,
                auth: auth.clone(),
                rooms: Mutex::new([id].into_iter().collect()),
                cmd: self.cmd.clone(),
                legacy,
            }),
        };
        // The socket is registered before the handler runs, so the handlers
        // it registers apply to the very next packet.
        self.sockets.insert(
            (conn, nsp.clone()),
            SocketEntry {
                socket: socket.clone(),
                handlers: Handlers::default(),
            },
        );
        match handler(&socket, &auth) {
            Ok(()) => {
                if let Err(e) = self.server.accept(now, conn, &nsp, None) {
                    log::debug!("{conn}: accept failed: {e}");
                    self.sockets.remove(&(conn, nsp));
                }
            }
            Err(err) => {
                self.sockets.remove(&(conn, nsp.clone()));
                let _ = self.server.reject(now, conn, &nsp, &err.message, err.data);
                // Commands the handler issued for a refused socket cannot apply.
                while api::take_local().is_some() {}
            }
        }
    }
}
