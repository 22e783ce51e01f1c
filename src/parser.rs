//! The Socket.IO parser a server or client uses: the default JSON format
//! ([`crate::wire::sio`]) or, with the `msgpack` feature, MessagePack
//! (`crate::wire::msgpack`, the npm `socket.io-msgpack-parser`).
//!
//! As in Node, one parser serves all clients of a server: the peer must use
//! the same one. MessagePack is defined for Socket.IO rev 5 (Engine.IO v4)
//! only: a server with [`Parser::MsgPack`] refuses Engine.IO v3 handshakes
//! (400, `Unsupported protocol version`) and does not serve Socket.IO 0.9.

use crate::frame::Frame;
use crate::wire::eio::EngineVersion;
use crate::wire::sio::{self, AckId, Args, DecoderConfig, Packet};
use crate::wire::DecodeError;

/// Which Socket.IO packet format a server or client speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Parser {
    /// The default format: text packets with JSON, binaries as attachments.
    #[default]
    Json,
    /// `socket.io-msgpack-parser`: one MessagePack map per packet, sent as
    /// one binary message (Engine.IO v4 only). Feature `msgpack`.
    #[cfg(feature = "msgpack")]
    MsgPack,
}

impl Parser {
    /// True if sessions of Engine.IO `version` can use this parser.
    #[cfg_attr(not(feature = "msgpack"), allow(unused_variables))]
    pub fn supports(self, version: EngineVersion) -> bool {
        match self {
            Parser::Json => true,
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => version == EngineVersion::V4,
        }
    }
}

impl std::str::FromStr for Parser {
    type Err = String;

    /// `json`, or `msgpack` (with the feature).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Parser::Json),
            #[cfg(feature = "msgpack")]
            "msgpack" => Ok(Parser::MsgPack),
            other => Err(format!("unknown parser {other:?}")),
        }
    }
}

/// The inbound half of a parser, one per connection.
#[derive(Debug)]
pub(crate) enum PacketDecoder {
    Json(sio::Decoder),
    #[cfg(feature = "msgpack")]
    MsgPack(DecoderConfig),
}

impl PacketDecoder {
    pub(crate) fn new(parser: Parser, config: DecoderConfig) -> Self {
        match parser {
            Parser::Json => PacketDecoder::Json(sio::Decoder::new(config)),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => PacketDecoder::MsgPack(config),
        }
    }

    /// One text message (`Ok(None)`: attachments are expected next).
    pub(crate) fn decode_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        match self {
            PacketDecoder::Json(d) => d.decode_text(text),
            // MessagePack packets are binary messages only.
            #[cfg(feature = "msgpack")]
            PacketDecoder::MsgPack(_) => {
                let _ = text;
                Err(DecodeError::new(
                    crate::wire::DecodeErrorKind::UnexpectedText,
                    0,
                ))
            }
        }
    }

    /// One binary message.
    pub(crate) fn decode_binary(&mut self, data: Vec<u8>) -> Result<Option<Packet>, DecodeError> {
        match self {
            PacketDecoder::Json(d) => d.decode_binary(data),
            #[cfg(feature = "msgpack")]
            PacketDecoder::MsgPack(config) => crate::wire::msgpack::decode(&data, config).map(Some),
        }
    }
}

/// The frames of an EVENT for one session of `version`.
pub(crate) fn event_frames(
    parser: Parser,
    version: EngineVersion,
    nsp: &str,
    id: Option<AckId>,
    name: &str,
    args: Args,
) -> Vec<Frame> {
    match parser {
        Parser::Json => {
            let mut text = String::with_capacity(32 + name.len());
            text.push('4');
            sio::encode_event(&mut text, nsp, id, name, &args.values, args.binaries.len());
            crate::encoded::unicast_frames(version, text, args.binaries)
        }
        #[cfg(feature = "msgpack")]
        Parser::MsgPack => {
            let mut out = Vec::with_capacity(64);
            crate::wire::msgpack::encode_event(&mut out, nsp, id, name, &args);
            vec![Frame::Binary(crate::frame::Bytes::Owned(out))]
        }
    }
}

/// The frames of an ACK for one session of `version`.
pub(crate) fn ack_frames(
    parser: Parser,
    version: EngineVersion,
    nsp: &str,
    id: AckId,
    args: Args,
) -> Vec<Frame> {
    match parser {
        Parser::Json => {
            let mut text = String::with_capacity(32);
            text.push('4');
            sio::encode_ack(&mut text, nsp, id, &args.values, args.binaries.len());
            crate::encoded::unicast_frames(version, text, args.binaries)
        }
        #[cfg(feature = "msgpack")]
        Parser::MsgPack => {
            let mut out = Vec::with_capacity(64);
            crate::wire::msgpack::encode_ack(&mut out, nsp, id, &args);
            vec![Frame::Binary(crate::frame::Bytes::Owned(out))]
        }
    }
}

/// The frames of any packet for one session of `version`.
pub(crate) fn packet_frames(parser: Parser, version: EngineVersion, packet: Packet) -> Vec<Frame> {
    match parser {
        Parser::Json => {
            let mut text = String::with_capacity(32);
            text.push('4');
            packet.encode(&mut text);
            let binaries = match packet.body {
                sio::Body::Event(e) => e.args.binaries,
                sio::Body::Ack(a) => a.args.binaries,
                _ => Vec::new(),
            };
            crate::encoded::unicast_frames(version, text, binaries)
        }
        #[cfg(feature = "msgpack")]
        Parser::MsgPack => {
            let mut out = Vec::with_capacity(64);
            crate::wire::msgpack::encode(&packet, &mut out);
            vec![Frame::Binary(crate::frame::Bytes::Owned(out))]
        }
    }
}
