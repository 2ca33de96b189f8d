//! Bit reader over entropy-coded data (T.81 F.2.2.5 / F.1.2.3): removes byte
//! stuffing, stops at markers, and remembers the file offset of every data
//! byte it loads so that bit positions can be mapped back to file bytes.
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

/// Size of the ring of data-byte offsets (must exceed the 8 bytes the bit
/// buffer can hold plus the partially consumed bytes not yet recorded).
const RING: usize = 32;

/// `ring[d % RING]` = absolute file offset of data byte `d` of the current
/// entropy-coded segment.
#[derive(Clone, Copy)]
pub(crate) struct Ring([u64; RING]);

impl Ring {
    pub fn new() -> Ring {
        Ring([0; RING])
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
                    // Always eight entries (a loop of fixed length, no
                    // mispredicted exit): those past the `n` loaded bytes
                    // belong to indices not loaded yet, which are
                    // rewritten when they are, and are at least
                    // RING - 8 = 24 entries away from the 16 or so still in
                    // use behind `loaded`.
                    for j in 0..8u64 {
                        ring.0[((self.loaded + j) as usize) % RING] = self.next + j;
                    }
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
                self.push(ring, 0xFF);
                self.last_ff = self.loaded;
                self.next += 2;
            } else {
                self.push(ring, b);
                self.next += 1;
            }
        }
    }

    #[inline(always)]
    fn push(&mut self, ring: &mut Ring, b: u8) {
        ring.0[(self.loaded as usize) % RING] = self.next;
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

    /// Absolute file offset of data byte `d` (which must still be in the
    /// ring, or be the next one to load).
    #[inline(always)]
    pub fn offset_of(&self, ring: &Ring, d: u64) -> u64 {
        if d < self.loaded {
            ring.0[(d as usize) % RING]
        } else {
            self.next
        }
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
