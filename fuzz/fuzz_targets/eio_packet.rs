//! Engine.IO single packets: text and binary frames, both versions, plus
//! base64 and the open-packet JSON. Whatever decodes must re-encode to
//! something that decodes to the same packet.
#![no_main]
use libfuzzer_sys::fuzz_target;
use socketio_sansio::wire::eio::{
    decode_binary, decode_text, encode_binary_frame, encode_text, Data, EngineVersion, OpenPacket,
};
use socketio_sansio::wire::base64;

fuzz_target!(|data: &[u8]| {
    for version in [EngineVersion::V3, EngineVersion::V4] {
        if let Ok(packet) = decode_binary(version, data) {
            let Data::Binary(bytes) = &packet.data else { panic!("binary frame decoded as text") };
            let mut frame = Vec::new();
            encode_binary_frame(version, packet.kind, bytes, &mut frame);
            assert_eq!(frame, data, "binary frame does not re-encode byte for byte");
        }
        if let Ok(text) = std::str::from_utf8(data) {
            match decode_text(version, text) {
                Ok(packet) => {
                    let mut again = String::new();
                    encode_text(version, &packet, &mut again);
                    let redecoded = decode_text(version, &again).expect("re-encoded packet must decode");
                    assert_eq!(redecoded, packet);
                }
                Err(e) => assert!(e.offset <= text.len()),
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = base64::decode(text) {
            // Strict decoding: the only accepted form is the canonical one
            // (modulo optional padding).
            let mut again = String::new();
            base64::encode(&bytes, &mut again);
            assert_eq!(again.trim_end_matches('='), text.trim_end_matches('='));
        }
        if let Ok(open) = OpenPacket::decode_json(text) {
            let mut json = String::new();
            open.encode_json(&mut json);
            assert_eq!(OpenPacket::decode_json(&json).expect("re-encoded open packet"), open);
        }
    }
});
