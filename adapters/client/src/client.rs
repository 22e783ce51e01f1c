//! [`connect`] and the thread-safe handle [`Client`].

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use serde_json::Value;
use socketio_sansio::client::{Client as Machine, ClientConfig, EmitStatus};
use socketio_sansio::Args;

use crate::context::Socket;
use crate::driver::{lock, Command, Driver, Input, JoinUpdate, Snapshot};
use crate::error::{AckError, Error};
use crate::options::{ClientOptions, Handlers};
use crate::tls::Tls;

/// Owned by the handles: the last one dropped closes the connection.
struct Owner {
    input: Sender<Input>,
    snapshot: Arc<Mutex<Snapshot>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    io_thread: ThreadId,
    connect_timeout: Duration,
}

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = self.input.send(Input::Command(Box::new(Command::Close)));
    }
}

/// A handle on one namespace of a connection (socket.io-client's
/// `Socket`): cheap to clone, usable from any thread. [`connect`] returns
/// the URL's namespace; [`Client::socket`] joins others over the same
/// connection. The connection closes with [`Client::close`], or when the
/// last handle is dropped.
#[derive(Clone)]
pub struct Client {
    owner: Arc<Owner>,
    nsp: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("nsp", &self.nsp)
            .field("id", &self.id())
            .finish()
    }
}

/// Query parameters, in order.
type Query = Vec<(String, String)>;

