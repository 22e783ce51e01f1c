//! The live scenarios that both drivers must pass alike, on real sockets
//! (127.0.0.1), one test per scenario and driver (`blocking::…`,
//! `mio::…`; the server in this process): handshake rejections, the conformance exchange, malformed
//! input on one connection while ten others keep working, a refusing
//! connect middleware, shutdown. What is particular to a driver (its
//! threads or its loop, `Remote`, polling details, static files) stays in
//! that driver's `tests/live.rs`.

#[macro_use]
mod support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use socketio_apps::testing::{
    assert_echo, connect, http, http_get, joined, pump, raw_request, recv_text, sid_of,
    upgrade_head, wait_closed, Ws,
};
use socketio_http::{Cookie, Refusal};
use socketio_sansio::app::{App, ConnectError, Namespace};
use socketio_sansio::ConfigBuilder;
use support::{Driver, HttpOptions, Served};
use tungstenite::Message;

/// The conformance behaviour on `/` and `/custom`; a client whose auth has
/// `deny` is refused with a message and data.
fn namespace() -> Namespace<()> {
    Namespace::new()
        .use_middleware(|c| match c.auth().get("deny") {
            Some(_) => Err(ConnectError::new("denied").with_data(json!({"why": "asked"}))),
            None => Ok(()),
        })
        .on_connection(|socket| {
            let auth = socket.auth().clone();
            socket.emit("auth", auth);
            socket.on("message", |s, args, _| s.emit("message-back", args));
            socket.on("message-with-ack", |s, args, ack| {
                if let Some(ack) = ack {
                    ack.send(s, args);
                }
            });
        })
}

fn config(c: ConfigBuilder) -> ConfigBuilder {
    c.ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .engine_path("/engine.io/")
}

fn start(driver: Driver) -> Served {
    let app = App::new()
        .ns("/", namespace())
        .ns("/custom", namespace())
        .engine_io(|socket, data| socket.send(data));
    driver.serve(config, app)
}

