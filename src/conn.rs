//! [`Connection`]: one Engine.IO session plus the Socket.IO namespace sockets
//! over it, as a pure state machine.
//!
//! Method groups (drain order after every call of group B or C:
//! `poll_transmit` until `None`, then `poll_event` until `None`, then
//! `poll_timeout`):
//! * **A, getters**: [`Connection::sid`], [`Connection::socket_id`], ...
//! * **B, inputs**: [`Connection::handle_text`], [`Connection::handle_binary`],
//!   [`Connection::handle_transport_closed`], [`Connection::handle_timeout`].
//! * **C, commands** (queue work): [`Connection::accept`], [`Connection::emit`],
//!   [`Connection::ack`], [`Connection::disconnect`], [`Connection::close`], ...
//! * **D, outputs**: [`Connection::poll_transmit`], [`Connection::poll_event`],
//!   [`Connection::poll_timeout`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::config::Config;
use crate::encoded::{unicast_frames, EncodedPacket};
use crate::engine::{CloseMode, Engine, Inbound, Transmit, TransportKind};
use crate::error::{DisconnectReason, ProtocolError, UsageError};
use crate::http::{HttpRequest, HttpResponse, RequestId, TEXT_HTML};
use crate::parser::{ack_frames, event_frames, packet_frames, PacketDecoder};
use crate::query::Query;
use crate::rand::{generate_id, RandomSource};
use crate::wire::binary;
use crate::wire::eio::{self, Data, EngineVersion};
use crate::wire::payload;
use crate::wire::sio::{self, AckId, Args, Body, Revision};

/// What the client sent when it opened the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handshake {
    /// The request target, e.g. `/socket.io/?EIO=4&transport=websocket`.
    pub url: String,
    /// The decoded query string of `url`.
    pub query: Query,
    /// The request headers (names as sent).
    pub headers: Vec<(String, String)>,
}

