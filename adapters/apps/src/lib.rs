//! The applications that every driver of this workspace serves, written
//! once against the core's application layer ([`socketio_sansio::app`]):
//!
//! * [`conformance`]: the conformance contract that the interop suites
//!   (the official JavaScript and Python clients) run against, with its
//!   command line;
//! * [`chat`]: the chat of the examples (nicknames, rooms, messages,
//!   typing notices), served with its page by `--example chat`;
//! * [`testing`]: not an application but test support, the WebSocket and
//!   HTTP clients of the drivers' live tests.
//!
//! The drivers' examples (`conformance` in socketio-blocking,
//! `mio_conformance` in socketio-mio) only parse the command line with
//! [`conformance::Options`], bind, and serve [`conformance::app`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chat;
pub mod conformance;
pub mod testing;
