//! A small EXIF (TIFF) writer for tests: an APP1 payload with IFD0, an Exif
//! IFD, a GPS IFD and IFD1 with a JPEG thumbnail, in either byte order.

use super::Layout;

/// One entry: tag, type, count, value bytes (already in the file's byte order).
pub struct Entry(u16, u16, u32, Vec<u8>);

struct Tiff {
    be: bool,
}

impl Tiff {
    fn u16(&self, x: u16) -> Vec<u8> {
        if self.be {
            x.to_be_bytes().to_vec()
        } else {
            x.to_le_bytes().to_vec()
        }
    }
    fn u32(&self, x: u32) -> Vec<u8> {
        if self.be {
            x.to_be_bytes().to_vec()
        } else {
            x.to_le_bytes().to_vec()
        }
    }
    fn rationals(&self, v: &[(u32, u32)]) -> Vec<u8> {
        v.iter()
            .flat_map(|&(n, d)| [self.u32(n), self.u32(d)].concat())
            .collect()
    }
    fn ascii(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }
}

/// An APP1 EXIF payload with IFD0 (Make, Artist, DateTime, pointers), an
/// Exif IFD (DateTimeOriginal, BodySerialNumber, CameraOwnerName,
/// SubSecTime), a GPS IFD (version, latitude, altitude, date) and IFD1 with
/// `thumb` as its JPEG thumbnail.
pub fn exif_payload(be: bool, thumb: &[u8]) -> Vec<u8> {
    let t = Tiff { be };
    // IFD layout: header 8, then IFD0, Exif, GPS, IFD1, then data.
    let ifd0_n = 5u32;
    let exif_n = 4u32;
    let gps_n = 6u32;
    let ifd1_n = 2u32;
    let size = |n: u32| 2 + 12 * n + 4;
    let ifd0_at = 8;
    let exif_at = ifd0_at + size(ifd0_n);
    let gps_at = exif_at + size(exif_n);
    let ifd1_at = gps_at + size(gps_n);
    let data_at = ifd1_at + size(ifd1_n);
    let mut data: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = if be {
        b"MM\0\x2a".to_vec()
    } else {
        b"II\x2a\0".to_vec()
    };
    out.extend(t.u32(ifd0_at));
    let thumb_placeholder = u32::MAX;
    let mut write_ifd = |out: &mut Vec<u8>, entries: Vec<Entry>, next: u32| {
        out.extend(t.u16(entries.len() as u16));
        for Entry(tag, ty, count, val) in entries {
            out.extend(t.u16(tag));
            out.extend(t.u16(ty));
            out.extend(t.u32(count));
            if val.len() <= 4 {
                let mut v = val;
                v.resize(4, 0);
                out.extend(v);
            } else {
                out.extend(t.u32(data_at + data.len() as u32));
                data.extend(val);
                if data.len() % 2 == 1 {
                    data.push(0);
                }
            }
        }
        out.extend(t.u32(next));
    };
    write_ifd(
        &mut out,
        vec![
            Entry(0x010F, 2, 6, Tiff::ascii("Jsecs")),
            Entry(0x0132, 2, 20, Tiff::ascii("2024:05:17 10:42:07")),
            Entry(0x013B, 2, 9, Tiff::ascii("Jane Doe")),
            Entry(0x8769, 4, 1, t.u32(exif_at)),
            Entry(0x8825, 4, 1, t.u32(gps_at)),
        ],
        ifd1_at,
    );
    write_ifd(
        &mut out,
        vec![
            Entry(0x9003, 2, 20, Tiff::ascii("2024:05:17 10:42:07")),
            Entry(0x9290, 2, 3, Tiff::ascii("42")),
            Entry(0xA430, 2, 11, Tiff::ascii("Jane's cam")),
            Entry(0xA431, 2, 13, Tiff::ascii("SN1234567890")),
        ],
        0,
    );
    write_ifd(
        &mut out,
        vec![
            Entry(0x0000, 1, 4, vec![2, 3, 0, 0]),
            Entry(0x0001, 2, 2, Tiff::ascii("N")),
            Entry(0x0002, 5, 3, t.rationals(&[(48, 1), (51, 1), (2400, 100)])),
            Entry(0x0005, 1, 1, vec![0]),
            Entry(0x0006, 5, 1, t.rationals(&[(3512, 10)])),
            Entry(0x001D, 2, 11, Tiff::ascii("2024:05:17")),
        ],
        0,
    );
    write_ifd(
        &mut out,
        vec![
            Entry(0x0201, 4, 1, t.u32(thumb_placeholder)),
            Entry(0x0202, 4, 1, t.u32(thumb.len() as u32)),
        ],
        0,
    );
    assert_eq!(out.len() as u32, data_at);
    let thumb_at = (out.len() + data.len()) as u32;
    // Patch the thumbnail offset (first entry of IFD1, value field).
    let field = (ifd1_at + 2 + 8) as usize;
    out[field..field + 4].copy_from_slice(&t.u32(thumb_at));
    out.extend(data);
    out.extend_from_slice(thumb);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(out);
    payload
}

/// A JPEG with the EXIF payload of [`exif_payload`] in an APP1 right after SOI.
pub fn photo(be: bool, seed: u64) -> Vec<u8> {
    let main = super::generate(64, 48, Layout::S420, 85, 0, seed);
    let thumb = super::generate(16, 16, Layout::S420, 90, 0, seed + 1);
    let p = exif_payload(be, &thumb);
    super::embed(&main, &p, b"", b"", b"").0
}
