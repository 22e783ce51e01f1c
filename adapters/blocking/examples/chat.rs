//! A small but real chat: nicknames, rooms, messages, typing notices.
//!
//! `cargo run -p socketio-blocking --example chat [-- --port 3000 --host 127.0.0.1]`
//! then open the printed address in two browser tabs. The page
//! (`examples/chat/`) uses the official socket.io-client browser bundle
//! from npm, installed on first run (`npm ci`, see `chat/npm.rs`).
//!
//! Protocol (namespace `/`). Client → server, each acknowledged with
//! `{ok: true, ...}` or `{error: "..."}` when the client asks for an ack:
//! * `set-nick` (nick): 1 to 32 characters, no control characters, unique
//!   among connected users (case-insensitive). The first nickname enters the
//!   room `lobby`; later ones rename. Required before anything below.
//! * `join-room` (name): moves to that room (one room at a time; same rules
//!   as a nickname, no `/`); `leave-room`: back to `lobby`.
//! * `chat-message` (text, 1 to 2000 characters): broadcast to the room,
//!   sender included, as `chat-message` `{nick, text, ts}` (`ts`: server
//!   time, milliseconds since the Unix epoch).
//! * `typing` / `stop-typing`: broadcast to the room except the sender as
//!   `typing` / `stop-typing` `{nick}`.
//!
//! Server → client: `rooms` (`[{name, members}]`, to everyone when the set
//! of rooms or their sizes change), `members` (`{room, members: [nick]}`,
//! to the room), `notice` (`{room, text, ts}`: joins, leaves, renames),
//! `chat-message`, `typing`, `stop-typing`.
//!
//! State lives in one `Mutex<Chat>` shared by the handlers (they run one at
//! a time on the driver thread, but must be `Send + Sync`). Prints one line
//! at start and nothing per message.

#[path = "chat/npm.rs"]
mod npm;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use socketio_blocking::app::{Ack, App, Io, Namespace, Socket};
use socketio_blocking::SocketIo;

const LOBBY: &str = "lobby";
const MAX_NAME: usize = 32;
const MAX_TEXT: usize = 2000;

#[derive(Default)]
struct Chat {
    /// Socket id → user; present from `set-nick` on.
    users: HashMap<String, User>,
    /// Room → socket ids of its members (no empty rooms but the lobby).
    rooms: BTreeMap<String, BTreeSet<String>>,
}

struct User {
    nick: String,
    room: String,
}

impl Chat {
    fn nick_taken(&self, nick: &str, except: &str) -> bool {
        self.users
            .iter()
            .any(|(id, u)| id != except && u.nick.to_lowercase() == nick.to_lowercase())
    }

    fn members(&self, room: &str) -> Vec<String> {
        let mut nicks: Vec<String> = self
            .rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter_map(|id| self.users.get(id).map(|u| u.nick.clone()))
            .collect();
        nicks.sort_by_key(|n| n.to_lowercase());
        nicks
    }

    fn room_list(&self) -> Value {
        let mut list = vec![json!({
            "name": LOBBY,
            "members": self.rooms.get(LOBBY).map_or(0, BTreeSet::len),
        })];
        list.extend(
            self.rooms
                .iter()
                .filter(|(name, _)| name.as_str() != LOBBY)
                .map(|(name, ids)| json!({"name": name, "members": ids.len()})),
        );
        Value::Array(list)
    }

    fn enter(&mut self, id: &str, room: &str) {
        self.rooms
            .entry(room.to_owned())
            .or_default()
            .insert(id.to_owned());
    }

    fn exit(&mut self, id: &str, room: &str) {
        if let Some(ids) = self.rooms.get_mut(room) {
            ids.remove(id);
            if ids.is_empty() && room != LOBBY {
                self.rooms.remove(room);
            }
        }
    }
}

type Shared = Arc<Mutex<Chat>>;

fn lock(chat: &Shared) -> MutexGuard<'_, Chat> {
    chat.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A nickname or room name: trimmed, 1..=32 characters, printable.
