//! AES-CTR keystream addressed by byte position.

use aes::{Aes128, Aes256};
use cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};

use super::Key;

type Ctr128 = ctr::Ctr128BE<Aes128>;
type Ctr256 = ctr::Ctr128BE<Aes256>;

enum Inner {
    A128(Box<Ctr128>),
    A256(Box<Ctr256>),
}

/// An AES-CTR keystream (128-bit big-endian counter over the whole 16-byte
/// initial counter block) that can be read at any byte position.
pub struct Keystream {
    inner: Inner,
}

impl Keystream {
    /// The keystream of `key` (AES-128 or AES-256 by length) with initial counter block `iv`.
    pub fn new(key: &Key, iv: &[u8; 16]) -> Keystream {
        let inner = match key.len() {
            16 => Inner::A128(Box::new(Ctr128::new(key.as_bytes().into(), iv.into()))),
            _ => Inner::A256(Box::new(Ctr256::new(key.as_bytes().into(), iv.into()))),
        };
        Keystream { inner }
    }

    /// Write keystream bytes `[pos, pos + out.len())` into `out`.
    pub fn fill(&mut self, pos: u64, out: &mut [u8]) {
        out.fill(0);
        match &mut self.inner {
            Inner::A128(c) => {
                c.seek(pos);
                c.apply_keystream(out);
            }
            Inner::A256(c) => {
                c.seek(pos);
                c.apply_keystream(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nist_sp800_38a_ctr_aes256_block1() {
        // NIST SP 800-38A F.5.5 CTR-AES256.Encrypt, block #1.
        let key = Key::from_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
            .unwrap();
        let iv: [u8; 16] = [
            0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
            0xfe, 0xff,
        ];
        let pt = [
            0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93,
            0x17, 0x2a,
        ];
        let ct = [
            0x60, 0x1e, 0xc3, 0x13, 0x77, 0x57, 0x89, 0xa5, 0xb7, 0xa7, 0xf5, 0x04, 0xbb, 0xf3,
            0xd2, 0x28,
        ];
        let mut ks = [0u8; 16];
        Keystream::new(&key, &iv).fill(0, &mut ks);
        let got: Vec<u8> = ks.iter().zip(pt).map(|(k, p)| k ^ p).collect();
        assert_eq!(got, ct);
    }

    #[test]
    fn positional_access_matches_sequential() {
        let key = Key::from_bytes(&[3u8; 16]).unwrap();
        let mut ks = Keystream::new(&key, &[9u8; 16]);
        let mut all = vec![0u8; 100];
        ks.fill(0, &mut all);
        let mut part = vec![0u8; 37];
        ks.fill(41, &mut part);
        assert_eq!(&all[41..78], &part[..]);
    }
}
