//! Legacy Socket.IO 0.9 wire format (socket.io-spec, *Messages*), with a
//! typed packet model equivalent to gevent-socketio's packet dictionaries
//! (`socketio/packet.py`).
//!
//! ```text
//! <type> ":" [<id>["+"]] ":" [<endpoint>] [":" <data>]
//! ```
//!
//! Several packets in one polling body are framed as
//! `\u{fffd}<len>\u{fffd}<packet>` repeated, `len` in UTF-16 code units (as
//! the reference JavaScript counts); a body with a single packet is sent bare.

use std::fmt::Write as _;

use serde_json::Value;

use super::{DecodeError, DecodeErrorKind};

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

impl ErrorReason {
    fn code(self) -> char {
        match self {
            ErrorReason::TransportNotSupported => '0',
            ErrorReason::ClientNotHandshaken => '1',
            ErrorReason::Unauthorized => '2',
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "0" => Some(ErrorReason::TransportNotSupported),
            "1" => Some(ErrorReason::ClientNotHandshaken),
            "2" => Some(ErrorReason::Unauthorized),
            _ => None,
        }
    }
}

impl ErrorAdvice {
    fn code(self) -> char {
        match self {
            ErrorAdvice::Reconnect => '0',
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "0" => Some(ErrorAdvice::Reconnect),
            _ => None,
        }
    }
}

/// The frame separator of multi-packet polling bodies.
const FRAME_SEP: char = '\u{fffd}';

#[inline]
fn err(kind: DecodeErrorKind, offset: usize) -> DecodeError {
    DecodeError::new(kind, offset)
}

/// Parses a non-empty run of ASCII digits whose value is at most `max`.
/// `offset` is the position of `s` in the decoder's input.
fn parse_decimal(s: &str, offset: usize, max: u64) -> Result<u64, DecodeError> {
    if s.is_empty() {
        return Err(err(DecodeErrorKind::InvalidNumber, offset));
    }
    let mut value: u64 = 0;
    for (i, b) in s.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return Err(err(DecodeErrorKind::InvalidNumber, offset + i));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .filter(|&v| v <= max)
            .ok_or_else(|| err(DecodeErrorKind::InvalidNumber, offset))?;
    }
    Ok(value)
}

/// Parses a JSON document (serde_json bounds nesting at 128 levels).
fn parse_json(s: &str, offset: usize) -> Result<Value, DecodeError> {
    serde_json::from_str(s).map_err(|e| err(DecodeErrorKind::InvalidJson(e.to_string()), offset))
}

/// Parses a JSON document that must be an array.
fn parse_json_array(s: &str, offset: usize, what: &'static str) -> Result<Vec<Value>, DecodeError> {
    match parse_json(s, offset)? {
        Value::Array(args) => Ok(args),
        _ => Err(err(DecodeErrorKind::InvalidPayload(what), offset)),
    }
}

/// Appends `s` as a JSON string literal (see [`super::json`]).
fn write_json_str(s: &str, out: &mut String) {
    super::json::push_json_str(out, s);
}

/// Appends `[v1,v2,...]` (compact JSON) without building a `Value::Array`.
fn write_json_array(values: &[Value], out: &mut String) {
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        super::json::push_json_value(out, v);
    }
    out.push(']');
}

/// Number of UTF-16 code units of `s`, computed from its UTF-8 bytes: every
/// non-continuation byte starts a char (1 unit), 4-byte chars need 2.
fn utf16_len(s: &str) -> usize {
    s.bytes()
        .map(|b| usize::from((b & 0xc0) != 0x80) + usize::from(b >= 0xf0))
        .sum()
}

