//! An independent reader of the jsec JPSEC profile, version 1, written from
//! `docs/jpsec-format.md` only (not from `src/jpsec/`, `src/crypto/modes.rs`
//! or `src/crypto/mac.rs`), checked against what `jsec::jpsec::protect`
//! writes over the shared J2K corpus.
//!
//! Everything the profile defines is re-implemented here: the SEC marker
//! segments (§2), BAS / BAS16 (§3), the JPSP stream, tools, ZOI and PIDs
//! (§4–§6), the key chain, check values and level keys (§7), the packet IVs
//! (§8.2), the region selection (§8.3, with its own code-block geometry
//! after ISO/IEC 15444-1 B.5–B.7), the plain and format-compliant ciphers
//! (§8.4, §8.5, on a FIPS-197 AES written below), the unit messages, unit
//! values, canonical form and seals (§9, with an RFC 2104 HMAC written below
//! on top of `jsec::crypto::sha256`). From the crate, only the JPEG 2000
//! engine is used: `J2kFile::parse` (to cross-check the codestream start),
//! `PacketIndex` (to find packets and their code-block contributions),
//! `packed_headers` (PPM / PPT) and `TileCoding` (the COD / COC parameters
//! in force for a tile).
//!
//! The code-block areas of §8.3 are computed here from B.3 and B.5–B.7
//! (tile, tile-component, resolution, sub-band, precinct and code-block
//! partitions), not with `jsec::j2k::geometry`. Plain CBC / ECB (§8.4) and
//! whole packets (§8.6) are decrypted with the FIPS-197 inverse cipher
//! below; the plain modes are also re-encrypted and compared.
//!
//! Tests: every corpus file with CTR levels + HMAC (§2–§9); hash, content
//! identification, CBC-MAC and compliant CFB; the level key k2; regions
//! (inside / outside, compliant CTR / OFB / CFB and plain CBC); every plain
//! mode on every corpus file, every length case; whole-packet tools undone
//! from the ZOI alone; the zone fields of §5 (tiles, resolutions,
//! components, layers, precincts, packet ranges, byte ranges).

mod common;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

use jsec::crypto::mac::{HashAlg, MacAlg};
use jsec::crypto::modes::Mode;
use jsec::j2k::codestream::{Codestream, ComponentStyle};
use jsec::j2k::geometry::TileCoding;
use jsec::j2k::{J2kFile, Packet, PacketIndex};
use jsec::jpsec::{
    protect, Granularity, ImageZone, JpsecKey, Levels, ProtectOptions, Region, ToolSpec,
};

type Res<T> = Result<T, String>;

macro_rules! ensure {
    ($c:expr, $($fmt:tt)*) => {
        if !$c {
            return Err(format!($($fmt)*));
        }
    };
}

// =====================================================================
// SHA-256 (from the crate: `jsec::crypto::sha256`) and HMAC (RFC 2104)
// =====================================================================

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    jsec::crypto::sha256(parts)
}

/// HMAC-SHA-256 (RFC 2104, B = 64) of the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha256(&[key]));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad = k.map(|b| b ^ 0x36);
    let opad = k.map(|b| b ^ 0x5c);
    let mut inner: Vec<&[u8]> = vec![&ipad];
    inner.extend_from_slice(parts);
    let ih = sha256(&inner);
    sha256(&[&opad, &ih])
}

// =====================================================================
// AES encryption (FIPS-197), 128 / 192 / 256-bit keys
// =====================================================================

fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

/// The S-box of FIPS-197 5.1.1: multiplicative inverse in GF(2^8), then the
/// affine transformation.
fn sbox() -> &'static [u8; 256] {
    static S: OnceLock<[u8; 256]> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = [0u8; 256];
        for (x, out) in s.iter_mut().enumerate() {
            let inv = if x == 0 {
                0
            } else {
                (1..=255u8).find(|&y| gmul(x as u8, y) == 1).unwrap()
            };
            let b = inv;
            *out = b
                ^ b.rotate_left(1)
                ^ b.rotate_left(2)
                ^ b.rotate_left(3)
                ^ b.rotate_left(4)
                ^ 0x63;
        }
        s
    })
}

fn inv_sbox() -> &'static [u8; 256] {
    static S: OnceLock<[u8; 256]> = OnceLock::new();
    S.get_or_init(|| {
        let mut inv = [0u8; 256];
        for (x, &y) in sbox().iter().enumerate() {
            inv[y as usize] = x as u8;
        }
        inv
    })
}

struct Aes {
    rk: Vec<[u8; 16]>,
}

impl Aes {
    fn new(key: &[u8]) -> Aes {
        let nk = key.len() / 4;
        assert!(matches!(nk, 4 | 6 | 8), "AES key of {} bytes", key.len());
        let nr = nk + 6;
        let s = sbox();
        let mut w: Vec<[u8; 4]> = key.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
        let mut rcon = 1u8;
        for i in nk..4 * (nr + 1) {
            let mut t = w[i - 1];
            if i % nk == 0 {
                t = [
                    s[t[1] as usize],
                    s[t[2] as usize],
                    s[t[3] as usize],
                    s[t[0] as usize],
                ];
                t[0] ^= rcon;
                rcon = gmul(rcon, 2);
            } else if nk > 6 && i % nk == 4 {
                t = t.map(|b| s[b as usize]);
            }
            let p = w[i - nk];
            w.push([p[0] ^ t[0], p[1] ^ t[1], p[2] ^ t[2], p[3] ^ t[3]]);
        }
        let rk = w
            .chunks(4)
            .map(|c| {
                let mut k = [0u8; 16];
                for (j, word) in c.iter().enumerate() {
                    k[4 * j..4 * j + 4].copy_from_slice(word);
                }
                k
            })
            .collect();
        Aes { rk }
    }

    /// Decrypt one block (FIPS-197 5.3, the inverse cipher).
    fn decrypt(&self, input: &[u8; 16]) -> [u8; 16] {
        let inv = inv_sbox();
        let nr = self.rk.len() - 1;
        let mut st = *input;
        for (b, k) in st.iter_mut().zip(&self.rk[nr]) {
            *b ^= k;
        }
        for round in (0..nr).rev() {
            // InvShiftRows + InvSubBytes
            let mut t = [0u8; 16];
            for c in 0..4 {
                for r in 0..4 {
                    t[r + 4 * c] = inv[st[r + 4 * ((c + 4 - r) % 4)] as usize];
                }
            }
            for (b, k) in t.iter_mut().zip(&self.rk[round]) {
                *b ^= k;
            }
            // InvMixColumns
            if round != 0 {
                for c in 0..4 {
                    let a = [t[4 * c], t[4 * c + 1], t[4 * c + 2], t[4 * c + 3]];
                    for r in 0..4 {
                        t[4 * c + r] = gmul(a[r], 14)
                            ^ gmul(a[(r + 1) % 4], 11)
                            ^ gmul(a[(r + 2) % 4], 13)
                            ^ gmul(a[(r + 3) % 4], 9);
                    }
                }
            }
            st = t;
        }
        st
    }

    /// Encrypt one block. State byte `r + 4c` is row `r`, column `c`.
    fn encrypt(&self, input: &[u8; 16]) -> [u8; 16] {
        let s = sbox();
        let nr = self.rk.len() - 1;
        let mut st = *input;
        for (b, k) in st.iter_mut().zip(&self.rk[0]) {
            *b ^= k;
        }
        for round in 1..=nr {
            // SubBytes + ShiftRows
            let mut t = [0u8; 16];
            for c in 0..4 {
                for r in 0..4 {
                    t[r + 4 * c] = s[st[r + 4 * ((c + r) % 4)] as usize];
                }
            }
            // MixColumns
            if round != nr {
                for c in 0..4 {
                    let a = [t[4 * c], t[4 * c + 1], t[4 * c + 2], t[4 * c + 3]];
                    let x2 = a.map(|v| gmul(v, 2));
                    t[4 * c] = x2[0] ^ (x2[1] ^ a[1]) ^ a[2] ^ a[3];
                    t[4 * c + 1] = a[0] ^ x2[1] ^ (x2[2] ^ a[2]) ^ a[3];
                    t[4 * c + 2] = a[0] ^ a[1] ^ x2[2] ^ (x2[3] ^ a[3]);
                    t[4 * c + 3] = (x2[0] ^ a[0]) ^ a[1] ^ a[2] ^ x2[3];
                }
            }
            for (b, k) in t.iter_mut().zip(&self.rk[round]) {
                *b ^= k;
            }
            st = t;
        }
        st
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b16(v: &[u8]) -> [u8; 16] {
    v.try_into().unwrap()
}

fn add_be128(iv: &[u8; 16], j: u64) -> [u8; 16] {
    u128::from_be_bytes(*iv)
        .wrapping_add(j as u128)
        .to_be_bytes()
}

fn xor16(a: &[u8; 16], b: &[u8; 16]) -> [u8; 16] {
    let mut o = [0u8; 16];
    for i in 0..16 {
        o[i] = a[i] ^ b[i];
    }
    o
}

// =====================================================================
// §7 keys, §8.2 IVs
// =====================================================================

/// `k0 … k(n−1)`: `k(i+1)` = first len(k0) bytes of SHA-256(label ‖ k(i)).
fn key_chain(k: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut v = vec![k.to_vec()];
    while v.len() < n {
        let h = sha256(&[b"jsec/jpsec/v1/key-chain", v.last().unwrap()]);
        v.push(h[..k.len()].to_vec());
    }
    v.truncate(n.max(1));
    v
}

fn cipher_key(k: &[u8]) -> Vec<u8> {
    hmac_sha256(k, &[b"jsec/jpsec/v1/enc"])[..k.len()].to_vec()
}

fn mac_key(k: &[u8]) -> [u8; 32] {
    hmac_sha256(k, &[b"jsec/jpsec/v1/mac"])
}

fn check_value(k: &[u8]) -> [u8; 8] {
    hmac_sha256(k, &[b"jsec/jpsec/v1/check"])[..8]
        .try_into()
        .unwrap()
}

/// §7: the level of a packet at resolution `r`, layer `l`.
fn level_of(access: u8, n: u8, r: u8, l: u16) -> u8 {
    let top = n.saturating_sub(1) as u32;
    match access {
        0 => 0,
        1 => (top - (r as u32).min(top)) as u8,
        2 => (top - (l as u32).min(top)) as u8,
        a => panic!("access {a}"),
    }
}

fn packet_iv(global: &[u8; 16], id: &PId) -> [u8; 16] {
    let h = sha256(&[
        b"jsec/jpsec/v1/iv",
        global,
        &id.tile.to_be_bytes(),
        &id.layer.to_be_bytes(),
        &[id.res],
        &id.comp.to_be_bytes(),
        &id.prec.to_be_bytes(),
    ]);
    b16(&h[..16])
}

// =====================================================================
// §9.2 CBC-MAC (ISO/IEC 9797-1 MAC algorithm 1, length-prefixed)
// =====================================================================

fn cbc_mac(key: &[u8], msg: &[u8]) -> [u8; 16] {
    let aes = Aes::new(key);
    let mut m = ((msg.len() as u128) * 8).to_be_bytes().to_vec();
    m.extend_from_slice(msg);
    m.push(0x80);
    while m.len() % 16 != 0 {
        m.push(0);
    }
    let mut c = [0u8; 16];
    for blk in m.chunks(16) {
        c = aes.encrypt(&xor16(&c, &b16(blk)));
    }
    c
}

fn hash_of(alg: u8, parts: &[&[u8]]) -> Res<Vec<u8>> {
    match alg {
        7 => Ok(sha256(parts).to_vec()),
        a => Err(format!("hash id {a}: not implemented by this reader")),
    }
}

/// A unit value or a seal of an authentication tool (§9.2, §9.3).
fn mac_value(method: u8, hash: u8, level_key: &[u8], parts: &[&[u8]]) -> Res<Vec<u8>> {
    let mk = mac_key(level_key);
    match (method, hash) {
        (1, 7) => Ok(hmac_sha256(&mk, parts).to_vec()),
        (2, 0) => Ok(cbc_mac(&mk[..level_key.len()], &parts.concat()).to_vec()),
        (m, h) => Err(format!("MAC method {m} hash {h}: not implemented here")),
    }
}

// =====================================================================
// §3 BAS / BAS16 and a bounded reader
// =====================================================================

struct Rd<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        ensure!(
            self.p + n <= self.b.len(),
            "truncated at {} (need {n})",
            self.p
        );
        let s = &self.b[self.p..self.p + n];
        self.p += n;
        Ok(s)
    }
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Res<u16> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Res<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    /// BAS: 7 bits per byte, MSB group first, bit 7 = more; ≤ 5 bytes; no
    /// leading zero group.
    fn bas(&mut self) -> Res<u64> {
        let at = self.p;
        let mut v = 0u64;
        for n in 0..5 {
            let b = self.u8()?;
            ensure!(!(n == 0 && b == 0x80), "BAS at {at}: leading zero group");
            v = v << 7 | (b & 0x7F) as u64;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("BAS at {at}: more than 5 bytes"))
    }
    /// BAS16: a u16 (bit 15 = more) then 7-bit groups; ≤ 5 bytes in all.
    fn bas16(&mut self) -> Res<u64> {
        let at = self.p;
        let w = self.u16()?;
        if w & 0x8000 == 0 {
            return Ok(w as u64);
        }
        let mut v = (w & 0x7FFF) as u64;
        for _ in 0..3 {
            let b = self.u8()?;
            v = v << 7 | (b & 0x7F) as u64;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("BAS16 at {at}: more than 5 bytes"))
    }
}

