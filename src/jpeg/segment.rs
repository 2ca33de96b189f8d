//! Parsed marker segments: frame header (SOFn), scan header (SOS), quantization
//! tables (DQT) and restart interval (DRI). Every length, index and count is
//! validated; errors name the segment and carry the byte offset.

use super::marker;
use crate::{Error, Result};

/// The coding process of a frame (from its SOFn marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// SOF0, baseline DCT, Huffman.
    Baseline,
    /// SOF1, extended sequential DCT, Huffman, 8-bit.
    ExtendedSequential,
}

/// One component of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameComponent {
    /// Component identifier `Ci`.
    pub id: u8,
    /// Horizontal sampling factor `Hi` (1–4).
    pub h: u8,
    /// Vertical sampling factor `Vi` (1–4).
    pub v: u8,
    /// Quantization table selector `Tqi` (0–3).
    pub tq: u8,
    /// Width of the component in blocks when coded alone (non-interleaved):
    /// `ceil(ceil(X * Hi / Hmax) / 8)`.
    pub blocks_w: u32,
    /// Height in blocks when coded alone: `ceil(ceil(Y * Vi / Vmax) / 8)`.
    pub blocks_h: u32,
}

/// A frame header (SOF0 or SOF1, 8-bit precision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Coding process.
    pub kind: FrameKind,
    /// Sample precision in bits (always 8 here).
    pub precision: u8,
    /// Image width `X` in pixels.
    pub width: u32,
    /// Image height `Y` in lines.
    pub height: u32,
    /// Components in frame order.
    pub components: Vec<FrameComponent>,
    /// Largest horizontal sampling factor.
    pub hmax: u8,
    /// Largest vertical sampling factor.
    pub vmax: u8,
    /// MCUs per row of an interleaved scan: `ceil(X / (8 * Hmax))`.
    pub mcus_x: u32,
    /// MCU rows of an interleaved scan: `ceil(Y / (8 * Vmax))`.
    pub mcus_y: u32,
}

impl Frame {
    /// Index (in frame order) of the component with identifier `id`.
    pub fn component_index(&self, id: u8) -> Option<usize> {
        self.components.iter().position(|c| c.id == id)
    }

    /// Blocks of component `c` in the padded grid of an interleaved scan
    /// (`mcus_x * Hc`, `mcus_y * Vc`).
    pub fn padded_blocks(&self, c: usize) -> (u32, u32) {
        let comp = &self.components[c];
        (self.mcus_x * comp.h as u32, self.mcus_y * comp.v as u32)
    }

    /// The iMCU size in pixels: 8 x 8 for a one-component frame (its scan is
    /// non-interleaved whatever the sampling factors), else `8 Hmax x 8
    /// Vmax`. Lossless crops align their top-left corner to it.
    pub fn imcu_size(&self) -> (u32, u32) {
        if self.components.len() == 1 {
            (8, 8)
        } else {
            (8 * self.hmax as u32, 8 * self.vmax as u32)
        }
    }

    /// Blocks of component `c` across and down one iMCU: (1, 1) for a
    /// one-component frame, else its sampling factors.
    pub fn imcu_blocks(&self, c: usize) -> (u32, u32) {
        if self.components.len() == 1 {
            (1, 1)
        } else {
            let comp = &self.components[c];
            (comp.h as u32, comp.v as u32)
        }
    }

    /// Pixel rectangle `[x0, x1) x [y0, y1)` of the full-resolution image covered
    /// by block (`bx`, `by`) of component `c` (clipped to the image).
    pub fn block_pixel_rect(&self, c: usize, bx: u32, by: u32) -> (u32, u32, u32, u32) {
        let comp = &self.components[c];
        let sx = (self.hmax / comp.h) as u32;
        let sy = (self.vmax / comp.v) as u32;
        let x0 = (bx * 8 * sx).min(self.width);
        let y0 = (by * 8 * sy).min(self.height);
        let x1 = ((bx + 1) * 8 * sx).min(self.width);
        let y1 = ((by + 1) * 8 * sy).min(self.height);
        (x0, y0, x1, y1)
    }
}

