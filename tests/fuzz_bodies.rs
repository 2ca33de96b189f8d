//! Runs the bodies of the fuzz targets (tests/common/fuzz_bodies.rs, shared
//! with fuzz/fuzz_targets) over the seed corpus and 2000 seeded mutations,
//! so they run on stable in every CI run. With `JSEC_FUZZ_SEEDS_DIR` set,
//! also writes the seeds there (one sub-directory per target); see
//! fuzz/README.md.

#[path = "common/fuzz_bodies.rs"]
mod bodies;
mod common;

use common::{generate, generate_opt, Layout, Rng};

/// Small generated JPEGs covering every layout, restart intervals,
/// optimized tables and embedded images.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        (
            "420-16x16".to_string(),
            generate(16, 16, Layout::S420, 75, 0, 1),
        ),
        (
            "444-24x8-rst1".into(),
            generate(24, 8, Layout::S444, 85, 1, 2),
        ),
        (
            "422-17x9-rst2".into(),
            generate(17, 9, Layout::S422, 60, 2, 3),
        ),
        ("gray-8x8".into(), generate(8, 8, Layout::Gray, 90, 0, 4)),
        ("gray-1x1".into(), generate(1, 1, Layout::Gray, 75, 0, 5)),
        ("440-9x17".into(), generate(9, 17, Layout::S440, 80, 0, 6)),
        ("411-33x8".into(), generate(33, 8, Layout::S411, 80, 0, 7)),
        (
            "cmyk-16x16".into(),
            generate(16, 16, Layout::Cmyk, 80, 0, 8),
        ),
        (
            "420-opt-16x16".into(),
            generate_opt(16, 16, Layout::S420, 95, 0, true, 9),
        ),
        (
            "420-q100-8x8".into(),
            generate(8, 8, Layout::S420, 100, 0, 10),
        ),
    ];
    // Thumbnail in APP1 and an image after EOI, kept small.
    let main = generate(24, 16, Layout::S420, 80, 0, 11);
    let thumb = generate(8, 8, Layout::Gray, 80, 0, 12);
    let after = generate(8, 8, Layout::S444, 80, 0, 13);
    let (f, _, _) = common::embed(&main, b"Exif\0\0", &thumb, b"", &after);
    v.push(("embedded".into(), f));
    // EXIF with GPS, identity and date fields and an IFD1 thumbnail.
    v.push(("exif-be".into(), common::exif::photo(true, 14)));
    v.push(("exif-le".into(), common::exif::photo(false, 15)));
    v
}

const DICT: &[&[u8]] = &[
    b"\xFF\xD8",
    b"\xFF\xD9",
    b"\xFF\xC0",
    b"\xFF\xC1",
    b"\xFF\xC2",
    b"\xFF\xC4",
    b"\xFF\xDA",
    b"\xFF\xDB",
    b"\xFF\xDD",
    b"\xFF\xD0",
    b"\xFF\xD7",
    b"\xFF\xE1",
    b"\xFF\x00",
    b"\xFF\xFF",
    b"\xFF\xD8\xFF\xE0",
    b"Exif\0\0",
    b"MM\0\x2a",
    b"II\x2a\0",
    b"\x88\x25",
    b"\x87\x69",
    b"\x00\x00",
    b"\xFF",
];

fn mutate(rng: &mut Rng, seeds: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut x = seeds[rng.below(seeds.len())].1.clone();
    for _ in 0..rng.range(1, 5) {
        if x.is_empty() {
            x.extend_from_slice(DICT[rng.below(DICT.len())]);
            continue;
        }
        let i = rng.below(x.len());
        match rng.below(9) {
            0 => x[i] ^= 1 << rng.below(8),
            1 => x[i] = rng.byte(),
            2 => x[i] = if rng.below(2) == 0 { 0xFF } else { 0x00 },
            3 => {
                let n = rng.range(1, 16).min(x.len() - i);
                x.drain(i..i + n);
            }
            4 => {
                let d = DICT[rng.below(DICT.len())];
                x.splice(i..i, d.iter().copied());
            }
            5 => x.truncate(i),
            6 => {
                // Duplicate a range.
                let n = rng.range(1, 64).min(x.len() - i);
                let part = x[i..i + n].to_vec();
                let j = rng.below(x.len());
                x.splice(j..j, part);
            }
            7 => {
                // Splice with another seed.
                let other = &seeds[rng.below(seeds.len())].1;
                let j = rng.below(other.len());
                x.truncate(i);
                x.extend_from_slice(&other[j..]);
            }
            _ => {
                // Change a big-endian length or dimension field.
                if i + 1 < x.len() {
                    let v = u16::from_be_bytes([x[i], x[i + 1]]);
                    let nv = match rng.below(4) {
                        0 => v.wrapping_add(1),
                        1 => v.wrapping_sub(1),
                        2 => 0,
                        _ => 0xFFFF,
                    };
                    x[i..i + 2].copy_from_slice(&nv.to_be_bytes());
                }
            }
        }
    }
    x
}

