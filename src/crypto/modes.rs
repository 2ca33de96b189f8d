//! Length-preserving AES encryption of one protection unit in the five block
//! cipher modes of the JPSEC (JPEG 2000 Part 8) decryption tool, and the
//! format-compliant keystream cipher that keeps packet bodies free of
//! marker codes.
//!
//! # Length-preserving modes ([`UnitCipher::encrypt`])
//!
//! A unit of `len` bytes is encrypted under an AES key `K` (AES-128, AES-192
//! or AES-256 by key length) and the unit's 16-byte `IV`; `E` is the AES
//! block encryption under `K`, `D` its inverse. The ciphertext always has
//! exactly `len` bytes (including `len == 0`, which leaves nothing to do).
//! The plaintext is cut into blocks `P1 … Pn` of 16 bytes, the last of which
//! may be shorter (`1 ≤ r ≤ 16` bytes), `n = ceil(len / 16)`.
//!
//! * **CTR**: `C = P XOR (E(IV) || E(IV + 1) || …)` truncated to `len`, where
//!   `IV + j` adds `j` to the whole 16 bytes read as a 128-bit big-endian
//!   integer (modulo 2^128), exactly as NIST SP 800-38A CTR with that
//!   counter function.
//! * **OFB**: `O1 = E(IV)`, `Oj = E(O(j-1))`; `C = P XOR (O1 || O2 || …)`
//!   truncated to `len` (NIST SP 800-38A OFB).
//! * **CFB**: CFB-128 (NIST SP 800-38A, segment size 128): `C0 = IV`,
//!   `Cj = Pj XOR E(C(j-1))`; a final short block `Pn` of `r` bytes gives
//!   `Cn = Pn XOR first r bytes of E(C(n-1))`.
//! * **CBC** when `len ≥ 16`: CBC with ciphertext stealing, variant CS3 of
//!   the NIST SP 800-38A Addendum (the Kerberos convention of RFC 3962):
//!   `C0 = IV`, `Cj = E(Pj XOR C(j-1))` for `j < n`, then
//!   `X = E(C(n-1) XOR (Pn || 0^(16-r)))`; the output is
//!   `C1 … C(n-2) || X || first r bytes of C(n-1)`. So the last two output
//!   blocks are always swapped, also when `len` is a multiple of 16 (then
//!   `r = 16` and this is plain CBC with the last two blocks exchanged);
//!   when `len == 16` it is plain one-block CBC, `E(P1 XOR IV)`.
//! * **ECB** when `len ≥ 16`: ECB with ciphertext stealing in the same CS3
//!   arrangement but without chaining: `Cj = E(Pj)` for `j < n`, then
//!   `X = E(Pn || last 16 - r bytes of C(n-1))`; the output is
//!   `C1 … C(n-2) || X || first r bytes of C(n-1)` (so when `len` is a
//!   multiple of 16 and at least 32, the last two ECB blocks are swapped;
//!   when `len == 16` it is `E(P1)`). The IV is not used when `len ≥ 16`.
//! * **CBC and ECB when `len < 16`** (the *residual block* rule): the unit is
//!   too short for a block permutation, so `C = P XOR first len bytes of
//!   E(IV)`.
//!
//! # Format-compliant cipher ([`UnitCipher::compliant_encrypt`])
//!
//! See the method's documentation: a keystream (CTR, OFB or CFB) is combined
//! by modular addition per byte class so that the output never contains a
//! marker code (0xFF followed by a byte above 0x8F) when the input did not.

use aes::{Aes128, Aes192, Aes256};
use cipher::consts::U16;
use cipher::inout::InOutBuf;
use cipher::{
    AsyncStreamCipher, BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt, BlockEncryptMut,
    InnerIvInit, KeyInit, StreamCipher,
};
use zeroize::Zeroize;

use crate::{Error, ErrorKind, Result};

/// Block cipher modes of the JPSEC decryption tool (project codes used in
/// the file format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Electronic codebook, with ciphertext stealing (see the module docs).
    Ecb = 1,
    /// Cipher block chaining, with ciphertext stealing CS3 (see the module docs).
    Cbc = 2,
    /// Cipher feedback, 128-bit segments.
    Cfb = 3,
    /// Output feedback.
    Ofb = 4,
    /// Counter, 128-bit big-endian counter over the whole IV.
    Ctr = 5,
}

impl Mode {
    /// All modes, in code order.
    pub const ALL: [Mode; 5] = [Mode::Ecb, Mode::Cbc, Mode::Cfb, Mode::Ofb, Mode::Ctr];

    /// The mode with project code `c` (1 ECB, 2 CBC, 3 CFB, 4 OFB, 5 CTR).
    pub fn from_code(c: u8) -> Option<Mode> {
        match c {
            1 => Some(Mode::Ecb),
            2 => Some(Mode::Cbc),
            3 => Some(Mode::Cfb),
            4 => Some(Mode::Ofb),
            5 => Some(Mode::Ctr),
            _ => None,
        }
    }

