//! Outbound frames: one Engine.IO packet each, ready for a WebSocket message
//! (or for the polling payload encoder). Broadcast frames are shared, so a
//! frame is either owned or reference-counted; cloning a shared frame copies
//! no payload.

use std::ops::Deref;
use std::sync::Arc;

/// Text of a frame: owned (unicast) or shared (broadcast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// Built for one recipient.
    Owned(String),
    /// Shared by every recipient of a broadcast.
    Shared(Arc<str>),
}

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            Text::Shared(s) => s,
        }
    }

    /// The text as an owned `String` (copies a shared text).
    pub fn into_string(self) -> String {
        match self {
            Text::Owned(s) => s,
            Text::Shared(s) => s.as_ref().to_owned(),
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// Bytes of a binary frame: owned (unicast) or shared (broadcast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bytes {
    /// Built for one recipient.
    Owned(Vec<u8>),
    /// Shared by every recipient of a broadcast.
    Shared(Arc<[u8]>),
}

impl Bytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Owned(b) => b,
            Bytes::Shared(b) => b,
        }
    }

    /// The bytes as an owned `Vec` (copies shared bytes).
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Bytes::Owned(b) => b,
            Bytes::Shared(b) => b.as_ref().to_vec(),
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

/// One outbound Engine.IO packet in its WebSocket form: a text frame
/// (`<type digit><data>`, e.g. `42["hi"]`) or a binary frame (v4: the raw
/// attachment; v3: `0x04` then the attachment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A WebSocket text message.
    Text(Text),
    /// A WebSocket binary message.
    Binary(Bytes),
}

impl Frame {
    /// A text frame owned by one recipient.
    pub fn text(s: String) -> Self {
        Frame::Text(Text::Owned(s))
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text, if this is a text frame.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Frame::Text(t) => Some(t),
            Frame::Binary(_) => None,
        }
    }

    /// The bytes, if this is a binary frame.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Frame::Text(_) => None,
            Frame::Binary(b) => Some(b),
        }
    }
}
