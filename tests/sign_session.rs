//! Signing while the file is written (`SignSession`): the bytes arrive in
//! chunks of any size, rows of cells are signed as soon as their blocks are
//! decoded, and the result verifies exactly like a file signed at once.

mod common;

use common::{generate, Layout};
use jsec::crypto::bls::BlsSecretKey;
use jsec::crypto::longterm::LongTermSecret;
use jsec::sign::{verify_jpeg, SignOptions, SignSession};
use jsec::ErrorKind;

fn key() -> BlsSecretKey {
    BlsSecretKey::from_ikm(&[7; 32], b"sign_session test").unwrap()
}

fn opts(g: u32, threads: usize) -> SignOptions {
    SignOptions {
        granularity: g,
        threads,
    }
}

/// Feed `jpeg` in chunks of the sizes `sizes` cycles through; returns the
/// session and the cells signed after each write.
fn feed(mut s: SignSession, jpeg: &[u8], sizes: &[usize]) -> (SignSession, Vec<u64>) {
    let mut seen = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < jpeg.len() {
        let n = sizes[i % sizes.len()].min(jpeg.len() - at);
        s.write(&jpeg[at..at + n]).unwrap();
        seen.push(s.progress().0);
        at += n;
        i += 1;
    }
    (s, seen)
}

#[test]
fn chunked_writes_verify_and_sign_rows_early() {
    let sk = key();
    let pk = sk.public_key();
    for (name, jpeg, g) in [
        ("420", generate(160, 120, Layout::S420, 85, 0, 1), 1),
        ("444-rst", generate(120, 96, Layout::S444, 90, 3, 2), 2),
        ("422-odd", generate(101, 77, Layout::S422, 80, 0, 3), 1),
        ("gray", generate(90, 70, Layout::Gray, 85, 5, 4), 3),
    ] {
        // Byte by byte exercises every way an MCU can be cut (the DC
        // predictions are restored when one is decoded again).
        for sizes in [&[1usize][..], &[7, 300, 2, 1000], &[4096]] {
            let (s, seen) = feed(
                SignSession::compact(&sk, &opts(g, 0)).unwrap(),
                &jpeg,
                sizes,
            );
            let total = s.progress().1;
            assert!(total > 0, "{name}");
            // Rows were signed before the end, not all at once at the end.
            let before_end = seen[seen.len().saturating_sub(2)];
            if sizes[0] < 100 {
                assert!(
                    seen.iter().any(|&n| n > 0 && n < total),
                    "{name} {sizes:?}: no row signed early: {seen:?}"
                );
            }
            assert!(before_end <= total);
            let signed = s.finish_compact().unwrap();
            let v =
                verify_jpeg(&signed, &pk, 0).unwrap_or_else(|e| panic!("{name} {sizes:?}: {e}"));
            assert_eq!(v.cells, total, "{name}");
        }
    }
}

#[test]
fn multi_scan_images_sign_at_the_end() {
    // A non-interleaved (one scan per component) image: no row is complete
    // before the last scan.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/generated/jpeg/c1024-q75-420-noninterleaved.jpg");
    let Ok(jpeg) = std::fs::read(&path) else {
        eprintln!("{} not found: skipped", path.display());
        return;
    };
    let sk = key();
    let (s, seen) = feed(
        SignSession::compact(&sk, &opts(4, 2)).unwrap(),
        &jpeg,
        &[8192],
    );
    assert!(seen.iter().all(|&n| n == 0), "{seen:?}");
    let signed = s.finish_compact().unwrap();
    verify_jpeg(&signed, &sk.public_key(), 2).unwrap();
}

