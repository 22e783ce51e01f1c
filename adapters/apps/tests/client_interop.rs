//! Interop of our blocking client (`socketio-client`) with servers nobody
//! here wrote, and with our own: runs the `client_conformance` example
//! (built in release) against each server implementing the server
//! conformance contract, once per transport mode (WebSocket, polling,
//! polling then upgrade), and asserts it passes every check:
//!
//! * the official Node.js `socket.io` 4.x server
//!   (`tests/interop/reference-server.js`, lock file there);
//! * the official `socket.io` 2.x server with `--eio 3`
//!   (`tests/client-interop/socketio2/server2.js`, its own lock file);
//! * python-socketio 5.x's server (`tests/python/server.py`, in the
//!   virtualenv of the Python suite, pins in `tests/python/requirements.txt`);
//! * our `socketio-blocking` and `socketio-mio` conformance servers;
//! * the MessagePack parser: the Node 4.x server with
//!   `socket.io-msgpack-parser` and our blocking server, both with
//!   `--parser msgpack` (the client with `--parser msgpack`);
//! * TLS: the Node 4.x server over HTTPS with a private CA and a server
//!   certificate the test generates with the `openssl` CLI; the client runs
//!   with `--url https://...` (polling, then the upgrade to `wss://`) and
//!   `--url wss://...` (WebSocket only), trusting the CA with `--ca-file`.
//!
//! Connection state recovery: the `client_recovery` example (cut,
//! broadcasts missed meanwhile, recovered with the same id, twice in a row)
//! over WebSocket and polling against the Node 4.x server started with
//! `--recovery 30000` (socket.io's `connectionStateRecovery`,
//! `skipMiddlewares`) and against our drivers' `--recovery`.
//!
//! One server process at a time (1000/2000 ms heartbeats), one client
//! process per server and mode. Missing `node`/`npm`, `python3` or
//! `openssl`: skipped with a message, a failure under `CI`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Driver, ServerProcess};

/// The transport modes (`--transports`).
const MODES: &[&str] = &["websocket", "polling", "polling,websocket"];

/// Heartbeats every second (the idle check waits three of them, 3 s) with
/// a ping timeout loose enough for a heavily loaded 2-core machine: at 2 s a
/// python-socketio server under a load average of 30 once missed a ping
/// and the client rightly reconnected.
const SERVER_ARGS: &[&str] = &["--ping-interval", "1000", "--ping-timeout", "5000"];

/// Time limit for one client_conformance run (about 6 s each).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

fn client_binary() -> PathBuf {
    support::build_example("socketio-client", "client_conformance", true)
}

/// Runs client_conformance with `args` against `server`; panics with its
/// output and the server log unless every check passed.
fn run_client(suite: &str, server: &ServerProcess, args: &[&str]) {
    let exe = client_binary();
    let mut command = Command::new(&exe);
    command.args(args);
    let run = support::run_suite(command, RUN_TIMEOUT);
    let summary = run.stdout.lines().last().unwrap_or_default().to_owned();
    assert!(
        run.passed(),
        "{suite}: client_conformance {args:?} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}\n\
         --- server log ---\n{}",
        run.outcome(RUN_TIMEOUT),
        run.stdout,
        run.stderr,
        server.log_text()
    );
    eprintln!(
        "{suite}: {args:?}: {summary} in {:.1} s",
        run.elapsed.as_secs_f64()
    );
}

/// Every mode against one server process per mode, started by `start`.
fn matrix(suite: &str, eio: &str, start: impl Fn() -> ServerProcess) {
    matrix_with(suite, &["--eio", eio], start)
}

/// [`matrix`] with other client arguments (`--eio`, `--parser`).
fn matrix_with(suite: &str, client_args: &[&str], start: impl Fn() -> ServerProcess) {
    let started = Instant::now();
    for mode in MODES {
        let mut server = start();
        let url = server.url();
        let mut args = vec!["--url", &url, "--transports", mode];
        args.extend_from_slice(client_args);
        run_client(suite, &server, &args);
        let log = server.log_text();
        assert!(
            server.stop(),
            "{suite}: the server did not stop on SIGTERM\n{log}"
        );
    }
    eprintln!("{suite}: done in {:.1} s", started.elapsed().as_secs_f64());
}

fn node() -> PathBuf {
    PathBuf::from("node")
}

