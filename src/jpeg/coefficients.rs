//! Decoding the quantized DCT coefficients of a whole image (no IDCT).

use super::segment::{Frame, QuantTable, ScanHeader, ZIGZAG_TO_NATURAL};
use super::walker::{ImageWalker, Progress, Visitor};
use crate::{Error, ErrorKind, Result};

/// The coefficients of one component, block by block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentCoefficients {
    /// Component identifier.
    pub id: u8,
    /// Blocks per row stored: the padded grid of an interleaved scan
    /// (`mcus_x * H`); blocks a non-interleaved scan does not code stay 0.
    pub blocks_w: u32,
    /// Block rows stored (`mcus_y * V`).
    pub blocks_h: u32,
    /// `blocks_w * blocks_h * 64` coefficients; block (bx, by) starts at
    /// `(by * blocks_w + bx) * 64`, coefficients in natural (row-major) order,
    /// DC as absolute (prediction-resolved) value.
    pub data: Vec<i16>,
    /// Quantization table selector of the component.
    pub tq: u8,
}

impl ComponentCoefficients {
    /// The 64 coefficients of block (`bx`, `by`), natural order.
    pub fn block(&self, bx: u32, by: u32) -> &[i16] {
        let i = ((by * self.blocks_w + bx) * 64) as usize;
        &self.data[i..i + 64]
    }
}

/// All coefficients of an image with its frame and quantization tables.
#[derive(Debug, Clone)]
pub struct Coefficients {
    /// The frame header.
    pub frame: Frame,
    /// Per component, in frame order.
    pub components: Vec<ComponentCoefficients>,
    /// Quantization tables (index = table id).
    pub quant: [Option<QuantTable>; 4],
}

/// Largest number of blocks decoded into memory (about 4 GiB of i16 would be
/// absurd; this caps at 512 MiB).
const MAX_BLOCKS: u64 = 1 << 22;

struct Collect {
    comps: Vec<ComponentCoefficients>,
    preds: [i32; 4],
    scan_comps: Vec<usize>,
    comp: usize,
    /// Start of the current block in `comps[comp].data`, or `None` for a
    /// block outside the stored grid.
    base: Option<usize>,
}

impl super::walker::sealed::Sealed for Collect {}

impl Visitor for Collect {
    fn frame(&mut self, f: &Frame) -> Result<()> {
        let mut total = 0u64;
        for (c, fc) in f.components.iter().enumerate() {
            let (w, h) = f.padded_blocks(c);
            total += w as u64 * h as u64;
            self.comps.push(ComponentCoefficients {
                id: fc.id,
                blocks_w: w,
                blocks_h: h,
                data: Vec::new(),
                tq: fc.tq,
            });
        }
        if total > MAX_BLOCKS {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "image has {total} blocks; more than {MAX_BLOCKS} are not decoded into memory"
                ),
            ));
        }
        for c in &mut self.comps {
            c.data = vec![0; (c.blocks_w * c.blocks_h * 64) as usize];
        }
        Ok(())
    }

    fn scan(&mut self, _f: &Frame, scan: &ScanHeader, _ri: u16) -> Result<()> {
        self.scan_comps = scan.components.iter().map(|c| c.index).collect();
        self.preds = [0; 4];
        Ok(())
    }

    fn restart(&mut self) {
        self.preds = [0; 4];
    }

    #[inline]
    fn block(&mut self, comp: usize, bx: u32, by: u32) {
        self.comp = comp;
        let c = &mut self.comps[comp];
        self.base = if bx < c.blocks_w && by < c.blocks_h {
            let b = ((by * c.blocks_w + bx) * 64) as usize;
            // Until a DC difference says otherwise the DC equals the prediction.
            c.data[b] = self.preds[comp] as i16;
            Some(b)
        } else {
            None
        };
    }

    #[inline]
    fn coef(&mut self, k: usize, value: i32) -> u8 {
        if k == 0 {
            self.preds[self.comp] = value;
        }
        if let Some(b) = self.base {
            self.comps[self.comp].data[b + ZIGZAG_TO_NATURAL[k] as usize] = value as i16;
        }
        0
    }
}

/// Decode every quantized coefficient of the JPEG in `data` (which must hold
/// the whole image, SOI through EOI).
pub fn decode_coefficients(data: &[u8]) -> Result<Coefficients> {
    let mut buf = data.to_vec();
    let mut walker = ImageWalker::new(0);
    let mut v = Collect {
        comps: Vec::new(),
        preds: [0; 4],
        scan_comps: Vec::new(),
        comp: 0,
        base: None,
    };
    match walker.advance(&mut buf, 0, true, &mut v)? {
        Progress::Done => {}
        Progress::NeedMore => {
            return Err(Error::malformed_at(data.len() as u64, "truncated: no EOI"))
        }
    }
    let frame = walker
        .frame()
        .cloned()
        .ok_or_else(|| Error::malformed_at(0, "no frame header"))?;
    if walker.quant_redefined() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "a quantization table is redefined between scans (the coefficients of earlier scans were quantized with other values)",
        ));
    }
    Ok(Coefficients {
        frame,
        components: v.comps,
        quant: walker.quant_tables().clone(),
    })
}
