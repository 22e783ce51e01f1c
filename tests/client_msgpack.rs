//! The client with the MessagePack parser against the core's `Server` with
//! the same parser (feature `msgpack`), over the loopback on every v4
//! transport: namespaces, acks both ways, binary both ways, CONNECT_ERROR;
//! every Socket.IO message on the wire is a binary frame.
#![cfg(feature = "msgpack")]

mod client_common;

use std::time::Duration;

use client_common::{args, client_config, Loopback};
use serde_json::json;
use socketio_sansio::client::{ClientConfigError, ClientEvent, ClientTransmit, Transports};
use socketio_sansio::{Config, EngineVersion, Frame, Parser};

fn msgpack_server() -> std::sync::Arc<Config> {
    Config::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .namespace("/admin")
        .namespace("/forbidden")
        .parser(Parser::MsgPack)
        .build()
        .expect("valid server configuration")
}

#[test]
fn msgpack_client_and_server_on_every_transport() {
    for transports in [
        Transports::WebSocket,
        Transports::Polling,
        Transports::PollingThenWebSocket,
    ] {
        let config = client_config()
            .transports(transports)
            .parser(Parser::MsgPack)
            .build()
            .unwrap();
        let mut lb = Loopback::with_server(config, msgpack_server());
        let now = lb.now;
        lb.client.connect_namespace(now, "/", None).unwrap();
        lb.client.connect_namespace(now, "/admin", None).unwrap();
        lb.client
            .connect_namespace(now, "/forbidden", None)
            .unwrap();
        lb.pump();
        for nsp in ["/", "/admin"] {
            assert!(
                lb.has_event(|e| matches!(e, ClientEvent::Connected { nsp: n, .. } if n == nsp)),
                "{transports:?} {nsp}: {:?}",
                lb.events
            );
        }
        assert!(
            lb.has_event(
                |e| matches!(e, ClientEvent::ConnectError { nsp, .. } if nsp == "/forbidden")
            ),
            "{:?}",
            lb.events
        );
        // client → server ack, with JSON kinds and binary both ways
        let mut a = args(vec![
            json!("s"),
            json!(-1.5),
            json!(null),
            json!(true),
            json!({"deep": [1, {"x": []}]}),
        ]);
        let ph = a.attach(vec![0, 1, 255]);
        a.values.push(ph);
        let now = lb.now;
        let id = lb
            .client
            .emit_with_ack(
                now,
                "/admin",
                "echo",
                a.clone(),
                Some(Duration::from_secs(1)),
            )
            .unwrap();
        lb.pump();
        let back = lb
            .events
            .iter()
            .find_map(|e| match e {
                ClientEvent::Ack { id: i, result, .. } if *i == id => Some(result.clone()),
                _ => None,
            })
            .expect("ack")
            .expect("acknowledged");
        assert_eq!(back, a, "{transports:?}");
        // server → client event with binary
        let now = lb.now;
        lb.client.emit(now, "/", "emit-back", a.clone()).unwrap();
        lb.pump();
        assert!(lb.has_event(
            |e| matches!(e, ClientEvent::Event { name, args, .. } if name == "back" && *args == a)
        ));
        // no Socket.IO text frame ever went over the WebSocket
        for t in &lb.transmits {
            if let ClientTransmit::WsFrame {
                frame: Frame::Text(text),
                ..
            } = t
            {
                assert!(!text.starts_with('4'), "{text:?}");
            }
        }
    }
}

#[test]
fn msgpack_needs_engine_io_v4() {
    let e = client_config()
        .version(EngineVersion::V3)
        .parser(Parser::MsgPack)
        .build()
        .unwrap_err();
    assert_eq!(e, ClientConfigError::ParserNeedsV4);
}
