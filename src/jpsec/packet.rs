//! The per-packet hook: encrypt or decrypt one packet body in place, given
//! its identity, exactly as a decryption tool of the profile does for a
//! whole file (same level keys, same IV derivation, same cipher). For
//! applications that packetise themselves (JPIP-style servers): a packet
//! protected here and placed in a codestream whose SEC segments carry the
//! same parameters is consumed by [`crate::jpsec::consume`].

use super::keys::{self, JpsecKey};
use super::syntax::{Access, DecryptionParams, Granularity, KeyTemplate, CIPHER_AES};
use super::zone::{self, Key};
use crate::crypto::modes::{Mode, UnitCipher};
use crate::{Error, ErrorKind, Result};

/// Encrypts and decrypts packet bodies under one key of a level chain.
pub struct PacketProtector {
    held: usize,
    keys: KeyTemplate,
    mode: Mode,
    compliant: bool,
    iv: [u8; 16],
    ciphers: Vec<Option<UnitCipher>>,
    key_bits: u16,
}

impl std::fmt::Debug for PacketProtector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketProtector")
            .field("level", &self.held)
            .field("levels", &self.keys.levels())
            .field("mode", &self.mode)
            .field("compliant", &self.compliant)
            .finish()
    }
}

impl PacketProtector {
    /// A protector holding `k0` (it can protect and unprotect every
    /// level). `levels` is the number of access levels (1 with
    /// [`Access::Single`]).
    pub fn new(
        k0: &JpsecKey,
        access: Access,
        levels: usize,
        mode: Mode,
        compliant: bool,
        iv: [u8; 16],
    ) -> Result<PacketProtector> {
        if levels == 0 || levels > 255 || (access == Access::Single && levels != 1) {
            return Err(Error::invalid_argument(format!(
                "{levels} access levels with {} access",
                access.name()
            )));
        }
        let tpl = keys::template(k0, access, levels);
        PacketProtector::build(k0, 0, tpl, mode, compliant, iv)
    }

    /// A protector holding `key`, the level key `k_level` of a chain of
    /// `levels` levels (a consumer's view): it unprotects packets at
    /// levels `level` and above (the lower resolutions or layers), and
    /// reports `BadKey` for the others.
    pub fn with_level(
        key: &JpsecKey,
        level: usize,
        access: Access,
        levels: usize,
        mode: Mode,
        compliant: bool,
        iv: [u8; 16],
    ) -> Result<PacketProtector> {
        if levels == 0
            || levels > 255
            || level >= levels
            || (access == Access::Single && levels != 1)
        {
            return Err(Error::invalid_argument(format!(
                "key level {level} of {levels} access levels with {} access",
                access.name()
            )));
        }
        // Key check values of the levels below are unknown to a holder
        // of k_level: left zero (params() is then not available).
        let mut checks = vec![[0u8; 8]; levels];
        let mut k = key.clone();
        for (j, c) in checks.iter_mut().enumerate().skip(level) {
            if j > level {
                k = k.next();
            }
            *c = k.check_value();
        }
        PacketProtector::build(
            key,
            level,
            KeyTemplate { access, checks },
            mode,
            compliant,
            iv,
        )
    }

    /// A protector for the decryption tool `params`, holding `key` (any
    /// level's key): it unprotects the levels at and below the key's
    /// (`BadKey` when the key is none of them).
    pub fn for_tool(params: &DecryptionParams, key: &JpsecKey) -> Result<PacketProtector> {
        let (i, _) = keys::open(&params.keys, key).ok_or_else(|| {
            Error::new(
                ErrorKind::BadKey,
                "wrong key: it is none of the tool's access-level keys",
            )
        })?;
        let mode = Mode::from_code(params.mode)
            .ok_or_else(|| Error::new(ErrorKind::Malformed, "cipher mode"))?;
        PacketProtector::build(
            key,
            i,
            params.keys.clone(),
            mode,
            params.compliant,
            params.iv,
        )
    }

    fn build(
        key: &JpsecKey,
        held: usize,
        tpl: KeyTemplate,
        mode: Mode,
        compliant: bool,
        iv: [u8; 16],
    ) -> Result<PacketProtector> {
        if compliant && !mode.is_keystream() {
            return Err(Error::invalid_argument(format!(
                "the format-compliant cipher needs a keystream mode (ctr, ofb, cfb), not {}",
                mode.name()
            )));
        }
        let mut ciphers = Vec::with_capacity(tpl.levels());
        let mut k = key.clone();
        for j in 0..tpl.levels() {
            if j < held {
                ciphers.push(None);
                continue;
            }
            if j > held {
                k = k.next();
            }
            ciphers.push(Some(UnitCipher::new(&k.cipher_key(), mode)?));
        }
        Ok(PacketProtector {
            held,
            keys: tpl,
            mode,
            compliant,
            iv,
            ciphers,
            key_bits: (key.len() * 8) as u16,
        })
    }

    /// The level of the key held (0 for `k0`).
    pub fn level(&self) -> usize {
        self.held
    }

    /// The decryption-tool parameters a SEC segment must carry for the
    /// packets this protector encrypts; `None` unless it holds `k0`.
    pub fn params(&self) -> Option<DecryptionParams> {
        if self.held != 0 {
            return None;
        }
        Some(DecryptionParams {
            cipher: CIPHER_AES,
            key_bits: self.key_bits,
            mode: self.mode.code(),
            padding: (!self.mode.is_keystream()) as u8,
            compliant: self.compliant,
            domain: 1,
            granularity: Granularity::Packet,
            keys: self.keys.clone(),
            iv: self.iv,
        })
    }

    fn cipher(&self, k: Key) -> Result<&UnitCipher> {
        let lv = keys::level_of(&self.keys, k.2, k.1) as usize;
        self.ciphers
            .get(lv)
            .and_then(|c| c.as_ref())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::BadKey,
                    format!(
                        "{}: the packet is at access level {lv}; the key held is level {}",
                        zone::describe(k),
                        self.held
                    ),
                )
            })
    }

    /// Encrypt the body of packet `k` (tile, layer, resolution, component,
    /// precinct) in place, as a whole-file decryption tool does.
    pub fn protect(&self, k: Key, body: &mut [u8]) -> Result<()> {
        self.crypt(k, body, true)
    }

    /// Decrypt the body of packet `k` in place.
    pub fn unprotect(&self, k: Key, body: &mut [u8]) -> Result<()> {
        self.crypt(k, body, false)
    }

    fn crypt(&self, k: Key, body: &mut [u8], encrypt: bool) -> Result<()> {
        let c = self.cipher(k)?;
        let iv = zone::packet_iv(&self.iv, k);
        zone::crypt_body(c, &iv, k, body, None, self.compliant, encrypt)
    }
}
