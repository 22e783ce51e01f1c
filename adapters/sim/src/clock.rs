//! Virtual wall-clock time for applications that stamp things.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch on the simulation's virtual clock, for
/// applications that read the time of day (give them
/// [`VirtualClock::reader`] instead of `SystemTime::now`, and the builder
/// [`crate::SimBuilder::virtual_clock`]). Runs start at 2024-01-01T00:00:00Z.
///
/// ```
/// use socketio_sim::VirtualClock;
/// let clock = VirtualClock::new();
/// let read = clock.reader();
/// assert_eq!(read(), VirtualClock::START_MS);
/// ```
#[derive(Debug, Clone)]
pub struct VirtualClock {
    ms: Arc<AtomicU64>,
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualClock {
    /// 2024-01-01T00:00:00Z in milliseconds since the Unix epoch.
    pub const START_MS: u64 = 1_704_067_200_000;

    /// A clock at [`VirtualClock::START_MS`].
    pub fn new() -> Self {
        VirtualClock {
            ms: Arc::new(AtomicU64::new(Self::START_MS)),
        }
    }

    /// The current virtual time.
    pub fn now_ms(&self) -> u64 {
        self.ms.load(Ordering::Relaxed)
    }

    /// A closure reading the clock (for the application).
    pub fn reader(&self) -> Arc<dyn Fn() -> u64 + Send + Sync> {
        let ms = self.ms.clone();
        Arc::new(move || ms.load(Ordering::Relaxed))
    }

    pub(crate) fn set_elapsed_ms(&self, elapsed: u64) {
        self.ms.store(Self::START_MS + elapsed, Ordering::Relaxed);
    }
}
