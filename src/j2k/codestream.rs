//! The JPEG 2000 codestream (ISO/IEC 15444-1 Annex A): main header, tile-part
//! headers and tile-part data, read into a map that keeps every byte's place,
//! so that an unchanged codestream is written back identical and a changed
//! one (a transcoder dropping packets) only rewrites what changed.
//!
//! Parsing reads marker segments only (no packet headers); every length is
//! checked against the data before it is used, and nothing is allocated in
//! proportion to what a header claims.

use std::ops::Range;

use super::marker::{self, COC, COD, EOC, POC, QCD, SIZ, SOC, SOD, SOT};
use crate::{Error, Result};

/// Largest number of components (SIZ `Csiz`).
pub const MAX_COMPONENTS: u16 = 16384;
/// Largest number of decomposition levels (COD / COC).
pub const MAX_LEVELS: u8 = 32;

/// A marker segment, or a delimiting marker: where it lies in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The marker code (0xFFxx).
    pub marker: u16,
    /// Offset of the marker's first byte.
    pub offset: usize,
    /// Bytes from the marker through the end of its parameters (2 for a
    /// delimiting marker).
    pub len: usize,
}

impl Segment {
    /// The parameters after the marker and its length field (empty for a
    /// delimiting marker).
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        if self.len <= 2 {
            &[]
        } else {
            &data[self.offset + 4..self.offset + self.len]
        }
    }

    /// The segment's bytes, marker included.
    pub fn bytes<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.offset..self.offset + self.len]
    }
}

/// One component of the image (SIZ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizComponent {
    /// Bits per sample (1 to 38).
    pub precision: u8,
    /// Samples are signed.
    pub signed: bool,
    /// Horizontal separation `XRsiz` (sub-sampling, 1 to 255).
    pub dx: u8,
    /// Vertical separation `YRsiz`.
    pub dy: u8,
}

/// The image and tile size marker segment (SIZ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Siz {
    /// Capabilities `Rsiz`.
    pub rsiz: u16,
    /// Reference grid width `Xsiz` (the image's right edge).
    pub width: u32,
    /// Reference grid height `Ysiz`.
    pub height: u32,
    /// Image offset `XOsiz`.
    pub x0: u32,
    /// Image offset `YOsiz`.
    pub y0: u32,
    /// Tile width `XTsiz`.
    pub tile_w: u32,
    /// Tile height `YTsiz`.
    pub tile_h: u32,
    /// Tile grid offset `XTOsiz`.
    pub tile_x0: u32,
    /// Tile grid offset `YTOsiz`.
    pub tile_y0: u32,
    /// The components.
    pub components: Vec<SizComponent>,
}

impl Siz {
    /// Tiles across.
    pub fn tiles_x(&self) -> u32 {
        (self.width - self.tile_x0).div_ceil(self.tile_w)
    }

    /// Tiles down.
    pub fn tiles_y(&self) -> u32 {
        (self.height - self.tile_y0).div_ceil(self.tile_h)
    }

    /// Number of tiles.
    pub fn tiles(&self) -> u32 {
        self.tiles_x() * self.tiles_y()
    }

    /// The area of tile `t` on the reference grid, `(x0, y0, x1, y1)`,
    /// clipped to the image (T.800 B.3).
    pub fn tile_rect(&self, t: u32) -> (u32, u32, u32, u32) {
        let (p, q) = (t % self.tiles_x(), t / self.tiles_x());
        let x0 = (self.tile_x0 + p * self.tile_w).max(self.x0);
        let y0 = (self.tile_y0 + q * self.tile_h).max(self.y0);
        let x1 = (self.tile_x0 as u64 + (p as u64 + 1) * self.tile_w as u64).min(self.width as u64)
            as u32;
        let y1 = (self.tile_y0 as u64 + (q as u64 + 1) * self.tile_h as u64).min(self.height as u64)
            as u32;
        (x0, y0, x1, y1)
    }

    /// Bytes a component index takes in COC, QCC, RGN and POC: 1 when
    /// there are fewer than 257 components, else 2.
    pub fn component_index_len(&self) -> usize {
        if self.components.len() < 257 {
            1
        } else {
            2
        }
    }

