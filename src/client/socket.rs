//! One namespace socket of the client (socket.io-client's `Socket`): its
//! connection state, the buffer of emits made while it is not connected,
//! the acknowledgements it awaits and the retry queue.
//!
//! * **Buffer** (`sendBuffer`): emits while not connected wait here, in
//!   order, and go out when the namespace (re)connects. It is bounded by
//!   [`super::ClientConfig::max_buffered_emits`] and
//!   [`super::ClientConfig::max_buffered_bytes`]; beyond that the emit fails
//!   with [`ClientError::BufferFull`], nothing is dropped silently. Volatile
//!   emits are never buffered: they are [`EmitStatus::Dropped`].
//! * **Acknowledgements**: each acknowledged emit has an id (per namespace,
//!   from 0) and exactly one [`ClientEvent::Ack`] outcome: the arguments, or
//!   [`AckFailure::TimedOut`] (the timer starts at the emit, buffered or not;
//!   a buffered packet whose timer expires is removed from the buffer), or
//!   [`AckFailure::Disconnected`] when the socket disconnects after the
//!   packet went out (a buffered one stays buffered).
//! * **Retry queue** (`retries > 0`): acknowledged emits go through a queue
//!   where one packet is in flight at a time. A try that times out is sent
//!   again **with the same ack id** (socket.io-client draws a new id per
//!   try; with the same id a late acknowledgement of an earlier try still
//!   completes the emit), until `1 + retries` tries failed. After a
//!   reconnection the head of the queue is sent again.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::parser::Parser;
use crate::wire::eio::{Packet as EioPacket, PacketType as EioType};
use crate::wire::sio::{self, AckId, Args, Body};

use super::engine::ClientEngine;
use super::types::{AckFailure, ClientDisconnectReason, ClientError, ClientEvent, EmitStatus};

/// Where a namespace socket stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SocketState {
    /// Waiting for the Engine.IO session (or not wanted: see `active`).
    Idle,
    /// CONNECT sent (rev 4 `/`: the server's automatic CONNECT awaited).
    Connecting,
    /// Joined, with the socket id the server gave.
    Connected(String),
}

#[derive(Debug)]
struct Buffered {
    packet: sio::Packet,
    ack: Option<AckId>,
    bytes: usize,
}

#[derive(Debug)]
struct PendingAck {
    deadline: Option<Instant>,
    /// Managed by the retry queue.
    queued: bool,
}

#[derive(Debug)]
struct Queued {
    id: AckId,
    packet: sio::Packet,
    timeout: Option<Duration>,
    tries: u32,
    pending: bool,
}

/// One namespace.
#[derive(Debug)]
pub(crate) struct NsSocket {
    pub(crate) nsp: String,
    pub(crate) auth: Option<Value>,
    /// The application wants this namespace connected (reconnects too).
    pub(crate) active: bool,
    pub(crate) state: SocketState,
    buffer: VecDeque<Buffered>,
    buffered_bytes: usize,
    next_ack: AckId,
    acks: BTreeMap<AckId, PendingAck>,
    queue: VecDeque<Queued>,
    /// Connection state recovery: the private session id of the server's
    /// last CONNECT answer.
    pub(crate) pid: Option<String>,
    /// The offset of the last event that carried one (sent back with `pid`).
    pub(crate) last_offset: Option<String>,
    /// The last CONNECT answer restored the earlier session.
    pub(crate) recovered: bool,
    /// Events that arrived between our CONNECT and its answer (the missed
    /// events a recovering server sends first), delivered after it.
    pub(crate) early: VecDeque<(String, Args, Option<AckId>)>,
}

/// Sends one Socket.IO packet: JSON, the text message then its
/// attachments; MessagePack, one binary message.
pub(crate) fn send_packet(engine: &mut ClientEngine, packet: &sio::Packet) {
    match engine.parser() {
        Parser::Json => {
            let mut text = String::new();
            packet.encode(&mut text);
            engine.send(EioPacket::text(EioType::Message, text));
            for attachment in packet.attachments() {
                engine.send(EioPacket::binary(attachment.clone()));
            }
        }
        #[cfg(feature = "msgpack")]
        Parser::MsgPack => {
            let mut out = Vec::new();
            crate::wire::msgpack::encode(packet, &mut out);
            engine.send(EioPacket::binary(out));
        }
    }
}

fn encoded_len(parser: Parser, packet: &sio::Packet) -> usize {
    match parser {
        Parser::Json => {
            let mut text = String::new();
            packet.encode(&mut text);
            text.len() + packet.attachments().iter().map(Vec::len).sum::<usize>()
        }
        #[cfg(feature = "msgpack")]
        Parser::MsgPack => {
            let mut out = Vec::new();
            crate::wire::msgpack::encode(packet, &mut out);
            out.len()
        }
    }
}

/// Limits the socket enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_buffered_emits: usize,
    pub(crate) max_buffered_bytes: usize,
    pub(crate) max_pending_acks: usize,
    pub(crate) retries: u32,
}

