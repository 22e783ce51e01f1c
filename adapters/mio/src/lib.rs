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
//! * HTTP parsing, routing (Socket.IO, the 0.9 endpoints, the bare
//!   Engine.IO path, static files via [`Builder::serve_static`]), WebSocket
//!   handshake validation and the frame codec come from `socketio-http`,
//!   shared with the blocking driver.
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

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::thread::JoinHandle;

pub use socketio_sansio::app;
pub use socketio_sansio::{Args, Config, ConfigBuilder, Cors, DisconnectReason, Handshake};

pub use event_loop::MioServer;

use app::{App, Remote};

/// The server builder of this driver (shared by every driver: protocol
/// settings, CORS, static files); [`Builder::bind`] returns a
/// [`MioServer`] to [`MioServer::run`] or [`MioServer::spawn`].
pub type Builder = socketio_http::Builder<EventLoop>;

/// This driver's options (none yet), the [`socketio_http::Driver`] that
/// binds a [`MioServer`]. Static files are read on the loop thread: keep
/// them small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventLoop;

impl socketio_http::Driver for EventLoop {
    type Server<D> = MioServer<D>;

    /// Binds the listener (nonblocking) and builds the server for `app`;
    /// call [`MioServer::run`] or [`MioServer::spawn`] to serve. An invalid
    /// configuration is an [`io::ErrorKind::InvalidInput`] error.
    fn bind<D: Default + Send + 'static>(
        builder: Builder,
        addr: SocketAddr,
        app: App<D>,
    ) -> io::Result<MioServer<D>> {
        let (server, router, EventLoop) = builder.into_parts(app)?;
        MioServer::new(server, addr, router)
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
