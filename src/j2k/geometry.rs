//! Tile-component, resolution, precinct, sub-band and code-block geometry
//! (ISO/IEC 15444-1 B.2 to B.7): which code-blocks each precinct of each
//! resolution holds, in the order packet headers list them.

use super::codestream::{Cod, Codestream, ComponentStyle, TilePart};
use crate::{Error, Result};

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

fn ceil_pow2(a: i64, e: u32) -> i64 {
    // ceil(a / 2^e) for any sign.
    -((-a) >> e)
}

fn floor_pow2(a: i64, e: u32) -> i64 {
    a >> e
}

/// The coding parameters in force for one tile: the tile's COD / COC when
/// its first tile-part has them, else the main header's (T.800 A.6.1
/// precedence: tile COC, tile COD, main COC, main COD).
#[derive(Debug, Clone)]
pub struct TileCoding {
    /// The COD in force (progression, layers, SOP / EPH).
    pub cod: Cod,
    /// The coding style of each component.
    pub styles: Vec<ComponentStyle>,
}

impl TileCoding {
    /// The coding of a tile of `cs` whose first tile-part is `first`
    /// (`None` when the tile has none).
    pub fn of(cs: &Codestream, first: Option<&TilePart>) -> TileCoding {
        let tile_cod = first.and_then(|tp| tp.cod.clone());
        let cod = tile_cod.clone().unwrap_or_else(|| cs.cod.clone());
        let styles = (0..cs.siz.components.len() as u16)
            .map(|c| {
                if let Some(s) = first
                    .and_then(|tp| tp.cocs.iter().find(|x| x.component == c))
                    .map(|x| x.style.clone())
                {
                    return s;
                }
                if let Some(tc) = &tile_cod {
                    return tc.style.clone();
                }
                cs.cocs
                    .iter()
                    .find(|x| x.component == c)
                    .map(|x| x.style.clone())
                    .unwrap_or_else(|| cs.cod.style.clone())
            })
            .collect();
        TileCoding { cod, styles }
    }
}

/// A rectangle `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left.
    pub x0: i64,
    /// Top.
    pub y0: i64,
    /// Right (exclusive).
    pub x1: i64,
    /// Bottom (exclusive).
    pub y1: i64,
}

impl Rect {
    /// No area.
    pub fn is_empty(&self) -> bool {
        self.x1 <= self.x0 || self.y1 <= self.y0
    }
}

/// One sub-band of a precinct: its code-block grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrecinctBand {
    /// Code-blocks across (0 when the precinct does not reach the band).
    pub cw: u32,
    /// Code-blocks down.
    pub ch: u32,
}

/// One resolution level of a tile-component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The resolution's area, in its own coordinates (`trx0` ...).
    pub rect: Rect,
    /// Precinct size exponents.
    pub ppx: u32,
    /// Precinct size exponents.
    pub ppy: u32,
    /// Precincts across (0 for an empty resolution).
    pub pw: u32,
    /// Precincts down.
    pub ph: u32,
    /// Sub-band areas: LL for resolution 0, else HL, LH, HH.
    pub bands: Vec<Rect>,
    /// Code-block size exponents in this resolution.
    pub cbw: u32,
    /// Code-block size exponents in this resolution.
    pub cbh: u32,
}

impl Resolution {
    /// Number of precincts.
    pub fn precincts(&self) -> u64 {
        self.pw as u64 * self.ph as u64
    }

    /// The code-block grids of precinct `k` (raster index), one per band.
    pub fn precinct_bands(&self, k: u32) -> Vec<PrecinctBand> {
        self.precinct_band_rects(k)
            .into_iter()
            .map(|(_, b)| b)
            .collect()
    }

    /// The area of code-block `j` (raster index within the precinct's part
    /// of the band, as packet headers list them) of band `band` of precinct
    /// `k`, in the band's coordinates; `None` when there is no such block.
    pub fn code_block_rect(&self, k: u32, band: usize, j: u32) -> Option<Rect> {
        let (p, g) = *self.precinct_band_rects(k).get(band)?;
        if j >= g.cw.saturating_mul(g.ch) {
            return None;
        }
        let (jx, jy) = ((j % g.cw) as i64, (j / g.cw) as i64);
        let bx = (floor_pow2(p.x0, self.cbw) + jx) << self.cbw;
        let by = (floor_pow2(p.y0, self.cbh) + jy) << self.cbh;
        Some(Rect {
            x0: bx.max(p.x0),
            y0: by.max(p.y0),
            x1: (bx + (1 << self.cbw)).min(p.x1),
            y1: (by + (1 << self.cbh)).min(p.y1),
        })
    }

