//! The client conformance checks, against any server implementing the
//! server conformance contract (`socketio_apps::conformance`: ours, or the
//! reference scripts on the official servers):
//!
//! `cargo run --release -p socketio-client --example client_conformance -- --url URL [--transports polling,websocket | websocket | polling] [--eio 4|3] [--parser json|msgpack] [--ca-file PATH]`
//!
//! Runs the checks in order, prints `PASS <name>` or `FAIL <name>: <why>`
//! for each and a last line `N passed, N failed`; exits with 0 only when
//! all pass (2 on a usage error). `--ca-file` (an addition to the
//! contract) trusts the PEM certificates of PATH instead of the web PKI,
//! for `https://`/`wss://` test servers with a private CA. `RUST_LOG`-style
//! logging is not wired: the example prints only the results.

use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_client::{
    connect, Args, Client, ClientDisconnectReason, ClientOptions, EmitStatus, EngineVersion, Error,
    Handlers, Parser, TlsRoots, Transports,
};

const USAGE: &str = "usage: client_conformance --url URL [--transports polling,websocket | websocket | polling] [--eio 4|3] [--parser json|msgpack] [--ca-file PATH]";
/// The default time limit of one check.
const LIMIT: Duration = Duration::from_secs(10);

struct Cli {
    url: String,
    transports: Transports,
    eio: EngineVersion,
    parser: Parser,
    ca_file: Option<String>,
}

