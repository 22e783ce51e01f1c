//! The errors of the blocking client.

use std::fmt;

use serde_json::Value;
use socketio_sansio::client::{ClientConfigError, ClientError};

/// Why connecting, joining a namespace or sending failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not `http(s)://host[:port][/namespace][?query]` or the
    /// `ws(s)://` equivalent: fix the URL.
    InvalidUrl(String),
    /// The options were refused (see the inner error for which one).
    Config(ClientConfigError),
    /// An `https://` or `wss://` URL, but the crate was built without its
    /// `tls` feature: enable it (it is on by default).
    TlsUnavailable,
    /// The custom root certificates could not be read or used: check the
    /// file (PEM, `-----BEGIN CERTIFICATE-----` blocks).
    Tls(String),
    /// The server refused the namespace (CONNECT_ERROR): `message` and the
    /// optional `data` are the server's (socket.io's `Invalid namespace`,
    /// or what its middleware said). Not retried.
    Refused {
        /// The namespace.
        nsp: String,
        /// The server's message.
        message: String,
        /// The server's extra data, if any.
        data: Option<Value>,
    },
    /// The namespace did not connect within
    /// [`crate::ClientOptions::connect_timeout`]; `last_error` says what the
    /// last attempt ran into (server down, TLS failure...). Check that the
    /// server runs at that URL, or raise the timeout.
    ConnectTimeout {
        /// The namespace.
        nsp: String,
        /// The last connection error, if an attempt failed.
        last_error: Option<String>,
    },
    /// The connection failed and no attempt follows (reconnection is off,
    /// or its attempts are exhausted): check the URL and that the server
    /// runs, or enable reconnection.
    ConnectFailed {
        /// The namespace.
        nsp: String,
        /// What the last attempt ran into.
        message: String,
    },
    /// A thread could not be started (the OS refused): free resources.
    Spawn(std::io::Error),
    /// The state machine refused the command (namespace not joined, buffer
    /// full, reserved event name...): see the inner error.
    Client(ClientError),
    /// The client was closed (or its I/O thread ended): connect again.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl(url) => write!(
                f,
                "invalid URL {url:?}: expected http(s)://host[:port][/namespace][?query] or ws(s)://..."
            ),
            Error::Config(e) => write!(f, "invalid client options: {e}"),
            Error::TlsUnavailable => f.write_str(
                "https:// and wss:// need the `tls` feature of socketio-client (on by default)",
            ),
            Error::Tls(why) => write!(f, "TLS setup failed: {why}"),
            Error::Refused { nsp, message, .. } => {
                write!(f, "the server refused namespace {nsp:?}: {message}")
            }
            Error::ConnectTimeout { nsp, last_error } => {
                write!(f, "namespace {nsp:?} did not connect in time")?;
                match last_error {
                    Some(e) => write!(f, " (last error: {e}); is the server running at that URL?"),
                    None => f.write_str("; raise ClientOptions::connect_timeout or check the server"),
                }
            }
            Error::ConnectFailed { nsp, message } => write!(
                f,
                "namespace {nsp:?} could not connect ({message}) and reconnection is off or exhausted"
            ),
            Error::Spawn(e) => write!(f, "cannot start a thread: {e}"),
            Error::Client(e) => write!(f, "{e}"),
            Error::Closed => f.write_str("the client is closed; connect again"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Client(e) => Some(e),
            Error::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        Error::Client(e)
    }
}

/// Why an emit with acknowledgement got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckError {
    /// No acknowledgement within the timeout.
    Timeout,
    /// The socket disconnected after the event was sent.
    Disconnected,
    /// The event could not be sent: the reason.
    NotSent(ClientError),
    /// The client was closed first.
    Closed,
    /// A blocking wait on the I/O thread, which runs the handlers: it would
    /// wait for itself. Use the callback form there.
    WouldDeadlock,
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AckError::Timeout => f.write_str("no acknowledgement before the timeout"),
            AckError::Disconnected => f.write_str("the socket disconnected before acknowledging"),
            AckError::NotSent(e) => write!(f, "the event was not sent: {e}"),
            AckError::Closed => f.write_str("the client was closed"),
            AckError::WouldDeadlock => f.write_str(
                "a blocking emit_with_ack_timeout cannot run on the handler thread; use emit_with_ack with a callback",
            ),
        }
    }
}

impl std::error::Error for AckError {}
