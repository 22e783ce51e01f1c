//! Polling payloads: v4, v3 text and v3 binary (XHR2). The first byte picks
//! the decoder; whatever decodes is re-encoded and must decode to the same
//! packets.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socketio_sansio::wire::eio::{Data, EngineVersion, Packet, PacketType};
use socketio_sansio::wire::payload;

fuzz_target!(|input: &[u8]| {
    let Some((&selector, body)) = input.split_first() else { return };
    match selector % 4 {
        0 => {
            if let Ok(packets) = payload::decode(EngineVersion::V4, body, false) {
                let mut out = String::new();
                payload::encode_v4(&packets, &mut out);
                // Text containing \x1e cannot survive v4 framing (no escaping),
                // but decoded text never contains it.
                assert_eq!(payload::decode_v4(&out).expect("re-encoded v4 body"), packets);
            }
        }
        1 => {
            if let Ok(packets) = payload::decode(EngineVersion::V3, body, false) {
                let mut out = String::new();
                payload::encode_v3_text(&packets, &mut out);
                assert_eq!(payload::decode_v3_text(&out).expect("re-encoded v3 text body"), packets);
                let mut bin = Vec::new();
                payload::encode_v3_binary(&packets, &mut bin);
                assert_eq!(payload::decode_v3_binary(&bin).expect("re-encoded v3 binary body"), packets);
            }
        }
        2 => {
            if let Ok(packets) = payload::decode(EngineVersion::V3, body, true) {
                // Not byte for byte: leading zero digits and `b<type><base64>`
                // string parts have other canonical forms.
                let mut bin = Vec::new();
                payload::encode_v3_binary(&packets, &mut bin);
                assert_eq!(payload::decode_v3_binary(&bin).expect("re-encoded v3 binary body"), packets);
                let mut out = String::new();
                payload::encode_v3_text(&packets, &mut out);
                assert_eq!(payload::decode_v3_text(&out).expect("re-encoded v3 text body"), packets);
            }
        }
        _ => {
            // v4 binary POSTs are always refused.
            assert!(payload::decode(EngineVersion::V4, body, true).is_err());
            // Treat the body as packets to encode: alternate text/binary parts.
            let packets: Vec<Packet<'_>> = body
                .chunks(7)
                .enumerate()
                .map(|(i, chunk)| {
                    let kind = PacketType::from_u8((i % 7) as u8).unwrap_or(PacketType::Message);
                    match std::str::from_utf8(chunk) {
                        Ok(t) if i % 2 == 0 && !t.contains('\x1e') => Packet::text(kind, t),
                        _ => Packet { kind: PacketType::Message, data: Data::Binary(chunk.into()) },
                    }
                })
                .collect();
            let mut v4 = String::new();
            payload::encode_v4(&packets, &mut v4);
            if !packets.is_empty() {
                assert_eq!(payload::decode_v4(&v4).expect("encoded v4 body"), packets);
            }
            let mut v3 = String::new();
            payload::encode_v3_text(&packets, &mut v3);
            assert_eq!(payload::decode_v3_text(&v3).expect("encoded v3 text body"), packets);
        }
    }
});
