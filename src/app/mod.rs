//! The application layer: socket.io 4.x's server API as a pure state
//! machine over the core [`Server`](crate::Server). No I/O, no threads, no
//! clock reads: every driver (threads, an event loop, a simulation) serves
//! the same [`App`] through an [`AppServer`].
//!
//! * [`App`] defines the application: namespaces ([`App::ns`], dynamic
//!   ones with [`App::dynamic_ns`]), connect middlewares
//!   ([`Namespace::use_middleware`], [`App::use_middleware`] for `io.use`),
//!   connection handlers, and the bare Engine.IO handler.
//! * In a connection handler the [`Socket`] registers its event handlers
//!   (`on`, `on_any`, `on_any_outgoing`, `use_middleware`, `on_error`,
//!   `on_disconnect`) and acts: `emit`, `emit_with_ack` (callback and
//!   timeout, exactly one outcome), `join`/`leave`, `to`/`except`/
//!   `broadcast` operators, `disconnect`, `close`, typed per-socket
//!   [`Socket::data`]. 0.9 clients are sockets too (their `message`/`json`
//!   packets included).
//! * Server-wide, [`Io::of`] selects sockets (`to`, `except`, `volatile`,
//!   `local`, `timeout`) and [`Operator`] emits, emits with
//!   acknowledgements gathered under one timeout ([`BroadcastAcks`]),
//!   fetches sockets ([`SocketInfo`]), makes them join, leave or
//!   disconnect. Every such operation passes one seam: with a cluster
//!   attached ([`AppServer::attach_cluster`], see [`crate::cluster`]) it
//!   reaches the other nodes too, unless `local`. Servers talk to each
//!   other with [`Io::server_side_emit`] and
//!   [`App::on_server_side_emit`].
//! * Other threads use a [`Remote`], built by the driver on its
//!   [`CommandSink`]: every cross-thread operation is one [`Command`].
//!
//! ## A driver's loop
//!
//! A driver owns the transport and the clock; the rest is here:
//!
//! 1. feed input with `now`: [`AppServer::handle_ws_open`],
//!    [`AppServer::handle_ws_text`], [`AppServer::handle_http`]... and
//!    commands from other threads with [`AppServer::apply`]. Handlers run
//!    inside these calls;
//! 2. write what [`AppServer::poll_transmit`] and
//!    [`AppServer::poll_http_response`] return;
//! 3. wait for input until [`AppServer::poll_timeout`], then call
//!    [`AppServer::handle_timeout`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use socketio_sansio::app::{App, AppServer, ConnectError, Namespace};
//! use socketio_sansio::{Config, Frame, Handshake, SeededRandom, Transmit};
//!
//! #[derive(Default, Clone)]
//! struct User { name: String }
//!
//! let app = App::<User>::new().ns(
//!     "/",
//!     Namespace::<User>::new()
//!         .use_middleware(|c| match c.auth()["name"].as_str() {
//!             Some(name) => Ok(c.data_mut().name = name.to_owned()),
//!             None => Err(ConnectError::new("who are you?")),
//!         })
//!         .on_connection(|socket| {
//!             let greeting = format!("hello {}", socket.data().name);
//!             socket.emit("greeting", greeting.as_str());
//!             socket.on("join", |socket, args, ack| {
//!                 let room = args.values[0].as_str().unwrap_or("lobby").to_owned();
//!                 socket.join(&room);
//!                 if let Some(ack) = ack {
//!                     ack.send(socket, true);
//!                 }
//!             });
//!         }),
//! );
//! let config = Config::builder().ping_interval(Duration::from_secs(25));
//! let mut io = AppServer::with_random(config, app, Box::new(SeededRandom::new(7))).unwrap();
//! let now = Instant::now();
//! let conn = io
//!     .handle_ws_open(now, Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]))
//!     .unwrap();
//! io.handle_ws_text(now, conn, r#"40{"name":"ada"}"#);
//! io.handle_ws_text(now, conn, r#"421["join","chess"]"#);
//! let mut sent = Vec::new();
//! while let Some((_, Transmit::Frame(Frame::Text(text)))) = io.poll_transmit() {
//!     sent.push(text.to_string());
//! }
//! assert!(sent[1].starts_with("40{\"sid\":"));
//! assert_eq!(sent[2], r#"42["greeting","hello ada"]"#);
//! assert_eq!(sent[3], "431[true]");
//! ```

mod cluster;
mod context;
mod definition;
mod journal;
mod ops;
mod recovery;
mod remote;
mod server;
mod state;

pub use cluster::{ClusterOutlet, ServerSideAck, ServerSideAcks};
pub use context::{Ack, EngineSocket, Io, Operator, Socket};
pub use definition::{App, ConnectError, Connecting, Namespace};
pub use journal::{HandlerKind, JournalEntry, JournalObserver};
pub use ops::{BroadcastAcks, Selector, SocketInfo};
pub use recovery::{RecoveryConfig, RecoveryEviction, RecoveryStats};
pub use remote::{
    AckError, AckResult, Command, CommandSink, Remote, RemoteOperator, RemoteSocket, RunFn,
};
pub use server::AppServer;
pub use state::{IncomingEvent, Refusal};
