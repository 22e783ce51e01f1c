//! The application layer on a virtual clock: middlewares, dynamic
//! namespaces, packet middlewares, listeners, acknowledgements (exactly one
//! outcome), broadcasts with acknowledgements, fetch/join/leave/disconnect
//! on selections, and commands from other threads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_sansio::app::{
    AckError, App, AppServer, Command, CommandSink, ConnectError, Namespace, Refusal, Remote,
};
use socketio_sansio::{Config, ConnId, DisconnectReason, Frame, Handshake, SeededRandom, Transmit};

type Log = Arc<Mutex<Vec<String>>>;

fn log(log: &Log, line: impl Into<String>) {
    log.lock().unwrap().push(line.into());
}

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

struct Harness<D: Default + Send + 'static> {
    io: AppServer<D>,
    now: Instant,
    out: BTreeMap<ConnId, Vec<String>>,
    closed: Vec<ConnId>,
}

impl<D: Default + Send + 'static> Harness<D> {
    fn new(app: App<D>) -> Self {
        let config = Config::builder()
            .ping_interval(Duration::from_secs(25))
            .ping_timeout(Duration::from_secs(20));
        Harness {
            io: AppServer::with_random(config, app, Box::new(SeededRandom::new(3))).unwrap(),
            now: Instant::now(),
            out: BTreeMap::new(),
            closed: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some((conn, t)) = self.io.poll_transmit() {
            match t {
                Transmit::Frame(Frame::Text(text)) => {
                    self.out.entry(conn).or_default().push(text.to_string())
                }
                Transmit::Frame(other) => panic!("unexpected frame {other:?}"),
                Transmit::Close => self.closed.push(conn),
            }
        }
    }

    /// A v4 WebSocket client, its open packet taken.
    fn open(&mut self) -> ConnId {
        let conn = self
            .io
            .handle_ws_open(
                self.now,
                Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]),
            )
            .unwrap();
        self.take(conn);
        conn
    }

    fn send(&mut self, conn: ConnId, text: &str) {
        self.io.handle_ws_text(self.now, conn, text);
    }

    fn take(&mut self, conn: ConnId) -> Vec<String> {
        self.drain();
        self.out.remove(&conn).unwrap_or_default()
    }

    /// Opens and joins `/`; returns the connection and its socket id.
    fn connect(&mut self, auth: &str) -> (ConnId, String) {
        let conn = self.open();
        self.send(conn, &format!("40{auth}"));
        let frames = self.take(conn);
        let sid = frames
            .iter()
            .find_map(|f| f.strip_prefix("40"))
            .map(|j| {
                serde_json::from_str::<Value>(j).unwrap()["sid"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .unwrap_or_else(|| panic!("no CONNECT answer in {frames:?}"));
        (conn, sid)
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.io.handle_timeout(self.now);
    }
}

#[test]
fn middlewares_run_in_order_attach_data_and_reject_with_message_and_data() {
    #[derive(Default, Clone, Debug)]
    struct User {
        steps: Vec<&'static str>,
        name: String,
    }
    let app = App::<User>::new()
        .use_middleware(|c| {
            c.data_mut().steps.push("io.use");
            Ok(())
        })
        .ns(
            "/",
            Namespace::<User>::new()
                .use_middleware(|c| {
                    c.data_mut().steps.push("nsp.use");
                    match c.auth()["name"].as_str() {
                        Some(name) => {
                            c.data_mut().name = name.to_owned();
                            Ok(())
                        }
                        None => Err(ConnectError::new("name required")
                            .with_data(json!({"hint": "send auth.name"}))),
                    }
                })
                .on_connection(|socket| {
                    let summary =
                        format!("{}:{}", socket.data().steps.join(","), socket.data().name);
                    socket.emit("hello", summary.as_str());
                }),
        );
    let mut h = Harness::new(app);
    let (conn, _) = h.connect(r#"{"name":"ada"}"#);
    h.send(conn, "42[\"x\"]");
    let conn2 = h.open();
    h.send(conn2, "40");
    assert_eq!(
        h.take(conn2),
        vec![r#"44{"message":"name required","data":{"hint":"send auth.name"}}"#]
    );
    // The accepted client saw the data the middlewares attached, in order.
    let conn3 = h.open();
    h.send(conn3, r#"40{"name":"bob"}"#);
    let frames = h.take(conn3);
    assert_eq!(frames[1], r#"42["hello","io.use,nsp.use:bob"]"#);
    let _ = conn;
}

#[test]
fn unknown_namespaces_are_refused_the_main_one_always_exists_and_dynamic_children_are_tracked() {
    let app: App = App::new()
        .ns("/", Namespace::new())
        .dynamic_ns(|n| n.starts_with("/room-"), Namespace::new())
        .cleanup_empty_child_namespaces(true);
    let mut h = Harness::new(app);
    let conn = h.open();
    h.send(conn, "40/nope,");
    assert_eq!(
        h.take(conn),
        vec![r#"44/nope,{"message":"Invalid namespace"}"#]
    );
    h.send(conn, "40/room-1,");
    assert!(h.take(conn)[0].starts_with("40/room-1,{\"sid\":"));
    assert_eq!(h.io.namespaces(), vec!["/", "/room-1"]);
    h.send(conn, "41/room-1,");
    h.drain();
    // Emptied: cleaned up.
    assert_eq!(h.io.namespaces(), vec!["/"]);

    // Without cleanup the child stays; `/` exists without being defined
    // (socket.io's main namespace always does).
    let app: App = App::new().dynamic_ns(|n| n.starts_with("/room-"), Namespace::new());
    let mut h = Harness::new(app);
    let conn = h.open();
    h.send(conn, "40/room-2,");
    h.send(conn, "41/room-2,");
    h.drain();
    assert_eq!(h.io.namespaces(), vec!["/", "/room-2"]);
    h.send(conn, "40");
    assert!(h.take(conn).last().unwrap().starts_with("40{\"sid\":"));
}

#[test]
fn packet_middleware_alters_or_refuses_and_listeners_see_everything() {
    let seen = Log::default();
    let (s1, s2, s3, s4) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    let app: App = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            let (s1, s2, s3, s4) = (s1.clone(), s2.clone(), s3.clone(), s4.clone());
            socket.use_middleware(|_, event| {
                if event.name == "secret" {
                    return Err(Refusal::new("unauthorized event")
                        .with_reply(json!({"error": "unauthorized"})));
                }
                if event.name == "old-name" {
                    event.name = "new-name".into();
                }
                Ok(())
            });
            socket.on_error(move |_, refusal| log(&s1, format!("error:{}", refusal.message)));
            socket
                .on_any(move |_, name, args| log(&s2, format!("any:{name}:{}", args.values.len())));
            socket.on_any_outgoing(move |_, name, _| log(&s3, format!("out:{name}")));
            socket.on("new-name", move |socket, _, _| {
                log(&s4, "new-name handler");
                socket.emit("renamed", ());
            });
        }),
    );
    let mut h = Harness::new(app);
    let (conn, _) = h.connect("");
    h.send(conn, r#"421["secret",1]"#);
    assert_eq!(h.take(conn), vec![r#"431[{"error":"unauthorized"}]"#]);
    h.send(conn, r#"42["old-name",1,2]"#);
    assert_eq!(h.take(conn), vec![r#"42["renamed"]"#]);
    // A broadcast reaching the socket is outgoing too.
    h.io.with_io(h.now, |io| io.of("/").emit("news", "x"));
    assert_eq!(h.take(conn), vec![r#"42["news","x"]"#]);
    assert_eq!(
        lines(&seen),
        vec![
            "error:unauthorized event",
            "any:new-name:2",
            "new-name handler",
            "out:renamed",
            "out:news"
        ]
    );
}

#[test]
fn emit_with_ack_has_exactly_one_outcome() {
    let outcomes = Log::default();
    let o = outcomes.clone();
    let app: App = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            for (event, timeout) in [("answered", 1000), ("timed-out", 1000), ("orphan", 60_000)] {
                let o = o.clone();
                socket.emit_with_ack(
                    event,
                    (),
                    Some(Duration::from_millis(timeout)),
                    move |_, r| log(&o, format!("{event}:{r:?}")),
                );
            }
            let o = o.clone();
            socket.emit_with_ack("disconnect", (), None, move |_, r| {
                log(
                    &o,
                    format!("reserved:{}", matches!(r, Err(AckError::NotSent(_)))),
                )
            });
        }),
    );
    let mut h = Harness::new(app);
    let (conn, _) = h.connect("");
    // Ack ids count from 0 per socket: answered = 0, timed-out = 1, orphan = 2.
    h.send(conn, "430[\"ok\"]");
    h.send(conn, "430[\"twice\"]");
    h.advance(Duration::from_millis(1500));
    h.send(conn, "431[\"late\"]");
    h.send(conn, "41");
    h.drain();
    h.advance(Duration::from_secs(120));
    assert_eq!(
        lines(&outcomes),
        vec![
            "reserved:true",
            r#"answered:Ok(Args { values: [String("ok")], binaries: [] })"#,
            "timed-out:Err(Timeout)",
            "orphan:Err(Disconnected)",
        ]
    );
}

#[test]
fn broadcast_with_ack_gathers_answers_under_one_timeout() {
    let results = Log::default();
    let r = results.clone();
    let app: App = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            let r = r.clone();
            socket.on("ask-all", move |socket, _, _| {
                let r = r.clone();
                socket
                    .of("/")
                    .timeout(Duration::from_secs(2))
                    .emit_with_ack("ping", (), move |_, acks| {
                        let answers: Vec<String> = acks
                            .responses
                            .iter()
                            .map(|(_, a)| a.values[0].to_string())
                            .collect();
                        log(
                            &r,
                            format!(
                                "{} answers {answers:?}, {} missing, complete {}",
                                answers.len(),
                                acks.missing.len(),
                                acks.is_complete()
                            ),
                        )
                    });
            });
        }),
    );
    let mut h = Harness::new(app);
    let (a, _) = h.connect("");
    let (b, _) = h.connect("");
    let (c, c_sid) = h.connect("");
    h.send(a, r#"42["ask-all"]"#);
    for conn in [a, b, c] {
        assert_eq!(h.take(conn), vec![r#"420["ping"]"#]);
    }
    h.send(a, "430[1]");
    h.send(b, "430[2]");
    assert!(lines(&results).is_empty(), "waits for the third");
    h.advance(Duration::from_secs(3));
    assert_eq!(
        lines(&results),
        vec![r#"2 answers ["1", "2"], 1 missing, complete false"#]
    );
    // Everyone answers: complete before the timeout.
    h.send(a, r#"42["ask-all"]"#);
    for (i, conn) in [a, b, c].into_iter().enumerate() {
        h.send(conn, &format!("431[{i}]"));
    }
    assert_eq!(
        lines(&results)[1],
        r#"3 answers ["0", "1", "2"], 0 missing, complete true"#
    );
    let _ = c_sid;
}

#[test]
fn fetch_join_leave_and_disconnect_sockets_act_on_selections() {
    #[derive(Default, Clone, Debug, PartialEq)]
    struct Data {
        n: u32,
    }
    let app = App::<Data>::new().ns(
        "/",
        Namespace::<Data>::new()
            .use_middleware(|c| {
                c.data_mut().n = c.auth()["n"].as_u64().unwrap_or(0) as u32;
                Ok(())
            })
            .on_connection(|socket| {
                let n = socket.data().n;
                if n % 2 == 0 {
                    socket.join("even");
                }
            }),
    );
    let mut h = Harness::new(app);
    let clients: Vec<(ConnId, String)> = (0..4)
        .map(|n| h.connect(&format!("{{\"n\":{n}}}")))
        .collect();
    let fetched = Arc::new(Mutex::new(Vec::new()));
    let f = fetched.clone();
    h.io.with_io(h.now, |io| {
        io.of("/").to("even").fetch_sockets(move |_, sockets| {
            *f.lock().unwrap() = sockets
                .into_iter()
                .map(|s| (s.id, s.data.n, s.rooms.len()))
                .collect();
        })
    });
    let mut got = fetched.lock().unwrap().clone();
    got.sort_by_key(|(_, n, _)| *n);
    assert_eq!(
        got,
        vec![(clients[0].1.clone(), 0, 2), (clients[2].1.clone(), 2, 2)]
    );
    // Every odd socket joins "odd", then the evens leave "even".
    h.io.with_io(h.now, |io| io.of("/").except("even").sockets_join(["odd"]));
    h.io.with_io(h.now, |io| io.of("/").to("even").sockets_leave(["even"]));
    assert!(h.io.server().room_members("/", "even").is_empty());
    assert_eq!(
        h.io.server().room_members("/", "odd"),
        vec![clients[1].0, clients[3].0]
    );
    // Disconnect the odd ones from `/` (connection kept) and close the rest.
    h.io.with_io(h.now, |io| io.of("/").to("odd").disconnect_sockets(false));
    assert_eq!(h.take(clients[1].0), vec!["41"]);
    h.io.with_io(h.now, |io| io.of("/").disconnect_sockets(true));
    h.drain();
    assert!(h.closed.contains(&clients[0].0) && h.closed.contains(&clients[2].0));
    assert!(!h.closed.contains(&clients[1].0));
}

#[test]
fn disconnect_handlers_run_once_with_the_reason_and_no_handler_runs_after() {
    let seen = Log::default();
    let s = seen.clone();
    let app: App = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            let (s1, s2) = (s.clone(), s.clone());
            socket.on("hi", move |_, _, _| log(&s1, "hi"));
            socket.on_disconnect(move |socket, reason: &DisconnectReason| {
                log(
                    &s2,
                    format!("bye {} {}", socket.id().len(), reason.as_str()),
                )
            });
        }),
    );
    let mut h = Harness::new(app);
    let (conn, _) = h.connect("");
    h.send(conn, r#"42["hi"]"#);
    h.io.handle_ws_closed(h.now, conn);
    h.send(conn, r#"42["hi"]"#);
    h.drain();
    assert_eq!(lines(&seen), vec!["hi", "bye 20 transport close"]);
}

/// A sink that queues commands, as a driver's channel would.
#[derive(Default)]
struct QueueSink {
    queue: Mutex<Vec<Command<()>>>,
    loop_thread: Mutex<bool>,
}

impl CommandSink<()> for QueueSink {
    fn send(&self, command: Command<()>) -> bool {
        self.queue.lock().unwrap().push(command);
        true
    }
    fn on_loop_thread(&self) -> bool {
        *self.loop_thread.lock().unwrap()
    }
}

#[test]
fn remote_commands_apply_in_order_and_blocking_waits_refuse_the_loop_thread() {
    let app: App = App::new().ns("/", Namespace::new());
    let mut h = Harness::new(app);
    let sink = Arc::new(QueueSink::default());
    let remote: Remote<()> = Remote::new(sink.clone());
    h.io.set_remote(remote.clone());
    let (conn, _) = h.connect("");
    remote.of("/").emit("one", json!(1));
    remote.socket(conn, "/").emit("two", json!(2));
    remote.socket(conn, "/").join("r");
    remote.to("r").emit("three", ());
    for command in std::mem::take(&mut *sink.queue.lock().unwrap()) {
        h.io.apply(h.now, command);
    }
    assert_eq!(
        h.take(conn),
        vec![r#"42["one",1]"#, r#"42["two",2]"#, r#"42["three"]"#]
    );
    *sink.loop_thread.lock().unwrap() = true;
    assert_eq!(
        remote
            .socket(conn, "/")
            .emit_with_ack("x", (), Duration::from_secs(1)),
        Err(AckError::WouldDeadlock)
    );
    // Shutdown through the same command type.
    remote.shutdown();
    for command in std::mem::take(&mut *sink.queue.lock().unwrap()) {
        h.io.apply(h.now, command);
    }
    assert!(h.io.is_shutting_down());
}

#[test]
fn namespace_handlers_serve_every_socket_and_a_socket_handler_takes_precedence() {
    let app: App = App::new().ns(
        "/",
        Namespace::new()
            .on("who", |socket, _, _| socket.emit("answer", "namespace"))
            .on_connection(|socket| {
                if socket.auth()["own"].as_bool() == Some(true) {
                    socket.on("who", |socket, _, _| socket.emit("answer", "socket"));
                }
            }),
    );
    let mut h = Harness::new(app);
    let (plain, _) = h.connect("");
    let (own, _) = h.connect(r#"{"own":true}"#);
    h.send(plain, r#"42["who"]"#);
    h.send(own, r#"42["who"]"#);
    assert_eq!(h.take(plain), vec![r#"42["answer","namespace"]"#]);
    assert_eq!(h.take(own), vec![r#"42["answer","socket"]"#]);
}
