//! What handlers hold while they run: [`Io`] (server-wide operations),
//! [`Socket`] (one socket, and everything [`Io`] offers), [`EngineSocket`]
//! (a bare Engine.IO session), [`Ack`] (the answer a client waits for) and
//! [`Operator`] (a selection of sockets: `to`, `except`, `volatile`,
//! `local`, `timeout`).
//!
//! Everything acts on the core at once; the driver writes the frames after
//! the handler returns.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::conn::{EngineData, Handshake};
use crate::error::UsageError;
use crate::legacy::LegacyAck;
use crate::server::{Broadcast, ConnId, Server};
use crate::wire::sio::{AckId, Args};
use crate::DisconnectReason;

use super::ops::{BroadcastAcks, Selector, ServerOp, SocketInfo};
use super::remote::{AckError, AckResult, Remote, RemoteSocket};
use super::state::{IncomingEvent, PendingAck, Refusal, SocketState, State};

/// Server-wide operations, available to every handler (a [`Socket`]
/// dereferences to it).
pub struct Io<'a, D> {
    pub(crate) server: &'a mut Server,
    pub(crate) state: &'a mut State<D>,
    pub(crate) now: Instant,
}

impl<'a, D> Io<'a, D> {
    pub(crate) fn new(server: &'a mut Server, state: &'a mut State<D>, now: Instant) -> Self {
        Io { server, state, now }
    }

