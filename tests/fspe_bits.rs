//! Bit-exact checks against an independent reference classifier
//! (tests/common/refdec.rs): every bit FSPE changes is an additional bit the
//! rule and the selection allow, markers and headers stay byte-identical,
//! the statistics of `inspect` and the coefficients of
//! `jsec::jpeg::decode_coefficients` agree with the reference decoder.

mod common;

use common::refdec::{self, RefFile, ZIGZAG};
use common::{cipher, corpus_baseline_small, generated_set, Sample};
use jsec::fspe::{Bands, Components, Options, Rule};

/// Largest corpus file run through the slow reference classifier.
const MAX_REF: usize = 260_000;

struct Case {
    name: &'static str,
    opts: Options,
    /// (image, comp, k) -> selected? (no region here).
    pred: fn(usize, usize, usize) -> bool,
}

fn cases() -> Vec<Case> {
    let bands = |dc, ac_low, ac_high| Bands {
        dc,
        ac_low,
        ac_high,
    };
    vec![
        Case {
            name: "full/all",
            opts: Options::default(),
            pred: |_, _, _| true,
        },
        Case {
            name: "paper/all",
            opts: Options {
                rule: Rule::Paper,
                ..Options::default()
            },
            pred: |_, _, _| true,
        },
        Case {
            name: "full/dc-only",
            opts: Options {
                bands: bands(true, false, false),
                ..Options::default()
            },
            pred: |_, _, k| k == 0,
        },
        Case {
            name: "paper/luma",
            opts: Options {
                rule: Rule::Paper,
                components: Components::Luma,
                ..Options::default()
            },
            pred: |_, c, _| c == 0,
        },
        Case {
            name: "full/chroma-ac-high",
            opts: Options {
                components: Components::Chroma,
                bands: bands(false, false, true),
                ..Options::default()
            },
            pred: |_, c, k| c != 0 && k >= 6,
        },
        Case {
            name: "full/ac-low-levels",
            opts: Options {
                bands: bands(false, true, false),
                levels: true,
                ..Options::default()
            },
            pred: |_, _, k| (1..=5).contains(&k),
        },
    ]
}

/// Compare jsec's view of the file (inspect, decode_coefficients) with the
/// reference decoder's.
fn check_structure(s: &Sample, r: &RefFile, fails: &mut Vec<String>) {
    let rep = match jsec::fspe::inspect(&s.data) {
        Ok(x) => x,
        Err(e) => {
            fails.push(format!("{}: inspect: {e}", s.name));
            return;
        }
    };
    let mut mine: Vec<usize> = r.images.iter().map(|i| i.start).collect();
    let mut theirs: Vec<usize> = rep.images.iter().map(|i| i.offset as usize).collect();
    mine.sort();
    theirs.sort();
    if mine != theirs {
        fails.push(format!(
            "{}: images found: reference {mine:?}, jsec {theirs:?}",
            s.name
        ));
    }
    for im in &r.images {
        let Some(j) = rep.images.iter().find(|j| j.offset as usize == im.start) else {
            continue;
        };
        let got = (
            j.width as usize,
            j.height as usize,
            j.scans as usize,
            j.restart_interval as usize,
            j.end as usize,
            j.stats.additional,
            j.stats.eligible_paper,
            j.stats.eligible_full,
        );
        let want = (
            im.width,
            im.height,
            im.scans,
            im.restart_interval,
            im.end,
            im.additional,
            im.eligible_paper,
            im.eligible_full,
        );
        if got != want {
            fails.push(format!(
                "{}: image at {}: jsec (w,h,scans,ri,end,additional,paper,full) = {got:?}, reference {want:?}",
                s.name, im.start
            ));
        }
        let samp: Vec<(u8, u8, u8)> = im
            .comps
            .iter()
            .map(|c| (c.id, c.h as u8, c.v as u8))
            .collect();
        if j.sampling != samp {
            fails.push(format!(
                "{}: image at {}: sampling {:?} vs reference {samp:?}",
                s.name, im.start, j.sampling
            ));
        }
        // Coefficients of every image, decoded standalone.
        let bytes = &s.data[im.start..im.end];
        match jsec::jpeg::decode_coefficients(bytes) {
            Err(e) => fails.push(format!(
                "{}: decode_coefficients of image at {}: {e}",
                s.name, im.start
            )),
            Ok(co) => {
                if co.components.len() != im.comps.len() {
                    fails.push(format!("{}: component count differs", s.name));
                    continue;
                }
                for (ci, (a, b)) in co.components.iter().zip(&im.comps).enumerate() {
                    if (a.blocks_w as usize, a.blocks_h as usize) != (b.bw, b.bh) || a.id != b.id {
                        fails.push(format!(
                            "{}: image at {} comp {ci}: grid {}x{} vs reference {}x{}",
                            s.name, im.start, a.blocks_w, a.blocks_h, b.bw, b.bh
                        ));
                        continue;
                    }
                    let mut bad = 0;
                    for (bi, blk) in b.coefs.iter().enumerate() {
                        for k in 0..64 {
                            if a.data[bi * 64 + ZIGZAG[k]] as i32 != blk[k] {
                                bad += 1;
                            }
                        }
                    }
                    if bad > 0 {
                        fails.push(format!(
                            "{}: image at {} comp {ci}: {bad} coefficients differ from the reference",
                            s.name, im.start
                        ));
                    }
                }
            }
        }
    }
}

