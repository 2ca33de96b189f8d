//! FSPE end to end, both rules, on every generated image and every baseline
//! corpus JPEG: same size, the encrypted file decodes cleanly with libjpeg's
//! djpeg, decryption restores identical bytes, a wrong key does not, the
//! streaming API (random chunking) equals in-place, a caller nonce works
//! the same way, and (Full rule, all bands) the picture is destroyed:
//! PSNR below 15 dB on every image of at least 64x64.

mod common;

use common::{
    bit_diff, cipher, corpus_baseline, decode_pixels, djpeg_available, djpeg_clean, generated_set,
    psnr, run_stream, std_dev, Rng, Sample,
};
use jsec::fspe::{Direction, Options, Report, Rule};

const PSNR_LIMIT: f64 = 15.0;

fn encrypted_bits(r: &Report) -> u64 {
    r.images.iter().map(|i| i.stats.encrypted).sum()
}

/// Every check on one file; returns the failures (empty = pass).
fn check(s: &Sample, djpeg: bool, rng: &mut Rng, thorough: bool) -> Vec<String> {
    let mut fails = Vec::new();
    let data = &s.data;
    let mut fail = |what: String| fails.push(format!("{}: {what}", s.name));
    if let Err(e) = jsec::fspe::inspect(data) {
        fail(format!("inspect failed: {e}"));
        return fails;
    }
    for rule in [Rule::Full, Rule::Paper] {
        let opts = Options {
            rule,
            ..Options::default()
        };
        let c = cipher(1, opts.clone());
        let mut enc = data.clone();
        let report = match c.encrypt(&mut enc) {
            Ok(r) => r,
            Err(e) => {
                fail(format!("{rule:?}: encrypt failed: {e} ({:?})", e.kind()));
                continue;
            }
        };
        let nbits = encrypted_bits(&report);
        if enc.len() != data.len() {
            fail(format!("{rule:?}: size {} -> {}", data.len(), enc.len()));
            continue;
        }
        let changed = bit_diff(&enc, data);
        if changed > nbits {
            fail(format!(
                "{rule:?}: {changed} bits changed but the report says {nbits} encrypted"
            ));
        }
        if nbits >= 64 && enc == *data {
            fail(format!(
                "{rule:?}: {nbits} bits encrypted but nothing changed"
            ));
        }
        if rule == Rule::Full && report.primary().map_or(0, |p| p.stats.eligible_full) >= 64 {
            // XOR with a keystream flips about half of the selected bits.
            if (changed as f64) < 0.3 * nbits as f64 {
                fail(format!(
                    "{rule:?}: only {changed} of {nbits} encrypted bits changed"
                ));
            }
        }
        if djpeg {
            if let Err(e) = djpeg_clean(&enc, &s.name) {
                fail(format!(
                    "{rule:?}: encrypted file does not decode cleanly: {e}"
                ));
            }
        }
        // Decrypt restores the original exactly, with the same report.
        let mut dec = enc.clone();
        match c.decrypt(&mut dec) {
            Ok(r) => {
                if dec != *data {
                    fail(format!(
                        "{rule:?}: decrypt differs from the original in {} bits",
                        bit_diff(&dec, data)
                    ));
                }
                if r.images != report.images {
                    fail(format!(
                        "{rule:?}: decrypt report differs from encrypt report\n enc {:?}\n dec {:?}",
                        report.images, r.images
                    ));
                }
            }
            Err(e) => fail(format!("{rule:?}: decrypt failed: {e}")),
        }
        // A wrong key gives something else.
        if nbits >= 64 {
            let mut wrong = enc.clone();
            match cipher(2, opts.clone()).decrypt(&mut wrong) {
                Ok(_) if wrong == *data => fail(format!("{rule:?}: wrong key decrypted")),
                Ok(_) => {}
                Err(e) => fail(format!("{rule:?}: wrong-key decrypt errored: {e}")),
            }
        }
        // Streams equal in-place, both directions.
        match run_stream(&c, Direction::Encrypt, data, rng, 5000) {
            Ok(out) if out == enc => {}
            Ok(out) => fail(format!(
                "{rule:?}: stream encrypt differs from in-place ({} bytes out, {} bits differ)",
                out.len(),
                bit_diff(&out, &enc)
            )),
            Err(e) => fail(format!("{rule:?}: stream encrypt failed: {e}")),
        }
        match run_stream(&c, Direction::Decrypt, &enc, rng, 5000) {
            Ok(out) if out == *data => {}
            Ok(_) => fail(format!("{rule:?}: stream decrypt differs from original")),
            Err(e) => fail(format!("{rule:?}: stream decrypt failed: {e}")),
        }
        if thorough {
            // Tiny chunks exercise every resumption point.
            match run_stream(&c, Direction::Encrypt, data, rng, 7) {
                Ok(out) if out == enc => {}
                Ok(_) => fail(format!(
                    "{rule:?}: stream (chunks 1..7) differs from in-place"
                )),
                Err(e) => fail(format!("{rule:?}: stream (chunks 1..7) failed: {e}")),
            }
            // Caller nonce: in place and streams (seed None) agree and invert.
            let nopts = Options {
                nonce: Some([0x5A; 16]),
                ..opts.clone()
            };
            let nc = cipher(1, nopts);
            let mut nenc = data.clone();
            match nc.encrypt(&mut nenc) {
                Ok(_) => {
                    if nbits >= 64 && nenc == enc {
                        fail(format!("{rule:?}: caller nonce did not change the result"));
                    }
                    match run_stream(&nc, Direction::Encrypt, data, rng, 3000) {
                        Ok(out) if out == nenc => {}
                        Ok(_) => fail(format!("{rule:?}: nonce stream differs from in-place")),
                        Err(e) => fail(format!("{rule:?}: nonce stream failed: {e}")),
                    }
                    let mut back = nenc.clone();
                    if nc.decrypt(&mut back).is_err() || back != *data {
                        fail(format!("{rule:?}: nonce decrypt does not restore"));
                    }
                }
                Err(e) => fail(format!("{rule:?}: nonce encrypt failed: {e}")),
            }
        }
        // Visual destruction (Full rule, all bands).
        if rule == Rule::Full {
            match (decode_pixels(data), decode_pixels(&enc)) {
                (Ok((w, h, a)), Ok((_, _, b))) => {
                    if w >= 64 && h >= 64 && std_dev(&a) < 2.0 {
                        eprintln!("note: {}: flat picture, PSNR check skipped", s.name);
                    } else if w >= 64 && h >= 64 {
                        let p = psnr(&a, &b);
                        if p >= PSNR_LIMIT {
                            fail(format!("PSNR {p:.2} dB >= {PSNR_LIMIT} dB"));
                        }
                    }
                }
                (Ok(_), Err(e)) => fail(format!("jpeg-decoder rejects the encrypted file: {e}")),
                (Err(e), _) => eprintln!("note: {}: jpeg-decoder cannot decode: {e}", s.name),
            }
        }
    }
    fails
}