// =====================================================================
// §2 locating the codestream and the SEC segments
// =====================================================================

const SOC: u16 = 0xFF4F;
const SIZ: u16 = 0xFF51;
const SOT: u16 = 0xFF90;
const SEC: u16 = 0xFF65;

fn be16(d: &[u8], p: usize) -> u16 {
    u16::from_be_bytes([d[p], d[p + 1]])
}
fn be32(d: &[u8], p: usize) -> u32 {
    u32::from_be_bytes(d[p..p + 4].try_into().unwrap())
}

/// The `jp2c` box of a JP2 file: box offset and the size of its length
/// fields (8, or 16 with XLBox; LBox = 0 means "to the end").
#[derive(Debug, Clone, Copy)]
struct Jp2c {
    offset: usize,
    header: usize,
    lbox: u32,
}

#[derive(Debug, Clone)]
struct Located {
    cs_start: usize,
    jp2c: Option<Jp2c>,
    /// Main-header marker segments after SOC: (marker, offset, bytes incl.
    /// the marker).
    main: Vec<(u16, usize, usize)>,
    first_sot: usize,
}

fn locate(data: &[u8]) -> Res<Located> {
    let mut jp2c = None;
    let cs_start = if data.starts_with(&[0, 0, 0, 0x0C, b'j', b'P', b' ', b' ']) {
        let mut off = 0usize;
        loop {
            ensure!(off + 8 <= data.len(), "no jp2c box");
            let lbox = be32(data, off);
            let (len, hdr) = match lbox {
                0 => (data.len() - off, 8),
                1 => (
                    u64::from_be_bytes(data[off + 8..off + 16].try_into().unwrap()) as usize,
                    16,
                ),
                l => (l as usize, 8),
            };
            if &data[off + 4..off + 8] == b"jp2c" {
                jp2c = Some(Jp2c {
                    offset: off,
                    header: hdr,
                    lbox,
                });
                break off + hdr;
            }
            ensure!(len >= hdr, "bad box length at {off}");
            off += len;
        }
    } else {
        0
    };
    ensure!(
        data.len() >= cs_start + 2 && be16(data, cs_start) == SOC,
        "no SOC"
    );
    let mut p = cs_start + 2;
    let mut main = Vec::new();
    loop {
        ensure!(p + 4 <= data.len(), "main header runs off the end");
        let m = be16(data, p);
        if m == SOT {
            break;
        }
        ensure!(m >> 8 == 0xFF, "not a marker at {p}");
        if (0xFF30..=0xFF3F).contains(&m) {
            // T.800 A.1: reserved markers without parameters.
            main.push((m, p, 2));
            p += 2;
            continue;
        }
        let l = be16(data, p + 2) as usize;
        main.push((m, p, 2 + l));
        p += 2 + l;
    }
    Ok(Located {
        cs_start,
        jp2c,
        main,
        first_sot: p,
    })
}

#[derive(Debug)]
struct Sec {
    /// (offset, bytes incl. marker) of each SEC segment.
    segs: Vec<(usize, usize)>,
    /// The unstuffed logical stream.
    logical: Vec<u8>,
}

/// §2: read, check and unstuff the SEC segments.
fn read_sec(data: &[u8], loc: &Located, cs: &Codestream) -> Res<Sec> {
    ensure!(
        loc.main.first().map(|s| s.0) == Some(SIZ),
        "SIZ is not first after SOC"
    );
    let mut segs = Vec::new();
    let mut i = 1;
    while i < loc.main.len() && loc.main[i].0 == SEC {
        segs.push((loc.main[i].1, loc.main[i].2));
        i += 1;
    }
    ensure!(
        loc.main[i..].iter().all(|s| s.0 != SEC),
        "a SEC segment not consecutive after SIZ"
    );
    for tp in &cs.tile_parts {
        ensure!(
            tp.segments.iter().all(|s| s.marker != SEC),
            "SEC in a tile-part header"
        );
    }
    ensure!(!segs.is_empty(), "no SEC segment");
    ensure!(segs.len() <= 256, "more than 256 SEC segments");
    let mut stuffed = Vec::new();
    for (z, &(off, len)) in segs.iter().enumerate() {
        let lsec = len - 2;
        ensure!(lsec == be16(data, off + 2) as usize, "Lsec mismatch");
        ensure!(lsec % 2 == 0, "segment {z}: odd Lsec {lsec:#x}");
        ensure!(lsec <= 0xFEFE, "segment {z}: Lsec {lsec:#x} > 0xFEFE");
        ensure!(lsec >= 4, "segment {z}: Lsec {lsec} < 4");
        ensure!(
            data[off + 4] as usize == z,
            "segment {z}: Zsec {}",
            data[off + 4]
        );
        let npad = data[off + 5] as usize;
        ensure!(npad <= 1, "segment {z}: Npad {npad}");
        ensure!(lsec >= 4 + npad, "segment {z}: Npad beyond Lsec");
        let piece = &data[off + 6..off + 2 + lsec - npad];
        ensure!(
            data[off + 2 + lsec - npad..off + 2 + lsec]
                .iter()
                .all(|&b| b == 0),
            "segment {z}: pad not zero"
        );
        // A piece never ends between an FF and its 00.
        let mut k = 0;
        while k < piece.len() {
            if piece[k] == 0xFF {
                ensure!(
                    k + 1 < piece.len() && piece[k + 1] == 0,
                    "segment {z}: FF at piece offset {k} not followed by 00 in the piece"
                );
                k += 1;
            }
            k += 1;
        }
        // jsec's own rule (§2 last line): every segment but the last is full.
        if z + 1 < segs.len() {
            ensure!(
                lsec == 0xFEFE,
                "segment {z} not the last and not full: {lsec:#x}"
            );
        }
        stuffed.extend_from_slice(piece);
    }
    let mut logical = Vec::with_capacity(stuffed.len());
    let mut k = 0;
    while k < stuffed.len() {
        logical.push(stuffed[k]);
        if stuffed[k] == 0xFF {
            ensure!(stuffed.get(k + 1) == Some(&0), "FF not followed by 00");
            k += 1;
        }
        k += 1;
    }
    Ok(Sec { segs, logical })
}

/// The file without its SEC segments (and the jp2c box length fixed).
fn strip_sec(data: &[u8], loc: &Located, sec: &Sec) -> Vec<u8> {
    let a = sec.segs[0].0;
    let last = sec.segs.last().unwrap();
    let b = last.0 + last.1;
    let removed = b - a;
    let mut out = [&data[..a], &data[b..]].concat();
    if let Some(j) = loc.jp2c {
        match j.lbox {
            0 => {}
            1 => {
                let p = j.offset + 8;
                let v = u64::from_be_bytes(out[p..p + 8].try_into().unwrap()) - removed as u64;
                out[p..p + 8].copy_from_slice(&v.to_be_bytes());
            }
            l => {
                let v = l - removed as u32;
                out[j.offset..j.offset + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
        let _ = j.header;
    }
    out
}

// =====================================================================
// §4–§6 the logical stream
// =====================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PId {
    tile: u16,
    layer: u16,
    res: u8,
    comp: u16,
    prec: u32,
}

fn pid_of(p: &Packet) -> PId {
    PId {
        tile: p.tile,
        layer: p.id.layer,
        res: p.id.resolution,
        comp: p.id.component,
        prec: p.id.precinct,
    }
}

#[derive(Debug, Clone)]
struct PRec {
    id: PId,
    body_length: u32,
    state: u8,
    offset: u32,
}

#[derive(Debug, Clone)]
struct Unit {
    level: u8,
    packets: Vec<PRec>,
}

#[derive(Debug, Clone)]
struct Zoi {
    zflags: u16,
    tiles: Option<Vec<u16>>,
    res: Option<(u8, u8)>,
    layers: Option<(u16, u16)>,
    comps: Option<(u16, u16)>,
    region: Option<[u32; 4]>,
    outside: bool,
    precincts: Option<(u32, u32)>,
    /// Packet sequence numbers within their tile, inclusive ranges.
    seqs: Option<Vec<(u32, u32)>>,
    /// Byte ranges (offset from the first SOT, length).
    bytes: Option<Vec<(u32, u32)>>,
    grid: [u32; 4],
    reduced: u8,
    units: Vec<Unit>,
}

#[derive(Debug, Clone)]
struct KeyTpl {
    access: u8,
    n: u8,
    checks: Vec<[u8; 8]>,
}

#[derive(Debug, Clone)]
enum Pid {
    Dec {
        cipher: u16,
        key_bits: u16,
        mode: u8,
        padding: u8,
        compliant: u8,
        domain: u8,
        granularity: u8,
        tpl: KeyTpl,
        iv: [u8; 16],
    },
    Auth {
        method: u8,
        hash: u8,
        scheme: u8,
        granularity: u8,
        tpl: KeyTpl,
        key_id: Vec<u8>,
        values: Vec<Vec<u8>>,
        seal: Vec<u8>,
    },
    Hash {
        hash: u8,
        granularity: u8,
        values: Vec<Vec<u8>>,
    },
    Content {
        hash: u8,
        id: Vec<u8>,
        authority: Vec<u8>,
        binding: Vec<u8>,
        values: Vec<Vec<u8>>,
    },
    Foreign,
}

#[derive(Debug, Clone)]
struct Tool {
    t: u8,
    instance: u64,
    template: u8,
    zoi: Zoi,
    pid: Pid,
}

#[derive(Debug)]
struct Stream {
    tools: Vec<Tool>,
    /// §9.3 canonical form.
    canonical: Vec<u8>,
}

/// §6: the processing order byte after the granularity (1: codestream
/// order, the only one defined).
fn order(r: &mut Rd) -> Res<()> {
    let o = r.u8()?;
    ensure!(o == 1, "processing order {o}");
    Ok(())
}

fn parse_tpl(r: &mut Rd) -> Res<KeyTpl> {
    let access = r.u8()?;
    let n = r.u8()?;
    let mut checks = Vec::new();
    for _ in 0..n {
        checks.push(r.take(8)?.try_into().unwrap());
    }
    Ok(KeyTpl { access, n, checks })
}

fn parse_values(r: &mut Rd, n: usize, vlen: usize) -> Res<(Vec<Vec<u8>>, Range<usize>)> {
    let start = r.p;
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(r.take(vlen)?.to_vec());
    }
    Ok((v, start..r.p))
}

/// Parse a ZOI; pushes the byte ranges of its mutable fields to `zero`.
fn parse_zoi(r: &mut Rd, zero: &mut Vec<Range<usize>>) -> Res<Zoi> {
    let zflags = r.u16()?;
    ensure!(zflags & 0xFE00 == 0, "zflags bits 9-15 set: {zflags:#x}");
    ensure!(
        zflags & 0x20 == 0 || zflags & 0x10 != 0,
        "outside without region"
    );
    let tiles = if zflags & 1 != 0 {
        let n = r.bas()?;
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(r.u16()?);
        }
        Some(v)
    } else {
        None
    };
    let res = if zflags & 2 != 0 {
        let (a, b) = (r.u8()?, r.u8()?);
        ensure!(a <= b, "resolutions {a} > {b}");
        Some((a, b))
    } else {
        None
    };
    let layers = if zflags & 4 != 0 {
        let (a, b) = (r.u16()?, r.u16()?);
        ensure!(a <= b, "layers {a} > {b}");
        Some((a, b))
    } else {
        None
    };
    let comps = if zflags & 8 != 0 {
        let (a, b) = (r.u16()?, r.u16()?);
        ensure!(a <= b, "components {a} > {b}");
        Some((a, b))
    } else {
        None
    };
    let region = if zflags & 0x10 != 0 {
        let v = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
        ensure!(v[0] < v[2] && v[1] < v[3], "empty region {v:?}");
        Some(v)
    } else {
        None
    };
    let precincts = if zflags & 0x40 != 0 {
        let (a, b) = (r.u32()?, r.u32()?);
        ensure!(a <= b, "precincts {a} > {b}");
        Some((a, b))
    } else {
        None
    };
    let mut pairs = |bit: u16| -> Res<Option<Vec<(u32, u32)>>> {
        if zflags & bit == 0 {
            return Ok(None);
        }
        let n = r.bas()?;
        ensure!(n >= 1, "empty list under zflags bit {bit:#x}");
        let mut v = Vec::new();
        for _ in 0..n {
            v.push((r.u32()?, r.u32()?));
        }
        Ok(Some(v))
    };
    let seqs = pairs(0x80)?;
    let bytes = pairs(0x100)?;
    let grid = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
    ensure!(
        grid[0] < grid[2] && grid[1] < grid[3],
        "empty grid {grid:?}"
    );
    zero.push(r.p..r.p + 1);
    let reduced = r.u8()?;
    ensure!(reduced <= 32, "reduced {reduced}");
    let nunits = r.bas()?;
    let mut units = Vec::new();
    let mut seen = HashSet::new();
    for _ in 0..nunits {
        let level = r.u8()?;
        let np = r.bas()?;
        ensure!(np >= 1, "unit without packets");
        let mut packets = Vec::new();
        for _ in 0..np {
            let id = PId {
                tile: r.u16()?,
                layer: r.u16()?,
                res: r.u8()?,
                comp: r.u16()?,
                prec: r.u32()?,
            };
            let body_length = r.u32()?;
            zero.push(r.p..r.p + 1);
            let state = r.u8()?;
            ensure!(state <= 2, "state {state}");
            zero.push(r.p..r.p + 4);
            let offset = r.u32()?;
            ensure!(seen.insert(id), "packet {id:?} twice in a tool");
            packets.push(PRec {
                id,
                body_length,
                state,
                offset,
            });
        }
        units.push(Unit { level, packets });
    }
    Ok(Zoi {
        zflags,
        tiles,
        res,
        layers,
        comps,
        region,
        outside: zflags & 0x20 != 0,
        precincts,
        seqs,
        bytes,
        grid,
        reduced,
        units,
    })
}

