//! Signed JPEG files (profile compact): sign, verify, crop with jpegtran
//! and attach, and every way of breaking them.

mod common;

use common::{generate, Layout};
use jsec::crypto::bls::{BlsPublicKey, BlsSecretKey};
use jsec::sign::container;
use jsec::sign::record::Record;
use jsec::sign::{attach, read_record, sign_jpeg, verify_jpeg, SignOptions};
use jsec::ErrorKind;
use std::process::Command;

fn key(seed: u8) -> BlsSecretKey {
    BlsSecretKey::from_ikm(&[seed; 32], b"sign_file test").unwrap()
}

fn have(tool: &str) -> bool {
    common::have_tool(tool)
}

fn djpeg_ok(jpeg: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.jpg");
    std::fs::write(&p, jpeg).unwrap();
    Command::new("djpeg")
        .args(["-outfile", "/dev/null"])
        .arg(&p)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn jpegtran_crop(jpeg: &[u8], w: u32, h: u32, x: u32, y: u32) -> Vec<u8> {
    common::jpegtran_crop(jpeg, (x, y, w, h))
}

/// A signed test image: name, original, granularity, signed file, cell grid.
type Sample = (&'static str, Vec<u8>, u32, Vec<u8>, jsec::sign::CellGrid);

/// Signed test images of four layouts.
fn signed_samples(sk: &BlsSecretKey, seed: u64) -> Vec<Sample> {
    [
        ("420", generate(100, 70, Layout::S420, 80, 0, seed), 1u32),
        ("444-g2", generate(90, 60, Layout::S444, 85, 0, seed + 1), 2),
        ("gray", generate(41, 35, Layout::Gray, 85, 0, seed + 2), 1),
        (
            "422-rst",
            generate(80, 48, Layout::S422, 80, 2, seed + 3),
            1,
        ),
    ]
    .into_iter()
    .map(|(name, jpeg, g)| {
        let signed = sign_jpeg(
            &jpeg,
            sk,
            &SignOptions {
                granularity: g,
                threads: 0,
            },
        )
        .unwrap();
        let coefs = jsec::jpeg::decode_coefficients(&jpeg).unwrap();
        let grid = jsec::sign::CellGrid::new(&coefs.frame, g).unwrap();
        (name, jpeg, g, signed, grid)
    })
    .collect()
}

fn err_of(r: jsec::Result<jsec::sign::Verified>) -> jsec::Error {
    r.expect_err("verification should have failed")
}

#[test]
fn sign_then_verify_full_images() {
    let sk = key(1);
    let pk = sk.public_key();
    for (name, jpeg) in [
        ("444", generate(48, 40, Layout::S444, 85, 0, 1)),
        ("420-odd", generate(75, 51, Layout::S420, 80, 0, 2)),
        ("422-rst", generate(64, 32, Layout::S422, 75, 1, 3)),
        ("gray", generate(33, 20, Layout::Gray, 90, 0, 4)),
    ] {
        for g in [1u32, 2, 4] {
            let signed = sign_jpeg(
                &jpeg,
                &sk,
                &SignOptions {
                    granularity: g,
                    threads: 2,
                },
            )
            .unwrap();
            // Only COM segments were added.
            assert_eq!(
                container::replace_record(&signed, None).unwrap(),
                jpeg,
                "{name}"
            );
            if have("djpeg") {
                assert!(djpeg_ok(&signed), "{name}: djpeg refuses the signed file");
            }
            let v = verify_jpeg(&signed, &pk, 0).unwrap();
            assert_eq!(v.crop, None);
            assert_eq!(v.granularity, g);
            assert_eq!(v.key_id, pk.fingerprint());
            // Signing twice replaces the signature (one record, new nonce).
            let again = sign_jpeg(
                &signed,
                &sk,
                &SignOptions {
                    granularity: g,
                    threads: 0,
                },
            )
            .unwrap();
            assert!(verify_jpeg(&again, &pk, 0).is_ok());
            assert_ne!(read_record(&again).unwrap(), read_record(&signed).unwrap());
        }
    }
}

#[test]
fn tampering_and_wrong_keys_fail_with_reasons() {
    let sk = key(2);
    let pk = sk.public_key();
    let jpeg = generate(64, 48, Layout::S420, 85, 0, 5);
    let signed = sign_jpeg(&jpeg, &sk, &SignOptions::default()).unwrap();
    // Another key.
    let e = err_of(verify_jpeg(&signed, &key(3).public_key(), 0));
    assert_eq!(e.kind(), ErrorKind::VerificationFailed);
    assert!(e.message().contains("another key"), "{e}");
    // No signature.
    let e = err_of(verify_jpeg(&jpeg, &pk, 0));
    assert!(e.message().contains("no jsec signature"), "{e}");
    // A changed binding in the record: the header (and every cell) fails,
    // and the header is blamed first.
    let mut rec = read_record(&signed).unwrap();
    if let Record::Full { common, .. } = &mut rec {
        common.binding[0] ^= 1;
    }
    let forged = container::replace_record(&signed, Some(&rec.to_bytes())).unwrap();
    let e = err_of(verify_jpeg(&forged, &pk, 0));
    assert!(e.message().contains("header signature"), "{e}");
    // A spliced cell: the picture of cell (3, 1) taken from another image
    // (its coefficients copied, the file re-encoded losslessly with the
    // signature kept): the full image fails, naming that cell.
    let other_img = generate(64, 48, Layout::S420, 85, 0, 55);
    let mut coefs = jsec::jpeg::decode_coefficients(&signed).unwrap();
    let donor = jsec::jpeg::decode_coefficients(&other_img).unwrap();
    let grid = jsec::sign::CellGrid::new(&coefs.frame, 1).unwrap();
    for c in 0..coefs.components.len() {
        let (bx0, by0, bx1, by1) = jsec::sign::cells::cell_blocks(&coefs.frame, &grid, c, 3, 1);
        for by in by0..by1 {
            for bx in bx0..bx1 {
                let src = donor.components[c].block(bx, by).to_vec();
                let cc = &mut coefs.components[c];
                let i = ((by * cc.blocks_w + bx) * 64) as usize;
                cc.data[i..i + 64].copy_from_slice(&src);
            }
        }
    }
    let (w, h) = (coefs.frame.width, coefs.frame.height);
    let spliced = jsec::jpeg::crop::crop(&signed, &coefs, (0, 0, w, h), |_, _| true).unwrap();
    let e = err_of(verify_jpeg(&spliced, &pk, 0));
    assert!(e.message().contains("1 of 12 cells"), "{e}");
    assert!(e.message().contains("(3, 1)"), "{e}");
    // A table entry replaced by another signing's (content unchanged): the
    // image is still authentic as a whole, but a crop whose corners use that
    // entry no longer verifies.
    let other = sign_jpeg(&jpeg, &sk, &SignOptions::default()).unwrap();
    let (mut a, b) = (read_record(&signed).unwrap(), read_record(&other).unwrap());
    if let (Record::Full { cell_sigs: sa, .. }, Record::Full { cell_sigs: sb, .. }) = (&mut a, &b) {
        sa[3] = sb[3];
    }
    let bad_table = container::replace_record(&signed, Some(&a.to_bytes())).unwrap();
    assert!(verify_jpeg(&bad_table, &pk, 0).is_ok());
    let crop = jsec::sign::crop_jpeg(&bad_table, (16, 0, 48, 16)).unwrap();
    assert_eq!(
        err_of(verify_jpeg(&crop, &pk, 0)).kind(),
        ErrorKind::VerificationFailed
    );
    // Truncated file: a decoding error, not a verification verdict.
    let e = err_of(verify_jpeg(&signed[..signed.len() / 2], &pk, 0));
    assert_eq!(e.kind(), ErrorKind::Malformed, "{e}");
}

/// 1000 random single-bit flips in the entropy-coded data of a signed
/// crop: every flip that still decodes and changes a coefficient is
/// rejected.
#[test]
fn bit_flips_in_a_signed_crop_are_rejected() {
    if !have("jpegtran") {
        eprintln!("jpegtran not installed: skipping (CI installs it)");
        return;
    }
    let sk = key(4);
    let pk = sk.public_key();
    let jpeg = generate(96, 64, Layout::S420, 80, 0, 6);
    let signed = sign_jpeg(&jpeg, &sk, &SignOptions::default()).unwrap();
    let crop = jpegtran_crop(&signed, 48, 32, 16, 16);
    let attached = attach(&signed, &crop, 0).unwrap();
    let v = verify_jpeg(&attached, &pk, 0).unwrap();
    assert_eq!(v.crop, Some((16, 16, 48, 32)));
    // The entropy-coded data: after the first SOS segment, up to EOI.
    let segs = jsec::jpeg::marker::header_segments(&attached).unwrap();
    let sos = segs.last().unwrap();
    let (start, end) = (sos.offset + sos.len, attached.len() - 2);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let (mut decodable, mut tried) = (0, 0);
    while tried < 1000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let bit = (rng % ((end - start) as u64 * 8)) as usize;
        let mut f = attached.clone();
        f[start + bit / 8] ^= 0x80 >> (bit % 8);
        tried += 1;
        match verify_jpeg(&f, &pk, 0) {
            Ok(_) => {
                // A flip that leaves every coefficient unchanged (e.g. in
                // the padding bits of the last byte) is no tampering.
                let a = jsec::jpeg::decode_coefficients(&f).unwrap();
                let b = jsec::jpeg::decode_coefficients(&attached).unwrap();
                assert_eq!(
                    a.components, b.components,
                    "bit {bit}: changed coefficients accepted"
                );
            }
            Err(e) => {
                if e.kind() == ErrorKind::VerificationFailed {
                    decodable += 1;
                }
            }
        }
    }
    assert!(decodable > 100, "only {decodable} of {tried} flips decoded");
}

#[test]
fn crops_attach_and_verify_and_lies_fail() {
    if !have("jpegtran") {
        eprintln!("jpegtran not installed: skipping (CI installs it)");
        return;
    }
    let sk = key(5);
    let pk = sk.public_key();
    for (name, _jpeg, _g, signed, grid) in signed_samples(&sk, 7) {
        let (cw, ch) = (grid.cell_w(), grid.cell_h());
        // An interior crop and one to the bottom-right edge.
        for (x, y, w, h) in [(cw, ch, cw, ch), (cw, 0, grid.width - cw, grid.height)] {
            let crop = jpegtran_crop(&signed, w, h, x, y);
            // The crop still carries the full record (jpegtran keeps COM):
            // it does not verify as a full image.
            let e = err_of(verify_jpeg(&crop, &pk, 0));
            assert!(e.message().contains("cropped or resized"), "{name}: {e}");
            let attached = attach(&signed, &crop, 2).unwrap();
            if have("djpeg") {
                assert!(djpeg_ok(&attached));
            }
            let v = verify_jpeg(&attached, &pk, 0).unwrap();
            assert_eq!(v.crop, Some((x, y, w, h)), "{name}");
            assert_eq!(v.original, (grid.width, grid.height));
            // The cropped record is small: one signature plus geometry.
            let rec = read_record(&attached).unwrap().to_bytes();
            assert!(rec.len() < 160, "{} bytes", rec.len());
            // Lies about the offset fail.
            let mut r = read_record(&attached).unwrap();
            if let Record::Cropped { origin, .. } = &mut r {
                origin.1 += 1;
            }
            let moved = container::replace_record(&attached, Some(&r.to_bytes())).unwrap();
            assert_eq!(
                err_of(verify_jpeg(&moved, &pk, 0)).kind(),
                ErrorKind::VerificationFailed
            );
            let mut r = read_record(&attached).unwrap();
            if let Record::Cropped { origin, .. } = &mut r {
                origin.0 = origin.0.saturating_sub(1);
            }
            let moved = container::replace_record(&attached, Some(&r.to_bytes())).unwrap();
            assert!(verify_jpeg(&moved, &pk, 0).is_err());
            // Another key.
            assert!(verify_jpeg(&attached, &key(6).public_key(), 0).is_err());
        }
        // A crop of another image does not attach.
        let other = generate(100, 70, Layout::S420, 80, 0, 99);
        if name == "420" {
            let crop = jpegtran_crop(&other, cw, ch, cw, ch);
            let e = attach(&signed, &crop, 0).unwrap_err();
            assert!(e.message().contains("not a crop"), "{e}");
        }
    }
}

/// The record of one signed image attached to another's crop (same key):
/// the binding differs, so the cells do not verify.
#[test]
fn records_do_not_transfer_between_images() {
    if !have("jpegtran") {
        eprintln!("jpegtran not installed: skipping (CI installs it)");
        return;
    }
    let sk = key(7);
    let pk: BlsPublicKey = sk.public_key();
    let a = sign_jpeg(
        &generate(64, 64, Layout::S420, 80, 0, 11),
        &sk,
        &SignOptions::default(),
    )
    .unwrap();
    let b = sign_jpeg(
        &generate(64, 64, Layout::S420, 80, 0, 12),
        &sk,
        &SignOptions::default(),
    )
    .unwrap();
    let ca = attach(&a, &jpegtran_crop(&a, 32, 32, 16, 16), 0).unwrap();
    let cb = jpegtran_crop(&b, 32, 32, 16, 16);
    let rec = read_record(&ca).unwrap().to_bytes();
    let moved = container::replace_record(&cb, Some(&rec)).unwrap();
    let e = err_of(verify_jpeg(&moved, &pk, 0));
    assert!(e.message().contains("does not match"), "{e}");
}

/// jsec's own crop: verifies with the right rectangle, decodes like
/// jpegtran's crop of the same rectangle, refuses misaligned rectangles with
/// the nearest aligned one, and a crop of a crop needs the original.
#[test]
fn own_crop_verifies_and_matches_jpegtran() {
    let sk = key(8);
    let pk = sk.public_key();
    let mut crops_of_crops = 0;
    for (name, _jpeg, _g, signed, grid) in signed_samples(&sk, 31) {
        let (cw, ch) = (grid.cell_w(), grid.cell_h());
        for r in [
            (cw, ch, cw, ch),
            (cw, 0, grid.width - cw, grid.height),
            (0, 0, grid.width, grid.height),
        ] {
            let c = jsec::sign::crop_jpeg(&signed, r).unwrap();
            let v = verify_jpeg(&c, &pk, 0).unwrap();
            assert_eq!(v.crop, Some(r), "{name}");
            if have("djpeg") {
                assert!(djpeg_ok(&c));
            }
            if have("jpegtran") {
                let theirs = jpegtran_crop(&signed, r.2, r.3, r.0, r.1);
                let (a, b) = (
                    jsec::jpeg::decode_coefficients(&c).unwrap(),
                    jsec::jpeg::decode_coefficients(&theirs).unwrap(),
                );
                common::assert_same_image_blocks(&a, &b, &format!("{name} {r:?}"));
            }
            // A crop of the crop: the cropped record cannot be cut further,
            // but while the signed original is at hand, a crop of the crop
            // (made by any tool) attaches to it and verifies.
            let e = jsec::sign::crop_jpeg(&c, (0, 0, cw, ch)).unwrap_err();
            assert!(e.message().contains("signed original"), "{e}");
            if have("jpegtran") && r.2 >= 2 * cw && r.3 >= 2 * ch {
                crops_of_crops += 1;
                let inner = jpegtran_crop(&c, cw, ch, cw, ch);
                let v = verify_jpeg(&attach(&signed, &inner, 0).unwrap(), &pk, 0).unwrap();
                assert_eq!(v.crop, Some((r.0 + cw, r.1 + ch, cw, ch)), "{name} {r:?}");
            }
        }
        // Misaligned: the error names the nearest aligned rectangle.
        let e = jsec::sign::crop_jpeg(&signed, (cw + 1, ch, cw, ch)).unwrap_err();
        assert!(e.message().contains("nearest aligned crop"), "{e}");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = jsec::sign::crop_jpeg(&signed, (0, 0, cw + 1, ch)).unwrap_err();
        assert!(
            e.message()
                .contains(&format!("at (0, 0) (--rect 0,0,{cw},{ch})")),
            "{name}: {e}"
        );
    }
    if have("jpegtran") {
        assert!(
            crops_of_crops >= 4,
            "only {crops_of_crops} crops of crops tried"
        );
    }
}
