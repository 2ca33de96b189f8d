//! Huffman decoding tables (ITU-T T.81 annex C and F.2.2.3), with a 9-bit
//! lookup table for the common short codes.

use crate::{Error, Result};

const LOOKUP_BITS: u32 = 9;

/// A decoded code word with what follows from its symbol, packed for the
/// walker's hot loop (see [`HuffmanTable::entry`]):
///
/// | bits  | field |
/// |-------|-------|
/// | 0-7   | `len + s`, the bits of code and additional bits together |
/// | 8-11  | size `s` = symbol & 15 (number of additional bits) |
/// | 12-15 | run `r` = symbol >> 4 (0 for DC symbols) |
/// | 16-23 | code length `len` (1..=16) |
/// | 24-31 | the symbol |
/// | 32-63 | the additional bits' positions, as a mask left-aligned on the code word's first bit |
pub(crate) type Entry = u64;

/// Pack a code word of length `len` with symbol `sym` into an [`Entry`].
const fn pack(len: u32, sym: u8) -> Entry {
    let s = (sym & 15) as u32;
    let r = (sym >> 4) as u32;
    let total = len + s;
    // `s` ones, ending `total` bits after the start of the code word.
    let amask = (((1u64 << s) - 1) << (32 - total)) & 0xFFFF_FFFF;
    (amask << 32)
        | ((sym as u64) << 24)
        | ((len as u64) << 16)
        | ((r as u64) << 12)
        | ((s as u64) << 8)
        | total as u64
}

/// Bits of lookahead of the multi-symbol AC table.
pub(crate) const MULTI_BITS: u32 = 11;

/// A run of complete AC symbols (code words and their additional bits) that
/// fits in the next [`MULTI_BITS`] bits, packed for the walker (see
/// [`HuffmanTable::group`]); fields shared with [`Entry`] sit at the same
/// places:
///
/// | bits  | field |
/// |-------|-------|
/// | 0-7   | bits consumed |
/// | 8-11  | number of additional bits |
/// | 12-15 | run of the first symbol (its coefficient is at `k + run`) |
/// | 16-22 | `dk`: coefficient positions advanced by the coefficient symbols (sum of run + 1) |
/// | 23    | the run ends with EOB |
/// | 24-31 | `dk` + the EOB bit: the group is valid at position `k` when `k + this <= 64` |
/// | 32-63 | the additional bits' positions, left-aligned on the first code bit |
///
/// 0 = no group (the first symbol is ZRL, longer than the lookahead, or has
/// no code).
pub(crate) type Group = u64;

/// A decoding table for one DHT table.
#[derive(Clone)]
pub struct HuffmanTable {
    /// `multi[peek11]` = the [`Group`] starting with those bits; filled for
    /// AC tables only (all 0 = "no group" otherwise).
    multi: Box<[Group; 1 << MULTI_BITS]>,
    /// `lookup[peek9]` = the [`Entry`] of the code word starting with those
    /// 9 bits, or 0 when the code is longer than 9 bits.
    lookup: Box<[Entry; 1 << LOOKUP_BITS]>,
    /// Largest code of each length (`-1` when none), index 1..=16.
    maxcode: [i32; 18],
    /// `values` index of the first code of each length minus that code.
    valoffset: [i32; 18],
    values: Vec<u8>,
    /// Number of codes of each length, index 0 = length 1 (as in DHT).
    pub counts: [u8; 16],
}

impl std::fmt::Debug for HuffmanTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuffmanTable")
            .field("counts", &self.counts)
            .field("values", &self.values)
            .finish()
    }
}

impl HuffmanTable {
    /// Build a table from the 16 code-length counts and the symbol values.
    /// Fails if the counts over-subscribe the code space or do not match `values`.
    pub fn new(counts: &[u8; 16], values: &[u8]) -> Result<HuffmanTable> {
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        if total != values.len() || total > 256 {
            return Err(Error::new(
                crate::ErrorKind::Malformed,
                "bad Huffman table: counts do not match symbols",
            ));
        }
        let mut lookup = Box::new([0 as Entry; 1 << LOOKUP_BITS]);
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 18];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = counts[len as usize - 1] as u32;
            valoffset[len as usize] = k as i32 - code as i32;
            if n > 0 {
                // Every code of this length must fit in `len` bits, and the
                // all-ones code is reserved (T.81 C.2).
                if code + n > (1 << len) || (code + n == (1 << len) && len == 16) {
                    return Err(Error::new(
                        crate::ErrorKind::Malformed,
                        format!(
                            "bad Huffman table: {n} codes of length {len} overflow the code space"
                        ),
                    ));
                }
                for _ in 0..n {
                    if len <= LOOKUP_BITS {
                        let shift = LOOKUP_BITS - len;
                        let base = (code << shift) as usize;
                        for e in &mut lookup[base..base + (1 << shift)] {
                            *e = pack(len, values[k]);
                        }
                    }
                    code += 1;
                    k += 1;
                }
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        Ok(HuffmanTable {
            multi: Box::new([0; 1 << MULTI_BITS]),
            lookup,
            maxcode,
            valoffset,
            values: values.to_vec(),
            counts: *counts,
        })
    }