fn parse_stream(s: &[u8]) -> Res<Stream> {
    let mut r = Rd { b: s, p: 0 };
    ensure!(r.take(4)? == b"JPSP", "magic");
    ensure!(r.u8()? == 1, "version");
    ensure!(r.u8()? == 0, "flags");
    let ntools = r.bas()?;
    let mut zero: Vec<Range<usize>> = Vec::new();
    let mut tools = Vec::new();
    let mut instances = HashSet::new();
    for _ in 0..ntools {
        let t = r.u8()?;
        let instance = r.bas()?;
        ensure!(instances.insert(instance), "instance {instance} twice");
        let idlen = r.u8()? as usize;
        let id = r.take(idlen)?;
        let ours = t == 0x40
            && idlen == 6
            && &id[..4] == b"jsec"
            && (1..=4).contains(&id[4])
            && id[5] == 1;
        let lzoi = r.bas16()? as usize;
        let zstart = r.p;
        if !ours {
            r.take(lzoi)?;
            let lpid = r.bas16()? as usize;
            r.take(lpid)?;
            tools.push(Tool {
                t,
                instance,
                template: 0,
                zoi: Zoi {
                    zflags: 0,
                    tiles: None,
                    res: None,
                    layers: None,
                    comps: None,
                    region: None,
                    outside: false,
                    precincts: None,
                    seqs: None,
                    bytes: None,
                    grid: [0; 4],
                    reduced: 0,
                    units: vec![],
                },
                pid: Pid::Foreign,
            });
            continue;
        }
        let template = id[4];
        let zoi = {
            let mut zr = Rd {
                b: &s[..zstart + lzoi],
                p: zstart,
            };
            let z = parse_zoi(&mut zr, &mut zero)?;
            ensure!(
                zr.p == zstart + lzoi,
                "tool {instance}: ZOI shorter than LZOI"
            );
            r.p = zr.p;
            z
        };
        let lpid = r.bas16()? as usize;
        let pstart = r.p;
        let mut pr = Rd {
            b: &s[..pstart + lpid.min(s.len() - pstart)],
            p: pstart,
        };
        let nunits = zoi.units.len();
        let pid = match template {
            1 => Pid::Dec {
                cipher: pr.u16()?,
                key_bits: pr.u16()?,
                mode: pr.u8()?,
                padding: pr.u8()?,
                compliant: pr.u8()?,
                domain: pr.u8()?,
                granularity: pr.u8()?,
                tpl: {
                    order(&mut pr)?;
                    parse_tpl(&mut pr)?
                },
                iv: b16(pr.take(16)?),
            },
            2 => {
                let method = pr.u8()?;
                let hash = pr.u8()?;
                let scheme = pr.u8()?;
                let granularity = pr.u8()?;
                order(&mut pr)?;
                let tpl = parse_tpl(&mut pr)?;
                let key_id = pr.take(32)?.to_vec();
                let vlen = pr.u16()? as usize;
                let (values, vr) = parse_values(&mut pr, nunits, vlen)?;
                if method != 3 {
                    zero.push(vr);
                }
                let slen = pr.u16()? as usize;
                zero.push(pr.p..pr.p + slen);
                let seal = pr.take(slen)?.to_vec();
                Pid::Auth {
                    method,
                    hash,
                    scheme,
                    granularity,
                    tpl,
                    key_id,
                    values,
                    seal,
                }
            }
            3 => {
                let hash = pr.u8()?;
                let granularity = pr.u8()?;
                order(&mut pr)?;
                let vlen = pr.u16()? as usize;
                let (values, _) = parse_values(&mut pr, nunits, vlen)?;
                Pid::Hash {
                    hash,
                    granularity,
                    values,
                }
            }
            4 => {
                let hash = pr.u8()?;
                let n = pr.u16()? as usize;
                let id = pr.take(n)?.to_vec();
                let n = pr.u16()? as usize;
                let authority = pr.take(n)?.to_vec();
                let n = pr.u16()? as usize;
                let binding = pr.take(n)?.to_vec();
                let vlen = pr.u16()? as usize;
                let (values, _) = parse_values(&mut pr, nunits, vlen)?;
                Pid::Content {
                    hash,
                    id,
                    authority,
                    binding,
                    values,
                }
            }
            _ => unreachable!(),
        };
        ensure!(
            pr.p == pstart + lpid,
            "tool {instance}: PID is {} bytes, LPID {lpid}",
            pr.p - pstart
        );
        r.p = pr.p;
        tools.push(Tool {
            t,
            instance,
            template,
            zoi,
            pid,
        });
    }
    ensure!(
        r.p == s.len(),
        "{} bytes after the last tool",
        s.len() - r.p
    );
    let mut canonical = s.to_vec();
    for z in zero {
        canonical[z].fill(0);
    }
    Ok(Stream { tools, canonical })
}

// =====================================================================
// ISO/IEC 15444-1 B.3, B.5–B.7 code-block areas (own implementation)
// =====================================================================

fn cdiv(a: i64, b: i64) -> i64 {
    a.div_euclid(b) + (a.rem_euclid(b) != 0) as i64
}
fn fdiv(a: i64, b: i64) -> i64 {
    a.div_euclid(b)
}

type Rect = [i64; 4];

/// A code-block's area in its sub-band's coordinates: code-block `j`
/// (raster within the precinct's part of the band) of band `band` (0 LL for
/// r = 0, else 0 HL, 1 LH, 2 HH) of precinct `k` of resolution `r` of the
/// tile-component (tile, comp).
#[allow(clippy::too_many_arguments)]
fn code_block_area(
    cs: &Codestream,
    style: &ComponentStyle,
    tile: u16,
    comp: u16,
    r: u8,
    k: u32,
    band: u8,
    j: u32,
) -> Res<Rect> {
    let siz = &cs.siz;
    // B.3 tile.
    let ntx = cdiv(siz.width as i64 - siz.tile_x0 as i64, siz.tile_w as i64);
    let (p, q) = (tile as i64 % ntx, tile as i64 / ntx);
    let tx0 = (siz.tile_x0 as i64 + p * siz.tile_w as i64).max(siz.x0 as i64);
    let ty0 = (siz.tile_y0 as i64 + q * siz.tile_h as i64).max(siz.y0 as i64);
    let tx1 = (siz.tile_x0 as i64 + (p + 1) * siz.tile_w as i64).min(siz.width as i64);
    let ty1 = (siz.tile_y0 as i64 + (q + 1) * siz.tile_h as i64).min(siz.height as i64);
    // B.3 tile-component.
    let c = &siz.components[comp as usize];
    let (dx, dy) = (c.dx as i64, c.dy as i64);
    let tc = [cdiv(tx0, dx), cdiv(ty0, dy), cdiv(tx1, dx), cdiv(ty1, dy)];
    let nl = style.levels as u32;
    let r32 = r as u32;
    // B.5 resolution.
    let f = 1i64 << (nl - r32);
    let tr = [
        cdiv(tc[0], f),
        cdiv(tc[1], f),
        cdiv(tc[2], f),
        cdiv(tc[3], f),
    ];
    // B.6 precincts.
    let (ppx, ppy) = style
        .precincts
        .get(r as usize)
        .map(|&(a, b)| (a as u32, b as u32))
        .unwrap_or((15, 15));
    let pw = if tr[2] > tr[0] {
        cdiv(tr[2], 1 << ppx) - fdiv(tr[0], 1 << ppx)
    } else {
        0
    };
    ensure!(pw > 0, "empty resolution has no precinct");
    let (kx, ky) = (k as i64 % pw, k as i64 / pw);
    let px0 = (fdiv(tr[0], 1 << ppx) + kx) << ppx;
    let py0 = (fdiv(tr[1], 1 << ppy) + ky) << ppy;
    // B.5 sub-band, and the precinct in the band's coordinates.
    let (band_rect, prect, xcbp, ycbp);
    if r == 0 {
        band_rect = tr;
        prect = [px0, py0, px0 + (1 << ppx), py0 + (1 << ppy)];
        xcbp = (style.cb_w as u32).min(ppx);
        ycbp = (style.cb_h as u32).min(ppy);
    } else {
        let nb = nl - r32 + 1;
        let (xo, yo) = match band {
            0 => (1i64, 0i64),
            1 => (0, 1),
            2 => (1, 1),
            b => return Err(format!("band {b}")),
        };
        let s = 1i64 << nb;
        let h = 1i64 << (nb - 1);
        band_rect = [
            cdiv(tc[0] - h * xo, s),
            cdiv(tc[1] - h * yo, s),
            cdiv(tc[2] - h * xo, s),
            cdiv(tc[3] - h * yo, s),
        ];
        prect = [
            px0 / 2,
            py0 / 2,
            (px0 + (1 << ppx)) / 2,
            (py0 + (1 << ppy)) / 2,
        ];
        xcbp = (style.cb_w as u32).min(ppx - 1);
        ycbp = (style.cb_h as u32).min(ppy - 1);
    }
    let pb = [
        prect[0].max(band_rect[0]),
        prect[1].max(band_rect[1]),
        prect[2].min(band_rect[2]),
        prect[3].min(band_rect[3]),
    ];
    ensure!(pb[0] < pb[2] && pb[1] < pb[3], "precinct misses the band");
    // B.7 code-blocks.
    let (cw_, ch_) = (1i64 << xcbp, 1i64 << ycbp);
    let cw = cdiv(pb[2], cw_) - fdiv(pb[0], cw_);
    let ch = cdiv(pb[3], ch_) - fdiv(pb[1], ch_);
    ensure!((j as i64) < cw * ch, "code-block {j} beyond {cw}x{ch}");
    let (jx, jy) = (j as i64 % cw, j as i64 / cw);
    let bx = (fdiv(pb[0], cw_) + jx) * cw_;
    let by = (fdiv(pb[1], ch_) + jy) * ch_;
    Ok([
        bx.max(pb[0]),
        by.max(pb[1]),
        (bx + cw_).min(pb[2]),
        (by + ch_).min(pb[3]),
    ])
}

