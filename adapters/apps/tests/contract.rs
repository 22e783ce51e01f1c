//! The conformance contract (`src/conformance.rs`), clause by clause,
//! without any I/O: [`conformance::app`] in an [`AppServer`] on a virtual
//! clock, driven with WebSocket frames (and HTTP for the handshakes) by an
//! Engine.IO v4 / Socket.IO rev 5 client (socket.io-client 3.x/4.x), an
//! Engine.IO v3 / rev 4 client (2.x, `EIO=3`) and a Socket.IO 0.9 client
//! (`/socket.io/1/` handshake, then `/socket.io/1/websocket/<sid>`). What a
//! driver adds (sockets, threads, timers) is tested by the interop suites.
//!
//! [`AppServer`]: socketio_sansio::app::AppServer

mod sansio;

use std::time::Duration;

use serde_json::{json, Value};
use socketio_apps::conformance::{self, Options};
use socketio_sansio::ConnId;

use sansio::{is_sid, json_after, Out, Sim};

const MS: Duration = Duration::from_millis(1);

fn options(args: &[&str]) -> Options {
    Options::parse(args.iter().map(|s| s.to_string())).expect("valid options")
}

/// The contract's defaults: 300/200 ms heartbeats.
fn sim() -> Sim<()> {
    {
        let options = options(&["--port", "3000"]);
        Sim::new(options.config(), conformance::app(&options))
    }
}

/// Heartbeats far apart (10 s, 5 s), for tests that wait.
fn quiet_sim() -> Sim<()> {
    let options = options(&[
        "--port",
        "3000",
        "--ping-interval",
        "10000",
        "--ping-timeout",
        "5000",
    ]);
    Sim::new(options.config(), conformance::app(&options))
}

/// The open packet of a v4/v3 session (its JSON).
fn open_json(frame: &str) -> Value {
    json_after(frame, "0")
}

/// A v4 (rev 5) client connected to `/` with `auth`; returns the
/// connection and the socket id.
fn v4(s: &mut Sim<()>, auth: Option<&str>) -> (ConnId, String) {
    let conn = s.ws("/socket.io/?EIO=4&transport=websocket");
    let out = s.texts(conn);
    assert_eq!(out.len(), 1, "{out:?}");
    open_json(&out[0]);
    s.text(conn, &format!("40{}", auth.unwrap_or("")));
    let out = s.texts(conn);
    assert_eq!(out.len(), 2, "{out:?}");
    let sid = json_after(&out[0], "40")["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    assert!(is_sid(&sid), "{sid}");
    let auth = auth.map_or(json!({}), |a| serde_json::from_str(a).unwrap());
    assert_eq!(json_after(&out[1], "42"), json!(["auth", auth]));
    (conn, sid)
}

/// A v3 (rev 4) client: connected to `/` by the server at once.
fn v3(s: &mut Sim<()>) -> ConnId {
    let conn = s.ws("/socket.io/?EIO=3&transport=websocket");
    let out = s.texts(conn);
    assert_eq!(out.len(), 3, "{out:?}");
    open_json(&out[0]);
    assert_eq!(out[1], "40");
    assert_eq!(out[2], r#"42["auth",{}]"#);
    conn
}

/// A 0.9 client: the HTTP handshake with `query`, then the WebSocket
/// (`1::`, then the `auth` event with `auth`); returns the connection and
/// the session id (also its socket id).
fn legacy_with(s: &mut Sim<()>, query: &str, auth: Value) -> (ConnId, String) {
    let response = s.get(&format!("/socket.io/1/?t=1{query}"));
    assert_eq!(response.status, 200);
    let body = response.body_text();
    let sid = body.split(':').next().unwrap().to_owned();
    // Heartbeat and close timeouts (whole seconds), transports.
    let fields: Vec<&str> = body.split(':').collect();
    assert_eq!(fields.len(), 4, "{body}");
    assert_eq!(fields[1], fields[2], "{body}");
    assert_eq!(fields[3], "websocket,xhr-polling");
    let conn = s.ws(&format!("/socket.io/1/websocket/{sid}"));
    let out = s.texts(conn);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0], "1::");
    assert_eq!(
        json_after(&out[1], "5:::"),
        json!({"name": "auth", "args": [auth]})
    );
    (conn, sid)
}

