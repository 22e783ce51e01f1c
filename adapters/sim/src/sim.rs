//! The simulator: a virtual clock, an event queue ordered by `(time,
//! sequence)`, the user's application served by an `AppServer`, N core
//! `Client`s, and the network between them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use socketio_sansio::app::{App, AppServer, JournalEntry};
use socketio_sansio::client::{
    AckFailure, Client, ClientConfig, ClientDisconnectReason, ClientEvent, ClientTransmit,
    TransportId,
};
use socketio_sansio::cluster::{Cluster, ClusterMessage};
use socketio_sansio::wire::{eio, payload};
use socketio_sansio::{
    AckId, Args, Config, ConfigBuilder, ConnId, EngineVersion, Frame, Handshake, HttpRequest,
    HttpResponse, Query, RequestId, Transmit,
};

use crate::clock::VirtualClock;
use crate::faults::{Fault, FaultKind, Swarm, SwarmStreams};
use crate::link::{Latency, LinkConfig};
use crate::rng::Rng;
use crate::spec::{ClientSpec, Misbehaviour, Step};
use crate::trace::{Trace, TraceEvent};

type AppFactory<D> = Rc<dyn Fn() -> App<D>>;
type SpecFn = Rc<dyn Fn(usize) -> ClientSpec>;
type NodeFn = Rc<dyn Fn(usize) -> usize>;
type InvariantFn<D> = Rc<dyn Fn(&Sim<D>) -> Result<(), String>>;
type GoalFn<D> = Rc<dyn Fn(&Sim<D>) -> bool>;
type Tamper = Box<dyn FnMut(JournalEntry) -> Vec<JournalEntry>>;
/// The server's journal, tagged with the server generation it came from.
type JournalBuffer = Arc<Mutex<Vec<(u32, JournalEntry)>>>;

/// The write window of the workspace's drivers: the bytes a transport may
/// take for one connection beyond the core's queue before it reports the
/// connection write-blocked (`Config::max_outbound_bytes` documents it; the
/// default [`LinkConfig::window`]).
pub const DRIVER_WINDOW: usize = 256 * 1024;

/// Deliberate defects of the simulated network, to show that the
/// invariants about the core fire (a correct network never needs them).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkBug {
    /// Every 7th WebSocket frame from the server is delivered twice.
    DuplicateDown,
    /// A middlebox answers the server's pings for vanished clients.
    AnswerPingsForVanished,
    /// The server's acknowledgements to clients are lost (without any
    /// fault being recorded).
    DropAcksDown,
}

/// Builds a [`Sim`]: the application, the clients, the network, the
/// faults and the checks. Cheap to clone (the minimizer rebuilds runs
/// from it).
///
/// ```
/// use std::time::Duration;
/// use serde_json::json;
/// use socketio_sansio::app::{App, Namespace};
/// use socketio_sim::{ClientSpec, Sim};
///
/// fn echo() -> App {
///     App::new().ns("/", Namespace::new().on_connection(|socket| {
///         socket.on("echo", |socket, args, ack| {
///             if let Some(ack) = ack {
///                 ack.send(socket, args);
///             }
///         });
///     }))
/// }
///
/// let report = Sim::builder(echo)
///     .seed(1)
///     .clients(3, |i| ClientSpec::websocket().connect("/").emit_with_ack("/", "echo", json!(i)))
///     .swarm()
///     .chaos(Duration::from_secs(20))
///     .heal(Duration::from_secs(30))
///     .run();
/// assert!(report.passed(), "{report}");
/// ```
pub struct SimBuilder<D: 'static = ()> {
    app: AppFactory<D>,
    config: ConfigBuilder,
    seed: u64,
    clients: usize,
    spec: SpecFn,
    link: LinkConfig,
    timeline: Vec<(Duration, Fault)>,
    swarm: Option<Swarm>,
    swarm_from_seed: bool,
    chaos: Duration,
    heal: Duration,
    leave: bool,
    keep_trace: bool,
    keep_events: bool,
    invariants: Vec<(String, InvariantFn<D>)>,
    goals: Vec<(String, GoalFn<D>)>,
    bug: Option<LinkBug>,
    clock: Option<VirtualClock>,
    nodes: usize,
    node_of: Option<NodeFn>,
    bus_latency: Latency,
}

impl<D: 'static> Clone for SimBuilder<D> {
    fn clone(&self) -> Self {
        SimBuilder {
            app: self.app.clone(),
            config: self.config.clone(),
            seed: self.seed,
            clients: self.clients,
            spec: self.spec.clone(),
            link: self.link.clone(),
            timeline: self.timeline.clone(),
            swarm: self.swarm.clone(),
            swarm_from_seed: self.swarm_from_seed,
            chaos: self.chaos,
            heal: self.heal,
            leave: self.leave,
            keep_trace: self.keep_trace,
            keep_events: self.keep_events,
            invariants: self.invariants.clone(),
            goals: self.goals.clone(),
            bug: self.bug,
            clock: self.clock.clone(),
            nodes: self.nodes,
            node_of: self.node_of.clone(),
            bus_latency: self.bus_latency,
        }
    }
}

impl<D: 'static> fmt::Debug for SimBuilder<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimBuilder")
            .field("seed", &self.seed)
            .field("clients", &self.clients)
            .field("nodes", &self.nodes)
            .field("link", &self.link)
            .field("timeline", &self.timeline)
            .field("swarm", &self.swarm)
            .field("chaos", &self.chaos)
            .field("heal", &self.heal)
            .finish_non_exhaustive()
    }
}

impl<D: Default + Send + 'static> Sim<D> {
    /// A builder serving the application `app` makes (called again when
    /// the server restarts: a restarted process starts from scratch).
    pub fn builder(app: impl Fn() -> App<D> + 'static) -> SimBuilder<D> {
        SimBuilder {
            app: Rc::new(app),
            config: Config::builder()
                .ping_interval(Duration::from_secs(5))
                .ping_timeout(Duration::from_secs(3)),
            seed: 0,
            clients: 1,
            spec: Rc::new(|_| ClientSpec::websocket().connect("/")),
            link: LinkConfig::default(),
            timeline: Vec::new(),
            swarm: None,
            swarm_from_seed: false,
            chaos: Duration::from_secs(30),
            heal: Duration::from_secs(60),
            leave: true,
            keep_trace: false,
            keep_events: true,
            invariants: Vec::new(),
            goals: Vec::new(),
            bug: None,
            clock: None,
            nodes: 1,
            node_of: None,
            bus_latency: Latency::Exponential {
                min: Duration::from_micros(200),
                mean: Duration::from_millis(1),
            },
        }
    }
}

impl<D: Default + Send + 'static> SimBuilder<D> {
    /// The seed of the run (every random draw derives from it).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The seed of the run.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The server's configuration (the app's namespaces are added to it).
    /// The default pings every 5 s with a 3 s timeout.
    pub fn server_config(mut self, config: ConfigBuilder) -> Self {
        self.config = config;
        self
    }

    /// `n` clients, client `i` doing what `spec(i)` says.
    pub fn clients(mut self, n: usize, spec: impl Fn(usize) -> ClientSpec + 'static) -> Self {
        self.clients = n;
        self.spec = Rc::new(spec);
        self
    }

    /// The number of clients.
    pub fn client_count(&self) -> usize {
        self.clients
    }

    /// The network.
    pub fn link(mut self, link: LinkConfig) -> Self {
        self.link = link;
        self
    }

    /// A scripted fault at `at` (virtual time).
    pub fn fault_at(mut self, at: Duration, fault: Fault) -> Self {
        self.timeline.push((at, fault));
        self
    }

    /// Swarm mode: the seed picks the fault kinds and their rates
    /// ([`Swarm::derive`]).
    pub fn swarm(mut self) -> Self {
        self.swarm_from_seed = true;
        self
    }

    /// Swarm mode with an explicit configuration.
    pub fn swarm_config(mut self, swarm: Swarm) -> Self {
        self.swarm = Some(swarm);
        self.swarm_from_seed = false;
        self
    }

    /// The swarm configuration this builder runs with, if any.
    pub fn swarm_in_effect(&self) -> Option<Swarm> {
        match (&self.swarm, self.swarm_from_seed) {
            (Some(s), _) => Some(s.clone()),
            (None, true) => Some(Swarm::derive(self.seed)),
            (None, false) => None,
        }
    }

    /// The length of the chaos phase (faults on; default 30 s).
    pub fn chaos(mut self, d: Duration) -> Self {
        self.chaos = d;
        self
    }

    /// The length of the chaos phase.
    pub fn chaos_length(&self) -> Duration {
        self.chaos
    }

    /// The budget of the heal phase (faults cleared; every client must be
    /// reconnected, every acknowledgement resolved, every buffer drained
    /// within it; default 60 s).
    pub fn heal(mut self, d: Duration) -> Self {
        self.heal = d;
        self
    }

    /// At the end, every client leaves and the server's sessions, sockets,
    /// rooms, timers and pending acknowledgements must return to their
    /// baseline (default on).
    pub fn leave_at_end(mut self, on: bool) -> Self {
        self.leave = on;
        self
    }

    /// Keep every trace event in memory (for JSONL, the timeline, the
    /// picture and the self-check's divergence report; default off, the
    /// hash is always computed).
    pub fn keep_trace(mut self, on: bool) -> Self {
        self.keep_trace = on;
        self
    }

    /// Keep every client's events (default on; off for big runs).
    pub fn keep_client_events(mut self, on: bool) -> Self {
        self.keep_events = on;
        self
    }

    /// A user invariant, checked after every step and at the end; an
    /// `Err` is reported as a violation named `name`.
    pub fn invariant(
        mut self,
        name: &str,
        check: impl Fn(&Sim<D>) -> Result<(), String> + 'static,
    ) -> Self {
        self.invariants.push((name.to_owned(), Rc::new(check)));
        self
    }

    /// A "sometimes" goal: true after at least one step of at least one
    /// run (reported when never reached).
    pub fn sometimes(mut self, name: &str, goal: impl Fn(&Sim<D>) -> bool + 'static) -> Self {
        self.goals.push((name.to_owned(), Rc::new(goal)));
        self
    }

    /// Keeps `clock` at the run's virtual time (for applications that
    /// stamp with the time of day; see [`VirtualClock`]).
    pub fn virtual_clock(mut self, clock: VirtualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// `n` server nodes (default 1), each serving the application, joined
    /// by an in-memory cluster bus: server-wide operations (broadcasts,
    /// `sockets_join`, `fetch_sockets`, server-side emits) reach the other
    /// nodes as [`ClusterMessage`](socketio_sansio::cluster::ClusterMessage)s
    /// the simulator carries through its event queue, with
    /// [`SimBuilder::bus_latency`], FIFO per pair of nodes, so they are part
    /// of the trace. Each client sticks to one node (sticky sessions, as a
    /// load balancer in front of polling must): [`SimBuilder::node_of`], or
    /// drawn from the client's own stream.
    /// [`Fault::RestartServer`] restarts every node, [`Fault::RestartNode`]
    /// one (the others count one node less meanwhile).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n.max(1);
        self
    }

    /// The number of server nodes.
    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Which node client `i` connects to (taken modulo the node count).
    pub fn node_of(mut self, node: impl Fn(usize) -> usize + 'static) -> Self {
        self.node_of = Some(Rc::new(node));
        self
    }

    /// The one-way latency of the cluster bus between two nodes (default
    /// 0.2 ms plus an exponential tail of mean 1 ms).
    pub fn bus_latency(mut self, latency: Latency) -> Self {
        self.bus_latency = latency;
        self
    }

    #[doc(hidden)]
    pub fn link_bug(mut self, bug: LinkBug) -> Self {
        self.bug = Some(bug);
        self
    }

    /// The same configuration with fewer clients (for the minimizer).
    pub(crate) fn with_clients(mut self, n: usize) -> Self {
        self.clients = n;
        self
    }

    /// Builds the simulation (nothing runs yet).
    pub fn build(self) -> Sim<D> {
        Sim::new(self)
    }

    /// Builds and runs both phases: [`Sim::run`].
    pub fn run(self) -> Report {
        self.build().run()
    }
}

