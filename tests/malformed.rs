//! Malformed and unsupported input: every entry point returns an error of
//! the right kind with a message, never panics, and leaves the buffer
//! unchanged. Random corruption never panics, and whatever encrypts also
//! decrypts back to the same bytes.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{cipher, corpus_files, generate, Layout, Rng};
use jsec::fspe::{Direction, Options, Rule};
use jsec::ErrorKind;

/// Run every entry point on `data`; Ok(kind+message of the in-place
/// encrypt error) or Err(description of a contract violation).
fn all_entry_points(data: &[u8]) -> Result<Option<jsec::Error>, String> {
    let c = cipher(40, Options::default());
    let run = |f: &dyn Fn() -> Option<jsec::Error>| {
        catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("panic: {msg}")
        })
    };
    let enc_err = run(&|| {
        let mut b = data.to_vec();
        let r = c.encrypt(&mut b).err();
        if r.is_some() {
            assert!(b == data, "buffer changed by a failed encrypt");
        }
        r
    })?;
    let dec_err = run(&|| {
        let mut b = data.to_vec();
        let r = c.decrypt(&mut b).err();
        if r.is_some() {
            assert!(b == data, "buffer changed by a failed decrypt");
        }
        r
    })?;
    let insp_err = run(&|| jsec::fspe::inspect(data).err())?;
    let _ = run(&|| jsec::jpeg::decode_coefficients(data).err())?;
    let stream_err = run(&|| {
        let mut d = c.digest_stream();
        let mut sink = Vec::new();
        let r = data
            .chunks(97)
            .try_for_each(|ch| d.update(ch, &mut sink))
            .and_then(|_| d.finish().map(|_| ()));
        r.err()
    })?;
    // All whole-file entry points agree on failure.
    let kinds = [&enc_err, &dec_err, &insp_err, &stream_err].map(|e| e.as_ref().map(|e| e.kind()));
    if kinds.iter().any(|k| *k != kinds[0]) {
        return Err(format!(
            "entry points disagree: encrypt {:?}, decrypt {:?}, inspect {:?}, digest stream {:?}",
            enc_err, dec_err, insp_err, stream_err
        ));
    }
    if let Some(e) = &enc_err {
        if e.message().trim().is_empty() {
            return Err("error without a message".into());
        }
    }
    Ok(enc_err)
}

fn expect_kind(name: &str, data: &[u8], kinds: &[ErrorKind], words: &[&str]) -> Option<String> {
    match all_entry_points(data) {
        Err(v) => Some(format!("{name}: {v}")),
        Ok(None) => Some(format!("{name}: accepted, expected {kinds:?}")),
        Ok(Some(e)) => {
            if !kinds.contains(&e.kind()) {
                return Some(format!("{name}: {:?} ({e}), expected {kinds:?}", e.kind()));
            }
            let m = e.message().to_ascii_lowercase();
            if !words.is_empty() && !words.iter().any(|w| m.contains(&w.to_ascii_lowercase())) {
                return Some(format!(
                    "{name}: message {:?} names none of {words:?}",
                    e.message()
                ));
            }
            None
        }
    }
}

/// Header segments (start, end, marker) up to and including the first SOS.
fn segments(d: &[u8]) -> Vec<(usize, usize, u8)> {
    let mut out = Vec::new();
    let mut i = 2;
    loop {
        let m = d[i + 1];
        let len = u16::from_be_bytes([d[i + 2], d[i + 3]]) as usize;
        out.push((i, i + 2 + len, m));
        i += 2 + len;
        if m == 0xDA {
            return out;
        }
    }
}

fn seg_of(d: &[u8], m: u8) -> (usize, usize) {
    let s = segments(d).into_iter().find(|s| s.2 == m).expect("segment");
    (s.0, s.1)
}

fn without(d: &[u8], m: u8) -> Vec<u8> {
    let mut out = d[..2].to_vec();
    let segs = segments(d);
    for &(a, b, mm) in &segs {
        if mm != m {
            out.extend_from_slice(&d[a..b]);
        }
    }
    out.extend_from_slice(&d[segs.last().unwrap().1..]);
    out
}

fn base() -> Vec<u8> {
    generate(48, 40, Layout::S420, 80, 0, 41)
}

