//! Metadata privacy (docs/fspe.md, section 12): sensitive EXIF values are
//! enciphered in place, the TIFF structure and every other byte outside the
//! image data stay, EXIF readers still read the file, and decryption restores
//! every byte — on hand-built EXIF blocks (both byte orders, a thumbnail,
//! malformed structures) and on the camera files of the shared corpus, with
//! ImageMagick as an independent EXIF reader where it is installed.

mod common;

use std::process::Command;

use common::{Layout, Rng};
use jsec::fspe::{Cipher, Direction, Ifd, Metadata, Options, Report, Sensitivity};

use common::exif::photo;

fn opts(m: Metadata) -> Options {
    Options {
        metadata: m,
        ..Options::default()
    }
}

const ALL: Metadata = Metadata {
    location: true,
    identity: true,
    dates: true,
};

fn field<'a>(r: &'a Report, name: &str) -> &'a jsec::fspe::MetadataField {
    r.metadata
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not reported: {:?}", r.metadata))
}

fn value<'a>(data: &'a [u8], r: &Report, name: &str) -> &'a [u8] {
    let f = field(r, name);
    &data[f.offset as usize..f.offset as usize + f.len as usize]
}

fn roundtrip(c: &Cipher, data: &[u8]) -> (Vec<u8>, Report) {
    let mut enc = data.to_vec();
    let report = c.encrypt(&mut enc).expect("encrypt");
    assert_eq!(enc.len(), data.len());
    let mut back = enc.clone();
    c.decrypt(&mut back).expect("decrypt");
    assert!(back == data, "decrypt does not restore the input");
    (enc, report)
}

// ---------------------------------------------------------------- tests

#[test]
fn gps_and_identity_enciphered_dates_kept_both_byte_orders() {
    for be in [true, false] {
        let data = photo(be, 11);
        let c = common::cipher(1, opts(Metadata::PRIVATE));
        let (enc, r) = roundtrip(&c, &data);
        let names: Vec<&str> = r.metadata.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "DateTime",
                "Artist",
                "DateTimeOriginal",
                "SubSecTime",
                "CameraOwnerName",
                "BodySerialNumber",
                "GPSLatitudeRef",
                "GPSLatitude",
                "GPSAltitudeRef",
                "GPSAltitude",
                "GPSDateStamp"
            ],
            "be = {be}"
        );
        for f in &r.metadata {
            let want = f.sensitivity != Sensitivity::Time;
            assert_eq!(f.transformed, want, "{}", f.name);
            assert!(f.problem.is_none(), "{}: {:?}", f.name, f.problem);
            let (a, b) = (f.offset as usize, (f.offset + f.len as u64) as usize);
            if want && f.len > 1 {
                assert_ne!(&enc[a..b], &data[a..b], "{} unchanged", f.name);
            } else if !want {
                assert_eq!(&enc[a..b], &data[a..b], "{} changed", f.name);
            }
        }
        assert_eq!(field(&r, "GPSLatitude").ifd, Ifd::Gps);
        assert_eq!(field(&r, "BodySerialNumber").ifd, Ifd::Exif);
        assert_eq!(field(&r, "Artist").ifd, Ifd::Ifd0);
        // ASCII stays printable, NULs stay.
        for name in [
            "Artist",
            "BodySerialNumber",
            "GPSLatitudeRef",
            "GPSDateStamp",
        ] {
            let (p, e) = (value(&data, &r, name), value(&enc, &r, name));
            for (x, y) in p.iter().zip(e) {
                assert_eq!(*x == 0, *y == 0, "{name}: NUL moved");
                assert!(*y == 0 || (0x20..=0x7E).contains(y), "{name}: {y:#x}");
            }
        }
        // Rational denominators stay.
        let (p, e) = (
            value(&data, &r, "GPSLatitude"),
            value(&enc, &r, "GPSLatitude"),
        );
        for i in 0..3 {
            assert_eq!(p[8 * i + 4..8 * i + 8], e[8 * i + 4..8 * i + 8]);
        }
        // The thumbnail is still found, whole, and encrypted.
        assert_eq!(r.images.len(), 2, "{:?}", r.images);
        assert!(r.images[1].problem.is_none(), "{:?}", r.images[1]);
        assert!(r.images[1].stats.encrypted > 0);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        // Still a JPEG that decodes.
        common::decode_pixels(&enc).expect("decodes");
    }
}

