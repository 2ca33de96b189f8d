//! An independent check of FSPE metadata privacy (`docs/fspe.md` section 12,
//! with the keys, seed, parameter block, IVs and AES-CTR keystream of
//! section 5), written from the specification alone: its own JPEG marker
//! walk, its own TIFF/EXIF reader (12.2: structure bytes, sensitive fields,
//! usability), its own value transform (12.3) and its own metadata IV and
//! keystream (12.4, on the `aes`, `ctr` and `sha2` crates). From jsec only
//! the public API is used: `Cipher`, `Options`, `Metadata`, `Report`
//! (`images`, `warnings`, `metadata`) and `inspect`.
//!
//! The image part of FSPE (entropy-coding masks) is not re-implemented. With
//! a caller nonce the seed is `S = SHA-256("jsec/fspe/v1/caller-nonce" || N)`
//! and the image IVs are `SHA-256("jsec/fspe/v1/iv" || S || P || I)`, where
//! the parameter block `P` (section 5) does not contain the metadata
//! selection; so encrypting with and without the metadata option under one
//! nonce must give identical bytes everywhere except at the value bytes of
//! the transformed EXIF fields, and there exactly the values predicted here
//! (12.5 "Image data"; inputs where the gap rule changes which embedded
//! images are found are checked separately).
//!
//! Inputs: hand-built EXIF files (both byte orders; IFD0, Exif IFD, GPS IFD,
//! IFD1 with a thumbnail that carries its own EXIF, a JPEG after EOI with
//! EXIF, a second EXIF segment, an XMP packet), adversarial TIFF structures
//! (loops, truncation, overlaps, values past the end, overflowing counts,
//! unknown types, oversized IFDs, too many IFDs, pointer types, non-EXIF
//! payloads, zero counts, every TIFF type) and every baseline JPEG of the
//! shared corpus (skipped when the corpus is absent). Each input runs with
//! the selections {gps}, {identity}, {dates} and all three.
//!
//! The APP1 segments examined (12.2) are those section 7 searches: the
//! segments of the images at depths 0, 1 and 2 (the primary image and the
//! images after its EOI are at depth 0, an image found in a segment is one
//! deeper than the image holding it), each up to its stop point; the
//! depths are derived from the `Location` of the images jsec reports. The
//! report (12.2) must list exactly their sensitive fields, in file and
//! reading order, with the entries' offsets, lengths saturated at
//! 2^32 − 1, `transformed` false for unselected, unusable and `len = 0`
//! fields and for a key other than the master key, and `problem` (and a
//! warning naming the tag, on encryption and decryption) exactly for the
//! selected fields with `len > 0` that are not usable.
//!
//! Two earlier disagreements were settled by clarifying the specification
//! (a field with count 0 is never reported; the EXIF of an image at depth 3
//! is not examined); `adversarial_zero_counts_not_reported` and
//! `nested_thumbnails_three_levels` check the clarified rules.
//!
//! A third, the order of nested segments in the report (jsec listed an
//! IFD1 thumbnail's EXIF before the containing segment's), was a jsec bug,
//! fixed; `report_lists_nested_segments_in_file_order` checks it. The other
//! checks accept any order of such nested segments and check the rest of
//! the report.

mod common;

use std::collections::{BTreeMap, VecDeque};

use aes::{Aes128, Aes256};
use ctr::cipher::{KeyIvInit, StreamCipher};
use sha2::{Digest, Sha256};

use common::{assert_no_failures, generate, Layout};
use jsec::crypto::Key;
use jsec::fspe::{
    Bands, Cipher, Components, Direction, Ifd, Location, Metadata, MetadataField, Options, Region,
    Report, Rule, Sensitivity,
};

// =====================================================================
// Section 5: key chain, seed, parameter block, AES-CTR keystream
// =====================================================================

const KEY_CHAIN: &[u8] = b"jsec/fspe/v1/key-chain";
const CALLER_NONCE: &[u8] = b"jsec/fspe/v1/caller-nonce";
const EXIF_IV: &[u8] = b"jsec/fspe/v1/exif-iv";

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// `k(i+1) = SHA-256("jsec/fspe/v1/key-chain" || k(i))` truncated to `len(k(i))`.
fn next_key(k: &[u8]) -> Vec<u8> {
    sha256(&[KEY_CHAIN, k])[..k.len()].to_vec()
}

/// `S = SHA-256("jsec/fspe/v1/caller-nonce" || N)`.
fn nonce_seed(n: &[u8; 16]) -> [u8; 32] {
    sha256(&[CALLER_NONCE, n])
}

/// The 21-byte parameter block of section 5.
fn param_block(o: &Options) -> [u8; 21] {
    let mut p = [0u8; 21];
    p[0] = match o.rule {
        Rule::Full => 0,
        Rule::Paper => 1,
    };
    p[1] = match o.components {
        Components::All => 0,
        Components::Luma => 1,
        Components::Chroma => 2,
    };
    p[2] = u8::from(o.bands.dc) | u8::from(o.bands.ac_low) << 1 | u8::from(o.bands.ac_high) << 2;
    p[3] = u8::from(o.levels);
    if let Some(r) = o.region {
        p[4] = if r.outside { 2 } else { 1 };
        p[5..9].copy_from_slice(&r.x.to_be_bytes());
        p[9..13].copy_from_slice(&r.y.to_be_bytes());
        p[13..17].copy_from_slice(&r.w.to_be_bytes());
        p[17..21].copy_from_slice(&r.h.to_be_bytes());
    }
    p
}

/// The selection byte `X` of 12.1: bit 0 location, bit 1 identity, bit 2 dates.
fn selection_byte(m: Metadata) -> u8 {
    u8::from(m.location) | u8::from(m.identity) << 1 | u8::from(m.dates) << 2
}

/// `IVX(G)` of 12.4.
fn exif_iv(seed: &[u8; 32], p: &[u8; 21], x: u8, g: u64) -> [u8; 16] {
    let h = sha256(&[EXIF_IV, seed, p, &[x], &g.to_be_bytes()]);
    h[..16].try_into().unwrap()
}

/// `n` bytes of AES-CTR keystream: key `key`, initial counter block `iv`,
/// the whole block incremented as a 128-bit big-endian integer.
fn keystream(key: &[u8], iv: &[u8; 16], n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    match key.len() {
        16 => ctr::Ctr128BE::<Aes128>::new_from_slices(key, iv)
            .unwrap()
            .apply_keystream(&mut buf),
        32 => ctr::Ctr128BE::<Aes256>::new_from_slices(key, iv)
            .unwrap()
            .apply_keystream(&mut buf),
        l => panic!("no AES key of {l} bytes"),
    }
    buf
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The keystream helper is AES-CTR with a full-block counter: NIST SP
/// 800-38A F.5.1 (CTR-AES128), whose second block carries into byte 14.
#[test]
fn keystream_is_sp800_38a_ctr() {
    let key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
    let iv: [u8; 16] = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        .try_into()
        .unwrap();
    let ks = keystream(&key, &iv, 32);
    assert_eq!(
        ks,
        unhex("ec8cdf7398607cb0f2d21675ea9ea1e4362b7c3c6773516318a077d7fc5073ae")
    );
    // The key chain of section 5 agrees with the crate's public helper.
    let k0: Vec<u8> = (0..32u8).collect();
    let k = Key::from_bytes(&k0).unwrap();
    assert_eq!(k.next_in_chain().as_bytes(), next_key(&k0).as_slice());
}

// =====================================================================
// Section 12.1: classes
// =====================================================================

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Ifd0,
    Ifd1,
    Exif,
    Gps,
}

impl Kind {
    fn api(self) -> Ifd {
        match self {
            Kind::Ifd0 => Ifd::Ifd0,
            Kind::Ifd1 => Ifd::Ifd1,
            Kind::Exif => Ifd::Exif,
            Kind::Gps => Ifd::Gps,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Location,
    Identity,
    Dates,
}

impl Class {
    fn api(self) -> Sensitivity {
        match self {
            Class::Location => Sensitivity::Location,
            Class::Identity => Sensitivity::Identity,
            Class::Dates => Sensitivity::Time,
        }
    }
}

fn class_of(kind: Kind, tag: u16) -> Option<Class> {
    match kind {
        Kind::Gps => (tag != 0x0000).then_some(Class::Location),
        Kind::Ifd0 | Kind::Ifd1 => match tag {
            0x013B | 0x013C | 0x9C9D => Some(Class::Identity),
            0x0132 => Some(Class::Dates),
            _ => None,
        },
        Kind::Exif => match tag {
            0xA420 | 0xA430 | 0xA431 | 0xA435 => Some(Class::Identity),
            0x9003 | 0x9004 | 0x9010..=0x9012 | 0x9290..=0x9292 => Some(Class::Dates),
            _ => None,
        },
    }
}

fn selects(m: Metadata, c: Class) -> bool {
    match c {
        Class::Location => m.location,
        Class::Identity => m.identity,
        Class::Dates => m.dates,
    }
}

/// Conventional names, to recognise a warning "naming the tag".
fn tag_name(kind: Kind, tag: u16) -> Option<&'static str> {
    const GPS: [&str; 32] = [
        "GPSVersionID",
        "GPSLatitudeRef",
        "GPSLatitude",
        "GPSLongitudeRef",
        "GPSLongitude",
        "GPSAltitudeRef",
        "GPSAltitude",
        "GPSTimeStamp",
        "GPSSatellites",
        "GPSStatus",
        "GPSMeasureMode",
        "GPSDOP",
        "GPSSpeedRef",
        "GPSSpeed",
        "GPSTrackRef",
        "GPSTrack",
        "GPSImgDirectionRef",
        "GPSImgDirection",
        "GPSMapDatum",
        "GPSDestLatitudeRef",
        "GPSDestLatitude",
        "GPSDestLongitudeRef",
        "GPSDestLongitude",
        "GPSDestBearingRef",
        "GPSDestBearing",
        "GPSDestDistanceRef",
        "GPSDestDistance",
        "GPSProcessingMethod",
        "GPSAreaInformation",
        "GPSDateStamp",
        "GPSDifferential",
        "GPSHPositioningError",
    ];
    Some(match (kind, tag) {
        (Kind::Gps, t) => return GPS.get(t as usize).copied(),
        (_, 0x013B) => "Artist",
        (_, 0x013C) => "HostComputer",
        (_, 0x9C9D) => "XPAuthor",
        (_, 0x0132) => "DateTime",
        (_, 0xA420) => "ImageUniqueID",
        (_, 0xA430) => "CameraOwnerName",
        (_, 0xA431) => "BodySerialNumber",
        (_, 0xA435) => "LensSerialNumber",
        (_, 0x9003) => "DateTimeOriginal",
        (_, 0x9004) => "DateTimeDigitized",
        (_, 0x9010) => "OffsetTime",
        (_, 0x9011) => "OffsetTimeOriginal",
        (_, 0x9012) => "OffsetTimeDigitized",
        (_, 0x9290) => "SubSecTime",
        (_, 0x9291) => "SubSecTimeOriginal",
        (_, 0x9292) => "SubSecTimeDigitized",
        _ => return None,
    })
}

// =====================================================================
// Section 12.2: reading the TIFF structure
// =====================================================================

/// Type sizes of 12.2 step 4 (0 for an unknown type).
fn type_size(t: u16) -> u64 {
    match t {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 0,
    }
}

/// One sensitive field (a classified tag with a known type), in reading order.
#[derive(Clone, Debug)]
struct SField {
    kind: Kind,
    tag: u16,
    typ: u16,
    /// Offset of the value in `T` (the value field itself when inline).
    off: u64,
    /// `count × size`, exact (may exceed 32 bits).
    len: u64,
    class: Class,
    usable: bool,
}

/// What the reader found in one EXIF APP1 segment.
#[derive(Clone, Debug)]
struct ExifSeg {
    /// Absolute offset of the APP1 marker.
    g: usize,
    /// Absolute offset of the payload `Q` and its end.
    q0: usize,
    q_end: usize,
    /// Absolute offset of `T` (`q0 + 6`).
    t0: usize,
    /// Per byte of `T`: is it a structure byte?
    structure: Vec<bool>,
    fields: Vec<SField>,
    /// IFDs whose entries were read (not skipped by steps 1 and 2):
    /// (offset, kind).
    ifds: Vec<(u64, Kind)>,
}

impl ExifSeg {
    fn transformed(&self, sel: Metadata) -> impl Iterator<Item = &SField> {
        self.fields
            .iter()
            .filter(move |f| f.usable && selects(sel, f.class))
    }

    /// Per byte of `Q`: is it in a gap (12.5) for selection `sel`?
    fn gap_mask(&self, sel: Metadata) -> Vec<bool> {
        let mut gap = vec![true; self.q_end - self.q0];
        let t = self.t0 - self.q0;
        for (i, &s) in self.structure.iter().enumerate() {
            if s {
                gap[t + i] = false;
            }
        }
        for f in self.transformed(sel) {
            for j in 0..f.len as usize {
                gap[t + f.off as usize + j] = false;
            }
        }
        gap
    }

