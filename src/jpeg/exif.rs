//! The EXIF (TIFF) structure of an APP1 payload, read far enough to find the
//! values of privacy-sensitive fields: where each value's bytes are, what
//! type they have, and which bytes hold the structure (header, IFD entries,
//! offsets) that must never change.
//!
//! Only IFD0, IFD1, the Exif IFD and the GPS IFD are followed (the
//! interoperability IFD and maker notes hold nothing this reader classifies).
//! The reader never panics and never reads outside the payload; whatever it
//! cannot use is reported as a problem and left alone. The format is
//! specified in `docs/fspe.md`, section 12.

/// The payload identifier of an EXIF APP1 segment (the sixth byte varies in
/// the wild: `Exif\0\0` is standard, `Exif\0\xFF` occurs).
const EXIF_ID: &[u8; 5] = b"Exif\0";

/// The TIFF header starts this many bytes into the payload.
pub const TIFF_START: usize = 6;

/// At most this many IFDs are read (IFD0, IFD1, Exif, GPS; anything beyond is
/// a loop or garbage).
const MAX_IFDS: usize = 8;

/// At most this many entries per IFD.
const MAX_ENTRIES: usize = 1024;

/// Which image file directory a field sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ifd {
    /// IFD0 (the primary image's TIFF tags).
    Ifd0,
    /// IFD1 (the thumbnail's tags).
    Ifd1,
    /// The Exif IFD (pointer tag 0x8769).
    Exif,
    /// The GPS IFD (pointer tag 0x8825).
    Gps,
}

impl Ifd {
    /// Lower-case name (`ifd0`, `ifd1`, `exif`, `gps`).
    pub fn name(self) -> &'static str {
        match self {
            Ifd::Ifd0 => "ifd0",
            Ifd::Ifd1 => "ifd1",
            Ifd::Exif => "exif",
            Ifd::Gps => "gps",
        }
    }
}

/// What a sensitive field reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sensitivity {
    /// Where the picture was taken: every GPS IFD value but GPSVersionID.
    Location,
    /// Who took it or with which unit: owner, artist, serial numbers, the
    /// unique image id, the host computer.
    Identity,
    /// When: the date/time tags, sub-seconds and time-zone offsets.
    Time,
}

impl Sensitivity {
    /// Lower-case name (`gps`, `identity`, `dates`), as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Sensitivity::Location => "gps",
            Sensitivity::Identity => "identity",
            Sensitivity::Time => "dates",
        }
    }
}

/// How a value's bytes may be changed without breaking its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// TIFF type 2: printable bytes 0x20..=0x7E stay printable, every other
    /// byte (the NUL terminator) stays as it is.
    Ascii,
    /// TIFF types 5 and 10: the numerator (first 4 bytes) of every 8-byte
    /// element changes, the denominator stays (so no reader divides by a
    /// zero it did not see before).
    Rational,
    /// Every other type: every byte may change.
    Binary,
}

/// One sensitive field found in the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The IFD it sits in.
    pub ifd: Ifd,
    /// TIFF tag number.
    pub tag: u16,
    /// TIFF field type (1..=13).
    pub field_type: u16,
    /// Number of values.
    pub count: u32,
    /// What it reveals.
    pub sensitivity: Sensitivity,
    /// How its bytes may change.
    pub kind: ValueKind,
    /// Offset of the value's first byte from the start of the APP1 payload
    /// (the byte after the two length bytes).
    pub offset: usize,
    /// Length of the value in bytes (`count` times the type's size).
    pub len: usize,
    /// `None` when the value can be changed in place; otherwise why it must
    /// not be (it lies outside the payload, overlaps the TIFF structure or an
    /// earlier field).
    pub problem: Option<String>,
}

