//! Odd but legal files and option mismatches: fill bytes, extraneous bytes,
//! trailers with false SOI patterns, progressive thumbnails, several
//! thumbnails in one segment, key sizes, wrong options.

mod common;

use common::{
    cipher, decode_pixels, djpeg_available, djpeg_clean, generate, run_stream, with_embedded,
    Layout, Rng,
};
use jsec::crypto::Key;
use jsec::fspe::{Bands, Cipher, Components, Direction, Options, Region, Rule};
use jsec::ErrorKind;

/// encrypt / decrypt / stream agree and restore; the result decodes cleanly.
/// Encrypt (checked: size, round trip, streams, djpeg); the report and the
/// encrypted bytes.
fn full_check(name: &str, data: &[u8], opts: Options) -> (jsec::fspe::Report, Vec<u8>) {
    let c = cipher(50, opts);
    let mut enc = data.to_vec();
    let rep = c
        .encrypt(&mut enc)
        .unwrap_or_else(|e| panic!("{name}: encrypt: {e}"));
    assert_eq!(enc.len(), data.len());
    let mut dec = enc.clone();
    c.decrypt(&mut dec).unwrap();
    assert!(dec == data, "{name}: decrypt does not restore");
    let mut rng = Rng::new(data.len() as u64);
    for max in [1, 3, 64, 5000] {
        let s = run_stream(&c, Direction::Encrypt, data, &mut rng, max)
            .unwrap_or_else(|e| panic!("{name}: stream: {e}"));
        assert!(
            s == enc,
            "{name}: stream (chunks 1..={max}) differs from in-place"
        );
    }
    if djpeg_available() {
        if let Err(e) = djpeg_clean(&enc, name) {
            // Only a warning the original has too is acceptable.
            let orig = djpeg_clean(data, name);
            assert!(orig.is_err(), "{name}: encrypted file: {e}");
        }
    }
    (rep, enc)
}

