//! # socketio-blocking
//!
//! A thread-based Socket.IO server on `std::net` + `tungstenite`, driving the
//! [`socketio_sansio`] state machine. No async runtime.
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_blocking::SocketIo;
//!
//! let server = SocketIo::builder()
//!     .ns("/", |socket, auth| {
//!         socket.emit("auth", auth.clone());
//!         socket.on("message", |socket, args, _ack| socket.emit("message-back", args));
//!         socket.on("message-with-ack", |_socket, args, ack| {
//!             if let Some(ack) = ack {
//!                 ack.send(args);
//!             }
//!         });
//!         Ok(())
//!     })
//!     .bind("127.0.0.1:3000")
//!     .expect("port is free");
//! server.io().emit("hello", "everyone");
//! std::thread::sleep(Duration::from_secs(1));
//! server.shutdown();
//! ```
//!
//! ## Threads
//! * one **acceptor** thread (`TcpListener::accept`);
//! * per connection, a **reader** thread (HTTP head, then WebSocket frames)
//!   and a **writer** thread (the only one writing to the socket);
//! * one **driver** thread that owns the `Server` and runs every handler.
//!
//! Handlers (namespace connection handlers, `socket.on(...)` handlers,
//! disconnect handlers, ack callbacks) run on the driver thread, one at a
//! time, in the order the events happened. They must not block: a handler
//! that sleeps or waits stalls every connection. Commands issued in a
//! handler (`emit`, `join`, `on`...) take effect when it returns. To wait
//! for an acknowledgement, use [`Socket::emit_with_ack_then`] in handlers;
//! the blocking [`Socket::emit_with_ack`] is for other threads (it returns
//! [`AckError::WouldDeadlock`] when called from a handler). [`Socket`] and
//! [`Io`] are `Clone + Send`: hand them to worker threads for slow work.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod conn;
mod driver;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::Value;
use socketio_http::Router;
pub use socketio_sansio::{Args, Config, ConfigBuilder, DisconnectReason, EngineData, Handshake};

pub use api::{
    AckError, AckResult, AckSender, Broadcaster, ConnectError, EngineSocket, Io, Socket,
};
use api::{Command, CommandSender, ConnectHandler, EngineHandler, Msg, NamespaceFilter};
pub use socketio_sansio::Cors;

/// Every accepted stream (a clone, to shut it down) and its thread.
type Streams = Arc<Mutex<Vec<(TcpStream, JoinHandle<()>)>>>;
use conn::ConnContext;
use driver::{Driver, Namespaces};

static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(1);

/// Configures and starts a server.
pub struct SocketIo;

impl SocketIo {
    /// A builder with the reference defaults and no namespace yet.
    pub fn builder() -> Builder {
        Builder {
            config: Config::builder(),
            namespaces: HashMap::new(),
            dynamic: None,
            stack_size: 128 * 1024,
            engine_handler: None,
            cors: None,
            static_dir: None,
        }
    }
}

/// Builds a server: namespaces with their connection handlers, protocol
/// settings, the path.
pub struct Builder {
    config: ConfigBuilder,
    namespaces: HashMap<String, ConnectHandler>,
    dynamic: Option<(NamespaceFilter, ConnectHandler)>,
    stack_size: usize,
    engine_handler: Option<EngineHandler>,
    cors: Option<Cors>,
    static_dir: Option<PathBuf>,
}

impl Builder {
    /// Adjusts the protocol configuration (ping interval, limits...).
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.config = f(self.config);
        self
    }

    /// The URL path prefix (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.ends_with('/') {
            path.push('/');
        }
        self.config = self.config.path(path);
        self
    }

    /// Also serves bare Engine.IO (no Socket.IO on top, as the `engine.io`
    /// npm package) under `path` (e.g. `/engine.io/`), on the same port:
    /// `on_message` runs on the driver thread for every message.
    pub fn engine_io(
        mut self,
        path: impl Into<String>,
        on_message: impl Fn(&EngineSocket, EngineData) + Send + Sync + 'static,
    ) -> Self {
        self.config = self.config.engine_path(path);
        self.engine_handler = Some(Arc::new(on_message));
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

    /// Serves namespace `nsp`: `on_connect` runs for every client that joins
    /// it, with the socket and its auth data; return `Err` to refuse.
    pub fn ns(
        mut self,
        nsp: impl Into<String>,
        on_connect: impl Fn(&Socket, &Value) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> Self {
        let nsp = nsp.into();
        self.config = self.config.namespace(nsp.clone());
        self.namespaces.insert(nsp, Arc::new(on_connect));
        self
    }

    /// Serves every namespace `accept` approves that has no handler of its
    /// own, with `on_connect` (the reference's dynamic namespaces).
    pub fn dynamic_ns(
        mut self,
        accept: impl Fn(&str) -> bool + Send + Sync + 'static,
        on_connect: impl Fn(&Socket, &Value) -> Result<(), ConnectError> + Send + Sync + 'static,
    ) -> Self {
        let accept: NamespaceFilter = Arc::new(accept);
        let shared = accept.clone();
        self.config = self.config.dynamic_namespaces(move |n| shared(n));
        self.dynamic = Some((accept, Arc::new(on_connect)));
        self
    }

    /// Binds `addr` and starts serving on background threads.
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<ServerHandle> {
        let config = self
            .config
            .build()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let router = Router::new(config.clone())
            .with_cors(self.cors)
            .with_static_dir(self.static_dir.as_deref())?;
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let server_id = NEXT_SERVER_ID.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        let cmd = CommandSender {
            server_id,
            tx: tx.clone(),
        };
        let server = socketio_sansio::Server::new(config.clone());
        let driver = Driver::new(
            server,
            Namespaces {
                fixed: self.namespaces,
                dynamic: self.dynamic,
                engine: self.engine_handler,
            },
            cmd.clone(),
        );
        let done = Arc::new(Mutex::new(false));
        let driver_done = done.clone();
        let driver = std::thread::Builder::new()
            .name("sio-driver".into())
            .spawn(move || driver.run(rx, driver_done))?;
        let stop = Arc::new(AtomicBool::new(false));
        let streams: Streams = Arc::default();
        let ctx = ConnContext {
            driver: tx,
            router: Arc::new(router),
            stack_size: self.stack_size,
        };
        let acceptor = {
            let stop = stop.clone();
            let streams = streams.clone();
            std::thread::Builder::new()
                .name("sio-acceptor".into())
                .spawn(move || accept_loop(listener, ctx, stop, streams))?
        };
        Ok(ServerHandle {
            local_addr,
            io: Io { cmd },
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
pub struct ServerHandle {
    local_addr: SocketAddr,
    io: Io,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    driver: Option<JoinHandle<()>>,
    streams: Streams,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Server-wide operations (broadcasts).
    pub fn io(&self) -> Io {
        self.io.clone()
    }

    /// Blocks until the server stops (it only stops through `shutdown` from
    /// another handle... or never: use this in `main` of a server program).
    pub fn wait(mut self) {
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
    }

    /// Stops accepting, closes every session (clients see the transport
    /// close and may reconnect later), and joins every thread.
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor with a connection of our own.
        let _ = TcpStream::connect(self.local_addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // The driver stops once every session closed.
        let _ = self.io.cmd.tx.send(Msg::Cmd(Command::Shutdown));
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
