//! Writing baseline Huffman-coded JPEG from quantized coefficients: optimal
//! Huffman tables from symbol statistics (T.81 annex K.2, code lengths
//! limited to 16 bits) and the entropy coder (F.1.2, byte stuffing).

use super::segment::ZIGZAG_TO_NATURAL;

/// Symbol frequencies of one Huffman table (256 symbols).
#[derive(Clone)]
pub struct Freq(pub [u64; 256]);

impl Default for Freq {
    fn default() -> Self {
        Freq([0; 256])
    }
}

/// A Huffman table ready to encode with and to write in a DHT segment.
#[derive(Debug, Clone)]
pub struct EncTable {
    /// Number of codes of each length 1..=16 (DHT `Li`).
    pub counts: [u8; 16],
    /// Symbols in code order (DHT `Vij`).
    pub values: Vec<u8>,
    /// Code and length per symbol (length 0: symbol not coded).
    code: [(u16, u8); 256],
}

impl EncTable {
    /// The optimal table for `freq` (annex K.2): code lengths from the
    /// frequencies with a reserved all-ones code point, limited to 16 bits.
    /// Every symbol with a non-zero count gets a code.
    pub fn optimal(freq: &Freq) -> EncTable {
        // K.2 figure K.1: code sizes. Index 256 is the reserved symbol with
        // frequency 1, so no code is all ones.
        let mut scaled = freq.0;
        loop {
            let codesize = Self::code_sizes(&scaled);
            if codesize.iter().all(|&s| s <= 32) {
                return Self::from_sizes(&codesize);
            }
            // Extremely skewed statistics: flatten them (keeping every used
            // symbol) until the unlimited code fits in 32 bits.
            for v in scaled.iter_mut().filter(|v| **v > 0) {
                *v = v.div_ceil(2);
            }
        }
    }

    /// Figure K.1: code sizes (unlimited), index 256 the reserved symbol.
    fn code_sizes(freq: &[u64; 256]) -> [usize; 257] {
        let mut f = [0u64; 257];
        f[..256].copy_from_slice(freq);
        f[256] = 1;
        let mut codesize = [0usize; 257];
        let mut others = [usize::MAX; 257];
        loop {
            // v1: least frequency > 0 (largest index on ties); v2: next least.
            let mut v1 = usize::MAX;
            let mut v2 = usize::MAX;
            for i in 0..257 {
                if f[i] == 0 {
                    continue;
                }
                if v1 == usize::MAX || f[i] <= f[v1] {
                    v2 = v1;
                    v1 = i;
                } else if v2 == usize::MAX || f[i] <= f[v2] {
                    v2 = i;
                }
            }
            if v2 == usize::MAX {
                break;
            }
            f[v1] += f[v2];
            f[v2] = 0;
            codesize[v1] += 1;
            let mut i = v1;
            while others[i] != usize::MAX {
                i = others[i];
                codesize[i] += 1;
            }
            others[i] = v2;
            codesize[v2] += 1;
            let mut j = v2;
            while others[j] != usize::MAX {
                j = others[j];
                codesize[j] += 1;
            }
        }
        codesize
    }

    /// Figures K.2 to K.4 from code sizes of at most 32 bits.
    fn from_sizes(codesize: &[usize; 257]) -> EncTable {
        // Count codes per size; K.3: limit to 16 bits.
        let mut bits = [0u32; 33];
        for &s in codesize.iter() {
            if s > 0 {
                bits[s] += 1;
            }
        }
        let mut i = 32;
        while i > 16 {
            while bits[i] > 0 {
                let mut j = i - 2;
                while bits[j] == 0 {
                    j -= 1;
                }
                bits[i] -= 2;
                bits[i - 1] += 1;
                bits[j + 1] += 2;
                bits[j] -= 1;
            }
            i -= 1;
        }
        // Remove the reserved code point (the longest code).
        let mut i = 16;
        while bits[i] == 0 {
            i -= 1;
        }
        bits[i] -= 1;
        // K.4: symbols sorted by code size, then value.
        let mut values = Vec::new();
        for size in 1..=32 {
            for (sym, &s) in codesize.iter().enumerate().take(256) {
                if s == size {
                    values.push(sym as u8);
                }
            }
        }
        let mut counts = [0u8; 16];
        for l in 1..=16 {
            counts[l - 1] = bits[l] as u8;
        }
        EncTable::from_dht(counts, values)
    }

    /// A table from DHT counts and values (canonical codes, annex C).
    pub fn from_dht(counts: [u8; 16], values: Vec<u8>) -> EncTable {
        let mut code = [(0u16, 0u8); 256];
        let mut c: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u8 {
            for _ in 0..counts[len as usize - 1] {
                if let Some(&v) = values.get(k) {
                    code[v as usize] = (c as u16, len);
                }
                c += 1;
                k += 1;
            }
            c <<= 1;
        }
        EncTable {
            counts,
            values,
            code,
        }
    }

    /// The DHT body of this table (class 0 = DC, 1 = AC; table id).
    pub fn dht_body(&self, class: u8, id: u8) -> Vec<u8> {
        let mut v = vec![class << 4 | id];
        v.extend_from_slice(&self.counts);
        v.extend_from_slice(&self.values);
        v
    }
}

