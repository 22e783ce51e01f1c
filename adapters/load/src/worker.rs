//! One load thread: its share of the clients on a [`Net`], and what they
//! do in each scenario. Threads share only [`Shared`] (atomics: phase,
//! measurement window, the fan-out's broadcast slots).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mio::{Events, Waker};
use serde_json::{json, Value};
use socketio_sansio::client::{Client, ClientConfig, ClientEvent, Transports};
use socketio_sansio::{Args, EngineVersion, SeededRandom};

use crate::net::{Net, WAKE};
use crate::opts::{Options, Scenario, Transport};

/// Broadcast slots of the fan-outs (at most `-w` 1024 in flight).
const RING: usize = 4096;

/// Latency samples kept per thread (the rest are counted, not sorted).
const MAX_SAMPLES: usize = 5_000_000;

/// One broadcast in flight: which, to how many, since when, done.
#[derive(Default)]
pub struct Slot {
    seq: AtomicU64,
    expected: AtomicU64,
    count: AtomicU64,
    sent_ns: AtomicU64,
    done: AtomicU64,
}

/// What the threads share.
pub struct Shared {
    base: Instant,
    /// Clients ready (connected; joined or upgraded where the scenario
    /// wants it).
    pub ready: AtomicUsize,
    /// Clients that failed before being ready.
    pub failed: AtomicUsize,
    /// Load may start (echo windows, broadcasts).
    pub go: AtomicBool,
    /// Every thread stops.
    pub stop: AtomicBool,
    window_start: AtomicU64,
    window_end: AtomicU64,
    slots: Vec<Slot>,
    waker: OnceLock<Waker>,
}

impl Shared {
    /// State for a run of `scenario`.
    pub fn new(scenario: Scenario) -> Shared {
        let fanout = matches!(scenario, Scenario::Fanout | Scenario::RoomFanout);
        Shared {
            base: Instant::now(),
            ready: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            go: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            window_start: AtomicU64::new(u64::MAX),
            window_end: AtomicU64::new(u64::MAX),
            slots: (0..if fanout { RING } else { 0 })
                .map(|_| Slot::default())
                .collect(),
            waker: OnceLock::new(),
        }
    }

    fn ns(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.base).as_nanos() as u64
    }

    /// Sets the measured window and lets the load start.
    pub fn start_window(&self, start: Instant, end: Instant) {
        self.window_start.store(self.ns(start), SeqCst);
        self.window_end.store(self.ns(end), SeqCst);
        self.go.store(true, SeqCst);
        self.wake();
    }

    fn in_window(&self, now: Instant) -> bool {
        let n = self.ns(now);
        n >= self.window_start.load(SeqCst) && n < self.window_end.load(SeqCst)
    }

    /// Wakes the emitter's thread.
    pub fn wake(&self) {
        if let Some(w) = self.waker.get() {
            let _ = w.wake();
        }
    }
}

/// What one thread measured.
#[derive(Debug, Default)]
pub struct Stats {
    /// Round trips (echo, ack), emit-to-last-receiver times (fan-outs) or
    /// setup times (storms), in ns.
    pub latency_ns: Vec<u64>,
    /// Operations inside the window: replies, acks, deliveries.
    pub ops: u64,
    /// Packets sent / received in all.
    pub sent: u64,
    /// Replies, acks, deliveries received in all.
    pub received: u64,
    /// Replies whose argument was not the one sent.
    pub mismatched: u64,
    /// Broadcasts completed (fan-outs).
    pub broadcasts: u64,
    /// Deliveries of broadcasts no longer tracked.
    pub strays: u64,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
}

impl Stats {
    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }

    fn sample(&mut self, d: Duration) {
        if self.latency_ns.len() < MAX_SAMPLES {
            self.latency_ns.push(d.as_nanos() as u64);
        }
    }

    /// Adds another thread's numbers.
    pub fn merge(&mut self, other: Stats) {
        self.latency_ns.extend(other.latency_ns);
        self.ops += other.ops;
        self.sent += other.sent;
        self.received += other.received;
        self.mismatched += other.mismatched;
        self.broadcasts += other.broadcasts;
        self.strays += other.strays;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
    }
}

#[derive(Default)]
struct Per {
    /// Global client number (rooms are assigned from it).
    global: usize,
    started: Option<Instant>,
    connected: bool,
    upgraded: bool,
    ready: bool,
    joining: Option<u64>,
    done: bool,
    inflight: VecDeque<(u64, Instant)>,
}

