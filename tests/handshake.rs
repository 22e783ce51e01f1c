//! WebSocket handshakes: the checks and error codes of the engine.io 6.x
//! server (engine.io-protocol v4, *Transports › WebSocket*; the `EIO` query
//! picks the version, a 0.9 path has none) and the injected randomness
//! behind ids.

mod common;

use common::{is_sid, Harness};
use socketio_sansio::{Config, Handshake, Rejection, SeededRandom, Server};

fn open(server: &mut Server, url: &str) -> Result<(), Rejection> {
    server
        .handle_ws_open(std::time::Instant::now(), Handshake::new(url, vec![]))
        .map(|_| ())
}

#[test]
fn bad_version_transport_and_sid_are_refused_with_the_reference_codes() {
    let mut s = Server::with_random(
        Config::builder().build().unwrap(),
        Box::new(SeededRandom::new(1)),
    );
    let cases = [
        ("/socket.io/?transport=websocket", 5),
        ("/socket.io/?EIO=abc&transport=websocket", 5),
        ("/socket.io/?EIO=5&transport=websocket", 5),
        ("/socket.io/?EIO=2&transport=websocket", 5),
        ("/socket.io/?EIO=4", 0),
        ("/socket.io/?EIO=4&transport=abc", 0),
        ("/socket.io/?EIO=4&transport=webtransport", 0),
        ("/socket.io/?EIO=4&transport=__proto__", 0),
        ("/socket.io/?EIO=4&transport=websocket&sid=unknown", 1),
        ("/socket.io/?EIO=4&transport=websocket&sid=__proto__", 1),
        ("/socket.io/?EIO=4&transport=websocket&transport=polling", 3),
        ("/socket.io/?EIO=4&EIO=3&transport=websocket", 3),
    ];
    for (url, code) in cases {
        let err = open(&mut s, url).expect_err(url);
        assert_eq!((err.status, err.code), (400, code), "{url}");
    }
    assert_eq!(
        Rejection::UNSUPPORTED_PROTOCOL_VERSION.json_body(),
        r#"{"code":5,"message":"Unsupported protocol version"}"#
    );
    assert_eq!(
        Rejection::TRANSPORT_UNKNOWN.json_body(),
        r#"{"code":0,"message":"Transport unknown"}"#
    );
    // An empty sid is a new handshake.
    assert!(open(&mut s, "/socket.io/?EIO=4&transport=websocket&sid=").is_ok());
    assert_eq!(s.connection_count(), 1);
}

#[test]
fn eio3_can_be_disabled() {
    let mut s = Server::with_random(
        Config::builder().allow_eio3(false).build().unwrap(),
        Box::new(SeededRandom::new(1)),
    );
    assert_eq!(
        open(&mut s, "/?EIO=3&transport=websocket"),
        Err(Rejection::UNSUPPORTED_PROTOCOL_VERSION)
    );
    assert!(open(&mut s, "/?EIO=4&transport=websocket").is_ok());
}

#[test]
fn session_ids_are_unique_reference_shaped_and_found_by_sid() {
    let mut h = Harness::conformance();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let (id, open) = h.open_and_handshake(4);
        let sid = open["sid"].as_str().unwrap().to_owned();
        assert!(is_sid(&sid));
        assert_eq!(h.server.find_sid(&sid), Some(id));
        assert!(seen.insert(sid));
    }
}

#[test]
fn handshake_query_and_headers_are_kept() {
    let mut h = Harness::conformance();
    let id = h
        .server
        .handle_ws_open(
            h.now,
            Handshake::new(
                "/socket.io/?EIO=4&transport=websocket&room=a%20b",
                vec![("X-Token".into(), "t".into())],
            ),
        )
        .unwrap();
    let hs = h.server.connection(id).unwrap().handshake();
    assert_eq!(hs.query.get("room"), Some("a b"));
    assert_eq!(hs.header("x-token"), Some("t"));
}