    /// (kind, tag, usable) of every sensitive field, for the self-checks.
    fn summary(&self) -> Vec<(Kind, u16, bool)> {
        self.fields
            .iter()
            .map(|f| (f.kind, f.tag, f.usable))
            .collect()
    }
}

/// Read the APP1 segment whose marker is at `g` (12.2). `None` when it is
/// not an APP1 segment or not EXIF for section 12.
fn read_exif(file: &[u8], g: usize) -> Option<ExifSeg> {
    if file.get(g..g + 2)? != [0xFF, 0xE1] {
        return None;
    }
    let seg_len = u16::from_be_bytes([*file.get(g + 2)?, *file.get(g + 3)?]) as usize;
    let q0 = g + 4;
    let q_end = g + 2 + seg_len;
    if seg_len < 2 || q_end > file.len() {
        return None;
    }
    let q = &file[q0..q_end];
    if q.len() < 6 || &q[..5] != b"Exif\0" {
        return None;
    }
    let t = &q[6..];
    if t.len() < 8 {
        return None;
    }
    let be = match t[..4] {
        [0x4D, 0x4D, 0x00, 0x2A] => true,
        [0x49, 0x49, 0x2A, 0x00] => false,
        _ => return None,
    };
    let u16at = |i: usize| {
        let b = [t[i], t[i + 1]];
        if be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    };
    let u32at = |i: usize| {
        let b = [t[i], t[i + 1], t[i + 2], t[i + 3]];
        if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let tl = t.len() as u64;
    let mut structure = vec![false; t.len()];
    let mut mark = |a: usize, n: usize| structure[a..a + n].iter_mut().for_each(|s| *s = true);
    mark(0, 8);
    let mut queue = VecDeque::from([(u64::from(u32at(4)), Kind::Ifd0)]);
    let mut visited: Vec<u64> = Vec::new();
    let mut ifds = Vec::new();
    // The bytes `[a, min(a + 2 + 12n + 4, len(T)))` of every IFD read (not
    // skipped) so far, for the overlap rule of step 2.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut fields = Vec::new();
    while let Some((a, kind)) = queue.pop_front() {
        // Step 1.
        if visited.contains(&a) || visited.len() >= 8 {
            continue;
        }
        visited.push(a);
        // Step 2.
        if a + 2 > tl {
            continue;
        }
        let a = a as usize;
        let n = u16at(a) as usize;
        mark(a, 2);
        if n > 1024 {
            continue;
        }
        // An IFD sharing bytes with the header or an IFD read before is
        // skipped (its count bytes, marked above, stay structure).
        let end = (a + 2 + 12 * n + 4).min(t.len());
        if a < 8 || spans.iter().any(|&(s, e)| a < e && s < end) {
            continue;
        }
        spans.push((a, end));
        ifds.push((a as u64, kind));
        // Step 3.
        let mut complete = true;
        for i in 0..n {
            let e = a + 2 + 12 * i;
            if e + 12 > t.len() {
                complete = false;
                break;
            }
            let (tag, typ, count, vf) = (u16at(e), u16at(e + 2), u32at(e + 4), e + 8);
            mark(e, 8);
            // Step 4.
            let size = type_size(typ);
            let len = u64::from(count) * size;
            let inline = len <= 4;
            let class = if size > 0 { class_of(kind, tag) } else { None };
            if !(class.is_some() && inline) {
                mark(vf, 4);
            }
            if let Some(class) = class {
                let off = if inline {
                    vf as u64
                } else {
                    u64::from(u32at(vf))
                };
                fields.push(SField {
                    kind,
                    tag,
                    typ,
                    off,
                    len,
                    class,
                    usable: false,
                });
            }
            // Step 5.
            if kind == Kind::Ifd0
                && (tag == 0x8769 || tag == 0x8825)
                && (typ == 4 || typ == 13)
                && count == 1
            {
                let k = if tag == 0x8769 { Kind::Exif } else { Kind::Gps };
                queue.push_back((u64::from(u32at(vf)), k));
            }
        }
        // Step 6.
        if complete {
            let nx = a + 2 + 12 * n;
            if nx + 4 <= t.len() {
                mark(nx, 4);
                let v = u32at(nx);
                if kind == Kind::Ifd0 && v != 0 {
                    queue.push_back((u64::from(v), Kind::Ifd1));
                }
            }
        }
    }
    // Usability, in reading order, against the complete structure.
    let mut used: Vec<(u64, u64)> = Vec::new();
    for f in &mut fields {
        let end = f.off + f.len;
        f.usable = f.len > 0
            && end <= tl
            && !structure[f.off as usize..end as usize].iter().any(|&s| s)
            && used.iter().all(|&(s, e)| end <= s || f.off >= e);
        if f.usable {
            used.push((f.off, end));
        }
    }
    Some(ExifSeg {
        g,
        q0,
        q_end,
        t0: q0 + 6,
        structure,
        fields,
        ifds,
    })
}

// =====================================================================
// JPEG marker walk (own, T.81)
// =====================================================================

/// A marker segment: marker offset, marker byte, payload range.
#[derive(Clone, Copy, Debug)]
struct Seg {
    at: usize,
    marker: u8,
    p0: usize,
    p1: usize,
}

/// The marker segments of the JPEG whose SOI is at `start`, up to its EOI
/// or `end`, skipping entropy-coded data.
fn walk(d: &[u8], start: usize, end: usize) -> Vec<Seg> {
    let end = end.min(d.len());
    let mut v = Vec::new();
    if start + 2 > end || d[start] != 0xFF || d[start + 1] != 0xD8 {
        return v;
    }
    let mut i = start + 2;
    while i + 1 < end {
        if d[i] != 0xFF {
            break;
        }
        let m = d[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        if m == 0xD9 {
            break;
        }
        if (0xD0..=0xD7).contains(&m) || m == 0x01 {
            i += 2;
            continue;
        }
        if i + 4 > end {
            break;
        }
        let len = u16::from_be_bytes([d[i + 2], d[i + 3]]) as usize;
        if len < 2 || i + 2 + len > end {
            break;
        }
        v.push(Seg {
            at: i,
            marker: m,
            p0: i + 4,
            p1: i + 2 + len,
        });
        i += 2 + len;
        if m == 0xDA {
            while i + 1 < end
                && !(d[i] == 0xFF && d[i + 1] != 0 && !(0xD0..=0xD7).contains(&d[i + 1]))
            {
                i += 1;
            }
        }
    }
    v
}

/// The depth of every image of `rep` (section 7 / 12.2): the primary image
/// and the images after its EOI are at depth 0; an image found in an APPn
/// segment is one deeper than the innermost image holding that segment.
/// `None` for an image whose segment lies in no image of the report.
fn image_depths(rep: &Report) -> Vec<Option<u32>> {
    let mut depth: Vec<Option<u32>> = Vec::with_capacity(rep.images.len());
    for im in &rep.images {
        let d = match im.location {
            Location::Primary | Location::AfterEoi => Some(0),
            Location::InSegment { segment, .. } => rep
                .images
                .iter()
                .zip(&depth)
                .filter(|(p, _)| p.offset <= segment && segment < p.end)
                .max_by_key(|(p, _)| p.offset)
                .and_then(|(_, &d)| d)
                .map(|d| d + 1),
        };
        depth.push(d);
    }
    depth
}

/// The images of `rep` whose APPn segments section 7 searches and 12.2
/// examines: depths 0, 1 and 2 (not the images found at depth 3).
fn searched_images(rep: &Report) -> Vec<(usize, usize)> {
    rep.images
        .iter()
        .zip(image_depths(rep))
        .filter(|(_, d)| d.is_some_and(|d| d <= 2))
        .map(|(im, _)| (im.offset as usize, im.end as usize))
        .collect()
}

/// The APP1 segments 12.2 examines: those of the images at depths 0, 1 and
/// 2 of `rep` (up to an image's stop point), in file order; with `rep =
/// None`, those of the primary image only.
fn app1_segments(file: &[u8], rep: Option<&Report>) -> Vec<Seg> {
    let images = match rep {
        Some(rep) => searched_images(rep),
        None => vec![(0, file.len())],
    };
    let mut v: Vec<Seg> = images
        .iter()
        .flat_map(|&(a, b)| walk(file, a, b))
        .filter(|s| s.marker == 0xE1)
        .collect();
    v.sort_by_key(|s| s.at);
    v.dedup_by_key(|s| s.at);
    v
}

/// The examined EXIF segments (12.2), in file order.
fn exif_segments(file: &[u8], rep: Option<&Report>) -> Vec<ExifSeg> {
    app1_segments(file, rep)
        .iter()
        .filter_map(|s| read_exif(file, s.at))
        .collect()
}

// =====================================================================
// Section 12.3 / 12.4: the value transform
// =====================================================================

/// The encrypted value of every byte of every transformed field of `seg`,
/// by absolute offset. `ks` is the segment's keystream `KX` (from byte 0).
fn predict(file: &[u8], seg: &ExifSeg, sel: Metadata, ks: &[u8], out: &mut BTreeMap<usize, u8>) {
    for f in seg.transformed(sel) {
        for j in 0..f.len as usize {
            let o = seg.t0 + f.off as usize + j;
            let r = o - seg.g;
            let (a, b) = (ks[2 * r], ks[2 * r + 1]);
            let v = file[o];
            let nv = match f.typ {
                2 => {
                    if (0x20..=0x7E).contains(&v) {
                        let k = (256 * u32::from(a) + u32::from(b)) % 95;
                        (0x20 + (u32::from(v - 0x20) + k) % 95) as u8
                    } else {
                        v
                    }
                }
                5 | 10 => {
                    if j % 8 < 4 {
                        v ^ a
                    } else {
                        v
                    }
                }
                _ => v ^ a,
            };
            out.insert(o, nv);
        }
    }
}

/// Every transformed value byte of `segs` for options `opts` (caller nonce).
fn predict_all(input: &[u8], segs: &[ExifSeg], key: &[u8], opts: &Options) -> BTreeMap<usize, u8> {
    let seed = nonce_seed(&opts.nonce.expect("caller nonce"));
    let p = param_block(opts);
    let x = selection_byte(opts.metadata);
    let mut pred = BTreeMap::new();
    for s in segs {
        let iv = exif_iv(&seed, &p, x, s.g as u64);
        let ks = keystream(key, &iv, 2 * (s.q_end - s.g));
        predict(input, s, opts.metadata, &ks, &mut pred);
    }
    pred
}

// =====================================================================
// Running jsec
// =====================================================================

const SELECTIONS: [(&str, Metadata); 4] = [
    (
        "gps",
        Metadata {
            location: true,
            identity: false,
            dates: false,
        },
    ),
    (
        "identity",
        Metadata {
            location: false,
            identity: true,
            dates: false,
        },
    ),
    (
        "dates",
        Metadata {
            location: false,
            identity: false,
            dates: true,
        },
    ),
    (
        "all",
        Metadata {
            location: true,
            identity: true,
            dates: true,
        },
    ),
];

const ALL: Metadata = SELECTIONS[3].1;

fn key32() -> Vec<u8> {
    (0..32u8)
        .map(|i| i.wrapping_mul(29).wrapping_add(7))
        .collect()
}

fn key16() -> Vec<u8> {
    (0..16u8).map(|i| i.wrapping_mul(53) ^ 0xA5).collect()
}

fn nonce(seed: u8) -> [u8; 16] {
    std::array::from_fn(|i| (i as u8).wrapping_mul(17) ^ seed)
}

fn base_options(n: u8) -> Options {
    Options {
        nonce: Some(nonce(n)),
        ..Options::default()
    }
}

fn crypt(
    key: &[u8],
    level: u8,
    opts: &Options,
    dir: Direction,
    data: &[u8],
) -> Result<(Vec<u8>, Report), String> {
    let c = Cipher::new(
        Key::from_bytes(key).map_err(|e| e.to_string())?,
        opts.clone(),
    )
    .and_then(|c| c.with_key_level(level))
    .map_err(|e| e.to_string())?;
    let mut buf = data.to_vec();
    let rep = match dir {
        Direction::Encrypt => c.encrypt(&mut buf),
        Direction::Decrypt => c.decrypt(&mut buf),
    }
    .map_err(|e| e.to_string())?;
    if buf.len() != data.len() {
        return Err(format!("size {} became {}", data.len(), buf.len()));
    }
    Ok((buf, rep))
}

type ImageKey = (u64, u64, Location, bool);

fn image_keys(rep: &Report) -> Vec<ImageKey> {
    rep.images
        .iter()
        .map(|i| (i.offset, i.end, i.location, i.problem.is_some()))
        .collect()
}

fn inside(ranges: &[(usize, usize)], o: usize) -> bool {
    ranges.iter().any(|&(a, b)| a <= o && o < b)
}

/// 12.2: is `x` reported as a problem (`problem` set, a warning naming the
/// tag) under selection `sel`? Exactly when its class is selected, it has
/// `len > 0` and it is not usable; a field with `len = 0` never is.
fn reported(x: &SField, sel: Metadata) -> bool {
    selects(sel, x.class) && x.len > 0 && !x.usable
}

/// `Report.metadata` against the reader (12.2 "The report"): every
/// sensitive field of every examined EXIF segment and nothing else, each
/// segment's fields together and in reading order, as (ifd, tag, offset,
/// len, transformed) with the offset the entry gives and the length
/// saturated at 2^32 − 1; their sensitivity; and `problem` exactly for the
/// selected fields with `len > 0` that are not usable. `sel = None`:
/// nothing may be transformed (no selection, or a key that is not the
/// master key) and `problem` is not checked. The order of the segments is
/// checked by `check_report_order`.
fn check_report(
    tag: &str,
    got: &[MetadataField],
    segs: &[ExifSeg],
    sel: Option<Metadata>,
    f: &mut Vec<String>,
) {
    type Row = (Ifd, u16, u64, u64, bool);
    for s in segs {
        let want: Vec<Row> = s
            .fields
            .iter()
            .map(|x| {
                let t = sel.is_some_and(|m| x.usable && selects(m, x.class));
                let len = x.len.min(u64::from(u32::MAX));
                (x.kind.api(), x.tag, s.t0 as u64 + x.off, len, t)
            })
            .collect();
        let have_f: Vec<&MetadataField> = got.iter().filter(|m| m.segment == s.g as u64).collect();
        let have: Vec<Row> = have_f
            .iter()
            .map(|m| (m.ifd, m.tag, m.offset, u64::from(m.len), m.transformed))
            .collect();
        if want != have {
            f.push(format!(
                "{tag}: APP1 at {}: Report.metadata (ifd, tag, offset, len, transformed)\n    expected {want:?}\n    got      {have:?}",
                s.g
            ));
            continue;
        }
        for (x, m) in s.fields.iter().zip(&have_f) {
            if m.sensitivity != x.class.api() {
                f.push(format!(
                    "{tag}: APP1 at {}: tag {:#06x} sensitivity {:?}, expected {:?}",
                    s.g,
                    x.tag,
                    m.sensitivity,
                    x.class.api()
                ));
            }
            if let Some(problem) = sel.map(|m_sel| reported(x, m_sel)) {
                if m.problem.is_some() != problem {
                    f.push(format!(
                        "{tag}: APP1 at {}: tag {:#06x} (len {}, usable {}) problem {:?}, expected {}",
                        s.g,
                        x.tag,
                        x.len,
                        x.usable,
                        m.problem,
                        if problem { "Some" } else { "None" }
                    ));
                }
            }
        }
    }
    for m in got {
        if !segs.iter().any(|s| s.g as u64 == m.segment) {
            f.push(format!(
                "{tag}: Report.metadata lists {:?} tag {:#06x} in a segment at {} that is not an examined EXIF segment (12.2)",
                m.ifd, m.tag, m.segment
            ));
        }
    }
    let runs = segment_runs(got);
    if (1..runs.len()).any(|i| runs[..i].contains(&runs[i])) {
        f.push(format!(
            "{tag}: the fields of a segment are not listed together: segments in report order {runs:?}"
        ));
    }
}

/// The segments of `Report.metadata` in report order, one per run of
/// consecutive fields of the same segment.
fn segment_runs(got: &[MetadataField]) -> Vec<u64> {
    let mut runs: Vec<u64> = got.iter().map(|m| m.segment).collect();
    runs.dedup();
    runs
}

/// Does an examined segment lie inside the payload of another one (an
/// embedded image's APP1 inside an APPn payload)?
fn has_nested(segs: &[ExifSeg]) -> bool {
    segs.iter()
        .any(|a| segs.iter().any(|b| b.q0 <= a.g && a.g < b.q_end))
}

/// `check_report`, and `check_report_order` when no examined segment lies
/// inside another (the order of nested segments is the ignored test
/// `report_lists_nested_segments_in_file_order`).
fn check_report_all(
    tag: &str,
    got: &[MetadataField],
    segs: &[ExifSeg],
    sel: Option<Metadata>,
    f: &mut Vec<String>,
) {
    check_report(tag, got, segs, sel, f);
    if !has_nested(segs) {
        check_report_order(tag, got, segs, f);
    }
}

/// 12.2 "The report": the segments are listed "in file order" — by the
/// offset of their APP1 marker, also when one lies inside another's payload.
fn check_report_order(tag: &str, got: &[MetadataField], segs: &[ExifSeg], f: &mut Vec<String>) {
    let want: Vec<u64> = segs
        .iter()
        .filter(|s| !s.fields.is_empty())
        .map(|s| s.g as u64)
        .collect();
    let runs = segment_runs(got);
    if runs != want {
        f.push(format!(
            "{tag}: Report.metadata lists the segments (APP1 offsets) in the order {runs:?}, expected file order {want:?}"
        ));
    }
}

/// The names by which a warning may name the tag of `x`.
fn warning_names(x: &SField) -> Vec<String> {
    let mut names = vec![format!("0x{:04x}", x.tag), format!("0x{:x}", x.tag)];
    if let Some(n) = tag_name(x.kind, x.tag) {
        names.push(n.to_ascii_lowercase());
    }
    names
}

/// Does `name` occur in `w` as a whole word (not inside a longer name or
/// number, so that `gpslatitude` does not match `gpslatituderef`)?
fn names_word(name: &str, w: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    w.match_indices(name).any(|(i, _)| {
        !alnum(w[..i].chars().next_back()) && !alnum(w[i + name.len()..].chars().next())
    })
}

/// 12.2: a selected field with `len > 0` that is not usable gives a warning
/// naming the tag (`what` is "encrypt" or "decrypt"). A selected field with
/// `len = 0` gives none: no warning other than an XMP one (12.6) names its
/// tag as a whole word, unless a field with `len > 0` that is not usable
/// (reported or unselected) has that name too.
fn check_warnings(tag: &str, rep: &Report, segs: &[ExifSeg], sel: Metadata, f: &mut Vec<String>) {
    let names_in = |names: &[String], w: &str| {
        let w = w.to_ascii_lowercase();
        names.iter().any(|n| w.contains(n.as_str()))
    };
    let all = || {
        segs.iter()
            .flat_map(|s| s.fields.iter().map(move |x| (s, x)))
    };
    for (s, x) in all().filter(|(_, x)| reported(x, sel)) {
        let names = warning_names(x);
        if !rep.warnings.iter().any(|(_, w)| names_in(&names, w)) {
            f.push(format!(
                "{tag}: APP1 at {}: no warning names unusable selected tag {:#06x} ({:?}); warnings: {:?}",
                s.g, x.tag, x.kind, rep.warnings
            ));
        }
    }
    let others: Vec<String> = all()
        .filter(|(_, x)| x.len > 0 && !x.usable)
        .flat_map(|(_, x)| warning_names(x))
        .collect();
    for (s, x) in all().filter(|(_, x)| x.len == 0 && selects(sel, x.class)) {
        let names: Vec<String> = warning_names(x)
            .into_iter()
            .filter(|n| !others.contains(n))
            .collect();
        if let Some((_, w)) = rep.warnings.iter().find(|(_, w)| {
            let w = w.to_ascii_lowercase();
            !w.contains("xmp") && names.iter().any(|n| names_word(n, &w))
        }) {
            f.push(format!(
                "{tag}: APP1 at {}: a warning names tag {:#06x} ({:?}) whose count is 0: {w:?}",
                s.g, x.tag, x.kind
            ));
        }
    }
}

/// With location selected, a warning names every APP1 XMP packet that
/// contains `GPSLatitude` or `GPSLongitude` (12.6); checked for the APP1
/// segments 12.2 examines.
fn check_xmp_warnings(tag: &str, input: &[u8], rep: &Report, f: &mut Vec<String>) {
    const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/";
    for s in app1_segments(input, Some(rep)) {
        let q = &input[s.p0..s.p1];
        let has = |n: &[u8]| q.windows(n.len()).any(|w| w == n);
        if q.starts_with(XMP) && (has(b"GPSLatitude") || has(b"GPSLongitude")) {
            let named = rep.warnings.iter().any(|(o, w)| {
                (s.at as u64..s.p1 as u64).contains(o) || w.to_ascii_lowercase().contains("xmp")
            });
            if !named {
                f.push(format!(
                    "{tag}: no warning names the XMP packet at {} holding a GPS position; warnings: {:?}",
                    s.at, rep.warnings
                ));
            }
        }
    }
}

/// Every check of one input under `base` (which must carry a caller nonce):
/// without the option (nothing in EXIF changes), then for each selection
/// (exact bytes, structure, printable ASCII, denominators, report, warnings,
/// gaps, decryption).
fn check_input(name: &str, input: &[u8], key: &[u8], base: &Options) -> Vec<String> {
    let mut f = Vec::new();
    let none_opts = Options {
        metadata: Metadata::default(),
        ..base.clone()
    };
    let (out_none, rep_none) = match crypt(key, 0, &none_opts, Direction::Encrypt, input) {
        Ok(v) => v,
        Err(e) => {
            f.push(format!("{name}: encrypt without metadata option: {e}"));
            return f;
        }
    };
    match crypt(key, 0, &none_opts, Direction::Decrypt, &out_none) {
        Ok((d, _)) if d == input => {}
        Ok(_) => f.push(format!(
            "{name}: decrypt (no metadata) does not restore the input"
        )),
        Err(e) => f.push(format!("{name}: decrypt (no metadata): {e}")),
    }
    // Section 7 searches three levels deep at most: every image found is at
    // depth 0 to 3.
    for (im, d) in rep_none.images.iter().zip(image_depths(&rep_none)) {
        if !d.is_some_and(|d| d <= 3) {
            f.push(format!(
                "{name}: image {}..{} ({:?}) is at depth {d:?}, not 0 to 3",
                im.offset, im.end, im.location
            ));
        }
    }
    let segs = exif_segments(input, Some(&rep_none));
    let embedded: Vec<(usize, usize)> = rep_none
        .images
        .iter()
        .skip(1)
        .map(|i| (i.offset as usize, i.end as usize))
        .collect();

    // Without the option no metadata byte changes (the bytes of embedded
    // images inside a payload are image data, section 7).
    for s in &segs {
        if let Some(o) = (s.q0..s.q_end).find(|&o| !inside(&embedded, o) && out_none[o] != input[o])
        {
            f.push(format!(
                "{name}: default options changed EXIF byte {o} (APP1 at {}): {:02x} -> {:02x}",
                s.g, input[o], out_none[o]
            ));
        }
    }
    if let Some(m) = rep_none.metadata.iter().find(|m| m.transformed) {
        f.push(format!(
            "{name}: default options report tag {:#06x} as transformed",
            m.tag
        ));
    }
    // `inspect` lists the same sensitive fields, none transformed.
    match jsec::fspe::inspect(input) {
        Ok(r) => check_report_all(
            &format!("{name} [inspect]"),
            &r.metadata,
            &segs,
            None,
            &mut f,
        ),
        Err(e) => f.push(format!("{name}: inspect: {e}")),
    }

    for (sname, sel) in SELECTIONS {
        let tag = format!("{name} [{sname}]");
        let opts = Options {
            metadata: sel,
            ..base.clone()
        };
        let (out, rep) = match crypt(key, 0, &opts, Direction::Encrypt, input) {
            Ok(v) => v,
            Err(e) => {
                f.push(format!("{tag}: encrypt: {e}"));
                continue;
            }
        };
        if image_keys(&rep) != image_keys(&rep_none) {
            f.push(format!(
                "{tag}: the images found differ from the run without the option:\n    with    {:?}\n    without {:?}",
                image_keys(&rep),
                image_keys(&rep_none)
            ));
            continue;
        }
        let pred = predict_all(input, &segs, key, &opts);
        // Exactly the predicted bytes differ from the run without the option.
        let mut bad = 0usize;
        for (i, ((&o, &n), &inp)) in out.iter().zip(&out_none).zip(input).enumerate() {
            let ok = match pred.get(&i) {
                Some(&v) => o == v && n == inp,
                None => o == n,
            };
            if !ok {
                if bad < 6 {
                    f.push(format!(
                        "{tag}: byte {i}: input {inp:02x}, encrypted without option {n:02x}, with option {o:02x}, predicted {}",
                        pred.get(&i).map_or("unchanged from the run without option".to_string(), |v| format!("{v:02x}"))
                    ));
                }
                bad += 1;
            }
        }
        if bad > 6 {
            f.push(format!("{tag}: … {bad} wrong bytes in all"));
        }
        // The properties 12.2 / 12.3 promise, checked directly.
        for s in &segs {
            for (i, _) in s.structure.iter().enumerate().filter(|(_, &st)| st) {
                let o = s.t0 + i;
                if out[o] != input[o] {
                    f.push(format!("{tag}: structure byte {o} (T+{i}) changed"));
                    break;
                }
            }
            for x in s.transformed(sel) {
                for j in 0..x.len as usize {
                    let o = s.t0 + x.off as usize + j;
                    let pr = |b: u8| (0x20..=0x7E).contains(&b);
                    if x.typ == 2 && pr(input[o]) != pr(out[o]) {
                        f.push(format!(
                            "{tag}: ASCII byte {o} of tag {:#06x}: {:02x} -> {:02x}",
                            x.tag, input[o], out[o]
                        ));
                    }
                    if (x.typ == 5 || x.typ == 10) && j % 8 >= 4 && input[o] != out[o] {
                        f.push(format!(
                            "{tag}: denominator byte {o} of tag {:#06x} changed",
                            x.tag
                        ));
                    }
                }
            }
        }
        check_report_all(&tag, &rep.metadata, &segs, Some(sel), &mut f);
        check_warnings(&tag, &rep, &segs, sel, &mut f);
        if sel.location {
            check_xmp_warnings(&tag, input, &rep, &mut f);
        }
        // 12.5: embedded images of an EXIF payload lie inside one gap.
        for im in rep.images.iter().skip(1) {
            if let Location::InSegment { segment, .. } = im.location {
                if let Some(s) = segs.iter().find(|s| s.g as u64 == segment) {
                    let gap = s.gap_mask(sel);
                    let (a, b) = (im.offset as usize, im.end as usize);
                    if a < s.q0 || b > s.q_end || !gap[a - s.q0..b - s.q0].iter().all(|&g| g) {
                        f.push(format!(
                            "{tag}: embedded image {a}..{b} of APP1 at {} is not inside a gap",
                            s.g
                        ));
                    }
                }
            }
        }
        // Decryption restores the input and reports the same fields.
        match crypt(key, 0, &opts, Direction::Decrypt, &out) {
            Ok((d, drep)) => {
                if d != input {
                    let i = d.iter().zip(input).position(|(a, b)| a != b).unwrap_or(0);
                    f.push(format!(
                        "{tag}: decrypt does not restore the input (first difference at {i})"
                    ));
                }
                let dtag = format!("{tag} decrypt");
                check_report_all(&dtag, &drep.metadata, &segs, Some(sel), &mut f);
                check_warnings(&dtag, &drep, &segs, sel, &mut f);
            }
            Err(e) => f.push(format!("{tag}: decrypt: {e}")),
        }
    }
    f
}

/// 12.4: with multi-level mode, decrypting with `k1` or `k2` restores what
/// those keys cover of the image and leaves every metadata value enciphered;
/// its report lists every sensitive field with `transformed` false (12.2).
fn check_levels(name: &str, input: &[u8], key: &[u8], n: u8) -> Vec<String> {
    let mut f = Vec::new();
    let base = Options {
        levels: true,
        nonce: Some(nonce(n)),
        ..Options::default()
    };
    let all = Options {
        metadata: ALL,
        ..base.clone()
    };
    let run = |k: &[u8], lvl: u8, o: &Options, d: Direction, data: &[u8]| crypt(k, lvl, o, d, data);
    let (Ok((enc_none, rep_none)), Ok((enc_all, _))) = (
        run(key, 0, &base, Direction::Encrypt, input),
        run(key, 0, &all, Direction::Encrypt, input),
    ) else {
        f.push(format!("{name}: multi-level encryption failed"));
        return f;
    };
    let segs = exif_segments(input, Some(&rep_none));
    let pred = predict_all(input, &segs, key, &all);
    if !pred.iter().any(|(&o, &v)| v != input[o]) {
        f.push(format!(
            "{name}: no metadata byte changes; the level check would be void"
        ));
    }
    let k1 = next_key(key);
    let k2 = next_key(&k1);
    for (lvl, k) in [(1u8, &k1), (2u8, &k2)] {
        let (Ok((d_none, _)), Ok((d_all, rep))) = (
            run(k, lvl, &base, Direction::Decrypt, &enc_none),
            run(k, lvl, &all, Direction::Decrypt, &enc_all),
        ) else {
            f.push(format!("{name}: decryption with k{lvl} failed"));
            continue;
        };
        let mut bad = 0;
        for (i, ((&a, &b), &e)) in d_all.iter().zip(&d_none).zip(&enc_all).enumerate() {
            let ok = if pred.contains_key(&i) {
                a == e
            } else {
                a == b
            };
            if !ok {
                if bad < 6 {
                    f.push(format!(
                        "{name} k{lvl}: byte {i}: decrypted {a:02x}, encrypted {e:02x}, decrypted without option {b:02x}{}",
                        if pred.contains_key(&i) { " (metadata value: must stay enciphered)" } else { "" }
                    ));
                }
                bad += 1;
            }
        }
        // 12.2 "The report": the same fields, none transformed (12.4).
        check_report_all(
            &format!("{name} k{lvl} decrypt"),
            &rep.metadata,
            &segs,
            None,
            &mut f,
        );
    }
    match run(key, 0, &all, Direction::Decrypt, &enc_all) {
        Ok((d, _)) if d == input => {}
        _ => f.push(format!(
            "{name}: decryption with k0 does not restore the input"
        )),
    }
    f
}

// =====================================================================
// Building EXIF payloads
// =====================================================================

/// Byte order of a TIFF under construction (`true` = big-endian `MM`).
#[derive(Clone, Copy)]
struct Bo(bool);

#[derive(Clone)]
enum V {
    Raw(Vec<u8>),
    Ifd(usize),
    ThumbOff,
    ThumbLen,
    /// An out-of-line value at a fixed offset (nothing laid out for it).
    Off(u32),
}

#[derive(Clone)]
struct Ent {
    tag: u16,
    typ: u16,
    count: u32,
    v: V,
}

struct Dir {
    ents: Vec<Ent>,
    next: Option<usize>,
}

impl Bo {
    fn h(self, v: u16) -> [u8; 2] {
        if self.0 {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn w(self, v: u32) -> [u8; 4] {
        if self.0 {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn header(self, ifd0: u32) -> Vec<u8> {
        let mut t = if self.0 {
            b"MM\0\x2a".to_vec()
        } else {
            b"II\x2a\0".to_vec()
        };
        t.extend(self.w(ifd0));
        t
    }
    fn raw(self, tag: u16, typ: u16, count: u32, d: Vec<u8>) -> Ent {
        Ent {
            tag,
            typ,
            count,
            v: V::Raw(d),
        }
    }
    fn ascii(self, tag: u16, s: &[u8]) -> Ent {
        let mut d = s.to_vec();
        d.push(0);
        self.raw(tag, 2, d.len() as u32, d)
    }
    fn bytes(self, tag: u16, typ: u16, d: &[u8]) -> Ent {
        self.raw(tag, typ, d.len() as u32, d.to_vec())
    }
    fn shorts(self, tag: u16, typ: u16, v: &[u16]) -> Ent {
        let d = v.iter().flat_map(|&x| self.h(x)).collect();
        self.raw(tag, typ, v.len() as u32, d)
    }
    fn longs(self, tag: u16, typ: u16, v: &[u32]) -> Ent {
        let d = v.iter().flat_map(|&x| self.w(x)).collect();
        self.raw(tag, typ, v.len() as u32, d)
    }
    fn rats(self, tag: u16, typ: u16, v: &[(u32, u32)]) -> Ent {
        let d = v
            .iter()
            .flat_map(|&(n, d)| [self.w(n), self.w(d)].concat())
            .collect();
        self.raw(tag, typ, v.len() as u32, d)
    }
    fn rat_bytes(self, v: &[(u32, u32)]) -> Vec<u8> {
        v.iter()
            .flat_map(|&(n, d)| [self.w(n), self.w(d)].concat())
            .collect()
    }
    fn ptr(self, tag: u16, ifd: usize) -> Ent {
        Ent {
            tag,
            typ: 4,
            count: 1,
            v: V::Ifd(ifd),
        }
    }

    /// A TIFF with `dirs` laid out in order (IFD0 first), each IFD followed
    /// by its out-of-line values (word-aligned). A thumbnail of `thumb_len`
    /// bytes is expected right after the returned bytes.
    fn build(self, dirs: &[Dir], thumb_len: u32) -> Vec<u8> {
        let mut offs = vec![0u32; dirs.len()];
        let mut data_at: Vec<Vec<u32>> = Vec::new();
        let mut cur = 8u32;
        for (i, d) in dirs.iter().enumerate() {
            offs[i] = cur;
            cur += 2 + 12 * d.ents.len() as u32 + 4;
            let mut at = Vec::new();
            for e in &d.ents {
                match &e.v {
                    V::Raw(b) if b.len() > 4 => {
                        at.push(cur);
                        cur += b.len() as u32;
                        cur += cur & 1;
                    }
                    _ => at.push(0),
                }
            }
            data_at.push(at);
        }
        let thumb_at = cur;
        let mut t = self.header(offs[0]);
        for (i, d) in dirs.iter().enumerate() {
            assert_eq!(t.len() as u32, offs[i]);
            t.extend(self.h(d.ents.len() as u16));
            for (j, e) in d.ents.iter().enumerate() {
                t.extend(self.h(e.tag));
                t.extend(self.h(e.typ));
                t.extend(self.w(e.count));
                let field = match &e.v {
                    V::Raw(b) if b.len() <= 4 => {
                        let mut fv = [0u8; 4];
                        fv[..b.len()].copy_from_slice(b);
                        fv
                    }
                    V::Raw(_) => self.w(data_at[i][j]),
                    V::Ifd(k) => self.w(offs[*k]),
                    V::ThumbOff => self.w(thumb_at),
                    V::ThumbLen => self.w(thumb_len),
                    V::Off(o) => self.w(*o),
                };
                t.extend(field);
            }
            t.extend(self.w(d.next.map_or(0, |k| offs[k])));
            for e in &d.ents {
                if let V::Raw(b) = &e.v {
                    if b.len() > 4 {
                        t.extend(b);
                        if t.len() % 2 == 1 {
                            t.push(0);
                        }
                    }
                }
            }
        }
        assert_eq!(t.len() as u32, thumb_at);
        t
    }
}

/// A TIFF written byte by byte at chosen offsets (for broken structures).
struct RawT {
    bo: Bo,
    t: Vec<u8>,
}

impl RawT {
    fn new(bo: Bo, ifd0: u32, len: usize) -> RawT {
        let mut t = vec![0u8; len];
        t[..8].copy_from_slice(&bo.header(ifd0));
        RawT { bo, t }
    }
    fn put(&mut self, at: usize, b: &[u8]) {
        self.t[at..at + b.len()].copy_from_slice(b);
    }
    /// An IFD at `at`: count, entries (tag, type, count, value field), and
    /// the next-IFD offset when `next` is given.
    fn ifd(&mut self, at: usize, ents: &[(u16, u16, u32, [u8; 4])], next: Option<u32>) {
        let bo = self.bo;
        self.put(at, &bo.h(ents.len() as u16));
        for (i, &(tag, typ, count, field)) in ents.iter().enumerate() {
            let e = at + 2 + 12 * i;
            self.put(e, &bo.h(tag));
            self.put(e + 2, &bo.h(typ));
            self.put(e + 4, &bo.w(count));
            self.put(e + 8, &field);
        }
        if let Some(n) = next {
            self.put(at + 2 + 12 * ents.len(), &bo.w(n));
        }
    }
}

fn inl(b: &[u8]) -> [u8; 4] {
    let mut f = [0u8; 4];
    f[..b.len()].copy_from_slice(b);
    f
}

fn exif_payload(tiff: &[u8]) -> Vec<u8> {
    [b"Exif\0\0".as_slice(), tiff].concat()
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() + 2 <= 0xFFFF);
    let mut s = vec![0xFF, marker];
    s.extend(((payload.len() + 2) as u16).to_be_bytes());
    s.extend(payload);
    s
}

fn app1(payload: &[u8]) -> Vec<u8> {
    segment(0xE1, payload)
}

fn insert_after_soi(jpeg: &[u8], segs: &[Vec<u8>]) -> Vec<u8> {
    [&jpeg[..2], &segs.concat(), &jpeg[2..]].concat()
}

fn insert_before_sof(jpeg: &[u8], segs: &[Vec<u8>]) -> Vec<u8> {
    let at = walk(jpeg, 0, jpeg.len())
        .iter()
        .find(|s| matches!(s.marker, 0xC0 | 0xC1))
        .expect("SOF")
        .at;
    [&jpeg[..at], &segs.concat(), &jpeg[at..]].concat()
}

/// The directories of the main synthetic EXIF (IFD0, Exif, GPS, IFD1);
/// `full` adds more tags and types to the set the brief lists.
fn main_dirs(bo: Bo, full: bool) -> Vec<Dir> {
    let mut ifd0 = vec![bo.ascii(0x010F, b"Canon")];
    if full {
        ifd0.push(bo.ascii(0x0110, b"EOS 5D Mark IV"));
        ifd0.push(bo.rats(0x011A, 5, &[(72, 1)]));
    }
    ifd0.push(bo.ascii(0x0132, b"2024:05:06 07:08:09"));
    ifd0.push(bo.ascii(0x013B, b"Jane Q. Public"));
    if full {
        ifd0.push(bo.ascii(0x013C, b"pc"));
    }
    ifd0.push(bo.ptr(0x8769, 1));
    ifd0.push(bo.ptr(0x8825, 2));
    if full {
        ifd0.push(bo.bytes(0x9C9D, 1, b"J\0a\0n\0e\0\0\0"));
    }
    let mut exif = vec![];
    if full {
        exif.push(bo.rats(0x829A, 5, &[(1, 125)]));
    }
    exif.push(bo.ascii(0x9003, b"2024:05:06 07:08:09"));
    if full {
        exif.push(bo.ascii(0x9004, b"2024:05:06 07:08:09"));
        exif.push(bo.ascii(0x9010, b"+02:00"));
    }
    exif.push(bo.ascii(0x9290, b"42"));
    if full {
        exif.push(bo.ascii(0x9291, b"123"));
        exif.push(bo.bytes(
            0x927C,
            7,
            b"Nikon\0\x02\x10\0\0MM\0\x2a\0\0\0\x08GPS 48.86N 2.29E",
        ));
        exif.push(bo.ascii(0xA420, b"0123456789abcdef0123456789abcdef"));
    }
    exif.push(bo.ascii(0xA430, b"Jos\xc3\xa9 \x7fOwner\tName"));
    exif.push(bo.ascii(0xA431, b"SN123456789"));
    if full {
        exif.push(bo.ascii(0xA435, b"L-0001"));
    }
    let mut gps = vec![
        bo.bytes(0x0000, 1, &[2, 3, 0, 0]),
        bo.ascii(0x0001, b"N"),
        bo.rats(0x0002, 5, &[(48, 1), (51, 1), (2956, 100)]),
    ];
    if full {
        gps.push(bo.ascii(0x0003, b"E"));
        gps.push(bo.rats(0x0004, 5, &[(2, 1), (17, 1), (4012, 100)]));
    }
    gps.push(bo.bytes(0x0005, 1, &[0]));
    gps.push(bo.rats(0x0006, 5, &[(3512, 100)]));
    if full {
        gps.push(bo.rats(0x0007, 5, &[(7, 1), (8, 1), (9, 1)]));
        gps.push(bo.rats(0x0011, 10, &[((-1234i32) as u32, 10)]));
        gps.push(bo.bytes(0x001B, 7, b"ASCII\0\0\0GPS"));
    }
    gps.push(bo.ascii(0x001D, b"2024:05:06"));
    if full {
        gps.push(bo.shorts(0x001E, 3, &[1]));
    }
    let mut ifd1 = vec![bo.shorts(0x0103, 3, &[6])];
    if full {
        ifd1.push(bo.ascii(0x0132, b"2024:05:06 07:08:10"));
        ifd1.push(bo.ascii(0x013B, b"Thumb Artist"));
    }
    ifd1.push(Ent {
        tag: 0x0201,
        typ: 4,
        count: 1,
        v: V::ThumbOff,
    });
    ifd1.push(Ent {
        tag: 0x0202,
        typ: 4,
        count: 1,
        v: V::ThumbLen,
    });
    vec![
        Dir {
            ents: ifd0,
            next: Some(3),
        },
        Dir {
            ents: exif,
            next: None,
        },
        Dir {
            ents: gps,
            next: None,
        },
        Dir {
            ents: ifd1,
            next: None,
        },
    ]
}

/// A small EXIF with only a GPS IFD (for the thumbnail's own APP1).
fn gps_only_tiff(bo: Bo) -> Vec<u8> {
    bo.build(
        &[
            Dir {
                ents: vec![bo.ptr(0x8825, 1)],
                next: None,
            },
            Dir {
                ents: vec![
                    bo.bytes(0x0000, 1, &[2, 2, 0, 0]),
                    bo.ascii(0x0001, b"S"),
                    bo.rats(0x0002, 5, &[(33, 1), (52, 1), (1234, 100)]),
                    bo.ascii(0x001D, b"2023:12:31"),
                ],
                next: None,
            },
        ],
        0,
    )
}

/// A small EXIF with identity and dates (IFD0 + Exif IFD).
fn identity_dates_tiff(bo: Bo) -> Vec<u8> {
    bo.build(
        &[
            Dir {
                ents: vec![
                    bo.ascii(0x0132, b"2022:02:02 02:02:02"),
                    bo.ascii(0x013B, b"Someone Else"),
                    bo.ptr(0x8769, 1),
                ],
                next: None,
            },
            Dir {
                ents: vec![
                    bo.ascii(0x9004, b"2022:02:02 02:02:02"),
                    bo.ascii(0x9292, b"7"),
                    bo.ascii(0xA435, b"LSN-77"),
                ],
                next: None,
            },
        ],
        0,
    )
}

const XMP_PACKET: &[u8] = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description exif:GPSLatitude=\"48,51.49N\" exif:GPSLongitude=\"2,17.67E\"/></rdf:RDF></x:xmpmeta>";

/// The synthetic file of the brief (`full = false`) or with every extra
/// (`full = true`: the thumbnail carries its own EXIF, a JPEG with EXIF
/// follows EOI, a second EXIF segment and an XMP packet precede the SOF).
fn synthetic(be: bool, full: bool) -> Vec<u8> {
    let bo = Bo(be);
    let main = generate(96, 64, Layout::S420, 85, 0, 40 + u64::from(be));
    let mut thumb = generate(48, 32, Layout::S420, 80, 0, 42);
    if full {
        thumb = insert_after_soi(&thumb, &[app1(&exif_payload(&gps_only_tiff(Bo(!be))))]);
    }
    let tiff = bo.build(&main_dirs(bo, full), thumb.len() as u32);
    let prefix = exif_payload(&tiff);
    let after = if full {
        let a = generate(40, 24, Layout::S444, 80, 0, 43);
        insert_after_soi(&a, &[app1(&exif_payload(&identity_dates_tiff(bo)))])
    } else {
        Vec::new()
    };
    let (file, thumb_at, _) = common::embed(&main, &prefix, &thumb, b"", &after);
    assert_eq!(thumb_at, 2 + 4 + prefix.len());
    if full {
        insert_before_sof(
            &file,
            &[
                app1(&exif_payload(&identity_dates_tiff(Bo(!be)))),
                app1(XMP_PACKET),
            ],
        )
    } else {
        file
    }
}

/// A small generated JPEG with `segs` inserted after its SOI.
fn adv_jpeg(segs: &[Vec<u8>]) -> Vec<u8> {
    insert_after_soi(&generate(32, 24, Layout::S420, 80, 0, 77), segs)
}

/// The EXIF segments of the primary image (reader only, no jsec).
fn own_segments(file: &[u8]) -> Vec<ExifSeg> {
    exif_segments(file, None)
}

// =====================================================================
// Tests: synthetic files
// =====================================================================

#[test]
fn synthetic_brief_set_both_byte_orders() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let file = synthetic(be, false);
        let segs = own_segments(&file);
        assert_eq!(segs.len(), 1);
        // Self-check of the reader: every listed field found and usable.
        let want: Vec<(Kind, u16, bool)> = [
            (Kind::Ifd0, 0x0132),
            (Kind::Ifd0, 0x013B),
            (Kind::Exif, 0x9003),
            (Kind::Exif, 0x9290),
            (Kind::Exif, 0xA430),
            (Kind::Exif, 0xA431),
            (Kind::Gps, 0x0001),
            (Kind::Gps, 0x0002),
            (Kind::Gps, 0x0005),
            (Kind::Gps, 0x0006),
            (Kind::Gps, 0x001D),
        ]
        .iter()
        .map(|&(k, t)| (k, t, true))
        .collect();
        assert_eq!(segs[0].summary(), want, "be={be}");
        let kinds: Vec<Kind> = segs[0].ifds.iter().map(|i| i.1).collect();
        assert_eq!(kinds, [Kind::Ifd0, Kind::Exif, Kind::Gps, Kind::Ifd1]);
        let name = format!("synthetic-brief-{}", if be { "MM" } else { "II" });
        fails.extend(check_input(
            &format!("{name} AES-256"),
            &file,
            &key32(),
            &base_options(3),
        ));
        fails.extend(check_input(
            &format!("{name} AES-128"),
            &file,
            &key16(),
            &base_options(4),
        ));
        // The IFD1 thumbnail is found (in the gap) with and without the option.
        let opts = Options {
            metadata: ALL,
            ..base_options(3)
        };
        let (_, rep) = crypt(&key32(), 0, &opts, Direction::Encrypt, &file).unwrap();
        if !rep.images.iter().any(|i| {
            matches!(i.location, Location::InSegment { segment: 2, .. }) && i.problem.is_none()
        }) {
            fails.push(format!(
                "{name}: the IFD1 thumbnail was not found with the option: {:?}",
                image_keys(&rep)
            ));
        }
    }
    assert_no_failures(&fails);
}

#[test]
fn synthetic_full_both_byte_orders() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let file = synthetic(be, true);
        let name = format!("synthetic-full-{}", if be { "MM" } else { "II" });
        // Without jsec the reader sees the two EXIF segments of the primary.
        let own = own_segments(&file);
        assert_eq!(own.len(), 2, "{name}");
        assert!(own[0].fields.iter().all(|f| f.usable), "{name}");
        assert_eq!(own[0].fields.len(), 26, "{name}: {:?}", own[0].summary());
        // With jsec's image list also the thumbnail's and the appended JPEG's.
        let (_, rep) = crypt(&key32(), 0, &base_options(5), Direction::Encrypt, &file).unwrap();
        let segs = exif_segments(&file, Some(&rep));
        if segs.len() != 4 {
            fails.push(format!(
                "{name}: expected 4 EXIF segments (primary ×2, thumbnail, appended), found {} from images {:?}",
                segs.len(),
                image_keys(&rep)
            ));
        }
        fails.extend(check_input(
            &format!("{name} AES-256"),
            &file,
            &key32(),
            &base_options(5),
        ));
        fails.extend(check_input(
            &format!("{name} AES-128"),
            &file,
            &key16(),
            &base_options(6),
        ));
    }
    assert_no_failures(&fails);
}

/// The parameter block enters `IVX`: other rule, components, bands, region
/// and levels give other (predicted) values.
#[test]
fn synthetic_with_other_parameter_blocks() {
    let file = synthetic(true, true);
    let mut fails = Vec::new();
    let sets = [
        Options {
            rule: Rule::Paper,
            components: Components::Luma,
            bands: Bands {
                dc: true,
                ac_low: true,
                ac_high: false,
            },
            ..base_options(7)
        },
        Options {
            components: Components::Chroma,
            region: Some(Region {
                x: 8,
                y: 16,
                w: 40,
                h: 24,
                outside: true,
            }),
            levels: true,
            ..base_options(8)
        },
        Options {
            region: Some(Region {
                x: 0,
                y: 0,
                w: 17,
                h: 9,
                outside: false,
            }),
            ..base_options(9)
        },
    ];
    for (i, o) in sets.iter().enumerate() {
        fails.extend(check_input(
            &format!("synthetic-full-MM options#{i}"),
            &file,
            &key32(),
            o,
        ));
    }
    assert_no_failures(&fails);
}

#[test]
fn multi_level_keys_leave_metadata_enciphered() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let file = synthetic(be, true);
        fails.extend(check_levels(
            &format!("synthetic-full be={be} AES-256"),
            &file,
            &key32(),
            11,
        ));
        fails.extend(check_levels(
            &format!("synthetic-full be={be} AES-128"),
            &file,
            &key16(),
            12,
        ));
    }
    if let Some(s) = common::corpus_file("real/DSCN0010.jpg") {
        fails.extend(check_levels(&s.name, &s.data, &key32(), 13));
    }
    assert_no_failures(&fails);
}

