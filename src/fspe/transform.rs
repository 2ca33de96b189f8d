//! The per-byte cipher of FSPE and the derivation of per-image IVs.
//!
//! A data byte of entropy-coded data carries, per key level `L`, a set `S_L`
//! of selected additional bits (a bit mask). Levels are applied in order
//! 0, 1, 2 when encrypting and 2, 1, 0 when decrypting. For one level, with
//! `O` the bits outside `S_L` (their current values):
//!
//! * if `O` contains a 0 bit, the bits of `S_L` are XORed with the keystream
//!   (the byte cannot become 0xFF because a 0 stays);
//! * otherwise the `m = |S_L|` bits, read as a number `v < 2^m - 1` (the byte
//!   is not 0xFF), become `(v ± k) mod (2^m - 1)`, which is again below
//!   `2^m - 1`, so the byte again is not 0xFF.
//!
//! `O` is left unchanged by the step, so the decryptor sees the same `O` and
//! takes the same branch. See `docs/fspe.md` for the full argument.

use super::Direction;
use crate::crypto::{sha256, Keystream};

/// Keystream bytes consumed per file byte: byte `2i` for XOR, bytes `2i` and
/// `2i + 1` (big-endian 16-bit) for the modular branch.
pub(crate) const KS_PER_BYTE: u64 = 2;

const IV_LABEL: &[u8] = b"jsec/fspe/v1/iv";

/// IV of the image whose SOI is at absolute `image_offset`.
pub(crate) fn image_iv(seed: &[u8; 32], params: &[u8], image_offset: u64) -> [u8; 16] {
    let d = sha256(&[IV_LABEL, seed, params, &image_offset.to_be_bytes()]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&d[..16]);
    iv
}

/// Gather the bits of `b` selected by `mask` into a right-aligned number
/// (MSB-first order preserved).
#[inline]
fn extract(b: u8, mask: u8) -> u32 {
    let mut v = 0u32;
    for bit in (0..8).rev() {
        if mask & (1 << bit) != 0 {
            v = (v << 1) | ((b >> bit) & 1) as u32;
        }
    }
    v
}

/// Scatter the low `popcount(mask)` bits of `v` into the positions of `mask`.
#[inline]
fn deposit(v: u32, mask: u8) -> u8 {
    let mut out = 0u8;
    let mut i = mask.count_ones();
    for bit in (0..8).rev() {
        if mask & (1 << bit) != 0 {
            i -= 1;
            out |= (((v >> i) & 1) as u8) << bit;
        }
    }
    out
}

/// Apply one level's step to byte `b` with selection `s` and keystream bytes
/// `k0`, `k1`.
#[inline(always)]
pub(crate) fn step(b: u8, s: u8, k0: u8, k1: u8, dir: Direction) -> u8 {
    if s == 0 {
        return b;
    }
    if (b | s) != 0xFF {
        return b ^ (k0 & s);
    }
    modular(b, s, k0, k1, dir)
}

#[cold]
fn modular(b: u8, s: u8, k0: u8, k1: u8, dir: Direction) -> u8 {
    let m = s.count_ones();
    let modulus = (1u32 << m) - 1;
    if modulus <= 1 {
        return b; // one bit, forced to 0: nothing to hide
    }
    let k = (((k0 as u32) << 8) | k1 as u32) % modulus;
    let v = extract(b, s);
    debug_assert!(v < modulus);
    let c = match dir {
        Direction::Encrypt => (v + k) % modulus,
        Direction::Decrypt => (v + modulus - k) % modulus,
    };
    (b & !s) | deposit(c, s)
}

/// Applies the cipher over byte ranges of one image.
pub(crate) struct ImageCipher {
    /// Keystream per level (None = level not available / not processed).
    streams: [Option<Keystream>; 3],
    /// Absolute offset of the image's SOI (keystream position 0).
    image_offset: u64,
    dir: Direction,
    ks: Vec<u8>,
}

const CHUNK: usize = 4096;

impl ImageCipher {
    pub(crate) fn new(
        streams: [Option<Keystream>; 3],
        image_offset: u64,
        dir: Direction,
    ) -> ImageCipher {
        ImageCipher {
            streams,
            image_offset,
            dir,
            ks: vec![0; 3 * CHUNK * KS_PER_BYTE as usize],
        }
    }

    /// Transform `bytes` (absolute offset `at`) in place with per-level masks.
    pub(crate) fn apply(&mut self, bytes: &mut [u8], masks: [&[u8]; 3], at: u64) {
        let order: [usize; 3] = match self.dir {
            Direction::Encrypt => [0, 1, 2],
            Direction::Decrypt => [2, 1, 0],
        };
        let mut start = 0;
        while start < bytes.len() {
            let end = (start + CHUNK).min(bytes.len());
            let n = end - start;
            let mut used = [false; 3];
            for l in 0..3 {
                used[l] = self.streams[l].is_some() && masks[l][start..end].iter().any(|&m| m != 0);
            }
            if used.iter().any(|&u| u) {
                let pos = (at + start as u64 - self.image_offset) * KS_PER_BYTE;
                let klen = n * KS_PER_BYTE as usize;
                for (l, stream) in self.streams.iter_mut().enumerate() {
                    if used[l] {
                        if let Some(s) = stream.as_mut() {
                            s.fill(pos, &mut self.ks[l * CHUNK * 2..l * CHUNK * 2 + klen]);
                        }
                    }
                }
                if used == [true, false, false] {
                    // Single level: the common case, kept tight.
                    let ks = &self.ks[..klen];
                    for (i, (b, &s)) in bytes[start..end]
                        .iter_mut()
                        .zip(&masks[0][start..end])
                        .enumerate()
                    {
                        if s != 0 {
                            *b = step(*b, s, ks[2 * i], ks[2 * i + 1], self.dir);
                        }
                    }
                    start = end;
                    continue;
                }
                for i in start..end {
                    let j = (i - start) * 2;
                    let mut b = bytes[i];
                    for &l in &order {
                        if used[l] {
                            let s = masks[l][i];
                            if s != 0 {
                                let ks = &self.ks[l * CHUNK * 2..];
                                b = step(b, s, ks[j], ks[j + 1], self.dir);
                            }
                        }
                    }
                    bytes[i] = b;
                }
            }
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_deposit_roundtrip() {
        for mask in 0..=255u8 {
            let m = mask.count_ones();
            for v in 0..(1u32 << m) {
                assert_eq!(extract(deposit(v, mask), mask), v);
            }
        }
    }

    #[test]
    fn step_never_makes_ff_and_inverts() {
        for b in 0..=254u8 {
            for s in 0..=255u8 {
                for &(k0, k1) in &[(0u8, 0u8), (0xA5, 0x3C), (0xFF, 0xFF), (0x01, 0x80)] {
                    let c = step(b, s, k0, k1, Direction::Encrypt);
                    assert_ne!(c, 0xFF, "b={b:02x} s={s:02x}");
                    assert_eq!(c & !s, b & !s, "bits outside the selection changed");
                    assert_eq!(step(c, s, k0, k1, Direction::Decrypt), b);
                }
            }
        }
    }
}
