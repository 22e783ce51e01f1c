//! Socket.IO rev 4 over Engine.IO v3 WebSocket (Socket.IO 1.x/2.x clients):
//! vectors V1–V5 (`tests/VECTORS.md`) and the rev 4 connect rules
//! (socket.io-protocol v4: `/` is joined without a CONNECT, a namespace
//! query becomes `auth`).

mod common;

use common::{Harness, Out};
use serde_json::json;
use socketio_sansio::{Args, Event, UsageError};

#[test]
fn v1_default_namespace_is_joined_without_connect_and_socket_id_is_the_sid() {
    let mut h = Harness::conformance();
    let (id, open) = h.open_and_handshake(3);
    assert_eq!(h.take_texts(id), ["40", r#"42["auth",{}]"#]);
    h.send(id, r#"42["message","hi"]"#);
    assert_eq!(h.take_texts(id), [r#"42["message-back","hi"]"#]);
    let conn = h.server.connection(id).unwrap();
    assert_eq!(conn.socket_id("/"), open["sid"].as_str());
}

#[test]
fn v2_custom_namespace_reply_has_no_payload_and_query_becomes_auth() {
    let mut h = Harness::conformance();
    let (id, open) = h.open_and_handshake(3);
    h.take(id);
    h.send(id, "40/custom,");
    assert_eq!(h.take_texts(id), ["40/custom,", r#"42/custom,["auth",{}]"#]);
    let sid = open["sid"].as_str().unwrap();
    assert_eq!(
        h.server.connection(id).unwrap().socket_id("/custom"),
        Some(format!("/custom#{sid}").as_str())
    );

    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    h.send(id, "40/custom?token=abc&x=a%20b,");
    assert_eq!(
        h.take_texts(id),
        [
            "40/custom,",
            r#"42/custom,["auth",{"token":"abc","x":"a b"}]"#
        ]
    );
}

#[test]
fn v3_unknown_namespace_gets_the_object_form_like_the_4x_server() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    h.send(id, "40/random");
    assert_eq!(
        h.take_texts(id),
        [r#"44/random,{"message":"Invalid namespace"}"#]
    );
    assert!(!h.closed(id));
}

#[test]
fn v4_binary_frames_carry_the_engine_type_byte() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    h.send(
        id,
        r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    );
    h.send_bin(id, &[4, 1, 2, 3]);
    h.send_bin(id, &[4, 4, 5, 6]);
    assert_eq!(
        h.take(id),
        [
            Out::Text(r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into()),
            Out::Bin(vec![4, 1, 2, 3]),
            Out::Bin(vec![4, 4, 5, 6]),
        ]
    );
    h.send(id, r#"452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    h.send_bin(id, &[4, 1, 2, 3]);
    h.send_bin(id, &[4, 4, 5, 6]);
    assert_eq!(
        h.take(id)[0],
        Out::Text(r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into())
    );
}

#[test]
fn v3_binary_frame_with_an_unknown_type_byte_or_empty_closes() {
    for frame in [&[7u8, 1, 2][..], &[][..]] {
        let mut h = Harness::conformance();
        let (id, _) = h.open_and_handshake(3);
        h.send_bin(id, frame);
        assert!(h.closed(id), "{frame:?}");
    }
}

#[test]
fn rev4_rejection_is_a_json_string_and_middleware_data_wins() {
    let mut h = Harness::conformance();
    h.echo_app = false;
    let (id, _) = h.open_and_handshake(3);
    let now = h.now;
    h.server
        .reject(now, id, "/", "Not authorized", None)
        .unwrap();
    h.drain();
    h.take(id);
    let (id2, _) = h.open_and_handshake(3);
    h.server.accept(now, id2, "/", None).unwrap();
    h.drain();
    assert_eq!(h.take_texts(id2), ["40"]);
    h.send(id2, "40/custom,");
    h.server
        .reject(
            now,
            id2,
            "/custom",
            "ignored",
            Some(json!({"reason": "banned"})),
        )
        .unwrap();
    h.drain();
    assert_eq!(h.take_texts(id2), [r#"44/custom,{"reason":"banned"}"#]);
    assert_eq!(
        h.server.reject(now, id2, "/custom", "again", None),
        Err(UsageError::NoPendingConnect("/custom".into()))
    );
    // The first connection's `/` was refused with the string form.
    let mut h = Harness::conformance();
    h.echo_app = false;
    let (id, _) = h.open_and_handshake(3);
    h.server
        .reject(h.now, id, "/", "Not authorized", None)
        .unwrap();
    h.drain();
    assert_eq!(h.take_texts(id), [r#"44"Not authorized""#]);
}

#[test]
fn repeated_connect_closes_like_the_4x_server() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    h.send(id, "40");
    assert!(h.closed(id));
    assert_eq!(
        h.events_of(id)
            .iter()
            .filter(|e| matches!(e, Event::Disconnected { .. }))
            .count(),
        1
    );
}

#[test]
fn server_emit_reaches_a_v3_client_with_type_byte_attachments() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    let mut args = Args::default();
    let ph = args.attach(vec![1, 2]);
    args.values.push(ph);
    h.server.emit(h.now, id, "/", "bin", args).unwrap();
    h.drain();
    assert_eq!(
        h.take(id),
        [
            Out::Text(r#"451-["bin",{"_placeholder":true,"num":0}]"#.into()),
            Out::Bin(vec![4, 1, 2])
        ]
    );
}