// ---- the event queue --------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Dir {
    Up,
    Down,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::Up => "up",
            Dir::Down => "down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    ClientTimer(usize),
    /// A node's timer, for one generation of its server.
    ServerTimer(usize, u32),
    /// A cluster message reaching a node (its id in `Sim::bus`).
    Bus(u64),
    /// A restarted node comes back.
    NodeUp(usize),
    Script(usize),
    Random(usize),
    Misbehave(usize),
    WsConnect(u64),
    Deliver(u64, Dir),
    HttpArrive(u64),
    HttpReply(u64),
    FaultStart(usize),
    FaultEnd(usize),
    NextSwarmFault(usize),
    ServerUp,
}

impl Ev {
    /// The client this network event travels to or from (partitions park it).
    fn client_of(
        &self,
        links: &BTreeMap<u64, WsLink>,
        ex: &BTreeMap<u64, Exchange>,
    ) -> Option<usize> {
        match self {
            Ev::WsConnect(l) | Ev::Deliver(l, _) => links.get(l).map(|l| l.client),
            Ev::HttpArrive(e) | Ev::HttpReply(e) => ex.get(e).map(|e| e.client),
            _ => None,
        }
    }
}

struct Queued {
    at: Instant,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

// ---- the network --------------------------------------------------------

#[derive(Debug, Clone)]
enum Body {
    Opened,
    Refused,
    Frame(Frame),
    Close,
}

/// Which flow a message belongs to, and its first message number.
#[derive(Debug, Clone)]
struct Stamp {
    flow: FlowKey,
    first: u64,
    count: u64,
}

type FlowKey = (usize, Rc<str>, Dir);

#[derive(Debug, Default)]
struct Flow {
    sent: u64,
    recv: u64,
    touched: bool,
}

#[derive(Debug)]
struct Msg {
    at: Instant,
    bytes: usize,
    body: Body,
    stamp: Option<Stamp>,
}

#[derive(Debug)]
struct Pipe {
    queue: VecDeque<Msg>,
    last_arrival: Instant,
    next_free: Instant,
    bytes: usize,
    /// The largest message pushed (the window check runs after a push, so
    /// a pipe may exceed its window by one message).
    largest: usize,
    blocked: bool,
}

impl Pipe {
    fn new(now: Instant) -> Self {
        Pipe {
            queue: VecDeque::new(),
            last_arrival: now,
            next_free: now,
            bytes: 0,
            largest: 0,
            blocked: false,
        }
    }
}

#[derive(Debug)]
struct WsLink {
    client: usize,
    /// The server node it reaches.
    node: usize,
    transport: TransportId,
    url: String,
    headers: Vec<(String, String)>,
    conn: Option<ConnId>,
    /// The client closed it or forgot it: what arrives is dropped.
    client_gone: bool,
    /// The server side closed: what arrives is dropped.
    server_gone: bool,
    /// Half-open or reset: nothing flows any more.
    dead: bool,
    /// A (broken) middlebox answers the server's pings on this link.
    zombie: bool,
    up: Pipe,
    down: Pipe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExState {
    ToServer,
    AtServer(RequestId),
    ToClient,
}

#[derive(Debug)]
struct Exchange {
    client: usize,
    /// The server node it reaches.
    node: usize,
    request: RequestId,
    http: Option<HttpRequest>,
    sid: Option<Rc<str>>,
    state: ExState,
    response: Option<HttpResponse>,
    stamp: Option<Stamp>,
    dead: bool,
}

// ---- the clients --------------------------------------------------------

/// What the simulator saw of one client.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// Every event of the client, with its virtual time (when kept).
    pub events: Vec<(Duration, ClientEvent)>,
    /// The outcome of each acknowledged emit, by namespace and id (when kept).
    pub acks: BTreeMap<(String, AckId), Result<Args, AckFailure>>,
    /// Acknowledged emits still waiting: namespace and id → emit time.
    pub pending_acks: BTreeMap<(String, AckId), Duration>,
    /// Acknowledgement outcomes so far.
    pub acks_resolved: u64,
    /// Events received from the server.
    pub events_received: u64,
}

struct SimClient {
    spec: ClientSpec,
    /// The server node its connections go to.
    node: usize,
    client: Client,
    rng: Rng,
    net: Rng,
    script: VecDeque<Step>,
    wanted: BTreeSet<String>,
    timer_at: Option<Instant>,
    transports: BTreeMap<TransportId, u64>,
    requests: BTreeMap<RequestId, u64>,
    partitioned: bool,
    reading: bool,
    vanished: bool,
    /// Its script was due while it had vanished.
    script_parked: bool,
    closed: bool,
    seen: Observed,
}

/// One invariant violation (or unmet goal of the heal phase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name.
    pub invariant: String,
    /// Virtual time.
    pub at: Duration,
    /// What was seen.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] at {:.6}s: {}",
            self.invariant,
            self.at.as_secs_f64(),
            self.detail
        )
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events processed.
    pub steps: u64,
    /// WebSocket frames and HTTP exchanges carried.
    pub packets: u64,
    /// Faults applied, by kind.
    pub faults: BTreeMap<String, u64>,
    /// WebSocket connections opened.
    pub ws_opened: u64,
    /// HTTP requests carried.
    pub http_requests: u64,
    /// Client reconnections.
    pub reconnections: u64,
    /// Acknowledgement outcomes on the clients.
    pub acks: u64,
    /// Application handler runs journaled by the server.
    pub handler_runs: u64,
    /// Cluster messages carried between server nodes.
    pub bus_messages: u64,
    /// Broadcasts whose recipients were checked against the rooms.
    pub broadcasts_checked: u64,
    /// Virtual time at the end.
    pub virtual_time: Duration,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// The number of clients.
    pub clients: usize,
    /// The swarm configuration, if swarm mode was on.
    pub swarm: Option<Swarm>,
    /// Every violation, in order.
    pub violations: Vec<Violation>,
    /// The invariants checked (built-in and the user's).
    pub invariants: Vec<String>,
    /// Goals reached in this run.
    pub goals_reached: BTreeSet<String>,
    /// Goals declared.
    pub goals: Vec<String>,
    /// Counters.
    pub summary: Summary,
    /// The hash of the trace.
    pub trace_hash: u64,
    /// The trace (events kept only with [`SimBuilder::keep_trace`]).
    pub trace: Trace,
}

impl Report {
    /// No violation.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The one line that reproduces this run.
    pub fn repro(&self) -> String {
        format!(
            "SOCKETIO_SIM_SEED={} SOCKETIO_SIM_RUNS=1 cargo test <this test>  # {} clients{}",
            self.seed,
            self.clients,
            self.swarm
                .as_ref()
                .map_or(String::new(), |s| format!(", {s}"))
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        writeln!(
            f,
            "seed {}: {} ({} steps, {} packets, {:.1}s virtual, trace {:016x})",
            self.seed,
            if self.passed() { "passed" } else { "FAILED" },
            s.steps,
            s.packets,
            s.virtual_time.as_secs_f64(),
            self.trace_hash
        )?;
        if let Some(swarm) = &self.swarm {
            writeln!(f, "  {swarm}")?;
        }
        writeln!(f, "  faults applied: {:?}", s.faults)?;
        writeln!(
            f,
            "  ws opened {}, http requests {}, reconnections {}, acks {}",
            s.ws_opened, s.http_requests, s.reconnections, s.acks
        )?;
        if s.bus_messages > 0 {
            writeln!(f, "  cluster bus messages {}", s.bus_messages)?;
        }
        writeln!(f, "  invariants: {}", self.invariants.join(", "))?;
        if !self.goals.is_empty() {
            writeln!(
                f,
                "  goals reached: {:?} of {:?}",
                self.goals_reached, self.goals
            )?;
        }
        for v in self.violations.iter().take(20) {
            writeln!(f, "  VIOLATION {v}")?;
        }
        if self.violations.len() > 20 {
            writeln!(f, "  ... {} more", self.violations.len() - 20)?;
        }
        if !self.passed() {
            writeln!(f, "  reproduce: {}", self.repro())?;
        }
        Ok(())
    }
}

/// The built-in invariants, by name:
///
/// * `ack-exactly-once`: every acknowledgement has exactly one outcome.
///   On the wire, the server answers each request of a client at most once
///   per session and namespace socket (socket.io's server guards its ack
///   function with a `sent` flag; `app::Ack` is `Clone`, so an application
///   can answer twice and the core sends both: this fires). On the client,
///   one outcome per request, answered, timed out or failed (the core
///   client keeps one pending entry per id, so no application can break
///   it). The server's own callbacks (`Socket::emit_with_ack`,
///   `Operator::emit_with_ack`) are `FnOnce`: the types forbid a second run.
///   "At least once" is `ack-resolved`.
/// * `no-handler-after-disconnect`: no handler of a socket runs after its
///   departure (from the server's journal).
/// * `room-broadcast-exact`: a broadcast reaches exactly the members of its
///   rooms at emit time, minus the excepted ones.
/// * `ack-resolved`: at the end, every acknowledgement a client asked for
///   has its outcome.
/// * `delivery-exactly-once-in-order`: on connections no fault touched,
///   every message arrives once and in order.
/// * `silent-peer-detected`: a vanished client's session ends within ping
///   interval + ping timeout.
/// * `queue-limits`: what the server holds for one connection (the core's
///   queue plus what the transport took and the client has not read)
///   stays within `max_outbound_bytes` + [`DRIVER_WINDOW`] + one message.
/// * `baseline-after-leave`: once every client left, the server's
///   connections, sockets, rooms, timers and pending acknowledgements
///   are back to their count before the run.
/// * `heal`: after the chaos phase every client is reconnected, every
///   acknowledgement resolved and every buffer drained within the heal
///   budget.
/// * `no-panic`: neither the application nor the core panicked.
pub const INVARIANTS: [&str; 10] = [
    "ack-exactly-once",
    "no-handler-after-disconnect",
    "room-broadcast-exact",
    "ack-resolved",
    "delivery-exactly-once-in-order",
    "silent-peer-detected",
    "queue-limits",
    "baseline-after-leave",
    "heal",
    "no-panic",
];

/// A simulated run. See the [crate documentation](crate).
pub struct Sim<D: 'static = ()> {
    cfg: SimBuilder<D>,
    epoch: Instant,
    now: Instant,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    nodes: Vec<Node<D>>,
    /// The last server generation handed out (over every node).
    server_gen: u32,
    server_config: (Duration, Duration, usize),
    refuse_until: Option<Instant>,
    hang_until: Option<Instant>,
    hung: Vec<Ev>,
    clients: Vec<SimClient>,
    links: BTreeMap<u64, WsLink>,
    exchanges: BTreeMap<u64, Exchange>,
    srv_requests: HashMap<RequestId, u64>,
    next_id: u64,
    parked: Vec<Vec<Ev>>,
    faults: Vec<Fault>,
    swarm_streams: SwarmStreams,
    swarm: Option<Swarm>,
    healing: bool,
    flows: HashMap<FlowKey, Flow>,
    /// Vanished clients' sessions: node, connection, deadline, client.
    detections: Vec<(usize, ConnId, Instant, usize)>,
    dirty: Vec<usize>,
    trace: Trace,
    summary: Summary,
    violations: Vec<Violation>,
    goals_reached: BTreeSet<String>,
    baseline: [usize; 5],
    frames_down: u64,
    journal: JournalBuffer,
    /// Departed sockets by (server generation, connection, namespace).
    departed: HashMap<(u32, ConnId, Arc<str>), Vec<Arc<str>>>,
    tamper: Option<Tamper>,
    /// The client's acknowledgement requests the server answered, by
    /// client, session and namespace (`ack-exactly-once` on the wire).
    answered: BTreeMap<(usize, String, String), BTreeSet<AckId>>,
    /// Connections already reported by `queue-limits` (once each).
    over_limit: BTreeSet<(u32, ConnId)>,
    /// Cluster messages in flight: destination node and message.
    bus: BTreeMap<u64, (usize, ClusterMessage)>,
    /// The last arrival on the bus per (from, to): FIFO per pair.
    bus_last: BTreeMap<(usize, usize), Instant>,
    bus_rng: Rng,
}

