//! The loop: one `mio::Poll` over the listener, a waker and every
//! connection. Each turn: read every readable connection (edge-triggered,
//! into one shared scratch buffer) and feed the [`AppServer`] (which runs
//! the handlers inline); apply the commands of other threads; drain it
//! (transmits into per-connection output buffers, HTTP responses); then
//! write each connection that has output once.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use socketio_http::{parse_head, ws, Parsed, PendingReply, Reply, Route, Router};
use socketio_sansio::app::{AppServer, Command, CommandSink, Remote};
use socketio_sansio::{Config, ConnId, ConnIdMap, Frame, Handshake, Method, RequestId, Transmit};

use crate::ServerHandle;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_CONN: usize = 2;
/// The shared read buffer.
const SCRATCH: usize = 64 * 1024;
/// Reads per connection per turn before others get their turn.
const READS_PER_TURN: usize = 16;
/// Output buffers kept for reuse, and the largest one kept.
const POOL_MAX: usize = 256;
const POOL_BUF_MAX: usize = 256 * 1024;
/// Connections written per loop turn before polling for input again.
const FLUSH_PER_TURN: usize = 64;
/// How long the loop polls without blocking before it sleeps.
const SPIN: Duration = Duration::from_micros(50);
/// Events plus writes in a turn up to which it counts as light.
const LIGHT_TURN: usize = 4;
/// How long a shutdown waits for goodbyes to be written.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// Unwritten output a WebSocket may have before the core is told it is
/// write-blocked (`handle_write_blocked`): further frames stay in the core,
/// where they count toward `Config::max_outbound_bytes` (past it the core
/// closes the connection with `OutboundQueueFull`). Frames flow again once
/// a flush brings the output under half of it. Large enough that a client
/// which reads is not blocked by a burst (a few hundred 1 KB frames);
/// small enough that thousands of clients that stop reading cost little
/// beyond what the core's limit already allows each of them.
const WRITE_WINDOW: usize = 256 * 1024;

/// Whether a connection with `unflushed` bytes of output changes state:
/// `Some(true)` when it must be reported write-blocked, `Some(false)` when
/// a blocked one may resume.
fn window_change(blocked: bool, unflushed: usize) -> Option<bool> {
    match (blocked, unflushed) {
        (false, n) if n > WRITE_WINDOW => Some(true),
        (true, n) if n <= WRITE_WINDOW / 2 => Some(false),
        _ => None,
    }
}

enum Proto {
    /// Reading a request head (and body). `started`: a POST whose body is
    /// still arriving, announced to the core under this id.
    Http {
        buf: Vec<u8>,
        started: Option<RequestId>,
    },
    /// A request is with the core; input is kept until the answer is written.
    Waiting {
        req: RequestId,
        buf: Vec<u8>,
        /// Keep-alive and CORS headers for the answer.
        reply: PendingReply,
    },
    /// A WebSocket session.
    Ws {
        id: ConnId,
        /// An incomplete frame (empty when idle).
        partial: Vec<u8>,
        /// A fragmented message being assembled: opcode and data.
        frag: Option<(u8, Vec<u8>)>,
    },
    /// Input is ignored; the socket closes once the output is written.
    Closing,
    /// Our close frame is out (or going): frames are read and dropped until
    /// the peer's close frame or EOF, or `by`; then the socket closes.
    WsClosing { partial: Vec<u8>, by: Instant },
}

struct Conn {
    stream: TcpStream,
    /// The peer's address, from `accept` (no `getpeername` per request).
    peer: SocketAddr,
    proto: Proto,
    out: Vec<u8>,
    out_pos: usize,
    /// In the flush list.
    queued: bool,
    close_after_flush: bool,
    /// Reported write-blocked to the core (its output passed
    /// [`WRITE_WINDOW`]).
    write_blocked: bool,
}

/// The way other threads reach the loop: the [`CommandSink`] behind every
/// [`Remote`]. Commands are queued and the loop is woken; they run on the
/// loop thread, in order.
struct Shared<D> {
    waker: Waker,
    /// `None` once the loop stopped: later commands are refused.
    queue: Mutex<Option<Vec<Command<D>>>>,
    /// The thread running [`MioServer::run`], once it started.
    loop_thread: OnceLock<ThreadId>,
}

