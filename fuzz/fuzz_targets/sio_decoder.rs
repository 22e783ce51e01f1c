#![no_main]
//! Drives one Socket.IO `Decoder` with a sequence of text and binary
//! messages cut from the fuzz input, and re-encodes every packet it decodes.
//!
//! Input format, repeated: a tag byte (low bit 0 = text, 1 = binary), a
//! length byte, then up to that many bytes of message (texts that are not
//! UTF-8 are decoded lossily). When the tag's bit 1 is set, the rest of the
//! input is one message (so long inputs such as deep JSON are reachable).
use libfuzzer_sys::fuzz_target;
use socketio_sansio::wire::sio::{Decoder, DecoderConfig, Packet};

/// True if a JSON float may be in `p` (serde_json is not a dependency of
/// this crate, so look at the `Debug` form: `Number(1.5)`). A string that
/// merely looks like one only skips the equality check.
fn packet_has_float(p: &Packet) -> bool {
    let debug = format!("{p:?}");
    debug.split("Number(").skip(1).any(|rest| {
        let number = rest.split(')').next().unwrap_or("");
        number.contains(['.', 'e', 'E'])
    })
}

/// Encodes `p` and decodes it again with a fresh decoder.
fn check_roundtrip(p: &Packet, config: DecoderConfig) {
    let mut text = String::new();
    p.encode(&mut text);
    let mut decoder = Decoder::new(config);
    let mut got = decoder.decode_text(&text).unwrap_or_else(|e| panic!("re-decode of {text:?}: {e}"));
    for b in p.attachments() {
        assert!(got.is_none());
        got = decoder.decode_binary(b.clone()).expect("attachment");
    }
    let again = got.expect("complete packet");
    // serde_json (without float_roundtrip) may move a float by one ulp.
    if !packet_has_float(p) {
        assert_eq!(&again, p, "{text}");
    }
}

fuzz_target!(|data: &[u8]| {
    let config = DecoderConfig { max_attachments: 4, max_attachment_bytes: 64 };
    let mut decoder = Decoder::new(config);
    let mut rest = data;
    while let [tag, tail @ ..] = rest {
        let (msg, next) = if tag & 2 != 0 {
            (tail, &[][..])
        } else {
            let (len, tail) = match tail {
                [len, tail @ ..] => (usize::from(*len), tail),
                [] => (0, tail),
            };
            tail.split_at(len.min(tail.len()))
        };
        rest = next;
        let result = if tag & 1 == 0 {
            decoder.decode_text(&String::from_utf8_lossy(msg))
        } else {
            decoder.decode_binary(msg.to_vec())
        };
        match result {
            Ok(Some(p)) => {
                assert!(!decoder.is_reconstructing());
                check_roundtrip(&p, config);
            }
            Ok(None) => assert!(decoder.is_reconstructing()),
            Err(e) => {
                assert!(!decoder.is_reconstructing());
                let _ = e.to_string();
            }
        }
    }
});
