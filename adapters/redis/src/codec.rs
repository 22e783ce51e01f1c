//! The bytes of `@socket.io/redis-adapter` 8.x (lib/index.ts of
//! socketio/socket.io-redis-adapter) and `@socket.io/redis-emitter`
//! (lib/index.ts of socketio/socket.io-redis-emitter) for the
//! encoding-neutral [`ClusterMessage`]s.
//!
//! * Broadcasts (`RedisAdapter#broadcast`): on `KEY#NSP#`, or
//!   `KEY#NSP#ROOM#` when the broadcast targets exactly one room, the
//!   MessagePack array `[uid, packet, opts]` as notepack.io writes it:
//!   `packet` = `{type: 2, data: [event, ...args], nsp}`, `opts` =
//!   `{rooms: [..], except: [..], flags: {..}}`; binary stays `bin`.
//! * Requests (`addSockets`, `delSockets`, `disconnectSockets`,
//!   `fetchSockets`, `serverSideEmit`): JSON on `KEY-request#NSP#` with
//!   the adapter's `RequestType` numbers; `broadcastWithAck`: a MessagePack
//!   map on the same channel.
//! * Responses (`publishResponse` and the server-side-emit callback):
//!   JSON on `KEY-response#NSP#`, but MessagePack for `BROADCAST_ACK`.
//!   (Node reads a payload starting with `{` as JSON, otherwise as
//!   MessagePack; so does this module.)

use std::fmt;
use std::time::Duration;

use rmpv::Value as Mp;
use serde_json::{json, Map, Number, Value};
use socketio_sansio::cluster::{
    ClusterMessage, RemoteSocket, RequestKind, ResponseKind, SelectionOp,
};
use socketio_sansio::{Args, Broadcast};

/// `RequestType` of lib/index.ts (the enum's numbering).
pub mod request_type {
    /// `SOCKETS` (not sent by this crate; not answered).
    pub const SOCKETS: u64 = 0;
    /// `ALL_ROOMS` (not sent by this crate; not answered).
    pub const ALL_ROOMS: u64 = 1;
    /// `REMOTE_JOIN`.
    pub const REMOTE_JOIN: u64 = 2;
    /// `REMOTE_LEAVE`.
    pub const REMOTE_LEAVE: u64 = 3;
    /// `REMOTE_DISCONNECT`.
    pub const REMOTE_DISCONNECT: u64 = 4;
    /// `REMOTE_FETCH`.
    pub const REMOTE_FETCH: u64 = 5;
    /// `SERVER_SIDE_EMIT`.
    pub const SERVER_SIDE_EMIT: u64 = 6;
    /// `BROADCAST` (with acknowledgements).
    pub const BROADCAST: u64 = 7;
    /// `BROADCAST_CLIENT_COUNT`.
    pub const BROADCAST_CLIENT_COUNT: u64 = 8;
    /// `BROADCAST_ACK`.
    pub const BROADCAST_ACK: u64 = 9;
}
use request_type as rt;

/// socket.io-parser's `EVENT` and `BINARY_EVENT` packet types.
const EVENT: u64 = 2;
const BINARY_EVENT: u64 = 5;

/// A payload that is not the Node adapter's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis adapter message: {}", self.0)
    }
}

impl std::error::Error for CodecError {}

fn err<T>(what: impl Into<String>) -> Result<T, CodecError> {
    Err(CodecError(what.into()))
}

/// The channel names of one key prefix (the adapter's `key` option,
/// `socket.io` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    key: String,
}

impl Channels {
    /// Channels under `key`.
    pub fn new(key: impl Into<String>) -> Self {
        Channels { key: key.into() }
    }

    /// The key prefix.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `KEY#NSP#`: broadcasts (subscribe with the pattern `KEY#NSP#*`).
    pub fn broadcast(&self, nsp: &str) -> String {
        format!("{}#{nsp}#", self.key)
    }

    /// `KEY-request#NSP#`: requests; its subscriber count is the node count.
    pub fn request(&self, nsp: &str) -> String {
        format!("{}-request#{nsp}#", self.key)
    }

    /// `KEY-response#NSP#`: responses.
    pub fn response(&self, nsp: &str) -> String {
        format!("{}-response#{nsp}#", self.key)
    }

    /// `KEY-response#NSP#UID#`: responses for one node
    /// (`publishOnSpecificResponseChannel`).
    pub fn specific_response(&self, nsp: &str, uid: &str) -> String {
        format!("{}-response#{nsp}#{uid}#", self.key)
    }

