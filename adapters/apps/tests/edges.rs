//! Edge behaviours of the reference engine.io server, live on both drivers
//! (127.0.0.1, raw HTTP and WebSocket), for Engine.IO v3 and v4: the
//! client's close over polling while a GET is held, polling after an
//! upgrade, a second WebSocket for an upgraded session, overlapping POSTs
//! (one whose body is still arriving), a binary frame on a 0.9 session, our
//! WebSocket close waiting for the client's, and `max_packets_per_poll`.
//! The rules live in the core (`tests/reference_edges.rs` there) and in
//! `socketio-http`; these prove both drivers feed them alike.

#[macro_use]
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socketio_apps::testing::{
    assert_echo, connect, raw_request, recv_text, sid_of, wait_closed, ws_at, Ws,
};
use socketio_http::ws;
use socketio_sansio::app::{App, Namespace};
use socketio_sansio::ConfigBuilder;
use support::{Driver, HttpOptions, Served};
use tungstenite::Message;

/// Greets every socket with `auth` and echoes `message` as `message-back`.
fn app() -> App {
    App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            let auth = socket.auth().clone();
            socket.emit("auth", auth);
            socket.on("message", |s, args, _| s.emit("message-back", args));
        }),
    )
}

/// Heartbeats far enough away that raw clients need not answer them.
fn config(c: ConfigBuilder) -> ConfigBuilder {
    c
}

fn start(driver: Driver) -> Served {
    driver.serve(config, app())
}

fn poll_url(eio: u8, sid: &str) -> String {
    format!("/socket.io/?EIO={eio}&transport=polling&sid={sid}")
}

/// A polling body of `packets` in `eio`'s framing.
fn payload(eio: u8, packets: &[&str]) -> String {
    match eio {
        4 => packets.join("\u{1e}"),
        _ => packets
            .iter()
            .map(|p| format!("{}:{p}", p.chars().count()))
            .collect(),
    }
}

/// A polling session joined to `/`, its greeting taken; its sid.
fn polling_joined(addr: SocketAddr, eio: u8) -> String {
    let (head, body) = raw_request(
        addr,
        "GET",
        &format!("/socket.io/?EIO={eio}&transport=polling"),
        "",
        "",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let sid = sid_of(&body);
    if eio == 4 {
        let (head, _) = raw_request(addr, "POST", &poll_url(4, &sid), "", "40");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    // v3 joins `/` on its own: 40 and the greeting come with the open packet.
    if !String::from_utf8_lossy(&body).contains("auth") {
        let (head, body) = raw_request(addr, "GET", &poll_url(eio, &sid), "", "");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("auth"), "{head}{text}");
    }
    sid
}

/// A GET on its own thread: it is held until the server answers.
fn held_get(addr: SocketAddr, target: String) -> JoinHandle<(String, Vec<u8>)> {
    let get = thread::spawn(move || raw_request(addr, "GET", &target, "", ""));
    // Let the server take (and hold) it.
    thread::sleep(Duration::from_millis(200));
    get
}

fn is_sid_unknown((head, body): &(String, Vec<u8>)) -> bool {
    head.starts_with("HTTP/1.1 400") && body == br#"{"code":1,"message":"Session ID unknown"}"#
}

fn is_bad_request((head, body): &(String, Vec<u8>)) -> bool {
    head.starts_with("HTTP/1.1 400") && body == br#"{"code":3,"message":"Bad request"}"#
}

fn client_close_over_polling_releases_the_held_get_with_a_noop(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    for (eio, noop) in [(4, "6"), (3, "1:6")] {
        let sid = polling_joined(addr, eio);
        let get = held_get(addr, poll_url(eio, &sid));
        let (head, body) = raw_request(
            addr,
            "POST",
            &poll_url(eio, &sid),
            "",
            &payload(eio, &["1"]),
        );
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, b"ok");
        let (head, body) = get.join().unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "EIO={eio}: {head}");
        assert_eq!(String::from_utf8_lossy(&body), noop, "EIO={eio}");
        assert!(is_sid_unknown(&raw_request(
            addr,
            "GET",
            &poll_url(eio, &sid),
            "",
            ""
        )));
        assert!(is_sid_unknown(&raw_request(
            addr,
            "POST",
            &poll_url(eio, &sid),
            "",
            "1:2"
        )));
    }
    server.shutdown();
}