#[test]
fn dates_only_when_asked_and_nothing_without_the_option() {
    let data = photo(true, 21);
    let c = common::cipher(2, opts(ALL));
    let (enc, r) = roundtrip(&c, &data);
    for f in &r.metadata {
        assert!(f.transformed, "{}", f.name);
    }
    assert_ne!(
        value(&enc, &r, "DateTimeOriginal"),
        value(&data, &r, "DateTimeOriginal")
    );
    // Default options: report the fields, change none.
    let c = common::cipher(2, Options::default());
    let (enc, r) = roundtrip(&c, &data);
    assert_eq!(r.metadata.len(), 11);
    for f in &r.metadata {
        assert!(!f.transformed);
        let (a, b) = (f.offset as usize, (f.offset + f.len as u64) as usize);
        assert_eq!(enc[a..b], data[a..b], "{}", f.name);
    }
}

/// Outside the images' entropy-coded data, only transformed value bytes
/// change: the segment markers, lengths, TIFF header, IFDs, offsets and
/// non-sensitive values stay byte for byte.
fn assert_only_values_and_image_data_changed(name: &str, data: &[u8], enc: &[u8], r: &Report) {
    // Where image data may change: between each image's first SOS and end.
    let mut allowed = vec![false; data.len()];
    for f in r.metadata.iter().filter(|f| f.transformed) {
        for a in &mut allowed[f.offset as usize..(f.offset + f.len as u64) as usize] {
            *a = true;
        }
    }
    for im in &r.images {
        let (s, e) = (im.offset as usize, im.end as usize);
        let sos = data[s..e]
            .windows(2)
            .position(|w| w == [0xFF, 0xDA])
            .map(|p| s + p);
        if let Some(sos) = sos {
            // Nested images' APP1 segments come before their SOS, so the
            // scan data region holds no metadata of their own.
            for a in &mut allowed[sos..e] {
                *a = true;
            }
        }
    }
    for (i, (x, y)) in data.iter().zip(enc).enumerate() {
        if x != y {
            assert!(
                allowed[i],
                "{name}: byte {i} changed ({x:#04x} -> {y:#04x}) outside image data and values"
            );
        }
    }
}

#[test]
fn only_values_and_image_data_change() {
    for be in [true, false] {
        let data = photo(be, 31);
        let c = common::cipher(3, opts(ALL));
        let (enc, r) = roundtrip(&c, &data);
        assert_only_values_and_image_data_changed("synthetic", &data, &enc, &r);
    }
}

#[test]
fn stream_equals_in_place() {
    let mut rng = Rng::new(7);
    for (i, data) in [photo(true, 41), photo(false, 43)].iter().enumerate() {
        for m in [Metadata::PRIVATE, ALL] {
            let c = common::cipher(4, opts(m));
            let mut want = data.clone();
            c.encrypt(&mut want).expect("encrypt");
            for max in [1usize, 7, 600, 70_000] {
                let got = common::run_stream(&c, Direction::Encrypt, data, &mut rng, max)
                    .expect("stream");
                assert!(got == want, "input {i}, chunks <= {max}: stream differs");
                let back = common::run_stream(&c, Direction::Decrypt, &want, &mut rng, max)
                    .expect("stream decrypt");
                assert!(back == *data, "input {i}, chunks <= {max}: no round trip");
            }
        }
    }
}