// =====================================================================
// A protected file seen by this reader
// =====================================================================

struct View<'a> {
    data: &'a [u8],
    loc: Located,
    cs: Codestream,
    index: PacketIndex,
    by_id: HashMap<PId, usize>,
    packed: HashMap<u16, Option<Vec<u8>>>,
    coding: HashMap<u16, TileCoding>,
}

impl<'a> View<'a> {
    fn new(data: &'a [u8]) -> Res<View<'a>> {
        let loc = locate(data)?;
        let f = J2kFile::parse(data).map_err(|e| e.to_string())?;
        ensure!(
            f.codestream.start == loc.cs_start,
            "codestream start {} (own) vs {} (crate)",
            loc.cs_start,
            f.codestream.start
        );
        let index = PacketIndex::build(&f.codestream, data).map_err(|e| e.to_string())?;
        let by_id = index
            .packets
            .iter()
            .enumerate()
            .map(|(i, p)| (pid_of(p), i))
            .collect();
        Ok(View {
            data,
            loc,
            cs: f.codestream,
            index,
            by_id,
            packed: HashMap::new(),
            coding: HashMap::new(),
        })
    }

    fn coding(&mut self, tile: u16) -> &TileCoding {
        let cs = &self.cs;
        self.coding.entry(tile).or_insert_with(|| {
            TileCoding::of(cs, cs.tile_parts.iter().find(|tp| tp.sot.tile == tile))
        })
    }

    /// §8.1 header bytes: without SOP, without EPH.
    fn header_bytes(&mut self, pi: usize) -> Res<Vec<u8>> {
        let p = self.index.packets[pi].clone();
        let eph = self.coding(p.tile).cod.eph();
        let mut h = if p.packed_header_length > 0 {
            let cs = &self.cs;
            let data = self.data;
            let stream = self
                .packed
                .entry(p.tile)
                .or_insert_with(|| jsec::j2k::index::packed_headers(cs, data, p.tile).unwrap());
            let s = stream.as_ref().ok_or("packed header without a stream")?;
            s[p.packed_header_offset..p.packed_header_offset + p.packed_header_length].to_vec()
        } else {
            let start = p.offset + if p.sop { 6 } else { 0 };
            if p.sop {
                ensure!(
                    be16(self.data, p.offset) == 0xFF91,
                    "no SOP at {}",
                    p.offset
                );
            }
            ensure!(
                start + p.header_length == p.body_offset,
                "header does not end at the body"
            );
            self.data[start..p.body_offset].to_vec()
        };
        if eph {
            ensure!(
                h.len() >= 2 && h[h.len() - 2..] == [0xFF, 0x92],
                "no EPH at the end of the header of packet {}",
                p.seq
            );
            h.truncate(h.len() - 2);
        }
        Ok(h)
    }

    fn body(&self, pi: usize) -> &'a [u8] {
        let p = &self.index.packets[pi];
        &self.data[p.body_offset..p.body_offset + p.body_length]
    }

    fn rel_offset(&self, pi: usize) -> u32 {
        (self.index.packets[pi].body_offset - self.loc.first_sot) as u32
    }

    /// §9.1 unit message.
    fn unit_message(&mut self, instance: u64, u: usize, unit: &Unit) -> Res<Vec<u8>> {
        let mut m = b"jsec/jpsec/v1/unit".to_vec();
        m.extend_from_slice(&(instance as u32).to_be_bytes());
        m.extend_from_slice(&(u as u32).to_be_bytes());
        for pr in &unit.packets {
            let pi = *self
                .by_id
                .get(&pr.id)
                .ok_or("packet not in the codestream")?;
            let id = pr.id;
            m.extend_from_slice(&id.tile.to_be_bytes());
            m.extend_from_slice(&id.layer.to_be_bytes());
            m.push(id.res);
            m.extend_from_slice(&id.comp.to_be_bytes());
            m.extend_from_slice(&id.prec.to_be_bytes());
            let h = self.header_bytes(pi)?;
            m.extend_from_slice(&(h.len() as u32).to_be_bytes());
            m.extend_from_slice(&h);
            let b = self.body(pi);
            m.extend_from_slice(&(b.len() as u32).to_be_bytes());
            m.extend_from_slice(b);
        }
        Ok(m)
    }

    /// §8.3: the selected-byte mask of a packet's body under a ZOI region
    /// (`None`: no region, every byte).
    fn selection(&mut self, zoi: &Zoi, pi: usize) -> Res<Option<Vec<bool>>> {
        let Some(reg) = zoi.region else {
            return Ok(None);
        };
        let p = self.index.packets[pi].clone();
        let style = self.coding(p.tile).styles[p.id.component as usize].clone();
        let c = self.cs.siz.components[p.id.component as usize];
        let (dx, dy) = (c.dx as i64, c.dy as i64);
        let nl = style.levels as i64;
        let s = zoi.reduced as i64;
        let r = p.id.resolution as i64;
        let mut mask = Vec::with_capacity(p.body_length);
        for con in &p.contributions {
            let b = code_block_area(
                &self.cs,
                &style,
                p.tile,
                p.id.component,
                p.id.resolution,
                p.id.precinct,
                con.band,
                con.block,
            )?;
            let (e, ox, oy) = if r == 0 {
                (nl + s, 0i64, 0i64)
            } else {
                let (ox, oy) = match con.band {
                    0 => (1, 0),
                    1 => (0, 1),
                    _ => (1, 1),
                };
                (nl - r + 1 + s, ox, oy)
            };
            let pe = 1i64 << e;
            let half = if e > 0 { 1i64 << (e - 1) } else { 0 };
            let m = 4 * pe;
            let fx0 = (b[0] * pe + ox * half - m) * dx;
            let fx1 = (b[2] * pe + ox * half + m) * dx;
            let fy0 = (b[1] * pe + oy * half - m) * dy;
            let fy1 = (b[3] * pe + oy * half + m) * dy;
            let (rx0, ry0, rx1, ry1) = (reg[0] as i64, reg[1] as i64, reg[2] as i64, reg[3] as i64);
            let meets = fx0 < rx1 && rx0 < fx1 && fy0 < ry1 && ry0 < fy1;
            let inside = fx0 >= rx0 && fx1 <= rx1 && fy0 >= ry0 && fy1 <= ry1;
            let sel = if zoi.outside { !inside } else { meets };
            mask.extend(std::iter::repeat(sel).take(con.bytes as usize));
        }
        ensure!(
            mask.len() == p.body_length,
            "contributions sum to {} of a {}-byte body",
            mask.len(),
            p.body_length
        );
        Ok(Some(mask))
    }
}

/// §5: the packet is in the zone (its body at `off` from the first SOT).
fn in_zone(z: &Zoi, p: &Packet, off: u32) -> bool {
    let len = p.body_length as u64;
    let off = off as u64;
    z.tiles.as_ref().map_or(true, |t| t.contains(&p.tile))
        && z.res
            .map_or(true, |(a, b)| (a..=b).contains(&p.id.resolution))
        && z.layers
            .map_or(true, |(a, b)| (a..=b).contains(&p.id.layer))
        && z.comps
            .map_or(true, |(a, b)| (a..=b).contains(&p.id.component))
        && z.precincts
            .map_or(true, |(a, b)| (a..=b).contains(&p.id.precinct))
        && z.seqs
            .as_ref()
            .map_or(true, |v| v.iter().any(|&(a, b)| (a..=b).contains(&p.seq)))
        && z.bytes.as_ref().map_or(true, |v| {
            v.iter().any(|&(o, l)| {
                let (o, e) = (o as u64, o as u64 + l as u64);
                if len == 0 {
                    o <= off && off < e
                } else {
                    off < e && o < off + len
                }
            })
        })
}

/// §6.5 unit key by granularity.
type UnitKey = (u16, i64, i64, i64, i64);

fn unit_key(g: u8, p: &Packet) -> UnitKey {
    let id = &p.id;
    match g {
        1 => (p.tile, -1, -1, -1, -1),
        2 => (p.tile, id.resolution as i64, -1, -1, -1),
        3 => (p.tile, -1, id.layer as i64, -1, -1),
        4 => (p.tile, -1, -1, id.component as i64, -1),
        5 => (
            p.tile,
            id.resolution as i64,
            -1,
            id.component as i64,
            id.precinct as i64,
        ),
        _ => (
            p.tile,
            id.resolution as i64,
            id.layer as i64,
            id.component as i64,
            id.precinct as i64,
        ),
    }
}

/// Compare a ZOI's unit list with the expected one: (level, packets).
fn check_units(
    v: &View,
    zoi: &Zoi,
    expected: &[(u8, Vec<usize>)],
    whole: bool,
    what: &str,
) -> Res<()> {
    ensure!(
        zoi.units.len() == expected.len(),
        "{what}: {} units, expected {}",
        zoi.units.len(),
        expected.len()
    );
    for (u, (unit, (lvl, pis))) in zoi.units.iter().zip(expected).enumerate() {
        ensure!(
            unit.level == *lvl,
            "{what}: unit {u} level {} expected {lvl}",
            unit.level
        );
        ensure!(
            unit.packets.len() == pis.len(),
            "{what}: unit {u} has {} packets, expected {}",
            unit.packets.len(),
            pis.len()
        );
        for (pr, &pi) in unit.packets.iter().zip(pis) {
            let p = &v.index.packets[pi];
            ensure!(
                pr.id == pid_of(p),
                "{what}: unit {u}: {:?} expected {:?}",
                pr.id,
                pid_of(p)
            );
            ensure!(pr.state == 1, "{what}: {:?} state {}", pr.id, pr.state);
            // Domain 2: the packet after its SOP marker segment.
            let (off, len) = if whole {
                let a = p.offset + if p.sop { 6 } else { 0 };
                ((a - v.loc.first_sot) as u32, p.offset + p.length - a)
            } else {
                (v.rel_offset(pi), p.body_length)
            };
            ensure!(
                pr.body_length as usize == len,
                "{what}: {:?} body_length {} vs index {len}",
                pr.id,
                pr.body_length,
            );
            ensure!(
                pr.offset == off,
                "{what}: {:?} offset {} vs index {off}",
                pr.id,
                pr.offset,
            );
        }
    }
    Ok(())
}

