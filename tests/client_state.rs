//! The client's state machine against hand-written server frames, on a
//! virtual clock: heartbeats of both versions, the connection timeout, the
//! reconnection schedule under a seed, buffering and its bound,
//! acknowledgement timeouts and retries, the upgrade's pause, malformed
//! input.

use std::time::{Duration, Instant};

use serde_json::json;
use socketio_sansio::client::{
    AckFailure, Client, ClientConfig, ClientConfigBuilder, ClientDisconnectReason, ClientError,
    ClientEvent, ClientHttpRequest, ClientTransmit, EmitStatus, TransportId, Transports,
};
use socketio_sansio::{EngineVersion, Frame, RequestId, SeededRandom};

const OPEN_V4: &str =
    r#"0{"sid":"s1","upgrades":[],"pingInterval":1000,"pingTimeout":500,"maxPayload":100000}"#;
const OPEN_V4_SLOW: &str =
    r#"0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}"#;
const OPEN_V3: &str = r#"0{"sid":"s1","upgrades":[],"pingInterval":1000,"pingTimeout":500}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

struct Fake {
    client: Client,
    start: Instant,
    now: Instant,
}

fn ws_config() -> ClientConfigBuilder {
    ClientConfig::builder("http://localhost:3000").transports(Transports::WebSocket)
}

impl Fake {
    fn new(config: ClientConfig) -> Self {
        let now = Instant::now();
        Fake {
            client: Client::with_random(config, Box::new(SeededRandom::new(7))),
            start: now,
            now,
        }
    }

    fn at(&mut self, t: u64) {
        self.now = self.start + ms(t);
        self.client.handle_timeout(self.now);
    }

    fn transmits(&mut self) -> Vec<ClientTransmit> {
        std::iter::from_fn(|| self.client.poll_transmit()).collect()
    }

    fn texts(&mut self) -> Vec<String> {
        self.transmits()
            .into_iter()
            .filter_map(|t| match t {
                ClientTransmit::WsFrame {
                    frame: Frame::Text(t),
                    ..
                } => Some(t.to_string()),
                _ => None,
            })
            .collect()
    }

    fn events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Connects `/` over a WebSocket with the given open packet; returns the transport.
    fn connect_ws(&mut self, open: &str) -> TransportId {
        self.client.connect_namespace(self.now, "/", None).unwrap();
        let ws = self.open_ws();
        self.client.handle_ws_text(self.now, ws, open);
        // rev 4: the server joins `/` by itself
        let rev5 = open.contains("maxPayload");
        assert_eq!(self.texts(), if rev5 { vec!["40"] } else { vec![] });
        let reply = if open.contains("maxPayload") {
            r#"40{"sid":"x"}"#
        } else {
            "40"
        };
        self.client.handle_ws_text(self.now, ws, reply);
        assert!(matches!(
            self.events().as_slice(),
            [ClientEvent::Connected { .. }]
        ));
        ws
    }

    /// Takes the pending OpenWebSocket and reports it opened.
    fn open_ws(&mut self) -> TransportId {
        let ws = self
            .transmits()
            .into_iter()
            .find_map(|t| match t {
                ClientTransmit::OpenWebSocket { transport, .. } => Some(transport),
                _ => None,
            })
            .expect("an OpenWebSocket");
        self.client.handle_ws_opened(self.now, ws);
        ws
    }
}

#[test]
fn v4_heartbeat_answers_pings_and_detects_a_silent_server() {
    let mut f = Fake::new(ws_config().build().unwrap());
    let ws = f.connect_ws(OPEN_V4);
    assert_eq!(f.client.poll_timeout(), Some(f.start + ms(1500)));
    f.at(1000);
    f.client.handle_ws_text(f.now, ws, "2");
    assert_eq!(f.texts(), ["3"]);
    assert_eq!(f.client.poll_timeout(), Some(f.start + ms(2500)));
    f.at(2499);
    assert!(f.events().is_empty());
    f.at(2500);
    let events = f.events();
    assert_eq!(
        events[0],
        ClientEvent::Disconnected {
            nsp: "/".into(),
            reason: ClientDisconnectReason::PingTimeout
        }
    );
    assert!(matches!(
        events[1],
        ClientEvent::Reconnecting { attempt: 1, .. }
    ));
    assert!(f
        .transmits()
        .contains(&ClientTransmit::CloseWebSocket { transport: ws }));
}

