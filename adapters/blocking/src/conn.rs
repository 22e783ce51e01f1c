//! Connection threads. Each accepted TCP stream gets one thread that reads
//! the HTTP head and, for a WebSocket upgrade, becomes the reader. The
//! driver thread writes the WebSocket's frames itself (non-blocking); only
//! a connection whose socket is full gets a second thread, a writer
//! ([`write_loop`]), until its backlog is written.
//!
//! The socket is shared, not duplicated: the reader, the driver and a
//! writer hold one `Arc<TcpStream>` (`&TcpStream` reads and writes), so a
//! connection costs one file descriptor. The reader ([`WsReader`], on the
//! shared `socketio_http::ws` codec) never writes: it forwards pings and
//! the peer's close frame to the driver, which answers them, so replies
//! never interleave with our frames. After our close frame the reader goes
//! on reading until the peer's close frame (or EOF), which tells the
//! driver it may shut the socket down (RFC 6455 §7.1.1; bounded by
//! `Builder::ws_close_timeout`). An idle connection costs no wake-ups: the
//! reader blocks in `read`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use socketio_http::{parse_head, ws, Parsed, PollingRequest, Reply, RequestHead, Route, Router};
use socketio_sansio::{Handshake, Method};

use crate::driver::{DriverTx, Msg, Net, WriterMsg, WsToken};
use crate::window::WriteWindow;

