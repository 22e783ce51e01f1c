//! One builder for every driver: the protocol configuration, CORS and
//! static files are set the same way whichever driver serves the
//! application; only `bind` (and the driver's own options) differ. A user
//! picks a driver for its threading model, never for its API.
//!
//! ```
//! use socketio_http::{Builder, Driver};
//! use socketio_sansio::app::App;
//!
//! /// A driver that only builds the parts (a real one starts serving).
//! struct Dry;
//!
//! impl Driver for Dry {
//!     type Server<D> = usize;
//!     fn bind<D: Default + Send + 'static>(
//!         builder: Builder<Self>,
//!         _addr: std::net::SocketAddr,
//!         app: App<D>,
//!     ) -> std::io::Result<usize> {
//!         let (server, _router, _driver) = builder.into_parts(app)?;
//!         Ok(server.namespaces().len())
//!     }
//! }
//!
//! let app: App = App::new().ns("/", Default::default());
//! let served = Builder::new(Dry)
//!     .config(|c| c.max_payload(1_000))
//!     .bind("127.0.0.1:0", app)
//!     .unwrap();
//! assert_eq!(served, 1);
//! ```

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use socketio_sansio::app::{App, AppServer};
use socketio_sansio::{Config, ConfigBuilder, Cors};

use crate::compress::DEFAULT_THRESHOLD;
use crate::handshake::{AllowRequest, Cookie, HandshakeRequest, Refusal};
use crate::route::DEFAULT_WS_CLOSE_TIMEOUT;
use crate::Router;

/// A driver: how a configured [`Builder`] starts serving an application.
pub trait Driver: Sized {
    /// What [`Builder::bind`] returns (a running server or one to run).
    type Server<D>;

    /// Binds `addr` and sets up the server for `app`; drivers build the core
    /// and the HTTP router with [`Builder::into_parts`].
    fn bind<D: Default + Send + 'static>(
        builder: Builder<Self>,
        addr: SocketAddr,
        app: App<D>,
    ) -> io::Result<Self::Server<D>>;
}

/// Configures a server: protocol settings, CORS, static files, and the
/// driver's own options (`T`); [`Builder::bind`] starts it.
pub struct Builder<T> {
    config: ConfigBuilder,
    cors: Option<Cors>,
    static_dir: Option<PathBuf>,
    allow: Option<AllowRequest>,
    cookie: Option<Cookie>,
    compression: Option<usize>,
    ws_close_timeout: Duration,
    driver: T,
}

impl<T: fmt::Debug> fmt::Debug for Builder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field("cors", &self.cors.is_some())
            .field("static_dir", &self.static_dir)
            .field("allow_request", &self.allow.is_some())
            .field("cookie", &self.cookie)
            .field("compression", &self.compression)
            .field("ws_close_timeout", &self.ws_close_timeout)
            .field("driver", &self.driver)
            .finish()
    }
}

impl<T> Builder<T> {
    /// A builder with the reference defaults for `driver`.
    pub fn new(driver: T) -> Self {
        Builder {
            config: Config::builder(),
            cors: None,
            static_dir: None,
            allow: None,
            cookie: None,
            compression: Some(DEFAULT_THRESHOLD),
            ws_close_timeout: DEFAULT_WS_CLOSE_TIMEOUT,
            driver,
        }
    }

    /// Adjusts the protocol configuration (ping interval, limits, path, the
    /// bare Engine.IO path...). The application's namespaces are added to
    /// it at [`Builder::bind`].
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.config = f(self.config);
        self
    }

    /// Answers cross-origin polling requests from these origins (default:
    /// no CORS headers, so browsers refuse cross-origin polling).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Also serves the files of `dir` (for examples): a `GET` or `HEAD` for a
    /// path outside the Socket.IO paths is answered from it, `/` and
    /// directories with their `index.html`. Paths that would leave `dir`
    /// (`..`, symlinks pointing out...) are refused; other methods get 405.
    /// Without this, such requests get 404. [`Builder::bind`] fails if `dir`
    /// does not exist.
    pub fn serve_static(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    /// Asks `allow` about the first request of every session (a polling
    /// handshake `GET` or a WebSocket upgrade without `sid`), as socket.io's
    /// `allowRequest`: it sees the method, URL, headers and the peer's
    /// address; a [`Refusal`] is answered before any session exists (`403`
    /// `{"code":4,"message":"Forbidden"}` for polling, `400` with the
    /// message for a WebSocket, as engine.io) and the core never sees it.
    ///
    /// ```
    /// use socketio_http::{Builder, Refusal};
    /// let builder = Builder::new(()).allow_request(|req| match req.query("token") {
    ///     Some("secret") => Ok(()),
    ///     _ => Err(Refusal::forbidden()),
    /// });
    /// # let _ = builder;
    /// ```
    pub fn allow_request(
        mut self,
        allow: impl Fn(&HandshakeRequest<'_>) -> Result<(), Refusal> + Send + Sync + 'static,
    ) -> Self {
        self.allow = Some(AllowRequest::new(allow));
        self
    }

    /// Sets `cookie` with the new sid on every handshake's answer (polling
    /// and WebSocket), as engine.io's `cookie` option; default: no cookie.
    /// `Cookie::default()` is engine.io's `io=<sid>; Path=/; HttpOnly;
    /// SameSite=Lax`.
    pub fn cookie(mut self, cookie: Cookie) -> Self {
        self.cookie = Some(cookie);
        self
    }

    /// Compresses polling answers of at least `threshold` bytes with gzip or
    /// deflate (as the request's `Accept-Encoding` allows); none turns it
    /// off. Default: on, 1024 bytes (engine.io's `httpCompression`).
    /// WebSocket messages are never compressed.
    pub fn http_compression(mut self, threshold: Option<usize>) -> Self {
        self.compression = threshold;
        self
    }

    /// How long a WebSocket the server closes waits for the client's close
    /// frame before the TCP connection is closed (default 1 s). Both
    /// drivers send their close frame, keep reading (and dropping data
    /// frames) until the client's close frame or EOF, at most this long,
    /// then close the socket.
    pub fn ws_close_timeout(mut self, timeout: Duration) -> Self {
        self.ws_close_timeout = timeout;
        self
    }

    /// Adjusts the driver's own options.
    pub fn driver(mut self, f: impl FnOnce(T) -> T) -> Self {
        self.driver = f(self.driver);
        self
    }

    /// For drivers: the running application (the core with the app's
    /// namespaces), the HTTP router and the driver's options. An invalid
    /// configuration is [`io::ErrorKind::InvalidInput`]; a missing static
    /// directory the file system's error.
    pub fn into_parts<D: Default + Send + 'static>(
        self,
        app: App<D>,
    ) -> io::Result<(AppServer<D>, Router, T)> {
        let server = AppServer::new(self.config, app)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let router = Router::new(server.server().config().clone())
            .with_cors(self.cors)
            .with_allow_request(self.allow)
            .with_cookie(self.cookie)
            .with_compression(self.compression)
            .with_ws_close_timeout(self.ws_close_timeout)
            .with_static_dir(self.static_dir.as_deref())?;
        Ok((server, router, self.driver))
    }
}

impl<T: Driver> Builder<T> {
    /// Binds `addr` (its first address) and serves `app` with the driver.
    pub fn bind<D: Default + Send + 'static>(
        self,
        addr: impl ToSocketAddrs,
        app: App<D>,
    ) -> io::Result<T::Server<D>> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to bind"))?;
        T::bind(self, addr, app)
    }
}
