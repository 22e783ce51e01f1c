//! Engine.IO on its own (as the `engine.io` npm package): sessions under
//! `Config::engine_path` carry raw messages, no Socket.IO. The echo vectors
//! E12–E15, E18–E20 (`tests/VECTORS.md`) over both transports.

mod common;

use common::{Harness, Out};
use socketio_sansio::wire::eio::{Packet, PacketType};
use socketio_sansio::wire::payload;
use socketio_sansio::{EngineData, Event, Handshake, Method, UsageError, OCTET_STREAM};

fn url(eio: u8, sid: &str) -> String {
    format!("/engine.io/?EIO={eio}&transport=polling&sid={sid}")
}

fn open_ws(h: &mut Harness, eio: u8) -> socketio_sansio::ConnId {
    let id = h
        .server
        .handle_ws_open(
            h.now,
            Handshake::new(format!("/engine.io/?EIO={eio}&transport=websocket"), vec![]),
        )
        .unwrap();
    h.drain();
    let out = h.take(id);
    assert_eq!(
        out.len(),
        1,
        "only the open packet, no Socket.IO `40`: {out:?}"
    );
    id
}

#[test]
fn e12_websocket_echo_text_and_binary_in_both_versions() {
    let mut h = Harness::conformance();
    let v4 = open_ws(&mut h, 4);
    h.send(v4, "4hello");
    h.send_bin(v4, &[1, 2, 3, 4]);
    assert_eq!(
        h.take(v4),
        [Out::Text("4hello".into()), Out::Bin(vec![1, 2, 3, 4])]
    );
    // A v4 text frame `bAQID` is a binary message.
    h.send(v4, "bAQID");
    assert_eq!(h.take(v4), [Out::Bin(vec![1, 2, 3])]);
    let v3 = open_ws(&mut h, 3);
    h.send_bin(v3, &[4, 1, 2, 3, 4]);
    assert_eq!(
        h.take(v3),
        [Out::Bin(vec![4, 1, 2, 3, 4])],
        "the v3 type byte is kept"
    );
    // No connect timeout on a bare Engine.IO session, and no Socket.IO events.
    h.advance(std::time::Duration::from_millis(1500));
    assert!(!h
        .events_of(v4)
        .iter()
        .any(|e| matches!(e, Event::Connect { .. })));
}

#[test]
fn e13_e14_e15_v4_polling_echo() {
    let mut h = Harness::conformance();
    let r = h.get_now("/engine.io/?EIO=4&transport=polling");
    let body = r.body_text();
    let sid = serde_json::from_str::<serde_json::Value>(&body[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains(r#""upgrades":["websocket"]"#));
    for post in [
        "4hello",
        "4test1\x1e4test2\x1e4test3",
        "4hello\x1ebAQIDBA==",
    ] {
        assert_eq!(h.post_now(&url(4, &sid), post.as_bytes()).body_text(), "ok");
        assert_eq!(h.get_now(&url(4, &sid)).body_text(), post);
    }
}

#[test]
fn e18_e19_e20_v3_polling_echo() {
    let mut h = Harness::conformance();
    let (sid, _) = h.poll_handshake_at("/engine.io/", 3, "");
    assert_eq!(h.post_now(&url(3, &sid), b"6:4hello").body_text(), "ok");
    assert_eq!(h.get_now(&url(3, &sid)).body_text(), "6:4hello");

    let (sid, _) = h.poll_handshake_at("/engine.io/", 3, "&b64=1");
    h.post_now(&url(3, &sid), b"6:4hello10:b4AQIDBA==");
    assert_eq!(
        h.get_now(&url(3, &sid)).body_text(),
        "6:4hello10:b4AQIDBA=="
    );

    let (sid, _) = h.poll_handshake_at("/engine.io/", 3, "");
    h.post_now(&url(3, &sid), b"6:4hello10:b4AQIDBA==");
    let r = h.get_now(&url(3, &sid));
    assert_eq!(r.content_type, Some(OCTET_STREAM));
    assert_eq!(
        r.body,
        [
            0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01,
            0x02, 0x03, 0x04
        ]
    );
    let packets = [
        Packet::text(PacketType::Message, "€"),
        Packet::binary(&[1u8, 2][..]),
    ];
    let mut body = Vec::new();
    payload::encode_v3_binary(packets.iter(), &mut body);
    let req = h.request(
        Method::Post,
        &url(3, &sid),
        &body,
        &[("Content-Type", "application/octet-stream")],
    );
    assert_eq!(h.response(req).unwrap().body_text(), "ok");
    let back = h.get_now(&url(3, &sid));
    assert_eq!(back.body, body);
}

#[test]
fn socketio_sessions_refuse_raw_engine_messages() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    assert_eq!(
        h.server
            .send_engine_message(h.now, id, EngineData::Text("x".into())),
        Err(UsageError::NotEngineOnly)
    );
}
