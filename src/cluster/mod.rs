//! The cluster protocol of socket.io's adapters (the semantics of
//! `@socket.io/redis-adapter` and the cluster adapter) as a pure state
//! machine, encoding-neutral: a transport (Redis pub/sub, an in-memory
//! [`bus`], ...) decides the bytes.
//!
//! A [`Cluster`] is one node. Its verbs:
//!
//! * operations of this node: [`Cluster::broadcast`],
//!   [`Cluster::apply`] (a [`SelectionOp`]: join, leave, disconnect),
//!   [`Cluster::server_side_emit`] yield
//!   messages to publish; [`Cluster::fetch_sockets`],
//!   [`Cluster::server_side_emit_with_ack`] and
//!   [`Cluster::broadcast_with_ack`] also open a request that completes
//!   when every other known node answered, or at its deadline, with a
//!   [`ClusterEvent::Done`];
//! * input from the other nodes: [`Cluster::handle_message`] turns a
//!   [`ClusterMessage`] into [`ClusterEvent`]s (work for this node, or
//!   answers to its requests); the answers this node owes go out through
//!   [`Cluster::respond_fetch`], [`Cluster::respond_server_side_emit`],
//!   [`Cluster::respond_client_count`] and [`Cluster::respond_broadcast_ack`];
//! * liveness: [`Cluster::set_node_count`] (how many nodes serve a
//!   namespace, this one included: the number a request waits for);
//! * time: [`Cluster::poll_timeout`] and [`Cluster::handle_timeout`] with
//!   `now` passed in;
//! * output: [`Cluster::poll_message`] and [`Cluster::poll_event`].
//!
//! The application layer drives one through
//! [`AppServer::attach_cluster`](crate::app::AppServer::attach_cluster);
//! using it directly is for transports and tests.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use socketio_sansio::cluster::{Cluster, ClusterEvent, ClusterMessage, Outcome};
//! use socketio_sansio::Broadcast;
//!
//! let now = Instant::now();
//! let mut a = Cluster::new("node-a", Duration::from_secs(5));
//! let mut b = Cluster::new("node-b", Duration::from_secs(5));
//! a.set_node_count(now, "/", 2);
//! let id = a.fetch_sockets(now, Broadcast::to("/"));
//! // The request crosses the transport to b...
//! let request = a.poll_message().unwrap();
//! b.handle_message(now, request);
//! let Some(ClusterEvent::FetchSockets { responder, .. }) = b.poll_event() else { panic!() };
//! b.respond_fetch(&responder, vec![]);
//! // ... and the answer comes back: every other node answered.
//! a.handle_message(now, b.poll_message().unwrap());
//! match a.poll_event() {
//!     Some(ClusterEvent::Done { id: done, outcome: Outcome::FetchSockets { complete, .. } }) => {
//!         assert_eq!(done, id);
//!         assert!(complete);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

pub mod bus;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::Broadcast;
use crate::wire::sio::Args;

/// A request's id, unique across the cluster (the node's uid and a
/// counter).
pub type RequestId = String;

/// A message between nodes. Every message names its namespace (a
/// transport may carry it in the channel name).
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterMessage {
    /// Emit `event` to the sockets `target` selects (socket.io adapter's
    /// `broadcast(packet, opts)`).
    Broadcast {
        /// The sending node.
        uid: String,
        /// Namespace, rooms, except, volatile.
        target: Broadcast,
        /// The event name.
        event: String,
        /// Its arguments (binary attachments included).
        args: Args,
    },
    /// A request to the other nodes.
    Request {
        /// The sending node.
        uid: String,
        /// The namespace.
        nsp: String,
        /// Present when the sender waits for responses.
        id: Option<RequestId>,
        /// What is asked.
        kind: RequestKind,
    },
    /// An answer to a request.
    Response {
        /// The namespace of the request.
        nsp: String,
        /// The request answered.
        id: RequestId,
        /// The answer.
        kind: ResponseKind,
    },
}

impl ClusterMessage {
    /// The namespace the message belongs to.
    pub fn nsp(&self) -> &str {
        match self {
            ClusterMessage::Broadcast { target, .. } => &target.nsp,
            ClusterMessage::Request { nsp, .. } | ClusterMessage::Response { nsp, .. } => nsp,
        }
    }
}

