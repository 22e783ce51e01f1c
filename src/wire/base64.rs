//! Standard base64 (RFC 4648 alphabet, `=` padding), as Node's `Buffer`
//! writes it. Decoding is strict: characters outside the alphabet, bad
//! padding or a bad length are an error (Node's decoder skips them).
//!
//! Strictness also covers the unused low bits of the last character: they
//! must be zero (`AQ==` is accepted, `AR==` is not), so every byte string has
//! exactly one accepted encoding — the one Node, browsers' `btoa` and the
//! Socket.IO clients produce.
//!
//! ```
//! use socketio_sansio::wire::base64;
//!
//! let mut text = String::new();
//! base64::encode(&[1, 2, 3, 4], &mut text);
//! assert_eq!(text, "AQIDBA==");
//! assert_eq!(base64::decode("AQIDBA==").unwrap(), vec![1, 2, 3, 4]);
//! assert!(base64::decode("!!!").is_err());
//! ```

use super::{DecodeError, DecodeErrorKind};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Marks a byte outside the alphabet in [`DECODE`].
const INVALID: u8 = 0xFF;

/// Byte → 6-bit value, [`INVALID`] for everything outside the alphabet
/// (including `=`, which only the padding logic handles).
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The length of the padded base64 form of `len` bytes.
pub fn encoded_len(len: usize) -> usize {
    len / 3 * 4 + if len % 3 == 0 { 0 } else { 4 }
}

#[inline(always)]
fn sextet(n: u32, shift: u32) -> char {
    char::from(ALPHABET[((n >> shift) & 0x3F) as usize])
}

/// Appends the padded base64 form of `data` to `out`.
pub fn encode(data: &[u8], out: &mut String) {
    out.reserve(encoded_len(data.len()));
    // 48 input bytes → 64 characters per block, written through a stack
    // buffer (pushing one `char` at a time is about twice as slow).
    let mut blocks = data.chunks_exact(48);
    let mut buf = [0u8; 64];
    for block in &mut blocks {
        for (src, dst) in block.chunks_exact(3).zip(buf.chunks_exact_mut(4)) {
            let n = (u32::from(src[0]) << 16) | (u32::from(src[1]) << 8) | u32::from(src[2]);
            dst[0] = ALPHABET[((n >> 18) & 0x3F) as usize];
            dst[1] = ALPHABET[((n >> 12) & 0x3F) as usize];
            dst[2] = ALPHABET[((n >> 6) & 0x3F) as usize];
            dst[3] = ALPHABET[(n & 0x3F) as usize];
        }
        // Always ASCII, so always valid UTF-8.
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    }
    let rest = blocks.remainder();
    let mut chunks = rest.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.push(sextet(n, 18));
        out.push(sextet(n, 12));
        out.push(sextet(n, 6));
        out.push(sextet(n, 0));
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(sextet(n, 18));
            out.push(sextet(n, 12));
            out.push_str("==");
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.push(sextet(n, 18));
            out.push(sextet(n, 12));
            out.push(sextet(n, 6));
            out.push('=');
        }
        _ => {}
    }
}

fn invalid(offset: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::InvalidBase64, offset)
}

