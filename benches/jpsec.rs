//! JPSEC throughput (criterion) on the shared corpus's 12 MP codestream
//! (`generated/j2k/b12mp-LRCP-n6-3L.j2k`): protect (format-compliant
//! AES-256-CTR with resolution levels and HMAC-SHA-256 per resolution),
//! consume with k0, and keyless transcoding of the protected file.
//! Throughput is in input bytes. Compare with `scripts/bench-j2k.sh`,
//! which times `opj_decompress` of the same file.
//!
//! `cargo bench --bench jpsec` (add `-- --quick` for a rough run).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jsec::crypto::mac::MacAlg;
use jsec::crypto::modes::Mode;
use jsec::j2k::transcode::TranscodeOptions;
use jsec::jpsec::{
    consume, protect, ConsumeOptions, Granularity, ImageZone, JpsecKey, Levels, ProtectOptions,
    ToolSpec,
};

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/generated/j2k/b12mp-LRCP-n6-3L.j2k");
    let Ok(data) = std::fs::read(&path) else {
        eprintln!("note: {} not present; nothing to benchmark", path.display());
        return;
    };
    let key = JpsecKey::from_bytes(&[0x42; 32]).expect("32-byte key");
    let opts = ProtectOptions {
        tools: vec![
            ToolSpec::Encrypt {
                key: key.clone(),
                mode: Mode::Ctr,
                compliant: true,
                levels: Levels::Resolution(None),
                zone: ImageZone::default(),
            },
            ToolSpec::Mac {
                key: key.clone(),
                alg: MacAlg::HmacSha256,
                granularity: Granularity::Resolution,
                levels: Levels::Resolution(None),
                zone: ImageZone::default(),
            },
        ],
        iv: Some([1; 16]),
    };
    let protected = protect(&data, &opts).expect("protect the benchmark file");
    let keys = ConsumeOptions {
        keys: vec![key],
        public_keys: vec![],
    };
    let mut g = c.benchmark_group("jpsec-12mp");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("protect", |b| b.iter(|| protect(black_box(&data), &opts)));
    g.bench_function("consume", |b| {
        b.iter(|| consume(black_box(&protected), &keys))
    });
    let t = TranscodeOptions {
        reduce: 2,
        layers: None,
        tiles: None,
    };
    g.bench_function("transcode-reduce-2", |b| {
        b.iter(|| jsec::jpsec::transcode::transcode(black_box(&protected), &t))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
