//! # socketio-sansio
//!
//! The Socket.IO protocol as a pure, sans-IO state machine: Engine.IO v3/v4,
//! Socket.IO protocol revisions 4 and 5, and the legacy Socket.IO 0.9
//! protocol. No sockets, no threads, no clock reads, no ambient randomness.
//!
//! * [`wire`]: pure codecs for every protocol generation.
//! * [`Connection`]: one Engine.IO session and its namespace sockets.
//! * [`Server`]: many connections, rooms, broadcasts and a deadline heap.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod wire;

mod args;
mod config;
mod conn;
mod encoded;
mod engine;
mod error;
mod frame;
mod query;
mod rand;
mod server;

pub use config::{Config, ConfigBuilder, ConfigError, NamespacePredicate};
pub use conn::{Connection, Event, Handshake};
pub use encoded::EncodedPacket;
pub use engine::Transmit;
pub use error::{DisconnectReason, ProtocolError, UsageError};
pub use frame::{Bytes, Frame, Text};
pub use query::{DuplicateParam, Query};
#[cfg(feature = "os-rng")]
pub use rand::OsRandom;
pub use rand::{generate_id, RandomSource, SeededRandom};
pub use server::{Broadcast, ConnId, Rejection, Server, ServerEvent, Stats};
pub use wire::eio::EngineVersion;
pub use wire::sio::{AckId, Args, Revision};