/// Upgrades polling session `sid` to a WebSocket.
fn upgraded(addr: SocketAddr, eio: u8, sid: &str) -> Ws {
    let mut ws = connect(addr, &format!("EIO={eio}&transport=websocket&sid={sid}"));
    ws.send(Message::text("2probe")).unwrap();
    assert_eq!(recv_text(&mut ws), "3probe");
    ws.send(Message::text("5")).unwrap();
    ws
}

fn polling_after_the_upgrade_gets_400_and_the_websocket_keeps_working(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    for eio in [4, 3] {
        let sid = polling_joined(addr, eio);
        let mut ws = upgraded(addr, eio, &sid);
        assert_echo(&mut ws, "before");
        let url = poll_url(eio, &sid);
        assert!(
            is_bad_request(&raw_request(addr, "GET", &url, "", "")),
            "EIO={eio}"
        );
        let post = payload(eio, &[r#"42["message","polled"]"#]);
        assert!(is_bad_request(&raw_request(addr, "POST", &url, "", &post)));
        // A malformed query on the same sid: still 400, still no harm.
        let dup = format!("{url}&sid=other");
        let (head, _) = raw_request(addr, "GET", &dup, "", "");
        assert!(head.starts_with("HTTP/1.1 400"), "{head}");
        assert_echo(&mut ws, "after");
    }
    server.shutdown();
}

fn a_second_websocket_for_an_upgraded_session_is_accepted_then_closed(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    for eio in [4, 3] {
        let sid = polling_joined(addr, eio);
        let mut first = upgraded(addr, eio, &sid);
        // A session opened over WebSocket directly, too.
        let mut direct = connect(addr, &format!("EIO={eio}&transport=websocket"));
        let open = recv_text(&mut direct);
        let direct_sid = sid_of(open.as_bytes());
        for sid in [&sid, &direct_sid] {
            let target = format!("/socket.io/?EIO={eio}&transport=websocket&sid={sid}");
            // The handshake succeeds (101), then the server's close frame.
            let mut second = ws_at(addr, &target);
            let started = Instant::now();
            match second.read() {
                Ok(Message::Close(None)) => {}
                other => panic!("EIO={eio}: {other:?}"),
            }
            // tungstenite answered the close: the server closes TCP at once.
            wait_closed(&mut second);
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "{:?}",
                started.elapsed()
            );
        }
        assert_echo(&mut first, "first still works");
        if eio == 4 {
            direct.send(Message::text("40")).unwrap();
            assert!(recv_text(&mut direct).starts_with("40{"));
            assert_eq!(recv_text(&mut direct), r#"42["auth",{}]"#);
        } else {
            assert_eq!(recv_text(&mut direct), "40");
            assert_eq!(recv_text(&mut direct), r#"42["auth",{}]"#);
        }
        assert_echo(&mut direct, "direct still works");
    }
    server.shutdown();
}

/// A POST whose head and the first `sent` bytes of its `body` are written.
fn partial_post(addr: SocketAddr, target: &str, body: &str, sent: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..sent]
    )
    .unwrap();
    s.flush().unwrap();
    // Let the server read the head.
    thread::sleep(Duration::from_millis(200));
    s
}

fn overlapping_posts_get_400_and_close_the_session(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    for (eio, close) in [(4, "1"), (3, "1:1")] {
        let sid = polling_joined(addr, eio);
        let url = poll_url(eio, &sid);
        let get = held_get(addr, url.clone());
        let body = payload(eio, &[r#"42["message","late"]"#]);
        let mut first = partial_post(addr, &url, &body, 3);
        // The second POST while the first one's body is still arriving.
        let (head, second) = raw_request(addr, "POST", &url, "", &payload(eio, &["2"]));
        assert!(head.starts_with("HTTP/1.1 400"), "EIO={eio}: {head}");
        assert!(second.is_empty());
        // The session closed: the held GET got the close packet.
        let (head, got) = get.join().unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(String::from_utf8_lossy(&got), close, "EIO={eio}");
        // The rest of the first body: the session is gone.
        first.write_all(&body.as_bytes()[3..]).unwrap();
        let mut answer = Vec::new();
        let _ = first.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(
            answer.ends_with(r#"{"code":1,"message":"Session ID unknown"}"#),
            "{answer}"
        );
        assert!(is_sid_unknown(&raw_request(addr, "GET", &url, "", "")));
    }
    server.shutdown();
}

fn a_post_lost_while_its_body_was_arriving_closes_the_session(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    for eio in [4, 3] {
        let sid = polling_joined(addr, eio);
        let url = poll_url(eio, &sid);
        // Sequential POSTs, each announced while its body arrives: fine.
        for n in 0..3 {
            let body = payload(eio, &[&format!(r#"42["message",{n}]"#)]);
            let mut post = partial_post(addr, &url, &body, 2);
            post.write_all(&body.as_bytes()[2..]).unwrap();
            let mut answer = String::new();
            let _ = post.read_to_string(&mut answer);
            assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
        }
        let (_, got) = raw_request(addr, "GET", &url, "", "");
        assert!(String::from_utf8_lossy(&got).contains(r#"42["message-back",2]"#));
        // A POST cut off before its body is whole.
        drop(partial_post(addr, &url, &payload(eio, &["2"]), 1));
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let r = raw_request(addr, "GET", &url, "", "");
            if is_sid_unknown(&r) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "EIO={eio}: session still open: {}",
                r.0
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
    server.shutdown();
}

fn a_binary_frame_closes_a_0_9_session(driver: Driver) {
    let server = start(driver);
    let addr = server.addr;
    let (head, body) = raw_request(addr, "GET", "/socket.io/1/?t=1", "", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let sid = String::from_utf8_lossy(&body)
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let mut ws = ws_at(addr, &format!("/socket.io/1/websocket/{sid}"));
    assert_eq!(recv_text(&mut ws), "1::");
    ws.send(Message::binary(vec![1, 2, 3])).unwrap();
    let started = Instant::now();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => break,
            // The greeting (`5:::{"name":"auth"...}`) or a heartbeat.
            Ok(Message::Text(_)) => continue,
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    server.shutdown();
}

/// A WebSocket client on raw frames, to see exactly when the server
/// closes TCP.
struct RawWs {
    s: TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    fn open(addr: SocketAddr, target: &str) -> RawWs {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
        let mut ws = RawWs { s, buf: Vec::new() };
        while !ws.buf.windows(4).any(|w| w == b"\r\n\r\n") {
            assert!(ws.fill().expect("read") > 0, "eof in the 101");
        }
        let at = ws.buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(ws.buf.starts_with(b"HTTP/1.1 101"));
        ws.buf.drain(..at);
        ws
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let n = self.s.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next frame's opcode and payload; `None` at EOF.
    fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if let Ok(Some((f, used))) = ws::parse_server_frame(&mut self.buf, usize::MAX) {
                let frame = (f.opcode, f.payload.to_vec());
                self.buf.drain(..used);
                return Some(frame);
            }
            if self.fill().expect("read") == 0 {
                return None;
            }
        }
    }

    fn send(&mut self, opcode: u8, payload: &[u8]) {
        let mut out = Vec::new();
        ws::put_masked_frame(&mut out, true, opcode, [1, 2, 3, 4], payload);
        self.s.write_all(&out).unwrap();
    }

    /// Reads frames until the server's close frame.
    fn until_close(&mut self) {
        while let Some((op, _)) = self.frame() {
            if op == ws::OP_CLOSE {
                return;
            }
        }
        panic!("EOF before the close frame");
    }

    /// True if the server closes TCP within `within` (nothing else comes).
    fn eof_within(&mut self, within: Duration) -> bool {
        self.s.set_read_timeout(Some(within)).unwrap();
        let mut byte = [0u8; 1];
        match self.s.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => panic!("data after the close frame"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => true, // reset
        }
    }
}

/// A raw WebSocket session that the server closes at once (a packet type
/// that does not exist), its close frame read.
fn closed_by_the_server(addr: SocketAddr) -> RawWs {
    let mut ws = RawWs::open(addr, "/socket.io/?EIO=4&transport=websocket");
    let (op, open) = ws.frame().expect("open packet");
    assert_eq!(op, ws::OP_TEXT);
    assert!(open.starts_with(b"0{"));
    ws.send(ws::OP_TEXT, b"9");
    ws.until_close();
    ws
}

fn our_close_waits_for_the_clients_close_frame(driver: Driver) {
    let options = HttpOptions {
        ws_close_timeout: Some(Duration::from_millis(1500)),
        ..HttpOptions::default()
    };
    let server = driver.serve_with(config, &options, app());
    let addr = server.addr;
    // The client answers: TCP closes then, not before.
    let mut ws = closed_by_the_server(addr);
    assert!(
        !ws.eof_within(Duration::from_millis(400)),
        "closed before the client's close"
    );
    // Data frames meanwhile are dropped.
    ws.send(ws::OP_TEXT, b"42[\"message\",1]");
    ws.send(ws::OP_CLOSE, &1000u16.to_be_bytes());
    let answered = Instant::now();
    assert!(ws.eof_within(Duration::from_secs(3)));
    assert!(
        answered.elapsed() < Duration::from_millis(900),
        "{:?}",
        answered.elapsed()
    );
    // The client never answers: TCP closes after the timeout.
    let mut ws = closed_by_the_server(addr);
    let waited = Instant::now();
    assert!(ws.eof_within(Duration::from_secs(5)));
    let waited = waited.elapsed();
    assert!(
        waited >= Duration::from_millis(1200) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    // Garbage instead of a close frame: closed at once.
    let mut ws = closed_by_the_server(addr);
    ws.s.write_all(b"\x83\x80\x00\x00\x00\x00 not a frame")
        .unwrap();
    let sent = Instant::now();
    assert!(ws.eof_within(Duration::from_secs(3)));
    assert!(
        sent.elapsed() < Duration::from_millis(900),
        "{:?}",
        sent.elapsed()
    );
    server.shutdown();
}

fn max_packets_per_poll_splits_answers(driver: Driver) {
    let server = driver.serve(|c| config(c).max_packets_per_poll(2), app());
    let addr = server.addr;
    for eio in [4, 3] {
        let (_, body) = raw_request(
            addr,
            "GET",
            &format!("/socket.io/?EIO={eio}&transport=polling"),
            "",
            "",
        );
        let sid = sid_of(&body);
        let url = poll_url(eio, &sid);
        if eio == 4 {
            raw_request(addr, "POST", &url, "", "40");
        }
        // 40 and auth (v3: with the open packet: two answers).
        let (_, got) = raw_request(addr, "GET", &url, "", "");
        assert!(String::from_utf8_lossy(&got).contains("auth"));
        let msgs: Vec<String> = (0..5).map(|i| format!(r#"42["message",{i}]"#)).collect();
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        let (head, _) = raw_request(addr, "POST", &url, "", &payload(eio, &refs));
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        for chunk in [&[0, 1][..], &[2, 3], &[4]] {
            let (_, got) = raw_request(addr, "GET", &url, "", "");
            let want: Vec<String> = chunk
                .iter()
                .map(|i| format!(r#"42["message-back",{i}]"#))
                .collect();
            let want: Vec<&str> = want.iter().map(String::as_str).collect();
            assert_eq!(
                String::from_utf8_lossy(&got),
                payload(eio, &want),
                "EIO={eio}"
            );
        }
    }
    server.shutdown();
}

on_both_drivers!(
    client_close_over_polling_releases_the_held_get_with_a_noop,
    polling_after_the_upgrade_gets_400_and_the_websocket_keeps_working,
    a_second_websocket_for_an_upgraded_session_is_accepted_then_closed,
    overlapping_posts_get_400_and_close_the_session,
    a_post_lost_while_its_body_was_arriving_closes_the_session,
    a_binary_frame_closes_a_0_9_session,
    our_close_waits_for_the_clients_close_frame,
    max_packets_per_poll_splits_answers,
);
