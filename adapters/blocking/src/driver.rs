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
//!
//! Closing a WebSocket never blocks the driver: once our close frame is
//! written (by the driver, or by the writer, which then reports
//! [`Net::WriterDone`]), the connection waits in [`Driver::closing`] until
//! its reader has seen the peer's close frame (or EOF, or a broken frame)
//! or `Builder::ws_close_timeout` passed, and only then is the socket shut
//! down (RFC 6455 §7.1.1). A close the peer started is answered with its
//! code and the socket shut down once the answer is written.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use socketio_http::{ws, Router};
use socketio_sansio::app::{AppServer, Command, CommandSink};
use socketio_sansio::{
    ConnId, Frame, Handshake, HttpRequest, HttpResponse, Method, Rejection, RequestId, Transmit,
};

use crate::window::{WriteWindow, WRITE_WINDOW};

/// How long a writer may take to write what it still had when its
/// connection closed (the goodbye included) before the driver shuts its
/// socket down: a peer that stopped reading would keep the writer stuck in
/// `write` forever. (Added to the wait for the peer's close frame.)
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Inputs taken from the channel before the driver writes: a burst from
/// many readers costs one flush, with every frame of one connection in one
/// `send`.
const BATCH: usize = 1024;

/// What a connection's writer thread is asked to do.
pub(crate) enum WriterMsg {
    /// Encoded frames to write, in order.
    Bytes(Vec<u8>),
    /// The connection closed: the bytes before this end with our close
    /// frame; report [`Net::WriterDone`] and stop.
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
    /// The writer of this WebSocket stopped: it wrote everything up to
    /// [`WriterMsg::End`] (our close frame last), or a write failed.
    WriterDone(WsToken),
    /// The head of a POST was read; its body is still arriving.
    HttpStarted {
        req: RequestId,
        method: Method,
        url: String,
    },
    /// A request announced with `HttpStarted` was lost before its body
    /// was whole.
    HttpAborted(RequestId),
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

/// A WebSocket that sent (or is sending) our close frame, waiting to shut
/// its socket down.
struct Closing {
    /// When the socket is shut down in any case.
    by: Instant,
    stream: Arc<TcpStream>,
    /// A writer thread is still writing the backlog and our close frame.
    writing: bool,
    /// The reader ended: the peer's close frame, EOF, an error or a frame
    /// that broke the protocol.
    read_done: bool,
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
    /// Closed WebSockets whose socket is not shut down yet (a writer still
    /// writing, or waiting for the peer's close frame), by token.
    closing: HashMap<WsToken, Closing>,
    /// How long our close waits for the peer's close frame.
    close_wait: Duration,
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
            close_wait: router.ws_close_timeout(),
            router,
            conns: HashMap::new(),
            dirty: Vec::new(),
            closing: HashMap::new(),
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
        // Stopped: no more waiting for peers' close frames. (A writer
        // still writing shuts its socket down itself once it finds the
        // driver gone.)
        for c in self.closing.values() {
            if !c.writing {
                let _ = c.stream.shutdown(Shutdown::Both);
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
            // Data frames after our close frame are dropped.
            Net::Text(id, text) => {
                if self.conns.contains_key(&id) {
                    self.app.handle_ws_text(now, id, &text)
                }
            }
            Net::Binary(id, data) => {
                if self.conns.contains_key(&id) {
                    self.app.handle_ws_binary(now, id, data)
                }
            }
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
                } else {
                    self.read_done(token);
                }
            }
            Net::Close(id, token, code) => {
                if self.conns.get(&id).is_some_and(|c| c.token == token) {
                    log::debug!("{id}: websocket closed by the peer or broken, code {code:?}");
                    if let Some(c) = self.conns.remove(&id) {
                        // Answer the closing handshake (the reader is done).
                        self.close_conn(now, id, c, code, true);
                    }
                    self.app.handle_ws_closed(now, id);
                } else {
                    // The answer to our close frame (or a broken frame
                    // after it).
                    self.read_done(token);
                }
            }
            Net::WriterDone(token) => {
                if let Some(c) = self.closing.get_mut(&token) {
                    c.writing = false;
                    if c.read_done {
                        self.shut(token);
                    } else {
                        // Our close frame is out: now wait for the peer's.
                        c.by = c.by.min(now + self.close_wait);
                    }
                }
            }
            Net::HttpStarted { req, method, url } => {
                self.app.handle_http_started(now, req, method, &url)
            }
            Net::HttpAborted(req) => self.app.handle_http_aborted(now, req),
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
    /// after whatever it still had (`code`: the peer's, echoed, or ours).
    /// Once that is written the socket is shut down when the reader is
    /// done (`read_done`: it saw the peer's close frame, EOF or a broken
    /// frame), or else after the peer's close frame or
    /// [`Driver::close_wait`] (see [`Driver::closing`]). A connection
    /// whose writer is stuck behind a peer that does not read
    /// (write-blocked) is shut down at once, dropping what it still holds.
    /// Other writers get [`CLOSE_GRACE`] to write their backlog and the
    /// goodbye.
    fn close_conn(
        &mut self,
        now: Instant,
        id: ConnId,
        mut c: Conn,
        code: Option<u16>,
        read_done: bool,
    ) {
        ws::put_close(&mut c.out, code);
        let token = c.token;
        let stream = c.stream.clone();
        let window = c.window.clone();
        // Flush through the table (the writer, if any, lives there).
        self.conns.insert(id, c);
        let flushed = self.flush(id);
        let Some(c) = self.conns.remove(&id) else {
            return;
        };
        let writing = match (flushed, c.writer) {
            (Flushed::Done, Some(tx)) => {
                if tx.send(WriterMsg::End).is_err() || window.is_blocked() {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                true
            }
            (Flushed::Done, None) => false,
            (Flushed::Failed, _) => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        };
        if read_done && !writing {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        let by = if writing {
            now + CLOSE_GRACE + self.close_wait
        } else {
            now + self.close_wait
        };
        let closing = Closing {
            by,
            stream,
            writing,
            read_done,
        };
        self.closing.insert(token, closing);
    }

    /// The reader of closed WebSocket `token` ended: its socket is shut
    /// down unless a writer is still writing our close frame.
    fn read_done(&mut self, token: WsToken) {
        if let Some(c) = self.closing.get_mut(&token) {
            c.read_done = true;
            if !c.writing {
                self.shut(token);
            }
        }
    }

    /// Shuts down the socket of closed WebSocket `token` and forgets it.
    fn shut(&mut self, token: WsToken) {
        if let Some(c) = self.closing.remove(&token) {
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }

    /// When the next closing WebSocket runs out of time.
    fn closing_deadline(&self) -> Option<Instant> {
        self.closing.values().map(|c| c.by).min()
    }

    /// Shuts down the sockets of closing WebSockets out of time (a writer
    /// that could not write the goodbye, or a peer that did not answer
    /// our close frame).
    fn reap(&mut self, now: Instant) {
        self.closing.retain(|_, c| {
            if c.by <= now {
                if c.writing {
                    log::debug!(
                        "a writer did not finish closing in time: shutting its socket down"
                    );
                }
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
                        self.close_conn(now, id, c, None, false);
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
