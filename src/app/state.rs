//! The running application's state beside the core `Server`: per socket
//! its handlers, data and pending acknowledgement callbacks; broadcast
//! acknowledgement collectors; dynamic child namespaces.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::conn::Handshake;
use crate::server::{ConnId, ConnIdMap};
use crate::wire::sio::{AckId, Args};
use crate::DisconnectReason;

use super::context::{Ack, Io, Socket};
use super::definition::App;
use super::ops::BroadcastAcks;
use super::recovery::Store;
use super::remote::{AckResult, Remote};

pub(crate) type EventHandler<D> = Arc<dyn Fn(&mut Socket<'_, D>, Args, Option<Ack>) + Send + Sync>;
pub(crate) type AnyHandler<D> = Arc<dyn Fn(&mut Socket<'_, D>, &str, &Args) + Send + Sync>;
pub(crate) type PacketMiddleware<D> =
    Arc<dyn Fn(&mut Socket<'_, D>, &mut IncomingEvent) -> Result<(), Refusal> + Send + Sync>;
pub(crate) type ErrorHandler<D> = Arc<dyn Fn(&mut Socket<'_, D>, &Refusal) + Send + Sync>;
pub(crate) type DisconnectHandler<D> =
    Arc<dyn Fn(&mut Socket<'_, D>, &DisconnectReason) + Send + Sync>;
pub(crate) type AckCallback<D> = Box<dyn FnOnce(&mut Socket<'_, D>, AckResult) + Send>;
pub(crate) type CollectorCallback<D> = Box<dyn FnOnce(&mut Io<'_, D>, BroadcastAcks) + Send>;

/// An incoming event as a packet middleware sees it (socket.io's
/// `socket.use(([event, ...args], next) => ...)`): it may change the name
/// or the arguments before the handlers run.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent {
    /// The event name (`"message"` / `"json"` for 0.9 packets).
    pub name: String,
    /// The arguments.
    pub args: Args,
    /// Whether the client asked for an acknowledgement.
    pub wants_ack: bool,
}

/// A packet middleware's refusal: the event reaches no handler, the
/// socket's error handlers ([`Socket::on_error`]) run with it, and when the
/// client asked for an acknowledgement and `reply` is set, the client gets
/// `reply` as its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// Why (for the error handlers and logs).
    pub message: String,
    /// The acknowledgement to answer with, if the client asked for one.
    pub reply: Option<Args>,
}

impl Refusal {
    /// A refusal without an answer.
    pub fn new(message: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            reply: None,
        }
    }

    /// Answers the client's acknowledgement request (if any) with `reply`.
    pub fn with_reply(mut self, reply: impl Into<Args>) -> Self {
        self.reply = Some(reply.into());
        self
    }
}

/// Who waits for one acknowledgement we asked for.
pub(crate) enum PendingAck<D> {
    /// A handler's callback, run with the socket.
    Callback(AckCallback<D>),
    /// One recipient of a broadcast with acknowledgements.
    Collector(u64),
}

pub(crate) struct Handlers<D> {
    pub(crate) events: HashMap<String, EventHandler<D>>,
    pub(crate) any: Vec<AnyHandler<D>>,
    pub(crate) any_outgoing: Vec<AnyHandler<D>>,
    pub(crate) middlewares: Vec<PacketMiddleware<D>>,
    pub(crate) errors: Vec<ErrorHandler<D>>,
    pub(crate) disconnect: Vec<DisconnectHandler<D>>,
    pub(crate) legacy_message: Option<EventHandler<D>>,
    pub(crate) legacy_json: Option<EventHandler<D>>,
}

impl<D> Default for Handlers<D> {
    fn default() -> Self {
        Handlers {
            events: HashMap::new(),
            any: Vec::new(),
            any_outgoing: Vec::new(),
            middlewares: Vec::new(),
            errors: Vec::new(),
            disconnect: Vec::new(),
            legacy_message: None,
            legacy_json: None,
        }
    }
}

/// One connected socket of the application.
pub(crate) struct SocketState<D> {
    pub(crate) nsp: Arc<str>,
    pub(crate) id: Arc<str>,
    pub(crate) handshake: Arc<Handshake>,
    pub(crate) auth: Value,
    pub(crate) data: D,
    pub(crate) legacy: bool,
    /// Handlers registered on this socket itself; allocated on the first
    /// registration (sockets served by [`super::Namespace::on`] alone
    /// never need one).
    pub(crate) handlers: Option<Box<Handlers<D>>>,
    /// The namespace's handlers ([`super::Namespace::on`]), shared.
    pub(crate) shared_events: Arc<HashMap<String, EventHandler<D>>>,
    pub(crate) pending: HashMap<AckId, PendingAck<D>>,
    /// The private session id (connection state recovery on, rev 5).
    pub(crate) pid: Option<Arc<str>>,
    /// The recovery store's position when the socket connected.
    pub(crate) connect_seq: u64,
    /// Restored from an earlier session.
    pub(crate) recovered: bool,
}

impl<D> SocketState<D> {
    /// The socket's own handlers, allocated on first use.
    pub(crate) fn handlers_mut(&mut self) -> &mut Handlers<D> {
        self.handlers.get_or_insert_with(Box::default)
    }

    /// A copy of one list of the socket's own handlers (empty without any).
    pub(crate) fn own<T: Clone + Default>(&self, pick: impl FnOnce(&Handlers<D>) -> &T) -> T {
        self.handlers
            .as_deref()
            .map(pick)
            .cloned()
            .unwrap_or_default()
    }
}

/// A broadcast with acknowledgements waiting for its recipients.
pub(crate) struct Collector<D> {
    pub(crate) waiting: usize,
    pub(crate) acks: BroadcastAcks,
    pub(crate) done: CollectorCallback<D>,
}

pub(crate) struct State<D> {
    pub(crate) app: App<D>,
    /// Sockets per connection (a connection has a handful of namespaces at
    /// most: a scan beats a keyed lookup and needs no key allocation).
    pub(crate) sockets: ConnIdMap<Vec<SocketState<D>>>,
    pub(crate) collectors: HashMap<u64, Collector<D>>,
    pub(crate) next_collector: u64,
    /// Dynamic child namespaces and their socket counts.
    pub(crate) children: BTreeMap<String, usize>,
    /// Sockets with outgoing listeners (broadcasts notify them).
    pub(crate) outgoing_watchers: usize,
    pub(crate) remote: Option<Remote<D>>,
    pub(crate) shutting_down: bool,
    /// What [`Socket::data`] lends when no socket state exists, which never
    /// happens while a handler of that socket runs; it keeps the accessor
    /// total without a panic path.
    pub(crate) scratch: D,
    /// `D::default`, captured where it is known to exist.
    pub(crate) make_data: fn() -> D,
    /// The time of the latest input.
    pub(crate) last_now: Option<std::time::Instant>,
    /// The cluster this node belongs to, if any.
    pub(crate) cluster: Option<super::cluster::ClusterLink<D>>,
    /// Connection state recovery, when the application turned it on.
    pub(crate) recovery: Option<Store<D>>,
    /// The journal observer, when a test or simulator installed one.
    pub(crate) journal: Option<super::journal::JournalObserver>,
}

impl<D: Default> State<D> {
    pub(crate) fn new(app: App<D>) -> Self {
        let recovery = app
            .recovery
            .clone()
            .map(|config| Store::new(config, app.on_eviction.clone()));
        State {
            recovery,
            app,
            sockets: ConnIdMap::default(),
            collectors: HashMap::new(),
            next_collector: 1,
            children: BTreeMap::new(),
            outgoing_watchers: 0,
            remote: None,
            shutting_down: false,
            scratch: D::default(),
            make_data: D::default,
            last_now: None,
            cluster: None,
            journal: None,
        }
    }
}

impl<D> State<D> {
    /// Records that a handler of the socket `(conn, nsp)` runs (nothing
    /// without an observer).
    pub(crate) fn journal_handler(
        &mut self,
        conn: ConnId,
        nsp: &str,
        kind: super::journal::HandlerKind,
    ) {
        if self.journal.is_none() {
            return;
        }
        let socket = self.socket(conn, nsp);
        let entry = super::journal::JournalEntry::Handler {
            conn,
            nsp: socket.map_or_else(|| Arc::from(nsp), |s| s.nsp.clone()),
            socket: socket.map(|s| s.id.clone()),
            kind,
        };
        if let Some(observer) = self.journal.as_mut() {
            observer(entry);
        }
    }

    pub(crate) fn socket(&self, conn: ConnId, nsp: &str) -> Option<&SocketState<D>> {
        self.sockets
            .get(&conn)
            .and_then(|v| v.iter().find(|s| &*s.nsp == nsp))
    }

    pub(crate) fn socket_mut(&mut self, conn: ConnId, nsp: &str) -> Option<&mut SocketState<D>> {
        self.sockets
            .get_mut(&conn)
            .and_then(|v| v.iter_mut().find(|s| &*s.nsp == nsp))
    }

    pub(crate) fn remove_socket(&mut self, conn: ConnId, nsp: &str) -> Option<SocketState<D>> {
        let list = self.sockets.get_mut(&conn)?;
        let index = list.iter().position(|s| &*s.nsp == nsp)?;
        let socket = list.swap_remove(index);
        if list.is_empty() {
            self.sockets.remove(&conn);
        }
        if socket
            .handlers
            .as_ref()
            .is_some_and(|h| !h.any_outgoing.is_empty())
        {
            self.outgoing_watchers = self.outgoing_watchers.saturating_sub(1);
        }
        Some(socket)
    }

    /// Records one recipient's outcome; the finished collector, if this
    /// was its last recipient.
    pub(crate) fn collect(
        &mut self,
        id: u64,
        socket_id: &str,
        outcome: AckResult,
    ) -> Option<Collector<D>> {
        let collector = self.collectors.get_mut(&id)?;
        match outcome {
            Ok(args) => collector.acks.responses.push((socket_id.to_owned(), args)),
            Err(_) => collector.acks.missing.push(socket_id.to_owned()),
        }
        collector.waiting = collector.waiting.saturating_sub(1);
        if collector.waiting == 0 {
            self.collectors.remove(&id)
        } else {
            None
        }
    }
}
