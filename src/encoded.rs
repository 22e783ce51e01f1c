//! A Socket.IO packet encoded once and shared by every recipient, whatever
//! its protocol version: a broadcast serializes its JSON once, and each
//! recipient gets a cheap clone of the same frames. The text frame (`4` +
//! packet) is the same for Engine.IO v3 and v4; binary attachments differ
//! (v3 frames start with the `0x04` type byte), so the v3 form is built on
//! first use. With the MessagePack parser the packet is one binary frame
//! (Engine.IO v4 only).

use std::sync::{Arc, OnceLock};

use crate::frame::{Bytes, Frame, Text};
use crate::parser::Parser;
use crate::wire::eio::EngineVersion;
use crate::wire::sio::{self, AckId, Args};

/// An encoded Socket.IO packet: one text frame and its attachment frames.
#[derive(Debug)]
pub struct EncodedPacket {
    text: Arc<str>,
    binaries: Vec<Arc<[u8]>>,
    v3_binaries: OnceLock<Vec<Arc<[u8]>>>,
    /// The MessagePack form: the whole packet, one binary frame.
    msgpack: Option<Arc<[u8]>>,
}

impl EncodedPacket {
    /// Encodes an EVENT (BINARY_EVENT when `args` carries attachments).
    pub fn event(nsp: &str, name: &str, args: &Args, id: Option<AckId>) -> Self {
        let mut text = String::with_capacity(64);
        text.push('4');
        sio::encode_event(&mut text, nsp, id, name, &args.values, args.binaries.len());
        Self::from_parts(text, &args.binaries)
    }

    /// Encodes an EVENT with `parser` (see [`EncodedPacket::event`]).
    pub fn event_with(
        parser: Parser,
        nsp: &str,
        name: &str,
        args: &Args,
        id: Option<AckId>,
    ) -> Self {
        match parser {
            Parser::Json => Self::event(nsp, name, args, id),
            #[cfg(feature = "msgpack")]
            Parser::MsgPack => {
                let mut out = Vec::with_capacity(64);
                crate::wire::msgpack::encode_event(&mut out, nsp, id, name, args);
                EncodedPacket {
                    text: Arc::from(""),
                    binaries: Vec::new(),
                    v3_binaries: OnceLock::new(),
                    msgpack: Some(Arc::from(out)),
                }
            }
        }
    }

    /// Encodes any packet.
    pub fn packet(packet: &sio::Packet) -> Self {
        let mut text = String::with_capacity(64);
        text.push('4');
        packet.encode(&mut text);
        Self::from_parts(text, packet.attachments())
    }

    fn from_parts(text: String, binaries: &[Vec<u8>]) -> Self {
        EncodedPacket {
            text: Arc::from(text),
            binaries: binaries.iter().map(|b| Arc::from(b.as_slice())).collect(),
            v3_binaries: OnceLock::new(),
            msgpack: None,
        }
    }

    /// The text frame, `4<packet>` (empty for the MessagePack form).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Total bytes of all frames for `version`.
    pub fn len(&self, version: EngineVersion) -> usize {
        if let Some(bytes) = &self.msgpack {
            return bytes.len();
        }
        let extra = match version {
            EngineVersion::V3 => self.binaries.len(),
            EngineVersion::V4 => 0,
        };
        self.text.len() + self.binaries.iter().map(|b| b.len()).sum::<usize>() + extra
    }

    /// The frames to send to a session of `version`; cloning them copies no payload.
    pub fn frames(&self, version: EngineVersion) -> impl Iterator<Item = Frame> + '_ {
        let (text, binaries): (Option<Frame>, &[Arc<[u8]>]) = match (&self.msgpack, version) {
            // One binary frame, no text frame.
            (Some(bytes), _) => (None, std::slice::from_ref(bytes)),
            (None, EngineVersion::V4) => (
                Some(Frame::Text(Text::Shared(self.text.clone()))),
                &self.binaries,
            ),
            (None, EngineVersion::V3) => (
                Some(Frame::Text(Text::Shared(self.text.clone()))),
                self.v3_binaries.get_or_init(|| {
                    self.binaries
                        .iter()
                        .map(|b| {
                            let mut v = Vec::with_capacity(b.len() + 1);
                            v.push(4u8);
                            v.extend_from_slice(b);
                            Arc::from(v)
                        })
                        .collect()
                }),
            ),
        };
        text.into_iter().chain(
            binaries
                .iter()
                .map(|b| Frame::Binary(Bytes::Shared(b.clone()))),
        )
    }
}

/// The frames of a packet for one recipient (no sharing needed).
pub(crate) fn unicast_frames(
    version: EngineVersion,
    text: String,
    binaries: Vec<Vec<u8>>,
) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(1 + binaries.len());
    frames.push(Frame::text(text));
    for b in binaries {
        let bytes = match version {
            EngineVersion::V4 => b,
            EngineVersion::V3 => {
                let mut v = Vec::with_capacity(b.len() + 1);
                v.push(4u8);
                v.extend_from_slice(&b);
                v
            }
        };
        frames.push(Frame::Binary(Bytes::Owned(bytes)));
    }
    frames
}
