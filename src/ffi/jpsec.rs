//! JPSEC (JPEG 2000 Part 8) protection: the `jsec_jpsec_policy` builder and
//! `jsec_jpsec_protect`; `jsec_jpsec_keys` and `jsec_jpsec_consume` with its
//! `jsec_jpsec_report`; `jsec_jpsec_derive_key`; and the per-packet hook
//! `jsec_jpsec_packet_protector` for applications that packetise
//! themselves.
//!
//! The enumerations are C enums (`jsec_jpsec_mode`, constants
//! `JSEC_JPSEC_MODE_CTR` ...), as in the rest of the API: parameters and
//! fields that take them are `uint32_t`, checked here, never transmuted
//! (docs/c-api.md, section 11).

use std::ffi::{c_char, CStr};
use std::io::Read;
use std::mem::{offset_of, size_of};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::boundary::jsec_status;
use super::boundary::{
    arc_into_ptr, boundary, box_into_ptr, check_out, field_ends, free_arc, free_box, null_arg,
    try_array, try_mut, try_ref, try_slice, try_slice_mut, write_out, write_sized, Castable,
    OwnershipArc, OwnershipBox, SizedStruct,
};
use super::sign::{jsec_buffer, jsec_sign_key, jsec_verify_key, SignKey, VerifyKey};
use crate::crypto::longterm::{Algorithm, LongTermSecret};
use crate::crypto::mac::{HashAlg, MacAlg};
use crate::crypto::modes::Mode;
use crate::jpsec::policy::{self, KeyKind, LoadedKey};
use crate::jpsec::syntax::{Access, SignatureScheme};
use crate::jpsec::zone::Key;
use crate::jpsec::Signer;
use crate::jpsec::{
    ConsumeOptions, Granularity, ImageZone, JpsecKey, Levels, PacketProtector, ProtectOptions,
    Region, Report, ToolSpec, UnitStatus,
};
use crate::{Error, ErrorKind, Result};
use std::sync::Arc;

// ---------------------------------------------------------------------------
// Enumerations (C enums; parameters and fields that take them are uint32_t,
// checked here, never transmuted)
// ---------------------------------------------------------------------------

/// AES cipher modes of the JPSEC tools (`jsec_jpsec_policy_add_encryption`,
/// `jsec_jpsec_policy_add_packet_encryption`,
/// `jsec_jpsec_packet_protector_new`). The values are the file format's
/// mode codes; the format-compliant cipher needs CFB, OFB or CTR.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_mode {
    /// AES electronic codebook (ciphertext stealing; not format-compliant).
    Ecb = 1,
    /// AES cipher block chaining (ciphertext stealing; not
    /// format-compliant).
    Cbc = 2,
    /// AES cipher feedback (128-bit segments).
    Cfb = 3,
    /// AES output feedback.
    Ofb = 4,
    /// AES counter mode.
    Ctr = 5,
}

/// How a keyed tool's access levels are laid out
/// (`jsec_jpsec_policy_set_levels`, `jsec_jpsec_packet_protector_new`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_access {
    /// One key for everything.
    Single = 0,
    /// One access level per resolution (the level key `k_i` opens the
    /// lowest resolutions; `k_0` opens everything).
    Resolution = 1,
    /// One access level per quality layer.
    Layer = 2,
}

/// The units a MAC, signature or hash tool covers (one value per unit).
/// The values are the file format's granularity codes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_granularity {
    /// One unit per tile.
    Tile = 1,
    /// One unit per tile and resolution.
    Resolution = 2,
    /// One unit per tile and quality layer.
    Layer = 3,
    /// One unit per tile and component.
    Component = 4,
    /// One unit per precinct (all its layers).
    Precinct = 5,
    /// One unit per packet.
    Packet = 6,
}

/// MAC algorithms (`jsec_jpsec_policy_add_mac`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_mac {
    /// HMAC-SHA-256 (32-byte tags).
    HmacSha256 = 1,
    /// HMAC-SHA-1 (20-byte tags).
    HmacSha1 = 2,
    /// HMAC-RIPEMD-160 (20-byte tags).
    HmacRipemd160 = 3,
    /// Length-prefixed AES CBC-MAC (16-byte tags).
    CbcMacAes = 4,
}

/// Hash functions (`jsec_jpsec_policy_add_hash`,
/// `jsec_jpsec_policy_add_signature`). The values are the JPSEC hash
/// identifiers.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_hash {
    /// SHA-1.
    Sha1 = 1,
    /// RIPEMD-160.
    Ripemd160 = 3,
    /// SHA-256.
    Sha256 = 7,
}

/// Signature schemes (`jsec_jpsec_policy_add_signature`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_signature {
    /// RSA PKCS#1 v1.5 with SHA-256 (an RSA key).
    RsaPkcs1v15 = 1,
    /// RSA-PSS with SHA-256, MGF1-SHA-256, salt 32 (an RSA key).
    RsaPss = 2,
    /// ECDSA P-256 with SHA-256 (an EC P-256 key).
    EcdsaP256 = 3,
}

/// What happened to one unit of a consumed file
/// (`jsec_jpsec_unit_report.status`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_jpsec_unit_status {
    /// Its MAC, signed hash or hash matched.
    Verified = 1,
    /// Its MAC or hash did not match: it was modified.
    Failed = 2,
    /// Decrypted.
    Decrypted = 3,
    /// Not decrypted or not verified: no key for its level.
    Locked = 4,
    /// Some of its packets were dropped by a transcoder: not verifiable.
    Incomplete = 5,
    /// All its packets were dropped by a transcoder.
    Absent = 6,
    /// Decrypted earlier by a partial consumer; not verifiable.
    Opened = 7,
    /// Not checked (the tool itself could not be checked, e.g. a signature
    /// without a public key, or a MAC without its key).
    Unchecked = 8,
}

/// Size of the text fields of `jsec_jpsec_tool_report`, terminating NUL
/// included.
pub const JSEC_JPSEC_TEXT_LEN: usize = 256;
/// Size of `jsec_jpsec_unit_report.zone`, terminating NUL included.
pub const JSEC_JPSEC_ZONE_LEN: usize = 128;
/// Length of a JPSEC initialisation vector (`jsec_jpsec_policy_set_iv`,
/// `jsec_jpsec_packet_protector_new`).
pub const JSEC_JPSEC_IV_LEN: usize = 16;

fn mode_of(v: u32) -> Result<Mode> {
    Ok(match v {
        m if m == jsec_jpsec_mode::Ecb as u32 => Mode::Ecb,
        m if m == jsec_jpsec_mode::Cbc as u32 => Mode::Cbc,
        m if m == jsec_jpsec_mode::Cfb as u32 => Mode::Cfb,
        m if m == jsec_jpsec_mode::Ofb as u32 => Mode::Ofb,
        m if m == jsec_jpsec_mode::Ctr as u32 => Mode::Ctr,
        _ => {
            return Err(Error::invalid_argument(format!(
                "mode {v}: not a jsec_jpsec_mode (1 ECB, 2 CBC, 3 CFB, 4 OFB, 5 CTR)"
            )))
        }
    })
}

fn access_of(v: u32) -> Result<Access> {
    Ok(match v {
        a if a == jsec_jpsec_access::Single as u32 => Access::Single,
        a if a == jsec_jpsec_access::Resolution as u32 => Access::Resolution,
        a if a == jsec_jpsec_access::Layer as u32 => Access::Layer,
        _ => {
            return Err(Error::invalid_argument(format!(
                "access {v}: not a jsec_jpsec_access (0 SINGLE, 1 RESOLUTION, 2 LAYER)"
            )))
        }
    })
}

fn granularity_of(v: u32) -> Result<Granularity> {
    Ok(match v {
        g if g == jsec_jpsec_granularity::Tile as u32 => Granularity::Tile,
        g if g == jsec_jpsec_granularity::Resolution as u32 => Granularity::Resolution,
        g if g == jsec_jpsec_granularity::Layer as u32 => Granularity::Layer,
        g if g == jsec_jpsec_granularity::Component as u32 => Granularity::Component,
        g if g == jsec_jpsec_granularity::Precinct as u32 => Granularity::Precinct,
        g if g == jsec_jpsec_granularity::Packet as u32 => Granularity::Packet,
        _ => {
            return Err(Error::invalid_argument(format!(
                "granularity {v}: not a jsec_jpsec_granularity (1 TILE to 6 PACKET)"
            )))
        }
    })
}

