//! Known-answer vectors for the FSPE format (docs/fspe.md, "Test vectors").
//!
//! Round trips cannot notice that the ciphertext itself changed: every
//! encrypt/decrypt pair that changes together still round-trips. These
//! vectors pin the exact output of format v1 for fixed inputs, keys and
//! options, so that a change of output is caught, and so that an independent
//! implementation has something to check itself against.
//!
//! The inputs live in `tests/vectors/` (small JPEGs made by this project's own
//! test generator, committed as files so that they do not depend on the
//! encoder crate's version); `tests/vectors/fspe-v1.tsv` lists, per input and
//! option set, the SHA-256 of the encrypted file. `JSEC_BLESS_VECTORS=1 cargo
//! test --test fspe_vectors` rewrites both — only for a deliberate format
//! change, which must also bump the format version.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;

use common::{generate, Layout};
use jsec::crypto::{sha256, Key};
use jsec::fspe::{Bands, Cipher, Components, Options, Region, Rule};

/// The key of every vector: bytes 0x00, 0x01, ..., 0x1F.
const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// The vector inputs: (file name, how to make it when blessing).
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    // A JPEG with an EXIF-style thumbnail and a second JPEG after EOI, small.
    let embedded = {
        let main = generate(48, 32, Layout::S420, 85, 0, 201);
        let thumb = generate(16, 16, Layout::S420, 90, 0, 202);
        let after = generate(24, 16, Layout::S444, 85, 0, 203);
        common::embed(&main, common::TIFF_PREFIX, &thumb, b"", &after).0
    };
    // The same, but the thumbnail's second restart marker is out of
    // sequence (an error at a segment's end) and the JPEG after EOI is cut
    // inside its entropy-coded data (an error inside a segment): both are
    // encrypted up to their stop points (docs/fspe.md section 7).
    let broken = {
        let main = generate(48, 32, Layout::S420, 85, 0, 204);
        let mut thumb = generate(48, 16, Layout::S420, 90, 1, 205);
        let rst1 = thumb
            .windows(2)
            .position(|w| w == [0xFF, 0xD1])
            .expect("thumbnail has RST1");
        thumb[rst1 + 1] = 0xD3;
        let after = generate(24, 16, Layout::S444, 85, 0, 206);
        let cut = after.len() * 3 / 4;
        common::embed(&main, common::TIFF_PREFIX, &thumb, b"", &after[..cut]).0
    };
    vec![
        (
            "420-48x40-rst1.jpg",
            generate(48, 40, Layout::S420, 80, 1, 31),
        ),
        ("444-64x32.jpg", generate(64, 32, Layout::S444, 90, 0, 32)),
        (
            "gray-40x24-rst2.jpg",
            generate(40, 24, Layout::Gray, 75, 2, 33),
        ),
        ("422-embedded.jpg", embedded),
        ("420-broken-embedded.jpg", broken),
    ]
}

/// The option sets, by name.
fn option_sets() -> Vec<(&'static str, Options)> {
    let region = Region {
        x: 8,
        y: 8,
        w: 24,
        h: 16,
        outside: false,
    };
    vec![
        ("default", Options::default()),
        (
            "paper",
            Options {
                rule: Rule::Paper,
                ..Options::default()
            },
        ),
        (
            "levels",
            Options {
                levels: true,
                ..Options::default()
            },
        ),
        (
            "luma-dc-aclow",
            Options {
                components: Components::Luma,
                bands: Bands {
                    dc: true,
                    ac_low: true,
                    ac_high: false,
                },
                ..Options::default()
            },
        ),
        (
            "region",
            Options {
                region: Some(region),
                ..Options::default()
            },
        ),
        (
            "region-outside",
            Options {
                region: Some(Region {
                    outside: true,
                    ..region
                }),
                ..Options::default()
            },
        ),
        (
            "nonce",
            Options {
                nonce: Some([0x5A; 16]),
                ..Options::default()
            },
        ),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Every (input, option set) line of the table, computed now.
fn compute(inputs: &[(String, Vec<u8>)]) -> Vec<String> {
    let key = Key::from_hex(KEY_HEX).expect("key");
    let mut lines = Vec::new();
    for (name, data) in inputs {
        for (oname, opts) in option_sets() {
            let c = Cipher::new(key.clone(), opts).expect("options");
            let mut buf = data.clone();
            c.encrypt(&mut buf)
                .unwrap_or_else(|e| panic!("{name} / {oname}: {e}"));
            assert_eq!(buf.len(), data.len());
            let mut back = buf.clone();
            c.decrypt(&mut back)
                .unwrap_or_else(|e| panic!("{name} / {oname}: decrypt: {e}"));
            assert!(back == *data, "{name} / {oname}: decrypt does not restore");
            lines.push(format!(
                "{name}\t{oname}\t{}\t{}",
                hex(&sha256(&[data])),
                hex(&sha256(&[&buf]))
            ));
        }
    }
    lines
}

const HEADER: &str = "# FSPE format v1 known-answer vectors (docs/fspe.md, \"Test vectors\").
# key (32 bytes, hex): 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
# columns: input file (tests/vectors/), option set (tests/fspe_vectors.rs and
# docs/fspe.md), SHA-256 of the input, SHA-256 of the encrypted file";

#[test]
fn fspe_v1_known_answers() {
    let table = dir().join("fspe-v1.tsv");
    if std::env::var_os("JSEC_BLESS_VECTORS").is_some() {
        std::fs::create_dir_all(dir()).expect("mkdir");
        let ins: Vec<(String, Vec<u8>)> = inputs()
            .into_iter()
            .map(|(n, d)| {
                std::fs::write(dir().join(n), &d).expect("write input");
                (n.to_string(), d)
            })
            .collect();
        let mut text = HEADER.to_string();
        text.push('\n');
        for l in compute(&ins) {
            text.push_str(&l);
            text.push('\n');
        }
        std::fs::write(&table, text).expect("write table");
        return;
    }
    let text = std::fs::read_to_string(&table).expect("tests/vectors/fspe-v1.tsv");
    let want: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let mut names: Vec<String> = want
        .iter()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect();
    names.dedup();
    let ins: Vec<(String, Vec<u8>)> = names
        .iter()
        .map(|n| {
            let d = std::fs::read(dir().join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
            (n.clone(), d)
        })
        .collect();
    let got = compute(&ins);
    assert_eq!(
        got.len(),
        want.len(),
        "the table has {} vectors, the option sets give {}",
        want.len(),
        got.len()
    );
    let fails: Vec<String> = want
        .iter()
        .zip(&got)
        .filter(|(w, g)| *w != *g)
        .map(|(w, g)| format!("expected {w}\n     got {g}"))
        .collect();
    common::assert_no_failures(&fails);
}

#[test]
fn vector_inputs_are_valid_baseline_jpegs_with_additional_bits() {
    // Guards against a vector that tests nothing (no encrypted bits).
    if std::env::var_os("JSEC_BLESS_VECTORS").is_some() {
        return; // the other test is rewriting the files
    }
    for (n, _) in inputs() {
        let Ok(d) = std::fs::read(dir().join(n)) else {
            continue; // not blessed yet: fspe_v1_known_answers reports it
        };
        let r = jsec::fspe::inspect(&d).unwrap_or_else(|e| panic!("{n}: {e}"));
        let p = r.primary().expect("primary image");
        assert!(p.stats.eligible_full > 100, "{n}: too few additional bits");
    }
}
