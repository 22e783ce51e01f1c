//! The legacy Socket.IO 0.9 session on a virtual clock: handshake, both
//! transports, every packet type both ways, both ack modes both ways,
//! endpoints, heartbeats and timeouts, malformed input (socket.io-spec and
//! the socket.io 0.9 server; see `src/legacy/mod.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use socketio_sansio::legacy::{
    handshake_response, route, LegacyAck, LegacyConfig, LegacyConnection, LegacyRoute,
    LegacyTransport,
};
use socketio_sansio::wire::DecodeErrorKind;
use socketio_sansio::{
    Args, Config, DisconnectReason, Event, Frame, Handshake, HttpResponse, ProtocolError,
    RequestId, Transmit, UsageError,
};

const S: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);
const SEP: char = '\u{fffd}';

/// Heartbeat every 5 s, answer within 12 s, close timeout 20 s, polling
/// duration 10 s; `/chat` is a configured endpoint.
fn config() -> Arc<Config> {
    config_with(|b| b)
}

/// Like [`config`] with heartbeats far away (100 s), for timer tests of
/// other things.
fn quiet() -> Arc<Config> {
    config_with(|b| {
        b.legacy(LegacyConfig {
            heartbeat_interval: 100 * S,
            heartbeat_timeout: 200 * S,
            close_timeout: 20 * S,
            polling_duration: 10 * S,
            transports: vec![LegacyTransport::WebSocket, LegacyTransport::XhrPolling],
        })
    })
}

fn config_with(
    f: impl FnOnce(socketio_sansio::ConfigBuilder) -> socketio_sansio::ConfigBuilder,
) -> Arc<Config> {
    let builder = Config::builder()
        .namespace("/chat")
        .max_payload(1000)
        .legacy(LegacyConfig {
            heartbeat_interval: 5 * S,
            heartbeat_timeout: 12 * S,
            close_timeout: 20 * S,
            polling_duration: 10 * S,
            transports: vec![LegacyTransport::WebSocket, LegacyTransport::XhrPolling],
        });
    f(builder).build().expect("valid test configuration")
}

/// One 0.9 client session with everything it produced, in order.
struct H {
    conn: LegacyConnection,
    epoch: Instant,
    now: Instant,
    frames: Vec<String>,
    responses: Vec<(RequestId, HttpResponse)>,
    events: Vec<Event>,
}

