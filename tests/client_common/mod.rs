//! A loopback for client tests: a `Client` and the core's `Server` on one
//! virtual clock. The client's WebSocket frames and HTTP requests are piped
//! into the server and its answers back, deterministically. A tiny server
//! application answers like a test server:
//! * CONNECT: accepted, except `/forbidden` (CONNECT_ERROR with data);
//! * `echo` with an ack → ack with the same arguments;
//! * `emit-back` → emits `back` with the same arguments;
//! * `ask` → emits `question` asking the client for an ack;
//! * `kick` → disconnects the socket from its namespace (server side);
//! * anything else: recorded in `received`, no answer.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_sansio::client::{Client, ClientConfig, ClientEvent, ClientTransmit, TransportId};
use socketio_sansio::{
    Args, Config, ConnId, Event, Frame, Handshake, HttpRequest, RequestId, SeededRandom, Server,
    Transmit,
};

pub fn server_config() -> std::sync::Arc<Config> {
    Config::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .namespace("/admin")
        .namespace("/forbidden")
        .build()
        .expect("valid server configuration")
}

pub fn client_config() -> socketio_sansio::client::ClientConfigBuilder {
    ClientConfig::builder("http://localhost:3000")
}

/// Strips `scheme://authority` from a URL: the request target.
pub fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

pub struct Loopback {
    pub client: Client,
    pub server: Server,
    pub epoch: Instant,
    pub now: Instant,
    /// Client events, in order.
    pub events: Vec<ClientEvent>,
    /// Server-side messages: (nsp, name, args values).
    pub received: Vec<(String, String, Vec<Value>)>,
    /// Acks the server received for its emits: (nsp, id, values).
    pub server_acks: Vec<(String, u64, Vec<Value>)>,
    /// Server-side disconnect reasons.
    pub server_disconnects: Vec<(String, String)>,
    /// Everything the client asked for, in order (for assertions).
    pub transmits: Vec<ClientTransmit>,
    /// While true, new WebSockets and HTTP requests fail (the server is down).
    pub down: bool,
    /// While true, the probe WebSocket of an upgrade fails to open.
    pub refuse_upgrade: bool,
    /// Answer client events with the application above.
    pub app: bool,
    ws: BTreeMap<TransportId, ConnId>,
    conn_ws: BTreeMap<ConnId, TransportId>,
    requests: BTreeMap<RequestId, RequestId>,
    next_req: RequestId,
    last_conn: Option<ConnId>,
}

impl Loopback {
    pub fn new(config: ClientConfig) -> Self {
        Self::with_server(config, server_config())
    }

