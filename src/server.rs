//! [`Server`]: many [`Connection`]s keyed by [`ConnId`], with session ids
//! from an injected [`RandomSource`], rooms per namespace, broadcasts encoded
//! once and shared, and a deadline heap so `poll_timeout` stays cheap at
//! 10 000 connections.
//!
//! Method groups, as on [`Connection`]: (A) getters, (B) `handle_*` inputs
//! carrying `now`, (C) commands that queue work, (D) `poll_*` outputs. After
//! any (B) or (C) call drain `poll_transmit`, then `poll_event`, then read
//! `poll_timeout`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::any_conn::AnyConnection;
use crate::config::Config;
use crate::conn::{Connection, Event, Handshake};
use crate::encoded::EncodedPacket;
use crate::engine::{Transmit, TransportKind};
use crate::error::UsageError;
use crate::http::{HttpRequest, HttpResponse, Method, RequestId, APPLICATION_JSON};
use crate::legacy::{self, LegacyConnection, LegacyRoute, LegacyTransport};
use crate::rand::{generate_id, RandomSource};
use crate::wire::eio::EngineVersion;
use crate::wire::sio::{self, AckId, Args};

/// A handle to one connection of a [`Server`]. Stale handles (of a closed
/// connection whose slot was reused) are detected by a generation count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId {
    index: u32,
    generation: u32,
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}.{}", self.index, self.generation)
    }
}

/// A map keyed by [`ConnId`], with [`ConnIdHash`].
pub type ConnIdMap<V> = HashMap<ConnId, V, ConnIdHash>;

/// A fast multiplicative hasher for maps keyed by [`ConnId`] (looked up per
/// event or per outgoing frame). Connection ids are small integers this
/// crate makes, never input a peer could choose to collide, so a
/// DoS-resistant hasher buys nothing there. Not for other keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConnIdHash;

impl std::hash::BuildHasher for ConnIdHash {
    type Hasher = ConnIdHasher;
    fn build_hasher(&self) -> ConnIdHasher {
        ConnIdHasher(0)
    }
}

/// The hasher of [`ConnIdHash`].
#[derive(Debug)]
pub struct ConnIdHasher(u64);

impl std::hash::Hasher for ConnIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// An event of one connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// Which connection.
    pub conn: ConnId,
    /// What happened.
    pub event: Event,
}

/// A refused HTTP or WebSocket handshake: answer with `status` and
/// [`Rejection::json_body`] (the reference's `{"code":n,"message":...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status (400, or 403).
    pub status: u16,
    /// The reference's error code (0 transport unknown, 1 session id unknown,
    /// 2 bad handshake method, 3 bad request, 4 forbidden, 5 unsupported protocol version).
    pub code: u8,
    /// The reference's message for the code.
    pub message: &'static str,
}

impl Rejection {
    /// Unknown or missing `transport` (code 0).
    pub const TRANSPORT_UNKNOWN: Rejection = Rejection {
        status: 400,
        code: 0,
        message: "Transport unknown",
    };
    /// Unknown `sid` (code 1).
    pub const SESSION_ID_UNKNOWN: Rejection = Rejection {
        status: 400,
        code: 1,
        message: "Session ID unknown",
    };
    /// A handshake that is not a GET (code 2).
    pub const BAD_HANDSHAKE_METHOD: Rejection = Rejection {
        status: 400,
        code: 2,
        message: "Bad handshake method",
    };
    /// A malformed request (code 3).
    pub const BAD_REQUEST: Rejection = Rejection {
        status: 400,
        code: 3,
        message: "Bad request",
    };
    /// A WebSocket with the sid of a session that is already upgraded (or
    /// upgrading): as the reference, the handshake is accepted (`101`) and
    /// the new WebSocket closed at once; the session is untouched. Status
    /// `101` marks it ([`Rejection::accepts_then_closes`]); drivers write
    /// the answer with `socketio_http::Reply::from_ws_rejection`. Never a
    /// polling answer.
    pub const ALREADY_UPGRADED: Rejection = Rejection {
        status: 101,
        code: 3,
        message: "Transport already upgraded",
    };
    /// Missing, invalid or disabled `EIO` (code 5).
    pub const UNSUPPORTED_PROTOCOL_VERSION: Rejection = Rejection {
        status: 400,
        code: 5,
        message: "Unsupported protocol version",
    };

    /// True for [`Rejection::ALREADY_UPGRADED`]: answer the WebSocket
    /// handshake `101`, then close the WebSocket at once.
    pub fn accepts_then_closes(&self) -> bool {
        self.status == 101
    }

    /// The JSON body, e.g. `{"code":5,"message":"Unsupported protocol version"}`.
    pub fn json_body(&self) -> String {
        format!(
            "{{\"code\":{},\"message\":\"{}\"}}",
            self.code, self.message
        )
    }

    /// The whole HTTP response.
    pub fn to_response(&self) -> HttpResponse {
        HttpResponse::new(self.status, APPLICATION_JSON, self.json_body())
    }
}

/// Counters for observability (and for tests that prove work is shared).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections opened so far.
    pub connections_opened: u64,
    /// Broadcast packets encoded (one JSON serialization each, whatever the
    /// number of recipients).
    pub broadcasts_encoded: u64,
    /// Frames queued for broadcast recipients.
    pub broadcast_deliveries: u64,
}

/// Who receives a broadcast: the sockets of one namespace, optionally only
/// those in some rooms, minus those in the `except` rooms.
///
/// ```
/// use socketio_sansio::Broadcast;
/// let op = Broadcast::to("/").room("lobby").except("muted").volatile();
/// assert_eq!(op.nsp, "/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    /// The namespace.
    pub nsp: String,
    /// Rooms whose members receive it; empty = every socket of the namespace.
    pub rooms: Vec<String>,
    /// Rooms whose members are left out.
    pub except: Vec<String>,
    /// Skip recipients whose transport is busy instead of queueing.
    pub volatile: bool,
}

impl Broadcast {
    /// Every socket of `nsp`.
    pub fn to(nsp: impl Into<String>) -> Self {
        Broadcast {
            nsp: nsp.into(),
            rooms: Vec::new(),
            except: Vec::new(),
            volatile: false,
        }
    }

