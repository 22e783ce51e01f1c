//! The mio driver on real sockets (127.0.0.1), serving an
//! [`App`](socketio_mio::app::App), driven by a tungstenite client
//! (`socketio_apps::testing`): fragmented messages, broadcast to several
//! clients and rooms, 1,000 idle connections, long-polling, other threads
//! (`Remote`, `RemoteSocket::emit_with_ack`), `run`; the Socket.IO 0.9
//! endpoints, bare Engine.IO, WebSocket handshake validation and static
//! files. The scenarios both drivers pass alike (handshake rejections, the
//! conformance exchange, malformed input, a refusing connect middleware,
//! shutdown) are in socketio-apps' `tests/live.rs`.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use serde_json::json;
use socketio_apps::testing::{
    assert_echo, body, connect, http, http_get, joined, read_response, recv_text, wait_closed,
    ws_at, Ws,
};
use socketio_mio::app::{AckError, App, Namespace, Remote, RemoteSocket};
use socketio_mio::{MioServer, ServerHandle};
use tungstenite::Message;

struct TestServer {
    addr: SocketAddr,
    remote: Remote<()>,
    handle: ServerHandle,
}

impl TestServer {
    fn shutdown(self) {
        self.handle.shutdown().expect("loop result");
    }

    /// The number of sessions the core holds, asked on the loop thread.
    fn connection_count(&self) -> usize {
        let (tx, rx) = mpsc::channel();
        self.remote.run(move |io| {
            let _ = tx.send(io.server().connection_count());
        });
        rx.recv_timeout(Duration::from_secs(5)).expect("answer")
    }
}

/// What the tests of this file use of the conformance behaviour, on `/`
/// and `/custom`.
fn namespace() -> Namespace<()> {
    Namespace::new().on_connection(|socket| {
        let auth = socket.auth().clone();
        socket.emit("auth", auth);
        socket.on("message", |s, args, _| s.emit("message-back", args));
        socket.on("broadcast", |s, args, _| s.of("/").emit("broadcast", args));
        socket.on("join", |s, args, _| {
            if let Some(room) = args.values.first().and_then(|v| v.as_str()) {
                s.join(room);
            }
        });
        // The other sockets of the namespace in "r".
        socket.on("to-room", |s, args, _| s.to("r").emit("room-news", args));
    })
}

fn app() -> App {
    App::new().ns("/", namespace()).ns("/custom", namespace())
}

fn start() -> TestServer {
    start_with(300, 200)
}

fn start_with(ping_interval_ms: u64, ping_timeout_ms: u64) -> TestServer {
    start_app(ping_interval_ms, ping_timeout_ms, app())
}

fn start_app(ping_interval_ms: u64, ping_timeout_ms: u64, app: App) -> TestServer {
    let server = MioServer::builder()
        .config(|c| {
            c.ping_interval(Duration::from_millis(ping_interval_ms))
                .ping_timeout(Duration::from_millis(ping_timeout_ms))
                .engine_path("/engine.io/")
        })
        .bind("127.0.0.1:0", app)
        .expect("bind");
    let addr = server.local_addr();
    let remote = server.remote();
    let handle = server.spawn().expect("spawn");
    assert_eq!(handle.local_addr(), addr);
    TestServer {
        addr,
        remote,
        handle,
    }
}

