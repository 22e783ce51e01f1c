//! # socketio-blocking
//!
//! A thread-based Socket.IO server on `std::net` + `tungstenite`, serving a
//! [`socketio_sansio::app::App`]. No async runtime.
//!
//! The application (namespaces, middlewares, handlers) is defined with the
//! core's [`app`] module, re-exported here; this crate only moves bytes and
//! reads the clock.
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_blocking::app::{App, ConnectError, Namespace};
//! use socketio_blocking::SocketIo;
//!
//! let app: App = App::new().ns(
//!     "/",
//!     Namespace::new()
//!         .use_middleware(|c| match c.auth().get("token") {
//!             Some(_) => Ok(()),
//!             None => Err(ConnectError::new("not authorized")),
//!         })
//!         .on_connection(|socket| {
//!             let auth = socket.auth().clone();
//!             socket.emit("auth", auth);
//!             socket.on("message", |socket, args, _ack| socket.emit("message-back", args));
//!             socket.on("message-with-ack", |socket, args, ack| {
//!                 if let Some(ack) = ack {
//!                     ack.send(socket, args);
//!                 }
//!             });
//!             // Slow work goes to another thread, with a handle on the socket.
//!             if let Some(remote) = socket.remote_socket() {
//!                 std::thread::spawn(move || {
//!                     let answer = remote.emit_with_ack("question", "ready?", Duration::from_secs(5));
//!                     if let Ok(answer) = answer {
//!                         remote.emit("thanks", answer);
//!                     }
//!                 });
//!             }
//!         }),
//! );
//! let server = SocketIo::builder()
//!     .config(|c| c.ping_interval(Duration::from_secs(25)))
//!     .bind("127.0.0.1:3000", app)
//!     .expect("port is free");
//! server.remote().emit("hello", "everyone");
//! std::thread::sleep(Duration::from_secs(1));
//! server.shutdown();
//! ```
//!
//! ## Threads
//! * one **acceptor** thread (`TcpListener::accept`);
//! * per connection, a **reader** thread (HTTP head, then WebSocket frames)
//!   and a **writer** thread (the only one writing to the socket);
//! * one **driver** thread that owns the [`app::AppServer`] (the core
//!   `Server` and the application) and runs every handler.
//!
//! Handlers (connect middlewares, connection handlers, `socket.on(...)`
//! handlers, disconnect handlers, acknowledgement callbacks) run on the
//! driver thread, one at a time, in the order the events happened; what
//! they do (`emit`, `join`, `on`...) applies at once. They must not block:
//! a handler that sleeps or waits stalls every connection. To wait for an
//! acknowledgement in a handler, use the callback form
//! [`app::Socket::emit_with_ack`]. The blocking
//! [`app::RemoteSocket::emit_with_ack`] and
//! [`app::RemoteOperator::emit_with_ack`] are for other threads: on the
//! driver thread they return [`app::AckError::WouldDeadlock`].
//!
//! Other threads reach the application through a [`app::Remote`]
//! ([`ServerHandle::remote`], [`app::Io::remote`]) or a
//! [`app::RemoteSocket`] ([`app::Socket::remote_socket`]): both are
//! `Clone + Send`, hand them to worker threads. Their operations are
//! commands queued to the driver thread and applied in order.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod driver;
mod http;
mod static_files;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use socketio_sansio::app;
pub use socketio_sansio::{
    Args, Config, ConfigBuilder, Cors, DisconnectReason, EngineData, Handshake,
};

use app::{App, AppServer, CommandSink, Remote};
use conn::ConnContext;
use driver::{Driver, Sink};

/// Every accepted stream (a clone, to shut it down) and its thread.
type Streams = Arc<Mutex<Vec<(TcpStream, JoinHandle<()>)>>>;

/// Configures and starts a server.
pub struct SocketIo;

impl SocketIo {
    /// A builder with the reference defaults.
    pub fn builder() -> Builder {
        Builder {
            config: Config::builder(),
            stack_size: 128 * 1024,
            cors: None,
            static_dir: None,
        }
    }
}

/// Builds a server: protocol settings (path, bare Engine.IO path, ping
/// timers, limits), CORS, static files; [`Builder::bind`] then serves an
/// [`App`].
pub struct Builder {
    config: ConfigBuilder,
    stack_size: usize,
    cors: Option<Cors>,
    static_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("stack_size", &self.stack_size)
            .field("static_dir", &self.static_dir)
            .finish()
    }
}

impl Builder {
    /// Adjusts the protocol configuration: ping interval, limits, the URL
    /// path ([`ConfigBuilder::path`], default `/socket.io/`), the bare
    /// Engine.IO path ([`ConfigBuilder::engine_path`], whose messages go to
    /// [`App::engine_io`])... The application adds its namespaces itself.
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