/// A 0.9 client without a connect query.
fn legacy(s: &mut Sim<()>) -> (ConnId, String) {
    legacy_with(s, "", json!({}))
}

// ---- the sessions ------------------------------------------------------

#[test]
fn open_packets_advertise_the_contract_settings() {
    let mut s = sim();
    for url in [
        "/socket.io/?EIO=4&transport=websocket",
        "/socket.io/?EIO=3&transport=websocket",
        "/engine.io/?EIO=4&transport=websocket",
        "/engine.io/?EIO=3&transport=websocket",
    ] {
        let conn = s.ws(url);
        let open = open_json(&s.texts(conn)[0]);
        let sid = open["sid"].as_str().expect("sid");
        assert!(is_sid(sid), "{url}: {sid}");
        assert_eq!(
            open,
            json!({"sid": sid, "upgrades": [], "pingInterval": 300,
                   "pingTimeout": 200, "maxPayload": 1000000}),
            "{url}"
        );
    }
    // Given intervals are advertised (and the 0.9 timeouts follow them).
    let given = options(&[
        "--port",
        "1",
        "--ping-interval",
        "1000",
        "--ping-timeout",
        "2000",
    ]);
    let mut s = Sim::new(given.config(), conformance::app(&given));
    let conn = s.ws("/socket.io/?EIO=4&transport=websocket");
    let open = open_json(&s.texts(conn)[0]);
    assert_eq!(
        (open["pingInterval"].clone(), open["pingTimeout"].clone()),
        (json!(1000), json!(2000))
    );
    let body = s.get("/socket.io/1/?t=1").body_text();
    assert!(body.ends_with(":3:3:websocket,xhr-polling"), "{body}");
    // The defaults: 300 + 200 ms, rounded up to whole seconds.
    let body = sim().get("/socket.io/1/?t=1").body_text();
    assert!(body.ends_with(":1:1:websocket,xhr-polling"), "{body}");
}

#[test]
fn unsupported_versions_and_transports_are_refused() {
    let mut s = sim();
    for url in [
        "/socket.io/?transport=polling",
        "/socket.io/?EIO=5&transport=polling",
        "/socket.io/?EIO=2&transport=polling",
    ] {
        let r = s.get(url);
        assert_eq!(r.status, 400, "{url}");
        assert_eq!(
            serde_json::from_slice::<Value>(&r.body).unwrap(),
            json!({"code": 5, "message": "Unsupported protocol version"}),
            "{url}"
        );
    }
    let r = s.get("/socket.io/?EIO=4&transport=carrier-pigeon");
    assert_eq!(r.status, 400);
    assert_eq!(serde_json::from_slice::<Value>(&r.body).unwrap()["code"], 0);
    let refused = s
        .try_ws("/socket.io/?EIO=5&transport=websocket")
        .expect_err("EIO=5 is refused");
    assert_eq!((refused.status, refused.code), (400, 5));
}

#[test]
fn heartbeats_follow_the_ping_settings() {
    let mut s = sim();
    // v4: the server pings every 300 ms and closes 200 ms after an
    // unanswered ping.
    let (a, _) = v4(&mut s, None);
    s.advance(300 * MS);
    assert_eq!(s.texts(a), ["2"]);
    s.text(a, "3");
    s.advance(300 * MS);
    assert_eq!(s.texts(a), ["2"]);
    s.advance(199 * MS);
    assert!(s.texts(a).is_empty());
    s.advance(MS);
    assert_eq!(s.take(a), [Out::Close]);
    // v3: the client pings, the server answers.
    let b = v3(&mut s);
    s.text(b, "2");
    assert_eq!(s.texts(b), ["3"]);
    // 0.9: heartbeats every 300 ms.
    let (c, _) = legacy(&mut s);
    s.advance(300 * MS);
    assert_eq!(s.texts(c), ["2::"]);
}