fn mac_of(v: u32) -> Result<MacAlg> {
    Ok(match v {
        m if m == jsec_jpsec_mac::HmacSha256 as u32 => MacAlg::HmacSha256,
        m if m == jsec_jpsec_mac::HmacSha1 as u32 => MacAlg::HmacSha1,
        m if m == jsec_jpsec_mac::HmacRipemd160 as u32 => MacAlg::HmacRipemd160,
        m if m == jsec_jpsec_mac::CbcMacAes as u32 => MacAlg::CbcMacAes,
        _ => return Err(Error::invalid_argument(format!(
            "MAC {v}: not a jsec_jpsec_mac (1 HMAC_SHA256, 2 HMAC_SHA1, 3 HMAC_RIPEMD160, 4 CBC_MAC_AES)"
        ))),
    })
}

fn hash_of(v: u32) -> Result<HashAlg> {
    Ok(match v {
        h if h == jsec_jpsec_hash::Sha1 as u32 => HashAlg::Sha1,
        h if h == jsec_jpsec_hash::Ripemd160 as u32 => HashAlg::Ripemd160,
        h if h == jsec_jpsec_hash::Sha256 as u32 => HashAlg::Sha256,
        _ => {
            return Err(Error::invalid_argument(format!(
                "hash {v}: not a jsec_jpsec_hash (1 SHA1, 3 RIPEMD160, 7 SHA256)"
            )))
        }
    })
}

fn scheme_of(v: u32) -> Result<SignatureScheme> {
    Ok(match v {
        s if s == jsec_jpsec_signature::RsaPkcs1v15 as u32 => SignatureScheme::RsaPkcs1v15,
        s if s == jsec_jpsec_signature::RsaPss as u32 => SignatureScheme::RsaPss,
        s if s == jsec_jpsec_signature::EcdsaP256 as u32 => SignatureScheme::EcdsaP256,
        _ => return Err(Error::invalid_argument(format!(
            "signature scheme {v}: not a jsec_jpsec_signature (1 RSA_PKCS1V15, 2 RSA_PSS, 3 ECDSA_P256)"
        ))),
    })
}

fn unit_status_code(s: UnitStatus) -> u32 {
    (match s {
        UnitStatus::Verified => jsec_jpsec_unit_status::Verified,
        UnitStatus::Failed => jsec_jpsec_unit_status::Failed,
        UnitStatus::Decrypted => jsec_jpsec_unit_status::Decrypted,
        UnitStatus::Locked => jsec_jpsec_unit_status::Locked,
        UnitStatus::Incomplete => jsec_jpsec_unit_status::Incomplete,
        UnitStatus::Absent => jsec_jpsec_unit_status::Absent,
        UnitStatus::Opened => jsec_jpsec_unit_status::Opened,
        UnitStatus::Unchecked => jsec_jpsec_unit_status::Unchecked,
    }) as u32
}

/// A NUL-terminated C string argument `name` as UTF-8.
///
/// # Safety
///
/// `s` is NULL or a NUL-terminated string valid for `'a`.
unsafe fn try_str<'a>(s: *const c_char, name: &str) -> Result<&'a str> {
    if s.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: non-NULL and NUL-terminated by the contract.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| Error::invalid_argument(format!("argument `{name}` is not UTF-8")))
}

/// Copy `text` into a fixed C array, NUL-terminated, cut at a UTF-8
/// character boundary when it does not fit.
fn fill_text<const N: usize>(dst: &mut [c_char; N], text: &str) {
    let mut n = text.len().min(N - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(&text.as_bytes()[..n]) {
        *d = if *b == 0 {
            b'?' as c_char
        } else {
            *b as c_char
        };
    }
    dst[n] = 0;
}

// ---------------------------------------------------------------------------
// Policy builder
// ---------------------------------------------------------------------------

/// A JPSEC protection policy: the tools `jsec_jpsec_protect` applies, in
/// order, and the IV. Opaque; a mutable builder made by
/// `jsec_jpsec_policy_new` (empty) or `jsec_jpsec_policy_new_from_toml`,
/// changed by `jsec_jpsec_policy_add_*` (append a tool) and
/// `jsec_jpsec_policy_set_*` (change the last tool added, or the IV).
/// Not thread-safe while being modified: one thread at a time (it may move
/// between threads); `jsec_jpsec_protect` only reads it and may run
/// concurrently with other readers. Keys are copied in and wiped when the
/// policy is freed with `jsec_jpsec_policy_free`.
pub struct jsec_jpsec_policy {
    _private: [u8; 0],
}

impl Castable for jsec_jpsec_policy {
    type RustType = ProtectOptions;
    type Ownership = OwnershipBox;
}

/// Largest key file `jsec_jpsec_policy_new_from_toml` reads.
const MAX_KEY_FILE: u64 = 1 << 20;

/// Read a key file for a policy: symmetric keys are hex text (the first
/// line that is not blank or a `#` comment), signing keys PKCS#8 / SEC 1 /
/// PKCS#1, PEM or DER.
fn load_policy_key(path: &Path, kind: KeyKind) -> Result<LoadedKey> {
    let file = std::fs::File::open(path)
        .map_err(|e| Error::new(ErrorKind::Io, format!("{}: {e}", path.display())))?;
    let mut raw = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Error::new(ErrorKind::Io, format!("{}: {e}", path.display())))?;
    if raw.len() as u64 > MAX_KEY_FILE {
        return Err(Error::new(
            ErrorKind::BadKey,
            format!("{}: not a key file (over 1 MiB)", path.display()),
        ));
    }
    match kind {
        KeyKind::Symmetric => {
            let text = std::str::from_utf8(&raw).map_err(|_| {
                Error::new(
                    ErrorKind::BadKey,
                    format!("{}: not hex text", path.display()),
                )
            })?;
            let line = text
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .find(|l| !l.is_empty())
                .ok_or_else(|| {
                    Error::new(ErrorKind::BadKey, format!("{}: no key", path.display()))
                })?;
            JpsecKey::from_hex(line)
                .map(LoadedKey::Symmetric)
                .map_err(|e| e.context(path.display()))
        }
        KeyKind::Signing => LongTermSecret::from_encoded(&raw)
            .map(|k| LoadedKey::Signing(Box::new(k)))
            .map_err(|e| e.context(path.display())),
    }
}

/// Make an empty policy (no tool, a random IV at each protection). On
/// success `*out` receives a builder the caller frees with
/// `jsec_jpsec_policy_free`. NULL `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_new(out: *mut *mut jsec_jpsec_policy) -> jsec_status {
    boundary("jsec_jpsec_policy_new", || {
        check_out(out, "out")?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(ProtectOptions::default())) };
        Ok(())
    })
}

/// Make a policy from its TOML text (`toml`, NUL-terminated UTF-8; the
/// format is in docs/jpsec.md: `[[tool]]` tables of type encrypt, mac,
/// sign, hash, content-id, and an optional `iv`). The key files the tools
/// name are read now, relative to `key_dir` (NUL-terminated UTF-8; NULL:
/// the current directory; absolute names are used as they are): symmetric keys as hex text (the
/// first line that is neither blank nor a `#` comment), signing keys as
/// PKCS#8 / SEC 1 / PKCS#1, PEM or DER. The keys are copied into the
/// policy; nothing refers to the text or the files afterwards.
///
/// On success `*out` receives a builder freed with `jsec_jpsec_policy_free`
/// (further tools may be added to it). Errors: `JSEC_ERR_INVALID_ARGUMENT`
/// for a policy that does not parse or names unknown settings (the message
/// names the tool and the setting); `JSEC_ERR_IO` for a key file that
/// cannot be read; `JSEC_ERR_BAD_KEY` for a key file that holds no usable
/// key. NULL `toml` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `toml` is NULL or a NUL-terminated string; `key_dir` is NULL or a
/// NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_new_from_toml(
    toml: *const c_char,
    key_dir: *const c_char,
    out: *mut *mut jsec_jpsec_policy,
) -> jsec_status {
    boundary("jsec_jpsec_policy_new_from_toml", || {
        check_out(out, "out")?;
        // SAFETY: `toml` is NULL or NUL-terminated by the contract.
        let text = unsafe { try_str(toml, "toml") }?;
        let dir = if key_dir.is_null() {
            PathBuf::from(".")
        } else {
            // SAFETY: `key_dir` is non-NULL and NUL-terminated by the contract.
            PathBuf::from(unsafe { try_str(key_dir, "key_dir") }?)
        };
        // A loader error keeps its kind (I/O, bad key) through the parser.
        let opts = policy::parse(text, &mut |kind, name| {
            load_policy_key(&dir.join(name), kind)
        })?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_jpsec_policy>(opts)) };
        Ok(())
    })
}

