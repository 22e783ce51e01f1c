//! The driver thread: owns the [`AppServer`] (the core `Server` and the
//! application), stamps `now` on every input, writes the WebSocket frames
//! itself and hands responses to the waiting HTTP requests.
//!
//! Loop: wait on the one inbound channel until the next deadline; feed each
//! message (network input, or a [`Command`] from a [`socketio_sansio::app::Remote`])
//! to the `AppServer`, which runs the handlers inside the call, and take
//! whatever else already waits; fire due timers; encode what the
//! `AppServer` has to send into each connection's buffer; then flush every
//! buffer with one non-blocking `send` (several frames per syscall).
//!
//! Only when a socket's kernel buffer is full does a connection get a
//! writer thread (`conn::write_loop`): the driver hands it the
//! rest, and every later byte of that connection, so that frames never
//! interleave. The writer blocks in `write`; the bytes it holds are bounded
//! by the [`WriteWindow`]. Once it has written everything it asks to be
//! retired ([`Net::WriterIdle`]), and the driver writes directly again.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use socketio_http::{ws, Router};
use socketio_sansio::app::{AppServer, Command, CommandSink};
use socketio_sansio::{
    ConnId, Frame, Handshake, HttpRequest, HttpResponse, Rejection, RequestId, Transmit,
};

use crate::window::{WriteWindow, WRITE_WINDOW};

/// How long a writer may take to write what it still had when its
/// connection closed (the goodbye included) before the driver shuts its
/// socket down: a peer that stopped reading would keep the writer stuck in
/// `write` forever.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Inputs taken from the channel before the driver writes: a burst from
/// many readers costs one flush, with every frame of one connection in one
/// `send`.
const BATCH: usize = 1024;

/// What a connection's writer thread is asked to do.
pub(crate) enum WriterMsg {
    /// Encoded frames to write, in order.
    Bytes(Vec<u8>),
    /// The connection closed: after the bytes before this, shut the socket
    /// down and stop.
    End,
}

/// Identifies one WebSocket (a session may see several: upgrade candidates).
pub(crate) type WsToken = u64;

/// Network input from connection threads.
pub(crate) enum Net {
    Open {
        handshake: Handshake,
        token: WsToken,
        /// The upgrade's `Sec-WebSocket-Accept` and whether it opens a new
        /// session (then the 101 carries the session cookie, if any).
        accept_key: String,
        new_session: bool,
        /// The socket, shared with the reader (one descriptor per
        /// connection).
        stream: Arc<TcpStream>,
        /// The new transport's id, or the rejection to answer.
        reply: mpsc::Sender<Result<ConnId, Rejection>>,
    },
    Text(ConnId, String),
    Binary(ConnId, Vec<u8>),
    /// Several of these from one read.
    Batch(Vec<Net>),
    /// A WebSocket ping to answer with this payload.
    Pong(ConnId, WsToken, Vec<u8>),
    /// The socket ended (the peer is gone, or reading failed).
    Closed(ConnId, WsToken),
    /// The peer closed the WebSocket (echo its code), or broke the
    /// protocol (close with this code: 1002, 1007, 1009).
    Close(ConnId, WsToken, Option<u16>),
    /// The writer of this WebSocket drained under half its window after the
    /// connection was write-blocked: frames may flow again.
    WriteReady(ConnId, WsToken),
    /// The writer of this WebSocket has written everything it was handed
    /// and waits: the driver may retire it and write directly again.
    WriterIdle(ConnId, WsToken),
    /// A polling request; the answer goes to `reply`.
    Http {
        req: RequestId,
        request: HttpRequest,
        reply: mpsc::Sender<HttpResponse>,
    },
}

/// What the connection threads send the driver.
pub(crate) enum Msg {
    Net(Net),
}

/// The driver is gone (the server stopped).
#[derive(Debug)]
pub(crate) struct DriverGone;

/// The connection threads' way to the driver. Not generic over the
/// application's socket data: the driver wraps each message into its own
/// channel's type.
#[derive(Clone)]
pub(crate) struct DriverTx(Arc<dyn Fn(Msg) -> bool + Send + Sync>);

impl DriverTx {
    /// Queues `msg` for the driver.
    pub(crate) fn send(&self, msg: Msg) -> Result<(), DriverGone> {
        if (self.0)(msg) {
            Ok(())
        } else {
            Err(DriverGone)
        }
    }
}

/// Everything the driver thread receives, in one channel (so network input
/// and commands apply in the order they were sent).
pub(crate) enum Input<D> {
    Net(Net),
    Command(Command<D>),
}