fn handshakes_with_bad_eio_or_transport_get_the_reference_400(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
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
    let r = http(addr, "\x00\x01garbage\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    server.shutdown();
}

fn conformance_exchange_over_a_real_socket(driver: Driver) {
    let server = start(driver);
    let mut ws = joined(server.addr);
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
    // Binary attachments, both ways.
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
    ws.send(Message::text(r#"40/custom,{"token":1}"#)).unwrap();
    assert!(recv_text(&mut ws).starts_with("40/custom,{\"sid\":"));
    assert_eq!(recv_text(&mut ws), r#"42/custom,["auth",{"token":1}]"#);
    // A large message (fragment-free, 16-bit and 64-bit length forms).
    let big = "x".repeat(70_000);
    ws.send(Message::text(format!(r#"42["message","{big}"]"#)))
        .unwrap();
    assert_eq!(recv_text(&mut ws), format!(r#"42["message-back","{big}"]"#));
    // Stay connected across several heartbeats, answering each ping.
    pump(&mut ws, Duration::from_millis(1200));
    assert_echo(&mut ws, "later");
    server.shutdown();
}

fn malformed_frames_close_one_connection_and_ten_others_keep_working(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    let mut others: Vec<Ws> = (0..10).map(|_| joined(addr)).collect();
    let bad_inputs: &[&str] = &[
        "42{}",
        "4abc",
        "42[\"disconnect\"]",
        "4599999999999-[\"x\"]",
        "42/other,[\"x\"]",
        "44{\"message\":\"x\"}",
        "2",
        "7",
        "42 [\"x\"]",
    ];
    for bad in bad_inputs {
        let mut ws = joined(addr);
        ws.send(Message::text(*bad)).unwrap();
        // The server closes: a close frame or EOF, no more data frames.
        loop {
            match ws.read() {
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(Message::Text(t)) if t.as_str() == "2" => continue,
                Ok(other) => panic!("{bad:?}: unexpected {other:?}"),
            }
        }
    }
    // WebSocket-level garbage: an unmasked frame, reserved bits, a bad opcode,
    // a text frame that is not UTF-8, and an oversized message.
    let raw_inputs: &[&[u8]] = &[
        b"\x81\x02ab",
        b"\xc1\x80\x00\x00\x00\x00",
        b"\x83\x80\x00\x00\x00\x00",
        b"\x81\x82\x00\x00\x00\x00\xff\xfe",
    ];
    for raw in raw_inputs {
        let mut ws = joined(addr);
        ws.get_mut().write_all(raw).unwrap();
        wait_closed(&mut ws);
    }
    let mut ws = joined(addr);
    let _ = ws.send(Message::binary(vec![0u8; 1_000_001]));
    wait_closed(&mut ws);
    for (i, ws) in others.iter_mut().enumerate() {
        ws.send(Message::text(format!(r#"42["message",{i}]"#)))
            .unwrap();
        assert_eq!(recv_text(ws), format!(r#"42["message-back",{i}]"#));
    }
    server.shutdown();
}

fn a_connect_middleware_refuses_with_message_and_data(driver: Driver) {
    let server = start(driver);
    let mut ws = connect(server.addr, "EIO=4&transport=websocket");
    assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
    ws.send(Message::text(r#"40{"deny":true}"#)).unwrap();
    assert_eq!(
        recv_text(&mut ws),
        r#"44{"message":"denied","data":{"why":"asked"}}"#
    );
    // The connection stays: the client may try again, and is accepted.
    ws.send(Message::text(r#"40{"name":"ada"}"#)).unwrap();
    assert!(recv_text(&mut ws).starts_with("40{\"sid\":"));
    assert_eq!(recv_text(&mut ws), r#"42["auth",{"name":"ada"}]"#);
    server.shutdown();
}

fn shutdown_closes_sessions_and_returns(driver: Driver) {
    let server = start(driver);
    let mut ws = joined(server.addr);
    let started = Instant::now();
    server.shutdown();
    assert!(started.elapsed() < Duration::from_secs(3));
    wait_closed(&mut ws);
}

fn allow_request_refuses_before_any_session_and_cookies_the_rest(driver: Driver) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let options = HttpOptions {
        allow: Some(Arc::new(move |req| {
            log.lock().unwrap().push(req.remote);
            match req.query("token") {
                Some("ok") => Ok(()),
                Some(_) => Err(Refusal::new("bad token")),
                None => Err(Refusal::forbidden()),
            }
        })),
        cookie: Some(Cookie::default()),
        compression: None,
        ..HttpOptions::default()
    };
    let app = App::new().ns("/", namespace());
    let server = driver.serve_with(config, &options, app);
    let addr = server.addr;
    let (head, body) = raw_request(addr, "GET", "/socket.io/?EIO=4&transport=polling", "", "");
    assert!(head.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{head}");
    assert_eq!(body, br#"{"code":4,"message":"Forbidden"}"#);
    let (head, body) = raw_request(
        addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling&token=no",
        "",
        "",
    );
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert_eq!(body, br#"{"code":4,"message":"bad token"}"#);
    let refused = upgrade_head(addr, "/socket.io/?EIO=4&transport=websocket");
    assert!(
        refused.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{refused}"
    );
    assert!(refused.ends_with("\r\n\r\nForbidden"), "{refused}");
    // The hook saw the peer's address each time.
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter().all(|a| a.is_some_and(|a| a.ip().is_loopback())),
            "{seen:?}"
        );
    }
    // Allowed: a session, with the cookie; its later requests skip the hook.
    let (head, body) = raw_request(
        addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling&token=ok",
        "",
        "",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let sid = sid_of(&body);
    assert!(
        head.contains(&format!(
            "\r\nSet-Cookie: io={sid}; Path=/; HttpOnly; SameSite=Lax\r\n"
        )),
        "{head}"
    );
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (head, body) = raw_request(addr, "POST", &target, "", "40");
    assert!(
        head.starts_with("HTTP/1.1 200") && !head.contains("Set-Cookie"),
        "{head}"
    );
    assert_eq!(body, b"ok");
    assert_eq!(seen.lock().unwrap().len(), 4);
    // A WebSocket session's 101 carries the cookie too.
    let head = upgrade_head(addr, "/socket.io/?EIO=4&transport=websocket&token=ok");
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("\r\nSet-Cookie: io="), "{head}");
    server.shutdown();
}

fn polling_answers_are_compressed_as_accepted(driver: Driver) {
    use flate2::read::{GzDecoder, ZlibDecoder};
    let app = App::new().ns("/", namespace());
    // Long heartbeats: this test answers no ping.
    let server = driver.serve(|c| c.engine_path("/engine.io/"), app);
    let addr = server.addr;
    let (_, body) = raw_request(addr, "GET", "/socket.io/?EIO=4&transport=polling", "", "");
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={}", sid_of(&body));
    raw_request(addr, "POST", &target, "", "40");
    let (head, body) = raw_request(addr, "GET", &target, "Accept-Encoding: gzip\r\n", "");
    // Below the threshold: as it is.
    assert!(!head.contains("Content-Encoding"), "{head}");
    assert!(
        body.starts_with(b"40{"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let big = "y".repeat(3000);
    let want = format!(r#"42["message-back","{big}"]"#);
    for (accept, coding) in [
        ("gzip, deflate", Some("gzip")),
        ("deflate;q=1, gzip;q=0.5", Some("deflate")),
        ("identity", None),
    ] {
        raw_request(
            addr,
            "POST",
            &target,
            "",
            &format!(r#"42["message","{big}"]"#),
        );
        let (head, body) = raw_request(
            addr,
            "GET",
            &target,
            &format!("Accept-Encoding: {accept}\r\n"),
            "",
        );
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let mut text = String::new();
        match coding {
            Some(c) => {
                assert!(
                    head.contains(&format!("\r\nContent-Encoding: {c}\r\n")),
                    "{head}"
                );
                assert!(body.len() < want.len() / 10);
                if c == "gzip" {
                    GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
                } else {
                    ZlibDecoder::new(&body[..])
                        .read_to_string(&mut text)
                        .unwrap();
                }
            }
            None => {
                assert!(!head.contains("Content-Encoding"), "{head}");
                text = String::from_utf8(body).unwrap();
            }
        }
        // The `auth` emit may come first, joined with the record separator.
        assert!(
            text.ends_with(&want),
            "{accept}: {}",
            &text[..text.len().min(80)]
        );
    }
    server.shutdown();
}

on_both_drivers!(
    handshakes_with_bad_eio_or_transport_get_the_reference_400,
    conformance_exchange_over_a_real_socket,
    malformed_frames_close_one_connection_and_ten_others_keep_working,
    a_connect_middleware_refuses_with_message_and_data,
    shutdown_closes_sessions_and_returns,
    allow_request_refuses_before_any_session_and_cookies_the_rest,
    polling_answers_are_compressed_as_accepted,
);
