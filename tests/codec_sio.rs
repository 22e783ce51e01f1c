//! Socket.IO packet codec (rev 4 / rev 5): the examples of the
//! socket.io-protocol v5 document (*Packet encoding*), the suite vectors
//! S1–S16 / V1–V4 at codec level (labels in `tests/VECTORS.md`), the inputs
//! of the published socket.io and socket.io-parser security advisories, our
//! own malformed inputs (the strict decoding rule of `src/wire/mod.rs`), plus
//! property tests.
//!
//! Inputs are Socket.IO packets, i.e. the WebSocket text frame without the
//! leading Engine.IO `4`.

use proptest::prelude::*;
use serde_json::{json, Value};
use socketio_sansio::wire::binary::placeholder;
use socketio_sansio::wire::sio::{
    encode_ack, encode_event, is_reserved_event, split_namespace_query, Ack, AckId, Args, Body,
    Decoder, DecoderConfig, Event, Packet, PacketType, MAX_ACK_ID, RESERVED_EVENTS,
};
use socketio_sansio::wire::{DecodeError, DecodeErrorKind};

// ---- helpers -----------------------------------------------------------------

/// One WebSocket message of a connection.
#[derive(Debug, Clone)]
enum Msg {
    Text(String),
    Bin(Vec<u8>),
}

fn text(s: &str) -> Msg {
    Msg::Text(s.to_owned())
}

fn bin(b: &[u8]) -> Msg {
    Msg::Bin(b.to_vec())
}

/// Feeds `msgs` to a fresh decoder; the packets completed, or the first error.
fn feed(msgs: &[Msg]) -> Result<Vec<Packet>, DecodeError> {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    for msg in msgs {
        let got = match msg {
            Msg::Text(s) => decoder.decode_text(s),
            Msg::Bin(b) => decoder.decode_binary(b.clone()),
        };
        match got {
            Ok(Some(p)) => out.push(p),
            Ok(None) => {}
            Err(e) => {
                assert!(!decoder.is_reconstructing(), "decoder must reset after {e}");
                return Err(e);
            }
        }
    }
    assert!(
        !decoder.is_reconstructing(),
        "attachments still expected after {msgs:?}"
    );
    Ok(out)
}

/// Decodes one complete packet (text + attachments).
fn decode_one(msgs: &[Msg]) -> Packet {
    let mut packets = feed(msgs).unwrap_or_else(|e| panic!("{msgs:?}: {e}"));
    assert_eq!(packets.len(), 1, "{msgs:?}");
    packets.remove(0)
}

fn decode_str(s: &str) -> Packet {
    decode_one(&[text(s)])
}

fn error_kind(msgs: &[Msg]) -> DecodeErrorKind {
    match feed(msgs) {
        Ok(p) => panic!("{msgs:?} decoded to {p:?}, expected an error"),
        Err(e) => e.kind,
    }
}

fn err_str(s: &str) -> DecodeErrorKind {
    error_kind(&[text(s)])
}

fn is_invalid_json(kind: &DecodeErrorKind) -> bool {
    matches!(kind, DecodeErrorKind::InvalidJson(_))
}

fn is_invalid_payload(kind: &DecodeErrorKind) -> bool {
    matches!(kind, DecodeErrorKind::InvalidPayload(_))
}

fn encode(p: &Packet) -> String {
    let mut s = String::new();
    p.encode(&mut s);
    s
}

fn pkt(nsp: &str, body: Body) -> Packet {
    Packet {
        nsp: nsp.to_owned(),
        body,
    }
}

fn event(
    nsp: &str,
    id: Option<AckId>,
    name: &str,
    values: Vec<Value>,
    binaries: Vec<Vec<u8>>,
) -> Packet {
    pkt(
        nsp,
        Body::Event(Event {
            name: name.to_owned(),
            args: Args { values, binaries },
            id,
        }),
    )
}

fn ack(nsp: &str, id: AckId, values: Vec<Value>, binaries: Vec<Vec<u8>>) -> Packet {
    pkt(
        nsp,
        Body::Ack(Ack {
            id,
            args: Args { values, binaries },
        }),
    )
}

fn ph(n: usize) -> Value {
    placeholder(n)
}

/// Asserts `packet` encodes to `wire` (+ `attachments`) and that the wire form
/// decodes back to `packet`.
fn both_ways(wire: &str, attachments: &[&[u8]], packet: Packet) {
    assert_eq!(encode(&packet), wire);
    let expected: Vec<Vec<u8>> = attachments.iter().map(|a| a.to_vec()).collect();
    assert_eq!(packet.attachments(), expected.as_slice());
    let mut msgs = vec![text(wire)];
    msgs.extend(attachments.iter().map(|a| bin(a)));
    assert_eq!(decode_one(&msgs), packet, "{wire}");
}

// ---- socket.io-protocol v5, Packet encoding examples ----------------------------

