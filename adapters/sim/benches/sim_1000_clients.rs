//! 1 000 clients × 10 minutes of virtual time with faults on, wall time
//! measured (not a test: `cargo bench -p socketio-sim`).
//!
//! Each client joins a room of ~10, emits every ~5 s (half with an
//! acknowledgement), and the room hears it; faults: partitions, stalls,
//! resets, half-open clients and one server restart on average every
//! 4 minutes.

use std::time::{Duration, Instant};

use serde_json::json;
use socketio_sansio::app::{App, Namespace};
use socketio_sim::{ClientSpec, FaultKind, RandomBehaviour, Sim, Swarm};

fn app() -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            socket.on("join", |socket, args, _| {
                if let Some(room) = args.values.first().and_then(|v| v.as_str()) {
                    let room = room.to_owned();
                    socket.join(&room);
                }
            });
            socket.on("say", |socket, args, ack| {
                let rooms = socket.rooms();
                if let Some(room) = rooms.into_iter().find(|r| r.starts_with("room")) {
                    socket.to(room).emit("said", args.clone());
                }
                if let Some(ack) = ack {
                    ack.send(socket, args);
                }
            });
        }),
    )
}

fn main() {
    let clients = std::env::var("CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let minutes = std::env::var("MINUTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10u64);
    let swarm = Swarm {
        kinds: vec![
            (FaultKind::Partition, Duration::from_secs(5)),
            (FaultKind::Stall, Duration::from_secs(5)),
            (FaultKind::Reset, Duration::from_secs(10)),
            (FaultKind::Vanish, Duration::from_secs(10)),
            (FaultKind::RestartServer, Duration::from_secs(240)),
        ],
    };
    let started = Instant::now();
    let report = Sim::builder(app)
        .seed(2024)
        .server_config(
            socketio_sansio::Config::builder()
                .ping_interval(Duration::from_secs(25))
                .ping_timeout(Duration::from_secs(20)),
        )
        .keep_client_events(false)
        .clients(clients, |i| {
            let spec = if i % 4 == 0 {
                ClientSpec::polling()
            } else {
                ClientSpec::websocket()
            };
            spec.start_at(Duration::from_millis(i as u64 * 10))
                .connect("/")
                .emit("/", "join", json!(format!("room{}", i / 10)))
                .random(RandomBehaviour {
                    nsp: "/".into(),
                    mean_gap: Duration::from_secs(5),
                    events: vec![("say".into(), json!("hello"))],
                    ack_ratio: 0.5,
                    ack_timeout: Duration::from_secs(10),
                })
        })
        .swarm_config(swarm)
        .chaos(Duration::from_secs(60 * minutes))
        .heal(Duration::from_secs(120))
        .run();
    let wall = started.elapsed();
    println!("{report}");
    println!(
        "{clients} clients x {minutes} virtual minutes with faults: {:.2} s wall ({} steps, {:.0} steps/s)",
        wall.as_secs_f64(),
        report.summary.steps,
        report.summary.steps as f64 / wall.as_secs_f64()
    );
}
