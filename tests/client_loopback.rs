//! The client against the core's own `Server` over the loopback: connect
//! over every transport and version, namespaces, acknowledgements both
//! ways, binary attachments, the upgrade. Everything on a virtual clock.

mod client_common;

use std::time::Duration;

use client_common::{args, client_config, Loopback};
use serde_json::json;
use socketio_sansio::client::{AckFailure, ClientEvent, ClientTransmit, EmitStatus, Transports};
use socketio_sansio::{Args, EngineVersion, Frame};

fn connected(lb: &Loopback, nsp: &str) -> bool {
    lb.has_event(|e| matches!(e, ClientEvent::Connected { nsp: n, .. } if n == nsp))
}

fn ack_of(lb: &Loopback, id: u64) -> Option<Result<Args, AckFailure>> {
    lb.events.iter().find_map(|e| match e {
        ClientEvent::Ack { id: i, result, .. } if *i == id => Some(result.clone()),
        _ => None,
    })
}

fn setup(version: EngineVersion, transports: Transports) -> Loopback {
    let config = client_config()
        .version(version)
        .transports(transports)
        .build()
        .unwrap();
    let mut lb = Loopback::new(config);
    lb.client.connect_namespace(lb.now, "/", None).unwrap();
    lb.pump();
    assert!(connected(&lb, "/"), "events: {:?}", lb.events);
    lb
}

fn emit_ack_roundtrip(lb: &mut Loopback) {
    let now = lb.now;
    let id = lb
        .client
        .emit_with_ack(
            now,
            "/",
            "echo",
            args(vec![json!(1), json!("two")]),
            Some(Duration::from_secs(1)),
        )
        .unwrap();
    lb.pump();
    let result = ack_of(lb, id).expect("an ack outcome");
    assert_eq!(result.unwrap().values, [json!(1), json!("two")]);
    // the server's emit arrives as an event
    lb.client.emit(now, "/", "emit-back", "hi".into()).unwrap();
    lb.pump();
    assert!(lb.has_event(|e| matches!(e,
        ClientEvent::Event { nsp, name, args, ack: None } if nsp == "/" && name == "back" && args.values == [json!("hi")])));
}

#[test]
fn websocket_v4_connect_emit_ack() {
    let mut lb = setup(EngineVersion::V4, Transports::WebSocket);
    let ClientTransmit::OpenWebSocket { url, .. } = &lb.transmits[0] else {
        panic!()
    };
    assert_eq!(
        url,
        "ws://localhost:3000/socket.io/?EIO=4&transport=websocket"
    );
    assert!(lb.client.is_websocket());
    assert_eq!(lb.client.socket_id("/").unwrap().len(), 20);
    emit_ack_roundtrip(&mut lb);
}

#[test]
fn websocket_v3_connect_emit_ack() {
    let mut lb = setup(EngineVersion::V3, Transports::WebSocket);
    // rev 4: the socket id of `/` is the Engine.IO sid
    assert_eq!(lb.client.socket_id("/"), lb.client.engine_sid());
    emit_ack_roundtrip(&mut lb);
}

#[test]
fn polling_v4_connect_emit_ack() {
    let mut lb = setup(EngineVersion::V4, Transports::Polling);
    assert!(!lb.client.is_websocket());
    emit_ack_roundtrip(&mut lb);
    // every request is polling, with a cache buster that changes
    let urls: Vec<&str> = lb
        .transmits
        .iter()
        .filter_map(|t| match t {
            ClientTransmit::HttpRequest(r) => Some(r.url.as_str()),
            _ => None,
        })
        .collect();
    assert!(urls[0].starts_with("http://localhost:3000/socket.io/?EIO=4&transport=polling&t="));
    assert!(urls[1].contains("&sid="));
    assert_ne!(urls[0], urls[1]);
}