#[test]
fn protocol_2_2_examples() {
    both_ways("0", &[], pkt("/", Body::Connect(None)));
    both_ways("0/admin,", &[], pkt("/admin", Body::Connect(None)));
    both_ways(
        r#"0/admin,{"token":"123"}"#,
        &[],
        pkt("/admin", Body::Connect(Some(json!({"token": "123"})))),
    );
    both_ways(
        r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        &[],
        pkt(
            "/",
            Body::Connect(Some(json!({"sid": "wZX3oN0bSVIhsaknAAAI"}))),
        ),
    );
    both_ways(
        r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
        &[],
        pkt(
            "/admin",
            Body::Connect(Some(json!({"sid": "oSO0OpakMV_3jnilAAAA"}))),
        ),
    );
    both_ways(
        r#"4{"message":"Not authorized"}"#,
        &[],
        pkt(
            "/",
            Body::ConnectError(json!({"message": "Not authorized"})),
        ),
    );
    both_ways(
        r#"4/random,{"message":"Invalid namespace"}"#,
        &[],
        pkt(
            "/random",
            Body::ConnectError(json!({"message": "Invalid namespace"})),
        ),
    );
    both_ways(
        r#"4/admin,"Not authorized""#,
        &[],
        pkt("/admin", Body::ConnectError(json!("Not authorized"))),
    );
    both_ways("1", &[], pkt("/", Body::Disconnect));
    both_ways("1/admin,", &[], pkt("/admin", Body::Disconnect));
    both_ways(r#"2["foo"]"#, &[], event("/", None, "foo", vec![], vec![]));
    both_ways(
        r#"2/admin,["bar"]"#,
        &[],
        event("/admin", None, "bar", vec![], vec![]),
    );
    both_ways(
        r#"212["foo"]"#,
        &[],
        event("/", Some(12), "foo", vec![], vec![]),
    );
    both_ways(
        r#"2/admin,456["project:delete",123]"#,
        &[],
        event(
            "/admin",
            Some(456),
            "project:delete",
            vec![json!(123)],
            vec![],
        ),
    );
    both_ways(
        r#"3/admin,13["bar"]"#,
        &[],
        ack("/admin", 13, vec![json!("bar")], vec![]),
    );
    both_ways(
        r#"51-["baz",{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3, 4]],
        event("/", None, "baz", vec![ph(0)], vec![vec![1, 2, 3, 4]]),
    );
    both_ways(
        r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        &[&[1, 2], &[3, 4]],
        event(
            "/admin",
            None,
            "baz",
            vec![ph(0), ph(1)],
            vec![vec![1, 2], vec![3, 4]],
        ),
    );
    both_ways(
        r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3, 4]],
        ack("/", 15, vec![json!("bar"), ph(0)], vec![vec![1, 2, 3, 4]]),
    );
    both_ways(
        r#"61-/admin,1[{"_placeholder":true,"num":0}]"#,
        &[&[9]],
        ack("/admin", 1, vec![ph(0)], vec![vec![9]]),
    );
}

#[test]
fn packet_types_and_binary_types() {
    let p = event("/", None, "a", vec![], vec![]);
    assert_eq!(p.packet_type(), PacketType::Event);
    let p = event("/", None, "a", vec![ph(0)], vec![vec![]]);
    assert_eq!(p.packet_type(), PacketType::BinaryEvent);
    assert_eq!(ack("/", 1, vec![], vec![]).packet_type(), PacketType::Ack);
    assert_eq!(
        ack("/", 1, vec![ph(0)], vec![vec![1]]).packet_type(),
        PacketType::BinaryAck
    );
    assert_eq!(
        pkt("/", Body::Connect(None)).packet_type(),
        PacketType::Connect
    );
    assert_eq!(
        pkt("/", Body::Disconnect).packet_type(),
        PacketType::Disconnect
    );
    assert_eq!(
        pkt("/", Body::ConnectError(json!("x"))).packet_type(),
        PacketType::ConnectError
    );
}

