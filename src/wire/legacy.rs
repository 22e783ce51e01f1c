//! Legacy Socket.IO 0.9 wire format (PROTOCOL.md §3), with a typed packet
//! model equivalent to gevent-socketio's packet dictionaries (§3.8).
//!
//! ```text
//! <type> ":" [<id>["+"]] ":" [<endpoint>] [":" <data>]
//! ```
//!
//! Several packets in one polling body are framed as
//! `\u{fffd}<len>\u{fffd}<packet>` repeated, `len` in UTF-16 code units (as
//! the reference JavaScript counts); a body with a single packet is sent bare.

use serde_json::Value;

use super::DecodeError;

/// Largest message id accepted on decode (2^53 − 1).
pub const MAX_ID: u64 = (1 << 53) - 1;

/// What the sender of a message/json/event packet asked for in return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckRequest {
    /// Plain id (`3:1::hi`): the receiver acknowledges receipt at once with
    /// `6:::<id>`, without data (gevent-socketio: `ack: True`).
    Auto(u64),
    /// Id with `+` (`5:1+::{...}`): the receiving application answers with
    /// data, sent as `6:::<id>+[args]` (gevent-socketio: `ack: "data"`).
    Data(u64),
}

impl AckRequest {
    /// The message id.
    pub fn id(self) -> u64 {
        match self {
            AckRequest::Auto(id) | AckRequest::Data(id) => id,
        }
    }
}

/// Error packet reasons (`7:::<reason>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorReason {
    /// `0`
    TransportNotSupported,
    /// `1`
    ClientNotHandshaken,
    /// `2`
    Unauthorized,
}

/// Error packet advice (`7:::<reason>+<advice>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorAdvice {
    /// `0`
    Reconnect,
}

/// One 0.9 packet. Field names follow gevent-socketio's dictionary keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// `0::/endpoint`: leave an endpoint; `0::` closes the whole connection.
    Disconnect {
        /// `""` is the global endpoint.
        endpoint: String,
    },
    /// `1::/endpoint[:?query]`: join an endpoint (the server echoes it).
    /// `1::/chat?a=b` (query inside the endpoint) is accepted too.
    Connect {
        /// The endpoint without query.
        endpoint: String,
        /// The query string including its leading `?`, if any.
        qs: Option<String>,
    },
    /// `2::`
    Heartbeat,
    /// `3:[id[+]]:endpoint:data`: a plain text message.
    Message {
        /// Ack requested by the sender.
        id: Option<AckRequest>,
        /// Endpoint (`""` = global).
        endpoint: String,
        /// The raw text.
        data: String,
    },
    /// `4:[id[+]]:endpoint:json`: a JSON message.
    Json {
        /// Ack requested by the sender.
        id: Option<AckRequest>,
        /// Endpoint (`""` = global).
        endpoint: String,
        /// The JSON value.
        data: Value,
    },
    /// `5:[id[+]]:endpoint:{"name":..,"args":[..]}`: an event.
    Event {
        /// Ack requested by the sender.
        id: Option<AckRequest>,
        /// Endpoint (`""` = global).
        endpoint: String,
        /// Event name.
        name: String,
        /// Event arguments (`args` omitted on the wire when empty).
        args: Vec<Value>,
    },
    /// `6:::<ack_id>[+<args>]`: acknowledges message `ack_id`.
    Ack {
        /// Endpoint (`""` = global).
        endpoint: String,
        /// The id being acknowledged.
        ack_id: u64,
        /// `None` for a receipt ack (`6:::12`), `Some` for a data ack (`6:::12+[...]`).
        args: Option<Vec<Value>>,
    },
    /// `7::endpoint:[reason][+advice]`. Unknown codes decode as `None`.
    Error {
        /// Endpoint (`""` = global).
        endpoint: String,
        /// Why.
        reason: Option<ErrorReason>,
        /// What the client should do.
        advice: Option<ErrorAdvice>,
    },
    /// `8::`
    Noop,
}

impl Packet {
    /// Decodes one packet.
    pub fn decode(input: &str) -> Result<Packet, DecodeError> {
        let _ = input;
        todo!("wire::legacy::Packet::decode")
    }

    /// Appends the packet to `out`, byte-compatible with the reference encoder.
    pub fn encode(&self, out: &mut String) {
        let _ = out;
        todo!("wire::legacy::Packet::encode")
    }
}

/// Splits a polling body into packet strings: framed
/// (`\u{fffd}len\u{fffd}...`) when it starts with U+FFFD, else one packet.
/// Lengths must be digits and match the frames exactly (UTF-16 code units).
pub fn decode_payload(body: &str) -> Result<Vec<&str>, DecodeError> {
    let _ = body;
    todo!("wire::legacy::decode_payload")
}

/// Appends a polling body for `packets`: one packet bare, several framed.
pub fn encode_payload<S: AsRef<str>>(packets: &[S], out: &mut String) {
    let _ = (packets, out);
    todo!("wire::legacy::encode_payload")
}

/// The handshake response `sid:heartbeat:close:transports` (timeouts in
/// seconds; an empty heartbeat field means heartbeats are disabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Session id.
    pub sid: String,
    /// Heartbeat timeout in seconds, `None` when disabled.
    pub heartbeat_timeout: Option<u64>,
    /// Close timeout in seconds.
    pub close_timeout: u64,
    /// Transport names, e.g. `["websocket", "xhr-polling"]`.
    pub transports: Vec<String>,
}

impl Handshake {
    /// Appends the handshake line to `out`.
    pub fn encode(&self, out: &mut String) {
        let _ = out;
        todo!("wire::legacy::Handshake::encode")
    }

    /// Parses a handshake line (client role).
    pub fn decode(input: &str) -> Result<Handshake, DecodeError> {
        let _ = input;
        todo!("wire::legacy::Handshake::decode")
    }
}
