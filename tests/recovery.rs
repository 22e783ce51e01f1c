//! Connection state recovery, server side, on a virtual clock: pid and
//! offsets, restore with the same id, rooms and data, missed packets in
//! order before the CONNECT answer, several recoveries in a row, a socket
//! that never received an event, room-accurate replay, reasons that do not
//! keep a session, expiry, and the store's bounds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_sansio::app::{
    App, AppServer, ConnectError, Namespace, RecoveryConfig, RecoveryEviction,
};
use socketio_sansio::{Config, ConnId, Frame, Handshake, SeededRandom, Transmit};

#[derive(Default)]
struct Data {
    name: String,
    connections: u32,
}

struct Harness {
    io: AppServer<Data>,
    now: Instant,
    recovered: Arc<Mutex<Vec<bool>>>,
}

const WS: &str = "/socket.io/?EIO=4&transport=websocket";

fn app(recovered: Arc<Mutex<Vec<bool>>>, config: RecoveryConfig) -> App<Data> {
    App::new()
        .ns(
            "/",
            Namespace::<Data>::new()
                .use_middleware(|c| match c.auth()["name"].as_str() {
                    Some(name) => {
                        c.data_mut().name = name.to_owned();
                        Ok(())
                    }
                    None => Err(ConnectError::new("who are you?")),
                })
                .on_connection(move |socket| {
                    recovered.lock().unwrap().push(socket.recovered());
                    socket.data_mut().connections += 1;
                    socket.on("join", |socket, args, _| {
                        let room = args.values[0].as_str().unwrap_or_default().to_owned();
                        socket.join(&room);
                    });
                    socket.on("whoami", |socket, _, ack| {
                        let d = socket.data();
                        let answer = json!([d.name, d.connections]);
                        if let Some(ack) = ack {
                            ack.send(socket, answer);
                        }
                    });
                }),
        )
        .connection_state_recovery(config)
}

impl Harness {
    fn new(config: RecoveryConfig) -> Self {
        let recovered = Arc::new(Mutex::new(Vec::new()));
        let app = app(recovered.clone(), config);
        let config = Config::builder()
            .ping_interval(Duration::from_secs(25))
            .ping_timeout(Duration::from_secs(20));
        Harness {
            io: AppServer::with_random(config, app, Box::new(SeededRandom::new(9))).unwrap(),
            now: Instant::now(),
            recovered,
        }
    }

    /// Text frames sent so far, per connection in `conns` order.
    fn texts(&mut self, conn: ConnId) -> Vec<String> {
        let mut out = Vec::new();
        let mut others = Vec::new();
        while let Some((to, t)) = self.io.poll_transmit() {
            if let Transmit::Frame(Frame::Text(text)) = t {
                if to == conn {
                    out.push(text.to_string());
                } else {
                    others.push(text.to_string());
                }
            }
        }
        out
    }

    fn drain(&mut self) {
        while self.io.poll_transmit().is_some() {}
    }

    fn open(&mut self) -> ConnId {
        let conn = self
            .io
            .handle_ws_open(self.now, Handshake::new(WS, vec![]))
            .unwrap();
        self.drain();
        conn
    }

    /// Connects `/` with `auth`; returns the connection, the frames before
    /// the CONNECT answer, and the answer's payload.
    fn connect(&mut self, auth: Value) -> (ConnId, Vec<String>, Value) {
        let conn = self.open();
        self.io.handle_ws_text(self.now, conn, &format!("40{auth}"));
        let mut sent = self.texts(conn);
        let answer = sent.iter().position(|t| t.starts_with("40")).unwrap();
        let payload = serde_json::from_str(&sent[answer][2..]).unwrap();
        sent.truncate(answer);
        (conn, sent, payload)
    }

    fn cut(&mut self, conn: ConnId) {
        self.io.handle_ws_closed(self.now, conn);
        self.drain();
    }

    fn broadcast(&mut self, room: Option<&str>, event: &str, arg: Value) {
        self.io.with_io(self.now, |io| match room {
            Some(room) => io.to(room).emit(event, arg),
            None => io.of("/").emit(event, arg),
        });
    }
}

fn offset_of(frame: &str) -> String {
    let v: Value = serde_json::from_str(&frame[2..]).unwrap();
    v.as_array()
        .and_then(|a| a.last())
        .and_then(Value::as_str)
        .unwrap()
        .to_owned()
}

