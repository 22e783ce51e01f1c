//! Whole connections against one `Server`: the input is decoded into a
//! sequence of operations — handshakes of every protocol generation the
//! server serves (Engine.IO v4 and v3 over polling and WebSocket, WebSocket
//! upgrades of polling sessions, bare Engine.IO sessions, Socket.IO 0.9
//! handshakes and transports), WebSocket text and binary frames, polling
//! GETs and POSTs, transport closes and aborted requests, write-blocked and
//! ready signals, clock jumps and application commands — applied to several
//! connections at once, either on the bare core (`Server`, the harness
//! answering its events) or on the application layer (`AppServer` with a
//! small app that joins rooms, broadcasts and emits with acknowledgements,
//! connection state recovery on or off).
//!
//! After every step: no panic, and every connection's outbound queue within
//! `max_outbound_bytes`. At the end, after closing everything and running
//! the clock past every timeout: no connection, room, member, held request,
//! deadline, socket, pending acknowledgement or recovery session is left.
#![no_main]
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use socketio_sansio::app::{App, AppServer, ConnectError, Namespace, RecoveryConfig};
use socketio_sansio::{
    AnyConnection, Args, Broadcast, Config, ConnId, Event, Frame, Handshake, HttpRequest,
    HttpResponse, Method, RequestId, SeededRandom, Server, Transmit,
};

/// Reads the fuzz input; past its end every read yields zeros.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | (u16::from(self.u8()) << 8)
    }
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else if n <= 256 {
            self.u8() as usize % n
        } else {
            self.u16() as usize % n
        }
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        let start = self.pos.min(self.data.len());
        let end = (start + n).min(self.data.len());
        self.pos = start + n;
        self.data[start..end].to_vec()
    }
    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }
}

const ROOMS: &[&str] = &["r1", "r2", "lobby"];
const NSPS: &[&str] = &["/", "/admin", "/dyn-1"];

/// Modern (Socket.IO over Engine.IO) packets, in their WebSocket text form.
const MODERN: &[&str] = &[
    "40",
    "40/admin,",
    "40/dyn-1,",
    "40/nope,",
    "40{\"token\":1}",
    "41",
    "41/admin,",
    "42[\"join\",\"r1\"]",
    "42[\"join\",\"r2\"]",
    "42/admin,[\"join\",\"lobby\"]",
    "42[\"leave\",\"r1\"]",
    "42[\"bcast\",\"r1\",\"hello\"]",
    "42[\"bcastack\",\"r2\"]",
    "421[\"echo\",1,{\"a\":[1,2]}]",
    "4212[\"echo\"]",
    "42/admin,7[\"echo\",\"x\"]",
    "42[\"askme\"]",
    "42[\"big\"]",
    "42[\"quit\"]",
    "42[\"close\"]",
    "430[\"answer\"]",
    "431[]",
    "432[1]",
    "43/admin,0[]",
    "451-[\"bin\",{\"_placeholder\":true,\"num\":0}]",
    "452-[\"bin\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]",
    "4611-[{\"_placeholder\":true,\"num\":0}]",
    "44{\"message\":\"x\"}",
    "2",
    "3",
    "2probe",
    "3probe",
    "5",
    "6",
    "1",
    "4hello",
    "0",
    "42",
    "4[",
    "42[\"__proto__\"]",
    "42[\"connect\"]",
];

/// Socket.IO 0.9 packets.
const LEGACY: &[&str] = &[
    "1::",
    "1::/admin",
    "0::",
    "0::/admin",
    "2::",
    "3:::hello",
    "3:1+::hi",
    "4:::{\"a\":1}",
    "5:::{\"name\":\"join\",\"args\":[\"r1\"]}",
    "5:2+::{\"name\":\"echo\",\"args\":[1]}",
    "5:::{\"name\":\"bcast\",\"args\":[\"r1\",\"x\"]}",
    "5::/admin:{\"name\":\"join\",\"args\":[\"lobby\"]}",
    "6:::1+[\"ok\"]",
    "6:::3",
    "7:::oops",
    "8::",
    "\u{fffd}3\u{fffd}1::",
    "\u{fffd}",
];

