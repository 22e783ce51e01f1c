//! The minimizer keeps what it does not remove: each client draws whether
//! a swarm fault hits it from its own stream, so a run with fewer clients
//! keeps the faults of the clients that remain (and may add some: each is
//! hit a little more often), and a minimized failure still fails.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use socketio_sansio::app::{App, Namespace};
use socketio_sansio::client::ClientEvent;
use socketio_sim::{minimize, ClientSpec, FaultKind, Report, Sim, SimBuilder, Swarm};

fn echo() -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            socket.on("echo", |socket, args, ack| {
                if let Some(ack) = ack {
                    ack.send(socket, args);
                }
            });
        }),
    )
}

fn swarm_sim(seed: u64, clients: usize) -> SimBuilder {
    Sim::builder(echo)
        .seed(seed)
        .clients(clients, |i| {
            ClientSpec::websocket()
                .connect("/")
                .emit_with_ack("/", "echo", json!(i))
        })
        .swarm_config(Swarm {
            kinds: vec![
                (FaultKind::Reset, Duration::from_secs(2)),
                (FaultKind::Partition, Duration::from_secs(3)),
                (FaultKind::Vanish, Duration::from_secs(6)),
            ],
        })
        .chaos(Duration::from_secs(20))
        .keep_trace(true)
}

/// The swarm faults that hit `client`: (time, kind, duration) from the
/// trace's fault records ("reset clients 2..4", "partition clients 0..1
/// for 1.2s").
fn faults_of(report: &Report, client: usize) -> BTreeSet<(u64, String, String)> {
    report
        .trace
        .events()
        .iter()
        .filter(|e| e.node == "sim" && e.kind == "fault")
        .filter_map(|e| {
            let (kind, rest) = e.data.split_once(" clients ")?;
            let (range, duration) = rest.split_once(' ').unwrap_or((rest, ""));
            let (a, b) = range.split_once("..")?;
            let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
            (a..b)
                .contains(&client)
                .then(|| (e.t_us, kind.to_owned(), duration.to_owned()))
        })
        .collect()
}

#[test]
fn fewer_clients_keep_the_faults_of_the_others() {
    for seed in [1, 2, 3] {
        let eight = swarm_sim(seed, 8).run();
        let three = swarm_sim(seed, 3).run();
        let hits: usize = (0..3).map(|i| faults_of(&eight, i).len()).sum();
        assert!(hits > 0, "seed {seed}: no fault hit clients 0..3\n{eight}");
        for i in 0..3 {
            // Every fault a client had with 8 clients, it has with 3 (with
            // fewer clients each is hit a little more often).
            let (many, few) = (faults_of(&eight, i), faults_of(&three, i));
            assert!(
                many.is_subset(&few),
                "seed {seed}, client {i}: {many:?} {few:?}"
            );
        }
    }
}

#[test]
fn switching_a_kind_off_keeps_the_other_kinds_faults() {
    let all = swarm_sim(4, 6).run();
    let swarm = swarm_sim(4, 6).swarm_in_effect().unwrap();
    let fewer = swarm_sim(4, 6)
        .swarm_config(swarm.without(FaultKind::Partition))
        .run();
    for i in 0..6 {
        let resets = |r: &Report| -> BTreeSet<_> {
            faults_of(r, i)
                .into_iter()
                .filter(|(_, k, _)| k == "reset")
                .collect()
        };
        assert_eq!(resets(&all), resets(&fewer), "client {i}");
    }
}

#[test]
fn a_minimized_failure_still_fails() {
    // A rule of the test (standing for an application bug that shows when
    // one particular client loses its connection): client 3 must never
    // reconnect.
    let builder = swarm_sim(5, 8).invariant("client 3 never reconnects", |sim| {
        let reconnected = sim.observed(3).is_some_and(|o| {
            o.events
                .iter()
                .any(|(_, e)| matches!(e, ClientEvent::Reconnected { .. }))
        });
        if reconnected {
            Err("client 3 reconnected".to_owned())
        } else {
            Ok(())
        }
    });
    let report = builder.clone().run();
    assert!(!report.passed(), "{report}");
    let small = minimize(builder, |b| !b.clone().run().passed());
    // Halving to 4 clients keeps client 3 and its faults: the minimizer
    // gets there (fewer than 4 cannot fail), and the result still fails.
    assert_eq!(small.builder.client_count(), 4, "{}", small.describe());
    let again = small.builder.clone().run();
    assert!(
        again
            .violations
            .iter()
            .any(|v| v.invariant == "client 3 never reconnects"),
        "{again}"
    );
    let chaos = small.builder.chaos_length().as_micros() as u64;
    let before: BTreeSet<_> = faults_of(&report, 3)
        .into_iter()
        .filter(|(t, kind, _)| *t < chaos && kind == "reset")
        .collect();
    let after: BTreeSet<_> = faults_of(&again, 3)
        .into_iter()
        .filter(|(_, kind, _)| kind == "reset")
        .collect();
    assert!(
        !before.is_empty() && before.is_subset(&after),
        "{before:?} {after:?}"
    );
}
