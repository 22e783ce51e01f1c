//! The MessagePack codec against bytes produced by the npm packages
//! `socket.io-msgpack-parser` 3.0.2 (notepack.io 2.2.0), generated once with
//! Node from packets shaped as socket.io 4.x servers and socket.io-client 4.x
//! send them (see `socket.io-msgpack-parser`'s `Encoder`). Packets written in
//! our key order (`type`, `nsp`, `data`, `id`) must encode to the same bytes;
//! every vector must decode to the expected packet; what the npm decoder
//! refuses, we refuse too.
#![cfg(feature = "msgpack")]

use serde_json::{json, Value};
use socketio_sansio::wire::msgpack::{decode, encode};
use socketio_sansio::wire::sio::{Ack, Args, Body, DecoderConfig, Event, Packet};
use socketio_sansio::wire::DecodeErrorKind;

const CONNECT_SID: &str = "83a47479706500a36e7370a12fa46461746181a3736964a3616263";
const CONNECT_NONE: &str = "82a47479706500a36e7370a62f61646d696e";
const DISCONNECT: &str = "82a47479706501a36e7370a52f63686174";
const EVENT_KINDS: &str =
    "83a47479706502a36e7370a12fa464617461dc0020a56b696e6473a3737472a6c3a9f09f9880007f \
     cc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf001fffffffffffffffe0 \
     d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe0000000000001cb3f \
     f8000000000000cbbfd0000000000000cb01a56e1fc2f8f359c0c3c2908082a161920181a162c0a0 \
     a178";
const EVENT_ACK: &str = "84a47479706502a36e7370a62f61646d696ea46461746192a2657601a269642a";
const EVENT_BINARY: &str =
    "83a47479706502a36e7370a12fa46461746193a362696ec40301020381a66e657374656491c400";
const ACK_BINARY: &str = "84a47479706503a36e7370a12fa46461746191c402deada26964cf001fffffffffffff";
const ACK_EMPTY: &str = "84a47479706503a36e7370a12fa46461746190a2696400";
const CONNECT_ERROR: &str =
    "83a47479706504a36e7370a82f70726976617465a46461746182a76d657373616765ae6e6f742061 \
     7574686f72697a6564a46461746181a4636f646507";
const LONG_STRING: &str =
    "83a47479706502a36e7370a12fa46461746193a173d9287878787878787878787878787878787878 \
     7878787878787878787878787878787878787878787878da012c7979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     79797979797979797979797979797979797979797979797979797979797979797979797979797979 \
     797979797979";
const LONG_ARRAY: &str =
    "83a47479706502a36e7370a12fa464617461dc0015a161000102030405060708090a0b0c0d0e0f10 \
     111213";
const BIN16: &str =
    "83a47479706502a36e7370a12fa46461746192a162c5012c07070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707070707070707070707070707070707070707070707070707070707070707070707070707 \
     07070707";
const CLIENT_EMIT: &str =
    "84a47479706502a46461746192a568656c6c6fa5776f726c64a76f7074696f6e7381a8636f6d7072 \
     657373c3a36e7370a12f";
const CLIENT_EMIT_ACK: &str =
    "85a47479706502a46461746192a17181a17801a76f7074696f6e7381a8636f6d7072657373c3a269 \
     6403a36e7370a62f61646d696e";
const CLIENT_ACK: &str = "84a47479706503a36e7370a12fa2696405a46461746192a4646f6e65c40109";
const CLIENT_CONNECT_AUTH: &str = "83a47479706500a36e7370a12fa46461746181a5746f6b656ea174";
const CLIENT_UNDEFINED: &str =
    "85a47479706502a46461746193a175d4000082a161d40000a16201a76f7074696f6e7381a8636f6d \
     7072657373c3a26964d40000a36e7370a12f";
const CLIENT_UINT8ARRAY: &str =
    "84a47479706502a46461746192a27461c70300040506a76f7074696f6e7381a8636f6d7072657373 \
     c3a36e7370a12f";
const CLIENT_ARRAYBUFFER: &str =
    "84a47479706502a46461746192a26162c702000708a76f7074696f6e7381a8636f6d7072657373c3 \
     a36e7370a12f";