/// What [`read`] found in an EXIF payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exif {
    /// Big-endian (`MM`) TIFF.
    pub big_endian: bool,
    /// Sensitive fields in the order they were read (IFD0, its sub-IFDs,
    /// IFD1).
    pub fields: Vec<Field>,
    /// Byte ranges of the payload (start, end) that hold TIFF structure: the
    /// header, every IFD's entry count, entries (tag, type, count and every
    /// value/offset field that is not a sensitive field's own inline value)
    /// and next-IFD offsets. Sorted and disjoint (touching ranges merged).
    pub structure: Vec<(usize, usize)>,
    /// Structural problems (truncated IFD, IFD loop, bad pointer); the parts
    /// that could be read are still reported.
    pub problems: Vec<String>,
}

/// Name of a tag this reader classifies (or `"unknown"`).
pub fn tag_name(ifd: Ifd, tag: u16) -> &'static str {
    if ifd == Ifd::Gps {
        return match tag {
            0x0000 => "GPSVersionID",
            0x0001 => "GPSLatitudeRef",
            0x0002 => "GPSLatitude",
            0x0003 => "GPSLongitudeRef",
            0x0004 => "GPSLongitude",
            0x0005 => "GPSAltitudeRef",
            0x0006 => "GPSAltitude",
            0x0007 => "GPSTimeStamp",
            0x0008 => "GPSSatellites",
            0x0009 => "GPSStatus",
            0x000A => "GPSMeasureMode",
            0x000B => "GPSDOP",
            0x000C => "GPSSpeedRef",
            0x000D => "GPSSpeed",
            0x000E => "GPSTrackRef",
            0x000F => "GPSTrack",
            0x0010 => "GPSImgDirectionRef",
            0x0011 => "GPSImgDirection",
            0x0012 => "GPSMapDatum",
            0x0013 => "GPSDestLatitudeRef",
            0x0014 => "GPSDestLatitude",
            0x0015 => "GPSDestLongitudeRef",
            0x0016 => "GPSDestLongitude",
            0x0017 => "GPSDestBearingRef",
            0x0018 => "GPSDestBearing",
            0x0019 => "GPSDestDistanceRef",
            0x001A => "GPSDestDistance",
            0x001B => "GPSProcessingMethod",
            0x001C => "GPSAreaInformation",
            0x001D => "GPSDateStamp",
            0x001E => "GPSDifferential",
            0x001F => "GPSHPositioningError",
            _ => "GPSUnknown",
        };
    }
    match tag {
        0x0132 => "DateTime",
        0x013B => "Artist",
        0x013C => "HostComputer",
        0x9C9D => "XPAuthor",
        0x9003 => "DateTimeOriginal",
        0x9004 => "DateTimeDigitized",
        0x9010 => "OffsetTime",
        0x9011 => "OffsetTimeOriginal",
        0x9012 => "OffsetTimeDigitized",
        0x9290 => "SubSecTime",
        0x9291 => "SubSecTimeOriginal",
        0x9292 => "SubSecTimeDigitized",
        0xA420 => "ImageUniqueID",
        0xA430 => "CameraOwnerName",
        0xA431 => "BodySerialNumber",
        0xA435 => "LensSerialNumber",
        _ => "unknown",
    }
}

/// The sensitivity of `tag` in `ifd`, if it has one.
pub fn classify(ifd: Ifd, tag: u16) -> Option<Sensitivity> {
    match ifd {
        Ifd::Gps => (tag != 0x0000).then_some(Sensitivity::Location),
        Ifd::Ifd0 | Ifd::Ifd1 => match tag {
            0x013B | 0x013C | 0x9C9D => Some(Sensitivity::Identity),
            0x0132 => Some(Sensitivity::Time),
            _ => None,
        },
        Ifd::Exif => match tag {
            0xA420 | 0xA430 | 0xA431 | 0xA435 => Some(Sensitivity::Identity),
            0x9003 | 0x9004 | 0x9010..=0x9012 | 0x9290..=0x9292 => Some(Sensitivity::Time),
            _ => None,
        },
    }
}

