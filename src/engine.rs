//! The Engine.IO session of one connection: transports, heartbeat per
//! version, the outbound queues, and closing.
//!
//! **Transports.** A session opened over WebSocket stays there. A session
//! opened by a polling handshake keeps its outbound packets until a GET takes
//! them all (at most one GET is held at a time), and may upgrade:
//! `2probe` on the candidate WebSocket → `3probe` (and a held GET is released
//! with a noop), then `5` switches, and every packet still queued moves to
//! the WebSocket in order. Any other packet on the candidate, its close, or
//! [`crate::Config::upgrade_timeout`] abandons the upgrade; the session stays
//! on polling (engine.io-protocol v4, *Transports › HTTP long-polling* and
//! *Protocol › Upgrade*; v3, *Transport upgrading*).
//!
//! **Heartbeat** (engine.io-protocol v4, *Protocol › Heartbeat*; v3,
//! *Timeouts*; timers as the engine.io 6.x server runs them):
//! * v4: the server pings `pingInterval` after the open packet and after each
//!   pong; a pong must arrive within `pingTimeout` of the ping. A ping from
//!   the client is a wrong-direction heartbeat and closes the session
//!   (reference 6.x); an unsolicited pong is ignored.
//! * v3: the client pings, the server answers `3` at once; the session closes
//!   when no ping arrives for `pingInterval + pingTimeout` (only a ping
//!   restarts that timer, as in the reference 6.x; unlike the reference, the
//!   timer survives an upgrade, so an upgraded v3 session is never left
//!   without one). A pong from the client closes the session (reference
//!   6.x; engine.io 3.x ignored it).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::error::DisconnectReason;
use crate::frame::{Bytes, Frame};
use crate::http::{HttpResponse, RequestId, OCTET_STREAM, TEXT_PLAIN};
use crate::wire::eio::{self, EngineVersion, OpenPacket, Packet, PacketType};
use crate::wire::payload;

/// How long a gracefully closed polling session waits for the GET that
/// delivers its last packets (reference: 30 s).
const CLOSE_GRACE: Duration = Duration::from_secs(30);

/// What the WebSocket transport must do next for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Send this frame.
    Frame(Frame),
    /// Close the WebSocket (after the frames before it were sent). For an
    /// abandoned upgrade this closes only the candidate WebSocket; the
    /// session goes on over polling.
    Close,
}

/// What an inbound Engine.IO packet means for the layer above.
#[derive(Debug)]
pub(crate) enum Inbound<'a> {
    /// Application data for Socket.IO.
    Message(eio::Data<'a>),
    /// Handled inside the engine (heartbeat, noop...).
    Nothing,
    /// The session must close.
    Close(DisconnectReason),
}

/// How a session closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseMode {
    /// Deliver what is queued, then the close (a held GET gets it now, or the
    /// next GET within [`CLOSE_GRACE`] of the given instant).
    Graceful(Instant),
    /// Drop what is queued; a held GET gets the close packet.
    Discard,
    /// The client closed; a held GET is released with a noop (reference).
    ClientClosed,
}

#[derive(Debug)]
enum Heartbeat {
    /// v4: when to send the next ping, and the deadline for the pong of the
    /// ping in flight.
    ServerPings {
        next_ping: Instant,
        pong_deadline: Option<Instant>,
    },
    /// v3: the client must ping before this deadline.
    ClientPings { deadline: Instant },
}

#[derive(Debug)]
struct Upgrade {
    deadline: Instant,
    probed: bool,
}

#[derive(Debug)]
enum Transport {
    WebSocket,
    Polling {
        held_get: Option<RequestId>,
        /// v3 `b64`: binary goes as base64 text, never as an XHR2 body.
        b64: bool,
        upgrade: Option<Upgrade>,
    },
}

/// Where the transport stands, for the layers above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// WebSocket (opened directly, or upgraded to).
    WebSocket,
    /// HTTP long-polling.
    Polling,
    /// Polling, with a WebSocket upgrade in progress.
    Upgrading,
}