struct Load {
    o: Arc<Options>,
    sh: Arc<Shared>,
    per: Vec<Per>,
    next_start: usize,
    connecting: usize,
    stats: Stats,
    payload: String,
    /// The emitter's local index (fan-outs, thread 0).
    emitter: Option<usize>,
    lanes: Vec<Option<(u64, Instant)>>,
    next_seq: u64,
    members: Vec<u64>,
    filled: bool,
}

/// Runs thread `t` of `o.threads` until [`Shared::stop`] or `hard_stop`.
pub fn run(t: usize, o: Arc<Options>, sh: Arc<Shared>, hard_stop: Instant) -> Stats {
    let addr = SocketAddr::new(o.host, o.port);
    let mut stats = Stats::default();
    let mut net = match Net::new(addr, o.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ t as u64) {
        Ok(n) => n,
        Err(e) => {
            stats.error(format!("poll: {e}"));
            return stats;
        }
    };
    net.set_sources(o.source_addresses(), o.source_offset + t);
    let fanout = matches!(o.scenario, Scenario::Fanout | Scenario::RoomFanout);
    let mut emitter = None;
    let url = format!("http://{addr}");
    let config = match ClientConfig::builder(&url)
        .version(if o.eio == 3 {
            EngineVersion::V3
        } else {
            EngineVersion::V4
        })
        .transports(match o.transport {
            Transport::WebSocket => Transports::WebSocket,
            Transport::Polling => Transports::Polling,
            Transport::Upgrade => Transports::PollingThenWebSocket,
        })
        .reconnection(false)
        .timeout(o.timeout)
        .max_pending_acks(o.window.max(16))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            stats.error(format!("config: {e}"));
            return stats;
        }
    };
    let mut per = Vec::new();
    let mut add = |net: &mut Net, global: usize| {
        let rng = SeededRandom::new(o.seed.wrapping_mul(1_000_003).wrapping_add(global as u64));
        net.add(Client::with_random(config.clone(), Box::new(rng)));
        per.push(Per {
            global,
            ..Per::default()
        });
    };
    if fanout && t == 0 {
        match Waker::new(net.poll().registry(), WAKE) {
            Ok(w) => {
                let _ = sh.waker.set(w);
            }
            Err(e) => stats.error(format!("waker: {e}")),
        }
        add(&mut net, o.clients);
        emitter = Some(0);
    }
    for g in (t..o.clients).step_by(o.threads) {
        add(&mut net, g);
    }
    let mut members = vec![0u64; o.rooms.max(1)];
    for g in 0..o.clients {
        members[g % o.rooms.max(1)] += 1;
    }
    let mut load = Load {
        payload: "x".repeat(o.payload),
        lanes: vec![None; o.window],
        o,
        sh,
        per,
        next_start: 0,
        connecting: 0,
        stats,
        emitter,
        next_seq: 1,
        members,
        filled: false,
    };
    let mut events = Events::with_capacity(1024);
    loop {
        let now = Instant::now();
        if load.sh.stop.load(SeqCst) || now >= hard_stop {
            break;
        }
        load.on_turn(&mut net, now);
        net.process(now, |net, i, ev| load.on_event(net, i, ev, now));
        let wait = if load.sh.go.load(SeqCst) { 5 } else { 2 };
        if let Err(e) = net.turn(&mut events, now + Duration::from_millis(wait)) {
            load.stats.error(format!("poll: {e}"));
            break;
        }
        let now = Instant::now();
        net.process(now, |net, i, ev| load.on_event(net, i, ev, now));
    }
    for e in net.io_errors.drain(..) {
        load.stats.error(e);
    }
    net.close_all();
    load.stats
}

impl Load {
    fn nsp(&self) -> &str {
        match self.o.scenario {
            // `broadcast` and `room-broadcast` target `/`.
            Scenario::Fanout | Scenario::RoomFanout => "/",
            _ => &self.o.nsp,
        }
    }

    fn on_turn(&mut self, net: &mut Net, now: Instant) {
        // Bounded by the client count: each client starts once.
        while self.connecting < self.o.connecting && self.next_start < self.per.len() {
            let i = self.next_start;
            self.next_start += 1;
            self.connecting += 1;
            self.per[i].started = Some(now);
            let nsp = self.nsp().to_owned();
            if let Err(e) = net.client(i).connect_namespace(now, &nsp, None) {
                self.stats.error(format!("connect: {e}"));
            }
        }
        if !self.sh.go.load(SeqCst) {
            return;
        }
        match self.o.scenario {
            Scenario::Echo | Scenario::Ack if !self.filled => {
                self.filled = true;
                for i in 0..self.per.len() {
                    self.fill(net, i, now);
                }
            }
            Scenario::Fanout | Scenario::RoomFanout if self.emitter.is_some() => {
                self.broadcast(net, now)
            }
            _ => {}
        }
    }

