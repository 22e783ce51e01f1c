//! A blocking Socket.IO client: a driver of the sans-IO
//! [`socketio_sansio::client::Client`] state machine for `http://`,
//! `https://`, `ws://` and `wss://` servers (Socket.IO 4.x/3.x with
//! Engine.IO v4, or 2.x with [`EngineVersion::V3`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use serde_json::json;
//! use socketio_client::{connect, ClientOptions, Handlers};
//!
//! let handlers = Handlers::new().on("chat", |_socket, args, _ack| println!("chat: {:?}", args.values));
//! let client = connect("http://localhost:3000", ClientOptions::new().auth(json!({"token": "abc"})).handlers(handlers))?;
//! client.emit("chat", "hello")?;
//! let answer = client.emit_with_ack_timeout("ping", json!(1), Duration::from_secs(5))?;
//! println!("acknowledged with {:?}", answer.values);
//! client.close();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## API
//!
//! [`connect`] joins the URL's namespace and returns a [`Client`], a
//! cloneable handle usable from any thread: [`Client::emit`],
//! [`Client::emit_with_ack`] (callback), [`Client::emit_with_ack_timeout`]
//! (blocking), [`Client::socket`] (another namespace over the same
//! connection), [`Client::disconnect`], [`Client::close`]. The handlers
//! ([`Handlers`]: `on`, `on_any`, `on_connect`, `on_disconnect`,
//! `on_connect_error`, `on_reconnect`) mirror the server application's;
//! they get a [`Socket`] (emit, emit with ack, disconnect, [`Socket::of`])
//! and, when the server asked for one, an [`Ack`] to answer.
//!
//! ## Threads
//!
//! Each connection has **one I/O thread** (`socketio-client`) that owns the
//! state machine. **Every handler and acknowledgement callback runs on that
//! thread**, one at a time, in arrival order, so a handler that blocks
//! stalls the connection (heartbeats included): hand long work to another
//! thread. There, the blocking [`Client::emit_with_ack_timeout`] returns
//! [`AckError::WouldDeadlock`] (it would wait for itself): use the callback
//! form or the [`Socket`] the handler got. A panicking handler is logged
//! and the connection goes on.
//!
//! Helper threads do the blocking I/O and report to the I/O thread through
//! its channel: one per WebSocket (`socketio-ws-N`, tungstenite; it checks
//! its outgoing queue every 5 ms while no message arrives) and one per
//! polling request (`socketio-http-N`, short-lived).
//!
//! ## Transports and the HTTP client
//!
//! WebSocket: `tungstenite` over a `TcpStream`, or a rustls stream over it.
//! Long-polling: [`ureq`](https://docs.rs/ureq), a maintained blocking HTTP
//! client. Polling needs keep-alive connection reuse (a long-poll `GET` and
//! a `POST` are in flight at once), chunked and `Content-Length` bodies,
//! timeouts and TLS, which is a full HTTP/1.1 client; the workspace's
//! `socketio-http` glue parses requests and writes responses for servers
//! and has none of that. ureq is small, synchronous (no async runtime), uses
//! rustls, and takes the same root certificates as the WebSocket.
//!
//! ## TLS
//!
//! With the default `tls` feature, `https://`/`wss://` use rustls (ring)
//! with the Mozilla roots ([`TlsRoots::WebPki`]), or your own
//! ([`TlsRoots::from_pem_file`]: a private CA, a test server's
//! certificate). `default-features = false` builds without TLS: secure URLs
//! then fail with [`Error::TlsUnavailable`].
//!
//! ## Reconnection and shutdown
//!
//! After an unexpected disconnection the client reconnects with
//! socket.io-client's backoff and joins its namespaces again; emits made
//! meanwhile are buffered and sent after. [`Client::close`] (or dropping
//! the last handle) leaves every namespace, closes the session and joins
//! the I/O thread. [`Client::simulate_network_cut`] drops the transport
//! without telling the server, for tests.

mod client;
mod context;
mod driver;
mod error;
mod options;
mod tls;
mod transport;

pub use client::{connect, Client};
pub use context::{Ack, Socket};
pub use error::{AckError, Error};
pub use options::{ClientOptions, Handlers, TlsRoots};
pub use socketio_sansio::client::{ClientDisconnectReason, EmitStatus, Transports};
pub use socketio_sansio::{Args, EngineVersion, Parser};
