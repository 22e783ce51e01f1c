//! One Socket.IO packet, protocol revisions 4 and 5 (socket.io-protocol v5,
//! *Packet encoding*; v4, the same format). Malformed input is refused as
//! [`crate::wire`] describes (strict decoding).
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

use super::json::{push_json_str, push_json_value, push_u64};

use super::{DecodeError, DecodeErrorKind};

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
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

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
        Args {
            values,
            binaries: Vec::new(),
        }
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
    ///
    /// ```
    /// use serde_json::json;
    /// use socketio_sansio::wire::sio::{Ack, Args, Body, Packet};
    ///
    /// let mut args = Args::default();
    /// let ph = args.attach(vec![1, 2, 3, 4]);
    /// args.values.push(ph);
    /// let packet = Packet { nsp: "/admin".into(), body: Body::Ack(Ack { id: 1, args }) };
    /// let mut out = String::new();
    /// packet.encode(&mut out);
    /// assert_eq!(out, r#"61-/admin,1[{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(packet.attachments(), &[vec![1, 2, 3, 4]]);
    /// ```
    pub fn encode(&self, out: &mut String) {
        match &self.body {
            Body::Connect(data) => {
                push_header(out, b'0', 0, &self.nsp, None);
                if let Some(data) = data {
                    push_json_value(out, data);
                }
            }
            Body::Disconnect => push_header(out, b'1', 0, &self.nsp, None),
            Body::Event(e) => encode_event(
                out,
                &self.nsp,
                e.id,
                &e.name,
                &e.args.values,
                e.args.binaries.len(),
            ),
            Body::Ack(a) => encode_ack(out, &self.nsp, a.id, &a.args.values, a.args.binaries.len()),
            Body::ConnectError(data) => {
                push_header(out, b'4', 0, &self.nsp, None);
                push_json_value(out, data);
            }
        }
    }
}

/// Writes `<type>[<n>-][<nsp>,][<id>]`; `attachments > 0` turns EVENT / ACK
/// into their binary types (`type_digit + 3`).
fn push_header(out: &mut String, type_digit: u8, attachments: usize, nsp: &str, id: Option<AckId>) {
    if attachments > 0 {
        out.push(char::from(type_digit + 3));
        push_u64(out, attachments as u64);
        out.push('-');
    } else {
        out.push(char::from(type_digit));
    }
    // An empty namespace means the main namespace too (never written as `,`).
    if !nsp.is_empty() && nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
    if let Some(id) = id {
        push_u64(out, id);
    }
}

/// Appends an EVENT / BINARY_EVENT text packet to `out` without building a
/// [`Packet`]: `nsp` (`"/"` is omitted), optional ack `id`, `name`, the
/// `args` JSON values, and the number of attachments the args reference.
///
/// ```
/// use serde_json::json;
/// use socketio_sansio::wire::sio::encode_event;
/// let mut out = String::new();
/// encode_event(&mut out, "/admin", Some(456), "project:delete", &[json!(123)], 0);
/// assert_eq!(out, r#"2/admin,456["project:delete",123]"#);
/// ```
pub fn encode_event(
    out: &mut String,
    nsp: &str,
    id: Option<AckId>,
    name: &str,
    args: &[Value],
    attachments: usize,
) {
    // One allocation up front for typical packets (serde_json starts at 128 too).
    out.reserve(128 + nsp.len() + name.len());
    push_header(out, b'2', attachments, nsp, id);
    out.push('[');
    push_json_str(out, name);
    for arg in args {
        out.push(',');
        push_json_value(out, arg);
    }
    out.push(']');
}

/// Appends an ACK / BINARY_ACK text packet to `out` (see [`encode_event`]).
///
/// ```
/// use serde_json::json;
/// use socketio_sansio::wire::sio::encode_ack;
/// let mut out = String::new();
/// encode_ack(&mut out, "/", 456, &[json!(1), json!("2")], 0);
/// assert_eq!(out, r#"3456[1,"2"]"#);
/// ```
pub fn encode_ack(out: &mut String, nsp: &str, id: AckId, args: &[Value], attachments: usize) {
    out.reserve(128 + nsp.len());
    push_header(out, b'3', attachments, nsp, Some(id));
    out.push('[');
    let mut first = true;
    for arg in args {
        if !first {
            out.push(',');
        }
        first = false;
        push_json_value(out, arg);
    }
    out.push(']');
}

