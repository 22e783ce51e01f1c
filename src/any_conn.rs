//! One connection of any protocol generation, as the [`crate::Server`]
//! holds it: a modern Engine.IO session ([`Connection`]) or a legacy 0.9
//! session ([`LegacyConnection`]). Both report the same [`Event`]s and take
//! the same commands, so one application API serves every client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::conn::{Connection, Event, Handshake};
use crate::encoded::EncodedPacket;
use crate::engine::Transmit;
use crate::error::UsageError;
use crate::http::{HttpResponse, RequestId};
use crate::legacy::LegacyConnection;
use crate::wire::sio::{AckId, Args};

/// A connection of either protocol family.
// Held inline in the Server's slab: boxing the (common) modern variant would
// add an indirection on every packet for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AnyConnection {
    /// Engine.IO v3/v4 with Socket.IO rev 4/5.
    Modern(Connection),
    /// Socket.IO 0.9.
    Legacy(LegacyConnection),
}

macro_rules! both {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            AnyConnection::Modern($c) => $e,
            AnyConnection::Legacy($c) => $e,
        }
    };
}

impl AnyConnection {
    /// The session id.
    pub fn sid(&self) -> &str {
        both!(self, c => c.sid())
    }

    /// The socket id in `nsp`.
    pub fn socket_id(&self, nsp: &str) -> Option<&str> {
        both!(self, c => c.socket_id(nsp))
    }

    /// The handshake request.
    pub fn handshake(&self) -> &Handshake {
        both!(self, c => c.handshake())
    }

    /// The handshake request, shared (no copy).
    pub fn shared_handshake(&self) -> std::sync::Arc<Handshake> {
        both!(self, c => c.shared_handshake())
    }

    /// The auth data of the socket in `nsp`.
    pub fn auth(&self, nsp: &str) -> Option<&Value> {
        both!(self, c => c.auth(nsp))
    }

    /// True if the socket in `nsp` is connected.
    pub fn is_connected(&self, nsp: &str) -> bool {
        both!(self, c => c.is_connected(nsp))
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        both!(self, c => c.is_closed())
    }

    /// True for a legacy 0.9 session.
    pub fn is_legacy(&self) -> bool {
        matches!(self, AnyConnection::Legacy(_))
    }

    pub(crate) fn is_finished(&self) -> bool {
        both!(self, c => c.is_finished())
    }

    pub(crate) fn has_transmit(&self) -> bool {
        both!(self, c => c.has_transmit())
    }

    pub(crate) fn has_http_response(&self) -> bool {
        both!(self, c => c.has_http_response())
    }

    pub(crate) fn handle_text(&mut self, now: Instant, text: &str) {
        both!(self, c => c.handle_text(now, text))
    }

    pub(crate) fn handle_binary(&mut self, now: Instant, data: Vec<u8>) {
        match self {
            AnyConnection::Modern(c) => c.handle_binary(now, data),
            // 0.9 has no binary frames: one closes the session.
            AnyConnection::Legacy(c) => c.handle_binary(now, data.len()),
        }
    }

    pub(crate) fn handle_transport_closed(&mut self, now: Instant) {
        both!(self, c => c.handle_transport_closed(now))
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        both!(self, c => c.handle_timeout(now))
    }

    pub(crate) fn accept(
        &mut self,
        now: Instant,
        nsp: &str,
        extra: Option<Map<String, Value>>,
    ) -> Result<String, UsageError> {
        match self {
            AnyConnection::Modern(c) => c.accept(now, nsp, extra),
            AnyConnection::Legacy(c) => c.accept(now, nsp),
        }
    }

    pub(crate) fn reject(
        &mut self,
        now: Instant,
        nsp: &str,
        message: &str,
        data: Option<Value>,
    ) -> Result<(), UsageError> {
        match self {
            AnyConnection::Modern(c) => c.reject(now, nsp, message, data),
            AnyConnection::Legacy(c) => c.reject(now, nsp, message),
        }
    }

    pub(crate) fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
    ) -> Result<(), UsageError> {
        both!(self, c => c.emit(now, nsp, event, args))
    }

    pub(crate) fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> Result<AckId, UsageError> {
        both!(self, c => c.emit_with_ack(now, nsp, event, args, timeout))
    }

    pub(crate) fn ack(
        &mut self,
        now: Instant,
        nsp: &str,
        id: AckId,
        args: Args,
    ) -> Result<(), UsageError> {
        both!(self, c => c.ack(now, nsp, id, args))
    }

    pub(crate) fn disconnect(&mut self, now: Instant, nsp: &str) -> Result<(), UsageError> {
        both!(self, c => c.disconnect(now, nsp))
    }

    pub(crate) fn close(&mut self, now: Instant) {
        both!(self, c => c.close(now))
    }

    pub(crate) fn shutdown(&mut self, now: Instant) {
        both!(self, c => c.shutdown(now))
    }

    /// Queues a broadcast: the shared modern encoding, or the shared 0.9
    /// text (built by `legacy_text` at most once per broadcast).
    pub(crate) fn send_broadcast(
        &mut self,
        packet: &EncodedPacket,
        legacy_text: &mut dyn FnMut() -> Option<Arc<str>>,
        volatile: bool,
    ) -> bool {
        match self {
            AnyConnection::Modern(c) => c.send_encoded(packet, volatile),
            AnyConnection::Legacy(c) => match legacy_text() {
                Some(text) => c.send_legacy_text(&text, volatile),
                None => false,
            },
        }
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Transmit> {
        both!(self, c => c.poll_transmit())
    }

    pub(crate) fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        both!(self, c => c.poll_http_response())
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        both!(self, c => c.poll_event())
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        both!(self, c => c.poll_timeout())
    }

    /// Frees the event queue's capacity once it is drained (a quiet moment
    /// such as a finished connect; Socket.IO 0.9 sessions keep theirs).
    pub(crate) fn release_idle_events(&mut self) {
        if let AnyConnection::Modern(c) = self {
            c.release_idle_events();
        }
    }
}
