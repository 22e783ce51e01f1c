//! A terminal client for the chat example (`socketio_apps::chat`).
//!
//! ```text
//! cargo run -p socketio-blocking --example chat            # the server, port 3000
//! cargo run -p socketio-client --example chat_client -- --nick alice [--url http://127.0.0.1:3000]
//! ```
//!
//! Type a line to say it in your room. Commands: `/join ROOM`, `/leave`
//! (back to the lobby), `/nick NAME`, `/rooms`, `/quit` (or end of input).
//! Everything the server sends (messages, notices, members) is printed as
//! it arrives, by the handlers on the client's I/O thread; the main thread
//! reads the terminal and sends with blocking acknowledgements.

use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use socketio_client::{connect, Args, Client, ClientOptions, Handlers};

fn first(args: &Args) -> Value {
    args.values.first().cloned().unwrap_or(Value::Null)
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn say(line: String) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn handlers(rooms: Arc<Mutex<Value>>) -> Handlers {
    Handlers::new()
        .on("chat-message", |_, args, _| {
            let m = first(&args);
            say(format!(
                "[{}] <{}> {}",
                text(&m, "room"),
                text(&m, "nick"),
                text(&m, "text")
            ));
        })
        .on("notice", |_, args, _| {
            let m = first(&args);
            say(format!("[{}] * {}", text(&m, "room"), text(&m, "text")));
        })
        .on("members", |_, args, _| {
            let m = first(&args);
            say(format!("[{}] members: {}", text(&m, "room"), m["members"]));
        })
        .on("rooms", move |_, args, _| {
            *rooms.lock().unwrap_or_else(|e| e.into_inner()) = first(&args);
        })
        .on("typing", |_, args, _| {
            let m = first(&args);
            say(format!(
                "[{}] {} is typing...",
                text(&m, "room"),
                text(&m, "nick")
            ));
        })
        .on_disconnect(|_, reason| say(format!("* disconnected: {reason}")))
        .on_reconnect(|_, attempt| say(format!("* reconnected (attempt {attempt})")))
}

/// Sends `event` and waits for the server's `{ok}`/`{error}` answer.
fn request(client: &Client, event: &str, args: Value) -> Result<Value, String> {
    let answer = client
        .emit_with_ack_timeout(event, args, Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    let answer = first(&answer);
    match answer.get("error") {
        Some(error) => Err(error.as_str().unwrap_or("refused").to_owned()),
        None => Ok(answer),
    }
}

fn main() {
    let mut url = "http://127.0.0.1:3000".to_owned();
    let mut nick = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--url", Some(value)) => url = value,
            ("--nick", Some(value)) => nick = Some(value),
            _ => {
                eprintln!("usage: chat_client --nick NAME [--url http://127.0.0.1:3000]");
                std::process::exit(2);
            }
        }
    }
    let Some(nick) = nick else {
        eprintln!("usage: chat_client --nick NAME [--url http://127.0.0.1:3000]");
        std::process::exit(2);
    };
    let rooms = Arc::new(Mutex::new(Value::Null));
    let options = ClientOptions::new().handlers(handlers(rooms.clone()));
    let client = match connect(&url, options) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("chat_client: {e}");
            std::process::exit(1);
        }
    };
    match request(&client, "set-nick", json!(nick)) {
        Ok(answer) => say(format!(
            "* you are {} in {}",
            text(&answer, "nick"),
            text(&answer, "room")
        )),
        Err(e) => {
            eprintln!("chat_client: nickname refused: {e}");
            client.close();
            std::process::exit(1);
        }
    }
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let result = match command {
            "" => continue,
            "/quit" => break,
            "/join" => request(&client, "join-room", json!(rest)).map(|_| ()),
            "/leave" => request(&client, "leave-room", Value::Null).map(|_| ()),
            "/nick" => request(&client, "set-nick", json!(rest)).map(|_| ()),
            "/rooms" => {
                let rooms = rooms.lock().unwrap_or_else(|e| e.into_inner()).clone();
                for room in rooms.as_array().into_iter().flatten() {
                    say(format!("  {} ({})", text(room, "name"), room["members"]));
                }
                Ok(())
            }
            _ if command.starts_with('/') => Err(format!("unknown command {command}")),
            _ => request(&client, "chat-message", json!(line)).map(|_| ()),
        };
        if let Err(e) = result {
            say(format!("* {e}"));
        }
    }
    client.close();
}
