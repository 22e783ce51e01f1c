//! The sans-IO hot paths, end to end through `Server`: what one message,
//! ack, broadcast or polling response costs the core, without any I/O.
//!
//! A `Server` on a virtual clock (`Instant::now()` once, then offsets) with
//! `SeededRandom`; each iteration feeds the input, then drains
//! `poll_transmit`/`poll_event` like a host's run loop, answering events like
//! the conformance server (`message` → `message-back`, `message-with-ack` →
//! ack) and pings with pongs.
//!
//! Before each group, allocations per operation are counted once (a counting
//! global allocator, thread-local counters) and printed to stderr, with the
//! bytes the core keeps per idle connection for the broadcast cases.
//!
//! `cargo bench --bench core -- --measurement-time 3`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use socketio_sansio::{
    Args, Broadcast, Config, ConnId, Event, Frame, Handshake, HttpRequest, Method, SeededRandom,
    Server, Transmit,
};

// ---------------------------------------------------------------- allocations

/// The system allocator, counting this thread's allocations and live bytes.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn note(allocs: u64, bytes: i64) {
    // `try_with`: the allocator also runs while thread locals are torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + allocs));
    let _ = LIVE.try_with(|c| c.set(c.get() + bytes));
}

// SAFETY: forwards every call unchanged to `System`; the counters are plain
// thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -(layout.size() as i64));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(1, new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn live_bytes() -> i64 {
    LIVE.with(Cell::get)
}

/// Runs `op` `n` times and prints the allocations (calls to alloc/realloc)
/// per call.
fn report_allocs(label: &str, n: u64, mut op: impl FnMut()) {
    let before = allocs();
    for _ in 0..n {
        op();
    }
    let per = (allocs() - before) as f64 / n as f64;
    eprintln!("allocs/op {label}: {per:.1}");
}

// ---------------------------------------------------------------- harness

/// A `Server` on a virtual clock that reacts like the conformance server.
struct Bench {
    server: Server,
    now: Instant,
    /// Bytes of text frames sent, so the output cannot be optimised away.
    sent_bytes: usize,
    sent_frames: usize,
}

impl Bench {
    fn new() -> Self {
        let config: Arc<Config> = Config::builder()
            .ping_interval(Duration::from_millis(25_000))
            .ping_timeout(Duration::from_millis(20_000))
            .max_payload(1_000_000)
            .namespace("/custom")
            .build()
            .expect("valid configuration");
        Bench {
            server: Server::with_random(config, Box::new(SeededRandom::new(7))),
            now: Instant::now(),
            sent_bytes: 0,
            sent_frames: 0,
        }
    }

    /// Moves the virtual clock and fires due timers, as a host loop does.
    fn tick(&mut self) {
        self.now += Duration::from_micros(1);
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
    }

