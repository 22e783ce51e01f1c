//! The write window of one WebSocket: how many bytes the driver handed to
//! the connection's writer thread that the writer has not written yet.
//! The driver writes directly to a socket that takes the bytes; a writer
//! (and so a window that is not empty) exists only once the socket was
//! full.
//!
//! The channel to a writer thread is unbounded (the driver must never wait
//! on a writer stuck on a full socket), so it is bounded in bytes instead:
//! once more than [`WRITE_WINDOW`] bytes wait for the writer, the driver
//! tells the core the connection is write-blocked
//! (`AppServer::handle_write_blocked`), and further frames stay in the
//! core, where they count toward `Config::max_outbound_bytes` (past it, the
//! core closes the connection with `OutboundQueueFull`). Once the writer
//! brings its backlog under half the window it asks the driver (through
//! its channel) to resume the connection (`handle_write_ready`).
//!
//! The two sides race: the writer may drain the backlog while the driver is
//! deciding to block. [`WriteWindow::queued`] and [`WriteWindow::written`]
//! settle it with one flag that exactly one side clears: whichever of the
//! two sees both "blocked" and "drained" resumes the connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// Bytes a connection's writer may have to write before the driver stops
/// handing it frames. Large enough that a client which reads keeps its
/// socket busy across a burst (a few hundred 1 KB frames, or a couple of
/// round trips' worth on a fast link) without ever being blocked; small
/// enough that thousands of clients that stop reading cost little beyond
/// what the core's `max_outbound_bytes` already allows each of them.
pub(crate) const WRITE_WINDOW: usize = 256 * 1024;

/// Shared by the driver (which adds) and a writer thread (which subtracts).
#[derive(Debug, Default)]
pub(crate) struct WriteWindow {
    /// Bytes handed to the writer and not yet written.
    pending: AtomicUsize,
    /// The connection is write-blocked in the core. Set by the driver;
    /// cleared by the side that resumes the connection.
    blocked: AtomicBool,
}

impl WriteWindow {
    /// The driver hands the writer `bytes` more. True when the connection
    /// just became write-blocked: the driver must call
    /// `handle_write_blocked`, then [`WriteWindow::recheck`].
    pub(crate) fn queued(&self, bytes: usize) -> bool {
        let pending = self.pending.fetch_add(bytes, SeqCst) + bytes;
        pending > WRITE_WINDOW && !self.blocked.swap(true, SeqCst)
    }

    /// After blocking: true when the writer drained meanwhile without
    /// seeing the flag, so the driver itself must resume the connection
    /// (`handle_write_ready`). Exactly one of this and
    /// [`WriteWindow::written`] returns true for each block.
    pub(crate) fn recheck(&self) -> bool {
        self.pending.load(SeqCst) <= WRITE_WINDOW / 2 && self.blocked.swap(false, SeqCst)
    }

    /// The writer wrote `bytes` to the socket. True when the connection was
    /// blocked and the backlog is now under half the window: the writer
    /// must ask the driver to resume it.
    pub(crate) fn written(&self, bytes: usize) -> bool {
        let before = self.pending.fetch_sub(bytes, SeqCst);
        let pending = before.saturating_sub(bytes);
        pending <= WRITE_WINDOW / 2 && self.blocked.swap(false, SeqCst)
    }

    /// The connection is write-blocked and its writer has not drained yet
    /// (it may be stuck on a socket the peer does not read).
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked.load(SeqCst)
    }

    /// Bytes waiting for the writer.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = 10_000;

    #[test]
    fn blocks_once_past_the_window_and_resumes_under_half() {
        let w = WriteWindow::default();
        let mut handed = 0;
        while !w.queued(FRAME) {
            handed += FRAME;
            assert!(handed <= WRITE_WINDOW, "blocks once past the window");
        }
        assert!(w.pending() > WRITE_WINDOW);
        assert!(!w.recheck(), "nothing was written yet");
        // More (pongs, or frames already polled) does not block twice.
        assert!(!w.queued(10));
        let mut resumed = false;
        while w.pending() > 0 {
            let n = FRAME.min(w.pending());
            if w.written(n) {
                assert!(!resumed, "resumed once");
                assert!(w.pending() <= WRITE_WINDOW / 2);
                resumed = true;
            }
        }
        assert!(resumed);
        // Unblocked: writing more asks for nothing.
        assert!(!w.queued(FRAME));
        assert!(!w.written(FRAME));
    }

    #[test]
    fn a_writer_that_drained_before_the_flag_was_set_leaves_the_resume_to_the_driver() {
        let w = WriteWindow::default();
        w.pending.store(WRITE_WINDOW, SeqCst);
        // The driver adds past the window...
        w.pending.fetch_add(FRAME, SeqCst);
        // ...the writer drains everything before the driver sets the flag
        // (the flag is still clear: the writer resumes nothing)...
        assert!(!w.written(WRITE_WINDOW + FRAME));
        // ...then the driver blocks; its recheck sees the drained backlog.
        assert!(!w.blocked.swap(true, SeqCst));
        assert!(w.recheck());
        assert!(!w.written(0), "the resume happened once");
    }

    #[test]
    fn exactly_one_side_resumes_when_both_see_the_drain() {
        let w = WriteWindow::default();
        assert!(w.queued(WRITE_WINDOW + 1));
        assert!(w.written(WRITE_WINDOW + 1));
        assert!(!w.recheck(), "the writer already resumed it");
    }

    #[test]
    fn under_the_window_nothing_blocks() {
        let w = WriteWindow::default();
        for _ in 0..1000 {
            assert!(!w.queued(100));
            assert!(!w.written(100));
        }
        assert_eq!(w.pending(), 0);
    }
}
