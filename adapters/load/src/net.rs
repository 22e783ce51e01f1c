//! The I/O of one load thread: many [`Client`]s on one [`mio::Poll`].
//!
//! Each client asks for WebSockets and HTTP requests
//! ([`ClientTransmit`]); this module opens the TCP connections, writes the
//! WebSocket handshake and masked client frames (the shared
//! `socketio_http::ws` codec, masks from a seeded generator), sends
//! minimal HTTP/1.1 keep-alive requests (up to [`MAX_HTTP_PER_CLIENT`]
//! connections per client, more requests wait in a queue), and reports
//! what happened back to the client. Timers come from
//! [`Client::poll_timeout`], kept in one heap per thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socketio_http::ws;
use socketio_sansio::client::{Client, ClientEvent, ClientTransmit, TransportId};
use socketio_sansio::Frame;
use socketio_sansio::{Method, RequestId};

/// The token of the thread's [`mio::Waker`].
pub const WAKE: Token = Token(usize::MAX);

/// HTTP connections one client may hold at once (a long-poll `GET`, a
/// `POST`, and one spare during the upgrade).
pub const MAX_HTTP_PER_CLIENT: usize = 3;

/// Largest inbound frame or HTTP body accepted (the servers' `maxPayload`).
const MAX_PAYLOAD: usize = 2_000_000;

/// `EINPROGRESS` on Linux (a nonblocking connect under way).
const EINPROGRESS: i32 = 115;

/// Reads per readable event before the loop moves on (fairness, bounds).
const MAX_READS: usize = 16;

/// The Sec-WebSocket-Key of every handshake (any 16 bytes base64 will do;
/// the generator does not check the accept key, only the 101).
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

struct Conn {
    client: Client,
    /// The client's WebSockets: transport id → socket slot.
    ws: Vec<(TransportId, usize)>,
    /// This client's HTTP connections (socket slots).
    http: Vec<usize>,
    /// Requests waiting for a free HTTP connection.
    queue: VecDeque<(RequestId, Vec<u8>)>,
    touched: bool,
    deadline: Option<Instant>,
}

enum Kind {
    Ws {
        transport: TransportId,
        open: bool,
        /// A fragmented message being assembled: opcode and bytes.
        frag: Option<(u8, Vec<u8>)>,
    },
    Http {
        busy: Option<RequestId>,
    },
}

struct Sock {
    stream: TcpStream,
    conn: usize,
    kind: Kind,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    connected: bool,
    want_write: bool,
    dirty: bool,
}

/// The connections, sockets and timers of one thread.
pub struct Net {
    poll: Poll,
    addr: SocketAddr,
    host: String,
    conns: Vec<Conn>,
    socks: Vec<Option<Sock>>,
    free: Vec<usize>,
    touched: Vec<usize>,
    dirty: Vec<usize>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    rng: u64,
    scratch: Vec<u8>,
    /// Source addresses to spread the connections over (127.0.0.x), used
    /// round-robin; empty: the kernel picks (one address's ephemeral ports).
    sources: Vec<std::net::IpAddr>,
    next_source: usize,
    /// I/O failures seen (refused connections, resets, bad responses).
    pub io_errors: Vec<String>,
}

impl Net {
    /// A thread's network towards `addr`; `seed` drives the masks.
    pub fn new(addr: SocketAddr, seed: u64) -> io::Result<Net> {
        Ok(Net {
            poll: Poll::new()?,
            host: addr.to_string(),
            addr,
            conns: Vec::new(),
            socks: Vec::new(),
            free: Vec::new(),
            touched: Vec::new(),
            dirty: Vec::new(),
            timers: BinaryHeap::new(),
            rng: seed | 1,
            scratch: vec![0; 64 * 1024],
            sources: Vec::new(),
            next_source: 0,
            io_errors: Vec::new(),
        })
    }