// ---- JSON writer ---------------------------------------------------------
//
// Writes exactly what `serde_json::to_string` (and JSON.stringify) produce,
// straight into the caller's `String`.

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
        DecoderConfig {
            max_attachments: 10,
            max_attachment_bytes: 1_000_000,
        }
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
        Decoder {
            config,
            pending: None,
            pending_bytes: 0,
        }
    }

    /// True while a binary packet waits for attachments.
    pub fn is_reconstructing(&self) -> bool {
        self.pending.is_some()
    }

    /// Decodes one text message. `Ok(None)` means a binary packet was
    /// started and its attachments are expected next.
    ///
    /// The placeholders of a binary packet are validated here, against the
    /// declared attachment count, before any attachment is buffered.
    ///
    /// ```
    /// use socketio_sansio::wire::sio::{Body, Decoder};
    ///
    /// let mut decoder = Decoder::default();
    /// let packet = decoder.decode_text(r#"2/admin,12["foo",1]"#).unwrap().unwrap();
    /// assert_eq!(packet.nsp, "/admin");
    /// let Body::Event(event) = packet.body else { panic!() };
    /// assert_eq!((event.name.as_str(), event.id), ("foo", Some(12)));
    ///
    /// // a binary event: the text part, then its attachment
    /// assert!(decoder.decode_text(r#"51-["baz",{"_placeholder":true,"num":0}]"#).unwrap().is_none());
    /// let packet = decoder.decode_binary(vec![1, 2, 3, 4]).unwrap().unwrap();
    /// assert_eq!(packet.attachments(), &[vec![1, 2, 3, 4]]);
    /// ```
    pub fn decode_text(&mut self, input: &str) -> Result<Option<Packet>, DecodeError> {
        if self.pending.is_some() {
            self.reset();
            return Err(DecodeError::new(DecodeErrorKind::UnexpectedText, 0));
        }
        let (packet, attachments) = parse(input, &self.config)?;
        if attachments == 0 {
            return Ok(Some(packet));
        }
        self.pending = Some((packet, attachments));
        self.pending_bytes = 0;
        Ok(None)
    }

    /// Takes one binary attachment. `Ok(Some)` when it was the last one.
    pub fn decode_binary(&mut self, data: Vec<u8>) -> Result<Option<Packet>, DecodeError> {
        let Some((packet, expected)) = self.pending.as_mut() else {
            return Err(DecodeError::new(DecodeErrorKind::UnexpectedBinary, 0));
        };
        let limit = self.config.max_attachment_bytes;
        let total = match self.pending_bytes.checked_add(data.len()) {
            Some(total) if total <= limit => total,
            _ => {
                let offset = limit.saturating_sub(self.pending_bytes);
                self.reset();
                return Err(DecodeError::new(
                    DecodeErrorKind::AttachmentsTooLarge,
                    offset,
                ));
            }
        };
        self.pending_bytes = total;
        let expected = *expected;
        let binaries = match &mut packet.body {
            Body::Event(e) => &mut e.args.binaries,
            Body::Ack(a) => &mut a.args.binaries,
            // Only EVENT / ACK packets are ever pending.
            _ => {
                self.reset();
                return Err(DecodeError::new(DecodeErrorKind::UnexpectedBinary, 0));
            }
        };
        binaries.push(data);
        if binaries.len() < expected {
            return Ok(None);
        }
        self.pending_bytes = 0;
        Ok(self.pending.take().map(|(packet, _)| packet))
    }

    fn reset(&mut self) {
        self.pending = None;
        self.pending_bytes = 0;
    }
}

// ---- decoding --------------------------------------------------------------

fn err<T>(kind: DecodeErrorKind, offset: usize) -> Result<T, DecodeError> {
    Err(DecodeError::new(kind, offset))
}

/// Reads ASCII digits from `pos`, stopping at the first non-digit. Returns
/// the value and the position after the digits, or `Err(offset of the digit)`
/// as soon as the value exceeds `max` (no overflow, linear time).
fn read_digits(bytes: &[u8], mut pos: usize, max: u64) -> Result<(u64, usize), usize> {
    let mut value: u64 = 0;
    while let Some(&b) = bytes.get(pos) {
        if !b.is_ascii_digit() {
            break;
        }
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) if v <= max => v,
            _ => return Err(pos),
        };
        pos += 1;
    }
    Ok((value, pos))
}

