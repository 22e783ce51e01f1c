//! The blocking client against our own blocking server (the conformance
//! application, in this process), over each transport.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use socketio_apps::conformance::{self, Options};
use socketio_blocking::{ServerHandle, SocketIo};
use socketio_client::{
    connect, AckError, ClientOptions, EmitStatus, Error, Handlers, Parser, Transports,
};

fn server() -> ServerHandle<()> {
    server_with("json")
}

fn server_with(parser: &str) -> ServerHandle<()> {
    let options = Options::parse(["--port", "0", "--parser", parser].map(String::from)).unwrap();
    SocketIo::builder()
        .config(|_| options.config())
        .bind(("127.0.0.1", 0), conformance::app(&options))
        .unwrap()
}

fn roundtrip(transports: Transports) {
    roundtrip_with(transports, Parser::Json)
}

fn roundtrip_with(transports: Transports, parser: Parser) {
    let server = server_with(if parser == Parser::Json {
        "json"
    } else {
        "msgpack"
    });
    let url = format!("http://{}", server.local_addr());
    let (tx, rx) = mpsc::channel();
    let (deadlock_tx, deadlock_rx) = mpsc::channel();
    let handlers = Handlers::new()
        .on("message-back", move |_socket, args, _ack| {
            tx.send(args.values).unwrap();
        })
        .on("auth", move |_socket, _args, _ack| {
            // A blocking wait on the handler thread is refused, not a hang.
            let _ = deadlock_tx.send(());
        });
    let options = ClientOptions::new()
        .transports(transports)
        .parser(parser)
        .auth(json!({"token": "t"}))
        .reconnection_delay(Duration::from_millis(100), Duration::from_millis(500))
        .handlers(handlers);
    let client = connect(&url, options).unwrap();
    deadlock_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(client.is_connected());

    assert_eq!(
        client.emit("message", json!([1, "a"])).unwrap(),
        EmitStatus::Sent
    );
    let back = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(back, vec![json!([1, "a"])]);

    let answer = client
        .emit_with_ack_timeout("message-with-ack", json!("x"), Duration::from_secs(5))
        .unwrap();
    assert_eq!(answer.values, vec![json!("x")]);
    // No answer to an unknown event: the timeout says so.
    let timed_out = client.emit_with_ack_timeout("nobody-acks", (), Duration::from_millis(200));
    assert_eq!(timed_out, Err(AckError::Timeout));

    match client.socket("/nope", None, Handlers::new()) {
        Err(Error::Refused { message, .. }) => assert_eq!(message, "Invalid namespace"),
        other => panic!("{other:?}"),
    }

    client.simulate_network_cut().unwrap();
    assert!(!client.is_connected());
    assert_eq!(
        client.emit("message", json!("queued")).unwrap(),
        EmitStatus::Buffered
    );
    let back = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(back, vec![json!("queued")]);
    assert!(client.is_connected());

    client.close();
    assert!(client.is_closed());
    assert!(matches!(client.emit("message", ()), Err(Error::Closed)));
    server.shutdown();
}

#[test]
fn websocket() {
    roundtrip(Transports::WebSocket);
}

#[test]
fn polling() {
    roundtrip(Transports::Polling);
}

#[test]
fn polling_then_websocket() {
    roundtrip(Transports::PollingThenWebSocket);
}

/// The MessagePack parser on both sides (`--parser msgpack`), binary both ways.
#[test]
fn msgpack_on_every_transport() {
    for transports in [
        Transports::WebSocket,
        Transports::Polling,
        Transports::PollingThenWebSocket,
    ] {
        roundtrip_with(transports, Parser::MsgPack);
        let server = server_with("msgpack");
        let url = format!("http://{}", server.local_addr());
        let client = connect(
            &url,
            ClientOptions::new()
                .transports(transports)
                .parser(Parser::MsgPack),
        )
        .unwrap();
        let mut args = socketio_client::Args::json(vec![json!({"n": -1.5})]);
        let ph = args.attach(vec![0, 255, 7]);
        args.values.push(ph);
        let answer = client
            .emit_with_ack_timeout("message-with-ack", args.clone(), Duration::from_secs(5))
            .unwrap();
        assert_eq!(answer, args, "{transports:?}");
        client.close();
        server.shutdown();
    }
}

#[test]
fn blocking_ack_wait_in_a_handler_would_deadlock() {
    let server = server();
    let url = format!("http://{}", server.local_addr());
    let (tx, rx) = mpsc::channel();
    let client_slot = std::sync::Arc::new(std::sync::Mutex::new(None::<socketio_client::Client>));
    let slot = client_slot.clone();
    let handlers = Handlers::new().on("message-back", move |_socket, _args, _ack| {
        let client = slot.lock().unwrap().clone().unwrap();
        tx.send(client.emit_with_ack_timeout("message-with-ack", (), Duration::from_secs(1)))
            .unwrap();
    });
    let client = connect(&url, ClientOptions::new().handlers(handlers)).unwrap();
    *client_slot.lock().unwrap() = Some(client.clone());
    client.emit("message", ()).unwrap();
    let result = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(result, Err(AckError::WouldDeadlock));
    client_slot.lock().unwrap().take();
    client.close();
    server.shutdown();
}

#[test]
fn a_server_that_is_not_there_times_out_with_the_last_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = ClientOptions::new()
        .reconnection_delay(Duration::from_millis(50), Duration::from_millis(100))
        .connect_timeout(Duration::from_millis(500));
    match connect(&format!("http://127.0.0.1:{port}"), options) {
        Err(Error::ConnectTimeout { last_error, .. }) => assert!(last_error.is_some()),
        other => panic!("{other:?}"),
    }
    let options = ClientOptions::new().reconnection(false);
    assert!(matches!(
        connect(&format!("ws://127.0.0.1:{port}"), options),
        Err(Error::ConnectFailed { .. })
    ));
    assert!(matches!(
        connect("ftp://x", ClientOptions::new()),
        Err(Error::InvalidUrl(_))
    ));
}
