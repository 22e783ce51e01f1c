//! The adapter on real sockets (127.0.0.1), driven by a hand-written
//! tungstenite client: handshake rejections, the conformance behaviour,
//! malformed input on one connection while ten others keep working, and a
//! clean shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::json;
use socketio_blocking::{ConnectError, ServerHandle, Socket, SocketIo};
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

fn start() -> ServerHandle {
    let on_connect = |socket: &Socket, auth: &serde_json::Value| {
        if auth.get("deny").is_some() {
            return Err(ConnectError::new("denied").with_data(json!({"why": "asked"})));
        }
        socket.emit("auth", auth.clone());
        socket.on("message", |s, args, _| s.emit("message-back", args));
        socket.on("message-with-ack", |_, args, ack| {
            if let Some(ack) = ack {
                ack.send(args)
            }
        });
        socket.on("join", |s, args, _| {
            if let Some(room) = args.values.first().and_then(|v| v.as_str()) {
                s.join(room)
            }
        });
        socket.on("to-room", |s, args, _| s.to("r").emit("room-news", args));
        Ok(())
    };
    SocketIo::builder()
        .config(|c| {
            c.ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200))
        })
        .ns("/", on_connect)
        .ns("/custom", on_connect)
        .engine_io("/engine.io/", |socket, data| socket.send(data))
        .bind("127.0.0.1:0")
        .expect("bind")
}

fn connect(addr: SocketAddr, query: &str) -> Ws {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let url = format!("ws://{addr}/socket.io/?{query}");
    let (ws, _) = tungstenite::client(url, stream).expect("websocket handshake");
    ws
}

fn recv_text(ws: &mut Ws) -> String {
    loop {
        match ws.read().expect("a frame") {
            Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).unwrap(),
            Message::Text(t) => return t.to_string(),
            Message::Binary(b) => return format!("<bin {:?}>", b.to_vec()),
            _ => continue,
        }
    }
}