/// One server node: its application server (`None` while down), the
/// generation of that server, its timer and its connections' links.
struct Node<D: 'static> {
    server: Option<AppServer<D>>,
    generation: u32,
    timer: Option<Instant>,
    dirty: bool,
    conn_links: HashMap<ConnId, u64>,
}

impl<D: 'static> fmt::Debug for Sim<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.cfg.seed)
            .field("now", &(self.now - self.epoch))
            .field("clients", &self.clients.len())
            .finish_non_exhaustive()
    }
}

fn target(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

fn query_sid(url: &str) -> Option<String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    Query::parse(q).get("sid").map(str::to_owned)
}

fn to_args(v: &Value) -> Args {
    match v {
        Value::Array(a) => Args::json(a.clone()),
        other => Args::json(vec![other.clone()]),
    }
}

fn frame_bytes(f: &Frame) -> usize {
    match f {
        Frame::Text(t) => t.len() + 2,
        Frame::Binary(b) => b.len() + 2,
    }
}

fn frame_text(f: &Frame) -> String {
    match f {
        Frame::Text(t) => t.to_string(),
        Frame::Binary(b) => format!("<binary {} bytes>", b.len()),
    }
}

/// Engine.IO message packets in one WebSocket frame.
fn frame_messages(version: EngineVersion, f: &Frame) -> u64 {
    match f {
        Frame::Text(t) => u64::from(t.starts_with('4')),
        Frame::Binary(b) => match version {
            EngineVersion::V4 => 1,
            EngineVersion::V3 => u64::from(b.first() == Some(&4)),
        },
    }
}

/// The Socket.IO texts (after the Engine.IO `4`) of the message packets in
/// one WebSocket frame or polling body.
fn sio_texts(
    version: EngineVersion,
    frame: Option<&Frame>,
    body: Option<(&[u8], Option<&str>)>,
) -> Vec<String> {
    match (frame, body) {
        (Some(Frame::Text(t)), _) => t
            .strip_prefix('4')
            .filter(|t| t.starts_with(['0', '3', '6']))
            .map(str::to_owned)
            .into_iter()
            .collect(),
        (_, Some((body, content_type))) => {
            let binary = content_type.is_some_and(|c| c.starts_with("application/octet-stream"));
            payload::decode(version, body, binary).map_or(Vec::new(), |packets| {
                packets
                    .iter()
                    .filter(|p| p.kind == eio::PacketType::Message)
                    .filter_map(|p| match &p.data {
                        eio::Data::Text(t) if t.starts_with(['0', '3', '6']) => Some(t.to_string()),
                        _ => None,
                    })
                    .collect()
            })
        }
        _ => Vec::new(),
    }
}

/// What a Socket.IO text says about acknowledgements: an ACK (or
/// BINARY_ACK) answering `id` on a namespace, or a CONNECT (a new socket
/// on the namespace, whose ids start again).
#[derive(Debug, PartialEq, Eq)]
enum AckWire {
    Answer(String, AckId),
    Connect(String),
}

fn ack_wire(text: &str) -> Option<AckWire> {
    let kind = text.chars().next()?;
    let mut rest = text.get(kind.len_utf8()..)?;
    if kind == '6' {
        rest = rest.split_once('-')?.1;
    }
    let nsp = if rest.starts_with('/') {
        let (nsp, after) = rest.split_once(',').unwrap_or((rest, ""));
        rest = after;
        nsp.split('?').next().unwrap_or("/").to_owned()
    } else {
        "/".to_owned()
    };
    match kind {
        '0' => Some(AckWire::Connect(nsp)),
        '3' | '6' => {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let id = digits.parse::<AckId>().ok()?;
            Some(AckWire::Answer(nsp, id))
        }
        _ => None,
    }
}

/// One line about a cluster message, for the trace.
fn bus_summary(message: &ClusterMessage) -> String {
    match message {
        ClusterMessage::Broadcast { target, event, .. } => format!(
            "broadcast {event:?} to {} rooms {:?} except {:?}",
            target.nsp, target.rooms, target.except
        ),
        ClusterMessage::Request { nsp, id, kind, .. } => {
            let kind = format!("{kind:?}");
            let name = kind.split([' ', '(', '{']).next().unwrap_or("");
            format!("request {name} on {nsp} id {id:?}")
        }
        ClusterMessage::Response { nsp, id, .. } => format!("response on {nsp} to {id:?}"),
    }
}

/// Engine.IO message packets in one polling body.
fn body_messages(version: EngineVersion, body: &[u8], content_type: Option<&str>) -> u64 {
    let binary = content_type.is_some_and(|c| c.starts_with("application/octet-stream"));
    payload::decode(version, body, binary).map_or(0, |packets| {
        packets
            .iter()
            .filter(|p| p.kind == eio::PacketType::Message)
            .count() as u64
    })
}

