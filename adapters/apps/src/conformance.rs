//! The conformance server: one application definition, served by every
//! driver. Contract (every protocol generation on one port):
//!
//! `cargo run --release -p socketio-blocking --example conformance -- --port PORT [--ping-interval MS] [--ping-timeout MS] [--redis redis://HOST:PORT] [--node-name NAME] [--recovery MS] [--parser json|msgpack]`
//! (and the same CLI for `-p socketio-mio --example mio_conformance`)
//!
//! * binds 127.0.0.1:PORT, path `/socket.io/`, `maxPayload` 1000000,
//!   ping interval/timeout 300/200 ms unless given;
//! * with `--redis URL`: joins the cluster of that Redis server as
//!   `@socket.io/redis-adapter` 8.x does (key prefix `socket.io`, namespace
//!   `/`); `broadcast`, `room-broadcast`, `fetch-sockets`, `ack-all` and
//!   `disconnect-room` below then act on the sockets of every node, and
//!   `server-side-emit` reaches the other nodes. `--node-name NAME` (the
//!   port by default) is how this node answers `hello`;
//! * with `--recovery MS`: connection state recovery on (socket.io's
//!   `connectionStateRecovery` with `maxDisconnectionDuration` MS and
//!   `skipMiddlewares`): CONNECT answers carry `pid`, events without an
//!   ack carry an offset as their last argument (the `auth` event
//!   included), and a client cut from its transport comes back with the
//!   same socket id, rooms and the events it missed;
//! * with `--parser msgpack`: every Engine.IO v4 client uses
//!   `socket.io-msgpack-parser`'s format (one binary message per packet);
//!   Engine.IO v3 handshakes get 400 code 5 and 0.9 clients are not served
//!   (the default `--parser json` serves every generation);
//! * namespaces `/` and `/custom` (others get `{"message":"Invalid namespace"}`);
//! * on connection: emits `auth` with the handshake auth (`{}` when none);
//! * `message` → `message-back` with the same arguments (binary included);
//! * `message-with-ack` → acknowledged with the same arguments;
//! * `broadcast` → `broadcast` with the same arguments to every socket of `/`;
//! * `emit-with-ack` → the server emits `emit-with-ack` with the same
//!   arguments asking for an ack, then emits `emit-with-ack-result` with the
//!   client's ack arguments;
//! * `disconnect-me` → the server disconnects that socket;
//! * `join` with a room name → the socket joins the room and acknowledges
//!   with `true`;
//! * `room-broadcast` with `(room, ...args)` → `room-broadcast` with `args`
//!   to every socket of `/` in that room;
//! * `fetch-sockets` → acknowledged with the sorted list of the ids of every
//!   socket of `/`;
//! * `ack-all` with `(ms)` → the server emits `ack-all-ping` to every socket
//!   of `/` with an acknowledgement and a timeout of `ms`, then acknowledges
//!   the caller with the number of answers it got;
//! * `disconnect-room` with `(room)` → every socket of `/` in that room is
//!   disconnected from the server side (the namespace only, as
//!   `io.of("/").in(room).disconnectSockets(false)`), after acknowledging
//!   the caller with `true` (other nodes follow when the request reaches
//!   them);
//! * `server-side-emit` with `(...args)` → the server emits `hello` with
//!   `args` to the other servers of the cluster with an acknowledgement
//!   timeout of 2 s (socket.io's `serverSideEmit` with a callback),
//!   each answering with its node name, then acknowledges the caller with
//!   the sorted list of the answers it got (`[]` without a cluster);
//!   `hello` from another server is answered with `--node-name`;
//! * Socket.IO 0.9 clients on the same port (`/socket.io/1/`, WebSocket and
//!   xhr-polling): endpoints `""` and `/custom`; `auth` carries the connect
//!   query as an object; the events above work the same (a data-ack request
//!   on `message-with-ack` is answered with the same args); a `message`
//!   packet (3) is echoed as a `message` packet, a `json` packet (4) as a
//!   `json` packet; `broadcast` reaches the 0.9, 2.x and 4.x sockets of `/`;
//!   heartbeat interval = ping interval, heartbeat and close timeouts = ping
//!   interval + ping timeout;
//! * a bare Engine.IO endpoint at `/engine.io/` (same ping settings and
//!   `maxPayload`) that echoes every message, text or binary, unchanged;
//! * a request with a missing or unsupported `EIO` gets HTTP 400
//!   `{"code":5,"message":"Unsupported protocol version"}`; an unknown
//!   transport 400 code 0. Stops on SIGTERM; prints nothing per message.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};
use socketio_sansio::app::{App, Namespace, RecoveryConfig, Socket};
use socketio_sansio::legacy::LegacyConfig;
use socketio_sansio::{Args, Config, ConfigBuilder, Parser};

