//! An independent, deliberately simple and slow reference decoder for
//! sequential Huffman JPEG (T.81 annex F), written for the tests only.
//!
//! It parses the marker segments itself, walks the entropy-coded data bit by
//! bit, and records for every file byte which of its bits are Huffman-code
//! bits and which are additional bits (and, through a caller predicate,
//! which additional bits are "selected"). It also decodes every quantized
//! coefficient (zigzag order, absolute DC) and finds embedded JPEGs in APPn
//! payloads and after EOI.

use std::collections::HashMap;

/// Where an image was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Primary,
    /// In the payload of the APPn segment (marker) starting at `seg`.
    InApp {
        marker: u8,
        seg: usize,
    },
    AfterEoi,
}

#[derive(Debug, Clone)]
pub struct Comp {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    pub tq: u8,
    /// Padded grid (mcus_x * h, mcus_y * v).
    pub bw: usize,
    pub bh: usize,
    /// Blocks when coded alone.
    pub nbw: usize,
    pub nbh: usize,
    /// Coefficients per padded-grid block, zigzag order, absolute DC.
    pub coefs: Vec<[i32; 64]>,
}

impl Comp {
    pub fn block(&self, bx: usize, by: usize) -> &[i32; 64] {
        &self.coefs[by * self.bw + bx]
    }
}

#[derive(Debug, Clone)]
pub struct Image {
    pub start: usize,
    /// Just past EOI.
    pub end: usize,
    pub loc: Loc,
    pub width: usize,
    pub height: usize,
    pub hmax: usize,
    pub vmax: usize,
    pub mcus_x: usize,
    pub mcus_y: usize,
    pub comps: Vec<Comp>,
    pub restart_interval: usize,
    pub scans: usize,
    /// Additional bits, and those the paper / full rules may touch.
    pub additional: u64,
    pub eligible_paper: u64,
    pub eligible_full: u64,
}

impl Image {
    /// Pixel rectangle [x0,x1) x [y0,y1) of block (bx, by) of component c,
    /// clipped; empty for padding blocks.
    pub fn block_rect(&self, c: usize, bx: usize, by: usize) -> (usize, usize, usize, usize) {
        let sx = self.hmax / self.comps[c].h;
        let sy = self.vmax / self.comps[c].v;
        let x0 = (bx * 8 * sx).min(self.width);
        let x1 = ((bx + 1) * 8 * sx).min(self.width);
        let y0 = (by * 8 * sy).min(self.height);
        let y1 = ((by + 1) * 8 * sy).min(self.height);
        (x0, y0, x1, y1)
    }
}

/// Per file byte classification, over the whole file (all images).
#[derive(Debug, Clone)]
pub struct Classes {
    /// Huffman-code bits (MSB = first bit).
    pub huff: Vec<u8>,
    /// Additional bits.
    pub add: Vec<u8>,
    /// Additional bits for which the caller's predicate said yes.
    pub sel: Vec<u8>,
    /// Byte is a data byte of entropy-coded data.
    pub data: Vec<bool>,
}

#[derive(Debug)]
pub struct RefFile {
    pub images: Vec<Image>,
    pub classes: Classes,
}

/// Predicate over an additional-bit run: (image index, component index,
/// block x, block y, zigzag index k).
pub type Pred<'a> = &'a dyn Fn(usize, usize, usize, usize, usize) -> bool;

struct Huff {
    /// (length, code) -> symbol
    map: HashMap<(u8, u16), u8>,
}

impl Huff {
    fn build(counts: &[u8; 16], syms: &[u8]) -> Result<Huff, String> {
        let mut map = HashMap::new();
        let mut code: u32 = 0;
        let mut si = 0;
        for (l, &n) in counts.iter().enumerate() {
            let len = l + 1;
            for _ in 0..n {
                if code >= (1u32 << len) {
                    return Err("over-subscribed Huffman table".into());
                }
                map.insert((len as u8, code as u16), syms[si]);
                si += 1;
                code += 1;
            }
            code <<= 1;
        }
        Ok(Huff { map })
    }
}

