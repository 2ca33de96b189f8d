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
    /// A copy of the current block's row (one load per coefficient in
    /// `coef`).
    cur: [u8; 64],
    /// No region, and every coefficient of every component selected at
    /// level 0 (the default options): see `Visitor::all_selected`.
    all_selected: bool,
    frame: Option<Frame>,
    /// Region mode, current scan: (frame index, H, V) of each scan component
    /// (H = V = 1 for a non-interleaved scan) and MCUs per row / in total.
    scan_comps: Vec<(usize, u32, u32)>,
    scan_mcus_x: u32,
    scan_mcus: u32,
    restart_interval: u32,
    /// Region mode: the restart interval `dc_from` was computed for
    /// (`u32::MAX` = none yet).
    interval: u32,
    /// Region mode, per frame component: the coding-order index within the
    /// interval from which every later block is selected (DC may be
    /// encrypted from there).
    dc_from: [u32; 4],
    /// Region mode, per frame component: (H, V) blocks per MCU in this scan.
    comp_hv: [(u32, u32); 4],
    /// Region mode, per frame component: highest block sequence number of
    /// this scan already counted in `dc_kept_for_region` (re-decoding an MCU
    /// after a resumption must not count it twice).
    dc_counted: [i64; 4],
    /// Statistics count only entropy-coded segments starting at or after
    /// this absolute offset.
    count_from: u64,
    /// Corrections for the current entropy-coded segment, found while
    /// settling its bytes: additional bits not eligible under `paper`, not
    /// eligible under `full`, selected bits not encrypted.
    pending: [u64; 3],
    /// Ring of additional-bit records, indexed by absolute offset modulo
    /// `ADDL_RING`, between recording and settling (zero otherwise). Unused
    /// when `all_selected`: the level-0 plane then holds exactly the
    /// additional bits until settling.
    addl: Vec<u8>,
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
            cur: [0; 64],
            all_selected: false,
            frame: None,
            scan_comps: Vec::new(),
            scan_mcus_x: 0,
            scan_mcus: 0,
            restart_interval: 0,
            interval: u32::MAX,
            dc_from: [0; 4],
            comp_hv: [(1, 1); 4],
            dc_counted: [-1; 4],
            count_from: 0,
            pending: [0; 3],
            // Allocated by `frame` when a scan may be non-uniform.
            addl: Vec::new(),
            stats: BitStats::default(),
            spans: Vec::new(),
        }
    }

    /// Region mode: at the start of a restart interval (or scan), find per
    /// scan component the coding-order index after the last block that is not
    /// selected. DC differences are predicted, so changing one shifts the DC
    /// of every later block of the component up to the next restart; the DC
    /// of a block may be encrypted only when every later block of its
    /// component in the interval is selected. Walks backwards from the end of
    /// the interval and stops at the first unselected block of each
    /// component: no memory, and usually a single MCU.
    fn start_interval(&mut self) {
        self.dc_from = [0; 4];
        let Some(frame) = self.frame.as_ref() else {
            return;
        };
        let ri = if self.restart_interval == 0 {
            self.scan_mcus
        } else {
            self.restart_interval
        };
        let m0 = self.interval.saturating_mul(ri).min(self.scan_mcus);
        let m1 = m0.saturating_add(ri).min(self.scan_mcus);
        let mut pending = self.scan_comps.len();
        let mut found = [false; 4];
        let interleaved = self.scan_comps.len() > 1;
        let mut m = m1;
        while m > m0 && pending > 0 {
            m -= 1;
            let (mx, my) = (m % self.scan_mcus_x, m / self.scan_mcus_x);
            for &(c, h, v) in &self.scan_comps {
                if found[c & 3] {
                    continue;
                }
                let per_mcu = h * v;
                for j in (0..per_mcu).rev() {
                    let (bx, by) = if interleaved {
                        (mx * h + j % h, my * v + j / h)
                    } else {
                        (mx, my)
                    };
                    if self.block_selected(frame, c, bx, by) == Some(false) {
                        self.dc_from[c & 3] = (m - m0) * per_mcu + j + 1;
                        found[c & 3] = true;
                        pending -= 1;
                        break;
                    }
                }
            }
        }
    }

    /// Count statistics only for bytes at or after absolute `offset`.
    pub(crate) fn count_from(&mut self, offset: u64) {
        self.count_from = offset;
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

/// Arrays parallel to a window: the selected bits per key level 0, 1, 2
/// (once settled: the bits that are encrypted).
pub(crate) type Planes<'a> = [&'a mut [u8]; 3];

