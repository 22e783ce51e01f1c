//! The reconnection delay: socket.io-client's `Backoff` (the `backo2`
//! algorithm), with its random numbers drawn from the injected
//! [`RandomSource`], so a seed gives the same schedule every run.
//!
//! ```text
//! ms = min * 2^attempt
//! rand = random()                       // [0, 1)
//! deviation = floor(rand * factor * ms)
//! ms = floor(rand * 10) is even ? ms - deviation : ms + deviation
//! delay = min(ms, max)
//! ```
//!
//! One deviation from the reference: the exponent stops growing at 2^31,
//! where JavaScript's `Infinity - Infinity` would give `NaN` and a zero delay
//! after about 1000 attempts.

use std::time::Duration;

use crate::rand::RandomSource;

/// A number in `[0, 1)` with 53 random bits, like `Math.random()`.
pub(crate) fn random_unit(rng: &mut dyn RandomSource) -> f64 {
    let mut raw = [0u8; 8];
    rng.fill(&mut raw);
    (u64::from_le_bytes(raw) >> 11) as f64 / (1u64 << 53) as f64
}

/// The reconnection backoff of one client.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min_ms: f64,
    max_ms: f64,
    factor: f64,
    jitter: f64,
    /// Delays drawn since the last reset (socket.io-client's `backoff.attempts`).
    pub(crate) attempts: u32,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration, jitter: f64) -> Self {
        Backoff {
            min_ms: min.as_millis() as f64,
            max_ms: max.as_millis() as f64,
            factor: 2.0,
            jitter,
            attempts: 0,
        }
    }

    /// The next delay; counts one attempt.
    pub(crate) fn duration(&mut self, rng: &mut dyn RandomSource) -> Duration {
        let mut ms = self.min_ms * self.factor.powi(self.attempts.min(31) as i32);
        self.attempts = self.attempts.saturating_add(1);
        if self.jitter > 0.0 {
            let rand = random_unit(rng);
            let deviation = (rand * self.jitter * ms).floor();
            ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
                ms - deviation
            } else {
                ms + deviation
            };
        }
        Duration::from_millis(ms.min(self.max_ms).max(0.0) as u64)
    }

    /// Back to the first delay.
    pub(crate) fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SeededRandom;

    #[test]
    fn without_jitter_the_delay_doubles_up_to_the_max() {
        let mut b = Backoff::new(
            Duration::from_millis(1000),
            Duration::from_millis(5000),
            0.0,
        );
        let mut rng = SeededRandom::new(1);
        let delays: Vec<u64> = (0..5)
            .map(|_| b.duration(&mut rng).as_millis() as u64)
            .collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(b.attempts, 5);
        b.reset();
        assert_eq!(b.duration(&mut rng), Duration::from_millis(1000));
    }

    #[test]
    fn jitter_stays_within_the_factor_and_is_reproducible() {
        let run = |seed| {
            let mut b = Backoff::new(
                Duration::from_millis(1000),
                Duration::from_millis(5000),
                0.5,
            );
            let mut rng = SeededRandom::new(seed);
            (0..40).map(|_| b.duration(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        let first = run(3)[0].as_millis();
        assert!((500..=1500).contains(&first), "{first}");
        assert!(run(3)
            .iter()
            .all(|d| d.as_millis() <= 5000 && d.as_millis() >= 500));
    }
}