    fn became_ready(&mut self, i: usize, now: Instant) {
        let p = &mut self.per[i];
        if p.ready {
            return;
        }
        p.ready = true;
        self.connecting = self.connecting.saturating_sub(1);
        if matches!(self.o.scenario, Scenario::Storm | Scenario::UpgradeStorm) {
            if let Some(t0) = p.started {
                self.stats.sample(now - t0);
            }
        }
        self.sh.ready.fetch_add(1, SeqCst);
    }

    fn failed(&mut self, i: usize, why: String) {
        let p = &mut self.per[i];
        if p.done {
            return;
        }
        p.done = true;
        if !p.ready {
            self.connecting = self.connecting.saturating_sub(1);
            self.sh.failed.fetch_add(1, SeqCst);
        }
        if !self.sh.stop.load(SeqCst) {
            self.stats.error(why);
        }
    }

    /// Keeps `-w` packets in flight on client `i`.
    fn fill(&mut self, net: &mut Net, i: usize, now: Instant) {
        if !self.per[i].ready || self.per[i].done || self.sh.stop.load(SeqCst) {
            return;
        }
        let nsp = self.nsp().to_owned();
        while self.per[i].inflight.len() < self.o.window {
            let args = Args::from(self.payload.as_str());
            let id = match self.o.scenario {
                Scenario::Ack => net.client(i).emit_with_ack(
                    now,
                    &nsp,
                    "message-with-ack",
                    args,
                    Some(self.o.timeout),
                ),
                _ => net.client(i).emit(now, &nsp, "message", args).map(|_| 0),
            };
            match id {
                Ok(id) => {
                    self.stats.sent += 1;
                    self.per[i].inflight.push_back((id, now));
                }
                Err(e) => {
                    self.stats.error(format!("emit: {e}"));
                    return;
                }
            }
        }
    }

    fn reply(&mut self, net: &mut Net, i: usize, index: Option<usize>, args: &Args, now: Instant) {
        let Some(index) = index else {
            self.stats.strays += 1;
            return;
        };
        let Some((_, sent)) = self.per[i].inflight.remove(index) else {
            return;
        };
        self.stats.received += 1;
        let same =
            args.values.len() == 1 && args.values[0].as_str().map(str::len) == Some(self.o.payload);
        if !same {
            self.stats.mismatched += 1;
        }
        if self.sh.in_window(now) {
            self.stats.ops += 1;
            self.stats.sample(now - sent);
        }
        self.fill(net, i, now);
    }