/// `scheme://authority[/nsp][?query]` → (origin, namespace, query pairs).
fn split_url(url: &str) -> Result<(String, String, Query), Error> {
    let invalid = || Error::InvalidUrl(url.to_owned());
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let nsp = match path {
        "" | "/" => "/".to_owned(),
        p => percent_decode(p.trim_end_matches('/')),
    };
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Ok((format!("{scheme}://{authority}"), nsp, query))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Connects to the Socket.IO server at `url` and joins the namespace in
/// its path (`/` when none): `http://`, `https://`, `ws://` or `wss://`
/// (the scheme chooses TLS; the transports come from the options). A
/// query in the URL is sent with every Engine.IO request.
///
/// Blocks until the namespace is connected. Failed attempts (server down,
/// TLS error) are retried with the reconnection backoff until
/// [`ClientOptions::connect_timeout`]; a refusal by the server
/// ([`Error::Refused`]) is not retried. On error the connection is closed.
pub fn connect(url: &str, options: ClientOptions) -> Result<Client, Error> {
    let (origin, nsp, query) = split_url(url)?;
    let mut builder = ClientConfig::builder(&origin);
    for (key, value) in query {
        builder = builder.query(key, value);
    }
    for configure in options.config {
        builder = configure(builder);
    }
    let config = builder.build().map_err(|e| match e {
        socketio_sansio::client::ClientConfigError::InvalidUrl(_) => Error::InvalidUrl(url.into()),
        e => Error::Config(e),
    })?;
    if config.secure && !cfg!(feature = "tls") {
        return Err(Error::TlsUnavailable);
    }
    let tls = Tls::new(&options.tls_roots)?;
    let (input_tx, input) = mpsc::channel();
    let snapshot = Arc::new(Mutex::new(Snapshot::default()));
    let driver = Driver::new(
        Machine::new(config),
        tls,
        input_tx.clone(),
        input,
        snapshot.clone(),
    );
    let thread = thread::Builder::new()
        .name("socketio-client".into())
        .spawn(move || driver.run())
        .map_err(Error::Spawn)?;
    let client = Client {
        owner: Arc::new(Owner {
            input: input_tx,
            snapshot,
            io_thread: thread.thread().id(),
            thread: Mutex::new(Some(thread)),
            connect_timeout: options.connect_timeout,
        }),
        nsp,
    };
    match client.join(options.auth, options.handlers) {
        Ok(()) => Ok(client),
        Err(e) => {
            client.close();
            Err(e)
        }
    }
}

impl Client {
    fn send(&self, command: Command) -> Result<(), Error> {
        self.owner
            .input
            .send(Input::Command(Box::new(command)))
            .map_err(|_| Error::Closed)
    }

    fn on_io_thread(&self) -> bool {
        thread::current().id() == self.owner.io_thread
    }

    fn join(&self, auth: Option<Value>, handlers: Handlers) -> Result<(), Error> {
        let (updates, rx) = mpsc::channel();
        self.send(Command::Join {
            nsp: self.nsp.clone(),
            auth,
            handlers,
            updates,
        })?;
        if self.on_io_thread() {
            return Ok(()); // cannot wait for ourselves: joins in the background
        }
        let deadline = Instant::now() + self.owner.connect_timeout;
        let mut last_error = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(JoinUpdate::Connected) => return Ok(()),
                Ok(JoinUpdate::Failed {
                    message,
                    data,
                    refused: true,
                    ..
                }) => {
                    return Err(Error::Refused {
                        nsp: self.nsp.clone(),
                        message,
                        data,
                    })
                }
                Ok(JoinUpdate::Failed {
                    message,
                    last: true,
                    ..
                }) => {
                    let _ = self.send(Command::Leave {
                        nsp: self.nsp.clone(),
                    });
                    return Err(Error::ConnectFailed {
                        nsp: self.nsp.clone(),
                        message,
                    });
                }
                Ok(JoinUpdate::Failed { message, .. }) => last_error = Some(message),
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.send(Command::Leave {
                        nsp: self.nsp.clone(),
                    });
                    return Err(Error::ConnectTimeout {
                        nsp: self.nsp.clone(),
                        last_error,
                    });
                }
                Err(RecvTimeoutError::Disconnected) => return Err(Error::Closed),
            }
        }
    }

    /// Joins namespace `nsp` over the same connection, with its `auth` and
    /// `handlers`; blocks until it is connected like [`connect`] (from a
    /// handler it returns at once and joins in the background).
    pub fn socket(
        &self,
        nsp: &str,
        auth: Option<Value>,
        handlers: Handlers,
    ) -> Result<Client, Error> {
        let client = Client {
            owner: self.owner.clone(),
            nsp: nsp.to_owned(),
        };
        client.join(auth, handlers)?;
        Ok(client)
    }

    /// The namespace of this handle.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The socket id the server gave, while connected.
    pub fn id(&self) -> Option<String> {
        lock(&self.owner.snapshot).sids.get(&self.nsp).cloned()
    }

    /// Whether the namespace is connected now.
    pub fn is_connected(&self) -> bool {
        lock(&self.owner.snapshot).sids.contains_key(&self.nsp)
    }

    /// Whether the last connection of the namespace restored the earlier
    /// session (connection state recovery on the server: same id, the
    /// missed events delivered first; socket.io-client's
    /// `socket.recovered`).
    pub fn recovered(&self) -> bool {
        lock(&self.owner.snapshot).recovered.contains(&self.nsp)
    }

    /// Whether the transport is a WebSocket now (after the upgrade, if any).
    pub fn is_websocket(&self) -> bool {
        lock(&self.owner.snapshot).websocket
    }

    /// The ping interval the server announced, while a session is open.
    pub fn ping_interval(&self) -> Option<Duration> {
        lock(&self.owner.snapshot).ping_interval
    }

    fn emit_command(&self, event: &str, args: Args, volatile: bool) -> Result<EmitStatus, Error> {
        if self.on_io_thread() {
            // Waiting for the reply would wait for ourselves: queue it.
            self.send(Command::Emit {
                nsp: self.nsp.clone(),
                event: event.to_owned(),
                args,
                volatile,
                reply: None,
            })?;
            return Ok(EmitStatus::Queued);
        }
        let (reply, rx) = mpsc::channel();
        self.send(Command::Emit {
            nsp: self.nsp.clone(),
            event: event.to_owned(),
            args,
            volatile,
            reply: Some(reply),
        })?;
        rx.recv().map_err(|_| Error::Closed)?
    }

    /// Emits `event`: sent now when connected, else buffered until the
    /// namespace (re)connects ([`EmitStatus::Buffered`]). Called on the I/O
    /// thread (from a handler, prefer its [`Socket`]) it queues the emit and
    /// returns [`EmitStatus::Queued`]; errors are then logged.
    pub fn emit(&self, event: &str, args: impl Into<Args>) -> Result<EmitStatus, Error> {
        self.emit_command(event, args.into(), false)
    }

    /// Emits `event` only if the transport can take it now.
    pub fn emit_volatile(&self, event: &str, args: impl Into<Args>) -> Result<EmitStatus, Error> {
        self.emit_command(event, args.into(), true)
    }

    /// Emits `event` asking for an acknowledgement; `then` runs on the I/O
    /// thread with the answer or why none came (see
    /// [`Socket::emit_with_ack`]).
    pub fn emit_with_ack(
        &self,
        event: &str,
        args: impl Into<Args>,
        timeout: Option<Duration>,
        then: impl FnOnce(&mut Socket<'_>, Result<Args, AckError>) + Send + 'static,
    ) -> Result<(), Error> {
        self.send(Command::EmitWithAck {
            nsp: self.nsp.clone(),
            event: event.to_owned(),
            args: args.into(),
            timeout: Some(timeout).flatten(),
            then: Box::new(then),
        })
    }

    /// Emits `event` and blocks until the acknowledgement arrives (its
    /// arguments) or `timeout` passes. Not on the I/O thread, which runs the
    /// handlers: [`AckError::WouldDeadlock`] there.
    pub fn emit_with_ack_timeout(
        &self,
        event: &str,
        args: impl Into<Args>,
        timeout: Duration,
    ) -> Result<Args, AckError> {
        if self.on_io_thread() {
            return Err(AckError::WouldDeadlock);
        }
        let (tx, rx) = mpsc::channel();
        self.emit_with_ack(event, args, Some(timeout), move |_, result| {
            let _ = tx.send(result);
        })
        .map_err(|_| AckError::Closed)?;
        // The state machine times the ack out; the margin covers a busy thread.
        match rx.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(AckError::Timeout),
            Err(RecvTimeoutError::Disconnected) => Err(AckError::Closed),
        }
    }

    /// Leaves this namespace ("io client disconnect"); the connection
    /// closes when no namespace is left.
    pub fn disconnect(&self) -> Result<(), Error> {
        self.send(Command::Leave {
            nsp: self.nsp.clone(),
        })
    }

    /// **For tests**: drops the transport (WebSocket or polling requests)
    /// without telling the server, as a network failure would: the TCP
    /// connection closes without a WebSocket close frame or an Engine.IO
    /// close packet. The client sees "transport close"/"transport error"
    /// and reconnects by itself (unless reconnection is off). Returns once
    /// the client has seen the cut.
    pub fn simulate_network_cut(&self) -> Result<(), Error> {
        let (reply, rx) = mpsc::channel();
        self.send(Command::Cut { reply })?;
        if !self.on_io_thread() {
            rx.recv().map_err(|_| Error::Closed)?;
        }
        Ok(())
    }

    /// Closes the connection cleanly: every namespace sends DISCONNECT, the
    /// session closes (WebSocket close frame or a last POST), no
    /// reconnection; pending acknowledgement callbacks get
    /// [`AckError::Closed`]. Blocks until the I/O thread and its WebSocket
    /// thread have ended (about a second at most), except on the I/O thread
    /// itself. Every handle of the connection is closed.
    pub fn close(&self) {
        let _ = self.send(Command::Close);
        if self.on_io_thread() {
            return;
        }
        let thread = lock(&self.owner.thread).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Whether the connection was closed (its I/O thread ended).
    pub fn is_closed(&self) -> bool {
        lock(&self.owner.snapshot).closed
    }
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn urls_give_origin_namespace_and_query() {
        let (origin, nsp, query) = split_url("http://h:3000/admin?token=a%20b&x").unwrap();
        assert_eq!(origin, "http://h:3000");
        assert_eq!(nsp, "/admin");
        assert_eq!(
            query,
            vec![("token".into(), "a b".into()), ("x".into(), String::new())]
        );
        let (origin, nsp, query) = split_url("wss://h/").unwrap();
        assert_eq!((origin.as_str(), nsp.as_str()), ("wss://h", "/"));
        assert!(query.is_empty());
        assert!(split_url("h:3000").is_err());
    }
}
