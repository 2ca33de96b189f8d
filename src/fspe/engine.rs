//! The file-level engine: the primary image, JPEGs embedded in APPn payloads
//! (recursively, processed in place when their segment is complete), and
//! JPEGs stored after the primary image's EOI. It runs over a window of the
//! input (whole buffer or a stream's bounded window) and releases bytes in
//! order once they are final: hashing them (digest mode) or transforming them
//! (cipher mode).

use sha2::{Digest, Sha256};

use super::metadata::{self, MetaCipher, MetaRange};
use super::select::{SelectVisit, Selector};
use super::transform::ImageCipher;
use super::{ImageReport, Location, Options, Report, Seed};
use crate::jpeg::{marker, ImageWalker, Progress};
use crate::{Error, Result};

/// Builds the ciphers of cipher mode.
pub(crate) struct CipherFactory {
    /// The cipher of the image whose SOI is at the given absolute offset.
    pub image: Box<dyn Fn(u64) -> ImageCipher + Send + Sync>,
    /// The metadata cipher of the APP1 segment at the given absolute offset
    /// (`None` when metadata is not transformed by this operation).
    pub metadata: Box<dyn Fn(u64) -> Option<MetaCipher> + Send + Sync>,
}

/// What the engine does with released bytes.
pub(crate) enum Mode {
    /// Hash the invariant bytes (selected bits cleared).
    Digest(Sha256),
    /// Transform the selected bits.
    Cipher(CipherFactory),
}

const DIGEST_LABEL: &[u8] = b"jsec/fspe/v1/digest";

impl Mode {
    /// Digest mode, the hash primed with the format's label.
    pub(crate) fn digest() -> Mode {
        let mut h = Sha256::new();
        h.update(DIGEST_LABEL);
        Mode::Digest(h)
    }

    /// The cipher factory in cipher mode.
    fn factory(&self) -> Option<&CipherFactory> {
        match self {
            Mode::Cipher(f) => Some(f),
            Mode::Digest(_) => None,
        }
    }
}

/// Embedded images inside embedded images are followed this deep.
const MAX_DEPTH: u8 = 3;

/// Per image: SOI offset and the byte spans of its entropy-coded data.
pub(crate) type Spans = Vec<(u64, Vec<(u64, u64)>)>;

struct Job {
    walker: ImageWalker,
    sel: Selector,
    location: Location,
    cipher: Option<ImageCipher>,
}

impl Job {
    fn new(options: &Options, at: u64, location: Location, mode: Option<&CipherFactory>) -> Job {
        Job {
            walker: ImageWalker::new(at),
            sel: Selector::new(options, location == Location::Primary),
            location,
            cipher: mode.map(|f| (f.image)(at)),
        }
    }

    fn report(&self, end: u64, problem: Option<String>) -> ImageReport {
        let frame = self.sel.frame();
        ImageReport {
            offset: self.walker.start(),
            end,
            location: self.location,
            width: frame.map_or(0, |f| f.width),
            height: frame.map_or(0, |f| f.height),
            sampling: frame.map_or_else(Vec::new, |f| {
                f.components.iter().map(|c| (c.id, c.h, c.v)).collect()
            }),
            scans: self.walker.scans(),
            restart_interval: self.walker.restart_interval(),
            stats: self.sel.stats,
            problem,
        }
    }

    /// The entropy-coded spans, clipped to `end`: when parsing stopped at an
    /// error, bytes at or after the stopping point are never transformed (the
    /// walker may already have reported the byte holding the last bits).
    fn spans(&self, end: u64) -> Vec<(u64, u64)> {
        self.sel
            .spans
            .iter()
            .map(|&(a, b)| (a, b.min(end)))
            .filter(|s| s.0 < s.1)
            .collect()
    }
}

/// Reports, warnings and spans gathered from nested images and metadata.
#[derive(Default)]
struct Collected {
    images: Vec<ImageReport>,
    warnings: Vec<(u64, String)>,
    spans: Spans,
    metadata: Vec<metadata::MetadataField>,
    meta_ranges: Vec<MetaRange>,
}

enum Phase {
    Image(Box<Job>),
    Trailer,
    Done,
}

