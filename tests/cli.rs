//! Integration tests of the `jsec` binary: exit codes, usage errors, atomic
//! output, batches, key files, `info --json` and round trips.
//!
//! The binary needs the `cli` feature (on by default); without it this file
//! compiles to nothing.
#![cfg(feature = "cli")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../src/bin/jsec/exif.rs"]
mod exif;

const BIN: &str = env!("CARGO_BIN_EXE_jsec");

fn jsec<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the jsec binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A textured RGB test picture encoded as JPEG (4:2:0, quality 85).
fn make_jpeg(w: u16, h: u16, seed: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity(w as usize * h as usize * 3);
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    for y in 0..h as u32 {
        for x in 0..w as u32 {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = s % 40;
            px.push(((x * 255 / w as u32 + n) % 256) as u8);
            px.push(((y * 255 / h as u32 + n / 2) % 256) as u8);
            px.push((((x ^ y) & 0xFF) / 2 + n) as u8);
        }
    }
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    enc.encode(&px, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encode test image");
    out
}

/// A JPEG whose EXIF thumbnail is progressive (which FSPE cannot encrypt).
fn jpeg_with_progressive_thumbnail() -> Vec<u8> {
    let px: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
    let mut thumb = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut thumb, 80);
    enc.set_progressive(true);
    enc.encode(&px, 64, 48, jpeg_encoder::ColorType::Rgb)
        .expect("encode thumbnail");
    let app1 = exif::camera_exif(&thumb, "jsec test", None).expect("exif");
    let main = make_jpeg(128, 96, 9);
    let mut out = main[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&main[2..]);
    out
}

fn decodes(jpeg: &[u8]) -> bool {
    jpeg_decoder::Decoder::new(jpeg).decode().is_ok()
}

