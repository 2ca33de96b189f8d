//! Keys of the JPSEC tools: the master key, the hash chain of level keys
//! `k_{i+1} = H(k_i)`, per-level subkeys for the cipher and the MAC, and the
//! key check values that let a consumer find the level of the key it holds
//! (`docs/jpsec-format.md` §5).

use hmac::{Hmac, Mac as _};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::syntax::{Access, KeyTemplate};
use crate::{Error, ErrorKind, Result};

/// Domain label of the level chain.
const CHAIN: &[u8] = b"jsec/jpsec/v1/key-chain";
const ENC: &[u8] = b"jsec/jpsec/v1/enc";
const MAC: &[u8] = b"jsec/jpsec/v1/mac";
const CHECK: &[u8] = b"jsec/jpsec/v1/check";

/// A JPSEC key: 16, 24 or 32 bytes (the AES key length of the tools it
/// opens). Wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct JpsecKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for JpsecKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JpsecKey({} bits)", self.0.len() * 8)
    }
}

fn hmac(key: &[u8], label: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: this cannot fail.
    let mut m = <Hmac<Sha256> as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    m.update(label);
    m.finalize().into_bytes().into()
}

impl JpsecKey {
    /// A key from raw bytes: 16, 24 or 32 of them.
    pub fn from_bytes(b: &[u8]) -> Result<JpsecKey> {
        if ![16, 24, 32].contains(&b.len()) {
            return Err(Error::new(
                ErrorKind::BadKey,
                format!(
                    "a JPSEC key has 16, 24 or 32 bytes (AES-128/192/256), not {}",
                    b.len()
                ),
            ));
        }
        Ok(JpsecKey(Zeroizing::new(b.to_vec())))
    }

    /// A key from hex text (32, 48 or 64 digits; whitespace ignored).
    pub fn from_hex(text: &str) -> Result<JpsecKey> {
        let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if digits.len() % 2 != 0 {
            return Err(Error::new(
                ErrorKind::BadKey,
                "key: an odd number of hex digits",
            ));
        }
        let mut raw = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
        for (i, pair) in digits.chunks(2).enumerate() {
            let v = |c: u8| (c as char).to_digit(16);
            match (v(pair[0]), v(pair[1])) {
                (Some(a), Some(b)) => raw.push((a * 16 + b) as u8),
                _ => {
                    return Err(Error::new(
                        ErrorKind::BadKey,
                        format!("key: character {} is not a hex digit", 2 * i + 1),
                    ))
                }
            }
        }
        JpsecKey::from_bytes(&raw)
    }

    /// A fresh random key of `len` bytes.
    pub fn generate(len: usize) -> Result<JpsecKey> {
        let mut b = Zeroizing::new(vec![0u8; len]);
        crate::crypto::random_bytes(&mut b)?;
        JpsecKey::from_bytes(&b)
    }

    /// The raw bytes. Handle with care.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The next key of the chain:
    /// `SHA-256("jsec/jpsec/v1/key-chain" ‖ k)` truncated to `k`'s length.
    pub fn next(&self) -> JpsecKey {
        let mut h = Sha256::new();
        h.update(CHAIN);
        h.update(&*self.0);
        let mut d: [u8; 32] = h.finalize().into();
        let k = JpsecKey(Zeroizing::new(d[..self.len()].to_vec()));
        d.zeroize();
        k
    }

    /// The key `steps` positions down the chain.
    pub fn derive(&self, steps: usize) -> JpsecKey {
        let mut k = self.clone();
        for _ in 0..steps {
            k = k.next();
        }
        k
    }

    /// The cipher key of this level: `HMAC-SHA-256(k, "jsec/jpsec/v1/enc")`
    /// truncated to the key's length.
    pub fn cipher_key(&self) -> Zeroizing<Vec<u8>> {
        let mut d = hmac(&self.0, ENC);
        let k = Zeroizing::new(d[..self.len()].to_vec());
        d.zeroize();
        k
    }

    /// The MAC key of this level: `HMAC-SHA-256(k, "jsec/jpsec/v1/mac")`
    /// (32 bytes; CBC-MAC uses its first `len` bytes).
    pub fn mac_key(&self) -> Zeroizing<Vec<u8>> {
        let mut d = hmac(&self.0, MAC);
        let k = Zeroizing::new(d.to_vec());
        d.zeroize();
        k
    }

    /// The key check value: the first 8 bytes of
    /// `HMAC-SHA-256(k, "jsec/jpsec/v1/check")`.
    pub fn check_value(&self) -> [u8; 8] {
        let d = hmac(&self.0, CHECK);
        let mut c = [0u8; 8];
        c.copy_from_slice(&d[..8]);
        c
    }
}

/// The key template for `levels` levels under master key `k0`.
pub fn template(k0: &JpsecKey, access: Access, levels: usize) -> KeyTemplate {
    let mut checks = Vec::with_capacity(levels);
    let mut k = k0.clone();
    for i in 0..levels {
        if i > 0 {
            k = k.next();
        }
        checks.push(k.check_value());
    }
    KeyTemplate { access, checks }
}

/// The level keys a holder of `key` can compute under `t`: `None` when the
/// key is none of the levels; else `Some(i, keys)` where `keys[j]` is
/// `k_j` for `j >= i` (and `None` below).
pub fn open(t: &KeyTemplate, key: &JpsecKey) -> Option<(usize, Vec<Option<JpsecKey>>)> {
    let c = key.check_value();
    let i = t.checks.iter().position(|x| *x == c)?;
    let mut keys: Vec<Option<JpsecKey>> = vec![None; t.levels()];
    let mut k = key.clone();
    for (j, slot) in keys.iter_mut().enumerate().skip(i) {
        if j > i {
            k = k.next();
        }
        *slot = Some(k.clone());
    }
    Some((i, keys))
}

/// The key level of a packet at resolution `r` in layer `l` under `t`.
pub fn level_of(t: &KeyTemplate, resolution: u8, layer: u16) -> u8 {
    let n = t.levels();
    let top = n - 1;
    let v = match t.access {
        Access::Single => 0,
        Access::Resolution => top - (resolution as usize).min(top),
        Access::Layer => top - (layer as usize).min(top),
    };
    v as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_levels_and_checks() {
        let k0 = JpsecKey::from_bytes(&[7u8; 24]).unwrap();
        let t = template(&k0, Access::Resolution, 4);
        assert_eq!(t.levels(), 4);
        let k2 = k0.derive(2);
        assert_eq!(k2.len(), 24);
        let (i, keys) = open(&t, &k2).unwrap();
        assert_eq!(i, 2);
        assert!(keys[0].is_none() && keys[1].is_none());
        assert_eq!(keys[3].as_ref().unwrap(), &k0.derive(3));
        assert!(open(&t, &JpsecKey::from_bytes(&[8u8; 24]).unwrap()).is_none());
        // Lowest resolution at the last level, highest at level 0.
        assert_eq!(level_of(&t, 0, 0), 3);
        assert_eq!(level_of(&t, 3, 0), 0);
        assert_eq!(level_of(&t, 9, 0), 0);
        assert_ne!(k0.cipher_key().to_vec(), k0.mac_key()[..24].to_vec());
    }

    #[test]
    fn hex_and_lengths() {
        assert!(JpsecKey::from_hex(&"ab".repeat(16)).is_ok());
        assert!(JpsecKey::from_hex(&"ab".repeat(24)).is_ok());
        assert_eq!(
            JpsecKey::from_hex(&"ab".repeat(20)).unwrap_err().kind(),
            ErrorKind::BadKey
        );
        assert!(JpsecKey::from_hex("zz").is_err());
    }
}