pub(crate) struct Engine {
    options: Options,
    mode: Mode,
    phase: Phase,
    /// Every byte before this absolute offset has been released.
    done: u64,
    /// Next trailer byte to examine for an embedded SOI.
    trailer_pos: u64,
    report: Report,
    spans: Spans,
    meta_ranges: Vec<MetaRange>,
}

/// Does `w[i..]` start a plausible embedded JPEG (SOI then a marker that can
/// follow it)?
fn is_candidate(w: &[u8], i: usize) -> bool {
    w.len() >= i + 4
        && w[i] == 0xFF
        && w[i + 1] == marker::SOI
        && w[i + 2] == 0xFF
        && matches!(w[i + 3], 0xE0..=0xEF | 0xDB | 0xC4 | 0xC0..=0xC3 | 0xDD | 0xFE)
}

fn find_candidate(w: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 4 <= w.len() {
        match memchr_ff(&w[i..]) {
            Some(j) => {
                if is_candidate(w, i + j) {
                    return Some(i + j);
                }
                i += j + 1;
            }
            None => return None,
        }
    }
    None
}

#[inline]
fn memchr_ff(w: &[u8]) -> Option<usize> {
    w.iter().position(|&b| b == 0xFF)
}

/// Handle an APPn segment of an image: encrypt (cipher mode) or mask (digest
/// mode) every JPEG embedded in its payload.
#[allow(clippy::too_many_arguments)]
fn nested_segment(
    options: &Options,
    cipher: Option<&CipherFactory>,
    depth: u8,
    m: u8,
    offset: u64,
    seg: &mut [u8],
    masks: [&mut [u8]; 3],
    out: &mut Collected,
) -> Result<()> {
    if !marker::is_app(m) || depth > MAX_DEPTH || seg.len() < 8 {
        return Ok(());
    }
    let [m0, m1, m2] = masks;
    let payload = &mut seg[4..];
    let (m0, m1, m2) = (&mut m0[4..], &mut m1[4..], &mut m2[4..]);
    let plan = if m == marker::APP0 + 1 {
        if options.metadata.location && metadata::xmp_mentions_gps(payload) {
            out.warnings.push((
                offset,
                format!(
                    "the XMP packet in APP1 at offset {offset} mentions a GPS position, \
                     which EXIF enciphering does not cover (docs/fspe.md, section 12.6)"
                ),
            ));
        }
        metadata::plan(&options.metadata, offset, payload)
    } else {
        None
    };
    // The report lists this segment's fields before those of segments
    // nested in its payload (file order).
    let first_field = out.metadata.len();
    if let Some(p) = &plan {
        out.metadata.extend(p.fields.iter().cloned());
    }
    let whole = [(0, payload.len())];
    let gaps = plan
        .as_ref()
        .and_then(|p| p.gaps.as_deref())
        .unwrap_or(&whole);
    for &(gap_start, gap_end) in gaps {
        embedded_in(
            options,
            cipher,
            depth,
            m,
            offset,
            &mut payload[..gap_end],
            [&mut m0[..gap_end], &mut m1[..gap_end], &mut m2[..gap_end]],
            gap_start,
            out,
        );
    }
    if let Some(plan) = plan {
        let base = offset + 4;
        // Disjoint from every gap, so the order with the embedded images
        // does not matter.
        let span = |r: &MetaRange| {
            (
                (r.offset - base) as usize,
                (r.offset - base + r.len) as usize,
            )
        };
        match cipher {
            // Digest mode: the value bytes change, keep them out of the digest.
            None => {
                for r in &plan.ranges {
                    let (a, b) = span(r);
                    m0[a..b].fill(0xFF);
                }
            }
            Some(f) => match (f.metadata)(offset) {
                Some(mut mc) => {
                    for r in &plan.ranges {
                        let (a, b) = span(r);
                        mc.apply(r, &mut payload[a..b]);
                    }
                }
                // Not the master key: the values stay as they are.
                None => out.metadata[first_field..][..plan.fields.len()]
                    .iter_mut()
                    .for_each(|f| f.transformed = false),
            },
        }
        for pr in plan.problems {
            out.warnings
                .push((offset, format!("EXIF in APP1 at offset {offset}: {pr}")));
        }
        for f in &plan.fields {
            if let Some(pr) = &f.problem {
                out.warnings.push((
                    offset,
                    format!(
                        "EXIF {} ({} IFD) in APP1 at offset {offset} left unchanged: {pr}",
                        f.name,
                        f.ifd.name(),
                    ),
                ));
            }
        }
        out.meta_ranges.extend(plan.ranges);
    }
    Ok(())
}

