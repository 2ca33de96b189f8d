//! Applying JPSEC tools to a JPEG 2000 file: encrypt packet bodies, hash
//! and authenticate units, identify the content, and write the SEC
//! segments after SIZ.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::keys::{self, JpsecKey};
use super::syntax::{
    Access, AuthMethod, AuthParams, ContentIdParams, DecryptionParams, Granularity, HashParams,
    ImageZone, Params, Region, SecStream, SignatureScheme, Tool, Unit, Zoi, CIPHER_AES,
    DOMAIN_BODIES, DOMAIN_PACKETS, SEC,
};
use super::zone::{self, Key, Layout};
use crate::crypto::longterm::{Algorithm, LongTermPublic, LongTermSecret, LongTermSigner};
use crate::crypto::mac::{HashAlg, MacAlg};
use crate::crypto::modes::{Mode, UnitCipher};
use crate::j2k::boxes;
use crate::j2k::marker::SIZ;
use crate::j2k::J2kFile;
use crate::{Error, ErrorKind, Result};

/// Level structure of a keyed tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Levels {
    /// One key.
    Single,
    /// One level per resolution (`None`: as many as the image has).
    Resolution(Option<u8>),
    /// One level per quality layer (`None`: as many as the image has).
    Layer(Option<u8>),
}

/// One tool to apply.
#[derive(Debug, Clone)]
pub enum ToolSpec {
    /// Encrypt packet bodies.
    Encrypt {
        /// Master key `k_0` (16, 24 or 32 bytes).
        key: JpsecKey,
        /// Cipher mode.
        mode: Mode,
        /// Format-compliant (byte-class) cipher; needs CTR, OFB or CFB.
        compliant: bool,
        /// Level keys.
        levels: Levels,
        /// What to encrypt.
        zone: ImageZone,
    },
    /// Encrypt whole packets (header, EPH and body; SOP markers stay), with
    /// the plain cipher: for zones that must not be decodable at all.
    /// Such tools must come after every other tool (a consumer undoes them
    /// first, from the ZOI alone, before it can read packet headers), and
    /// the packet headers must be in the tile-part data (no PPM / PPT).
    /// A file with encrypted headers cannot be transcoded without keys.
    EncryptPackets {
        /// Master key `k_0`.
        key: JpsecKey,
        /// Cipher mode (any; the output is not format-compliant).
        mode: Mode,
        /// Level keys.
        levels: Levels,
        /// What to encrypt (no region).
        zone: ImageZone,
    },
    /// A MAC per unit, and over the SEC parameters.
    Mac {
        /// Master key `k_0`.
        key: JpsecKey,
        /// Algorithm.
        alg: MacAlg,
        /// Units.
        granularity: Granularity,
        /// Level keys (a unit's MAC uses its level's key).
        levels: Levels,
        /// What to authenticate (no region).
        zone: ImageZone,
    },
    /// A hash per unit, signed once with the SEC parameters.
    Sign {
        /// Signing key.
        key: Signer,
        /// Scheme (must suit the key).
        scheme: SignatureScheme,
        /// Unit hash.
        hash: HashAlg,
        /// Units.
        granularity: Granularity,
        /// What to authenticate (no region).
        zone: ImageZone,
    },
    /// A hash per unit (integrity without keys).
    Hash {
        /// Hash function.
        alg: HashAlg,
        /// Units.
        granularity: Granularity,
        /// What to hash (no region).
        zone: ImageZone,
    },
    /// Registered content identification.
    ContentId {
        /// The identifier.
        id: String,
        /// The registration authority.
        authority: String,
        /// Hash function.
        alg: HashAlg,
    },
}

/// The signer of a signature tool: a local key, or anything implementing
/// [`LongTermSigner`] (an HSM or a key management service behind a
/// callback). Its signatures are verified before they are embedded.
#[derive(Clone)]
pub struct Signer(pub Arc<dyn LongTermSigner>);

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.public_key() {
            Ok(pk) => write!(f, "Signer({})", pk.algorithm().name()),
            Err(_) => f.write_str("Signer(?)"),
        }
    }
}

