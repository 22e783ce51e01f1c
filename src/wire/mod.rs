//! Pure wire codecs for every protocol generation: no state beyond the
//! Socket.IO decoder that collects binary attachments, no I/O.
//!
//! | module | what it encodes |
//! |---|---|
//! | [`eio`] | one Engine.IO packet (v3 and v4), WebSocket frames, the open-packet JSON |
//! | [`payload`] | HTTP long-polling bodies: v4 `\x1e`, v3 `len:` text and v3 binary (XHR2) |
//! | [`sio`] | one Socket.IO packet (rev 4 and rev 5), with binary attachments |
//! | `msgpack` | one Socket.IO packet (rev 5) as MessagePack, `socket.io-msgpack-parser`'s format (feature `msgpack`) |
//! | [`binary`] | placeholders `{"_placeholder":true,"num":n}`: validation and lookup |
//! | [`legacy`] | Socket.IO 0.9 packets, the `\u{fffd}` framing and the handshake line |
//! | [`base64`] | the standard base64 alphabet, strict decoding |
//!
//! Every decoder returns [`DecodeError`] (what was wrong and at which byte
//! offset of its input) and never panics, whatever the input.
//!
//! **Strict decoding (our rule).** Where the reference JavaScript parsers are
//! lenient or crash on malformed input, these decoders refuse it:
//! * numbers on the wire (v3 payload lengths, attachment counts, ack and
//!   message ids) are ASCII digits only: no sign, space, exponent or hex,
//!   which JavaScript's `Number()` would accept;
//! * ack ids (and 0.9 message ids) are at most 2^53 − 1
//!   ([`sio::MAX_ACK_ID`], [`legacy::MAX_ID`]), the largest integer every
//!   JavaScript peer represents exactly;
//! * JSON nests at most 128 levels (serde_json's recursion limit);
//! * base64 is the standard alphabet with correct padding ([`base64`]), and
//!   placeholders must be exact ([`binary`]).
//!
//! The public protocol documents (see the README's *Specifications*) do not
//! say what to do with such input; a connection that sends it is closed with a
//! typed reason, and every other connection is unaffected.

pub mod base64;
pub mod binary;
pub mod eio;
pub mod legacy;
#[cfg(feature = "msgpack")]
pub mod msgpack;
pub mod payload;
pub mod sio;

mod error;
mod json;

pub use error::{DecodeError, DecodeErrorKind};
