//! The client role: socket.io-client 4.x (`Manager` + `Socket`) and
//! engine.io-client 6.x as one pure state machine, [`Client`]. It speaks
//! Engine.IO v4 with Socket.IO rev 5 (the default) and Engine.IO v3 with
//! rev 4 (Socket.IO 2.x servers); not 0.9.
//!
//! Like the server it does no I/O: it asks the driver to open WebSockets
//! and send HTTP requests ([`ClientTransmit`]), and the driver reports what
//! happened with the same verbs as on the server side:
//!
//! * (B) input, stamped with `now`: [`Client::handle_ws_opened`],
//!   [`Client::handle_ws_text`], [`Client::handle_ws_binary`],
//!   [`Client::handle_ws_closed`], [`Client::handle_http_response`],
//!   [`Client::handle_http_failed`], [`Client::handle_timeout`];
//! * (C) commands: [`Client::connect_namespace`], [`Client::emit`],
//!   [`Client::emit_volatile`], [`Client::emit_with_ack`], [`Client::ack`],
//!   [`Client::disconnect_namespace`], [`Client::close`];
//! * (D) output: [`Client::poll_transmit`], [`Client::poll_event`],
//!   [`Client::poll_timeout`].
//!
//! Module map: [`ClientConfig`] (`config`), the Engine.IO session and its
//! transports, heartbeat and upgrade (`engine`), namespace sockets with
//! their buffer, acknowledgements and retry queue (`socket`), the
//! reconnection backoff (`reconnect`), the types in and out (`types`).
//!
//! **Reconnection** (socket.io-client's `Manager`): when the session ends
//! for any reason but the application's [`Client::close`] or a server-side
//! `DISCONNECT` ("io server disconnect") of the last namespace, the client
//! schedules a new session after the backoff delay
//! ([`ClientEvent::Reconnecting`]), draws its jitter from the injected
//! [`RandomSource`], and once the new session opens
//! ([`ClientEvent::Reconnected`]) every namespace the application still
//! wants sends CONNECT again and flushes what it buffered. A failed initial
//! connection is retried the same way. After
//! [`ClientConfig::reconnection_attempts`] failed attempts:
//! [`ClientEvent::ReconnectFailed`].
//!
//! **Namespaces, rev 4.** A Socket.IO 2.x server joins `/` by itself; the
//! client sends CONNECT (`0/nsp?query,`, the auth object as query) only for
//! other namespaces. For `/`, put the query in [`ClientConfig::query`].
//!
//! ## A driver's loop
//!
//! ```
//! use std::time::{Duration, Instant};
//! use socketio_sansio::client::{Client, ClientConfig, ClientEvent, ClientTransmit, Transports};
//! use socketio_sansio::{Frame, SeededRandom};
//!
//! let config = ClientConfig::builder("http://localhost:3000")
//!     .transports(Transports::WebSocket)
//!     .build()
//!     .unwrap();
//! let mut client = Client::with_random(config, Box::new(SeededRandom::new(1)));
//! let now = Instant::now();
//! client.connect_namespace(now, "/", None).unwrap();
//!
//! // 1. output: the driver opens the WebSocket it is asked for...
//! let Some(ClientTransmit::OpenWebSocket { transport, url, .. }) = client.poll_transmit() else {
//!     panic!()
//! };
//! assert_eq!(url, "ws://localhost:3000/socket.io/?EIO=4&transport=websocket");
//!
//! // 2. input: ...and reports what happened, with the time.
//! client.handle_ws_opened(now, transport);
//! client.handle_ws_text(now, transport, r#"0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#);
//! let Some(ClientTransmit::WsFrame { frame, .. }) = client.poll_transmit() else { panic!() };
//! assert_eq!(frame, Frame::text("40".into())); // CONNECT to "/"
//! client.handle_ws_text(now, transport, r#"40{"sid":"abc"}"#);
//! assert_eq!(
//!     client.poll_event(),
//!     Some(ClientEvent::Connected { nsp: "/".into(), sid: "abc".into() })
//! );
//!
//! // Commands queue more output.
//! let id = client.emit_with_ack(now, "/", "hello", "world".into(), Some(Duration::from_secs(5))).unwrap();
//! let Some(ClientTransmit::WsFrame { frame, .. }) = client.poll_transmit() else { panic!() };
//! assert_eq!(frame, Frame::text(r#"420["hello","world"]"#.into()));
//! assert_eq!(id, 0);
//!
//! // 3. timers: wait for input at most until the deadline, then tell it.
//! let deadline = client.poll_timeout().unwrap();
//! assert_eq!(deadline, now + Duration::from_secs(5)); // the ack timeout comes first
//! client.handle_timeout(deadline);
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Ack { id: 0, result: Err(_), .. })));
//! ```

