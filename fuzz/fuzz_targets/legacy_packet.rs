#![no_main]
//! Legacy 0.9 decoders: `Packet::decode`, `decode_payload` (and every
//! frame), `Handshake::decode`. Whatever decodes is re-encoded and must
//! decode again to the same value.

use libfuzzer_sys::fuzz_target;
use socketio_sansio::wire::legacy::{decode_payload, encode_payload, Handshake, Packet};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    check_packet(input);
    if let Ok(frames) = decode_payload(input) {
        assert!(!frames.is_empty());
        for frame in &frames {
            assert!(!frame.is_empty());
            check_packet(frame);
        }
        let mut body = String::new();
        encode_payload(&frames, &mut body);
        assert_eq!(decode_payload(&body).expect("re-encoded payload"), frames);
    }
    if let Ok(hs) = Handshake::decode(input) {
        let mut line = String::new();
        hs.encode(&mut line);
        assert_eq!(Handshake::decode(&line).expect("re-encoded handshake"), hs);
    }
});

fn encode(p: &Packet) -> String {
    let mut out = String::new();
    p.encode(&mut out);
    out
}

fn check_packet(input: &str) {
    let Ok(p) = Packet::decode(input) else {
        return;
    };
    let wire = encode(&p);
    let again = Packet::decode(&wire)
        .unwrap_or_else(|e| panic!("{input:?} -> {p:?} -> {wire:?} fails: {e}"));
    let expected = normalize(p);
    if again != expected {
        // serde_json's default float parsing is not always correctly
        // rounded: allow float literals to differ in their last bits.
        assert!(
            std::mem::discriminant(&again) == std::mem::discriminant(&expected)
                && text_eq_modulo_floats(&encode(&again), &wire),
            "{input:?} -> {expected:?} -> {wire:?} -> {again:?}"
        );
    }
}

/// The documented lossy form: a data ack without args is written `6:::<id>`.
fn normalize(p: Packet) -> Packet {
    match p {
        Packet::Ack {
            endpoint,
            ack_id,
            args: Some(args),
        } if args.is_empty() => Packet::Ack {
            endpoint,
            ack_id,
            args: None,
        },
        p => p,
    }
}

/// Equal text, except that number tokens containing `.`/`e`/`E` may differ
/// if they parse (correctly rounded, by std) to nearly the same f64.
fn text_eq_modulo_floats(a: &str, b: &str) -> bool {
    fn is_num(c: u8) -> bool {
        c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if is_num(a[i]) && is_num(b[j]) {
            let si = i;
            while i < a.len() && is_num(a[i]) {
                i += 1;
            }
            let sj = j;
            while j < b.len() && is_num(b[j]) {
                j += 1;
            }
            let (x, y) = (&a[si..i], &b[sj..j]);
            if x == y {
                continue;
            }
            let float = |t: &[u8]| t.iter().any(|c| matches!(c, b'.' | b'e' | b'E'));
            let parse = |t: &[u8]| std::str::from_utf8(t).ok()?.parse::<f64>().ok();
            match (float(x) && float(y), parse(x), parse(y)) {
                (true, Some(x), Some(y)) if (x - y).abs() <= x.abs().max(y.abs()) * 1e-15 => {}
                _ => return false,
            }
        } else if a[i] == b[j] {
            i += 1;
            j += 1;
        } else {
            return false;
        }
    }
    i == a.len() && j == b.len()
}
