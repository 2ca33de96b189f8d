//! Which additional bits are encrypted: the selection (components, bands,
//! region, key levels) and the eligibility rule, as a walker [`Visitor`].

use super::{Band, Components, Options, Region, Rule};
use crate::jpeg::{Frame, ScanHeader, Visitor};
use crate::Result;

/// Per-image statistics of additional bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BitStats {
    /// Additional bits in the entropy-coded data.
    pub additional: u64,
    /// Additional bits the `paper` rule may encrypt (any selection).
    pub eligible_paper: u64,
    /// Additional bits the `full` rule may encrypt (any selection).
    pub eligible_full: u64,
    /// Additional bits actually selected and encrypted under the options.
    pub encrypted: u64,
    /// Blocks whose DC difference was left in clear because encrypting it
    /// would have changed the DC of blocks outside the region.
    pub dc_kept_for_region: u64,
}

/// Persistent selection state of one image (survives walker resumptions).
pub(crate) struct Selector {
    rule: Rule,
    components: Components,
    bands: [bool; 3],
    levels: bool,
    region: Option<Region>,
    /// `table[comp][k]` = selection code for coefficient `k` of `comp`.
    table: Vec<[u8; 64]>,
    /// Rows the current block selects from: per component `3 * comp` = its
    /// table, `3 * comp + 1` = its table without DC, `3 * comp + 2` = zeros.
    rows: Vec<[u8; 64]>,
    cur_row: usize,
    frame: Option<Frame>,
    /// Region mode: per component, per padded block, may the DC be encrypted?
    dc_ok: Vec<Vec<bool>>,
    /// Region mode: per component, per padded block, is the block selected?
    block_sel: Vec<Vec<bool>>,
    /// Highest absolute offset already counted in `stats` (resumption guard).
    counted_to: u64,
    pub(crate) stats: BitStats,
    /// Byte span of entropy-coded data per scan (absolute, inclusive start,
    /// exclusive end) — where this image's masks can be non-zero.
    pub(crate) spans: Vec<(u64, u64)>,
}

fn band_of(k: usize) -> Band {
    match k {
        0 => Band::Dc,
        1..=5 => Band::AcLow,
        _ => Band::AcHigh,
    }
}

impl Selector {
    /// `region` is honoured only for the primary image (`use_region`).
    pub(crate) fn new(opts: &Options, use_region: bool) -> Selector {
        Selector {
            rule: opts.rule,
            components: opts.components,
            bands: [opts.bands.dc, opts.bands.ac_low, opts.bands.ac_high],
            levels: opts.levels,
            region: if use_region { opts.region } else { None },
            table: Vec::new(),
            rows: Vec::new(),
            cur_row: 0,
            frame: None,
            dc_ok: Vec::new(),
            block_sel: Vec::new(),
            counted_to: 0,
            stats: BitStats::default(),
            spans: Vec::new(),
        }
    }

    /// Count statistics only for bytes at or after absolute `offset`.
    pub(crate) fn count_from(&mut self, offset: u64) {
        self.counted_to = offset;
    }

    /// The frame, once seen.
    pub(crate) fn frame(&self) -> Option<&Frame> {
        self.frame.as_ref()
    }

    fn block_selected(&self, frame: &Frame, comp: usize, bx: u32, by: u32) -> Option<bool> {
        let Some(r) = self.region else {
            return Some(true);
        };
        let (x0, y0, x1, y1) = frame.block_pixel_rect(comp, bx, by);
        if x0 >= x1 || y0 >= y1 {
            return None; // padding block outside the picture
        }
        let (rx1, ry1) = (r.x.saturating_add(r.w), r.y.saturating_add(r.h));
        let intersects = x0 < rx1 && r.x < x1 && y0 < ry1 && r.y < y1;
        let contained = x0 >= r.x && x1 <= rx1 && y0 >= r.y && y1 <= ry1;
        Some(if r.outside { !contained } else { intersects })
    }
}

/// The visitor for one walker call: the persistent [`Selector`] plus the
/// window's mask arrays.
pub(crate) struct SelectVisit<'a, F: FnMut(u8, u64, &mut [u8], [&mut [u8]; 3]) -> Result<()>> {
    pub(crate) sel: &'a mut Selector,
    pub(crate) masks: [&'a mut [u8]; 3],
    pub(crate) base: u64,
    pub(crate) on_segment: F,
    pub(crate) warnings: &'a mut Vec<(u64, String)>,
}

