//! One Engine.IO packet, v3 and v4 (engine.io-protocol v4, *Protocol* and
//! *Packet encoding*; v3, *Encoding › Packet*).
//!
//! A text packet is `<type digit><data>`. A text packet starting with `b` is
//! base64 binary: v4 `b<base64>` (always a message), v3 `b<type><base64>`.
//! Over WebSocket a v4 binary frame is the raw message data; a v3 binary frame
//! starts with the packet type as a raw byte (`0x04` for message).

use std::borrow::Cow;

use super::{base64, DecodeError, DecodeErrorKind};

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
        Packet {
            kind,
            data: Data::Text(text.into()),
        }
    }

    /// A packet without data (`"1"`, `"3"`, `"6"`...).
    pub fn bare(kind: PacketType) -> Self {
        Packet {
            kind,
            data: Data::Text(Cow::Borrowed("")),
        }
    }

    /// A binary message packet.
    pub fn binary(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        Packet {
            kind: PacketType::Message,
            data: Data::Binary(bytes.into()),
        }
    }

    /// Detaches the packet from the buffer it was decoded from.
    pub fn into_owned(self) -> Packet<'static> {
        Packet {
            kind: self.kind,
            data: self.data.into_owned(),
        }
    }
}

/// Decodes a text packet (a WebSocket text frame, or one packet cut from a
/// polling payload): `<digit><text>`, or `b...` base64 binary per `version`.
///
/// * empty input → [`DecodeErrorKind::Empty`];
/// * `0`..`6` → that type, the rest is the text (borrowed from `input`);
/// * `b<base64>` (v4) → a binary `message`; `b<digit><base64>` (v3) → a
///   binary packet of that type (a missing or unknown digit is
///   [`DecodeErrorKind::UnknownPacketType`] at offset 1);
/// * invalid base64 → [`DecodeErrorKind::InvalidBase64`] (strict, unlike
///   Node: `b!!!` is refused);
/// * anything else → [`DecodeErrorKind::UnknownPacketType`] at offset 0.
///
/// ```
/// use socketio_sansio::wire::eio::{decode_text, Data, EngineVersion, Packet, PacketType};
///
/// let p = decode_text(EngineVersion::V4, "4hello").unwrap();
/// assert_eq!(p, Packet::text(PacketType::Message, "hello"));
/// let p = decode_text(EngineVersion::V4, "bAQIDBA==").unwrap();
/// assert_eq!(p, Packet::binary(vec![1, 2, 3, 4]));
/// let p = decode_text(EngineVersion::V3, "b4AQIDBA==").unwrap();
/// assert_eq!(p.data, Data::Binary(vec![1, 2, 3, 4].into()));
/// assert!(decode_text(EngineVersion::V4, "7").is_err());
/// ```
pub fn decode_text(version: EngineVersion, input: &str) -> Result<Packet<'_>, DecodeError> {
    let bytes = input.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(DecodeError::new(DecodeErrorKind::Empty, 0));
    };
    if first == b'b' {
        let (kind, start) = match version {
            EngineVersion::V4 => (PacketType::Message, 1),
            EngineVersion::V3 => {
                let kind = bytes
                    .get(1)
                    .and_then(|&d| d.checked_sub(b'0'))
                    .and_then(PacketType::from_u8)
                    .ok_or(DecodeError::new(DecodeErrorKind::UnknownPacketType, 1))?;
                (kind, 2)
            }
        };
        // `start` is after ASCII bytes, so it is a char boundary.
        let encoded = input.get(start..).unwrap_or("");
        let data =
            base64::decode(encoded).map_err(|e| DecodeError::new(e.kind, e.offset + start))?;
        return Ok(Packet {
            kind,
            data: Data::Binary(Cow::Owned(data)),
        });
    }
    let kind = first
        .checked_sub(b'0')
        .and_then(PacketType::from_u8)
        .ok_or(DecodeError::new(DecodeErrorKind::UnknownPacketType, 0))?;
    Ok(Packet {
        kind,
        data: Data::Text(Cow::Borrowed(input.get(1..).unwrap_or(""))),
    })
}

