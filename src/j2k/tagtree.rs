//! Packet-header bits and tag trees (ISO/IEC 15444-1 B.10.1 and B.10.2).
//!
//! Packet headers are read MSB first; after a byte 0xFF the next byte
//! carries only 7 bits (its top bit is a stuffed 0), so that no marker can
//! appear inside a header.

use crate::{Error, Result};

/// Reads the bits of packet headers from a byte slice.
#[derive(Debug, Clone)]
pub struct HeaderBits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits left in `byte`.
    left: u8,
    byte: u8,
    /// The previous byte read was 0xFF.
    after_ff: bool,
}

fn short() -> Error {
    Error::new(
        crate::ErrorKind::Malformed,
        "packet header runs past the end of its data",
    )
}

impl<'a> HeaderBits<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> HeaderBits<'a> {
        HeaderBits {
            data,
            pos: 0,
            left: 0,
            byte: 0,
            after_ff: false,
        }
    }

    /// One bit.
    pub fn bit(&mut self) -> Result<u32> {
        if self.left == 0 {
            let b = *self.data.get(self.pos).ok_or_else(short)?;
            self.pos += 1;
            if self.after_ff {
                self.byte = b << 1;
                self.left = 7;
            } else {
                self.byte = b;
                self.left = 8;
            }
            self.after_ff = b == 0xFF;
        }
        self.left -= 1;
        let v = (self.byte >> 7) as u32;
        self.byte <<= 1;
        Ok(v)
    }

    /// `n` bits (at most 32), MSB first.
    pub fn bits(&mut self, n: u32) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }

    /// End the header: drop the rest of the current byte, and the next
    /// byte too when the last one was 0xFF (it carries the stuffed bit
    /// only). Returns the number of bytes the header used.
    pub fn finish(&mut self) -> Result<usize> {
        self.left = 0;
        if self.after_ff {
            // The byte after a 0xFF belongs to the header.
            if self.pos >= self.data.len() {
                return Err(short());
            }
            self.pos += 1;
            self.after_ff = false;
        }
        Ok(self.pos)
    }

    /// Bytes consumed so far (a partly read byte counts).
    pub fn position(&self) -> usize {
        self.pos
    }
}

/// A tag tree over a `w` x `h` grid of leaves: each node holds the minimum
/// of its children's values, coded incrementally against thresholds.
#[derive(Debug, Clone)]
pub struct TagTree {
    w: u32,
    h: u32,
    /// Per node, levels from the leaves up (raster order within a level):
    /// the lower bound known so far, with [`KNOWN`] set once it is the
    /// value.
    nodes: Vec<u32>,
}

/// Flag of a node whose value is known.
const KNOWN: u32 = 1 << 31;

impl TagTree {
    /// A tree over `w` x `h` leaves (both at least 1).
    pub fn new(w: u32, h: u32) -> TagTree {
        let (w, h) = (w.max(1), h.max(1));
        let (mut lw, mut lh, mut n) = (w, h, 0usize);
        loop {
            n += lw as usize * lh as usize;
            if lw == 1 && lh == 1 {
                break;
            }
            lw = lw.div_ceil(2);
            lh = lh.div_ceil(2);
        }
        TagTree {
            w,
            h,
            nodes: vec![0; n],
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// True when every leaf is known to be at least `threshold` (the
    /// root's lower bound reached it): decoding any leaf against
    /// `threshold` then reads no bit and gives `None`.
    pub fn all_at_least(&self, threshold: u32) -> bool {
        self.nodes.last().is_some_and(|&l| l & !KNOWN >= threshold)
    }

    /// Decode leaf (`x`, `y`) against `threshold`: reads bits until the
    /// leaf's value is known or is known to be at least `threshold`.
    /// Returns `Some(value)` when the value is below `threshold`, `None`
    /// when it is `>= threshold`.
    pub fn decode(
        &mut self,
        bits: &mut HeaderBits,
        x: u32,
        y: u32,
        threshold: u32,
    ) -> Result<Option<u32>> {
        // The path from the leaf up to the root.
        let mut path = [0usize; 40];
        let mut depth = 0;
        let (mut lw, mut lh, mut off, mut x, mut y) = (self.w, self.h, 0usize, x, y);
        loop {
            path[depth] = off + (y * lw + x) as usize;
            depth += 1;
            if lw == 1 && lh == 1 {
                break;
            }
            off += lw as usize * lh as usize;
            lw = lw.div_ceil(2);
            lh = lh.div_ceil(2);
            x >>= 1;
            y >>= 1;
        }
        let mut low = 0u32;
        for &n in path[..depth].iter().rev() {
            let node = &mut self.nodes[n];
            if *node & !KNOWN < low {
                *node = low | (*node & KNOWN);
            }
            while *node & KNOWN == 0 && *node < threshold {
                if bits.bit()? == 1 {
                    *node |= KNOWN;
                } else {
                    *node += 1;
                }
            }
            low = *node & !KNOWN;
            if *node & KNOWN == 0 {
                // At least `threshold` here, so at the leaf too.
                return Ok(None);
            }
        }
        Ok(if low < threshold { Some(low) } else { None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffing_after_ff() {
        // 0xFF then 0x7F: 8 + 7 bits, all ones.
        let d = [0xFF, 0x7F, 0x80];
        let mut b = HeaderBits::new(&d);
        assert_eq!(b.bits(15).unwrap(), 0x7FFF);
        assert_eq!(b.bit().unwrap(), 1);
        assert_eq!(b.finish().unwrap(), 3);
        // A header ending on 0xFF takes the next byte too.
        let d = [0xFF, 0x00, 0x55];
        let mut b = HeaderBits::new(&d);
        b.bits(8).unwrap();
        assert_eq!(b.finish().unwrap(), 2);
        let mut b = HeaderBits::new(&[0xFF]);
        b.bits(8).unwrap();
        assert!(b.finish().is_err());
        assert!(HeaderBits::new(&[]).bit().is_err());
    }

    #[test]
    fn tag_tree_example_of_the_standard() {
        // T.800 Figure B.13 / Table B.5: leaves 1 3 2 3 / 2 2 1 4 / 3 2 2 2
        // (a 4 x 3 grid... here a 2 x 1 excerpt: values 1 and 3, coded
        // against increasing thresholds as inclusion / zero bit-planes are).
        // Root = min = 1: bits "0 1" (low 0 -> 1, known); leaf 0 = 1: "1";
        // leaf 1 = 3 from low 1: "0 0 1".
        let d = [0b0110_0100u8, 0];
        let mut b = HeaderBits::new(&d);
        let mut t = TagTree::new(2, 1);
        assert_eq!(t.decode(&mut b, 0, 0, 10).unwrap(), Some(1));
        assert_eq!(t.decode(&mut b, 1, 0, 10).unwrap(), Some(3));
        assert_eq!(b.position(), 1);
    }

    #[test]
    fn thresholds_stop_early() {
        // Value 2 against threshold 1: one 0 bit, then "not below 1".
        let d = [0b0010_0000u8];
        let mut b = HeaderBits::new(&d);
        let mut t = TagTree::new(1, 1);
        assert_eq!(t.decode(&mut b, 0, 0, 1).unwrap(), None);
        // Threshold 3: continues from low 1: "0" (low 2), "1" (known = 2).
        assert_eq!(t.decode(&mut b, 0, 0, 3).unwrap(), Some(2));
    }
}