const CLIENT_FLOAT_INTEGRAL: &str = "83a47479706502a46461746192a16602a36e7370a12f";
const CLIENT_DATE: &str = "83a47479706502a46461746192a164d7000000000000000000a36e7370a12f";
/// npm: "invalid packet type"
const REFUSED_TYPE5: &str = "83a47479706505a36e7370a12fa46461746191a178";
/// npm: "invalid packet type"
const REFUSED_TYPE_STR: &str = "83a474797065a132a36e7370a12fa46461746191a178";
/// npm: "invalid namespace"
const REFUSED_NSP_MISSING: &str = "82a47479706502a46461746191a178";
/// npm: "invalid payload"
const REFUSED_DATA_NOT_ARRAY: &str = "83a47479706502a36e7370a12fa464617461a178";
/// npm: "invalid payload"
const REFUSED_DISCONNECT_DATA: &str = "83a47479706501a36e7370a12fa46461746180";
/// npm: "invalid packet id"
const REFUSED_ID_FLOAT: &str = "84a47479706502a36e7370a12fa46461746191a178a26964cb3ff8000000000000";
/// npm: "invalid payload"
const REFUSED_CONNECT_ARRAY: &str = "83a47479706500a36e7370a12fa4646174619101";

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        })
        .collect();
    digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

fn packet(nsp: &str, body: Body) -> Packet {
    Packet {
        nsp: nsp.into(),
        body,
    }
}

fn event(nsp: &str, name: &str, args: Args, id: Option<u64>) -> Packet {
    packet(
        nsp,
        Body::Event(Event {
            name: name.into(),
            args,
            id,
        }),
    )
}

fn decoded(hex_str: &str) -> Packet {
    decode(&hex(hex_str), &DecoderConfig::default()).expect(hex_str)
}

/// Builds args where `Bin(n)` marks binaries, in document order.
fn args_with(values: Vec<Value>, binaries: Vec<Vec<u8>>) -> Args {
    Args { values, binaries }
}

fn ph(n: usize) -> Value {
    json!({"_placeholder": true, "num": n})
}

fn same_bytes() -> Vec<(&'static str, Packet)> {
    vec![
        (
            CONNECT_SID,
            packet("/", Body::Connect(Some(json!({"sid": "abc"})))),
        ),
        (CONNECT_NONE, packet("/admin", Body::Connect(None))),
        (DISCONNECT, packet("/chat", Body::Disconnect)),
        (
            EVENT_KINDS,
            event(
                "/",
                "kinds",
                Args::json(vec![
                    json!("str"),
                    json!("é😀"),
                    json!(0),
                    json!(127),
                    json!(128),
                    json!(255),
                    json!(256),
                    json!(65535),
                    json!(65536),
                    json!(4294967295u64),
                    json!(4294967296u64),
                    json!(9007199254740991u64),
                    json!(-1),
                    json!(-32),
                    json!(-33),
                    json!(-128),
                    json!(-129),
                    json!(-32768),
                    json!(-32769),
                    json!(-2147483648i64),
                    json!(-2147483649i64),
                    json!(-9007199254740991i64),
                    json!(1.5),
                    json!(-0.25),
                    json!(1e-300),
                    json!(null),
                    json!(true),
                    json!(false),
                    json!([]),
                    json!({}),
                    json!({"a": [1, {"b": null}], "": "x"}),
                ]),
                None,
            ),
        ),
        (
            EVENT_ACK,
            event("/admin", "ev", Args::json(vec![json!(1)]), Some(42)),
        ),
        (
            EVENT_BINARY,
            event(
                "/",
                "bin",
                args_with(
                    vec![ph(0), json!({"nested": [ph(1)]})],
                    vec![vec![1, 2, 3], vec![]],
                ),
                None,
            ),
        ),
        (
            ACK_BINARY,
            packet(
                "/",
                Body::Ack(Ack {
                    id: 9007199254740991,
                    args: args_with(vec![ph(0)], vec![vec![0xde, 0xad]]),
                }),
            ),
        ),
        (
            ACK_EMPTY,
            packet(
                "/",
                Body::Ack(Ack {
                    id: 0,
                    args: Args::default(),
                }),
            ),
        ),
        (
            CONNECT_ERROR,
            packet(
                "/private",
                Body::ConnectError(json!({"message": "not authorized", "data": {"code": 7}})),
            ),
        ),
        (
            LONG_STRING,
            event(
                "/",
                "s",
                Args::json(vec![json!("x".repeat(40)), json!("y".repeat(300))]),
                None,
            ),
        ),
        (
            LONG_ARRAY,
            event(
                "/",
                "a",
                Args::json((0..20).map(Value::from).collect()),
                None,
            ),
        ),
        (
            BIN16,
            event("/", "b", args_with(vec![ph(0)], vec![vec![7; 300]]), None),
        ),
    ]
}