// ---- connection and namespaces ------------------------------------------

#[test]
fn connection_emits_auth_with_the_handshake_auth() {
    let mut s = sim();
    v4(&mut s, None);
    v4(&mut s, Some(r#"{"token":"abc","n":[1,2]}"#));
    // /custom too, with its own auth.
    let (a, _) = v4(&mut s, None);
    s.text(a, r#"40/custom,{"x":1}"#);
    let out = s.texts(a);
    assert!(out[0].starts_with(r#"40/custom,{"sid":""#), "{out:?}");
    assert_eq!(out[1], r#"42/custom,["auth",{"x":1}]"#);
    // v3: the query of the namespace connect is its auth.
    let b = v3(&mut s);
    s.text(b, "40/custom?x=1&y=z");
    assert_eq!(
        s.texts(b),
        ["40/custom,", r#"42/custom,["auth",{"x":"1","y":"z"}]"#]
    );
    // 0.9: the connect query is the auth, of the global endpoint and of
    // `/custom` (the cache buster `t` is not part of it).
    let (c, _) = legacy_with(&mut s, "&user=ann", json!({"user": "ann"}));
    s.text(c, "1::/custom");
    assert_eq!(
        s.texts(c),
        [
            "1::/custom",
            r#"5::/custom:{"name":"auth","args":[{"user":"ann"}]}"#
        ]
    );
}

#[test]
fn other_namespaces_are_invalid() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, "40/nope,");
    assert_eq!(s.texts(a), [r#"44/nope,{"message":"Invalid namespace"}"#]);
    let b = v3(&mut s);
    s.text(b, "40/nope");
    assert_eq!(s.texts(b), [r#"44/nope,{"message":"Invalid namespace"}"#]);
    let (c, _) = legacy(&mut s);
    s.text(c, "1::/nope");
    assert_eq!(s.texts(c), ["7::/nope:2"]);
    // The sessions go on.
    for conn in [a, b] {
        s.text(conn, r#"42["message",1]"#);
        assert_eq!(s.texts(conn), [r#"42["message-back",1]"#]);
    }
}

// ---- the events --------------------------------------------------------

#[test]
fn message_is_echoed_as_message_back() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, r#"42["message",1,"2",{"3":[4,null]}]"#);
    assert_eq!(s.texts(a), [r#"42["message-back",1,"2",{"3":[4,null]}]"#]);
    s.text(a, r#"451-["message",{"_placeholder":true,"num":0}]"#);
    s.binary(a, &[1, 2, 3]);
    assert_eq!(
        s.take(a),
        [
            Out::Text(r#"451-["message-back",{"_placeholder":true,"num":0}]"#.into()),
            Out::Bin(vec![1, 2, 3])
        ]
    );
    s.text(a, r#"40/custom,"#);
    s.texts(a);
    s.text(a, r#"42/custom,["message","c"]"#);
    assert_eq!(s.texts(a), [r#"42/custom,["message-back","c"]"#]);
    let b = v3(&mut s);
    s.text(b, r#"42["message",true]"#);
    assert_eq!(s.texts(b), [r#"42["message-back",true]"#]);
    // EIO=3 binary frames carry the message type 4 first.
    s.text(b, r#"451-["message",{"_placeholder":true,"num":0}]"#);
    s.binary(b, &[4, 7]);
    assert_eq!(
        s.take(b),
        [
            Out::Text(r#"451-["message-back",{"_placeholder":true,"num":0}]"#.into()),
            Out::Bin(vec![4, 7])
        ]
    );
    let (c, _) = legacy(&mut s);
    s.text(c, r#"5:::{"name":"message","args":["hi",1]}"#);
    assert_eq!(
        s.texts(c),
        [r#"5:::{"name":"message-back","args":["hi",1]}"#]
    );
}

#[test]
fn message_with_ack_is_acknowledged_with_the_same_arguments() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, r#"427["message-with-ack",1,"2",{"3":[4]}]"#);
    assert_eq!(s.texts(a), [r#"437[1,"2",{"3":[4]}]"#]);
    s.text(
        a,
        r#"451-12["message-with-ack",{"_placeholder":true,"num":0}]"#,
    );
    s.binary(a, &[9]);
    assert_eq!(
        s.take(a),
        [
            Out::Text(r#"461-12[{"_placeholder":true,"num":0}]"#.into()),
            Out::Bin(vec![9])
        ]
    );
    let b = v3(&mut s);
    s.text(b, r#"420["message-with-ack","x"]"#);
    assert_eq!(s.texts(b), [r#"430["x"]"#]);
    // 0.9: a data-ack request is answered with the same args.
    let (c, _) = legacy(&mut s);
    s.text(c, r#"5:4+::{"name":"message-with-ack","args":[1,"2"]}"#);
    assert_eq!(s.texts(c), [r#"6:::4+[1,"2"]"#]);
}

#[test]
fn legacy_message_and_json_packets_are_echoed_in_kind() {
    let mut s = sim();
    let (c, _) = legacy(&mut s);
    s.text(c, "3:::hello there");
    assert_eq!(s.texts(c), ["3:::hello there"]);
    s.text(c, r#"4:::{"a":[1,2]}"#);
    assert_eq!(s.texts(c), [r#"4:::{"a":[1,2]}"#]);
    s.text(c, "1::/custom");
    s.texts(c);
    s.text(c, "3::/custom:x");
    assert_eq!(s.texts(c), ["3::/custom:x"]);
}

#[test]
fn broadcast_reaches_every_socket_of_root_in_every_generation() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    let b = v3(&mut s);
    let (c, _) = legacy(&mut s);
    // Only in /custom: not reached.
    let d = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.text(d, "40/custom,");
    s.texts(d);
    // Also in /custom: reached once, on `/`.
    s.text(a, "40/custom,");
    s.texts(a);
    s.text(b, r#"42["broadcast",{"n":1},"two"]"#);
    assert_eq!(s.texts(a), [r#"42["broadcast",{"n":1},"two"]"#]);
    assert_eq!(s.texts(b), [r#"42["broadcast",{"n":1},"two"]"#]);
    assert_eq!(
        s.texts(c),
        [r#"5:::{"name":"broadcast","args":[{"n":1},"two"]}"#]
    );
    assert!(s.texts(d).is_empty());
    // From /custom: still to the sockets of `/`.
    s.text(d, r#"42/custom,["broadcast",3]"#);
    assert!(s.texts(d).is_empty());
    for conn in [a, b] {
        assert_eq!(s.texts(conn), [r#"42["broadcast",3]"#]);
    }
    assert_eq!(s.texts(c), [r#"5:::{"name":"broadcast","args":[3]}"#]);
    // From a 0.9 client.
    s.text(c, r#"5:::{"name":"broadcast","args":[4]}"#);
    assert_eq!(s.texts(a), [r#"42["broadcast",4]"#]);
    assert_eq!(s.texts(b), [r#"42["broadcast",4]"#]);
    assert_eq!(s.texts(c), [r#"5:::{"name":"broadcast","args":[4]}"#]);
}

#[test]
fn emit_with_ack_asks_the_client_and_emits_its_answer() {
    let mut s = quiet_sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, r#"42["emit-with-ack",1,"b"]"#);
    let out = s.texts(a);
    assert_eq!(out.len(), 1, "{out:?}");
    let id: String = out[0][2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(
        json_after(&out[0], &format!("42{id}")),
        json!(["emit-with-ack", 1, "b"])
    );
    s.text(a, &format!(r#"43{id}[{{"answer":2}},3]"#));
    assert_eq!(s.texts(a), [r#"42["emit-with-ack-result",{"answer":2},3]"#]);
    // No answer: no result, not even after the 10 s wait.
    s.text(a, r#"42["emit-with-ack"]"#);
    assert_eq!(s.texts(a).len(), 1);
    s.advance(9_999 * MS);
    s.text(a, "3");
    s.advance(1_001 * MS);
    assert_eq!(s.texts(a), ["2"], "a ping, and no result");
    let b = v3(&mut s);
    s.text(b, r#"42["emit-with-ack","x"]"#);
    assert_eq!(s.texts(b), [r#"420["emit-with-ack","x"]"#]);
    s.text(b, r#"430["y"]"#);
    assert_eq!(s.texts(b), [r#"42["emit-with-ack-result","y"]"#]);
    let (c, _) = legacy(&mut s);
    s.text(c, r#"5:::{"name":"emit-with-ack","args":[1]}"#);
    assert_eq!(s.texts(c), [r#"5:1+::{"name":"emit-with-ack","args":[1]}"#]);
    s.text(c, "6:::1+[2]");
    assert_eq!(
        s.texts(c),
        [r#"5:::{"name":"emit-with-ack-result","args":[2]}"#]
    );
}

#[test]
fn disconnect_me_disconnects_that_socket() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, "40/custom,");
    s.texts(a);
    s.text(a, r#"42/custom,["disconnect-me"]"#);
    assert_eq!(s.texts(a), ["41/custom,"]);
    // `/` stays.
    s.text(a, r#"42["message",1]"#);
    assert_eq!(s.texts(a), [r#"42["message-back",1]"#]);
    s.text(a, r#"42["disconnect-me"]"#);
    assert_eq!(s.texts(a), ["41"]);
    let b = v3(&mut s);
    s.text(b, r#"42["disconnect-me"]"#);
    assert_eq!(s.texts(b), ["41"]);
    // 0.9: leaving `/custom` keeps the session; leaving the global endpoint
    // ends it.
    let (c, _) = legacy(&mut s);
    s.text(c, "1::/custom");
    s.texts(c);
    s.text(c, r#"5::/custom:{"name":"disconnect-me"}"#);
    assert_eq!(s.texts(c), ["0::/custom"]);
    s.text(c, r#"5:::{"name":"disconnect-me"}"#);
    assert_eq!(s.texts(c), ["0::", "<close>"]);
}

// ---- rooms, fetch-sockets, ack-all ----------------------------------------

#[test]
fn join_acknowledges_with_true() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, r#"423["join","room one"]"#);
    assert_eq!(s.texts(a), ["433[true]"]);
    // Without an ack request: joins silently.
    s.text(a, r#"42["join","room two"]"#);
    assert!(s.texts(a).is_empty());
    let b = v3(&mut s);
    s.text(b, r#"420["join","r"]"#);
    assert_eq!(s.texts(b), ["430[true]"]);
    let (c, _) = legacy(&mut s);
    s.text(c, r#"5:1+::{"name":"join","args":["r"]}"#);
    assert_eq!(s.texts(c), ["6:::1+[true]"]);
}

#[test]
fn room_broadcast_reaches_exactly_the_members_with_the_remaining_args() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    let (b, _) = v4(&mut s, None);
    let c3 = v3(&mut s);
    let (c9, _) = legacy(&mut s);
    let (outsider, _) = v4(&mut s, None);
    // A socket of /custom in a room of the same name is not reached.
    s.text(outsider, "40/custom,");
    s.texts(outsider);
    s.text(outsider, r#"42/custom,["join","r"]"#);
    s.text(a, r#"421["join","r"]"#);
    s.text(c3, r#"421["join","r"]"#);
    s.text(c9, r#"5:1+::{"name":"join","args":["r"]}"#);
    s.text(b, r#"421["join","other"]"#);
    for conn in [a, b, c3, c9, outsider] {
        s.texts(conn);
    }
    // From a member: the sender is reached too.
    s.text(a, r#"42["room-broadcast","r",1,{"two":[2]},"three"]"#);
    let expected = r#"42["room-broadcast",1,{"two":[2]},"three"]"#;
    assert_eq!(s.texts(a), [expected]);
    assert_eq!(s.texts(c3), [expected]);
    assert_eq!(
        s.texts(c9),
        [r#"5:::{"name":"room-broadcast","args":[1,{"two":[2]},"three"]}"#]
    );
    assert!(s.texts(b).is_empty());
    assert!(s.texts(outsider).is_empty());
    // From a non-member: the members only.
    s.text(b, r#"42["room-broadcast","r"]"#);
    assert!(s.texts(b).is_empty());
    assert_eq!(s.texts(a), [r#"42["room-broadcast"]"#]);
    assert_eq!(s.texts(c3), [r#"42["room-broadcast"]"#]);
    // 0.9 leaves out empty args.
    assert_eq!(s.texts(c9), [r#"5:::{"name":"room-broadcast"}"#]);
    // From a 0.9 member.
    s.text(c9, r#"5:::{"name":"room-broadcast","args":["r","x"]}"#);
    assert_eq!(s.texts(a), [r#"42["room-broadcast","x"]"#]);
    assert_eq!(s.texts(c3), [r#"42["room-broadcast","x"]"#]);
    assert_eq!(
        s.texts(c9),
        [r#"5:::{"name":"room-broadcast","args":["x"]}"#]
    );
    // A room nobody is in.
    s.text(a, r#"42["room-broadcast","empty",1]"#);
    for conn in [a, b, c3, c9, outsider] {
        assert!(s.texts(conn).is_empty());
    }
    // After a leave (disconnect-me), the member is gone.
    s.text(c3, r#"42["disconnect-me"]"#);
    s.texts(c3);
    s.text(b, r#"42["room-broadcast","r",2]"#);
    assert_eq!(s.texts(a), [r#"42["room-broadcast",2]"#]);
    assert!(s.texts(c3).is_empty());
}

#[test]
fn fetch_sockets_acknowledges_with_the_sorted_ids_of_root() {
    let mut s = sim();
    let (a, a_id) = v4(&mut s, None);
    let (_, b_id) = v4(&mut s, None);
    let (c, c_id) = legacy(&mut s);
    // A /custom-only socket is not listed.
    let d = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.text(d, "40/custom,");
    s.texts(d);
    let mut ids = vec![a_id.clone(), b_id.clone(), c_id.clone()];
    ids.sort();
    s.text(a, r#"425["fetch-sockets"]"#);
    assert_eq!(s.texts(a), [format!("435{}", json!([ids]))]);
    // From /custom and from a 0.9 client: the same list.
    s.text(d, r#"42/custom,1["fetch-sockets"]"#);
    assert_eq!(s.texts(d), [format!("43/custom,1{}", json!([ids]))]);
    s.text(c, r#"5:2+::{"name":"fetch-sockets"}"#);
    assert_eq!(s.texts(c), [format!("6:::2+{}", json!([ids]))]);
    // A socket that left is not listed.
    s.text(a, r#"42["disconnect-me"]"#);
    s.texts(a);
    let mut ids = vec![b_id, c_id];
    ids.sort();
    s.text(c, r#"5:3+::{"name":"fetch-sockets"}"#);
    assert_eq!(s.texts(c), [format!("6:::3+{}", json!([ids]))]);
}

/// The ack id of an `ack-all-ping` a v3/v4 client got.
fn ping_id(frames: &[String]) -> String {
    assert_eq!(frames.len(), 1, "{frames:?}");
    let f = &frames[0];
    let id: String = f[2..].chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(f, &format!(r#"42{id}["ack-all-ping"]"#));
    id
}

#[test]
fn ack_all_counts_the_answers_within_the_timeout() {
    let mut s = quiet_sim();
    let (a, _) = v4(&mut s, None);
    let (b, _) = v4(&mut s, None);
    let c3 = v3(&mut s);
    let (c9, _) = legacy(&mut s);
    let (silent, _) = v4(&mut s, None);
    // /custom sockets are not asked.
    let d = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.text(d, "40/custom,");
    s.texts(d);

    s.text(a, r#"428["ack-all",1000]"#);
    let id_a = ping_id(&s.texts(a));
    let id_b = ping_id(&s.texts(b));
    let id_c3 = ping_id(&s.texts(c3));
    assert_eq!(s.texts(c9), [r#"5:1+::{"name":"ack-all-ping"}"#]);
    ping_id(&s.texts(silent));
    assert!(s.texts(d).is_empty());

    // Four of five answer (the caller too), with any arguments.
    s.text(a, &format!("43{id_a}[]"));
    s.text(b, &format!(r#"43{id_b}["pong"]"#));
    s.advance(400 * MS);
    s.text(c3, &format!("43{id_c3}[1]"));
    s.text(c9, "6:::1+[]");
    assert!(s.texts(a).is_empty(), "no answer before the timeout");
    s.advance(599 * MS);
    assert!(s.texts(a).is_empty(), "no answer before the timeout");
    s.advance(MS);
    assert_eq!(s.texts(a), ["438[4]"]);
    // A late answer changes nothing.
    s.text(silent, "430[]");
    assert!(s.texts(a).is_empty());
}

#[test]
fn ack_all_answers_at_once_when_everyone_answered() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    let (b, _) = v4(&mut s, None);
    s.text(b, r#"421["ack-all",5000]"#);
    let id_a = ping_id(&s.texts(a));
    let id_b = ping_id(&s.texts(b));
    s.text(a, &format!("43{id_a}[]"));
    assert!(s.texts(b).is_empty());
    s.text(b, &format!("43{id_b}[]"));
    assert_eq!(s.texts(b), ["431[2]"]);
}

#[test]
fn ack_all_counts_zero_when_nobody_answers() {
    let mut s = sim();
    let (a, _) = v4(&mut s, None);
    s.text(a, r#"420["ack-all",100]"#);
    ping_id(&s.texts(a));
    s.advance(100 * MS);
    assert_eq!(s.texts(a), ["430[0]"]);
}

// ---- the bare Engine.IO endpoint ----------------------------------------

#[test]
fn engine_io_endpoint_echoes_every_message() {
    let mut s = sim();
    for eio in [4, 3] {
        let e = s.ws(&format!("/engine.io/?EIO={eio}&transport=websocket"));
        s.texts(e);
        s.text(e, "4hello, 世界");
        assert_eq!(s.texts(e), ["4hello, 世界"]);
        // No Socket.IO layer: a Socket.IO packet is just a message.
        s.text(e, r#"42["message",1]"#);
        assert_eq!(s.texts(e), [r#"42["message",1]"#]);
        let binary = if eio == 4 {
            vec![0, 1, 255]
        } else {
            vec![4, 0, 1, 255]
        };
        s.binary(e, &binary);
        assert_eq!(s.take(e), [Out::Bin(binary)]);
    }
    // Heartbeats as configured.
    let e = s.ws("/engine.io/?EIO=4&transport=websocket");
    s.texts(e);
    s.advance(300 * MS);
    assert_eq!(s.texts(e), ["2"]);
    s.advance(200 * MS);
    assert_eq!(s.texts(e), ["<close>"]);
}

// ---- --recovery MS ----------------------------------------------------------

#[test]
fn recovery_restores_the_socket_with_what_it_missed() {
    let options = options(&["--port", "3000", "--recovery", "5000"]);
    assert_eq!(options.recovery, Some(Duration::from_secs(5)));
    let mut s = Sim::new(options.config(), conformance::app(&options));
    let a = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.texts(a);
    s.text(a, "40");
    let out = s.texts(a);
    let answer = json_after(&out[0], "40");
    let (sid, pid) = (answer["sid"].clone(), answer["pid"].clone());
    assert!(pid.is_string(), "{answer}");
    // `auth` carries its offset.
    let auth = json_after(&out[1], "42");
    let offset = auth[2].clone();
    assert!(offset.is_string(), "{auth}");
    s.text(a, r#"421["join","r"]"#);
    assert_eq!(s.texts(a), ["431[true]"]);
    s.drop_ws(a);
    let b = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.text(b, "40");
    s.texts(b);
    s.text(b, r#"42["room-broadcast","r","in-r"]"#);
    s.text(b, r#"42["room-broadcast","other","in-other"]"#);
    s.text(b, r#"42["broadcast","all"]"#);
    s.texts(b);
    let a = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.texts(a);
    s.text(a, &format!("40{}", json!({"pid": pid, "offset": offset})));
    let out = s.texts(a);
    let first = json_after(&out[0], "42");
    assert_eq!(
        (&first[0], &first[1]),
        (&json!("room-broadcast"), &json!("in-r"))
    );
    let second = json_after(&out[1], "42");
    assert_eq!(
        (&second[0], &second[1]),
        (&json!("broadcast"), &json!("all"))
    );
    assert_eq!(out.len(), 4, "missed, missed, CONNECT, auth: {out:?}");
    assert_eq!(json_after(&out[2], "40")["sid"], sid);
    // Past the duration, no more.
    s.drop_ws(a);
    s.advance(5001 * MS);
    let a = s.ws("/socket.io/?EIO=4&transport=websocket");
    s.texts(a);
    s.text(a, &format!("40{}", json!({"pid": pid})));
    let out = s.texts(a);
    assert_ne!(json_after(&out[0], "40")["sid"], sid, "{out:?}");
}

/// `--parser msgpack`: v4 clients speak `socket.io-msgpack-parser`'s format
/// (one binary message per packet), v3 and 0.9 clients are refused;
/// `--parser json` is the default and anything else a usage error.
#[test]
fn parser_option() {
    use socketio_sansio::wire::msgpack;
    use socketio_sansio::wire::sio::{Args, Body, DecoderConfig, Event, Packet};
    use socketio_sansio::Parser;

    assert_eq!(options(&["--port", "1"]).parser, Parser::Json);
    assert_eq!(
        options(&["--port", "1", "--parser", "json"]).parser,
        Parser::Json
    );
    assert!(Options::parse(["--port", "1", "--parser", "xml"].map(String::from)).is_err());
    let opts = options(&["--port", "3000", "--parser", "msgpack"]);
    assert_eq!(opts.parser, Parser::MsgPack);
    let mut s = Sim::new(opts.config(), conformance::app(&opts));

    let encode = |p: &Packet| {
        let mut out = Vec::new();
        msgpack::encode(p, &mut out);
        out
    };
    let decode_all = |out: Vec<Out>| -> Vec<Packet> {
        out.into_iter()
            .map(|o| match o {
                Out::Bin(b) => msgpack::decode(&b, &DecoderConfig::default()).expect("msgpack"),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let conn = s.ws("/socket.io/?EIO=4&transport=websocket");
    assert_eq!(s.texts(conn).len(), 1, "the open packet");
    s.binary(
        conn,
        &encode(&Packet {
            nsp: "/".into(),
            body: Body::Connect(None),
        }),
    );
    let got = decode_all(s.take(conn));
    assert!(matches!(&got[0].body, Body::Connect(Some(v)) if v["sid"].is_string()));
    assert!(
        matches!(&got[1].body, Body::Event(e) if e.name == "auth" && e.args.values == [json!({})])
    );
    let mut args = Args::json(vec![json!({"a": [1, null]})]);
    let ph = args.attach(vec![1, 2]);
    args.values.push(ph);
    s.binary(
        conn,
        &encode(&Packet {
            nsp: "/".into(),
            body: Body::Event(Event {
                name: "message".into(),
                args: args.clone(),
                id: None,
            }),
        }),
    );
    let got = decode_all(s.take(conn));
    assert_eq!(
        got[0].body,
        Body::Event(Event {
            name: "message-back".into(),
            args,
            id: None
        })
    );
    assert!(s.try_ws("/socket.io/?EIO=3&transport=websocket").is_err());
    assert_eq!(s.get("/socket.io/?EIO=3&transport=polling").status, 400);
}