    /// Opens a v4 WebSocket session connected to `/`.
    fn connect_ws(&mut self) -> ConnId {
        let id = self
            .server
            .handle_ws_open(
                self.now,
                Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]),
            )
            .expect("handshake accepted");
        self.server.handle_ws_text(self.now, id, "40");
        self.pump();
        id
    }

    /// Drains transmits and events until both are empty; answers events.
    fn pump(&mut self) {
        loop {
            while let Some((id, t)) = self.server.poll_transmit() {
                if let Transmit::Frame(Frame::Text(text)) = t {
                    self.sent_frames += 1;
                    self.sent_bytes += text.as_str().len();
                    if text.as_str() == "2" {
                        // A client answers the ping at once.
                        self.server.handle_ws_text(self.now, id, "3");
                    }
                }
            }
            let Some(ev) = self.server.poll_event() else {
                break;
            };
            let now = self.now;
            let conn = ev.conn;
            match ev.event {
                Event::Connect { nsp, .. } => {
                    self.server.accept(now, conn, &nsp, None).expect("accept");
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
                        .emit(now, conn, &nsp, "message-back", args)
                        .expect("emit"),
                    ("message-with-ack", Some(id)) => {
                        self.server.ack(now, conn, &nsp, id, args).expect("ack")
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

fn payload(len: usize) -> String {
    "x".repeat(len)
}

// ---------------------------------------------------------------- benches

/// (a) one WebSocket text frame in → event → `message-back` → frame out;
/// (b) the same with an ack. Also the halves: decode only, encode only.
fn bench_websocket(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws");
    group.throughput(Throughput::Elements(1));
    for len in [64usize, 4096] {
        let p = payload(len);
        let message = format!(r#"42["message","{p}"]"#);
        let with_ack = format!(r#"4212["message-with-ack","{p}"]"#);

        let mut b = Bench::new();
        let conn = b.connect_ws();
        let echo = |b: &mut Bench| {
            b.tick();
            b.server.handle_ws_text(b.now, conn, &message);
            b.pump();
        };
        report_allocs(&format!("ws/echo-{len}"), 1000, || echo(&mut b));
        group.bench_function(format!("echo-{len}"), |bn| bn.iter(|| echo(&mut b)));
        black_box(b.sent_bytes);

        let mut b = Bench::new();
        let conn = b.connect_ws();
        let ack = |b: &mut Bench| {
            b.tick();
            b.server.handle_ws_text(b.now, conn, &with_ack);
            b.pump();
        };
        report_allocs(&format!("ws/ack-{len}"), 1000, || ack(&mut b));
        group.bench_function(format!("ack-{len}"), |bn| bn.iter(|| ack(&mut b)));
        black_box(b.sent_bytes);

        // Decode half: the frame in and its event out, no reply.
        let mut b = Bench::new();
        let conn = b.connect_ws();
        let decode = |b: &mut Bench| {
            b.tick();
            b.server.handle_ws_text(b.now, conn, &message);
            black_box(b.server.poll_event());
        };
        report_allocs(&format!("ws/decode-only-{len}"), 1000, || decode(&mut b));
        group.bench_function(format!("decode-only-{len}"), |bn| {
            bn.iter(|| decode(&mut b))
        });

        // Encode half: emit with prepared arguments (the clone is part of
        // the cost: a handler that echoes owns them already) and take the frame.
        let mut b = Bench::new();
        let conn = b.connect_ws();
        let args = Args::json(vec![Value::String(p.clone())]);
        let encode = |b: &mut Bench| {
            b.tick();
            b.server
                .emit(b.now, conn, "/", "message-back", args.clone())
                .expect("emit");
            black_box(b.server.poll_transmit());
        };
        report_allocs(&format!("ws/encode-only-{len}"), 1000, || encode(&mut b));
        group.bench_function(format!("encode-only-{len}"), |bn| {
            bn.iter(|| encode(&mut b))
        });
    }
    group.finish();
}

/// (c) a broadcast to every socket of `/`: encode once, queue for each, drain
/// every transmit.
fn bench_broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast");
    group.sample_size(20);
    let args = Args::json(vec![Value::String(payload(64))]);
    for n in [1_000usize, 10_000] {
        let mut b = Bench::new();
        let live_before = live_bytes();
        for _ in 0..n {
            b.connect_ws();
        }
        let per_conn = (live_bytes() - live_before) as f64 / n as f64;
        eprintln!("core heap per idle ws connection (n={n}): {per_conn:.0} B");
        let op = Broadcast::to("/");
        let run = |b: &mut Bench| {
            b.tick();
            let sent = b
                .server
                .broadcast(b.now, &op, "broadcast", &args)
                .expect("broadcast");
            b.pump();
            black_box(sent);
        };
        report_allocs(&format!("broadcast/{n} (per broadcast)"), 20, || {
            run(&mut b)
        });
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("to-{n}"), |bn| bn.iter(|| run(&mut b)));
    }
    group.finish();
}

/// (d) long-polling: a v4 GET answered with a payload of 16 queued packets.
fn bench_polling(c: &mut Criterion) {
    let mut group = c.benchmark_group("polling");
    let mut b = Bench::new();
    let mut next_req = 1u64;
    let mut request = |b: &mut Bench, method: Method, url: &str, body: &[u8]| {
        let mut req = HttpRequest::new(method, url, vec![]);
        req.body = body.to_vec();
        let id = next_req;
        next_req += 1;
        b.server.handle_http(b.now, id, req);
        b.pump();
        b.server.poll_http_response().expect("answered at once").1
    };
    let open = request(
        &mut b,
        Method::Get,
        "/socket.io/?EIO=4&transport=polling",
        b"",
    );
    let body = String::from_utf8(open.body).expect("utf-8");
    let sid = body
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("sid in the open packet")
        .to_owned();
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let posted = request(&mut b, Method::Post, &url, b"40");
    assert_eq!(posted.status, 200);
    let conn = b.server.find_sid(&sid).expect("session");
    // The CONNECT reply.
    let first = request(&mut b, Method::Get, &url, b"");
    assert!(String::from_utf8_lossy(&first.body).starts_with("40"));

    let args = Args::json(vec![Value::String(payload(64))]);
    let mut get16 = |b: &mut Bench| {
        b.tick();
        for _ in 0..16 {
            b.server
                .emit(b.now, conn, "/", "message-back", args.clone())
                .expect("emit");
        }
        let response = request(b, Method::Get, &url, b"");
        black_box(response.body.len());
    };
    report_allocs("polling/get-16 (per GET)", 1000, || get16(&mut b));
    group.throughput(Throughput::Elements(16));
    group.bench_function("get-16x64B", |bn| bn.iter(|| get16(&mut b)));
    group.finish();
}

/// The same echo and ack through the application layer (`AppServer` with
/// handlers registered by a connection handler): what the handler API
/// costs over answering the core's events by hand (`ws/echo-*`).
fn bench_app(c: &mut Criterion) {
    use socketio_sansio::app::{App, AppServer, Namespace};
    let mut group = c.benchmark_group("app");
    group.throughput(Throughput::Elements(1));
    let app = || -> App {
        App::new().ns(
            "/",
            Namespace::new().on_connection(|socket| {
                socket.on("message", |s, args, _| s.emit("message-back", args));
                socket.on("message-with-ack", |s, args, ack| {
                    if let Some(ack) = ack {
                        ack.send(s, args);
                    }
                });
            }),
        )
    };
    for len in [64usize, 4096] {
        let p = payload(len);
        for (name, frame) in [
            ("echo", format!(r#"42["message","{p}"]"#)),
            ("ack", format!(r#"4212["message-with-ack","{p}"]"#)),
        ] {
            let config = Config::builder()
                .ping_interval(Duration::from_millis(25_000))
                .ping_timeout(Duration::from_millis(20_000));
            let mut io = AppServer::with_random(config, app(), Box::new(SeededRandom::new(7)))
                .expect("valid configuration");
            let mut now = Instant::now();
            let conn = io
                .handle_ws_open(
                    now,
                    Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]),
                )
                .expect("handshake accepted");
            io.handle_ws_text(now, conn, "40");
            while io.poll_transmit().is_some() {}
            let mut sent = 0usize;
            let mut round = || {
                now += Duration::from_micros(1);
                io.handle_ws_text(now, conn, &frame);
                while let Some((_, t)) = io.poll_transmit() {
                    if let Transmit::Frame(Frame::Text(text)) = t {
                        sent += text.as_str().len();
                    }
                }
            };
            report_allocs(&format!("app/{name}-{len}"), 1000, &mut round);
            group.bench_function(format!("{name}-{len}"), |bn| bn.iter(&mut round));
            black_box(sent);
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_websocket,
    bench_app,
    bench_broadcast,
    bench_polling
);
criterion_main!(benches);
