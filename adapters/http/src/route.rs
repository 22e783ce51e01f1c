//! What to do with a complete request head, decided once for every driver:
//! which paths belong to Socket.IO (the core's `Config::path`, under which
//! the 0.9 endpoints `/socket.io/1/...` also live, and `Config::engine_path`
//! for bare Engine.IO), which are static files, which are 404; WebSocket
//! handshake validation, CORS preflight, and the body-length checks of a
//! polling request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use socketio_sansio::{Config, Cors, Handshake, HttpRequest, HttpResponse, Method, Rejection};

use crate::compress::{self, Encoding};
use crate::handshake::{json_string, sid_in_open_packet, AllowRequest, Cookie, HandshakeRequest};
use crate::head::RequestHead;
use crate::response::{plain, put_response};
use crate::{static_files, websocket};

/// The routing settings of one server: the protocol configuration, the
/// optional CORS policy, the optional static directory, the optional
/// `allowRequest` hook and `io` cookie, and the polling compression
/// threshold.
#[derive(Debug, Clone)]
pub struct Router {
    config: Arc<Config>,
    cors: Option<Cors>,
    static_root: Option<PathBuf>,
    allow: Option<AllowRequest>,
    cookie: Option<Arc<Cookie>>,
    compression: Option<usize>,
    ws_close_timeout: Duration,
}

/// How long a WebSocket the server closes waits for the peer's close frame
/// before the TCP connection is closed, by default.
pub const DEFAULT_WS_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The decision for one request head.
#[derive(Debug)]
pub enum Route {
    /// A valid WebSocket upgrade under a Socket.IO or Engine.IO path: hand
    /// `handshake` to `Server::handle_ws_open`; on success write
    /// [`Router::put_switching_protocols`] with `accept_key` (and the new
    /// session's sid when `new_session`), on a rejection
    /// [`Reply::from_rejection`].
    WebSocket {
        /// The request for the core.
        handshake: Handshake,
        /// The `Sec-WebSocket-Accept` value.
        accept_key: String,
        /// The upgrade opens a session (no `sid`): the 101 carries the
        /// cookie, if configured.
        new_session: bool,
    },
    /// A plain HTTP request for the core (polling, the 0.9 handshake...):
    /// read [`PollingRequest::body_len`] body bytes, then
    /// [`PollingRequest::into_request`].
    Polling(PollingRequest),
    /// Answered without the core: write [`Reply::bytes`].
    Reply(Reply),
    /// A path outside Socket.IO while a static directory is served: write
    /// [`Router::static_response`] (reads the file) and close.
    Static(RequestHead),
}

/// An answer made without the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Its status code (for logs and tests).
    pub status: u16,
    /// The whole response.
    pub bytes: Vec<u8>,
    /// True if the connection may carry the next request (the bytes say
    /// `Connection: keep-alive`); else close once written.
    pub keep_alive: bool,
}

impl Reply {
    /// A plain-text answer that closes the connection.
    pub fn close(status: u16, text: &str) -> Self {
        Reply {
            status,
            bytes: plain(status, text),
            keep_alive: false,
        }
    }

    /// The answer to a head that exceeds [`crate::MAX_HEAD`]: 431, close.
    pub fn head_too_large() -> Self {
        Reply::close(431, "Request Header Fields Too Large")
    }

    /// The answer to a head that is not HTTP/1.x: 400, close.
    pub fn malformed_head() -> Self {
        Reply::close(400, "Bad Request")
    }

    /// A response of the core, closing the connection.
    pub fn from_response(response: &HttpResponse) -> Self {
        let mut bytes = Vec::new();
        put_core_response(&mut bytes, response, &response.body, &[], false);
        Reply {
            status: response.status,
            bytes,
            keep_alive: false,
        }
    }

    /// The core refused a WebSocket open (bad sid, unsupported version...).
    pub fn from_rejection(rejection: &Rejection) -> Self {
        Reply::from_response(&rejection.to_response())
    }

