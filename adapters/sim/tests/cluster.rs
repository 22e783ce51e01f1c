//! Several server nodes serving one application, joined by the in-memory
//! cluster bus the simulator carries through its event queue.

use std::time::Duration;

use serde_json::json;
use socketio_sansio::app::{App, Namespace};
use socketio_sansio::client::ClientEvent;
use socketio_sim::{
    self_check, ClientSpec, Fault, FaultKind, RandomBehaviour, Sim, SimBuilder, Swarm,
};

fn rooms_app() -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            socket.on("join", |socket, args, ack| {
                let room = args.values[0].as_str().unwrap_or("r").to_owned();
                socket.join(&room);
                if let Some(ack) = ack {
                    ack.send(socket, true);
                }
            });
            socket.on("shout", |socket, args, _| socket.to("r").emit("msg", args));
            // Every socket of the cluster (socket.io's fetchSockets).
            socket.on("count", |socket, _, ack| {
                let Some(ack) = ack else { return };
                socket
                    .of("/")
                    .fetch_sockets(move |io, sockets| ack.send(io, json!(sockets.len())));
            });
        }),
    )
}

/// Client `i` joins `r` (`s` for i = 5) on node `i % 2`; client 0 shouts
/// once everyone joined.
fn two_nodes() -> SimBuilder {
    Sim::builder(rooms_app)
        .seed(21)
        .nodes(2)
        .node_of(|i| i % 2)
        .keep_trace(true)
        .clients(6, |i| {
            let spec = ClientSpec::websocket().connect("/").emit_with_ack(
                "/",
                "join",
                json!(if i == 5 { "s" } else { "r" }),
            );
            if i == 0 {
                spec.wait(Duration::from_secs(1))
                    .emit("/", "shout", json!("hello"))
            } else {
                spec
            }
        })
        .chaos(Duration::from_secs(3))
}

fn msgs(seen: &socketio_sim::Observed) -> usize {
    seen.events
        .iter()
        .filter(|(_, e)| matches!(e, ClientEvent::Event { name, .. } if name == "msg"))
        .count()
}

#[test]
fn a_room_broadcast_reaches_the_room_on_every_node_exactly_once() {
    let mut sim = two_nodes().build();
    assert_eq!(sim.node_count(), 2);
    assert_eq!(sim.node_of(3), Some(1));
    sim.run_for(Duration::from_secs(3));
    // The sender (client 0) is left out, client 5 is in another room;
    // clients 1 and 3 are on node 1, 2 and 4 on node 0 with the sender.
    let got: Vec<usize> = (0..6).map(|i| msgs(sim.observed(i).unwrap())).collect();
    assert_eq!(got, [0, 1, 1, 1, 1, 0]);
    assert_eq!(sim.node(1).unwrap().server().connection_count(), 3);
    let report = sim.run();
    assert!(report.passed(), "{report}");
    // Checked on both nodes: the sender's and, from the bus, node 1.
    assert!(report.summary.broadcasts_checked >= 2, "{report}");
    assert!(report.summary.bus_messages >= 1, "{report}");
    let crossed = report
        .trace
        .events()
        .iter()
        .any(|e| e.node == "node1" && e.kind == "bus-recv" && e.data.contains("\"msg\""));
    assert!(crossed, "{}", report.trace.timeline());
}

#[test]
fn a_broadcast_kept_local_misses_the_other_node() {
    // A broken application: its broadcast is `local()`, so it never
    // reaches the bus and the room's members on node 1 miss it.
    let local = || -> App {
        App::new().ns(
            "/",
            Namespace::new().on_connection(|socket| {
                socket.on("join", |socket, args, ack| {
                    let room = args.values[0].as_str().unwrap_or("r").to_owned();
                    socket.join(&room);
                    if let Some(ack) = ack {
                        ack.send(socket, true);
                    }
                });
                socket.on("shout", |socket, args, _| {
                    socket.to("r").local().emit("msg", args)
                });
            }),
        )
    };
    let mut broken = Sim::builder(local)
        .seed(21)
        .nodes(2)
        .node_of(|i| i % 2)
        .clients(6, |i| {
            let spec = ClientSpec::websocket().connect("/").emit_with_ack(
                "/",
                "join",
                json!(if i == 5 { "s" } else { "r" }),
            );
            if i == 0 {
                spec.wait(Duration::from_secs(1))
                    .emit("/", "shout", json!("hello"))
            } else {
                spec
            }
        })
        .build();
    broken.run_for(Duration::from_secs(3));
    let got: Vec<usize> = (0..6).map(|i| msgs(broken.observed(i).unwrap())).collect();
    assert_eq!(got, [0, 0, 1, 0, 1, 0]);
    // One node: everyone is local, the cluster changes nothing.
    let mut one = two_nodes().nodes(1).build();
    one.run_for(Duration::from_secs(3));
    let got: Vec<usize> = (0..6).map(|i| msgs(one.observed(i).unwrap())).collect();
    assert_eq!(got, [0, 1, 1, 1, 1, 0]);
    let report = one.run();
    assert!(report.passed(), "{report}");
    assert_eq!(report.summary.bus_messages, 0);
}