fn run_all(x: &[u8]) {
    bodies::exif(x);
    bodies::inspect(x);
    bodies::walker_coefficients(x);
    bodies::roundtrip(x);
    bodies::stream_chunks(x);
}

#[test]
fn fuzz_bodies_on_seeds() {
    let seeds = seeds();
    if let Some(dir) = std::env::var_os("JSEC_FUZZ_SEEDS_DIR") {
        let dir = std::path::PathBuf::from(dir);
        for t in [
            "inspect",
            "walker_coefficients",
            "roundtrip",
            "stream_chunks",
            "sign_session",
            "exif",
        ] {
            std::fs::create_dir_all(dir.join(t)).unwrap();
            for (name, d) in &seeds {
                std::fs::write(dir.join(t).join(format!("{name}.jpg")), d).unwrap();
            }
        }
        eprintln!(
            "wrote {} seeds per target to {}",
            seeds.len(),
            dir.display()
        );
    }
    for (name, d) in &seeds {
        // Every seed is a valid file: it must encrypt.
        assert!(jsec::fspe::inspect(d).is_ok(), "seed {name} rejected");
        let c = jsec::fspe::Cipher::new(common::key(7), Default::default()).unwrap();
        let mut enc = d.clone();
        c.encrypt(&mut enc)
            .unwrap_or_else(|e| panic!("seed {name} does not encrypt: {e}"));
        assert_ne!(&enc, d, "seed {name}: encryption changed nothing");
        run_all(d);
    }
}

#[test]
fn fuzz_bodies_on_2000_mutations() {
    let seeds = seeds();
    let mut rng = Rng::new(0xF022);
    for case in 0..2000 {
        let x = mutate(&mut rng, &seeds);
        let r = std::panic::catch_unwind(|| run_all(&x));
        if r.is_err() {
            let path = std::env::temp_dir().join(format!("jsec-fuzz-case-{case}.jpg"));
            let _ = std::fs::write(&path, &x);
            panic!(
                "mutation case {case} failed; input saved to {}",
                path.display()
            );
        }
    }
}

/// Signed files (full and cropped record), for the `sign_record` target.
fn signed_seeds() -> Vec<(String, Vec<u8>)> {
    use jsec::sign::{attach, sign_jpeg, SignOptions};
    let sk = jsec::crypto::bls::BlsSecretKey::from_ikm(&[0x5A; 32], b"fuzz").unwrap();
    let mut v = Vec::new();
    for (name, img, g) in [
        ("420-32x16", generate(32, 16, Layout::S420, 80, 0, 21), 1),
        ("gray-20x12", generate(20, 12, Layout::Gray, 80, 0, 22), 1),
        ("444-24x24-g2", generate(24, 24, Layout::S444, 80, 1, 23), 2),
    ] {
        let full = sign_jpeg(
            &img,
            &sk,
            &SignOptions {
                granularity: g,
                threads: 0,
            },
        )
        .unwrap();
        // A "crop" that keeps everything gives a cropped record.
        let cropped = attach(&full, &img, 0).unwrap();
        v.push((format!("signed-{name}"), full));
        v.push((format!("cropped-{name}"), cropped));
    }
    v
}

#[test]
fn sign_record_on_seeds_and_1000_mutations() {
    let seeds = signed_seeds();
    let pk = jsec::crypto::bls::BlsSecretKey::from_ikm(&[0x5A; 32], b"fuzz")
        .unwrap()
        .public_key();
    if let Some(dir) = std::env::var_os("JSEC_FUZZ_SEEDS_DIR") {
        let dir = std::path::PathBuf::from(dir).join("sign_record");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, d) in &seeds {
            std::fs::write(dir.join(format!("{name}.jpg")), d).unwrap();
        }
    }
    for (name, d) in &seeds {
        assert!(
            jsec::sign::verify_jpeg(d, &pk, 0).is_ok(),
            "seed {name} does not verify"
        );
        bodies::sign_record(d);
    }
    let mut rng = Rng::new(0x5167);
    for case in 0..1000 {
        let x = mutate(&mut rng, &seeds);
        if std::panic::catch_unwind(|| bodies::sign_record(&x)).is_err() {
            let path = std::env::temp_dir().join(format!("jsec-fuzz-sign-{case}.jpg"));
            let _ = std::fs::write(&path, &x);
            panic!(
                "mutation case {case} failed; input saved to {}",
                path.display()
            );
        }
    }
}