#[test]
fn paper_sessions_and_errors() {
    let jpeg = generate(96, 64, Layout::S420, 85, 0, 9);
    let lt = LongTermSecret::generate_ecdsa_p256();
    let (s, _) = feed(SignSession::paper(&opts(1, 0)).unwrap(), &jpeg, &[33]);
    let signed = s.finish_paper(&lt, None).unwrap();
    let v = verify_jpeg(&signed, &lt.public_key(), 0).unwrap();
    assert_eq!(v.profile, 1);

    // The wrong finish for the profile.
    let (s, _) = feed(SignSession::paper(&opts(1, 0)).unwrap(), &jpeg, &[4096]);
    assert_eq!(
        s.finish_compact().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let (s, _) = feed(
        SignSession::compact(&key(), &opts(1, 0)).unwrap(),
        &jpeg,
        &[4096],
    );
    assert_eq!(
        s.finish_paper(&lt, None).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    // A truncated file fails at the end; not a JPEG fails at once, and the
    // session stays failed.
    let mut s = SignSession::compact(&key(), &opts(1, 0)).unwrap();
    s.write(&jpeg[..jpeg.len() / 2]).unwrap();
    let e = s.finish_compact().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Malformed);
    assert!(e.message().contains("truncated"), "{e}");
    let mut s = SignSession::compact(&key(), &opts(1, 0)).unwrap();
    assert_eq!(s.write(b"GIF89a").unwrap_err().kind(), ErrorKind::Malformed);
    assert_eq!(s.write(&jpeg).unwrap_err().kind(), ErrorKind::InvalidState);
    // Bad granularity.
    assert!(SignSession::compact(&key(), &opts(0, 0)).is_err());
    assert!(SignSession::paper(&opts(33, 0)).is_err());
    // Trailing bytes after EOI are kept.
    let mut with_tail = jpeg.clone();
    with_tail.extend_from_slice(b"TRAILER");
    let (s, _) = feed(
        SignSession::compact(&key(), &opts(1, 0)).unwrap(),
        &with_tail,
        &[100],
    );
    let signed = s.finish_compact().unwrap();
    assert!(signed.ends_with(b"TRAILER"));
    verify_jpeg(&signed, &key().public_key(), 0).unwrap();
}

/// An image whose luma blocks go A B | B A | A B ... across each row (flat
/// 8x8 blocks, 4:2:2): the first luma block of every other MCU repeats the
/// previous block's DC (a zero DC difference) while the second differs. An
/// MCU cut between its blocks and decoded again must start from the DC
/// prediction it had before, not from the partial decode's.
#[test]
fn mcus_cut_anywhere_keep_their_dc_predictions() {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    let (w, h) = (256u16, 64u16);
    let mut px = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h as usize {
        for x in 0..w as usize {
            let block = x / 8;
            let a = matches!(block % 4, 0 | 3);
            let v = if a { 40u8 } else { 200 } ^ ((y / 8) as u8 * 4);
            px.extend_from_slice(&[v, v, v]);
        }
    }
    let mut jpeg = Vec::new();
    let mut enc = Encoder::new(&mut jpeg, 90);
    enc.set_sampling_factor(SamplingFactor::F_2_1);
    enc.encode(&px, w, h, ColorType::Rgb).unwrap();
    let sk = key();
    for sizes in [&[1usize][..], &[2, 3], &[5]] {
        let (s, _) = feed(
            SignSession::compact(&sk, &opts(1, 0)).unwrap(),
            &jpeg,
            sizes,
        );
        let signed = s.finish_compact().unwrap();
        verify_jpeg(&signed, &sk.public_key(), 0).unwrap_or_else(|e| panic!("{sizes:?}: {e}"));
    }
}

/// A quantization table defined only after the scan that uses it: libjpeg
/// refuses such a file (tables are latched when a scan starts), and so does
/// jsec, whether the file is decoded at once or arrives in chunks (found by
/// the `sign_session` fuzz target: the chunked decoder saw the table
/// missing while the one-shot decoder took the later definition).
#[test]
fn quantization_tables_must_precede_their_scan() {
    let jpeg = generate(32, 16, Layout::S420, 80, 0, 5);
    // Move the first DQT segment to just before EOI.
    let dqt = jpeg.windows(2).position(|w| w == [0xFF, 0xDB]).unwrap();
    let len = u16::from_be_bytes([jpeg[dqt + 2], jpeg[dqt + 3]]) as usize;
    let seg = jpeg[dqt..dqt + 2 + len].to_vec();
    let mut moved = [&jpeg[..dqt], &jpeg[dqt + 2 + len..jpeg.len() - 2]].concat();
    moved.extend_from_slice(&seg);
    moved.extend_from_slice(&[0xFF, 0xD9]);
    let e = jsec::jpeg::decode_coefficients(&moved).unwrap_err();
    assert!(e.message().contains("not defined before its scan"), "{e}");
    for size in [1usize, 4096] {
        let mut s = SignSession::compact(&key(), &opts(1, 0)).unwrap();
        let r = moved
            .chunks(size)
            .try_for_each(|c| s.write(c))
            .and_then(|()| s.finish_compact());
        let e = r.unwrap_err();
        assert!(e.message().contains("not defined before its scan"), "{e}");
    }
    if common::have_tool("djpeg") {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("late-dqt.jpg");
        std::fs::write(&p, &moved).unwrap();
        let ok = std::process::Command::new("djpeg")
            .args(["-outfile", "/dev/null"])
            .arg(&p)
            .status()
            .unwrap()
            .success();
        assert!(
            !ok,
            "libjpeg decodes a file whose quantization table comes late"
        );
    }
}

/// A stand-alone TEM marker (0xFF01, no length) among the header segments
/// is skipped by the decoder and kept by the signature container (found by
/// the `sign_session` fuzz target: the container read it as a segment with
/// a length).
#[test]
fn tem_markers_in_the_header_are_stand_alone() {
    let jpeg = generate(32, 16, Layout::S420, 80, 0, 6);
    let with_tem = [&jpeg[..2], &[0xFF, 0xFF, 0xFF, 0x01][..], &jpeg[2..]].concat();
    let sk = key();
    let signed = jsec::sign::sign_jpeg(&with_tem, &sk, &opts(1, 0)).unwrap();
    verify_jpeg(&signed, &sk.public_key(), 0).unwrap();
    let crop = jsec::sign::crop_jpeg(&signed, (16, 0, 16, 16)).unwrap();
    verify_jpeg(&crop, &sk.public_key(), 0).unwrap();
    let (s, _) = feed(
        SignSession::compact(&sk, &opts(1, 0)).unwrap(),
        &with_tem,
        &[1],
    );
    verify_jpeg(&s.finish_compact().unwrap(), &sk.public_key(), 0).unwrap();
}
