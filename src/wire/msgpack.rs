//! One Socket.IO packet as MessagePack, wire-compatible with the npm package
//! `socket.io-msgpack-parser` (3.x, for Socket.IO 3/4 clients and servers,
//! protocol revision 5). Needs the `msgpack` cargo feature.
//!
//! Each packet is **one** MessagePack map sent as one Engine.IO binary
//! message:
//!
//! ```text
//! { "type": 0..=4, "nsp": "/...", "data": <payload>?, "id": <ack id>? }
//! ```
//!
//! There are no attachments and no placeholders: binary values travel inline
//! as MessagePack `bin`, and the BINARY_EVENT / BINARY_ACK types (5, 6) are
//! never used. Other keys (socket.io-client adds `options`) are ignored.
//!
//! **Values.** The rest of the crate holds arguments as JSON values plus
//! binary attachments ([`Args`]). Decoding turns each `bin` (and the
//! `ArrayBuffer` extension, type 0, that the npm encoder writes for typed
//! arrays) into an attachment and leaves a placeholder in its place;
//! encoding writes every placeholder that points to one of the packet's
//! attachments as `bin`. So an application sees the same [`Args`] with
//! either parser, and bytes round-trip as bytes both ways.
//!
//! | MessagePack | value |
//! |---|---|
//! | nil | `null` |
//! | bool, int, str, array | the same JSON value |
//! | float 32/64 | a JSON number (NaN and ±∞ become `null`, as `JSON.stringify`) |
//! | map (string keys) | a JSON object, keys in wire order, a repeated key keeps the last value |
//! | bin, ext type 0 | an attachment (its placeholder in the value) |
//! | fixext 1 type 0 (`undefined`) | `null` in an array, omitted in a map or at the top |
//!
//! **Strict decoding** (as the JSON codec, see [`crate::wire`]): refused
//! with a [`DecodeError`] are non-map packets, non-string map keys, other
//! extension types (the npm package's `Date`, application types), invalid
//! UTF-8, truncated input or trailing bytes, nesting deeper than
//! [`MAX_DEPTH`] (the JSON codec's limit), declared lengths longer than the
//! input (nothing is allocated for them), a `type` outside `0..=4`, a
//! namespace not starting with `/` or containing `,` (the JSON codec's
//! namespace rules), ack ids that are not integers in `0..=`[`MAX_ACK_ID`],
//! reserved event names, objects that look like attachment placeholders
//! (`{"_placeholder": true, ...}`, which this crate reserves for binary),
//! binary data outside EVENT / ACK arguments (CONNECT auth and CONNECT_ERROR
//! data are JSON values here), and binary data beyond
//! [`DecoderConfig::max_attachment_bytes`]. The attachment count is not
//! limited ([`DecoderConfig::max_attachments`] bounds the JSON codec's
//! reassembly; here the message size bounds everything). The payload
//! rules per type are the npm parser's (`checkPacket`): CONNECT data absent
//! or a map, DISCONNECT no data, CONNECT_ERROR a string or a map, EVENT and
//! ACK an array (an EVENT's non-empty, starting with its name), and, stricter
//! than the npm parser, ACK with an id and CONNECT / DISCONNECT /
//! CONNECT_ERROR without one.
//!
//! ```
//! use serde_json::json;
//! use socketio_sansio::wire::msgpack;
//! use socketio_sansio::wire::sio::{Args, Body, DecoderConfig, Event, Packet};
//!
//! let mut args = Args::json(vec![json!(1)]);
//! let ph = args.attach(vec![0xca, 0xfe]);
//! args.values.push(ph);
//! let packet = Packet {
//!     nsp: "/".into(),
//!     body: Body::Event(Event { name: "hi".into(), args, id: Some(7) }),
//! };
//! let mut bytes = Vec::new();
//! msgpack::encode(&packet, &mut bytes);
//! // {"type":2,"nsp":"/","data":["hi",1,<bin cafe>],"id":7}
//! assert_eq!(bytes[0], 0x84);
//! assert_eq!(msgpack::decode(&bytes, &DecoderConfig::default()).unwrap(), packet);
//! ```

