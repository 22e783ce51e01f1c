//! Three application servers in one cluster on the in-memory bus, under a
//! virtual clock: broadcasts (rooms, except, local), join/leave/disconnect
//! on a selection, fetch-sockets, server-side emit with and without acks,
//! broadcast with acks, a node that hangs (requests complete at their
//! timeout with the others' answers) and one that leaves (the node count
//! drops, requests stop waiting for it).

#![allow(clippy::needless_range_loop)] // nodes and their clients share indices

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_sansio::app::{App, AppServer, Namespace};
use socketio_sansio::cluster::bus::MemoryBus;
use socketio_sansio::cluster::Cluster;
use socketio_sansio::{Args, Config, ConnId, Frame, Handshake, SeededRandom, Transmit};

type Log = Arc<Mutex<Vec<String>>>;

fn app(name: &'static str, log: Log) -> App {
    let ns = Namespace::new().on_connection(|socket| {
        socket.on("bc", |s, args, _| s.of("/").emit("news", args));
        socket.on("bc-local", |s, args, _| {
            s.of("/").local().emit("news", args)
        });
        socket.on("bc-except", |s, mut args, _| {
            let room = args.values.remove(0);
            s.of("/")
                .except(room.as_str().unwrap_or_default())
                .emit("news", args)
        });
        socket.on("room", |s, mut args, _| {
            let room = args.values.remove(0);
            s.of("/")
                .to(room.as_str().unwrap_or_default())
                .emit("news", args)
        });
        socket.on("volatile", |s, args, _| {
            s.of("/").volatile().emit("news", args)
        });
        socket.on("join", |s, args, ack| {
            let room = args.values[0].as_str().unwrap_or_default().to_owned();
            s.join(&room);
            if let Some(ack) = ack {
                ack.send(s, true);
            }
        });
        socket.on("join-all", |s, args, _| {
            let room = args.values[0].as_str().unwrap_or_default().to_owned();
            s.of("/").sockets_join([room]);
        });
        socket.on("leave-all", |s, args, _| {
            let room = args.values[0].as_str().unwrap_or_default().to_owned();
            s.of("/").sockets_leave([room]);
        });
        socket.on("kick", |s, args, _| {
            let room = args.values[0].as_str().unwrap_or_default().to_owned();
            s.of("/").to(room).disconnect_sockets(false);
        });
        socket.on("fetch", |s, args, ack| {
            let Some(ack) = ack else { return };
            let mut op = s.of("/");
            if let Some(room) = args.values.first().and_then(Value::as_str) {
                op = op.to(room);
            }
            op.fetch_sockets(move |io, sockets| {
                let mut ids: Vec<String> = sockets.into_iter().map(|s| s.id).collect();
                ids.sort();
                ack.send(io, json!(ids));
            });
        });
        socket.on("ack-all", |s, args, ack| {
            let ms = args.values[0].as_u64().unwrap_or(1000);
            s.of("/").timeout(Duration::from_millis(ms)).emit_with_ack(
                "ping",
                Args::default(),
                move |io, acks| {
                    let mut answers: Vec<String> = acks
                        .responses
                        .iter()
                        .map(|(_, a)| a.values[0].as_str().unwrap_or_default().to_owned())
                        .collect();
                    answers.sort();
                    if let Some(ack) = ack {
                        ack.send(io, json!([answers, acks.is_complete()]));
                    }
                },
            );
        });
        socket.on("sse", |s, args, ack| {
            s.server_side_emit_with_ack("hello", args, Duration::from_secs(2), move |io, acks| {
                let mut answers: Vec<String> = acks
                    .responses
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect();
                answers.sort();
                if let Some(ack) = ack {
                    ack.send(io, json!([answers, acks.complete]));
                }
            });
        });
        socket.on("notify", |s, args, _| s.server_side_emit("note", args));
    });
    let log2 = log.clone();
    App::new()
        .ns("/", ns)
        .on_server_side_emit("hello", move |io, _args, ack| {
            if let Some(ack) = ack {
                ack.send(io, name);
            }
            let _ = io.now();
        })
        .on_server_side_emit("note", move |_, args, ack| {
            log2.lock().unwrap().push(format!(
                "{name}: note {:?} ack={}",
                args.values,
                ack.is_some()
            ));
        })
}