impl<D> Shared<D> {
    /// Takes the queued commands (none once closed).
    fn take(&self) -> Vec<Command<D>> {
        match self.queue.lock() {
            Ok(mut q) => q.as_mut().map(std::mem::take).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Refuses every later command and drops the queued ones (a blocked
    /// `emit_with_ack` waiting on one of them then returns).
    fn close(&self) {
        let dropped = match self.queue.lock() {
            Ok(mut q) => q.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(dropped);
    }
}

impl<D> CommandSink<D> for Shared<D> {
    fn send(&self, command: Command<D>) -> bool {
        match self.queue.lock() {
            Ok(mut q) => match q.as_mut() {
                Some(q) => q.push(command),
                None => return false,
            },
            Err(_) => return false,
        }
        if let Err(e) = self.waker.wake() {
            log::debug!("waking the loop failed: {e}");
        }
        true
    }

    fn on_loop_thread(&self) -> bool {
        self.loop_thread.get() == Some(&std::thread::current().id())
    }
}

/// A bound server: call [`MioServer::run`] on the thread that should serve,
/// or [`MioServer::spawn`] to serve on a thread of its own.
pub struct MioServer<D = ()> {
    poll: Poll,
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    server: AppServer<D>,
    config: Arc<Config>,
    /// The HTTP decisions (paths, CORS, limits, static files).
    router: Router,
    shared: Arc<Shared<D>>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_conn: ConnIdMap<usize>,
    by_req: HashMap<RequestId, usize>,
    next_req: RequestId,
    /// Connections with output to write, in order; at most
    /// [`FLUSH_PER_TURN`] are written per turn.
    flush_list: VecDeque<usize>,
    /// Connections that still had input when their read budget ran out.
    again: Vec<usize>,
    /// WebSockets waiting for the peer's close frame, by deadline (in
    /// order: every deadline is now plus the same timeout).
    ws_closing: VecDeque<(Instant, usize)>,
    scratch: Vec<u8>,
    /// The last turn had little to do: spin briefly before sleeping.
    light_turn: bool,
    /// A flush resumed a write-blocked connection: the core has frames for
    /// it, so the next turn does not sleep.
    resumed: bool,
    pool: Vec<Vec<u8>>,
    now: Instant,
}

impl MioServer {
    /// A builder: configuration and CORS, then [`crate::Builder::bind`]
    /// with the application.
    pub fn builder() -> crate::Builder {
        crate::Builder::new(crate::EventLoop)
    }
}

impl<D> std::fmt::Debug for MioServer<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MioServer")
            .field("local_addr", &self.local_addr)
            .field("server", &self.server)
            .finish()
    }
}

impl<D> Drop for MioServer<D> {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl<D: Default + Send + 'static> MioServer<D> {
    pub(crate) fn new(
        mut server: AppServer<D>,
        addr: SocketAddr,
        router: Router,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(Shared {
            waker,
            queue: Mutex::new(Some(Vec::new())),
            loop_thread: OnceLock::new(),
        });
        server.set_remote(Remote::new(shared.clone()));
        Ok(MioServer {
            poll,
            listener: Some(listener),
            local_addr,
            config: server.server().config().clone(),
            server,
            router,
            shared,
            conns: Vec::new(),
            free: Vec::new(),
            by_conn: HashMap::default(),
            by_req: HashMap::new(),
            next_req: 1,
            flush_list: VecDeque::new(),
            again: Vec::new(),
            ws_closing: VecDeque::new(),
            scratch: vec![0; SCRATCH],
            light_turn: false,
            resumed: false,
            pool: Vec::new(),
            now: Instant::now(),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The handle other threads use to reach the application (also
    /// available to handlers as [`socketio_sansio::app::Io::remote`]).
    pub fn remote(&self) -> Remote<D> {
        Remote::new(self.shared.clone())
    }

    /// Runs the loop on a thread of its own; the handle waits for it or
    /// shuts it down.
    pub fn spawn(self) -> io::Result<ServerHandle<D>> {
        let local_addr = self.local_addr;
        let remote = self.remote();
        let thread = std::thread::Builder::new()
            .name("socketio-mio".to_owned())
            .spawn(move || self.run())?;
        Ok(ServerHandle {
            local_addr,
            remote,
            thread,
        })
    }

    /// Serves on this thread (which becomes the handler thread) until
    /// [`Remote::shutdown`]: then every session is closed, and this returns
    /// once the goodbyes are written (at most about a second later).
    pub fn run(mut self) -> io::Result<()> {
        let _ = self.shared.loop_thread.set(std::thread::current().id());
        let result = self.serve();
        self.shared.close();
        result
    }

    fn serve(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut shutdown_by: Option<Instant> = None;
        loop {
            let timeout = if !self.again.is_empty() || !self.flush_list.is_empty() || self.resumed {
                Some(Duration::ZERO)
            } else {
                let deadline = [
                    self.server.poll_timeout(),
                    shutdown_by,
                    self.ws_closing.front().map(|&(by, _)| by),
                ]
                .into_iter()
                .flatten()
                .min();
                deadline.map(|d| d.saturating_duration_since(Instant::now()))
            };
            if let Err(e) = self.wait(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.now = Instant::now();
            self.resumed = false;
            let mut work = events.iter().count() + self.flush_list.len().min(FLUSH_PER_TURN);
            for slot in std::mem::take(&mut self.again) {
                self.on_readable(slot);
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    WAKER => self.run_commands(),
                    Token(t) => {
                        let slot = t - FIRST_CONN;
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.on_readable(slot);
                        }
                        if event.is_writable() {
                            self.on_writable(slot);
                        }
                    }
                }
            }
            if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
                self.server.handle_timeout(self.now);
            }
            self.expire_ws_closing();
            if shutdown_by.is_none() && self.server.is_shutting_down() {
                // Every session is closed: stop accepting, write the goodbyes.
                shutdown_by = Some(self.now + SHUTDOWN_GRACE);
                if let Some(mut l) = self.listener.take() {
                    let _ = self.poll.registry().deregister(&mut l);
                }
            }
            self.drain();
            work += self.flush_list.len().min(FLUSH_PER_TURN);
            self.light_turn = work <= LIGHT_TURN;
            self.flush_all();
            if let Some(by) = shutdown_by {
                let open = self.conns.iter().filter(|c| c.is_some()).count();
                if open == 0 || self.now >= by {
                    return Ok(());
                }
            }
        }
    }

    /// Waits for events. Before blocking, polls without blocking for up to
    /// [`SPIN`]: a request that arrives meanwhile (the next message of a
    /// client waiting for our reply) is served without the cost and latency
    /// of putting the thread to sleep and waking it up. Only after a light
    /// turn (a few events, a few writes: a latency-bound exchange); under
    /// load, waiting longer lets more work pile up per read and per write.
    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        if timeout == Some(Duration::ZERO) || !self.light_turn {
            return self.poll.poll(events, timeout);
        }
        let spin_until = Instant::now() + SPIN;
        loop {
            self.poll.poll(events, Some(Duration::ZERO))?;
            if !events.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= spin_until || timeout.is_some_and(|t| now + t <= spin_until) {
                break;
            }
            std::hint::spin_loop();
        }
        self.poll.poll(events, timeout)
    }

    /// Applies the commands other threads queued, in order.
    fn run_commands(&mut self) {
        for command in self.shared.take() {
            self.server.apply(self.now, command);
        }
    }

    fn accept_all(&mut self) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let slot = self.free.pop().unwrap_or_else(|| {
                        self.conns.push(None);
                        self.conns.len() - 1
                    });
                    if let Err(e) = self.poll.registry().register(
                        &mut stream,
                        Token(slot + FIRST_CONN),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        log::debug!("register: {e}");
                        self.free.push(slot);
                        continue;
                    }
                    self.conns[slot] = Some(Conn {
                        stream,
                        peer,
                        proto: Proto::Http {
                            buf: Vec::new(),
                            started: None,
                        },
                        out: Vec::new(),
                        out_pos: 0,
                        queued: false,
                        close_after_flush: false,
                        write_blocked: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // e.g. EMFILE: try again on the next readiness event
                    log::warn!("accept: {e}");
                    return;
                }
            }
        }
    }

    fn on_writable(&mut self, slot: usize) {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if c.out_pos < c.out.len() && !c.queued {
                c.queued = true;
                self.flush_list.push_back(slot);
            }
        }
    }

