//! `jsec j2k protect | consume | info | keys`: JPSEC for JPEG 2000.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

use jsec::crypto::mac::{HashAlg, MacAlg};
use jsec::crypto::modes::Mode;
use jsec::jpsec::syntax::{Params, SignatureScheme};
use jsec::jpsec::{
    ConsumeOptions, Granularity, ImageZone, JpsecKey, Levels, ProtectOptions, Region, Report,
    ToolSpec, UnitStatus,
};

use crate::args::{AuthArg, J2kConsumeArgs, J2kInfoArgs, J2kKeysArgs, J2kProtectArgs, LevelsArg};
use crate::fsio::{self, Failure};
use crate::json::Json;

/// Exit status when a verification failed.
const EXIT_UNVERIFIED: u8 = 1;

fn one_key(path: &Path) -> Result<JpsecKey, Failure> {
    let mut keys = fsio::read_jpsec_keys(path)?;
    if keys.len() != 1 {
        return Err(Failure::at(path, "bad key: one key expected"));
    }
    Ok(keys.remove(0))
}

fn granularity(s: &str) -> Result<Granularity, Failure> {
    Granularity::parse(s).ok_or_else(|| {
        Failure::usage(format!(
            "--granularity {s}: tile, resolution, layer, component, precinct or packet"
        ))
    })
}

fn flag_tools(a: &J2kProtectArgs) -> Result<Vec<ToolSpec>, Failure> {
    let mut tools = Vec::new();
    let mut whole = None;
    let key = a.key.as_deref().map(one_key).transpose()?;
    let levels = match a.levels {
        None => Levels::Single,
        Some(LevelsArg::Resolution) => Levels::Resolution(a.level_count),
        Some(LevelsArg::Layer) => Levels::Layer(a.level_count),
    };
    let g = granularity(&a.granularity)?;
    if let Some(k) = &key {
        let mode = Mode::parse(&a.mode).ok_or_else(|| {
            Failure::usage(format!("--mode {}: ecb, cbc, cfb, ofb or ctr", a.mode))
        })?;
        let region = match a.region.as_deref() {
            None => None,
            Some([x, y, w, h]) => {
                if *w == 0 || *h == 0 {
                    return Err(Failure::usage("--region: width and height must not be 0"));
                }
                let reg = Region {
                    x0: *x,
                    y0: *y,
                    x1: x.saturating_add(*w),
                    y1: y.saturating_add(*h),
                };
                Some((reg, a.outside))
            }
            Some(_) => return Err(Failure::usage("--region takes X,Y,W,H")),
        };
        if a.whole_packets {
            // Last: it hides the headers the other tools read.
            whole = Some(ToolSpec::EncryptPackets {
                key: k.clone(),
                mode,
                levels,
                zone: ImageZone::default(),
            });
        } else {
            tools.push(ToolSpec::Encrypt {
                key: k.clone(),
                mode,
                compliant: !a.non_compliant,
                levels,
                zone: ImageZone {
                    region,
                    ..ImageZone::default()
                },
            });
        }
    } else if a.levels.is_some() || a.region.is_some() {
        return Err(Failure::usage("--levels and --region need --key"));
    }
    if let Some(h) = &a.hash {
        let alg = HashAlg::parse(h)
            .ok_or_else(|| Failure::usage(format!("--hash {h}: sha256, sha1 or ripemd160")))?;
        tools.push(ToolSpec::Hash {
            alg,
            granularity: g,
            zone: ImageZone::default(),
        });
    }
    if let (Some(id), Some(ra)) = (&a.content_id, &a.authority) {
        tools.push(ToolSpec::ContentId {
            id: id.clone(),
            authority: ra.clone(),
            alg: HashAlg::Sha256,
        });
    }
    if let Some(auth) = a.auth {
        let mac = match auth {
            AuthArg::HmacSha256 => Some(MacAlg::HmacSha256),
            AuthArg::HmacSha1 => Some(MacAlg::HmacSha1),
            AuthArg::HmacRipemd160 => Some(MacAlg::HmacRipemd160),
            AuthArg::CbcMac => Some(MacAlg::CbcMacAes),
            _ => None,
        };
        match mac {
            Some(alg) => {
                let k = key
                    .clone()
                    .ok_or_else(|| Failure::usage("--auth with a MAC needs --key"))?;
                tools.push(ToolSpec::Mac {
                    key: k,
                    alg,
                    granularity: g,
                    levels,
                    zone: ImageZone::default(),
                });
            }
            None => {
                let path = a.sign_key.as_deref().ok_or_else(|| {
                    Failure::usage("--auth with a signature needs --sign-key PRIVATE")
                })?;
                let sk = fsio::read_long_term_secret(path)?;
                let scheme = match auth {
                    AuthArg::RsaPss => SignatureScheme::RsaPss,
                    AuthArg::RsaPkcs1 => SignatureScheme::RsaPkcs1v15,
                    _ => SignatureScheme::EcdsaP256,
                };
                tools.push(ToolSpec::Sign {
                    key: sk.into(),
                    scheme,
                    hash: HashAlg::Sha256,
                    granularity: g,
                    zone: ImageZone::default(),
                });
            }
        }
    } else if a.sign_key.is_some() {
        return Err(Failure::usage(
            "--sign-key needs --auth rsa-pss|rsa-pkcs1|ecdsa-p256",
        ));
    }
    tools.extend(whole);
    if tools.is_empty() {
        return Err(Failure::usage(
            "nothing to do: give --policy, or --key (encryption), --auth, --hash or --content-id",
        ));
    }
    Ok(tools)
}