/// The visitor for one walker call: the persistent [`Selector`] plus the
/// window's mask arrays.
pub(crate) struct SelectVisit<'a, F: FnMut(u8, u64, &mut [u8], Planes<'_>) -> Result<()>> {
    pub(crate) sel: &'a mut Selector,
    /// Selected bits per key level, one byte per window byte. Must be zero
    /// over entropy-coded data not yet recorded: stuffed zeros are never
    /// recorded, and in uniform scans `settle` takes the level-0 plane's
    /// bits for the additional bits (a stale bit would make a stuffed zero
    /// eligible under `paper`).
    pub(crate) masks: Planes<'a>,
    pub(crate) base: u64,
    pub(crate) on_segment: F,
    pub(crate) warnings: &'a mut Vec<(u64, String)>,
}

impl<F: FnMut(u8, u64, &mut [u8], Planes<'_>) -> Result<()>> crate::jpeg::walker::sealed::Sealed
    for SelectVisit<'_, F>
{
}

impl<F: FnMut(u8, u64, &mut [u8], Planes<'_>) -> Result<()>> Visitor for SelectVisit<'_, F> {
    const NEEDS_VALUES: bool = false;
    const RECORDS: bool = true;

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
        s.all_selected =
            s.region.is_none() && s.table.iter().all(|t| t.iter().all(|&code| code == 1));
        if !s.all_selected && s.addl.is_empty() {
            s.addl = vec![0; ADDL_RING];
        }
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
        if scan.components.len() == 1 {
            let c = scan.components[0].index;
            let fc = &frame.components[c];
            s.scan_comps = vec![(c, 1, 1)];
            s.scan_mcus_x = fc.blocks_w;
            s.scan_mcus = fc.blocks_w * fc.blocks_h;
        } else {
            s.scan_comps = scan
                .components
                .iter()
                .map(|sc| {
                    let fc = &frame.components[sc.index];
                    (sc.index, fc.h as u32, fc.v as u32)
                })
                .collect();
            s.scan_mcus_x = frame.mcus_x;
            s.scan_mcus = frame.mcus_x * frame.mcus_y;
        }
        s.restart_interval = ri as u32;
        s.interval = u32::MAX;
        s.dc_counted = [-1; 4];
        for &(c, h, v) in &s.scan_comps {
            s.comp_hv[c & 3] = (h, v);
        }
        Ok(())
    }

    #[inline(always)]
    fn block(&mut self, comp: usize, bx: u32, by: u32) {
        let s = &mut *self.sel;
        let (mut sel, mut dc) = (true, true);
        if s.region.is_some() && s.frame.is_some() {
            {
                sel = s
                    .frame
                    .as_ref()
                    .and_then(|f| s.block_selected(f, comp, bx, by))
                    .unwrap_or(true);
                // The block's place in coding order, from its position alone
                // (the walker may decode an MCU twice when it resumes).
                let (h, v) = s.comp_hv[comp & 3];
                let (mcu, j) = if s.scan_comps.len() > 1 {
                    ((by / v) * s.scan_mcus_x + bx / h, (by % v) * h + bx % h)
                } else {
                    (by * s.scan_mcus_x + bx, 0)
                };
                let ri = if s.restart_interval == 0 {
                    s.scan_mcus.max(1)
                } else {
                    s.restart_interval
                };
                if mcu / ri != s.interval {
                    s.interval = mcu / ri;
                    s.start_interval();
                }
                let idx = (mcu - s.interval * ri) * h * v + j;
                dc = idx >= s.dc_from[comp & 3];
                let seq = mcu as i64 * (h * v) as i64 + j as i64;
                if sel && !dc && s.table[comp][0] != 0 && seq > s.dc_counted[comp & 3] {
                    s.dc_counted[comp & 3] = seq;
                    s.stats.dc_kept_for_region += 1;
                }
            }
        }
        let row = 3 * comp
            + if !sel {
                2
            } else if !dc {
                1
            } else {
                0
            };
        // Unconditionally: a 64-byte copy costs less than the mispredicted
        // branch a "row changed?" test takes at component switches.
        s.cur = s.rows.get(row).copied().unwrap_or([0; 64]);
    }

    #[inline(always)]
    fn coef(&mut self, k: usize, _value: i32) -> u8 {
        self.sel.cur[k & 63]
    }

    fn all_selected(&self) -> bool {
        self.sel.all_selected
    }

    #[inline(always)]
    fn record8(&mut self, index: usize, a: u64, sel: &[u64; 3]) -> bool {
        let [m0, m1, m2] = &mut self.masks;
        let Some(d) = m0.get_mut(index..index + 8) else {
            return false;
        };
        d.copy_from_slice(&sel[0].to_be_bytes());
        if self.sel.levels {
            m1[index..index + 8].copy_from_slice(&sel[1].to_be_bytes());
            m2[index..index + 8].copy_from_slice(&sel[2].to_be_bytes());
        }
        let r = ((self.base + index as u64) as usize) & (ADDL_RING - 1);
        match self.sel.addl.get_mut(r..r + 8) {
            Some(d) => d.copy_from_slice(&a.to_be_bytes()),
            None => {
                for (j, x) in a.to_be_bytes().into_iter().enumerate() {
                    self.sel.addl[(r + j) & (ADDL_RING - 1)] = x;
                }
            }
        }
        true
    }

    /// Uniform scans keep no ring records: the additional bits are the
    /// level-0 plane's bits (`settle` reads them there).
    #[inline(always)]
    fn record8_uniform(&mut self, index: usize, a: u64) -> bool {
        let Some(d) = self.masks[0].get_mut(index..index + 8) else {
            return false;
        };
        d.copy_from_slice(&a.to_be_bytes());
        true
    }

    #[inline(always)]
    fn record1_uniform(&mut self, index: usize, a: u8) {
        self.masks[0][index] = a;
    }

    #[inline(always)]
    fn record1(&mut self, index: usize, a: u8, sel: [u8; 3]) {
        let [m0, m1, m2] = &mut self.masks;
        m0[index] = sel[0];
        if self.sel.levels {
            m1[index] = sel[1];
            m2[index] = sel[2];
        }
        self.sel.addl[((self.base + index as u64) as usize) & (ADDL_RING - 1)] = a;
    }

    fn settle(&mut self, index: usize, bytes: &[u8]) {
        let mut j = 0;
        let n = bytes.len();
        // Byte by byte up to a ring position that is a multiple of 8, then
        // eight at a time (chunks never wrap around the ring).
        while j < n {
            let abs = self.base + (index + j) as u64;
            if abs as usize % 8 == 0 && n - j >= 8 {
                break;
            }
            self.settle_byte(index + j, bytes[j], 0xFF);
            j += 1;
        }
        while n - j >= 8 {
            self.settle_chunk(index + j, &bytes[j..j + 8]);
            j += 8;
        }
        while j < n {
            self.settle_byte(index + j, bytes[j], 0xFF);
            j += 1;
        }
        let abs = self.base + index as u64;
        self.sel.extend_span(abs, abs + n as u64);
    }

    fn settle_last(&mut self, index: usize, value: u8, consumed: u8) {
        self.settle_byte(index, value, consumed);
        let abs = self.base + index as u64;
        self.sel.extend_span(abs, abs + 1);
    }

    fn segment_bits(&mut self, start: u64, additional: &[u64; 4]) {
        let s = &mut *self.sel;
        let [not_paper, not_full, not_encrypted] = std::mem::take(&mut s.pending);
        if start >= s.count_from {
            let all: u64 = additional.iter().sum();
            let selected: u64 = additional[1..].iter().sum();
            s.stats.additional += all;
            s.stats.eligible_paper += all - not_paper;
            s.stats.eligible_full += all - not_full;
            s.stats.encrypted += selected - not_encrypted;
        }
    }

    fn warning(&mut self, offset: u64, message: String) {
        self.warnings.push((offset, message));
    }
}

/// Size of the ring of additional-bit records (a power of two, and far
/// more than the bytes between recording and settling: at most
/// `SETTLE_EVERY` plus one MCU).
const ADDL_RING: usize = 1 << 14;

impl Selector {
    fn extend_span(&mut self, from: u64, to: u64) {
        if let Some(span) = self.spans.last_mut() {
            span.0 = span.0.min(from);
            span.1 = span.1.max(to);
        }
    }
}

/// Per-byte lane flags of a u64 (eight bytes): 0x80 in every lane of `x`
/// that is zero, 0 elsewhere.
#[inline(always)]
fn zero_lanes(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    !(((x & LOW7) + LOW7) | x) & 0x8080_8080_8080_8080
}

/// Widen lane flags (0x80 / 0) to lane masks (0xFF / 0).
#[inline(always)]
fn widen(flags: u64) -> u64 {
    (flags >> 7) * 0xFF
}

impl<F: FnMut(u8, u64, &mut [u8], Planes<'_>) -> Result<()>> SelectVisit<'_, F> {
    /// Settle one data byte (window index `index`, value `value`) of which
    /// the bits in `consumed` are code or additional bits: clear its
    /// selection if the rule excludes it, and note the statistics
    /// corrections (`segment_bits` counts every additional bit as eligible
    /// and every selected one as encrypted). Clears its ring record (none in
    /// uniform scans: the additional bits are read from the level-0 plane).
    fn settle_byte(&mut self, index: usize, value: u8, consumed: u8) {
        let abs = self.base + index as u64;
        let s = &mut *self.sel;
        let a = if s.all_selected {
            // A uniform scan: recorded in the level-0 plane only.
            self.masks[0][index]
        } else {
            std::mem::take(&mut s.addl[abs as usize & (ADDL_RING - 1)])
        };
        let huff = consumed & !a;
        let huff_zero = huff & !value != 0;
        let eligible = match s.rule {
            Rule::Full => value != 0xFF,
            Rule::Paper => huff_zero && a != 0,
        };
        // Single level: planes 1 and 2 are never touched (their pages stay
        // unmapped).
        let planes = if s.levels { 3 } else { 1 };
        let mut selected = 0;
        for m in self.masks.iter_mut().take(planes) {
            selected |= m[index];
            if !eligible {
                m[index] = 0;
            }
        }
        let na = a.count_ones() as u64;
        if !huff_zero {
            s.pending[0] += na;
        }
        if value == 0xFF {
            s.pending[1] += na;
        }
        if !eligible {
            s.pending[2] += selected.count_ones() as u64;
        }
    }

    /// `settle_byte` for eight whole data bytes whose ring records are
    /// contiguous: lane-parallel, with work only when a lane needs it (a
    /// 0xFF byte, or Huffman bits without a 0).
    #[inline(always)]
    fn settle_chunk(&mut self, index: usize, bytes: &[u8]) {
        let abs = self.base + index as u64;
        let s = &mut *self.sel;
        let a = if s.all_selected {
            // A uniform scan: recorded in the level-0 plane only.
            u64::from_be_bytes(self.masks[0][index..index + 8].try_into().expect("8 bytes"))
        } else {
            let r = abs as usize & (ADDL_RING - 1);
            let rec = &mut s.addl[r..r + 8];
            let a = u64::from_be_bytes((&*rec).try_into().expect("8 bytes"));
            rec.fill(0);
            a
        };
        let v = u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
        // Lanes where the value is 0xFF; lanes whose Huffman bits (all but
        // the additional bits) hold no 0.
        let ff = zero_lanes(!v);
        let no_huff_zero = zero_lanes(!a & !v);
        if ff | no_huff_zero == 0 {
            // Every lane is eligible under either rule (under `paper`, lanes
            // without additional bits select nothing anyway).
            return;
        }
        let ineligible = match s.rule {
            Rule::Full => ff,
            Rule::Paper => no_huff_zero | zero_lanes(a),
        };
        let keep = !widen(ineligible);
        let planes = if s.levels { 3 } else { 1 };
        let mut selected = 0u64;
        for m in self.masks.iter_mut().take(planes) {
            let d = &mut m[index..index + 8];
            let x = u64::from_be_bytes((&*d).try_into().expect("8 bytes"));
            selected |= x;
            if x & !keep != 0 {
                d.copy_from_slice(&(x & keep).to_be_bytes());
            }
        }
        s.pending[0] += (a & widen(no_huff_zero)).count_ones() as u64;
        s.pending[1] += (a & widen(ff)).count_ones() as u64;
        s.pending[2] += (selected & !keep).count_ones() as u64;
    }
}
