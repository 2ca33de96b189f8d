//! The resumable image walker: marker segments, then every entropy-coded
//! symbol of every scan, reported to a [`Visitor`] with bit-exact positions.
//!
//! The walker works on a *window*: a byte slice holding the input from some
//! absolute offset `base` on. It advances as far as the window allows and
//! stops at a checkpoint (segment or MCU boundary) when it needs more input,
//! so the same code serves whole buffers and bounded-memory streams.

use super::bits::{BitReader, Short};
use super::huffman::{parse_dht, HuffmanTable};
use super::marker;
use super::segment::{
    parse_dqt, parse_dri, parse_frame, parse_scan, Frame, QuantTable, ScanHeader,
};
use crate::{Error, Result};

/// Classification of a bit of entropy-coded data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitClass {
    /// A bit of a Huffman code word.
    Huffman,
    /// An additional bit (magnitude/sign bits following a code word).
    Additional,
    /// A padding bit before a marker.
    Padding,
}

/// Receives what the walker finds. Only `byte` is required.
pub trait Visitor {
    /// Whether `coef` needs the coefficient values (false lets the walker
    /// skip sign extension and DC prediction).
    const NEEDS_VALUES: bool = true;
    /// The frame header was parsed.
    fn frame(&mut self, _frame: &Frame) -> Result<()> {
        Ok(())
    }
    /// A marker segment (`seg` = its bytes from the 0xFF of the marker through
    /// the end of its payload) is complete in the window at absolute `offset`.
    /// The visitor may change bytes of APPn/COM payloads but not the structure.
    fn segment(&mut self, _marker: u8, _offset: u64, _seg: &mut [u8]) -> Result<()> {
        Ok(())
    }
    /// A scan starts (its header parsed); `restart_interval` in MCUs, 0 = none.
    fn scan(&mut self, _frame: &Frame, _scan: &ScanHeader, _restart_interval: u16) -> Result<()> {
        Ok(())
    }
    /// A block of component `comp` (frame index) at block position (`bx`, `by`)
    /// of the component's block grid starts.
    #[inline(always)]
    fn block(&mut self, _comp: usize, _bx: u32, _by: u32) {}
    /// A restart marker was read; DC predictions are reset to 0.
    fn restart(&mut self) {}
    /// A coefficient with additional bits was decoded: zigzag index `k`
    /// (0 = DC), value (absolute DC value for `k == 0`). Returns the selection
    /// code for its additional bits: 0 = not selected, `L + 1` = selected at
    /// key level `L` (0..=2).
    #[inline(always)]
    fn coef(&mut self, _k: usize, _value: i32) -> u8 {
        0
    }
    /// Data byte at window index `index` (absolute `index + base`) with value
    /// `value` is complete: `huffman` and `additional` are the masks of its
    /// Huffman-code and additional bits (MSB = first bit), `selected[L]` the
    /// additional bits selected at level `L`. Called once per data byte, in
    /// order, possibly again for the same byte after a resumption.
    fn byte(&mut self, index: usize, value: u8, huffman: u8, additional: u8, selected: &[u8; 3]);
    /// Four consecutive data bytes at window indices `index..index + 4`
    /// (no stuffing between them), all bits consumed: `value`, `additional`
    /// and `selected` hold one byte per lane, first byte in the most
    /// significant lane; the Huffman-code bits are `!additional`. The default
    /// calls [`Visitor::byte`] four times.
    #[inline(always)]
    fn word(&mut self, index: usize, value: u32, additional: u32, selected: &[u32; 3]) {
        for j in 0..4 {
            let sh = 24 - 8 * j;
            let a = (additional >> sh) as u8;
            let s = [
                (selected[0] >> sh) as u8,
                (selected[1] >> sh) as u8,
                (selected[2] >> sh) as u8,
            ];
            self.byte(index + j as usize, (value >> sh) as u8, !a, a, &s);
        }
    }
    /// Something odd but harmless (extraneous bytes before a marker).
    fn warning(&mut self, _offset: u64, _message: String) {}
}

