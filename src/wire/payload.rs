//! HTTP long-polling payloads (PROTOCOL.md §1.6.3, §1.6.4).
//!
//! * v4: packets joined with `\x1e`; binary as `b<base64>`.
//! * v3 text: `<len>:<packet>` repeated, `len` in UTF-16 code units; binary
//!   as `b<type><base64>` inside the framing (the `b64=1` mode, and any body
//!   with only text packets). Zero packets encode as `0:`.
//! * v3 binary (XHR2): per packet `<00|01><length digits as bytes 0..9><FF><packet>`.

use super::eio::{EngineVersion, Packet};
use super::DecodeError;

/// Decodes a v4 polling body. An empty body, an empty packet (trailing or
/// doubled `\x1e`) or any undecodable packet fails the whole body.
pub fn decode_v4(body: &str) -> Result<Vec<Packet<'_>>, DecodeError> {
    let _ = body;
    todo!("wire::payload::decode_v4")
}

/// Appends the v4 body for `packets` to `out` (binary as `b<base64>`).
pub fn encode_v4<'p>(packets: impl IntoIterator<Item = &'p Packet<'p>>, out: &mut String) {
    let _ = (packets.into_iter(), out);
    todo!("wire::payload::encode_v4")
}

/// Decodes a v3 text body (`len:packet...`). Lengths are ASCII digits only,
/// counted in UTF-16 code units; a zero-length chunk is skipped; any error
/// fails the whole body.
pub fn decode_v3_text(body: &str) -> Result<Vec<Packet<'_>>, DecodeError> {
    let _ = body;
    todo!("wire::payload::decode_v3_text")
}

/// Appends the v3 text body for `packets` to `out` (binary as `b<type><base64>`);
/// `0:` when there are no packets.
pub fn encode_v3_text<'p>(packets: impl IntoIterator<Item = &'p Packet<'p>>, out: &mut String) {
    let _ = (packets.into_iter(), out);
    todo!("wire::payload::encode_v3_text")
}

/// Decodes a v3 binary (XHR2, `application/octet-stream`) body. String parts
/// must be UTF-8 and their length is in bytes.
pub fn decode_v3_binary(body: &[u8]) -> Result<Vec<Packet<'_>>, DecodeError> {
    let _ = body;
    todo!("wire::payload::decode_v3_binary")
}

/// Appends the v3 binary (XHR2) body for `packets` to `out`; empty for no packets.
pub fn encode_v3_binary<'p>(packets: impl IntoIterator<Item = &'p Packet<'p>>, out: &mut Vec<u8>) {
    let _ = (packets.into_iter(), out);
    todo!("wire::payload::encode_v3_binary")
}

/// Decodes a polling POST body of `version`; `binary` selects the v3 XHR2
/// form (the request's `Content-Type: application/octet-stream`). A v4 body is
/// always text; a non-UTF-8 text body is [`super::DecodeErrorKind::InvalidUtf8`].
pub fn decode(version: EngineVersion, body: &[u8], binary: bool) -> Result<Vec<Packet<'_>>, DecodeError> {
    let _ = (version, body, binary);
    todo!("wire::payload::decode")
}
