//! The core's own cost of idle sessions, without sockets: creates N
//! WebSocket sessions in an [`AppServer`] (each handshake on a virtual
//! clock, spread over one ping interval, each socket joined to `/` by its
//! `40`), then drives the virtual clock through `--idle` seconds of idle
//! (only the ping timers fire; every ping is answered with a pong) the way
//! a host loop does: sleep until `poll_timeout`, `handle_timeout`, drain.
//!
//! Prints, per N: the process RSS growth per session (`VmRSS` from
//! `/proc/self/status`), the heap bytes the core keeps per session (a
//! counting allocator), and the CPU the idle costs per virtual second
//! (`/proc/thread-self/schedstat`, wall time as a fallback), with the ping
//! timers that fired. Linux for the RSS and CPU figures.
//!
//! This is the 100 k-connection figure where the file-descriptor limit
//! stops a real-socket run (the socket buffers and the driver's per-socket
//! state are not included: measure those with `socketio-load idle`).
//!
//! `cargo run --release --example idle_sessions -- 1000 10000 100000 [--idle 100]`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use socketio_sansio::app::{App, AppServer, Namespace};
use socketio_sansio::{Config, Frame, Handshake, SeededRandom, Transmit};

/// The system allocator, counting live bytes.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards every call unchanged to `System`; the counter is an
// atomic that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `VmRSS` in kB.
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Nanoseconds this thread ran on a CPU.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// The handshake headers our load generator's WebSocket clients send.
fn headers() -> Vec<(String, String)> {
    [
        ("host", "127.0.0.1:3000"),
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("sec-websocket-version", "13"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn app() -> App {
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
}

/// Drains the transmits; answers pings (`2`) with pongs. Returns the pings.
fn drain(io: &mut AppServer, now: Instant) -> u64 {
    let mut pings = Vec::new();
    while let Some((conn, t)) = io.poll_transmit() {
        if let Transmit::Frame(Frame::Text(text)) = t {
            if text.as_str() == "2" {
                pings.push(conn);
            }
        }
    }
    let n = pings.len() as u64;
    for conn in pings {
        io.handle_ws_text(now, conn, "3");
    }
    while io.poll_transmit().is_some() {}
    n
}

fn run(n: usize, idle: Duration) -> Result<(), String> {
    let interval = Duration::from_millis(25_000);
    let config = Config::builder()
        .ping_interval(interval)
        .ping_timeout(Duration::from_millis(20_000));
    let mut io = AppServer::with_random(config, app(), Box::new(SeededRandom::new(7)))
        .map_err(|e| format!("configuration: {e}"))?;
    let start = Instant::now();
    let mut now = start;
    // Handshakes spread over one ping interval, so the timers spread too.
    let step = interval / n as u32;
    let (rss0, heap0) = (rss_kb(), LIVE.load(Relaxed));
    let t0 = Instant::now();
    for _ in 0..n {
        now += step;
        if io.server().poll_timeout().is_some_and(|t| t <= now) {
            io.handle_timeout(now);
        }
        let conn = io
            .handle_ws_open(
                now,
                Handshake::new("/socket.io/?EIO=4&transport=websocket", headers()),
            )
            .map_err(|e| format!("handshake refused: {e:?}"))?;
        io.handle_ws_text(now, conn, "40");
        drain(&mut io, now);
    }
    let setup = t0.elapsed();
    let (rss1, heap1) = (rss_kb(), LIVE.load(Relaxed));
    if io.socket_count() != n {
        return Err(format!("{} sockets of {n}", io.socket_count()));
    }

    // Idle: the host sleeps until the next timer, fires it, drains.
    let end = now + idle;
    let (c0, w0) = (cpu_ns(), Instant::now());
    let (mut wakeups, mut pings) = (0u64, 0u64);
    while let Some(t) = io.server().poll_timeout() {
        if t > end {
            break;
        }
        now = now.max(t);
        io.handle_timeout(now);
        wakeups += 1;
        pings += drain(&mut io, now);
    }
    let (c1, wall) = (cpu_ns(), w0.elapsed());
    let (rss2, heap2) = (rss_kb(), LIVE.load(Relaxed));
    if io.socket_count() != n {
        return Err(format!(
            "{} sockets of {n} after the idle",
            io.socket_count()
        ));
    }
    let cpu_s = match (c0, c1) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall.as_secs_f64(),
    };
    let per_s = cpu_s / idle.as_secs_f64();
    let rss = |b: Option<u64>| match (rss0, b) {
        (Some(a), Some(b)) => format!("{:.2} kB", (b as f64 - a as f64) / n as f64),
        _ => "n/a".into(),
    };
    println!(
        "n={n}: after the handshakes RSS +{}/session, core heap {:.0} B/session; \
         after the idle RSS +{}/session, heap {:.0} B/session; setup {:.2} us/session | \
         idle {:.0} virtual s: {pings} pings, {wakeups} wake-ups, CPU {:.3} ms per virtual s \
         ({:.2} us per ping)",
        rss(rss1),
        (heap1 - heap0) as f64 / n as f64,
        rss(rss2),
        (heap2 - heap0) as f64 / n as f64,
        setup.as_secs_f64() * 1e6 / n as f64,
        idle.as_secs_f64(),
        per_s * 1e3,
        if pings > 0 {
            cpu_s * 1e6 / pings as f64
        } else {
            0.0
        },
    );
    Ok(())
}

fn main() {
    let mut sizes = Vec::new();
    let mut idle = Duration::from_secs(100);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--idle" {
            match args.next().and_then(|v| v.parse::<u64>().ok()) {
                Some(s) if s > 0 => idle = Duration::from_secs(s),
                _ => {
                    eprintln!("--idle needs a number of seconds");
                    std::process::exit(2);
                }
            }
        } else {
            match a.parse::<usize>() {
                Ok(n) if (1..=1_000_000).contains(&n) => sizes.push(n),
                _ => {
                    eprintln!("usage: idle_sessions [N...] [--idle SECONDS]");
                    std::process::exit(2);
                }
            }
        }
    }
    if sizes.is_empty() {
        sizes = vec![1_000, 10_000, 100_000];
    }
    if let [n] = sizes[..] {
        if let Err(e) = run(n, idle) {
            eprintln!("n={n}: {e}");
            std::process::exit(1);
        }
        return;
    }
    // Several sizes: each in a fresh process, since the allocator keeps
    // freed pages and an earlier run would hide a later one's RSS growth.
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this program: {e}");
            std::process::exit(1);
        }
    };
    for n in sizes {
        let status = std::process::Command::new(&exe)
            .arg(n.to_string())
            .arg("--idle")
            .arg(idle.as_secs().to_string())
            .status();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            eprintln!("n={n}: failed ({status:?})");
            std::process::exit(1);
        }
    }
}