/// Decodes a WebSocket binary frame: v4 → message with the raw bytes; v3 →
/// first byte is the packet type (`0..=6`), the rest its data. An empty v3
/// frame or a v3 frame with an unknown type byte is an error.
///
/// The data is borrowed from `input`. An empty v4 frame is an empty binary
/// message; an empty v3 frame is [`DecodeErrorKind::Empty`], a type byte
/// above 6 [`DecodeErrorKind::UnknownPacketType`].
///
/// ```
/// use socketio_sansio::wire::eio::{decode_binary, EngineVersion, Packet};
///
/// // E12: the v3 frame carries the type byte, the v4 frame does not.
/// let v3 = decode_binary(EngineVersion::V3, &[4, 1, 2, 3, 4]).unwrap();
/// let v4 = decode_binary(EngineVersion::V4, &[1, 2, 3, 4]).unwrap();
/// assert_eq!(v3, Packet::binary(&[1u8, 2, 3, 4][..]));
/// assert_eq!(v4, v3);
/// ```
pub fn decode_binary(version: EngineVersion, input: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match version {
        EngineVersion::V4 => Ok(Packet::binary(input)),
        EngineVersion::V3 => {
            let Some((&type_byte, rest)) = input.split_first() else {
                return Err(DecodeError::new(DecodeErrorKind::Empty, 0));
            };
            let kind = PacketType::from_u8(type_byte)
                .ok_or(DecodeError::new(DecodeErrorKind::UnknownPacketType, 0))?;
            Ok(Packet {
                kind,
                data: Data::Binary(Cow::Borrowed(rest)),
            })
        }
    }
}

/// Appends the text form of a text packet (`<digit><text>`) to `out`.
/// For binary data, appends the base64 text form (v4 `b<base64>`, v3
/// `b<digit><base64>`), as used inside polling payloads.
///
/// The v4 base64 form has no type digit: binary data of a kind other than
/// `message` is written as `b<base64>` all the same and decodes back as a
/// `message` (v4 only ever sends binary messages).
///
/// ```
/// use socketio_sansio::wire::eio::{encode_text, EngineVersion, Packet, PacketType};
///
/// let mut out = String::new();
/// encode_text(EngineVersion::V4, &Packet::text(PacketType::Message, "hello"), &mut out);
/// encode_text(EngineVersion::V3, &Packet::binary(vec![1, 2, 3, 4]), &mut out);
/// assert_eq!(out, "4hellob4AQIDBA==");
/// ```
pub fn encode_text(version: EngineVersion, packet: &Packet<'_>, out: &mut String) {
    match &packet.data {
        Data::Text(text) => {
            out.reserve(1 + text.len());
            out.push(packet.kind.as_char());
            out.push_str(text);
        }
        Data::Binary(bytes) => {
            out.reserve(2 + base64::encoded_len(bytes.len()));
            out.push('b');
            if version == EngineVersion::V3 {
                out.push(packet.kind.as_char());
            }
            base64::encode(bytes, out);
        }
    }
}

/// Appends the WebSocket binary frame for binary data of `kind` to `out`:
/// v4 the raw bytes (only `message` exists), v3 the type byte then the bytes.
///
/// In v4 a binary frame has no type: for a `kind` other than `message` the
/// raw bytes are written anyway, and the peer will read them as a message.
///
/// ```
/// use socketio_sansio::wire::eio::{encode_binary_frame, EngineVersion, PacketType};
///
/// let mut v3 = Vec::new();
/// encode_binary_frame(EngineVersion::V3, PacketType::Message, &[1, 2, 3, 4], &mut v3);
/// assert_eq!(v3, [4, 1, 2, 3, 4]);
/// let mut v4 = Vec::new();
/// encode_binary_frame(EngineVersion::V4, PacketType::Message, &[1, 2, 3, 4], &mut v4);
/// assert_eq!(v4, [1, 2, 3, 4]);
/// ```
pub fn encode_binary_frame(
    version: EngineVersion,
    kind: PacketType,
    data: &[u8],
    out: &mut Vec<u8>,
) {
    match version {
        EngineVersion::V4 => out.extend_from_slice(data),
        EngineVersion::V3 => {
            out.reserve(1 + data.len());
            out.push(kind as u8);
            out.extend_from_slice(data);
        }
    }
}

/// Appends `s` as a JSON string literal (see [`super::json`]).
pub(crate) fn push_json_string(s: &str, out: &mut String) {
    super::json::push_json_str(out, s);
}

