//! # socketio-sansio
//!
//! The Socket.IO protocol as a pure, sans-IO state machine: Engine.IO v3/v4,
//! Socket.IO protocol revisions 4 and 5, and the legacy Socket.IO 0.9
//! protocol. No sockets, no threads, no clock reads, no ambient randomness:
//! you feed it what arrived and the time, it hands back what to send, the
//! next deadline and what happened.
//!
//! * [`wire`]: pure codecs for every protocol generation.
//! * [`Connection`]: one Engine.IO session and its namespace sockets (usable
//!   alone, e.g. one connection per thread).
//! * [`Server`]: many connections, rooms, broadcasts encoded once, and a
//!   deadline heap.
//! * [`client`]: the client role (socket.io-client's `Manager` + `Socket`)
//!   as a state machine: it asks the driver to open WebSockets and send HTTP
//!   requests, and is told what happened.
//! * [`app`]: the application layer, socket.io 4.x's server API (namespaces,
//!   middlewares, `socket.on`, acknowledgements, rooms, broadcasts with
//!   acknowledgements, `fetch_sockets`...) as a pure state machine over a
//!   [`Server`]. Write an [`app::App`] once; every driver serves it.
//!
//! ## A driver's loop with an application
//!
//! A driver is transport I/O plus the clock; [`app::AppServer`] does the
//! rest. Feed it input with `now` (handlers run inside these calls), write
//! what it hands back, and wake it at its deadline:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use socketio_sansio::app::{App, AppServer, Namespace};
//! use socketio_sansio::{Config, Frame, Handshake, SeededRandom, Transmit};
//!
//! let app: App = App::new().ns("/", Namespace::new().on_connection(|socket| {
//!     socket.on("hello", |socket, args, ack| {
//!         if let Some(ack) = ack {
//!             ack.send(socket, args);
//!         }
//!     });
//! }));
//! let config = Config::builder().ping_interval(Duration::from_millis(300));
//! let mut io = AppServer::with_random(config, app, Box::new(SeededRandom::new(7))).unwrap();
//! let mut now = Instant::now();
//!
//! // 1. input, stamped with the driver's clock: a WebSocket opens, frames arrive.
//! let conn = io
//!     .handle_ws_open(now, Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]))
//!     .expect("a valid handshake");
//! io.handle_ws_text(now, conn, "40");
//! io.handle_ws_text(now, conn, r#"421["hello","world"]"#);
//!
//! // 2. output: frames for the transports (and `poll_http_response` for polling).
//! let mut sent = Vec::new();
//! while let Some((_to, Transmit::Frame(Frame::Text(text)))) = io.poll_transmit() {
//!     sent.push(text.to_string());
//! }
//! assert_eq!(sent.last().unwrap(), r#"431["world"]"#);
//!
//! // 3. timers: sleep until the deadline (or the next input), then tell it.
//! now = io.poll_timeout().expect("a heartbeat is scheduled");
//! io.handle_timeout(now);
//! assert_eq!(io.poll_transmit().unwrap().1, Transmit::Frame(Frame::text("2".into())));
//! ```
//!
//! ## The run loop of the bare core
//!
//! Without the application layer you answer the core's events yourself.
//!
//! Every type has four groups of methods: (A) getters; (B) `handle_*` for
//! input from the network or the clock, each taking `now`; (C) commands that
//! only queue work (`accept`, `emit`, `join`, `broadcast`...); (D) `poll_*`
//! outputs. After any (B) or (C) call:
//!
//! 1. drain [`Server::poll_transmit`] and write each frame to its connection
//!    (a [`Transmit::Close`] means: close that transport);
//! 2. drain [`Server::poll_event`] and let the application react (accept a
//!    namespace CONNECT, answer an event...), which queues more work: go
//!    back to 1 until both are empty;
//! 3. read [`Server::poll_timeout`] and wait for input at most until then;
//!    when it passes, call [`Server::handle_timeout`] (early or repeated
//!    calls are harmless).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use socketio_sansio::{Args, Config, Event, Frame, Handshake, SeededRandom, Server, Transmit};
//!
//! let config = Config::builder().ping_interval(Duration::from_millis(300)).build().unwrap();
//! let mut server = Server::with_random(config, Box::new(SeededRandom::new(7)));
//! let mut now = Instant::now();
//!
//! // A WebSocket client connects (your HTTP layer parsed the request)...
//! let conn = server
//!     .handle_ws_open(now, Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]))
//!     .expect("a valid handshake");
//! // ...and sends a CONNECT for `/`.
//! server.handle_ws_text(now, conn, "40");
//!
//! // One pass of the loop: write frames, react to events, until both are empty.
//! fn pump(server: &mut Server, now: Instant, sent: &mut Vec<String>) {
//!     loop {
//!         // 1. frames to write
//!         while let Some((_to, transmit)) = server.poll_transmit() {
//!             if let Transmit::Frame(Frame::Text(text)) = transmit {
//!                 sent.push(text.to_string());
//!             }
//!         }
//!         // 2. application events; reacting queues more frames
//!         let Some(ev) = server.poll_event() else { break };
//!         match ev.event {
//!             Event::Connect { nsp, .. } => {
//!                 server.accept(now, ev.conn, &nsp, None).unwrap();
//!             }
//!             Event::Message { nsp, name, args, ack: Some(id), .. } if name == "hello" => {
//!                 server.ack(now, ev.conn, &nsp, id, args).unwrap();
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//!
//! let mut sent = Vec::new();
//! pump(&mut server, now, &mut sent);
//! assert!(sent[0].starts_with("0{\"sid\":"));            // the open packet
//! assert!(sent[1].starts_with("40{\"sid\":"));           // CONNECT accepted
//!
//! // Once connected, the client emits an event that asks for an ack.
//! server.handle_ws_text(now, conn, r#"421["hello","world"]"#);
//! pump(&mut server, now, &mut sent);
//! assert_eq!(sent[2], r#"431["world"]"#);                 // the ack
//!
//! // 3. timers: the first ping is due one ping interval after the open packet.
//! let deadline = server.poll_timeout().expect("a heartbeat is scheduled");
//! now = deadline;
//! server.handle_timeout(now);
//! let (_, ping) = server.poll_transmit().unwrap();
//! assert_eq!(ping, Transmit::Frame(Frame::text("2".into())));
//! ```
//!
//! Determinism: ids come from the injected [`RandomSource`] and nothing
//! iterates a `HashMap` into output, so the same seed and inputs give
//! byte-identical outputs.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod app;
pub mod client;
pub mod cluster;
pub mod legacy;
pub mod wire;

