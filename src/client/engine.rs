//! The client's Engine.IO session (engine.io-client 6.x's `Socket`, and
//! 3.x's for v3): the transports it asks the driver for, the heartbeat per
//! version, the outbound queue and the upgrade.
//!
//! **Transports.** A session opens over WebSocket (one `OpenWebSocket`) or
//! over polling: a handshake `GET`, then a loop of long-poll `GET`s (one in
//! flight) and `POST`s of queued packets (one in flight, batches cut at the
//! server's `maxPayload`).
//!
//! **Upgrade** (engine.io-protocol v4, *Protocol › Upgrade*): when the open
//! packet offers `websocket`, a WebSocket with the `sid` is opened; it sends
//! `2probe` and expects `3probe`. Then polling pauses: no new request is
//! sent and the in-flight `GET`/`POST` are awaited (the server releases a
//! held `GET` with a noop when it answers the probe). When both are done,
//! `5` goes on the WebSocket, which becomes the transport, and the packets
//! queued meanwhile follow on it in order. Anything else on the candidate
//! (another frame, its close) abandons the upgrade: it is closed and polling
//! resumes.
//!
//! **Heartbeat.**
//! * v4: the server pings; each ping is answered with a pong and re-arms the
//!   deadline `pingInterval + pingTimeout` (also armed by the open packet).
//!   When it passes, the session ends with `ping timeout`. Pongs are ignored.
//! * v3: the client pings `pingInterval` after the open packet and after
//!   each pong, and ends the session with `ping timeout` when no pong
//!   arrives within `pingTimeout` of its ping. Server pings are ignored.
//!
//! **Cache buster.** Polling URLs carry `t=<prefix><counter>`: a prefix
//! drawn once from the injected [`RandomSource`] and a request counter (the
//! reference uses the clock; the core does not read one).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::frame::{Bytes, Frame};
use crate::http::{Method, RequestId, OCTET_STREAM, TEXT_PLAIN};
use crate::rand::{generate_id, RandomSource};
use crate::wire::eio::{self, Data, EngineVersion, OpenPacket, Packet, PacketType};
use crate::wire::payload;

use super::config::{ClientConfig, Transports};
use super::types::{ClientDisconnectReason, ClientProtocolError, ClientTransmit, TransportId};