/// 12.5: with the option the value bytes of transformed fields are outside
/// the digest (default seed): two files differing only in such bytes get
/// the same seed, hence the same image bytes and the same metadata
/// keystream; without the option, or for a non-sensitive byte, they differ.
#[test]
fn digest_excludes_transformed_values() {
    let file = synthetic(true, false);
    let segs = own_segments(&file);
    let s = &segs[0];
    let field = |tag: u16| s.fields.iter().find(|f| f.tag == tag).unwrap();
    let artist = s.t0 + field(0x013B).off as usize;
    let lat = s.t0 + field(0x0002).off as usize + 3; // a numerator byte
    let mut variant = file.clone();
    variant[artist] = b'K'; // "Jane" -> "Kane"
    variant[lat] ^= 0x5A;
    let make = s.t0 + {
        // Make is not sensitive: its value is in the digest.
        let t = &file[s.t0..s.q_end];
        t.windows(5).position(|w| w == b"Canon").unwrap()
    };
    let mut other = file.clone();
    other[make] = b'D';

    let key = key32();
    let opts = Options {
        metadata: ALL,
        ..Options::default()
    };
    let enc = |o: &Options, d: &[u8]| {
        let (out, _) = crypt(&key, 0, o, Direction::Encrypt, d).unwrap();
        let (back, _) = crypt(&key, 0, o, Direction::Decrypt, &out).unwrap();
        assert_eq!(back, d, "default seed: decryption restores the input");
        out
    };
    let e_file = enc(&opts, &file);
    let e_variant = enc(&opts, &variant);
    let e_other = enc(&opts, &other);
    let values: Vec<usize> = s
        .transformed(ALL)
        .flat_map(|f| (0..f.len as usize).map(move |j| s.t0 + f.off as usize + j))
        .collect();
    let mut fails = Vec::new();
    for (i, (a, b)) in e_file.iter().zip(&e_variant).enumerate() {
        if a != b && !values.contains(&i) {
            fails.push(format!(
                "byte {i} differs although the files differ only in transformed values"
            ));
            break;
        }
    }
    // Same seed, same KX: XOR-transformed bytes keep their XOR difference.
    if (e_file[lat] ^ file[lat]) != (e_variant[lat] ^ variant[lat]) {
        fails.push("the GPSLatitude byte was enciphered with different keystreams".into());
    }
    if e_file[artist] == e_variant[artist] {
        fails.push("the Artist byte did not keep its difference".into());
    }
    // A non-sensitive byte is in the digest: the image bytes change.
    let diff_other = e_file
        .iter()
        .zip(&e_other)
        .enumerate()
        .filter(|&(i, (a, b))| a != b && i != make)
        .count();
    if diff_other == 0 {
        fails.push("changing the Make value did not change the seed".into());
    }
    // Without the option the values are in the digest too.
    let plain = Options::default();
    let e_plain = enc(&plain, &file);
    // 12.5 "Image data": with the default seed the option changes the
    // digest, so the image data is encrypted differently.
    let d_option = e_file
        .iter()
        .zip(&e_plain)
        .enumerate()
        .filter(|&(i, (a, b))| a != b && !values.contains(&i))
        .count();
    if d_option == 0 {
        fails.push(
            "default seed: the image data is encrypted identically with and without the option"
                .into(),
        );
    }
    let d_none = e_plain
        .iter()
        .zip(&enc(&plain, &variant))
        .enumerate()
        .filter(|&(i, (a, b))| a != b && i != artist && i != lat)
        .count();
    if d_none == 0 {
        fails.push(
            "without the option, a change of Artist / GPSLatitude did not change the seed".into(),
        );
    }
    assert_no_failures(&fails);
}