fn modern_text(r: &mut Reader<'_>) -> String {
    match r.below(8) {
        // Random bytes (lossy UTF-8).
        0 => String::from_utf8_lossy(&r.bytes(64)).into_owned(),
        // A dictionary packet with random bytes appended.
        1 => {
            let mut s = r.pick(MODERN).to_owned();
            s.push_str(&String::from_utf8_lossy(&r.bytes(16)));
            s
        }
        // A truncated dictionary packet.
        2 => {
            let s = r.pick(MODERN);
            let cut = r.below(s.len() + 1);
            s.get(..cut).unwrap_or(s).to_owned()
        }
        _ => r.pick(MODERN).to_owned(),
    }
}

fn legacy_text(r: &mut Reader<'_>) -> String {
    match r.below(6) {
        0 => String::from_utf8_lossy(&r.bytes(48)).into_owned(),
        1 => {
            let mut s = r.pick(LEGACY).to_owned();
            s.push_str(&String::from_utf8_lossy(&r.bytes(12)));
            s
        }
        _ => r.pick(LEGACY).to_owned(),
    }
}

/// A polling POST body: several packets in the framing of the version.
fn polling_body(r: &mut Reader<'_>, kind: Kind) -> Vec<u8> {
    if r.below(6) == 0 {
        return r.bytes(96);
    }
    let n = 1 + r.below(3);
    let mut body = String::new();
    for i in 0..n {
        match kind {
            Kind::V4 => {
                if i > 0 {
                    body.push('\u{1e}');
                }
                body.push_str(&modern_text(r));
            }
            Kind::V3 => {
                let p = modern_text(r);
                let len = if r.below(8) == 0 {
                    r.below(100)
                } else {
                    p.chars().count()
                };
                body.push_str(&format!("{len}:{p}"));
            }
            Kind::Legacy => {
                let p = legacy_text(r);
                if n == 1 && r.below(2) == 0 {
                    body.push_str(&p);
                } else {
                    body.push_str(&format!("\u{fffd}{}\u{fffd}{p}", p.chars().count()));
                }
            }
        }
    }
    body.into_bytes()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    V4,
    V3,
    Legacy,
}

#[derive(Debug)]
struct Tracked {
    id: ConnId,
    kind: Kind,
    /// A WebSocket is open for it (as the driver sees it).
    ws: bool,
    sid: String,
}