    fn parse(p: &[u8], at: u64) -> Result<Siz> {
        let bad = |m: String| Error::malformed_at(at, format!("SIZ: {m}"));
        if p.len() < 36 {
            return Err(bad(format!(
                "{} bytes of parameters, at least 36 needed",
                p.len()
            )));
        }
        let u32_at = |i: usize| u32::from_be_bytes(p[i..i + 4].try_into().expect("4 bytes"));
        let csiz = u16::from_be_bytes([p[34], p[35]]);
        if csiz == 0 || csiz > MAX_COMPONENTS {
            return Err(bad(format!("{csiz} components (1 to {MAX_COMPONENTS})")));
        }
        if p.len() != 36 + 3 * csiz as usize {
            return Err(bad(format!(
                "{} bytes of parameters for {csiz} components (must be {})",
                p.len(),
                36 + 3 * csiz as usize
            )));
        }
        let mut components = Vec::with_capacity(csiz as usize);
        for c in 0..csiz as usize {
            let (s, dx, dy) = (p[36 + 3 * c], p[37 + 3 * c], p[38 + 3 * c]);
            let precision = (s & 0x7F) + 1;
            if precision > 38 {
                return Err(bad(format!("component {c} has {precision} bits (1 to 38)")));
            }
            if dx == 0 || dy == 0 {
                return Err(bad(format!(
                    "component {c} has a sub-sampling factor of 0 ({dx}x{dy})"
                )));
            }
            components.push(SizComponent {
                precision,
                signed: s & 0x80 != 0,
                dx,
                dy,
            });
        }
        let siz = Siz {
            rsiz: u16::from_be_bytes([p[0], p[1]]),
            width: u32_at(2),
            height: u32_at(6),
            x0: u32_at(10),
            y0: u32_at(14),
            tile_w: u32_at(18),
            tile_h: u32_at(22),
            tile_x0: u32_at(26),
            tile_y0: u32_at(30),
            components,
        };
        if siz.width <= siz.x0 || siz.height <= siz.y0 {
            return Err(bad(format!(
                "empty image: reference grid {}x{} with the image starting at ({}, {})",
                siz.width, siz.height, siz.x0, siz.y0
            )));
        }
        if siz.tile_w == 0 || siz.tile_h == 0 {
            return Err(bad(format!("tile size {}x{}", siz.tile_w, siz.tile_h)));
        }
        if siz.tile_x0 > siz.x0
            || siz.tile_y0 > siz.y0
            || siz.tile_x0 as u64 + siz.tile_w as u64 <= siz.x0 as u64
            || siz.tile_y0 as u64 + siz.tile_h as u64 <= siz.y0 as u64
        {
            return Err(bad(format!(
                "the first tile ({}x{} at ({}, {})) does not cover the image's first sample ({}, {})",
                siz.tile_w, siz.tile_h, siz.tile_x0, siz.tile_y0, siz.x0, siz.y0
            )));
        }
        let tiles = siz.tiles_x() as u64 * siz.tiles_y() as u64;
        if tiles > 65535 {
            return Err(bad(format!("{tiles} tiles (at most 65535)")));
        }
        Ok(siz)
    }
}

/// Progression order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progression {
    /// Layer, resolution, component, position.
    Lrcp = 0,
    /// Resolution, layer, component, position.
    Rlcp = 1,
    /// Resolution, position, component, layer.
    Rpcl = 2,
    /// Position, component, resolution, layer.
    Pcrl = 3,
    /// Component, position, resolution, layer.
    Cprl = 4,
}

impl Progression {
    fn from_byte(b: u8, at: u64, what: &str) -> Result<Progression> {
        Ok(match b {
            0 => Progression::Lrcp,
            1 => Progression::Rlcp,
            2 => Progression::Rpcl,
            3 => Progression::Pcrl,
            4 => Progression::Cprl,
            _ => {
                return Err(Error::malformed_at(
                    at,
                    format!("{what}: progression order {b} (0 to 4)"),
                ))
            }
        })
    }

