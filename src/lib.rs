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
//!
//! ## The run loop
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
pub use query::{DuplicateParam, Query};
#[cfg(feature = "os-rng")]
pub use rand::OsRandom;
pub use rand::{generate_id, RandomSource, SeededRandom};
pub use server::{Broadcast, ConnId, Rejection, Server, ServerEvent, Stats};
pub use wire::eio::EngineVersion;
pub use wire::sio::{AckId, Args, Revision};
