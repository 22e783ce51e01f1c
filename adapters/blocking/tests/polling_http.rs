//! HTTP long-polling on real sockets: the engine.io-protocol suite's polling
//! vectors (labels in the core's `tests/VECTORS.md`) over HTTP/1.1 with
//! keep-alive (RFC 9112), size limits, CORS, and the bare Engine.IO echo.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socketio_blocking::app::{App, Namespace};
use socketio_blocking::{Cors, ServerHandle, SocketIo};

fn start() -> ServerHandle {
    let app: App = App::new()
        .ns(
            "/",
            Namespace::new().on_connection(|socket| {
                let auth = socket.auth().clone();
                socket.emit("auth", auth);
                socket.on("message", |s, args, _| s.emit("message-back", args));
            }),
        )
        .engine_io(|socket, data| socket.send(data));
    SocketIo::builder()
        .config(|c| {
            c.ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200))
                .max_payload(1000)
                .engine_path("/engine.io/")
        })
        .cors(Cors::origins(["http://allowed.example"]).with_credentials())
        .bind("127.0.0.1:0", app)
        .expect("bind")
}

/// One keep-alive HTTP/1.1 connection.
struct Http {
    reader: BufReader<TcpStream>,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Http {
    fn connect(addr: SocketAddr) -> Self {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Http {
            reader: BufReader::new(s),
        }
    }

    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let s = self.reader.get_mut();
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
    }

    fn read(&mut self) -> Response {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        Response {
            status,
            headers,
            body,
        }
    }

    fn call(&mut self, method: &str, target: &str, body: &[u8]) -> Response {
        self.send(method, target, &[], body);
        self.read()
    }
}

fn sid_of(open: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(&open[open.find('{').unwrap()..]).unwrap();
    json["sid"].as_str().unwrap().to_owned()
}

#[test]
fn polling_session_over_one_keep_alive_connection() {
    let server = start();
    let mut http = Http::connect(server.local_addr());
    // E1
    let open = http.call("GET", "/socket.io/?EIO=4&transport=polling", b"");
    assert_eq!(open.status, 200);
    assert_eq!(
        open.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert!(open.text().contains(
        r#""upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}"#
    ));
    let sid = sid_of(&open.text());
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // Join, then echo (E13 in Socket.IO form), all on the same connection.
    assert_eq!(http.call("POST", &url, b"40").text(), "ok");
    let connect = http.call("GET", &url, b"").text();
    assert!(
        connect.starts_with("40{\"sid\":") && connect.ends_with("\u{1e}42[\"auth\",{}]"),
        "{connect}"
    );
    assert_eq!(
        http.call("POST", &url, b"42[\"message\",\"hi\"]").text(),
        "ok"
    );
    assert_eq!(
        http.call("GET", &url, b"").text(),
        r#"42["message-back","hi"]"#
    );
    // E3: a held GET is answered with the ping.
    let ping = http.call("GET", &url, b"");
    assert_eq!(ping.text(), "2");
    assert_eq!(http.call("POST", &url, b"3").text(), "ok");
    // 413 for a body over max_payload; the session survives (reference 6.x).
    let big = vec![b'x'; 1001];
    let mut other = Http::connect(server.local_addr());
    assert_eq!(other.call("POST", &url, &big).status, 413);
    assert_eq!(
        http.call("POST", &url, b"42[\"message\",\"after\"]").text(),
        "ok"
    );
    assert_eq!(
        http.call("GET", &url, b"").text(),
        r#"42["message-back","after"]"#
    );
    server.shutdown();
}

#[test]
fn e17_overlapping_gets_and_e16_garbage_over_http() {
    let server = start();
    let addr = server.local_addr();
    let mut a = Http::connect(addr);
    let sid = sid_of(
        &a.call("GET", "/socket.io/?EIO=4&transport=polling", b"")
            .text(),
    );
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    a.send("GET", &url, &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    let mut b = Http::connect(addr);
    assert_eq!(b.call("GET", &url, b"").status, 400);
    assert_eq!(a.read().text(), "1", "the held GET gets the close packet");
    assert_eq!(b.call("GET", &url, b"").status, 400);

    let sid = sid_of(
        &a.call("GET", "/socket.io/?EIO=4&transport=polling", b"")
            .text(),
    );
    let url = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let r = a.call("POST", &url, b"abc");
    assert_eq!((r.status, r.text()), (200, "ok".to_owned()));
    let r = a.call("GET", &url, b"");
    assert_eq!(
        (r.status, r.text()),
        (
            400,
            r#"{"code":1,"message":"Session ID unknown"}"#.to_owned()
        )
    );
    server.shutdown();
}

#[test]
fn cors_is_explicit_and_default_deny() {
    let server = start();
    let mut http = Http::connect(server.local_addr());
    http.send(
        "OPTIONS",
        "/socket.io/?EIO=4&transport=polling",
        &[
            ("Origin", "http://allowed.example"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    );
    let pre = http.read();
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("http://allowed.example")
    );
    assert_eq!(pre.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("content-type")
    );
    http.send(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("Origin", "http://allowed.example")],
        b"",
    );
    assert_eq!(
        http.read().header("access-control-allow-origin"),
        Some("http://allowed.example")
    );
    http.send(
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[("Origin", "http://evil.example")],
        b"",
    );
    let denied = http.read();
    assert_eq!(denied.status, 200);
    assert_eq!(
        denied.header("access-control-allow-origin"),
        None,
        "unlisted origins get no CORS headers"
    );
    server.shutdown();
}

#[test]
fn bare_engine_io_polling_echo_e14_e15() {
    let server = start();
    let mut http = Http::connect(server.local_addr());
    let sid = sid_of(
        &http
            .call("GET", "/engine.io/?EIO=4&transport=polling", b"")
            .text(),
    );
    let url = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    for body in ["4test1\u{1e}4test2\u{1e}4test3", "4hello\u{1e}bAQIDBA=="] {
        assert_eq!(http.call("POST", &url, body.as_bytes()).text(), "ok");
        assert_eq!(http.call("GET", &url, b"").text(), body);
    }
    server.shutdown();
}