#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) sid: String,
    pub(crate) version: EngineVersion,
    config: Arc<Config>,
    heartbeat: Heartbeat,
    transport: Transport,
    /// Frames for the WebSocket (all packets in WebSocket mode; only the
    /// probe answer and the candidate's close while upgrading).
    ws_out: VecDeque<Transmit>,
    /// Packets waiting for a GET (polling and upgrading).
    packets: VecDeque<Frame>,
    outbound_bytes: usize,
    http_out: VecDeque<(RequestId, HttpResponse)>,
    closed: bool,
    /// A gracefully closed polling session waits this long for its last GET.
    final_get_deadline: Option<Instant>,
    /// The POST the host has started to read (head received, body still
    /// arriving) and not yet handed over whole.
    post_in_flight: Option<RequestId>,
}

impl Engine {
    fn new(
        now: Instant,
        sid: String,
        version: EngineVersion,
        config: Arc<Config>,
        transport: Transport,
    ) -> Self {
        let heartbeat = match version {
            EngineVersion::V4 => Heartbeat::ServerPings {
                next_ping: now + config.ping_interval,
                pong_deadline: None,
            },
            EngineVersion::V3 => Heartbeat::ClientPings {
                deadline: now + config.ping_interval + config.ping_timeout,
            },
        };
        Engine {
            sid,
            version,
            config,
            heartbeat,
            transport,
            ws_out: VecDeque::new(),
            packets: VecDeque::new(),
            outbound_bytes: 0,
            http_out: VecDeque::new(),
            closed: false,
            final_get_deadline: None,
            post_in_flight: None,
        }
    }

    /// A session opened directly over WebSocket: queues the open packet.
    pub(crate) fn new_websocket(
        now: Instant,
        sid: String,
        version: EngineVersion,
        config: Arc<Config>,
    ) -> Self {
        let mut engine = Self::new(now, sid, version, config, Transport::WebSocket);
        let open = engine.open_packet(Vec::new());
        engine.push(Frame::text(open));
        engine
    }

    /// A session opened by a polling handshake GET: answers `req` with the
    /// open packet (`upgrades: ["websocket"]`).
    pub(crate) fn new_polling(
        now: Instant,
        sid: String,
        version: EngineVersion,
        config: Arc<Config>,
        b64: bool,
        req: RequestId,
    ) -> Self {
        let transport = Transport::Polling {
            held_get: Some(req),
            b64,
            upgrade: None,
        };
        let mut engine = Self::new(now, sid, version, config, transport);
        let open = engine.open_packet(vec!["websocket".to_owned()]);
        engine.push(Frame::text(open));
        engine
    }

