//! Protection policies in TOML (`docs/jpsec.md` has the reference and
//! examples): a list of `[[tool]]` tables naming the tool, its keys, its
//! zone and its granularity. Key files are loaded by the caller's
//! resolver, so that the library does no file I/O of its own.

use super::protect::{Levels, ProtectOptions, ToolSpec};
use super::syntax::{Granularity, ImageZone, Region, SignatureScheme};
use super::JpsecKey;
use crate::crypto::longterm::LongTermSecret;
use crate::crypto::mac::{HashAlg, MacAlg};
use crate::crypto::modes::Mode;
use crate::{Error, Result};

/// Which kind of key a policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A symmetric JPSEC key (encryption, MAC).
    Symmetric,
    /// A signing key (signature tools).
    Signing,
}

/// A key loaded by the resolver.
#[derive(Debug)]
pub enum LoadedKey {
    /// Symmetric.
    Symmetric(JpsecKey),
    /// Signing.
    Signing(Box<LongTermSecret>),
}

type Table = toml::Table;

fn err(msg: impl Into<String>) -> Error {
    Error::invalid_argument(format!("policy: {}", msg.into()))
}

fn get_str<'a>(t: &'a Table, k: &str, n: usize) -> Result<Option<&'a str>> {
    match t.get(k) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("tool {n}: `{k}` must be a string"))),
    }
}

fn get_bool(t: &Table, k: &str, n: usize) -> Result<Option<bool>> {
    match t.get(k) {
        None => Ok(None),
        Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
        Some(_) => Err(err(format!("tool {n}: `{k}` must be true or false"))),
    }
}

fn get_ints(
    t: &Table,
    k: &str,
    n: usize,
    len: Option<usize>,
    max: u64,
) -> Result<Option<Vec<u64>>> {
    let Some(v) = t.get(k) else {
        return Ok(None);
    };
    let bad = || {
        err(format!(
            "tool {n}: `{k}` must be a list of {}integers from 0 to {max}",
            len.map_or(String::new(), |l| format!("{l} "))
        ))
    };
    let toml::Value::Array(a) = v else {
        return Err(bad());
    };
    let mut out = Vec::with_capacity(a.len());
    for x in a {
        match x {
            toml::Value::Integer(i) if *i >= 0 && (*i as u64) <= max => out.push(*i as u64),
            _ => return Err(bad()),
        }
    }
    if len.is_some_and(|l| l != out.len()) || out.is_empty() {
        return Err(bad());
    }
    Ok(Some(out))
}

fn range<T: TryFrom<u64>>(t: &Table, k: &str, n: usize, max: u64) -> Result<Option<(T, T)>> {
    match get_ints(t, k, n, Some(2), max)? {
        None => Ok(None),
        Some(v) => {
            if v[0] > v[1] {
                return Err(err(format!(
                    "tool {n}: `{k}` = [{}, {}] is empty",
                    v[0], v[1]
                )));
            }
            match (T::try_from(v[0]), T::try_from(v[1])) {
                (Ok(a), Ok(b)) => Ok(Some((a, b))),
                _ => Err(err(format!("tool {n}: `{k}` out of range"))),
            }
        }
    }
}

fn zone(t: &Table, n: usize, allow_region: bool) -> Result<ImageZone> {
    let tiles = get_ints(t, "tiles", n, None, u16::MAX as u64)?
        .map(|v| v.into_iter().map(|x| x as u16).collect());
    let region = match get_ints(t, "region", n, Some(4), u32::MAX as u64)? {
        None => {
            if t.contains_key("outside") {
                return Err(err(format!("tool {n}: `outside` without `region`")));
            }
            None
        }
        Some(_) if !allow_region => {
            return Err(err(format!(
                "tool {n}: `region` is for encryption tools only (other tools cover whole packets)"
            )))
        }
        Some(v) => {
            if v[2] == 0 || v[3] == 0 {
                return Err(err(format!(
                    "tool {n}: `region` with a zero width or height"
                )));
            }
            let r = Region {
                x0: v[0] as u32,
                y0: v[1] as u32,
                x1: (v[0] + v[2]).min(u32::MAX as u64) as u32,
                y1: (v[1] + v[3]).min(u32::MAX as u64) as u32,
            };
            Some((r, get_bool(t, "outside", n)?.unwrap_or(false)))
        }
    };
    Ok(ImageZone {
        tiles,
        resolutions: range(t, "resolutions", n, 32)?,
        layers: range(t, "layers", n, u16::MAX as u64)?,
        components: range(t, "components", n, u16::MAX as u64)?,
        region,
        precincts: range(t, "precincts", n, u32::MAX as u64)?,
        packets: pairs(t, "packets", n)?,
        bytes: pairs(t, "bytes", n)?,
    })
}