/// How long the server waits for the client's answer to `emit-with-ack`.
const EMIT_WITH_ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `server-side-emit` waits for the other servers' answers.
const SERVER_SIDE_EMIT_TIMEOUT: Duration = Duration::from_secs(2);

/// The conformance server's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--port PORT` (required).
    pub port: u16,
    /// `--ping-interval MS` (default 300).
    pub ping_interval: Duration,
    /// `--ping-timeout MS` (default 200).
    pub ping_timeout: Duration,
    /// `--redis redis://HOST:PORT`: the Redis server of the cluster to
    /// join (none by default).
    pub redis: Option<String>,
    /// `--node-name NAME`: this node's answer to `hello` (default: the
    /// port).
    pub node_name: String,
    /// `--recovery MS`: connection state recovery with that maximum
    /// disconnection duration (off by default).
    pub recovery: Option<Duration>,
    /// `--parser json|msgpack`: the Socket.IO parser of every client
    /// (default `json`).
    pub parser: Parser,
}

/// A command line that is not the contract's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\nusage: --port PORT [--ping-interval MS] [--ping-timeout MS] [--redis URL] [--node-name NAME] [--recovery MS] [--parser json|msgpack]",
            self.0
        )
    }
}

impl std::error::Error for UsageError {}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options, UsageError> {
        let mut port = None;
        let mut ping_interval = 300;
        let mut ping_timeout = 200;
        let mut redis = None;
        let mut node_name = None;
        let mut recovery = None;
        let mut parser = Parser::Json;
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| UsageError(format!("{flag} needs a value")))?;
            let number = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| UsageError(format!("{flag}: {v:?} is not a number")))
            };
            match flag.as_str() {
                "--port" => {
                    port = Some(
                        value
                            .parse::<u16>()
                            .map_err(|_| UsageError(format!("--port: {value:?} is not a port")))?,
                    )
                }
                "--ping-interval" => ping_interval = number(&value)?,
                "--ping-timeout" => ping_timeout = number(&value)?,
                "--redis" => redis = Some(value),
                "--node-name" => node_name = Some(value),
                "--recovery" => recovery = Some(Duration::from_millis(number(&value)?)),
                "--parser" => {
                    parser = value
                        .parse()
                        .map_err(|e| UsageError(format!("--parser: {e}")))?
                }
                other => return Err(UsageError(format!("unknown option {other}"))),
            }
        }
        let port = port.ok_or_else(|| UsageError("--port is required".into()))?;
        if ping_interval == 0 || ping_timeout == 0 {
            return Err(UsageError("ping interval and timeout must be > 0".into()));
        }
        Ok(Options {
            port,
            ping_interval: Duration::from_millis(ping_interval),
            ping_timeout: Duration::from_millis(ping_timeout),
            redis,
            node_name: node_name.unwrap_or_else(|| port.to_string()),
            recovery,
            parser,
        })
    }

    /// Parses the process's arguments; on a usage error prints it and
    /// exits with status 2 (for the examples' `main`).
    pub fn from_env_or_exit() -> Options {
        match Options::parse(std::env::args().skip(1)) {
            Ok(options) => options,
            Err(e) => {
                eprintln!("conformance: {e}");
                std::process::exit(2)
            }
        }
    }

    /// The protocol configuration of the contract.
    pub fn config(&self) -> ConfigBuilder {
        let heartbeat_timeout = self.ping_interval + self.ping_timeout;
        Config::builder()
            .ping_interval(self.ping_interval)
            .ping_timeout(self.ping_timeout)
            .max_payload(1_000_000)
            .engine_path("/engine.io/")
            .parser(self.parser)
            .legacy(LegacyConfig {
                heartbeat_interval: self.ping_interval,
                heartbeat_timeout,
                close_timeout: heartbeat_timeout,
                ..LegacyConfig::default()
            })
    }
}

