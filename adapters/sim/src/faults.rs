//! Faults: a scripted timeline and the swarm mode, where each seed picks
//! which fault kinds are on and how often.

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
    /// [`Fault::HangConnects`].
    HangConnects,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Partition,
        FaultKind::Stall,
        FaultKind::Reset,
        FaultKind::Vanish,
        FaultKind::RestartServer,
        FaultKind::RefuseConnects,
        FaultKind::HangConnects,
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
    /// The configuration of `seed`: each kind on with probability 1/2
    /// (at least one), a mean gap between 1 s and 20 s (server restarts:
    /// 10 s to 60 s).
    pub fn derive(seed: u64) -> Self {
        let mut rng = Rng::stream(seed, "swarm");
        let mut kinds = Vec::new();
        for kind in FaultKind::ALL {
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
            let kind = FaultKind::ALL[rng.below(FaultKind::ALL.len() as u64) as usize];
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

    /// A fault of `kind` for a run of `clients` clients.
    pub(crate) fn draw(kind: FaultKind, clients: usize, rng: &mut Rng) -> Fault {
        let n = clients.max(1);
        let start = rng.below(n as u64) as usize;
        let len = 1 + rng.below((n - start).min(1 + n / 4) as u64) as usize;
        let clients = start..(start + len).min(n);
        let duration = Duration::from_millis(100 + rng.below(9_900));
        match kind {
            FaultKind::Partition => Fault::Partition { clients, duration },
            FaultKind::Stall => Fault::Stall { clients, duration },
            FaultKind::Reset => Fault::Reset { clients },
            FaultKind::Vanish => Fault::Vanish { clients, duration },
            FaultKind::RestartServer => Fault::RestartServer {
                downtime: Duration::from_millis(rng.below(3_000)),
            },
            FaultKind::RefuseConnects => Fault::RefuseConnects { duration },
            FaultKind::HangConnects => Fault::HangConnects { duration },
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
