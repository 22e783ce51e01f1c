//! What a server may decide about the first request of a session before
//! the core sees it: the `allowRequest` hook ([`AllowRequest`], refusing
//! with a [`Refusal`]) and the `io` cookie carrying the new sid
//! ([`Cookie`]), as engine.io's `allowRequest` and `cookie` options.
//!
//! ```
//! use socketio_http::handshake::{HandshakeRequest, Refusal};
//!
//! let headers = vec![("Origin".to_owned(), "http://evil".to_owned())];
//! let req = HandshakeRequest {
//!     method: "GET",
//!     url: "/socket.io/?EIO=4&transport=polling&token=abc",
//!     headers: &headers,
//!     remote: None,
//! };
//! assert_eq!(req.path(), "/socket.io/");
//! assert_eq!(req.query("token"), Some("abc"));
//! let allow = |req: &HandshakeRequest| match req.header("origin") {
//!     Some("http://evil") => Err(Refusal::forbidden()),
//!     _ => Ok(()),
//! };
//! assert_eq!(allow(&req), Err(Refusal::forbidden()));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// The first request of a session (a polling handshake `GET` without
/// `sid`, or a WebSocket upgrade without `sid`), as the hook sees it.
#[derive(Debug, Clone, Copy)]
pub struct HandshakeRequest<'a> {
    /// The method, as sent (`GET`).
    pub method: &'a str,
    /// The request target: path and query, e.g.
    /// `/socket.io/?EIO=4&transport=polling`.
    pub url: &'a str,
    /// The header fields in order, names as sent.
    pub headers: &'a [(String, String)],
    /// The peer's address, when the driver knows it.
    pub remote: Option<SocketAddr>,
}

impl<'a> HandshakeRequest<'a> {
    /// The path, without the query.
    pub fn path(&self) -> &'a str {
        self.url.split_once('?').map_or(self.url, |(p, _)| p)
    }

    /// The first value of the query parameter `name`, as sent (not
    /// percent-decoded).
    pub fn query(&self, name: &str) -> Option<&'a str> {
        let (_, query) = self.url.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }

    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a handshake is refused. As engine.io, a refused polling handshake is
/// answered `403` with `{"code":4,"message":...}` (and the CORS headers), a
/// refused WebSocket upgrade `400 Bad Request` with the message as its
/// body; no session is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The message of the answer (`Forbidden` by default).
    pub message: Cow<'static, str>,
}

impl Refusal {
    /// The reference's default refusal: `Forbidden`.
    pub fn forbidden() -> Self {
        Refusal {
            message: Cow::Borrowed("Forbidden"),
        }
    }

    /// A refusal with its own message (engine.io's `callback(message, false)`).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Refusal {
            message: message.into(),
        }
    }
}

impl Default for Refusal {
    fn default() -> Self {
        Refusal::forbidden()
    }
}

/// The hook's function type.
type AllowFn = dyn Fn(&HandshakeRequest<'_>) -> Result<(), Refusal> + Send + Sync;

/// The hook deciding on every first request of a session.
#[derive(Clone)]
pub struct AllowRequest(Arc<AllowFn>);

impl AllowRequest {
    /// Wraps `f`.
    pub fn new(
        f: impl Fn(&HandshakeRequest<'_>) -> Result<(), Refusal> + Send + Sync + 'static,
    ) -> Self {
        AllowRequest(Arc::new(f))
    }

    /// Asks the hook.
    pub fn check(&self, request: &HandshakeRequest<'_>) -> Result<(), Refusal> {
        (self.0)(request)
    }
}

impl fmt::Debug for AllowRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllowRequest(..)")
    }
}

/// The `SameSite` attribute of the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax` (engine.io's default).
    Lax,
    /// `SameSite=None`.
    None,
}

/// The cookie set on a handshake's answer with the new sid (for sticky
/// load balancing). The defaults are engine.io's: `io`, `Path=/`,
/// `HttpOnly`, `SameSite=Lax`.
///
/// ```
/// use socketio_http::handshake::Cookie;
/// assert_eq!(Cookie::default().header_value("abc"), "io=abc; Path=/; HttpOnly; SameSite=Lax");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Its name (`io`).
    pub name: String,
    /// Its `Path` (`/`); none for no attribute.
    pub path: Option<String>,
    /// `HttpOnly` (true).
    pub http_only: bool,
    /// `SameSite` (`Lax`); none for no attribute.
    pub same_site: Option<SameSite>,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: "io".into(),
            path: Some("/".into()),
            http_only: true,
            same_site: Some(SameSite::Lax),
        }
    }
}

impl Cookie {
    /// The `Set-Cookie` value for `sid`.
    pub fn header_value(&self, sid: &str) -> String {
        let mut v = format!("{}={sid}", self.name);
        if let Some(path) = &self.path {
            v.push_str("; Path=");
            v.push_str(path);
        }
        if self.http_only {
            v.push_str("; HttpOnly");
        }
        match self.same_site {
            Some(SameSite::Strict) => v.push_str("; SameSite=Strict"),
            Some(SameSite::Lax) => v.push_str("; SameSite=Lax"),
            Some(SameSite::None) => v.push_str("; SameSite=None"),
            None => {}
        }
        v
    }
}

/// The sid of a handshake answer's body (the open packet's `"sid":"..."`,
/// whatever the payload encoding), if it has one made of URL-safe
/// characters.
pub fn sid_in_open_packet(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"sid\":\"";
    let start = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = body.get(start..)?;
    let len = rest.iter().position(|&b| b == b'"')?;
    let sid = std::str::from_utf8(rest.get(..len)?).ok()?;
    let ok = !sid.is_empty()
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(sid)
}

/// A JSON string literal for `s`.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_bytes_and_sid_extraction() {
        assert_eq!(
            Cookie::default().header_value("AbC-_1"),
            "io=AbC-_1; Path=/; HttpOnly; SameSite=Lax"
        );
        let c = Cookie {
            name: "sticky".into(),
            path: None,
            http_only: false,
            same_site: Some(SameSite::Strict),
        };
        assert_eq!(c.header_value("x"), "sticky=x; SameSite=Strict");
        assert_eq!(
            sid_in_open_packet(br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[]}"#),
            Some("lv_VI97HAXpY6yYWAAAC")
        );
        assert_eq!(sid_in_open_packet(br#"96:0{"sid":"a1","#), Some("a1"));
        assert_eq!(sid_in_open_packet(br#"0{"sid":"a;b"}"#), None);
        assert_eq!(sid_in_open_packet(br#"0{"sid":"abc"#), None);
        assert_eq!(sid_in_open_packet(b"ok"), None);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"");
    }
}
