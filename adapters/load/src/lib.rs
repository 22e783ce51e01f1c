//! # socketio-load
//!
//! A Socket.IO load generator built on the sans-IO client
//! ([`socketio_sansio::client::Client`]): each load thread drives many
//! clients on one mio loop ([`net`]), over WebSocket (the shared
//! `socketio_http::ws` codec, masked client frames) or HTTP long-polling
//! (minimal HTTP/1.1 keep-alive requests), Engine.IO v4 or v3.
//!
//! The cases ([`opts::CASES`]): `storm`, `echo-lat`, `echo-64`, `echo-4k`,
//! `ack-64`, `fanout-1k`, `fanout-10k`, `poll-echo`, `upgrade-storm`,
//! `room-fanout`, `idle-10k`, `idle-100k`. The server must implement the
//! conformance contract's `message`, `message-with-ack`, `broadcast`,
//! `join` and `room-broadcast` clauses (`socketio_apps::conformance`, and
//! the peers under `adapters/load/peers/`).
//!
//! Measured: throughput inside the window (messages, deliveries or
//! connections per second), latency percentiles, the server's CPU
//! (utime + stime from `/proc/<pid>/stat` over the window) and RSS
//! (`VmRSS`) when given its pid, and the generator's own CPU. [`run`]
//! returns the JSON object the binary prints as its last line.
//!
//! Bounds: only 127.0.0.0/8; connecting is bounded by `--timeout-ms`, the
//! load by `--warmup` + `--duration`, every thread by a hard stop after
//! all of them; the client counts by the options.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod holders;
pub mod net;
pub mod opts;
pub mod procfs;
pub mod table;
pub mod worker;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use opts::{Options, Scenario};
use procfs::Sample;
use worker::{Shared, Stats};

/// Runs one case; returns the result object (also the JSON line).
///
/// With `--procs P` (the idle case), P − 1 helper processes of this
/// program (`--hold`) open their share of the connections first and hold
/// them while this one opens the rest and measures; their connections
/// count in `ready`. The running program must be `socketio-load`.
pub fn run(o: &Options) -> Result<Value, String> {
    run_with(o, &mut |_| {})
}

/// As [`run`]; with `--hold`, `on_held` is called with the connections
/// ready once connecting is over, and the run ends when it returns.
pub fn run_with(o: &Options, on_held: &mut dyn FnMut(usize)) -> Result<Value, String> {
    if o.procs <= 1 || o.hold {
        return run_one(o, None, on_held);
    }
    let pid = o.pid.map(|p| p.to_string());
    let before = pid.as_deref().and_then(procfs::sample);
    let mut holders = holders::spawn(o)?;
    let held = holders.wait_held(o.timeout + Duration::from_secs(5));
    let mut mine = o.clone();
    mine.clients = o.clients - holders.clients;
    mine.procs = 1;
    let result = run_one(&mine, Some((before, held)), on_held);
    holders.release();
    let mut result = result?;
    result["clients"] = json!(o.clients);
    result["procs"] = json!(o.procs);
    result["held_by_helpers"] = json!(held);
    Ok(result)
}

