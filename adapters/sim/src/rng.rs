//! Seeded randomness split into named, independent sub-streams: the
//! network of client 3 draws from its own stream, so adding a client or a
//! fault kind does not change what the others draw.

use socketio_sansio::{RandomSource, SeededRandom};

/// FNV-1a, 64 bits: a stable hash for stream names and trace lines.
pub(crate) fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The FNV-1a offset basis.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// One deterministic stream of random numbers (SplitMix64).
///
/// ```
/// use socketio_sim::Rng;
/// let mut a = Rng::stream(7, "network/3");
/// let mut b = Rng::stream(7, "network/3");
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert_ne!(Rng::stream(7, "network/4").next_u64(), Rng::stream(7, "network/3").next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct Rng {
    inner: SeededRandom,
}

impl Rng {
    /// The stream `name` of the run seeded with `seed`.
    pub fn stream(seed: u64, name: &str) -> Self {
        let key = fnv1a(name.as_bytes(), FNV_OFFSET);
        let mut mix = SeededRandom::new(seed ^ key.rotate_left(17));
        Rng {
            inner: SeededRandom::new(mix.next_u64()),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A float uniformly in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A seeded [`RandomSource`] for a core state machine, derived from
    /// this stream.
    pub fn source(&mut self) -> Box<dyn RandomSource> {
        Box::new(SeededRandom::new(self.next_u64()))
    }
}