impl From<LongTermSecret> for Signer {
    fn from(k: LongTermSecret) -> Signer {
        Signer(Arc::new(k))
    }
}

/// What to apply.
#[derive(Debug, Clone, Default)]
pub struct ProtectOptions {
    /// The tools, applied in this order (encryption before the tools that
    /// cover its output is the useful order: hashes and MACs then cover the
    /// ciphertext and can be checked before decrypting).
    pub tools: Vec<ToolSpec>,
    /// The global IV of the decryption tools (`None`: random). Fixing it
    /// makes the output reproducible, for tests.
    pub iv: Option<[u8; 16]>,
}

/// Label of the SEC seal (MACs).
pub const SEAL_LABEL: &[u8] = b"jsec/jpsec/v1/seal";
/// Label of the signed statement.
pub const SIGN_LABEL: &[u8] = b"jsec/jpsec/v1/sign";
/// Label of the content-identification binding.
pub const CONTENT_LABEL: &[u8] = b"jsec/jpsec/v1/content-id";

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid_argument(msg.into())
}

fn level_count(l: &Layout, levels: Levels) -> Result<(Access, usize)> {
    let cs = l.cs();
    Ok(match levels {
        Levels::Single => (Access::Single, 1),
        Levels::Resolution(n) => {
            let max = l
                .index
                .packets
                .iter()
                .map(|p| p.id.resolution as usize + 1)
                .max()
                .unwrap_or(1);
            (Access::Resolution, n.map_or(max, |n| n as usize))
        }
        Levels::Layer(n) => {
            let max = (cs.cod.layers as usize).max(
                cs.tile_parts
                    .iter()
                    .filter_map(|t| t.cod.as_ref())
                    .map(|c| c.layers as usize)
                    .max()
                    .unwrap_or(0),
            );
            (Access::Layer, n.map_or(max.min(255), |n| n as usize))
        }
    })
    .and_then(|(a, n)| {
        if n == 0 || n > 255 {
            Err(invalid(format!("{n} access levels (1 to 255)")))
        } else {
            Ok((a, n))
        }
    })
}

fn check_zone(z: &ImageZone, what: &str) -> Result<()> {
    if z.region.is_some() {
        return Err(invalid(format!(
            "a {what} zone cannot be a region: regions select code-blocks inside packets, \
             {what} covers whole packets (use tiles, resolutions, layers, components)"
        )));
    }
    Ok(())
}

/// The packets (indices into the layout's index) in `zone`, in codestream
/// order.
fn members(l: &Layout, zone: &ImageZone) -> Vec<usize> {
    (0..l.index.packets.len())
        .filter(|&i| l.in_zone(&l.index.packets[i], zone))
        .collect()
}

/// Group the packets (indices into the layout's index) of a zone into
/// units by granularity and level, in codestream order.
fn group(
    l: &Layout,
    members: &[usize],
    g: Granularity,
    level: &dyn Fn(usize) -> u8,
) -> Vec<(u8, Vec<usize>)> {
    let mut order: Vec<(Key, u8)> = Vec::new();
    let mut map: std::collections::HashMap<(Key, u8), usize> = std::collections::HashMap::new();
    let mut units: Vec<(u8, Vec<usize>)> = Vec::new();
    for &i in members {
        let k = zone::unit_key(g, zone::key_of(&l.index.packets[i]));
        let lv = level(i);
        let slot = *map.entry((k, lv)).or_insert_with(|| {
            order.push((k, lv));
            units.push((lv, Vec::new()));
            units.len() - 1
        });
        units[slot].1.push(i);
    }
    units
}

fn zoi_of(l: &Layout, zone: &ImageZone, units: &[(u8, Vec<usize>)]) -> Zoi {
    let s = &l.cs().siz;
    Zoi {
        image: zone.clone(),
        grid: Region {
            x0: s.x0,
            y0: s.y0,
            x1: s.width,
            y1: s.height,
        },
        reduced: 0,
        units: units
            .iter()
            .map(|(lv, ps)| Unit {
                level: *lv,
                packets: ps.iter().map(|&i| l.packet_ref(i)).collect(),
            })
            .collect(),
    }
}