#[test]
fn lower_level_keys_leave_metadata_enciphered() {
    let data = photo(true, 51);
    let o = Options {
        levels: true,
        metadata: Metadata::PRIVATE,
        ..Options::default()
    };
    let c0 = common::cipher(5, o.clone());
    let (enc, r) = roundtrip(&c0, &data);
    let k1 = common::key(5).next_in_chain();
    let c1 = Cipher::new(k1, o).unwrap().with_key_level(1).unwrap();
    let mut part = enc.clone();
    let r1 = c1.decrypt(&mut part).expect("decrypt with k1");
    for f in r1
        .metadata
        .iter()
        .filter(|f| f.sensitivity != Sensitivity::Time)
    {
        let (a, b) = (f.offset as usize, (f.offset + f.len as u64) as usize);
        assert_eq!(part[a..b], enc[a..b], "{} deciphered by k1", f.name);
        assert!(!f.transformed, "{}", f.name);
    }
    assert_eq!(value(&part, &r, "DateTime"), value(&data, &r, "DateTime"));
}

#[test]
fn wrong_selection_on_decrypt_does_not_restore() {
    let data = photo(true, 61);
    let mut enc = data.clone();
    common::cipher(6, opts(Metadata::PRIVATE))
        .encrypt(&mut enc)
        .unwrap();
    let mut back = enc.clone();
    common::cipher(6, Options::default())
        .decrypt(&mut back)
        .unwrap();
    assert_ne!(back, data, "decrypting without --exif must not restore");
}

#[test]
fn value_overlapping_the_thumbnail_or_structure_is_left_and_reported() {
    let data = photo(true, 71);
    let r = jsec::fspe::inspect(&data).unwrap();
    let thumb = r.images[1].offset;
    // Point Artist's value (offset field of its IFD0 entry) into the thumbnail.
    let artist = field(&r, "Artist").clone();
    let seg = artist.segment as usize;
    let tiff = seg + 4 + 6;
    let entry = tiff + 8 + 2 + 12 * 2; // third IFD0 entry
    assert_eq!(&data[entry..entry + 2], &0x013Bu16.to_be_bytes());
    let mut bent = data.clone();
    let rel = (thumb as usize + 20 - tiff) as u32;
    bent[entry + 8..entry + 12].copy_from_slice(&rel.to_be_bytes());
    let c = common::cipher(7, opts(Metadata::PRIVATE));
    let (_, r) = roundtrip(&c, &bent);
    // Artist is enciphered inside the thumbnail's bytes, so the thumbnail
    // cannot be parsed to its end inside its gap: reported, and the round
    // trip still holds.
    assert!(field(&r, "Artist").transformed);
    assert!(r.images[1].problem.is_some(), "{:?}", r.images[1]);
    assert!(!r.warnings.is_empty());
    // Artist's value pointing at IFD0 itself: left and named.
    let mut bent = data.clone();
    bent[entry + 8..entry + 12].copy_from_slice(&8u32.to_be_bytes());
    let (enc, r) = roundtrip(&c, &bent);
    let f = field(&r, "Artist");
    assert!(!f.transformed);
    assert!(f.problem.as_deref().unwrap().contains("structure"));
    assert!(r
        .warnings
        .iter()
        .any(|(_, w)| w.contains("Artist") && w.contains("structure")));
    assert_only_values_and_image_data_changed("bent", &bent, &enc, &r);
}

#[test]
fn mutated_tiff_structures_round_trip() {
    let data = photo(false, 81);
    let r = jsec::fspe::inspect(&data).unwrap();
    let seg = r.metadata[0].segment as usize;
    let tiff_end = r.images[1].offset as usize;
    let mut rng = Rng::new(99);
    let c = common::cipher(8, opts(ALL));
    for _ in 0..400 {
        let mut m = data.clone();
        for _ in 0..rng.range(1, 6) {
            let i = rng.range(seg + 10, tiff_end);
            m[i] = match rng.below(4) {
                0 => 0,
                1 => 0xFF,
                2 => m[i] ^ (1 << rng.below(8)),
                _ => rng.byte(),
            };
        }
        let mut enc = m.clone();
        let Ok(_) = c.encrypt(&mut enc) else { continue };
        let mut back = enc.clone();
        c.decrypt(&mut back).expect("decrypt");
        assert!(back == m, "mutated TIFF does not round trip");
        let got = common::run_stream(&c, Direction::Encrypt, &m, &mut rng, 300).unwrap();
        assert!(got == enc, "stream differs on a mutated TIFF");
    }
}