impl<D: Default + Send + 'static> Sim<D> {
    fn new(cfg: SimBuilder<D>) -> Self {
        let epoch = Instant::now();
        let seed = cfg.seed;
        let swarm = cfg.swarm_in_effect();
        let probe = cfg.config.clone().build();
        let server_config = probe.as_ref().map_or(
            (Duration::from_secs(25), Duration::from_secs(20), 16 << 20),
            |c| (c.ping_interval, c.ping_timeout, c.max_outbound_bytes),
        );
        if let Some(clock) = &cfg.clock {
            clock.set_elapsed_ms(0);
        }
        let mut sim = Sim {
            epoch,
            now: epoch,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes: (0..cfg.nodes.max(1))
                .map(|_| Node {
                    server: None,
                    generation: 0,
                    timer: None,
                    dirty: false,
                    conn_links: HashMap::new(),
                })
                .collect(),
            server_gen: 0,
            server_config,
            refuse_until: None,
            hang_until: None,
            hung: Vec::new(),
            clients: Vec::new(),
            links: BTreeMap::new(),
            exchanges: BTreeMap::new(),
            srv_requests: HashMap::new(),
            next_id: 1,
            parked: Vec::new(),
            faults: Vec::new(),
            swarm_streams: SwarmStreams::new(seed),
            swarm,
            healing: false,
            flows: HashMap::new(),
            detections: Vec::new(),
            dirty: Vec::new(),
            trace: Trace::new(cfg.keep_trace),
            summary: Summary::default(),
            violations: Vec::new(),
            goals_reached: BTreeSet::new(),
            baseline: [0; 5],
            frames_down: 0,
            journal: Arc::default(),
            departed: HashMap::new(),
            tamper: None,
            over_limit: BTreeSet::new(),
            answered: BTreeMap::new(),
            bus: BTreeMap::new(),
            bus_last: BTreeMap::new(),
            bus_rng: Rng::stream(seed, "bus"),
            cfg,
        };
        sim.start_servers();
        sim.baseline = sim.census();
        if let Some(swarm) = sim.swarm.clone() {
            sim.note("sim", "config", swarm.to_string());
        }
        for i in 0..sim.cfg.clients {
            sim.add_client(i);
        }
        for (i, (at, fault)) in sim.cfg.timeline.clone().into_iter().enumerate() {
            sim.faults.push(fault);
            sim.schedule(epoch + at, Ev::FaultStart(i));
        }
        if let Some(swarm) = sim.swarm.clone() {
            for (k, (kind, gap)) in swarm.kinds.iter().enumerate() {
                let first = sim.swarm_streams.gap(*kind, *gap);
                sim.schedule(epoch + first, Ev::NextSwarmFault(k));
            }
        }
        sim
    }

    /// Starts every node that is down (each a fresh process serving a
    /// fresh app), then tells each the node count.
    fn start_servers(&mut self) {
        for k in 0..self.nodes.len() {
            if self.nodes[k].server.is_none() {
                self.start_node(k);
            }
        }
        self.announce_node_count();
    }

    fn start_node(&mut self, k: usize) {
        self.server_gen += 1;
        let generation = self.server_gen;
        let mut rng = Rng::stream(self.cfg.seed, &format!("server/{generation}"));
        let app = (self.cfg.app)();
        let node = match AppServer::with_random(self.cfg.config.clone(), app, rng.source()) {
            Ok(mut server) => {
                let journal = self.journal.clone();
                server.set_journal(Some(Box::new(move |entry| {
                    if let Ok(mut journal) = journal.lock() {
                        journal.push((generation, entry));
                    }
                })));
                if self.nodes.len() > 1 {
                    let cluster =
                        Cluster::new(format!("node{k}-{generation}"), Duration::from_secs(5));
                    server.attach_cluster(cluster, None);
                }
                Some(server)
            }
            Err(e) => {
                self.violate(
                    "no-panic",
                    format!("the server configuration is invalid: {e}"),
                );
                None
            }
        };
        let n = &mut self.nodes[k];
        n.server = node;
        n.generation = generation;
        n.timer = None;
        n.dirty = true;
    }

    fn add_client(&mut self, i: usize) {
        let spec = (self.cfg.spec)(i);
        let config = ClientConfig::builder("http://sim.invalid")
            .transports(spec.transports)
            .version(spec.version)
            .reconnection(spec.reconnection)
            .reconnection_delay(spec.reconnection_delay)
            .reconnection_delay_max(spec.reconnection_delay_max)
            .ack_timeout(spec.ack_timeout)
            .build();
        let config = match config {
            Ok(c) => c,
            Err(e) => {
                self.violate(
                    "no-panic",
                    format!("client {i}: invalid configuration: {e}"),
                );
                return;
            }
        };
        let mut core = Rng::stream(self.cfg.seed, &format!("client-core/{i}"));
        let client = Client::with_random(config, core.source());
        let start = self.epoch + spec.start_at;
        let nodes = self.nodes.len();
        let node = match (&self.cfg.node_of, nodes) {
            (_, 1) => 0,
            (Some(f), n) => f(i) % n,
            (None, n) => Rng::stream(self.cfg.seed, &format!("node/{i}")).below(n as u64) as usize,
        };
        self.clients.push(SimClient {
            node,
            script: spec.script.iter().cloned().collect(),
            reading: spec.misbehaviour != Some(Misbehaviour::NeverRead),
            spec,
            client,
            rng: Rng::stream(self.cfg.seed, &format!("client/{i}")),
            net: Rng::stream(self.cfg.seed, &format!("network/{i}")),
            wanted: BTreeSet::new(),
            timer_at: None,
            transports: BTreeMap::new(),
            requests: BTreeMap::new(),
            partitioned: false,
            vanished: false,
            script_parked: false,
            closed: false,
            seen: Observed::default(),
        });
        self.parked.push(Vec::new());
        self.schedule(start, Ev::Script(i));
        if let Some(m) = self.clients[i].spec.misbehaviour {
            let period = match m {
                Misbehaviour::Malformed(p) | Misbehaviour::Flood(p) => Some(p),
                Misbehaviour::NeverRead => None,
            };
            if let Some(p) = period {
                self.schedule(start + p, Ev::Misbehave(i));
            }
        }
    }

    // ---- (A) getters --------------------------------------------------

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// The virtual clock as an `Instant`.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    /// The server of node 0 (`None` while it is down).
    pub fn server(&self) -> Option<&AppServer<D>> {
        self.node(0)
    }

    /// The server of node `k` (`None` while it is down or without such a
    /// node).
    pub fn node(&self, k: usize) -> Option<&AppServer<D>> {
        self.nodes.get(k).and_then(|n| n.server.as_ref())
    }

    /// The number of server nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node client `i` connects to.
    pub fn node_of(&self, i: usize) -> Option<usize> {
        self.clients.get(i).map(|c| c.node)
    }

    /// The number of clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// What the simulator saw of client `i`.
    pub fn observed(&self, i: usize) -> Option<&Observed> {
        self.clients.get(i).map(|c| &c.seen)
    }

    /// The core client `i`, read-only.
    pub fn core_client(&self, i: usize) -> Option<&Client> {
        self.clients.get(i).map(|c| &c.client)
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The violations so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// A handle to script client `i` from the test.
    ///
    /// # Panics
    /// When `i` is not a client index (a mistake in the test itself).
    pub fn client(&mut self, i: usize) -> ClientHandle<'_, D> {
        assert!(i < self.clients.len(), "no client {i}");
        ClientHandle { sim: self, i }
    }

    // ---- driving --------------------------------------------------------

    fn schedule(&mut self, at: Instant, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            ev,
        }));
    }

    /// When the next event is due.
    pub fn next_event_at(&self) -> Option<Duration> {
        self.queue.peek().map(|Reverse(q)| q.at - self.epoch)
    }

    /// Processes one event; false when nothing is left to do.
    pub fn step(&mut self) -> bool {
        let Some(Reverse(q)) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(q.at);
        self.summary.steps += 1;
        if let Some(clock) = &self.cfg.clock {
            clock.set_elapsed_ms((self.now - self.epoch).as_millis() as u64);
        }
        self.handle(q.at, q.ev);
        self.pump();
        self.check_step();
        true
    }

    /// Runs every event due within `d` of virtual time, then sets the
    /// clock to the end.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.queue.peek().is_some_and(|Reverse(q)| q.at <= end) {
            self.step();
        }
        self.now = self.now.max(end);
    }

    /// Runs until `done` holds (checked after every step) or `budget` of
    /// virtual time has passed; true when `done` held.
    pub fn run_until(&mut self, budget: Duration, done: impl Fn(&Sim<D>) -> bool) -> bool {
        let end = self.now + budget;
        loop {
            if done(self) {
                return true;
            }
            if !self.queue.peek().is_some_and(|Reverse(q)| q.at <= end) {
                self.now = self.now.max(end);
                return done(self);
            }
            self.step();
        }
    }

    /// Both phases as VOPR runs them: chaos (faults on) for the chaos
    /// length, then heal (faults cleared) until every client is
    /// reconnected, every acknowledgement resolved and every buffer
    /// drained, within the heal budget; then every client leaves and the
    /// server must return to its baseline. Panics are caught and reported
    /// as the `no-panic` invariant.
    pub fn run(mut self) -> Report {
        let chaos = self.cfg.chaos;
        let heal = self.cfg.heal;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run_for(chaos);
            self.start_heal();
            // What the heal released at this instant lands before the
            // first look (a stalled reader's close, parked frames).
            self.run_for(Duration::ZERO);
            let healed = self.run_until(heal, |s| s.healed().is_ok());
            if !healed {
                let why = self.healed().err().unwrap_or_default();
                self.violate("heal", format!("not healed within {heal:?}: {why}"));
            }
            // Let the last acknowledgements and frames land.
            self.run_for(Duration::from_millis(200));
            self.check_end();
            if self.cfg.leave {
                self.leave_all();
            }
        }));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            self.violate("no-panic", message);
        }
        self.report()
    }

    /// The report so far.
    pub fn report(&mut self) -> Report {
        self.check_journal();
        self.summary.virtual_time = self.elapsed();
        let mut invariants: Vec<String> = INVARIANTS.iter().map(|s| s.to_string()).collect();
        invariants.extend(self.cfg.invariants.iter().map(|(n, _)| n.clone()));
        Report {
            seed: self.cfg.seed,
            clients: self.cfg.clients,
            swarm: self.swarm.clone(),
            violations: self.violations.clone(),
            invariants,
            goals_reached: self.goals_reached.clone(),
            goals: self.cfg.goals.iter().map(|(n, _)| n.clone()).collect(),
            summary: self.summary.clone(),
            trace_hash: self.trace.hash(),
            trace: self.trace.clone(),
        }
    }

    /// Ends the chaos phase: every fault is cleared, random activity stops.
    pub fn start_heal(&mut self) {
        self.healing = true;
        self.note("sim", "phase", "heal: faults cleared".to_owned());
        self.refuse_until = None;
        self.release_hung();
        if self.nodes.iter().any(|n| n.server.is_none()) {
            self.start_servers();
        }
        for i in 0..self.clients.len() {
            self.heal_partition(i);
            self.resume_reading(i);
            self.revive(i);
        }
        self.pump();
    }

    /// Whether the heal goals hold; the reason when not.
    pub fn healed(&self) -> Result<(), String> {
        for (i, c) in self.clients.iter().enumerate() {
            if c.spec.misbehaviour.is_some() {
                continue;
            }
            for nsp in &c.wanted {
                if !c.client.is_connected(nsp) {
                    return Err(format!("client {i} is not connected to {nsp}"));
                }
                if c.client.buffered(nsp) > 0 {
                    return Err(format!(
                        "client {i} still buffers {} emits on {nsp}",
                        c.client.buffered(nsp)
                    ));
                }
            }
            if let Some(((nsp, id), _)) = c.seen.pending_acks.iter().next() {
                return Err(format!("client {i} awaits the ack {id} on {nsp}"));
            }
            if !c.script.is_empty() {
                return Err(format!(
                    "client {i} has {} script steps left",
                    c.script.len()
                ));
            }
        }
        Ok(())
    }

    fn leave_all(&mut self) {
        self.note("sim", "phase", "leave: every client closes".to_owned());
        for i in 0..self.clients.len() {
            let now = self.now;
            self.clients[i].client.close(now);
            self.clients[i].wanted.clear();
            self.clients[i].closed = true;
            self.dirty.push(i);
        }
        self.pump();
        let (interval, timeout, _) = self.server_config;
        let budget = interval + timeout + Duration::from_secs(5);
        let base = self.baseline;
        self.run_until(budget, |s| s.census() == base);
        let now = self.census();
        if now != base {
            self.violate(
                "baseline-after-leave",
                format!(
                    "[connections, sockets, rooms, timers, pending acks] = {now:?}, baseline {base:?}"
                ),
            );
        }
    }

    fn census(&self) -> [usize; 5] {
        let mut total = [0; 5];
        for s in self.nodes.iter().filter_map(|n| n.server.as_ref()) {
            let counts = [
                s.server().connection_count(),
                s.socket_count(),
                s.server().room_count(),
                s.server().deadline_count(),
                s.pending_ack_count(),
            ];
            for (t, c) in total.iter_mut().zip(counts) {
                *t += c;
            }
        }
        total
    }

    // ---- tracing ----------------------------------------------------------

    fn t_us(&self) -> u64 {
        (self.now - self.epoch).as_micros() as u64
    }

    fn note(&mut self, node: &str, kind: &'static str, data: String) {
        let event = TraceEvent {
            t_us: self.t_us(),
            node: node.to_owned(),
            conn: None,
            dir: None,
            kind,
            data,
        };
        self.trace.record(event);
    }

    fn note_conn(&mut self, client: usize, conn: u64, dir: Dir, kind: &'static str, data: String) {
        let event = TraceEvent {
            t_us: self.t_us(),
            node: format!("client{client}"),
            conn: Some(conn),
            dir: Some(dir.name()),
            kind,
            data,
        };
        self.trace.record(event);
    }

    fn violate(&mut self, invariant: &str, detail: String) {
        let at = self.elapsed();
        self.note("sim", "violation", format!("{invariant}: {detail}"));
        log::warn!("seed {}: [{invariant}] {detail}", self.cfg.seed);
        self.violations.push(Violation {
            invariant: invariant.to_owned(),
            at,
            detail,
        });
    }

    // ---- events -----------------------------------------------------------

    fn handle(&mut self, at: Instant, ev: Ev) {
        if let Some(c) = ev.client_of(&self.links, &self.exchanges) {
            if self.clients[c].partitioned {
                self.parked[c].push(ev);
                return;
            }
        }
        match ev {
            Ev::ClientTimer(i) => {
                let c = &mut self.clients[i];
                if c.timer_at == Some(at) {
                    c.timer_at = None;
                }
                if c.vanished {
                    return;
                }
                if c.client.poll_timeout().is_some_and(|t| t <= self.now) {
                    c.client.handle_timeout(self.now);
                }
                self.dirty.push(i);
            }
            Ev::ServerTimer(k, generation) => {
                let now = self.now;
                let node = &mut self.nodes[k];
                if generation != node.generation {
                    return;
                }
                if node.timer == Some(at) {
                    node.timer = None;
                }
                if let Some(s) = node.server.as_mut() {
                    if s.poll_timeout().is_some_and(|t| t <= now) {
                        s.handle_timeout(now);
                    }
                }
                node.dirty = true;
            }
            Ev::Script(i) => self.run_script(i),
            Ev::Random(i) => self.random_act(i),
            Ev::Misbehave(i) => self.misbehave(i),
            Ev::WsConnect(l) => self.ws_connect(l),
            Ev::Deliver(l, Dir::Up) => self.deliver_up(l),
            Ev::Deliver(l, Dir::Down) => self.deliver_down(l),
            Ev::HttpArrive(e) => self.http_arrive(e),
            Ev::HttpReply(e) => self.http_reply(e),
            Ev::FaultStart(f) => self.fault_start(f),
            Ev::FaultEnd(f) => self.fault_end(f),
            Ev::NextSwarmFault(k) => self.swarm_fault(k),
            Ev::Bus(id) => self.bus_deliver(id),
            Ev::NodeUp(k) => {
                if self.nodes[k].server.is_none() {
                    self.start_node(k);
                    self.announce_node_count();
                    self.note(&format!("node{k}"), "fault", "node up".to_owned());
                }
            }
            Ev::ServerUp => {
                if self.nodes.iter().any(|n| n.server.is_none()) {
                    self.start_servers();
                    self.note("server", "fault", "server up".to_owned());
                }
            }
        }
    }

    fn run_script(&mut self, i: usize) {
        let now = self.now;
        let c = &mut self.clients[i];
        if c.vanished {
            // Picked up again when the client comes back.
            c.script_parked = !c.script.is_empty();
            return;
        }
        if c.closed && c.script.is_empty() {
            return;
        }
        while let Some(step) = c.script.pop_front() {
            let result = match &step {
                Step::Connect { nsp, auth } => {
                    c.wanted.insert(nsp.clone());
                    c.closed = false;
                    c.client
                        .connect_namespace(now, nsp, auth.clone())
                        .map(|_| None)
                }
                Step::Emit { nsp, event, args } => {
                    c.client.emit(now, nsp, event, to_args(args)).map(|_| None)
                }
                Step::EmitWithAck {
                    nsp,
                    event,
                    args,
                    timeout,
                } => c
                    .client
                    .emit_with_ack(now, nsp, event, to_args(args), *timeout)
                    .map(|id| Some((nsp.clone(), id))),
                Step::Wait(d) => {
                    let at = now + *d;
                    self.dirty.push(i);
                    self.schedule(at, Ev::Script(i));
                    return;
                }
                Step::Disconnect(nsp) => {
                    c.wanted.remove(nsp);
                    c.client.disconnect_namespace(now, nsp).map(|_| None)
                }
                Step::Close => {
                    c.wanted.clear();
                    c.closed = true;
                    c.client.close(now);
                    Ok(None)
                }
            };
            match result {
                Ok(Some(key)) => {
                    c.seen.pending_acks.insert(key, now - self.epoch);
                }
                Ok(None) => {}
                Err(e) => {
                    let data = format!("script step {step:?} refused: {e}");
                    self.dirty.push(i);
                    self.note(&format!("client{i}"), "client-error", data);
                    return self.run_script(i);
                }
            }
        }
        self.dirty.push(i);
        if !self.healing && self.clients[i].spec.random.is_some() {
            self.schedule_random(i);
        }
    }

    fn schedule_random(&mut self, i: usize) {
        let Some(r) = self.clients[i].spec.random.clone() else {
            return;
        };
        let c = &mut self.clients[i];
        let u = c.rng.unit().max(1e-12);
        let gap = Duration::from_secs_f64((-u.ln()).min(20.0) * r.mean_gap.as_secs_f64());
        let at = self.now + gap;
        self.schedule(at, Ev::Random(i));
    }

    fn random_act(&mut self, i: usize) {
        let now = self.now;
        let Some(r) = self.clients[i].spec.random.clone() else {
            return;
        };
        if self.healing || self.clients[i].closed {
            return;
        }
        let c = &mut self.clients[i];
        if !c.vanished && !r.events.is_empty() {
            let (event, args) = &r.events[c.rng.below(r.events.len() as u64) as usize];
            if c.rng.chance(r.ack_ratio) {
                match c
                    .client
                    .emit_with_ack(now, &r.nsp, event, to_args(args), Some(r.ack_timeout))
                {
                    Ok(id) => {
                        c.seen
                            .pending_acks
                            .insert((r.nsp.clone(), id), now - self.epoch);
                    }
                    Err(e) => log::debug!("client {i}: {e}"),
                }
            } else if let Err(e) = c.client.emit(now, &r.nsp, event, to_args(args)) {
                log::debug!("client {i}: {e}");
            }
            self.dirty.push(i);
        }
        self.schedule_random(i);
    }

    fn misbehave(&mut self, i: usize) {
        let now = self.now;
        let Some(m) = self.clients[i].spec.misbehaviour else {
            return;
        };
        if self.healing {
            return;
        }
        self.touch_client(i);
        match m {
            Misbehaviour::Malformed(p) => {
                let open = self.clients[i].transports.values().copied().find(|l| {
                    self.links
                        .get(l)
                        .is_some_and(|l| l.conn.is_some() && !l.dead)
                });
                if let Some(l) = open {
                    self.send_up(l, Frame::text("4{not a packet".into()), None);
                }
                self.schedule(now + p, Ev::Misbehave(i));
            }
            Misbehaviour::Flood(p) => {
                let nsp = self.clients[i].wanted.iter().next().cloned();
                if let Some(nsp) = nsp {
                    let _ = self.clients[i].client.emit(
                        now,
                        &nsp,
                        "flood",
                        Args::json(vec![Value::from(i)]),
                    );
                    self.dirty.push(i);
                }
                self.schedule(now + p, Ev::Misbehave(i));
            }
            Misbehaviour::NeverRead => {}
        }
    }

    // ---- the network ------------------------------------------------------

    fn latency(&mut self, i: usize) -> Duration {
        let latency = self.cfg.link.latency;
        latency.sample(&mut self.clients[i].net)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn push(&mut self, l: u64, dir: Dir, body: Body, stamp: Option<Stamp>) {
        let Some(client) = self.links.get(&l).map(|l| l.client) else {
            return;
        };
        let latency = self.latency(client);
        let now = self.now;
        let bytes = match &body {
            Body::Frame(f) => frame_bytes(f),
            _ => 0,
        };
        let serialization = self.cfg.link.serialization(bytes);
        let Some(link) = self.links.get_mut(&l) else {
            return;
        };
        let pipe = match dir {
            Dir::Up => &mut link.up,
            Dir::Down => &mut link.down,
        };
        let depart = pipe.next_free.max(now) + serialization;
        pipe.next_free = depart;
        let at = (depart + latency).max(pipe.last_arrival);
        pipe.last_arrival = at;
        pipe.bytes += bytes;
        pipe.largest = pipe.largest.max(bytes);
        pipe.queue.push_back(Msg {
            at,
            bytes,
            body,
            stamp,
        });
        let block = dir == Dir::Down && !pipe.blocked && pipe.bytes > self.cfg.link.window;
        if block {
            pipe.blocked = true;
        }
        let (conn, k) = (link.conn, link.node);
        self.schedule(at, Ev::Deliver(l, dir));
        if block {
            if let (Some(conn), Some(s)) = (conn, self.nodes[k].server.as_mut()) {
                s.handle_write_blocked(conn);
            }
        }
        if let (Dir::Down, Some(conn)) = (dir, conn) {
            self.check_queue_limit(k, conn);
        }
    }

    fn stamp(&mut self, client: usize, sid: Option<&str>, dir: Dir, count: u64) -> Option<Stamp> {
        if count == 0 {
            return None;
        }
        let sid: Rc<str> = Rc::from(sid?);
        let key = (client, sid, dir);
        let flow = self.flows.entry(key.clone()).or_default();
        let first = flow.sent;
        flow.sent += count;
        Some(Stamp {
            flow: key,
            first,
            count,
        })
    }

    fn receive(&mut self, stamp: Option<Stamp>) {
        let Some(s) = stamp else { return };
        let Some(flow) = self.flows.get_mut(&s.flow) else {
            return;
        };
        let expected = flow.recv;
        flow.recv = flow.recv.max(s.first + s.count);
        if s.first != expected && !flow.touched {
            let detail =
                format!(
                "client {} session {} {}: messages {}..{} arrived, expected {expected} next ({})",
                s.flow.0,
                s.flow.1,
                s.flow.2.name(),
                s.first,
                s.first + s.count,
                if s.first < expected { "duplicate" } else { "gap or reorder" }
            );
            self.violate("delivery-exactly-once-in-order", detail);
        }
    }

    fn send_up(&mut self, l: u64, frame: Frame, stamp: Option<Stamp>) {
        let Some(client) = self.links.get(&l).map(|l| l.client) else {
            return;
        };
        self.summary.packets += 1;
        let data = frame_text(&frame);
        self.note_conn(client, l, Dir::Up, "send", data);
        self.push(l, Dir::Up, Body::Frame(frame), stamp);
    }

    fn client_transmit(&mut self, i: usize, t: ClientTransmit) {
        let now = self.now;
        match t {
            ClientTransmit::OpenWebSocket {
                transport,
                url,
                headers,
            } => {
                let l = self.id();
                self.summary.ws_opened += 1;
                self.links.insert(
                    l,
                    WsLink {
                        client: i,
                        node: self.clients[i].node,
                        transport,
                        url: url.clone(),
                        headers,
                        conn: None,
                        client_gone: false,
                        server_gone: false,
                        dead: false,
                        zombie: false,
                        up: Pipe::new(now),
                        down: Pipe::new(now),
                    },
                );
                self.clients[i].transports.insert(transport, l);
                self.note_conn(i, l, Dir::Up, "ws-open", target(&url));
                let latency = self.latency(i);
                self.schedule(now + latency, Ev::WsConnect(l));
            }
            ClientTransmit::WsFrame { transport, frame } => {
                let Some(&l) = self.clients[i].transports.get(&transport) else {
                    return;
                };
                let version = self.clients[i].spec.version;
                let count = frame_messages(version, &frame);
                let sid = self.clients[i].client.engine_sid().map(str::to_owned);
                let stamp = self.stamp(i, sid.as_deref(), Dir::Up, count);
                self.send_up(l, frame, stamp);
            }
            ClientTransmit::CloseWebSocket { transport } => {
                let Some(l) = self.clients[i].transports.remove(&transport) else {
                    return;
                };
                if let Some(link) = self.links.get_mut(&l) {
                    link.client_gone = true;
                }
                self.note_conn(i, l, Dir::Up, "close", String::new());
                self.push(l, Dir::Up, Body::Close, None);
            }
            ClientTransmit::HttpRequest {
                request,
                method,
                url,
                mut headers,
                body,
                content_type,
            } => {
                let e = self.id();
                self.summary.http_requests += 1;
                self.summary.packets += 1;
                let sid = query_sid(&url);
                let version = self.clients[i].spec.version;
                let count = body_messages(version, &body, content_type);
                let stamp = self.stamp(i, sid.as_deref(), Dir::Up, count);
                if let Some(ct) = content_type {
                    headers.push(("Content-Type".into(), ct.into()));
                }
                let mut http = HttpRequest::new(method, target(&url), headers);
                let mut data = format!(
                    "{method:?} {} {}",
                    target(&url),
                    String::from_utf8_lossy(&body)
                );
                if self.nodes.len() > 1 {
                    data = format!("node{}: {data}", self.clients[i].node);
                }
                http.body = body;
                self.exchanges.insert(
                    e,
                    Exchange {
                        client: i,
                        node: self.clients[i].node,
                        request,
                        http: Some(http),
                        sid: sid.map(Rc::from),
                        state: ExState::ToServer,
                        response: None,
                        stamp,
                        dead: false,
                    },
                );
                self.clients[i].requests.insert(request, e);
                self.note_conn(i, e, Dir::Up, "http-request", data);
                let latency = self.latency(i);
                self.schedule(now + latency, Ev::HttpArrive(e));
            }
        }
    }

    fn accepting(&self, k: usize) -> Result<(), bool> {
        if self.nodes[k].server.is_none() || self.refuse_until.is_some_and(|t| self.now < t) {
            return Err(false);
        }
        if self.hang_until.is_some_and(|t| self.now < t) {
            return Err(true);
        }
        Ok(())
    }

    fn ws_connect(&mut self, l: u64) {
        let Some(link) = self.links.get(&l) else {
            return;
        };
        if link.dead {
            return;
        }
        let (client, k, url, headers) = (
            link.client,
            link.node,
            link.url.clone(),
            link.headers.clone(),
        );
        match self.accepting(k) {
            Err(true) => return self.hung.push(Ev::WsConnect(l)),
            Err(false) => {
                self.note_conn(
                    client,
                    l,
                    Dir::Down,
                    "ws-refused",
                    "nothing listens".to_owned(),
                );
                return self.push(l, Dir::Down, Body::Refused, None);
            }
            Ok(()) => {}
        }
        let now = self.now;
        let Some(server) = self.nodes[k].server.as_mut() else {
            return;
        };
        match server.handle_ws_open(now, Handshake::new(target(&url), headers)) {
            Ok(conn) => {
                if let Some(link) = self.links.get_mut(&l) {
                    link.conn = Some(conn);
                }
                self.nodes[k].conn_links.insert(conn, l);
                let data = if self.nodes.len() > 1 {
                    format!("{conn} on node{k}")
                } else {
                    conn.to_string()
                };
                self.note_conn(client, l, Dir::Down, "ws-accepted", data);
                self.push(l, Dir::Down, Body::Opened, None);
            }
            Err(rejection) => {
                self.note_conn(client, l, Dir::Down, "ws-refused", format!("{rejection:?}"));
                self.push(l, Dir::Down, Body::Refused, None);
            }
        }
        self.nodes[k].dirty = true;
    }

    fn deliver_up(&mut self, l: u64) {
        let now = self.now;
        loop {
            let Some(link) = self.links.get_mut(&l) else {
                return;
            };
            if link.dead {
                link.up.queue.clear();
                return;
            }
            if !link.up.queue.front().is_some_and(|m| m.at <= now) {
                return;
            }
            let Some(msg) = link.up.queue.pop_front() else {
                return;
            };
            link.up.bytes -= msg.bytes;
            let (client, k, conn, gone) = (link.client, link.node, link.conn, link.server_gone);
            if gone {
                continue;
            }
            let Some(conn) = conn else { continue };
            let Some(server) = self.nodes[k].server.as_mut() else {
                continue;
            };
            match msg.body {
                Body::Frame(Frame::Text(t)) => {
                    server.handle_ws_text(now, conn, &t);
                    self.note_conn(client, l, Dir::Up, "recv", t.to_string());
                }
                Body::Frame(Frame::Binary(b)) => {
                    let n = b.len();
                    server.handle_ws_binary(now, conn, b.into_vec());
                    self.note_conn(client, l, Dir::Up, "recv", format!("<binary {n} bytes>"));
                }
                Body::Close => {
                    server.handle_ws_closed(now, conn);
                    self.nodes[k].conn_links.remove(&conn);
                    if let Some(link) = self.links.get_mut(&l) {
                        link.server_gone = true;
                    }
                    self.note_conn(client, l, Dir::Up, "closed", String::new());
                }
                Body::Opened | Body::Refused => {}
            }
            self.nodes[k].dirty = true;
            self.receive(msg.stamp);
            self.check_queue_limit(k, conn);
            self.gc_link(l);
        }
    }

    fn deliver_down(&mut self, l: u64) {
        let now = self.now;
        loop {
            let Some(link) = self.links.get_mut(&l) else {
                return;
            };
            let i = link.client;
            if link.dead {
                link.down.queue.clear();
                return;
            }
            let c = &mut self.clients[i];
            if link.zombie {
                // The broken middlebox: it answers the server's pings.
                if !link.down.queue.front().is_some_and(|m| m.at <= now) {
                    return;
                }
                let Some(msg) = link.down.queue.pop_front() else {
                    return;
                };
                link.down.bytes -= msg.bytes;
                if matches!(&msg.body, Body::Frame(Frame::Text(t)) if &**t == "2") {
                    self.push(l, Dir::Up, Body::Frame(Frame::text("3".into())), None);
                }
                continue;
            }
            if c.vanished || (!c.reading && !link.client_gone) {
                return;
            }
            if !link.down.queue.front().is_some_and(|m| m.at <= now) {
                return;
            }
            let Some(msg) = link.down.queue.pop_front() else {
                return;
            };
            link.down.bytes -= msg.bytes;
            let unblock = link.down.blocked && link.down.bytes <= self.cfg.link.window / 2;
            if unblock {
                link.down.blocked = false;
            }
            let (transport, gone, conn, k) =
                (link.transport, link.client_gone, link.conn, link.node);
            if unblock {
                if let (Some(conn), Some(s)) = (conn, self.nodes[k].server.as_mut()) {
                    s.handle_write_ready(conn);
                    self.nodes[k].dirty = true;
                }
            }
            if gone {
                continue;
            }
            match msg.body {
                Body::Opened => c.client.handle_ws_opened(now, transport),
                Body::Refused => {
                    c.transports.remove(&transport);
                    c.client.handle_ws_closed(now, transport);
                }
                Body::Frame(Frame::Text(t)) => {
                    c.client.handle_ws_text(now, transport, &t);
                    self.note_conn(i, l, Dir::Down, "recv", t.to_string());
                }
                Body::Frame(Frame::Binary(b)) => {
                    c.client.handle_ws_binary(now, transport, &b);
                    self.note_conn(
                        i,
                        l,
                        Dir::Down,
                        "recv",
                        format!("<binary {} bytes>", b.len()),
                    );
                }
                Body::Close => {
                    c.transports.remove(&transport);
                    c.client.handle_ws_closed(now, transport);
                    if let Some(link) = self.links.get_mut(&l) {
                        link.client_gone = true;
                    }
                    self.note_conn(i, l, Dir::Down, "closed", String::new());
                }
            }
            self.dirty.push(i);
            self.receive(msg.stamp);
            self.gc_link(l);
        }
    }

    fn gc_link(&mut self, l: u64) {
        let done = self.links.get(&l).is_some_and(|k| {
            (k.dead || (k.client_gone && k.server_gone))
                && k.up.queue.is_empty()
                && k.down.queue.is_empty()
        });
        if done {
            if let Some(link) = self.links.remove(&l) {
                if let Some(conn) = link.conn {
                    let links = &mut self.nodes[link.node].conn_links;
                    if links.get(&conn) == Some(&l) {
                        links.remove(&conn);
                    }
                }
            }
        }
    }

    fn http_arrive(&mut self, e: u64) {
        let Some(ex) = self.exchanges.get(&e) else {
            return;
        };
        if ex.dead {
            return;
        }
        let (client, k) = (ex.client, ex.node);
        match self.accepting(k) {
            Err(true) => return self.hung.push(Ev::HttpArrive(e)),
            Err(false) => {
                if let Some(ex) = self.exchanges.get_mut(&e) {
                    ex.state = ExState::ToClient;
                    ex.response = None;
                }
                self.note_conn(client, e, Dir::Down, "http-refused", String::new());
                let latency = self.latency(client);
                return self.schedule(self.now + latency, Ev::HttpReply(e));
            }
            Ok(()) => {}
        }
        let req = self.id();
        let Some(ex) = self.exchanges.get_mut(&e) else {
            return;
        };
        let Some(http) = ex.http.take() else { return };
        ex.state = ExState::AtServer(req);
        let stamp = ex.stamp.take();
        self.srv_requests.insert(req, e);
        let now = self.now;
        if let Some(s) = self.nodes[k].server.as_mut() {
            s.handle_http(now, req, http);
        }
        self.nodes[k].dirty = true;
        self.receive(stamp);
    }

    fn http_reply(&mut self, e: u64) {
        let Some(ex) = self.exchanges.remove(&e) else {
            return;
        };
        let i = ex.client;
        let now = self.now;
        if ex.dead {
            return;
        }
        let c = &mut self.clients[i];
        if c.vanished {
            return;
        }
        if c.requests.remove(&ex.request).is_none() {
            return;
        }
        match &ex.response {
            Some(r) => {
                let data = format!("{} {}", r.status, String::from_utf8_lossy(&r.body));
                c.client
                    .handle_http_response(now, ex.request, r.status, r.content_type, &r.body);
                self.note_conn(i, e, Dir::Down, "http-response", data);
            }
            None => {
                c.client.handle_http_failed(now, ex.request);
                self.note_conn(i, e, Dir::Down, "http-failed", String::new());
            }
        }
        self.dirty.push(i);
        self.receive(ex.stamp);
    }

    /// Moves every output of the server and of the dirty clients onto the
    /// network, runs the clients' reactions, and re-arms the timers.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            for k in 0..self.nodes.len() {
                if self.nodes[k].dirty {
                    self.nodes[k].dirty = false;
                    moved |= self.drain_server(k);
                    self.arm_server(k);
                }
            }
            while let Some(i) = self.dirty.pop() {
                moved = true;
                self.drain_client(i);
            }
            if !moved && !self.nodes.iter().any(|n| n.dirty) && self.dirty.is_empty() {
                return;
            }
        }
    }

    fn drain_server(&mut self, k: usize) -> bool {
        let mut moved = false;
        loop {
            let Some(server) = self.nodes[k].server.as_mut() else {
                return moved;
            };
            if let Some(message) = server.poll_cluster_message() {
                moved = true;
                self.bus_send(k, message);
                continue;
            }
            if let Some((conn, t)) = server.poll_transmit() {
                moved = true;
                let Some(&l) = self.nodes[k].conn_links.get(&conn) else {
                    continue;
                };
                let Some(link) = self.links.get(&l) else {
                    continue;
                };
                let client = link.client;
                match t {
                    Transmit::Frame(frame) => {
                        let version = self.clients[client].spec.version;
                        let count = frame_messages(version, &frame);
                        let sid = self
                            .node(k)
                            .and_then(|s| s.server().any_connection(conn))
                            .map(|c| c.sid().to_owned());
                        let stamp = self.stamp(client, sid.as_deref(), Dir::Down, count);
                        let texts = sio_texts(version, Some(&frame), None);
                        self.check_ack_answers(client, sid.as_deref(), texts);
                        self.summary.packets += 1;
                        self.note_conn(client, l, Dir::Down, "send", frame_text(&frame));
                        self.frames_down += 1;
                        let duplicate = self.cfg.bug == Some(LinkBug::DuplicateDown)
                            && self.frames_down % 7 == 0;
                        let drop = self.cfg.bug == Some(LinkBug::DropAcksDown)
                            && matches!(&frame, Frame::Text(t) if t.starts_with("43"));
                        if drop {
                            continue;
                        }
                        if duplicate {
                            self.push(l, Dir::Down, Body::Frame(frame.clone()), stamp.clone());
                        }
                        self.push(l, Dir::Down, Body::Frame(frame), stamp);
                    }
                    Transmit::Close => {
                        self.nodes[k].conn_links.remove(&conn);
                        if let Some(link) = self.links.get_mut(&l) {
                            link.server_gone = true;
                        }
                        self.note_conn(client, l, Dir::Down, "close", String::new());
                        self.push(l, Dir::Down, Body::Close, None);
                    }
                }
                continue;
            }
            if let Some((req, response)) = server.poll_http_response() {
                moved = true;
                let Some(e) = self.srv_requests.remove(&req) else {
                    continue;
                };
                let Some(ex) = self.exchanges.get(&e) else {
                    continue;
                };
                let client = ex.client;
                let sid = ex.sid.clone();
                let version = self.clients[client].spec.version;
                let count = body_messages(version, &response.body, response.content_type);
                let stamp = self.stamp(client, sid.as_deref(), Dir::Down, count);
                let texts = sio_texts(version, None, Some((&response.body, response.content_type)));
                self.check_ack_answers(client, sid.as_deref(), texts);
                let latency = self.latency(client);
                let at = self.now + self.cfg.link.serialization(response.body.len()) + latency;
                if let Some(ex) = self.exchanges.get_mut(&e) {
                    ex.state = ExState::ToClient;
                    ex.response = Some(response);
                    ex.stamp = stamp;
                }
                self.schedule(at, Ev::HttpReply(e));
                continue;
            }
            return moved;
        }
    }

    fn arm_server(&mut self, k: usize) {
        let Some(t) = self.node(k).and_then(AppServer::poll_timeout) else {
            return;
        };
        let at = t.max(self.now);
        let node = &mut self.nodes[k];
        if node.timer.map_or(true, |s| at < s) {
            node.timer = Some(at);
            let generation = node.generation;
            self.schedule(at, Ev::ServerTimer(k, generation));
        }
    }

    // ---- the cluster bus ----------------------------------------------------

    /// Publishes a node's cluster message: one copy to every other node
    /// that is up, each after the bus latency, FIFO per pair of nodes
    /// (a message to a node that is down is lost, as on Redis pub/sub).
    fn bus_send(&mut self, from: usize, message: ClusterMessage) {
        let summary = bus_summary(&message);
        self.note(&format!("node{from}"), "bus-send", summary);
        for to in 0..self.nodes.len() {
            if to == from || self.nodes[to].server.is_none() {
                continue;
            }
            let latency = self.cfg.bus_latency.sample(&mut self.bus_rng);
            let last = self.bus_last.get(&(from, to)).copied().unwrap_or(self.now);
            let at = (self.now + latency).max(last);
            self.bus_last.insert((from, to), at);
            let id = self.id();
            self.bus.insert(id, (to, message.clone()));
            self.summary.bus_messages += 1;
            self.schedule(at, Ev::Bus(id));
        }
    }

    fn bus_deliver(&mut self, id: u64) {
        let Some((to, message)) = self.bus.remove(&id) else {
            return;
        };
        let now = self.now;
        let summary = bus_summary(&message);
        let Some(server) = self.nodes[to].server.as_mut() else {
            return;
        };
        server.handle_cluster_message(now, message);
        self.nodes[to].dirty = true;
        self.note(&format!("node{to}"), "bus-recv", summary);
    }

    fn drain_client(&mut self, i: usize) {
        while let Some(t) = self.clients[i].client.poll_transmit() {
            if self.clients[i].vanished {
                continue;
            }
            self.client_transmit(i, t);
        }
        while let Some(event) = self.clients[i].client.poll_event() {
            self.client_event(i, event);
        }
        let c = &mut self.clients[i];
        if c.vanished {
            return;
        }
        if let Some(t) = c.client.poll_timeout() {
            let at = t.max(self.now);
            if c.timer_at.map_or(true, |s| at < s) {
                c.timer_at = Some(at);
                self.schedule(at, Ev::ClientTimer(i));
            }
        }
    }

    fn client_event(&mut self, i: usize, event: ClientEvent) {
        let now = self.now;
        let at = self.elapsed();
        let keep = self.cfg.keep_events;
        let c = &mut self.clients[i];
        let data = match &event {
            ClientEvent::Event {
                nsp,
                name,
                args,
                ack,
            } => {
                c.seen.events_received += 1;
                if let (Some(id), true) = (ack, c.spec.auto_ack) {
                    let _ = c.client.ack(now, nsp, *id, args.clone());
                    self.dirty.push(i);
                }
                format!("event {nsp} {name} {:?}", args.values)
            }
            ClientEvent::Ack { nsp, id, result } => {
                self.summary.acks += 1;
                c.seen.acks_resolved += 1;
                let known = c.seen.pending_acks.remove(&(nsp.clone(), *id)).is_some();
                if keep {
                    c.seen.acks.insert((nsp.clone(), *id), result.clone());
                }
                let data = format!("ack {nsp} {id} {:?}", result.as_ref().map(|a| &a.values));
                if !known {
                    let detail =
                        format!("client {i}: a second or unknown outcome for ack {id} on {nsp}");
                    self.violate("ack-exactly-once", detail);
                }
                data
            }
            ClientEvent::Disconnected { nsp, reason } => {
                if *reason == ClientDisconnectReason::IoServerDisconnect {
                    c.wanted.remove(nsp);
                }
                format!("disconnected {nsp}: {reason}")
            }
            ClientEvent::Reconnected { attempt } => {
                self.summary.reconnections += 1;
                format!("reconnected after {attempt} attempts")
            }
            other => format!("{other:?}"),
        };
        if keep {
            self.clients[i].seen.events.push((at, event));
        }
        self.note(&format!("client{i}"), "event", data);
    }

    // ---- faults -------------------------------------------------------------

    fn clients_in(&self, r: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        r.start.min(self.clients.len())..r.end.min(self.clients.len())
    }

    fn fault_start(&mut self, f: usize) {
        let Some(fault) = self.faults.get(f).cloned() else {
            return;
        };
        if self.healing {
            return;
        }
        *self
            .summary
            .faults
            .entry(format!("{:?}", fault.kind()))
            .or_default() += 1;
        self.note("sim", "fault", fault.to_string());
        let now = self.now;
        match fault {
            Fault::Partition { clients, duration } => {
                for i in self.clients_in(&clients) {
                    self.clients[i].partitioned = true;
                }
                self.schedule(now + duration, Ev::FaultEnd(f));
            }
            Fault::Stall { clients, duration } => {
                for i in self.clients_in(&clients) {
                    self.clients[i].reading = false;
                }
                self.schedule(now + duration, Ev::FaultEnd(f));
            }
            Fault::Reset { clients } => {
                for i in self.clients_in(&clients) {
                    self.reset_client(i);
                }
            }
            Fault::Vanish { clients, duration } => {
                for i in self.clients_in(&clients) {
                    self.vanish(i);
                }
                self.schedule(now + duration, Ev::FaultEnd(f));
            }
            Fault::RestartServer { downtime } => {
                self.stop_nodes(None);
                self.refuse_until = None;
                self.schedule(now + downtime, Ev::ServerUp);
            }
            Fault::RestartNode { node, downtime } => {
                let k = node % self.nodes.len();
                self.stop_nodes(Some(k));
                self.schedule(now + downtime, Ev::NodeUp(k));
            }
            Fault::RefuseConnects { duration } => {
                self.refuse_until = Some(now + duration);
            }
            Fault::HangConnects { duration } => {
                self.hang_until = Some(now + duration);
                self.schedule(now + duration, Ev::FaultEnd(f));
            }
        }
    }

    fn fault_end(&mut self, f: usize) {
        let Some(fault) = self.faults.get(f).cloned() else {
            return;
        };
        self.note("sim", "fault-end", fault.to_string());
        match fault {
            Fault::Partition { clients, .. } => {
                for i in self.clients_in(&clients) {
                    self.heal_partition(i);
                }
            }
            Fault::Stall { clients, .. } => {
                for i in self.clients_in(&clients) {
                    self.resume_reading(i);
                }
            }
            Fault::Vanish { clients, .. } => {
                for i in self.clients_in(&clients) {
                    self.revive(i);
                }
            }
            Fault::HangConnects { .. } if self.hang_until.is_some_and(|t| t <= self.now) => {
                self.release_hung();
            }
            _ => {}
        }
    }

    fn swarm_fault(&mut self, k: usize) {
        if self.healing {
            return;
        }
        let Some((kind, gap)) = self.swarm.as_ref().and_then(|s| s.kinds.get(k).copied()) else {
            return;
        };
        let faults = self
            .swarm_streams
            .draw(kind, self.clients.len(), self.nodes.len());
        if faults.is_empty() {
            self.note("sim", "fault", format!("{kind:?}: no client drawn"));
        }
        for fault in faults {
            self.faults.push(fault);
            let f = self.faults.len() - 1;
            self.fault_start(f);
        }
        let next = self.swarm_streams.gap(kind, gap);
        self.schedule(self.now + next, Ev::NextSwarmFault(k));
    }

    fn release_hung(&mut self) {
        self.hang_until = None;
        let now = self.now;
        for ev in std::mem::take(&mut self.hung) {
            self.schedule(now, ev);
        }
    }

    fn heal_partition(&mut self, i: usize) {
        if !self.clients[i].partitioned {
            return;
        }
        self.clients[i].partitioned = false;
        let now = self.now;
        for ev in std::mem::take(&mut self.parked[i]) {
            self.schedule(now, ev);
        }
    }

    fn resume_reading(&mut self, i: usize) {
        let c = &mut self.clients[i];
        if c.reading || c.spec.misbehaviour == Some(Misbehaviour::NeverRead) {
            return;
        }
        c.reading = true;
        let links: Vec<u64> = c.transports.values().copied().collect();
        let now = self.now;
        for l in links {
            self.schedule(now, Ev::Deliver(l, Dir::Down));
        }
    }

    fn touch_client(&mut self, i: usize) {
        for (key, flow) in self.flows.iter_mut() {
            if key.0 == i {
                flow.touched = true;
            }
        }
    }

    fn reset_client(&mut self, i: usize) {
        self.touch_client(i);
        let now = self.now;
        let links: Vec<u64> = self.clients[i].transports.values().copied().collect();
        let mut dead: Vec<u64> = links;
        dead.extend(
            self.links
                .iter()
                .filter(|(_, k)| k.client == i)
                .map(|(l, _)| *l),
        );
        dead.sort_unstable();
        dead.dedup();
        for l in dead {
            let Some(link) = self.links.get_mut(&l) else {
                continue;
            };
            link.dead = true;
            link.up.queue.clear();
            link.down.queue.clear();
            let (transport, conn, cg, sg, k) = (
                link.transport,
                link.conn,
                link.client_gone,
                link.server_gone,
                link.node,
            );
            if !cg && !self.clients[i].vanished {
                self.clients[i].transports.remove(&transport);
                self.clients[i].client.handle_ws_closed(now, transport);
            }
            if let (Some(conn), false) = (conn, sg) {
                self.nodes[k].conn_links.remove(&conn);
                if let Some(s) = self.nodes[k].server.as_mut() {
                    s.handle_ws_closed(now, conn);
                }
            }
            self.nodes[k].dirty = true;
            self.gc_link(l);
        }
        let exchanges: Vec<u64> = self.clients[i].requests.values().copied().collect();
        for e in exchanges {
            self.fail_exchange(e, true);
        }
        self.dirty.push(i);
        let k = self.clients[i].node;
        self.nodes[k].dirty = true;
    }

    fn fail_exchange(&mut self, e: u64, tell_client: bool) {
        let Some(ex) = self.exchanges.get_mut(&e) else {
            return;
        };
        ex.dead = true;
        let (i, request, state, k) = (ex.client, ex.request, ex.state, ex.node);
        let now = self.now;
        if let ExState::AtServer(req) = state {
            self.srv_requests.remove(&req);
            if let Some(s) = self.nodes[k].server.as_mut() {
                s.handle_http_aborted(now, req);
                self.nodes[k].dirty = true;
            }
        }
        self.exchanges.remove(&e);
        if tell_client
            && !self.clients[i].vanished
            && self.clients[i].requests.remove(&request).is_some()
        {
            self.clients[i].client.handle_http_failed(now, request);
        }
    }

    fn vanish(&mut self, i: usize) {
        if self.clients[i].vanished {
            return;
        }
        self.touch_client(i);
        let (interval, timeout, _) = self.server_config;
        let slack = self.cfg.link.latency.bound().min(Duration::from_secs(2)) * 2
            + Duration::from_millis(100);
        let deadline = self.now + interval + timeout + slack;
        // The server's sessions of this client must end by the heartbeat.
        let k = self.clients[i].node;
        if let (Some(sid), Some(s)) = (self.clients[i].client.engine_sid(), self.node(k)) {
            if let Some(conn) = s.server().find_sid(sid) {
                self.detections.push((k, conn, deadline, i));
            }
        }
        let c = &mut self.clients[i];
        c.vanished = true;
        for &l in c.transports.values() {
            if let Some(link) = self.links.get_mut(&l) {
                link.zombie = self.cfg.bug == Some(LinkBug::AnswerPingsForVanished);
                link.dead = !link.zombie;
                link.client_gone = true;
            }
        }
        c.transports.clear();
        let exchanges: Vec<u64> = c.requests.values().copied().collect();
        for e in exchanges {
            if let Some(ex) = self.exchanges.get_mut(&e) {
                ex.dead = true;
            }
        }
    }

    fn revive(&mut self, i: usize) {
        let c = &mut self.clients[i];
        if !c.vanished {
            return;
        }
        c.vanished = false;
        c.timer_at = None;
        // Back before the server noticed: the session may legitimately
        // resume (the client pings again), the peer is no longer silent.
        self.detections.retain(|d| d.3 != i);
        self.dirty.push(i);
        let at = self.now;
        self.schedule(at, Ev::ClientTimer(i));
        if std::mem::take(&mut self.clients[i].script_parked) {
            self.schedule(at, Ev::Script(i));
        }
    }

    /// Node `which` (every node with `None`) dies: the OS closes its
    /// sockets, its clients see closes, requests at it fail, cluster
    /// messages in flight to it are lost.
    fn stop_nodes(&mut self, which: Option<usize>) {
        let now = self.now;
        let hit = |k: usize| which.map_or(true, |w| w == k);
        for (key, flow) in self.flows.iter_mut() {
            if hit(self.clients[key.0].node) {
                flow.touched = true;
            }
        }
        let links: Vec<u64> = self
            .links
            .iter()
            .filter(|(_, link)| hit(link.node))
            .map(|(l, _)| *l)
            .collect();
        for l in links {
            let Some(link) = self.links.get_mut(&l) else {
                continue;
            };
            link.server_gone = true;
            link.conn = None;
            link.up.queue.clear();
            self.push(l, Dir::Down, Body::Close, None);
        }
        let exchanges: Vec<u64> = self
            .exchanges
            .iter()
            .filter(|(_, ex)| hit(ex.node))
            .map(|(e, _)| *e)
            .collect();
        for e in exchanges {
            if let Some(ex) = self.exchanges.get_mut(&e) {
                if let ExState::AtServer(req) = ex.state {
                    self.srv_requests.remove(&req);
                    ex.state = ExState::ToClient;
                    ex.response = None;
                    let client = ex.client;
                    let latency = self.latency(client);
                    self.schedule(now + latency, Ev::HttpReply(e));
                }
            }
        }
        self.detections.retain(|d| !hit(d.0));
        for (k, node) in self.nodes.iter_mut().enumerate() {
            if hit(k) {
                node.server = None;
                node.conn_links.clear();
            }
        }
        self.bus.retain(|_, (to, _)| !hit(*to));
        self.server_gen += 1;
        self.announce_node_count();
    }

    /// Tells every node that is up how many are (as Redis' `PUBSUB
    /// NUMSUB` would), for each of its namespaces.
    fn announce_node_count(&mut self) {
        if self.nodes.len() < 2 {
            return;
        }
        let now = self.now;
        let count = self.nodes.iter().filter(|n| n.server.is_some()).count();
        for node in &mut self.nodes {
            if let Some(server) = node.server.as_mut() {
                for nsp in server.namespaces() {
                    server.set_cluster_node_count(now, &nsp, count);
                }
                node.dirty = true;
            }
        }
    }

    // ---- invariants ---------------------------------------------------------

    /// `queue-limits`: what the server holds for one connection, its
    /// core's outbound queue plus what the transport took and the client
    /// has not read yet, stays within `max_outbound_bytes` plus the
    /// drivers' write window ([`DRIVER_WINDOW`], after which a driver must
    /// report the connection write-blocked) and one message. Fires on a
    /// core that queues past its limit and on a transport that reports
    /// write-blocked too late or never (a [`LinkConfig::window`] above the
    /// drivers').
    fn check_queue_limit(&mut self, k: usize, conn: ConnId) {
        let generation = self.nodes[k].generation;
        if self.over_limit.contains(&(generation, conn)) {
            return;
        }
        let (_, _, max) = self.server_config;
        let queued = self
            .node(k)
            .and_then(|s| s.server().connection(conn))
            .map_or(0, |c| c.outbound_bytes());
        let (in_flight, largest) = self.nodes[k]
            .conn_links
            .get(&conn)
            .and_then(|l| self.links.get(l))
            .map_or((0, 0), |l| (l.down.bytes, l.down.largest));
        let limit = max + DRIVER_WINDOW + largest;
        if queued > max || queued + in_flight > limit {
            self.over_limit.insert((generation, conn));
            self.violate(
                "queue-limits",
                format!(
                    "{conn} holds {queued} bytes queued in the core and {in_flight} in the transport, above max_outbound_bytes {max} + the drivers' window {DRIVER_WINDOW} + one message of {largest}"
                ),
            );
        }
    }

    /// `ack-exactly-once`, the server's half: each acknowledgement a
    /// client asked for is answered at most once on the wire (per session
    /// and namespace socket: a CONNECT starts the ids again).
    fn check_ack_answers(&mut self, client: usize, sid: Option<&str>, texts: Vec<String>) {
        let Some(sid) = sid else { return };
        for text in texts {
            match ack_wire(&text) {
                Some(AckWire::Connect(nsp)) => {
                    self.answered.remove(&(client, sid.to_owned(), nsp));
                }
                Some(AckWire::Answer(nsp, id)) => {
                    let fresh = self
                        .answered
                        .entry((client, sid.to_owned(), nsp.clone()))
                        .or_default()
                        .insert(id);
                    if !fresh {
                        self.violate(
                            "ack-exactly-once",
                            format!("the server answered client {client}'s ack {id} on {nsp} a second time (session {sid})"),
                        );
                    }
                }
                None => {}
            }
        }
    }

    fn check_step(&mut self) {
        self.check_journal();
        if !self.detections.is_empty() {
            let now = self.now;
            let mut late = Vec::new();
            let nodes = &self.nodes;
            self.detections.retain(|(k, conn, deadline, i)| {
                let alive = nodes[*k].server.as_ref().is_some_and(|s| {
                    s.server()
                        .any_connection(*conn)
                        .is_some_and(|c| !c.is_closed())
                });
                if alive && now > *deadline {
                    late.push((*conn, *i));
                    return false;
                }
                alive
            });
            for (conn, i) in late {
                self.violate(
                    "silent-peer-detected",
                    format!("client {i} vanished but the server still holds {conn} after ping interval + ping timeout"),
                );
            }
        }
        let invariants = self.cfg.invariants.clone();
        for (name, check) in &invariants {
            if let Err(detail) = check(self) {
                self.violate(name, detail);
            }
        }
        let goals = self.cfg.goals.clone();
        for (name, goal) in &goals {
            if !self.goals_reached.contains(name) && goal(self) {
                self.goals_reached.insert(name.clone());
            }
        }
    }

    fn check_end(&mut self) {
        let mut lost = Vec::new();
        for (key, flow) in &self.flows {
            if flow.touched || flow.sent == flow.recv {
                continue;
            }
            let (i, sid, dir) = key;
            let client = &self.clients[*i].client;
            let alive_client = client.engine_sid() == Some(&**sid);
            let alive_server = self
                .node(self.clients[*i].node)
                .is_some_and(|s| s.server().find_sid(sid).is_some());
            if alive_client && alive_server {
                lost.push(format!(
                    "client {i} session {sid} {}: {} messages sent, {} arrived",
                    dir.name(),
                    flow.sent,
                    flow.recv
                ));
            }
        }
        lost.sort();
        let in_flight = self
            .links
            .values()
            .any(|l| !l.up.queue.is_empty() || !l.down.queue.is_empty())
            || !self.exchanges.is_empty();
        if !in_flight {
            for detail in lost {
                self.violate("delivery-exactly-once-in-order", detail);
            }
        }
        for i in 0..self.clients.len() {
            let c = &self.clients[i];
            if c.spec.misbehaviour.is_some() {
                continue;
            }
            let pending: Vec<String> = c
                .seen
                .pending_acks
                .iter()
                .map(|((nsp, id), at)| format!("{nsp}#{id} (emitted at {:.3}s)", at.as_secs_f64()))
                .collect();
            if !pending.is_empty() {
                self.violate(
                    "ack-resolved",
                    format!(
                        "client {i}: acknowledgements never resolved: {}",
                        pending.join(", ")
                    ),
                );
            }
        }
    }
}