/// How to send one emit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EmitMode {
    Plain,
    Volatile,
    Ack {
        timeout: Option<Duration>,
        queued: bool,
    },
}

impl NsSocket {
    pub(crate) fn new(nsp: String, auth: Option<Value>) -> Self {
        NsSocket {
            nsp,
            auth,
            active: true,
            state: SocketState::Idle,
            buffer: VecDeque::new(),
            buffered_bytes: 0,
            next_ack: 0,
            acks: BTreeMap::new(),
            queue: VecDeque::new(),
            pid: None,
            last_offset: None,
            recovered: false,
            early: VecDeque::new(),
        }
    }

    /// The CONNECT payload of rev 5: the auth, with `pid` and `offset`
    /// when the server offered recovery (the auth's own keys win, as in
    /// socket.io-client).
    pub(crate) fn connect_payload(&self) -> Option<Value> {
        let Some(pid) = &self.pid else {
            return self.auth.clone();
        };
        let mut map = serde_json::Map::new();
        map.insert("pid".to_owned(), Value::String(pid.clone()));
        if let Some(offset) = &self.last_offset {
            map.insert("offset".to_owned(), Value::String(offset.clone()));
        }
        if let Some(Value::Object(auth)) = &self.auth {
            map.extend(auth.clone());
        }
        Some(Value::Object(map))
    }

    /// An event arrived: with a recovery session, the last argument of an
    /// event without an ack id is its offset.
    pub(crate) fn note_offset(&mut self, args: &Args, ack: Option<AckId>) {
        if self.pid.is_none() || ack.is_some() {
            return;
        }
        if let Some(Value::String(offset)) = args.values.last() {
            self.last_offset = Some(offset.clone());
        }
    }

    pub(crate) fn is_connected(&self) -> bool {
        matches!(self.state, SocketState::Connected(_))
    }