/// What a [`ClusterMessage::Request`] asks of the other nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestKind {
    /// Describe the selected sockets (`fetchSockets`).
    FetchSockets {
        /// The selection (its `nsp` is the request's).
        target: Broadcast,
    },
    /// Apply `op` to the selected sockets (`socketsJoin`, `socketsLeave`,
    /// `disconnectSockets`); no answer is expected.
    Selection {
        /// The selection.
        target: Broadcast,
        /// What to do to it.
        op: SelectionOp,
    },
    /// An event for the servers themselves (`serverSideEmit`); with a
    /// request id each node answers once.
    ServerSideEmit {
        /// The event name.
        event: String,
        /// Its arguments.
        args: Args,
    },
    /// Emit with acknowledgements (`io.timeout(ms).emit(.., cb)`): each
    /// node answers with its client count, then with every acknowledgement.
    BroadcastWithAck {
        /// The selection.
        target: Broadcast,
        /// The event name.
        event: String,
        /// Its arguments.
        args: Args,
        /// The acknowledgement timeout.
        timeout: Option<Duration>,
    },
}

/// What an operation on a selection of sockets does, when it asks for no
/// answer: the one type the cluster's requests and events
/// ([`RequestKind::Selection`], [`ClusterEvent::Selection`]) and the
/// application layer's operators share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionOp {
    /// Join these rooms (socket.io's `socketsJoin`).
    Join(Vec<String>),
    /// Leave these rooms (socket.io's `socketsLeave`).
    Leave(Vec<String>),
    /// Disconnect from the namespace, or with `close` close the whole
    /// connections (socket.io's `disconnectSockets(close)`).
    Disconnect {
        /// Close the whole connections.
        close: bool,
    },
}

/// What a [`ClusterMessage::Response`] carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseKind {
    /// One node's selected sockets.
    FetchSockets {
        /// The sockets.
        sockets: Vec<RemoteSocket>,
    },
    /// One node's answer to a server-side emit.
    ServerSideEmit {
        /// The answer (socket.io forwards one argument).
        answer: Value,
    },
    /// How many acknowledgements one node waits for.
    BroadcastClientCount {
        /// The number of sockets the node emitted to.
        count: usize,
    },
    /// One client's acknowledgement.
    BroadcastAck {
        /// The acknowledgement's arguments.
        answer: Args,
    },
}

/// A socket of another node, as `fetchSockets` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSocket {
    /// The socket id.
    pub id: String,
    /// Its handshake as socket.io describes it (`headers`, `url`, `query`,
    /// `auth`, ...).
    pub handshake: Value,
    /// Its rooms, its own id included.
    pub rooms: Vec<String>,
    /// The application's data (`socket.data`).
    pub data: Value,
}

/// Who waits for an answer: pass it back to the `respond_*` verbs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    /// The namespace of the request.
    pub nsp: String,
    /// The request.
    pub id: RequestId,
    /// The requesting node.
    pub uid: String,
}

/// What the cluster asks of this node, or the outcome of its requests.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterEvent {
    /// Emit to this node's sockets that `target` selects.
    Broadcast {
        /// The selection.
        target: Broadcast,
        /// The event name.
        event: String,
        /// Its arguments.
        args: Args,
    },
    /// Apply `op` to this node's selected sockets.
    Selection {
        /// The selection.
        target: Broadcast,
        /// What to do to it.
        op: SelectionOp,
    },
    /// Describe this node's selected sockets with [`Cluster::respond_fetch`].
    FetchSockets {
        /// Where the answer goes.
        responder: Responder,
        /// The selection.
        target: Broadcast,
    },
    /// An event for this server; answer once with
    /// [`Cluster::respond_server_side_emit`] when `ack` is present.
    ServerSideEmit {
        /// The namespace.
        nsp: String,
        /// The event name.
        event: String,
        /// Its arguments.
        args: Args,
        /// Where the answer goes, if one is expected.
        ack: Option<Responder>,
    },
    /// Emit to this node's selected sockets asking for acknowledgements:
    /// answer at once with [`Cluster::respond_client_count`], then with
    /// [`Cluster::respond_broadcast_ack`] for every acknowledgement.
    BroadcastWithAck {
        /// Where the answers go.
        responder: Responder,
        /// The selection.
        target: Broadcast,
        /// The event name.
        event: String,
        /// Its arguments.
        args: Args,
        /// The acknowledgement timeout.
        timeout: Option<Duration>,
    },
    /// One of this node's requests finished.
    Done {
        /// The request.
        id: RequestId,
        /// What the other nodes answered.
        outcome: Outcome,
    },
}