/// Bits of `v` as coded after a size-`s` symbol (F.1.2.1: negative values
/// are coded as `v - 1` in `s` bits), and the size.
#[inline]
fn category(v: i32) -> (u32, u32) {
    let a = v.unsigned_abs();
    let s = 32 - a.leading_zeros();
    let bits = if v < 0 {
        (v - 1) as u32 & ((1u32 << s) - 1)
    } else {
        v as u32
    };
    (s, bits)
}

/// The symbols of one block (coefficients in natural order, `pred` the
/// previous DC of the component), in coding order: `f(ac, symbol,
/// additional bits, their count)` for the DC difference, then each AC
/// run/size symbol (ZRL and EOB included).
#[inline]
fn for_each_symbol(block: &[i16], pred: i32, mut f: impl FnMut(bool, u8, u32, u32)) {
    let (s, bits) = category(block[0] as i32 - pred);
    f(false, s as u8, bits, s);
    let mut run = 0u32;
    for &n in &ZIGZAG_TO_NATURAL[1..] {
        let v = block[n as usize] as i32;
        if v == 0 {
            run += 1;
            continue;
        }
        while run > 15 {
            f(true, 0xF0, 0, 0);
            run -= 16;
        }
        let (s, bits) = category(v);
        f(true, (run << 4 | s) as u8, bits, s);
        run = 0;
    }
    if run > 0 {
        f(true, 0x00, 0, 0);
    }
}

/// Count the symbols of one block (coefficients in natural order, `pred` the
/// previous DC of the component) into `dc` and `ac`. False (nothing
/// counted) when the block cannot be coded in 8-bit sequential Huffman JPEG:
/// a DC difference beyond 11 bits or an AC value beyond 10 bits (only a
/// corrupt source holds such values).
pub fn count_block(block: &[i16], pred: i32, dc: &mut Freq, ac: &mut Freq) -> bool {
    let (s, _) = category(block[0] as i32 - pred);
    if s > 11 || block[1..].iter().any(|&v| !(-1023..=1023).contains(&v)) {
        return false;
    }
    for_each_symbol(block, pred, |is_ac, sym, _, _| {
        if is_ac {
            ac.0[sym as usize] += 1;
        } else {
            dc.0[sym as usize] += 1;
        }
    });
    true
}

/// An entropy-coded segment being written (byte stuffing included).
pub struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Default for BitWriter {
    fn default() -> Self {
        BitWriter::new()
    }
}

impl BitWriter {
    /// An empty segment.
    pub fn new() -> BitWriter {
        BitWriter {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }

    /// Append the `len` low bits of `bits`, MSB first (`len` <= 32).
    #[inline]
    pub fn put(&mut self, bits: u32, len: u32) {
        debug_assert!(len <= 32);
        if len == 0 {
            return;
        }
        self.acc = (self.acc << len) | (bits as u64 & ((1u64 << len) - 1));
        self.n += len;
        while self.n >= 8 {
            self.n -= 8;
            let b = (self.acc >> self.n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }

    /// Encode one block (natural order) with the tables; returns its DC.
    /// The block must have passed [`count_block`] for these tables.
    pub fn block(&mut self, block: &[i16], pred: i32, dc: &EncTable, ac: &EncTable) -> i32 {
        for_each_symbol(block, pred, |is_ac, sym, bits, nbits| {
            let (c, l) = if is_ac {
                ac.code[sym as usize]
            } else {
                dc.code[sym as usize]
            };
            debug_assert!(l > 0, "symbol {sym:#04x} without a code");
            self.put(c as u32, l as u32);
            self.put(bits, nbits);
        });
        block[0] as i32
    }

    /// Pad the last byte with 1-bits (F.1.2.3) and return the segment.
    pub fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put((1 << pad) - 1, pad);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories() {
        assert_eq!(category(0), (0, 0));
        assert_eq!(category(1), (1, 1));
        assert_eq!(category(-1), (1, 0));
        assert_eq!(category(-3), (2, 0));
        assert_eq!(category(5), (3, 5));
        assert_eq!(category(-1023), (10, 0));
        assert_eq!(category(2047), (11, 2047));
    }

    #[test]
    fn optimal_tables_are_prefix_codes_within_16_bits() {
        // Skewed (Fibonacci-like) frequencies force long codes.
        let mut f = Freq::default();
        let (mut a, mut b) = (1u64, 1u64);
        for i in 0..40 {
            f.0[i * 5] = a;
            (a, b) = (b, a + b);
        }
        let t = EncTable::optimal(&f);
        let n: usize = t.counts.iter().map(|&c| c as usize).sum();
        assert_eq!(n, 40);
        assert_eq!(t.values.len(), 40);
        // Kraft sum below 1 (the all-ones code is reserved) and every code
        // decodes with the library's own decoder tables.
        let kraft: f64 = t
            .counts
            .iter()
            .enumerate()
            .map(|(i, &c)| c as f64 / (1u64 << (i + 1)) as f64)
            .sum();
        assert!(kraft < 1.0);
        let dec = crate::jpeg::huffman::HuffmanTable::new(&t.counts, &t.values).unwrap();
        for i in 0..40 {
            let (c, l) = t.code[i * 5];
            assert!((1..=16).contains(&l));
            let peek = (c as u32) << (16 - l);
            assert_eq!(dec.decode(peek), Some((l as u32, (i * 5) as u8)));
        }
    }

    #[test]
    fn stuffing_and_padding() {
        let mut w = BitWriter::new();
        w.put(0xFF, 8);
        w.put(0b101, 3);
        assert_eq!(w.finish(), vec![0xFF, 0x00, 0b1011_1111]);
    }
}
