//! The command line: a case (a preset of a scenario) or a scenario, then
//! options that override the preset.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// What the clients do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Open C connections as fast as possible, hold them `--settle` s.
    Storm,
    /// Connect with long-polling, upgrade to WebSocket; done when upgraded.
    UpgradeStorm,
    /// C clients keep W `message` packets in flight (`message-back`).
    Echo,
    /// The same with `message-with-ack` and acknowledgements.
    Ack,
    /// C receivers; one emitter keeps W `broadcast`s in flight.
    Fanout,
    /// Receivers `join` R rooms; the emitter keeps W `room-broadcast`s in
    /// flight, one room after the other.
    RoomFanout,
    /// Hold C connections; measure the idle server.
    Idle,
}

impl Scenario {
    /// The scenario's name in the JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Storm => "storm",
            Scenario::UpgradeStorm => "upgrade-storm",
            Scenario::Echo => "echo",
            Scenario::Ack => "ack",
            Scenario::Fanout => "fanout",
            Scenario::RoomFanout => "room-fanout",
            Scenario::Idle => "idle",
        }
    }
}

/// Which transports the clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// WebSocket from the start.
    WebSocket,
    /// Long-polling only.
    Polling,
    /// Long-polling, then the upgrade.
    Upgrade,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Polling => "polling",
            Transport::Upgrade => "upgrade",
        }
    }
}

/// A run's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The case name (a preset) or the scenario's name.
    pub case: String,
    /// What the clients do.
    pub scenario: Scenario,
    /// The server's address (loopback only).
    pub host: IpAddr,
    /// The server's port.
    pub port: u16,
    /// `-c`: connections (receivers for the fan-outs).
    pub clients: usize,
    /// `-w`: packets in flight per client (broadcasts for the fan-outs).
    pub window: usize,
    /// `--payload`: bytes of the string argument.
    pub payload: usize,
    /// `--duration`: measured seconds.
    pub duration: Duration,
    /// `--warmup`: seconds of load before the measurement.
    pub warmup: Duration,
    /// `--settle`: seconds connections are held after a storm, or before
    /// the idle measurement.
    pub settle: Duration,
    /// `--timeout-ms`: bound on connecting, and on each wait.
    pub timeout: Duration,
    /// `--threads`: load threads.
    pub threads: usize,
    /// `--pid`: the server process to measure.
    pub pid: Option<u32>,
    /// `--label`: a name for the server in the output.
    pub label: String,
    /// `--eio 3|4`.
    pub eio: u8,
    /// `--transport websocket|polling|upgrade`.
    pub transport: Transport,
    /// `--nsp`: the namespace.
    pub nsp: String,
    /// `--rooms`: rooms of room-fanout (members = clients / rooms).
    pub rooms: usize,
    /// `--connecting`: connection attempts in flight per thread.
    pub connecting: usize,
    /// `--seed`: masks and client randomness.
    pub seed: u64,
    /// `--sources`: source addresses 127.0.0.1, .2, … the connections are
    /// spread over (bound before connecting); 0 picks one per
    /// [`SOCKETS_PER_SOURCE`] sockets, and 1 does not bind.
    pub sources: usize,
    /// `--source-offset`: the source address the first connection uses
    /// (helpers of `--procs` start where the previous one ended).
    pub source_offset: usize,
    /// `--procs`: processes sharing the connections of an idle run (this
    /// one measures, the others hold theirs); for more connections than
    /// one process has descriptors.
    pub procs: usize,
    /// `--hold 1`: a `--procs` helper (connect, report, hold until stdin
    /// closes).
    pub hold: bool,
    /// `--jsonl FILE`: append the JSON line there too.
    pub jsonl: Option<String>,
}

/// Connections per source address when `--sources` is automatic: below
/// the 28,232 ephemeral ports of Linux's default range, with room for
/// connections in TIME_WAIT from earlier runs.
pub const SOCKETS_PER_SOURCE: usize = 20_000;

