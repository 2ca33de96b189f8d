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

/// `NIBBLE_EXTRACT[mask][b]`: the bits of the nibble `b` selected by the
/// nibble `mask`, gathered right-aligned (MSB-first order preserved).
const NIBBLE_EXTRACT: [[u8; 16]; 16] = {
    let mut t = [[0u8; 16]; 16];
    let mut mask = 0;
    while mask < 16 {
        let mut b = 0;
        while b < 16 {
            let (mut v, mut bit) = (0u8, 4);
            while bit > 0 {
                bit -= 1;
                if mask & (1 << bit) != 0 {
                    v = (v << 1) | ((b >> bit) & 1) as u8;
                }
            }
            t[mask][b] = v;
            b += 1;
        }
        mask += 1;
    }
    t
};

/// `NIBBLE_DEPOSIT[mask][v]`: the low `popcount(mask)` bits of `v` scattered
/// into the positions of the nibble `mask` (the lowest position takes the
/// lowest bit).
const NIBBLE_DEPOSIT: [[u8; 16]; 16] = {
    let mut t = [[0u8; 16]; 16];
    let mut mask = 0;
    while mask < 16 {
        let mut v = 0;
        while v < 16 {
            let (mut out, mut rest, mut bit) = (0u8, v, 0);
            while bit < 4 {
                if mask & (1 << bit) != 0 {
                    out |= ((rest & 1) as u8) << bit;
                    rest >>= 1;
                }
                bit += 1;
            }
            t[mask][v] = out;
            v += 1;
        }
        mask += 1;
    }
    t
};

/// Gather the bits of `b` selected by `mask` into a right-aligned number
/// (MSB-first order preserved). A software `pext`, one nibble at a time.
#[inline]
fn extract(b: u8, mask: u8) -> u32 {
    let (mh, ml) = ((mask >> 4) as usize, (mask & 15) as usize);
    let hi = NIBBLE_EXTRACT[mh][(b >> 4) as usize] as u32;
    let lo = NIBBLE_EXTRACT[ml][(b & 15) as usize] as u32;
    (hi << ml.count_ones()) | lo
}

/// Scatter the low `popcount(mask)` bits of `v` into the positions of `mask`.
/// A software `pdep`, one nibble at a time.
#[inline]
fn deposit(v: u32, mask: u8) -> u8 {
    let (mh, ml) = ((mask >> 4) as usize, (mask & 15) as usize);
    let lo = NIBBLE_DEPOSIT[ml][(v & 15) as usize];
    let hi = NIBBLE_DEPOSIT[mh][((v >> ml.count_ones()) & 15) as usize];
    (hi << 4) | lo
}

/// `ceil(2^32 / (2^m - 1))` for `m` in 2..=8 (index `m`; 0 elsewhere).
/// With it `x / (2^m - 1) == (x * RECIP[m]) >> 32` exactly for every
/// `x < 2^16`: the rounding error adds less than `x / 2^32 < 2^-16` to
/// `x / M`, whose fractional part is at most `1 - 1/M` with `1/M > 2^-16`.
const RECIP: [u64; 9] = {
    let mut t = [0u64; 9];
    let mut m = 2;
    while m <= 8 {
        t[m] = (1u64 << 32) / ((1u64 << m) - 1) + 1;
        m += 1;
    }
    t
};

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

/// The modular branch of [`step`] (`(b | s) == 0xFF`, `s != 0`): the
/// selected bits, read as `v < 2^m - 1`, become `(v ± k) mod (2^m - 1)` with
/// `k` the 16-bit big-endian `k0:k1` reduced mod `2^m - 1`.
#[cold]
fn modular(b: u8, s: u8, k0: u8, k1: u8, dir: Direction) -> u8 {
    let m = s.count_ones() as usize;
    if m <= 1 {
        return b; // one bit, forced to 0: nothing to hide
    }
    let modulus = (1u32 << m) - 1;
    let x = ((k0 as u32) << 8) | k1 as u32;
    // x % modulus, by multiplication (see RECIP); x < 2^16.
    let k = x - ((x as u64 * RECIP[m]) >> 32) as u32 * modulus;
    let v = extract(b, s);
    debug_assert!(v < modulus && k < modulus);
    // k < modulus and v <= modulus (equal only for the byte 0xFF, which is
    // never valid input but must still come out as `%` would give it), so
    // t <= 2 * modulus and two conditional subtractions reduce it fully.
    let t = match dir {
        Direction::Encrypt => v + k,
        Direction::Decrypt => v + modulus - k,
    };
    let t = if t >= modulus { t - modulus } else { t };
    let c = if t >= modulus { t - modulus } else { t };
    (b & !s) | deposit(c, s)
}

