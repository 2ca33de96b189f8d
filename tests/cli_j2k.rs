//! `jsec j2k index`: text and JSON output on corpus files, errors on bad
//! input.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_jsec");

#[test]
fn index_json_and_text() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/generated/j2k/c1024-RPCL-sop-eph-prec-t512.j2k");
    if !p.exists() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let o = Command::new(BIN)
        .args(["j2k", "index", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let data = std::fs::read(&p).unwrap();
    let f = jsec::j2k::J2kFile::parse(&data).unwrap();
    let ix = jsec::j2k::PacketIndex::build(&f.codestream, &data).unwrap();
    assert_eq!(out.matches("\"seq\":").count(), ix.packets.len());
    for key in [
        "\"tile\":",
        "\"layer\":",
        "\"resolution\":",
        "\"component\":",
        "\"precinct\":",
        "\"offset\":",
        "\"length\":",
        "\"header_length\":",
        "\"body_offset\":",
        "\"body_length\":",
    ] {
        assert_eq!(out.matches(key).count(), ix.packets.len(), "{key}");
    }
    let last = ix.packets.last().unwrap();
    assert!(out.contains(&format!("\"body_offset\": {}", last.body_offset)));
    assert!(out.contains("\"progression\": \"RPCL\""));
    let o = Command::new(BIN)
        .args(["j2k", "index"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 2 + ix.packets.len());
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains(&format!("{} packets", ix.packets.len())));
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.j2k");
    std::fs::write(&f, b"\xFF\x4F\xFF\x51\x00\x05").unwrap();
    let o = Command::new(BIN)
        .args(["j2k", "index"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("x.j2k") && err.contains("SIZ"), "{err}");
}

#[test]
fn transcode_writes_a_smaller_valid_file() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/generated/j2k/c1024-LRCP-n6-3L.jp2");
    if !p.exists() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.jp2");
    let o = Command::new(BIN)
        .args(["j2k", "transcode", "--reduce", "2", "--layers", "1"])
        .arg(&p)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let data = std::fs::read(&out).unwrap();
    let f = jsec::j2k::J2kFile::parse(&data).unwrap();
    assert_eq!(f.codestream.siz.width, 256);
    assert_eq!(f.codestream.cod.layers, 1);
    assert!(data.len() < std::fs::metadata(&p).unwrap().len() as usize / 4);
    // Too many levels: exit 2, a message, no output.
    let bad = dir.path().join("x.jp2");
    let o = Command::new(BIN)
        .args(["j2k", "transcode", "--reduce", "9"])
        .arg(&p)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("decomposition level"));
    assert!(!bad.exists());
}