    /// Stack size of connection threads (default 128 KiB).
    pub fn thread_stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// Also serves the files of `dir` (for examples): a `GET` or `HEAD` for a
    /// path outside the Socket.IO path is answered from it, `/` and
    /// directories with their `index.html`. Paths that would leave `dir`
    /// (`..`, symlinks pointing out...) are refused; other methods get 405.
    /// Without this, such requests get 404. [`Builder::bind`] fails if `dir`
    /// does not exist.
    pub fn serve_static(mut self, dir: impl Into<PathBuf>) -> Self {
        self.static_dir = Some(dir.into());
        self
    }

    /// Binds `addr` and serves `app` on background threads (its handlers
    /// run on the driver thread). Fails if the configuration is invalid,
    /// the static directory is missing, or `addr` cannot be bound.
    pub fn bind<D: Default + Send + 'static>(
        self,
        addr: impl ToSocketAddrs,
        app: App<D>,
    ) -> io::Result<ServerHandle<D>> {
        let mut app = AppServer::new(self.config, app)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let config = app.server().config().clone();
        let static_dir: Option<Arc<Path>> = match &self.static_dir {
            Some(dir) => {
                let canonical = dir.canonicalize().map_err(|e| {
                    io::Error::new(e.kind(), format!("static directory {}: {e}", dir.display()))
                })?;
                if !canonical.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("static directory {} is not a directory", dir.display()),
                    ));
                }
                Some(Arc::from(canonical))
            }
            None => None,
        };
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let (sink, rx) = Sink::channel();
        let remote = Remote::new(sink.clone() as Arc<dyn CommandSink<D>>);
        app.set_remote(remote.clone());
        let driver = Driver::new(app);
        let driver = {
            let sink = sink.clone();
            std::thread::Builder::new()
                .name("sio-driver".into())
                .spawn(move || driver.run(rx, &sink))?
        };
        let stop = Arc::new(AtomicBool::new(false));
        let streams: Streams = Arc::default();
        let ctx = ConnContext {
            driver: sink.driver_tx(),
            path: Arc::from(config.path.as_str()),
            engine_path: config.engine_path.as_deref().map(Arc::from),
            max_payload: config.max_payload,
            stack_size: self.stack_size,
            cors: self.cors.map(Arc::new),
            static_dir,
        };
        let acceptor = {
            let stop = stop.clone();
            let streams = streams.clone();
            std::thread::Builder::new()
                .name("sio-acceptor".into())
                .spawn(move || accept_loop(listener, ctx, stop, streams))
        };
        let acceptor = match acceptor {
            Ok(acceptor) => acceptor,
            Err(e) => {
                remote.shutdown();
                let _ = driver.join();
                return Err(e);
            }
        };
        Ok(ServerHandle {
            local_addr,
            remote,
            stop,
            acceptor: Some(acceptor),
            driver: Some(driver),
            streams,
        })
    }
}

fn accept_loop(listener: TcpListener, ctx: ConnContext, stop: Arc<AtomicBool>, streams: Streams) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("sio-conn".into())
            .stack_size(ctx.stack_size)
            .spawn(move || conn::serve(stream, ctx));
        match spawned {
            Ok(handle) => {
                if let Ok(mut list) = streams.lock() {
                    // Forget connections that are already finished.
                    list.retain(|(_, h)| !h.is_finished());
                    list.push((registered, handle));
                }
            }
            Err(e) => log::warn!("cannot spawn a connection thread: {e}"),
        }
    }
}

/// A running server. Dropping it does not stop the server: call
/// [`ServerHandle::shutdown`].
pub struct ServerHandle<D = ()> {
    local_addr: SocketAddr,
    remote: Remote<D>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    driver: Option<JoinHandle<()>>,
    streams: Streams,
}

impl<D> std::fmt::Debug for ServerHandle<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl<D: 'static> ServerHandle<D> {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle on the application for other threads: broadcasts, one
    /// socket's operations, [`Remote::run`] for anything else.
    pub fn remote(&self) -> Remote<D> {
        self.remote.clone()
    }

    /// Blocks until the driver stops (after [`Remote::shutdown`] from a
    /// handler or another thread... or never: use this in `main` of a
    /// server program).
    pub fn wait(mut self) {
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
    }

    /// Stops accepting, closes every session (clients see the transport
    /// close and may reconnect later), and joins every thread. Blocking
    /// acknowledgement waits still pending end with
    /// [`app::AckError::Disconnected`] or [`app::AckError::ServerStopped`].
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor with a connection of our own.
        let _ = TcpStream::connect(self.local_addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // The driver stops once every session closed.
        self.remote.shutdown();
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
        let streams = std::mem::take(&mut *self.streams.lock().unwrap_or_else(|e| e.into_inner()));
        for (stream, _) in &streams {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        for (_, handle) in streams {
            let _ = handle.join();
        }
    }
}
