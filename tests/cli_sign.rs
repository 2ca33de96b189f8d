//! Integration tests of the signature commands of the `jsec` binary:
//! keygen --type bls / ecdsa-p256 / rsa3072, sign (both profiles, with a
//! certificate), verify (exit 0 / 1 / 2), crop, attach after
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
    assert!(err(&o).contains("only for signing keys"), "{}", err(&o));

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
    assert!(err(&o).contains("not a signing key"), "{}", err(&o));
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

fn have_openssl() -> bool {
    Command::new("openssl").arg("version").output().is_ok()
}

#[test]
fn paper_profile_with_ecdsa_rsa_and_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let img = common::generate(80, 48, common::Layout::S422, 85, 0, 9);
    let input = d.join("in.jpg");
    fs::write(&input, &img).unwrap();
    for (ty, header) in [
        ("ecdsa-p256", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
        ("rsa3072", "MIIBojANBgkqhkiG9w0BAQEFAAOCAY8A"),
    ] {
        let (sk, pk) = (d.join(format!("{ty}.pem")), d.join(format!("{ty}.pub")));
        let o = run(&["keygen", "--type", ty, "-o", p(&sk), "--public-out", p(&pk)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(fs::read_to_string(&sk)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let public = fs::read_to_string(&pk).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        // The DER prefix of the SubjectPublicKeyInfo names the algorithm.
        assert!(public.contains(header), "{ty}: {public}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&sk).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let signed = d.join(format!("{ty}-signed.jpg"));
        let o = run(&["sign", "-k", p(&sk), "-g", "1", p(&input), p(&signed)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let o = run(&["verify", "-p", p(&pk), "--json", p(&signed)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).contains("\"profile\": \"paper\""), "{}", out(&o));
        assert!(
            out(&o).contains("\"certificate_subject\": null"),
            "{}",
            out(&o)
        );
        // A crop verifies with the same key.
        let crop = d.join(format!("{ty}-crop.jpg"));
        let o = run(&["crop", "--rect", "16,8,48,32", p(&signed), p(&crop)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        let o = run(&["verify", "-p", p(&pk), p(&crop)]);
        assert_eq!(code(&o), 0, "{}", err(&o));
        assert!(out(&o).contains("48x32 at (16, 8)"), "{}", out(&o));
        // --profile compact with this key, a BLS key for a paper file: errors.
        let o = run(&[
            "sign",
            "-k",
            p(&sk),
            "--profile",
            "compact",
            p(&input),
            p(&d.join("x.jpg")),
        ]);
        assert_eq!(code(&o), 2);
        assert!(err(&o).contains("needs a BLS key"), "{}", err(&o));
        assert!(!d.join("x.jpg").exists());
    }
    // Keys cross-checked: an RSA file does not verify with the ECDSA key.
    let o = run(&[
        "verify",
        "-p",
        p(&d.join("ecdsa-p256.pub")),
        p(&d.join("rsa3072-signed.jpg")),
    ]);
    assert_eq!(code(&o), 1);
    assert!(err(&o).contains("another key"), "{}", err(&o));
    let (bls, blspub) = (d.join("b.key"), d.join("b.pub"));
    assert_eq!(
        code(&run(&[
            "keygen",
            "--type",
            "bls",
            "-o",
            p(&bls),
            "--public-out",
            p(&blspub)
        ])),
        0
    );
    let o = run(&["verify", "-p", p(&blspub), p(&d.join("rsa3072-signed.jpg"))]);
    assert_eq!(code(&o), 1);
    assert!(err(&o).contains("paper-profile signature"), "{}", err(&o));
    let o = run(&[
        "sign",
        "-k",
        p(&bls),
        "--profile",
        "paper",
        p(&input),
        p(&d.join("x.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("paper needs a long-term"), "{}", err(&o));
    // Not a key at all.
    let o = run(&["sign", "-k", p(&input), p(&input), p(&d.join("x.jpg"))]);
    assert_eq!(code(&o), 2);
    assert!(err(&o).contains("bad key"), "{}", err(&o));

    if !have_openssl() {
        eprintln!("openssl not found: certificate part skipped");
        return;
    }
    let sk = d.join("ecdsa-p256.pem");
    let cert = d.join("cert.der");
    let st = Command::new("openssl")
        .args([
            "req",
            "-new",
            "-x509",
            "-key",
            p(&sk),
            "-subj",
            "/CN=CLI Camera/O=jsec tests",
            "-days",
            "1",
            "-outform",
            "DER",
            "-out",
            p(&cert),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let signed = d.join("cert-signed.jpg");
    let o = run(&[
        "sign",
        "-k",
        p(&sk),
        "--cert",
        p(&cert),
        p(&input),
        p(&signed),
    ]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    // The certificate itself is a verification key.
    let o = run(&["verify", "-p", p(&cert), p(&signed)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains("CN=CLI Camera"), "{}", out(&o));
    // A certificate for another key is refused, naming the certificate file.
    let o = run(&[
        "sign",
        "-k",
        p(&d.join("rsa3072.pem")),
        "--cert",
        p(&cert),
        p(&input),
        p(&d.join("x.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("cert.der") && err(&o).contains("another key"),
        "{}",
        err(&o)
    );
    // --cert with a BLS key is a usage error.
    let o = run(&[
        "sign",
        "-k",
        p(&bls),
        "--cert",
        p(&cert),
        p(&input),
        p(&d.join("x.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        err(&o).contains("--cert is for the paper profile"),
        "{}",
        err(&o)
    );
    // A key made by OpenSSL signs too.
    let osk = d.join("openssl.pem");
    let st = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            p(&osk),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let opk = d.join("openssl.pub");
    let st = Command::new("openssl")
        .args(["pkey", "-in", p(&osk), "-pubout", "-out", p(&opk)])
        .status()
        .unwrap();
    assert!(st.success());
    let o = run(&["sign", "-k", p(&osk), p(&input), p(&signed)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    let o = run(&["verify", "-p", p(&opk), p(&signed)]);
    assert_eq!(code(&o), 0, "{}", err(&o));
}