/// What the harness drives: the bare core or the application layer.
trait Target {
    fn server(&self) -> &Server;
    fn ws_open(&mut self, now: Instant, hs: Handshake) -> Option<ConnId>;
    fn ws_text(&mut self, now: Instant, id: ConnId, text: &str);
    fn ws_binary(&mut self, now: Instant, id: ConnId, data: Vec<u8>);
    fn ws_closed(&mut self, now: Instant, id: ConnId);
    fn http(&mut self, now: Instant, req: RequestId, request: HttpRequest);
    fn http_aborted(&mut self, now: Instant, req: RequestId);
    fn write_blocked(&mut self, id: ConnId);
    fn write_ready(&mut self, id: ConnId);
    fn timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<(ConnId, Transmit)>;
    fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)>;
    fn poll_timeout(&self) -> Option<Instant>;
    /// Answers application events (the core harness only).
    fn react(&mut self, now: Instant, r: &mut Reader<'_>) -> bool;
    /// A command of the application (emit, broadcast, join, disconnect...).
    fn command(&mut self, now: Instant, r: &mut Reader<'_>, conns: &[Tracked]);
    fn shutdown(&mut self, now: Instant);
    fn close(&mut self, now: Instant, id: ConnId);
    /// Application-level leftovers (sockets, pending acks, recovery store).
    fn app_leftovers(&self) -> Option<String>;
}

struct Core {
    server: Server,
}

fn first_str(args: &Args, i: usize) -> Option<&str> {
    args.values.get(i).and_then(Value::as_str)
}

impl Target for Core {
    fn server(&self) -> &Server {
        &self.server
    }
    fn ws_open(&mut self, now: Instant, hs: Handshake) -> Option<ConnId> {
        self.server.handle_ws_open(now, hs).ok()
    }
    fn ws_text(&mut self, now: Instant, id: ConnId, text: &str) {
        self.server.handle_ws_text(now, id, text)
    }
    fn ws_binary(&mut self, now: Instant, id: ConnId, data: Vec<u8>) {
        self.server.handle_ws_binary(now, id, data)
    }
    fn ws_closed(&mut self, now: Instant, id: ConnId) {
        self.server.handle_ws_closed(now, id)
    }
    fn http(&mut self, now: Instant, req: RequestId, request: HttpRequest) {
        self.server.handle_http(now, req, request)
    }
    fn http_aborted(&mut self, now: Instant, req: RequestId) {
        self.server.handle_http_aborted(now, req)
    }
    fn write_blocked(&mut self, id: ConnId) {
        self.server.handle_write_blocked(id)
    }
    fn write_ready(&mut self, id: ConnId) {
        self.server.handle_write_ready(id)
    }
    fn timeout(&mut self, now: Instant) {
        self.server.handle_timeout(now)
    }
    fn poll_transmit(&mut self) -> Option<(ConnId, Transmit)> {
        self.server.poll_transmit()
    }
    fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        self.server.poll_http_response()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }
    fn react(&mut self, now: Instant, r: &mut Reader<'_>) -> bool {
        let Some(ev) = self.server.poll_event() else {
            return false;
        };
        let s = &mut self.server;
        let conn = ev.conn;
        match ev.event {
            Event::Connect { nsp, .. } => {
                if r.below(8) == 0 {
                    let _ = s.reject(now, conn, &nsp, "no", Some(json!({"why": 1})));
                } else if s.accept(now, conn, &nsp, None).is_ok() && r.below(2) == 0 {
                    let _ = s.join(conn, &nsp, r.pick(ROOMS));
                }
            }
            Event::Message {
                nsp,
                name,
                args,
                ack,
                ..
            } => {
                match name.as_str() {
                    "join" => {
                        let room = first_str(&args, 0).unwrap_or("r1").to_owned();
                        let _ = s.join(conn, &nsp, &room);
                    }
                    "leave" => {
                        let room = first_str(&args, 0).unwrap_or("r1").to_owned();
                        let _ = s.leave(conn, &nsp, &room);
                    }
                    "bcast" | "bcastack" => {
                        let mut op = Broadcast::to(nsp.clone());
                        if let Some(room) = first_str(&args, 0) {
                            op = op.room(room);
                        }
                        if r.below(3) == 0 {
                            op = op.volatile();
                        }
                        let _ = s.broadcast(now, &op, "news", &args);
                    }
                    "askme" => {
                        let timeout = Duration::from_millis(50 * r.below(40) as u64);
                        let _ = s.emit_with_ack(
                            now,
                            conn,
                            &nsp,
                            "q",
                            Args::json(vec![]),
                            Some(timeout),
                        );
                    }
                    "big" => {
                        let text = "x".repeat(r.below(3000));
                        let _ = s.emit(now, conn, &nsp, "big", Args::json(vec![json!(text)]));
                    }
                    "quit" => {
                        let _ = s.disconnect(now, conn, &nsp);
                    }
                    "close" => {
                        let _ = s.close(now, conn);
                    }
                    _ => {}
                }
                if let Some(ack) = ack {
                    if r.below(4) != 0 {
                        let _ = s.ack(now, conn, &nsp, ack, args);
                    }
                }
            }
            _ => {}
        }
        true
    }
    fn command(&mut self, now: Instant, r: &mut Reader<'_>, conns: &[Tracked]) {
        let s = &mut self.server;
        let nsp = r.pick(NSPS);
        let target = if conns.is_empty() {
            None
        } else {
            Some(conns[r.below(conns.len())].id)
        };
        match (r.below(9), target) {
            (0, _) => {
                let mut op = Broadcast::to(nsp);
                if r.below(2) == 0 {
                    op = op.room(r.pick(ROOMS));
                }
                if r.below(2) == 0 {
                    op = op.except(r.pick(ROOMS));
                }
                if r.below(2) == 0 {
                    op = op.volatile();
                }
                let mut args = Args::json(vec![json!("x".repeat(r.below(600)))]);
                if r.below(3) == 0 {
                    let placeholder = args.attach(r.bytes(40));
                    args.values.push(placeholder);
                }
                let _ = s.broadcast(now, &op, "news", &args);
            }
            (1, Some(id)) => {
                let _ = s.emit(now, id, nsp, "direct", Args::json(vec![json!(r.u16())]));
            }
            (2, Some(id)) => {
                let timeout = Duration::from_millis(100 * r.below(30) as u64);
                let _ = s.emit_with_ack(now, id, nsp, "q", Args::json(vec![]), Some(timeout));
            }
            (3, Some(id)) => {
                let _ = s.join(id, nsp, r.pick(ROOMS));
            }
            (4, Some(id)) => {
                let _ = s.leave(id, nsp, r.pick(ROOMS));
            }
            (5, Some(id)) => {
                let _ = s.disconnect(now, id, nsp);
            }
            (6, Some(id)) => {
                let _ = s.close(now, id);
            }
            (7, Some(id)) => {
                let _ = s.send_legacy_message(
                    now,
                    id,
                    nsp,
                    "hi",
                    socketio_sansio::legacy::LegacyAck::None,
                );
            }
            (8, Some(id)) => {
                let _ = s.send_engine_message(
                    now,
                    id,
                    socketio_sansio::EngineData::Text("raw".to_owned()),
                );
            }
            _ => {}
        }
    }
    fn shutdown(&mut self, now: Instant) {
        self.server.shutdown(now)
    }
    fn close(&mut self, now: Instant, id: ConnId) {
        let _ = self.server.close(now, id);
    }
    fn app_leftovers(&self) -> Option<String> {
        None
    }
}