    /// Reads until the socket is drained (a short read) or the budget is spent.
    fn on_readable(&mut self, slot: usize) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut more = false;
        for i in 0..READS_PER_TURN {
            let Some(Some(conn)) = self.conns.get_mut(slot) else {
                break;
            };
            let closing = matches!(conn.proto, Proto::Closing);
            match conn.stream.read(&mut scratch) {
                Ok(0) => {
                    // The peer is gone: write what is pending if we can, then close.
                    self.flush(slot);
                    self.close_slot(slot);
                    break;
                }
                Ok(n) => {
                    if !closing {
                        self.input(slot, &mut scratch[..n]);
                    }
                    if n < scratch.len() {
                        break;
                    }
                    more = i + 1 == READS_PER_TURN;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    log::debug!("read: {e}");
                    self.close_slot(slot);
                    break;
                }
            }
        }
        // The budget ran out with possibly more to read: come back next turn
        // (edge-triggered readiness would not report it again).
        if more && self.conns.get(slot).is_some_and(|c| c.is_some()) {
            self.again.push(slot);
        }
        self.scratch = scratch;
    }

    /// Feeds bytes read from a connection.
    fn input(&mut self, slot: usize, data: &mut [u8]) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        match &mut conn.proto {
            Proto::Http { buf, .. } => {
                buf.extend_from_slice(data);
                self.http_input(slot);
            }
            Proto::WsClosing { partial, .. } => {
                partial.extend_from_slice(data);
                let mut buf = std::mem::take(partial);
                let mut pos = 0;
                let peer_closed = loop {
                    match ws::parse_frame(&mut buf[pos..], self.config.max_payload) {
                        Ok(Some((frame, used))) => {
                            pos += used;
                            if frame.opcode == ws::OP_CLOSE {
                                break true;
                            }
                        }
                        Ok(None) => break false,
                        Err(_) => break true,
                    }
                };
                if peer_closed {
                    self.flush(slot);
                    self.close_slot(slot);
                } else if let Some(Some(Conn {
                    proto: Proto::WsClosing { partial, .. },
                    ..
                })) = self.conns.get_mut(slot)
                {
                    buf.drain(..pos);
                    *partial = buf;
                }
            }
            Proto::Waiting { buf, .. } => {
                if buf.len() + data.len() > socketio_http::MAX_HEAD + self.config.max_payload {
                    self.close_slot(slot);
                } else {
                    buf.extend_from_slice(data);
                }
            }
            Proto::Ws { partial, .. } => {
                if partial.is_empty() {
                    let used = self.ws_input(slot, data);
                    if let Some(Some(Conn {
                        proto: Proto::Ws { partial, .. },
                        ..
                    })) = self.conns.get_mut(slot)
                    {
                        partial.extend_from_slice(&data[used..]);
                    }
                } else {
                    partial.extend_from_slice(data);
                    let mut buf = std::mem::take(partial);
                    let used = self.ws_input(slot, &mut buf);
                    if let Some(Some(Conn {
                        proto: Proto::Ws { partial, .. },
                        ..
                    })) = self.conns.get_mut(slot)
                    {
                        buf.drain(..used);
                        if buf.is_empty() {
                            buf = Vec::new(); // an idle connection keeps no buffer
                        }
                        *partial = buf;
                    }
                }
            }
            Proto::Closing => {}
        }
    }

    /// Parses and delivers every complete frame in `buf`; returns the bytes used.
    fn ws_input(&mut self, slot: usize, buf: &mut [u8]) -> usize {
        let max = self.config.max_payload;
        let now = self.now;
        let mut pos = 0;
        loop {
            let Some(Some(conn)) = self.conns.get_mut(slot) else {
                return pos;
            };
            let Proto::Ws { id, frag, .. } = &mut conn.proto else {
                return pos;
            };
            let id = *id;
            let (frame, used) = match ws::parse_frame(&mut buf[pos..], max) {
                Ok(Some(f)) => f,
                Ok(None) => return pos,
                Err(code) => {
                    self.ws_fail(slot, id, code);
                    return pos;
                }
            };
            pos += used;
            let message: Option<(u8, &[u8])>;
            let assembled;
            match frame.opcode {
                ws::OP_TEXT | ws::OP_BINARY => {
                    if frag.is_some() {
                        self.ws_fail(slot, id, ws::CLOSE_PROTOCOL);
                        return pos;
                    }
                    if frame.fin {
                        message = Some((frame.opcode, &*frame.payload));
                    } else {
                        *frag = Some((frame.opcode, frame.payload.to_vec()));
                        message = None;
                    }
                }
                ws::OP_CONT => {
                    let Some((op, data)) = frag else {
                        self.ws_fail(slot, id, ws::CLOSE_PROTOCOL);
                        return pos;
                    };
                    if data.len() + frame.payload.len() > max {
                        self.ws_fail(slot, id, ws::CLOSE_TOO_BIG);
                        return pos;
                    }
                    data.extend_from_slice(frame.payload);
                    if frame.fin {
                        let op = *op;
                        assembled = frag.take().map(|(_, d)| d).unwrap_or_default();
                        message = Some((op, &assembled));
                    } else {
                        message = None;
                    }
                }
                ws::OP_PING => {
                    let payload = frame.payload.to_vec();
                    self.with_out(slot, |out| ws::put_frame(out, ws::OP_PONG, &payload));
                    message = None;
                }
                ws::OP_PONG => message = None,
                ws::OP_CLOSE => {
                    // Echo the code, then close once written.
                    let code = (frame.payload.len() >= 2)
                        .then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
                    self.with_out(slot, |out| ws::put_close(out, code));
                    self.end_ws(slot, id);
                    return pos;
                }
                _ => {
                    self.ws_fail(slot, id, ws::CLOSE_PROTOCOL);
                    return pos;
                }
            }
            if let Some((op, data)) = message {
                if op == ws::OP_TEXT {
                    match std::str::from_utf8(data) {
                        Ok(text) => self.server.handle_ws_text(now, id, text),
                        Err(_) => {
                            self.ws_fail(slot, id, ws::CLOSE_INVALID_DATA);
                            return pos;
                        }
                    }
                } else {
                    self.server.handle_ws_binary(now, id, data.to_vec());
                }
            }
        }
    }

    /// A WebSocket protocol error: send a close with `code`, then close.
    fn ws_fail(&mut self, slot: usize, id: ConnId, code: u16) {
        log::debug!("{id}: websocket protocol error, closing with {code}");
        self.with_out(slot, |out| ws::put_close(out, Some(code)));
        self.end_ws(slot, id);
    }

    /// The WebSocket ends: tell the core, close once the output is written.
    fn end_ws(&mut self, slot: usize, id: ConnId) {
        if let Some(Some(conn)) = self.conns.get_mut(slot) {
            conn.proto = Proto::Closing;
            conn.close_after_flush = true;
            self.queue_flush(slot);
        }
        if self.by_conn.get(&id) == Some(&slot) {
            self.by_conn.remove(&id);
            self.server.handle_ws_closed(self.now, id);
        }
    }

    fn queue_flush(&mut self, slot: usize) {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if !c.queued {
                c.queued = true;
                self.flush_list.push_back(slot);
            }
        }
    }

    /// Appends to a connection's output (taking a pooled buffer if it has
    /// none) and schedules a flush.
    fn with_out(&mut self, slot: usize, f: impl FnOnce(&mut Vec<u8>)) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.out.capacity() == 0 {
            c.out = self.pool.pop().unwrap_or_default();
        }
        f(&mut c.out);
        if !c.queued {
            c.queued = true;
            self.flush_list.push_back(slot);
        }
    }

    /// Handles buffered HTTP input: a WebSocket upgrade, a polling request,
    /// or an answer made without the core.
    fn http_input(&mut self, slot: usize) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let Proto::Http { buf, started } = &mut conn.proto else {
            return;
        };
        let (head, head_len) = match parse_head(buf) {
            Parsed::Partial => return,
            Parsed::TooLarge => return self.reply(slot, Reply::head_too_large(), 0),
            Parsed::Malformed => return self.reply(slot, Reply::malformed_head(), 0),
            Parsed::Complete(head, len) => (head, len),
        };
        match self.router.route_from(head, Some(conn.peer)) {
            Route::WebSocket {
                handshake,
                accept_key,
                new_session,
            } => {
                let rest = buf.split_off(head_len);
                self.open_websocket(slot, handshake, (&accept_key, new_session), rest);
            }
            Route::Polling(request) => {
                let end = head_len + request.body_len;
                if buf.len() < end {
                    // The body is still coming. A POST is announced to the
                    // core once, which refuses a second POST for the
                    // session meanwhile ("data request overlap").
                    if started.is_none() && request.head.method == "POST" {
                        let req = self.next_req;
                        self.next_req += 1;
                        *started = Some(req);
                        let method = Method::from_name(&request.head.method);
                        self.server.handle_http_started(
                            self.now,
                            req,
                            method,
                            &request.head.target,
                        );
                    }
                    return;
                }
                let announced = started.take();
                let rest = buf.split_off(end);
                // The request's buffer becomes its body (no copy into a new one).
                let mut body = std::mem::take(buf);
                body.drain(..head_len);
                let (request, reply) = request.into_request(body);
                let req = announced.unwrap_or_else(|| {
                    let req = self.next_req;
                    self.next_req += 1;
                    req
                });
                conn.proto = Proto::Waiting {
                    req,
                    buf: rest,
                    reply,
                };
                self.by_req.insert(req, slot);
                self.server.handle_http(self.now, req, request);
            }
            Route::Reply(reply) => self.reply(slot, reply, head_len),
            Route::Static(head) => {
                let bytes = self.router.static_response(&head);
                self.with_out(slot, |out| out.extend_from_slice(&bytes));
                self.after_response(slot, head_len, false);
            }
        }
    }

    /// Writes an answer made without the core; `used`: the request's bytes.
    fn reply(&mut self, slot: usize, reply: Reply, used: usize) {
        self.with_out(slot, |out| out.extend_from_slice(&reply.bytes));
        self.after_response(slot, used, reply.keep_alive);
    }

    fn open_websocket(
        &mut self,
        slot: usize,
        handshake: Handshake,
        (accept, new_session): (&str, bool),
        rest: Vec<u8>,
    ) {
        match self.server.handle_ws_open(self.now, handshake) {
            Ok(id) => {
                let sid = new_session
                    .then(|| self.server.server().any_connection(id))
                    .flatten()
                    .map(|c| c.sid().to_owned());
                let router = &self.router;
                let mut head = Vec::with_capacity(160);
                router.put_switching_protocols(&mut head, accept, sid.as_deref());
                self.with_out(slot, |out| out.extend_from_slice(&head));
                if let Some(old) = self.by_conn.insert(id, slot) {
                    // An upgrade candidate replaced by another: forget the old one.
                    if old != slot {
                        if let Some(Some(c)) = self.conns.get_mut(old) {
                            c.proto = Proto::Closing;
                            c.close_after_flush = true;
                        }
                        self.queue_flush(old);
                    }
                }
                if let Some(Some(c)) = self.conns.get_mut(slot) {
                    c.proto = Proto::Ws {
                        id,
                        partial: Vec::new(),
                        frag: None,
                    };
                }
                // A new transport starts with an empty window.
                self.server.handle_write_ready(id);
                if !rest.is_empty() {
                    let mut rest = rest;
                    self.input(slot, &mut rest);
                }
            }
            Err(rejection) => {
                let reply = Reply::from_ws_rejection(&rejection, accept);
                self.with_out(slot, |out| out.extend_from_slice(&reply.bytes));
                if rejection.accepts_then_closes() {
                    // Accepted then closed: wait for the client's close frame.
                    self.await_peer_close(slot, rest);
                } else {
                    self.after_response(slot, 0, false);
                }
            }
        }
    }

    /// Our close frame is queued on `slot`: keep reading (dropping data
    /// frames) until the peer's close frame or EOF, at most the router's
    /// `ws_close_timeout`, then close the socket (RFC 6455 §7.1.1).
    /// `partial`: bytes already read past the last frame.
    fn await_peer_close(&mut self, slot: usize, partial: Vec<u8>) {
        let by = self.now + self.router.ws_close_timeout();
        let partial = match self.conns.get_mut(slot) {
            Some(Some(c)) => match std::mem::replace(&mut c.proto, Proto::Closing) {
                Proto::Ws { partial: p, .. } if partial.is_empty() => p,
                _ => partial,
            },
            _ => return,
        };
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            c.proto = Proto::WsClosing {
                partial: Vec::new(),
                by,
            };
        }
        self.ws_closing.push_back((by, slot));
        if !partial.is_empty() {
            let mut partial = partial;
            self.input(slot, &mut partial);
        }
    }

    /// Closes the sockets whose peer did not answer our close in time.
    fn expire_ws_closing(&mut self) {
        while let Some(&(by, slot)) = self.ws_closing.front() {
            if by > self.now {
                break;
            }
            self.ws_closing.pop_front();
            let due = matches!(
                self.conns.get(slot),
                Some(Some(Conn { proto: Proto::WsClosing { by: b, .. }, .. })) if *b == by
            );
            if due {
                log::debug!("no close frame from the peer in time: closing the socket");
                self.flush(slot);
                self.close_slot(slot);
            }
        }
    }

    /// After a response written outside the core: next request or close.
    fn after_response(&mut self, slot: usize, used: usize, keep_alive: bool) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if !keep_alive {
            conn.proto = Proto::Closing;
            conn.close_after_flush = true;
            return;
        }
        if let Proto::Http { buf, .. } = &mut conn.proto {
            buf.drain(..used.min(buf.len()));
            if !buf.is_empty() {
                self.http_input(slot);
            }
        }
    }

    /// Moves everything the core produced to connections, until it has
    /// nothing more (the handlers already ran, inside the `handle_*` calls).
    fn drain(&mut self) {
        let mut last: Option<(ConnId, usize)> = None;
        loop {
            let mut progressed = false;
            while let Some((id, t)) = self.server.poll_transmit() {
                progressed = true;
                let slot = match last {
                    Some((l, s)) if l == id => s,
                    _ => match self.by_conn.get(&id) {
                        Some(&s) => {
                            last = Some((id, s));
                            s
                        }
                        None => continue,
                    },
                };
                match t {
                    Transmit::Frame(frame) => {
                        self.with_out(slot, |out| match &frame {
                            Frame::Text(t) => ws::put_frame(out, ws::OP_TEXT, t.as_bytes()),
                            Frame::Binary(b) => ws::put_frame(out, ws::OP_BINARY, b),
                        });
                        let Some(Some(c)) = self.conns.get_mut(slot) else {
                            continue;
                        };
                        if window_change(c.write_blocked, c.out.len() - c.out_pos) == Some(true) {
                            // The client does not keep up: the core holds
                            // the next frames (and closes it past its limit).
                            c.write_blocked = true;
                            self.server.handle_write_blocked(id);
                        }
                    }
                    Transmit::Close => {
                        last = None;
                        self.by_conn.remove(&id);
                        if self
                            .conns
                            .get(slot)
                            .is_some_and(|c| c.as_ref().is_some_and(|c| c.write_blocked))
                        {
                            // Its client stopped reading: what it holds
                            // would never be written. Drop it and close now.
                            self.close_slot(slot);
                            continue;
                        }
                        self.with_out(slot, |out| ws::put_close(out, None));
                        self.await_peer_close(slot, Vec::new());
                    }
                }
            }
            while let Some((req, response)) = self.server.poll_http_response() {
                progressed = true;
                if let Some(slot) = self.by_req.remove(&req) {
                    self.write_http_response(slot, response);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn write_http_response(&mut self, slot: usize, response: socketio_sansio::HttpResponse) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        let Proto::Waiting { buf, reply, .. } = std::mem::replace(&mut conn.proto, Proto::Closing)
        else {
            return;
        };
        let mut keep_alive = false;
        self.with_out(slot, |out| keep_alive = reply.put(&response, out));
        let Some(Some(conn)) = self.conns.get_mut(slot) else {
            return;
        };
        if keep_alive {
            let pending = !buf.is_empty();
            conn.proto = Proto::Http { buf, started: None };
            if pending {
                self.http_input(slot);
            }
        } else {
            conn.close_after_flush = true;
        }
    }

    /// Writes up to [`FLUSH_PER_TURN`] connections with pending output, in
    /// order; the rest wait for the next turn, which polls without blocking.
    /// Input that arrives meanwhile (e.g. more broadcasts) is appended to
    /// the buffers still waiting, so one write carries several frames.
    fn flush_all(&mut self) {
        for _ in 0..FLUSH_PER_TURN {
            let Some(slot) = self.flush_list.pop_front() else {
                break;
            };
            self.flush(slot);
        }
    }

    fn flush(&mut self, slot: usize) {
        self.write_out(slot);
        self.resume_if_drained(slot);
    }

    /// A write-blocked WebSocket whose output went under half the window
    /// takes frames again.
    fn resume_if_drained(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if window_change(c.write_blocked, c.out.len() - c.out_pos) != Some(false) {
            return;
        }
        c.write_blocked = false;
        if let Proto::Ws { id, .. } = c.proto {
            if self.by_conn.get(&id) == Some(&slot) {
                self.server.handle_write_ready(id);
                self.resumed = true;
            }
        }
    }

    fn write_out(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        c.queued = false;
        while c.out_pos < c.out.len() {
            match c.stream.write(&c.out[c.out_pos..]) {
                Ok(0) => {
                    self.close_slot(slot);
                    return;
                }
                Ok(n) => {
                    c.out_pos += n;
                    if c.out_pos < c.out.len() {
                        // The socket buffer is full: wait for writable.
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::debug!("write: {e}");
                    self.close_slot(slot);
                    return;
                }
            }
        }
        // Everything written: give the buffer back to the pool.
        let mut out = std::mem::take(&mut c.out);
        c.out_pos = 0;
        let close = c.close_after_flush;
        out.clear();
        if out.capacity() <= POOL_BUF_MAX && self.pool.len() < POOL_MAX {
            self.pool.push(out);
        }
        if close {
            self.close_slot(slot);
        }
    }

    /// Closes a connection now, telling the core if it still knew it.
    fn close_slot(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let _ = conn.stream.shutdown(Shutdown::Both);
        match conn.proto {
            Proto::Ws { id, .. } => {
                if self.by_conn.get(&id) == Some(&slot) {
                    self.by_conn.remove(&id);
                    self.server.handle_ws_closed(self.now, id);
                }
            }
            Proto::Waiting { req, .. } => {
                if self.by_req.remove(&req).is_some() {
                    self.server.handle_http_aborted(self.now, req);
                }
            }
            Proto::Http {
                started: Some(req), ..
            } => self.server.handle_http_aborted(self.now, req),
            Proto::Http { .. } | Proto::Closing | Proto::WsClosing { .. } => {}
        }
        self.free.push(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_blocks_past_its_size_and_resumes_under_half() {
        assert_eq!(window_change(false, 0), None);
        assert_eq!(window_change(false, WRITE_WINDOW), None);
        assert_eq!(window_change(false, WRITE_WINDOW + 1), Some(true));
        // Blocked: more output changes nothing, nor does a partial drain.
        assert_eq!(window_change(true, 4 * WRITE_WINDOW), None);
        assert_eq!(window_change(true, WRITE_WINDOW / 2 + 1), None);
        assert_eq!(window_change(true, WRITE_WINDOW / 2), Some(false));
        assert_eq!(window_change(true, 0), Some(false));
    }
}
