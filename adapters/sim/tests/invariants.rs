//! Each invariant fires on a deliberately broken application (or, where
//! the invariant is about the core, a deliberately broken network), and
//! stays quiet on the correct one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use socketio_sansio::app::{App, ConnectError, HandlerKind, JournalEntry, Namespace};
use socketio_sim::{self_check, ClientSpec, Fault, LinkBug, Report, Sim};

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

fn fired(report: &Report, name: &str) -> bool {
    report.violations.iter().any(|v| v.invariant == name)
}

fn echo_clients(n: usize) -> socketio_sim::SimBuilder {
    Sim::builder(echo)
        .seed(11)
        .clients(n, |i| {
            ClientSpec::websocket()
                .connect("/")
                .emit_with_ack("/", "echo", json!(i))
                .wait(Duration::from_millis(300))
                .emit_with_ack("/", "echo", json!(i))
        })
        .chaos(Duration::from_secs(10))
}

#[test]
fn the_correct_application_passes() {
    let report = echo_clients(4).run();
    assert!(report.passed(), "{report}");
}

/// An application that answers every acknowledgement twice: `app::Ack` is
/// `Clone`, so the API lets it, and the core sends both answers.
fn answers_twice() -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            socket.on("echo", |socket, args, ack| {
                if let Some(ack) = ack {
                    ack.clone().send(socket, args.clone());
                    ack.send(socket, args);
                }
            });
        }),
    )
}

#[test]
fn ack_exactly_once_fires_when_the_app_answers_twice() {
    for spec in [ClientSpec::websocket(), ClientSpec::polling()] {
        let report = Sim::builder(answers_twice)
            .seed(1)
            .clients(2, move |i| {
                spec.clone()
                    .connect("/")
                    .emit_with_ack("/", "echo", json!(i))
                    .wait(Duration::from_millis(200))
                    .emit_with_ack("/", "echo", json!(i))
            })
            .chaos(Duration::from_secs(2))
            .run();
        let twice: Vec<_> = report
            .violations
            .iter()
            .filter(|v| v.invariant == "ack-exactly-once")
            .collect();
        // Each of the 4 requests was answered twice on the wire...
        assert_eq!(twice.len(), 4, "{report}");
        assert!(twice[0].detail.contains("a second time"), "{report}");
        // ...while each client saw one outcome per request: the core client
        // drops the second answer.
        assert_eq!(report.summary.acks, 4, "{report}");
    }
    // The correct echo answers once: quiet.
    let report = echo_clients(3).run();
    assert!(!fired(&report, "ack-exactly-once"), "{report}");
}

#[test]
fn ack_exactly_once_fires_on_an_outcome_the_client_never_asked_for() {
    // The client's half: an outcome the simulator never saw requested (here
    // forgotten by a test hook; the core client keeps one outcome per id,
    // which no application can change) is caught.
    let mut sim = echo_clients(1).build();
    assert!(sim.wait_connected(0, "/", Duration::from_secs(5)));
    let id = sim
        .client(0)
        .emit_with_ack("/", "echo", json!(1), Duration::from_secs(5))
        .unwrap();
    assert!(sim.wait_ack(0, "/", id, Duration::from_secs(5)).is_some());
    let id2 = sim
        .client(0)
        .emit_with_ack("/", "echo", json!(2), Duration::from_secs(5))
        .unwrap();
    sim.forget_ack_for_test(0, "/", id2);
    sim.run_for(Duration::from_secs(1));
    assert!(sim
        .violations()
        .iter()
        .any(|v| v.invariant == "ack-exactly-once"));
}

