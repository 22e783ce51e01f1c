//! # socketio-mio
//!
//! A Socket.IO server on one thread: a [`mio`] event loop that owns the
//! listener, every connection and an [`AppServer`] (the
//! core state machine plus the application). It serves an [`app::App`]: the
//! namespaces, middlewares and handlers are defined once with
//! [`socketio_sansio::app`], and the blocking driver serves the same `App`.
//!
//! * WebSocket (`/socket.io/?EIO=4&transport=websocket`) with a small
//!   in-house frame codec: reads go into one shared scratch buffer (an idle
//!   connection holds no read buffer), everything queued for a connection
//!   in a loop turn is encoded into its output buffer and written with one
//!   `write`, and the buffer goes back to a pool once flushed.
//! * HTTP long-polling (and the upgrade to WebSocket); keep-alive and
//!   optional [`Cors`].
//! * Timers come from the core; the clock is read once per loop turn.
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_mio::app::{App, ConnectError, Namespace};
//! use socketio_mio::{Cors, MioServer};
//!
//! let app: App = App::new().ns(
//!     "/",
//!     Namespace::new()
//!         .use_middleware(|c| match c.auth().get("token") {
//!             Some(_) => Ok(()),
//!             None => Err(ConnectError::new("who are you?")),
//!         })
//!         .on_connection(|socket| {
//!             socket.join("lobby");
//!             socket.on("message", |socket, args, _ack| socket.emit("message-back", args));
//!             socket.on("shout", |socket, args, ack| {
//!                 socket.to("lobby").emit("shout", args);
//!                 if let Some(ack) = ack {
//!                     ack.send(socket, ());
//!                 }
//!             });
//!             // Handlers must not block: ask for an acknowledgement with a callback.
//!             socket.emit_with_ack("ready?", (), Some(Duration::from_secs(5)), |socket, answer| {
//!                 if answer.is_ok() {
//!                     socket.emit("go", ());
//!                 }
//!             });
//!         }),
//! );
//! let server = MioServer::builder()
//!     .config(|c| c.ping_interval(Duration::from_secs(25)))
//!     .cors(Cors::any_origin())
//!     .bind("127.0.0.1:3000", app)?;
//! let remote = server.remote();
//! std::thread::spawn(move || {
//!     std::thread::sleep(Duration::from_secs(60));
//!     remote.of("/").emit("bye", "server going down");
//!     remote.shutdown();
//! });
//! server.run()?; // returns after the shutdown
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Threading
//!
//! Everything runs on the loop thread: the thread that calls
//! [`MioServer::run`] (or the one [`MioServer::spawn`] starts). Handlers
//! and middlewares run inline, inside the loop's turn, one at a time and in
//! the order their input arrived; what they emit is written at the end of
//! the turn, batched per connection. A handler therefore **must not block**:
//! while it runs, no connection is served. To wait for a client's answer,
//! use [`Socket::emit_with_ack`](app::Socket::emit_with_ack) with a
//! callback (it runs on the loop thread when the answer, the timeout or the
//! disconnection comes).
//!
//! Other threads reach the application through a [`Remote`]
//! ([`MioServer::remote`], [`ServerHandle::remote`], or
//! [`Io::remote`](app::Io::remote) in a handler) and its
//! [`RemoteSocket`](app::RemoteSocket)s: each operation is a
//! [`Command`](app::Command) queued for the loop, which is woken and applies
//! it in order. The blocking
//! [`RemoteSocket::emit_with_ack`](app::RemoteSocket::emit_with_ack) waits
//! for the loop, so on the loop thread it returns
//! [`AckError::WouldDeadlock`](app::AckError::WouldDeadlock) at once.
//! [`Remote::shutdown`](app::Remote::shutdown) closes every session and
//! makes the loop return once the goodbyes are written.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod event_loop;
mod http;
mod static_files;
mod ws;

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::thread::JoinHandle;

pub use socketio_sansio::app;
pub use socketio_sansio::{Args, Config, ConfigBuilder, Cors, DisconnectReason, Handshake};

pub use event_loop::MioServer;

use app::{App, AppServer, Remote};

/// Builds a [`MioServer`]: configuration, CORS, then
/// [`Builder::bind`] with the application.
pub struct Builder {
    config: ConfigBuilder,
    cors: Option<Cors>,
    static_dir: Option<PathBuf>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            config: Config::builder(),
            cors: None,
            static_dir: None,
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("cors", &self.cors.is_some())
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Adjusts the protocol settings (ping interval, limits, path, the
    /// bare Engine.IO path...). The application's namespaces are added to
    /// them at [`Builder::bind`].
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.config = f(self.config);
        self
    }

    /// Allows cross-origin polling requests.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Serves the files of `dir` for GET and HEAD requests outside the
    /// Socket.IO paths (`/` is `index.html`), for examples: files are read
    /// on the loop thread. A path must stay inside `dir` (no `..`, symlinks
    /// resolved); anything else is 400 or 404. Without it such requests get
    /// 404.
    pub fn serve_static(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    /// Binds the listener (nonblocking) and builds the server for `app`;
    /// call [`MioServer::run`] or [`MioServer::spawn`] to serve. An invalid
    /// configuration is an [`io::ErrorKind::InvalidInput`] error.
    pub fn bind<D: Default + Send + 'static>(
        self,
        addr: impl ToSocketAddrs,
        app: App<D>,
    ) -> io::Result<MioServer<D>> {
        let server = AppServer::new(self.config, app)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let addr: SocketAddr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
        let static_dir = match self.static_dir {
            Some(dir) => Some(dir.canonicalize().map_err(|e| {
                io::Error::new(e.kind(), format!("static directory {}: {e}", dir.display()))
            })?),
            None => None,
        };
        MioServer::new(server, addr, self.cors, static_dir)
    }
}

/// A server running on its own thread ([`MioServer::spawn`]). Dropping it
/// does not stop the server: call [`ServerHandle::shutdown`].
pub struct ServerHandle<D = ()> {
    local_addr: SocketAddr,
    remote: Remote<D>,
    thread: JoinHandle<io::Result<()>>,
}

impl<D> fmt::Debug for ServerHandle<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl<D: 'static> ServerHandle<D> {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The handle other threads use to reach the application.
    pub fn remote(&self) -> Remote<D> {
        self.remote.clone()
    }

    /// Blocks until the loop stops (after a [`Remote::shutdown`] from
    /// elsewhere), with its result.
    pub fn wait(self) -> io::Result<()> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the server thread panicked")))
    }

    /// Closes every session, waits until the goodbyes are written and the
    /// loop has stopped, with its result.
    pub fn shutdown(self) -> io::Result<()> {
        self.remote.shutdown();
        self.wait()
    }
}
