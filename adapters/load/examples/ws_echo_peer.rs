//! The floor: a raw WebSocket echo peer on one mio loop with the shared
//! frame codec (`socketio_http::ws`) and handshake (`socketio_http::websocket`),
//! and no Socket.IO. It answers the text frames the load generator sends
//! by rewriting bytes, without parsing JSON or keeping sessions:
//!
//! * the WebSocket opens → a canned Engine.IO open packet;
//! * `40` / `40/nsp,` → `40{"sid":"floor"}` / `40/nsp,{"sid":"floor"}`;
//! * `42["message",…` → `42["message-back",…`;
//! * `42<id>["message-with-ack",…` → `43<id>[…`;
//! * `42["broadcast",…` → the same frame to every connection, encoded once.
//!
//! What the echo-64 and fanout-1k cases cost on it is the cost of the loop,
//! the system calls and the framing alone; the side-by-side table reports
//! our servers' CPU per operation as a ratio over it.
//!
//! `cargo run --release -p socketio-load --example ws_echo_peer -- --port PORT`

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use socketio_http::{parse_head, websocket, ws, Parsed};

const LISTENER: Token = Token(0);
const OPEN: &str = r#"0{"sid":"floor","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const MAX_PAYLOAD: usize = 1_000_000;

struct Conn {
    stream: TcpStream,
    open: bool,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    writable_interest: bool,
}

fn main() -> io::Result<()> {
    let mut port = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--port", Some(p)) => port = p.parse::<u16>().ok(),
            // The conformance CLI's other flags are accepted and ignored.
            ("--ping-interval" | "--ping-timeout", Some(_)) => {}
            _ => {
                eprintln!("usage: ws_echo_peer --port PORT");
                std::process::exit(2)
            }
        }
    }
    let Some(port) = port else {
        eprintln!("usage: ws_echo_peer --port PORT");
        std::process::exit(2)
    };
    let mut listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!("ws_echo_peer: listening on 127.0.0.1:{port}");
    let mut conns: HashMap<usize, Conn> = HashMap::new();
    let mut next = 1usize;
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0u8; 64 * 1024];
    let mut dirty: Vec<usize> = Vec::new();
    let mut broadcasts: Vec<Vec<u8>> = Vec::new();
    loop {
        match poll.poll(&mut events, Some(Duration::from_secs(1))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                // Bounded: at most 1024 accepts per event.
                for _ in 0..1024 {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            let t = next;
                            next += 1;
                            poll.registry()
                                .register(&mut stream, Token(t), Interest::READABLE)?;
                            conns.insert(
                                t,
                                Conn {
                                    stream,
                                    open: false,
                                    rbuf: Vec::new(),
                                    wbuf: Vec::new(),
                                    writable_interest: false,
                                },
                            );
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    }
                }
                continue;
            }
            let t = event.token().0;
            let Some(conn) = conns.get_mut(&t) else {
                continue;
            };
            let mut closed = false;
            for _ in 0..16 {
                match conn.stream.read(&mut scratch) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => {
                        conn.rbuf.extend_from_slice(&scratch[..n]);
                        if n < scratch.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
            if !closed && handle(conn, &mut broadcasts).is_err() {
                closed = true;
            }
            if closed {
                if let Some(mut c) = conns.remove(&t) {
                    let _ = poll.registry().deregister(&mut c.stream);
                }
                continue;
            }
            if !conn.wbuf.is_empty() || event.is_writable() {
                dirty.push(t);
            }
        }
        for frame in broadcasts.drain(..) {
            for (&t, conn) in conns.iter_mut() {
                if conn.open {
                    conn.wbuf.extend_from_slice(&frame);
                    dirty.push(t);
                }
            }
        }
        dirty.sort_unstable();
        dirty.dedup();
        for t in dirty.drain(..) {
            let Some(conn) = conns.get_mut(&t) else {
                continue;
            };
            if flush(conn).is_err() {
                if let Some(mut c) = conns.remove(&t) {
                    let _ = poll.registry().deregister(&mut c.stream);
                }
                continue;
            }
            let want = !conn.wbuf.is_empty();
            if want != conn.writable_interest {
                conn.writable_interest = want;
                let interest = if want {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                poll.registry()
                    .reregister(&mut conn.stream, Token(t), interest)?;
            }
        }
    }
}

fn flush(conn: &mut Conn) -> io::Result<()> {
    let mut at = 0;
    while at < conn.wbuf.len() {
        match conn.stream.write(&conn.wbuf[at..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    conn.wbuf.drain(..at);
    Ok(())
}

/// Handles what `conn` has read; `Err` closes it.
fn handle(conn: &mut Conn, broadcasts: &mut Vec<Vec<u8>>) -> Result<(), ()> {
    let mut pos = 0;
    if !conn.open {
        match parse_head(&conn.rbuf) {
            Parsed::Partial => return Ok(()),
            Parsed::Complete(head, used) => {
                let accept = websocket::validate(&head).map_err(|_| ())?;
                websocket::put_switching_protocols(&mut conn.wbuf, &accept);
                ws::put_frame(&mut conn.wbuf, ws::OP_TEXT, OPEN.as_bytes());
                conn.open = true;
                pos = used;
            }
            Parsed::TooLarge | Parsed::Malformed => return Err(()),
        }
    }
    loop {
        let (opcode, text, used) = match ws::parse_frame(&mut conn.rbuf[pos..], MAX_PAYLOAD) {
            Ok(None) => break,
            Err(_) => return Err(()),
            // Fragmented messages are not part of the floor.
            Ok(Some((f, _))) if !f.fin => return Err(()),
            Ok(Some((f, used))) => (
                f.opcode,
                std::str::from_utf8(f.payload).map(str::to_owned),
                used,
            ),
        };
        pos += used;
        match opcode {
            ws::OP_TEXT => {
                let text = text.map_err(|_| ())?;
                if let Some(reply) = answer(&text, broadcasts) {
                    ws::put_frame(&mut conn.wbuf, ws::OP_TEXT, reply.as_bytes());
                }
            }
            ws::OP_CLOSE => return Err(()),
            ws::OP_PING => ws::put_frame(&mut conn.wbuf, ws::OP_PONG, &[]),
            _ => {}
        }
    }
    conn.rbuf.drain(..pos);
    Ok(())
}

/// The canned answer to one text message, if any; broadcasts are queued.
fn answer(text: &str, broadcasts: &mut Vec<Vec<u8>>) -> Option<String> {
    if let Some(rest) = text.strip_prefix("40") {
        // `40`, `40{auth}`, `40/nsp,` or `40/nsp,{auth}`
        let nsp = match rest.find(',') {
            Some(i) if rest.starts_with('/') => &rest[..=i],
            _ => "",
        };
        return Some(format!("40{nsp}{{\"sid\":\"floor\"}}"));
    }
    let body = text.strip_prefix("42")?;
    let bracket = body.find('[')?;
    let (prefix, args) = body.split_at(bracket);
    let (nsp, id) = match prefix.rfind(',') {
        Some(i) => prefix.split_at(i + 1),
        None => ("", prefix),
    };
    if let Some(rest) = args.strip_prefix(r#"["message","#) {
        return Some(format!(r#"42{nsp}["message-back",{rest}"#));
    }
    if let Some(rest) = args.strip_prefix(r#"["message-with-ack","#) {
        return Some(format!("43{nsp}{id}[{rest}"));
    }
    if args.starts_with(r#"["broadcast","#) {
        let mut frame = Vec::with_capacity(text.len() + 10);
        ws::put_frame(&mut frame, ws::OP_TEXT, text.as_bytes());
        broadcasts.push(frame);
    }
    None
}