/// Result of [`ImageWalker::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The window ended before EOI; call again with more input.
    NeedMore,
    /// EOI was read; [`ImageWalker::end`] is the offset just past it.
    Done,
}

#[derive(Clone, Copy)]
struct ScanComp {
    index: usize,
    dc: usize,
    ac: usize,
    h: u32,
    v: u32,
    blocks_w: u32,
}

/// Mutable per-scan state, copied at every MCU checkpoint.
#[derive(Clone, Copy)]
struct Cursor {
    bits: BitReader,
    mcu: u32,
    in_interval: u32,
    next_rst: u8,
    preds: [i32; 4],
    /// Data-bit index (multiple of 8) of the first bit of `acc_a` / `acc_s`:
    /// bytes before it have been reported to the visitor.
    acc_base: u64,
    /// Bits consumed since `acc_base` (= `bits.consumed() - acc_base` inside
    /// a block; kept incrementally on the hot path).
    acc_n: u32,
    /// Additional bits since `acc_base`, MSB first. Reported 4 bytes at a
    /// time once 32 bits are consumed, so a symbol (≤ 27 bits) always fits.
    acc_a: u64,
    /// Selected additional bits per key level since `acc_base`, at index
    /// `level + 1` (index 0 collects unselected bits and is ignored).
    acc_s: [u64; 4],
}

impl Cursor {
    fn new(start: u64, mcu: u32, next_rst: u8) -> Cursor {
        Cursor {
            bits: BitReader::new(start),
            mcu,
            in_interval: 0,
            next_rst,
            preds: [0; 4],
            acc_base: 0,
            acc_n: 0,
            acc_a: 0,
            acc_s: [0; 4],
        }
    }
}

struct ScanState {
    comps: Vec<ScanComp>,
    interleaved: bool,
    mcus_x: u32,
    total_mcus: u32,
    number: u32,
    cursor: Cursor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Markers,
    Scan,
    Done,
}

/// Walks one JPEG image (SOI through EOI); see the module documentation.
pub struct ImageWalker {
    state: State,
    start: u64,
    pos: u64,
    frame: Option<Frame>,
    dc: [Option<HuffmanTable>; 4],
    ac: [Option<HuffmanTable>; 4],
    quant: [Option<QuantTable>; 4],
    restart_interval: u16,
    scan: Option<ScanState>,
    scans: u32,
    coded: [bool; 4],
    scan_data_start: u64,
}

impl ImageWalker {
    /// A walker for an image whose SOI marker is at absolute offset `start`.
    pub fn new(start: u64) -> ImageWalker {
        ImageWalker {
            state: State::Start,
            start,
            pos: start,
            frame: None,
            dc: Default::default(),
            ac: Default::default(),
            quant: Default::default(),
            restart_interval: 0,
            scan: None,
            scans: 0,
            coded: [false; 4],
            scan_data_start: 0,
        }
    }

    /// Absolute offset of the image's SOI.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Absolute offset just past EOI once [`Progress::Done`].
    pub fn end(&self) -> u64 {
        self.pos
    }

    /// The frame header, once parsed.
    pub fn frame(&self) -> Option<&Frame> {
        self.frame.as_ref()
    }

    /// Quantization tables defined so far (index = table id).
    pub fn quant_tables(&self) -> &[Option<QuantTable>; 4] {
        &self.quant
    }

    /// The restart interval in force (MCUs, 0 = none).
    pub fn restart_interval(&self) -> u16 {
        self.restart_interval
    }

    /// Absolute offset of the first entropy-coded byte of the latest scan
    /// (just past its SOS segment); 0 before the first scan.
    pub fn scan_data_start(&self) -> u64 {
        self.scan_data_start
    }

    /// Number of scans started so far.
    pub fn scans(&self) -> u32 {
        self.scans
    }

    /// Every byte before this absolute offset is final: its `byte` callback
    /// has been made and no later work will revisit it.
    pub fn committed(&self) -> u64 {
        match (&self.state, &self.scan) {
            (State::Scan, Some(s)) => {
                // Keep the last consumed byte: it may still be accumulating,
                // and the end of the segment is found from it.
                let c = &s.cursor;
                let b = &c.bits;
                let last = b.consumed().saturating_sub(1) >> 3;
                b.offset_of(last.min(c.acc_base >> 3))
            }
            _ => self.pos,
        }
    }

