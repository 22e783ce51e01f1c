//! HTTP long-polling and the upgrade to WebSocket, sans-IO, on a virtual
//! clock: the polling vectors of `tests/VECTORS.md` (E1, E3, E4, E6–E10,
//! E16, E17, E21, V6, and the Socket.IO forms of E13–E20), the error codes
//! of the engine.io 6.x server (400 with `{"code":n,"message":...}`), and the
//! upgrade races.

mod common;

use std::time::Duration;

use common::{Harness, Out};
use socketio_sansio::wire::eio::{EngineVersion, Packet};
use socketio_sansio::wire::payload;
use socketio_sansio::{DisconnectReason, Event, Handshake, Method, OCTET_STREAM, TEXT_PLAIN};

const MS: Duration = Duration::from_millis(1);

fn url(eio: u8, sid: &str) -> String {
    format!("/socket.io/?EIO={eio}&transport=polling&sid={sid}")
}

fn ws_url(eio: u8, sid: &str) -> String {
    format!("/socket.io/?EIO={eio}&transport=websocket&sid={sid}")
}

#[test]
fn e1_handshake_over_polling() {
    let mut h = Harness::conformance();
    let r = h.get_now("/socket.io/?EIO=4&transport=polling");
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, Some(TEXT_PLAIN));
    let body = r.body_text();
    let json: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    let sid = json["sid"].as_str().unwrap();
    assert_eq!(
        body,
        format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#
        )
    );
    assert!(r
        .headers
        .iter()
        .any(|(k, v)| *k == "Cache-Control" && v == "no-store"));
}

#[test]
fn v3_handshake_is_length_framed_and_40_comes_with_the_next_get() {
    let mut h = Harness::conformance();
    let (sid, body) = h.poll_handshake(3, "");
    let open = &body[body.find(':').unwrap() + 1..];
    assert_eq!(
        body,
        format!("{}:{open}", open.len()),
        "v3 length prefix counts the packet"
    );
    assert!(open.ends_with(
        r#""upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
    ));
    // V6 / E10: a POSTed ping, then the first GET returns 40, the auth event and the pong.
    assert_eq!(h.post_now(&url(3, &sid), b"1:2").body_text(), "ok");
    assert_eq!(
        h.get_now(&url(3, &sid)).body_text(),
        r#"2:4013:42["auth",{}]1:3"#
    );
}

#[test]
fn e3_heartbeat_over_polling() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    let connect = h.get_now(&url(4, &sid)).body_text();
    assert!(
        connect.starts_with("40{\"sid\":") && connect.ends_with("\u{1e}42[\"auth\",{}]"),
        "{connect}"
    );
    for _ in 0..3 {
        let get = h.request(Method::Get, &url(4, &sid), b"", &[]);
        assert!(h.response(get).is_none(), "the GET is held");
        h.advance(300 * MS);
        assert_eq!(h.response(get).expect("ping delivered").body_text(), "2");
        let post = h.post_now(&url(4, &sid), b"3");
        assert_eq!((post.status, post.body_text()), (200, "ok".into()));
    }
}

#[test]
fn e4_session_is_gone_after_the_ping_timeout() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.advance(500 * MS);
    let r = h.get_now(&url(4, &sid));
    assert_eq!(
        (r.status, r.body_text()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#.into())
    );
}

#[test]
fn e6_client_close_releases_the_held_get_with_a_noop() {
    for (eio, noop) in [(4, "6"), (3, "1:6")] {
        let mut h = Harness::conformance();
        let (sid, _) = h.poll_handshake(eio, "");
        if eio == 3 {
            h.get_now(&url(3, &sid)); // takes 40 + auth
        }
        let get = h.request(Method::Get, &url(eio, &sid), b"", &[]);
        let close = if eio == 4 { &b"1"[..] } else { &b"1:1"[..] };
        assert_eq!(h.post_now(&url(eio, &sid), close).body_text(), "ok");
        assert_eq!(h.response(get).unwrap().body_text(), noop, "EIO={eio}");
        assert_eq!(h.get_now(&url(eio, &sid)).status, 400);
    }
}

