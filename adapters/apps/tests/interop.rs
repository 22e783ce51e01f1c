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

use support::{Driver, PerTransport, SuiteRun};

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
    let per_transport = PerTransport {
        suite: &suite,
        driver,
        server_args: SERVER_ARGS,
        transports: support::transports("SOCKETIO_INTEROP_TRANSPORTS", TRANSPORTS),
        limit: SUITE_TIMEOUT,
    };
    let command = |url: &str, transport: &str| {
        let mut node = Command::new("node");
        node.args(["--test", "--test-concurrency=1"])
            .args(TEST_FILES)
            .current_dir(&dir)
            .env("SERVER_URL", url)
            .env("TRANSPORTS", transport);
        node
    };
    // The runner's closing counts ("# tests N", "# pass N", ...).
    let summary = |run: &SuiteRun| {
        run.stdout
            .lines()
            .filter(|l| {
                ["# tests", "# pass", "# fail", "# skipped"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .map(str::to_owned)
            .collect()
    };
    per_transport.run(command, summary);
    eprintln!("{suite}: done in {:.1} s", started.elapsed().as_secs_f64());
}

/// The server's arguments for `recovery.test.js`: the suite's, with
/// connection state recovery on (60 s).
const RECOVERY_SERVER_ARGS: &[&str] = &[
    "--ping-interval",
    "1000",
    "--ping-timeout",
    "2000",
    "--recovery",
    "60000",
];

/// Connection state recovery with socket.io-client 4.x
/// (`recovery.test.js`), WebSocket and polling, against a server started
/// with `--recovery`.
fn recovery_suite(driver: Driver) {
    let _one_at_a_time = support::exclusive();
    let suite = format!("interop recovery ({})", driver.name());
    if let Some(why) = support::missing_node() {
        return support::skip(&suite, &why);
    }
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let per_transport = PerTransport {
        suite: &suite,
        driver,
        server_args: RECOVERY_SERVER_ARGS,
        transports: support::transports(
            "SOCKETIO_INTEROP_TRANSPORTS",
            &["websocket", "polling", "polling,websocket"],
        ),
        limit: SUITE_TIMEOUT,
    };
    let command = |url: &str, transport: &str| {
        let mut node = Command::new("node");
        node.args(["--test", "--test-concurrency=1", "recovery.test.js"])
            .current_dir(&dir)
            .env("SERVER_URL", url)
            .env("TRANSPORTS", transport);
        node
    };
    let summary = |run: &SuiteRun| {
        run.stdout
            .lines()
            .filter(|l| l.starts_with("# pass") || l.starts_with("# fail"))
            .map(str::to_owned)
            .collect()
    };
    per_transport.run(command, summary);
}

/// The server's arguments for `msgpack.test.js`: the suite's, with the
/// MessagePack parser.
const MSGPACK_SERVER_ARGS: &[&str] = &[
    "--ping-interval",
    "1000",
    "--ping-timeout",
    "2000",
    "--parser",
    "msgpack",
];

/// socket.io-client 4.x with `socket.io-msgpack-parser` (`msgpack.test.js`:
/// JSON kinds, binary and acks both ways, namespaces, connect_error) against
/// a server started with `--parser msgpack`, over each transport variant.
fn msgpack_suite(driver: Driver) {
    let _one_at_a_time = support::exclusive();
    let suite = format!("interop msgpack ({})", driver.name());
    if let Some(why) = support::missing_node() {
        return support::skip(&suite, &why);
    }
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let per_transport = PerTransport {
        suite: &suite,
        driver,
        server_args: MSGPACK_SERVER_ARGS,
        transports: support::transports("SOCKETIO_INTEROP_TRANSPORTS", TRANSPORTS),
        limit: SUITE_TIMEOUT,
    };
    let command = |url: &str, transport: &str| {
        let mut node = Command::new("node");
        node.args(["--test", "--test-concurrency=1", "msgpack.test.js"])
            .current_dir(&dir)
            .env("SERVER_URL", url)
            .env("TRANSPORTS", transport);
        node
    };
    let summary = |run: &SuiteRun| {
        run.stdout
            .lines()
            .filter(|l| l.starts_with("# pass") || l.starts_with("# fail"))
            .map(str::to_owned)
            .collect()
    };
    per_transport.run(command, summary);
}

#[test]
fn msgpack_blocking() {
    msgpack_suite(Driver::Blocking);
}

#[test]
fn msgpack_mio() {
    msgpack_suite(Driver::Mio);
}

#[test]
fn recovery_blocking() {
    recovery_suite(Driver::Blocking);
}

#[test]
fn recovery_mio() {
    recovery_suite(Driver::Mio);
}

#[test]
fn node_suite_blocking() {
    node_suite(Driver::Blocking);
}

#[test]
fn node_suite_mio() {
    node_suite(Driver::Mio);
}
