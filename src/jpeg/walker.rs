//! The resumable image walker: marker segments, then every entropy-coded
//! symbol of every scan, reported to a [`Visitor`] with bit-exact positions.
//!
//! The walker works on a *window*: a byte slice holding the input from some
//! absolute offset `base` on. It advances as far as the window allows and
//! stops at a checkpoint (segment or MCU boundary) when it needs more input,
//! so the same code serves whole buffers and bounded-memory streams.

use super::bits::{BitReader, Ring, Short};
use super::huffman::{parse_dht, Entry, HuffmanTable, MULTI_BITS};
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

/// Receives what the walker finds. Every method has a default that does
/// nothing.
///
/// A visitor that sets [`Visitor::RECORDS`] is told, for every data byte of
/// entropy-coded data, which of its bits are additional bits and which of
/// those it selected (through the return value of [`Visitor::coef`]), as
/// *records* written into arrays parallel to the window, and then when those
/// records are final (*settled*).
pub trait Visitor: sealed::Sealed {
    /// Whether `coef` needs the coefficient values (false lets the walker
    /// skip sign extension and DC prediction).
    const NEEDS_VALUES: bool = true;
    /// Whether the walker calls `record8`, `record1`, `settle` and
    /// `settle_last` (false lets it skip all bit bookkeeping).
    const RECORDS: bool = false;
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
    /// MCU `index` (0-based, in the current scan) is about to be decoded.
    /// When the input ends in the middle of an MCU, the walker later decodes
    /// that MCU again from its start, calling this again with the same
    /// `index`: a visitor that keeps state across blocks restores it here.
    #[inline(always)]
    fn mcu_start(&mut self, _index: u32) {}
    /// A coefficient with additional bits was decoded: zigzag index `k`
    /// (0 = DC), value (absolute DC value for `k == 0`). Returns the selection
    /// code for its additional bits: 0 = not selected, `L + 1` = selected at
    /// key level `L` (0..=2).
    ///
    /// When `NEEDS_VALUES` is false the walker passes value 0, asks for the
    /// DC code of every block (additional bits or not), and decodes runs of
    /// AC symbols together: it asks only for the first and the
    /// last coefficient of a run (for a run that is only an EOB, the position
    /// it stands at; that code is unused), and uses their code for the whole
    /// run when they agree. Such a visitor's code must depend only on the
    /// block and `k`, and change at most once over `k = 1..=63` within a
    /// block.
    #[inline(always)]
    fn coef(&mut self, _k: usize, _value: i32) -> u8 {
        0
    }
    /// True when `coef` gives selection code 1 (level 0) to every
    /// coefficient of every block of the current scan, whatever `block` was
    /// told: a value-less recording visitor then gets neither call, and its
    /// records have `selected[0]` equal to `additional`. Asked once per
    /// scan, after `scan`.
    #[inline(always)]
    fn all_selected(&self) -> bool {
        false
    }
    /// Record the bit classes of the eight data bytes at window indices
    /// `index..index + 8`, which are consecutive in the file (no stuffing
    /// between them): one byte per lane, first byte in the most significant
    /// lane; `additional` marks additional bits, `selected[L]` those selected
    /// at level `L`. Lanes past the bits consumed so far are zero and will be
    /// recorded again. Returns false (recording nothing) when the arrays do
    /// not reach `index + 8`; the walker then uses `record1`.
    #[inline(always)]
    fn record8(&mut self, _index: usize, _additional: u64, _selected: &[u64; 3]) -> bool {
        false
    }
    /// Record the bit classes of the one data byte at window index `index`.
    #[inline(always)]
    fn record1(&mut self, _index: usize, _additional: u8, _selected: [u8; 3]) {}
    /// `record8` in a scan where [`Visitor::all_selected`] held: every
    /// additional bit is selected at level 0 (`selected` would be
    /// `[additional, 0, 0]`), so a visitor may keep a single plane for such
    /// scans.
    #[inline(always)]
    fn record8_uniform(&mut self, index: usize, additional: u64) -> bool {
        self.record8(index, additional, &[additional, 0, 0])
    }
    /// `record1` in a scan where [`Visitor::all_selected`] held.
    #[inline(always)]
    fn record1_uniform(&mut self, index: usize, additional: u8) {
        self.record1(index, additional, [additional, 0, 0])
    }
    /// The bytes at window indices `index..index + bytes.len()` (their
    /// values in `bytes`) hold only consumed bits and their records are
    /// final. Stuffed zeros among them were never recorded (their records
    /// keep whatever the visitor initialised them to, or the zero lanes of a
    /// `record8` that reached them). Called in file order, each byte once.
    fn settle(&mut self, _index: usize, _bytes: &[u8]) {}
    /// The last data byte of an entropy-coded segment, at window index
    /// `index` with value `value`, is final: only the bits in `consumed` are
    /// code or additional bits, the rest is padding.
    fn settle_last(&mut self, _index: usize, _value: u8, _consumed: u8) {}
    /// The entropy-coded segment that starts at absolute offset `start`
    /// ended; `additional[c]` = its number of additional bits that `coef`
    /// gave selection code `c`. Called once per segment, after its last
    /// `settle_last`.
    fn segment_bits(&mut self, _start: u64, _additional: &[u64; 4]) {}
    /// Something odd but harmless (extraneous bytes before a marker).
    fn warning(&mut self, _offset: u64, _message: String) {}
}