impl H {
    fn new(config: Arc<Config>) -> Self {
        let epoch = Instant::now();
        let handshake = Handshake::new("/socket.io/1/?t=123&user=ann", vec![]);
        H {
            conn: LegacyConnection::new(epoch, "sid1".into(), config, handshake),
            epoch,
            now: epoch,
            frames: Vec::new(),
            responses: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A WebSocket session whose global endpoint the app accepted.
    fn ws() -> Self {
        H::ws_with(config())
    }

    fn ws_with(config: Arc<Config>) -> Self {
        let mut h = H::new(config);
        h.conn.handle_ws_open(h.now);
        h.drain();
        assert_eq!(h.take_frames(), ["1::"]);
        assert!(matches!(&h.take_events()[..], [Event::Connect { nsp, .. }] if nsp == "/"));
        h.conn.accept(h.now, "/").unwrap();
        h.drain();
        assert!(
            h.take_frames().is_empty(),
            "nothing more for the global endpoint"
        );
        h
    }

    /// A WebSocket session also joined to `/chat`.
    fn ws_chat() -> Self {
        let mut h = H::ws();
        h.text("1::/chat");
        h.conn.accept(h.now, "/chat").unwrap();
        h.drain();
        assert_eq!(h.take_frames(), ["1::/chat"]);
        h.take_events();
        h
    }

    /// An xhr-polling session after its first GET (answered `1::`), global
    /// endpoint accepted, no GET held.
    fn polling() -> Self {
        H::polling_with(config())
    }

    fn polling_with(config: Arc<Config>) -> Self {
        let mut h = H::new(config);
        h.conn.handle_poll_get(h.now, 1);
        h.drain();
        assert_eq!(h.take_bodies(), [(1, "1::".to_owned())]);
        h.conn.accept(h.now, "/").unwrap();
        h.drain();
        h.take_events();
        h
    }

    fn drain(&mut self) {
        while let Some(t) = self.conn.poll_transmit() {
            self.frames.push(match t {
                Transmit::Frame(Frame::Text(text)) => text.to_string(),
                Transmit::Frame(Frame::Binary(_)) => panic!("0.9 sends no binary frames"),
                Transmit::Close => "<close>".to_owned(),
            });
        }
        while let Some(r) = self.conn.poll_http_response() {
            self.responses.push(r);
        }
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }

    fn text(&mut self, text: &str) {
        self.conn.handle_text(self.now, text);
        self.drain();
    }

    fn get(&mut self, req: RequestId) {
        self.conn.handle_poll_get(self.now, req);
        self.drain();
    }

    fn post(&mut self, req: RequestId, body: &str) {
        self.conn.handle_poll_post(self.now, req, body.as_bytes());
        self.drain();
    }

    /// Moves the clock to `epoch + at`, firing every deadline on the way.
    fn advance_to(&mut self, at: Duration) {
        let target = self.epoch + at;
        while let Some(t) = self.conn.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = target;
    }

    fn advance(&mut self, by: Duration) {
        let at = self.now + by - self.epoch;
        self.advance_to(at);
    }

    fn take_frames(&mut self) -> Vec<String> {
        std::mem::take(&mut self.frames)
    }

    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn take_bodies(&mut self) -> Vec<(RequestId, String)> {
        std::mem::take(&mut self.responses)
            .into_iter()
            .map(|(id, r)| {
                assert_eq!(r.status, 200, "{}", r.body_text());
                (id, r.body_text())
            })
            .collect()
    }

    fn closed_with(&self) -> Option<&DisconnectReason> {
        self.events.iter().find_map(|e| match e {
            Event::Closed { reason } => Some(reason),
            _ => None,
        })
    }
}

fn message(nsp: &str, name: &str, args: Vec<Value>, ack: Option<u64>) -> Event {
    let kind = match name {
        "message" => socketio_sansio::MessageKind::LegacyMessage,
        "json" => socketio_sansio::MessageKind::LegacyJson,
        _ => socketio_sansio::MessageKind::Event,
    };
    Event::Message {
        nsp: nsp.into(),
        name: name.into(),
        args: Args::json(args),
        ack,
        kind,
    }
}

fn legacy_error(reason: Option<&DisconnectReason>) -> DecodeErrorKind {
    match reason {
        Some(DisconnectReason::Protocol(ProtocolError::Legacy(e))) => e.kind.clone(),
        other => panic!("expected a legacy protocol error, got {other:?}"),
    }
}

// ---- handshake and routing ----------------------------------------------

#[test]
fn handshake_response_advertises_the_configured_timeouts_and_transports() {
    let config = config();
    let r = handshake_response("sid1", &config.legacy);
    assert_eq!(
        (r.status, r.body_text().as_str()),
        (200, "sid1:12:20:websocket,xhr-polling")
    );
    let polling_only = LegacyConfig {
        transports: vec![LegacyTransport::XhrPolling],
        ..LegacyConfig::default()
    };
    assert_eq!(
        handshake_response("x", &polling_only).body_text(),
        "x:60:60:xhr-polling"
    );
    assert!(!polling_only.allows(LegacyTransport::WebSocket));
    // Invalid timers are refused when building the configuration.
    let bad = Config::builder()
        .legacy(LegacyConfig {
            heartbeat_interval: 60 * S,
            heartbeat_timeout: 60 * S,
            ..LegacyConfig::default()
        })
        .build();
    assert!(bad.is_err());
}

#[test]
fn routes_of_the_reference_urls() {
    assert_eq!(
        route("/socket.io", "/socket.io/1/?t=1"),
        LegacyRoute::Handshake
    );
    assert_eq!(
        route("/socket.io", "/socket.io/1/websocket/sid1"),
        LegacyRoute::Transport {
            transport: LegacyTransport::WebSocket,
            sid: "sid1"
        }
    );
    assert_eq!(
        route("/socket.io", "/socket.io/1//sid1?disconnect=1"),
        LegacyRoute::ForcedDisconnect { sid: "sid1" }
    );
    let v2 = route("/socket.io", "/socket.io/2/")
        .immediate_response()
        .unwrap();
    assert_eq!(
        (v2.status, v2.body_text().as_str()),
        (500, "Protocol version not supported.")
    );
    let jsonp = route("/socket.io", "/socket.io/1/jsonp-polling/sid1?t=1&i=0");
    assert_eq!(
        jsonp,
        LegacyRoute::UnsupportedTransport {
            name: "jsonp-polling",
            sid: "sid1"
        }
    );
    assert_eq!(jsonp.immediate_response().unwrap().body_text(), "7:::0");
    assert_eq!(
        route("/socket.io", "/socket.io/?EIO=4&transport=websocket"),
        LegacyRoute::NotLegacy
    );
}

// ---- connect and endpoints -------------------------------------------------

#[test]
fn websocket_sends_1_first_and_connects_the_global_endpoint_with_the_handshake_query() {
    let mut h = H::new(config());
    assert_eq!(
        h.conn.poll_transmit(),
        None,
        "nothing before a transport attaches"
    );
    h.conn.handle_ws_open(h.now);
    h.drain();
    assert_eq!(h.take_frames(), ["1::"]);
    assert_eq!(
        h.take_events(),
        [Event::Connect {
            nsp: "/".into(),
            // The client's `t` cache buster is not auth data.
            auth: json!({"user": "ann"})
        }]
    );
    assert!(!h.conn.is_connected("/"));
    assert_eq!(h.conn.accept(h.now, "/").unwrap(), "sid1");
    h.drain();
    assert!(h.take_frames().is_empty());
    assert!(h.conn.is_connected("/"));
    assert_eq!(h.conn.socket_id("/"), Some("sid1"));
    assert_eq!(h.conn.transport(), Some(LegacyTransport::WebSocket));
    assert_eq!(h.conn.namespaces().collect::<Vec<_>>(), ["/"]);
}

#[test]
fn endpoint_connect_with_query_in_both_forms_gives_the_query_as_auth() {
    let mut h = H::ws();
    h.text("1::/chat:?a=b&c=d%20e");
    assert_eq!(
        h.take_events(),
        [Event::Connect {
            nsp: "/chat".into(),
            auth: json!({"a": "b", "c": "d e"})
        }]
    );
    assert!(h.take_frames().is_empty(), "no echo before the app accepts");
    h.conn.accept(h.now, "/chat").unwrap();
    h.drain();
    assert_eq!(
        h.take_frames(),
        ["1::/chat"],
        "echo without the query (reference)"
    );
    assert_eq!(h.conn.auth("/chat"), Some(&json!({"a": "b", "c": "d e"})));
    assert_eq!(h.conn.socket_id("/chat"), Some("sid1"));

    // The brief's form, query inside the endpoint.
    let mut h = H::new(config_with(|b| b.namespace("/news")));
    h.conn.handle_ws_open(h.now);
    h.conn.accept(h.now, "/").unwrap();
    h.drain();
    h.take_events();
    h.text("1::/news?x=1");
    assert_eq!(
        h.take_events(),
        [Event::Connect {
            nsp: "/news".into(),
            auth: json!({"x": "1"})
        }]
    );
    // No query in the connect packet: the handshake's query (what the 0.9
    // client sends for `io.connect("/chat?user=ann")`), as the reference
    // authorises every endpoint with the handshake data.
    h.text("1::/chat");
    assert_eq!(
        h.take_events(),
        [Event::Connect {
            nsp: "/chat".into(),
            auth: json!({"user": "ann"})
        }]
    );
}

#[test]
fn rejected_and_unknown_endpoints_get_error_packets() {
    let mut h = H::ws();
    h.text("1::/chat");
    h.take_events();
    h.conn.reject(h.now, "/chat", "no way").unwrap();
    h.drain();
    assert_eq!(h.take_frames(), ["7::/chat:2"]);
    assert!(!h.conn.is_connected("/chat"));
    assert_eq!(
        h.conn.accept(h.now, "/chat"),
        Err(UsageError::NoPendingConnect("/chat".into()))
    );

    h.text("1::/nope:?a=1");
    assert_eq!(h.take_frames(), ["7::/nope:2"]);
    assert!(
        h.take_events().is_empty(),
        "no Connect for a refused endpoint"
    );
    assert!(!h.conn.is_closed());
}

#[test]
fn rejecting_the_global_endpoint_closes_the_connection() {
    let mut h = H::new(config());
    h.conn.handle_ws_open(h.now);
    h.drain();
    h.take_frames();
    h.take_events();
    h.conn.reject(h.now, "/", "who are you").unwrap();
    h.drain();
    assert_eq!(h.take_frames(), ["7:::2", "<close>"]);
    assert_eq!(
        h.take_events(),
        [Event::Closed {
            reason: DisconnectReason::ForcedServerClose
        }]
    );
}

#[test]
fn packets_for_a_pending_endpoint_wait_for_accept_and_are_dropped_on_reject() {
    let mut h = H::ws();
    h.text("1::/chat");
    h.text(r#"5::/chat:{"name":"early","args":[1]}"#);
    assert_eq!(h.take_events().len(), 1, "only the Connect so far");
    h.conn.accept(h.now, "/chat").unwrap();
    h.drain();
    assert_eq!(
        h.take_events(),
        [message("/chat", "early", vec![json!(1)], None)]
    );

    let mut h = H::ws();
    h.text("1::/chat");
    h.text(r#"5::/chat:{"name":"early"}"#);
    h.take_events();
    h.conn.reject(h.now, "/chat", "no").unwrap();
    h.drain();
    assert!(h.take_events().is_empty());
    // Never joined: dropped.
    h.text(r#"5::/chat:{"name":"late"}"#);
    assert!(h.take_events().is_empty());
    assert!(!h.conn.is_closed());
}

// ---- inbound packets --------------------------------------------------------

#[test]
fn inbound_event_message_and_json_reach_the_shared_handler_api() {
    let mut h = H::ws_chat();
    h.text(r#"5:::{"name":"edwald","args":[{"a":"b"},2,"3"]}"#);
    h.text(r#"5::/chat:{"args":[true],"name":"keys in any order"}"#);
    h.text("3:::woot: with a colon\nand a newline");
    h.text("3::/chat");
    h.text(r#"4:::{"a":[1,2]}"#);
    h.text(r#"4::/chat:"2""#);
    assert_eq!(
        h.take_events(),
        [
            message(
                "/",
                "edwald",
                vec![json!({"a": "b"}), json!(2), json!("3")],
                None
            ),
            message("/chat", "keys in any order", vec![json!(true)], None),
            message(
                "/",
                "message",
                vec![json!("woot: with a colon\nand a newline")],
                None
            ),
            message("/chat", "message", vec![json!("")], None),
            message("/", "json", vec![json!({"a": [1, 2]})], None),
            message("/chat", "json", vec![json!("2")], None),
        ]
    );
    assert!(h.take_frames().is_empty(), "no id, no ack");
}

#[test]
fn plain_id_is_acknowledged_on_receipt_before_the_event_is_dispatched() {
    let mut h = H::ws_chat();
    h.conn.handle_text(h.now, "3:7::hi");
    // The ack is queued by the time the event is available.
    assert_eq!(
        h.conn.poll_transmit(),
        Some(Transmit::Frame(Frame::text("6:::7".into())))
    );
    let ev = h.conn.poll_event().unwrap();
    assert_eq!(ev, message("/", "message", vec![json!("hi")], None));
    // The app's reply comes after the ack, like the reference's echo.
    h.conn.emit(h.now, "/", "reply", "ok".into()).unwrap();
    h.drain();
    assert_eq!(h.take_frames(), [r#"5:::{"name":"reply","args":["ok"]}"#]);

    h.text(r#"5:8:/chat:{"name":"x"}"#);
    h.text(r#"4:9::{"k":1}"#);
    assert_eq!(h.take_frames(), ["6::/chat:8", "6:::9"]);
    assert_eq!(
        h.take_events(),
        [
            message("/chat", "x", vec![], None),
            message("/", "json", vec![json!({"k": 1})], None),
        ]
    );
}

#[test]
fn plus_id_gives_an_ack_responder_whose_args_travel_back() {
    let mut h = H::ws_chat();
    h.text(r#"5:140+::{"name":"woot","args":[1,"a"]}"#);
    let [Event::Message {
        nsp,
        args,
        ack: Some(id),
        ..
    }] = &h.take_events()[..]
    else {
        panic!("expected one event with an ack id")
    };
    assert_eq!(*id, 140);
    assert!(
        h.take_frames().is_empty(),
        "no automatic ack for a data ack"
    );
    h.conn.ack(h.now, nsp, *id, args.clone()).unwrap();
    h.drain();
    assert_eq!(h.take_frames(), [r#"6:::140+[1,"a"]"#]);

    // On an endpoint, for message and json packets, and without args.
    h.text("3:12+:/chat:question");
    h.text(r#"4:13+::[1]"#);
    assert_eq!(
        h.take_events(),
        [
            message("/chat", "message", vec![json!("question")], Some(12)),
            message("/", "json", vec![json!([1])], Some(13)),
        ]
    );
    h.conn
        .ack(h.now, "/chat", 12, vec![json!("woot"), json!("wa")].into())
        .unwrap();
    h.conn.ack(h.now, "/", 13, ().into()).unwrap();
    h.drain();
    assert_eq!(h.take_frames(), [r#"6::/chat:12+["woot","wa"]"#, "6:::13"]);
}

#[test]
fn heartbeat_noop_and_error_packets_from_the_client_are_not_events() {
    let mut h = H::ws();
    h.text("2::");
    h.text("2:::");
    h.text("8::");
    h.text("7:::1+0");
    h.text("7::/chat:9+9");
    assert!(h.take_events().is_empty());
    assert!(h.take_frames().is_empty());
    assert!(!h.conn.is_closed());
}

#[test]
fn events_named_disconnect_are_blacklisted_without_closing() {
    let mut h = H::ws();
    h.text(r#"5:::{"name":"disconnect"}"#);
    h.text(r#"5:3::{"name":"disconnect","args":["x"]}"#);
    h.text(r#"5:4+::{"name":"connect"}"#);
    assert!(h.take_events().is_empty());
    assert_eq!(h.take_frames(), ["6:::3"], "the receipt ack still goes out");
    assert!(!h.conn.is_closed());
}

#[test]
fn disconnect_packets_leave_an_endpoint_or_close_everything() {
    let mut h = H::ws_chat();
    h.text("0::/chat");
    assert_eq!(
        h.take_events(),
        [Event::Disconnected {
            nsp: "/chat".into(),
            reason: DisconnectReason::ClientNamespaceDisconnect
        }]
    );
    assert!(!h.conn.is_connected("/chat") && !h.conn.is_closed());
    h.text("1::/chat");
    h.conn.accept(h.now, "/chat").unwrap();
    h.drain();
    h.take_events();
    h.take_frames();

    h.text("0::");
    assert_eq!(
        h.take_frames(),
        ["0::", "<close>"],
        "answered 0:: first (reference)"
    );
    assert_eq!(
        h.take_events(),
        [
            Event::Disconnected {
                nsp: "/".into(),
                reason: DisconnectReason::ClientNamespaceDisconnect
            },
            Event::Disconnected {
                nsp: "/chat".into(),
                reason: DisconnectReason::ClientNamespaceDisconnect
            },
            Event::Closed {
                reason: DisconnectReason::ClientNamespaceDisconnect
            },
        ]
    );
    assert!(h.conn.is_closed());
    assert_eq!(h.conn.poll_timeout(), None);
    assert_eq!(
        h.conn.emit(h.now, "/", "x", ().into()),
        Err(UsageError::Closed)
    );
}

// ---- outbound packets -------------------------------------------------------

#[test]
fn server_events_messages_json_and_acks_in_both_modes() {
    let mut h = H::ws_chat();
    h.conn
        .emit(h.now, "/chat", "news", json!({"hello": "world"}).into())
        .unwrap();
    h.conn.emit(h.now, "/", "bare", ().into()).unwrap();
    let a = h
        .conn
        .emit_with_ack(h.now, "/chat", "q", vec![json!(1)].into(), None)
        .unwrap();
    let b = h
        .conn
        .send_message(h.now, "/", "hi", LegacyAck::Auto { timeout: None })
        .unwrap()
        .unwrap();
    let c = h
        .conn
        .send_json(
            h.now,
            "/chat",
            json!({"a": 1}),
            LegacyAck::Data { timeout: None },
        )
        .unwrap()
        .unwrap();
    let none = h
        .conn
        .send_message(h.now, "/chat", "plain", LegacyAck::None)
        .unwrap();
    assert_eq!(none, None);
    h.drain();
    assert_eq!(
        h.take_frames(),
        [
            r#"5::/chat:{"name":"news","args":[{"hello":"world"}]}"#.to_owned(),
            r#"5:::{"name":"bare"}"#.to_owned(),
            format!(r#"5:{a}+:/chat:{{"name":"q","args":[1]}}"#),
            format!("3:{b}::hi"),
            format!(r#"4:{c}+:/chat:{{"a":1}}"#),
            "3::/chat:plain".to_owned(),
        ]
    );
    assert!(a != b && b != c && a != c, "ids are unique per connection");

    // The client answers: data ack, receipt ack, data ack on the endpoint.
    h.text(&format!(r#"6::/chat:{a}+["x",2]"#));
    h.text(&format!("6:::{b}"));
    h.text(&format!(r#"6::/chat:{c}+[{{"ok":true}}]"#));
    assert_eq!(
        h.take_events(),
        [
            Event::AckReceived {
                nsp: "/chat".into(),
                id: a,
                args: vec![json!("x"), json!(2)].into()
            },
            Event::AckReceived {
                nsp: "/".into(),
                id: b,
                args: Args::default()
            },
            Event::AckReceived {
                nsp: "/chat".into(),
                id: c,
                args: vec![json!({"ok": true})].into()
            },
        ]
    );
    // Exactly once: a repeated ack is dropped.
    h.text(&format!("6:::{b}"));
    assert!(h.take_events().is_empty());
}

#[test]
fn ack_deadlines_give_exactly_one_of_received_or_timed_out() {
    let mut h = H::ws();
    let late = h
        .conn
        .emit_with_ack(h.now, "/", "slow", ().into(), Some(3 * S))
        .unwrap();
    let fast = h
        .conn
        .send_message(
            h.now,
            "/",
            "m",
            LegacyAck::Auto {
                timeout: Some(3 * S),
            },
        )
        .unwrap()
        .unwrap();
    h.drain();
    h.take_frames();
    h.advance(S);
    h.text(&format!("6:::{fast}"));
    assert_eq!(
        h.take_events(),
        [Event::AckReceived {
            nsp: "/".into(),
            id: fast,
            args: Args::default()
        }]
    );
    h.advance(2 * S);
    assert_eq!(
        h.take_events(),
        [Event::AckTimedOut {
            nsp: "/".into(),
            id: late
        }]
    );
    h.text(&format!("6:::{late}+[1]"));
    assert!(h.take_events().is_empty(), "a late ack is dropped");
    // Idempotent timer handling.
    h.conn.handle_timeout(h.now);
    h.conn.handle_timeout(h.now);
    h.drain();
    assert!(h.take_events().is_empty());
}

#[test]
fn server_disconnect_close_and_shutdown() {
    let mut h = H::ws_chat();
    h.conn.disconnect(h.now, "/chat").unwrap();
    h.drain();
    assert_eq!(h.take_frames(), ["0::/chat"]);
    assert_eq!(
        h.take_events(),
        [Event::Disconnected {
            nsp: "/chat".into(),
            reason: DisconnectReason::ServerNamespaceDisconnect
        }]
    );
    h.conn.close(h.now);
    h.drain();
    assert_eq!(h.take_frames(), ["0::", "<close>"]);
    assert_eq!(h.closed_with(), Some(&DisconnectReason::ForcedServerClose));

    let mut h = H::ws();
    h.conn.shutdown(h.now);
    h.drain();
    assert_eq!(
        h.take_frames(),
        ["<close>"],
        "no 0::, so the client reconnects"
    );
    assert_eq!(h.closed_with(), Some(&DisconnectReason::ServerShuttingDown));
}

#[test]
fn usage_errors() {
    let mut h = H::ws();
    let now = h.now;
    assert_eq!(
        h.conn.emit(now, "/chat", "x", ().into()),
        Err(UsageError::NotConnected("/chat".into()))
    );
    assert_eq!(
        h.conn.emit(now, "/", "disconnect", ().into()),
        Err(UsageError::ReservedEventName("disconnect".into()))
    );
    let mut args = Args::default();
    let placeholder = args.attach(vec![1, 2]);
    args.values.push(placeholder);
    assert_eq!(
        h.conn.emit(now, "/", "bin", args),
        Err(UsageError::BinaryNotSupported)
    );
    assert_eq!(
        h.conn.accept(now, "/"),
        Err(UsageError::NoPendingConnect("/".into()))
    );

    let mut h = H::new(config_with(|b| b.max_pending_acks(2)));
    h.conn.handle_ws_open(h.now);
    h.conn.accept(h.now, "/").unwrap();
    for _ in 0..2 {
        h.conn
            .emit_with_ack(now, "/", "q", ().into(), None)
            .unwrap();
    }
    assert_eq!(
        h.conn
            .send_message(now, "/", "m", LegacyAck::Data { timeout: None }),
        Err(UsageError::TooManyPendingAcks)
    );
}

#[test]
fn broadcast_text_is_shared_and_volatile_is_dropped_when_busy() {
    let mut h = H::ws();
    let shared: Arc<str> = Arc::from(r#"5:::{"name":"all"}"#);
    assert!(h.conn.send_legacy_text(&shared, false));
    assert!(
        !h.conn.send_legacy_text(&shared, true),
        "volatile: the queue is not empty"
    );
    assert!(!h.conn.emit_volatile(h.now, "/", "v", ().into()).unwrap());
    assert_eq!(
        h.conn.poll_transmit(),
        Some(Transmit::Frame(Frame::Text(socketio_sansio::Text::Shared(
            shared.clone()
        ))))
    );
    assert!(h.conn.emit_volatile(h.now, "/", "v", ().into()).unwrap());
    h.drain();
    assert_eq!(h.take_frames(), [r#"5:::{"name":"v"}"#]);

    // Polling without a held GET: not writable.
    let mut h = H::polling();
    assert!(!h.conn.send_legacy_text(&shared, true));
    assert!(h.conn.send_legacy_text(&shared, false));
    assert_eq!(h.conn.outbound_bytes(), shared.len());
}

#[test]
fn outbound_limit_closes_the_connection() {
    let mut h = H::new(config_with(|b| b.max_outbound_bytes(64)));
    h.conn.handle_ws_open(h.now);
    h.conn.accept(h.now, "/").unwrap();
    h.conn.emit(h.now, "/", "a", "x".repeat(30).into()).unwrap();
    h.conn.emit(h.now, "/", "b", "y".repeat(30).into()).unwrap();
    h.drain();
    assert_eq!(h.take_frames(), ["<close>"], "queued data discarded");
    assert_eq!(h.closed_with(), Some(&DisconnectReason::OutboundQueueFull));
}

// ---- heartbeats and timeouts ----------------------------------------------

#[test]
fn heartbeats_every_interval_keep_the_session_while_answered() {
    let mut h = H::ws();
    for round in 1..=5u32 {
        h.advance(5 * S - MS);
        assert!(h.take_frames().is_empty(), "round {round}: not yet");
        h.advance(MS);
        assert_eq!(h.take_frames(), ["2::"], "round {round}");
        h.advance(7 * S);
        h.text("2::");
        // The interval restarts from the answer.
    }
    assert!(!h.conn.is_closed());
    assert!(h.take_events().is_empty());
}

#[test]
fn an_unanswered_heartbeat_closes_after_the_heartbeat_timeout() {
    let mut h = H::ws();
    h.advance(5 * S);
    assert_eq!(h.take_frames(), ["2::"]);
    // Other traffic does not count as an answer (reference).
    h.text(r#"5:::{"name":"busy"}"#);
    h.advance(12 * S - MS);
    assert!(!h.conn.is_closed());
    h.advance(MS);
    assert!(h.conn.is_closed());
    assert_eq!(h.take_frames(), ["<close>"]);
    assert_eq!(
        h.take_events()[1..],
        [
            Event::Disconnected {
                nsp: "/".into(),
                reason: DisconnectReason::PingTimeout
            },
            Event::Closed {
                reason: DisconnectReason::PingTimeout
            }
        ]
    );
}

#[test]
fn close_timeout_without_any_transport_request() {
    let mut h = H::new(config());
    assert_eq!(h.conn.poll_timeout(), Some(h.epoch + 20 * S));
    h.advance(20 * S);
    assert_eq!(
        h.take_events(),
        [Event::Closed {
            reason: DisconnectReason::TransportClose
        }]
    );
}

#[test]
fn a_dropped_websocket_may_reattach_within_the_close_timeout() {
    let mut h = H::ws_with(quiet());
    h.conn.handle_transport_closed(h.now);
    h.conn.emit(h.now, "/", "queued", ().into()).unwrap();
    h.drain();
    assert!(h.take_frames().is_empty(), "no transport: packets wait");
    h.advance(3 * S);
    h.conn.handle_ws_open(h.now);
    h.drain();
    assert_eq!(
        h.take_frames(),
        [r#"5:::{"name":"queued"}"#],
        "no second 1::"
    );
    assert!(h.take_events().is_empty(), "no second Connect");

    h.conn.handle_transport_closed(h.now);
    h.advance(20 * S);
    assert_eq!(h.closed_with(), Some(&DisconnectReason::TransportClose));
}

// ---- xhr-polling ------------------------------------------------------------

#[test]
fn polling_first_get_answers_1_and_later_gets_are_held_until_data() {
    let mut h = H::new(config());
    h.get(1);
    assert_eq!(h.take_bodies(), [(1, "1::".to_owned())]);
    assert!(matches!(&h.take_events()[..], [Event::Connect { nsp, .. }] if nsp == "/"));
    h.conn.accept(h.now, "/").unwrap();
    h.drain();
    assert!(h.responses.is_empty(), "nothing to send for /");

    h.advance(S);
    h.get(2);
    assert!(h.responses.is_empty(), "held");
    assert_eq!(h.conn.transport(), Some(LegacyTransport::XhrPolling));
    h.advance(S);
    h.conn.emit(h.now, "/", "news", json!(1).into()).unwrap();
    h.drain();
    let [(2, r)] = &h.responses[..] else {
        panic!("{:?}", h.responses)
    };
    assert_eq!(r.content_type, Some(socketio_sansio::TEXT_PLAIN));
    assert_eq!(r.body_text(), r#"5:::{"name":"news","args":[1]}"#);
}

#[test]
fn polling_frames_several_queued_packets() {
    let mut h = H::polling();
    h.conn.emit(h.now, "/", "a", "é😀".into()).unwrap();
    h.conn
        .send_message(h.now, "/", "hello", LegacyAck::None)
        .unwrap();
    h.drain();
    h.get(2);
    let a = r#"5:::{"name":"a","args":["é😀"]}"#;
    let len_a = a.encode_utf16().count();
    assert_eq!(
        h.take_bodies(),
        [(2, format!("{SEP}{len_a}{SEP}{a}{SEP}9{SEP}3:::hello"))]
    );
    assert_eq!(h.conn.outbound_bytes(), 0);
}

#[test]
fn polling_post_delivers_one_packet_or_a_framed_payload() {
    let mut h = H::polling();
    h.post(7, r#"5:::{"name":"one"}"#);
    assert_eq!(h.take_bodies(), [(7, "1".to_owned())]);
    // Lengths in UTF-16 units: `é` counts 1.
    let body = format!("{SEP}10{SEP}3:5::hello{SEP}15{SEP}4:6+::{{\"k\":\"é\"}}{SEP}3{SEP}2::");
    h.post(8, &body);
    assert_eq!(h.take_bodies(), [(8, "1".to_owned())]);
    assert_eq!(
        h.take_events(),
        [
            message("/", "one", vec![], None),
            message("/", "message", vec![json!("hello")], None),
            message("/", "json", vec![json!({"k": "é"})], Some(6)),
        ]
    );
    // The receipt ack for id 5 waits for the next GET.
    h.get(9);
    assert_eq!(h.take_bodies(), [(9, "6:::5".to_owned())]);
}

#[test]
fn polling_duration_answers_a_held_get_with_noop_then_close_timeout_runs() {
    let mut h = H::polling_with(quiet());
    h.get(2);
    h.advance(10 * S - MS);
    assert!(h.responses.is_empty());
    h.advance(MS);
    assert_eq!(h.take_bodies(), [(2, "8::".to_owned())]);
    assert_eq!(h.conn.transport(), None);
    // A new GET within the close timeout keeps the session...
    h.advance(19 * S);
    h.get(3);
    h.text_free_post("2::");
    h.advance(10 * S);
    assert!(!h.conn.is_closed());
    // ...no GET after a response within the close timeout closes it.
    h.take_bodies();
    h.advance(20 * S);
    assert!(h.conn.is_closed());
    assert_eq!(h.closed_with(), Some(&DisconnectReason::TransportClose));
}

impl H {
    /// A POST that must be accepted.
    fn text_free_post(&mut self, body: &str) {
        self.post(99, body);
        assert!(self
            .responses
            .iter()
            .any(|(id, r)| *id == 99 && r.status == 200 && r.body_text() == "1"));
        self.responses.retain(|(id, _)| *id != 99);
    }
}

#[test]
fn polling_heartbeats_are_queued_and_answered_by_post() {
    let mut h = H::polling();
    h.get(2);
    h.advance(5 * S);
    assert_eq!(h.take_bodies(), [(2, "2::".to_owned())]);
    h.get(3);
    h.text_free_post("2::");
    h.advance(5 * S);
    assert_eq!(h.take_bodies(), [(3, "2::".to_owned())]);
    // Unanswered: the heartbeat timeout closes the session and answers the
    // held GET.
    h.get(4);
    h.advance(10 * S);
    assert_eq!(h.take_bodies(), [(4, "8::".to_owned())]);
    h.get(5);
    h.advance(2 * S);
    assert_eq!(h.closed_with(), Some(&DisconnectReason::PingTimeout));
    assert_eq!(h.take_bodies(), [(5, "8::".to_owned())]);
    // Later requests are told to handshake again.
    h.get(6);
    assert_eq!(h.take_bodies(), [(6, "7:::1+0".to_owned())]);
}

#[test]
fn polling_disconnect_and_forced_disconnect_answer_the_held_get_with_0() {
    let mut h = H::polling();
    h.get(2);
    h.text_free_post("0::");
    assert_eq!(h.take_bodies(), [(2, "0::".to_owned())]);
    assert_eq!(
        h.closed_with(),
        Some(&DisconnectReason::ClientNamespaceDisconnect)
    );

    let mut h = H::polling();
    h.get(2);
    h.conn.handle_forced_disconnect(h.now, 3);
    h.drain();
    assert_eq!(h.take_bodies(), [(3, String::new()), (2, "0::".to_owned())]);
    assert_eq!(
        h.closed_with(),
        Some(&DisconnectReason::ClientNamespaceDisconnect)
    );
}

#[test]
fn a_second_get_releases_the_first_and_a_get_on_a_websocket_session_is_refused() {
    let mut h = H::polling();
    h.get(2);
    h.get(3);
    assert_eq!(h.take_bodies(), [(2, "8::".to_owned())]);
    h.conn.emit(h.now, "/", "x", ().into()).unwrap();
    h.drain();
    assert_eq!(h.take_bodies(), [(3, r#"5:::{"name":"x"}"#.to_owned())]);

    let mut h = H::ws();
    h.get(4);
    assert_eq!(h.responses[0].0, 4);
    assert_eq!(h.responses[0].1.status, 400);
    assert!(!h.conn.is_closed());
}

// ---- malformed input and limits ---------------------------------------------

#[test]
fn malformed_websocket_packets_close_with_a_typed_legacy_error() {
    let framed = format!("{SEP}3{SEP}2::");
    for (input, kind) in [
        ("99::", DecodeErrorKind::UnknownPacketType),
        ("5:::", DecodeErrorKind::InvalidJson(String::new())),
        (r#"5:::{"args":[1]}"#, DecodeErrorKind::InvalidPayload("")),
        ("6:::abc", DecodeErrorKind::InvalidNumber),
        (
            "3:99999999999999999999999:/x:hi",
            DecodeErrorKind::InvalidNumber,
        ),
        ("", DecodeErrorKind::Empty),
        (":::", DecodeErrorKind::InvalidLegacyPacket),
        (framed.as_str(), DecodeErrorKind::UnknownPacketType),
    ] {
        let mut h = H::ws();
        h.text(input);
        let got = legacy_error(h.closed_with());
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&kind),
            "{input:?}: {got:?}"
        );
        assert_eq!(h.take_frames(), ["<close>"], "{input:?}");
        assert!(h.conn.is_closed());
    }
}

#[test]
fn malformed_polling_bodies_are_answered_400_and_close() {
    for (body, kind) in [
        (
            format!("{SEP}5{SEP}3:::hello").into_bytes(),
            DecodeErrorKind::InvalidFraming,
        ),
        (
            format!("{SEP}{SEP}").into_bytes(),
            DecodeErrorKind::InvalidNumber,
        ),
        (b"".to_vec(), DecodeErrorKind::Empty),
        (b"3:::\xff".to_vec(), DecodeErrorKind::InvalidUtf8),
        (
            format!("{SEP}3{SEP}2::{SEP}3{SEP}9::").into_bytes(),
            DecodeErrorKind::UnknownPacketType,
        ),
    ] {
        let mut h = H::polling();
        h.conn.handle_poll_post(h.now, 5, &body);
        h.drain();
        assert_eq!(h.responses.len(), 1);
        assert_eq!(h.responses[0].1.status, 400, "{body:?}");
        assert_eq!(legacy_error(h.closed_with()), kind, "{body:?}");
    }
}

#[test]
fn oversized_frames_and_bodies_close_the_connection() {
    let mut h = H::ws();
    let big = format!("3:::{}", "x".repeat(1000));
    h.text(&big);
    assert!(matches!(
        h.closed_with(),
        Some(DisconnectReason::TransportError(_))
    ));

    let mut h = H::polling();
    let exact = format!("3:::{}", "x".repeat(996));
    h.post(2, &exact);
    assert_eq!(h.responses[0].1.status, 200, "exactly max_payload is fine");
    h.take_bodies();
    h.post(3, &big);
    assert_eq!(h.responses[0].1.status, 413);
    assert!(matches!(
        h.closed_with(),
        Some(DisconnectReason::TransportError(_))
    ));
}

// ---- determinism ----------------------------------------------------------------

fn scripted_run() -> String {
    let mut h = H::new(config());
    h.conn.handle_ws_open(h.now);
    h.drain();
    h.conn.accept(h.now, "/").unwrap();
    h.text("1::/chat:?room=1");
    h.conn.accept(h.now, "/chat").unwrap();
    h.text(r#"5:1+::{"name":"e","args":[{"b":1,"a":2}]}"#);
    h.conn.ack(h.now, "/", 1, json!("ok").into()).unwrap();
    h.conn
        .emit_with_ack(h.now, "/chat", "q", ().into(), Some(2 * S))
        .unwrap();
    h.text("3:2:/chat:hi");
    h.advance(6 * S);
    h.text("2::");
    h.advance(30 * S);
    h.drain();
    format!(
        "{:?}\n{:?}\n{:?}",
        h.frames,
        h.events,
        h.conn.poll_timeout().map(|t| t - h.epoch)
    )
}

#[test]
fn identical_inputs_give_identical_outputs() {
    let a = scripted_run();
    assert_eq!(a, scripted_run());
    assert!(a.contains("AckTimedOut"), "{a}");
    assert!(a.contains(r#"6:::1+[\"ok\"]"#), "{a}");
}

// ---- robustness ---------------------------------------------------------------

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    /// Fragments that make inputs likely to reach deep decoder paths.
    fn packet() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9]{1,2}:[0-9+]{0,4}:(/[a-z?=&]{0,6})?(:.{0,20})?",
            Just("\u{fffd}".to_owned()),
            Just("1::/chat:?a=b".to_owned()),
            Just("0::".to_owned()),
            Just("2::".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn any_input_on_any_transport_never_panics(
            frames in proptest::collection::vec(packet(), 0..8),
            bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4),
            gaps in proptest::collection::vec(0u64..30_000, 0..6),
        ) {
            let mut h = H::ws();
            for f in &frames {
                h.text(f);
            }
            let mut p = H::polling();
            for (i, b) in bodies.iter().enumerate() {
                p.get(100 + i as u64);
                p.conn.handle_poll_post(p.now, i as u64, b);
                p.drain();
            }
            for (i, g) in gaps.iter().enumerate() {
                h.advance(Duration::from_millis(*g));
                p.advance(Duration::from_millis(*g));
                p.get(200 + i as u64);
            }
            // Every closed session ends with exactly one Closed event.
            for x in [&h, &p] {
                let closed = x.events.iter().filter(|e| matches!(e, Event::Closed { .. })).count();
                prop_assert_eq!(closed, usize::from(x.conn.is_closed()));
            }
        }
    }
}

#[test]
fn server_disconnect_of_an_idle_polling_client_waits_for_its_next_get() {
    let mut h = H::polling();
    // No GET is held when the server closes the connection...
    h.conn.close(h.now);
    h.drain();
    assert!(!h.conn.is_finished(), "the `0::` waits for the client");
    // ...and the client's next GET still learns about it.
    h.get(2);
    assert_eq!(h.take_bodies(), [(2, "0::".to_owned())]);
    assert!(h.conn.is_finished());
    // A later GET finds the session gone.
    h.get(3);
    assert_eq!(h.take_bodies(), [(3, "7:::1+0".to_owned())]);
}

#[test]
fn the_last_packets_of_a_closed_polling_session_expire_after_the_close_timeout() {
    let mut h = H::polling();
    h.conn.close(h.now);
    h.drain();
    let deadline = h.conn.poll_timeout().expect("a deadline for the last GET");
    h.now = deadline;
    h.conn.handle_timeout(deadline);
    assert!(h.conn.is_finished());
    h.get(2);
    assert_eq!(h.take_bodies(), [(2, "7:::1+0".to_owned())]);
}
