//! A server with the MessagePack parser (feature `msgpack`): Engine.IO v4
//! sessions exchange one binary message per Socket.IO packet, over WebSocket
//! and polling (`b<base64>` packets); v3 and 0.9 clients are refused; and
//! malformed MessagePack closes only the offending connection, with a typed
//! reason.
#![cfg(feature = "msgpack")]

mod common;

use std::time::Duration;

use common::{Harness, Out};
use serde_json::{json, Value};
use socketio_sansio::wire::msgpack::{decode, encode};
use socketio_sansio::wire::sio::{Ack, Args, Body, DecoderConfig, Event, Packet};
use socketio_sansio::wire::{base64, DecodeErrorKind};
use socketio_sansio::{Config, ConnId, DisconnectReason, Parser, ProtocolError};

fn msgpack_harness() -> Harness {
    let config = Config::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(1000))
        .namespace("/custom")
        .parser(Parser::MsgPack)
        .build()
        .expect("valid configuration");
    Harness::new(config)
}

fn bytes(packet: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    encode(packet, &mut out);
    out
}

fn connect(nsp: &str, auth: Option<Value>) -> Vec<u8> {
    bytes(&Packet {
        nsp: nsp.into(),
        body: Body::Connect(auth),
    })
}

fn event(name: &str, args: Args, id: Option<u64>) -> Vec<u8> {
    bytes(&Packet {
        nsp: "/".into(),
        body: Body::Event(Event {
            name: name.into(),
            args,
            id,
        }),
    })
}

/// The packets of binary frames (text frames are Engine.IO's own).
fn packets(out: Vec<Out>) -> Vec<Packet> {
    out.into_iter()
        .map(|o| match o {
            Out::Bin(b) => decode(&b, &DecoderConfig::default()).expect("valid msgpack"),
            other => panic!("expected a binary frame, got {other:?}"),
        })
        .collect()
}

/// Opens a WebSocket session and joins `/`.
fn joined(h: &mut Harness) -> ConnId {
    let (id, open) = h.open_and_handshake(4);
    assert!(open["sid"].is_string());
    h.send_bin(id, &connect("/", Some(json!({"token": "t"}))));
    let got = packets(h.take(id));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(matches!(&got[0].body, Body::Connect(Some(v)) if v["sid"].is_string()));
    assert_eq!(
        got[1].body,
        Body::Event(Event {
            name: "auth".into(),
            args: Args::json(vec![json!({"token": "t"})]),
            id: None
        })
    );
    id
}

fn with_binary(values: Vec<Value>, bins: Vec<Vec<u8>>) -> Args {
    Args {
        values,
        binaries: bins,
    }
}

#[test]
fn websocket_events_acks_and_binary() {
    let mut h = msgpack_harness();
    let id = joined(&mut h);
    let args = with_binary(
        vec![
            json!({"_placeholder": true, "num": 0}),
            json!([1, "two", null, true, {"x": 1.5}]),
        ],
        vec![vec![1, 2, 3]],
    );
    h.send_bin(id, &event("message", args.clone(), None));
    let got = packets(h.take(id));
    assert_eq!(
        got,
        [Packet {
            nsp: "/".into(),
            body: Body::Event(Event {
                name: "message-back".into(),
                args: args.clone(),
                id: None
            })
        }]
    );
    h.send_bin(id, &event("message-with-ack", args.clone(), Some(7)));
    let got = packets(h.take(id));
    assert_eq!(
        got,
        [Packet {
            nsp: "/".into(),
            body: Body::Ack(Ack { id: 7, args })
        }]
    );
    // a broadcast is encoded once, as MessagePack
    let other = joined(&mut h);
    h.send_bin(
        id,
        &event("broadcast", Args::json(vec![json!("all")]), None),
    );
    for conn in [id, other] {
        let got = packets(h.take(conn));
        assert!(
            matches!(&got[..], [Packet { body: Body::Event(e), .. }] if e.name == "broadcast"),
            "{got:?}"
        );
    }
}