    /// Where `message` is published and its bytes.
    pub fn encode(&self, message: &ClusterMessage) -> (String, Vec<u8>) {
        match message {
            ClusterMessage::Broadcast {
                uid,
                target,
                event,
                args,
            } => {
                let mut channel = self.broadcast(&target.nsp);
                if let [room] = target.rooms.as_slice() {
                    channel.push_str(room);
                    channel.push('#');
                }
                let flags = flags(target, None);
                let payload = Mp::Array(vec![
                    Mp::from(uid.as_str()),
                    packet(&target.nsp, event, args),
                    opts(target, Some(flags)),
                ]);
                (channel, to_bytes(&payload))
            }
            ClusterMessage::Request { uid, nsp, id, kind } => (
                self.request(nsp),
                encode_request(uid, nsp, id.as_deref(), kind),
            ),
            ClusterMessage::Response { nsp, id, kind } => {
                (self.response(nsp), encode_response(id, kind))
            }
        }
    }

    /// The message a payload on `channel` carries; `Ok(None)` for what is
    /// not for this crate (another prefix, a request type it does not
    /// serve, a response without content).
    pub fn decode(
        &self,
        channel: &str,
        payload: &[u8],
    ) -> Result<Option<ClusterMessage>, CodecError> {
        let request = format!("{}-request#", self.key);
        let response = format!("{}-response#", self.key);
        let broadcast = format!("{}#", self.key);
        if let Some(rest) = channel.strip_prefix(&request) {
            let nsp = rest.split('#').next().unwrap_or("/");
            decode_request(nsp, payload)
        } else if let Some(rest) = channel.strip_prefix(&response) {
            let nsp = rest.split('#').next().unwrap_or("/");
            decode_response(nsp, payload)
        } else if channel.starts_with(&broadcast) {
            decode_broadcast(payload).map(Some)
        } else {
            Ok(None)
        }
    }
}

// ---- MessagePack <-> JSON with attachments -------------------------------

fn to_bytes(value: &Mp) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

/// A JSON value with the attachments of `args` put back as `bin`.
fn json_to_mp(value: &Value, args: &Args) -> Mp {
    if let Some(bytes) = args.binary(value) {
        return Mp::Binary(bytes.to_vec());
    }
    match value {
        Value::Null => Mp::Nil,
        Value::Bool(b) => Mp::Boolean(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Mp::from(u)
            } else if let Some(i) = n.as_i64() {
                Mp::from(i)
            } else {
                Mp::F64(n.as_f64().unwrap_or_default())
            }
        }
        Value::String(s) => Mp::from(s.as_str()),
        Value::Array(a) => Mp::Array(a.iter().map(|v| json_to_mp(v, args)).collect()),
        Value::Object(o) => Mp::Map(
            o.iter()
                .map(|(k, v)| (Mp::from(k.as_str()), json_to_mp(v, args)))
                .collect(),
        ),
    }
}

/// The other way: `bin` values become attachments of `args`.
fn mp_to_json(value: Mp, args: &mut Args) -> Value {
    match value {
        Mp::Nil | Mp::Ext(..) => Value::Null,
        Mp::Boolean(b) => Value::Bool(b),
        Mp::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(i)) => Value::from(i),
            _ => Value::Null,
        },
        Mp::F32(f) => Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number),
        Mp::F64(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Mp::String(s) => Value::String(s.into_str().unwrap_or_default()),
        Mp::Binary(b) => args.attach(b),
        Mp::Array(a) => Value::Array(a.into_iter().map(|v| mp_to_json(v, args)).collect()),
        Mp::Map(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Mp::String(s) => s.into_str().unwrap_or_default(),
                        other => other.to_string(),
                    };
                    (key, mp_to_json(v, args))
                })
                .collect(),
        ),
    }
}

/// A payload as JSON: `{` starts JSON, anything else is MessagePack
/// (lib/index.ts `onrequest`/`onresponse`).
fn parse(payload: &[u8]) -> Result<(Value, Args), CodecError> {
    if payload.first() == Some(&b'{') {
        let value = serde_json::from_slice(payload).map_err(|e| CodecError(e.to_string()))?;
        return Ok((value, Args::default()));
    }
    let mut reader = payload;
    let value = rmpv::decode::read_value(&mut reader).map_err(|e| CodecError(e.to_string()))?;
    let mut args = Args::default();
    let json = mp_to_json(value, &mut args);
    Ok((json, args))
}

