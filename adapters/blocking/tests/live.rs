//! The adapter on real sockets (127.0.0.1), driven by a tungstenite
//! client (`socketio_apps::testing`): what is particular to this driver,
//! the v3 and bare Engine.IO exchanges, rooms, typed socket data, other
//! threads reaching the application through `Remote` (blocking
//! acknowledgements included). The scenarios both drivers pass alike
//! (handshake rejections, the conformance exchange, malformed input,
//! connect middlewares, shutdown) are in socketio-apps' `tests/live.rs`.

use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use socketio_apps::testing::{assert_echo, connect, http_get, joined, recv_text, ws_at};
use socketio_blocking::app::{AckError, App, ConnectError, Namespace, RemoteSocket, Socket};
use socketio_blocking::{ServerHandle, SocketIo};
use tungstenite::Message;

/// The conformance behaviour on `/` and `/custom`; a client whose auth has
/// `deny` is refused with a message and data.
fn namespace() -> Namespace<()> {
    Namespace::new()
        .use_middleware(|c| match c.auth().get("deny") {
            Some(_) => Err(ConnectError::new("denied").with_data(json!({"why": "asked"}))),
            None => Ok(()),
        })
        .on_connection(conformance)
}

fn conformance(socket: &mut Socket<'_, ()>) {
    let auth = socket.auth().clone();
    socket.emit("auth", auth);
    socket.on("message", |s, args, _| s.emit("message-back", args));
    socket.on("message-with-ack", |s, args, ack| {
        if let Some(ack) = ack {
            ack.send(s, args)
        }
    });
    socket.on("join", |s, args, _| {
        if let Some(room) = args.values.first().and_then(|v| v.as_str()) {
            s.join(room)
        }
    });
    socket.on("to-room", |s, args, _| s.to("r").emit("room-news", args));
}

fn start_with(app: App) -> ServerHandle {
    SocketIo::builder()
        .config(|c| {
            c.ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200))
                .engine_path("/engine.io/")
        })
        .bind("127.0.0.1:0", app)
        .expect("bind")
}

