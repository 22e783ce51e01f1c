//! Byte vectors derived by hand from the Node sources (notepack.io's
//! MessagePack rules: fixstr `0xa0|len`, fixarray `0x90|len`, fixmap
//! `0x80|len`, positive fixint, `0xcd` uint16, `0xc4` bin8, `0xc3` true)
//! and JSON.stringify's key order, not produced by the code under test.

use serde_json::json;
use socketio_sansio::cluster::{
    ClusterMessage, RemoteSocket, RequestKind, ResponseKind, SelectionOp,
};
use socketio_sansio::{Args, Broadcast};
use std::time::Duration;

use super::Channels;

/// fixstr
fn s(text: &str) -> Vec<u8> {
    assert!(text.len() < 32);
    let mut v = vec![0xa0 | text.len() as u8];
    v.extend_from_slice(text.as_bytes());
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn ch() -> Channels {
    Channels::new("socket.io")
}

/// lib/index.ts `broadcast`: `io.emit("hello", "world")` on `/` publishes
/// `[uid, {type: 2, data: ["hello", "world"], nsp: "/"}, {rooms: [],
/// except: [], flags: {}}]` on `socket.io#/#`.
#[test]
fn broadcast_to_everyone() {
    let expected = cat(&[
        &[0x93],
        &s("abc123"),
        &[0x83],
        &s("type"),
        &[0x02],
        &s("data"),
        &[0x92],
        &s("hello"),
        &s("world"),
        &s("nsp"),
        &s("/"),
        &[0x83],
        &s("rooms"),
        &[0x90],
        &s("except"),
        &[0x90],
        &s("flags"),
        &[0x80],
    ]);
    let message = ClusterMessage::Broadcast {
        uid: "abc123".into(),
        target: Broadcast::to("/"),
        event: "hello".into(),
        args: Args::json(vec![json!("world")]),
    };
    let (channel, bytes) = ch().encode(&message);
    assert_eq!(channel, "socket.io#/#");
    assert_eq!(bytes, expected);
    assert_eq!(ch().decode(&channel, &bytes).unwrap(), Some(message));
}

/// One room: the per-room channel `socket.io#/#chess#`; a Buffer argument
/// stays `bin` (notepack `bin8`); `volatile` in `flags`.
#[test]
fn room_broadcast_with_binary_and_volatile() {
    let expected = cat(&[
        &[0x93],
        &s("abc123"),
        &[0x83],
        &s("type"),
        &[0x02],
        &s("data"),
        &[0x92],
        &s("bin"),
        &[0xc4, 0x03, 1, 2, 3],
        &s("nsp"),
        &s("/"),
        &[0x83],
        &s("rooms"),
        &[0x91],
        &s("chess"),
        &s("except"),
        &[0x91],
        &s("muted"),
        &s("flags"),
        &[0x81],
        &s("volatile"),
        &[0xc3],
    ]);
    let mut args = Args::default();
    let placeholder = args.attach(vec![1, 2, 3]);
    args.values.push(placeholder);
    let message = ClusterMessage::Broadcast {
        uid: "abc123".into(),
        target: Broadcast::to("/").room("chess").except("muted").volatile(),
        event: "bin".into(),
        args,
    };
    let (channel, bytes) = ch().encode(&message);
    assert_eq!(channel, "socket.io#/#chess#");
    assert_eq!(bytes, expected);
    assert_eq!(ch().decode(&channel, &bytes).unwrap(), Some(message));
}

/// socket.io-redis-emitter lib/index.ts `emit`: uid `emitter`, opts keys in
/// the order rooms, flags, except; decoded like an adapter's broadcast.
#[test]
fn emitter_broadcast() {
    let bytes = cat(&[
        &[0x93],
        &s("emitter"),
        &[0x83],
        &s("type"),
        &[0x02],
        &s("data"),
        &[0x92],
        &s("news"),
        &[0xc4, 0x01, 0xff],
        &s("nsp"),
        &s("/"),
        &[0x83],
        &s("rooms"),
        &[0x90],
        &s("flags"),
        &[0x80],
        &s("except"),
        &[0x90],
    ]);
    let Some(ClusterMessage::Broadcast {
        uid,
        target,
        event,
        args,
    }) = ch().decode("socket.io#/#", &bytes).unwrap()
    else {
        panic!("not a broadcast");
    };
    assert_eq!((uid.as_str(), event.as_str()), ("emitter", "news"));
    assert_eq!(target, Broadcast::to("/"));
    assert_eq!(args.binary(&args.values[0]), Some(&[0xff][..]));
}

/// `addSockets`, `delSockets`, `disconnectSockets`, `fetchSockets`,
/// `serverSideEmit`: JSON.stringify of the request objects, in their key
/// order, on `socket.io-request#/#`.
#[test]
fn json_requests() {
    let cases = [
        (
            RequestKind::Selection {
                target: Broadcast::to("/").room("a"),
                op: SelectionOp::Join(vec!["b".into()]),
            },
            None,
            r#"{"uid":"abc123","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}"#,
        ),
        (
            RequestKind::Selection {
                target: Broadcast::to("/").except("a"),
                op: SelectionOp::Leave(vec!["b".into()]),
            },
            None,
            r#"{"uid":"abc123","type":3,"opts":{"rooms":[],"except":["a"]},"rooms":["b"]}"#,
        ),
        (
            RequestKind::Selection {
                target: Broadcast::to("/").room("x"),
                op: SelectionOp::Disconnect { close: true },
            },
            None,
            r#"{"uid":"abc123","type":4,"opts":{"rooms":["x"],"except":[]},"close":true}"#,
        ),
        (
            RequestKind::FetchSockets {
                target: Broadcast::to("/"),
            },
            Some("r1"),
            r#"{"uid":"abc123","requestId":"r1","type":5,"opts":{"rooms":[],"except":[]}}"#,
        ),
        (
            RequestKind::ServerSideEmit {
                event: "hello".into(),
                args: Args::json(vec![json!(1)]),
            },
            Some("r1"),
            r#"{"uid":"abc123","requestId":"r1","type":6,"data":["hello",1]}"#,
        ),
        (
            RequestKind::ServerSideEmit {
                event: "note".into(),
                args: Args::default(),
            },
            None,
            r#"{"uid":"abc123","type":6,"data":["note"]}"#,
        ),
    ];
    for (kind, id, json) in cases {
        let message = ClusterMessage::Request {
            uid: "abc123".into(),
            nsp: "/".into(),
            id: id.map(str::to_owned),
            kind,
        };
        let (channel, bytes) = ch().encode(&message);
        assert_eq!(channel, "socket.io-request#/#");
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), json);
        assert_eq!(ch().decode(&channel, &bytes).unwrap(), Some(message));
    }
}