/// Add an encryption tool: the packet bodies are encrypted with AES under
/// `key` (`key_len` 16, 24 or 32 bytes: AES-128/192/256; this is the
/// master key `k0`) in `mode` (a `jsec_jpsec_mode`), format-compliant when
/// `compliant` (the ciphertext never forms a marker, so any JPEG 2000
/// decoder still decodes the file; needs CFB, OFB or CTR). Defaults: a
/// single access level, the whole image; change them with
/// `jsec_jpsec_policy_set_levels`, `_set_region`, `_set_resolutions`,
/// `_set_layers`, `_set_components`, `_set_tiles`, `_set_precincts`,
/// `_set_packets`, `_set_bytes` right after.
///
/// The key is copied (wiped with the policy). Errors, which change
/// nothing: `JSEC_ERR_BAD_KEY` for another key length;
/// `JSEC_ERR_INVALID_ARGUMENT` for an unknown mode, or `compliant` with
/// ECB or CBC. NULL `policy` or `key` is `JSEC_ERR_INVALID_ARGUMENT`. Not
/// thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `key` is NULL or readable for `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_add_encryption(
    policy: *mut jsec_jpsec_policy,
    key: *const u8,
    key_len: usize,
    mode: u32,
    compliant: bool,
) -> jsec_status {
    boundary("jsec_jpsec_policy_add_encryption", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `key` is readable for `key_len` bytes by the contract.
        let key = JpsecKey::from_bytes(unsafe { try_slice(key, key_len, "key") }?)?;
        let mode = mode_of(mode)?;
        if compliant && !mode.is_keystream() {
            return Err(Error::invalid_argument(format!(
                "the format-compliant cipher needs CFB, OFB or CTR, not {}",
                mode.name().to_uppercase()
            )));
        }
        p.tools.push(ToolSpec::Encrypt {
            key,
            mode,
            compliant,
            levels: Levels::Single,
            zone: ImageZone::default(),
        });
        Ok(())
    })
}

/// Add a whole-packet encryption tool: every packet of the zone is
/// encrypted entire (its header, EPH marker and body; an SOP marker
/// segment stays in clear) with AES under `key` (`key_len` 16, 24 or 32
/// bytes: the master key `k0`) in `mode` (a `jsec_jpsec_mode`; any mode,
/// the plain cipher: the output is never format-compliant). Unlike
/// `jsec_jpsec_policy_add_encryption`, the protected zone is not
/// decodable at all, even at a lower quality, and the file can no longer
/// be transcoded without keys (`jsec_j2k_transcode` refuses it with
/// `JSEC_ERR_UNSUPPORTED`); a consumer undoes it first, before anything
/// else can be read.
///
/// Such tools must be the last of the policy: `jsec_jpsec_protect` refuses
/// a policy where another kind of tool follows one
/// (`JSEC_ERR_INVALID_ARGUMENT`; they hide the packet headers the other
/// tools read), and a codestream whose packet headers are packed in PPM or
/// PPT segments (`JSEC_ERR_UNSUPPORTED`). Defaults: a single access level,
/// the whole image; change them with `jsec_jpsec_policy_set_levels` and the
/// zone modifiers (`_set_resolutions`, `_set_layers`, `_set_components`,
/// `_set_tiles`, `_set_precincts`, `_set_packets`, `_set_bytes`) right
/// after; it takes no region.
///
/// The key is copied (wiped with the policy). Errors, which change
/// nothing: `JSEC_ERR_BAD_KEY` for another key length;
/// `JSEC_ERR_INVALID_ARGUMENT` for an unknown mode. NULL `policy` or `key`
/// is `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `key` is NULL or readable for `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_add_packet_encryption(
    policy: *mut jsec_jpsec_policy,
    key: *const u8,
    key_len: usize,
    mode: u32,
) -> jsec_status {
    boundary("jsec_jpsec_policy_add_packet_encryption", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `key` is readable for `key_len` bytes by the contract.
        let key = JpsecKey::from_bytes(unsafe { try_slice(key, key_len, "key") }?)?;
        let mode = mode_of(mode)?;
        p.tools.push(ToolSpec::EncryptPackets {
            key,
            mode,
            levels: Levels::Single,
            zone: ImageZone::default(),
        });
        Ok(())
    })
}

/// Add a MAC tool: one MAC per unit of `granularity` (a
/// `jsec_jpsec_granularity`) with algorithm `mac` (a `jsec_jpsec_mac`)
/// under `key` (16, 24 or 32 bytes, the master key `k0`), plus a MAC over
/// the SEC parameters. Defaults: a single access level, the whole image
/// (`jsec_jpsec_policy_set_levels` and the zone modifiers
/// `_set_resolutions`, `_set_layers`, `_set_components`, `_set_tiles`,
/// `_set_precincts`, `_set_packets`, `_set_bytes` change them; a MAC tool
/// takes no region). Add it after an encryption tool to authenticate the
/// ciphertext (checked before decrypting).
///
/// The key is copied. Errors, which change nothing: `JSEC_ERR_BAD_KEY`
/// for another key length; `JSEC_ERR_INVALID_ARGUMENT` for an unknown
/// `mac` or `granularity`. NULL `policy` or `key` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `key` is NULL or readable for `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_add_mac(
    policy: *mut jsec_jpsec_policy,
    key: *const u8,
    key_len: usize,
    mac: u32,
    granularity: u32,
) -> jsec_status {
    boundary("jsec_jpsec_policy_add_mac", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `key` is readable for `key_len` bytes by the contract.
        let key = JpsecKey::from_bytes(unsafe { try_slice(key, key_len, "key") }?)?;
        let alg = mac_of(mac)?;
        let granularity = granularity_of(granularity)?;
        p.tools.push(ToolSpec::Mac {
            key,
            alg,
            granularity,
            levels: Levels::Single,
            zone: ImageZone::default(),
        });
        Ok(())
    })
}

/// Add a signature tool: a `hash` (a `jsec_jpsec_hash`) of every unit of
/// `granularity`, and one signature with `key` in `scheme` (a
/// `jsec_jpsec_signature`) over the SEC parameters that carry them.
/// `key` must be a long-term key (`jsec_sign_key_new_from_pkcs8`) or an
/// external signer (`jsec_sign_key_new_external`, e.g. an HSM): an EC P-256
/// key for `JSEC_JPSEC_SIGNATURE_ECDSA_P256`, an RSA key for the two RSA
/// schemes. An external signer is called from `jsec_jpsec_protect` (on the
/// calling thread) with the statement to sign; it makes ECDSA and RSA-PSS
/// signatures only, so `JSEC_JPSEC_SIGNATURE_RSA_PKCS1V15` with it makes
/// `jsec_jpsec_protect` fail with `JSEC_ERR_UNSUPPORTED`; a signature that
/// does not verify with its public key makes it fail with
/// `JSEC_ERR_BAD_KEY`. A BLS key or a scheme that does not suit the key is
/// `JSEC_ERR_INVALID_ARGUMENT`, as are unknown values; then nothing
/// changes. Defaults: the whole image (the zone modifiers
/// `_set_resolutions`, `_set_layers`, `_set_components`, `_set_tiles`,
/// `_set_precincts`, `_set_packets`, `_set_bytes` change it).
///
/// The policy keeps its own reference to the key (the handle may be freed
/// afterwards). NULL `policy` or `key` is `JSEC_ERR_INVALID_ARGUMENT`. Not
/// thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `key` is NULL or a live `jsec_sign_key`.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_add_signature(
    policy: *mut jsec_jpsec_policy,
    key: *const jsec_sign_key,
    scheme: u32,
    hash: u32,
    granularity: u32,
) -> jsec_status {
    boundary("jsec_jpsec_policy_add_signature", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let key: Signer = match key {
            SignKey::LongTerm(k) => k.clone().into(),
            SignKey::External(x) => Signer(Arc::new(x.clone())),
            SignKey::Bls(_) => {
                return Err(Error::invalid_argument(
                    "`key` is a BLS key: JPSEC signatures need an ECDSA P-256 or RSA key \
                     (jsec_sign_key_new_from_pkcs8) or an external signer",
                ))
            }
        };
        let scheme = scheme_of(scheme)?;
        let hash = hash_of(hash)?;
        let granularity = granularity_of(granularity)?;
        let pk = key.0.public_key()?;
        let suits = match scheme {
            SignatureScheme::EcdsaP256 => pk.algorithm() == Algorithm::EcdsaP256Sha256,
            _ => pk.algorithm() == Algorithm::RsaPssSha256,
        };
        if !suits {
            return Err(Error::invalid_argument(format!(
                "signature scheme {} does not suit a {} key",
                scheme.name(),
                pk.algorithm().name()
            )));
        }
        p.tools.push(ToolSpec::Sign {
            key,
            scheme,
            hash,
            granularity,
            zone: ImageZone::default(),
        });
        Ok(())
    })
}

