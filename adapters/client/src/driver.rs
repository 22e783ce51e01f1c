//! The I/O thread: owns the state machine, performs what it asks for
//! (through the transport threads), runs its timers and the handlers.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use socketio_sansio::client::{AckFailure, ClientEvent, ClientTransmit, EmitStatus, TransportId};
use socketio_sansio::{Args, Method, RequestId};

use crate::context::{Ack, AckCallback, Core, Socket};
use crate::error::{AckError, Error};
use crate::options::Handlers;
use crate::tls::Tls;
use crate::transport::{self, HttpRequest, HttpResult, WsOut};

/// How long a closing client waits for its last POST (polling).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the I/O thread receives: the application's commands and the
/// transport threads' reports.
pub(crate) enum Input {
    Command(Box<Command>),
    WsOpened(TransportId, Sender<WsOut>),
    WsText(TransportId, String),
    WsBinary(TransportId, Vec<u8>),
    WsClosed(TransportId, Option<String>),
    HttpDone(RequestId, HttpResult),
}

/// News for a thread waiting for a namespace to connect.
pub(crate) enum JoinUpdate {
    Connected,
    /// A failed attempt: `final` when no other attempt follows (the server
    /// refused the namespace, or reconnection is off or exhausted).
    Failed {
        message: String,
        data: Option<Value>,
        refused: bool,
        last: bool,
    },
}

/// The application's commands from other threads.
pub(crate) enum Command {
    Join {
        nsp: String,
        auth: Option<Value>,
        handlers: Handlers,
        updates: Sender<JoinUpdate>,
    },
    Leave {
        nsp: String,
    },
    Emit {
        nsp: String,
        event: String,
        args: Args,
        volatile: bool,
        reply: Option<Sender<Result<EmitStatus, Error>>>,
    },
    EmitWithAck {
        nsp: String,
        event: String,
        args: Args,
        timeout: Option<Duration>,
        then: AckCallback,
    },
    Cut {
        reply: Sender<()>,
    },
    Close,
}

/// What other threads may read without a round trip.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub(crate) sids: HashMap<String, String>,
    /// Namespaces whose last CONNECT restored the earlier session.
    pub(crate) recovered: HashSet<String>,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) websocket: bool,
    pub(crate) closed: bool,
}

pub(crate) struct Driver {
    core: Core,
    handlers: HashMap<String, Handlers>,
    waiters: HashMap<String, Vec<Sender<JoinUpdate>>>,
    /// Open or opening WebSockets (`None` until the thread reports open).
    ws: HashMap<TransportId, Option<Sender<WsOut>>>,
    ws_threads: Vec<JoinHandle<()>>,
    /// Polling requests in flight, and the ones cut (their outcome is ignored).
    requests: HashMap<RequestId, Method>,
    cancelled: HashSet<RequestId>,
    tls: Tls,
    agent: ureq::Agent,
    input_tx: Sender<Input>,
    input: Receiver<Input>,
    snapshot: Arc<Mutex<Snapshot>>,
    close_deadline: Option<Instant>,
}

impl Driver {
    pub(crate) fn new(
        machine: socketio_sansio::client::Client,
        tls: Tls,
        input_tx: Sender<Input>,
        input: Receiver<Input>,
        snapshot: Arc<Mutex<Snapshot>>,
    ) -> Self {
        Driver {
            core: Core {
                machine,
                acks: HashMap::new(),
            },
            handlers: HashMap::new(),
            waiters: HashMap::new(),
            ws: HashMap::new(),
            ws_threads: Vec::new(),
            requests: HashMap::new(),
            cancelled: HashSet::new(),
            agent: transport::agent(&tls),
            tls,
            input_tx,
            input,
            snapshot,
            close_deadline: None,
        }
    }

