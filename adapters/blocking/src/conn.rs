//! Connection threads. Each accepted TCP stream gets one thread that reads
//! the HTTP head and, for a WebSocket upgrade, becomes the reader. The
//! driver thread writes the WebSocket's frames itself (non-blocking); only
//! a connection whose socket is full gets a second thread, a writer
//! ([`write_loop`]), until its backlog is written.
//!
//! The socket is shared, not duplicated: the reader, the driver and a
//! writer hold one `Arc<TcpStream>` (`&TcpStream` reads and writes), so a
//! connection costs one file descriptor. The reader's tungstenite
//! `WebSocket` sits on a stream whose writes are discarded (so tungstenite's
//! automatic pong and close replies never interleave with our frames) and
//! forwards pings to the driver, which answers them. An idle connection
//! costs no wake-ups: the reader blocks in `read`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use socketio_http::{parse_head, Parsed, PollingRequest, Reply, RequestHead, Route, Router};
use socketio_sansio::Handshake;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

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
/// writes (the driver, or the connection's writer, owns the write
/// direction).
struct ReadHalf(Arc<TcpStream>);

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
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
pub(crate) fn serve(stream: Arc<TcpStream>, ctx: ConnContext) {
    serve_stream(&stream, ctx);
    let _ = stream.shutdown(Shutdown::Both);
}

fn serve_stream(shared: &Arc<TcpStream>, ctx: ConnContext) {
    let mut stream: &TcpStream = shared;
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
                    shared.clone(),
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
    let (body, rest) = read_body(&mut stream, leftover, request.body_len).ok()?;
    let (request, pending) = request.into_request(body);
    let (reply_tx, reply_rx) = mpsc::channel();
    let req = next_id();
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

/// Serves a validated WebSocket upgrade: asks the driver for a session
/// (the driver answers 101 on the socket, followed by the transport's
/// frames), then becomes the reader.
fn serve_websocket(
    stream: Arc<TcpStream>,
    handshake: Handshake,
    (accept_key, new_session): (&str, bool),
    leftover: Vec<u8>,
    ctx: ConnContext,
) {
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
        return;
    }
    let id = match reply_rx.recv() {
        Ok(Ok(id)) => id,
        Ok(Err(rejection)) => {
            let _ = (&*stream).write_all(&Reply::from_rejection(&rejection).bytes);
            return;
        }
        Err(_) => return,
    };
    // 4 KiB read buffer: tungstenite zero-fills its default 128 KiB buffer,
    // which made every idle connection cost ~170 kB of RSS (PERF_NOTES.md).
    let max_payload = ctx.router.config().max_payload;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(max_payload))
        .max_frame_size(Some(max_payload));
    let mut reader =
        WebSocket::from_partially_read(ReadHalf(stream), leftover, Role::Server, Some(config));
    loop {
        let msg = match reader.read() {
            Ok(Message::Text(text)) => Net::Text(id, text),
            Ok(Message::Binary(data)) => Net::Binary(id, Vec::from(data)),
            // The driver answers (it owns the write direction).
            Ok(Message::Ping(data)) => Net::Pong(id, token, data),
            Ok(Message::Pong(_)) | Ok(Message::Frame(_)) => continue,
            Ok(Message::Close(_)) => {
                let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
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
        };
        if ctx.driver.send(Msg::Net(msg)).is_err() {
            break;
        }
    }
    let _ = reader.get_ref().0.shutdown(Shutdown::Read);
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
/// [`WriterMsg::End`] or a failed write it shuts the socket down (the
/// reader then reports the close). Dropping the link (the thread ends)
/// tells a closing driver the writer is done.
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
                        break 'outer;
                    }
                    batch += bytes.len();
                }
                WriterMsg::End => {
                    let _ = stream.shutdown(Shutdown::Both);
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
