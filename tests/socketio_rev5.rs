//! Socket.IO rev 5 over Engine.IO v4 WebSocket: the official test-suite
//! vectors S1–S16 (`tests/VECTORS.md`) replayed frame in → frame out, plus
//! server-side acknowledgements and binary in both directions.

mod common;

use std::time::Duration;

use common::{is_sid, Harness, Out};
use serde_json::json;
use socketio_sansio::{Args, DisconnectReason, Event, ProtocolError, UsageError};

const MS: Duration = Duration::from_millis(1);

fn connect_reply_sid(frame: &str, prefix: &str) -> String {
    let json = frame
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{frame} starts with {prefix}"));
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 1, "keys exactly sid: {frame}");
    let sid = obj["sid"].as_str().unwrap().to_owned();
    assert!(is_sid(&sid), "{sid}");
    sid
}

#[test]
fn s1_connect_default_namespace() {
    let mut h = Harness::conformance();
    let (id, open) = h.open_and_handshake(4);
    h.send(id, "40");
    let out = h.take_texts(id);
    let sid = connect_reply_sid(&out[0], "40");
    assert_ne!(
        sid,
        open["sid"].as_str().unwrap(),
        "the socket id is not the engine sid"
    );
    assert_eq!(out[1], r#"42["auth",{}]"#);
    assert_eq!(
        h.server.connection(id).unwrap().socket_id("/"),
        Some(sid.as_str())
    );
}

#[test]
fn s2_connect_with_auth() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, r#"40{"token":"123"}"#);
    let out = h.take_texts(id);
    connect_reply_sid(&out[0], "40");
    assert_eq!(out[1], r#"42["auth",{"token":"123"}]"#);
}

#[test]
fn s3_s4_connect_custom_namespace_with_and_without_auth() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40/custom,");
    let out = h.take_texts(id);
    connect_reply_sid(&out[0], "40/custom,");
    assert_eq!(out[1], r#"42/custom,["auth",{}]"#);

    let (id, _) = h.open_and_handshake(4);
    h.send(id, r#"40/custom,{"token":"abc"}"#);
    let out = h.take_texts(id);
    connect_reply_sid(&out[0], "40/custom,");
    assert_eq!(out[1], r#"42/custom,["auth",{"token":"abc"}]"#);
}

#[test]
fn s5_unknown_namespace_gets_connect_error_and_the_connection_stays() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40/random");
    assert_eq!(
        h.take_texts(id),
        [r#"44/random,{"message":"Invalid namespace"}"#]
    );
    assert!(!h.closed(id));
    h.send(id, "40");
    assert_eq!(h.take_texts(id).len(), 2, "can still join /");
}

#[test]
fn s6_s14_garbage_before_or_after_connect_closes() {
    let mut h = Harness::conformance();
    let (before, _) = h.open_and_handshake(4);
    h.send(before, "4abc");
    assert!(matches!(
        h.close_reason(before),
        Some(DisconnectReason::Protocol(ProtocolError::Socket(_)))
    ));
    assert_eq!(h.take(before), [Out::Close]);

    let (after, _) = h.open_and_handshake(4);
    h.send(after, "40");
    h.take(after);
    h.send(after, "4abc");
    assert!(h.closed(after));
}

#[test]
fn s7_no_connect_closes_after_connect_timeout() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    // Answer pings so only the connect timeout can fire.
    for _ in 0..3 {
        h.advance(300 * MS);
        h.send(id, "3");
    }
    assert!(!h.closed(id));
    h.advance(100 * MS);
    assert_eq!(h.close_reason(id), Some(DisconnectReason::ConnectTimeout));
    assert_eq!(h.elapsed(), 1000 * MS);
}

#[test]
fn s8_client_disconnect_keeps_the_engine_connection() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.send(id, "41");
    assert!(h.take(id).is_empty(), "no reply to DISCONNECT");
    assert!(h.events_of(id).contains(&Event::Disconnected {
        nsp: "/".into(),
        reason: DisconnectReason::ClientNamespaceDisconnect
    }));
    h.advance(300 * MS);
    assert_eq!(h.take_texts(id), ["2"], "next frame is the ping");
    assert!(!h.closed(id));
}

#[test]
fn s9_leaving_custom_keeps_main_namespace() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.send(id, "40/custom,");
    h.send(id, "41/custom,");
    h.take(id);
    h.send(id, r#"42["message","message to main namespace"]"#);
    assert_eq!(
        h.take_texts(id),
        [r#"42["message-back","message to main namespace"]"#]
    );
}

#[test]
fn s10_s12_echo_and_ack_with_mixed_arguments() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.send(id, r#"42["message",1,"2",{"3":[true]}]"#);
    assert_eq!(
        h.take_texts(id),
        [r#"42["message-back",1,"2",{"3":[true]}]"#]
    );
    h.send(id, r#"42456["message-with-ack",1,"2",{"3":[false]}]"#);
    assert_eq!(h.take_texts(id), [r#"43456[1,"2",{"3":[false]}]"#]);
}

#[test]
fn s11_s13_binary_echo_and_binary_ack() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.send(
        id,
        r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    );
    h.send_bin(id, &[1, 2, 3]);
    assert!(h.take(id).is_empty(), "waits for the second attachment");
    h.send_bin(id, &[4, 5, 6]);
    assert_eq!(
        h.take(id),
        [
            Out::Text(r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into()),
            Out::Bin(vec![1, 2, 3]),
            Out::Bin(vec![4, 5, 6]),
        ]
    );
    h.send(id, r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    h.send_bin(id, &[1, 2, 3]);
    h.send_bin(id, &[4, 5, 6]);
    assert_eq!(
        h.take(id),
        [
            Out::Text(
                r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into()
            ),
            Out::Bin(vec![1, 2, 3]),
            Out::Bin(vec![4, 5, 6]),
        ]
    );
}

#[test]
fn s15_s16_invalid_event_payloads_close() {
    for bad in ["42{}", r#"42abc["message-with-ack",1,"2",{"3":[false]}]"#] {
        let mut h = Harness::conformance();
        let (id, _) = h.open_and_handshake(4);
        h.send(id, "40");
        h.take(id);
        h.send(id, bad);
        assert!(h.closed(id), "{bad}");
    }
}

fn connected(h: &mut Harness) -> socketio_sansio::ConnId {
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    id
}

#[test]
fn server_emit_with_ack_gets_exactly_one_answer() {
    let mut h = Harness::conformance();
    let id = connected(&mut h);
    let now = h.now;
    let ack = h
        .server
        .emit_with_ack(
            now,
            id,
            "/",
            "emit-with-ack",
            Args::json(vec![json!(1), json!("2"), json!({"3":[true]})]),
            None,
        )
        .unwrap();
    h.drain();
    assert_eq!(
        h.take_texts(id),
        [format!(r#"42{ack}["emit-with-ack",1,"2",{{"3":[true]}}]"#)]
    );
    h.send(id, &format!(r#"43{ack}[1,"2",{{"3":[true]}}]"#));
    let received: Vec<_> = h
        .events_of(id)
        .into_iter()
        .filter(|e| matches!(e, Event::AckReceived { .. }))
        .collect();
    assert_eq!(
        received,
        [Event::AckReceived {
            nsp: "/".into(),
            id: ack,
            args: Args::json(vec![json!(1), json!("2"), json!({"3":[true]})])
        }]
    );
    // A duplicate and an unknown ack are dropped without closing.
    h.send(id, &format!("43{ack}[]"));
    h.send(id, "43999[]");
    assert!(!h.closed(id));
    assert_eq!(
        h.events_of(id)
            .iter()
            .filter(|e| matches!(e, Event::AckReceived { .. }))
            .count(),
        1
    );
}

#[test]
fn ack_deadline_fires_once_and_a_late_ack_is_dropped() {
    let mut h = Harness::conformance();
    let id = connected(&mut h);
    let now = h.now;
    let a = h
        .server
        .emit_with_ack(now, id, "/", "q", Args::default(), Some(100 * MS))
        .unwrap();
    let b = h
        .server
        .emit_with_ack(now, id, "/", "q", Args::default(), Some(250 * MS))
        .unwrap();
    assert_ne!(a, b);
    h.drain();
    h.advance(100 * MS);
    h.send(id, &format!("43{b}[\"ok\"]"));
    h.advance(200 * MS);
    h.send(id, &format!("43{a}[]"));
    let acks: Vec<_> = h
        .events_of(id)
        .into_iter()
        .filter(|e| matches!(e, Event::AckReceived { .. } | Event::AckTimedOut { .. }))
        .collect();
    assert_eq!(
        acks,
        [
            Event::AckTimedOut {
                nsp: "/".into(),
                id: a
            },
            Event::AckReceived {
                nsp: "/".into(),
                id: b,
                args: Args::json(vec![json!("ok")])
            },
        ]
    );
}

#[test]
fn server_binary_emit_and_binary_ack_from_client() {
    let mut h = Harness::conformance();
    let id = connected(&mut h);
    let mut args = Args::default();
    let ph = args.attach(vec![9, 8, 7]);
    args.values = vec![json!({"file": ph})];
    let now = h.now;
    let ack = h
        .server
        .emit_with_ack(now, id, "/", "upload", args, None)
        .unwrap();
    h.drain();
    assert_eq!(
        h.take(id),
        [
            Out::Text(format!(
                r#"451-{ack}["upload",{{"file":{{"_placeholder":true,"num":0}}}}]"#
            )),
            Out::Bin(vec![9, 8, 7])
        ]
    );
    h.send(
        id,
        &format!(r#"461-{ack}[{{"_placeholder":true,"num":0}}]"#),
    );
    h.send_bin(id, &[1]);
    let got = h.events_of(id).into_iter().find_map(|e| match e {
        Event::AckReceived { args, .. } => Some(args),
        _ => None,
    });
    let got = got.expect("binary ack received");
    assert_eq!(got.binary(&got.values[0]), Some(&[1u8][..]));
}

#[test]
fn reserved_names_are_refused_on_emit_and_reject_sends_connect_error() {
    let mut h = Harness::conformance();
    h.echo_app = false;
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    let now = h.now;
    h.server
        .reject(now, id, "/", "Not authorized", Some(json!({"code": 401})))
        .unwrap();
    h.drain();
    assert_eq!(
        h.take_texts(id),
        [r#"44{"message":"Not authorized","data":{"code":401}}"#]
    );
    assert_eq!(
        h.server.emit(now, id, "/", "x", Args::default()),
        Err(UsageError::NotConnected("/".into()))
    );
    h.send(id, "40");
    h.server.accept(now, id, "/", None).unwrap();
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert_eq!(
            h.server.emit(now, id, "/", name, Args::default()),
            Err(UsageError::ReservedEventName(name.into()))
        );
    }
    // `error` is an ordinary event name (CVE-2024-38355).
    h.server
        .emit(now, id, "/", "error", Args::default())
        .unwrap();
    h.send(id, r#"42["error","x"]"#);
    assert!(!h.closed(id));
}

#[test]
fn server_disconnect_and_close() {
    let mut h = Harness::conformance();
    let id = connected(&mut h);
    h.send(id, "40/custom,");
    h.take(id);
    let now = h.now;
    h.server.disconnect(now, id, "/custom").unwrap();
    h.drain();
    assert_eq!(h.take_texts(id), ["41/custom,"]);
    h.server.close(now, id).unwrap();
    h.drain();
    assert_eq!(h.take(id), [Out::Text("41".into()), Out::Close]);
    assert_eq!(
        h.close_reason(id),
        Some(DisconnectReason::ForcedServerClose)
    );
    let disconnects: Vec<_> = h
        .events_of(id)
        .into_iter()
        .filter_map(|e| match e {
            Event::Disconnected { nsp, reason } => Some((nsp, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        disconnects,
        [
            (
                "/custom".to_owned(),
                DisconnectReason::ServerNamespaceDisconnect
            ),
            ("/".to_owned(), DisconnectReason::ServerNamespaceDisconnect)
        ]
    );
    assert!(
        h.server.connection(id).is_none(),
        "slot freed once the close was taken"
    );
    assert_eq!(
        h.server.emit(now, id, "/", "x", Args::default()),
        Err(UsageError::UnknownConnection)
    );
}
