//! The chat of the examples: nicknames, rooms, messages, typing notices.
//! Written once against the application layer; every driver serves it
//! unchanged (`cargo run -p socketio-blocking --example chat -- --driver
//! blocking|mio`), with the page in `adapters/blocking/examples/chat/`.
//!
//! Protocol (namespace `/`). Client → server, each acknowledged with
//! `{ok: true, ...}` or `{error: "..."}` when the client asks for an ack:
//! * `set-nick` (nick): 1 to 32 characters, no control characters, unique
//!   among connected users (case-insensitive). The first nickname enters the
//!   room `lobby`; later ones rename. Required before anything below.
//! * `join-room` (name): moves to that room (one room at a time; same rules
//!   as a nickname, no `/`); `leave-room`: back to `lobby`.
//! * `chat-message` (text, 1 to 2000 characters): broadcast to the room,
//!   sender included, as `chat-message` `{room, nick, text, ts}` (`ts`:
//!   server time, milliseconds since the Unix epoch).
//! * `typing` / `stop-typing`: broadcast to the room except the sender as
//!   `typing` / `stop-typing` `{room, nick}`.
//!
//! Server → client: `rooms` (`[{name, members}]`, the lobby first, to
//! everyone when the set of rooms or their sizes change, and to each new
//! socket), `members` (`{room, members: [nick]}`, to the room), `notice`
//! (`{room, text, ts}`: joins, leaves, renames), `chat-message`, `typing`,
//! `stop-typing`. A user who disconnects leaves its room with a
//! `stop-typing` and a notice.
//!
//! Each socket's user (nickname and room) is its [`Socket::data`]; what
//! the sockets share (who is in which room, to list members and keep
//! nicknames unique) is one [`Directory`] behind a mutex, per [`app`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use socketio_sansio::app::{Ack, App, Io, Namespace, Socket};

/// The room every user enters first (always listed, even empty).
pub const LOBBY: &str = "lobby";
/// The longest nickname or room name, in characters.
pub const MAX_NAME: usize = 32;
/// The longest message, in characters.
pub const MAX_TEXT: usize = 2000;

/// A socket's user, once it has a nickname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The nickname.
    pub nick: String,
    /// The one room the user is in.
    pub room: String,
}

/// The per-socket data of the chat: `None` until `set-nick`.
pub type ChatData = Option<User>;

/// Who is in which room: room → socket id → nickname. The lobby is always
/// there; other rooms exist while someone is in them.
#[derive(Debug)]
pub struct Directory {
    rooms: BTreeMap<String, BTreeMap<String, String>>,
}

impl Default for Directory {
    fn default() -> Self {
        Directory {
            rooms: BTreeMap::from([(LOBBY.to_owned(), BTreeMap::new())]),
        }
    }
}

impl Directory {
    /// Whether another socket than `except` uses `nick` (case-insensitive).
    pub fn nick_taken(&self, nick: &str, except: &str) -> bool {
        let nick = nick.to_lowercase();
        self.rooms
            .values()
            .flatten()
            .any(|(id, n)| id != except && n.to_lowercase() == nick)
    }

    /// The nicknames in `room`, sorted case-insensitively.
    pub fn members(&self, room: &str) -> Vec<String> {
        let mut nicks: Vec<String> = self
            .rooms
            .get(room)
            .into_iter()
            .flat_map(|m| m.values().cloned())
            .collect();
        nicks.sort_by_key(|n| n.to_lowercase());
        nicks
    }

    /// `[{name, members}]`: the lobby first, then the other rooms by name.
    pub fn room_list(&self) -> Value {
        let size = |name: &str| self.rooms.get(name).map_or(0, BTreeMap::len);
        let mut list = vec![json!({"name": LOBBY, "members": size(LOBBY)})];
        list.extend(
            self.rooms
                .iter()
                .filter(|(name, _)| name.as_str() != LOBBY)
                .map(|(name, ids)| json!({"name": name, "members": ids.len()})),
        );
        Value::Array(list)
    }