fn run(samples: &[Sample], seed: u64, thorough_below: usize) {
    let djpeg = djpeg_available();
    let mut rng = Rng::new(seed);
    let mut fails = Vec::new();
    for s in samples {
        fails.extend(check(s, djpeg, &mut rng, s.data.len() <= thorough_below));
    }
    common::assert_no_failures(&fails);
}

#[test]
fn generated_images_roundtrip_djpeg_stream_psnr() {
    let set = generated_set();
    assert!(set.len() >= 20);
    run(&set, 11, usize::MAX);
}

/// The corpus in three size-balanced shards so two cores share the work.
fn shard(n: usize) -> Vec<Sample> {
    let mut all = corpus_baseline();
    all.sort_by_key(|s| std::cmp::Reverse(s.data.len()));
    all.into_iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == n)
        .map(|(_, s)| s)
        .collect()
}

#[test]
fn corpus_roundtrip_djpeg_stream_psnr_shard0() {
    run(&shard(0), 20, 200_000);
}

#[test]
fn corpus_roundtrip_djpeg_stream_psnr_shard1() {
    run(&shard(1), 21, 200_000);
}

#[test]
fn corpus_roundtrip_djpeg_stream_psnr_shard2() {
    run(&shard(2), 22, 200_000);
}

#[test]
fn generated_encoder_output_is_sane() {
    // Guard for the generator itself: every generated file decodes with
    // jpeg-decoder, to its nominal size, and (when present) cleanly with djpeg.
    let djpeg = djpeg_available();
    for s in generated_set() {
        let (w, h, _) = decode_pixels(&s.data).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert!(w >= 1 && h >= 1, "{}", s.name);
        if djpeg {
            djpeg_clean(&s.data, &s.name).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
    }
}
