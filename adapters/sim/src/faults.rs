//! Faults: a scripted timeline and the swarm mode, where each seed picks
//! which fault kinds are on and how often.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use crate::rng::Rng;

/// A fault, applied at a point of virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The clients' connections freeze both ways for `duration`: nothing
    /// is lost (TCP), data in flight and sent meanwhile waits.
    Partition {
        /// Client indices.
        clients: Range<usize>,
        /// How long.
        duration: Duration,
    },
    /// The clients stop reading for `duration` (slow readers: the server's
    /// writes block when the window fills).
    Stall {
        /// Client indices.
        clients: Range<usize>,
        /// How long.
        duration: Duration,
    },
    /// The clients' connections are reset: both sides see them close, data
    /// in flight is lost.
    Reset {
        /// Client indices.
        clients: Range<usize>,
    },
    /// The clients vanish silently (host down, cable cut): the server is
    /// not told and must notice by the heartbeat; they come back after
    /// `duration` with their state, on dead connections.
    Vanish {
        /// Client indices.
        clients: Range<usize>,
        /// How long.
        duration: Duration,
    },
    /// The server process restarts: every connection closes, new ones are
    /// refused for `downtime`, then a fresh server serves a fresh app.
    RestartServer {
        /// How long it is down.
        downtime: Duration,
    },
    /// One server node of a multi-node run ([`SimBuilder::nodes`](crate::SimBuilder::nodes))
    /// restarts: its connections close, its clients' connects are refused
    /// for `downtime`, the other nodes count one node less on the cluster
    /// bus meanwhile (and what was in flight to it is lost), then a fresh
    /// process serves a fresh app and rejoins. With one node it is
    /// [`Fault::RestartServer`].
    RestartNode {
        /// The node (taken modulo the node count).
        node: usize,
        /// How long it is down.
        downtime: Duration,
    },
    /// New connections are refused (nothing listens) for `duration`.
    RefuseConnects {
        /// How long.
        duration: Duration,
    },
    /// New connections hang (no answer) for `duration`, then proceed.
    HangConnects {
        /// How long.
        duration: Duration,
    },
}

impl Fault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Partition { .. } => FaultKind::Partition,
            Fault::Stall { .. } => FaultKind::Stall,
            Fault::Reset { .. } => FaultKind::Reset,
            Fault::Vanish { .. } => FaultKind::Vanish,
            Fault::RestartServer { .. } => FaultKind::RestartServer,
            Fault::RestartNode { .. } => FaultKind::RestartNode,
            Fault::RefuseConnects { .. } => FaultKind::RefuseConnects,
            Fault::HangConnects { .. } => FaultKind::HangConnects,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Partition { clients, duration } => {
                write!(f, "partition clients {clients:?} for {duration:?}")
            }
            Fault::Stall { clients, duration } => {
                write!(f, "stall clients {clients:?} for {duration:?}")
            }
            Fault::Reset { clients } => write!(f, "reset clients {clients:?}"),
            Fault::Vanish { clients, duration } => {
                write!(f, "vanish clients {clients:?} for {duration:?}")
            }
            Fault::RestartServer { downtime } => {
                write!(f, "restart the server ({downtime:?} down)")
            }
            Fault::RestartNode { node, downtime } => {
                write!(f, "restart node {node} ({downtime:?} down)")
            }
            Fault::RefuseConnects { duration } => write!(f, "refuse connects for {duration:?}"),
            Fault::HangConnects { duration } => write!(f, "hang connects for {duration:?}"),
        }
    }
}

/// The kinds of [`Fault`], to switch on and off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// [`Fault::Partition`].
    Partition,
    /// [`Fault::Stall`].
    Stall,
    /// [`Fault::Reset`].
    Reset,
    /// [`Fault::Vanish`].
    Vanish,
    /// [`Fault::RestartServer`].
    RestartServer,
    /// [`Fault::RefuseConnects`].
    RefuseConnects,
    /// [`Fault::RestartNode`] (not drawn by [`Swarm::derive`]: a
    /// multi-node test switches it on with its own [`Swarm`]).
    RestartNode,
    /// [`Fault::HangConnects`].
    HangConnects,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 8] = [
        FaultKind::Partition,
        FaultKind::Stall,
        FaultKind::Reset,
        FaultKind::Vanish,
        FaultKind::RestartServer,
        FaultKind::RefuseConnects,
        FaultKind::HangConnects,
        FaultKind::RestartNode,
    ];
}

/// Swarm testing: which fault kinds a seed switched on, and the mean gap
/// between two faults of each kind. Derived from the seed's `swarm`
/// stream by [`Swarm::derive`] and printed with every failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swarm {
    /// The kinds switched on, with the mean time between two of them.
    pub kinds: Vec<(FaultKind, Duration)>,
}

