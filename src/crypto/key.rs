//! Symmetric keys: AES-128 or AES-256, zeroized on drop, redacted in `Debug`.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, ErrorKind, Result};

/// Position of a key in the FSPE hash chain: level 0 is the master key `k0`,
/// level 1 is `k1 = H(k0)`, level 2 is `k2 = H(k1)`.
pub type KeyLevel = u8;

/// Domain-separation label of the key hash chain (see `docs/fspe.md`).
const CHAIN_LABEL: &[u8] = b"jsec/fspe/v1/key-chain";

/// A symmetric key of 16 bytes (AES-128) or 32 bytes (AES-256).
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Key {
    bytes: Vec<u8>,
}

impl Key {
    /// A key from raw bytes; 16 or 32 bytes, anything else is [`ErrorKind::BadKey`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Key> {
        match bytes.len() {
            16 | 32 => Ok(Key {
                bytes: bytes.to_vec(),
            }),
            n => Err(Error::new(
                ErrorKind::BadKey,
                format!("bad key: {n} bytes, expected 16 (AES-128) or 32 (AES-256)"),
            )),
        }
    }

    /// A key from hexadecimal text: 32 or 64 hex digits; ASCII whitespace
    /// anywhere is ignored (so a key file may end with a newline or be wrapped).
    pub fn from_hex(text: &str) -> Result<Key> {
        let digits: Vec<u8> = text
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect::<Vec<u8>>();
        let mut bytes = Vec::with_capacity(digits.len() / 2);
        if digits.len() % 2 != 0 {
            return Err(Error::new(
                ErrorKind::BadKey,
                format!("bad key: {} hex digits, expected 32 or 64", digits.len()),
            ));
        }
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = hex_val(pair[0]);
            let lo = hex_val(pair[1]);
            match (hi, lo) {
                (Some(h), Some(l)) => bytes.push(h << 4 | l),
                _ => {
                    bytes.zeroize();
                    // 1-based position among the hex digits (whitespace skipped).
                    let pos = if hi.is_none() { 2 * i + 1 } else { 2 * i + 2 };
                    return Err(Error::new(
                        ErrorKind::BadKey,
                        format!("bad key: character {pos} is not a hex digit"),
                    ));
                }
            }
        }
        let key = Key::from_bytes(&bytes).map_err(|_| {
            Error::new(
                ErrorKind::BadKey,
                format!("bad key: {} hex digits, expected 32 or 64", digits.len()),
            )
        });
        bytes.zeroize();
        key
    }

    /// A fresh random key of `len` bytes (16 or 32) from the OS generator.
    pub fn generate(len: usize) -> Result<Key> {
        if len != 16 && len != 32 {
            return Err(Error::invalid_argument(format!(
                "key length {len} is not 16 or 32 bytes"
            )));
        }
        let mut bytes = vec![0u8; len];
        super::random_bytes(&mut bytes)?;
        Ok(Key { bytes })
    }

    /// The key as lowercase hex (what a key file holds). Handle with care.
    pub fn to_hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The raw key bytes. Handle with care.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Key length in bytes (16 or 32).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: a key is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The next key down the hash chain:
    /// `SHA-256("jsec/fspe/v1/key-chain" || k)` truncated to `k`'s length.
    pub fn next_in_chain(&self) -> Key {
        let mut d = super::sha256(&[CHAIN_LABEL, &self.bytes]);
        let k = Key {
            bytes: d[..self.bytes.len()].to_vec(),
        };
        d.zeroize();
        k
    }

    /// The key `steps` positions further down the hash chain.
    pub fn derive(&self, steps: u8) -> Key {
        let mut k = self.clone();
        for _ in 0..steps {
            k = k.next_in_chain();
        }
        k
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(AES-{}, redacted)", self.bytes.len() * 8)
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_roundtrip_and_whitespace() {
        let k = Key::from_hex("00112233 44556677\n8899aabbccddeeff\n").unwrap();
        assert_eq!(k.len(), 16);
        assert_eq!(k.to_hex(), "00112233445566778899aabbccddeeff");
        assert_eq!(Key::from_hex(&"ab".repeat(32)).unwrap().len(), 32);
    }

    #[test]
    fn bad_hex_names_the_bad_digit() {
        let mut hex = "00".repeat(16);
        hex.replace_range(5..6, "x");
        assert!(Key::from_hex(&hex)
            .unwrap_err()
            .message()
            .contains("character 6 "));
        hex = "00".repeat(16);
        hex.replace_range(4..5, "x");
        assert!(Key::from_hex(&hex)
            .unwrap_err()
            .message()
            .contains("character 5 "));
    }

    #[test]
    fn bad_hex_is_bad_key() {
        assert_eq!(Key::from_hex("abc").unwrap_err().kind(), ErrorKind::BadKey);
        assert_eq!(
            Key::from_hex(&"zz".repeat(16)).unwrap_err().kind(),
            ErrorKind::BadKey
        );
        assert_eq!(
            Key::from_hex(&"00".repeat(24)).unwrap_err().kind(),
            ErrorKind::BadKey
        );
    }

    #[test]
    fn chain_is_deterministic_and_distinct() {
        let k0 = Key::from_bytes(&[7u8; 32]).unwrap();
        let k1 = k0.next_in_chain();
        let k2 = k1.next_in_chain();
        assert_ne!(k0, k1);
        assert_ne!(k1, k2);
        assert_eq!(k0.derive(2), k2);
        assert!(!format!("{k0:?}").contains("07"));
    }
}