    fn open_packet(&self, upgrades: Vec<String>) -> String {
        let open = OpenPacket {
            sid: self.sid.clone(),
            upgrades,
            ping_interval: self.config.ping_interval.as_millis() as u64,
            ping_timeout: self.config.ping_timeout.as_millis() as u64,
            max_payload: match self.version {
                EngineVersion::V3 if !self.config.max_payload_in_v3_handshake => None,
                _ => Some(self.config.max_payload as u64),
            },
        };
        let mut text = String::with_capacity(128);
        text.push('0');
        open.encode_json(&mut text);
        text
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// True once closed and nothing is left to deliver: the session can go.
    pub(crate) fn is_finished(&self) -> bool {
        if !self.closed || !self.ws_out.is_empty() || !self.http_out.is_empty() {
            return false;
        }
        match &self.transport {
            Transport::WebSocket => true,
            Transport::Polling { held_get, .. } => {
                held_get.is_none() && (self.packets.is_empty() || self.final_get_deadline.is_none())
            }
        }
    }

    pub(crate) fn transport(&self) -> TransportKind {
        match &self.transport {
            Transport::WebSocket => TransportKind::WebSocket,
            Transport::Polling { upgrade: None, .. } => TransportKind::Polling,
            Transport::Polling {
                upgrade: Some(_), ..
            } => TransportKind::Upgrading,
        }
    }

    /// Bytes queued and not yet taken by the transport.
    pub(crate) fn outbound_bytes(&self) -> usize {
        self.outbound_bytes
    }

    /// True if an HTTP response is ready (or a held GET can be answered).
    pub(crate) fn has_http_output(&self) -> bool {
        !self.http_out.is_empty()
            || matches!(&self.transport, Transport::Polling { held_get: Some(_), .. } if !self.packets.is_empty())
    }

    /// True if WebSocket frames are waiting for `poll_transmit`.
    pub(crate) fn has_ws_output(&self) -> bool {
        !self.ws_out.is_empty()
    }

    /// Frees the capacity of the outbound queues that are empty: a queue
    /// keeps the capacity of its largest burst, which an idle session
    /// would otherwise hold for its lifetime.
    pub(crate) fn release_idle_queues(&mut self) {
        if self.ws_out.is_empty() {
            self.ws_out = VecDeque::new();
        }
        if self.packets.is_empty() {
            self.packets = VecDeque::new();
        }
        if self.http_out.is_empty() {
            self.http_out = VecDeque::new();
        }
    }

    /// Queues one packet frame on the current transport (no limit check).
    fn push(&mut self, frame: Frame) {
        self.outbound_bytes += frame.len();
        match self.transport {
            Transport::WebSocket => self.ws_out.push_back(Transmit::Frame(frame)),
            Transport::Polling { .. } => self.packets.push_back(frame),
        }
    }

    /// Queues a WebSocket control frame (probe answer), whatever the transport.
    fn push_ws(&mut self, frame: Frame) {
        self.outbound_bytes += frame.len();
        self.ws_out.push_back(Transmit::Frame(frame));
    }

    /// Queues frames of one packet, or reports that the outbound limit would
    /// be exceeded (the caller then closes the connection).
    pub(crate) fn queue(
        &mut self,
        frames: impl IntoIterator<Item = Frame>,
    ) -> Result<(), DisconnectReason> {
        if self.closed {
            return Ok(());
        }
        for frame in frames {
            if self.outbound_bytes + frame.len() > self.config.max_outbound_bytes {
                return Err(DisconnectReason::OutboundQueueFull);
            }
            self.push(frame);
        }
        Ok(())
    }

    /// True when a volatile packet may be sent: the transport can take it now.
    pub(crate) fn is_writable(&self) -> bool {
        if self.closed {
            return false;
        }
        match &self.transport {
            Transport::WebSocket => self.ws_out.is_empty(),
            Transport::Polling { held_get, .. } => held_get.is_some() && self.packets.is_empty(),
        }
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.ws_out.pop_front()?;
        if let Transmit::Frame(f) = &t {
            self.outbound_bytes -= f.len();
        }
        Some(t)
    }

    /// The next HTTP response; a held GET is answered here when packets wait.
    pub(crate) fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        self.flush_polling();
        self.http_out.pop_front()
    }

    // ---- polling ---------------------------------------------------------

    /// A long-poll GET. A second GET while one is held is a protocol error:
    /// the new one gets 400, the held one the close packet, and the session
    /// closes (the caller gets `Err` and closes the layers above).
    pub(crate) fn handle_poll_get(
        &mut self,
        now: Instant,
        req: RequestId,
    ) -> Result<(), DisconnectReason> {
        let _ = now;
        let probed =
            matches!(&self.transport, Transport::Polling { upgrade: Some(u), .. } if u.probed);
        let Transport::Polling { held_get, .. } = &mut self.transport else {
            self.http_out.push_back((req, bad_request()));
            return Ok(());
        };
        if self.closed && self.packets.is_empty() {
            // Nothing left to deliver (e.g. a GET racing the client's close
            // packet): the session is gone, as for a POST. Holding the GET
            // would leave it unanswered and the session never released.
            self.http_out.push_back((
                req,
                crate::server::Rejection::SESSION_ID_UNKNOWN.to_response(),
            ));
            return Ok(());
        }
        if held_get.is_some() {
            self.http_out.push_back((req, HttpResponse::empty(400)));
            return Err(DisconnectReason::TransportError(
                "overlapping GET requests".into(),
            ));
        }
        *held_get = Some(req);
        if self.closed {
            // The last GET of a gracefully closed session.
            self.flush_polling();
        } else if probed && self.packets.is_empty() {
            // The client is about to switch transports: release it at once.
            self.release_held_get_with_noop();
        }
        Ok(())
    }

    /// A POST for this session begins (its body may still be arriving).
    /// Another POST still in flight is the reference's "data request
    /// overlap from client": `Err`, the caller refuses this one (400) and
    /// closes the session.
    pub(crate) fn begin_post(&mut self, req: RequestId) -> Result<(), DisconnectReason> {
        match self.post_in_flight {
            Some(other) if other != req => Err(DisconnectReason::TransportError(
                "data request overlap from client".into(),
            )),
            _ => {
                self.post_in_flight = Some(req);
                Ok(())
            }
        }
    }

