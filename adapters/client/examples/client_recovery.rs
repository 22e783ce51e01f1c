//! Connection state recovery checks of our client, against any server of
//! the conformance contract started with connection state recovery on (our
//! conformance servers' `--recovery MS`, or the Node reference server's):
//!
//! `cargo run --release -p socketio-client --example client_recovery -- --url URL [--transports websocket | polling | polling,websocket] [--rounds N] [--reconnect-delay MS]`
//!
//! A client joins a room and receives events (each with its offset); then,
//! `--rounds` times (2 by default): its transport is cut from the client
//! side ([`Client::simulate_network_cut`]: the TCP connection drops, no close
//! packet, so the server keeps the session), a second client makes the
//! server broadcast to the room, to another room and to everyone while it
//! is away, and the first client reconnects by itself. Each round checks
//! that the client was recovered (`recovered`, the same socket id) and got
//! exactly the missed events for it, once and in order. Prints `PASS` /
//! `FAIL` lines and `N passed, N failed`; exits with 0 only when all pass.
//!
//! Over WebSocket the server sees the cut at once (the TCP connection
//! closes). A cut polling client abandons its requests but their
//! connections stay open, so the server only notices at its ping timeout:
//! give `--reconnect-delay` more than the server's ping interval plus ping
//! timeout, or the client comes back before the server kept the session
//! (then nothing is recovered, as with socket.io-client).

use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_client::{connect, Client, ClientOptions, Handlers, Transports};

const USAGE: &str = "usage: client_recovery --url URL [--transports websocket | polling | polling,websocket] [--rounds N] [--reconnect-delay MS]";
const LIMIT: Duration = Duration::from_secs(10);
/// The default reconnection delay: long enough for the helper's
/// broadcasts to happen while the client is away (they take a few
/// milliseconds on loopback).
const RECONNECT_DELAY: Duration = Duration::from_millis(1000);

struct Cli {
    url: String,
    transports: Transports,
    rounds: u32,
    reconnect_delay: Duration,
}

fn parse_cli() -> Result<Cli, String> {
    let mut args = std::env::args().skip(1);
    let mut cli = Cli {
        url: String::new(),
        transports: Transports::WebSocket,
        rounds: 2,
        reconnect_delay: RECONNECT_DELAY,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => cli.url = value,
            "--transports" => {
                cli.transports = match value.as_str() {
                    "polling,websocket" => Transports::PollingThenWebSocket,
                    "websocket" => Transports::WebSocket,
                    "polling" => Transports::Polling,
                    other => return Err(format!("unknown transports {other:?}")),
                }
            }
            "--rounds" => cli.rounds = value.parse().map_err(|_| format!("--rounds {value}"))?,
            "--reconnect-delay" => {
                let ms = value
                    .parse()
                    .map_err(|_| format!("--reconnect-delay {value}"))?;
                cli.reconnect_delay = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if cli.url.is_empty() {
        return Err("--url is required".into());
    }
    Ok(cli)
}

/// An event (name, arguments) or `@connect` / `@disconnect`.
type Seen = (String, Vec<Value>);

fn recording(tx: Sender<Seen>) -> Handlers {
    let (t1, t2, t3) = (tx.clone(), tx.clone(), tx);
    Handlers::new()
        .on_any(move |_, name, args| {
            let _ = t1.send((name.to_owned(), args.values.clone()));
        })
        .on_connect(move |_| {
            let _ = t2.send(("@connect".to_owned(), Vec::new()));
        })
        .on_disconnect(move |_, reason| {
            let _ = t3.send(("@disconnect".to_owned(), vec![json!(reason.as_str())]));
        })
}

/// Events up to and including the next `name` within `limit`.
fn until(rx: &Receiver<Seen>, name: &str, limit: Duration) -> Result<Vec<Seen>, String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(s) if s.0 == name => {
                seen.push(s);
                return Ok(seen);
            }
            Ok(s) => seen.push(s),
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!("no {name} within {limit:?} (saw {seen:?})"))
            }
            Err(RecvTimeoutError::Disconnected) => return Err("the client is gone".into()),
        }
    }
}

/// The application events of `seen` with their offsets checked and
/// stripped (`auth`, which a recovered socket gets again, left out).
fn without_offsets(seen: &[Seen]) -> Result<Vec<Seen>, String> {
    let mut out = Vec::new();
    for (name, args) in seen {
        if name.starts_with('@') || name == "auth" {
            continue;
        }
        let mut args = args.clone();
        match args.pop() {
            Some(Value::String(_)) => out.push((name.clone(), args)),
            other => {
                return Err(format!(
                    "{name} carries no offset (last argument {other:?})"
                ))
            }
        }
    }
    Ok(out)
}

struct Run {
    passed: usize,
    failed: usize,
}

impl Run {
    fn check(&mut self, name: &str, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {name}");
                true
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
                false
            }
        }
    }
}

