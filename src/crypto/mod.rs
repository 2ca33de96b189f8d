//! Cryptographic building blocks over RustCrypto and blst: symmetric keys,
//! positional AES-CTR keystreams, the hash-based derivations used by the
//! formats, and BLS signatures ([`bls`]).

pub mod bls;
mod key;
mod keystream;
pub mod longterm;
pub mod mac;
pub mod modes;

pub use key::{Key, KeyLevel};
pub use keystream::Keystream;

use sha2::{Digest, Sha256};

/// SHA-256 of the concatenation of `parts`, each prefixed by nothing (callers
/// put fixed-size or self-delimiting fields only).
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Fill `out` with bytes from the operating system's random generator.
pub fn random_bytes(out: &mut [u8]) -> crate::Result<()> {
    getrandom::getrandom(out).map_err(|e| {
        crate::Error::new(
            crate::ErrorKind::Internal,
            format!("system random generator failed: {e}"),
        )
    })
}
