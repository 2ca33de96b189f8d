//! The packet index, proved against what the encoder wrote independently:
//! SOP markers (each packet's sequence number, at the offset the index
//! gives) and PLT segments (each packet's length), on every J2K / JP2 file
//! of the shared corpus and on streams `opj_compress` makes here for every
//! progression order, resolutions, layers, tiles, precincts, code-block
//! styles, lossless and lossy, one and three components.

mod common;

use jsec::j2k::codestream::Codestream;
use jsec::j2k::marker::{PLT, SOP};
use jsec::j2k::{J2kFile, PacketIndex};
use std::path::Path;
use std::process::Command;

/// The packet lengths a tile-part's PLT segments give (Zplt order; 7-bit
/// groups, high bit = more follow), or `None` without PLT.
fn plt_lengths(cs: &Codestream, data: &[u8], tp: usize) -> Option<Vec<usize>> {
    let mut segs: Vec<(u8, &[u8])> = cs.tile_parts[tp]
        .segments
        .iter()
        .filter(|s| s.marker == PLT)
        .map(|s| {
            let p = s.payload(data);
            (p[0], &p[1..])
        })
        .collect();
    if segs.is_empty() {
        return None;
    }
    segs.sort_by_key(|s| s.0);
    let mut out = Vec::new();
    let mut v = 0usize;
    for b in segs.iter().flat_map(|s| s.1.iter()) {
        v = (v << 7) | (b & 0x7F) as usize;
        if b & 0x80 == 0 {
            out.push(v);
            v = 0;
        }
    }
    Some(out)
}

/// Check the index of `data` against the codestream itself; returns the
/// number of packets and how many were checked against SOP and PLT.
fn check(name: &str, data: &[u8]) -> (usize, usize, usize) {
    let f = J2kFile::parse(data).unwrap_or_else(|e| panic!("{name}: {e}"));
    let cs = &f.codestream;
    let ix = PacketIndex::build(cs, data).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        ix.missing.iter().all(|&m| m == 0),
        "{name}: missing packets {:?}",
        ix.missing
    );
    let (mut by_sop, mut by_plt) = (0, 0);
    for (i, tp) in cs.tile_parts.iter().enumerate() {
        let pk: Vec<_> = ix.packets.iter().filter(|p| p.tile_part == i).collect();
        // The packets tile the tile-part's data exactly, in order.
        let mut at = tp.data.start;
        for p in &pk {
            assert_eq!(p.offset, at, "{name}: tile-part {i} packet {}", p.seq);
            let sop = if p.sop { 6 } else { 0 };
            assert_eq!(
                p.length,
                sop + p.header_length + p.body_length,
                "{name}: packet {}",
                p.seq
            );
            assert_eq!(p.body_offset, p.offset + sop + p.header_length);
            let sum: u64 = p.contributions.iter().map(|c| c.bytes as u64).sum();
            assert_eq!(sum, p.body_length as u64, "{name}: packet {}", p.seq);
            if p.sop {
                // The encoder's own sequence number sits at the offset.
                assert_eq!(&data[p.offset..p.offset + 2], &SOP.to_be_bytes());
                let n = u16::from_be_bytes([data[p.offset + 4], data[p.offset + 5]]);
                assert_eq!(n as u32, p.seq % 65536, "{name}");
                by_sop += 1;
            }
            at += p.length;
        }
        assert_eq!(
            at, tp.data.end,
            "{name}: tile-part {i} not covered by its packets"
        );
        if let Some(lens) = plt_lengths(cs, data, i) {
            let ours: Vec<usize> = pk.iter().map(|p| p.length).collect();
            assert_eq!(
                ours, lens,
                "{name}: tile-part {i}: packet lengths differ from PLT"
            );
            by_plt += lens.len();
        }
    }
    if cs.cod.sop() && cs.tile_parts.iter().all(|tp| tp.cod.is_none()) {
        // opj_compress -SOP puts one before every packet.
        assert!(
            ix.packets.iter().all(|p| p.sop),
            "{name}: a packet without SOP"
        );
    }
    (ix.packets.len(), by_sop, by_plt)
}

