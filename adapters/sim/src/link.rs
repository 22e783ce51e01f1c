//! The link model: latency distributions, bandwidth and the receive window
//! of one direction of a simulated TCP connection.

use std::time::Duration;

use crate::rng::Rng;

/// How long a message takes to cross a link (one way).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Always the same.
    Fixed(Duration),
    /// Uniform within `[low, high]`.
    Uniform(Duration, Duration),
    /// `min` plus an exponential tail of mean `mean` (capped at 50 means).
    Exponential {
        /// The floor (propagation delay).
        min: Duration,
        /// The mean of the tail above the floor.
        mean: Duration,
    },
}

impl Latency {
    /// One draw.
    pub fn sample(&self, rng: &mut Rng) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform(low, high) => {
                let span = high.saturating_sub(low).as_nanos() as u64;
                low + Duration::from_nanos(rng.below(span.saturating_add(1)))
            }
            Latency::Exponential { min, mean } => {
                let u = rng.unit().max(1e-12);
                let tail = (-u.ln()).min(50.0) * mean.as_secs_f64();
                min + Duration::from_secs_f64(tail)
            }
        }
    }

    /// An upper bound on what [`Latency::sample`] returns (for the
    /// invariants' slack).
    pub fn bound(&self) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform(_, high) => high,
            Latency::Exponential { min, mean } => min + mean * 50,
        }
    }
}

/// The network between every client and the server.
///
/// ```
/// use std::time::Duration;
/// use socketio_sim::{Latency, LinkConfig};
/// let link = LinkConfig::default()
///     .latency(Latency::Uniform(Duration::from_millis(5), Duration::from_millis(40)))
///     .bandwidth(Some(1_000_000))
///     .window(64 * 1024);
/// assert_eq!(link.window, 64 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way latency of each message (each HTTP request and response too).
    pub latency: Latency,
    /// Bytes per second per direction; `None`: unlimited.
    pub bandwidth: Option<u64>,
    /// Bytes the server may have in flight or unread towards one client
    /// before its writes block (the TCP window plus the kernel buffers).
    pub window: usize,
    /// Time a refused connection attempt takes to fail (one round trip).
    pub connect_timeout_refused: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::Exponential {
                min: Duration::from_millis(2),
                mean: Duration::from_millis(8),
            },
            bandwidth: None,
            window: 256 * 1024,
            connect_timeout_refused: Duration::from_millis(1),
        }
    }
}

impl LinkConfig {
    /// Sets [`LinkConfig::latency`].
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Sets [`LinkConfig::bandwidth`].
    pub fn bandwidth(mut self, bytes_per_second: Option<u64>) -> Self {
        self.bandwidth = bytes_per_second;
        self
    }

    /// Sets [`LinkConfig::window`].
    pub fn window(mut self, bytes: usize) -> Self {
        self.window = bytes;
        self
    }

    /// Time to push `bytes` through the bandwidth.
    pub(crate) fn serialization(&self, bytes: usize) -> Duration {
        match self.bandwidth {
            Some(bw) if bw > 0 => {
                Duration::from_nanos((bytes as u64).saturating_mul(1_000_000_000) / bw)
            }
            _ => Duration::ZERO,
        }
    }
}