/// Takes the pieces of a message.
pub(crate) type Sink<'a> = dyn FnMut(&[u8]) + 'a;
/// Gives a whole unit message to a sink.
pub(crate) type Feed<'a> = dyn FnMut(&mut Sink<'_>) + 'a;

/// A seal to compute once the SEC stream is complete.
struct PendingSeal {
    tool: usize,
    mac_key: Option<Zeroizing<Vec<u8>>>,
    signer: Option<(Signer, LongTermPublic)>,
}

/// Feed the message of unit number `unit` (packets `idx` of the layout's
/// index, bodies read from `data`: the file as the tools before this one
/// left it) to `each`, which gets its total length and a feeder.
pub(crate) fn unit_message(
    l: &mut Layout,
    data: &[u8],
    instance: u32,
    unit: u32,
    idx: &[usize],
    each: &mut dyn FnMut(u64, &mut Feed) -> Result<()>,
) -> Result<()> {
    let mut parts: Vec<(Key, Vec<u8>, usize, usize)> = Vec::with_capacity(idx.len());
    for &i in idx {
        let h = l.header(i)?;
        let p = &l.index.packets[i];
        parts.push((zone::key_of(p), h, p.body_offset, p.body_length));
    }
    let view: Vec<(Key, &[u8], &[u8])> = parts
        .iter()
        .map(|(k, h, o, n)| (*k, &h[..], &data[*o..*o + *n]))
        .collect();
    let mut total = 0u64;
    zone::unit_message(instance, unit, &view, &mut |b| total += b.len() as u64);
    each(total, &mut |sink| {
        zone::unit_message(instance, unit, &view, sink)
    })
}

/// [`unit_message`] for every unit in turn.
pub(crate) fn unit_messages(
    l: &mut Layout,
    data: &[u8],
    instance: u32,
    units: &[Vec<usize>],
    each: &mut dyn FnMut(usize, u64, &mut Feed) -> Result<()>,
) -> Result<()> {
    for (u, ps) in units.iter().enumerate() {
        unit_message(l, data, instance, u as u32, ps, &mut |total, feed| {
            each(u, total, feed)
        })?;
    }
    Ok(())
}

