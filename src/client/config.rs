//! Client configuration: the target (URL, path, query, headers), the
//! protocol version and transports, reconnection, acknowledgements and the
//! limits. Built by [`ClientConfigBuilder`], validated in
//! [`ClientConfigBuilder::build`]. Defaults are socket.io-client 4.x's
//! (engine.io-client 6.x's for the transport settings).

use std::fmt;
use std::time::Duration;

use crate::parser::Parser;
use crate::wire::eio::EngineVersion;
use crate::wire::sio::DecoderConfig;

/// Which transports the client may use (socket.io-client `transports`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transports {
    /// Start with HTTP long-polling and upgrade to WebSocket when the server
    /// offers it (the reference default `["polling", "websocket"]`).
    PollingThenWebSocket,
    /// HTTP long-polling only (`["polling"]`).
    Polling,
    /// WebSocket only (`["websocket"]`).
    WebSocket,
}

/// Client settings. Field names follow socket.io-client's options
/// (`reconnectionDelay` → [`ClientConfig::reconnection_delay`]...).
#[derive(Clone, PartialEq)]
pub struct ClientConfig {
    /// `true` for `https`/`wss`.
    pub secure: bool,
    /// `host[:port]` of the server.
    pub authority: String,
    /// The Engine.IO path, starting and ending with `/` (default `/socket.io/`).
    pub path: String,
    /// Extra query parameters sent with every Engine.IO request (`query`).
    pub query: Vec<(String, String)>,
    /// Extra headers the driver sends with every HTTP request and WebSocket
    /// handshake (`extraHeaders`).
    pub headers: Vec<(String, String)>,
    /// `EIO=4` (Socket.IO rev 5, default) or `EIO=3` (rev 4, Socket.IO 2.x servers).
    pub version: EngineVersion,
    /// The transports to use.
    pub transports: Transports,
    /// v3 polling: accept and send XHR2 binary bodies (`true`, the browser
    /// default) or ask for base64 text with `b64=1` (`false`).
    pub v3_binary_polling: bool,
    /// Reconnect after an unexpected disconnection (`reconnection`, true).
    pub reconnection: bool,
    /// Attempts before giving up; `None` = unlimited (`reconnectionAttempts`, Infinity).
    pub reconnection_attempts: Option<u32>,
    /// First delay (`reconnectionDelay`, 1000 ms).
    pub reconnection_delay: Duration,
    /// Largest delay (`reconnectionDelayMax`, 5000 ms).
    pub reconnection_delay_max: Duration,
    /// Jitter, `0.0..=1.0` (`randomizationFactor`, 0.5).
    pub randomization_factor: f64,
    /// Time an Engine.IO connection attempt may take until the open packet
    /// (`timeout`, 20 s).
    pub timeout: Duration,
    /// Default acknowledgement timeout for emits through the retry queue
    /// (`ackTimeout`, none).
    pub ack_timeout: Option<Duration>,
    /// Re-sends of an acknowledged emit before it fails (`retries`, 0 = no queue).
    pub retries: u32,
    /// Largest number of emits buffered per namespace while it is not connected.
    pub max_buffered_emits: usize,
    /// Largest number of encoded bytes buffered per namespace while it is not connected.
    pub max_buffered_bytes: usize,
    /// Largest inbound WebSocket message or polling body in bytes.
    pub max_payload: usize,
    /// Largest attachment count of one inbound binary packet.
    pub max_attachments: usize,
    /// Largest number of acknowledgements one namespace may await at once.
    pub max_pending_acks: usize,
    /// The Socket.IO packet format (socket.io-client's `parser` option):
    /// [`Parser::Json`] by default; `Parser::MsgPack` (feature `msgpack`)
    /// for a server using `socket.io-msgpack-parser`, with [`EngineVersion::V4`] only.
    pub parser: Parser,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("secure", &self.secure)
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("version", &self.version)
            .field("transports", &self.transports)
            .field("reconnection", &self.reconnection)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A builder for the server at `url` (`http://host:port`, `https://`,
    /// `ws://` or `wss://`; no path: namespaces are joined with
    /// [`crate::client::Client::connect_namespace`]).
    pub fn builder(url: &str) -> ClientConfigBuilder {
        let parsed = parse_origin(url);
        let (secure, authority) = parsed.clone().unwrap_or((false, String::new()));
        ClientConfigBuilder {
            config: ClientConfig {
                secure,
                authority,
                path: "/socket.io/".to_owned(),
                query: Vec::new(),
                headers: Vec::new(),
                version: EngineVersion::V4,
                transports: Transports::PollingThenWebSocket,
                v3_binary_polling: true,
                reconnection: true,
                reconnection_attempts: None,
                reconnection_delay: Duration::from_millis(1000),
                reconnection_delay_max: Duration::from_millis(5000),
                randomization_factor: 0.5,
                timeout: Duration::from_millis(20_000),
                ack_timeout: None,
                retries: 0,
                max_buffered_emits: 1024,
                max_buffered_bytes: 1_000_000,
                max_payload: 1_000_000,
                max_attachments: 10,
                max_pending_acks: 1024,
                parser: Parser::Json,
            },
            url_error: parsed.is_none().then(|| url.to_owned()),
        }
    }

    /// The limits for the Socket.IO decoder.
    pub(crate) fn decoder_config(&self) -> DecoderConfig {
        DecoderConfig {
            max_attachments: self.max_attachments,
            max_attachment_bytes: self.max_payload,
        }
    }
}

/// Splits `scheme://authority` (no path beyond an optional `/`).
fn parse_origin(url: &str) -> Option<(bool, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => false,
        "https" | "wss" => true,
        _ => return None,
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', ' ']) {
        return None;
    }
    Some((secure, authority.to_owned()))
}

