//! HTTP long-polling payloads (engine.io-protocol v4, *Packet encoding ›
//! HTTP long-polling*; v3, *Encoding › Payload*).
//!
//! * v4: packets joined with `\x1e`; binary as `b<base64>`.
//! * v3 text: `<len>:<packet>` repeated, `len` in UTF-16 code units; binary
//!   as `b<type><base64>` inside the framing (the `b64=1` mode, and any body
//!   with only text packets). Zero packets encode as `0:`.
//! * v3 binary (XHR2): per packet `<00|01><length digits as bytes 0..9><FF><packet>`.
//!
//! The v4 format has no escaping: [`encode_v4`] writes text containing
//! `\x1e` as-is (like the reference server), and the peer will split it.
//! Callers that care must refuse such text before encoding.
//!
//! ```
//! use socketio_sansio::wire::eio::{Packet, PacketType};
//! use socketio_sansio::wire::payload;
//!
//! let packets = [Packet::text(PacketType::Message, "hello"), Packet::binary(vec![1, 2, 3, 4])];
//! let mut v4 = String::new();
//! payload::encode_v4(&packets, &mut v4);
//! assert_eq!(v4, "4hello\x1ebAQIDBA==");
//! let mut v3 = String::new();
//! payload::encode_v3_text(&packets, &mut v3);
//! assert_eq!(v3, "6:4hello10:b4AQIDBA==");
//! assert_eq!(payload::decode_v3_text(&v3).unwrap(), packets);
//! ```

use super::eio::{self, Data, EngineVersion, Packet};
use super::{base64, DecodeError, DecodeErrorKind};

/// The v4 packet separator (ASCII record separator).
pub const SEPARATOR: char = '\x1e';

/// Most length digits accepted in a v3 binary (XHR2) body before the `0xFF`
/// marker. 20 digits hold any `u64`; the reference gives up only after 310
/// digits, which no real body needs (a body is bounded by
/// `maxHttpBufferSize`, 1 MB by default).
pub const MAX_BINARY_LENGTH_DIGITS: usize = 20;

/// Shifts the offset of an error found in a sub-slice starting at `base`.
fn shifted(base: usize) -> impl Fn(DecodeError) -> DecodeError {
    move |e| DecodeError::new(e.kind, e.offset.saturating_add(base))
}

fn err(kind: DecodeErrorKind, offset: usize) -> DecodeError {
    DecodeError::new(kind, offset)
}

/// Decodes a v4 polling body. An empty body, an empty packet (trailing or
/// doubled `\x1e`) or any undecodable packet fails the whole body.
///
/// An empty body or packet is [`DecodeErrorKind::EmptyPacket`]; other errors
/// are those of [`eio::decode_text`], offsets relative to the whole body.
///
/// ```
/// use socketio_sansio::wire::eio::{Packet, PacketType};
/// use socketio_sansio::wire::payload::decode_v4;
///
/// let packets = decode_v4("4hello\x1e2\x1e4world").unwrap();
/// assert_eq!(packets[1], Packet::bare(PacketType::Ping));
/// assert!(decode_v4("4hello\x1e").is_err());
/// ```
pub fn decode_v4(body: &str) -> Result<Vec<Packet<'_>>, DecodeError> {
    let mut packets = Vec::new();
    let mut start = 0;
    loop {
        let rest = body.get(start..).unwrap_or("");
        let (piece, last) = match rest.find(SEPARATOR) {
            Some(end) => (rest.get(..end).unwrap_or(""), false),
            None => (rest, true),
        };
        if piece.is_empty() {
            return Err(err(DecodeErrorKind::EmptyPacket, start));
        }
        packets.push(eio::decode_text(EngineVersion::V4, piece).map_err(shifted(start))?);
        if last {
            return Ok(packets);
        }
        start += piece.len() + 1;
    }
}

