//! A sans-IO client side for the applications' tests: an
//! [`AppServer`] on a virtual clock (an `Instant` advanced by hand, every
//! deadline fired on the way), WebSocket text and binary frames in, every
//! frame out recorded per connection, HTTP requests for the handshakes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use socketio_sansio::app::{App, AppServer};
use socketio_sansio::{
    ConfigBuilder, ConnId, Frame, Handshake, HttpRequest, HttpResponse, Method, Rejection,
    RequestId, SeededRandom, Transmit,
};

/// What a client saw on its transport, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    Bin(Vec<u8>),
    Close,
}

/// The application under test and what it sent.
pub struct Sim<D: Default + Send + 'static> {
    pub io: AppServer<D>,
    pub epoch: Instant,
    pub now: Instant,
    out: BTreeMap<ConnId, Vec<Out>>,
    responses: BTreeMap<RequestId, HttpResponse>,
    next_req: RequestId,
}

impl<D: Default + Send + 'static> Sim<D> {
    pub fn new(config: ConfigBuilder, app: App<D>) -> Self {
        let io = AppServer::with_random(config, app, Box::new(SeededRandom::new(42)))
            .expect("valid configuration");
        let epoch = Instant::now();
        Sim {
            io,
            epoch,
            now: epoch,
            out: BTreeMap::new(),
            responses: BTreeMap::new(),
            next_req: 1,
        }
    }

    fn drain(&mut self) {
        while let Some((conn, t)) = self.io.poll_transmit() {
            let out = match t {
                Transmit::Frame(Frame::Text(t)) => Out::Text(t.to_string()),
                Transmit::Frame(Frame::Binary(b)) => Out::Bin(b.to_vec()),
                Transmit::Close => Out::Close,
            };
            self.out.entry(conn).or_default().push(out);
        }
        while let Some((req, r)) = self.io.poll_http_response() {
            self.responses.insert(req, r);
        }
    }

    /// A WebSocket handshake on `url`.
    pub fn try_ws(&mut self, url: &str) -> Result<ConnId, Rejection> {
        let result = self
            .io
            .handle_ws_open(self.now, Handshake::new(url, vec![]));
        self.drain();
        result
    }

    /// A WebSocket handshake on `url` that must be accepted.
    pub fn ws(&mut self, url: &str) -> ConnId {
        self.try_ws(url)
            .unwrap_or_else(|r| panic!("WebSocket {url} refused: {r:?}"))
    }

    pub fn text(&mut self, conn: ConnId, text: &str) {
        self.io.handle_ws_text(self.now, conn, text);
        self.drain();
    }

    pub fn binary(&mut self, conn: ConnId, data: &[u8]) {
        self.io.handle_ws_binary(self.now, conn, data.to_vec());
        self.drain();
    }

    /// The client's WebSocket closed.
    pub fn drop_ws(&mut self, conn: ConnId) {
        self.io.handle_ws_closed(self.now, conn);
        self.drain();
    }

    /// An HTTP GET that must be answered at once.
    pub fn get(&mut self, url: &str) -> HttpResponse {
        let req = self.next_req;
        self.next_req += 1;
        self.io
            .handle_http(self.now, req, HttpRequest::new(Method::Get, url, vec![]));
        self.drain();
        self.responses
            .remove(&req)
            .unwrap_or_else(|| panic!("GET {url} was not answered at once"))
    }

    /// Moves the virtual clock forward by `by`, firing every deadline on
    /// the way.
    pub fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        while let Some(t) = self.io.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.io.handle_timeout(self.now);
            self.drain();
        }
        self.now = target;
    }

    /// Everything sent to `conn` since the last call.
    pub fn take(&mut self, conn: ConnId) -> Vec<Out> {
        self.out.remove(&conn).unwrap_or_default()
    }

    /// The frames sent to `conn` since the last call, as text (binary
    /// frames as `<bin ..>`, the close as `<close>`).
    pub fn texts(&mut self, conn: ConnId) -> Vec<String> {
        self.take(conn)
            .into_iter()
            .map(|o| match o {
                Out::Text(t) => t,
                Out::Bin(b) => format!("<bin {b:?}>"),
                Out::Close => "<close>".to_owned(),
            })
            .collect()
    }
}

/// The JSON of a packet after a `prefix` (e.g. `42`, `431`, `5:::`).
pub fn json_after(frame: &str, prefix: &str) -> Value {
    let rest = frame
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{frame:?} does not start with {prefix:?}"));
    serde_json::from_str(rest).unwrap_or_else(|e| panic!("{frame:?}: {e}"))
}

/// True if `s` is a 20-character id of the reference's alphabet.
pub fn is_sid(s: &str) -> bool {
    s.len() == 20
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}
