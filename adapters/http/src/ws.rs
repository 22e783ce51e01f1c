//! A minimal WebSocket frame codec (RFC 6455 §5), server side first, working on
//! borrowed buffers: client frames are parsed (and unmasked in place) from
//! whatever the driver read, server frames are encoded straight into the
//! connection's output buffer. No per-connection read buffer: only a frame
//! that arrived incompletely is copied aside (by the caller).
//!
//! ## Why not tungstenite's frame types
//!
//! The drivers already depend on tungstenite 0.28, so the question was
//! whether this codec earns its place. Measured with
//! `cargo bench -p socketio-mio --bench ws_codec` (criterion, one core of a
//! shared 2-core machine; decode includes the UTF-8 check of the text):
//!
//! | operation | this codec | tungstenite `FrameHeader::parse` + this unmask | tungstenite `WebSocket::read` (4 KiB buffer) |
//! |---|---|---|---|
//! | decode masked text, 64 B | 11.8 ns | 18.0 ns | 93.0 ns |
//! | decode masked text, 4 KiB | 182 ns | 198 ns | 368 ns |
//!
//! | operation | this codec (`put_frame`) | tungstenite `Frame::message` + `Frame::format` |
//! |---|---|---|
//! | encode text, 64 B | 3.7 ns | 23.9 ns |
//! | encode text, 4 KiB | 32 ns | 55 ns |
//!
//! The reason it stays is mostly the API, not the nanoseconds: tungstenite
//! 0.28 has no public in-memory decoder that unmasks. Its `FrameCodec` is
//! `pub(super)`, `FrameSocket::read` returns client payloads still masked,
//! and its mask function is private; the only public path that unmasks is
//! `WebSocket<Stream>`, which owns the stream and a read buffer per
//! connection (the event loop reads every socket into one shared scratch
//! buffer, so an idle connection holds none) and is 2× (4 KiB) to 8× (64 B)
//! slower. Using only the public `FrameHeader` would replace the ~20 lines
//! of length parsing and keep everything else here (unmasking, the control
//! frame and opcode rules; fragment assembly is the caller's), for +6 ns a
//! frame. The codec is covered by unit tests and the `ws_frame` cargo-fuzz
//! target (`fuzz/fuzz_targets/ws_frame.rs`: decoding never panics, and
//! decode(encode(x)) == x).

/// Opcode of a continuation frame (RFC 6455 §5.2).
pub const OP_CONT: u8 = 0x0;
/// Opcode of a text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// Close code: protocol error (RFC 6455 §7.4.1).
pub const CLOSE_PROTOCOL: u16 = 1002;
/// Close code: invalid payload data (e.g. text that is not UTF-8).
pub const CLOSE_INVALID_DATA: u16 = 1007;
/// Close code: message too big.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// One complete client frame, unmasked, borrowed from the read buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// The FIN bit: last frame of a message.
    pub fin: bool,
    /// The opcode (`OP_*`).
    pub opcode: u8,
    /// The payload, unmasked in place.
    pub payload: &'a mut [u8],
}

/// Parses one frame from the front of `buf`. `Ok(None)`: incomplete (need
/// more bytes); `Ok(Some((frame, consumed)))`; `Err(close code)` for a
/// protocol violation.
pub fn parse_frame(
    buf: &mut [u8],
    max_payload: usize,
) -> Result<Option<(RawFrame<'_>, usize)>, u16> {
    parse(buf, max_payload, true)
}

/// Parses one *server* frame (unmasked, RFC 6455 §5.1) from the front of
/// `buf`, for client tools such as the load generator: the same results as
/// [`parse_frame`], but a masked frame is the protocol error.
pub fn parse_server_frame(
    buf: &mut [u8],
    max_payload: usize,
) -> Result<Option<(RawFrame<'_>, usize)>, u16> {
    parse(buf, max_payload, false)
}

fn parse(
    buf: &mut [u8],
    max_payload: usize,
    masked: bool,
) -> Result<Option<(RawFrame<'_>, usize)>, u16> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let b0 = buf[0];
    let b1 = buf[1];
    if b0 & 0x70 != 0 {
        return Err(CLOSE_PROTOCOL); // RSV bits without an extension
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    if (b1 & 0x80 != 0) != masked {
        return Err(CLOSE_PROTOCOL); // client frames masked, server frames not
    }
    let (len, mut pos) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (n as u64, 2),
    };
    match opcode {
        OP_CONT | OP_TEXT | OP_BINARY => {
            if len > max_payload as u64 {
                return Err(CLOSE_TOO_BIG);
            }
        }
        OP_CLOSE | OP_PING | OP_PONG => {
            if len > 125 || !fin {
                return Err(CLOSE_PROTOCOL);
            }
        }
        _ => return Err(CLOSE_PROTOCOL),
    }
    let len = len as usize;
    let mut mask = None;
    if masked {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        mask = Some([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]]);
        pos += 4;
    }
    if buf.len() - pos < len {
        return Ok(None);
    }
    let payload = &mut buf[pos..pos + len];
    if let Some(mask) = mask {
        unmask(payload, mask);
    }
    Ok(Some((
        RawFrame {
            fin,
            opcode,
            payload,
        },
        pos + len,
    )))
}

/// XORs `data` with the 4-byte mask (RFC 6455 §5.3), 8 bytes at a time;
/// masking and unmasking are the same operation.
pub fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let m32 = u32::from_ne_bytes(mask) as u64;
    let m64 = m32 | (m32 << 32);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        let v = u64::from_ne_bytes(b) ^ m64;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Appends an unmasked server frame header for a payload of `len` bytes.
