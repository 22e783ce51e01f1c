//! The Engine.IO session of one connection: heartbeat per version, the
//! outbound queue (the transport seam: a WebSocket takes frames as they come,
//! a polling transport will take them in batches), and closing.
//!
//! Heartbeat (PROTOCOL.md §1.5):
//! * v4: the server pings `pingInterval` after the open packet and after each
//!   pong; a pong must arrive within `pingTimeout` of the ping. A ping from
//!   the client is a wrong-direction heartbeat and closes the session
//!   (reference 6.x); an unsolicited pong is ignored.
//! * v3: the client pings, the server answers `3` at once; the session closes
//!   when no ping arrives for `pingInterval + pingTimeout` (only a ping
//!   restarts that timer, as in the reference 6.x). A pong from the client
//!   closes the session (reference 6.x; engine.io 3.x ignored it).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::error::DisconnectReason;
use crate::frame::Frame;
use crate::wire::eio::{self, EngineVersion, OpenPacket, Packet, PacketType};

/// What the transport must do next for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Send this frame.
    Frame(Frame),
    /// Close the transport (after the frames before it were sent). Nothing
    /// follows a `Close`.
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
pub(crate) struct Engine {
    pub(crate) sid: String,
    pub(crate) version: EngineVersion,
    config: Arc<Config>,
    heartbeat: Heartbeat,
    outbound: VecDeque<Transmit>,
    outbound_bytes: usize,
    closed: bool,
}

impl Engine {
    /// A session opened directly over WebSocket: queues the open packet.
    pub(crate) fn new_websocket(
        now: Instant,
        sid: String,
        version: EngineVersion,
        config: Arc<Config>,
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
        let mut engine = Engine {
            sid,
            version,
            config,
            heartbeat,
            outbound: VecDeque::new(),
            outbound_bytes: 0,
            closed: false,
        };
        let open = engine.open_packet(Vec::new());
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

    /// Bytes queued and not yet taken by the transport.
    pub(crate) fn outbound_bytes(&self) -> usize {
        self.outbound_bytes
    }

    /// Queues a frame unconditionally (no limit check): for control frames.
    fn push(&mut self, frame: Frame) {
        self.outbound_bytes += frame.len();
        self.outbound.push_back(Transmit::Frame(frame));
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

    /// True when a volatile packet may be sent: nothing is waiting.
    pub(crate) fn is_writable(&self) -> bool {
        !self.closed && self.outbound.is_empty()
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.outbound.pop_front()?;
        if let Transmit::Frame(f) = &t {
            self.outbound_bytes -= f.len();
        }
        Some(t)
    }

    /// Interprets one inbound Engine.IO packet.
    pub(crate) fn on_packet<'a>(&mut self, now: Instant, packet: Packet<'a>) -> Inbound<'a> {
        match packet.kind {
            PacketType::Message => Inbound::Message(packet.data),
            PacketType::Ping => match &mut self.heartbeat {
                Heartbeat::ClientPings { deadline } => {
                    *deadline = now + self.config.ping_interval + self.config.ping_timeout;
                    // A probe outside an upgrade is answered with a bare pong (reference).
                    self.push(Frame::text("3".to_owned()));
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
                    }
                    Inbound::Nothing
                }
                Heartbeat::ClientPings { .. } => Inbound::Close(DisconnectReason::TransportError(
                    "invalid heartbeat direction".into(),
                )),
            },
            PacketType::Close => Inbound::Close(DisconnectReason::TransportClose),
            // An upgrade packet on a plain WebSocket session is dropped; noop
            // and a client's open packet carry nothing (the reference ignores them).
            PacketType::Upgrade | PacketType::Noop | PacketType::Open => {
                log::debug!("[{}] ignoring Engine.IO {:?} packet", self.sid, packet.kind);
                Inbound::Nothing
            }
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        Some(match self.heartbeat {
            Heartbeat::ServerPings {
                next_ping,
                pong_deadline,
            } => pong_deadline.unwrap_or(next_ping),
            Heartbeat::ClientPings { deadline } => deadline,
        })
    }

    /// Fires the heartbeat timers that are due; `Some` when the session must close.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<DisconnectReason> {
        if self.closed {
            return None;
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
                    self.push(Frame::text("2".to_owned()));
                    None
                }
                None => None,
            },
            Heartbeat::ClientPings { deadline } => {
                (now >= *deadline).then_some(DisconnectReason::PingTimeout)
            }
        }
    }

    /// Marks the session closed and queues the transport close after what is
    /// already queued. With `discard`, queued frames are dropped first (the
    /// consumer is stuck or gone).
    pub(crate) fn close(&mut self, discard: bool) {
        if self.closed {
            return;
        }
        self.closed = true;
        if discard {
            self.outbound.clear();
            self.outbound_bytes = 0;
        }
        self.outbound.push_back(Transmit::Close);
    }
}
