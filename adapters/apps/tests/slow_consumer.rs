//! Slow consumers on real sockets, against each driver (one test per
//! scenario and driver, `blocking::…`, `mio::…`; the server in this
//! process): a client that stops reading (a WebSocket client of
//! Engine.IO v4 or v3, a polling client that stops polling, a Socket.IO
//! 0.9 client) under a broadcast flood is closed with `OutboundQueueFull`
//! near `max_outbound_bytes`, while ten clients that read receive every
//! broadcast in order, and the process's memory stays bounded (the flood
//! is several times the bound).
//!
//! The tests of this file run one at a time: each measures the process's
//! resident memory (VmRSS from /proc), which the others would disturb.
//! The clients are in this process too; they discard what they read.

#[macro_use]
mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socketio_apps::testing::{self, body, http, recv_text, Ws};
use socketio_sansio::app::{App, Namespace};
use socketio_sansio::{ConfigBuilder, DisconnectReason};
use support::{Driver, Served};
use tungstenite::Message;

type Reasons = Arc<Mutex<Vec<(String, DisconnectReason)>>>;

/// `max_outbound_bytes` of the server under test.
const LIMIT: usize = 4 << 20;
/// The drivers' write window (`WRITE_WINDOW`, the same in both).
const WINDOW: usize = 256 << 10;
/// What the process may grow by besides the limit and the window: the
/// readers' and the sender's buffers, the frames in flight to the readers,
/// the allocator's slack. Generous; the flood is several times larger.
const MARGIN: usize = 24 << 20;
/// Broadcasts in the flood, and the size of each.
const FLOOD: usize = 4000;
const PAYLOAD: usize = 10_000;
/// Clients that read everything.
const READERS: usize = 10;
/// How far (in broadcasts) the sender may run ahead of the slowest reader:
/// 1 MB, well under the limit, so a reader is never a slow consumer.
const LAG: usize = 100;
/// Broadcasts sent between two checks of the readers' progress.
const BATCH: usize = 20;
const WAIT: Duration = Duration::from_secs(20);

static SERIAL: Mutex<()> = Mutex::new(());

// ---- the server -------------------------------------------------------

struct Server {
    addr: SocketAddr,
    reasons: Reasons,
    served: Served,
}

fn app(reasons: Reasons) -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            socket.on("broadcast", |s, args, _| s.of("/").emit("broadcast", args));
            let reasons = reasons.clone();
            socket.on_disconnect(move |s, reason| {
                reasons
                    .lock()
                    .unwrap()
                    .push((s.id().to_owned(), reason.clone()));
            });
        }),
    )
}

/// The configuration of the server under test (both drivers' builders
/// take it).
fn config(c: ConfigBuilder) -> ConfigBuilder {
    c.ping_interval(Duration::from_millis(25_000))
        .ping_timeout(Duration::from_millis(20_000))
        .max_outbound_bytes(LIMIT)
}

fn start(driver: Driver) -> Server {
    let reasons = Reasons::default();
    let served = driver.serve(config, app(reasons.clone()));
    Server {
        addr: served.addr,
        reasons,
        served,
    }
}

// ---- clients ----------------------------------------------------------

/// A WebSocket client at `target` that waits up to `WAIT` for a frame.
fn ws_at(addr: SocketAddr, target: &str) -> Ws {
    patient(testing::ws_at(addr, target))
}

fn patient(ws: Ws) -> Ws {
    ws.get_ref().set_read_timeout(Some(WAIT)).unwrap();
    ws
}

/// A v4 WebSocket client in `/`, and its socket id.
fn joined(addr: SocketAddr) -> (Ws, String) {
    let (ws, sid) = testing::connected(addr);
    (patient(ws), sid)
}

/// The index of a broadcast (`42["broadcast",i,"..."]`), if it is one.
fn index(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("42[\"broadcast\",")?;
    rest.split(',').next()?.parse().ok()
}