use serde_json::{Map, Number, Value};

use super::sio::{
    is_reserved_event, Ack, AckId, Args, Body, DecoderConfig, Event, Packet, MAX_ACK_ID,
};
use super::{DecodeError, DecodeErrorKind};

/// Deepest nesting of arrays and maps inside a packet's `data` (the JSON
/// codec's limit, serde_json's recursion limit).
pub const MAX_DEPTH: usize = 128;

// ---- encoding ------------------------------------------------------------

/// Appends `packet` as one MessagePack map to `out`: `type`, `nsp`, then
/// `data` and `id` when present. Placeholders that point to one of the
/// packet's attachments are written as `bin`. A packet for `""` is written
/// for `/`.
pub fn encode(packet: &Packet, out: &mut Vec<u8>) {
    match &packet.body {
        Body::Connect(data) => {
            header(out, 0, &packet.nsp, data.is_some(), false);
            if let Some(data) = data {
                write_value(out, data, &[]);
            }
        }
        Body::Disconnect => header(out, 1, &packet.nsp, false, false),
        Body::Event(e) => encode_event(out, &packet.nsp, e.id, &e.name, &e.args),
        Body::Ack(a) => encode_ack(out, &packet.nsp, a.id, &a.args),
        Body::ConnectError(data) => {
            header(out, 4, &packet.nsp, true, false);
            write_value(out, data, &[]);
        }
    }
}

/// Appends an EVENT to `out` without building a [`Packet`] (see [`encode`]).
///
/// ```
/// use serde_json::json;
/// use socketio_sansio::wire::msgpack::encode_event;
/// use socketio_sansio::wire::sio::Args;
/// let mut out = Vec::new();
/// encode_event(&mut out, "/", None, "a", &Args::json(vec![json!(true)]));
/// // {"type":2,"nsp":"/","data":["a",true]}
/// assert_eq!(out, b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1a\xc3");
/// ```
pub fn encode_event(out: &mut Vec<u8>, nsp: &str, id: Option<AckId>, name: &str, args: &Args) {
    out.reserve(64 + nsp.len() + name.len());
    header(out, 2, nsp, true, id.is_some());
    array_len(out, args.values.len() + 1);
    str(out, name);
    for v in &args.values {
        write_value(out, v, &args.binaries);
    }
    if let Some(id) = id {
        str(out, "id");
        uint(out, id);
    }
}

/// Appends an ACK to `out` without building a [`Packet`] (see [`encode`]).
pub fn encode_ack(out: &mut Vec<u8>, nsp: &str, id: AckId, args: &Args) {
    out.reserve(64 + nsp.len());
    header(out, 3, nsp, true, true);
    array_len(out, args.values.len());
    for v in &args.values {
        write_value(out, v, &args.binaries);
    }
    str(out, "id");
    uint(out, id);
}

/// The map header, `type` and `nsp`; `data` and `id` follow when announced.
fn header(out: &mut Vec<u8>, kind: u8, nsp: &str, data: bool, id: bool) {
    map_len(out, 2 + usize::from(data) + usize::from(id));
    str(out, "type");
    uint(out, u64::from(kind));
    str(out, "nsp");
    str(out, if nsp.is_empty() { "/" } else { nsp });
    if data {
        str(out, "data");
    }
}

// Writes into a `Vec<u8>` cannot fail: their `Result`s are ignored.

fn uint(out: &mut Vec<u8>, n: u64) {
    let _ = rmp::encode::write_uint(out, n);
}

fn str(out: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(out, s);
}

fn array_len(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_array_len(out, u32::try_from(len).unwrap_or(u32::MAX));
}

fn map_len(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_map_len(out, u32::try_from(len).unwrap_or(u32::MAX));
}

