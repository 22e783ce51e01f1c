//! What goes in and out of a [`crate::client::Client`]: the I/O it asks the
//! driver for ([`ClientTransmit`]), what happened ([`ClientEvent`]), and
//! the typed errors.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::frame::Frame;
use crate::http::{Method, RequestId};
use crate::wire::sio::{AckId, Args};
use crate::wire::DecodeError;

/// The client's id for one WebSocket it asked the driver to open.
pub type TransportId = u64;

/// I/O the driver must perform, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientTransmit {
    /// Open a WebSocket to `url` with `headers`; report
    /// [`crate::client::Client::handle_ws_opened`] or
    /// [`crate::client::Client::handle_ws_closed`].
    OpenWebSocket {
        /// The id to report back with.
        transport: TransportId,
        /// `ws://host/socket.io/?EIO=4&transport=websocket...`
        url: String,
        /// Extra headers for the handshake.
        headers: Vec<(String, String)>,
    },
    /// Send one message on an open WebSocket.
    WsFrame {
        /// The WebSocket.
        transport: TransportId,
        /// The message.
        frame: Frame,
    },
    /// Close a WebSocket (after the frames queued before this). No
    /// [`crate::client::Client::handle_ws_closed`] is needed afterwards.
    CloseWebSocket {
        /// The WebSocket.
        transport: TransportId,
    },
    /// Send an HTTP request (polling) and report
    /// [`crate::client::Client::handle_http_response`] or
    /// [`crate::client::Client::handle_http_failed`] with its
    /// [`request`](ClientHttpRequest::request) id.
    HttpRequest(ClientHttpRequest),
}

/// An HTTP request the client asks its driver to send
/// ([`ClientTransmit::HttpRequest`]): a driver can keep it whole, or take
/// the fields it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHttpRequest {
    /// The id to report back with.
    pub request: RequestId,
    /// `GET` (long-poll, handshake) or `POST` (packets).
    pub method: Method,
    /// `http://host/socket.io/?EIO=4&transport=polling...`
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
    /// The body's `Content-Type` (`None` for `GET`).
    pub content_type: Option<&'static str>,
}

/// Why a namespace socket or the whole connection ended, with
/// socket.io-client's reason strings ([`ClientDisconnectReason::as_str`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientDisconnectReason {
    /// The server disconnected the socket (`DISCONNECT` packet): no reconnection.
    IoServerDisconnect,
    /// The application disconnected it ([`crate::client::Client::disconnect_namespace`]
    /// or [`crate::client::Client::close`]).
    IoClientDisconnect,
    /// The server's heartbeat stopped (v4) or our ping was not answered (v3).
    PingTimeout,
    /// The transport closed (the driver reported it, or the server sent close).
    TransportClose,
    /// The transport failed (HTTP error status, failed request...).
    TransportError(String),
    /// The server broke the protocol.
    ParseError(ClientProtocolError),
    /// No open packet arrived within [`crate::client::ClientConfig::timeout`].
    Timeout,
}

impl ClientDisconnectReason {
    /// socket.io-client's name for this reason.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClientDisconnectReason::IoServerDisconnect => "io server disconnect",
            ClientDisconnectReason::IoClientDisconnect => "io client disconnect",
            ClientDisconnectReason::PingTimeout => "ping timeout",
            ClientDisconnectReason::TransportClose => "transport close",
            ClientDisconnectReason::TransportError(_) => "transport error",
            ClientDisconnectReason::ParseError(_) => "parse error",
            ClientDisconnectReason::Timeout => "timeout",
        }
    }
}

impl fmt::Display for ClientDisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientDisconnectReason::TransportError(why) => write!(f, "transport error: {why}"),
            ClientDisconnectReason::ParseError(e) => write!(f, "parse error: {e}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// A protocol violation by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientProtocolError {
    /// An Engine.IO packet or polling payload could not be decoded.
    Engine(DecodeError),
    /// A Socket.IO packet could not be decoded.
    Socket(DecodeError),
    /// The open packet's JSON was invalid.
    Open(DecodeError),
    /// The first packet of the session was not the open packet.
    MissingOpen,
    /// A second open packet, or one on an upgraded transport.
    UnexpectedOpen,
    /// A message or body larger than [`crate::client::ClientConfig::max_payload`].
    PayloadTooLarge(usize),
    /// A CONNECT reply without the rev 5 `{"sid": ...}` object.
    InvalidConnect(String),
}