/// Parses one text packet; returns it and its declared attachment count
/// (0 for non-binary packets). Placeholders of binary packets are validated.
fn parse(input: &str, config: &DecoderConfig) -> Result<(Packet, usize), DecodeError> {
    use DecodeErrorKind::*;
    let bytes = input.as_bytes();
    let type_digit = match bytes.first() {
        None => return err(Empty, 0),
        Some(&b @ b'0'..=b'6') => b - b'0',
        Some(_) => return err(UnknownPacketType, 0),
    };
    let mut pos = 1;

    // <count>-
    let mut attachments = 0usize;
    if type_digit >= 5 {
        // Counts above 2^53 - 1 are treated as an overflow.
        let (count, end) = match read_digits(bytes, pos, MAX_ACK_ID) {
            Ok(read) => read,
            Err(at) => return err(InvalidNumber, at),
        };
        if end == pos || bytes.get(end) != Some(&b'-') {
            return err(InvalidNumber, end);
        }
        if count == 0 {
            return err(ZeroAttachments, pos);
        }
        if count > config.max_attachments as u64 {
            return err(TooManyAttachments, pos);
        }
        // count <= max_attachments (a usize), so this cannot truncate.
        attachments = count as usize;
        pos = end + 1;
    }

    // <nsp>,
    let nsp = if bytes.get(pos) == Some(&b'/') {
        let rest = &input[pos..];
        match rest.find(',') {
            Some(comma) => {
                pos += comma + 1;
                &rest[..comma]
            }
            None => {
                pos = input.len();
                rest
            }
        }
    } else {
        "/"
    };

    // <ack id>
    let id_start = pos;
    let (id, json_start) = match read_digits(bytes, pos, MAX_ACK_ID) {
        Ok((_, end)) if end == pos => (None, pos),
        Ok((id, end)) => (Some(id), end),
        Err(_) => return err(InvalidNumber, id_start),
    };
    pos = json_start;

    // <JSON>
    let json = &input[pos..];
    let data = if json.is_empty() {
        None
    } else {
        if let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(pos) {
            // The reference reads whitespace as an ack id digit (`" " == 0`).
            return err(InvalidNumber, pos);
        }
        match serde_json::from_str::<Value>(json) {
            Ok(value) => Some(value),
            Err(e) => {
                return err(
                    InvalidJson(e.to_string()),
                    pos + json_error_offset(json, &e),
                )
            }
        }
    };

    let invalid = |what: &'static str| DecodeError::new(InvalidPayload(what), pos);
    let no_id = |what: &'static str| match id {
        Some(_) => Err(DecodeError::new(InvalidPayload(what), id_start)),
        None => Ok(()),
    };
    let body = match type_digit {
        0 => {
            no_id("ack id on a CONNECT packet")?;
            match data {
                None => Body::Connect(None),
                Some(v @ Value::Object(_)) => Body::Connect(Some(v)),
                Some(_) => return Err(invalid("CONNECT payload must be an object")),
            }
        }
        1 => {
            no_id("ack id on a DISCONNECT packet")?;
            match data {
                None => Body::Disconnect,
                Some(_) => return Err(invalid("DISCONNECT carries no payload")),
            }
        }
        2 | 5 => {
            let Some(Value::Array(mut values)) = data else {
                return Err(invalid("EVENT payload must be a non-empty array"));
            };
            if values.is_empty() {
                return Err(invalid("EVENT payload must be a non-empty array"));
            }
            // Non-empty (checked above). With at most one argument,
            // `swap_remove` keeps the order and avoids a memmove call.
            let first = if values.len() <= 2 {
                values.swap_remove(0)
            } else {
                values.remove(0)
            };
            let name = match first {
                Value::String(name) if is_reserved_event(&name) => {
                    return err(ReservedEventName, pos)
                }
                Value::String(name) => name,
                Value::Number(n) => n.to_string(),
                _ => return Err(invalid("event name must be a string or a number")),
            };
            if attachments > 0 {
                super::binary::validate(&values, attachments)
                    .map_err(|e| DecodeError::new(e.kind, pos))?;
            }
            Body::Event(Event {
                name,
                args: args_with_capacity(values, attachments),
                id,
            })
        }
        3 | 6 => {
            let Some(id) = id else {
                return err(InvalidPayload("ACK without an ack id"), id_start);
            };
            let Some(Value::Array(values)) = data else {
                return Err(invalid("ACK payload must be an array"));
            };
            if attachments > 0 {
                super::binary::validate(&values, attachments)
                    .map_err(|e| DecodeError::new(e.kind, pos))?;
            }
            Body::Ack(Ack {
                id,
                args: args_with_capacity(values, attachments),
            })
        }
        _ => {
            no_id("ack id on a CONNECT_ERROR packet")?;
            match data {
                Some(v @ (Value::String(_) | Value::Object(_))) => Body::ConnectError(v),
                _ => {
                    return Err(invalid(
                        "CONNECT_ERROR payload must be a string or an object",
                    ))
                }
            }
        }
    };
    Ok((
        Packet {
            nsp: nsp.to_owned(),
            body,
        },
        attachments,
    ))
}

