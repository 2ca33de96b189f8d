//! Integration tests of the signature commands of the `jsec` binary:
//! keygen --type bls, sign, verify (exit 0 / 1 / 2), attach after
//! `jpegtran -crop`.
#![cfg(feature = "cli")]

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_jsec");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the jsec binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn have_jpegtran() -> bool {
    Command::new("jpegtran").arg("-version").output().is_ok()
}

#[test]
fn keygen_sign_verify_attach() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (sk, pk) = (d.join("s.key"), d.join("s.pub"));
    let o = run(&[
        "keygen",
        "--type",
        "bls",
        "-o",
        p(&sk),
        "--public-out",
        p(&pk),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&sk).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(fs::read_to_string(&sk)
        .unwrap()
        .starts_with("jsec-bls12381-secret-key "));
    assert!(fs::read_to_string(&pk)
        .unwrap()
        .starts_with("jsec-bls12381-public-key "));
    // Refuses to overwrite without --force; --public-out only for bls.
    let o = run(&["keygen", "--type", "bls", "-o", p(&sk)]);
    assert_eq!(code(&o), 2);
    let o = run(&[
        "keygen",
        "-o",
        p(&d.join("a.key")),
        "--public-out",
        p(&d.join("x")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("only for --type bls"), "{}", err(&o));

    let img = common::generate(96, 64, common::Layout::S420, 85, 0, 3);
    let (input, signed) = (d.join("in.jpg"), d.join("signed.jpg"));
    fs::write(&input, &img).unwrap();
    let o = run(&[
        "sign",
        "-k",
        p(&sk),
        "-g",
        "1",
        "-j",
        "2",
        p(&input),
        p(&signed),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = run(&["verify", "-p", p(&pk), p(&signed)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(
        out(&o).contains("valid signature") && out(&o).contains("96x64"),
        "{}",
        out(&o)
    );
    // The unsigned input: exit 1, with the reason.
    let o = run(&["verify", "-p", p(&pk), p(&input)]);
    assert_eq!(code(&o), 1);
    assert!(err(&o).contains("no jsec signature"), "{}", err(&o));
    // Another key: exit 1; a secret key given as public: exit 2.
    let (sk2, pk2) = (d.join("t.key"), d.join("t.pub"));
    assert_eq!(
        code(&run(&[
            "keygen",
            "--type",
            "bls",
            "-o",
            p(&sk2),
            "--public-out",
            p(&pk2)
        ])),
        0
    );
    let o = run(&["verify", "-p", p(&pk2), p(&signed)]);
    assert_eq!(code(&o), 1);
    assert!(err(&o).contains("another key"), "{}", err(&o));
    let o = run(&["verify", "-p", p(&sk), p(&signed)]);
    assert_eq!(code(&o), 2);
    // An AES key file is not a signing key.
    let aes = d.join("aes.key");
    assert_eq!(code(&run(&["keygen", "-o", p(&aes)])), 0);
    let o = run(&["sign", "-k", p(&aes), p(&input), p(&d.join("x.jpg"))]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("not a jsec-bls12381-secret-key file"),
        "{}",
        err(&o)
    );
    // A truncated file: exit 2 (bad input), no output written.
    let trunc = d.join("trunc.jpg");
    fs::write(&trunc, &fs::read(&signed).unwrap()[..200]).unwrap();
    let o = run(&["verify", "-p", p(&pk), p(&trunc)]);
    assert_eq!(code(&o), 2, "{}", err(&o));

    // jsec's own crop: no key, verifies, reports the rectangle; a misaligned
    // rectangle names the nearest aligned one (exit 2, no output).
    let own = d.join("own-crop.jpg");
    let o = run(&["crop", "--rect", "16,16,48,32", p(&signed), p(&own)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = run(&["verify", "-p", p(&pk), p(&own)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("48x32 at (16, 16)"), "{}", out(&o));
    let o = run(&[
        "crop",
        "--rect",
        "17,16,48,32",
        p(&signed),
        p(&d.join("bad.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("--rect 16,16,48,32"), "{}", err(&o));
    assert!(!d.join("bad.jpg").exists());

    if !have_jpegtran() {
        eprintln!("jpegtran not installed: skipping the crop part (CI installs it)");
        return;
    }
    let crop = d.join("crop.jpg");
    let st = Command::new("jpegtran")
        .args(["-crop", "48x32+16+16", "-outfile", p(&crop), p(&signed)])
        .status()
        .unwrap();
    assert!(st.success());
    let o = run(&["verify", "-p", p(&pk), p(&crop)]);
    assert_eq!(code(&o), 1);
    assert!(err(&o).contains("cropped or resized"), "{}", err(&o));
    let attached = d.join("crop-signed.jpg");
    let o = run(&["attach", "--signed", p(&signed), p(&crop), p(&attached)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(fs::metadata(&attached).unwrap().len() < fs::metadata(&crop).unwrap().len());
    let o = run(&["verify", "--json", "-p", p(&pk), p(&attached)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let j = out(&o);
    for want in [
        "\"valid\": true",
        "\"x\": 16",
        "\"y\": 16",
        "\"width\": 48",
        "\"height\": 32",
        "\"profile\": \"compact\"",
    ] {
        assert!(j.contains(want), "{want} missing in {j}");
    }
    // Attaching a crop of another picture fails (exit 2), writes nothing.
    let other = d.join("other.jpg");
    fs::write(
        &other,
        common::generate(96, 64, common::Layout::S420, 85, 0, 4),
    )
    .unwrap();
    let ocrop = d.join("ocrop.jpg");
    assert!(Command::new("jpegtran")
        .args(["-crop", "48x32+16+16", "-outfile", p(&ocrop), p(&other)])
        .status()
        .unwrap()
        .success());
    let o = run(&[
        "attach",
        "--signed",
        p(&signed),
        p(&ocrop),
        p(&d.join("no.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("not a crop"), "{}", err(&o));
    assert!(!d.join("no.jpg").exists());
}
