//! The loop's RFC 6455 frame codec (`socketio_http::ws`) against what
//! tungstenite 0.28 exposes publicly, to decide whether the in-house codec
//! stays (the numbers are in `socketio_http::ws`'s module doc).
//!
//! Decode of a masked client text frame (64 B and 4 KiB payloads), each
//! including the UTF-8 check of the text:
//! * `ours`: `ws::parse_frame`, unmasking in place in the read buffer;
//! * `tungstenite_header`: tungstenite's public `FrameHeader::parse` on a
//!   `Cursor`, then the same in-place `ws::unmask` (tungstenite's
//!   `apply_mask` is private): what switching to tungstenite's frame types
//!   could look like;
//! * `tungstenite_websocket`: `WebSocket::read` over an in-memory stream
//!   with a 4 KiB read buffer (as the blocking driver configures it), the
//!   only public tungstenite path that unmasks (its `FrameCodec` is
//!   `pub(super)` and `FrameSocket::read` leaves client payloads masked).
//!
//! Encode of an unmasked server text frame of the same sizes into a reused
//! buffer: `ours` (`ws::put_frame`) and `tungstenite` (`Frame::message` of a
//! cheaply cloned `Bytes`, then `Frame::format`).

use std::hint::black_box;
use std::io::{self, Cursor, Read, Write};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use socketio_http::ws;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

/// A stream that yields the same bytes again after each `reset`, and
/// swallows writes.
struct Feed {
    data: Vec<u8>,
    pos: usize,
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Feed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

fn bench(c: &mut Criterion) {
    for (name, len) in [("64B", 64usize), ("4KiB", 4096)] {
        let text = payload(len);
        let mut frame = Vec::new();
        ws::put_masked_frame(
            &mut frame,
            true,
            ws::OP_TEXT,
            [0x12, 0x34, 0x56, 0x78],
            &text,
        );

        let mut group = c.benchmark_group(format!("decode_masked_text_{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        let mut buf = frame.clone();
        group.bench_function("ours", |b| {
            b.iter(|| {
                buf.copy_from_slice(&frame);
                let (f, used) = ws::parse_frame(black_box(&mut buf), 1 << 20)
                    .ok()
                    .flatten()
                    .expect("a frame");
                black_box((std::str::from_utf8(f.payload).map(str::len).ok(), used))
            })
        });
        group.bench_function("tungstenite_header", |b| {
            b.iter(|| {
                buf.copy_from_slice(&frame);
                let mut cursor = Cursor::new(black_box(&buf[..]));
                let (header, n) = FrameHeader::parse(&mut cursor)
                    .ok()
                    .flatten()
                    .expect("a header");
                let start = cursor.position() as usize;
                let mask = header.mask.expect("masked");
                let payload = &mut buf[start..start + n as usize];
                ws::unmask(payload, mask);
                black_box(std::str::from_utf8(payload).map(str::len).ok())
            })
        });
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let mut socket = WebSocket::from_raw_socket(
            Feed {
                data: frame.clone(),
                pos: 0,
            },
            Role::Server,
            Some(config),
        );
        group.bench_function("tungstenite_websocket", |b| {
            b.iter(|| {
                socket.get_mut().pos = 0;
                match socket.read() {
                    Ok(Message::Text(t)) => black_box(t.len()),
                    other => panic!("{other:?}"),
                }
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("encode_text_{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        let mut out = Vec::with_capacity(len + 16);
        group.bench_function("ours", |b| {
            b.iter(|| {
                out.clear();
                ws::put_frame(&mut out, ws::OP_TEXT, black_box(&text));
                black_box(out.len())
            })
        });
        let bytes = Bytes::from(text.clone());
        group.bench_function("tungstenite", |b| {
            b.iter(|| {
                out.clear();
                Frame::message(black_box(bytes.clone()), OpCode::Data(Data::Text), true)
                    .format(&mut out)
                    .expect("format");
                black_box(out.len())
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