#[test]
fn empty_and_not_a_jpeg() {
    let mut fails = Vec::new();
    for (name, d) in [
        ("empty", vec![]),
        ("one byte", vec![0xFF]),
        ("SOI only", vec![0xFF, 0xD8]),
        ("SOI EOI", vec![0xFF, 0xD8, 0xFF, 0xD9]),
        ("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ("text", b"hello, world".to_vec()),
        ("zeros", vec![0; 1000]),
        ("ff", vec![0xFF; 1000]),
        ("EOI first", vec![0xFF, 0xD9, 0xFF, 0xD8]),
    ] {
        fails.extend(expect_kind(name, &d, &[ErrorKind::Malformed], &[]));
    }
    common::assert_no_failures(&fails);
}

#[test]
fn truncated_everywhere() {
    let mut fails = Vec::new();
    for (tag, d) in [
        ("420", base()),
        ("444-rst2", generate(40, 24, Layout::S444, 90, 2, 42)),
        ("gray-1x1", generate(1, 1, Layout::Gray, 75, 0, 43)),
    ] {
        let header_end = segments(&d).last().unwrap().1;
        // Every offset inside the headers and the first data bytes, then
        // every 1% of the file.
        let mut cuts: Vec<usize> = (0..(header_end + 20).min(d.len())).collect();
        cuts.extend((1..100).map(|p| d.len() * p / 100));
        cuts.extend([d.len() - 2, d.len() - 1]);
        cuts.sort();
        cuts.dedup();
        for n in cuts {
            fails.extend(expect_kind(
                &format!("{tag} cut at {n}/{}", d.len()),
                &d[..n],
                &[ErrorKind::Malformed],
                &[],
            ));
        }
    }
    if let Some(s) = common::corpus_file("generated/jpeg/bad-truncated-60pct.jpg") {
        fails.extend(expect_kind(
            &s.name,
            &s.data,
            &[ErrorKind::Malformed],
            &["truncated"],
        ));
    }
    if let Some(s) = common::corpus_file("generated/jpeg/bad-no-eoi.jpg") {
        fails.extend(expect_kind(&s.name, &s.data, &[ErrorKind::Malformed], &[]));
    }
    common::assert_no_failures(&fails);
}

#[test]
fn structural_damage() {
    let d = base();
    let mut fails = Vec::new();
    let mut check = |name: &str, x: Vec<u8>, kinds: &[ErrorKind], words: &[&str]| {
        fails.extend(expect_kind(name, &x, kinds, words));
    };
    let m = &[ErrorKind::Malformed][..];

    // Garbage after SOI.
    let mut x = d[..2].to_vec();
    x.extend_from_slice(b"garbage garbage");
    x.extend_from_slice(&d[2..]);
    check("garbage after SOI", x, m, &[]);

    // Over-subscribed Huffman table: three codes of length 1.
    let (a, _) = seg_of(&d, 0xC4);
    let mut x = d.clone();
    x[a + 5] = 3;
    check("over-subscribed DHT", x, m, &["huffman", "dht"]);
    // Huffman counts claim more symbols than the segment holds.
    let mut x = d.clone();
    x[a + 5 + 15] = 200;
    check("DHT counts past segment", x, m, &[]);
    // Table class 2, table id 7.
    let mut x = d.clone();
    x[a + 4] = 0x20;
    check("DHT class 2", x, m, &[]);
    let mut x = d.clone();
    x[a + 4] = 0x07;
    check("DHT id 7", x, m, &[]);

    // Bad lengths: DHT, SOF, SOS, DQT, DRI too short / too long.
    for mk in [0xC4u8, 0xC0, 0xDA, 0xDB] {
        let (a, b) = seg_of(&d, mk);
        let len = b - a - 2;
        for (delta_name, new_len) in [("-1", len - 1), ("+1", len + 1), ("1", 1), ("0", 0)] {
            let mut x = d.clone();
            x[a + 2..a + 4].copy_from_slice(&(new_len as u16).to_be_bytes());
            check(
                &format!("{} length {delta_name}", jsec::jpeg::marker::name(mk)),
                x,
                m,
                &[],
            );
        }
        let mut x = d.clone();
        x[a + 2..a + 4].copy_from_slice(&0xFFFFu16.to_be_bytes());
        check(&format!("{mk:02X} length past end"), x, m, &[]);
    }
    let mut x = d[..2].to_vec();
    x.extend_from_slice(&[0xFF, 0xDD, 0, 5, 0, 1, 0]);
    x.extend_from_slice(&d[2..]);
    check("DRI length 5", x, m, &["dri"]);

    // Zero-size frame.
    let (a, _) = seg_of(&d, 0xC0);
    for (name, off) in [("height 0", a + 5), ("width 0", a + 7)] {
        let mut x = d.clone();
        x[off] = 0;
        x[off + 1] = 0;
        check(
            name,
            x,
            &[ErrorKind::Malformed, ErrorKind::Unsupported],
            &["zero", "0x", "size"],
        );
    }
    // Zero components, five components, bad sampling factors, bad table id.
    let mut x = d.clone();
    x[a + 9] = 0;
    check("0 components", x, m, &[]);
    let mut x = d.clone();
    x[a + 11] = 0x50;
    check("sampling 5x0", x, m, &[]);
    let mut x = d.clone();
    x[a + 12] = 9;
    check("quant table 9", x, m, &[]);
    let mut x = d.clone();
    x[a + 13] = x[a + 10];
    check("duplicate component id", x, m, &[]);

    // SOS before SOF; no SOF at all; missing Huffman tables; SOS naming an
    // unknown component; SOS with a bad spectral selection.
    let no_sof = without(&d, 0xC0);
    check("SOS before SOF", no_sof, m, &["sof", "frame"]);
    let no_dht = without(&d, 0xC4);
    check("missing DHT", no_dht, m, &["huffman", "table"]);
    let (s0, s1) = seg_of(&d, 0xDA);
    let mut x = d.clone();
    x[s0 + 5] = 77;
    check("SOS unknown component", x, m, &["component"]);
    let mut x = d.clone();
    x[s1 - 2] = 5;
    check("SOS Se=5", x, m, &[]);
    let mut x = d.clone();
    x[s0 + 6] = 0x33; // DC/AC table 3, never defined
    check("SOS undefined tables", x, m, &["table"]);

    // Two SOI, RST outside data, stuffed zero in headers.
    let mut x = d[..2].to_vec();
    x.extend_from_slice(&d);
    check("double SOI", x, m, &[]);
    let mut x = d[..2].to_vec();
    x.extend_from_slice(&[0xFF, 0xD0]);
    x.extend_from_slice(&d[2..]);
    check("RST0 in headers", x, m, &[]);
    // No EOI, but a marker ends the scan where data should continue.
    let mut x = d[..s1 + 10].to_vec();
    x.extend_from_slice(&[0xFF, 0xD9]);
    check("EOI inside scan", x, m, &[]);
    // Entropy data of a different image (undecodable code words).
    let mut x = d[..s1].to_vec();
    x.extend(std::iter::repeat(0xFE).take(64));
    x.extend_from_slice(&[0xFF, 0xD9]);
    check("invalid code words", x, m, &[]);
    common::assert_no_failures(&fails);
}

#[test]
fn unsupported_processes_are_named() {
    let d = base();
    let (a, _) = seg_of(&d, 0xC0);
    let mut fails = Vec::new();
    for (mk, words) in [
        (0xC2u8, &["progressive", "SOF2"][..]),
        (0xC3, &["lossless", "SOF3"][..]),
        (0xC9, &["arithmetic", "SOF9"][..]),
        (0xCA, &["arithmetic", "SOF10"][..]),
        (0xC5, &["differential", "SOF5"][..]),
    ] {
        let mut x = d.clone();
        x[a + 1] = mk;
        fails.extend(expect_kind(
            &format!("SOF {mk:02X}"),
            &x,
            &[ErrorKind::Unsupported],
            words,
        ));
    }
    // 12-bit precision (SOF1).
    let mut x = d.clone();
    x[a + 1] = 0xC1;
    x[a + 4] = 12;
    fails.extend(expect_kind(
        "12-bit",
        &x,
        &[ErrorKind::Unsupported],
        &["12"],
    ));
    // Corpus: progressive, arithmetic, 12-bit files.
    for s in corpus_files() {
        let Some((mk, p)) = common::frame_type(&s.data) else {
            continue;
        };
        let words: &[&str] = match (mk, p) {
            (0xC2, _) => &["progressive"],
            (0xC9..=0xCB, _) => &["arithmetic"],
            (0xC3, _) => &["lossless"],
            (0xC0 | 0xC1, 12) => &["12"],
            _ => continue,
        };
        fails.extend(expect_kind(
            &s.name,
            &s.data,
            &[ErrorKind::Unsupported],
            words,
        ));
    }
    common::assert_no_failures(&fails);
}

/// Seeded random corruption: no panic; encrypt Ok implies decrypt restores
/// and the stream agrees.
#[test]
fn random_corruption_never_panics_and_round_trips() {
    let inputs = [
        generate(40, 32, Layout::S420, 80, 0, 44),
        generate(33, 17, Layout::S444, 90, 3, 45),
        generate(24, 24, Layout::Gray, 70, 1, 46),
        common::with_embedded().0,
    ];
    let mut rng = Rng::new(4242);
    let mut fails = Vec::new();
    let (mut ok, mut err) = (0, 0);
    for case in 0..400 {
        let src = &inputs[case % inputs.len()];
        let mut x = src.clone();
        let header_end = segments(src).last().unwrap().1;
        let flips = rng.range(1, 4);
        for _ in 0..flips {
            let i = if rng.below(2) == 0 {
                rng.below(header_end)
            } else {
                rng.below(x.len())
            };
            match rng.below(4) {
                0 => x[i] ^= 1 << rng.below(8),
                1 => x[i] = rng.byte(),
                2 => x[i] = 0xFF,
                _ => x[i] = 0x00,
            }
        }
        if rng.below(8) == 0 {
            let n = rng.below(x.len());
            x.truncate(n);
        }
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = jsec::jpeg::decode_coefficients(&x);
            let _ = jsec::fspe::inspect(&x);
            for rule in [Rule::Full, Rule::Paper] {
                let c = cipher(
                    41,
                    Options {
                        rule,
                        levels: case % 3 == 0,
                        ..Options::default()
                    },
                );
                let mut e = x.clone();
                match c.encrypt(&mut e) {
                    Ok(_) => {
                        let mut back = e.clone();
                        c.decrypt(&mut back).map_err(|e| format!("decrypt: {e}"))?;
                        if back != x {
                            return Err(format!("{rule:?}: decrypt(encrypt(x)) != x"));
                        }
                        let mut rng2 = Rng::new(case as u64);
                        let s = common::run_stream(&c, Direction::Encrypt, &x, &mut rng2, 200)
                            .map_err(|e| format!("stream failed where in-place worked: {e}"))?;
                        if s != e {
                            return Err(format!("{rule:?}: stream differs from in-place"));
                        }
                    }
                    Err(er) => {
                        if e != x {
                            return Err("buffer changed on error".into());
                        }
                        if er.message().is_empty() {
                            return Err("empty error message".into());
                        }
                        if !matches!(er.kind(), ErrorKind::Malformed | ErrorKind::Unsupported) {
                            return Err(format!("unexpected kind {:?}: {er}", er.kind()));
                        }
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        }));
        match r {
            Ok(Ok(true)) => ok += 1,
            Ok(Ok(false)) => err += 1,
            Ok(Err(m)) => fails.push(format!("case {case}: {m}")),
            Err(_) => fails.push(format!("case {case}: panic")),
        }
    }
    eprintln!("random corruption: {ok} accepted, {err} rejected");
    common::assert_no_failures(&fails);
}

/// A few hundred bytes declaring a 65535x65535 frame, then a scan that ends
/// at once: every entry point must fail (truncated) without allocating
/// memory in proportion to the declared size. Run in a child process under
/// `ulimit -v` so that a failure cannot exhaust the machine's memory.
fn huge_frame() -> Vec<u8> {
    let mut d = generate(8, 8, Layout::S444, 80, 0, 47);
    let (a, _) = seg_of(&d, 0xC0);
    d[a + 5..a + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    d
}

#[test]
fn huge_frame_child() {
    if std::env::var_os("JSEC_HUGE_FRAME_CHILD").is_none() {
        return; // only meaningful inside huge_frame_header_bounded_memory
    }
    let d = huge_frame();
    for region in [
        None,
        Some((0, 0, 10, 10, false)),
        Some((0, 0, 10, 10, true)),
    ] {
        let opts = Options {
            region: region.map(|(x, y, w, h, outside)| jsec::fspe::Region {
                x,
                y,
                w,
                h,
                outside,
            }),
            ..Options::default()
        };
        let mut b = d.clone();
        let r = cipher(48, opts).encrypt(&mut b);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Malformed);
    }
    assert!(jsec::fspe::inspect(&d).is_err());
    assert!(jsec::jpeg::decode_coefficients(&d).is_err());
}

#[cfg(target_os = "linux")]
#[test]
fn huge_frame_header_bounded_memory() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 1000000 && exec '{}' --exact huge_frame_child --test-threads 1",
            exe.display()
        ))
        .env("JSEC_HUGE_FRAME_CHILD", "1")
        .output()
        .unwrap();
    // The child must really have run (a renamed or filtered-out child would
    // make libtest exit 0 with "0 passed").
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the huge_frame_child test did not run:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.status.success(),
        "a {}-byte file declaring a 65535x65535 frame exhausts 1 GB of address space:\n{}{}",
        huge_frame().len(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .take(12)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