/// 12.5: streams transform the values exactly as the in-place operation.
#[test]
fn streams_agree_with_in_place() {
    let file = synthetic(false, true);
    let key = key32();
    let mut rng = common::Rng::new(99);
    for opts in [
        Options {
            metadata: ALL,
            ..base_options(21)
        },
        Options {
            metadata: ALL,
            ..Options::default()
        },
    ] {
        let (enc, _) = crypt(&key, 0, &opts, Direction::Encrypt, &file).unwrap();
        let c = Cipher::new(Key::from_bytes(&key).unwrap(), opts.clone()).unwrap();
        let s_enc = common::run_stream(&c, Direction::Encrypt, &file, &mut rng, 97).unwrap();
        assert!(
            s_enc == enc,
            "stream encryption differs (nonce {:?})",
            opts.nonce.is_some()
        );
        let s_dec = common::run_stream(&c, Direction::Decrypt, &enc, &mut rng, 97).unwrap();
        assert!(
            s_dec == file,
            "stream decryption differs (nonce {:?})",
            opts.nonce.is_some()
        );
    }
}

/// 12.5: a transformed value inside the IFD1 thumbnail's bytes splits the
/// gap, so the thumbnail "runs into the gap's end" and is truncated; when
/// the value's class is not selected the thumbnail is whole.
#[test]
fn transformed_value_inside_thumbnail_splits_the_gap() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let bo = Bo(be);
        let main = generate(64, 48, Layout::S420, 85, 0, 50);
        let thumb = generate(48, 32, Layout::S420, 80, 0, 51);
        let mut dirs = main_dirs(bo, false);
        // GPSAltitude (RATIONAL, count 1) points into the thumbnail's
        // entropy-coded data, 40 bytes before its end.
        let set_alt = |dirs: &mut Vec<Dir>, at: u32| {
            for e in &mut dirs[2].ents {
                if e.tag == 0x0006 {
                    e.v = V::Off(at);
                }
            }
        };
        set_alt(&mut dirs, 0);
        let thumb_t = bo.build(&dirs, thumb.len() as u32).len() as u32;
        let inner = thumb_t + thumb.len() as u32 - 40;
        set_alt(&mut dirs, inner);
        let tiff = bo.build(&dirs, thumb.len() as u32);
        let (file, thumb_at, _) = common::embed(&main, &exif_payload(&tiff), &thumb, b"", b"");
        let segs = own_segments(&file);
        let f_alt = segs[0].fields.iter().find(|f| f.tag == 0x0006).unwrap();
        assert!(f_alt.usable && f_alt.off == u64::from(inner) && f_alt.len == 8);
        let value_at = segs[0].t0 + inner as usize;
        let key = key32();
        for (sname, sel) in SELECTIONS {
            let tag = format!("value-in-thumbnail be={be} [{sname}]");
            let opts = Options {
                metadata: sel,
                ..base_options(31)
            };
            let (out, rep) = crypt(&key, 0, &opts, Direction::Encrypt, &file).unwrap();
            let im = rep.images.iter().find(|i| i.offset as usize == thumb_at);
            if sel.location {
                match im {
                    Some(i) if i.problem.is_some() && i.end as usize <= value_at => {}
                    _ => fails.push(format!(
                        "{tag}: expected the thumbnail at {thumb_at} truncated before {value_at}: {:?}",
                        image_keys(&rep)
                    )),
                }
                let pred = predict_all(&file, &segs, &key, &opts);
                for (&o, &v) in pred.range(value_at..value_at + 8) {
                    if out[o] != v {
                        fails.push(format!(
                            "{tag}: value byte {o}: {:02x}, predicted {v:02x}",
                            out[o]
                        ));
                    }
                }
            } else if !im
                .is_some_and(|i| i.problem.is_none() && i.end as usize == thumb_at + thumb.len())
            {
                fails.push(format!(
                    "{tag}: expected the whole thumbnail at {thumb_at}: {:?}",
                    image_keys(&rep)
                ));
            }
            let (back, _) = crypt(&key, 0, &opts, Direction::Decrypt, &out).unwrap();
            if back != file {
                fails.push(format!("{tag}: decryption does not restore the input"));
            }
        }
    }
    assert_no_failures(&fails);
}