/// The driver's [`CommandSink`]: commands go on the driver's channel.
pub(crate) struct Sink<D> {
    tx: mpsc::Sender<Input<D>>,
    /// The driver thread, once it runs.
    thread: OnceLock<ThreadId>,
}

impl<D: 'static> Sink<D> {
    /// A sink on a new channel, and the channel's receiving end.
    pub(crate) fn channel() -> (Arc<Self>, mpsc::Receiver<Input<D>>) {
        let (tx, rx) = mpsc::channel();
        let sink = Sink {
            tx,
            thread: OnceLock::new(),
        };
        (Arc::new(sink), rx)
    }

    /// The transport's handle, on the same channel.
    pub(crate) fn driver_tx(&self) -> DriverTx {
        let tx = self.tx.clone();
        DriverTx(Arc::new(move |Msg::Net(net)| {
            tx.send(Input::Net(net)).is_ok()
        }))
    }
}

impl<D> CommandSink<D> for Sink<D> {
    fn send(&self, command: Command<D>) -> bool {
        self.tx.send(Input::Command(command)).is_ok()
    }

    fn on_loop_thread(&self) -> bool {
        self.thread.get() == Some(&std::thread::current().id())
    }
}

/// Writes as much of `buf` as the socket takes without waiting.
#[cfg(unix)]
fn send_now(stream: &TcpStream, buf: &[u8]) -> std::io::Result<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const FLAGS: libc::c_int = libc::MSG_DONTWAIT;
    socket2::SockRef::from(stream).send_with_flags(buf, FLAGS)
}

/// Without a per-call non-blocking send, every byte goes through the
/// connection's writer thread.
#[cfg(not(unix))]
fn send_now(_stream: &TcpStream, _buf: &[u8]) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::WouldBlock.into())
}

/// Whether a writer that drained may be retired (the driver then writes
/// directly again).
pub(crate) const RETIRE_WRITERS: bool = cfg!(unix);

/// The driver's side of one WebSocket.
struct Conn {
    token: WsToken,
    stream: Arc<TcpStream>,
    /// Frames encoded this turn, not yet written.
    out: Vec<u8>,
    /// Bytes handed to the writer and not yet written.
    window: Arc<WriteWindow>,
    /// The writer thread, while the connection has a backlog: every byte
    /// goes to it (behind the backlog) until it is retired.
    writer: Option<mpsc::Sender<WriterMsg>>,
}

/// A writer whose connection closed, still finishing its output.
struct Closing {
    by: Instant,
    window: Arc<WriteWindow>,
    stream: Arc<TcpStream>,
}

/// How a flush ended.
enum Flushed {
    /// Written to the socket, or handed to the writer.
    Done,
    /// The socket failed (the reader reports the close) or no writer could
    /// be started: the socket was shut down.
    Failed,
}

pub(crate) struct Driver<D> {
    app: AppServer<D>,
    router: Arc<Router>,
    conns: HashMap<ConnId, Conn>,
    /// Connections with bytes in `out`, to flush at the end of the turn.
    dirty: Vec<ConnId>,
    /// Closed writers that may still be writing, shut down after
    /// [`CLOSE_GRACE`].
    closing: Vec<Closing>,
    /// Who waits for the answer to each HTTP request.
    http_waiting: HashMap<RequestId, mpsc::Sender<HttpResponse>>,
    /// Where writer threads report, and their stack size.
    links: crate::conn::WriterSpawn,
}