/// Appends the decimal digits of `n` to `out`.
pub(crate) fn push_decimal(n: u64, out: &mut String) {
    super::json::push_u64(out, n);
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
    ///
    /// Byte-exact with the reference (`JSON.stringify` of the same object):
    ///
    /// ```
    /// use socketio_sansio::wire::eio::OpenPacket;
    ///
    /// let open = OpenPacket {
    ///     sid: "lv_VI97HAXpY6yYWAAAC".into(),
    ///     upgrades: vec!["websocket".into()],
    ///     ping_interval: 25000,
    ///     ping_timeout: 20000,
    ///     max_payload: Some(1_000_000),
    /// };
    /// let mut out = String::from("0");
    /// open.encode_json(&mut out);
    /// assert_eq!(
    ///     out,
    ///     r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    /// );
    /// assert_eq!(OpenPacket::decode_json(&out[1..]).unwrap(), open);
    /// ```
    pub fn encode_json(&self, out: &mut String) {
        out.push_str("{\"sid\":");
        push_json_string(&self.sid, out);
        out.push_str(",\"upgrades\":[");
        for (i, upgrade) in self.upgrades.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(upgrade, out);
        }
        out.push_str("],\"pingInterval\":");
        push_decimal(self.ping_interval, out);
        out.push_str(",\"pingTimeout\":");
        push_decimal(self.ping_timeout, out);
        if let Some(max_payload) = self.max_payload {
            out.push_str(",\"maxPayload\":");
            push_decimal(max_payload, out);
        }
        out.push('}');
    }

    /// Parses the JSON object (client role). Unknown keys are ignored;
    /// `sid`, `upgrades`, `pingInterval` and `pingTimeout` are required.
    ///
    /// Errors: [`DecodeErrorKind::InvalidJson`] when the text is not JSON
    /// (offset = where `serde_json` stopped); [`DecodeErrorKind::InvalidPayload`]
    /// when it is not an object, a required key is missing, or a value has
    /// the wrong type (`sid` string, `upgrades` array of strings, the three
    /// numbers non-negative integers; `maxPayload` may be absent).
    pub fn decode_json(input: &str) -> Result<Self, DecodeError> {
        let value: serde_json::Value = serde_json::from_str(input).map_err(|e| {
            DecodeError::new(
                DecodeErrorKind::InvalidJson(e.to_string()),
                json_error_offset(input, &e),
            )
        })?;
        let shape = |what: &'static str| DecodeError::new(DecodeErrorKind::InvalidPayload(what), 0);
        let object = value
            .as_object()
            .ok_or_else(|| shape("open packet is not a JSON object"))?;
        let sid = object
            .get("sid")
            .and_then(|v| v.as_str())
            .ok_or_else(|| shape("open packet: sid must be a string"))?
            .to_owned();
        let upgrades = object
            .get("upgrades")
            .and_then(|v| v.as_array())
            .ok_or_else(|| shape("open packet: upgrades must be an array"))?
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| shape("open packet: upgrades must hold strings"))?;
        let ping_interval = object
            .get("pingInterval")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| shape("open packet: pingInterval must be a non-negative integer"))?;
        let ping_timeout = object
            .get("pingTimeout")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| shape("open packet: pingTimeout must be a non-negative integer"))?;
        let max_payload =
            match object.get("maxPayload") {
                None => None,
                Some(v) => Some(v.as_u64().ok_or_else(|| {
                    shape("open packet: maxPayload must be a non-negative integer")
                })?),
            };
        Ok(OpenPacket {
            sid,
            upgrades,
            ping_interval,
            ping_timeout,
            max_payload,
        })
    }
}