/// The walker's visitors are this crate's own: the contract of
/// [`Visitor::coef`] for value-less visitors is narrower than a general
/// "every coefficient" callback, so outside implementations are not allowed.
pub(crate) mod sealed {
    /// Implemented by the crate's visitors only.
    pub trait Sealed {}
}

/// Result of [`ImageWalker::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The window ended before EOI; call again with more input.
    NeedMore,
    /// EOI was read; [`ImageWalker::end`] is the offset just past it.
    Done,
}

/// One block of an MCU, in coding order: its component (`si` = index in the
/// scan, `index` = in the frame), tables, and place in the MCU. A
/// non-interleaved scan has one, with `h = v = 1`.
#[derive(Clone, Copy)]
struct McuBlock {
    si: usize,
    index: usize,
    dc: usize,
    ac: usize,
    h: u32,
    v: u32,
    dx: u32,
    dy: u32,
}

/// Bit classes consumed but not yet recorded.
#[derive(Clone, Copy)]
struct Acc {
    /// Index (in the entropy-coded segment) of the data byte holding the
    /// first bit of `a` / `s`: every data byte before it has been recorded.
    byte: u64,
    /// Bits consumed since the start of data byte `byte`: below 32 before a
    /// symbol, so one of at most 27 bits always fits; only a batch of
    /// multi-symbol groups in a uniform scan, recorded once at its end
    /// (`decode_block`), takes it up to 7 + 4 * 11 bits.
    n: u32,
    /// Additional bits since data byte `byte`, MSB first.
    a: u64,
    /// Selected additional bits per key level, at index `level + 1` (index 0
    /// collects unselected bits and is ignored).
    s: [u64; 4],
    /// Additional bits of the entropy-coded segment so far, per selection
    /// code.
    count: [u64; 4],
}

impl Acc {
    const NEW: Acc = Acc {
        byte: 0,
        n: 0,
        a: 0,
        s: [0; 4],
        count: [0; 4],
    };
}

/// Mutable per-scan state, copied at every MCU checkpoint.
#[derive(Clone, Copy)]
struct Cursor {
    bits: BitReader,
    ring: Ring,
    /// Absolute offset of the segment's first byte.
    start: u64,
    /// The segment's end has been handled (`finish_segment` ran).
    finished: bool,
    mcu: u32,
    in_interval: u32,
    next_rst: u8,
    preds: [i32; 4],
    acc: Acc,
}

impl Cursor {
    fn new(start: u64, mcu: u32, next_rst: u8) -> Cursor {
        Cursor {
            bits: BitReader::new(start),
            ring: Ring::new(),
            start,
            finished: false,
            mcu,
            in_interval: 0,
            next_rst,
            preds: [0; 4],
            acc: Acc::NEW,
        }
    }
}

