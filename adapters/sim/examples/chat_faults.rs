//! The chat application (`socketio_apps::chat`), unchanged, under faults:
//! 12 clients over every transport set nicknames, join rooms and talk
//! while the seed's swarm of faults hits them; then everything must heal.
//! Writes the trace as JSONL and a picture of the run.
//!
//! ```text
//! cargo run -p socketio-sim --example chat_faults -- [seed] [out-dir]
//! ```

use std::time::Duration;

use serde_json::json;
use socketio_apps::chat;
use socketio_sim::{self_check, ClientSpec, RandomBehaviour, Sim, SimBuilder, VirtualClock};

fn chatter(i: usize) -> ClientSpec {
    let spec = match i % 3 {
        0 => ClientSpec::websocket(),
        1 => ClientSpec::polling(),
        _ => ClientSpec::polling_then_websocket(),
    };
    spec.connect("/")
        .emit_with_ack("/", "set-nick", json!(format!("user{i}")))
        .emit_with_ack("/", "join-room", json!(format!("room{}", i % 3)))
        .emit_with_ack("/", "chat-message", json!(format!("hello from {i}")))
        .random(RandomBehaviour {
            nsp: "/".into(),
            mean_gap: Duration::from_secs(2),
            events: vec![
                ("chat-message".into(), json!("hi")),
                ("typing".into(), json!(null)),
                ("stop-typing".into(), json!(null)),
            ],
            ack_ratio: 0.5,
            ack_timeout: Duration::from_secs(5),
        })
}

/// The simulation of one seed.
fn chat_sim(seed: u64) -> SimBuilder<chat::ChatData> {
    let clock = VirtualClock::new();
    let reader = clock.reader();
    Sim::builder(move || chat::app_with_clock(reader.clone()))
        .virtual_clock(clock)
        .seed(seed)
        .clients(12, chatter)
        .swarm()
        .chaos(Duration::from_secs(60))
        .heal(Duration::from_secs(60))
        .sometimes("a chat message reached another user", |sim| {
            (0..sim.client_count()).any(|i| {
                sim.observed(i).is_some_and(|o| {
                    o.events.iter().any(|(_, e)| {
                        matches!(e,
                        socketio_sansio::client::ClientEvent::Event { name, args, .. }
                            if name == "chat-message"
                                && args.values[0]["nick"] != json!(format!("user{i}")))
                    })
                })
            })
        })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "target".into()));
    let report = chat_sim(seed).keep_trace(true).run();
    println!("{report}");
    match self_check(chat_sim(seed)) {
        Ok(hash) => println!("self-check: two runs, one trace ({hash:016x})"),
        Err(e) => println!("self-check FAILED: {e}"),
    }
    let jsonl = out.join(format!("chat_faults_{seed}.jsonl"));
    let html = out.join(format!("chat_faults_{seed}.html"));
    let written = std::fs::File::create(&jsonl)
        .and_then(|f| report.trace.write_jsonl(std::io::BufWriter::new(f)))
        .and_then(|()| std::fs::File::create(&html))
        .and_then(|f| {
            report
                .trace
                .write_html(f, &format!("chat under faults, seed {seed}"))
        });
    match written {
        Ok(()) => println!("trace: {} and {}", jsonl.display(), html.display()),
        Err(e) => eprintln!("could not write the trace: {e}"),
    }
    if !report.passed() {
        std::process::exit(1);
    }
}