#[derive(Default)]
struct Data {
    hits: u32,
}

struct AppTarget {
    io: AppServer<Data>,
    recovery: bool,
}

fn app(recovery: bool, max_disconnection: Duration) -> App<Data> {
    let ns = || {
        Namespace::<Data>::new()
            .use_middleware(|c| match c.auth().get("deny") {
                Some(_) => Err(ConnectError::new("denied").with_data(json!({"x": 1}))),
                None => Ok(()),
            })
            .on("join", |socket, args, _| {
                let room = first_str(&args, 0).unwrap_or("r1").to_owned();
                socket.join(&room);
            })
            .on("leave", |socket, args, _| {
                let room = first_str(&args, 0).unwrap_or("r1").to_owned();
                socket.leave(&room);
            })
            .on("echo", |socket, args, ack| {
                socket.data_mut().hits += 1;
                if let Some(ack) = ack {
                    ack.send(socket, args);
                }
            })
            .on("bcast", |socket, args, _| {
                let room = first_str(&args, 0).unwrap_or("r1").to_owned();
                socket.to(room).emit("news", args);
            })
            .on("bcastack", |socket, args, ack| {
                let room = first_str(&args, 0).unwrap_or("r2").to_owned();
                socket
                    .to(room)
                    .timeout(Duration::from_millis(700))
                    .emit_with_ack("q", args, move |io, acks| {
                        if let Some(ack) = ack {
                            ack.send(io, json!(acks.responses.len()));
                        }
                    });
            })
            .on("askme", |socket, _, _| {
                socket.emit_with_ack("q", (), Some(Duration::from_millis(900)), |socket, res| {
                    if res.is_ok() {
                        socket.emit("thanks", ());
                    }
                });
            })
            .on("big", |socket, _, _| {
                socket.emit("big", "y".repeat(2000));
            })
            .on("quit", |socket, _, _| socket.disconnect())
            .on("close", |socket, _, _| socket.close())
            .on_connection(|socket| {
                socket.join("lobby");
                socket.emit("welcome", json!({"recovered": socket.recovered()}));
            })
    };
    let mut app = App::new()
        .ns("/", ns())
        .ns("/admin", ns())
        .dynamic_ns(|name| name.starts_with("/dyn-"), ns())
        .cleanup_empty_child_namespaces(true);
    if recovery {
        app = app.connection_state_recovery(RecoveryConfig {
            max_disconnection_duration: max_disconnection,
            skip_middlewares: true,
            max_sessions: 8,
            max_bytes: 4096,
        });
    }
    app
}