/// Appends the v4 body for `packets` to `out` (binary as `b<base64>`).
///
/// Text is written as-is: a `\x1e` inside it splits the packet on the
/// receiving side (the protocol has no escaping; the reference does the
/// same). Binary data of a kind other than `message` is written as a
/// message (see [`eio::encode_text`]).
pub fn encode_v4<'p>(packets: impl IntoIterator<Item = &'p Packet<'p>>, out: &mut String) {
    for (i, packet) in packets.into_iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        eio::encode_text(EngineVersion::V4, packet, out);
    }
}

/// UTF-16 code units contributed by a UTF-8 byte: continuation bytes 0, the
/// lead byte of a 4-byte sequence 2 (a surrogate pair), everything else 1.
#[inline(always)]
fn utf16_weight(b: u8) -> usize {
    match b {
        0x80..=0xBF => 0,
        0xF0..=0xFF => 2,
        _ => 1,
    }
}

/// Length of `s` in UTF-16 code units (JavaScript's `String.length`).
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.bytes().map(utf16_weight).sum()
    }
}

/// Decodes a v3 text body (`len:packet...`). Lengths are ASCII digits only,
/// counted in UTF-16 code units; a zero-length chunk is skipped; any error
/// fails the whole body.
///
/// Errors (offsets relative to the body):
/// * empty body → [`DecodeErrorKind::EmptyPacket`] (the reference refuses it;
///   zero packets are written `0:`);
/// * a length that is empty, has a non-digit (`1e1`, ` 5`, `-1`) or does not
///   fit a `usize` → [`DecodeErrorKind::InvalidNumber`];
/// * leftover text without a `:`, a length beyond the remaining text or one
///   that cuts a surrogate pair in half → [`DecodeErrorKind::InvalidFraming`];
/// * a packet that does not decode → the error of [`eio::decode_text`].
///
/// ```
/// use socketio_sansio::wire::eio::{Packet, PacketType};
/// use socketio_sansio::wire::payload::decode_v3_text;
///
/// let packets = decode_v3_text("3:4😀").unwrap();
/// assert_eq!(packets, [Packet::text(PacketType::Message, "😀")]);
/// assert!(decode_v3_text("5:4😀").is_err());
/// assert!(decode_v3_text("0:").unwrap().is_empty());
/// ```
pub fn decode_v3_text(body: &str) -> Result<Vec<Packet<'_>>, DecodeError> {
    let bytes = body.as_bytes();
    if bytes.is_empty() {
        return Err(err(DecodeErrorKind::EmptyPacket, 0));
    }
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        // Length prefix: ASCII digits up to ':'.
        let prefix_start = pos;
        let mut len: usize = 0;
        let mut overflow = false;
        while let Some(&b) = bytes.get(pos) {
            if !b.is_ascii_digit() {
                break;
            }
            match len
                .checked_mul(10)
                .and_then(|l| l.checked_add(usize::from(b - b'0')))
            {
                Some(l) => len = l,
                None => overflow = true,
            }
            pos += 1;
        }
        match bytes.get(pos) {
            Some(b':') => {}
            None => return Err(err(DecodeErrorKind::InvalidFraming, prefix_start)),
            Some(_) => {
                // A non-digit: a broken length if a ':' follows, otherwise
                // leftover text that is no frame at all.
                let kind = if bytes.get(pos..).is_some_and(|rest| rest.contains(&b':')) {
                    DecodeErrorKind::InvalidNumber
                } else {
                    DecodeErrorKind::InvalidFraming
                };
                let offset = if kind == DecodeErrorKind::InvalidNumber {
                    pos
                } else {
                    prefix_start
                };
                return Err(err(kind, offset));
            }
        }
        if pos == prefix_start || overflow {
            return Err(err(DecodeErrorKind::InvalidNumber, prefix_start));
        }
        pos += 1; // ':'
        let packet_start = pos;
        if len == 0 {
            continue;
        }
        // Every UTF-16 unit takes at least one UTF-8 byte.
        if len > bytes.len() - pos {
            return Err(err(DecodeErrorKind::InvalidFraming, prefix_start));
        }
        // Fast path: `len` ASCII bytes are exactly `len` units, and the
        // byte after them (if any) starts a new char.
        if let Some(text) = body.get(pos..pos + len).filter(|t| t.is_ascii()) {
            pos += len;
            packets.push(eio::decode_text(EngineVersion::V3, text).map_err(shifted(packet_start))?);
            continue;
        }
        // Walk `len` UTF-16 units, then the continuation bytes of the last char.
        let mut units = 0;
        while units < len {
            match bytes.get(pos) {
                Some(&b) => units += utf16_weight(b),
                None => return Err(err(DecodeErrorKind::InvalidFraming, prefix_start)),
            }
            pos += 1;
        }
        while bytes.get(pos).is_some_and(|&b| utf16_weight(b) == 0) {
            pos += 1;
        }
        if units != len {
            // The length ends between the two halves of a surrogate pair.
            return Err(err(DecodeErrorKind::InvalidFraming, prefix_start));
        }
        let text = body
            .get(packet_start..pos)
            .ok_or(err(DecodeErrorKind::InvalidFraming, prefix_start))?;
        packets.push(eio::decode_text(EngineVersion::V3, text).map_err(shifted(packet_start))?);
    }
    Ok(packets)
}

