//! Server-wide operations as data. Every operator call (`emit`,
//! `emit_with_ack`, `fetch_sockets`, `sockets_join`, `sockets_leave`,
//! `disconnect_sockets`) becomes one [`ServerOp`] executed in one place
//! (`Io::execute`): the seam where a multi-node transport forwards the
//! operation to the other nodes while this node executes its own share
//! (see [`crate::cluster`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::SelectionOp;
use crate::conn::Handshake;
use crate::server::{Broadcast, ConnId};
use crate::wire::sio::Args;

use super::context::Io;
use super::state::CollectorCallback;

/// Which sockets an operation applies to: a namespace, rooms, exceptions,
/// the volatile flag, and whether it stays on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// Namespace, rooms, except rooms, volatile.
    pub broadcast: Broadcast,
    /// Only this node's sockets (socket.io's `.local`).
    pub local: bool,
}

impl Selector {
    /// Every socket `broadcast` selects, cluster-wide.
    pub fn new(broadcast: Broadcast) -> Self {
        Selector {
            broadcast,
            local: false,
        }
    }

    /// Only this node's sockets.
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }
}

/// The answers to a broadcast with acknowledgements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BroadcastAcks {
    /// Each answering socket's id and its acknowledgement, in arrival order
    /// (the id is empty for a socket of another node: the cluster protocol
    /// does not carry it).
    pub responses: Vec<(String, Args)>,
    /// The ids of this node's sockets that did not answer in time (or left
    /// first).
    pub missing: Vec<String>,
    /// Acknowledgements other nodes announced that did not come (their
    /// sockets' ids do not cross the cluster).
    pub remote_missing: usize,
    /// Some other node did not report before the timeout.
    pub remote_incomplete: bool,
}

impl BroadcastAcks {
    /// True when every recipient answered (socket.io's `err` is null).
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.remote_missing == 0 && !self.remote_incomplete
    }
}

/// One socket as [`super::Operator::fetch_sockets`] describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SocketInfo<D> {
    /// The socket id.
    pub id: String,
    /// The namespace.
    pub nsp: String,
    /// The connection, for a socket of this node (`None`: another node's).
    pub conn: Option<ConnId>,
    /// Its rooms, its own id included.
    pub rooms: Vec<String>,
    /// The connection's handshake.
    pub handshake: Arc<Handshake>,
    /// The namespace auth payload.
    pub auth: Value,
    /// The application's data.
    pub data: D,
}

pub(crate) type FetchCallback<D> = Box<dyn FnOnce(&mut Io<'_, D>, Vec<SocketInfo<D>>) + Send>;

/// A server-wide operation.
pub(crate) enum ServerOp<D> {
    Broadcast {
        sel: Selector,
        event: String,
        args: Args,
    },
    BroadcastWithAck {
        sel: Selector,
        event: String,
        args: Args,
        timeout: Option<Duration>,
        done: CollectorCallback<D>,
    },
    FetchSockets {
        sel: Selector,
        clone_data: fn(&D) -> D,
        done: FetchCallback<D>,
    },
    /// `sockets_join`, `sockets_leave`, `disconnect_sockets`.
    Selection { sel: Selector, op: SelectionOp },
}

impl<D> fmt::Debug for ServerOp<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerOp::Broadcast { sel, event, .. } => write!(f, "Broadcast({sel:?}, {event:?})"),
            ServerOp::BroadcastWithAck { sel, event, .. } => {
                write!(f, "BroadcastWithAck({sel:?}, {event:?})")
            }
            ServerOp::FetchSockets { sel, .. } => write!(f, "FetchSockets({sel:?})"),
            ServerOp::Selection { sel, op } => write!(f, "Selection({sel:?}, {op:?})"),
        }
    }
}
