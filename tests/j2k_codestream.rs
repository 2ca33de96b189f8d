//! The JPEG 2000 codestream and JP2 box map: every J2K / JP2 file of the
//! shared corpus parses, is written back byte for byte, and its tile-parts
//! add up; damaged and hostile headers are errors with a message, never a
//! panic.

#[path = "common/fuzz_bodies.rs"]
mod bodies;
mod common;

use jsec::j2k::{J2kFile, Progression};
use jsec::ErrorKind;
use std::path::Path;

#[test]
fn corpus_files_parse_and_write_back_identical() {
    let files = common::j2k_corpus_files(true);
    if files.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let mut n = 0;
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        if name.starts_with("bad-") {
            assert!(J2kFile::parse(&data).is_err(), "{name} parses");
            continue;
        }
        let f = J2kFile::parse(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            f.write(&data).unwrap(),
            data,
            "{name}: not written back identical"
        );
        let cs = &f.codestream;
        // Main header + tile-parts + EOC + trailing bytes cover the
        // codestream exactly, in order.
        let mut at = cs.start;
        for s in &cs.main {
            assert_eq!(s.offset, at, "{name}");
            at += s.len;
        }
        let mut parts = vec![0u32; cs.siz.tiles() as usize];
        for tp in &cs.tile_parts {
            assert_eq!(tp.offset(), at, "{name}");
            if tp.sot.psot != 0 {
                assert_eq!(tp.len(), tp.sot.psot as usize, "{name}: Psot");
            }
            assert_eq!(tp.sot.part as u32, parts[tp.sot.tile as usize], "{name}");
            parts[tp.sot.tile as usize] += 1;
            at = tp.data.end;
        }
        for tp in &cs.tile_parts {
            if tp.sot.parts != 0 {
                assert_eq!(
                    tp.sot.parts as u32, parts[tp.sot.tile as usize],
                    "{name}: TNsot"
                );
            }
        }
        assert!(
            parts.iter().all(|&p| p > 0),
            "{name}: a tile without tile-parts"
        );
        if let Some(e) = cs.eoc {
            assert_eq!(e.offset, at, "{name}");
            at += 2;
        }
        assert_eq!(at, cs.trailing.start, "{name}");
        assert!(cs.trailing.is_empty(), "{name}: bytes after EOC");
        n += 1;
    }
    assert!(n >= 40, "only {n} corpus files checked");
}

#[test]
fn header_facts_match_the_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/j2k-conformance");
    let Ok(p013) = std::fs::read(root.join("p0_13.j2k")) else {
        eprintln!("shared corpus not found: skipped");
        return;
    };
    let f = J2kFile::parse(&p013).unwrap();
    assert_eq!(f.codestream.siz.components.len(), 257);
    assert_eq!(f.codestream.siz.component_index_len(), 2);
    assert!(!f.codestream.pocs.is_empty(), "p0_13 has a POC");
    let p105 = J2kFile::parse(&std::fs::read(root.join("p1_05.j2k")).unwrap()).unwrap();
    assert_eq!(p105.codestream.siz.tiles(), 225);
    assert_eq!(p105.codestream.cod.progression, Progression::Pcrl);
    assert!(p105.codestream.cod.sop() && p105.codestream.cod.eph());
    let p006 = J2kFile::parse(&std::fs::read(root.join("p0_06.j2k")).unwrap()).unwrap();
    let dims: Vec<(u8, u8)> = p006
        .codestream
        .siz
        .components
        .iter()
        .map(|c| (c.dx, c.dy))
        .collect();
    // (XRsiz, YRsiz) as opj_dump prints them (dx, dy).
    assert_eq!(dims, [(1, 1), (2, 1), (1, 2), (2, 2)]);
    assert!(p006
        .codestream
        .siz
        .components
        .iter()
        .all(|c| c.precision == 12));
    let jp2 = J2kFile::parse(&std::fs::read(root.join("file1.jp2")).unwrap()).unwrap();
    let kinds: Vec<String> = jp2
        .boxes
        .as_ref()
        .unwrap()
        .iter()
        .map(|b| b.kind_name())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "jp2h") && kinds.iter().any(|k| k == "jp2c"),
        "{kinds:?}"
    );
}

/// A small valid codestream to damage: the 7x9 SOP/EPH one from the corpus,
/// or a hand-made one-tile stream when the corpus is absent.
fn small() -> Vec<u8> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/generated/j2k/tiny-7x9.j2k");
    std::fs::read(p).unwrap_or_else(|_| handmade(1, 1, 7, 9))
}