#[test]
fn encode_event_and_ack_helpers_match_packet_encode() {
    let mut out = String::from("4");
    encode_event(&mut out, "/", None, "message-back", &[json!("x")], 0);
    assert_eq!(out, r#"42["message-back","x"]"#);
    let mut out = String::new();
    encode_event(&mut out, "/admin", Some(1), "tellme", &[ph(0)], 1);
    assert_eq!(
        out,
        r#"51-/admin,1["tellme",{"_placeholder":true,"num":0}]"#
    );
    let mut out = String::new();
    encode_ack(&mut out, "/", 456, &[], 0);
    assert_eq!(out, "3456[]");
    let mut out = String::new();
    encode_ack(&mut out, "/x", 0, &[ph(0), ph(1)], 2);
    assert_eq!(
        out,
        r#"62-/x,0[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
}

#[test]
fn args_attach_and_resolve() {
    let mut args = Args::default();
    let a = args.attach(vec![1, 2, 3]);
    let b = args.attach(vec![4, 5, 6]);
    args.values = vec![json!({"deep": [a.clone()]}), b.clone()];
    assert_eq!(a, ph(0));
    assert_eq!(args.binary(&a), Some(&[1u8, 2, 3][..]));
    assert_eq!(args.binary(&b), Some(&[4u8, 5, 6][..]));
    assert_eq!(args.binary(&ph(2)), None);
    assert_eq!(args.binary(&json!("x")), None);
    assert_eq!(Args::json(vec![json!(1)]).binaries.len(), 0);
}

#[test]
fn json_strings_match_json_stringify() {
    // U+2028/2029 and DEL are written literally, control chars as \u00xx.
    let p = event(
        "/",
        None,
        "e",
        vec![json!("\u{2028}\u{2029}\u{7f}\u{1}\u{1f}\"\\/\n😀")],
        vec![],
    );
    assert_eq!(
        encode(&p),
        "2[\"e\",\"\u{2028}\u{2029}\u{7f}\\u0001\\u001f\\\"\\\\/\\n😀\"]"
    );
    assert_eq!(decode_str(&encode(&p)), p);
}

// ---- suite vectors, revision 5 (tests/VECTORS.md) ------------------------------

const SID: &str = "wZX3oN0bSVIhsaknAAAI";

fn sid_reply(nsp: &str) -> Packet {
    pkt(nsp, Body::Connect(Some(json!({"sid": SID}))))
}

#[test]
fn s1_connect_main_namespace() {
    assert_eq!(decode_str("0"), pkt("/", Body::Connect(None)));
    assert_eq!(encode(&sid_reply("/")), format!(r#"0{{"sid":"{SID}"}}"#));
    assert_eq!(
        encode(&event("/", None, "auth", vec![json!({})], vec![])),
        r#"2["auth",{}]"#
    );
}

#[test]
fn s2_connect_with_auth() {
    let p = decode_str(r#"0{"token":"123"}"#);
    assert_eq!(p, pkt("/", Body::Connect(Some(json!({"token": "123"})))));
    let Body::Connect(Some(auth)) = p.body else {
        unreachable!()
    };
    assert_eq!(
        encode(&event("/", None, "auth", vec![auth], vec![])),
        r#"2["auth",{"token":"123"}]"#
    );
}

#[test]
fn s3_s4_connect_custom_namespace() {
    assert_eq!(decode_str("0/custom,"), pkt("/custom", Body::Connect(None)));
    assert_eq!(
        encode(&sid_reply("/custom")),
        format!(r#"0/custom,{{"sid":"{SID}"}}"#)
    );
    assert_eq!(
        encode(&event("/custom", None, "auth", vec![json!({})], vec![])),
        r#"2/custom,["auth",{}]"#
    );
    let p = decode_str(r#"0/custom,{"token":"abc"}"#);
    assert_eq!(
        p,
        pkt("/custom", Body::Connect(Some(json!({"token": "abc"}))))
    );
    let Body::Connect(Some(auth)) = p.body else {
        unreachable!()
    };
    assert_eq!(
        encode(&event("/custom", None, "auth", vec![auth], vec![])),
        r#"2/custom,["auth",{"token":"abc"}]"#
    );
}

#[test]
fn s5_unknown_namespace_without_comma() {
    let p = decode_str("0/random");
    assert_eq!(p, pkt("/random", Body::Connect(None)));
    // the reply always has the comma
    let reply = pkt(
        &p.nsp,
        Body::ConnectError(json!({"message": "Invalid namespace"})),
    );
    assert_eq!(
        encode(&reply),
        r#"4/random,{"message":"Invalid namespace"}"#
    );
}

#[test]
fn s6_s14_garbage_is_an_unknown_type() {
    assert_eq!(err_str("abc"), DecodeErrorKind::UnknownPacketType);
}

#[test]
fn s8_s9_disconnect_then_main_namespace_event() {
    assert_eq!(decode_str("1"), pkt("/", Body::Disconnect));
    assert_eq!(decode_str("0/custom"), pkt("/custom", Body::Connect(None)));
    assert_eq!(decode_str("1/custom"), pkt("/custom", Body::Disconnect));
    let p = decode_str(r#"2["message","message to main namespace"]"#);
    assert_eq!(
        p,
        event(
            "/",
            None,
            "message",
            vec![json!("message to main namespace")],
            vec![]
        )
    );
    let Body::Event(e) = p.body else {
        unreachable!()
    };
    let reply = event("/", None, "message-back", e.args.values, vec![]);
    assert_eq!(
        encode(&reply),
        r#"2["message-back","message to main namespace"]"#
    );
}

#[test]
fn s10_echo() {
    let p = decode_str(r#"2["message",1,"2",{"3":[true]}]"#);
    let Body::Event(e) = p.body else {
        panic!("{p:?}")
    };
    assert_eq!(e.name, "message");
    assert_eq!(e.id, None);
    assert_eq!(
        e.args.values,
        vec![json!(1), json!("2"), json!({"3": [true]})]
    );
    let mut out = String::new();
    encode_event(&mut out, &p.nsp, None, "message-back", &e.args.values, 0);
    assert_eq!(out, r#"2["message-back",1,"2",{"3":[true]}]"#);
}

#[test]
fn s11_v4_binary_echo() {
    // V4 differs only in the Engine.IO framing (binary frames carry 0x04,
    // stripped before the Socket.IO decoder): same codec exchange.
    let p = decode_one(&[
        text(r#"52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
        bin(&[1, 2, 3]),
        bin(&[4, 5, 6]),
    ]);
    assert_eq!(p.packet_type(), PacketType::BinaryEvent);
    let Body::Event(e) = p.body else {
        unreachable!()
    };
    assert_eq!(e.name, "message");
    assert_eq!(e.args.binary(&e.args.values[0]), Some(&[1u8, 2, 3][..]));
    assert_eq!(e.args.binary(&e.args.values[1]), Some(&[4u8, 5, 6][..]));
    let reply = event("/", None, "message-back", e.args.values, e.args.binaries);
    assert_eq!(
        encode(&reply),
        r#"52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(reply.attachments(), &[vec![1, 2, 3], vec![4, 5, 6]]);
}

#[test]
fn s12_ack() {
    let p = decode_str(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#);
    let Body::Event(e) = p.body else { panic!() };
    assert_eq!((e.name.as_str(), e.id), ("message-with-ack", Some(456)));
    let reply = ack(&p.nsp, 456, e.args.values, vec![]);
    assert_eq!(encode(&reply), r#"3456[1,"2",{"3":[false]}]"#);
}

#[test]
fn s13_binary_ack() {
    let p = decode_one(&[
        text(
            r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        ),
        bin(&[1, 2, 3]),
        bin(&[4, 5, 6]),
    ]);
    let Body::Event(e) = p.body else { panic!() };
    assert_eq!(e.id, Some(789));
    let reply = ack("/", 789, e.args.values, e.args.binaries);
    assert_eq!(
        encode(&reply),
        r#"62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(reply.packet_type(), PacketType::BinaryAck);
    assert_eq!(reply.attachments(), &[vec![1, 2, 3], vec![4, 5, 6]]);
}

#[test]
fn s15_object_event_payload() {
    assert!(is_invalid_payload(&err_str("2{}")));
}

#[test]
fn s16_letters_in_ack_id() {
    assert!(is_invalid_json(&err_str(
        r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#
    )));
}

#[test]
fn server_to_client_acks() {
    let out = encode(&event(
        "/",
        Some(1),
        "emit-with-ack",
        vec![json!(1), json!("2"), json!({"3": [true]})],
        vec![],
    ));
    assert_eq!(out, r#"21["emit-with-ack",1,"2",{"3":[true]}]"#);
    assert_eq!(
        decode_str(r#"31[1,"2",{"3":[true]}]"#),
        ack(
            "/",
            1,
            vec![json!(1), json!("2"), json!({"3": [true]})],
            vec![]
        )
    );
    let p = decode_one(&[
        text(r#"62-1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
        bin(&[1]),
        bin(&[2]),
    ]);
    assert_eq!(p, ack("/", 1, vec![ph(0), ph(1)], vec![vec![1], vec![2]]));
}

// ---- revision 4 (V1–V4 and the rev 4 sample session) ---------------------------

#[test]
fn v1_server_connects_main_namespace() {
    assert_eq!(encode(&pkt("/", Body::Connect(None))), "0");
    assert_eq!(
        encode(&event("/", None, "auth", vec![json!({})], vec![])),
        r#"2["auth",{}]"#
    );
    // the client emits on "/" without CONNECT
    assert_eq!(
        decode_str(r#"2["message","x"]"#),
        event("/", None, "message", vec![json!("x")], vec![])
    );
}

#[test]
fn v2_custom_namespace() {
    assert_eq!(decode_str("0/custom,"), pkt("/custom", Body::Connect(None)));
    assert_eq!(encode(&pkt("/custom", Body::Connect(None))), "0/custom,");
}

#[test]
fn v3_invalid_namespace_both_forms() {
    assert_eq!(decode_str("0/random"), pkt("/random", Body::Connect(None)));
    let v4_server = pkt(
        "/random",
        Body::ConnectError(json!({"message": "Invalid namespace"})),
    );
    assert_eq!(
        encode(&v4_server),
        r#"4/random,{"message":"Invalid namespace"}"#
    );
    let v2_server = pkt("/random", Body::ConnectError(json!("Invalid namespace")));
    assert_eq!(encode(&v2_server), r#"4/random,"Invalid namespace""#);
    assert_eq!(decode_str(r#"4/random,"Invalid namespace""#), v2_server);
}

#[test]
fn v4_binary_ack_variant() {
    let p = decode_one(&[
        text(
            r#"52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        ),
        bin(&[1, 2, 3]),
        bin(&[4, 5, 6]),
    ]);
    let Body::Event(e) = p.body else { panic!() };
    assert_eq!(
        encode(&ack("/", 789, e.args.values, e.args.binaries)),
        r#"62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
}

#[test]
fn rev4_namespace_query_and_sample_session() {
    let p = decode_str("0/admin?token=abc,");
    assert_eq!(p, pkt("/admin?token=abc", Body::Connect(None)));
    assert_eq!(split_namespace_query(&p.nsp), ("/admin", Some("token=abc")));
    assert_eq!(split_namespace_query("/admin"), ("/admin", None));
    assert_eq!(
        decode_str(r#"2["hey","Jude"]"#),
        event("/", None, "hey", vec![json!("Jude")], vec![])
    );
    assert_eq!(
        decode_str(r#"2/admin,1["tellme"]"#),
        event("/admin", Some(1), "tellme", vec![], vec![])
    );
    let reply = ack("/admin", 1, vec![ph(0)], vec![vec![0xde, 0xad]]);
    assert_eq!(
        encode(&reply),
        r#"61-/admin,1[{"_placeholder":true,"num":0}]"#
    );
}

// ---- published socket.io / socket.io-parser advisories -------------------------

#[test]
fn cve_2022_2421_placeholder_num() {
    for input in [
        r#"51-["hello",{"_placeholder":true,"num":"splice"}]"#,
        r#"51-["hello",{"_placeholder":true,"num":1}]"#,
        r#"51-["hello",{"_placeholder":true,"num":"toString"}]"#,
        r#"61-1[{"_placeholder":true,"num":"__proto__"}]"#,
    ] {
        assert_eq!(
            error_kind(&[text(input), bin(&[1, 2])]),
            DecodeErrorKind::InvalidPlaceholder,
            "{input}"
        );
    }
}

#[test]
fn cve_2023_32695_event_name_type() {
    for input in [
        r#"2[{"toString":"foo"}]"#,
        r#"2[true,"foo"]"#,
        r#"2[null,"bar"]"#,
        r#"2[["x"]]"#,
        r#"51-[{"_placeholder":true,"num":0}]"#,
    ] {
        let kind = error_kind(&[text(input), bin(&[1])]);
        assert_eq!(
            kind,
            DecodeErrorKind::InvalidPayload("event name must be a string or a number"),
            "{input}"
        );
    }
}

#[test]
fn reserved_event_names_and_array_connect() {
    assert_eq!(
        err_str(r#"2["connect"]"#),
        DecodeErrorKind::ReservedEventName
    );
    assert_eq!(
        err_str(r#"2["disconnect","123"]"#),
        DecodeErrorKind::ReservedEventName
    );
    for name in RESERVED_EVENTS {
        assert!(is_reserved_event(name));
        assert_eq!(
            err_str(&format!(r#"2/a,7["{name}"]"#)),
            DecodeErrorKind::ReservedEventName
        );
        let kind = error_kind(&[
            text(&format!(r#"51-["{name}",{{"_placeholder":true,"num":0}}]"#)),
            bin(&[1]),
        ]);
        assert_eq!(kind, DecodeErrorKind::ReservedEventName);
    }
    assert!(!is_reserved_event("error"));
    assert!(!is_reserved_event("Connect"));
    assert_eq!(
        err_str("0[]"),
        DecodeErrorKind::InvalidPayload("CONNECT payload must be an object")
    );
}

#[test]
fn cve_2024_38355_error_is_an_ordinary_event() {
    assert_eq!(
        decode_str(r#"2["error"]"#),
        event("/", None, "error", vec![], vec![])
    );
    assert_eq!(
        decode_str(r#"2["error","x"]"#),
        event("/", None, "error", vec![json!("x")], vec![])
    );
}

#[test]
fn cve_2020_36049_huge_numeric_fields() {
    // Megabytes of digits: rejected after at most 17 of them, in linear time.
    let digits = "2".repeat(10_000_000);
    let started = std::time::Instant::now();
    assert_eq!(
        err_str(&format!("2{digits}[\"x\"]")),
        DecodeErrorKind::InvalidNumber
    );
    assert_eq!(
        err_str(&format!("3/a,{digits}[]")),
        DecodeErrorKind::InvalidNumber
    );
    assert_eq!(
        err_str(&format!("5{digits}-[\"x\"]")),
        DecodeErrorKind::InvalidNumber
    );
    // leading zeros are digits too: still linear
    assert_eq!(
        err_str(&format!("2{}1", "0".repeat(1_000_000))),
        DecodeErrorKind::InvalidPayload("EVENT payload must be a non-empty array")
    );
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn unbounded_attachments() {
    assert_eq!(err_str(r#"511-["x"]"#), DecodeErrorKind::TooManyAttachments);
    assert_eq!(
        err_str(r#"61000000-1[]"#),
        DecodeErrorKind::TooManyAttachments
    );
    assert_eq!(
        err_str(r#"59007199254740991-["x"]"#),
        DecodeErrorKind::TooManyAttachments
    );
    // 10 is the default maximum and accepted
    let mut msgs = vec![text(r#"510-["x"]"#)];
    msgs.extend((0..10u8).map(|i| bin(&[i])));
    let p = decode_one(&msgs);
    assert_eq!(p.attachments().len(), 10);
    // the configured maximum applies
    let mut d = Decoder::new(DecoderConfig {
        max_attachments: 2,
        ..DecoderConfig::default()
    });
    assert_eq!(
        d.decode_text(r#"53-["x"]"#).unwrap_err().kind,
        DecodeErrorKind::TooManyAttachments
    );
    // the flood of binary frames that follows is refused frame by frame
    for _ in 0..3 {
        assert_eq!(
            d.decode_binary(vec![0; 10]).unwrap_err().kind,
            DecodeErrorKind::UnexpectedBinary
        );
    }
    // and the total size is bounded
    let mut d = Decoder::new(DecoderConfig {
        max_attachments: 10,
        max_attachment_bytes: 1000,
    });
    assert!(d.decode_text(r#"52-["x"]"#).unwrap().is_none());
    assert_eq!(
        d.decode_binary(vec![0; 1001]).unwrap_err().kind,
        DecodeErrorKind::AttachmentsTooLarge
    );
}

// ---- malformed Socket.IO input (our own) -----------------------------------------

#[test]
fn empty_and_unknown_types() {
    assert_eq!(
        feed(&[text("")]).unwrap_err(),
        DecodeError::new(DecodeErrorKind::Empty, 0)
    );
    for input in ["x", "7", "9", "abc", "7[]", " 2[\"x\"]", "é"] {
        assert_eq!(
            err_str(input),
            DecodeErrorKind::UnknownPacketType,
            "{input}"
        );
    }
}

#[test]
fn event_payload_must_be_a_non_empty_array() {
    for input in [
        "2{}",
        r#"2"foo""#,
        "2[]",
        "21",
        "2",
        "2null",
        "2/admin,",
        "5",
    ] {
        assert!(
            is_invalid_payload(&err_str(input)) || input == "5",
            "{input}: {:?}",
            err_str(input)
        );
    }
    assert_eq!(err_str("5"), DecodeErrorKind::InvalidNumber);
    assert!(is_invalid_payload(&err_str("51-")));
}

#[test]
fn ack_id_must_be_digits() {
    assert!(is_invalid_json(&err_str(r#"2abc["message-with-ack"]"#)));
    // a space is not a digit (JS reads it as id 0)
    assert_eq!(err_str(r#"2 ["x"]"#), DecodeErrorKind::InvalidNumber);
    assert_eq!(err_str("2\t[\"x\"]"), DecodeErrorKind::InvalidNumber);
    assert_eq!(err_str(r#"21 ["x"]"#), DecodeErrorKind::InvalidNumber);
    assert_eq!(err_str(r#"2/a, ["x"]"#), DecodeErrorKind::InvalidNumber);
    assert_eq!(
        err_str(&format!("2{}[\"x\"]", "9".repeat(400))),
        DecodeErrorKind::InvalidNumber
    );
    assert!(is_invalid_json(&err_str(r#"212.5["x"]"#)));
    assert!(is_invalid_json(&err_str(r#"2-1["x"]"#)));
    // trailing whitespace after the JSON is accepted, as by JSON.parse
    assert_eq!(
        decode_str("2[\"x\"] \n"),
        event("/", None, "x", vec![], vec![])
    );
}

#[test]
fn degenerate_namespaces() {
    assert!(is_invalid_json(&err_str("0,")));
    assert!(is_invalid_json(&err_str("1,")));
    assert_eq!(decode_str("0/,"), pkt("/", Body::Connect(None)));
    // the namespace swallows the JSON when the comma is missing
    assert_eq!(
        decode_str(r#"0/admin{"token":1}"#),
        pkt(r#"/admin{"token":1}"#, Body::Connect(None))
    );
    assert_eq!(
        decode_str(r#"0/admin,{"a":1,"b":2}"#),
        pkt("/admin", Body::Connect(Some(json!({"a": 1, "b": 2}))))
    );
    let e = feed(&[text(r#"0/admin{"a":1,"b":2}"#)]).unwrap_err();
    assert!(is_invalid_json(&e.kind));
    assert_eq!(e.offset, 17); // the `:` after `"b"`
                              // any character but ',' belongs to the namespace
    assert_eq!(
        decode_str("1/a b?c{😀,"),
        pkt("/a b?c{😀", Body::Disconnect)
    );
}

#[test]
fn connect_and_disconnect_payloads() {
    for input in [
        "0/admin,[]",
        r#"0/admin,"x""#,
        "0/admin,null",
        "0[]",
        r#"0"x""#,
        "0null",
        "01",
    ] {
        assert!(is_invalid_payload(&err_str(input)), "{input}");
    }
    assert!(is_invalid_payload(&err_str("1/admin,{}")));
    assert!(is_invalid_payload(&err_str("1[]")));
    assert!(is_invalid_payload(&err_str("11")));
    // CONNECT_ERROR: string or object, mandatory, no id
    assert!(is_invalid_payload(&err_str("4")));
    assert!(is_invalid_payload(&err_str("4[]")));
    assert!(is_invalid_payload(&err_str("41\"x\"")));
    assert!(is_invalid_payload(&err_str("4/a,null")));
    // ACK: needs an id and an array
    assert!(is_invalid_payload(&err_str("3[]")));
    assert!(is_invalid_payload(&err_str("31")));
    assert!(is_invalid_payload(&err_str("31{}")));
    assert_eq!(decode_str("31[]"), ack("/", 1, vec![], vec![]));
}

#[test]
fn session_level_violations_decode_fine() {
    // `40` twice, a namespace not joined, a client CONNECT_ERROR: the codec
    // decodes them; rejecting them is the socket layer's job.
    assert_eq!(decode_one(&[text("0")]), pkt("/", Body::Connect(None)));
    assert_eq!(feed(&[text("0"), text("0")]).unwrap().len(), 2);
    assert_eq!(
        decode_str(r#"2/other,["x"]"#),
        event("/other", None, "x", vec![], vec![])
    );
    assert_eq!(
        decode_str(r#"4{"message":"x"}"#),
        pkt("/", Body::ConnectError(json!({"message": "x"})))
    );
    for name in ["__proto__", "constructor", "hasOwnProperty"] {
        let p = decode_str(&format!(r#"2["{name}",1]"#));
        assert_eq!(p, event("/", None, name, vec![json!(1)], vec![]));
    }
}

#[test]
fn attachment_count_syntax() {
    let ph0 = r#"{"_placeholder":true,"num":0}"#;
    assert_eq!(
        err_str(&format!(r#"50-["x",{ph0}]"#)),
        DecodeErrorKind::ZeroAttachments
    );
    assert_eq!(err_str(r#"60-1[]"#), DecodeErrorKind::ZeroAttachments);
    assert_eq!(err_str(r#"5-["x"]"#), DecodeErrorKind::InvalidNumber);
    assert_eq!(
        err_str(&format!(r#"51e0-["x",{ph0}]"#)),
        DecodeErrorKind::InvalidNumber
    );
    assert_eq!(
        err_str(&format!(r#"50x1-["x",{ph0}]"#)),
        DecodeErrorKind::InvalidNumber
    );
    assert_eq!(err_str(r#"51["x"]"#), DecodeErrorKind::InvalidNumber);
    assert_eq!(err_str(r#"5 1-["x"]"#), DecodeErrorKind::InvalidNumber);
    assert_eq!(
        err_str(r#"599999999999-["x"]"#),
        DecodeErrorKind::TooManyAttachments
    );
    assert_eq!(
        err_str(&format!("5{}-[\"x\"]", "9".repeat(40))),
        DecodeErrorKind::InvalidNumber
    );
}

#[test]
fn placeholder_num_must_be_an_integer_in_range() {
    let two = |body: &str| error_kind(&[text(body), bin(&[1]), bin(&[2])]);
    assert_eq!(
        two(r#"52-["x",{"_placeholder":true,"num":0.5},{"_placeholder":true,"num":1}]"#),
        DecodeErrorKind::InvalidPlaceholder
    );
    for num in ["-1", r#""0""#, "null", "1", "true", "[0]", "1e400"] {
        let input = format!(r#"51-["x",{{"_placeholder":true,"num":{num}}}]"#);
        let kind = error_kind(&[text(&input), bin(&[1])]);
        assert!(
            kind == DecodeErrorKind::InvalidPlaceholder || is_invalid_json(&kind),
            "{input}: {kind:?}"
        );
        if num != "1e400" {
            assert_eq!(kind, DecodeErrorKind::InvalidPlaceholder, "{input}");
        }
    }
    assert_eq!(
        error_kind(&[text(r#"51-["x",{"_placeholder":true}]"#), bin(&[1])]),
        DecodeErrorKind::InvalidPlaceholder
    );
    // key order and extra keys do not matter
    let p = decode_one(&[
        text(r#"51-["x",{"num":0,"extra":1,"_placeholder":true}]"#),
        bin(&[7]),
    ]);
    let Body::Event(e) = p.body else { panic!() };
    assert_eq!(e.args.binary(&e.args.values[0]), Some(&[7u8][..]));
}

#[test]
fn fake_duplicate_nested_placeholders() {
    // "_placeholder":"true" is an ordinary object; the unused attachment is accepted
    let p = decode_one(&[
        text(r#"51-["x",{"_placeholder":"true","num":0}]"#),
        bin(&[1]),
    ]);
    let Body::Event(e) = &p.body else { panic!() };
    assert_eq!(
        e.args.values,
        vec![json!({"_placeholder": "true", "num": 0})]
    );
    assert_eq!(e.args.binary(&e.args.values[0]), None);
    assert_eq!(p.attachments(), &[vec![1]]);
    // duplicate num: both resolve to buffer 0, buffer 1 unused
    let p = decode_one(&[
        text(r#"52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#),
        bin(&[1]),
        bin(&[2]),
    ]);
    let Body::Event(e) = &p.body else { panic!() };
    assert_eq!(e.args.binary(&e.args.values[1]), Some(&[1u8][..]));
    // the outer placeholder wins, its contents are not checked
    decode_one(&[
        text(r#"51-["x",{"_placeholder":true,"num":0,"extra":{"_placeholder":true,"num":9}}]"#),
        bin(&[1]),
    ]);
    // placeholders at depth are validated and resolvable
    let p = decode_one(&[
        text(r#"51-["x",{"a":[[{"_placeholder":true,"num":0}]]}]"#),
        bin(&[5]),
    ]);
    let Body::Event(e) = &p.body else { panic!() };
    assert_eq!(
        e.args.binary(&e.args.values[0]["a"][0][0]),
        Some(&[5u8][..])
    );
    let kind = error_kind(&[
        text(r#"51-["x",{"a":[[{"_placeholder":true,"num":1}]]}]"#),
        bin(&[5]),
    ]);
    assert_eq!(kind, DecodeErrorKind::InvalidPlaceholder);
}

#[test]
fn reconstruction_state_errors() {
    let start = text(r#"51-["x",{"_placeholder":true,"num":0}]"#);
    assert_eq!(
        error_kind(&[start.clone(), text(r#"2["y"]"#)]),
        DecodeErrorKind::UnexpectedText
    );
    assert_eq!(error_kind(&[bin(&[1])]), DecodeErrorKind::UnexpectedBinary);
    assert_eq!(
        error_kind(&[start.clone(), bin(&[1]), bin(&[2])]),
        DecodeErrorKind::UnexpectedBinary
    );
    // an empty attachment is still an attachment
    assert_eq!(
        feed(&[start, bin(&[])]).unwrap()[0].attachments(),
        &[Vec::<u8>::new()]
    );
}

#[test]
fn placeholders_in_plain_packets_are_plain_objects() {
    for input in [
        r#"2["x",{"_placeholder":true,"num":0}]"#,
        r#"2["x",{"_placeholder":true,"num":"splice"}]"#,
    ] {
        let p = decode_str(input);
        let Body::Event(e) = &p.body else { panic!() };
        assert!(e.args.binaries.is_empty());
        assert_eq!(e.args.binary(&e.args.values[0]), None);
    }
    let p = decode_str(r#"31[{"_placeholder":true,"num":-1}]"#);
    assert_eq!(p.packet_type(), PacketType::Ack);
}

#[test]
fn deep_json_is_refused_without_overflowing_the_stack() {
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let deep = format!("2[\"x\",{}1{}]", open.repeat(10_000), close.repeat(10_000));
        let kind = err_str(&deep);
        assert!(is_invalid_json(&kind), "{kind:?}");
        assert!(kind.to_string().contains("recursion limit"), "{kind}");
        // also inside a binary packet and a CONNECT
        assert!(is_invalid_json(&err_str(&format!("51-{}", &deep[1..]))));
        assert!(is_invalid_json(&err_str(&format!(
            "0{{\"a\":{}1{}}}",
            open.repeat(10_000),
            close.repeat(10_000)
        ))));
    }
    // moderate depth is fine
    let ok = format!("2[\"x\",{}1{}]", "[".repeat(100), "]".repeat(100));
    decode_str(&ok);
}

#[test]
fn numeric_event_name() {
    assert_eq!(
        decode_str(r#"2[1,"x"]"#),
        event("/", None, "1", vec![json!("x")], vec![])
    );
}

#[test]
fn error_messages_are_useful() {
    let e = feed(&[text(r#"2[true]"#)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid payload: event name must be a string or a number at byte 1"
    );
    let e = feed(&[text(r#"2abc"#)]).unwrap_err();
    assert!(e.to_string().starts_with("invalid JSON: "), "{e}");
}

// ---- property tests ------------------------------------------------------------

/// JSON without floats that do not round-trip exactly (serde_json without
/// `float_roundtrip` may be off by one ulp on arbitrary floats).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i32..1000).prop_map(|i| Value::from(f64::from(i) / 8.0)),
        any::<String>().prop_map(Value::String),
        "[a-z😀\u{2028}\"\\\\\n]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An argument tree whose `Bin` leaves become attachments.
#[derive(Debug, Clone)]
enum Tree {
    Json(Value),
    Bin(Vec<u8>),
    Arr(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        3 => json_value().prop_map(Tree::Json),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(Tree::Bin),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::Arr),
            prop::collection::vec(("[a-z_]{0,6}", inner), 0..4).prop_map(Tree::Obj),
        ]
    })
}

fn build(t: Tree, args: &mut Args) -> Value {
    match t {
        Tree::Json(v) => v,
        Tree::Bin(b) => args.attach(b),
        Tree::Arr(items) => Value::Array(items.into_iter().map(|i| build(i, args)).collect()),
        Tree::Obj(kv) => {
            let mut map = serde_json::Map::new();
            for (k, v) in kv {
                let v = build(v, args);
                map.insert(k, v);
            }
            Value::Object(map)
        }
    }
}

/// Args with attachments at random depths; max 10 attachments.
fn args() -> impl Strategy<Value = Args> {
    prop::collection::vec(tree(), 0..5).prop_map(|trees| {
        let mut args = Args::default();
        for t in trees {
            let v = build(t, &mut args);
            args.values.push(v);
        }
        args
    })
}

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_owned()),
        "/[^,]{0,12}",
        "/[a-z]{1,8}(\\?[a-z]=[a-z0-9]{0,4})?"
    ]
}

fn ack_id() -> impl Strategy<Value = AckId> {
    prop_oneof![0..100u64, 0..=MAX_ACK_ID, Just(MAX_ACK_ID)]
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec((any::<String>(), json_value()), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

fn packet() -> impl Strategy<Value = Packet> {
    let body = prop_oneof![
        prop::option::of(object()).prop_map(Body::Connect),
        Just(Body::Disconnect),
        (
            any::<String>().prop_filter("reserved", |n| !is_reserved_event(n)),
            args(),
            prop::option::of(ack_id())
        )
            .prop_map(|(name, args, id)| Body::Event(Event { name, args, id })),
        (ack_id(), args()).prop_map(|(id, args)| Body::Ack(Ack { id, args })),
        prop_oneof![any::<String>().prop_map(Value::String), object()].prop_map(Body::ConnectError),
    ];
    (nsp(), body).prop_map(|(nsp, body)| Packet { nsp, body })
}

fn roundtrip(p: &Packet) -> Result<Packet, DecodeError> {
    let mut decoder = Decoder::new(DecoderConfig {
        max_attachments: 64,
        ..DecoderConfig::default()
    });
    let mut got = decoder.decode_text(&encode(p))?;
    for b in p.attachments() {
        assert!(got.is_none());
        got = decoder.decode_binary(b.clone())?;
    }
    Ok(got.expect("complete packet"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_roundtrip(p in packet()) {
        let decoded = roundtrip(&p);
        prop_assert_eq!(decoded, Ok(p.clone()));
        // the encoded JSON part is exactly serde_json's
        if let Body::Event(e) = &p.body {
            let mut all = vec![Value::String(e.name.clone())];
            all.extend(e.args.values.iter().cloned());
            let wire = encode(&p);
            let json = serde_json::to_string(&Value::Array(all)).unwrap();
            prop_assert!(wire.ends_with(&json));
        }
    }

    #[test]
    fn encode_event_and_ack_helpers_agree(nsp in nsp(), id in ack_id(), name in any::<String>(), args in args()) {
        let mut out = String::new();
        encode_event(&mut out, &nsp, Some(id), &name, &args.values, args.binaries.len());
        let p = Packet { nsp: nsp.clone(), body: Body::Event(Event { name, args: args.clone(), id: Some(id) }) };
        prop_assert_eq!(out, encode(&p));
        let mut out = String::new();
        encode_ack(&mut out, &nsp, id, &args.values, args.binaries.len());
        prop_assert_eq!(out, encode(&Packet { nsp, body: Body::Ack(Ack { id, args }) }));
    }
}

/// Texts that look like Socket.IO packets, to get past the header checks.
fn packetish() -> impl Strategy<Value = String> {
    let header = "[0-7]?([0-9]{0,3}-)?(/[a-z?,{ ]{0,4},?)?[0-9 ]{0,3}";
    let body = prop_oneof![
        Just(String::new()),
        json_value().prop_map(|v| v.to_string()),
        (0i64..4, 0i64..4, "[\"a-z0-9{}\\[\\],:_ ]{0,12}").prop_map(|(a, b, junk)| format!(
            r#"["e",{{"_placeholder":true,"num":{a}}},[{{"num":{b},"_placeholder":true}}],{junk}]"#
        )),
        "[\\[\\]{}\"a-z0-9,:._-]{0,24}",
    ];
    (header, body).prop_map(|(h, b)| h + &b)
}

fn value_has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(value_has_float),
        Value::Object(map) => map.values().any(value_has_float),
        _ => false,
    }
}

fn has_float(p: &Packet) -> bool {
    match &p.body {
        Body::Connect(Some(v)) | Body::ConnectError(v) => value_has_float(v),
        Body::Event(Event { args, .. }) | Body::Ack(Ack { args, .. }) => {
            args.values.iter().any(value_has_float)
        }
        _ => false,
    }
}

fn message() -> impl Strategy<Value = Msg> {
    prop_oneof![
        4 => packetish().prop_map(Msg::Text),
        1 => any::<String>().prop_map(Msg::Text),
        2 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Msg::Bin),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn decoder_never_panics_and_decoded_packets_reencode(msgs in prop::collection::vec(message(), 1..8)) {
        let mut decoder = Decoder::new(DecoderConfig { max_attachments: 3, max_attachment_bytes: 12 });
        for msg in msgs {
            let got = match msg {
                Msg::Text(s) => decoder.decode_text(&s),
                Msg::Bin(b) => decoder.decode_binary(b),
            };
            match got {
                Err(_) => prop_assert!(!decoder.is_reconstructing()),
                Ok(None) => prop_assert!(decoder.is_reconstructing()),
                Ok(Some(p)) => {
                    prop_assert!(!decoder.is_reconstructing());
                    // whatever decodes re-encodes to something that decodes
                    // to the same packet (floats aside, see json_value)
                    if !has_float(&p) {
                        let again = roundtrip(&p);
                        prop_assert_eq!(again, Ok(p));
                    } else {
                        prop_assert!(roundtrip(&p).is_ok());
                    }
                }
            }
        }
    }
}