impl<D: 'static> Driver<D> {
    pub(crate) fn new(
        app: AppServer<D>,
        router: Arc<Router>,
        links: crate::conn::WriterSpawn,
    ) -> Self {
        Driver {
            app,
            router,
            conns: HashMap::new(),
            dirty: Vec::new(),
            closing: Vec::new(),
            http_waiting: HashMap::new(),
            links,
        }
    }

    /// Runs on the current thread (which becomes the loop thread of `sink`)
    /// until shut down and every connection is closed, or every sender is
    /// gone.
    pub(crate) fn run(mut self, rx: mpsc::Receiver<Input<D>>, sink: &Sink<D>) {
        let _ = sink.thread.set(std::thread::current().id());
        loop {
            let deadline = match (self.app.poll_timeout(), self.closing_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let input = match deadline {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(m) => Some(m),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => break,
                },
            };
            let now = Instant::now();
            if let Some(input) = input {
                self.apply(now, input);
                // Take whatever else is already waiting before writing, so
                // bursts cost one flush.
                for _ in 0..BATCH {
                    match rx.try_recv() {
                        Ok(m) => self.apply(now, m),
                        Err(_) => break,
                    }
                }
            }
            if self.app.poll_timeout().is_some_and(|t| t <= now) {
                self.app.handle_timeout(now);
            }
            self.drain(now);
            self.flush_all();
            self.reap(now);
            if self.app.is_shutting_down()
                && self.app.server().connection_count() == 0
                && self.conns.is_empty()
            {
                break;
            }
        }
        // Dropping the AppServer resolves whatever still waits for an
        // acknowledgement (`AckError::ServerStopped`).
    }

    fn apply(&mut self, now: Instant, input: Input<D>) {
        match input {
            Input::Net(net) => self.apply_net(now, net),
            Input::Command(command) => self.app.apply(now, command),
        }
    }

    fn apply_net(&mut self, now: Instant, net: Net) {
        match net {
            Net::Open {
                handshake,
                token,
                accept_key,
                new_session,
                stream,
                reply,
            } => {
                if self.app.is_shutting_down() {
                    let _ = reply.send(Err(Rejection::BAD_REQUEST));
                    return;
                }
                let result = self.app.handle_ws_open(now, handshake);
                if let Ok(id) = result {
                    // The 101 goes first, in the same buffer as the
                    // transport's first frames.
                    let mut out = Vec::with_capacity(256);
                    let sid = if new_session {
                        self.app
                            .server()
                            .any_connection(id)
                            .map(|c| c.sid().to_owned())
                    } else {
                        None
                    };
                    self.router
                        .put_switching_protocols(&mut out, &accept_key, sid.as_deref());
                    let conn = Conn {
                        token,
                        stream,
                        out,
                        window: Arc::default(),
                        writer: None,
                    };
                    // An upgrade candidate replaced by another: the old
                    // connection's writer (if any) ends once its channel is
                    // dropped.
                    self.conns.insert(id, conn);
                    self.dirty.push(id);
                    // A new transport starts with an empty window.
                    self.app.handle_write_ready(id);
                }
                let _ = reply.send(result);
            }
            Net::Text(id, text) => self.app.handle_ws_text(now, id, &text),
            Net::Binary(id, data) => self.app.handle_ws_binary(now, id, data),
            Net::Pong(id, token, data) => {
                if let Some(c) = self.conns.get_mut(&id) {
                    if c.token == token {
                        if c.out.is_empty() {
                            self.dirty.push(id);
                        }
                        ws::put_frame(&mut c.out, ws::OP_PONG, &data);
                    }
                }
            }
            Net::Batch(batch) => {
                for net in batch {
                    self.apply_net(now, net);
                }
            }
            Net::Closed(id, token) => {
                if self.conns.get(&id).is_some_and(|c| c.token == token) {
                    if let Some(c) = self.conns.remove(&id) {
                        // A writer stuck on this socket returns.
                        let _ = c.stream.shutdown(Shutdown::Both);
                    }
                    self.app.handle_ws_closed(now, id);
                }
            }
            Net::Close(id, token, code) => {
                if self.conns.get(&id).is_some_and(|c| c.token == token) {
                    log::debug!("{id}: websocket closed by the peer or broken, code {code:?}");
                    if let Some(c) = self.conns.remove(&id) {
                        self.close_conn(now, id, c, code);
                    }
                    self.app.handle_ws_closed(now, id);
                }
            }
            Net::WriteReady(id, token) => {
                if self.conns.get(&id).is_some_and(|c| c.token == token) {
                    self.app.handle_write_ready(id);
                }
            }
            Net::WriterIdle(id, token) => {
                if let Some(c) = self.conns.get_mut(&id) {
                    // Only the driver adds to the window: nothing pending
                    // means the writer holds nothing and will get nothing
                    // more. Dropping its channel ends it.
                    if c.token == token && c.window.pending() == 0 && !c.window.is_blocked() {
                        c.writer = None;
                    }
                }
            }
            Net::Http {
                req,
                request,
                reply,
            } => {
                self.http_waiting.insert(req, reply);
                self.app.handle_http(now, req, request);
            }
        }
    }

    /// Writes a connection's buffer: directly while it has no backlog (as
    /// much as the socket takes now), the rest to a writer thread started
    /// for it, which then gets every later byte too.
    fn flush(&mut self, id: ConnId) -> Flushed {
        let Some(c) = self.conns.get_mut(&id) else {
            return Flushed::Done;
        };
        if c.out.is_empty() {
            return Flushed::Done;
        }
        if c.writer.is_none() {
            let mut sent = 0;
            while sent < c.out.len() {
                match send_now(&c.stream, &c.out[sent..]) {
                    Ok(0) => break,
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        // The reader sees the shut-down socket and reports
                        // the close.
                        log::debug!("{id}: write failed: {e}");
                        let _ = c.stream.shutdown(Shutdown::Both);
                        c.out = Vec::new();
                        return Flushed::Failed;
                    }
                }
            }
            if sent == c.out.len() {
                // An idle connection holds no buffer.
                c.out = Vec::new();
                return Flushed::Done;
            }
            c.out.drain(..sent);
            let (tx, rx) = mpsc::channel();
            let spawned = self
                .links
                .spawn(id, c.token, c.stream.clone(), c.window.clone(), rx);
            if let Err(e) = spawned {
                log::warn!("cannot spawn a writer thread: {e}");
                let _ = c.stream.shutdown(Shutdown::Both);
                c.out = Vec::new();
                return Flushed::Failed;
            }
            c.writer = Some(tx);
        }
        let Some(tx) = &c.writer else {
            return Flushed::Done;
        };
        let bytes = std::mem::take(&mut c.out);
        // Counted before it is sent: the writer takes it off once written.
        let blocked = c.window.queued(bytes.len());
        if tx.send(WriterMsg::Bytes(bytes)).is_err() {
            return Flushed::Failed; // the writer failed; the reader reports the close
        }
        if blocked {
            let window = c.window.clone();
            self.app.handle_write_blocked(id);
            if window.recheck() {
                self.app.handle_write_ready(id);
            }
        }
        Flushed::Done
    }

    /// Flushes every connection written to this turn.
    fn flush_all(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        for id in dirty.drain(..) {
            self.flush(id);
        }
        // Keep the allocation for the next turn.
        if self.dirty.is_empty() {
            self.dirty = dirty;
        }
    }

    /// Closes a WebSocket the driver no longer tracks: the close frame
    /// after whatever it still had, then the socket is shut down. A
    /// connection whose writer is stuck behind a peer that does not read
    /// (write-blocked) is shut down at once, dropping what it still holds.
    /// Other writers get [`CLOSE_GRACE`] to write their backlog and the
    /// goodbye.
    fn close_conn(&mut self, now: Instant, id: ConnId, mut c: Conn, code: Option<u16>) {
        ws::put_close(&mut c.out, code);
        let stream = c.stream.clone();
        let window = c.window.clone();
        // Flush through the table (the writer, if any, lives there).
        self.conns.insert(id, c);
        let flushed = self.flush(id);
        let Some(c) = self.conns.remove(&id) else {
            return;
        };
        match (flushed, c.writer) {
            (Flushed::Done, Some(tx)) => {
                let _ = tx.send(WriterMsg::End);
                if window.is_blocked() {
                    let _ = stream.shutdown(Shutdown::Both);
                } else {
                    self.closing.push(Closing {
                        by: now + CLOSE_GRACE,
                        window,
                        stream,
                    });
                }
            }
            _ => {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// When the next closing writer runs out of time.
    fn closing_deadline(&self) -> Option<Instant> {
        self.closing.iter().map(|c| c.by).min()
    }

    /// Forgets closing writers that finished (the writer thread dropped
    /// its share of the window), and shuts down the sockets of those out
    /// of time.
    fn reap(&mut self, now: Instant) {
        self.closing.retain(|c| {
            if Arc::strong_count(&c.window) == 1 {
                return false;
            }
            if c.by <= now {
                log::debug!("a writer did not finish closing in time: shutting its socket down");
                let _ = c.stream.shutdown(Shutdown::Both);
                return false;
            }
            true
        });
    }

    /// Encodes what the `AppServer` has to send (the handlers already ran)
    /// into the connections' buffers; a buffer past the window is flushed
    /// at once, so that a burst to one connection blocks it in the core.
    fn drain(&mut self, now: Instant) {
        while let Some((id, t)) = self.app.poll_transmit() {
            match t {
                Transmit::Frame(frame) => {
                    let Some(c) = self.conns.get_mut(&id) else {
                        continue;
                    };
                    if c.out.is_empty() {
                        self.dirty.push(id);
                    }
                    match &frame {
                        Frame::Text(t) => ws::put_frame(&mut c.out, ws::OP_TEXT, t.as_bytes()),
                        Frame::Binary(b) => ws::put_frame(&mut c.out, ws::OP_BINARY, b),
                    }
                    if c.out.len() >= WRITE_WINDOW / 4 {
                        self.flush(id);
                    }
                }
                Transmit::Close => {
                    if let Some(c) = self.conns.remove(&id) {
                        self.close_conn(now, id, c, None);
                    }
                }
            }
        }
        while let Some((req, response)) = self.app.poll_http_response() {
            if let Some(reply) = self.http_waiting.remove(&req) {
                let _ = reply.send(response);
            }
        }
    }
}