/// §6.5 expected units of an authentication / hash tool.
fn expected_grouped(v: &View, zoi: &Zoi, g: u8, tpl: Option<&KeyTpl>) -> Vec<(u8, Vec<usize>)> {
    let mut out: Vec<(u8, Vec<usize>)> = Vec::new();
    let mut at: HashMap<(UnitKey, u8), usize> = HashMap::new();
    for (pi, p) in v.index.packets.iter().enumerate() {
        if !in_zone(zoi, p, v.rel_offset(pi)) {
            continue;
        }
        let lvl = tpl.map_or(0, |t| level_of(t.access, t.n, p.id.resolution, p.id.layer));
        let k = (unit_key(g, p), lvl);
        match at.get(&k) {
            Some(&u) => out[u].1.push(pi),
            None => {
                at.insert(k, out.len());
                out.push((lvl, vec![pi]));
            }
        }
    }
    out
}

fn check_tpl(tpl: &KeyTpl, k0: &[u8], access: u8, n: u8, what: &str) -> Res<()> {
    ensure!(
        tpl.access == access && tpl.n == n,
        "{what}: key template access {} N {}, expected {access} {n}",
        tpl.access,
        tpl.n
    );
    for (i, k) in key_chain(k0, n as usize).iter().enumerate() {
        ensure!(
            tpl.checks[i] == check_value(k),
            "{what}: check value of k{i} differs"
        );
    }
    Ok(())
}

/// Number of resolutions, largest over the tile-components (§7).
fn max_resolutions(v: &mut View) -> u8 {
    let tiles: Vec<u16> = v.cs.tile_parts.iter().map(|t| t.sot.tile).collect();
    let mut m = 0;
    for t in tiles {
        for s in &v.coding(t).styles {
            m = m.max(s.levels + 1);
        }
    }
    m
}

/// The held key: (level, key). Every level ≥ `level` is derivable.
struct Held<'k> {
    level: u8,
    key: &'k [u8],
}

impl Held<'_> {
    fn level_key(&self, lvl: u8) -> Option<Vec<u8>> {
        if lvl < self.level {
            return None;
        }
        Some(
            key_chain(self.key, (lvl - self.level) as usize + 1)
                .pop()
                .unwrap(),
        )
    }
}

/// §8.5 format-compliant decryption in place (`ct` = the body).
fn compliant_decrypt(mode: u8, aes: &Aes, iv: &[u8; 16], body: &mut [u8], sel: Option<&[bool]>) {
    let ct = body.to_vec();
    let n = body.len();
    let mut ks = Vec::with_capacity(n + 16);
    let mut prev = *iv;
    let mut j = 0u64;
    while ks.len() < n {
        let blk = match mode {
            5 => aes.encrypt(&add_be128(iv, j)),
            4 => {
                prev = aes.encrypt(&prev);
                prev
            }
            3 => {
                let inp = if j == 0 {
                    *iv
                } else {
                    b16(&ct[16 * (j as usize - 1)..16 * j as usize])
                };
                aes.encrypt(&inp)
            }
            m => panic!("compliant mode {m}"),
        };
        ks.extend_from_slice(&blk);
        j += 1;
    }
    for t in 0..n {
        if sel.is_some_and(|s| !s[t]) || ct[t] == 0xFF {
            continue;
        }
        let modulus: u16 = if t > 0 && ct[t - 1] == 0xFF {
            0x90
        } else {
            0xFF
        };
        let k = ks[t] as u16 % modulus;
        body[t] = ((ct[t] as u16 + modulus - k) % modulus) as u8;
    }
}

/// §8.4 plain encryption of `p` (the whole unit).
fn plain_encrypt(mode: u8, aes: &Aes, iv: &[u8; 16], p: &[u8]) -> Vec<u8> {
    let n = p.len();
    let e = |b: &[u8; 16]| aes.encrypt(b);
    let blocks: Vec<&[u8]> = p.chunks(16).collect();
    match mode {
        5 | 4 => {
            let mut out = Vec::with_capacity(n);
            let mut o = *iv;
            for (j, b) in blocks.iter().enumerate() {
                let k = if mode == 5 {
                    e(&add_be128(iv, j as u64))
                } else {
                    o = e(&o);
                    o
                };
                out.extend(b.iter().zip(k).map(|(x, y)| x ^ y));
            }
            out
        }
        3 => {
            let mut out = Vec::with_capacity(n);
            let mut c = *iv;
            for b in blocks {
                let k = e(&c);
                let cb: Vec<u8> = b.iter().zip(k).map(|(x, y)| x ^ y).collect();
                if cb.len() == 16 {
                    c = b16(&cb);
                }
                out.extend(cb);
            }
            out
        }
        1 | 2 if n < 16 => {
            let k = e(iv);
            p.iter().zip(k).map(|(x, y)| x ^ y).collect()
        }
        2 if n == 16 => e(&xor16(&b16(p), iv)).to_vec(),
        1 if n == 16 => e(&b16(p)).to_vec(),
        1 | 2 => {
            let nb = blocks.len();
            let r = blocks[nb - 1].len();
            let mut cs: Vec<[u8; 16]> = Vec::new();
            let mut prev = *iv;
            for b in &blocks[..nb - 1] {
                let c = if mode == 2 {
                    e(&xor16(&b16(b), &prev))
                } else {
                    e(&b16(b))
                };
                cs.push(c);
                prev = c;
            }
            let cn1 = cs[nb - 2];
            let mut last = [0u8; 16];
            last[..r].copy_from_slice(blocks[nb - 1]);
            let x = if mode == 2 {
                e(&xor16(&cn1, &last))
            } else {
                last[r..].copy_from_slice(&cn1[r..]);
                e(&last)
            };
            let mut out: Vec<u8> = cs[..nb - 2].iter().flatten().copied().collect();
            out.extend_from_slice(&x);
            out.extend_from_slice(&cn1[..r]);
            out
        }
        m => panic!("mode {m}"),
    }
}

/// §8.4 plain decryption (inverse of [`plain_encrypt`], written from the
/// same text).
fn plain_decrypt(mode: u8, aes: &Aes, iv: &[u8; 16], c: &[u8]) -> Vec<u8> {
    let n = c.len();
    let e = |b: &[u8; 16]| aes.encrypt(b);
    let d = |b: &[u8; 16]| aes.decrypt(b);
    match mode {
        5 | 4 => plain_encrypt(mode, aes, iv, c),
        3 => {
            let mut out = Vec::with_capacity(n);
            let mut prev = *iv;
            for b in c.chunks(16) {
                let k = e(&prev);
                out.extend(b.iter().zip(k).map(|(x, y)| x ^ y));
                if b.len() == 16 {
                    prev = b16(b);
                }
            }
            out
        }
        1 | 2 if n < 16 => plain_encrypt(mode, aes, iv, c),
        2 if n == 16 => xor16(&d(&b16(c)), iv).to_vec(),
        1 if n == 16 => d(&b16(c)).to_vec(),
        1 | 2 => {
            let nb = n.div_ceil(16);
            let r = n - 16 * (nb - 1);
            // C1 … C(n−2) ‖ X ‖ first r bytes of C(n−1)
            let x = b16(&c[16 * (nb - 2)..16 * (nb - 1)]);
            let y = &c[16 * (nb - 1)..];
            let dx = d(&x);
            let mut cn1 = [0u8; 16];
            cn1[..r].copy_from_slice(y);
            cn1[r..].copy_from_slice(&dx[r..]);
            let mut cs: Vec<[u8; 16]> = c[..16 * (nb - 2)].chunks(16).map(b16).collect();
            cs.push(cn1);
            let mut out = Vec::with_capacity(n);
            let mut prev = *iv;
            for cj in &cs {
                let pj = d(cj);
                out.extend_from_slice(&if mode == 2 { xor16(&pj, &prev) } else { pj });
                prev = *cj;
            }
            if mode == 2 {
                out.extend_from_slice(&xor16(&dx, &cn1)[..r]);
            } else {
                out.extend_from_slice(&dx[..r]);
            }
            out
        }
        m => panic!("mode {m}"),
    }
}

/// §8.6 and §10 step 1: undo the whole-packet tools (domain 2), last first,
/// locating their bytes from the ZOI alone (no packet index: the headers
/// are encrypted). Returns the file and the number of packets undone.
fn undo_whole_packets(data: &[u8], expect: &[Expect]) -> Res<(Vec<u8>, usize)> {
    let loc = locate(data)?;
    let f = J2kFile::parse(data).map_err(|e| e.to_string())?;
    let sec = read_sec(data, &loc, &f.codestream)?;
    let st = parse_stream(&sec.logical)?;
    let whole = |t: &Tool| matches!(t.pid, Pid::Dec { domain: 2, .. });
    if let Some(first) = st.tools.iter().position(whole) {
        ensure!(
            st.tools[first..].iter().all(whole),
            "a whole-packet tool is followed by another tool"
        );
    }
    let mut out = data.to_vec();
    let mut n = 0;
    for (tool, ex) in st.tools.iter().zip(expect).rev() {
        let Pid::Dec {
            domain: 2,
            mode,
            iv,
            tpl,
            ..
        } = &tool.pid
        else {
            continue;
        };
        let Expect::Dec { k0, .. } = ex else {
            return Err("unexpected whole-packet tool".into());
        };
        let chain = key_chain(k0, tpl.n as usize);
        for unit in &tool.zoi.units {
            ensure!(
                unit.packets.len() == 1,
                "a whole-packet unit of several packets"
            );
            let pr = &unit.packets[0];
            let a = loc.first_sot + pr.offset as usize;
            let b = a + pr.body_length as usize;
            ensure!(
                f.codestream
                    .tile_parts
                    .iter()
                    .any(|tp| tp.data.start <= a && b <= tp.data.end),
                "{:?}: bytes {a}..{b} not inside one tile-part's data",
                pr.id
            );
            let aes = Aes::new(&cipher_key(&chain[unit.level as usize]));
            let plain = plain_decrypt(*mode, &aes, &packet_iv(iv, &pr.id), &out[a..b]);
            out[a..b].copy_from_slice(&plain);
            n += 1;
        }
    }
    Ok((out, n))
}

// =====================================================================
// The whole check of a protected file
// =====================================================================

/// What the test expects of one tool it asked for (to check the PIDs).
#[derive(Clone)]
enum Expect<'k> {
    Dec {
        k0: &'k [u8],
        mode: u8,
        compliant: bool,
        access: u8,
        n: Option<u8>,
        /// 1 bodies, 2 whole packets (§8.6).
        domain: u8,
    },
    Mac {
        k0: &'k [u8],
        method: u8,
        hash: u8,
        granularity: u8,
        access: u8,
        n: Option<u8>,
    },
    Hash {
        hash: u8,
        granularity: u8,
    },
    Content {
        id: &'k str,
        authority: &'k str,
        hash: u8,
    },
}

struct Checked {
    /// The file with every decryption tool undone and the SEC removed.
    restored: Vec<u8>,
    /// Number of SEC segments.
    segments: usize,
    stats: String,
}