#[test]
fn v3_heartbeat_the_client_pings_and_expects_a_pong() {
    let mut f = Fake::new(ws_config().version(EngineVersion::V3).build().unwrap());
    let ws = f.connect_ws(OPEN_V3);
    assert_eq!(f.client.socket_id("/"), Some("s1"));
    f.at(999);
    assert!(f.texts().is_empty());
    f.at(1000);
    assert_eq!(f.texts(), ["2"]);
    f.at(1100);
    f.client.handle_ws_text(f.now, ws, "3");
    // the next ping one interval after the pong
    assert_eq!(f.client.poll_timeout(), Some(f.start + ms(2100)));
    f.at(2100);
    assert_eq!(f.texts(), ["2"]);
    f.at(2599);
    assert!(f.events().is_empty());
    f.at(2600);
    assert_eq!(
        f.events()[0],
        ClientEvent::Disconnected {
            nsp: "/".into(),
            reason: ClientDisconnectReason::PingTimeout
        }
    );
}

#[test]
fn a_server_that_never_opens_times_out() {
    let mut f = Fake::new(ws_config().timeout(ms(20_000)).build().unwrap());
    f.client.connect_namespace(f.now, "/", None).unwrap();
    f.open_ws();
    f.at(19_999);
    assert!(f.events().is_empty());
    f.at(20_000);
    let events = f.events();
    assert_eq!(
        events[0],
        ClientEvent::ConnectError {
            nsp: "/".into(),
            message: "timeout".into(),
            data: None
        }
    );
    assert!(matches!(
        events[1],
        ClientEvent::Reconnecting { attempt: 1, .. }
    ));
}

/// socket.io-client's Backoff, computed independently from the same seed.
fn expected_delays(seed: u64, n: usize) -> Vec<u64> {
    let mut rng = SeededRandom::new(seed);
    rng.next_u64(); // the cache-buster prefix: 15 bytes, two draws
    rng.next_u64();
    (0..n)
        .map(|attempt| {
            let mut ms = 1000.0 * 2f64.powi(attempt as i32);
            let rand = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let deviation = (rand * 0.5 * ms).floor();
            ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
                ms - deviation
            } else {
                ms + deviation
            };
            ms.min(5000.0) as u64
        })
        .collect()
}

#[test]
fn reconnection_schedule_with_the_default_backoff_under_a_seed() {
    let mut f = Fake::new(ws_config().reconnection_attempts(Some(6)).build().unwrap());
    f.client.connect_namespace(f.now, "/", None).unwrap();
    let mut delays = Vec::new();
    let mut t = 0;
    loop {
        // the server is down: every WebSocket fails at once
        let ws = f
            .transmits()
            .into_iter()
            .find_map(|t| match t {
                ClientTransmit::OpenWebSocket { transport, .. } => Some(transport),
                _ => None,
            })
            .expect("a connection attempt");
        f.client.handle_ws_closed(f.now, ws);
        assert!(
            f.transmits().is_empty(),
            "nothing to close: the driver reported it"
        );
        let events = f.events();
        assert!(
            matches!(&events[0], ClientEvent::ConnectError { message, .. } if message == "transport close")
        );
        match events[1] {
            ClientEvent::Reconnecting { attempt, delay } => {
                assert_eq!(attempt as usize, delays.len() + 1);
                delays.push(delay.as_millis() as u64);
                t += delay.as_millis() as u64;
                f.at(t - 1);
                assert!(f.transmits().is_empty(), "not before the delay");
                f.at(t);
            }
            ClientEvent::ReconnectFailed => break,
            ref other => panic!("{other:?}"),
        }
    }
    assert_eq!(delays, expected_delays(7, 6));
    assert_eq!(delays, [1450, 2582, 3096, 5000, 5000, 5000]);
    // first delay 1000 ± 50 %, then doubling, capped at 5000
    assert!((500..=1500).contains(&delays[0]));
    assert!(f.client.poll_timeout().is_none());
    assert!(!f.client.is_reconnecting());
}