/// Encrypt with the case's options and check every changed bit.
fn check_case(s: &Sample, case: &Case, fails: &mut Vec<String>) {
    let pred = case.pred;
    let r = match refdec::classify(&s.data, &|img, c, _, _, k| pred(img, c, k)) {
        Ok(r) => r,
        Err(e) => {
            fails.push(format!("{}: reference decoder: {e}", s.name));
            return;
        }
    };
    let cl = &r.classes;
    let orig = &s.data;
    let mut enc = orig.clone();
    let rep = match cipher(3, case.opts.clone()).encrypt(&mut enc) {
        Ok(x) => x,
        Err(e) => {
            fails.push(format!("{} [{}]: encrypt: {e}", s.name, case.name));
            return;
        }
    };
    let rule = case.opts.rule;
    let mut eligible_sel = 0u64;
    let mut changed = 0u64;
    let mut msgs = Vec::new();
    for i in 0..orig.len() {
        let (o, e) = (orig[i], enc[i]);
        let eligible = match rule {
            Rule::Full => o != 0xFF,
            Rule::Paper => cl.huff[i] & !o != 0 && cl.add[i] != 0,
        };
        if eligible {
            eligible_sel += cl.sel[i].count_ones() as u64;
        }
        let diff = o ^ e;
        if diff == 0 {
            continue;
        }
        changed += diff.count_ones() as u64;
        let mut why = Vec::new();
        if diff & !cl.add[i] != 0 {
            why.push(if cl.data[i] {
                "non-additional bits changed"
            } else {
                "byte outside entropy-coded data changed"
            });
        }
        if diff & !cl.sel[i] != 0 && diff & !cl.add[i] == 0 {
            why.push("unselected additional bits changed");
        }
        if !eligible {
            why.push("byte not eligible under the rule");
        }
        if (o == 0xFF) != (e == 0xFF) {
            why.push("0xFF-ness changed");
        }
        if !why.is_empty() && msgs.len() < 8 {
            msgs.push(format!(
                "offset {i}: {o:02X}->{e:02X} huff {:08b} add {:08b} sel {:08b}: {}",
                cl.huff[i],
                cl.add[i],
                cl.sel[i],
                why.join(", ")
            ));
        }
    }
    if !msgs.is_empty() {
        fails.push(format!(
            "{} [{}]: forbidden changes:\n  {}",
            s.name,
            case.name,
            msgs.join("\n  ")
        ));
    }
    let reported: u64 = rep.images.iter().map(|i| i.stats.encrypted).sum();
    if reported != eligible_sel {
        fails.push(format!(
            "{} [{}]: report says {reported} bits encrypted, reference counts {eligible_sel} eligible selected bits",
            s.name, case.name
        ));
    }
    if eligible_sel >= 200 && (changed as f64) < 0.3 * eligible_sel as f64 {
        fails.push(format!(
            "{} [{}]: only {changed} of {eligible_sel} eligible bits changed",
            s.name, case.name
        ));
    }
}

fn run(samples: &[Sample], all_cases: bool) {
    let mut fails = Vec::new();
    let cases = cases();
    let (mut images, mut bits) = (0, 0);
    for s in samples {
        match refdec::classify_all(&s.data) {
            Ok(r) => {
                images += r.images.len();
                bits += r.images.iter().map(|i| i.additional).sum::<u64>();
                check_structure(s, &r, &mut fails)
            }
            Err(e) => {
                fails.push(format!("{}: reference decoder: {e}", s.name));
                continue;
            }
        }
        for c in cases.iter().take(if all_cases { cases.len() } else { 2 }) {
            check_case(s, c, &mut fails);
        }
    }
    eprintln!(
        "checked {} files, {images} images, {bits} additional bits",
        samples.len()
    );
    common::assert_no_failures(&fails);
}

#[test]
fn generated_changed_bits_are_allowed_additional_bits() {
    run(&generated_set(), true);
}

#[test]
fn generated_with_embedded_images_changed_bits_are_allowed() {
    let (file, ..) = common::with_embedded();
    run(&[Sample::new("gen/embedded", file)], true);
}

#[test]
fn corpus_changed_bits_are_allowed_additional_bits() {
    let set = corpus_baseline_small(MAX_REF);
    run(&set, false);
}

#[test]
fn corpus_small_selection_options_bit_exact() {
    let set = corpus_baseline_small(60_000);
    run(&set, true);
}

#[test]
fn reference_decoder_agrees_with_jpeg_decoder_dimensions() {
    // Guard for the reference decoder itself.
    for s in generated_set() {
        let r = refdec::classify_all(&s.data).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let (w, h, _) = common::decode_pixels(&s.data).unwrap();
        assert_eq!(
            (r.images[0].width, r.images[0].height),
            (w as usize, h as usize)
        );
        assert!(r.images[0].additional > 0, "{}", s.name);
    }
}
