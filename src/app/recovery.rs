//! Connection state recovery (socket.io 4.6+'s `connectionStateRecovery`),
//! server side: the bounded store of disconnected sessions and of the
//! packets they may have missed.
//!
//! With [`super::App::connection_state_recovery`]:
//!
//! * every CONNECT answer to a Socket.IO rev 5 client carries a private
//!   session id `pid` beside `sid`;
//! * every EVENT without an acknowledgement id that is not volatile gets an
//!   offset (a string) as its last argument, and is kept (with the rooms it
//!   went to) for [`RecoveryConfig::max_disconnection_duration`];
//! * a socket that ends for a transport reason (transport close or error,
//!   ping timeout, forced close, server shutdown; not a namespace
//!   disconnect by either side) is kept with its id, rooms and data;
//! * a CONNECT whose auth carries a known `pid` (and the `offset` of the
//!   last event the client got; without one, the position of the socket's
//!   CONNECT is used, so a socket that never received an event recovers
//!   too) restores it: same id, rooms and data, the events its rooms
//!   received meanwhile sent in order before the CONNECT answer, and
//!   [`super::Socket::recovered`] true.
//!
//! The store is bounded by [`RecoveryConfig::max_sessions`] and
//! [`RecoveryConfig::max_bytes`]; what it drops is reported as a
//! [`RecoveryEviction`] (to [`super::App::on_recovery_eviction`] and the
//! log). A restore needs every packet after the client's offset: once some
//! were dropped (by age or by the byte bound), the client gets a fresh
//! socket, as with the reference.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::DisconnectReason;
use crate::wire::sio::Args;

/// The settings of connection state recovery (socket.io's
/// `connectionStateRecovery` option, plus the store's bounds).
///
/// ```
/// use std::time::Duration;
/// use socketio_sansio::app::{App, RecoveryConfig};
///
/// let app: App = App::new().connection_state_recovery(RecoveryConfig {
///     max_disconnection_duration: Duration::from_secs(60),
///     ..RecoveryConfig::default()
/// });
/// # let _ = app;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a disconnected session (and every packet) is kept
    /// (reference `maxDisconnectionDuration`, 120 s).
    pub max_disconnection_duration: Duration,
    /// A restored socket skips the connect middlewares (reference
    /// `skipMiddlewares`, true).
    pub skip_middlewares: bool,
    /// Most disconnected sessions kept; past it the oldest is dropped
    /// ([`RecoveryEviction::SessionDropped`]). 10 000 by default.
    pub max_sessions: usize,
    /// Most bytes of packets kept (their JSON size, attachments included);
    /// past it the oldest are dropped ([`RecoveryEviction::PacketsDropped`]).
    /// 16 MiB by default.
    pub max_bytes: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_sessions: 10_000,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What the recovery store dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecoveryEviction {
    /// A disconnected session was not resumed within
    /// [`RecoveryConfig::max_disconnection_duration`].
    SessionExpired {
        /// The namespace.
        nsp: String,
        /// The socket id it had.
        socket_id: String,
    },
    /// A disconnected session was dropped to stay within
    /// [`RecoveryConfig::max_sessions`] (the oldest goes first).
    SessionDropped {
        /// The namespace.
        nsp: String,
        /// The socket id it had.
        socket_id: String,
    },
    /// Packets were dropped before their time to stay within
    /// [`RecoveryConfig::max_bytes`]: sessions whose offset precedes them
    /// can no longer be restored.
    PacketsDropped {
        /// How many packets.
        count: usize,
        /// Their size in bytes.
        bytes: usize,
    },
}

/// The recovery store's current size and what it did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryStats {
    /// Disconnected sessions kept.
    pub sessions: usize,
    /// Packets kept.
    pub packets: usize,
    /// Bytes of the packets kept.
    pub bytes: usize,
    /// Sessions restored so far.
    pub restored: u64,
    /// CONNECTs with a `pid` that could not be restored (unknown or expired
    /// session, unknown offset, packets dropped).
    pub failed: u64,
    /// Sessions and packets dropped by the bounds so far.
    pub evictions: u64,
}

