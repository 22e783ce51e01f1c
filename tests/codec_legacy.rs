//! Legacy Socket.IO 0.9 codec: the socket.io-spec examples (*Messages*),
//! forms the socket.io 0.9 server writes, gevent-socketio
//! `tests/test_packet.py` vectors, our own malformed inputs (the strict
//! decoding rule of `src/wire/mod.rs`), round trips.

use proptest::prelude::*;
use serde_json::{json, Value};
use socketio_sansio::wire::legacy::{
    decode_payload, encode_payload, AckRequest, ErrorAdvice, ErrorReason, Handshake, Packet, MAX_ID,
};
use socketio_sansio::wire::DecodeErrorKind;

fn enc(p: &Packet) -> String {
    let mut out = String::new();
    p.encode(&mut out);
    out
}

fn dec(s: &str) -> Packet {
    Packet::decode(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn kind(s: &str) -> DecodeErrorKind {
    match Packet::decode(s) {
        Ok(p) => panic!("{s:?} decoded as {p:?}"),
        Err(e) => e.kind,
    }
}

/// Encoder output `wire` decodes to `p` and `p` encodes to `wire`.
fn both(wire: &str, p: Packet) {
    assert_eq!(dec(wire), p, "decode {wire:?}");
    assert_eq!(enc(&p), wire, "encode {p:?}");
}

fn s(x: &str) -> String {
    x.to_owned()
}

// ---- every packet type, both directions (socket.io-spec, Messages) ----------

#[test]
fn disconnect() {
    both(
        "0::/woot",
        Packet::Disconnect {
            endpoint: s("/woot"),
        },
    );
    both("0::", Packet::Disconnect { endpoint: s("") });
}

#[test]
fn connect() {
    both(
        "1::/tobi",
        Packet::Connect {
            endpoint: s("/tobi"),
            qs: None,
        },
    );
    both(
        "1::/test:?test=1",
        Packet::Connect {
            endpoint: s("/test"),
            qs: Some(s("?test=1")),
        },
    );
    both(
        "1::",
        Packet::Connect {
            endpoint: s(""),
            qs: None,
        },
    );
    both(
        "1::/chat",
        Packet::Connect {
            endpoint: s("/chat"),
            qs: None,
        },
    );
    // The brief's form: query inside the endpoint (decode only).
    assert_eq!(
        dec("1::/chat?a=b"),
        Packet::Connect {
            endpoint: s("/chat"),
            qs: Some(s("?a=b"))
        }
    );
    assert_eq!(enc(&dec("1::/chat?a=b")), "1::/chat:?a=b");
    // Empty qs is written like no qs (reference `if (packet.qs)`).
    assert_eq!(
        enc(&Packet::Connect {
            endpoint: s("/x"),
            qs: Some(s(""))
        }),
        "1::/x"
    );
}

#[test]
fn heartbeat_and_noop() {
    both("2::", Packet::Heartbeat);
    assert_eq!(dec("2:::"), Packet::Heartbeat);
    both("8::", Packet::Noop);
    assert_eq!(dec("8:::"), Packet::Noop);
}

#[test]
fn message() {
    both(
        "3:::woot",
        Packet::Message {
            id: None,
            endpoint: s(""),
            data: s("woot"),
        },
    );
    both(
        "3:5:/tobi",
        Packet::Message {
            id: Some(AckRequest::Auto(5)),
            endpoint: s("/tobi"),
            data: s(""),
        },
    );
    both(
        "3:::\n",
        Packet::Message {
            id: None,
            endpoint: s(""),
            data: s("\n"),
        },
    );
    both(
        "3::",
        Packet::Message {
            id: None,
            endpoint: s(""),
            data: s(""),
        },
    );
    assert_eq!(dec("3:::"), dec("3::"));
    // Data may contain colons and newlines.
    both(
        "3:7+:/a:b:c\r\nd:",
        Packet::Message {
            id: Some(AckRequest::Data(7)),
            endpoint: s("/a"),
            data: s("b:c\r\nd:"),
        },
    );
}

#[test]
fn json() {
    both(
        "4:::\"2\"",
        Packet::Json {
            id: None,
            endpoint: s(""),
            data: json!("2"),
        },
    );
    both(
        "4:1+::{\"a\":\"b\"}",
        Packet::Json {
            id: Some(AckRequest::Data(1)),
            endpoint: s(""),
            data: json!({"a": "b"}),
        },
    );
    // gevent test_encode_json_decimals: 0.5 is written the same by both.
    both(
        "4:1+::{\"a\":0.5}",
        Packet::Json {
            id: Some(AckRequest::Data(1)),
            endpoint: s(""),
            data: json!({"a": 0.5}),
        },
    );
    assert_eq!(
        dec("4::/x: [1, null] "),
        Packet::Json {
            id: None,
            endpoint: s("/x"),
            data: json!([1, null])
        }
    );
}

#[test]
fn event() {
    both(
        "5:::{\"name\":\"woot\"}",
        Packet::Event {
            id: None,
            endpoint: s(""),
            name: s("woot"),
            args: vec![],
        },
    );
    both(
        "5:1+::{\"name\":\"tobi\"}",
        Packet::Event {
            id: Some(AckRequest::Data(1)),
            endpoint: s(""),
            name: s("tobi"),
            args: vec![],
        },
    );
    both(
        "5:1::{\"name\":\"tobi\"}",
        Packet::Event {
            id: Some(AckRequest::Auto(1)),
            endpoint: s(""),
            name: s("tobi"),
            args: vec![],
        },
    );
    let edwald = Packet::Event {
        id: None,
        endpoint: s(""),
        name: s("edwald"),
        args: vec![json!({"a": "b"}), json!(2), json!("3")],
    };
    // Reference JS key order: name, then args.
    both(
        "5:::{\"name\":\"edwald\",\"args\":[{\"a\":\"b\"},2,\"3\"]}",
        edwald.clone(),
    );
    // gevent-socketio (Python json.dumps) writes args first: decode it too.
    assert_eq!(
        dec("5:::{\"args\":[{\"a\":\"b\"},2,\"3\"],\"name\":\"edwald\"}"),
        edwald
    );
    // gevent test_decode_event: whitespace and explicit args.
    assert_eq!(
        dec("5:::{\"name\":\"woot\", \"args\": [\"foo\"]}"),
        Packet::Event {
            id: None,
            endpoint: s(""),
            name: s("woot"),
            args: vec![json!("foo")]
        }
    );
    // Escapes in the name are written like JSON.stringify.
    both(
        "5::/n:{\"name\":\"a\\\"b\\\\c\\n\\u0001é😀\",\"args\":[\"x\"]}",
        Packet::Event {
            id: None,
            endpoint: s("/n"),
            name: s("a\"b\\c\n\u{1}é😀"),
            args: vec![json!("x")],
        },
    );
    // Unknown keys are ignored.
    assert_eq!(
        dec("5:::{\"name\":\"x\",\"extra\":1}"),
        Packet::Event {
            id: None,
            endpoint: s(""),
            name: s("x"),
            args: vec![]
        }
    );
}

#[test]
fn ack() {
    both(
        "6:::140",
        Packet::Ack {
            endpoint: s(""),
            ack_id: 140,
            args: None,
        },
    );
    both(
        "6:::12+[\"woot\",\"wa\"]",
        Packet::Ack {
            endpoint: s(""),
            ack_id: 12,
            args: Some(vec![json!("woot"), json!("wa")]),
        },
    );
    both(
        "6::/chat:12+[\"woot\",\"wa\"]",
        Packet::Ack {
            endpoint: s("/chat"),
            ack_id: 12,
            args: Some(vec![json!("woot"), json!("wa")]),
        },
    );
    both(
        "6::/chat:140",
        Packet::Ack {
            endpoint: s("/chat"),
            ack_id: 140,
            args: None,
        },
    );
    // gevent test_decode_ack with spaces in the JSON.
    assert_eq!(
        dec("6::/chat:140+[\"bob\", \"bob2\"]"),
        Packet::Ack {
            endpoint: s("/chat"),
            ack_id: 140,
            args: Some(vec![json!("bob"), json!("bob2")])
        }
    );
}

#[test]
fn error() {
    let e = |endpoint: &str, reason, advice| Packet::Error {
        endpoint: s(endpoint),
        reason,
        advice,
    };
    // Empty error: the reference writes no data (`7::`); gevent-socketio
    // (test_encode_error) writes `7:::`. Both decode the same.
    both("7::", e("", None, None));
    assert_eq!(dec("7:::"), e("", None, None));
    both(
        "7:::0",
        e("", Some(ErrorReason::TransportNotSupported), None),
    );
    both("7:::1", e("", Some(ErrorReason::ClientNotHandshaken), None));
    both(
        "7:::2+0",
        e(
            "",
            Some(ErrorReason::Unauthorized),
            Some(ErrorAdvice::Reconnect),
        ),
    );
    both(
        "7:::1+0",
        e(
            "",
            Some(ErrorReason::ClientNotHandshaken),
            Some(ErrorAdvice::Reconnect),
        ),
    );
    both("7:::+0", e("", None, Some(ErrorAdvice::Reconnect)));
    both("7::/woot", e("/woot", None, None));
    both(
        "7::/chat:2",
        e("/chat", Some(ErrorReason::Unauthorized), None),
    );
    // gevent-socketio's encoder writes `7:::/woot` for an endpoint-only
    // error (reason/advice then endpoint); in the standard grammar that is
    // endpoint "" with data "/woot", which is not a valid reason.
    assert_eq!(kind("7:::/woot"), DecodeErrorKind::InvalidNumber);
}

#[test]
fn encode_examples_from_the_brief() {
    // Exactly the brief's encoder list, through decode → encode.
    for wire in [
        "0::/woot",
        "1::/test:?test=1",
        "1::",
        "2::",
        "3:::woot",
        "3:5:/tobi",
        "4:1+::{\"a\":\"b\"}",
        "5:1+::{\"name\":\"tobi\"}",
        "5:::{\"name\":\"edwald\",\"args\":[{\"a\":\"b\"},2,\"3\"]}",
        "6:::140",
        "6:::12+[\"woot\",\"wa\"]",
        "6::/chat:12+[\"woot\",\"wa\"]",
        "7:::",
        "7:::0",
        "7:::2+0",
        "7::/woot",
        "7::/chat:2",
        "8::",
    ] {
        let p = dec(wire);
        let out = enc(&p);
        if wire == "7:::" {
            // The reference writes no data for an empty error.
            assert_eq!(out, "7::");
        } else {
            assert_eq!(out, wire);
        }
        assert_eq!(dec(&out), p);
    }
}

#[test]
fn encode_appends() {
    let mut out = s("prefix|");
    Packet::Heartbeat.encode(&mut out);
    Packet::Noop.encode(&mut out);
    assert_eq!(out, "prefix|2::8::");
}

// ---- ack forms: plain id and id+ (socket.io-spec, Encoding, (6) ACK) -----

#[test]
fn ack_request_forms() {
    assert_eq!(
        dec("3:1::hi"),
        Packet::Message {
            id: Some(AckRequest::Auto(1)),
            endpoint: s(""),
            data: s("hi")
        }
    );
    let p = dec("5:7::{\"name\":\"x\"}");
    assert!(matches!(
        p,
        Packet::Event {
            id: Some(AckRequest::Auto(7)),
            ..
        }
    ));
    let p = dec("5:140+::{\"name\":\"woot\"}");
    assert!(matches!(
        p,
        Packet::Event {
            id: Some(AckRequest::Data(140)),
            ..
        }
    ));
    assert_eq!(AckRequest::Data(140).id(), 140);
    assert_eq!(AckRequest::Auto(3).id(), 3);
    both(
        "6:::140+[\"woot\",\"wa\"]",
        Packet::Ack {
            endpoint: s(""),
            ack_id: 140,
            args: Some(vec![json!("woot"), json!("wa")]),
        },
    );
    both(
        "6:::1+[1,\"a\"]",
        Packet::Ack {
            endpoint: s(""),
            ack_id: 1,
            args: Some(vec![json!(1), json!("a")]),
        },
    );
    // A data ack called without arguments is `6:::2` on the wire.
    assert_eq!(
        enc(&Packet::Ack {
            endpoint: s(""),
            ack_id: 2,
            args: Some(vec![])
        }),
        "6:::2"
    );
    // Largest id.
    let max = format!("3:{MAX_ID}+::x");
    assert_eq!(
        dec(&max),
        Packet::Message {
            id: Some(AckRequest::Data(MAX_ID)),
            endpoint: s(""),
            data: s("x")
        }
    );
    assert_eq!(
        kind(&format!("3:{}::x", MAX_ID + 1)),
        DecodeErrorKind::InvalidNumber
    );
    assert_eq!(
        kind(&format!("6:::{}", MAX_ID + 1)),
        DecodeErrorKind::InvalidNumber
    );
}

// ---- malformed 0.9 input, with the specific error kind (our own) -----------

fn is_json_err(k: &DecodeErrorKind) -> bool {
    matches!(k, DecodeErrorKind::InvalidJson(_))
}

#[test]
fn malformed_inputs() {
    use DecodeErrorKind::*;
    // `5:::` (empty JSON), no name, bad shapes.
    assert!(is_json_err(&kind("5:::")));
    assert!(is_json_err(&kind("5::")));
    assert!(is_json_err(&kind("5:::notjson")));
    assert!(matches!(kind("5:::{\"args\":[1]}"), InvalidPayload(_)));
    assert!(matches!(kind("5:::{\"name\":1}"), InvalidPayload(_)));
    assert!(matches!(kind("5:::{\"name\":null}"), InvalidPayload(_)));
    assert!(matches!(kind("5:::[\"x\"]"), InvalidPayload(_)));
    assert!(matches!(
        kind("5:::{\"name\":\"x\",\"args\":{}}"),
        InvalidPayload(_)
    ));
    assert!(matches!(
        kind("5:::{\"name\":\"x\",\"args\":null}"),
        InvalidPayload(_)
    ));
    // JSON packet must hold valid JSON.
    assert!(is_json_err(&kind("4:::")));
    assert!(is_json_err(&kind("4:::{")));
    assert!(is_json_err(&kind("4:::1 2")));
    // Ack data.
    assert_eq!(kind("6:::abc"), InvalidNumber);
    assert_eq!(kind("6:::"), InvalidNumber);
    assert_eq!(kind("6::"), InvalidNumber);
    assert_eq!(kind("6:::+[1]"), InvalidNumber);
    assert_eq!(kind("6:::12x"), InvalidNumber);
    assert!(is_json_err(&kind("6:::1+notjson")));
    assert!(is_json_err(&kind("6:::1+")));
    assert!(matches!(kind("6:::1+{}"), InvalidPayload(_)));
    assert!(matches!(kind("6:::1+\"x\""), InvalidPayload(_)));
    // Unknown error codes are empty.
    assert_eq!(
        dec("7:::9+9"),
        Packet::Error {
            endpoint: s(""),
            reason: None,
            advice: None
        }
    );
    assert_eq!(
        dec("7::/a:00+1"),
        Packet::Error {
            endpoint: s("/a"),
            reason: None,
            advice: None
        }
    );
    assert_eq!(kind("7:::x"), InvalidNumber);
    // Types and skeleton.
    assert_eq!(kind("99::"), UnknownPacketType);
    assert_eq!(kind("x::"), UnknownPacketType);
    assert_eq!(kind("9::"), UnknownPacketType);
    assert_eq!(kind(":::"), InvalidLegacyPacket);
    assert_eq!(kind(""), Empty);
    assert_eq!(kind("3"), InvalidLegacyPacket);
    assert_eq!(kind("3:1"), InvalidLegacyPacket);
    // Id overflow and non-digit ids.
    let e = Packet::decode("3:99999999999999999999999:/x:hi").unwrap_err();
    assert_eq!((e.kind, e.offset), (InvalidNumber, 2));
    assert_eq!(kind("3:1a::x"), InvalidNumber);
    assert_eq!(kind("3: 1::x"), InvalidNumber);
    // Ids on types that have none.
    assert_eq!(kind("0:1::/x"), InvalidLegacyPacket);
    assert_eq!(kind("6:1+:::1"), InvalidLegacyPacket);
    // Endpoint cannot contain ':': the rest is data.
    assert_eq!(
        dec("3::/a:b:c"),
        Packet::Message {
            id: None,
            endpoint: s("/a"),
            data: s("b:c")
        }
    );
    // Data where the model has none.
    assert_eq!(kind("0::/a:x"), TrailingData);
    assert_eq!(kind("2:::x"), TrailingData);
    assert_eq!(kind("8:::x"), TrailingData);
    assert_eq!(kind("2::/chat"), InvalidLegacyPacket);
}

#[test]
fn deep_json_is_bounded() {
    let depth = 10_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for wire in [
        format!("4:::{deep}"),
        format!("5:::{{\"name\":\"x\",\"args\":{deep}}}"),
        format!("6:::1+{deep}"),
    ] {
        let e = Packet::decode(&wire).unwrap_err();
        assert!(is_json_err(&e.kind), "{:?}", e.kind);
    }
    // Moderate nesting is fine.
    let ok = format!("4:::{}{}", "[".repeat(100), "]".repeat(100));
    assert!(Packet::decode(&ok).is_ok());
}

// ---- \ufffd framing (socket.io-spec, Messages › Framing) ----------------------

#[test]
fn payload_framing() {
    let body = "\u{fffd}9\u{fffd}3:::hello\u{fffd}3\u{fffd}2::";
    assert_eq!(decode_payload(body).unwrap(), ["3:::hello", "2::"]);
    let mut out = String::new();
    encode_payload(&["3:::hello", "2::"], &mut out);
    assert_eq!(out, body);

    // UTF-16 units: "😀" counts 2, "é" counts 1.
    let body = "\u{fffd}12\u{fffd}6:::3+[\"😀\"]\u{fffd}7\u{fffd}3:::é😀";
    let frames = decode_payload(body).unwrap();
    assert_eq!(frames, ["6:::3+[\"😀\"]", "3:::é😀"]);
    let mut out = String::new();
    encode_payload(&frames, &mut out);
    assert_eq!(out, body);
    assert_eq!(
        dec(frames[0]),
        Packet::Ack {
            endpoint: s(""),
            ack_id: 3,
            args: Some(vec![json!("😀")])
        }
    );
    assert_eq!(
        dec(frames[1]),
        Packet::Message {
            id: None,
            endpoint: s(""),
            data: s("é😀")
        }
    );
    // A length counted in UTF-8 bytes (10 for "3:::é😀", 7 units) is refused:
    // the cut lands inside the next frame header.
    assert_eq!(
        decode_payload("\u{fffd}10\u{fffd}3:::é😀\u{fffd}3\u{fffd}2::")
            .unwrap_err()
            .kind,
        DecodeErrorKind::InvalidFraming
    );
    // gevent counts code points (6 here): also refused, it cuts the pair.
    assert_eq!(
        decode_payload("\u{fffd}6\u{fffd}3:::é😀\u{fffd}3\u{fffd}2::")
            .unwrap_err()
            .kind,
        DecodeErrorKind::InvalidFraming
    );

    // One packet: bare, both ways.
    assert_eq!(decode_payload("3:::hello").unwrap(), ["3:::hello"]);
    let mut out = String::new();
    encode_payload(&["3:::hello"], &mut out);
    assert_eq!(out, "3:::hello");
    // A single framed packet is accepted too.
    assert_eq!(decode_payload("\u{fffd}3\u{fffd}2::").unwrap(), ["2::"]);
    // Nothing to send: nothing written.
    let mut out = String::new();
    encode_payload::<&str>(&[], &mut out);
    assert_eq!(out, "");
    // A body not starting with U+FFFD is returned as is, even with U+FFFD inside.
    assert_eq!(
        decode_payload("3:::a\u{fffd}b").unwrap(),
        ["3:::a\u{fffd}b"]
    );
    // Frame content may itself contain U+FFFD.
    let framed = "\u{fffd}6\u{fffd}3:::\u{fffd}\u{fffd}\u{fffd}1\u{fffd}x";
    assert_eq!(
        decode_payload(framed).unwrap(),
        ["3:::\u{fffd}\u{fffd}", "x"]
    );
}

#[test]
fn payload_malformed() {
    use DecodeErrorKind::*;
    let k = |b: &str| decode_payload(b).unwrap_err().kind;
    assert_eq!(k("\u{fffd}5\u{fffd}3:::hello"), InvalidFraming);
    assert_eq!(k("\u{fffd}\u{fffd}"), InvalidNumber);
    assert_eq!(k("\u{fffd}\u{fffd}3:::hello"), InvalidNumber);
    assert_eq!(k("\u{fffd}a\u{fffd}3:::hello"), InvalidNumber);
    assert_eq!(k("\u{fffd}-1\u{fffd}3:::hello"), InvalidNumber);
    assert_eq!(k("\u{fffd}1e1\u{fffd}3:::hello"), InvalidNumber);
    assert_eq!(k("\u{fffd}10\u{fffd}3:::hello"), InvalidFraming);
    assert_eq!(k("\u{fffd}9\u{fffd}3:::hello\u{fffd}"), InvalidFraming);
    assert_eq!(k("\u{fffd}9\u{fffd}3:::hello2::"), InvalidFraming);
    assert_eq!(k("\u{fffd}0\u{fffd}"), EmptyPacket);
    assert_eq!(k(""), Empty);
}

// ---- handshake line (socket.io-spec, Handshake) -------------------------------

#[test]
fn handshake() {
    let line = "4d4f185e96a7b:60:60:websocket,htmlfile,xhr-polling,jsonp-polling";
    let hs = Handshake {
        sid: s("4d4f185e96a7b"),
        heartbeat_timeout: Some(60),
        close_timeout: 60,
        transports: ["websocket", "htmlfile", "xhr-polling", "jsonp-polling"]
            .map(s)
            .to_vec(),
    };
    assert_eq!(Handshake::decode(line).unwrap(), hs);
    let mut out = String::new();
    hs.encode(&mut out);
    assert_eq!(out, line);

    let line = "MKbq9895806FUckaGLSm:1:3:websocket,xhr-polling";
    let hs = Handshake::decode(line).unwrap();
    assert_eq!(hs.heartbeat_timeout, Some(1));
    assert_eq!(hs.close_timeout, 3);

    // Heartbeats disabled.
    let hs = Handshake {
        sid: s("sid"),
        heartbeat_timeout: None,
        close_timeout: 60,
        transports: vec![s("websocket")],
    };
    let mut out = String::new();
    hs.encode(&mut out);
    assert_eq!(out, "sid::60:websocket");
    assert_eq!(Handshake::decode("sid::60:websocket").unwrap(), hs);

    use DecodeErrorKind::*;
    let k = |b: &str| Handshake::decode(b).unwrap_err().kind;
    assert_eq!(k(""), InvalidHandshake);
    assert_eq!(k("sid:60:60"), InvalidHandshake);
    assert_eq!(k(":60:60:websocket"), InvalidHandshake);
    assert_eq!(k("sid:6x:60:websocket"), InvalidNumber);
    assert_eq!(k("sid:60::websocket"), InvalidNumber);
    assert_eq!(k("sid:60:99999999999999999999999:websocket"), InvalidNumber);
    assert_eq!(k("sid:60:60:websocket,"), InvalidHandshake);
}

// ---- property tests ------------------------------------------------------------

/// Endpoints: no `:` (the grammar cannot carry it), any unicode otherwise.
fn endpoint() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "/[a-z]{1,8}",
        "[^:]{0,12}",
        "/[😀é€a-z?=&]{0,6}",
    ]
}