    /// Fill the multi-symbol table (AC tables only: the walker never asks a
    /// DC table for a group, and building one costs a few tens of µs).
    fn build_groups(&mut self) {
        for p in 0..1u32 << MULTI_BITS {
            self.multi[p as usize] = self.build_group(p);
        }
    }

    /// The [`Group`] of AC symbols read from the `MULTI_BITS`-bit pattern `p`:
    /// every complete symbol from its start, stopping after EOB, before a ZRL
    /// or an incomplete symbol.
    fn build_group(&self, p: u32) -> Group {
        let (mut used, mut dk, mut eob, mut nadd, mut run1) = (0u32, 0u32, false, 0u32, None);
        let mut amask = 0u64;
        while used < MULTI_BITS {
            let rest = MULTI_BITS - used;
            // The remaining bits, left-aligned in 16 (zeros after them).
            let peek = ((p << used) & ((1 << MULTI_BITS) - 1)) << (16 - MULTI_BITS);
            let Some(e) = self.entry(peek) else { break };
            let (len, sym) = ((e >> 16 & 0xFF) as u32, (e >> 24) as u8);
            let (r, sz) = ((sym >> 4) as u32, (sym & 15) as u32);
            if len + sz > rest || sym == 0xF0 {
                break; // incomplete, or ZRL (left to the one-symbol path)
            }
            if sz == 0 {
                // EOB (any size-0 symbol but ZRL ends the block, as in the
                // one-symbol path).
                used += len;
                eob = true;
                break;
            }
            run1.get_or_insert(r);
            amask |= ((1u64 << sz) - 1) << (32 - used - len - sz);
            used += len + sz;
            dk += r + 1;
            nadd += sz;
        }
        if used == 0 {
            return 0;
        }
        let need = dk + eob as u32;
        ((amask & 0xFFFF_FFFF) << 32)
            | ((need as u64) << 24)
            | ((eob as u64) << 23)
            | ((dk as u64) << 16)
            | ((run1.unwrap_or(0) as u64) << 12)
            | ((nadd as u64) << 8)
            | used as u64
    }

    /// The multi-symbol group starting with the next `MULTI_BITS` bits of
    /// `peek` (MSB first; 0 = none).
    #[inline(always)]
    pub(crate) fn group(&self, peek: u32) -> Group {
        self.multi[(peek >> (16 - MULTI_BITS)) as usize]
    }

    /// Decode one symbol from the 16 bits `peek` (MSB first). Returns
    /// `(code length, symbol)`, or `None` if no code matches.
    #[inline(always)]
    pub fn decode(&self, peek: u32) -> Option<(u32, u8)> {
        self.entry(peek)
            .map(|e| ((e >> 16 & 0xFF) as u32, (e >> 24) as u8))
    }

    /// Decode one code word from the 16 bits `peek` (MSB first) into its
    /// packed [`Entry`], or `None` if no code matches.
    #[inline(always)]
    pub(crate) fn entry(&self, peek: u32) -> Option<Entry> {
        let e = self.lookup[(peek >> (16 - LOOKUP_BITS)) as usize];
        if e != 0 {
            return Some(e);
        }
        self.entry_slow(peek)
    }

    #[cold]
    #[inline(never)]
    fn entry_slow(&self, peek: u32) -> Option<Entry> {
        for len in (LOOKUP_BITS + 1)..=16 {
            let code = (peek >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                let idx = (self.valoffset[len as usize] + code) as usize;
                return self.values.get(idx).map(|&s| pack(len, s));
            }
        }
        None
    }

    /// The symbol values in code order.
    pub fn values(&self) -> &[u8] {
        &self.values
    }
}

