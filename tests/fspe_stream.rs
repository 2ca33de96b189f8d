//! The streaming and per-scan entry points against the in-place one, and the
//! API's error paths (states, seeds, key levels, back-pressure).

mod common;

use common::{
    cipher, corpus_baseline_small, corpus_file, generate, generated_set, run_stream, with_embedded,
    Layout, Rng, Sample,
};
use jsec::fspe::{Cipher, Direction, Options, Rule};
use jsec::ErrorKind;

fn digest_seed(c: &Cipher, data: &[u8]) -> [u8; 32] {
    let mut d = c.digest_stream();
    d.write(data).unwrap();
    d.finish().unwrap();
    d.seed().unwrap()
}

fn in_place(c: &Cipher, dir: Direction, data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    match dir {
        Direction::Encrypt => c.encrypt(&mut b).unwrap(),
        Direction::Decrypt => c.decrypt(&mut b).unwrap(),
    };
    b
}

fn small_inputs() -> Vec<Sample> {
    let mut v: Vec<Sample> = generated_set()
        .into_iter()
        .filter(|s| s.data.len() < 12_000)
        .collect();
    v.push(Sample::new("gen/embedded", with_embedded().0));
    v
}

#[test]
fn stream_byte_by_byte_equals_in_place() {
    let mut rng = Rng::new(5);
    for s in small_inputs() {
        for rule in [Rule::Full, Rule::Paper] {
            let c = cipher(
                4,
                Options {
                    rule,
                    levels: true,
                    ..Options::default()
                },
            );
            let want = in_place(&c, Direction::Encrypt, &s.data);
            let got = run_stream(&c, Direction::Encrypt, &s.data, &mut rng, 1).unwrap();
            assert!(got == want, "{} {rule:?}: 1-byte chunks differ", s.name);
            let back = run_stream(&c, Direction::Decrypt, &want, &mut rng, 2).unwrap();
            assert!(back == s.data, "{} {rule:?}: stream decrypt", s.name);
        }
    }
}

#[test]
fn digest_seed_is_invariant_under_encryption() {
    // The decryptor computes its seed from the protected file: it must equal
    // the encryptor's (selected bits are excluded from the digest).
    for s in small_inputs() {
        let c = cipher(4, Options::default());
        let enc = in_place(&c, Direction::Encrypt, &s.data);
        assert_eq!(
            digest_seed(&c, &s.data),
            digest_seed(&c, &enc),
            "{}",
            s.name
        );
        // Different options, different seed domain is fine; the same
        // options on a different image must give a different seed.
    }
    let a = generate(32, 32, Layout::S444, 80, 0, 1);
    let b = generate(32, 32, Layout::S444, 80, 0, 2);
    let c = cipher(4, Options::default());
    assert_ne!(digest_seed(&c, &a), digest_seed(&c, &b));
}

#[test]
fn stream_with_nonce_and_digest_seed_equals_in_place() {
    // Options carry a caller nonce; the caller still runs the documented
    // two-pass protocol (digest pass, then stream with Some(seed)). The
    // stream must produce what encrypt() produces for the same options, or
    // refuse the ambiguous combination — never silently differ.
    let data = generate(64, 48, Layout::S420, 85, 0, 7);
    let opts = Options {
        nonce: Some([9; 16]),
        ..Options::default()
    };
    let c = cipher(4, opts);
    let want = in_place(&c, Direction::Encrypt, &data);
    let seed = digest_seed(&c, &data);
    match c.stream(Direction::Encrypt, Some(seed)) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}"),
        Ok(mut s) => {
            let mut out = Vec::new();
            s.update(&data, &mut out).unwrap();
            s.finish().unwrap();
            let mut rest = vec![0; s.available()];
            let n = s.read(&mut rest);
            out.extend_from_slice(&rest[..n]);
            assert!(
                out == want,
                "stream(Some(digest seed)) with a caller nonce differs from encrypt(): \
                 the stream uses the digest seed, encrypt() the nonce"
            );
        }
    }
}

