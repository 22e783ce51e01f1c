//! [`ClientOptions`] (what [`crate::connect`] takes), the per-namespace
//! [`Handlers`] and the TLS trust anchors ([`TlsRoots`]).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use socketio_sansio::client::{ClientConfigBuilder, ClientDisconnectReason, Transports};
use socketio_sansio::{Args, EngineVersion};

use crate::context::{Ack, Socket};
use crate::error::Error;

pub(crate) type EventHandler = Box<dyn FnMut(&mut Socket<'_>, Args, Option<Ack>) + Send>;
pub(crate) type AnyHandler = Box<dyn FnMut(&mut Socket<'_>, &str, &Args) + Send>;
pub(crate) type ConnectHandler = Box<dyn FnMut(&mut Socket<'_>) + Send>;
pub(crate) type DisconnectHandler = Box<dyn FnMut(&mut Socket<'_>, &ClientDisconnectReason) + Send>;
pub(crate) type ConnectErrorHandler = Box<dyn FnMut(&mut Socket<'_>, &str, Option<&Value>) + Send>;
pub(crate) type ReconnectHandler = Box<dyn FnMut(&mut Socket<'_>, u32) + Send>;

/// The handlers of one namespace, mirroring the server application's
/// `socket.on(..)`. They all run on the connection's I/O thread (see the
/// [crate documentation](crate#threads)), one at a time, in the order the
/// packets arrived.
#[derive(Default)]
pub struct Handlers {
    pub(crate) events: HashMap<String, EventHandler>,
    pub(crate) any: Vec<AnyHandler>,
    pub(crate) connect: Vec<ConnectHandler>,
    pub(crate) disconnect: Vec<DisconnectHandler>,
    pub(crate) connect_error: Vec<ConnectErrorHandler>,
    pub(crate) reconnect: Vec<ReconnectHandler>,
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("events", &self.events.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Handlers {
    /// No handlers.
    pub fn new() -> Self {
        Handlers::default()
    }

    /// The handler of `event` (one per name; a later one replaces it): the
    /// arguments and, when the server asked for one, the [`Ack`] to answer.
    pub fn on(
        mut self,
        event: impl Into<String>,
        handler: impl FnMut(&mut Socket<'_>, Args, Option<Ack>) + Send + 'static,
    ) -> Self {
        self.events.insert(event.into(), Box::new(handler));
        self
    }

    /// A listener for every incoming event (socket.io's `onAny`), run
    /// before the event's own handler.
    pub fn on_any(
        mut self,
        listener: impl FnMut(&mut Socket<'_>, &str, &Args) + Send + 'static,
    ) -> Self {
        self.any.push(Box::new(listener));
        self
    }

    /// The namespace connected (again, after a reconnection).
    pub fn on_connect(mut self, handler: impl FnMut(&mut Socket<'_>) + Send + 'static) -> Self {
        self.connect.push(Box::new(handler));
        self
    }

    /// The namespace disconnected, with socket.io's reason
    /// ([`ClientDisconnectReason::as_str`]: "io server disconnect",
    /// "transport close"...). Unless the reason is a server-side or a
    /// client-side disconnect, a reconnection follows.
    pub fn on_disconnect(
        mut self,
        handler: impl FnMut(&mut Socket<'_>, &ClientDisconnectReason) + Send + 'static,
    ) -> Self {
        self.disconnect.push(Box::new(handler));
        self
    }

    /// A connection attempt failed (message, optional data): the server
    /// refused the namespace, or the transport failed before it connected.
    pub fn on_connect_error(
        mut self,
        handler: impl FnMut(&mut Socket<'_>, &str, Option<&Value>) + Send + 'static,
    ) -> Self {
        self.connect_error.push(Box::new(handler));
        self
    }

    /// A reconnection attempt (its number) opened a new session; the
    /// namespace connects again next (`on_connect`).
    pub fn on_reconnect(
        mut self,
        handler: impl FnMut(&mut Socket<'_>, u32) + Send + 'static,
    ) -> Self {
        self.reconnect.push(Box::new(handler));
        self
    }
}

/// Which certificate authorities a `https://`/`wss://` server may chain to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsRoots {
    /// The Mozilla root program (the `webpki-roots` crate): public servers.
    #[default]
    WebPki,
    /// Only these DER certificates: a private CA, or a self-signed test
    /// server's own certificate.
    Custom(Vec<Vec<u8>>),
}

impl TlsRoots {
    /// The certificates of a PEM file (`-----BEGIN CERTIFICATE-----`
    /// blocks), e.g. a private CA or a test server's self-signed certificate.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<TlsRoots, Error> {
        let path = path.as_ref();
        let pem = std::fs::read(path)
            .map_err(|e| Error::Tls(format!("cannot read {}: {e}", path.display())))?;
        TlsRoots::from_pem(&pem)
    }

    /// The certificates of PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<TlsRoots, Error> {
        let certs = crate::tls::pem_certificates(pem)?;
        if certs.is_empty() {
            return Err(Error::Tls(
                "no -----BEGIN CERTIFICATE----- block in the PEM data".into(),
            ));
        }
        Ok(TlsRoots::Custom(certs))
    }
}

type ConfigFn = Box<dyn FnOnce(ClientConfigBuilder) -> ClientConfigBuilder + Send>;

/// How to connect: transports, protocol version, path, query, headers,
/// auth, reconnection, TLS roots, and the handlers of the namespace in the
/// URL. Defaults are socket.io-client 4.x's.
///
/// ```
/// use std::time::Duration;
/// use serde_json::json;
/// use socketio_client::{ClientOptions, Handlers, Transports};
///
/// let options = ClientOptions::new()
///     .transports(Transports::WebSocket)
///     .auth(json!({"token": "abc"}))
///     .header("X-Client", "docs")
///     .query("room", "lobby")
///     .path("/socket.io/")
///     .reconnection_delay(Duration::from_millis(200), Duration::from_secs(2))
///     .handlers(Handlers::new().on("news", |_socket, args, _ack| {
///         println!("news: {:?}", args.values);
///     }));
/// # drop(options);
/// ```
pub struct ClientOptions {
    pub(crate) config: Vec<ConfigFn>,
    pub(crate) auth: Option<Value>,
    pub(crate) handlers: Handlers,
    pub(crate) tls_roots: TlsRoots,
    pub(crate) connect_timeout: Duration,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("auth", &self.auth)
            .field("handlers", &self.handlers)
            .field("tls_roots", &self.tls_roots)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions::new()
    }
}

impl ClientOptions {
    /// socket.io-client's defaults: polling then WebSocket, Engine.IO v4,
    /// path `/socket.io/`, reconnection on, a 20 s connect timeout.
    pub fn new() -> Self {
        ClientOptions {
            config: Vec::new(),
            auth: None,
            handlers: Handlers::new(),
            tls_roots: TlsRoots::WebPki,
            connect_timeout: Duration::from_secs(20),
        }
    }

    fn with(
        mut self,
        f: impl FnOnce(ClientConfigBuilder) -> ClientConfigBuilder + Send + 'static,
    ) -> Self {
        self.config.push(Box::new(f));
        self
    }

    /// The transports (`transports`).
    pub fn transports(self, transports: Transports) -> Self {
        self.with(move |b| b.transports(transports))
    }

    /// `EngineVersion::V3` for Socket.IO 2.x servers (Socket.IO rev 4; the
    /// auth is not sent for `/`, put it in the query), `V4` (default).
    pub fn version(self, version: EngineVersion) -> Self {
        self.with(move |b| b.version(version))
    }

    /// The Socket.IO parser (socket.io-client's `parser`): `Parser::Json`
    /// (default), or `Parser::MsgPack` (feature `msgpack`) for a server
    /// using `socket.io-msgpack-parser` (Engine.IO v4 only).
    pub fn parser(self, parser: socketio_sansio::Parser) -> Self {
        self.with(move |b| b.parser(parser))
    }

    /// The Engine.IO path (`path`, default `/socket.io/`).
    pub fn path(self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.with(move |b| b.path(path))
    }

    /// Adds a query parameter sent with every Engine.IO request (`query`).
    pub fn query(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        self.with(move |b| b.query(key, value))
    }

    /// Adds a header sent with every HTTP request and WebSocket handshake
    /// (`extraHeaders`).
    pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        self.with(move |b| b.header(name, value))
    }

    /// The auth payload of the URL's namespace (`auth`; rev 5 servers).
    pub fn auth(mut self, auth: Value) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Reconnect after an unexpected disconnection (`reconnection`, on).
    pub fn reconnection(self, on: bool) -> Self {
        self.with(move |b| b.reconnection(on))
    }

    /// The first and the largest reconnection delay
    /// (`reconnectionDelay`, `reconnectionDelayMax`: 1 s, 5 s).
    pub fn reconnection_delay(self, first: Duration, max: Duration) -> Self {
        self.with(move |b| b.reconnection_delay(first).reconnection_delay_max(max))
    }

    /// Attempts before giving up (`reconnectionAttempts`, unlimited).
    pub fn reconnection_attempts(self, attempts: Option<u32>) -> Self {
        self.with(move |b| b.reconnection_attempts(attempts))
    }

    /// Any other setting of the state machine's
    /// [`socketio_sansio::client::ClientConfig`].
    pub fn configure(
        self,
        f: impl FnOnce(ClientConfigBuilder) -> ClientConfigBuilder + Send + 'static,
    ) -> Self {
        self.with(f)
    }

    /// The handlers of the URL's namespace.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = handlers;
        self
    }

    /// The certificate authorities for `https://`/`wss://` (web PKI by default).
    pub fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }

    /// How long [`crate::connect`] and [`crate::Client::socket`] wait for the
    /// namespace to connect, retrying failed attempts meanwhile (20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}