    pub(crate) fn reborrow(&mut self) -> Io<'_, D> {
        Io {
            server: self.server,
            state: self.state,
            now: self.now,
        }
    }

    /// The time of the input being handled.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The core, read-only (stats, connections, rooms).
    pub fn server(&self) -> &Server {
        self.server
    }

    /// The sockets of `nsp` (socket.io's `io.of(nsp)`); narrow with
    /// [`Operator::to`] and [`Operator::except`].
    pub fn of(&mut self, nsp: impl Into<String>) -> Operator<'_, D> {
        Operator {
            io: self.reborrow(),
            sel: Selector::new(Broadcast::to(nsp)),
            timeout: None,
        }
    }

    /// The sockets of `/` in `room` (socket.io's `io.to(room)`).
    pub fn to(&mut self, room: impl Into<String>) -> Operator<'_, D> {
        self.of("/").to(room)
    }

    /// Acts on another socket, if it is connected.
    pub fn socket(&mut self, conn: ConnId, nsp: &str) -> Option<Socket<'_, D>> {
        let nsp = self.state.socket(conn, nsp)?.nsp.clone();
        Some(Socket {
            io: self.reborrow(),
            conn,
            nsp,
        })
    }

    /// A handle for other threads, if the driver provides one.
    pub fn remote(&self) -> Option<Remote<D>> {
        self.state.remote.clone()
    }

    /// Runs a server-wide operation. Every operator method ends here: the
    /// one place a multi-node transport will forward operations to the
    /// other nodes (this node executes its share below).
    pub(crate) fn execute(&mut self, op: ServerOp<D>) {
        let Some(op) = self.forward(op) else {
            return;
        };
        match op {
            ServerOp::Broadcast {
                sel,
                event,
                mut args,
            } => {
                if self.state.outgoing_watchers > 0 {
                    for conn in self.server.select(&sel.broadcast) {
                        if let Some(mut socket) = self.socket(conn, &sel.broadcast.nsp) {
                            socket.notify_outgoing(&event, &args);
                        }
                    }
                }
                // Recovery: every non-volatile event gets an offset and is
                // kept for the sockets that may come back.
                if let (Some(store), false) = (self.state.recovery.as_mut(), sel.broadcast.volatile)
                {
                    let b = &sel.broadcast;
                    if !crate::wire::sio::is_reserved_event(&event) {
                        store.record(self.now, &b.nsp, &b.rooms, &b.except, &event, &mut args);
                    }
                }
                if self.state.journal.is_some() {
                    self.journal_broadcast(&sel.broadcast, &event);
                }
                if let Err(e) = self
                    .server
                    .broadcast(self.now, &sel.broadcast, &event, &args)
                {
                    log::warn!("broadcast {event:?} to {}: {e}", sel.broadcast.nsp);
                }
            }
            ServerOp::BroadcastWithAck {
                sel,
                event,
                args,
                timeout,
                done,
            } => self.broadcast_with_ack(sel, &event, args, timeout, done),
            ServerOp::FetchSockets {
                sel,
                clone_data,
                done,
            } => {
                let sockets = self.local_sockets(&sel.broadcast, clone_data);
                done(self, sockets);
            }
            ServerOp::SocketsJoin { sel, rooms } => {
                for conn in self.server.select(&sel.broadcast) {
                    for room in &rooms {
                        let _ = self.server.join(conn, &sel.broadcast.nsp, room);
                    }
                }
            }
            ServerOp::SocketsLeave { sel, rooms } => {
                for conn in self.server.select(&sel.broadcast) {
                    for room in &rooms {
                        let _ = self.server.leave(conn, &sel.broadcast.nsp, room);
                    }
                }
            }
            ServerOp::DisconnectSockets { sel, close } => {
                for conn in self.server.select(&sel.broadcast) {
                    let result = if close {
                        self.server.close(self.now, conn)
                    } else {
                        self.server.disconnect(self.now, conn, &sel.broadcast.nsp)
                    };
                    if let Err(e) = result {
                        log::debug!("{conn}: disconnect: {e}");
                    }
                }
            }
        }
    }

    /// Records a broadcast about to leave: whom the core selects, and
    /// every socket of the namespace with its own room set.
    fn journal_broadcast(&mut self, selector: &Broadcast, event: &str) {
        let recipients: Vec<ConnId> = self.server.select(selector).into_iter().collect();
        let mut members: Vec<(ConnId, Vec<String>)> = self
            .state
            .sockets
            .iter()
            .filter(|(_, sockets)| sockets.iter().any(|s| *s.nsp == *selector.nsp))
            // A socket whose departure the core already made (its
            // disconnect handlers have not run yet) is no member.
            .filter(|(conn, _)| self.server.socket_id(**conn, &selector.nsp).is_some())
            .map(|(conn, _)| (*conn, self.server.rooms_of(*conn, &selector.nsp)))
            .collect();
        members.sort();
        if let Some(observer) = self.state.journal.as_mut() {
            observer(super::journal::JournalEntry::Broadcast {
                selector: selector.clone(),
                event: event.to_owned(),
                recipients,
                members,
            });
        }
    }

    fn broadcast_with_ack(
        &mut self,
        sel: Selector,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
        done: super::state::CollectorCallback<D>,
    ) {
        let id = self.state.next_collector;
        self.state.next_collector += 1;
        if self.state.journal.is_some() {
            self.journal_broadcast(&sel.broadcast, event);
        }
        let nsp = sel.broadcast.nsp.as_str();
        let mut acks = BroadcastAcks::default();
        let mut waiting = 0;
        for conn in self.server.select(&sel.broadcast) {
            let Some(socket_id) = self.state.socket(conn, nsp).map(|s| s.id.clone()) else {
                continue;
            };
            if let Some(mut socket) = self.socket(conn, nsp) {
                socket.notify_outgoing(event, &args);
            }
            match self
                .server
                .emit_with_ack(self.now, conn, nsp, event, args.clone(), timeout)
            {
                Ok(ack) => {
                    if let Some(s) = self.state.socket_mut(conn, nsp) {
                        s.pending.insert(ack, PendingAck::Collector(id));
                        waiting += 1;
                    }
                }
                Err(e) => {
                    log::debug!("{conn}: broadcast with ack {event:?}: {e}");
                    acks.missing.push(socket_id.to_string());
                }
            }
        }
        if waiting == 0 {
            done(self, acks);
        } else {
            self.state.collectors.insert(
                id,
                super::state::Collector {
                    waiting,
                    acks,
                    done,
                },
            );
        }
    }
}

