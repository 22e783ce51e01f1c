//! The legacy Socket.IO 0.9 session ([`LegacyConnection`]) as a pure state
//! machine, its settings ([`LegacyConfig`]) and request routing ([`route`]).
//!
//! A 0.9 client first asks `GET /socket.io/1/` for a session: answer with
//! [`handshake_response`] and create a [`LegacyConnection`] for the new sid.
//! Its transport then attaches at `/socket.io/1/websocket/<sid>`
//! ([`LegacyConnection::handle_ws_open`]) or polls at
//! `/socket.io/1/xhr-polling/<sid>` ([`LegacyConnection::handle_poll_get`],
//! [`LegacyConnection::handle_poll_post`]).
//!
//! The application sees the same [`Event`]s as for modern clients: the
//! global endpoint `""` is namespace `"/"`, `event` packets are
//! [`Event::Message`]s with their name, `message` (3) and `json` (4) packets
//! are [`Event::Message`]s named `"message"` and `"json"`.
//!
//! Method groups and drain contract as [`crate::Connection`], plus HTTP
//! responses: after any input or command, drain
//! [`LegacyConnection::poll_transmit`] (WebSocket frames) and
//! [`LegacyConnection::poll_http_response`] (polling answers), then
//! [`LegacyConnection::poll_event`], until all are empty; then read
//! [`LegacyConnection::poll_timeout`].
//!
//! Decisions (the protocol is socket.io-spec; where it is silent we follow
//! the socket.io 0.9 server, and say where we differ):
//! * Connect: the global endpoint joins implicitly when the first transport
//!   attaches (`1::` is the first packet: first WebSocket frame, or body of
//!   the first polling GET), with [`Event::Connect`] for `/` whose `auth` is
//!   the handshake query as an object. `1::/chat[:?qs]` (or `1::/chat?qs`)
//!   gives an [`Event::Connect`] for `/chat` with the query as `auth`;
//!   [`LegacyConnection::accept`] echoes `1::/chat` (without query, as the
//!   reference), [`LegacyConnection::reject`] sends `7::/chat:2` (error
//!   "unauthorized", which the 0.9 client reports as `connect_failed`); a
//!   refused global endpoint gets `7:::2` and the connection closes. An
//!   endpoint that [`Config::namespace_allowed`] refuses (or beyond
//!   [`Config::max_namespaces`]) gets `7::/x:2` at once, the answer the 0.9
//!   server gives a refused authorization (socket.io-spec, *(`1`) Connect*:
//!   the server may answer a connect with an error packet; the stock 0.9
//!   server creates any endpoint). Packets that arrive for an endpoint whose connect is
//!   still pending are held and delivered after `accept` (dropped on
//!   `reject`); packets for an endpoint never joined are dropped (the
//!   reference would dispatch them to an empty namespace).
//! * Acks (socket.io-spec, *Encoding* and *(`6`) ACK*): a plain id is
//!   acknowledged `6:::<id>` (`6::/chat:<id>`) on receipt, before the event
//!   is queued (as the socket.io 0.9 server does), and the event has
//!   `ack: None`; an id with `+` gives `ack: Some(id)`, answered by
//!   [`LegacyConnection::ack`] as `6:::<id>+[args]`. Server ack ids are
//!   unique per connection, so an inbound ack is matched by id whatever
//!   endpoint it carries.
//! * Heartbeats (socket.io-spec, *(`2`) Heartbeat*): the server queues
//!   `2::` every heartbeat interval on both transports (as gevent-socketio;
//!   the reference only on WebSocket), and closes with
//!   [`DisconnectReason::PingTimeout`] when the answer `2::` does not come
//!   within the heartbeat timeout; only `2::` counts (as the reference;
//!   gevent-socketio counts any data). The interval starts again when the
//!   answer arrives.
//! * Close timeout: from creation to the first transport request, after each
//!   polling response, and after the WebSocket dropped
//!   ([`LegacyConnection::handle_transport_closed`]), a transport request
//!   must come within the close timeout or the connection closes with
//!   [`DisconnectReason::TransportClose`]. A POST does not count (reference:
//!   only a GET re-attaches). A WebSocket may re-attach within the close
//!   timeout; `1::` is not sent again.
//! * `0::` from the client: answered `0::`, then the connection closes with
//!   [`DisconnectReason::ClientNamespaceDisconnect`]; `0::/chat` leaves
//!   `/chat`. Events named `disconnect` are ignored (reference blacklist),
//!   and so are the other names [`crate::wire::sio::is_reserved_event`]
//!   lists, which mean something else to the shared handler API.
//! * Malformed packets or polling bodies close the connection with
//!   [`ProtocolError::Legacy`] (the POST is answered 400). Error packets
//!   (7) from the client are logged and ignored; noop (8) is ignored.

mod config;
mod route;

pub use config::{LegacyConfig, LegacyTransport};
pub use route::{handshake_body, handshake_response, route, unknown_session_response, LegacyRoute};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::Config;
use crate::conn::{Event, Handshake, MessageKind};
use crate::engine::Transmit;
use crate::error::{DisconnectReason, ProtocolError, UsageError};
use crate::frame::{Frame, Text};
use crate::http::{HttpResponse, RequestId, TEXT_PLAIN};
use crate::query::Query;
use crate::wire::legacy::{self as wire, AckRequest, ErrorReason, Packet};
use crate::wire::sio::{is_reserved_event, AckId, Args};
use crate::wire::{DecodeError, DecodeErrorKind};

/// Most packets held for one endpoint whose connect the application has
/// not answered yet; later ones are dropped (logged).
const MAX_HELD_PACKETS: usize = 1024;