/// Add a hash tool (integrity without keys): a `hash` (a
/// `jsec_jpsec_hash`) of every unit of `granularity` (a
/// `jsec_jpsec_granularity`). Defaults: the whole image (the zone
/// modifiers change it). Unknown values are
/// `JSEC_ERR_INVALID_ARGUMENT` and change nothing; so is NULL `policy`.
/// Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_add_hash(
    policy: *mut jsec_jpsec_policy,
    hash: u32,
    granularity: u32,
) -> jsec_status {
    boundary("jsec_jpsec_policy_add_hash", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let alg = hash_of(hash)?;
        let granularity = granularity_of(granularity)?;
        p.tools.push(ToolSpec::Hash {
            alg,
            granularity,
            zone: ImageZone::default(),
        });
        Ok(())
    })
}

/// Add a registered content identification: the identifier `id` (1 to
/// 1024 bytes of UTF-8) registered with `authority` (at most 1024 bytes;
/// may be empty), bound to SHA-256 hashes of every packet. The strings are
/// copied. Other lengths or text that is not UTF-8 are
/// `JSEC_ERR_INVALID_ARGUMENT` and change nothing; so are NULL `policy`,
/// `id` or `authority`. This tool takes no modifier. Not thread-safe for
/// the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `id` and `authority` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_add_content_id(
    policy: *mut jsec_jpsec_policy,
    id: *const c_char,
    authority: *const c_char,
) -> jsec_status {
    boundary("jsec_jpsec_policy_add_content_id", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: NULL or NUL-terminated by the contract.
        let id = unsafe { try_str(id, "id") }?;
        // SAFETY: NULL or NUL-terminated by the contract.
        let authority = unsafe { try_str(authority, "authority") }?;
        if id.is_empty() || id.len() > 1024 || authority.len() > 1024 {
            return Err(Error::invalid_argument(format!(
                "an identifier of 1 to 1024 bytes ({}) and an authority of at most 1024 bytes ({})",
                id.len(),
                authority.len()
            )));
        }
        p.tools.push(ToolSpec::ContentId {
            id: id.to_string(),
            authority: authority.to_string(),
            alg: HashAlg::Sha256,
        });
        Ok(())
    })
}

/// The last tool of a policy, for a modifier (`setting` names it in the
/// message).
fn last_tool<'a>(p: &'a mut ProtectOptions, setting: &str) -> Result<&'a mut ToolSpec> {
    p.tools.last_mut().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidState,
            format!("the policy has no tool yet to set {setting} of: add one first"),
        )
    })
}

fn tool_name(t: &ToolSpec) -> &'static str {
    match t {
        ToolSpec::Encrypt { .. } => "an encryption tool",
        ToolSpec::EncryptPackets { .. } => "a whole-packet encryption tool",
        ToolSpec::Mac { .. } => "a MAC tool",
        ToolSpec::Sign { .. } => "a signature tool",
        ToolSpec::Hash { .. } => "a hash tool",
        ToolSpec::ContentId { .. } => "a content identification",
    }
}

/// The zone of the last tool, for a modifier of `setting`.
fn last_zone<'a>(p: &'a mut ProtectOptions, setting: &str) -> Result<&'a mut ImageZone> {
    let t = last_tool(p, setting)?;
    let name = tool_name(t);
    match t {
        ToolSpec::Encrypt { zone, .. }
        | ToolSpec::EncryptPackets { zone, .. }
        | ToolSpec::Mac { zone, .. }
        | ToolSpec::Sign { zone, .. }
        | ToolSpec::Hash { zone, .. } => Ok(zone),
        ToolSpec::ContentId { .. } => Err(Error::new(
            ErrorKind::InvalidState,
            format!("the last tool is {name}, which covers the whole image: it takes no {setting}"),
        )),
    }
}

/// Set the access levels of the last tool added, an encryption tool (of
/// packet bodies or of whole packets) or a MAC tool:
/// `access` (a `jsec_jpsec_access`) and the number of levels `count` (0:
/// as many as the image has resolutions or layers; with
/// `JSEC_JPSEC_ACCESS_SINGLE` only 0 or 1). With N levels, `k0` opens
/// everything and `k_i` (`jsec_jpsec_derive_key`) the levels i and above:
/// by resolution, level N-1 is the lowest resolution. No tool, or a last
/// tool of another kind, is `JSEC_ERR_INVALID_STATE`; unknown values are
/// `JSEC_ERR_INVALID_ARGUMENT`; either changes nothing. NULL `policy` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_levels(
    policy: *mut jsec_jpsec_policy,
    access: u32,
    count: u8,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_levels", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let t = last_tool(p, "access levels")?;
        let name = tool_name(t);
        let slot = match t {
            ToolSpec::Encrypt { levels, .. }
            | ToolSpec::EncryptPackets { levels, .. }
            | ToolSpec::Mac { levels, .. } => levels,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    format!(
                        "the last tool is {name}: only encryption (of bodies or whole packets) \
                         and MAC tools have access levels"
                    ),
                ))
            }
        };
        let n = (count > 0).then_some(count);
        *slot = match access_of(access)? {
            Access::Single if count <= 1 => Levels::Single,
            Access::Single => {
                return Err(Error::invalid_argument(format!(
                    "{count} levels with single access: pass 0 or 1"
                )))
            }
            Access::Resolution => Levels::Resolution(n),
            Access::Layer => Levels::Layer(n),
        };
        Ok(())
    })
}

/// Restrict the last tool added, an encryption tool of packet bodies
/// (`jsec_jpsec_policy_add_encryption`), to the code-blocks that touch the
/// rectangle of `width` x `height` samples at (`x`, `y`) on the reference
/// grid (`outside` false), or to those outside it (`outside` true). A zero
/// width or height is `JSEC_ERR_INVALID_ARGUMENT`; no tool or a last tool
/// of another kind (the others, whole-packet encryption included, cover
/// whole packets) is
/// `JSEC_ERR_INVALID_STATE`; either changes nothing. NULL `policy` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_region(
    policy: *mut jsec_jpsec_policy,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    outside: bool,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_region", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let t = last_tool(p, "a region")?;
        let name = tool_name(t);
        let ToolSpec::Encrypt { zone, .. } = t else {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!("the last tool is {name}: only encryption tools of packet bodies take a region (the others cover whole packets)"),
            ));
        };
        if width == 0 || height == 0 {
            return Err(Error::invalid_argument(format!(
                "a region of {width} x {height}: the width and height must not be 0"
            )));
        }
        zone.region = Some((
            Region {
                x0: x,
                y0: y,
                x1: x.saturating_add(width),
                y1: y.saturating_add(height),
            },
            outside,
        ));
        Ok(())
    })
}

/// Restrict the last tool added to resolution levels `first` to `last`
/// (inclusive; 0 is the lowest resolution; at most 32). `first > last` or
/// `last > 32` is `JSEC_ERR_INVALID_ARGUMENT`; no tool or a content
/// identification is `JSEC_ERR_INVALID_STATE`; either changes nothing.
/// NULL `policy` is `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the
/// same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_resolutions(
    policy: *mut jsec_jpsec_policy,
    first: u8,
    last: u8,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_resolutions", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let zone = last_zone(p, "resolutions")?;
        if first > last || last > 32 {
            return Err(Error::invalid_argument(format!(
                "resolutions {first} to {last}: first <= last <= 32"
            )));
        }
        zone.resolutions = Some((first, last));
        Ok(())
    })
}

/// Restrict the last tool added to quality layers `first` to `last`
/// (inclusive, from 0). `first > last` is `JSEC_ERR_INVALID_ARGUMENT`; no
/// tool or a content identification is `JSEC_ERR_INVALID_STATE`; either
/// changes nothing. NULL `policy` is `JSEC_ERR_INVALID_ARGUMENT`. Not
/// thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_layers(
    policy: *mut jsec_jpsec_policy,
    first: u16,
    last: u16,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_layers", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let zone = last_zone(p, "layers")?;
        if first > last {
            return Err(Error::invalid_argument(format!(
                "layers {first} to {last}: first must not exceed last"
            )));
        }
        zone.layers = Some((first, last));
        Ok(())
    })
}

/// Restrict the last tool added to components `first` to `last`
/// (inclusive, from 0). `first > last` is `JSEC_ERR_INVALID_ARGUMENT`; no
/// tool or a content identification is `JSEC_ERR_INVALID_STATE`; either
/// changes nothing. NULL `policy` is `JSEC_ERR_INVALID_ARGUMENT`. Not
/// thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_components(
    policy: *mut jsec_jpsec_policy,
    first: u16,
    last: u16,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_components", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let zone = last_zone(p, "components")?;
        if first > last {
            return Err(Error::invalid_argument(format!(
                "components {first} to {last}: first must not exceed last"
            )));
        }
        zone.components = Some((first, last));
        Ok(())
    })
}

