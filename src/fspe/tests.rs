//! Unit tests of the engine's equivalences (in place, streamed, per scan).

use super::*;

fn test_jpeg(w: u16, h: u16, sampling: jpeg_encoder::SamplingFactor) -> Vec<u8> {
    test_jpeg_rst(w, h, sampling, 0)
}

/// A test JPEG with a restart marker every `restart` MCUs (0 = none).
fn test_jpeg_rst(w: u16, h: u16, sampling: jpeg_encoder::SamplingFactor, restart: u16) -> Vec<u8> {
    let mut px = Vec::with_capacity(w as usize * h as usize * 3);
    let mut s = 0x1234_5678u32;
    for y in 0..h as u32 {
        for x in 0..w as u32 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = (s & 31) as u8;
            px.extend_from_slice(&[
                (x * 255 / w as u32) as u8 ^ n,
                (y * 255 / h as u32) as u8,
                ((x + y) & 255) as u8 ^ n,
            ]);
        }
    }
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_sampling_factor(sampling);
    if restart > 0 {
        enc.set_restart_interval(restart);
    }
    enc.encode(&px, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// Offset of the first entropy-coded byte (just past the first SOS segment).
fn scan_start(j: &[u8]) -> usize {
    let mut i = 2;
    loop {
        let m = j[i + 1];
        let len = u16::from_be_bytes([j[i + 2], j[i + 3]]) as usize;
        if m == 0xDA {
            return i + 2 + len;
        }
        i += 2 + len;
    }
}

fn key() -> Key {
    Key::from_bytes(&[0x5A; 32]).unwrap()
}

#[test]
fn stream_equals_in_place_for_any_chunking() {
    let orig = test_jpeg(203, 117, jpeg_encoder::SamplingFactor::R_4_2_0);
    for levels in [false, true] {
        let c = Cipher::new(
            key(),
            Options {
                levels,
                ..Default::default()
            },
        )
        .unwrap();
        let mut expected = orig.clone();
        c.encrypt(&mut expected).unwrap();
        assert_ne!(expected, orig);
        for chunk in [1usize, 7, 100, 4096, 1 << 20] {
            let mut d = c.digest_stream();
            for part in orig.chunks(chunk) {
                d.write(part).unwrap();
            }
            d.finish().unwrap();
            let seed = d.seed().unwrap();
            let mut s = c.stream(Direction::Encrypt, Some(seed)).unwrap();
            let mut out = Vec::new();
            for part in orig.chunks(chunk) {
                s.update(part, &mut out).unwrap();
            }
            s.finish().unwrap();
            let mut rest = vec![0u8; s.available()];
            let n = s.read(&mut rest);
            out.extend_from_slice(&rest[..n]);
            assert_eq!(out, expected, "chunk size {chunk}, levels {levels}");
        }
    }
}

#[test]
fn per_scan_equals_whole_file() {
    let orig = test_jpeg(64, 48, jpeg_encoder::SamplingFactor::R_4_4_4);
    let opts = Options {
        nonce: Some([9; 16]),
        ..Default::default()
    };
    let c = Cipher::new(key(), opts).unwrap();
    let mut whole = orig.clone();
    c.encrypt(&mut whole).unwrap();
    let start = scan_start(&orig);
    let end = orig.len() - 2; // EOI
    let mut scan = orig[start..end].to_vec();
    c.process_scan(Direction::Encrypt, None, &orig[..start], &mut scan)
        .unwrap();
    assert_eq!(&scan[..], &whole[start..end]);
    // Without a nonce or seed it is refused.
    let c2 = Cipher::new(key(), Options::default()).unwrap();
    let e = c2
        .process_scan(Direction::Encrypt, None, &orig[..start], &mut scan)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn caller_nonce_changes_keystream_and_round_trips() {
    let orig = test_jpeg(40, 40, jpeg_encoder::SamplingFactor::R_4_2_2);
    let a = Cipher::new(
        key(),
        Options {
            nonce: Some([1; 16]),
            ..Default::default()
        },
    )
    .unwrap();
    let b = Cipher::new(
        key(),
        Options {
            nonce: Some([2; 16]),
            ..Default::default()
        },
    )
    .unwrap();
    let (mut x, mut y) = (orig.clone(), orig.clone());
    a.encrypt(&mut x).unwrap();
    b.encrypt(&mut y).unwrap();
    assert_ne!(x, y);
    a.decrypt(&mut x).unwrap();
    assert_eq!(x, orig);
}

#[test]
fn level_key_cannot_encrypt_and_needs_levels() {
    let c = Cipher::new(key(), Options::default()).unwrap();
    assert_eq!(
        c.clone().with_key_level(1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let c = Cipher::new(
        key(),
        Options {
            levels: true,
            ..Default::default()
        },
    )
    .unwrap()
    .with_key_level(2)
    .unwrap();
    let mut j = test_jpeg(16, 16, jpeg_encoder::SamplingFactor::R_4_2_0);
    assert_eq!(
        c.encrypt(&mut j).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn error_leaves_buffer_untouched() {
    let orig = test_jpeg(64, 64, jpeg_encoder::SamplingFactor::R_4_2_0);
    let mut cut = orig[..orig.len() * 2 / 3].to_vec();
    let before = cut.clone();
    let c = Cipher::new(key(), Options::default()).unwrap();
    let e = c.encrypt(&mut cut).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert!(e.message().contains("truncated"), "{e}");
    assert_eq!(cut, before);
}

#[test]
fn region_warns_when_dc_stays_in_clear_and_says_how_to_avoid_it() {
    let region = |x, y, w, h| Options {
        region: Some(Region {
            x,
            y,
            w,
            h,
            outside: false,
        }),
        ..Default::default()
    };
    let encrypt = |restart: u16, x: u32| {
        let mut j = test_jpeg_rst(128, 96, jpeg_encoder::SamplingFactor::R_4_2_0, restart);
        Cipher::new(key(), region(x, 16, 64, 48))
            .unwrap()
            .encrypt(&mut j)
            .unwrap()
    };
    let warned = |r: &Report, text: &str| r.warnings.iter().any(|(_, w)| w.contains(text));
    // No restart markers: the DC of almost the whole region stays in clear.
    let r = encrypt(0, 16);
    assert!(r.images[0].stats.dc_kept_for_region > 0);
    assert!(warned(&r, "jpegtran -restart 1B"), "{:?}", r.warnings);
    // A marker after every MCU and a region on the 16x16 MCU grid: every DC is
    // encrypted, no warning.
    let r = encrypt(1, 16);
    assert_eq!(r.images[0].restart_interval, 1);
    assert_eq!(r.images[0].stats.dc_kept_for_region, 0);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    // Off the grid: only the border blocks keep their DC, and the warning says so.
    let r = encrypt(1, 20);
    assert!(r.images[0].stats.dc_kept_for_region > 0);
    assert!(warned(&r, "16x16-pixel MCU grid"), "{:?}", r.warnings);
}