/// Writes one value; placeholders resolving into `binaries` become `bin`.
fn write_value(out: &mut Vec<u8>, value: &Value, binaries: &[Vec<u8>]) {
    match value {
        Value::Null => {
            let _ = rmp::encode::write_nil(out);
        }
        Value::Bool(b) => {
            let _ = rmp::encode::write_bool(out, *b);
        }
        Value::Number(n) => number(out, n),
        Value::String(s) => str(out, s),
        Value::Array(items) => {
            array_len(out, items.len());
            for item in items {
                write_value(out, item, binaries);
            }
        }
        Value::Object(map) => {
            if let Some(bytes) = super::binary::resolve(value, binaries) {
                let _ = rmp::encode::write_bin(out, bytes);
                return;
            }
            map_len(out, map.len());
            for (k, v) in map {
                str(out, k);
                write_value(out, v, binaries);
            }
        }
    }
}

/// Integers in the smallest int format (as the npm encoder); other numbers
/// as float 64 (the npm encoder writes integral floats as ints: the same
/// JavaScript number; keeping float 64 lets a Rust peer round-trip `1.0`).
fn number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        uint(out, u);
    } else if let Some(i) = n.as_i64() {
        let _ = rmp::encode::write_sint(out, i);
    } else {
        let _ = rmp::encode::write_f64(out, n.as_f64().unwrap_or(0.0));
    }
}

// ---- decoding ------------------------------------------------------------