fn keygen(dir: &Path, name: &str) -> PathBuf {
    let k = dir.join(name);
    let o = jsec(&["keygen".as_ref(), "-o".as_ref(), k.as_os_str()]);
    assert_eq!(code(&o), 0, "keygen: {}", stderr(&o));
    k
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn keygen_writes_private_hex_files_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let k = keygen(dir.path(), "k.hex");
    let text = fs::read_to_string(&k).unwrap();
    assert_eq!(text.len(), 65);
    assert!(text.ends_with('\n'));
    assert!(text[..64]
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // No overwrite without --force; the file is unchanged.
    let o = jsec(&["keygen", "-o", p(&k)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).starts_with("jsec: "), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&k).unwrap(), text);
    // --force replaces it, still 0600.
    let o = jsec(&["keygen", "--type", "aes128", "--force", "-o", p(&k)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let t128 = fs::read_to_string(&k).unwrap();
    assert_eq!(t128.len(), 33);
    assert_ne!(t128, text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(names_in(dir.path()), vec!["k.hex"]);
    // Two keys are different.
    let k2 = keygen(dir.path(), "other.hex");
    assert_ne!(
        fs::read(&k2).unwrap(),
        fs::read(dir.path().join("k.hex")).unwrap()
    );
}

#[test]
fn derive_key_follows_the_library_hash_chain() {
    let dir = tempfile::tempdir().unwrap();
    let k0 = keygen(dir.path(), "k0.hex");
    let k1 = dir.path().join("k1.hex");
    let k2 = dir.path().join("k2.hex");
    let k11 = dir.path().join("k11.hex");
    for (src, level, out) in [(&k0, "1", &k1), (&k0, "2", &k2), (&k1, "1", &k11)] {
        let o = jsec(&[
            "derive-key",
            "--key",
            p(src),
            "--level",
            level,
            "-o",
            p(out),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let read = |f: &Path| fs::read_to_string(f).unwrap();
    assert_eq!(read(&k2), read(&k11), "k2 = H(H(k0)) = H(k1)");
    assert_ne!(read(&k1), read(&k2));
    let master = jsec::crypto::Key::from_hex(&read(&k0)).unwrap();
    assert_eq!(read(&k1), format!("{}\n", master.derive(1).to_hex()));
    assert_eq!(read(&k2), format!("{}\n", master.derive(2).to_hex()));
    // Level 3 does not exist; existing output refused.
    let o = jsec(&["derive-key", "--key", p(&k0), "--level", "3", "-o", "x"]);
    assert_eq!(code(&o), 2);
    let o = jsec(&["derive-key", "--key", p(&k0), "--level", "1", "-o", p(&k2)]);
    assert_eq!(code(&o), 2);
    assert_eq!(read(&k11), read(&k2));
}

#[test]
fn round_trips_are_identical_and_size_preserving() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let original = make_jpeg(200, 136, 1);
    let input = dir.path().join("in.jpg");
    fs::write(&input, &original).unwrap();
    let enc = dir.path().join("enc.jpg");
    let dec = dir.path().join("dec.jpg");
    let flag_sets: [&[&str]; 6] = [
        &[],
        &["--rule", "paper"],
        &["--components", "luma", "--bands", "dc,ac-low"],
        &["--components", "chroma", "--bands", "ac-high"],
        &["--region", "16,8,64,40", "--outside"],
        &["--levels", "--nonce", "00112233445566778899aabbccddeeff"],
    ];
    for flags in flag_sets {
        let mut a: Vec<&str> = vec!["encrypt", "--key", p(&key)];
        a.extend_from_slice(flags);
        a.extend_from_slice(&[p(&input), p(&enc)]);
        let o = jsec(&a);
        assert_eq!(code(&o), 0, "{flags:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "single files are quiet");
        if flags.contains(&"--region") {
            // The generated file has no restart markers, so the DC of the
            // masked blocks stays in clear: the user must be told.
            assert!(
                stderr(&o).contains("warning: region:") && stderr(&o).contains("restart"),
                "{flags:?}: {}",
                stderr(&o)
            );
        } else {
            assert!(o.stderr.is_empty(), "{flags:?}: single files are quiet");
        }
        let e = fs::read(&enc).unwrap();
        assert_eq!(e.len(), original.len(), "{flags:?}");
        assert_ne!(e, original, "{flags:?}");
        assert!(decodes(&e), "{flags:?}: encrypted file must stay a JPEG");
        a[0] = "decrypt";
        let n = a.len();
        a[n - 2] = p(&enc);
        a[n - 1] = p(&dec);
        let o = jsec(&a);
        assert_eq!(code(&o), 0, "{flags:?}: {}", stderr(&o));
        assert_eq!(fs::read(&dec).unwrap(), original, "{flags:?}");
    }
    // The binary agrees byte for byte with the library.
    let o = jsec(&["encrypt", "--key", p(&key), p(&input), p(&enc)]);
    assert_eq!(code(&o), 0);
    let k = jsec::crypto::Key::from_hex(&fs::read_to_string(&key).unwrap()).unwrap();
    let mut lib = original.clone();
    jsec::fspe::Cipher::new(k, jsec::fspe::Options::default())
        .unwrap()
        .encrypt(&mut lib)
        .unwrap();
    assert_eq!(fs::read(&enc).unwrap(), lib);
}

#[test]
fn wrong_key_or_flags_give_a_different_valid_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let other = keygen(dir.path(), "other.hex");
    let original = make_jpeg(128, 96, 2);
    let input = dir.path().join("in.jpg");
    fs::write(&input, &original).unwrap();
    let enc = dir.path().join("enc.jpg");
    let out = dir.path().join("out.jpg");
    let o = jsec(&["encrypt", "--key", p(&key), p(&input), p(&enc)]);
    assert_eq!(code(&o), 0);
    for (k, extra) in [
        (&other, None),
        (&key, Some("--rule=paper")),
        (&key, Some("--components=luma")),
    ] {
        let mut a = vec!["decrypt", "--key", p(k)];
        a.extend(extra);
        a.extend([p(&enc), p(&out)]);
        let o = jsec(&a);
        assert_eq!(code(&o), 0, "nothing in the file can tell: {}", stderr(&o));
        let d = fs::read(&out).unwrap();
        assert_eq!(d.len(), original.len());
        assert_ne!(d, original);
        assert!(decodes(&d));
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let input = dir.path().join("a.jpg");
    fs::write(&input, make_jpeg(32, 32, 3)).unwrap();
    let k = p(&key);
    let i = p(&input);
    let out = dir.path().join("o.jpg");
    let o_ = p(&out);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["encrypt", i, o_],
        vec!["encrypt", "--key", k],
        vec!["encrypt", "--key", k, i],
        vec!["encrypt", "--key", k, "--outside", i, o_],
        vec!["encrypt", "--key", k, "--region", "1,2,3", i, o_],
        vec!["encrypt", "--key", k, "--region", "0,0,0,8", i, o_],
        vec!["encrypt", "--key", k, "--nonce", "abcd", i, o_],
        vec!["encrypt", "--key", k, "--rule", "half", i, o_],
        vec!["encrypt", "--key", k, "--bands", "dc,ac-mid", i, o_],
        vec!["encrypt", "--key", k, "--jobs", "0", i, o_],
        vec!["encrypt", "--key", k, "--key-level", "1", i, o_],
        vec!["decrypt", "--key", k, "--key-level", "1", i, o_],
        vec!["decrypt", "--key", k, "--levels", "--key-level", "3", i, o_],
        vec!["encrypt", "--key", k, i, i, o_],
        vec!["encrypt", "--key", i, i, o_],
        vec!["encrypt", "--key", "/nonexistent/key", i, o_],
        vec!["keygen"],
        vec!["keygen", "--type", "aes512", "-o", o_],
        vec!["derive-key", "--key", k, "-o", o_],
        vec!["info"],
    ];
    for args in cases {
        let o = jsec(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}");
        assert!(!out.exists(), "{args:?} wrote output");
    }
    // Our own (non-clap) failures are exactly one line.
    let o = jsec(&["encrypt", "--key", k, i, i, o_]);
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(stderr(&o).starts_with("jsec: "));
    let o = jsec(&["encrypt", "--key", i, i, o_]);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("jsec: {i}: bad key")),
        "{}",
        stderr(&o)
    );
    // Help and version are not errors.
    for args in [vec!["--help"], vec!["encrypt", "--help"], vec!["--version"]] {
        let o = jsec(&args);
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(!o.stdout.is_empty());
    }
}

#[test]
fn truncated_input_fails_without_leaving_output() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let full = make_jpeg(160, 120, 4);
    let input = dir.path().join("cut.jpg");
    fs::write(&input, &full[..full.len() * 2 / 3]).unwrap();
    let out = dir.path().join("out.jpg");
    for cmd in ["encrypt", "decrypt"] {
        let o = jsec(&[cmd, "--key", p(&key), p(&input), p(&out)]);
        assert_eq!(code(&o), 2);
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("jsec: {}: ", p(&input))), "{err}");
        assert!(!out.exists());
        assert_eq!(
            names_in(dir.path()),
            vec!["cut.jpg", "k.hex"],
            "no temporary files left"
        );
    }
    // An existing OUT is left as it was.
    fs::write(&out, b"previous").unwrap();
    let o = jsec(&["encrypt", "--key", p(&key), p(&input), p(&out)]);
    assert_eq!(code(&o), 2);
    assert_eq!(fs::read(&out).unwrap(), b"previous");
    assert_eq!(names_in(dir.path()).len(), 3);
    // Not a JPEG at all, and an empty file.
    fs::write(&input, b"GIF89a....").unwrap();
    let o = jsec(&["encrypt", "--key", p(&key), p(&input), p(&out)]);
    assert_eq!(code(&o), 2);
    fs::write(&input, b"").unwrap();
    let o = jsec(&["encrypt", "--key", p(&key), p(&input), p(&out)]);
    assert_eq!(code(&o), 2);
    assert_eq!(fs::read(&out).unwrap(), b"previous");
}