    /// Restricts to the members of `room` (several calls: the union).
    /// A socket id is also a room holding just that socket.
    pub fn room(mut self, room: impl Into<String>) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// Leaves out the members of `room`.
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.except.push(room.into());
        self
    }

    /// Drops the packet for recipients that cannot take it right now.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }
}

struct Entry {
    conn: AnyConnection,
    /// Rooms joined, per namespace.
    rooms: NspRooms,
    /// The deadline currently in the heap for this connection.
    scheduled: Option<Instant>,
    in_ready: bool,
    /// The driver holds enough unwritten data for this connection: frames
    /// stay queued here, where they count toward the outbound limit.
    write_blocked: bool,
    in_http_ready: bool,
}

/// The rooms of one socket, sorted; a vector, not a B-tree: a socket is
/// usually in one room (its own id) or a few, and a B-tree node has room
/// for eleven.
#[derive(Debug, Default, Clone)]
struct RoomSet(Vec<String>);

impl RoomSet {
    fn insert(&mut self, room: &str) {
        if let Err(at) = self.0.binary_search_by(|r| r.as_str().cmp(room)) {
            if self.0.capacity() == 0 {
                self.0.reserve_exact(1);
            }
            self.0.insert(at, room.to_owned());
        }
    }

    fn remove(&mut self, room: &str) {
        if let Ok(at) = self.0.binary_search_by(|r| r.as_str().cmp(room)) {
            self.0.remove(at);
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }
}

/// A connection's rooms per namespace (usually one namespace).
#[derive(Debug, Default)]
struct NspRooms(Vec<(String, RoomSet)>);

impl NspRooms {
    fn get(&self, nsp: &str) -> Option<&RoomSet> {
        self.0.iter().find(|(n, _)| n == nsp).map(|(_, r)| r)
    }

    fn get_mut(&mut self, nsp: &str) -> Option<&mut RoomSet> {
        self.0.iter_mut().find(|(n, _)| n == nsp).map(|(_, r)| r)
    }