/// Decodes one packet (one Engine.IO binary message). Binary values become
/// attachments of the packet's [`Args`] (see the module docs); the packet
/// type reports BINARY_EVENT / BINARY_ACK when there are any, as for the
/// JSON codec.
///
/// ```
/// use socketio_sansio::wire::msgpack::decode;
/// use socketio_sansio::wire::sio::{Body, DecoderConfig};
/// // {"type":3,"nsp":"/","data":[<bin 01>],"id":1}
/// let p = decode(b"\x84\xa4type\x03\xa3nsp\xa1/\xa4data\x91\xc4\x01\x01\xa2id\x01",
///                &DecoderConfig::default()).unwrap();
/// let Body::Ack(ack) = p.body else { panic!() };
/// assert_eq!((ack.id, ack.args.binary(&ack.args.values[0])), (1, Some(&[1u8][..])));
/// ```
pub fn decode(input: &[u8], config: &DecoderConfig) -> Result<Packet, DecodeError> {
    use DecodeErrorKind::*;
    if input.is_empty() {
        return Err(DecodeError::new(Empty, 0));
    }
    let mut r = Reader {
        input,
        pos: 0,
        binaries: Vec::new(),
        binary_bytes: 0,
        max_binary_bytes: config.max_attachment_bytes,
    };
    let Some(len) = r.map_header()? else {
        return Err(DecodeError::new(
            InvalidPayload("a packet must be a MessagePack map"),
            0,
        ));
    };
    let mut kind = None;
    let mut nsp = None;
    let mut data = None;
    let mut id = None;
    for _ in 0..len {
        let key = r.key()?;
        let value_at = r.pos;
        match key.as_str() {
            "type" => kind = Some((r.value(0)?, value_at)),
            "nsp" => nsp = Some((r.value(0)?, value_at)),
            "data" => data = Some((r.value(0)?, value_at)),
            "id" => id = Some((r.value(0)?, value_at)),
            // socket.io-client sends `options`; ignore any other key.
            _ => r.skip(0)?,
        }
    }
    if r.pos != input.len() {
        return Err(DecodeError::new(TrailingData, r.pos));
    }
    // `undefined` at the top level means absent.
    let present = |entry: Option<(Option<Value>, usize)>| match entry {
        Some((Some(v), at)) => Some((v, at)),
        _ => None,
    };
    let (kind, nsp, data, id) = (present(kind), present(nsp), present(data), present(id));

    let kind = match kind {
        Some((Value::Number(n), _)) if n.as_u64().is_some_and(|k| k <= 4) => n.as_u64(),
        Some((_, at)) => return Err(DecodeError::new(UnknownPacketType, at)),
        None => return Err(DecodeError::new(UnknownPacketType, 0)),
    };
    let nsp = match nsp {
        Some((Value::String(s), _)) if s.starts_with('/') && !s.contains(',') => s,
        Some((_, at)) => return Err(DecodeError::new(InvalidNamespace, at)),
        None => return Err(DecodeError::new(InvalidNamespace, 0)),
    };
    let id = match id {
        None => None,
        Some((Value::Number(n), at)) => match n.as_u64() {
            Some(id) if id <= MAX_ACK_ID => Some((id, at)),
            _ => return Err(DecodeError::new(InvalidNumber, at)),
        },
        Some((_, at)) => return Err(DecodeError::new(InvalidNumber, at)),
    };
    let data_at = data.as_ref().map_or(0, |d| d.1);
    let invalid = |what: &'static str| DecodeError::new(InvalidPayload(what), data_at);
    let no_id = |what: &'static str| match id {
        Some((_, at)) => Err(DecodeError::new(InvalidPayload(what), at)),
        None => Ok(()),
    };
    let binaries = std::mem::take(&mut r.binaries);
    if !binaries.is_empty() && !matches!(kind, Some(2 | 3)) {
        // Only arguments can carry binaries (`Args`).
        return Err(invalid("binary data outside EVENT or ACK arguments"));
    }
    let body = match kind {
        Some(0) => {
            no_id("ack id on a CONNECT packet")?;
            match data {
                None => Body::Connect(None),
                Some((v @ Value::Object(_), _)) => Body::Connect(Some(v)),
                Some(_) => return Err(invalid("CONNECT payload must be an object")),
            }
        }
        Some(1) => {
            no_id("ack id on a DISCONNECT packet")?;
            match data {
                None => Body::Disconnect,
                Some(_) => return Err(invalid("DISCONNECT carries no payload")),
            }
        }
        Some(2) => {
            let Some((Value::Array(mut values), _)) = data else {
                return Err(invalid("EVENT payload must be a non-empty array"));
            };
            if values.is_empty() {
                return Err(invalid("EVENT payload must be a non-empty array"));
            }
            let name = match values.remove(0) {
                Value::String(name) if is_reserved_event(&name) => {
                    return Err(DecodeError::new(ReservedEventName, data_at))
                }
                Value::String(name) => name,
                Value::Number(n) => n.to_string(),
                _ => return Err(invalid("event name must be a string or a number")),
            };
            Body::Event(Event {
                name,
                args: Args { values, binaries },
                id: id.map(|(id, _)| id),
            })
        }
        Some(3) => {
            let Some((id, _)) = id else {
                return Err(DecodeError::new(InvalidPayload("ACK without an ack id"), 0));
            };
            let Some((Value::Array(values), _)) = data else {
                return Err(invalid("ACK payload must be an array"));
            };
            Body::Ack(Ack {
                id,
                args: Args { values, binaries },
            })
        }
        _ => {
            no_id("ack id on a CONNECT_ERROR packet")?;
            match data {
                Some((v @ (Value::String(_) | Value::Object(_)), _)) => Body::ConnectError(v),
                _ => {
                    return Err(invalid(
                        "CONNECT_ERROR payload must be a string or an object",
                    ))
                }
            }
        }
    };
    Ok(Packet { nsp, body })
}

/// NaN and ±∞ have no JSON form: `null` (what `JSON.stringify` writes).
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    binaries: Vec<Vec<u8>>,
    binary_bytes: usize,
    max_binary_bytes: usize,
}

/// A decoded element: a value, or `undefined` (`None`).
type Element = Option<Value>;