    pub fn with_server(config: ClientConfig, server: std::sync::Arc<Config>) -> Self {
        let epoch = Instant::now();
        Loopback {
            client: Client::with_random(config, Box::new(SeededRandom::new(7))),
            server: Server::with_random(server, Box::new(SeededRandom::new(42))),
            epoch,
            now: epoch,
            events: Vec::new(),
            received: Vec::new(),
            server_acks: Vec::new(),
            server_disconnects: Vec::new(),
            transmits: Vec::new(),
            down: false,
            refuse_upgrade: false,
            app: true,
            ws: BTreeMap::new(),
            conn_ws: BTreeMap::new(),
            requests: BTreeMap::new(),
            next_req: 1,
            last_conn: None,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// The server connection seen last.
    pub fn conn(&self) -> ConnId {
        self.last_conn.expect("a server connection")
    }

    /// Moves data both ways until nothing moves.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit() {
                moved = true;
                self.transmits.push(t.clone());
                self.deliver_to_server(t);
            }
            while let Some((conn, t)) = self.server.poll_transmit() {
                moved = true;
                let Some(&transport) = self.conn_ws.get(&conn) else {
                    continue;
                };
                match t {
                    Transmit::Frame(Frame::Text(text)) => {
                        self.client.handle_ws_text(self.now, transport, &text)
                    }
                    Transmit::Frame(Frame::Binary(bytes)) => {
                        self.client.handle_ws_binary(self.now, transport, &bytes)
                    }
                    Transmit::Close => {
                        self.ws.remove(&transport);
                        self.conn_ws.remove(&conn);
                        self.client.handle_ws_closed(self.now, transport);
                    }
                }
            }
            while let Some((req, resp)) = self.server.poll_http_response() {
                moved = true;
                if let Some(request) = self.requests.remove(&req) {
                    self.client.handle_http_response(
                        self.now,
                        request,
                        resp.status,
                        resp.content_type,
                        &resp.body,
                    );
                }
            }
            while let Some(ev) = self.server.poll_event() {
                moved = true;
                self.last_conn = Some(ev.conn);
                self.serve(ev.conn, ev.event);
            }
            while let Some(ev) = self.client.poll_event() {
                moved = true;
                self.events.push(ev);
            }
            if !moved {
                return;
            }
        }
    }

    fn serve(&mut self, conn: ConnId, event: Event) {
        let now = self.now;
        match event {
            Event::Connect { nsp, auth } => {
                if !self.app {
                    return;
                }
                if nsp == "/forbidden" {
                    let _ = self.server.reject(
                        now,
                        conn,
                        &nsp,
                        "not allowed",
                        Some(json!({ "auth": auth })),
                    );
                } else {
                    let _ = self.server.accept(now, conn, &nsp, None);
                }
            }
            Event::Message {
                nsp,
                name,
                args,
                ack,
                ..
            } => {
                self.received
                    .push((nsp.clone(), name.clone(), args.values.clone()));
                if !self.app {
                    return;
                }
                match (name.as_str(), ack) {
                    ("echo", Some(id)) => {
                        let _ = self.server.ack(now, conn, &nsp, id, args);
                    }
                    ("emit-back", _) => {
                        let _ = self.server.emit(now, conn, &nsp, "back", args);
                    }
                    ("ask", _) => {
                        let _ = self
                            .server
                            .emit_with_ack(now, conn, &nsp, "question", args, None);
                    }
                    ("kick", _) => {
                        let _ = self.server.disconnect(now, conn, &nsp);
                    }
                    _ => {}
                }
            }
            Event::AckReceived { nsp, id, args } => self.server_acks.push((nsp, id, args.values)),
            Event::Disconnected { nsp, reason } => self
                .server_disconnects
                .push((nsp, reason.as_str().to_owned())),
            _ => {}
        }
    }

    fn deliver_to_server(&mut self, t: ClientTransmit) {
        let now = self.now;
        match t {
            ClientTransmit::OpenWebSocket {
                transport,
                url,
                headers,
            } => {
                let upgrade = url.contains("&sid=");
                if self.down || (upgrade && self.refuse_upgrade) {
                    return self.client.handle_ws_closed(now, transport);
                }
                match self
                    .server
                    .handle_ws_open(now, Handshake::new(target(&url), headers))
                {
                    Ok(conn) => {
                        self.ws.insert(transport, conn);
                        self.conn_ws.insert(conn, transport);
                        self.last_conn = Some(conn);
                        self.client.handle_ws_opened(now, transport);
                    }
                    Err(_) => self.client.handle_ws_closed(now, transport),
                }
            }
            ClientTransmit::WsFrame { transport, frame } => {
                let Some(&conn) = self.ws.get(&transport) else {
                    return;
                };
                match frame {
                    Frame::Text(text) => self.server.handle_ws_text(now, conn, &text),
                    Frame::Binary(bytes) => {
                        self.server.handle_ws_binary(now, conn, bytes.into_vec())
                    }
                }
            }
            ClientTransmit::CloseWebSocket { transport } => {
                if let Some(conn) = self.ws.remove(&transport) {
                    self.conn_ws.remove(&conn);
                    self.server.handle_ws_closed(now, conn);
                }
            }
            ClientTransmit::HttpRequest(r) => {
                if self.down {
                    return self.client.handle_http_failed(now, r.request);
                }
                let req = self.next_req;
                self.next_req += 1;
                self.requests.insert(req, r.request);
                let mut headers = r.headers;
                if let Some(ct) = r.content_type {
                    headers.push(("Content-Type".into(), ct.into()));
                }
                let mut http = HttpRequest::new(r.method, target(&r.url), headers);
                http.body = r.body;
                self.server.handle_http(now, req, http);
                if let Some(sid) = socketio_sansio::Query::parse(
                    target(&r.url).split_once('?').map_or("", |(_, q)| q),
                )
                .get("sid")
                {
                    if let Some(conn) = self.server.find_sid(sid) {
                        self.last_conn = Some(conn);
                    }
                }
            }
        }
    }

    /// Runs the clock forward by `d`, firing every deadline on the way.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.pump();
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = end;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.pump();
    }

    /// The network drops: every WebSocket closes on both sides, every
    /// pending HTTP request fails.
    pub fn cut(&mut self) {
        let now = self.now;
        for (transport, conn) in std::mem::take(&mut self.ws) {
            self.conn_ws.remove(&conn);
            self.server.handle_ws_closed(now, conn);
            self.client.handle_ws_closed(now, transport);
        }
        for (req, request) in std::mem::take(&mut self.requests) {
            self.server.handle_http_aborted(now, req);
            self.client.handle_http_failed(now, request);
        }
        self.pump();
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn has_event(&self, pred: impl Fn(&ClientEvent) -> bool) -> bool {
        self.events.iter().any(pred)
    }
}

/// Shorthand for JSON args.
pub fn args(values: Vec<Value>) -> Args {
    Args::json(values)
}
