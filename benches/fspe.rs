//! FSPE throughput (criterion): in-place encrypt and decrypt, inspect, and
//! streaming in 64 KiB chunks, on a generated 1920x1080 photo-like JPEG and,
//! when the shared corpus is present, its largest photo
//! (`real/42_IndexError.jpg`, 4032x3024, 2.9 MB). Throughput is in input bytes.
//!
//! `cargo bench --bench fspe` (add `-- --quick` for a rough run).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jsec::crypto::Key;
use jsec::fspe::{self, Cipher, Direction, Options};

#[allow(dead_code)]
#[path = "../src/bin/jsec/scene.rs"]
mod scene;

const CHUNK: usize = 64 * 1024;

/// The generated 1920x1080 image (same landscape as `jsec demo`, quality 85, 4:2:0).
fn generated_1080p() -> Vec<u8> {
    let img = scene::landscape(1920, 1080);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    enc.encode(&img.pixels, 1920, 1080, jpeg_encoder::ColorType::Rgb)
        .expect("encode the generated benchmark image");
    out
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![("gen-1920x1080".to_string(), generated_1080p())];
    // The two files scripts/bench.sh times from the command line.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    for (name, rel) in [
        ("corpus-a1080-q85-420", "generated/jpeg/a1080-q85-420.jpg"),
        ("corpus-42_IndexError", "real/42_IndexError.jpg"),
    ] {
        match std::fs::read(root.join(rel)) {
            Ok(d) => v.push((name.to_string(), d)),
            Err(_) => eprintln!("note: {rel} not in {}; skipped", root.display()),
        }
    }
    v
}

/// Stream `data` through `stream` in 64 KiB chunks into `out`.
fn run_stream(mut stream: fspe::Stream, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    run_stream_into(&mut stream, data, out);
    let start = out.len();
    out.resize(start + stream.available(), 0);
    let n = stream.read(&mut out[start..]);
    out.truncate(start + n);
}

/// The benchmarked paths must agree: the two-pass stream produces exactly
/// what in-place encryption does.
fn check_stream_matches_in_place(cipher: &Cipher, data: &[u8]) {
    let mut expected = data.to_vec();
    cipher.encrypt(&mut expected).expect("encrypt");
    let mut digest = cipher.digest_stream();
    let mut sink = Vec::new();
    run_stream_into(&mut digest, data, &mut sink);
    let s = cipher
        .stream(Direction::Encrypt, digest.seed())
        .expect("stream");
    let mut out = Vec::new();
    run_stream(s, data, &mut out);
    assert!(out == expected, "stream and in-place encryption differ");
}

fn run_stream_into(stream: &mut fspe::Stream, data: &[u8], out: &mut Vec<u8>) {
    for chunk in data.chunks(CHUNK) {
        stream.update(chunk, out).expect("stream update");
    }
    stream.finish().expect("stream finish");
}

fn bench(c: &mut Criterion) {
    let key = Key::from_bytes(&[0x42; 32]).expect("32-byte key");
    let cipher = Cipher::new(key.clone(), Options::default()).expect("cipher");
    let nonce_cipher = Cipher::new(
        key,
        Options {
            nonce: Some([7; 16]),
            ..Options::default()
        },
    )
    .expect("cipher with nonce");

    let mut group = c.benchmark_group("fspe");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, data) in inputs() {
        check_stream_matches_in_place(&cipher, &data);
        group.throughput(Throughput::Bytes(data.len() as u64));

        // Encrypting an encrypted file is valid (it is still a JPEG), so the
        // same buffer is reused without copying.
        let mut buf = data.clone();
        group.bench_function(BenchmarkId::new("encrypt-in-place", &name), |b| {
            b.iter(|| black_box(cipher.encrypt(black_box(&mut buf)).expect("encrypt")))
        });
        let mut buf = data.clone();
        group.bench_function(BenchmarkId::new("decrypt-in-place", &name), |b| {
            b.iter(|| black_box(cipher.decrypt(black_box(&mut buf)).expect("decrypt")))
        });
        group.bench_function(BenchmarkId::new("inspect", &name), |b| {
            b.iter(|| black_box(fspe::inspect(black_box(&data)).expect("inspect")))
        });
        let mut out = Vec::with_capacity(data.len());
        // Default nonce: a digest pass for the seed, then the cipher pass.
        group.bench_function(BenchmarkId::new("stream-64k-two-pass", &name), |b| {
            b.iter(|| {
                let mut digest = cipher.digest_stream();
                let mut sink = Vec::with_capacity(CHUNK * 2);
                for chunk in data.chunks(CHUNK) {
                    sink.clear();
                    digest.update(chunk, &mut sink).expect("digest update");
                }
                digest.finish().expect("digest finish");
                let seed = digest.seed();
                let s = cipher.stream(Direction::Encrypt, seed).expect("stream");
                run_stream(s, &data, &mut out);
                black_box(&out);
            })
        });
        // Caller nonce: one pass.
        group.bench_function(BenchmarkId::new("stream-64k-nonce", &name), |b| {
            b.iter(|| {
                let s = nonce_cipher
                    .stream(Direction::Encrypt, None)
                    .expect("stream");
                run_stream(s, &data, &mut out);
                black_box(&out);
            })
        });
        // (Empty when criterion only lists the benchmarks.)
        assert!(
            out.is_empty() || out.len() == data.len(),
            "streams preserve the length"
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
