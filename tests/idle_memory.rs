//! What an idle session costs the core in heap: a regression guard for the
//! per-connection state (namespace sockets boxed in their map, rooms in
//! small vectors, drained queues giving their capacity back). Counted with
//! a thread-local counting allocator, so other tests' threads do not count.
//! `examples/idle_sessions.rs` measures the same at 100 k sessions, with RSS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use socketio_sansio::app::{App, AppServer, Namespace};
use socketio_sansio::{Config, Frame, Handshake, SeededRandom, Transmit};

struct Counting;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn note(bytes: i64) {
    // `try_with`: the allocator also runs while thread locals are torn down.
    let _ = LIVE.try_with(|c| c.set(c.get() + bytes));
}

// SAFETY: forwards every call unchanged to `System`; the counter is a
// thread-local cell that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as i64));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as i64 - layout.size() as i64);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// Drains the transmits, answering pings; returns the pings.
fn drain(io: &mut AppServer, now: Instant) -> usize {
    let mut pings = Vec::new();
    while let Some((conn, t)) = io.poll_transmit() {
        if matches!(&t, Transmit::Frame(Frame::Text(text)) if text.as_str() == "2") {
            pings.push(conn);
        }
    }
    let n = pings.len();
    for conn in pings {
        io.handle_ws_text(now, conn, "3");
    }
    while io.poll_transmit().is_some() {}
    n
}

#[test]
fn an_idle_session_keeps_little_heap_and_less_after_a_heartbeat() {
    const N: usize = 2_000;
    let app = App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            socket.on("message", |s, args, _| s.emit("message-back", args));
        }),
    );
    let config = Config::builder()
        .ping_interval(Duration::from_millis(25_000))
        .ping_timeout(Duration::from_millis(20_000));
    let mut io = AppServer::with_random(config, app, Box::new(SeededRandom::new(3)))
        .expect("valid configuration");
    let headers = || {
        vec![
            ("host".to_owned(), "127.0.0.1:3000".to_owned()),
            ("upgrade".to_owned(), "websocket".to_owned()),
            ("connection".to_owned(), "Upgrade".to_owned()),
        ]
    };
    let mut now = Instant::now();
    let before = live();
    for _ in 0..N {
        now += Duration::from_millis(1);
        let conn = io
            .handle_ws_open(
                now,
                Handshake::new("/socket.io/?EIO=4&transport=websocket", headers()),
            )
            .expect("handshake accepted");
        io.handle_ws_text(now, conn, "40");
        drain(&mut io, now);
    }
    assert_eq!(io.socket_count(), N);
    let connected = (live() - before) as f64 / N as f64;
    // 5.7 kB before the namespace sockets were boxed, the rooms moved to
    // vectors and the event queue released after the CONNECT; 3.2 kB after.
    assert!(connected < 3_600.0, "{connected:.0} B per idle session");

    // One heartbeat each (every session pinged and answered).
    let end = now + Duration::from_secs(30);
    let mut pings = 0;
    while let Some(t) = io.server().poll_timeout().filter(|&t| t <= end) {
        now = now.max(t);
        io.handle_timeout(now);
        pings += drain(&mut io, now);
    }
    assert_eq!(pings, N);
    assert_eq!(io.socket_count(), N);
    let after = (live() - before) as f64 / N as f64;
    // The outbound queue's capacity went back at the pong.
    assert!(
        after + 64.0 < connected,
        "{after:.0} B per session after a heartbeat, {connected:.0} before"
    );
}