// =====================================================================
// Tests: adversarial TIFF structures
// =====================================================================

/// One adversarial file per byte order: build, check the reader's reading
/// of the spec (`want` per EXIF segment), then compare with jsec.
fn adversarial(name: &str, build: impl Fn(Bo) -> Vec<u8>, want: &[Vec<(Kind, u16, bool)>]) {
    let mut fails = Vec::new();
    for be in [true, false] {
        let file = build(Bo(be));
        let segs = own_segments(&file);
        let got: Vec<_> = segs.iter().map(ExifSeg::summary).collect();
        assert_eq!(got, want, "{name} be={be}: reader self-check");
        fails.extend(check_input(
            &format!("{name} be={be} AES-256"),
            &file,
            &key32(),
            &base_options(41),
        ));
        fails.extend(check_input(
            &format!("{name} be={be} AES-128"),
            &file,
            &key16(),
            &base_options(42),
        ));
    }
    assert_no_failures(&fails);
}

fn ascii20() -> &'static [u8] {
    b"2020:01:02 03:04:05\0"
}

#[test]
fn adversarial_ifd_loops() {
    use Kind::*;
    adversarial(
        "ifd-loops",
        |bo| {
            // Exif pointer back to IFD0, IFD1 = the GPS IFD, GPS next -> IFD0.
            let mut a = RawT::new(bo, 8, 230);
            a.ifd(
                8,
                &[
                    (0x013B, 2, 3, inl(b"ab\0")),
                    (0x8769, 4, 1, bo.w(8)),
                    (0x8825, 4, 1, bo.w(100)),
                ],
                Some(100),
            );
            a.ifd(
                100,
                &[(1, 2, 2, inl(b"N\0")), (2, 5, 3, bo.w(200))],
                Some(8),
            );
            a.put(200, &bo.rat_bytes(&[(1, 1), (2, 1), (3, 1)]));
            // Exif and GPS pointers to one IFD: read once, as Exif (first queued).
            let mut b = RawT::new(bo, 8, 270);
            b.ifd(
                8,
                &[(0x8769, 4, 1, bo.w(100)), (0x8825, 4, 1, bo.w(100))],
                Some(100),
            );
            b.ifd(
                100,
                &[(2, 5, 3, bo.w(200)), (0x9003, 2, 20, bo.w(240))],
                Some(100),
            );
            b.put(200, &bo.rat_bytes(&[(4, 1), (5, 1), (6, 1)]));
            b.put(240, ascii20());
            adv_jpeg(&[app1(&exif_payload(&a.t)), app1(&exif_payload(&b.t))])
        },
        &[
            vec![(Ifd0, 0x013B, true), (Gps, 1, true), (Gps, 2, true)],
            vec![(Exif, 0x9003, true)],
        ],
    );
}