    /// The project code of the mode, as written in the file format.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The lower-case name: `"ecb"`, `"cbc"`, `"cfb"`, `"ofb"` or `"ctr"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ecb => "ecb",
            Mode::Cbc => "cbc",
            Mode::Cfb => "cfb",
            Mode::Ofb => "ofb",
            Mode::Ctr => "ctr",
        }
    }

    /// The mode named `s` (the names of [`Mode::name`], case-insensitive).
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
    }

    /// Whether the mode produces a keystream (CTR, OFB, CFB), as the
    /// format-compliant cipher requires.
    pub fn is_keystream(self) -> bool {
        matches!(self, Mode::Cfb | Mode::Ofb | Mode::Ctr)
    }
}

/// An expanded AES key of any of the three sizes. Shared with the CBC-MAC
/// of [`super::mac`].
pub(crate) enum Aes {
    A128(Box<Aes128>),
    A192(Box<Aes192>),
    A256(Box<Aes256>),
}

/// Runs `$body` with `$c` bound to the concrete `&AesXXX` of `$aes`.
macro_rules! with_aes {
    ($aes:expr, $c:ident => $body:expr) => {
        match $aes {
            Aes::A128(k) => {
                let $c: &Aes128 = k;
                $body
            }
            Aes::A192(k) => {
                let $c: &Aes192 = k;
                $body
            }
            Aes::A256(k) => {
                let $c: &Aes256 = k;
                $body
            }
        }
    };
}

impl Aes {
    /// Expand `key` (16, 24 or 32 bytes); [`ErrorKind::BadKey`] otherwise.
    pub(crate) fn new(key: &[u8]) -> Result<Aes> {
        let bad = || {
            Error::new(
                ErrorKind::BadKey,
                format!(
                    "AES key is {} bytes; it must be 16, 24 or 32 bytes (AES-128/192/256)",
                    key.len()
                ),
            )
        };
        Ok(match key.len() {
            16 => Aes::A128(Box::new(Aes128::new_from_slice(key).map_err(|_| bad())?)),
            24 => Aes::A192(Box::new(Aes192::new_from_slice(key).map_err(|_| bad())?)),
            32 => Aes::A256(Box::new(Aes256::new_from_slice(key).map_err(|_| bad())?)),
            _ => return Err(bad()),
        })
    }

    /// Key length in bits.
    pub(crate) fn bits(&self) -> u16 {
        match self {
            Aes::A128(_) => 128,
            Aes::A192(_) => 192,
            Aes::A256(_) => 256,
        }
    }

    /// Encrypt one block in place.
    pub(crate) fn encrypt_block(&self, block: &mut [u8; 16]) {
        with_aes!(self, c => c.encrypt_block(block.into()))
    }
}

/// The block cipher bound that every helper below needs.
trait Aes16:
    BlockCipher + BlockEncrypt + BlockDecrypt + cipher::BlockSizeUser<BlockSize = U16>
{
}
impl<T: BlockCipher + BlockEncrypt + BlockDecrypt + cipher::BlockSizeUser<BlockSize = U16>> Aes16
    for T
{
}

/// An AES key (16, 24 or 32 bytes: AES-128/192/256) bound to a mode, with the
/// key schedule expanded once. The key bytes given to [`UnitCipher::new`]
/// are not kept; the expanded schedule is erased on drop only when the `aes`
/// crate's `zeroize` feature is enabled, and the keystream buffers used here
/// are erased after use.
pub struct UnitCipher {
    aes: Aes,
    mode: Mode,
}

impl std::fmt::Debug for UnitCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitCipher")
            .field("mode", &self.mode)
            .field("key_bits", &self.key_bits())
            .finish_non_exhaustive()
    }
}