#[test]
fn unencryptable_thumbnail_is_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let original = jpeg_with_progressive_thumbnail();
    let input = dir.path().join("in.jpg");
    fs::write(&input, &original).unwrap();
    let enc = dir.path().join("enc.jpg");
    let o = jsec(&["encrypt", "--key", p(&key), p(&input), p(&enc)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.is_empty(), "a warning is expected");
    for line in err.lines() {
        assert!(
            line.starts_with(&format!("jsec: {}: warning: ", p(&input)))
                && line.contains("(at byte offset "),
            "{line}"
        );
    }
    let e = fs::read(&enc).unwrap();
    assert_eq!(e.len(), original.len());
    assert_ne!(e, original);
    let dec = dir.path().join("dec.jpg");
    let o = jsec(&["decrypt", "--key", p(&key), p(&enc), p(&dec)]);
    assert_eq!(code(&o), 0);
    assert_eq!(fs::read(&dec).unwrap(), original);

    let o = jsec(&["info", "--json", p(&input)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc = Parser::parse(&stdout(&o)).unwrap();
    let file = &doc.get("files").arr()[0];
    let images = file.get("images").arr();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].get("encryptable"), &Json::Bool(true));
    assert_eq!(images[1].get("encryptable"), &Json::Bool(false));
    assert!(!images[1].get("problem").str().is_empty());
    assert!(images[1].get("frame").str().starts_with("SOF2"));
    assert!(!file.get("warnings").arr().is_empty());
}