struct Bits<'a> {
    d: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Offset of the byte the bits come from.
    cur: usize,
    val: u8,
    left: u8,
}

impl<'a> Bits<'a> {
    fn new(d: &'a [u8], pos: usize) -> Self {
        Bits {
            d,
            pos,
            cur: 0,
            val: 0,
            left: 0,
        }
    }
    /// One bit: (bit, file offset, mask).
    fn bit(&mut self) -> Result<(u32, usize, u8), String> {
        if self.left == 0 {
            let b = *self
                .d
                .get(self.pos)
                .ok_or("entropy data runs off the end")?;
            if b == 0xFF {
                let b2 = *self
                    .d
                    .get(self.pos + 1)
                    .ok_or("entropy data runs off the end")?;
                if b2 != 0 {
                    return Err(format!("marker FF{b2:02X} inside a block"));
                }
                self.cur = self.pos;
                self.pos += 2;
            } else {
                self.cur = self.pos;
                self.pos += 1;
            }
            self.val = b;
            self.left = 8;
        }
        self.left -= 1;
        let mask = 1u8 << self.left;
        Ok((((self.val & mask) != 0) as u32, self.cur, mask))
    }
    /// Drop the rest of the current byte (padding).
    fn align(&mut self) {
        self.left = 0;
    }
}

fn be16(d: &[u8], i: usize) -> Result<usize, String> {
    if i + 2 > d.len() {
        return Err("truncated".into());
    }
    Ok(u16::from_be_bytes([d[i], d[i + 1]]) as usize)
}

struct Ctx<'a> {
    d: &'a [u8],
    cl: &'a mut Classes,
    pred: Pred<'a>,
    images: Vec<Image>,
}

/// Classify the whole file: the primary image at 0 and every embedded JPEG.
pub fn classify(d: &[u8], pred: Pred<'_>) -> Result<RefFile, String> {
    let mut cl = Classes {
        huff: vec![0; d.len()],
        add: vec![0; d.len()],
        sel: vec![0; d.len()],
        data: vec![false; d.len()],
    };
    let images = {
        let mut ctx = Ctx {
            d,
            cl: &mut cl,
            pred,
            images: Vec::new(),
        };
        let end = parse_image(&mut ctx, 0, d.len(), Loc::Primary, 0)?;
        // After EOI: any decodable JPEG.
        let mut p = end;
        while let Some(q) = find_soi(d, p, d.len()) {
            let snapshot = ctx.images.len();
            match parse_image(&mut ctx, q, d.len(), Loc::AfterEoi, 1) {
                Ok(e) => p = e,
                Err(_) => {
                    ctx.images.truncate(snapshot);
                    p = q + 1;
                }
            }
        }
        ctx.images
    };
    Ok(RefFile {
        images,
        classes: cl,
    })
}

/// Classify with every additional bit selected.
pub fn classify_all(d: &[u8]) -> Result<RefFile, String> {
    classify(d, &|_, _, _, _, _| true)
}

fn find_soi(d: &[u8], from: usize, to: usize) -> Option<usize> {
    (from..to.saturating_sub(2)).find(|&i| d[i] == 0xFF && d[i + 1] == 0xD8 && d[i + 2] == 0xFF)
}

