//! Selection in the coefficient domain: multi-level keys (k2 restores DC,
//! k1 DC + AC 1-5, k0 everything), regions (inside / outside), components
//! and bands. Coefficients come from `jsec::jpeg::decode_coefficients`,
//! which tests/fspe_bits.rs cross-checks against the reference decoder.

mod common;

use common::{cipher, corpus_baseline, generated_set, key, Sample};
use jsec::fspe::{Bands, Cipher, Components, Options, Region, Report, Rule};
use jsec::jpeg::{decode_coefficients, Coefficients};

/// (name, options, "is coefficient (component, k) selected?").
type SelectionCase = (&'static str, Options, fn(usize, usize) -> bool);

/// Natural index -> zigzag index.
fn zz_of_natural() -> [usize; 64] {
    let mut out = [0; 64];
    for (k, &n) in jsec::jpeg::segment::ZIGZAG_TO_NATURAL.iter().enumerate() {
        out[n as usize] = k;
    }
    out
}

/// Coefficients of every image of the file (primary first) by report offset.
fn coefs(d: &[u8], rep: &Report) -> Vec<Option<Coefficients>> {
    rep.images
        .iter()
        .map(|i| {
            if i.problem.is_some() {
                return None;
            }
            Some(decode_coefficients(&d[i.offset as usize..i.end as usize]).expect("coefficients"))
        })
        .collect()
}

/// Bits of a coefficient's magnitude category.
fn cat(v: i16) -> u32 {
    16 - (v.unsigned_abs()).leading_zeros()
}

fn inputs(max: usize) -> Vec<Sample> {
    let mut v = generated_set();
    v.push(Sample::new("gen/embedded", common::with_embedded().0));
    v.extend(
        corpus_baseline()
            .into_iter()
            .filter(|s| s.data.len() <= max),
    );
    v
}

#[test]
fn multi_level_keys_restore_their_bands() {
    let zz = zz_of_natural();
    let mut fails = Vec::new();
    for s in inputs(400_000) {
        for rule in [Rule::Full, Rule::Paper] {
            let opts = Options {
                rule,
                levels: true,
                ..Options::default()
            };
            let k0 = key(30);
            let c0 = Cipher::new(k0.clone(), opts.clone()).unwrap();
            let mut enc = s.data.clone();
            let rep = c0.encrypt(&mut enc).unwrap();
            let dec_with = |k: jsec::crypto::Key, level: u8| {
                let c = Cipher::new(k, opts.clone())
                    .unwrap()
                    .with_key_level(level)
                    .unwrap();
                let mut b = enc.clone();
                c.decrypt(&mut b).unwrap();
                b
            };
            let d2 = dec_with(k0.derive(2), 2);
            let d1 = dec_with(k0.derive(1), 1);
            let d0 = dec_with(k0.clone(), 0);
            if d0 != s.data {
                fails.push(format!(
                    "{} {rule:?}: k0 does not restore the bytes",
                    s.name
                ));
            }
            // A k1 used as if it were k2 (wrong level) must not restore DC.
            let wrong = dec_with(k0.derive(1), 2);
            let (o, e, c2, c1, cw) = (
                coefs(&s.data, &rep),
                coefs(&enc, &rep),
                coefs(&d2, &rep),
                coefs(&d1, &rep),
                coefs(&wrong, &rep),
            );
            // Per image, per coefficient class: (total, differ-from-original).
            for ii in 0..o.len() {
                let (Some(o), Some(e), Some(c2), Some(c1), Some(cw)) =
                    (&o[ii], &e[ii], &c2[ii], &c1[ii], &cw[ii])
                else {
                    continue;
                };
                let mut st = Stats::default();
                for ci in 0..o.components.len() {
                    let n = o.components[ci].data.len();
                    for i in 0..n {
                        let k = zz[i % 64];
                        let ov = o.components[ci].data[i];
                        let (ev, v2, v1, vw) = (
                            e.components[ci].data[i],
                            c2.components[ci].data[i],
                            c1.components[ci].data[i],
                            cw.components[ci].data[i],
                        );
                        if k == 0 {
                            st.dc += 1;
                            st.dc_enc_diff += (ev != ov) as u64;
                            st.dc2_diff += (v2 != ov) as u64;
                            st.dc1_diff += (v1 != ov) as u64;
                            st.dcw_diff += (vw != ov) as u64;
                        } else if k <= 5 {
                            st.lo2_diff += (v2 != ov) as u64;
                            st.lo1_diff += (v1 != ov) as u64;
                            st.lo_nonzero += (ov != 0) as u64;
                            st.lo2_ne_enc += (v2 != ev) as u64;
                        } else {
                            st.hi1_diff += (v1 != ov) as u64;
                            st.hi_nonzero += (ov != 0 && cat(ov) >= 2) as u64;
                            st.hi1_ne_enc += (v1 != ev) as u64;
                            st.hi2_ne_enc += (v2 != ev) as u64;
                        }
                    }
                }
                let tag = format!("{} {rule:?} image {ii}", s.name);
                // Flat pictures have almost no DC differences to encrypt.
                let flat = dc_spread(o) < 1.0;
                if st.dc2_diff != 0 || st.dc1_diff != 0 {
                    fails.push(format!(
                        "{tag}: DC not restored: k2 leaves {} of {} DC different, k1 {}",
                        st.dc2_diff, st.dc, st.dc1_diff
                    ));
                }
                if st.lo1_diff != 0 {
                    fails.push(format!("{tag}: k1 leaves {} AC 1-5 different", st.lo1_diff));
                }
                if st.lo2_ne_enc != 0 || st.hi2_ne_enc != 0 || st.hi1_ne_enc != 0 {
                    fails.push(format!(
                        "{tag}: a level key touched bands above its level ({} {} {})",
                        st.lo2_ne_enc, st.hi2_ne_enc, st.hi1_ne_enc
                    ));
                }
                // With k2 the AC bands, with k1 AC 6-63, stay scrambled.
                if rule == Rule::Full && st.lo_nonzero >= 50 && st.lo2_diff * 4 < st.lo_nonzero {
                    fails.push(format!(
                        "{tag}: k2 restored too much AC 1-5: {} of {} nonzero differ",
                        st.lo2_diff, st.lo_nonzero
                    ));
                }
                if rule == Rule::Full && st.hi_nonzero >= 50 && st.hi1_diff * 4 < st.hi_nonzero {
                    fails.push(format!(
                        "{tag}: k1 restored too much AC 6-63: {} of {} nonzero differ",
                        st.hi1_diff, st.hi_nonzero
                    ));
                }
                if !flat && st.dc >= 64 && rule == Rule::Full && st.dc_enc_diff * 2 < st.dc {
                    fails.push(format!(
                        "{tag}: encryption changed only {} of {} DC values",
                        st.dc_enc_diff, st.dc
                    ));
                }
                if !flat && st.dc >= 64 && rule == Rule::Full && st.dcw_diff * 2 < st.dc {
                    fails.push(format!(
                        "{tag}: a wrong key at level 2 restored {} of {} DC values",
                        st.dc - st.dcw_diff,
                        st.dc
                    ));
                }
            }
        }
    }
    common::assert_no_failures(&fails);
}

/// Standard deviation of the first component's DC values.
fn dc_spread(c: &Coefficients) -> f64 {
    let dc: Vec<f64> = c.components[0]
        .data
        .chunks(64)
        .map(|b| b[0] as f64)
        .collect();
    let n = dc.len().max(1) as f64;
    let m = dc.iter().sum::<f64>() / n;
    (dc.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt()
}

#[derive(Default)]
struct Stats {
    dc: u64,
    dc_enc_diff: u64,
    dc2_diff: u64,
    dc1_diff: u64,
    dcw_diff: u64,
    lo2_diff: u64,
    lo1_diff: u64,
    lo_nonzero: u64,
    lo2_ne_enc: u64,
    hi1_diff: u64,
    hi_nonzero: u64,
    hi1_ne_enc: u64,
    hi2_ne_enc: u64,
}

/// Pixel footprint of block (bx, by) of component c, clipped (own formula).
fn footprint(co: &Coefficients, c: usize, bx: u32, by: u32) -> (u32, u32, u32, u32) {
    let f = &co.frame;
    let (hmax, vmax) = (
        f.components.iter().map(|x| x.h).max().unwrap() as u32,
        f.components.iter().map(|x| x.v).max().unwrap() as u32,
    );
    let sx = 8 * hmax / f.components[c].h as u32;
    let sy = 8 * vmax / f.components[c].v as u32;
    (
        (bx * sx).min(f.width),
        (by * sy).min(f.height),
        ((bx + 1) * sx).min(f.width),
        ((by + 1) * sy).min(f.height),
    )
}

/// Encrypt with a region and check the primary image block by block.
fn check_region(s: &Sample, r: Region, rule: Rule, fails: &mut Vec<String>) {
    let opts = Options {
        rule,
        region: Some(r),
        ..Options::default()
    };
    let c = cipher(31, opts);
    let mut enc = s.data.clone();
    let rep = match c.encrypt(&mut enc) {
        Ok(x) => x,
        Err(e) => {
            fails.push(format!("{}: {e}", s.name));
            return;
        }
    };
    let mut dec = enc.clone();
    c.decrypt(&mut dec).unwrap();
    if dec != s.data {
        fails.push(format!("{} {r:?}: decrypt does not restore", s.name));
    }
    let p = &rep.images[0];
    let o = decode_coefficients(&s.data[..p.end as usize]).unwrap();
    let e = decode_coefficients(&enc[..p.end as usize]).unwrap();
    let (mut sel_rich, mut sel_rich_diff, mut leaks) = (0u64, 0u64, Vec::new());
    for ci in 0..o.components.len() {
        let oc = &o.components[ci];
        let ec = &e.components[ci];
        for by in 0..oc.blocks_h {
            for bx in 0..oc.blocks_w {
                let (x0, y0, x1, y1) = footprint(&o, ci, bx, by);
                if x0 >= x1 || y0 >= y1 {
                    continue; // padding
                }
                let (rx1, ry1) = (r.x.saturating_add(r.w), r.y.saturating_add(r.h));
                let touches = x0 < rx1 && r.x < x1 && y0 < ry1 && r.y < y1;
                let inside = x0 >= r.x && x1 <= rx1 && y0 >= r.y && y1 <= ry1;
                let selected = if r.outside { !inside } else { touches };
                let (ob, eb) = (oc.block(bx, by), ec.block(bx, by));
                if !selected {
                    if ob != eb && leaks.len() < 5 {
                        leaks.push(format!("comp {ci} block ({bx},{by})"));
                    }
                } else {
                    let ac_bits: u32 = (1..64).map(|n| cat(ob[n])).sum();
                    if ac_bits >= 8 {
                        sel_rich += 1;
                        sel_rich_diff += (ob != eb) as u64;
                    }
                }
            }
        }
    }
    // The region applies to the primary image only: embedded images are
    // encrypted whole.
    for img in rep.images.iter().skip(1) {
        if img.problem.is_none() && img.stats.eligible_full > 0 && img.stats.encrypted == 0 {
            fails.push(format!(
                "{} {r:?}: embedded image at {} not encrypted",
                s.name, img.offset
            ));
        }
    }
    if !leaks.is_empty() {
        fails.push(format!(
            "{} {rule:?} {r:?}: unselected blocks changed: {}",
            s.name,
            leaks.join(", ")
        ));
    }
    // Full: nearly every block with >= 8 AC additional bits changes; Paper
    // encrypts far fewer bits.
    let need = if rule == Rule::Full { 9 } else { 5 };
    if sel_rich >= 4 && sel_rich_diff * 10 < sel_rich * need {
        fails.push(format!(
            "{} {rule:?} {r:?}: only {sel_rich_diff} of {sel_rich} selected blocks with AC content changed",
            s.name
        ));
    }
    if sel_rich == 0 && p.stats.encrypted == 0 && enc != s.data {
        // Nothing selected in the primary: only embedded images may change.
        let first_scan_change = s.data.iter().zip(&enc).position(|(a, b)| a != b);
        if rep.images.len() == 1 {
            fails.push(format!(
                "{}: nothing selected but bytes changed at {first_scan_change:?}",
                s.name
            ));
        }
    }
}

#[test]
fn region_inside_and_outside() {
    let mut fails = Vec::new();
    for s in inputs(300_000) {
        let rep = jsec::fspe::inspect(&s.data).unwrap();
        let (w, h) = (rep.images[0].width, rep.images[0].height);
        let mut regions = vec![
            // Unaligned rectangle in the middle.
            (w / 4 + 3, h / 3 + 1, (w / 3).max(1), (h / 4).max(1)),
            // Aligned 16x16 corner block.
            (0, 0, 16, 16),
            // Whole picture and more (saturating arithmetic).
            (0, 0, u32::MAX, u32::MAX),
            // Thin stripe.
            (w / 2, 0, 1, h),
        ];
        if w > 9 {
            regions.push((w - 9, h.saturating_sub(9), 40, 40));
        }
        for (i, &(x, y, rw, rh)) in regions.iter().enumerate() {
            for outside in [false, true] {
                let rule = if i % 2 == 0 { Rule::Full } else { Rule::Paper };
                let r = Region {
                    x,
                    y,
                    w: rw,
                    h: rh,
                    outside,
                };
                check_region(&s, r, rule, &mut fails);
            }
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn region_outside_the_picture_changes_no_visible_block() {
    // Padding blocks (no pixel footprint) may be encrypted; nothing visible
    // may change, and embedded images are still encrypted.
    let mut fails = Vec::new();
    for s in inputs(100_000) {
        let rep = jsec::fspe::inspect(&s.data).unwrap();
        let p = &rep.images[0];
        for (x, y) in [(p.width + 8, 0), (0, p.height), (p.width, p.height)] {
            let r = Region {
                x,
                y,
                w: 100,
                h: 100,
                outside: false,
            };
            check_region(&s, r, Rule::Full, &mut fails);
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn components_and_bands_in_coefficient_domain() {
    let zz = zz_of_natural();
    let mut fails = Vec::new();
    for s in inputs(300_000) {
        let cases: [SelectionCase; 4] = [
            (
                "luma",
                Options {
                    components: Components::Luma,
                    ..Options::default()
                },
                |c, _| c == 0,
            ),
            (
                "chroma",
                Options {
                    components: Components::Chroma,
                    ..Options::default()
                },
                |c, _| c != 0,
            ),
            (
                "dc",
                Options {
                    bands: Bands {
                        dc: true,
                        ac_low: false,
                        ac_high: false,
                    },
                    ..Options::default()
                },
                |_, k| k == 0,
            ),
            (
                "ac-high/paper",
                Options {
                    rule: Rule::Paper,
                    bands: Bands {
                        dc: false,
                        ac_low: false,
                        ac_high: true,
                    },
                    ..Options::default()
                },
                |_, k| k >= 6,
            ),
        ];
        for (name, opts, sel) in cases {
            let c = cipher(33, opts);
            let mut enc = s.data.clone();
            let rep = c.encrypt(&mut enc).unwrap();
            let (o, e) = (coefs(&s.data, &rep), coefs(&enc, &rep));
            let mut changed_selected = 0;
            for (oi, ei) in o.iter().zip(&e) {
                let (Some(oi), Some(ei)) = (oi, ei) else {
                    continue;
                };
                for ci in 0..oi.components.len() {
                    let (a, b) = (&oi.components[ci].data, &ei.components[ci].data);
                    let mut bad = 0;
                    for i in 0..a.len() {
                        let k = zz[i % 64];
                        // A DC difference change shifts later absolute DCs of
                        // the same component only: compare DC only where DC
                        // is unselected.
                        if a[i] != b[i] {
                            if sel(ci, k) {
                                changed_selected += 1;
                            } else {
                                bad += 1;
                            }
                        }
                    }
                    if bad > 0 {
                        fails.push(format!(
                            "{} [{name}]: {bad} unselected coefficients of component {ci} changed",
                            s.name
                        ));
                    }
                }
            }
            let total: u64 = rep.images.iter().map(|i| i.stats.encrypted).sum();
            if total >= 64 && changed_selected == 0 {
                fails.push(format!("{} [{name}]: nothing changed", s.name));
            }
        }
    }
    common::assert_no_failures(&fails);
}