/// Appends `n` in decimal to `out`.
fn push_len(n: usize, out: &mut String) {
    eio::push_decimal(n as u64, out);
}

/// Appends the v3 text body for `packets` to `out` (binary as `b<type><base64>`);
/// `0:` when there are no packets.
pub fn encode_v3_text<'p>(packets: impl IntoIterator<Item = &'p Packet<'p>>, out: &mut String) {
    let mut any = false;
    for packet in packets {
        any = true;
        match &packet.data {
            Data::Text(text) => {
                push_len(1 + utf16_len(text), out);
                out.push(':');
            }
            Data::Binary(bytes) => {
                push_len(2 + base64::encoded_len(bytes.len()), out);
                out.push(':');
            }
        }
        eio::encode_text(EngineVersion::V3, packet, out);
    }
    if !any {
        out.push_str("0:");
    }
}

/// Decodes a v3 binary (XHR2, `application/octet-stream`) body. String parts
/// must be UTF-8 and their length is in bytes.
///
/// An empty body is zero packets (what [`encode_v3_binary`] writes for none).
/// Errors (offsets relative to the body):
/// * a kind byte other than `0x00`/`0x01`, no `0xFF` marker within
///   [`MAX_BINARY_LENGTH_DIGITS`] digits or before the end, a length
///   beyond the end of the body → [`DecodeErrorKind::InvalidFraming`];
/// * a length byte above 9, no length digits, a length overflowing `usize`
///   → [`DecodeErrorKind::InvalidNumber`];
/// * a zero length → [`DecodeErrorKind::EmptyPacket`];
/// * a string part that is not UTF-8 → [`DecodeErrorKind::InvalidUtf8`];
/// * a packet that does not decode → the error of [`eio::decode_text`] /
///   [`eio::decode_binary`].
///
/// ```
/// use socketio_sansio::wire::eio::{Packet, PacketType};
/// use socketio_sansio::wire::payload::decode_v3_binary;
///
/// let body = [0x00, 0x04, 0xFF, b'4', 0xE2, 0x82, 0xAC, 0x01, 0x05, 0xFF, 4, 1, 2, 3, 4];
/// let packets = decode_v3_binary(&body).unwrap();
/// assert_eq!(packets, [Packet::text(PacketType::Message, "€"), Packet::binary(vec![1, 2, 3, 4])]);
/// ```
pub fn decode_v3_binary(body: &[u8]) -> Result<Vec<Packet<'_>>, DecodeError> {
    let mut packets = Vec::new();
    let mut pos = 0;
    while let Some(&kind) = body.get(pos) {
        let frame_start = pos;
        let is_string = match kind {
            0 => true,
            1 => false,
            _ => return Err(err(DecodeErrorKind::InvalidFraming, pos)),
        };
        pos += 1;
        let digits_start = pos;
        let mut len: usize = 0;
        loop {
            match body.get(pos) {
                None => return Err(err(DecodeErrorKind::InvalidFraming, frame_start)),
                Some(0xFF) => break,
                Some(&d) if d <= 9 => {
                    if pos - digits_start >= MAX_BINARY_LENGTH_DIGITS {
                        return Err(err(DecodeErrorKind::InvalidFraming, pos));
                    }
                    len = len
                        .checked_mul(10)
                        .and_then(|l| l.checked_add(usize::from(d)))
                        .ok_or(err(DecodeErrorKind::InvalidNumber, digits_start))?;
                }
                Some(_) => return Err(err(DecodeErrorKind::InvalidNumber, pos)),
            }
            pos += 1;
        }
        if pos == digits_start {
            return Err(err(DecodeErrorKind::InvalidNumber, pos));
        }
        pos += 1; // 0xFF
        if len == 0 {
            return Err(err(DecodeErrorKind::EmptyPacket, frame_start));
        }
        let packet_start = pos;
        let part = body
            .get(pos..)
            .and_then(|rest| rest.get(..len))
            .ok_or(err(DecodeErrorKind::InvalidFraming, frame_start))?;
        pos += len;
        let packet = if is_string {
            let text = std::str::from_utf8(part)
                .map_err(|e| err(DecodeErrorKind::InvalidUtf8, packet_start + e.valid_up_to()))?;
            eio::decode_text(EngineVersion::V3, text)
        } else {
            eio::decode_binary(EngineVersion::V3, part)
        };
        packets.push(packet.map_err(shifted(packet_start))?);
    }
    Ok(packets)
}

