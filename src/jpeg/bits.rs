//! Bit reader over entropy-coded data (T.81 F.2.2.5 / F.1.2.3): removes byte
//! stuffing, stops at markers, and remembers where the stuffed bytes were so
//! that bit positions can be mapped back to file bytes.
//!
//! The reader's scalar state ([`BitReader`], `Copy`, a few words) is kept
//! apart from the offset ring ([`Ring`]) so that the walker's hot loop can
//! hold the former in registers.

/// Why a read could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Short {
    /// More input may arrive (streaming); retry from the last checkpoint.
    NeedMore,
    /// The entropy-coded segment ended (marker or end of input).
    Truncated,
}

/// Number of 0xFF data bytes the [`Ring`] remembers: more than can lie
/// between the oldest byte whose offset is asked for (a few bytes behind
/// the consumed position) and the newest loaded one (8 bytes ahead of it).
const RING: usize = 32;

/// The most recent 0xFF data bytes of the current entropy-coded segment
/// (each followed by a stuffed zero in the file) with their file offsets.
/// The data bytes between two of them are contiguous in the file, so the
/// offset of every recent data byte follows from them (see
/// [`BitReader::offset_of`]); the fast refill path, which loads no 0xFF,
/// writes nothing here.
#[derive(Clone, Copy)]
pub(crate) struct Ring {
    /// `ff[i % RING]` = (data index, absolute file offset) of the segment's
    /// `i`-th 0xFF data byte.
    ff: [(u64, u64); RING],
    /// Number of 0xFF data bytes loaded in the segment.
    n: u64,
}