/// Restrict the last tool added to the `count` tiles listed in `tiles`
/// (copied); NULL `tiles` with `count` 0 selects every tile again. NULL
/// `tiles` with a non-zero `count`, or an empty list (`count` 0 with a
/// non-NULL `tiles`), is `JSEC_ERR_INVALID_ARGUMENT`; no tool or a content
/// identification is `JSEC_ERR_INVALID_STATE`; either changes nothing.
/// NULL `policy` is `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the
/// same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `tiles` is NULL or readable for `count` values.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_tiles(
    policy: *mut jsec_jpsec_policy,
    tiles: *const u16,
    count: usize,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_tiles", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let list = if tiles.is_null() {
            if count != 0 {
                return Err(null_arg("tiles"));
            }
            None
        } else {
            if count == 0 || count > 65536 {
                return Err(Error::invalid_argument(format!(
                    "{count} tiles: 1 to 65536 (NULL, 0 selects every tile)"
                )));
            }
            // SAFETY: `tiles` is non-NULL and readable for `count` u16
            // values (at most 128 KiB) by the contract.
            Some(unsafe { std::slice::from_raw_parts(tiles, count) }.to_vec())
        };
        let zone = last_zone(p, "tiles")?;
        zone.tiles = list;
        Ok(())
    })
}

/// Most pairs `jsec_jpsec_policy_set_packets` and `_set_bytes` take.
const MAX_RANGES: usize = 65536;

/// Copy the `count` pairs of `u32` at `ranges` (argument `name`, a list of
/// `what`): NULL with 0 is `None` (no restriction); NULL with a non-zero
/// count, or 0 with a non-NULL list, is an error, as is a pair `check`
/// refuses.
///
/// # Safety
///
/// `ranges` is NULL or readable for `2 * count` values (not necessarily
/// aligned).
unsafe fn read_ranges(
    ranges: *const u32,
    count: usize,
    name: &str,
    what: &str,
    check: impl Fn(u32, u32) -> Result<()>,
) -> Result<Option<Vec<(u32, u32)>>> {
    if ranges.is_null() {
        if count != 0 {
            return Err(null_arg(name));
        }
        return Ok(None);
    }
    if count == 0 || count > MAX_RANGES {
        return Err(Error::invalid_argument(format!(
            "{count} {what}: 1 to {MAX_RANGES} (NULL, 0 removes the restriction)"
        )));
    }
    let mut v = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: `2 * count` values (at most 512 KiB) are readable at
        // `ranges` by the contract; unaligned reads need no alignment.
        let (a, b) = unsafe {
            (
                ranges.add(2 * i).read_unaligned(),
                ranges.add(2 * i + 1).read_unaligned(),
            )
        };
        check(a, b).map_err(|e| e.context(format_args!("`{name}` pair {i}")))?;
        v.push((a, b));
    }
    Ok(Some(v))
}

/// Restrict the last tool added to precincts `first` to `last` (inclusive;
/// raster indices within each resolution level of each tile-component, as
/// `jsec_j2k_packet.precinct` gives them). `first > last` is
/// `JSEC_ERR_INVALID_ARGUMENT`; no tool or a content identification is
/// `JSEC_ERR_INVALID_STATE`; either changes nothing. NULL `policy` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_precincts(
    policy: *mut jsec_jpsec_policy,
    first: u32,
    last: u32,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_precincts", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        let zone = last_zone(p, "precincts")?;
        if first > last {
            return Err(Error::invalid_argument(format!(
                "precincts {first} to {last}: first must not exceed last"
            )));
        }
        zone.precincts = Some((first, last));
        Ok(())
    })
}

/// Restrict the last tool added to the packets whose sequence number
/// within their tile (0-based, in codestream order, as
/// `jsec_j2k_packet.seq` gives it) lies in one of the `count` ranges at
/// `ranges`: `count` pairs `first, last` (inclusive), so `2 * count`
/// values, copied. The numbers describe the codestream as it is when
/// `jsec_jpsec_protect` runs: the tool's packet list is fixed then (a
/// transcoder renumbers packets later). NULL `ranges` with `count` 0
/// removes the restriction. NULL `ranges` with a non-zero `count`, `count`
/// 0 with a non-NULL `ranges`, more than 65536 pairs, or a pair with
/// `first > last` is `JSEC_ERR_INVALID_ARGUMENT`; no tool or a content
/// identification is `JSEC_ERR_INVALID_STATE`; either changes nothing.
/// NULL `policy` is `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the
/// same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `ranges` is NULL or readable for `2 * count` values.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_packets(
    policy: *mut jsec_jpsec_policy,
    ranges: *const u32,
    count: usize,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_packets", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `ranges` is NULL or readable for `2 * count` values by the contract.
        let list = unsafe {
            read_ranges(ranges, count, "ranges", "packet ranges", |a, b| {
                if a > b {
                    Err(Error::invalid_argument(format!(
                        "packets {a} to {b}: first must not exceed last"
                    )))
                } else {
                    Ok(())
                }
            })
        }?;
        let zone = last_zone(p, "packets")?;
        zone.packets = list;
        Ok(())
    })
}

/// Restrict the last tool added to the packets whose body meets one of the
/// `count` byte ranges at `ranges`: `count` pairs `offset, length` (so
/// `2 * count` values, copied), the offset counted from the first byte of
/// the codestream's first SOT marker (`jsec_j2k_packet.body_offset` minus
/// that SOT's file offset); a packet with an empty body is selected when
/// its body's offset lies inside a range. Like packet numbers, the ranges
/// describe the codestream as it is when `jsec_jpsec_protect` runs. NULL
/// `ranges` with `count` 0 removes the restriction. NULL `ranges` with a
/// non-zero `count`, `count` 0 with a non-NULL `ranges`, more than 65536
/// pairs, or a pair with `length` 0 (it meets nothing) is
/// `JSEC_ERR_INVALID_ARGUMENT`; no tool or a content identification is
/// `JSEC_ERR_INVALID_STATE`; either changes nothing. NULL `policy` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `ranges` is NULL or readable for `2 * count` values.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_bytes(
    policy: *mut jsec_jpsec_policy,
    ranges: *const u32,
    count: usize,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_bytes", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `ranges` is NULL or readable for `2 * count` values by the contract.
        let list = unsafe {
            read_ranges(ranges, count, "ranges", "byte ranges", |offset, length| {
                if length == 0 {
                    Err(Error::invalid_argument(format!(
                        "an empty byte range at offset {offset}: the length must not be 0"
                    )))
                } else {
                    Ok(())
                }
            })
        }?;
        let zone = last_zone(p, "byte ranges")?;
        zone.bytes = list;
        Ok(())
    })
}

/// Fix the global IV of the policy's encryption tools to the
/// `JSEC_JPSEC_IV_LEN` (16) bytes at `iv` (copied), for reproducible
/// output; by default each `jsec_jpsec_protect` draws a random one. Never
/// reuse an IV with the same key for different images. Another length is
/// `JSEC_ERR_INVALID_ARGUMENT` and changes nothing; so are NULL `policy`
/// or `iv`. Not thread-safe for the same policy.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` used by no other thread;
/// `iv` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_set_iv(
    policy: *mut jsec_jpsec_policy,
    iv: *const u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_jpsec_policy_set_iv", || {
        // SAFETY: `policy` is NULL or a live, unshared handle by the contract.
        let p = unsafe { try_mut(policy, "policy") }?;
        // SAFETY: `iv` is readable for `len` bytes by the contract.
        let iv = unsafe { try_array::<JSEC_JPSEC_IV_LEN>(iv, len, "iv") }?;
        p.iv = Some(iv);
        Ok(())
    })
}

/// Release a policy (NULL is a no-op); its keys are wiped.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_policy_free(policy: *mut jsec_jpsec_policy) {
    boundary("jsec_jpsec_policy_free", || {
        // SAFETY: `policy` is NULL or a live handle given up by the caller.
        unsafe { free_box(policy) }
    })
}

/// Protect the JPEG 2000 codestream or JP2 file in `data` (`len` bytes)
/// with the tools of `policy`, in order, and write their SEC marker
/// segments after SIZ. Packet bodies change in place (same lengths), so a
/// format-compliant result decodes with any JPEG 2000 decoder.
///
/// On success `*out` receives the protected file in a buffer freed with
/// `jsec_buffer_free`; on failure `*out` is not written. Errors:
/// `JSEC_ERR_INVALID_ARGUMENT` for a policy without tools or one the file
/// cannot take (more levels than 255 ...); `JSEC_ERR_MALFORMED` for a
/// damaged file; `JSEC_ERR_UNSUPPORTED` for a file that already has SEC
/// segments. NULL `policy`, `data` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe as long as no thread modifies
/// the policy meanwhile.
///
/// # Safety
///
/// `policy` is NULL or a live `jsec_jpsec_policy` not being changed; `data`
/// is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_protect(
    policy: *const jsec_jpsec_policy,
    data: *const u8,
    len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_jpsec_protect", || {
        check_out(out, "out")?;
        // SAFETY: `policy` is NULL or a live handle by the contract.
        let p = unsafe { try_ref(policy, "policy") }?;
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(data, len, "data") }?;
        let result = crate::jpsec::protect(bytes, p)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(result)) };
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Consumption
// ---------------------------------------------------------------------------

