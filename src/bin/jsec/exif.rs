//! A minimal EXIF (APP1) builder: a big-endian TIFF structure with IFD0
//! (orientation, resolution, software) and IFD1 describing a JPEG thumbnail
//! (`JPEGInterchangeFormat` / `JPEGInterchangeFormatLength`) stored right
//! after IFD1, as cameras do.

/// A TIFF field value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// SHORT (type 3), one value.
    Short(u16),
    /// LONG (type 4), one value.
    Long(u32),
    /// RATIONAL (type 5), one value.
    Rational(u32, u32),
    /// ASCII (type 2), NUL added.
    Ascii(String),
}

impl Value {
    /// (TIFF type, count, value bytes).
    fn encode(&self) -> (u16, u32, Vec<u8>) {
        match self {
            Value::Short(v) => (3, 1, v.to_be_bytes().to_vec()),
            Value::Long(v) => (4, 1, v.to_be_bytes().to_vec()),
            Value::Rational(n, d) => {
                let mut b = n.to_be_bytes().to_vec();
                b.extend_from_slice(&d.to_be_bytes());
                (5, 1, b)
            }
            Value::Ascii(s) => {
                let mut b = s.as_bytes().to_vec();
                b.push(0);
                (2, b.len() as u32, b)
            }
        }
    }
}

type Ifd = Vec<(u16, Value)>;

/// Bytes an IFD takes: count, entries, next pointer, out-of-line values
/// (each padded to an even length).
fn ifd_size(ifd: &Ifd) -> usize {
    let extra: usize = ifd
        .iter()
        .map(|(_, v)| {
            let n = v.encode().2.len();
            if n > 4 {
                n + (n & 1)
            } else {
                0
            }
        })
        .sum();
    2 + 12 * ifd.len() + 4 + extra
}

/// Append `ifd` (which starts at TIFF offset `at` = `tiff.len()`), pointing
/// to the next IFD at `next` (0 = none).
fn write_ifd(tiff: &mut Vec<u8>, ifd: &Ifd, next: u32) {
    let at = tiff.len();
    let mut sorted = ifd.clone();
    sorted.sort_by_key(|(tag, _)| *tag);
    let mut data_at = at + 2 + 12 * sorted.len() + 4;
    let mut data = Vec::new();
    tiff.extend_from_slice(&(sorted.len() as u16).to_be_bytes());
    for (tag, v) in &sorted {
        let (ty, count, bytes) = v.encode();
        tiff.extend_from_slice(&tag.to_be_bytes());
        tiff.extend_from_slice(&ty.to_be_bytes());
        tiff.extend_from_slice(&count.to_be_bytes());
        if bytes.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..bytes.len()].copy_from_slice(&bytes);
            tiff.extend_from_slice(&inline);
        } else {
            tiff.extend_from_slice(&(data_at as u32).to_be_bytes());
            data.extend_from_slice(&bytes);
            if bytes.len() & 1 == 1 {
                data.push(0);
            }
            data_at += bytes.len() + (bytes.len() & 1);
        }
    }
    tiff.extend_from_slice(&next.to_be_bytes());
    tiff.extend_from_slice(&data);
}

/// The payload of an APP1 segment (starting with `Exif\0\0`) carrying a
/// JPEG thumbnail. Fails if the result would not fit in one segment.
pub fn exif_with_thumbnail(thumbnail: &[u8], software: &str) -> Result<Vec<u8>, String> {
    let ifd0: Ifd = vec![
        (0x0112, Value::Short(1)),               // Orientation: top-left
        (0x011A, Value::Rational(72, 1)),        // XResolution
        (0x011B, Value::Rational(72, 1)),        // YResolution
        (0x0128, Value::Short(2)),               // ResolutionUnit: inch
        (0x0131, Value::Ascii(software.into())), // Software
        (0x0213, Value::Short(1)),               // YCbCrPositioning: centered
    ];
    let ifd0_at = 8usize;
    let ifd1_at = ifd0_at + ifd_size(&ifd0);
    // IFD1's size does not depend on the values of its LONG fields.
    let mut ifd1: Ifd = vec![
        (0x0103, Value::Short(6)), // Compression: JPEG (old-style thumbnail)
        (0x011A, Value::Rational(72, 1)),
        (0x011B, Value::Rational(72, 1)),
        (0x0128, Value::Short(2)),
        (0x0201, Value::Long(0)), // JPEGInterchangeFormat
        (0x0202, Value::Long(thumbnail.len() as u32)), // JPEGInterchangeFormatLength
    ];
    let thumb_at = ifd1_at + ifd_size(&ifd1);
    ifd1[4].1 = Value::Long(thumb_at as u32);

    let mut tiff = Vec::with_capacity(thumb_at + thumbnail.len());
    tiff.extend_from_slice(b"MM\0\x2A");
    tiff.extend_from_slice(&(ifd0_at as u32).to_be_bytes());
    write_ifd(&mut tiff, &ifd0, ifd1_at as u32);
    write_ifd(&mut tiff, &ifd1, 0);
    tiff.extend_from_slice(thumbnail);

    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    if app1.len() > 65533 {
        return Err(format!(
            "EXIF block of {} bytes does not fit in one APP1 segment",
            app1.len()
        ));
    }
    Ok(app1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be16(b: &[u8], i: usize) -> usize {
        u16::from_be_bytes([b[i], b[i + 1]]) as usize
    }

    fn be32(b: &[u8], i: usize) -> usize {
        u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize
    }

    /// Read IFD1's thumbnail back out like an EXIF reader does.
    fn read_thumbnail(app1: &[u8]) -> &[u8] {
        assert_eq!(&app1[..6], b"Exif\0\0");
        let t = &app1[6..];
        assert_eq!(&t[..4], b"MM\0\x2A");
        let ifd0 = be32(t, 4);
        let n0 = be16(t, ifd0);
        let ifd1 = be32(t, ifd0 + 2 + 12 * n0);
        let n1 = be16(t, ifd1);
        let (mut off, mut len) = (0, 0);
        for e in 0..n1 {
            let p = ifd1 + 2 + 12 * e;
            match be16(t, p) {
                0x0201 => off = be32(t, p + 8),
                0x0202 => len = be32(t, p + 8),
                _ => {}
            }
        }
        assert_eq!(be32(t, ifd1 + 2 + 12 * n1), 0);
        &t[off..off + len]
    }

    #[test]
    fn thumbnail_round_trips_through_ifd1() {
        let thumb = [0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9];
        let app1 = exif_with_thumbnail(&thumb, "jsec demo").unwrap();
        assert_eq!(read_thumbnail(&app1), thumb);
        // The software string sits out of line in IFD0's data area.
        assert!(app1.windows(10).any(|w| w == b"jsec demo\0"));
        assert!(exif_with_thumbnail(&vec![0; 70_000], "x").is_err());
    }
}