/// What a connection thread needs from its server.
#[derive(Clone)]
pub(crate) struct ConnContext {
    pub(crate) driver: DriverTx,
    /// The HTTP decisions (paths, CORS, limits, static files).
    pub(crate) router: Arc<Router>,
    pub(crate) stack_size: usize,
    /// Stack size of WebSocket reader threads.
    pub(crate) ws_stack_size: usize,
    /// Where the threads of WebSocket readers are registered (for
    /// shutdown).
    pub(crate) streams: crate::Streams,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id for an HTTP request or a WebSocket.
fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Serves one accepted stream until it closes, then shuts it down (the
/// server keeps a clone of every stream for shutdown, so dropping ours would
/// not close the socket).
pub(crate) fn serve(stream: Arc<TcpStream>, ctx: ConnContext) {
    if serve_stream(&stream, ctx) {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

/// Serves HTTP requests until one becomes a WebSocket. True when the
/// socket should be shut down now (false: the driver closes it).
fn serve_stream(shared: &Arc<TcpStream>, ctx: ConnContext) -> bool {
    let mut stream: &TcpStream = shared;
    let mut carried = Vec::new();
    loop {
        let (head, leftover) = match read_head(&mut stream, std::mem::take(&mut carried)) {
            HeadRead::Head(head, leftover) => (head, leftover),
            HeadRead::Refused(reply) => {
                let _ = stream.write_all(&reply.bytes);
                return true;
            }
            HeadRead::Closed => return true,
        };
        match ctx.router.route_from(head, stream.peer_addr().ok()) {
            Route::WebSocket {
                handshake,
                accept_key,
                new_session,
            } => {
                return serve_websocket(
                    shared.clone(),
                    handshake,
                    (&accept_key, new_session),
                    leftover,
                    ctx,
                )
            }
            Route::Polling(request) => match serve_polling(stream, request, leftover, &ctx) {
                Some(rest) => carried = rest,
                None => return true,
            },
            Route::Reply(reply) => {
                if stream.write_all(&reply.bytes).is_err() || !reply.keep_alive {
                    return true;
                }
                carried = leftover;
            }
            Route::Static(head) => {
                let _ = stream.write_all(&ctx.router.static_response(&head));
                return true;
            }
        }
    }
}

/// The outcome of reading one request head.
enum HeadRead {
    /// A head and the bytes read past it.
    Head(RequestHead, Vec<u8>),
    /// Too large or malformed: write this and close.
    Refused(Reply),
    /// The peer closed (or the read failed) before a whole head.
    Closed,
}

/// Reads one request head that may have started in `buf` (bytes read past
/// the previous request on a keep-alive connection).
fn read_head(stream: &mut impl Read, mut buf: Vec<u8>) -> HeadRead {
    loop {
        if !buf.is_empty() {
            match parse_head(&buf) {
                Parsed::Complete(head, len) => {
                    let rest = buf.split_off(len);
                    return HeadRead::Head(head, rest);
                }
                Parsed::Partial => {}
                Parsed::TooLarge => return HeadRead::Refused(Reply::head_too_large()),
                Parsed::Malformed => return HeadRead::Refused(Reply::malformed_head()),
            }
        }
        // Read into the heap buffer: a chunk on the stack would stay
        // resident in every connection thread's stack.
        let have = buf.len();
        buf.resize(have + 2048, 0);
        let read = stream.read(&mut buf[have..]);
        buf.truncate(have + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return HeadRead::Closed,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::debug!("reading a request head failed: {e}");
                return HeadRead::Closed;
            }
        }
    }
}

/// Reads exactly `len` body bytes, starting with `carried`; returns the body
/// and whatever was read past it.
fn read_body(
    stream: &mut impl Read,
    mut carried: Vec<u8>,
    len: usize,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    if carried.len() >= len {
        let rest = carried.split_off(len);
        return Ok((carried, rest));
    }
    let mut body = carried;
    let mut have = body.len();
    // Read straight into the body (no chunk on the small thread stack).
    body.resize(len, 0);
    while have < len {
        let n = stream.read(&mut body[have..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
    }
    Ok((body, Vec::new()))
}

/// Serves one plain HTTP request (long-polling); returns the bytes read past
/// it when the connection stays open.
fn serve_polling(
    mut stream: &TcpStream,
    request: PollingRequest,
    leftover: Vec<u8>,
    ctx: &ConnContext,
) -> Option<Vec<u8>> {
    let req = next_id();
    // A POST whose body is still arriving is announced to the core, which
    // refuses a second POST for the session meanwhile (the reference's
    // "data request overlap from client").
    let announced = request.head.method == "POST" && request.body_len > leftover.len();
    if announced {
        let started = Net::HttpStarted {
            req,
            method: Method::from_name(&request.head.method),
            url: request.head.target.clone(),
        };
        ctx.driver.send(Msg::Net(started)).ok()?;
    }
    let (body, rest) = match read_body(&mut stream, leftover, request.body_len) {
        Ok(read) => read,
        Err(_) => {
            if announced {
                let _ = ctx.driver.send(Msg::Net(Net::HttpAborted(req)));
            }
            return None;
        }
    };
    let (request, pending) = request.into_request(body);
    let (reply_tx, reply_rx) = mpsc::channel();
    ctx.driver
        .send(Msg::Net(Net::Http {
            req,
            request,
            reply: reply_tx,
        }))
        .ok()?;
    // A long-poll GET waits here, without any timer, until data is queued.
    let response = reply_rx.recv().ok()?;
    let mut out = Vec::with_capacity(256 + response.body.len());
    let keep_alive = pending.put(&response, &mut out);
    // A client that stops reading would hold this thread and the response
    // forever; one that took longer than a ping cycle is gone anyway (its
    // session closed, what followed this response bounded in the core).
    let config = ctx.router.config();
    let _ = stream.set_write_timeout(Some(config.ping_interval + config.ping_timeout));
    stream.write_all(&out).ok()?;
    let _ = stream.set_write_timeout(None);
    keep_alive.then_some(rest)
}

/// Bytes a reader asks for when it has no partial frame (into a buffer on
/// its stack).
const IDLE_READ: usize = 512;

/// Bytes a reader asks for after a read that filled what it asked (a burst,
/// or a large frame).
const BURST_READ: usize = 16 * 1024;

/// Serves a validated WebSocket upgrade: asks the driver for a session
/// (the driver answers 101 on the socket, followed by the transport's
/// frames), then becomes the reader. Returns false when the driver owns
/// the socket's end (the session opened).
fn serve_websocket(
    stream: Arc<TcpStream>,
    handshake: Handshake,
    (accept_key, new_session): (&str, bool),
    leftover: Vec<u8>,
    ctx: ConnContext,
) -> bool {
    let (reply_tx, reply_rx) = mpsc::channel();
    let token = next_id();
    if ctx
        .driver
        .send(Msg::Net(Net::Open {
            handshake,
            token,
            accept_key: accept_key.to_owned(),
            new_session,
            stream: stream.clone(),
            reply: reply_tx,
        }))
        .is_err()
    {
        return true;
    }
    let id = match reply_rx.recv() {
        Ok(Ok(id)) => id,
        Ok(Err(rejection)) => {
            let reply = Reply::from_ws_rejection(&rejection, accept_key);
            if (&*stream).write_all(&reply.bytes).is_ok() && rejection.accepts_then_closes() {
                // Accepted then closed (a second WebSocket for an upgraded
                // session): wait for the client's close frame.
                let wait = ctx.router.ws_close_timeout();
                let max_payload = ctx.router.config().max_payload;
                await_peer_close(&stream, leftover, wait, max_payload);
            }
            return true;
        }
        Err(_) => return true,
    };
    let mut reader = WsReader {
        id,
        token,
        max_payload: ctx.router.config().max_payload,
        frag: None,
        batch: Vec::new(),
    };
    // The reader gets a fresh thread: the stack pages this one touched
    // serving HTTP (head parsing, routing) would stay resident for the
    // connection's life; the reader's own use is a fraction of that.
    let registered = Arc::downgrade(&stream);
    let driver = ctx.driver.clone();
    let spawned = std::thread::Builder::new()
        .name("sio-ws".into())
        .stack_size(ctx.ws_stack_size)
        .spawn(move || {
            if let Some(end) = reader.run(&stream, leftover, &driver) {
                let _ = driver.send(Msg::Net(end));
            }
        });
    match spawned {
        Ok(handle) => crate::register(&ctx.streams, registered, handle),
        Err(e) => {
            log::warn!("cannot spawn a WebSocket reader thread: {e}");
            let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
        }
    }
    false
}

/// After our close frame went out on `stream` (a WebSocket nobody else
/// reads): reads, dropping data frames, until the peer's close frame, EOF,
/// an error, a frame that breaks the protocol or `wait`.
fn await_peer_close(mut stream: &TcpStream, mut buf: Vec<u8>, wait: Duration, max_payload: usize) {
    let until = Instant::now() + wait;
    let mut chunk = [0u8; IDLE_READ];
    loop {
        loop {
            let used = match ws::parse_frame(&mut buf, max_payload) {
                Ok(Some((frame, _))) if frame.opcode == ws::OP_CLOSE => return,
                Ok(Some((_, used))) => used,
                Ok(None) => break,
                Err(_) => return,
            };
            buf.drain(..used);
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The read side of one WebSocket: RFC 6455 frames (the shared
/// `socketio_http::ws` codec), whole messages to the driver, several per
/// read in one channel message.
struct WsReader {
    id: socketio_sansio::ConnId,
    token: WsToken,
    max_payload: usize,
    /// A fragmented message being assembled: its opcode and bytes.
    frag: Option<(u8, Vec<u8>)>,
    /// Messages parsed from the current read.
    batch: Vec<Net>,
}

impl WsReader {
    /// Reads until the WebSocket ends; returns how it ended (none: the
    /// driver is gone).
    fn run(&mut self, stream: &TcpStream, leftover: Vec<u8>, driver: &DriverTx) -> Option<Net> {
        let mut stream = stream;
        // Bytes of a frame not yet whole (none while idle: a read then goes
        // to `small`, on the stack, and an idle connection holds no read
        // buffer on the heap).
        let mut buf = leftover;
        let mut small = [0u8; IDLE_READ];
        let mut want = IDLE_READ;
        loop {
            let (used, end) = self.parse(&mut buf);
            buf.drain(..used);
            self.send_batch(driver)?;
            if end.is_some() {
                return end;
            }
            let read = if buf.is_empty() {
                // Give a burst's buffer back.
                buf = Vec::new();
                stream.read(&mut small)
            } else {
                let have = buf.len();
                buf.resize(have + want, 0);
                let read = stream.read(&mut buf[have..]);
                buf.truncate(have + *read.as_ref().unwrap_or(&0));
                read
            };
            let n = match read {
                Ok(0) => return Some(Net::Closed(self.id, self.token)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("{}: read ended: {e}", self.id);
                    return Some(Net::Closed(self.id, self.token));
                }
            };
            if buf.is_empty() {
                // Whole frames straight from the stack; a partial one is
                // kept on the heap.
                let (used, end) = self.parse(&mut small[..n]);
                buf.extend_from_slice(&small[used..n]);
                self.send_batch(driver)?;
                if end.is_some() {
                    return end;
                }
                want = if n == small.len() {
                    BURST_READ
                } else {
                    IDLE_READ
                };
            } else {
                want = if n == want { BURST_READ } else { IDLE_READ };
            }
        }
    }

    /// Sends the driver the messages parsed from the last read (one channel
    /// message). None: the driver is gone.
    fn send_batch(&mut self, driver: &DriverTx) -> Option<()> {
        let msg = match self.batch.len() {
            0 => return Some(()),
            // Taken, not popped: an idle connection keeps no batch buffer.
            1 => std::mem::take(&mut self.batch).into_iter().next()?,
            _ => Net::Batch(std::mem::take(&mut self.batch)),
        };
        driver.send(Msg::Net(msg)).ok()
    }

    /// Parses the whole frames at the front of `buf` into the batch;
    /// returns the bytes used and, if the WebSocket ends, how.
    fn parse(&mut self, buf: &mut [u8]) -> (usize, Option<Net>) {
        let (id, token) = (self.id, self.token);
        let fail = |code: u16| Some(Net::Close(id, token, Some(code)));
        let mut pos = 0;
        loop {
            let (frame, used) = match ws::parse_frame(&mut buf[pos..], self.max_payload) {
                Ok(Some(f)) => f,
                Ok(None) => return (pos, None),
                Err(code) => return (pos, fail(code)),
            };
            pos += used;
            let assembled;
            let message: Option<(u8, &[u8])> = match frame.opcode {
                ws::OP_TEXT | ws::OP_BINARY => {
                    if self.frag.is_some() {
                        return (pos, fail(ws::CLOSE_PROTOCOL));
                    }
                    if frame.fin {
                        Some((frame.opcode, &*frame.payload))
                    } else {
                        self.frag = Some((frame.opcode, frame.payload.to_vec()));
                        None
                    }
                }
                ws::OP_CONT => {
                    let Some((op, data)) = &mut self.frag else {
                        return (pos, fail(ws::CLOSE_PROTOCOL));
                    };
                    if data.len() + frame.payload.len() > self.max_payload {
                        return (pos, fail(ws::CLOSE_TOO_BIG));
                    }
                    data.extend_from_slice(frame.payload);
                    if frame.fin {
                        let op = *op;
                        assembled = self.frag.take().map(|(_, d)| d).unwrap_or_default();
                        Some((op, &assembled[..]))
                    } else {
                        None
                    }
                }
                ws::OP_PING => {
                    let data = frame.payload.to_vec();
                    self.batch.push(Net::Pong(id, token, data));
                    None
                }
                ws::OP_PONG => None,
                ws::OP_CLOSE => {
                    // Echo the peer's code, then the driver closes.
                    let code = (frame.payload.len() >= 2)
                        .then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
                    return (pos, Some(Net::Close(id, token, code)));
                }
                _ => return (pos, fail(ws::CLOSE_PROTOCOL)),
            };
            match message {
                Some((ws::OP_TEXT, data)) => match std::str::from_utf8(data) {
                    Ok(text) => self.batch.push(Net::Text(id, text.to_owned())),
                    Err(_) => return (pos, fail(ws::CLOSE_INVALID_DATA)),
                },
                Some((_, data)) => self.batch.push(Net::Binary(id, data.to_vec())),
                None => {}
            }
        }
    }
}

/// Starts writer threads for the driver.
pub(crate) struct WriterSpawn {
    pub(crate) driver: DriverTx,
    pub(crate) stack_size: usize,
}

impl WriterSpawn {
    /// Starts the writer of WebSocket `token` (connection `id`), which
    /// writes what comes on `rx`.
    pub(crate) fn spawn(
        &self,
        id: socketio_sansio::ConnId,
        token: WsToken,
        stream: Arc<TcpStream>,
        window: Arc<WriteWindow>,
        rx: mpsc::Receiver<WriterMsg>,
    ) -> io::Result<()> {
        let link = WriterLink {
            driver: self.driver.clone(),
            id,
            token,
            window,
        };
        std::thread::Builder::new()
            .name("sio-writer".into())
            .stack_size(self.stack_size)
            .spawn(move || write_loop(stream, rx, link))
            .map(drop)
    }
}

/// What a writer thread knows of its connection: where to say that its
/// backlog drained, and the backlog's count.
struct WriterLink {
    driver: DriverTx,
    id: socketio_sansio::ConnId,
    token: WsToken,
    window: Arc<WriteWindow>,
}

/// Writes what the driver hands it (the connection's backlog, then every
/// later byte until it is retired), blocking on a full socket; after each
/// batch, takes the written bytes off the window (and asks the driver to
/// resume the connection when that unblocks it). When it has nothing left
/// it tells the driver, which retires it by dropping its channel. On
/// [`WriterMsg::End`] (everything before it, our close frame last, is
/// written) or a failed write (after shutting the socket down, so the
/// reader reports the close) it tells the driver with
/// [`Net::WriterDone`] and stops: the driver shuts the socket down once
/// the reader has seen the peer's close frame, or after
/// `Builder::ws_close_timeout`. Without a driver, it shuts the socket
/// down itself.
fn write_loop(stream: Arc<TcpStream>, rx: mpsc::Receiver<WriterMsg>, link: WriterLink) {
    let mut out: &TcpStream = &stream;
    'outer: while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        let mut batch = 0;
        while let Some(msg) = next.take() {
            match msg {
                WriterMsg::Bytes(bytes) => {
                    if out.write_all(&bytes).is_err() {
                        let _ = stream.shutdown(Shutdown::Both);
                        let _ = link.driver.send(Msg::Net(Net::WriterDone(link.token)));
                        break 'outer;
                    }
                    batch += bytes.len();
                }
                WriterMsg::End => {
                    let done = Net::WriterDone(link.token);
                    if link.driver.send(Msg::Net(done)).is_err() {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    break 'outer;
                }
            }
            next = rx.try_recv().ok();
        }
        if link.window.written(batch) {
            let ready = Net::WriteReady(link.id, link.token);
            if link.driver.send(Msg::Net(ready)).is_err() {
                break;
            }
        }
        if crate::driver::RETIRE_WRITERS && link.window.pending() == 0 {
            let idle = Net::WriterIdle(link.id, link.token);
            if link.driver.send(Msg::Net(idle)).is_err() {
                break;
            }
        }
    }
}