#[test]
fn server_ack_callbacks_run_exactly_once_because_they_are_fn_once() {
    // The server's half needs no runtime check: `Socket::emit_with_ack`
    // and `Operator::emit_with_ack` take `FnOnce` callbacks (these
    // closures move a non-`Clone` token out, so they compile only as
    // `FnOnce`), which the application layer cannot call twice. Run under
    // faults, each one ran exactly once, answered or failed.
    struct Token;
    let runs = Arc::new(AtomicU64::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let (r, o) = (runs.clone(), outcomes.clone());
    let app = move || -> App {
        let (r, o) = (r.clone(), o.clone());
        App::new().ns(
            "/",
            Namespace::new().on_connection(move |socket| {
                r.fetch_add(1, Ordering::SeqCst);
                let token = Token;
                let o1 = o.clone();
                socket.emit_with_ack(
                    "ping",
                    json!(1),
                    Some(Duration::from_secs(2)),
                    move |_, result| {
                        let Token = token;
                        o1.lock().unwrap().push(result.is_ok());
                    },
                );
                let token = Token;
                let o2 = o.clone();
                socket
                    .broadcast()
                    .timeout(Duration::from_secs(2))
                    .emit_with_ack("hello", json!(2), move |_, _acks| {
                        let Token = token;
                        o2.lock().unwrap().push(true);
                    });
            }),
        )
    };
    let report = Sim::builder(app)
        .seed(9)
        .clients(4, |_| ClientSpec::websocket().connect("/"))
        .swarm()
        .chaos(Duration::from_secs(10))
        .run();
    assert!(!fired(&report, "ack-exactly-once"), "{report}");
    let connections = runs.load(Ordering::SeqCst) as usize;
    assert!(connections >= 4, "{report}");
    // Two callbacks per socket, each run once (after the run every socket
    // has left, so none is pending).
    assert_eq!(outcomes.lock().unwrap().len(), 2 * connections, "{report}");
}

#[test]
fn ack_resolved_fires_when_the_app_never_answers() {
    let silent = || -> App {
        App::new().ns(
            "/",
            Namespace::new().on_connection(|socket| socket.on("echo", |_, _, _| {})),
        )
    };
    let report = Sim::builder(silent)
        .seed(2)
        .clients(2, |i| {
            let mut spec =
                ClientSpec::websocket()
                    .connect("/")
                    .emit_with_ack("/", "echo", json!(i));
            spec.ack_timeout = None;
            spec
        })
        .chaos(Duration::from_secs(2))
        .heal(Duration::from_secs(5))
        .run();
    assert!(fired(&report, "ack-resolved"), "{report}");
    assert!(fired(&report, "heal"), "{report}");
}

#[test]
fn delivery_fires_on_a_network_that_duplicates() {
    let report = echo_clients(3).link_bug(LinkBug::DuplicateDown).run();
    assert!(fired(&report, "delivery-exactly-once-in-order"), "{report}");
}

#[test]
fn delivery_fires_on_a_network_that_loses_acks() {
    let report = echo_clients(2).link_bug(LinkBug::DropAcksDown).run();
    assert!(fired(&report, "delivery-exactly-once-in-order"), "{report}");
}

#[test]
fn silent_peer_and_baseline_fire_when_a_middlebox_keeps_a_dead_session_alive() {
    let vanish = Fault::Vanish {
        clients: 0..1,
        duration: Duration::from_secs(60),
    };
    let correct = echo_clients(2)
        .fault_at(Duration::from_secs(2), vanish.clone())
        .run();
    assert!(!fired(&correct, "silent-peer-detected"), "{correct}");
    // The deadline (2 s + ping interval + ping timeout + slack) passes
    // before the heal phase revives the client.
    let broken = echo_clients(2)
        .chaos(Duration::from_secs(20))
        .fault_at(Duration::from_secs(2), vanish)
        .link_bug(LinkBug::AnswerPingsForVanished)
        .run();
    assert!(fired(&broken, "silent-peer-detected"), "{broken}");
    assert!(fired(&broken, "baseline-after-leave"), "{broken}");
}

#[test]
fn heal_fires_when_the_app_refuses_everyone() {
    let closed = || -> App {
        App::new().ns(
            "/",
            Namespace::new().use_middleware(|_| Err(ConnectError::new("closed"))),
        )
    };
    let report = Sim::builder(closed)
        .seed(3)
        .clients(1, |_| ClientSpec::websocket().connect("/"))
        .chaos(Duration::from_secs(1))
        .heal(Duration::from_secs(5))
        .run();
    assert!(fired(&report, "heal"), "{report}");
}

#[test]
fn no_panic_fires_when_a_handler_panics() {
    let boom = || -> App {
        App::new().ns(
            "/",
            Namespace::new().on_connection(|socket| socket.on("boom", |_, _, _| panic!("boom"))),
        )
    };
    let report = Sim::builder(boom)
        .seed(4)
        .clients(1, |_| {
            ClientSpec::websocket()
                .connect("/")
                .emit("/", "boom", json!(null))
        })
        .chaos(Duration::from_secs(1))
        .run();
    assert!(fired(&report, "no-panic"), "{report}");
}

/// Each `go` makes the server emit 100 blobs of 1 000 bytes (100 kB, under
/// the 200 kB limit at once) to a client that asks 20 times but stops
/// reading once connected: 2 MB in all.
fn flood_sim(window: usize) -> socketio_sim::SimBuilder {
    let flood = || -> App {
        App::new().ns(
            "/",
            Namespace::new().on_connection(|socket| {
                socket.on("go", |socket, _, _| {
                    for _ in 0..100 {
                        socket.emit("blob", "x".repeat(1000).as_str());
                    }
                });
            }),
        )
    };
    Sim::builder(flood)
        .seed(5)
        .server_config(socketio_sansio::Config::builder().max_outbound_bytes(200_000))
        .link(socketio_sim::LinkConfig::default().window(window))
        .clients(1, |_| {
            let mut spec = ClientSpec::websocket()
                .connect("/")
                .wait(Duration::from_secs(1));
            for _ in 0..20 {
                spec = spec
                    .wait(Duration::from_millis(100))
                    .emit("/", "go", json!(null));
            }
            spec
        })
        .fault_at(
            Duration::from_millis(500),
            Fault::Stall {
                clients: 0..1,
                duration: Duration::from_secs(10),
            },
        )
        .chaos(Duration::from_secs(5))
}

#[test]
fn queue_limits_hold_for_a_client_that_stops_reading() {
    // A transport that blocks at the drivers' window: the core queues up to
    // max_outbound_bytes, then closes the connection, never holds more.
    for window in [socketio_sim::DRIVER_WINDOW, 16 * 1024] {
        let report = flood_sim(window).keep_trace(true).run();
        assert!(!fired(&report, "queue-limits"), "{report}");
        // The core closed the connection at its limit.
        let closed = report
            .trace
            .events()
            .iter()
            .any(|e| e.kind == "close" && e.dir == Some("down"));
        assert!(closed, "{report}");
    }
}

#[test]
fn queue_limits_fire_on_a_transport_that_never_pushes_back() {
    // A driver whose socket buffer takes 64 MiB before it reports the
    // connection write-blocked (an unbounded userspace write buffer): the
    // core's queue stays empty, its limit never trips, and the server
    // holds the whole 2 MB flood for a client that reads nothing.
    let report = flood_sim(64 << 20).keep_trace(true).run();
    assert!(fired(&report, "queue-limits"), "{report}");
    let v = report
        .violations
        .iter()
        .find(|v| v.invariant == "queue-limits")
        .unwrap();
    assert!(v.detail.contains("in the transport"), "{v}");
    let closed = report
        .trace
        .events()
        .iter()
        .any(|e| e.kind == "close" && e.dir == Some("down"));
    assert!(!closed, "{report}");
}

#[test]
fn user_invariants_and_goals() {
    let count = Arc::new(Mutex::new(0u64));
    let seen = count.clone();
    let app = move || -> App {
        let count = seen.clone();
        App::new().ns(
            "/",
            Namespace::new().on_connection(move |socket| {
                let count = count.clone();
                socket.on("echo", move |socket, args, ack| {
                    *count.lock().unwrap() += 1;
                    if let Some(ack) = ack {
                        ack.send(socket, args);
                    }
                });
            }),
        )
    };
    let c1 = count.clone();
    let report = Sim::builder(app)
        .seed(6)
        .clients(2, |i| {
            ClientSpec::websocket()
                .connect("/")
                .emit_with_ack("/", "echo", json!(i))
        })
        .chaos(Duration::from_secs(2))
        .invariant("at-most-three-echoes", move |_| {
            let n = *c1.lock().unwrap();
            if n <= 1 {
                Ok(())
            } else {
                Err(format!("{n} echoes"))
            }
        })
        .sometimes("two-connected", |sim| {
            (0..sim.client_count()).all(|i| sim.core_client(i).is_some_and(|c| c.is_connected("/")))
        })
        .sometimes("never", |_| false)
        .run();
    assert!(fired(&report, "at-most-three-echoes"), "{report}");
    assert!(report.goals_reached.contains("two-connected"), "{report}");
    assert!(!report.goals_reached.contains("never"), "{report}");
}

#[test]
fn self_check_passes_and_names_the_first_divergence() {
    let builder = echo_clients(3).swarm().chaos(Duration::from_secs(10));
    self_check(builder).expect("deterministic");

    static RUNS: AtomicU64 = AtomicU64::new(0);
    let leaky = || -> App {
        let run = RUNS.fetch_add(1, Ordering::SeqCst);
        App::new().ns(
            "/",
            Namespace::new().on_connection(move |socket| socket.emit("run", json!(run))),
        )
    };
    let err = self_check(Sim::builder(leaky).seed(1).chaos(Duration::from_secs(1))).unwrap_err();
    assert!(err.contains("diverge"), "{err}");
    assert!(err.contains("run"), "{err}");
}

#[test]
fn no_handler_after_disconnect_fires_on_a_faked_late_handler() {
    let mut sim = echo_clients(2).build();
    assert!(sim.wait_connected(0, "/", Duration::from_secs(5)));
    // Each departure is followed by a faked run of one of its handlers.
    sim.tamper_journal_for_test(|entry| match &entry {
        JournalEntry::Disconnected { conn, nsp, socket } => {
            let late = JournalEntry::Handler {
                conn: *conn,
                nsp: nsp.clone(),
                socket: Some(socket.clone()),
                kind: HandlerKind::Event,
            };
            vec![entry, late]
        }
        _ => vec![entry],
    });
    sim.client(0).disconnect("/");
    sim.run_for(Duration::from_secs(1));
    assert!(
        sim.violations()
            .iter()
            .any(|v| v.invariant == "no-handler-after-disconnect"),
        "{:?}",
        sim.violations()
    );
}

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
        }),
    )
}

