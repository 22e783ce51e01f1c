//! Engine.IO codec benchmarks: polling payloads (v4, v3 text, v3 binary) and base64.
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use socketio_sansio::wire::eio::{Packet, PacketType};
use socketio_sansio::wire::{base64, payload};

/// 16 message packets like `42["message","<64 B>"]`.
fn messages() -> Vec<Packet<'static>> {
    (0..16)
        .map(|i| {
            let filler: String = std::iter::repeat(char::from(b'a' + (i % 26) as u8))
                .take(64)
                .collect();
            Packet::text(PacketType::Message, format!("2[\"message\",\"{filler}\"]"))
        })
        .collect()
}

/// A text message and two 1 KB binary messages.
fn binaries() -> Vec<Packet<'static>> {
    let kb: Vec<u8> = (0..1024u32).map(|i| (i * 7) as u8).collect();
    vec![
        Packet::text(
            PacketType::Message,
            "51-[\"upload\",{\"_placeholder\":true,\"num\":0}]",
        ),
        Packet::binary(kb.clone()),
        Packet::binary(kb),
    ]
}

fn bench_payloads(c: &mut Criterion) {
    let packets = messages();

    let mut v4 = String::new();
    payload::encode_v4(&packets, &mut v4);
    let mut group = c.benchmark_group("v4_payload_16_messages");
    group.throughput(Throughput::Bytes(v4.len() as u64));
    group.bench_function("encode", |b| {
        let mut out = String::with_capacity(v4.len());
        b.iter(|| {
            out.clear();
            payload::encode_v4(black_box(&packets), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| payload::decode_v4(black_box(&v4)).map(|p| p.len()))
    });
    group.finish();

    let mut v3 = String::new();
    payload::encode_v3_text(&packets, &mut v3);
    let mut group = c.benchmark_group("v3_text_payload_16_messages");
    group.throughput(Throughput::Bytes(v3.len() as u64));
    group.bench_function("encode", |b| {
        let mut out = String::with_capacity(v3.len());
        b.iter(|| {
            out.clear();
            payload::encode_v3_text(black_box(&packets), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| payload::decode_v3_text(black_box(&v3)).map(|p| p.len()))
    });
    group.finish();

    let bins = binaries();
    let mut body = Vec::new();
    payload::encode_v3_binary(&bins, &mut body);
    let mut group = c.benchmark_group("v3_binary_payload_2x1KB");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("encode", |b| {
        let mut out = Vec::with_capacity(body.len());
        b.iter(|| {
            out.clear();
            payload::encode_v3_binary(black_box(&bins), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| payload::decode_v3_binary(black_box(&body)).map(|p| p.len()))
    });
    group.finish();
}

fn bench_base64(c: &mut Criterion) {
    let data: Vec<u8> = (0..1024u32).map(|i| (i * 31) as u8).collect();
    let mut text = String::new();
    base64::encode(&data, &mut text);
    let mut group = c.benchmark_group("base64_1KB");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("encode", |b| {
        let mut out = String::with_capacity(text.len());
        b.iter(|| {
            out.clear();
            base64::encode(black_box(&data), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| base64::decode(black_box(&text)).map(|v| v.len()))
    });
    group.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench_payloads, bench_base64
}
criterion_main!(group);