#[test]
fn sign_session_on_seeds_and_500_mutations() {
    let seeds = seeds();
    for (_, d) in &seeds {
        bodies::sign_session(d);
    }
    let mut rng = Rng::new(0x5E55);
    for case in 0..500 {
        let x = mutate(&mut rng, &seeds);
        if std::panic::catch_unwind(|| bodies::sign_session(&x)).is_err() {
            let path = std::env::temp_dir().join(format!("jsec-fuzz-session-{case}.jpg"));
            let _ = std::fs::write(&path, &x);
            panic!(
                "mutation case {case} failed; input saved to {}",
                path.display()
            );
        }
    }
}

#[test]
fn longterm_keys_on_real_keys_and_damage() {
    use jsec::crypto::longterm::LongTermSecret;
    let k = LongTermSecret::generate_ecdsa_p256();
    let pem = k.to_pkcs8_pem().unwrap();
    let spki = k.public_key().spki_der().to_vec();
    let seeds: Vec<Vec<u8>> = vec![
        pem.as_bytes().to_vec(),
        k.public_key().to_pem().into_bytes(),
        spki.clone(),
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
    ];
    for s in &seeds {
        bodies::longterm_keys(s);
    }
    let mut rng = Rng::new(0x4B45);
    for _ in 0..1500 {
        let mut x = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(x.len());
            x[i] = rng.below(256) as u8;
        }
        if rng.below(4) == 0 {
            x.truncate(rng.below(x.len() + 1));
        }
        bodies::longterm_keys(&x);
    }
}

/// Protected corpus files (and their SEC logical streams) as seeds for the
/// JPSEC reader, consumer and transcoder.
fn jpsec_seeds() -> Vec<Vec<u8>> {
    use jsec::crypto::mac::MacAlg;
    use jsec::crypto::modes::Mode;
    use jsec::jpsec::{
        protect, Granularity, ImageZone, JpsecKey, Levels, ProtectOptions, ToolSpec,
    };
    let key = JpsecKey::from_bytes(&[0x42; 32]).unwrap();
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
                key,
                alg: MacAlg::HmacSha256,
                granularity: Granularity::Resolution,
                levels: Levels::Resolution(None),
                zone: ImageZone::default(),
            },
        ],
        iv: Some([3; 16]),
    };
    let mut v = Vec::new();
    for p in common::j2k_corpus_files(false).into_iter().take(12) {
        let data = std::fs::read(&p).unwrap();
        if data.len() > 200_000 {
            continue;
        }
        let prot = protect(&data, &opts).unwrap();
        let l = jsec::jpsec::zone::Layout::new(&prot).unwrap();
        let sec = jsec::jpsec::consume::read_sec(&l).unwrap().unwrap();
        v.push(sec.to_bytes(false));
        v.push(prot);
    }
    v
}

#[test]
fn jpsec_sec_on_protected_seeds_and_mutations() {
    let seeds = jpsec_seeds();
    if seeds.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    for s in &seeds {
        bodies::jpsec_sec(s);
    }
    let mut rng = Rng::new(0x5EC);
    for _ in 0..600 {
        let mut x = seeds[rng.below(seeds.len())].clone();
        // Damage near the start (the SEC segments and headers) more often.
        for _ in 0..1 + rng.below(4) {
            let span = if rng.below(2) == 0 {
                x.len().min(600)
            } else {
                x.len()
            };
            let i = rng.below(span);
            x[i] = rng.below(256) as u8;
        }
        if rng.below(5) == 0 {
            x.truncate(rng.below(x.len() + 1));
        }
        bodies::jpsec_sec(&x);
    }
}

#[test]
fn jpsec_policy_on_the_documented_policy_and_mutations() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/jpsec.md"),
    )
    .unwrap();
    let start = doc.find("```toml\n").unwrap() + 8;
    let end = start + doc[start..].find("```").unwrap();
    let seed = doc.as_bytes()[start..end].to_vec();
    bodies::jpsec_policy(&seed);
    let small = b"[[tool]]\ntype = \"encrypt\"\nkey = \"k\"\nregion = [1, 2, 3, 4]\n".to_vec();
    bodies::jpsec_policy(&small);
    let mut rng = Rng::new(0x7011);
    for _ in 0..3000 {
        let mut x = if rng.below(2) == 0 {
            seed.clone()
        } else {
            small.clone()
        };
        const ALPHABET: &[u8] = b"[]=\",.0123456789-abcdefklmnoprstuxyz \n#";
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(x.len());
            x[i] = ALPHABET[rng.below(ALPHABET.len())];
        }
        if rng.below(5) == 0 {
            x.truncate(rng.below(x.len() + 1));
        }
        bodies::jpsec_policy(&x);
    }
}