    fn get_or_default(&mut self, nsp: &str) -> &mut RoomSet {
        let at = match self.0.iter().position(|(n, _)| n == nsp) {
            Some(at) => at,
            None => {
                if self.0.capacity() == 0 {
                    self.0.reserve_exact(1);
                }
                self.0.push((nsp.to_owned(), RoomSet::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    fn remove(&mut self, nsp: &str) -> Option<RoomSet> {
        let at = self.0.iter().position(|(n, _)| n == nsp)?;
        Some(self.0.swap_remove(at).1)
    }
}

struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

/// Many connections, rooms and broadcasts, as one pure state machine.
///
/// ```
/// use std::time::Instant;
/// use socketio_sansio::{Config, Handshake, SeededRandom, Server};
///
/// let config = Config::builder().build().unwrap();
/// let mut server = Server::with_random(config, Box::new(SeededRandom::new(1)));
/// let now = Instant::now();
/// let conn = server
///     .handle_ws_open(now, Handshake::new("/socket.io/?EIO=4&transport=websocket", vec![]))
///     .expect("valid handshake");
/// let (to, _frame) = server.poll_transmit().expect("the open packet");
/// assert_eq!(to, conn);
/// ```
pub struct Server {
    config: Arc<Config>,
    rng: Box<dyn RandomSource>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    by_sid: HashMap<String, ConnId>,
    /// Connected sockets per namespace.
    members: BTreeMap<String, BTreeSet<ConnId>>,
    /// Room members per namespace and room.
    rooms: BTreeMap<String, BTreeMap<String, BTreeSet<ConnId>>>,
    deadlines: BinaryHeap<Reverse<(Instant, ConnId)>>,
    ready: VecDeque<ConnId>,
    /// Connections with an HTTP response to take (polled lazily, so a held
    /// GET carries everything the handlers produced in one drain).
    http_ready: VecDeque<ConnId>,
    events: VecDeque<ServerEvent>,
    http_out: VecDeque<(RequestId, HttpResponse)>,
    /// Long-poll GETs held by a connection, to find it when the host aborts one.
    held: HashMap<RequestId, ConnId>,
    /// POSTs whose body is still arriving (see [`Server::handle_http_started`]).
    posts: HashMap<RequestId, ConnId>,
    /// POSTs refused while their body was arriving: 400 when it arrives.
    refused_posts: BTreeSet<RequestId>,
    stats: Stats,
    /// Keep the rooms of departed sockets (see [`Server::set_keep_departed_rooms`]).
    keep_departed: bool,
    departed: HashMap<(ConnId, String), RoomSet>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("connections", &self.by_sid.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Server {
    /// A server drawing ids from the operating system's randomness.
    #[cfg(feature = "os-rng")]
    pub fn new(config: Arc<Config>) -> Self {
        Self::with_random(config, Box::new(crate::rand::OsRandom))
    }

    /// A server drawing ids from `rng` (e.g. [`crate::SeededRandom`] for
    /// reproducible tests).
    pub fn with_random(config: Arc<Config>, rng: Box<dyn RandomSource>) -> Self {
        Server {
            config,
            rng,
            slots: Vec::new(),
            free: Vec::new(),
            by_sid: HashMap::new(),
            members: BTreeMap::new(),
            rooms: BTreeMap::new(),
            deadlines: BinaryHeap::new(),
            ready: VecDeque::new(),
            http_ready: VecDeque::new(),
            events: VecDeque::new(),
            http_out: VecDeque::new(),
            held: HashMap::new(),
            posts: HashMap::new(),
            refused_posts: BTreeSet::new(),
            stats: Stats::default(),
            keep_departed: false,
            departed: HashMap::new(),
        }
    }

    // ---- (A) getters ---------------------------------------------------

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The connection behind `id`, while it exists.
    pub fn connection(&self, id: ConnId) -> Option<&Connection> {
        match self.entry(id).map(|e| &e.conn) {
            Some(AnyConnection::Modern(c)) => Some(c),
            _ => None,
        }
    }

    /// The connection behind `id`, whatever its protocol generation.
    pub fn any_connection(&self, id: ConnId) -> Option<&AnyConnection> {
        self.entry(id).map(|e| &e.conn)
    }

    /// The socket id of `id`'s socket in `nsp` (any protocol generation).
    pub fn socket_id(&self, id: ConnId, nsp: &str) -> Option<&str> {
        self.entry(id).and_then(|e| e.conn.socket_id(nsp))
    }

    /// The handshake request of `id` (any protocol generation).
    pub fn handshake(&self, id: ConnId) -> Option<&Handshake> {
        self.entry(id).map(|e| e.conn.handshake())
    }

    /// The handshake of connection `id`, shared (no copy).
    pub fn shared_handshake(&self, id: ConnId) -> Option<Arc<Handshake>> {
        self.entry(id).map(|e| e.conn.shared_handshake())
    }

    /// The connection with Engine.IO session id `sid`, if open.
    pub fn find_sid(&self, sid: &str) -> Option<ConnId> {
        self.by_sid.get(sid).copied()
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.by_sid.len()
    }

    /// Rooms that have members, over every namespace (what a leak check
    /// compares with its baseline).
    pub fn room_count(&self) -> usize {
        self.rooms.values().map(BTreeMap::len).sum()
    }

    /// Deadlines in the timer heap, stale ones included until they are
    /// popped (each connection keeps at most one live deadline).
    pub fn deadline_count(&self) -> usize {
        self.deadlines.len()
    }

    /// The internal tables that are not empty, with their sizes: live
    /// slots, held long-poll requests, namespace member sets, kept rooms of
    /// departed sockets, and queued outputs. What a leak check (the
    /// `server_session` fuzz target, tests) compares with an idle server;
    /// not a stable API.
    #[doc(hidden)]
    pub fn leak_check_counts(&self) -> Vec<(&'static str, usize)> {
        let live = self.slots.iter().filter(|s| s.entry.is_some()).count();
        [
            ("live slots", live),
            ("by_sid", self.by_sid.len()),
            ("held requests", self.held.len()),
            ("member sets", self.members.len()),
            ("departed", self.departed.len()),
            ("ready", self.ready.len()),
            ("http_ready", self.http_ready.len()),
            ("events", self.events.len()),
            ("http_out", self.http_out.len()),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The rooms the socket of `nsp` on `id` is in, in order.
    pub fn rooms_of(&self, id: ConnId, nsp: &str) -> Vec<String> {
        self.entry(id)
            .and_then(|e| e.rooms.get(nsp))
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The connections whose socket of `nsp` is in `room`, in order.
    pub fn room_members(&self, nsp: &str, room: &str) -> Vec<ConnId> {
        self.rooms
            .get(nsp)
            .and_then(|r| r.get(room))
            .map(|m| m.iter().copied().collect())
            .unwrap_or_default()
    }

    // ---- (B) inputs ----------------------------------------------------

    /// A WebSocket handshake (`/socket.io/?EIO=4&transport=websocket`).
    /// Checks the query as the reference does (transport, then sid, then
    /// `EIO`) and opens a session, or says how to refuse the request.
    pub fn handle_ws_open(
        &mut self,
        now: Instant,
        handshake: Handshake,
    ) -> Result<ConnId, Rejection> {
        if self.config.serves_legacy() && !self.config.is_engine_path(&handshake.url) {
            match legacy::route(&self.config.path, &handshake.url) {
                LegacyRoute::NotLegacy => {}
                LegacyRoute::Transport {
                    transport: LegacyTransport::WebSocket,
                    sid,
                } if self.config.legacy.allows(LegacyTransport::WebSocket) => {
                    let id = self.find_sid(sid).ok_or(Rejection::SESSION_ID_UNKNOWN)?;
                    let Some(AnyConnection::Legacy(conn)) = self.entry_mut(id).map(|e| &mut e.conn)
                    else {
                        return Err(Rejection::BAD_REQUEST);
                    };
                    if conn.is_closed() {
                        return Err(Rejection::SESSION_ID_UNKNOWN);
                    }
                    conn.handle_ws_open(now);
                    self.after(id);
                    return Ok(id);
                }
                _ => return Err(Rejection::BAD_REQUEST),
            }
        }
        let q = &handshake.query;
        let (Ok(transport), Ok(sid), Ok(eio)) = (
            q.get_unique("transport"),
            q.get_unique("sid"),
            q.get_unique("EIO"),
        ) else {
            return Err(Rejection::BAD_REQUEST);
        };
        match transport {
            Some("websocket") => {}
            // A polling request that asks for an upgrade cannot be served.
            Some("polling") => return Err(Rejection::BAD_REQUEST),
            _ => return Err(Rejection::TRANSPORT_UNKNOWN),
        }
        if let Some(sid) = sid.filter(|s| !s.is_empty()) {
            // An upgrade of a polling session.
            let id = self.find_sid(sid).ok_or(Rejection::SESSION_ID_UNKNOWN)?;
            let outcome = match self.entry_mut(id).map(|e| &mut e.conn) {
                Some(AnyConnection::Modern(c)) if session_version_matches(c.version(), eio) => {
                    match c.transport() {
                        // The reference accepts the handshake and closes the
                        // newcomer ("transport had already been upgraded",
                        // "has already been trying to upgrade").
                        TransportKind::WebSocket | TransportKind::Upgrading if !c.is_closed() => {
                            Err(Rejection::ALREADY_UPGRADED)
                        }
                        _ if c.handle_ws_upgrade(now) => Ok(id),
                        _ => Err(Rejection::BAD_REQUEST),
                    }
                }
                _ => Err(Rejection::BAD_REQUEST),
            };
            self.after(id);
            return outcome;
        }
        let version = match eio.and_then(EngineVersion::from_query) {
            Some(EngineVersion::V3) if !self.config.accepts_eio3() => {
                return Err(Rejection::UNSUPPORTED_PROTOCOL_VERSION)
            }
            Some(v) => v,
            None => return Err(Rejection::UNSUPPORTED_PROTOCOL_VERSION),
        };
        let sid = self.new_sid();
        let rng = self.rng.fork();
        let conn = if self.config.is_engine_path(&handshake.url) {
            Connection::new_engine_websocket(
                now,
                version,
                sid.clone(),
                self.config.clone(),
                handshake,
            )
        } else {
            Connection::new_websocket(
                now,
                version,
                sid.clone(),
                self.config.clone(),
                handshake,
                rng,
            )
        };
        let id = self.insert(AnyConnection::Modern(conn));
        self.by_sid.insert(sid, id);
        self.stats.connections_opened += 1;
        self.after(id);
        Ok(id)
    }

    /// An HTTP long-polling request (`transport=polling`): the handshake GET,
    /// a long-poll GET or a POST of packets. The answer comes out of
    /// [`Server::poll_http_response`] with `req` — at once, or when data is
    /// queued for a held GET. Checks and error codes are the reference's
    /// (the engine.io 6.x server's error codes 0–5 and bodies); JSONP polling
    /// (`j=`) is not supported (400 code 3).
    pub fn handle_http(&mut self, now: Instant, req: RequestId, request: HttpRequest) {
        self.posts.remove(&req);
        if self.refused_posts.remove(&req) {
            // Refused while its body was arriving (overlapping POSTs).
            return self.respond(req, HttpResponse::empty(400));
        }
        if self.config.serves_legacy() && !self.config.is_engine_path(&request.url) {
            match legacy::route(&self.config.path, &request.url) {
                LegacyRoute::NotLegacy => {}
                route => return self.handle_legacy_http(now, req, &request, route),
            }
        }
        let q = crate::query::QueryRef::parse(request.query_str());
        let (Ok(transport), Ok(sid), Ok(eio)) = (
            q.get_unique("transport"),
            q.get_unique("sid"),
            q.get_unique("EIO"),
        ) else {
            return self.respond(req, Rejection::BAD_REQUEST.to_response());
        };
        match transport {
            Some("polling") => {}
            // A plain GET on the WebSocket transport (no upgrade headers); a
            // missing or unsupported version is reported first.
            Some("websocket") => {
                let supported =
                    matches!(eio, Some("4")) || (eio == Some("3") && self.config.accepts_eio3());
                let rejection = if supported {
                    Rejection::BAD_REQUEST
                } else {
                    Rejection::UNSUPPORTED_PROTOCOL_VERSION
                };
                return self.respond(req, rejection.to_response());
            }
            _ => return self.respond(req, Rejection::TRANSPORT_UNKNOWN.to_response()),
        }
        if q.get("j").is_some() {
            return self.respond(req, Rejection::BAD_REQUEST.to_response());
        }
        let Some(sid) = sid.filter(|s| !s.is_empty()) else {
            let eio = eio.map(str::to_owned);
            return self.handshake_polling(now, req, request, eio.as_deref());
        };
        let Some(id) = self.find_sid(sid) else {
            return self.respond(req, Rejection::SESSION_ID_UNKNOWN.to_response());
        };
        let Some(AnyConnection::Modern(conn)) = self.entry_mut(id).map(|e| &mut e.conn) else {
            return self.respond(req, Rejection::BAD_REQUEST.to_response());
        };
        if !session_version_matches(conn.version(), eio)
            || conn.transport() == TransportKind::WebSocket
        {
            return self.respond(req, Rejection::BAD_REQUEST.to_response());
        }
        match request.method {
            Method::Get => {
                conn.handle_poll_get(now, req);
                self.held.insert(req, id);
            }
            Method::Post => conn.handle_poll_post(now, req, &request),
            // Without a CORS layer the reference answers these with 500.
            Method::Options | Method::Other => {
                self.http_out.push_back((req, HttpResponse::empty(500)))
            }
        }
        self.after(id);
    }

    fn handshake_polling(
        &mut self,
        now: Instant,
        req: RequestId,
        request: HttpRequest,
        eio: Option<&str>,
    ) {
        if request.method != Method::Get {
            return self.respond(req, Rejection::BAD_HANDSHAKE_METHOD.to_response());
        }
        let version = match eio.and_then(EngineVersion::from_query) {
            Some(EngineVersion::V3) if !self.config.accepts_eio3() => None,
            other => other,
        };
        let Some(version) = version else {
            return self.respond(req, Rejection::UNSUPPORTED_PROTOCOL_VERSION.to_response());
        };
        let sid = self.new_sid();
        let rng = self.rng.fork();
        let handshake = Handshake::new(request.url, request.headers);
        let conn = if self.config.is_engine_path(&handshake.url) {
            Connection::new_engine_polling(
                now,
                version,
                sid.clone(),
                self.config.clone(),
                handshake,
                req,
            )
        } else {
            Connection::new_polling(
                now,
                version,
                sid.clone(),
                self.config.clone(),
                handshake,
                rng,
                req,
            )
        };
        let id = self.insert(AnyConnection::Modern(conn));
        self.by_sid.insert(sid, id);
        self.stats.connections_opened += 1;
        self.after(id);
    }

    /// The host has read the head of request `req` and its body is still
    /// arriving (the whole request follows with [`Server::handle_http`] and
    /// the same `req`, or [`Server::handle_http_aborted`]). Only a POST
    /// for a polling session matters: while it is in flight, another POST
    /// for the session is the reference's "data request overlap from
    /// client" — it is answered 400 and the session closes (a held GET gets
    /// the close packet). The rule is in [`Server::handle_http`] as well (a
    /// whole POST arriving while one is in flight), so a host that reads
    /// every body before handing it over needs not call this; one that
    /// reads bodies incrementally calls it once per POST.
    pub fn handle_http_started(&mut self, now: Instant, req: RequestId, method: Method, url: &str) {
        if method != Method::Post {
            return;
        }
        if self.config.serves_legacy()
            && !self.config.is_engine_path(url)
            && !matches!(
                legacy::route(&self.config.path, url),
                LegacyRoute::NotLegacy
            )
        {
            return;
        }
        let q = crate::query::Query::parse(url.split_once('?').map_or("", |(_, q)| q));
        let (Ok(Some("polling")), Ok(Some(sid)), Ok(eio)) = (
            q.get_unique("transport"),
            q.get_unique("sid"),
            q.get_unique("EIO"),
        ) else {
            return;
        };
        let Some(id) = self.find_sid(sid) else { return };
        let Some(AnyConnection::Modern(conn)) = self.entry_mut(id).map(|e| &mut e.conn) else {
            return;
        };
        if !session_version_matches(conn.version(), eio)
            || conn.transport() == TransportKind::WebSocket
        {
            return;
        }
        if conn.handle_poll_post_started(now, req) {
            self.posts.insert(req, id);
        } else {
            self.refused_posts.insert(req);
        }
        self.after(id);
    }

    /// A 0.9 request (`/socket.io/1/...`).
    fn handle_legacy_http(
        &mut self,
        now: Instant,
        req: RequestId,
        request: &HttpRequest,
        route: LegacyRoute<'_>,
    ) {
        match route {
            LegacyRoute::Handshake => {
                let sid = self.new_sid();
                let response = legacy::handshake_response(&sid, &self.config.legacy);
                let handshake = Handshake::new(request.url.clone(), request.headers.clone());
                let conn = LegacyConnection::new(now, sid.clone(), self.config.clone(), handshake);
                let id = self.insert(AnyConnection::Legacy(conn));
                self.by_sid.insert(sid, id);
                self.stats.connections_opened += 1;
                self.respond(req, response);
                self.after(id);
            }
            LegacyRoute::Transport {
                transport: LegacyTransport::XhrPolling,
                sid,
            } if self.config.legacy.allows(LegacyTransport::XhrPolling) => {
                let found = self.find_sid(sid);
                let Some((id, AnyConnection::Legacy(conn))) =
                    found.and_then(|id| self.entry_mut(id).map(|e| (id, &mut e.conn)))
                else {
                    return self.respond(req, legacy::unknown_session_response());
                };
                match request.method {
                    Method::Get => {
                        conn.handle_poll_get(now, req);
                        self.held.insert(req, id);
                    }
                    Method::Post if request.body_too_large => {
                        self.http_out.push_back((req, HttpResponse::empty(413)));
                    }
                    Method::Post => conn.handle_poll_post(now, req, &request.body),
                    Method::Options | Method::Other => {
                        self.http_out.push_back((req, HttpResponse::empty(405)))
                    }
                }
                self.after(id);
            }
            LegacyRoute::ForcedDisconnect { sid } => {
                let found = self.find_sid(sid);
                match found.and_then(|id| self.entry_mut(id).map(|e| (id, &mut e.conn))) {
                    Some((id, AnyConnection::Legacy(conn))) => {
                        conn.handle_forced_disconnect(now, req);
                        self.after(id);
                    }
                    _ => self.respond(req, legacy::unknown_session_response()),
                }
            }
            // The WebSocket transport needs an upgrade; a disabled or
            // unknown transport gets the "transport not supported" error.
            LegacyRoute::Transport {
                transport: LegacyTransport::WebSocket,
                ..
            } => self.respond(req, HttpResponse::empty(400)),
            LegacyRoute::Transport { sid, .. } => {
                let unsupported = LegacyRoute::UnsupportedTransport { name: "", sid };
                let response = unsupported
                    .immediate_response()
                    .unwrap_or_else(|| HttpResponse::empty(400));
                self.respond(req, response)
            }
            other => {
                let response = other
                    .immediate_response()
                    .unwrap_or_else(|| HttpResponse::empty(400));
                self.respond(req, response)
            }
        }
    }

    /// The host lost the HTTP connection of request `req` before answering
    /// it. For a held long-poll GET the session closes (reference:
    /// "poll connection closed prematurely"), and for a POST whose body was
    /// still arriving ([`Server::handle_http_started`]) too ("data request
    /// connection closed prematurely"); otherwise nothing happens.
    pub fn handle_http_aborted(&mut self, now: Instant, req: RequestId) {
        self.refused_posts.remove(&req);
        if let Some(id) = self.posts.remove(&req) {
            self.with_conn(id, |c| {
                if let AnyConnection::Modern(c) = c {
                    c.handle_poll_post_aborted(now, req);
                }
            });
        }
        if let Some(id) = self.held.remove(&req) {
            self.with_conn(id, |c| match c {
                AnyConnection::Modern(c) => c.handle_poll_aborted(now),
                AnyConnection::Legacy(c) => c.handle_transport_closed(now),
            });
        }
    }

    fn respond(&mut self, req: RequestId, response: HttpResponse) {
        self.http_out.push_back((req, response));
    }

    /// A WebSocket text message for `id`.
    pub fn handle_ws_text(&mut self, now: Instant, id: ConnId, text: &str) {
        self.with_conn(id, |c| c.handle_text(now, text));
    }

    /// A WebSocket binary message for `id`.
    pub fn handle_ws_binary(&mut self, now: Instant, id: ConnId, data: Vec<u8>) {
        self.with_conn(id, |c| c.handle_binary(now, data));
    }

    /// The transport of `id` closed.
    pub fn handle_ws_closed(&mut self, now: Instant, id: ConnId) {
        let was_websocket = self.entry(id).is_some_and(|e| match &e.conn {
            AnyConnection::Modern(c) => c.transport() == TransportKind::WebSocket,
            AnyConnection::Legacy(_) => true,
        });
        self.with_conn(id, |c| c.handle_transport_closed(now));
        if was_websocket {
            // Nothing more can be sent: drop what is still queued.
            if let Some(entry) = self.entry_mut(id) {
                while entry.conn.poll_transmit().is_some() {}
            }
        }
        self.release_if_done(id);
    }

    /// The driver already holds as much unwritten data for `id` as it wants
    /// to (its socket does not drain): until [`Server::handle_write_ready`],
    /// [`Server::poll_transmit`] yields nothing for `id` but the close of the
    /// connection. Frames stay in the core, where they count toward
    /// [`Config::max_outbound_bytes`]: volatile packets are dropped, and past
    /// the limit the connection closes with
    /// [`crate::DisconnectReason::OutboundQueueFull`]. This is how a driver
    /// bounds the memory a client that stops reading can hold.
    pub fn handle_write_blocked(&mut self, id: ConnId) {
        if let Some(entry) = self.entry_mut(id) {
            entry.write_blocked = true;
        }
    }

    /// The driver's unwritten data for `id` drained (or its transport was
    /// replaced): frames flow again.
    pub fn handle_write_ready(&mut self, id: ConnId) {
        if let Some(entry) = self.entry_mut(id) {
            if entry.write_blocked {
                entry.write_blocked = false;
                self.after(id);
            }
        }
    }

    /// Fires every timer due at `now`. Calling it early or twice is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&Reverse((at, id))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if let Some(entry) = self.entry_mut(id) {
                if entry.scheduled == Some(at) {
                    entry.scheduled = None;
                }
                entry.conn.handle_timeout(now);
                self.after(id);
            }
        }
    }

    // ---- (C) commands --------------------------------------------------

    /// Accepts a pending CONNECT (see [`Connection::accept`]); the socket
    /// then joins the room named by its socket id. Returns the socket id,
    /// or [`UsageError::Closed`] when the answer did not fit in
    /// [`Config::max_outbound_bytes`] and the connection closed.
    pub fn accept(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        extra: Option<Map<String, Value>>,
    ) -> Result<String, UsageError> {
        let socket_id = self.try_with_conn(id, |c| c.accept(now, nsp, extra))?;
        self.register_accepted(id, nsp, socket_id, &[])
    }

    /// After a connection accepted a CONNECT: the socket becomes a member
    /// of its namespace and joins its own room (and `rooms`). If queueing
    /// the answer closed the connection (past
    /// [`Config::max_outbound_bytes`]; its `Disconnected` event is already
    /// queued), nothing of the socket is kept and the accept fails with
    /// [`UsageError::Closed`].
    fn register_accepted(
        &mut self,
        id: ConnId,
        nsp: &str,
        socket_id: String,
        rooms: &[String],
    ) -> Result<String, UsageError> {
        if !self.entry(id).is_some_and(|e| e.conn.is_connected(nsp)) {
            self.departed.remove(&(id, nsp.to_owned()));
            return Err(UsageError::Closed);
        }
        self.members.entry(nsp.to_owned()).or_default().insert(id);
        self.join(id, nsp, &socket_id)?;
        for room in rooms {
            self.join(id, nsp, room)?;
        }
        Ok(socket_id)
    }

    /// Accepts a pending CONNECT as the continuation of an earlier socket
    /// (see [`Connection::accept_restored`]): the socket takes the id
    /// `socket_id`, gets the `missed` events before its CONNECT answer and
    /// joins `rooms` (its own id is joined in any case). Only Socket.IO
    /// rev 5 sessions can be restored: [`UsageError::NoPendingConnect`]
    /// otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn accept_restored(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        socket_id: String,
        extra: Option<Map<String, Value>>,
        missed: Vec<(String, Args)>,
        rooms: &[String],
    ) -> Result<String, UsageError> {
        let socket_id = self.try_with_conn(id, |c| match c {
            AnyConnection::Modern(c) if c.revision() == sio::Revision::V5 => {
                c.accept_restored(now, nsp, Some(socket_id), extra, missed)
            }
            _ => Err(UsageError::NoPendingConnect(nsp.to_owned())),
        })?;
        self.register_accepted(id, nsp, socket_id, rooms)
    }

    /// A fresh random id from the server's [`RandomSource`] (the private
    /// session ids of connection state recovery).
    pub fn random_id(&mut self) -> String {
        generate_id(self.rng.as_mut())
    }

    /// Keeps the rooms of each socket that leaves until
    /// [`Server::take_departed_rooms`] takes them (what connection state
    /// recovery needs; off by default, when they are forgotten at once).
    pub fn set_keep_departed_rooms(&mut self, keep: bool) {
        self.keep_departed = keep;
        if !keep {
            self.departed.clear();
        }
    }

    /// The rooms the socket of `nsp` on `id` was in when it left (with
    /// [`Server::set_keep_departed_rooms`]), in order; taken once.
    pub fn take_departed_rooms(&mut self, id: ConnId, nsp: &str) -> Option<Vec<String>> {
        let rooms = self.departed.remove(&(id, nsp.to_owned()))?;
        Some(rooms.0)
    }

    /// Refuses a pending CONNECT (see [`Connection::reject`]).
    pub fn reject(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        message: &str,
        data: Option<Value>,
    ) -> Result<(), UsageError> {
        self.try_with_conn(id, |c| c.reject(now, nsp, message, data))
    }

    /// Emits to one socket (see [`Connection::emit`]).
    pub fn emit(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        event: &str,
        args: Args,
    ) -> Result<(), UsageError> {
        self.try_with_conn(id, |c| c.emit(now, nsp, event, args))
    }

    /// Emits to one socket and asks for an ack (see [`Connection::emit_with_ack`]).
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> Result<AckId, UsageError> {
        self.try_with_conn(id, |c| c.emit_with_ack(now, nsp, event, args, timeout))
    }

    /// Acknowledges a client's event (see [`Connection::ack`]).
    pub fn ack(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        ack: AckId,
        args: Args,
    ) -> Result<(), UsageError> {
        self.try_with_conn(id, |c| c.ack(now, nsp, ack, args))
    }

    /// Sends a raw message on a bare Engine.IO session (one opened under
    /// [`crate::Config::engine_path`]).
    pub fn send_engine_message(
        &mut self,
        now: Instant,
        id: ConnId,
        data: crate::conn::EngineData,
    ) -> Result<(), UsageError> {
        self.try_with_conn(id, |c| match c {
            AnyConnection::Modern(c) => c.send_engine_message(now, data),
            AnyConnection::Legacy(_) => Err(UsageError::NotEngineOnly),
        })
    }

    /// Sends a 0.9 `message` packet (3) with `text` to a legacy client;
    /// `ack` asks for a receipt or data acknowledgement (its id is
    /// returned; the answer arrives as [`Event::AckReceived`]). Modern
    /// clients have no such packet: [`UsageError::NotLegacy`].
    pub fn send_legacy_message(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        text: &str,
        ack: legacy::LegacyAck,
    ) -> Result<Option<AckId>, UsageError> {
        self.try_with_conn(id, |c| match c {
            AnyConnection::Legacy(c) => c.send_message(now, nsp, text, ack),
            AnyConnection::Modern(_) => Err(UsageError::NotLegacy),
        })
    }

    /// Sends a 0.9 `json` packet (4) with `value` to a legacy client (see
    /// [`Server::send_legacy_message`]).
    pub fn send_legacy_json(
        &mut self,
        now: Instant,
        id: ConnId,
        nsp: &str,
        value: Value,
        ack: legacy::LegacyAck,
    ) -> Result<Option<AckId>, UsageError> {
        self.try_with_conn(id, |c| match c {
            AnyConnection::Legacy(c) => c.send_json(now, nsp, value, ack),
            AnyConnection::Modern(_) => Err(UsageError::NotLegacy),
        })
    }

    /// Disconnects the socket of `nsp` (see [`Connection::disconnect`]).
    pub fn disconnect(&mut self, now: Instant, id: ConnId, nsp: &str) -> Result<(), UsageError> {
        self.try_with_conn(id, |c| c.disconnect(now, nsp))
    }

    /// Disconnects every socket of the connection and closes it.
    pub fn close(&mut self, now: Instant, id: ConnId) -> Result<(), UsageError> {
        self.try_with_conn(id, |c| {
            c.close(now);
            Ok(())
        })
    }

    /// Closes every connection without DISCONNECT packets (clients reconnect later).
    pub fn shutdown(&mut self, now: Instant) {
        let ids: Vec<ConnId> = self
            .by_sid
            .values()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for id in ids {
            self.with_conn(id, |c| c.shutdown(now));
        }
    }

    /// Puts the socket of `nsp` on `id` into `room`.
    pub fn join(&mut self, id: ConnId, nsp: &str, room: &str) -> Result<(), UsageError> {
        let entry = self.entry_mut(id).ok_or(UsageError::UnknownConnection)?;
        if !entry.conn.is_connected(nsp) {
            return Err(UsageError::NotConnected(nsp.to_owned()));
        }
        entry.rooms.get_or_default(nsp).insert(room);
        self.rooms
            .entry(nsp.to_owned())
            .or_default()
            .entry(room.to_owned())
            .or_default()
            .insert(id);
        Ok(())
    }

    /// Takes the socket of `nsp` on `id` out of `room`.
    pub fn leave(&mut self, id: ConnId, nsp: &str, room: &str) -> Result<(), UsageError> {
        let entry = self.entry_mut(id).ok_or(UsageError::UnknownConnection)?;
        if let Some(rooms) = entry.rooms.get_mut(nsp) {
            rooms.remove(room);
        }
        self.remove_member(nsp, room, id);
        Ok(())
    }

    /// Emits `event` to every socket `op` selects, encoding the packet once
    /// for all recipients of every protocol version. Returns how many
    /// sockets it was queued for.
    pub fn broadcast(
        &mut self,
        now: Instant,
        op: &Broadcast,
        event: &str,
        args: &Args,
    ) -> Result<usize, UsageError> {
        let _ = now;
        if sio::is_reserved_event(event) {
            return Err(UsageError::ReservedEventName(event.to_owned()));
        }
        if !args.binaries.is_empty() {
            crate::wire::binary::validate(&args.values, args.binaries.len())
                .map_err(|_| UsageError::InvalidAttachments)?;
        }
        let recipients = self.select(op);
        if recipients.is_empty() {
            return Ok(0);
        }
        let packet = EncodedPacket::event_with(self.config.parser, &op.nsp, event, args, None);
        self.stats.broadcasts_encoded += 1;
        // The 0.9 form, built on the first legacy recipient (0.9 has no binary).
        let mut legacy_text: Option<Option<Arc<str>>> = None;
        let mut make_legacy = || {
            legacy_text
                .get_or_insert_with(|| {
                    if !args.binaries.is_empty() {
                        log::debug!("broadcast {event:?} carries binary: skipped for 0.9 clients");
                        return None;
                    }
                    let endpoint = if op.nsp == "/" { "" } else { op.nsp.as_str() };
                    let p = crate::wire::legacy::Packet::Event {
                        id: None,
                        endpoint: endpoint.to_owned(),
                        name: event.to_owned(),
                        args: args.values.clone(),
                    };
                    let mut text = String::with_capacity(64);
                    p.encode(&mut text);
                    Some(Arc::from(text))
                })
                .clone()
        };
        let mut sent = 0;
        for id in recipients {
            let queued = match self.slots.get_mut(id.index as usize) {
                Some(Slot {
                    generation,
                    entry: Some(entry),
                }) if *generation == id.generation => {
                    entry
                        .conn
                        .send_broadcast(&packet, &mut make_legacy, op.volatile)
                }
                _ => false,
            };
            if queued {
                sent += 1;
            }
            self.after(id);
        }
        self.stats.broadcast_deliveries += sent as u64;
        Ok(sent)
    }

    // ---- (D) outputs ---------------------------------------------------

    /// The next frame (or transport close) to send, and to which connection.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<(ConnId, Transmit)> {
        while let Some(&id) = self.ready.front() {
            let Some(entry) = self.entry_mut(id) else {
                self.ready.pop_front();
                continue;
            };
            // A blocked transport takes nothing but the close of its connection.
            let held = entry.write_blocked && !entry.conn.is_closed();
            match if held {
                None
            } else {
                entry.conn.poll_transmit()
            } {
                Some(t) => {
                    if t == Transmit::Close {
                        // Closing an abandoned upgrade candidate leaves the session.
                        self.release_if_done(id);
                    }
                    return Some((id, t));
                }
                None => {
                    entry.in_ready = false;
                    self.ready.pop_front();
                }
            }
        }
        None
    }

    /// The next HTTP response and the id of the request it answers.
    #[must_use]
    pub fn poll_http_response(&mut self) -> Option<(RequestId, HttpResponse)> {
        if let Some(r) = self.http_out.pop_front() {
            return Some(r);
        }
        while let Some(&id) = self.http_ready.front() {
            let Some(entry) = self.entry_mut(id) else {
                self.http_ready.pop_front();
                continue;
            };
            match entry.conn.poll_http_response() {
                Some((req, response)) => {
                    self.held.remove(&req);
                    self.release_if_done(id);
                    return Some((req, response));
                }
                None => {
                    entry.in_http_ready = false;
                    self.http_ready.pop_front();
                }
            }
        }
        None
    }

    /// The next application event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`Server::handle_timeout`] must be called next (may be early,
    /// never late).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((at, _))| *at)
    }

    // ---- internals -----------------------------------------------------

    fn new_sid(&mut self) -> String {
        loop {
            let sid = generate_id(self.rng.as_mut());
            if !self.by_sid.contains_key(&sid) {
                return sid;
            }
        }
    }

    fn insert(&mut self, conn: AnyConnection) -> ConnId {
        let entry = Entry {
            conn,
            rooms: NspRooms::default(),
            scheduled: None,
            in_ready: false,
            write_blocked: false,
            in_http_ready: false,
        };
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.entry = Some(entry);
                ConnId {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                let index = self.slots.len() as u32;
                self.slots.push(Slot {
                    generation: 0,
                    entry: Some(entry),
                });
                ConnId {
                    index,
                    generation: 0,
                }
            }
        }
    }

    fn entry(&self, id: ConnId) -> Option<&Entry> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.entry.as_ref()
    }

    fn entry_mut(&mut self, id: ConnId) -> Option<&mut Entry> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.entry.as_mut()
    }

    fn with_conn(&mut self, id: ConnId, f: impl FnOnce(&mut AnyConnection)) {
        if let Some(entry) = self.entry_mut(id) {
            f(&mut entry.conn);
            self.after(id);
        }
    }

    fn try_with_conn<T>(
        &mut self,
        id: ConnId,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, UsageError>,
    ) -> Result<T, UsageError> {
        let entry = self.entry_mut(id).ok_or(UsageError::UnknownConnection)?;
        let result = f(&mut entry.conn);
        self.after(id);
        result
    }

    /// After any change to a connection: collect its events and HTTP
    /// responses, keep rooms in step, mark it ready to transmit, schedule its
    /// next deadline, and free it once it has nothing left to deliver.
    fn after(&mut self, id: ConnId) {
        let Some(entry) = self.entry_mut(id) else {
            return;
        };
        let mut left = Vec::new();
        let mut events = Vec::new();
        let mut connect = false;
        while let Some(event) = entry.conn.poll_event() {
            if let Event::Disconnected { nsp, .. } = &event {
                left.push((nsp.clone(), entry.rooms.remove(nsp).unwrap_or_default()));
            }
            connect |= matches!(event, Event::Connect { .. });
            events.push(event);
        }
        if connect {
            // Many sessions stay quiet after connecting: their event queue
            // should not keep the capacity the CONNECT gave it.
            entry.conn.release_idle_events();
        }
        let wants_http = entry.conn.has_http_response() && !entry.in_http_ready;
        if wants_http {
            entry.in_http_ready = true;
        }
        let wants_transmit =
            entry.conn.has_transmit() && (!entry.write_blocked || entry.conn.is_closed());
        let mut schedule = None;
        if let Some(t) = entry.conn.poll_timeout() {
            if entry.scheduled.map_or(true, |s| t < s) {
                entry.scheduled = Some(t);
                schedule = Some(t);
            }
        }
        if wants_transmit && !entry.in_ready {
            entry.in_ready = true;
            self.ready.push_back(id);
        }
        if let Some(t) = schedule {
            self.deadlines.push(Reverse((t, id)));
        }
        if wants_http {
            self.http_ready.push_back(id);
        }
        for (nsp, rooms) in left {
            for room in rooms.iter() {
                self.remove_member(&nsp, room, id);
            }
            if let Some(m) = self.members.get_mut(&nsp) {
                m.remove(&id);
                if m.is_empty() {
                    self.members.remove(&nsp);
                }
            }
            if self.keep_departed {
                self.departed.insert((id, nsp), rooms);
            }
        }
        self.events.extend(
            events
                .into_iter()
                .map(|event| ServerEvent { conn: id, event }),
        );
        self.release_if_done(id);
    }

    fn remove_member(&mut self, nsp: &str, room: &str, id: ConnId) {
        if let Some(rooms) = self.rooms.get_mut(nsp) {
            if let Some(members) = rooms.get_mut(room) {
                members.remove(&id);
                if members.is_empty() {
                    rooms.remove(room);
                }
            }
            if rooms.is_empty() {
                self.rooms.remove(nsp);
            }
        }
    }

    /// Frees the slot of a closed connection once everything queued for it
    /// was taken.
    fn release_if_done(&mut self, id: ConnId) {
        let done = self.entry(id).is_some_and(|e| e.conn.is_finished());
        if !done {
            return;
        }
        let slot = &mut self.slots[id.index as usize];
        if let Some(entry) = slot.entry.take() {
            self.by_sid.remove(entry.conn.sid());
        }
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
    }

    /// The connections whose socket `op` selects (its namespace, minus the
    /// `except` rooms, restricted to its rooms when it names any), in order.
    pub fn select(&self, op: &Broadcast) -> BTreeSet<ConnId> {
        let mut set: BTreeSet<ConnId> = if op.rooms.is_empty() {
            self.members.get(&op.nsp).cloned().unwrap_or_default()
        } else {
            let rooms = self.rooms.get(&op.nsp);
            op.rooms
                .iter()
                .filter_map(|r| rooms.and_then(|m| m.get(r)))
                .flatten()
                .copied()
                .collect()
        };
        if let Some(rooms) = self.rooms.get(&op.nsp) {
            for room in &op.except {
                if let Some(members) = rooms.get(room) {
                    for id in members {
                        set.remove(id);
                    }
                }
            }
        }
        set
    }
}

/// True if a request's `EIO` selects the session's version. Like the
/// reference, anything but `4` means v3.
fn session_version_matches(version: EngineVersion, eio: Option<&str>) -> bool {
    let requested = if eio == Some("4") {
        EngineVersion::V4
    } else {
        EngineVersion::V3
    };
    requested == version
}
