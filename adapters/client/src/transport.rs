//! The blocking I/O the state machine asks for: one thread per WebSocket
//! (tungstenite over [`Stream`]) and one short-lived thread per polling
//! request (ureq). Both report to the I/O thread through its channel.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socketio_sansio::client::{ClientHttpRequest, TransportId};
use socketio_sansio::{Frame, Method};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::{Message, WebSocket};

use crate::driver::Input;
use crate::tls::{Stream, Tls};

/// How long a WebSocket thread waits in `read` before it looks at its
/// outgoing queue again (the added latency of a send, at worst).
const WS_POLL: Duration = Duration::from_millis(5);
/// Time limit for the TCP connect and the WebSocket/TLS handshakes.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a close frame: how long to wait for the server's.
const CLOSE_LINGER: Duration = Duration::from_millis(500);
/// Upper bound for one polling request (long-polls last a ping interval).
pub(crate) const HTTP_TIMEOUT: Duration = Duration::from_secs(120);

/// What the I/O thread tells a WebSocket thread.
pub(crate) enum WsOut {
    /// Send this message.
    Frame(Frame),
    /// Send a close frame, wait briefly for the answer, end.
    Close,
    /// End at once: drop the TCP connection without a close frame (a
    /// simulated network failure).
    Cut,
}

/// `ws[s]://host[:port]/...` → (secure, host, port).
fn split_url(url: &str) -> io::Result<(bool, String, u16)> {
    let invalid = || io::Error::new(io::ErrorKind::InvalidInput, format!("bad URL {url:?}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    let secure = matches!(scheme, "wss" | "https");
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => {
            (host, port.parse::<u16>().map_err(|_| invalid())?)
        }
        _ => (authority, if secure { 443 } else { 80 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid());
    }
    Ok((secure, host.to_owned(), port))
}

fn tcp_connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, HANDSHAKE_TIMEOUT) {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn open_websocket(
    url: &str,
    headers: &[(String, String)],
    tls: &Tls,
) -> Result<WebSocket<Stream>, String> {
    let (secure, host, port) = split_url(url).map_err(|e| e.to_string())?;
    let tcp = tcp_connect(&host, port).map_err(|e| format!("connect to {host}:{port}: {e}"))?;
    tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let stream = if secure {
        tls.wrap(&host, tcp).map_err(|e| format!("TLS: {e}"))?
    } else {
        Stream::Plain(tcp)
    };
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        request.headers_mut().append(name, value);
    }
    let (ws, _response) =
        tungstenite::client::client_with_config(request, stream, None).map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e.to_string(),
            tungstenite::HandshakeError::Interrupted(_) => "handshake timed out".to_owned(),
        })?;
    let tcp = ws.get_ref().tcp();
    tcp.set_read_timeout(Some(WS_POLL))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(None).map_err(|e| e.to_string())?;
    Ok(ws)
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(e)
        if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
}

/// Opens the WebSocket `id` on a new thread, which then carries its
/// messages both ways until closed.
pub(crate) fn spawn_websocket(
    id: TransportId,
    url: String,
    headers: Vec<(String, String)>,
    tls: Tls,
    input: Sender<Input>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("socketio-ws-{id}"))
        .spawn(move || {
            let mut ws = match open_websocket(&url, &headers, &tls) {
                Ok(ws) => ws,
                Err(why) => {
                    log::debug!("websocket {id}: {url}: {why}");
                    let _ = input.send(Input::WsClosed(id, Some(why)));
                    return;
                }
            };
            let (tx, rx) = mpsc::channel();
            if input.send(Input::WsOpened(id, tx)).is_err() {
                return;
            }
            let why = carry(id, &mut ws, &rx, &input);
            if let Some(why) = why {
                log::debug!("websocket {id}: {why}");
                let _ = input.send(Input::WsClosed(id, Some(why)));
            }
        })
}

