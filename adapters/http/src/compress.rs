//! HTTP compression of polling answers, as engine.io's `httpCompression`:
//! gzip or deflate (zlib) chosen from `Accept-Encoding` (RFC 9110 §12.5.3,
//! q-values, `*`, an exact coding overriding `*`), only for bodies of at
//! least the threshold (1024 bytes by default). WebSocket frames are never
//! compressed (no permessage-deflate). The encoder is `flate2` on its
//! pure-Rust zlib-rs backend, whose stack use fits the blocking driver's
//! small connection threads.
//!
//! ```
//! use socketio_http::compress::{negotiate, Encoding};
//! assert_eq!(negotiate(Some("gzip, deflate, br")), Some(Encoding::Gzip));
//! assert_eq!(negotiate(Some("deflate;q=1, gzip;q=0.5")), Some(Encoding::Deflate));
//! assert_eq!(negotiate(Some("identity")), None);
//! assert_eq!(negotiate(None), None);
//! ```

use std::io::Write as _;

use flate2::write::{GzEncoder, ZlibEncoder};

/// Node's default threshold: bodies shorter than this are sent as they are.
pub const DEFAULT_THRESHOLD: usize = 1024;

/// A content coding we produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip` (RFC 1952).
    Gzip,
    /// `deflate`: the zlib format (RFC 1950), as Node's `zlib.createDeflate`.
    Deflate,
}

impl Encoding {
    /// The token for `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }
}

/// The coding to use for a request's `Accept-Encoding` value, as the
/// `accepts` package engine.io uses: the highest q among gzip and deflate
/// (q = 0 refuses), a tie going to the one listed first in the header, then
/// to gzip; none without the header or when neither is acceptable.
pub fn negotiate(accept_encoding: Option<&str>) -> Option<Encoding> {
    let header = accept_encoding?;
    // (q, specificity, position) of the best matching entry per coding.
    let mut best: [Option<(u16, u8, usize)>; 2] = [None, None];
    for (pos, entry) in header.split(',').enumerate() {
        let mut parts = entry.split(';');
        let coding = parts.next().unwrap_or("").trim();
        if coding.is_empty() {
            continue;
        }
        let mut q = 1000u16;
        for param in parts {
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = parse_q(v.trim()).unwrap_or(0);
                }
            }
        }
        for (i, name) in ["gzip", "deflate"].iter().enumerate() {
            let spec = if coding.eq_ignore_ascii_case(name) {
                1
            } else if coding == "*" {
                0
            } else {
                continue;
            };
            let replace = match best[i] {
                None => true,
                Some((bq, bs, _)) => spec > bs || (spec == bs && q > bq),
            };
            if replace {
                best[i] = Some((q, spec, pos));
            }
        }
    }
    let gzip = best[0].filter(|b| b.0 > 0);
    let deflate = best[1].filter(|b| b.0 > 0);
    match (gzip, deflate) {
        (None, None) => None,
        (Some(_), None) => Some(Encoding::Gzip),
        (None, Some(_)) => Some(Encoding::Deflate),
        (Some(g), Some(d)) => {
            if d.0 > g.0 || (d.0 == g.0 && d.2 < g.2) {
                Some(Encoding::Deflate)
            } else {
                Some(Encoding::Gzip)
            }
        }
    }
}

/// A q-value in thousandths (RFC 9110 §12.4.2); none if malformed.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths = 0u16;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// `body` compressed with `encoding`; none if the encoder failed.
pub fn compress(encoding: Encoding, body: &[u8]) -> Option<Vec<u8>> {
    let out = Vec::with_capacity(body.len() / 2 + 64);
    let level = flate2::Compression::default();
    match encoding {
        Encoding::Gzip => {
            let mut e = GzEncoder::new(out, level);
            e.write_all(body).ok()?;
            e.finish().ok()
        }
        Encoding::Deflate => {
            let mut e = ZlibEncoder::new(out, level);
            e.write_all(body).ok()?;
            e.finish().ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn negotiation_follows_q_values_wildcards_and_identity() {
        use Encoding::*;
        for (header, want) in [
            ("gzip", Some(Gzip)),
            ("deflate", Some(Deflate)),
            ("gzip, deflate", Some(Gzip)),
            ("deflate, gzip", Some(Deflate)),
            ("gzip;q=0.5, deflate", Some(Deflate)),
            ("gzip;q=1.0, deflate;q=0.999", Some(Gzip)),
            ("gzip;q=0, deflate;q=0", None),
            ("gzip;q=0", None),
            ("GZIP", Some(Gzip)),
            ("identity", None),
            ("identity, gzip;q=0.1", Some(Gzip)),
            ("br", None),
            ("*", Some(Gzip)),
            ("*;q=0", None),
            ("gzip;q=0, *", Some(Deflate)),
            ("*;q=0.5, deflate;q=0.8", Some(Deflate)),
            ("gzip;q=2", None),
            ("gzip;q=abc", None),
            ("", None),
            (" , ;", None),
        ] {
            assert_eq!(negotiate(Some(header)), want, "{header:?}");
        }
        assert_eq!(negotiate(None), None);
    }

    #[test]
    fn round_trips() {
        let body: Vec<u8> = (0..5000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
        let gz = compress(Encoding::Gzip, &body).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
        let z = compress(Encoding::Deflate, &body).unwrap();
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
        assert!(z.len() < body.len() / 4);
    }

    /// `socketio-blocking` answers on connection threads of 128 KiB stacks:
    /// the backend must fit (miniz_oxide needs over 256 KiB in debug builds;
    /// zlib-rs under 80 KiB).
    #[test]
    fn fits_in_a_small_thread_stack() {
        let done = std::thread::Builder::new()
            .stack_size(96 * 1024)
            .spawn(|| {
                let body = vec![b'y'; 3000];
                compress(Encoding::Gzip, &body).is_some()
                    && compress(Encoding::Deflate, &body).is_some()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(done);
    }
}