/// Which acknowledgement a server `message`/`json` packet asks for
/// (socket.io-spec, *Encoding*: an id with `+` asks for data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegacyAck {
    /// No id: nothing comes back.
    #[default]
    None,
    /// A plain id (`3:1::hi`): the client acknowledges receipt, without data.
    Auto {
        /// Deadline for the ack; [`Event::AckTimedOut`] when it passes.
        timeout: Option<Duration>,
    },
    /// An id with `+` (`3:1+::hi`): the client's handler answers with data.
    Data {
        /// Deadline for the ack; [`Event::AckTimedOut`] when it passes.
        timeout: Option<Duration>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SocketState {
    Pending,
    Connected,
}

#[derive(Debug)]
struct Socket {
    auth: Value,
    state: SocketState,
    /// Acks this endpoint awaits.
    pending_acks: usize,
    /// Events received while the connect is pending.
    held: Vec<Event>,
}

/// What carries packets right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// No transport since `since`: the close timeout runs.
    Detached { since: Instant },
    /// A WebSocket takes frames from `poll_transmit`.
    WebSocket,
    /// A polling GET is held until data comes or `deadline` passes.
    Poll { req: RequestId, deadline: Instant },
}

#[derive(Debug)]
struct PendingAck {
    nsp: String,
    deadline: Option<Instant>,
}

/// One legacy Socket.IO 0.9 client: its session, transport and endpoints.
///
/// Reports the same [`Event`]s as [`crate::Connection`]; see the
/// [module docs](self) for the protocol decisions.
///
/// ```
/// use std::time::{Duration, Instant};
/// use socketio_sansio::legacy::{handshake_body, LegacyConnection};
/// use socketio_sansio::{Config, Event, Frame, Handshake, Transmit};
/// use serde_json::json;
///
/// let config = Config::builder().build().unwrap();
/// let epoch = Instant::now();
///
/// // `GET /socket.io/1/?t=1&user=ann`: answer the handshake, create the session.
/// assert_eq!(handshake_body("s1", &config.legacy), "s1:60:60:websocket,xhr-polling");
/// let handshake = Handshake::new("/socket.io/1/?t=1&user=ann", vec![]);
/// let mut conn = LegacyConnection::new(epoch, "s1".into(), config, handshake);
///
/// // The WebSocket `/socket.io/1/websocket/s1` attaches: `1::` goes first,
/// // and the global endpoint asks to connect.
/// conn.handle_ws_open(epoch);
/// assert_eq!(conn.poll_transmit(), Some(Transmit::Frame(Frame::text("1::".into()))));
/// let Some(Event::Connect { nsp, auth }) = conn.poll_event() else { panic!() };
/// assert_eq!((nsp.as_str(), &auth), ("/", &json!({"user": "ann"})));
/// conn.accept(epoch, "/").unwrap();
///
/// // An event asking for a data ack reaches the handler of `hello`...
/// conn.handle_text(epoch, r#"5:1+::{"name":"hello","args":["world"]}"#);
/// let Some(Event::Message { nsp, name, args, ack: Some(id), .. }) = conn.poll_event() else {
///     panic!()
/// };
/// assert_eq!((nsp.as_str(), name.as_str()), ("/", "hello"));
/// // ...and the answer goes back as `6:::<id>+[args]`.
/// conn.ack(epoch, &nsp, id, args).unwrap();
/// assert_eq!(
///     conn.poll_transmit(),
///     Some(Transmit::Frame(Frame::text(r#"6:::1+["world"]"#.into())))
/// );
///
/// // Heartbeats: `2::` one interval later.
/// let now = conn.poll_timeout().unwrap();
/// assert_eq!(now, epoch + Duration::from_secs(25));
/// conn.handle_timeout(now);
/// assert_eq!(conn.poll_transmit(), Some(Transmit::Frame(Frame::text("2::".into()))));
/// ```
pub struct LegacyConnection {
    sid: String,
    config: Arc<Config>,
    handshake: Arc<Handshake>,
    link: Link,
    /// True once a transport attached (and `1::` was queued).
    attached_once: bool,
    closed: bool,
    /// The last `now` given: the time of work queued by calls without `now`.
    clock: Instant,
    queue: VecDeque<Text>,
    queue_bytes: usize,
    /// A `Transmit::Close` is due after the queue (WebSocket only).
    close_pending: bool,
    responses: VecDeque<(RequestId, HttpResponse)>,
    events: VecDeque<Event>,
    sockets: BTreeMap<String, Socket>,
    next_ack: AckId,
    pending_acks: BTreeMap<AckId, PendingAck>,
    ack_deadlines: BTreeSet<(Instant, AckId)>,
    next_heartbeat: Option<Instant>,
    heartbeat_deadline: Option<Instant>,
    /// A server-closed polling session keeps its last packets (`0::`) for
    /// the next GET until this instant.
    final_get_deadline: Option<Instant>,
}