/// `broadcastWithAck`: MessagePack `{uid, requestId, type: 7, packet,
/// opts: {rooms, except, flags: {timeout}}}`.
#[test]
fn broadcast_with_ack_request() {
    let expected = cat(&[
        &[0x85],
        &s("uid"),
        &s("abc123"),
        &s("requestId"),
        &s("r1"),
        &s("type"),
        &[0x07],
        &s("packet"),
        &[0x83],
        &s("type"),
        &[0x02],
        &s("data"),
        &[0x91],
        &s("ping"),
        &s("nsp"),
        &s("/"),
        &s("opts"),
        &[0x83],
        &s("rooms"),
        &[0x90],
        &s("except"),
        &[0x90],
        &s("flags"),
        &[0x81],
        &s("timeout"),
        &[0xcd, 0x03, 0xe8],
    ]);
    let message = ClusterMessage::Request {
        uid: "abc123".into(),
        nsp: "/".into(),
        id: Some("r1".into()),
        kind: RequestKind::BroadcastWithAck {
            target: Broadcast::to("/"),
            event: "ping".into(),
            args: Args::default(),
            timeout: Some(Duration::from_secs(1)),
        },
    };
    let (channel, bytes) = ch().encode(&message);
    assert_eq!(channel, "socket.io-request#/#");
    assert_eq!(bytes, expected);
    assert_eq!(ch().decode(&channel, &bytes).unwrap(), Some(message));
}

