//! The chat application (`src/chat.rs`) without any I/O: socket.io 4.x
//! clients (WebSocket, EIO=4) on a virtual clock, every event they get
//! checked: nickname rules, rooms, messages to the room, typing notices,
//! what the others see when someone leaves.

mod sansio;

use serde_json::{json, Value};
use socketio_apps::chat::{self, ChatData};
use socketio_sansio::{Config, ConnId};

use sansio::{json_after, Sim};

fn sim() -> Sim<ChatData> {
    Sim::new(Config::builder(), chat::app())
}

/// What a client got: `(event, first argument)` for events, `("ack", the
/// answer)` for acknowledgements; every `ts` (a positive number) becomes
/// `"<ts>"`.
fn got(s: &mut Sim<ChatData>, conn: ConnId) -> Vec<(String, Value)> {
    s.texts(conn)
        .into_iter()
        .map(|f| {
            let (name, mut value) = if let Some(rest) = f.strip_prefix("42") {
                let v: Value = serde_json::from_str(rest).unwrap();
                assert_eq!(v.as_array().unwrap().len(), 2, "{f}");
                (v[0].as_str().unwrap().to_owned(), v[1].clone())
            } else {
                let rest = f.strip_prefix("43").unwrap_or_else(|| panic!("{f}"));
                let json = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                let v: Value = serde_json::from_str(json).unwrap();
                ("ack".to_owned(), v[0].clone())
            };
            if let Some(ts) = value.get_mut("ts") {
                assert!(ts.as_u64().is_some_and(|t| t > 0), "{f}");
                *ts = json!("<ts>");
            }
            (name, value)
        })
        .collect()
}

fn ev(name: &str, value: Value) -> (String, Value) {
    (name.to_owned(), value)
}

fn ack(value: Value) -> (String, Value) {
    ev("ack", value)
}

fn rooms(list: Value) -> (String, Value) {
    ev("rooms", list)
}

fn notice(room: &str, text: &str) -> (String, Value) {
    ev("notice", json!({"room": room, "text": text, "ts": "<ts>"}))
}

fn members(room: &str, nicks: &[&str]) -> (String, Value) {
    ev("members", json!({"room": room, "members": nicks}))
}

/// A connected client (its `rooms` event checked and taken).
fn connect(s: &mut Sim<ChatData>) -> ConnId {
    let conn = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.text(conn, "40");
    let out = s.texts(conn);
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[1].starts_with("40{"), "{out:?}");
    assert_eq!(json_after(&out[2], "42")[0], "rooms");
    conn
}

/// Sends `event` with `args` asking for an ack (id 1).
fn call(s: &mut Sim<ChatData>, conn: ConnId, event: &str, args: Value) {
    let mut packet = vec![json!(event)];
    packet.extend(args.as_array().unwrap().iter().cloned());
    s.text(conn, &format!("421{}", Value::Array(packet)));
}

/// A connected client named `nick` (in the lobby); everything taken.
fn user(s: &mut Sim<ChatData>, nick: &str, others: &[ConnId]) -> ConnId {
    let conn = connect(s);
    call(s, conn, "set-nick", json!([nick]));
    let answer = got(s, conn).pop().unwrap();
    assert_eq!(
        answer,
        ack(json!({"ok": true, "nick": nick, "room": "lobby"}))
    );
    for &other in others {
        s.texts(other);
    }
    conn
}

#[test]
fn a_new_socket_gets_the_room_list() {
    let mut s = sim();
    let b = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.texts(b);
    s.text(b, "40");
    let out = s.texts(b);
    assert_eq!(
        json_after(&out[1], "42"),
        json!(["rooms", [{"name": "lobby", "members": 0}]])
    );
    // Later sockets see the rooms as they are.
    user(&mut s, "Ann", &[b]);
    let c = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.text(c, "40");
    let out = s.texts(c);
    assert_eq!(
        json_after(&out[2], "42"),
        json!(["rooms", [{"name": "lobby", "members": 1}]])
    );
}

