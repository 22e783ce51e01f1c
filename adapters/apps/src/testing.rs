//! Test support, not an application: the clients that the drivers' live
//! tests (and this crate's tests that run against both drivers) speak to
//! a server on a real socket with. A WebSocket client (tungstenite) over a
//! [`TcpStream`] with a read timeout of [`TIMEOUT`], the Socket.IO v4
//! handshake into `/`, raw HTTP/1.1 requests, free ports.
//!
//! Every function panics on what a test would call a failure (a refused
//! connection, a timeout, an unexpected frame).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

/// A WebSocket client on a blocking TCP stream.
pub type Ws = WebSocket<TcpStream>;

/// The read timeout of the clients: how long a test waits for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A WebSocket client at `target` (path and query), with TCP_NODELAY.
pub fn ws_at(addr: SocketAddr, target: &str) -> Ws {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    let (ws, _) =
        tungstenite::client(format!("ws://{addr}{target}"), stream).expect("websocket handshake");
    ws
}

/// A WebSocket client at `/socket.io/?{query}`.
pub fn connect(addr: SocketAddr, query: &str) -> Ws {
    ws_at(addr, &format!("/socket.io/?{query}"))
}

/// The next text frame, answering Engine.IO pings (`2`) on the way; a
/// binary frame comes back as `<bin [bytes]>`.
pub fn recv_text(ws: &mut Ws) -> String {
    loop {
        match ws.read().expect("a frame") {
            Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).unwrap(),
            Message::Text(t) => return t.to_string(),
            Message::Binary(b) => return format!("<bin {:?}>", b.to_vec()),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

/// Answers pings for `how_long` (at least three of them); fails on
/// anything else.
pub fn pump(ws: &mut Ws, how_long: Duration) {
    let end = Instant::now() + how_long;
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut pings = 0;
    while Instant::now() < end {
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
    ws.get_ref().set_read_timeout(Some(TIMEOUT)).unwrap();
}

/// A Socket.IO v4 WebSocket client connected to `/`, and its socket id.
pub fn connected(addr: SocketAddr) -> (Ws, String) {
    let mut ws = connect(addr, "EIO=4&transport=websocket");
    let open = recv_text(&mut ws);
    assert!(open.starts_with("0{\"sid\":"), "{open}");
    ws.send(Message::text("40")).unwrap();
    let connect = recv_text(&mut ws);
    let sid = connect
        .strip_prefix("40{\"sid\":\"")
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{connect}"))
        .to_owned();
    (ws, sid)
}

/// [`connected`] to an application that greets every socket like the
/// [conformance contract](crate::conformance) (`auth` with the handshake
/// auth), past the greeting.
pub fn joined(addr: SocketAddr) -> Ws {
    let (mut ws, _) = connected(addr);
    assert_eq!(recv_text(&mut ws), r#"42["auth",{}]"#);
    ws
}

/// Reads until the server closes (a close frame, EOF or an error).
pub fn wait_closed(ws: &mut Ws) {
    loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        }
    }
}

/// Sends `request` as it is on a new connection and reads until the
/// server closes it (or [`TIMEOUT`]).
pub fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// `GET target`, with `Connection: close`, or as a WebSocket upgrade.
pub fn http_get(addr: SocketAddr, target: &str, upgrade: bool) -> String {
    let extra = if upgrade {
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    } else {
        "Connection: close\r\n"
    };
    http(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n"),
    )
}

/// Reads one response with a Content-Length body from a keep-alive stream.
pub fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "eof in head");
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// The body of a response (what follows the head).
pub fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("cannot pick a free port")
        .port()
}

/// Sends `message` with `text` and expects `message-back` with it (the
/// echo of the conformance contract): the connection still works.
pub fn assert_echo(ws: &mut Ws, text: &str) {
    let json = serde_json::Value::from(text);
    ws.send(Message::text(format!(r#"42["message",{json}]"#)))
        .unwrap();
    assert_eq!(recv_text(ws), format!(r#"42["message-back",{json}]"#));
}

/// One request on its own connection (`Connection: close`): the head as
/// text and the body as bytes.
pub fn raw_request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &str,
    body: &str,
) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let at = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |p| p + 4);
    let body = out.split_off(at);
    (String::from_utf8_lossy(&out).into_owned(), body)
}

/// The head of a WebSocket upgrade's answer (the connection then dropped).
pub fn upgrade_head(addr: SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    // A refusal has a body after its head.
    if !buf.starts_with(b"HTTP/1.1 101") {
        let _ = s.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The sid of a handshake answer's body.
pub fn sid_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let start = text.find("\"sid\":\"").expect("sid") + 7;
    let len = text[start..].find('"').expect("sid end");
    text[start..start + len].to_owned()
}
