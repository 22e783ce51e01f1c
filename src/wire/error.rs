//! The one decode error type shared by every codec.

use std::fmt;

/// A decoder refused its input: what was wrong ([`DecodeErrorKind`]) and
/// where (byte offset into the input the decoder was given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What was wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset into the decoder's input where the problem was found.
    pub offset: usize,
}

impl DecodeError {
    /// Builds an error of `kind` at byte `offset`.
    pub fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }
}

/// What a decoder found wrong. `#[non_exhaustive]`: new checks may be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    // ---- shared -------------------------------------------------------
    /// The input was empty where a packet was expected.
    Empty,
    /// The packet type (first character or byte) is not one this protocol knows.
    UnknownPacketType,
    /// A JSON document failed to parse (message from `serde_json`).
    InvalidJson(String),
    /// JSON parsed but has the wrong shape for this packet type.
    InvalidPayload(&'static str),
    /// A decimal number (length, count or id) has a non-digit character,
    /// is empty, or does not fit the allowed range.
    InvalidNumber,
    /// Bytes that should be UTF-8 text are not.
    InvalidUtf8,
    /// A base64 string has a character outside the alphabet or bad padding.
    InvalidBase64,
    /// Input continues after a complete packet where nothing may follow.
    TrailingData,

    // ---- Engine.IO / polling payloads ------------------------------------
    /// A polling payload's framing is broken (missing separator, length
    /// longer than what remains, missing `0xFF` marker...).
    InvalidFraming,
    /// A polling payload declares an empty packet (v4 `a\x1e\x1eb`, empty body).
    EmptyPacket,

    // ---- Socket.IO -------------------------------------------------------
    /// A binary packet declares more attachments than the configured maximum.
    TooManyAttachments,
    /// A binary packet declares zero attachments (`450-[...]`).
    ZeroAttachments,
    /// A placeholder is malformed or its `num` is not an integer in range.
    InvalidPlaceholder,
    /// A text packet arrived while binary attachments were still expected.
    UnexpectedText,
    /// A binary attachment arrived while no binary packet was waiting for one.
    UnexpectedBinary,
    /// The attachments collected so far exceed the configured byte limit.
    AttachmentsTooLarge,
    /// An EVENT uses a reserved name (`connect`, `disconnect`, ...).
    ReservedEventName,
    /// The namespace is malformed.
    InvalidNamespace,

    // ---- MessagePack (feature `msgpack`) ---------------------------------
    /// The MessagePack encoding is broken or uses what the codec does not
    /// take (truncated input, a length longer than the input, a non-string
    /// map key, an extension type, the reserved marker `0xc1`).
    InvalidMsgPack(&'static str),
    /// Arrays and maps nest deeper than the codec allows.
    NestingTooDeep,

    // ---- legacy 0.9 ----------------------------------------------------
    /// A legacy packet does not match `type:id[+]:endpoint[:data]`.
    InvalidLegacyPacket,
    /// The legacy handshake line does not match `sid:heartbeat:close:transports`.
    InvalidHandshake,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        match self {
            Empty => f.write_str("empty input"),
            UnknownPacketType => f.write_str("unknown packet type"),
            InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            InvalidPayload(what) => write!(f, "invalid payload: {what}"),
            InvalidNumber => f.write_str("invalid decimal number"),
            InvalidUtf8 => f.write_str("invalid UTF-8"),
            InvalidBase64 => f.write_str("invalid base64"),
            TrailingData => f.write_str("unexpected data after the packet"),
            InvalidFraming => f.write_str("invalid payload framing"),
            EmptyPacket => f.write_str("empty packet in payload"),
            TooManyAttachments => f.write_str("too many attachments"),
            ZeroAttachments => f.write_str("binary packet with zero attachments"),
            InvalidPlaceholder => f.write_str("illegal attachment placeholder"),
            UnexpectedText => f.write_str("got plaintext data when reconstructing a packet"),
            UnexpectedBinary => f.write_str("got binary data when not reconstructing a packet"),
            AttachmentsTooLarge => f.write_str("attachments exceed the size limit"),
            ReservedEventName => f.write_str("reserved event name"),
            InvalidNamespace => f.write_str("invalid namespace"),
            InvalidMsgPack(what) => write!(f, "invalid MessagePack: {what}"),
            NestingTooDeep => f.write_str("values nest too deeply"),
            InvalidLegacyPacket => f.write_str("invalid legacy (0.9) packet"),
            InvalidHandshake => f.write_str("invalid legacy (0.9) handshake line"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

impl std::error::Error for DecodeError {}
