//! Socket.IO codec throughput, each case next to bare serde_json on the same
//! JSON (`from_str::<Value>` for decode, `to_string` for encode).
//!
//! `cargo bench --bench sio_codec -- --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};
use socketio_sansio::wire::binary::placeholder;
use socketio_sansio::wire::sio::{Args, Body, Decoder, Event, Packet};

/// One benchmark case: the Socket.IO text, its JSON part and attachments.
struct Case {
    name: &'static str,
    packet: Packet,
    text: String,
    json: String,
    json_value: Value,
}

fn case(name: &'static str, event: &str, values: Vec<Value>, binaries: Vec<Vec<u8>>) -> Case {
    let packet = Packet {
        nsp: "/".to_owned(),
        body: Body::Event(Event {
            name: event.to_owned(),
            args: Args {
                values: values.clone(),
                binaries,
            },
            id: None,
        }),
    };
    let mut text = String::new();
    packet.encode(&mut text);
    let mut all = vec![Value::String(event.to_owned())];
    all.extend(values);
    let json_value = Value::Array(all);
    let json = serde_json::to_string(&json_value).unwrap();
    assert!(text.ends_with(&json));
    Case {
        name,
        packet,
        text,
        json,
        json_value,
    }
}

fn object_4k() -> Value {
    let users: Vec<Value> = (0..28)
        .map(|i| {
            json!({
                "id": i,
                "name": format!("user number {i}"),
                "email": format!("user{i}@example.com"),
                "active": i % 2 == 0,
                "score": f64::from(i) * 1.25,
                "tags": ["alpha", "beta", "gamma"],
                "note": "line\nwith \"quotes\""
            })
        })
        .collect();
    json!({"room": "lobby", "users": users})
}

fn cases() -> Vec<Case> {
    let small = "x".repeat(64);
    let object = object_4k();
    vec![
        case("message_64B", "message", vec![json!(small)], vec![]),
        case("object_4KB", "update", vec![object], vec![]),
        case(
            "binary_2x1KB",
            "message",
            vec![placeholder(0), placeholder(1)],
            vec![vec![0xab; 1024], vec![0xcd; 1024]],
        ),
    ]
}

fn benches(c: &mut Criterion) {
    for case in cases() {
        let mut group = c.benchmark_group(format!("sio/{}", case.name));
        group.throughput(Throughput::Bytes(case.json.len() as u64));
        let attachments = case.packet.attachments().to_vec();

        group.bench_function("decode", |b| {
            let mut decoder = Decoder::default();
            if attachments.is_empty() {
                b.iter(|| black_box(decoder.decode_text(black_box(&case.text)).unwrap()))
            } else {
                // Attachments arrive as owned frames: their copies are made
                // outside the timed part.
                b.iter_batched(
                    || attachments.clone(),
                    |bins| {
                        let mut got = decoder.decode_text(black_box(&case.text)).unwrap();
                        for bin in bins {
                            got = decoder.decode_binary(bin).unwrap();
                        }
                        black_box(got.unwrap())
                    },
                    BatchSize::SmallInput,
                )
            }
        });
        group.bench_function("serde_json_from_str", |b| {
            b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&case.json)).unwrap()))
        });
        group.bench_function("encode", |b| {
            b.iter(|| {
                let mut out = String::new();
                black_box(&case.packet).encode(&mut out);
                black_box(out)
            })
        });
        group.bench_function("encode_reused_buffer", |b| {
            let mut out = String::new();
            b.iter(|| {
                out.clear();
                black_box(&case.packet).encode(&mut out);
                black_box(out.len())
            })
        });
        group.bench_function("serde_json_to_string", |b| {
            b.iter(|| black_box(serde_json::to_string(black_box(&case.json_value)).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(group, benches);
criterion_main!(group);
