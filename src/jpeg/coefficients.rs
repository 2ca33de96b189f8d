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
    /// The MCU whose decoding started last in this scan, and the DC
    /// predictions before it: restored when the walker decodes it again
    /// (input ended inside it).
    snapshot: Option<(u32, [i32; 4])>,
    /// Whether the first scan codes every component of the frame (then it
    /// is the only one and its MCU rows are the image's iMCU rows).
    first_scan_all: bool,
}

impl Collect {
    fn new() -> Collect {
        Collect {
            comps: Vec::new(),
            preds: [0; 4],
            scan_comps: Vec::new(),
            comp: 0,
            base: None,
            snapshot: None,
            first_scan_all: false,
        }
    }
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

    fn scan(&mut self, f: &Frame, scan: &ScanHeader, _ri: u16) -> Result<()> {
        if self.scan_comps.is_empty() {
            self.first_scan_all = scan.components.len() == f.components.len();
        }
        self.scan_comps = scan.components.iter().map(|c| c.index).collect();
        self.preds = [0; 4];
        self.snapshot = None;
        Ok(())
    }

    fn mcu_start(&mut self, index: u32) {
        match self.snapshot {
            Some((i, preds)) if i == index => self.preds = preds,
            _ => self.snapshot = Some((index, self.preds)),
        }
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

/// Decodes the coefficients of one JPEG as its bytes arrive: feed the
/// growing file to [`CoefficientDecoder::advance`]; blocks of completed MCUs
/// are final as soon as they are decoded.
pub struct CoefficientDecoder {
    walker: ImageWalker,
    v: Collect,
}

impl Default for CoefficientDecoder {
    fn default() -> Self {
        CoefficientDecoder::new()
    }
}

impl CoefficientDecoder {
    /// A decoder for a file starting with SOI.
    pub fn new() -> CoefficientDecoder {
        CoefficientDecoder {
            walker: ImageWalker::new(0),
            v: Collect::new(),
        }
    }

    /// Decode what `file` (every byte of the file so far, from SOI on)
    /// allows; `last` says no more bytes will come (then a file without EOI
    /// is an error). Returns true once EOI was read. An error is final.
    pub fn advance(&mut self, file: &mut [u8], last: bool) -> Result<bool> {
        if self.walker.is_done() {
            return Ok(true);
        }
        match self.walker.advance(file, 0, last, &mut self.v)? {
            Progress::Done => Ok(true),
            Progress::NeedMore if last => {
                Err(Error::malformed_at(file.len() as u64, "truncated: no EOI"))
            }
            Progress::NeedMore => Ok(false),
        }
    }

    /// The frame header, once read.
    pub fn frame(&self) -> Option<&Frame> {
        self.walker.frame()
    }

    /// How many of the image's iMCU rows are decoded completely, when the
    /// image is coded in one scan of all its components (its MCU rows are
    /// then iMCU rows); `None` for an image coded in several scans (no row
    /// is complete before the last scan). `Some(0)` before the first scan.
    pub fn complete_imcu_rows(&self) -> Option<u32> {
        let scans = self.walker.scans();
        if scans == 0 {
            return Some(0);
        }
        if !self.v.first_scan_all {
            return None;
        }
        match self.walker.scan_progress() {
            Some((done, per_row, _)) if scans == 1 => Some(done / per_row.max(1)),
            // The one scan is over (the walker is past it).
            _ => self.frame().map(|f| f.height.div_ceil(f.imcu_size().1)),
        }
    }

    /// The coefficients decoded so far (blocks of MCUs not yet decoded are
    /// zero), borrowed for `f`.
    pub fn with_partial<T>(&mut self, f: impl FnOnce(&Coefficients) -> T) -> Option<T> {
        let frame = self.walker.frame()?.clone();
        let coefs = Coefficients {
            frame,
            components: std::mem::take(&mut self.v.comps),
            quant: self.walker.quant_tables().clone(),
        };
        let out = f(&coefs);
        self.v.comps = coefs.components;
        Some(out)
    }

    /// The coefficients of the whole image, once [`advance`] returned true;
    /// refuses an image whose quantization tables changed between scans.
    ///
    /// [`advance`]: CoefficientDecoder::advance
    pub fn finish(self) -> Result<Coefficients> {
        if !self.walker.is_done() {
            return Err(Error::malformed_at(self.walker.end(), "truncated: no EOI"));
        }
        let frame = self
            .walker
            .frame()
            .cloned()
            .ok_or_else(|| Error::malformed_at(0, "no frame header"))?;
        if self.walker.quant_redefined() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "a quantization table is redefined between scans (the coefficients of earlier scans were quantized with other values)",
            ));
        }
        Ok(Coefficients {
            frame,
            components: self.v.comps,
            quant: self.walker.quant_tables().clone(),
        })
    }
}

/// Decode every quantized coefficient of the JPEG in `data` (which must hold
/// the whole image, SOI through EOI).
pub fn decode_coefficients(data: &[u8]) -> Result<Coefficients> {
    let mut buf = data.to_vec();
    let mut d = CoefficientDecoder::new();
    d.advance(&mut buf, true)?;
    d.finish()
}