/// The keys a consumer holds: JPSEC level keys (any level of any tool's
/// chain) and the public keys of trusted signers. Opaque; a mutable
/// builder (one thread at a time while keys are added; `jsec_jpsec_consume`
/// only reads it and may run concurrently with other readers). Keys are
/// copied in and wiped when it is freed with `jsec_jpsec_keys_free`.
pub struct jsec_jpsec_keys {
    _private: [u8; 0],
}

impl Castable for jsec_jpsec_keys {
    type RustType = ConsumeOptions;
    type Ownership = OwnershipBox;
}

/// Make an empty key set. On success `*out` receives it; free it with
/// `jsec_jpsec_keys_free`. NULL `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_keys_new(out: *mut *mut jsec_jpsec_keys) -> jsec_status {
    boundary("jsec_jpsec_keys_new", || {
        check_out(out, "out")?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(ConsumeOptions::default())) };
        Ok(())
    })
}

/// Add a level key (`len` 16, 24 or 32 bytes: `k0` or any `k_i` of
/// `jsec_jpsec_derive_key`), copied. Another length is `JSEC_ERR_BAD_KEY`
/// and changes nothing. NULL `keys` or `key` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for the same key set.
///
/// # Safety
///
/// `keys` is NULL or a live `jsec_jpsec_keys` used by no other thread;
/// `key` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_keys_add(
    keys: *mut jsec_jpsec_keys,
    key: *const u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_jpsec_keys_add", || {
        // SAFETY: `keys` is NULL or a live, unshared handle by the contract.
        let k = unsafe { try_mut(keys, "keys") }?;
        // SAFETY: `key` is readable for `len` bytes by the contract.
        let key = JpsecKey::from_bytes(unsafe { try_slice(key, len, "key") }?)?;
        k.keys.push(key);
        Ok(())
    })
}

/// Trust the signer whose public key is `key`, a long-term ECDSA P-256 or
/// RSA key (`jsec_verify_key_new_from_spki`, or `jsec_sign_key_public` of a
/// PKCS#8 key); a BLS key is `JSEC_ERR_INVALID_ARGUMENT` and changes
/// nothing. The key set keeps its own copy (the handle may be freed).
/// NULL `keys` or `key` is `JSEC_ERR_INVALID_ARGUMENT`. Not thread-safe for
/// the same key set.
///
/// # Safety
///
/// `keys` is NULL or a live `jsec_jpsec_keys` used by no other thread;
/// `key` is NULL or a live `jsec_verify_key`.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_keys_add_public(
    keys: *mut jsec_jpsec_keys,
    key: *const jsec_verify_key,
) -> jsec_status {
    boundary("jsec_jpsec_keys_add_public", || {
        // SAFETY: `keys` is NULL or a live, unshared handle by the contract.
        let k = unsafe { try_mut(keys, "keys") }?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let public = match unsafe { try_ref(key, "key") }? {
            VerifyKey::LongTerm(p) => p.clone(),
            VerifyKey::Bls(_) => {
                return Err(Error::invalid_argument(
                    "`key` is a BLS key: JPSEC signatures are ECDSA P-256 or RSA",
                ))
            }
        };
        k.public_keys.push(public);
        Ok(())
    })
}

/// Release a key set (NULL is a no-op); its keys are wiped.
///
/// # Safety
///
/// `keys` is NULL or a live `jsec_jpsec_keys` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_keys_free(keys: *mut jsec_jpsec_keys) {
    boundary("jsec_jpsec_keys_free", || {
        // SAFETY: `keys` is NULL or a live handle given up by the caller.
        unsafe { free_box(keys) }
    })
}

/// What `jsec_jpsec_consume` checked and opened, per tool and per unit.
/// Opaque and immutable: may be read from any number of threads at once;
/// freed with `jsec_jpsec_report_free`.
pub struct jsec_jpsec_report {
    _private: [u8; 0],
}

/// What a `jsec_jpsec_report` holds.
#[derive(Debug, Clone)]
pub struct ConsumeReport {
    report: Report,
    complete: bool,
}

impl Castable for jsec_jpsec_report {
    type RustType = ConsumeReport;
    type Ownership = OwnershipArc;
}

/// Consume the JPSEC-protected file in `data` (`len` bytes) with `keys`
/// (NULL: no keys): check the SEC parameters against the codestream,
/// verify every hash, MAC, signature and content identification that can
/// be verified, and decrypt the packets the keys open.
///
/// `JSEC_OK`: `*out` receives the result in a buffer freed with
/// `jsec_buffer_free`: the original file when every encrypted packet was
/// opened (no SEC segments; byte-identical to the file before protection),
/// else the file with the opened packets in clear and marked so in its SEC
/// segments (still protected, consumable again with other keys).
///
/// `JSEC_ERR_VERIFICATION_FAILED`: something was modified; nothing is
/// decrypted, `*out` is set to NULL, the report is still made (when
/// `report` is not NULL) and `jsec_last_error()` names the first failure
/// (tool and unit). This is the one failure that writes outputs.
///
/// When `report` is not NULL, `*report` receives a report (freed with
/// `jsec_jpsec_report_free`) on `JSEC_OK` and on
/// `JSEC_ERR_VERIFICATION_FAILED`. Other errors write nothing:
/// `JSEC_ERR_INVALID_ARGUMENT` for a file without SEC segments;
/// `JSEC_ERR_MALFORMED` for SEC parameters that do not match the
/// codestream or a damaged file; `JSEC_ERR_BAD_KEY` for keys none of which
/// opens any keyed tool of the file (a wrong key). NULL `data` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe as long as no thread modifies
/// `keys` meanwhile.
///
/// # Safety
///
/// `data` is NULL or readable for `len` bytes; `keys` is NULL or a live
/// `jsec_jpsec_keys` not being changed; `out` is NULL or writable; `report`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_consume(
    data: *const u8,
    len: usize,
    keys: *const jsec_jpsec_keys,
    out: *mut *mut jsec_buffer,
    report: *mut *const jsec_jpsec_report,
) -> jsec_status {
    boundary("jsec_jpsec_consume", || {
        check_out(out, "out")?;
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(data, len, "data") }?;
        let default_keys;
        let opts = if keys.is_null() {
            default_keys = ConsumeOptions::default();
            &default_keys
        } else {
            // SAFETY: `keys` is non-NULL and a live handle by the contract.
            unsafe { try_ref(keys, "keys") }?
        };
        let consumed = crate::jpsec::consume(bytes, opts)?;
        let failures = consumed.report.failures();
        let made = ConsumeReport {
            report: consumed.report,
            complete: consumed.complete,
        };
        let (buffer, result) = match consumed.output {
            Some(o) => (box_into_ptr::<jsec_buffer>(o), Ok(())),
            None => {
                let first = failures
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "a verification failed".to_string());
                let more = match failures.len() {
                    0 | 1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                (
                    std::ptr::null_mut(),
                    Err(Error::new(
                        ErrorKind::VerificationFailed,
                        format!("{first}{more}; nothing was decrypted"),
                    )),
                )
            }
        };
        // SAFETY: `out` checked non-NULL; `report` checked here; both
        // writable by the contract.
        unsafe {
            write_out(out, buffer);
            if !report.is_null() {
                write_out(report, arc_into_ptr::<jsec_jpsec_report>(made));
            }
        }
        result
    })
}

/// Whether every encrypted packet of the file is now in clear (`*out`
/// true: the output of `jsec_jpsec_consume` is the original file). False
/// after a failed verification. NULL arguments are
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_jpsec_report`; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_report_complete(
    report: *const jsec_jpsec_report,
    out: *mut bool,
) -> jsec_status {
    boundary("jsec_jpsec_report_complete", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.complete) };
        Ok(())
    })
}

/// Whether any verification failed (`*out` true: a tool's seal,
/// signature or binding, or a unit's MAC or hash). NULL arguments are
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_jpsec_report`; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_report_failed(
    report: *const jsec_jpsec_report,
    out: *mut bool,
) -> jsec_status {
    boundary("jsec_jpsec_report_failed", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.report.failed()) };
        Ok(())
    })
}