/// Verify everything about `protected` (from `orig` with `expect` tools,
/// fixed global IV `iv`) and return the restored file.
fn verify(orig: &[u8], protected: &[u8], expect: &[Expect], iv: &[u8; 16]) -> Res<Checked> {
    // §10 step 1: whole-packet tools first, from the ZOI alone.
    let (undone, nwhole) = undo_whole_packets(protected, expect)?;
    let protected: &[u8] = &undone;
    let mut v = View::new(protected)?;
    let sec = read_sec(protected, &v.loc, &v.cs)?;
    let st = parse_stream(&sec.logical)?;
    ensure!(
        st.tools.len() == expect.len(),
        "{} tools, expected {}",
        st.tools.len(),
        expect.len()
    );
    // §2: the SEC segments sit between SIZ and the rest of the original.
    let ol = locate(orig)?;
    let sec_len: usize = sec.segs.iter().map(|s| s.1).sum();
    ensure!(
        v.loc.first_sot == ol.first_sot + sec_len,
        "the first SOT moved by {} for {sec_len} bytes of SEC",
        v.loc.first_sot as i64 - ol.first_sot as i64
    );
    let siz = v.cs.siz.clone();
    let grid = [siz.x0, siz.y0, siz.width, siz.height];
    let nres = max_resolutions(&mut v);
    let nlayers = {
        let tiles: Vec<u16> = v.cs.tile_parts.iter().map(|t| t.sot.tile).collect();
        tiles
            .into_iter()
            .map(|t| v.coding(t).cod.layers)
            .max()
            .unwrap_or(1)
    };
    let pick_n = |access: u8, n: Option<u8>| match (access, n) {
        (_, Some(n)) => n,
        (0, None) => 1,
        (1, None) => nres,
        _ => nlayers as u8,
    };
    let mut restored = protected.to_vec();
    let mut stats = format!(
        "{} SEC segment(s), {} logical bytes",
        sec.segs.len(),
        sec.logical.len()
    );
    for (ti, (tool, ex)) in st.tools.iter().zip(expect).enumerate() {
        let what = format!("tool {ti}");
        ensure!(tool.t == 0x40, "{what}: t {:#x}", tool.t);
        ensure!(
            tool.instance == ti as u64,
            "{what}: instance {}",
            tool.instance
        );
        let z = &tool.zoi;
        ensure!(z.grid == grid, "{what}: grid {:?} vs SIZ {grid:?}", z.grid);
        ensure!(z.reduced == 0, "{what}: reduced {}", z.reduced);
        match (&tool.pid, ex) {
            (
                Pid::Dec {
                    cipher,
                    key_bits,
                    mode,
                    padding,
                    compliant,
                    domain,
                    granularity,
                    tpl,
                    iv: giv,
                },
                Expect::Dec {
                    k0,
                    mode: emode,
                    compliant: ecomp,
                    access,
                    n,
                    domain: edomain,
                },
            ) => {
                ensure!(tool.template == 1, "{what}: template {}", tool.template);
                ensure!(*cipher == 1, "{what}: cipher {cipher}");
                ensure!(
                    *key_bits as usize == k0.len() * 8,
                    "{what}: key_bits {key_bits}"
                );
                ensure!(mode == emode, "{what}: mode {mode}");
                let epad = matches!(mode, 1 | 2) as u8;
                ensure!(
                    *padding == epad,
                    "{what}: padding {padding} for mode {mode}"
                );
                ensure!(*compliant == *ecomp as u8, "{what}: compliant {compliant}");
                ensure!(domain == edomain, "{what}: domain {domain}");
                ensure!(*granularity == 6, "{what}: granularity {granularity}");
                ensure!(giv == iv, "{what}: global IV differs");
                check_tpl(tpl, k0, *access, pick_n(*access, *n), &what)?;
                if *domain == 2 {
                    // §6.1: every packet of the zone, after its SOP; already
                    // undone above.
                    ensure!(*compliant == 0, "{what}: compliant whole-packet tool");
                    ensure!(z.region.is_none(), "{what}: region on a whole-packet tool");
                    let expected: Vec<(u8, Vec<usize>)> = (0..v.index.packets.len())
                        .filter(|&pi| in_zone(z, &v.index.packets[pi], v.rel_offset(pi)))
                        .map(|pi| {
                            let p = &v.index.packets[pi];
                            (
                                level_of(tpl.access, tpl.n, p.id.resolution, p.id.layer),
                                vec![pi],
                            )
                        })
                        .collect();
                    check_units(&v, z, &expected, true, &what)?;
                    stats += &format!(", whole packets: {} units ({nwhole} undone)", z.units.len());
                    continue;
                }
                // Expected units: every non-empty body in the zone (with a
                // selected byte under a region), one per unit.
                let mut expected = Vec::new();
                let mut masks = HashMap::new();
                for pi in 0..v.index.packets.len() {
                    let p = v.index.packets[pi].clone();
                    if !in_zone(z, &p, v.rel_offset(pi)) || p.body_length == 0 {
                        continue;
                    }
                    let m = v.selection(z, pi)?;
                    if m.as_ref().is_some_and(|m| !m.contains(&true)) {
                        continue;
                    }
                    masks.insert(pi, m);
                    expected.push((
                        level_of(tpl.access, tpl.n, p.id.resolution, p.id.layer),
                        vec![pi],
                    ));
                }
                check_units(&v, z, &expected, false, &what)?;
                // Decrypt with k0 (level 0: everything).
                let held = Held { level: 0, key: k0 };
                decrypt_tool(&v, tool, &held, &masks, &mut restored)?;
                stats += &format!(", dec: {} units", z.units.len());
            }
            (
                Pid::Auth {
                    method,
                    hash,
                    scheme,
                    granularity,
                    tpl,
                    key_id,
                    values,
                    seal,
                },
                Expect::Mac {
                    k0,
                    method: em,
                    hash: eh,
                    granularity: eg,
                    access,
                    n,
                },
            ) => {
                ensure!(tool.template == 2, "{what}: template {}", tool.template);
                ensure!(
                    method == em && hash == eh,
                    "{what}: method {method} hash {hash}"
                );
                ensure!(*scheme == 0, "{what}: scheme {scheme}");
                ensure!(granularity == eg, "{what}: granularity {granularity}");
                ensure!(key_id.iter().all(|&b| b == 0), "{what}: key_id not zero");
                check_tpl(tpl, k0, *access, pick_n(*access, *n), &what)?;
                let expected = expected_grouped(&v, z, *granularity, Some(tpl));
                check_units(&v, z, &expected, false, &what)?;
                let chain = key_chain(k0, tpl.n as usize);
                // Seal with the key of level N − 1.
                let want = mac_value(
                    *method,
                    *hash,
                    &chain[tpl.n as usize - 1],
                    &[b"jsec/jpsec/v1/seal", &st.canonical],
                )?;
                ensure!(*seal == want, "{what}: seal differs");
                for (u, unit) in z.units.iter().enumerate() {
                    let m = v.unit_message(tool.instance, u, unit)?;
                    let want = mac_value(*method, *hash, &chain[unit.level as usize], &[&m])?;
                    ensure!(values[u] == want, "{what}: MAC of unit {u} differs");
                }
                stats += &format!(", mac: {} units", z.units.len());
            }
            (
                Pid::Hash {
                    hash,
                    granularity,
                    values,
                },
                Expect::Hash {
                    hash: eh,
                    granularity: eg,
                },
            ) => {
                ensure!(tool.template == 3, "{what}: template {}", tool.template);
                ensure!(
                    hash == eh && granularity == eg,
                    "{what}: {hash} {granularity}"
                );
                let expected = expected_grouped(&v, z, *granularity, None);
                check_units(&v, z, &expected, false, &what)?;
                for (u, unit) in z.units.iter().enumerate() {
                    let m = v.unit_message(tool.instance, u, unit)?;
                    ensure!(
                        values[u] == hash_of(*hash, &[&m])?,
                        "{what}: hash of unit {u} differs"
                    );
                }
                stats += &format!(", hash: {} units", z.units.len());
            }
            (
                Pid::Content {
                    hash,
                    id,
                    authority,
                    binding,
                    values,
                },
                Expect::Content {
                    id: eid,
                    authority: ea,
                    hash: eh,
                },
            ) => {
                ensure!(tool.template == 4, "{what}: template {}", tool.template);
                ensure!(hash == eh, "{what}: hash {hash}");
                ensure!(
                    id == eid.as_bytes() && authority == ea.as_bytes(),
                    "{what}: id"
                );
                ensure!(z.zflags == 0, "{what}: zflags {:#x}", z.zflags);
                // Every packet of the image, one per unit, codestream order.
                let expected: Vec<(u8, Vec<usize>)> =
                    (0..v.index.packets.len()).map(|pi| (0, vec![pi])).collect();
                check_units(&v, z, &expected, false, &what)?;
                for (u, unit) in z.units.iter().enumerate() {
                    let m = v.unit_message(tool.instance, u, unit)?;
                    ensure!(
                        values[u] == hash_of(*hash, &[&m])?,
                        "{what}: hash of unit {u} differs"
                    );
                }
                let mut parts: Vec<&[u8]> = Vec::new();
                let il = (id.len() as u16).to_be_bytes();
                let al = (authority.len() as u16).to_be_bytes();
                parts.push(b"jsec/jpsec/v1/content-id");
                parts.push(&il);
                parts.push(id);
                parts.push(&al);
                parts.push(authority);
                for v in values {
                    parts.push(v);
                }
                ensure!(
                    *binding == hash_of(*hash, &parts)?,
                    "{what}: binding differs"
                );
                stats += &format!(", content-id: {} units", z.units.len());
            }
            (p, _) => return Err(format!("{what}: unexpected PID {p:?}")),
        }
    }
    let restored = strip_sec(&restored, &v.loc, &sec);
    ensure!(restored.len() == orig.len(), "restored length differs");
    Ok(Checked {
        restored,
        segments: sec.segs.len(),
        stats,
    })
}

/// Undo one decryption tool (with the levels `held` opens) in `out`, a copy
/// of the protected file; returns the number of packets opened.
fn decrypt_tool(
    v: &View,
    tool: &Tool,
    held: &Held,
    masks: &HashMap<usize, Option<Vec<bool>>>,
    out: &mut [u8],
) -> Res<usize> {
    let Pid::Dec {
        mode,
        compliant,
        iv,
        ..
    } = &tool.pid
    else {
        return Err("not a decryption tool".into());
    };
    let mut aes_of: HashMap<u8, Option<Aes>> = HashMap::new();
    let mut opened = 0;
    for unit in &tool.zoi.units {
        let aes = aes_of.entry(unit.level).or_insert_with(|| {
            held.level_key(unit.level)
                .map(|k| Aes::new(&cipher_key(&k)))
        });
        let Some(aes) = aes else { continue };
        for pr in &unit.packets {
            let pi = v.by_id[&pr.id];
            let p = &v.index.packets[pi];
            let piv = packet_iv(iv, &pr.id);
            let mask = masks.get(&pi).and_then(|m| m.as_deref());
            let body = &mut out[p.body_offset..p.body_offset + p.body_length];
            if *compliant == 1 {
                compliant_decrypt(*mode, aes, &piv, body, mask);
            } else {
                return Err("plain decryption is checked by re-encryption instead".into());
            }
            opened += 1;
        }
    }
    Ok(opened)
}

// =====================================================================
// Fixtures
// =====================================================================

fn key_bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len as u8).map(|i| i.wrapping_mul(37) ^ seed).collect()
}

fn jkey(b: &[u8]) -> JpsecKey {
    JpsecKey::from_bytes(b).unwrap()
}

const IV: [u8; 16] = [
    0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
];

fn corpus() -> Vec<(String, Vec<u8>)> {
    common::j2k_corpus_files(false)
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn corpus_file(name: &str) -> Option<Vec<u8>> {
    corpus()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, d)| d)
}

/// Bodies free of marker codes (no FF followed by a byte above 8F, no
/// final FF).
fn bodies_compliant(data: &[u8]) -> bool {
    let f = J2kFile::parse(data).unwrap();
    let ix = PacketIndex::build(&f.codestream, data).unwrap();
    ix.packets.iter().all(|p| {
        let b = &data[p.body_offset..p.body_offset + p.body_length];
        b.last() != Some(&0xFF) && !b.windows(2).any(|w| w[0] == 0xFF && w[1] > 0x8F)
    })
}