/// SOC, SIZ (`w` x `h`, tiles `tw` x `th`, one 8-bit component), COD, QCD,
/// one empty tile-part per tile, EOC.
fn handmade(tw: u32, th: u32, w: u32, h: u32) -> Vec<u8> {
    let mut v = vec![0xFF, 0x4F, 0xFF, 0x51, 0x00, 41, 0, 0];
    for x in [w, h, 0, 0, w.div_ceil(tw), h.div_ceil(th), 0, 0] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(&[0, 1, 7, 1, 1]);
    v.extend_from_slice(&[0xFF, 0x52, 0, 12, 0, 0, 0, 1, 0, 0, 4, 4, 0, 1]);
    v.extend_from_slice(&[0xFF, 0x5C, 0, 4, 0x40, 0x48]);
    for t in 0..tw * th {
        v.extend_from_slice(&[0xFF, 0x90, 0, 10]);
        v.extend_from_slice(&(t as u16).to_be_bytes());
        v.extend_from_slice(&15u32.to_be_bytes());
        v.extend_from_slice(&[0, 1, 0xFF, 0x93, 0x00]);
    }
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

#[test]
fn handmade_streams_parse() {
    for (tw, th) in [(1, 1), (3, 2)] {
        let d = handmade(tw, th, 30, 20);
        let f = J2kFile::parse(&d).unwrap_or_else(|e| panic!("{tw}x{th}: {e}"));
        assert_eq!(f.codestream.tile_parts.len() as u32, tw * th);
        assert_eq!(f.write(&d).unwrap(), d);
    }
}

#[test]
fn every_truncation_is_an_error() {
    let d = small();
    for n in 0..d.len() - 2 {
        let r = std::panic::catch_unwind(|| J2kFile::parse(&d[..n]))
            .unwrap_or_else(|_| panic!("panic at length {n}"));
        let e = r.expect_err(&format!("{n} bytes parse"));
        assert_eq!(e.kind(), ErrorKind::Malformed, "{n}: {e}");
        assert!(!e.message().is_empty());
    }
}

#[test]
fn hostile_headers_are_refused_before_allocating() {
    let base = handmade(1, 1, 30, 20);
    let siz = 2; // offset of SIZ's marker
    let set32 = |d: &mut Vec<u8>, field: usize, v: u32| {
        let at = siz + 6 + 4 * field; // after marker, Lsiz, Rsiz
        d[at..at + 4].copy_from_slice(&v.to_be_bytes());
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a 1x1 tile grid over 2^32 samples",
            {
                let mut d = base.clone();
                set32(&mut d, 0, u32::MAX);
                set32(&mut d, 1, u32::MAX);
                set32(&mut d, 4, 1);
                set32(&mut d, 5, 1);
                d
            },
            "tiles",
        ),
        (
            "empty image",
            {
                let mut d = base.clone();
                set32(&mut d, 2, 30);
                d
            },
            "empty image",
        ),
        (
            "zero tile size",
            {
                let mut d = base.clone();
                set32(&mut d, 4, 0);
                d
            },
            "tile size",
        ),
        (
            "Csiz larger than the segment",
            {
                let mut d = base.clone();
                d[siz + 4 + 34] = 0x40; // Csiz = 0x4001
                d
            },
            "components",
        ),
        (
            "sub-sampling 0",
            {
                let mut d = base.clone();
                d[siz + 4 + 37] = 0;
                d
            },
            "sub-sampling",
        ),
        (
            "33 decomposition levels",
            {
                let mut d = base.clone();
                let cod = d.windows(2).position(|w| w == [0xFF, 0x52]).unwrap();
                d[cod + 9] = 33;
                d
            },
            "decomposition levels",
        ),
        (
            "code-blocks of 2^11",
            {
                let mut d = base.clone();
                let cod = d.windows(2).position(|w| w == [0xFF, 0x52]).unwrap();
                d[cod + 10] = 9;
                d
            },
            "code-block size",
        ),
        (
            "progression 5",
            {
                let mut d = base.clone();
                let cod = d.windows(2).position(|w| w == [0xFF, 0x52]).unwrap();
                d[cod + 5] = 5;
                d
            },
            "progression order 5",
        ),
        (
            "Psot past the end",
            {
                let mut d = base.clone();
                let sot = d.windows(2).position(|w| w == [0xFF, 0x90]).unwrap();
                d[sot + 6..sot + 10].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
                d
            },
            "truncated",
        ),
        (
            "tile index out of range",
            {
                let mut d = base.clone();
                let sot = d.windows(2).position(|w| w == [0xFF, 0x90]).unwrap();
                d[sot + 5] = 7;
                d
            },
            "tile-part of tile 7",
        ),
        (
            "tile-part out of order",
            {
                let mut d = base.clone();
                let sot = d.windows(2).position(|w| w == [0xFF, 0x90]).unwrap();
                d[sot + 10] = 1;
                d
            },
            "was due",
        ),
        (
            "no COD",
            {
                let mut d = base.clone();
                let cod = d.windows(2).position(|w| w == [0xFF, 0x52]).unwrap();
                d.drain(cod..cod + 14);
                d
            },
            "no COD",
        ),
        (
            "a segment length past the end",
            {
                let mut d = base.clone();
                let qcd = d.windows(2).position(|w| w == [0xFF, 0x5C]).unwrap();
                d[qcd + 2] = 0x7F;
                d
            },
            "runs past the end",
        ),
        (
            "not a codestream",
            b"GIF89a..........".to_vec(),
            "not a JPEG 2000 codestream",
        ),
    ];
    for (what, d, expect) in cases {
        let e = J2kFile::parse(&d).expect_err(what);
        assert_eq!(e.kind(), ErrorKind::Malformed, "{what}: {e}");
        assert!(e.message().contains(expect), "{what}: {e}");
    }
}

