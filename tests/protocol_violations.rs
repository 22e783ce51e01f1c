//! Every protocol violation that reaches the state machine — those the
//! socket.io 4.x server closes the connection for (a packet for a namespace
//! not joined, a second CONNECT, a CONNECT_ERROR from the client, parser
//! errors) and the malformed input our strict decoding refuses
//! (`src/wire/mod.rs`): the offending connection closes with a typed reason
//! and every other connection keeps working.

mod common;

use common::{Harness, Out};
use socketio_sansio::{ConnId, DisconnectReason, ProtocolError};

/// Opens `n` healthy bystanders on `/` (alternating versions).
fn bystanders(h: &mut Harness, n: usize) -> Vec<ConnId> {
    (0..n)
        .map(|i| {
            let eio = if i % 2 == 0 { 4 } else { 3 };
            let (id, _) = h.open_and_handshake(eio);
            if eio == 4 {
                h.send(id, "40");
            }
            h.take(id);
            id
        })
        .collect()
}

fn assert_bystanders_work(h: &mut Harness, ids: &[ConnId]) {
    for &id in ids {
        h.send(id, r#"42["message","still here"]"#);
        assert_eq!(
            h.take_texts(id),
            [r#"42["message-back","still here"]"#],
            "{id}"
        );
    }
}

/// Sends `frames` on a fresh EIO=4 connection that joined `/` and asserts it closed.
fn assert_closes(frames: &[&str], expect: impl Fn(&DisconnectReason) -> bool) {
    let mut h = Harness::conformance();
    let others = bystanders(&mut h, 4);
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    for f in frames {
        h.send(id, f);
    }
    let reason = h
        .close_reason(id)
        .unwrap_or_else(|| panic!("{frames:?} must close the connection"));
    assert!(expect(&reason), "{frames:?}: unexpected reason {reason:?}");
    assert_eq!(h.take(id).last(), Some(&Out::Close), "{frames:?}");
    assert_bystanders_work(&mut h, &others);
}

fn is_socket_error(r: &DisconnectReason) -> bool {
    matches!(r, DisconnectReason::Protocol(ProtocolError::Socket(_)))
}

#[test]
fn malformed_socketio_packets_close_only_their_connection() {
    let cases: &[&str] = &[
        "4",
        "4x",
        "47",
        "49",
        "4abc",
        "42{}",
        r#"42"foo""#,
        "42[]",
        "421",
        "42",
        r#"42abc["message-with-ack"]"#,
        r#"42 ["x"]"#,
        r#"4212.5["x"]"#,
        r#"42-1["x"]"#,
        "40,",
        r#"40/admin,[]"#,
        r#"40/admin,"x""#,
        "40/admin,null",
        r#"41/admin,{}"#,
        r#"40/admin{"a":1,"b":2}"#,
        r#"42["disconnect"]"#,
        r#"42["connect"]"#,
        r#"42[{"toString":"foo"}]"#,
        r#"42[true,"foo"]"#,
        r#"42[null,"bar"]"#,
        r#"450-["x",{"_placeholder":true,"num":0}]"#,
        r#"45-["x"]"#,
        r#"451e0-["x",{"_placeholder":true,"num":0}]"#,
        r#"4599999999999-["x"]"#,
        r#"4511-["x"]"#,
    ];
    for case in cases {
        assert_closes(&[case], is_socket_error);
    }
    let deep = format!(r#"42["x",{}1{}]"#, "[".repeat(10_000), "]".repeat(10_000));
    assert_closes(&[&deep], is_socket_error);
    let overflow = format!(r#"42{}["x"]"#, "9".repeat(400));
    assert_closes(&[&overflow], is_socket_error);
}

#[test]
fn bad_placeholders_and_attachment_sequencing_close() {
    let mut h = Harness::conformance();
    let others = bystanders(&mut h, 2);
    let cases: Vec<(&str, usize)> = vec![
        (r#"451-["hello",{"_placeholder":true,"num":"splice"}]"#, 1),
        (r#"451-["hello",{"_placeholder":true,"num":1}]"#, 1),
        (
            r#"452-["x",{"_placeholder":true,"num":0.5},{"_placeholder":true,"num":1}]"#,
            2,
        ),
        (r#"451-["x",{"_placeholder":true,"num":-1}]"#, 1),
        (r#"451-["x",{"_placeholder":true,"num":"0"}]"#, 1),
        (r#"451-["x",{"_placeholder":true,"num":null}]"#, 1),
        (r#"451-["x",{"_placeholder":true}]"#, 1),
    ];
    for (text, attachments) in cases {
        let (id, _) = h.open_and_handshake(4);
        h.send(id, "40");
        h.send(id, text);
        for _ in 0..attachments {
            h.send_bin(id, &[1, 2]);
        }
        assert!(
            matches!(
                h.close_reason(id),
                Some(DisconnectReason::Protocol(ProtocolError::Socket(_)))
            ),
            "{text}: {:?}",
            h.close_reason(id)
        );
    }
    // A text frame while awaiting attachments, and a binary frame out of the blue.
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.send(id, r#"451-["x",{"_placeholder":true,"num":0}]"#);
    h.send(id, r#"42["x"]"#);
    assert!(h.closed(id));
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.send_bin(id, &[1]);
    assert!(h.closed(id));
    assert_bystanders_work(&mut h, &others);
}

#[test]
fn placeholder_edge_cases_the_reference_accepts_are_accepted() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    // Placeholders in a plain EVENT are ordinary objects.
    h.send(id, r#"42["message",{"_placeholder":true,"num":0}]"#);
    assert_eq!(
        h.take_texts(id),
        [r#"42["message-back",{"_placeholder":true,"num":0}]"#]
    );
    // Keys in any order, and a duplicate num.
    h.send(
        id,
        r#"452-["message",{"num":0,"_placeholder":true},{"_placeholder":true,"num":0}]"#,
    );
    h.send_bin(id, &[7]);
    h.send_bin(id, &[8]);
    assert!(!h.closed(id));
    let out = h.take(id);
    assert_eq!(out.len(), 3, "{out:?}");
}

#[test]
fn namespace_state_violations_close() {
    // Packet for a namespace never joined; after leaving; CONNECT twice; client CONNECT_ERROR.
    let not_joined = |r: &DisconnectReason| {
        matches!(
            r,
            DisconnectReason::Protocol(ProtocolError::NamespaceNotJoined(_))
        )
    };
    assert_closes(&[r#"42/other,["x"]"#], not_joined);
    assert_closes(&["41", r#"42["message","x"]"#], not_joined);
    assert_closes(
        &["40/custom,", "41/custom,", r#"42/custom,["x"]"#],
        not_joined,
    );
    assert_closes(&["40"], |r| {
        matches!(
            r,
            DisconnectReason::Protocol(ProtocolError::DuplicateConnect(_))
        )
    });
    assert_closes(&[r#"44{"message":"x"}"#], |r| {
        matches!(
            r,
            DisconnectReason::Protocol(ProtocolError::UnexpectedConnectError)
        )
    });
}

#[test]
fn namespace_swallowing_json_is_an_invalid_namespace_not_a_close() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, r#"40/admin{"token":1}"#);
    assert_eq!(
        h.take_texts(id),
        [r#"44/admin{"token":1},{"message":"Invalid namespace"}"#]
    );
    assert!(!h.closed(id));
    h.send(id, "40/,");
    assert_eq!(h.take_texts(id).len(), 2, "`40/,` is the namespace `/`");
}

#[test]
fn malformed_engine_packets_close() {
    for (eio, frame) in [
        (4, "7"),
        (4, "x"),
        (4, "b!!!"),
        (3, "b4!!!"),
        (4, ""),
        (3, "9"),
    ] {
        let mut h = Harness::conformance();
        let others = bystanders(&mut h, 2);
        let (id, _) = h.open_and_handshake(eio);
        h.send(id, frame);
        assert!(
            matches!(
                h.close_reason(id),
                Some(DisconnectReason::Protocol(ProtocolError::Engine(_)))
            ),
            "EIO={eio} {frame:?}: {:?}",
            h.close_reason(id)
        );
        assert_bystanders_work(&mut h, &others);
    }
}

#[test]
fn unusual_but_valid_event_names_are_delivered() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    for name in [
        r#"42["__proto__",1]"#,
        r#"42["constructor"]"#,
        r#"42["hasOwnProperty"]"#,
        r#"42[1,"x"]"#,
    ] {
        h.send(id, name);
    }
    assert!(!h.closed(id));
    let names: Vec<String> = h
        .events_of(id)
        .into_iter()
        .filter_map(|e| match e {
            socketio_sansio::Event::Message { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["__proto__", "constructor", "hasOwnProperty", "1"]);
}