#[test]
fn node_socketio_4() {
    let _one_at_a_time = support::exclusive();
    let suite = "client interop (node socket.io 4.x)";
    if let Some(why) = support::missing_node() {
        return support::skip(suite, &why);
    }
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let script = dir.join("reference-server.js");
    let script = script.to_str().expect("a UTF-8 path");
    matrix(suite, "4", || {
        ServerProcess::start_with(&node(), &[script], SERVER_ARGS)
    });
}

/// The server's arguments with the MessagePack parser.
const MSGPACK_SERVER_ARGS: &[&str] = &[
    "--ping-interval",
    "1000",
    "--ping-timeout",
    "5000",
    "--parser",
    "msgpack",
];

/// Our client with the MessagePack parser against the official 4.x server
/// with `socket.io-msgpack-parser` (`reference-server.js --parser msgpack`).
#[test]
fn node_socketio_4_msgpack() {
    let _one_at_a_time = support::exclusive();
    let suite = "client interop (node socket.io 4.x, msgpack)";
    if let Some(why) = support::missing_node() {
        return support::skip(suite, &why);
    }
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let script = dir.join("reference-server.js");
    let script = script.to_str().expect("a UTF-8 path");
    matrix_with(suite, &["--parser", "msgpack"], || {
        ServerProcess::start_with(&node(), &[script], MSGPACK_SERVER_ARGS)
    });
}

/// The client_recovery example (built in release).
fn recovery_binary() -> PathBuf {
    support::build_example("socketio-client", "client_recovery", true)
}

/// Connection state recovery of our client against `start`'s server
/// (started with recovery on): WebSocket and polling, two cuts in a row
/// each. A cut polling client leaves its request connections open, so the
/// server notices at its ping timeout (1 + 2 s): the client waits 7 s
/// before it comes back (4 s were too few for a server on a machine under
/// heavy load, which then still had the old session and could not restore
/// it).
fn recovery_matrix(suite: &str, start: impl Fn() -> ServerProcess) {
    for (mode, delay) in [("websocket", "1000"), ("polling", "7000")] {
        let mut server = start();
        let url = server.url();
        let mut command = Command::new(recovery_binary());
        command.args(["--url", &url, "--transports", mode, "--rounds", "2"]);
        command.args(["--reconnect-delay", delay]);
        let run = support::run_suite(command, RUN_TIMEOUT);
        let log = server.log_text();
        assert!(
            run.passed(),
            "{suite}: client_recovery over {mode} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}\n\
             --- server log ---\n{log}",
            run.outcome(RUN_TIMEOUT),
            run.stdout,
            run.stderr,
        );
        eprintln!(
            "{suite}: {mode}: {} in {:.1} s",
            run.stdout.lines().last().unwrap_or_default(),
            run.elapsed.as_secs_f64()
        );
        assert!(
            server.stop(),
            "{suite}: the server did not stop on SIGTERM\n{log}"
        );
    }
}

/// Heartbeats every second with a 2 s ping timeout (the polling case
/// waits for the server to notice the cut), recovery on for 30 s.
const RECOVERY_ARGS: &[&str] = &[
    "--ping-interval",
    "1000",
    "--ping-timeout",
    "2000",
    "--recovery",
    "30000",
];

/// Our client recovers against the Node `socket.io` 4.x server with
/// `connectionStateRecovery` on (`reference-server.js --recovery`): the
/// transport cut from the client side is a transport close for Node, which
/// keeps the session; the missed broadcasts come back once, in order, with
/// the same socket id.
#[test]
fn node_socketio_4_recovery() {
    let _one_at_a_time = support::exclusive();
    let suite = "client recovery (node socket.io 4.x)";
    if let Some(why) = support::missing_node() {
        return support::skip(suite, &why);
    }
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let script = dir.join("reference-server.js");
    let script = script.to_str().expect("a UTF-8 path");
    recovery_matrix(suite, || {
        ServerProcess::start_with(&node(), &[script], RECOVERY_ARGS)
    });
}

/// The same checks against our conformance servers (`--recovery`).
#[test]
fn our_drivers_recovery() {
    let _one_at_a_time = support::exclusive();
    for driver in [Driver::Blocking, Driver::Mio] {
        let suite = format!("client recovery ({} driver)", driver.name());
        let exe = driver.conformance_binary();
        recovery_matrix(&suite, || ServerProcess::start(&exe, RECOVERY_ARGS));
    }
}

#[test]
fn node_socketio_2() {
    let _one_at_a_time = support::exclusive();
    let suite = "client interop (node socket.io 2.x)";
    if let Some(why) = support::missing_node() {
        return support::skip(suite, &why);
    }
    let dir = support::suite_dir("client-interop/socketio2");
    support::npm_ci_if_needed(&dir);
    let script = dir.join("server2.js");
    let script = script.to_str().expect("a UTF-8 path");
    matrix(suite, "3", || {
        ServerProcess::start_with(&node(), &[script], SERVER_ARGS)
    });
}