#[test]
fn jp2_boxes_are_checked_and_kept() {
    let cs = handmade(1, 1, 30, 20);
    let mut jp2 = jsec::j2k::boxes::SIGNATURE.to_vec();
    jp2.extend_from_slice(&[0, 0, 0, 20]);
    jp2.extend_from_slice(b"ftypjp2 \0\0\0\0jp2 ");
    jp2.extend_from_slice(&[0, 0, 0, 12]);
    jp2.extend_from_slice(b"xyz!abcd");
    // jp2c with an XLBox.
    jp2.extend_from_slice(&[0, 0, 0, 1]);
    jp2.extend_from_slice(b"jp2c");
    jp2.extend_from_slice(&(cs.len() as u64 + 16).to_be_bytes());
    jp2.extend_from_slice(&cs);
    let f = J2kFile::parse(&jp2).unwrap();
    assert_eq!(f.boxes.as_ref().unwrap().len(), 4);
    assert_eq!(f.write(&jp2).unwrap(), jp2);
    // LBox 0: to the end.
    let mut to_end = jp2.clone();
    let c = to_end.len() - cs.len() - 16;
    to_end.splice(c..c + 16, [0, 0, 0, 0, b'j', b'p', b'2', b'c']);
    let f = J2kFile::parse(&to_end).unwrap();
    assert!(f.boxes.as_ref().unwrap()[3].to_end);
    assert_eq!(f.write(&to_end).unwrap(), to_end);
    // Damage: a box longer than the file, no jp2c, no ftyp.
    let mut long = jp2.clone();
    long[12..16].copy_from_slice(&1000u32.to_be_bytes());
    assert!(J2kFile::parse(&long)
        .unwrap_err()
        .message()
        .contains("claims 1000 bytes"));
    let no_c = jp2[..jp2.len() - cs.len() - 16].to_vec();
    assert!(J2kFile::parse(&no_c)
        .unwrap_err()
        .message()
        .contains("jp2c"));
    let mut no_ftyp = jp2.clone();
    no_ftyp[16..20].copy_from_slice(b"xxxx");
    assert!(J2kFile::parse(&no_ftyp)
        .unwrap_err()
        .message()
        .contains("ftyp"));
    for n in 0..jp2.len() - 2 {
        assert!(J2kFile::parse(&jp2[..n]).is_err(), "{n} bytes parse");
    }
}

#[test]
fn random_damage_never_panics() {
    // The fuzz target's body (write back identical, re-parse equal) over
    // the corpus and damaged copies of a small stream.
    for path in common::j2k_corpus_files(true) {
        bodies::j2k_codestream(&std::fs::read(path).unwrap());
    }
    let d = small();
    let mut rng = common::Rng::new(0x12C);
    for _ in 0..3000 {
        let mut x = d.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(x.len());
            x[i] = rng.below(256) as u8;
        }
        bodies::j2k_codestream(&x);
    }
}