impl std::fmt::Debug for LegacyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyConnection")
            .field("sid", &self.sid)
            .field("link", &self.link)
            .field("closed", &self.closed)
            .field("namespaces", &self.sockets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The namespace of an endpoint: `""` is `/`.
fn nsp_of(endpoint: &str) -> String {
    if endpoint.is_empty() {
        "/".to_owned()
    } else {
        endpoint.to_owned()
    }
}

/// The endpoint of a namespace: `/` is `""`.
fn endpoint_of(nsp: &str) -> &str {
    if nsp == "/" {
        ""
    } else {
        nsp
    }
}

fn encode(packet: &Packet) -> String {
    let mut out = String::with_capacity(32);
    packet.encode(&mut out);
    out
}

impl LegacyConnection {
    /// A session created when the handshake `GET /socket.io/1/` was answered
    /// (see [`handshake_response`]); `handshake` is that request. Nothing is
    /// sent until a transport attaches, which must happen within the close
    /// timeout. Socket ids are the session id (0.9 has one id per client),
    /// so no randomness is needed.
    pub fn new(now: Instant, sid: String, config: Arc<Config>, handshake: Handshake) -> Self {
        log::debug!("[{sid}] legacy 0.9 session created");
        LegacyConnection {
            sid,
            config,
            handshake: Arc::new(handshake),
            link: Link::Detached { since: now },
            attached_once: false,
            closed: false,
            clock: now,
            queue: VecDeque::new(),
            queue_bytes: 0,
            close_pending: false,
            responses: VecDeque::new(),
            events: VecDeque::new(),
            sockets: BTreeMap::new(),
            next_ack: 1,
            pending_acks: BTreeMap::new(),
            ack_deadlines: BTreeSet::new(),
            next_heartbeat: None,
            heartbeat_deadline: None,
            final_get_deadline: None,
        }
    }

    // ---- (A) getters ---------------------------------------------------

    /// The session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The socket id of the joined (or joining) namespace `nsp`: the session
    /// id for every endpoint.
    pub fn socket_id(&self, nsp: &str) -> Option<&str> {
        self.sockets.get(nsp).map(|_| self.sid.as_str())
    }

    /// The handshake request.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The handshake request, shared (no copy).
    pub fn shared_handshake(&self) -> Arc<Handshake> {
        self.handshake.clone()
    }

    /// The auth data of `nsp`: the handshake query for `/`, the connect
    /// packet's query for other endpoints (`{}` without one).
    pub fn auth(&self, nsp: &str) -> Option<&Value> {
        self.sockets.get(nsp).map(|s| &s.auth)
    }

    /// True if `nsp` is connected (accepted).
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

    /// The transport attached right now (`None` between polling requests).
    pub fn transport(&self) -> Option<LegacyTransport> {
        match self.link {
            Link::Detached { .. } => None,
            Link::WebSocket => Some(LegacyTransport::WebSocket),
            Link::Poll { .. } => Some(LegacyTransport::XhrPolling),
        }
    }

    /// Bytes of packets queued and not yet taken by a transport.
    pub fn outbound_bytes(&self) -> usize {
        self.queue_bytes
    }

    /// True once the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True if WebSocket frames (or the close) wait for `poll_transmit`.
    pub fn has_transmit(&self) -> bool {
        self.link == Link::WebSocket && (!self.queue.is_empty() || self.close_pending)
    }

    /// True if an HTTP response waits for `poll_http_response`.
    pub fn has_http_response(&self) -> bool {
        !self.responses.is_empty()
    }

    /// True once closed and nothing is left to deliver.
    pub fn is_finished(&self) -> bool {
        self.closed
            && !self.has_transmit()
            && self.responses.is_empty()
            && !matches!(self.link, Link::Poll { .. })
            && self.final_get_deadline.is_none()
    }

    // ---- (B) inputs ----------------------------------------------------

    /// The WebSocket `/socket.io/1/websocket/<sid>` attached. The first
    /// transport of the session gets `1::` and the global endpoint connects.
    /// A held polling GET is answered `8::` (the client switched transports).
    pub fn handle_ws_open(&mut self, now: Instant) {
        self.clock = now;
        if self.closed {
            return;
        }
        if let Link::Poll { req, .. } = self.link {
            self.respond_noop(req);
        }
        if self.link == Link::WebSocket {
            log::debug!("[{}] a new WebSocket replaces the attached one", self.sid);
        }
        self.link = Link::WebSocket;
        self.attach(now);
    }

    /// A WebSocket text message arrived: one packet.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        self.clock = now;
        if self.closed {
            return;
        }
        if text.len() > self.config.max_payload {
            return self.too_large(text.len());
        }
        match Packet::decode(text) {
            Ok(packet) => self.on_packet(now, packet),
            Err(e) => self.protocol_error(e),
        }
        self.flush();
    }

    /// A WebSocket binary message arrived: 0.9 has no binary frames, so the
    /// session closes (the WebSocket with it).
    pub fn handle_binary(&mut self, now: Instant, len: usize) {
        self.clock = now;
        if self.closed {
            return;
        }
        log::warn!(
            "[{}] binary frame of {len} bytes on a 0.9 session",
            self.sid
        );
        self.close_with(
            DisconnectReason::TransportError("binary frame on a 0.9 session".into()),
            true,
        );
        self.flush();
    }

    /// The WebSocket closed, or the connection of the held polling GET went
    /// away. The session waits the close timeout for another transport
    /// request.
    pub fn handle_transport_closed(&mut self, now: Instant) {
        self.clock = now;
        if self.closed {
            // A closed WebSocket takes no more frames.
            if self.link == Link::WebSocket {
                self.link = Link::Detached { since: now };
                self.queue.clear();
                self.queue_bytes = 0;
                self.close_pending = false;
            }
            return;
        }
        if self.transport().is_some() {
            log::debug!("[{}] transport closed", self.sid);
            self.link = Link::Detached { since: now };
        }
    }

    /// A polling GET `/socket.io/1/xhr-polling/<sid>` arrived. It is answered
    /// at once when packets are queued (the first GET of a session gets
    /// `1::`), else held until a packet comes or the polling duration passes
    /// (then `8::`). A GET while another is held: the older one is answered
    /// `8::`. A GET while a WebSocket is attached: 400. A GET on a closed
    /// session: `7:::1+0`.
    pub fn handle_poll_get(&mut self, now: Instant, req: RequestId) {
        self.clock = now;
        if self.closed {
            if self.final_get_deadline.take().is_some() && !self.queue.is_empty() {
                // The last GET of a session the server closed: it gets `0::`.
                self.link = Link::Poll { req, deadline: now };
                return self.flush();
            }
            return self.responses.push_back((req, unknown_session_response()));
        }
        match self.link {
            Link::WebSocket => {
                log::debug!("[{}] polling GET while a WebSocket is attached", self.sid);
                return self.responses.push_back((req, HttpResponse::empty(400)));
            }
            Link::Poll { req: older, .. } => self.respond_noop(older),
            Link::Detached { .. } => {}
        }
        self.link = Link::Poll {
            req,
            deadline: now + self.config.legacy.polling_duration,
        };
        self.attach(now);
        self.flush();
    }

    /// A polling POST arrived with `body`: one packet, or several framed
    /// with `\u{fffd}<len>\u{fffd}`. Answered 200 `1`; 413 (and the
    /// connection closes) when the body exceeds [`Config::max_payload`]; 400
    /// (and the connection closes) when it does not decode; `7:::1+0` on a
    /// closed session.
    pub fn handle_poll_post(&mut self, now: Instant, req: RequestId, body: &[u8]) {
        self.clock = now;
        if self.closed {
            return self.responses.push_back((req, unknown_session_response()));
        }
        if body.len() > self.config.max_payload {
            self.responses.push_back((req, HttpResponse::empty(413)));
            self.too_large(body.len());
            return self.flush();
        }
        let text = match std::str::from_utf8(body) {
            Ok(text) => text,
            Err(e) => {
                self.responses.push_back((req, HttpResponse::empty(400)));
                self.protocol_error(DecodeError::new(
                    DecodeErrorKind::InvalidUtf8,
                    e.valid_up_to(),
                ));
                return self.flush();
            }
        };
        let frames = match wire::decode_payload(text) {
            Ok(frames) => frames,
            Err(e) => {
                self.responses.push_back((req, HttpResponse::empty(400)));
                self.protocol_error(e);
                return self.flush();
            }
        };
        let mut status = 200;
        for frame in frames {
            if self.closed {
                break;
            }
            match Packet::decode(frame) {
                Ok(packet) => self.on_packet(now, packet),
                Err(e) => {
                    status = 400;
                    self.protocol_error(e);
                }
            }
        }
        let response = if status == 200 {
            HttpResponse::new(200, TEXT_PLAIN, "1")
        } else {
            HttpResponse::empty(status)
        };
        self.responses.push_back((req, response));
        self.flush();
    }

    /// A `?disconnect` request for this session (see
    /// [`LegacyRoute::ForcedDisconnect`]): a held GET receives `0::`, the
    /// connection closes ([`DisconnectReason::ClientNamespaceDisconnect`]),
    /// and `req` is answered 200 with an empty body.
    pub fn handle_forced_disconnect(&mut self, now: Instant, req: RequestId) {
        self.clock = now;
        self.responses
            .push_back((req, HttpResponse::new(200, TEXT_PLAIN, "")));
        if self.closed {
            return;
        }
        self.push_control(encode(&Packet::Disconnect {
            endpoint: String::new(),
        }));
        self.close_with(DisconnectReason::ClientNamespaceDisconnect, false);
    }

    /// Fires the timers that are due: heartbeat timeout, close timeout,
    /// polling duration, the next heartbeat, ack deadlines. Early or
    /// repeated calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock = now;
        if self.closed {
            if self.final_get_deadline.is_some_and(|d| now >= d) {
                // Nobody came for the last packets.
                self.final_get_deadline = None;
                self.queue.clear();
                self.queue_bytes = 0;
            }
            return;
        }
        if self.heartbeat_deadline.is_some_and(|d| now >= d) {
            log::debug!("[{}] heartbeat timeout", self.sid);
            return self.close_with(DisconnectReason::PingTimeout, true);
        }
        match self.link {
            Link::Detached { since } if now >= since + self.config.legacy.close_timeout => {
                log::debug!("[{}] close timeout", self.sid);
                return self.close_with(DisconnectReason::TransportClose, true);
            }
            Link::Poll { req, deadline } if now >= deadline => {
                self.respond_noop(req);
                self.link = Link::Detached { since: now };
            }
            _ => {}
        }
        if self.next_heartbeat.is_some_and(|t| now >= t) {
            self.next_heartbeat = None;
            self.heartbeat_deadline = Some(now + self.config.legacy.heartbeat_timeout);
            self.push_control(encode(&Packet::Heartbeat));
        }
        while let Some(&(deadline, id)) = self.ack_deadlines.first() {
            if deadline > now {
                break;
            }
            self.ack_deadlines.pop_first();
            if let Some(pending) = self.pending_acks.remove(&id) {
                if let Some(socket) = self.sockets.get_mut(&pending.nsp) {
                    socket.pending_acks = socket.pending_acks.saturating_sub(1);
                }
                self.events.push_back(Event::AckTimedOut {
                    nsp: pending.nsp,
                    id,
                });
            }
        }
        self.flush();
    }

    // ---- (C) commands --------------------------------------------------

    /// Accepts the pending connect of `nsp`: `1::/chat` for an endpoint,
    /// nothing for `/` (its `1::` went out when the transport attached).
    /// Packets held meanwhile are delivered. Returns the socket id.
    pub fn accept(&mut self, now: Instant, nsp: &str) -> Result<String, UsageError> {
        self.clock = now;
        self.check_open()?;
        let socket = match self.sockets.get_mut(nsp) {
            Some(s) if s.state == SocketState::Pending => s,
            _ => return Err(UsageError::NoPendingConnect(nsp.to_owned())),
        };
        socket.state = SocketState::Connected;
        let held = std::mem::take(&mut socket.held);
        self.events.extend(held);
        if nsp != "/" {
            self.push_control(encode(&Packet::Connect {
                endpoint: nsp.to_owned(),
                qs: None,
            }));
        }
        log::debug!("[{}] joined {nsp}", self.sid);
        self.flush();
        Ok(self.sid.clone())
    }

    /// Refuses the pending connect of `nsp` with `7::/chat:2` ("unauthorized";
    /// the 0.9 protocol has no room for `message`, which is only logged).
    /// Refusing `/` sends `7:::2` and closes the connection
    /// ([`DisconnectReason::ForcedServerClose`]).
    pub fn reject(&mut self, now: Instant, nsp: &str, message: &str) -> Result<(), UsageError> {
        self.clock = now;
        self.check_open()?;
        match self.sockets.get(nsp) {
            Some(s) if s.state == SocketState::Pending => {}
            _ => return Err(UsageError::NoPendingConnect(nsp.to_owned())),
        }
        log::debug!("[{}] refusing {nsp}: {message}", self.sid);
        self.sockets.remove(nsp);
        self.push_control(unauthorized(nsp));
        if nsp == "/" {
            self.close_with(DisconnectReason::ForcedServerClose, false);
        }
        self.flush();
        Ok(())
    }

    /// Emits `event`: `5::/chat:{"name":..,"args":[..]}`.
    pub fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
    ) -> Result<(), UsageError> {
        self.clock = now;
        let values = self.check_emit(nsp, event, args)?;
        self.send_event(nsp, event, values, None);
        self.flush();
        Ok(())
    }

    /// Emits `event` asking for a data ack (`5:<id>+::...`). The answer
    /// arrives as [`Event::AckReceived`]; with a `timeout`,
    /// [`Event::AckTimedOut`] comes instead if it is late (exactly one of
    /// the two per id).
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> Result<AckId, UsageError> {
        self.clock = now;
        let values = self.check_emit(nsp, event, args)?;
        let id = self.register_ack(now, nsp, timeout)?;
        self.send_event(nsp, event, values, Some(AckRequest::Data(id)));
        self.flush();
        Ok(id)
    }

    /// Emits `event` only if the transport can take it right now (attached,
    /// nothing queued); otherwise drops it. Returns whether it was queued.
    pub fn emit_volatile(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
    ) -> Result<bool, UsageError> {
        self.clock = now;
        let values = self.check_emit(nsp, event, args)?;
        if !self.is_writable() {
            return Ok(false);
        }
        self.send_event(nsp, event, values, None);
        self.flush();
        Ok(true)
    }

    /// Sends a `message` packet (`3:[id[+]]:/chat:text`), which 0.9 clients
    /// deliver to their `message` handler. With [`LegacyAck::Auto`] or
    /// [`LegacyAck::Data`], returns the id of the expected
    /// [`Event::AckReceived`] (args `[]` for a receipt ack).
    pub fn send_message(
        &mut self,
        now: Instant,
        nsp: &str,
        text: &str,
        ack: LegacyAck,
    ) -> Result<Option<AckId>, UsageError> {
        self.clock = now;
        self.check_connected(nsp)?;
        let id = self.ack_request(now, nsp, ack)?;
        let packet = Packet::Message {
            id,
            endpoint: endpoint_of(nsp).to_owned(),
            data: text.to_owned(),
        };
        self.push_data(Text::Owned(encode(&packet)));
        self.flush();
        Ok(id.map(AckRequest::id))
    }

    /// Sends a `json` packet (`4:[id[+]]:/chat:<json>`); acks as
    /// [`LegacyConnection::send_message`].
    pub fn send_json(
        &mut self,
        now: Instant,
        nsp: &str,
        value: Value,
        ack: LegacyAck,
    ) -> Result<Option<AckId>, UsageError> {
        self.clock = now;
        self.check_connected(nsp)?;
        let id = self.ack_request(now, nsp, ack)?;
        let packet = Packet::Json {
            id,
            endpoint: endpoint_of(nsp).to_owned(),
            data: value,
        };
        self.push_data(Text::Owned(encode(&packet)));
        self.flush();
        Ok(id.map(AckRequest::id))
    }

    /// Answers the client's packet `id` (from [`Event::Message`] with
    /// `ack: Some(id)`) on `nsp`: `6:::<id>+[args]` (`6:::<id>` without args).
    pub fn ack(
        &mut self,
        now: Instant,
        nsp: &str,
        id: AckId,
        args: Args,
    ) -> Result<(), UsageError> {
        self.clock = now;
        self.check_connected(nsp)?;
        if !args.binaries.is_empty() {
            return Err(UsageError::BinaryNotSupported);
        }
        let packet = Packet::Ack {
            endpoint: endpoint_of(nsp).to_owned(),
            ack_id: id,
            args: Some(args.values),
        };
        self.push_data(Text::Owned(encode(&packet)));
        self.flush();
        Ok(())
    }

    /// Queues an already encoded 0.9 packet (a broadcast shared by every
    /// legacy recipient). With `volatile`, drops it unless the transport can
    /// take it right now. Returns whether it was queued.
    pub fn send_legacy_text(&mut self, packet: &Arc<str>, volatile: bool) -> bool {
        if self.closed || (volatile && !self.is_writable()) {
            return false;
        }
        let queued = self.push_data(Text::Shared(packet.clone()));
        self.flush();
        queued
    }

    /// Disconnects `nsp`: `0::/chat`, the connection stays open. For `/`,
    /// whose `0::` ends the whole 0.9 client, this is
    /// [`LegacyConnection::close`].
    pub fn disconnect(&mut self, now: Instant, nsp: &str) -> Result<(), UsageError> {
        self.clock = now;
        self.check_connected(nsp)?;
        if nsp == "/" {
            self.close(now);
            return Ok(());
        }
        self.push_control(encode(&Packet::Disconnect {
            endpoint: nsp.to_owned(),
        }));
        self.remove_socket(nsp, DisconnectReason::ServerNamespaceDisconnect);
        self.flush();
        Ok(())
    }

    /// Sends `0::` and closes the connection
    /// ([`DisconnectReason::ForcedServerClose`]).
    pub fn close(&mut self, now: Instant) {
        self.clock = now;
        if self.closed {
            return;
        }
        self.push_control(encode(&Packet::Disconnect {
            endpoint: String::new(),
        }));
        self.close_with(DisconnectReason::ForcedServerClose, false);
    }

    /// Closes the transport without `0::`, so the client reconnects later
    /// ([`DisconnectReason::ServerShuttingDown`]).
    pub fn shutdown(&mut self, now: Instant) {
        self.clock = now;
        self.close_with(DisconnectReason::ServerShuttingDown, false);
    }

    // ---- (D) outputs ---------------------------------------------------

    /// The next WebSocket frame to send, or the transport close. Nothing
    /// while no WebSocket is attached (packets wait in the queue).
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.link != Link::WebSocket {
            return None;
        }
        if let Some(text) = self.queue.pop_front() {
            self.queue_bytes -= text.len();
            return Some(Transmit::Frame(Frame::Text(text)));
        }
        if std::mem::take(&mut self.close_pending) {
            return Some(Transmit::Close);
        }
        None
    }

    /// The next HTTP response to write (polling GET/POST, forced disconnect).
    #[must_use]
    pub fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        self.responses.pop_front()
    }

    /// The next application event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`LegacyConnection::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return self.final_get_deadline;
        }
        let link = match self.link {
            Link::Detached { since } => Some(since + self.config.legacy.close_timeout),
            Link::Poll { deadline, .. } => Some(deadline),
            Link::WebSocket => None,
        };
        [
            link,
            self.next_heartbeat,
            self.heartbeat_deadline,
            self.ack_deadlines.first().map(|d| d.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ---- internals -----------------------------------------------------

    fn check_open(&self) -> Result<(), UsageError> {
        if self.closed {
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

    fn check_emit(&self, nsp: &str, event: &str, args: Args) -> Result<Vec<Value>, UsageError> {
        self.check_connected(nsp)?;
        if is_reserved_event(event) {
            return Err(UsageError::ReservedEventName(event.to_owned()));
        }
        if !args.binaries.is_empty() {
            return Err(UsageError::BinaryNotSupported);
        }
        Ok(args.values)
    }

    fn is_writable(&self) -> bool {
        !self.closed && self.queue.is_empty() && self.link_attached()
    }

    fn link_attached(&self) -> bool {
        !matches!(self.link, Link::Detached { .. })
    }

    /// A transport request arrived: the first one queues `1::`, connects
    /// the global endpoint and starts the heartbeats.
    fn attach(&mut self, now: Instant) {
        if std::mem::replace(&mut self.attached_once, true) {
            return;
        }
        log::debug!("[{}] transport attached: {:?}", self.sid, self.transport());
        let connect = encode(&Packet::Connect {
            endpoint: String::new(),
            qs: None,
        });
        self.queue_bytes += connect.len();
        self.queue.push_front(Text::Owned(connect));
        self.next_heartbeat = Some(now + self.config.legacy.heartbeat_interval);
        let auth = self.handshake_auth();
        self.sockets.insert(
            "/".to_owned(),
            Socket {
                auth: auth.clone(),
                state: SocketState::Pending,
                pending_acks: 0,
                held: Vec::new(),
            },
        );
        self.events.push_back(Event::Connect {
            nsp: "/".to_owned(),
            auth,
        });
    }

    /// Answers a held GET whose queue is empty: `8::`.
    fn respond_noop(&mut self, req: RequestId) {
        self.responses.push_back((
            req,
            HttpResponse::new(200, TEXT_PLAIN, encode(&Packet::Noop)),
        ));
    }

    /// Answers a held GET with everything queued.
    /// The handshake query as an auth object, without the client's `t`
    /// cache buster.
    fn handshake_auth(&self) -> Value {
        let mut auth = self.handshake.query.to_json_object();
        if let Value::Object(map) = &mut auth {
            map.remove("t");
        }
        auth
    }

    fn flush(&mut self) {
        let Link::Poll { req, .. } = self.link else {
            return;
        };
        if self.queue.is_empty() {
            return;
        }
        let packets: Vec<Text> = self.queue.drain(..).collect();
        self.queue_bytes = 0;
        let texts: Vec<&str> = packets.iter().map(Text::as_str).collect();
        let mut body = String::with_capacity(texts.iter().map(|p| p.len() + 8).sum());
        wire::encode_payload(&texts, &mut body);
        self.responses
            .push_back((req, HttpResponse::new(200, TEXT_PLAIN, body)));
        self.link = Link::Detached { since: self.clock };
    }

    /// Queues a protocol packet. Control packets count toward
    /// [`Config::max_outbound_bytes`] too: a client that keeps sending
    /// connects (each answered) or stops fetching heartbeats while never
    /// reading would otherwise grow the queue without bound. Past the
    /// limit the connection closes.
    fn push_control(&mut self, text: String) {
        if self.closed {
            return;
        }
        if self.queue_bytes + text.len() > self.config.max_outbound_bytes {
            log::warn!(
                "[{}] outbound queue over {} bytes (control packets): closing",
                self.sid,
                self.config.max_outbound_bytes
            );
            return self.close_with(DisconnectReason::OutboundQueueFull, true);
        }
        self.queue_bytes += text.len();
        self.queue.push_back(Text::Owned(text));
    }

    /// Queues an application packet; closes the connection when
    /// [`Config::max_outbound_bytes`] would be exceeded.
    fn push_data(&mut self, text: Text) -> bool {
        if self.closed {
            return false;
        }
        if self.queue_bytes + text.len() > self.config.max_outbound_bytes {
            log::warn!(
                "[{}] outbound queue over {} bytes: closing",
                self.sid,
                self.config.max_outbound_bytes
            );
            self.close_with(DisconnectReason::OutboundQueueFull, true);
            return false;
        }
        self.queue_bytes += text.len();
        self.queue.push_back(text);
        true
    }

    fn send_event(&mut self, nsp: &str, event: &str, args: Vec<Value>, id: Option<AckRequest>) {
        let packet = Packet::Event {
            id,
            endpoint: endpoint_of(nsp).to_owned(),
            name: event.to_owned(),
            args,
        };
        self.push_data(Text::Owned(encode(&packet)));
    }

    fn register_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        timeout: Option<Duration>,
    ) -> Result<AckId, UsageError> {
        let max = self.config.max_pending_acks;
        let socket = self
            .sockets
            .get_mut(nsp)
            .ok_or_else(|| UsageError::NotConnected(nsp.to_owned()))?;
        if socket.pending_acks >= max {
            return Err(UsageError::TooManyPendingAcks);
        }
        socket.pending_acks += 1;
        let id = self.next_ack;
        // Ids stay within what 0.9 decoders accept.
        self.next_ack = if id >= wire::MAX_ID { 1 } else { id + 1 };
        let deadline = timeout.map(|t| now + t);
        if let Some(deadline) = deadline {
            self.ack_deadlines.insert((deadline, id));
        }
        self.pending_acks.insert(
            id,
            PendingAck {
                nsp: nsp.to_owned(),
                deadline,
            },
        );
        Ok(id)
    }

    fn ack_request(
        &mut self,
        now: Instant,
        nsp: &str,
        ack: LegacyAck,
    ) -> Result<Option<AckRequest>, UsageError> {
        Ok(match ack {
            LegacyAck::None => None,
            LegacyAck::Auto { timeout } => {
                Some(AckRequest::Auto(self.register_ack(now, nsp, timeout)?))
            }
            LegacyAck::Data { timeout } => {
                Some(AckRequest::Data(self.register_ack(now, nsp, timeout)?))
            }
        })
    }

    fn too_large(&mut self, len: usize) {
        log::warn!("[{}] message of {len} bytes exceeds max_payload", self.sid);
        self.close_with(
            DisconnectReason::TransportError(format!("message of {len} bytes exceeds max_payload")),
            true,
        );
    }

    fn protocol_error(&mut self, error: DecodeError) {
        log::warn!("[{}] malformed 0.9 packet: {error:?}", self.sid);
        self.close_with(
            DisconnectReason::Protocol(ProtocolError::Legacy(error)),
            true,
        );
    }

    fn on_packet(&mut self, now: Instant, packet: Packet) {
        match packet {
            Packet::Disconnect { endpoint } if endpoint.is_empty() => {
                self.push_control(encode(&Packet::Disconnect { endpoint }));
                self.close_with(DisconnectReason::ClientNamespaceDisconnect, false);
            }
            Packet::Disconnect { endpoint } => {
                self.remove_socket(&endpoint, DisconnectReason::ClientNamespaceDisconnect)
            }
            Packet::Connect { endpoint, qs } => self.on_connect(endpoint, qs),
            Packet::Heartbeat => {
                if self.heartbeat_deadline.take().is_some() {
                    self.next_heartbeat = Some(now + self.config.legacy.heartbeat_interval);
                }
            }
            Packet::Message { id, endpoint, data } => self.on_message(
                id,
                &endpoint,
                "message".to_owned(),
                vec![Value::String(data)],
                MessageKind::LegacyMessage,
            ),
            Packet::Json { id, endpoint, data } => self.on_message(
                id,
                &endpoint,
                "json".to_owned(),
                vec![data],
                MessageKind::LegacyJson,
            ),
            Packet::Event {
                id,
                endpoint,
                name,
                args,
            } => self.on_message(id, &endpoint, name, args, MessageKind::Event),
            Packet::Ack { ack_id, args, .. } => self.on_ack(ack_id, args),
            Packet::Error {
                endpoint,
                reason,
                advice,
            } => log::debug!(
                "[{}] client error on {endpoint:?}: {reason:?} {advice:?}",
                self.sid
            ),
            Packet::Noop => {}
        }
    }

    fn on_connect(&mut self, endpoint: String, qs: Option<String>) {
        if endpoint.is_empty() {
            log::debug!("[{}] ignoring a connect for the global endpoint", self.sid);
            return;
        }
        let nsp = endpoint;
        if let Some(socket) = self.sockets.get(&nsp) {
            if socket.state == SocketState::Connected {
                // The reference answers every connect: echo again.
                self.push_control(encode(&Packet::Connect {
                    endpoint: nsp,
                    qs: None,
                }));
            }
            return;
        }
        if !self.config.namespace_allowed(&nsp) || self.sockets.len() >= self.config.max_namespaces
        {
            log::debug!("[{}] refusing endpoint {nsp}", self.sid);
            return self.push_control(unauthorized(&nsp));
        }
        // The connect packet's query, else the handshake's: the 0.9 client's
        // `io.connect("/chat?token=x")` puts the query in the handshake and
        // the reference authorises every endpoint with the handshake data.
        let auth = match qs.as_deref() {
            Some(qs) => Query::parse(qs.strip_prefix('?').unwrap_or(qs)).to_json_object(),
            None => self.handshake_auth(),
        };
        self.sockets.insert(
            nsp.clone(),
            Socket {
                auth: auth.clone(),
                state: SocketState::Pending,
                pending_acks: 0,
                held: Vec::new(),
            },
        );
        self.events.push_back(Event::Connect { nsp, auth });
    }

    fn on_message(
        &mut self,
        id: Option<AckRequest>,
        endpoint: &str,
        name: String,
        args: Vec<Value>,
        kind: MessageKind,
    ) {
        let nsp = nsp_of(endpoint);
        if !self.sockets.contains_key(&nsp) {
            log::debug!("[{}] dropping a packet for {nsp}: not joined", self.sid);
            return;
        }
        if let Some(AckRequest::Auto(id)) = id {
            // Receipt ack, sent before the packet is dispatched (reference).
            let ack = Packet::Ack {
                endpoint: endpoint.to_owned(),
                ack_id: id,
                args: None,
            };
            if !self.push_data(Text::Owned(encode(&ack))) {
                return;
            }
        }
        if is_reserved_event(&name) {
            log::debug!("[{}] ignoring reserved event {name:?}", self.sid);
            return;
        }
        let ack = match id {
            Some(AckRequest::Data(id)) => Some(id),
            _ => None,
        };
        let event = Event::Message {
            nsp: nsp.clone(),
            name,
            args: Args::json(args),
            ack,
            kind,
        };
        let Some(socket) = self.sockets.get_mut(&nsp) else {
            return;
        };
        match socket.state {
            SocketState::Connected => self.events.push_back(event),
            SocketState::Pending if socket.held.len() < MAX_HELD_PACKETS => socket.held.push(event),
            SocketState::Pending => {
                log::warn!("[{}] dropping a packet for pending {nsp}", self.sid)
            }
        }
    }

    fn on_ack(&mut self, id: AckId, args: Option<Vec<Value>>) {
        let Some(pending) = self.pending_acks.remove(&id) else {
            return log::debug!("[{}] dropping ack {id}: unknown or late", self.sid);
        };
        if let Some(deadline) = pending.deadline {
            self.ack_deadlines.remove(&(deadline, id));
        }
        if let Some(socket) = self.sockets.get_mut(&pending.nsp) {
            socket.pending_acks = socket.pending_acks.saturating_sub(1);
        }
        self.events.push_back(Event::AckReceived {
            nsp: pending.nsp,
            id,
            args: Args::json(args.unwrap_or_default()),
        });
    }

    fn remove_socket(&mut self, nsp: &str, reason: DisconnectReason) {
        let Some(socket) = self.sockets.remove(nsp) else {
            return;
        };
        let ids: Vec<AckId> = self
            .pending_acks
            .iter()
            .filter(|(_, p)| p.nsp == nsp)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(PendingAck {
                deadline: Some(deadline),
                ..
            }) = self.pending_acks.remove(&id)
            {
                self.ack_deadlines.remove(&(deadline, id));
            }
        }
        if socket.state == SocketState::Connected {
            self.events.push_back(Event::Disconnected {
                nsp: nsp.to_owned(),
                reason,
            });
        }
    }

    /// Closes the connection: queued packets go out first unless `discard`
    /// (a held GET gets them, or `8::`), sockets end, `Closed` follows.
    fn close_with(&mut self, reason: DisconnectReason, discard: bool) {
        if self.closed {
            return;
        }
        if discard {
            self.queue.clear();
            self.queue_bytes = 0;
        }
        match self.link {
            Link::WebSocket => self.close_pending = true,
            Link::Poll { req, .. } => {
                if self.queue.is_empty() {
                    self.respond_noop(req);
                    self.link = Link::Detached { since: self.clock };
                } else {
                    self.flush();
                }
            }
            Link::Detached { .. } => {}
        }
        let keep_for_next_get = !discard
            && reason == DisconnectReason::ForcedServerClose
            && matches!(self.link, Link::Detached { .. })
            && !self.queue.is_empty();
        if keep_for_next_get {
            // Like the modern polling transport: the server's `0::` waits for
            // the client's next GET (within the close timeout), so the client
            // learns it was disconnected instead of finding its session gone.
            self.final_get_deadline = Some(self.clock + self.config.legacy.close_timeout);
        } else if self.link != Link::WebSocket {
            // Nobody will fetch them.
            self.queue.clear();
            self.queue_bytes = 0;
        }
        self.closed = true;
        for (nsp, socket) in std::mem::take(&mut self.sockets) {
            if socket.state == SocketState::Connected {
                self.events.push_back(Event::Disconnected {
                    nsp,
                    reason: reason.clone(),
                });
            }
        }
        self.pending_acks.clear();
        self.ack_deadlines.clear();
        self.next_heartbeat = None;
        self.heartbeat_deadline = None;
        log::debug!("[{}] closed: {reason}", self.sid);
        self.events.push_back(Event::Closed { reason });
    }
}

/// `7::/chat:2` (`7:::2` for the global endpoint): "unauthorized".
fn unauthorized(nsp: &str) -> String {
    encode(&Packet::Error {
        endpoint: endpoint_of(nsp).to_owned(),
        reason: Some(ErrorReason::Unauthorized),
        advice: None,
    })
}