#[test]
fn python_socketio_5() {
    let _one_at_a_time = support::exclusive();
    let suite = "client interop (python-socketio 5.x)";
    let Some(version) = support::python_version() else {
        let why = format!(
            "`{}` with the venv and ensurepip modules is needed",
            support::python_program()
        );
        return support::skip(suite, &why);
    };
    let dir = support::suite_dir("python");
    let python = support::ensure_venv(&version, &dir.join("requirements.txt"));
    let script = dir.join("server.py");
    let script = script.to_str().expect("a UTF-8 path");
    matrix(suite, "4", || {
        ServerProcess::start_with(&python, &["-B", script], SERVER_ARGS)
    });
}

fn our_driver(driver: Driver) {
    let _one_at_a_time = support::exclusive();
    let suite = format!("client interop ({} driver)", driver.name());
    let exe = driver.conformance_binary();
    matrix(&suite, "4", || ServerProcess::start(&exe, SERVER_ARGS));
    // Socket.IO 2.x clients (Engine.IO v3) on the same servers, WebSocket
    // and the upgrade (polling is covered by the Node 2.x server above).
    let mut server = ServerProcess::start(&exe, SERVER_ARGS);
    let url = server.url();
    run_client(&suite, &server, &["--url", &url, "--eio", "3"]);
    server.stop();
}

#[test]
fn blocking_driver() {
    our_driver(Driver::Blocking);
}

#[test]
fn mio_driver() {
    our_driver(Driver::Mio);
}

/// Our client and our blocking server, both with `--parser msgpack`.
#[test]
fn blocking_driver_msgpack() {
    let _one_at_a_time = support::exclusive();
    let suite = "client interop (blocking driver, msgpack)";
    let exe = Driver::Blocking.conformance_binary();
    matrix_with(suite, &["--parser", "msgpack"], || {
        ServerProcess::start(&exe, MSGPACK_SERVER_ARGS)
    });
}

/// A private CA and a server certificate for 127.0.0.1/localhost signed
/// by it, in `dir`: (ca.pem, server.pem, server.key).
fn make_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("cannot run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?} failed\n{}",
            support::output_text(&out)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=socketio-sansio test CA",
    ]);
    openssl(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&csr);
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("cannot write server.ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[test]
fn tls_node_socketio_4() {
    let _one_at_a_time = support::exclusive();
    let suite = "client interop (TLS, node socket.io 4.x over HTTPS)";
    if let Some(why) = support::missing_node() {
        return support::skip(suite, &why);
    }
    let openssl = Command::new("openssl")
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !openssl {
        return support::skip(
            suite,
            "the openssl CLI is needed to make the test certificates",
        );
    }
    let dir = support::suite_dir("interop");
    support::npm_ci_if_needed(&dir);
    let certs = support::target_dir().join(format!("client-interop-tls-{}", std::process::id()));
    fs::create_dir_all(&certs).expect("cannot create the certificate directory");
    let (ca, cert, key) = make_certificates(&certs);
    let script = dir.join("reference-server.js");
    let strs = |p: &Path| p.to_str().expect("a UTF-8 path").to_owned();
    let (script, ca, cert, key) = (strs(&script), strs(&ca), strs(&cert), strs(&key));
    let mut args = vec!["--tls-cert", &cert, "--tls-key", &key];
    args.extend(SERVER_ARGS);
    for (scheme, mode) in [("https", "polling,websocket"), ("wss", "websocket")] {
        let mut server = ServerProcess::start_with(&node(), &[&script], &args);
        let url = format!("{scheme}://127.0.0.1:{}", server.port);
        run_client(
            suite,
            &server,
            &["--url", &url, "--transports", mode, "--ca-file", &ca],
        );
        server.stop();
    }
    // Without the CA the client must refuse the server.
    let mut server = ServerProcess::start_with(&node(), &[&script], &args);
    let url = format!("https://127.0.0.1:{}", server.port);
    let mut command = Command::new(client_binary());
    command.args(["--url", &url, "--transports", "websocket"]);
    let run = support::run_suite(command, RUN_TIMEOUT);
    server.stop();
    assert!(
        !run.passed() && run.stdout.contains("FAIL connect"),
        "{suite}: an untrusted certificate was accepted\n{}",
        run.stdout
    );
    let _ = fs::remove_dir_all(&certs);
}
