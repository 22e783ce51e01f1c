//! # socketio-http
//!
//! The HTTP/1.1 and WebSocket glue between a network driver and the
//! [`socketio_sansio`] core, shared by `socketio-blocking` (threads) and
//! `socketio-mio` (one event loop) so that both make the same decisions in
//! one place. Pure functions over byte buffers: the drivers read and write
//! sockets, this crate says what the bytes mean and what to answer. The
//! only I/O is reading static files ([`static_files`]).
//!
//! * [`parse_head`]: one request head under explicit limits ([`MAX_HEAD`],
//!   [`MAX_HEADERS`]) → [`Parsed`]; [`RequestHead`] answers header and token
//!   lookups, [`RequestHead::keep_alive`] and [`RequestHead::body_length`]
//!   (411 for `Transfer-Encoding`, 413 above the limit, 400 for a malformed
//!   `Content-Length`).
//! * [`Router::route`]: what a complete head is for → [`Route`]: a validated
//!   WebSocket handshake for the core, a polling request for the core, an
//!   answer made here (404, CORS preflight, refusals) or a static file.
//! * [`websocket`]: RFC 6455 §4.2 handshake validation and the 101 answer.
//! * [`put_response`]: a response as bytes; [`PendingReply::put`] frames the
//!   core's `HttpResponse` with the CORS headers and the keep-alive decision.
//! * [`ws`]: an RFC 6455 frame codec on borrowed buffers.
//! * [`Builder`]: the one server builder every driver shares (protocol
//!   configuration, CORS, static files); a [`Driver`] supplies `bind`.
//!
//! A driver's request loop:
//!
//! ```
//! use socketio_http::{parse_head, Parsed, Route, Router};
//! use socketio_sansio::Config;
//!
//! let router = Router::new(Config::builder().build().unwrap());
//! let bytes = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
//! let Parsed::Complete(head, used) = parse_head(bytes) else { panic!() };
//! assert_eq!(used, bytes.len());
//! match router.route(head) {
//!     Route::Polling(p) => {
//!         assert_eq!(p.body_len, 0);
//!         let (request, _pending) = p.into_request(Vec::new());
//!         // server.handle_http(now, id, request); later, for its answer:
//!         // pending.put(&response, &mut out) -> keep the connection or not
//!         # let _ = request;
//!     }
//!     _ => unreachable!(),
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod builder;
pub mod compress;
pub mod handshake;
pub mod head;
pub mod response;
pub mod route;
pub mod static_files;
pub mod websocket;
pub mod ws;

pub use builder::{Builder, Driver};
pub use handshake::{Cookie, HandshakeRequest, Refusal};
pub use head::{parse_head, BodyError, Parsed, RequestHead, MAX_HEAD, MAX_HEADERS};
pub use response::{put_head, put_response};
pub use route::{PendingReply, PollingRequest, Reply, Route, Router, DEFAULT_WS_CLOSE_TIMEOUT};