/// Answers pings for `how_long`; fails on anything else.
fn pump(ws: &mut Ws, how_long: Duration) {
    let end = std::time::Instant::now() + how_long;
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut pings = 0;
    while std::time::Instant::now() < end {
        match ws.read() {
            Ok(Message::Text(t)) if t.as_str() == "2" => {
                pings += 1;
                ws.send(Message::text("3")).unwrap();
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("connection lost: {e}"),
        }
    }
    assert!(pings >= 3, "{pings} pings in {how_long:?}");
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
}

fn joined(addr: SocketAddr) -> Ws {
    let mut ws = connect(addr, "EIO=4&transport=websocket");
    assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
    ws.send(Message::text("40")).unwrap();
    assert!(recv_text(&mut ws).starts_with("40{\"sid\":"));
    assert_eq!(recv_text(&mut ws), r#"42["auth",{}]"#);
    ws
}

fn http_get(addr: SocketAddr, target: &str, upgrade: bool) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let extra = if upgrade {
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    } else {
        ""
    };
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn handshakes_with_bad_eio_or_transport_get_the_reference_400() {
    let server = start();
    let addr = server.local_addr();
    for upgrade in [true, false] {
        let r = http_get(addr, "/socket.io/?transport=websocket", upgrade);
        assert!(r.starts_with("HTTP/1.1 400"), "{r}");
        assert!(
            r.ends_with(r#"{"code":5,"message":"Unsupported protocol version"}"#),
            "{r}"
        );
        let r = http_get(addr, "/socket.io/?EIO=5&transport=websocket", upgrade);
        assert!(
            r.ends_with(r#"{"code":5,"message":"Unsupported protocol version"}"#),
            "{r}"
        );
    }
    let r = http_get(addr, "/socket.io/?EIO=4&transport=carrier-pigeon", true);
    assert!(
        r.starts_with("HTTP/1.1 400") && r.ends_with(r#"{"code":0,"message":"Transport unknown"}"#),
        "{r}"
    );
    let r = http_get(addr, "/elsewhere", false);
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    server.shutdown();
}

#[test]
fn conformance_exchange_over_a_real_socket() {
    let server = start();
    let mut ws = joined(server.local_addr());
    ws.send(Message::text(r#"42["message",1,"2",{"3":[true]}]"#))
        .unwrap();
    assert_eq!(
        recv_text(&mut ws),
        r#"42["message-back",1,"2",{"3":[true]}]"#
    );
    ws.send(Message::text(
        r#"42456["message-with-ack",1,"2",{"3":[false]}]"#,
    ))
    .unwrap();
    assert_eq!(recv_text(&mut ws), r#"43456[1,"2",{"3":[false]}]"#);
    ws.send(Message::text(
        r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    ))
    .unwrap();
    ws.send(Message::binary(vec![1, 2, 3])).unwrap();
    ws.send(Message::binary(vec![4, 5, 6])).unwrap();
    assert_eq!(
        recv_text(&mut ws),
        r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(recv_text(&mut ws), "<bin [1, 2, 3]>");
    assert_eq!(recv_text(&mut ws), "<bin [4, 5, 6]>");
    ws.send(Message::text("40/random")).unwrap();
    assert_eq!(
        recv_text(&mut ws),
        r#"44/random,{"message":"Invalid namespace"}"#
    );
    ws.send(Message::text(r#"40/custom,{"deny":true}"#))
        .unwrap();
    assert_eq!(
        recv_text(&mut ws),
        r#"44/custom,{"message":"denied","data":{"why":"asked"}}"#
    );
    // Stay connected across several heartbeats, answering each ping.
    pump(&mut ws, Duration::from_millis(1200));
    ws.send(Message::text(r#"42["message","later"]"#)).unwrap();
    assert_eq!(recv_text(&mut ws), r#"42["message-back","later"]"#);
    server.shutdown();
}

#[test]
fn v3_client_gets_40_unprompted_and_type_byte_binaries() {
    let server = start();
    let mut ws = connect(server.local_addr(), "EIO=3&transport=websocket");
    assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
    assert_eq!(recv_text(&mut ws), "40");
    assert_eq!(recv_text(&mut ws), r#"42["auth",{}]"#);
    ws.send(Message::text(
        r#"451-["message",{"_placeholder":true,"num":0}]"#,
    ))
    .unwrap();
    ws.send(Message::binary(vec![4, 9, 9])).unwrap();
    assert_eq!(
        recv_text(&mut ws),
        r#"451-["message-back",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(recv_text(&mut ws), "<bin [4, 9, 9]>");
    ws.send(Message::text("2")).unwrap();
    assert_eq!(recv_text(&mut ws), "3");
    server.shutdown();
}

#[test]
fn rooms_through_the_handler_api() {
    let server = start();
    let addr = server.local_addr();
    let mut a = joined(addr);
    let mut b = joined(addr);
    let mut c = joined(addr);
    b.send(Message::text(r#"42["join","r"]"#)).unwrap();
    c.send(Message::text(r#"42["join","r"]"#)).unwrap();
    // Make sure the joins were applied before broadcasting.
    b.send(Message::text(r#"42["message","sync"]"#)).unwrap();
    assert_eq!(recv_text(&mut b), r#"42["message-back","sync"]"#);
    c.send(Message::text(r#"42["message","sync"]"#)).unwrap();
    assert_eq!(recv_text(&mut c), r#"42["message-back","sync"]"#);
    // `socket.to("r")` excludes the sender.
    b.send(Message::text(r#"42["to-room","hi"]"#)).unwrap();
    assert_eq!(recv_text(&mut c), r#"42["room-news","hi"]"#);
    a.send(Message::text(r#"42["message","a"]"#)).unwrap();
    assert_eq!(
        recv_text(&mut a),
        r#"42["message-back","a"]"#,
        "a got no room news"
    );
    b.send(Message::text(r#"42["message","b"]"#)).unwrap();
    assert_eq!(
        recv_text(&mut b),
        r#"42["message-back","b"]"#,
        "the sender got no room news"
    );
    server.shutdown();
}

#[test]
fn malformed_frames_close_one_connection_and_ten_others_keep_working() {
    let server = start();
    let addr = server.local_addr();
    let mut others: Vec<Ws> = (0..10).map(|_| joined(addr)).collect();
    let bad_inputs: &[&[u8]] = &[
        b"42{}",
        b"4abc",
        b"42[\"disconnect\"]",
        b"4599999999999-[\"x\"]",
        b"42/other,[\"x\"]",
        b"44{\"message\":\"x\"}",
        b"2",
        b"7",
        b"42 [\"x\"]",
    ];
    for bad in bad_inputs {
        let mut ws = joined(addr);
        ws.send(Message::text(String::from_utf8(bad.to_vec()).unwrap()))
            .unwrap();
        // The server closes: a close frame or EOF, no more data frames.
        loop {
            match ws.read() {
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(Message::Text(t)) if t.as_str() == "2" => continue,
                Ok(other) => panic!("{:?}: unexpected {other:?}", String::from_utf8_lossy(bad)),
            }
        }
    }
    // A text frame that is not UTF-8 (WebSocket close 1007 territory) and an oversized message.
    let mut ws = joined(addr);
    let _ = ws.send(Message::binary(vec![0u8; 1_000_001]));
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        }
    }
    for (i, ws) in others.iter_mut().enumerate() {
        ws.send(Message::text(format!(r#"42["message",{i}]"#)))
            .unwrap();
        assert_eq!(recv_text(ws), format!(r#"42["message-back",{i}]"#));
    }
    server.shutdown();
}

#[test]
fn shutdown_closes_sessions_and_returns() {
    let server = start();
    let mut ws = joined(server.local_addr());
    let started = std::time::Instant::now();
    server.shutdown();
    assert!(started.elapsed() < Duration::from_secs(3));
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        }
    }
}

#[test]
fn bare_engine_io_echo_beside_socketio() {
    let server = start();
    let addr = server.local_addr();
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let (mut ws, _) = tungstenite::client(
        format!("ws://{addr}/engine.io/?EIO=4&transport=websocket"),
        stream,
    )
    .unwrap();
    assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
    ws.send(Message::text("4hello")).unwrap();
    assert_eq!(recv_text(&mut ws), "4hello");
    ws.send(Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(recv_text(&mut ws), "<bin [1, 2, 3]>");
    // Polling on the same path.
    let r = http_get(addr, "/engine.io/?EIO=4&transport=polling", false);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains(r#""upgrades":["websocket"]"#),
        "{r}"
    );
    server.shutdown();
}