fn parse_cli() -> Result<Cli, String> {
    let mut args = std::env::args().skip(1);
    let mut cli = Cli {
        url: String::new(),
        transports: Transports::PollingThenWebSocket,
        eio: EngineVersion::V4,
        parser: Parser::Json,
        ca_file: None,
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
            "--eio" => {
                cli.eio = match value.as_str() {
                    "4" => EngineVersion::V4,
                    "3" => EngineVersion::V3,
                    other => return Err(format!("--eio: {other:?} is not 3 or 4")),
                }
            }
            "--parser" => cli.parser = value.parse()?,
            "--ca-file" => cli.ca_file = Some(value),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if cli.url.is_empty() {
        return Err("--url is required".into());
    }
    Ok(cli)
}

/// What the handlers saw, in order: events by name, and `@connect`,
/// `@disconnect` (argument: the reason), `@connect_error`.
#[derive(Debug)]
struct Seen {
    nsp: String,
    name: String,
    args: Args,
}

fn recording(tx: Sender<Seen>) -> Handlers {
    let seen = |tx: &Sender<Seen>, nsp: &str, name: &str, args: Args| {
        let _ = tx.send(Seen {
            nsp: nsp.to_owned(),
            name: name.to_owned(),
            args,
        });
    };
    let (t1, t2, t3, t4) = (tx.clone(), tx.clone(), tx.clone(), tx.clone());
    Handlers::new()
        .on_any(move |socket, name, args| seen(&t1, socket.nsp(), name, args.clone()))
        // The server's ack request is answered with the same arguments.
        .on("emit-with-ack", |socket, args, ack| {
            if let Some(ack) = ack {
                let _ = ack.send(socket, args);
            }
        })
        .on_connect(move |socket| seen(&t2, socket.nsp(), "@connect", Args::default()))
        .on_disconnect(move |socket, reason: &ClientDisconnectReason| {
            seen(
                &t3,
                socket.nsp(),
                "@disconnect",
                json!(reason.as_str()).into(),
            )
        })
        .on_connect_error(move |socket, message, _| {
            seen(&t4, socket.nsp(), "@connect_error", json!(message).into())
        })
}

/// Binary placeholders replaced by `{"<bytes>": [..]}`, for comparisons.
fn expand(args: &Args) -> Value {
    fn walk(args: &Args, value: &Value) -> Value {
        if let Some(bytes) = args.binary(value) {
            return json!({ "<bytes>": bytes });
        }
        match value {
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(args, v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(args, v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    Value::Array(args.values.iter().map(|v| walk(args, v)).collect())
}

struct Events {
    rx: Receiver<Seen>,
}

impl Events {
    /// The next `name` on `nsp` within `limit`; other events are skipped
    /// (and returned with it).
    fn expect(&self, nsp: &str, name: &str, limit: Duration) -> Result<(Args, Vec<Seen>), String> {
        let deadline = Instant::now() + limit;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(seen) if seen.nsp == nsp && seen.name == name => {
                    return Ok((seen.args, skipped))
                }
                Ok(seen) => skipped.push(seen),
                Err(RecvTimeoutError::Timeout) => {
                    let names: Vec<String> = skipped
                        .iter()
                        .map(|s| format!("{}:{}", s.nsp, s.name))
                        .collect();
                    return Err(format!(
                        "no {name:?} on {nsp} within {} ms (saw {names:?})",
                        limit.as_millis()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => return Err("the client is gone".into()),
            }
        }
    }

    fn drain(&self) -> Vec<Seen> {
        self.rx.try_iter().collect()
    }
}

fn same(got: &Args, want: &Args) -> Result<(), String> {
    let (got, want) = (expand(got), expand(want));
    if got == want {
        Ok(())
    } else {
        let show = |v: &Value| {
            let s = v.to_string();
            if s.len() > 200 {
                format!(
                    "{}... ({} chars)",
                    &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)],
                    s.len()
                )
            } else {
                s
            }
        };
        Err(format!("got {}, want {}", show(&got), show(&want)))
    }
}

struct Run {
    cli: Cli,
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

    fn options(&self, tx: Sender<Seen>) -> Result<ClientOptions, Error> {
        let mut options = ClientOptions::new()
            .transports(self.cli.transports)
            .version(self.cli.eio)
            .parser(self.cli.parser)
            .reconnection_delay(Duration::from_millis(300), Duration::from_secs(2))
            .connect_timeout(LIMIT)
            .handlers(recording(tx));
        if self.cli.eio == EngineVersion::V4 {
            options = options.auth(self.auth());
        }
        if let Some(path) = &self.cli.ca_file {
            options = options.tls_roots(TlsRoots::from_pem_file(path)?);
        }
        Ok(options)
    }

    fn auth(&self) -> Value {
        json!({"token": "abc"})
    }

    /// The `auth` event's expected argument: rev 5 echoes the auth, rev 4
    /// has none (`{}`).
    fn expected_auth(&self) -> Args {
        match self.cli.eio {
            EngineVersion::V4 => self.auth().into(),
            _ => json!({}).into(),
        }
    }
}

fn echo(client: &Client, events: &Events, args: Args) -> Result<(), String> {
    client
        .emit("message", args.clone())
        .map_err(|e| e.to_string())?;
    let (back, _) = events.expect(client.nsp(), "message-back", LIMIT)?;
    same(&back, &args)
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("client_conformance: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut run = Run {
        cli,
        passed: 0,
        failed: 0,
    };
    checks(&mut run);
    println!("{} passed, {} failed", run.passed, run.failed);
    if run.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn checks(run: &mut Run) {
    // --- connect `/` with auth, receive `auth` --------------------------
    let (tx, rx) = mpsc::channel();
    let events = Events { rx };
    let url = run.cli.url.clone();
    let client = match run.options(tx.clone()).and_then(|o| connect(&url, o)) {
        Ok(client) => client,
        Err(e) => {
            run.check("connect", Err(e.to_string()));
            return;
        }
    };
    let expected_auth = run.expected_auth();
    run.check(
        "connect",
        events
            .expect("/", "auth", LIMIT)
            .and_then(|(auth, _)| same(&auth, &expected_auth)),
    );

    // --- message → message-back ----------------------------------------
    let values: [(&str, Args); 8] = [
        ("message-back string", json!("hello").into()),
        ("message-back number", json!(42.5).into()),
        (
            "message-back nested object",
            json!({"a": {"b": [1, 2, {"c": "d"}], "e": null}, "f": false}).into(),
        ),
        (
            "message-back array",
            json!([1, "two", [3, [4]], {"five": 5}]).into(),
        ),
        ("message-back null", Args::json(vec![Value::Null])),
        ("message-back true", json!(true).into()),
        (
            "message-back unicode",
            json!("héllo wörld ✓ 😀 𝄞 中文").into(),
        ),
        ("message-back no argument", Args::default()),
    ];
    for (name, args) in values {
        let result = echo(&client, &events, args);
        run.check(name, result);
    }

    // --- binary ---------------------------------------------------------
    let mut bytes = Args::default();
    let placeholder = bytes.attach(vec![0, 1, 2, 3, 255, 254]);
    bytes.values.push(placeholder);
    run.check("binary", echo(&client, &events, bytes));
    let mut nested = Args::default();
    let first = nested.attach(vec![1, 2, 3]);
    let second = nested.attach((0..=255).collect());
    nested
        .values
        .push(json!({"name": "nested", "data": first, "more": [{"deep": second}]}));
    run.check("binary nested", echo(&client, &events, nested));

    // --- message-with-ack -----------------------------------------------
    let args: Args = json!(["one", 2, {"three": [3]}]).into();
    let args = Args::json(args.values[0].as_array().cloned().unwrap_or_default());
    run.check(
        "message-with-ack",
        client
            .emit_with_ack_timeout("message-with-ack", args.clone(), LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|answer| same(&answer, &args)),
    );

    // --- emit-with-ack --------------------------------------------------
    let args = Args::json(vec![json!("ping"), json!({"n": 1})]);
    let result = (|| {
        client
            .emit("emit-with-ack", args.clone())
            .map_err(|e| e.to_string())?;
        let (request, _) = events.expect("/", "emit-with-ack", LIMIT)?;
        same(&request, &args)?;
        let (result, _) = events.expect("/", "emit-with-ack-result", LIMIT)?;
        same(&result, &args)
    })();
    run.check("emit-with-ack", result);

    // --- /custom over the same connection -------------------------------
    let auth = (run.cli.eio == EngineVersion::V4).then(|| run.auth());
    let custom = match client.socket("/custom", auth, recording(tx.clone())) {
        Ok(custom) => {
            let result = events
                .expect("/custom", "auth", LIMIT)
                .and_then(|(auth, _)| same(&auth, &expected_auth))
                .and_then(|()| echo(&custom, &events, json!("on custom").into()))
                .and_then(|()| match (client.id(), custom.id()) {
                    (Some(a), Some(b)) if a != b => Ok(()),
                    ids => Err(format!("socket ids {ids:?}")),
                });
            run.check("custom namespace", result);
            Some(custom)
        }
        Err(e) => {
            run.check("custom namespace", Err(e.to_string()));
            None
        }
    };

    // --- /nope → Invalid namespace --------------------------------------
    let result = match client.socket("/nope", None, Handlers::new()) {
        Ok(_) => Err("/nope connected".to_owned()),
        Err(Error::Refused { message, .. }) if message == "Invalid namespace" => Ok(()),
        Err(e) => Err(format!("{e:?}")),
    };
    run.check("invalid namespace", result);

    // --- broadcast from a second client ---------------------------------
    let (tx2, rx2) = mpsc::channel();
    let events2 = Events { rx: rx2 };
    let result = (|| {
        let second = run
            .options(tx2)
            .and_then(|o| connect(&url, o))
            .map_err(|e| format!("second client: {e}"))?;
        let args: Args = json!({"from": "second"}).into();
        second
            .emit("broadcast", args.clone())
            .map_err(|e| e.to_string())?;
        let (one, _) = events.expect("/", "broadcast", LIMIT)?;
        same(&one, &args)?;
        let (two, _) = events2.expect("/", "broadcast", LIMIT)?;
        same(&two, &args)?;
        second.close();
        Ok(())
    })();
    run.check("broadcast", result);

    // --- disconnect-me (on /custom; / stays) ----------------------------
    let result = match &custom {
        None => Err("no /custom socket".to_owned()),
        Some(custom) => (|| {
            custom
                .emit("disconnect-me", Args::default())
                .map_err(|e| e.to_string())?;
            let (reason, _) = events.expect("/custom", "@disconnect", LIMIT)?;
            if reason.values != [json!("io server disconnect")] {
                return Err(format!("disconnect reason {:?}", reason.values));
            }
            // Longer than the reconnection delay: it must not come back.
            std::thread::sleep(Duration::from_millis(2500));
            if let Some(again) = events
                .drain()
                .iter()
                .find(|s| s.nsp == "/custom" && s.name == "@connect")
            {
                return Err(format!("/custom reconnected: {again:?}"));
            }
            if custom.is_connected() {
                return Err("/custom is connected again".into());
            }
            if !client.is_connected() {
                return Err("/ was disconnected too".into());
            }
            Ok(())
        })(),
    };
    run.check("disconnect-me", result);

    // --- idle for three ping intervals ----------------------------------
    let result = (|| {
        let interval = client
            .ping_interval()
            .ok_or("no ping interval: the session is not open")?;
        std::thread::sleep(interval * 3);
        let seen = events.drain();
        if let Some(d) = seen.iter().find(|s| s.name == "@disconnect") {
            return Err(format!("disconnected while idle: {d:?}"));
        }
        if !client.is_connected() {
            return Err("not connected after idling".into());
        }
        echo(&client, &events, json!("after idle").into())
    })();
    run.check("idle three ping intervals", result);

    // --- transport cut from the client side -----------------------------
    let result = (|| {
        client.simulate_network_cut().map_err(|e| e.to_string())?;
        let args: Args = json!("sent while disconnected").into();
        let status = client
            .emit("message", args.clone())
            .map_err(|e| e.to_string())?;
        if status != EmitStatus::Buffered {
            return Err(format!(
                "the emit after the cut was {status:?}, not buffered"
            ));
        }
        events.expect("/", "@disconnect", LIMIT)?;
        events.expect("/", "@connect", LIMIT)?;
        let (back, _) = events.expect("/", "message-back", LIMIT)?;
        same(&back, &args)
    })();
    run.check("reconnect after transport cut", result);

    // --- 1000 numbered messages in order --------------------------------
    let result = (|| {
        for i in 0..1000 {
            client
                .emit("message", json!(i))
                .map_err(|e| format!("emit {i}: {e}"))?;
        }
        for i in 0..1000 {
            let (back, _) = events.expect("/", "message-back", Duration::from_secs(30))?;
            if back.values != [json!(i)] {
                return Err(format!("message {i}: got {:?}", back.values));
            }
        }
        Ok(())
    })();
    run.check("1000 messages in order", result);

    // --- a 500 KB string ------------------------------------------------
    let big: String = (0..500_000u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let result = echo(&client, &events, json!(big).into());
    run.check("500 KB string", result);

    client.close();
}