/// A policy key file that could not be used, as a library error: `Io` when
/// the file cannot be read at all, `BadKey` when it can but holds no usable
/// key. The message is the failure's own (it names the file).
fn key_file_error(path: &Path, f: Failure) -> jsec::Error {
    let readable = std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut [0u8; 1]))
        .is_ok();
    let kind = if readable {
        jsec::ErrorKind::BadKey
    } else {
        jsec::ErrorKind::Io
    };
    jsec::Error::new(kind, f.to_string())
}

pub fn protect(a: &J2kProtectArgs) -> Result<ExitCode, Failure> {
    let opts = match &a.policy {
        Some(p) => {
            if a.key.is_some() || a.auth.is_some() || a.hash.is_some() || a.content_id.is_some() {
                return Err(Failure::usage(
                    "--policy replaces --key, --auth, --hash and --content-id",
                ));
            }
            let text =
                std::fs::read_to_string(p).map_err(|e| Failure::at(p, fsio::io_message(&e)))?;
            let base = p.parent().unwrap_or(Path::new("."));
            jsec::jpsec::policy::parse(&text, &mut |kind, name| {
                let path = base.join(name);
                match kind {
                    jsec::jpsec::policy::KeyKind::Symmetric => {
                        one_key(&path).map(jsec::jpsec::policy::LoadedKey::Symmetric)
                    }
                    jsec::jpsec::policy::KeyKind::Signing => fsio::read_long_term_secret(&path)
                        .map(|k| jsec::jpsec::policy::LoadedKey::Signing(Box::new(k))),
                }
                .map_err(|f| key_file_error(&path, f))
            })
            .map_err(|e| Failure::at(p, e))?
        }
        None => ProtectOptions {
            tools: flag_tools(a)?,
            iv: None,
        },
    };
    let data = fsio::read_input(&a.input)?;
    let out = jsec::jpsec::protect(&data, &opts).map_err(|e| Failure::at(&a.input, e))?;
    fsio::write_atomic(&a.output, &out)?;
    Ok(ExitCode::SUCCESS)
}

fn report_text(name: &Path, r: &Report, all_units: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}: {} JPSEC tool(s)", name.display(), r.tools.len());
    for t in &r.tools {
        let _ = writeln!(s, "  tool {}: {}", t.instance, t.description);
        let _ = writeln!(s, "    {}", t.outcome);
        let mut counts: Vec<(UnitStatus, usize)> = Vec::new();
        for u in &t.units {
            match counts.iter_mut().find(|(st, _)| *st == u.status) {
                Some(c) => c.1 += 1,
                None => counts.push((u.status, 1)),
            }
        }
        if !counts.is_empty() {
            let parts: Vec<String> = counts
                .iter()
                .map(|(st, n)| format!("{n} {}", st.name()))
                .collect();
            let _ = writeln!(s, "    units: {}", parts.join(", "));
        }
        for u in &t.units {
            if all_units || u.status == UnitStatus::Failed {
                let _ = writeln!(
                    s,
                    "      {} (level {}): {}",
                    u.zone,
                    u.level,
                    u.status.name()
                );
            }
        }
    }
    s
}