/// `publishResponse` payloads on `socket.io-response#/#`: JSON, and
/// MessagePack `{type: 9, requestId, packet}` for an acknowledgement.
#[test]
fn responses() {
    let socket = RemoteSocket {
        id: "s1".into(),
        handshake: json!({"url": "/socket.io/"}),
        rooms: vec!["s1".into()],
        data: json!(null),
    };
    let cases = [
        (
            ResponseKind::FetchSockets {
                sockets: vec![socket],
            },
            br#"{"requestId":"r1","sockets":[{"id":"s1","handshake":{"url":"/socket.io/"},"rooms":["s1"],"data":null}]}"#.to_vec(),
        ),
        (
            ResponseKind::ServerSideEmit {
                answer: json!("beta"),
            },
            br#"{"type":6,"requestId":"r1","data":"beta"}"#.to_vec(),
        ),
        (
            ResponseKind::BroadcastClientCount { count: 2 },
            br#"{"type":8,"requestId":"r1","clientCount":2}"#.to_vec(),
        ),
        (
            ResponseKind::BroadcastAck {
                answer: Args::json(vec![json!("pong")]),
            },
            cat(&[
                &[0x83],
                &s("type"),
                &[0x09],
                &s("requestId"),
                &s("r1"),
                &s("packet"),
                &s("pong"),
            ]),
        ),
    ];
    for (kind, expected) in cases {
        let message = ClusterMessage::Response {
            nsp: "/".into(),
            id: "r1".into(),
            kind,
        };
        let (channel, bytes) = ch().encode(&message);
        assert_eq!(channel, "socket.io-response#/#");
        assert_eq!(bytes, expected);
        assert_eq!(ch().decode(&channel, &bytes).unwrap(), Some(message));
    }
    // The node-specific response channel decodes the same.
    let bytes = br#"{"type":8,"requestId":"r1","clientCount":0}"#;
    assert!(ch()
        .decode("socket.io-response#/#abc123#", bytes)
        .unwrap()
        .is_some());
}

/// What is not for us: another prefix, `ALL_ROOMS`, a join answer.
/// `@socket.io/redis-emitter` 5.x `socketsJoin`, `socketsLeave` and
/// `disconnectSockets`: the adapter's JSON requests without `uid` (found
/// against a live emitter: they were rejected as "request without uid").
#[test]
fn emitter_requests_without_uid() {
    let cases = [
        (
            r#"{"type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}"#,
            RequestKind::Selection {
                target: Broadcast::to("/").room("a"),
                op: SelectionOp::Join(vec!["b".into()]),
            },
        ),
        (
            r#"{"type":3,"opts":{"rooms":["a"],"except":["c"]},"rooms":["b"]}"#,
            RequestKind::Selection {
                target: Broadcast::to("/").room("a").except("c"),
                op: SelectionOp::Leave(vec!["b".into()]),
            },
        ),
        (
            r#"{"type":4,"opts":{"rooms":["x"],"except":[]},"close":false}"#,
            RequestKind::Selection {
                target: Broadcast::to("/").room("x"),
                op: SelectionOp::Disconnect { close: false },
            },
        ),
    ];
    for (json, kind) in cases {
        let decoded = ch()
            .decode("socket.io-request#/#", json.as_bytes())
            .unwrap();
        assert_eq!(
            decoded,
            Some(ClusterMessage::Request {
                uid: String::new(),
                nsp: "/".into(),
                id: None,
                kind,
            }),
            "{json}"
        );
    }
    // A uid that is not a string is still malformed.
    assert!(ch()
        .decode(
            "socket.io-request#/#",
            br#"{"uid":1,"type":2,"opts":{},"rooms":[]}"#
        )
        .is_err());
}

#[test]
fn ignored_and_malformed() {
    assert_eq!(ch().decode("other#/#", &[0x90]).unwrap(), None);
    let all_rooms = br#"{"uid":"x","requestId":"r","type":1}"#;
    assert_eq!(
        ch().decode("socket.io-request#/#", all_rooms).unwrap(),
        None
    );
    assert_eq!(
        ch().decode("socket.io-response#/#", br#"{"requestId":"r"}"#)
            .unwrap(),
        None
    );
    assert!(ch().decode("socket.io#/#", &[0x93, 0xc1]).is_err());
    assert!(ch().decode("socket.io#/#", &[]).is_err());
    assert!(ch().decode("socket.io-request#/#", b"{nope").is_err());
    assert_eq!(
        ch().specific_response("/", "u1"),
        "socket.io-response#/#u1#"
    );
    assert_eq!(Channels::new("app").request("/chat"), "app-request#/chat#");
}