#[test]
fn stream_state_errors() {
    let data = generate(40, 40, Layout::S420, 80, 0, 3);
    let c = cipher(4, Options::default());
    // No seed and no nonce.
    let e = c
        .stream(Direction::Encrypt, None)
        .err()
        .expect("needs a seed");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(!e.message().is_empty());
    // Seed before finish is None.
    let mut d = c.digest_stream();
    d.write(&data[..10]).unwrap();
    assert!(d.seed().is_none());
    // Truncated input: finish fails with Malformed, then the stream is dead.
    let e = d.finish().expect_err("truncated");
    assert_eq!(e.kind(), ErrorKind::Malformed, "{e}");
    assert_eq!(
        d.write(&data[10..]).unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    assert!(d.seed().is_none());
    // Write after finish, finish twice.
    let seed = digest_seed(&c, &data);
    let mut s = c.stream(Direction::Encrypt, Some(seed)).unwrap();
    s.write(&data).unwrap();
    s.finish().unwrap();
    assert_eq!(s.write(&[0]).unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(s.finish().unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(s.position(), data.len() as u64);
    // Malformed data inside a stream: error, then InvalidState.
    let mut bad = data.clone();
    bad[2] = 0x00; // no marker after SOI
    let mut s = c.stream(Direction::Encrypt, Some(seed)).unwrap();
    let e = s.write(&bad).expect_err("malformed");
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert_eq!(s.write(&[]).unwrap_err().kind(), ErrorKind::InvalidState);
    // Not a JPEG at all.
    let mut s = c.stream(Direction::Encrypt, Some(seed)).unwrap();
    let r = s.write(b"GIF89a....").and_then(|_| s.finish().map(|_| ()));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Malformed);
}

#[test]
fn key_levels_are_checked() {
    let data = generate(40, 40, Layout::S420, 80, 0, 3);
    let lv = Options {
        levels: true,
        ..Options::default()
    };
    // Level > 0 without levels mode, level 3.
    let e = cipher(1, Options::default()).with_key_level(1).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = cipher(1, lv.clone()).with_key_level(3).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    // A level-1 key cannot encrypt, in place or streamed; buffer unchanged.
    let c1 = cipher(1, lv.clone()).with_key_level(1).unwrap();
    let mut b = data.clone();
    assert_eq!(
        c1.encrypt(&mut b).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(b, data);
    assert_eq!(
        c1.stream(Direction::Encrypt, Some([0; 32]))
            .err()
            .unwrap()
            .kind(),
        ErrorKind::InvalidArgument
    );
    // Empty band set, empty region.
    let e = Cipher::new(
        common::key(1),
        Options {
            bands: jsec::fspe::Bands {
                dc: false,
                ac_low: false,
                ac_high: false,
            },
            ..Options::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = Cipher::new(
        common::key(1),
        Options {
            region: Some(jsec::fspe::Region {
                x: 0,
                y: 0,
                w: 0,
                h: 5,
                outside: false,
            }),
            ..Options::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn stream_back_pressure_then_recovery() {
    // A file with a large trailer: writing without reading must hit
    // BufferTooSmall, after which reading lets the stream continue to the
    // same result.
    let mut data = generate(64, 64, Layout::S444, 90, 0, 8);
    let mut rng = Rng::new(77);
    data.extend(rng.bytes(3 << 20).into_iter().map(|b| b & 0x7F));
    let c = cipher(4, Options::default());
    let want = in_place(&c, Direction::Encrypt, &data);
    let seed = digest_seed(&c, &data);
    let mut s = c.stream(Direction::Encrypt, Some(seed)).unwrap();
    let mut out = Vec::new();
    let mut hit = false;
    let mut i = 0;
    while i < data.len() {
        let n = (256 * 1024).min(data.len() - i);
        match s.write(&data[i..i + n]) {
            Ok(()) => i += n,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::BufferTooSmall, "{e}");
                hit = true;
                let mut buf = vec![0; 100_000];
                loop {
                    let k = s.read(&mut buf);
                    out.extend_from_slice(&buf[..k]);
                    if k == 0 {
                        break;
                    }
                }
            }
        }
    }
    s.finish().unwrap();
    let mut rest = vec![0; s.available()];
    let k = s.read(&mut rest);
    out.extend_from_slice(&rest[..k]);
    assert!(hit, "never hit back-pressure with 3 MiB unread");
    assert!(out == want, "result after back-pressure differs");
}

/// (offset of the first entropy-coded byte, offset of the marker that ends
/// the scan) for every scan of the primary image (own marker walk).
fn scans(d: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= d.len() {
        let m = d[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        if m == 0xD9 {
            break;
        }
        let len = u16::from_be_bytes([d[i + 2], d[i + 3]]) as usize;
        i += 2 + len;
        if m == 0xDA {
            let start = i;
            let mut j = i;
            while !(d[j] == 0xFF && d[j + 1] != 0 && !(0xD0..=0xD7).contains(&d[j + 1])) {
                j += 1;
            }
            out.push((start, j));
            i = j;
        }
    }
    out
}

#[test]
fn process_scan_equals_in_place() {
    let mut set = small_inputs();
    set.extend(corpus_baseline_small(120_000));
    for s in &set {
        for opts in [
            Options::default(),
            Options {
                rule: Rule::Paper,
                levels: true,
                ..Options::default()
            },
            Options {
                region: Some(jsec::fspe::Region {
                    x: 3,
                    y: 5,
                    w: 20,
                    h: 17,
                    outside: false,
                }),
                ..Options::default()
            },
        ] {
            let c = cipher(6, opts);
            let enc = in_place(&c, Direction::Encrypt, &s.data);
            let seed = digest_seed(&c, &s.data);
            let mut pieced = s.data.clone();
            let mut back = enc.clone();
            for (a, b) in scans(&s.data) {
                // Prefix as in the plain file (encrypting) ...
                let (prefix, rest) = pieced.split_at_mut(a);
                c.process_scan(Direction::Encrypt, Some(seed), prefix, &mut rest[..b - a])
                    .unwrap_or_else(|e| panic!("{}: process_scan: {e}", s.name));
                // ... and as in the protected file (decrypting).
                let (prefix, rest) = back.split_at_mut(a);
                c.process_scan(Direction::Decrypt, Some(seed), prefix, &mut rest[..b - a])
                    .unwrap_or_else(|e| panic!("{}: process_scan decrypt: {e}", s.name));
            }
            for (a, b) in scans(&s.data) {
                assert!(
                    pieced[a..b] == enc[a..b],
                    "{}: process_scan differs from in-place on scan at {a}",
                    s.name
                );
                assert!(
                    back[a..b] == s.data[a..b],
                    "{}: process_scan decrypt does not restore scan at {a}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn process_scan_rejects_bad_split() {
    let d = generate(40, 40, Layout::S420, 80, 0, 3);
    let c = cipher(6, Options::default());
    let seed = digest_seed(&c, &d);
    let (a, b) = scans(&d)[0];
    let orig = d.clone();
    let mut want = d.clone();
    c.encrypt(&mut want).unwrap();
    // Prefix one byte short (ends inside the SOS header): refused, or the
    // result is still exactly the in-place one.
    let mut x = d.clone();
    let (p, r) = x.split_at_mut(a - 1);
    if c.process_scan(Direction::Encrypt, Some(seed), p, &mut r[..b - a + 1])
        .is_ok()
    {
        assert!(
            x[a - 1..b] == want[a - 1..b],
            "misaligned split gave a wrong result"
        );
    }
    // Prefix running into the entropy-coded data: refused, buffer unchanged.
    let mut x = d.clone();
    let (p, r) = x.split_at_mut(a + 3);
    assert!(c
        .process_scan(Direction::Encrypt, Some(seed), p, &mut r[..b - a - 3])
        .is_err());
    assert_eq!(x, orig, "buffer changed on error");
    // Scan one byte short, no seed and no nonce.
    let mut x = d.clone();
    let (p, r) = x.split_at_mut(a);
    let e = c
        .process_scan(Direction::Encrypt, Some(seed), p, &mut r[..b - a - 1])
        .unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::Malformed | ErrorKind::InvalidArgument
    ));
    assert_eq!(x, orig, "buffer changed on error");
    let mut x = d.clone();
    let (p, r) = x.split_at_mut(a);
    let e = c
        .process_scan(Direction::Encrypt, None, p, &mut r[..b - a])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn corpus_restart_files_stream_tiny_chunks() {
    // Restart markers, fill bytes and RST boundaries with 1..3-byte chunks.
    let mut rng = Rng::new(99);
    for rel in [
        "generated/jpeg/c1024-q75-420-rst1B.jpg",
        "generated/jpeg/tiny-15x17-q75-444-rst1B.jpg",
        "generated/jpeg/odd1001x777-q75-422-rst3B.jpg",
    ] {
        let Some(s) = corpus_file(rel) else { continue };
        let c = cipher(8, Options::default());
        let want = in_place(&c, Direction::Encrypt, &s.data);
        let got = run_stream(&c, Direction::Encrypt, &s.data, &mut rng, 3).unwrap();
        assert!(got == want, "{rel}");
    }
}

fn region_options() -> Vec<Options> {
    let r = |x, y, w, h, outside| {
        Some(jsec::fspe::Region {
            x,
            y,
            w,
            h,
            outside,
        })
    };
    vec![
        Options {
            region: r(5, 3, 11, 9, false),
            ..Options::default()
        },
        Options {
            region: r(8, 0, 16, 16, true),
            rule: Rule::Paper,
            levels: true,
            ..Options::default()
        },
    ]
}

#[test]
fn stream_with_region_equals_in_place() {
    // Region selection must survive the walker's resumptions (a stream
    // re-walks the MCU it stopped in).
    let mut rng = Rng::new(17);
    let mut fails = Vec::new();
    for s in small_inputs() {
        for (oi, opts) in region_options().into_iter().enumerate() {
            let c = cipher(9, opts);
            let want = in_place(&c, Direction::Encrypt, &s.data);
            for max in [1, 7, 100] {
                let got = run_stream(&c, Direction::Encrypt, &s.data, &mut rng, max).unwrap();
                if got != want {
                    fails.push(format!(
                        "{} options #{oi} chunks 1..={max}: {} bytes differ",
                        s.name,
                        got.iter().zip(&want).filter(|(a, b)| a != b).count()
                    ));
                }
            }
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn in_place_and_stream_interoperate() {
    // Encrypt in place, decrypt streamed, and the other way round.
    let mut rng = Rng::new(18);
    let mut opts = vec![
        Options::default(),
        Options {
            rule: Rule::Paper,
            levels: true,
            ..Options::default()
        },
    ];
    opts.extend(region_options());
    for s in small_inputs() {
        for (oi, o) in opts.iter().enumerate() {
            let c = cipher(10, o.clone());
            let enc = in_place(&c, Direction::Encrypt, &s.data);
            let back = run_stream(&c, Direction::Decrypt, &enc, &mut rng, 50).unwrap();
            assert!(
                back == s.data,
                "{} #{oi}: in-place encrypt, stream decrypt",
                s.name
            );
            let senc = run_stream(&c, Direction::Encrypt, &s.data, &mut rng, 50).unwrap();
            let back = in_place(&c, Direction::Decrypt, &senc);
            assert!(
                back == s.data,
                "{} #{oi}: stream encrypt, in-place decrypt",
                s.name
            );
        }
    }
}

#[test]
fn truncated_image_after_eoi_stream_equals_in_place() {
    // A preview after EOI that is cut short (a damaged MPF file): it is
    // encrypted as far as it goes; stream and in-place must agree on where
    // that is, or a file encrypted one way does not decrypt the other way.
    let (file, _, _, after_at, after) = with_embedded();
    let c = cipher(11, Options::default());
    let mut rng = Rng::new(19);
    let mut fails = Vec::new();
    for cut in (after.len() / 3..after.len() - 1)
        .step_by(97)
        .chain([after.len() - 2])
    {
        let data = &file[..after_at + cut];
        let want = in_place(&c, Direction::Encrypt, data);
        let got = run_stream(&c, Direction::Encrypt, data, &mut rng, 4000).unwrap();
        if got != want {
            let diff: Vec<usize> = (0..data.len()).filter(|&i| got[i] != want[i]).collect();
            fails.push(format!(
                "after-EOI image cut to {cut} bytes: stream differs from in-place at {diff:?} (file length {})",
                data.len()
            ));
        }
        let back = run_stream(&c, Direction::Decrypt, &want, &mut rng, 4000).unwrap();
        if back != data {
            fails.push(format!(
                "cut {cut}: in-place encrypt, stream decrypt does not restore"
            ));
        }
    }
    common::assert_no_failures(&fails);
}