/// JSON.stringify of a Node `Buffer`: how binary crosses a JSON message.
fn json_with_buffers(value: &Value, args: &Args) -> Value {
    if let Some(bytes) = args.binary(value) {
        return json!({"type": "Buffer", "data": bytes});
    }
    match value {
        Value::Array(a) => Value::Array(a.iter().map(|v| json_with_buffers(v, args)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), json_with_buffers(v, args)))
                .collect(),
        ),
        other => other.clone(),
    }
}

// ---- pieces --------------------------------------------------------------

/// `{type: 2, data: [event, ...args], nsp}` (socket.io's
/// `BroadcastOperator#emit`, `nsp` set by the adapter's `broadcast`).
fn packet(nsp: &str, event: &str, args: &Args) -> Mp {
    let mut data = vec![Mp::from(event)];
    data.extend(args.values.iter().map(|v| json_to_mp(v, args)));
    Mp::Map(vec![
        (Mp::from("type"), Mp::from(EVENT)),
        (Mp::from("data"), Mp::Array(data)),
        (Mp::from("nsp"), Mp::from(nsp)),
    ])
}

/// socket.io's `BroadcastFlags` as the operator builds them: only the set
/// ones.
fn flags(target: &Broadcast, timeout: Option<Duration>) -> Mp {
    let mut flags = Vec::new();
    if target.volatile {
        flags.push((Mp::from("volatile"), Mp::Boolean(true)));
    }
    if let Some(t) = timeout {
        let ms = u64::try_from(t.as_millis()).unwrap_or(u64::MAX);
        flags.push((Mp::from("timeout"), Mp::from(ms)));
    }
    Mp::Map(flags)
}

/// `{rooms, except[, flags]}`.
fn opts(target: &Broadcast, flags: Option<Mp>) -> Mp {
    let list = |v: &[String]| Mp::Array(v.iter().map(|s| Mp::from(s.as_str())).collect());
    let mut map = vec![
        (Mp::from("rooms"), list(&target.rooms)),
        (Mp::from("except"), list(&target.except)),
    ];
    if let Some(flags) = flags {
        map.push((Mp::from("flags"), flags));
    }
    Mp::Map(map)
}

