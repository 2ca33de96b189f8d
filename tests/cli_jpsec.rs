//! `jsec j2k protect / consume / info / keys` from the command line: the
//! policy example of docs/jpsec.md works as printed, exit codes (0 ok, 1
//! verification failed, 2 bad input), key levels, usage errors.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_jsec");

fn jsec(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sample() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/generated/j2k/c1024-RPCL-sop-eph-prec-t512.j2k");
    p.exists().then_some(p)
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn the_documented_policy_protects_and_consumes() {
    let Some(input) = sample() else {
        eprintln!("shared corpus not found: skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The policy exactly as docs/jpsec.md prints it.
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/jpsec.md"))
        .unwrap();
    let start = doc
        .find("```toml\n")
        .expect("a toml block in docs/jpsec.md")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    std::fs::write(d.join("policy.toml"), &doc[start..end]).unwrap();
    for k in ["k0.key", "faces.key"] {
        let o = jsec(&["keygen", "-o", s(&d.join(k))]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = jsec(&[
        "keygen",
        "--type",
        "ecdsa-p256",
        "-o",
        s(&d.join("signer.pem")),
        "--public-out",
        s(&d.join("signer.pub")),
    ]);
    assert!(o.status.success());
    let prot = d.join("p.j2k");
    let o = jsec(&[
        "j2k",
        "protect",
        "--policy",
        s(&d.join("policy.toml")),
        s(&input),
        s(&prot),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Without keys: info describes six tools, checks the hash and content
    // identification.
    let o = jsec(&["j2k", "info", "--json", s(&prot)]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let j = String::from_utf8_lossy(&o.stdout);
    assert_eq!(j.matches("\"instance\":").count(), 6, "{j}");
    assert!(j.contains("ISAN International Agency"), "{j}");
    assert!(j.contains("matches ("), "{j}");
    // All keys and the signer's public key: the original, exit 0.
    std::fs::write(
        d.join("keys.txt"),
        format!(
            "# both keys\n{}\n{}\n",
            std::fs::read_to_string(d.join("k0.key")).unwrap().trim(),
            std::fs::read_to_string(d.join("faces.key")).unwrap().trim()
        ),
    )
    .unwrap();
    let out = d.join("back.j2k");
    let o = jsec(&[
        "j2k",
        "consume",
        "--keys",
        s(&d.join("keys.txt")),
        "--pubkey",
        s(&d.join("signer.pub")),
        s(&prot),
        s(&out),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("signature valid"), "{report}");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&input).unwrap());
}

#[test]
fn flags_levels_exit_codes() {
    let Some(input) = sample() else {
        eprintln!("shared corpus not found: skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k0 = d.join("k0.key");
    assert!(jsec(&["keygen", "-o", s(&k0)]).status.success());
    let prot = d.join("p.j2k");
    let o = jsec(&[
        "j2k",
        "protect",
        "--key",
        s(&k0),
        "--levels",
        "resolution",
        "--auth",
        "hmac-sha256",
        s(&input),
        s(&prot),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    // keys: k2 as hex, the same as the library's chain.
    let o = jsec(&["j2k", "keys", "--key", s(&k0), "--level", "2"]);
    assert_eq!(code(&o), 0);
    let hex = String::from_utf8(o.stdout).unwrap();
    let lib = jsec::jpsec::JpsecKey::from_hex(&std::fs::read_to_string(&k0).unwrap())
        .unwrap()
        .derive(2)
        .to_hex();
    assert_eq!(hex.trim(), lib);
    let k2 = d.join("k2.key");
    std::fs::write(&k2, &hex).unwrap();
    // k2 opens part: exit 0, SEC kept.
    let part = d.join("part.j2k");
    let o = jsec(&["j2k", "consume", "--key", s(&k2), s(&prot), s(&part)]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("locked"));
    let o = jsec(&["j2k", "info", s(&part)]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("opened earlier"));
    // Tampered body: exit 1, nothing written.
    let mut t = std::fs::read(&prot).unwrap();
    let at = {
        let f = jsec::j2k::J2kFile::parse(&t).unwrap();
        let ix = jsec::j2k::PacketIndex::build(&f.codestream, &t).unwrap();
        let p = ix.packets.iter().max_by_key(|p| p.body_length).unwrap();
        p.body_offset + p.body_length / 2
    };
    t[at] ^= 0x01;
    let tampered = d.join("t.j2k");
    std::fs::write(&tampered, &t).unwrap();
    let never = d.join("never.j2k");
    let o = jsec(&["j2k", "consume", "--key", s(&k0), s(&tampered), s(&never)]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("was modified"));
    assert!(!never.exists());
    // Wrong key: exit 2, named.
    let bad = d.join("bad.key");
    std::fs::write(&bad, "ab".repeat(32)).unwrap();
    let o = jsec(&["j2k", "consume", "--key", s(&bad), s(&prot), s(&never)]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong key"));
    assert!(!never.exists());
    // Not protected: exit 2.
    let o = jsec(&["j2k", "consume", "--key", s(&k0), s(&input), s(&never)]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not JPSEC-protected"));
    // Usage errors name the problem.
    for (args, want) in [
        (vec!["--mode", "ecb"], "keystream mode"),
        (vec!["--auth", "rsa-pss"], "--sign-key"),
        (vec!["--granularity", "pixel"], "granularity"),
    ] {
        let mut a = vec!["j2k", "protect", "--key", s(&k0)];
        a.extend(args);
        a.extend([s(&input), s(&never)]);
        let o = jsec(&a);
        assert_eq!(code(&o), 2, "{a:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(want),
            "{a:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!never.exists());
    }
    // Already protected: refused.
    let o = jsec(&["j2k", "protect", "--key", s(&k0), s(&prot), s(&never)]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already has SEC"));
}
