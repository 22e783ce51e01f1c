//! HTTP/1.1 request heads (RFC 9112 §2–§5) parsed with `httparse` under
//! explicit limits, and the decisions that only need the head: keep-alive
//! (RFC 9112 §9.3) and the body length (RFC 9112 §6).

/// Largest request head accepted, in bytes (request line, headers and the
/// empty line).
pub const MAX_HEAD: usize = 8 * 1024;
/// Most header fields accepted in one head; more is [`Parsed::Malformed`].
pub const MAX_HEADERS: usize = 64;

/// One parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (case-sensitive, RFC 9110 §9.1).
    pub method: String,
    /// The request target, e.g. `/socket.io/?EIO=4&transport=polling`.
    pub target: String,
    /// The header fields in order, names as sent, values decoded lossily as
    /// UTF-8.
    pub headers: Vec<(String, String)>,
    /// HTTP/1.1 (true) or HTTP/1.0 (false).
    pub http11: bool,
}

impl RequestHead {
    /// The value of the first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the header fields named `name` (case-insensitive).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True if a header field `name` holds `token` in its comma-separated
    /// list (RFC 9110 §5.6.1), case-insensitively, in any of its occurrences.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.header_values(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The path part of the target (before `?`).
    pub fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(p, _)| p)
    }

    /// Whether the connection may carry another request after this one
    /// (RFC 9112 §9.3): HTTP/1.1 unless `Connection: close`, HTTP/1.0 only
    /// with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.http11 {
            !self.has_token("connection", "close")
        } else {
            self.has_token("connection", "keep-alive") && !self.has_token("connection", "close")
        }
    }

    /// How many body bytes follow the head (RFC 9112 §6.3), given the
    /// largest body accepted. Any `Transfer-Encoding` is refused with 411
    /// (only `Content-Length` bodies are read); a `Content-Length` must be
    /// ASCII digits only (no sign, no spaces inside, no list), and several
    /// must agree (else 400); a length above `max_body` is 413, a number too
    /// large for `u64` included.
    pub fn body_length(&self, max_body: usize) -> Result<usize, BodyError> {
        if self.header("transfer-encoding").is_some() {
            return Err(BodyError::LengthRequired);
        }
        let mut length: Option<u64> = None;
        for value in self.header_values("content-length") {
            let value = value.trim_matches(|c| c == ' ' || c == '\t');
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BodyError::Malformed);
            }
            // Only digits: a parse error can only be an overflow.
            let n = value.parse::<u64>().unwrap_or(u64::MAX);
            if length.is_some_and(|l| l != n) {
                return Err(BodyError::Malformed);
            }
            length = Some(n);
        }
        match length {
            None => Ok(0),
            Some(n) if n > max_body as u64 => Err(BodyError::TooLarge),
            Some(n) => usize::try_from(n).map_err(|_| BodyError::TooLarge),
        }
    }
}

/// Why a request body cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// `Transfer-Encoding` was sent: 411 Length Required.
    LengthRequired,
    /// A `Content-Length` that is not a single decimal number: 400.
    Malformed,
    /// Larger than allowed: 413 Content Too Large.
    TooLarge,
}

impl BodyError {
    /// The status code of the answer.
    pub fn status(self) -> u16 {
        match self {
            BodyError::LengthRequired => 411,
            BodyError::Malformed => 400,
            BodyError::TooLarge => 413,
        }
    }
}

/// The outcome of parsing the front of a buffer as a request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole head yet: read more.
    Partial,
    /// A head, and how many bytes of the buffer it took.
    Complete(RequestHead, usize),
    /// No end of head within [`MAX_HEAD`] bytes: answer 431 and close.
    TooLarge,
    /// Not HTTP/1.x, or more than [`MAX_HEADERS`] fields: answer 400 and close.
    Malformed,
}

/// Parses one request head from the front of `buf` (the bytes read so far).
pub fn parse_head(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len > MAX_HEAD => Parsed::TooLarge,
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
            Parsed::Complete(head, len)
        }
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => Parsed::Partial,
        Ok(httparse::Status::Partial) => Parsed::TooLarge,
        Err(_) => Parsed::Malformed,
    }
}

#[cfg(test)]
pub(crate) fn head(method: &str, target: &str, headers: &[(&str, &str)]) -> RequestHead {
    RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        http11: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_head_and_reports_its_length() {
        let raw = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x00";
        let Parsed::Complete(head, len) = parse_head(raw) else {
            panic!("complete")
        };
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/socket.io/");
        assert!(head.http11);
        assert!(head.has_token("connection", "upgrade"));
        assert!(!head.has_token("connection", "close"));
        assert_eq!(head.header("UPGRADE"), Some("websocket"));
        assert_eq!(&raw[len..], b"\x81\x00");
    }

    #[test]
    fn partial_oversized_and_garbage_heads() {
        assert_eq!(parse_head(b""), Parsed::Partial);
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nHost"), Parsed::Partial);
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse_head(big.as_bytes()), Parsed::TooLarge);
        // Complete, but longer than the limit.
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(parse_head(big.as_bytes()), Parsed::TooLarge);
        for garbage in [
            &b"\x00\x01garbage\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / FTP/1.1\r\n\r\n",
            b"GET\r\n\r\n",
            b"G T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n: novalue\r\n\r\n",
            b"\xff\xfe\xfd\r\n\r\n",
        ] {
            assert_eq!(parse_head(garbage), Parsed::Malformed, "{garbage:?}");
        }
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X{i}: v\r\n"))
            .collect();
        let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(req.as_bytes()), Parsed::Malformed);
    }

    #[test]
    fn keep_alive_by_version_and_connection() {
        let mut h = head("GET", "/", &[]);
        assert!(h.keep_alive());
        h.headers = vec![("Connection".into(), "Keep-Alive, Close".into())];
        assert!(!h.keep_alive());
        h.http11 = false;
        assert!(!h.keep_alive());
        h.headers = vec![("connection".into(), "keep-alive".into())];
        assert!(h.keep_alive());
        h.headers.clear();
        assert!(!h.keep_alive(), "HTTP/1.0 closes by default");
    }

    #[test]
    fn body_lengths() {
        let with = |v: &[(&str, &str)]| head("POST", "/", v).body_length(100);
        assert_eq!(with(&[]), Ok(0));
        assert_eq!(with(&[("Content-Length", "5")]), Ok(5));
        assert_eq!(with(&[("content-length", " 100 ")]), Ok(100));
        assert_eq!(with(&[("Content-Length", "007")]), Ok(7));
        assert_eq!(
            with(&[("Content-Length", "5"), ("Content-Length", "5")]),
            Ok(5)
        );
        for bad in ["+5", "-5", "5 5", "0x10", "", "5,5", "1e3", "５"] {
            assert_eq!(
                with(&[("Content-Length", bad)]),
                Err(BodyError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(
            with(&[("Content-Length", "5"), ("Content-Length", "6")]),
            Err(BodyError::Malformed)
        );
        assert_eq!(with(&[("Content-Length", "101")]), Err(BodyError::TooLarge));
        assert_eq!(
            with(&[("Content-Length", "99999999999999999999999999")]),
            Err(BodyError::TooLarge)
        );
        assert_eq!(
            with(&[("Transfer-Encoding", "chunked"), ("Content-Length", "5")]),
            Err(BodyError::LengthRequired)
        );
        assert_eq!(BodyError::LengthRequired.status(), 411);
        assert_eq!(BodyError::Malformed.status(), 400);
        assert_eq!(BodyError::TooLarge.status(), 413);
    }
}