/// `attachments` was checked against `max_attachments` before this allocation.
#[inline]
fn args_with_capacity(values: Vec<Value>, attachments: usize) -> Args {
    Args {
        values,
        binaries: Vec::with_capacity(attachments),
    }
}

/// Byte offset of a serde_json error inside `json` (its line/column are
/// 1-based, columns in bytes), clamped to the input.
fn json_error_offset(json: &str, e: &serde_json::Error) -> usize {
    let line_start = if e.line() <= 1 {
        0
    } else {
        json.match_indices('\n')
            .nth(e.line() - 2)
            .map_or(json.len(), |(i, _)| i + 1)
    };
    line_start
        .saturating_add(e.column().saturating_sub(1))
        .min(json.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(input: &str) -> Result<Option<Packet>, DecodeError> {
        Decoder::default().decode_text(input)
    }

    fn kind(input: &str) -> DecodeErrorKind {
        decode(input).expect_err(input).kind
    }

    #[test]
    fn json_str_matches_serde_json() {
        let mut samples: Vec<String> = (0u32..0x80)
            .filter_map(char::from_u32)
            .map(String::from)
            .collect();
        samples.extend(
            [
                "",
                "plain",
                "a\"b\\c",
                "\u{7f}\u{80}\u{2028}\u{2029}",
                "😀 astral \u{10ffff}",
                "\u{0}\u{1f}x\n\r\t\u{8}\u{c}",
            ]
            .map(String::from),
        );
        for s in samples {
            let mut out = String::from("prefix");
            push_json_str(&mut out, &s);
            assert_eq!(
                out,
                format!("prefix{}", serde_json::to_string(&s).unwrap()),
                "{s:?}"
            );
        }
    }

    #[test]
    fn json_value_matches_serde_json() {
        let values = [
            json!(null),
            json!([
                true,
                false,
                0,
                -1,
                u64::MAX,
                i64::MIN,
                0.5,
                -0.0,
                1e300,
                1.5e-10,
                100.0
            ]),
            json!({"z": 1, "a": {"nested": ["x", {"k\n": "v\u{1}"}]}, "": []}),
            json!({}),
            json!([]),
        ];
        for v in values {
            let mut out = String::new();
            push_json_value(&mut out, &v);
            assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
    }

    #[test]
    fn push_u64_edges() {
        for n in [0, 7, 10, 99, 100, 12345, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn read_digits_bounds() {
        assert_eq!(read_digits(b"12x", 0, 100), Ok((12, 2)));
        assert_eq!(read_digits(b"x", 0, 100), Ok((0, 0)));
        assert_eq!(read_digits(b"101", 0, 100), Err(2));
        assert_eq!(
            read_digits(b"99999999999999999999999", 0, u64::MAX),
            Err(19)
        );
        assert_eq!(
            read_digits(b"0000000000000000000000000007", 0, 9),
            Ok((7, 28))
        );
    }

    #[test]
    fn json_error_offsets() {
        let e = decode("2[\"a\",]").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::InvalidJson(_)));
        assert_eq!(e.offset, 6);
        let e = decode("2[\n1,\nx]").unwrap_err();
        assert_eq!(e.offset, 6);
        let e = decode("2/a,abc").unwrap_err();
        assert_eq!(e.offset, 4);
    }

    #[test]
    fn header_offsets() {
        assert_eq!(
            decode("").unwrap_err(),
            DecodeError::new(DecodeErrorKind::Empty, 0)
        );
        assert_eq!(
            decode("7").unwrap_err(),
            DecodeError::new(DecodeErrorKind::UnknownPacketType, 0)
        );
        assert_eq!(
            decode("51x-[]").unwrap_err(),
            DecodeError::new(DecodeErrorKind::InvalidNumber, 2)
        );
        assert_eq!(
            decode("5-[]").unwrap_err(),
            DecodeError::new(DecodeErrorKind::InvalidNumber, 1)
        );
        assert_eq!(
            decode("50-[]").unwrap_err(),
            DecodeError::new(DecodeErrorKind::ZeroAttachments, 1)
        );
        assert_eq!(
            decode("511-[]").unwrap_err(),
            DecodeError::new(DecodeErrorKind::TooManyAttachments, 1)
        );
        assert_eq!(
            decode("2 [\"x\"]").unwrap_err(),
            DecodeError::new(DecodeErrorKind::InvalidNumber, 1)
        );
        let long_id = format!("2/a,{}[\"x\"]", "9".repeat(400));
        assert_eq!(
            decode(&long_id).unwrap_err(),
            DecodeError::new(DecodeErrorKind::InvalidNumber, 4)
        );
        assert_eq!(
            kind("0/a,1"),
            DecodeErrorKind::InvalidPayload("ack id on a CONNECT packet")
        );
    }

    #[test]
    fn ack_id_limit() {
        let max = format!("3{MAX_ACK_ID}[]");
        let Some(Packet {
            body: Body::Ack(ack),
            ..
        }) = decode(&max).unwrap()
        else {
            panic!()
        };
        assert_eq!(ack.id, MAX_ACK_ID);
        assert_eq!(
            kind(&format!("3{}[]", MAX_ACK_ID + 1)),
            DecodeErrorKind::InvalidNumber
        );
    }

    #[test]
    fn numeric_event_names_keep_their_text() {
        for (input, name) in [("2[1,\"x\"]", "1"), ("2[-3]", "-3"), ("2[1.5]", "1.5")] {
            let Some(Packet {
                body: Body::Event(e),
                ..
            }) = decode(input).unwrap()
            else {
                panic!()
            };
            assert_eq!(e.name, name);
        }
    }

    #[test]
    fn event_args_keep_their_order() {
        for n in 0..5 {
            let args: Vec<Value> = (0..n).map(Value::from).collect();
            let input = format!(
                "2{}",
                Value::Array([vec![json!("e")], args.clone()].concat())
            );
            let Some(Packet {
                body: Body::Event(e),
                ..
            }) = decode(&input).unwrap()
            else {
                panic!()
            };
            assert_eq!((e.name.as_str(), e.args.values), ("e", args));
        }
    }

    #[test]
    fn decoder_resets_after_errors() {
        let mut d = Decoder::default();
        assert!(d
            .decode_text(r#"51-["x",{"_placeholder":true,"num":0}]"#)
            .unwrap()
            .is_none());
        assert!(d.is_reconstructing());
        assert_eq!(
            d.decode_text("2[\"y\"]").unwrap_err().kind,
            DecodeErrorKind::UnexpectedText
        );
        assert!(!d.is_reconstructing());
        // usable again
        assert!(d.decode_text("2[\"y\"]").unwrap().is_some());
        assert_eq!(
            d.decode_binary(vec![1]).unwrap_err().kind,
            DecodeErrorKind::UnexpectedBinary
        );
        assert!(d.decode_text("2[\"y\"]").unwrap().is_some());
    }

    #[test]
    fn attachment_byte_limit() {
        let mut d = Decoder::new(DecoderConfig {
            max_attachments: 10,
            max_attachment_bytes: 10,
        });
        assert!(d
            .decode_text(r#"52-["x",{"_placeholder":true,"num":1}]"#)
            .unwrap()
            .is_none());
        assert!(d.decode_binary(vec![0; 6]).unwrap().is_none());
        let e = d.decode_binary(vec![0; 5]).unwrap_err();
        assert_eq!(e, DecodeError::new(DecodeErrorKind::AttachmentsTooLarge, 4));
        assert!(!d.is_reconstructing());
        // exactly at the limit is fine
        assert!(d
            .decode_text(r#"62-3[{"_placeholder":true,"num":1}]"#)
            .unwrap()
            .is_none());
        assert!(d.decode_binary(vec![0; 5]).unwrap().is_none());
        let p = d.decode_binary(vec![0; 5]).unwrap().unwrap();
        assert_eq!(p.packet_type(), PacketType::BinaryAck);
    }

    #[test]
    fn encode_namespace_and_types() {
        let enc = |p: Packet| {
            let mut s = String::new();
            p.encode(&mut s);
            s
        };
        assert_eq!(
            enc(Packet {
                nsp: "".into(),
                body: Body::Disconnect
            }),
            "1"
        );
        assert_eq!(
            enc(Packet {
                nsp: "/x".into(),
                body: Body::Connect(None)
            }),
            "0/x,"
        );
        assert_eq!(
            enc(Packet {
                nsp: "/x".into(),
                body: Body::ConnectError(json!("no"))
            }),
            r#"4/x,"no""#
        );
    }
}
