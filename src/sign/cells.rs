//! Signing cells: the grid of g x g iMCU squares an image's signature is
//! made of, and the canonical message of each cell (docs/sign-format.md,
//! "Cells" and "Cell message").
//!
//! A cell's message holds the quantized DCT coefficients of every block of
//! every component inside the cell and the quantization tables that apply,
//! so it is independent of the decoder and survives any lossless crop whose
//! top-left corner is on the cell grid (ours or `jpegtran -crop`), which
//! re-encodes the entropy-coded data but keeps every coefficient.

use crate::jpeg::coefficients::Coefficients;
use crate::jpeg::segment::Frame;
use crate::{Error, ErrorKind, Result};

/// Message type byte of a cell message.
pub const MSG_CELL: u8 = 0x01;

/// Largest granularity accepted (cells of up to 32 x 32 iMCUs).
pub const MAX_GRANULARITY: u32 = 32;

/// The cell grid of an image at granularity `g`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellGrid {
    /// iMCU width in pixels: 8 for a one-component image, else 8 * Hmax
    /// (the unit `jpegtran -crop` aligns the top-left corner to).
    pub unit_w: u32,
    /// iMCU height in pixels: 8 for a one-component image, else 8 * Vmax.
    pub unit_h: u32,
    /// Cell side in iMCUs.
    pub g: u32,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Cells per row: `ceil(width / (g * unit_w))`.
    pub cells_x: u32,
    /// Cell rows: `ceil(height / (g * unit_h))`.
    pub cells_y: u32,
}

impl CellGrid {
    /// The grid of `frame` at granularity `g` (1..=[`MAX_GRANULARITY`]).
    pub fn new(frame: &Frame, g: u32) -> Result<CellGrid> {
        if g == 0 || g > MAX_GRANULARITY {
            return Err(Error::invalid_argument(format!(
                "granularity {g}: must be 1 to {MAX_GRANULARITY} iMCUs"
            )));
        }
        let (unit_w, unit_h) = frame.imcu_size();
        let (cw, ch) = (g * unit_w, g * unit_h);
        Ok(CellGrid {
            unit_w,
            unit_h,
            g,
            width: frame.width,
            height: frame.height,
            cells_x: frame.width.div_ceil(cw),
            cells_y: frame.height.div_ceil(ch),
        })
    }

    /// Cell width in pixels.
    pub fn cell_w(&self) -> u32 {
        self.g * self.unit_w
    }

    /// Cell height in pixels.
    pub fn cell_h(&self) -> u32 {
        self.g * self.unit_h
    }

    /// Number of cells.
    pub fn len(&self) -> u64 {
        self.cells_x as u64 * self.cells_y as u64
    }

    /// True when the image has no cell (never for a valid frame).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pixel rectangle `[x0, x1) x [y0, y1)` of cell (`cx`, `cy`), clipped
    /// to the image.
    pub fn cell_rect(&self, cx: u32, cy: u32) -> (u32, u32, u32, u32) {
        let (w, h) = (self.cell_w(), self.cell_h());
        (
            (cx * w).min(self.width),
            (cy * h).min(self.height),
            ((cx + 1) * w).min(self.width),
            ((cy + 1) * h).min(self.height),
        )
    }
}

/// Blocks of component `c` inside cell (`cx`, `cy`): block columns
/// `[bx0, bx1)` and rows `[by0, by1)` of the component's own grid (only
/// blocks holding image samples: `FrameComponent::blocks_w` / `blocks_h`,
/// never the padding blocks of a partial iMCU).
pub fn cell_blocks(
    frame: &Frame,
    grid: &CellGrid,
    c: usize,
    cx: u32,
    cy: u32,
) -> (u32, u32, u32, u32) {
    let comp = &frame.components[c];
    let (per_x, per_y) = frame.imcu_blocks(c);
    let (sx, sy) = (grid.g * per_x, grid.g * per_y);
    (
        (cx * sx).min(comp.blocks_w),
        (cy * sy).min(comp.blocks_h),
        ((cx + 1) * sx).min(comp.blocks_w),
        ((cy + 1) * sy).min(comp.blocks_h),
    )
}

/// The message of cell (`cx`, `cy`) of the image `coefs` (cell coordinates
/// in this image's grid), signed as cell (`cx + origin.0`, `cy + origin.1`)
/// of the original image: a cropped image's cell (0, 0) is the original's
/// cell `origin`. `binding` ties the message to one signed image.
///
/// Layout (all integers big-endian; docs/sign-format.md):
/// `0x01 | binding[32] | u32 cell x | u32 cell y | u8 components |` then per
/// component in frame order `u8 H | u8 V | u16 quantizer[64] (natural
/// order) | u16 blocks across | u16 blocks down | i16 coefficient[64] per
/// block (blocks in raster order, coefficients in natural order, DC
/// absolute)`.
pub fn cell_message(
    coefs: &Coefficients,
    grid: &CellGrid,
    binding: &[u8; 32],
    cx: u32,
    cy: u32,
    origin: (u32, u32),
) -> Result<Vec<u8>> {
    let mut m = Vec::with_capacity(64 + coefs.frame.components.len() * 4096);
    m.push(MSG_CELL);
    m.extend_from_slice(binding);
    m.extend_from_slice(&(cx + origin.0).to_be_bytes());
    m.extend_from_slice(&(cy + origin.1).to_be_bytes());
    write_content(&mut m, coefs, grid, cx, cy)?;
    Ok(m)
}

/// The picture content of cell (`cx`, `cy`) of `coefs`: the part of its
/// message after the coordinates (components, sampling factors,
/// quantization tables, coefficients). Two cells hold the same picture
/// exactly when their contents are equal.
pub fn cell_content(coefs: &Coefficients, grid: &CellGrid, cx: u32, cy: u32) -> Result<Vec<u8>> {
    let mut m = Vec::with_capacity(16 + coefs.frame.components.len() * 4096);
    write_content(&mut m, coefs, grid, cx, cy)?;
    Ok(m)
}

fn write_content(
    m: &mut Vec<u8>,
    coefs: &Coefficients,
    grid: &CellGrid,
    cx: u32,
    cy: u32,
) -> Result<()> {
    let frame = &coefs.frame;
    m.push(frame.components.len() as u8);
    for (c, comp) in frame.components.iter().enumerate() {
        let q = coefs.quant[comp.tq as usize & 3].as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Malformed,
                format!(
                    "component {} uses quantization table {} which is not defined",
                    comp.id, comp.tq
                ),
            )
        })?;
        m.push(comp.h);
        m.push(comp.v);
        for v in q.values {
            m.extend_from_slice(&v.to_be_bytes());
        }
        let (bx0, by0, bx1, by1) = cell_blocks(frame, grid, c, cx, cy);
        m.extend_from_slice(&((bx1 - bx0) as u16).to_be_bytes());
        m.extend_from_slice(&((by1 - by0) as u16).to_be_bytes());
        let cc = &coefs.components[c];
        for by in by0..by1 {
            for bx in bx0..bx1 {
                for &v in cc.block(bx, by) {
                    m.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
    }
    Ok(())
}
