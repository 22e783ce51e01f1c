//! CI: the chat application under the swarm of faults of a fixed set of
//! seeds (every push), and the self-check. A longer hunt by hand:
//!
//! ```text
//! SOCKETIO_SIM_SEED=1000 SOCKETIO_SIM_RUNS=5000 SOCKETIO_SIM_TIME_LIMIT=600 \
//!     cargo test --release -p socketio-sim --test swarm_chat -- swarm
//! ```

use std::time::Duration;

use serde_json::json;
use socketio_apps::chat;
use socketio_sansio::EngineVersion;
use socketio_sim::{check, self_check, ClientSpec, RandomBehaviour, Sim, SimBuilder, VirtualClock};

fn chatter(i: usize) -> ClientSpec {
    let spec = match i % 4 {
        0 => ClientSpec::websocket(),
        1 => ClientSpec::polling(),
        2 => ClientSpec::polling_then_websocket(),
        _ => ClientSpec::polling_then_websocket().version(EngineVersion::V3),
    };
    spec.connect("/")
        .emit_with_ack("/", "set-nick", json!(format!("user{i}")))
        .emit_with_ack("/", "join-room", json!(format!("room{}", i % 3)))
        .random(RandomBehaviour {
            nsp: "/".into(),
            mean_gap: Duration::from_millis(1500),
            events: vec![
                ("chat-message".into(), json!("hi")),
                ("typing".into(), json!(null)),
                ("join-room".into(), json!("room1")),
                ("leave-room".into(), json!(null)),
            ],
            ack_ratio: 0.6,
            ack_timeout: Duration::from_secs(5),
        })
}

fn chat_sim(seed: u64) -> SimBuilder<chat::ChatData> {
    let clock = VirtualClock::new();
    let reader = clock.reader();
    Sim::builder(move || chat::app_with_clock(reader.clone()))
        .virtual_clock(clock)
        .seed(seed)
        .clients(8, chatter)
        .swarm()
        .chaos(Duration::from_secs(40))
        .heal(Duration::from_secs(60))
}

#[test]
fn swarm() {
    let seeds: Vec<u64> = (1..=24).collect();
    let reports = check(&seeds, chat_sim);
    assert!(reports.iter().all(|r| r.passed()));
}

#[test]
fn swarm_on_two_nodes() {
    // The chat served by two nodes over the simulated cluster bus: clients
    // of one room sit on both.
    let seeds: Vec<u64> = (1..=4).collect();
    let reports = check(&seeds, |seed| chat_sim(seed).nodes(2));
    assert!(reports.iter().all(|r| r.summary.bus_messages > 0));
}

#[test]
fn self_check_is_byte_identical() {
    for seed in [1, 2] {
        self_check(chat_sim(seed)).unwrap();
    }
    self_check(chat_sim(3).nodes(2)).unwrap();
}

#[test]
fn the_wall_clock_chat_is_caught_by_the_self_check() {
    // `chat::app()` stamps with the wall clock: two runs of one seed differ,
    // and the self-check names the event.
    let builder = Sim::builder(chat::app)
        .seed(3)
        .clients(2, |i| {
            ClientSpec::websocket()
                .connect("/")
                .emit_with_ack("/", "set-nick", json!(format!("u{i}")))
                .wait(Duration::from_millis(1500))
                .emit_with_ack("/", "chat-message", json!("hi"))
        })
        .chaos(Duration::from_secs(3));
    let err = self_check(builder).unwrap_err();
    assert!(err.contains("\"ts\""), "{err}");
}
