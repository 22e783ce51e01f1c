//! One Socket.IO packet, protocol revisions 4 and 5 (PROTOCOL.md §2).
//!
//! ```text
//! <type digit>[<attachments>-][<namespace>,][<ack id>][<JSON>]
//! ```
//!
//! Binary data never appears inside the JSON: each binary value is replaced
//! by a placeholder `{"_placeholder":true,"num":n}` and travels as the n-th
//! attachment (its own Engine.IO binary message, sent after the text packet).
//! [`Args`] keeps the JSON values (placeholders included) together with the
//! attachments they point to; [`super::binary`] validates and resolves them.

use serde_json::Value;

use super::DecodeError;

/// The Socket.IO protocol revision, implied by the Engine.IO version
/// (v3 → rev 4, v4 → rev 5). The wire format is the same; they differ in
/// what CONNECT / CONNECT_ERROR carry and how namespaces are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revision {
    /// Socket.IO 1.x/2.x clients over Engine.IO v3.
    V4,
    /// Socket.IO 3.x/4.x clients over Engine.IO v4.
    V5,
}

/// An acknowledgement id. Decoders accept at most [`MAX_ACK_ID`].
pub type AckId = u64;

/// Largest ack id accepted on decode: 2^53 − 1, the largest integer every
/// JavaScript client can represent exactly.
pub const MAX_ACK_ID: AckId = (1 << 53) - 1;

/// Event names the protocol reserves: refused on emit and, when received,
/// a protocol violation.
pub const RESERVED_EVENTS: [&str; 6] =
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/// True if `name` is one of [`RESERVED_EVENTS`].
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// Socket.IO packet type (the leading digit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// `0`
    Connect = 0,
    /// `1`
    Disconnect = 1,
    /// `2`
    Event = 2,
    /// `3`
    Ack = 3,
    /// `4`: CONNECT_ERROR (rev 5) / ERROR (rev 4)
    ConnectError = 4,
    /// `5`
    BinaryEvent = 5,
    /// `6`
    BinaryAck = 6,
}

/// JSON arguments plus the binary attachments their placeholders point to.
///
/// For a packet without binary data, `binaries` is empty. On encode, a
/// non-empty `binaries` makes the packet a BINARY_EVENT / BINARY_ACK.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// The arguments as JSON; binary values appear as placeholders.
    pub values: Vec<Value>,
    /// The attachments, in placeholder `num` order.
    pub binaries: Vec<Vec<u8>>,
}

impl Args {
    /// Arguments without binary data.
    pub fn json(values: Vec<Value>) -> Self {
        Args { values, binaries: Vec::new() }
    }

    /// Adds `bytes` as the next attachment and returns the placeholder value
    /// to put where the binary belongs (at any depth of `values`).
    pub fn attach(&mut self, bytes: Vec<u8>) -> Value {
        let num = self.binaries.len();
        self.binaries.push(bytes);
        super::binary::placeholder(num)
    }

    /// The bytes a placeholder value stands for, if `value` is a valid
    /// placeholder for one of these attachments.
    pub fn binary(&self, value: &Value) -> Option<&[u8]> {
        super::binary::resolve(value, &self.binaries)
    }
}

/// An EVENT / BINARY_EVENT.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event name. A numeric name on the wire (`42[1,"x"]`, allowed by
    /// the reference) is kept as its decimal text.
    pub name: String,
    /// The arguments after the name.
    pub args: Args,
    /// Present when the sender wants an acknowledgement.
    pub id: Option<AckId>,
}

/// An ACK / BINARY_ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// The id of the event being acknowledged.
    pub id: AckId,
    /// The acknowledgement's arguments (possibly none).
    pub args: Args,
}

/// What a packet carries, by type.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// CONNECT. rev 5: the client's auth object (or `None`), the server's
    /// `{"sid":...}` reply. rev 4: always `None` (the query is in the namespace).
    Connect(Option<Value>),
    /// DISCONNECT.
    Disconnect,
    /// EVENT or BINARY_EVENT.
    Event(Event),
    /// ACK or BINARY_ACK.
    Ack(Ack),
    /// CONNECT_ERROR (rev 5, `{"message":...}`) / ERROR (rev 4, usually a string).
    ConnectError(Value),
}