impl UnitCipher {
    /// Expand `key` for `mode`. [`ErrorKind::BadKey`], naming the length,
    /// when the key is not 16, 24 or 32 bytes.
    pub fn new(key: &[u8], mode: Mode) -> Result<UnitCipher> {
        Ok(UnitCipher {
            aes: Aes::new(key)?,
            mode,
        })
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Key length in bits (128/192/256).
    pub fn key_bits(&self) -> u16 {
        self.aes.bits()
    }

    /// Encrypt one unit in place, length-preserving, under the unit's 16-byte
    /// IV (the initial counter block for CTR), exactly as described in the
    /// [module documentation](self). Any length works, including 0. For CBC
    /// and ECB a unit shorter than 16 bytes is XORed with the first `len`
    /// bytes of `E_K(IV)` (the residual block rule); from 16 bytes on they
    /// use ciphertext stealing CS3.
    pub fn encrypt(&self, iv: &[u8; 16], data: &mut [u8]) {
        let mode = self.mode;
        with_aes!(&self.aes, c => unit_encrypt(c, mode, iv, data))
    }

    /// Inverse of [`UnitCipher::encrypt`].
    pub fn decrypt(&self, iv: &[u8; 16], data: &mut [u8]) {
        let mode = self.mode;
        with_aes!(&self.aes, c => unit_decrypt(c, mode, iv, data))
    }

    /// Format-compliant encryption of a JPEG 2000 packet body (or part of
    /// one) in place: the output has the same length, the same 0xFF bytes at
    /// the same positions, and never contains 0xFF followed by a byte above
    /// 0x8F when the input did not (nor ends in 0xFF when the input did not).
    ///
    /// With `k[t]` the byte at position `t` of the mode's keystream (indexed
    /// by position in `data`, whether or not `t` is masked), for every
    /// position `t` selected by `mask` (all positions when `None`):
    ///
    /// * `p[t] == 0xFF`: kept as is;
    /// * else if `t > 0` and `data[t-1] == 0xFF`: `c[t] = (p[t] + k[t]) mod 0x90`
    ///   (`p[t]` must then be at most 0x8F);
    /// * else `c[t] = (p[t] + k[t]) mod 0xFF`.
    ///
    /// Unselected positions are left unchanged. `data[t-1]` is the byte just
    /// before `t` in the whole buffer, selected or not (0xFF bytes never
    /// change, so plaintext and ciphertext agree on it).
    ///
    /// Keystreams (`E` is AES under the key):
    ///
    /// * CTR: block `j` is `E(IV + j)` (128-bit big-endian addition);
    /// * OFB: block 0 is `E(IV)`, block `j` is `E(block j-1)`;
    /// * CFB: block 0 is `E(IV)`, block `j` is `E(c[16(j-1) .. 16j])`, the
    ///   previous 16 bytes of *ciphertext* (the output bytes, selected or
    ///   not).
    ///
    /// Errors: [`ErrorKind::InvalidArgument`] for ECB and CBC (block
    /// permutations, not keystream modes) or when `mask` is not as long as
    /// `data`; [`ErrorKind::Malformed`], with the offset, when a selected
    /// byte follows 0xFF and is above 0x8F (the input is not a compliant
    /// packet body). `data` is unchanged on error (it is checked first).
    pub fn compliant_encrypt(
        &self,
        iv: &[u8; 16],
        data: &mut [u8],
        mask: Option<&[bool]>,
    ) -> Result<()> {
        self.compliant::<true>(iv, data, mask)
    }

    /// Inverse of [`UnitCipher::compliant_encrypt`]: the same classification
    /// of positions, with subtraction modulo 0x90 or 0xFF. The same errors
    /// (a selected ciphertext byte following 0xFF above 0x8F is
    /// [`ErrorKind::Malformed`]); `data` is unchanged on error.
    pub fn compliant_decrypt(
        &self,
        iv: &[u8; 16],
        data: &mut [u8],
        mask: Option<&[bool]>,
    ) -> Result<()> {
        self.compliant::<false>(iv, data, mask)
    }

    fn compliant<const ENC: bool>(
        &self,
        iv: &[u8; 16],
        data: &mut [u8],
        mask: Option<&[bool]>,
    ) -> Result<()> {
        if !self.mode.is_keystream() {
            return Err(Error::invalid_argument(
                "the format-compliant cipher needs a keystream mode (ctr, ofb, cfb); \
                 ecb and cbc are block permutations",
            ));
        }
        if let Some(m) = mask {
            if m.len() != data.len() {
                return Err(Error::invalid_argument(format!(
                    "the mask has {} entries but the data has {} bytes",
                    m.len(),
                    data.len()
                )));
            }
        }
        check_compliant(data, mask)?;
        let mode = self.mode;
        with_aes!(&self.aes, c => compliant_apply::<_, ENC>(c, mode, iv, data, mask));
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Length-preserving modes.

/// `data ^= first data.len() bytes of E(iv)`; `data.len() <= 16`.
fn xor_e_iv<C: Aes16>(c: &C, iv: &[u8; 16], data: &mut [u8]) {
    let mut b = *iv;
    c.encrypt_block((&mut b).into());
    for (d, k) in data.iter_mut().zip(b.iter()) {
        *d ^= k;
    }
    b.zeroize();
}

fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= s;
    }
}

/// Split a `len ≥ 16` unit for CS3: the first `n - 1` full blocks (as the
/// byte length `head`) and the final block of `r` bytes, `1 ≤ r ≤ 16`.
fn cs3_split(len: usize) -> (usize, usize) {
    let r = (len - 1) % 16 + 1;
    (len - r, r)
}

fn unit_encrypt<C: Aes16>(c: &C, mode: Mode, iv: &[u8; 16], data: &mut [u8]) {
    match mode {
        Mode::Ctr => {
            ctr::Ctr128BE::<&C>::from_core(ctr::CtrCore::inner_iv_init(c, iv.into()))
                .apply_keystream(data);
        }
        Mode::Ofb => {
            ofb::Ofb::<&C>::from_core(ofb::OfbCore::inner_iv_init(c, iv.into()))
                .apply_keystream(data);
        }
        Mode::Cfb => cfb_mode::Encryptor::<&C>::inner_iv_init(c, iv.into()).encrypt(data),
        Mode::Cbc | Mode::Ecb if data.len() < 16 => xor_e_iv(c, iv, data),
        Mode::Cbc => {
            let (head, r) = cs3_split(data.len());
            let (h, tail) = data.split_at_mut(head);
            let mut prev = *iv;
            if !h.is_empty() {
                let (blocks, _) = InOutBuf::from(&mut *h).into_chunks::<U16>();
                cbc::Encryptor::<&C>::inner_iv_init(c, iv.into()).encrypt_blocks_inout_mut(blocks);
                prev.copy_from_slice(&h[head - 16..]);
            }
            // X = E(C(n-1) XOR (Pn || 0)).
            let mut x = prev;
            xor_into(&mut x, tail);
            c.encrypt_block((&mut x).into());
            if head == 0 {
                // len == 16: plain one-block CBC.
                tail.copy_from_slice(&x);
            } else {
                tail.copy_from_slice(&prev[..r]);
                h[head - 16..].copy_from_slice(&x);
            }
        }
        Mode::Ecb => {
            let (head, r) = cs3_split(data.len());
            let (h, tail) = data.split_at_mut(head);
            if h.is_empty() {
                c.encrypt_block(tail.into());
                return;
            }
            let (blocks, _) = InOutBuf::from(&mut *h).into_chunks::<U16>();
            c.encrypt_blocks_inout(blocks);
            // X = E(Pn || last 16 - r bytes of C(n-1)).
            let last = &mut h[head - 16..];
            let mut x = [0u8; 16];
            x[..r].copy_from_slice(tail);
            x[r..].copy_from_slice(&last[r..]);
            c.encrypt_block((&mut x).into());
            tail.copy_from_slice(&last[..r]);
            last.copy_from_slice(&x);
        }
    }
}

fn unit_decrypt<C: Aes16>(c: &C, mode: Mode, iv: &[u8; 16], data: &mut [u8]) {
    match mode {
        Mode::Ctr | Mode::Ofb => unit_encrypt(c, mode, iv, data),
        Mode::Cfb => cfb_mode::Decryptor::<&C>::inner_iv_init(c, iv.into()).decrypt(data),
        Mode::Cbc | Mode::Ecb if data.len() < 16 => xor_e_iv(c, iv, data),
        Mode::Cbc => {
            let (head, r) = cs3_split(data.len());
            let (h, tail) = data.split_at_mut(head);
            if h.is_empty() {
                c.decrypt_block(tail.into());
                xor_into(tail, iv);
                return;
            }
            // Y = D(X) = C(n-1) XOR (Pn || 0); C(n-1) = tail || Y[r..].
            let mut y = [0u8; 16];
            y.copy_from_slice(&h[head - 16..]);
            c.decrypt_block((&mut y).into());
            let mut cn1 = y;
            cn1[..r].copy_from_slice(tail);
            xor_into(&mut y[..r], tail);
            tail.copy_from_slice(&y[..r]);
            h[head - 16..].copy_from_slice(&cn1);
            let (blocks, _) = InOutBuf::from(&mut *h).into_chunks::<U16>();
            cbc::Decryptor::<&C>::inner_iv_init(c, iv.into()).decrypt_blocks_inout_mut(blocks);
            y.zeroize();
        }
        Mode::Ecb => {
            let (head, r) = cs3_split(data.len());
            let (h, tail) = data.split_at_mut(head);
            if h.is_empty() {
                c.decrypt_block(tail.into());
                return;
            }
            // Y = D(X) = Pn || last 16 - r bytes of C(n-1); C(n-1) = tail || Y[r..].
            let last = &mut h[head - 16..];
            let mut y = [0u8; 16];
            y.copy_from_slice(last);
            c.decrypt_block((&mut y).into());
            last[..r].copy_from_slice(tail);
            last[r..].copy_from_slice(&y[r..]);
            tail.copy_from_slice(&y[..r]);
            let (blocks, _) = InOutBuf::from(&mut *h).into_chunks::<U16>();
            c.decrypt_blocks_inout(blocks);
            y.zeroize();
        }
    }
}

// ---------------------------------------------------------------------------
// Format-compliant cipher.

/// Keystream bytes generated per call for CTR and OFB.
const CHUNK: usize = 1024;

/// [`ErrorKind::Malformed`] at the first selected byte that follows 0xFF and
/// is above 0x8F.
fn check_compliant(data: &[u8], mask: Option<&[bool]>) -> Result<()> {
    let bad = data
        .windows(2)
        .enumerate()
        .find(|&(i, w)| w[0] == 0xFF && w[1] > 0x8F && mask.map_or(true, |m| m[i + 1]));
    match bad {
        Some((i, _)) => Err(Error::malformed_at(
            (i + 1) as u64,
            "byte follows 0xFF and is above 0x8F: not a compliant packet body",
        )),
        None => Ok(()),
    }
}

/// One byte of the format-compliant cipher: `v` the input byte, `k` the
/// keystream byte, `prev` the byte before `v` in the unit. Branch-free so
/// that the loops over it vectorize.
#[inline(always)]
fn combine_byte<const ENC: bool>(v: u8, k: u8, prev: u8) -> u8 {
    // The modulus of the byte class, and k reduced modulo it (k <= 0xFF, so
    // one subtraction suffices for both 0x90 and 0xFF).
    let m: u8 = if prev == 0xFF { 0x90 } else { 0xFF };
    let k = if k >= m { k - m } else { k };
    // d = m - k is in 1..=m. For v < m:
    // (v + k) mod m = v - d when v >= d, else v + k (< m, no overflow);
    // (v - k) mod m = v - k when v >= k, else v + d (< m, no overflow).
    // Whatever v is, the branch taken never overflows.
    let d = m - k;
    let r = if ENC {
        if v >= d {
            v - d
        } else {
            v + k
        }
    } else if v >= k {
        v - k
    } else {
        v + d
    };
    if v == 0xFF {
        v
    } else {
        r
    }
}

/// Combine `ks` into `data[start .. start + ks.len()]` (`ks.len() <= CHUNK`);
/// `data` is the whole unit (for the byte before `start`), `mask` the whole
/// unit's mask. `src` is scratch space for a copy of the input, so that
/// every output byte is a function of input bytes only.
#[inline]
fn combine<const ENC: bool>(
    data: &mut [u8],
    start: usize,
    ks: &[u8],
    mask: Option<&[bool]>,
    src: &mut [u8; CHUNK + 1],
) {
    let n = ks.len();
    src[0] = if start > 0 { data[start - 1] } else { 0 };
    src[1..=n].copy_from_slice(&data[start..start + n]);
    let out = &mut data[start..start + n];
    let prev = &src[..n];
    let cur = &src[1..=n];
    match mask {
        None => {
            for (((o, &k), &p), &v) in out.iter_mut().zip(ks).zip(prev).zip(cur) {
                *o = combine_byte::<ENC>(v, k, p);
            }
        }
        Some(m) => {
            let m = &m[start..start + n];
            for ((((o, &k), &p), &v), &on) in out.iter_mut().zip(ks).zip(prev).zip(cur).zip(m) {
                let r = combine_byte::<ENC>(v, k, p);
                *o = if on { r } else { v };
            }
        }
    }
}

fn compliant_apply<C: Aes16, const ENC: bool>(
    c: &C,
    mode: Mode,
    iv: &[u8; 16],
    data: &mut [u8],
    mask: Option<&[bool]>,
) {
    let mut src = [0u8; CHUNK + 1];
    match mode {
        Mode::Ctr => {
            let mut s = ctr::Ctr128BE::<&C>::from_core(ctr::CtrCore::inner_iv_init(c, iv.into()));
            compliant_stream::<ENC>(&mut s, data, mask, &mut src);
        }
        Mode::Ofb => {
            let mut s = ofb::Ofb::<&C>::from_core(ofb::OfbCore::inner_iv_init(c, iv.into()));
            compliant_stream::<ENC>(&mut s, data, mask, &mut src);
        }
        // ECB and CBC are not reached: `compliant` rejects them first.
        Mode::Cfb | Mode::Ecb | Mode::Cbc => {
            let mut fb = *iv;
            let mut ks = [0u8; 16];
            let mut start = 0;
            while start < data.len() {
                let end = data.len().min(start + 16);
                ks = fb;
                c.encrypt_block((&mut ks).into());
                if !ENC && end - start == 16 {
                    // The feedback is the received ciphertext.
                    fb.copy_from_slice(&data[start..end]);
                }
                combine::<ENC>(data, start, &ks[..end - start], mask, &mut src);
                if ENC && end - start == 16 {
                    fb.copy_from_slice(&data[start..end]);
                }
                start = end;
            }
            ks.zeroize();
            fb.zeroize();
        }
    }
    src.zeroize();
}

fn compliant_stream<const ENC: bool>(
    s: &mut impl StreamCipher,
    data: &mut [u8],
    mask: Option<&[bool]>,
    src: &mut [u8; CHUNK + 1],
) {
    let mut ks = [0u8; CHUNK];
    let mut start = 0;
    while start < data.len() {
        let n = (data.len() - start).min(CHUNK);
        let k = &mut ks[..n];
        k.fill(0);
        s.apply_keystream(k);
        combine::<ENC>(data, start, k, mask, src);
        start += n;
    }
    ks.zeroize();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn iv(s: &str) -> [u8; 16] {
        hex(s).try_into().unwrap()
    }

    const K128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
    const K256: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
    const PT: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                      30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
    const IV_STD: &str = "000102030405060708090a0b0c0d0e0f";
    const IV_CTR: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    /// NIST SP 800-38A Appendix F: (key, mode, iv, ciphertext).
    fn sp800_38a() -> Vec<(&'static str, Mode, &'static str, &'static str)> {
        vec![
            // F.1.1 ECB-AES128
            (K128, Mode::Ecb, IV_STD, "3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf
                                       43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4"),
            // F.1.5 ECB-AES256
            (K256, Mode::Ecb, IV_STD, "f3eed1bdb5d2a03c064b5a7e3db181f8 591ccb10d410ed26dc5ba74a31362870
                                       b6ed21b99ca6f4f9f153e7b1beafed1d 23304b7a39f9f3ff067d8d8f9e24ecc7"),
            // F.2.1 CBC-AES128
            (K128, Mode::Cbc, IV_STD, "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
                                       73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7"),
            // F.2.5 CBC-AES256
            (K256, Mode::Cbc, IV_STD, "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d
                                       39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b"),
            // F.3.13 CFB128-AES128
            (K128, Mode::Cfb, IV_STD, "3b3fd92eb72dad20333449f8e83cfb4a c8a64537a0b3a93fcde3cdad9f1ce58b
                                       26751f67a3cbb140b1808cf187a4f4df c04b05357c5d1c0eeac4c66f9ff7f2e6"),
            // F.3.17 CFB128-AES256
            (K256, Mode::Cfb, IV_STD, "dc7e84bfda79164b7ecd8486985d3860 39ffed143b28b1c832113c6331e5407b
                                       df10132415e54b92a13ed0a8267ae2f9 75a385741ab9cef82031623d55b1e471"),
            // F.4.1 OFB-AES128
            (K128, Mode::Ofb, IV_STD, "3b3fd92eb72dad20333449f8e83cfb4a 7789508d16918f03f53c52dac54ed825
                                       9740051e9c5fecf64344f7a82260edcc 304c6528f659c77866a510d9c1d6ae5e"),
            // F.4.5 OFB-AES256
            (K256, Mode::Ofb, IV_STD, "dc7e84bfda79164b7ecd8486985d3860 4febdc6740d20b3ac88f6ad82a4fb08d
                                       71ab47a086e86eedf39d1c5bba97c408 0126141d67f37be8538f5a8be740e484"),
            // F.5.1 CTR-AES128
            (K128, Mode::Ctr, IV_CTR, "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
                                       5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee"),
            // F.5.5 CTR-AES256
            (K256, Mode::Ctr, IV_CTR, "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5
                                       2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6"),
        ]
    }

    #[test]
    fn nist_sp800_38a_vectors() {
        for (key, mode, ivs, ct) in sp800_38a() {
            let uc = UnitCipher::new(&hex(key), mode).unwrap();
            let iv = iv(ivs);
            let ct = hex(ct);
            // The stream modes and one block of the block modes match the
            // standard at every block-aligned prefix; CBC and ECB from two
            // blocks on swap the last two blocks (CS3).
            for nblocks in 1..=4 {
                let n = 16 * nblocks;
                let mut buf = hex(PT)[..n].to_vec();
                uc.encrypt(&iv, &mut buf);
                let mut want = ct[..n].to_vec();
                if matches!(mode, Mode::Cbc | Mode::Ecb) && nblocks >= 2 {
                    let (a, b) = want.split_at_mut(n - 16);
                    a[n - 32..].swap_with_slice(b);
                }
                assert_eq!(buf, want, "{mode:?} {} blocks, key {key}", nblocks);
                uc.decrypt(&iv, &mut buf);
                assert_eq!(buf, &hex(PT)[..n]);
            }
        }
    }

    #[test]
    fn stream_modes_partial_blocks_are_truncations() {
        // CTR, OFB and CFB: a prefix of the plaintext encrypts to the same
        // prefix of the standard ciphertext.
        for (key, mode, ivs, ct) in sp800_38a() {
            if !mode.is_keystream() {
                continue;
            }
            let uc = UnitCipher::new(&hex(key), mode).unwrap();
            let ct = hex(ct);
            for n in 0..=64 {
                let mut buf = hex(PT)[..n].to_vec();
                uc.encrypt(&iv(ivs), &mut buf);
                assert_eq!(buf, &ct[..n], "{mode:?} {n}");
            }
        }
    }

    #[test]
    fn rfc3962_cbc_cs3_vectors() {
        let key = hex("636869636b656e207465726979616b69");
        let pt = b"I would like the General Gau's Chicken, please, and wonton soup.";
        let cases = [
            (17, "c6353568f2bf8cb4d8a580362da7ff7f 97"),
            (
                31,
                "fc00783e0efdb2c1d445d4c8eff7ed22 97687268d6ecccc0c07b25e25ecfe5",
            ),
            (
                32,
                "39312523a78662d5be7fcbcc98ebf5a8 97687268d6ecccc0c07b25e25ecfe584",
            ),
            (
                47,
                "97687268d6ecccc0c07b25e25ecfe584 b3fffd940c16a18c1b5549d2f838029e
                 39312523a78662d5be7fcbcc98ebf5",
            ),
            (
                48,
                "97687268d6ecccc0c07b25e25ecfe584 9dad8bbb96c4cdc03bc103e1a194bbd8
                 39312523a78662d5be7fcbcc98ebf5a8",
            ),
            (
                64,
                "97687268d6ecccc0c07b25e25ecfe584 39312523a78662d5be7fcbcc98ebf5a8
                 4807efe836ee89a526730dbc2f7bc840 9dad8bbb96c4cdc03bc103e1a194bbd8",
            ),
        ];
        let uc = UnitCipher::new(&key, Mode::Cbc).unwrap();
        for (n, ct) in cases {
            let mut buf = pt[..n].to_vec();
            uc.encrypt(&[0u8; 16], &mut buf);
            assert_eq!(buf, hex(ct), "length {n}");
            uc.decrypt(&[0u8; 16], &mut buf);
            assert_eq!(buf, &pt[..n]);
        }
    }

    /// Reference implementation of the documented CBC-CS3 / ECB-CS3 / residual rules,
    /// block by block with the bare block cipher.
    fn reference_block_mode(key: &[u8], mode: Mode, iv: &[u8; 16], p: &[u8]) -> Vec<u8> {
        let aes = Aes::new(key).unwrap();
        let e = |b: &[u8]| {
            let mut x: [u8; 16] = b.try_into().unwrap();
            aes.encrypt_block(&mut x);
            x
        };
        let len = p.len();
        if len < 16 {
            let k = e(iv);
            return p.iter().zip(k).map(|(a, b)| a ^ b).collect();
        }
        let n = len.div_ceil(16);
        let r = len - 16 * (n - 1);
        let mut out = Vec::new();
        let mut prev = *iv;
        let mut blocks = Vec::new();
        for j in 0..n - 1 {
            let mut b: [u8; 16] = p[16 * j..16 * j + 16].try_into().unwrap();
            if mode == Mode::Cbc {
                for i in 0..16 {
                    b[i] ^= prev[i];
                }
            }
            prev = e(&b);
            blocks.push(prev);
        }
        let pn = &p[16 * (n - 1)..];
        let mut x = [0u8; 16];
        if mode == Mode::Cbc {
            x = prev;
            for i in 0..r {
                x[i] ^= pn[i];
            }
        } else {
            x[..r].copy_from_slice(pn);
            x[r..].copy_from_slice(&prev[r..]);
        }
        let x = e(&x);
        if n == 1 {
            return x.to_vec();
        }
        for b in &blocks[..n - 2] {
            out.extend_from_slice(b);
        }
        out.extend_from_slice(&x);
        out.extend_from_slice(&prev[..r]);
        out
    }

    #[test]
    fn block_modes_match_reference() {
        for key_len in [16, 24, 32] {
            let key: Vec<u8> = (0..key_len as u8)
                .map(|i| i.wrapping_mul(37) ^ 0x5a)
                .collect();
            for mode in [Mode::Cbc, Mode::Ecb] {
                let uc = UnitCipher::new(&key, mode).unwrap();
                let iv = [0xA5u8; 16];
                for len in 0..=100usize {
                    let p: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
                    let mut buf = p.clone();
                    uc.encrypt(&iv, &mut buf);
                    assert_eq!(
                        buf,
                        reference_block_mode(&key, mode, &iv, &p),
                        "{mode:?} {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn round_trip_all_modes_lengths_and_keys() {
        for key_len in [16usize, 24, 32] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 13 + 1) as u8).collect();
            for mode in Mode::ALL {
                let uc = UnitCipher::new(&key, mode).unwrap();
                assert_eq!(uc.key_bits() as usize, key_len * 8);
                assert_eq!(uc.mode(), mode);
                let iv: [u8; 16] = core::array::from_fn(|i| (i as u8) ^ 0x3c);
                for len in 0..=70usize {
                    let p: Vec<u8> = (0..len).map(|i| (i * 31 + 5) as u8).collect();
                    let mut buf = p.clone();
                    uc.encrypt(&iv, &mut buf);
                    if len >= 4 {
                        assert_ne!(buf, p, "{mode:?} {key_len} {len}");
                    }
                    uc.decrypt(&iv, &mut buf);
                    assert_eq!(buf, p, "{mode:?} {key_len} {len}");
                }
            }
        }
    }

    #[test]
    fn aes192_works() {
        // NIST SP 800-38A F.1.3 ECB-AES192, block #1, and F.5.3 CTR-AES192 block #1.
        let key = hex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b");
        let mut b = hex(PT)[..16].to_vec();
        UnitCipher::new(&key, Mode::Ecb)
            .unwrap()
            .encrypt(&[0u8; 16], &mut b);
        assert_eq!(b, hex("bd334f1d6e45f25ff712a214571fa5cc"));
        let mut b = hex(PT)[..16].to_vec();
        UnitCipher::new(&key, Mode::Ctr)
            .unwrap()
            .encrypt(&iv(IV_CTR), &mut b);
        assert_eq!(b, hex("1abc932417521ca24f2b0459fe7e6e0b"));
    }

    #[test]
    fn bad_key_lengths() {
        for n in [0usize, 1, 15, 17, 20, 23, 25, 31, 33, 64] {
            let e = UnitCipher::new(&vec![0u8; n], Mode::Ctr).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::BadKey);
            assert!(e.message().contains(&n.to_string()), "{}", e.message());
        }
    }

    #[test]
    fn mode_codes_and_names() {
        for m in Mode::ALL {
            assert_eq!(Mode::from_code(m.code()), Some(m));
            assert_eq!(Mode::parse(m.name()), Some(m));
            assert_eq!(Mode::parse(&m.name().to_uppercase()), Some(m));
        }
        assert_eq!(Mode::from_code(0), None);
        assert_eq!(Mode::from_code(6), None);
        assert_eq!(Mode::parse("gcm"), None);
        assert_eq!(Mode::Ctr.code(), 5);
        assert_eq!(Mode::Ecb.code(), 1);
    }

    // --- format-compliant cipher -----------------------------------------

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn byte(&mut self) -> u8 {
            (self.next() >> 24) as u8
        }
    }

    /// A random buffer; when `compliant`, a byte after 0xFF is at most 0x8F
    /// and the buffer does not end in 0xFF. `ff_rich` makes 0xFF frequent.
    fn random_body(rng: &mut XorShift, len: usize, ff_rich: bool, compliant: bool) -> Vec<u8> {
        let mut v = Vec::with_capacity(len);
        for i in 0..len {
            let mut b = if ff_rich && rng.next() % 3 == 0 {
                0xFF
            } else {
                rng.byte()
            };
            if compliant && i > 0 && v[i - 1] == 0xFF && b > 0x8F {
                b %= 0x90;
            }
            if compliant && i + 1 == len && b == 0xFF {
                b = 0x12;
            }
            v.push(b);
        }
        v
    }

    fn is_compliant(v: &[u8]) -> bool {
        v.windows(2).all(|w| !(w[0] == 0xFF && w[1] > 0x8F)) && v.last() != Some(&0xFF)
    }

    #[test]
    fn compliant_property() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut lens: Vec<usize> = (0..200).collect();
        lens.extend([5000, 5000, 4099, 1024, 1025, 2048 + 7]);
        for key_len in [16usize, 24, 32] {
            let key: Vec<u8> = (0..key_len).map(|_| rng.byte()).collect();
            for mode in [Mode::Ctr, Mode::Ofb, Mode::Cfb] {
                let uc = UnitCipher::new(&key, mode).unwrap();
                for &len in &lens {
                    for ff_rich in [false, true] {
                        let iv: [u8; 16] = core::array::from_fn(|_| rng.byte());
                        let p = random_body(&mut rng, len, ff_rich, true);
                        let masks: [Option<Vec<bool>>; 2] =
                            [None, Some((0..len).map(|_| rng.next() & 1 == 1).collect())];
                        for mask in &masks {
                            let m = mask.as_deref();
                            let mut c = p.clone();
                            uc.compliant_encrypt(&iv, &mut c, m).unwrap();
                            assert!(is_compliant(&c), "{mode:?} {len} not compliant");
                            for t in 0..len {
                                assert_eq!(p[t] == 0xFF, c[t] == 0xFF, "{mode:?} {len} @{t}");
                                if let Some(m) = m {
                                    if !m[t] {
                                        assert_eq!(p[t], c[t]);
                                    }
                                }
                            }
                            if len >= 64 {
                                assert_ne!(c, p, "{mode:?} {len}");
                            }
                            let mut d = c.clone();
                            uc.compliant_decrypt(&iv, &mut d, m).unwrap();
                            assert_eq!(d, p, "{mode:?} {len} ff_rich={ff_rich} round trip");
                        }
                    }
                }
            }
        }
    }

    /// The documented construction, byte by byte, for CTR / OFB / CFB.
    fn reference_compliant(key: &[u8], mode: Mode, iv: &[u8; 16], p: &[u8]) -> Vec<u8> {
        let aes = Aes::new(key).unwrap();
        let mut c = p.to_vec();
        let mut block = *iv;
        let mut ctr = u128::from_be_bytes(*iv);
        let mut ks = [0u8; 16];
        for t in 0..p.len() {
            if t % 16 == 0 {
                match mode {
                    Mode::Ctr => {
                        ks = ctr.to_be_bytes();
                        ctr = ctr.wrapping_add(1);
                    }
                    Mode::Ofb => ks = block,
                    _ => {
                        if t > 0 {
                            ks.copy_from_slice(&c[t - 16..t]);
                        } else {
                            ks = *iv;
                        }
                    }
                }
                aes.encrypt_block(&mut ks);
                block = ks;
            }
            let k = ks[t % 16] as u32;
            let b = p[t] as u32;
            if b == 0xFF {
                continue;
            }
            c[t] = if t > 0 && p[t - 1] == 0xFF {
                ((b + k) % 0x90) as u8
            } else {
                ((b + k) % 0xFF) as u8
            };
        }
        c
    }

    #[test]
    fn compliant_matches_reference() {
        let mut rng = XorShift(12345);
        let key: Vec<u8> = (0..16).map(|_| rng.byte()).collect();
        for mode in [Mode::Ctr, Mode::Ofb, Mode::Cfb] {
            let uc = UnitCipher::new(&key, mode).unwrap();
            for len in [0usize, 1, 15, 16, 17, 100, 1023, 1024, 1025, 3000] {
                // Counter wrap-around inside the unit for CTR.
                let mut iv = [0xFFu8; 16];
                iv[0] = rng.byte();
                let p = random_body(&mut rng, len, true, true);
                let mut c = p.clone();
                uc.compliant_encrypt(&iv, &mut c, None).unwrap();
                assert_eq!(
                    c,
                    reference_compliant(&key, mode, &iv, &p),
                    "{mode:?} {len}"
                );
            }
        }
    }

    #[test]
    fn compliant_errors() {
        let key = [7u8; 16];
        for mode in [Mode::Ecb, Mode::Cbc] {
            let e = UnitCipher::new(&key, mode)
                .unwrap()
                .compliant_encrypt(&[0; 16], &mut [1, 2, 3], None)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        }
        let uc = UnitCipher::new(&key, Mode::Ctr).unwrap();
        let e = uc
            .compliant_encrypt(&[0; 16], &mut [1, 2, 3], Some(&[true, false]))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let orig = [0x10u8, 0xFF, 0x90, 0x20];
        let mut d = orig;
        let e = uc.compliant_encrypt(&[0; 16], &mut d, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        assert_eq!(e.offset(), Some(2));
        assert_eq!(d, orig, "unchanged on error");
        let e = uc.compliant_decrypt(&[0; 16], &mut d, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        // 0xFF 0xFF is not compliant either.
        let mut d = [0xFFu8, 0xFF];
        assert!(uc.compliant_encrypt(&[0; 16], &mut d, None).is_err());
        // An unselected non-compliant byte is left alone and not an error.
        let mut d = orig;
        uc.compliant_encrypt(&[0; 16], &mut d, Some(&[true, true, false, true]))
            .unwrap();
        assert_eq!(d[1..3], orig[1..3]);
        uc.compliant_decrypt(&[0; 16], &mut d, Some(&[true, true, false, true]))
            .unwrap();
        assert_eq!(d, orig);
    }
}