#[test]
fn the_first_nickname_enters_the_lobby() {
    let mut s = sim();
    let watcher = connect(&mut s);
    let ann = connect(&mut s);
    call(&mut s, ann, "set-nick", json!(["  Ann  "]));
    assert_eq!(
        got(&mut s, ann),
        [
            notice("lobby", "Ann joined lobby"),
            members("lobby", &["Ann"]),
            rooms(json!([{"name": "lobby", "members": 1}])),
            ack(json!({"ok": true, "nick": "Ann", "room": "lobby"})),
        ]
    );
    // A socket without a nickname is in no room: it only gets the list.
    assert_eq!(
        got(&mut s, watcher),
        [rooms(json!([{"name": "lobby", "members": 1}]))]
    );
    let bob = connect(&mut s);
    call(&mut s, bob, "set-nick", json!(["bob"]));
    assert_eq!(got(&mut s, bob)[0], notice("lobby", "bob joined lobby"));
    assert_eq!(
        got(&mut s, ann),
        [
            notice("lobby", "bob joined lobby"),
            members("lobby", &["Ann", "bob"]),
            rooms(json!([{"name": "lobby", "members": 2}])),
        ]
    );
}

#[test]
fn nicknames_are_checked() {
    let mut s = sim();
    let ann = user(&mut s, "Ann", &[]);
    let other = connect(&mut s);
    let too_long = "x".repeat(33);
    for (nick, error) in [
        (json!(7), "the nickname must be a string"),
        (json!("   "), "the nickname must not be empty"),
        (
            json!(too_long),
            "the nickname must be at most 32 characters",
        ),
        (
            json!("a\u{7}b"),
            "the nickname must not contain control characters",
        ),
        (json!("ANN"), "the nickname ANN is taken"),
        (json!(" ann "), "the nickname ann is taken"),
    ] {
        call(&mut s, other, "set-nick", json!([nick]));
        assert_eq!(
            got(&mut s, other),
            [ack(json!({ "error": error }))],
            "{nick}"
        );
    }
    call(&mut s, other, "set-nick", json!([]));
    assert_eq!(
        got(&mut s, other),
        [ack(json!({"error": "the nickname must be a string"}))]
    );
    // 32 characters (not bytes) are fine.
    let long = "é".repeat(32);
    call(&mut s, other, "set-nick", json!([long]));
    assert_eq!(got(&mut s, other).pop().unwrap().1["ok"], true);
    // Nobody saw the refusals.
    assert_eq!(
        got(&mut s, ann)[0],
        notice("lobby", &format!("{long} joined lobby"))
    );
    // Everything else needs a nickname.
    let anonymous = connect(&mut s);
    for (event, args) in [
        ("join-room", json!(["r"])),
        ("leave-room", json!([])),
        ("chat-message", json!(["hi"])),
    ] {
        call(&mut s, anonymous, event, args);
        assert_eq!(
            got(&mut s, anonymous),
            [ack(json!({"error": "set a nickname first"}))],
            "{event}"
        );
    }
    s.text(anonymous, r#"42["typing"]"#);
    assert!(got(&mut s, ann).is_empty());
}

#[test]
fn a_later_nickname_renames() {
    let mut s = sim();
    let ann = user(&mut s, "Ann", &[]);
    let bob = user(&mut s, "Bob", &[ann]);
    call(&mut s, ann, "set-nick", json!(["Anna"]));
    let expected = [
        notice("lobby", "Ann is now known as Anna"),
        members("lobby", &["Anna", "Bob"]),
    ];
    assert_eq!(got(&mut s, bob), expected);
    let mut with_ack = expected.to_vec();
    with_ack.push(ack(json!({"ok": true, "nick": "Anna", "room": "lobby"})));
    assert_eq!(got(&mut s, ann), with_ack);
    // The old nickname is free again; the same nickname is no change.
    call(&mut s, bob, "set-nick", json!(["ann"]));
    assert_eq!(
        got(&mut s, bob)[0],
        notice("lobby", "Bob is now known as ann")
    );
    s.texts(ann);
    call(&mut s, ann, "set-nick", json!(["Anna"]));
    assert_eq!(
        got(&mut s, ann),
        [ack(json!({"ok": true, "nick": "Anna", "room": "lobby"}))]
    );
    assert!(got(&mut s, bob).is_empty());
}

#[test]
fn rooms_join_and_leave() {
    let mut s = sim();
    let ann = user(&mut s, "Ann", &[]);
    let bob = user(&mut s, "bob", &[ann]);
    let watcher = connect(&mut s);
    for (name, error) in [
        (json!("a/b"), "the room name must not contain /"),
        (json!(""), "the room name must not be empty"),
        (json!(null), "the room name must be a string"),
    ] {
        call(&mut s, ann, "join-room", json!([name]));
        assert_eq!(got(&mut s, ann), [ack(json!({ "error": error }))]);
    }
    call(&mut s, ann, "leave-room", json!([]));
    assert_eq!(
        got(&mut s, ann),
        [ack(
            json!({"error": "you are in the lobby: there is nowhere to leave to"})
        )]
    );

    call(&mut s, ann, "join-room", json!([" rust "]));
    let list = json!([{"name": "lobby", "members": 1}, {"name": "rust", "members": 1}]);
    assert_eq!(
        got(&mut s, ann),
        [
            notice("rust", "Ann joined rust"),
            members("rust", &["Ann"]),
            rooms(list.clone()),
            ack(json!({"ok": true, "room": "rust", "members": ["Ann"]})),
        ]
    );
    assert_eq!(
        got(&mut s, bob),
        [
            notice("lobby", "Ann left lobby"),
            members("lobby", &["bob"]),
            rooms(list.clone()),
        ]
    );
    assert_eq!(got(&mut s, watcher), [rooms(list)]);

    // The room it is in: no change.
    call(&mut s, ann, "join-room", json!(["rust"]));
    assert_eq!(
        got(&mut s, ann),
        [ack(json!({"ok": true, "room": "rust", "members": ["Ann"]}))]
    );
    // Bob follows; then Ann goes back to the lobby.
    call(&mut s, bob, "join-room", json!(["rust"]));
    s.texts(bob);
    assert_eq!(
        got(&mut s, ann),
        [
            notice("rust", "bob joined rust"),
            members("rust", &["Ann", "bob"]),
            rooms(json!([{"name": "lobby", "members": 0}, {"name": "rust", "members": 2}])),
        ]
    );
    call(&mut s, ann, "leave-room", json!([]));
    assert_eq!(
        got(&mut s, ann),
        [
            notice("lobby", "Ann joined lobby"),
            members("lobby", &["Ann"]),
            rooms(json!([{"name": "lobby", "members": 1}, {"name": "rust", "members": 1}])),
            ack(json!({"ok": true, "room": "lobby", "members": ["Ann"]})),
        ]
    );
    assert_eq!(
        got(&mut s, bob),
        [
            notice("rust", "Ann left rust"),
            members("rust", &["bob"]),
            rooms(json!([{"name": "lobby", "members": 1}, {"name": "rust", "members": 1}])),
        ]
    );
    // An emptied room disappears (the lobby stays).
    call(&mut s, bob, "leave-room", json!([]));
    assert_eq!(
        got(&mut s, watcher).pop(),
        Some(rooms(json!([{"name": "lobby", "members": 2}])))
    );
}

/// Users Ann and Bob in the lobby, Eve in the room "elsewhere", with
/// nothing unread.
fn ann_and_bob_in_the_lobby_eve_elsewhere(s: &mut Sim<ChatData>) -> [ConnId; 3] {
    let ann = user(s, "Ann", &[]);
    let bob = user(s, "Bob", &[ann]);
    let eve = user(s, "Eve", &[ann, bob]);
    call(s, eve, "join-room", json!(["elsewhere"]));
    for conn in [ann, bob, eve] {
        s.texts(conn);
    }
    [ann, bob, eve]
}

#[test]
fn messages_go_to_the_room_sender_included() {
    let mut s = sim();
    let [ann, bob, eve] = ann_and_bob_in_the_lobby_eve_elsewhere(&mut s);
    call(&mut s, ann, "chat-message", json!(["hello, 世界"]));
    let message = ev(
        "chat-message",
        json!({"room": "lobby", "nick": "Ann", "text": "hello, 世界", "ts": "<ts>"}),
    );
    assert_eq!(
        got(&mut s, ann),
        [message.clone(), ack(json!({"ok": true, "ts": "<ts>"}))]
    );
    assert_eq!(got(&mut s, bob), [message]);
    assert!(got(&mut s, eve).is_empty());
    // Refused messages reach nobody.
    let too_long = "x".repeat(2001);
    for (text, error) in [
        (json!(" \n "), "the message is empty"),
        (json!(42), "the message is empty"),
        (
            json!(too_long),
            "the message must be at most 2000 characters",
        ),
    ] {
        call(&mut s, ann, "chat-message", json!([text]));
        assert_eq!(got(&mut s, ann), [ack(json!({ "error": error }))]);
    }
    assert!(got(&mut s, bob).is_empty());
    // 2000 characters are fine; no ack asked, none sent.
    let longest = "y".repeat(2000);
    s.text(bob, &format!(r#"42["chat-message","{longest}"]"#));
    assert_eq!(got(&mut s, bob).len(), 1);
    assert_eq!(got(&mut s, ann)[0].1["text"], longest.as_str());
}

#[test]
fn typing_notices_go_to_the_room_except_the_sender() {
    let mut s = sim();
    let [ann, bob, eve] = ann_and_bob_in_the_lobby_eve_elsewhere(&mut s);
    for event in ["typing", "stop-typing"] {
        s.text(ann, &format!(r#"42["{event}"]"#));
        assert!(got(&mut s, ann).is_empty());
        assert_eq!(
            got(&mut s, bob),
            [ev(event, json!({"room": "lobby", "nick": "Ann"}))]
        );
        assert!(got(&mut s, eve).is_empty());
    }
}

#[test]
fn a_user_who_disconnects_leaves_its_room() {
    let mut s = sim();
    let ann = user(&mut s, "Ann", &[]);
    let bob = user(&mut s, "Bob", &[ann]);
    let watcher = connect(&mut s);
    call(&mut s, ann, "join-room", json!(["rust"]));
    call(&mut s, bob, "join-room", json!(["rust"]));
    for conn in [ann, bob, watcher] {
        s.texts(conn);
    }
    // By a disconnect packet.
    s.text(ann, "41");
    assert_eq!(
        got(&mut s, bob),
        [
            ev("stop-typing", json!({"room": "rust", "nick": "Ann"})),
            notice("rust", "Ann left rust"),
            members("rust", &["Bob"]),
            rooms(json!([{"name": "lobby", "members": 0}, {"name": "rust", "members": 1}])),
        ]
    );
    assert_eq!(
        got(&mut s, watcher),
        [rooms(
            json!([{"name": "lobby", "members": 0}, {"name": "rust", "members": 1}])
        )]
    );
    // Its nickname is free again.
    let ann2 = user(&mut s, "ann", &[bob, watcher]);
    // By a lost transport: the last member empties the room.
    s.drop_ws(bob);
    assert_eq!(
        got(&mut s, ann2),
        [rooms(json!([{"name": "lobby", "members": 1}]))]
    );
    // Without a nickname: nothing to tell.
    s.drop_ws(watcher);
    assert!(got(&mut s, ann2).is_empty());
}