#[test]
fn polling_v3_binary_and_text_payloads() {
    for binary in [true, false] {
        let config = client_config()
            .version(EngineVersion::V3)
            .transports(Transports::Polling)
            .v3_binary_polling(binary)
            .build()
            .unwrap();
        let mut lb = Loopback::new(config);
        lb.client.connect_namespace(lb.now, "/", None).unwrap();
        lb.pump();
        assert!(connected(&lb, "/"), "{:?}", lb.events);
        emit_ack_roundtrip(&mut lb);
        // binary attachments both ways
        let mut a = Args::default();
        let ph = a.attach(vec![1, 2, 3]);
        a.values.push(ph);
        let now = lb.now;
        let id = lb.client.emit_with_ack(now, "/", "echo", a, None).unwrap();
        lb.pump();
        let back = ack_of(&lb, id).unwrap().unwrap();
        assert_eq!(back.binaries, [vec![1, 2, 3]], "binary polling {binary}");
        let b64 = lb
            .transmits
            .iter()
            .any(|t| matches!(t, ClientTransmit::HttpRequest(r) if r.url.contains("b64=1")));
        assert_eq!(b64, !binary);
    }
}

#[test]
fn binary_attachments_both_ways_over_websocket_v4() {
    let mut lb = setup(EngineVersion::V4, Transports::WebSocket);
    let mut a = Args::default();
    let ph = a.attach(vec![9, 8, 7]);
    a.values.push(json!({ "file": ph }));
    let now = lb.now;
    lb.client.emit(now, "/", "emit-back", a).unwrap();
    lb.pump();
    let got = lb.events.iter().find_map(|e| match e {
        ClientEvent::Event { name, args, .. } if name == "back" => Some(args.clone()),
        _ => None,
    });
    let got = got.unwrap();
    assert_eq!(got.binary(&got.values[0]["file"]), Some(&[9u8, 8, 7][..]));
    assert!(lb.transmits.iter().any(|t| matches!(
        t,
        ClientTransmit::WsFrame {
            frame: Frame::Binary(_),
            ..
        }
    )));
}

#[test]
fn server_asks_the_client_for_an_ack() {
    let mut lb = setup(EngineVersion::V4, Transports::WebSocket);
    let now = lb.now;
    lb.client.emit(now, "/", "ask", json!("q?").into()).unwrap();
    lb.pump();
    let (id, values) = lb
        .events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Event {
                name,
                ack: Some(id),
                args,
                ..
            } if name == "question" => Some((*id, args.values.clone())),
            _ => None,
        })
        .expect("a question with an ack id");
    assert_eq!(values, [json!("q?")]);
    lb.client.ack(now, "/", id, json!("answer").into()).unwrap();
    lb.pump();
    assert_eq!(
        lb.server_acks,
        [("/".to_owned(), id, vec![json!("answer")])]
    );
}

#[test]
fn namespaces_multiplexed_with_auth_and_connect_error() {
    for version in [EngineVersion::V4, EngineVersion::V3] {
        let mut lb = setup(version, Transports::WebSocket);
        let now = lb.now;
        lb.client
            .connect_namespace(now, "/admin", Some(json!({"token": "abc"})))
            .unwrap();
        lb.client
            .connect_namespace(now, "/forbidden", Some(json!({"token": "x"})))
            .unwrap();
        lb.pump();
        assert!(connected(&lb, "/admin"), "{version:?} {:?}", lb.events);
        let err = lb.events.iter().find_map(|e| match e {
            ClientEvent::ConnectError { nsp, message, data } if nsp == "/forbidden" => {
                Some((message.clone(), data.clone()))
            }
            _ => None,
        });
        let (message, data) = err.expect("a CONNECT_ERROR");
        match version {
            EngineVersion::V4 => {
                assert_eq!(message, "not allowed");
                assert_eq!(data, Some(json!({"auth": {"token": "x"}})));
            }
            // rev 4 carries the data alone (as socket.io 2.x servers send it)
            EngineVersion::V3 => assert_eq!(data, Some(json!({"auth": {"token": "x"}}))),
        }
        // the namespaces share one session, and the server saw the auth
        lb.client.emit(now, "/admin", "hello", ().into()).unwrap();
        lb.client.emit(now, "/", "hello", ().into()).unwrap();
        lb.pump();
        let nsps: Vec<&str> = lb.received.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(nsps, ["/admin", "/"]);
        assert!(lb.client.is_connected("/") && lb.client.is_connected("/admin"));
        assert!(!lb.client.is_connected("/forbidden"));
    }
}