    /// Advance through window `w` (absolute offset of `w[0]` is `base`).
    /// `last` says no input follows the window. Errors name what is wrong and
    /// where; an error is final for this walker.
    pub fn advance<V: Visitor>(
        &mut self,
        w: &mut [u8],
        base: u64,
        last: bool,
        v: &mut V,
    ) -> Result<Progress> {
        loop {
            match self.state {
                State::Done => return Ok(Progress::Done),
                State::Start => {
                    let i = (self.pos - base) as usize;
                    if w.len() < i + 2 {
                        return self.short_input(last, "file ends before the SOI marker");
                    }
                    if w[i] != 0xFF || w[i + 1] != marker::SOI {
                        return Err(Error::malformed_at(
                            self.pos,
                            "not a JPEG: no SOI marker (0xFFD8) at the start",
                        ));
                    }
                    self.pos += 2;
                    self.state = State::Markers;
                }
                State::Markers => {
                    if self.marker_step(w, base, last, v)? == Progress::NeedMore {
                        return Ok(Progress::NeedMore);
                    }
                }
                State::Scan => {
                    if self.scan_step(w, base, last, v)? == Progress::NeedMore {
                        return Ok(Progress::NeedMore);
                    }
                }
            }
        }
    }

    fn short_input(&self, last: bool, what: &str) -> Result<Progress> {
        if last {
            Err(Error::malformed_at(self.pos, format!("truncated: {what}")))
        } else {
            Ok(Progress::NeedMore)
        }
    }

    /// Read one marker (and its segment). Returns NeedMore or Done (= one step made).
    fn marker_step<V: Visitor>(
        &mut self,
        w: &mut [u8],
        base: u64,
        last: bool,
        v: &mut V,
    ) -> Result<Progress> {
        let i = (self.pos - base) as usize;
        if w.len() < i + 2 {
            return self.short_input(last, "file ends before EOI");
        }
        if w[i] != 0xFF {
            return Err(Error::malformed_at(
                self.pos,
                format!("expected a marker, found byte 0x{:02X}", w[i]),
            ));
        }
        let m = w[i + 1];
        match m {
            0xFF => {
                self.pos += 1; // fill byte
                return Ok(Progress::Done);
            }
            marker::EOI => {
                if self.scans == 0 {
                    return Err(Error::malformed_at(
                        self.pos,
                        "EOI before any scan: no image data",
                    ));
                }
                self.pos += 2;
                self.state = State::Done;
                return Ok(Progress::Done);
            }
            marker::SOI => {
                return Err(Error::malformed_at(
                    self.pos,
                    "second SOI marker inside the image",
                ))
            }
            0x00 => {
                return Err(Error::malformed_at(
                    self.pos,
                    "stuffed zero outside entropy-coded data",
                ))
            }
            0x01 => {
                self.pos += 2; // TEM, standalone
                return Ok(Progress::Done);
            }
            m if marker::is_rst(m) => {
                return Err(Error::malformed_at(
                    self.pos,
                    format!("{} marker outside entropy-coded data", marker::name(m)),
                ))
            }
            _ => {}
        }
        if w.len() < i + 4 {
            return self.short_input(
                last,
                &format!("file ends inside the {} segment", marker::name(m)),
            );
        }
        let len = u16::from_be_bytes([w[i + 2], w[i + 3]]) as usize;
        if len < 2 {
            return Err(Error::malformed_at(
                self.pos,
                format!("{} segment length {len} is less than 2", marker::name(m)),
            ));
        }
        if w.len() < i + 2 + len {
            return self.short_input(
                last,
                &format!("file ends inside the {} segment", marker::name(m)),
            );
        }
        let at = self.pos;
        let body_range = i + 4..i + 2 + len;
        match m {
            marker::DQT => parse_dqt(&w[body_range.clone()], &mut self.quant, at)?,
            marker::DHT => parse_dht(&w[body_range.clone()], &mut self.dc, &mut self.ac, at)?,
            marker::DRI => self.restart_interval = parse_dri(&w[body_range.clone()], at)?,
            m if marker::is_sof(m) => {
                if self.frame.is_some() {
                    return Err(Error::malformed_at(
                        at,
                        "second frame header (SOF) in one image",
                    ));
                }
                let f = parse_frame(m, &w[body_range.clone()], at)?;
                v.frame(&f)?;
                self.frame = Some(f);
            }
            marker::SOS => {
                let frame = self
                    .frame
                    .as_ref()
                    .ok_or_else(|| Error::malformed_at(at, "SOS before the frame header (SOF)"))?;
                let hdr = parse_scan(&w[body_range.clone()], frame, at)?;
                v.segment(m, at, &mut w[i..i + 2 + len])?;
                self.pos += 2 + len as u64;
                self.begin_scan(hdr, at, v)?;
                return Ok(Progress::Done);
            }
            marker::DNL => {
                return Err(Error::unsupported_at(
                    at,
                    "DNL marker (height defined after the scan) is not supported",
                ))
            }
            0xDE | 0xDF => {
                return Err(Error::unsupported_at(
                    at,
                    format!("hierarchical JPEG ({}) is not supported", marker::name(m)),
                ))
            }
            0xCC => {
                return Err(Error::unsupported_at(
                    at,
                    "arithmetic-coding conditioning table (DAC) is not supported",
                ))
            }
            _ => {} // APPn, COM, JPGn and reserved: opaque
        }
        v.segment(m, at, &mut w[i..i + 2 + len])?;
        self.pos += 2 + len as u64;
        Ok(Progress::Done)
    }