impl Reader<'_> {
    fn err<T>(&self, kind: DecodeErrorKind, at: usize) -> Result<T, DecodeError> {
        Err(DecodeError::new(kind, at))
    }

    fn truncated<T>(&self) -> Result<T, DecodeError> {
        self.err(
            DecodeErrorKind::InvalidMsgPack("truncated input"),
            self.input.len(),
        )
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.truncated(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.input.len());
        match end {
            Some(end) => {
                let slice = self.input.get(self.pos..end).unwrap_or_default();
                self.pos = end;
                Ok(slice)
            }
            None => self.truncated(),
        }
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A length of `n` big-endian bytes, checked against what remains
    /// (every element takes at least `min_each` bytes), so no declared
    /// length allocates more than the input could fill.
    fn len(&mut self, n: usize, min_each: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let len = usize::try_from(self.be(n)?).unwrap_or(usize::MAX);
        let remaining = self.input.len() - self.pos;
        if len.saturating_mul(min_each) > remaining {
            return self.err(
                DecodeErrorKind::InvalidMsgPack("declared length exceeds the input"),
                at,
            );
        }
        Ok(len)
    }

    /// The top-level map's length, `None` if the first value is no map.
    fn map_header(&mut self) -> Result<Option<usize>, DecodeError> {
        let b = self.byte()?;
        Ok(Some(match b {
            0x80..=0x8f => usize::from(b & 0x0f),
            0xde => self.len(2, 2)?,
            0xdf => self.len(4, 2)?,
            _ => return Ok(None),
        }))
    }

    /// A map key: a string.
    fn key(&mut self) -> Result<String, DecodeError> {
        let at = self.pos;
        let b = self.byte()?;
        let len = match b {
            0xa0..=0xbf => usize::from(b & 0x1f),
            0xd9 => self.len(1, 1)?,
            0xda => self.len(2, 1)?,
            0xdb => self.len(4, 1)?,
            _ => {
                return self.err(
                    DecodeErrorKind::InvalidMsgPack("map keys must be strings"),
                    at,
                )
            }
        };
        self.string(len)
    }

    fn string(&mut self, len: usize) -> Result<String, DecodeError> {
        let at = self.pos;
        let bytes = self.take(len)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => self.err(DecodeErrorKind::InvalidUtf8, at + e.valid_up_to()),
        }
    }

    fn binary(&mut self, len: usize, at: usize) -> Result<Value, DecodeError> {
        self.binary_bytes = self.binary_bytes.saturating_add(len);
        if self.binary_bytes > self.max_binary_bytes {
            return self.err(DecodeErrorKind::AttachmentsTooLarge, at);
        }
        let bytes = self.take(len)?.to_vec();
        let num = self.binaries.len();
        self.binaries.push(bytes);
        Ok(super::binary::placeholder(num))
    }

    /// Skips one value (an ignored key's): decoded and dropped, so it is
    /// held to the same rules, but its binaries are not kept.
    fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        let (binaries, bytes) = (self.binaries.len(), self.binary_bytes);
        self.value(depth)?;
        self.binaries.truncate(binaries);
        self.binary_bytes = bytes;
        Ok(())
    }

    fn nested(&self, depth: usize, at: usize) -> Result<usize, DecodeError> {
        if depth >= MAX_DEPTH {
            return self.err(DecodeErrorKind::NestingTooDeep, at);
        }
        Ok(depth + 1)
    }

    /// One value at nesting `depth`.
    fn value(&mut self, depth: usize) -> Result<Element, DecodeError> {
        use DecodeErrorKind::InvalidMsgPack;
        let at = self.pos;
        let b = self.byte()?;
        let v = match b {
            0x00..=0x7f => Value::from(b),
            0x80..=0x8f => return self.map(usize::from(b & 0x0f), depth, at),
            0x90..=0x9f => return self.array(usize::from(b & 0x0f), depth, at),
            0xa0..=0xbf => Value::String(self.string(usize::from(b & 0x1f))?),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let len = self.len(1, 1)?;
                self.binary(len, at)?
            }
            0xc5 => {
                let len = self.len(2, 1)?;
                self.binary(len, at)?
            }
            0xc6 => {
                let len = self.len(4, 1)?;
                self.binary(len, at)?
            }
            0xc7..=0xc9 => {
                // ext 8/16/32: type 0 is an ArrayBuffer (the npm encoder's
                // typed arrays); any other type is refused.
                let len = self.len(1 << (b - 0xc7), 1)?;
                let ext_type = self.byte()?;
                if ext_type != 0 {
                    return self.err(InvalidMsgPack("unsupported extension type"), at);
                }
                self.binary(len, at)?
            }
            0xca => {
                let bits = u32::try_from(self.be(4)?).unwrap_or_default();
                float(f64::from(f32::from_bits(bits)))
            }
            0xcb => float(f64::from_bits(self.be(8)?)),
            0xcc => Value::from(self.be(1)?),
            0xcd => Value::from(self.be(2)?),
            0xce => Value::from(self.be(4)?),
            0xcf => Value::from(self.be(8)?),
            // Two's complement of the big-endian bytes, sign-extended.
            0xd0 => Value::from(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Value::from(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Value::from(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Value::from(self.be(8)? as i64),
            0xd4 => {
                // fixext 1, type 0: the npm encoder's `undefined`.
                let ext = self.take(2)?;
                if ext.first() == Some(&0) {
                    return Ok(None);
                }
                return self.err(InvalidMsgPack("unsupported extension type"), at);
            }
            0xd5..=0xd8 => return self.err(InvalidMsgPack("unsupported extension type"), at),
            0xd9 => {
                let len = self.len(1, 1)?;
                Value::String(self.string(len)?)
            }
            0xda => {
                let len = self.len(2, 1)?;
                Value::String(self.string(len)?)
            }
            0xdb => {
                let len = self.len(4, 1)?;
                Value::String(self.string(len)?)
            }
            0xdc => {
                let len = self.len(2, 1)?;
                return self.array(len, depth, at);
            }
            0xdd => {
                let len = self.len(4, 1)?;
                return self.array(len, depth, at);
            }
            0xde => {
                let len = self.len(2, 2)?;
                return self.map(len, depth, at);
            }
            0xdf => {
                let len = self.len(4, 2)?;
                return self.map(len, depth, at);
            }
            0xe0..=0xff => Value::from(i64::from(b as i8)),
            // 0xc1 is never used.
            0xc1 => return self.err(InvalidMsgPack("reserved marker 0xc1"), at),
        };
        Ok(Some(v))
    }

    fn array(&mut self, len: usize, depth: usize, at: usize) -> Result<Element, DecodeError> {
        let depth = self.nested(depth, at)?;
        // `len` was checked against the remaining input.
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(self.value(depth)?.unwrap_or(Value::Null));
        }
        Ok(Some(Value::Array(items)))
    }

    fn map(&mut self, len: usize, depth: usize, at: usize) -> Result<Element, DecodeError> {
        let depth = self.nested(depth, at)?;
        let mut map = Map::with_capacity(len);
        for _ in 0..len {
            let key = self.key()?;
            match self.value(depth)? {
                Some(v) => {
                    map.insert(key, v);
                }
                // `undefined` members are dropped, as by `JSON.stringify`.
                None => {
                    map.remove(&key);
                }
            }
        }
        let value = Value::Object(map);
        if super::binary::as_placeholder(&value).is_some() {
            // Reserved for binaries: a client cannot forge one.
            return self.err(DecodeErrorKind::InvalidPlaceholder, at);
        }
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn round_trip(p: &Packet) -> Packet {
        let mut out = Vec::new();
        encode(p, &mut out);
        decode(&out, &DecoderConfig::default()).expect("own encoding decodes")
    }

    fn kind(bytes: &[u8]) -> DecodeErrorKind {
        decode(bytes, &DecoderConfig::default()).unwrap_err().kind
    }

    #[test]
    fn float_edge_cases() {
        // float 32, NaN and infinities (null, as JSON.stringify)
        let ev = |v: &[u8]| {
            [
                b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e".as_slice(),
                v,
            ]
            .concat()
        };
        let args = |bytes: &[u8]| match decode(&ev(bytes), &DecoderConfig::default()).unwrap().body
        {
            Body::Event(e) => e.args.values,
            other => panic!("{other:?}"),
        };
        assert_eq!(args(b"\xca\x3f\xc0\x00\x00"), [json!(1.5)]);
        assert_eq!(args(b"\xcb\x7f\xf8\0\0\0\0\0\0"), [json!(null)]);
        assert_eq!(args(b"\xcb\x7f\xf0\0\0\0\0\0\0"), [json!(null)]);
        assert_eq!(
            args(b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff"),
            [json!(u64::MAX)]
        );
        assert_eq!(args(b"\xd3\x80\0\0\0\0\0\0\0"), [json!(i64::MIN)]);
        // str 32 and bin 32 headers
        assert_eq!(args(b"\xdb\0\0\0\x01z"), [json!("z")]);
        // a numeric event name keeps its text, as in the JSON codec
        let p = decode(
            b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x91\x05",
            &DecoderConfig::default(),
        )
        .unwrap();
        assert!(matches!(p.body, Body::Event(e) if e.name == "5"));
    }

    #[test]
    fn binary_limits_and_places() {
        let ev = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e\xc4\x03abc";
        let small = DecoderConfig {
            max_attachments: 10,
            max_attachment_bytes: 2,
        };
        assert_eq!(
            decode(ev, &small).unwrap_err().kind,
            DecodeErrorKind::AttachmentsTooLarge
        );
        assert!(decode(ev, &DecoderConfig::default()).is_ok());
        // CONNECT data cannot hold a binary
        assert_eq!(
            kind(b"\x83\xa4type\x00\xa3nsp\xa1/\xa4data\x81\xa1k\xc4\x01\x00"),
            DecodeErrorKind::InvalidPayload("binary data outside EVENT or ACK arguments")
        );
        // an ignored key's binaries are not kept
        let p = decode(
            b"\x84\xa4type\x02\xa3nsp\xa1/\xa4data\x91\xa1e\xa1x\xc4\x01\x00",
            &DecoderConfig::default(),
        )
        .unwrap();
        assert_eq!(p.attachments().len(), 0);
    }

    #[test]
    fn structural_errors() {
        use DecodeErrorKind::*;
        assert_eq!(kind(b""), Empty);
        assert_eq!(kind(b"\x80"), UnknownPacketType);
        assert_eq!(kind(b"\x81\xa4type\x02"), InvalidNamespace);
        // ACK without an id; CONNECT with one
        assert_eq!(
            kind(b"\x83\xa4type\x03\xa3nsp\xa1/\xa4data\x90"),
            InvalidPayload("ACK without an ack id")
        );
        assert_eq!(
            kind(b"\x83\xa4type\x00\xa3nsp\xa1/\xa2id\x01"),
            InvalidPayload("ack id on a CONNECT packet")
        );
        // CONNECT_ERROR: a string or a map
        assert_eq!(
            kind(b"\x83\xa4type\x04\xa3nsp\xa1/\xa4data\x01"),
            InvalidPayload("CONNECT_ERROR payload must be a string or an object")
        );
        // fixext 1 of another type, fixext 2
        assert_eq!(
            kind(b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e\xd4\x01\x00"),
            InvalidMsgPack("unsupported extension type")
        );
        assert_eq!(
            kind(b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e\xd5\x00\x00\x00"),
            InvalidMsgPack("unsupported extension type")
        );
        // a map 32 that declares more pairs than the input holds
        assert_eq!(
            kind(b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e\xdf\x10\0\0\0"),
            InvalidMsgPack("declared length exceeds the input")
        );
        // string keys only, inside data too
        assert_eq!(
            kind(b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e\x81\x01\x02"),
            InvalidMsgPack("map keys must be strings")
        );
    }

    #[test]
    fn undefined_in_maps_drops_the_key_even_after_a_value() {
        let p = decode(
            b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e\x82\xa1a\x01\xa1a\xd4\x00\x00",
            &DecoderConfig::default(),
        )
        .unwrap();
        let Body::Event(e) = p.body else { panic!() };
        assert_eq!(e.args.values, [json!({})]);
    }

    /// An argument tree whose `Bin` leaves become attachments.
    #[derive(Debug, Clone)]
    enum Tree {
        Json(Value),
        Bin(Vec<u8>),
        Arr(Vec<Tree>),
        Obj(Vec<(String, Tree)>),
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ]
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            4 => scalar().prop_map(Tree::Json),
            1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Tree::Bin),
        ];
        leaf.prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Arr),
                prop::collection::vec(("[a-zA-Z0-9_ ]{0,8}", inner), 0..6).prop_map(Tree::Obj),
            ]
        })
    }

    fn build(t: Tree, args: &mut Args) -> Value {
        match t {
            Tree::Json(v) => v,
            Tree::Bin(b) => args.attach(b),
            Tree::Arr(items) => Value::Array(items.into_iter().map(|i| build(i, args)).collect()),
            Tree::Obj(kv) => {
                let mut map = Map::new();
                for (k, v) in kv {
                    let v = build(v, args);
                    map.insert(k, v);
                }
                Value::Object(map)
            }
        }
    }

    fn args_of(trees: Vec<Tree>) -> Args {
        let mut args = Args::default();
        for t in trees {
            let v = build(t, &mut args);
            args.values.push(v);
        }
        // Duplicate keys drop a value with its attachment: keep only the
        // attachments still referenced, renumbered in document order, as a
        // decoder produces them.
        let mut out = Args::default();
        for v in &args.values {
            let v = renumber(v, &args, &mut out);
            out.values.push(v);
        }
        out
    }

    fn renumber(v: &Value, from: &Args, to: &mut Args) -> Value {
        if let Some(bytes) = from.binary(v) {
            return to.attach(bytes.to_vec());
        }
        match v {
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| renumber(i, from, to)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), renumber(v, from, to)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn events_round_trip(
            nsp in "/[a-z0-9/_-]{0,10}",
            name in "[a-z][a-z0-9 _-]{0,12}",
            trees in prop::collection::vec(tree(), 0..5),
            id in prop::option::of(0..=MAX_ACK_ID),
        ) {
            prop_assume!(!is_reserved_event(&name));
            let p = Packet { nsp, body: Body::Event(Event { name, args: args_of(trees), id }) };
            prop_assert_eq!(round_trip(&p), p);
        }

        #[test]
        fn acks_round_trip(trees in prop::collection::vec(tree(), 0..5), id in 0..=MAX_ACK_ID) {
            let p = Packet { nsp: "/".into(), body: Body::Ack(Ack { id, args: args_of(trees) }) };
            prop_assert_eq!(round_trip(&p), p);
        }

        #[test]
        fn other_packets_round_trip(nsp in "/[a-z]{0,6}", message in any::<String>(), sid in "[A-Za-z0-9_-]{20}") {
            for body in [
                Body::Connect(None),
                Body::Connect(Some(json!({ "sid": sid.clone(), "pid": message.clone() }))),
                Body::Disconnect,
                Body::ConnectError(json!({ "message": message.clone() })),
                Body::ConnectError(Value::String(message.clone())),
            ] {
                let p = Packet { nsp: nsp.clone(), body };
                prop_assert_eq!(round_trip(&p), p);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes, &DecoderConfig::default());
        }

        #[test]
        fn truncations_and_corruptions_are_errors_not_panics(
            trees in prop::collection::vec(tree(), 1..4),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let p = Packet { nsp: "/".into(), body: Body::Event(Event { name: "e".into(), args: args_of(trees), id: None }) };
            let mut bytes = Vec::new();
            encode(&p, &mut bytes);
            let at = cut.index(bytes.len());
            prop_assert!(decode(&bytes[..at], &DecoderConfig::default()).is_err());
            let at = flip.index(bytes.len());
            bytes[at] = byte;
            let _ = decode(&bytes, &DecoderConfig::default());
        }
    }
}