/// One component of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanComponent {
    /// Index of the component in the frame.
    pub index: usize,
    /// DC Huffman table selector `Tdj`.
    pub td: u8,
    /// AC Huffman table selector `Taj`.
    pub ta: u8,
}

/// A scan header (SOS) of a sequential frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanHeader {
    /// The scan's components, in scan order.
    pub components: Vec<ScanComponent>,
}

/// A quantization table, values in natural (row-major) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantTable {
    /// Element precision: 0 for 8-bit, 1 for 16-bit entries.
    pub precision: u8,
    /// The 64 quantizer values in natural order.
    pub values: [u16; 64],
}

/// Zigzag index → natural (row-major) index (T.81 figure A.6).
pub const ZIGZAG_TO_NATURAL: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

/// Parse a SOFn segment body (`body` = bytes after the two length bytes; `at` =
/// offset of the marker). Non-Huffman-sequential or non-8-bit frames are
/// [`crate::ErrorKind::Unsupported`] with the frame type named.
pub fn parse_frame(m: u8, body: &[u8], at: u64) -> Result<Frame> {
    let kind = match m {
        marker::SOF0 => FrameKind::Baseline,
        marker::SOF1 => FrameKind::ExtendedSequential,
        _ => {
            return Err(Error::unsupported_at(
                at,
                format!("unsupported JPEG frame type {}", marker::name(m)),
            ))
        }
    };
    if body.len() < 6 {
        return Err(Error::malformed_at(at, "SOF segment too short"));
    }
    let precision = body[0];
    if precision != 8 {
        return Err(Error::unsupported_at(
            at,
            format!(
                "unsupported {precision}-bit sample precision in {} frame (only 8-bit)",
                marker::name(m)
            ),
        ));
    }
    let height = be16(body, 1) as u32;
    let width = be16(body, 3) as u32;
    let nf = body[5] as usize;
    if width == 0 || height == 0 {
        return Err(Error::malformed_at(
            at,
            format!("zero-size frame ({width}x{height}); DNL-defined heights are not supported"),
        ));
    }
    if nf == 0 || nf > 4 {
        return Err(Error::malformed_at(
            at,
            format!("frame has {nf} components (1 to 4 supported)"),
        ));
    }
    if body.len() != 6 + 3 * nf {
        return Err(Error::malformed_at(
            at,
            format!(
                "SOF length {} does not match {nf} components",
                body.len() + 2
            ),
        ));
    }
    let mut components = Vec::with_capacity(nf);
    for i in 0..nf {
        let p = 6 + 3 * i;
        let id = body[p];
        let h = body[p + 1] >> 4;
        let v = body[p + 1] & 15;
        let tq = body[p + 2];
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(Error::malformed_at(
                at,
                format!("component {id} has sampling factors {h}x{v}"),
            ));
        }
        if tq > 3 {
            return Err(Error::malformed_at(
                at,
                format!("component {id} uses quantization table {tq}"),
            ));
        }
        if components.iter().any(|c: &FrameComponent| c.id == id) {
            return Err(Error::malformed_at(
                at,
                format!("duplicate component id {id}"),
            ));
        }
        components.push(FrameComponent {
            id,
            h,
            v,
            tq,
            blocks_w: 0,
            blocks_h: 0,
        });
    }
    let hmax = components.iter().map(|c| c.h).max().unwrap_or(1);
    let vmax = components.iter().map(|c| c.v).max().unwrap_or(1);
    for c in &mut components {
        if hmax % c.h != 0 || vmax % c.v != 0 {
            return Err(Error::unsupported_at(
                at,
                format!("sampling factors {}x{} of component {} do not divide the maximum {hmax}x{vmax}", c.h, c.v, c.id),
            ));
        }
        let cw = (width * c.h as u32).div_ceil(hmax as u32);
        let ch = (height * c.v as u32).div_ceil(vmax as u32);
        c.blocks_w = cw.div_ceil(8);
        c.blocks_h = ch.div_ceil(8);
    }
    let mcus_x = width.div_ceil(8 * hmax as u32);
    let mcus_y = height.div_ceil(8 * vmax as u32);
    Ok(Frame {
        kind,
        precision,
        width,
        height,
        components,
        hmax,
        vmax,
        mcus_x,
        mcus_y,
    })
}