/// Size in bytes of one value of TIFF type `t` (0 for an unknown type).
pub fn type_size(t: u16) -> usize {
    match t {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 0,
    }
}

fn kind_of(t: u16) -> ValueKind {
    match t {
        2 => ValueKind::Ascii,
        5 | 10 => ValueKind::Rational,
        _ => ValueKind::Binary,
    }
}

/// Is `payload` (an APP1 payload, after the length bytes) EXIF?
pub fn is_exif(payload: &[u8]) -> bool {
    payload.len() >= TIFF_START && payload[..5] == *EXIF_ID
}

struct Reader<'a> {
    tiff: &'a [u8],
    be: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.tiff.get(at..at.checked_add(2)?)?;
        let b = [b[0], b[1]];
        Some(if self.be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.tiff.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

/// Does `[a, b)` meet one of `ranges` (sorted by start, disjoint)?
/// Logarithmic: a segment can hold thousands of entries.
fn overlaps(ranges: &[(usize, usize)], a: usize, b: usize) -> bool {
    // The last range starting before `b` is the only candidate.
    let i = ranges.partition_point(|&(s, _)| s < b);
    i > 0 && ranges[i - 1].1 > a
}

/// Sort and merge ranges into disjoint ones (touching ones joined).
pub(crate) fn merge(mut ranges: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Read the EXIF structure of an APP1 payload (the bytes after the segment's
/// two length bytes). `None` when the payload is not EXIF or its TIFF header
/// is unusable.
pub fn read(payload: &[u8]) -> Option<Exif> {
    if !is_exif(payload) {
        return None;
    }
    let tiff = &payload[TIFF_START..];
    let be = match tiff.get(..4)? {
        [b'M', b'M', 0, 42] => true,
        [b'I', b'I', 42, 0] => false,
        _ => return None,
    };
    let r = Reader { tiff, be };
    let ifd0 = r.u32(4)? as usize;
    let mut out = Exif {
        big_endian: be,
        ..Exif::default()
    };
    let mut structure = vec![(0usize, 8usize)];
    // Candidate fields in TIFF coordinates; checked once all structure is known.
    let mut candidates: Vec<Field> = Vec::new();
    // First in, first out: IFD0, then its sub-IFDs and IFD1 in entry order.
    let mut queue = std::collections::VecDeque::from([(Ifd::Ifd0, ifd0)]);
    let mut seen: Vec<usize> = Vec::new();
    // The header and every IFD read (count, entries, next offset).
    let mut ifd_spans: Vec<(usize, usize)> = vec![(0, 8)];
    while let Some((ifd, at)) = queue.pop_front() {
        if seen.contains(&at) {
            out.problems.push(format!(
                "{} IFD at TIFF offset {at} is read twice (a loop)",
                ifd.name()
            ));
            continue;
        }
        if seen.len() == MAX_IFDS {
            out.problems.push(format!(
                "more than {MAX_IFDS} IFDs; {} IFD not read",
                ifd.name()
            ));
            continue;
        }
        seen.push(at);
        let Some(n) = r.u16(at) else {
            out.problems.push(format!(
                "{} IFD offset {at} is past the end of the EXIF data ({} bytes)",
                ifd.name(),
                tiff.len()
            ));
            continue;
        };
        structure.push((at, at + 2));
        let n = n as usize;
        if n > MAX_ENTRIES {
            out.problems
                .push(format!("{} IFD claims {n} entries; not read", ifd.name()));
            continue;
        }
        // IFDs never share bytes in a real file; ones that do would let a
        // few bytes of entries be read again and again.
        let span = (at, (at + 2 + 12 * n + 4).min(tiff.len()));
        if ifd_spans.iter().any(|&(s, e)| s < span.1 && span.0 < e) {
            out.problems.push(format!(
                "{} IFD at TIFF offset {at} overlaps the TIFF header or an IFD read before; \
                 not read",
                ifd.name()
            ));
            continue;
        }
        ifd_spans.push(span);
        let mut complete = true;
        for i in 0..n {
            let e = at + 2 + 12 * i;
            if e + 12 > tiff.len() {
                out.problems.push(format!(
                    "{} IFD truncated: entry {i} of {n} ends past the EXIF data",
                    ifd.name()
                ));
                complete = false;
                break;
            }
            structure.push((e, e + 8));
            let (tag, t, count) = (r.u16(e)?, r.u16(e + 2)?, r.u32(e + 4)?);
            let size = type_size(t);
            let pointer = matches!(t, 4 | 13) && count == 1;
            let sub = match (ifd, tag) {
                (Ifd::Ifd0, 0x8769) if pointer => Some(Ifd::Exif),
                (Ifd::Ifd0, 0x8825) if pointer => Some(Ifd::Gps),
                _ => None,
            };
            if let Some(sub) = sub {
                structure.push((e + 8, e + 12));
                queue.push_back((sub, r.u32(e + 8)? as usize));
                continue;
            }
            let sensitivity = classify(ifd, tag).filter(|_| size > 0);
            let len = (count as u64) * (size as u64);
            let inline = len <= 4;
            if !(inline && sensitivity.is_some()) {
                structure.push((e + 8, e + 12));
            }
            let Some(sensitivity) = sensitivity else {
                continue;
            };
            let start = if inline {
                e + 8
            } else {
                r.u32(e + 8)? as usize
            };
            let mut field = Field {
                ifd,
                tag,
                field_type: t,
                count,
                sensitivity,
                kind: kind_of(t),
                offset: start,
                len: len.min(usize::MAX as u64) as usize,
                problem: None,
            };
            let end = (field.offset as u64).checked_add(len);
            if end.map_or(true, |end| end > tiff.len() as u64) {
                field.problem = Some(format!(
                    "value ({len} bytes at TIFF offset {}) is outside the EXIF data",
                    field.offset
                ));
            }
            candidates.push(field);
        }
        if complete {
            let next = at + 2 + 12 * n;
            match r.u32(next) {
                Some(off) => {
                    structure.push((next, next + 4));
                    if ifd == Ifd::Ifd0 && off != 0 {
                        queue.push_back((Ifd::Ifd1, off as usize));
                    }
                }
                None => out
                    .problems
                    .push(format!("{} IFD truncated: no next-IFD offset", ifd.name())),
            }
        }
    }
    let structure = merge(structure);
    // Check every field against the structure and the fields accepted
    // before it (start -> end, disjoint).
    let mut taken: std::collections::BTreeMap<usize, usize> = Default::default();
    for mut f in candidates {
        // A value of length 0 has nothing to check (nor to hide).
        if f.problem.is_none() && f.len > 0 {
            let (a, b) = (f.offset, f.offset + f.len);
            let earlier = taken.range(..b).next_back().is_some_and(|(_, &e)| e > a);
            if overlaps(&structure, a, b) {
                f.problem = Some("value overlaps the TIFF structure".to_string());
            } else if earlier {
                f.problem = Some("value overlaps another sensitive value".to_string());
            } else {
                taken.insert(a, b);
            }
        }
        // (Saturating: an offset from the file may be near `u32::MAX`, and
        // `usize` may have 32 bits; such a value is outside the payload.)
        f.offset = f.offset.saturating_add(TIFF_START);
        out.fields.push(f);
    }
    out.structure = structure
        .into_iter()
        .map(|(a, b)| (a + TIFF_START, b + TIFF_START))
        .collect();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little TIFF builder for tests: big- or little-endian, IFD0 with the
    /// given entries (tag, type, count, value bytes), a GPS IFD, an Exif IFD.
    pub(crate) fn build(
        be: bool,
        ifd0: &[(u16, u16, u32, Vec<u8>)],
        gps: &[(u16, u16, u32, Vec<u8>)],
    ) -> Vec<u8> {
        fn put16(v: &mut Vec<u8>, be: bool, x: u16) {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
        }
        fn put32(v: &mut Vec<u8>, be: bool, x: u32) {
            v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
        }
        // Layout: header(8) | IFD0 | GPS IFD | data area.
        let n0 = ifd0.len() + usize::from(!gps.is_empty());
        let ifd0_at = 8usize;
        let gps_at = ifd0_at + 2 + 12 * n0 + 4;
        let data_at = gps_at
            + if gps.is_empty() {
                0
            } else {
                2 + 12 * gps.len() + 4
            };
        let mut data: Vec<u8> = Vec::new();
        let mut t = Vec::new();
        t.extend_from_slice(if be { b"MM\0\x2a" } else { b"II\x2a\0" });
        put32(&mut t, be, ifd0_at as u32);
        let entries = |t: &mut Vec<u8>, list: &[(u16, u16, u32, Vec<u8>)], data: &mut Vec<u8>| {
            for (tag, ty, count, val) in list {
                put16(t, be, *tag);
                put16(t, be, *ty);
                put32(t, be, *count);
                if val.len() <= 4 {
                    let mut v = val.clone();
                    v.resize(4, 0);
                    t.extend_from_slice(&v);
                } else {
                    put32(t, be, (data_at + data.len()) as u32);
                    data.extend_from_slice(val);
                }
            }
        };
        put16(&mut t, be, n0 as u16);
        entries(&mut t, ifd0, &mut data);
        if !gps.is_empty() {
            put16(&mut t, be, 0x8825);
            put16(&mut t, be, 4);
            put32(&mut t, be, 1);
            put32(&mut t, be, gps_at as u32);
        }
        put32(&mut t, be, 0);
        if !gps.is_empty() {
            put16(&mut t, be, gps.len() as u16);
            entries(&mut t, gps, &mut data);
            put32(&mut t, be, 0);
        }
        assert_eq!(t.len(), data_at);
        t.extend_from_slice(&data);
        let mut p = b"Exif\0\0".to_vec();
        p.extend_from_slice(&t);
        p
    }

    fn gps_sample() -> Vec<(u16, u16, u32, Vec<u8>)> {
        let lat: Vec<u8> = [48u32, 1, 51, 1, 2400, 100]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        vec![
            (0x0000, 1, 4, vec![2, 3, 0, 0]),
            (0x0001, 2, 2, b"N\0".to_vec()),
            (0x0002, 5, 3, lat),
        ]
    }

    #[test]
    fn finds_gps_and_identity_fields() {
        let p = build(
            true,
            &[
                (0x013B, 2, 12, b"Jane Doe\0\0\0\0".to_vec()),
                (0x0132, 2, 20, b"2024:01:01 00:00:00\0".to_vec()),
            ],
            &gps_sample(),
        );
        let x = read(&p).unwrap();
        assert!(x.big_endian);
        assert!(x.problems.is_empty(), "{:?}", x.problems);
        let names: Vec<_> = x.fields.iter().map(|f| tag_name(f.ifd, f.tag)).collect();
        assert_eq!(
            names,
            ["Artist", "DateTime", "GPSLatitudeRef", "GPSLatitude"]
        );
        let artist = &x.fields[0];
        assert_eq!(
            &p[artist.offset..artist.offset + artist.len],
            b"Jane Doe\0\0\0\0"
        );
        assert_eq!(artist.sensitivity, Sensitivity::Identity);
        let lat_ref = &x.fields[2];
        assert_eq!(&p[lat_ref.offset..lat_ref.offset + 2], b"N\0");
        assert_eq!(lat_ref.kind, ValueKind::Ascii);
        assert_eq!(x.fields[3].kind, ValueKind::Rational);
        assert_eq!(x.fields[3].len, 24);
        for f in &x.fields {
            assert!(f.problem.is_none());
            assert!(!overlaps(&x.structure, f.offset, f.offset + f.len));
        }
    }

    #[test]
    fn little_endian_too() {
        let p = build(false, &[(0x013B, 2, 3, b"Al\0".to_vec())], &gps_sample());
        let x = read(&p).unwrap();
        assert!(!x.big_endian);
        assert_eq!(x.fields.len(), 3);
        assert_eq!(&p[x.fields[0].offset..x.fields[0].offset + 3], b"Al\0");
    }

    #[test]
    fn not_exif_or_bad_header() {
        assert!(read(b"http://ns.adobe.com/xap/1.0/\0").is_none());
        assert!(read(b"Exif\0\0XX\0\x2a").is_none());
        assert!(read(b"Exif\0").is_none());
    }

    #[test]
    fn value_overlapping_structure_is_refused() {
        let mut p = build(true, &[(0x013B, 2, 12, b"Jane Doe\0\0\0\0".to_vec())], &[]);
        // Point Artist's value at the IFD itself.
        let x = read(&p).unwrap();
        let e = TIFF_START + 8 + 2; // first entry
        p[e + 8..e + 12].copy_from_slice(&8u32.to_be_bytes());
        let y = read(&p).unwrap();
        assert!(x.fields[0].problem.is_none());
        assert!(y.fields[0]
            .problem
            .as_deref()
            .unwrap()
            .contains("structure"));
    }

    #[test]
    fn overlapping_ifds_are_read_once() {
        // IFD0 with 1000 GPS pointers, each to an offset 10 bytes further
        // into IFD0's own entries: without the overlap rule the same entries
        // would be read as up to 8 GPS IFDs of up to 1024 entries each.
        let be = true;
        let n = 1000u16;
        let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
        t.extend_from_slice(&n.to_be_bytes());
        for i in 0..n as u32 {
            t.extend_from_slice(&0x8825u16.to_be_bytes());
            t.extend_from_slice(&4u16.to_be_bytes());
            t.extend_from_slice(&1u32.to_be_bytes());
            t.extend_from_slice(&(18 + 10 * i).to_be_bytes());
        }
        t.extend_from_slice(&0u32.to_be_bytes());
        let p = [&b"Exif\0\0"[..], &t].concat();
        let x = read(&p).unwrap();
        assert!(x.big_endian == be);
        assert!(x.fields.is_empty(), "{}", x.fields.len());
        assert!(
            x.problems.iter().any(|s| s.contains("overlaps")),
            "{:?}",
            x.problems
        );
        // An IFD inside the header is refused the same way.
        let mut q = build(true, &[(0x013B, 2, 3, b"Al\0".to_vec())], &[]);
        q[TIFF_START + 4..TIFF_START + 8].copy_from_slice(&2u32.to_be_bytes());
        let y = read(&q).unwrap();
        assert!(y.fields.is_empty());
        assert!(y.problems.iter().any(|s| s.contains("header")));
    }

    #[test]
    fn structure_is_merged_and_overlap_search_is_exact() {
        let m = merge(vec![(10, 12), (0, 8), (8, 9), (11, 20), (30, 31)]);
        assert_eq!(m, [(0, 9), (10, 20), (30, 31)]);
        for a in 0..40 {
            for b in a + 1..41 {
                let naive = m.iter().any(|&(s, e)| s < b && a < e);
                assert_eq!(overlaps(&m, a, b), naive, "{a}..{b}");
            }
        }
    }

    #[test]
    fn loops_and_truncation_are_problems_not_panics() {
        let p = build(
            true,
            &[(0x013B, 2, 12, b"Jane Doe\0\0\0\0".to_vec())],
            &gps_sample(),
        );
        // IFD0's next pointer back to IFD0.
        let mut q = p.clone();
        let next = TIFF_START + 8 + 2 + 12 * 2;
        q[next..next + 4].copy_from_slice(&8u32.to_be_bytes());
        let x = read(&q).unwrap();
        assert!(
            x.problems.iter().any(|s| s.contains("loop")),
            "{:?}",
            x.problems
        );
        for cut in 0..p.len() {
            let _ = read(&p[..cut]);
        }
    }
}
