//! Edge behaviours of the reference engine.io server (engine.io 6.x
//! `lib/server.ts`, `lib/socket.ts`, `lib/transports/polling.ts`), sans-IO,
//! for Engine.IO v3 and v4: the client's close over polling, polling after
//! an upgrade, a second WebSocket for an upgraded session, overlapping
//! POSTs, a binary frame on a 0.9 session, and the cap on the packets of
//! one polling response. The drivers run the same scenarios live in
//! `adapters/apps/tests/edges.rs`.

mod common;

use common::{Harness, Out};
use socketio_sansio::{
    Config, DisconnectReason, Event, Handshake, HttpRequest, HttpResponse, Method, Rejection,
    RequestId,
};

fn url(eio: u8, sid: &str) -> String {
    format!("/socket.io/?EIO={eio}&transport=polling&sid={sid}")
}

fn ws_url(eio: u8, sid: &str) -> String {
    format!("/socket.io/?EIO={eio}&transport=websocket&sid={sid}")
}

/// A polling body of `packets` in `eio`'s framing.
fn payload(eio: u8, packets: &[&str]) -> Vec<u8> {
    match eio {
        4 => packets.join("\u{1e}").into_bytes(),
        _ => packets
            .iter()
            .map(|p| format!("{}:{p}", p.chars().count()))
            .collect::<String>()
            .into_bytes(),
    }
}

/// A polling session joined to `/`, its first packets taken.
fn joined_polling(h: &mut Harness, eio: u8) -> String {
    let (sid, _) = h.poll_handshake(eio, "");
    if eio == 4 {
        // v3 sessions join `/` on their own.
        assert_eq!(
            h.post_now(&url(eio, &sid), &payload(eio, &["40"])).status,
            200
        );
    }
    let first = h.get_now(&url(eio, &sid)).body_text();
    assert!(first.contains("40"), "{first}");
    sid
}

fn sid_unknown(r: &HttpResponse) -> bool {
    r.status == 400 && r.body_text() == r#"{"code":1,"message":"Session ID unknown"}"#
}

fn bad_request(r: &HttpResponse) -> bool {
    r.status == 400 && r.body_text() == r#"{"code":3,"message":"Bad request"}"#
}

/// Hands the server a whole request under `req`.
fn whole(h: &mut Harness, req: RequestId, method: Method, url: &str, body: &[u8]) {
    let mut request = HttpRequest::new(method, url, vec![]);
    request.body = body.to_vec();
    h.server.handle_http(h.now, req, request);
    h.drain();
}

fn started(h: &mut Harness, req: RequestId, url: &str) {
    h.server.handle_http_started(h.now, req, Method::Post, url);
    h.drain();
}

#[test]
fn a_close_packet_posted_while_a_get_is_held_answers_it_with_a_noop_then_the_sid_is_gone() {
    for (eio, noop) in [(4, "6"), (3, "1:6")] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        let id = h.server.find_sid(&sid).unwrap();
        let held = h.request(Method::Get, &url(eio, &sid), b"", &[]);
        assert!(h.response(held).is_none(), "the GET is held");
        let post = h.post_now(&url(eio, &sid), &payload(eio, &["1"]));
        assert_eq!((post.status, post.body_text()), (200, "ok".into()));
        let r = h.response(held).expect("the held GET is answered");
        assert_eq!((r.status, r.body_text()), (200, noop.into()), "EIO={eio}");
        assert_eq!(h.close_reason(id), Some(DisconnectReason::TransportClose));
        assert!(h.server.find_sid(&sid).is_none());
        assert!(sid_unknown(&h.get_now(&url(eio, &sid))), "EIO={eio}");
        assert!(sid_unknown(&h.post_now(&url(eio, &sid), b"1:2")));
    }
}

/// Upgrades a polling session to a WebSocket; returns the WebSocket's id.
fn upgrade(h: &mut Harness, eio: u8, sid: &str) -> socketio_sansio::ConnId {
    let id = h
        .server
        .handle_ws_open(h.now, Handshake::new(ws_url(eio, sid), vec![]))
        .expect("upgrade accepted");
    h.send(id, "2probe");
    assert_eq!(h.take(id), [Out::Text("3probe".into())]);
    h.send(id, "5");
    id
}