#[test]
fn e7_e8_e9_upgrade_then_polling_and_a_second_websocket_are_refused() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(4, &sid), vec![]))
        .expect("upgrade accepted");
    h.send(id, "2probe");
    assert_eq!(h.take(id), [Out::Text("3probe".into())]);
    h.send(id, "5");
    assert!(h.take(id).is_empty());
    h.send(id, r#"42["message","over ws"]"#);
    assert_eq!(h.take_texts(id), [r#"42["message-back","over ws"]"#]);
    // E8: polling is over for this session.
    let r = h.get_now(&url(4, &sid));
    assert_eq!(
        (r.status, r.body_text()),
        (400, r#"{"code":3,"message":"Bad request"}"#.into())
    );
    assert_eq!(h.post_now(&url(4, &sid), b"42[\"x\"]").status, 400);
    // E9: a second WebSocket with the same sid.
    assert!(h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(4, &sid), vec![]))
        .is_err());
    assert!(!h.closed(id));
}

#[test]
fn e21_probe_releases_the_held_get_and_queued_packets_move_to_the_websocket_in_order() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(3, "");
    h.get_now(&url(3, &sid)); // 40 + auth
    let held = h.request(Method::Get, &url(3, &sid), b"", &[]);
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(3, &sid), vec![]))
        .unwrap();
    h.send(id, "2probe");
    assert_eq!(h.take_texts(id), ["3probe"]);
    assert_eq!(
        h.response(held).unwrap().body_text(),
        "1:6",
        "the held GET is released with a noop"
    );
    // Packets produced before the switch wait, then reach the WebSocket in order.
    for i in 0..3 {
        let packet = format!(r#"42["message",{i}]"#);
        h.post_now(
            &url(3, &sid),
            format!("{}:{packet}", packet.len()).as_bytes(),
        );
    }
    assert!(h.take(id).is_empty(), "nothing on the candidate before `5`");
    h.send(id, "5");
    assert_eq!(
        h.take_texts(id),
        [
            r#"42["message-back",0]"#,
            r#"42["message-back",1]"#,
            r#"42["message-back",2]"#
        ]
    );
}

#[test]
fn echo_over_polling_in_both_versions_with_binary() {
    // v4: E13–E15 in Socket.IO form.
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    let body = b"42[\"message\",\"hello\"]\x1e451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBA==";
    assert_eq!(h.post_now(&url(4, &sid), body).body_text(), "ok");
    let r = h.get_now(&url(4, &sid));
    assert_eq!(
        r.body_text(),
        "42[\"message-back\",\"hello\"]\u{1e}451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQIDBA=="
    );

    // v3 with b64=1: E19 form.
    let (sid, _) = h.poll_handshake(3, "&b64=1");
    h.get_now(&format!("{}&b64=1", url(3, &sid)));
    let msg = r#"451-["message",{"_placeholder":true,"num":0}]"#;
    h.post_now(
        &url(3, &sid),
        format!("{}:{msg}10:b4AQIDBA==", msg.len()).as_bytes(),
    );
    let back = r#"451-["message-back",{"_placeholder":true,"num":0}]"#;
    assert_eq!(
        h.get_now(&url(3, &sid)).body_text(),
        format!("{}:{back}10:b4AQIDBA==", back.len())
    );

    // v3 without b64: the XHR2 binary body both ways (E20 form).
    let (sid, _) = h.poll_handshake(3, "");
    h.get_now(&url(3, &sid));
    let packets = [
        Packet::text(socketio_sansio::wire::eio::PacketType::Message, &msg[1..]),
        Packet::binary(&[1u8, 2, 3, 4][..]),
    ];
    let mut body = Vec::new();
    payload::encode_v3_binary(packets.iter(), &mut body);
    let post = h.request(
        Method::Post,
        &url(3, &sid),
        &body,
        &[("Content-Type", "application/octet-stream")],
    );
    assert_eq!(h.response(post).unwrap().body_text(), "ok");
    let r = h.get_now(&url(3, &sid));
    assert_eq!(r.content_type, Some(OCTET_STREAM));
    let decoded = payload::decode_v3_binary(&r.body).unwrap();
    assert_eq!(decoded.len(), 2);
    assert_eq!(decoded[1], Packet::binary(&[1u8, 2, 3, 4][..]));
    let _ = EngineVersion::V3;
}