#[test]
fn adversarial_overlapping_ifds() {
    use Kind::*;
    adversarial(
        "overlapping-ifds",
        |bo| {
            // IFD0 spans [8, 62). The GPS pointer lands on its second entry
            // (count = that entry's tag, 2): overlap, skipped. The Exif IFD
            // starts right where IFD0 ends: read.
            let mut a = RawT::new(bo, 8, 200);
            a.ifd(
                8,
                &[
                    (0x013B, 2, 3, inl(b"ab\0")),
                    (0x0002, 5, 3, bo.w(140)),
                    (0x8825, 4, 1, bo.w(22)),
                    (0x8769, 4, 1, bo.w(62)),
                ],
                Some(0),
            );
            a.ifd(62, &[(0x9003, 2, 20, bo.w(100))], Some(0));
            a.put(100, ascii20());
            a.put(140, &bo.rat_bytes(&[(7, 1), (8, 1), (9, 1)]));
            // IFD1 offset 2 overlaps the TIFF header (its count, 0x2A = 42,
            // is the magic number): skipped.
            let mut b = RawT::new(bo, 8, 120);
            b.ifd(8, &[(0x013C, 2, 4, inl(b"pc1\0"))], Some(2));
            // An IFD before IFD0 that shares no byte with it is read: the
            // rule is about shared bytes, not about order. IFD0 at 44
            // [44, 74) points at the Exif IFD at 8 [8, 26), which ends
            // exactly where the GPS IFD at 26 [26, 44) begins.
            let mut c = RawT::new(bo, 44, 140);
            c.ifd(
                44,
                &[(0x8769, 4, 1, bo.w(8)), (0x8825, 4, 1, bo.w(26))],
                Some(0),
            );
            c.ifd(8, &[(0x9004, 2, 20, bo.w(100))], Some(0));
            c.ifd(26, &[(1, 2, 2, inl(b"S\0"))], None);
            c.put(100, ascii20());
            adv_jpeg(&[
                app1(&exif_payload(&a.t)),
                app1(&exif_payload(&b.t)),
                app1(&exif_payload(&c.t)),
            ])
        },
        &[
            vec![(Ifd0, 0x013B, true), (Exif, 0x9003, true)],
            vec![(Ifd0, 0x013C, true)],
            vec![(Exif, 0x9004, true), (Gps, 1, true)],
        ],
    );
}

#[test]
fn adversarial_truncated_ifds() {
    use Kind::*;
    adversarial(
        "truncated-ifds",
        |bo| {
            // GPS IFD claims 5 entries; T ends 8 bytes into the third. The
            // partial entry is not read, so its bytes are no structure and
            // the Artist value placed there is usable.
            let mut a = RawT::new(bo, 8, 158);
            a.ifd(
                8,
                &[
                    (0x013B, 2, 6, bo.w(151)),
                    (0x8769, 4, 1, bo.w(86)),
                    (0x8825, 4, 1, bo.w(124)),
                ],
                Some(0),
            );
            a.put(50, &bo.rat_bytes(&[(7, 1), (8, 1), (9, 1)]));
            a.put(74, b"2024:01:02\0");
            a.ifd(86, &[(0x9003, 2, 20, bo.w(104))], Some(0));
            a.put(104, ascii20());
            a.t.resize(200, 0);
            a.ifd(
                124,
                &[
                    (2, 5, 3, bo.w(50)),
                    (0x1D, 2, 11, bo.w(74)),
                    (1, 2, 2, inl(b"N\0")),
                    (3, 2, 2, inl(b"E\0")),
                    (4, 5, 3, bo.w(50)),
                ],
                Some(0),
            );
            a.t.truncate(158);
            a.put(151, b"abcde\0"); // inside the partial third entry
                                    // Exif pointer to the last byte of T: its count does not fit.
            let mut b = RawT::new(bo, 8, 48);
            b.ifd(
                8,
                &[(0x013B, 2, 5, bo.w(43)), (0x8769, 4, 1, bo.w(47))],
                Some(0),
            );
            b.put(43, b"abcd\0");
            adv_jpeg(&[app1(&exif_payload(&a.t)), app1(&exif_payload(&b.t))])
        },
        &[
            vec![
                (Ifd0, 0x013B, true),
                (Exif, 0x9003, true),
                (Gps, 2, true),
                (Gps, 0x1D, true),
            ],
            vec![(Ifd0, 0x013B, true)],
        ],
    );
}

#[test]
fn adversarial_value_overlapping_structure() {
    use Kind::*;
    adversarial(
        "value-overlaps-structure",
        |bo| {
            let mut a = RawT::new(bo, 8, 200);
            a.ifd(
                8,
                &[
                    (0x0132, 2, 20, bo.w(0)), // the TIFF header
                    (0x013B, 2, 8, bo.w(22)), // IFD0's own entries
                    (0x013C, 2, 6, bo.w(70)), // IFD0's next-IFD offset
                    (0x8769, 4, 1, bo.w(160)),
                    (0x8825, 4, 1, bo.w(100)),
                ],
                Some(0),
            );
            a.ifd(100, &[(2, 5, 3, bo.w(104)), (4, 5, 1, bo.w(150))], Some(0));
            a.put(150, &bo.rat_bytes(&[(11, 1)]));
            a.ifd(
                160,
                &[(0xA430, 2, 8, bo.w(96)), (0xA431, 2, 8, bo.w(190))],
                Some(0),
            );
            a.put(96, b"own");
            a.put(190, b"serial1\0");
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![
            (Ifd0, 0x0132, false),
            (Ifd0, 0x013B, false),
            (Ifd0, 0x013C, false),
            (Exif, 0xA430, false),
            (Exif, 0xA431, true),
            (Gps, 2, false),
            (Gps, 4, true),
        ]],
    );
}

/// Overlaps between sensitive values: only the first usable one wins, and
/// usability does not depend on the selection (with {identity} the
/// overlapping Artist stays unchanged because of the unselected DateTime).
#[test]
fn adversarial_fields_sharing_bytes() {
    use Kind::*;
    adversarial(
        "shared-bytes",
        |bo| {
            let tl = 280;
            let mut a = RawT::new(bo, 8, tl);
            a.ifd(
                8,
                &[
                    (0x0132, 2, 20, bo.w(200)),
                    (0x013B, 2, 10, bo.w(210)),
                    (0x013C, 2, 10, bo.w(220)),
                    (0x8769, 4, 1, bo.w(100)),
                    (0x8825, 4, 1, bo.w(140)),
                ],
                Some(0),
            );
            a.ifd(
                100,
                &[(0xA431, 2, 10, bo.w(200)), (0x9003, 2, 20, bo.w(230))],
                Some(0),
            );
            a.ifd(
                140,
                &[
                    (2, 5, 3, bo.w(244)),
                    (6, 5, 1, bo.w(250)),
                    (7, 5, 3, bo.w(tl as u32 - 8)),
                    (0x1D, 2, 8, bo.w(tl as u32 - 8)),
                ],
                Some(0),
            );
            a.put(200, b"2024:05:06 07:08:09\0");
            a.put(220, b"host-name\0");
            a.put(230, b"2021:07:08 09:10:11\0");
            a.put(250, &bo.rat_bytes(&[(123, 10)]));
            a.put(272, b"2024:05\0");
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![
            (Ifd0, 0x0132, true),
            (Ifd0, 0x013B, false),
            (Ifd0, 0x013C, true),
            (Exif, 0xA431, false),
            (Exif, 0x9003, true),
            (Gps, 2, false),
            (Gps, 6, true),
            (Gps, 7, false),
            (Gps, 0x1D, true),
        ]],
    );
}

#[test]
fn adversarial_values_past_the_end() {
    use Kind::*;
    adversarial(
        "values-past-end",
        |bo| {
            let tl = 150u32;
            let mut a = RawT::new(bo, 8, tl as usize);
            a.ifd(
                8,
                &[
                    (0x013B, 2, 11, bo.w(tl - 10)), // one byte into the next segment
                    (0x0132, 2, 10, bo.w(tl - 10)), // ends exactly at the end of T
                    (0x8825, 4, 1, bo.w(60)),
                ],
                Some(0),
            );
            a.ifd(
                60,
                &[
                    (2, 5, 3, bo.w(0xFFFF_FFF0)), // offset + len wraps in 32 bits
                    (4, 5, 3, bo.w(0xFFFF_FFFF)),
                    (6, 5, 1, bo.w(tl)),
                    (0x1D, 2, 5, bo.w(0x8000_0000)),
                    (0x1E, 3, 1, inl(&bo.h(1))),
                ],
                Some(0),
            );
            a.put(tl as usize - 10, b"2020:01:0\0");
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![
            (Ifd0, 0x013B, false),
            (Ifd0, 0x0132, true),
            (Gps, 2, false),
            (Gps, 4, false),
            (Gps, 6, false),
            (Gps, 0x1D, false),
            (Gps, 0x1E, true),
        ]],
    );
}

/// `len = count × size` overflowing 32 bits: out of line and far past the
/// end (a 32-bit product would wrap to a small, seemingly usable length).
#[test]
fn adversarial_overflowing_counts() {
    use Kind::*;
    adversarial(
        "overflowing-counts",
        |bo| {
            let mut a = RawT::new(bo, 8, 200);
            a.ifd(
                8,
                &[
                    (0x013B, 1, 0x8000_0001, bo.w(40)),
                    (0x8825, 4, 1, bo.w(100)),
                ],
                Some(0),
            );
            for (i, b) in a.t[40..100].iter_mut().enumerate() {
                *b = 0x41 + (i % 26) as u8;
            }
            a.ifd(
                100,
                &[
                    (2, 5, 0x2000_0001, bo.w(40)), // 2^32 + 8
                    (4, 4, 0x4000_0001, bo.w(48)), // 2^32 + 4 (inline if wrapped)
                    (6, 3, 0x8000_0002, bo.w(56)), // 2^32 + 4
                    (0x1D, 2, 0xFFFF_FFFF, bo.w(64)),
                    (0x11, 12, 0x2000_0000, bo.w(72)), // 2^32 (0 if wrapped)
                    (0x12, 9, 0x4000_0000, bo.w(80)),
                    (0x1E, 3, 1, inl(&bo.h(1))),
                ],
                Some(0),
            );
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![
            (Ifd0, 0x013B, false),
            (Gps, 2, false),
            (Gps, 4, false),
            (Gps, 6, false),
            (Gps, 0x1D, false),
            (Gps, 0x11, false),
            (Gps, 0x12, false),
            (Gps, 0x1E, true),
        ]],
    );
}

