//! Server configuration: built by [`ConfigBuilder`], validated in
//! [`ConfigBuilder::build`], shared as `Arc<Config>`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::legacy::LegacyConfig;
use crate::parser::Parser;
use crate::wire::sio::DecoderConfig;

/// A predicate deciding whether a namespace that was not configured up front
/// may be joined (the reference's dynamic namespaces).
pub type NamespacePredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Protocol settings and limits. Field names follow the protocol's own
/// (`pingInterval` → [`Config::ping_interval`], `maxHttpBufferSize` →
/// [`Config::max_payload`]...). Defaults are the reference server's.
#[derive(Clone)]
pub struct Config {
    /// Time between heartbeats (reference `pingInterval`, 25 s).
    pub ping_interval: Duration,
    /// Time to wait for the heartbeat answer (reference `pingTimeout`, 20 s).
    pub ping_timeout: Duration,
    /// Largest WebSocket message / polling POST body in bytes, advertised as
    /// `maxPayload` (reference `maxHttpBufferSize`, 1 000 000).
    pub max_payload: usize,
    /// Time a transport upgrade may take (reference `upgradeTimeout`, 10 s).
    pub upgrade_timeout: Duration,
    /// Time a new connection has to join a namespace (reference `connectTimeout`, 45 s).
    pub connect_timeout: Duration,
    /// Largest attachment count of one binary packet (reference `maxAttachments`, 10).
    pub max_attachments: usize,
    /// Largest number of acknowledgements one socket may await at once.
    pub max_pending_acks: usize,
    /// Largest number of bytes queued for one connection and not yet taken by
    /// the transport. Exceeding it closes the connection
    /// ([`crate::DisconnectReason::OutboundQueueFull`]); volatile emits are
    /// dropped instead once anything is queued. The workspace's drivers take
    /// at most a small window more (256 KiB per connection) before they
    /// report the transport write-blocked
    /// ([`crate::Server::handle_write_blocked`]), so a client that stops
    /// reading holds about this much.
    pub max_outbound_bytes: usize,
    /// Largest number of namespaces one connection may join.
    pub max_namespaces: usize,
    /// Largest number of Engine.IO packets in one polling response; the
    /// rest wait for the next GET. `None` (the default, as the reference):
    /// every queued packet goes in one response. python-engineio's client
    /// refuses a payload of more than 16 packets, so a server that polls
    /// such clients sets 16.
    pub max_packets_per_poll: Option<usize>,
    /// Accept Engine.IO v3 clients (Socket.IO 1.x/2.x). On by default.
    pub allow_eio3: bool,
    /// Send `maxPayload` in the open packet of v3 sessions too (what the
    /// reference 4.x server does; engine.io 3.x did not).
    pub max_payload_in_v3_handshake: bool,
    /// Timers and transports of legacy Socket.IO 0.9 sessions.
    pub legacy: LegacyConfig,
    /// Serve Socket.IO 0.9 clients (`/socket.io/1/...`) beside the modern
    /// protocols. On by default.
    pub serve_legacy: bool,
    /// The URL path prefix, ending with `/` (reference default `/socket.io/`).
    /// Modern requests are recognised by their query; 0.9 requests by the
    /// path after this prefix.
    pub path: String,
    /// A second path prefix (e.g. `/engine.io/`) where sessions are bare
    /// Engine.IO, without Socket.IO on top (as the `engine.io` npm package).
    pub engine_path: Option<String>,
    /// The Socket.IO packet format of every client of this server (as in
    /// Node, one parser per server; default [`Parser::Json`]). With
    /// `Parser::MsgPack` (feature `msgpack`) the server speaks
    /// `socket.io-msgpack-parser`'s format to Engine.IO v4 clients and
    /// refuses v3 handshakes and 0.9 clients, whose protocols have no
    /// MessagePack form (see [`Config::accepts_eio3`]).
    pub parser: Parser,
    namespaces: BTreeSet<String>,
    dynamic_namespaces: Option<NamespacePredicate>,
}