/// A list of `[a, b]` pairs of u32.
fn pairs(t: &Table, k: &str, n: usize) -> Result<Option<Vec<(u32, u32)>>> {
    let Some(v) = t.get(k) else {
        return Ok(None);
    };
    let bad = || {
        err(format!(
            "tool {n}: `{k}` must be a list of [first, last] / [offset, length > 0] pairs"
        ))
    };
    let toml::Value::Array(a) = v else {
        return Err(bad());
    };
    let mut out = Vec::new();
    for x in a {
        let toml::Value::Array(p) = x else {
            return Err(bad());
        };
        let nums: Vec<u32> = p
            .iter()
            .filter_map(|y| match y {
                toml::Value::Integer(i) => u32::try_from(*i).ok(),
                _ => None,
            })
            .collect();
        if nums.len() != 2
            || p.len() != 2
            || (k == "packets" && nums[0] > nums[1])
            || (k == "bytes" && nums[1] == 0)
        {
            return Err(bad());
        }
        out.push((nums[0], nums[1]));
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(Some(out))
}

fn levels(t: &Table, n: usize) -> Result<Levels> {
    let count = match t.get("level-count") {
        None => None,
        Some(toml::Value::Integer(i)) if (1..=255).contains(i) => Some(*i as u8),
        Some(_) => return Err(err(format!("tool {n}: `level-count` must be 1 to 255"))),
    };
    Ok(match get_str(t, "levels", n)?.unwrap_or("single") {
        "single" if count.is_none() => Levels::Single,
        "resolution" => Levels::Resolution(count),
        "layer" => Levels::Layer(count),
        other => {
            return Err(err(format!(
                "tool {n}: `levels` = \"{other}\" (single, resolution or layer; level-count only with the last two)"
            )))
        }
    })
}

fn granularity(t: &Table, n: usize) -> Result<Granularity> {
    let g = get_str(t, "granularity", n)?.unwrap_or("resolution");
    Granularity::parse(g).ok_or_else(|| {
        err(format!(
            "tool {n}: granularity \"{g}\" (tile, resolution, layer, component, precinct, packet)"
        ))
    })
}

fn hash(t: &Table, k: &str, n: usize) -> Result<HashAlg> {
    let h = get_str(t, k, n)?.unwrap_or("sha256");
    HashAlg::parse(h)
        .ok_or_else(|| err(format!("tool {n}: hash \"{h}\" (sha256, sha1, ripemd160)")))
}

fn allowed(t: &Table, n: usize, keys: &[&str]) -> Result<()> {
    for k in t.keys() {
        if k != "type" && !keys.contains(&k.as_str()) {
            return Err(err(format!(
                "tool {n}: unknown setting `{k}` (allowed here: {})",
                keys.join(", ")
            )));
        }
    }
    Ok(())
}

const ZONE: [&str; 9] = [
    "tiles",
    "resolutions",
    "layers",
    "components",
    "precincts",
    "packets",
    "bytes",
    "region",
    "outside",
];

/// Parse a policy. `load(kind, name)` loads the key named by a tool's `key`
/// setting (a path, for the CLI) or says why it cannot; its error is
/// returned as it is (same kind: I/O, bad key ...) with the tool and key
/// name put in front of its message (`policy: tool 0: key k0.hex: ...`).
pub fn parse(
    text: &str,
    load: &mut dyn FnMut(KeyKind, &str) -> Result<LoadedKey>,
) -> Result<ProtectOptions> {
    let doc: Table = text
        .parse()
        .map_err(|e: toml::de::Error| err(e.message().to_string()))?;
    for k in doc.keys() {
        if !["version", "iv", "tool"].contains(&k.as_str()) {
            return Err(err(format!(
                "unknown top-level setting `{k}` (version, iv, [[tool]])"
            )));
        }
    }
    match doc.get("version") {
        None | Some(toml::Value::Integer(1)) => {}
        Some(v) => return Err(err(format!("version {v:?}: this is policy version 1"))),
    }
    let iv = match doc.get("iv") {
        None => None,
        Some(toml::Value::String(s)) => {
            let b: Vec<u8> = (0..s.len())
                .step_by(2)
                .filter_map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect();
            if s.len() != 32 || b.len() != 16 {
                return Err(err("`iv` must be 32 hex digits"));
            }
            let mut iv = [0u8; 16];
            iv.copy_from_slice(&b);
            Some(iv)
        }
        Some(_) => return Err(err("`iv` must be a string of 32 hex digits")),
    };
    let tools = match doc.get("tool") {
        Some(toml::Value::Array(a)) => a,
        _ => return Err(err("no [[tool]] table")),
    };
    let mut specs = Vec::new();
    for (n, v) in tools.iter().enumerate() {
        let toml::Value::Table(t) = v else {
            return Err(err(format!("tool {n} is not a table")));
        };
        let kind = get_str(t, "type", n)?.ok_or_else(|| err(format!("tool {n}: no `type`")))?;
        let mut sym = |t: &Table| -> Result<JpsecKey> {
            let name = get_str(t, "key", n)?.ok_or_else(|| err(format!("tool {n}: no `key`")))?;
            match load(KeyKind::Symmetric, name) {
                Ok(LoadedKey::Symmetric(k)) => Ok(k),
                Ok(_) => Err(err(format!("tool {n}: key {name}: not a symmetric key"))),
                Err(e) => Err(e.context(format_args!("policy: tool {n}: key {name}"))),
            }
        };
        let spec = match kind {
            "encrypt" => {
                let mut a = vec![
                    "key",
                    "mode",
                    "compliant",
                    "levels",
                    "level-count",
                    "domain",
                ];
                a.extend(ZONE);
                allowed(t, n, &a)?;
                let m = get_str(t, "mode", n)?.unwrap_or("ctr");
                let mode = Mode::parse(m).ok_or_else(|| {
                    err(format!("tool {n}: mode \"{m}\" (ecb, cbc, cfb, ofb, ctr)"))
                })?;
                match get_str(t, "domain", n)?.unwrap_or("bodies") {
                    "bodies" => {}
                    "packets" => {
                        if get_bool(t, "compliant", n)? == Some(true) {
                            return Err(err(format!(
                                "tool {n}: whole packets cannot be encrypted format-compliantly"
                            )));
                        }
                        specs.push(ToolSpec::EncryptPackets {
                            key: sym(t)?,
                            mode,
                            levels: levels(t, n)?,
                            zone: zone(t, n, false)?,
                        });
                        continue;
                    }
                    d => {
                        return Err(err(format!(
                        "tool {n}: domain \"{d}\" (bodies, or packets: headers too, not decodable)"
                    )))
                    }
                }
                ToolSpec::Encrypt {
                    key: sym(t)?,
                    mode,
                    compliant: get_bool(t, "compliant", n)?.unwrap_or(true),
                    levels: levels(t, n)?,
                    zone: zone(t, n, true)?,
                }
            }
            "mac" => {
                let mut a = vec!["key", "algorithm", "granularity", "levels", "level-count"];
                a.extend(ZONE);
                allowed(t, n, &a)?;
                let m = get_str(t, "algorithm", n)?.unwrap_or("hmac-sha256");
                let alg = MacAlg::parse(m).ok_or_else(|| {
                    err(format!(
                        "tool {n}: algorithm \"{m}\" (hmac-sha256, hmac-sha1, hmac-ripemd160, cbc-mac-aes)"
                    ))
                })?;
                ToolSpec::Mac {
                    key: sym(t)?,
                    alg,
                    granularity: granularity(t, n)?,
                    levels: levels(t, n)?,
                    zone: zone(t, n, false)?,
                }
            }
            "sign" => {
                let mut a = vec!["key", "scheme", "hash", "granularity"];
                a.extend(ZONE);
                allowed(t, n, &a)?;
                let s = get_str(t, "scheme", n)?.unwrap_or("ecdsa-p256");
                let scheme = match s {
                    "ecdsa-p256" => SignatureScheme::EcdsaP256,
                    "rsa-pss" => SignatureScheme::RsaPss,
                    "rsa-pkcs1" => SignatureScheme::RsaPkcs1v15,
                    _ => {
                        return Err(err(format!(
                            "tool {n}: scheme \"{s}\" (ecdsa-p256, rsa-pss, rsa-pkcs1)"
                        )))
                    }
                };
                let name =
                    get_str(t, "key", n)?.ok_or_else(|| err(format!("tool {n}: no `key`")))?;
                let key = match load(KeyKind::Signing, name) {
                    Ok(LoadedKey::Signing(k)) => super::protect::Signer::from(*k),
                    Ok(_) => return Err(err(format!("tool {n}: key {name}: not a signing key"))),
                    Err(e) => return Err(e.context(format_args!("policy: tool {n}: key {name}"))),
                };
                ToolSpec::Sign {
                    key,
                    scheme,
                    hash: hash(t, "hash", n)?,
                    granularity: granularity(t, n)?,
                    zone: zone(t, n, false)?,
                }
            }
            "hash" => {
                let mut a = vec!["algorithm", "granularity"];
                a.extend(ZONE);
                allowed(t, n, &a)?;
                ToolSpec::Hash {
                    alg: hash(t, "algorithm", n)?,
                    granularity: granularity(t, n)?,
                    zone: zone(t, n, false)?,
                }
            }
            "content-id" => {
                allowed(t, n, &["id", "authority", "algorithm"])?;
                ToolSpec::ContentId {
                    id: get_str(t, "id", n)?
                        .ok_or_else(|| err(format!("tool {n}: no `id`")))?
                        .to_string(),
                    authority: get_str(t, "authority", n)?
                        .ok_or_else(|| err(format!("tool {n}: no `authority`")))?
                        .to_string(),
                    alg: hash(t, "algorithm", n)?,
                }
            }
            other => {
                return Err(err(format!(
                    "tool {n}: type \"{other}\" (encrypt, mac, sign, hash, content-id)"
                )))
            }
        };
        specs.push(spec);
    }
    Ok(ProtectOptions { tools: specs, iv })
}