/// Parse a DHT segment body into `dc` / `ac` slots (index = table id).
pub fn parse_dht(
    body: &[u8],
    dc: &mut [Option<HuffmanTable>; 4],
    ac: &mut [Option<HuffmanTable>; 4],
    at: u64,
) -> Result<()> {
    if body.is_empty() {
        return Err(Error::malformed_at(at, "empty DHT segment"));
    }
    let mut p = 0;
    while p < body.len() {
        if body.len() - p < 17 {
            return Err(Error::malformed_at(
                at,
                "DHT segment shorter than its table header",
            ));
        }
        let class = body[p] >> 4;
        let id = body[p] & 15;
        if class > 1 || id > 3 {
            return Err(Error::malformed_at(
                at,
                format!("DHT table class {class} id {id}"),
            ));
        }
        let mut counts = [0u8; 16];
        counts.copy_from_slice(&body[p + 1..p + 17]);
        let n: usize = counts.iter().map(|&c| c as usize).sum();
        if body.len() - p - 17 < n {
            return Err(Error::malformed_at(
                at,
                "DHT segment shorter than its symbol list",
            ));
        }
        let values = &body[p + 17..p + 17 + n];
        if class == 0 && values.iter().any(|&v| v > 11) {
            return Err(Error::malformed_at(
                at,
                format!("bad Huffman table: DC table {id} has a symbol above 11"),
            ));
        }
        if class == 1 && values.iter().any(|&v| (v & 15) > 10) {
            return Err(Error::malformed_at(
                at,
                format!("bad Huffman table: AC table {id} has a size above 10"),
            ));
        }
        let t = HuffmanTable::new(&counts, values)
            .map_err(|e| Error::malformed_at(at, e.message().to_string()))?;
        if class == 0 {
            dc[id as usize] = Some(t);
        } else {
            let mut t = t;
            t.build_groups();
            ac[id as usize] = Some(t);
        }
        p += 17 + n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_luma_dc_table_decodes() {
        // T.81 table K.3.
        let counts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        let values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        let t = HuffmanTable::new(&counts, &values).unwrap();
        assert_eq!(t.decode(0b00 << 14), Some((2, 0)));
        assert_eq!(t.decode(0b010 << 13), Some((3, 1)));
        assert_eq!(t.decode(0b1_1111_1110 << 7), Some((9, 11)));
    }

    #[test]
    fn long_codes_use_slow_path() {
        let mut counts = [0u8; 16];
        counts[0] = 1; // "0"
        counts[11] = 1; // 12-bit code 1000_0000_0000
        let t = HuffmanTable::new(&counts, &[5, 7]).unwrap();
        assert_eq!(t.decode(0), Some((1, 5)));
        assert_eq!(t.decode(0b1000_0000_0000_0000), Some((12, 7)));
        assert_eq!(t.decode(0xFFFF), None);
    }

    /// AC table: EOB = "0", 0x01 (run 0, size 1) = "10", ZRL = "110",
    /// 0x12 (run 1, size 2) = "111".
    fn small_ac() -> HuffmanTable {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        counts[2] = 2;
        let mut t = HuffmanTable::new(&counts, &[0x00, 0x01, 0xF0, 0x12]).unwrap();
        t.build_groups();
        t
    }

    /// `bits` (a string of 0/1, at most 11) as a 16-bit peek.
    fn peek(bits: &str) -> u32 {
        let v = u32::from_str_radix(bits, 2).unwrap();
        v << (16 - bits.len())
    }

    #[test]
    fn groups_take_whole_symbols_and_stop_after_eob() {
        let t = small_ac();
        // 10 1 | 10 0 | 0 (EOB) | 1111: two size-1 coefficients, then EOB.
        let g = t.group(peek("10110000111"));
        assert_eq!(g >> 16 & 0x7F, 2, "coefficient positions advanced");
        assert_eq!(g >> 23 & 1, 1, "ends with EOB");
        assert_eq!(g >> 8 & 15, 2, "additional bits");
        assert_eq!(g >> 12 & 15, 0, "run of the first symbol");
        assert_eq!(g & 0xFF, 7, "bits consumed");
        assert_eq!(g >> 24 & 0xFF, 3, "need = dk + EOB");
        assert_eq!(
            g >> 32,
            (1 << (31 - 2)) | (1 << (31 - 5)),
            "additional-bit mask"
        );
    }

    #[test]
    fn groups_stop_before_an_incomplete_symbol_or_zrl() {
        let t = small_ac();
        // 111 01 | 111 10 | 1: the third symbol does not fit in 11 bits.
        let g = t.group(peek("11101111101"));
        assert_eq!((g >> 16 & 0x7F, g >> 23 & 1, g & 0xFF), (4, 0, 10));
        assert_eq!(g >> 12 & 15, 1);
        assert_eq!(g >> 8 & 15, 4);
        // A ZRL first: no group; a ZRL later ends the group before it.
        assert_eq!(t.group(peek("11000000000")) & 0xFF, 0);
        let g = t.group(peek("10111000000"));
        assert_eq!((g >> 16 & 0x7F, g & 0xFF), (1, 3));
    }

    #[test]
    fn dc_tables_have_no_groups() {
        let counts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        let values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        let mut dc: [Option<HuffmanTable>; 4] = Default::default();
        let mut ac: [Option<HuffmanTable>; 4] = Default::default();
        let mut body = vec![0x00];
        body.extend_from_slice(&counts);
        body.extend_from_slice(&values);
        parse_dht(&body, &mut dc, &mut ac, 0).unwrap();
        let t = dc[0].as_ref().unwrap();
        assert!((0..1u32 << MULTI_BITS).all(|p| t.multi[p as usize] == 0));
    }

    #[test]
    fn oversubscribed_is_rejected() {
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(HuffmanTable::new(&counts, &[1, 2, 3]).is_err());
    }
}
