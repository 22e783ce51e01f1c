//! HTTP/1.1 responses as bytes (RFC 9112 §4, §6.2, §9.6).

/// Appends a whole response to `out`: status line, `Content-Type` (when
/// given), `Content-Length`, `Connection: keep-alive` or `Connection: close`,
/// then `headers` (e.g. the core's `Cors::headers`) and the body.
pub fn put_response(
    out: &mut Vec<u8>,
    status: u16,
    content_type: Option<&str>,
    headers: &[(&str, String)],
    body: &[u8],
    keep_alive: bool,
) {
    put_head(out, status, content_type, headers, body.len(), keep_alive);
    out.extend_from_slice(body);
}

/// Appends the head of a response whose body (`content_length` bytes) is
/// written separately, or not at all for an answer to `HEAD`.
pub fn put_head(
    out: &mut Vec<u8>,
    status: u16,
    content_type: Option<&str>,
    headers: &[(&str, String)],
    content_length: usize,
    keep_alive: bool,
) {
    put_head_with(
        out,
        status,
        content_type,
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        content_length,
        keep_alive,
    );
}

/// As [`put_head`], with the headers from an iterator; written straight
/// into `out` (no intermediate string or header list).
pub(crate) fn put_head_with<'a>(
    out: &mut Vec<u8>,
    status: u16,
    content_type: Option<&str>,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    content_length: usize,
    keep_alive: bool,
) {
    out.reserve(160);
    out.extend_from_slice(b"HTTP/1.1 ");
    put_decimal(out, status as usize);
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    if let Some(ct) = content_type {
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(ct.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    put_decimal(out, content_length);
    out.extend_from_slice(if keep_alive {
        b"\r\nConnection: keep-alive\r\n"
    } else {
        b"\r\nConnection: close\r\n"
    });
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal.
fn put_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A plain-text response that closes the connection, as bytes.
pub fn plain(status: u16, body: &str) -> Vec<u8> {
    let mut out = Vec::new();
    put_response(
        &mut out,
        status,
        Some("text/plain; charset=utf-8"),
        &[],
        body.as_bytes(),
        false,
    );
    out
}

/// The reason phrase of a status code (RFC 9110 §15).
pub fn reason(status: u16) -> &'static str {
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
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_status_framing_and_headers() {
        let mut out = Vec::new();
        put_response(
            &mut out,
            200,
            Some("text/plain; charset=UTF-8"),
            &[("Access-Control-Allow-Origin", "*".to_owned())],
            b"ok",
            true,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 2\r\nConnection: keep-alive\r\nAccess-Control-Allow-Origin: *\r\n\r\nok"
        );
        let mut out = Vec::new();
        put_head(&mut out, 204, None, &[], 0, false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let p = String::from_utf8(plain(404, "Not Found")).unwrap();
        assert!(p.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(p.contains("Connection: close\r\n"));
        assert!(p.ends_with("\r\n\r\nNot Found"));
        assert_eq!(reason(299), "Unknown");
        let mut out = Vec::new();
        put_head(&mut out, 200, None, &[], 1_234_567_890, true);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\r\nContent-Length: 1234567890\r\n"));
    }
}