// =====================================================================
// Tests
// =====================================================================

#[test]
fn own_primitives_match_published_vectors() {
    // FIPS-197 appendix C.
    let pt = b16(&hex("00112233445566778899aabbccddeeff"));
    for (key, ct) in [
        (
            "000102030405060708090a0b0c0d0e0f",
            "69c4e0d86a7b0430d8cdb78070b4c55a",
        ),
        (
            "000102030405060708090a0b0c0d0e0f1011121314151617",
            "dda97ca4864cdfe06eaf70a0ec0d7191",
        ),
        (
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "8ea2b7ca516745bfeafc49904b496089",
        ),
    ] {
        assert_eq!(
            Aes::new(&hex(key)).encrypt(&pt).to_vec(),
            hex(ct),
            "AES {key}"
        );
        assert_eq!(
            Aes::new(&hex(key)).decrypt(&b16(&hex(ct))),
            pt,
            "AES-1 {key}"
        );
    }
    // RFC 4231 test cases 1, 2 and 6.
    assert_eq!(
        hmac_sha256(&[0x0b; 20], &[b"Hi There"]).to_vec(),
        hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    );
    assert_eq!(
        hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]).to_vec(),
        hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(
        hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
        )
        .to_vec(),
        hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    );
    // NIST SP 800-38A F.5.5 (CTR-AES256) first block, through plain_encrypt.
    let k = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    let ctr = b16(&hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
    let p = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    assert_eq!(
        plain_encrypt(5, &Aes::new(&k), &ctr, &p),
        hex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5")
    );
    // §3 examples.
    assert_eq!(
        Rd {
            b: &[0x82, 0x2C],
            p: 0
        }
        .bas()
        .unwrap(),
        300
    );
    assert_eq!(
        Rd {
            b: &[0x81, 0x38, 0x40],
            p: 0
        }
        .bas16()
        .unwrap(),
        40000
    );
    assert!(Rd {
        b: &[0x80, 0x01],
        p: 0
    }
    .bas()
    .is_err());
}

fn enc_mac_tools(k0: &[u8]) -> Vec<ToolSpec> {
    vec![
        ToolSpec::Encrypt {
            key: jkey(k0),
            mode: Mode::Ctr,
            compliant: true,
            levels: Levels::Resolution(None),
            zone: ImageZone::default(),
        },
        ToolSpec::Mac {
            key: jkey(k0),
            alg: MacAlg::HmacSha256,
            granularity: Granularity::Resolution,
            levels: Levels::Resolution(None),
            zone: ImageZone::default(),
        },
    ]
}

#[test]
fn every_corpus_file_ctr_levels_and_hmac_read_independently() {
    let files = corpus();
    if files.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let k0 = key_bytes(32, 0x5A);
    let expect = [
        Expect::Dec {
            k0: &k0,
            mode: 5,
            compliant: true,
            access: 1,
            n: None,
            domain: 1,
        },
        Expect::Mac {
            k0: &k0,
            method: 1,
            hash: 7,
            granularity: 2,
            access: 1,
            n: None,
        },
    ];
    let mut fails = Vec::new();
    let mut multi = 0;
    for (name, orig) in &files {
        let opts = ProtectOptions {
            tools: enc_mac_tools(&k0),
            iv: Some(IV),
        };
        let prot = match protect(orig, &opts) {
            Ok(p) => p,
            Err(e) => {
                fails.push(format!("{name}: protect: {e}"));
                continue;
            }
        };
        match verify(orig, &prot, &expect, &IV) {
            Ok(c) => {
                if c.restored != *orig {
                    let at = c.restored.iter().zip(orig).position(|(a, b)| a != b);
                    fails.push(format!("{name}: restored file differs at {at:?}"));
                } else {
                    if c.segments > 1 {
                        multi += 1;
                    }
                    eprintln!("{name}: ok ({})", c.stats);
                }
                if bodies_compliant(orig) && !bodies_compliant(&prot) {
                    fails.push(format!("{name}: compliant cipher left a marker code"));
                }
            }
            Err(e) => fails.push(format!("{name}: {e}")),
        }
    }
    eprintln!("{} files, {multi} with several SEC segments", files.len());
    common::assert_no_failures(&fails);
}

#[test]
fn hash_content_id_cbc_mac_and_cfb_read_independently() {
    let mut ran = 0;
    for name in [
        "c1024-RPCL-sop-eph-prec-t512.j2k",
        "p1_05.j2k",
        "p1_03.j2k",
        "c512-lossless.jp2",
    ] {
        let Some(orig) = corpus_file(name) else {
            eprintln!("{name}: not in the corpus, skipped");
            continue;
        };
        let k_enc = key_bytes(16, 0x33);
        let k_mac = key_bytes(24, 0x77);
        let (cid, auth) = ("urn:example:jsec:ü-42", "Example Registration Authority");
        let opts = ProtectOptions {
            tools: vec![
                ToolSpec::Encrypt {
                    key: jkey(&k_enc),
                    mode: Mode::Cfb,
                    compliant: true,
                    levels: Levels::Layer(None),
                    zone: ImageZone::default(),
                },
                ToolSpec::Hash {
                    alg: HashAlg::Sha256,
                    granularity: Granularity::Packet,
                    zone: ImageZone::default(),
                },
                ToolSpec::ContentId {
                    id: cid.into(),
                    authority: auth.into(),
                    alg: HashAlg::Sha256,
                },
                ToolSpec::Mac {
                    key: jkey(&k_mac),
                    alg: MacAlg::CbcMacAes,
                    granularity: Granularity::Precinct,
                    levels: Levels::Layer(None),
                    zone: ImageZone::default(),
                },
            ],
            iv: Some(IV),
        };
        let prot = protect(&orig, &opts).unwrap();
        let expect = [
            Expect::Dec {
                k0: &k_enc,
                mode: 3,
                compliant: true,
                access: 2,
                n: None,
                domain: 1,
            },
            Expect::Hash {
                hash: 7,
                granularity: 6,
            },
            Expect::Content {
                id: cid,
                authority: auth,
                hash: 7,
            },
            Expect::Mac {
                k0: &k_mac,
                method: 2,
                hash: 0,
                granularity: 5,
                access: 2,
                n: None,
            },
        ];
        let c = verify(&orig, &prot, &expect, &IV).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(c.restored == orig, "{name}: restored file differs");
        eprintln!("{name}: ok ({})", c.stats);
        ran += 1;
    }
    if ran == 0 {
        eprintln!("shared corpus not found: skipped");
    }
}

#[test]
fn level_key_k2_opens_exactly_levels_two_and_up() {
    let name = "c1024-LRCP-n6-3L.j2k";
    let Some(orig) = corpus_file(name) else {
        eprintln!("{name}: corpus not found: skipped");
        return;
    };
    let k0 = key_bytes(32, 0x5A);
    let prot = protect(
        &orig,
        &ProtectOptions {
            tools: enc_mac_tools(&k0),
            iv: Some(IV),
        },
    )
    .unwrap();
    let v = View::new(&prot).unwrap();
    let sec = read_sec(&prot, &v.loc, &v.cs).unwrap();
    let st = parse_stream(&sec.logical).unwrap();
    let tool = &st.tools[0];
    let Pid::Dec { tpl, .. } = &tool.pid else {
        panic!("tool 0 is not a decryption tool")
    };
    assert!(tpl.n >= 4, "{name}: only {} levels", tpl.n);
    // Only k2 is held; which level it is comes from the check values.
    let k2 = key_chain(&k0, 3).pop().unwrap();
    let lvl = tpl
        .checks
        .iter()
        .position(|c| *c == check_value(&k2))
        .expect("k2 matches a check value") as u8;
    assert_eq!(lvl, 2);
    let held = Held {
        level: lvl,
        key: &k2,
    };
    let mut out = prot.clone();
    let masks = HashMap::new();
    let opened = decrypt_tool(&v, tool, &held, &masks, &mut out).unwrap();
    let ov = View::new(&orig).unwrap();
    let (mut same, mut differ, mut closed) = (0, 0, 0);
    for unit in &tool.zoi.units {
        for pr in &unit.packets {
            let p = &v.index.packets[v.by_id[&pr.id]];
            let q = &ov.index.packets[ov.by_id[&pr.id]];
            let got = &out[p.body_offset..p.body_offset + p.body_length];
            let want = &orig[q.body_offset..q.body_offset + q.body_length];
            let expected_level = (tpl.n - 1) - pr.id.res.min(tpl.n - 1);
            assert_eq!(unit.level, expected_level, "{:?}", pr.id);
            if unit.level >= 2 {
                assert_eq!(
                    got, want,
                    "{:?} (level {}) not opened by k2",
                    pr.id, unit.level
                );
                same += 1;
            } else {
                closed += 1;
                if want.iter().filter(|&&b| b != 0xFF).count() >= 8 {
                    assert_ne!(got, want, "{:?} (level {}) opened by k2", pr.id, unit.level);
                    differ += 1;
                }
            }
        }
    }
    assert_eq!(opened, same);
    assert!(same > 0 && differ > 0);
    eprintln!("{name}: N = {}, k2 opened {same} packets, {closed} stay closed ({differ} checked different)", tpl.n);
}