    /// Its four-letter name (`LRCP`).
    pub fn name(self) -> &'static str {
        match self {
            Progression::Lrcp => "LRCP",
            Progression::Rlcp => "RLCP",
            Progression::Rpcl => "RPCL",
            Progression::Pcrl => "PCRL",
            Progression::Cprl => "CPRL",
        }
    }
}

/// Code-block style bits (`SPcod` / `SPcoc`).
pub mod cblk {
    /// Selective arithmetic coding bypass (lazy).
    pub const BYPASS: u8 = 0x01;
    /// Reset context probabilities on coding pass boundaries.
    pub const RESET: u8 = 0x02;
    /// Termination on each coding pass.
    pub const TERMALL: u8 = 0x04;
    /// Vertically causal context.
    pub const VCAUSAL: u8 = 0x08;
    /// Predictable termination.
    pub const PTERM: u8 = 0x10;
    /// Segmentation symbols.
    pub const SEGSYM: u8 = 0x20;
}

/// The coding style of one tile-component: what COD or COC says (`SPcod`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentStyle {
    /// Number of decomposition levels `NL` (0 to 32): `NL + 1` resolutions.
    pub levels: u8,
    /// Code-block width exponent (2 to 10): blocks are `2^cb_w` wide.
    pub cb_w: u8,
    /// Code-block height exponent.
    pub cb_h: u8,
    /// Code-block style bits (see [`cblk`]).
    pub cb_style: u8,
    /// Wavelet: 0 = 9/7 irreversible, 1 = 5/3 reversible.
    pub transform: u8,
    /// Precinct size exponents `(PPx, PPy)` per resolution, 0 first
    /// (15, 15 when the codestream defines none).
    pub precincts: Vec<(u8, u8)>,
}

impl ComponentStyle {
    /// Parse `SPcod` / `SPcoc` (`p`); `defined` = precinct sizes follow.
    /// Returns the style and the bytes used.
    fn parse(p: &[u8], defined: bool, at: u64, what: &str) -> Result<(ComponentStyle, usize)> {
        let bad = |m: String| Error::malformed_at(at, format!("{what}: {m}"));
        if p.len() < 5 {
            return Err(bad("coding style parameters truncated".into()));
        }
        let levels = p[0];
        if levels > MAX_LEVELS {
            return Err(bad(format!(
                "{levels} decomposition levels (at most {MAX_LEVELS})"
            )));
        }
        let (xcb, ycb) = (p[1], p[2]);
        if xcb > 8 || ycb > 8 || xcb + ycb > 8 {
            return Err(bad(format!(
                "code-block size 2^{} x 2^{} (exponents 2 to 10, sum at most 12)",
                xcb as u32 + 2,
                ycb as u32 + 2
            )));
        }
        if p[4] > 1 {
            return Err(bad(format!("wavelet transform {} (0 or 1)", p[4])));
        }
        let mut used = 5;
        let precincts = if defined {
            let n = levels as usize + 1;
            if p.len() < 5 + n {
                return Err(bad(format!(
                    "{} precinct sizes for {n} resolutions",
                    p.len() - 5
                )));
            }
            used += n;
            p[5..5 + n]
                .iter()
                .enumerate()
                .map(|(r, &b)| {
                    let (x, y) = (b & 0x0F, b >> 4);
                    if r > 0 && (x == 0 || y == 0) {
                        Err(bad(format!(
                            "precinct size 2^{x} x 2^{y} at resolution {r} (only resolution 0 may use 2^0)"
                        )))
                    } else {
                        Ok((x, y))
                    }
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![(15, 15); levels as usize + 1]
        };
        Ok((
            ComponentStyle {
                levels,
                cb_w: xcb + 2,
                cb_h: ycb + 2,
                cb_style: p[3],
                transform: p[4],
                precincts,
            },
            used,
        ))
    }
}

/// The coding style default marker segment (COD).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cod {
    /// `Scod`: bit 0 precincts defined, bit 1 SOP markers may be used, bit 2
    /// EPH markers are used.
    pub scod: u8,
    /// Progression order.
    pub progression: Progression,
    /// Number of quality layers (1 to 65535).
    pub layers: u16,
    /// Multiple component transform (0 none, 1 on components 0 to 2).
    pub mct: u8,
    /// The component coding style every component has unless a COC says
    /// otherwise.
    pub style: ComponentStyle,
}

impl Cod {
    /// True when packets may start with SOP markers.
    pub fn sop(&self) -> bool {
        self.scod & 0x02 != 0
    }