impl Ring {
    pub fn new() -> Ring {
        Ring {
            ff: [(0, 0); RING],
            n: 0,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct BitReader {
    /// Unconsumed bits, left-aligned (MSB = next bit).
    buf: u64,
    /// Number of valid bits in `buf`.
    nbits: u32,
    /// Absolute offset of the next byte to load.
    pub next: u64,
    /// A marker (0xFF followed by a non-zero byte) sits at `next`.
    pub marker: bool,
    /// The window ended while loading (more input may exist unless final).
    exhausted: bool,
    /// Data bytes loaded since the start of this entropy-coded segment.
    pub loaded: u64,
    /// One past the index of the latest data byte 0xFF loaded (0 = none).
    /// Data bytes from this index on are contiguous in the file, and the
    /// offset of data byte `d >= last_ff` is `d + next - loaded`.
    pub last_ff: u64,
}

impl BitReader {
    /// A reader whose first data byte is at absolute offset `start`.
    pub fn new(start: u64) -> BitReader {
        BitReader {
            buf: 0,
            nbits: 0,
            next: start,
            marker: false,
            exhausted: false,
            loaded: 0,
            last_ff: 0,
        }
    }

    /// Load bytes until at least 57 bits are buffered, a marker is reached or
    /// the window (`w`, starting at absolute offset `base`) ends.
    #[inline(always)]
    pub fn fill(&mut self, ring: &mut Ring, w: &[u8], base: u64) {
        // Fast path: the next 8 bytes hold no 0xFF, so no stuffing or marker.
        let i = (self.next - base) as usize;
        if self.nbits <= 56 && !self.marker {
            if let Some(chunk) = w.get(i..i + 8) {
                let x = u64::from_be_bytes([
                    chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
                ]);
                let y = !x;
                let has_ff =
                    y.wrapping_sub(0x0101_0101_0101_0101) & !y & 0x8080_8080_8080_8080 != 0;
                if !has_ff {
                    let n = (64 - self.nbits) / 8;
                    self.buf |= (x >> (64 - 8 * n)) << (64 - self.nbits - 8 * n);
                    self.loaded += n as u64;
                    self.next += n as u64;
                    self.nbits += 8 * n;
                    return;
                }
            }
        }
        // Byte by byte: stuffing, a marker or the window end is near.
        while self.nbits <= 56 && !self.marker {
            let i = (self.next - base) as usize;
            let Some(&b) = w.get(i) else {
                self.exhausted = true;
                return;
            };
            if b == 0xFF {
                let Some(&b2) = w.get(i + 1) else {
                    self.exhausted = true;
                    return;
                };
                if b2 != 0 {
                    self.marker = true;
                    return;
                }
                ring.ff[(ring.n as usize) % RING] = (self.loaded, self.next);
                ring.n += 1;
                self.push(0xFF);
                self.last_ff = self.loaded;
                self.next += 2;
            } else {
                self.push(b);
                self.next += 1;
            }
        }
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        self.buf |= (b as u64) << (56 - self.nbits);
        self.nbits += 8;
        self.loaded += 1;
    }

    /// The next 16 bits (zeros past the buffered data).
    #[inline(always)]
    pub fn peek16(&self) -> u32 {
        (self.buf >> 48) as u32
    }

    /// Number of buffered real bits.
    #[inline(always)]
    pub fn available(&self) -> u32 {
        self.nbits
    }

    /// Why `n` more bits cannot be had, given `last` = no more input will come.
    #[inline]
    pub fn short(&self, last: bool) -> Short {
        if self.marker || (self.exhausted && last) {
            Short::Truncated
        } else {
            Short::NeedMore
        }
    }

    /// Data bits consumed since the start of this entropy-coded segment.
    #[inline(always)]
    pub fn consumed(&self) -> u64 {
        self.loaded * 8 - self.nbits as u64
    }

    /// Drop `n` (1..=available) bits.
    #[inline(always)]
    pub fn skip(&mut self, n: u32) {
        debug_assert!(n >= 1 && n <= self.nbits);
        self.buf <<= n;
        self.nbits -= n;
    }

    /// The `s` (1..=16) bits that follow the next `len` bits, right-aligned,
    /// without consuming anything (`len + s` ≤ available).
    #[inline(always)]
    pub fn peek_after(&self, len: u32, s: u32) -> u32 {
        debug_assert!(s >= 1 && len + s <= self.nbits);
        ((self.buf << len) >> (64 - s)) as u32
    }

    /// Absolute file offset of data byte `d` of the segment (the next one to
    /// load when `d >= loaded`). Fewer than `RING` 0xFF data bytes may lie
    /// between `d` and the newest loaded byte.
    #[inline(always)]
    pub fn offset_of(&self, ring: &Ring, d: u64) -> u64 {
        if d >= self.loaded {
            self.next
        } else if d >= self.last_ff {
            // No 0xFF from `d` on: contiguous up to `next`.
            d + self.next - self.loaded
        } else {
            Self::offset_before_ff(ring, d)
        }
    }

    /// `offset_of` for a byte at or before the newest 0xFF data byte: the
    /// oldest remembered 0xFF at or after `d` is contiguous with it.
    #[cold]
    fn offset_before_ff(ring: &Ring, d: u64) -> u64 {
        debug_assert!(ring.n > 0);
        let oldest = ring.n.saturating_sub(RING as u64);
        let mut j = ring.n - 1;
        let (mut idx, mut off) = ring.ff[(j as usize) % RING];
        while j > oldest {
            let (pi, po) = ring.ff[((j - 1) as usize) % RING];
            if pi < d {
                break;
            }
            (idx, off) = (pi, po);
            j -= 1;
        }
        debug_assert!(idx >= d && (j > oldest || ring.n <= RING as u64));
        off - (idx - d)
    }

    /// Absolute offset just past the last data byte any consumed bit lies in
    /// (skipping a stuffed zero after a 0xFF data byte), i.e. where the
    /// entropy-coded segment ends once the remaining bits are padding.
    pub fn end_of_consumed(&self, ring: &Ring, w: &[u8], base: u64) -> u64 {
        if self.consumed() == 0 {
            return self.offset_of(ring, 0);
        }
        let last = (self.consumed() - 1) >> 3;
        let off = self.offset_of(ring, last);
        let b = w.get((off - base) as usize).copied().unwrap_or(0);
        if b == 0xFF {
            off + 2
        } else {
            off + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every recent data byte maps to its file offset, through runs of
    /// stuffed 0xFF bytes, fast refills and the segment end.
    #[test]
    fn offsets_of_data_bytes_follow_stuffing() {
        // Data bytes (after unstuffing) and where each sits in the file.
        let mut file = vec![0xAAu8; 5]; // bytes before the segment
        let start = file.len() as u64;
        let mut data_at = Vec::new();
        for i in 0..400u32 {
            let b = match i % 37 {
                3 | 4 | 5 | 20 => 0xFF,
                _ => (i * 7 % 251) as u8,
            };
            data_at.push(file.len() as u64);
            file.push(b);
            if b == 0xFF {
                file.push(0);
            }
        }
        let base = 0u64;
        let mut r = BitReader::new(start);
        let mut ring = Ring::new();
        let mut consumed_bytes = 0u64;
        loop {
            r.fill(&mut ring, &file, base);
            if r.available() < 8 {
                break;
            }
            // Consume a byte, then check every byte still in reach.
            r.skip(8);
            consumed_bytes += 1;
            let from = consumed_bytes.saturating_sub(8);
            for d in from..=r.loaded {
                let want = data_at
                    .get(d as usize)
                    .copied()
                    .unwrap_or(file.len() as u64);
                assert_eq!(r.offset_of(&ring, d), want, "data byte {d}");
            }
        }
        assert_eq!(consumed_bytes, data_at.len() as u64);
    }
}
