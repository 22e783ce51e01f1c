//! Classifying request paths of the legacy 0.9 protocol (socket.io-spec,
//! *Socket.IO HTTP requests*: `/<resource>/<protocol version>/<transport>/<sid>`;
//! a path without an `EIO` query and with a number as its first segment is
//! 0.9), and the answers given without a session.

use crate::http::{HttpResponse, TEXT_PLAIN};
use crate::legacy::{LegacyConfig, LegacyTransport};
use crate::query::Query;

/// What a request under the resource means for the 0.9 protocol.
///
/// | path (resource `/socket.io`) | route | answer |
/// |---|---|---|
/// | `/socket.io/1/`, `/socket.io/1` | [`LegacyRoute::Handshake`] | [`handshake_response`] |
/// | `/socket.io/1/websocket/<sid>`, `/socket.io/1/xhr-polling/<sid>` | [`LegacyRoute::Transport`] | the session's |
/// | `/socket.io/1/<any or empty>/<sid>?disconnect` | [`LegacyRoute::ForcedDisconnect`] | 200 empty (session), [`unknown_session_response`] otherwise |
/// | `/socket.io/1/jsonp-polling/<sid>`, `htmlfile`, `flashsocket`, `xhr-multipart`, unknown names | [`LegacyRoute::UnsupportedTransport`] | 200 `7:::0` (error packet "transport not supported") |
/// | `/socket.io/2/...` (any other number) | [`LegacyRoute::UnsupportedVersion`] | 500 `Protocol version not supported.` |
/// | `/socket.io/1/websocket/` (no sid), `/socket.io/1/a/b/c` | [`LegacyRoute::BadRequest`] | 400 |
/// | anything else (`/socket.io/?EIO=4...`, `/other`) | [`LegacyRoute::NotLegacy`] | not ours: Engine.IO or 404 |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyRoute<'a> {
    /// Not a 0.9 request: the first segment after the resource is not a
    /// number (a modern Engine.IO request), or the path is outside the resource.
    NotLegacy,
    /// The handshake (any method, as the reference).
    Handshake,
    /// A request of an implemented transport for session `sid`. Check
    /// [`LegacyConfig::allows`]: a disabled transport is answered like an
    /// unsupported one.
    Transport {
        /// Which transport.
        transport: LegacyTransport,
        /// The session id.
        sid: &'a str,
    },
    /// `?disconnect` on a transport URL (the 0.9.16 client sends
    /// `/socket.io/1//<sid>?disconnect=1` on page unload): close the session
    /// ([`crate::legacy::LegacyConnection::handle_forced_disconnect`]).
    ForcedDisconnect {
        /// The session id.
        sid: &'a str,
    },
    /// A transport this crate does not implement.
    UnsupportedTransport {
        /// The transport name as requested.
        name: &'a str,
        /// The session id.
        sid: &'a str,
    },
    /// A protocol version other than `1`.
    UnsupportedVersion,
    /// A 0.9 path of the wrong shape.
    BadRequest,
}

/// Classifies `url` (path and optional query) for the 0.9 protocol mounted
/// at `resource` (e.g. `/socket.io`; a trailing `/` is ignored). Pure.
///
/// ```
/// use socketio_sansio::legacy::{route, LegacyRoute, LegacyTransport};
///
/// assert_eq!(route("/socket.io", "/socket.io/1/?t=1"), LegacyRoute::Handshake);
/// assert_eq!(
///     route("/socket.io", "/socket.io/1/xhr-polling/abc?t=2"),
///     LegacyRoute::Transport { transport: LegacyTransport::XhrPolling, sid: "abc" }
/// );
/// assert_eq!(route("/socket.io", "/socket.io/?EIO=4&transport=polling"), LegacyRoute::NotLegacy);
/// ```
pub fn route<'a>(resource: &str, url: &'a str) -> LegacyRoute<'a> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let resource = resource.trim_end_matches('/');
    let Some(rest) = path.strip_prefix(resource) else {
        return LegacyRoute::NotLegacy;
    };
    let Some(rest) = rest.strip_prefix('/') else {
        return LegacyRoute::NotLegacy;
    };
    let mut segments = rest.split('/');
    let version = segments.next().unwrap_or("");
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return LegacyRoute::NotLegacy;
    }
    if version != "1" {
        return LegacyRoute::UnsupportedVersion;
    }
    let transport = segments.next().unwrap_or("");
    let sid = segments.next().unwrap_or("");
    // Only a trailing slash may follow the sid.
    if segments.any(|s| !s.is_empty()) {
        return LegacyRoute::BadRequest;
    }
    if sid.is_empty() {
        return if transport.is_empty() {
            LegacyRoute::Handshake
        } else {
            LegacyRoute::BadRequest
        };
    }
    if Query::parse(query).get("disconnect").is_some() {
        return LegacyRoute::ForcedDisconnect { sid };
    }
    match LegacyTransport::from_name(transport) {
        Some(transport) => LegacyRoute::Transport { transport, sid },
        None => LegacyRoute::UnsupportedTransport {
            name: transport,
            sid,
        },
    }
}