    /// Emits in this buffer and the retry queue.
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len() + self.queue.iter().filter(|q| !q.pending).count()
    }

    /// An emit; returns the status and, for acknowledged emits, the id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emit(
        &mut self,
        now: Instant,
        engine: &mut ClientEngine,
        limits: Limits,
        name: &str,
        args: Args,
        mode: EmitMode,
    ) -> Result<(EmitStatus, Option<AckId>), ClientError> {
        if sio::is_reserved_event(name) {
            return Err(ClientError::ReservedEventName(name.to_owned()));
        }
        crate::wire::binary::validate(&args.values, args.binaries.len())
            .map_err(|_| ClientError::InvalidAttachments)?;
        let wants_ack = matches!(mode, EmitMode::Ack { .. });
        // The queue's packet in flight is in `acks` too: count it once.
        let waiting = self.acks.len() + self.queue.iter().filter(|q| !q.pending).count();
        if wants_ack && waiting >= limits.max_pending_acks {
            return Err(ClientError::TooManyPendingAcks);
        }
        let id = wants_ack.then_some(self.next_ack);
        let packet = sio::Packet {
            nsp: self.nsp.clone(),
            body: Body::Event(sio::Event {
                name: name.to_owned(),
                args,
                id,
            }),
        };
        match mode {
            EmitMode::Volatile => {
                if self.is_connected() && engine.is_writable() {
                    send_packet(engine, &packet);
                    Ok((EmitStatus::Sent, None))
                } else {
                    log::debug!(
                        "{}: volatile emit dropped, transport not writable",
                        self.nsp
                    );
                    Ok((EmitStatus::Dropped, None))
                }
            }
            EmitMode::Ack {
                timeout,
                queued: true,
            } => {
                if self.buffered() >= limits.max_buffered_emits {
                    return Err(ClientError::BufferFull);
                }
                let id = self.take_ack_id();
                self.queue.push_back(Queued {
                    id,
                    packet,
                    timeout,
                    tries: 0,
                    pending: false,
                });
                let was_idle = self.queue.len() == 1;
                self.drain_queue(now, engine, false);
                let status = if was_idle && self.is_connected() {
                    EmitStatus::Sent
                } else {
                    EmitStatus::Queued
                };
                Ok((status, Some(id)))
            }
            EmitMode::Plain | EmitMode::Ack { .. } => {
                let status = if self.is_connected() {
                    send_packet(engine, &packet);
                    EmitStatus::Sent
                } else {
                    let bytes = encoded_len(engine.parser(), &packet);
                    if self.buffered() >= limits.max_buffered_emits
                        || self.buffered_bytes + bytes > limits.max_buffered_bytes
                    {
                        return Err(ClientError::BufferFull);
                    }
                    self.buffered_bytes += bytes;
                    self.buffer.push_back(Buffered {
                        packet,
                        ack: id,
                        bytes,
                    });
                    EmitStatus::Buffered
                };
                if let (Some(_), EmitMode::Ack { timeout, .. }) = (id, mode) {
                    let id = self.take_ack_id();
                    self.acks.insert(
                        id,
                        PendingAck {
                            deadline: timeout.map(|t| now + t),
                            queued: false,
                        },
                    );
                }
                Ok((status, id))
            }
        }
    }

    fn take_ack_id(&mut self) -> AckId {
        let id = self.next_ack;
        self.next_ack = (self.next_ack + 1) % (sio::MAX_ACK_ID + 1);
        id
    }

    /// Sends the head of the retry queue if nothing is in flight (or always
    /// with `force`, after a reconnection).
    fn drain_queue(&mut self, now: Instant, engine: &mut ClientEngine, force: bool) {
        if !self.is_connected() {
            return;
        }
        let Some(head) = self.queue.front_mut() else {
            return;
        };
        if head.pending && !force {
            return;
        }
        head.pending = true;
        head.tries += 1;
        self.acks.insert(
            head.id,
            PendingAck {
                deadline: head.timeout.map(|t| now + t),
                queued: true,
            },
        );
        send_packet(engine, &head.packet);
    }

    /// The namespace accepted our CONNECT: send what waited.
    pub(crate) fn on_connected(&mut self, now: Instant, engine: &mut ClientEngine, sid: String) {
        self.state = SocketState::Connected(sid);
        while let Some(b) = self.buffer.pop_front() {
            send_packet(engine, &b.packet);
        }
        self.buffered_bytes = 0;
        self.drain_queue(now, engine, true);
    }

    /// The socket left its connected state: acknowledgements of packets
    /// already sent fail; buffered packets stay.
    pub(crate) fn on_disconnected(
        &mut self,
        limits: Limits,
        events: &mut VecDeque<ClientEvent>,
        reason: Option<ClientDisconnectReason>,
    ) {
        let was_connected = self.is_connected();
        self.state = SocketState::Idle;
        self.early.clear();
        if !was_connected {
            return;
        }
        if let Some(reason) = reason {
            events.push_back(ClientEvent::Disconnected {
                nsp: self.nsp.clone(),
                reason,
            });
        }
        let buffered: Vec<AckId> = self.buffer.iter().filter_map(|b| b.ack).collect();
        let failed: Vec<AckId> = self
            .acks
            .iter()
            .filter(|(id, a)| !a.queued && !buffered.contains(id))
            .map(|(id, _)| *id)
            .collect();
        for id in failed {
            self.acks.remove(&id);
            events.push_back(self.outcome(id, Err(AckFailure::Disconnected)));
        }
        if let Some(head) = self.queue.front_mut().filter(|h| h.pending) {
            let id = head.id;
            head.pending = false;
            self.acks.remove(&id);
            if head.tries > limits.retries {
                self.queue.pop_front();
                events.push_back(self.outcome(id, Err(AckFailure::Disconnected)));
            }
        }
    }

    fn outcome(&self, id: AckId, result: Result<Args, AckFailure>) -> ClientEvent {
        ClientEvent::Ack {
            nsp: self.nsp.clone(),
            id,
            result,
        }
    }

    /// An ACK from the server.
    pub(crate) fn on_ack(
        &mut self,
        now: Instant,
        engine: &mut ClientEngine,
        events: &mut VecDeque<ClientEvent>,
        id: AckId,
        args: Args,
    ) {
        let Some(pending) = self.acks.remove(&id) else {
            log::debug!("{}: dropping ack {id}: unknown or late", self.nsp);
            return;
        };
        if pending.queued {
            if self.queue.front().is_some_and(|h| h.id == id) {
                self.queue.pop_front();
            }
            events.push_back(self.outcome(id, Ok(args)));
            self.drain_queue(now, engine, false);
        } else {
            events.push_back(self.outcome(id, Ok(args)));
        }
    }

    /// The earliest acknowledgement deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.acks.values().filter_map(|a| a.deadline).min()
    }

    /// Expires the acknowledgements whose deadline passed.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Instant,
        engine: &mut ClientEngine,
        limits: Limits,
        events: &mut VecDeque<ClientEvent>,
    ) {
        let expired: Vec<(AckId, bool)> = self
            .acks
            .iter()
            .filter(|(_, a)| a.deadline.is_some_and(|d| now >= d))
            .map(|(id, a)| (*id, a.queued))
            .collect();
        for (id, queued) in expired {
            self.acks.remove(&id);
            if queued {
                let Some(head) = self.queue.front_mut().filter(|h| h.id == id) else {
                    continue;
                };
                head.pending = false;
                if head.tries > limits.retries {
                    self.queue.pop_front();
                    events.push_back(self.outcome(id, Err(AckFailure::TimedOut)));
                } else {
                    log::debug!("{}: ack {id} timed out, retrying", self.nsp);
                }
                self.drain_queue(now, engine, false);
            } else {
                if let Some(at) = self.buffer.iter().position(|b| b.ack == Some(id)) {
                    if let Some(b) = self.buffer.remove(at) {
                        self.buffered_bytes -= b.bytes;
                    }
                }
                events.push_back(self.outcome(id, Err(AckFailure::TimedOut)));
            }
        }
    }
}