/// Bytes per block of the vectorised single-level pass.
const BLOCK: usize = 32;

/// One level's [`step`] over `bytes` with masks `masks` and keystream `ks`
/// (`KS_PER_BYTE` bytes per data byte); bit-identical to calling `step` per
/// byte.
///
/// A byte takes the modular branch iff `s != 0 && (b | s) == 0xFF`; the XOR
/// branch leaves the bits outside `s` alone, so that condition is the same
/// before and after. Each block is therefore first XORed branchlessly with
/// the special bytes masked out (the compiler vectorises this), recording
/// where the special bytes are; then only those get the scalar [`modular`].
fn apply_single(bytes: &mut [u8], masks: &[u8], ks: &[u8], dir: Direction) {
    let n = bytes.len();
    let (masks, ks) = (&masks[..n], &ks[..2 * n]);
    let mut bc = bytes.chunks_exact_mut(BLOCK);
    let mut mc = masks.chunks_exact(BLOCK);
    let mut kc = ks.chunks_exact(2 * BLOCK);
    for ((b, m), k) in (&mut bc).zip(&mut mc).zip(&mut kc) {
        let b: &mut [u8; BLOCK] = b.try_into().expect("chunks_exact(BLOCK)");
        let m: &[u8; BLOCK] = m.try_into().expect("chunks_exact(BLOCK)");
        let k: &[u8; 2 * BLOCK] = k.try_into().expect("chunks_exact(2 * BLOCK)");
        // Even keystream bytes (`k0` of each pair). Gathered SWAR-style, 4
        // from each 8 bytes, which vectorises; a plain `k[2 * j]` loop
        // becomes byte-by-byte gathers.
        let mut k0 = [0u8; BLOCK];
        for (d, p) in k0.chunks_exact_mut(4).zip(k.chunks_exact(8)) {
            let mut x =
                u64::from_le_bytes(p.try_into().expect("chunks_exact(8)")) & 0x00FF_00FF_00FF_00FF;
            x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
            x = (x | (x >> 16)) & 0xFFFF_FFFF;
            d.copy_from_slice(&(x as u32).to_le_bytes());
        }
        // 0x80 where the byte takes the modular branch, else 0.
        let mut special = [0u8; BLOCK];
        for j in 0..BLOCK {
            let (x, s) = (b[j], m[j]);
            let sp = (x | s) == 0xFF;
            special[j] = if sp & (s != 0) { 0x80 } else { 0 };
            b[j] = x ^ (k0[j] & s & if sp { 0 } else { 0xFF });
        }
        for (w, flags) in special.chunks_exact(8).enumerate() {
            let mut bits = u64::from_le_bytes(flags.try_into().expect("chunks_exact(8)"));
            while bits != 0 {
                let j = 8 * w + (bits.trailing_zeros() / 8) as usize;
                bits &= bits - 1;
                b[j] = modular(b[j], m[j], k[2 * j], k[2 * j + 1], dir);
            }
        }
    }
    let (b, m, k) = (bc.into_remainder(), mc.remainder(), kc.remainder());
    for (j, (x, &s)) in b.iter_mut().zip(m).enumerate() {
        *x = step(*x, s, k[2 * j], k[2 * j + 1], dir);
    }
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
                    apply_single(
                        &mut bytes[start..end],
                        &masks[0][start..end],
                        &self.ks[..klen],
                        self.dir,
                    );
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

    /// The original, straightforward `extract` (reference).
    fn extract_ref(b: u8, mask: u8) -> u32 {
        let mut v = 0u32;
        for bit in (0..8).rev() {
            if mask & (1 << bit) != 0 {
                v = (v << 1) | ((b >> bit) & 1) as u32;
            }
        }
        v
    }

    /// The original, straightforward `deposit` (reference).
    fn deposit_ref(v: u32, mask: u8) -> u8 {
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

    /// The original per-byte step, written from its definition (reference).
    fn step_ref(b: u8, s: u8, k0: u8, k1: u8, dir: Direction) -> u8 {
        if s == 0 {
            return b;
        }
        if (b | s) != 0xFF {
            return b ^ (k0 & s);
        }
        let m = s.count_ones();
        let modulus = (1u32 << m) - 1;
        if modulus <= 1 {
            return b;
        }
        let k = (((k0 as u32) << 8) | k1 as u32) % modulus;
        let v = extract_ref(b, s);
        let c = match dir {
            Direction::Encrypt => (v + k) % modulus,
            Direction::Decrypt => (v + modulus - k) % modulus,
        };
        (b & !s) | deposit_ref(c, s)
    }

    /// Small deterministic PRNG (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn byte(&mut self) -> u8 {
            (self.next() >> 56) as u8
        }
    }

    #[test]
    fn extract_deposit_match_reference() {
        for mask in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(extract(b, mask), extract_ref(b, mask));
            }
            for v in 0..256u32 {
                assert_eq!(deposit(v, mask), deposit_ref(v, mask));
            }
        }
    }

    #[test]
    fn recip_reduction_is_exact() {
        for (m, &recip) in RECIP.iter().enumerate().skip(2) {
            let modulus = (1u32 << m) - 1;
            for x in 0..=0xFFFFu32 {
                let q = ((x as u64 * recip) >> 32) as u32;
                assert_eq!(q, x / modulus, "x={x} m={m}");
            }
        }
    }

    #[test]
    fn step_matches_reference_exhaustively() {
        let dirs = [Direction::Encrypt, Direction::Decrypt];
        // 0xFF is never valid input (debug builds assert on it in the
        // modular branch); release builds must still match bit for bit.
        let top = if cfg!(debug_assertions) { 0xFE } else { 0xFF };
        for b in 0..=top {
            for s in 0..=255u8 {
                for &(k0, k1) in &[(0u8, 0u8), (0xA5, 0x3C), (0xFF, 0xFF), (0x01, 0x80)] {
                    for &dir in &dirs {
                        assert_eq!(step(b, s, k0, k1, dir), step_ref(b, s, k0, k1, dir));
                    }
                }
            }
        }
        // Modular branch over all 16-bit keys for a few masks.
        for &s in &[0x03u8, 0x0F, 0x7F, 0xFE, 0xFF, 0xA5, 0x81] {
            for k in 0..=0xFFFFu32 {
                let (k0, k1) = ((k >> 8) as u8, k as u8);
                let b = !s | (k as u8 & s & 0x7E);
                for &dir in &dirs {
                    assert_eq!(step(b, s, k0, k1, dir), step_ref(b, s, k0, k1, dir));
                }
            }
        }
    }

    /// A mask byte biased towards the interesting cases.
    fn mask_byte(rng: &mut Rng, zero_run: bool) -> u8 {
        if zero_run {
            return 0;
        }
        match rng.next() % 8 {
            0 => 0,
            1 => 0xFF,
            2 => 1 << (rng.next() % 8),
            _ => rng.byte(),
        }
    }

    /// A data byte that often makes `(b | s) == 0xFF` (the modular branch).
    fn data_byte(rng: &mut Rng, s: u8) -> u8 {
        let b = match rng.next() % 4 {
            0 => !s | (rng.byte() & s),
            1 => 0xFF,
            _ => rng.byte(),
        };
        // 0xFF is never valid input and debug builds assert on it in the
        // modular branch; release builds must match bit for bit on it too.
        if b == 0xFF && cfg!(debug_assertions) {
            0xFE
        } else {
            b
        }
    }

    #[test]
    fn apply_single_matches_scalar_reference() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..400 {
            let n = match round % 5 {
                0 => (rng.next() % 8) as usize,
                1 => BLOCK * (1 + (rng.next() % 4) as usize),
                2 => BLOCK * (1 + (rng.next() % 4) as usize) + 1 + (rng.next() % 31) as usize,
                _ => (rng.next() % 3000) as usize,
            };
            let zero_runs = round % 7 == 3;
            let mut masks = vec![0u8; n];
            let mut data = vec![0u8; n];
            for i in 0..n {
                masks[i] = mask_byte(&mut rng, zero_runs && (i / 40) % 2 == 0);
                data[i] = data_byte(&mut rng, masks[i]);
            }
            let ks: Vec<u8> = (0..2 * n).map(|_| rng.byte()).collect();
            for dir in [Direction::Encrypt, Direction::Decrypt] {
                let mut fast = data.clone();
                apply_single(&mut fast, &masks, &ks, dir);
                let slow: Vec<u8> = (0..n)
                    .map(|i| step_ref(data[i], masks[i], ks[2 * i], ks[2 * i + 1], dir))
                    .collect();
                assert_eq!(fast, slow, "round {round} n {n}");
            }
            // And it inverts (0xFF is never valid input: it cannot).
            let data: Vec<u8> = data
                .iter()
                .map(|&b| if b == 0xFF { 0 } else { b })
                .collect();
            let mut c = data.clone();
            apply_single(&mut c, &masks, &ks, Direction::Encrypt);
            assert!(c.iter().all(|&b| b != 0xFF), "round {round} n {n}");
            apply_single(&mut c, &masks, &ks, Direction::Decrypt);
            assert_eq!(c, data, "round {round} n {n}");
        }
    }

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