/// Runs one process's share; `pre`: the server sample taken before any
/// helper connected, and the connections the helpers hold.
fn run_one(
    o: &Options,
    pre: Option<(Option<Sample>, usize)>,
    on_held: &mut dyn FnMut(usize),
) -> Result<Value, String> {
    // A long-poll, a POST, and the WebSocket of the upgrade per polling client.
    let need = (o.sockets() + 64) as u64;
    let nofile = procfs::nofile_limit();
    if let Some(limit) = nofile {
        if limit < need {
            return Err(format!(
                "the open-file limit ({limit}) is below the {need} this run may need; raise it (ulimit -n)"
            ));
        }
    }
    let pid = o.pid.map(|p| p.to_string());
    let server = || pid.as_deref().and_then(procfs::sample);
    let me = || procfs::sample("self").unwrap_or_default();

    let o = Arc::new(o.clone());
    let sh = Arc::new(Shared::new(o.scenario));
    let total = o.total_clients();
    let started = Instant::now();
    let connect_deadline = started + o.timeout;
    let hard_stop = connect_deadline + o.warmup + o.duration + o.settle + Duration::from_secs(5);

    let (before, held) = match pre {
        Some((before, held)) => (before, held),
        None => (server(), 0),
    };
    let me0 = me();
    let threads: Vec<_> = (0..o.threads)
        .map(|t| {
            let (o, sh) = (o.clone(), sh.clone());
            std::thread::Builder::new()
                .name(format!("load-{t}"))
                .spawn(move || worker::run(t, o, sh, hard_stop))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot start the load threads: {e}"))?;

    // Connect everyone (bounded by --timeout-ms).
    while sh.ready.load(SeqCst) + sh.failed.load(SeqCst) < total
        && Instant::now() < connect_deadline
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    let connected_at = Instant::now();
    let connect_s = (connected_at - started).as_secs_f64();
    let ready = sh.ready.load(SeqCst);
    if o.hold {
        on_held(ready);
    }

    let (s0, s1, m0, m1, window, after);
    match o.scenario {
        _ if o.hold => {
            // A helper: `on_held` returned, the parent is done.
            (s0, s1, m0, m1) = (None, None, me0, me());
            window = 0.0;
            after = None;
        }
        Scenario::Storm | Scenario::UpgradeStorm => {
            // The window is the connection phase.
            let (s_end, m_end) = (server(), me());
            std::thread::sleep(o.settle);
            (s0, s1, m0, m1) = (before, s_end, me0, m_end);
            window = connect_s;
            after = server();
        }
        Scenario::Idle => {
            std::thread::sleep(o.settle);
            let (a, ma) = (server(), me());
            std::thread::sleep(o.duration);
            let (b, mb) = (server(), me());
            (s0, s1, m0, m1) = (a, b, ma, mb);
            window = o.duration.as_secs_f64();
            after = s1;
        }
        _ => {
            let start = Instant::now() + o.warmup;
            let end = start + o.duration;
            sh.start_window(start, end);
            sleep_until(start);
            let (a, ma) = (server(), me());
            sleep_until(end);
            let (b, mb) = (server(), me());
            (s0, s1, m0, m1) = (a, b, ma, mb);
            window = o.duration.as_secs_f64();
            after = s1;
        }
    }
    sh.stop.store(true, SeqCst);
    sh.wake();
    let mut stats = Stats::default();
    for t in threads {
        match t.join() {
            Ok(s) => stats.merge(s),
            Err(_) => stats.merge(Stats {
                errors: [("a load thread panicked".to_owned(), 1)].into(),
                ..Stats::default()
            }),
        }
    }
    let missing = total.saturating_sub(ready + sh.failed.load(SeqCst));
    if missing > 0 {
        *stats
            .errors
            .entry("not ready within --timeout-ms".into())
            .or_default() += missing as u64;
    }
    Ok(report(
        &o,
        &stats,
        Measured {
            connect_s,
            window,
            ready: ready + held,
            before,
            after,
            s0,
            s1,
            m0,
            m1,
            total_wall: started.elapsed().as_secs_f64(),
            me_total: me().cpu_s - me0.cpu_s,
            nofile,
        },
    ))
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

struct Measured {
    connect_s: f64,
    window: f64,
    ready: usize,
    before: Option<Sample>,
    after: Option<Sample>,
    s0: Option<Sample>,
    s1: Option<Sample>,
    m0: Sample,
    m1: Sample,
    total_wall: f64,
    me_total: f64,
    nofile: Option<u64>,
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// Percentiles of samples in ns, as µs.
fn latency(samples: &mut [u64]) -> Value {
    if samples.is_empty() {
        return json!({"samples": 0});
    }
    samples.sort_unstable();
    let pick = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        round(samples[i] as f64 / 1000.0, 1)
    };
    let mean = samples.iter().map(|&s| s as f64).sum::<f64>() / samples.len() as f64;
    json!({
        "samples": samples.len(),
        "p50_us": pick(0.50),
        "p90_us": pick(0.90),
        "p99_us": pick(0.99),
        "max_us": pick(1.0),
        "mean_us": round(mean / 1000.0, 1),
    })
}

fn report(o: &Options, stats: &Stats, m: Measured) -> Value {
    let mut stats_lat = stats.latency_ns.clone();
    let lat = latency(&mut stats_lat);
    let mut r = Map::new();
    r.insert("case".into(), json!(o.case));
    r.insert("scenario".into(), json!(o.scenario.name()));
    r.insert("label".into(), json!(o.label));
    r.insert("port".into(), json!(o.port));
    r.insert("eio".into(), json!(o.eio));
    r.insert("transport".into(), json!(o.transport_name()));
    r.insert("clients".into(), json!(o.clients));
    r.insert("threads".into(), json!(o.threads));
    r.insert("sources".into(), json!(o.sources));
    r.insert("ready".into(), json!(m.ready));
    r.insert("connect_s".into(), json!(round(m.connect_s, 3)));
    r.insert("window_wall_s".into(), json!(round(m.window, 3)));
    let rate = match o.scenario {
        Scenario::Storm | Scenario::UpgradeStorm => {
            let v = if m.connect_s > 0.0 {
                m.ready as f64 / m.connect_s
            } else {
                0.0
            };
            r.insert("conns_per_s".into(), json!(v.round()));
            r.insert("setup_latency".into(), lat);
            Some(v)
        }
        Scenario::Echo | Scenario::Ack => {
            let v = stats.ops as f64 / m.window;
            r.insert("window".into(), json!(o.window));
            r.insert("payload".into(), json!(o.payload));
            r.insert("nsp".into(), json!(o.nsp));
            r.insert("messages".into(), json!(stats.ops));
            r.insert("msgs_per_s".into(), json!(v.round()));
            r.insert("latency".into(), lat);
            Some(v)
        }
        Scenario::Fanout | Scenario::RoomFanout => {
            let v = stats.ops as f64 / m.window;
            r.insert("window".into(), json!(o.window));
            r.insert("payload".into(), json!(o.payload));
            if o.scenario == Scenario::RoomFanout {
                r.insert("rooms".into(), json!(o.rooms));
            }
            r.insert("deliveries".into(), json!(stats.ops));
            r.insert("broadcasts".into(), json!(stats.broadcasts));
            r.insert("deliveries_per_s".into(), json!(v.round()));
            r.insert("broadcast_latency".into(), lat);
            Some(v)
        }
        Scenario::Idle => None,
    };
    r.insert("sent".into(), json!(stats.sent));
    r.insert("received".into(), json!(stats.received));
    r.insert("mismatched".into(), json!(stats.mismatched));
    r.insert("strays".into(), json!(stats.strays));
    let errors: u64 = stats.errors.values().sum();
    r.insert("errors".into(), json!(errors));
    r.insert("error_kinds".into(), json!(stats.errors));
    if let (Some(a), Some(b)) = (m.s0, m.s1) {
        let cpu = (b.cpu_s - a.cpu_s).max(0.0);
        r.insert("server_cpu_s".into(), json!(round(cpu, 3)));
        let cores = if m.window > 0.0 { cpu / m.window } else { 0.0 };
        r.insert("server_cores".into(), json!(round(cores, 3)));
        if let Some(rate) = rate.filter(|&v| v > 0.0) {
            r.insert("srv_us_per_op".into(), json!(round(cores / rate * 1e6, 3)));
        }
        r.insert("server_threads".into(), json!(b.threads));
    }
    if let Some(before) = m.before {
        r.insert("server_rss_before_kb".into(), json!(before.rss_kb));
    }
    if let Some(after) = m.after {
        r.insert("server_rss_after_kb".into(), json!(after.rss_kb));
        r.insert("server_rss_peak_kb".into(), json!(after.hwm_kb));
        if m.ready > 0 {
            let n = m.ready as f64;
            r.insert(
                "rss_total_kb_per_conn".into(),
                json!(round(after.rss_kb as f64 / n, 2)),
            );
            if let Some(before) = m.before {
                r.insert(
                    "rss_added_kb_per_conn".into(),
                    json!(round((after.rss_kb as f64 - before.rss_kb as f64) / n, 2)),
                );
            }
        }
    }
    let lg = (m.m1.cpu_s - m.m0.cpu_s).max(0.0);
    r.insert("loadgen_cpu_s".into(), json!(round(lg, 3)));
    if m.window > 0.0 {
        r.insert("loadgen_cores".into(), json!(round(lg / m.window, 3)));
    }
    r.insert("loadgen_total_cpu_s".into(), json!(round(m.me_total, 3)));
    r.insert("loadgen_total_wall_s".into(), json!(round(m.total_wall, 3)));
    r.insert("nofile_limit".into(), json!(m.nofile));
    Value::Object(r)
}

/// The human line for a result.
pub fn human(r: &Value) -> String {
    let f = |k: &str| r.get(k).and_then(Value::as_f64);
    let lat = |k: &str, q: &str| r.get(k).and_then(|l| l.get(q)).and_then(Value::as_f64);
    let mut line = format!(
        "[{}] {} ({}, EIO={}, {} clients, {} ready):",
        r["label"].as_str().unwrap_or(""),
        r["case"].as_str().unwrap_or(""),
        r["transport"].as_str().unwrap_or(""),
        r["eio"],
        r["clients"],
        r["ready"],
    );
    if let Some(v) = f("msgs_per_s") {
        line += &format!(
            " {v:.0} msg/s, rtt p50 {} p99 {} us",
            lat("latency", "p50_us").unwrap_or(0.0),
            lat("latency", "p99_us").unwrap_or(0.0)
        );
    }
    if let Some(v) = f("deliveries_per_s") {
        line += &format!(
            " {v:.0} deliveries/s, {} broadcasts, to-last p50 {:.2} p99 {:.2} ms",
            r["broadcasts"],
            lat("broadcast_latency", "p50_us").unwrap_or(0.0) / 1000.0,
            lat("broadcast_latency", "p99_us").unwrap_or(0.0) / 1000.0
        );
    }
    if let Some(v) = f("conns_per_s") {
        line += &format!(
            " {v:.0} conn/s, setup p50 {} p99 {} us",
            lat("setup_latency", "p50_us").unwrap_or(0.0),
            lat("setup_latency", "p99_us").unwrap_or(0.0)
        );
    }
    if let Some(c) = f("server_cores") {
        line += &format!(" | server {c:.2} cores");
        if let Some(u) = f("srv_us_per_op") {
            line += &format!(", {u:.2} us/op");
        }
    }
    if let Some(rss) = f("server_rss_after_kb") {
        line += &format!(", RSS {:.1} MiB", rss / 1024.0);
        if let Some(k) = f("rss_total_kb_per_conn") {
            line += &format!(" ({k:.1} kB/conn");
            if let Some(a) = f("rss_added_kb_per_conn") {
                line += &format!(", +{a:.1} added");
            }
            line += ")";
        }
    }
    if let Some(c) = f("loadgen_cores") {
        line += &format!(" | loadgen {c:.2} cores");
    }
    line += &format!(" | errors {} mismatched {}", r["errors"], r["mismatched"]);
    if r["errors"].as_u64().unwrap_or(0) > 0 {
        line += &format!(" {}", r["error_kinds"]);
    }
    line
}