impl fmt::Display for ClientProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientProtocolError::Engine(e) => write!(f, "Engine.IO packet: {e}"),
            ClientProtocolError::Socket(e) => write!(f, "Socket.IO packet: {e}"),
            ClientProtocolError::Open(e) => write!(f, "open packet: {e}"),
            ClientProtocolError::MissingOpen => {
                f.write_str("the session did not start with an open packet")
            }
            ClientProtocolError::UnexpectedOpen => {
                f.write_str("an open packet inside an open session")
            }
            ClientProtocolError::PayloadTooLarge(n) => write!(f, "{n} bytes exceed max_payload"),
            ClientProtocolError::InvalidConnect(nsp) => {
                write!(f, "CONNECT reply for {nsp:?} without a socket id")
            }
        }
    }
}

impl std::error::Error for ClientProtocolError {}

/// Why an acknowledged emit ended without its acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckFailure {
    /// No acknowledgement within the timeout (after every retry).
    TimedOut,
    /// The socket disconnected after the packet was sent
    /// (socket.io-client's "socket has been disconnected").
    Disconnected,
}

/// What an emit did with the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitStatus {
    /// Handed to the transport.
    Sent,
    /// Kept until the namespace (re)connects.
    Buffered,
    /// Waiting in the retry queue behind an earlier emit.
    Queued,
    /// A volatile emit while the transport was not writable: dropped.
    Dropped,
}

/// Something that happened, for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The namespace accepted our CONNECT (after a reconnection too).
    Connected {
        /// The namespace.
        nsp: String,
        /// The socket id the server gave.
        sid: String,
    },
    /// The server refused the namespace (CONNECT_ERROR), or a connection
    /// attempt failed before the namespace could be joined.
    ConnectError {
        /// The namespace.
        nsp: String,
        /// The message (rev 5 `message`, rev 4 the string payload).
        message: String,
        /// rev 5 `data`, if any.
        data: Option<Value>,
    },
    /// The server emitted an event. Answer `ack` with [`crate::client::Client::ack`].
    Event {
        /// The namespace.
        nsp: String,
        /// The event name.
        name: String,
        /// The arguments, with binary attachments.
        args: Args,
        /// Present when the server wants an acknowledgement.
        ack: Option<AckId>,
    },
    /// The one outcome of [`crate::client::Client::emit_with_ack`].
    Ack {
        /// The namespace.
        nsp: String,
        /// The id `emit_with_ack` returned.
        id: AckId,
        /// The acknowledgement's arguments, or why none came.
        result: Result<Args, AckFailure>,
    },
    /// A connected namespace socket ended.
    Disconnected {
        /// The namespace.
        nsp: String,
        /// Why.
        reason: ClientDisconnectReason,
    },
    /// A reconnection attempt is scheduled in `delay` (attempt 1, 2...).
    Reconnecting {
        /// The attempt number.
        attempt: u32,
        /// The backoff delay before it.
        delay: Duration,
    },
    /// A reconnection attempt opened a session; namespaces re-CONNECT.
    Reconnected {
        /// The attempt that succeeded.
        attempt: u32,
    },
    /// `reconnection_attempts` attempts failed; the client stays closed.
    ReconnectFailed,
    /// The transport moved from polling to WebSocket.
    Upgraded,
}

/// A command the client cannot carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// [`crate::client::Client::connect_namespace`] was not called for this namespace.
    UnknownNamespace(String),
    /// The namespace is not connected (for commands that need it, like `ack`).
    NotConnected(String),
    /// The namespace's buffer for emits while disconnected is full
    /// ([`crate::client::ClientConfig::max_buffered_emits`] / `max_buffered_bytes`).
    BufferFull,
    /// The namespace already awaits `max_pending_acks` acknowledgements.
    TooManyPendingAcks,
    /// The event name is reserved by the protocol.
    ReservedEventName(String),
    /// A placeholder references a missing attachment.
    InvalidAttachments,
    /// The client was closed with [`crate::client::Client::close`]; connect again first.
    Closed,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::UnknownNamespace(n) => write!(f, "namespace {n:?} was never connected"),
            ClientError::NotConnected(n) => write!(f, "namespace {n:?} is not connected"),
            ClientError::BufferFull => f.write_str(
                "the buffer of emits while disconnected is full; raise max_buffered_emits/bytes or wait",
            ),
            ClientError::TooManyPendingAcks => f.write_str("too many acknowledgements pending"),
            ClientError::ReservedEventName(n) => write!(f, "{n:?} is a reserved event name"),
            ClientError::InvalidAttachments => {
                f.write_str("a placeholder references a missing attachment")
            }
            ClientError::Closed => f.write_str("the client is closed"),
        }
    }
}

impl std::error::Error for ClientError {}
