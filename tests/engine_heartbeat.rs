//! Engine.IO over WebSocket on a virtual clock: the open packet, heartbeats
//! of both versions, wrong-direction heartbeats and close packets
//! (engine.io-protocol v4, *Protocol › Handshake* and *Heartbeat*; v3,
//! *Timeouts*; suite vectors E2, E5, E11 of `tests/VECTORS.md`).

mod common;

use std::time::Duration;

use common::{is_sid, Harness, Out};
use socketio_sansio::{DisconnectReason, Event};

const MS: Duration = Duration::from_millis(1);

#[test]
fn e2_open_packet_over_websocket_has_the_reference_keys_in_order() {
    let mut h = Harness::conformance();
    let id = h.open(4);
    let out = h.take(id);
    let open = out[0].text();
    let json: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    let sid = json["sid"].as_str().unwrap();
    assert!(is_sid(sid), "{sid}");
    assert_eq!(
        open,
        format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#
        )
    );
    assert_eq!(out.len(), 1, "rev 5: nothing before the client's CONNECT");
}

#[test]
fn v3_open_packet_has_max_payload_and_is_followed_by_the_default_namespace() {
    let mut h = Harness::conformance();
    let id = h.open(3);
    let out = h.take_texts(id);
    assert!(
        out[0].starts_with(r#"0{"sid":""#)
            && out[0].ends_with(
                r#","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
            ),
        "{}",
        out[0]
    );
    assert_eq!(
        &out[1..],
        ["40", r#"42["auth",{}]"#],
        "V1: 40 unprompted, then the app's auth event"
    );
}

#[test]
fn e5_v4_server_pings_every_interval_and_pongs_keep_the_session() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    for round in 0..3 {
        h.advance(299 * MS);
        assert!(
            h.take(id).is_empty(),
            "round {round}: no ping before the interval"
        );
        h.advance(MS);
        assert_eq!(
            h.take_texts(id),
            ["2"],
            "round {round}: ping at the interval"
        );
        h.advance(150 * MS);
        h.send(id, "3");
        // The next ping is due pingInterval after the pong.
        assert!(!h.closed(id));
    }
    h.advance(299 * MS);
    assert!(h.take(id).is_empty());
}

#[test]
fn v4_missing_pong_closes_with_ping_timeout_after_ping_timeout() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.advance(300 * MS);
    assert_eq!(h.take(id), [Out::Text("2".into())]);
    h.advance(199 * MS);
    assert!(!h.closed(id));
    h.advance(MS);
    assert_eq!(h.close_reason(id), Some(DisconnectReason::PingTimeout));
    assert_eq!(h.take(id), [Out::Close]);
    // The socket of `/` saw exactly one Disconnected, before Closed.
    let events = h.events_of(id);
    let disconnects: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Disconnected { .. }))
        .collect();
    assert_eq!(disconnects.len(), 1);
    assert!(matches!(events.last(), Some(Event::Closed { .. })));
    assert_eq!(h.elapsed(), 500 * MS);
}

#[test]
fn v4_ping_from_client_is_a_wrong_direction_heartbeat_and_closes() {
    for probe in ["2", "2probe"] {
        let mut h = Harness::conformance();
        let (id, _) = h.open_and_handshake(4);
        h.send(id, probe);
        assert!(
            matches!(
                h.close_reason(id),
                Some(DisconnectReason::TransportError(_))
            ),
            "{probe}"
        );
        assert_eq!(h.take(id), [Out::Close]);
    }
}

#[test]
fn v4_unsolicited_pong_noop_and_upgrade_packets_are_ignored() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    for text in ["3", "6", "5"] {
        h.send(id, text);
    }
    assert!(!h.closed(id));
    assert!(h.take(id).is_empty());
    // The regular ping schedule is unaffected.
    h.advance(300 * MS);
    assert_eq!(h.take_texts(id), ["2"]);
}

#[test]
fn e11_v3_client_ping_is_answered_with_a_pong_and_keeps_the_session_alive() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    for _ in 0..8 {
        h.advance(250 * MS);
        h.send(id, "2");
        assert_eq!(h.take_texts(id), ["3"]);
    }
    assert!(
        !h.closed(id),
        "pings every 250 ms keep a 300+200 ms session open for 2 s"
    );
    // `2probe` outside an upgrade gets a bare pong, like the reference.
    h.send(id, "2probe");
    assert_eq!(h.take_texts(id), ["3"]);
}

#[test]
fn v3_without_pings_closes_after_interval_plus_timeout_even_with_messages() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.take(id);
    // Messages do not restart the liveness timer (reference 6.x).
    h.advance(150 * MS);
    h.send(id, r#"42["noop"]"#);
    h.advance(150 * MS);
    h.send(id, r#"42["noop"]"#);
    h.advance(199 * MS);
    assert!(!h.closed(id));
    h.advance(MS);
    assert_eq!(h.close_reason(id), Some(DisconnectReason::PingTimeout));
    assert_eq!(h.elapsed(), 500 * MS);
}

#[test]
fn v3_pong_from_client_closes_like_the_reference_6x() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(3);
    h.send(id, "3");
    assert!(matches!(
        h.close_reason(id),
        Some(DisconnectReason::TransportError(_))
    ));
}

#[test]
fn close_packet_over_websocket_closes_the_session() {
    for eio in [3, 4] {
        let mut h = Harness::conformance();
        let (id, _) = h.open_and_handshake(eio);
        h.take(id);
        h.send(id, "1");
        assert_eq!(
            h.close_reason(id),
            Some(DisconnectReason::TransportClose),
            "EIO={eio}"
        );
        assert_eq!(h.take(id), [Out::Close]);
    }
}

#[test]
fn handle_timeout_is_idempotent_and_poll_timeout_moves_past_now() {
    let mut h = Harness::conformance();
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.advance(300 * MS);
    assert_eq!(h.take_texts(id), ["2"]);
    // Calling again at the same instant does nothing more.
    h.server.handle_timeout(h.now);
    h.server.handle_timeout(h.now);
    h.drain();
    assert!(h.take(id).is_empty());
    assert!(h.server.poll_timeout().is_some_and(|t| t > h.now));
}

#[test]
fn same_seed_and_inputs_give_identical_output() {
    let run = || {
        let mut h = Harness::conformance();
        let a = h.open(4);
        let b = h.open(3);
        h.send(a, "40");
        h.send(a, r#"42["message","x"]"#);
        h.advance(400 * MS);
        h.send(b, "2");
        (h.take(a), h.take(b))
    };
    assert_eq!(run(), run());
}
