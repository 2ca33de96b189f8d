//! Metadata privacy: the values of sensitive EXIF fields (GPS, owner and
//! serial numbers, optionally dates) enciphered in place, type by type, so
//! sizes, offsets and the TIFF structure stay exactly as they were and any
//! EXIF reader still reads the file. Specified in `docs/fspe.md`, section 12.

use super::Direction;
use crate::crypto::{sha256, Keystream};
use crate::jpeg::exif::{self, Ifd, Sensitivity, ValueKind};

/// Which classes of sensitive EXIF values to encipher. The default is none:
/// metadata is left exactly as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Every GPS IFD value but GPSVersionID.
    pub location: bool,
    /// Artist, HostComputer, XPAuthor, CameraOwnerName, BodySerialNumber,
    /// LensSerialNumber, ImageUniqueID.
    pub identity: bool,
    /// DateTime, DateTimeOriginal, DateTimeDigitized, SubSecTime*,
    /// OffsetTime* (left readable unless asked: photo services sort by them).
    pub dates: bool,
}

impl Metadata {
    /// GPS and identity, dates left readable: what a privacy proxy wants.
    pub const PRIVATE: Metadata = Metadata {
        location: true,
        identity: true,
        dates: false,
    };

    /// Is any class selected?
    pub fn any(&self) -> bool {
        self.location || self.identity || self.dates
    }

    /// Does the selection include `s`?
    pub fn selects(&self, s: Sensitivity) -> bool {
        match s {
            Sensitivity::Location => self.location,
            Sensitivity::Identity => self.identity,
            Sensitivity::Time => self.dates,
        }
    }

    /// The selection byte bound into the metadata IV: bit 0 location, bit 1
    /// identity, bit 2 dates.
    pub fn code(&self) -> u8 {
        self.location as u8 | (self.identity as u8) << 1 | (self.dates as u8) << 2
    }
}

/// One sensitive EXIF field found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataField {
    /// Absolute offset of the APP1 segment's marker.
    pub segment: u64,
    /// Absolute offset of the value's first byte, as the entry gives it:
    /// when `problem` says the value is outside the EXIF data, this may lie
    /// outside the segment or the file.
    pub offset: u64,
    /// Length of the value in bytes (2^32 − 1 when longer).
    pub len: u32,
    /// The IFD it sits in.
    pub ifd: Ifd,
    /// TIFF tag number.
    pub tag: u16,
    /// Tag name (`GPSLatitude`, `BodySerialNumber`, …).
    pub name: &'static str,
    /// What it reveals.
    pub sensitivity: Sensitivity,
    /// True when this operation enciphered (or deciphered) it. False for
    /// unselected classes, unusable values, empty values, keys other than
    /// the master key, and in the report of a digest stream (which changes
    /// nothing).
    pub transformed: bool,
    /// Why it could not be transformed, if it was selected but not.
    pub problem: Option<String>,
}

/// A value range to transform: its segment, absolute offset, length, kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MetaRange {
    pub segment: u64,
    pub offset: u64,
    pub len: u64,
    pub kind: ValueKind,
}

/// What to do with one APP1 payload.
pub(crate) struct Plan {
    /// Value ranges to transform (absolute offsets), ascending.
    pub ranges: Vec<MetaRange>,
    /// Payload ranges (start, end) where embedded JPEGs may be searched: the
    /// payload minus the transformed values and the TIFF structure. `None`:
    /// the whole payload (nothing transformed here).
    pub gaps: Option<Vec<(usize, usize)>>,
    /// Every sensitive field found, for the report.
    pub fields: Vec<MetadataField>,
    /// Structural problems worth a warning (only when something is selected).
    pub problems: Vec<String>,
}