/// What the session tells the Socket.IO layer.
#[derive(Debug)]
pub(crate) enum EngineEvent {
    /// The open packet arrived.
    Open,
    /// Application data.
    Message(Data<'static>),
    /// The transport is now the WebSocket.
    Upgraded,
    /// The session ended (not after [`ClientEngine::close`]).
    Closed {
        reason: ClientDisconnectReason,
        /// False when it ended before the open packet (a failed attempt).
        was_open: bool,
    },
}

#[derive(Debug)]
enum Transport {
    WebSocket(TransportId),
    Polling {
        get: Option<RequestId>,
        post: Option<RequestId>,
    },
}

#[derive(Debug)]
struct Upgrade {
    ws: TransportId,
    /// `2probe` was sent.
    probing: bool,
    /// `3probe` arrived: polling is paused until its requests finish.
    paused: bool,
}

#[derive(Debug)]
struct Session {
    open: bool,
    sid: Option<String>,
    ping_interval: Duration,
    ping_timeout: Duration,
    max_payload: Option<u64>,
    transport: Transport,
    upgrade: Option<Upgrade>,
    queue: VecDeque<Packet<'static>>,
    /// Until the open packet: the connection timeout.
    open_deadline: Option<Instant>,
    /// v4: the server must ping before this.
    ping_deadline: Option<Instant>,
    /// v3: when to send our next ping.
    next_ping: Option<Instant>,
    /// v3: the pong of our ping must arrive before this.
    pong_deadline: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct ClientEngine {
    config: Arc<ClientConfig>,
    next_transport: TransportId,
    next_request: RequestId,
    cache_prefix: String,
    cache_counter: u64,
    session: Option<Session>,
    pub(crate) transmits: VecDeque<ClientTransmit>,
    pub(crate) events: VecDeque<EngineEvent>,
}

/// Appends `s` percent-encoded like `encodeURIComponent`.
pub(crate) fn push_uri_component(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
}

impl ClientEngine {
    pub(crate) fn new(config: Arc<ClientConfig>, rng: &mut dyn RandomSource) -> Self {
        let mut cache_prefix = generate_id(rng);
        cache_prefix.truncate(7);
        ClientEngine {
            config,
            next_transport: 1,
            next_request: 1,
            cache_prefix,
            cache_counter: 0,
            session: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn version(&self) -> EngineVersion {
        self.config.version
    }

    /// The Socket.IO parser of this client.
    pub(crate) fn parser(&self) -> crate::parser::Parser {
        self.config.parser
    }

    /// True while a session exists (opening or open).
    pub(crate) fn is_active(&self) -> bool {
        self.session.is_some()
    }

    /// True once the open packet arrived.
    pub(crate) fn is_open(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.open)
    }

    /// The server's ping interval, once the open packet arrived.
    pub(crate) fn ping_interval(&self) -> Option<Duration> {
        self.session
            .as_ref()
            .filter(|s| s.open)
            .map(|s| s.ping_interval)
    }

    /// The Engine.IO session id.
    pub(crate) fn sid(&self) -> Option<&str> {
        self.session.as_ref().and_then(|s| s.sid.as_deref())
    }

    /// True when a packet sent now goes out at once (socket.io-client's
    /// `transport.writable`, used for volatile emits).
    pub(crate) fn is_writable(&self) -> bool {
        match &self.session {
            Some(s) if s.open => match s.transport {
                Transport::WebSocket(_) => true,
                Transport::Polling { post, .. } => {
                    post.is_none() && !s.upgrade.as_ref().is_some_and(|u| u.paused)
                }
            },
            _ => false,
        }
    }

    /// True when the transport is a WebSocket.
    pub(crate) fn is_websocket(&self) -> bool {
        matches!(
            self.session.as_ref().map(|s| &s.transport),
            Some(Transport::WebSocket(_))
        )
    }

    fn url(&mut self, websocket: bool, sid: Option<&str>) -> String {
        let scheme = match (websocket, self.config.secure) {
            (true, false) => "ws",
            (true, true) => "wss",
            (false, false) => "http",
            (false, true) => "https",
        };
        let mut url = format!("{scheme}://{}{}?", self.config.authority, self.config.path);
        for (k, v) in &self.config.query {
            push_uri_component(&mut url, k);
            url.push('=');
            push_uri_component(&mut url, v);
            url.push('&');
        }
        url.push_str(match self.version() {
            EngineVersion::V3 => "EIO=3",
            EngineVersion::V4 => "EIO=4",
        });
        url.push_str(if websocket {
            "&transport=websocket"
        } else {
            "&transport=polling"
        });
        if let Some(sid) = sid {
            url.push_str("&sid=");
            push_uri_component(&mut url, sid);
        }
        if !websocket {
            if self.version() == EngineVersion::V3 && !self.config.v3_binary_polling {
                url.push_str("&b64=1");
            }
            self.cache_counter += 1;
            url.push_str("&t=");
            url.push_str(&self.cache_prefix);
            url.push_str(&self.cache_counter.to_string());
        }
        url
    }

    fn new_transport_id(&mut self) -> TransportId {
        let id = self.next_transport;
        self.next_transport += 1;
        id
    }

    fn new_request_id(&mut self) -> RequestId {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    fn open_websocket(&mut self, sid: Option<&str>) -> TransportId {
        let transport = self.new_transport_id();
        let url = self.url(true, sid);
        self.transmits.push_back(ClientTransmit::OpenWebSocket {
            transport,
            url,
            headers: self.config.headers.clone(),
        });
        transport
    }

    fn http(
        &mut self,
        method: Method,
        body: Vec<u8>,
        content_type: Option<&'static str>,
    ) -> RequestId {
        let request = self.new_request_id();
        let sid = self.sid().map(str::to_owned);
        let url = self.url(false, sid.as_deref());
        self.transmits.push_back(ClientTransmit::HttpRequest {
            request,
            method,
            url,
            headers: self.config.headers.clone(),
            body,
            content_type,
        });
        request
    }

    /// Starts a new session (any previous one must be gone).
    pub(crate) fn open(&mut self, now: Instant) {
        let transport = match self.config.transports {
            Transports::WebSocket => Transport::WebSocket(self.open_websocket(None)),
            Transports::Polling | Transports::PollingThenWebSocket => {
                // The handshake GET has no sid yet.
                self.session = None;
                let get = self.http(Method::Get, Vec::new(), None);
                Transport::Polling {
                    get: Some(get),
                    post: None,
                }
            }
        };
        log::debug!("engine: opening a session ({:?})", self.config.transports);
        self.session = Some(Session {
            open: false,
            sid: None,
            ping_interval: Duration::ZERO,
            ping_timeout: Duration::ZERO,
            max_payload: None,
            transport,
            upgrade: None,
            queue: VecDeque::new(),
            open_deadline: Some(now + self.config.timeout),
            ping_deadline: None,
            next_ping: None,
            pong_deadline: None,
        });
    }

    /// Closes the session at the client's request: a close packet goes out
    /// (after what is queued), then the transports close. No event follows.
    pub(crate) fn close(&mut self) {
        let Some(mut session) = self.session.take() else {
            return;
        };
        if let Some(up) = session.upgrade.take() {
            self.transmits
                .push_back(ClientTransmit::CloseWebSocket { transport: up.ws });
        }
        match session.transport {
            Transport::WebSocket(ws) => {
                if session.open {
                    session.queue.push_back(Packet::bare(PacketType::Close));
                    for packet in session.queue.drain(..) {
                        let frame = ws_frame(self.config.version, &packet);
                        self.transmits.push_back(ClientTransmit::WsFrame {
                            transport: ws,
                            frame,
                        });
                    }
                }
                self.transmits
                    .push_back(ClientTransmit::CloseWebSocket { transport: ws });
            }
            Transport::Polling { .. } => {
                if session.open {
                    session.queue.push_back(Packet::bare(PacketType::Close));
                    let packets: Vec<_> = session.queue.drain(..).collect();
                    let (body, content_type) = self.encode_payload(&packets);
                    // The sid is needed in the URL: put the session back for it.
                    self.session = Some(session);
                    self.http(Method::Post, body, Some(content_type));
                    self.session = None;
                }
            }
        }
    }

    /// Ends the session because of `reason` (no close packet).
    pub(crate) fn fail(&mut self, reason: ClientDisconnectReason) {
        let Some(session) = self.session.take() else {
            return;
        };
        log::debug!("engine: session {:?} closed: {reason}", session.sid);
        if let Some(up) = session.upgrade {
            self.transmits
                .push_back(ClientTransmit::CloseWebSocket { transport: up.ws });
        }
        if let Transport::WebSocket(ws) = session.transport {
            self.transmits
                .push_back(ClientTransmit::CloseWebSocket { transport: ws });
        }
        self.events.push_back(EngineEvent::Closed {
            reason,
            was_open: session.open,
        });
    }

    fn protocol_error(&mut self, e: ClientProtocolError) {
        log::warn!("engine: the server broke the protocol: {e}");
        self.fail(ClientDisconnectReason::ParseError(e));
    }

    /// Queues one packet and sends what the transport allows.
    pub(crate) fn send(&mut self, packet: Packet<'static>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        session.queue.push_back(packet);
        self.flush();
    }

    fn flush(&mut self) {
        let version = self.config.version;
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if !session.open || session.queue.is_empty() {
            return;
        }
        match session.transport {
            Transport::WebSocket(ws) => {
                for packet in session.queue.drain(..) {
                    let frame = ws_frame(version, &packet);
                    self.transmits.push_back(ClientTransmit::WsFrame {
                        transport: ws,
                        frame,
                    });
                }
            }
            Transport::Polling { post: Some(_), .. } => {}
            Transport::Polling { post: None, .. } => {
                if session.upgrade.as_ref().is_some_and(|u| u.paused) {
                    return;
                }
                let batch = take_batch(version, &mut session.queue, session.max_payload);
                let (body, content_type) = self.encode_payload(&batch);
                let request = self.http(Method::Post, body, Some(content_type));
                if let Some(Session {
                    transport: Transport::Polling { post, .. },
                    ..
                }) = self.session.as_mut()
                {
                    *post = Some(request);
                }
            }
        }
    }

    fn encode_payload(&self, packets: &[Packet<'static>]) -> (Vec<u8>, &'static str) {
        match self.config.version {
            EngineVersion::V4 => {
                let mut out = String::new();
                payload::encode_v4(packets, &mut out);
                (out.into_bytes(), TEXT_PLAIN)
            }
            EngineVersion::V3 => {
                let binary = packets.iter().any(|p| matches!(p.data, Data::Binary(_)));
                if binary && self.config.v3_binary_polling {
                    let mut out = Vec::new();
                    payload::encode_v3_binary(packets, &mut out);
                    (out, OCTET_STREAM)
                } else {
                    let mut out = String::new();
                    payload::encode_v3_text(packets, &mut out);
                    (out.into_bytes(), TEXT_PLAIN)
                }
            }
        }
    }

    // ---- input ----------------------------------------------------------

    fn main_ws(&self) -> Option<TransportId> {
        match self.session.as_ref()?.transport {
            Transport::WebSocket(ws) => Some(ws),
            Transport::Polling { .. } => None,
        }
    }

    fn upgrade_ws(&self) -> Option<TransportId> {
        self.session.as_ref()?.upgrade.as_ref().map(|u| u.ws)
    }

    pub(crate) fn handle_ws_opened(&mut self, transport: TransportId) {
        if self.upgrade_ws() == Some(transport) {
            log::debug!("engine: probing the WebSocket upgrade");
            if let Some(up) = self.session.as_mut().and_then(|s| s.upgrade.as_mut()) {
                up.probing = true;
            }
            self.transmits.push_back(ClientTransmit::WsFrame {
                transport,
                frame: Frame::text("2probe".to_owned()),
            });
        }
    }

    pub(crate) fn handle_ws_text(&mut self, now: Instant, transport: TransportId, text: &str) {
        if self.upgrade_ws() == Some(transport) {
            let probed = self
                .session
                .as_ref()
                .and_then(|s| s.upgrade.as_ref())
                .is_some_and(|u| u.probing && !u.paused);
            if probed && text == "3probe" {
                if let Some(up) = self.session.as_mut().and_then(|s| s.upgrade.as_mut()) {
                    up.paused = true;
                }
                self.finish_upgrade_if_drained();
            } else {
                log::debug!("engine: unexpected {text:?} on the probe; staying on polling");
                self.abort_upgrade();
            }
            return;
        }
        if self.main_ws() != Some(transport) {
            return;
        }
        if text.len() > self.config.max_payload {
            return self.protocol_error(ClientProtocolError::PayloadTooLarge(text.len()));
        }
        match eio::decode_text(self.config.version, text) {
            Ok(packet) => self.on_packet(now, packet.into_owned()),
            Err(e) => self.protocol_error(ClientProtocolError::Engine(e)),
        }
    }

    pub(crate) fn handle_ws_binary(&mut self, now: Instant, transport: TransportId, data: &[u8]) {
        if self.upgrade_ws() == Some(transport) {
            return self.abort_upgrade();
        }
        if self.main_ws() != Some(transport) {
            return;
        }
        if data.len() > self.config.max_payload {
            return self.protocol_error(ClientProtocolError::PayloadTooLarge(data.len()));
        }
        match eio::decode_binary(self.config.version, data) {
            Ok(packet) => self.on_packet(now, packet.into_owned()),
            Err(e) => self.protocol_error(ClientProtocolError::Engine(e)),
        }
    }

    pub(crate) fn handle_ws_closed(&mut self, transport: TransportId) {
        if self.upgrade_ws() == Some(transport) {
            log::debug!("engine: the probe WebSocket closed; staying on polling");
            if let Some(s) = self.session.as_mut() {
                s.upgrade = None;
            }
            return self.resume_polling();
        }
        if self.main_ws() == Some(transport) {
            // The driver reported the close: nothing left to close.
            if let Some(s) = self.session.as_mut() {
                s.transport = Transport::Polling {
                    get: None,
                    post: None,
                };
            }
            self.fail(ClientDisconnectReason::TransportClose);
        }
    }

    /// `Some(true)` for our GET, `Some(false)` for our POST.
    fn request_kind(&self, request: RequestId) -> Option<bool> {
        match self.session.as_ref()?.transport {
            Transport::Polling { get, .. } if get == Some(request) => Some(true),
            Transport::Polling { post, .. } if post == Some(request) => Some(false),
            _ => None,
        }
    }

    fn clear_request(&mut self, request: RequestId) {
        if let Some(Session {
            transport: Transport::Polling { get, post },
            ..
        }) = self.session.as_mut()
        {
            if *get == Some(request) {
                *get = None;
            }
            if *post == Some(request) {
                *post = None;
            }
        }
    }

    pub(crate) fn handle_http_response(
        &mut self,
        now: Instant,
        request: RequestId,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) {
        let Some(is_get) = self.request_kind(request) else {
            return;
        };
        self.clear_request(request);
        if status != 200 {
            let what = if is_get { "poll" } else { "post" };
            return self.fail(ClientDisconnectReason::TransportError(format!(
                "{what} answered HTTP {status}"
            )));
        }
        if !is_get {
            self.flush();
            return self.finish_upgrade_if_drained();
        }
        if body.len() > self.config.max_payload {
            return self.protocol_error(ClientProtocolError::PayloadTooLarge(body.len()));
        }
        let binary = content_type.is_some_and(|t| t.starts_with(OCTET_STREAM));
        let packets = match payload::decode(self.config.version, body, binary) {
            Ok(packets) => packets,
            Err(e) => return self.protocol_error(ClientProtocolError::Engine(e)),
        };
        for packet in packets {
            self.on_packet(now, packet.into_owned());
            if !self.is_active() {
                return;
            }
        }
        self.resume_polling();
    }

    pub(crate) fn handle_http_failed(&mut self, request: RequestId) {
        let Some(is_get) = self.request_kind(request) else {
            return;
        };
        self.clear_request(request);
        let what = if is_get { "poll" } else { "post" };
        self.fail(ClientDisconnectReason::TransportError(format!(
            "{what} request failed"
        )));
    }

    /// After a GET: the next long-poll, unless paused for an upgrade.
    fn resume_polling(&mut self) {
        let Some(session) = self.session.as_ref() else {
            return;
        };
        if !session.open {
            return;
        }
        if session.upgrade.as_ref().is_some_and(|u| u.paused) {
            return self.finish_upgrade_if_drained();
        }
        if let Transport::Polling { get: None, .. } = session.transport {
            let request = self.http(Method::Get, Vec::new(), None);
            if let Some(Session {
                transport: Transport::Polling { get, .. },
                ..
            }) = self.session.as_mut()
            {
                *get = Some(request);
            }
        }
        self.flush();
    }

    fn abort_upgrade(&mut self) {
        let Some(up) = self.session.as_mut().and_then(|s| s.upgrade.take()) else {
            return;
        };
        self.transmits
            .push_back(ClientTransmit::CloseWebSocket { transport: up.ws });
        self.resume_polling();
    }

    fn finish_upgrade_if_drained(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let drained = matches!(
            session.transport,
            Transport::Polling {
                get: None,
                post: None
            }
        );
        let Some(up) = session.upgrade.as_ref().filter(|u| u.paused && drained) else {
            return;
        };
        let ws = up.ws;
        session.upgrade = None;
        session.transport = Transport::WebSocket(ws);
        log::debug!("engine: upgraded to WebSocket");
        self.transmits.push_back(ClientTransmit::WsFrame {
            transport: ws,
            frame: Frame::text("5".to_owned()),
        });
        self.events.push_back(EngineEvent::Upgraded);
        self.flush();
    }

    fn on_packet(&mut self, now: Instant, packet: Packet<'static>) {
        let version = self.config.version;
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if !session.open {
            if packet.kind != PacketType::Open {
                return self.protocol_error(ClientProtocolError::MissingOpen);
            }
            let Data::Text(json) = &packet.data else {
                return self.protocol_error(ClientProtocolError::MissingOpen);
            };
            let open = match OpenPacket::decode_json(json) {
                Ok(open) => open,
                Err(e) => return self.protocol_error(ClientProtocolError::Open(e)),
            };
            session.open = true;
            session.open_deadline = None;
            session.sid = Some(open.sid.clone());
            session.ping_interval = Duration::from_millis(open.ping_interval);
            session.ping_timeout = Duration::from_millis(open.ping_timeout);
            session.max_payload = open.max_payload;
            match version {
                EngineVersion::V4 => {
                    session.ping_deadline = Some(now + session.ping_interval + session.ping_timeout)
                }
                EngineVersion::V3 => session.next_ping = Some(now + session.ping_interval),
            }
            let upgrade = matches!(session.transport, Transport::Polling { .. })
                && self.config.transports == Transports::PollingThenWebSocket
                && open.upgrades.iter().any(|u| u == "websocket");
            log::debug!("engine: session {} open", open.sid);
            self.events.push_back(EngineEvent::Open);
            if upgrade {
                let ws = self.open_websocket(Some(&open.sid));
                if let Some(s) = self.session.as_mut() {
                    s.upgrade = Some(Upgrade {
                        ws,
                        probing: false,
                        paused: false,
                    });
                }
            }
            return;
        }
        match packet.kind {
            PacketType::Open => self.protocol_error(ClientProtocolError::UnexpectedOpen),
            PacketType::Close => self.fail(ClientDisconnectReason::TransportClose),
            PacketType::Ping => {
                if version == EngineVersion::V4 {
                    session.ping_deadline =
                        Some(now + session.ping_interval + session.ping_timeout);
                    let pong = match packet.data {
                        Data::Text(t) => Packet::text(PacketType::Pong, t),
                        Data::Binary(_) => Packet::bare(PacketType::Pong),
                    };
                    self.send(pong);
                } else {
                    log::debug!("engine: ignoring a ping from a v3 server");
                }
            }
            PacketType::Pong => {
                if version == EngineVersion::V3 && session.pong_deadline.is_some() {
                    session.pong_deadline = None;
                    session.next_ping = Some(now + session.ping_interval);
                }
            }
            PacketType::Message => self.events.push_back(EngineEvent::Message(packet.data)),
            PacketType::Upgrade | PacketType::Noop => {}
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if session.open_deadline.is_some_and(|d| now >= d) {
            return self.fail(ClientDisconnectReason::Timeout);
        }
        if session.ping_deadline.is_some_and(|d| now >= d)
            || session.pong_deadline.is_some_and(|d| now >= d)
        {
            return self.fail(ClientDisconnectReason::PingTimeout);
        }
        if session.next_ping.is_some_and(|d| now >= d) {
            session.next_ping = None;
            session.pong_deadline = Some(now + session.ping_timeout);
            self.send(Packet::bare(PacketType::Ping));
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let s = self.session.as_ref()?;
        [
            s.open_deadline,
            s.ping_deadline,
            s.next_ping,
            s.pong_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The WebSocket message for one packet.
fn ws_frame(version: EngineVersion, packet: &Packet<'_>) -> Frame {
    match &packet.data {
        Data::Text(_) => {
            let mut out = String::new();
            eio::encode_text(version, packet, &mut out);
            Frame::text(out)
        }
        Data::Binary(bytes) => {
            let mut out = Vec::new();
            eio::encode_binary_frame(version, packet.kind, bytes, &mut out);
            Frame::Binary(Bytes::Owned(out))
        }
    }
}

/// Takes the packets of one POST: all of them, or (when the server sent
/// `maxPayload`) as many as fit, at least one.
fn take_batch(
    version: EngineVersion,
    queue: &mut VecDeque<Packet<'static>>,
    max_payload: Option<u64>,
) -> Vec<Packet<'static>> {
    let Some(max) = max_payload else {
        return queue.drain(..).collect();
    };
    let mut size = 0u64;
    let mut count = 0;
    for packet in queue.iter() {
        let mut out = String::new();
        eio::encode_text(version, packet, &mut out);
        size += out.len() as u64 + 2;
        if count > 0 && size > max {
            break;
        }
        count += 1;
    }
    queue.drain(..count).collect()
}