/// Offsets of RST markers and of EOI in the primary's scan data.
fn markers_in_scan(d: &[u8]) -> Vec<usize> {
    let mut i = 2;
    loop {
        let m = d[i + 1];
        let len = u16::from_be_bytes([d[i + 2], d[i + 3]]) as usize;
        i += 2 + len;
        if m == 0xDA {
            break;
        }
    }
    let mut out = Vec::new();
    while i + 1 < d.len() {
        if d[i] == 0xFF && d[i + 1] != 0 {
            out.push(i);
            if d[i + 1] == 0xD9 {
                break;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn fill_bytes_before_markers() {
    let d = generate(40, 24, Layout::S420, 85, 1, 60);
    let ms = markers_in_scan(&d);
    assert!(ms.len() > 3, "expected RST markers");
    // One or two 0xFF fill bytes before every RST and before EOI, and
    // between two header segments.
    let mut x = Vec::new();
    let mut last = 0;
    for (n, &m) in ms.iter().enumerate() {
        x.extend_from_slice(&d[last..m]);
        x.extend(std::iter::repeat(0xFF).take(1 + n % 2));
        last = m;
    }
    x.extend_from_slice(&d[last..]);
    let mut y = x[..2].to_vec();
    y.extend_from_slice(&[0xFF, 0xFF, 0xFF]);
    y.extend_from_slice(&x[2..]);
    let (rep, _) = full_check("fill bytes", &y, Options::default());
    assert!(rep.images[0].stats.encrypted > 0);
    assert_eq!(rep.images[0].restart_interval, 1);
}

#[test]
fn extraneous_bytes_before_eoi_and_rst() {
    let d = generate(40, 24, Layout::S444, 85, 2, 61);
    let ms = markers_in_scan(&d);
    let mut x = d[..ms[1]].to_vec();
    x.extend_from_slice(b"\x01\x02junk");
    x.extend_from_slice(&d[ms[1]..*ms.last().unwrap()]);
    x.extend_from_slice(b"more junk\xFF\x00");
    x.extend_from_slice(&d[*ms.last().unwrap()..]);
    let (rep, _) = full_check("extraneous bytes", &x, Options::default());
    assert!(!rep.warnings.is_empty(), "no warning for extraneous bytes");
}

#[test]
fn trailer_with_false_soi_patterns_then_an_image() {
    let (file, _, _, after_at, after) = with_embedded();
    let mut x = file[..after_at].to_vec();
    x.extend_from_slice(b"\xFF\xD8\xFF\x00 not a jpeg \xFF\xD8 \xFF\xD8\xFF");
    x.extend_from_slice(b"\xFF\xD8\xFF\xE0\x00\x02 broken app0");
    let img_at = x.len();
    x.extend_from_slice(&after);
    x.extend_from_slice(b"\xFF\xD8"); // trailing half SOI at the very end
    let (rep, _) = full_check("trailer", &x, Options::default());
    assert!(
        rep.images
            .iter()
            .any(|i| i.offset as usize == img_at && i.problem.is_none()),
        "image after junk not found: {:?}",
        rep.images
            .iter()
            .map(|i| (i.offset, i.problem.clone()))
            .collect::<Vec<_>>()
    );
    assert!(rep.trailing_bytes > 0);
}

#[test]
fn two_thumbnails_in_one_segment_and_com_left_alone() {
    let main = generate(64, 48, Layout::S420, 80, 0, 62);
    let t1 = generate(24, 16, Layout::S444, 85, 0, 63);
    let t2 = generate(16, 16, Layout::Gray, 85, 0, 64);
    let mut payload = b"Exif\0\0".to_vec();
    let a1 = payload.len();
    payload.extend_from_slice(&t1);
    payload.extend_from_slice(b"pad");
    let a2 = payload.len();
    payload.extend_from_slice(&t2);
    let mut x = main[..2].to_vec();
    x.extend_from_slice(&[0xFF, 0xE1]);
    x.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    let base = x.len();
    x.extend_from_slice(&payload);
    // A comment holding a JPEG: not an APPn payload, so left alone.
    let com_at = x.len();
    x.extend_from_slice(&[0xFF, 0xFE]);
    x.extend_from_slice(&((t2.len() + 2) as u16).to_be_bytes());
    x.extend_from_slice(&t2);
    let com_end = x.len();
    x.extend_from_slice(&main[2..]);
    let (rep, enc) = full_check("two thumbnails", &x, Options::default());
    let offs: Vec<usize> = rep.images.iter().map(|i| i.offset as usize).collect();
    assert!(
        offs.contains(&(base + a1)) && offs.contains(&(base + a2)),
        "{offs:?}"
    );
    assert_eq!(
        enc[com_at..com_end],
        x[com_at..com_end],
        "COM payload changed"
    );
    for (a, t) in [(base + a1, &t1), (base + a2, &t2)] {
        assert_ne!(enc[a..a + t.len()], t[..]);
        assert!(decode_pixels(&enc[a..a + t.len()]).is_ok());
    }
}

#[test]
fn progressive_thumbnail_in_baseline_primary() {
    let main = generate(64, 48, Layout::S420, 80, 0, 65);
    let mut thumb = Vec::new();
    let mut e = jpeg_encoder::Encoder::new(&mut thumb, 80);
    e.set_progressive(true);
    e.encode(
        &common::pixels(24, 16, 3, 66),
        24,
        16,
        jpeg_encoder::ColorType::Rgb,
    )
    .unwrap();
    assert!(matches!(common::frame_type(&thumb), Some((0xC2, 8))));
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&thumb);
    let mut x = main[..2].to_vec();
    x.extend_from_slice(&[0xFF, 0xE1]);
    x.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    let t_at = x.len() + 6;
    x.extend_from_slice(&payload);
    x.extend_from_slice(&main[2..]);
    let (rep, enc) = full_check("progressive thumbnail", &x, Options::default());
    let t = rep
        .images
        .iter()
        .find(|i| i.offset as usize == t_at)
        .expect("progressive thumbnail reported");
    assert!(
        t.problem.as_deref().unwrap_or("").contains("progressive"),
        "{t:?}"
    );
    assert_eq!(t.stats.encrypted, 0);
    assert_eq!(
        enc[t_at..t_at + thumb.len()],
        thumb[..],
        "progressive thumbnail changed"
    );

    // The other way round: a progressive primary is an error, even with a
    // baseline thumbnail, and nothing changes.
    let mut y = thumb[..2].to_vec();
    let t2 = generate(16, 16, Layout::S420, 80, 0, 67);
    let mut p2 = b"Exif\0\0".to_vec();
    p2.extend_from_slice(&t2);
    y.extend_from_slice(&[0xFF, 0xE1]);
    y.extend_from_slice(&((p2.len() + 2) as u16).to_be_bytes());
    y.extend_from_slice(&p2);
    y.extend_from_slice(&thumb[2..]);
    let mut b = y.clone();
    let e = cipher(50, Options::default()).encrypt(&mut b).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.message().contains("progressive"), "{e}");
    assert_eq!(b, y);
}

#[test]
fn keys_of_both_sizes_and_hex() {
    let d = generate(48, 32, Layout::S420, 85, 0, 68);
    for len in [16usize, 32] {
        let k = Key::generate(len).unwrap();
        assert_eq!(k.len(), len);
        let k2 = Key::from_hex(&k.to_hex()).unwrap();
        assert_eq!(k.as_bytes(), k2.as_bytes());
        let c = Cipher::new(k, Options::default()).unwrap();
        let mut e = d.clone();
        c.encrypt(&mut e).unwrap();
        assert_ne!(e, d);
        let mut b = e.clone();
        Cipher::new(k2, Options::default())
            .unwrap()
            .decrypt(&mut b)
            .unwrap();
        assert_eq!(b, d);
    }
    for bad in [0usize, 1, 15, 17, 31, 33, 64] {
        let e = Key::from_bytes(&vec![7; bad]).err();
        assert!(e.is_some(), "a {bad}-byte key was accepted");
    }
    assert!(Key::from_hex("zz").is_err());
    assert!(Key::from_hex(&"ab".repeat(15)).is_err());
    // Same input, key and options: same output; another key: another output.
    let mut a = d.clone();
    let mut b = d.clone();
    let mut c = d.clone();
    cipher(1, Options::default()).encrypt(&mut a).unwrap();
    cipher(1, Options::default()).encrypt(&mut b).unwrap();
    cipher(2, Options::default()).encrypt(&mut c).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Key chain: derive(n) is n steps of next_in_chain.
    let k = common::key(3);
    assert_eq!(
        k.derive(2).as_bytes(),
        k.next_in_chain().next_in_chain().as_bytes()
    );
    assert_ne!(k.derive(1).as_bytes(), k.as_bytes());
}

#[test]
fn wrong_options_do_not_decrypt() {
    let d = generate(96, 64, Layout::S420, 90, 0, 69);
    let base = Options::default();
    let variants = [
        Options {
            rule: Rule::Paper,
            ..base.clone()
        },
        Options {
            components: Components::Luma,
            ..base.clone()
        },
        Options {
            bands: Bands {
                dc: true,
                ac_low: true,
                ac_high: false,
            },
            ..base.clone()
        },
        Options {
            region: Some(Region {
                x: 0,
                y: 0,
                w: 1000,
                h: 1000,
                outside: false,
            }),
            ..base.clone()
        },
        Options {
            levels: true,
            ..base.clone()
        },
        Options {
            nonce: Some([1; 16]),
            ..base.clone()
        },
    ];
    let mut enc = d.clone();
    cipher(5, base).encrypt(&mut enc).unwrap();
    for (i, o) in variants.into_iter().enumerate() {
        let mut b = enc.clone();
        cipher(5, o.clone()).decrypt(&mut b).unwrap();
        assert_ne!(
            b, d,
            "variant {i} ({o:?}) decrypted a file encrypted with other options"
        );
    }
}
