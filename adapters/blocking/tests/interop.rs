//! Interop with the official Socket.IO clients: runs the Node.js suite in
//! `tests/interop/` (socket.io-client 4.x, 2.x and 0.9, see its README.md)
//! against the `conformance` example, built in release mode.
//!
//! Needs `node` (>= 20.10) and `npm`. Without them the test is skipped with a
//! message, except under `CI` (any non-empty value), where it fails.
//! `SOCKETIO_INTEROP_TRANSPORTS` (e.g. `websocket;polling;polling,websocket`)
//! overrides the transport variants to run.

use std::env;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

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

/// Extra server arguments for a transport variant. The example's default
/// 300/200 ms heartbeats leave 50 concurrent clients (and the v3 clients, who
/// must ping in time themselves) no slack on a loaded 2-core machine, even
/// with the official server; every variant gets 1000/2000 ms (the heartbeat
/// tests scale their windows with the advertised interval).
fn server_args(transports: &str) -> &'static [&'static str] {
    let _ = transports;
    &["--ping-interval", "1000", "--ping-timeout", "2000"]
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn in_ci() -> bool {
    env::var_os("CI").is_some_and(|v| !v.is_empty())
}

fn npm_program() -> &'static str {
    if cfg!(windows) {
        "npm.cmd"
    } else {
        "npm"
    }
}

/// Whether `program --version` runs successfully.
fn tool_available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn output_text(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `npm ci` unless `node_modules` is at least as new as `package-lock.json`
/// (npm writes `node_modules/.package-lock.json` on every install).
fn ensure_node_modules(dir: &Path) {
    let modified = |p: PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(dir.join("package-lock.json"))
        .expect("tests/interop/package-lock.json is missing");
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    if installed.is_some_and(|t| t >= lock) {
        return;
    }
    eprintln!("interop: running `npm ci` in {}", dir.display());
    let out = Command::new(npm_program())
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run npm");
    assert!(
        out.status.success(),
        "`npm ci` failed ({})\n{}",
        out.status,
        output_text(&out)
    );
}

/// Builds the conformance example (release) and returns its path.
fn build_conformance() -> PathBuf {
    let root = workspace_root();
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "socketio-blocking",
            "--example",
            "conformance",
        ])
        .current_dir(&root)
        .stdin(Stdio::null())
        .status()
        .expect("cannot run cargo");
    assert!(
        status.success(),
        "building the conformance example failed ({status})"
    );
    let target = match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir), // an absolute CARGO_TARGET_DIR replaces root
        None => root.join("target"),
    };
    let exe = target
        .join("release/examples/conformance")
        .with_extension(env::consts::EXE_EXTENSION);
    assert!(
        exe.is_file(),
        "conformance binary not found at {}",
        exe.display()
    );
    exe
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("cannot pick a free port")
        .port()
}

/// The running conformance server; stopped (SIGTERM, then kill) on drop.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(exe: &Path, port: u16, extra: &[&str]) -> Server {
        let log = env::temp_dir().join(format!(
            "socketio-interop-{}-{port}.log",
            std::process::id()
        ));
        let log_file = fs::File::create(&log).expect("cannot create the server log file");
        let child = Command::new(exe)
            .args(["--port", &port.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .expect("cannot clone the log file handle"),
            )
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = Server { child, log };
        server.wait_accepting(port);
        server
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_accepting(&mut self, port: u16) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the conformance server exited early ({status})\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "the conformance server does not accept on {addr}\n{}",
                    self.log_text()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits up to 5 s; returns whether it stopped by itself.
    fn stop(&mut self) -> bool {
        if let Ok(Some(_)) = self.child.try_wait() {
            return true;
        }
        if cfg!(unix) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return true;
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_file(&self.log);
    }
}

#[test]
fn official_clients_interop() {
    let have_node = tool_available("node");
    let have_npm = tool_available(npm_program());
    if !(have_node && have_npm) {
        let msg = format!(
            "interop: node and npm are needed (node found: {have_node}, npm found: {have_npm})"
        );
        if in_ci() {
            panic!("{msg}; CI is set, so this is a failure");
        }
        eprintln!("{msg}; SKIPPING the official-client interop test");
        return;
    }

    let dir = interop_dir();
    ensure_node_modules(&dir);
    let exe = build_conformance();

    let transports: Vec<String> = match env::var("SOCKETIO_INTEROP_TRANSPORTS") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(';').map(|s| s.trim().to_string()).collect()
        }
        _ => TRANSPORTS.iter().map(|s| s.to_string()).collect(),
    };

    for transport in &transports {
        let port = free_port();
        let mut server = Server::start(&exe, port, server_args(transport));
        let url = format!("http://127.0.0.1:{port}");
        eprintln!("interop: TRANSPORTS={transport} SERVER_URL={url}");
        let out = Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .args(TEST_FILES)
            .current_dir(&dir)
            .env("SERVER_URL", &url)
            .env("TRANSPORTS", transport)
            .stdin(Stdio::null())
            .output()
            .expect("cannot run node");
        let server_log = server.log_text();
        let stopped = server.stop();
        assert!(
            out.status.success(),
            "interop suite failed with TRANSPORTS={transport} ({})\n{}\n--- server log ---\n{server_log}",
            out.status,
            output_text(&out)
        );
        // The runner's closing counts ("# tests N", "# pass N", ...).
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary: Vec<&str> = stdout
            .lines()
            .filter(|l| {
                ["# tests", "# pass", "# fail", "# skipped"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        eprintln!("interop: TRANSPORTS={transport}: {}", summary.join(", "));
        assert!(
            stopped,
            "the conformance server did not stop within 5 s of SIGTERM\n{server_log}"
        );
    }
}