    /// True when packet headers end with EPH markers.
    pub fn eph(&self) -> bool {
        self.scod & 0x04 != 0
    }

    fn parse(p: &[u8], at: u64) -> Result<Cod> {
        let bad = |m: String| Error::malformed_at(at, format!("COD: {m}"));
        if p.len() < 10 {
            return Err(bad(format!(
                "{} bytes of parameters, at least 10 needed",
                p.len()
            )));
        }
        let scod = p[0];
        if scod & !0x07 != 0 {
            return Err(bad(format!("Scod 0x{scod:02X} has unknown bits")));
        }
        let progression = Progression::from_byte(p[1], at, "COD")?;
        let layers = u16::from_be_bytes([p[2], p[3]]);
        if layers == 0 {
            return Err(bad("0 quality layers".into()));
        }
        let (style, used) = ComponentStyle::parse(&p[5..], scod & 1 != 0, at, "COD")?;
        if 5 + used != p.len() {
            return Err(bad(format!(
                "{} bytes of parameters, {} expected",
                p.len(),
                5 + used
            )));
        }
        Ok(Cod {
            scod,
            progression,
            layers,
            mct: p[4],
            style,
        })
    }
}

/// A coding style component marker segment (COC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coc {
    /// The component it applies to.
    pub component: u16,
    /// The component's coding style.
    pub style: ComponentStyle,
}

impl Coc {
    fn parse(p: &[u8], siz: &Siz, at: u64) -> Result<Coc> {
        let bad = |m: String| Error::malformed_at(at, format!("COC: {m}"));
        let n = siz.component_index_len();
        if p.len() < n + 1 {
            return Err(bad("truncated".into()));
        }
        let component = if n == 1 {
            p[0] as u16
        } else {
            u16::from_be_bytes([p[0], p[1]])
        };
        if component as usize >= siz.components.len() {
            return Err(bad(format!(
                "component {component} of an image with {}",
                siz.components.len()
            )));
        }
        let scoc = p[n];
        let (style, used) = ComponentStyle::parse(&p[n + 1..], scoc & 1 != 0, at, "COC")?;
        if n + 1 + used != p.len() {
            return Err(bad(format!(
                "{} bytes of parameters, {} expected",
                p.len(),
                n + 1 + used
            )));
        }
        Ok(Coc { component, style })
    }
}

/// One progression of a POC marker segment: packets of layers
/// `[0, layer_end)`, resolutions `[res_start, res_end)` and components
/// `[comp_start, comp_end)` in the order `progression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PocEntry {
    /// First resolution `RSpoc`.
    pub res_start: u8,
    /// First component `CSpoc`.
    pub comp_start: u16,
    /// End layer (exclusive) `LYEpoc`.
    pub layer_end: u16,
    /// End resolution (exclusive) `REpoc`.
    pub res_end: u8,
    /// End component (exclusive) `CEpoc` (0 in an 8-bit field means 256).
    pub comp_end: u16,
    /// The progression order.
    pub progression: Progression,
}

fn parse_poc(p: &[u8], siz: &Siz, at: u64) -> Result<Vec<PocEntry>> {
    let n = siz.component_index_len();
    let size = 5 + 2 * n;
    if p.is_empty() || p.len() % size != 0 {
        return Err(Error::malformed_at(
            at,
            format!(
                "POC: {} bytes of parameters, not a multiple of {size}",
                p.len()
            ),
        ));
    }
    p.chunks_exact(size)
        .map(|e| {
            let comp = |i: usize| {
                if n == 1 {
                    e[i] as u16
                } else {
                    u16::from_be_bytes([e[i], e[i + 1]])
                }
            };
            let mut comp_end = comp(4 + n);
            if n == 1 && comp_end == 0 {
                comp_end = 256;
            }
            Ok(PocEntry {
                res_start: e[0],
                comp_start: comp(1),
                layer_end: u16::from_be_bytes([e[1 + n], e[2 + n]]),
                res_end: e[3 + n],
                comp_end,
                progression: Progression::from_byte(e[4 + 2 * n], at, "POC")?,
            })
        })
        .collect()
}