    /// Per band: the part of precinct `k` in the band (band coordinates)
    /// and its code-block grid.
    pub fn precinct_band_rects(&self, k: u32) -> Vec<(Rect, PrecinctBand)> {
        let (kx, ky) = ((k % self.pw.max(1)) as i64, (k / self.pw.max(1)) as i64);
        let r0 = self.bands.len() == 1;
        // The precinct partition in band coordinates (halved for r > 0).
        let (ex, ey) = if r0 {
            (self.ppx, self.ppy)
        } else {
            (self.ppx - 1, self.ppy - 1)
        };
        let mut tlx = floor_pow2(self.rect.x0, self.ppx) << self.ppx;
        let mut tly = floor_pow2(self.rect.y0, self.ppy) << self.ppy;
        if !r0 {
            tlx = ceil_pow2(tlx, 1);
            tly = ceil_pow2(tly, 1);
        }
        let gx0 = tlx + (kx << ex);
        let gy0 = tly + (ky << ey);
        self.bands
            .iter()
            .map(|b| {
                let p = Rect {
                    x0: gx0.max(b.x0),
                    y0: gy0.max(b.y0),
                    x1: (gx0 + (1 << ex)).min(b.x1),
                    y1: (gy0 + (1 << ey)).min(b.y1),
                };
                if p.is_empty() {
                    return (p, PrecinctBand { cw: 0, ch: 0 });
                }
                let cw = (ceil_pow2(p.x1, self.cbw) - floor_pow2(p.x0, self.cbw)) as u32;
                let ch = (ceil_pow2(p.y1, self.cbh) - floor_pow2(p.y0, self.cbh)) as u32;
                (p, PrecinctBand { cw, ch })
            })
            .collect()
    }
}

/// One tile-component: its area and resolutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileComponent {
    /// Area in component coordinates (`tcx0` ...).
    pub rect: Rect,
    /// Separation of the component on the reference grid.
    pub dx: u32,
    /// Separation of the component on the reference grid.
    pub dy: u32,
    /// Resolutions 0 to `NL`.
    pub resolutions: Vec<Resolution>,
    /// The code-block style bits.
    pub cb_style: u8,
}

/// The geometry of every component of tile `t`.
pub fn tile_components(cs: &Codestream, t: u16, coding: &TileCoding) -> Result<Vec<TileComponent>> {
    let (tx0, ty0, tx1, ty1) = cs.siz.tile_rect(t as u32);
    cs.siz
        .components
        .iter()
        .zip(&coding.styles)
        .enumerate()
        .map(|(c, (sc, st))| {
            let (dx, dy) = (sc.dx as u64, sc.dy as u64);
            let rect = Rect {
                x0: ceil_div(tx0 as u64, dx) as i64,
                y0: ceil_div(ty0 as u64, dy) as i64,
                x1: ceil_div(tx1 as u64, dx) as i64,
                y1: ceil_div(ty1 as u64, dy) as i64,
            };
            let nl = st.levels as u32;
            let resolutions = (0..=nl)
                .map(|r| {
                    let lev = nl - r;
                    let rr = Rect {
                        x0: ceil_pow2(rect.x0, lev),
                        y0: ceil_pow2(rect.y0, lev),
                        x1: ceil_pow2(rect.x1, lev),
                        y1: ceil_pow2(rect.y1, lev),
                    };
                    let (ppx, ppy) = st.precincts[r as usize];
                    let (ppx, ppy) = (ppx as u32, ppy as u32);
                    let (pw, ph) = if rr.is_empty() {
                        (0, 0)
                    } else {
                        (
                            (ceil_pow2(rr.x1, ppx) - floor_pow2(rr.x0, ppx)) as u64,
                            (ceil_pow2(rr.y1, ppy) - floor_pow2(rr.y0, ppy)) as u64,
                        )
                    };
                    if pw > u32::MAX as u64 || ph > u32::MAX as u64 {
                        return Err(Error::malformed_at(
                            0,
                            format!("tile {t} component {c} resolution {r}: {pw}x{ph} precincts"),
                        ));
                    }
                    let bands = if r == 0 {
                        vec![rr]
                    } else {
                        let nb = nl - r + 1;
                        [(1i64, 0i64), (0, 1), (1, 1)]
                            .iter()
                            .map(|&(xo, yo)| {
                                let off_x = xo << (nb - 1);
                                let off_y = yo << (nb - 1);
                                Rect {
                                    x0: ceil_pow2(rect.x0 - off_x, nb),
                                    y0: ceil_pow2(rect.y0 - off_y, nb),
                                    x1: ceil_pow2(rect.x1 - off_x, nb),
                                    y1: ceil_pow2(rect.y1 - off_y, nb),
                                }
                            })
                            .collect()
                    };
                    let (cbw, cbh) = if r == 0 {
                        ((st.cb_w as u32).min(ppx), (st.cb_h as u32).min(ppy))
                    } else {
                        ((st.cb_w as u32).min(ppx - 1), (st.cb_h as u32).min(ppy - 1))
                    };
                    Ok(Resolution {
                        rect: rr,
                        ppx,
                        ppy,
                        pw: pw as u32,
                        ph: ph as u32,
                        bands,
                        cbw,
                        cbh,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(TileComponent {
                rect,
                dx: dx as u32,
                dy: dy as u32,
                resolutions,
                cb_style: st.cb_style,
            })
        })
        .collect()
}