mod config;
mod engine;
mod reconnect;
mod socket;
mod types;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::RequestId;
use crate::parser::PacketDecoder;
use crate::rand::RandomSource;
use crate::wire::eio::{Data, EngineVersion};
use crate::wire::sio::{self, AckId, Args, Body, Revision};

pub use config::{ClientConfig, ClientConfigBuilder, ClientConfigError, Transports};
pub use types::{
    AckFailure, ClientDisconnectReason, ClientError, ClientEvent, ClientProtocolError,
    ClientTransmit, EmitStatus, TransportId,
};

use engine::{ClientEngine, EngineEvent};
use reconnect::Backoff;
use socket::{send_packet, EmitMode, Limits, NsSocket, SocketState};

/// A Socket.IO client: one Engine.IO session (re-opened on reconnection)
/// with its namespace sockets multiplexed over it. See the [module
/// documentation](self).
pub struct Client {
    config: Arc<ClientConfig>,
    rng: Box<dyn RandomSource>,
    engine: ClientEngine,
    decoder: PacketDecoder,
    sockets: BTreeMap<String, NsSocket>,
    events: VecDeque<ClientEvent>,
    backoff: Backoff,
    reconnect_at: Option<Instant>,
    reconnecting: bool,
    /// The application closed the client, or the server disconnected the
    /// last namespace: no reconnection until `connect_namespace`.
    closed: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("sid", &self.engine.sid())
            .field("namespaces", &self.sockets.keys().collect::<Vec<_>>())
            .field("reconnecting", &self.reconnecting)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with OS randomness for the reconnection jitter.
    #[cfg(feature = "os-rng")]
    pub fn new(config: ClientConfig) -> Self {
        Self::with_random(config, Box::new(crate::rand::OsRandom))
    }

    /// A client drawing its randomness (jitter, cache buster) from `rng`.
    pub fn with_random(config: ClientConfig, mut rng: Box<dyn RandomSource>) -> Self {
        let config = Arc::new(config);
        let engine = ClientEngine::new(config.clone(), rng.as_mut());
        Client {
            decoder: PacketDecoder::new(config.parser, config.decoder_config()),
            backoff: Backoff::new(
                config.reconnection_delay,
                config.reconnection_delay_max,
                config.randomization_factor,
            ),
            config,
            rng,
            engine,
            sockets: BTreeMap::new(),
            events: VecDeque::new(),
            reconnect_at: None,
            reconnecting: false,
            closed: false,
        }
    }

    // ---- (A) getters ------------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The Engine.IO session id, while a session is open.
    pub fn engine_sid(&self) -> Option<&str> {
        self.engine.sid()
    }

    /// The ping interval the server announced in its open packet, while a
    /// session is open.
    pub fn ping_interval(&self) -> Option<Duration> {
        self.engine.ping_interval()
    }