fn chatty(i: usize) -> ClientSpec {
    let spec = match i % 3 {
        0 => ClientSpec::websocket(),
        1 => ClientSpec::polling(),
        _ => ClientSpec::polling_then_websocket(),
    };
    spec.connect("/")
        .emit_with_ack("/", "join", json!(if i % 2 == 0 { "r" } else { "s" }))
        .random(RandomBehaviour {
            nsp: "/".into(),
            mean_gap: Duration::from_millis(700),
            events: vec![("shout".into(), json!("x")), ("join".into(), json!("r"))],
            ack_ratio: 0.3,
            ack_timeout: Duration::from_secs(5),
        })
}

#[test]
fn three_nodes_under_swarm_faults() {
    let seeds: Vec<u64> = (1..=6).collect();
    let reports = socketio_sim::check(&seeds, |seed| {
        Sim::builder(rooms_app)
            .seed(seed)
            .nodes(3)
            .clients(7, chatty)
            .swarm()
            .chaos(Duration::from_secs(20))
    });
    assert!(reports.iter().all(|r| r.summary.bus_messages > 0));
    self_check(
        Sim::builder(rooms_app)
            .seed(3)
            .nodes(3)
            .clients(7, chatty)
            .swarm()
            .chaos(Duration::from_secs(10)),
    )
    .unwrap();
}

#[test]
fn a_node_restart_leaves_the_others_serving_and_counting_without_it() {
    let mut sim = Sim::builder(rooms_app)
        .seed(33)
        .nodes(3)
        .node_of(|i| i % 3)
        .clients(6, |_| ClientSpec::websocket().connect("/"))
        .chaos(Duration::from_secs(6))
        .build();
    assert!(sim.run_until(Duration::from_secs(2), |s| {
        (0..6).all(|i| s.core_client(i).is_some_and(|c| c.is_connected("/")))
    }));
    let count = |sim: &mut Sim, budget| {
        let id = sim
            .client(0)
            .emit_with_ack("/", "count", json!(null), Duration::from_secs(10))
            .unwrap();
        let answer = sim.wait_ack(0, "/", id, budget).unwrap().unwrap();
        answer.values[0].as_u64().unwrap()
    };
    assert_eq!(count(&mut sim, Duration::from_secs(1)), 6);
    sim.inject(Fault::RestartNode {
        node: 2,
        downtime: Duration::from_secs(3),
    });
    assert!(sim.node(2).is_none() && sim.node(1).is_some());
    // The others count two nodes now: the request completes with their
    // answers at once instead of waiting for node 2's request timeout.
    let started = sim.elapsed();
    assert_eq!(count(&mut sim, Duration::from_secs(1)), 4);
    assert!(sim.elapsed() - started < Duration::from_millis(500));
    // Node 2 comes back, its clients reconnect to it.
    assert!(sim.run_until(Duration::from_secs(10), |s| {
        s.node(2).is_some() && (0..6).all(|i| s.core_client(i).is_some_and(|c| c.is_connected("/")))
    }));
    assert_eq!(count(&mut sim, Duration::from_secs(1)), 6);
    let report = sim.run();
    assert!(report.passed(), "{report}");
    assert_eq!(
        report.summary.faults.get("RestartNode"),
        Some(&1),
        "{report}"
    );
}

#[test]
fn node_restarts_under_swarm_faults() {
    let seeds: Vec<u64> = (1..=4).collect();
    socketio_sim::check(&seeds, |seed| {
        Sim::builder(rooms_app)
            .seed(seed)
            .nodes(3)
            .clients(7, chatty)
            .swarm_config(Swarm {
                kinds: vec![
                    (FaultKind::RestartNode, Duration::from_secs(6)),
                    (FaultKind::Partition, Duration::from_secs(4)),
                    (FaultKind::Reset, Duration::from_secs(5)),
                ],
            })
            .chaos(Duration::from_secs(20))
    });
}