#[test]
fn e16_garbage_post_is_answered_ok_and_closes_the_session() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    let r = h.post_now(&url(4, &sid), b"abc");
    assert_eq!((r.status, r.body_text()), (200, "ok".into()));
    assert_eq!(h.get_now(&url(4, &sid)).status, 400);
    for bad in [&b""[..], b"4hello\x1e", b"7", b"b!!!"] {
        let (sid, _) = h.poll_handshake(4, "");
        h.post_now(&url(4, &sid), bad);
        assert_eq!(h.get_now(&url(4, &sid)).status, 400, "{bad:?}");
    }
    for bad in [
        &b"5:4hi"[..],
        b"2:4hi",
        b"1e1:4xxxxxxxxx",
        b"5:4\xf0\x9f\x98\x80",
    ] {
        let (sid, _) = h.poll_handshake(3, "");
        h.post_now(&url(3, &sid), bad);
        assert_eq!(h.get_now(&url(3, &sid)).status, 400, "{bad:?}");
    }
    // A v4 client ping in a POST: answered ok, session closed (wrong direction).
    let (sid, _) = h.poll_handshake(4, "");
    assert_eq!(h.post_now(&url(4, &sid), b"2").body_text(), "ok");
    assert_eq!(h.get_now(&url(4, &sid)).status, 400);
}

#[test]
fn e17_overlapping_gets_close_the_session() {
    for (eio, close) in [(4, "1"), (3, "1:1")] {
        let mut h = Harness::conformance();
        let (sid, _) = h.poll_handshake(eio, "");
        if eio == 3 {
            h.get_now(&url(3, &sid));
        }
        let first = h.request(Method::Get, &url(eio, &sid), b"", &[]);
        let second = h.get_now(&url(eio, &sid));
        assert_eq!(second.status, 400);
        assert_eq!(h.response(first).unwrap().body_text(), close, "EIO={eio}");
        assert_eq!(h.get_now(&url(eio, &sid)).status, 400);
    }
}

#[test]
fn post_over_max_payload_gets_413_and_v4_binary_post_gets_400() {
    let mut h = Harness::new(
        socketio_sansio::Config::builder()
            .max_payload(10)
            .build()
            .unwrap(),
    );
    let (sid, _) = h.poll_handshake(4, "");
    let r = h.post_now(&url(4, &sid), b"42[\"0123456789\"]");
    assert_eq!(r.status, 413);
    assert_eq!(
        h.post_now(&url(4, &sid), b"40").status,
        200,
        "the session survives a 413"
    );
    let r = h.request(
        Method::Post,
        &url(4, &sid),
        b"4x",
        &[("content-type", "application/octet-stream")],
    );
    assert_eq!(h.response(r).unwrap().status, 400);
    assert_eq!(
        h.get_now(&url(4, &sid)).status,
        400,
        "invalid content closes the session"
    );
}

#[test]
fn http_errors_use_the_reference_codes() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    let cases: Vec<(Method, String, u16, &str)> = vec![
        (
            Method::Get,
            "/socket.io/?transport=polling".into(),
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=abc&transport=polling".into(),
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=4".into(),
            400,
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=4&transport=abc".into(),
            400,
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            Method::Post,
            "/socket.io/?EIO=4&transport=polling".into(),
            400,
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            Method::Other,
            "/socket.io/?EIO=4&transport=polling".into(),
            400,
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=4&transport=polling&sid=nope".into(),
            400,
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=4&transport=polling&sid=__proto__".into(),
            400,
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            Method::Get,
            url(3, &sid),
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            Method::Get,
            format!("/socket.io/?transport=polling&sid={sid}"),
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=4&transport=websocket".into(),
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            Method::Get,
            "/socket.io/?EIO=4&transport=polling&j=0".into(),
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            Method::Get,
            format!("{}&sid={sid}", url(4, &sid)),
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (Method::Other, url(4, &sid), 500, ""),
    ];
    for (method, u, status, body) in cases {
        let id = h.request(method, &u, b"", &[]);
        let r = h.response(id).unwrap_or_else(|| panic!("{u} answered"));
        assert_eq!(
            (r.status, r.body_text().as_str()),
            (status, body),
            "{method:?} {u}"
        );
    }
    // The session survived all of that.
    assert_eq!(h.post_now(&url(4, &sid), b"40").status, 200);
}

#[test]
fn a_post_overtaking_the_held_get_is_answered_through_it() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    let held = h.request(Method::Get, &url(4, &sid), b"", &[]);
    h.post_now(&url(4, &sid), b"42[\"message\",1]\x1e42[\"message\",2]");
    assert_eq!(
        h.response(held).unwrap().body_text(),
        "42[\"message-back\",1]\u{1e}42[\"message-back\",2]"
    );
}