impl Packet {
    /// Decodes one packet.
    ///
    /// Strict where the reference is lenient: the type is one digit `0..=8`
    /// (`UnknownPacketType` otherwise, `InvalidLegacyPacket` when the
    /// `type:id:` skeleton is missing); ids are digits `<= MAX_ID` and only
    /// allowed on message/json/event; JSON is validated (nesting bounded to
    /// 128 levels by serde_json); anything the model cannot represent
    /// (an endpoint on heartbeat/noop, data on disconnect/heartbeat/noop) is
    /// rejected. Tolerated forms: `2:::` (empty data after the colon),
    /// `1::/chat?a=b` (query inside the endpoint; a query in both places is
    /// refused), a connect data field without `?` (kept verbatim as `qs`, as
    /// both references do), extra keys in an event object, event keys in any order,
    /// unknown error reason/advice codes (decoded as `None`).
    ///
    /// ```
    /// use socketio_sansio::wire::legacy::{AckRequest, Packet};
    ///
    /// let p = Packet::decode(r#"5:1+::{"name":"tobi","args":[1]}"#).unwrap();
    /// assert_eq!(
    ///     p,
    ///     Packet::Event {
    ///         id: Some(AckRequest::Data(1)),
    ///         endpoint: String::new(),
    ///         name: "tobi".into(),
    ///         args: vec![1.into()],
    ///     }
    /// );
    /// assert!(Packet::decode("99::").is_err());
    /// ```
    pub fn decode(input: &str) -> Result<Packet, DecodeError> {
        use DecodeErrorKind::*;
        if input.is_empty() {
            return Err(err(Empty, 0));
        }
        let (ty, rest) = input
            .split_once(':')
            .ok_or_else(|| err(InvalidLegacyPacket, input.len()))?;
        let ty = match ty.as_bytes() {
            [] => return Err(err(InvalidLegacyPacket, 0)),
            &[d @ b'0'..=b'8'] => d - b'0',
            _ => return Err(err(UnknownPacketType, 0)),
        };
        let id_off = 2;
        let (id_field, rest) = rest
            .split_once(':')
            .ok_or_else(|| err(InvalidLegacyPacket, input.len()))?;
        let ep_off = id_off + id_field.len() + 1;
        let (endpoint, data) = match rest.split_once(':') {
            Some((ep, data)) => (ep, Some(data)),
            None => (rest, None),
        };
        let data_off = ep_off + endpoint.len() + 1;

        let id = if id_field.is_empty() {
            None
        } else if !matches!(ty, 3..=5) {
            return Err(err(InvalidLegacyPacket, id_off));
        } else {
            Some(match id_field.strip_suffix('+') {
                Some(digits) => AckRequest::Data(parse_decimal(digits, id_off, MAX_ID)?),
                None => AckRequest::Auto(parse_decimal(id_field, id_off, MAX_ID)?),
            })
        };
        let data_str = data.unwrap_or("");

        Ok(match ty {
            0 => {
                no_data(data_str, data_off)?;
                Packet::Disconnect {
                    endpoint: endpoint.to_owned(),
                }
            }
            1 => {
                let (endpoint, qs) = match endpoint.find('?') {
                    Some(q) => {
                        if !data_str.is_empty() {
                            // A query both inside the endpoint and in the data.
                            return Err(err(InvalidLegacyPacket, data_off));
                        }
                        let (ep, qs) = endpoint.split_at(q);
                        (ep, Some(qs.to_owned()))
                    }
                    None if data_str.is_empty() => (endpoint, None),
                    None => (endpoint, Some(data_str.to_owned())),
                };
                Packet::Connect {
                    endpoint: endpoint.to_owned(),
                    qs,
                }
            }
            2 | 8 => {
                if !endpoint.is_empty() {
                    return Err(err(InvalidLegacyPacket, ep_off));
                }
                no_data(data_str, data_off)?;
                if ty == 2 {
                    Packet::Heartbeat
                } else {
                    Packet::Noop
                }
            }
            3 => Packet::Message {
                id,
                endpoint: endpoint.to_owned(),
                data: data_str.to_owned(),
            },
            4 => Packet::Json {
                id,
                endpoint: endpoint.to_owned(),
                data: parse_json(data_str, data_off)?,
            },
            5 => {
                let Value::Object(mut event) = parse_json(data_str, data_off)? else {
                    return Err(err(
                        InvalidPayload("event data must be a JSON object"),
                        data_off,
                    ));
                };
                let Some(Value::String(name)) = event.remove("name") else {
                    return Err(err(InvalidPayload("event name must be a string"), data_off));
                };
                let args = match event.remove("args") {
                    None => Vec::new(),
                    Some(Value::Array(args)) => args,
                    Some(_) => {
                        return Err(err(
                            InvalidPayload("event args must be a JSON array"),
                            data_off,
                        ))
                    }
                };
                Packet::Event {
                    id,
                    endpoint: endpoint.to_owned(),
                    name,
                    args,
                }
            }
            6 => {
                let (digits, args) = match data_str.split_once('+') {
                    Some((digits, json)) => {
                        let json_off = data_off + digits.len() + 1;
                        let args =
                            parse_json_array(json, json_off, "ack args must be a JSON array")?;
                        (digits, Some(args))
                    }
                    None => (data_str, None),
                };
                Packet::Ack {
                    endpoint: endpoint.to_owned(),
                    ack_id: parse_decimal(digits, data_off, MAX_ID)?,
                    args,
                }
            }
            7 => {
                let (reason, advice) = match data_str.split_once('+') {
                    Some((r, a)) => (r, a),
                    None => (data_str, ""),
                };
                let advice_off = data_off + reason.len() + 1;
                digits_only(reason, data_off)?;
                digits_only(advice, advice_off)?;
                Packet::Error {
                    endpoint: endpoint.to_owned(),
                    reason: ErrorReason::from_code(reason),
                    advice: ErrorAdvice::from_code(advice),
                }
            }
            // `ty` is a digit 0..=8 and 8 is handled with 2.
            _ => return Err(err(UnknownPacketType, 0)),
        })
    }