    fn begin_scan<V: Visitor>(&mut self, hdr: ScanHeader, at: u64, v: &mut V) -> Result<()> {
        let frame = self.frame.as_ref().expect("checked by caller");
        let mut comps = Vec::with_capacity(hdr.components.len());
        for sc in &hdr.components {
            if self.dc[sc.td as usize].is_none() || self.ac[sc.ta as usize].is_none() {
                return Err(Error::malformed_at(
                    at,
                    format!(
                        "scan uses undefined Huffman table (DC {} / AC {}) for component {}",
                        sc.td, sc.ta, frame.components[sc.index].id
                    ),
                ));
            }
            if self.coded[sc.index] {
                return Err(Error::malformed_at(
                    at,
                    format!(
                        "component {} coded in two scans of a sequential frame",
                        frame.components[sc.index].id
                    ),
                ));
            }
            self.coded[sc.index] = true;
            let fc = &frame.components[sc.index];
            comps.push(ScanComp {
                index: sc.index,
                dc: sc.td as usize,
                ac: sc.ta as usize,
                h: fc.h as u32,
                v: fc.v as u32,
                blocks_w: fc.blocks_w,
            });
        }
        let interleaved = comps.len() > 1;
        let (mcus_x, total_mcus) = if interleaved {
            (frame.mcus_x, frame.mcus_x * frame.mcus_y)
        } else {
            let fc = &frame.components[comps[0].index];
            (fc.blocks_w, fc.blocks_w * fc.blocks_h)
        };
        v.scan(frame, &hdr, self.restart_interval)?;
        self.scans += 1;
        self.scan_data_start = self.pos;
        self.scan = Some(ScanState {
            comps,
            interleaved,
            mcus_x,
            total_mcus,
            number: self.scans,
            cursor: Cursor::new(self.pos, 0, 0),
        });
        self.state = State::Scan;
        Ok(())
    }