fn start() -> ServerHandle {
    start_with(
        App::new()
            .ns("/", namespace())
            .ns("/custom", namespace())
            .engine_io(|socket, data| socket.send(data)),
    )
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
    assert_echo(&mut b, "sync");
    assert_echo(&mut c, "sync");
    // `socket.to("r")` excludes the sender.
    b.send(Message::text(r#"42["to-room","hi"]"#)).unwrap();
    assert_eq!(recv_text(&mut c), r#"42["room-news","hi"]"#);
    // The echo comes first: no room news for a.
    assert_echo(&mut a, "a");
    // The echo comes first: no room news for the sender.
    assert_echo(&mut b, "b");
    server.shutdown();
}

#[test]
fn bare_engine_io_echo_beside_socketio() {
    let server = start();
    let addr = server.local_addr();
    let mut ws = ws_at(addr, "/engine.io/?EIO=4&transport=websocket");
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

/// An application that hands every socket of `/` to the test thread (as
/// a worker would get it), beside the conformance behaviour.
fn start_handing_out_sockets() -> (ServerHandle, mpsc::Receiver<RemoteSocket<()>>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let app = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            conformance(socket);
            let remote = socket
                .remote_socket()
                .expect("the driver installs a remote");
            let _ = tx.lock().unwrap().send(remote);
        }),
    );
    (start_with(app), rx)
}

/// The ack id of an event frame asking for one: `42<id>[...]`.
fn ack_id(frame: &str) -> u64 {
    let rest = frame.strip_prefix("42").expect("an event frame");
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .expect("the frame asks for an acknowledgement")
}

#[test]
fn typed_socket_data_set_by_a_middleware_reaches_the_handlers() {
    #[derive(Default)]
    struct User {
        name: String,
    }
    let app = App::<User>::new().ns(
        "/",
        Namespace::<User>::new()
            .use_middleware(|c| {
                let name = c.auth()["name"].as_str().unwrap_or("anonymous").to_owned();
                c.data_mut().name = name;
                Ok(())
            })
            .on_connection(|socket| {
                socket.on("whoami", |s, _, ack| {
                    let name = s.data().name.clone();
                    if let Some(ack) = ack {
                        ack.send(s, name.as_str());
                    }
                });
            }),
    );
    let server = SocketIo::builder().bind("127.0.0.1:0", app).expect("bind");
    let mut ws = connect(server.local_addr(), "EIO=4&transport=websocket");
    assert!(recv_text(&mut ws).starts_with("0{\"sid\":"));
    ws.send(Message::text(r#"40{"name":"ada"}"#)).unwrap();
    assert!(recv_text(&mut ws).starts_with("40{\"sid\":"));
    ws.send(Message::text(r#"427["whoami"]"#)).unwrap();
    assert_eq!(recv_text(&mut ws), r#"437["ada"]"#);
    server.shutdown();
}

#[test]
fn blocking_emit_with_ack_from_another_thread() {
    let (server, sockets) = start_handing_out_sockets();
    let mut ws = joined(server.local_addr());
    let remote = sockets.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(remote.nsp(), "/");

    // Answered by the client.
    let worker = {
        let remote = remote.clone();
        std::thread::spawn(move || {
            remote.emit_with_ack("question", json!({"q": 1}), Duration::from_secs(5))
        })
    };
    let frame = recv_text(&mut ws);
    let id = ack_id(&frame);
    assert_eq!(frame, format!(r#"42{id}["question",{{"q":1}}]"#));
    ws.send(Message::text(format!(r#"43{id}["yes",2]"#)))
        .unwrap();
    let answer = worker.join().unwrap().expect("acknowledged");
    assert_eq!(answer.values, vec![json!("yes"), json!(2)]);

    // Not answered: the timeout.
    let worker = {
        let remote = remote.clone();
        std::thread::spawn(move || remote.emit_with_ack("question", (), Duration::from_millis(200)))
    };
    let frame = recv_text(&mut ws);
    assert_eq!(frame, format!(r#"42{}["question"]"#, ack_id(&frame)));
    assert_eq!(worker.join().unwrap(), Err(AckError::Timeout));

    // The worker's other operations apply in order.
    remote.join("worker-room");
    remote.emit("note", "from a worker");
    assert_eq!(recv_text(&mut ws), r#"42["note","from a worker"]"#);
    server.remote().to("worker-room").emit("room-note", ());
    assert_eq!(recv_text(&mut ws), r#"42["room-note"]"#);
    server.shutdown();
}

#[test]
fn blocking_emit_with_ack_in_a_handler_would_deadlock() {
    let app = App::new().ns(
        "/",
        Namespace::new().on_connection(|socket| {
            conformance(socket);
            socket.on("deadlock", |s, _, _| {
                let one = s
                    .remote_socket()
                    .expect("the driver installs a remote")
                    .emit_with_ack("never", (), Duration::from_secs(1));
                let all = s
                    .remote()
                    .expect("the driver installs a remote")
                    .of("/")
                    .emit_with_ack("never", ());
                let one = one == Err(AckError::WouldDeadlock);
                let all = matches!(all, Err(AckError::WouldDeadlock));
                s.emit("deadlock-result", vec![json!(one), json!(all)]);
            });
        }),
    );
    let server = start_with(app);
    let mut ws = joined(server.local_addr());
    let started = Instant::now();
    ws.send(Message::text(r#"42["deadlock"]"#)).unwrap();
    assert_eq!(recv_text(&mut ws), r#"42["deadlock-result",true,true]"#);
    assert!(started.elapsed() < Duration::from_secs(1));
    // Nothing was sent ("never" would come before this echo) and the
    // driver still runs.
    assert_echo(&mut ws, "still here");
    server.shutdown();
}

#[test]
fn remote_broadcasts_from_worker_threads() {
    let app = App::new()
        .ns(
            "/",
            Namespace::new().on_connection(|socket| {
                conformance(socket);
                socket.on("spawn-broadcast", |s, args, _| {
                    let remote = s.remote().expect("the driver installs a remote");
                    std::thread::spawn(move || remote.of("/").emit("from-worker", args));
                });
            }),
        )
        .ns("/custom", namespace());
    let server = start_with(app);
    let addr = server.local_addr();
    let mut a = joined(addr);
    let mut b = joined(addr);
    // A socket of /custom on its own connection hears nothing of /.
    let mut c = connect(addr, "EIO=4&transport=websocket");
    assert!(recv_text(&mut c).starts_with("0{\"sid\":"));
    c.send(Message::text("40/custom,")).unwrap();
    assert!(recv_text(&mut c).starts_with("40/custom,{\"sid\":"));
    assert_eq!(recv_text(&mut c), r#"42/custom,["auth",{}]"#);

    a.send(Message::text(r#"42["spawn-broadcast",7]"#)).unwrap();
    assert_eq!(recv_text(&mut a), r#"42["from-worker",7]"#);
    assert_eq!(recv_text(&mut b), r#"42["from-worker",7]"#);
    // From the test thread, a worker too.
    let remote = server.remote();
    std::thread::spawn(move || remote.of("/").emit("from-main", "hi"))
        .join()
        .unwrap();
    assert_eq!(recv_text(&mut a), r#"42["from-main","hi"]"#);
    assert_eq!(recv_text(&mut b), r#"42["from-main","hi"]"#);
    c.send(Message::text(r#"42/custom,["message","custom"]"#))
        .unwrap();
    assert_eq!(recv_text(&mut c), r#"42/custom,["message-back","custom"]"#);
    server.shutdown();
}

#[test]
fn shutdown_resolves_a_pending_blocking_ack() {
    let (server, sockets) = start_handing_out_sockets();
    let mut ws = joined(server.local_addr());
    let remote = sockets.recv_timeout(Duration::from_secs(5)).unwrap();
    let worker = {
        let remote = remote.clone();
        std::thread::spawn(move || remote.emit_with_ack("question", (), Duration::from_secs(30)))
    };
    // The question is out (so the wait is registered); it is never answered.
    let frame = recv_text(&mut ws);
    assert_eq!(frame, format!(r#"42{}["question"]"#, ack_id(&frame)));
    let started = Instant::now();
    server.shutdown();
    let result = worker.join().unwrap();
    assert!(
        matches!(
            result,
            Err(AckError::ServerStopped) | Err(AckError::Disconnected)
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // Once stopped, a blocking emit answers at once.
    assert_eq!(
        remote.emit_with_ack("question", (), Duration::from_secs(30)),
        Err(AckError::ServerStopped)
    );
}

/// The driver's own WebSocket reader, on a small reader stack: a message
/// in three fragments (a ping between them), the pong the driver writes,
/// and the peer's close code echoed before the socket closes.
#[test]
fn fragments_pings_and_the_peer_close_on_a_small_reader_stack() {
    use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
    use tungstenite::protocol::frame::Frame;
    use tungstenite::protocol::CloseFrame;

    let server = SocketIo::builder()
        .driver(|t| t.websocket_stack_size(32 * 1024))
        .bind("127.0.0.1:0", App::new().ns("/", namespace()))
        .expect("bind");
    let mut ws = joined(server.local_addr());
    let parts = [
        (r#"42["message","#, OpCode::Data(Data::Text), false),
        (r#""in pieces""#, OpCode::Data(Data::Continue), false),
        ("]", OpCode::Data(Data::Continue), true),
    ];
    for (i, (part, opcode, fin)) in parts.into_iter().enumerate() {
        ws.send(Message::Frame(Frame::message(part, opcode, fin)))
            .unwrap();
        if i == 1 {
            ws.send(Message::Ping("between".into())).unwrap();
        }
    }
    // The pong first (written in the turn that read the ping), then the
    // echo of the whole message.
    loop {
        match ws.read().expect("a frame") {
            Message::Pong(p) => {
                assert_eq!(&p[..], b"between");
                break;
            }
            Message::Text(t) if t.as_str() == "2" => ws.send(Message::text("3")).unwrap(),
            other => panic!("expected the pong, got {other:?}"),
        }
    }
    assert_eq!(recv_text(&mut ws), r#"42["message-back","in pieces"]"#);
    ws.close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    }))
    .unwrap();
    let echoed = loop {
        match ws.read() {
            Ok(Message::Close(c)) => break c,
            Ok(_) => continue,
            Err(e) => panic!("no close frame back: {e}"),
        }
    };
    assert_eq!(echoed.map(|c| c.code), Some(CloseCode::Away));
    server.shutdown();
}

/// A WebSocket client on raw frames (no automatic close answer), to see
/// when the server shuts TCP down.
struct RawWs {
    s: std::net::TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    fn open(addr: std::net::SocketAddr, target: &str) -> RawWs {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
        let mut ws = RawWs { s, buf: Vec::new() };
        let at = loop {
            if let Some(at) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(ws.fill().expect("read") > 0, "eof in the 101");
        };
        assert!(ws.buf.starts_with(b"HTTP/1.1 101"));
        ws.buf.drain(..at);
        ws
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        use std::io::Read;
        let mut chunk = [0u8; 64 * 1024];
        let n = self.s.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next frame's opcode and payload (`None`: EOF).
    fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        use socketio_http::ws;
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
        use std::io::Write;
        let mut out = Vec::new();
        socketio_http::ws::put_masked_frame(&mut out, true, opcode, [1, 2, 3, 4], payload);
        self.s.write_all(&out).unwrap();
    }

    /// True if the server shuts TCP down within `within` (nothing else
    /// comes).
    fn eof_within(&mut self, within: Duration) -> bool {
        use std::io::{ErrorKind, Read};
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

/// A raw session of the flooding application, joined to `/`.
fn flood_session(addr: std::net::SocketAddr) -> RawWs {
    use socketio_http::ws;
    let mut ws = RawWs::open(addr, "/socket.io/?EIO=4&transport=websocket");
    let (_, open) = ws.frame().expect("open packet");
    assert!(open.starts_with(b"0{"));
    ws.send(ws::OP_TEXT, b"40");
    let (_, connected) = ws.frame().expect("connect packet");
    assert!(connected.starts_with(b"40{"));
    ws
}

/// Our close frame written by a writer thread (the client did not read
/// while the server sent more than the socket holds, but less than the
/// write window more): once the writer has written it, the socket stays
/// open until the client's close frame, then closes at once. A probe
/// first measures what the socket holds: a client that does not read at
/// all gets EOF once the window overflows, without a close frame.
#[test]
fn a_close_behind_a_backlog_waits_for_the_clients_close_frame() {
    use socketio_http::ws;
    const FRAME: usize = 64 * 1024;
    let big = "x".repeat(FRAME);
    let app = App::<()>::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| {
            let big = big.clone();
            // `["flood", n]`: n frames of 64 KiB, then the server closes.
            socket.on("flood", move |s, args, _| {
                let n = args.values.first().and_then(|v| v.as_u64()).unwrap_or(0);
                for _ in 0..n {
                    s.emit("big", big.as_str());
                }
                s.close();
            });
        }),
    );
    let server = SocketIo::builder()
        .config(|c| c.max_outbound_bytes(64 * 1024 * 1024))
        .ws_close_timeout(Duration::from_secs(3))
        .bind("127.0.0.1:0", app)
        .expect("bind");
    // The probe: 16 MB to a client that reads only once it is cut off.
    let mut probe = flood_session(server.local_addr());
    probe.send(ws::OP_TEXT, br#"42["flood",256]"#);
    std::thread::sleep(Duration::from_millis(500));
    let mut held = probe.buf.len();
    loop {
        probe.buf.clear();
        match probe.fill() {
            Ok(0) | Err(_) => break,
            Ok(n) => held += n,
        }
    }
    assert!(
        held < 256 * FRAME,
        "the whole flood came ({held} B): no backlog to test"
    );
    // What the socket holds, and about 128 KiB more for a writer.
    let frames = held / FRAME + 2;
    let mut ws = flood_session(server.local_addr());
    ws.send(ws::OP_TEXT, format!(r#"42["flood",{frames}]"#).as_bytes());
    // Not reading: the socket fills up and a writer takes the rest.
    std::thread::sleep(Duration::from_millis(300));
    let mut got = 0;
    loop {
        match ws.frame().expect("the close frame before EOF") {
            (ws::OP_TEXT, t) if t.starts_with(br#"42["big","#) => got += 1,
            (ws::OP_TEXT, t) if t == b"41" => {} // the disconnect packet
            (ws::OP_CLOSE, _) => break,
            (op, t) => panic!("unexpected frame {op}: {:?}", String::from_utf8_lossy(&t)),
        }
    }
    assert_eq!(got, frames);
    assert!(
        !ws.eof_within(Duration::from_millis(500)),
        "closed before the client's close"
    );
    ws.send(ws::OP_CLOSE, &1000u16.to_be_bytes());
    let answered = Instant::now();
    assert!(ws.eof_within(Duration::from_secs(5)));
    assert!(
        answered.elapsed() < Duration::from_millis(900),
        "{:?}",
        answered.elapsed()
    );
    server.shutdown();
}