/// Find, parse and encrypt (cipher mode) or mask (digest mode) the JPEGs
/// embedded in `payload[from..]` (an APPn payload, cut at the end of the
/// range where embedded images may be).
#[allow(clippy::too_many_arguments)]
fn embedded_in(
    options: &Options,
    cipher: Option<&CipherFactory>,
    depth: u8,
    m: u8,
    offset: u64,
    payload: &mut [u8],
    masks: [&mut [u8]; 3],
    mut from: usize,
    out: &mut Collected,
) {
    let [m0, m1, m2] = masks;
    while let Some(p) = find_candidate(payload, from) {
        let at = offset + 4 + p as u64;
        let mut job = Job::new(
            options,
            at,
            Location::InSegment {
                marker: m,
                segment: offset,
            },
            cipher,
        );
        let mut inner = Collected::default();
        let (w, a0, a1, a2) = (&mut payload[p..], &mut m0[p..], &mut m1[p..], &mut m2[p..]);
        let result = {
            let mut visit = SelectVisit {
                sel: &mut job.sel,
                masks: [&mut *a0, &mut *a1, &mut *a2],
                base: at,
                on_segment: |mm, off, s: &mut [u8], ms: [&mut [u8]; 3]| {
                    nested_segment(options, cipher, depth + 1, mm, off, s, ms, &mut inner)
                },
                warnings: &mut out.warnings,
            };
            job.walker.advance(w, at, true, &mut visit)
        };
        let (end, problem) = match result {
            Ok(Progress::Done) => (job.walker.end(), None),
            Ok(Progress::NeedMore) => (
                job.walker.committed(),
                Some("truncated inside its segment".to_string()),
            ),
            Err(e) => (job.walker.committed().max(at), Some(e.to_string())),
        };
        let len = (end - at) as usize;
        // Nothing at or after where this image stopped belongs to it.
        a0[len..].fill(0);
        a1[len..].fill(0);
        a2[len..].fill(0);
        if let Some(c) = job.cipher.as_mut() {
            c.apply(&mut w[..len], [&a0[..len], &a1[..len], &a2[..len]], at);
            // Done here; the enclosing image must not touch these bytes.
            a0[..len].fill(0);
            a1[..len].fill(0);
            a2[..len].fill(0);
        }
        if let Some(pr) = &problem {
            out.warnings.push((
                at,
                format!(
                    "embedded JPEG at offset {at} (in {}) not fully encrypted: {pr}",
                    marker::name(m)
                ),
            ));
        }
        out.images.push(job.report(end, problem));
        out.spans.push((at, job.spans(end)));
        out.images.append(&mut inner.images);
        out.warnings.append(&mut inner.warnings);
        out.spans.append(&mut inner.spans);
        out.metadata.append(&mut inner.metadata);
        out.meta_ranges.append(&mut inner.meta_ranges);
        from = p + len.max(1);
    }
}

/// Explain, once per file, that region mode left DC values in clear.
fn dc_kept_warning(r: &ImageReport) -> String {
    let n = r.stats.dc_kept_for_region;
    if r.restart_interval == 1 {
        let hmax = r.sampling.iter().map(|c| c.1).max().unwrap_or(1) as u32;
        let vmax = r.sampling.iter().map(|c| c.2).max().unwrap_or(1) as u32;
        return format!(
            "region: the DC (average colour) of {n} blocks on the region's border stays in \
             clear, because their MCU also covers pixels outside the region; align the region \
             to the {}x{}-pixel MCU grid to avoid it (docs/fspe.md, section 3)",
            8 * hmax,
            8 * vmax
        );
    }
    let interval = match r.restart_interval {
        0 => "has no restart markers".to_string(),
        ri => format!("has a restart marker only every {ri} MCUs"),
    };
    format!(
        "region: the DC (average colour) of {n} selected blocks stays in clear, because \
         changing it would change blocks outside the region and the file {interval}; the \
         region shows a mosaic of 8x8-pixel average colours. Add a restart marker after every \
         MCU first (losslessly: jpegtran -restart 1B) to hide it (docs/fspe.md, section 3)"
    )
}

