//! Cluster interop through a real Redis: a `redis-server` on a free
//! loopback port (no persistence), our blocking node (`conformance --redis
//! URL --node-name blocking`), our mio node (`mio_conformance ... --node-name
//! mio`) and a Node.js node (`tests/cluster/cluster-server.js`: `socket.io`
//! 4.x with `@socket.io/redis-adapter` 8.x) in one cluster; the Node.js
//! suite `tests/cluster/cluster.test.js` (socket.io-client 4.x on every
//! node, `@socket.io/redis-emitter`) runs in three phases:
//!
//! 1. `full`: broadcasts, room broadcasts and disconnect-in-room from every
//!    node to every node (binary included), fetch-sockets, server-side emit
//!    with acks and broadcast with acks gathering every node, the emitter;
//! 2. `restarted`: after redis-server is stopped and started again on the
//!    same port, broadcasts and requests cross again (reconnection and
//!    resubscription of every node);
//! 3. `stopped`: after the mio node stopped, server-side emit and
//!    fetch-sockets from the other two complete promptly without it.
//!
//! Needs `redis-server`, `node` (>= 20.10) and `npm`: skipped with a
//! message without them, except under `CI`, where that fails.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::{Driver, ServerProcess};

/// Heartbeats with slack for a loaded 2-core machine (as the interop suite).
const PING: &[&str] = &["--ping-interval", "1000", "--ping-timeout", "2000"];

/// Time limit of one phase of the suite.
const PHASE_LIMIT: Duration = Duration::from_secs(120);

/// A redis-server without persistence on a loopback port.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start_on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("cannot start redis-server");
        let mut redis = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = redis.child.try_wait() {
                panic!("redis-server exited ({status})");
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        support::terminate(&mut self.child);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs one phase of the suite against `nodes` (name, server); fails with
/// the suite's output and every server's log.
fn phase(dir: &Path, phase: &str, redis: &Redis, nodes: &[(&str, &ServerProcess)]) {
    let list: Vec<String> = nodes
        .iter()
        .map(|(name, server)| format!("{name}={}", server.url()))
        .collect();
    let mut node = Command::new("node");
    node.args(["--test", "--test-concurrency=1", "cluster.test.js"])
        .current_dir(dir)
        .env("NODES", list.join(","))
        .env("REDIS_URL", redis.url())
        .env("PHASE", phase);
    let run = support::run_suite(node, PHASE_LIMIT);
    let logs: String = nodes
        .iter()
        .map(|(name, server)| format!("--- {name} ---\n{}\n", server.log_text()))
        .collect();
    run.assert_passed(
        &format!("cluster: phase {phase} failed"),
        PHASE_LIMIT,
        &logs,
    );
    let counts: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("# pass") || l.starts_with("# fail"))
        .collect();
    eprintln!(
        "cluster: phase {phase} ({}): {} in {:.1} s",
        list.join(", "),
        counts.join(", "),
        run.elapsed.as_secs_f64()
    );
}

#[test]
fn blocking_mio_and_node_in_one_redis_cluster() {
    let _one_at_a_time = support::exclusive();
    let suite = "cluster";
    if let Some(why) = support::missing_node() {
        return support::skip(suite, &why);
    }
    if !support::tool_available("redis-server") {
        return support::skip(suite, "redis-server is needed");
    }
    let started = Instant::now();
    let dir = support::suite_dir("cluster");
    support::npm_ci_if_needed(&dir);
    let blocking_exe = Driver::Blocking.conformance_binary();
    let mio_exe = Driver::Mio.conformance_binary();

    let mut redis = Redis::start_on(socketio_apps::testing::free_port());
    let url = redis.url();
    let args = |name: &'static str| -> Vec<&str> {
        let mut args = PING.to_vec();
        args.extend(["--redis", url.as_str(), "--node-name", name]);
        args
    };
    let mut blocking = ServerProcess::start(&blocking_exe, &args("blocking"));
    let mut mio = ServerProcess::start(&mio_exe, &args("mio"));
    let script = dir.join("cluster-server.js");
    let script = script.to_str().expect("a UTF-8 path");
    let mut nodejs = ServerProcess::start_with(Path::new("node"), &[script], &args("node"));

    let all = [("blocking", &blocking), ("mio", &mio), ("node", &nodejs)];
    phase(&dir, "full", &redis, &all);

    // Redis goes away and comes back on the same port.
    let port = redis.port;
    redis.stop();
    thread::sleep(Duration::from_millis(500));
    redis = Redis::start_on(port);
    phase(&dir, "restarted", &redis, &all);

    // One of ours stops: its subscriptions end with its connections, and
    // the others' node counts (PUBSUB NUMSUB, asked every second by ours,
    // per request by Node's adapter) drop it.
    assert!(
        mio.stop(),
        "the mio node did not stop within 5 s of SIGTERM"
    );
    // Two polls and a half of ours, with slack for a loaded machine.
    thread::sleep(Duration::from_millis(2500));
    phase(
        &dir,
        "stopped",
        &redis,
        &[("blocking", &blocking), ("node", &nodejs)],
    );

    let blocking_log = blocking.log_text();
    assert!(
        blocking.stop(),
        "the blocking node did not stop within 5 s of SIGTERM\n{blocking_log}"
    );
    nodejs.stop();
    eprintln!("cluster: done in {:.1} s", started.elapsed().as_secs_f64());
}