/// Appends the length digits (one byte `0..=9` each) and the `0xFF` marker.
fn push_binary_len(n: usize, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
    out.push(0xFF);
}

/// Appends the v3 binary (XHR2) body for `packets` to `out`; empty for no packets.
///
/// Text packets become string parts (length in UTF-8 bytes), binary packets
/// binary parts (type byte then data), byte for byte like the reference:
///
/// ```
/// use socketio_sansio::wire::eio::{Packet, PacketType};
/// use socketio_sansio::wire::payload::encode_v3_binary;
///
/// let mut body = Vec::new();
/// encode_v3_binary(&[Packet::text(PacketType::Message, "hello"), Packet::binary(vec![1, 2, 3, 4])], &mut body);
/// assert_eq!(body, [0, 6, 0xFF, b'4', b'h', b'e', b'l', b'l', b'o', 1, 5, 0xFF, 4, 1, 2, 3, 4]);
/// ```
pub fn encode_v3_binary<'p>(packets: impl IntoIterator<Item = &'p Packet<'p>>, out: &mut Vec<u8>) {
    for packet in packets {
        match &packet.data {
            Data::Text(text) => {
                out.push(0);
                push_binary_len(1 + text.len(), out);
                out.push(packet.kind.as_char() as u8);
                out.extend_from_slice(text.as_bytes());
            }
            Data::Binary(bytes) => {
                out.push(1);
                push_binary_len(1 + bytes.len(), out);
                out.push(packet.kind as u8);
                out.extend_from_slice(bytes);
            }
        }
    }
}

