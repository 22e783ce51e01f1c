//! `Builder::serve_static` on a real socket: files outside the Socket.IO
//! path come from the directory, the Socket.IO path still works, and
//! without the option such requests get 404.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socketio_blocking::app::{App, Namespace};
use socketio_blocking::SocketIo;

fn app() -> App {
    App::new().ns("/", Namespace::new())
}

fn request(addr: SocketAddr, raw: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serves_a_directory_beside_socketio() {
    let dir = std::env::temp_dir().join(format!("sio-static-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<p>chat</p>").unwrap();
    std::fs::write(dir.join("app.css"), "p{}").unwrap();
    let server = SocketIo::builder()
        .serve_static(&dir)
        .bind("127.0.0.1:0", app())
        .unwrap();
    let addr = server.local_addr();

    let index = request(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
    assert!(index.contains("Content-Type: text/html; charset=utf-8\r\n"));
    assert!(index.ends_with("<p>chat</p>"));
    let css = request(addr, "GET /app.css?v=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        css.contains("Content-Type: text/css; charset=utf-8\r\n"),
        "{css}"
    );
    let up = request(addr, "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(up.starts_with("HTTP/1.1 400 "), "{up}");
    let post = request(
        addr,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    // The Socket.IO path is not shadowed by the directory.
    let sio = request(
        addr,
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(!sio.starts_with("HTTP/1.1 200 OK"), "{sio}");

    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_serve_static_other_paths_are_404() {
    let server = SocketIo::builder().bind("127.0.0.1:0", app()).unwrap();
    let resp = request(server.local_addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(resp.starts_with("HTTP/1.1 404 "), "{resp}");
    server.shutdown();
}

#[test]
fn a_missing_static_directory_fails_bind() {
    let err = SocketIo::builder()
        .serve_static("/definitely/not/here")
        .bind("127.0.0.1:0", app())
        .unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
}