/// The cases of the side-by-side table and their presets.
pub const CASES: &[(&str, &str)] = &[
    ("storm", "storm -c 10000 --settle 2"),
    ("echo-lat", "echo -c 1 -w 1 --payload 64"),
    ("echo-64", "echo -c 100 -w 16 --payload 64"),
    ("echo-4k", "echo -c 100 -w 16 --payload 4096"),
    ("ack-64", "ack -c 100 -w 16 --payload 64"),
    ("fanout-1k", "fanout -c 1000 -w 4 --payload 64"),
    ("fanout-10k", "fanout -c 10000 -w 4 --payload 64"),
    (
        "poll-echo",
        "echo -c 100 -w 16 --payload 64 --transport polling",
    ),
    (
        "upgrade-storm",
        "upgrade-storm -c 2000 --settle 1 --transport upgrade",
    ),
    (
        "room-fanout",
        "room-fanout -c 10000 --rooms 100 -w 4 --payload 64",
    ),
    ("idle-10k", "idle -c 10000 --settle 2"),
    ("idle-100k", "idle -c 100000 --settle 5 --timeout-ms 120000"),
];

impl Options {
    /// Parses `CASE [options]`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let Some(first) = args.first() else {
            return Err("missing the case".into());
        };
        let mut words: Vec<String> = match CASES.iter().find(|(name, _)| name == first) {
            Some((_, preset)) => preset.split_whitespace().map(str::to_owned).collect(),
            None => vec![first.clone()],
        };
        let scenario = match words[0].as_str() {
            "storm" => Scenario::Storm,
            "upgrade-storm" => Scenario::UpgradeStorm,
            "echo" => Scenario::Echo,
            "ack" => Scenario::Ack,
            "fanout" => Scenario::Fanout,
            "room-fanout" => Scenario::RoomFanout,
            "idle" => Scenario::Idle,
            other => return Err(format!("unknown case or scenario {other:?}")),
        };
        words.remove(0);
        words.extend(args[1..].iter().cloned());
        let mut o = Options {
            case: first.clone(),
            scenario,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            clients: 100,
            window: 1,
            payload: 64,
            duration: Duration::from_secs(3),
            warmup: Duration::from_millis(500),
            settle: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            threads: 0,
            pid: None,
            label: String::new(),
            eio: 4,
            transport: if scenario == Scenario::UpgradeStorm {
                Transport::Upgrade
            } else {
                Transport::WebSocket
            },
            nsp: "/".into(),
            rooms: 100,
            connecting: 64,
            seed: 1,
            sources: 0,
            source_offset: 0,
            procs: 1,
            hold: false,
            jsonl: None,
        };
        let mut it = words.into_iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let num = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag}: {v:?} is not a number"))
            };
            let secs = |v: &str| {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| format!("{flag}: {v:?} is not a number of seconds"))
            };
            match flag.as_str() {
                "--host" => {
                    o.host = if value == "localhost" {
                        IpAddr::V4(Ipv4Addr::LOCALHOST)
                    } else {
                        value
                            .parse()
                            .map_err(|_| format!("--host: {value:?} is not an IP address"))?
                    }
                }
                "--port" => {
                    o.port = value
                        .parse()
                        .map_err(|_| format!("--port: {value:?} is not a port"))?
                }
                "-c" | "--clients" => o.clients = num(&value)? as usize,
                "-w" | "--window" => o.window = num(&value)? as usize,
                "--payload" => o.payload = num(&value)? as usize,
                "--duration" => o.duration = secs(&value)?,
                "--warmup" => o.warmup = secs(&value)?,
                "--settle" => o.settle = secs(&value)?,
                "--timeout-ms" => o.timeout = Duration::from_millis(num(&value)?),
                "--threads" => o.threads = num(&value)? as usize,
                "--pid" => o.pid = Some(num(&value)? as u32),
                "--label" => o.label = value,
                "--eio" => o.eio = num(&value)? as u8,
                "--transport" => {
                    o.transport = match value.as_str() {
                        "websocket" => Transport::WebSocket,
                        "polling" => Transport::Polling,
                        "upgrade" => Transport::Upgrade,
                        _ => return Err(format!("--transport: {value:?}")),
                    }
                }
                "--nsp" => o.nsp = value,
                "--rooms" => o.rooms = num(&value)? as usize,
                "--connecting" => o.connecting = num(&value)? as usize,
                "--seed" => o.seed = num(&value)?,
                "--sources" => o.sources = num(&value)? as usize,
                "--source-offset" => o.source_offset = num(&value)? as usize,
                "--procs" => o.procs = num(&value)? as usize,
                "--hold" => o.hold = num(&value)? != 0,
                "--jsonl" => o.jsonl = Some(value),
                other => return Err(format!("unknown option {other}")),
            }
        }
        o.validate()?;
        Ok(o)
    }

    fn validate(&mut self) -> Result<(), String> {
        let loopback = match self.host {
            IpAddr::V4(v4) => v4.is_loopback(),
            IpAddr::V6(_) => false,
        };
        if !loopback {
            return Err(format!(
                "refusing {}: the load generator only talks to 127.0.0.0/8",
                self.host
            ));
        }
        if self.port == 0 {
            return Err("--port is required".into());
        }
        if !(3..=4).contains(&self.eio) {
            return Err("--eio must be 3 or 4".into());
        }
        if self.clients == 0 || self.clients > 1_000_000 {
            return Err("-c must be within 1..=1000000".into());
        }
        if self.window == 0 || self.window > 1024 {
            return Err("-w must be within 1..=1024".into());
        }
        if self.payload > 1_000_000 {
            return Err("--payload must be at most 1000000".into());
        }
        if self.scenario == Scenario::RoomFanout && (self.rooms == 0 || self.rooms > self.clients) {
            return Err("--rooms must be within 1..=clients".into());
        }
        if self.timeout.is_zero() {
            return Err("--timeout-ms must be > 0".into());
        }
        if self.threads == 0 {
            // One thread per core at most, and no more than there are clients.
            self.threads = self.clients.clamp(1, 2);
        }
        self.threads = self.threads.min(self.clients).clamp(1, 64);
        self.connecting = self.connecting.max(1);
        if self.procs == 0 || self.procs > 64 || self.procs > self.clients {
            return Err("--procs must be within 1..=min(64, clients)".into());
        }
        if (self.procs > 1 || self.hold) && self.scenario != Scenario::Idle {
            return Err("--procs is for the idle case only".into());
        }
        if self.sources > 254 {
            return Err("--sources must be within 0..=254".into());
        }
        if self.sources == 0 {
            self.sources = self.sockets().div_ceil(SOCKETS_PER_SOURCE).clamp(1, 254);
        }
        Ok(())
    }

    /// The TCP connections the run may open: one per WebSocket client,
    /// up to three per polling client (a long-poll, a POST, the upgrade).
    pub fn sockets(&self) -> usize {
        let per_client = match self.transport {
            Transport::WebSocket => 1,
            Transport::Polling | Transport::Upgrade => 3,
        };
        self.total_clients() * per_client
    }

    /// The source addresses to bind to (none: let the kernel pick).
    pub fn source_addresses(&self) -> Vec<IpAddr> {
        if self.sources <= 1 {
            return Vec::new();
        }
        (1..=self.sources as u8)
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
            .collect()
    }

    /// The transport's name in the JSON output.
    pub fn transport_name(&self) -> &'static str {
        self.transport.name()
    }

    /// The clients that take part: the receivers plus the emitter of the
    /// fan-outs.
    pub fn total_clients(&self) -> usize {
        match self.scenario {
            Scenario::Fanout | Scenario::RoomFanout => self.clients + 1,
            _ => self.clients,
        }
    }
}