fn opts_json(target: &Broadcast) -> Value {
    json!({"rooms": target.rooms, "except": target.except})
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn target_of(nsp: &str, opts: &Value) -> Broadcast {
    let mut target = Broadcast::to(nsp);
    target.rooms = strings(&opts["rooms"]);
    target.except = strings(&opts["except"]);
    target.volatile = opts["flags"]["volatile"].as_bool().unwrap_or(false);
    target
}

/// `[event, ...args]` into the event name and its arguments.
fn event_of(data: Value, mut args: Args) -> Result<(String, Args), CodecError> {
    let Value::Array(mut data) = data else {
        return err("packet data is not an array");
    };
    if data.is_empty() {
        return err("packet data is empty");
    }
    let Value::String(event) = data.remove(0) else {
        return err("event name is not a string");
    };
    args.values = data;
    Ok((event, args))
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

// ---- requests --------------------------------------------------------------

fn encode_request(uid: &str, nsp: &str, id: Option<&str>, kind: &RequestKind) -> Vec<u8> {
    let uid = Value::from(uid);
    let id_field = |v: &mut Vec<(&str, Value)>| {
        if let Some(id) = id {
            v.push(("requestId", Value::from(id)));
        }
    };
    let value = match kind {
        // `addSockets` / `delSockets`: {uid, type, opts, rooms};
        // `disconnectSockets`: {uid, type, opts, close}
        RequestKind::Selection { target, op } => {
            let (t, last) = match op {
                SelectionOp::Join(rooms) => (rt::REMOTE_JOIN, ("rooms", json!(rooms))),
                SelectionOp::Leave(rooms) => (rt::REMOTE_LEAVE, ("rooms", json!(rooms))),
                SelectionOp::Disconnect { close } => {
                    (rt::REMOTE_DISCONNECT, ("close", (*close).into()))
                }
            };
            obj(vec![
                ("uid", uid),
                ("type", t.into()),
                ("opts", opts_json(target)),
                last,
            ])
        }
        // `fetchSockets`: {uid, requestId, type, opts}
        RequestKind::FetchSockets { target } => {
            let mut v = vec![("uid", uid)];
            id_field(&mut v);
            v.push(("type", rt::REMOTE_FETCH.into()));
            v.push(("opts", opts_json(target)));
            obj(v)
        }
        // `serverSideEmit` / `serverSideEmitWithAck`: {uid, [requestId,] type, data}
        RequestKind::ServerSideEmit { event, args } => {
            let mut data = vec![Value::from(event.as_str())];
            data.extend(args.values.iter().map(|v| json_with_buffers(v, args)));
            let mut v = vec![("uid", uid)];
            id_field(&mut v);
            v.push(("type", rt::SERVER_SIDE_EMIT.into()));
            v.push(("data", Value::Array(data)));
            obj(v)
        }
        // `broadcastWithAck`: MessagePack {uid, requestId, type, packet, opts}
        RequestKind::BroadcastWithAck {
            target,
            event,
            args,
            timeout,
        } => {
            let mut map = vec![(Mp::from("uid"), Mp::from(uid.as_str().unwrap_or_default()))];
            if let Some(id) = id {
                map.push((Mp::from("requestId"), Mp::from(id)));
            }
            map.push((Mp::from("type"), Mp::from(rt::BROADCAST)));
            map.push((Mp::from("packet"), packet(nsp, event, args)));
            map.push((
                Mp::from("opts"),
                opts(target, Some(flags(target, *timeout))),
            ));
            return to_bytes(&Mp::Map(map));
        }
    };
    value.to_string().into_bytes()
}

fn decode_request(nsp: &str, payload: &[u8]) -> Result<Option<ClusterMessage>, CodecError> {
    let (mut r, args) = parse(payload)?;
    // `@socket.io/redis-emitter` sends its socketsJoin, socketsLeave and
    // disconnectSockets requests without a uid (the adapter does not look
    // at it for those): a request without one comes from no node.
    let uid = match &r["uid"] {
        Value::String(uid) => uid.clone(),
        Value::Null => String::new(),
        _ => return err("request uid is not a string"),
    };
    let id = r["requestId"].as_str().map(str::to_owned);
    let kind = match r["type"].as_u64() {
        Some(t @ (rt::REMOTE_JOIN | rt::REMOTE_LEAVE)) => {
            if r["opts"].is_null() {
                // The per-socket form (`sid`, `room`) of older adapters.
                return Ok(None);
            }
            let rooms = strings(&r["rooms"]);
            RequestKind::Selection {
                target: target_of(nsp, &r["opts"]),
                op: if t == rt::REMOTE_JOIN {
                    SelectionOp::Join(rooms)
                } else {
                    SelectionOp::Leave(rooms)
                },
            }
        }
        Some(rt::REMOTE_DISCONNECT) => {
            if r["opts"].is_null() {
                return Ok(None);
            }
            RequestKind::Selection {
                target: target_of(nsp, &r["opts"]),
                op: SelectionOp::Disconnect {
                    close: r["close"].as_bool().unwrap_or(false),
                },
            }
        }
        Some(rt::REMOTE_FETCH) => RequestKind::FetchSockets {
            target: target_of(nsp, &r["opts"]),
        },
        Some(rt::SERVER_SIDE_EMIT) => {
            let (event, args) = event_of(r["data"].take(), args)?;
            RequestKind::ServerSideEmit { event, args }
        }
        Some(rt::BROADCAST) => {
            let target = target_of(nsp, &r["opts"]);
            let timeout = r["opts"]["flags"]["timeout"]
                .as_u64()
                .map(Duration::from_millis);
            let (event, args) = event_of(r["packet"]["data"].take(), args)?;
            RequestKind::BroadcastWithAck {
                target,
                event,
                args,
                timeout,
            }
        }
        other => {
            log::debug!("redis: request type {other:?} is not served");
            return Ok(None);
        }
    };
    Ok(Some(ClusterMessage::Request {
        uid,
        nsp: nsp.to_owned(),
        id,
        kind,
    }))
}

// ---- responses --------------------------------------------------------------

fn encode_response(id: &str, kind: &ResponseKind) -> Vec<u8> {
    let id = Value::from(id);
    let value = match kind {
        // `REMOTE_FETCH` answer: {requestId, sockets: [{id, handshake, rooms, data}]}
        ResponseKind::FetchSockets { sockets } => {
            let sockets: Vec<Value> = sockets
                .iter()
                .map(|s| {
                    obj(vec![
                        ("id", Value::from(s.id.as_str())),
                        ("handshake", s.handshake.clone()),
                        ("rooms", json!(s.rooms)),
                        ("data", s.data.clone()),
                    ])
                })
                .collect();
            obj(vec![("requestId", id), ("sockets", Value::Array(sockets))])
        }
        // The server-side-emit callback: {type, requestId, data}
        ResponseKind::ServerSideEmit { answer } => obj(vec![
            ("type", rt::SERVER_SIDE_EMIT.into()),
            ("requestId", id),
            ("data", answer.clone()),
        ]),
        // {type, requestId, clientCount}
        ResponseKind::BroadcastClientCount { count } => obj(vec![
            ("type", rt::BROADCAST_CLIENT_COUNT.into()),
            ("requestId", id),
            ("clientCount", (*count).into()),
        ]),
        // MessagePack {type, requestId, packet: <the ack's first argument>}
        ResponseKind::BroadcastAck { answer } => {
            let first = answer
                .values
                .first()
                .map_or(Mp::Nil, |v| json_to_mp(v, answer));
            let map = Mp::Map(vec![
                (Mp::from("type"), Mp::from(rt::BROADCAST_ACK)),
                (
                    Mp::from("requestId"),
                    Mp::from(id.as_str().unwrap_or_default()),
                ),
                (Mp::from("packet"), first),
            ]);
            return to_bytes(&map);
        }
    };
    value.to_string().into_bytes()
}

fn decode_response(nsp: &str, payload: &[u8]) -> Result<Option<ClusterMessage>, CodecError> {
    let (mut r, mut args) = parse(payload)?;
    let Some(id) = r["requestId"].as_str().map(str::to_owned) else {
        return err("response without requestId");
    };
    let kind = match r["type"].as_u64() {
        Some(rt::SERVER_SIDE_EMIT) => ResponseKind::ServerSideEmit {
            answer: r["data"].take(),
        },
        Some(rt::BROADCAST_CLIENT_COUNT) => ResponseKind::BroadcastClientCount {
            count: r["clientCount"]
                .as_u64()
                .and_then(|c| usize::try_from(c).ok())
                .unwrap_or(0),
        },
        Some(rt::BROADCAST_ACK) => {
            args.values = vec![r["packet"].take()];
            ResponseKind::BroadcastAck { answer: args }
        }
        _ => match r["sockets"].take() {
            Value::Array(sockets) if sockets.iter().all(Value::is_object) => {
                ResponseKind::FetchSockets {
                    sockets: sockets
                        .into_iter()
                        .map(|mut s| RemoteSocket {
                            id: s["id"].as_str().unwrap_or_default().to_owned(),
                            handshake: s["handshake"].take(),
                            rooms: strings(&s["rooms"]),
                            data: s["data"].take(),
                        })
                        .collect(),
                }
            }
            // `SOCKETS` answers (ids) and join/leave/disconnect answers.
            _ => return Ok(None),
        },
    };
    Ok(Some(ClusterMessage::Response {
        nsp: nsp.to_owned(),
        id,
        kind,
    }))
}

// ---- broadcasts -------------------------------------------------------------

fn decode_broadcast(payload: &[u8]) -> Result<ClusterMessage, CodecError> {
    let mut reader = payload;
    let value = rmpv::decode::read_value(&mut reader).map_err(|e| CodecError(e.to_string()))?;
    let mut args = Args::default();
    let Value::Array(mut parts) = mp_to_json(value, &mut args) else {
        return err("broadcast is not an array");
    };
    if parts.len() < 3 {
        return err("broadcast is not [uid, packet, opts]");
    }
    let opts = parts.pop().unwrap_or_default();
    let mut packet = parts.pop().unwrap_or_default();
    let uid = match parts.pop() {
        Some(Value::String(uid)) => uid,
        _ => return err("broadcast uid is not a string"),
    };
    match packet["type"].as_u64() {
        Some(EVENT | BINARY_EVENT) => {}
        other => return err(format!("broadcast packet type {other:?}")),
    }
    // The adapter defaults a missing nsp to "/" (`onmessage`).
    let nsp = packet["nsp"].as_str().unwrap_or("/").to_owned();
    let (event, args) = event_of(packet["data"].take(), args)?;
    Ok(ClusterMessage::Broadcast {
        uid,
        target: target_of(&nsp, &opts),
        event,
        args,
    })
}

#[cfg(test)]
mod tests;