/// The start of tile-part marker segment (SOT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sot {
    /// Tile index `Isot`.
    pub tile: u16,
    /// Length of the tile-part from the SOT marker on `Psot` (0: up to EOC,
    /// last tile-part only).
    pub psot: u32,
    /// Tile-part index within its tile `TPsot`.
    pub part: u8,
    /// Number of tile-parts of the tile `TNsot` (0 = not given).
    pub parts: u8,
}

/// One tile-part: its header segments (SOT first, SOD last) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TilePart {
    /// The SOT fields.
    pub sot: Sot,
    /// The header's segments, SOT through SOD, in order.
    pub segments: Vec<Segment>,
    /// The tile-part's bit stream (packets), after SOD.
    pub data: Range<usize>,
    /// A COD of the tile (first tile-part only).
    pub cod: Option<Cod>,
    /// COCs of the tile (first tile-part only).
    pub cocs: Vec<Coc>,
    /// Progression changes of this tile-part.
    pub pocs: Vec<PocEntry>,
}

impl TilePart {
    /// Offset of the SOT marker.
    pub fn offset(&self) -> usize {
        self.segments[0].offset
    }

    /// Bytes from SOT to the end of the data.
    pub fn len(&self) -> usize {
        self.data.end - self.offset()
    }

    /// Never true: a tile-part holds at least SOT and SOD.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A parsed codestream: every segment and tile-part with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codestream {
    /// Offset of SOC in the data given to [`Codestream::parse`].
    pub start: usize,
    /// The main header's segments, SOC first, in order.
    pub main: Vec<Segment>,
    /// The image and tile sizes.
    pub siz: Siz,
    /// The default coding style.
    pub cod: Cod,
    /// Main-header COCs.
    pub cocs: Vec<Coc>,
    /// Main-header progression changes.
    pub pocs: Vec<PocEntry>,
    /// Tile-parts in codestream order.
    pub tile_parts: Vec<TilePart>,
    /// The EOC marker, when present.
    pub eoc: Option<Segment>,
    /// Bytes after EOC (or after the last tile-part without EOC) up to the
    /// end of the data: kept as they are.
    pub trailing: Range<usize>,
}

/// Read a marker at `p`: its code and, for a marker segment, the segment.
fn segment_at(data: &[u8], p: usize, what: &str) -> Result<Segment> {
    if data.len() < p + 2 {
        return Err(Error::malformed_at(
            p as u64,
            format!("truncated: the codestream ends inside the {what}"),
        ));
    }
    if data[p] != 0xFF {
        return Err(Error::malformed_at(
            p as u64,
            format!(
                "expected a marker in the {what}, found byte 0x{:02X}",
                data[p]
            ),
        ));
    }
    let m = u16::from_be_bytes([data[p], data[p + 1]]);
    if m < 0xFF30 {
        return Err(Error::malformed_at(
            p as u64,
            format!("0x{m:04X} in the {what} is not a marker"),
        ));
    }
    if marker::is_delimiting(m) {
        return Ok(Segment {
            marker: m,
            offset: p,
            len: 2,
        });
    }
    if data.len() < p + 4 {
        return Err(Error::malformed_at(
            p as u64,
            format!("truncated: {} segment without its length", marker::name(m)),
        ));
    }
    let l = u16::from_be_bytes([data[p + 2], data[p + 3]]) as usize;
    if l < 2 || data.len() < p + 2 + l {
        return Err(Error::malformed_at(
            p as u64,
            format!(
                "{} segment length {l} runs past the end of the codestream ({} bytes left)",
                marker::name(m),
                data.len().saturating_sub(p + 2)
            ),
        ));
    }
    Ok(Segment {
        marker: m,
        offset: p,
        len: 2 + l,
    })
}