    /// Binds the connections to these source addresses, round-robin from
    /// the `start`th (more connections than one address has ephemeral
    /// ports towards the server); empty: no bind.
    pub fn set_sources(&mut self, sources: Vec<std::net::IpAddr>, start: usize) {
        self.next_source = start;
        self.sources = sources;
    }

    /// A nonblocking connect, from the next source address if there are any.
    fn connect(&mut self) -> io::Result<TcpStream> {
        if self.sources.is_empty() {
            return TcpStream::connect(self.addr);
        }
        let source = self.sources[self.next_source % self.sources.len()];
        self.next_source = self.next_source.wrapping_add(1);
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(self.addr),
            socket2::Type::STREAM,
            None,
        )?;
        socket.set_nonblocking(true)?;
        socket.bind(&SocketAddr::new(source, 0).into())?;
        match socket.connect(&self.addr.into()) {
            Ok(()) => {}
            // EINPROGRESS: the nonblocking connect goes on.
            Err(e) if e.raw_os_error() == Some(EINPROGRESS) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        Ok(TcpStream::from_std(socket.into()))
    }

    /// The poll, to create a [`mio::Waker`] on [`WAKE`].
    pub fn poll(&self) -> &Poll {
        &self.poll
    }

    /// Adds a client (not connected yet); returns its index.
    pub fn add(&mut self, client: Client) -> usize {
        self.conns.push(Conn {
            client,
            ws: Vec::new(),
            http: Vec::new(),
            queue: VecDeque::new(),
            touched: false,
            deadline: None,
        });
        self.conns.len() - 1
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// True without clients.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// The client `i`, marked for output processing.
    pub fn client(&mut self, i: usize) -> &mut Client {
        self.touch(i);
        &mut self.conns[i].client
    }

    fn touch(&mut self, i: usize) {
        if !self.conns[i].touched {
            self.conns[i].touched = true;
            self.touched.push(i);
        }
    }

    /// Waits for I/O at most until `until`, then handles it and the due
    /// timers.
    pub fn turn(&mut self, events: &mut Events, until: Instant) -> io::Result<()> {
        let now = Instant::now();
        let mut wait = until.saturating_duration_since(now);
        if let Some(Reverse((at, _))) = self.timers.peek() {
            wait = wait.min(at.saturating_duration_since(now));
        }
        match self.poll.poll(events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        for event in events.iter() {
            if event.token() == WAKE {
                continue;
            }
            self.on_ready(
                event.token().0,
                event.is_readable() || event.is_read_closed() || event.is_error(),
                event.is_writable(),
                now,
            );
        }
        let mut due = 0usize;
        while let Some(&Reverse((at, i))) = self.timers.peek() {
            if at > now || due > 100_000 {
                break;
            }
            self.timers.pop();
            due += 1;
            if self.conns[i].deadline == Some(at) {
                self.conns[i].deadline = None;
                self.conns[i].client.handle_timeout(now);
                self.touch(i);
            }
        }
        Ok(())
    }

    /// Processes the clients touched since the last call: performs their
    /// output, hands each event to `on_event` (which may touch clients
    /// again), re-arms their timers; then writes what was queued.
    pub fn process(
        &mut self,
        now: Instant,
        mut on_event: impl FnMut(&mut Net, usize, ClientEvent),
    ) {
        // Bounded: every round does I/O bookkeeping only; a client cannot
        // produce events forever without input.
        for _ in 0..1_000_000 {
            let Some(i) = self.touched.pop() else { break };
            self.conns[i].touched = false;
            self.pump(i, now);
            while let Some(event) = self.conns[i].client.poll_event() {
                on_event(self, i, event);
            }
            let deadline = self.conns[i].client.poll_timeout();
            if deadline != self.conns[i].deadline {
                self.conns[i].deadline = deadline;
                if let Some(at) = deadline {
                    self.timers.push(Reverse((at, i)));
                }
            }
        }
        while let Some(s) = self.dirty.pop() {
            if let Some(sock) = self.socks[s].as_mut() {
                sock.dirty = false;
            }
            self.flush(s, now);
        }
    }

    fn mask(&mut self) -> [u8; 4] {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng as u32).to_ne_bytes()
    }

    fn open_socket(&mut self, conn: usize, kind: Kind) -> Option<usize> {
        let mut stream = match self.connect() {
            Ok(s) => s,
            Err(e) => {
                self.io_errors.push(format!("connect: {}", e.kind()));
                return None;
            }
        };
        let _ = stream.set_nodelay(true);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.socks.push(None);
            self.socks.len() - 1
        });
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            Token(slot),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.io_errors.push(format!("register: {}", e.kind()));
            self.free.push(slot);
            return None;
        }
        self.socks[slot] = Some(Sock {
            stream,
            conn,
            kind,
            rbuf: Vec::new(),
            wbuf: Vec::new(),
            connected: false,
            want_write: true,
            dirty: false,
        });
        Some(slot)
    }

    fn mark_dirty(&mut self, s: usize) {
        if let Some(sock) = self.socks[s].as_mut() {
            if !sock.dirty {
                sock.dirty = true;
                self.dirty.push(s);
            }
        }
    }

    /// Performs the client's pending transmits.
    fn pump(&mut self, i: usize, now: Instant) {
        for _ in 0..100_000 {
            let Some(t) = self.conns[i].client.poll_transmit() else {
                return;
            };
            match t {
                ClientTransmit::OpenWebSocket {
                    transport,
                    url,
                    headers,
                } => {
                    let kind = Kind::Ws {
                        transport,
                        open: false,
                        frag: None,
                    };
                    let Some(s) = self.open_socket(i, kind) else {
                        self.conns[i].client.handle_ws_closed(now, transport);
                        continue;
                    };
                    let mut req = format!(
                        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                         Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n",
                        path_of(&url),
                        self.host
                    );
                    for (k, v) in headers {
                        req.push_str(&format!("{k}: {v}\r\n"));
                    }
                    req.push_str("\r\n");
                    if let Some(sock) = self.socks[s].as_mut() {
                        sock.wbuf.extend_from_slice(req.as_bytes());
                    }
                    self.conns[i].ws.push((transport, s));
                }
                ClientTransmit::WsFrame { transport, frame } => {
                    let Some(s) = self.ws_slot(i, transport) else {
                        continue;
                    };
                    let mask = self.mask();
                    if let Some(sock) = self.socks[s].as_mut() {
                        match &frame {
                            Frame::Text(t) => ws::put_masked_frame(
                                &mut sock.wbuf,
                                true,
                                ws::OP_TEXT,
                                mask,
                                t.as_bytes(),
                            ),
                            Frame::Binary(b) => {
                                ws::put_masked_frame(&mut sock.wbuf, true, ws::OP_BINARY, mask, b)
                            }
                        }
                    }
                    self.mark_dirty(s);
                }
                ClientTransmit::CloseWebSocket { transport } => {
                    let Some(s) = self.ws_slot(i, transport) else {
                        continue;
                    };
                    let mask = self.mask();
                    if let Some(sock) = self.socks[s].as_mut() {
                        ws::put_masked_frame(
                            &mut sock.wbuf,
                            true,
                            ws::OP_CLOSE,
                            mask,
                            &1000u16.to_be_bytes(),
                        );
                        let _ = sock.stream.write(&sock.wbuf);
                    }
                    self.drop_socket(s);
                }
                ClientTransmit::HttpRequest(r) => {
                    let mut req = format!(
                        "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive\r\n",
                        match r.method {
                            Method::Get => "GET",
                            Method::Post => "POST",
                            _ => "OPTIONS",
                        },
                        path_of(&r.url),
                        self.host
                    );
                    for (k, v) in r.headers {
                        req.push_str(&format!("{k}: {v}\r\n"));
                    }
                    if let Some(ct) = r.content_type {
                        req.push_str(&format!("Content-Type: {ct}\r\n"));
                    }
                    if r.method != Method::Get || !r.body.is_empty() {
                        req.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
                    }
                    req.push_str("\r\n");
                    let mut bytes = req.into_bytes();
                    bytes.extend_from_slice(&r.body);
                    self.conns[i].queue.push_back((r.request, bytes));
                    self.dispatch_http(i, now);
                }
            }
        }
    }

    fn ws_slot(&self, i: usize, transport: TransportId) -> Option<usize> {
        self.conns[i]
            .ws
            .iter()
            .find(|(t, _)| *t == transport)
            .map(|&(_, s)| s)
    }

    /// Sends queued requests on idle HTTP connections, opening new ones up
    /// to the limit.
    fn dispatch_http(&mut self, i: usize, now: Instant) {
        while let Some((request, bytes)) = self.conns[i].queue.pop_front() {
            let idle = self.conns[i].http.iter().copied().find(|&s| {
                matches!(
                    self.socks[s].as_ref().map(|k| &k.kind),
                    Some(Kind::Http { busy: None })
                )
            });
            let slot = match idle {
                Some(s) => s,
                None if self.conns[i].http.len() < MAX_HTTP_PER_CLIENT => {
                    match self.open_socket(i, Kind::Http { busy: None }) {
                        Some(s) => {
                            self.conns[i].http.push(s);
                            s
                        }
                        None => {
                            self.conns[i].client.handle_http_failed(now, request);
                            continue;
                        }
                    }
                }
                None => {
                    self.conns[i].queue.push_front((request, bytes));
                    return;
                }
            };
            if let Some(sock) = self.socks[slot].as_mut() {
                sock.kind = Kind::Http {
                    busy: Some(request),
                };
                sock.wbuf.extend_from_slice(&bytes);
            }
            self.mark_dirty(slot);
        }
    }

    fn drop_socket(&mut self, s: usize) {
        if let Some(mut sock) = self.socks[s].take() {
            let _ = self.poll.registry().deregister(&mut sock.stream);
            let conn = &mut self.conns[sock.conn];
            conn.ws.retain(|&(_, x)| x != s);
            conn.http.retain(|&x| x != s);
            self.free.push(s);
        }
    }

    /// The socket failed or closed: tell its client.
    fn fail(&mut self, s: usize, now: Instant, why: &str) {
        let Some(sock) = self.socks[s].as_ref() else {
            return;
        };
        let conn = sock.conn;
        match sock.kind {
            Kind::Ws { transport, .. } => {
                self.drop_socket(s);
                if !why.is_empty() {
                    self.io_errors.push(format!("websocket: {why}"));
                }
                self.conns[conn].client.handle_ws_closed(now, transport);
            }
            Kind::Http { busy } => {
                self.drop_socket(s);
                if let Some(request) = busy {
                    self.io_errors.push(format!("http: {why}"));
                    self.conns[conn].client.handle_http_failed(now, request);
                }
                self.dispatch_http(conn, now);
            }
        }
        self.touch(conn);
    }

    fn flush(&mut self, s: usize, now: Instant) {
        let Some(sock) = self.socks[s].as_mut() else {
            return;
        };
        if !sock.connected {
            return; // the writable event of the connect flushes
        }
        let mut failed = None;
        for _ in 0..64 {
            if sock.wbuf.is_empty() {
                break;
            }
            match sock.stream.write(&sock.wbuf) {
                Ok(0) => {
                    failed = Some("write returned 0".to_owned());
                    break;
                }
                Ok(n) => {
                    sock.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e.kind().to_string());
                    break;
                }
            }
        }
        if let Some(why) = failed {
            return self.fail(s, now, &why);
        }
        let want = !sock.wbuf.is_empty();
        if want != sock.want_write {
            sock.want_write = want;
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let _ = self
                .poll
                .registry()
                .reregister(&mut sock.stream, Token(s), interest);
        }
        if sock.wbuf.is_empty() && sock.wbuf.capacity() > 64 * 1024 {
            sock.wbuf = Vec::new();
        }
    }

    fn on_ready(&mut self, s: usize, readable: bool, writable: bool, now: Instant) {
        let Some(sock) = self.socks.get_mut(s).and_then(Option::as_mut) else {
            return;
        };
        if !sock.connected {
            match sock.stream.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => {
                    return self.fail(s, now, &format!("connect: {}", e.kind()))
                }
            }
            match sock.stream.peer_addr() {
                Ok(_) => sock.connected = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.fail(s, now, &format!("connect: {}", e.kind())),
            }
        }
        if writable {
            self.flush(s, now);
        }
        if readable {
            self.read(s, now);
        }
    }

    fn read(&mut self, s: usize, now: Instant) {
        let mut eof = None;
        for _ in 0..MAX_READS {
            let Some(sock) = self.socks[s].as_mut() else {
                return;
            };
            match sock.stream.read(&mut self.scratch) {
                Ok(0) => {
                    eof = Some(String::new());
                    break;
                }
                Ok(n) => {
                    sock.rbuf.extend_from_slice(&self.scratch[..n]);
                    if n < self.scratch.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    eof = Some(e.kind().to_string());
                    break;
                }
            }
        }
        let ok = match self.socks[s]
            .as_ref()
            .map(|k| matches!(k.kind, Kind::Ws { .. }))
        {
            Some(true) => self.on_ws_bytes(s, now),
            Some(false) => self.on_http_bytes(s, now),
            None => return,
        };
        match (ok, eof) {
            (Err(why), _) => self.fail(s, now, &why),
            (Ok(()), Some(why)) => {
                // An idle keep-alive connection closed by the server is no
                // error; a busy one fails its request in `fail`.
                self.fail(s, now, &why)
            }
            (Ok(()), None) => {}
        }
    }

    fn on_ws_bytes(&mut self, s: usize, now: Instant) -> Result<(), String> {
        let Some(sock) = self.socks[s].as_mut() else {
            return Ok(());
        };
        let conn = sock.conn;
        let Kind::Ws {
            transport,
            open,
            frag,
        } = &mut sock.kind
        else {
            return Ok(());
        };
        let transport = *transport;
        let client = &mut self.conns[conn].client;
        let mut pos = 0;
        if !*open {
            let Some(end) = find(&sock.rbuf, b"\r\n\r\n") else {
                return if sock.rbuf.len() > 16 * 1024 {
                    Err("handshake response too large".into())
                } else {
                    Ok(())
                };
            };
            if !sock.rbuf.starts_with(b"HTTP/1.1 101") {
                let line = sock.rbuf.split(|&b| b == b'\r').next().unwrap_or_default();
                return Err(format!("handshake: {}", String::from_utf8_lossy(line)));
            }
            *open = true;
            pos = end + 4;
            client.handle_ws_opened(now, transport);
        }
        let mut result = Ok(());
        let mut pong: Option<Vec<u8>> = None;
        loop {
            match ws::parse_server_frame(&mut sock.rbuf[pos..], MAX_PAYLOAD) {
                Ok(None) => break,
                Err(code) => {
                    result = Err(format!("bad frame from the server (close code {code})"));
                    break;
                }
                Ok(Some((f, used))) => {
                    pos += used;
                    match f.opcode {
                        ws::OP_PING => pong = Some(f.payload.to_vec()),
                        ws::OP_PONG => {}
                        ws::OP_CLOSE => {
                            result = Err(String::new());
                            break;
                        }
                        op => {
                            let message: Option<(u8, Vec<u8>)> = match (op, f.fin, frag.take()) {
                                (ws::OP_CONT, fin, Some((o, mut acc))) => {
                                    acc.extend_from_slice(f.payload);
                                    if fin {
                                        Some((o, acc))
                                    } else {
                                        *frag = Some((o, acc));
                                        None
                                    }
                                }
                                (ws::OP_CONT, _, None) => {
                                    result = Err("continuation without a start".into());
                                    break;
                                }
                                (_, true, None) => {
                                    deliver(client, now, transport, op, f.payload);
                                    None
                                }
                                (o, false, None) => {
                                    *frag = Some((o, f.payload.to_vec()));
                                    None
                                }
                                (_, _, Some(_)) => {
                                    result = Err("new message inside a fragmented one".into());
                                    break;
                                }
                            };
                            if let Some((o, mut bytes)) = message {
                                deliver(client, now, transport, o, &mut bytes);
                            }
                        }
                    }
                }
            }
        }
        sock.rbuf.drain(..pos);
        if sock.rbuf.is_empty() && sock.rbuf.capacity() > 64 * 1024 {
            sock.rbuf = Vec::new();
        }
        if let Some(payload) = pong {
            let mask = self.mask();
            if let Some(sock) = self.socks[s].as_mut() {
                ws::put_masked_frame(&mut sock.wbuf, true, ws::OP_PONG, mask, &payload);
            }
            self.mark_dirty(s);
        }
        self.touch(conn);
        result
    }

    fn on_http_bytes(&mut self, s: usize, now: Instant) -> Result<(), String> {
        let mut done = false;
        for _ in 0..64 {
            let Some(sock) = self.socks[s].as_mut() else {
                return Ok(());
            };
            if sock.rbuf.is_empty() {
                break;
            }
            let conn = sock.conn;
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            let head = match response.parse(&sock.rbuf) {
                Ok(httparse::Status::Partial) => break,
                Ok(httparse::Status::Complete(n)) => n,
                Err(e) => return Err(format!("bad response: {e}")),
            };
            let status = response.code.unwrap_or(0);
            let mut length = None;
            let mut content_type = None;
            let mut close = response.version == Some(0);
            for h in response.headers.iter() {
                let value = std::str::from_utf8(h.value).unwrap_or_default().trim();
                if h.name.eq_ignore_ascii_case("content-length") {
                    length = value.parse::<usize>().ok();
                } else if h.name.eq_ignore_ascii_case("content-type") {
                    content_type = Some(value.to_owned());
                } else if h.name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err("chunked responses are not supported".into());
                }
            }
            let Some(length) = length.filter(|&l| l <= MAX_PAYLOAD) else {
                return Err("response without a usable Content-Length".into());
            };
            if sock.rbuf.len() < head + length {
                break;
            }
            let Kind::Http { busy } = &mut sock.kind else {
                return Ok(());
            };
            let Some(request) = busy.take() else {
                return Err("a response nobody asked for".into());
            };
            self.conns[conn].client.handle_http_response(
                now,
                request,
                status,
                content_type.as_deref(),
                &sock.rbuf[head..head + length],
            );
            sock.rbuf.drain(..head + length);
            self.touch(conn);
            if close {
                self.drop_socket(s);
            }
            self.dispatch_http(conn, now);
            done = true;
            if close {
                break;
            }
        }
        let _ = done;
        Ok(())
    }

    /// Drops every socket (the end of a run).
    pub fn close_all(&mut self) {
        for s in 0..self.socks.len() {
            self.drop_socket(s);
        }
    }
}

fn deliver(client: &mut Client, now: Instant, transport: TransportId, op: u8, payload: &mut [u8]) {
    if op == ws::OP_TEXT {
        match std::str::from_utf8(payload) {
            Ok(text) => client.handle_ws_text(now, transport, text),
            Err(_) => client.handle_ws_closed(now, transport),
        }
    } else {
        client.handle_ws_binary(now, transport, payload);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `/path?query` of `scheme://authority/path?query`.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_of_urls() {
        assert_eq!(
            path_of("ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"),
            "/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(path_of("http://127.0.0.1:3000"), "/");
    }
}
