//! # socketio-blocking
//!
//! A thread-based Socket.IO server on `std::net`, serving a
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
//! * per connection **one** thread at a time: a connection thread reads
//!   HTTP heads and serves long-polling requests; a WebSocket upgrade hands
//!   the connection to a fresh **reader** thread (the frames), so that the
//!   stack pages the HTTP handling touched do not stay resident;
//! * one **driver** thread that owns the [`app::AppServer`] (the core
//!   `Server` and the application), runs every handler, and writes the
//!   WebSocket frames itself: every frame a connection got in one turn in
//!   one non-blocking `send` (`MSG_DONTWAIT` on Unix);
//! * a **writer** thread only for a connection whose socket is full (a
//!   slow or stalled client): it gets the rest and every later byte of that
//!   connection (frames never interleave), blocks in `write`, and is
//!   retired once it has written everything. Without a per-call
//!   non-blocking send (non-Unix targets), every WebSocket keeps a writer.
//!
//! A connection thread announces a POST whose body is still arriving to
//! the driver (the core refuses a second POST for the session meanwhile)
//! and reports it lost if the body never comes whole. Closing a WebSocket
//! follows RFC 6455 without blocking the driver: after our close frame
//! (written by the driver, or by the writer behind the backlog) the reader
//! goes on reading, dropping data frames, and the socket is shut down
//! once the peer's close frame (or EOF) came, at most
//! `Builder::ws_close_timeout` later (default 1 s); a close the peer
//! starts is answered with its code. A second WebSocket for an upgraded
//! session is accepted (`101`) and closed at once by its connection
//! thread, which waits (as long at most) for the client's close frame.
//!
//! A connection is one file descriptor (the threads share one
//! `Arc<TcpStream>`); an idle WebSocket costs one blocked reader (a few
//! stack pages of the [`Threads::websocket_stack_size`] reserved) and no
//! buffer: about 19 kB of RSS with the core's session, enough for 10,000
//! connections in one process.
//!
//! A writer blocked on a client that stops reading never stalls the
//! driver or other connections: the driver hands a writer at most 256 KiB
//! it has not written yet, then leaves further frames in the core, where
//! they count toward [`Config::max_outbound_bytes`]. Past that limit the
//! connection closes with [`DisconnectReason::OutboundQueueFull`] and its
//! socket is shut down, dropping what the writer still held.
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
mod window;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;

pub use socketio_sansio::app;
pub use socketio_sansio::{
    Args, Config, ConfigBuilder, Cors, DisconnectReason, EngineData, Handshake,
};

use app::{App, CommandSink, Remote};
use conn::{ConnContext, WriterSpawn};
use driver::{Driver, Sink};

/// Every accepted stream (to shut it down; not holding its descriptor
/// open) and its thread.
pub(crate) type Streams = Arc<Mutex<Vec<(Weak<TcpStream>, JoinHandle<()>)>>>;

/// Configures and starts a server.
pub struct SocketIo;

impl SocketIo {
    /// A builder with the reference defaults: protocol settings
    /// ([`Builder::config`]), CORS, static files, this driver's options
    /// ([`Builder::driver`], see [`Threads`]); [`Builder::bind`] then serves
    /// an [`App`]. The same builder as every other driver's.
    pub fn builder() -> Builder {
        Builder::new(Threads::default())
    }
}

/// The server builder of this driver (shared by every driver; its
/// driver-specific options are [`Threads`]).
pub type Builder = socketio_http::Builder<Threads>;

/// This driver's own options, set with [`Builder::driver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threads {
    stack_size: usize,
    ws_stack_size: usize,
}

impl Default for Threads {
    fn default() -> Self {
        Threads {
            stack_size: 128 * 1024,
            ws_stack_size: 64 * 1024,
        }
    }
}

impl Threads {
    /// Stack size of connection threads, which read HTTP heads and serve
    /// long-polling requests (default 128 KiB: reserved address space;
    /// only the pages a thread touches count in RSS).
    pub fn thread_stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// Stack size of WebSocket reader and writer threads (default 64 KiB;
    /// they parse and write frames, nothing deeper: the HTTP handling,
    /// compression included, stays on the connection threads).
    pub fn websocket_stack_size(mut self, bytes: usize) -> Self {
        self.ws_stack_size = bytes;
        self
    }
}

impl socketio_http::Driver for Threads {
    type Server<D> = ServerHandle<D>;

    /// Binds `addr` and serves `app` on background threads (its handlers
    /// run on the driver thread). Fails if the configuration is invalid,
    /// the static directory is missing, or `addr` cannot be bound.
    fn bind<D: Default + Send + 'static>(
        builder: Builder,
        addr: SocketAddr,
        app: App<D>,
    ) -> io::Result<ServerHandle<D>> {
        let (mut app, router, threads) = builder.into_parts(app)?;
        let router = Arc::new(router);
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        let (sink, rx) = Sink::channel();
        let remote = Remote::new(sink.clone() as Arc<dyn CommandSink<D>>);
        app.set_remote(remote.clone());
        let writers = WriterSpawn {
            driver: sink.driver_tx(),
            stack_size: threads.ws_stack_size,
        };
        let driver = Driver::new(app, router.clone(), writers);
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
            router,
            stack_size: threads.stack_size,
            ws_stack_size: threads.ws_stack_size,
            streams: streams.clone(),
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
        // Frames are written whole: waiting for more bytes only adds latency.
        let _ = stream.set_nodelay(true);
        // One descriptor per connection: the reader, the driver and a
        // writer share it.
        let stream = Arc::new(stream);
        let registered = Arc::downgrade(&stream);
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("sio-conn".into())
            .stack_size(ctx.stack_size)
            .spawn(move || conn::serve(stream, ctx));
        match spawned {
            Ok(handle) => register(&streams, registered, handle),
            Err(e) => log::warn!("cannot spawn a connection thread: {e}"),
        }
    }
}

/// Registers a connection thread for shutdown.
pub(crate) fn register(streams: &Streams, stream: Weak<TcpStream>, handle: JoinHandle<()>) {
    if let Ok(mut list) = streams.lock() {
        // Forget connections that are already finished, when the list
        // would grow (amortized: not a scan per connection).
        if list.len() == list.capacity() {
            list.retain(|(_, h)| !h.is_finished());
        }
        list.push((stream, handle));
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
            if let Some(stream) = stream.upgrade() {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
        for (_, handle) in streams {
            let _ = handle.join();
        }
    }
}