/// Apply `opts` to `data` (a raw codestream or a JP2 file). The input must
/// not carry SEC segments already.
pub fn protect(data: &[u8], opts: &ProtectOptions) -> Result<Vec<u8>> {
    let mut l = Layout::new(data)?;
    if l.cs().main.iter().any(|s| s.marker == SEC) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the file already has SEC segments (adding tools to a protected file is not supported)",
        ));
    }
    if opts.tools.is_empty() {
        return Err(invalid("no protection tool given"));
    }
    let mut out = data.to_vec();
    let mut tools: Vec<Tool> = Vec::new();
    // Seals are computed last, over the whole SEC stream.
    let mut pending_seals: Vec<PendingSeal> = Vec::new();
    let all: Vec<usize> = (0..l.index.packets.len()).collect();
    for (n, spec) in opts.tools.iter().enumerate() {
        let instance = n as u32;
        match spec {
            ToolSpec::Encrypt {
                key,
                mode,
                compliant,
                levels,
                zone,
            } => {
                let (access, count) = level_count(&l, *levels)?;
                let tpl = keys::template(key, access, count);
                let cipher_keys: Vec<Zeroizing<Vec<u8>>> =
                    (0..count).map(|i| key.derive(i).cipher_key()).collect();
                let ciphers: Vec<UnitCipher> = cipher_keys
                    .iter()
                    .map(|k| UnitCipher::new(k, *mode))
                    .collect::<Result<_>>()?;
                if *compliant && matches!(mode, Mode::Ecb | Mode::Cbc) {
                    return Err(invalid(format!(
                        "the format-compliant cipher needs a keystream mode (ctr, ofb, cfb), not {}; \
                         use the non-compliant mode for ecb and cbc",
                        mode.name()
                    )));
                }
                let mut iv = [0u8; 16];
                match opts.iv {
                    Some(v) => iv = v,
                    None => crate::crypto::random_bytes(&mut iv)?,
                }
                let mut units = Vec::new();
                for &i in &all {
                    let p = &l.index.packets[i];
                    if p.body_length == 0 || !l.in_zone(p, zone) {
                        continue;
                    }
                    let mask = l.body_mask(p, zone.region, 0)?;
                    if mask.as_ref().is_some_and(|m| !m.iter().any(|&b| b)) {
                        continue;
                    }
                    let lv = keys::level_of(&tpl, p.id.resolution, p.id.layer);
                    let k = zone::key_of(p);
                    let piv = zone::packet_iv(&iv, k);
                    let body = &mut out[p.body_offset..p.body_offset + p.body_length];
                    zone::crypt_body(
                        &ciphers[lv as usize],
                        &piv,
                        k,
                        body,
                        mask.as_deref(),
                        *compliant,
                        true,
                    )?;
                    units.push((lv, vec![i]));
                }
                tools.push(Tool {
                    instance,
                    zoi: zoi_of(&l, zone, &units),
                    params: Params::Decryption(DecryptionParams {
                        cipher: CIPHER_AES,
                        key_bits: (key.len() * 8) as u16,
                        mode: mode.code(),
                        padding: matches!(mode, Mode::Ecb | Mode::Cbc) as u8,
                        compliant: *compliant,
                        domain: DOMAIN_BODIES,
                        granularity: Granularity::Packet,
                        keys: tpl,
                        iv,
                    }),
                });
            }
            ToolSpec::EncryptPackets {
                key,
                mode,
                levels,
                zone,
            } => {
                if opts.tools[n..]
                    .iter()
                    .any(|t| !matches!(t, ToolSpec::EncryptPackets { .. }))
                {
                    return Err(invalid(
                        "whole-packet encryption must come after every other tool \
                         (it hides the packet headers the other tools need)",
                    ));
                }
                check_zone(zone, "whole-packet encryption")?;
                if l.index.packets.iter().any(|p| p.packed_header_length > 0) {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "whole-packet encryption needs the packet headers in the tile-part data \
                         (this codestream packs them in PPM / PPT)",
                    ));
                }
                let (access, count) = level_count(&l, *levels)?;
                let tpl = keys::template(key, access, count);
                let ciphers: Vec<UnitCipher> = (0..count)
                    .map(|i| UnitCipher::new(&key.derive(i).cipher_key(), *mode))
                    .collect::<Result<_>>()?;
                let mut iv = [0u8; 16];
                match opts.iv {
                    Some(v) => iv = v,
                    None => crate::crypto::random_bytes(&mut iv)?,
                }
                let mut units = Vec::new();
                let mut refs = Vec::new();
                for &i in &all {
                    let p = &l.index.packets[i];
                    if !l.in_zone(p, zone) {
                        continue;
                    }
                    let lv = keys::level_of(&tpl, p.id.resolution, p.id.layer);
                    let k = zone::key_of(p);
                    let start = p.offset + if p.sop { 6 } else { 0 };
                    let end = p.offset + p.length;
                    ciphers[lv as usize].encrypt(&zone::packet_iv(&iv, k), &mut out[start..end]);
                    let mut r = l.packet_ref(i);
                    r.offset = (start - l.first_sot) as u32;
                    r.body_length = (end - start) as u32;
                    units.push((lv, vec![i]));
                    refs.push(r);
                }
                let mut zoi = zoi_of(&l, zone, &units);
                for (u, r) in zoi.units.iter_mut().zip(refs) {
                    u.packets = vec![r];
                }
                tools.push(Tool {
                    instance,
                    zoi,
                    params: Params::Decryption(DecryptionParams {
                        cipher: CIPHER_AES,
                        key_bits: (key.len() * 8) as u16,
                        mode: mode.code(),
                        padding: matches!(mode, Mode::Ecb | Mode::Cbc) as u8,
                        compliant: false,
                        domain: DOMAIN_PACKETS,
                        granularity: Granularity::Packet,
                        keys: tpl,
                        iv,
                    }),
                });
            }
            ToolSpec::Hash {
                alg,
                granularity,
                zone,
            } => {
                check_zone(zone, "hash")?;
                let members = members(&l, zone);
                let units = group(&l, &members, *granularity, &|_| 0);
                let values = hash_units(&mut l, &out, instance, &units, *alg)?;
                tools.push(Tool {
                    instance,
                    zoi: zoi_of(&l, zone, &units),
                    params: Params::Hash(HashParams {
                        hash: alg.id(),
                        granularity: *granularity,
                        values,
                    }),
                });
            }
            ToolSpec::ContentId { id, authority, alg } => {
                if id.is_empty() || id.len() > 1024 || authority.len() > 1024 {
                    return Err(invalid(
                        "a content identifier of 1 to 1024 bytes and an authority name of at most 1024 bytes",
                    ));
                }
                let zone = ImageZone::default();
                let units = group(&l, &all, Granularity::Packet, &|_| 0);
                let values = hash_units(&mut l, &out, instance, &units, *alg)?;
                let binding = content_binding(*alg, id, authority, &values);
                tools.push(Tool {
                    instance,
                    zoi: zoi_of(&l, &zone, &units),
                    params: Params::ContentId(ContentIdParams {
                        hash: alg.id(),
                        id: id.clone(),
                        authority: authority.clone(),
                        binding,
                        values,
                    }),
                });
            }
            ToolSpec::Mac {
                key,
                alg,
                granularity,
                levels,
                zone,
            } => {
                check_zone(zone, "authentication")?;
                let (access, count) = level_count(&l, *levels)?;
                let tpl = keys::template(key, access, count);
                let members = members(&l, zone);
                let level = |i: usize| {
                    let p = &l.index.packets[i];
                    keys::level_of(&tpl, p.id.resolution, p.id.layer)
                };
                let units = group(&l, &members, *granularity, &level);
                let mac_keys: Vec<Zeroizing<Vec<u8>>> = (0..count)
                    .map(|i| mac_key_for(*alg, &key.derive(i)))
                    .collect();
                let lists: Vec<Vec<usize>> = units.iter().map(|u| u.1.clone()).collect();
                let mut values = Vec::with_capacity(units.len());
                unit_messages(&mut l, &out, instance, &lists, &mut |u, total, feed| {
                    let mut m =
                        crate::crypto::mac::Mac::new(*alg, &mac_keys[units[u].0 as usize], total)?;
                    feed(&mut |b| m.update(b));
                    values.push(m.finalize());
                    Ok(())
                })?;
                let seal_len = alg.output_len();
                let seal_key = mac_key_for(*alg, &key.derive(count - 1));
                pending_seals.push(PendingSeal {
                    tool: tools.len(),
                    mac_key: Some(seal_key),
                    signer: None,
                });
                tools.push(Tool {
                    instance,
                    zoi: zoi_of(&l, zone, &units),
                    params: Params::Authentication(AuthParams {
                        method: match alg {
                            MacAlg::CbcMacAes => AuthMethod::CbcMac,
                            _ => AuthMethod::Hmac,
                        },
                        hash: mac_hash_id(*alg),
                        scheme: None,
                        granularity: *granularity,
                        keys: Some(tpl),
                        key_id: [0; 32],
                        values,
                        seal: vec![0; seal_len],
                    }),
                });
            }
            ToolSpec::Sign {
                key,
                scheme,
                hash,
                granularity,
                zone,
            } => {
                check_zone(zone, "authentication")?;
                let pk = key.0.public_key()?;
                let suits = match scheme {
                    SignatureScheme::EcdsaP256 => pk.algorithm() == Algorithm::EcdsaP256Sha256,
                    _ => pk.algorithm() == Algorithm::RsaPssSha256,
                };
                if !suits {
                    return Err(invalid(format!(
                        "signature scheme {} does not suit a {} key",
                        scheme.name(),
                        pk.algorithm().name()
                    )));
                }
                let members = members(&l, zone);
                let units = group(&l, &members, *granularity, &|_| 0);
                let values = hash_units(&mut l, &out, instance, &units, *hash)?;
                let sig_len = pk.signature_len();
                let key_id = pk.fingerprint();
                pending_seals.push(PendingSeal {
                    tool: tools.len(),
                    mac_key: None,
                    signer: Some((key.clone(), pk)),
                });
                tools.push(Tool {
                    instance,
                    zoi: zoi_of(&l, zone, &units),
                    params: Params::Authentication(AuthParams {
                        method: AuthMethod::Signature,
                        hash: hash.id(),
                        scheme: Some(*scheme),
                        granularity: *granularity,
                        keys: None,
                        key_id,
                        values,
                        seal: vec![0; sig_len],
                    }),
                });
            }
        }
    }
    let mut sec = SecStream { flags: 0, tools };
    let canonical = sec.to_bytes(true);
    for PendingSeal {
        tool,
        mac_key,
        signer,
    } in pending_seals
    {
        let Params::Authentication(a) = &mut sec.tools[tool].params else {
            return Err(Error::new(
                ErrorKind::Internal,
                "seal of a non-authentication tool",
            ));
        };
        if let Some(k) = mac_key {
            let alg = mac_alg(a.method, a.hash)
                .ok_or_else(|| Error::new(ErrorKind::Internal, "MAC tool without algorithm"))?;
            a.seal = seal_mac(alg, &k, &canonical)?;
        } else if let Some((sk, pk)) = signer {
            let msg = crate::crypto::sha256(&[SIGN_LABEL, &canonical]);
            let pkcs1 = a.scheme == Some(SignatureScheme::RsaPkcs1v15);
            let sig = if pkcs1 {
                sk.0.sign_pkcs1v15(&msg)?
            } else {
                pk.normalize_signature(&sk.0.sign(&msg)?)?
            };
            // Sign nothing that does not verify (an external signer may
            // use another key or scheme).
            let ok = if pkcs1 {
                pk.verify_pkcs1v15(&msg, &sig)
            } else {
                pk.verify(&msg, &sig)
            };
            if !ok || sig.len() != a.seal.len() {
                return Err(Error::new(
                    ErrorKind::BadKey,
                    format!(
                        "the signer's {} signature does not verify with its public key",
                        a.scheme.map_or("", |s| s.name())
                    ),
                ));
            }
            a.seal = sig;
        }
    }
    insert_sec(&l.file, &out, &sec)
}

