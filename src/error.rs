//! Errors, split by who is at fault: the peer ([`ProtocolError`], which
//! closes that connection and surfaces as [`DisconnectReason::Protocol`]) or
//! the local caller ([`UsageError`], returned as `Err`).

use std::fmt;

use crate::wire::DecodeError;

/// Why a socket or a whole connection ended. The strings of
/// [`DisconnectReason::as_str`] are the reference server's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The transport was closed (the peer went away, or sent an Engine.IO close).
    TransportClose,
    /// The transport failed (I/O error, oversized message, wrong heartbeat direction...).
    TransportError(String),
    /// The peer missed its heartbeat.
    PingTimeout,
    /// The peer broke the protocol; the connection was closed.
    Protocol(ProtocolError),
    /// The client left the namespace (`DISCONNECT` from the client).
    ClientNamespaceDisconnect,
    /// The server application disconnected the socket from its namespace.
    ServerNamespaceDisconnect,
    /// The server application closed the whole connection.
    ForcedServerClose,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The transport did not take queued data fast enough:
    /// [`crate::Config::max_outbound_bytes`] was exceeded.
    OutboundQueueFull,
    /// No namespace was joined within [`crate::Config::connect_timeout`].
    ConnectTimeout,
}

impl DisconnectReason {
    /// The reference server's name for this reason (`"ping timeout"`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError(_) => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::Protocol(_) => "parse error",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::OutboundQueueFull => "outbound queue full",
            DisconnectReason::ConnectTimeout => "connect timeout",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::TransportError(why) => write!(f, "transport error: {why}"),
            DisconnectReason::Protocol(e) => write!(f, "parse error: {e}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// A protocol violation by the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An Engine.IO packet could not be decoded.
    Engine(DecodeError),
    /// A Socket.IO packet could not be decoded (bad type, JSON, attachments...).
    Socket(DecodeError),
    /// A legacy 0.9 packet could not be decoded.
    Legacy(DecodeError),
    /// CONNECT for a namespace the connection already joined (or is joining).
    DuplicateConnect(String),
    /// A packet for a namespace the connection has not joined.
    NamespaceNotJoined(String),
    /// The client sent a CONNECT_ERROR, which only servers send.
    UnexpectedConnectError,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Engine(e) => write!(f, "Engine.IO packet: {e}"),
            ProtocolError::Socket(e) => write!(f, "Socket.IO packet: {e}"),
            ProtocolError::Legacy(e) => write!(f, "Socket.IO 0.9 packet: {e}"),
            ProtocolError::DuplicateConnect(nsp) => {
                write!(f, "CONNECT for {nsp:?}, already joined")
            }
            ProtocolError::NamespaceNotJoined(nsp) => {
                write!(f, "packet for namespace {nsp:?}, not joined")
            }
            ProtocolError::UnexpectedConnectError => {
                f.write_str("CONNECT_ERROR sent by the client")
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// The local caller asked for something that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// The connection has closed (a normal race: the peer left). Drop the
    /// reference you held.
    Closed,
    /// No connection with this id exists (it closed long ago, or never did):
    /// a bug in the caller's bookkeeping.
    UnknownConnection,
    /// The connection has not joined this namespace (or it already left).
    NotConnected(String),
    /// There is no pending CONNECT for this namespace to accept or reject.
    NoPendingConnect(String),
    /// The event name is reserved by the protocol (`connect`, `disconnect`...).
    ReservedEventName(String),
    /// The socket already awaits [`crate::Config::max_pending_acks`] acknowledgements.
    TooManyPendingAcks,
    /// The packet references a binary attachment that does not exist.
    InvalidAttachments,
    /// A 0.9-only packet (`message`, `json`) for a modern client: emit an
    /// event instead.
    NotLegacy,
    /// A raw Engine.IO message for a Socket.IO session.
    NotEngineOnly,
    /// Binary attachments for a legacy 0.9 client, whose protocol has none.
    BinaryNotSupported,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Closed => f.write_str("the connection is closed"),
            UsageError::UnknownConnection => f.write_str("no such connection"),
            UsageError::NotConnected(nsp) => write!(f, "not connected to namespace {nsp:?}"),
            UsageError::NoPendingConnect(nsp) => {
                write!(f, "no pending CONNECT for namespace {nsp:?}")
            }
            UsageError::ReservedEventName(n) => {
                write!(f, "{n:?} is a reserved event name; pick another")
            }
            UsageError::TooManyPendingAcks => f.write_str(
                "too many acknowledgements pending; raise Config::max_pending_acks or wait",
            ),
            UsageError::InvalidAttachments => {
                f.write_str("a placeholder references a missing attachment")
            }
            UsageError::NotEngineOnly => f.write_str(
                "raw Engine.IO messages go only to bare Engine.IO sessions; emit a Socket.IO event instead",
            ),
            UsageError::NotLegacy => f.write_str(
                "message/json packets exist only for Socket.IO 0.9 clients; emit an event instead",
            ),
            UsageError::BinaryNotSupported => {
                f.write_str("the legacy 0.9 protocol cannot carry binary attachments")
            }
        }
    }
}

impl std::error::Error for UsageError {}