/// A client that reads everything, checking the broadcasts come in order;
/// `progress` counts those received. Returns the client, still connected.
fn reader(mut ws: Ws, progress: Arc<AtomicUsize>) -> JoinHandle<Result<Ws, String>> {
    std::thread::spawn(move || {
        let mut next = 0;
        while next < FLOOD {
            let text = match ws.read() {
                Ok(Message::Text(t)) => t,
                Ok(Message::Close(c)) => return Err(format!("closed at {next}: {c:?}")),
                Ok(_) => continue,
                Err(e) => return Err(format!("lost at {next}: {e}")),
            };
            if text.as_str() == "2" {
                let _ = ws.send(Message::text("3"));
                continue;
            }
            match index(&text) {
                Some(i) if i == next => {
                    next += 1;
                    progress.store(next, Ordering::SeqCst);
                }
                Some(i) => return Err(format!("got {i}, expected {next}")),
                None => {}
            }
        }
        Ok(ws)
    })
}

/// The process's resident memory, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kb: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number");
    kb * 1024
}

/// Samples the resident memory until stopped; returns the peak.
fn rss_peak(stop: Arc<AtomicBool>) -> JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut peak = rss();
        while !stop.load(Ordering::SeqCst) {
            peak = peak.max(rss());
            std::thread::sleep(Duration::from_millis(2));
        }
        peak.max(rss())
    })
}

/// How the client that stops reading connects.
#[derive(Debug, Clone, Copy)]
enum Slow {
    WebSocket {
        eio: u8,
    },
    /// Handshake and connect over polling, then never GET again.
    Polling,
    /// Socket.IO 0.9 over WebSocket.
    Legacy,
}

/// What the slow client left behind: a socket to check, or a polling sid.
enum SlowClient {
    Ws(Box<Ws>),
    Polling(String),
}

fn connect_slow(addr: SocketAddr, slow: Slow) -> SlowClient {
    match slow {
        Slow::WebSocket { eio } => {
            let mut ws = ws_at(addr, &format!("/socket.io/?EIO={eio}&transport=websocket"));
            assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
            if eio == 4 {
                ws.send(Message::text("40")).unwrap();
                assert!(recv_text(&mut ws).starts_with("40{\"sid\":"));
            } else {
                // Engine.IO v3: the server connects the client to `/`.
                assert_eq!(recv_text(&mut ws), "40");
            }
            SlowClient::Ws(Box::new(ws))
        }
        Slow::Polling => {
            let r = http(
                addr,
                "GET /socket.io/?EIO=4&transport=polling&t=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            let sid = body(&r)
                .strip_prefix("0{\"sid\":\"")
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| panic!("{r}"))
                .to_owned();
            let r = http(
                addr,
                &format!(
                    "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\
                     Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\n40"
                ),
            );
            assert!(r.starts_with("HTTP/1.1 200"), "{r}");
            SlowClient::Polling(sid)
        }
        Slow::Legacy => {
            let r = http(
                addr,
                "GET /socket.io/1/?t=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            let sid = body(&r).split(':').next().unwrap_or_default().to_owned();
            assert!(!sid.is_empty(), "{r}");
            let mut ws = ws_at(addr, &format!("/socket.io/1/websocket/{sid}"));
            assert_eq!(recv_text(&mut ws), "1::");
            SlowClient::Ws(Box::new(ws))
        }
    }
}

/// Reads (and discards) what the server had written before it closed the
/// socket; fails if the socket stays open.
fn assert_closed_by_server(mut ws: Ws) {
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => return,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the server did not close the slow client's socket")
            }
            Err(_) => return,
        }
    }
}