#[test]
fn region_selects_exactly_the_code_blocks_of_section_8_3() {
    // (file, region as fractions of the image, outside, mode, compliant)
    type Case = (&'static str, (f64, f64, f64, f64), bool, Mode, bool);
    let cases: [Case; 4] = [
        (
            "c1024-RPCL-prec128-64.j2k",
            (0.30, 0.20, 0.55, 0.45),
            false,
            Mode::Ctr,
            true,
        ),
        (
            "c1024-offset-d3,5-T1,2-t256.j2k",
            (0.40, 0.35, 0.70, 0.60),
            false,
            Mode::Ofb,
            true,
        ),
        (
            "odd1001x777-CPRL-t256-3L.j2k",
            (0.10, 0.50, 0.90, 0.95),
            true,
            Mode::Cfb,
            true,
        ),
        (
            "c1024-LRCP-n6-3L.j2k",
            (0.25, 0.25, 0.45, 0.40),
            false,
            Mode::Cbc,
            false,
        ),
    ];
    let mut ran = 0;
    for (name, (fx0, fy0, fx1, fy1), outside, mode, compliant) in cases {
        let Some(orig) = corpus_file(name) else {
            eprintln!("{name}: not in the corpus, skipped");
            continue;
        };
        let ov = View::new(&orig).unwrap();
        let s = &ov.cs.siz;
        let (w, h) = ((s.width - s.x0) as f64, (s.height - s.y0) as f64);
        let region = Region {
            x0: s.x0 + (w * fx0) as u32,
            y0: s.y0 + (h * fy0) as u32,
            x1: s.x0 + (w * fx1) as u32,
            y1: s.y0 + (h * fy1) as u32,
        };
        let k0 = key_bytes(32, 0x21);
        let prot = protect(
            &orig,
            &ProtectOptions {
                tools: vec![ToolSpec::Encrypt {
                    key: jkey(&k0),
                    mode,
                    compliant,
                    levels: Levels::Single,
                    zone: ImageZone {
                        region: Some((region, outside)),
                        ..Default::default()
                    },
                }],
                iv: Some(IV),
            },
        )
        .unwrap();
        let mut v = View::new(&prot).unwrap();
        let sec = read_sec(&prot, &v.loc, &v.cs).unwrap();
        let st = parse_stream(&sec.logical).unwrap();
        let tool = &st.tools[0];
        let z = &tool.zoi;
        assert_eq!(
            z.region,
            Some([region.x0, region.y0, region.x1, region.y1]),
            "{name}: region"
        );
        assert_eq!(z.outside, outside, "{name}: outside flag");
        let Pid::Dec {
            iv, tpl, mode: m, ..
        } = &tool.pid
        else {
            panic!()
        };
        // Selection of every packet, by §8.3 with own code-block areas.
        let mut masks: HashMap<usize, Option<Vec<bool>>> = HashMap::new();
        let mut expected = Vec::new();
        let (mut sel_bytes, mut sel_changed, mut total) = (0usize, 0usize, 0usize);
        for pi in 0..v.index.packets.len() {
            let mask = v.selection(z, pi).unwrap().unwrap();
            let p = v.index.packets[pi].clone();
            let q = &ov.index.packets[ov.by_id[&pid_of(&p)]];
            let a = &prot[p.body_offset..p.body_offset + p.body_length];
            let b = &orig[q.body_offset..q.body_offset + q.body_length];
            total += b.len();
            for t in 0..b.len() {
                if mask[t] {
                    if b[t] != 0xFF {
                        sel_bytes += 1;
                        sel_changed += (a[t] != b[t]) as usize;
                    }
                } else {
                    assert_eq!(
                        a[t], b[t],
                        "{name}: {:?} byte {t} unselected but changed",
                        p.id
                    );
                }
            }
            if p.body_length > 0 && mask.contains(&true) {
                expected.push((0u8, vec![pi]));
                if !compliant {
                    // §8.4: the selected bytes gathered, encrypted as one unit.
                    let gathered: Vec<u8> = b
                        .iter()
                        .zip(&mask)
                        .filter(|(_, &m)| m)
                        .map(|(&x, _)| x)
                        .collect();
                    let ck = cipher_key(&k0);
                    let enc =
                        plain_encrypt(*m, &Aes::new(&ck), &packet_iv(iv, &pid_of(&p)), &gathered);
                    let got: Vec<u8> = a
                        .iter()
                        .zip(&mask)
                        .filter(|(_, &m)| m)
                        .map(|(&x, _)| x)
                        .collect();
                    assert_eq!(got, enc, "{name}: {:?} plain ciphertext differs", p.id);
                }
            }
            masks.insert(pi, Some(mask));
        }
        assert_eq!(tpl.n, 1);
        check_units(&v, z, &expected, false, name).unwrap();
        assert!(sel_bytes > 0, "{name}: nothing selected");
        assert!(
            sel_changed * 100 >= sel_bytes * 95,
            "{name}: only {sel_changed} of {sel_bytes} selected bytes changed"
        );
        if compliant {
            let mut out = prot.clone();
            decrypt_tool(&v, tool, &Held { level: 0, key: &k0 }, &masks, &mut out).unwrap();
            assert!(
                strip_sec(&out, &v.loc, &sec) == orig,
                "{name}: decryption differs"
            );
        }
        eprintln!(
            "{name}: region {:?} outside={outside}: {} of {total} body bytes selected, {} packets",
            (region.x0, region.y0, region.x1, region.y1),
            sel_bytes,
            expected.len()
        );
        ran += 1;
    }
    if ran == 0 {
        eprintln!("shared corpus not found: skipped");
    }
}

/// The §8.4 case of a unit length: < 16, = 16, a multiple of 16 above 16,
/// other.
fn length_class(n: usize) -> &'static str {
    match n {
        0..=15 => "<16",
        16 => "=16",
        n if n % 16 == 0 => "k*16",
        _ => "other",
    }
}

#[test]
fn plain_modes_match_section_8_4() {
    let files = corpus();
    if files.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let modes = [
        (Mode::Ecb, 1u8, 16usize),
        (Mode::Cbc, 2, 24),
        (Mode::Cfb, 3, 32),
        (Mode::Ofb, 4, 16),
        (Mode::Ctr, 5, 24),
    ];
    let mut fails = Vec::new();
    let mut seen: HashMap<(u8, &str), usize> = HashMap::new();
    for (name, orig) in &files {
        let ov = View::new(orig).unwrap();
        for (mode, code, klen) in modes {
            let k0 = key_bytes(klen, 0x44);
            let prot = protect(
                orig,
                &ProtectOptions {
                    tools: vec![ToolSpec::Encrypt {
                        key: jkey(&k0),
                        mode,
                        compliant: false,
                        levels: Levels::Resolution(None),
                        zone: ImageZone::default(),
                    }],
                    iv: Some(IV),
                },
            )
            .unwrap();
            let v = View::new(&prot).unwrap();
            let sec = read_sec(&prot, &v.loc, &v.cs).unwrap();
            let st = parse_stream(&sec.logical).unwrap();
            let Pid::Dec {
                mode: m,
                padding,
                compliant,
                key_bits,
                tpl,
                iv,
                ..
            } = &st.tools[0].pid
            else {
                panic!()
            };
            assert_eq!((*m, *compliant), (code, 0));
            assert_eq!(*padding, matches!(code, 1 | 2) as u8);
            assert_eq!(*key_bits as usize, klen * 8);
            let chain = key_chain(&k0, tpl.n as usize);
            let aes: Vec<Aes> = chain.iter().map(|k| Aes::new(&cipher_key(k))).collect();
            let mut out = prot.clone();
            for unit in &st.tools[0].zoi.units {
                let pr = &unit.packets[0];
                let p = &v.index.packets[v.by_id[&pr.id]];
                let q = &ov.index.packets[ov.by_id[&pr.id]];
                let plain = &orig[q.body_offset..q.body_offset + q.body_length];
                let want = plain_encrypt(
                    code,
                    &aes[unit.level as usize],
                    &packet_iv(iv, &pr.id),
                    plain,
                );
                let got = &prot[p.body_offset..p.body_offset + p.body_length];
                let class = length_class(plain.len());
                let back =
                    plain_decrypt(code, &aes[unit.level as usize], &packet_iv(iv, &pr.id), got);
                if back != plain {
                    fails.push(format!(
                        "{name} mode {code}: {:?} ({} bytes, case {class}): own decryption differs",
                        pr.id,
                        plain.len()
                    ));
                }
                if got != &want[..] {
                    fails.push(format!(
                        "{name} mode {code}: {:?} ({} bytes, case {class}, level {}) differs",
                        pr.id,
                        plain.len(),
                        unit.level
                    ));
                } else {
                    *seen.entry((code, class)).or_default() += 1;
                }
                out[p.body_offset..p.body_offset + p.body_length].copy_from_slice(plain);
            }
            if strip_sec(&out, &v.loc, &sec) != *orig {
                fails.push(format!("{name} mode {code}: restored file differs"));
            }
        }
    }
    let mut s: Vec<_> = seen.iter().collect();
    s.sort();
    eprintln!("verified units per (mode, length case): {s:?}");
    fails.truncate(20);
    common::assert_no_failures(&fails);
    for (_, code, _) in modes {
        for class in ["<16", "=16", "k*16", "other"] {
            assert!(
                seen.contains_key(&(code, class)),
                "mode {code}: no unit of length case {class} in the corpus"
            );
        }
    }
}

#[test]
fn whole_packet_tools_undone_from_the_zoi_alone() {
    let mut ran = 0;
    for (name, mode, code) in [
        ("c1024-LRCP-sop.j2k", Mode::Cbc, 2u8),
        ("c1024-RPCL-sop-eph-prec-t512.j2k", Mode::Ecb, 1),
        ("c1024-LRCP-t256-plt-tlm-tpR.j2k", Mode::Cfb, 3),
        ("p0_04.j2k", Mode::Ofb, 4),
        ("c512-lossless.jp2", Mode::Ctr, 5),
    ] {
        let Some(orig) = corpus_file(name) else {
            eprintln!("{name}: not in the corpus, skipped");
            continue;
        };
        let k_enc = key_bytes(32, 0x61);
        let k_mac = key_bytes(32, 0x62);
        let k_whole = key_bytes(24, 0x63);
        let opts = ProtectOptions {
            tools: vec![
                ToolSpec::Encrypt {
                    key: jkey(&k_enc),
                    mode: Mode::Ctr,
                    compliant: true,
                    levels: Levels::Single,
                    zone: ImageZone {
                        resolutions: Some((0, 1)),
                        ..Default::default()
                    },
                },
                ToolSpec::Mac {
                    key: jkey(&k_mac),
                    alg: MacAlg::HmacSha256,
                    granularity: Granularity::Packet,
                    levels: Levels::Single,
                    zone: ImageZone::default(),
                },
                ToolSpec::EncryptPackets {
                    key: jkey(&k_whole),
                    mode,
                    levels: Levels::Resolution(None),
                    zone: ImageZone {
                        resolutions: Some((2, 255)),
                        ..Default::default()
                    },
                },
            ],
            iv: Some(IV),
        };
        let prot = protect(&orig, &opts).unwrap();
        let expect = [
            Expect::Dec {
                k0: &k_enc,
                mode: 5,
                compliant: true,
                access: 0,
                n: None,
                domain: 1,
            },
            Expect::Mac {
                k0: &k_mac,
                method: 1,
                hash: 7,
                granularity: 6,
                access: 0,
                n: None,
            },
            Expect::Dec {
                k0: &k_whole,
                mode: code,
                compliant: false,
                access: 1,
                n: None,
                domain: 2,
            },
        ];
        let c = verify(&orig, &prot, &expect, &IV).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(c.restored == orig, "{name}: restored file differs");
        eprintln!("{name} mode {code}: ok ({})", c.stats);
        ran += 1;
    }
    if ran == 0 {
        eprintln!("shared corpus not found: skipped");
    }
}

#[test]
fn zones_of_section_5_select_the_listed_packets() {
    let name = "c1024-RPCL-prec128-64.j2k";
    let Some(orig) = corpus_file(name) else {
        eprintln!("{name}: corpus not found: skipped");
        return;
    };
    let zones: Vec<(&str, ImageZone)> = vec![
        (
            "resolutions+components",
            ImageZone {
                resolutions: Some((1, 3)),
                components: Some((1, 2)),
                ..Default::default()
            },
        ),
        (
            "layers",
            ImageZone {
                layers: Some((0, 1)),
                ..Default::default()
            },
        ),
        (
            "precincts",
            ImageZone {
                precincts: Some((2, 9)),
                ..Default::default()
            },
        ),
        (
            "packets",
            ImageZone {
                packets: Some(vec![(5, 40), (100, 100), (300, 420)]),
                ..Default::default()
            },
        ),
        (
            "bytes",
            ImageZone {
                bytes: Some(vec![(0, 1), (20_000, 3_000), (60_000, 1)]),
                ..Default::default()
            },
        ),
        (
            "tiles",
            ImageZone {
                tiles: Some(vec![0]),
                ..Default::default()
            },
        ),
    ];
    let k0 = key_bytes(16, 0x19);
    let mut fails = Vec::new();
    for (what, zone) in zones {
        let opts = ProtectOptions {
            tools: vec![
                ToolSpec::Encrypt {
                    key: jkey(&k0),
                    mode: Mode::Ofb,
                    compliant: true,
                    levels: Levels::Single,
                    zone: zone.clone(),
                },
                ToolSpec::Hash {
                    alg: HashAlg::Sha256,
                    granularity: Granularity::Precinct,
                    zone: zone.clone(),
                },
            ],
            iv: Some(IV),
        };
        let prot = protect(&orig, &opts).unwrap_or_else(|e| panic!("{what}: protect: {e}"));
        let expect = [
            Expect::Dec {
                k0: &k0,
                mode: 4,
                compliant: true,
                access: 0,
                n: None,
                domain: 1,
            },
            Expect::Hash {
                hash: 7,
                granularity: 5,
            },
        ];
        match verify(&orig, &prot, &expect, &IV) {
            Ok(c) if c.restored == orig => eprintln!("{name} zone {what}: ok ({})", c.stats),
            Ok(_) => fails.push(format!("{what}: restored file differs")),
            Err(e) => fails.push(format!("{what}: {e}")),
        }
    }
    common::assert_no_failures(&fails);
}