impl Target for AppTarget {
    fn server(&self) -> &Server {
        self.io.server()
    }
    fn ws_open(&mut self, now: Instant, hs: Handshake) -> Option<ConnId> {
        self.io.handle_ws_open(now, hs).ok()
    }
    fn ws_text(&mut self, now: Instant, id: ConnId, text: &str) {
        self.io.handle_ws_text(now, id, text)
    }
    fn ws_binary(&mut self, now: Instant, id: ConnId, data: Vec<u8>) {
        self.io.handle_ws_binary(now, id, data)
    }
    fn ws_closed(&mut self, now: Instant, id: ConnId) {
        self.io.handle_ws_closed(now, id)
    }
    fn http(&mut self, now: Instant, req: RequestId, request: HttpRequest) {
        self.io.handle_http(now, req, request)
    }
    fn http_aborted(&mut self, now: Instant, req: RequestId) {
        self.io.handle_http_aborted(now, req)
    }
    fn write_blocked(&mut self, id: ConnId) {
        self.io.handle_write_blocked(id)
    }
    fn write_ready(&mut self, id: ConnId) {
        self.io.handle_write_ready(id)
    }
    fn timeout(&mut self, now: Instant) {
        self.io.handle_timeout(now)
    }
    fn poll_transmit(&mut self) -> Option<(ConnId, Transmit)> {
        self.io.poll_transmit()
    }
    fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        self.io.poll_http_response()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.io.poll_timeout()
    }
    fn react(&mut self, _now: Instant, _r: &mut Reader<'_>) -> bool {
        false
    }
    fn command(&mut self, now: Instant, r: &mut Reader<'_>, conns: &[Tracked]) {
        let nsp = r.pick(NSPS);
        let room = r.pick(ROOMS);
        let target = if conns.is_empty() {
            None
        } else {
            Some(conns[r.below(conns.len())].id)
        };
        let choice = r.below(6);
        let len = r.below(600);
        self.io.with_io(now, |io| match (choice, target) {
            (0, _) => io.of(nsp).to(room).emit("news", "z".repeat(len)),
            (1, _) => io
                .of(nsp)
                .timeout(Duration::from_millis(len as u64))
                .emit_with_ack("q", (), |_, _| {}),
            (2, _) => io.of(nsp).sockets_join([room]),
            (3, _) => io.of(nsp).to(room).disconnect_sockets(len % 2 == 0),
            (4, Some(id)) => {
                if let Some(mut socket) = io.socket(id, nsp) {
                    socket.emit("direct", json!(len));
                }
            }
            (5, _) => io.of(nsp).volatile().emit("vol", json!(len)),
            _ => {}
        });
    }
    fn shutdown(&mut self, now: Instant) {
        self.io.shutdown(now)
    }
    fn close(&mut self, now: Instant, id: ConnId) {
        self.io.with_io(now, |io| {
            for nsp in NSPS {
                if let Some(mut socket) = io.socket(id, nsp) {
                    socket.close();
                    return;
                }
            }
        });
        // A connection with no socket (or a 0.9 / bare Engine.IO one).
        let _ = id;
    }
    fn app_leftovers(&self) -> Option<String> {
        let sockets = self.io.socket_count();
        let acks = self.io.pending_ack_count();
        let stored = self
            .io
            .recovery_stats()
            .map_or(0, |s| s.sessions + s.packets);
        if sockets != 0 || acks != 0 || (self.recovery && stored != 0) {
            return Some(format!(
                "sockets {sockets}, pending acks {acks}, recovery {stored}"
            ));
        }
        None
    }
}

struct Harness<'a, T: Target> {
    t: T,
    r: Reader<'a>,
    start: Instant,
    now: Instant,
    conns: Vec<Tracked>,
    /// Requests in flight, and the protocol of those that are handshakes.
    inflight: BTreeMap<RequestId, Option<Kind>>,
    next_req: RequestId,
    limit: usize,
    /// Private session id and last offset seen (recovery CONNECTs).
    pid: Option<(String, Option<String>)>,
}

impl<'a, T: Target> Harness<'a, T> {
    fn req(&mut self, handshake: Option<Kind>) -> RequestId {
        self.next_req += 1;
        self.inflight.insert(self.next_req, handshake);
        self.next_req
    }

