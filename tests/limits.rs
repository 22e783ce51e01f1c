//! Every limit is explicit, configurable and enforced: message size,
//! attachment count, pending acks, outbound queue bytes (with volatile
//! emits dropped instead), namespaces per connection.

mod common;

use std::time::Duration;

use common::{Harness, Out};
use serde_json::json;
use socketio_sansio::{Args, Broadcast, Config, DisconnectReason, UsageError};

fn config() -> socketio_sansio::ConfigBuilder {
    Config::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .namespace("/a")
        .namespace("/b")
}

#[test]
fn messages_over_max_payload_close_with_a_transport_error() {
    let mut h = Harness::new(config().max_payload(100).build().unwrap());
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    let exactly = format!(r#"42["message","{}"]"#, "x".repeat(100 - 16));
    assert_eq!(exactly.len(), 100);
    h.send(id, &exactly);
    assert!(!h.closed(id), "exactly max_payload passes");
    h.send(id, &format!(r#"42["message","{}"]"#, "x".repeat(85)));
    assert!(matches!(
        h.close_reason(id),
        Some(DisconnectReason::TransportError(_))
    ));

    let (id, _) = h.open_and_handshake(4);
    h.send_bin(id, &[0u8; 101]);
    assert!(matches!(
        h.close_reason(id),
        Some(DisconnectReason::TransportError(_))
    ));
}

#[test]
fn attachment_count_limit_is_configurable() {
    let mut h = Harness::new(config().max_attachments(2).build().unwrap());
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.send(id, r#"453-["message",{"_placeholder":true,"num":0}]"#);
    assert!(matches!(
        h.close_reason(id),
        Some(DisconnectReason::Protocol(_))
    ));
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.send(
        id,
        r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    );
    h.send_bin(id, &[1]);
    h.send_bin(id, &[2]);
    assert!(!h.closed(id));
    assert_eq!(h.take(id).len(), 3);
}

#[test]
fn pending_acks_per_socket_are_bounded() {
    let mut h = Harness::new(config().max_pending_acks(2).build().unwrap());
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    let now = h.now;
    let a = h
        .server
        .emit_with_ack(now, id, "/", "q", Args::default(), None)
        .unwrap();
    h.server
        .emit_with_ack(now, id, "/", "q", Args::default(), None)
        .unwrap();
    assert_eq!(
        h.server
            .emit_with_ack(now, id, "/", "q", Args::default(), None),
        Err(UsageError::TooManyPendingAcks)
    );
    h.drain();
    h.send(id, &format!("43{a}[]"));
    assert!(
        h.server
            .emit_with_ack(h.now, id, "/", "q", Args::default(), None)
            .is_ok(),
        "an answer frees a slot"
    );
}

#[test]
fn slow_consumer_is_closed_and_volatile_emits_are_dropped_instead() {
    let mut h = Harness::new(config().max_outbound_bytes(1000).build().unwrap());
    h.echo_app = false;
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.server.accept(h.now, id, "/", None).unwrap();
    // Drain the CONNECT reply so the queue is empty.
    h.drain();
    h.take(id);
    let now = h.now;
    let args = Args::json(vec![json!("x".repeat(200))]);
    // Nobody takes frames now (no drain): the first volatile emit is queued,
    // the next ones are dropped because the transport is busy.
    assert_eq!(h.server.connection(id).unwrap().outbound_bytes(), 0);
    let sent: Vec<bool> = (0..3)
        .map(|_| {
            h.server
                .broadcast(now, &Broadcast::to("/").volatile(), "tick", &args)
                .unwrap()
                == 1
        })
        .collect();
    assert_eq!(sent, [true, false, false]);
    // Regular emits queue until the limit, then the connection closes.
    let mut emitted = 0;
    while h.server.emit(now, id, "/", "data", args.clone()).is_ok() {
        emitted += 1;
        assert!(emitted < 10, "the limit must be hit");
    }
    assert_eq!(
        emitted, 4,
        "1000 bytes hold 4 frames of ~215 bytes beside the volatile one"
    );
    h.drain();
    assert_eq!(
        h.close_reason(id),
        Some(DisconnectReason::OutboundQueueFull)
    );
    assert_eq!(
        h.take(id),
        [Out::Close],
        "queued frames are discarded, the transport is closed"
    );
}

#[test]
fn namespaces_per_connection_are_bounded() {
    let mut h = Harness::new(config().max_namespaces(2).build().unwrap());
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.send(id, "40/a,");
    h.take(id);
    h.send(id, "40/b,");
    assert_eq!(
        h.take_texts(id),
        [r#"44/b,{"message":"Too many namespaces"}"#]
    );
    assert!(!h.closed(id));
}

#[test]
fn invalid_configuration_is_refused_with_a_helpful_message() {
    let err = Config::builder().namespace("admin").build().unwrap_err();
    assert!(err.to_string().contains("must start with '/'"), "{err}");
    assert!(Config::builder().max_payload(0).build().is_err());
    assert!(Config::builder()
        .ping_interval(Duration::ZERO)
        .build()
        .is_err());
}

/// A driver that stops taking frames for a connection whose socket does not
/// drain ([`socketio_sansio::Server::handle_write_blocked`]) leaves them in
/// the core: the limit closes that connection with `OutboundQueueFull`
/// while every other connection receives every broadcast, in order; for
/// v4, v3 and 0.9 sessions alike.
#[test]
fn a_blocked_transport_keeps_frames_in_the_core_until_the_limit_closes_it() {
    let mut h = Harness::new(config().max_outbound_bytes(10_000).build().unwrap());
    let (slow_v4, _) = h.open_and_handshake(4);
    h.send(slow_v4, "40");
    let (slow_v3, _) = h.open_and_handshake(3);
    let body = h.get_now("/socket.io/1/?t=1").body_text();
    let legacy_sid = body.split(':').next().unwrap().to_owned();
    let slow_09 = h
        .server
        .handle_ws_open(
            h.now,
            socketio_sansio::Handshake::new(format!("/socket.io/1/websocket/{legacy_sid}"), vec![]),
        )
        .unwrap();
    let (fast, _) = h.open_and_handshake(4);
    h.send(fast, "40");
    h.drain();
    for id in [slow_v4, slow_v3, slow_09, fast] {
        h.take(id);
        assert!(!h.closed(id));
    }
    // The driver's buffers for the slow ones are full.
    for id in [slow_v4, slow_v3, slow_09] {
        h.server.handle_write_blocked(id);
    }
    let now = h.now;
    let payload = json!("y".repeat(1000));
    for i in 0..40 {
        let args = Args::json(vec![json!(i), payload.clone()]);
        h.server
            .broadcast(now, &Broadcast::to("/"), "flood", &args)
            .unwrap();
        // A volatile packet never queues behind a blocked transport.
        h.server
            .broadcast(
                now,
                &Broadcast::to("/").volatile(),
                "tick",
                &Args::default(),
            )
            .unwrap();
        h.drain();
    }
    for id in [slow_v4, slow_v3, slow_09] {
        assert_eq!(
            h.close_reason(id),
            Some(DisconnectReason::OutboundQueueFull),
            "{id}"
        );
        assert_eq!(h.take(id), [Out::Close], "only the close reaches {id}");
    }
    let floods: Vec<i64> = h
        .take_texts(fast)
        .iter()
        .filter(|t| t.starts_with("42[\"flood\""))
        .map(|t| {
            serde_json::from_str::<serde_json::Value>(&t[2..]).unwrap()[1]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(floods, (0..40).collect::<Vec<_>>());
}

#[test]
fn a_write_ready_transport_gets_what_was_held_in_order() {
    let mut h = Harness::new(config().build().unwrap());
    let (id, _) = h.open_and_handshake(4);
    h.send(id, "40");
    h.take(id);
    h.server.handle_write_blocked(id);
    let now = h.now;
    for i in 0..3 {
        h.server
            .emit(now, id, "/", "n", Args::json(vec![json!(i)]))
            .unwrap();
    }
    h.server
        .broadcast(now, &Broadcast::to("/").volatile(), "v", &Args::default())
        .unwrap();
    h.drain();
    assert!(h.take(id).is_empty(), "held while blocked");
    h.server.handle_write_ready(id);
    h.drain();
    assert_eq!(
        h.take_texts(id),
        [r#"42["n",0]"#, r#"42["n",1]"#, r#"42["n",2]"#],
        "in order, the volatile one dropped"
    );
}

/// Found by the `server_session` fuzz target: answers to client packets
/// (Engine.IO v3 pongs, 0.9 connect echoes and refusals) and heartbeats
/// were queued without the outbound limit, so a client that kept sending
/// them without reading grew the queue without bound. They count now, and
/// past the limit the connection closes.
#[test]
fn control_answers_count_toward_the_outbound_limit() {
    use socketio_sansio::{
        AnyConnection, Event, Handshake, HttpRequest, Method, SeededRandom, Server,
    };
    let limit = 64;
    let config = config().max_outbound_bytes(limit).build().unwrap();
    let mut server = Server::with_random(config, Box::new(SeededRandom::new(3)));
    let now = std::time::Instant::now();
    let queued = |server: &Server, id| match server.any_connection(id) {
        Some(AnyConnection::Modern(c)) => c.outbound_bytes(),
        Some(AnyConnection::Legacy(c)) => c.outbound_bytes(),
        None => 0,
    };
    let closed_by = |server: &mut Server, id| {
        let mut reason = None;
        while let Some(ev) = server.poll_event() {
            if ev.conn == id {
                if let Event::Closed { reason: r } = ev.event {
                    reason = Some(r);
                }
            }
        }
        reason
    };

    // Engine.IO v3 over WebSocket: the client pings, the driver cannot write.
    let ws = Handshake::new("/socket.io/?EIO=3&transport=websocket", vec![]);
    let id = server.handle_ws_open(now, ws).unwrap();
    while server.poll_transmit().is_some() {}
    server.handle_write_blocked(id);
    for _ in 0..200 {
        server.handle_ws_text(now, id, "2");
        assert!(queued(&server, id) <= limit);
    }
    assert_eq!(
        closed_by(&mut server, id),
        Some(DisconnectReason::OutboundQueueFull)
    );

    // Socket.IO 0.9 over polling: connects for a refused endpoint, posted
    // again and again, and no GET ever fetches the answers.
    let mut req = 0;
    let mut get = |server: &mut Server, url: &str| {
        req += 1;
        server.handle_http(now, req, HttpRequest::new(Method::Get, url, vec![]));
        server.poll_http_response().map(|(_, r)| r.body_text())
    };
    let body = get(&mut server, "/socket.io/1/?t=1").unwrap();
    let sid = body.split(':').next().unwrap().to_owned();
    let poll = format!("/socket.io/1/xhr-polling/{sid}");
    assert_eq!(get(&mut server, &poll).as_deref(), Some("1::"));
    let id = server.find_sid(&sid).unwrap();
    while let Some(ev) = server.poll_event() {
        if let Event::Connect { nsp, .. } = ev.event {
            server.accept(now, ev.conn, &nsp, None).unwrap();
        }
    }
    let mut post = HttpRequest::new(Method::Post, poll, vec![]);
    post.body = "1::/refused".into();
    for i in 0..100 {
        server.handle_http(now, 1000 + i, post.clone());
        while server.poll_http_response().is_some() {}
        assert!(queued(&server, id) <= limit);
    }
    assert_eq!(
        closed_by(&mut server, id),
        Some(DisconnectReason::OutboundQueueFull)
    );
}

/// Found by the `server_session` fuzz target: a CONNECT answer that does
/// not fit in the outbound queue closes the connection inside `accept`;
/// the socket was still registered as a namespace member (and its rooms
/// kept for recovery) after its connection was gone. Now the accept fails
/// with `Closed` and nothing of the socket is left.
#[test]
fn an_accept_that_overflows_the_queue_leaves_nothing_behind() {
    use socketio_sansio::{Event, HttpRequest, Method, SeededRandom, Server};
    let config = config().max_outbound_bytes(100).build().unwrap();
    let mut server = Server::with_random(config, Box::new(SeededRandom::new(5)));
    server.set_keep_departed_rooms(true);
    let mut now = std::time::Instant::now();
    let url = "/socket.io/?EIO=4&transport=polling";
    server.handle_http(now, 1, HttpRequest::new(Method::Get, url, vec![]));
    let (_, open) = server.poll_http_response().unwrap();
    let body = open.body_text();
    let sid = body.split('"').nth(3).unwrap().to_owned();
    let id = server.find_sid(&sid).unwrap();
    let post = |server: &mut Server, req, body: &str| {
        let url = format!("{url}&sid={sid}");
        let mut request = HttpRequest::new(Method::Post, url, vec![]);
        request.body = body.into();
        server.handle_http(now, req, request);
        while server.poll_http_response().is_some() {}
    };
    post(&mut server, 2, "40");
    let Some(Event::Connect { nsp, .. }) = server.poll_event().map(|e| e.event) else {
        panic!("no CONNECT");
    };
    server.accept(now, id, &nsp, None).unwrap();
    // Nobody polls: the queue fills up to just below the limit...
    let filler = "x".repeat(40);
    server
        .emit(now, id, "/", "fill", Args::json(vec![json!(filler)]))
        .unwrap();
    // ...and the answer to a second namespace does not fit.
    post(&mut server, 3, "40/a,");
    let mut accepted = None;
    while let Some(ev) = server.poll_event() {
        if let Event::Connect { nsp, .. } = ev.event {
            accepted = Some(server.accept(now, id, &nsp, None));
        }
    }
    assert_eq!(accepted, Some(Err(UsageError::Closed)));
    assert!(server.select(&Broadcast::to("/a")).is_empty());
    assert!(server.take_departed_rooms(id, "/a").is_none());
    // The rest of the connection goes as usual (the departed rooms of "/"
    // are the application's to take).
    assert!(server.take_departed_rooms(id, "/").is_some());
    while let Some(at) = server.poll_timeout() {
        now = at;
        server.handle_timeout(now);
        while server.poll_transmit().is_some() || server.poll_http_response().is_some() {}
        while server.poll_event().is_some() {}
    }
    assert_eq!(server.connection_count(), 0);
    assert_eq!(server.room_count(), 0);
    assert!(
        server.leak_check_counts().is_empty(),
        "{:?}",
        server.leak_check_counts()
    );
}

/// Found by the `server_session` fuzz target: closing a polling session
/// whose queue is exactly full queued the close packet past the limit.
/// The queue is dropped for it instead.
#[test]
fn the_close_packet_of_a_full_polling_queue_stays_within_the_limit() {
    use socketio_sansio::{Event, HttpRequest, Method, SeededRandom, Server};
    let limit = 100;
    let config = config().max_outbound_bytes(limit).build().unwrap();
    let mut server = Server::with_random(config, Box::new(SeededRandom::new(6)));
    let now = std::time::Instant::now();
    let url = "/socket.io/?EIO=4&transport=polling";
    server.handle_http(now, 1, HttpRequest::new(Method::Get, url, vec![]));
    let (_, open) = server.poll_http_response().unwrap();
    let body = open.body_text();
    let sid = body.split('"').nth(3).unwrap().to_owned();
    let id = server.find_sid(&sid).unwrap();
    let mut request = HttpRequest::new(Method::Post, format!("{url}&sid={sid}"), vec![]);
    request.body = b"40".to_vec();
    server.handle_http(now, 2, request);
    while server.poll_http_response().is_some() {}
    let Some(Event::Connect { nsp, .. }) = server.poll_event().map(|e| e.event) else {
        panic!("no CONNECT");
    };
    server.accept(now, id, &nsp, None).unwrap();
    let queued = |server: &Server| server.connection(id).map_or(0, |c| c.outbound_bytes());
    // `42["f","..."]` is 10 bytes plus the string: fill the queue exactly.
    let fill = "x".repeat(limit - queued(&server) - 10);
    server
        .emit(now, id, "/", "f", Args::json(vec![json!(fill)]))
        .unwrap();
    assert_eq!(queued(&server), limit);
    // The client leaves the namespace: nothing is left to disconnect, the
    // close is the engine's alone.
    let mut request = HttpRequest::new(Method::Post, format!("{url}&sid={sid}"), vec![]);
    request.body = b"41".to_vec();
    server.handle_http(now, 3, request);
    while server.poll_http_response().is_some() {}
    assert_eq!(queued(&server), limit);
    server.close(now, id).unwrap();
    assert!(queued(&server) <= limit, "{} bytes queued", queued(&server));
    // The next GET still gets the close packet.
    let get = HttpRequest::new(Method::Get, format!("{url}&sid={sid}"), vec![]);
    server.handle_http(now, 4, get);
    let (_, answer) = server.poll_http_response().unwrap();
    assert_eq!(answer.body_text(), "1");
}