/// Parse one image starting at `start` (SOI) that must end by `limit`.
/// Returns the offset just past its EOI. Classification of a failed image
/// is rolled back by the caller only for the image list; its byte classes
/// may remain set (callers then treat the region as unknown).
fn parse_image<'a>(
    ctx: &mut Ctx<'a>,
    start: usize,
    limit: usize,
    loc: Loc,
    depth: u32,
) -> Result<usize, String> {
    let full: &'a [u8] = ctx.d;
    let d = &full[..limit];
    if d.len() < start + 2 || d[start] != 0xFF || d[start + 1] != 0xD8 {
        return Err("no SOI".into());
    }
    let my_index = ctx.images.len();
    ctx.images.push(Image {
        start,
        end: start,
        loc,
        width: 0,
        height: 0,
        hmax: 1,
        vmax: 1,
        mcus_x: 0,
        mcus_y: 0,
        comps: Vec::new(),
        restart_interval: 0,
        scans: 0,
        additional: 0,
        eligible_paper: 0,
        eligible_full: 0,
    });
    let mut dc: [Option<Huff>; 4] = Default::default();
    let mut ac: [Option<Huff>; 4] = Default::default();
    let mut p = start + 2;
    let mut have_frame = false;
    let mut byte_changes: Vec<(usize, u8, u8, u8)> = Vec::new();
    loop {
        if p + 2 > d.len() {
            return Err("ends before EOI".into());
        }
        if d[p] != 0xFF {
            return Err(format!("expected marker at {p}"));
        }
        let m = d[p + 1];
        if m == 0xFF {
            p += 1;
            continue;
        }
        if m == 0xD9 {
            if ctx.images[my_index].scans == 0 {
                return Err("EOI before scan".into());
            }
            p += 2;
            break;
        }
        if m == 0xD8 || m == 0x00 || (0xD0..=0xD7).contains(&m) {
            return Err(format!("unexpected marker FF{m:02X}"));
        }
        let len = be16(d, p + 2)?;
        if len < 2 || p + 2 + len > d.len() {
            return Err("bad segment length".into());
        }
        let body = &d[p + 4..p + 2 + len];
        match m {
            0xC4 => {
                let mut q = 0;
                while q < body.len() {
                    let tc = body[q] >> 4;
                    let th = (body[q] & 15) as usize;
                    if q + 17 > body.len() || tc > 1 || th > 3 {
                        return Err("bad DHT".into());
                    }
                    let mut counts = [0u8; 16];
                    counts.copy_from_slice(&body[q + 1..q + 17]);
                    let n: usize = counts.iter().map(|&c| c as usize).sum();
                    if q + 17 + n > body.len() || n > 256 {
                        return Err("bad DHT".into());
                    }
                    let t = Huff::build(&counts, &body[q + 17..q + 17 + n])?;
                    if tc == 0 {
                        dc[th] = Some(t);
                    } else {
                        ac[th] = Some(t);
                    }
                    q += 17 + n;
                }
            }
            0xC0 | 0xC1 => {
                if have_frame {
                    return Err("second SOF".into());
                }
                have_frame = true;
                if body.len() < 6 || body[0] != 8 {
                    return Err("bad SOF".into());
                }
                let height = be16(body, 1)?;
                let width = be16(body, 3)?;
                let nf = body[5] as usize;
                if width == 0 || height == 0 || nf == 0 || nf > 4 || body.len() != 6 + 3 * nf {
                    return Err("bad SOF".into());
                }
                let mut comps = Vec::new();
                for i in 0..nf {
                    let h = (body[7 + 3 * i] >> 4) as usize;
                    let v = (body[7 + 3 * i] & 15) as usize;
                    if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                        return Err("bad sampling".into());
                    }
                    comps.push(Comp {
                        id: body[6 + 3 * i],
                        h,
                        v,
                        tq: body[8 + 3 * i],
                        bw: 0,
                        bh: 0,
                        nbw: 0,
                        nbh: 0,
                        coefs: Vec::new(),
                    });
                }
                let hmax = comps.iter().map(|c| c.h).max().unwrap();
                let vmax = comps.iter().map(|c| c.v).max().unwrap();
                let mcus_x = width.div_ceil(8 * hmax);
                let mcus_y = height.div_ceil(8 * vmax);
                if mcus_x * mcus_y * nf * 16 > 4_000_000 * 16 {
                    return Err("too big for the reference decoder".into());
                }
                for c in &mut comps {
                    c.bw = mcus_x * c.h;
                    c.bh = mcus_y * c.v;
                    c.nbw = (width * c.h).div_ceil(hmax).div_ceil(8);
                    c.nbh = (height * c.v).div_ceil(vmax).div_ceil(8);
                    c.coefs = vec![[0; 64]; c.bw * c.bh];
                }
                let im = &mut ctx.images[my_index];
                im.width = width;
                im.height = height;
                im.hmax = hmax;
                im.vmax = vmax;
                im.mcus_x = mcus_x;
                im.mcus_y = mcus_y;
                im.comps = comps;
            }
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err("not sequential Huffman".into())
            }
            0xDD => {
                if body.len() != 2 {
                    return Err("bad DRI".into());
                }
                ctx.images[my_index].restart_interval = be16(body, 0)?;
            }
            0xDA => {
                if !have_frame {
                    return Err("SOS before SOF".into());
                }
                let ns = *body.first().ok_or("bad SOS")? as usize;
                if ns == 0 || ns > 4 || body.len() != 4 + 2 * ns {
                    return Err("bad SOS".into());
                }
                let mut sc = Vec::new();
                for j in 0..ns {
                    let id = body[1 + 2 * j];
                    let ci = ctx.images[my_index]
                        .comps
                        .iter()
                        .position(|c| c.id == id)
                        .ok_or("scan component not in frame")?;
                    let td = (body[2 + 2 * j] >> 4) as usize;
                    let ta = (body[2 + 2 * j] & 15) as usize;
                    if td > 3 || ta > 3 || dc[td].is_none() || ac[ta].is_none() {
                        return Err("missing Huffman table".into());
                    }
                    sc.push((ci, td, ta));
                }
                ctx.images[my_index].scans += 1;
                p = decode_scan(
                    ctx,
                    my_index,
                    d,
                    p + 2 + len,
                    &sc,
                    &dc,
                    &ac,
                    &mut byte_changes,
                )?;
                continue;
            }
            0xE0..=0xEF if depth < 4 => {
                // Embedded JPEGs in the payload.
                let (a, b) = (p + 4, p + 2 + len);
                let mut q = a;
                while let Some(s) = find_soi(full, q, b) {
                    let snapshot = ctx.images.len();
                    match parse_image(ctx, s, b, Loc::InApp { marker: m, seg: p }, depth + 1) {
                        Ok(e) => q = e,
                        Err(_) => {
                            ctx.images.truncate(snapshot);
                            q = s + 1;
                        }
                    }
                }
            }
            _ => {}
        }
        p += 2 + len;
    }
    // Success: commit the byte classes of this image.
    let im = &mut ctx.images[my_index];
    im.end = p;
    for (off, h, a, s) in byte_changes {
        ctx.cl.huff[off] |= h;
        ctx.cl.add[off] |= a;
        ctx.cl.sel[off] |= s;
        ctx.cl.data[off] = true;
    }
    Ok(p)
}