#[test]
fn polling_carries_packets_as_base64_binary() {
    let mut h = msgpack_harness();
    let (sid, _) = h.poll_handshake(4, "");
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let mut body = String::from("b");
    base64::encode(&connect("/", None), &mut body);
    assert_eq!(h.post_now(&url, body.as_bytes()).status, 200);
    // two packets in one body, `\x1e`-separated
    let mut body = String::from("b");
    base64::encode(
        &event("message", Args::json(vec![json!(1)]), None),
        &mut body,
    );
    body.push('\x1e');
    body.push('b');
    base64::encode(
        &event(
            "message",
            with_binary(
                vec![json!({"_placeholder": true, "num": 0})],
                vec![vec![0xff]],
            ),
            None,
        ),
        &mut body,
    );
    assert_eq!(h.post_now(&url, body.as_bytes()).status, 200);
    let answer = h.get_now(&url).body_text();
    let got: Vec<Packet> = answer
        .split('\x1e')
        .map(|p| {
            let b64 = p
                .strip_prefix('b')
                .unwrap_or_else(|| panic!("binary packet: {p:?}"));
            decode(
                &base64::decode(b64).expect("base64"),
                &DecoderConfig::default(),
            )
            .expect("msgpack")
        })
        .collect();
    assert_eq!(got.len(), 4, "{answer}");
    assert!(matches!(&got[0].body, Body::Connect(Some(_))));
    assert!(matches!(&got[1].body, Body::Event(e) if e.name == "auth"));
    assert!(matches!(&got[2].body, Body::Event(e) if e.args.values == [json!(1)]));
    let Body::Event(e) = &got[3].body else {
        panic!("{got:?}")
    };
    assert_eq!(e.name, "message-back");
    assert_eq!(e.args.binary(&e.args.values[0]), Some(&[0xffu8][..]));
}

#[test]
fn v3_and_legacy_clients_are_refused() {
    let mut h = msgpack_harness();
    let r = h.get_now("/socket.io/?EIO=3&transport=polling");
    assert_eq!(r.status, 400);
    assert!(
        r.body_text().contains("Unsupported protocol version"),
        "{}",
        r.body_text()
    );
    let ws = h.server.handle_ws_open(
        h.now,
        socketio_sansio::Handshake::new("/socket.io/?EIO=3&transport=websocket".to_owned(), vec![]),
    );
    assert!(ws.is_err());
    // the 0.9 handshake path is not served
    let r = h.request(socketio_sansio::Method::Post, "/socket.io/1/", b"", &[]);
    let r = h.response(r).expect("answered");
    assert_ne!(r.status, 200, "{}", r.body_text());
}