    /// True when the namespace is connected.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.sockets.get(nsp).is_some_and(NsSocket::is_connected)
    }

    /// True while the application wants `nsp`: joined with
    /// [`Client::connect_namespace`] and since then neither left, refused
    /// (CONNECT_ERROR) nor disconnected by the server. Such a namespace
    /// connects again after a reconnection.
    pub fn wants_namespace(&self, nsp: &str) -> bool {
        self.sockets.get(nsp).is_some_and(|s| s.active)
    }

    /// The socket id of a connected namespace.
    pub fn socket_id(&self, nsp: &str) -> Option<&str> {
        match &self.sockets.get(nsp)?.state {
            SocketState::Connected(sid) => Some(sid),
            _ => None,
        }
    }

    /// True if the last CONNECT answer of `nsp` restored the earlier
    /// session (connection state recovery, socket.io-client's
    /// `socket.recovered`): same socket id, and the events missed while
    /// away came first (as [`ClientEvent::Event`]s right after
    /// [`ClientEvent::Connected`]). The client keeps the server's `pid`
    /// and the offset of the last event that carried one (an event without
    /// an ack id, whose last argument is a string, while a `pid` is known)
    /// and sends both in its next CONNECT.
    pub fn recovered(&self, nsp: &str) -> bool {
        self.sockets.get(nsp).is_some_and(|s| s.recovered)
    }

    /// True when the transport is (now) a WebSocket.
    pub fn is_websocket(&self) -> bool {
        self.engine.is_websocket()
    }

    /// True while a reconnection is scheduled or being attempted.
    pub fn is_reconnecting(&self) -> bool {
        self.reconnecting
    }

    /// Emits waiting in the namespace's buffer and retry queue.
    pub fn buffered(&self, nsp: &str) -> usize {
        self.sockets.get(nsp).map_or(0, NsSocket::buffered)
    }

    fn revision(&self) -> Revision {
        match self.config.version {
            EngineVersion::V3 => Revision::V4,
            EngineVersion::V4 => Revision::V5,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_buffered_emits: self.config.max_buffered_emits,
            max_buffered_bytes: self.config.max_buffered_bytes,
            max_pending_acks: self.config.max_pending_acks,
            retries: self.config.retries,
        }
    }

    // ---- (B) input --------------------------------------------------------

    /// The WebSocket `transport` is open.
    pub fn handle_ws_opened(&mut self, now: Instant, transport: TransportId) {
        self.engine.handle_ws_opened(transport);
        self.process(now);
    }

    /// A text message arrived on `transport`.
    pub fn handle_ws_text(&mut self, now: Instant, transport: TransportId, text: &str) {
        self.engine.handle_ws_text(now, transport, text);
        self.process(now);
    }

    /// A binary message arrived on `transport`.
    pub fn handle_ws_binary(&mut self, now: Instant, transport: TransportId, data: &[u8]) {
        self.engine.handle_ws_binary(now, transport, data);
        self.process(now);
    }

    /// The WebSocket `transport` closed or failed (or never opened).
    pub fn handle_ws_closed(&mut self, now: Instant, transport: TransportId) {
        self.engine.handle_ws_closed(transport);
        self.process(now);
    }

    /// The response to `request`: status, `Content-Type` and body.
    pub fn handle_http_response(
        &mut self,
        now: Instant,
        request: RequestId,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) {
        self.engine
            .handle_http_response(now, request, status, content_type, body);
        self.process(now);
    }

    /// `request` failed without a response (connection refused, reset...).
    pub fn handle_http_failed(&mut self, now: Instant, request: RequestId) {
        self.engine.handle_http_failed(request);
        self.process(now);
    }

    /// Runs the timers due at `now`: heartbeat, connection timeout,
    /// acknowledgement timeouts and retries, the reconnection delay. Early
    /// or repeated calls are harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.engine.handle_timeout(now);
        self.process(now);
        if self.reconnect_at.is_some_and(|at| now >= at) {
            self.reconnect_at = None;
            log::debug!("reconnection attempt {}", self.backoff.attempts);
            self.engine.open(now);
        }
        let limits = self.limits();
        for socket in self.sockets.values_mut() {
            socket.handle_timeout(now, &mut self.engine, limits, &mut self.events);
        }
        self.process(now);
    }

    // ---- (C) commands -----------------------------------------------------

    /// Opens the Engine.IO session if none is open or scheduled (what
    /// [`Client::connect_namespace`] does on its own).
    pub fn connect(&mut self, now: Instant) {
        self.closed = false;
        if !self.engine.is_active() && self.reconnect_at.is_none() {
            self.engine.open(now);
        }
    }

    /// Joins `nsp` (socket.io-client's `io(url + nsp, { auth })`): sends
    /// CONNECT with `auth` once the session is open, and again after every
    /// reconnection. Opens the session if needed.
    pub fn connect_namespace(
        &mut self,
        now: Instant,
        nsp: &str,
        auth: Option<Value>,
    ) -> Result<(), ClientError> {
        if !nsp.starts_with('/') || nsp.contains([',', '?']) {
            return Err(ClientError::UnknownNamespace(nsp.to_owned()));
        }
        let revision = self.revision();
        let socket = self
            .sockets
            .entry(nsp.to_owned())
            .or_insert_with(|| NsSocket::new(nsp.to_owned(), None));
        socket.auth = auth;
        socket.active = true;
        if self.engine.is_open() && socket.state == SocketState::Idle {
            Self::send_connect(&mut self.engine, revision, socket);
        }
        self.connect(now);
        Ok(())
    }

    fn send_connect(engine: &mut ClientEngine, revision: Revision, socket: &mut NsSocket) {
        socket.state = SocketState::Connecting;
        let packet = match revision {
            Revision::V5 => sio::Packet {
                nsp: socket.nsp.clone(),
                body: Body::Connect(socket.connect_payload()),
            },
            // The server joins `/` by itself.
            Revision::V4 if socket.nsp == "/" => return,
            Revision::V4 => {
                let mut nsp = socket.nsp.clone();
                if let Some(Value::Object(map)) = &socket.auth {
                    for (i, (k, v)) in map.iter().enumerate() {
                        nsp.push(if i == 0 { '?' } else { '&' });
                        engine::push_uri_component(&mut nsp, k);
                        nsp.push('=');
                        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        engine::push_uri_component(&mut nsp, &v);
                    }
                }
                sio::Packet {
                    nsp,
                    body: Body::Connect(None),
                }
            }
        };
        send_packet(engine, &packet);
    }

    fn do_emit(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: Args,
        mode: EmitMode,
    ) -> Result<(EmitStatus, Option<AckId>), ClientError> {
        let limits = self.limits();
        let socket = self
            .sockets
            .get_mut(nsp)
            .ok_or_else(|| ClientError::UnknownNamespace(nsp.to_owned()))?;
        let result = socket.emit(now, &mut self.engine, limits, name, args, mode);
        self.process(now);
        result
    }

    /// Emits `name` to `nsp`: sent now if connected, else buffered until
    /// the namespace (re)connects ([`EmitStatus::Buffered`], or
    /// [`ClientError::BufferFull`] beyond the bound).
    pub fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: Args,
    ) -> Result<EmitStatus, ClientError> {
        self.do_emit(now, nsp, name, args, EmitMode::Plain)
            .map(|(status, _)| status)
    }

    /// Emits only if the transport can take the packet now; otherwise the
    /// packet is dropped and [`EmitStatus::Dropped`] says so.
    pub fn emit_volatile(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: Args,
    ) -> Result<EmitStatus, ClientError> {
        self.do_emit(now, nsp, name, args, EmitMode::Volatile)
            .map(|(status, _)| status)
    }

    /// Emits `name` asking for an acknowledgement; returns its id. Exactly
    /// one [`ClientEvent::Ack`] with this id follows. `timeout` (or
    /// [`ClientConfig::ack_timeout`] when `None`) bounds the wait; with
    /// [`ClientConfig::retries`] the emit goes through the retry queue.
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        name: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> Result<AckId, ClientError> {
        let mode = EmitMode::Ack {
            timeout: timeout.or(self.config.ack_timeout),
            queued: self.config.retries > 0,
        };
        let (_, id) = self.do_emit(now, nsp, name, args, mode)?;
        id.ok_or(ClientError::Closed)
    }

    /// Answers the server's acknowledgement request `id` on `nsp`.
    pub fn ack(
        &mut self,
        now: Instant,
        nsp: &str,
        id: AckId,
        args: Args,
    ) -> Result<(), ClientError> {
        if !self.is_connected(nsp) {
            return Err(ClientError::NotConnected(nsp.to_owned()));
        }
        crate::wire::binary::validate(&args.values, args.binaries.len())
            .map_err(|_| ClientError::InvalidAttachments)?;
        let packet = sio::Packet {
            nsp: nsp.to_owned(),
            body: Body::Ack(sio::Ack { id, args }),
        };
        send_packet(&mut self.engine, &packet);
        self.process(now);
        Ok(())
    }

    /// Leaves `nsp` (socket.io-client's `socket.disconnect()`): DISCONNECT
    /// goes out, [`ClientEvent::Disconnected`] with "io client disconnect"
    /// follows, and the namespace is not re-joined. When no namespace is
    /// left, the session closes.
    pub fn disconnect_namespace(&mut self, now: Instant, nsp: &str) -> Result<(), ClientError> {
        let limits = self.limits();
        let socket = self
            .sockets
            .get_mut(nsp)
            .ok_or_else(|| ClientError::UnknownNamespace(nsp.to_owned()))?;
        if socket.is_connected() {
            send_packet(
                &mut self.engine,
                &sio::Packet {
                    nsp: nsp.to_owned(),
                    body: Body::Disconnect,
                },
            );
        }
        socket.active = false;
        socket.on_disconnected(
            limits,
            &mut self.events,
            Some(ClientDisconnectReason::IoClientDisconnect),
        );
        self.close_if_unused();
        self.process(now);
        Ok(())
    }

    /// Closes everything (socket.io-client's `manager`/`socket.close()`):
    /// every namespace leaves, the session closes, no reconnection. Emits
    /// still buffered stay for a later [`Client::connect_namespace`].
    pub fn close(&mut self, now: Instant) {
        let names: Vec<String> = self.sockets.keys().cloned().collect();
        for nsp in names {
            let _ = self.disconnect_namespace(now, &nsp);
        }
        self.shut_down();
        self.process(now);
    }

    fn shut_down(&mut self) {
        self.closed = true;
        self.reconnect_at = None;
        self.reconnecting = false;
        self.backoff.reset();
        self.engine.close();
        self.decoder = PacketDecoder::new(self.config.parser, self.config.decoder_config());
    }

    /// With no namespace wanted any more, the session has no purpose.
    fn close_if_unused(&mut self) {
        if !self.sockets.values().any(|s| s.active) {
            self.shut_down();
        }
    }

    // ---- (D) output -------------------------------------------------------

    /// The next I/O for the driver.
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        self.engine.transmits.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let sockets = self.sockets.values().filter_map(NsSocket::poll_timeout);
        [self.engine.poll_timeout(), self.reconnect_at]
            .into_iter()
            .flatten()
            .chain(sockets)
            .min()
    }

    // ---- the Socket.IO layer ----------------------------------------------

    fn process(&mut self, now: Instant) {
        while let Some(event) = self.engine.events.pop_front() {
            match event {
                EngineEvent::Open => self.on_engine_open(),
                EngineEvent::Message(data) => self.on_message(now, data),
                EngineEvent::Upgraded => self.events.push_back(ClientEvent::Upgraded),
                EngineEvent::Closed { reason, was_open } => {
                    self.on_engine_closed(now, reason, was_open)
                }
            }
        }
    }

    fn on_engine_open(&mut self) {
        if self.reconnecting {
            self.reconnecting = false;
            self.events.push_back(ClientEvent::Reconnected {
                attempt: self.backoff.attempts,
            });
        }
        self.backoff.reset();
        let revision = self.revision();
        for socket in self.sockets.values_mut().filter(|s| s.active) {
            Self::send_connect(&mut self.engine, revision, socket);
        }
    }

    fn on_engine_closed(&mut self, now: Instant, reason: ClientDisconnectReason, was_open: bool) {
        self.decoder = PacketDecoder::new(self.config.parser, self.config.decoder_config());
        let limits = self.limits();
        for socket in self.sockets.values_mut() {
            if !was_open && socket.active && !socket.is_connected() {
                self.events.push_back(ClientEvent::ConnectError {
                    nsp: socket.nsp.clone(),
                    message: reason.to_string(),
                    data: None,
                });
            }
            socket.on_disconnected(limits, &mut self.events, Some(reason.clone()));
        }
        if self.closed || !self.config.reconnection {
            return;
        }
        if was_open {
            self.backoff.reset();
        }
        self.schedule_reconnect(now);
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        if self
            .config
            .reconnection_attempts
            .is_some_and(|max| self.backoff.attempts >= max)
        {
            log::debug!(
                "reconnection failed after {} attempts",
                self.backoff.attempts
            );
            self.backoff.reset();
            self.reconnecting = false;
            self.events.push_back(ClientEvent::ReconnectFailed);
            return;
        }
        let delay = self.backoff.duration(self.rng.as_mut());
        self.reconnecting = true;
        self.reconnect_at = Some(now + delay);
        self.events.push_back(ClientEvent::Reconnecting {
            attempt: self.backoff.attempts,
            delay,
        });
    }

    fn on_message(&mut self, now: Instant, data: Data<'static>) {
        let decoded = match data {
            Data::Text(text) => self.decoder.decode_text(&text),
            Data::Binary(bytes) => self.decoder.decode_binary(bytes.into_owned()),
        };
        match decoded {
            Ok(Some(packet)) => self.on_packet(now, packet),
            Ok(None) => {}
            Err(e) => self.protocol_error(ClientProtocolError::Socket(e)),
        }
    }

    fn protocol_error(&mut self, e: ClientProtocolError) {
        log::warn!("the server broke the protocol: {e}");
        self.engine.fail(ClientDisconnectReason::ParseError(e));
    }

    fn on_packet(&mut self, now: Instant, packet: sio::Packet) {
        let revision = self.revision();
        let limits = self.limits();
        let engine_sid = self.engine.sid().unwrap_or_default().to_owned();
        let nsp = match revision {
            Revision::V4 => sio::split_namespace_query(&packet.nsp).0.to_owned(),
            Revision::V5 => packet.nsp,
        };
        let Some(socket) = self.sockets.get_mut(&nsp).filter(|s| s.active) else {
            log::debug!("ignoring a packet for namespace {nsp:?}, not joined");
            return;
        };
        match packet.body {
            Body::Connect(data) => {
                if socket.state != SocketState::Connecting {
                    log::debug!("{nsp}: ignoring an unexpected CONNECT");
                    return;
                }
                let sid = match (revision, data) {
                    (Revision::V5, Some(Value::Object(map))) => {
                        // Connection state recovery: the answer's `pid`
                        // equals ours when the session was restored.
                        let pid = map.get("pid").and_then(Value::as_str).map(str::to_owned);
                        socket.recovered = pid.is_some() && pid == socket.pid;
                        if !socket.recovered {
                            socket.last_offset = None;
                        }
                        socket.pid = pid;
                        match map.get("sid").and_then(Value::as_str) {
                            Some(sid) => sid.to_owned(),
                            None => {
                                return self
                                    .protocol_error(ClientProtocolError::InvalidConnect(nsp))
                            }
                        }
                    }
                    (Revision::V5, _) => {
                        return self.protocol_error(ClientProtocolError::InvalidConnect(nsp))
                    }
                    (Revision::V4, _) if nsp == "/" => engine_sid,
                    (Revision::V4, _) => format!("{nsp}#{engine_sid}"),
                };
                socket.on_connected(now, &mut self.engine, sid.clone());
                let early = std::mem::take(&mut socket.early);
                self.events.push_back(ClientEvent::Connected {
                    nsp: nsp.clone(),
                    sid,
                });
                for (name, args, ack) in early {
                    socket.note_offset(&args, ack);
                    self.events.push_back(ClientEvent::Event {
                        nsp: nsp.clone(),
                        name,
                        args,
                        ack,
                    });
                }
            }
            Body::ConnectError(value) => {
                let (message, data) = match value {
                    Value::String(message) => (message, None),
                    // rev 4 (Socket.IO 2.x): the error object is the data itself.
                    Value::Object(map)
                        if revision == Revision::V4 && !map.contains_key("message") =>
                    {
                        (String::new(), Some(Value::Object(map)))
                    }
                    Value::Object(mut map) => {
                        let message = match map.remove("message") {
                            Some(Value::String(m)) => m,
                            Some(other) => other.to_string(),
                            None => String::new(),
                        };
                        (message, map.remove("data"))
                    }
                    other => (other.to_string(), None),
                };
                socket.active = false;
                socket.on_disconnected(limits, &mut self.events, None);
                self.events
                    .push_back(ClientEvent::ConnectError { nsp, message, data });
                self.close_if_unused();
            }
            Body::Disconnect => {
                socket.active = false;
                // The server keeps no session after its own disconnect.
                socket.pid = None;
                socket.last_offset = None;
                socket.on_disconnected(
                    limits,
                    &mut self.events,
                    Some(ClientDisconnectReason::IoServerDisconnect),
                );
                self.close_if_unused();
            }
            Body::Event(event) => {
                if socket.state == SocketState::Connecting && revision == Revision::V5 {
                    // A recovering server sends the missed events before
                    // its CONNECT answer: they follow `Connected`.
                    if socket.early.len() < limits.max_buffered_emits {
                        socket.early.push_back((event.name, event.args, event.id));
                    } else {
                        log::warn!("{nsp}: too many events before CONNECT; dropping one");
                    }
                    return;
                }
                if !socket.is_connected() {
                    log::debug!("{nsp}: ignoring an event before CONNECT");
                    return;
                }
                socket.note_offset(&event.args, event.id);
                self.events.push_back(ClientEvent::Event {
                    nsp,
                    name: event.name,
                    args: event.args,
                    ack: event.id,
                });
            }
            Body::Ack(ack) => {
                socket.on_ack(now, &mut self.engine, &mut self.events, ack.id, ack.args);
            }
        }
    }
}