/// A selection of sockets and what to do with them (socket.io's
/// `BroadcastOperator`): `io.of("/").to("room").except("muted").emit(..)`.
pub struct Operator<'a, D> {
    pub(crate) io: Io<'a, D>,
    pub(crate) sel: Selector,
    pub(crate) timeout: Option<Duration>,
}

impl<'a, D> Operator<'a, D> {
    /// Adds the members of `room` (several calls: the union). A socket id
    /// is a room holding that socket.
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.sel.broadcast = self.sel.broadcast.room(room);
        self
    }

    /// Leaves out the members of `room`.
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.sel.broadcast = self.sel.broadcast.except(room);
        self
    }

    /// Drops the packet for recipients that cannot take it right now.
    pub fn volatile(mut self) -> Self {
        self.sel.broadcast = self.sel.broadcast.volatile();
        self
    }

    /// Keeps the operation on this node (matters once several nodes form a
    /// cluster; a single node is the default).
    pub fn local(mut self) -> Self {
        self.sel.local = true;
        self
    }

    /// The acknowledgement timeout of [`Operator::emit_with_ack`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Emits `event` to every selected socket (encoded once for all).
    pub fn emit(mut self, event: impl Into<String>, args: impl Into<Args>) {
        self.io.execute(ServerOp::Broadcast {
            sel: self.sel,
            event: event.into(),
            args: args.into(),
        });
    }

    /// Emits `event` to every selected socket, each asked for an
    /// acknowledgement; `done` runs once with every answer, when all
    /// arrived or the [`Operator::timeout`] passed (socket.io's
    /// `io.timeout(ms).emit(ev, (err, responses) => ...)`). Without a
    /// timeout it waits until every recipient answered or left.
    pub fn emit_with_ack(
        mut self,
        event: impl Into<String>,
        args: impl Into<Args>,
        done: impl FnOnce(&mut Io<'_, D>, BroadcastAcks) + Send + 'static,
    ) {
        self.io.execute(ServerOp::BroadcastWithAck {
            sel: self.sel,
            event: event.into(),
            args: args.into(),
            timeout: self.timeout,
            done: Box::new(done),
        });
    }

    /// Describes every selected socket (socket.io's `fetchSockets()`);
    /// `done` runs with the list, sorted by connection.
    pub fn fetch_sockets(
        mut self,
        done: impl FnOnce(&mut Io<'_, D>, Vec<SocketInfo<D>>) + Send + 'static,
    ) where
        D: Clone,
    {
        self.io.execute(ServerOp::FetchSockets {
            sel: self.sel,
            clone_data: D::clone,
            done: Box::new(done),
        });
    }

    /// Makes every selected socket join `rooms` (socket.io's `socketsJoin`).
    pub fn sockets_join<R: Into<String>>(mut self, rooms: impl IntoIterator<Item = R>) {
        let rooms = rooms.into_iter().map(Into::into).collect();
        self.io.execute(ServerOp::SocketsJoin {
            sel: self.sel,
            rooms,
        });
    }

    /// Makes every selected socket leave `rooms` (socket.io's `socketsLeave`).
    pub fn sockets_leave<R: Into<String>>(mut self, rooms: impl IntoIterator<Item = R>) {
        let rooms = rooms.into_iter().map(Into::into).collect();
        self.io.execute(ServerOp::SocketsLeave {
            sel: self.sel,
            rooms,
        });
    }

    /// Disconnects every selected socket from the namespace, or with
    /// `close` closes their whole connections (socket.io's
    /// `disconnectSockets(close)`).
    pub fn disconnect_sockets(mut self, close: bool) {
        self.io.execute(ServerOp::DisconnectSockets {
            sel: self.sel,
            close,
        });
    }
}

/// One socket: a client connection in one namespace, while a handler for
/// it runs. Dereferences to [`Io`] for server-wide operations.
pub struct Socket<'a, D> {
    pub(crate) io: Io<'a, D>,
    pub(crate) conn: ConnId,
    pub(crate) nsp: Arc<str>,
}