    /// Appends the packet to `out`, byte-compatible with the reference encoder
    /// (socket.io 0.9 `parser.js`): `type:id[+]:endpoint`, then `:data` only
    /// when there is data. So `3:5:/tobi` for an empty message, `1::/x` for a
    /// connect without query, `7::` / `7::/woot` for an error without reason
    /// or advice (gevent-socketio writes `7:::` / `7:::/woot`), event
    /// JSON as `{"name":..,"args":[..]}` with `args` omitted when empty.
    ///
    /// Lossy cases (as in the reference): a data ack with no arguments
    /// (`args: Some(vec![])`) is written `6:::<id>` and decodes as
    /// `args: None`; `qs: Some("")` is written like `None`. Endpoints must not
    /// contain `:` (nor `?` for connect) to decode back to the same packet;
    /// they are written as given. JSON numbers are written by serde_json,
    /// which differs from `JSON.stringify` for floats (`1.0` vs `1`, `1e21`
    /// vs `1e+21`).
    ///
    /// ```
    /// use socketio_sansio::wire::legacy::Packet;
    ///
    /// let mut out = String::new();
    /// Packet::Ack { endpoint: "/chat".into(), ack_id: 12, args: Some(vec!["woot".into()]) }
    ///     .encode(&mut out);
    /// assert_eq!(out, r#"6::/chat:12+["woot"]"#);
    /// ```
    pub fn encode(&self, out: &mut String) {
        match self {
            Packet::Disconnect { endpoint } => {
                out.push_str("0::");
                out.push_str(endpoint);
            }
            Packet::Connect { endpoint, qs } => {
                out.push_str("1::");
                out.push_str(endpoint);
                if let Some(qs) = qs.as_deref().filter(|qs| !qs.is_empty()) {
                    out.push(':');
                    out.push_str(qs);
                }
            }
            Packet::Heartbeat => out.push_str("2::"),
            Packet::Message { id, endpoint, data } => {
                write_head('3', *id, endpoint, out);
                if !data.is_empty() {
                    out.push(':');
                    out.push_str(data);
                }
            }
            Packet::Json { id, endpoint, data } => {
                write_head('4', *id, endpoint, out);
                out.push(':');
                let _ = write!(out, "{data}");
            }
            Packet::Event {
                id,
                endpoint,
                name,
                args,
            } => {
                write_head('5', *id, endpoint, out);
                out.push_str(":{\"name\":");
                write_json_str(name, out);
                if !args.is_empty() {
                    out.push_str(",\"args\":");
                    write_json_array(args, out);
                }
                out.push('}');
            }
            Packet::Ack {
                endpoint,
                ack_id,
                args,
            } => {
                out.push_str("6::");
                out.push_str(endpoint);
                let _ = write!(out, ":{ack_id}");
                if let Some(args) = args.as_deref().filter(|a| !a.is_empty()) {
                    out.push('+');
                    write_json_array(args, out);
                }
            }
            Packet::Error {
                endpoint,
                reason,
                advice,
            } => {
                out.push_str("7::");
                out.push_str(endpoint);
                if reason.is_some() || advice.is_some() {
                    out.push(':');
                    if let Some(reason) = reason {
                        out.push(reason.code());
                    }
                    if let Some(advice) = advice {
                        out.push('+');
                        out.push(advice.code());
                    }
                }
            }
            Packet::Noop => out.push_str("8::"),
        }
    }
}

