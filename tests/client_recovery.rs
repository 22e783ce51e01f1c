//! Connection state recovery, client side, against the application layer
//! of this crate on a virtual clock (WebSocket): the client keeps `pid` and
//! the last offset, sends them on reconnection, gets the missed events
//! right after `Connected`, and reports `recovered`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_sansio::app::{App, AppServer, Namespace, RecoveryConfig};
use socketio_sansio::client::{
    Client, ClientConfig, ClientEvent, ClientTransmit, TransportId, Transports,
};
use socketio_sansio::{Config, ConnId, Frame, Handshake, SeededRandom, Transmit};

struct Net {
    client: Client,
    io: AppServer,
    now: Instant,
    ws: BTreeMap<TransportId, ConnId>,
    events: Vec<ClientEvent>,
}

fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

impl Net {
    fn new() -> Self {
        let app: App = App::new()
            .ns(
                "/",
                Namespace::new()
                    .on_connection(|socket| socket.join("red"))
                    .on("volatile", |socket, args, _| {
                        socket.emit_volatile("tick", args)
                    }),
            )
            .connection_state_recovery(RecoveryConfig::default());
        let config = Config::builder()
            .ping_interval(Duration::from_secs(25))
            .ping_timeout(Duration::from_secs(20));
        let io = AppServer::with_random(config, app, Box::new(SeededRandom::new(5))).unwrap();
        let client_config = ClientConfig::builder("http://localhost:3000")
            .transports(Transports::WebSocket)
            .build()
            .unwrap();
        Net {
            client: Client::with_random(client_config, Box::new(SeededRandom::new(6))),
            io,
            now: Instant::now(),
            ws: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit() {
                moved = true;
                match t {
                    ClientTransmit::OpenWebSocket { transport, url, .. } => {
                        let conn = self
                            .io
                            .handle_ws_open(self.now, Handshake::new(target(&url), vec![]))
                            .unwrap();
                        self.ws.insert(transport, conn);
                        self.client.handle_ws_opened(self.now, transport);
                    }
                    ClientTransmit::WsFrame { transport, frame } => {
                        if let (Some(&conn), Frame::Text(text)) = (self.ws.get(&transport), frame) {
                            self.io.handle_ws_text(self.now, conn, &text);
                        }
                    }
                    ClientTransmit::CloseWebSocket { transport } => {
                        if let Some(conn) = self.ws.remove(&transport) {
                            self.io.handle_ws_closed(self.now, conn);
                        }
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            while let Some((conn, t)) = self.io.poll_transmit() {
                moved = true;
                let Some((&transport, _)) = self.ws.iter().find(|(_, c)| **c == conn) else {
                    continue;
                };
                match t {
                    Transmit::Frame(Frame::Text(text)) => {
                        self.client.handle_ws_text(self.now, transport, &text)
                    }
                    Transmit::Frame(_) => {}
                    Transmit::Close => {
                        self.ws.remove(&transport);
                        self.client.handle_ws_closed(self.now, transport);
                    }
                }
            }
            while let Some(e) = self.client.poll_event() {
                moved = true;
                self.events.push(e);
            }
            if !moved {
                return;
            }
        }
    }

    /// The network drops; the client reconnects after its delay.
    fn cut(&mut self) {
        for (transport, conn) in std::mem::take(&mut self.ws) {
            self.io.handle_ws_closed(self.now, conn);
            self.client.handle_ws_closed(self.now, transport);
        }
        self.pump();
    }

    fn reconnect(&mut self) {
        for _ in 0..100 {
            self.now += Duration::from_millis(100);
            self.client.handle_timeout(self.now);
            self.io.handle_timeout(self.now);
            self.pump();
            if self.client.is_connected("/") {
                return;
            }
        }
        panic!("no reconnection: {:?}", self.events);
    }

    fn broadcast(&mut self, room: &str, arg: Value) {
        self.io
            .with_io(self.now, |io| io.to(room).emit("news", arg));
        self.pump();
    }

    fn take(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.events)
            .into_iter()
            .filter_map(|e| match e {
                ClientEvent::Event { name, args, .. } => Some((name, args.values[0].clone())),
                ClientEvent::Connected { .. } => Some(("<connected>".into(), Value::Null)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn the_client_recovers_again_and_again() {
    let mut net = Net::new();
    net.client
        .connect_namespace(net.now, "/", Some(json!({"token": "t"})))
        .unwrap();
    net.pump();
    assert!(net.client.is_connected("/"));
    assert!(!net.client.recovered("/"));
    let sid = net.client.socket_id("/").unwrap().to_owned();
    net.take();
    // Never an event yet: recovery from the CONNECT position.
    for round in 0..3 {
        net.cut();
        net.broadcast("red", json!(round));
        net.broadcast("blue", json!("not for us"));
        net.reconnect();
        assert!(net.client.recovered("/"), "round {round}");
        assert_eq!(net.client.socket_id("/"), Some(sid.as_str()));
        assert_eq!(
            net.take(),
            [
                ("<connected>".to_owned(), Value::Null),
                ("news".to_owned(), json!(round))
            ],
            "round {round}"
        );
    }
}

#[test]
fn offsets_come_only_from_events_without_ack_ids() {
    let mut net = Net::new();
    net.client.connect_namespace(net.now, "/", None).unwrap();
    net.pump();
    net.broadcast("red", json!("a"));
    net.take();
    // An event with an ack id carries no offset: its last string is data.
    let conn = *net.ws.values().next().unwrap();
    net.io.with_io(net.now, |io| {
        io.socket(conn, "/")
            .unwrap()
            .emit_with_ack("q", "not-an-offset", None, |_, _| {})
    });
    net.pump();
    net.take();
    net.cut();
    net.broadcast("red", json!("b"));
    net.reconnect();
    assert!(net.client.recovered("/"));
    let got = net.take();
    assert_eq!(got[1], ("news".to_owned(), json!("b")), "{got:?}");
    assert_eq!(got.len(), 2);
}