#[test]
fn out_equal_to_in_needs_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let original = make_jpeg(64, 64, 5);
    let f = dir.path().join("a.jpg");
    fs::write(&f, &original).unwrap();
    let o = jsec(&["encrypt", "--key", p(&key), p(&f), p(&f)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--in-place"), "{}", stderr(&o));
    assert_eq!(fs::read(&f).unwrap(), original);
    // Same file through another spelling of the path.
    let other = dir.path().join(".").join("a.jpg");
    let o = jsec(&["encrypt", "--key", p(&key), p(&f), p(&other)]);
    assert_eq!(code(&o), 2);
    // --in-place with IN IN, then with IN alone.
    let o = jsec(&["encrypt", "--in-place", "--key", p(&key), p(&f), p(&f)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let enc = fs::read(&f).unwrap();
    assert_ne!(enc, original);
    assert_eq!(enc.len(), original.len());
    let o = jsec(&["decrypt", "--in-place", "--key", p(&key), p(&f)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::read(&f).unwrap(), original);
    assert_eq!(names_in(dir.path()), vec!["a.jpg", "k.hex"]);
}

#[test]
fn batches_need_out_dir_and_report_failures_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let mut originals = BTreeMap::new();
    for (i, name) in ["a.jpg", "b.JPEG", "c.jpe"].iter().enumerate() {
        let data = make_jpeg(96 + 8 * i as u16, 64, 10 + i as u32);
        fs::write(src.join(name), &data).unwrap();
        originals.insert(name.to_string(), data);
    }
    fs::write(src.join("broken.jpg"), b"\xFF\xD8\xFF\xE0 not really").unwrap();
    fs::write(src.join("notes.txt"), b"not an image").unwrap();
    let out = dir.path().join("out");

    // Two inputs without --out-dir: usage error, nothing written.
    let o = jsec(&[
        "encrypt",
        "--key",
        p(&key),
        p(&src.join("a.jpg")),
        p(&src.join("b.JPEG")),
        p(&src.join("c.jpe")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--out-dir"));
    // A directory without --out-dir: usage error.
    let o = jsec(&["encrypt", "--key", p(&key), p(&src), p(&out)]);
    assert_eq!(code(&o), 2);
    assert!(!out.exists());

    let o = jsec(&[
        "encrypt",
        "--key",
        p(&key),
        "--jobs",
        "2",
        "--out-dir",
        p(&out),
        p(&src),
    ]);
    assert_eq!(code(&o), 2, "a failed file makes the exit code 2");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("jsec: {}: ", p(&src.join("broken.jpg")))),
        "{err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("encrypted 3 files (") && last.ends_with(" s, 1 failed"),
        "summary line: {last}"
    );
    assert_eq!(names_in(&out), vec!["a.jpg", "b.JPEG", "c.jpe"]);
    for (name, data) in &originals {
        let e = fs::read(out.join(name)).unwrap();
        assert_eq!(e.len(), data.len());
        assert_ne!(&e, data);
    }

    // Decrypt the outputs given as files into another directory: all succeed.
    let back = dir.path().join("back");
    let mut a = vec!["decrypt", "-q", "--key", p(&key), "--out-dir", p(&back)];
    let files: Vec<PathBuf> = originals.keys().map(|n| out.join(n)).collect();
    a.extend(files.iter().map(|f| p(f)));
    let o = jsec(&a);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "--quiet: {}", stderr(&o));
    for (name, data) in &originals {
        assert_eq!(&fs::read(back.join(name)).unwrap(), data, "{name}");
    }

    // Two inputs with the same file name would collide in --out-dir.
    let o = jsec(&[
        "encrypt",
        "--key",
        p(&key),
        "--out-dir",
        p(&dir.path().join("x")),
        p(&src.join("a.jpg")),
        p(&out.join("a.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(!dir.path().join("x").join("a.jpg").exists());
    // --out-dir = the input directory needs --in-place.
    let o = jsec(&["decrypt", "--key", p(&key), "--out-dir", p(&out), p(&out)]);
    assert_eq!(code(&o), 2);
    let o = jsec(&[
        "decrypt",
        "--key",
        p(&key),
        "--in-place",
        "--out-dir",
        p(&out),
        p(&out),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("decrypted 3 files"),
        "{}",
        stderr(&o)
    );
    for (name, data) in &originals {
        assert_eq!(&fs::read(out.join(name)).unwrap(), data, "{name}");
    }
}

#[test]
fn multi_level_keys_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let k0 = keygen(dir.path(), "k0.hex");
    let original = make_jpeg(128, 128, 6);
    let input = dir.path().join("in.jpg");
    fs::write(&input, &original).unwrap();
    let enc = dir.path().join("enc.jpg");
    let o = jsec(&["encrypt", "--levels", "--key", p(&k0), p(&input), p(&enc)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut outs = Vec::new();
    for level in ["1", "2"] {
        let k = dir.path().join(format!("k{level}.hex"));
        let o = jsec(&["derive-key", "--key", p(&k0), "--level", level, "-o", p(&k)]);
        assert_eq!(code(&o), 0);
        let out = dir.path().join(format!("preview{level}.jpg"));
        let o = jsec(&[
            "decrypt",
            "--levels",
            "--key",
            p(&k),
            "--key-level",
            level,
            p(&enc),
            p(&out),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let d = fs::read(&out).unwrap();
        assert!(decodes(&d));
        assert_eq!(d.len(), original.len());
        assert_ne!(d, original);
        // Byte for byte what the library gives for that level's key.
        let l: u8 = level.parse().unwrap();
        let kl = jsec::crypto::Key::from_hex(&fs::read_to_string(&k).unwrap()).unwrap();
        let master = jsec::crypto::Key::from_hex(&fs::read_to_string(&k0).unwrap()).unwrap();
        assert!(kl == master.derive(l), "derive-key --level {level}");
        let opts = jsec::fspe::Options {
            levels: true,
            ..Default::default()
        };
        let mut want = fs::read(&enc).unwrap();
        jsec::fspe::Cipher::new(kl, opts)
            .unwrap()
            .with_key_level(l)
            .unwrap()
            .decrypt(&mut want)
            .unwrap();
        assert!(
            d == want,
            "level {level} preview differs from the library's"
        );
        outs.push(d);
    }
    assert_ne!(outs[0], outs[1], "k1 restores more than k2");
    let dec = dir.path().join("dec.jpg");
    let o = jsec(&["decrypt", "--levels", "--key", p(&k0), p(&enc), p(&dec)]);
    assert_eq!(code(&o), 0);
    assert_eq!(fs::read(&dec).unwrap(), original);
}

// ---- a tiny JSON parser, enough to check `info --json` ----

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(f) => f
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no key {key:?} in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => panic!("not an array: {self:?}"),
        }
    }
    fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            _ => panic!("not a number: {self:?}"),
        }
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = Parser {
            b: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.b.len() {
            return Err(format!("trailing data at {}", p.i));
        }
        Ok(v)
    }
    fn ws(&mut self) {
        while self.i < self.b.len() && b" \t\r\n".contains(&self.b[self.i]) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.i))
        }
    }
    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'n') => self.lit("null", Json::Null),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(v));
                        }
                        _ => return Err(format!("bad array at {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(v));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    let val = self.value()?;
                    if v.iter().any(|(kk, _)| *kk == k) {
                        return Err(format!("duplicate key {k}"));
                    }
                    v.push((k, val));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(v));
                        }
                        _ => return Err(format!("bad object at {}", self.i)),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.b.len() && b"+-.eE0123456789".contains(&self.b[self.i]) {
                    self.i += 1;
                }
                let s = std::str::from_utf8(&self.b[start..self.i]).map_err(|e| e.to_string())?;
                s.parse()
                    .map(Json::Num)
                    .map_err(|_| format!("bad number {s}"))
            }
            _ => Err(format!("unexpected input at {}", self.i)),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        if self.b.get(self.i) != Some(&b'"') {
            return Err(format!("expected string at {}", self.i));
        }
        self.i += 1;
        let mut out = String::new();
        loop {
            let c = *self.b.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = *self.b.get(self.i).ok_or("bad escape")?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let h = std::str::from_utf8(
                                self.b.get(self.i..self.i + 4).ok_or("bad \\u")?,
                            )
                            .map_err(|e| e.to_string())?;
                            let n = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
                            out.push(char::from_u32(n).ok_or("bad code point")?);
                            self.i += 4;
                        }
                        _ => return Err("bad escape".into()),
                    }
                }
                c if c < 0x20 => return Err("control character in string".into()),
                _ => {
                    // Copy one UTF-8 sequence.
                    let start = self.i - 1;
                    let len = match c {
                        0x00..=0x7F => 1,
                        0xC0..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        _ => 4,
                    };
                    let s = std::str::from_utf8(self.b.get(start..start + len).ok_or("bad utf-8")?)
                        .map_err(|e| e.to_string())?;
                    out.push_str(s);
                    self.i = start + len;
                }
            }
        }
    }
}

