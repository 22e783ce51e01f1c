//! An in-memory transport for the cluster protocol: several nodes (each a
//! [`Cluster`] or an [`AppServer`]) exchanging [`ClusterMessage`]s in one
//! process, under the caller's clock. For tests and simulations (and
//! several event loops in one process).
//!
//! Like Redis pub/sub, a message reaches every node on the bus, its sender
//! included (nodes ignore their own messages). The bus counts its nodes
//! the way `PUBSUB NUMSUB` does: a [`MemoryBus::mute`]d node (hung: it
//! neither hears nor speaks) still counts, a [`MemoryBus::detach`]ed one
//! does not.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use socketio_sansio::cluster::bus::MemoryBus;
//! use socketio_sansio::cluster::{Cluster, ClusterEvent};
//! use socketio_sansio::{Args, Broadcast};
//!
//! let now = Instant::now();
//! let mut nodes = vec![
//!     Cluster::new("a", Duration::from_secs(1)),
//!     Cluster::new("b", Duration::from_secs(1)),
//! ];
//! let mut bus = MemoryBus::new(["/"], nodes.len());
//! nodes[0].broadcast(Broadcast::to("/"), "hello", Args::default());
//! bus.pump(now, &mut nodes);
//! assert!(matches!(nodes[1].poll_event(), Some(ClusterEvent::Broadcast { .. })));
//! assert!(nodes[0].poll_event().is_none());
//! ```

use std::time::Instant;

use super::{Cluster, ClusterMessage};
use crate::app::AppServer;

/// A node the [`MemoryBus`] carries messages for.
pub trait BusNode {
    /// The next message the node publishes.
    fn poll_cluster_message(&mut self) -> Option<ClusterMessage>;
    /// Delivers a message to the node.
    fn handle_cluster_message(&mut self, now: Instant, message: ClusterMessage);
    /// Tells the node how many nodes serve `nsp`.
    fn set_cluster_node_count(&mut self, now: Instant, nsp: &str, count: usize);
}

impl BusNode for Cluster {
    fn poll_cluster_message(&mut self) -> Option<ClusterMessage> {
        self.poll_message()
    }
    fn handle_cluster_message(&mut self, now: Instant, message: ClusterMessage) {
        self.handle_message(now, message)
    }
    fn set_cluster_node_count(&mut self, now: Instant, nsp: &str, count: usize) {
        self.set_node_count(now, nsp, count)
    }
}

impl<D: 'static> BusNode for AppServer<D> {
    fn poll_cluster_message(&mut self) -> Option<ClusterMessage> {
        AppServer::poll_cluster_message(self)
    }
    fn handle_cluster_message(&mut self, now: Instant, message: ClusterMessage) {
        AppServer::handle_cluster_message(self, now, message)
    }
    fn set_cluster_node_count(&mut self, now: Instant, nsp: &str, count: usize) {
        AppServer::set_cluster_node_count(self, now, nsp, count)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    Up,
    Muted,
    Detached,
}

/// The bus: which nodes are on it and in what state (the nodes themselves
/// stay with the caller, passed to [`MemoryBus::pump`] by index).
#[derive(Debug, Clone)]
pub struct MemoryBus {
    namespaces: Vec<String>,
    nodes: Vec<NodeState>,
    announced: Option<usize>,
    delivered: usize,
}

impl MemoryBus {
    /// A bus for `nodes` nodes (indices `0..nodes`) serving `namespaces`.
    pub fn new<S: Into<String>>(namespaces: impl IntoIterator<Item = S>, nodes: usize) -> Self {
        MemoryBus {
            namespaces: namespaces.into_iter().map(Into::into).collect(),
            nodes: vec![NodeState::Up; nodes],
            announced: None,
            delivered: 0,
        }
    }

    /// Node `index` hangs: it still counts, but hears and says nothing.
    pub fn mute(&mut self, index: usize) {
        if let Some(state) = self.nodes.get_mut(index) {
            *state = NodeState::Muted;
        }
    }

    /// Node `index` leaves the bus (the count drops at the next pump).
    pub fn detach(&mut self, index: usize) {
        if let Some(state) = self.nodes.get_mut(index) {
            *state = NodeState::Detached;
        }
    }

    /// The nodes counted (up or muted).
    pub fn node_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|s| **s != NodeState::Detached)
            .count()
    }

    /// Messages delivered so far (one per receiving node).
    pub fn delivered(&self) -> usize {
        self.delivered
    }

    /// Announces the node count when it changed, then carries messages
    /// until no node has anything to publish.
    pub fn pump<N: BusNode>(&mut self, now: Instant, nodes: &mut [N]) {
        let count = self.node_count();
        if self.announced != Some(count) {
            self.announced = Some(count);
            for (i, node) in nodes.iter_mut().enumerate() {
                if self.nodes.get(i) == Some(&NodeState::Up) {
                    for nsp in &self.namespaces {
                        node.set_cluster_node_count(now, nsp, count);
                    }
                }
            }
        }
        loop {
            let mut moved = false;
            for from in 0..nodes.len() {
                while let Some(message) = nodes[from].poll_cluster_message() {
                    if self.nodes.get(from) != Some(&NodeState::Up) {
                        continue;
                    }
                    moved = true;
                    for (to, node) in nodes.iter_mut().enumerate() {
                        if self.nodes.get(to) == Some(&NodeState::Up) {
                            self.delivered += 1;
                            node.handle_cluster_message(now, message.clone());
                        }
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }
}