/// The number of tools in the file's SEC segments (`*out`), in SEC order.
/// NULL arguments are `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_jpsec_report`; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_report_tool_count(
    report: *const jsec_jpsec_report,
    out: *mut usize,
) -> jsec_status {
    boundary("jsec_jpsec_report_tool_count", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.report.tools.len()) };
        Ok(())
    })
}

/// What happened to one tool of a consumed file
/// (`jsec_jpsec_report_tool`). A caller struct: set `struct_size =
/// sizeof(jsec_jpsec_tool_report)` (docs/c-api.md).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct jsec_jpsec_tool_report {
    /// Set by the caller to `sizeof(jsec_jpsec_tool_report)`.
    pub struct_size: usize,
    /// The tool's instance number in the SEC segments.
    pub instance: u32,
    /// Its template: 1 decryption, 2 authentication (MAC or signature),
    /// 3 hash, 4 content identification; 0 for a tool of another profile
    /// (ignored).
    pub template_id: u32,
    /// True when the tool-level check failed (the seal MAC, the signature,
    /// the content binding).
    pub failed: bool,
    /// Units of the tool (packets for a decryption tool).
    pub units: usize,
    /// Units verified.
    pub verified: usize,
    /// Units whose MAC or hash did not match (modified).
    pub failed_units: usize,
    /// Packets decrypted.
    pub decrypted: usize,
    /// Units not decrypted or verified for lack of their level's key.
    pub locked: usize,
    /// Units partly dropped by a transcoder (not verifiable).
    pub incomplete: usize,
    /// Units dropped by a transcoder.
    pub absent: usize,
    /// Packets decrypted by an earlier, partial consumer.
    pub opened: usize,
    /// What the tool is, one line, NUL-terminated (cut at a UTF-8
    /// character boundary when longer than 255 bytes).
    pub description: [c_char; JSEC_JPSEC_TEXT_LEN],
    /// The tool-level outcome, one line, NUL-terminated (cut likewise).
    pub outcome: [c_char; JSEC_JPSEC_TEXT_LEN],
}

impl Default for jsec_jpsec_tool_report {
    fn default() -> Self {
        jsec_jpsec_tool_report {
            struct_size: size_of::<jsec_jpsec_tool_report>(),
            instance: 0,
            template_id: 0,
            failed: false,
            units: 0,
            verified: 0,
            failed_units: 0,
            decrypted: 0,
            locked: 0,
            incomplete: 0,
            absent: 0,
            opened: 0,
            description: [0; JSEC_JPSEC_TEXT_LEN],
            outcome: [0; JSEC_JPSEC_TEXT_LEN],
        }
    }
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_jpsec_tool_report {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_jpsec_tool_report:
            instance, template_id, failed, units, verified, failed_units, decrypted, locked,
            incomplete, absent, opened, description, outcome,
        )
    }
}

/// Tool `i` (0-based, SEC order) of the report, into the caller struct
/// `*out` (`struct_size` set). `i` past the end is
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing is written; so are NULL
/// `report` and `out`, and a `struct_size` below `sizeof(size_t)`.
/// Thread-safe.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_jpsec_report`; `out` is NULL or points
/// to `out->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_report_tool(
    report: *const jsec_jpsec_report,
    i: usize,
    out: *mut jsec_jpsec_tool_report,
) -> jsec_status {
    boundary("jsec_jpsec_report_tool", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let t = r.report.tools.get(i).ok_or_else(|| {
            Error::invalid_argument(format!("tool {i}: the report has {}", r.report.tools.len()))
        })?;
        let mut full = jsec_jpsec_tool_report {
            instance: t.instance,
            template_id: t.template.map_or(0, |x| x as u32),
            failed: t.failed,
            units: t.units.len(),
            verified: t.count(UnitStatus::Verified),
            failed_units: t.count(UnitStatus::Failed),
            decrypted: t.count(UnitStatus::Decrypted),
            locked: t.count(UnitStatus::Locked),
            incomplete: t.count(UnitStatus::Incomplete),
            absent: t.count(UnitStatus::Absent),
            opened: t.count(UnitStatus::Opened),
            ..Default::default()
        };
        fill_text(&mut full.description, &t.description);
        fill_text(&mut full.outcome, &t.outcome);
        // SAFETY: `out` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(out, &full, "out") }
    })
}

/// What happened to one unit of a tool (`jsec_jpsec_report_unit`). A
/// caller struct: set `struct_size = sizeof(jsec_jpsec_unit_report)`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct jsec_jpsec_unit_report {
    /// Set by the caller to `sizeof(jsec_jpsec_unit_report)`.
    pub struct_size: usize,
    /// A `jsec_jpsec_unit_status` value.
    pub status: u32,
    /// The unit's key level (0 for tools without keys).
    pub level: u8,
    /// The part of the image it covers ("tile 0 resolution 2"),
    /// NUL-terminated (cut at a UTF-8 boundary when longer than 127 bytes).
    pub zone: [c_char; JSEC_JPSEC_ZONE_LEN],
}

impl Default for jsec_jpsec_unit_report {
    fn default() -> Self {
        jsec_jpsec_unit_report {
            struct_size: size_of::<jsec_jpsec_unit_report>(),
            status: 0,
            level: 0,
            zone: [0; JSEC_JPSEC_ZONE_LEN],
        }
    }
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_jpsec_unit_report {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_jpsec_unit_report: status, level, zone)
    }
}

/// Unit `unit` of tool `tool` of the report, into the caller struct `*out`
/// (`struct_size` set). Indices past the end are
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing is written (the tool's `units`
/// in `jsec_jpsec_tool_report` is the count); so are NULL `report` and
/// `out`. Thread-safe.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_jpsec_report`; `out` is NULL or points
/// to `out->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_report_unit(
    report: *const jsec_jpsec_report,
    tool: usize,
    unit: usize,
    out: *mut jsec_jpsec_unit_report,
) -> jsec_status {
    boundary("jsec_jpsec_report_unit", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let t = r.report.tools.get(tool).ok_or_else(|| {
            Error::invalid_argument(format!(
                "tool {tool}: the report has {}",
                r.report.tools.len()
            ))
        })?;
        let u = t.units.get(unit).ok_or_else(|| {
            Error::invalid_argument(format!(
                "unit {unit} of tool {tool}, which has {}",
                t.units.len()
            ))
        })?;
        let mut full = jsec_jpsec_unit_report {
            status: unit_status_code(u.status),
            level: u.level,
            ..Default::default()
        };
        fill_text(&mut full.zone, &u.zone);
        // SAFETY: `out` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(out, &full, "out") }
    })
}

/// Release a report (NULL is a no-op). Must not race with another use of
/// the handle.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_jpsec_report` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_report_free(report: *const jsec_jpsec_report) {
    boundary("jsec_jpsec_report_free", || {
        // SAFETY: `report` is NULL or a live handle given up by the caller.
        unsafe { free_arc(report) }
    })
}

/// The level key `k_level` of the JPSEC key chain that starts at `k0`
/// (`len` 16, 24 or 32 bytes; `k_{i+1}` is a hash of `k_i`, so a holder of
/// `k_i` can compute the keys of the levels above but not below). `level`
/// 0 gives `k0` back. Exactly `len` bytes are written to `out`; the key is
/// secret: wipe it after use. Another key length is `JSEC_ERR_BAD_KEY`;
/// `out_len < len` is `JSEC_ERR_BUFFER_TOO_SMALL` and nothing is written;
/// NULL `k0` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `k0` is NULL or readable for `len` bytes; `out` is NULL or writable for
/// `out_len` bytes and does not overlap `k0`.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_derive_key(
    k0: *const u8,
    len: usize,
    level: u8,
    out: *mut u8,
    out_len: usize,
) -> jsec_status {
    boundary("jsec_jpsec_derive_key", || {
        // SAFETY: `k0` is readable for `len` bytes by the contract.
        let key = JpsecKey::from_bytes(unsafe { try_slice(k0, len, "k0") }?)?;
        // SAFETY: `out` is writable for `out_len` bytes by the contract.
        let dst = unsafe { try_slice_mut(out, out_len, "out") }?;
        if dst.len() < key.len() {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("`out` holds {} bytes; the key has {}", dst.len(), key.len()),
            ));
        }
        let derived = key.derive(level as usize);
        dst[..derived.len()].copy_from_slice(derived.as_bytes());
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// Per-packet hook
// ---------------------------------------------------------------------------

/// The identity of a packet (`jsec_jpsec_packet_protect`): its tile,
/// quality layer, resolution level, component and precinct (the fields of
/// `jsec_j2k_packet` with the same names). A caller struct read by jsec:
/// set `struct_size = sizeof(jsec_jpsec_packet_id)`; a smaller
/// `struct_size` that lacks one of these fields is
/// `JSEC_ERR_INVALID_ARGUMENT`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct jsec_jpsec_packet_id {
    /// Set by the caller to `sizeof(jsec_jpsec_packet_id)`.
    pub struct_size: usize,
    /// Tile index.
    pub tile: u16,
    /// Quality layer.
    pub layer: u16,
    /// Resolution level (0: the lowest).
    pub resolution: u8,
    /// Component.
    pub component: u16,
    /// Precinct (raster index within the resolution).
    pub precinct: u32,
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_jpsec_packet_id {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_jpsec_packet_id: tile, layer, resolution, component, precinct)
    }
}

