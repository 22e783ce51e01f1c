//! Minimal HTTP/1.1 on buffers: parse one request head (bounded) from what
//! has been read so far, and encode simple responses into an output buffer.

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

/// Outcome of trying to parse a head from a buffer.
#[derive(Debug)]
pub(crate) enum Head {
    /// A head and its length in bytes.
    Complete(RequestHead, usize),
    /// Need more bytes.
    Partial,
    TooLarge,
    Malformed,
}

/// Parses one request head from the front of `buf`.
pub(crate) fn parse_head(buf: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => Head::Complete(
            RequestHead {
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
            },
            len,
        ),
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Head::Partial,
        Ok(httparse::Status::Partial) => Head::TooLarge,
        Err(_) => Head::Malformed,
    }
}

/// Appends a complete response; `keep_alive` decides the `Connection` header.
pub(crate) fn put_response(
    out: &mut Vec<u8>,
    status: u16,
    content_type: Option<&str>,
    extra_headers: &[(&'static str, String)],
    body: &[u8],
    keep_alive: bool,
) {
    use std::fmt::Write as _;
    let mut head = String::with_capacity(160);
    let _ = write!(head, "HTTP/1.1 {status} {}\r\n", reason(status));
    if let Some(ct) = content_type {
        head.push_str("Content-Type: ");
        head.push_str(ct);
        head.push_str("\r\n");
    }
    let _ = write!(head, "Content-Length: {}\r\n", body.len());
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
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
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
    fn parses_a_head_and_reports_its_length() {
        let raw = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x00";
        let Head::Complete(head, len) = parse_head(raw) else {
            panic!("complete")
        };
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/socket.io/");
        assert!(head.header_has_token("connection", "upgrade"));
        assert_eq!(head.header("UPGRADE"), Some("websocket"));
        assert_eq!(&raw[len..], b"\x81\x00");
    }

    #[test]
    fn refuses_oversized_and_malformed_heads() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(parse_head(big.as_bytes()), Head::TooLarge));
        assert!(matches!(
            parse_head(b"\x00\x01garbage\r\n\r\n"),
            Head::Malformed
        ));
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nHost"),
            Head::Partial
        ));
    }
}