#[test]
fn text_packets_are_refused_on_a_msgpack_server() {
    let mut h = msgpack_harness();
    let id = joined(&mut h);
    h.send(id, r#"42["message","json"]"#);
    assert_eq!(
        h.close_reason(id),
        Some(DisconnectReason::Protocol(ProtocolError::Socket(
            socketio_sansio::wire::DecodeError::new(DecodeErrorKind::UnexpectedText, 0)
        )))
    );
}

/// Deeply nested arrays: `depth` fixarray markers around a nil.
fn nested_event(depth: usize) -> Vec<u8> {
    let mut out = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e".to_vec();
    out.extend(std::iter::repeat(0x91).take(depth));
    out.push(0xc0);
    out
}

#[test]
fn malformed_msgpack_closes_only_its_connection() {
    use DecodeErrorKind::*;
    let header = |rest: &[u8]| [b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data".as_slice(), rest].concat();
    let with_id = |id: &[u8]| {
        [
            b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1e\xa2id".as_slice(),
            id,
        ]
        .concat()
    };
    let cases: Vec<(Vec<u8>, DecodeErrorKind)> = vec![
        (vec![], Empty),
        (
            b"garbage".to_vec(),
            InvalidPayload("a packet must be a MessagePack map"),
        ),
        (
            vec![0xc1],
            InvalidPayload("a packet must be a MessagePack map"),
        ),
        (vec![0x81], InvalidMsgPack("truncated input")),
        // a map with a non-string key
        (
            vec![0x81, 0x01, 0x02],
            InvalidMsgPack("map keys must be strings"),
        ),
        // wrong types in the map
        (b"\x82\xa4type\xa12\xa3nsp\xa1/".to_vec(), UnknownPacketType),
        (b"\x82\xa4type\x07\xa3nsp\xa1/".to_vec(), UnknownPacketType),
        (b"\x82\xa4type\x02\xa3nsp\x01".to_vec(), InvalidNamespace),
        (b"\x82\xa4type\x02\xa3nsp\xa1x".to_vec(), InvalidNamespace),
        (b"\x82\xa4type\x02\xa3nsp\xa3/a,".to_vec(), InvalidNamespace),
        (
            header(b"\xa1x"),
            InvalidPayload("EVENT payload must be a non-empty array"),
        ),
        (
            header(b"\x90"),
            InvalidPayload("EVENT payload must be a non-empty array"),
        ),
        (
            header(b"\x91\xc3"),
            InvalidPayload("event name must be a string or a number"),
        ),
        (header(b"\x91\xa7connect"), ReservedEventName),
        // ack id: negative, too large, a string
        (with_id(b"\xff"), InvalidNumber),
        (
            with_id(b"\xcf\x00\x20\x00\x00\x00\x00\x00\x00"),
            InvalidNumber,
        ),
        (with_id(b"\xa11"), InvalidNumber),
        (with_id(b"\xcb\x3f\xf8\0\0\0\0\0\0"), InvalidNumber),
        // huge declared lengths: nothing is allocated for them
        (
            header(b"\xdd\xff\xff\xff\xff"),
            InvalidMsgPack("declared length exceeds the input"),
        ),
        (
            header(b"\x91\xdb\xff\xff\xff\xf0"),
            InvalidMsgPack("declared length exceeds the input"),
        ),
        (
            header(b"\x92\xa1e\xc6\x7f\xff\xff\xff"),
            InvalidMsgPack("declared length exceeds the input"),
        ),
        (
            b"\xdf\xff\xff\xff\xff".to_vec(),
            InvalidMsgPack("declared length exceeds the input"),
        ),
        // invalid UTF-8, extensions, trailing bytes, forged placeholders
        (header(b"\x91\xa2\xff\xfe"), InvalidUtf8),
        (
            header(b"\x92\xa1e\xd7\x00\0\0\0\0\0\0\0\0"),
            InvalidMsgPack("unsupported extension type"),
        ),
        (
            [header(b"\x91\xa1e").as_slice(), b"\xc0"].concat(),
            TrailingData,
        ),
        (
            header(b"\x92\xa1e\x82\xac_placeholder\xc3\xa3num\x00"),
            InvalidPlaceholder,
        ),
        (nested_event(200), NestingTooDeep),
    ];
    let mut h = msgpack_harness();
    let bystanders: Vec<ConnId> = (0..3).map(|_| joined(&mut h)).collect();
    for (input, kind) in cases {
        let id = joined(&mut h);
        h.send_bin(id, &input);
        let reason = h
            .close_reason(id)
            .unwrap_or_else(|| panic!("{input:x?} must close the connection"));
        match &reason {
            DisconnectReason::Protocol(ProtocolError::Socket(e)) => {
                assert_eq!(e.kind, kind, "{input:x?}")
            }
            other => panic!("{input:x?}: {other:?}"),
        }
        assert_eq!(h.take(id).last(), Some(&Out::Close), "{input:x?}");
    }
    for id in bystanders {
        h.send_bin(
            id,
            &event("message", Args::json(vec![json!("still here")]), None),
        );
        let got = packets(h.take(id));
        assert!(
            matches!(&got[..], [Packet { body: Body::Event(e), .. }] if e.name == "message-back"),
            "{got:?}"
        );
    }
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let mut h = msgpack_harness();
    let id = joined(&mut h);
    // data array (depth 1) + 127 more levels
    h.send_bin(id, &nested_event(127));
    assert_eq!(h.close_reason(id), None);
}
