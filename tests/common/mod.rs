//! A light driver for scenario tests: a `Server` on a virtual clock, with an
//! optional echo application that behaves like the test server of the
//! socket.io-protocol suite (`test-suite/test-suite.js`; see
//! `tests/VECTORS.md`): emit `auth` on connect, `message` → `message-back`,
//! `message-with-ack` → ack with the same arguments.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use socketio_sansio::{
    Args, Config, ConnId, Event, Frame, Handshake, HttpRequest, HttpResponse, Method, RequestId,
    SeededRandom, Server, ServerEvent, Transmit,
};

/// What a client saw on its transport, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    Bin(Vec<u8>),
    Close,
}

impl Out {
    pub fn text(&self) -> &str {
        match self {
            Out::Text(t) => t,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

pub struct Harness {
    pub server: Server,
    pub epoch: Instant,
    pub now: Instant,
    pub out: BTreeMap<ConnId, Vec<Out>>,
    pub events: Vec<ServerEvent>,
    /// Answer events like the conformance server.
    pub echo_app: bool,
    /// HTTP responses by request id.
    pub responses: BTreeMap<RequestId, HttpResponse>,
    next_req: RequestId,
}

pub fn test_config() -> std::sync::Arc<Config> {
    Config::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(1000))
        .namespace("/custom")
        .engine_path("/engine.io/")
        .build()
        .expect("valid test configuration")
}

impl Harness {
    pub fn new(config: std::sync::Arc<Config>) -> Self {
        let epoch = Instant::now();
        Harness {
            server: Server::with_random(config, Box::new(SeededRandom::new(42))),
            epoch,
            now: epoch,
            out: BTreeMap::new(),
            events: Vec::new(),
            echo_app: true,
            responses: BTreeMap::new(),
            next_req: 1,
        }
    }

    pub fn conformance() -> Self {
        Self::new(test_config())
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// Opens a WebSocket session with `EIO=<eio>`.
    pub fn open(&mut self, eio: u8) -> ConnId {
        let url = format!("/socket.io/?EIO={eio}&transport=websocket");
        let id = self
            .server
            .handle_ws_open(self.now, Handshake::new(url, vec![]))
            .expect("handshake accepted");
        self.drain();
        id
    }

    pub fn send(&mut self, id: ConnId, text: &str) {
        self.server.handle_ws_text(self.now, id, text);
        self.drain();
    }

    pub fn send_bin(&mut self, id: ConnId, data: &[u8]) {
        self.server.handle_ws_binary(self.now, id, data.to_vec());
        self.drain();
    }

    /// Moves the virtual clock forward by `by`, firing every deadline on the way.
    pub fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        loop {
            match self.server.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.server.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        self.now = target;
    }

    /// Starts an HTTP request; returns its id (see [`Harness::response`]).
    pub fn request(
        &mut self,
        method: Method,
        url: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> RequestId {
        let id = self.next_req;
        self.next_req += 1;
        let mut req = HttpRequest::new(
            method,
            url,
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        req.body = body.to_vec();
        self.server.handle_http(self.now, id, req);
        self.drain();
        id
    }

    /// The response to request `id`, if it was answered.
    pub fn response(&mut self, id: RequestId) -> Option<HttpResponse> {
        self.responses.remove(&id)
    }

    /// A GET that must be answered at once.
    pub fn get_now(&mut self, url: &str) -> HttpResponse {
        let id = self.request(Method::Get, url, b"", &[]);
        self.response(id)
            .unwrap_or_else(|| panic!("GET {url} was not answered at once"))
    }

    /// A POST that must be answered at once.
    pub fn post_now(&mut self, url: &str, body: &[u8]) -> HttpResponse {
        let id = self.request(Method::Post, url, body, &[]);
        self.response(id)
            .unwrap_or_else(|| panic!("POST {url} was not answered at once"))
    }

    /// Opens a polling session with `EIO=<eio>` (extra query appended);
    /// returns the sid and the handshake body.
    pub fn poll_handshake(&mut self, eio: u8, extra: &str) -> (String, String) {
        self.poll_handshake_at("/socket.io/", eio, extra)
    }

    /// [`Harness::poll_handshake`] under another path.
    pub fn poll_handshake_at(&mut self, path: &str, eio: u8, extra: &str) -> (String, String) {
        let r = self.get_now(&format!("{path}?EIO={eio}&transport=polling{extra}"));
        assert_eq!(r.status, 200, "{}", r.body_text());
        let body = r.body_text();
        let json_start = body.find('{').expect("open packet JSON");
        let json_end = body.find('}').expect("open packet JSON end") + 1;
        let open: Value = serde_json::from_str(&body[json_start..json_end]).expect("open JSON");
        (open["sid"].as_str().expect("sid").to_owned(), body)
    }

    /// Drains transmits and events; runs the echo application if enabled.
    pub fn drain(&mut self) {
        loop {
            while let Some((id, r)) = self.server.poll_http_response() {
                self.responses.insert(id, r);
            }
            while let Some((id, t)) = self.server.poll_transmit() {
                let out = match t {
                    Transmit::Frame(Frame::Text(t)) => Out::Text(t.to_string()),
                    Transmit::Frame(Frame::Binary(b)) => Out::Bin(b.to_vec()),
                    Transmit::Close => Out::Close,
                };
                self.out.entry(id).or_default().push(out);
            }
            while let Some((id, r)) = self.server.poll_http_response() {
                self.responses.insert(id, r);
            }
            let mut handled_any = false;
            while let Some(ev) = self.server.poll_event() {
                handled_any = true;
                if self.echo_app {
                    self.respond(&ev);
                }
                self.events.push(ev);
            }
            if !handled_any {
                break;
            }
        }
    }

    fn respond(&mut self, ev: &ServerEvent) {
        let now = self.now;
        let id = ev.conn;
        match &ev.event {
            Event::EngineMessage { data } => {
                self.server
                    .send_engine_message(now, id, data.clone())
                    .expect("engine echo");
            }
            Event::Connect { nsp, auth } => {
                self.server.accept(now, id, nsp, None).expect("accept");
                self.server
                    .emit(now, id, nsp, "auth", Args::json(vec![auth.clone()]))
                    .expect("emit auth");
            }
            Event::Message {
                nsp,
                name,
                args,
                ack,
                ..
            } => match (name.as_str(), ack) {
                ("message", _) => self
                    .server
                    .emit(now, id, nsp, "message-back", args.clone())
                    .expect("echo"),
                ("message-with-ack", Some(ack)) => self
                    .server
                    .ack(now, id, nsp, *ack, args.clone())
                    .expect("ack"),
                ("broadcast", _) => {
                    self.server
                        .broadcast(now, &socketio_sansio::Broadcast::to("/"), "broadcast", args)
                        .expect("broadcast");
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Everything sent to `id` since the last call.
    pub fn take(&mut self, id: ConnId) -> Vec<Out> {
        self.out.remove(&id).unwrap_or_default()
    }

    /// The text frames sent to `id` since the last call (panics on binary).
    pub fn take_texts(&mut self, id: ConnId) -> Vec<String> {
        self.take(id)
            .into_iter()
            .map(|o| match o {
                Out::Text(t) => t,
                other => format!("<{other:?}>"),
            })
            .collect()
    }

    /// Opens a session, skips the open packet, and returns the open JSON.
    pub fn open_and_handshake(&mut self, eio: u8) -> (ConnId, Value) {
        let id = self.open(eio);
        let out = self.take(id);
        let open = out.first().expect("open packet").text().to_owned();
        assert!(
            open.starts_with('0'),
            "first frame is the open packet: {open}"
        );
        let json: Value = serde_json::from_str(&open[1..]).expect("open JSON");
        // Anything after the open packet (v3: 40 and auth) is put back.
        self.out.insert(id, out.into_iter().skip(1).collect());
        (id, json)
    }

    pub fn events_of(&self, id: ConnId) -> Vec<Event> {
        self.events
            .iter()
            .filter(|e| e.conn == id)
            .map(|e| e.event.clone())
            .collect()
    }

    pub fn closed(&self, id: ConnId) -> bool {
        self.events_of(id)
            .iter()
            .any(|e| matches!(e, Event::Closed { .. }))
    }

    pub fn close_reason(&self, id: ConnId) -> Option<socketio_sansio::DisconnectReason> {
        self.events_of(id).into_iter().find_map(|e| match e {
            Event::Closed { reason } => Some(reason),
            _ => None,
        })
    }
}

/// True if `s` is a 20-character id of the reference's alphabet.
pub fn is_sid(s: &str) -> bool {
    s.len() == 20
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}
