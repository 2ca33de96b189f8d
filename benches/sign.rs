//! Croppable signatures (criterion): per-cell signing and verification
//! next to the raw blst costs they are built from, measured in the same
//! run: hash to G1 plus a G1 scalar multiplication (= one BLS signature on
//! a cell-sized message) and hash to G1 alone (what verification pays per
//! cell, plus two pairings per image).
//!
//! `cargo bench --bench sign` (add `-- --quick` for a rough run). The
//! image is a generated 1024x768 4:2:0 picture: 3072 cells at g = 1.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jsec::crypto::bls::{BlsSecretKey, HashSum, DST_CROP_V1};
use jsec::jpeg::decode_coefficients;
use jsec::sign::{
    aggregate_rect, cell_message, prefix_table, sign_cells, verify_cells, CellGrid, CellRect,
};

#[allow(dead_code)]
#[path = "../src/bin/jsec/scene.rs"]
mod scene;

fn image() -> Vec<u8> {
    let img = scene::landscape(1024, 768);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    enc.encode(&img.pixels, 1024, 768, jpeg_encoder::ColorType::Rgb)
        .expect("encode the benchmark image");
    out
}

fn bench(c: &mut Criterion) {
    let jpeg = image();
    let coefs = decode_coefficients(&jpeg).unwrap();
    let grid = CellGrid::new(&coefs.frame, 1).unwrap();
    let binding = [3u8; 32];
    let sk = BlsSecretKey::from_ikm(&[9; 32], b"bench").unwrap();
    let pk = sk.public_key();
    let msg = cell_message(&coefs, &grid, &binding, 5, 5, (0, 0)).unwrap();
    let cells = grid.len();

    let mut raw = c.benchmark_group("blst-raw-per-cell");
    raw.throughput(Throughput::Elements(1));
    raw.bench_function("sign (hash to G1 + G1 mult)", |b| {
        b.iter(|| black_box(sk.sign(black_box(&msg), DST_CROP_V1)))
    });
    raw.bench_function("hash to G1", |b| {
        b.iter(|| {
            let mut h = HashSum::new();
            h.add(black_box(&msg), DST_CROP_V1);
            black_box(h)
        })
    });
    raw.finish();

    let mut g = c.benchmark_group("cells-1024x768-g1");
    g.throughput(Throughput::Elements(cells));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    for threads in [1usize, 2] {
        g.bench_with_input(
            BenchmarkId::new("sign_cells", threads),
            &threads,
            |b, &t| b.iter(|| black_box(sign_cells(&coefs, &grid, &binding, &sk, t).unwrap())),
        );
    }
    let sigs = prefix_table(
        &sign_cells(&coefs, &grid, &binding, &sk, 2).unwrap(),
        grid.cells_x,
    );
    let agg = aggregate_rect(&sigs, grid.cells_x, CellRect::all(&grid)).unwrap();
    for threads in [1usize, 2] {
        g.bench_with_input(
            BenchmarkId::new("verify_cells", threads),
            &threads,
            |b, &t| {
                b.iter(|| {
                    assert!(verify_cells(&coefs, &grid, &binding, (0, 0), &agg, &pk, t).unwrap())
                })
            },
        );
    }
    g.bench_function("aggregate_rect (keyless crop)", |b| {
        b.iter(|| black_box(aggregate_rect(&sigs, grid.cells_x, CellRect::all(&grid)).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
