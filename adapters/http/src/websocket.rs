//! The server side of the WebSocket opening handshake (RFC 6455 §4.2):
//! validation of the client's request and the 101 answer.

use socketio_sansio::wire::base64;

use crate::head::RequestHead;
use crate::response::put_response;

/// The only protocol version served (RFC 6455 §4.1).
pub const VERSION: &str = "13";

/// Why an upgrade request is refused. Every refusal is a 400 answered
/// before the core sees the request, so no session is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not `GET` (RFC 6455 §4.1 item 2).
    NotGet,
    /// Not HTTP/1.1 or later.
    NotHttp11,
    /// No `websocket` token in `Upgrade`.
    NoUpgradeToken,
    /// No `upgrade` token in `Connection`.
    NoConnectionToken,
    /// `Sec-WebSocket-Version` missing or not 13; the answer carries
    /// `Sec-WebSocket-Version: 13` (RFC 6455 §4.4).
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` missing, repeated, or not the base64 of exactly
    /// 16 bytes (RFC 6455 §4.1 item 7).
    BadKey,
}

impl HandshakeError {
    /// The text of the 400 answer.
    pub fn message(self) -> &'static str {
        match self {
            HandshakeError::NotGet => "WebSocket handshake must be a GET",
            HandshakeError::NotHttp11 => "WebSocket handshake needs HTTP/1.1",
            HandshakeError::NoUpgradeToken => "Upgrade: websocket expected",
            HandshakeError::NoConnectionToken => "Connection: Upgrade expected",
            HandshakeError::UnsupportedVersion => "Unsupported WebSocket version",
            HandshakeError::BadKey => "Invalid Sec-WebSocket-Key",
        }
    }

    /// The whole 400 answer (closing the connection).
    pub fn response(self) -> Vec<u8> {
        let mut headers = Vec::new();
        if self == HandshakeError::UnsupportedVersion {
            headers.push(("Sec-WebSocket-Version", VERSION.to_owned()));
        }
        let mut out = Vec::new();
        put_response(
            &mut out,
            400,
            Some("text/plain; charset=utf-8"),
            &headers,
            self.message().as_bytes(),
            false,
        );
        out
    }
}

/// True if the request asks for a WebSocket (`Upgrade` holds the token
/// `websocket`): it is then validated with [`validate`] rather than served
/// as plain HTTP.
pub fn is_upgrade(head: &RequestHead) -> bool {
    head.has_token("upgrade", "websocket")
}

/// Checks an upgrade request; on success returns the
/// `Sec-WebSocket-Accept` value (base64 of the SHA-1 of the key and the
/// RFC 6455 GUID).
pub fn validate(head: &RequestHead) -> Result<String, HandshakeError> {
    if head.method != "GET" {
        return Err(HandshakeError::NotGet);
    }
    if !head.http11 {
        return Err(HandshakeError::NotHttp11);
    }
    if !head.has_token("upgrade", "websocket") {
        return Err(HandshakeError::NoUpgradeToken);
    }
    if !head.has_token("connection", "upgrade") {
        return Err(HandshakeError::NoConnectionToken);
    }
    let mut versions = head.header_values("sec-websocket-version");
    match (versions.next().map(str::trim), versions.next()) {
        (Some(VERSION), None) => {}
        _ => return Err(HandshakeError::UnsupportedVersion),
    }
    let mut keys = head.header_values("sec-websocket-key");
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) => key.trim(),
        _ => return Err(HandshakeError::BadKey),
    };
    if !valid_key(key) {
        return Err(HandshakeError::BadKey);
    }
    Ok(accept_key(key))
}

/// True if `key` is 24 characters of strict (padded) base64 for 16 bytes.
pub fn valid_key(key: &str) -> bool {
    key.len() == 24 && key.ends_with("==") && base64::decode(key).is_ok_and(|b| b.len() == 16)
}

/// The `Sec-WebSocket-Accept` value for a (valid) key.
pub fn accept_key(key: &str) -> String {
    tungstenite::handshake::derive_accept_key(key.as_bytes())
}

/// Appends the 101 Switching Protocols answer.
pub fn put_switching_protocols(out: &mut Vec<u8>, accept: &str) {
    put_switching_protocols_with(out, accept, &[]);
}

/// [`put_switching_protocols`] with `headers` after the accept key (e.g.
/// `Set-Cookie`).
pub fn put_switching_protocols_with(out: &mut Vec<u8>, accept: &str, headers: &[(&str, String)]) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept.as_bytes());
    for (k, v) in headers {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
    }
    out.extend_from_slice(b"\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::head;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn upgrade(extra: &[(&str, &str)]) -> RequestHead {
        let mut h = head(
            "GET",
            "/socket.io/?EIO=4&transport=websocket",
            &[
                ("Host", "x"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", KEY),
            ],
        );
        for (k, v) in extra {
            h.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
            if !v.is_empty() {
                h.headers.push((k.to_string(), v.to_string()));
            }
        }
        h
    }

    #[test]
    fn accepts_the_rfc_example_and_answers_101() {
        // RFC 6455 §1.3.
        assert_eq!(
            validate(&upgrade(&[])).as_deref(),
            Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        // Tokens in lists, any case.
        let h = upgrade(&[
            ("Connection", "keep-alive, UPGRADE"),
            ("Upgrade", "h2c, WebSocket"),
        ]);
        assert!(is_upgrade(&h));
        assert!(validate(&h).is_ok());
        let mut out = Vec::new();
        put_switching_protocols(&mut out, "abc=");
        assert_eq!(
            out,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n"
        );
    }

    #[test]
    fn refuses_bad_keys() {
        for bad in [
            "",
            "not base64 at all!!!!!!!",
            "dGhlIHNhbXBsZSBub25jZQ",       // unpadded
            "dGhlIHNhbXBsZSBub25jZQ=",      // 23 chars
            "dGhlIHNhbXBsZSBub25jZQ===",    // 25 chars
            "dGhlIHNhbXBsZSBub25j",         // 15 bytes
            "dGhlIHNhbXBsZSBub25jZSE=",     // 17 bytes
            "dGhlIHNhbXBsZSBub25jZR==",     // non-zero unused bits
            "dGhlIHNhbXBsZSBub25jZ-==",     // url-safe alphabet
            "dGhlIHNhbXBsZSBub25jZQ==AAAA", // longer
        ] {
            assert_eq!(
                validate(&upgrade(&[("Sec-WebSocket-Key", bad)])),
                Err(HandshakeError::BadKey),
                "{bad:?}"
            );
        }
        let mut twice = upgrade(&[]);
        twice
            .headers
            .push(("Sec-WebSocket-Key".into(), KEY.to_owned()));
        assert_eq!(validate(&twice), Err(HandshakeError::BadKey));
    }

    #[test]
    fn refuses_missing_tokens_versions_and_methods() {
        assert_eq!(
            validate(&upgrade(&[("Connection", "keep-alive")])),
            Err(HandshakeError::NoConnectionToken)
        );
        assert_eq!(
            validate(&upgrade(&[("Connection", "")])),
            Err(HandshakeError::NoConnectionToken)
        );
        assert_eq!(
            validate(&upgrade(&[("Upgrade", "h2c")])),
            Err(HandshakeError::NoUpgradeToken)
        );
        assert!(!is_upgrade(&upgrade(&[("Upgrade", "websocketx")])));
        for v in ["8", "", "13, 8", "12"] {
            assert_eq!(
                validate(&upgrade(&[("Sec-WebSocket-Version", v)])),
                Err(HandshakeError::UnsupportedVersion),
                "{v:?}"
            );
        }
        let mut post = upgrade(&[]);
        post.method = "POST".into();
        assert_eq!(validate(&post), Err(HandshakeError::NotGet));
        let mut old = upgrade(&[]);
        old.http11 = false;
        assert_eq!(validate(&old), Err(HandshakeError::NotHttp11));
    }

    #[test]
    fn refusals_are_400_and_version_13_is_advertised() {
        let r = String::from_utf8(HandshakeError::UnsupportedVersion.response()).unwrap();
        assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{r}");
        assert!(r.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{r}");
        assert!(r.contains("\r\nConnection: close\r\n"), "{r}");
        let r = String::from_utf8(HandshakeError::BadKey.response()).unwrap();
        assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
        assert!(!r.contains("Sec-WebSocket-Version"), "{r}");
    }
}