/// Decodes a polling POST body of `version`; `binary` selects the v3 XHR2
/// form (the request's `Content-Type: application/octet-stream`). A v4 body is
/// always text; a non-UTF-8 text body is [`super::DecodeErrorKind::InvalidUtf8`].
///
/// v4 never uses the binary form: `binary = true` with
/// [`EngineVersion::V4`] is [`DecodeErrorKind::InvalidFraming`] at offset 0
/// (the core answers such a POST with 400 and closes the session, like
/// engine.io ≥ 6.6.7).
///
/// ```
/// use socketio_sansio::wire::eio::{EngineVersion, Packet, PacketType};
/// use socketio_sansio::wire::payload;
///
/// let packets = payload::decode(EngineVersion::V3, b"6:4hello", false).unwrap();
/// assert_eq!(packets, [Packet::text(PacketType::Message, "hello")]);
/// assert!(payload::decode(EngineVersion::V4, b"4hello", true).is_err());
/// ```
pub fn decode(
    version: EngineVersion,
    body: &[u8],
    binary: bool,
) -> Result<Vec<Packet<'_>>, DecodeError> {
    if binary {
        return match version {
            EngineVersion::V3 => decode_v3_binary(body),
            EngineVersion::V4 => Err(err(DecodeErrorKind::InvalidFraming, 0)),
        };
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| err(DecodeErrorKind::InvalidUtf8, e.valid_up_to()))?;
    match version {
        EngineVersion::V3 => decode_v3_text(text),
        EngineVersion::V4 => decode_v4(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::eio::PacketType;

    fn fail<T: std::fmt::Debug>(r: Result<T, DecodeError>) -> (DecodeErrorKind, usize) {
        let e = r.unwrap_err();
        (e.kind, e.offset)
    }

    #[test]
    fn utf16_lengths() {
        assert_eq!(utf16_len(""), 0);
        assert_eq!(utf16_len("4hello"), 6);
        assert_eq!(utf16_len("€"), 1);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("😀"), 2);
        let mixed = "a€😀é\u{10FFFF}";
        assert_eq!(utf16_len(mixed), mixed.encode_utf16().count());
    }

    #[test]
    fn v4_offsets_are_body_relative() {
        assert_eq!(
            fail(decode_v4("4a\x1e7")),
            (DecodeErrorKind::UnknownPacketType, 3)
        );
        assert_eq!(
            fail(decode_v4("4a\x1e\x1e4b")),
            (DecodeErrorKind::EmptyPacket, 3)
        );
        assert_eq!(
            fail(decode_v4("4a\x1eb!!!")),
            (DecodeErrorKind::InvalidBase64, 4)
        );
        assert_eq!(fail(decode_v4("\x1e4a")), (DecodeErrorKind::EmptyPacket, 0));
    }

    #[test]
    fn v4_borrows_text() {
        let p = decode_v4("4hello\x1e4world").unwrap();
        assert!(p
            .iter()
            .all(|p| matches!(p.data, Data::Text(std::borrow::Cow::Borrowed(_)))));
    }

    #[test]
    fn v3_text_lengths_and_framing() {
        // Length overflowing usize.
        assert_eq!(
            fail(decode_v3_text("99999999999999999999999:4")),
            (DecodeErrorKind::InvalidNumber, 0)
        );
        // Length bigger than the rest: caught before walking.
        assert_eq!(
            fail(decode_v3_text("6:4hello9:4x")),
            (DecodeErrorKind::InvalidFraming, 8)
        );
        // Non-digit in the second prefix.
        assert_eq!(
            fail(decode_v3_text("1:2x:4")),
            (DecodeErrorKind::InvalidNumber, 3)
        );
        // Missing ':' after digits at the very end.
        assert_eq!(
            fail(decode_v3_text("1:212")),
            (DecodeErrorKind::InvalidFraming, 3)
        );
        // A zero-length chunk between packets is skipped.
        assert_eq!(
            decode_v3_text("1:20:1:3").unwrap(),
            [
                Packet::bare(PacketType::Ping),
                Packet::bare(PacketType::Pong)
            ]
        );
        // Packet errors are shifted to the body.
        assert_eq!(
            fail(decode_v3_text("1:21:7")),
            (DecodeErrorKind::UnknownPacketType, 5)
        );
        // Length cutting a 3-byte char is impossible (1 unit); cutting a pair is.
        assert_eq!(
            fail(decode_v3_text("2:4😀")),
            (DecodeErrorKind::InvalidFraming, 0)
        );
        assert_eq!(
            decode_v3_text("2:4€").unwrap(),
            [Packet::text(PacketType::Message, "€")]
        );
        assert_eq!(
            fail(decode_v3_text("4:4😀")),
            (DecodeErrorKind::InvalidFraming, 0)
        );
    }

    #[test]
    fn v3_text_encoder() {
        let mut out = String::new();
        encode_v3_text(&[Packet::text(PacketType::Message, "😀€")], &mut out);
        assert_eq!(out, "4:4😀€");
        out.clear();
        encode_v3_text(std::iter::empty(), &mut out);
        assert_eq!(out, "0:");
    }

    #[test]
    fn v3_binary_errors() {
        assert_eq!(decode_v3_binary(&[]).unwrap(), []);
        assert_eq!(
            fail(decode_v3_binary(&[2, 1, 0xFF, b'2'])),
            (DecodeErrorKind::InvalidFraming, 0)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 0x0A, 0xFF, b'2'])),
            (DecodeErrorKind::InvalidNumber, 1)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 0xFF, b'2'])),
            (DecodeErrorKind::InvalidNumber, 1)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 1])),
            (DecodeErrorKind::InvalidFraming, 0)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 0, 0xFF])),
            (DecodeErrorKind::EmptyPacket, 0)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 3, 0xFF, b'4'])),
            (DecodeErrorKind::InvalidFraming, 0)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 3, 0xFF, b'4', 0xC3, 0x28])),
            (DecodeErrorKind::InvalidUtf8, 4)
        );
        assert_eq!(
            fail(decode_v3_binary(&[0, 1, 0xFF, b'7'])),
            (DecodeErrorKind::UnknownPacketType, 3)
        );
        assert_eq!(
            fail(decode_v3_binary(&[1, 1, 0xFF, 9])),
            (DecodeErrorKind::UnknownPacketType, 3)
        );
        // Digit bound: 20 digits are fine (and overflow), 21 hit the bound.
        let mut body = vec![0];
        body.extend(std::iter::repeat(9).take(20));
        body.push(0xFF);
        assert_eq!(
            fail(decode_v3_binary(&body)),
            (DecodeErrorKind::InvalidNumber, 1)
        );
        let mut body = vec![0];
        body.extend(std::iter::repeat(0).take(19));
        body.extend([1, 0xFF, b'3']);
        assert_eq!(
            decode_v3_binary(&body).unwrap(),
            [Packet::bare(PacketType::Pong)]
        );
        let mut body = vec![1];
        body.extend(std::iter::repeat(0).take(400));
        assert_eq!(
            fail(decode_v3_binary(&body)),
            (DecodeErrorKind::InvalidFraming, 21)
        );
    }

    #[test]
    fn dispatch() {
        assert_eq!(
            fail(decode(EngineVersion::V4, b"4a", true)),
            (DecodeErrorKind::InvalidFraming, 0)
        );
        assert_eq!(
            fail(decode(EngineVersion::V4, b"4a\xFF", false)),
            (DecodeErrorKind::InvalidUtf8, 2)
        );
        assert_eq!(
            fail(decode(EngineVersion::V3, b"3:4\xC3(", false)),
            (DecodeErrorKind::InvalidUtf8, 3)
        );
        assert_eq!(
            decode(EngineVersion::V3, &[0, 2, 0xFF, b'4', b'x'], true).unwrap(),
            [Packet::text(PacketType::Message, "x")]
        );
        assert_eq!(
            decode(EngineVersion::V4, b"4x", false).unwrap(),
            [Packet::text(PacketType::Message, "x")]
        );
    }
}