#[test]
fn json_parser_self_check() {
    let v =
        Parser::parse(r#" {"a": [1, -2.5e1, true, null], "b": "x\"\u00e9\n", "c": {}} "#).unwrap();
    assert_eq!(v.get("a").arr()[1].num(), -25.0);
    assert_eq!(v.get("b").str(), "x\"é\n");
    assert!(Parser::parse("{\"a\": 1,}").is_err());
    assert!(Parser::parse("[1 2]").is_err());
    assert!(Parser::parse("{\"a\":1,\"a\":2}").is_err());
}

#[test]
fn demo_then_info_json_shows_the_encrypted_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = jsec(&["demo", "--out-dir", p(&demo)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for needle in [
        "sizes equal",
        "decodes",
        "thumbnail encrypted",
        "EXIF enciphered in place",
        "GPSLatitude",
        "kept readable: DateTime, DateTimeOriginal",
        "identical bytes",
        "SHA-256",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    for f in [
        "original.jpg",
        "encrypted.jpg",
        "decrypted.jpg",
        "preview-k2.jpg",
        "key.hex",
    ] {
        assert!(demo.join(f).is_file(), "{f}");
    }
    let original = fs::read(demo.join("original.jpg")).unwrap();
    assert_eq!(fs::read(demo.join("decrypted.jpg")).unwrap(), original);
    assert_eq!(
        fs::read(demo.join("encrypted.jpg")).unwrap().len(),
        original.len()
    );

    // The key it wrote decrypts its encrypted file through the CLI.
    let again = dir.path().join("again.jpg");
    let o = jsec(&[
        "decrypt",
        "--exif",
        "--key",
        p(&demo.join("key.hex")),
        p(&demo.join("encrypted.jpg")),
        p(&again),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::read(&again).unwrap(), original);
    // --exif is an option like the others: without it the bytes differ.
    let o = jsec(&[
        "decrypt",
        "--key",
        p(&demo.join("key.hex")),
        p(&demo.join("encrypted.jpg")),
        p(&again),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_ne!(fs::read(&again).unwrap(), original);

    let bad = dir.path().join("bad.jpg");
    fs::write(&bad, b"\xFF\xD8\xFF").unwrap();
    let o = jsec(&["info", "--json", p(&demo.join("original.jpg")), p(&bad)]);
    assert_eq!(code(&o), 2, "a bad file makes the exit code 2");
    let doc = Parser::parse(&stdout(&o)).unwrap_or_else(|e| panic!("{e}:\n{}", stdout(&o)));
    assert_eq!(doc.get("schema").num(), 1.0);
    let files = doc.get("files").arr();
    assert_eq!(files.len(), 2);
    let f = &files[0];
    assert_eq!(f.get("ok"), &Json::Bool(true));
    assert_eq!(f.get("size").num(), original.len() as f64);
    let images = f.get("images").arr();
    assert_eq!(images.len(), 2, "primary + EXIF thumbnail");
    let primary = &images[0];
    assert_eq!(primary.get("location").str(), "primary");
    assert_eq!(primary.get("width").num(), 1024.0);
    assert_eq!(primary.get("height").num(), 768.0);
    assert_eq!(primary.get("subsampling").str(), "4:2:0");
    assert_eq!(primary.get("frame").str(), "SOF0 (baseline)");
    let bits = primary.get("bits");
    assert!(bits.get("eligible_full").num() >= bits.get("eligible_paper").num());
    assert!(bits.get("additional").num() >= bits.get("eligible_full").num());
    assert!(bits.get("eligible_full_pct").num() > 50.0);
    let thumb = &images[1];
    assert_eq!(thumb.get("location").str(), "segment");
    assert_eq!(thumb.get("segment").get("marker").str(), "APP1");
    assert_eq!(thumb.get("segment").get("identifier").str(), "Exif");
    assert_eq!(thumb.get("width").num(), 160.0);
    assert_eq!(thumb.get("encryptable"), &Json::Bool(true));
    assert_eq!(thumb.get("problem"), &Json::Null);
    assert_eq!(f.get("trailing_bytes").num(), 0.0);
    let b = &files[1];
    assert_eq!(b.get("ok"), &Json::Bool(false));
    assert!(!b.get("error").get("kind").str().is_empty());
    assert!(stderr(&o).starts_with(&format!("jsec: {}: ", p(&bad))));

    // Text mode.
    let o = jsec(&["info", p(&demo.join("encrypted.jpg"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let t = stdout(&o);
    for needle in [
        "1024x768",
        "4:2:0",
        "eligible paper",
        "eligible full",
        "APP1 \"Exif\"",
        "trailing bytes: 0",
    ] {
        assert!(t.contains(needle), "{needle:?} missing from:\n{t}");
    }
}

#[test]
fn corpus_photo_round_trip_when_present() {
    let root = std::env::var_os("JSEC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let corpus = root.join("real/fujifilm-mx1700.jpg");
    let Ok(original) = fs::read(&corpus) else {
        println!("note: {} not present; skipped", corpus.display());
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "k.hex");
    let enc = dir.path().join("e.jpg");
    let dec = dir.path().join("d.jpg");
    let o = jsec(&["encrypt", "--key", p(&key), p(&corpus), p(&enc)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let e = fs::read(&enc).unwrap();
    assert_eq!(e.len(), original.len(), "size preserved");
    assert_ne!(e, original, "encryption changed nothing");
    let o = jsec(&["decrypt", "--key", p(&key), p(&enc), p(&dec)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(fs::read(&dec).unwrap(), original);
    let o = jsec(&["info", "--json", p(&corpus)]);
    assert_eq!(code(&o), 0);
    let doc = Parser::parse(&stdout(&o)).unwrap();
    let images = doc.get("files").arr()[0].get("images").arr();
    assert!(images.len() >= 2, "EXIF thumbnail found");
}

#[test]
fn exif_classes_on_the_command_line_and_in_info() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    assert_eq!(code(&jsec(&["demo", "--out-dir", p(&demo)])), 0);
    let (orig, key) = (demo.join("original.jpg"), demo.join("key.hex"));
    let original = fs::read(&orig).unwrap();

    let o = jsec(&["info", p(&orig)]);
    let t = stdout(&o);
    for needle in [
        "sensitive EXIF: 10 fields",
        "gps: GPSLatitudeRef, GPSLatitude",
        "identity: Artist, BodySerialNumber",
        "dates: DateTime, DateTimeOriginal",
    ] {
        assert!(t.contains(needle), "{needle:?} missing from:\n{t}");
    }
    let o = jsec(&["info", "--json", p(&orig)]);
    let doc = Parser::parse(&stdout(&o)).unwrap();
    let fields = doc.get("files").arr()[0].get("sensitive_exif").arr();
    assert_eq!(fields.len(), 10);
    assert_eq!(fields[0].get("class").str(), "dates");

    // --exif=gps changes fewer bytes than --exif (gps,identity), which
    // changes fewer than --exif=gps,identity,dates; each decrypts back with
    // the same flag.
    let mut changed = Vec::new();
    for flag in ["--exif=gps", "--exif", "--exif=gps,identity,dates"] {
        let (enc, back) = (dir.path().join("e.jpg"), dir.path().join("d.jpg"));
        let o = jsec(&["encrypt", flag, "--key", p(&key), p(&orig), p(&enc)]);
        assert_eq!(code(&o), 0, "{flag}: {}", stderr(&o));
        let o = jsec(&["decrypt", flag, "--key", p(&key), p(&enc), p(&back)]);
        assert_eq!(code(&o), 0, "{flag}: {}", stderr(&o));
        assert_eq!(fs::read(&back).unwrap(), original, "{flag}");
        // Changed bytes inside the sensitive values `info` listed.
        let e = fs::read(&enc).unwrap();
        let n: usize = fields
            .iter()
            .map(|f| {
                let (a, len) = (
                    f.get("offset").num() as usize,
                    f.get("length").num() as usize,
                );
                (a..a + len).filter(|&i| e[i] != original[i]).count()
            })
            .sum();
        changed.push(n);
    }
    assert!(
        changed[0] > 0 && changed[0] < changed[1] && changed[1] < changed[2],
        "{changed:?}"
    );

    // A space instead of '=' is explained, not taken for a missing file.
    let o = jsec(&[
        "encrypt",
        "--exif",
        "gps,dates",
        "--key",
        p(&key),
        p(&orig),
        p(&dir.path().join("x.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--exif=gps,dates"), "{}", stderr(&o));

    let o = jsec(&[
        "encrypt",
        "--exif=planets",
        "--key",
        p(&key),
        p(&orig),
        p(&dir.path().join("x.jpg")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("planets"), "{}", stderr(&o));
}