pub fn put_header(out: &mut Vec<u8>, opcode: u8, len: usize) {
    let b0 = 0x80 | opcode;
    if len < 126 {
        out.extend_from_slice(&[b0, len as u8]);
    } else if len <= u16::MAX as usize {
        let l = (len as u16).to_be_bytes();
        out.extend_from_slice(&[b0, 126, l[0], l[1]]);
    } else {
        out.extend_from_slice(&[b0, 127]);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// Appends a whole server frame.
pub fn put_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.reserve(payload.len() + 10);
    put_header(out, opcode, payload.len());
    out.extend_from_slice(payload);
}

/// Appends a close frame with `code` (none: empty payload).
pub fn put_close(out: &mut Vec<u8>, code: Option<u16>) {
    match code {
        Some(c) => put_frame(out, OP_CLOSE, &c.to_be_bytes()),
        None => put_frame(out, OP_CLOSE, &[]),
    }
}

/// Appends a masked (client) frame: what [`parse_frame`] reads. For tests,
/// benches, fuzzing and client tools; a server never masks.
pub fn put_masked_frame(out: &mut Vec<u8>, fin: bool, opcode: u8, mask: [u8; 4], payload: &[u8]) {
    let start = out.len();
    put_header(out, opcode, payload.len());
    if !fin {
        out[start] &= 0x7F;
    }
    out[start + 1] |= 0x80;
    out.extend_from_slice(&mask);
    let at = out.len();
    out.extend_from_slice(payload);
    unmask(&mut out[at..], mask);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_masked_frame(&mut out, fin, opcode, [1, 2, 3, 4], payload);
        out
    }

    #[test]
    fn masked_frames_match_a_hand_made_one() {
        // RFC 6455 §5.7: a masked "Hello".
        let mut out = Vec::new();
        put_masked_frame(&mut out, true, OP_TEXT, [0x37, 0xfa, 0x21, 0x3d], b"Hello");
        assert_eq!(
            out,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        let (f, used) = parse_frame(&mut out, 100).unwrap().unwrap();
        assert_eq!(
            (f.fin, f.opcode, &*f.payload, used),
            (true, OP_TEXT, &b"Hello"[..], 11)
        );
    }

    #[test]
    fn parses_masked_frames_of_every_length_form() {
        for len in [0usize, 5, 125, 126, 1000, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut raw = client_frame(OP_BINARY, true, &payload);
            raw.extend_from_slice(b"rest");
            let total = raw.len();
            let (f, used) = parse_frame(&mut raw, 1 << 20).unwrap().unwrap();
            assert!(f.fin);
            assert_eq!(f.opcode, OP_BINARY);
            assert_eq!(&f.payload[..], &payload[..]);
            assert_eq!(used, total - 4);
            // every strict prefix is incomplete
            let mut raw = client_frame(OP_BINARY, true, &payload);
            for cut in [0, 1, raw.len() - 1] {
                assert!(parse_frame(&mut raw[..cut], 1 << 20).unwrap().is_none());
            }
        }
    }

    #[test]
    fn parses_server_frames_and_refuses_masked_ones() {
        for len in [0usize, 5, 125, 126, 65535, 65536] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut raw = Vec::new();
            put_frame(&mut raw, OP_TEXT, &payload);
            let total = raw.len();
            let (f, used) = parse_server_frame(&mut raw, 1 << 20).unwrap().unwrap();
            assert_eq!(
                (f.fin, f.opcode, &f.payload[..], used),
                (true, OP_TEXT, &payload[..], total)
            );
            assert!(parse_server_frame(&mut raw[..total - 1], 1 << 20)
                .unwrap()
                .is_none());
        }
        let mut masked = client_frame(OP_TEXT, true, b"a");
        assert_eq!(
            parse_server_frame(&mut masked, 100).err(),
            Some(CLOSE_PROTOCOL)
        );
    }

    #[test]
    fn refuses_unmasked_rsv_oversized_and_bad_control_frames() {
        let mut unmasked = vec![0x81, 0x01, b'a'];
        assert_eq!(parse_frame(&mut unmasked, 100).err(), Some(CLOSE_PROTOCOL));
        let mut rsv = client_frame(OP_TEXT, true, b"a");
        rsv[0] |= 0x40;
        assert_eq!(parse_frame(&mut rsv, 100).err(), Some(CLOSE_PROTOCOL));
        let mut big = client_frame(OP_TEXT, true, &[b'a'; 200]);
        assert_eq!(parse_frame(&mut big, 100).err(), Some(CLOSE_TOO_BIG));
        let mut ping = client_frame(OP_PING, false, b"x");
        assert_eq!(parse_frame(&mut ping, 100).err(), Some(CLOSE_PROTOCOL));
        let mut op = client_frame(0x3, true, b"x");
        assert_eq!(parse_frame(&mut op, 100).err(), Some(CLOSE_PROTOCOL));
    }

    #[test]
    fn encodes_headers() {
        let mut out = Vec::new();
        put_frame(&mut out, OP_TEXT, b"hi");
        assert_eq!(out, [0x81, 2, b'h', b'i']);
        out.clear();
        put_header(&mut out, OP_BINARY, 300);
        assert_eq!(out, [0x82, 126, 1, 44]);
        out.clear();
        put_header(&mut out, OP_TEXT, 70000);
        assert_eq!(out[..2], [0x81, 127]);
        assert_eq!(out.len(), 10);
    }
}