    /// The POST `req` is over (answered, or its connection lost); true if
    /// it was the one in flight.
    pub(crate) fn end_post(&mut self, req: RequestId) -> bool {
        if self.post_in_flight == Some(req) {
            self.post_in_flight = None;
            return true;
        }
        false
    }

    /// Answers the held GET with everything queued.
    fn flush_polling(&mut self) {
        let Transport::Polling { held_get, b64, .. } = &mut self.transport else {
            return;
        };
        if self.packets.is_empty() {
            return;
        }
        let Some(req) = held_get.take() else { return };
        let b64 = *b64;
        // At most `max_packets_per_poll` packets; the rest wait for the next GET.
        let take = self
            .config
            .max_packets_per_poll
            .map_or(self.packets.len(), |max| max.min(self.packets.len()));
        let frames: Vec<Frame> = self.packets.drain(..take).collect();
        self.outbound_bytes -= frames.iter().map(Frame::len).sum::<usize>();
        let response = encode_poll_response(self.version, b64, &frames);
        self.http_out.push_back((req, response));
        if self.closed && self.packets.is_empty() {
            self.final_get_deadline = None;
        }
    }

    fn release_held_get_with_noop(&mut self) {
        if let Transport::Polling { held_get, .. } = &mut self.transport {
            if let Some(req) = held_get.take() {
                let noop = [Frame::text("6".to_owned())];
                self.http_out
                    .push_back((req, encode_poll_response(self.version, true, &noop)));
            }
        }
    }

    /// A POST body was decoded; answers it with 200 `ok` (also when its
    /// packets turn out to be invalid: the reference answers `ok` and closes).
    pub(crate) fn answer_post(&mut self, req: RequestId, response: HttpResponse) {
        self.http_out.push_back((req, response));
    }

    // ---- upgrade ---------------------------------------------------------

    /// A WebSocket arrived with this session's sid: start the upgrade.
    pub(crate) fn start_upgrade(&mut self, now: Instant) -> bool {
        if self.closed {
            return false;
        }
        match &mut self.transport {
            Transport::Polling {
                upgrade: upgrade @ None,
                ..
            } => {
                *upgrade = Some(Upgrade {
                    deadline: now + self.config.upgrade_timeout,
                    probed: false,
                });
                true
            }
            _ => false,
        }
    }

    /// A packet on the candidate WebSocket during an upgrade.
    pub(crate) fn on_upgrade_packet(&mut self, packet: Packet<'_>) {
        let is_probe = packet.kind == PacketType::Ping
            && matches!(&packet.data, eio::Data::Text(t) if t == "probe");
        if is_probe {
            if let Transport::Polling {
                upgrade: Some(u), ..
            } = &mut self.transport
            {
                u.probed = true;
            }
            let answer = Frame::text("3probe".to_owned());
            if self.outbound_bytes + answer.len() > self.config.max_outbound_bytes {
                // Probes repeated without reading the answers: the
                // candidate goes, the session stays on polling.
                log::debug!("[{}] probe answers over the outbound limit", self.sid);
                return self.abandon_upgrade(true);
            }
            self.push_ws(answer);
            if self.packets.is_empty() {
                self.release_held_get_with_noop();
            }
            return;
        }
        if packet.kind == PacketType::Upgrade {
            return self.complete_upgrade();
        }
        log::debug!(
            "[{}] {:?} packet on the upgrade candidate: abandoning the upgrade",
            self.sid,
            packet.kind
        );
        self.abandon_upgrade(true);
    }

    fn complete_upgrade(&mut self) {
        log::debug!("[{}] upgraded to websocket", self.sid);
        // A GET still held gets a noop: the client has paused polling, and
        // the packets queued for it move to the WebSocket, in order.
        self.release_held_get_with_noop();
        self.transport = Transport::WebSocket;
        for frame in std::mem::take(&mut self.packets) {
            self.ws_out.push_back(Transmit::Frame(frame));
        }
    }

    /// Drops the candidate WebSocket; with `close_it`, tells the host to close it.
    pub(crate) fn abandon_upgrade(&mut self, close_it: bool) {
        if let Transport::Polling { upgrade, .. } = &mut self.transport {
            if upgrade.take().is_some() && close_it {
                self.ws_out.push_back(Transmit::Close);
            }
        }
    }

