use std::time::Duration;

use serde_json::json;
use socketio_sansio::app::{App, Namespace};
use socketio_sim::{ClientSpec, Sim};

fn echo() -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            socket.join("all");
            socket.on("echo", |socket, args, ack| {
                if let Some(ack) = ack {
                    ack.send(socket, args);
                }
            });
        }),
    )
}

#[test]
fn transports_without_faults() {
    for spec in [
        ClientSpec::websocket(),
        ClientSpec::polling(),
        ClientSpec::polling_then_websocket(),
    ] {
        let report = Sim::builder(echo)
            .seed(3)
            .keep_trace(true)
            .clients(3, move |i| {
                spec.clone()
                    .connect("/")
                    .emit_with_ack("/", "echo", json!(i))
            })
            .chaos(Duration::from_secs(5))
            .run();
        assert!(report.passed(), "{report}\n{}", report.trace.timeline());
        assert!(report.summary.acks >= 3, "{report}");
    }
}

fn mixed(i: usize) -> ClientSpec {
    let spec = match i % 3 {
        0 => ClientSpec::websocket(),
        1 => ClientSpec::polling(),
        _ => ClientSpec::polling_then_websocket(),
    };
    spec.connect("/")
        .emit_with_ack("/", "echo", json!(i))
        .random(socketio_sim::RandomBehaviour {
            nsp: "/".into(),
            mean_gap: Duration::from_millis(700),
            events: vec![("echo".into(), json!("x"))],
            ack_ratio: 0.5,
            ack_timeout: Duration::from_secs(5),
        })
}

#[test]
fn swarm_seeds_echo() {
    let seeds: Vec<u64> = (0..20).collect();
    socketio_sim::check(&seeds, |seed| {
        Sim::builder(echo)
            .seed(seed)
            .clients(6, mixed)
            .swarm()
            .chaos(Duration::from_secs(30))
    });
}

#[test]
fn a_client_that_vanished_before_its_start_runs_its_script_when_back() {
    let report = Sim::builder(echo)
        .seed(8)
        .clients(2, |i| {
            ClientSpec::websocket()
                .start_at(Duration::from_secs(2 * i as u64))
                .connect("/")
                .emit_with_ack("/", "echo", json!(i))
        })
        .fault_at(
            Duration::from_secs(1),
            socketio_sim::Fault::Vanish {
                clients: 1..2,
                duration: Duration::from_secs(3),
            },
        )
        .chaos(Duration::from_secs(6))
        .run();
    assert!(report.passed(), "{report}");
    assert_eq!(report.summary.acks, 2, "{report}");
}