impl<'a, D> Deref for Socket<'a, D> {
    type Target = Io<'a, D>;
    fn deref(&self) -> &Io<'a, D> {
        &self.io
    }
}

impl<D> DerefMut for Socket<'_, D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.io
    }
}

impl<D> Socket<'_, D> {
    pub(crate) fn state(&self) -> Option<&SocketState<D>> {
        self.io.state.socket(self.conn, &self.nsp)
    }

    fn state_mut(&mut self) -> Option<&mut SocketState<D>> {
        self.io.state.socket_mut(self.conn, &self.nsp)
    }

    /// The connection this socket belongs to.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The socket id (also the name of a room holding only this socket).
    pub fn id(&self) -> &str {
        self.state().map_or("", |s| &s.id)
    }

    /// The handshake request of the connection (URL, query, headers).
    pub fn handshake(&self) -> &Handshake {
        static EMPTY: std::sync::OnceLock<Handshake> = std::sync::OnceLock::new();
        self.state()
            .map(|s| &*s.handshake)
            .unwrap_or_else(|| EMPTY.get_or_init(Handshake::default))
    }

    /// The auth payload the client joined the namespace with (`{}` when
    /// none; 0.9 and rev 4 clients: the query as an object).
    pub fn auth(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.state().map_or(&NULL, |s| &s.auth)
    }

    /// True for a Socket.IO 0.9 client.
    pub fn is_legacy(&self) -> bool {
        self.state().is_some_and(|s| s.legacy)
    }

    /// The application's data for this socket (socket.io's `socket.data`).
    /// It lives as long as the socket: every handler of the socket sees it.
    pub fn data(&self) -> &D {
        match self.state() {
            Some(s) => &s.data,
            None => &self.io.state.scratch,
        }
    }

    /// The application's data for this socket, to change.
    pub fn data_mut(&mut self) -> &mut D {
        let state = &mut *self.io.state;
        let found = state
            .sockets
            .get_mut(&self.conn)
            .and_then(|list| list.iter_mut().find(|s| s.nsp == self.nsp));
        match found {
            Some(s) => &mut s.data,
            // Unreachable while the socket lives (its handlers only run then).
            None => &mut state.scratch,
        }
    }

    /// The rooms this socket is in (its own id included), in order.
    pub fn rooms(&self) -> Vec<String> {
        self.io.server.rooms_of(self.conn, &self.nsp)
    }

    /// Registers the handler of `event`: it runs with the arguments and,
    /// when the client asked for one, the [`Ack`] to answer.
    pub fn on(
        &mut self,
        event: impl Into<String>,
        handler: impl Fn(&mut Socket<'_, D>, Args, Option<Ack>) + Send + Sync + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut()
                .events
                .insert(event.into(), Arc::new(handler));
        }
    }

    /// Registers a listener for every incoming event (socket.io's
    /// `onAny`): it sees the name and arguments before the event's handler.
    pub fn on_any(
        &mut self,
        listener: impl Fn(&mut Socket<'_, D>, &str, &Args) + Send + Sync + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut().any.push(Arc::new(listener));
        }
    }

    /// Registers a listener for every event sent to this socket, by itself
    /// or by a broadcast (socket.io's `onAnyOutgoing`).
    pub fn on_any_outgoing(
        &mut self,
        listener: impl Fn(&mut Socket<'_, D>, &str, &Args) + Send + Sync + 'static,
    ) {
        let mut first = false;
        if let Some(s) = self.state_mut() {
            let handlers = s.handlers_mut();
            first = handlers.any_outgoing.is_empty();
            handlers.any_outgoing.push(Arc::new(listener));
        }
        if first {
            self.io.state.outgoing_watchers += 1;
        }
    }

    /// Appends a packet middleware (socket.io's `socket.use`): it runs for
    /// every incoming event before the listeners, may change it, or refuse
    /// it (see [`Refusal`]).
    pub fn use_middleware(
        &mut self,
        middleware: impl Fn(&mut Socket<'_, D>, &mut IncomingEvent) -> Result<(), Refusal>
            + Send
            + Sync
            + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut().middlewares.push(Arc::new(middleware));
        }
    }

    /// Registers a handler for the refusals of packet middlewares
    /// (socket.io's `socket.on("error", ...)`).
    pub fn on_error(
        &mut self,
        handler: impl Fn(&mut Socket<'_, D>, &Refusal) + Send + Sync + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut().errors.push(Arc::new(handler));
        }
    }

    /// Registers a handler for the socket's end (exactly once per socket,
    /// with the reason; socket.io's `socket.on("disconnect", ...)`). No
    /// handler of this socket runs after it.
    pub fn on_disconnect(
        &mut self,
        handler: impl Fn(&mut Socket<'_, D>, &DisconnectReason) + Send + Sync + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut().disconnect.push(Arc::new(handler));
        }
    }

    /// Registers the handler of 0.9 `message` packets (type 3; the one
    /// argument is the text). Without it they go to `on("message", ..)`.
    pub fn on_message_packet(
        &mut self,
        handler: impl Fn(&mut Socket<'_, D>, Args, Option<Ack>) + Send + Sync + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut().legacy_message = Some(Arc::new(handler));
        }
    }

    /// Registers the handler of 0.9 `json` packets (type 4; the one
    /// argument is the value). Without it they go to `on("json", ..)`.
    pub fn on_json_packet(
        &mut self,
        handler: impl Fn(&mut Socket<'_, D>, Args, Option<Ack>) + Send + Sync + 'static,
    ) {
        if let Some(s) = self.state_mut() {
            s.handlers_mut().legacy_json = Some(Arc::new(handler));
        }
    }

    pub(crate) fn notify_outgoing(&mut self, event: &str, args: &Args) {
        let listeners = match self.state() {
            Some(s) => s.own(|h| &h.any_outgoing),
            None => return,
        };
        for listener in listeners {
            listener(self, event, args);
        }
    }

    /// True if this socket was restored by connection state recovery (see
    /// [`super::App::connection_state_recovery`]): same id, rooms and data
    /// as before the transport cut, and the events it missed were sent
    /// before the CONNECT answer (socket.io's `socket.recovered`).
    pub fn recovered(&self) -> bool {
        self.state().is_some_and(|s| s.recovered)
    }

    /// Emits `event` to this client; a usage error (reserved name, the
    /// socket already gone) is logged. See [`Socket::try_emit`].
    pub fn emit(&mut self, event: &str, args: impl Into<Args>) {
        if let Err(e) = self.try_emit(event, args) {
            log_usage(self.conn, event, &e);
        }
    }

    /// Emits `event` to this client, or says why it cannot.
    pub fn try_emit(&mut self, event: &str, args: impl Into<Args>) -> Result<(), UsageError> {
        let mut args = args.into();
        self.notify_outgoing(event, &args);
        let target = self
            .state()
            .filter(|s| s.pid.is_some())
            .map(|s| s.id.to_string());
        if let (Some(id), Some(store)) = (target, self.io.state.recovery.as_mut()) {
            if !crate::wire::sio::is_reserved_event(event) {
                store.record(self.io.now, &self.nsp, &[id], &[], event, &mut args);
            }
        }
        self.io
            .server
            .emit(self.io.now, self.conn, &self.nsp, event, args)
    }

    /// Emits `event` unless the client cannot take it right now (socket.io's
    /// `socket.volatile.emit`).
    pub fn emit_volatile(&mut self, event: &str, args: impl Into<Args>) {
        let Some(id) = self.state().map(|s| s.id.to_string()) else {
            return;
        };
        let sel = Selector::new(Broadcast::to(&*self.nsp).room(id).volatile()).local();
        self.io.execute(ServerOp::Broadcast {
            sel,
            event: event.to_owned(),
            args: args.into(),
        });
    }

    /// Emits `event` asking for an acknowledgement; `then` runs exactly
    /// once with the answer, or with [`AckError::Timeout`] after `timeout`,
    /// [`AckError::Disconnected`] if the socket ends first, or
    /// [`AckError::NotSent`] at once if it could not be sent.
    pub fn emit_with_ack(
        &mut self,
        event: &str,
        args: impl Into<Args>,
        timeout: Option<Duration>,
        then: impl FnOnce(&mut Socket<'_, D>, AckResult) + Send + 'static,
    ) {
        let args = args.into();
        self.notify_outgoing(event, &args);
        let sent =
            self.io
                .server
                .emit_with_ack(self.io.now, self.conn, &self.nsp, event, args, timeout);
        self.register_ack(sent.map(Some), Box::new(then));
    }

    fn register_ack(
        &mut self,
        sent: Result<Option<AckId>, UsageError>,
        then: super::state::AckCallback<D>,
    ) {
        match sent {
            Ok(Some(id)) => match self.state_mut() {
                Some(s) => {
                    s.pending.insert(id, PendingAck::Callback(then));
                }
                None => then(self, Err(AckError::Disconnected)),
            },
            Ok(None) => {}
            Err(e) => then(self, Err(AckError::NotSent(e.to_string()))),
        }
    }

    /// Joins `room`.
    pub fn join(&mut self, room: &str) {
        if let Err(e) = self.io.server.join(self.conn, &self.nsp, room) {
            log::debug!("{}: join {room:?}: {e}", self.conn);
        }
    }

    /// Leaves `room`.
    pub fn leave(&mut self, room: &str) {
        if let Err(e) = self.io.server.leave(self.conn, &self.nsp, room) {
            log::debug!("{}: leave {room:?}: {e}", self.conn);
        }
    }

    fn others(&mut self) -> Operator<'_, D> {
        let id = self.id().to_owned();
        let nsp = self.nsp.to_string();
        Operator {
            io: self.io.reborrow(),
            sel: Selector::new(Broadcast::to(nsp).except(id)),
            timeout: None,
        }
    }

    /// The other sockets of the namespace in `room` (socket.io's
    /// `socket.to(room)`).
    pub fn to(&mut self, room: impl Into<String>) -> Operator<'_, D> {
        self.others().to(room)
    }

    /// Every other socket of the namespace but the members of `room`.
    pub fn except(&mut self, room: impl Into<String>) -> Operator<'_, D> {
        self.others().except(room)
    }

    /// Every other socket of the namespace (socket.io's `socket.broadcast`).
    pub fn broadcast(&mut self) -> Operator<'_, D> {
        self.others()
    }

    /// Disconnects this socket from its namespace (the client is told; the
    /// connection stays for its other namespaces).
    pub fn disconnect(&mut self) {
        if let Err(e) = self.io.server.disconnect(self.io.now, self.conn, &self.nsp) {
            log::debug!("{}: disconnect: {e}", self.conn);
        }
    }

    /// Disconnects every namespace of this client and closes its connection.
    pub fn close(&mut self) {
        if let Err(e) = self.io.server.close(self.io.now, self.conn) {
            log::debug!("{}: close: {e}", self.conn);
        }
    }

    /// Sends a 0.9 `message` packet (3) with `text` (0.9 clients only).
    pub fn send_message_packet(&mut self, text: &str) {
        let sent = self.io.server.send_legacy_message(
            self.io.now,
            self.conn,
            &self.nsp,
            text,
            LegacyAck::None,
        );
        if let Err(e) = sent {
            log_usage(self.conn, "message", &e);
        }
    }

    /// Sends a 0.9 `json` packet (4) with `value` (0.9 clients only).
    pub fn send_json_packet(&mut self, value: Value) {
        let sent = self.io.server.send_legacy_json(
            self.io.now,
            self.conn,
            &self.nsp,
            value,
            LegacyAck::None,
        );
        if let Err(e) = sent {
            log_usage(self.conn, "json", &e);
        }
    }

    /// Sends a 0.9 `message` packet asking for a receipt
    /// ([`LegacyAck::Auto`]) or data ([`LegacyAck::Data`]) acknowledgement;
    /// `then` runs once with it (see [`Socket::emit_with_ack`]).
    pub fn send_message_packet_with_ack(
        &mut self,
        text: &str,
        ack: LegacyAck,
        then: impl FnOnce(&mut Socket<'_, D>, AckResult) + Send + 'static,
    ) {
        let sent = self
            .io
            .server
            .send_legacy_message(self.io.now, self.conn, &self.nsp, text, ack);
        self.register_ack(sent, Box::new(then));
    }

    /// A handle on this socket for other threads, if the driver provides one.
    pub fn remote_socket(&self) -> Option<RemoteSocket<D>>
    where
        D: 'static,
    {
        let remote = self.io.state.remote.clone()?;
        Some(remote.socket(self.conn, &self.nsp))
    }
}

