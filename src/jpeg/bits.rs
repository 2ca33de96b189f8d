//! Bit reader over entropy-coded data (T.81 F.2.2.5 / F.1.2.3): removes byte
//! stuffing, stops at markers, and remembers the file offset of every data
//! byte it loads so that bit positions can be mapped back to file bytes.

/// Why a read could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Short {
    /// More input may arrive (streaming); retry from the last checkpoint.
    NeedMore,
    /// The entropy-coded segment ended (marker or end of input).
    Truncated,
}

/// Size of the ring of data-byte offsets (must exceed the 8 bytes the bit
/// buffer can hold plus the partially consumed one).
const RING: usize = 16;

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
    /// Data bits consumed since the start of this entropy-coded segment.
    pub consumed: u64,
    /// Data bytes loaded since the start of this entropy-coded segment.
    loaded: u64,
    /// `ring[d % RING]` = absolute offset of data byte `d`.
    ring: [u64; RING],
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
            consumed: 0,
            loaded: 0,
            ring: [0; RING],
        }
    }

    /// Load bytes until at least 57 bits are buffered, a marker is reached or
    /// the window (`w`, starting at absolute offset `base`) ends.
    #[inline(always)]
    pub fn fill(&mut self, w: &[u8], base: u64) {
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
                self.push(0xFF);
                self.next += 2;
            } else {
                self.push(b);
                self.next += 1;
            }
        }
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        self.ring[(self.loaded as usize) % RING] = self.next;
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

    /// Consume `n` (≤ available) bits and return them right-aligned.
    #[inline(always)]
    pub fn take(&mut self, n: u32) -> u32 {
        debug_assert!(n <= self.nbits && n <= 32);
        if n == 0 {
            return 0;
        }
        let v = (self.buf >> (64 - n)) as u32;
        self.buf <<= n;
        self.nbits -= n;
        self.consumed += n as u64;
        v
    }

    /// Absolute file offset of data byte `d` (which must still be in the ring).
    #[inline(always)]
    pub fn offset_of(&self, d: u64) -> u64 {
        if d < self.loaded {
            self.ring[(d as usize) % RING]
        } else {
            self.next
        }
    }

    /// Absolute offset just past the last data byte any consumed bit lies in
    /// (skipping a stuffed zero after a 0xFF data byte), i.e. where the
    /// entropy-coded segment ends once the remaining bits are padding.
    pub fn end_of_consumed(&self, w: &[u8], base: u64) -> u64 {
        if self.consumed == 0 {
            return self.offset_of(0);
        }
        let last = (self.consumed - 1) >> 3;
        let off = self.offset_of(last);
        let b = w.get((off - base) as usize).copied().unwrap_or(0);
        if b == 0xFF {
            off + 2
        } else {
            off + 1
        }
    }
}
