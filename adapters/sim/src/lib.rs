//! # socketio-sim
//!
//! Deterministic simulation testing of [`socketio_sansio`] applications.
//! A driver like the others: it serves the same [`App`](socketio_sansio::app::App)
//! the blocking and mio drivers serve, with the same core, but over a
//! simulated network on a virtual clock instead of sockets. One seed gives
//! one run, byte for byte.
//!
//! * **[`Sim`]** owns the virtual clock (it jumps to the next event, never
//!   sleeps), an event queue ordered by `(time, sequence)` and a seeded
//!   generator split into named streams ([`Rng::stream`]: the network and
//!   the behaviour of each client, the faults, the swarm, the server's
//!   `RandomSource`), so adding a client does not change what the others
//!   draw.
//! * **Clients** ([`ClientSpec`]) are core
//!   [`Client`](socketio_sansio::client::Client)s over WebSocket, polling or
//!   polling → upgrade, Engine.IO v3 or v4, with reconnection, driven by a
//!   script ([`Step`]), seeded random activity ([`RandomBehaviour`]) or
//!   misbehaving ([`Misbehaviour`]); [`Sim::client`] scripts one from the
//!   test.
//! * **The network** ([`LinkConfig`]): per connection and direction a
//!   latency distribution ([`Latency`]), FIFO order, bandwidth and a window
//!   (the server's writes block when a slow reader's window fills); each
//!   polling request is its own exchange with its own latency.
//! * **Faults** ([`Fault`]): partitions (frozen, nothing lost), stalls
//!   (slow readers), resets, half-open connections ([`Fault::Vanish`]),
//!   server restarts, refused and hanging connects; scripted
//!   ([`SimBuilder::fault_at`]) or in swarm mode ([`SimBuilder::swarm`]),
//!   in a chaos phase followed by a heal phase ([`Sim::run`]). Each fault
//!   kind draws from its own stream and each client decides from its own
//!   whether a fault hits it, so the minimizer's smaller runs keep the
//!   faults of what remains.
//! * **Nodes** ([`SimBuilder::nodes`]): several servers of the same app
//!   joined over a cluster bus whose messages travel through the event
//!   queue (in the trace, with their own latency); each client sticks to
//!   one node ([`SimBuilder::node_of`]); [`Fault::RestartNode`] restarts
//!   one of them.
//! * **Invariants** ([`INVARIANTS`]) checked after every step and at the
//!   end, each reported by name, plus the user's
//!   ([`SimBuilder::invariant`]) and "sometimes" goals
//!   ([`SimBuilder::sometimes`]).
//! * **Seeds**: [`check`] runs the seeds of `SOCKETIO_SIM_SEED`,
//!   `SOCKETIO_SIM_RUNS`, `SOCKETIO_SIM_TIME_LIMIT`, shrinks a failure
//!   ([`minimize`]) and prints the line that reproduces it;
//!   [`self_check`] runs a seed twice and names the first diverging event.
//! * **Trace** ([`Trace`]): every event hashed, kept on demand, written as
//!   JSONL, a readable timeline or a self-contained HTML picture.
//!
//! ## Testing your application deterministically
//!
//! ```
//! use std::time::Duration;
//! use serde_json::json;
//! use socketio_sansio::app::{App, Namespace};
//! use socketio_sim::{check, ClientSpec, Sim};
//!
//! fn my_app() -> App {
//!     App::new().ns("/", Namespace::new().on_connection(|socket| {
//!         socket.on("echo", |socket, args, ack| {
//!             if let Some(ack) = ack {
//!                 ack.send(socket, args);
//!             }
//!         });
//!     }))
//! }
//!
//! // Every seed: 5 clients, faults picked by the seed, 20 s of chaos,
//! // then everything must heal. A failure panics with a one-line repro.
//! check(&[1, 2, 3], |seed| {
//!     Sim::builder(my_app)
//!         .seed(seed)
//!         .clients(5, |i| ClientSpec::websocket().connect("/").emit_with_ack("/", "echo", json!(i)))
//!         .swarm()
//!         .chaos(Duration::from_secs(20))
//! });
//! ```
//!
//! Step by step, with one client scripted from the test:
//!
//! ```
//! use std::time::Duration;
//! use serde_json::json;
//! # use socketio_sansio::app::{App, Namespace};
//! use socketio_sim::{ClientSpec, Fault, Sim};
//! # fn my_app() -> App {
//! #     App::new().ns("/", Namespace::new().on_connection(|socket| {
//! #         socket.on("echo", |socket, args, ack| { if let Some(ack) = ack { ack.send(socket, args); } });
//! #     }))
//! # }
//! let mut sim = Sim::builder(my_app).seed(7).clients(2, |_| ClientSpec::polling().connect("/")).build();
//! assert!(sim.wait_connected(1, "/", Duration::from_secs(5)));
//! sim.inject(Fault::Partition { clients: 1..2, duration: Duration::from_secs(1) });
//! let id = sim.client(1).emit_with_ack("/", "echo", json!("hi"), Duration::from_secs(10)).unwrap();
//! let ack = sim.wait_ack(1, "/", id, Duration::from_secs(10)).unwrap();
//! assert_eq!(ack.unwrap().values, [json!("hi")]);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod clock;
mod faults;
mod link;
mod rng;
mod runner;
mod sim;
mod spec;
mod trace;

pub use clock::VirtualClock;
pub use faults::{Fault, FaultKind, Swarm};
pub use link::{Latency, LinkConfig};
pub use rng::Rng;
pub use runner::{check, minimize, self_check, Minimized, Seeds};
#[doc(hidden)]
pub use sim::LinkBug;
pub use sim::{
    ClientHandle, Observed, Report, Sim, SimBuilder, Summary, Violation, DRIVER_WINDOW, INVARIANTS,
};
pub use spec::{ClientSpec, Misbehaviour, RandomBehaviour, Step};
pub use trace::{Trace, TraceEvent};