    fn scan_step<V: Visitor>(
        &mut self,
        w: &mut [u8],
        base: u64,
        last: bool,
        v: &mut V,
    ) -> Result<Progress> {
        let ri = self.restart_interval as u32;
        let scan = self.scan.as_mut().expect("scan state");
        loop {
            let c = &mut scan.cursor;
            let at_end = c.mcu == scan.total_mcus;
            if at_end || (ri > 0 && c.in_interval == ri) {
                // End of an entropy-coded segment: flush the last byte, skip
                // padding, find the marker.
                flush_partial(c, w, base, v);
                let mut p = c.bits.end_of_consumed(w, base);
                let mut extraneous = 0u64;
                let marker_at = loop {
                    let i = (p - base) as usize;
                    if i + 1 >= w.len() {
                        if last {
                            return Err(Error::malformed_at(
                                p,
                                format!(
                                    "truncated: entropy-coded data of scan {} ends without a marker (no EOI)",
                                    scan.number
                                ),
                            ));
                        }
                        return Ok(Progress::NeedMore);
                    }
                    if w[i] == 0xFF && w[i + 1] != 0x00 && w[i + 1] != 0xFF {
                        break p;
                    }
                    if w[i] == 0xFF && w[i + 1] == 0xFF {
                        p += 1; // fill byte
                        continue;
                    }
                    extraneous += if w[i] == 0xFF { 2 } else { 1 };
                    p += if w[i] == 0xFF { 2 } else { 1 };
                };
                if extraneous > 0 {
                    v.warning(
                        marker_at,
                        format!(
                            "{extraneous} extraneous bytes before marker in scan {}",
                            scan.number
                        ),
                    );
                }
                let m = w[(marker_at - base) as usize + 1];
                if at_end {
                    self.pos = marker_at;
                    self.state = State::Markers;
                    self.scan = None;
                    return Ok(Progress::Done);
                }
                if !marker::is_rst(m) {
                    return Err(Error::malformed_at(
                        marker_at,
                        format!(
                            "expected RST{} after {} MCUs of scan {}, found {}",
                            c.next_rst,
                            c.mcu,
                            scan.number,
                            marker::name(m)
                        ),
                    ));
                }
                if m - marker::RST0 != c.next_rst {
                    return Err(Error::malformed_at(
                        marker_at,
                        format!(
                            "restart marker out of sequence: expected RST{}, found {}",
                            c.next_rst,
                            marker::name(m)
                        ),
                    ));
                }
                let next_rst = (c.next_rst + 1) & 7;
                v.restart();
                *c = Cursor::new(marker_at + 2, c.mcu, next_rst);
                continue;
            }
            let saved = if last { None } else { Some(*c) };
            match decode_mcu(scan, &self.dc, &self.ac, w, base, last, v) {
                Ok(()) => {
                    let c = &mut scan.cursor;
                    c.mcu += 1;
                    c.in_interval += 1;
                }
                Err(Stop::Short(Short::NeedMore)) => {
                    if let Some(s) = saved {
                        scan.cursor = s;
                    }
                    return Ok(Progress::NeedMore);
                }
                Err(Stop::Short(Short::Truncated)) => {
                    let c = &scan.cursor;
                    let at = c.bits.offset_of(c.bits.consumed() >> 3);
                    let (mx, my) = (c.mcu % scan.mcus_x, c.mcu / scan.mcus_x);
                    let what = if c.bits.marker {
                        "a marker interrupts"
                    } else {
                        "the file ends inside"
                    };
                    return Err(Error::malformed_at(
                        at,
                        format!(
                            "truncated: {what} the entropy-coded data of scan {} at MCU {} of {} (column {mx}, row {my})",
                            scan.number, c.mcu, scan.total_mcus
                        ),
                    ));
                }
                Err(Stop::Bad(msg)) => {
                    let c = &scan.cursor;
                    let at = c.bits.offset_of(c.bits.consumed() >> 3);
                    return Err(Error::malformed_at(
                        at,
                        format!(
                            "{msg} in scan {} at MCU {} of {}",
                            scan.number, c.mcu, scan.total_mcus
                        ),
                    ));
                }
            }
        }
    }
}