struct Net {
    nodes: Vec<AppServer>,
    bus: MemoryBus,
    now: Instant,
    out: Vec<BTreeMap<ConnId, Vec<String>>>,
    log: Log,
}

const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

impl Net {
    fn new() -> Net {
        let log: Log = Arc::default();
        let nodes: Vec<AppServer> = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let config = Config::builder()
                    .ping_interval(Duration::from_secs(25))
                    .ping_timeout(Duration::from_secs(20));
                let mut io = AppServer::with_random(
                    config,
                    app(name, log.clone()),
                    Box::new(SeededRandom::new(100 + i as u64)),
                )
                .unwrap();
                io.attach_cluster(Cluster::new(*name, Duration::from_secs(5)), None);
                io
            })
            .collect();
        let mut net = Net {
            bus: MemoryBus::new(["/"], nodes.len()),
            out: vec![BTreeMap::new(); nodes.len()],
            nodes,
            now: Instant::now(),
            log,
        };
        net.pump();
        net
    }

    fn pump(&mut self) {
        self.bus.pump(self.now, &mut self.nodes);
        for (i, node) in self.nodes.iter_mut().enumerate() {
            while let Some((conn, t)) = node.poll_transmit() {
                match t {
                    Transmit::Frame(Frame::Text(text)) => {
                        self.out[i].entry(conn).or_default().push(text.to_string())
                    }
                    Transmit::Frame(Frame::Binary(bytes)) => self.out[i]
                        .entry(conn)
                        .or_default()
                        .push(format!("bin:{:?}", bytes.as_ref())),
                    _ => {}
                }
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        for node in &mut self.nodes {
            if node.poll_timeout().is_some_and(|t| t <= self.now) {
                node.handle_timeout(self.now);
            }
        }
        self.pump();
    }

    /// A v4 client joined to `/` on `node`: its connection and socket id.
    fn connect(&mut self, node: usize) -> (ConnId, String) {
        let conn = self.nodes[node]
            .handle_ws_open(
                self.now,
                Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]),
            )
            .unwrap();
        self.nodes[node].handle_ws_text(self.now, conn, "40");
        self.pump();
        let frames = self.take(node, conn);
        let connect = frames.iter().find(|f| f.starts_with("40{")).unwrap();
        let sid: Value = serde_json::from_str(&connect[2..]).unwrap();
        (conn, sid["sid"].as_str().unwrap().to_owned())
    }

    fn send(&mut self, node: usize, conn: ConnId, text: &str) {
        self.nodes[node].handle_ws_text(self.now, conn, text);
        self.pump();
    }

    fn take(&mut self, node: usize, conn: ConnId) -> Vec<String> {
        self.out[node].remove(&conn).unwrap_or_default()
    }
}

/// One client per node, each joined to `/`.
fn three() -> (Net, Vec<(ConnId, String)>) {
    let mut net = Net::new();
    let clients = (0..3).map(|i| net.connect(i)).collect();
    (net, clients)
}