fn ack_request() -> impl Strategy<Value = Option<AckRequest>> {
    prop_oneof![
        Just(None),
        (0..=MAX_ID).prop_map(|i| Some(AckRequest::Auto(i))),
        (0..=MAX_ID).prop_map(|i| Some(AckRequest::Data(i))),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
        any::<String>().prop_map(Value::from),
        "[😀é:+\u{fffd}\"\\\\\n]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn args() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(json_value(), 0..5)
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        endpoint().prop_map(|endpoint| Packet::Disconnect { endpoint }),
        (
            "[^:?]{0,12}",
            prop::option::of("\\?[^\u{0}]{0,12}|[^?][^\u{0}]{0,12}")
        )
            .prop_map(|(endpoint, qs)| Packet::Connect { endpoint, qs }),
        Just(Packet::Heartbeat),
        (ack_request(), endpoint(), any::<String>())
            .prop_map(|(id, endpoint, data)| Packet::Message { id, endpoint, data }),
        (ack_request(), endpoint(), json_value()).prop_map(|(id, endpoint, data)| Packet::Json {
            id,
            endpoint,
            data
        }),
        (ack_request(), endpoint(), any::<String>(), args()).prop_map(
            |(id, endpoint, name, args)| Packet::Event {
                id,
                endpoint,
                name,
                args
            }
        ),
        (
            endpoint(),
            0..=MAX_ID,
            prop::option::of(prop::collection::vec(json_value(), 1..5))
        )
            .prop_map(|(endpoint, ack_id, args)| Packet::Ack {
                endpoint,
                ack_id,
                args
            }),
        (
            endpoint(),
            prop::option::of(prop_oneof![
                Just(ErrorReason::TransportNotSupported),
                Just(ErrorReason::ClientNotHandshaken),
                Just(ErrorReason::Unauthorized),
            ]),
            prop::option::of(Just(ErrorAdvice::Reconnect))
        )
            .prop_map(|(endpoint, reason, advice)| Packet::Error {
                endpoint,
                reason,
                advice
            }),
        Just(Packet::Noop),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn packet_round_trip(p in packet()) {
        let wire = enc(&p);
        prop_assert_eq!(Packet::decode(&wire), Ok(p));
    }

    #[test]
    fn payload_round_trip(ps in prop::collection::vec(packet(), 1..6)) {
        let wires: Vec<String> = ps.iter().map(enc).collect();
        let mut body = String::new();
        encode_payload(&wires, &mut body);
        let frames = decode_payload(&body).unwrap();
        prop_assert_eq!(&frames, &wires);
        for (frame, p) in frames.iter().zip(&ps) {
            prop_assert_eq!(&Packet::decode(frame).unwrap(), p);
        }
    }

    #[test]
    fn raw_frames_round_trip(frames in prop::collection::vec("\u{fffd}?[^\u{0}]{1,20}", 1..6)) {
        // Any non-empty strings survive framing, U+FFFD and astral chars included.
        let mut body = String::new();
        encode_payload(&frames, &mut body);
        prop_assert_eq!(decode_payload(&body).unwrap(), frames);
    }

    #[test]
    fn handshake_round_trip(
        sid in "[A-Za-z0-9_-]{1,20}",
        hb in prop::option::of(any::<u64>()),
        close in any::<u64>(),
        transports in prop::collection::vec("[a-z-]{1,12}", 0..6),
    ) {
        let hs = Handshake { sid, heartbeat_timeout: hb, close_timeout: close, transports };
        let mut line = String::new();
        hs.encode(&mut line);
        prop_assert_eq!(Handshake::decode(&line), Ok(hs));
    }

    #[test]
    fn decoders_never_panic(input in "(?s).{0,64}") {
        check_decoders(&input);
    }

    #[test]
    fn decoders_never_panic_on_near_valid(
        input in "[0-9:+/\u{fffd}?\\[\\]{}\",a😀é]{0,40}"
    ) {
        check_decoders(&input);
    }
}

/// Decodes `input` every way; whatever decodes must re-encode to an input
/// that decodes to the same value (modulo the documented lossy forms).
fn check_decoders(input: &str) {
    if let Ok(p) = Packet::decode(input) {
        let again = Packet::decode(&enc(&p)).expect("re-encoded packet decodes");
        assert_eq!(again, normalize(p));
    }
    if let Ok(frames) = decode_payload(input) {
        assert!(!frames.is_empty());
        for f in &frames {
            let _ = Packet::decode(f);
        }
        let mut body = String::new();
        encode_payload(&frames, &mut body);
        assert_eq!(decode_payload(&body).unwrap(), frames);
    }
    if let Ok(hs) = Handshake::decode(input) {
        let mut line = String::new();
        hs.encode(&mut line);
        assert_eq!(Handshake::decode(&line).unwrap(), hs);
    }
}

fn normalize(p: Packet) -> Packet {
    match p {
        Packet::Ack {
            endpoint,
            ack_id,
            args: Some(args),
        } if args.is_empty() => Packet::Ack {
            endpoint,
            ack_id,
            args: None,
        },
        p => p,
    }
}