/// The MAC key of a level for `alg`: the level's 32-byte MAC key, cut to
/// the AES key length for CBC-MAC.
pub(crate) fn mac_key_for(alg: MacAlg, k: &JpsecKey) -> Zeroizing<Vec<u8>> {
    let m = k.mac_key();
    match alg {
        MacAlg::CbcMacAes => Zeroizing::new(m[..k.len()].to_vec()),
        _ => m,
    }
}

/// The hash identifier recorded for a MAC algorithm (0 for CBC-MAC).
pub(crate) fn mac_hash_id(alg: MacAlg) -> u8 {
    match alg {
        MacAlg::HmacSha1 => HashAlg::Sha1.id(),
        MacAlg::HmacSha256 => HashAlg::Sha256.id(),
        MacAlg::HmacRipemd160 => HashAlg::Ripemd160.id(),
        MacAlg::CbcMacAes => 0,
    }
}

/// The MAC algorithm of an authentication tool.
pub(crate) fn mac_alg(method: AuthMethod, hash: u8) -> Option<MacAlg> {
    match (method, HashAlg::from_id(hash)) {
        (AuthMethod::CbcMac, _) => Some(MacAlg::CbcMacAes),
        (AuthMethod::Hmac, Some(HashAlg::Sha1)) => Some(MacAlg::HmacSha1),
        (AuthMethod::Hmac, Some(HashAlg::Sha256)) => Some(MacAlg::HmacSha256),
        (AuthMethod::Hmac, Some(HashAlg::Ripemd160)) => Some(MacAlg::HmacRipemd160),
        _ => None,
    }
}