#[test]
fn upgrade_polling_to_websocket() {
    for version in [EngineVersion::V4, EngineVersion::V3] {
        let config = client_config().version(version).build().unwrap();
        let mut lb = Loopback::new(config);
        lb.client.connect_namespace(lb.now, "/", None).unwrap();
        lb.pump();
        assert!(connected(&lb, "/"));
        assert!(
            lb.has_event(|e| *e == ClientEvent::Upgraded),
            "{version:?}: {:?}",
            lb.events
        );
        assert!(lb.client.is_websocket());
        // probe, then the upgrade packet, on the new WebSocket
        let texts: Vec<String> = lb
            .transmits
            .iter()
            .filter_map(|t| match t {
                ClientTransmit::WsFrame {
                    frame: Frame::Text(t),
                    ..
                } => Some(t.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(&texts[..2], ["2probe", "5"]);
        emit_ack_roundtrip(&mut lb);
        // the heartbeat keeps the session alive on the WebSocket
        lb.advance(Duration::from_secs(3));
        assert!(lb.client.is_connected("/"));
        assert!(!lb.has_event(|e| matches!(e, ClientEvent::Disconnected { .. })));
    }
}

#[test]
fn a_failed_probe_falls_back_to_polling() {
    let config = client_config().build().unwrap();
    let mut lb = Loopback::new(config);
    lb.refuse_upgrade = true;
    lb.client.connect_namespace(lb.now, "/", None).unwrap();
    lb.pump();
    assert!(connected(&lb, "/"));
    assert!(!lb.client.is_websocket());
    assert!(!lb.has_event(|e| *e == ClientEvent::Upgraded));
    emit_ack_roundtrip(&mut lb);
    lb.advance(Duration::from_secs(3));
    assert!(
        lb.client.is_connected("/"),
        "polling stays alive: {:?}",
        lb.events
    );
}

#[test]
fn emits_while_paused_for_the_upgrade_follow_on_the_websocket_in_order() {
    let config = client_config().build().unwrap();
    let mut lb = Loopback::new(config);
    lb.client.connect_namespace(lb.now, "/", None).unwrap();
    lb.pump();
    assert!(lb.client.is_websocket());
    let now = lb.now;
    for i in 0..5 {
        lb.client.emit(now, "/", "n", json!(i).into()).unwrap();
    }
    lb.pump();
    let got: Vec<_> = lb.received.iter().map(|(_, _, v)| v[0].clone()).collect();
    assert_eq!(got, (0..5).map(|i| json!(i)).collect::<Vec<_>>());
}

#[test]
fn volatile_emits_are_dropped_while_not_writable() {
    let mut lb = setup(EngineVersion::V4, Transports::Polling);
    let now = lb.now;
    // a POST is in flight after this emit: polling is not writable until it returns
    assert_eq!(
        lb.client.emit(now, "/", "a", ().into()),
        Ok(EmitStatus::Sent)
    );
    assert_eq!(
        lb.client.emit_volatile(now, "/", "v1", ().into()),
        Ok(EmitStatus::Dropped)
    );
    lb.pump();
    assert_eq!(
        lb.client.emit_volatile(now, "/", "v2", ().into()),
        Ok(EmitStatus::Sent)
    );
    lb.pump();
    let names: Vec<&str> = lb.received.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "v2"]);
}

#[test]
fn server_side_disconnect_does_not_reconnect() {
    let mut lb = setup(EngineVersion::V4, Transports::WebSocket);
    let now = lb.now;
    lb.client.emit(now, "/", "kick", ().into()).unwrap();
    lb.pump();
    assert!(lb.has_event(|e| matches!(e, ClientEvent::Disconnected { nsp, reason } if nsp == "/" && reason.as_str() == "io server disconnect")));
    lb.advance(Duration::from_secs(60));
    assert!(!lb.has_event(|e| matches!(e, ClientEvent::Reconnecting { .. })));
    assert!(lb.client.poll_timeout().is_none());
    assert_eq!(
        lb.client.engine_sid(),
        None,
        "the last namespace left: the session closed"
    );
}

#[test]
fn client_disconnect_and_close() {
    let mut lb = setup(EngineVersion::V4, Transports::WebSocket);
    let now = lb.now;
    lb.client.connect_namespace(now, "/admin", None).unwrap();
    lb.pump();
    lb.client.disconnect_namespace(now, "/admin").unwrap();
    lb.pump();
    assert!(lb
        .server_disconnects
        .iter()
        .any(|(n, r)| n == "/admin" && r == "client namespace disconnect"));
    assert!(lb.client.is_connected("/"));
    lb.client.close(now);
    lb.pump();
    assert!(lb.has_event(|e| matches!(e, ClientEvent::Disconnected { nsp, reason } if nsp == "/" && reason.as_str() == "io client disconnect")));
    lb.advance(Duration::from_secs(30));
    assert!(!lb.has_event(|e| matches!(e, ClientEvent::Reconnecting { .. })));
    assert_eq!(lb.server.connection_count(), 0);
}

#[test]
fn after_a_network_cut_the_client_reconnects_re_joins_and_delivers_the_buffer() {
    for transports in [
        Transports::WebSocket,
        Transports::Polling,
        Transports::PollingThenWebSocket,
    ] {
        let mut lb = setup(EngineVersion::V4, transports);
        let now = lb.now;
        lb.client
            .connect_namespace(now, "/admin", Some(json!({"k": 1})))
            .unwrap();
        lb.pump();
        let first_sid = lb.client.engine_sid().unwrap().to_owned();
        lb.events.clear();
        lb.down = true;
        lb.cut();
        assert!(
            lb.has_event(|e| matches!(e, ClientEvent::Disconnected { nsp, .. } if nsp == "/admin")),
            "{:?}",
            lb.events
        );
        let now = lb.now;
        assert_eq!(
            lb.client.emit(now, "/", "late", json!(1).into()),
            Ok(EmitStatus::Buffered)
        );
        assert_eq!(
            lb.client.emit(now, "/admin", "late", json!(2).into()),
            Ok(EmitStatus::Buffered)
        );
        // the first attempt fails (server down), the second succeeds
        lb.advance(Duration::from_millis(1500));
        assert!(
            lb.has_event(|e| matches!(e, ClientEvent::Reconnecting { attempt: 2, .. })),
            "{:?}",
            lb.events
        );
        lb.down = false;
        lb.advance(Duration::from_secs(5));
        assert!(
            lb.has_event(|e| matches!(e, ClientEvent::Reconnected { attempt: 2 })),
            "{:?}",
            lb.events
        );
        assert!(lb.client.is_connected("/") && lb.client.is_connected("/admin"));
        assert_ne!(lb.client.engine_sid().unwrap(), first_sid);
        let late: Vec<_> = lb
            .received
            .iter()
            .filter(|(_, n, _)| n == "late")
            .map(|(nsp, _, v)| (nsp.clone(), v[0].clone()))
            .collect();
        assert_eq!(
            late,
            [("/".to_owned(), json!(1)), ("/admin".to_owned(), json!(2))],
            "{transports:?}"
        );
    }
}

#[test]
fn the_server_heartbeat_keeps_v4_and_v3_sessions_alive_and_a_silent_server_is_detected() {
    for version in [EngineVersion::V4, EngineVersion::V3] {
        let mut lb = setup(version, Transports::WebSocket);
        lb.advance(Duration::from_secs(10));
        assert!(
            !lb.has_event(|e| matches!(e, ClientEvent::Disconnected { .. })),
            "{version:?}: {:?}",
            lb.events
        );
        // the server goes silent: take the client off the loopback, so
        // nothing reaches it any more
        let before = lb.now;
        let mut client_only = std::mem::replace(
            &mut lb.client,
            socketio_sansio::client::Client::with_random(
                client_config().build().unwrap(),
                Box::new(socketio_sansio::SeededRandom::new(1)),
            ),
        );
        let mut now = before;
        let mut reason = None;
        for _ in 0..100 {
            now += Duration::from_millis(100);
            client_only.handle_timeout(now);
            while client_only.poll_transmit().is_some() {}
            while let Some(e) = client_only.poll_event() {
                if let ClientEvent::Disconnected { reason: r, .. } = e {
                    reason.get_or_insert((r, now - before));
                }
            }
        }
        let (reason, after) = reason.expect("the silent server is detected");
        assert_eq!(reason.as_str(), "ping timeout");
        // server config: pingInterval 300 + pingTimeout 200
        assert!(after <= Duration::from_millis(600), "{version:?} {after:?}");
    }
}