/// The WebSocket's loop. `Some(why)` when it ended by itself (to report).
fn carry(
    id: TransportId,
    ws: &mut WebSocket<Stream>,
    rx: &Receiver<WsOut>,
    input: &Sender<Input>,
) -> Option<String> {
    loop {
        loop {
            let message = match rx.try_recv() {
                Ok(WsOut::Frame(Frame::Text(text))) => Message::text(text.into_string()),
                Ok(WsOut::Frame(Frame::Binary(bytes))) => Message::binary(bytes.into_vec()),
                Ok(WsOut::Close) => {
                    close(ws);
                    return None;
                }
                Ok(WsOut::Cut) | Err(TryRecvError::Disconnected) => {
                    log::debug!("websocket {id}: dropped without a close frame");
                    let _ = ws.get_ref().tcp().shutdown(std::net::Shutdown::Both);
                    return None;
                }
                Err(TryRecvError::Empty) => break,
            };
            if let Err(e) = ws.write(message) {
                if !would_block(&e) {
                    return Some(format!("write: {e}"));
                }
            }
        }
        if let Err(e) = ws.flush() {
            if !would_block(&e) {
                return Some(format!("flush: {e}"));
            }
        }
        let delivered = match ws.read() {
            Ok(Message::Text(text)) => input.send(Input::WsText(id, text.as_str().to_owned())),
            Ok(Message::Binary(bytes)) => input.send(Input::WsBinary(id, bytes.to_vec())),
            Ok(_) => Ok(()),
            Err(e) if would_block(&e) => Ok(()),
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return Some("closed by the server".into())
            }
            Err(e) => return Some(format!("read: {e}")),
        };
        if delivered.is_err() {
            return None; // the I/O thread is gone
        }
    }
}

/// Sends a close frame and waits a little for the server's.
fn close(ws: &mut WebSocket<Stream>) {
    let _ = ws.close(None);
    let deadline = Instant::now() + CLOSE_LINGER;
    while Instant::now() < deadline {
        match ws.read() {
            Err(e) if would_block(&e) => {}
            Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// A polling request's outcome: status, `Content-Type`, body.
pub(crate) type HttpResult = Result<(u16, Option<String>, Vec<u8>), String>;

/// Sends `request` on a new thread with `agent` (its connection pool is
/// shared) and reports the outcome.
pub(crate) fn spawn_http(
    agent: ureq::Agent,
    request: ClientHttpRequest,
    max_body: u64,
    input: Sender<Input>,
) -> io::Result<()> {
    thread::Builder::new()
        .name(format!("socketio-http-{}", request.request))
        .spawn(move || {
            let result = http(&agent, &request, max_body);
            if let Err(why) = &result {
                log::debug!("{:?} {}: {why}", request.method, request.url);
            }
            let _ = input.send(Input::HttpDone(request.request, result));
        })
        .map(drop)
}

fn http(agent: &ureq::Agent, request: &ClientHttpRequest, max_body: u64) -> HttpResult {
    let response = match request.method {
        Method::Post => {
            let mut builder = agent.post(&request.url);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            if let Some(content_type) = request.content_type {
                builder = builder.header("Content-Type", content_type);
            }
            builder.send(&request.body[..])
        }
        _ => {
            let mut builder = agent.get(&request.url);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            builder.call()
        }
    };
    let mut response = response.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .body_mut()
        .with_config()
        .limit(max_body)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    Ok((status, content_type, body))
}

/// The polling agent: keep-alive pool, no error for HTTP error statuses
/// (the state machine judges them), the client's TLS roots.
pub(crate) fn agent(tls: &Tls) -> ureq::Agent {
    let builder = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(HTTP_TIMEOUT))
        .max_redirects(0);
    #[cfg(feature = "tls")]
    let builder = builder.tls_config(tls.ureq.clone());
    #[cfg(not(feature = "tls"))]
    let _ = tls;
    builder.build().new_agent()
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn urls_split_into_host_and_port() {
        let split = |u| split_url(u).unwrap();
        assert_eq!(split("ws://h:81/x"), (false, "h".into(), 81));
        assert_eq!(split("wss://h/x?y"), (true, "h".into(), 443));
        assert_eq!(split("ws://[::1]:3000/"), (false, "::1".into(), 3000));
        assert_eq!(split("ws://[::1]/"), (false, "::1".into(), 80));
        assert!(split_url("nothing").is_err());
        assert!(split_url("ws://h:port/").is_err());
    }
}