fn rooms_sim() -> socketio_sim::SimBuilder {
    Sim::builder(rooms_app)
        .seed(12)
        .clients(4, |i| {
            ClientSpec::websocket()
                .connect("/")
                .emit_with_ack("/", "join", json!(if i % 2 == 0 { "r" } else { "s" }))
                .wait(Duration::from_millis(500))
                .emit("/", "shout", json!(i))
        })
        .chaos(Duration::from_secs(3))
}

#[test]
fn room_broadcast_exact_holds_and_fires_on_a_faked_extra_recipient() {
    let report = rooms_sim().run();
    assert!(report.passed(), "{report}");
    assert!(report.summary.broadcasts_checked >= 4, "{report}");
    let mut sim = rooms_sim().build();
    // Every member of the namespace "receives" every broadcast.
    sim.tamper_journal_for_test(|entry| match entry {
        JournalEntry::Broadcast {
            selector,
            event,
            members,
            ..
        } => vec![JournalEntry::Broadcast {
            selector,
            event,
            recipients: members.iter().map(|(conn, _)| *conn).collect(),
            members,
        }],
        other => vec![other],
    });
    let report = sim.run();
    assert!(fired(&report, "room-broadcast-exact"), "{report}");
}

#[test]
fn journal_invariants_hold_on_the_chat_app_under_swarm_faults() {
    for seed in 1..=4 {
        let clock = socketio_sim::VirtualClock::new();
        let reader = clock.reader();
        let report = Sim::builder(move || socketio_apps::chat::app_with_clock(reader.clone()))
            .virtual_clock(clock)
            .seed(seed)
            .clients(6, |i| {
                ClientSpec::websocket()
                    .connect("/")
                    .emit_with_ack("/", "set-nick", json!(format!("user{i}")))
                    .emit_with_ack("/", "join-room", json!(format!("room{}", i % 3)))
                    .random(socketio_sim::RandomBehaviour {
                        nsp: "/".into(),
                        mean_gap: Duration::from_millis(800),
                        events: vec![
                            ("chat-message".into(), json!("hi")),
                            ("typing".into(), json!(null)),
                            ("join-room".into(), json!("room1")),
                            ("leave-room".into(), json!(null)),
                        ],
                        ack_ratio: 0.5,
                        ack_timeout: Duration::from_secs(5),
                    })
            })
            .swarm()
            .chaos(Duration::from_secs(20))
            .heal(Duration::from_secs(60))
            .run();
        assert!(!fired(&report, "no-handler-after-disconnect"), "{report}");
        assert!(!fired(&report, "room-broadcast-exact"), "{report}");
        assert!(report.summary.handler_runs > 0, "{report}");
        assert!(report.summary.broadcasts_checked > 0, "{report}");
    }
}