/// Parse an SOS segment body against `frame`.
pub fn parse_scan(body: &[u8], frame: &Frame, at: u64) -> Result<ScanHeader> {
    if body.is_empty() {
        return Err(Error::malformed_at(at, "SOS segment too short"));
    }
    let ns = body[0] as usize;
    if ns == 0 || ns > 4 {
        return Err(Error::malformed_at(
            at,
            format!("scan has {ns} components (1 to 4 allowed)"),
        ));
    }
    if body.len() != 1 + 2 * ns + 3 {
        return Err(Error::malformed_at(
            at,
            format!(
                "SOS length {} does not match {ns} components",
                body.len() + 2
            ),
        ));
    }
    let mut components = Vec::with_capacity(ns);
    for j in 0..ns {
        let id = body[1 + 2 * j];
        let tables = body[2 + 2 * j];
        let index = frame.component_index(id).ok_or_else(|| {
            Error::malformed_at(
                at,
                format!("scan names component {id}, which is not in the frame"),
            )
        })?;
        if components.iter().any(|c: &ScanComponent| c.index == index) {
            return Err(Error::malformed_at(
                at,
                format!("scan names component {id} twice"),
            ));
        }
        let (td, ta) = (tables >> 4, tables & 15);
        if td > 3 || ta > 3 {
            return Err(Error::malformed_at(
                at,
                format!("scan component {id} selects Huffman table {td}/{ta}"),
            ));
        }
        components.push(ScanComponent { index, td, ta });
    }
    let p = 1 + 2 * ns;
    let (ss, se, ah, al) = (body[p], body[p + 1], body[p + 2] >> 4, body[p + 2] & 15);
    if ss != 0 || se != 63 || ah != 0 || al != 0 {
        return Err(Error::malformed_at(
            at,
            format!("sequential scan with spectral selection {ss}..{se} / approximation {ah},{al} (must be 0..63 / 0,0)"),
        ));
    }
    if ns > 1 {
        let blocks: u32 = components
            .iter()
            .map(|c| (frame.components[c.index].h * frame.components[c.index].v) as u32)
            .sum();
        if blocks > 10 {
            return Err(Error::malformed_at(
                at,
                format!("interleaved scan has {blocks} blocks per MCU (at most 10)"),
            ));
        }
    }
    Ok(ScanHeader { components })
}

/// Parse a DQT segment body into `tables`.
pub fn parse_dqt(body: &[u8], tables: &mut [Option<QuantTable>; 4], at: u64) -> Result<()> {
    let mut p = 0;
    if body.is_empty() {
        return Err(Error::malformed_at(at, "empty DQT segment"));
    }
    while p < body.len() {
        let pq = body[p] >> 4;
        let tq = body[p] & 15;
        if pq > 1 || tq > 3 {
            return Err(Error::malformed_at(
                at,
                format!("DQT table {tq} with precision code {pq}"),
            ));
        }
        let n = if pq == 0 { 64 } else { 128 };
        if body.len() - p - 1 < n {
            return Err(Error::malformed_at(
                at,
                "DQT segment shorter than its tables",
            ));
        }
        let mut values = [0u16; 64];
        for (k, &nat) in ZIGZAG_TO_NATURAL.iter().enumerate() {
            values[nat as usize] = if pq == 0 {
                body[p + 1 + k] as u16
            } else {
                be16(body, p + 1 + 2 * k)
            };
        }
        tables[tq as usize] = Some(QuantTable {
            precision: pq,
            values,
        });
        p += 1 + n;
    }
    Ok(())
}

/// Parse a DRI segment body: the restart interval in MCUs (0 = none).
pub fn parse_dri(body: &[u8], at: u64) -> Result<u16> {
    if body.len() != 2 {
        return Err(Error::malformed_at(
            at,
            format!("DRI segment length {} (must be 4)", body.len() + 2),
        ));
    }
    Ok(be16(body, 0))
}