/// The scenario: the slow client connects, `READERS` clients and a sender
/// join, the sender floods; the slow client is closed with
/// `OutboundQueueFull`, the readers get everything in order, the memory
/// stays bounded. Returns the RSS growth (peak minus before the flood).
fn flood_with_a_slow_consumer(driver: Driver, slow: Slow) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let server = start(driver);
    let addr = server.addr;
    let slow_client = connect_slow(addr, slow);
    let progress: Vec<Arc<AtomicUsize>> = (0..READERS).map(|_| Arc::default()).collect();
    let mut reader_sids = Vec::new();
    let readers: Vec<_> = progress
        .iter()
        .map(|p| {
            let (ws, sid) = joined(addr);
            reader_sids.push(sid);
            reader(ws, p.clone())
        })
        .collect();
    let (mut sender, sender_sid) = joined(addr);

    let before = rss();
    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = rss_peak(stop.clone());
    let payload = "x".repeat(PAYLOAD);
    let mut echoed = 0; // the sender's own copies, read back
    for i in 0..FLOOD {
        sender
            .send(Message::text(format!(
                "42[\"broadcast\",{i},\"{payload}\"]"
            )))
            .unwrap();
        if (i + 1) % BATCH != 0 && i + 1 != FLOOD {
            continue;
        }
        // The sender reads its own copies (it is a consumer too)...
        while echoed <= i {
            // (recv_text answers the pings.)
            if index(&recv_text(&mut sender)).is_some() {
                echoed += 1;
            }
        }
        // ...and waits for the slowest reader to be within LAG.
        let deadline = Instant::now() + WAIT;
        while progress.iter().map(|p| p.load(Ordering::SeqCst)).min()
            < Some((i + 1).saturating_sub(LAG))
        {
            assert!(Instant::now() < deadline, "the readers stalled at {i}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let _readers: Vec<Ws> = readers
        .into_iter()
        .map(|r| {
            r.join()
                .unwrap()
                .expect("a reader got every broadcast, in order")
        })
        .collect();
    // The slow client was dropped near the limit, not at the end.
    let deadline = Instant::now() + WAIT;
    while server.reasons.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the slow client was never closed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    let peak = peak.join().unwrap();
    let took = t0.elapsed();
    let after = rss();
    let reasons = server.reasons.lock().unwrap().clone();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(
        reasons[0].1,
        DisconnectReason::OutboundQueueFull,
        "{reasons:?}"
    );
    assert!(
        !reader_sids.contains(&reasons[0].0) && reasons[0].0 != sender_sid,
        "{reasons:?}"
    );
    match slow_client {
        SlowClient::Ws(ws) => assert_closed_by_server(*ws),
        SlowClient::Polling(sid) => {
            let r = http(
                addr,
                &format!(
                    "GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                ),
            );
            assert!(r.starts_with("HTTP/1.1 400"), "the session is gone: {r}");
        }
    }
    let growth = peak.saturating_sub(before);
    eprintln!(
        "{driver:?}, {slow:?}: RSS before {} KiB, peak {} KiB (+{} KiB), after {} KiB; flood {} KiB in {took:?}",
        before >> 10,
        peak >> 10,
        growth >> 10,
        after >> 10,
        (FLOOD * PAYLOAD) >> 10,
    );
    assert!(
        growth < LIMIT + WINDOW + MARGIN,
        "RSS grew by {growth} bytes under a {} byte flood",
        FLOOD * PAYLOAD
    );
    server.served.shutdown();
    growth
}

fn a_websocket_client_that_stops_reading(driver: Driver) {
    flood_with_a_slow_consumer(driver, Slow::WebSocket { eio: 4 });
}

fn an_engine_io_v3_client_that_stops_reading(driver: Driver) {
    flood_with_a_slow_consumer(driver, Slow::WebSocket { eio: 3 });
}

fn a_polling_client_that_stops_polling(driver: Driver) {
    flood_with_a_slow_consumer(driver, Slow::Polling);
}

fn a_socketio_09_client_that_stops_reading(driver: Driver) {
    flood_with_a_slow_consumer(driver, Slow::Legacy);
}

on_both_drivers!(
    a_websocket_client_that_stops_reading,
    an_engine_io_v3_client_that_stops_reading,
    a_polling_client_that_stops_polling,
    a_socketio_09_client_that_stops_reading,
);