#[test]
fn every_corpus_file_indexes_exactly() {
    let files = common::j2k_corpus_files(false);
    if files.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let (mut packets, mut sop, mut plt) = (0, 0, 0);
    for p in &files {
        let (n, s, l) = check(&p.display().to_string(), &std::fs::read(p).unwrap());
        packets += n;
        sop += s;
        plt += l;
    }
    eprintln!(
        "{} files, {packets} packets; {sop} checked against SOP, {plt} against PLT",
        files.len()
    );
    assert!(
        sop > 1000 && plt > 100,
        "too few independent checks: {sop} SOP, {plt} PLT"
    );
}

/// A deterministic 3-channel (or gray) picture as PNM.
fn pnm(w: usize, h: usize, gray: bool, seed: u64) -> Vec<u8> {
    let ch = if gray { 1 } else { 3 };
    let px = common::pixels(w, h, ch, seed);
    let mut v = format!("{}\n{w} {h}\n255\n", if gray { "P5" } else { "P6" }).into_bytes();
    v.extend_from_slice(&px);
    v
}

#[test]
fn opj_compress_streams_agree_with_sop_and_plt() {
    if !common::have_tool("opj_compress") {
        eprintln!("opj_compress not found (libopenjp2-tools): skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.ppm"), pnm(203, 151, false, 1)).unwrap();
    std::fs::write(d.join("g.pgm"), pnm(130, 97, true, 2)).unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("c.ppm", &["-p", "LRCP", "-n", "5", "-r", "40,20,10"]),
        ("c.ppm", &["-p", "RLCP", "-n", "4", "-r", "30,10"]),
        (
            "c.ppm",
            &[
                "-p",
                "RPCL",
                "-n",
                "6",
                "-c",
                "[64,64],[32,32],[16,16]",
                "-r",
                "20,5,1",
            ],
        ),
        (
            "c.ppm",
            &["-p", "PCRL", "-n", "3", "-t", "64,48", "-r", "20,8"],
        ),
        (
            "c.ppm",
            &["-p", "CPRL", "-n", "5", "-c", "[32,32]", "-b", "16,16"],
        ),
        (
            "c.ppm",
            &["-p", "RPCL", "-n", "4", "-M", "1", "-r", "30,15,3"],
        ),
        ("c.ppm", &["-p", "LRCP", "-M", "4", "-r", "12,4"]),
        ("c.ppm", &["-p", "LRCP", "-M", "5", "-b", "32,16"]),
        (
            "c.ppm",
            &[
                "-p",
                "PCRL",
                "-M",
                "63",
                "-r",
                "10,2",
                "-c",
                "[64,32],[32,16]",
            ],
        ),
        ("c.ppm", &["-I", "-p", "RLCP", "-r", "50,25,10,5"]),
        (
            "c.ppm",
            &[
                "-d", "17,9", "-T", "5,3", "-t", "50,40", "-p", "RPCL", "-r", "20,5",
            ],
        ),
        ("c.ppm", &["-t", "64,64", "-TP", "R", "-r", "20,8"]),
        (
            "c.ppm",
            &["-t", "64,64", "-TP", "L", "-r", "20,8,2", "-p", "LRCP"],
        ),
        (
            "c.ppm",
            &[
                "-POC",
                "T0=0,0,2,3,3,RLCP/T0=0,0,4,6,3,CPRL",
                "-r",
                "16,4,2,1",
            ],
        ),
        (
            "g.pgm",
            &[
                "-p",
                "CPRL",
                "-n",
                "6",
                "-c",
                "[128,128],[64,64],[16,16]",
                "-r",
                "8,2",
            ],
        ),
        ("g.pgm", &["-n", "1", "-r", "5"]),
        (
            "g.pgm",
            &["-p", "RPCL", "-t", "33,29", "-n", "4", "-M", "2", "-EPH"],
        ),
    ];
    let (mut sop, mut plt) = (0, 0);
    for (i, (input, args)) in cases.iter().enumerate() {
        let out = d.join(format!("case{i}.j2k"));
        let st = Command::new("opj_compress")
            .arg("-i")
            .arg(d.join(input))
            .arg("-o")
            .arg(&out)
            .args(["-SOP", "-PLT"])
            .args(*args)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "case {i} {args:?}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        let data = std::fs::read(&out).unwrap();
        let (n, s, l) = check(&format!("case {i} {args:?}"), &data);
        assert_eq!(s, n, "case {i}: every packet has an SOP");
        assert_eq!(l, n, "case {i}: every packet has a PLT length");
        sop += s;
        plt += l;
    }
    eprintln!(
        "{} streams: {sop} packets checked against SOP, {plt} against PLT",
        cases.len()
    );
}

