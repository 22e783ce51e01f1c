//! What the simulated clients do: their configuration, a script, seeded
//! random behaviour, and ways to misbehave.

use std::time::Duration;

use serde_json::Value;
use socketio_sansio::client::Transports;
use socketio_sansio::EngineVersion;

/// One step of a client's script. Steps run one after the other; a step
/// that needs the namespace connected waits for it (the client buffers
/// emits while disconnected, as socket.io-client does).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Join a namespace (opens the session if needed).
    Connect {
        /// The namespace.
        nsp: String,
        /// The CONNECT payload.
        auth: Option<Value>,
    },
    /// Emit an event (an array value: several arguments).
    Emit {
        /// The namespace.
        nsp: String,
        /// The event name.
        event: String,
        /// The arguments.
        args: Value,
    },
    /// Emit an event and expect exactly one acknowledgement outcome.
    EmitWithAck {
        /// The namespace.
        nsp: String,
        /// The event name.
        event: String,
        /// The arguments.
        args: Value,
        /// The acknowledgement timeout (`None`: the client's `ack_timeout`).
        timeout: Option<Duration>,
    },
    /// Wait, in virtual time.
    Wait(Duration),
    /// Leave a namespace.
    Disconnect(String),
    /// Close the client (every namespace, no reconnection).
    Close,
}

/// Seeded random activity after the script: every `mean_gap` on average
/// (exponentially distributed), one of `events` is emitted on `nsp`, with
/// an acknowledgement requested with probability `ack_ratio`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomBehaviour {
    /// The namespace.
    pub nsp: String,
    /// Mean time between two actions.
    pub mean_gap: Duration,
    /// The event names and arguments to choose from.
    pub events: Vec<(String, Value)>,
    /// Probability that an emit asks for an acknowledgement.
    pub ack_ratio: f64,
    /// The acknowledgement timeout of those emits.
    pub ack_timeout: Duration,
}

/// A client that breaks the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Sends a malformed packet on its WebSocket every period.
    Malformed(Duration),
    /// Emits an event every period (a flood when the period is small).
    Flood(Duration),
    /// Never reads what the server sends (a slow consumer without end).
    NeverRead,
}

/// One simulated client: the core `Client`'s settings and what it does.
///
/// ```
/// use std::time::Duration;
/// use serde_json::json;
/// use socketio_sim::ClientSpec;
/// let spec = ClientSpec::polling()
///     .connect("/")
///     .emit_with_ack("/", "set-nick", json!("ada"))
///     .wait(Duration::from_secs(1))
///     .emit("/", "chat-message", json!("hi"));
/// assert_eq!(spec.script.len(), 4);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    /// The transports.
    pub transports: Transports,
    /// The Engine.IO version.
    pub version: EngineVersion,
    /// Reconnect after an unexpected disconnection.
    pub reconnection: bool,
    /// First reconnection delay.
    pub reconnection_delay: Duration,
    /// Largest reconnection delay.
    pub reconnection_delay_max: Duration,
    /// The default acknowledgement timeout.
    pub ack_timeout: Option<Duration>,
    /// When the script starts.
    pub start_at: Duration,
    /// The script.
    pub script: Vec<Step>,
    /// Random activity after the script (stopped when the heal phase starts).
    pub random: Option<RandomBehaviour>,
    /// How the client misbehaves, if it does (misbehaving clients are
    /// left out of the heal goals and the delivery invariants).
    pub misbehaviour: Option<Misbehaviour>,
    /// Answer the server's acknowledgement requests with their arguments.
    pub auto_ack: bool,
}

impl Default for ClientSpec {
    fn default() -> Self {
        ClientSpec {
            transports: Transports::WebSocket,
            version: EngineVersion::V4,
            reconnection: true,
            reconnection_delay: Duration::from_millis(500),
            reconnection_delay_max: Duration::from_secs(5),
            ack_timeout: Some(Duration::from_secs(10)),
            start_at: Duration::ZERO,
            script: Vec::new(),
            random: None,
            misbehaviour: None,
            auto_ack: true,
        }
    }
}

impl ClientSpec {
    /// A WebSocket-only client (Engine.IO v4).
    pub fn websocket() -> Self {
        ClientSpec::default()
    }

    /// A polling-only client.
    pub fn polling() -> Self {
        ClientSpec {
            transports: Transports::Polling,
            ..ClientSpec::default()
        }
    }

    /// A client that starts with polling and upgrades to WebSocket.
    pub fn polling_then_websocket() -> Self {
        ClientSpec {
            transports: Transports::PollingThenWebSocket,
            ..ClientSpec::default()
        }
    }

    /// Sets the Engine.IO version (v3: Socket.IO rev 4).
    pub fn version(mut self, version: EngineVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets reconnection on or off.
    pub fn reconnection(mut self, on: bool) -> Self {
        self.reconnection = on;
        self
    }

    /// Sets the reconnection delays.
    pub fn reconnection_delays(mut self, first: Duration, max: Duration) -> Self {
        self.reconnection_delay = first;
        self.reconnection_delay_max = max.max(first);
        self
    }

    /// Starts the script at `at` (virtual time).
    pub fn start_at(mut self, at: Duration) -> Self {
        self.start_at = at;
        self
    }

    /// Appends a step.
    pub fn step(mut self, step: Step) -> Self {
        self.script.push(step);
        self
    }

    /// Appends [`Step::Connect`] without auth.
    pub fn connect(self, nsp: &str) -> Self {
        self.step(Step::Connect {
            nsp: nsp.to_owned(),
            auth: None,
        })
    }

    /// Appends [`Step::Emit`].
    pub fn emit(self, nsp: &str, event: &str, args: Value) -> Self {
        self.step(Step::Emit {
            nsp: nsp.to_owned(),
            event: event.to_owned(),
            args,
        })
    }

    /// Appends [`Step::EmitWithAck`] with the default timeout.
    pub fn emit_with_ack(self, nsp: &str, event: &str, args: Value) -> Self {
        self.step(Step::EmitWithAck {
            nsp: nsp.to_owned(),
            event: event.to_owned(),
            args,
            timeout: None,
        })
    }

    /// Appends [`Step::Wait`].
    pub fn wait(self, d: Duration) -> Self {
        self.step(Step::Wait(d))
    }

    /// Appends [`Step::Disconnect`].
    pub fn disconnect(self, nsp: &str) -> Self {
        self.step(Step::Disconnect(nsp.to_owned()))
    }

    /// Appends [`Step::Close`].
    pub fn close(self) -> Self {
        self.step(Step::Close)
    }

    /// Random activity after the script.
    pub fn random(mut self, behaviour: RandomBehaviour) -> Self {
        self.random = Some(behaviour);
        self
    }

    /// Makes the client misbehave.
    pub fn misbehave(mut self, how: Misbehaviour) -> Self {
        self.misbehaviour = Some(how);
        self
    }
}