impl Codestream {
    /// Parse the codestream that starts at `start` in `data` and runs to
    /// its end (a raw `.j2k` file, or a `jp2c` box's payload range).
    pub fn parse(data: &[u8], start: usize) -> Result<Codestream> {
        let mut p = start;
        if !data[start.min(data.len())..].starts_with(&SOC.to_be_bytes()) {
            return Err(Error::malformed_at(
                p as u64,
                "not a JPEG 2000 codestream (no SOC marker 0xFF4F)",
            ));
        }
        let soc = segment_at(data, p, "main header")?;
        p += 2;
        let siz_seg = segment_at(data, p, "main header")?;
        if siz_seg.marker != SIZ {
            return Err(Error::malformed_at(
                p as u64,
                format!("{} where SIZ must follow SOC", marker::name(siz_seg.marker)),
            ));
        }
        let siz = Siz::parse(siz_seg.payload(data), p as u64)?;
        p += siz_seg.len;
        let mut main = vec![soc, siz_seg];
        let (mut cod, mut cocs, mut pocs, mut qcd) = (None, Vec::new(), Vec::new(), false);
        loop {
            let s = segment_at(data, p, "main header")?;
            let at = p as u64;
            match s.marker {
                SOT => break,
                SOC | SIZ | SOD | EOC => {
                    return Err(Error::malformed_at(
                        at,
                        format!("{} in the main header", marker::name(s.marker)),
                    ))
                }
                COD => {
                    if cod.is_some() {
                        return Err(Error::malformed_at(
                            at,
                            "two COD segments in the main header",
                        ));
                    }
                    cod = Some(Cod::parse(s.payload(data), at)?);
                }
                COC => {
                    let c = Coc::parse(s.payload(data), &siz, at)?;
                    if cocs.iter().any(|o: &Coc| o.component == c.component) {
                        return Err(Error::malformed_at(
                            at,
                            format!("two COC segments for component {}", c.component),
                        ));
                    }
                    cocs.push(c);
                }
                POC => pocs.extend(parse_poc(s.payload(data), &siz, at)?),
                QCD => qcd = true,
                // QCC, RGN, PPM, TLM, PLM, CRG, COM, SEC, CAP and unknown
                // segments are kept as they are.
                _ => {}
            }
            main.push(s);
            p += s.len;
        }
        let cod =
            cod.ok_or_else(|| Error::malformed_at(p as u64, "the main header has no COD segment"))?;
        if !qcd {
            return Err(Error::malformed_at(
                p as u64,
                "the main header has no QCD segment",
            ));
        }
        // Tile-parts.
        let tiles = siz.tiles();
        let mut next_part = vec![0u16; tiles as usize];
        let mut tile_parts = Vec::new();
        let mut eoc = None;
        while p < data.len() {
            let s = segment_at(data, p, "codestream")?;
            if s.marker == EOC {
                eoc = Some(s);
                p += 2;
                break;
            }
            if s.marker != SOT {
                return Err(Error::malformed_at(
                    p as u64,
                    format!(
                        "{} where a tile-part (SOT) or EOC must be",
                        marker::name(s.marker)
                    ),
                ));
            }
            let tp = Self::tile_part(data, p, s, &siz, &mut next_part)?;
            p = tp.data.end;
            tile_parts.push(tp);
        }
        if tile_parts.is_empty() {
            return Err(Error::malformed_at(
                p as u64,
                "no tile-part in the codestream",
            ));
        }
        Ok(Codestream {
            start,
            main,
            siz,
            cod,
            cocs,
            pocs,
            tile_parts,
            eoc,
            trailing: p..data.len(),
        })
    }

