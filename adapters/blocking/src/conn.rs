//! Connection threads. Each accepted TCP stream gets one thread that reads
//! the HTTP head and, for a WebSocket upgrade, becomes the reader; a second
//! thread is the only one that writes to the socket.
//!
//! Why two threads: tungstenite's blocking `WebSocket` cannot be read by one
//! thread while another writes through it. The stream is split with
//! `TcpStream::try_clone`: the reader's `WebSocket` sits on a stream whose
//! writes are discarded (so tungstenite's automatic pong and close replies
//! never interleave with our frames) and forwards pings and closes to the
//! writer, which answers them. An idle connection costs no wake-ups: the
//! reader blocks in `read`, the writer in `recv`, and a frame the driver
//! queues is written at once (the writer batches whatever else is already
//! queued before one flush).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use socketio_http::{parse_head, Parsed, PollingRequest, Reply, RequestHead, Route, Router};
use socketio_sansio::{Frame, Handshake, Method, Text};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

use crate::driver::{DriverTx, Msg, Net, WriterMsg, WsToken};
use crate::window::WriteWindow;

/// What a connection thread needs from its server.
#[derive(Clone)]
pub(crate) struct ConnContext {
    pub(crate) driver: DriverTx,
    /// The HTTP decisions (paths, CORS, limits, static files).
    pub(crate) router: Arc<Router>,
    pub(crate) stack_size: usize,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id for an HTTP request or a WebSocket.
fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A stream for the reader's `WebSocket`: reads from the socket, discards
/// writes (the writer thread owns the write direction).
struct ReadHalf(TcpStream);

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for ReadHalf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Serves one accepted stream until it closes, then shuts it down (the
/// server keeps a clone of every stream for shutdown, so dropping ours would
/// not close the socket).
pub(crate) fn serve(stream: TcpStream, ctx: ConnContext) {
    let closer = stream.try_clone();
    serve_stream(stream, ctx);
    if let Ok(s) = closer {
        let _ = s.shutdown(Shutdown::Both);
    }
}

fn serve_stream(mut stream: TcpStream, ctx: ConnContext) {
    let mut carried = Vec::new();
    loop {
        let (head, leftover) = match read_head(&mut stream, std::mem::take(&mut carried)) {
            HeadRead::Head(head, leftover) => (head, leftover),
            HeadRead::Refused(reply) => {
                let _ = stream.write_all(&reply.bytes);
                return;
            }
            HeadRead::Closed => return,
        };
        match ctx.router.route_from(head, stream.peer_addr().ok()) {
            Route::WebSocket {
                handshake,
                accept_key,
                new_session,
            } => {
                return serve_websocket(
                    stream,
                    handshake,
                    (&accept_key, new_session),
                    leftover,
                    ctx,
                )
            }
            Route::Polling(request) => match serve_polling(&mut stream, request, leftover, &ctx) {
                Some(rest) => carried = rest,
                None => return,
            },
            Route::Reply(reply) => {
                if stream.write_all(&reply.bytes).is_err() || !reply.keep_alive {
                    return;
                }
                carried = leftover;
            }
            Route::Static(head) => {
                let _ = stream.write_all(&ctx.router.static_response(&head));
                return;
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
    let mut chunk = [0u8; 2048];
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
        match stream.read(&mut chunk) {
            Ok(0) => return HeadRead::Closed,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
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
    body.reserve(len - body.len());
    let mut chunk = [0u8; 8192];
    while body.len() < len {
        let want = (len - body.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((body, Vec::new()))
}

/// Serves one plain HTTP request (long-polling); returns the bytes read past
/// it when the connection stays open.
fn serve_polling(
    stream: &mut TcpStream,
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
    let (body, rest) = match read_body(stream, leftover, request.body_len) {
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

/// Serves a validated WebSocket upgrade: asks the core for a session, then
/// answers 101 and becomes the reader.
fn serve_websocket(
    mut stream: TcpStream,
    handshake: Handshake,
    (accept_key, new_session): (&str, bool),
    leftover: Vec<u8>,
    ctx: ConnContext,
) {
    let (writer_tx, writer_rx) = mpsc::channel();
    let (reply_tx, reply_rx) = mpsc::channel();
    let token = next_id();
    let window = Arc::new(WriteWindow::default());
    let Ok(closer) = stream.try_clone() else {
        return;
    };
    if ctx
        .driver
        .send(Msg::Net(Net::Open {
            handshake,
            token,
            writer: writer_tx,
            window: window.clone(),
            stream: closer,
            reply: reply_tx,
        }))
        .is_err()
    {
        return;
    }
    let (id, sid) = match reply_rx.recv() {
        Ok(Ok(opened)) => opened,
        Ok(Err(rejection)) => {
            let reply = Reply::from_ws_rejection(&rejection, accept_key);
            if stream.write_all(&reply.bytes).is_ok() && rejection.accepts_then_closes() {
                // Accepted then closed: wait for the client's close frame.
                let wait = ctx.router.ws_close_timeout();
                await_peer_close(stream, leftover, wait);
            }
            return;
        }
        Err(_) => return,
    };
    let mut response = Vec::with_capacity(160);
    let sid = new_session.then_some(sid.as_str());
    ctx.router
        .put_switching_protocols(&mut response, accept_key, sid);
    // 4 KiB read buffer: tungstenite zero-fills its default 128 KiB buffer,
    // which made every idle connection cost ~170 kB of RSS (PERF_NOTES.md).
    let max_payload = ctx.router.config().max_payload;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(max_payload))
        .max_frame_size(Some(max_payload));
    let write_half = match stream.try_clone() {
        Ok(s) => s,
        Err(_) => {
            let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
            return;
        }
    };
    if stream.write_all(&response).is_err() {
        let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
        return;
    }
    let writer_ws = WebSocket::from_raw_socket(write_half, Role::Server, Some(config));
    // Dropped when the reader ends (the peer's close frame, EOF or an
    // error): a writer that sent our close frame waits for that.
    let (reader_done, done) = mpsc::channel::<()>();
    let writer = {
        let driver = WriterLink {
            driver: ctx.driver.clone(),
            id,
            token,
            window,
            done,
            close_wait: ctx.router.ws_close_timeout(),
        };
        std::thread::Builder::new()
            .name("sio-writer".into())
            .stack_size(ctx.stack_size)
            .spawn(move || write_loop(writer_ws, writer_rx, driver))
    };
    let Ok(writer) = writer else {
        let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
        return;
    };
    let mut reader =
        WebSocket::from_partially_read(ReadHalf(stream), leftover, Role::Server, Some(config));
    let pong_tx = ctx.driver.clone();
    loop {
        match reader.read() {
            Ok(Message::Text(text)) => {
                if ctx.driver.send(Msg::Net(Net::Text(id, text))).is_err() {
                    break;
                }
            }
            Ok(Message::Binary(data)) => {
                if ctx
                    .driver
                    .send(Msg::Net(Net::Binary(id, Vec::from(data))))
                    .is_err()
                {
                    break;
                }
            }
            Ok(Message::Ping(data)) => {
                // The writer answers; it is reached through the driver's
                // writer table, so send it directly via a frame-less request.
                let _ = pong_tx.send(Msg::Net(Net::Pong(id, token, data)));
            }
            Ok(Message::Pong(_)) | Ok(Message::Frame(_)) => {}
            Ok(Message::Close(frame)) => {
                // The writer echoes the code (if we did not close first).
                let code = frame.map(|f| u16::from(f.code));
                let _ = ctx.driver.send(Msg::Net(Net::PeerClosed(id, token, code)));
                break;
            }
            Err(tungstenite::Error::Capacity(e)) => {
                let _ = ctx
                    .driver
                    .send(Msg::Net(Net::Error(id, token, e.to_string())));
                break;
            }
            Err(e) => {
                log::debug!("{id}: read ended: {e}");
                let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
                break;
            }
        }
    }
    drop(reader_done);
    let _ = reader.get_ref().0.shutdown(Shutdown::Read);
    let _ = writer.join();
}

/// After our close frame went out on `stream` (a WebSocket nobody else
/// reads): reads, dropping data frames, until the peer's close frame, EOF,
/// an error or `wait`.
fn await_peer_close(stream: TcpStream, leftover: Vec<u8>, wait: Duration) {
    let until = Instant::now() + wait;
    let mut ws = WebSocket::from_partially_read(ReadHalf(stream), leftover, Role::Server, None);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || ws.get_ref().0.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn to_message(frame: Frame) -> Option<Message> {
    Some(match frame {
        Frame::Text(Text::Owned(s)) => Message::Text(s.into()),
        Frame::Text(Text::Shared(s)) => {
            let bytes = Bytes::from_owner(SharedStr(s));
            Message::Text(bytes.try_into().ok()?)
        }
        Frame::Binary(b) => match b {
            socketio_sansio::Bytes::Owned(v) => Message::Binary(v.into()),
            socketio_sansio::Bytes::Shared(a) => Message::Binary(Bytes::from_owner(SharedBytes(a))),
        },
    })
}

struct SharedStr(Arc<str>);
impl AsRef<[u8]> for SharedStr {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

struct SharedBytes(Arc<[u8]>);
impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// What a writer thread knows of its connection: where to say that its
/// backlog drained, and the backlog's count.
struct WriterLink {
    driver: DriverTx,
    id: socketio_sansio::ConnId,
    token: WsToken,
    window: Arc<WriteWindow>,
    /// Disconnected once the reader has ended.
    done: mpsc::Receiver<()>,
    /// How long our close waits for the peer's.
    close_wait: Duration,
}

/// Writes what the driver sends, batching what is already queued before
/// one flush; after each flush, takes the written frames off the window
/// (and asks the driver to resume the connection when that unblocks it).
/// Dropping the link (the thread ends) tells the driver the writer is done.
fn write_loop(mut ws: WebSocket<TcpStream>, rx: mpsc::Receiver<WriterMsg>, link: WriterLink) {
    'outer: while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        let mut batch = 0;
        while let Some(msg) = next.take() {
            let result = match msg {
                WriterMsg::Frame(frame) => {
                    batch += frame.len();
                    match to_message(frame) {
                        Some(m) => ws.write(m),
                        None => Ok(()),
                    }
                }
                WriterMsg::Pong(data) => ws.write(Message::Pong(data)),
                WriterMsg::Close(code) => {
                    let frame = code.map(|c| CloseFrame {
                        code: CloseCode::from(c),
                        reason: "".into(),
                    });
                    let _ = ws.close(frame);
                    if ws.flush().is_ok() {
                        // RFC 6455 §7.1.1: the server closes TCP once the
                        // peer's close frame came (the reader then ends),
                        // or after `close_wait`.
                        let _ = link.done.recv_timeout(link.close_wait);
                    }
                    break 'outer;
                }
            };
            if result.is_err() {
                break 'outer;
            }
            next = rx.try_recv().ok();
        }
        if ws.flush().is_err() {
            break;
        }
        if link.window.written(batch) {
            let ready = Net::WriteReady(link.id, link.token);
            if link.driver.send(Msg::Net(ready)).is_err() {
                break;
            }
        }
    }
    let _ = ws.get_ref().shutdown(Shutdown::Both);
}