/// `CLIENT_RECOVERY_LOG=1`: the client's debug log on stderr.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        eprintln!("{:?} {} {}", Instant::now(), record.level(), record.args());
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    if std::env::var_os("CLIENT_RECOVERY_LOG").is_some() {
        let _ = log::set_logger(&StderrLog);
        log::set_max_level(log::LevelFilter::Debug);
    }
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("client_recovery: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut run = Run {
        passed: 0,
        failed: 0,
    };
    checks(&cli, &mut run);
    println!("{} passed, {} failed", run.passed, run.failed);
    if run.failed == 0 && run.passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn open(cli: &Cli, tx: Sender<Seen>) -> Result<Client, String> {
    let options = ClientOptions::new()
        .transports(cli.transports)
        .reconnection_delay(cli.reconnect_delay, cli.reconnect_delay)
        .connect_timeout(LIMIT)
        .handlers(recording(tx));
    connect(&cli.url, options).map_err(|e| e.to_string())
}

fn checks(cli: &Cli, run: &mut Run) {
    let (tx, rx) = mpsc::channel();
    let (helper_tx, helper_rx) = mpsc::channel();
    let (client, helper) = match (open(cli, tx), open(cli, helper_tx)) {
        (Ok(c), Ok(h)) => (c, h),
        (Err(e), _) | (_, Err(e)) => {
            run.check("connect", Err(e));
            return;
        }
    };
    let room = format!("recovery-{}", std::process::id());

    // --- first connection: not recovered; events carry offsets -----------
    let first = (|| {
        until(&rx, "auth", LIMIT)?;
        if client.recovered() {
            return Err("a first connection reported as recovered".into());
        }
        let joined = client
            .emit_with_ack_timeout("join", json!(room), LIMIT)
            .map_err(|e| format!("join: {e:?}"))?;
        if joined.values != [json!(true)] {
            return Err(format!("join answered {:?}", joined.values));
        }
        helper
            .emit("room-broadcast", vec![json!(room), json!("before")])
            .map_err(|e| e.to_string())?;
        let seen = until(&rx, "room-broadcast", LIMIT)?;
        let events = without_offsets(&seen)?;
        if events != [("room-broadcast".to_owned(), vec![json!("before")])] {
            return Err(format!("got {events:?}"));
        }
        client.id().ok_or_else(|| "no socket id".to_owned())
    })();
    let id = match first {
        Ok(id) => {
            run.check("first connection, events with offsets", Ok(()));
            id
        }
        Err(e) => {
            run.check("first connection, events with offsets", Err(e));
            return;
        }
    };

    // --- cut, missed broadcasts, recovered: several rounds in a row -------
    for round in 1..=cli.rounds {
        let result = (|| {
            client.simulate_network_cut().map_err(|e| e.to_string())?;
            let mut seen = until(&rx, "@disconnect", LIMIT)?;
            for (event, args) in [
                (
                    "room-broadcast",
                    vec![json!(room), json!("in-room"), json!(round)],
                ),
                (
                    "room-broadcast",
                    vec![
                        json!(format!("{room}-other")),
                        json!("elsewhere"),
                        json!(round),
                    ],
                ),
                ("broadcast", vec![json!("all"), json!(round)]),
            ] {
                helper.emit(event, args).map_err(|e| e.to_string())?;
            }
            // The helper got its own broadcast: the server did all three.
            until(&helper_rx, "broadcast", LIMIT)?;
            seen.extend(until(&rx, "@connect", LIMIT + cli.reconnect_delay)?);
            if !client.recovered() {
                return Err("reconnected, but not recovered".into());
            }
            if client.id().as_deref() != Some(id.as_str()) {
                return Err(format!("socket id {:?}, was {id:?}", client.id()));
            }
            // Whatever else arrives right after (the reference sends the
            // missed packets before its CONNECT answer, ours after).
            std::thread::sleep(Duration::from_millis(300));
            seen.extend(rx.try_iter());
            let events = without_offsets(&seen)?;
            let want = vec![
                (
                    "room-broadcast".to_owned(),
                    vec![json!("in-room"), json!(round)],
                ),
                ("broadcast".to_owned(), vec![json!("all"), json!(round)]),
            ];
            if events != want {
                return Err(format!("got {events:?}, want {want:?}"));
            }
            Ok(())
        })();
        run.check(
            &format!("round {round}: recovered with the missed events"),
            result,
        );
    }

    // --- still in the room, live ------------------------------------------
    let result = (|| {
        helper
            .emit("room-broadcast", vec![json!(room), json!("live")])
            .map_err(|e| e.to_string())?;
        let seen = until(&rx, "room-broadcast", LIMIT)?;
        let events = without_offsets(&seen)?;
        if events != [("room-broadcast".to_owned(), vec![json!("live")])] {
            return Err(format!("got {events:?}"));
        }
        Ok(())
    })();
    run.check("still in the room after the recoveries", result);

    helper.close();
    client.close();
}
