//! The driver thread: owns the [`AppServer`] (the core `Server` and the
//! application), stamps `now` on every input, and hands frames to the
//! connections' writer threads and responses to the waiting HTTP requests.
//!
//! Loop: wait on the one inbound channel until the next deadline; feed each
//! message (network input, or a [`Command`] from a [`socketio_sansio::app::Remote`])
//! to the `AppServer`, which runs the handlers inside the call; fire due
//! timers; then write what the `AppServer` has to send.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use socketio_sansio::app::{AppServer, Command, CommandSink};
use socketio_sansio::{
    ConnId, Frame, Handshake, HttpRequest, HttpResponse, Method, Rejection, RequestId, Transmit,
};
use tungstenite::protocol::frame::Utf8Bytes;

use crate::window::WriteWindow;

/// How long a writer may take to write what it still had when its
/// connection closed (the goodbye included) before the driver shuts its
/// socket down: a peer that stopped reading would keep the writer stuck in
/// `write` forever.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// What a connection's writer thread is asked to do.
pub(crate) enum WriterMsg {
    Frame(Frame),
    /// Answer a WebSocket ping.
    Pong(tungstenite::Bytes),
    /// Send a close frame with this status code and stop.
    Close(Option<u16>),
}

/// Identifies one WebSocket (a session may see several: upgrade candidates).
pub(crate) type WsToken = u64;

/// Network input from connection threads.
pub(crate) enum Net {
    Open {
        handshake: Handshake,
        token: WsToken,
        writer: mpsc::Sender<WriterMsg>,
        /// The bytes handed to the writer and not yet written.
        window: Arc<WriteWindow>,
        /// A clone of the socket, to shut it down under a stuck writer.
        stream: TcpStream,
        /// The new transport's id and its session's sid.
        reply: mpsc::Sender<Result<(ConnId, String), Rejection>>,
    },
    Text(ConnId, Utf8Bytes),
    Binary(ConnId, Vec<u8>),
    /// A WebSocket ping to answer.
    Pong(ConnId, WsToken, tungstenite::Bytes),
    Closed(ConnId, WsToken),
    /// The peer's close frame, with its status code (echoed if we had not
    /// closed first).
    PeerClosed(ConnId, WsToken, Option<u16>),
    Error(ConnId, WsToken, String),
    /// The writer of this WebSocket drained under half its window after the
    /// connection was write-blocked: frames may flow again.
    WriteReady(ConnId, WsToken),
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

/// The driver's side of a WebSocket's writer thread.
struct Writer {
    token: WsToken,
    tx: mpsc::Sender<WriterMsg>,
    window: Arc<WriteWindow>,
    stream: TcpStream,
}

impl Writer {
    /// Hands the writer a frame; past the window, the core holds the next
    /// ones.
    fn frame<D: 'static>(&self, app: &mut AppServer<D>, id: ConnId, frame: Frame) {
        // Counted before it is sent: the writer takes it off once written.
        let blocked = self.window.queued(frame.len());
        if self.tx.send(WriterMsg::Frame(frame)).is_err() {
            return; // the writer is gone; the reader reports the close
        }
        if blocked {
            app.handle_write_blocked(id);
            if self.window.recheck() {
                app.handle_write_ready(id);
            }
        }
    }
}

/// A writer whose connection closed, still finishing its output.
struct Closing {
    by: Instant,
    window: Arc<WriteWindow>,
    stream: TcpStream,
}

pub(crate) struct Driver<D> {
    app: AppServer<D>,
    writers: HashMap<ConnId, Writer>,
    /// Closed writers that may still be writing, shut down after
    /// [`CLOSE_GRACE`].
    closing: Vec<Closing>,
    /// Who waits for the answer to each HTTP request.
    http_waiting: HashMap<RequestId, mpsc::Sender<HttpResponse>>,
    /// How long a writer's close waits for the peer's close frame (added
    /// to [`CLOSE_GRACE`]).
    close_wait: Duration,
}