#[test]
fn xmp_with_gps_is_named() {
    let main = common::generate(32, 32, Layout::S420, 85, 0, 91);
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>48,51.4N</exif:GPSLatitude></x:xmpmeta>";
    let data = common::embed(&main, xmp, b"", b"", b"").0;
    let (_, r) = roundtrip(&common::cipher(9, opts(Metadata::PRIVATE)), &data);
    assert!(
        r.warnings.iter().any(|(_, w)| w.contains("XMP")),
        "{:?}",
        r.warnings
    );
    let (_, r) = roundtrip(&common::cipher(9, Options::default()), &data);
    assert!(r.warnings.is_empty());
}

#[test]
fn corpus_round_trips_and_keeps_structure() {
    for s in common::corpus_baseline() {
        if s.data.len() > 3_000_000 {
            continue;
        }
        let c = common::cipher(10, opts(ALL));
        let mut enc = s.data.clone();
        let r = match c.encrypt(&mut enc) {
            Ok(r) => r,
            Err(e) => panic!("{}: {e}", s.name),
        };
        let mut back = enc.clone();
        c.decrypt(&mut back).expect("decrypt");
        assert!(back == s.data, "{}: no round trip", s.name);
        assert_only_values_and_image_data_changed(&s.name, &s.data, &enc, &r);
        // The option changes nothing about which embedded images are found.
        let plain = jsec::fspe::inspect(&s.data).unwrap();
        assert_eq!(
            r.images
                .iter()
                .map(|i| (i.offset, i.end))
                .collect::<Vec<_>>(),
            plain
                .images
                .iter()
                .map(|i| (i.offset, i.end))
                .collect::<Vec<_>>(),
            "{}",
            s.name
        );
        for f in &r.metadata {
            assert!(
                f.transformed || f.problem.is_some() || f.len == 0,
                "{}",
                s.name
            );
        }
    }
}

fn identify_exif(path: &std::path::Path) -> Option<Vec<(String, String)>> {
    let out = Command::new("identify")
        .args(["-format", "%[EXIF:*]"])
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// ImageMagick (libexif-free, its own TIFF reader) reads the same tags from
/// the protected file; GPS values differ, capture dates do not.
#[test]
fn imagemagick_reads_protected_exif() {
    let Some(root) = common::corpus_root() else {
        eprintln!("no corpus; skipped");
        return;
    };
    if Command::new("identify").arg("-version").output().is_err() {
        eprintln!("identify not installed; skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("jsec-exif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    for name in ["DSCN0010.jpg", "iphone_hdr_NO.jpg", "87_OSError.jpg"] {
        let Ok(data) = std::fs::read(root.join("real").join(name)) else {
            continue;
        };
        let c = common::cipher(11, opts(Metadata::PRIVATE));
        let (enc, _) = roundtrip(&c, &data);
        let (p, e) = (dir.join(format!("p-{name}")), dir.join(format!("e-{name}")));
        std::fs::write(&p, &data).unwrap();
        std::fs::write(&e, &enc).unwrap();
        let before = identify_exif(&p).expect("identify original");
        let after = identify_exif(&e).expect("identify protected");
        let keys = |v: &[(String, String)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&before), keys(&after), "{name}: tag set changed");
        let get =
            |v: &[(String, String)], k: &str| v.iter().find(|x| x.0 == k).map(|x| x.1.clone());
        assert_ne!(
            get(&before, "exif:GPSLatitude"),
            get(&after, "exif:GPSLatitude"),
            "{name}"
        );
        assert!(get(&before, "exif:GPSLatitude").is_some(), "{name}");
        assert_eq!(
            get(&before, "exif:DateTimeOriginal"),
            get(&after, "exif:DateTimeOriginal"),
            "{name}"
        );
        for (k, v) in &before {
            if !k.starts_with("exif:GPS") && !k.contains("Serial") && k != "exif:GPSInfo" {
                assert_eq!(get(&after, k).as_ref(), Some(v), "{name}: {k}");
            }
        }
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked > 0, "no GPS-tagged corpus file found");
}