/// Unknown types (0, 14, 16–18, 0xFFFF) make an entry non-sensitive; type
/// 13 (IFD) and 7 (UNDEFINED) are known.
#[test]
fn adversarial_unknown_types() {
    use Kind::*;
    adversarial(
        "unknown-types",
        |bo| {
            let mut a = RawT::new(bo, 8, 240);
            a.ifd(
                8,
                &[
                    (0x013B, 0, 4, inl(b"abc\0")),
                    (0x0132, 14, 20, bo.w(100)),
                    (0x013C, 16, 1, inl(b"host")),
                    (0x9C9D, 13, 1, inl(&[1, 2, 3, 4])),
                    (0x8825, 4, 1, bo.w(130)),
                    (0x8769, 4, 1, bo.w(200)),
                ],
                Some(0),
            );
            a.put(100, ascii20());
            a.ifd(
                130,
                &[
                    (2, 0, 3, bo.w(100)),
                    (4, 0xFFFF, 1, inl(b"wxyz")),
                    (6, 17, 1, bo.w(100)),
                    (7, 5, 1, bo.w(120)),
                ],
                Some(0),
            );
            a.put(120, &bo.rat_bytes(&[(5, 7)]));
            a.ifd(
                200,
                &[(0x9003, 18, 1, bo.w(100)), (0xA431, 7, 6, bo.w(232))],
                Some(0),
            );
            a.put(232, b"\x01\x02\x03\x04\x05\x06");
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![
            (Ifd0, 0x9C9D, true),
            (Gps, 7, true),
            (Exif, 0xA431, true),
        ]],
    );
}

#[test]
fn adversarial_ifd_count_over_1024() {
    use Kind::*;
    adversarial(
        "ifd-count-over-1024",
        |bo| {
            let mut a = RawT::new(bo, 8, 256);
            a.ifd(
                8,
                &[
                    (0x8769, 4, 1, bo.w(100)),
                    (0x8825, 4, 1, bo.w(220)),
                    (0x013B, 2, 6, bo.w(98)), // covers the Exif IFD's count
                ],
                Some(0),
            );
            a.put(98, b"ab");
            a.put(100, &bo.h(1025));
            // Bytes after a skipped IFD's count are no structure: GPS values
            // there are usable; the entry-like bytes at 150 are not read.
            a.put(
                102,
                &bo.rat_bytes(&[(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1)]),
            );
            a.put(150, &[bo.h(0x9003), bo.h(2)].concat());
            a.put(154, &[bo.w(20), bo.w(170)].concat());
            a.put(170, ascii20());
            a.ifd(220, &[(2, 5, 3, bo.w(102)), (4, 5, 3, bo.w(126))], Some(0));
            // Exactly 1024 entries are read.
            let n = 1024usize;
            let tl = 300 + 2 + 12 * n + 4 + 20;
            let mut b = RawT::new(bo, 8, tl);
            b.ifd(8, &[(0x8769, 4, 1, bo.w(300))], Some(0));
            let mut ents: Vec<(u16, u16, u32, [u8; 4])> = (0..n - 1)
                .map(|i| (0xC000 + i as u16, 3, 1, inl(&bo.h(i as u16))))
                .collect();
            ents.push((0x9003, 2, 20, bo.w((tl - 20) as u32)));
            b.ifd(300, &ents, Some(0));
            b.put(tl - 20, ascii20());
            adv_jpeg(&[app1(&exif_payload(&a.t)), app1(&exif_payload(&b.t))])
        },
        &[
            vec![(Ifd0, 0x013B, false), (Gps, 2, true), (Gps, 4, true)],
            vec![(Exif, 0x9003, true)],
        ],
    );
}

/// At most 8 IFDs are visited; an IFD whose count does not fit still counts,
/// a repeated offset does not.
#[test]
fn adversarial_too_many_ifds() {
    use Kind::*;
    adversarial(
        "too-many-ifds",
        |bo| {
            let e = |k: u32| 200 + 40 * k;
            let tl = e(8) as usize;
            let mut a = RawT::new(bo, 8, tl);
            let mut ents: Vec<(u16, u16, u32, [u8; 4])> = [
                tl as u32 - 1,
                e(0),
                e(0),
                e(1),
                e(2),
                e(3),
                e(4),
                e(5),
                e(6),
            ]
            .iter()
            .map(|&o| (0x8769, 4, 1, bo.w(o)))
            .collect();
            ents.push((0x8825, 4, 1, bo.w(e(7))));
            a.ifd(8, &ents, Some(e(7)));
            for k in 0..7 {
                a.ifd(e(k) as usize, &[(0x9003, 2, 20, bo.w(e(k) + 18))], Some(0));
                a.put(e(k) as usize + 18, ascii20());
            }
            a.ifd(e(7) as usize, &[(0x0132, 2, 20, bo.w(e(7) + 18))], Some(0));
            a.put(e(7) as usize + 18, b"2020:01:02 03:04:0\0"); // 19 bytes: the last byte of T stays 0
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![(Exif, 0x9003, true); 6]],
    );
}

/// Only IFD0's 0x8769 / 0x8825 with type LONG or IFD and count 1 are
/// followed; a 0x8769 entry in the GPS IFD is just a location value.
#[test]
fn adversarial_pointer_types() {
    use Kind::*;
    adversarial(
        "pointer-types",
        |bo| {
            let mut a = RawT::new(bo, 8, 460);
            a.ifd(
                8,
                &[
                    (0x8769, 3, 1, inl(&bo.h(100))),
                    (0x8825, 13, 1, bo.w(200)),
                    (0x8769, 4, 2, bo.w(300)),
                ],
                Some(400),
            );
            a.put(300, &[bo.w(100), bo.w(100)].concat());
            a.ifd(100, &[(0x9003, 2, 20, bo.w(120))], Some(0));
            a.put(120, ascii20());
            a.ifd(
                200,
                &[(2, 5, 3, bo.w(240)), (0x8769, 4, 1, bo.w(100))],
                Some(0),
            );
            a.put(240, &bo.rat_bytes(&[(1, 3), (2, 3), (4, 3)]));
            a.ifd(
                400,
                &[(0x8825, 4, 1, bo.w(100)), (0x0132, 2, 20, bo.w(440))],
                Some(100), // IFD1's next offset is not followed
            );
            a.put(440, ascii20());
            adv_jpeg(&[app1(&exif_payload(&a.t))])
        },
        &[vec![
            (Gps, 2, true),
            (Gps, 0x8769, true),
            (Ifd1, 0x0132, true),
        ]],
    );
}

/// Payloads that are not EXIF for section 12 (and EXIF in APP0 / APP2) are
/// left alone; `Exif\0` with any sixth byte is EXIF.
#[test]
fn adversarial_not_exif_payloads() {
    use Kind::*;
    adversarial(
        "not-exif",
        |bo| {
            let tiff = gps_only_tiff(bo);
            let mut bad_magic = tiff.clone();
            bad_magic[3 - usize::from(!bo.0)] = 0x2B;
            let far = [bo.header(0xFFFF_FFF0), tiff[8..].to_vec()].concat();
            adv_jpeg(&[
                app1(&[b"Exif\0X".as_slice(), &tiff].concat()),
                app1(&exif_payload(&bad_magic)),
                app1(&exif_payload(&tiff[..7])),
                app1(b"Exif"),
                app1(b"Exif\0"),
                app1(&[b"exif\0\0".as_slice(), &tiff].concat()),
                app1(&exif_payload(&far)),
                app1(&exif_payload(&bo.header(8))),
                segment(0xE0, &exif_payload(&tiff)),
                segment(0xE2, &exif_payload(&tiff)),
                app1(&[b"Exif\0\0".as_slice(), b"MI\0\x2a\0\0\0\x08", &tiff[8..]].concat()),
            ])
        },
        &[
            vec![(Gps, 1, true), (Gps, 2, true), (Gps, 0x1D, true)],
            vec![],
            vec![],
        ],
    );
}

/// Count 0 (12.2): a field with `len = 0` has nothing to hide; it is never
/// transformed (the bytes, the report's `transformed` flags) and never
/// reported as a problem (`problem` is `None` and no warning names it),
/// whatever the selection. It is still listed in the report, at the offset
/// of its value field (inline, as `len <= 4`, whatever that field holds)
/// with length 0.
#[test]
fn adversarial_zero_counts_not_reported() {
    adversarial("zero-counts", zero_counts, &zero_counts_want());
}

fn zero_counts(bo: Bo) -> Vec<u8> {
    let mut a = RawT::new(bo, 8, 140);
    a.ifd(
        8,
        &[
            (0x013B, 2, 0, inl(b"")),
            (0x0132, 2, 0, inl(b"ab")),
            (0x013C, 2, 0, bo.w(0)),
            (0x8825, 4, 1, bo.w(70)),
        ],
        Some(0),
    );
    // The value fields hold what would be offsets past the end of T and
    // into the structure: with `len = 0` they are inline all the same.
    a.ifd(
        70,
        &[
            (2, 5, 0, inl(b"")),
            (1, 2, 2, inl(b"N\0")),
            (0x1D, 2, 0, inl(b"")),
            (4, 5, 0, bo.w(0xFFFF_FFF0)),
            (6, 5, 0, bo.w(70)),
        ],
        Some(0),
    );
    adv_jpeg(&[app1(&exif_payload(&a.t))])
}

fn zero_counts_want() -> Vec<Vec<(Kind, u16, bool)>> {
    use Kind::*;
    vec![vec![
        (Ifd0, 0x013B, false),
        (Ifd0, 0x0132, false),
        (Ifd0, 0x013C, false),
        (Gps, 2, false),
        (Gps, 1, true),
        (Gps, 0x1D, false),
        (Gps, 4, false),
        (Gps, 6, false),
    ]]
}

/// Every TIFF type in the GPS IFD (including tags no GPS standard names),
/// ASCII with non-printable bytes, without terminator, with inner NULs,
/// the whole printable range.
#[test]
fn adversarial_every_type() {
    use Kind::*;
    let dirs = |bo: Bo| {
        let printable: Vec<u8> = (0x20..=0x7Eu8).collect();
        vec![
            Dir {
                ents: vec![
                    bo.ascii(0x010E, b"not sensitive"),
                    bo.ascii(0x013B, b"~ "),
                    bo.raw(0x013C, 2, 4, b"a b\0".to_vec()),
                    bo.ptr(0x8825, 1),
                    bo.bytes(0x9C9D, 1, b"J\0o\0h\0n\0\0\0"),
                ],
                next: None,
            },
            Dir {
                ents: vec![
                    bo.bytes(0x0000, 1, &[2, 3, 0, 0]),
                    bo.ascii(0x0001, b"S"),
                    bo.rats(
                        0x0002,
                        10,
                        &[
                            ((-48i32) as u32, 1),
                            ((-51i32) as u32, 1),
                            ((-2956i32) as u32, 100),
                        ],
                    ),
                    bo.ascii(0x0003, b"W"),
                    bo.rats(0x0004, 5, &[(2, 1), (17, 1), (4012, 100)]),
                    bo.ascii(0x0009, b"A\x01\x7f\x80\xff b~\t"),
                    bo.raw(0x0012, 2, printable.len() as u32, printable),
                    bo.raw(0x0013, 2, 3, b"abc".to_vec()),
                    bo.raw(0x0014, 2, 6, b"ab\0cd\0".to_vec()),
                    bo.bytes(0x001B, 7, b"UNICODE\0\x00a\x00b"),
                    bo.raw(
                        0x0050,
                        12,
                        2,
                        [1.5f64.to_be_bytes(), (-2.25f64).to_be_bytes()].concat(),
                    ),
                    bo.raw(0x0051, 11, 1, 3.5f32.to_be_bytes().to_vec()),
                    bo.shorts(0x0052, 8, &[0xFFFE, 7]),
                    bo.bytes(0x0053, 6, &[0x80, 0x7F, 0xFF]),
                    bo.longs(0x0054, 9, &[1, 0xFFFF_FFFF, 0x8000_0000]),
                    bo.longs(0x0055, 13, &[0x1234]),
                    bo.bytes(0x0056, 7, &[9; 9]),
                    bo.shorts(0x0057, 3, &[1, 2, 3]),
                    bo.longs(0x0058, 4, &[0xDEAD_BEEF]),
                    bo.bytes(0x0059, 1, &[1, 2, 3, 4, 5]),
                    bo.shorts(0x005A, 8, &[0x0102]),
                    bo.rats(0xFFFF, 5, &[(0, 0)]),
                ],
                next: None,
            },
        ]
    };
    let want: Vec<(Kind, u16, bool)> = [(Ifd0, 0x013B), (Ifd0, 0x013C), (Ifd0, 0x9C9D)]
        .into_iter()
        .chain(
            [
                1u16, 2, 3, 4, 9, 0x12, 0x13, 0x14, 0x1B, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56,
                0x57, 0x58, 0x59, 0x5A, 0xFFFF,
            ]
            .into_iter()
            .map(|t| (Gps, t)),
        )
        .map(|(k, t)| (k, t, true))
        .collect();
    adversarial(
        "every-type",
        |bo| adv_jpeg(&[app1(&exif_payload(&bo.build(&dirs(bo), 0)))]),
        &[want],
    );
}

