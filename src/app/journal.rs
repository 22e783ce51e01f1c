//! An optional journal of what the application layer does, for tests and
//! simulators: each handler run and each broadcast, with what the server's
//! own tables held at that instant. Off by default; when off it costs one
//! `Option` check per handler run.

use std::sync::Arc;

use crate::server::{Broadcast, ConnId};

/// What kind of application callback ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    /// The namespace's connection handler.
    Connection,
    /// A socket middleware (`Socket::use_middleware`).
    Middleware,
    /// An error handler (`Socket::on_error`).
    Error,
    /// A catch-all listener (`Socket::on_any`).
    Any,
    /// An event handler (`Socket::on`, `Namespace::on`, 0.9 packets).
    Event,
    /// An acknowledgement callback of `Socket::emit_with_ack`.
    AckCallback,
    /// A disconnect handler (`Socket::on_disconnect`).
    Disconnect,
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JournalEntry {
    /// A handler of a socket ran (recorded just before it runs).
    Handler {
        /// The socket's connection.
        conn: ConnId,
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket's id; `None` when the application holds no state for
        /// `(conn, nsp)` while the handler runs (which must not happen
        /// after the socket's [`JournalEntry::Disconnected`]).
        socket: Option<Arc<str>>,
        /// Which handler.
        kind: HandlerKind,
    },
    /// A socket is gone: its disconnect handlers have run and its state is
    /// removed. No handler of it may run after this entry.
    Disconnected {
        /// The socket's connection.
        conn: ConnId,
        /// The socket's namespace.
        nsp: Arc<str>,
        /// The socket's id.
        socket: Arc<str>,
    },
    /// A broadcast left this node (recorded just before the packets are
    /// queued).
    Broadcast {
        /// The selection: namespace, rooms, except rooms, volatile.
        selector: Broadcast,
        /// The event name.
        event: String,
        /// The connections the core sends it to.
        recipients: Vec<ConnId>,
        /// Every socket of the namespace at that instant (held by the
        /// application and still connected on its core connection) with
        /// the rooms it is in, read from each connection's own room set,
        /// not from the member and room indexes the core selects with, so
        /// an observer can compute who should receive the broadcast
        /// independently.
        members: Vec<(ConnId, Vec<String>)>,
    },
}

/// The observer [`AppServer::set_journal`](super::AppServer::set_journal)
/// installs.
pub type JournalObserver = Box<dyn FnMut(JournalEntry) + Send>;