    // ---- packets and timers ----------------------------------------------

    /// Interprets one inbound Engine.IO packet (from the WebSocket or a POST).
    pub(crate) fn on_packet<'a>(&mut self, now: Instant, packet: Packet<'a>) -> Inbound<'a> {
        match packet.kind {
            PacketType::Message => Inbound::Message(packet.data),
            PacketType::Ping => match &mut self.heartbeat {
                Heartbeat::ClientPings { deadline } => {
                    *deadline = now + self.config.ping_interval + self.config.ping_timeout;
                    // A probe outside an upgrade is answered with a bare pong (reference).
                    // Pongs count toward the outbound limit: a client that
                    // pings without reading must not grow the queue for ever.
                    let pong = Frame::text("3".to_owned());
                    if self.outbound_bytes + pong.len() > self.config.max_outbound_bytes {
                        return Inbound::Close(DisconnectReason::OutboundQueueFull);
                    }
                    self.push(pong);
                    Inbound::Nothing
                }
                Heartbeat::ServerPings { .. } => Inbound::Close(DisconnectReason::TransportError(
                    "invalid heartbeat direction".into(),
                )),
            },
            PacketType::Pong => match &mut self.heartbeat {
                Heartbeat::ServerPings {
                    next_ping,
                    pong_deadline,
                } => {
                    if pong_deadline.take().is_some() {
                        *next_ping = now + self.config.ping_interval;
                        // A heartbeat answered: a quiet moment to give back
                        // the queues' memory (an idle session keeps none).
                        self.release_idle_queues();
                    }
                    Inbound::Nothing
                }
                Heartbeat::ClientPings { .. } => Inbound::Close(DisconnectReason::TransportError(
                    "invalid heartbeat direction".into(),
                )),
            },
            PacketType::Close => Inbound::Close(DisconnectReason::TransportClose),
            // An upgrade packet outside an upgrade is dropped; noop and a
            // client's open packet carry nothing (the reference ignores them).
            PacketType::Upgrade | PacketType::Noop | PacketType::Open => {
                log::debug!("[{}] ignoring Engine.IO {:?} packet", self.sid, packet.kind);
                Inbound::Nothing
            }
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return self.final_get_deadline;
        }
        let heartbeat = match self.heartbeat {
            Heartbeat::ServerPings {
                next_ping,
                pong_deadline,
            } => pong_deadline.unwrap_or(next_ping),
            Heartbeat::ClientPings { deadline } => deadline,
        };
        let upgrade = match &self.transport {
            Transport::Polling {
                upgrade: Some(u), ..
            } => Some(u.deadline),
            _ => None,
        };
        Some(upgrade.map_or(heartbeat, |u| u.min(heartbeat)))
    }

    /// Fires the timers that are due; `Some` when the session must close.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<DisconnectReason> {
        if self.closed {
            if self.final_get_deadline.is_some_and(|d| now >= d) {
                // Nobody came for the last packets.
                let bytes: usize = self.packets.drain(..).map(|f| f.len()).sum();
                self.outbound_bytes -= bytes;
                self.final_get_deadline = None;
            }
            return None;
        }
        if let Transport::Polling {
            upgrade: Some(u), ..
        } = &self.transport
        {
            if now >= u.deadline {
                log::debug!("[{}] upgrade timed out", self.sid);
                self.abandon_upgrade(true);
            }
        }
        match &mut self.heartbeat {
            Heartbeat::ServerPings {
                next_ping,
                pong_deadline,
            } => match *pong_deadline {
                Some(deadline) if now >= deadline => Some(DisconnectReason::PingTimeout),
                Some(_) => None,
                None if now >= *next_ping => {
                    *pong_deadline = Some(now + self.config.ping_timeout);
                    let ping = Frame::text("2".to_owned());
                    if self.outbound_bytes + ping.len() > self.config.max_outbound_bytes {
                        return Some(DisconnectReason::OutboundQueueFull);
                    }
                    self.push(ping);
                    None
                }
                None => None,
            },
            Heartbeat::ClientPings { deadline } => {
                (now >= *deadline).then_some(DisconnectReason::PingTimeout)
            }
        }
    }

    /// Marks the session closed; see [`CloseMode`].
    pub(crate) fn close(&mut self, mode: CloseMode) {
        if self.closed {
            return;
        }
        self.closed = true;
        let polling = matches!(self.transport, Transport::Polling { .. });
        if polling
            && matches!(mode, CloseMode::Graceful(_))
            && self.outbound_bytes + 1 > self.config.max_outbound_bytes
        {
            // The close packet must fit in the outbound limit too: the
            // packets of a full queue are dropped for it (the next GET
            // still gets the close).
            let dropped: usize = self.packets.drain(..).map(|f| f.len()).sum();
            self.outbound_bytes -= dropped;
        }
        if !matches!(mode, CloseMode::Graceful(_)) {
            let dropped: usize = self.packets.drain(..).map(|f| f.len()).sum::<usize>()
                + self
                    .ws_out
                    .drain(..)
                    .map(|t| match t {
                        Transmit::Frame(f) => f.len(),
                        Transmit::Close => 0,
                    })
                    .sum::<usize>();
            self.outbound_bytes -= dropped;
        }
        match &mut self.transport {
            Transport::WebSocket => self.ws_out.push_back(Transmit::Close),
            Transport::Polling { upgrade, .. } => {
                if upgrade.take().is_some() {
                    self.ws_out.push_back(Transmit::Close);
                }
                match mode {
                    CloseMode::ClientClosed => self.release_held_get_with_noop(),
                    CloseMode::Graceful(_) | CloseMode::Discard => {
                        let close = Frame::text("1".to_owned());
                        self.outbound_bytes += close.len();
                        self.packets.push_back(close);
                        self.flush_polling();
                        if let (CloseMode::Graceful(now), false) = (mode, self.packets.is_empty()) {
                            self.final_get_deadline = Some(now + CLOSE_GRACE);
                        }
                    }
                }
            }
        }
    }
}