impl<F: FnMut(u8, u64, &mut [u8], [&mut [u8]; 3]) -> Result<()>> Visitor for SelectVisit<'_, F> {
    const NEEDS_VALUES: bool = false;

    fn frame(&mut self, frame: &Frame) -> Result<()> {
        let s = &mut *self.sel;
        s.table = (0..frame.components.len())
            .map(|c| {
                let comp_on = match s.components {
                    Components::All => true,
                    Components::Luma => c == 0,
                    Components::Chroma => c != 0,
                };
                let mut t = [0u8; 64];
                for (k, e) in t.iter_mut().enumerate() {
                    let band = band_of(k);
                    if comp_on && s.bands[band as usize] {
                        let level = if s.levels { band.level() } else { 0 };
                        *e = level + 1;
                    }
                }
                t
            })
            .collect();
        s.rows = s
            .table
            .iter()
            .flat_map(|t| {
                let mut no_dc = *t;
                no_dc[0] = 0;
                [*t, no_dc, [0u8; 64]]
            })
            .collect();
        s.frame = Some(frame.clone());
        Ok(())
    }

    fn segment(&mut self, m: u8, offset: u64, seg: &mut [u8]) -> Result<()> {
        let a = (offset - self.base) as usize;
        let b = a + seg.len();
        let [m0, m1, m2] = &mut self.masks;
        (self.on_segment)(
            m,
            offset,
            seg,
            [&mut m0[a..b], &mut m1[a..b], &mut m2[a..b]],
        )
    }

    fn scan(&mut self, frame: &Frame, scan: &ScanHeader, ri: u16) -> Result<()> {
        let s = &mut *self.sel;
        s.spans.push((u64::MAX, 0));
        if s.region.is_none() {
            return Ok(());
        }
        if s.block_sel.is_empty() {
            s.block_sel = (0..frame.components.len())
                .map(|c| {
                    let (w, h) = frame.padded_blocks(c);
                    let mut v = Vec::with_capacity((w * h) as usize);
                    for by in 0..h {
                        for bx in 0..w {
                            v.push(s.block_selected(frame, c, bx, by).unwrap_or(true));
                        }
                    }
                    v
                })
                .collect();
            s.dc_ok = s.block_sel.iter().map(|v| vec![false; v.len()]).collect();
        }
        // DC differences are predicted: changing one shifts the DC of every
        // later block of the component up to the next restart. Allow it only
        // where every later block of the interval is selected (or padding).
        let order = block_order(frame, scan, ri);
        let mut all_later_ok = [true; 4];
        let mut interval = u32::MAX;
        for &(mcu_interval, comp, bx, by) in order.iter().rev() {
            if mcu_interval != interval {
                interval = mcu_interval;
                all_later_ok = [true; 4];
            }
            let (w, _) = frame.padded_blocks(comp);
            let i = (by * w + bx) as usize;
            let slot = scan
                .components
                .iter()
                .position(|c| c.index == comp)
                .unwrap_or(0);
            s.dc_ok[comp][i] = all_later_ok[slot];
            let selected_or_padding = s.block_selected(frame, comp, bx, by).unwrap_or(true);
            all_later_ok[slot] &= selected_or_padding;
        }
        Ok(())
    }

    #[inline(always)]
    fn block(&mut self, comp: usize, bx: u32, by: u32) {
        let s = &mut *self.sel;
        let (mut sel, mut dc) = (true, true);
        if !s.block_sel.is_empty() {
            if let Some(frame) = &s.frame {
                let (w, _) = frame.padded_blocks(comp);
                let i = (by * w + bx) as usize;
                sel = s.block_sel[comp].get(i).copied().unwrap_or(false);
                dc = s.dc_ok[comp].get(i).copied().unwrap_or(false);
                if sel && !dc && s.table[comp][0] != 0 {
                    s.stats.dc_kept_for_region += 1;
                }
            }
        }
        s.cur_row = 3 * comp
            + if !sel {
                2
            } else if !dc {
                1
            } else {
                0
            };
    }

    #[inline(always)]
    fn coef(&mut self, k: usize, _value: i32) -> u8 {
        let s = &*self.sel;
        s.rows.get(s.cur_row).map_or(0, |r| r[k & 63])
    }

    #[inline(always)]
    fn byte(&mut self, index: usize, value: u8, h: u8, a: u8, sel: &[u8; 3]) {
        let s = &mut *self.sel;
        let eligible = match s.rule {
            Rule::Full => value != 0xFF,
            Rule::Paper => (h & !value) != 0 && a != 0,
        };
        let abs = self.base + index as u64;
        if s.levels {
            for (l, m) in self.masks.iter_mut().enumerate() {
                m[index] = if eligible { sel[l] } else { 0 };
            }
        } else {
            // Single level: only level 0 is ever selected.
            self.masks[0][index] = if eligible { sel[0] } else { 0 };
        }
        if abs >= s.counted_to {
            s.counted_to = abs + 1;
            let na = a.count_ones() as u64;
            s.stats.additional += na;
            if (h & !value) != 0 {
                s.stats.eligible_paper += na;
            }
            if value != 0xFF {
                s.stats.eligible_full += na;
            }
            if eligible {
                s.stats.encrypted += (sel[0] | sel[1] | sel[2]).count_ones() as u64;
            }
            if let Some(span) = s.spans.last_mut() {
                span.0 = span.0.min(abs);
                span.1 = span.1.max(abs + 1);
            }
        }
    }

    #[inline(always)]
    fn word(&mut self, index: usize, value: u32, a: u32, sel: &[u32; 3]) {
        let s = &mut *self.sel;
        let abs = self.base + index as u64;
        // Per-lane flags (0xFF / 0x00): byte is 0xFF; Huffman bits hold a 0.
        let is_ff = lanes_zero(!value);
        let h_has_zero = lanes_nonzero(!a & !value);
        let eligible = match s.rule {
            Rule::Full => !is_ff,
            Rule::Paper => h_has_zero & lanes_nonzero(a),
        };
        let levels = if s.levels { 3 } else { 1 };
        for (l, m) in self.masks.iter_mut().enumerate().take(levels) {
            m[index..index + 4].copy_from_slice(&(sel[l] & eligible).to_be_bytes());
        }
        if abs >= s.counted_to {
            s.counted_to = abs + 4;
            s.stats.additional += a.count_ones() as u64;
            s.stats.eligible_paper += (a & h_has_zero).count_ones() as u64;
            s.stats.eligible_full += (a & !is_ff).count_ones() as u64;
            s.stats.encrypted += ((sel[0] | sel[1] | sel[2]) & eligible).count_ones() as u64;
            if let Some(span) = s.spans.last_mut() {
                span.0 = span.0.min(abs);
                span.1 = span.1.max(abs + 4);
            }
        }
    }

    fn warning(&mut self, offset: u64, message: String) {
        self.warnings.push((offset, message));
    }
}