/// The answers of the other nodes to one request. `complete` is false when
/// the deadline passed first (the answers that came are kept).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `fetchSockets`: the other nodes' sockets.
    FetchSockets {
        /// The sockets, in arrival order.
        sockets: Vec<RemoteSocket>,
        /// Every other node answered.
        complete: bool,
    },
    /// `serverSideEmit` with an acknowledgement.
    ServerSideEmit {
        /// One answer per node, in arrival order.
        responses: Vec<Value>,
        /// Every other node answered.
        complete: bool,
    },
    /// Broadcast with acknowledgements: the other nodes' share.
    BroadcastWithAck {
        /// The acknowledgements, in arrival order.
        acks: Vec<Args>,
        /// Every other node reported its count and every ack arrived.
        complete: bool,
        /// Acknowledgements announced by a client count that did not come.
        missing: usize,
    },
}

struct Pending {
    deadline: Instant,
    /// Other nodes that answer (the node count minus this one), at the
    /// time of the request or lowered since.
    expected: usize,
    nsp: String,
    state: PendingState,
}

enum PendingState {
    Fetch {
        sockets: Vec<RemoteSocket>,
        answered: usize,
    },
    ServerSideEmit {
        responses: Vec<Value>,
    },
    BroadcastAck {
        counted: usize,
        announced: usize,
        acks: Vec<Args>,
    },
}

impl Pending {
    fn is_complete(&self) -> bool {
        match &self.state {
            PendingState::Fetch { answered, .. } => *answered >= self.expected,
            PendingState::ServerSideEmit { responses } => responses.len() >= self.expected,
            PendingState::BroadcastAck {
                counted,
                announced,
                acks,
            } => *counted >= self.expected && acks.len() >= *announced,
        }
    }

    fn finish(self) -> Outcome {
        let complete = self.is_complete();
        match self.state {
            PendingState::Fetch { sockets, .. } => Outcome::FetchSockets { sockets, complete },
            PendingState::ServerSideEmit { responses } => Outcome::ServerSideEmit {
                responses,
                complete,
            },
            PendingState::BroadcastAck {
                announced, acks, ..
            } => Outcome::BroadcastWithAck {
                missing: announced.saturating_sub(acks.len()),
                acks,
                complete,
            },
        }
    }
}