/// The seal of a MAC tool: `MAC(key of level N-1, "jsec/jpsec/v1/seal" ‖
/// canonical SEC stream)`.
pub(crate) fn seal_mac(alg: MacAlg, key: &[u8], canonical: &[u8]) -> Result<Vec<u8>> {
    let total = (SEAL_LABEL.len() + canonical.len()) as u64;
    let mut m = crate::crypto::mac::Mac::new(alg, key, total)?;
    m.update(SEAL_LABEL);
    m.update(canonical);
    Ok(m.finalize())
}

/// Hash every unit.
pub(crate) fn hash_units(
    l: &mut Layout,
    data: &[u8],
    instance: u32,
    units: &[(u8, Vec<usize>)],
    alg: HashAlg,
) -> Result<Vec<Vec<u8>>> {
    let lists: Vec<Vec<usize>> = units.iter().map(|u| u.1.clone()).collect();
    let mut values = Vec::with_capacity(units.len());
    unit_messages(l, data, instance, &lists, &mut |_, _, feed| {
        let mut h = crate::crypto::mac::Hasher::new(alg);
        feed(&mut |b| h.update(b));
        values.push(h.finalize());
        Ok(())
    })?;
    Ok(values)
}

/// The binding of a content identifier: `H("jsec/jpsec/v1/content-id" ‖
/// len(id) (u16) ‖ id ‖ len(authority) (u16) ‖ authority ‖ unit hashes)`.
pub(crate) fn content_binding(
    alg: HashAlg,
    id: &str,
    authority: &str,
    values: &[Vec<u8>],
) -> Vec<u8> {
    let mut h = crate::crypto::mac::Hasher::new(alg);
    h.update(CONTENT_LABEL);
    h.update(&(id.len() as u16).to_be_bytes());
    h.update(id.as_bytes());
    h.update(&(authority.len() as u16).to_be_bytes());
    h.update(authority.as_bytes());
    for v in values {
        h.update(v);
    }
    h.finalize()
}