#[test]
fn an_abandoned_upgrade_keeps_the_session_on_polling() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    // Candidate closes before `5`.
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(4, &sid), vec![]))
        .unwrap();
    h.send(id, "2probe");
    h.take(id);
    h.server.handle_ws_closed(h.now, id);
    h.drain();
    h.post_now(&url(4, &sid), b"42[\"message\",\"still polling\"]");
    assert_eq!(
        h.get_now(&url(4, &sid)).body_text(),
        r#"42["message-back","still polling"]"#
    );
    // A packet other than 2probe/5 on the candidate closes only the candidate.
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(4, &sid), vec![]))
        .unwrap();
    h.send(id, r#"42["message","too early"]"#);
    assert_eq!(h.take(id), [Out::Close]);
    assert!(!h.closed(id));
    // The upgrade timeout abandons a silent candidate (10 s default).
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(4, &sid), vec![]))
        .unwrap();
    for _ in 0..40 {
        let get = h.request(Method::Get, &url(4, &sid), b"", &[]);
        h.advance(300 * MS);
        if let Some(r) = h.response(get) {
            assert_eq!(r.body_text(), "2");
            h.post_now(&url(4, &sid), b"3");
        }
        h.advance(10 * MS);
    }
    assert_eq!(
        h.take(id),
        [Out::Close],
        "candidate closed after the upgrade timeout"
    );
    assert!(!h.closed(id));
    // And a client closing mid-upgrade closes the session and its candidate.
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(4, &sid), vec![]))
        .unwrap();
    h.send(id, "2probe");
    h.take(id);
    h.post_now(&url(4, &sid), b"1");
    assert_eq!(h.take(id), [Out::Close]);
    assert_eq!(h.close_reason(id), Some(DisconnectReason::TransportClose));
}

#[test]
fn server_disconnect_reaches_a_polling_client_through_its_next_get() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    let id = h.server.find_sid(&sid).unwrap();
    h.server.close(h.now, id).unwrap();
    h.drain();
    assert!(h.events_of(id).iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: DisconnectReason::ForcedServerClose
        }
    )));
    assert_eq!(
        h.get_now(&url(4, &sid)).body_text(),
        "41\u{1e}1",
        "DISCONNECT then close"
    );
    assert_eq!(
        h.get_now(&url(4, &sid)).status,
        400,
        "then the session is gone"
    );
}

#[test]
fn aborted_long_poll_closes_the_session() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    let held = h.request(Method::Get, &url(4, &sid), b"", &[]);
    let id = h.server.find_sid(&sid).unwrap();
    h.server.handle_http_aborted(h.now, held);
    h.drain();
    assert!(matches!(
        h.close_reason(id),
        Some(DisconnectReason::TransportError(_))
    ));
}

#[test]
fn broadcast_reaches_polling_and_websocket_clients_with_one_encoding() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    let (ws, _) = h.open_and_handshake(4);
    h.send(ws, "40");
    h.take(ws);
    let held = h.request(Method::Get, &url(4, &sid), b"", &[]);
    let before = h.server.stats().broadcasts_encoded;
    h.send(ws, r#"42["broadcast","all"]"#);
    assert_eq!(h.take_texts(ws), [r#"42["broadcast","all"]"#]);
    assert_eq!(
        h.response(held).unwrap().body_text(),
        r#"42["broadcast","all"]"#
    );
    assert_eq!(h.server.stats().broadcasts_encoded - before, 1);
}

#[test]
fn a_get_racing_the_clients_close_post_is_refused_not_held() {
    // Found by python-socketio on polling: the POST with the close packet and
    // the next GET are handled back to back before anything is drained.
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake(4, "");
    h.post_now(&url(4, &sid), b"40");
    h.get_now(&url(4, &sid));
    // Both requests reach the server before any output is taken.
    let mut post = socketio_sansio::HttpRequest::new(Method::Post, url(4, &sid), vec![]);
    post.body = b"41\x1e1".to_vec();
    h.server.handle_http(h.now, 9001, post);
    h.server.handle_http(
        h.now,
        9002,
        socketio_sansio::HttpRequest::new(Method::Get, url(4, &sid), vec![]),
    );
    h.drain();
    let (post, get) = (9001, 9002);
    assert_eq!(h.response(post).unwrap().body_text(), "ok");
    let r = h.response(get).expect("the GET is answered, not held");
    assert_eq!(
        (r.status, r.body_text()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#.into())
    );
    assert!(h.server.find_sid(&sid).is_none(), "the session is released");
}
