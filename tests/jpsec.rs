//! JPSEC over the whole J2K / JP2 corpus: protect → consume gives the
//! original bytes for every tool and granularity; format-compliant output
//! is compliant and decodes with `opj_decompress`; level keys open exactly
//! their levels; transcode-then-consume equals consume-then-transcode;
//! tampering is detected and named.

mod common;

use jsec::crypto::mac::{HashAlg, MacAlg};
use jsec::crypto::modes::Mode;
use jsec::j2k::transcode::TranscodeOptions;
use jsec::j2k::{J2kFile, PacketIndex};
use jsec::jpsec::{
    consume, protect, ConsumeOptions, Granularity, ImageZone, JpsecKey, Levels, ProtectOptions,
    Region, ToolSpec, UnitStatus,
};
use jsec::ErrorKind;

fn k0(len: usize) -> JpsecKey {
    JpsecKey::from_bytes(
        &(0..len as u8)
            .map(|i| i.wrapping_mul(37) ^ 0x5A)
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

fn enc(mode: Mode, compliant: bool, levels: Levels, zone: ImageZone) -> ToolSpec {
    ToolSpec::Encrypt {
        key: k0(32),
        mode,
        compliant,
        levels,
        zone,
    }
}

fn mac(g: Granularity, levels: Levels) -> ToolSpec {
    ToolSpec::Mac {
        key: k0(32),
        alg: MacAlg::HmacSha256,
        granularity: g,
        levels,
        zone: ImageZone::default(),
    }
}

fn opts(tools: Vec<ToolSpec>) -> ProtectOptions {
    ProtectOptions {
        tools,
        iv: Some([7; 16]),
    }
}

fn keys(ks: Vec<JpsecKey>) -> ConsumeOptions {
    ConsumeOptions {
        keys: ks,
        public_keys: vec![],
    }
}

/// Every packet body of `data` is compliant: no 0xFF followed by a byte
/// above 0x8F, no trailing 0xFF.
fn bodies_compliant(data: &[u8]) -> Result<(), String> {
    let f = J2kFile::parse(data).map_err(|e| e.to_string())?;
    let ix = PacketIndex::build(&f.codestream, data).map_err(|e| e.to_string())?;
    for p in &ix.packets {
        let b = &data[p.body_offset..p.body_offset + p.body_length];
        if b.last() == Some(&0xFF) {
            return Err(format!("packet {} ends with 0xFF", p.seq));
        }
        if let Some(i) = b.windows(2).position(|w| w[0] == 0xFF && w[1] > 0x8F) {
            return Err(format!("packet {}: FF {:02X} at {i}", p.seq, b[i + 1]));
        }
    }
    Ok(())
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    common::j2k_corpus_files(false)
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn round_trip_every_corpus_file_every_configuration() {
    let files = corpus();
    if files.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let configs: Vec<(&str, Vec<ToolSpec>)> = vec![
        (
            "ctr",
            vec![enc(Mode::Ctr, true, Levels::Single, ImageZone::default())],
        ),
        (
            "ofb+levels-res+hmac-res",
            vec![
                enc(
                    Mode::Ofb,
                    true,
                    Levels::Resolution(None),
                    ImageZone::default(),
                ),
                mac(Granularity::Resolution, Levels::Resolution(None)),
            ],
        ),
        (
            "cfb+levels-layer+hmac-layer",
            vec![
                enc(Mode::Cfb, true, Levels::Layer(None), ImageZone::default()),
                mac(Granularity::Layer, Levels::Layer(None)),
            ],
        ),
        (
            "cbc-noncompliant+hash-packet",
            vec![
                enc(Mode::Cbc, false, Levels::Single, ImageZone::default()),
                ToolSpec::Hash {
                    alg: HashAlg::Sha1,
                    granularity: Granularity::Packet,
                    zone: ImageZone::default(),
                },
            ],
        ),
        (
            "ecb-noncompliant+cbcmac-precinct",
            vec![
                enc(Mode::Ecb, false, Levels::Single, ImageZone::default()),
                ToolSpec::Mac {
                    key: k0(16),
                    alg: MacAlg::CbcMacAes,
                    granularity: Granularity::Precinct,
                    levels: Levels::Single,
                    zone: ImageZone::default(),
                },
            ],
        ),
        (
            "region+ripemd-tile+content-id",
            vec![
                enc(
                    Mode::Ctr,
                    true,
                    Levels::Single,
                    ImageZone {
                        region: Some((
                            Region {
                                x0: 8,
                                y0: 8,
                                x1: 40,
                                y1: 40,
                            },
                            false,
                        )),
                        ..ImageZone::default()
                    },
                ),
                ToolSpec::Mac {
                    key: k0(24),
                    alg: MacAlg::HmacRipemd160,
                    granularity: Granularity::Tile,
                    levels: Levels::Single,
                    zone: ImageZone::default(),
                },
                ToolSpec::ContentId {
                    id: "urn:example:42".into(),
                    authority: "Example RA".into(),
                    alg: HashAlg::Sha256,
                },
            ],
        ),
        (
            "precincts+packets+bytes zones",
            vec![
                enc(
                    Mode::Ofb,
                    true,
                    Levels::Single,
                    ImageZone {
                        precincts: Some((0, 1)),
                        packets: Some(vec![(0, 5), (9, 40)]),
                        ..ImageZone::default()
                    },
                ),
                enc(
                    Mode::Ctr,
                    false,
                    Levels::Single,
                    ImageZone {
                        bytes: Some(vec![(0, 300), (2000, 1)]),
                        ..ImageZone::default()
                    },
                ),
                ToolSpec::Hash {
                    alg: HashAlg::Sha256,
                    granularity: Granularity::Precinct,
                    zone: ImageZone {
                        layers: Some((0, 0)),
                        components: Some((0, 0)),
                        ..ImageZone::default()
                    },
                },
            ],
        ),
        (
            "outside-region+hmac-sha1-component",
            vec![
                enc(
                    Mode::Ctr,
                    true,
                    Levels::Single,
                    ImageZone {
                        region: Some((
                            Region {
                                x0: 0,
                                y0: 0,
                                x1: 64,
                                y1: 64,
                            },
                            true,
                        )),
                        ..ImageZone::default()
                    },
                ),
                ToolSpec::Mac {
                    key: k0(32),
                    alg: MacAlg::HmacSha1,
                    granularity: Granularity::Component,
                    levels: Levels::Single,
                    zone: ImageZone::default(),
                },
            ],
        ),
    ];
    let mut fails = Vec::new();
    for (name, data) in &files {
        for (cname, tools) in &configs {
            let tag = format!("{name} [{cname}]");
            let key_len = match &tools[0] {
                ToolSpec::Encrypt { key, .. } => key.len(),
                _ => 32,
            };
            let _ = key_len;
            let p = match protect(data, &opts(tools.clone())) {
                Ok(p) => p,
                Err(e) => {
                    fails.push(format!("{tag}: protect: {e}"));
                    continue;
                }
            };
            let compliant = tools.iter().all(|t| {
                !matches!(
                    t,
                    ToolSpec::Encrypt {
                        compliant: false,
                        ..
                    }
                )
            });
            if compliant {
                if let Err(e) = bodies_compliant(&p) {
                    fails.push(format!("{tag}: not compliant: {e}"));
                }
            }
            let mut ks = vec![k0(32)];
            if cname.contains("cbcmac") {
                ks.push(k0(16));
            }
            if cname.contains("ripemd") {
                ks.push(k0(24));
            }
            match consume(&p, &keys(ks)) {
                Ok(c) => {
                    if c.report.failed() {
                        fails.push(format!("{tag}: {:?}", c.report.failures()));
                    } else if !c.complete {
                        fails.push(format!("{tag}: not complete"));
                    } else if c.output.as_deref() != Some(&data[..]) {
                        fails.push(format!("{tag}: consumed bytes differ from the original"));
                    }
                }
                Err(e) => fails.push(format!("{tag}: consume: {e}")),
            }
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn compliant_output_decodes_with_opj_decompress() {
    if !common::have_tool("opj_decompress") {
        eprintln!("opj_decompress not found: skipped");
        return;
    }
    let files = corpus();
    let dir = tempfile::tempdir().unwrap();
    let mut fails = Vec::new();
    for (name, data) in &files {
        let p = protect(
            data,
            &opts(vec![
                enc(
                    Mode::Ctr,
                    true,
                    Levels::Resolution(None),
                    ImageZone::default(),
                ),
                mac(Granularity::Resolution, Levels::Resolution(None)),
            ]),
        )
        .unwrap();
        let ext = if J2kFile::parse(data).unwrap().boxes.is_some() {
            "jp2"
        } else {
            "j2k"
        };
        let input = dir.path().join(format!("p.{ext}"));
        std::fs::write(&input, &p).unwrap();
        let out = dir.path().join("p.ppm");
        let o = std::process::Command::new("opj_decompress")
            .arg("-i")
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let text =
            String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
        if !o.status.success() || text.contains("ERROR") {
            fails.push(format!("{name}: opj_decompress failed: {text}"));
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn level_keys_open_their_levels_and_transcoding_commutes() {
    let files = corpus();
    let mut fails = Vec::new();
    for (name, data) in &files {
        let p = protect(
            data,
            &opts(vec![
                enc(
                    Mode::Ctr,
                    true,
                    Levels::Resolution(None),
                    ImageZone::default(),
                ),
                mac(Granularity::Resolution, Levels::Resolution(None)),
            ]),
        )
        .unwrap();
        // The deepest key opens only the lowest resolution.
        let sec_levels = {
            let l = jsec::jpsec::zone::Layout::new(&p).unwrap();
            let s = jsec::jpsec::consume::read_sec(&l).unwrap().unwrap();
            match &s.tools[0].params {
                jsec::jpsec::syntax::Params::Decryption(d) => d.keys.levels(),
                _ => unreachable!(),
            }
        };
        let last = k0(32).derive(sec_levels - 1);
        let c = consume(&p, &keys(vec![last])).unwrap();
        let dec = &c.report.tools[0];
        if dec
            .units
            .iter()
            .any(|u| (u.status == UnitStatus::Decrypted) != (u.level as usize == sec_levels - 1))
        {
            fails.push(format!("{name}: the last-level key opened other levels"));
        }
        if c.complete == dec.units.iter().any(|u| u.status == UnitStatus::Locked) {
            fails.push(format!(
                "{name}: complete is {} with locked packets",
                c.complete
            ));
        }
        // Partial output, then the full key: the original.
        let part = c.output.unwrap();
        let full = if c.complete {
            Some(part)
        } else {
            consume(&part, &keys(vec![k0(32)])).unwrap().output
        };
        if full.as_deref() != Some(&data[..]) {
            fails.push(format!("{name}: partial then full consume differs"));
        }
        // Transcode-then-consume equals consume-then-transcode.
        let nl = J2kFile::parse(data).unwrap().codestream.cod.style.levels;
        for t in [
            TranscodeOptions {
                reduce: 1.min(nl),
                layers: None,
                tiles: None,
            },
            TranscodeOptions {
                reduce: 0,
                layers: Some(1),
                tiles: None,
            },
        ] {
            let a = match jsec::jpsec::transcode::transcode(&p, &t) {
                Ok(a) => a,
                // What the plain transcoder refuses (odd tile sizes).
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Unsupported | ErrorKind::InvalidArgument
                    ) =>
                {
                    assert!(
                        jsec::j2k::transcode::transcode(data, &t).is_err()
                            || e.kind() == ErrorKind::Unsupported
                    );
                    continue;
                }
                Err(e) => {
                    fails.push(format!("{name} {t:?}: transcode protected: {e}"));
                    continue;
                }
            };
            let b = jsec::j2k::transcode::transcode(data, &t).unwrap();
            match consume(&a, &keys(vec![k0(32)])) {
                Ok(c) if c.output.as_deref() == Some(&b[..]) && !c.report.failed() => {}
                Ok(c) => fails.push(format!(
                    "{name} {t:?}: consume(transcode) != transcode(original): {:?}",
                    c.report.failures()
                )),
                Err(e) => fails.push(format!("{name} {t:?}: consume transcoded: {e}")),
            }
        }
    }
    common::assert_no_failures(&fails);
}

#[test]
fn tampering_is_detected_and_named() {
    let files = corpus();
    let Some((name, data)) = files.iter().find(|(n, _)| n == "p1_01.j2k") else {
        eprintln!("p1_01.j2k not found: skipped");
        return;
    };
    let p = protect(
        data,
        &opts(vec![
            enc(Mode::Ctr, true, Levels::Single, ImageZone::default()),
            mac(Granularity::Packet, Levels::Single),
        ]),
    )
    .unwrap();
    let l = jsec::jpsec::zone::Layout::new(&p).unwrap();
    // Flip one bit in every non-empty body: always detected, and named.
    let mut checked = 0;
    for pk in &l.index.packets {
        if pk.body_length == 0 {
            continue;
        }
        let mut t = p.clone();
        t[pk.body_offset + pk.body_length / 2] ^= 0x01;
        let c = consume(&t, &keys(vec![k0(32)])).unwrap();
        assert!(
            c.output.is_none(),
            "{name}: tampered packet {} consumed",
            pk.seq
        );
        let f = c.report.failures();
        let want = format!(
            "tile {} layer {} resolution {}",
            pk.tile, pk.id.layer, pk.id.resolution
        );
        assert!(
            f.iter().any(|m| m.contains(&want)),
            "{name}: failure does not name {want}: {f:?}"
        );
        checked += 1;
    }
    assert!(checked > 5);
    // Wrong key: an error, never output.
    let wrong = JpsecKey::from_bytes(&[9; 32]).unwrap();
    let e = consume(&p, &keys(vec![wrong])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadKey);
    // Every single-byte change in the SEC segments: refused or detected.
    let sec_at = p.windows(2).position(|w| w == [0xFF, 0x65]).unwrap();
    let lsec = u16::from_be_bytes([p[sec_at + 2], p[sec_at + 3]]) as usize;
    for i in sec_at + 4..sec_at + 2 + lsec {
        let mut t = p.clone();
        t[i] ^= 0x04;
        match consume(&t, &keys(vec![k0(32)])) {
            Err(_) => {}
            Ok(c) => assert!(
                c.output.is_none() || c.output.as_deref() == Some(&data[..]),
                "{name}: SEC byte {} changed, consumed to something else",
                i - sec_at
            ),
        }
    }
}

#[test]
fn signatures_authenticate_what_a_transcoder_keeps() {
    use jsec::crypto::longterm::LongTermSecret;
    use jsec::jpsec::syntax::SignatureScheme;
    let files = corpus();
    let Some((name, data)) = files
        .iter()
        .find(|(n, _)| n == "c1024-RPCL-sop-eph-prec-t512.j2k")
    else {
        eprintln!("corpus file not found: skipped");
        return;
    };
    let ec = LongTermSecret::generate_ecdsa_p256();
    let rsa = LongTermSecret::generate_rsa(2048).unwrap();
    let other = LongTermSecret::generate_ecdsa_p256();
    for (key, scheme) in [
        (&ec, SignatureScheme::EcdsaP256),
        (&rsa, SignatureScheme::RsaPss),
        (&rsa, SignatureScheme::RsaPkcs1v15),
    ] {
        let tag = format!("{name} {}", scheme.name());
        let p = protect(
            data,
            &opts(vec![
                enc(Mode::Ctr, true, Levels::Single, ImageZone::default()),
                ToolSpec::Sign {
                    key: key.clone().into(),
                    scheme,
                    hash: HashAlg::Sha256,
                    granularity: Granularity::Resolution,
                    zone: ImageZone::default(),
                },
            ]),
        )
        .unwrap();
        let with = |pk: &LongTermSecret| ConsumeOptions {
            keys: vec![k0(32)],
            public_keys: vec![pk.public_key()],
        };
        let c = consume(&p, &with(key)).unwrap();
        assert!(!c.report.failed(), "{tag}: {:?}", c.report.failures());
        assert_eq!(c.report.tools[1].outcome, "signature valid", "{tag}");
        assert_eq!(c.output.as_deref(), Some(&data[..]), "{tag}");
        // Another signer's key: failed, nothing written.
        let c = consume(&p, &with(&other)).unwrap();
        assert!(c.output.is_none() && c.report.failed(), "{tag}");
        // No public key: decrypts, says the signature was not checked.
        let c = consume(&p, &keys(vec![k0(32)])).unwrap();
        assert!(c.report.tools[1].outcome.contains("no public key"), "{tag}");
        // The wrong scheme byte is caught by the signature itself.
        // A body changed: the unit named.
        let l = jsec::jpsec::zone::Layout::new(&p).unwrap();
        let pk = l
            .index
            .packets
            .iter()
            .max_by_key(|p| p.body_length)
            .unwrap();
        let mut t = p.clone();
        t[pk.body_offset + 3] ^= 0x02;
        let c = consume(&t, &with(key)).unwrap();
        let f = c.report.failures();
        assert!(c.output.is_none(), "{tag}");
        assert!(
            f.iter()
                .any(|m| m.contains(&format!("tile {} resolution {}", pk.tile, pk.id.resolution))),
            "{tag}: {f:?}"
        );
        // Reduced by a transcoder without keys: still authentic.
        let r = jsec::jpsec::transcode::transcode(
            &p,
            &TranscodeOptions {
                reduce: 2,
                layers: None,
                tiles: None,
            },
        )
        .unwrap();
        let c = consume(&r, &with(key)).unwrap();
        assert!(!c.report.failed(), "{tag}: {:?}", c.report.failures());
        let sig = &c.report.tools[1];
        assert!(sig.count(UnitStatus::Verified) > 0, "{tag}");
        assert!(sig.count(UnitStatus::Absent) > 0, "{tag}");
        assert_eq!(sig.count(UnitStatus::Incomplete), 0, "{tag}");
    }
}

/// Build SEC segments by hand around a real codestream.
fn with_sec(data: &[u8], segs: &[u8]) -> Vec<u8> {
    let f = J2kFile::parse(data).unwrap();
    let siz = f
        .codestream
        .main
        .iter()
        .find(|s| s.marker == 0xFF51)
        .unwrap();
    let end = siz.offset + siz.bytes(data).len();
    let mut v = data[..end].to_vec();
    v.extend_from_slice(segs);
    v.extend_from_slice(&data[end..]);
    v
}

#[test]
fn malformed_sec_segments_are_named() {
    let files = corpus();
    let Some((_, data)) = files.iter().find(|(n, _)| n == "p0_01.j2k") else {
        eprintln!("p0_01.j2k not found: skipped");
        return;
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Not our profile.
        (
            vec![0xFF, 0x65, 0, 8, 0, 0, b'A', b'B', b'C', b'D'],
            "not the jsec JPSEC profile",
        ),
        // Truncated stream.
        (
            vec![0xFF, 0x65, 0, 8, 0, 0, b'J', b'P', b'S', b'P'],
            "truncated",
        ),
        // Zsec not starting at 0.
        (vec![0xFF, 0x65, 0, 8, 1, 0, b'J', b'P', b'S', b'P'], "Zsec"),
        // Npad of 2.
        (vec![0xFF, 0x65, 0, 8, 0, 2, b'J', b'P', b'S', b'P'], "Npad"),
        // Unstuffed 0xFF.
        (
            vec![0xFF, 0x65, 0, 8, 0, 0, b'J', b'P', 0xFF, 0x01],
            "stuffing",
        ),
        // Future version.
        (
            vec![0xFF, 0x65, 0, 10, 0, 0, b'J', b'P', b'S', b'P', 9, 0],
            "version 9",
        ),
    ];
    for (segs, want) in cases {
        let f = with_sec(data, &segs);
        let e = consume(&f, &keys(vec![k0(32)])).unwrap_err();
        assert!(
            e.message().contains(want),
            "{want}: got \"{}\"",
            e.message()
        );
        assert!(matches!(
            e.kind(),
            ErrorKind::Malformed | ErrorKind::Unsupported
        ));
    }
    // A protected file's SEC moved after COD: refused, named.
    let p = protect(
        data,
        &opts(vec![enc(
            Mode::Ctr,
            true,
            Levels::Single,
            ImageZone::default(),
        )]),
    )
    .unwrap();
    let f = J2kFile::parse(&p).unwrap();
    let main = &f.codestream.main;
    let sec = main.iter().find(|s| s.marker == 0xFF65).unwrap();
    let cod = main.iter().find(|s| s.marker == 0xFF52).unwrap();
    let sec_bytes = sec.bytes(&p).to_vec();
    let cod_bytes = cod.bytes(&p).to_vec();
    let mut moved = p[..sec.offset].to_vec();
    moved.extend_from_slice(&p[sec.offset + sec_bytes.len()..cod.offset + cod_bytes.len()]);
    moved.extend_from_slice(&sec_bytes);
    moved.extend_from_slice(&p[cod.offset + cod_bytes.len()..]);
    let e = consume(&moved, &keys(vec![k0(32)])).unwrap_err();
    assert!(
        e.message().contains("not directly after SIZ"),
        "{}",
        e.message()
    );
}

#[test]
fn whole_packets_round_trip_and_refuse_keyless_transcoding() {
    let files = corpus();
    let mut fails = Vec::new();
    let (mut done, mut packed) = (0, 0);
    for (name, data) in &files {
        let tools = vec![
            mac(Granularity::Resolution, Levels::Resolution(None)),
            ToolSpec::EncryptPackets {
                key: k0(32),
                mode: Mode::Cbc,
                levels: Levels::Resolution(None),
                zone: ImageZone {
                    resolutions: Some((1, 32)),
                    ..ImageZone::default()
                },
            },
        ];
        let p = match protect(data, &opts(tools)) {
            Ok(p) => p,
            Err(e) if e.kind() == ErrorKind::Unsupported && e.message().contains("PPM / PPT") => {
                packed += 1;
                continue;
            }
            Err(e) => {
                fails.push(format!("{name}: protect: {e}"));
                continue;
            }
        };
        let f = J2kFile::parse(data).unwrap();
        let ix = PacketIndex::build(&f.codestream, data).unwrap();
        if !ix.packets.iter().any(|p| p.id.resolution >= 1) {
            continue; // nothing in the zone
        }
        done += 1;
        // Keyless transcoding is refused, by name.
        let t = TranscodeOptions {
            reduce: 0,
            layers: Some(1),
            tiles: None,
        };
        match jsec::jpsec::transcode::transcode(&p, &t) {
            Err(e) if e.message().contains("encrypts whole packets") => {}
            other => fails.push(format!("{name}: transcode: {:?}", other.map(|v| v.len()))),
        }
        // Without keys: nothing checked, nothing opened.
        let c = consume(&p, &ConsumeOptions::default()).unwrap();
        if c.complete || !c.report.tools[0].outcome.contains("not checked") {
            fails.push(format!(
                "{name}: keyless consume: {:?}",
                c.report.tools[0].outcome
            ));
        }
        // k0: the original.
        match consume(&p, &keys(vec![k0(32)])) {
            Ok(c) if c.output.as_deref() == Some(&data[..]) && !c.report.failed() => {}
            Ok(c) => fails.push(format!("{name}: k0 consume: {:?}", c.report.failures())),
            Err(e) => fails.push(format!("{name}: k0 consume: {e}")),
        }
        // A changed encrypted header byte: caught (by the MAC, or the
        // index, or the ZOI check), never silently consumed.
        if let Some(pk) = ix
            .packets
            .iter()
            .find(|p| p.id.resolution >= 1 && p.header_length > 2)
        {
            let mut t = p.clone();
            t[pk.offset + if pk.sop { 6 } else { 0 }] ^= 0x10;
            if let Ok(c) = consume(&t, &keys(vec![k0(32)])) {
                if c.output.as_deref() == Some(&data[..]) || !c.report.failed() {
                    fails.push(format!("{name}: a changed header went through"));
                }
            }
        }
    }
    common::assert_no_failures(&fails);
    if !files.is_empty() {
        assert!(
            done > 10,
            "{done} files protected, {packed} with packed headers"
        );
    }
}

/// An external signer (an HSM stand-in) that answers ECDSA in DER and
/// supports no PKCS#1 v1.5.
struct Hsm(jsec::crypto::longterm::LongTermSecret);

impl jsec::crypto::longterm::LongTermSigner for Hsm {
    fn public_key(&self) -> jsec::Result<jsec::crypto::longterm::LongTermPublic> {
        Ok(self.0.public_key())
    }
    fn sign(&self, message: &[u8]) -> jsec::Result<Vec<u8>> {
        let rs = self.0.sign(message)?;
        // r ‖ s as a DER ECDSA-Sig-Value.
        let int = |x: &[u8]| {
            let x: Vec<u8> = x.iter().copied().skip_while(|&b| b == 0).collect();
            let mut v = if x.first().is_some_and(|&b| b & 0x80 != 0) {
                vec![0]
            } else {
                vec![]
            };
            v.extend(x);
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let body = [int(&rs[..32]), int(&rs[32..])].concat();
        let mut der = vec![0x30, body.len() as u8];
        der.extend(body);
        Ok(der)
    }
}

#[test]
fn external_signers_are_verified_before_use() {
    use jsec::crypto::longterm::LongTermSecret;
    use jsec::jpsec::syntax::SignatureScheme;
    use jsec::jpsec::Signer;
    use std::sync::Arc;
    let files = corpus();
    let Some((_, data)) = files.iter().find(|(n, _)| n == "p1_01.j2k") else {
        eprintln!("p1_01.j2k not found: skipped");
        return;
    };
    let k = LongTermSecret::generate_ecdsa_p256();
    let sign = |signer: Signer, scheme| {
        protect(
            data,
            &opts(vec![ToolSpec::Sign {
                key: signer,
                scheme,
                hash: HashAlg::Sha256,
                granularity: Granularity::Layer,
                zone: ImageZone::default(),
            }]),
        )
    };
    // DER from the HSM: normalised, embedded, verifies.
    let p = sign(Signer(Arc::new(Hsm(k.clone()))), SignatureScheme::EcdsaP256).unwrap();
    let c = consume(
        &p,
        &ConsumeOptions {
            keys: vec![],
            public_keys: vec![k.public_key()],
        },
    )
    .unwrap();
    assert_eq!(c.report.tools[0].outcome, "signature valid");
    assert_eq!(c.output.as_deref(), Some(&data[..]));
    // A signer whose signatures do not match its public key: refused.
    struct Liar(LongTermSecret, LongTermSecret);
    impl jsec::crypto::longterm::LongTermSigner for Liar {
        fn public_key(&self) -> jsec::Result<jsec::crypto::longterm::LongTermPublic> {
            Ok(self.0.public_key())
        }
        fn sign(&self, m: &[u8]) -> jsec::Result<Vec<u8>> {
            self.1.sign(m)
        }
    }
    let liar = Liar(k.clone(), LongTermSecret::generate_ecdsa_p256());
    let e = sign(Signer(Arc::new(liar)), SignatureScheme::EcdsaP256).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadKey, "{e}");
    // PKCS#1 v1.5 from a signer that only does PSS: unsupported, named.
    let rsa = LongTermSecret::generate_rsa(2048).unwrap();
    struct PssOnly(LongTermSecret);
    impl jsec::crypto::longterm::LongTermSigner for PssOnly {
        fn public_key(&self) -> jsec::Result<jsec::crypto::longterm::LongTermPublic> {
            Ok(self.0.public_key())
        }
        fn sign(&self, m: &[u8]) -> jsec::Result<Vec<u8>> {
            self.0.sign(m)
        }
    }
    let e = sign(
        Signer(Arc::new(PssOnly(rsa.clone()))),
        SignatureScheme::RsaPkcs1v15,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.message().contains("PKCS#1"), "{e}");
    // ... while PSS from it works.
    assert!(sign(Signer(Arc::new(PssOnly(rsa))), SignatureScheme::RsaPss).is_ok());
}