impl Handshake {
    /// Builds a handshake from a request target and its headers.
    pub fn new(url: impl Into<String>, headers: Vec<(String, String)>) -> Self {
        let url = url.into();
        let query = url
            .split_once('?')
            .map(|(_, q)| Query::parse(q))
            .unwrap_or_default();
        Handshake {
            url,
            query,
            headers,
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a [`Connection`] reports to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The client asks to join `nsp`. Answer with [`Connection::accept`] or
    /// [`Connection::reject`] (the connect middleware, as state). For rev 4
    /// clients, `/` is requested automatically when the connection opens and
    /// `auth` holds the namespace's query parameters.
    Connect {
        /// The namespace.
        nsp: String,
        /// rev 5: the CONNECT payload (`{}` when absent); rev 4: the query of the namespace.
        auth: Value,
    },
    /// The client emitted an event.
    Message {
        /// The namespace.
        nsp: String,
        /// The event name.
        name: String,
        /// The arguments, with binary attachments.
        args: Args,
        /// Present when the client wants an acknowledgement: answer once with
        /// [`Connection::ack`].
        ack: Option<AckId>,
        /// An event, or (0.9 clients) a plain `message` / `json` packet.
        kind: MessageKind,
    },
    /// The client acknowledged one of our emits.
    AckReceived {
        /// The namespace.
        nsp: String,
        /// The id returned by [`Connection::emit_with_ack`].
        id: AckId,
        /// The acknowledgement's arguments.
        args: Args,
    },
    /// No acknowledgement arrived before the deadline given to
    /// [`Connection::emit_with_ack`]. A late ack is then dropped.
    AckTimedOut {
        /// The namespace.
        nsp: String,
        /// The id returned by [`Connection::emit_with_ack`].
        id: AckId,
    },
    /// A socket (namespace) ended; exactly once per accepted socket. Its
    /// pending acknowledgements are cancelled: no ack event follows.
    Disconnected {
        /// The namespace.
        nsp: String,
        /// Why.
        reason: DisconnectReason,
    },
    /// A message on a bare Engine.IO session (no Socket.IO layer).
    EngineMessage {
        /// The message.
        data: EngineData,
    },
    /// The whole connection ended (after the `Disconnected` of its sockets).
    Closed {
        /// Why.
        reason: DisconnectReason,
    },
}

/// The data of an Engine.IO message (bare Engine.IO sessions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineData {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

/// What kind of packet an [`Event::Message`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// An EVENT (`name` is its name).
    Event,
    /// A 0.9 `message` packet (3): `name` is `"message"`, the one argument is
    /// the text.
    LegacyMessage,
    /// A 0.9 `json` packet (4): `name` is `"json"`, the one argument is the value.
    LegacyJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SocketState {
    /// CONNECT received, the application has not answered yet.
    Pending,
    Connected,
}

#[derive(Debug)]
struct NsSocket {
    id: String,
    auth: Value,
    state: SocketState,
    next_ack: AckId,
    /// Acks we wait for, with their optional deadline.
    pending_acks: BTreeMap<AckId, Option<Instant>>,
}

/// One client connection: an Engine.IO session and its namespace sockets.
///
/// Usable on its own (one connection per thread or task) or through
/// [`crate::Server`], which owns many. See the module docs for the method
/// groups and the drain order.
pub struct Connection {
    engine: Engine,
    revision: Revision,
    config: Arc<Config>,
    decoder: PacketDecoder,
    /// Boxed: a map node holds 11 slots, and usually one is used.
    sockets: BTreeMap<String, Box<NsSocket>>,
    ack_deadlines: BTreeSet<(Instant, String, AckId)>,
    connect_deadline: Option<Instant>,
    events: VecDeque<Event>,
    handshake: Arc<Handshake>,
    rng: Box<dyn RandomSource>,
    /// A bare Engine.IO session: no Socket.IO decoding.
    engine_only: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("sid", &self.engine.sid)
            .field("version", &self.engine.version)
            .field("closed", &self.engine.is_closed())
            .field("namespaces", &self.sockets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Connection {
    /// A session opened directly over WebSocket: queues the open packet
    /// (`upgrades: []`). For a v3 client it also requests `/` on the client's
    /// behalf (an [`Event::Connect`] to answer), as the reference does.
    pub fn new_websocket(
        now: Instant,
        version: EngineVersion,
        sid: String,
        config: Arc<Config>,
        handshake: Handshake,
        rng: Box<dyn RandomSource>,
    ) -> Self {
        let engine = Engine::new_websocket(now, sid, version, config.clone());
        Self::with_engine(now, engine, config, handshake, rng, false)
    }

    /// A session opened by a polling handshake GET (`req`), answered with the
    /// open packet (`upgrades: ["websocket"]`) through
    /// [`Connection::poll_http_response`]. `b64` is the v3 `b64` query flag.
    pub fn new_polling(
        now: Instant,
        version: EngineVersion,
        sid: String,
        config: Arc<Config>,
        handshake: Handshake,
        rng: Box<dyn RandomSource>,
        req: RequestId,
    ) -> Self {
        let b64 = handshake.query.get("b64").is_some_and(|v| !v.is_empty());
        let engine = Engine::new_polling(now, sid, version, config.clone(), b64, req);
        Self::with_engine(now, engine, config, handshake, rng, false)
    }

    fn with_engine(
        now: Instant,
        engine: Engine,
        config: Arc<Config>,
        handshake: Handshake,
        rng: Box<dyn RandomSource>,
        engine_only: bool,
    ) -> Self {
        let revision = match engine.version {
            EngineVersion::V3 => Revision::V4,
            EngineVersion::V4 => Revision::V5,
        };
        let mut conn = Connection {
            engine,
            revision,
            decoder: PacketDecoder::new(config.parser, config.decoder_config()),
            connect_deadline: (!engine_only).then(|| now + config.connect_timeout),
            engine_only,
            config,
            sockets: BTreeMap::new(),
            ack_deadlines: BTreeSet::new(),
            events: VecDeque::new(),
            handshake: Arc::new(handshake),
            rng,
        };
        log::debug!(
            "[{}] open over {:?}, {:?}",
            conn.engine.sid,
            conn.engine.transport(),
            conn.engine.version
        );
        if revision == Revision::V4 && !engine_only {
            conn.on_connect("/".to_owned(), None);
        }
        conn
    }

    /// A bare Engine.IO session over WebSocket (no Socket.IO on top, as the
    /// `engine.io` npm package): messages arrive as [`Event::EngineMessage`]
    /// and go out with [`Connection::send_engine_message`].
    pub fn new_engine_websocket(
        now: Instant,
        version: EngineVersion,
        sid: String,
        config: Arc<Config>,
        handshake: Handshake,
    ) -> Self {
        let engine = Engine::new_websocket(now, sid, version, config.clone());
        Self::with_engine(
            now,
            engine,
            config,
            handshake,
            Box::new(crate::rand::SeededRandom::new(0)),
            true,
        )
    }

    /// A bare Engine.IO session opened by a polling handshake GET (see
    /// [`Connection::new_engine_websocket`] and [`Connection::new_polling`]).
    pub fn new_engine_polling(
        now: Instant,
        version: EngineVersion,
        sid: String,
        config: Arc<Config>,
        handshake: Handshake,
        req: RequestId,
    ) -> Self {
        let b64 = handshake.query.get("b64").is_some_and(|v| !v.is_empty());
        let engine = Engine::new_polling(now, sid, version, config.clone(), b64, req);
        Self::with_engine(
            now,
            engine,
            config,
            handshake,
            Box::new(crate::rand::SeededRandom::new(0)),
            true,
        )
    }

    // ---- (A) getters ---------------------------------------------------

    /// The Engine.IO session id.
    pub fn sid(&self) -> &str {
        &self.engine.sid
    }

    /// The Engine.IO version of this connection.
    pub fn version(&self) -> EngineVersion {
        self.engine.version
    }

    /// The Socket.IO revision of this connection.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The handshake request.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The handshake request, shared (no copy).
    pub fn shared_handshake(&self) -> Arc<Handshake> {
        self.handshake.clone()
    }

    /// True once the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.engine.is_closed()
    }

    /// The socket id of the joined (or joining) namespace `nsp`: rev 5 a
    /// fresh random id per namespace; rev 4 the session id for `/` and
    /// `<nsp>#<sid>` otherwise (as the reference).
    pub fn socket_id(&self, nsp: &str) -> Option<&str> {
        self.sockets.get(nsp).map(|s| s.id.as_str())
    }

    /// The auth data the socket of `nsp` connected with.
    pub fn auth(&self, nsp: &str) -> Option<&Value> {
        self.sockets.get(nsp).map(|s| &s.auth)
    }

    /// True if the socket of `nsp` is connected (accepted).
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.sockets
            .get(nsp)
            .is_some_and(|s| s.state == SocketState::Connected)
    }

    /// The connected namespaces, in order.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.sockets
            .iter()
            .filter(|(_, s)| s.state == SocketState::Connected)
            .map(|(n, _)| n.as_str())
    }

    /// Bytes queued for the transport and not yet taken with `poll_transmit`
    /// (or by a polling GET).
    pub fn outbound_bytes(&self) -> usize {
        self.engine.outbound_bytes()
    }

    /// The transport in use.
    pub fn transport(&self) -> TransportKind {
        self.engine.transport()
    }

    /// True once closed and nothing is left to deliver (a host can forget the
    /// connection then).
    pub fn is_finished(&self) -> bool {
        self.engine.is_finished()
    }

    /// True if an HTTP response waits for [`Connection::poll_http_response`].
    pub fn has_http_response(&self) -> bool {
        self.engine.has_http_output()
    }

    /// True if WebSocket frames wait for [`Connection::poll_transmit`].
    pub fn has_transmit(&self) -> bool {
        self.engine.has_ws_output()
    }

    // ---- (B) inputs ----------------------------------------------------

    /// A WebSocket text message arrived.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        if self.engine.is_closed() {
            return;
        }
        if text.len() > self.config.max_payload {
            return self.message_too_large(now, text.len());
        }
        let decoded = eio::decode_text(self.engine.version, text);
        if self.engine.transport() == TransportKind::Upgrading {
            return match decoded {
                Ok(packet) => self.engine.on_upgrade_packet(packet),
                Err(_) => self.engine.abandon_upgrade(true),
            };
        }
        match decoded {
            Ok(packet) => self.on_engine_packet(now, packet),
            Err(e) => self.protocol_error(ProtocolError::Engine(e)),
        }
    }

    /// A WebSocket binary message arrived.
    pub fn handle_binary(&mut self, now: Instant, mut data: Vec<u8>) {
        if self.engine.is_closed() {
            return;
        }
        if data.len() > self.config.max_payload {
            return self.message_too_large(now, data.len());
        }
        if self.engine.transport() == TransportKind::Upgrading {
            // Only `2probe` and `5` are valid on the candidate.
            return self.engine.abandon_upgrade(true);
        }
        match self.engine.version {
            EngineVersion::V4 => self.on_binary_message(data),
            EngineVersion::V3 if data.first() == Some(&(eio::PacketType::Message as u8)) => {
                data.remove(0);
                self.on_binary_message(data)
            }
            EngineVersion::V3 => match eio::decode_binary(EngineVersion::V3, &data) {
                Ok(packet) => {
                    let packet = packet.into_owned();
                    self.on_engine_packet(now, packet)
                }
                Err(e) => self.protocol_error(ProtocolError::Engine(e)),
            },
        }
    }

    /// The WebSocket closed (the peer went away). During an upgrade this
    /// abandons the upgrade only; on a polling session without WebSocket it
    /// does nothing.
    pub fn handle_transport_closed(&mut self, now: Instant) {
        let _ = now;
        match self.engine.transport() {
            TransportKind::WebSocket => {
                self.close_with(DisconnectReason::TransportClose, CloseMode::Discard)
            }
            TransportKind::Upgrading => self.engine.abandon_upgrade(false),
            TransportKind::Polling => {}
        }
    }

    /// The WebSocket failed (an I/O error, an invalid WebSocket frame...).
    pub fn handle_transport_error(&mut self, now: Instant, why: impl Into<String>) {
        let _ = now;
        match self.engine.transport() {
            TransportKind::WebSocket => self.close_with(
                DisconnectReason::TransportError(why.into()),
                CloseMode::Discard,
            ),
            TransportKind::Upgrading => self.engine.abandon_upgrade(false),
            TransportKind::Polling => {}
        }
    }

    /// A WebSocket arrived with this session's sid: starts the upgrade.
    /// `false` (refuse the WebSocket) when the session is not on polling, is
    /// already upgrading, or closed.
    pub fn handle_ws_upgrade(&mut self, now: Instant) -> bool {
        self.engine.start_upgrade(now)
    }

    /// A long-poll GET for this session; answered through
    /// [`Connection::poll_http_response`] when data is queued.
    pub fn handle_poll_get(&mut self, now: Instant, req: RequestId) {
        if let Err(reason) = self.engine.handle_poll_get(now, req) {
            self.close_with(reason, CloseMode::Discard);
        }
    }

    /// A polling POST for this session: its body holds packets. Answered
    /// 200 `ok` (even when the packets are invalid, as the reference: the
    /// session closes then); 413 when the body was too large (the session
    /// stays); 400 for a v4 binary body (the session closes); 400 while
    /// another POST is in flight (see [`Connection::handle_poll_post_started`];
    /// the session closes).
    pub fn handle_poll_post(&mut self, now: Instant, req: RequestId, request: &HttpRequest) {
        if self.engine.is_closed() {
            return self.engine.answer_post(
                req,
                crate::server::Rejection::SESSION_ID_UNKNOWN.to_response(),
            );
        }
        // A whole body is here: this POST is over once handled below.
        if let Err(reason) = self.engine.begin_post(req) {
            self.engine.answer_post(req, HttpResponse::empty(400));
            return self.close_with(reason, CloseMode::Discard);
        }
        self.engine.end_post(req);
        if request.body_too_large || request.body.len() > self.config.max_payload {
            return self.engine.answer_post(
                req,
                HttpResponse::empty(413).with_header("Connection", "close"),
            );
        }
        let binary = request
            .header("content-type")
            .is_some_and(|t| t.trim().starts_with("application/octet-stream"));
        if binary && self.engine.version == EngineVersion::V4 {
            self.engine.answer_post(req, HttpResponse::empty(400));
            return self.close_with(
                DisconnectReason::TransportError("invalid content".into()),
                CloseMode::Discard,
            );
        }
        self.engine.answer_post(
            req,
            HttpResponse::new(200, TEXT_HTML, "ok").with_header("Cache-Control", "no-store"),
        );
        match payload::decode(self.engine.version, &request.body, binary) {
            Ok(packets) => {
                for packet in packets {
                    if self.engine.is_closed() {
                        break;
                    }
                    if packet.kind == eio::PacketType::Close {
                        // The client closes: a held GET is released with a noop.
                        return self
                            .close_with(DisconnectReason::TransportClose, CloseMode::ClientClosed);
                    }
                    self.on_engine_packet(now, packet);
                }
            }
            Err(e) => self.protocol_error(ProtocolError::Engine(e)),
        }
    }

    /// The host has read the head of POST `req` for this session and its
    /// body is still arriving (it comes later through
    /// [`Connection::handle_poll_post`], or the request is lost:
    /// [`Connection::handle_poll_post_aborted`]). A second POST while one is
    /// in flight is the reference's "data request overlap from client":
    /// `false`, the session closes (a held GET gets the close packet) and
    /// the caller answers the new POST 400.
    pub fn handle_poll_post_started(&mut self, now: Instant, req: RequestId) -> bool {
        let _ = now;
        if self.engine.is_closed() {
            // Its body gets the answer of a closed session.
            return true;
        }
        match self.engine.begin_post(req) {
            Ok(()) => true,
            Err(reason) => {
                self.close_with(reason, CloseMode::Discard);
                false
            }
        }
    }

    /// The host lost POST `req` before its body was whole (see
    /// [`Connection::handle_poll_post_started`]): the reference closes the
    /// session ("data request connection closed prematurely").
    pub fn handle_poll_post_aborted(&mut self, now: Instant, req: RequestId) {
        let _ = now;
        if self.engine.end_post(req) {
            self.close_with(
                DisconnectReason::TransportError(
                    "data request connection closed prematurely".into(),
                ),
                CloseMode::Discard,
            );
        }
    }

    /// The host lost a held GET (its HTTP connection closed early): the
    /// reference treats it as a transport error and closes the session.
    pub fn handle_poll_aborted(&mut self, now: Instant) {
        let _ = now;
        self.close_with(
            DisconnectReason::TransportError("poll connection closed prematurely".into()),
            CloseMode::Discard,
        );
    }

    /// Fires every timer due at `now`. Calling it early or twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.engine.is_closed() {
            let _ = self.engine.handle_timeout(now);
            return;
        }
        if let Some(reason) = self.engine.handle_timeout(now) {
            return self.close_with(reason, CloseMode::Discard);
        }
        // Timers fire on idle sessions: keep no event queue for them.
        self.release_idle_events();
        if self.connect_deadline.is_some_and(|d| now >= d) {
            log::debug!("[{}] no namespace joined in time", self.engine.sid);
            return self.close_with(DisconnectReason::ConnectTimeout, CloseMode::Graceful(now));
        }
        while let Some(first) = self.ack_deadlines.first() {
            if first.0 > now {
                break;
            }
            let Some((_, nsp, id)) = self.ack_deadlines.pop_first() else {
                break;
            };
            if let Some(socket) = self.sockets.get_mut(&nsp) {
                socket.pending_acks.remove(&id);
            }
            self.events.push_back(Event::AckTimedOut { nsp, id });
        }
    }

    // ---- (C) commands --------------------------------------------------

    /// Accepts the pending CONNECT for `nsp` and answers the client; `extra`
    /// keys are added to the rev 5 reply beside `sid` (ignored for rev 4,
    /// whose reply has no payload). Returns the socket id.
    pub fn accept(
        &mut self,
        now: Instant,
        nsp: &str,
        extra: Option<Map<String, Value>>,
    ) -> Result<String, UsageError> {
        self.accept_restored(now, nsp, None, extra, Vec::new())
    }

    /// Accepts the pending CONNECT for `nsp` as the continuation of an
    /// earlier socket (connection state recovery, see
    /// [`crate::app::RecoveryConfig`]): the socket takes the id `id` (when
    /// given), and the `missed` events (name and arguments, each carrying
    /// its offset already) are sent in order before the CONNECT answer, as
    /// the reference does. Otherwise as [`Connection::accept`]. Returns the
    /// socket id.
    pub fn accept_restored(
        &mut self,
        now: Instant,
        nsp: &str,
        id: Option<String>,
        extra: Option<Map<String, Value>>,
        missed: Vec<(String, Args)>,
    ) -> Result<String, UsageError> {
        let _ = now;
        self.check_open()?;
        let socket = match self.sockets.get_mut(nsp) {
            Some(s) if s.state == SocketState::Pending => s,
            _ => return Err(UsageError::NoPendingConnect(nsp.to_owned())),
        };
        socket.state = SocketState::Connected;
        if let Some(id) = id {
            socket.id = id;
        }
        let id = socket.id.clone();
        for (event, args) in missed {
            if check_attachments(&args).is_ok() {
                self.send_event(nsp, &event, args, None);
            }
        }
        self.connect_deadline = None;
        let data = match self.revision {
            Revision::V4 => None,
            Revision::V5 => {
                let mut map = Map::new();
                map.insert("sid".to_owned(), Value::String(id.clone()));
                if let Some(extra) = extra {
                    map.extend(extra.into_iter().filter(|(k, _)| k != "sid"));
                }
                Some(Value::Object(map))
            }
        };
        log::debug!("[{}] socket {id} joined {nsp}", self.engine.sid);
        self.send(sio::Packet {
            nsp: nsp.to_owned(),
            body: Body::Connect(data),
        });
        Ok(id)
    }

    /// Refuses the pending CONNECT for `nsp` with a CONNECT_ERROR: rev 5
    /// `{"message":message,"data":data}` (`data` omitted when `None`); rev 4
    /// `data`, or the message as a JSON string (what Socket.IO 2.x sends).
    pub fn reject(
        &mut self,
        now: Instant,
        nsp: &str,
        message: &str,
        data: Option<Value>,
    ) -> Result<(), UsageError> {
        let _ = now;
        self.check_open()?;
        match self.sockets.get(nsp) {
            Some(s) if s.state == SocketState::Pending => {}
            _ => return Err(UsageError::NoPendingConnect(nsp.to_owned())),
        }
        self.sockets.remove(nsp);
        let payload = match self.revision {
            Revision::V5 => {
                let mut map = Map::new();
                map.insert("message".to_owned(), Value::String(message.to_owned()));
                if let Some(data) = data {
                    map.insert("data".to_owned(), data);
                }
                Value::Object(map)
            }
            Revision::V4 => data.unwrap_or_else(|| Value::String(message.to_owned())),
        };
        self.send(sio::Packet {
            nsp: nsp.to_owned(),
            body: Body::ConnectError(payload),
        });
        Ok(())
    }

    /// Emits `event` to the socket of `nsp`.
    pub fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
    ) -> Result<(), UsageError> {
        let _ = now;
        self.check_emit(nsp, event, &args)?;
        self.send_event(nsp, event, args, None);
        Ok(())
    }

    /// Emits `event` and asks for an acknowledgement. The answer arrives as
    /// [`Event::AckReceived`]; with a `timeout`, [`Event::AckTimedOut`] comes
    /// instead if it is late (exactly one of the two per id).
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> Result<AckId, UsageError> {
        self.check_emit(nsp, event, &args)?;
        let max = self.config.max_pending_acks;
        let socket = self
            .sockets
            .get_mut(nsp)
            .ok_or_else(|| UsageError::NotConnected(nsp.to_owned()))?;
        if socket.pending_acks.len() >= max {
            return Err(UsageError::TooManyPendingAcks);
        }
        let id = socket.next_ack;
        socket.next_ack += 1;
        let deadline = timeout.map(|t| now + t);
        socket.pending_acks.insert(id, deadline);
        if let Some(deadline) = deadline {
            self.ack_deadlines.insert((deadline, nsp.to_owned(), id));
        }
        self.send_event(nsp, event, args, Some(id));
        Ok(id)
    }

    /// Emits `event` only if the transport can take it right now (nothing is
    /// queued); otherwise drops it. Returns whether it was queued.
    pub fn emit_volatile(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
    ) -> Result<bool, UsageError> {
        self.check_emit(nsp, event, &args)?;
        if !self.engine.is_writable() {
            return Ok(false);
        }
        self.emit(now, nsp, event, args).map(|()| true)
    }

    /// Answers the client's event `id` (from [`Event::Message`]) on `nsp`.
    /// Call it once per id: the client ignores repeats.
    pub fn ack(
        &mut self,
        now: Instant,
        nsp: &str,
        id: AckId,
        args: Args,
    ) -> Result<(), UsageError> {
        let _ = now;
        self.check_connected(nsp)?;
        check_attachments(&args)?;
        let frames = ack_frames(self.config.parser, self.engine.version, nsp, id, args);
        self.queue_frames(frames);
        Ok(())
    }

    /// Sends a message on a bare Engine.IO session (see
    /// [`Connection::new_engine_websocket`]); on a Socket.IO session the
    /// data would corrupt the Socket.IO stream, so it is refused there.
    pub fn send_engine_message(
        &mut self,
        now: Instant,
        data: EngineData,
    ) -> Result<(), UsageError> {
        let _ = now;
        self.check_open()?;
        if !self.engine_only {
            return Err(UsageError::NotEngineOnly);
        }
        let frames = match data {
            EngineData::Text(t) => {
                let mut text = String::with_capacity(t.len() + 1);
                text.push('4');
                text.push_str(&t);
                vec![crate::frame::Frame::text(text)]
            }
            // The binary frame of a message, without any text frame before it.
            EngineData::Binary(b) => {
                unicast_frames(self.engine.version, String::new(), vec![b]).split_off(1)
            }
        };
        self.queue_frames(frames);
        Ok(())
    }

    /// Queues an already encoded packet (a broadcast): shares its frames.
    /// With `volatile`, drops it when the transport is busy. Returns whether
    /// it was queued.
    pub fn send_encoded(&mut self, packet: &EncodedPacket, volatile: bool) -> bool {
        if self.engine.is_closed() || (volatile && !self.engine.is_writable()) {
            return false;
        }
        self.queue_frames(packet.frames(self.engine.version))
    }

    /// Disconnects the socket of `nsp` (sends DISCONNECT; the connection stays open).
    pub fn disconnect(&mut self, now: Instant, nsp: &str) -> Result<(), UsageError> {
        let _ = now;
        self.check_connected(nsp)?;
        self.send(sio::Packet {
            nsp: nsp.to_owned(),
            body: Body::Disconnect,
        });
        self.remove_socket(nsp, DisconnectReason::ServerNamespaceDisconnect);
        Ok(())
    }

    /// Disconnects every socket (DISCONNECT each) and closes the connection.
    pub fn close(&mut self, now: Instant) {
        if self.engine.is_closed() {
            return;
        }
        let joined: Vec<String> = self.namespaces().map(str::to_owned).collect();
        for nsp in joined {
            let _ = self.disconnect(now, &nsp);
        }
        self.close_with(
            DisconnectReason::ForcedServerClose,
            CloseMode::Graceful(now),
        );
    }

    /// Closes the transport without DISCONNECT packets, so clients reconnect
    /// later (what the reference does when the server shuts down).
    pub fn shutdown(&mut self, now: Instant) {
        let _ = now;
        self.close_with(DisconnectReason::ServerShuttingDown, CloseMode::Discard);
    }

    // ---- (D) outputs ---------------------------------------------------

    /// The next frame to send, or the transport close.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.engine.poll_transmit()
    }

    /// The next HTTP response (polling), with the id of its request.
    #[must_use]
    pub fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        self.engine.poll_http_response()
    }

    /// Frees the event queue's capacity if it is empty.
    pub(crate) fn release_idle_events(&mut self) {
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
    }

    /// The next application event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.engine.is_closed() {
            return self.engine.poll_timeout();
        }
        [
            self.engine.poll_timeout(),
            self.connect_deadline,
            self.ack_deadlines.first().map(|d| d.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- internals -----------------------------------------------------

    fn check_open(&self) -> Result<(), UsageError> {
        if self.engine.is_closed() {
            Err(UsageError::Closed)
        } else {
            Ok(())
        }
    }

    fn check_connected(&self, nsp: &str) -> Result<(), UsageError> {
        self.check_open()?;
        if self.is_connected(nsp) {
            Ok(())
        } else {
            Err(UsageError::NotConnected(nsp.to_owned()))
        }
    }

    fn check_emit(&self, nsp: &str, event: &str, args: &Args) -> Result<(), UsageError> {
        self.check_connected(nsp)?;
        if sio::is_reserved_event(event) {
            return Err(UsageError::ReservedEventName(event.to_owned()));
        }
        check_attachments(args)
    }

    fn send_event(&mut self, nsp: &str, event: &str, args: Args, id: Option<AckId>) {
        let frames = event_frames(
            self.config.parser,
            self.engine.version,
            nsp,
            id,
            event,
            args,
        );
        self.queue_frames(frames);
    }

    fn send(&mut self, packet: sio::Packet) {
        let frames = packet_frames(self.config.parser, self.engine.version, packet);
        self.queue_frames(frames);
    }

    /// Queues frames; closes the connection when the outbound limit is hit.
    fn queue_frames(&mut self, frames: impl IntoIterator<Item = crate::frame::Frame>) -> bool {
        match self.engine.queue(frames) {
            Ok(()) => true,
            Err(reason) => {
                log::warn!(
                    "[{}] outbound queue over {} bytes: closing",
                    self.engine.sid,
                    self.config.max_outbound_bytes
                );
                self.close_with(reason, CloseMode::Discard);
                false
            }
        }
    }

    fn message_too_large(&mut self, now: Instant, len: usize) {
        let _ = now;
        log::warn!(
            "[{}] message of {len} bytes exceeds max_payload",
            self.engine.sid
        );
        self.close_with(
            DisconnectReason::TransportError(format!("message of {len} bytes exceeds max_payload")),
            CloseMode::Discard,
        );
    }

    fn protocol_error(&mut self, error: ProtocolError) {
        log::warn!("[{}] protocol violation: {error}", self.engine.sid);
        self.close_with(DisconnectReason::Protocol(error), CloseMode::Discard);
    }

    fn on_engine_packet(&mut self, now: Instant, packet: eio::Packet<'_>) {
        match self.engine.on_packet(now, packet) {
            Inbound::Nothing => {}
            Inbound::Close(reason) => {
                log::debug!("[{}] engine closes: {reason}", self.engine.sid);
                self.close_with(reason, CloseMode::Discard)
            }
            Inbound::Message(Data::Text(text)) if self.engine_only => {
                self.events.push_back(Event::EngineMessage {
                    data: EngineData::Text(text.into_owned()),
                })
            }
            Inbound::Message(Data::Binary(bytes)) if self.engine_only => {
                self.events.push_back(Event::EngineMessage {
                    data: EngineData::Binary(bytes.into_owned()),
                })
            }
            Inbound::Message(Data::Text(text)) => self.on_sio_text(&text),
            Inbound::Message(Data::Binary(bytes)) => self.on_sio_binary(bytes.into_owned()),
        }
    }

    fn on_binary_message(&mut self, data: Vec<u8>) {
        if self.engine_only {
            self.events.push_back(Event::EngineMessage {
                data: EngineData::Binary(data),
            });
        } else {
            self.on_sio_binary(data);
        }
    }

    fn on_sio_text(&mut self, text: &str) {
        match self.decoder.decode_text(text) {
            Ok(Some(packet)) => self.on_sio_packet(packet),
            Ok(None) => {}
            Err(e) => self.protocol_error(ProtocolError::Socket(e)),
        }
    }

    fn on_sio_binary(&mut self, data: Vec<u8>) {
        match self.decoder.decode_binary(data) {
            Ok(Some(packet)) => self.on_sio_packet(packet),
            Ok(None) => {}
            Err(e) => self.protocol_error(ProtocolError::Socket(e)),
        }
    }

    fn on_sio_packet(&mut self, packet: sio::Packet) {
        let sio::Packet { nsp, body } = packet;
        let body = match body {
            Body::Connect(auth) => return self.on_connect(nsp, auth),
            Body::ConnectError(_) => {
                return self.protocol_error(ProtocolError::UnexpectedConnectError)
            }
            other => other,
        };
        if !self.is_connected(&nsp) {
            return self.protocol_error(ProtocolError::NamespaceNotJoined(nsp));
        }
        match body {
            Body::Disconnect => {
                self.remove_socket(&nsp, DisconnectReason::ClientNamespaceDisconnect)
            }
            Body::Event(e) => self.events.push_back(Event::Message {
                nsp,
                name: e.name,
                args: e.args,
                ack: e.id,
                kind: MessageKind::Event,
            }),
            Body::Ack(a) => {
                let pending = self
                    .sockets
                    .get_mut(&nsp)
                    .and_then(|s| s.pending_acks.remove(&a.id));
                match pending {
                    Some(deadline) => {
                        if let Some(deadline) = deadline {
                            self.ack_deadlines.remove(&(deadline, nsp.clone(), a.id));
                        }
                        self.events.push_back(Event::AckReceived {
                            nsp,
                            id: a.id,
                            args: a.args,
                        });
                    }
                    None => log::debug!(
                        "[{}] dropping ack {} on {nsp}: unknown or late",
                        self.engine.sid,
                        a.id
                    ),
                }
            }
            Body::Connect(_) | Body::ConnectError(_) => {}
        }
    }

    fn on_connect(&mut self, raw_nsp: String, auth: Option<Value>) {
        let (nsp, auth) = match self.revision {
            Revision::V5 => (raw_nsp, auth.unwrap_or_else(|| Value::Object(Map::new()))),
            Revision::V4 => {
                let (path, query) = sio::split_namespace_query(&raw_nsp);
                let auth = query
                    .map(|q| Query::parse(q).to_json_object())
                    .unwrap_or_else(|| Value::Object(Map::new()));
                (path.to_owned(), auth)
            }
        };
        if self.sockets.contains_key(&nsp) {
            return self.protocol_error(ProtocolError::DuplicateConnect(nsp));
        }
        let refusal = if !self.config.namespace_allowed(&nsp) {
            Some("Invalid namespace")
        } else if self.sockets.len() >= self.config.max_namespaces {
            Some("Too many namespaces")
        } else {
            None
        };
        if let Some(message) = refusal {
            log::debug!("[{}] refusing namespace {nsp}: {message}", self.engine.sid);
            // Both revisions get the object form, as the socket.io 4.x server
            // sends to v3 clients too (socket.io 2.x sent the JSON string
            // `"Invalid namespace"` instead).
            let payload = serde_json::json!({ "message": message });
            return self.send(sio::Packet {
                nsp,
                body: Body::ConnectError(payload),
            });
        }
        let id = match self.revision {
            Revision::V5 => generate_id(self.rng.as_mut()),
            Revision::V4 if nsp == "/" => self.engine.sid.clone(),
            Revision::V4 => format!("{nsp}#{}", self.engine.sid),
        };
        self.sockets.insert(
            nsp.clone(),
            Box::new(NsSocket {
                id,
                auth: auth.clone(),
                state: SocketState::Pending,
                next_ack: 0,
                pending_acks: BTreeMap::new(),
            }),
        );
        self.events.push_back(Event::Connect { nsp, auth });
    }

    fn remove_socket(&mut self, nsp: &str, reason: DisconnectReason) {
        if let Some(socket) = self.sockets.remove(nsp) {
            for (id, deadline) in socket.pending_acks {
                if let Some(deadline) = deadline {
                    self.ack_deadlines.remove(&(deadline, nsp.to_owned(), id));
                }
            }
            if socket.state == SocketState::Connected {
                self.events.push_back(Event::Disconnected {
                    nsp: nsp.to_owned(),
                    reason,
                });
            }
        }
    }

    fn close_with(&mut self, reason: DisconnectReason, mode: CloseMode) {
        if self.engine.is_closed() {
            return;
        }
        self.engine.close(mode);
        for (nsp, socket) in std::mem::take(&mut self.sockets) {
            if socket.state == SocketState::Connected {
                self.events.push_back(Event::Disconnected {
                    nsp,
                    reason: reason.clone(),
                });
            }
        }
        self.ack_deadlines.clear();
        self.connect_deadline = None;
        log::debug!("[{}] closed: {reason}", self.engine.sid);
        self.events.push_back(Event::Closed { reason });
    }
}

fn check_attachments(args: &Args) -> Result<(), UsageError> {
    if args.binaries.is_empty() {
        return Ok(());
    }
    binary::validate(&args.values, args.binaries.len()).map_err(|_| UsageError::InvalidAttachments)
}