#[test]
fn polling_after_the_upgrade_gets_400_and_the_websocket_keeps_working() {
    for eio in [4, 3] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        let id = upgrade(&mut h, eio, &sid);
        h.take(id);
        assert!(bad_request(&h.get_now(&url(eio, &sid))), "EIO={eio}");
        assert!(bad_request(&h.post_now(
            &url(eio, &sid),
            &payload(eio, &[r#"42["message","p"]"#])
        )));
        // A POST refused while its body was arriving changes nothing either.
        started(&mut h, 9001, &url(eio, &sid));
        whole(&mut h, 9001, Method::Post, &url(eio, &sid), b"1:1");
        assert!(bad_request(&h.response(9001).unwrap()));
        assert!(!h.closed(id));
        h.send(id, r#"42["message","still here"]"#);
        assert_eq!(h.take_texts(id), [r#"42["message-back","still here"]"#]);
    }
}

#[test]
fn a_second_websocket_for_an_upgraded_or_upgrading_session_is_accepted_then_closed() {
    for eio in [4, 3] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        // While the upgrade is under way (probe not yet sent).
        let candidate = h
            .server
            .handle_ws_open(h.now, Handshake::new(ws_url(eio, &sid), vec![]))
            .expect("first candidate");
        let second = h
            .server
            .handle_ws_open(h.now, Handshake::new(ws_url(eio, &sid), vec![]));
        assert_eq!(second, Err(Rejection::ALREADY_UPGRADED));
        assert!(Rejection::ALREADY_UPGRADED.accepts_then_closes());
        assert!(!Rejection::BAD_REQUEST.accepts_then_closes());
        h.send(candidate, "2probe");
        assert_eq!(h.take(candidate), [Out::Text("3probe".into())]);
        h.send(candidate, "5");
        h.take(candidate);
        // Upgraded.
        for _ in 0..2 {
            let again = h
                .server
                .handle_ws_open(h.now, Handshake::new(ws_url(eio, &sid), vec![]));
            assert_eq!(again, Err(Rejection::ALREADY_UPGRADED), "EIO={eio}");
        }
        h.drain();
        assert!(!h.closed(candidate));
        assert!(h.take(candidate).is_empty(), "nothing reaches the first");
        h.send(candidate, r#"42["message",1]"#);
        assert_eq!(h.take_texts(candidate), [r#"42["message-back",1]"#]);
        // A session opened over WebSocket directly: the same.
        let (direct, open) = h.open_and_handshake(eio);
        let direct_sid = open["sid"].as_str().unwrap();
        assert_eq!(
            h.server
                .handle_ws_open(h.now, Handshake::new(ws_url(eio, direct_sid), vec![])),
            Err(Rejection::ALREADY_UPGRADED)
        );
        assert!(!h.closed(direct));
        // Unknown and mismatched sessions keep their 400s.
        assert_eq!(
            h.server
                .handle_ws_open(h.now, Handshake::new(ws_url(eio, "nope"), vec![])),
            Err(Rejection::SESSION_ID_UNKNOWN)
        );
        let other = if eio == 4 { 3 } else { 4 };
        assert_eq!(
            h.server
                .handle_ws_open(h.now, Handshake::new(ws_url(other, &sid), vec![])),
            Err(Rejection::BAD_REQUEST)
        );
    }
}

#[test]
fn a_post_while_another_is_in_flight_gets_400_and_closes_the_session() {
    for (eio, close) in [(4, "1"), (3, "1:1")] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        let id = h.server.find_sid(&sid).unwrap();
        let held = h.request(Method::Get, &url(eio, &sid), b"", &[]);
        // POST 9001: its head is read, its body still arriving.
        started(&mut h, 9001, &url(eio, &sid));
        assert!(!h.closed(id));
        // POST 9002 overlaps: refused, and the session closes at once.
        started(&mut h, 9002, &url(eio, &sid));
        assert!(matches!(
            h.close_reason(id),
            Some(DisconnectReason::TransportError(why)) if why == "data request overlap from client"
        ));
        let r = h
            .response(held)
            .expect("the held GET gets the close packet");
        assert_eq!((r.status, r.body_text()), (200, close.into()), "EIO={eio}");
        whole(&mut h, 9002, Method::Post, &url(eio, &sid), b"ignored");
        assert_eq!(h.response(9002), Some(HttpResponse::empty(400)));
        // The first one's body arrives: the session is gone.
        let msg = payload(eio, &[r#"42["message","late"]"#]);
        whole(&mut h, 9001, Method::Post, &url(eio, &sid), &msg);
        assert!(sid_unknown(&h.response(9001).unwrap()), "EIO={eio}");
        assert!(sid_unknown(&h.get_now(&url(eio, &sid))));
        assert!(h
            .events_of(id)
            .iter()
            .all(|e| !matches!(e, Event::Message { .. })));
    }
}

#[test]
fn a_whole_post_while_one_is_in_flight_is_refused_too() {
    for eio in [4, 3] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        let id = h.server.find_sid(&sid).unwrap();
        started(&mut h, 9001, &url(eio, &sid));
        // A host that reads whole bodies first hands this one over directly.
        whole(
            &mut h,
            9002,
            Method::Post,
            &url(eio, &sid),
            &payload(eio, &["2"]),
        );
        assert_eq!(h.response(9002), Some(HttpResponse::empty(400)));
        assert!(h.closed(id), "EIO={eio}");
    }
}

#[test]
fn posts_one_after_the_other_never_overlap() {
    for eio in [4, 3] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        let id = h.server.find_sid(&sid).unwrap();
        for (n, req) in (9001..9005).enumerate() {
            started(&mut h, req, &url(eio, &sid));
            // The same POST announced twice is no overlap.
            started(&mut h, req, &url(eio, &sid));
            let msg = format!(r#"42["message",{n}]"#);
            whole(
                &mut h,
                req,
                Method::Post,
                &url(eio, &sid),
                &payload(eio, &[&msg]),
            );
            assert_eq!(h.response(req).unwrap().body_text(), "ok");
        }
        // Whole POSTs without an announcement, as before.
        assert_eq!(
            h.post_now(&url(eio, &sid), &payload(eio, &["40/custom,"]))
                .status,
            200
        );
        assert!(!h.closed(id), "EIO={eio}");
        let got = h.get_now(&url(eio, &sid)).body_text();
        assert!(got.contains(r#"42["message-back",3]"#), "{got}");
    }
}

#[test]
fn a_post_lost_while_its_body_was_arriving_closes_the_session() {
    for eio in [4, 3] {
        let mut h = Harness::conformance();
        let sid = joined_polling(&mut h, eio);
        let id = h.server.find_sid(&sid).unwrap();
        started(&mut h, 9001, &url(eio, &sid));
        h.server.handle_http_aborted(h.now, 9001);
        h.drain();
        assert!(matches!(
            h.close_reason(id),
            Some(DisconnectReason::TransportError(why)) if why == "data request connection closed prematurely"
        ));
        // A refused POST that is lost, and unknown ids: nothing happens.
        h.server.handle_http_aborted(h.now, 424242);
        let sid = joined_polling(&mut h, eio);
        let id = h.server.find_sid(&sid).unwrap();
        started(&mut h, 9101, &url(eio, &sid));
        h.server.handle_http_aborted(h.now, 9999);
        h.drain();
        assert!(!h.closed(id));
        whole(
            &mut h,
            9101,
            Method::Post,
            &url(eio, &sid),
            &payload(eio, &["2"]),
        );
        assert_eq!(h.response(9101).unwrap().body_text(), "ok");
    }
}

#[test]
fn announcements_that_are_not_polling_posts_of_a_session_change_nothing() {
    let mut h = Harness::conformance();
    let sid = joined_polling(&mut h, 4);
    let id = h.server.find_sid(&sid).unwrap();
    let targets = [
        url(4, &sid),                                                   // a GET (below)
        format!("/socket.io/?EIO=4&transport=polling&sid={sid}&sid=x"), // duplicate sid
        format!("/socket.io/?EIO=4&transport=websocket&sid={sid}"),
        format!("/socket.io/?EIO=3&transport=polling&sid={sid}"), // other version
        "/socket.io/?EIO=4&transport=polling&sid=unknown".to_owned(),
        "/socket.io/?EIO=4&transport=polling".to_owned(),
        "/socket.io/?%zz&&==&transport".to_owned(),
        format!("/socket.io/1/xhr-polling/{sid}"),
        String::new(),
    ];
    for (i, target) in targets.iter().enumerate() {
        let method = if i == 0 { Method::Get } else { Method::Post };
        h.server.handle_http_started(h.now, 9001, method, target);
        h.server.handle_http_started(h.now, 9002, method, target);
        h.drain();
        assert!(!h.closed(id), "{target}");
        assert!(h.server.poll_http_response().is_none(), "{target}");
    }
    // The ids were not remembered: whole requests get their usual answers.
    whole(&mut h, 9001, Method::Post, &url(4, &sid), b"2");
    assert_eq!(h.response(9001).unwrap().body_text(), "ok");
}

#[test]
fn a_binary_frame_closes_a_0_9_session_and_its_websocket() {
    let mut h = Harness::conformance();
    let body = h.get_now("/socket.io/1/?t=1").body_text();
    let sid = body.split(':').next().unwrap().to_owned();
    let id = h
        .server
        .handle_ws_open(
            h.now,
            Handshake::new(format!("/socket.io/1/websocket/{sid}"), vec![]),
        )
        .expect("0.9 websocket");
    h.drain();
    assert_eq!(h.take_texts(id).first().map(String::as_str), Some("1::"));
    h.send_bin(id, &[1, 2, 3]);
    assert!(matches!(
        h.close_reason(id),
        Some(DisconnectReason::TransportError(_))
    ));
    assert_eq!(
        h.take(id),
        [Out::Close],
        "the WebSocket is closed, nothing else"
    );
    // Further frames are ignored.
    h.send_bin(id, &[4]);
    h.send(id, "3:::x");
    assert!(h.take(id).is_empty());
}

fn capped(max: usize) -> Harness {
    let config = Config::builder()
        .ping_interval(std::time::Duration::from_secs(30))
        .ping_timeout(std::time::Duration::from_secs(30))
        .max_packets_per_poll(max)
        .build()
        .unwrap();
    Harness::new(config)
}

#[test]
fn max_packets_per_poll_splits_the_queue_over_several_gets() {
    for eio in [4, 3] {
        let mut h = capped(2);
        let sid = joined_polling(&mut h, eio);
        let msgs: Vec<String> = (0..5).map(|i| format!(r#"42["message",{i}]"#)).collect();
        let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
        h.post_now(&url(eio, &sid), &payload(eio, &refs));
        let back = |i: usize| format!(r#"42["message-back",{i}]"#);
        for chunk in [&[0, 1][..], &[2, 3], &[4]] {
            let body = h.get_now(&url(eio, &sid)).body_text();
            let want: Vec<String> = chunk.iter().map(|&i| back(i)).collect();
            let want: Vec<&str> = want.iter().map(String::as_str).collect();
            assert_eq!(body.into_bytes(), payload(eio, &want), "EIO={eio}");
        }
        let held = h.request(Method::Get, &url(eio, &sid), b"", &[]);
        assert!(h.response(held).is_none(), "nothing left: held");
    }
}

#[test]
fn max_packets_per_poll_holds_for_binary_packets_and_the_close() {
    // v4: each attachment is a packet of its own.
    let mut h = capped(1);
    let sid = joined_polling(&mut h, 4);
    let id = h.server.find_sid(&sid).unwrap();
    assert_eq!(h.get_now(&url(4, &sid)).body_text(), r#"42["auth",{}]"#);
    h.post_now(
        &url(4, &sid),
        b"451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQI=",
    );
    let first = h.get_now(&url(4, &sid)).body_text();
    assert!(first.starts_with("451-[\"message-back\""), "{first}");
    assert_eq!(h.get_now(&url(4, &sid)).body_text(), "bAQI=");
    // A server close with three packets queued: DISCONNECT, then close.
    h.server
        .emit(h.now, id, "/", "x", socketio_sansio::Args::default())
        .unwrap();
    h.server.close(h.now, id).unwrap();
    h.drain();
    assert_eq!(h.get_now(&url(4, &sid)).body_text(), r#"42["x"]"#);
    assert_eq!(h.get_now(&url(4, &sid)).body_text(), "41");
    assert_eq!(h.get_now(&url(4, &sid)).body_text(), "1");
    assert!(sid_unknown(&h.get_now(&url(4, &sid))));
}

#[test]
fn max_packets_per_poll_defaults_to_unlimited_and_refuses_zero() {
    assert_eq!(
        Config::builder().build().unwrap().max_packets_per_poll,
        None
    );
    assert!(Config::builder().max_packets_per_poll(0).build().is_err());
    let mut h = Harness::conformance();
    let sid = joined_polling(&mut h, 4);
    let msgs: Vec<String> = (0..40).map(|i| format!(r#"42["message",{i}]"#)).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    h.post_now(&url(4, &sid), &payload(4, &refs));
    let body = h.get_now(&url(4, &sid)).body_text();
    assert_eq!(body.split('\u{1e}').count(), 40);
}
