//! Rooms and broadcasts on the `Server`: exact recipients, `except`, cleanup
//! on disconnect, one encoding per broadcast whatever the recipients'
//! versions, and the deadline heap at 10 000 connections.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Harness, Out};
use serde_json::json;
use socketio_sansio::{Args, Broadcast, ConnId, Event, Handshake};

fn join(h: &mut Harness, eio: u8) -> ConnId {
    let (id, _) = h.open_and_handshake(eio);
    if eio == 4 {
        h.send(id, "40");
    }
    h.take(id);
    id
}

fn receivers(h: &mut Harness, ids: &[ConnId], expected_text: &str) -> BTreeSet<ConnId> {
    ids.iter()
        .copied()
        .filter(|id| {
            let out = h.take(*id);
            match out.as_slice() {
                [] => false,
                [Out::Text(t)] => {
                    assert_eq!(t, expected_text);
                    true
                }
                other => panic!("unexpected frames {other:?}"),
            }
        })
        .collect()
}

#[test]
fn rooms_and_except_select_exactly_the_right_sockets() {
    let mut h = Harness::conformance();
    let ids: Vec<ConnId> = (0..6)
        .map(|i| join(&mut h, if i % 2 == 0 { 4 } else { 3 }))
        .collect();
    for &i in &ids[0..3] {
        h.server.join(i, "/", "red").unwrap();
    }
    for &i in &ids[2..5] {
        h.server.join(i, "/", "blue").unwrap();
    }
    let args = Args::json(vec![json!("hi")]);
    let text = r#"42["news","hi"]"#;

    let n = h
        .server
        .broadcast(h.now, &Broadcast::to("/").room("red"), "news", &args)
        .unwrap();
    h.drain();
    assert_eq!(n, 3);
    assert_eq!(
        receivers(&mut h, &ids, text),
        ids[0..3].iter().copied().collect()
    );

    h.server
        .broadcast(
            h.now,
            &Broadcast::to("/").room("red").room("blue").except("blue"),
            "news",
            &args,
        )
        .unwrap();
    h.drain();
    assert_eq!(
        receivers(&mut h, &ids, text),
        ids[0..2].iter().copied().collect()
    );

    h.server
        .broadcast(h.now, &Broadcast::to("/").except("red"), "news", &args)
        .unwrap();
    h.drain();
    assert_eq!(
        receivers(&mut h, &ids, text),
        ids[3..6].iter().copied().collect()
    );

    // A socket id is a room of one.
    let sid = h
        .server
        .connection(ids[5])
        .unwrap()
        .socket_id("/")
        .unwrap()
        .to_owned();
    h.server
        .broadcast(h.now, &Broadcast::to("/").room(sid), "news", &args)
        .unwrap();
    h.drain();
    assert_eq!(
        receivers(&mut h, &ids, text),
        [ids[5]].into_iter().collect()
    );

    h.server.leave(ids[0], "/", "red").unwrap();
    assert_eq!(h.server.room_members("/", "red"), ids[1..3].to_vec());
    assert!(h.server.rooms_of(ids[2], "/").contains(&"blue".to_owned()));
}

#[test]
fn broadcast_to_other_namespace_only_reaches_its_sockets() {
    let mut h = Harness::conformance();
    let a = join(&mut h, 4);
    let b = join(&mut h, 4);
    h.send(b, "40/custom,");
    h.take(b);
    h.server
        .broadcast(h.now, &Broadcast::to("/custom"), "x", &Args::default())
        .unwrap();
    h.drain();
    assert!(h.take(a).is_empty());
    assert_eq!(h.take_texts(b), [r#"42/custom,["x"]"#]);
}

#[test]
fn disconnect_cleans_rooms_and_fires_one_disconnect_per_socket() {
    let mut h = Harness::conformance();
    let a = join(&mut h, 4);
    let b = join(&mut h, 4);
    h.send(a, "40/custom,");
    h.take(a);
    h.server.join(a, "/", "room").unwrap();
    h.server.join(a, "/custom", "room").unwrap();
    h.server.join(b, "/", "room").unwrap();
    h.server.handle_ws_closed(h.now, a);
    h.drain();
    assert_eq!(h.server.room_members("/", "room"), [b]);
    assert!(h.server.room_members("/custom", "room").is_empty());
    let disconnects: Vec<String> = h
        .events_of(a)
        .into_iter()
        .filter_map(|e| match e {
            Event::Disconnected { nsp, .. } => Some(nsp),
            _ => None,
        })
        .collect();
    assert_eq!(disconnects, ["/", "/custom"]);
    assert_eq!(
        h.events_of(a)
            .iter()
            .filter(|e| matches!(e, Event::Closed { .. }))
            .count(),
        1
    );
    // The namespace-wide broadcast no longer counts it.
    assert_eq!(
        h.server
            .broadcast(h.now, &Broadcast::to("/"), "x", &Args::default())
            .unwrap(),
        1
    );
}

#[test]
fn broadcast_to_1000_sockets_of_both_versions_serializes_once() {
    let mut h = Harness::conformance();
    let ids: Vec<ConnId> = (0..1000)
        .map(|i| join(&mut h, if i % 3 == 0 { 3 } else { 4 }))
        .collect();
    let mut args = Args::json(vec![json!({"big": "x".repeat(100)})]);
    let ph = args.attach(vec![1, 2, 3]);
    args.values.push(ph);
    let before = h.server.stats();
    let n = h
        .server
        .broadcast(h.now, &Broadcast::to("/"), "news", &args)
        .unwrap();
    assert_eq!(n, 1000);
    let after = h.server.stats();
    assert_eq!(
        after.broadcasts_encoded - before.broadcasts_encoded,
        1,
        "one JSON serialization for 1000 recipients"
    );
    // Every recipient shares the same text allocation.
    let mut texts = Vec::new();
    while let Some((_, t)) = h.server.poll_transmit() {
        if let socketio_sansio::Transmit::Frame(socketio_sansio::Frame::Text(
            socketio_sansio::Text::Shared(s),
        )) = t
        {
            texts.push(s);
        }
    }
    assert_eq!(texts.len(), 1000);
    assert!(texts.iter().all(|t| std::sync::Arc::ptr_eq(t, &texts[0])));
    drop(ids);
}

#[test]
fn poll_timeout_is_the_earliest_deadline_among_10k_connections() {
    let mut h = Harness::conformance();
    h.echo_app = false;
    for _ in 0..10_000 {
        let id = h
            .server
            .handle_ws_open(h.now, Handshake::new("/?EIO=4&transport=websocket", vec![]))
            .unwrap();
        let _ = id;
    }
    while h.server.poll_transmit().is_some() {}
    while h.server.poll_event().is_some() {}
    assert_eq!(h.server.connection_count(), 10_000);
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_millis(300))
    );
    h.now += Duration::from_millis(300);
    h.server.handle_timeout(h.now);
    let mut pings = 0;
    while let Some((_, t)) = h.server.poll_transmit() {
        assert_eq!(
            t,
            socketio_sansio::Transmit::Frame(socketio_sansio::Frame::text("2".into()))
        );
        pings += 1;
    }
    assert_eq!(pings, 10_000);
    assert_eq!(
        h.server.poll_timeout(),
        Some(h.now + Duration::from_millis(200)),
        "pong deadlines next"
    );
}