pub(crate) type EvictionHandler = Arc<dyn Fn(&RecoveryEviction) + Send + Sync>;

/// True for the reasons the reference keeps a session for
/// (`RECOVERABLE_DISCONNECT_REASONS`).
pub(crate) fn is_recoverable(reason: &DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::TransportClose
            | DisconnectReason::TransportError(_)
            | DisconnectReason::PingTimeout
            | DisconnectReason::ForcedServerClose
            | DisconnectReason::ServerShuttingDown
    )
}

struct StoredPacket {
    seq: u64,
    at: Instant,
    nsp: Arc<str>,
    rooms: Vec<String>,
    except: Vec<String>,
    event: String,
    args: Args,
    size: usize,
}

impl StoredPacket {
    /// The reference's `shouldIncludePacket`.
    fn reaches(&self, nsp: &str, rooms: &[String]) -> bool {
        if &*self.nsp != nsp {
            return false;
        }
        let included = self.rooms.is_empty() || rooms.iter().any(|r| self.rooms.contains(r));
        included && rooms.iter().all(|r| !self.except.contains(r))
    }
}

/// A disconnected socket, waiting to be restored.
pub(crate) struct Session<D> {
    pub(crate) nsp: Arc<str>,
    pub(crate) id: Arc<str>,
    pub(crate) rooms: Vec<String>,
    pub(crate) data: D,
    /// The store position when the socket connected: where a client that
    /// never got an event resumes.
    pub(crate) connect_seq: u64,
    pub(crate) expires: Instant,
}

/// A restored session and what it missed.
pub(crate) struct Restored<D> {
    pub(crate) session: Session<D>,
    pub(crate) missed: Vec<(String, Args)>,
}

pub(crate) struct Store<D> {
    pub(crate) config: RecoveryConfig,
    on_evict: Option<EvictionHandler>,
    packets: VecDeque<StoredPacket>,
    /// The sequence number the next packet gets (offsets start at 1; the
    /// position 0 is "before any packet").
    next_seq: u64,
    bytes: usize,
    sessions: HashMap<String, Session<D>>,
    expiry: BTreeSet<(Instant, String)>,
    stats: RecoveryStats,
}

impl<D> Store<D> {
    pub(crate) fn new(config: RecoveryConfig, on_evict: Option<EvictionHandler>) -> Self {
        Store {
            config,
            on_evict,
            packets: VecDeque::new(),
            next_seq: 1,
            bytes: 0,
            sessions: HashMap::new(),
            expiry: BTreeSet::new(),
            stats: RecoveryStats::default(),
        }
    }

    pub(crate) fn stats(&self) -> RecoveryStats {
        RecoveryStats {
            sessions: self.sessions.len(),
            packets: self.packets.len(),
            bytes: self.bytes,
            ..self.stats
        }
    }

    /// The offset of the latest packet (0 before any).
    pub(crate) fn position(&self) -> u64 {
        self.next_seq - 1
    }

    /// The sequence number of the oldest packet kept (`next_seq` when none).
    fn first_seq(&self) -> u64 {
        self.packets.front().map_or(self.next_seq, |p| p.seq)
    }

    fn evicted(&mut self, eviction: RecoveryEviction) {
        log::warn!("connection state recovery: {eviction:?}");
        self.stats.evictions += 1;
        if let Some(handler) = &self.on_evict {
            handler(&eviction);
        }
    }