/// Byte offset of a `serde_json` error (it reports 1-based line and byte column).
fn json_error_offset(input: &str, error: &serde_json::Error) -> usize {
    let line_start: usize = input
        .split_inclusive('\n')
        .take(error.line().saturating_sub(1))
        .map(str::len)
        .sum();
    line_start
        .saturating_add(error.column().saturating_sub(1))
        .min(input.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use EngineVersion::{V3, V4};

    fn kind_at(r: Result<Packet<'_>, DecodeError>) -> (DecodeErrorKind, usize) {
        let e = r.unwrap_err();
        (e.kind, e.offset)
    }

    #[test]
    fn version_from_query() {
        assert_eq!(EngineVersion::from_query("3"), Some(V3));
        assert_eq!(EngineVersion::from_query("4"), Some(V4));
        assert_eq!(EngineVersion::from_query("04"), None);
        assert_eq!(EngineVersion::from_query(""), None);
    }

    #[test]
    fn every_text_type_both_versions() {
        for v in [V3, V4] {
            for d in 0..=6u8 {
                let kind = PacketType::from_u8(d).unwrap();
                let text = format!("{}payload", kind.as_char());
                let p = decode_text(v, &text).unwrap();
                assert_eq!(p, Packet::text(kind, "payload"));
                assert!(matches!(p.data, Data::Text(Cow::Borrowed(_))));
                let mut out = String::new();
                encode_text(v, &p, &mut out);
                assert_eq!(out, text);
            }
        }
    }

    #[test]
    fn bare_packets() {
        assert_eq!(
            decode_text(V4, "3").unwrap(),
            Packet::bare(PacketType::Pong)
        );
        assert_eq!(
            decode_text(V3, "6").unwrap(),
            Packet::bare(PacketType::Noop)
        );
        assert_eq!(
            decode_text(V4, "2probe").unwrap(),
            Packet::text(PacketType::Ping, "probe")
        );
    }

    #[test]
    fn text_errors() {
        assert_eq!(kind_at(decode_text(V4, "")), (DecodeErrorKind::Empty, 0));
        for bad in ["7", "9", "x", "a", "/", " 4", "é"] {
            assert_eq!(
                kind_at(decode_text(V4, bad)),
                (DecodeErrorKind::UnknownPacketType, 0),
                "{bad}"
            );
            assert_eq!(
                kind_at(decode_text(V3, bad)),
                (DecodeErrorKind::UnknownPacketType, 0),
                "{bad}"
            );
        }
        assert_eq!(
            kind_at(decode_text(V4, "b!!!")),
            (DecodeErrorKind::InvalidBase64, 1)
        );
        assert_eq!(
            kind_at(decode_text(V3, "b4!!!")),
            (DecodeErrorKind::InvalidBase64, 2)
        );
        assert_eq!(
            kind_at(decode_text(V4, "bAQID!A==")),
            (DecodeErrorKind::InvalidBase64, 5)
        );
        // v3 needs a type digit after `b`.
        assert_eq!(
            kind_at(decode_text(V3, "b")),
            (DecodeErrorKind::UnknownPacketType, 1)
        );
        assert_eq!(
            kind_at(decode_text(V3, "b7AQ==")),
            (DecodeErrorKind::UnknownPacketType, 1)
        );
        assert_eq!(
            kind_at(decode_text(V3, "bAQIDBA==")),
            (DecodeErrorKind::UnknownPacketType, 1)
        );
    }

    #[test]
    fn base64_text_packets() {
        // v4 `b` is always a message, even with a digit-looking first char.
        assert_eq!(
            decode_text(V4, "bAQID").unwrap(),
            Packet::binary(vec![1, 2, 3])
        );
        assert_eq!(decode_text(V4, "b").unwrap(), Packet::binary(Vec::new()));
        let p = decode_text(V3, "b2AQID").unwrap();
        assert_eq!(p.kind, PacketType::Ping);
        assert_eq!(p.data, Data::Binary(vec![1, 2, 3].into()));
        assert_eq!(decode_text(V3, "b4").unwrap(), Packet::binary(Vec::new()));
    }

    #[test]
    fn encode_binary_as_text() {
        let mut out = String::new();
        encode_text(V4, &Packet::binary(vec![1, 2, 3, 4]), &mut out);
        assert_eq!(out, "bAQIDBA==");
        out.clear();
        encode_text(V3, &Packet::binary(vec![1, 2, 3, 4]), &mut out);
        assert_eq!(out, "b4AQIDBA==");
        // v4 has no type in the base64 form: the kind is dropped.
        out.clear();
        let ping = Packet {
            kind: PacketType::Ping,
            data: Data::Binary(vec![1].into()),
        };
        encode_text(V4, &ping, &mut out);
        assert_eq!(out, "bAQ==");
    }

    #[test]
    fn binary_frames() {
        // E12
        let frame = [4u8, 1, 2, 3, 4];
        let p = decode_binary(V3, &frame).unwrap();
        assert_eq!(p, Packet::binary(&frame[1..]));
        assert!(matches!(p.data, Data::Binary(Cow::Borrowed(_))));
        let mut out = Vec::new();
        encode_binary_frame(V3, p.kind, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, frame);

        let p = decode_binary(V4, &[1, 2, 3, 4]).unwrap();
        assert_eq!(p, Packet::binary(vec![1, 2, 3, 4]));
        out.clear();
        encode_binary_frame(V4, PacketType::Message, &[1, 2, 3, 4], &mut out);
        assert_eq!(out, [1, 2, 3, 4]);
        // v4: any other kind is still written as raw bytes.
        out.clear();
        encode_binary_frame(V4, PacketType::Ping, &[9], &mut out);
        assert_eq!(out, [9]);

        assert_eq!(decode_binary(V4, &[]).unwrap(), Packet::binary(Vec::new()));
        assert_eq!(decode_binary(V3, &[6]).unwrap().kind, PacketType::Noop);
        assert_eq!(kind_at(decode_binary(V3, &[])), (DecodeErrorKind::Empty, 0));
        assert_eq!(
            kind_at(decode_binary(V3, &[7, 1, 2])),
            (DecodeErrorKind::UnknownPacketType, 0)
        );
        assert_eq!(
            kind_at(decode_binary(V3, b"4hi")),
            (DecodeErrorKind::UnknownPacketType, 0)
        );
    }

    #[test]
    fn json_string_escaping_matches_json_stringify() {
        let mut out = String::new();
        push_json_string(
            "a\"b\\c/d\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀\u{2028}",
            &mut out,
        );
        assert_eq!(
            out,
            r#""a\"b\\c/d\n\r\t\b\f\u0000\u001f"#.to_owned() + "\u{7f}é😀\u{2028}\""
        );
        // And serde_json reads it back.
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(
            back,
            "a\"b\\c/d\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀\u{2028}"
        );
    }

    #[test]
    fn decimal() {
        for n in [0u64, 7, 10, 25000, u64::MAX] {
            let mut s = String::new();
            push_decimal(n, &mut s);
            assert_eq!(s, n.to_string());
        }
    }

    fn open(max: Option<u64>) -> OpenPacket {
        OpenPacket {
            sid: "lv_VI97HAXpY6yYWAAAC".into(),
            upgrades: vec!["websocket".into()],
            ping_interval: 25000,
            ping_timeout: 20000,
            max_payload: max,
        }
    }

    #[test]
    fn open_json_exact() {
        let mut out = String::new();
        open(Some(1_000_000)).encode_json(&mut out);
        assert_eq!(
            out,
            r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
        out.clear();
        let mut ws = open(None);
        ws.upgrades.clear();
        ws.encode_json(&mut out);
        assert_eq!(
            out,
            r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#
        );
        out.clear();
        let two = OpenPacket {
            upgrades: vec!["websocket".into(), "x\"y".into()],
            ..open(None)
        };
        two.encode_json(&mut out);
        assert!(out.contains(r#""upgrades":["websocket","x\"y"]"#));
        assert_eq!(OpenPacket::decode_json(&out).unwrap(), two);
    }

    #[test]
    fn open_json_decode() {
        let p = OpenPacket::decode_json(
            r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"extra":[1,{}]}"#,
        )
        .unwrap();
        assert_eq!(p.sid, "abc");
        assert_eq!(p.max_payload, None);
        assert_eq!((p.ping_interval, p.ping_timeout), (300, 200));

        let shape = |s: &str| OpenPacket::decode_json(s).unwrap_err().kind;
        assert!(matches!(shape("[]"), DecodeErrorKind::InvalidPayload(_)));
        assert!(matches!(
            shape(r#"{"upgrades":[],"pingInterval":1,"pingTimeout":1}"#),
            DecodeErrorKind::InvalidPayload(_)
        ));
        assert!(matches!(
            shape(r#"{"sid":1,"upgrades":[],"pingInterval":1,"pingTimeout":1}"#),
            DecodeErrorKind::InvalidPayload(_)
        ));
        assert!(matches!(
            shape(r#"{"sid":"s","upgrades":[1],"pingInterval":1,"pingTimeout":1}"#),
            DecodeErrorKind::InvalidPayload(_)
        ));
        assert!(matches!(
            shape(r#"{"sid":"s","upgrades":[],"pingInterval":-1,"pingTimeout":1}"#),
            DecodeErrorKind::InvalidPayload(_)
        ));
        assert!(matches!(
            shape(r#"{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":1.5}"#),
            DecodeErrorKind::InvalidPayload(_)
        ));
        assert!(matches!(
            shape(r#"{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":"x"}"#),
            DecodeErrorKind::InvalidPayload(_)
        ));
        let e = OpenPacket::decode_json(r#"{"sid":"s",}"#).unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::InvalidJson(_)));
        assert!(e.offset >= 10 && e.offset <= 12, "{}", e.offset);
        let e = OpenPacket::decode_json("{\n\"sid\" x").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::InvalidJson(_)));
        assert_eq!(e.offset, 8);
        assert!(matches!(
            OpenPacket::decode_json("").unwrap_err().kind,
            DecodeErrorKind::InvalidJson(_)
        ));
    }
}