impl Engine {
    pub(crate) fn new(options: &Options, mode: Mode) -> Engine {
        let cipher = mode.factory();
        let job = Job::new(options, 0, Location::Primary, cipher);
        Engine {
            options: options.clone(),
            mode,
            phase: Phase::Image(Box::new(job)),
            done: 0,
            trailer_pos: 0,
            report: Report::default(),
            spans: Vec::new(),
            meta_ranges: Vec::new(),
        }
    }

    /// True once the whole input has been processed.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// Release `[done, upto)`: hash or transform it. (A free function over
    /// the engine's disjoint fields, so it can run while a job is borrowed.)
    #[allow(clippy::too_many_arguments)]
    fn release(
        mode: &mut Mode,
        job: Option<&mut Job>,
        w: &mut [u8],
        masks: &[&mut [u8]; 3],
        base: u64,
        done: &mut u64,
        upto: u64,
        levels: bool,
    ) {
        if upto <= *done {
            return;
        }
        let (a, b) = ((*done - base) as usize, (upto - base) as usize);
        match mode {
            Mode::Digest(h) => {
                let mut buf = [0u8; 4096];
                let mut i = a;
                while i < b {
                    let n = (b - i).min(buf.len());
                    let out = &mut buf[..n];
                    for (o, (&x, &m)) in out
                        .iter_mut()
                        .zip(w[i..i + n].iter().zip(&masks[0][i..i + n]))
                    {
                        *o = x & !m;
                    }
                    if levels {
                        for (o, (&m1, &m2)) in out
                            .iter_mut()
                            .zip(masks[1][i..i + n].iter().zip(&masks[2][i..i + n]))
                        {
                            *o &= !(m1 | m2);
                        }
                    }
                    h.update(&buf[..n]);
                    i += n;
                }
            }
            Mode::Cipher(_) => {
                if let Some(c) = job.and_then(|j| j.cipher.as_mut()) {
                    c.apply(
                        &mut w[a..b],
                        [&masks[0][a..b], &masks[1][a..b], &masks[2][a..b]],
                        *done,
                    );
                }
            }
        }
        *done = upto;
    }