    /// Gives the event its offset (appended to `args`) and keeps it for the
    /// sockets of `nsp` in `rooms` (all when empty) minus `except`.
    pub(crate) fn record(
        &mut self,
        now: Instant,
        nsp: &str,
        rooms: &[String],
        except: &[String],
        event: &str,
        args: &mut Args,
    ) {
        self.prune(now);
        let seq = self.next_seq;
        self.next_seq += 1;
        args.values.push(Value::String(seq.to_string()));
        let size = 64
            + nsp.len()
            + event.len()
            + rooms.iter().chain(except).map(String::len).sum::<usize>()
            + serde_json::to_string(&args.values).map_or(0, |s| s.len())
            + args.binaries.iter().map(Vec::len).sum::<usize>();
        self.bytes += size;
        self.packets.push_back(StoredPacket {
            seq,
            at: now,
            nsp: Arc::from(nsp),
            rooms: rooms.to_vec(),
            except: except.to_vec(),
            event: event.to_owned(),
            args: args.clone(),
            size,
        });
        let (mut count, mut bytes) = (0, 0);
        while self.bytes > self.config.max_bytes {
            let Some(p) = self.packets.pop_front() else {
                break;
            };
            self.bytes -= p.size;
            count += 1;
            bytes += p.size;
        }
        if count > 0 {
            self.evicted(RecoveryEviction::PacketsDropped { count, bytes });
        }
    }

    /// Keeps a disconnected socket for the configured duration.
    pub(crate) fn persist(&mut self, now: Instant, pid: &str, mut session: Session<D>) {
        self.prune(now);
        if self.config.max_sessions == 0 {
            return;
        }
        while self.sessions.len() >= self.config.max_sessions {
            let Some((_, oldest)) = self.expiry.pop_first() else {
                break;
            };
            if let Some(s) = self.sessions.remove(&oldest) {
                self.evicted(RecoveryEviction::SessionDropped {
                    nsp: s.nsp.to_string(),
                    socket_id: s.id.to_string(),
                });
            }
        }
        session.expires = now + self.config.max_disconnection_duration;
        if let Some(old) = self.sessions.remove(pid) {
            self.expiry.remove(&(old.expires, pid.to_owned()));
        }
        self.expiry.insert((session.expires, pid.to_owned()));
        self.sessions.insert(pid.to_owned(), session);
    }

    /// The session `pid` of `nsp` and the packets it missed after `offset`
    /// (its CONNECT when `None`), if it can be restored. The session is
    /// consumed either way.
    pub(crate) fn restore(
        &mut self,
        now: Instant,
        nsp: &str,
        pid: &str,
        offset: Option<&str>,
    ) -> Option<Restored<D>> {
        self.prune(now);
        let restored = self.take(nsp, pid, offset);
        match restored {
            Some(_) => self.stats.restored += 1,
            None => self.stats.failed += 1,
        }
        restored
    }

    fn take(&mut self, nsp: &str, pid: &str, offset: Option<&str>) -> Option<Restored<D>> {
        if self.sessions.get(pid).map_or(true, |s| &*s.nsp != nsp) {
            log::debug!("recovery: no session {pid:?} for {nsp}");
            return None;
        }
        let session = self.sessions.remove(pid)?;
        self.expiry.remove(&(session.expires, pid.to_owned()));
        let from = match offset {
            None => session.connect_seq,
            Some(o) => match o.parse::<u64>() {
                Ok(o) => o,
                Err(_) => {
                    log::debug!("recovery: offset {o:?} is not one of ours");
                    return None;
                }
            },
        };
        // Every packet after `from` must still be here.
        if from > self.position() || from + 1 < self.first_seq() {
            log::debug!("recovery: offset {from} is unknown or too old");
            return None;
        }
        let skip = usize::try_from(from + 1 - self.first_seq()).ok()?;
        let missed = self
            .packets
            .iter()
            .skip(skip)
            .filter(|p| p.reaches(nsp, &session.rooms))
            .map(|p| (p.event.clone(), p.args.clone()))
            .collect();
        Some(Restored { session, missed })
    }