    /// The thread's body: until closed.
    pub(crate) fn run(mut self) {
        loop {
            self.pump();
            if let Some(deadline) = self.close_deadline {
                let posting = self.requests.values().any(|m| *m == Method::Post);
                if !posting || Instant::now() >= deadline {
                    break;
                }
            }
            let deadline = [self.core.machine.poll_timeout(), self.close_deadline]
                .into_iter()
                .flatten()
                .min();
            let input = match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if deadline <= now {
                        self.core.machine.handle_timeout(now);
                        continue;
                    }
                    self.input.recv_timeout(deadline - now)
                }
                None => self
                    .input
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match input {
                Ok(input) => self.handle(input),
                Err(RecvTimeoutError::Timeout) => self.core.machine.handle_timeout(Instant::now()),
                Err(RecvTimeoutError::Disconnected) => break, // cannot happen: we hold a sender
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        for tx in self.ws.drain().filter_map(|(_, tx)| tx) {
            let _ = tx.send(WsOut::Close);
        }
        let pending: Vec<_> = self.core.acks.drain().collect();
        for ((nsp, _), then) in pending {
            let mut socket = Socket::new(&mut self.core, &nsp);
            guarded("ack callback", || then(&mut socket, Err(AckError::Closed)));
        }
        for thread in self.ws_threads.drain(..) {
            let _ = thread.join();
        }
        let mut snapshot = lock(&self.snapshot);
        snapshot.closed = true;
        snapshot.sids.clear();
        log::debug!("socketio-client: closed");
    }

    /// Performs the machine's I/O and dispatches its events until it has none.
    fn pump(&mut self) {
        loop {
            let mut progress = false;
            while let Some(transmit) = self.core.machine.poll_transmit() {
                progress = true;
                self.perform(transmit);
            }
            while let Some(event) = self.core.machine.poll_event() {
                progress = true;
                self.dispatch(event);
            }
            if !progress {
                break;
            }
        }
        self.refresh_snapshot();
    }

    /// What other threads read ([`Snapshot`]): refreshed after each pump and
    /// before the handlers of a connection change run, so that a thread a
    /// connect handler wakes sees the new socket id and `recovered`.
    fn refresh_snapshot(&self) {
        let machine = &self.core.machine;
        let mut snapshot = lock(&self.snapshot);
        snapshot.sids = self
            .handlers
            .keys()
            .filter_map(|nsp| Some((nsp.clone(), machine.socket_id(nsp)?.to_owned())))
            .collect();
        snapshot.recovered = self
            .handlers
            .keys()
            .filter(|nsp| machine.recovered(nsp))
            .cloned()
            .collect();
        snapshot.ping_interval = machine.ping_interval();
        snapshot.websocket = machine.is_websocket();
    }

    fn perform(&mut self, transmit: ClientTransmit) {
        let now = Instant::now();
        match transmit {
            ClientTransmit::OpenWebSocket {
                transport,
                url,
                headers,
            } => {
                log::debug!("websocket {transport}: opening {url}");
                self.ws.insert(transport, None);
                self.ws_threads.retain(|t| !t.is_finished());
                match transport::spawn_websocket(
                    transport,
                    url,
                    headers,
                    self.tls.clone(),
                    self.input_tx.clone(),
                ) {
                    Ok(thread) => self.ws_threads.push(thread),
                    Err(e) => {
                        log::warn!("cannot start a WebSocket thread: {e}");
                        self.ws.remove(&transport);
                        self.core.machine.handle_ws_closed(now, transport);
                    }
                }
            }
            ClientTransmit::WsFrame { transport, frame } => {
                let sent = match self.ws.get(&transport) {
                    Some(Some(tx)) => tx.send(WsOut::Frame(frame)).is_ok(),
                    _ => false,
                };
                if !sent && self.ws.remove(&transport).is_some() {
                    self.core.machine.handle_ws_closed(now, transport);
                }
            }
            ClientTransmit::CloseWebSocket { transport } => {
                if let Some(Some(tx)) = self.ws.remove(&transport) {
                    let _ = tx.send(WsOut::Close);
                }
            }
            ClientTransmit::HttpRequest {
                request,
                method,
                url,
                headers,
                body,
                content_type,
            } => {
                self.requests.insert(request, method);
                let max_body = self.core.machine.config().max_payload as u64 + 1;
                let http = HttpRequest {
                    id: request,
                    method,
                    url,
                    headers,
                    body,
                    content_type,
                };
                if let Err(e) =
                    transport::spawn_http(self.agent.clone(), http, max_body, self.input_tx.clone())
                {
                    log::warn!("cannot start an HTTP thread: {e}");
                    self.requests.remove(&request);
                    self.core.machine.handle_http_failed(now, request);
                }
            }
        }
    }

    fn handle(&mut self, input: Input) {
        let now = Instant::now();
        match input {
            Input::Command(command) => self.command(*command),
            Input::WsOpened(id, tx) => match self.ws.get_mut(&id) {
                Some(slot) => {
                    *slot = Some(tx);
                    self.core.machine.handle_ws_opened(now, id);
                }
                None => {
                    let _ = tx.send(WsOut::Close); // abandoned meanwhile
                }
            },
            Input::WsText(id, text) => {
                if self.ws.contains_key(&id) {
                    self.core.machine.handle_ws_text(now, id, &text);
                }
            }
            Input::WsBinary(id, bytes) => {
                if self.ws.contains_key(&id) {
                    self.core.machine.handle_ws_binary(now, id, &bytes);
                }
            }
            Input::WsClosed(id, _why) => {
                if self.ws.remove(&id).is_some() {
                    self.core.machine.handle_ws_closed(now, id);
                }
            }
            Input::HttpDone(id, result) => {
                self.requests.remove(&id);
                if self.cancelled.remove(&id) {
                    return;
                }
                match result {
                    Ok((status, content_type, body)) => self.core.machine.handle_http_response(
                        now,
                        id,
                        status,
                        content_type.as_deref(),
                        &body,
                    ),
                    Err(_) => self.core.machine.handle_http_failed(now, id),
                }
            }
        }
    }

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Join {
                nsp,
                auth,
                handlers,
                updates,
            } => {
                self.handlers.insert(nsp.clone(), handlers);
                if self.core.machine.is_connected(&nsp) {
                    let _ = updates.send(JoinUpdate::Connected);
                    return;
                }
                if let Err(e) = self.core.machine.connect_namespace(now, &nsp, auth) {
                    let _ = updates.send(JoinUpdate::Failed {
                        message: e.to_string(),
                        data: None,
                        refused: false,
                        last: true,
                    });
                    return;
                }
                self.waiters.entry(nsp).or_default().push(updates);
            }
            Command::Leave { nsp } => {
                self.waiters.remove(&nsp);
                let _ = self.core.machine.disconnect_namespace(now, &nsp);
            }
            Command::Emit {
                nsp,
                event,
                args,
                volatile,
                reply,
            } => {
                let mut socket = Socket::new(&mut self.core, &nsp);
                let result = if volatile {
                    socket.emit_volatile(&event, args)
                } else {
                    socket.emit(&event, args)
                };
                match reply {
                    Some(reply) => {
                        let _ = reply.send(result);
                    }
                    None => {
                        if let Err(e) = result {
                            log::warn!("emit {event:?} to {nsp}: {e}");
                        }
                    }
                }
            }
            Command::EmitWithAck {
                nsp,
                event,
                args,
                timeout,
                then,
            } => {
                Socket::new(&mut self.core, &nsp).emit_with_ack_boxed(&event, args, timeout, then);
            }
            Command::Cut { reply } => {
                log::info!(
                    "dropping the transport without telling the server (simulated network failure)"
                );
                for (id, tx) in std::mem::take(&mut self.ws) {
                    if let Some(tx) = tx {
                        let _ = tx.send(WsOut::Cut);
                    }
                    self.core.machine.handle_ws_closed(now, id);
                }
                for id in std::mem::take(&mut self.requests).into_keys() {
                    self.cancelled.insert(id);
                    self.core.machine.handle_http_failed(now, id);
                }
                self.pump();
                let _ = reply.send(());
            }
            Command::Close => {
                if self.close_deadline.is_none() {
                    self.core.machine.close(now);
                    self.close_deadline = Some(now + CLOSE_TIMEOUT);
                    self.waiters.clear();
                }
            }
        }
    }

    /// Runs `f` with the handlers of `nsp` and a [`Socket`] for it.
    fn with_handlers(&mut self, nsp: &str, f: impl FnOnce(&mut Handlers, &mut Socket<'_>)) {
        let Some(mut handlers) = self.handlers.remove(nsp) else {
            return;
        };
        let mut socket = Socket::new(&mut self.core, nsp);
        guarded("handler", || f(&mut handlers, &mut socket));
        self.handlers.entry(nsp.to_owned()).or_insert(handlers);
    }

    fn notify(&mut self, nsp: &str, update: impl Fn() -> JoinUpdate, done: bool) {
        let waiters = if done {
            self.waiters.remove(nsp).unwrap_or_default()
        } else {
            self.waiters.get(nsp).cloned().unwrap_or_default()
        };
        for waiter in waiters {
            let _ = waiter.send(update());
        }
    }

    fn dispatch(&mut self, event: ClientEvent) {
        if matches!(
            event,
            ClientEvent::Connected { .. } | ClientEvent::Disconnected { .. }
        ) {
            self.refresh_snapshot();
        }
        match event {
            ClientEvent::Connected { nsp, sid } => {
                log::debug!("{nsp}: connected as {sid}");
                self.notify(&nsp, || JoinUpdate::Connected, true);
                self.with_handlers(&nsp, |h, socket| {
                    for handler in &mut h.connect {
                        handler(socket);
                    }
                });
            }
            ClientEvent::ConnectError { nsp, message, data } => {
                log::debug!("{nsp}: connect error: {message}");
                let refused = !self.core.machine.wants_namespace(&nsp);
                let last = refused || !self.core.machine.is_reconnecting();
                self.notify(
                    &nsp,
                    || JoinUpdate::Failed {
                        message: message.clone(),
                        data: data.clone(),
                        refused,
                        last,
                    },
                    last,
                );
                self.with_handlers(&nsp, |h, socket| {
                    for handler in &mut h.connect_error {
                        handler(socket, &message, data.as_ref());
                    }
                });
            }
            ClientEvent::Event {
                nsp,
                name,
                args,
                ack,
            } => {
                let ack = ack.map(|id| Ack {
                    nsp: nsp.clone(),
                    id,
                });
                self.with_handlers(&nsp, |h, socket| {
                    for listener in &mut h.any {
                        listener(socket, &name, &args);
                    }
                    match h.events.get_mut(&name) {
                        Some(handler) => handler(socket, args, ack),
                        None => log::debug!("{nsp}: no handler for {name:?}"),
                    }
                });
            }
            ClientEvent::Ack { nsp, id, result } => {
                if let Some(then) = self.core.acks.remove(&(nsp.clone(), id)) {
                    let result = result.map_err(|e| match e {
                        AckFailure::TimedOut => AckError::Timeout,
                        AckFailure::Disconnected => AckError::Disconnected,
                    });
                    let mut socket = Socket::new(&mut self.core, &nsp);
                    guarded("ack callback", || then(&mut socket, result));
                }
            }
            ClientEvent::Disconnected { nsp, reason } => {
                log::debug!("{nsp}: disconnected ({reason})");
                self.with_handlers(&nsp, |h, socket| {
                    for handler in &mut h.disconnect {
                        handler(socket, &reason);
                    }
                });
            }
            ClientEvent::Reconnecting { attempt, delay } => {
                log::debug!("reconnection attempt {attempt} in {delay:?}");
            }
            ClientEvent::Reconnected { attempt } => {
                log::debug!("reconnected (attempt {attempt})");
                let names: Vec<String> = self.handlers.keys().cloned().collect();
                for nsp in names {
                    self.with_handlers(&nsp, |h, socket| {
                        for handler in &mut h.reconnect {
                            handler(socket, attempt);
                        }
                    });
                }
            }
            ClientEvent::ReconnectFailed => {
                log::warn!("reconnection failed: giving up");
                let names: Vec<String> = self.waiters.keys().cloned().collect();
                for nsp in names {
                    self.notify(
                        &nsp,
                        || JoinUpdate::Failed {
                            message: "reconnection attempts exhausted".into(),
                            data: None,
                            refused: false,
                            last: true,
                        },
                        true,
                    );
                }
            }
            ClientEvent::Upgraded => log::debug!("upgraded to WebSocket"),
        }
    }
}

/// Runs application code; a panic is logged instead of ending the I/O thread.
fn guarded(what: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        log::error!("a {what} panicked; the client goes on");
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