    /// Advance over window `w` (absolute offset `base`, masks parallel to it).
    /// Returns the absolute offset up to which bytes are released (final).
    pub(crate) fn advance(
        &mut self,
        w: &mut [u8],
        mut masks: [&mut [u8]; 3],
        base: u64,
        last: bool,
    ) -> Result<u64> {
        let Engine {
            options,
            mode,
            phase,
            done,
            trailer_pos,
            report,
            spans,
            meta_ranges,
        } = self;
        loop {
            match phase {
                Phase::Image(job) => {
                    let mut nested = Collected::default();
                    let result = {
                        let cipher = mode.factory();
                        let opts = &*options;
                        let [m0, m1, m2] = &mut masks;
                        let mut visit = SelectVisit {
                            sel: &mut job.sel,
                            masks: [&mut **m0, &mut **m1, &mut **m2],
                            base,
                            on_segment: |m, off, s: &mut [u8], ms: [&mut [u8]; 3]| {
                                nested_segment(opts, cipher, 1, m, off, s, ms, &mut nested)
                            },
                            warnings: &mut report.warnings,
                        };
                        job.walker.advance(w, base, last, &mut visit)
                    };
                    report.images.extend(nested.images);
                    report.warnings.extend(nested.warnings);
                    report.metadata.extend(nested.metadata);
                    spans.extend(nested.spans);
                    meta_ranges.extend(nested.meta_ranges);
                    let primary = job.location == Location::Primary;
                    let (end, problem) = match result {
                        Ok(Progress::NeedMore) => {
                            let c = job.walker.committed();
                            Self::release(
                                mode,
                                Some(job),
                                w,
                                &masks,
                                base,
                                done,
                                c,
                                options.levels,
                            );
                            return Ok(*done);
                        }
                        Ok(Progress::Done) => (job.walker.end(), None),
                        Err(e) if primary => return Err(e),
                        // An embedded image after EOI that cannot be parsed to
                        // its end is processed up to where parsing stopped.
                        Err(e) => (job.walker.committed().max(job.walker.start() + 1), Some(e)),
                    };
                    Self::release(mode, Some(job), w, &masks, base, done, end, options.levels);
                    let at = job.walker.start();
                    if problem.is_some() {
                        // Masks the walker wrote at or after the stopping
                        // point belong to nothing: clear them.
                        let from = ((end - base) as usize).min(w.len());
                        for m in masks.iter_mut() {
                            if let Some(tail) = m.get_mut(from..) {
                                tail.fill(0);
                            }
                        }
                    }
                    let r = job.report(end, problem.as_ref().map(|e| e.to_string()));
                    if let Some(e) = &problem {
                        report.warnings.push((
                            at,
                            format!(
                                "embedded JPEG at offset {at} (after EOI) not fully encrypted: {e}"
                            ),
                        ));
                    }
                    if primary && r.stats.dc_kept_for_region > 0 {
                        report.warnings.push((0, dc_kept_warning(&r)));
                    }
                    if primary {
                        report.images.insert(0, r);
                    } else {
                        report.images.push(r);
                    }
                    spans.push((at, job.spans(end)));
                    *trailer_pos = end;
                    *phase = Phase::Trailer;
                }
                Phase::Trailer => {
                    let from = (*trailer_pos - base) as usize;
                    match find_candidate(w, from) {
                        Some(p) => {
                            let at = base + p as u64;
                            report.trailing_bytes += at - *done;
                            Self::release(mode, None, w, &masks, base, done, at, options.levels);
                            let cipher = mode.factory();
                            *phase = Phase::Image(Box::new(Job::new(
                                options,
                                at,
                                Location::AfterEoi,
                                cipher,
                            )));
                        }
                        None => {
                            let end = base + w.len() as u64;
                            // An SOI could straddle the window end: hold 3 bytes back.
                            let safe = if last {
                                end
                            } else {
                                end.saturating_sub(3).max(*done)
                            };
                            report.trailing_bytes += safe - *done;
                            Self::release(mode, None, w, &masks, base, done, safe, options.levels);
                            *trailer_pos = safe;
                            if last {
                                *phase = Phase::Done;
                            }
                            return Ok(*done);
                        }
                    }
                }
                Phase::Done => {
                    let end = base + w.len() as u64;
                    if end > *done {
                        report.trailing_bytes += end - *done;
                        Self::release(mode, None, w, &masks, base, done, end, options.levels);
                    }
                    return Ok(*done);
                }
            }
        }
    }

    /// Finish a digest-mode engine that has seen the whole input.
    pub(crate) fn finish_digest(self) -> Result<(Seed, Report, Spans, Vec<MetaRange>)> {
        if !self.is_done() {
            return Err(Error::malformed_at(
                self.done,
                "truncated: input ended before the image was complete",
            ));
        }
        match self.mode {
            Mode::Digest(h) => Ok((
                h.finalize().into(),
                self.report,
                self.spans,
                self.meta_ranges,
            )),
            Mode::Cipher(_) => Err(Error::new(
                crate::ErrorKind::Internal,
                "finish_digest on a cipher engine",
            )),
        }
    }

    /// The digest of a finished digest-mode engine (for streams).
    pub(crate) fn seed(&self) -> Option<Seed> {
        match (&self.mode, self.is_done()) {
            (Mode::Digest(h), true) => Some(h.clone().finalize().into()),
            _ => None,
        }
    }

    /// Take the report out of a finished engine (a stream's). A digest
    /// stream transforms nothing, so its report marks no EXIF value as
    /// transformed.
    pub(crate) fn take_report(&mut self) -> Report {
        let mut r = std::mem::take(&mut self.report);
        if matches!(self.mode, Mode::Digest(_)) {
            for f in &mut r.metadata {
                f.transformed = false;
            }
        }
        r
    }
}