impl Swarm {
    /// The configuration of `seed`: each kind but
    /// [`FaultKind::RestartNode`] on with probability 1/2 (at least one), a
    /// mean gap between 1 s and 20 s (server restarts: 10 s to 60 s).
    pub fn derive(seed: u64) -> Self {
        let mut rng = Rng::stream(seed, "swarm");
        let mut kinds = Vec::new();
        let drawn = &FaultKind::ALL[..7];
        for &kind in drawn {
            let on = rng.chance(0.5);
            let gap = match kind {
                FaultKind::RestartServer => 10_000 + rng.below(50_000),
                _ => 1_000 + rng.below(19_000),
            };
            if on {
                kinds.push((kind, Duration::from_millis(gap)));
            }
        }
        if kinds.is_empty() {
            let kind = drawn[rng.below(drawn.len() as u64) as usize];
            kinds.push((kind, Duration::from_secs(5)));
        }
        Swarm { kinds }
    }

    /// The configuration without `kind`.
    pub fn without(&self, kind: FaultKind) -> Self {
        Swarm {
            kinds: self
                .kinds
                .iter()
                .copied()
                .filter(|(k, _)| *k != kind)
                .collect(),
        }
    }
}

/// The chance that one client is among the targets of a swarm fault that
/// hits clients, in a run of `n` clients: an eighth of them, at least two
/// on average (what the contiguous ranges of up to `1 + n / 4` clients hit
/// before). It only grows when clients are removed, so a client a fault
/// hit is still hit in a smaller run.
pub(crate) fn client_hit(n: usize) -> f64 {
    (2.0 / n.max(1) as f64).clamp(0.125, 1.0)
}

/// The random streams of the swarm, split so that shrinking a run keeps
/// the rest of it: each fault kind draws its times and durations from its
/// own stream (`faults/<Kind>`: switching a kind off leaves the others'
/// faults where they were), and each client draws whether a fault hits it
/// from its own stream (`fault-target/<Kind>/<i>`: removing client 7
/// keeps every fault of clients 0 to 6; with [`client_hit`] growing as
/// clients go, they may get more).
#[derive(Debug, Clone)]
pub(crate) struct SwarmStreams {
    seed: u64,
    kinds: BTreeMap<FaultKind, Rng>,
    targets: BTreeMap<(FaultKind, usize), Rng>,
}

impl SwarmStreams {
    pub(crate) fn new(seed: u64) -> Self {
        SwarmStreams {
            seed,
            kinds: BTreeMap::new(),
            targets: BTreeMap::new(),
        }
    }

    fn kind(&mut self, kind: FaultKind) -> &mut Rng {
        let seed = self.seed;
        self.kinds
            .entry(kind)
            .or_insert_with(|| Rng::stream(seed, &format!("faults/{kind:?}")))
    }

    /// The time to the next fault of `kind` (exponential, mean `mean`).
    pub(crate) fn gap(&mut self, kind: FaultKind, mean: Duration) -> Duration {
        let u = self.kind(kind).unit().max(1e-12);
        Duration::from_secs_f64((-u.ln()).min(20.0) * mean.as_secs_f64())
    }

    /// The faults of one swarm event of `kind` in a run of `clients`
    /// clients and `nodes` server nodes: one fault per run of consecutive clients hit (none when
    /// no client drew a hit), or one server-side fault.
    pub(crate) fn draw(&mut self, kind: FaultKind, clients: usize, nodes: usize) -> Vec<Fault> {
        let rng = self.kind(kind);
        // A fixed number of draws per event, whatever the kind.
        let duration = Duration::from_millis(100 + rng.below(9_900));
        let downtime = Duration::from_millis(rng.below(3_000));
        let node = rng.below(nodes as u64) as usize;
        let make = |clients: Range<usize>| match kind {
            FaultKind::Partition => Some(Fault::Partition { clients, duration }),
            FaultKind::Stall => Some(Fault::Stall { clients, duration }),
            FaultKind::Reset => Some(Fault::Reset { clients }),
            FaultKind::Vanish => Some(Fault::Vanish { clients, duration }),
            _ => None,
        };
        match kind {
            FaultKind::RestartServer => vec![Fault::RestartServer { downtime }],
            FaultKind::RestartNode => vec![Fault::RestartNode { node, downtime }],
            FaultKind::RefuseConnects => vec![Fault::RefuseConnects { duration }],
            FaultKind::HangConnects => vec![Fault::HangConnects { duration }],
            _ => {
                let seed = self.seed;
                let p = client_hit(clients);
                let hit: Vec<bool> = (0..clients)
                    .map(|i| {
                        self.targets
                            .entry((kind, i))
                            .or_insert_with(|| {
                                Rng::stream(seed, &format!("fault-target/{kind:?}/{i}"))
                            })
                            .chance(p)
                    })
                    .collect();
                let mut faults = Vec::new();
                let mut i = 0;
                while i < clients {
                    if !hit[i] {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < clients && hit[i] {
                        i += 1;
                    }
                    faults.extend(make(start..i));
                }
                faults
            }
        }
    }
}

impl fmt::Display for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("swarm:")?;
        for (kind, gap) in &self.kinds {
            write!(f, " {kind:?} every ~{:.1}s", gap.as_secs_f64())?;
        }
        Ok(())
    }
}
