//! A small but real chat: nicknames, rooms, messages, typing notices. The
//! application is [`socketio_apps::chat`] (its doc comment is the
//! protocol), written once; this example serves it and the page on either
//! driver, unchanged.
//!
//! `cargo run -p socketio-blocking --example chat [-- --port 3000 --host 127.0.0.1 --driver blocking|mio]`
//! then open the printed address in two browser tabs. The page
//! (`examples/chat/`) uses the official socket.io-client browser bundle
//! from npm, installed on first run (`npm ci`, see `chat/npm.rs`).
//!
//! `--driver blocking` (the default): threads + tungstenite
//! (`socketio-blocking`); `--driver mio`: one mio event loop
//! (`socketio-mio`). Prints one line at start and nothing per message.

#[path = "chat/npm.rs"]
mod npm;

use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: chat [--port PORT] [--host HOST] [--static DIR] [--driver blocking|mio]");
    std::process::exit(2)
}

fn main() {
    npm::ensure_client_bundle();
    let mut port: u16 = 3000;
    let mut host = "127.0.0.1".to_owned();
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/chat");
    let mut driver = "blocking".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage()),
            "--host" => host = value,
            "--static" => dir = PathBuf::from(value),
            "--driver" => driver = value,
            _ => usage(),
        }
    }
    let app = socketio_apps::chat::app();
    let cannot_listen = |e: std::io::Error| -> ! {
        eprintln!("chat: cannot listen on {host}:{port}: {e}");
        std::process::exit(1)
    };
    // With `--port 0` the OS picks the port: print the real one.
    let ready = |addr: std::net::SocketAddr| {
        println!("chat ({driver}): open http://{addr}/ in two browser tabs");
    };
    match driver.as_str() {
        "blocking" => {
            let server = socketio_blocking::SocketIo::builder()
                .serve_static(&dir)
                .bind((host.as_str(), port), app)
                .unwrap_or_else(|e| cannot_listen(e));
            ready(server.local_addr());
            server.wait();
        }
        "mio" => {
            let server = socketio_mio::MioServer::builder()
                .serve_static(&dir)
                .bind((host.as_str(), port), app)
                .and_then(|server| server.spawn())
                .unwrap_or_else(|e| cannot_listen(e));
            ready(server.local_addr());
            if let Err(e) = server.wait() {
                eprintln!("chat: {e}");
                std::process::exit(1);
            }
        }
        _ => usage(),
    }
}
