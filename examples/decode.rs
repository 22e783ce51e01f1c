//! Decodes WebSocket messages of an Engine.IO v4 / Socket.IO rev 5 connection
//! and describes the packets they carry.
//!
//! ```text
//! cargo run --example decode -- '452-["x",{"_placeholder":true,"num":0}]' hex:01020304
//! ```
//!
//! Each argument is one WebSocket message, in order:
//! * a text argument is a text frame holding one Engine.IO packet; a message
//!   packet (`4...`) carries a Socket.IO packet, fed to the Socket.IO decoder;
//! * `hex:<bytes>` is a binary frame: a Socket.IO attachment.
//!
//! Exit code: 0 when every message decodes, 1 on a decode error (or when
//! attachments are still missing at the end), 2 on bad usage.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde_json::Value;
use socketio_sansio::wire::sio::{Body, Decoder, Packet};
use socketio_sansio::wire::DecodeError;

const USAGE: &str = "\
usage: decode <message>...

Each argument is one WebSocket message of an Engine.IO v4 connection, in order:
  <text>        a text frame: one Engine.IO packet, e.g. '42[\"hello\",1]'
                (type 4 = message, whose data is a Socket.IO packet)
  hex:<bytes>   a binary frame: a Socket.IO attachment, e.g. hex:01020304

example:
  decode '452-[\"x\",{\"_placeholder\":true,\"num\":0}]' hex:01020304";

/// Engine.IO v4 packet type names, by type digit.
const EIO_TYPES: [&str; 7] = [
    "open", "close", "ping", "pong", "message", "upgrade", "noop",
];

/// One command-line argument, classified.
enum Message {
    Text(String),
    Binary(Vec<u8>),
}

fn parse_hex(hex: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter(|b| !matches!(b, b' ' | b':' | b'_'))
        .collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    let nibble = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    digits
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn json(value: &Value) -> String {
    value.to_string()
}

fn describe(index: usize, packet: &Packet) -> String {
    let mut out = String::new();
    let kind = match packet.packet_type() as u8 {
        0 => "CONNECT",
        1 => "DISCONNECT",
        2 => "EVENT",
        3 => "ACK",
        4 => "CONNECT_ERROR",
        5 => "BINARY_EVENT",
        _ => "BINARY_ACK",
    };
    let _ = writeln!(
        out,
        "packet {index}: {kind} (type {})",
        packet.packet_type() as u8
    );
    let _ = writeln!(out, "  namespace: {}", packet.nsp);
    match &packet.body {
        Body::Connect(None) => out.push_str("  payload:   none\n"),
        Body::Connect(Some(data)) => {
            let _ = writeln!(out, "  payload:   {}", json(data));
        }
        Body::Disconnect => {}
        Body::ConnectError(data) => {
            let _ = writeln!(out, "  payload:   {}", json(data));
        }
        Body::Event(event) => {
            match event.id {
                Some(id) => {
                    let _ = writeln!(out, "  ack id:    {id}");
                }
                None => out.push_str("  ack id:    none\n"),
            }
            let _ = writeln!(
                out,
                "  event:     {}",
                json(&Value::String(event.name.clone()))
            );
            describe_args(&mut out, &event.args.values, &event.args.binaries);
        }
        Body::Ack(ack) => {
            let _ = writeln!(out, "  ack id:    {}", ack.id);
            describe_args(&mut out, &ack.args.values, &ack.args.binaries);
        }
    }
    out
}

fn describe_args(out: &mut String, values: &[Value], binaries: &[Vec<u8>]) {
    let _ = writeln!(out, "  args:      {}", json(&Value::Array(values.to_vec())));
    for (i, arg) in values.iter().enumerate() {
        let _ = writeln!(out, "    [{i}] {}", json(arg));
    }
    for (i, bytes) in binaries.iter().enumerate() {
        let _ = writeln!(
            out,
            "  attachment {i}: {} ({} bytes)",
            to_hex(bytes),
            bytes.len()
        );
    }
}

fn report_error(arg_index: usize, e: &DecodeError, binary: bool) -> ExitCode {
    let part = if binary {
        "attachment"
    } else {
        "socket.io packet (frame byte - 1)"
    };
    eprintln!(
        "message {arg_index}: socket.io error: {e} of the {part} ({:?})",
        e.kind
    );
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let mut messages = Vec::new();
    for arg in std::env::args_os().skip(1) {
        let Some(arg) = arg.to_str() else {
            eprintln!("error: an argument is not valid UTF-8 (a WebSocket text frame must be)");
            return ExitCode::from(1);
        };
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        match arg.strip_prefix("hex:") {
            Some(hex) => match parse_hex(hex) {
                Some(bytes) => messages.push(Message::Binary(bytes)),
                None => {
                    eprintln!("error: bad hex in {arg:?}\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            None => messages.push(Message::Text(arg.to_owned())),
        }
    }
    if messages.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }

    let mut decoder = Decoder::default();
    let mut packets = 0;
    for (i, message) in messages.into_iter().enumerate() {
        let index = i + 1;
        let binary = matches!(message, Message::Binary(_));
        let result = match message {
            Message::Binary(bytes) => {
                println!("message {index}: binary frame, {} bytes", bytes.len());
                decoder.decode_binary(bytes)
            }
            Message::Text(text) => {
                // Engine.IO v4 text packet: a type digit, then the data.
                // (To be replaced by `wire::eio` once it is wired in.)
                let mut chars = text.chars();
                let type_char = chars.next();
                let data = chars.as_str();
                match type_char
                    .and_then(|c| c.to_digit(10))
                    .and_then(|d| EIO_TYPES.get(d as usize))
                {
                    Some(&"message") => {
                        println!("message {index}: engine.io message, socket.io packet {data:?}");
                        decoder.decode_text(data)
                    }
                    Some(name) => {
                        println!("message {index}: engine.io {name} packet, data {data:?} (no socket.io packet)");
                        continue;
                    }
                    None if text.is_empty() => {
                        eprintln!("message {index}: engine.io error: empty packet");
                        return ExitCode::from(1);
                    }
                    None => {
                        eprintln!(
                            "message {index}: engine.io error: unknown packet type {:?}",
                            type_char.unwrap_or(' ')
                        );
                        return ExitCode::from(1);
                    }
                }
            }
        };
        match result {
            Ok(Some(packet)) => {
                packets += 1;
                print!("{}", describe(packets, &packet));
            }
            Ok(None) if binary => println!("  (attachment stored: waiting for more)"),
            Ok(None) => println!("  (binary packet started: waiting for its attachments)"),
            Err(e) => return report_error(index, &e, binary),
        }
    }
    if decoder.is_reconstructing() {
        eprintln!("error: the last binary packet is incomplete (attachments missing)");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
