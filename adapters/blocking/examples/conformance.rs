//! The conformance server used by external test suites (and our interop
//! tests). Contract:
//!
//! `cargo run --release -p socketio-blocking --example conformance -- --port PORT [--ping-interval MS] [--ping-timeout MS]`
//!
//! * binds 127.0.0.1:PORT, path `/socket.io/`, `maxPayload` 1000000,
//!   ping interval/timeout 300/200 ms unless given;
//! * namespaces `/` and `/custom` (others get `{"message":"Invalid namespace"}`);
//! * on connection: emits `auth` with the handshake auth (`{}` when none);
//! * `message` → `message-back` with the same arguments (binary included);
//! * `message-with-ack` → acknowledged with the same arguments;
//! * `broadcast` → `broadcast` with the same arguments to every socket of `/`;
//! * `emit-with-ack` → the server emits `emit-with-ack` with the same
//!   arguments asking for an ack, then emits `emit-with-ack-result` with the
//!   client's ack arguments;
//! * `disconnect-me` → the server disconnects that socket;
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

use std::time::Duration;

use socketio_blocking::{Socket, SocketIo};
use socketio_sansio::legacy::{LegacyAck, LegacyConfig};

fn usage() -> ! {
    eprintln!("usage: conformance --port PORT [--ping-interval MS] [--ping-timeout MS]");
    std::process::exit(2)
}

fn main() {
    let mut port: Option<u16> = None;
    let mut ping_interval = 300u64;
    let mut ping_timeout = 200u64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => port = Some(value.parse().unwrap_or_else(|_| usage())),
            "--ping-interval" => ping_interval = value.parse().unwrap_or_else(|_| usage()),
            "--ping-timeout" => ping_timeout = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let port = port.unwrap_or_else(|| usage());
    let on_connect = |socket: &Socket, auth: &serde_json::Value| {
        socket.emit("auth", auth.clone());
        socket.on("message", |socket, args, _| {
            socket.emit("message-back", args)
        });
        socket.on("message-with-ack", |_, args, ack| {
            if let Some(ack) = ack {
                ack.send(args);
            }
        });
        socket.on("broadcast", |socket, args, _| {
            socket.io().of("/").emit("broadcast", args);
        });
        socket.on("emit-with-ack", |socket, args, _| {
            let back = socket.clone();
            socket.emit_with_ack_then(
                "emit-with-ack",
                args,
                Some(Duration::from_secs(10)),
                move |result| {
                    if let Ok(answer) = result {
                        back.emit("emit-with-ack-result", answer);
                    }
                },
            );
        });
        socket.on("disconnect-me", |socket, _, _| socket.disconnect());
        // 0.9 `message` (3) and `json` (4) packets are echoed in kind.
        socket.on_message_packet(|socket, args, _| {
            let text = args
                .values
                .first()
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            socket.send_message_packet(text, LegacyAck::None, None);
        });
        socket.on_json_packet(|socket, args, _| {
            let value = args.values.into_iter().next().unwrap_or_default();
            socket.send_json_packet(value, LegacyAck::None, None);
        });
        Ok(())
    };
    let server = SocketIo::builder()
        .config(|c| {
            c.ping_interval(Duration::from_millis(ping_interval))
                .ping_timeout(Duration::from_millis(ping_timeout))
                .max_payload(1_000_000)
                .legacy(LegacyConfig {
                    heartbeat_interval: Duration::from_millis(ping_interval),
                    heartbeat_timeout: Duration::from_millis(ping_interval + ping_timeout),
                    close_timeout: Duration::from_millis(ping_interval + ping_timeout),
                    ..LegacyConfig::default()
                })
        })
        .ns("/", on_connect)
        .ns("/custom", on_connect)
        .engine_io("/engine.io/", |socket, data| socket.send(data))
        .bind(("127.0.0.1", port))
        .unwrap_or_else(|e| {
            eprintln!("conformance: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
    eprintln!("conformance: listening on {}", server.local_addr());
    server.wait();
}
