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
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use socketio_sansio::{Frame, Handshake, HttpRequest, Method, Text};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

use crate::driver::{DriverTx, Msg, Net, WriterMsg};
use crate::http::{self, HeadError, RequestHead};
use socketio_sansio::Cors;

/// What a connection thread needs from its server.
#[derive(Clone)]
pub(crate) struct ConnContext {
    pub(crate) driver: DriverTx,
    pub(crate) path: Arc<str>,
    /// The bare Engine.IO path, if served.
    pub(crate) engine_path: Option<Arc<str>>,
    pub(crate) max_payload: usize,
    pub(crate) stack_size: usize,
    pub(crate) cors: Option<Arc<Cors>>,
    /// The canonical directory served outside `path`, if any.
    pub(crate) static_dir: Option<Arc<Path>>,
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
        let (head, leftover) =
            match http::read_head_after(&mut stream, std::mem::take(&mut carried)) {
                Ok(v) => v,
                Err(HeadError::TooLarge) => {
                    let _ = http::write_response(
                        &mut stream,
                        431,
                        "text/plain",
                        &[],
                        b"Request Header Fields Too Large",
                    );
                    return;
                }
                Err(HeadError::Malformed) => {
                    let _ =
                        http::write_response(&mut stream, 400, "text/plain", &[], b"Bad Request");
                    return;
                }
                Err(HeadError::Eof) => return,
                Err(HeadError::Io(e)) => {
                    log::debug!("reading a request head failed: {e}");
                    return;
                }
            };
        let ours = head.path().starts_with(&*ctx.path)
            || ctx
                .engine_path
                .as_deref()
                .is_some_and(|p| head.path().starts_with(p));
        if !ours {
            match &ctx.static_dir {
                Some(dir) => crate::static_files::serve(&mut stream, &head, dir),
                None => {
                    let _ = http::write_response(&mut stream, 404, "text/plain", &[], b"Not Found");
                }
            }
            return;
        }
        if head.header_has_token("upgrade", "websocket") {
            return serve_websocket(stream, head, leftover, ctx);
        }
        match serve_polling(&mut stream, head, leftover, &ctx) {
            Some(rest) => carried = rest,
            None => return,
        }
    }
}

/// Serves one plain HTTP request (long-polling); returns the bytes read past
/// it when the connection stays open.
fn serve_polling(
    stream: &mut TcpStream,
    head: RequestHead,
    leftover: Vec<u8>,
    ctx: &ConnContext,
) -> Option<Vec<u8>> {
    let origin = head.header("origin").map(str::to_owned);
    let cors = ctx
        .cors
        .as_ref()
        .map(|c| c.headers(origin.as_deref()))
        .unwrap_or_default();
    let keep_alive = head.http11 && !head.header_has_token("connection", "close");
    if head.method == "OPTIONS" {
        if let Some(cors) = &ctx.cors {
            let r = cors.preflight_response(
                origin.as_deref(),
                head.header("access-control-request-headers"),
            );
            http::write_full_response(stream, r.status, None, &r.headers, b"", keep_alive).ok()?;
            return keep_alive.then_some(leftover);
        }
    }
    if head.header("transfer-encoding").is_some() {
        let _ = http::write_full_response(stream, 411, None, &cors, b"", false);
        return None;
    }
    let len = match head
        .header("content-length")
        .map(|v| v.trim().parse::<usize>())
    {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            let _ = http::write_full_response(stream, 400, None, &cors, b"", false);
            return None;
        }
    };
    if len > ctx.max_payload {
        // The reference answers 413 and closes the connection; the session stays.
        let _ = http::write_full_response(stream, 413, None, &cors, b"", false);
        return None;
    }
    let (body, rest) = http::read_body(stream, leftover, len).ok()?;
    let mut request = HttpRequest::new(Method::from_name(&head.method), head.target, head.headers);
    request.body = body;
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
    let mut headers: Vec<(&str, String)> = response
        .headers
        .iter()
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    headers.extend(cors);
    let keep_alive = keep_alive
        && !response
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("connection") && v == "close");
    http::write_full_response(
        stream,
        response.status,
        response.content_type,
        &headers,
        &response.body,
        keep_alive,
    )
    .ok()?;
    keep_alive.then_some(rest)
}

fn serve_websocket(mut stream: TcpStream, head: RequestHead, leftover: Vec<u8>, ctx: ConnContext) {
    let key = match (
        head.method.as_str(),
        head.header("sec-websocket-key"),
        head.header("sec-websocket-version"),
    ) {
        ("GET", Some(key), Some("13")) => key.to_owned(),
        _ => {
            let _ = http::write_response(
                &mut stream,
                400,
                "text/plain",
                &[],
                b"Bad WebSocket handshake",
            );
            return;
        }
    };
    let handshake = Handshake::new(head.target.clone(), head.headers.clone());
    let (writer_tx, writer_rx) = mpsc::channel();
    let (reply_tx, reply_rx) = mpsc::channel();
    let token = next_id();
    if ctx
        .driver
        .send(Msg::Net(Net::Open {
            handshake,
            token,
            writer: writer_tx,
            reply: reply_tx,
        }))
        .is_err()
    {
        return;
    }
    let id = match reply_rx.recv() {
        Ok(Ok(id)) => id,
        Ok(Err(rejection)) => {
            let _ = http::write_response(
                &mut stream,
                rejection.status,
                "application/json",
                &[],
                rejection.json_body().as_bytes(),
            );
            return;
        }
        Err(_) => return,
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    // 4 KiB read buffer: tungstenite zero-fills its default 128 KiB buffer,
    // which made every idle connection cost ~170 kB of RSS (PERF_NOTES.md).
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .max_message_size(Some(ctx.max_payload))
        .max_frame_size(Some(ctx.max_payload));
    let write_half = match stream.try_clone() {
        Ok(s) => s,
        Err(_) => {
            let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
            return;
        }
    };
    if stream.write_all(response.as_bytes()).is_err() {
        let _ = ctx.driver.send(Msg::Net(Net::Closed(id, token)));
        return;
    }
    let writer_ws = WebSocket::from_raw_socket(write_half, Role::Server, Some(config));
    let writer = std::thread::Builder::new()
        .name("sio-writer".into())
        .stack_size(ctx.stack_size)
        .spawn(move || write_loop(writer_ws, writer_rx));
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
        }
    }
    let _ = reader.get_ref().0.shutdown(Shutdown::Read);
    let _ = writer.join();
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

fn write_loop(mut ws: WebSocket<TcpStream>, rx: mpsc::Receiver<WriterMsg>) {
    'outer: while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            let result = match msg {
                WriterMsg::Frame(frame) => match to_message(frame) {
                    Some(m) => ws.write(m),
                    None => Ok(()),
                },
                WriterMsg::Pong(data) => ws.write(Message::Pong(data)),
                WriterMsg::Close(code) => {
                    let frame = code.map(|c| CloseFrame {
                        code: CloseCode::from(c),
                        reason: "".into(),
                    });
                    let _ = ws.close(frame);
                    let _ = ws.flush();
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
    }
    let _ = ws.get_ref().shutdown(Shutdown::Both);
}
