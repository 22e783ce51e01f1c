//! Compact JSON writing shared by every codec: one string escaper (the
//! escapes of `JSON.stringify` and `serde_json`: `\"`, `\\`, `\b\f\n\r\t`,
//! other controls as `\u00xx`, everything else verbatim), numbers and values
//! byte-identical to `serde_json::to_string`.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// Escape table: 0 = copy as is, `u` = `\u00XX`, else the short escape letter.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

static HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        i = next_escape(bytes, i);
        let Some(&byte) = bytes.get(i) else {
            break;
        };
        let escape = ESCAPE[usize::from(byte)];
        // `byte` is ASCII, so `i` is a char boundary.
        out.push_str(s.get(start..i).unwrap_or_default());
        out.push('\\');
        if escape == b'u' {
            out.push_str("u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push(char::from(escape));
        }
        i += 1;
        start = i;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// The index of the first byte at or after `i` that JSON must escape (a
/// control character, `"` or `\\`), or `bytes.len()`. Skips clean bytes 32
/// and 8 at a time (the string payloads of events are mostly clean).
fn next_escape(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // 32 bytes at a time with a branch-free test the compiler vectorises.
    while let Some(chunk) = bytes.get(i..i + 32) {
        let Ok(chunk) = <&[u8; 32]>::try_from(chunk) else {
            break;
        };
        let mut special = 0u8;
        for &b in chunk {
            special |= u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
        }
        if special != 0 {
            break;
        }
        i += 32;
    }
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // Per byte: high bit set where the byte is < 0x20, == '"' or == '\\'
        // (exact "any byte" tests: no false negatives).
        let control = x.wrapping_sub(ONES * 0x20) & !x;
        let q = x ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let b = x ^ (ONES * u64::from(b'\\'));
        let backslash = b.wrapping_sub(ONES) & !b;
        if (control | quote | backslash) & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    while let Some(&byte) = bytes.get(i) {
        if ESCAPE[usize::from(byte)] != 0 {
            return i;
        }
        i += 1;
    }
    i
}

/// Appends `n` in decimal.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

fn push_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        push_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        push_u64(out, i.unsigned_abs());
    } else {
        // Floats: serde_json's Display uses the same shortest form (ryu)
        // as its serializer.
        let _ = write!(out, "{n}");
    }
}

/// Appends `value` as compact JSON, byte-identical to `serde_json::to_string`.
/// Recursive, like serde_json's serializer: decoded values are at most 128
/// deep; application values are the application's business.
pub(crate) fn push_json_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => push_number(out, n),
        Value::String(s) => push_json_str(out, s),
        Value::Array(items) => {
            out.push('[');
            let mut first = true;
            for item in items {
                if !first {
                    out.push(',');
                }
                first = false;
                push_json_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for (key, item) in map {
                if !first {
                    out.push(',');
                }
                first = false;
                push_json_str(out, key);
                out.push(':');
                push_json_value(out, item);
            }
            out.push('}');
        }
    }
}