/// The answer a client waits for: it asked for an acknowledgement of an
/// event. Sending consumes it; dropping it sends nothing. It can be kept
/// and sent later, from another handler. Answer once: a clone sends a
/// second ACK packet, which clients ignore (socket.io drops a second call
/// of its ack callback instead), and `socketio-sim`'s `ack-exactly-once`
/// invariant reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub(crate) conn: ConnId,
    pub(crate) nsp: Arc<str>,
    pub(crate) id: AckId,
}

impl Ack {
    /// Sends the acknowledgement with `args` (a [`Socket`] converts to the
    /// `&mut Io` this takes).
    pub fn send<D>(self, io: &mut Io<'_, D>, args: impl Into<Args>) {
        if let Err(e) = io
            .server
            .ack(io.now, self.conn, &self.nsp, self.id, args.into())
        {
            log::debug!("{}: ack {}: {e}", self.conn, self.id);
        }
    }

    /// The connection that asked.
    pub fn conn(&self) -> ConnId {
        self.conn
    }
}

/// A bare Engine.IO session (no Socket.IO layer), while its handler runs.
pub struct EngineSocket<'a, D> {
    pub(crate) io: Io<'a, D>,
    pub(crate) conn: ConnId,
}

impl<'a, D> Deref for EngineSocket<'a, D> {
    type Target = Io<'a, D>;
    fn deref(&self) -> &Io<'a, D> {
        &self.io
    }
}

impl<D> DerefMut for EngineSocket<'_, D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.io
    }
}

impl<D> EngineSocket<'_, D> {
    /// The session.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// Sends a message (text or binary).
    pub fn send(&mut self, data: EngineData) {
        if let Err(e) = self
            .io
            .server
            .send_engine_message(self.io.now, self.conn, data)
        {
            log::debug!("{}: engine send: {e}", self.conn);
        }
    }

    /// Closes the session.
    pub fn close(&mut self) {
        let _ = self.io.server.close(self.io.now, self.conn);
    }
}

fn log_usage(conn: ConnId, event: &str, e: &UsageError) {
    match e {
        UsageError::Closed | UsageError::NotConnected(_) | UsageError::UnknownConnection => {
            log::debug!("{conn}: {event:?} not sent: {e}")
        }
        _ => log::warn!("{conn}: {event:?} not sent: {e}"),
    }
}
