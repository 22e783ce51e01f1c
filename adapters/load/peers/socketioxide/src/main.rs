//! socketioxide (axum, tokio's multi-threaded runtime) serving the part of
//! the conformance contract `socketio-load` uses, on 127.0.0.1:PORT:
//! namespaces `/` and `/custom`; `auth` on connection; `message` →
//! `message-back`; `message-with-ack` → ack; `broadcast` → every socket of
//! `/`; `join` → ack `true`; `room-broadcast(room, ...)` → the room's
//! sockets of `/`. Engine.IO v4 and v3, WebSocket and polling.
//!
//! usage: socketio-load-peer-socketioxide --port PORT [--ping-interval MS] [--ping-timeout MS]

use std::time::Duration;

use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

// socketioxide 0.18: every handler is async.
async fn on_connect(socket: SocketRef) {
    let _ = socket.emit("auth", &json!({}));
    socket.on("message", |s: SocketRef, Data::<Value>(d)| async move {
        let _ = s.emit("message-back", &d);
    });
    socket.on("message-with-ack", |Data::<Value>(d), ack: AckSender| async move {
        let _ = ack.send(&d);
    });
    socket.on("broadcast", |io: SocketIo, Data::<Value>(d)| async move {
        let _ = io.emit("broadcast", &d).await;
    });
    socket.on("join", |s: SocketRef, Data::<String>(room), ack: AckSender| async move {
        s.join(room);
        let _ = ack.send(&true);
    });
    socket.on(
        "room-broadcast",
        |io: SocketIo, Data::<(String, Value)>((room, d))| async move {
            let _ = io.to(room).emit("room-broadcast", &d).await;
        },
    );
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(port) = arg(&args, "--port").and_then(|p| u16::try_from(p).ok()) else {
        eprintln!("usage: --port PORT [--ping-interval MS] [--ping-timeout MS]");
        std::process::exit(2)
    };
    let (layer, io) = SocketIo::builder()
        .ping_interval(Duration::from_millis(arg(&args, "--ping-interval").unwrap_or(25000)))
        .ping_timeout(Duration::from_millis(arg(&args, "--ping-timeout").unwrap_or(20000)))
        .max_payload(1_000_000)
        .build_layer();
    io.ns("/", on_connect);
    io.ns("/custom", on_connect);
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
    eprintln!("socketioxide peer: listening on 127.0.0.1:{port}");
    let shutdown = async {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
        }
    };
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        eprintln!("socketioxide peer: {e}");
    }
}