fn report_json(name: &Path, r: &Report, extra: Vec<(&'static str, Json)>) -> String {
    let tools = r
        .tools
        .iter()
        .map(|t| {
            Json::Object(vec![
                ("instance", Json::UInt(t.instance.into())),
                (
                    "template",
                    Json::str(t.template.map_or("unknown", |x| x.name())),
                ),
                ("description", Json::str(t.description.clone())),
                ("outcome", Json::str(t.outcome.clone())),
                ("failed", Json::Bool(t.failed)),
                (
                    "units",
                    Json::Array(
                        t.units
                            .iter()
                            .map(|u| {
                                Json::Object(vec![
                                    ("zone", Json::str(u.zone.clone())),
                                    ("level", Json::UInt(u.level.into())),
                                    ("status", Json::str(u.status.name())),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let mut fields = vec![
        ("file", Json::str(name.display().to_string())),
        ("verified", Json::Bool(!r.failed())),
    ];
    fields.extend(extra);
    fields.push(("tools", Json::Array(tools)));
    Json::Object(fields).to_pretty()
}

pub fn consume(a: &J2kConsumeArgs) -> Result<ExitCode, Failure> {
    let mut keys = Vec::new();
    for k in &a.key {
        keys.extend(fsio::read_jpsec_keys(k)?);
    }
    if let Some(k) = &a.keys {
        keys.extend(fsio::read_jpsec_keys(k)?);
    }
    let mut public_keys = Vec::new();
    for p in &a.pubkey {
        public_keys.push(fsio::read_long_term_public(p)?);
    }
    let data = fsio::read_input(&a.input)?;
    let c = jsec::jpsec::consume(&data, &ConsumeOptions { keys, public_keys })
        .map_err(|e| Failure::at(&a.input, e))?;
    if a.json {
        crate::out::write(&report_json(
            &a.input,
            &c.report,
            vec![
                ("complete", Json::Bool(c.complete)),
                ("written", Json::Bool(c.output.is_some())),
            ],
        ));
    } else {
        crate::out::write(&report_text(&a.input, &c.report, false));
    }
    match c.output {
        None => {
            for f in c.report.failures() {
                eprintln!("jsec: {}: verification failed: {f}", a.input.display());
            }
            eprintln!(
                "jsec: {}: nothing written (a verification failed)",
                a.input.display()
            );
            Ok(ExitCode::from(EXIT_UNVERIFIED))
        }
        Some(out) => {
            fsio::write_atomic(&a.output, &out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn info(a: &J2kInfoArgs) -> Result<ExitCode, Failure> {
    let data = fsio::read_input(&a.input)?;
    let file = jsec::j2k::J2kFile::parse(&data).map_err(|e| Failure::at(&a.input, e))?;
    let sec = jsec::jpsec::consume::read_sec_in(&file.codestream, &data)
        .map_err(|e| Failure::at(&a.input, e))?;
    let Some(sec) = sec else {
        if a.json {
            crate::out::write(
                &Json::Object(vec![
                    ("file", Json::str(a.input.display().to_string())),
                    ("protected", Json::Bool(false)),
                ])
                .to_pretty(),
            );
        } else {
            outln!("{}: no JPSEC (SEC) segment", a.input.display());
        }
        return Ok(ExitCode::SUCCESS);
    };
    let c = jsec::jpsec::consume(&data, &ConsumeOptions::default())
        .map_err(|e| Failure::at(&a.input, e))?;
    let content: Vec<Json> = sec
        .tools
        .iter()
        .filter_map(|t| match &t.params {
            Params::ContentId(p) => Some(Json::Object(vec![
                ("id", Json::str(p.id.clone())),
                ("authority", Json::str(p.authority.clone())),
            ])),
            _ => None,
        })
        .collect();
    if a.json {
        crate::out::write(&report_json(
            &a.input,
            &c.report,
            vec![
                ("protected", Json::Bool(true)),
                ("content_ids", Json::Array(content)),
            ],
        ));
    } else {
        crate::out::write(&report_text(&a.input, &c.report, false));
    }
    Ok(if c.report.failed() {
        ExitCode::from(EXIT_UNVERIFIED)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn keys(a: &J2kKeysArgs) -> Result<ExitCode, Failure> {
    let k0 = one_key(&a.key)?;
    outln!("{}", k0.derive(a.level as usize).to_hex());
    Ok(ExitCode::SUCCESS)
}
