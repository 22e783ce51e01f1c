//! A quick end-to-end check of the load generator (well under 5 s): echo,
//! ack and a small fan-out over WebSocket, and echo over long-polling,
//! against the mio driver serving the conformance application in this
//! process. The real runs are `adapters/load/run-side-by-side.sh`.

use std::time::Duration;

use socketio_apps::conformance::{self, Options as ServerOptions};
use socketio_load::opts::Options;
use socketio_mio::MioServer;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn echo_ack_fanout_and_polling_against_the_mio_driver() {
    let server_options =
        ServerOptions::parse(args("--port 0 --ping-interval 25000 --ping-timeout 20000"))
            .expect("conformance options");
    let server = MioServer::builder()
        .config(|_| server_options.config())
        .bind(("127.0.0.1", 0), conformance::app(&server_options))
        .expect("bind")
        .spawn()
        .expect("spawn");
    let port = server.local_addr().port();
    let pid = std::process::id();
    for (case, key) in [
        ("echo -c 4 -w 4 --payload 64", "msgs_per_s"),
        ("ack -c 4 -w 4 --payload 64 --eio 3", "msgs_per_s"),
        ("fanout -c 20 -w 2 --payload 64", "deliveries_per_s"),
        (
            "echo -c 2 -w 2 --payload 64 --transport polling",
            "msgs_per_s",
        ),
    ] {
        let o = Options::parse(&args(&format!(
            "{case} --port {port} --pid {pid} --warmup 0.1 --duration 0.5 --timeout-ms 3000 --label smoke"
        )))
        .expect("options");
        let r = socketio_load::run(&o).expect("run");
        println!("{}", socketio_load::human(&r));
        assert_eq!(r["errors"], 0, "{case}: {r}");
        assert_eq!(r["mismatched"], 0, "{case}: {r}");
        assert!(r[key].as_f64().unwrap_or(0.0) > 0.0, "{case}: {r}");
        // Our own process is the server here: its CPU was measured.
        assert!(r["server_cores"].as_f64().is_some(), "{case}: {r}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.shutdown().expect("shutdown");
}

/// `--procs 2 --sources 2`: a helper process (the binary, `--hold 1`) opens
/// half of the connections, every connection is bound to 127.0.0.1 or
/// 127.0.0.2, and the measuring process counts the helper's connections.
#[test]
fn idle_with_a_helper_process_and_two_source_addresses() {
    let server_options =
        ServerOptions::parse(args("--port 0 --ping-interval 25000 --ping-timeout 20000"))
            .expect("conformance options");
    let server = MioServer::builder()
        .config(|_| server_options.config())
        .bind(("127.0.0.1", 0), conformance::app(&server_options))
        .expect("bind")
        .spawn()
        .expect("spawn");
    let port = server.local_addr().port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_socketio-load"))
        .args(args(&format!(
            "idle -c 8 --procs 2 --sources 2 --settle 0.2 --duration 0.3 --timeout-ms 5000 \
             --port {port} --pid {}",
            std::process::id()
        )))
        .output()
        .expect("socketio-load runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let r: serde_json::Value = serde_json::from_str(last).expect("the JSON line");
    assert_eq!(r["ready"], 8, "{r}");
    assert_eq!(r["held_by_helpers"], 4, "{r}");
    assert_eq!(r["sources"], 2, "{r}");
    assert_eq!(r["errors"], 0, "{r}");
    assert!(r["rss_added_kb_per_conn"].as_f64().is_some(), "{r}");
    server.shutdown().expect("shutdown");
}

#[test]
fn refuses_a_host_outside_loopback() {
    let e = Options::parse(&args("echo --port 1 --host 192.168.1.1")).unwrap_err();
    assert!(e.contains("127.0.0.0/8"), "{e}");
}