/// The part of the cursor the hot loop keeps in registers (copied out of
/// and back into the cursor once per MCU).
struct Hot {
    bits: BitReader,
    acc: Acc,
    preds: [i32; 4],
}

/// Multi-symbol groups decoded per refill test (see `decode_block`).
const GROUPS_PER_FILL: u32 = 4;
// In uniform scans the groups between two refill tests are recorded at once:
// their bits and the fewer than 8 pending before them fit the accumulators.
const _: () = assert!(7 + GROUPS_PER_FILL * MULTI_BITS <= 64);

/// Settle recorded bytes once at least this many are pending (amortises the
/// settle call; small enough to stay in the L1 cache).
const SETTLE_EVERY: u64 = 512;

impl ScanState {
    /// Where the processed data of this image ends if parsing fails at the
    /// current position (format v1, docs/fspe.md section 7): before the last
    /// data byte holding a consumed bit, and, inside a segment, not after
    /// the first byte of the 32-bit group that holds the last consumed bit.
    /// Only grows while the scan advances, so a stream never releases a byte
    /// that an in-place run would leave out.
    fn stop_point(&self) -> u64 {
        let c = &self.cursor;
        let consumed = c.bits.consumed();
        let byte = match consumed.checked_sub(1) {
            None => 0,
            Some(_) if c.finished => (consumed - 1) >> 3,
            Some(last) => (last >> 3).min((consumed >> 5) << 2),
        };
        c.bits.offset_of(&c.ring, byte)
    }
}