    fn observe_text(&mut self, text: &str) {
        if let Some(rest) = text.split("\"pid\":\"").nth(1) {
            if let Some(pid) = rest.split('"').next() {
                self.pid = Some((pid.to_owned(), None));
            }
        }
        if let (Some(body), Some((_, offset))) = (text.strip_prefix("42["), self.pid.as_mut()) {
            if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&format!("[{body}")) {
                if let Some(Value::String(last)) = items.last() {
                    *offset = Some(last.clone());
                }
            }
        }
    }

    /// Drains every output, answers events, and checks the invariants.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            while let Some((id, t)) = self.t.poll_transmit() {
                progress = true;
                match t {
                    Transmit::Frame(Frame::Text(text)) => self.observe_text(&text),
                    Transmit::Frame(_) => {}
                    Transmit::Close => {
                        // The driver closes that transport.
                        if let Some(c) = self.conns.iter_mut().find(|c| c.id == id && c.ws) {
                            c.ws = false;
                            self.t.ws_closed(self.now, id);
                        }
                    }
                }
            }
            while let Some((req, response)) = self.t.poll_http_response() {
                progress = true;
                let handshake = match self.inflight.remove(&req) {
                    Some(h) => h,
                    // Aborted: the driver dropped it.
                    None => continue,
                };
                let Ok(text) = std::str::from_utf8(&response.body) else {
                    continue;
                };
                let text = text.to_owned();
                if let (Some(kind), 200) = (handshake, response.status) {
                    let sid = match kind {
                        Kind::Legacy => text.split(':').next(),
                        _ => text
                            .split("\"sid\":\"")
                            .nth(1)
                            .and_then(|t| t.split('"').next()),
                    };
                    if let Some(id) = sid.and_then(|sid| self.t.server().find_sid(sid)) {
                        self.track(id, kind, false);
                    }
                }
                for part in text.split('\u{1e}') {
                    self.observe_text(part);
                }
            }
            if self.t.react(self.now, &mut self.r) {
                progress = true;
            }
            if !progress {
                break;
            }
        }
        self.check_limits();
    }

    fn check_limits(&mut self) {
        let server = self.t.server();
        self.conns.retain(|c| server.any_connection(c.id).is_some());
        for c in &self.conns {
            let queued = match server.any_connection(c.id) {
                Some(AnyConnection::Modern(conn)) => conn.outbound_bytes(),
                Some(AnyConnection::Legacy(conn)) => conn.outbound_bytes(),
                None => 0,
            };
            assert!(
                queued <= self.limit,
                "{:?} holds {queued} outbound bytes over the limit {}: {:?}",
                c,
                self.limit,
                server.any_connection(c.id)
            );
        }
    }

    fn conn(&mut self) -> Option<usize> {
        if self.conns.is_empty() {
            None
        } else {
            Some(self.r.below(self.conns.len()))
        }
    }

    fn path(&mut self) -> &'static str {
        ["/socket.io/", "/engine.io/", "/other/"][[0, 0, 0, 0, 0, 1, 1, 2][self.r.below(8)]]
    }

    fn step(&mut self) {
        match self.r.below(16) {
            // A WebSocket handshake.
            0 | 1 => {
                let kind = [Kind::V4, Kind::V4, Kind::V3, Kind::Legacy][self.r.below(4)];
                let path = self.path();
                let url = match kind {
                    Kind::V4 => format!("{path}?EIO=4&transport=websocket"),
                    Kind::V3 => format!("{path}?EIO=3&transport=websocket"),
                    Kind::Legacy => {
                        // A 0.9 WebSocket needs a handshake's sid.
                        let sid = self
                            .conns
                            .iter()
                            .filter(|c| c.kind == Kind::Legacy)
                            .map(|c| c.sid.clone())
                            .nth(self.r.below(4))
                            .unwrap_or_default();
                        format!("/socket.io/1/websocket/{sid}")
                    }
                };
                let url = if self.r.below(10) == 0 {
                    format!("{url}{}", String::from_utf8_lossy(&self.r.bytes(24)))
                } else {
                    url
                };
                if let Some(id) = self.t.ws_open(self.now, Handshake::new(url, vec![])) {
                    self.track(id, kind, true);
                }
            }
            // A WebSocket upgrade of a polling session.
            2 => {
                if let Some(i) = self.conn() {
                    let c = &self.conns[i];
                    let eio = if c.kind == Kind::V3 { 3 } else { 4 };
                    let url = format!("/socket.io/?EIO={eio}&transport=websocket&sid={}", c.sid);
                    if let Some(id) = self.t.ws_open(self.now, Handshake::new(url, vec![])) {
                        if let Some(c) = self.conns.iter_mut().find(|c| c.id == id) {
                            c.ws = true;
                        }
                    }
                }
            }
            // A polling handshake.
            3 => {
                let kind = [Kind::V4, Kind::V3, Kind::Legacy][self.r.below(3)];
                let path = self.path();
                let url = match kind {
                    Kind::V4 => format!("{path}?EIO=4&transport=polling"),
                    Kind::V3 => format!("{path}?EIO=3&transport=polling&b64=1"),
                    Kind::Legacy => "/socket.io/1/?t=1".to_owned(),
                };
                let req = self.req(Some(kind));
                self.t
                    .http(self.now, req, HttpRequest::new(Method::Get, url, vec![]));
            }
            // WebSocket frames.
            4 | 5 | 6 => {
                if let Some(i) = self.conn() {
                    let (id, kind) = (self.conns[i].id, self.conns[i].kind);
                    let text = match kind {
                        Kind::Legacy => legacy_text(&mut self.r),
                        _ if self.r.below(6) == 0 => self.recovery_connect(),
                        _ => modern_text(&mut self.r),
                    };
                    self.t.ws_text(self.now, id, &text);
                }
            }
            7 => {
                if let Some(i) = self.conn() {
                    let id = self.conns[i].id;
                    let data = self.r.bytes(48);
                    self.t.ws_binary(self.now, id, data);
                }
            }
            // Polling GET / POST.
            8 | 9 => {
                if let Some(i) = self.conn() {
                    let (kind, sid) = (self.conns[i].kind, self.conns[i].sid.clone());
                    let post = self.r.below(2) == 0;
                    let url = match kind {
                        Kind::V4 => format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
                        Kind::V3 => format!("/socket.io/?EIO=3&transport=polling&sid={sid}"),
                        Kind::Legacy => format!("/socket.io/1/xhr-polling/{sid}"),
                    };
                    let mut request = HttpRequest::new(
                        if post { Method::Post } else { Method::Get },
                        url,
                        vec![],
                    );
                    if post {
                        request.body = polling_body(&mut self.r, kind);
                        request.body_too_large = self.r.below(20) == 0;
                    }
                    let req = self.req(None);
                    self.t.http(self.now, req, request);
                }
            }
            // An arbitrary HTTP request.
            10 => {
                let url = String::from_utf8_lossy(&self.r.bytes(48)).into_owned();
                let method =
                    [Method::Get, Method::Post, Method::Options, Method::Other][self.r.below(4)];
                let mut request = HttpRequest::new(method, format!("/socket.io/{url}"), vec![]);
                request.body = self.r.bytes(32);
                let req = self.req(None);
                self.t.http(self.now, req, request);
            }
            // The transport closes / a request is aborted.
            11 => {
                if let Some(i) = self.conn() {
                    let id = self.conns[i].id;
                    self.conns[i].ws = false;
                    self.t.ws_closed(self.now, id);
                } else if let Some(&req) = self.inflight.keys().next() {
                    self.t.http_aborted(self.now, req);
                }
            }
            12 => {
                let n = self.inflight.len();
                if let Some(&req) = self.inflight.keys().nth(self.r.below(n.max(1))) {
                    self.t.http_aborted(self.now, req);
                    // The driver forgets the request: the answer goes nowhere.
                    self.inflight.remove(&req);
                }
            }
            // Write blocked / ready.
            13 => {
                if let Some(i) = self.conn() {
                    let id = self.conns[i].id;
                    if self.r.below(2) == 0 {
                        self.t.write_blocked(id);
                    } else {
                        self.t.write_ready(id);
                    }
                }
            }
            // The clock.
            14 => {
                let jump = match self.r.below(4) {
                    0 => Duration::from_millis(u64::from(self.r.u8())),
                    1 => Duration::from_millis(50 * u64::from(self.r.u8())),
                    2 => self
                        .t
                        .poll_timeout()
                        .map_or(Duration::ZERO, |at| at.saturating_duration_since(self.now)),
                    _ => Duration::from_secs(u64::from(self.r.u8())),
                };
                self.now += jump;
                self.t.timeout(self.now);
            }
            _ => {
                let conns = std::mem::take(&mut self.conns);
                self.t.command(self.now, &mut self.r, &conns);
                self.conns = conns;
            }
        }
    }

    fn recovery_connect(&mut self) -> String {
        match self.pid.clone() {
            Some((pid, Some(offset))) => {
                format!("40{{\"pid\":\"{pid}\",\"offset\":\"{offset}\"}}")
            }
            Some((pid, None)) => format!("40{{\"pid\":\"{pid}\",\"offset\":\"nope\"}}"),
            None => "40{\"pid\":\"x\",\"offset\":\"y\"}".to_owned(),
        }
    }

    fn track(&mut self, id: ConnId, kind: Kind, ws: bool) {
        if let Some(c) = self.conns.iter_mut().find(|c| c.id == id) {
            c.ws |= ws;
            return;
        }
        let sid = self
            .t
            .server()
            .any_connection(id)
            .map(|c| c.sid().to_owned())
            .unwrap_or_default();
        self.conns.push(Tracked { id, kind, ws, sid });
    }

    /// Closes everything, runs the clock past every timeout and checks that
    /// nothing is left.
    fn finish(&mut self) {
        self.pump();
        if self.r.below(2) == 0 {
            self.t.shutdown(self.now);
        } else {
            let ids: Vec<ConnId> = self.conns.iter().map(|c| c.id).collect();
            for id in ids {
                self.t.close(self.now, id);
            }
        }
        self.pump();
        // The driver drops its transports and forgets its requests.
        for c in std::mem::take(&mut self.conns) {
            if c.ws {
                self.t.ws_closed(self.now, c.id);
            }
        }
        self.pump();
        let reqs: Vec<RequestId> = self.inflight.keys().copied().collect();
        for req in reqs {
            self.t.http_aborted(self.now, req);
        }
        self.pump();
        self.inflight.clear();
        let mut rounds = 0;
        while let Some(at) = self.t.poll_timeout() {
            rounds += 1;
            assert!(rounds < 10_000, "timers keep firing");
            self.now = self.now.max(at) + Duration::from_millis(1);
            self.t.timeout(self.now);
            self.pump();
            self.inflight.clear();
        }
        // Well past every timeout (recovery sessions included).
        self.now += Duration::from_secs(3600);
        self.t.timeout(self.now);
        self.pump();
        let server = self.t.server();
        let counts = server.leak_check_counts();
        assert_eq!(server.connection_count(), 0, "connections left: {counts:?}");
        assert_eq!(server.room_count(), 0, "rooms left: {counts:?}");
        assert_eq!(server.deadline_count(), 0, "deadlines left: {counts:?}");
        assert!(counts.is_empty(), "state left: {counts:?}");
        for nsp in NSPS {
            assert!(
                server.select(&Broadcast::to(*nsp)).is_empty(),
                "members of {nsp} left"
            );
        }
        if let Some(left) = self.t.app_leftovers() {
            panic!("application state left: {left}");
        }
        let _ = self.start;
    }
}

