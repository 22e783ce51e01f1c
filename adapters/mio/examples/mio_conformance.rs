//! The conformance server on the mio adapter. Same CLI and (Socket.IO
//! v4/v5) contract as `adapters/blocking/examples/conformance.rs`:
//!
//! `cargo run --release -p socketio-mio --example mio_conformance -- --port PORT [--ping-interval MS] [--ping-timeout MS]`
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
//! * WebSocket and HTTP long-polling (with the upgrade);
//! * stops on SIGTERM (default action); prints nothing per message.
//!
//! Not served here (the blocking adapter has them): Socket.IO 0.9 clients and
//! the bare Engine.IO endpoint.

use std::time::Duration;

use socketio_mio::{Broadcast, MioServer, Namespace};

fn usage() -> ! {
    eprintln!("usage: conformance --port PORT [--ping-interval MS] [--ping-timeout MS]");
    std::process::exit(2)
}

fn namespace() -> Namespace {
    Namespace::new()
        .on_connect(|ctx, auth| {
            ctx.emit("auth", auth.clone())?;
            Ok(())
        })
        .on("message", |ctx, args, _| {
            let _ = ctx.emit("message-back", args);
        })
        .on("message-with-ack", |ctx, args, ack| {
            if let Some(id) = ack {
                let _ = ctx.ack(id, args);
            }
        })
        .on("broadcast", |ctx, args, _| {
            let _ = ctx.broadcast(&Broadcast::to("/"), "broadcast", &args);
        })
        .on("emit-with-ack", |ctx, args, _| {
            let _ = ctx.emit_with_ack(
                "emit-with-ack",
                args,
                Some(Duration::from_secs(10)),
                |ctx, result| {
                    if let Ok(answer) = result {
                        let _ = ctx.emit("emit-with-ack-result", answer);
                    }
                },
            );
        })
        .on("disconnect-me", |ctx, _, _| {
            let _ = ctx.disconnect();
        })
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
    let server = MioServer::builder()
        .config(|c| {
            c.ping_interval(Duration::from_millis(ping_interval))
                .ping_timeout(Duration::from_millis(ping_timeout))
                .max_payload(1_000_000)
        })
        .ns("/", namespace())
        .ns("/custom", namespace())
        .bind(("127.0.0.1", port))
        .unwrap_or_else(|e| {
            eprintln!("conformance: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
    eprintln!("conformance: listening on {}", server.local_addr());
    if let Err(e) = server.run() {
        eprintln!("conformance: {e}");
        std::process::exit(1);
    }
}