impl Config {
    /// A builder with the reference defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
        }
    }

    /// True if a client may join `nsp`: configured up front, or accepted by the
    /// dynamic predicate.
    pub fn namespace_allowed(&self, nsp: &str) -> bool {
        self.namespaces.contains(nsp) || self.dynamic_namespaces.as_ref().is_some_and(|p| p(nsp))
    }

    /// The namespaces configured up front.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.namespaces.iter().map(String::as_str)
    }

    /// True if `url` (a request target) is under [`Config::engine_path`].
    pub fn is_engine_path(&self, url: &str) -> bool {
        let path = url.split_once('?').map_or(url, |(p, _)| p);
        self.engine_path
            .as_deref()
            .is_some_and(|e| path.starts_with(e) || path == e.trim_end_matches('/'))
    }

    /// True if Engine.IO v3 handshakes are accepted: [`Config::allow_eio3`]
    /// and a parser v3 sessions can use.
    pub fn accepts_eio3(&self) -> bool {
        self.allow_eio3 && self.parser.supports(crate::wire::eio::EngineVersion::V3)
    }

    /// True if Socket.IO 0.9 clients are served: [`Config::serve_legacy`]
    /// and the JSON parser (0.9 has no other).
    pub fn serves_legacy(&self) -> bool {
        self.serve_legacy && self.parser == Parser::Json
    }

    /// The limits for the Socket.IO decoder.
    pub fn decoder_config(&self) -> DecoderConfig {
        DecoderConfig {
            max_attachments: self.max_attachments,
            max_attachment_bytes: self.max_payload,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            upgrade_timeout: Duration::from_millis(10_000),
            connect_timeout: Duration::from_millis(45_000),
            max_attachments: 10,
            max_pending_acks: 1024,
            max_outbound_bytes: 16 * 1024 * 1024,
            max_namespaces: 64,
            max_packets_per_poll: None,
            allow_eio3: true,
            max_payload_in_v3_handshake: true,
            legacy: LegacyConfig::default(),
            serve_legacy: true,
            path: "/socket.io/".to_owned(),
            engine_path: None,
            parser: Parser::Json,
            namespaces: BTreeSet::from(["/".to_owned()]),
            dynamic_namespaces: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("max_payload", &self.max_payload)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_attachments", &self.max_attachments)
            .field("max_pending_acks", &self.max_pending_acks)
            .field("max_outbound_bytes", &self.max_outbound_bytes)
            .field("max_namespaces", &self.max_namespaces)
            .field("max_packets_per_poll", &self.max_packets_per_poll)
            .field("allow_eio3", &self.allow_eio3)
            .field("legacy", &self.legacy)
            .field("parser", &self.parser)
            .field("namespaces", &self.namespaces)
            .field("dynamic_namespaces", &self.dynamic_namespaces.is_some())
            .finish()
    }
}