    /// The answer to a WebSocket open the core refused: as
    /// [`Reply::from_rejection`], except for a rejection that
    /// [accepts then closes](Rejection::accepts_then_closes) (a second
    /// WebSocket for an upgraded session): `101` with `accept_key`, then a
    /// close frame without a code, as the reference's `websocket.close()`.
    pub fn from_ws_rejection(rejection: &Rejection, accept_key: &str) -> Self {
        if !rejection.accepts_then_closes() {
            return Reply::from_rejection(rejection);
        }
        let mut bytes = Vec::with_capacity(160);
        websocket::put_switching_protocols(&mut bytes, accept_key);
        crate::ws::put_close(&mut bytes, None);
        Reply {
            status: 101,
            bytes,
            keep_alive: false,
        }
    }
}

/// A plain HTTP request whose body is still to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollingRequest {
    /// The head.
    pub head: RequestHead,
    /// How many body bytes follow the head (within `Config::max_payload`).
    pub body_len: usize,
    /// How to frame the core's answer.
    pub reply: PendingReply,
}

impl PollingRequest {
    /// The request for `Server::handle_http`, once the body is read, and
    /// what frames its answer.
    pub fn into_request(self, body: Vec<u8>) -> (HttpRequest, PendingReply) {
        let head = self.head;
        let mut request =
            HttpRequest::new(Method::from_name(&head.method), head.target, head.headers);
        request.body = body;
        (request, self.reply)
    }
}

/// What the answer to a polling request needs besides the core's response:
/// the keep-alive decision, the CORS headers for the request's origin, the
/// cookie of a handshake and the compression of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReply {
    /// The request allowed another one on the connection.
    pub keep_alive: bool,
    /// From the core's `Cors::headers` (empty without CORS).
    pub cors: Vec<(&'static str, String)>,
    /// A handshake: a successful answer sets this cookie with the new sid.
    pub cookie: Option<Arc<Cookie>>,
    /// The coding the request accepts and the threshold from which a `200`
    /// body is compressed with it (none: never).
    pub compress: Option<(Encoding, usize)>,
}

impl PendingReply {
    /// A reply with only the keep-alive decision and the CORS headers.
    pub fn new(keep_alive: bool, cors: Vec<(&'static str, String)>) -> Self {
        PendingReply {
            keep_alive,
            cors,
            cookie: None,
            compress: None,
        }
    }

    /// Appends the core's `response` with the CORS headers (and, for a
    /// `200`, the cookie of a handshake and the body compressed as
    /// negotiated when it reaches the threshold); returns whether the
    /// connection stays open (not if the core said `Connection: close`).
    pub fn put(&self, response: &HttpResponse, out: &mut Vec<u8>) -> bool {
        let keep_alive = self.keep_alive
            && !response.headers.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close")
            });
        let mut extra = Vec::new();
        let mut body = None;
        if response.status == 200 {
            if let Some(sid) = self
                .cookie
                .as_ref()
                .and_then(|c| sid_in_open_packet(&response.body).map(|sid| c.header_value(sid)))
            {
                extra.push(("Set-Cookie", sid));
            }
            let encoded = response
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-encoding"));
            if let Some((encoding, threshold)) = self.compress {
                if !encoded && response.body.len() >= threshold {
                    match compress::compress(encoding, &response.body) {
                        Some(bytes) => {
                            extra.push(("Content-Encoding", encoding.token().to_owned()));
                            body = Some(bytes);
                        }
                        None => log::warn!("{} compression failed", encoding.token()),
                    }
                }
            }
        }
        let body = body.as_deref().unwrap_or(&response.body);
        if extra.is_empty() {
            put_core_response(out, response, body, &self.cors, keep_alive);
        } else {
            extra.splice(0..0, self.cors.iter().cloned());
            put_core_response(out, response, body, &extra, keep_alive);
        }
        keep_alive
    }
}

