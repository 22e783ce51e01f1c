//! Against a real `redis-server` (started here on a free loopback port,
//! stopped after; skipped with a message when the binary is missing):
//! two application nodes, each on its own loop thread, join through
//! Redis; server-side emit with acks crosses, the node count follows
//! `PUBSUB NUMSUB`, a node that leaves is dropped from the count, and a
//! Redis restart is survived (reconnect, resubscribe).

use std::net::TcpListener;
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use socketio_redis::{RedisCluster, RedisOptions};
use socketio_sansio::app::{
    App, AppServer, Command, CommandSink, Namespace, Remote, ServerSideAcks,
};
use socketio_sansio::{Config, SeededRandom};

struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start_on(port: u16) -> Option<Redis> {
        let child = Process::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(20));
        }
        Some(Redis { child, port })
    }

    fn start() -> Option<Redis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        Redis::start_on(port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Sink(mpsc::Sender<Command<()>>, thread::ThreadId);

impl CommandSink<()> for Sink {
    fn send(&self, command: Command<()>) -> bool {
        self.0.send(command).is_ok()
    }
    fn on_loop_thread(&self) -> bool {
        thread::current().id() == self.1
    }
}

/// An application on its own loop thread (what a driver does, minus the
/// sockets).
fn node(name: &'static str, seed: u64) -> Remote<()> {
    let (tx, rx) = mpsc::channel::<Command<()>>();
    let (remote_tx, remote_rx) = mpsc::channel();
    thread::spawn(move || {
        let app: App =
            App::new()
                .ns("/", Namespace::new())
                .on_server_side_emit("hello", move |io, _, ack| {
                    if let Some(ack) = ack {
                        ack.send(io, name);
                    }
                });
        let mut io =
            AppServer::with_random(Config::builder(), app, Box::new(SeededRandom::new(seed)))
                .unwrap();
        let remote = Remote::new(Arc::new(Sink(tx, thread::current().id())));
        io.set_remote(remote.clone());
        remote_tx.send(remote).unwrap();
        loop {
            let now = Instant::now();
            let wait = io.poll_timeout().map_or(Duration::from_millis(50), |t| {
                t.saturating_duration_since(now)
            });
            match rx.recv_timeout(wait.min(Duration::from_millis(50))) {
                Ok(Command::Shutdown) => return,
                Ok(command) => io.apply(Instant::now(), command),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            if io.poll_timeout().is_some_and(|t| t <= now) {
                io.handle_timeout(now);
            }
        }
    });
    remote_rx.recv().unwrap()
}

fn server_count(remote: &Remote<()>) -> usize {
    let (tx, rx) = mpsc::channel();
    remote.run(move |io| {
        let _ = tx.send(io.server_count());
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap()
}

fn wait_for_count(remote: &Remote<()>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while server_count(remote) != count {
        assert!(
            Instant::now() < deadline,
            "node count never reached {count}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn hello(remote: &Remote<()>) -> ServerSideAcks {
    let (tx, rx) = mpsc::channel();
    remote.run(move |io| {
        io.server_side_emit_with_ack("hello", (), Duration::from_secs(2), move |_, acks| {
            let _ = tx.send(acks);
        })
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap()
}

fn options() -> RedisOptions {
    RedisOptions {
        node_count_interval: Duration::from_millis(200),
        backoff_max: Duration::from_millis(500),
        ..RedisOptions::default()
    }
}

#[test]
fn two_nodes_through_redis_and_a_node_leaving() {
    let Some(redis) = Redis::start() else {
        eprintln!("redis-server not found: skipped (.ci/run installs it)");
        return;
    };
    let (a, b) = (node("alpha", 1), node("beta", 2));
    let _ca = RedisCluster::attach(&redis.url(), options(), &a).unwrap();
    let cb = RedisCluster::attach(&redis.url(), options(), &b).unwrap();
    wait_for_count(&a, 2);
    wait_for_count(&b, 2);
    let acks = hello(&a);
    assert_eq!((acks.responses, acks.complete), (vec!["beta".into()], true));
    let acks = hello(&b);
    assert_eq!(
        (acks.responses, acks.complete),
        (vec!["alpha".into()], true)
    );
    // b leaves: its subscriptions go, the count drops, requests stop
    // waiting for it.
    cb.stop();
    wait_for_count(&a, 1);
    let acks = hello(&a);
    assert_eq!((acks.responses.len(), acks.complete), (0, true));
}

#[test]
fn a_redis_restart_is_survived() {
    let Some(mut redis) = Redis::start() else {
        eprintln!("redis-server not found: skipped (.ci/run installs it)");
        return;
    };
    let (a, b) = (node("alpha", 3), node("beta", 4));
    let _ca = RedisCluster::attach(&redis.url(), options(), &a).unwrap();
    let _cb = RedisCluster::attach(&redis.url(), options(), &b).unwrap();
    wait_for_count(&a, 2);
    redis.stop();
    // While Redis is away the request completes at its timeout, incomplete.
    let acks = hello(&a);
    assert!(!acks.complete);
    let port = redis.port;
    let _redis = Redis::start_on(port).unwrap();
    // Both nodes reconnect and subscribe again.
    wait_for_count(&a, 2);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let acks = hello(&a);
        if acks.complete && acks.responses == vec![serde_json::Value::from("beta")] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer after the restart: {acks:?}"
        );
    }
}