impl LegacyRoute<'_> {
    /// The answer for routes handled without a session: 500 `Protocol
    /// version not supported.` (reference), 200 `7:::0` for an unsupported
    /// transport (the 0.9 error packet "transport not supported"; the
    /// reference just drops the TCP connection, which a sans-IO core cannot
    /// express), 400 for a malformed path. `None` for the other routes.
    pub fn immediate_response(&self) -> Option<HttpResponse> {
        match self {
            LegacyRoute::UnsupportedVersion => Some(HttpResponse::new(
                500,
                TEXT_PLAIN,
                "Protocol version not supported.",
            )),
            LegacyRoute::UnsupportedTransport { .. } => {
                Some(HttpResponse::new(200, TEXT_PLAIN, "7:::0"))
            }
            LegacyRoute::BadRequest => Some(HttpResponse::empty(400)),
            LegacyRoute::NotLegacy
            | LegacyRoute::Handshake
            | LegacyRoute::Transport { .. }
            | LegacyRoute::ForcedDisconnect { .. } => None,
        }
    }
}

/// The handshake body `sid:heartbeat_timeout:close_timeout:transports`,
/// e.g. `sid:60:60:websocket,xhr-polling` (timeouts in whole seconds,
/// rounded up).
pub fn handshake_body(sid: &str, config: &LegacyConfig) -> String {
    let mut out = String::with_capacity(sid.len() + 40);
    config.handshake_line(sid).encode(&mut out);
    out
}

/// The answer to `GET /socket.io/1/`: 200 `text/plain` with
/// [`handshake_body`]. Create the [`crate::legacy::LegacyConnection`] for
/// `sid` at the same time.
pub fn handshake_response(sid: &str, config: &LegacyConfig) -> HttpResponse {
    HttpResponse::new(200, TEXT_PLAIN, handshake_body(sid, config))
}

/// The answer to a transport request for an unknown (never handshaken,
/// expired or closed) session: 200 `7:::1+0`, "client not handshaken" with
/// advice "reconnect", as the socket.io 0.9 server answers (socket.io-spec,
/// *(`7`) Error*).
pub fn unknown_session_response() -> HttpResponse {
    HttpResponse::new(200, TEXT_PLAIN, "7:::1+0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = |u| route("/socket.io/", u);
        assert_eq!(r("/socket.io/1"), LegacyRoute::Handshake);
        assert_eq!(r("/socket.io/1/"), LegacyRoute::Handshake);
        assert_eq!(
            r("/socket.io/1/websocket/s1"),
            LegacyRoute::Transport {
                transport: LegacyTransport::WebSocket,
                sid: "s1"
            }
        );
        assert_eq!(
            r("/socket.io/1/xhr-polling/s1/?t=5"),
            LegacyRoute::Transport {
                transport: LegacyTransport::XhrPolling,
                sid: "s1"
            }
        );
        assert_eq!(
            r("/socket.io/1//s1?disconnect=1"),
            LegacyRoute::ForcedDisconnect { sid: "s1" }
        );
        assert_eq!(
            r("/socket.io/1/xhr-polling/s1?disconnect"),
            LegacyRoute::ForcedDisconnect { sid: "s1" }
        );
        for name in [
            "jsonp-polling",
            "htmlfile",
            "flashsocket",
            "xhr-multipart",
            "x",
        ] {
            let url = format!("/socket.io/1/{name}/s1");
            assert_eq!(
                route("/socket.io", &url),
                LegacyRoute::UnsupportedTransport { name, sid: "s1" }
            );
        }
        assert_eq!(r("/socket.io/2/"), LegacyRoute::UnsupportedVersion);
        assert_eq!(
            r("/socket.io/0/websocket/x"),
            LegacyRoute::UnsupportedVersion
        );
        assert_eq!(r("/socket.io/1/websocket/"), LegacyRoute::BadRequest);
        assert_eq!(r("/socket.io/1/websocket/a/b"), LegacyRoute::BadRequest);
        assert_eq!(r("/socket.io/?EIO=4"), LegacyRoute::NotLegacy);
        assert_eq!(r("/socket.io"), LegacyRoute::NotLegacy);
        assert_eq!(r("/socket.iox/1/"), LegacyRoute::NotLegacy);
        assert_eq!(r("/other/1/"), LegacyRoute::NotLegacy);
        assert_eq!(r("/socket.io/v1/"), LegacyRoute::NotLegacy);
        assert_eq!(r(""), LegacyRoute::NotLegacy);
    }

    #[test]
    fn immediate_responses() {
        let v = LegacyRoute::UnsupportedVersion
            .immediate_response()
            .unwrap();
        assert_eq!(
            (v.status, v.body_text().as_str()),
            (500, "Protocol version not supported.")
        );
        let t = LegacyRoute::UnsupportedTransport {
            name: "htmlfile",
            sid: "s",
        }
        .immediate_response()
        .unwrap();
        assert_eq!((t.status, t.body_text().as_str()), (200, "7:::0"));
        assert_eq!(
            LegacyRoute::BadRequest.immediate_response().unwrap().status,
            400
        );
        assert!(LegacyRoute::Handshake.immediate_response().is_none());
        assert_eq!(unknown_session_response().body_text(), "7:::1+0");
        assert_eq!(
            handshake_response("abc", &LegacyConfig::default()).body_text(),
            "abc:60:60:websocket,xhr-polling"
        );
    }
}
