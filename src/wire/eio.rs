//! One Engine.IO packet, v3 and v4 (PROTOCOL.md §1.1–§1.3).
//!
//! A text packet is `<type digit><data>`. A text packet starting with `b` is
//! base64 binary: v4 `b<base64>` (always a message), v3 `b<type><base64>`.
//! Over WebSocket a v4 binary frame is the raw message data; a v3 binary frame
//! starts with the packet type as a raw byte (`0x04` for message).

use std::borrow::Cow;

use super::DecodeError;

/// The Engine.IO protocol version, fixed per session at the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EngineVersion {
    /// `EIO=3`: Socket.IO 1.x/2.x clients (Socket.IO protocol rev 4).
    V3,
    /// `EIO=4`: Socket.IO 3.x/4.x clients (Socket.IO protocol rev 5).
    V4,
}

impl EngineVersion {
    /// Parses the `EIO` query value: exactly `"3"` or `"4"`.
    pub fn from_query(value: &str) -> Option<Self> {
        match value {
            "3" => Some(EngineVersion::V3),
            "4" => Some(EngineVersion::V4),
            _ => None,
        }
    }
}

/// Engine.IO packet type (the leading digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: handshake, data = open JSON. Only the server sends it.
    Open = 0,
    /// `1`: close the session.
    Close = 1,
    /// `2`: heartbeat (or `2probe` during an upgrade).
    Ping = 2,
    /// `3`: heartbeat answer (or `3probe`).
    Pong = 3,
    /// `4`: application data.
    Message = 4,
    /// `5`: completes an upgrade on the new transport.
    Upgrade = 5,
    /// `6`: filler, releases a pending long-poll.
    Noop = 6,
}

impl PacketType {
    /// The type for a digit value `0..=6`.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0 => PacketType::Open,
            1 => PacketType::Close,
            2 => PacketType::Ping,
            3 => PacketType::Pong,
            4 => PacketType::Message,
            5 => PacketType::Upgrade,
            6 => PacketType::Noop,
            _ => return None,
        })
    }

    /// The ASCII digit of this type (`b'0'..=b'6'`).
    pub fn as_char(self) -> char {
        (b'0' + self as u8) as char
    }
}

/// The data of a packet: text, or binary (only `message` packets carry binary
/// in practice, but the v3 binary framing allows any type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data<'a> {
    /// UTF-8 text. Empty for packets without data (`"3"`, `"6"`).
    Text(Cow<'a, str>),
    /// Raw bytes.
    Binary(Cow<'a, [u8]>),
}

impl Data<'_> {
    /// True for empty text or empty binary.
    pub fn is_empty(&self) -> bool {
        match self {
            Data::Text(t) => t.is_empty(),
            Data::Binary(b) => b.is_empty(),
        }
    }

    /// Detaches the data from the buffer it was decoded from.
    pub fn into_owned(self) -> Data<'static> {
        match self {
            Data::Text(t) => Data::Text(Cow::Owned(t.into_owned())),
            Data::Binary(b) => Data::Binary(Cow::Owned(b.into_owned())),
        }
    }
}

/// One decoded Engine.IO packet, borrowing from its input where it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The packet type.
    pub kind: PacketType,
    /// The data after the type.
    pub data: Data<'a>,
}

impl<'a> Packet<'a> {
    /// A packet with text data.
    pub fn text(kind: PacketType, text: impl Into<Cow<'a, str>>) -> Self {
        Packet { kind, data: Data::Text(text.into()) }
    }

    /// A packet without data (`"1"`, `"3"`, `"6"`...).
    pub fn bare(kind: PacketType) -> Self {
        Packet { kind, data: Data::Text(Cow::Borrowed("")) }
    }

    /// A binary message packet.
    pub fn binary(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        Packet { kind: PacketType::Message, data: Data::Binary(bytes.into()) }
    }

    /// Detaches the packet from the buffer it was decoded from.
    pub fn into_owned(self) -> Packet<'static> {
        Packet { kind: self.kind, data: self.data.into_owned() }
    }
}

/// Decodes a text packet (a WebSocket text frame, or one packet cut from a
/// polling payload): `<digit><text>`, or `b...` base64 binary per `version`.
pub fn decode_text(version: EngineVersion, input: &str) -> Result<Packet<'_>, DecodeError> {
    let _ = (version, input);
    todo!("wire::eio::decode_text")
}

/// Decodes a WebSocket binary frame: v4 → message with the raw bytes; v3 →
/// first byte is the packet type (`0..=6`), the rest its data. An empty v3
/// frame or a v3 frame with an unknown type byte is an error.
pub fn decode_binary(version: EngineVersion, input: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let _ = (version, input);
    todo!("wire::eio::decode_binary")
}

/// Appends the text form of a text packet (`<digit><text>`) to `out`.
/// For binary data, appends the base64 text form (v4 `b<base64>`, v3
/// `b<digit><base64>`), as used inside polling payloads.
pub fn encode_text(version: EngineVersion, packet: &Packet<'_>, out: &mut String) {
    let _ = (version, packet, out);
    todo!("wire::eio::encode_text")
}

/// Appends the WebSocket binary frame for binary data of `kind` to `out`:
/// v4 the raw bytes (only `message` exists), v3 the type byte then the bytes.
pub fn encode_binary_frame(version: EngineVersion, kind: PacketType, data: &[u8], out: &mut Vec<u8>) {
    let _ = (version, kind, data, out);
    todo!("wire::eio::encode_binary_frame")
}

/// The data of the open packet (`0{...}`), keys written in the reference
/// order `sid, upgrades, pingInterval, pingTimeout, maxPayload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPacket {
    /// Session id (opaque to clients).
    pub sid: String,
    /// Transports this session may upgrade to: `["websocket"]` on polling, `[]` on WebSocket.
    pub upgrades: Vec<String>,
    /// Milliseconds between pings.
    pub ping_interval: u64,
    /// Milliseconds to wait for the heartbeat answer.
    pub ping_timeout: u64,
    /// Largest payload the server accepts, in bytes. `None` omits the key
    /// (what engine.io 3.x sends); the reference 6.x sends it to v3 clients too.
    pub max_payload: Option<u64>,
}

impl OpenPacket {
    /// Appends the JSON object (without the leading `0`) to `out`.
    pub fn encode_json(&self, out: &mut String) {
        let _ = out;
        todo!("wire::eio::OpenPacket::encode_json")
    }

    /// Parses the JSON object (client role). Unknown keys are ignored;
    /// `sid`, `upgrades`, `pingInterval` and `pingTimeout` are required.
    pub fn decode_json(input: &str) -> Result<Self, DecodeError> {
        let _ = input;
        todo!("wire::eio::OpenPacket::decode_json")
    }
}
