//! Minimal HTTP/1.1 for the handshake: read one request head (bounded),
//! write simple responses. Polling bodies arrive with the polling issue.

use std::io::{self, Read, Write};

/// Largest request head accepted, in bytes.
pub(crate) const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 64;

/// One parsed request head.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    /// HTTP/1.1 (true) or 1.0.
    pub(crate) http11: bool,
}

impl RequestHead {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the target.
    pub(crate) fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(p, _)| p)
    }

    /// True if a header holds `token` in its comma-separated list (case-insensitive).
    pub(crate) fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

/// Why a request head could not be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    Io(io::Error),
    /// The peer closed before sending a full head.
    Eof,
    TooLarge,
    Malformed,
}

/// Reads one request head; returns it and any bytes read past it.
#[cfg(test)]
pub(crate) fn read_head(stream: &mut impl Read) -> Result<(RequestHead, Vec<u8>), HeadError> {
    read_head_after(stream, Vec::new())
}

/// Reads one request head that may have started in `carried` (bytes read
/// past the previous request on a keep-alive connection).
pub(crate) fn read_head_after(
    stream: &mut impl Read,
    carried: Vec<u8>,
) -> Result<(RequestHead, Vec<u8>), HeadError> {
    let mut buf = carried;
    let mut chunk = [0u8; 2048];
    let mut first = true;
    loop {
        if !first || buf.is_empty() {
            let n = stream.read(&mut chunk).map_err(HeadError::Io)?;
            if n == 0 {
                return Err(HeadError::Eof);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        first = false;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let head = RequestHead {
                    http11: req.version == Some(1),
                    method: req.method.unwrap_or("").to_owned(),
                    target: req.path.unwrap_or("").to_owned(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                };
                return Ok((head, buf[len..].to_vec()));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => return Err(HeadError::TooLarge),
            Err(_) => return Err(HeadError::Malformed),
        }
    }
}

/// Writes a complete response with `Connection: close`.
pub(crate) fn write_response(
    stream: &mut impl Write,
    status: u16,
    content_type: &str,
    extra_headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let headers: Vec<(&str, String)> = extra_headers
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect();
    write_full_response(stream, status, Some(content_type), &headers, body, false)
}

/// Reads exactly `len` body bytes, starting with `carried`; returns the body
/// and whatever was read past it.
pub(crate) fn read_body(
    stream: &mut impl Read,
    mut carried: Vec<u8>,
    len: usize,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    if carried.len() >= len {
        let rest = carried.split_off(len);
        return Ok((carried, rest));
    }
    let mut body = carried;
    body.reserve(len - body.len());
    let mut chunk = [0u8; 8192];
    while body.len() < len {
        let want = (len - body.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((body, Vec::new()))
}

/// Writes a complete response; `keep_alive` decides the `Connection` header.
pub(crate) fn write_full_response(
    stream: &mut impl Write,
    status: u16,
    content_type: Option<&str>,
    extra_headers: &[(&str, String)],
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if let Some(ct) = content_type {
        head.push_str("Content-Type: ");
        head.push_str(ct);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n"
    } else {
        "Connection: close\r\n"
    });
    for (k, v) in extra_headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    // One write for small responses (the common long-poll answer).
    if body.len() <= 16 * 1024 {
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        stream.write_all(&all)?;
    } else {
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_head_and_keeps_what_follows() {
        let raw = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x00";
        let (head, rest) = read_head(&mut &raw[..]).unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/socket.io/");
        assert!(head.header_has_token("connection", "upgrade"));
        assert_eq!(head.header("UPGRADE"), Some("websocket"));
        assert_eq!(rest, b"\x81\x00");
    }

    #[test]
    fn refuses_oversized_malformed_and_truncated_heads() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(
            read_head(&mut big.as_bytes()),
            Err(HeadError::TooLarge)
        ));
        assert!(matches!(
            read_head(&mut &b"\x00\x01garbage\r\n\r\n"[..]),
            Err(HeadError::Malformed)
        ));
        assert!(matches!(
            read_head(&mut &b"GET / HTTP/1.1\r\nHost"[..]),
            Err(HeadError::Eof)
        ));
        let many: String = (0..100).map(|i| format!("X{i}: v\r\n")).collect();
        let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(
            read_head(&mut req.as_bytes()),
            Err(HeadError::Malformed)
        ));
    }
}