/// Scripts one client from the test: [`Sim::client`].
pub struct ClientHandle<'a, D: 'static> {
    sim: &'a mut Sim<D>,
    i: usize,
}

impl<D: 'static> fmt::Debug for ClientHandle<'_, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandle")
            .field("client", &self.i)
            .finish()
    }
}

impl<D: Default + Send + 'static> ClientHandle<'_, D> {
    fn done(&mut self) {
        self.sim.dirty.push(self.i);
        self.sim.pump();
    }

    /// Joins `nsp`.
    pub fn connect(&mut self, nsp: &str) {
        let now = self.sim.now;
        let c = &mut self.sim.clients[self.i];
        c.wanted.insert(nsp.to_owned());
        c.closed = false;
        if let Err(e) = c.client.connect_namespace(now, nsp, None) {
            log::debug!("client {}: {e}", self.i);
        }
        self.done();
    }

    /// Emits `event` (an array: several arguments).
    pub fn emit(&mut self, nsp: &str, event: &str, args: Value) {
        let now = self.sim.now;
        if let Err(e) = self.sim.clients[self.i]
            .client
            .emit(now, nsp, event, to_args(&args))
        {
            log::debug!("client {}: {e}", self.i);
        }
        self.done();
    }

    /// Emits `event` asking for an acknowledgement; its outcome shows in
    /// [`Observed::acks`] ([`Sim::wait_ack`] waits for it).
    pub fn emit_with_ack(
        &mut self,
        nsp: &str,
        event: &str,
        args: Value,
        timeout: Duration,
    ) -> Option<AckId> {
        let now = self.sim.now;
        let at = self.sim.elapsed();
        let c = &mut self.sim.clients[self.i];
        let id = c
            .client
            .emit_with_ack(now, nsp, event, to_args(&args), Some(timeout))
            .ok()?;
        c.seen.pending_acks.insert((nsp.to_owned(), id), at);
        self.done();
        Some(id)
    }

