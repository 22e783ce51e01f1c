//! Engine.IO codec vectors and property tests for the packet and
//! polling-payload codecs. Vectors: the engine.io-protocol suite's exchanges
//! (labels in `tests/VECTORS.md`), the examples of the engine.io-protocol v4
//! and v3 documents (*Packet encoding*, *Encoding › Payload*) and of the
//! socket.io-protocol sample session, and our own malformed inputs (the strict
//! decoding rule of `src/wire/mod.rs`).

use std::borrow::Cow;

use proptest::prelude::*;
use socketio_sansio::wire::eio::{
    decode_binary, decode_text, encode_binary_frame, encode_text, Data, EngineVersion, OpenPacket,
    Packet, PacketType,
};
use socketio_sansio::wire::{base64, payload, DecodeErrorKind};

use EngineVersion::{V3, V4};

fn msg(text: &str) -> Packet<'_> {
    Packet::text(PacketType::Message, text)
}

fn kind_of<T: std::fmt::Debug>(
    r: Result<T, socketio_sansio::wire::DecodeError>,
) -> DecodeErrorKind {
    r.unwrap_err().kind
}

fn v4_body(packets: &[Packet<'_>]) -> String {
    let mut out = String::new();
    payload::encode_v4(packets, &mut out);
    out
}

fn v3_text_body(packets: &[Packet<'_>]) -> String {
    let mut out = String::new();
    payload::encode_v3_text(packets, &mut out);
    out
}

fn v3_binary_body(packets: &[Packet<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    payload::encode_v3_binary(packets, &mut out);
    out
}

// ---- engine.io-protocol suite vectors (tests/VECTORS.md) ---------------

#[test]
fn e12_websocket_binary_frames() {
    let v3 = decode_binary(V3, &[0x04, 1, 2, 3, 4]).unwrap();
    assert_eq!(v3, Packet::binary(vec![1, 2, 3, 4]));
    let mut frame = Vec::new();
    let Data::Binary(bytes) = &v3.data else {
        panic!("binary expected")
    };
    encode_binary_frame(V3, v3.kind, bytes, &mut frame);
    assert_eq!(frame, [0x04, 1, 2, 3, 4]);

    let v4 = decode_binary(V4, &[1, 2, 3, 4]).unwrap();
    assert_eq!(v4, Packet::binary(vec![1, 2, 3, 4]));
    frame.clear();
    encode_binary_frame(V4, v4.kind, &[1, 2, 3, 4], &mut frame);
    assert_eq!(frame, [1, 2, 3, 4]);
}

#[test]
fn e13_v4_single_message() {
    let packets = payload::decode_v4("4hello").unwrap();
    assert_eq!(packets, [msg("hello")]);
    assert_eq!(v4_body(&packets), "4hello");
}

#[test]
fn e14_v4_three_messages() {
    let body = "4test1\x1e4test2\x1e4test3";
    let packets = payload::decode_v4(body).unwrap();
    assert_eq!(packets, [msg("test1"), msg("test2"), msg("test3")]);
    assert_eq!(v4_body(&packets), body);
}

#[test]
fn e15_v4_text_and_base64_binary() {
    let body = "4hello\x1ebAQIDBA==";
    let packets = payload::decode_v4(body).unwrap();
    assert_eq!(packets, [msg("hello"), Packet::binary(vec![1, 2, 3, 4])]);
    assert_eq!(v4_body(&packets), body);
}

#[test]
fn e18_v3_text_message() {
    let packets = payload::decode_v3_text("6:4hello").unwrap();
    assert_eq!(packets, [msg("hello")]);
    assert_eq!(v3_text_body(&packets), "6:4hello");
}

#[test]
fn e19_v3_text_with_base64_binary() {
    let body = "6:4hello10:b4AQIDBA==";
    let packets = payload::decode_v3_text(body).unwrap();
    assert_eq!(packets, [msg("hello"), Packet::binary(vec![1, 2, 3, 4])]);
    assert_eq!(v3_text_body(&packets), body);
}

#[test]
fn e20_v3_binary_body() {
    let expected = [
        0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02,
        0x03, 0x04,
    ];
    // The same POST as E19, answered in XHR2 form.
    let packets = payload::decode_v3_text("6:4hello10:b4AQIDBA==").unwrap();
    assert_eq!(v3_binary_body(&packets), expected);
    assert_eq!(payload::decode_v3_binary(&expected).unwrap(), packets);
    assert_eq!(payload::decode(V3, &expected, true).unwrap(), packets);
}

// ---- open packet (engine.io-protocol v4, Protocol › Handshake; the sid is the
// ---- socket.io-protocol sample session's) ---------------------------------

fn open(ping_interval: u64, ping_timeout: u64, max_payload: Option<u64>) -> OpenPacket {
    OpenPacket {
        sid: "lv_VI97HAXpY6yYWAAAC".into(),
        upgrades: vec!["websocket".into()],
        ping_interval,
        ping_timeout,
        max_payload,
    }
}

#[test]
fn open_packet_v4() {
    let mut json = String::new();
    open(25000, 20000, Some(1_000_000)).encode_json(&mut json);
    let packet = Packet::text(PacketType::Open, json);
    let body = v4_body(std::slice::from_ref(&packet));
    assert_eq!(
        body,
        r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    );
    let decoded = decode_text(V4, &body).unwrap();
    let Data::Text(json) = decoded.data else {
        panic!("text expected")
    };
    assert_eq!(
        OpenPacket::decode_json(&json).unwrap(),
        open(25000, 20000, Some(1_000_000))
    );
}

#[test]
fn open_packet_v3_polling_frames() {
    for (interval, timeout, expected) in [
        (
            25000,
            5000,
            r#"96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#,
        ),
        (
            300,
            200,
            r#"93:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200}"#,
        ),
    ] {
        let mut json = String::new();
        open(interval, timeout, None).encode_json(&mut json);
        let body = v3_text_body(&[Packet::text(PacketType::Open, json)]);
        assert_eq!(body, expected);
        let packets = payload::decode_v3_text(&body).unwrap();
        assert_eq!(packets.len(), 1);
        assert_eq!(packets[0].kind, PacketType::Open);
    }
    // engine.io 6.x also sends maxPayload to v3 clients: `114:0{...}` with 300/200.
    let mut json = String::new();
    open(300, 200, Some(1_000_000)).encode_json(&mut json);
    assert!(v3_text_body(&[Packet::text(PacketType::Open, json)]).starts_with("114:0{"));
}

#[test]
fn open_packet_websocket_has_no_upgrades() {
    let mut json = String::new();
    OpenPacket {
        upgrades: vec![],
        ..open(25000, 20000, Some(1_000_000))
    }
    .encode_json(&mut json);
    assert_eq!(
        json,
        r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    );
}

// ---- v4 payloads (engine.io-protocol v4, Packet encoding › HTTP long-polling)

#[test]
fn v4_payload_examples() {
    assert_eq!(
        payload::decode_v4("4hello\x1e2\x1e4world").unwrap(),
        [msg("hello"), Packet::bare(PacketType::Ping), msg("world")]
    );
    assert_eq!(
        payload::decode_v4("4hello\x1ebAQIDBA==").unwrap(),
        [msg("hello"), Packet::binary(vec![1, 2, 3, 4])]
    );
    assert_eq!(
        payload::decode_v4("42[\"hello\"]\x1e42[\"world\"]").unwrap(),
        [msg("2[\"hello\"]"), msg("2[\"world\"]")]
    );
    for body in [
        "4hello\x1e2\x1e4world",
        "4hello\x1ebAQIDBA==",
        "42[\"hello\"]\x1e42[\"world\"]",
    ] {
        assert_eq!(v4_body(&payload::decode_v4(body).unwrap()), body);
    }
}

// ---- v3 payloads (engine.io-protocol v3, Encoding › Payload; our own vectors)

#[test]
fn v3_text_payload_examples() {
    let cases: Vec<(&str, Vec<Packet<'static>>)> = vec![
        ("6:4hello6:4world", vec![msg("hello"), msg("world")]),
        ("2:4€", vec![msg("€")]),
        ("3:4😀", vec![msg("😀")]),
        ("10:b4AQIDBA==", vec![Packet::binary(vec![1, 2, 3, 4])]),
        ("1:2", vec![Packet::bare(PacketType::Ping)]),
        (
            "2:4013:42[\"auth\",{}]1:3",
            vec![
                msg("0"),
                msg("2[\"auth\",{}]"),
                Packet::bare(PacketType::Pong),
            ],
        ),
        ("0:", vec![]),
    ];
    for (body, packets) in cases {
        assert_eq!(payload::decode_v3_text(body).unwrap(), packets, "{body}");
        assert_eq!(v3_text_body(&packets), body, "{body}");
    }
    // `0:1:2` decodes to just the ping.
    assert_eq!(
        payload::decode_v3_text("0:1:2").unwrap(),
        [Packet::bare(PacketType::Ping)]
    );
}

#[test]
fn v3_binary_payload_example() {
    let body = [
        0x00, 0x04, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02, 0x03, 0x04,
    ];
    let packets = [msg("€"), Packet::binary(vec![1, 2, 3, 4])];
    assert_eq!(payload::decode_v3_binary(&body).unwrap(), packets);
    assert_eq!(v3_binary_body(&packets), body);
    // Zero packets: an empty binary body.
    assert!(v3_binary_body(&[]).is_empty());
    assert_eq!(payload::decode_v3_binary(&[]).unwrap(), []);
}

#[test]
fn v3_binary_socketio_framing() {
    // socket.io 2.x binary event: `00 01 FF 33` (pong), `00 05 00 FF` + 50 bytes, `01 04 FF 04 ..`.
    let text = "451-[\"x\",{\"_placeholder\":true,\"num\":0},\"pad....\"]";
    assert_eq!(text.len() + 1, 50);
    let packets = [
        Packet::bare(PacketType::Pong),
        msg(text),
        Packet::binary(vec![7, 8, 9]),
    ];
    let body = v3_binary_body(&packets);
    assert_eq!(body[..4], [0x00, 0x01, 0xFF, 0x33]);
    assert_eq!(body[4..8], [0x00, 0x05, 0x00, 0xFF]);
    assert_eq!(body[58..], [0x01, 0x04, 0xFF, 0x04, 7, 8, 9]);
    assert_eq!(payload::decode_v3_binary(&body).unwrap(), packets);
}

// ---- malformed Engine.IO input (our own; strict rule of src/wire/mod.rs) ---

#[test]
fn v4_malformed_posts() {
    assert_eq!(
        kind_of(payload::decode(V4, b"", false)),
        DecodeErrorKind::EmptyPacket
    );
    assert_eq!(
        kind_of(payload::decode(V4, b"4hello\x1e", false)),
        DecodeErrorKind::EmptyPacket
    );
    assert_eq!(
        kind_of(payload::decode(V4, b"7", false)),
        DecodeErrorKind::UnknownPacketType
    );
    assert_eq!(
        kind_of(payload::decode(V4, b"x", false)),
        DecodeErrorKind::UnknownPacketType
    );
    assert_eq!(
        kind_of(payload::decode(V4, b"abc", false)),
        DecodeErrorKind::UnknownPacketType
    );
    assert_eq!(
        kind_of(payload::decode(V4, b"b!!!", false)),
        DecodeErrorKind::InvalidBase64
    );
    // A message then a close packet is a valid body (the session layer closes).
    assert_eq!(
        payload::decode(V4, b"4a\x1e1", false).unwrap(),
        [msg("a"), Packet::bare(PacketType::Close)]
    );
    // v4 never uses the XHR2 form (the core answers 400).
    assert_eq!(
        kind_of(payload::decode(V4, b"4hello", true)),
        DecodeErrorKind::InvalidFraming
    );
    // Invalid UTF-8 in a text body is rejected, not replaced.
    assert_eq!(
        kind_of(payload::decode(V4, b"4\xFFhello", false)),
        DecodeErrorKind::InvalidUtf8
    );
}

#[test]
fn v4_separator_in_text_is_not_escaped() {
    // Documented choice: written as-is, like the reference; the peer splits it.
    let body = v4_body(&[msg("a\x1e4b")]);
    assert_eq!(body, "4a\x1e4b");
    assert_eq!(payload::decode_v4(&body).unwrap(), [msg("a"), msg("b")]);
}

#[test]
fn v3_malformed_text_posts() {
    let k = |body: &str| kind_of(payload::decode(V3, body.as_bytes(), false));
    assert_eq!(k("5:4hi"), DecodeErrorKind::InvalidFraming);
    assert_eq!(k("2:4hi"), DecodeErrorKind::InvalidFraming);
    assert_eq!(k(":4hi"), DecodeErrorKind::InvalidNumber);
    assert_eq!(k("a:4hi"), DecodeErrorKind::InvalidNumber);
    assert_eq!(k("-1:4hi"), DecodeErrorKind::InvalidNumber);
    assert_eq!(k("1e1:4xxxxxxxxx"), DecodeErrorKind::InvalidNumber);
    assert_eq!(k(" 5:4hello"), DecodeErrorKind::InvalidNumber);
    assert_eq!(k("184467440737095516160:4"), DecodeErrorKind::InvalidNumber);
    assert_eq!(k("5:4😀"), DecodeErrorKind::InvalidFraming);
    assert_eq!(k("abc"), DecodeErrorKind::InvalidFraming);
    assert_eq!(k(""), DecodeErrorKind::EmptyPacket);
    assert_eq!(k("1:7"), DecodeErrorKind::UnknownPacketType);
    assert_eq!(k("4:b4!!"), DecodeErrorKind::InvalidBase64);
    assert_eq!(
        kind_of(payload::decode(V3, b"3:4\xF0\x9F", false)),
        DecodeErrorKind::InvalidUtf8
    );
    assert!(payload::decode(V3, b"0:", false).unwrap().is_empty());
    assert_eq!(
        payload::decode(V3, "3:4😀".as_bytes(), false).unwrap(),
        [msg("😀")]
    );
}

#[test]
fn v3_malformed_binary_posts() {
    let k = |body: &[u8]| kind_of(payload::decode(V3, body, true));
    // Length digit byte 0x0A.
    assert_eq!(
        k(&[0x00, 0x0A, 0xFF, b'4', b'h']),
        DecodeErrorKind::InvalidNumber
    );
    // No 0xFF within the bound (the reference gives up after 310).
    let mut body = vec![0x00];
    body.extend(std::iter::repeat(1).take(311));
    assert_eq!(k(&body), DecodeErrorKind::InvalidFraming);
    // No 0xFF at all.
    assert_eq!(k(&[0x00, 0x01]), DecodeErrorKind::InvalidFraming);
    // Length beyond the body.
    assert_eq!(
        k(&[0x00, 0x09, 0xFF, b'4', b'h', b'i']),
        DecodeErrorKind::InvalidFraming
    );
    assert_eq!(
        k(&[0x01, 0x01, 0x00, 0xFF, 0x04]),
        DecodeErrorKind::InvalidFraming
    );
    // Kind byte other than 0/1.
    assert_eq!(
        k(&[0x02, 0x01, 0xFF, b'2']),
        DecodeErrorKind::InvalidFraming
    );
    // String part that is not UTF-8.
    assert_eq!(
        k(&[0x00, 0x02, 0xFF, b'4', 0xFF]),
        DecodeErrorKind::InvalidUtf8
    );
    // Unknown type inside a part.
    assert_eq!(
        k(&[0x01, 0x02, 0xFF, 0x07, 0x01]),
        DecodeErrorKind::UnknownPacketType
    );
    assert_eq!(
        k(&[0x00, 0x01, 0xFF, b'x']),
        DecodeErrorKind::UnknownPacketType
    );
}

#[test]
fn v3_malformed_websocket_frames() {
    assert_eq!(
        kind_of(decode_binary(V3, &[0x07, 0x01, 0x02])),
        DecodeErrorKind::UnknownPacketType
    );
    assert_eq!(kind_of(decode_binary(V3, &[])), DecodeErrorKind::Empty);
    assert_eq!(kind_of(decode_text(V3, "")), DecodeErrorKind::Empty);
    assert_eq!(kind_of(decode_text(V4, "")), DecodeErrorKind::Empty);
}

#[test]
fn websocket_text_b_prefix() {
    // v4 text frame `bAQID` is a binary message; v3 `b4AQID` too.
    assert_eq!(
        decode_text(V4, "bAQID").unwrap(),
        Packet::binary(vec![1, 2, 3])
    );
    assert_eq!(
        decode_text(V3, "b4AQID").unwrap(),
        Packet::binary(vec![1, 2, 3])
    );
    let mut frame = Vec::new();
    encode_binary_frame(V3, PacketType::Message, &[1, 2, 3], &mut frame);
    assert_eq!(frame, [4, 1, 2, 3]);
}

// ---- property tests ------------------------------------------------------

fn packet_type() -> impl Strategy<Value = PacketType> {
    (0u8..=6).prop_map(|d| PacketType::from_u8(d).unwrap())
}

/// Text with multi-byte and astral characters (but no `\x1e`, which v4 cannot carry).
fn rich_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<char>().prop_filter("no record separator", |c| *c != '\x1e'),
            1 => prop::sample::select(vec!['😀', '€', 'é', ':', '0', '9', 'b', '\u{10FFFF}', '\u{FFFD}', '\n']),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

/// Any packet (text or binary of any type).
fn any_packet() -> impl Strategy<Value = Packet<'static>> {
    prop_oneof![
        (packet_type(), rich_text()).prop_map(|(k, t)| Packet::text(k, t)),
        (packet_type(), bytes()).prop_map(|(k, b)| Packet {
            kind: k,
            data: Data::Binary(Cow::Owned(b))
        }),
    ]
}

/// Packets v4 can carry: binary only as messages.
fn v4_packet() -> impl Strategy<Value = Packet<'static>> {
    prop_oneof![
        (packet_type(), rich_text()).prop_map(|(k, t)| Packet::text(k, t)),
        bytes().prop_map(Packet::binary),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn text_packet_round_trip(version in prop_oneof![Just(V3), Just(V4)], packet in any_packet()) {
        let packet = match (version, &packet.data) {
            (V4, Data::Binary(_)) => Packet { kind: PacketType::Message, ..packet },
            _ => packet,
        };
        let mut text = String::new();
        encode_text(version, &packet, &mut text);
        prop_assert_eq!(decode_text(version, &text)?, packet);
    }

    #[test]
    fn binary_frame_round_trip(kind in packet_type(), data in bytes()) {
        let mut frame = Vec::new();
        encode_binary_frame(V3, kind, &data, &mut frame);
        let p = decode_binary(V3, &frame)?;
        prop_assert_eq!(p.kind, kind);
        prop_assert_eq!(p.data, Data::Binary(Cow::Borrowed(&data[..])));
        frame.clear();
        encode_binary_frame(V4, PacketType::Message, &data, &mut frame);
        prop_assert_eq!(decode_binary(V4, &frame)?, Packet::binary(&data[..]));
    }

    #[test]
    fn v4_payload_round_trip(packets in prop::collection::vec(v4_packet(), 1..8)) {
        let body = v4_body(&packets);
        prop_assert_eq!(payload::decode_v4(&body)?, packets.clone());
        prop_assert_eq!(payload::decode(V4, body.as_bytes(), false)?, packets);
    }

    #[test]
    fn v3_text_payload_round_trip(packets in prop::collection::vec(any_packet(), 0..8)) {
        let body = v3_text_body(&packets);
        prop_assert_eq!(payload::decode_v3_text(&body)?, packets.clone());
        prop_assert_eq!(payload::decode(V3, body.as_bytes(), false)?, packets);
    }

    #[test]
    fn v3_binary_payload_round_trip(packets in prop::collection::vec(any_packet(), 0..8)) {
        let body = v3_binary_body(&packets);
        prop_assert_eq!(payload::decode_v3_binary(&body)?, packets.clone());
        prop_assert_eq!(payload::decode(V3, &body, true)?, packets);
    }

    #[test]
    fn base64_round_trip(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut text = String::new();
        base64::encode(&data, &mut text);
        prop_assert_eq!(text.len(), base64::encoded_len(data.len()));
        prop_assert_eq!(base64::decode(&text)?, data);
    }

    #[test]
    fn open_packet_round_trip(
        sid in rich_text(),
        upgrades in prop::collection::vec(rich_text(), 0..3),
        ping_interval in any::<u64>(),
        ping_timeout in any::<u64>(),
        max_payload in any::<Option<u64>>(),
    ) {
        let open = OpenPacket { sid, upgrades, ping_interval, ping_timeout, max_payload };
        let mut json = String::new();
        open.encode_json(&mut json);
        // serde_json agrees that it is valid JSON with the same content.
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(value["sid"].as_str(), Some(open.sid.as_str()));
        prop_assert_eq!(OpenPacket::decode_json(&json)?, open);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn decode_text_never_panics(version in prop_oneof![Just(V3), Just(V4)], input in ".{0,40}") {
        if let Err(e) = decode_text(version, &input) {
            prop_assert!(e.offset <= input.len());
        }
    }

    #[test]
    fn decode_binary_never_panics(version in prop_oneof![Just(V3), Just(V4)], input in bytes()) {
        let _ = decode_binary(version, &input);
    }

    #[test]
    fn payload_decoders_never_panic(input in prop::collection::vec(any::<u8>(), 0..80)) {
        for version in [V3, V4] {
            for binary in [false, true] {
                if let Err(e) = payload::decode(version, &input, binary) {
                    prop_assert!(e.offset <= input.len());
                }
            }
        }
        if let Err(e) = payload::decode_v3_binary(&input) {
            prop_assert!(e.offset <= input.len());
        }
    }

    /// Bodies made of framing characters, to reach deep into the decoders.
    #[test]
    fn payload_decoders_never_panic_on_framing_soup(
        input in prop::collection::vec(
            prop::sample::select(vec![
                "0", "1", "2", "4", "9", ":", "\x1e", "b", "b4", "AQ==", "😀", "€", "x", "=",
            ]),
            0..30,
        )
    ) {
        let body: String = input.concat();
        for r in [payload::decode_v4(&body), payload::decode_v3_text(&body)] {
            if let Err(e) = r {
                prop_assert!(e.offset <= body.len());
            }
        }
        let bin: Vec<u8> = body.bytes().map(|b| if b == b':' { 0xFF } else { b % 12 }).collect();
        if let Err(e) = payload::decode_v3_binary(&bin) {
            prop_assert!(e.offset <= bin.len());
        }
    }

    #[test]
    fn base64_decode_never_panics(input in "[A-Za-z0-9+/=!é]{0,24}") {
        if let Err(e) = base64::decode(&input) {
            prop_assert!(e.offset < input.len().max(1));
        }
    }
}