/// The usage text.
pub const USAGE: &str = "\
usage: socketio-load CASE --port PORT [options]
       socketio-load free-port
       socketio-load wait-port --port PORT [--timeout-ms MS]
       socketio-load table RESULTS.jsonl

CASE is a preset (storm echo-lat echo-64 echo-4k ack-64 fanout-1k fanout-10k
poll-echo upgrade-storm room-fanout idle-10k idle-100k) or a scenario (storm
upgrade-storm echo ack fanout room-fanout idle); options after it override
the preset:
  --host IP            loopback only (default 127.0.0.1)
  -c N                 connections (receivers for the fan-outs)
  -w N                 packets (broadcasts) in flight per client
  --payload B          bytes of the string argument (default 64)
  --duration S         measured seconds (default 3)
  --warmup S           load before the measurement (default 0.5)
  --settle S           hold after a storm / before the idle measurement (1)
  --timeout-ms MS      bound on connecting and on waits (10000)
  --threads N          load threads, each one mio loop (default min(2, C))
  --connecting N       connection attempts in flight per thread (64)
  --pid PID            the server process: CPU and RSS from /proc
  --label NAME         the server's name in the output
  --eio 3|4            Engine.IO version (default 4)
  --transport T        websocket | polling | upgrade
  --nsp NSP            namespace (default /)
  --rooms R            rooms of room-fanout (default 100)
  --seed N             masks and client randomness (default 1)
  --procs P            idle: P processes share the connections (for more
                       than one process's open-file limit); this one measures
  --sources K          spread connections over 127.0.0.1..K (default: one
                       address per 20000 sockets; 1: no bind)
  --jsonl FILE         append the JSON line to FILE
Prints human lines, then one JSON object as the last line.";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Options, String> {
        Options::parse(&s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn presets_and_overrides() {
        let o = parse("echo-64 --port 3000 --duration 1").unwrap();
        assert_eq!(
            (o.scenario, o.clients, o.window, o.payload),
            (Scenario::Echo, 100, 16, 64)
        );
        assert_eq!(o.duration, Duration::from_secs(1));
        let o = parse("poll-echo --port 3000 -c 5").unwrap();
        assert_eq!((o.transport, o.clients), (Transport::Polling, 5));
        for (name, _) in CASES {
            assert!(parse(&format!("{name} --port 1")).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_other_hosts_and_bad_values() {
        assert!(parse("echo --port 3000 --host 10.0.0.1").is_err());
        assert!(parse("echo --port 3000 --host ::1").is_err());
        assert!(parse("echo --port 3000 --host 127.0.0.2").is_ok());
        assert!(parse("echo").is_err());
        assert!(parse("echo --port 3000 -w 0").is_err());
        assert!(parse("nope --port 3000").is_err());
        assert!(parse("echo --port 3000 --sources 255").is_err());
    }

    #[test]
    fn source_addresses_cover_the_ephemeral_ports() {
        // 10 k WebSockets fit one address: no bind.
        let o = parse("idle-10k --port 1").unwrap();
        assert!(o.source_addresses().is_empty());
        // 100 k need five addresses, 127.0.0.1 to .5.
        let o = parse("idle-100k --port 1").unwrap();
        let s = o.source_addresses();
        assert_eq!(s.len(), 5);
        assert_eq!(s[4], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 5)));
        // 2 k polling clients with upgrades: 6 k sockets, one address.
        let o = parse("upgrade-storm --port 1").unwrap();
        assert_eq!(o.sources, 1);
        let o = parse("echo --port 1 --sources 3").unwrap();
        assert_eq!(o.source_addresses().len(), 3);
        // Helper processes: the idle case only.
        assert_eq!(parse("idle-100k --port 1 --procs 6").unwrap().procs, 6);
        assert!(parse("echo --port 1 --procs 2").is_err());
        assert!(parse("idle --port 1 -c 2 --procs 3").is_err());
    }
}