#[test]
fn fragmented_messages_and_websocket_pings() {
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    use tungstenite::protocol::frame::Frame;
    let server = start();
    let mut ws = joined(server.addr);
    let text = r#"42["message","in three parts"]"#.as_bytes();
    let parts = [&text[..5], &text[5..12], &text[12..]];
    for (i, part) in parts.iter().enumerate() {
        let op = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(part.to_vec(), op, i == parts.len() - 1);
        ws.write(Message::Frame(frame)).unwrap();
    }
    ws.flush().unwrap();
    assert_eq!(recv_text(&mut ws), r#"42["message-back","in three parts"]"#);
    ws.send(Message::Ping(vec![7, 7].into())).unwrap();
    loop {
        match ws.read().unwrap() {
            Message::Pong(p) => {
                assert_eq!(&p[..], &[7, 7]);
                break;
            }
            Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }
    server.shutdown();
}

#[test]
fn broadcast_reaches_every_client_and_rooms_filter() {
    let server = start();
    let addr = server.addr;
    let mut clients: Vec<Ws> = (0..5).map(|_| joined(addr)).collect();
    clients[2]
        .send(Message::text(r#"42["broadcast","to all"]"#))
        .unwrap();
    for ws in &mut clients {
        assert_eq!(recv_text(ws), r#"42["broadcast","to all"]"#);
    }
    // Rooms: 1 and 2 join "r"; 1 sends to the room except itself.
    for i in [1, 2] {
        clients[i].send(Message::text(r#"42["join","r"]"#)).unwrap();
        assert_echo(&mut clients[i], "sync");
    }
    clients[1]
        .send(Message::text(r#"42["to-room","hi"]"#))
        .unwrap();
    assert_eq!(recv_text(&mut clients[2]), r#"42["room-news","hi"]"#);
    for i in [0, 1] {
        // The echo comes first: no room news for client {i}.
        assert_echo(&mut clients[i], "x");
    }
    server.shutdown();
}

#[test]
fn holds_a_thousand_idle_connections() {
    // Joining 1,000 clients one after the other takes longer than the
    // 300 ms heartbeat of the other tests: a longer ping timeout here.
    let server = start_with(500, 10_000);
    let addr = server.addr;
    let mut clients: Vec<Ws> = (0..1000).map(|_| joined(addr)).collect();
    assert_eq!(server.connection_count(), 1000);
    // Idle for a few heartbeats: each client answers its pings.
    let end = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < end {
        for ws in &mut clients {
            ws.get_ref().set_nonblocking(true).unwrap();
            loop {
                match ws.read() {
                    Ok(Message::Text(t)) if t.as_str() == "2" => {
                        let _ = ws.send(Message::text("3"));
                    }
                    Ok(other) => panic!("unexpected {other:?}"),
                    Err(tungstenite::Error::Io(e))
                        if e.kind() == std::io::ErrorKind::WouldBlock =>
                    {
                        break
                    }
                    Err(e) => panic!("lost: {e}"),
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for ws in &mut clients {
        ws.get_ref().set_nonblocking(false).unwrap();
    }
    assert_eq!(server.connection_count(), 1000);
    for i in [0, 499, 999] {
        clients[i]
            .send(Message::text(format!(r#"42["message",{i}]"#)))
            .unwrap();
        assert_eq!(
            recv_text(&mut clients[i]),
            format!(r#"42["message-back",{i}]"#)
        );
    }
    drop(clients);
    server.shutdown();
}

#[test]
fn long_polling_handshake_connect_and_echo() {
    let server = start();
    let addr = server.addr;
    let open = http_get(addr, "/socket.io/?EIO=4&transport=polling", false);
    assert!(open.starts_with("HTTP/1.1 200"), "{open}");
    let body = open.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&body[1..]).expect("open packet");
    let sid = v["sid"].as_str().unwrap().to_owned();
    // One keep-alive connection: POST the CONNECT, then GET the answers.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let post = |s: &mut TcpStream, data: &str| {
        write!(
            s,
            "POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{data}",
            data.len()
        )
        .unwrap();
        let r = read_response(s);
        assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("ok"), "{r}");
    };
    let get = |s: &mut TcpStream| {
        write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        read_response(s)
    };
    post(&mut s, "40");
    let r = get(&mut s);
    assert!(
        r.contains("40{\"sid\":") && r.contains(r#"42["auth",{}]"#),
        "{r}"
    );
    post(&mut s, r#"42["message","polled"]"#);
    let r = get(&mut s);
    assert!(r.ends_with(r#"42["message-back","polled"]"#), "{r}");
    server.shutdown();
}

#[test]
fn remote_socket_emit_with_ack_from_another_thread() {
    let (tx, rx) = mpsc::channel::<RemoteSocket<()>>();
    let tx = Mutex::new(tx);
    let app = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            let remote = socket
                .remote_socket()
                .expect("the driver installs a remote");
            // On the loop thread, the blocking form would wait for itself.
            let refused = remote.emit_with_ack("never", (), Duration::from_secs(1));
            socket.emit("on-loop", json!(refused == Err(AckError::WouldDeadlock)));
            let _ = tx.lock().expect("sender").send(remote);
        }),
    );
    let server = start_app(300, 200, app);
    let mut ws = connect(server.addr, "EIO=4&transport=websocket");
    assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
    ws.send(Message::text("40")).unwrap();
    assert!(recv_text(&mut ws).starts_with("40{\"sid\":"));
    assert_eq!(recv_text(&mut ws), r#"42["on-loop",true]"#);
    let socket = rx.recv_timeout(Duration::from_secs(5)).expect("the socket");

    // Answered by the client.
    let asker = socket.clone();
    let asking = std::thread::spawn(move || {
        asker.emit_with_ack("question", json!({"n": 1}), Duration::from_secs(5))
    });
    let id = ack_id(&recv_text(&mut ws), r#"["question",{"n":1}]"#);
    ws.send(Message::text(format!(r#"43{id}["answer",2]"#)))
        .unwrap();
    let answer = asking.join().expect("asker").expect("acknowledged");
    assert_eq!(answer.values, vec![json!("answer"), json!(2)]);

    // Not answered: the timeout.
    let asker = socket.clone();
    let asking =
        std::thread::spawn(move || asker.emit_with_ack("ignored", (), Duration::from_millis(100)));
    ack_id(&recv_text(&mut ws), r#"["ignored"]"#);
    assert_eq!(asking.join().expect("asker"), Err(AckError::Timeout));

    // Once the server stopped, at once.
    server.shutdown();
    assert_eq!(
        socket.emit_with_ack("late", (), Duration::from_secs(5)),
        Err(AckError::ServerStopped)
    );
}

/// The ack id of an emit asking for one (`42<id><payload>`).
fn ack_id(text: &str, payload: &str) -> u64 {
    let rest = text.strip_prefix("42").expect("an event");
    let id = rest.strip_suffix(payload).expect("the payload");
    id.parse().unwrap_or_else(|_| panic!("no ack id in {text}"))
}

#[test]
fn remote_emits_from_a_worker_thread() {
    let server = start();
    let addr = server.addr;
    let mut clients: Vec<Ws> = (0..3).map(|_| joined(addr)).collect();
    let mut other_nsp = joined(addr);
    other_nsp.send(Message::text("40/custom")).unwrap();
    assert!(recv_text(&mut other_nsp).starts_with("40/custom,{\"sid\":"));
    assert_eq!(recv_text(&mut other_nsp), r#"42/custom,["auth",{}]"#);

    let remote = server.handle.remote();
    std::thread::spawn(move || remote.of("/").emit("news", json!({"from": "worker"})))
        .join()
        .expect("worker");
    for ws in clients.iter_mut().chain([&mut other_nsp]) {
        assert_eq!(recv_text(ws), r#"42["news",{"from":"worker"}]"#);
    }

    let remote = server.handle.remote();
    std::thread::spawn(move || remote.of("/custom").emit("custom-news", ()))
        .join()
        .expect("worker");
    assert_eq!(recv_text(&mut other_nsp), r#"42/custom,["custom-news"]"#);

    // A room, from the worker: only its member.
    clients[1].send(Message::text(r#"42["join","r"]"#)).unwrap();
    assert_echo(&mut clients[1], "sync");
    let remote = server.handle.remote();
    std::thread::spawn(move || remote.to("r").emit("room-only", "x"))
        .join()
        .expect("worker");
    assert_eq!(recv_text(&mut clients[1]), r#"42["room-only","x"]"#);
    for i in [0, 2] {
        // The echo comes first: no room news for client {i}.
        assert_echo(&mut clients[i], "y");
    }
    server.shutdown();
}

#[test]
fn run_serves_on_the_calling_thread_until_remote_shutdown() {
    let server = MioServer::builder()
        .bind("127.0.0.1:0", app())
        .expect("bind");
    let addr = server.local_addr();
    let remote = server.remote();
    let thread = std::thread::spawn(move || server.run());
    let mut ws = joined(addr);
    assert_echo(&mut ws, "on run");
    let started = std::time::Instant::now();
    remote.shutdown();
    thread.join().expect("loop thread").expect("loop result");
    assert!(started.elapsed() < Duration::from_secs(3));
    wait_closed(&mut ws);
    assert!(
        !remote.run(|_| {}),
        "commands are refused once the loop stopped"
    );
}

/// `GET /socket.io/1/` answers `sid:heartbeat:close:transports` (0.9).
fn legacy_handshake(addr: SocketAddr) -> String {
    let r = http_get(addr, "/socket.io/1/?t=1", false);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let parts: Vec<&str> = body(&r).split(':').collect();
    assert_eq!(parts.len(), 4, "{r}");
    assert!(!parts[0].is_empty(), "{r}");
    assert!(
        parts[1].parse::<u64>().is_ok() && parts[2].parse::<u64>().is_ok(),
        "{r}"
    );
    assert!(parts[3].split(',').any(|t| t == "websocket"), "{r}");
    assert!(parts[3].split(',').any(|t| t == "xhr-polling"), "{r}");
    parts[0].to_owned()
}

#[test]
fn legacy_09_handshake_websocket_and_polling() {
    let server = start();
    let addr = server.addr;
    let sid = legacy_handshake(addr);
    let mut ws = ws_at(addr, &format!("/socket.io/1/websocket/{sid}"));
    match ws.read().expect("a frame") {
        Message::Text(t) => assert_eq!(t.as_str(), "1::"),
        other => panic!("unexpected {other:?}"),
    }
    drop(ws);
    // xhr-polling: the first GET carries the connect packet.
    let sid = legacy_handshake(addr);
    let r = http_get(addr, &format!("/socket.io/1/xhr-polling/{sid}?t=2"), false);
    assert!(
        r.starts_with("HTTP/1.1 200") && body(&r).starts_with("1::"),
        "{r}"
    );
    // An unknown sid is refused without a session.
    let r = http_get(addr, "/socket.io/1/websocket/nope", true);
    assert!(
        r.starts_with("HTTP/1.1 400") || r.starts_with("HTTP/1.1 404"),
        "{r}"
    );
    server.shutdown();
}

#[test]
fn bare_engine_io_websocket_opens_at_the_engine_path() {
    let server = start();
    let mut ws = ws_at(server.addr, "/engine.io/?EIO=4&transport=websocket");
    let open = recv_text(&mut ws);
    assert!(open.starts_with("0{\"sid\":"), "{open}");
    let r = http_get(server.addr, "/engine.io/?EIO=4&transport=polling", false);
    assert!(
        r.starts_with("HTTP/1.1 200") && body(&r).starts_with("0{\"sid\":"),
        "{r}"
    );
    server.shutdown();
}

#[test]
fn websocket_handshake_refusals_create_no_session() {
    let server = start();
    let addr = server.addr;
    let target = "/socket.io/?EIO=4&transport=websocket";
    let upgrade = |headers: &str| {
        http(
            addr,
            &format!("GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n{headers}\r\n"),
        )
    };
    let good_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for (name, headers) in [
        (
            "bad key",
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not-base64!\r\n"
                .to_owned(),
        ),
        (
            "15-byte key",
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n"
                .to_owned(),
        ),
        (
            "no key",
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n".to_owned(),
        ),
        (
            "version 8",
            format!("Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n{good_key}"),
        ),
        (
            "no Connection upgrade",
            format!("Connection: keep-alive\r\nSec-WebSocket-Version: 13\r\n{good_key}"),
        ),
    ] {
        let r = upgrade(&headers);
        assert!(r.starts_with("HTTP/1.1 400"), "{name}: {r}");
        if name == "version 8" {
            assert!(r.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{r}");
        }
    }
    assert_eq!(server.connection_count(), 0, "no session for a refusal");
    // The server keeps serving others.
    let mut ws = joined(addr);
    assert_echo(&mut ws, "still here");
    server.shutdown();
}

#[test]
fn serves_static_files_beside_socketio() {
    let dir = std::env::temp_dir().join(format!("sio-mio-static-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<p>chat</p>").unwrap();
    let server = MioServer::builder()
        .serve_static(&dir)
        .bind("127.0.0.1:0", app())
        .expect("bind");
    let addr = server.local_addr();
    let handle = server.spawn().expect("spawn");
    let index = http_get(addr, "/", false);
    assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
    assert!(index.ends_with("<p>chat</p>"), "{index}");
    assert!(http_get(addr, "/missing.js", false).starts_with("HTTP/1.1 404"));
    let traversal = http_get(addr, "/%2e%2e/etc/passwd", false);
    assert!(traversal.starts_with("HTTP/1.1 400"), "{traversal}");
    let post = http(
        addr,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    let open = http_get(addr, "/socket.io/?EIO=4&transport=polling", false);
    assert!(open.starts_with("HTTP/1.1 200"), "{open}");
    assert!(MioServer::builder()
        .serve_static(dir.join("missing"))
        .bind("127.0.0.1:0", app())
        .is_err());
    handle.shutdown().expect("loop result");
    let _ = std::fs::remove_dir_all(dir);
}