struct ScanState {
    /// The blocks of one MCU, flattened: one loop with a fixed trip count
    /// (nested loops over components and sampling factors mispredict at
    /// every exit).
    blocks: Vec<McuBlock>,
    mcus_x: u32,
    total_mcus: u32,
    number: u32,
    cursor: Cursor,
    /// Absolute offset before which every byte of the scan is settled.
    settled: u64,
    /// The visitor selects every coefficient at level 0 (see
    /// [`Visitor::all_selected`]): the accumulators' `s` are not kept, the
    /// selected bits are the additional bits `a`.
    uniform: bool,
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
    quant_redefined: bool,
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
            quant_redefined: false,
        }
    }

    /// True when a DQT segment after the first scan changed a table that
    /// was already defined (so earlier scans used other values than
    /// [`ImageWalker::quant_tables`] now holds).
    pub fn quant_redefined(&self) -> bool {
        self.quant_redefined
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

    /// Inside a scan: the MCUs of the scan decoded completely so far, the
    /// MCUs per row and the scan's total; `None` between scans.
    pub fn scan_progress(&self) -> Option<(u32, u32, u32)> {
        match (&self.state, &self.scan) {
            (State::Scan, Some(s)) => Some((s.cursor.mcu, s.mcus_x, s.total_mcus)),
            _ => None,
        }
    }

    /// True once the image's EOI was read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Every byte before this absolute offset is final: settled (its records
    /// will not change) and before the point where this image's data would
    /// end if parsing failed now (see `ScanState::stop_point`). After an
    /// error it is where the image's processed data ends.
    pub fn committed(&self) -> u64 {
        match (&self.state, &self.scan) {
            (State::Scan, Some(s)) => s.settled.min(s.stop_point()),
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
            marker::DQT => {
                let before = self.quant.clone();
                parse_dqt(&w[body_range.clone()], &mut self.quant, at)?;
                if self.scans > 0
                    && before
                        .iter()
                        .zip(&self.quant)
                        .any(|(a, b)| a.is_some() && a != b)
                {
                    self.quant_redefined = true;
                }
            }
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
        let mut blocks = Vec::new();
        let interleaved = hdr.components.len() > 1;
        for (si, sc) in hdr.components.iter().enumerate() {
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
            // As libjpeg does: a component's quantization table is latched
            // when its scan starts, so it must be defined by then.
            if self.quant[fc.tq as usize & 3].is_none() {
                return Err(Error::malformed_at(
                    at,
                    format!(
                        "component {} uses quantization table {}, which is not defined before its scan",
                        fc.id, fc.tq
                    ),
                ));
            }
            let (h, v) = if interleaved {
                (fc.h as u32, fc.v as u32)
            } else {
                (1, 1)
            };
            for dy in 0..v {
                for dx in 0..h {
                    blocks.push(McuBlock {
                        si,
                        index: sc.index,
                        dc: sc.td as usize,
                        ac: sc.ta as usize,
                        h,
                        v,
                        dx,
                        dy,
                    });
                }
            }
        }
        let (mcus_x, total_mcus) = if interleaved {
            (frame.mcus_x, frame.mcus_x * frame.mcus_y)
        } else {
            let fc = &frame.components[blocks[0].index];
            (fc.blocks_w, fc.blocks_w * fc.blocks_h)
        };
        v.scan(frame, &hdr, self.restart_interval)?;
        self.scans += 1;
        self.scan_data_start = self.pos;
        self.scan = Some(ScanState {
            blocks,
            mcus_x,
            total_mcus,
            number: self.scans,
            cursor: Cursor::new(self.pos, 0, 0),
            settled: self.pos,
            uniform: !V::NEEDS_VALUES && V::RECORDS && v.all_selected(),
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
                // End of an entropy-coded segment: settle the last bytes,
                // skip padding, find the marker.
                finish_segment(scan, w, base, v);
                // `settled` = the end of the consumed data (kept across a
                // resumption: the bytes before it may have been released).
                let mut p = scan.settled;
                let c = &mut scan.cursor;
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
                // Padding, extraneous bytes and the marker carry no records.
                scan.settled = marker_at + 2;
                continue;
            }
            v.mcu_start(c.mcu);
            let saved = if last { None } else { Some(*c) };
            let decoded = if scan.uniform {
                decode_mcu::<V, true>(scan, &self.dc, &self.ac, w, base, last, v)
            } else {
                decode_mcu::<V, false>(scan, &self.dc, &self.ac, w, base, last, v)
            };
            match decoded {
                Ok(()) => {
                    let uniform = scan.uniform;
                    let c = &mut scan.cursor;
                    c.mcu += 1;
                    c.in_interval += 1;
                    if V::RECORDS
                        && c.bits.offset_of(&c.ring, c.acc.byte) >= scan.settled + SETTLE_EVERY
                    {
                        emit(&c.bits, &mut c.acc, &c.ring, base, v, uniform);
                        settle_to(scan, w, base, v);
                    }
                }
                Err(Stop::Short(Short::NeedMore)) => {
                    if let Some(s) = saved {
                        scan.cursor = s;
                    }
                    if V::RECORDS {
                        // Everything before the checkpoint is final.
                        let uniform = scan.uniform;
                        let c = &mut scan.cursor;
                        emit(&c.bits, &mut c.acc, &c.ring, base, v, uniform);
                        settle_to(scan, w, base, v);
                    }
                    return Ok(Progress::NeedMore);
                }
                Err(Stop::Short(Short::Truncated)) => {
                    settle_on_error(scan, w, base, v);
                    let c = &scan.cursor;
                    let at = c.bits.offset_of(&c.ring, c.bits.consumed() >> 3);
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
                    settle_on_error(scan, w, base, v);
                    let c = &scan.cursor;
                    let at = c.bits.offset_of(&c.ring, c.bits.consumed() >> 3);
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

/// Record the accumulated bit classes (every byte holding a consumed bit,
/// the partial last one included) and drop the complete bytes from the
/// accumulators. `uniform`: the scan's selected bits are its additional
/// bits (`ScanState::uniform`).
#[inline(always)]
fn emit<V: Visitor>(
    bits: &BitReader,
    acc: &mut Acc,
    ring: &Ring,
    base: u64,
    v: &mut V,
    uniform: bool,
) {
    let sel = if uniform {
        [acc.a, 0, 0]
    } else {
        [acc.s[1], acc.s[2], acc.s[3]]
    };
    // Data bytes from `last_ff` on are consecutive in the file, so the eight
    // starting at `acc.byte` sit at `acc.byte + next - loaded`.
    let fast = bits.last_ff <= acc.byte && {
        let at = ((acc.byte + bits.next - bits.loaded) - base) as usize;
        if uniform {
            v.record8_uniform(at, acc.a)
        } else {
            v.record8(at, acc.a, &sel)
        }
    };
    if !fast {
        emit_slow(*bits, *acc, sel, ring, base, v, uniform);
    }
    let whole = acc.n >> 3;
    let sh = whole * 8;
    acc.byte += whole as u64;
    acc.n -= sh;
    acc.a <<= sh;
    if !uniform {
        // `s[0]` (unselected bits) is never read.
        for x in &mut acc.s[1..] {
            *x <<= sh;
        }
    }
}

/// `emit` byte by byte, through the ring of offsets (a stuffed byte lies
/// ahead, or the window ends within eight bytes).
#[inline(never)]
fn emit_slow<V: Visitor>(
    bits: BitReader,
    acc: Acc,
    sel: [u64; 3],
    ring: &Ring,
    base: u64,
    v: &mut V,
    uniform: bool,
) {
    for j in 0..acc.n.div_ceil(8) {
        let off = bits.offset_of(ring, acc.byte + j as u64);
        let sh = 56 - 8 * j;
        let (index, a) = ((off - base) as usize, (acc.a >> sh) as u8);
        if uniform {
            v.record1_uniform(index, a);
        } else {
            let s = [
                (sel[0] >> sh) as u8,
                (sel[1] >> sh) as u8,
                (sel[2] >> sh) as u8,
            ];
            v.record1(index, a, s);
        }
    }
}

/// Settle every byte before the accumulators' first byte (call after
/// `emit`).
fn settle_to<V: Visitor>(scan: &mut ScanState, w: &[u8], base: u64, v: &mut V) {
    let c = &scan.cursor;
    let to = c.bits.offset_of(&c.ring, c.acc.byte);
    settle_until(scan, to, w, base, v);
}

/// Settle every byte from `scan.settled` up to absolute offset `to`.
fn settle_until<V: Visitor>(scan: &mut ScanState, to: u64, w: &[u8], base: u64, v: &mut V) {
    if to > scan.settled {
        let (a, b) = ((scan.settled - base) as usize, (to - base) as usize);
        v.settle(a, &w[a..b]);
        scan.settled = to;
    }
}

/// Parsing stopped at an error: record what was consumed and settle every
/// byte before the last consumed one, so that where the image's processed
/// data ends depends only on where the error is (not on how the input was
/// split into windows).
fn settle_on_error<V: Visitor>(scan: &mut ScanState, w: &[u8], base: u64, v: &mut V) {
    if !V::RECORDS {
        return;
    }
    let uniform = scan.uniform;
    let c = &mut scan.cursor;
    emit(&c.bits, &mut c.acc, &c.ring, base, v, uniform);
    let consumed = c.bits.consumed();
    if consumed > 0 {
        let to = c.bits.offset_of(&c.ring, (consumed - 1) >> 3);
        settle_until(scan, to, w, base, v);
    }
    // The segment will not finish: report the bits decoded before the error.
    let c = &scan.cursor;
    v.segment_bits(c.start, &c.acc.count);
}

/// At the end of an entropy-coded segment: record and settle every byte
/// holding a consumed bit (the rest of the last byte is padding).
fn finish_segment<V: Visitor>(scan: &mut ScanState, w: &[u8], base: u64, v: &mut V) {
    if scan.cursor.finished {
        return; // resumed while looking for the marker
    }
    scan.cursor.finished = true;
    if V::RECORDS {
        let uniform = scan.uniform;
        let c = &mut scan.cursor;
        emit(&c.bits, &mut c.acc, &c.ring, base, v, uniform);
        settle_to(scan, w, base, v);
        let c = &scan.cursor;
        if c.acc.n > 0 {
            let i = (c.bits.offset_of(&c.ring, c.acc.byte) - base) as usize;
            v.settle_last(i, w[i], !(0xFFu8 >> c.acc.n));
        }
        v.segment_bits(c.start, &c.acc.count);
    }
    let c = &scan.cursor;
    scan.settled = c.bits.end_of_consumed(&c.ring, w, base);
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

/// Decode one MCU; `U` = `scan.uniform` (no `block` / `coef` calls, no
/// per-level accumulators).
fn decode_mcu<V: Visitor, const U: bool>(
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
    // Work on a local copy of the hot state: nothing the visitor writes can
    // alias it, so it stays in registers.
    let mut h = Hot {
        bits: c.bits,
        acc: c.acc,
        preds: c.preds,
    };
    let ring = &mut c.ring;
    let mut result = Ok(());
    for b in &scan.blocks {
        let (Some(dct), Some(act)) = (dc[b.dc].as_ref(), ac[b.ac].as_ref()) else {
            result = Err(Stop::Bad("missing Huffman table"));
            break;
        };
        if !U {
            v.block(b.index, mx * b.h + b.dx, my * b.v + b.dy);
        }
        result = decode_block::<V, U>(&mut h, ring, b.si, dct, act, w, base, last, v);
        if result.is_err() {
            break;
        }
    }
    c.bits = h.bits;
    c.acc = h.acc;
    c.preds = h.preds;
    result
}

/// Account for a code word and its additional bits (`e`, already decoded):
/// drop them from the bit buffer and, when recording, add the additional
/// bits to the accumulators with selection code `sel` (0 = none, L + 1 =
/// level L), recording the accumulators once 32 bits are pending.
/// With `U` (every coefficient selected at level 0) `sel` is 1, only `a`
/// is kept, and the accumulators are recorded after every code word: one
/// 8-byte store costs less than the "32 bits pending?" test, whose outcome
/// follows the code lengths and mispredicts about one time in three.
///
/// `DEFER` (only with `U`): do not record; the caller records before more
/// than 64 bits can be pending (`decode_block`'s groups).
#[inline(always)]
fn consume<V: Visitor, const U: bool, const DEFER: bool>(
    h: &mut Hot,
    ring: &Ring,
    e: Entry,
    sel: u8,
    base: u64,
    v: &mut V,
) {
    // Bits 0-7: x86 shifts take the count from them without extracting it.
    let total = e as u32 & 0xFF;
    h.bits.skip(total);
    if V::RECORDS {
        let acc = &mut h.acc;
        debug_assert!(acc.n < 32 || (U && DEFER && acc.n + total <= 64));
        debug_assert!(!U || sel == 1);
        // The entry's mask is left-aligned on the code word's first bit.
        let m = (e & 0xFFFF_FFFF_0000_0000) >> acc.n;
        acc.n += total;
        acc.a |= m;
        if U {
            acc.count[1] += (e >> 8) & 15;
        } else {
            acc.s[(sel & 3) as usize] |= m;
            acc.count[(sel & 3) as usize] += (e >> 8) & 15;
        }
        if (U && !DEFER) || (!U && acc.n >= 32) {
            emit(&h.bits, acc, ring, base, v, U);
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn decode_block<V: Visitor, const U: bool>(
    h: &mut Hot,
    ring: &mut Ring,
    si: usize,
    dct: &HuffmanTable,
    act: &HuffmanTable,
    w: &[u8],
    base: u64,
    last: bool,
    v: &mut V,
) -> std::result::Result<(), Stop> {
    // DC difference.
    let e = next_entry(
        h,
        ring,
        dct,
        w,
        base,
        last,
        "invalid Huffman code for a DC difference",
    )?;
    let (len, s) = ((e >> 16) as u32 & 0xFF, (e >> 8) as u32 & 15);
    if len + s > h.bits.available() {
        return Err(Stop::Short(h.bits.short(last)));
    }
    let sel = if U {
        1
    } else if !V::NEEDS_VALUES {
        // No branch on whether the difference is 0 (unpredictable): with no
        // additional bits the mask is empty and the code unused.
        v.coef(0, 0)
    } else if s > 0 {
        h.preds[si] += extend(h.bits.peek_after(len, s), s);
        v.coef(0, h.preds[si])
    } else {
        0
    };
    consume::<V, U, false>(h, ring, e, sel, base, v);
    // AC coefficients.
    let mut k = 1usize;
    while k < 64 {
        if !V::NEEDS_VALUES {
            // Several complete symbols at once, when they fit the lookahead,
            // stay inside the block and share one selection code. One
            // refill test serves up to `GROUPS_PER_FILL` groups of at most
            // `MULTI_BITS` bits each (a refill leaves at least 57 bits unless
            // the data ends; `used <= available` catches that): the test's
            // outcome depends on the data and mispredicts often, so it runs
            // as rarely as possible.
            if h.bits.available() < GROUPS_PER_FILL * MULTI_BITS {
                h.bits.fill(ring, w, base);
            }
            let mut groups = 0;
            while groups < GROUPS_PER_FILL && k < 64 {
                let g = act.group(h.bits.peek16());
                let used = g as u32 & 0xFF;
                if used == 0 || used > h.bits.available() || k + (g >> 24 & 0xFF) as usize > 64 {
                    break;
                }
                let dk = (g >> 16 & 0x7F) as usize;
                // First and last coefficient of the run (both `k` for a lone
                // EOB, which has no additional bits: its code is unused).
                // No branch on `dk`: lone EOBs are frequent and unpredictable.
                let (first, last) = if U {
                    (1, 1)
                } else {
                    (
                        v.coef(k + (g >> 12 & 15) as usize, 0),
                        v.coef(k + dk.max(1) - 1, 0),
                    )
                };
                if first != last {
                    break;
                }
                consume::<V, U, true>(h, ring, g, first, base, v);
                k += dk;
                if g & 1 << 23 != 0 {
                    if U && V::RECORDS {
                        emit(&h.bits, &mut h.acc, ring, base, v, U);
                    }
                    return Ok(()); // EOB
                }
                groups += 1;
            }
            // With `U`, the groups' bits are recorded here, once: at most
            // 7 + 4 * 11 bits are pending (every other code word records
            // itself, leaving fewer than 8).
            if U && V::RECORDS {
                emit(&h.bits, &mut h.acc, ring, base, v, U);
            }
            if groups == GROUPS_PER_FILL || k >= 64 {
                continue;
            }
        }
        let e = next_entry(
            h,
            ring,
            act,
            w,
            base,
            last,
            "invalid Huffman code for an AC coefficient",
        )?;
        let (len, s, r) = (
            (e >> 16) as u32 & 0xFF,
            (e >> 8) as u32 & 15,
            (e >> 12) as usize & 15,
        );
        if len + s > h.bits.available() {
            return Err(Stop::Short(h.bits.short(last)));
        }
        if s == 0 {
            // No additional bits: the code is unused (1 keeps `U` exact).
            consume::<V, U, false>(h, ring, e, U as u8, base, v);
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
            extend(h.bits.peek_after(len, s), s)
        } else {
            0
        };
        let sel = if U { 1 } else { v.coef(k, value) };
        consume::<V, U, false>(h, ring, e, sel, base, v);
        k += 1;
    }
    Ok(())
}

/// Refill if needed and decode the next code word.
#[inline(always)]
fn next_entry(
    h: &mut Hot,
    ring: &mut Ring,
    table: &HuffmanTable,
    w: &[u8],
    base: u64,
    last: bool,
    what: &'static str,
) -> std::result::Result<Entry, Stop> {
    if h.bits.available() < 32 {
        h.bits.fill(ring, w, base);
    }
    table
        .entry(h.bits.peek16())
        .ok_or_else(|| short_or(h.bits, last, what))
}

/// An undecodable code word is corrupt data, unless the buffer simply ran
/// dry (the 16-bit peek was zero-padded) and more input may arrive.
#[cold]
fn short_or(bits: BitReader, last: bool, msg: &'static str) -> Stop {
    if bits.available() < 16 {
        match bits.short(last) {
            Short::NeedMore => Stop::Short(Short::NeedMore),
            Short::Truncated => Stop::Short(Short::Truncated),
        }
    } else {
        Stop::Bad(msg)
    }
}
