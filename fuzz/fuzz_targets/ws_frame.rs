//! The WebSocket frame codec of socketio-http (RFC 6455 §5): decoding any
//! bytes never panics and reports sane lengths, and decode(encode(x)) == x
//! for every frame a client may send, with every strict prefix incomplete.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socketio_http::ws;

const MAX: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes.
    let mut raw = data.to_vec();
    if let Ok(Some((frame, used))) = ws::parse_frame(&mut raw, MAX) {
        assert!(used <= data.len());
        assert!(frame.payload.len() <= MAX);
        if frame.opcode >= ws::OP_CLOSE {
            assert!(frame.fin && frame.payload.len() <= 125);
        }
    }
    // Round trip: 1 byte of flags, 4 of mask, the rest is the payload.
    let [flags, m0, m1, m2, m3, payload @ ..] = data else {
        return;
    };
    let fin = flags & 0x80 != 0;
    let opcode = [ws::OP_CONT, ws::OP_TEXT, ws::OP_BINARY, ws::OP_CLOSE, ws::OP_PING, ws::OP_PONG]
        [usize::from(flags & 0x7F) % 6];
    let control = opcode >= ws::OP_CLOSE;
    let payload = if control { &payload[..payload.len().min(125)] } else { payload };
    let fin = fin || control;
    let mut encoded = Vec::new();
    ws::put_masked_frame(&mut encoded, fin, opcode, [*m0, *m1, *m2, *m3], payload);
    let total = encoded.len();
    let mut copy = encoded.clone();
    let (frame, used) = ws::parse_frame(&mut copy, MAX)
        .expect("a valid frame")
        .expect("a whole frame");
    assert_eq!((frame.fin, frame.opcode, &*frame.payload, used), (fin, opcode, payload, total));
    for cut in [0, 1, total / 2, total - 1] {
        let mut prefix = encoded[..cut].to_vec();
        assert_eq!(ws::parse_frame(&mut prefix, MAX), Ok(None), "prefix {cut} of {total}");
    }
    // Server frames are unmasked: a server must not accept them from a client.
    let mut server = Vec::new();
    ws::put_frame(&mut server, opcode, payload);
    if !fin {
        server[0] &= 0x7F;
    }
    assert_eq!(ws::parse_frame(&mut server, MAX).err(), Some(ws::CLOSE_PROTOCOL));
});
