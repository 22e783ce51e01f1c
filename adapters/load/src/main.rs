//! `socketio-load`: see the library documentation and `socketio-load help`.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use socketio_load::opts::{Options, USAGE};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("free-port") => match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => {
                println!("{}", addr.port());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("free-port: {e}")),
        },
        Some("wait-port") => wait_port(&args[1..]),
        Some("table") => {
            let Some(path) = args.get(1) else {
                return fail("usage: socketio-load table RESULTS.jsonl");
            };
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    print!("{}", socketio_load::table::markdown(&text));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("{path}: {e}")),
            }
        }
        Some(_) => {
            let o = match Options::parse(&args) {
                Ok(o) => o,
                Err(e) => return fail(&format!("{e}\n\n{USAGE}")),
            };
            // A `--procs` helper: report the connections, hold them until
            // the parent closes our stdin.
            let mut on_held = |ready: usize| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "held {ready}");
                let _ = out.flush();
                drop(out);
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            };
            match socketio_load::run_with(&o, &mut on_held) {
                Ok(result) => {
                    // A closed stdout (`| head -1`) is no reason to panic.
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{}", socketio_load::human(&result));
                    let line = result.to_string();
                    if let Some(path) = &o.jsonl {
                        let written = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(path)
                            .and_then(|mut f| writeln!(f, "{line}"));
                        if let Err(e) = written {
                            eprintln!("socketio-load: {path}: {e}");
                        }
                    }
                    let _ = writeln!(out, "{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("socketio-load: {message}");
    ExitCode::from(2)
}

/// `wait-port --port P [--timeout-ms MS]`: until 127.0.0.1:P accepts.
fn wait_port(args: &[String]) -> ExitCode {
    let mut port = None;
    let mut timeout = Duration::from_secs(10);
    for pair in args.chunks(2) {
        match (
            pair[0].as_str(),
            pair.get(1).and_then(|v| v.parse::<u64>().ok()),
        ) {
            ("--port", Some(p)) => port = u16::try_from(p).ok(),
            ("--timeout-ms", Some(ms)) => timeout = Duration::from_millis(ms),
            _ => return fail("usage: socketio-load wait-port --port PORT [--timeout-ms MS]"),
        }
    }
    let Some(port) = port else {
        return fail("wait-port: --port is required");
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    fail(&format!("nothing listens on {addr} after {timeout:?}"))
}