enum Stop {
    Short(Short),
    Bad(&'static str),
}

/// Report the data byte in lane `j` of the accumulators (the `j`-th byte
/// after `acc_base`); `consumed_mask` marks its consumed bits (the rest is
/// padding).
#[inline(always)]
fn report_lane<V: Visitor>(c: &Cursor, j: u32, consumed_mask: u8, w: &[u8], base: u64, v: &mut V) {
    let sh = 56 - 8 * j;
    let a = (c.acc_a >> sh) as u8;
    let s = [
        (c.acc_s[1] >> sh) as u8,
        (c.acc_s[2] >> sh) as u8,
        (c.acc_s[3] >> sh) as u8,
    ];
    let idx = (c.bits.offset_of((c.acc_base >> 3) + j as u64) - base) as usize;
    v.byte(idx, w[idx], consumed_mask & !a, a, &s);
}

/// Report the 4 bytes at the head of the accumulators (all consumed).
#[inline(always)]
fn flush_word<V: Visitor>(c: &mut Cursor, w: &[u8], base: u64, v: &mut V) {
    let d0 = c.acc_base >> 3;
    let o0 = c.bits.offset_of(d0);
    if c.bits.offset_of(d0 + 3) == o0 + 3 {
        let i = (o0 - base) as usize;
        let value = u32::from_be_bytes([w[i], w[i + 1], w[i + 2], w[i + 3]]);
        let s = [
            (c.acc_s[1] >> 32) as u32,
            (c.acc_s[2] >> 32) as u32,
            (c.acc_s[3] >> 32) as u32,
        ];
        v.word(i, value, (c.acc_a >> 32) as u32, &s);
    } else {
        // A stuffed zero lies between these bytes: report them one by one.
        for j in 0..4 {
            report_lane(c, j, 0xFF, w, base, v);
        }
    }
    c.acc_a <<= 32;
    for x in &mut c.acc_s {
        *x <<= 32;
    }
    c.acc_base += 32;
}

/// At the end of an entropy-coded segment: report every byte holding a
/// consumed bit (the rest of the last byte is padding). `maybe_flush` ran
/// after the last symbol, so fewer than 32 bits are pending.
fn flush_partial<V: Visitor>(c: &mut Cursor, w: &[u8], base: u64, v: &mut V) {
    debug_assert!(c.bits.consumed() < c.acc_base + 32 || c.acc_n == 0);
    let mut j = 0u32;
    while c.acc_base + 8 * (j as u64) < c.bits.consumed() {
        let left = c.bits.consumed() - (c.acc_base + 8 * (j as u64));
        let consumed_mask = if left >= 8 { 0xFF } else { !(0xFFu8 >> left) };
        report_lane(c, j, consumed_mask, w, base, v);
        j += 1;
    }
    c.acc_base += 8 * j as u64;
    c.acc_n = 0;
    c.acc_a = 0;
    c.acc_s = [0; 4];
}

/// Record the last `n` consumed bits as additional bits with selection code
/// `sel` (0 = none, L + 1 = level L).
#[inline(always)]
fn mark_additional(c: &mut Cursor, n: u32, sel: u8) {
    debug_assert!(c.acc_n <= 64 && n <= c.acc_n);
    debug_assert_eq!(c.acc_n as u64, c.bits.consumed() - c.acc_base);
    let m = ((1u64 << n) - 1) << (64 - c.acc_n);
    c.acc_a |= m;
    c.acc_s[(sel & 3) as usize] |= m;
}

/// Report completed bytes once 32 bits past `acc_base` are consumed. Called
/// after every symbol, so each symbol (≤ 16 + 11 bits) starts less than 32
/// bits past `acc_base` and fits the 64-bit accumulators.
#[inline(always)]
fn maybe_flush<V: Visitor>(c: &mut Cursor, w: &[u8], base: u64, v: &mut V) {
    if c.acc_n >= 32 {
        flush_word(c, w, base, v);
        c.acc_n -= 32;
    }
}

#[inline(always)]
fn extend(v: u32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if v < (1 << (s - 1)) {
        v as i32 - (1 << s) + 1
    } else {
        v as i32
    }
}

fn decode_mcu<V: Visitor>(
    scan: &mut ScanState,
    dc: &[Option<HuffmanTable>; 4],
    ac: &[Option<HuffmanTable>; 4],
    w: &[u8],
    base: u64,
    last: bool,
    v: &mut V,
) -> std::result::Result<(), Stop> {
    let c = &mut scan.cursor;
    let (mx, my) = (c.mcu % scan.mcus_x, c.mcu / scan.mcus_x);
    for (si, comp) in scan.comps.iter().enumerate() {
        let dct = dc[comp.dc].as_ref().ok_or(Stop::Bad("missing DC table"))?;
        let act = ac[comp.ac].as_ref().ok_or(Stop::Bad("missing AC table"))?;
        if scan.interleaved {
            for by in 0..comp.v {
                for bx in 0..comp.h {
                    v.block(comp.index, mx * comp.h + bx, my * comp.v + by);
                    decode_block(c, si, dct, act, w, base, last, v)?;
                }
            }
        } else {
            let _ = comp.blocks_w;
            v.block(comp.index, mx, my);
            decode_block(c, si, dct, act, w, base, last, v)?;
        }
    }
    Ok(())
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn decode_block<V: Visitor>(
    c: &mut Cursor,
    si: usize,
    dct: &HuffmanTable,
    act: &HuffmanTable,
    w: &[u8],
    base: u64,
    last: bool,
    v: &mut V,
) -> std::result::Result<(), Stop> {
    // DC difference.
    let (len, s) = next_symbol(
        c,
        dct,
        w,
        base,
        last,
        "invalid Huffman code for a DC difference",
    )?;
    let s = s as u32;
    if len + s > c.bits.available() {
        return Err(Stop::Short(c.bits.short(last)));
    }
    if s > 0 {
        let value = if V::NEEDS_VALUES {
            c.preds[si] += extend(c.bits.peek_after(len, s), s);
            c.preds[si]
        } else {
            0
        };
        c.bits.skip(len + s);
        c.acc_n += len + s;
        let sel = v.coef(0, value);
        mark_additional(c, s, sel);
    } else {
        c.bits.skip(len);
        c.acc_n += len;
    }
    maybe_flush(c, w, base, v);
    // AC coefficients.
    let mut k = 1usize;
    while k < 64 {
        let (len, rs) = next_symbol(
            c,
            act,
            w,
            base,
            last,
            "invalid Huffman code for an AC coefficient",
        )?;
        let r = (rs >> 4) as usize;
        let s = (rs & 15) as u32;
        if len + s > c.bits.available() {
            return Err(Stop::Short(c.bits.short(last)));
        }
        if s == 0 {
            c.bits.skip(len);
            c.acc_n += len;
            maybe_flush(c, w, base, v);
            if r == 15 {
                k += 16;
                continue;
            }
            break; // EOB
        }
        k += r;
        if k > 63 {
            return Err(Stop::Bad("AC coefficient index past 63 (corrupt data)"));
        }
        let value = if V::NEEDS_VALUES {
            extend(c.bits.peek_after(len, s), s)
        } else {
            0
        };
        c.bits.skip(len + s);
        c.acc_n += len + s;
        let sel = v.coef(k, value);
        mark_additional(c, s, sel);
        maybe_flush(c, w, base, v);
        k += 1;
    }
    Ok(())
}

/// Refill if needed and decode the next code word: `(code length, symbol)`.
#[inline(always)]
fn next_symbol(
    c: &mut Cursor,
    table: &HuffmanTable,
    w: &[u8],
    base: u64,
    last: bool,
    what: &'static str,
) -> std::result::Result<(u32, u8), Stop> {
    if c.bits.available() < 32 {
        c.bits.fill(w, base);
    }
    table
        .decode(c.bits.peek16())
        .ok_or_else(|| short_or(c, last, what))
}

/// An undecodable code word is corrupt data, unless the buffer simply ran
/// dry (the 16-bit peek was zero-padded) and more input may arrive.
#[cold]
fn short_or(c: &Cursor, last: bool, msg: &'static str) -> Stop {
    if c.bits.available() < 16 {
        match c.bits.short(last) {
            Short::NeedMore => Stop::Short(Short::NeedMore),
            Short::Truncated => Stop::Short(Short::Truncated),
        }
    } else {
        Stop::Bad(msg)
    }
}