impl<D: 'static> Driver<D> {
    pub(crate) fn new(app: AppServer<D>, close_wait: Duration) -> Self {
        Driver {
            app,
            writers: HashMap::new(),
            closing: Vec::new(),
            http_waiting: HashMap::new(),
            close_wait,
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
                // Take whatever else is already waiting before draining, so
                // bursts cost one drain.
                for _ in 0..64 {
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
            self.reap(now);
            if self.app.is_shutting_down()
                && self.app.server().connection_count() == 0
                && self.writers.is_empty()
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
                writer,
                window,
                stream,
                reply,
            } => {
                if self.app.is_shutting_down() {
                    let _ = reply.send(Err(Rejection::BAD_REQUEST));
                    return;
                }
                let result = self.app.handle_ws_open(now, handshake);
                if let Ok(id) = result {
                    let writer = Writer {
                        token,
                        tx: writer,
                        window,
                        stream,
                    };
                    // An upgrade candidate replaced by another: the old
                    // writer ends once its channel is dropped.
                    self.writers.insert(id, writer);
                    // A new transport starts with an empty window.
                    self.app.handle_write_ready(id);
                }
                let result = result.map(|id| {
                    let sid = self
                        .app
                        .server()
                        .any_connection(id)
                        .map(|c| c.sid().to_owned());
                    (id, sid.unwrap_or_default())
                });
                let _ = reply.send(result);
            }
            Net::Text(id, text) => self.app.handle_ws_text(now, id, &text),
            Net::Binary(id, data) => self.app.handle_ws_binary(now, id, data),
            Net::Pong(id, token, data) => {
                if let Some(w) = self.writers.get(&id) {
                    if w.token == token {
                        let _ = w.tx.send(WriterMsg::Pong(data));
                    }
                }
            }
            Net::Closed(id, token) => {
                if self.writers.get(&id).is_some_and(|w| w.token == token) {
                    self.app.handle_ws_closed(now, id);
                }
                self.forget(id, token);
            }
            Net::PeerClosed(id, token, code) => {
                if self.writers.get(&id).is_some_and(|w| w.token == token) {
                    if let Some(w) = self.writers.remove(&id) {
                        // Answer the closing handshake.
                        self.close_writer(now, w, code);
                    }
                    self.app.handle_ws_closed(now, id);
                }
            }
            Net::HttpStarted { req, method, url } => {
                self.app.handle_http_started(now, req, method, &url)
            }
            Net::HttpAborted(req) => self.app.handle_http_aborted(now, req),
            Net::Error(id, token, why) => {
                log::debug!("{id}: transport error: {why}");
                if self.writers.get(&id).is_some_and(|w| w.token == token) {
                    if let Some(w) = self.writers.remove(&id) {
                        self.close_writer(now, w, Some(1009));
                    }
                    self.app.handle_ws_closed(now, id);
                }
            }
            Net::WriteReady(id, token) => {
                if self.writers.get(&id).is_some_and(|w| w.token == token) {
                    self.app.handle_write_ready(id);
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

    /// Drops the writer of WebSocket `token` (not a newer one of the same
    /// session, e.g. after an abandoned upgrade).
    fn forget(&mut self, id: ConnId, token: WsToken) {
        if self.writers.get(&id).is_some_and(|w| w.token == token) {
            self.writers.remove(&id);
        }
    }

    /// Asks a writer to close its WebSocket. A writer whose connection was
    /// write-blocked is stuck behind a peer that does not read: its socket
    /// is shut down at once, dropping what it still holds (the stuck
    /// `write` returns). Others get [`CLOSE_GRACE`] to write their backlog
    /// and the goodbye.
    fn close_writer(&mut self, now: Instant, w: Writer, code: Option<u16>) {
        let _ = w.tx.send(WriterMsg::Close(code));
        if w.window.is_blocked() {
            let _ = w.stream.shutdown(Shutdown::Both);
        } else {
            self.closing.push(Closing {
                by: now + CLOSE_GRACE + self.close_wait,
                window: w.window,
                stream: w.stream,
            });
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

    /// Writes what the `AppServer` has to send (the handlers already ran).
    fn drain(&mut self, now: Instant) {
        while let Some((id, t)) = self.app.poll_transmit() {
            match t {
                Transmit::Frame(frame) => {
                    if let Some(w) = self.writers.get(&id) {
                        w.frame(&mut self.app, id, frame);
                    }
                }
                Transmit::Close => {
                    if let Some(w) = self.writers.remove(&id) {
                        self.close_writer(now, w, None);
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
