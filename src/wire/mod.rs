//! Pure wire codecs for every protocol generation: no state beyond the
//! Socket.IO decoder that collects binary attachments, no I/O.
//!
//! | module | what it encodes |
//! |---|---|
//! | [`eio`] | one Engine.IO packet (v3 and v4), WebSocket frames, the open-packet JSON |
//! | [`payload`] | HTTP long-polling bodies: v4 `\x1e`, v3 `len:` text and v3 binary (XHR2) |
//! | [`sio`] | one Socket.IO packet (rev 4 and rev 5), with binary attachments |
//! | [`binary`] | placeholders `{"_placeholder":true,"num":n}`: validation and lookup |
//! | [`legacy`] | Socket.IO 0.9 packets, the `\u{fffd}` framing and the handshake line |
//! | [`base64`] | the standard base64 alphabet, strict decoding |
//!
//! Every decoder returns [`DecodeError`] (what was wrong and at which byte
//! offset of its input) and never panics, whatever the input.

pub mod base64;
pub mod binary;
pub mod eio;
pub mod legacy;
pub mod payload;
pub mod sio;

mod error;
mod json;

pub use error::{DecodeError, DecodeErrorKind};