    fn tile_part(
        data: &[u8],
        p: usize,
        sot_seg: Segment,
        siz: &Siz,
        next_part: &mut [u16],
    ) -> Result<TilePart> {
        let tiles = siz.tiles();
        let at = p as u64;
        let sp = sot_seg.payload(data);
        if sp.len() != 8 {
            return Err(Error::malformed_at(
                at,
                format!("SOT with {} bytes of parameters (8)", sp.len()),
            ));
        }
        let sot = Sot {
            tile: u16::from_be_bytes([sp[0], sp[1]]),
            psot: u32::from_be_bytes([sp[2], sp[3], sp[4], sp[5]]),
            part: sp[6],
            parts: sp[7],
        };
        if sot.tile as u32 >= tiles {
            return Err(Error::malformed_at(
                at,
                format!(
                    "tile-part of tile {} in an image of {tiles} tiles",
                    sot.tile
                ),
            ));
        }
        let expected = &mut next_part[sot.tile as usize];
        if sot.part as u16 != *expected {
            return Err(Error::malformed_at(
                at,
                format!(
                    "tile-part {} of tile {} where tile-part {} was due",
                    sot.part, sot.tile, expected
                ),
            ));
        }
        if sot.parts != 0 && sot.part >= sot.parts {
            return Err(Error::malformed_at(
                at,
                format!(
                    "tile-part {} of tile {} which has {} tile-parts",
                    sot.part, sot.tile, sot.parts
                ),
            ));
        }
        *expected += 1;
        let end = if sot.psot == 0 {
            // Up to EOC: the last tile-part of the codestream.
            if data.len() >= p + 2 && data[data.len() - 2..] == [0xFF, 0xD9] {
                data.len() - 2
            } else {
                data.len()
            }
        } else {
            let e = p as u64 + sot.psot as u64;
            if e > data.len() as u64 {
                return Err(Error::malformed_at(
                    at,
                    format!(
                        "truncated: tile-part {} of tile {} claims {} bytes, {} remain",
                        sot.part,
                        sot.tile,
                        sot.psot,
                        data.len() - p
                    ),
                ));
            }
            e as usize
        };
        let mut segments = vec![sot_seg];
        let mut q = p + sot_seg.len;
        let (mut cod, mut cocs, mut pocs) = (None, Vec::new(), Vec::new());
        loop {
            let s = segment_at(&data[..end], q, "tile-part header")?;
            match s.marker {
                SOD => {
                    segments.push(s);
                    q += 2;
                    break;
                }
                SOT | SOC | SIZ | EOC => {
                    return Err(Error::malformed_at(
                        q as u64,
                        format!("{} in a tile-part header", marker::name(s.marker)),
                    ))
                }
                COD if sot.part == 0 && cod.is_none() => {
                    cod = Some(Cod::parse(s.payload(data), q as u64)?)
                }
                COC if sot.part == 0 => {
                    let c = Coc::parse(s.payload(data), siz, q as u64)?;
                    if cocs.iter().any(|o: &Coc| o.component == c.component) {
                        return Err(Error::malformed_at(
                            q as u64,
                            format!(
                                "two COC segments for component {} in tile {}",
                                c.component, sot.tile
                            ),
                        ));
                    }
                    cocs.push(c);
                }
                COD | COC => {
                    return Err(Error::malformed_at(
                        q as u64,
                        format!(
                            "{} in tile-part {} of tile {} (only the first tile-part, once)",
                            marker::name(s.marker),
                            sot.part,
                            sot.tile
                        ),
                    ))
                }
                POC => pocs.extend(parse_poc(s.payload(data), siz, q as u64)?),
                // QCD, QCC, RGN, PPT, PLT, COM and unknown segments are kept.
                _ => {}
            }
            segments.push(s);
            q += s.len;
        }
        Ok(TilePart {
            sot,
            segments,
            data: q..end,
            cod,
            cocs,
            pocs,
        })
    }

    /// Offset just past the codestream's last byte (the end of the data
    /// given to [`Codestream::parse`]).
    pub fn end(&self) -> usize {
        self.trailing.end
    }

    /// The codestream's bytes rebuilt from the map: identical to
    /// `data[start..end]` when nothing was changed.
    pub fn write(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.end() - self.start);
        for s in &self.main {
            out.extend_from_slice(s.bytes(data));
        }
        for tp in &self.tile_parts {
            for s in &tp.segments {
                out.extend_from_slice(s.bytes(data));
            }
            out.extend_from_slice(&data[tp.data.clone()]);
        }
        if let Some(e) = &self.eoc {
            out.extend_from_slice(e.bytes(data));
        }
        out.extend_from_slice(&data[self.trailing.clone()]);
        out
    }
}