/// Appends a core response (its own `Connection` header dropped: framing is
/// ours) with `body`, followed by `extra` headers.
fn put_core_response(
    out: &mut Vec<u8>,
    response: &HttpResponse,
    body: &[u8],
    extra: &[(&'static str, String)],
    keep_alive: bool,
) {
    let headers = response
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("connection"))
        .chain(extra)
        .map(|(k, v)| (*k, v.as_str()));
    crate::response::put_head_with(
        out,
        response.status,
        response.content_type,
        headers,
        body.len(),
        keep_alive,
    );
    out.extend_from_slice(body);
}

impl Router {
    /// Routes for `config` (its `path` and `engine_path`), without CORS
    /// headers and without static files.
    pub fn new(config: Arc<Config>) -> Self {
        Router {
            config,
            cors: None,
            static_root: None,
            allow: None,
            cookie: None,
            compression: Some(compress::DEFAULT_THRESHOLD),
            ws_close_timeout: DEFAULT_WS_CLOSE_TIMEOUT,
        }
    }

    /// How long a WebSocket the server closes (after sending its close
    /// frame) waits for the peer's close frame before the driver closes the
    /// TCP connection (RFC 6455 §7.1.1: the server closes TCP first, once
    /// the closing handshake is done). Default:
    /// [`DEFAULT_WS_CLOSE_TIMEOUT`].
    pub fn with_ws_close_timeout(mut self, timeout: Duration) -> Self {
        self.ws_close_timeout = timeout;
        self
    }

    /// See [`Router::with_ws_close_timeout`].
    pub fn ws_close_timeout(&self) -> Duration {
        self.ws_close_timeout
    }

    /// Asks `allow` about the first request of every session (engine.io's
    /// `allowRequest`); a refusal is answered here and the core never sees
    /// the request.
    pub fn with_allow_request(mut self, allow: Option<AllowRequest>) -> Self {
        self.allow = allow;
        self
    }

    /// Sets `cookie` with the new sid on the answer to every handshake
    /// (polling and WebSocket); none (the default): no cookie.
    pub fn with_cookie(mut self, cookie: Option<Cookie>) -> Self {
        self.cookie = cookie.map(Arc::new);
        self
    }

    /// Compresses polling answers of at least `threshold` bytes (gzip or
    /// deflate as the request accepts); none: never. Default: 1024 bytes.
    pub fn with_compression(mut self, threshold: Option<usize>) -> Self {
        self.compression = threshold;
        self
    }

    /// Writes the `101 Switching Protocols` answer for `accept_key`, with
    /// the cookie for `sid` when one is configured and given (a
    /// [`Route::WebSocket`] with `new_session`).
    pub fn put_switching_protocols(&self, out: &mut Vec<u8>, accept_key: &str, sid: Option<&str>) {
        match (&self.cookie, sid) {
            (Some(cookie), Some(sid)) => websocket::put_switching_protocols_with(
                out,
                accept_key,
                &[("Set-Cookie", cookie.header_value(sid))],
            ),
            _ => websocket::put_switching_protocols(out, accept_key),
        }
    }

    /// True if `head` opens a session: a `GET` (or WebSocket upgrade)
    /// without `sid`, and, under the 0.9 paths, only the handshake
    /// `{path}1/`.
    fn opens_session(&self, head: &RequestHead) -> bool {
        if head.method != "GET" {
            return false;
        }
        let req = HandshakeRequest {
            method: &head.method,
            url: &head.target,
            headers: &head.headers,
            remote: None,
        };
        if !self.config.is_engine_path(&head.target) {
            if let Some(legacy) = req
                .path()
                .strip_prefix(self.config.path.as_str())
                .and_then(|rest| rest.strip_prefix('1'))
            {
                return legacy.is_empty() || legacy == "/";
            }
        }
        req.query("sid").is_none()
    }

    /// The hook's refusal of `head`, if it opens a session and is refused.
    fn refusal(&self, head: &RequestHead, peer: Option<SocketAddr>) -> Option<String> {
        let allow = self.allow.as_ref()?;
        if !self.opens_session(head) {
            return None;
        }
        let req = HandshakeRequest {
            method: &head.method,
            url: &head.target,
            headers: &head.headers,
            remote: peer,
        };
        let refusal = allow.check(&req).err()?;
        log::debug!(
            "allow_request refused {} from {peer:?}: {}",
            head.target,
            refusal.message
        );
        Some(refusal.message.into_owned())
    }

    /// Adds CORS headers to polling answers and answers preflights.
    pub fn with_cors(mut self, cors: Option<Cors>) -> Self {
        self.cors = cors;
        self
    }

    /// Serves files from `dir` for paths outside Socket.IO (instead of 404).
    /// Fails if `dir` is not an existing directory.
    pub fn with_static_dir(mut self, dir: Option<&Path>) -> std::io::Result<Self> {
        self.static_root = dir.map(static_files::canonical_root).transpose()?;
        Ok(self)
    }

    /// The protocol configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// True if `target` belongs to the core: under `Config::path` (modern
    /// and 0.9 requests) or `Config::engine_path`.
    pub fn is_ours(&self, target: &str) -> bool {
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        path.starts_with(self.config.path.as_str()) || self.config.is_engine_path(target)
    }

    /// Decides what to do with a complete head whose peer is unknown (the
    /// `allow_request` hook sees no address): [`Router::route_from`].
    pub fn route(&self, head: RequestHead) -> Route {
        self.route_from(head, None)
    }

    /// Decides what to do with a complete head from `peer`.
    pub fn route_from(&self, head: RequestHead, peer: Option<SocketAddr>) -> Route {
        if !self.is_ours(&head.target) {
            return match self.static_root {
                Some(_) => Route::Static(head),
                None => Route::Reply(Reply::close(404, "Not Found")),
            };
        }
        if websocket::is_upgrade(&head) {
            return match websocket::validate(&head) {
                Ok(accept_key) => {
                    if let Some(message) = self.refusal(&head, peer) {
                        // engine.io's abortUpgrade: 400 whatever the code.
                        let mut bytes = Vec::new();
                        put_response(
                            &mut bytes,
                            400,
                            Some("text/html"),
                            &[],
                            message.as_bytes(),
                            false,
                        );
                        return Route::Reply(Reply {
                            status: 400,
                            bytes,
                            keep_alive: false,
                        });
                    }
                    Route::WebSocket {
                        new_session: self.opens_session(&head),
                        handshake: Handshake::new(head.target, head.headers),
                        accept_key,
                    }
                }
                Err(e) => {
                    log::debug!("refused websocket handshake: {e:?}");
                    Route::Reply(Reply {
                        status: 400,
                        bytes: e.response(),
                        keep_alive: false,
                    })
                }
            };
        }
        let keep_alive = head.keep_alive();
        let origin = head.header("origin");
        if let (Some(cors), "OPTIONS") = (&self.cors, head.method.as_str()) {
            let response =
                cors.preflight_response(origin, head.header("access-control-request-headers"));
            // Only a bodiless preflight leaves the connection usable.
            let keep_alive = keep_alive && head.body_length(0) == Ok(0);
            let mut bytes = Vec::new();
            put_core_response(&mut bytes, &response, &response.body, &[], keep_alive);
            return Route::Reply(Reply {
                status: response.status,
                bytes,
                keep_alive,
            });
        }
        let cors = self
            .cors
            .as_ref()
            .map(|c| c.headers(origin))
            .unwrap_or_default();
        if let Some(message) = self.refusal(&head, peer) {
            // engine.io's abortRequest for FORBIDDEN (code 4).
            let body = format!("{{\"code\":4,\"message\":{}}}", json_string(&message));
            let keep_alive = keep_alive && head.body_length(0) == Ok(0);
            let mut bytes = Vec::new();
            put_response(
                &mut bytes,
                403,
                Some("application/json"),
                &cors,
                body.as_bytes(),
                keep_alive,
            );
            return Route::Reply(Reply {
                status: 403,
                bytes,
                keep_alive,
            });
        }
        let opens_session = self.opens_session(&head);
        match head.body_length(self.config.max_payload) {
            Ok(body_len) => Route::Polling(PollingRequest {
                reply: PendingReply {
                    keep_alive,
                    cors,
                    cookie: self.cookie.clone().filter(|_| opens_session),
                    compress: self
                        .compression
                        .filter(|_| head.method == "GET")
                        .and_then(|t| {
                            Some((compress::negotiate(head.header("accept-encoding"))?, t))
                        }),
                },
                head,
                body_len,
            }),
            Err(e) => {
                // The reference answers 413 and closes; the session stays.
                let mut bytes = Vec::new();
                let status = e.status();
                put_response(&mut bytes, status, None, &cors, b"", false);
                Route::Reply(Reply {
                    status,
                    bytes,
                    keep_alive: false,
                })
            }
        }
    }

    /// The answer to a [`Route::Static`] head (reads the file); 404 when no
    /// static directory is served.
    pub fn static_response(&self, head: &RequestHead) -> Vec<u8> {
        match &self.static_root {
            Some(root) => static_files::response(head, root),
            None => plain(404, "Not Found"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::{head, parse_head, Parsed};

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn router() -> Router {
        let config = Config::builder()
            .engine_path("/engine.io/")
            .build()
            .unwrap();
        Router::new(config)
    }

    fn ws(target: &str) -> RequestHead {
        head(
            "GET",
            target,
            &[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", KEY),
            ],
        )
    }

    fn reply(route: Route) -> Reply {
        match route {
            Route::Reply(r) => r,
            other => panic!("not a reply: {other:?}"),
        }
    }

    #[test]
    fn socketio_legacy_and_engine_paths_are_ours_the_rest_404() {
        let r = router();
        for ours in [
            "/socket.io/?EIO=4&transport=polling",
            "/socket.io/1/?t=1",
            "/socket.io/1/websocket/abc",
            "/socket.io/1/xhr-polling/abc?t=2",
            "/engine.io/?EIO=4&transport=polling",
            "/engine.io",
        ] {
            assert!(r.is_ours(ours), "{ours}");
            assert!(
                matches!(r.route(head("GET", ours, &[])), Route::Polling(_)),
                "{ours}"
            );
        }
        for other in [
            "/",
            "/socket.io",
            "/socketio/",
            "/engine.iox/",
            "/index.html",
        ] {
            assert!(!r.is_ours(other), "{other}");
            let rep = reply(r.route(head("GET", other, &[])));
            assert_eq!(rep.status, 404);
            assert!(!rep.keep_alive);
        }
        // Another path configured.
        let r = Router::new(Config::builder().path("/rt/").build().unwrap());
        assert!(r.is_ours("/rt/1/?t=1"));
        assert!(!r.is_ours("/socket.io/?EIO=4"));
    }

    #[test]
    fn websocket_upgrades_become_handshakes_or_400() {
        let r = router();
        for target in [
            "/socket.io/?EIO=4&transport=websocket",
            "/socket.io/1/websocket/abc",
            "/engine.io/?EIO=4&transport=websocket",
        ] {
            let Route::WebSocket {
                handshake,
                accept_key,
                new_session,
            } = r.route(ws(target))
            else {
                panic!("{target}")
            };
            assert_eq!(handshake.url, target);
            assert_eq!(accept_key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            assert_eq!(new_session, !target.contains("websocket/abc"), "{target}");
        }
        let mut bad = ws("/socket.io/?EIO=4&transport=websocket");
        bad.headers[3].1 = "short".into();
        let rep = reply(r.route(bad));
        assert_eq!((rep.status, rep.keep_alive), (400, false));
        let mut v8 = ws("/socket.io/?EIO=4&transport=websocket");
        v8.headers[2].1 = "8".into();
        let rep = reply(r.route(v8));
        assert_eq!(rep.status, 400);
        assert!(String::from_utf8_lossy(&rep.bytes).contains("Sec-WebSocket-Version: 13\r\n"));
        // An upgrade outside our paths is not ours.
        assert_eq!(reply(r.route(ws("/chat"))).status, 404);
    }

    #[test]
    fn polling_requests_carry_body_length_keep_alive_and_cors() {
        let r = router().with_cors(Some(Cors::any_origin()));
        let h = head(
            "POST",
            "/socket.io/?EIO=4&transport=polling&sid=x",
            &[("Content-Length", "5"), ("Origin", "http://a")],
        );
        let Route::Polling(p) = r.route(h) else {
            panic!()
        };
        assert_eq!(p.body_len, 5);
        assert!(p.reply.keep_alive);
        assert_eq!(
            p.reply.cors,
            [("Access-Control-Allow-Origin", "*".to_owned())]
        );
        let (request, pending) = p.into_request(b"4hello".to_vec());
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.body, b"4hello");
        let mut out = Vec::new();
        let keep = pending.put(
            &HttpResponse::new(200, "text/html", "ok").with_header("Connection", "close"),
            &mut out,
        );
        assert!(!keep);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert!(!text.contains("Connection: keep-alive"), "{text}");
        assert!(
            text.contains("Access-Control-Allow-Origin: *\r\n"),
            "{text}"
        );
        let mut out = Vec::new();
        assert!(pending.put(&HttpResponse::new(200, "text/html", "ok"), &mut out));
    }

    #[test]
    fn body_errors_are_answered_here() {
        let r = router();
        let target = "/socket.io/?EIO=4&transport=polling&sid=x";
        for (headers, status) in [
            (&[("Transfer-Encoding", "chunked")][..], 411),
            (&[("Content-Length", "+5")][..], 400),
            (&[("Content-Length", "5 5")][..], 400),
            (&[("Content-Length", "0x10")][..], 400),
            (&[("Content-Length", "100000000000000000000000")][..], 413),
            (&[("Content-Length", "100000001")][..], 413),
        ] {
            let rep = reply(r.route(head("POST", target, headers)));
            assert_eq!((rep.status, rep.keep_alive), (status, false), "{headers:?}");
            assert!(String::from_utf8_lossy(&rep.bytes).contains("Connection: close\r\n"));
        }
    }

    #[test]
    fn preflights_with_and_without_cors() {
        let pre = |r: &Router, origin: &str| {
            r.route(head(
                "OPTIONS",
                "/socket.io/?EIO=4&transport=polling",
                &[("Origin", origin)],
            ))
        };
        let r = router().with_cors(Some(Cors::origins(["http://ok"])));
        let ok = reply(pre(&r, "http://ok"));
        assert_eq!((ok.status, ok.keep_alive), (204, true));
        assert!(String::from_utf8_lossy(&ok.bytes).contains("Access-Control-Allow-Methods"));
        assert_eq!(reply(pre(&r, "http://evil")).status, 403);
        // Without CORS, OPTIONS goes to the core like any request.
        assert!(matches!(pre(&router(), "http://ok"), Route::Polling(_)));
    }

    #[test]
    fn static_routes_only_with_a_directory() {
        let dir = std::env::temp_dir().join(format!("sio-http-route-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "hi").unwrap();
        let r = router().with_static_dir(Some(&dir)).unwrap();
        let Route::Static(h) = r.route(head("GET", "/", &[])) else {
            panic!()
        };
        let text = String::from_utf8(r.static_response(&h)).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("hi"),
            "{text}"
        );
        assert!(router()
            .with_static_dir(Some(&dir.join("missing")))
            .is_err());
        assert!(router()
            .with_static_dir(Some(&dir.join("index.html")))
            .is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn rejections_and_head_errors() {
        let rep = Reply::from_rejection(&Rejection::BAD_REQUEST);
        assert_eq!(rep.status, 400);
        assert!(String::from_utf8_lossy(&rep.bytes).contains("application/json"));
        assert_eq!(Reply::from_ws_rejection(&Rejection::BAD_REQUEST, "k"), rep);
        let rep = Reply::from_ws_rejection(&Rejection::ALREADY_UPGRADED, "acc");
        assert_eq!((rep.status, rep.keep_alive), (101, false));
        assert_eq!(
            rep.bytes,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: acc\r\n\r\n\x88\x00"
        );
        assert_eq!(Reply::head_too_large().status, 431);
        assert_eq!(Reply::malformed_head().status, 400);
    }

    fn refusing_router() -> Router {
        router()
            .with_cors(Some(Cors::any_origin()))
            .with_allow_request(Some(AllowRequest::new(|req: &HandshakeRequest| {
                if req.query("token") == Some("ok") {
                    return Ok(());
                }
                match req.header("x-reason") {
                    Some(m) => Err(crate::Refusal::new(m.to_owned())),
                    None => Err(crate::Refusal::forbidden()),
                }
            })))
    }

    #[test]
    fn allow_request_refuses_session_openings_before_the_core() {
        let r = refusing_router();
        let peer: SocketAddr = "10.1.2.3:4567".parse().unwrap();
        // Polling handshake: 403, engine.io's body, CORS headers, no Route::Polling.
        let rep = reply(r.route_from(
            head(
                "GET",
                "/socket.io/?EIO=4&transport=polling",
                &[("Origin", "http://a")],
            ),
            Some(peer),
        ));
        assert_eq!((rep.status, rep.keep_alive), (403, true));
        let text = String::from_utf8(rep.bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text}");
        assert!(
            text.contains("Content-Type: application/json\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Access-Control-Allow-Origin: *\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with("\r\n\r\n{\"code\":4,\"message\":\"Forbidden\"}"),
            "{text}"
        );
        // The hook's own message, JSON-escaped.
        let rep = reply(r.route(head(
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            &[("X-Reason", "no \"you\"")],
        )));
        assert!(String::from_utf8(rep.bytes)
            .unwrap()
            .ends_with("{\"code\":4,\"message\":\"no \\\"you\\\"\"}"));
        // The 0.9 handshake opens a session too.
        assert_eq!(
            reply(r.route(head("GET", "/socket.io/1/?t=1", &[]))).status,
            403
        );
        // WebSocket without sid: engine.io's abortUpgrade, 400 with the message.
        let rep = reply(r.route(ws("/socket.io/?EIO=4&transport=websocket")));
        assert_eq!((rep.status, rep.keep_alive), (400, false));
        let text = String::from_utf8(rep.bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(
            text.ends_with(
                "Content-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nForbidden"
            ),
            "{text}"
        );
        // Allowed by the hook.
        assert!(matches!(
            r.route(head(
                "GET",
                "/socket.io/?EIO=4&transport=polling&token=ok",
                &[]
            )),
            Route::Polling(_)
        ));
        // Not the first request of a session: the hook is not asked.
        for h in [
            head("GET", "/socket.io/?EIO=4&transport=polling&sid=abc", &[]),
            head("POST", "/socket.io/?EIO=4&transport=polling&sid=abc", &[]),
            head("POST", "/socket.io/?EIO=4&transport=polling", &[]),
            head("GET", "/socket.io/1/xhr-polling/abc?t=2", &[]),
        ] {
            assert!(matches!(r.route(h), Route::Polling(_)));
        }
        let Route::WebSocket { new_session, .. } =
            r.route(ws("/socket.io/?EIO=4&transport=websocket&sid=abc"))
        else {
            panic!()
        };
        assert!(!new_session);
    }

    #[test]
    fn allow_request_sees_method_url_headers_and_peer() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let r =
            router().with_allow_request(Some(AllowRequest::new(move |req: &HandshakeRequest| {
                log.lock().unwrap().push(format!(
                    "{} {} {:?} {:?} {:?}",
                    req.method,
                    req.path(),
                    req.query("EIO"),
                    req.header("user-agent"),
                    req.remote
                ));
                Ok(())
            })));
        let peer: SocketAddr = "[::1]:9".parse().unwrap();
        let h = head(
            "GET",
            "/socket.io/?EIO=4&transport=polling",
            &[("User-Agent", "t")],
        );
        assert!(matches!(r.route_from(h, Some(peer)), Route::Polling(_)));
        assert_eq!(
            seen.lock().unwrap().as_slice(),
            ["GET /socket.io/ Some(\"4\") Some(\"t\") Some([::1]:9)"]
        );
    }

    fn polling(r: &Router, target: &str, headers: &[(&str, &str)]) -> PendingReply {
        match r.route(head("GET", target, headers)) {
            Route::Polling(p) => p.reply,
            other => panic!("{other:?}"),
        }
    }

    fn split(out: &[u8]) -> (String, Vec<u8>) {
        let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        (
            String::from_utf8(out[..at].to_vec()).unwrap(),
            out[at..].to_vec(),
        )
    }

    #[test]
    fn cookie_on_handshakes_only() {
        let r = router().with_cookie(Some(Cookie::default()));
        let open = HttpResponse::new(
            200,
            "text/plain; charset=UTF-8",
            r#"0{"sid":"Ab_9-x","upgrades":["websocket"]}"#,
        );
        let mut out = Vec::new();
        polling(&r, "/socket.io/?EIO=4&transport=polling", &[]).put(&open, &mut out);
        let (head_text, _) = split(&out);
        assert!(
            head_text.contains("\r\nSet-Cookie: io=Ab_9-x; Path=/; HttpOnly; SameSite=Lax\r\n"),
            "{head_text}"
        );
        // Not on later requests, nor without the option.
        for (r, target) in [
            (&r, "/socket.io/?EIO=4&transport=polling&sid=Ab_9-x"),
            (&router(), "/socket.io/?EIO=4&transport=polling"),
        ] {
            let mut out = Vec::new();
            polling(r, target, &[]).put(&open, &mut out);
            assert!(!String::from_utf8_lossy(&out).contains("Set-Cookie"));
        }
        // The WebSocket handshake's 101.
        let mut out = Vec::new();
        r.put_switching_protocols(&mut out, "acc", Some("Ab_9-x"));
        assert_eq!(
            out,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: acc\r\nSet-Cookie: io=Ab_9-x; Path=/; HttpOnly; SameSite=Lax\r\n\r\n"
        );
        let mut plain101 = Vec::new();
        router().put_switching_protocols(&mut plain101, "acc", Some("Ab_9-x"));
        assert!(!String::from_utf8_lossy(&plain101).contains("Set-Cookie"));
    }

    #[test]
    fn polling_answers_are_compressed_as_accepted() {
        use std::io::Read as _;
        let big = "4".to_owned() + &"hello ".repeat(300);
        let response = HttpResponse::new(200, "text/plain; charset=UTF-8", big.clone());
        let target = "/socket.io/?EIO=4&transport=polling&sid=x";
        let decode = |enc: &str, body: &[u8]| {
            let mut back = String::new();
            match enc {
                "gzip" => flate2::read::GzDecoder::new(body).read_to_string(&mut back),
                _ => flate2::read::ZlibDecoder::new(body).read_to_string(&mut back),
            }
            .unwrap();
            back
        };
        for (accept, want) in [
            ("gzip, deflate", Some("gzip")),
            ("deflate;q=0.9, gzip;q=0.8", Some("deflate")),
            ("gzip;q=0, deflate", Some("deflate")),
            ("identity", None),
            ("br", None),
        ] {
            let mut out = Vec::new();
            polling(&router(), target, &[("Accept-Encoding", accept)]).put(&response, &mut out);
            let (h, body) = split(&out);
            match want {
                Some(enc) => {
                    assert!(
                        h.contains(&format!("\r\nContent-Encoding: {enc}\r\n")),
                        "{h}"
                    );
                    assert!(
                        h.contains(&format!("Content-Length: {}\r\n", body.len())),
                        "{h}"
                    );
                    assert!(body.len() < big.len());
                    assert_eq!(decode(enc, &body), big);
                }
                None => {
                    assert!(!h.contains("Content-Encoding"), "{accept}: {h}");
                    assert_eq!(body, big.as_bytes());
                }
            }
        }
        // No header; below the threshold; turned off; POST: untouched.
        let small = HttpResponse::new(200, "text/plain; charset=UTF-8", "4".repeat(1023));
        let cases = [
            (router(), &response, &[][..]),
            (router(), &small, &[("Accept-Encoding", "gzip")][..]),
            (
                router().with_compression(None),
                &response,
                &[("Accept-Encoding", "gzip")][..],
            ),
        ];
        for (r, resp, headers) in cases {
            let mut out = Vec::new();
            polling(&r, target, headers).put(resp, &mut out);
            let (h, body) = split(&out);
            assert!(!h.contains("Content-Encoding"), "{h}");
            assert_eq!(body, resp.body);
        }
        // Exactly the threshold is compressed; another threshold.
        let at = HttpResponse::new(200, "text/plain; charset=UTF-8", "4".repeat(1024));
        let mut out = Vec::new();
        polling(&router(), target, &[("Accept-Encoding", "gzip")]).put(&at, &mut out);
        assert!(split(&out).0.contains("Content-Encoding: gzip"));
        let mut out = Vec::new();
        polling(
            &router().with_compression(Some(10)),
            target,
            &[("Accept-Encoding", "gzip")],
        )
        .put(
            &HttpResponse::new(200, "text/plain", "4".repeat(20)),
            &mut out,
        );
        assert!(split(&out).0.contains("Content-Encoding: gzip"));
        let Route::Polling(p) =
            router().route(head("POST", target, &[("Accept-Encoding", "gzip")]))
        else {
            panic!()
        };
        assert_eq!(p.reply.compress, None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// No input makes parsing or routing panic.
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let r = router().with_cors(Some(Cors::any_origin()));
            if let Parsed::Complete(h, len) = parse_head(&bytes) {
                proptest::prop_assert!(len <= bytes.len());
                let _ = r.route(h);
            }
        }

        /// Heads that parse, with random header values: no panic either.
        #[test]
        fn random_heads_never_panic(
            method in "(GET|POST|OPTIONS|PUT|HEAD)",
            target in "/[a-z0-9./?=&%-]{0,40}",
            values in proptest::collection::vec("[ -~]{0,30}", 6),
        ) {
            let names = ["Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Content-Length", "Transfer-Encoding"];
            let mut raw = format!("{method} {target} HTTP/1.1\r\n");
            for (n, v) in names.iter().zip(&values) {
                raw.push_str(&format!("{n}: {v}\r\n"));
            }
            raw.push_str("\r\n");
            let r = router().with_cors(Some(Cors::any_origin()));
            if let Parsed::Complete(h, _) = parse_head(raw.as_bytes()) {
                let _ = r.route(h);
            }
        }
    }
}