const LIMITS: [usize; 4] = [256, 1024, 4096, 65536];

fn config(r: &mut Reader<'_>) -> socketio_sansio::ConfigBuilder {
    let limit = LIMITS[r.below(4)];
    Config::builder()
        .ping_interval(Duration::from_millis(200 + 100 * r.below(20) as u64))
        .ping_timeout(Duration::from_millis(100 + 100 * r.below(10) as u64))
        .upgrade_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(1000 + 500 * r.below(4) as u64))
        .max_payload(200 + r.below(2000))
        .max_outbound_bytes(limit)
        .max_pending_acks(4)
        .max_namespaces(3)
        .engine_path("/engine.io/")
        .namespace("/admin")
}

fn steps<T: Target>(mut h: Harness<'_, T>) {
    let mut n = 0;
    while !h.r.done() && n < 400 {
        h.step();
        h.pump();
        n += 1;
    }
    h.finish();
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader { data, pos: 0 };
    let mode = r.u8();
    let builder = config(&mut r);
    let limit = builder.clone().build().map_or(0, |c| c.max_outbound_bytes);
    let seed = u64::from(r.u16());
    let start = Instant::now();
    match mode % 3 {
        0 => {
            let config = match builder.build() {
                Ok(c) => c,
                Err(_) => return,
            };
            let server = Server::with_random(config, Box::new(SeededRandom::new(seed)));
            steps(Harness {
                t: Core { server },
                r,
                start,
                now: start,
                conns: Vec::new(),
                inflight: BTreeMap::new(),
                next_req: 0,
                limit,
                pid: None,
            });
        }
        m => {
            let recovery = m == 2;
            let max = Duration::from_millis(500 + 500 * r.below(8) as u64);
            let Ok(io) = AppServer::with_random(
                builder,
                app(recovery, max),
                Box::new(SeededRandom::new(seed)),
            ) else {
                return;
            };
            steps(Harness {
                t: AppTarget { io, recovery },
                r,
                start,
                now: start,
                conns: Vec::new(),
                inflight: BTreeMap::new(),
                next_req: 0,
                limit,
                pid: None,
            });
        }
    }
});