/// The conformance application of the node `options` describe (its
/// name answers `hello`).
pub fn app(options: &Options) -> App {
    // Event handlers are registered once for the namespace (no per-socket
    // registration: a connection costs no handler table).
    let namespace = Namespace::new()
        .on_connection(on_connection)
        .on("message", |socket, args, _| {
            socket.emit("message-back", args)
        })
        .on("message-with-ack", |socket, args, ack| {
            if let Some(ack) = ack {
                ack.send(socket, args);
            }
        })
        .on("broadcast", |socket, args, _| {
            socket.of("/").emit("broadcast", args)
        })
        .on("emit-with-ack", |socket, args, _| {
            socket.emit_with_ack(
                "emit-with-ack",
                args,
                Some(EMIT_WITH_ACK_TIMEOUT),
                |socket, answer| match answer {
                    Ok(answer) => socket.emit("emit-with-ack-result", answer),
                    Err(e) => log::debug!("emit-with-ack: {e}"),
                },
            );
        })
        .on("disconnect-me", |socket, _, _| socket.disconnect())
        .on("join", |socket, args, ack| {
            let Some(room) = args.values.first().and_then(Value::as_str) else {
                return;
            };
            let room = room.to_owned();
            socket.join(&room);
            if let Some(ack) = ack {
                ack.send(socket, true);
            }
        })
        .on("room-broadcast", |socket, mut args, _| {
            if args.values.is_empty() {
                return;
            }
            let Value::String(room) = args.values.remove(0) else {
                return;
            };
            socket.of("/").to(room).emit("room-broadcast", args);
        })
        .on("fetch-sockets", |socket, _, ack| {
            let Some(ack) = ack else { return };
            socket.of("/").fetch_sockets(move |io, sockets| {
                let mut ids: Vec<String> = sockets.into_iter().map(|s| s.id).collect();
                ids.sort();
                ack.send(io, json!(ids));
            });
        })
        .on("ack-all", |socket, args, ack| {
            let ms = args.values.first().and_then(Value::as_u64).unwrap_or(1000);
            socket
                .of("/")
                .timeout(Duration::from_millis(ms))
                .emit_with_ack("ack-all-ping", Args::default(), move |io, acks| {
                    if let Some(ack) = ack {
                        ack.send(io, json!(acks.responses.len()));
                    }
                });
        })
        .on("disconnect-room", |socket, args, ack| {
            let Some(room) = args.values.first().and_then(Value::as_str) else {
                return;
            };
            let room = room.to_owned();
            // The ack first: the caller may be in the room.
            if let Some(ack) = ack {
                ack.send(socket, true);
            }
            socket.of("/").to(room).disconnect_sockets(false);
        })
        .on("server-side-emit", |socket, args, ack| {
            socket.server_side_emit_with_ack(
                "hello",
                args,
                SERVER_SIDE_EMIT_TIMEOUT,
                move |io, answers| {
                    if !answers.complete {
                        log::debug!("server-side-emit: not every node answered in time");
                    }
                    let mut names: Vec<String> = answers
                        .responses
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect();
                    names.sort();
                    if let Some(ack) = ack {
                        ack.send(io, json!(names));
                    }
                },
            );
        });
    let name = options.node_name.clone();
    let app = match options.recovery {
        Some(duration) => App::new().connection_state_recovery(RecoveryConfig {
            max_disconnection_duration: duration,
            ..RecoveryConfig::default()
        }),
        None => App::new(),
    };
    app.ns("/", namespace.clone())
        .ns("/custom", namespace)
        .engine_io(|engine, data| engine.send(data))
        .on_server_side_emit("hello", move |io, _args, ack| {
            if let Some(ack) = ack {
                ack.send(io, name.as_str());
            }
        })
}

fn on_connection(socket: &mut Socket<'_, ()>) {
    let auth = socket.auth().clone();
    socket.emit("auth", auth);
    if socket.is_legacy() {
        // 0.9 `message` (3) and `json` (4) packets are echoed in kind.
        socket.on_message_packet(|socket, args, _| {
            let text = args
                .values
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default();
            let text = text.to_owned();
            socket.send_message_packet(&text);
        });
        socket.on_json_packet(|socket, args, _| {
            let value = args.values.into_iter().next().unwrap_or_default();
            socket.send_json_packet(value);
        });
    }
}
