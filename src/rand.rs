//! Injected randomness for session and socket ids.
//!
//! The core never draws OS randomness on its own: a [`RandomSource`] is given
//! to the [`crate::Server`] (OS randomness by default, with the `os-rng`
//! feature), and [`SeededRandom`] makes tests and simulations reproducible.

/// A source of random bytes.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// A new independent source for a child object (e.g. one connection).
    /// A seeded source derives a seeded child, so runs stay reproducible.
    fn fork(&mut self) -> Box<dyn RandomSource>;
}

/// A deterministic splitmix64 generator: the same seed gives the same bytes.
/// For tests and simulations only: it is not cryptographically secure.
#[derive(Debug, Clone)]
pub struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl RandomSource for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn fork(&mut self) -> Box<dyn RandomSource> {
        Box::new(SeededRandom::new(self.next_u64()))
    }
}

/// Operating-system randomness through `getrandom`.
#[cfg(feature = "os-rng")]
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

#[cfg(feature = "os-rng")]
impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        if let Err(e) = getrandom::getrandom(buf) {
            // There is no sensible way to continue without randomness: ids
            // would be predictable. This only happens on broken platforms.
            panic!("the operating system's random source failed: {e}");
        }
    }

    fn fork(&mut self) -> Box<dyn RandomSource> {
        Box::new(OsRandom)
    }
}

const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A 20-character id from 15 random bytes (120 bits), in the reference's
/// URL-safe base64 alphabet (`[A-Za-z0-9_-]`).
pub fn generate_id(rng: &mut dyn RandomSource) -> String {
    let mut raw = [0u8; 15];
    rng.fill(&mut raw);
    let mut id = String::with_capacity(20);
    for chunk in raw.chunks_exact(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            id.push(ID_ALPHABET[((n >> shift) & 63) as usize] as char);
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_reproducible_and_ids_have_the_reference_shape() {
        let mut a = SeededRandom::new(7);
        let mut b = SeededRandom::new(7);
        let (ia, ib) = (generate_id(&mut a), generate_id(&mut b));
        assert_eq!(ia, ib);
        assert_eq!(ia.len(), 20);
        assert!(ia
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(generate_id(&mut a), ia, "consecutive ids differ");
    }

    #[test]
    fn forks_are_deterministic_and_distinct() {
        let mut a = SeededRandom::new(1);
        let mut b = SeededRandom::new(1);
        let mut fa = a.fork();
        let mut fb = b.fork();
        assert_eq!(generate_id(fa.as_mut()), generate_id(fb.as_mut()));
        assert_ne!(generate_id(fa.as_mut()), generate_id(&mut a));
    }
}