/// 0xFF in every byte lane of `x` that is non-zero, 0x00 elsewhere.
#[inline(always)]
fn lanes_nonzero(x: u32) -> u32 {
    let t = ((x & 0x7F7F_7F7F) + 0x7F7F_7F7F) | x;
    ((t & 0x8080_8080) >> 7) * 0xFF
}

/// 0xFF in every byte lane of `x` that is zero.
#[inline(always)]
fn lanes_zero(x: u32) -> u32 {
    !lanes_nonzero(x)
}

/// Every block of a scan in coding order: (restart interval number, component
/// frame index, bx, by).
fn block_order(frame: &Frame, scan: &ScanHeader, ri: u16) -> Vec<(u32, usize, u32, u32)> {
    let mut out = Vec::new();
    let ri = ri as u32;
    let interval = |mcu: u32| mcu.checked_div(ri).unwrap_or(0);
    if scan.components.len() == 1 {
        let c = scan.components[0].index;
        let fc = &frame.components[c];
        for by in 0..fc.blocks_h {
            for bx in 0..fc.blocks_w {
                out.push((interval(by * fc.blocks_w + bx), c, bx, by));
            }
        }
    } else {
        for my in 0..frame.mcus_y {
            for mx in 0..frame.mcus_x {
                let mcu = my * frame.mcus_x + mx;
                for sc in &scan.components {
                    let fc = &frame.components[sc.index];
                    for v in 0..fc.v as u32 {
                        for h in 0..fc.h as u32 {
                            out.push((
                                interval(mcu),
                                sc.index,
                                mx * fc.h as u32 + h,
                                my * fc.v as u32 + v,
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}