    /// Forgets packets and sessions older than the duration.
    pub(crate) fn prune(&mut self, now: Instant) {
        let keep = self.config.max_disconnection_duration;
        while self.packets.front().is_some_and(|p| p.at + keep <= now) {
            if let Some(p) = self.packets.pop_front() {
                self.bytes -= p.size;
            }
        }
        while self.expiry.first().is_some_and(|(at, _)| *at <= now) {
            let Some((_, pid)) = self.expiry.pop_first() else {
                break;
            };
            if let Some(s) = self.sessions.remove(&pid) {
                let eviction = RecoveryEviction::SessionExpired {
                    nsp: s.nsp.to_string(),
                    socket_id: s.id.to_string(),
                };
                log::debug!("connection state recovery: {eviction:?}");
                if let Some(handler) = &self.on_evict {
                    handler(&eviction);
                }
            }
        }
    }

    /// When [`Store::prune`] has work next.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let packet = self
            .packets
            .front()
            .map(|p| p.at + self.config.max_disconnection_duration);
        let session = self.expiry.first().map(|(at, _)| *at);
        match (packet, session) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(now: Instant, rooms: &[&str], connect_seq: u64) -> Session<u32> {
        Session {
            nsp: Arc::from("/"),
            id: Arc::from("s1"),
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            data: 7,
            connect_seq,
            expires: now,
        }
    }

    #[test]
    fn offsets_filter_by_rooms_and_bounds_hold() {
        let now = Instant::now();
        let mut store: Store<u32> = Store::new(RecoveryConfig::default(), None);
        let mut a = Args::from("x");
        store.record(now, "/", &[], &[], "all", &mut a);
        assert_eq!(a.values.last(), Some(&Value::String("1".into())));
        store.persist(now, "pid", session(now, &["s1", "red"], 0));
        store.record(
            now,
            "/",
            &["blue".into()],
            &[],
            "blue",
            &mut Args::from(serde_json::json!(1)),
        );
        store.record(
            now,
            "/",
            &["red".into()],
            &[],
            "red",
            &mut Args::from(serde_json::json!(2)),
        );
        store.record(
            now,
            "/",
            &[],
            &["red".into()],
            "not-red",
            &mut Args::from(serde_json::json!(3)),
        );
        store.record(
            now,
            "/other",
            &[],
            &[],
            "elsewhere",
            &mut Args::from(serde_json::json!(4)),
        );
        let r = store.restore(now, "/", "pid", Some("1")).expect("restored");
        let names: Vec<_> = r.missed.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(names, ["red"]);
        assert_eq!(r.session.data, 7);
        assert!(
            store.restore(now, "/", "pid", Some("1")).is_none(),
            "consumed"
        );
    }

    #[test]
    fn byte_bound_evicts_and_blocks_old_offsets() {
        let now = Instant::now();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let config = RecoveryConfig {
            max_bytes: 300,
            max_sessions: 1,
            ..RecoveryConfig::default()
        };
        let mut store: Store<u32> = Store::new(
            config,
            Some(Arc::new(move |e: &RecoveryEviction| {
                sink.lock().unwrap().push(e.clone())
            })),
        );
        for _ in 0..10 {
            store.record(now, "/", &[], &[], "e", &mut Args::from("0123456789"));
        }
        assert!(store.stats().bytes <= 300);
        assert!(matches!(
            seen.lock().unwrap()[0],
            RecoveryEviction::PacketsDropped { .. }
        ));
        store.persist(now, "a", session(now, &["s1"], 0));
        store.persist(now, "b", session(now, &["s1"], 0));
        assert_eq!(store.stats().sessions, 1);
        assert!(seen
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, RecoveryEviction::SessionDropped { .. })));
        // Offset 1's successors were dropped: no restore.
        assert!(store.restore(now, "/", "b", Some("1")).is_none());
    }

    #[test]
    fn sessions_expire() {
        let now = Instant::now();
        let mut store: Store<u32> = Store::new(RecoveryConfig::default(), None);
        store.persist(now, "p", session(now, &["s1"], 0));
        assert_eq!(store.next_deadline(), Some(now + Duration::from_secs(120)));
        let later = now + Duration::from_secs(121);
        assert!(store.restore(later, "/", "p", None).is_none());
        assert_eq!(store.stats().sessions, 0);
    }
}