/// Read the packet identity at `id` (argument `name`).
///
/// # Safety
///
/// `id` is NULL or points to `id->struct_size` readable bytes.
unsafe fn read_packet_id(id: *const jsec_jpsec_packet_id, name: &str) -> Result<Key> {
    if id.is_null() {
        return Err(null_arg(name));
    }
    // SAFETY: non-NULL; by the contract it starts with a readable size_t
    // (possibly unaligned).
    let size = unsafe { id.cast::<usize>().read_unaligned() };
    let need = offset_of!(jsec_jpsec_packet_id, precinct) + size_of::<u32>();
    if size < need {
        return Err(Error::invalid_argument(format!(
            "`{name}->struct_size` is {size}: set it to sizeof(jsec_jpsec_packet_id)"
        )));
    }
    // SAFETY: `size >= need`, so every field read lies within the
    // caller's `struct_size` readable bytes; unaligned reads need no
    // alignment and `addr_of!` makes no reference.
    let key = unsafe {
        (
            std::ptr::addr_of!((*id).tile).read_unaligned(),
            std::ptr::addr_of!((*id).layer).read_unaligned(),
            std::ptr::addr_of!((*id).resolution).read_unaligned(),
            std::ptr::addr_of!((*id).component).read_unaligned(),
            std::ptr::addr_of!((*id).precinct).read_unaligned(),
        )
    };
    Ok(key)
}

/// Encrypts and decrypts single packet bodies exactly as a decryption tool
/// of jsec's JPSEC profile does for a whole file (same level keys, same
/// per-packet IVs, same cipher), for applications that packetise
/// themselves (JPIP-style servers). Opaque and immutable after
/// `jsec_jpsec_packet_protector_new`: may be used from any number of
/// threads at once; freed with `jsec_jpsec_packet_protector_free` (its
/// keys are wiped).
pub struct jsec_jpsec_packet_protector {
    _private: [u8; 0],
}

impl Castable for jsec_jpsec_packet_protector {
    type RustType = PacketProtector;
    type Ownership = OwnershipArc;
}

/// Make a packet protector. `key` (`key_len` 16, 24 or 32 bytes) is the
/// level key `k_{key_level}` of a chain of `levels` access levels by
/// `access` (a `jsec_jpsec_access`; `JSEC_JPSEC_ACCESS_SINGLE` needs
/// `levels` 1); `key_level` 0 means `key` is `k0`, which protects and
/// unprotects every packet; a higher level only the packets of its level
/// and above (the lowest resolutions or layers). `mode` (a
/// `jsec_jpsec_mode`), `compliant` and the 16-byte global `iv` must be the
/// ones of the decryption tool whose packets it handles (the IV of each
/// packet is derived from `iv` and the packet's identity).
///
/// The key and IV are copied. On success `*out` receives a protector freed
/// with `jsec_jpsec_packet_protector_free`. Errors: `JSEC_ERR_BAD_KEY` for
/// another key length; `JSEC_ERR_INVALID_ARGUMENT` for unknown values, 0
/// levels, `key_level >= levels`, `compliant` with ECB or CBC, an IV of
/// another length. NULL `key`, `iv` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or readable for `key_len` bytes; `iv` is NULL or readable
/// for `iv_len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_packet_protector_new(
    key: *const u8,
    key_len: usize,
    key_level: u8,
    access: u32,
    levels: u8,
    mode: u32,
    compliant: bool,
    iv: *const u8,
    iv_len: usize,
    out: *mut *const jsec_jpsec_packet_protector,
) -> jsec_status {
    boundary("jsec_jpsec_packet_protector_new", || {
        check_out(out, "out")?;
        // SAFETY: `key` is readable for `key_len` bytes by the contract.
        let key = JpsecKey::from_bytes(unsafe { try_slice(key, key_len, "key") }?)?;
        let access = access_of(access)?;
        let mode = mode_of(mode)?;
        // SAFETY: `iv` is readable for `iv_len` bytes by the contract.
        let iv = unsafe { try_array::<JSEC_JPSEC_IV_LEN>(iv, iv_len, "iv") }?;
        let pp = if key_level == 0 {
            PacketProtector::new(&key, access, levels as usize, mode, compliant, iv)?
        } else {
            PacketProtector::with_level(
                &key,
                key_level as usize,
                access,
                levels as usize,
                mode,
                compliant,
                iv,
            )?
        };
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr::<jsec_jpsec_packet_protector>(pp)) };
        Ok(())
    })
}

/// Encrypt or decrypt `body` (`len` bytes) in place; unchanged on failure.
///
/// # Safety
///
/// As for `jsec_jpsec_packet_protect`.
unsafe fn packet_in_place(
    protector: *const jsec_jpsec_packet_protector,
    id: *const jsec_jpsec_packet_id,
    body: *mut u8,
    len: usize,
    encrypt: bool,
) -> Result<()> {
    // SAFETY: `protector` is NULL or a live handle by the contract.
    let pp = unsafe { try_ref(protector, "protector") }?;
    // SAFETY: `id` is NULL or holds `struct_size` readable bytes by the contract.
    let key = unsafe { read_packet_id(id, "id") }?;
    // SAFETY: `body` is writable for `len` bytes by the contract.
    let body = unsafe { try_slice_mut(body, len, "body") }?;
    // Work on a copy so that a failure leaves the caller's bytes unchanged.
    let mut work = body.to_vec();
    if encrypt {
        pp.protect(key, &mut work)?;
    } else {
        pp.unprotect(key, &mut work)?;
    }
    body.copy_from_slice(&work);
    Ok(())
}

/// Encrypt the body of the packet `id` (`body`, `len` bytes: the packet's
/// data after its header, as `jsec_j2k_packet` locates it) in place, as the
/// whole-file encryption tool with the protector's parameters would. The
/// length does not change; with `compliant` the result contains no marker.
/// A packet at a level below the key's is `JSEC_ERR_BAD_KEY`; a
/// format-compliant cipher refusing the body is `JSEC_ERR_INVALID_ARGUMENT`
/// or `JSEC_ERR_MALFORMED`; `body` is unchanged on failure. NULL
/// `protector`, `id` or `body` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe (each call owns its body).
///
/// # Safety
///
/// `protector` is NULL or a live `jsec_jpsec_packet_protector`; `id` is
/// NULL or points to `id->struct_size` readable bytes; `body` is NULL or
/// readable and writable for `len` bytes, used by no one else during the
/// call.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_packet_protect(
    protector: *const jsec_jpsec_packet_protector,
    id: *const jsec_jpsec_packet_id,
    body: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_jpsec_packet_protect", || {
        // SAFETY: forwarded contract.
        unsafe { packet_in_place(protector, id, body, len, true) }
    })
}

/// Decrypt the body of the packet `id` in place: the inverse of
/// `jsec_jpsec_packet_protect`, and what `jsec_jpsec_consume` does to each
/// packet its keys open. A packet at a level below the key's is
/// `JSEC_ERR_BAD_KEY`; `body` is unchanged on failure. NULL `protector`,
/// `id` or `body` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe (each call
/// owns its body).
///
/// # Safety
///
/// As for `jsec_jpsec_packet_protect`.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_packet_unprotect(
    protector: *const jsec_jpsec_packet_protector,
    id: *const jsec_jpsec_packet_id,
    body: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_jpsec_packet_unprotect", || {
        // SAFETY: forwarded contract.
        unsafe { packet_in_place(protector, id, body, len, false) }
    })
}

/// Release a packet protector (NULL is a no-op); its keys are wiped once
/// no reference remains. Must not race with another use of the handle.
///
/// # Safety
///
/// `protector` is NULL or a live `jsec_jpsec_packet_protector` not used
/// after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_jpsec_packet_protector_free(
    protector: *const jsec_jpsec_packet_protector,
) {
    boundary("jsec_jpsec_packet_protector_free", || {
        // SAFETY: `protector` is NULL or a live handle given up by the caller.
        unsafe { free_arc(protector) }
    })
}