/// The value field of an inline sensitive field is no structure, and its
/// value is only its first `len` bytes: a later value may use the slack
/// (here together with the bytes where an unread next-IFD offset would be),
/// but not the value itself.
#[test]
fn adversarial_inline_value_field_slack() {
    use Kind::*;
    adversarial(
        "inline-slack",
        |bo| {
            // IFD0 at 60: GPS pointer, Artist "A\0" inline at 82..84; T ends
            // at 89, so IFD0's next-IFD offset (86..90) does not fit.
            let build = |gps_at: u32| {
                let mut a = RawT::new(bo, 60, 89);
                a.ifd(8, &[(0x001B, 7, 5, bo.w(gps_at))], Some(0));
                a.ifd(
                    60,
                    &[(0x8825, 4, 1, bo.w(8)), (0x013B, 2, 2, inl(b"A\0"))],
                    None,
                );
                a.put(84, &[0x11, 0x22, 0x33, 0x44, 0x55]);
                a.t
            };
            adv_jpeg(&[
                app1(&exif_payload(&build(84))),
                app1(&exif_payload(&build(83))),
            ])
        },
        &[
            vec![(Ifd0, 0x013B, true), (Gps, 0x1B, true)],
            vec![(Ifd0, 0x013B, true), (Gps, 0x1B, false)],
        ],
    );
}

/// An EXIF APP1 segment may follow the scan (section 1: APPn segments
/// anywhere between markers); every APP1 of the primary image is examined.
#[test]
fn exif_after_the_scan() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let bo = Bo(be);
        let jpeg = generate(40, 32, Layout::S444, 85, 2, 61);
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9]);
        let tail = app1(&exif_payload(&identity_dates_tiff(bo)));
        let file = [&jpeg[..jpeg.len() - 2], &tail, &[0xFF, 0xD9]].concat();
        let segs = own_segments(&file);
        assert_eq!(segs.len(), 1);
        assert!(segs[0].g > 100 && segs[0].fields.len() == 5);
        fails.extend(check_input(
            &format!("exif-after-scan be={be}"),
            &file,
            &key32(),
            &base_options(62),
        ));
    }
    assert_no_failures(&fails);
}

/// A primary image with `levels` nested thumbnails, each in its parent's
/// IFD1 and each with its own EXIF (IFD0, Exif, GPS, IFD1).
fn nested(bo: Bo, levels: u64) -> Vec<u8> {
    let mut inner: Vec<u8> = Vec::new();
    for depth in (0..=levels).rev() {
        let base = generate(24, 16, Layout::S420, 75, 0, 70 + depth);
        let tiff = bo.build(&main_dirs(bo, false), inner.len() as u32);
        let payload = [exif_payload(&tiff), inner].concat();
        inner = insert_after_soi(&base, &[app1(&payload)]);
    }
    inner
}

/// Run `check_input` on `nested(levels)`; `images` embedded images must be
/// found (section 7: "three levels deep at most"), and the examined EXIF
/// segments (12.2) are those of the images at depths 0, 1 and 2. The APP1
/// of an image at depth 3 is neither searched nor examined: its sensitive
/// values stay as they are under every selection and `Report.metadata`
/// does not list them.
fn check_nested(levels: u64, images: usize) {
    let mut fails = Vec::new();
    for be in [true, false] {
        let file = nested(Bo(be), levels);
        let name = format!("nested-{levels} be={be}");
        let (_, rep) = crypt(&key32(), 0, &base_options(63), Direction::Encrypt, &file).unwrap();
        // The APP1 of the image at each depth, by the layout of `nested`:
        // SOI, APP1 header, `Exif\0\0`, the TIFF, then the next image.
        let step = 2 + 4 + 6 + Bo(be).build(&main_dirs(Bo(be), false), 0).len();
        let app1_at: Vec<usize> = (0..=levels as usize).map(|d| d * step + 2).collect();
        for &g in &app1_at {
            assert_eq!(
                file[g - 2..g + 2],
                [0xFF, 0xD8, 0xFF, 0xE1],
                "{name}: layout"
            );
        }
        let want_images: Vec<(usize, u32)> =
            (1..=images).map(|d| (app1_at[d] - 2, d as u32)).collect();
        let got_images: Vec<(usize, u32)> = rep
            .images
            .iter()
            .zip(image_depths(&rep))
            .skip(1)
            .map(|(i, d)| (i.offset as usize, d.unwrap_or(u32::MAX)))
            .collect();
        if got_images != want_images || rep.images.iter().any(|i| i.problem.is_some()) {
            fails.push(format!(
                "{name}: expected the complete images (offset, depth) {want_images:?}, found {got_images:?}: {:?}",
                image_keys(&rep)
            ));
            continue;
        }
        let segs = exif_segments(&file, Some(&rep));
        let examined: Vec<usize> = segs.iter().map(|s| s.g).collect();
        let want_examined: Vec<usize> = app1_at.iter().copied().take(images.min(2) + 1).collect();
        assert_eq!(examined, want_examined, "{name}: model self-check");
        fails.extend(check_input(&name, &file, &key32(), &base_options(63)));
        // The APP1 segments of the deeper images: their values unchanged,
        // not listed.
        for &g in &app1_at[want_examined.len()..] {
            let s = read_exif(&file, g).unwrap();
            assert!(!s.fields.is_empty() && s.fields.iter().all(|x| x.usable));
            for (sname, sel) in SELECTIONS {
                let opts = Options {
                    metadata: sel,
                    ..base_options(63)
                };
                let (out, rep) = crypt(&key32(), 0, &opts, Direction::Encrypt, &file).unwrap();
                for x in &s.fields {
                    let v = s.t0 + x.off as usize..s.t0 + (x.off + x.len) as usize;
                    if out[v.clone()] != file[v.clone()] {
                        fails.push(format!(
                            "{name} [{sname}]: tag {:#06x} of the APP1 at {g} (an image deeper than 2) changed at {v:?}",
                            x.tag
                        ));
                    }
                }
                if let Some(m) = rep.metadata.iter().find(|m| m.segment == g as u64) {
                    fails.push(format!(
                        "{name} [{sname}]: Report.metadata lists tag {:#06x} of the APP1 at {g} (an image deeper than 2)",
                        m.tag
                    ));
                }
            }
        }
    }
    assert_no_failures(&fails);
}

/// Thumbnails two levels deep, each with EXIF: every APP1 examined (the
/// images are at depths 0, 1 and 2).
#[test]
fn nested_thumbnails_two_levels() {
    check_nested(2, 2);
}

/// Four nested thumbnails: section 7 finds the images at depths 1, 2 and 3
/// and searches the segments of depths 0, 1 and 2 only; 12.2 examines
/// exactly those, so the EXIF of the depth-3 image (and of the depth-4 one
/// inside it, which is not found) keeps its values and is not reported.
#[test]
fn nested_thumbnails_three_levels() {
    check_nested(4, 3);
}

/// 12.2 "The report": the fields are listed "in file order of the segments
/// and reading order within each". The APP1 of an IFD1 thumbnail lies
/// inside its parent's APP1 payload, after the parent's marker, so the
/// parent's fields come first (the other checks accept any order of nested
/// segments and check everything else of the report).
#[test]
fn report_lists_nested_segments_in_file_order() {
    let mut fails = Vec::new();
    let key = key32();
    for be in [true, false] {
        for (name, file) in [
            ("synthetic-full", synthetic(be, true)),
            ("nested-2", nested(Bo(be), 2)),
            ("nested-4", nested(Bo(be), 4)),
        ] {
            let name = format!("{name} be={be}");
            let opts = Options {
                metadata: ALL,
                ..base_options(72)
            };
            let (out, rep) = crypt(&key, 0, &opts, Direction::Encrypt, &file).unwrap();
            let segs = exif_segments(&file, Some(&rep));
            assert!(has_nested(&segs), "{name}: nested segments expected");
            check_report_order(&format!("{name} encrypt"), &rep.metadata, &segs, &mut fails);
            let (_, drep) = crypt(&key, 0, &opts, Direction::Decrypt, &out).unwrap();
            check_report_order(
                &format!("{name} decrypt"),
                &drep.metadata,
                &segs,
                &mut fails,
            );
            let irep = jsec::fspe::inspect(&file).unwrap();
            check_report_order(
                &format!("{name} inspect"),
                &irep.metadata,
                &segs,
                &mut fails,
            );
        }
    }
    assert_no_failures(&fails);
}

/// Embedded images that cannot be parsed completely are processed up to
/// their stop point (section 7); 12.2 examines their segments before that
/// point (here an after-EOI image, at depth 0).
#[test]
fn embedded_images_with_problems_keep_their_exif_rules() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let bo = Bo(be);
        let main = generate(48, 32, Layout::S420, 85, 0, 64);
        let with_exif = |seed: u64| {
            let j = generate(40, 40, Layout::S420, 85, 0, seed);
            insert_after_soi(&j, &[app1(&exif_payload(&identity_dates_tiff(bo)))])
        };
        // Truncated in its entropy-coded data.
        let mut truncated = with_exif(65);
        truncated.truncate(truncated.len() * 3 / 4);
        // Progressive (SOF2): refused at its frame header.
        let mut progressive = with_exif(66);
        let sof = walk(&progressive, 0, progressive.len())
            .iter()
            .find(|s| s.marker == 0xC0)
            .unwrap()
            .at;
        progressive[sof + 1] = 0xC2;
        for (what, after) in [("truncated", truncated), ("sof2", progressive)] {
            let (file, _, at) =
                common::embed(&main, &exif_payload(&bo.header(0)), b"", b"", &after);
            let name = format!("problem-{what} be={be}");
            let (_, rep) =
                crypt(&key32(), 0, &base_options(67), Direction::Encrypt, &file).unwrap();
            let im = rep.images.iter().find(|i| i.offset as usize == at);
            match im {
                Some(i) if i.problem.is_some() => {
                    let segs = exif_segments(&file, Some(&rep));
                    if !segs.iter().any(|s| s.g > at) {
                        fails.push(format!(
                            "{name}: the EXIF before the stop point {} was not considered",
                            i.end
                        ));
                    }
                }
                _ => fails.push(format!(
                    "{name}: expected an image with a problem at {at}: {:?}",
                    image_keys(&rep)
                )),
            }
            fails.extend(check_input(&name, &file, &key32(), &base_options(67)));
        }
    }
    assert_no_failures(&fails);
}

/// 12.5: a JPEG inside a transformed value is no embedded image (the search
/// runs only in gaps): with location selected the value is enciphered as
/// metadata; with it unselected the JPEG lies in a gap and is an image.
#[test]
fn jpeg_inside_a_transformed_value() {
    let mut fails = Vec::new();
    for be in [true, false] {
        let bo = Bo(be);
        let tiny = generate(16, 8, Layout::Gray, 90, 0, 68);
        let mut dirs = main_dirs(bo, false);
        dirs[2].ents.push(bo.bytes(0x001B, 7, &tiny));
        let tiff = bo.build(&dirs, 0);
        let main = generate(48, 32, Layout::S420, 85, 0, 69);
        let file = insert_after_soi(&main, &[app1(&exif_payload(&tiff))]);
        let segs = own_segments(&file);
        let f = segs[0].fields.iter().find(|f| f.tag == 0x001B).unwrap();
        assert!(f.usable);
        let at = segs[0].t0 + f.off as usize;
        assert_eq!(&file[at..at + tiny.len()], tiny.as_slice());
        let key = key32();
        let none = base_options(71);
        let (out_none, rep_none) = crypt(&key, 0, &none, Direction::Encrypt, &file).unwrap();
        let found = |r: &Report| r.images.iter().any(|i| i.offset as usize == at);
        if !found(&rep_none) {
            fails.push(format!("be={be}: without the option the JPEG in GPSProcessingMethod is not found (section 7)"));
        }
        for (sname, sel) in SELECTIONS {
            let tag = format!("jpeg-in-value be={be} [{sname}]");
            let opts = Options {
                metadata: sel,
                ..none.clone()
            };
            let (out, rep) = crypt(&key, 0, &opts, Direction::Encrypt, &file).unwrap();
            if found(&rep) == sel.location {
                fails.push(format!(
                    "{tag}: the JPEG inside the value is {}found: {:?}",
                    if sel.location { "" } else { "not " },
                    image_keys(&rep)
                ));
                continue;
            }
            let pred = predict_all(&file, &segs, &key, &opts);
            let image = at..at + tiny.len();
            for (i, ((&o, &n), &inp)) in out.iter().zip(&out_none).zip(&file).enumerate() {
                let want = match pred.get(&i) {
                    Some(&v) => v,
                    None if sel.location && image.contains(&i) => inp,
                    None => n,
                };
                if o != want {
                    fails.push(format!("{tag}: byte {i}: {o:02x}, expected {want:02x}"));
                    break;
                }
            }
            let (back, _) = crypt(&key, 0, &opts, Direction::Decrypt, &out).unwrap();
            if back != file {
                fails.push(format!("{tag}: decryption does not restore the input"));
            }
        }
    }
    assert_no_failures(&fails);
}

// =====================================================================
// Tests: the shared corpus
// =====================================================================

#[test]
fn corpus_baseline_files() {
    let files = common::corpus_baseline();
    if files.is_empty() {
        eprintln!("note: no corpus; corpus part skipped");
        return;
    }
    let key = key32();
    let results: Vec<(String, usize, Vec<String>)> = std::thread::scope(|sc| {
        let chunks: Vec<_> = files.chunks(files.len().div_ceil(8)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|ch| {
                let key = &key;
                sc.spawn(move || {
                    ch.iter()
                        .map(|s| {
                            let n = exif_segments(&s.data, None)
                                .iter()
                                .map(|x| x.fields.len())
                                .sum::<usize>();
                            (
                                s.name.clone(),
                                n,
                                check_input(&s.name, &s.data, key, &base_options(51)),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let with_fields = results.iter().filter(|r| r.1 > 0).count();
    eprintln!(
        "corpus: {} baseline files, {} with sensitive EXIF fields ({} fields)",
        results.len(),
        with_fields,
        results.iter().map(|r| r.1).sum::<usize>()
    );
    let fails: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
    assert_no_failures(&fails);
}