    fn enter(&mut self, room: &str, id: &str, nick: &str) {
        self.rooms
            .entry(room.to_owned())
            .or_default()
            .insert(id.to_owned(), nick.to_owned());
    }

    fn exit(&mut self, room: &str, id: &str) {
        if let Some(ids) = self.rooms.get_mut(room) {
            ids.remove(id);
            if ids.is_empty() && room != LOBBY {
                self.rooms.remove(room);
            }
        }
    }
}

type Shared = Arc<Mutex<Directory>>;

fn lock(directory: &Shared) -> MutexGuard<'_, Directory> {
    directory.lock().unwrap_or_else(|e| e.into_inner())
}

/// The wall clock in milliseconds since the Unix epoch (what [`app`]
/// stamps messages with).
pub fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Where the chat's timestamps (`ts`) come from.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// A nickname or room name: trimmed, 1..=32 characters, printable.
pub fn valid_name(raw: Option<&Value>, what: &str) -> Result<String, String> {
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

type ChatSocket<'a> = Socket<'a, ChatData>;

fn reply(io: &mut Io<'_, ChatData>, ack: Option<Ack>, answer: Value) {
    if let Some(ack) = ack {
        ack.send(io, answer);
    }
}

fn error(io: &mut Io<'_, ChatData>, ack: Option<Ack>, message: impl Into<String>) {
    reply(io, ack, json!({ "error": message.into() }));
}

/// Emits to every socket in `room`.
fn to_room(io: &mut Io<'_, ChatData>, room: &str, event: &str, data: Value) {
    io.of("/").to(room).emit(event, data);
}

fn notice(io: &mut Io<'_, ChatData>, clock: &Clock, room: &str, text: String) {
    let data = json!({"room": room, "text": text, "ts": clock()});
    to_room(io, room, "notice", data);
}

fn send_members(io: &mut Io<'_, ChatData>, directory: &Directory, room: &str) {
    let data = json!({"room": room, "members": directory.members(room)});
    to_room(io, room, "members", data);
}

fn send_rooms(io: &mut Io<'_, ChatData>, directory: &Directory) {
    io.of("/").emit("rooms", directory.room_list());
}

/// Moves the user of `socket` from its room to `to` (rooms, notices,
/// member and room lists).
fn move_to(socket: &mut ChatSocket<'_>, clock: &Clock, directory: &mut Directory, to: &str) {
    let id = socket.id().to_owned();
    let Some(user) = socket.data_mut() else {
        return;
    };
    let from = std::mem::replace(&mut user.room, to.to_owned());
    let nick = user.nick.clone();
    directory.exit(&from, &id);
    socket.leave(&from);
    notice(socket, clock, &from, format!("{nick} left {from}"));
    send_members(socket, directory, &from);
    directory.enter(to, &id, &nick);
    socket.join(to);
    notice(socket, clock, to, format!("{nick} joined {to}"));
    send_members(socket, directory, to);
    send_rooms(socket, directory);
}

/// The chat application (each call: a new, empty chat), stamping messages
/// with the wall clock.
pub fn app() -> App<ChatData> {
    app_with_clock(Arc::new(system_ms))
}

/// The chat with its timestamps from `clock` (a simulation passes its
/// virtual clock, so that one seed gives one byte-identical run).
pub fn app_with_clock(clock: Clock) -> App<ChatData> {
    let directory: Shared = Arc::default();
    App::new().ns(
        "/",
        Namespace::new().on_connection(move |socket| on_connection(&directory, &clock, socket)),
    )
}

fn on_connection(directory: &Shared, clock: &Clock, socket: &mut ChatSocket<'_>) {
    let rooms = lock(directory).room_list();
    socket.emit("rooms", rooms);

    let (d, c) = (directory.clone(), clock.clone());
    socket.on("set-nick", move |socket, args, ack| {
        let nick = match valid_name(args.values.first(), "nickname") {
            Ok(n) => n,
            Err(e) => return error(socket, ack, e),
        };
        let mut directory = lock(&d);
        let id = socket.id().to_owned();
        if directory.nick_taken(&nick, &id) {
            return error(socket, ack, format!("the nickname {nick} is taken"));
        }
        match socket.data_mut() {
            Some(user) => {
                let old = std::mem::replace(&mut user.nick, nick.clone());
                let room = user.room.clone();
                if old != nick {
                    directory.enter(&room, &id, &nick);
                    notice(socket, &c, &room, format!("{old} is now known as {nick}"));
                    send_members(socket, &directory, &room);
                }
                reply(socket, ack, json!({"ok": true, "nick": nick, "room": room}));
            }
            None => {
                *socket.data_mut() = Some(User {
                    nick: nick.clone(),
                    room: LOBBY.to_owned(),
                });
                directory.enter(LOBBY, &id, &nick);
                socket.join(LOBBY);
                notice(socket, &c, LOBBY, format!("{nick} joined {LOBBY}"));
                send_members(socket, &directory, LOBBY);
                send_rooms(socket, &directory);
                reply(
                    socket,
                    ack,
                    json!({"ok": true, "nick": nick, "room": LOBBY}),
                );
            }
        }
    });

    let (d, c) = (directory.clone(), clock.clone());
    socket.on("join-room", move |socket, args, ack| {
        let room = match valid_name(args.values.first(), "room name") {
            Ok(r) if r.contains('/') => {
                return error(socket, ack, "the room name must not contain /")
            }
            Ok(r) => r,
            Err(e) => return error(socket, ack, e),
        };
        let Some(current) = socket.data().as_ref().map(|u| u.room.clone()) else {
            return error(socket, ack, "set a nickname first");
        };
        let mut directory = lock(&d);
        if current != room {
            move_to(socket, &c, &mut directory, &room);
        }
        let members = directory.members(&room);
        reply(
            socket,
            ack,
            json!({"ok": true, "room": room, "members": members}),
        );
    });

    let (d, c) = (directory.clone(), clock.clone());
    socket.on("leave-room", move |socket, _args, ack| {
        let Some(current) = socket.data().as_ref().map(|u| u.room.clone()) else {
            return error(socket, ack, "set a nickname first");
        };
        if current == LOBBY {
            return error(
                socket,
                ack,
                "you are in the lobby: there is nowhere to leave to",
            );
        }
        let mut directory = lock(&d);
        move_to(socket, &c, &mut directory, LOBBY);
        let members = directory.members(LOBBY);
        reply(
            socket,
            ack,
            json!({"ok": true, "room": LOBBY, "members": members}),
        );
    });

    let c = clock.clone();
    socket.on("chat-message", move |socket, args, ack| {
        let text = args.values.first().and_then(Value::as_str).unwrap_or("");
        if text.trim().is_empty() {
            return error(socket, ack, "the message is empty");
        }
        if text.chars().count() > MAX_TEXT {
            let message = format!("the message must be at most {MAX_TEXT} characters");
            return error(socket, ack, message);
        }
        let Some(user) = socket.data().clone() else {
            return error(socket, ack, "set a nickname first");
        };
        let ts = c();
        let message = json!({"room": user.room, "nick": user.nick, "text": text, "ts": ts});
        to_room(socket, &user.room, "chat-message", message);
        reply(socket, ack, json!({"ok": true, "ts": ts}));
    });

    for event in ["typing", "stop-typing"] {
        socket.on(event, move |socket, _args, _ack| {
            if let Some(user) = socket.data().clone() {
                socket
                    .to(user.room.as_str())
                    .emit(event, json!({"room": user.room, "nick": user.nick}));
            }
        });
    }

    let (d, c) = (directory.clone(), clock.clone());
    socket.on_disconnect(move |socket, _reason| {
        let Some(user) = socket.data_mut().take() else {
            return;
        };
        let id = socket.id().to_owned();
        let mut directory = lock(&d);
        directory.exit(&user.room, &id);
        // The typing line of the others must not keep showing a ghost.
        let data = json!({"room": user.room, "nick": user.nick});
        to_room(socket, &user.room, "stop-typing", data);
        notice(
            socket,
            &c,
            &user.room,
            format!("{} left {}", user.nick, user.room),
        );
        send_members(socket, &directory, &user.room);
        send_rooms(socket, &directory);
    });
}
