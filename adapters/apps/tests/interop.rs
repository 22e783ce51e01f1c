//! Interop with the official Socket.IO clients: runs the Node.js suite in
//! `tests/interop/` (socket.io-client 4.x, 2.x and 0.9, see its README.md)
//! against the conformance server of each driver (built in release mode:
//! `socketio-blocking --example conformance`, `socketio-mio --example
//! mio_conformance`), one `#[test]` per driver, once per transport variant.
//!
//! Needs `node` (>= 20.10) and `npm`. Without them the tests are skipped
//! with a message, except under `CI` (any non-empty value), where they
//! fail. `SOCKETIO_INTEROP_TRANSPORTS` (e.g.
//! `websocket;polling;polling,websocket`) overrides the transport variants.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{Driver, ServerProcess};

/// Transport variants to run (the suite's `TRANSPORTS`), one server and one
/// suite run each: WebSocket only, long-polling only, and the clients'
/// default (polling, then the upgrade to WebSocket).
const TRANSPORTS: &[&str] = &["websocket", "polling", "polling,websocket"];

/// The suite's test files (as in `tests/interop/package.json`).
/// `legacy.test.js` drives the 0.9 client (websocket for `websocket`,
/// xhr-polling for `polling`, the 0.9 client's default, websocket, for
/// `polling,websocket`); `mixed.test.js` puts 0.9, 2.x and 4.x clients in
/// one room.
const TEST_FILES: &[&str] = &[
    "interop.test.js",
    "http.test.js",
    "legacy.test.js",
    "mixed.test.js",
];

/// The example's default 300/200 ms heartbeats leave 50 concurrent clients
/// (and the v3 clients, who must ping in time themselves) no slack on a
/// loaded 2-core machine, even with the official server: 1000/2000 ms (the
/// heartbeat tests scale their windows with the advertised interval).
const SERVER_ARGS: &[&str] = &["--ping-interval", "1000", "--ping-timeout", "2000"];

/// Time limit for one run of the suite (one transport variant).
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);

fn node_suite(driver: Driver) {
    let _one_at_a_time = support::exclusive();
    let suite = format!("interop ({})", driver.name());
    if let Some(why) = support::missing_node() {
        return support::skip(&suite, &why);
    }
    let started = Instant::now();
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let exe = driver.conformance_binary();
    for transport in support::transports("SOCKETIO_INTEROP_TRANSPORTS", TRANSPORTS) {
        let mut server = ServerProcess::start(&exe, SERVER_ARGS);
        let url = server.url();
        eprintln!("{suite}: TRANSPORTS={transport} SERVER_URL={url}");
        let mut node = Command::new("node");
        node.args(["--test", "--test-concurrency=1"])
            .args(TEST_FILES)
            .current_dir(&dir)
            .env("SERVER_URL", &url)
            .env("TRANSPORTS", &transport);
        let run = support::run_suite(node, SUITE_TIMEOUT);
        let server_log = server.log_text();
        let stopped = server.stop();
        assert!(
            run.passed(),
            "{suite} failed with TRANSPORTS={transport} ({})\n--- stdout ---\n{}\n\
             --- stderr ---\n{}\n--- server log ---\n{server_log}",
            run.outcome(SUITE_TIMEOUT),
            run.stdout,
            run.stderr,
        );
        // The runner's closing counts ("# tests N", "# pass N", ...).
        let summary: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| {
                ["# tests", "# pass", "# fail", "# skipped"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        eprintln!(
            "{suite}: TRANSPORTS={transport}: {} in {:.1} s",
            summary.join(", "),
            run.elapsed.as_secs_f64()
        );
        assert!(
            stopped,
            "the {} conformance server did not stop within 5 s of SIGTERM\n{server_log}",
            driver.name()
        );
    }
    eprintln!("{suite}: done in {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn node_suite_blocking() {
    node_suite(Driver::Blocking);
}

#[test]
fn node_suite_mio() {
    node_suite(Driver::Mio);
}
