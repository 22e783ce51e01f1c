//! The applications that every driver of this workspace serves, written
//! once against the core's application layer ([`socketio_sansio::app`]):
//!
//! * [`conformance`]: the conformance contract that the interop suites
//!   (the official JavaScript and Python clients) run against, with its
//!   command line;
//! * the chat of the examples (see the `chat` module, when present).
//!
//! The drivers' examples (`conformance` in socketio-blocking,
//! `mio_conformance` in socketio-mio) only parse the command line with
//! [`conformance::Options`], bind, and serve [`conformance::app`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod conformance;