mod any_conn;
mod args;
mod config;
mod conn;
mod cors;
mod encoded;
mod engine;
mod error;
mod frame;
mod http;
mod parser;
mod query;
mod rand;
mod server;

pub use any_conn::AnyConnection;
pub use config::{Config, ConfigBuilder, ConfigError, NamespacePredicate};
pub use conn::{Connection, EngineData, Event, Handshake, MessageKind};
pub use cors::Cors;
pub use encoded::EncodedPacket;
pub use engine::Transmit;
pub use error::{DisconnectReason, ProtocolError, UsageError};
pub use frame::{Bytes, Frame, Text};
pub use http::{
    HttpRequest, HttpResponse, Method, RequestId, APPLICATION_JSON, OCTET_STREAM, TEXT_HTML,
    TEXT_PLAIN,
};
pub use parser::Parser;
pub use query::{DuplicateParam, Query};
#[cfg(feature = "os-rng")]
pub use rand::OsRandom;
pub use rand::{generate_id, RandomSource, SeededRandom};
pub use server::{
    Broadcast, ConnId, ConnIdHash, ConnIdHasher, ConnIdMap, Rejection, Server, ServerEvent, Stats,
};
pub use wire::eio::EngineVersion;
pub use wire::sio::{AckId, Args, Revision};