/// One node of a cluster (see the [module docs](self)).
pub struct Cluster {
    uid: String,
    request_timeout: Duration,
    node_counts: HashMap<String, usize>,
    next_request: u64,
    pending: HashMap<RequestId, Pending>,
    outbox: VecDeque<ClusterMessage>,
    events: VecDeque<ClusterEvent>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("uid", &self.uid)
            .field("node_counts", &self.node_counts)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl Cluster {
    /// A node named `uid` (unique in the cluster: the transport draws it
    /// from its randomness), whose requests without a timeout of their own
    /// wait `request_timeout` (socket.io's `requestsTimeout`, 5 s there).
    pub fn new(uid: impl Into<String>, request_timeout: Duration) -> Self {
        Cluster {
            uid: uid.into(),
            request_timeout,
            node_counts: HashMap::new(),
            next_request: 1,
            pending: HashMap::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// This node's uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The default request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// How many nodes serve `nsp`, this one included (1 until told).
    pub fn node_count(&self, nsp: &str) -> usize {
        self.node_counts.get(nsp).copied().unwrap_or(1).max(1)
    }

    /// The number of other nodes a request on `nsp` waits for.
    pub fn other_nodes(&self, nsp: &str) -> usize {
        self.node_count(nsp) - 1
    }

    /// The transport's count of the nodes serving `nsp`, this one included
    /// (Redis: `PUBSUB NUMSUB` of the request channel). A lower count also
    /// lowers what pending requests wait for: those that have every answer
    /// the remaining nodes owe complete now.
    pub fn set_node_count(&mut self, now: Instant, nsp: &str, count: usize) {
        let count = count.max(1);
        let previous = self.node_counts.insert(nsp.to_owned(), count);
        if previous.is_some_and(|p| p <= count) {
            return;
        }
        let others = count - 1;
        let mut done = Vec::new();
        for (id, pending) in &mut self.pending {
            if pending.nsp == nsp && pending.expected > others {
                pending.expected = others;
                if pending.is_complete() {
                    done.push(id.clone());
                }
            }
        }
        done.sort();
        for id in done {
            self.complete(&id);
        }
        let _ = now;
    }

    // ---- this node's operations -------------------------------------

    /// Emits to the other nodes' sockets `target` selects.
    pub fn broadcast(&mut self, target: Broadcast, event: impl Into<String>, args: Args) {
        self.outbox.push_back(ClusterMessage::Broadcast {
            uid: self.uid.clone(),
            target,
            event: event.into(),
            args,
        });
    }

    /// Applies `op` to the other nodes' selected sockets (makes them join
    /// or leave rooms, or disconnects them).
    pub fn apply(&mut self, target: Broadcast, op: SelectionOp) {
        let nsp = target.nsp.clone();
        self.request(nsp, None, RequestKind::Selection { target, op });
    }

    /// Sends `event` to the other servers of `nsp`, no answer expected.
    pub fn server_side_emit(&mut self, nsp: &str, event: impl Into<String>, args: Args) {
        let kind = RequestKind::ServerSideEmit {
            event: event.into(),
            args,
        };
        self.request(nsp.to_owned(), None, kind);
    }

    /// Asks the other nodes for their selected sockets; a
    /// [`ClusterEvent::Done`] with [`Outcome::FetchSockets`] follows (at
    /// once when no other node is known).
    pub fn fetch_sockets(&mut self, now: Instant, target: Broadcast) -> RequestId {
        let nsp = target.nsp.clone();
        let state = PendingState::Fetch {
            sockets: Vec::new(),
            answered: 0,
        };
        let deadline = now + self.request_timeout;
        self.open(nsp, deadline, state, |_| RequestKind::FetchSockets {
            target,
        })
    }

    /// Sends `event` to the other servers of `nsp`, each answering once; a
    /// [`ClusterEvent::Done`] with [`Outcome::ServerSideEmit`] follows when
    /// all answered or after `timeout`.
    pub fn server_side_emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        event: impl Into<String>,
        args: Args,
        timeout: Duration,
    ) -> RequestId {
        let state = PendingState::ServerSideEmit {
            responses: Vec::new(),
        };
        let event = event.into();
        self.open(nsp.to_owned(), now + timeout, state, |_| {
            RequestKind::ServerSideEmit { event, args }
        })
    }

    /// Emits to the other nodes' selected sockets asking for
    /// acknowledgements; a [`ClusterEvent::Done`] with
    /// [`Outcome::BroadcastWithAck`] follows once every other node reported
    /// its client count and every announced ack arrived, or after `timeout`
    /// (the request timeout without one).
    pub fn broadcast_with_ack(
        &mut self,
        now: Instant,
        target: Broadcast,
        event: impl Into<String>,
        args: Args,
        timeout: Option<Duration>,
    ) -> RequestId {
        let nsp = target.nsp.clone();
        let state = PendingState::BroadcastAck {
            counted: 0,
            announced: 0,
            acks: Vec::new(),
        };
        let deadline = now + timeout.unwrap_or(self.request_timeout);
        let event = event.into();
        self.open(nsp, deadline, state, |_| RequestKind::BroadcastWithAck {
            target,
            event,
            args,
            timeout,
        })
    }

    fn open(
        &mut self,
        nsp: String,
        deadline: Instant,
        state: PendingState,
        kind: impl FnOnce(&RequestId) -> RequestKind,
    ) -> RequestId {
        let id = format!("{}-{}", self.uid, self.next_request);
        self.next_request += 1;
        let pending = Pending {
            deadline,
            expected: self.other_nodes(&nsp),
            nsp: nsp.clone(),
            state,
        };
        let kind = kind(&id);
        if pending.expected == 0 {
            self.events.push_back(ClusterEvent::Done {
                id: id.clone(),
                outcome: pending.finish(),
            });
            return id;
        }
        self.pending.insert(id.clone(), pending);
        self.request(nsp, Some(id.clone()), kind);
        id
    }

    fn request(&mut self, nsp: String, id: Option<RequestId>, kind: RequestKind) {
        self.outbox.push_back(ClusterMessage::Request {
            uid: self.uid.clone(),
            nsp,
            id,
            kind,
        });
    }

    // ---- answers this node owes -------------------------------------

    fn respond(&mut self, to: &Responder, kind: ResponseKind) {
        self.outbox.push_back(ClusterMessage::Response {
            nsp: to.nsp.clone(),
            id: to.id.clone(),
            kind,
        });
    }

    /// Answers a [`ClusterEvent::FetchSockets`].
    pub fn respond_fetch(&mut self, to: &Responder, sockets: Vec<RemoteSocket>) {
        self.respond(to, ResponseKind::FetchSockets { sockets });
    }

    /// Answers a [`ClusterEvent::ServerSideEmit`] (once).
    pub fn respond_server_side_emit(&mut self, to: &Responder, answer: Value) {
        self.respond(to, ResponseKind::ServerSideEmit { answer });
    }

    /// Reports how many acknowledgements this node waits for, for a
    /// [`ClusterEvent::BroadcastWithAck`].
    pub fn respond_client_count(&mut self, to: &Responder, count: usize) {
        self.respond(to, ResponseKind::BroadcastClientCount { count });
    }

    /// Forwards one client's acknowledgement for a
    /// [`ClusterEvent::BroadcastWithAck`].
    pub fn respond_broadcast_ack(&mut self, to: &Responder, answer: Args) {
        self.respond(to, ResponseKind::BroadcastAck { answer });
    }

    // ---- input ---------------------------------------------------------

    /// A message from the cluster. This node's own messages (a transport
    /// may deliver them back) and answers to unknown requests are ignored.
    pub fn handle_message(&mut self, now: Instant, message: ClusterMessage) {
        let _ = now;
        match message {
            ClusterMessage::Broadcast {
                uid,
                target,
                event,
                args,
            } => {
                if uid != self.uid {
                    self.events.push_back(ClusterEvent::Broadcast {
                        target,
                        event,
                        args,
                    });
                }
            }
            ClusterMessage::Request { uid, nsp, id, kind } => {
                if uid == self.uid {
                    return;
                }
                self.on_request(uid, nsp, id, kind);
            }
            ClusterMessage::Response { id, kind, .. } => self.on_response(&id, kind),
        }
    }

    fn on_request(&mut self, uid: String, nsp: String, id: Option<RequestId>, kind: RequestKind) {
        let responder = id.map(|id| Responder {
            nsp: nsp.clone(),
            id,
            uid,
        });
        let event = match kind {
            RequestKind::Selection { target, op } => ClusterEvent::Selection { target, op },
            RequestKind::ServerSideEmit { event, args } => ClusterEvent::ServerSideEmit {
                nsp,
                event,
                args,
                ack: responder,
            },
            RequestKind::FetchSockets { target } => {
                let Some(responder) = responder else {
                    log::debug!("cluster: fetch-sockets request without an id");
                    return;
                };
                ClusterEvent::FetchSockets { responder, target }
            }
            RequestKind::BroadcastWithAck {
                target,
                event,
                args,
                timeout,
            } => {
                let Some(responder) = responder else {
                    log::debug!("cluster: broadcast-with-ack request without an id");
                    return;
                };
                ClusterEvent::BroadcastWithAck {
                    responder,
                    target,
                    event,
                    args,
                    timeout,
                }
            }
        };
        self.events.push_back(event);
    }

    fn on_response(&mut self, id: &str, kind: ResponseKind) {
        let Some(pending) = self.pending.get_mut(id) else {
            log::trace!("cluster: response to unknown request {id}");
            return;
        };
        match (&mut pending.state, kind) {
            (
                PendingState::Fetch { sockets, answered },
                ResponseKind::FetchSockets { sockets: s },
            ) => {
                sockets.extend(s);
                *answered += 1;
            }
            (
                PendingState::ServerSideEmit { responses },
                ResponseKind::ServerSideEmit { answer },
            ) => responses.push(answer),
            (
                PendingState::BroadcastAck {
                    counted, announced, ..
                },
                ResponseKind::BroadcastClientCount { count },
            ) => {
                *counted += 1;
                *announced += count;
            }
            (PendingState::BroadcastAck { acks, .. }, ResponseKind::BroadcastAck { answer }) => {
                acks.push(answer)
            }
            (_, kind) => {
                log::debug!("cluster: response {kind:?} does not fit request {id}");
                return;
            }
        }
        if pending.is_complete() {
            self.complete(id);
        }
    }

    fn complete(&mut self, id: &str) {
        if let Some(pending) = self.pending.remove(id) {
            self.events.push_back(ClusterEvent::Done {
                id: id.to_owned(),
                outcome: pending.finish(),
            });
        }
    }

    // ---- time ------------------------------------------------------------

    /// The earliest request deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// Completes the requests whose deadline passed, with the answers that
    /// came.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due: Vec<(Instant, RequestId)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, p)| (p.deadline, id.clone()))
            .collect();
        due.sort();
        for (_, id) in due {
            self.complete(&id);
        }
    }

    /// The number of requests waiting for answers.
    pub fn pending_requests(&self) -> usize {
        self.pending.len()
    }

    // ---- output ----------------------------------------------------------

    /// The next message to publish.
    #[must_use]
    pub fn poll_message(&mut self) -> Option<ClusterMessage> {
        self.outbox.pop_front()
    }

    /// The next event for this node.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClusterEvent> {
        self.events.pop_front()
    }
}