#[test]
fn reconnection_re_connects_namespaces_and_delivers_the_buffer() {
    let mut f = Fake::new(ws_config().build().unwrap());
    let ws = f.connect_ws(OPEN_V4);
    f.client
        .connect_namespace(f.now, "/admin", Some(json!({"token": 1})))
        .unwrap();
    assert_eq!(f.texts(), [r#"40/admin,{"token":1}"#]);
    f.client
        .handle_ws_text(f.now, ws, r#"40/admin,{"sid":"y"}"#);
    f.events();
    f.client.handle_ws_closed(f.now, ws);
    let events = f.events();
    assert_eq!(events.len(), 3, "{events:?}");
    let ClientEvent::Reconnecting { delay, .. } = events[2] else {
        panic!()
    };
    // emits while disconnected are buffered, in order
    for i in 0..3 {
        assert_eq!(
            f.client.emit(f.now, "/", "m", json!(i).into()),
            Ok(EmitStatus::Buffered)
        );
    }
    assert_eq!(f.client.buffered("/"), 3);
    f.at(delay.as_millis() as u64);
    let ws = f.open_ws();
    f.client.handle_ws_text(f.now, ws, OPEN_V4);
    assert_eq!(f.events(), [ClientEvent::Reconnected { attempt: 1 }]);
    assert_eq!(f.texts(), ["40", r#"40/admin,{"token":1}"#]);
    f.client.handle_ws_text(f.now, ws, r#"40{"sid":"x2"}"#);
    assert_eq!(f.texts(), [r#"42["m",0]"#, r#"42["m",1]"#, r#"42["m",2]"#]);
    f.client
        .handle_ws_text(f.now, ws, r#"40/admin,{"sid":"y2"}"#);
    assert_eq!(f.client.socket_id("/admin"), Some("y2"));
    assert_eq!(f.client.buffered("/"), 0);
}

#[test]
fn the_buffer_is_bounded_with_a_typed_error() {
    let mut f = Fake::new(
        ws_config()
            .max_buffered_emits(2)
            .max_buffered_bytes(40)
            .build()
            .unwrap(),
    );
    f.client.connect_namespace(f.now, "/", None).unwrap();
    assert_eq!(
        f.client.emit(f.now, "/", "a", ().into()),
        Ok(EmitStatus::Buffered)
    );
    assert_eq!(
        f.client.emit(f.now, "/", "b", ().into()),
        Ok(EmitStatus::Buffered)
    );
    assert_eq!(
        f.client.emit(f.now, "/", "c", ().into()),
        Err(ClientError::BufferFull)
    );
    // volatile emits are never buffered, and say so
    assert_eq!(
        f.client.emit_volatile(f.now, "/", "v", ().into()),
        Ok(EmitStatus::Dropped)
    );
    let mut f = Fake::new(ws_config().max_buffered_bytes(40).build().unwrap());
    f.client.connect_namespace(f.now, "/", None).unwrap();
    let big = "x".repeat(30);
    assert_eq!(
        f.client.emit(f.now, "/", "a", big.as_str().into()),
        Ok(EmitStatus::Buffered)
    );
    assert_eq!(
        f.client.emit(f.now, "/", "a", big.as_str().into()),
        Err(ClientError::BufferFull)
    );
    assert_eq!(
        f.client.emit(f.now, "/nope", "a", ().into()),
        Err(ClientError::UnknownNamespace("/nope".into()))
    );
    assert_eq!(
        f.client.emit(f.now, "/", "connect", ().into()),
        Err(ClientError::ReservedEventName("connect".into()))
    );
}

#[test]
fn ack_timeouts_late_acks_and_disconnections() {
    let mut f = Fake::new(ws_config().build().unwrap());
    let ws = f.connect_ws(OPEN_V4);
    let id = f
        .client
        .emit_with_ack(f.now, "/", "q", ().into(), Some(ms(300)))
        .unwrap();
    assert_eq!(f.texts(), [r#"420["q"]"#]);
    f.at(299);
    assert!(f.events().is_empty());
    f.at(300);
    assert_eq!(
        f.events(),
        [ClientEvent::Ack {
            nsp: "/".into(),
            id,
            result: Err(AckFailure::TimedOut)
        }]
    );
    f.client.handle_ws_text(f.now, ws, "430[1]");
    assert!(f.events().is_empty(), "a late ack is dropped");
    // an ack in time
    let id = f
        .client
        .emit_with_ack(f.now, "/", "q", ().into(), Some(ms(300)))
        .unwrap();
    f.client
        .handle_ws_text(f.now, ws, &format!("43{id}[\"ok\"]"));
    let events = f.events();
    let [ClientEvent::Ack {
        result: Ok(args), ..
    }] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(args.values, [json!("ok")]);
    // an ack in flight when the transport closes
    let id = f
        .client
        .emit_with_ack(f.now, "/", "q", ().into(), None)
        .unwrap();
    f.client.handle_ws_closed(f.now, ws);
    assert!(f.events().contains(&ClientEvent::Ack {
        nsp: "/".into(),
        id,
        result: Err(AckFailure::Disconnected)
    }));
    // a buffered emit whose ack times out leaves the buffer
    let id = f
        .client
        .emit_with_ack(f.now, "/", "q", ().into(), Some(ms(100)))
        .unwrap();
    assert_eq!(f.client.buffered("/"), 1);
    f.at(f
        .client
        .poll_timeout()
        .map(|t| (t - f.start).as_millis() as u64)
        .unwrap()
        .min(400));
    assert!(f.events().contains(&ClientEvent::Ack {
        nsp: "/".into(),
        id,
        result: Err(AckFailure::TimedOut)
    }));
    assert_eq!(f.client.buffered("/"), 0);
}

#[test]
fn retries_resend_with_the_same_id_until_acknowledged_or_exhausted() {
    let mut f = Fake::new(
        ws_config()
            .retries(2)
            .ack_timeout(Some(ms(1000)))
            .build()
            .unwrap(),
    );
    let ws = f.connect_ws(OPEN_V4_SLOW);
    let first = f
        .client
        .emit_with_ack(f.now, "/", "a", ().into(), None)
        .unwrap();
    let second = f
        .client
        .emit_with_ack(f.now, "/", "b", ().into(), None)
        .unwrap();
    // one packet in flight at a time
    assert_eq!(f.texts(), [r#"420["a"]"#]);
    f.at(1000);
    assert_eq!(f.texts(), [r#"420["a"]"#]);
    f.at(2000);
    assert_eq!(f.texts(), [r#"420["a"]"#]);
    assert!(f.events().is_empty());
    f.at(3000);
    // 1 + 2 retries failed: the outcome, then the next packet goes out
    assert_eq!(
        f.events(),
        [ClientEvent::Ack {
            nsp: "/".into(),
            id: first,
            result: Err(AckFailure::TimedOut)
        }]
    );
    assert_eq!(f.texts(), [r#"421["b"]"#]);
    f.at(4000);
    assert_eq!(f.texts(), [r#"421["b"]"#]);
    // acknowledged on the second try
    f.client.handle_ws_text(f.now, ws, "431[true]");
    let events = f.events();
    assert!(matches!(&events[..], [ClientEvent::Ack { id, result: Ok(_), .. }] if *id == second));
    f.at(10_000);
    assert!(f.texts().is_empty());
}

#[test]
fn the_upgrade_waits_for_the_in_flight_poll_and_falls_back_on_failure() {
    let config = ClientConfig::builder("http://localhost:3000")
        .build()
        .unwrap();
    let mut f = Fake::new(config);
    f.client.connect_namespace(f.now, "/", None).unwrap();
    let get = |t: &[ClientTransmit]| -> RequestId {
        t.iter()
            .find_map(|t| match t {
                ClientTransmit::HttpRequest(r) => Some(r.request),
                _ => None,
            })
            .expect("a request")
    };
    let handshake = get(&f.transmits());
    let open = r#"0{"sid":"s1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#;
    f.client.handle_http_response(
        f.now,
        handshake,
        200,
        Some("text/plain; charset=UTF-8"),
        open.as_bytes(),
    );
    let t = f.transmits();
    // the CONNECT POST, the next long-poll GET and the probe WebSocket
    let ws = t
        .iter()
        .find_map(|t| match t {
            ClientTransmit::OpenWebSocket { transport, url, .. } => {
                assert!(url.ends_with("transport=websocket&sid=s1"), "{url}");
                Some(*transport)
            }
            _ => None,
        })
        .unwrap();
    let requests: Vec<(RequestId, bool)> = t
        .iter()
        .filter_map(|t| match t {
            ClientTransmit::HttpRequest(r) => {
                Some((r.request, r.method == socketio_sansio::Method::Post))
            }
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 2, "{t:?}");
    let post = requests.iter().find(|r| r.1).unwrap().0;
    let poll = requests.iter().find(|r| !r.1).unwrap().0;
    f.client
        .handle_http_response(f.now, post, 200, Some("text/html"), b"ok");
    f.client.handle_ws_opened(f.now, ws);
    assert_eq!(f.texts(), ["2probe"]);
    f.client.handle_ws_text(f.now, ws, "3probe");
    // paused: the held GET is still out, no "5" yet, and emits wait
    f.client.handle_http_response(
        f.now,
        poll,
        200,
        Some("text/plain; charset=UTF-8"),
        br#"40{"sid":"x"}"#,
    );
    assert!(f.client.is_websocket());
    assert_eq!(f.texts(), ["5"]);
    assert!(f.events().contains(&ClientEvent::Upgraded));
    assert_eq!(
        f.client.emit(f.now, "/", "e", ().into()),
        Ok(EmitStatus::Sent)
    );
    assert_eq!(f.texts(), [r#"42["e"]"#]);

    // a second client: the probe is answered with garbage → polling goes on
    let config = ClientConfig::builder("http://localhost:3000")
        .build()
        .unwrap();
    let mut f = Fake::new(config);
    f.client.connect_namespace(f.now, "/", None).unwrap();
    let handshake = get(&f.transmits());
    f.client
        .handle_http_response(f.now, handshake, 200, None, open.as_bytes());
    let t = f.transmits();
    let ws = t.iter().find_map(|t| match t {
        ClientTransmit::OpenWebSocket { transport, .. } => Some(*transport),
        _ => None,
    });
    let ws = ws.unwrap();
    f.client.handle_ws_opened(f.now, ws);
    f.transmits();
    f.client.handle_ws_text(f.now, ws, "3nope");
    assert_eq!(
        f.transmits(),
        [ClientTransmit::CloseWebSocket { transport: ws }]
    );
    assert!(!f.client.is_websocket());
    assert!(!f
        .events()
        .iter()
        .any(|e| matches!(e, ClientEvent::Disconnected { .. })));
}

#[test]
fn malformed_server_input_closes_with_a_typed_error() {
    type Check = fn(&ClientDisconnectReason) -> bool;
    let cases: &[(&str, Check)] = &[
        ("9", |r| matches!(r, ClientDisconnectReason::ParseError(_))),
        ("42[", |r| {
            matches!(r, ClientDisconnectReason::ParseError(_))
        }),
        ("42{}", |r| {
            matches!(r, ClientDisconnectReason::ParseError(_))
        }),
        (OPEN_V4, |r| {
            r.to_string() == "parse error: an open packet inside an open session"
        }),
        ("451-[\"x\",{\"_placeholder\":true,\"num\":3}]", |r| {
            matches!(r, ClientDisconnectReason::ParseError(_))
        }),
        ("1", |r| *r == ClientDisconnectReason::TransportClose),
    ];
    for (input, check) in cases {
        let mut f = Fake::new(ws_config().build().unwrap());
        let ws = f.connect_ws(OPEN_V4);
        f.client.handle_ws_text(f.now, ws, input);
        let events = f.events();
        let ClientEvent::Disconnected { reason, .. } = &events[0] else {
            panic!("{input}: {events:?}")
        };
        assert!(check(reason), "{input}: {reason:?}");
        assert!(
            f.transmits()
                .contains(&ClientTransmit::CloseWebSocket { transport: ws }),
            "{input}"
        );
    }
    // a bad open packet
    let mut f = Fake::new(ws_config().build().unwrap());
    f.client.connect_namespace(f.now, "/", None).unwrap();
    let ws = f.open_ws();
    f.client.handle_ws_text(f.now, ws, r#"0{"upgrades":[]}"#);
    let events = f.events();
    assert!(
        matches!(&events[0], ClientEvent::ConnectError { message, .. } if message.starts_with("parse error: open packet")),
        "{events:?}"
    );
    // a polling body that does not decode
    let mut f = Fake::new(
        ClientConfig::builder("http://h")
            .transports(Transports::Polling)
            .build()
            .unwrap(),
    );
    f.client.connect_namespace(f.now, "/", None).unwrap();
    let Some(ClientTransmit::HttpRequest(ClientHttpRequest { request, .. })) =
        f.transmits().into_iter().next()
    else {
        panic!()
    };
    f.client
        .handle_http_response(f.now, request, 200, None, b"\x1e\x1e");
    assert!(matches!(&f.events()[0], ClientEvent::ConnectError { .. }));
    // an oversized message
    let mut f = Fake::new(ws_config().max_payload(100).build().unwrap());
    let ws = f.connect_ws(OPEN_V4);
    f.client
        .handle_ws_text(f.now, ws, &format!("42[\"{}\"]", "x".repeat(200)));
    assert!(matches!(
        &f.events()[0],
        ClientEvent::Disconnected {
            reason: ClientDisconnectReason::ParseError(_),
            ..
        }
    ));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Input {
        Text(String),
        Binary(Vec<u8>),
        Close,
        Tick(u16),
    }

    fn input() -> impl Strategy<Value = Input> {
        prop_oneof![
            "[0-6b][0-9a-z/,\\[\\]{}\":_-]{0,20}".prop_map(Input::Text),
            "\\PC{0,30}".prop_map(Input::Text),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Input::Binary),
            Just(Input::Close),
            any::<u16>().prop_map(Input::Tick),
        ]
    }

    proptest! {
        #[test]
        fn random_server_input_never_panics(
            v3 in any::<bool>(),
            polling in any::<bool>(),
            inputs in proptest::collection::vec(input(), 0..30),
        ) {
            let version = if v3 { EngineVersion::V3 } else { EngineVersion::V4 };
            let transports = if polling { Transports::Polling } else { Transports::WebSocket };
            let config = ClientConfig::builder("http://h").version(version).transports(transports).build().unwrap();
            let mut f = Fake::new(config);
            f.client.connect_namespace(f.now, "/", None).unwrap();
            let mut t = 0u64;
            for input in inputs {
                let pending = f.transmits();
                let ws = pending.iter().rev().find_map(|t| match t {
                    ClientTransmit::OpenWebSocket { transport, .. } => Some(*transport),
                    _ => None,
                });
                if let Some(ws) = ws {
                    f.client.handle_ws_opened(f.now, ws);
                    f.client.handle_ws_text(f.now, ws, if v3 { OPEN_V3 } else { OPEN_V4 });
                }
                let req = pending.iter().rev().find_map(|t| match t {
                    ClientTransmit::HttpRequest(r) => Some(r.request),
                    _ => None,
                });
                match input {
                    Input::Text(text) => {
                        for id in 1..=3 { f.client.handle_ws_text(f.now, id, &text); }
                        if let Some(req) = req { f.client.handle_http_response(f.now, req, 200, None, text.as_bytes()); }
                    }
                    Input::Binary(bytes) => {
                        for id in 1..=3 { f.client.handle_ws_binary(f.now, id, &bytes); }
                        if let Some(req) = req { f.client.handle_http_response(f.now, req, 200, Some("application/octet-stream"), &bytes); }
                    }
                    Input::Close => {
                        for id in 1..=3 { f.client.handle_ws_closed(f.now, id); }
                    }
                    Input::Tick(d) => { t += u64::from(d); f.at(t); }
                }
                let _ = f.client.emit(f.now, "/", "x", ().into());
                f.events();
            }
        }
    }
}
