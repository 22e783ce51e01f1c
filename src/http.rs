//! HTTP requests in, HTTP responses out: how the polling transports (and the
//! legacy 0.9 handshake) talk to whatever HTTP server hosts the core.
//!
//! The host parses a request, gives it an id of its choosing and hands it to
//! [`crate::Server::handle_http`]; the answer comes out of
//! [`crate::Server::poll_http_response`] with the same id — at once, or
//! later for a long-poll GET that waits for data.

/// The host's id for one HTTP request (any value unique among the requests
/// it has in flight).
pub type RequestId = u64;

/// The request method, as far as the protocols care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `OPTIONS` (CORS preflight; answered by the host's CORS layer when configured)
    Options,
    /// Anything else (`PUT`, `DELETE`...).
    Other,
}

impl Method {
    /// Maps a method name (case-sensitive, as HTTP defines).
    pub fn from_name(name: &str) -> Self {
        match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

/// One HTTP request with its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The request target, e.g. `/socket.io/?EIO=4&transport=polling&sid=...`.
    pub url: String,
    /// The headers (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes). The host enforces
    /// [`crate::Config::max_payload`] while reading and answers 413 itself
    /// when it is exceeded, or passes the request with
    /// [`HttpRequest::body_too_large`] set.
    pub body: Vec<u8>,
    /// True when the body exceeded the limit and was discarded.
    pub body_too_large: bool,
}

impl HttpRequest {
    /// A request without body.
    pub fn new(method: Method, url: impl Into<String>, headers: Vec<(String, String)>) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers,
            body: Vec::new(),
            body_too_large: false,
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path part of the URL.
    pub fn path(&self) -> &str {
        self.url
            .split_once('?')
            .map_or(self.url.as_str(), |(p, _)| p)
    }

    /// The query part of the URL (without `?`).
    pub fn query_str(&self) -> &str {
        self.url.split_once('?').map_or("", |(_, q)| q)
    }
}

/// One HTTP response. The host adds framing headers (`Content-Length`,
/// `Connection`) and its CORS headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type` value, if there is a body.
    pub content_type: Option<&'static str>,
    /// Other headers the protocol needs (e.g. `Cache-Control: no-store`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// `text/plain; charset=UTF-8`, the polling payload type.
pub const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";
/// `application/octet-stream`, the v3 binary (XHR2) payload type.
pub const OCTET_STREAM: &str = "application/octet-stream";
/// `application/json`, the error body type.
pub const APPLICATION_JSON: &str = "application/json";
/// `text/html`, what the reference sends with a POST's `ok`.
pub const TEXT_HTML: &str = "text/html";

impl HttpResponse {
    /// A response with a body of `content_type`.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            content_type: Some(content_type),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A response without body.
    pub fn empty(status: u16) -> Self {
        HttpResponse {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The body as text (lossy), for logs and tests.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