#[test]
fn connect_answer_carries_pid_and_events_carry_offsets() {
    let mut h = Harness::new(RecoveryConfig::default());
    let (conn, _, answer) = h.connect(json!({"name": "ada"}));
    assert!(answer["sid"].is_string() && answer["pid"].is_string());
    h.broadcast(None, "news", json!("a"));
    h.io.with_io(h.now, |io| {
        let mut s = io.socket(conn, "/").unwrap();
        s.emit("direct", "b");
    });
    let sent = h.texts(conn);
    assert_eq!(sent[0], r#"42["news","a","1"]"#);
    assert_eq!(sent[1], r#"42["direct","b","2"]"#);
    // Volatile packets and packets with an ack id carry no offset.
    h.io.with_io(h.now, |io| {
        let mut s = io.socket(conn, "/").unwrap();
        s.emit_volatile("volatile", "c");
    });
    assert_eq!(h.texts(conn), [r#"42["volatile","c"]"#]);
    h.io.with_io(h.now, |io| {
        let mut s = io.socket(conn, "/").unwrap();
        s.emit_with_ack("asks", "d", None, |_, _| {});
    });
    assert_eq!(h.texts(conn), [r#"420["asks","d"]"#]);
}

#[test]
fn restores_id_rooms_data_and_missed_packets_several_times() {
    let mut h = Harness::new(RecoveryConfig::default());
    let (conn, _, answer) = h.connect(json!({"name": "ada"}));
    let (sid, pid) = (answer["sid"].clone(), answer["pid"].clone());
    h.io.handle_ws_text(h.now, conn, r#"42["join","red"]"#);
    h.broadcast(None, "news", json!(0));
    let last = offset_of(&h.texts(conn)[0]);
    let mut conn = conn;
    let mut offset = last;
    for round in 1..=3 {
        h.cut(conn);
        h.now += Duration::from_secs(5);
        h.broadcast(Some("red"), "red", json!(round));
        h.broadcast(Some("blue"), "blue", json!(round));
        h.broadcast(None, "all", json!(round));
        let (c, missed, answer) =
            h.connect(json!({"pid": pid, "offset": offset, "name": "ignored"}));
        conn = c;
        assert_eq!(answer["sid"], sid, "round {round}: same socket id");
        assert_eq!(answer["pid"], pid);
        let names: Vec<Value> = missed
            .iter()
            .map(|m| serde_json::from_str::<Value>(&m[2..]).unwrap())
            .collect();
        assert_eq!(names.len(), 2, "round {round}: {missed:?}");
        assert_eq!(names[0][0], "red");
        assert_eq!(names[0][1], round);
        assert_eq!(names[1][0], "all");
        offset = offset_of(missed.last().unwrap());
        // Still in its room, with its data (middlewares skipped: the name
        // is the first one).
        h.broadcast(Some("red"), "red-live", json!(round));
        h.io.handle_ws_text(h.now, conn, r#"421["whoami"]"#);
        let live = h.texts(conn);
        assert!(live[0].starts_with(r#"42["red-live""#), "{live:?}");
        offset = offset_of(&live[0]).max(offset);
        assert_eq!(live[1], format!(r#"431[["ada",{}]]"#, round + 1));
    }
    assert_eq!(*h.recovered.lock().unwrap(), [false, true, true, true]);
    assert_eq!(h.io.recovery_stats().unwrap().restored, 3);
}

#[test]
fn a_socket_without_any_event_recovers_from_its_connect() {
    let mut h = Harness::new(RecoveryConfig::default());
    // Traffic before the socket exists is not replayed.
    h.broadcast(None, "before", json!(1));
    let (conn, _, answer) = h.connect(json!({"name": "bob"}));
    h.cut(conn);
    h.broadcast(None, "after", json!(2));
    // socket.io-client sends no offset when it never got an event.
    let (_, missed, again) = h.connect(json!({"pid": answer["pid"], "name": "bob"}));
    assert_eq!(again["sid"], answer["sid"]);
    assert_eq!(missed, [r#"42["after",2,"2"]"#]);
    assert_eq!(*h.recovered.lock().unwrap(), [false, true]);
}

#[test]
fn namespace_disconnects_and_unknown_offsets_do_not_recover() {
    let mut h = Harness::new(RecoveryConfig::default());
    let (conn, _, answer) = h.connect(json!({"name": "x"}));
    // The client leaves the namespace: nothing is kept.
    h.io.handle_ws_text(h.now, conn, "41");
    h.cut(conn);
    let (_, missed, again) = h.connect(json!({"pid": answer["pid"], "name": "x"}));
    assert!(missed.is_empty());
    assert_ne!(again["sid"], answer["sid"]);
    assert_ne!(again["pid"], answer["pid"]);
    // An offset that is not ours: a fresh socket, and middlewares run.
    let (conn, _, answer) = h.connect(json!({"name": "y"}));
    h.cut(conn);
    let (_, _, again) = h.connect(json!({"pid": answer["pid"], "offset": "zz", "name": "z"}));
    assert_ne!(again["sid"], answer["sid"]);
    assert_eq!(*h.recovered.lock().unwrap(), [false, false, false, false]);
    assert_eq!(h.io.recovery_stats().unwrap().failed, 2);
}

#[test]
fn sessions_expire_after_the_duration() {
    let mut h = Harness::new(RecoveryConfig {
        max_disconnection_duration: Duration::from_secs(10),
        ..RecoveryConfig::default()
    });
    let (conn, _, answer) = h.connect(json!({"name": "x"}));
    h.cut(conn);
    assert_eq!(h.io.recovery_stats().unwrap().sessions, 1);
    // The deadline is the session's expiry; the timer frees it.
    h.now += Duration::from_secs(10);
    assert!(h.io.poll_timeout().unwrap() <= h.now);
    h.io.handle_timeout(h.now);
    assert_eq!(h.io.recovery_stats().unwrap().sessions, 0);
    let (_, _, again) = h.connect(json!({"pid": answer["pid"], "name": "x"}));
    assert_ne!(again["sid"], answer["sid"]);
}

#[test]
fn bounds_evict_with_a_typed_report() {
    let evictions = Arc::new(Mutex::new(Vec::new()));
    let sink = evictions.clone();
    let recovered = Arc::new(Mutex::new(Vec::new()));
    let app = app(
        recovered,
        RecoveryConfig {
            max_sessions: 2,
            max_bytes: 1000,
            ..RecoveryConfig::default()
        },
    )
    .on_recovery_eviction(move |e| sink.lock().unwrap().push(e.clone()));
    let mut h = Harness::new(RecoveryConfig::default());
    h.io = AppServer::with_random(Config::builder(), app, Box::new(SeededRandom::new(1))).unwrap();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let (conn, _, answer) = h.connect(json!({"name": "n"}));
        pids.push(answer["pid"].clone());
        h.cut(conn);
    }
    let stats = h.io.recovery_stats().unwrap();
    assert_eq!(stats.sessions, 2);
    assert!(matches!(
        evictions.lock().unwrap()[0],
        RecoveryEviction::SessionDropped { .. }
    ));
    // The oldest session is gone.
    let (_, _, again) = h.connect(json!({"pid": pids[0], "name": "n"}));
    assert!(again["pid"] != pids[0]);
    // Past the byte bound, packets go and so does the replay they needed.
    for i in 0..50 {
        h.broadcast(None, "flood", json!(i));
    }
    assert!(h.io.recovery_stats().unwrap().bytes <= 1000);
    assert!(evictions
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, RecoveryEviction::PacketsDropped { .. })));
    let (_, missed, again) = h.connect(json!({"pid": pids[1], "name": "n"}));
    assert!(missed.is_empty());
    assert_ne!(again["pid"], pids[1]);
}

#[test]
fn polling_sessions_recover_too_and_shutdown_keeps_sessions() {
    let mut h = Harness::new(RecoveryConfig::default());
    let (conn, _, answer) = h.connect(json!({"name": "p"}));
    // A ping timeout is a transport reason.
    h.now += Duration::from_secs(25);
    h.io.handle_timeout(h.now);
    h.now += Duration::from_secs(20);
    h.io.handle_timeout(h.now);
    h.drain();
    assert!(h
        .io
        .server()
        .connection(conn)
        .map_or(true, |c| c.is_closed()));
    assert_eq!(h.io.recovery_stats().unwrap().sessions, 1);
    h.broadcast(None, "late", json!(1));
    let (_, missed, again) = h.connect(json!({"pid": answer["pid"], "name": "p"}));
    assert_eq!(again["sid"], answer["sid"]);
    assert_eq!(missed.len(), 1);
    let _ = conn;
}