    /// Leaves `nsp`.
    pub fn disconnect(&mut self, nsp: &str) {
        let now = self.sim.now;
        let c = &mut self.sim.clients[self.i];
        c.wanted.remove(nsp);
        let _ = c.client.disconnect_namespace(now, nsp);
        self.done();
    }

    /// Closes the client.
    pub fn close(&mut self) {
        let now = self.sim.now;
        let c = &mut self.sim.clients[self.i];
        c.wanted.clear();
        c.closed = true;
        c.client.close(now);
        self.done();
    }

    /// True when `nsp` is connected.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.sim.clients[self.i].client.is_connected(nsp)
    }

    /// The events received so far.
    pub fn events(&self) -> &[(Duration, ClientEvent)] {
        &self.sim.clients[self.i].seen.events
    }
}

impl<D: Default + Send + 'static> Sim<D> {
    /// Runs until the outcome of client `i`'s acknowledgement `id` on `nsp`
    /// is known, at most `budget` of virtual time.
    pub fn wait_ack(
        &mut self,
        i: usize,
        nsp: &str,
        id: AckId,
        budget: Duration,
    ) -> Option<Result<Args, AckFailure>> {
        let key = (nsp.to_owned(), id);
        self.run_until(budget, |s| s.clients[i].seen.acks.contains_key(&key));
        self.clients[i].seen.acks.get(&key).cloned()
    }

    /// Runs until client `i` is connected to `nsp`, at most `budget`.
    pub fn wait_connected(&mut self, i: usize, nsp: &str, budget: Duration) -> bool {
        self.run_until(budget, |s| s.clients[i].client.is_connected(nsp))
    }

    /// Rewrites every journal entry before the checks see it (each entry
    /// becomes the entries `tamper` returns): a test-only way to fake a late
    /// handler run or a wrong recipient and show the invariants are live.
    #[doc(hidden)]
    pub fn tamper_journal_for_test(
        &mut self,
        tamper: impl FnMut(JournalEntry) -> Vec<JournalEntry> + 'static,
    ) {
        self.tamper = Some(Box::new(tamper));
    }

    /// The journal's two invariants: `no-handler-after-disconnect` and
    /// `room-broadcast-exact`.
    fn check_journal(&mut self) {
        let batch = match self.journal.lock() {
            Ok(mut journal) => std::mem::take(&mut *journal),
            Err(_) => return,
        };
        for (generation, entry) in batch {
            let entries = match self.tamper.as_mut() {
                Some(tamper) => tamper(entry),
                None => vec![entry],
            };
            for entry in entries {
                self.check_entry(generation, entry);
            }
        }
    }

    fn check_entry(&mut self, generation: u32, entry: JournalEntry) {
        match entry {
            JournalEntry::Handler {
                conn,
                nsp,
                socket,
                kind,
            } => {
                self.summary.handler_runs += 1;
                let gone = self.departed.get(&(generation, conn, nsp.clone()));
                let late = match (&socket, gone) {
                    (Some(id), Some(gone)) => gone.contains(id),
                    // No state for the socket, after one left here.
                    (None, Some(_)) => true,
                    (_, None) => false,
                };
                if late {
                    let id = socket.as_deref().unwrap_or("?");
                    self.violate(
                        "no-handler-after-disconnect",
                        format!("{kind:?} handler ran for socket {id} ({conn} {nsp}) after its disconnect"),
                    );
                }
            }
            JournalEntry::Disconnected { conn, nsp, socket } => {
                self.departed
                    .entry((generation, conn, nsp))
                    .or_default()
                    .push(socket);
            }
            JournalEntry::Broadcast {
                selector,
                event,
                recipients,
                members,
            } => {
                self.summary.broadcasts_checked += 1;
                let expected: BTreeSet<ConnId> = members
                    .iter()
                    .filter(|(_, rooms)| {
                        (selector.rooms.is_empty()
                            || rooms.iter().any(|r| selector.rooms.contains(r)))
                            && !rooms.iter().any(|r| selector.except.contains(r))
                    })
                    .map(|(conn, _)| *conn)
                    .collect();
                let actual: BTreeSet<ConnId> = recipients.iter().copied().collect();
                if expected != actual || actual.len() != recipients.len() {
                    let extra: Vec<_> = actual.difference(&expected).collect();
                    let missing: Vec<_> = expected.difference(&actual).collect();
                    self.violate(
                        "room-broadcast-exact",
                        format!(
                            "{event:?} to {} rooms {:?} except {:?}: extra {extra:?}, missing {missing:?}",
                            selector.nsp, selector.rooms, selector.except
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    #[doc(hidden)]
    pub fn forget_ack_for_test(&mut self, i: usize, nsp: &str, id: AckId) {
        self.clients[i]
            .seen
            .pending_acks
            .remove(&(nsp.to_owned(), id));
    }

    /// Applies a fault now (outside any timeline).
    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
        let f = self.faults.len() - 1;
        let was = self.healing;
        self.healing = false;
        self.fault_start(f);
        self.healing = was;
        self.pump();
    }

    /// The kinds of fault applied so far.
    pub fn faults_applied(&self) -> Vec<FaultKind> {
        let mut kinds: Vec<FaultKind> = self.faults.iter().map(Fault::kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

#[cfg(test)]
mod tests {
    use super::{ack_wire, AckWire};

    #[test]
    fn ack_wire_reads_answers_and_connects() {
        let answer = |nsp: &str, id| Some(AckWire::Answer(nsp.to_owned(), id));
        assert_eq!(ack_wire("312[\"x\"]"), answer("/", 12));
        assert_eq!(ack_wire("3/admin,7[]"), answer("/admin", 7));
        assert_eq!(
            ack_wire("61-/admin,3[{\"_placeholder\":true,\"num\":0}]"),
            answer("/admin", 3)
        );
        assert_eq!(ack_wire("61-9[]"), answer("/", 9));
        assert_eq!(
            ack_wire("0/admin?x=1,{\"sid\":\"a\"}"),
            Some(AckWire::Connect("/admin".to_owned()))
        );
        assert_eq!(ack_wire("3[1]"), None);
        assert_eq!(ack_wire("2[\"ev\"]"), None);
        assert_eq!(ack_wire("é"), None);
        assert_eq!(ack_wire(""), None);
    }
}