/// Builds a [`Config`]; every setter has the reference default.
///
/// ```
/// use std::time::Duration;
/// use socketio_sansio::Config;
///
/// let config = Config::builder()
///     .ping_interval(Duration::from_millis(300))
///     .ping_timeout(Duration::from_millis(200))
///     .namespace("/custom")
///     .build()
///     .expect("valid configuration");
/// assert!(config.namespace_allowed("/custom"));
/// assert!(!config.namespace_allowed("/random"));
/// ```
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    config: Config,
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigBuilder {
    /// Sets [`Config::ping_interval`].
    pub fn ping_interval(mut self, value: Duration) -> Self {
        self.config.ping_interval = value;
        self
    }
    /// Sets [`Config::ping_timeout`].
    pub fn ping_timeout(mut self, value: Duration) -> Self {
        self.config.ping_timeout = value;
        self
    }
    /// Sets [`Config::max_payload`].
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.config.max_payload = bytes;
        self
    }
    /// Sets [`Config::upgrade_timeout`].
    pub fn upgrade_timeout(mut self, value: Duration) -> Self {
        self.config.upgrade_timeout = value;
        self
    }
    /// Sets [`Config::connect_timeout`].
    pub fn connect_timeout(mut self, value: Duration) -> Self {
        self.config.connect_timeout = value;
        self
    }
    /// Sets [`Config::max_attachments`].
    pub fn max_attachments(mut self, count: usize) -> Self {
        self.config.max_attachments = count;
        self
    }
    /// Sets [`Config::max_pending_acks`].
    pub fn max_pending_acks(mut self, count: usize) -> Self {
        self.config.max_pending_acks = count;
        self
    }
    /// Sets [`Config::max_outbound_bytes`].
    pub fn max_outbound_bytes(mut self, bytes: usize) -> Self {
        self.config.max_outbound_bytes = bytes;
        self
    }
    /// Sets [`Config::max_namespaces`].
    pub fn max_namespaces(mut self, count: usize) -> Self {
        self.config.max_namespaces = count;
        self
    }
    /// Sets [`Config::max_packets_per_poll`] (at least 1).
    pub fn max_packets_per_poll(mut self, count: usize) -> Self {
        self.config.max_packets_per_poll = Some(count);
        self
    }
    /// Sets [`Config::allow_eio3`].
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.config.allow_eio3 = allow;
        self
    }
    /// Sets [`Config::max_payload_in_v3_handshake`].
    pub fn max_payload_in_v3_handshake(mut self, send: bool) -> Self {
        self.config.max_payload_in_v3_handshake = send;
        self
    }
    /// Sets [`Config::parser`].
    pub fn parser(mut self, parser: Parser) -> Self {
        self.config.parser = parser;
        self
    }
    /// Sets [`Config::serve_legacy`].
    pub fn serve_legacy(mut self, serve: bool) -> Self {
        self.config.serve_legacy = serve;
        self
    }

    /// Sets [`Config::path`] (a missing trailing `/` is added).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.ends_with('/') {
            path.push('/');
        }
        self.config.path = path;
        self
    }

    /// Sets [`Config::engine_path`] (a missing trailing `/` is added).
    pub fn engine_path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.ends_with('/') {
            path.push('/');
        }
        self.config.engine_path = Some(path);
        self
    }

    /// Sets [`Config::legacy`] (the 0.9 timeouts and transports).
    pub fn legacy(mut self, legacy: LegacyConfig) -> Self {
        self.config.legacy = legacy;
        self
    }
    /// Adds a namespace clients may join (`/` is configured by default).
    pub fn namespace(mut self, nsp: impl Into<String>) -> Self {
        self.config.namespaces.insert(nsp.into());
        self
    }
    /// Lets clients join any namespace the predicate accepts, besides the
    /// configured ones (the reference's dynamic namespaces).
    pub fn dynamic_namespaces(
        mut self,
        accept: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config.dynamic_namespaces = Some(Arc::new(accept));
        self
    }

    /// Checks the values and returns the shared configuration.
    pub fn build(self) -> Result<Arc<Config>, ConfigError> {
        let c = &self.config;
        if c.ping_interval.is_zero() || c.ping_timeout.is_zero() {
            return Err(ConfigError(
                "ping_interval and ping_timeout must be greater than zero".into(),
            ));
        }
        if c.max_payload == 0 {
            return Err(ConfigError("max_payload must be greater than zero".into()));
        }
        if c.max_outbound_bytes == 0 {
            return Err(ConfigError(
                "max_outbound_bytes must be greater than zero".into(),
            ));
        }
        if c.max_packets_per_poll == Some(0) {
            return Err(ConfigError(
                "max_packets_per_poll must be greater than zero".into(),
            ));
        }
        c.legacy.validate().map_err(ConfigError)?;
        if let Some(bad) = c
            .namespaces
            .iter()
            .find(|n| !n.starts_with('/') || n.contains(','))
        {
            return Err(ConfigError(format!(
                "namespace {bad:?} must start with '/' and contain no ','"
            )));
        }
        Ok(Arc::new(self.config))
    }
}
