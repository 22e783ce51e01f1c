//! The application layer on a cluster: server-wide operations go through
//! the [`Cluster`] state machine (unless `local`), and what the other
//! nodes ask runs here.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::cluster::{Cluster, ClusterEvent, ClusterMessage, Outcome, RemoteSocket, Responder};
use crate::conn::Handshake;
use crate::server::Broadcast;
use crate::wire::sio::Args;

use super::context::Io;
use super::ops::{BroadcastAcks, FetchCallback, Selector, ServerOp, SocketInfo};
use super::state::{CollectorCallback, PendingAck};

/// Where the messages of an attached cluster go as they are produced
/// (a transport's channel); without one, the driver polls them with
/// [`AppServer::poll_cluster_message`](super::AppServer::poll_cluster_message).
pub type ClusterOutlet = Box<dyn FnMut(ClusterMessage) + Send>;

/// An inter-server event handler (socket.io's `io.on("hello", ...)` for
/// `serverSideEmit`).
pub(crate) type ServerSideHandler<D> =
    Arc<dyn Fn(&mut Io<'_, D>, Args, Option<ServerSideAck>) + Send + Sync>;

/// The answers to [`Io::server_side_emit_with_ack`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSideAcks {
    /// One answer per other node, in arrival order.
    pub responses: Vec<Value>,
    /// Every other node answered before the timeout.
    pub complete: bool,
}

/// The answer another node waits for after a server-side emit: send it
/// once (socket.io forwards one argument).
#[derive(Debug, Clone)]
pub struct ServerSideAck {
    responder: Responder,
}

impl ServerSideAck {
    /// Answers the emitting node.
    pub fn send<D>(self, io: &mut Io<'_, D>, answer: impl Into<Value>) {
        if let Some(link) = io.state.cluster.as_mut() {
            link.cluster
                .respond_server_side_emit(&self.responder, answer.into());
        }
    }
}

pub(crate) type ServerSideCallback<D> = Box<dyn FnOnce(&mut Io<'_, D>, ServerSideAcks) + Send>;

pub(crate) enum Waiter<D> {
    Fetch {
        nsp: String,
        local: Vec<SocketInfo<D>>,
        decode: fn(&Value) -> Option<D>,
        done: FetchCallback<D>,
    },
    ServerSide(ServerSideCallback<D>),
    BroadcastAck {
        local: Option<BroadcastAcks>,
        remote: Option<(Vec<Args>, bool, usize)>,
        done: CollectorCallback<D>,
    },
}

pub(crate) struct ClusterLink<D> {
    pub(crate) cluster: Cluster,
    pub(crate) waiters: HashMap<String, Waiter<D>>,
    pub(crate) outlet: Option<ClusterOutlet>,
}

impl<D> fmt::Debug for ClusterLink<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterLink")
            .field("cluster", &self.cluster)
            .field("waiters", &self.waiters.len())
            .finish()
    }
}

impl<D> ClusterLink<D> {
    pub(crate) fn new(cluster: Cluster, outlet: Option<ClusterOutlet>) -> Self {
        ClusterLink {
            cluster,
            waiters: HashMap::new(),
            outlet,
        }
    }

    /// Hands the pending messages to the outlet, if there is one.
    pub(crate) fn flush(&mut self) {
        if let Some(outlet) = self.outlet.as_mut() {
            while let Some(message) = self.cluster.poll_message() {
                outlet(message);
            }
        }
    }
}

/// socket.io's description of a handshake (`socket.handshake`), as
/// `fetchSockets` carries it between nodes.
pub(crate) fn handshake_json(handshake: &Handshake, auth: &Value) -> Value {
    let headers: Map<String, Value> = handshake
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    let query = handshake.query.to_json_object();
    json!({
        "headers": headers,
        "time": "",
        "address": "",
        "xdomain": false,
        "secure": false,
        "issued": 0,
        "url": handshake.url,
        "query": query,
        "auth": auth,
    })
}

/// The other way: a remote socket's handshake and auth.
fn handshake_from_json(value: &Value) -> (Handshake, Value) {
    let url = value["url"].as_str().unwrap_or_default();
    let headers = value["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let auth = match &value["auth"] {
        Value::Null => json!({}),
        other => other.clone(),
    };
    (Handshake::new(url, headers), auth)
}