/// Where [`repack`] puts the packet headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In the tile-part data, before each body.
    InStream,
    /// In PPT segments of each tile-part header.
    Ppt,
    /// In PPM segments of the main header.
    Ppm,
}

/// Rewrite a raw codestream with every packet header at `place`, using the
/// index to find each header (in-stream or packed) and body. PPM, PPT, TLM
/// and PLT segments of the input are dropped (their contents move or their
/// lengths change); Psot is recomputed.
fn repack(data: &[u8], place: Place) -> Vec<u8> {
    use jsec::j2k::marker::{PPM, PPT, SOT, TLM};
    let f = J2kFile::parse(data).unwrap();
    assert!(f.boxes.is_none());
    let cs = &f.codestream;
    let ix = PacketIndex::build(cs, data).unwrap();
    let seg = |marker: u16, z: u8, body: &[u8]| {
        let mut v = marker.to_be_bytes().to_vec();
        v.extend_from_slice(&((body.len() + 3) as u16).to_be_bytes());
        v.push(z);
        v.extend_from_slice(body);
        v
    };
    let mut packed_of = std::collections::HashMap::new();
    // Per tile-part: its packets' headers, and its data with or without them.
    let mut headers = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..cs.tile_parts.len() {
        let (mut h, mut b) = (Vec::new(), Vec::new());
        for p in ix.packets.iter().filter(|p| p.tile_part == i) {
            let sop = if p.sop { 6 } else { 0 };
            let header: Vec<u8> = if p.header_length > 0 || p.packed_header_length == 0 {
                data[p.offset + sop..p.body_offset].to_vec()
            } else {
                let all = packed_of.entry(p.tile).or_insert_with(|| {
                    jsec::j2k::index::packed_headers(cs, data, p.tile)
                        .unwrap()
                        .unwrap()
                });
                all[p.packed_header_offset..p.packed_header_offset + p.packed_header_length]
                    .to_vec()
            };
            b.extend_from_slice(&data[p.offset..p.offset + sop]);
            if place == Place::InStream {
                b.extend_from_slice(&header);
            } else {
                h.extend_from_slice(&header);
            }
            b.extend_from_slice(&data[p.body_offset..p.body_offset + p.body_length]);
        }
        headers.push(h);
        bodies.push(b);
    }
    let mut out = Vec::new();
    for s in &cs.main {
        if ![TLM, PPM].contains(&s.marker) {
            out.extend_from_slice(s.bytes(data));
        }
    }
    if place == Place::Ppm {
        let mut all = Vec::new();
        for h in &headers {
            all.extend_from_slice(&(h.len() as u32).to_be_bytes());
            all.extend_from_slice(h);
        }
        for (z, chunk) in all.chunks(60000).enumerate() {
            out.extend_from_slice(&seg(PPM, z as u8, chunk));
        }
    }
    let mut zppt = std::collections::HashMap::new();
    for (i, tp) in cs.tile_parts.iter().enumerate() {
        let mut hdr = Vec::new();
        for s in &tp.segments[1..tp.segments.len() - 1] {
            if ![PLT, PPT].contains(&s.marker) {
                hdr.extend_from_slice(s.bytes(data));
            }
        }
        if place == Place::Ppt {
            // Zppt counts across the tile's tile-parts (as OpenJPEG reads it).
            for chunk in headers[i].chunks(60000) {
                let z = zppt.entry(tp.sot.tile).or_insert(0u8);
                hdr.extend_from_slice(&seg(PPT, *z, chunk));
                *z += 1;
            }
        }
        let psot = 12 + hdr.len() + 2 + bodies[i].len();
        out.extend_from_slice(&SOT.to_be_bytes());
        out.extend_from_slice(&[0, 10]);
        out.extend_from_slice(&tp.sot.tile.to_be_bytes());
        out.extend_from_slice(&(psot as u32).to_be_bytes());
        out.extend_from_slice(&[tp.sot.part, tp.sot.parts]);
        out.extend_from_slice(&hdr);
        out.extend_from_slice(&[0xFF, 0x93]);
        out.extend_from_slice(&bodies[i]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The decoded samples of `data` by `opj_decompress`.
fn opj_decode(d: &Path, name: &str, data: &[u8]) -> Vec<u8> {
    let input = d.join(format!("{name}.j2k"));
    std::fs::write(&input, data).unwrap();
    common::opj_samples(d, name, &input, &[])
}

#[test]
fn moved_headers_index_the_same_and_decode_the_same() {
    // In-stream originals get PPT and PPM variants; the corpus's PPT (p1_02,
    // p1_06) and PPM (p1_03, p1_05) originals get in-stream and the other
    // packed variant. Every variant must index to the same packets and
    // bodies, and decode in OpenJPEG to the original's pixels.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let files = [
        "generated/j2k/c1024-RPCL-sop-eph-prec-t512.j2k",
        "generated/j2k/c1024-LRCP-t256-plt-tlm-tpR.j2k",
        "generated/j2k/c1024-POC-RPCL-CPRL.j2k",
        "j2k-conformance/p0_02.j2k",
        "j2k-conformance/p1_02.j2k",
        "j2k-conformance/p1_03.j2k",
        "j2k-conformance/p1_05.j2k",
        "j2k-conformance/p1_06.j2k",
    ];
    let have_opj = common::have_tool("opj_decompress");
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for name in files {
        let Ok(data) = std::fs::read(root.join(name)) else {
            continue;
        };
        let orig = J2kFile::parse(&data).unwrap();
        let orig_ix = PacketIndex::build(&orig.codestream, &data).unwrap();
        let tag = name.replace('/', "_");
        let orig_pixels = have_opj.then(|| opj_decode(dir.path(), &format!("{tag}-orig"), &data));
        for place in [Place::InStream, Place::Ppt, Place::Ppm] {
            let moved = repack(&data, place);
            let f = J2kFile::parse(&moved).unwrap_or_else(|e| panic!("{name} {place:?}: {e}"));
            let ix = PacketIndex::build(&f.codestream, &moved)
                .unwrap_or_else(|e| panic!("{name} {place:?}: {e}"));
            assert_eq!(ix.packets.len(), orig_ix.packets.len(), "{name} {place:?}");
            for (a, b) in orig_ix.packets.iter().zip(&ix.packets) {
                assert_eq!(a.id, b.id, "{name} {place:?}");
                assert_eq!(a.contributions, b.contributions, "{name} {place:?}");
                let (ha, hb) = (
                    a.header_length + a.packed_header_length,
                    b.header_length + b.packed_header_length,
                );
                assert_eq!(ha, hb, "{name} {place:?}: packet {}", a.seq);
                assert_eq!(b.packed_header_length == 0, place == Place::InStream);
                assert_eq!(
                    &data[a.body_offset..a.body_offset + a.body_length],
                    &moved[b.body_offset..b.body_offset + b.body_length],
                    "{name} {place:?}: packet {}",
                    a.seq
                );
            }
            if let Some(want) = &orig_pixels {
                let got = opj_decode(dir.path(), &format!("{tag}-{place:?}"), &moved);
                assert!(
                    &got == want,
                    "{name} {place:?}: opj_decompress gives other pixels"
                );
            }
            checked += 1;
        }
    }
    if checked == 0 {
        eprintln!("shared corpus not found: skipped");
    }
}

#[test]
fn a_missing_eph_or_wrong_sop_is_named() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/generated/j2k/tiny-7x9.j2k");
    let Ok(data) = std::fs::read(p) else {
        eprintln!("shared corpus not found: skipped");
        return;
    };
    let f = J2kFile::parse(&data).unwrap();
    let ix = PacketIndex::build(&f.codestream, &data).unwrap();
    let pk = &ix.packets[2];
    // EPH sits just before the body.
    let mut no_eph = data.clone();
    assert_eq!(&no_eph[pk.body_offset - 2..pk.body_offset], &[0xFF, 0x92]);
    no_eph[pk.body_offset - 2] = 0x00;
    let e = PacketIndex::build(&J2kFile::parse(&no_eph).unwrap().codestream, &no_eph).unwrap_err();
    assert!(
        e.message().contains("packet 2") && e.message().contains("no EPH marker"),
        "{e}"
    );
    // A SOP numbered for another packet.
    let mut bad_sop = data.clone();
    bad_sop[pk.offset + 5] ^= 1;
    let e =
        PacketIndex::build(&J2kFile::parse(&bad_sop).unwrap().codestream, &bad_sop).unwrap_err();
    assert!(e.message().contains("SOP says packet"), "{e}");
}
