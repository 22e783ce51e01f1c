//! Running many seeds: environment variables, the self-check, the
//! minimizer and the one-line reproduction of a failure.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::faults::FaultKind;
use crate::sim::{Report, SimBuilder};
use crate::trace::first_divergence;

/// What [`check`] runs, from the environment: `SOCKETIO_SIM_SEED` (one
/// seed, or the first of several), `SOCKETIO_SIM_RUNS` (how many seeds),
/// `SOCKETIO_SIM_TIME_LIMIT` (seconds of wall time after which no new
/// seed starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds {
    /// The seeds to run.
    pub seeds: Vec<u64>,
    /// Stop starting new seeds after this much wall time.
    pub time_limit: Option<Duration>,
}

impl Seeds {
    /// `default` unless the environment says otherwise.
    pub fn from_env(default: &[u64]) -> Self {
        let seed = std::env::var("SOCKETIO_SIM_SEED")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        let runs = std::env::var("SOCKETIO_SIM_RUNS")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        let time_limit = std::env::var("SOCKETIO_SIM_TIME_LIMIT")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(Duration::from_secs_f64);
        let seeds = match (seed, runs) {
            (Some(s), Some(n)) => (0..n).map(|k| s.wrapping_add(k)).collect(),
            (Some(s), None) => vec![s],
            (None, Some(n)) => {
                let first = default.first().copied().unwrap_or(0);
                (0..n).map(|k| first.wrapping_add(k)).collect()
            }
            (None, None) => default.to_vec(),
        };
        Seeds { seeds, time_limit }
    }
}

/// Runs the simulation `make(seed)` builds for every seed [`Seeds::from_env`]
/// selects (`default` otherwise); on the first failure, shrinks it with
/// [`minimize`] and panics with the report and one line that reproduces
/// it. Returns the reports otherwise.
///
/// ```
/// use std::time::Duration;
/// use socketio_sansio::app::{App, Namespace};
/// use socketio_sim::{check, ClientSpec, Sim};
///
/// fn app() -> App {
///     App::new().ns("/", Namespace::new())
/// }
/// let reports = check(&[1, 2], |seed| {
///     Sim::builder(app)
///         .seed(seed)
///         .clients(2, |_| ClientSpec::websocket().connect("/"))
///         .swarm()
///         .chaos(Duration::from_secs(10))
/// });
/// assert_eq!(reports.len(), 2);
/// ```
pub fn check<D: Default + Send + 'static>(
    default: &[u64],
    make: impl Fn(u64) -> SimBuilder<D>,
) -> Vec<Report> {
    let seeds = Seeds::from_env(default);
    let started = Instant::now();
    let mut reports = Vec::new();
    for &seed in &seeds.seeds {
        if seeds.time_limit.is_some_and(|t| started.elapsed() > t) {
            log::info!("time limit reached after {} seeds", reports.len());
            break;
        }
        let builder = make(seed).seed(seed);
        let report = builder.clone().run();
        if !report.passed() {
            let small = minimize(builder, |b| !b.clone().run().passed());
            let mut message = format!("{report}");
            let _ = writeln!(message, "  minimized: {}", small.describe());
            let _ = writeln!(message, "  reproduce: {}", report.repro());
            panic!("{message}");
        }
        reports.push(report);
    }
    reports
}

/// Runs the seed twice and compares the traces: `Ok(hash)` when they are
/// byte-identical, otherwise the first diverging event of each run.
pub fn self_check<D: Default + Send + 'static>(builder: SimBuilder<D>) -> Result<u64, String> {
    let a = builder.clone().keep_trace(true).run();
    let b = builder.keep_trace(true).run();
    if a.trace_hash == b.trace_hash {
        return Ok(a.trace_hash);
    }
    let (ea, eb) = (a.trace.events(), b.trace.events());
    match first_divergence(ea, eb) {
        Some(i) => Err(format!(
            "seed {}: the runs diverge at event {i}:\n  first:  {}\n  second: {}",
            a.seed,
            ea.get(i).map_or("<end>".to_owned(), |e| e.to_line()),
            eb.get(i).map_or("<end>".to_owned(), |e| e.to_line()),
        )),
        None => Err(format!("seed {}: trace hashes differ", a.seed)),
    }
}

/// A smaller configuration that still fails, as far as the minimizer got.
#[derive(Debug, Clone)]
pub struct Minimized<D: 'static> {
    /// The shrunk builder.
    pub builder: SimBuilder<D>,
    /// What was switched off or reduced.
    pub steps: Vec<String>,
}

impl<D: Default + Send + 'static> Minimized<D> {
    /// One line describing the shrunk configuration.
    pub fn describe(&self) -> String {
        let b = &self.builder;
        format!(
            "seed {}, {} clients, chaos {:?}{} ({})",
            b.get_seed(),
            b.client_count(),
            b.chaos_length(),
            b.swarm_in_effect()
                .map_or(String::new(), |s| format!(", {s}")),
            if self.steps.is_empty() {
                "nothing removed".to_owned()
            } else {
                self.steps.join("; ")
            }
        )
    }
}

/// Shrinks a failing configuration while `fails` holds: fewer clients
/// (halving, then one less), a shorter chaos phase, fault kinds switched
/// off one at a time.
pub fn minimize<D: Default + Send + 'static>(
    builder: SimBuilder<D>,
    fails: impl Fn(&SimBuilder<D>) -> bool,
) -> Minimized<D> {
    let mut best = builder;
    let mut steps = Vec::new();
    let mut budget = 40;
    loop {
        let mut improved = false;
        let n = best.client_count();
        for fewer in [n / 2, n.saturating_sub(1)] {
            if fewer >= 1 && fewer < n && budget > 0 {
                budget -= 1;
                let candidate = best.clone().with_clients(fewer);
                if fails(&candidate) {
                    steps.push(format!("{fewer} clients"));
                    best = candidate;
                    improved = true;
                    break;
                }
            }
        }
        let chaos = best.chaos_length();
        if chaos > Duration::from_secs(1) && budget > 0 {
            budget -= 1;
            let candidate = best.clone().chaos(chaos / 2);
            if fails(&candidate) {
                steps.push(format!("chaos {:?}", chaos / 2));
                best = candidate;
                improved = true;
            }
        }
        if let Some(swarm) = best.swarm_in_effect() {
            for kind in FaultKind::ALL {
                if swarm.kinds.iter().any(|(k, _)| *k == kind) && budget > 0 {
                    budget -= 1;
                    let candidate = best.clone().swarm_config(swarm.without(kind));
                    if fails(&candidate) {
                        steps.push(format!("without {kind:?}"));
                        best = candidate;
                        improved = true;
                        break;
                    }
                }
            }
        }
        if !improved || budget == 0 {
            return Minimized {
                builder: best,
                steps,
            };
        }
    }
}
