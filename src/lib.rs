//! # socketio-sansio
//!
//! The Socket.IO protocol as a pure, sans-IO state machine: Engine.IO v3/v4,
//! Socket.IO protocol revisions 4 and 5, and the legacy Socket.IO 0.9
//! protocol. No sockets, no threads, no clock reads, no ambient randomness.
//!
//! * [`wire`]: pure codecs for every protocol generation.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod wire;