/// The plan for the APP1 segment whose marker is at `segment` with payload
/// `payload` (the bytes after the two length bytes); `None` when the payload
/// is not EXIF.
pub(crate) fn plan(selection: &Metadata, segment: u64, payload: &[u8]) -> Option<Plan> {
    let x = exif::read(payload)?;
    let base = segment + 4;
    let mut ranges = Vec::new();
    let mut fields = Vec::with_capacity(x.fields.len());
    for f in &x.fields {
        let selected = selection.selects(f.sensitivity);
        let transformed = selected && f.problem.is_none() && f.len > 0;
        if transformed {
            ranges.push(MetaRange {
                segment,
                offset: base + f.offset as u64,
                len: f.len as u64,
                kind: f.kind,
            });
        }
        fields.push(MetadataField {
            segment,
            offset: base + f.offset as u64,
            len: f.len.min(u32::MAX as usize) as u32,
            ifd: f.ifd,
            tag: f.tag,
            name: exif::tag_name(f.ifd, f.tag),
            sensitivity: f.sensitivity,
            transformed,
            problem: if selected { f.problem.clone() } else { None },
        });
    }
    ranges.sort_by_key(|r| r.offset);
    let gaps = selection.any().then(|| {
        let mut taken: Vec<(usize, usize)> = x.structure.clone();
        taken.extend(ranges.iter().map(|r| {
            (
                (r.offset - base) as usize,
                (r.offset - base + r.len) as usize,
            )
        }));
        // The complement of the merged (sorted, disjoint) ranges.
        let mut gaps = Vec::new();
        let mut at = 0usize;
        for (a, b) in exif::merge(taken) {
            if a > at {
                gaps.push((at, a));
            }
            at = b;
        }
        if at < payload.len() {
            gaps.push((at, payload.len()));
        }
        gaps
    });
    let problems = if selection.any() {
        x.problems
    } else {
        Vec::new()
    };
    Some(Plan {
        ranges,
        gaps,
        fields,
        problems,
    })
}

const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Is `payload` an XMP packet that mentions a GPS position?
pub(crate) fn xmp_mentions_gps(payload: &[u8]) -> bool {
    payload.starts_with(XMP_ID)
        && [&b"GPSLatitude"[..], b"GPSLongitude"]
            .iter()
            .any(|n| payload.windows(n.len()).any(|w| w == *n))
}

const IV_LABEL: &[u8] = b"jsec/fspe/v1/exif-iv";

/// The IV of the metadata keystream of the APP1 segment at `segment`.
pub(crate) fn metadata_iv(seed: &[u8; 32], params: &[u8], code: u8, segment: u64) -> [u8; 16] {
    let d = sha256(&[IV_LABEL, seed, params, &[code], &segment.to_be_bytes()]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&d[..16]);
    iv
}

/// The metadata cipher of one APP1 segment.
pub(crate) struct MetaCipher {
    ks: Keystream,
    segment: u64,
    dir: Direction,
}

impl MetaCipher {
    /// A cipher for the segment at `segment` with keystream `ks`.
    pub(crate) fn new(ks: Keystream, segment: u64, dir: Direction) -> MetaCipher {
        MetaCipher { ks, segment, dir }
    }

    /// Transform the value `r` whose bytes are `value` (`value.len() == r.len`).
    pub(crate) fn apply(&mut self, r: &MetaRange, value: &mut [u8]) {
        let mut ks = vec![0u8; 2 * value.len()];
        self.ks.fill(2 * (r.offset - self.segment), &mut ks);
        for (i, (b, k)) in value.iter_mut().zip(ks.chunks_exact(2)).enumerate() {
            *b = transform_byte(*b, r.kind, i, k[0], k[1], self.dir);
        }
    }
}

/// The transform of byte `i` of a value of kind `kind` with keystream bytes
/// `k0`, `k1`.
fn transform_byte(b: u8, kind: ValueKind, i: usize, k0: u8, k1: u8, dir: Direction) -> u8 {
    match kind {
        ValueKind::Binary => b ^ k0,
        ValueKind::Rational if i % 8 < 4 => b ^ k0,
        ValueKind::Rational => b,
        ValueKind::Ascii if (0x20..=0x7E).contains(&b) => {
            let k = (((k0 as u32) << 8) | k1 as u32) % 95;
            let v = (b - 0x20) as u32;
            let v = match dir {
                Direction::Encrypt => (v + k) % 95,
                Direction::Decrypt => (v + 95 - k) % 95,
            };
            0x20 + v as u8
        }
        ValueKind::Ascii => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_stays_printable_and_inverts() {
        for b in 0..=255u8 {
            for (k0, k1) in [(0, 0), (1, 2), (255, 255), (0x12, 0x34), (0x80, 0x5F)] {
                let e = transform_byte(b, ValueKind::Ascii, 0, k0, k1, Direction::Encrypt);
                assert_eq!((0x20..=0x7E).contains(&e), (0x20..=0x7E).contains(&b));
                let d = transform_byte(e, ValueKind::Ascii, 0, k0, k1, Direction::Decrypt);
                assert_eq!(d, b);
            }
        }
    }

    #[test]
    fn rational_keeps_denominators() {
        for i in 0..16 {
            let e = transform_byte(7, ValueKind::Rational, i, 0xFF, 0, Direction::Encrypt);
            assert_eq!(e == 7, i % 8 >= 4, "byte {i}");
        }
    }

    #[test]
    fn selection_code() {
        assert_eq!(Metadata::default().code(), 0);
        assert_eq!(Metadata::PRIVATE.code(), 3);
        assert!(!Metadata::default().any());
    }
}