/// Write `sec` into the codestream of `data` right after SIZ (replacing
/// any SEC segments there), re-wrapping a JP2 file.
pub(crate) fn insert_sec(f: &J2kFile, data: &[u8], sec: &SecStream) -> Result<Vec<u8>> {
    let segs = sec.to_segments()?;
    splice_sec(f, data, &segs)
}

/// Replace the SEC segments of `data`'s codestream by `segs` (possibly
/// empty), right after SIZ.
pub(crate) fn splice_sec(f: &J2kFile, data: &[u8], segs: &[u8]) -> Result<Vec<u8>> {
    let cs = &f.codestream;
    let mut code = Vec::with_capacity(cs.end() - cs.start + segs.len());
    let mut pos = cs.start;
    for s in &cs.main {
        if s.marker == SEC {
            code.extend_from_slice(&data[pos..s.offset]);
            pos = s.offset + s.bytes(data).len();
        }
        if s.marker == SIZ {
            let end = s.offset + s.bytes(data).len();
            code.extend_from_slice(&data[pos..end]);
            code.extend_from_slice(segs);
            pos = end;
        }
    }
    code.extend_from_slice(&data[pos..cs.end()]);
    match &f.boxes {
        None => {
            // Bytes before / after the codestream (none for a raw file
            // but kept as they were).
            let mut out = data[..cs.start].to_vec();
            out.extend_from_slice(&code);
            out.extend_from_slice(&data[cs.end()..]);
            Ok(out)
        }
        Some(bx) => boxes::replace_codestream(data, bx, &code),
    }
}