#[test]
fn broadcasts_reach_every_node_but_local_stays_home() {
    let (mut net, c) = three();
    for from in 0..3 {
        net.send(from, c[from].0, &format!(r#"42["bc",{from}]"#));
        for to in 0..3 {
            assert_eq!(
                net.take(to, c[to].0),
                vec![format!(r#"42["news",{from}]"#)],
                "{from} -> {to}"
            );
        }
    }
    net.send(1, c[1].0, r#"42["bc-local","home"]"#);
    assert_eq!(net.take(1, c[1].0), vec![r#"42["news","home"]"#]);
    assert!(net.take(0, c[0].0).is_empty());
    assert!(net.take(2, c[2].0).is_empty());
    net.send(2, c[2].0, r#"42["volatile","v"]"#);
    assert_eq!(net.take(0, c[0].0), vec![r#"42["news","v"]"#]);
}

#[test]
fn binary_broadcasts_cross_nodes() {
    let (mut net, c) = three();
    net.send(0, c[0].0, r#"451-["bc",{"_placeholder":true,"num":0}]"#);
    net.nodes[0].handle_ws_binary(net.now, c[0].0, vec![1, 2, 3]);
    net.pump();
    for i in 0..3 {
        assert_eq!(
            net.take(i, c[i].0),
            vec![
                r#"451-["news",{"_placeholder":true,"num":0}]"#.to_owned(),
                "bin:[1, 2, 3]".to_owned()
            ],
            "node {i}"
        );
    }
}

#[test]
fn room_broadcasts_and_except_cross_nodes() {
    let (mut net, c) = three();
    net.send(1, c[1].0, r#"421["join","chess"]"#);
    net.send(2, c[2].0, r#"421["join","chess"]"#);
    net.take(1, c[1].0);
    net.take(2, c[2].0);
    net.send(0, c[0].0, r#"42["room","chess","e4"]"#);
    assert!(net.take(0, c[0].0).is_empty());
    assert_eq!(net.take(1, c[1].0), vec![r#"42["news","e4"]"#]);
    assert_eq!(net.take(2, c[2].0), vec![r#"42["news","e4"]"#]);
    // A socket id is a room: private message across nodes.
    let target = c[2].1.clone();
    net.send(0, c[0].0, &format!(r#"42["room","{target}","psst"]"#));
    assert_eq!(net.take(2, c[2].0), vec![r#"42["news","psst"]"#]);
    assert!(net.take(1, c[1].0).is_empty());
    net.send(1, c[1].0, r#"42["bc-except","chess","not you"]"#);
    assert_eq!(net.take(0, c[0].0), vec![r#"42["news","not you"]"#]);
    assert!(net.take(1, c[1].0).is_empty());
    assert!(net.take(2, c[2].0).is_empty());
}

#[test]
fn sockets_join_leave_and_disconnect_on_a_selection() {
    let (mut net, c) = three();
    net.send(0, c[0].0, r#"42["join-all","all"]"#);
    net.send(1, c[1].0, r#"42["room","all","x"]"#);
    for i in 0..3 {
        assert_eq!(net.take(i, c[i].0), vec![r#"42["news","x"]"#], "node {i}");
    }
    net.send(2, c[2].0, r#"42["leave-all","all"]"#);
    net.send(1, c[1].0, r#"42["room","all","y"]"#);
    for i in 0..3 {
        assert!(net.take(i, c[i].0).is_empty(), "node {i}");
    }
    net.send(2, c[2].0, r#"421["join","doomed"]"#);
    net.take(2, c[2].0);
    net.send(0, c[0].0, r#"42["kick","doomed"]"#);
    assert_eq!(net.take(2, c[2].0), vec!["41"]);
    assert!(net.take(0, c[0].0).is_empty());
}

#[test]
fn fetch_sockets_lists_every_node() {
    let (mut net, c) = three();
    let mut all: Vec<String> = c.iter().map(|(_, id)| id.clone()).collect();
    all.sort();
    for i in 0..3 {
        net.send(i, c[i].0, r#"421["fetch"]"#);
        assert_eq!(net.take(i, c[i].0), vec![format!("431[{}]", json!(all))]);
    }
    net.send(2, c[2].0, r#"421["join","few"]"#);
    net.take(2, c[2].0);
    net.send(0, c[0].0, r#"422["fetch","few"]"#);
    assert_eq!(net.take(0, c[0].0), vec![format!(r#"432[["{}"]]"#, c[2].1)]);
}

#[test]
fn server_side_emit_with_and_without_acks() {
    let (mut net, c) = three();
    net.send(0, c[0].0, r#"421["sse",1]"#);
    assert_eq!(net.take(0, c[0].0), vec![r#"431[[["beta","gamma"],true]]"#]);
    net.send(2, c[2].0, r#"421["sse"]"#);
    assert_eq!(net.take(2, c[2].0), vec![r#"431[[["alpha","beta"],true]]"#]);
    net.send(1, c[1].0, r#"42["notify","hi"]"#);
    let mut log = net.log.lock().unwrap().clone();
    log.sort();
    assert_eq!(
        log,
        vec![
            r#"alpha: note [String("hi")] ack=false"#,
            r#"gamma: note [String("hi")] ack=false"#
        ]
    );
}

/// The client answers every `ping` it got with its node's name.
fn answer_pings(net: &mut Net, c: &[(ConnId, String)], nodes: &[usize]) {
    for &i in nodes {
        for frame in net.take(i, c[i].0) {
            let rest = frame.strip_prefix("42").unwrap();
            let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(&rest[id.len()..], r#"["ping"]"#);
            net.send(i, c[i].0, &format!(r#"43{id}["{}"]"#, NAMES[i]));
        }
    }
}

#[test]
fn broadcast_with_acks_gathers_every_node() {
    let (mut net, c) = three();
    net.send(1, c[1].0, r#"427["ack-all",1000]"#);
    answer_pings(&mut net, &c, &[0, 1, 2]);
    assert_eq!(
        net.take(1, c[1].0),
        vec![r#"437[[["alpha","beta","gamma"],true]]"#]
    );
    // One client stays silent: the timeout completes it with the others.
    net.send(0, c[0].0, r#"428["ack-all",1000]"#);
    answer_pings(&mut net, &c, &[1]);
    net.take(0, c[0].0);
    net.take(2, c[2].0);
    net.advance(Duration::from_millis(999));
    assert!(net.take(0, c[0].0).is_empty());
    net.advance(Duration::from_millis(1));
    assert_eq!(net.take(0, c[0].0), vec![r#"438[[["beta"],false]]"#]);
}

#[test]
fn a_hung_node_is_waited_for_until_the_timeout() {
    let (mut net, c) = three();
    net.bus.mute(2);
    net.send(0, c[0].0, r#"421["fetch"]"#);
    assert!(net.take(0, c[0].0).is_empty());
    net.send(0, c[0].0, r#"422["sse"]"#);
    net.advance(Duration::from_secs(2));
    assert_eq!(net.take(0, c[0].0), vec![r#"432[[["beta"],false]]"#]);
    net.advance(Duration::from_secs(3));
    let mut ids = vec![c[0].1.clone(), c[1].1.clone()];
    ids.sort();
    assert_eq!(net.take(0, c[0].0), vec![format!("431[{}]", json!(ids))]);
    assert_eq!(net.nodes[0].cluster().unwrap().pending_requests(), 0);
}

#[test]
fn a_node_that_leaves_drops_from_the_count() {
    let (mut net, c) = three();
    net.bus.mute(2);
    net.send(0, c[0].0, r#"421["sse"]"#);
    assert!(net.take(0, c[0].0).is_empty());
    // The transport notices the node is gone: the pending request has
    // every answer the remaining node owes.
    net.bus.detach(2);
    net.pump();
    assert_eq!(net.take(0, c[0].0), vec![r#"431[[["beta"],true]]"#]);
    assert_eq!(net.nodes[0].cluster().unwrap().node_count("/"), 2);
    net.send(1, c[1].0, r#"422["fetch"]"#);
    let mut ids = vec![c[0].1.clone(), c[1].1.clone()];
    ids.sort();
    assert_eq!(net.take(1, c[1].0), vec![format!("432[{}]", json!(ids))]);
}

#[test]
fn alone_in_the_cluster_everything_completes_at_once() {
    let mut net = Net::new();
    net.bus.detach(1);
    net.bus.detach(2);
    net.pump();
    let (conn, id) = net.connect(0);
    net.send(0, conn, r#"421["fetch"]"#);
    assert_eq!(net.take(0, conn), vec![format!(r#"431[["{id}"]]"#)]);
    net.send(0, conn, r#"422["sse"]"#);
    assert_eq!(net.take(0, conn), vec![r#"432[[[],true]]"#]);
}