/// Writes `type:[id[+]]:endpoint`.
fn write_head(ty: char, id: Option<AckRequest>, endpoint: &str, out: &mut String) {
    out.push(ty);
    out.push(':');
    match id {
        Some(AckRequest::Auto(id)) => {
            let _ = write!(out, "{id}");
        }
        Some(AckRequest::Data(id)) => {
            let _ = write!(out, "{id}+");
        }
        None => {}
    }
    out.push(':');
    out.push_str(endpoint);
}

/// Types without data accept only an empty data field (`2:::`).
fn no_data(data: &str, offset: usize) -> Result<(), DecodeError> {
    if data.is_empty() {
        Ok(())
    } else {
        Err(err(DecodeErrorKind::TrailingData, offset))
    }
}

/// Error reason/advice codes: digits only (possibly empty), any length.
fn digits_only(s: &str, offset: usize) -> Result<(), DecodeError> {
    match s.bytes().position(|b| !b.is_ascii_digit()) {
        None => Ok(()),
        Some(i) => Err(err(DecodeErrorKind::InvalidNumber, offset + i)),
    }
}

/// Splits a polling body into packet strings: framed
/// (`\u{fffd}len\u{fffd}...`) when it starts with U+FFFD, else one packet.
/// Lengths must be digits and match the frames exactly (UTF-16 code units).
///
/// Strict, unlike the reference (which cuts wherever the lengths say): the
/// frames must cover the body exactly, a length may not cut a surrogate pair
/// (a 4-byte UTF-8 character), and empty frames are refused (`EmptyPacket`).
/// Errors: `Empty` for an empty body, `InvalidNumber` for an empty, non-digit
/// or oversized length, `InvalidFraming` for a missing separator, a length
/// beyond the body or a desynchronised boundary. Note: gevent-socketio counts
/// code points instead of UTF-16 units; the two differ only for characters
/// outside the BMP, where we follow the reference JavaScript.
///
/// ```
/// use socketio_sansio::wire::legacy::decode_payload;
///
/// let frames = decode_payload("\u{fffd}9\u{fffd}3:::hello\u{fffd}3\u{fffd}2::").unwrap();
/// assert_eq!(frames, ["3:::hello", "2::"]);
/// assert_eq!(decode_payload("3:::hello").unwrap(), ["3:::hello"]);
/// ```
pub fn decode_payload(body: &str) -> Result<Vec<&str>, DecodeError> {
    use DecodeErrorKind::*;
    if body.is_empty() {
        return Err(err(Empty, 0));
    }
    let Some(mut rest) = body.strip_prefix(FRAME_SEP) else {
        return Ok(vec![body]);
    };
    let sep_len = FRAME_SEP.len_utf8();
    let mut frames = Vec::new();
    loop {
        // `rest` starts right after a separator.
        let len_off = body.len() - rest.len();
        let digits_end = rest
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, after) = rest.split_at(digits_end);
        let Some(after) = after.strip_prefix(FRAME_SEP) else {
            return Err(match after.chars().next() {
                // Something else than the closing separator: not a number.
                Some(_) => err(InvalidNumber, len_off + digits_end),
                None => err(InvalidFraming, body.len()),
            });
        };
        // A frame has at most as many UTF-16 units as UTF-8 bytes.
        let len = parse_decimal(digits, len_off, u64::MAX)?;
        let frame_off = len_off + digits_end + sep_len;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= after.len())
            .ok_or_else(|| err(InvalidFraming, frame_off))?;
        if len == 0 {
            return Err(err(EmptyPacket, frame_off));
        }
        let mut units = 0usize;
        let mut end = None;
        for (i, c) in after.char_indices() {
            units += c.len_utf16();
            if units >= len {
                if units > len {
                    // The length cuts a surrogate pair.
                    return Err(err(InvalidFraming, frame_off + i));
                }
                end = Some(i + c.len_utf8());
                break;
            }
        }
        let end = end.ok_or_else(|| err(InvalidFraming, body.len()))?;
        let (frame, tail) = after.split_at(end);
        frames.push(frame);
        if tail.is_empty() {
            return Ok(frames);
        }
        rest = tail
            .strip_prefix(FRAME_SEP)
            .ok_or_else(|| err(InvalidFraming, frame_off + end))?;
    }
}

