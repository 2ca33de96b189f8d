//! Embedded JPEGs (EXIF/JFXX thumbnails in APPn payloads, MPF images and
//! previews after EOI): found by jsec where an independent search finds
//! them, encrypted (decodable, strongly different), restored by decryption.

mod common;

use common::{cipher, corpus_baseline, decode_pixels, psnr, with_embedded, Sample};
use jsec::fspe::{Location, Options, Report, Rule};

/// Independent search: (offset, APPn marker or 0 for after EOI) of every
/// `FF D8 FF` inside an APPn payload of the primary image or after its EOI
/// that jpeg-decoder can decode.
fn find_embedded(d: &[u8]) -> Vec<(usize, u8)> {
    let mut out = Vec::new();
    let mut i = 2;
    let mut eoi = None;
    while i + 4 <= d.len() {
        let m = d[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([d[i + 2], d[i + 3]]) as usize;
        if (0xE0..=0xEF).contains(&m) {
            let (a, b) = (i + 4, (i + 2 + len).min(d.len()));
            for p in a..b.saturating_sub(2) {
                if d[p] == 0xFF && d[p + 1] == 0xD8 && d[p + 2] == 0xFF && decodes(&d[p..b]) {
                    out.push((p, m));
                }
            }
        }
        i += 2 + len;
        if m == 0xDA {
            // Skip entropy-coded data to the next non-RST marker.
            while i + 1 < d.len()
                && !(d[i] == 0xFF && d[i + 1] != 0 && !(0xD0..=0xD7).contains(&d[i + 1]))
            {
                i += 1;
            }
            if d.get(i + 1) == Some(&0xD9) {
                eoi = Some(i + 2);
                break;
            }
        }
    }
    if let Some(e) = eoi {
        for p in e..d.len().saturating_sub(2) {
            if d[p] == 0xFF && d[p + 1] == 0xD8 && d[p + 2] == 0xFF && decodes(&d[p..]) {
                out.push((p, 0));
            }
        }
    }
    // Drop candidates nested in an earlier decodable one (thumbnails of MPF
    // images are found again through their own image).
    out
}

fn decodes(d: &[u8]) -> bool {
    decode_pixels(d).is_ok()
}

fn loc_marker(l: Location) -> Option<u8> {
    match l {
        Location::Primary => None,
        Location::InSegment { marker, .. } => Some(marker),
        Location::AfterEoi => Some(0),
    }
}

/// Check every embedded image of `s`: found by jsec, still decodable after
/// encryption, strongly different, restored by decryption.
fn check(s: &Sample, fails: &mut Vec<String>) -> usize {
    let d = &s.data;
    let c = cipher(12, Options::default());
    let mut enc = d.clone();
    let rep: Report = match c.encrypt(&mut enc) {
        Ok(r) => r,
        Err(e) => {
            fails.push(format!("{}: encrypt: {e}", s.name));
            return 0;
        }
    };
    let found = find_embedded(d);
    // Independent search on the encrypted file finds the same places.
    let found_enc: Vec<(usize, u8)> = find_embedded(&enc);
    if found != found_enc {
        fails.push(format!(
            "{}: embedded images after encryption {found_enc:?}, before {found:?}",
            s.name
        ));
    }
    for &(off, m) in &found {
        let Some(img) = rep.images.iter().find(|i| i.offset as usize == off) else {
            // An image nested inside another embedded image is reported too;
            // anything decodable must be in the report.
            fails.push(format!(
                "{}: decodable JPEG at {off} (marker {m:02X}) not in the report {:?}",
                s.name,
                rep.images.iter().map(|i| i.offset).collect::<Vec<_>>()
            ));
            continue;
        };
        if loc_marker(img.location) != Some(m)
            && !matches!(img.location, Location::InSegment { .. })
        {
            fails.push(format!(
                "{}: image at {off}: location {:?}, expected marker {m:02X}",
                s.name, img.location
            ));
        }
        if img.problem.is_some() {
            fails.push(format!(
                "{}: image at {off}: problem {:?}",
                s.name, img.problem
            ));
        }
        let end = img.end as usize;
        let (Ok((w, h, a)), res) = (decode_pixels(&d[off..end]), decode_pixels(&enc[off..end]))
        else {
            fails.push(format!("{}: image at {off}..{end} does not decode", s.name));
            continue;
        };
        match res {
            Err(e) => fails.push(format!(
                "{}: encrypted embedded image at {off} does not decode: {e}",
                s.name
            )),
            Ok((_, _, b)) => {
                let p = psnr(&a, &b);
                let limit = if w >= 64 && h >= 64 { 15.0 } else { 20.0 };
                if img.stats.encrypted == 0 || p >= limit {
                    fails.push(format!(
                        "{}: embedded {w}x{h} image at {off}: PSNR {p:.1} dB, {} bits encrypted",
                        s.name, img.stats.encrypted
                    ));
                }
            }
        }
    }
    let mut dec = enc.clone();
    match c.decrypt(&mut dec) {
        Ok(_) if dec == *d => {}
        Ok(_) => fails.push(format!("{}: decrypt does not restore", s.name)),
        Err(e) => fails.push(format!("{}: decrypt: {e}", s.name)),
    }
    found.len()
}

#[test]
fn generated_thumbnail_in_app1_and_image_after_eoi() {
    let (file, thumb_at, thumb, after_at, after) = with_embedded();
    let rep = jsec::fspe::inspect(&file).unwrap();
    let offs: Vec<(u64, Location)> = rep.images.iter().map(|i| (i.offset, i.location)).collect();
    assert_eq!(
        offs,
        vec![
            (0, Location::Primary),
            (
                thumb_at as u64,
                Location::InSegment {
                    marker: 0xE1,
                    segment: 2
                }
            ),
            (after_at as u64, Location::AfterEoi),
        ]
    );
    assert_eq!(rep.images[1].end as usize, thumb_at + thumb.len());
    assert_eq!(rep.images[2].end as usize, after_at + after.len());
    assert_eq!(rep.trailing_bytes, 0);
    for rule in [Rule::Full, Rule::Paper] {
        let c = cipher(
            13,
            Options {
                rule,
                ..Options::default()
            },
        );
        let mut enc = file.clone();
        let r = c.encrypt(&mut enc).unwrap();
        assert!(r
            .images
            .iter()
            .all(|i| i.stats.encrypted > 0 && i.problem.is_none()));
        // Each image changed and still decodes; the bytes between them did not.
        for (a, len) in [(thumb_at, thumb.len()), (after_at, after.len())] {
            assert_ne!(enc[a..a + len], file[a..a + len], "{rule:?}");
            let (_, _, x) = decode_pixels(&file[a..a + len]).unwrap();
            let (_, _, y) = decode_pixels(&enc[a..a + len]).unwrap();
            if rule == Rule::Full {
                assert!(psnr(&x, &y) < 15.0, "embedded PSNR {}", psnr(&x, &y));
            }
        }
        assert_eq!(enc[..thumb_at], file[..thumb_at]);
        assert_eq!(
            enc[thumb_at + thumb.len()..thumb_at + thumb.len() + 4],
            file[thumb_at + thumb.len()..thumb_at + thumb.len() + 4]
        );
        let mut dec = enc.clone();
        c.decrypt(&mut dec).unwrap();
        assert_eq!(dec, file);
    }
    let mut fails = Vec::new();
    assert_eq!(check(&Sample::new("gen/embedded", file), &mut fails), 2);
    common::assert_no_failures(&fails);
}

#[test]
fn generated_nested_and_broken_embedded_images() {
    // A thumbnail whose APP1 payload ends before the thumbnail's EOI: the
    // primary image must still encrypt (warning, problem set) and decrypt.
    let (file, thumb_at, thumb, ..) = with_embedded();
    let mut broken = Vec::new();
    broken.extend_from_slice(&file[..4]);
    // Shrink the APP1 length so that it cuts the thumbnail in half.
    let cut = thumb.len() / 2;
    let old_len = u16::from_be_bytes([file[4], file[5]]) as usize;
    let new_len = old_len - (thumb.len() - cut) - 4; // minus the "tail" too
    broken.extend_from_slice(&(new_len as u16).to_be_bytes());
    broken.extend_from_slice(&file[6..thumb_at + cut]);
    let rest_at = 4 + old_len;
    broken.extend_from_slice(&file[rest_at..]);
    assert_eq!(broken.len(), file.len() - (thumb.len() - cut) - 4);
    let c = cipher(14, Options::default());
    let mut enc = broken.clone();
    let r = c
        .encrypt(&mut enc)
        .expect("a broken thumbnail must not fail the file");
    let t = r
        .images
        .iter()
        .find(|i| i.offset as usize == thumb_at)
        .expect("broken thumbnail reported");
    assert!(t.problem.is_some(), "problem not set: {t:?}");
    assert!(!r.warnings.is_empty());
    let mut dec = enc.clone();
    c.decrypt(&mut dec).unwrap();
    assert_eq!(dec, broken);
    // The primary image is still encrypted.
    assert_ne!(
        enc[rest_at - (thumb.len() - cut) - 4..],
        broken[rest_at - (thumb.len() - cut) - 4..]
    );

    // A thumbnail with its own thumbnail (depth 2).
    let (inner_file, ..) = with_embedded();
    let outer = common::generate(80, 80, common::Layout::S444, 85, 0, 55);
    let mut payload = b"Exif\0\0".to_vec();
    let inner_at_payload = payload.len();
    // Only the primary with its APP1 thumbnail (drop the after-EOI image).
    let inner_rep = jsec::fspe::inspect(&inner_file).unwrap();
    let inner_end = inner_rep.images[0].end as usize;
    payload.extend_from_slice(&inner_file[..inner_end]);
    let mut nested = vec![0xFF, 0xD8, 0xFF, 0xE1];
    nested.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    let inner_at = nested.len() + inner_at_payload;
    nested.extend_from_slice(&payload);
    nested.extend_from_slice(&outer[2..]);
    let r = jsec::fspe::inspect(&nested).unwrap();
    let offs: Vec<u64> = r.images.iter().map(|i| i.offset).collect();
    assert!(offs.contains(&(inner_at as u64)), "{offs:?}");
    assert!(
        offs.contains(&(inner_at as u64 + thumb_at as u64)),
        "nested thumbnail not found: {offs:?}"
    );
    let mut enc = nested.clone();
    c.encrypt(&mut enc).unwrap();
    let ta = inner_at + thumb_at;
    assert_ne!(enc[ta..ta + thumb.len()], nested[ta..ta + thumb.len()]);
    assert!(decode_pixels(&enc[ta..ta + thumb.len()]).is_ok());
    let mut dec = enc.clone();
    c.decrypt(&mut dec).unwrap();
    assert_eq!(dec, nested);
    // Stream equals in place for the nested file too.
    let mut rng = common::Rng::new(3);
    let s = common::run_stream(&c, jsec::fspe::Direction::Encrypt, &nested, &mut rng, 300).unwrap();
    assert!(s == enc, "stream differs on nested embedded images");
}

#[test]
fn corpus_named_embedded_images() {
    let mut fails = Vec::new();
    for (rel, min) in [
        ("real/DSCN0010.jpg", 1),
        ("generated/jpeg/c640-q75-420-exifthumb.jpg", 1),
        ("real/45-gps_ifd.jpg", 1), // MPF index lists a single image
        ("real/sony-powershota5.jpg", 0),
    ] {
        let Some(s) = common::corpus_file(rel) else {
            continue;
        };
        let n = check(&s, &mut fails);
        if n < min {
            fails.push(format!(
                "{rel}: {n} embedded images found, expected >= {min}"
            ));
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn corpus_all_embedded_images() {
    let mut fails = Vec::new();
    let mut total = 0;
    for s in corpus_baseline() {
        total += check(&s, &mut fails);
    }
    eprintln!("{total} embedded images checked");
    common::assert_no_failures(&fails);
}