/// Decode one scan whose data starts at `p`; returns the offset of the
/// marker that ends it.
#[allow(clippy::too_many_arguments)]
fn decode_scan(
    ctx: &mut Ctx<'_>,
    ii: usize,
    d: &[u8],
    p: usize,
    sc: &[(usize, usize, usize)],
    dc: &[Option<Huff>; 4],
    ac: &[Option<Huff>; 4],
    out: &mut Vec<(usize, u8, u8, u8)>,
) -> Result<usize, String> {
    let pred = ctx.pred;
    let im = &mut ctx.images[ii];
    let ri = im.restart_interval;
    let interleaved = sc.len() > 1;
    let (mx_n, total) = if interleaved {
        (im.mcus_x, im.mcus_x * im.mcus_y)
    } else {
        let c = &im.comps[sc[0].0];
        (c.nbw, c.nbw * c.nbh)
    };
    // Per byte (offset -> (huff, add, sel)) for this scan.
    let mut bytes: Vec<(usize, u8, u8, u8)> = Vec::new();
    let mut note = |off: usize, mask: u8, class: u8, selected: bool| {
        if bytes.last().map(|b| b.0) != Some(off) {
            bytes.push((off, 0, 0, 0));
        }
        let e = bytes.last_mut().unwrap();
        if class == 0 {
            e.1 |= mask;
        } else {
            e.2 |= mask;
            if selected {
                e.3 |= mask;
            }
        }
    };
    let mut br = Bits::new(d, p);
    let mut preds = [0i32; 4];
    let mut next_rst = 0u8;
    let mut mcu = 0;
    let (mut additional, mut ep, mut ef) = (0u64, 0u64, 0u64);
    while mcu < total {
        if ri > 0 && mcu > 0 && mcu % ri == 0 {
            br.align();
            let q = br.pos;
            if q + 1 >= d.len() || d[q] != 0xFF || d[q + 1] != 0xD0 + next_rst {
                return Err(format!("expected RST{next_rst} at {q}"));
            }
            next_rst = (next_rst + 1) & 7;
            br = Bits::new(d, q + 2);
            preds = [0; 4];
        }
        let (mx, my) = (mcu % mx_n, mcu / mx_n);
        for (si, &(ci, td, ta)) in sc.iter().enumerate() {
            let (h, v) = if interleaved {
                (im.comps[ci].h, im.comps[ci].v)
            } else {
                (1, 1)
            };
            for by in 0..v {
                for bx in 0..h {
                    let (gx, gy) = (mx * h + bx, my * v + by);
                    let mut blk = [0i32; 64];
                    // DC
                    let t = decode_sym(&mut br, dc[td].as_ref().unwrap(), &mut note)?;
                    if t > 11 {
                        return Err("DC category > 11".into());
                    }
                    let sel = pred(ii, ci, gx, gy, 0);
                    let diff = receive(&mut br, t as u32, &mut note, sel)?;
                    preds[si] += diff;
                    blk[0] = preds[si];
                    let mut k = 1;
                    while k < 64 {
                        let rs = decode_sym(&mut br, ac[ta].as_ref().unwrap(), &mut note)?;
                        let (r, s) = ((rs >> 4) as usize, (rs & 15) as u32);
                        if s == 0 {
                            if r == 15 {
                                k += 16;
                                continue;
                            }
                            break;
                        }
                        k += r;
                        if k > 63 {
                            return Err("AC index past 63".into());
                        }
                        let sel = pred(ii, ci, gx, gy, k);
                        blk[k] = receive(&mut br, s, &mut note, sel)?;
                        k += 1;
                    }
                    let c = &mut im.comps[ci];
                    if gx < c.bw && gy < c.bh {
                        c.coefs[gy * c.bw + gx] = blk;
                    }
                }
            }
        }
        mcu += 1;
    }
    // Find the terminating marker right after the last data byte.
    br.align();
    let q = br.pos;
    if q + 1 >= d.len() || d[q] != 0xFF || d[q + 1] == 0 {
        return Err(format!("no marker right after the scan data at {q}"));
    }
    for &(off, h, a, _) in &bytes {
        let n = a.count_ones() as u64;
        additional += n;
        if h & !d[off] != 0 {
            ep += n;
        }
        if d[off] != 0xFF {
            ef += n;
        }
    }
    im.additional += additional;
    im.eligible_paper += ep;
    im.eligible_full += ef;
    out.extend(bytes);
    Ok(q)
}

fn decode_sym(
    br: &mut Bits<'_>,
    t: &Huff,
    note: &mut impl FnMut(usize, u8, u8, bool),
) -> Result<u8, String> {
    let mut code: u16 = 0;
    for len in 1..=16u8 {
        let (b, off, mask) = br.bit()?;
        note(off, mask, 0, false);
        code = (code << 1) | b as u16;
        if let Some(&s) = t.map.get(&(len, code)) {
            return Ok(s);
        }
    }
    Err("invalid Huffman code".into())
}

fn receive(
    br: &mut Bits<'_>,
    s: u32,
    note: &mut impl FnMut(usize, u8, u8, bool),
    sel: bool,
) -> Result<i32, String> {
    let mut v: i32 = 0;
    for _ in 0..s {
        let (b, off, mask) = br.bit()?;
        note(off, mask, 1, sel);
        v = (v << 1) | b as i32;
    }
    if s > 0 && v < (1 << (s - 1)) {
        v -= (1 << s) - 1;
    }
    Ok(v)
}

/// Zigzag index -> natural (row-major) index.
pub const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
