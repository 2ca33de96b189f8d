//! A minimal EXIF (APP1) builder: a big-endian TIFF structure with IFD0
//! (orientation, resolution, software), optionally the camera facts a phone
//! records (artist, dates, serial number in the Exif IFD, a GPS IFD), and
//! IFD1 describing a JPEG thumbnail (`JPEGInterchangeFormat` /
//! `JPEGInterchangeFormatLength`) stored right after IFD1, as cameras do.

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
    /// RATIONAL (type 5), several values.
    Rationals(Vec<(u32, u32)>),
    /// BYTE (type 1).
    Bytes(Vec<u8>),
    /// UNDEFINED (type 7).
    Undefined(Vec<u8>),
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
            Value::Rationals(v) => {
                let b = v
                    .iter()
                    .flat_map(|(n, d)| [n.to_be_bytes(), d.to_be_bytes()].concat())
                    .collect();
                (5, v.len() as u32, b)
            }
            Value::Bytes(b) => (1, b.len() as u32, b.clone()),
            Value::Undefined(b) => (7, b.len() as u32, b.clone()),
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

/// What a phone records about a shot besides the picture: who, when, with
/// which unit, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camera {
    /// Artist (IFD0).
    pub artist: String,
    /// DateTime (IFD0) and DateTimeOriginal (Exif IFD), `YYYY:MM:DD HH:MM:SS`.
    pub date_time: String,
    /// BodySerialNumber (Exif IFD).
    pub serial: String,
    /// Latitude: `N` or `S`, then degrees, minutes, seconds × 100.
    pub latitude: (char, u32, u32, u32),
    /// Longitude: `E` or `W`, then degrees, minutes, seconds × 100.
    pub longitude: (char, u32, u32, u32),
    /// Altitude above sea level in metres × 10.
    pub altitude_dm: u32,
}

/// The payload of an APP1 segment (starting with `Exif\0\0`) carrying a
/// JPEG thumbnail and, with `camera`, Artist and DateTime in IFD0, an Exif
/// IFD (DateTimeOriginal, BodySerialNumber) and a GPS IFD. Fails if the
/// result would not fit in one segment.
pub fn camera_exif(
    thumbnail: &[u8],
    software: &str,
    camera: Option<&Camera>,
) -> Result<Vec<u8>, String> {
    let mut ifd0: Ifd = vec![
        (0x0112, Value::Short(1)),               // Orientation: top-left
        (0x011A, Value::Rational(72, 1)),        // XResolution
        (0x011B, Value::Rational(72, 1)),        // YResolution
        (0x0128, Value::Short(2)),               // ResolutionUnit: inch
        (0x0131, Value::Ascii(software.into())), // Software
        (0x0213, Value::Short(1)),               // YCbCrPositioning: centered
    ];
    let (exif_ifd, gps_ifd): (Ifd, Ifd) = match camera {
        None => (Vec::new(), Vec::new()),
        Some(c) => {
            ifd0.push((0x0132, Value::Ascii(c.date_time.clone()))); // DateTime
            ifd0.push((0x013B, Value::Ascii(c.artist.clone()))); // Artist
            ifd0.push((0x8769, Value::Long(0))); // Exif IFD pointer (set below)
            ifd0.push((0x8825, Value::Long(0))); // GPS IFD pointer (set below)
            let dms = |(_, d, m, s): (char, u32, u32, u32)| {
                Value::Rationals(vec![(d, 1), (m, 1), (s, 100)])
            };
            (
                vec![
                    (0x9000, Value::Undefined(b"0232".to_vec())), // ExifVersion
                    (0x9003, Value::Ascii(c.date_time.clone())),  // DateTimeOriginal
                    (0xA431, Value::Ascii(c.serial.clone())),     // BodySerialNumber
                ],
                vec![
                    (0x0000, Value::Bytes(vec![2, 3, 0, 0])), // GPSVersionID
                    (0x0001, Value::Ascii(c.latitude.0.to_string())),
                    (0x0002, dms(c.latitude)),
                    (0x0003, Value::Ascii(c.longitude.0.to_string())),
                    (0x0004, dms(c.longitude)),
                    (0x0005, Value::Bytes(vec![0])), // above sea level
                    (0x0006, Value::Rational(c.altitude_dm, 10)),
                ],
            )
        }
    };
    let ifd0_at = 8usize;
    let exif_at = ifd0_at + ifd_size(&ifd0);
    let gps_at = exif_at
        + if exif_ifd.is_empty() {
            0
        } else {
            ifd_size(&exif_ifd)
        };
    let ifd1_at = gps_at
        + if gps_ifd.is_empty() {
            0
        } else {
            ifd_size(&gps_ifd)
        };
    for (tag, v) in ifd0.iter_mut() {
        match tag {
            0x8769 => *v = Value::Long(exif_at as u32),
            0x8825 => *v = Value::Long(gps_at as u32),
            _ => {}
        }
    }
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
    if !exif_ifd.is_empty() {
        write_ifd(&mut tiff, &exif_ifd, 0);
        write_ifd(&mut tiff, &gps_ifd, 0);
    }
    debug_assert_eq!(tiff.len(), ifd1_at);
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
        let app1 = camera_exif(&thumb, "jsec demo", None).unwrap();
        assert_eq!(read_thumbnail(&app1), thumb);
        // The software string sits out of line in IFD0's data area.
        assert!(app1.windows(10).any(|w| w == b"jsec demo\0"));
        assert!(camera_exif(&vec![0; 70_000], "x", None).is_err());
    }

    #[test]
    fn camera_facts_keep_the_thumbnail_reachable() {
        let thumb = [0xFF, 0xD8, 9, 8, 7, 0xFF, 0xD9];
        let cam = Camera {
            artist: "A. Person".into(),
            date_time: "2026:06:21 12:00:00".into(),
            serial: "SN-0042".into(),
            latitude: ('N', 47, 22, 1234),
            longitude: ('E', 8, 32, 5678),
            altitude_dm: 4080,
        };
        let app1 = camera_exif(&thumb, "jsec demo", Some(&cam)).unwrap();
        assert_eq!(read_thumbnail(&app1), thumb);
        for text in [&b"A. Person\0"[..], b"SN-0042\0", b"2026:06:21 12:00:00\0"] {
            assert!(app1.windows(text.len()).any(|w| w == text));
        }
    }
}