/// One Socket.IO packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Namespace, `"/"` by default. For rev 4 it may carry a query string
    /// (`/admin?token=abc`); see [`split_namespace_query`].
    pub nsp: String,
    /// Type-specific content.
    pub body: Body,
}

impl Packet {
    /// The wire type of this packet (binary variants when attachments exist).
    pub fn packet_type(&self) -> PacketType {
        match &self.body {
            Body::Connect(_) => PacketType::Connect,
            Body::Disconnect => PacketType::Disconnect,
            Body::Event(e) if e.args.binaries.is_empty() => PacketType::Event,
            Body::Event(_) => PacketType::BinaryEvent,
            Body::Ack(a) if a.args.binaries.is_empty() => PacketType::Ack,
            Body::Ack(_) => PacketType::BinaryAck,
            Body::ConnectError(_) => PacketType::ConnectError,
        }
    }

    /// The attachments to send after the text packet, in order.
    pub fn attachments(&self) -> &[Vec<u8>] {
        match &self.body {
            Body::Event(e) => &e.args.binaries,
            Body::Ack(a) => &a.args.binaries,
            _ => &[],
        }
    }

    /// Appends the text part of the packet to `out` (without the Engine.IO
    /// `4`). The attachments ([`Packet::attachments`]) follow as binary messages.
    pub fn encode(&self, out: &mut String) {
        let _ = out;
        todo!("wire::sio::Packet::encode")
    }
}

/// Appends an EVENT / BINARY_EVENT text packet to `out` without building a
/// [`Packet`]: `nsp` (`"/"` is omitted), optional ack `id`, `name`, the
/// `args` JSON values, and the number of attachments the args reference.
pub fn encode_event(out: &mut String, nsp: &str, id: Option<AckId>, name: &str, args: &[Value], attachments: usize) {
    let _ = (out, nsp, id, name, args, attachments);
    todo!("wire::sio::encode_event")
}

/// Appends an ACK / BINARY_ACK text packet to `out` (see [`encode_event`]).
pub fn encode_ack(out: &mut String, nsp: &str, id: AckId, args: &[Value], attachments: usize) {
    let _ = (out, nsp, id, args, attachments);
    todo!("wire::sio::encode_ack")
}

/// Splits a rev 4 namespace with a query (`/admin?token=abc`) into the
/// namespace and the query without `?`.
pub fn split_namespace_query(nsp: &str) -> (&str, Option<&str>) {
    match nsp.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (nsp, None),
    }
}

/// Decoder limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Largest attachment count a binary packet may declare (reference default 10).
    pub max_attachments: usize,
    /// Largest total size of the attachments of one packet, in bytes.
    pub max_attachment_bytes: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig { max_attachments: 10, max_attachment_bytes: 1_000_000 }
    }
}

/// Stateful decoder for one connection: text packets, plus the binary
/// attachments that follow a BINARY_EVENT / BINARY_ACK.
///
/// After an error the decoder is reset; the caller is expected to close the
/// connection (the reference does).
#[derive(Debug, Default)]
pub struct Decoder {
    config: DecoderConfig,
    /// The binary packet waiting for attachments and how many it declared.
    pending: Option<(Packet, usize)>,
    pending_bytes: usize,
}

impl Decoder {
    /// A decoder with the given limits.
    pub fn new(config: DecoderConfig) -> Self {
        Decoder { config, pending: None, pending_bytes: 0 }
    }

    /// True while a binary packet waits for attachments.
    pub fn is_reconstructing(&self) -> bool {
        self.pending.is_some()
    }

    /// Decodes one text message. `Ok(None)` means a binary packet was
    /// started and its attachments are expected next.
    pub fn decode_text(&mut self, input: &str) -> Result<Option<Packet>, DecodeError> {
        let _ = input;
        todo!("wire::sio::Decoder::decode_text")
    }

    /// Takes one binary attachment. `Ok(Some)` when it was the last one.
    pub fn decode_binary(&mut self, data: Vec<u8>) -> Result<Option<Packet>, DecodeError> {
        let _ = data;
        todo!("wire::sio::Decoder::decode_binary")
    }
}