#[test]
fn encodes_the_npm_bytes() {
    for (expected, p) in same_bytes() {
        let mut out = Vec::new();
        encode(&p, &mut out);
        assert_eq!(out, hex(expected), "{p:?}");
    }
}

#[test]
fn decodes_the_npm_bytes() {
    for (bytes, p) in same_bytes() {
        assert_eq!(decoded(bytes), p);
    }
}

#[test]
fn decodes_what_socket_io_client_sends() {
    let cases = [
        // `options: {compress: true}` is ignored, key order does not matter
        (
            CLIENT_EMIT,
            event("/", "hello", Args::json(vec![json!("world")]), None),
        ),
        (
            CLIENT_EMIT_ACK,
            event("/admin", "q", Args::json(vec![json!({"x": 1})]), Some(3)),
        ),
        (
            CLIENT_ACK,
            packet(
                "/",
                Body::Ack(Ack {
                    id: 5,
                    args: args_with(vec![json!("done"), ph(0)], vec![vec![9]]),
                }),
            ),
        ),
        (
            CLIENT_CONNECT_AUTH,
            packet("/", Body::Connect(Some(json!({"token": "t"})))),
        ),
        // `undefined`: null in an array, dropped from an object, absent id
        (
            CLIENT_UNDEFINED,
            event(
                "/",
                "u",
                Args::json(vec![json!(null), json!({"b": 1})]),
                None,
            ),
        ),
        // typed arrays and ArrayBuffers travel as ext type 0: bytes too
        (
            CLIENT_UINT8ARRAY,
            event("/", "ta", args_with(vec![ph(0)], vec![vec![4, 5, 6]]), None),
        ),
        (
            CLIENT_ARRAYBUFFER,
            event("/", "ab", args_with(vec![ph(0)], vec![vec![7, 8]]), None),
        ),
        (
            CLIENT_FLOAT_INTEGRAL,
            event("/", "f", Args::json(vec![json!(2)]), None),
        ),
    ];
    for (bytes, p) in cases {
        assert_eq!(decoded(bytes), p);
    }
}

#[test]
fn binary_round_trips_as_bytes() {
    let p = decoded(EVENT_BINARY);
    let Body::Event(e) = &p.body else {
        panic!("{p:?}")
    };
    assert_eq!(e.args.binary(&e.args.values[0]), Some(&[1u8, 2, 3][..]));
    assert_eq!(e.args.binary(&e.args.values[1]["nested"][0]), Some(&[][..]));
    let mut out = Vec::new();
    encode(&p, &mut out);
    assert_eq!(out, hex(EVENT_BINARY));
}

#[test]
fn refuses_what_the_npm_decoder_refuses() {
    use DecodeErrorKind::*;
    let cases = [
        (REFUSED_TYPE5, UnknownPacketType),
        (REFUSED_TYPE_STR, UnknownPacketType),
        (REFUSED_NSP_MISSING, InvalidNamespace),
        (
            REFUSED_DATA_NOT_ARRAY,
            InvalidPayload("EVENT payload must be a non-empty array"),
        ),
        (
            REFUSED_DISCONNECT_DATA,
            InvalidPayload("DISCONNECT carries no payload"),
        ),
        (REFUSED_ID_FLOAT, InvalidNumber),
        (
            REFUSED_CONNECT_ARRAY,
            InvalidPayload("CONNECT payload must be an object"),
        ),
    ];
    for (bytes, kind) in cases {
        let e = decode(&hex(bytes), &DecoderConfig::default()).expect_err(bytes);
        assert_eq!(e.kind, kind, "{bytes}");
    }
}

#[test]
fn refuses_dates_and_other_extensions() {
    let e = decode(&hex(CLIENT_DATE), &DecoderConfig::default()).unwrap_err();
    assert_eq!(
        e.kind,
        DecodeErrorKind::InvalidMsgPack("unsupported extension type")
    );
}