    /// The emitter: a new broadcast on every free lane.
    fn broadcast(&mut self, net: &mut Net, now: Instant) {
        let Some(e) = self.emitter else { return };
        if !self.per[e].ready || self.per[e].done || self.sh.stop.load(SeqCst) {
            return;
        }
        for lane in 0..self.lanes.len() {
            if let Some((seq, sent)) = self.lanes[lane] {
                let slot = &self.sh.slots[seq as usize % RING];
                if slot.done.load(SeqCst) != seq {
                    if now - sent < self.o.timeout {
                        continue;
                    }
                    self.stats.error("broadcast incomplete within --timeout-ms");
                }
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let rooms = self.o.rooms.max(1) as u64;
            let expected = match self.o.scenario {
                Scenario::RoomFanout => self.members[(seq % rooms) as usize],
                _ => self.o.clients as u64 + 1, // every socket of `/`, the sender too
            };
            let slot = &self.sh.slots[seq as usize % RING];
            slot.count.store(0, SeqCst);
            slot.expected.store(expected, SeqCst);
            slot.sent_ns.store(self.sh.ns(now), SeqCst);
            slot.done.store(0, SeqCst);
            slot.seq.store(seq, SeqCst);
            let mut text = format!("{seq}:");
            while text.len() < self.o.payload {
                text.push('x');
            }
            let result = match self.o.scenario {
                Scenario::RoomFanout => net.client(e).emit(
                    now,
                    "/",
                    "room-broadcast",
                    Args::from(vec![
                        json!(format!("r{}", seq % rooms)),
                        Value::String(text),
                    ]),
                ),
                _ => net.client(e).emit(now, "/", "broadcast", Args::from(text)),
            };
            if let Err(err) = result {
                self.stats.error(format!("emit: {err}"));
                return;
            }
            self.stats.sent += 1;
            self.lanes[lane] = Some((seq, now));
        }
    }

    fn delivery(&mut self, args: &Args, now: Instant) {
        self.stats.received += 1;
        if self.sh.in_window(now) {
            self.stats.ops += 1;
        }
        let seq = args
            .values
            .first()
            .and_then(Value::as_str)
            .and_then(|s| s.split(':').next())
            .and_then(|n| n.parse::<u64>().ok());
        let Some(seq) = seq else {
            self.stats.mismatched += 1;
            return;
        };
        let slot = &self.sh.slots[seq as usize % RING];
        if slot.seq.load(SeqCst) != seq {
            self.stats.strays += 1;
            return;
        }
        let n = slot.count.fetch_add(1, SeqCst) + 1;
        if n == slot.expected.load(SeqCst) {
            let sent = slot.sent_ns.load(SeqCst);
            slot.done.store(seq, SeqCst);
            self.stats.broadcasts += 1;
            if self.sh.in_window(now) {
                self.stats
                    .sample(Duration::from_nanos(self.sh.ns(now).saturating_sub(sent)));
            }
            self.sh.wake();
        }
    }

    fn on_event(&mut self, net: &mut Net, i: usize, event: ClientEvent, now: Instant) {
        match event {
            ClientEvent::Connected { .. } => {
                self.per[i].connected = true;
                match self.o.scenario {
                    Scenario::RoomFanout if Some(i) != self.emitter => {
                        let room = format!("r{}", self.per[i].global % self.o.rooms.max(1));
                        match net.client(i).emit_with_ack(
                            now,
                            "/",
                            "join",
                            Args::from(room),
                            Some(self.o.timeout),
                        ) {
                            Ok(id) => self.per[i].joining = Some(id),
                            Err(e) => self.failed(i, format!("join: {e}")),
                        }
                    }
                    Scenario::UpgradeStorm if !self.per[i].upgraded => {}
                    _ => self.became_ready(i, now),
                }
                if self.sh.go.load(SeqCst) {
                    self.fill_or_broadcast(net, i, now);
                }
            }
            ClientEvent::Upgraded => {
                self.per[i].upgraded = true;
                if self.o.scenario == Scenario::UpgradeStorm && self.per[i].connected {
                    self.became_ready(i, now);
                }
            }
            ClientEvent::ConnectError { message, .. } => {
                self.failed(i, format!("connect error: {message}"))
            }
            ClientEvent::Disconnected { reason, .. } => {
                self.failed(i, format!("disconnected: {reason}"))
            }
            ClientEvent::ReconnectFailed | ClientEvent::Reconnecting { .. } => {
                self.failed(i, "connection lost".into())
            }
            ClientEvent::Reconnected { .. } => {}
            ClientEvent::Event { name, args, .. } => match name.as_str() {
                "message-back" if self.o.scenario == Scenario::Echo => {
                    let index = (!self.per[i].inflight.is_empty()).then_some(0);
                    self.reply(net, i, index, &args, now);
                }
                "broadcast" | "room-broadcast" => self.delivery(&args, now),
                _ => {}
            },
            ClientEvent::Ack { id, result, .. } => {
                if self.per[i].joining == Some(id) {
                    self.per[i].joining = None;
                    match result {
                        Ok(_) => self.became_ready(i, now),
                        Err(e) => self.failed(i, format!("join: {e:?}")),
                    }
                    return;
                }
                match result {
                    Ok(args) => {
                        let index = self.per[i].inflight.iter().position(|&(x, _)| x == id);
                        self.reply(net, i, index, &args, now);
                    }
                    Err(e) => {
                        if let Some(index) = self.per[i].inflight.iter().position(|&(x, _)| x == id)
                        {
                            self.per[i].inflight.remove(index);
                        }
                        if !self.sh.stop.load(SeqCst) {
                            self.stats.error(format!("ack: {e:?}"));
                        }
                    }
                }
            }
        }
    }

    fn fill_or_broadcast(&mut self, net: &mut Net, i: usize, now: Instant) {
        match self.o.scenario {
            Scenario::Echo | Scenario::Ack => self.fill(net, i, now),
            Scenario::Fanout | Scenario::RoomFanout if Some(i) == self.emitter => {
                self.broadcast(net, now)
            }
            _ => {}
        }
    }
}