fn bad_request() -> HttpResponse {
    crate::server::Rejection::BAD_REQUEST.to_response()
}

/// Encodes queued frames as one polling response body for `version`.
fn encode_poll_response(version: EngineVersion, b64: bool, frames: &[Frame]) -> HttpResponse {
    let packets: Vec<Packet<'_>> = frames.iter().map(|f| frame_to_packet(version, f)).collect();
    let any_binary = frames.iter().any(|f| matches!(f, Frame::Binary(_)));
    let (content_type, body) = match version {
        EngineVersion::V4 => {
            let mut out = String::with_capacity(frames.iter().map(|f| f.len() + 1).sum());
            payload::encode_v4(packets.iter(), &mut out);
            (TEXT_PLAIN, out.into_bytes())
        }
        EngineVersion::V3 if any_binary && !b64 => {
            let mut out = Vec::with_capacity(frames.iter().map(|f| f.len() + 8).sum());
            payload::encode_v3_binary(packets.iter(), &mut out);
            (OCTET_STREAM, out)
        }
        EngineVersion::V3 => {
            let mut out = String::with_capacity(frames.iter().map(|f| f.len() + 8).sum());
            payload::encode_v3_text(packets.iter(), &mut out);
            (TEXT_PLAIN, out.into_bytes())
        }
    };
    HttpResponse::new(200, content_type, body).with_header("Cache-Control", "no-store")
}

/// A queued WebSocket-form frame as an Engine.IO packet.
fn frame_to_packet(version: EngineVersion, frame: &Frame) -> Packet<'_> {
    match frame {
        Frame::Text(t) => {
            let kind = t
                .bytes()
                .next()
                .and_then(|b| PacketType::from_u8(b.wrapping_sub(b'0')));
            Packet::text(
                kind.unwrap_or(PacketType::Message),
                t.get(1..).unwrap_or(""),
            )
        }
        Frame::Binary(b) => match version {
            EngineVersion::V4 => Packet::binary(bytes_slice(b)),
            EngineVersion::V3 => {
                let kind = b
                    .first()
                    .and_then(|&k| PacketType::from_u8(k))
                    .unwrap_or(PacketType::Message);
                Packet {
                    kind,
                    data: eio::Data::Binary(b.get(1..).unwrap_or(&[]).into()),
                }
            }
        },
    }
}

fn bytes_slice(b: &Bytes) -> &[u8] {
    b.as_slice()
}
