//! jsec's lossless crop against `jpegtran -crop`: the same rectangle
//! decodes (djpeg) to identical pixels and holds identical coefficients,
//! on generated images of every layout and on the corpus's baseline photos.

mod common;

use common::{generate, Layout};
use jsec::jpeg::crop::crop;
use jsec::jpeg::decode_coefficients;
use std::process::Command;

fn have(tool: &str) -> bool {
    common::have_tool(tool)
}

fn djpeg(jpeg: &[u8], dir: &std::path::Path, name: &str) -> Vec<u8> {
    let p = dir.join(name);
    std::fs::write(&p, jpeg).unwrap();
    let o = Command::new("djpeg").arg("-pnm").arg(&p).output().unwrap();
    assert!(
        o.status.success(),
        "djpeg failed on {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "djpeg warns on {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// Rectangles on the iMCU grid: interior, to the right/bottom edges, whole.
fn rects(w: u32, h: u32, uw: u32, uh: u32) -> Vec<(u32, u32, u32, u32)> {
    let mut v = vec![(0, 0, w, h)];
    if w > uw && h > uh {
        v.push((uw, uh, w - uw, h - uh));
        v.push((uw, 0, (w - uw).min(2 * uw + 3), h));
        v.push((0, uh, w.min(uw + 1), (h - uh).min(uh * 2)));
    }
    v
}

fn check(name: &str, jpeg: &[u8], dir: &std::path::Path) {
    let coefs = decode_coefficients(jpeg).unwrap();
    let (uw, uh) = coefs.frame.imcu_size();
    for r in rects(coefs.frame.width, coefs.frame.height, uw, uh) {
        let ours = crop(jpeg, &coefs, r, |_, _| true).unwrap();
        let theirs = common::jpegtran_crop(jpeg, r);
        assert_eq!(
            djpeg(&ours, dir, "ours.jpg"),
            djpeg(&theirs, dir, "theirs.jpg"),
            "{name} {r:?}: pixels differ from jpegtran -crop"
        );
        let (a, b) = (
            decode_coefficients(&ours).unwrap(),
            decode_coefficients(&theirs).unwrap(),
        );
        assert_eq!((a.frame.width, a.frame.height), (r.2, r.3));
        common::assert_same_image_blocks(&a, &b, &format!("{name} {r:?}"));
    }
}

#[test]
fn matches_jpegtran_crop_on_generated_images() {
    if !have("jpegtran") || !have("djpeg") {
        eprintln!("jpegtran/djpeg not installed: skipping (CI installs them)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, jpeg) in [
        ("444", generate(64, 48, Layout::S444, 85, 0, 1)),
        ("420-odd", generate(101, 75, Layout::S420, 80, 0, 2)),
        ("422", generate(90, 50, Layout::S422, 75, 0, 3)),
        ("440", generate(70, 66, Layout::S440, 80, 0, 4)),
        ("411", generate(100, 40, Layout::S411, 80, 0, 5)),
        ("gray-odd", generate(53, 41, Layout::Gray, 90, 0, 6)),
        ("420-rst", generate(96, 64, Layout::S420, 80, 2, 7)),
        ("420-q100", generate(64, 64, Layout::S420, 100, 0, 8)),
        ("cmyk", generate(40, 24, Layout::Cmyk, 80, 0, 9)),
    ] {
        check(name, &jpeg, dir.path());
    }
}

#[test]
fn matches_jpegtran_crop_on_corpus_photos() {
    if !have("jpegtran") || !have("djpeg") {
        eprintln!("jpegtran/djpeg not installed: skipping (CI installs them)");
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let files = [
        "generated/jpeg/c1024-q75-420.jpg",
        "generated/jpeg/c1024-q75-422.jpg",
        "generated/jpeg/c1024-q75-444-rst7B.jpg",
        "generated/jpeg/c1024-q75-420-noninterleaved.jpg",
        "generated/jpeg/odd1001x777-q75-420.jpg",
        "generated/jpeg/odd1001x777-q75-gray.jpg",
        "generated/jpeg/c1024-q75-420-opt.jpg",
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for f in files {
        let Ok(jpeg) = std::fs::read(root.join(f)) else {
            continue;
        };
        check(f, &jpeg, dir.path());
        n += 1;
    }
    if n == 0 {
        eprintln!("corpus not present: skipped");
    }
}

#[test]
fn misaligned_and_outside_rectangles_are_refused() {
    let jpeg = generate(64, 48, Layout::S420, 80, 0, 1);
    let coefs = decode_coefficients(&jpeg).unwrap();
    let e = crop(&jpeg, &coefs, (5, 16, 16, 16), |_, _| true).unwrap_err();
    assert!(
        e.message().contains("nearest corner up-left is (0, 16)"),
        "{e}"
    );
    assert!(crop(&jpeg, &coefs, (16, 16, 64, 16), |_, _| true).is_err());
    assert!(crop(&jpeg, &coefs, (0, 0, 0, 16), |_, _| true).is_err());
}