/// Decodes padded (or unpadded, when the length allows no ambiguity) base64.
///
/// Errors are [`DecodeErrorKind::InvalidBase64`] with the offset of the first
/// offending character: a character outside the alphabet, `=` anywhere but
/// the last one or two positions of a length-multiple-of-4 input, a lone
/// final character (length ≡ 1 mod 4), or non-zero unused bits in the last
/// character.
pub fn decode(input: &str) -> Result<Vec<u8>, DecodeError> {
    let bytes = input.as_bytes();
    // Padding is only recognised on a length that is a multiple of 4; any
    // other `=` is then an invalid character of the body.
    let body: &[u8] = if bytes.len() % 4 == 0 {
        match bytes {
            [rest @ .., b'=', b'='] => rest,
            [rest @ .., b'='] => rest,
            _ => bytes,
        }
    } else {
        bytes
    };
    let tail_len = body.len() % 4;
    let full = body.len() / 4 * 3;
    let mut out = Vec::with_capacity(full + tail_len.saturating_sub(1));
    out.resize(full, 0);

    let mut chunks = body.chunks_exact(4);
    let mut offset = 0;
    for (c, dst) in (&mut chunks).zip(out.chunks_exact_mut(3)) {
        let (a, b, x, y) = (
            DECODE[usize::from(c[0])],
            DECODE[usize::from(c[1])],
            DECODE[usize::from(c[2])],
            DECODE[usize::from(c[3])],
        );
        if (a | b | x | y) & 0xC0 != 0 {
            return Err(first_invalid(c, offset));
        }
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(x) << 6) | u32::from(y);
        dst[0] = (n >> 16) as u8;
        dst[1] = (n >> 8) as u8;
        dst[2] = n as u8;
        offset += 4;
    }
    match *chunks.remainder() {
        // A lone final character cannot encode a byte.
        [_] => return Err(invalid(offset)),
        [c0, c1] => {
            let (a, b) = (DECODE[usize::from(c0)], DECODE[usize::from(c1)]);
            if (a | b) & 0xC0 != 0 {
                return Err(first_invalid(&[c0, c1], offset));
            }
            if b & 0x0F != 0 {
                return Err(invalid(offset + 1));
            }
            out.push((a << 2) | (b >> 4));
        }
        [c0, c1, c2] => {
            let (a, b, x) = (
                DECODE[usize::from(c0)],
                DECODE[usize::from(c1)],
                DECODE[usize::from(c2)],
            );
            if (a | b | x) & 0xC0 != 0 {
                return Err(first_invalid(&[c0, c1, c2], offset));
            }
            if x & 0x03 != 0 {
                return Err(invalid(offset + 2));
            }
            out.push((a << 2) | (b >> 4));
            out.push((b << 4) | (x >> 2));
        }
        _ => {}
    }
    Ok(out)
}

/// The error for the first character of `chunk` (starting at `offset`)
/// outside the alphabet.
#[cold]
fn first_invalid(chunk: &[u8], offset: usize) -> DecodeError {
    let pos = chunk
        .iter()
        .position(|&c| DECODE[usize::from(c)] == INVALID)
        .unwrap_or(0);
    invalid(offset + pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8]) -> String {
        let mut s = String::new();
        encode(data, &mut s);
        s
    }

    #[test]
    fn rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (raw, text) in cases {
            assert_eq!(enc(raw), text);
            assert_eq!(encoded_len(raw.len()), text.len());
            assert_eq!(decode(text).unwrap(), raw);
        }
    }

    #[test]
    fn full_alphabet_and_high_bytes() {
        let all: Vec<u8> = (0..=255).collect();
        let text = enc(&all);
        assert!(text.contains('+') && text.contains('/'));
        assert_eq!(decode(&text).unwrap(), all);
        assert_eq!(enc(&[0xFB, 0xFF]), "+/8=");
    }

    #[test]
    fn appends_to_existing_text() {
        let mut s = String::from("b4");
        encode(&[1, 2, 3, 4], &mut s);
        assert_eq!(s, "b4AQIDBA==");
    }

    #[test]
    fn unpadded_accepted_when_unambiguous() {
        assert_eq!(decode("AQIDBA").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(decode("AQIDBAU").unwrap(), vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn strict_errors_with_offsets() {
        let err = |s: &str| decode(s).unwrap_err();
        assert_eq!(err("!!!"), invalid(0));
        assert_eq!(err("AQ!D"), invalid(2));
        assert_eq!(err("AQIDB!=="), invalid(5));
        // A single character cannot encode a byte.
        assert_eq!(err("A"), invalid(0));
        assert_eq!(err("AQIDB"), invalid(4));
        // Padding in the wrong place or too much of it.
        assert_eq!(err("="), invalid(0));
        assert_eq!(err("===="), invalid(0));
        assert_eq!(err("A==="), invalid(1));
        assert_eq!(err("AQ=D"), invalid(2));
        assert_eq!(err("AQ="), invalid(2));
        assert_eq!(err("AQID===="), invalid(4));
        // Non-zero unused bits (non-canonical encodings).
        assert_eq!(err("AR=="), invalid(1));
        assert_eq!(err("AQJ="), invalid(2));
        // Whitespace and URL-safe alphabet are not accepted.
        assert_eq!(err("AQID BA=="), invalid(4));
        assert_eq!(err("-_8="), invalid(0));
        // Non-ASCII.
        assert_eq!(err("AQ€="), invalid(2));
    }
}