fn valid_name(raw: Option<&Value>, what: &str) -> Result<String, String> {
    let Some(name) = raw.and_then(Value::as_str).map(str::trim) else {
        return Err(format!("the {what} must be a string"));
    };
    if name.is_empty() {
        return Err(format!("the {what} must not be empty"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("the {what} must be at most {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("the {what} must not contain control characters"));
    }
    Ok(name.to_owned())
}

fn reply(io: &mut Io<'_, ()>, ack: Option<Ack>, answer: Value) {
    if let Some(ack) = ack {
        ack.send(io, answer);
    }
}

fn error(io: &mut Io<'_, ()>, ack: Option<Ack>, message: impl Into<String>) {
    reply(io, ack, json!({ "error": message.into() }));
}

fn notice(io: &mut Io<'_, ()>, room: &str, text: String) {
    io.to(room).emit(
        "notice",
        json!({"room": room, "text": text, "ts": now_ms()}),
    );
}

fn send_members(io: &mut Io<'_, ()>, chat: &Chat, room: &str) {
    io.to(room).emit(
        "members",
        json!({"room": room, "members": chat.members(room)}),
    );
}

/// Moves a user with a nickname from its room to `to` (joins, notices,
/// member and room lists).
fn move_to(socket: &mut Socket<'_, ()>, chat: &mut Chat, to: &str) {
    let id = socket.id().to_owned();
    let Some(user) = chat.users.get_mut(&id) else {
        return;
    };
    let from = std::mem::replace(&mut user.room, to.to_owned());
    let nick = user.nick.clone();
    chat.exit(&id, &from);
    socket.leave(&from);
    notice(socket, &from, format!("{nick} left {from}"));
    send_members(socket, chat, &from);
    chat.enter(&id, to);
    socket.join(to);
    notice(socket, to, format!("{nick} joined {to}"));
    send_members(socket, chat, to);
    socket.of("/").emit("rooms", chat.room_list());
}

fn on_connect(chat: &Shared, socket: &mut Socket<'_, ()>) {
    socket.emit("rooms", lock(chat).room_list());

    let c = chat.clone();
    socket.on("set-nick", move |socket, args, ack| {
        let nick = match valid_name(args.values.first(), "nickname") {
            Ok(n) => n,
            Err(e) => return error(socket, ack, e),
        };
        let mut chat = lock(&c);
        if chat.nick_taken(&nick, socket.id()) {
            return error(socket, ack, format!("the nickname {nick} is taken"));
        }
        let id = socket.id().to_owned();
        match chat.users.get_mut(&id) {
            Some(user) => {
                let old = std::mem::replace(&mut user.nick, nick.clone());
                let room = user.room.clone();
                if old != nick {
                    notice(socket, &room, format!("{old} is now known as {nick}"));
                    send_members(socket, &chat, &room);
                }
                reply(socket, ack, json!({"ok": true, "nick": nick, "room": room}));
            }
            None => {
                chat.users.insert(
                    id.clone(),
                    User {
                        nick: nick.clone(),
                        room: LOBBY.to_owned(),
                    },
                );
                chat.enter(&id, LOBBY);
                socket.join(LOBBY);
                notice(socket, LOBBY, format!("{nick} joined {LOBBY}"));
                send_members(socket, &chat, LOBBY);
                socket.of("/").emit("rooms", chat.room_list());
                reply(
                    socket,
                    ack,
                    json!({"ok": true, "nick": nick, "room": LOBBY}),
                );
            }
        }
    });

    let c = chat.clone();
    socket.on("join-room", move |socket, args, ack| {
        let room = match valid_name(args.values.first(), "room name") {
            Ok(r) if r.contains('/') => {
                return error(socket, ack, "the room name must not contain /")
            }
            Ok(r) => r,
            Err(e) => return error(socket, ack, e),
        };
        let mut chat = lock(&c);
        let Some(user) = chat.users.get(socket.id()) else {
            return error(socket, ack, "set a nickname first");
        };
        if user.room != room {
            move_to(socket, &mut chat, &room);
        }
        let members = chat.members(&room);
        reply(
            socket,
            ack,
            json!({"ok": true, "room": room, "members": members}),
        );
    });

    let c = chat.clone();
    socket.on("leave-room", move |socket, _args, ack| {
        let mut chat = lock(&c);
        let Some(user) = chat.users.get(socket.id()) else {
            return error(socket, ack, "set a nickname first");
        };
        if user.room == LOBBY {
            return error(
                socket,
                ack,
                "you are in the lobby: there is nowhere to leave to",
            );
        }
        move_to(socket, &mut chat, LOBBY);
        let members = chat.members(LOBBY);
        reply(
            socket,
            ack,
            json!({"ok": true, "room": LOBBY, "members": members}),
        );
    });

    let c = chat.clone();
    socket.on("chat-message", move |socket, args, ack| {
        let text = args.values.first().and_then(Value::as_str).unwrap_or("");
        if text.trim().is_empty() {
            return error(socket, ack, "the message is empty");
        }
        if text.chars().count() > MAX_TEXT {
            return error(
                socket,
                ack,
                format!("the message must be at most {MAX_TEXT} characters"),
            );
        }
        let chat = lock(&c);
        let Some(user) = chat.users.get(socket.id()) else {
            return error(socket, ack, "set a nickname first");
        };
        let ts = now_ms();
        socket.of("/").to(user.room.as_str()).emit(
            "chat-message",
            json!({"room": user.room, "nick": user.nick, "text": text, "ts": ts}),
        );
        reply(socket, ack, json!({"ok": true, "ts": ts}));
    });

    for event in ["typing", "stop-typing"] {
        let c = chat.clone();
        socket.on(event, move |socket, _args, _ack| {
            let chat = lock(&c);
            if let Some(user) = chat.users.get(socket.id()) {
                socket
                    .to(user.room.as_str())
                    .emit(event, json!({"room": user.room, "nick": user.nick}));
            }
        });
    }

    let c = chat.clone();
    socket.on_disconnect(move |socket, _reason| {
        let mut chat = lock(&c);
        let id = socket.id().to_owned();
        let Some(user) = chat.users.remove(&id) else {
            return;
        };
        chat.exit(&id, &user.room);
        // The typing line of the others must not keep showing a ghost.
        socket
            .of("/")
            .to(user.room.as_str())
            .emit("stop-typing", json!({"room": user.room, "nick": user.nick}));
        notice(
            socket,
            &user.room,
            format!("{} left {}", user.nick, user.room),
        );
        send_members(socket, &chat, &user.room);
        socket.of("/").emit("rooms", chat.room_list());
    });
}

fn usage() -> ! {
    eprintln!("usage: chat [--port PORT] [--host HOST] [--static DIR]");
    std::process::exit(2)
}

fn main() {
    npm::ensure_client_bundle();
    let mut port: u16 = 3000;
    let mut host = "127.0.0.1".to_owned();
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/chat");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => port = value.parse().unwrap_or_else(|_| usage()),
            "--host" => host = value,
            "--static" => dir = PathBuf::from(value),
            _ => usage(),
        }
    }
    let chat: Shared = Arc::default();
    lock(&chat).rooms.insert(LOBBY.to_owned(), BTreeSet::new());
    let app: App = App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| on_connect(&chat, socket)),
    );
    let server = SocketIo::builder()
        .serve_static(&dir)
        .bind((host.as_str(), port), app)
        .unwrap_or_else(|e| {
            eprintln!("chat: cannot listen on {host}:{port}: {e}");
            std::process::exit(1)
        });
    // With `--port 0` the OS picks the port: print the real one.
    let addr = server.local_addr();
    println!("chat: open http://{addr}/ in two browser tabs");
    server.wait();
}