/// Why a [`ClientConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// The URL is not `http(s)://host[:port]` or `ws(s)://host[:port]`.
    InvalidUrl(String),
    /// The path must start and end with `/`.
    InvalidPath(String),
    /// `randomization_factor` must be within `0.0..=1.0`.
    InvalidRandomizationFactor,
    /// `reconnection_delay_max` is below `reconnection_delay`, or a delay is zero.
    InvalidDelays,
    /// A limit is zero.
    ZeroLimit(&'static str),
    /// The parser has no form for the chosen protocol version (MessagePack
    /// needs Engine.IO v4).
    ParserNeedsV4,
}

impl fmt::Display for ClientConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientConfigError::InvalidUrl(u) => {
                write!(f, "invalid server URL {u:?}: expected http(s)://host[:port]")
            }
            ClientConfigError::InvalidPath(p) => {
                write!(f, "invalid path {p:?}: it must start and end with '/'")
            }
            ClientConfigError::InvalidRandomizationFactor => {
                f.write_str("randomization_factor must be within 0.0..=1.0")
            }
            ClientConfigError::InvalidDelays => f.write_str(
                "reconnection delays must be non-zero and reconnection_delay_max >= reconnection_delay",
            ),
            ClientConfigError::ZeroLimit(name) => write!(f, "{name} must be at least 1"),
            ClientConfigError::ParserNeedsV4 => {
                f.write_str("this parser needs Engine.IO v4 (Socket.IO 3/4 servers)")
            }
        }
    }
}

impl std::error::Error for ClientConfigError {}

/// Builds a [`ClientConfig`].
///
/// ```
/// use std::time::Duration;
/// use socketio_sansio::client::ClientConfig;
///
/// let config = ClientConfig::builder("http://localhost:3000")
///     .reconnection_attempts(Some(5))
///     .ack_timeout(Some(Duration::from_secs(1)))
///     .retries(3)
///     .build()
///     .unwrap();
/// assert_eq!(config.reconnection_delay, Duration::from_millis(1000));
/// assert!(ClientConfig::builder("localhost").build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder {
    config: ClientConfig,
    url_error: Option<String>,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.config.$name = value;
            self
        }
    };
}

impl ClientConfigBuilder {
    setter!(/// See [`ClientConfig::version`].
        version: EngineVersion);
    setter!(/// See [`ClientConfig::transports`].
        transports: Transports);
    setter!(/// See [`ClientConfig::v3_binary_polling`].
        v3_binary_polling: bool);
    setter!(/// See [`ClientConfig::reconnection`].
        reconnection: bool);
    setter!(/// See [`ClientConfig::reconnection_attempts`].
        reconnection_attempts: Option<u32>);
    setter!(/// See [`ClientConfig::reconnection_delay`].
        reconnection_delay: Duration);
    setter!(/// See [`ClientConfig::reconnection_delay_max`].
        reconnection_delay_max: Duration);
    setter!(/// See [`ClientConfig::randomization_factor`].
        randomization_factor: f64);
    setter!(/// See [`ClientConfig::timeout`].
        timeout: Duration);
    setter!(/// See [`ClientConfig::ack_timeout`].
        ack_timeout: Option<Duration>);
    setter!(/// See [`ClientConfig::retries`].
        retries: u32);
    setter!(/// See [`ClientConfig::max_buffered_emits`].
        max_buffered_emits: usize);
    setter!(/// See [`ClientConfig::max_buffered_bytes`].
        max_buffered_bytes: usize);
    setter!(/// See [`ClientConfig::max_payload`].
        max_payload: usize);
    setter!(/// See [`ClientConfig::max_attachments`].
        max_attachments: usize);
    setter!(/// See [`ClientConfig::max_pending_acks`].
        max_pending_acks: usize);

    setter!(/// See [`ClientConfig::parser`].
        parser: Parser);

    /// See [`ClientConfig::path`].
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Adds a query parameter (see [`ClientConfig::query`]).
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((key.into(), value.into()));
        self
    }

    /// Adds a header (see [`ClientConfig::headers`]).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<ClientConfig, ClientConfigError> {
        let c = self.config;
        if let Some(url) = self.url_error {
            return Err(ClientConfigError::InvalidUrl(url));
        }
        if !c.path.starts_with('/') || !c.path.ends_with('/') {
            return Err(ClientConfigError::InvalidPath(c.path));
        }
        if !(0.0..=1.0).contains(&c.randomization_factor) {
            return Err(ClientConfigError::InvalidRandomizationFactor);
        }
        if c.reconnection_delay.is_zero() || c.reconnection_delay_max < c.reconnection_delay {
            return Err(ClientConfigError::InvalidDelays);
        }
        if !c.parser.supports(c.version) {
            return Err(ClientConfigError::ParserNeedsV4);
        }
        for (name, value) in [
            ("max_buffered_emits", c.max_buffered_emits),
            ("max_buffered_bytes", c.max_buffered_bytes),
            ("max_payload", c.max_payload),
            ("max_pending_acks", c.max_pending_acks),
        ] {
            if value == 0 {
                return Err(ClientConfigError::ZeroLimit(name));
            }
        }
        Ok(c)
    }
}