impl<'a, D> Io<'a, D> {
    /// True when a cluster is attached.
    pub fn has_cluster(&self) -> bool {
        self.state.cluster.is_some()
    }

    /// The number of servers of `/`, this one included (socket.io's
    /// `io.serverCount()`; 1 without a cluster).
    pub fn server_count(&self) -> usize {
        self.state
            .cluster
            .as_ref()
            .map_or(1, |c| c.cluster.node_count("/"))
    }

    /// Joins a cluster: from now on server-wide operations that are not
    /// `local` reach the other nodes through `cluster`. With an `outlet`,
    /// the messages to publish are handed to it as they are produced;
    /// without one, poll them with
    /// [`AppServer::poll_cluster_message`](super::AppServer::poll_cluster_message).
    pub fn attach_cluster(&mut self, cluster: Cluster, outlet: Option<ClusterOutlet>) {
        self.state.cluster = Some(ClusterLink::new(cluster, outlet));
    }

    /// A message from another node (handled when the current input ends).
    pub fn handle_cluster_message(&mut self, message: ClusterMessage) {
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.handle_message(self.now, message);
        }
    }

    /// How many nodes serve `nsp`, this one included (see
    /// [`Cluster::set_node_count`]).
    pub fn set_cluster_node_count(&mut self, nsp: &str, count: usize) {
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.set_node_count(self.now, nsp, count);
        }
    }

    /// Sends `event` to the other servers of the cluster (socket.io's
    /// `io.serverSideEmit(event, ...args)`): their
    /// [`App::on_server_side_emit`](super::App::on_server_side_emit)
    /// handlers run. Without a cluster, nothing happens.
    pub fn server_side_emit(&mut self, event: impl Into<String>, args: impl Into<Args>) {
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.server_side_emit("/", event, args.into());
        }
    }

    /// As [`Io::server_side_emit`], each other server answering once;
    /// `done` runs when all did or after `timeout` (socket.io's
    /// `io.timeout(ms).serverSideEmit(event, ...args, (err, responses) => ..)`).
    /// Without a cluster, or alone in it, `done` runs at once (no answers).
    pub fn server_side_emit_with_ack(
        &mut self,
        event: impl Into<String>,
        args: impl Into<Args>,
        timeout: Duration,
        done: impl FnOnce(&mut Io<'_, D>, ServerSideAcks) + Send + 'static,
    ) {
        let now = self.now;
        let Some(link) = self.state.cluster.as_mut() else {
            done(
                self,
                ServerSideAcks {
                    responses: Vec::new(),
                    complete: true,
                },
            );
            return;
        };
        let id = link
            .cluster
            .server_side_emit_with_ack(now, "/", event, args.into(), timeout);
        link.waiters.insert(id, Waiter::ServerSide(Box::new(done)));
    }

    /// The cluster's share of a server-wide operation, before this node
    /// executes its own; `Some(op)` gives the operation back for local
    /// execution, `None` means the cluster took it over (requests waiting
    /// for the other nodes).
    pub(crate) fn forward(&mut self, op: ServerOp<D>) -> Option<ServerOp<D>> {
        let now = self.now;
        let Some(link) = self.state.cluster.as_mut() else {
            return Some(op);
        };
        let cluster = &mut link.cluster;
        match &op {
            ServerOp::Broadcast { sel, .. }
            | ServerOp::Selection { sel, .. }
            | ServerOp::FetchSockets { sel, .. }
            | ServerOp::BroadcastWithAck { sel, .. }
                if sel.local =>
            {
                return Some(op)
            }
            _ => {}
        }
        match op {
            ServerOp::Broadcast { sel, event, args } => {
                cluster.broadcast(sel.broadcast.clone(), event.clone(), args.clone());
                Some(ServerOp::Broadcast { sel, event, args })
            }
            ServerOp::Selection { sel, op } => {
                cluster.apply(sel.broadcast.clone(), op.clone());
                Some(ServerOp::Selection { sel, op })
            }
            ServerOp::FetchSockets {
                sel,
                clone_data,
                done,
            } => {
                if cluster.other_nodes(&sel.broadcast.nsp) == 0 {
                    return Some(ServerOp::FetchSockets {
                        sel,
                        clone_data,
                        done,
                    });
                }
                let id = cluster.fetch_sockets(now, sel.broadcast.clone());
                let decode = self.state.app.cluster_decode;
                let local = self.local_sockets(&sel.broadcast, clone_data);
                if let Some(link) = self.state.cluster.as_mut() {
                    link.waiters.insert(
                        id,
                        Waiter::Fetch {
                            nsp: sel.broadcast.nsp.clone(),
                            local,
                            decode,
                            done,
                        },
                    );
                }
                None
            }
            ServerOp::BroadcastWithAck {
                sel,
                event,
                args,
                timeout,
                done,
            } => {
                if cluster.other_nodes(&sel.broadcast.nsp) == 0 {
                    return Some(ServerOp::BroadcastWithAck {
                        sel,
                        event,
                        args,
                        timeout,
                        done,
                    });
                }
                let id = cluster.broadcast_with_ack(
                    now,
                    sel.broadcast.clone(),
                    event.clone(),
                    args.clone(),
                    timeout,
                );
                link.waiters.insert(
                    id.clone(),
                    Waiter::BroadcastAck {
                        local: None,
                        remote: None,
                        done,
                    },
                );
                Some(ServerOp::BroadcastWithAck {
                    sel,
                    event,
                    args,
                    timeout,
                    done: Box::new(move |io, acks| io.local_acks_done(&id, acks)),
                })
            }
        }
    }

    pub(crate) fn local_sockets(
        &self,
        target: &Broadcast,
        clone_data: fn(&D) -> D,
    ) -> Vec<SocketInfo<D>> {
        let nsp = target.nsp.as_str();
        self.server
            .select(target)
            .into_iter()
            .filter_map(|conn| {
                let s = self.state.socket(conn, nsp)?;
                Some(SocketInfo {
                    id: s.id.to_string(),
                    nsp: nsp.to_owned(),
                    conn: Some(conn),
                    rooms: self.server.rooms_of(conn, nsp),
                    handshake: s.handshake.clone(),
                    auth: s.auth.clone(),
                    data: clone_data(&s.data),
                })
            })
            .collect()
    }

    fn local_acks_done(&mut self, id: &str, acks: BroadcastAcks) {
        let Some(link) = self.state.cluster.as_mut() else {
            return;
        };
        if let Some(Waiter::BroadcastAck { local, .. }) = link.waiters.get_mut(id) {
            *local = Some(acks);
        }
        self.finish_broadcast_ack(id);
    }

    fn finish_broadcast_ack(&mut self, id: &str) {
        let Some(link) = self.state.cluster.as_mut() else {
            return;
        };
        let ready = matches!(
            link.waiters.get(id),
            Some(Waiter::BroadcastAck {
                local: Some(_),
                remote: Some(_),
                ..
            })
        );
        if !ready {
            return;
        }
        let Some(Waiter::BroadcastAck {
            local: Some(mut acks),
            remote: Some((remote, complete, missing)),
            done,
        }) = link.waiters.remove(id)
        else {
            return;
        };
        acks.responses
            .extend(remote.into_iter().map(|a| (String::new(), a)));
        acks.remote_missing = missing;
        acks.remote_incomplete = !complete;
        done(self, acks);
    }

    /// Runs what the cluster asks of this node, or completes a request.
    pub(crate) fn on_cluster_event(&mut self, event: ClusterEvent) {
        match event {
            ClusterEvent::Broadcast {
                target,
                event,
                args,
            } => self.execute(ServerOp::Broadcast {
                sel: Selector::new(target).local(),
                event,
                args,
            }),
            ClusterEvent::Selection { target, op } => self.execute(ServerOp::Selection {
                sel: Selector::new(target).local(),
                op,
            }),
            ClusterEvent::FetchSockets { responder, target } => {
                let encode = self.state.app.cluster_encode;
                let nsp = target.nsp.as_str();
                let sockets = self
                    .server
                    .select(&target)
                    .into_iter()
                    .filter_map(|conn| {
                        let s = self.state.socket(conn, nsp)?;
                        Some(RemoteSocket {
                            id: s.id.to_string(),
                            handshake: handshake_json(&s.handshake, &s.auth),
                            rooms: self.server.rooms_of(conn, nsp),
                            data: encode(&s.data),
                        })
                    })
                    .collect();
                if let Some(link) = self.state.cluster.as_mut() {
                    link.cluster.respond_fetch(&responder, sockets);
                }
            }
            ClusterEvent::ServerSideEmit {
                nsp,
                event,
                args,
                ack,
            } => {
                let handler = (nsp == "/")
                    .then(|| self.state.app.server_side.get(&event).cloned())
                    .flatten();
                match handler {
                    Some(handler) => {
                        handler(self, args, ack.map(|responder| ServerSideAck { responder }))
                    }
                    None => log::debug!("cluster: no server-side handler for {event:?} in {nsp}"),
                }
            }
            ClusterEvent::BroadcastWithAck {
                responder,
                target,
                event,
                args,
                timeout,
            } => self.answer_broadcast_with_ack(responder, target, &event, args, timeout),
            ClusterEvent::Done { id, outcome } => self.on_cluster_done(&id, outcome),
        }
    }

    fn answer_broadcast_with_ack(
        &mut self,
        responder: Responder,
        target: Broadcast,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) {
        let nsp = target.nsp.as_str();
        let mut count = 0;
        for conn in self.server.select(&target) {
            if self.state.socket(conn, nsp).is_none() {
                continue;
            }
            if let Some(mut socket) = self.socket(conn, nsp) {
                socket.notify_outgoing(event, &args);
            }
            match self
                .server
                .emit_with_ack(self.now, conn, nsp, event, args.clone(), timeout)
            {
                Ok(ack) => {
                    let responder = responder.clone();
                    let waiter = PendingAck::Callback(Box::new(move |socket, result| {
                        if let (Ok(answer), Some(link)) = (result, socket.io.state.cluster.as_mut())
                        {
                            link.cluster.respond_broadcast_ack(&responder, answer);
                        }
                    }));
                    if let Some(s) = self.state.socket_mut(conn, nsp) {
                        s.pending.insert(ack, waiter);
                        count += 1;
                    }
                }
                Err(e) => log::debug!("{conn}: cluster broadcast with ack {event:?}: {e}"),
            }
        }
        if let Some(link) = self.state.cluster.as_mut() {
            link.cluster.respond_client_count(&responder, count);
        }
    }

    fn on_cluster_done(&mut self, id: &str, outcome: Outcome) {
        let Some(link) = self.state.cluster.as_mut() else {
            return;
        };
        let Some(waiter) = link.waiters.remove(id) else {
            return;
        };
        match (waiter, outcome) {
            (
                Waiter::Fetch {
                    nsp,
                    mut local,
                    decode,
                    done,
                },
                Outcome::FetchSockets { sockets, .. },
            ) => {
                let make = self.state.make_data;
                for remote in sockets {
                    let (handshake, auth) = handshake_from_json(&remote.handshake);
                    local.push(SocketInfo {
                        id: remote.id,
                        nsp: nsp.clone(),
                        conn: None,
                        rooms: remote.rooms,
                        handshake: Arc::new(handshake),
                        auth,
                        data: decode(&remote.data).unwrap_or_else(make),
                    });
                }
                done(self, local);
            }
            (
                Waiter::ServerSide(done),
                Outcome::ServerSideEmit {
                    responses,
                    complete,
                },
            ) => done(
                self,
                ServerSideAcks {
                    responses,
                    complete,
                },
            ),
            (
                Waiter::BroadcastAck { local, done, .. },
                Outcome::BroadcastWithAck {
                    acks,
                    complete,
                    missing,
                },
            ) => {
                if let Some(link) = self.state.cluster.as_mut() {
                    link.waiters.insert(
                        id.to_owned(),
                        Waiter::BroadcastAck {
                            local,
                            remote: Some((acks, complete, missing)),
                            done,
                        },
                    );
                }
                self.finish_broadcast_ack(id);
            }
            (_, outcome) => log::warn!("cluster: outcome {outcome:?} does not fit request {id}"),
        }
    }
}