/// Appends a polling body for `packets`: one packet bare, several framed.
/// Lengths count UTF-16 code units (reference JavaScript). Nothing is
/// written for an empty slice. A single packet that itself starts with
/// U+FFFD (never a valid packet) is framed, so that [`decode_payload`] gives
/// it back instead of mistaking it for framing.
///
/// ```
/// use socketio_sansio::wire::legacy::encode_payload;
///
/// let mut out = String::new();
/// encode_payload(&["3:::hello", "2::"], &mut out);
/// assert_eq!(out, "\u{fffd}9\u{fffd}3:::hello\u{fffd}3\u{fffd}2::");
/// ```
pub fn encode_payload<S: AsRef<str>>(packets: &[S], out: &mut String) {
    if let [single] = packets {
        let single = single.as_ref();
        if !single.starts_with(FRAME_SEP) {
            out.push_str(single);
            return;
        }
    }
    for p in packets {
        let p = p.as_ref();
        out.push(FRAME_SEP);
        let _ = write!(out, "{}", utf16_len(p));
        out.push(FRAME_SEP);
        out.push_str(p);
    }
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
    ///
    /// ```
    /// use socketio_sansio::wire::legacy::Handshake;
    ///
    /// let hs = Handshake {
    ///     sid: "4d4f185e96a7b".into(),
    ///     heartbeat_timeout: Some(60),
    ///     close_timeout: 60,
    ///     transports: vec!["websocket".into(), "xhr-polling".into()],
    /// };
    /// let mut out = String::new();
    /// hs.encode(&mut out);
    /// assert_eq!(out, "4d4f185e96a7b:60:60:websocket,xhr-polling");
    /// assert_eq!(Handshake::decode(&out).unwrap(), hs);
    /// ```
    pub fn encode(&self, out: &mut String) {
        out.push_str(&self.sid);
        out.push(':');
        if let Some(hb) = self.heartbeat_timeout {
            let _ = write!(out, "{hb}");
        }
        let _ = write!(out, ":{}:", self.close_timeout);
        for (i, t) in self.transports.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(t);
        }
    }

    /// Parses a handshake line (client role).
    ///
    /// The sid must be non-empty; the heartbeat field is empty or digits, the
    /// close field digits (`InvalidNumber` otherwise, values up to
    /// `u64::MAX`); the transport list may be empty but may not contain an
    /// empty name or a `:` (`InvalidHandshake`).
    pub fn decode(input: &str) -> Result<Handshake, DecodeError> {
        use DecodeErrorKind::*;
        let mut fields = input.splitn(4, ':');
        let (Some(sid), Some(hb), Some(close), Some(transports)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(err(InvalidHandshake, input.len()));
        };
        if sid.is_empty() {
            return Err(err(InvalidHandshake, 0));
        }
        let hb_off = sid.len() + 1;
        let close_off = hb_off + hb.len() + 1;
        let tr_off = close_off + close.len() + 1;
        let heartbeat_timeout = if hb.is_empty() {
            None
        } else {
            Some(parse_decimal(hb, hb_off, u64::MAX)?)
        };
        let close_timeout = parse_decimal(close, close_off, u64::MAX)?;
        let mut names = Vec::new();
        if !transports.is_empty() {
            let mut off = tr_off;
            for name in transports.split(',') {
                if name.is_empty() {
                    return Err(err(InvalidHandshake, off));
                }
                if let Some(i) = name.find(':') {
                    return Err(err(InvalidHandshake, off + i));
                }
                names.push(name.to_owned());
                off += name.len() + 1;
            }
        }
        Ok(Handshake {
            sid: sid.to_owned(),
            heartbeat_timeout,
            close_timeout,
            transports: names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind(input: &str) -> DecodeErrorKind {
        Packet::decode(input).unwrap_err().kind
    }

    #[test]
    fn parse_decimal_bounds() {
        assert_eq!(parse_decimal("0", 0, MAX_ID), Ok(0));
        assert_eq!(parse_decimal("9007199254740991", 0, MAX_ID), Ok(MAX_ID));
        assert_eq!(
            parse_decimal("9007199254740992", 3, MAX_ID),
            Err(err(DecodeErrorKind::InvalidNumber, 3))
        );
        assert_eq!(
            parse_decimal("", 7, MAX_ID),
            Err(err(DecodeErrorKind::InvalidNumber, 7))
        );
        assert_eq!(
            parse_decimal("12a", 1, MAX_ID),
            Err(err(DecodeErrorKind::InvalidNumber, 3))
        );
        assert_eq!(
            parse_decimal("18446744073709551615", 0, u64::MAX),
            Ok(u64::MAX)
        );
        assert!(parse_decimal("18446744073709551616", 0, u64::MAX).is_err());
        // A huge run of digits fails without scanning forever or overflowing.
        assert!(parse_decimal(&"9".repeat(100_000), 0, MAX_ID).is_err());
    }

    #[test]
    fn json_escaper_matches_serde_json() {
        for s in [
            "",
            "plain",
            "quote\" backslash\\ slash/",
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "é😀\u{2028}\u{2029}\u{fffd}",
        ] {
            let mut out = String::new();
            write_json_str(s, &mut out);
            assert_eq!(out, Value::String(s.to_owned()).to_string(), "{s:?}");
        }
    }

    #[test]
    fn utf16_len_counts_code_units() {
        for s in ["", "abc", "é", "€", "😀", "a😀é€\u{10ffff}"] {
            assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s:?}");
        }
    }

    #[test]
    fn error_offsets() {
        let e = Packet::decode("3:12x::hi").unwrap_err();
        assert_eq!(e, err(DecodeErrorKind::InvalidNumber, 4));
        let e = Packet::decode("6::/chat:1+nope").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::InvalidJson(_)));
        assert_eq!(e.offset, 11);
        let e = Packet::decode("4::/a:{").unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(
            Packet::decode("2::/x").unwrap_err(),
            err(DecodeErrorKind::InvalidLegacyPacket, 3)
        );
        assert_eq!(
            Packet::decode("0::/x:y").unwrap_err(),
            err(DecodeErrorKind::TrailingData, 6)
        );
        assert_eq!(
            Packet::decode("7:::1x").unwrap_err(),
            err(DecodeErrorKind::InvalidNumber, 5)
        );
        assert_eq!(
            Packet::decode("7:::1+0+0").unwrap_err(),
            err(DecodeErrorKind::InvalidNumber, 7)
        );
    }

    #[test]
    fn id_only_on_message_json_event() {
        for input in ["0:1::", "1:1::/a", "2:1::", "6:1:::1", "7:1+:::", "8:1::"] {
            assert_eq!(
                Packet::decode(input).unwrap_err(),
                err(DecodeErrorKind::InvalidLegacyPacket, 2),
                "{input}"
            );
        }
        assert_eq!(kind("3:+::x"), DecodeErrorKind::InvalidNumber);
        assert_eq!(kind("3:1++::x"), DecodeErrorKind::InvalidNumber);
        assert_eq!(kind("3:-1::x"), DecodeErrorKind::InvalidNumber);
    }

    #[test]
    fn skeleton_errors() {
        assert_eq!(kind(""), DecodeErrorKind::Empty);
        assert_eq!(kind("3"), DecodeErrorKind::InvalidLegacyPacket);
        assert_eq!(kind("3:"), DecodeErrorKind::InvalidLegacyPacket);
        assert_eq!(kind(":::"), DecodeErrorKind::InvalidLegacyPacket);
        assert_eq!(kind("9::"), DecodeErrorKind::UnknownPacketType);
        assert_eq!(kind("03::"), DecodeErrorKind::UnknownPacketType);
        assert_eq!(kind("é::"), DecodeErrorKind::UnknownPacketType);
    }

    #[test]
    fn connect_query_twice_is_rejected() {
        assert_eq!(
            Packet::decode("1::/a?b=1:?c=2").unwrap_err(),
            err(DecodeErrorKind::InvalidLegacyPacket, 10)
        );
        // An empty data field after a query in the endpoint is fine.
        assert_eq!(
            Packet::decode("1::/a?b=1:").unwrap(),
            Packet::Connect {
                endpoint: "/a".into(),
                qs: Some("?b=1".into())
            }
        );
    }

    #[test]
    fn empty_data_ack_is_written_like_the_reference() {
        let mut out = String::new();
        Packet::Ack {
            endpoint: String::new(),
            ack_id: 2,
            args: Some(vec![]),
        }
        .encode(&mut out);
        assert_eq!(out, "6:::2");
        // `+[]` on the wire still decodes as a data ack with no args.
        assert_eq!(
            Packet::decode("6:::2+[]").unwrap(),
            Packet::Ack {
                endpoint: String::new(),
                ack_id: 2,
                args: Some(vec![])
            }
        );
    }

    #[test]
    fn payload_errors() {
        use DecodeErrorKind::*;
        let k = |b: &str| decode_payload(b).unwrap_err();
        assert_eq!(k(""), err(Empty, 0));
        assert_eq!(k("\u{fffd}"), err(InvalidFraming, 3));
        assert_eq!(k("\u{fffd}\u{fffd}"), err(InvalidNumber, 3));
        assert_eq!(k("\u{fffd}1x\u{fffd}2::"), err(InvalidNumber, 4));
        assert_eq!(k("\u{fffd}3"), err(InvalidFraming, 4));
        assert_eq!(k("\u{fffd}0\u{fffd}"), err(EmptyPacket, 7));
        assert_eq!(k("\u{fffd}4\u{fffd}2::"), err(InvalidFraming, 7));
        // 5 < 9: the next frame would start at "o".
        assert_eq!(k("\u{fffd}5\u{fffd}3:::hello"), err(InvalidFraming, 12));
        // Cutting a surrogate pair: "😀" is 2 units.
        assert_eq!(k("\u{fffd}5\u{fffd}3:::😀"), err(InvalidFraming, 11));
        // Overflowing length.
        assert_eq!(
            k("\u{fffd}99999999999999999999999\u{fffd}2::").kind,
            InvalidNumber
        );
        // A trailing separator with nothing after it.
        assert_eq!(k("\u{fffd}3\u{fffd}2::\u{fffd}"), err(InvalidFraming, 13));
    }

    /// Fuzz finding: `\u{fffd}3\u{fffd}\u{fffd}6\u{fffd}` is one frame
    /// holding `\u{fffd}6\u{fffd}`; written bare it was read back as framing.
    #[test]
    fn lone_packet_starting_with_separator_is_framed() {
        let body = "\u{fffd}3\u{fffd}\u{fffd}6\u{fffd}";
        let frames = decode_payload(body).unwrap();
        assert_eq!(frames, ["\u{fffd}6\u{fffd}"]);
        let mut out = String::new();
        encode_payload(&frames, &mut out);
        assert_eq!(out, body);
        assert_eq!(decode_payload(&out).unwrap(), frames);
    }

    #[test]
    fn handshake_errors() {
        use DecodeErrorKind::*;
        let k = |b: &str| Handshake::decode(b).unwrap_err();
        assert_eq!(k(""), err(InvalidHandshake, 0));
        assert_eq!(k("abc:1:2"), err(InvalidHandshake, 7));
        assert_eq!(k(":1:2:websocket"), err(InvalidHandshake, 0));
        assert_eq!(k("s:x:2:websocket"), err(InvalidNumber, 2));
        assert_eq!(k("s:1::websocket"), err(InvalidNumber, 4));
        assert_eq!(k("s:1:2:websocket,,x"), err(InvalidHandshake, 16));
        assert_eq!(k("s:1:2:websocket,a:b"), err(InvalidHandshake, 17));
        assert_eq!(
            Handshake::decode("s:1:2:").unwrap().transports,
            Vec::<String>::new()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn escaper_matches_serde_json_on_any_string(s in any::<String>()) {
            let mut out = String::new();
            write_json_str(&s, &mut out);
            prop_assert_eq!(out, Value::String(s.clone()).to_string());
            prop_assert_eq!(utf16_len(&s), s.encode_utf16().count());
        }
    }
}
