//! Packet order within a tile (ISO/IEC 15444-1 B.12): the five progression
//! orders and progression order changes (POC).
//!
//! Position-driven orders (RPCL, PCRL, CPRL) visit precincts where the
//! standard's loop over reference-grid positions first reaches them: the
//! precinct's top-left corner, or the tile's edge for a first precinct
//! that starts before it. Ordering precincts by that position gives the
//! standard's order without walking every sample position.

use super::codestream::{PocEntry, Progression};
use super::geometry::TileComponent;
use crate::{Error, Result};

/// A packet's identity within its tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PacketId {
    /// Quality layer.
    pub layer: u16,
    /// Resolution level.
    pub resolution: u8,
    /// Component.
    pub component: u16,
    /// Precinct (raster index within the resolution).
    pub precinct: u32,
}

/// One progression volume: layers `[0, layer_end)`, resolutions
/// `[res_start, res_end)`, components `[comp_start, comp_end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volume {
    /// End layer (exclusive).
    pub layer_end: u16,
    /// First resolution.
    pub res_start: u8,
    /// End resolution (exclusive).
    pub res_end: u8,
    /// First component.
    pub comp_start: u16,
    /// End component (exclusive).
    pub comp_end: u16,
    /// Order.
    pub order: Progression,
}

impl From<PocEntry> for Volume {
    fn from(p: PocEntry) -> Volume {
        Volume {
            layer_end: p.layer_end,
            res_start: p.res_start,
            res_end: p.res_end,
            comp_start: p.comp_start,
            comp_end: p.comp_end,
            order: p.progression,
        }
    }
}

/// The reference-grid position where the standard's loop first reaches
/// precinct (`kx`, `ky`) of resolution `r` of `tc`, in a tile starting at
/// (`tx0`, `ty0`).
fn first_visit(tc: &TileComponent, r: usize, kx: u32, ky: u32, tx0: u64, ty0: u64) -> (u64, u64) {
    let res = &tc.resolutions[r];
    let lev = (tc.resolutions.len() - 1 - r) as u32;
    let axis = |k: u32, start: i64, pp: u32, d: u32, t0: u64| -> u64 {
        let aligned = start % (1i64 << pp) == 0;
        if k == 0 && !aligned {
            t0
        } else {
            let p = ((start >> pp) + k as i64) << pp;
            (p as u64) * ((d as u64) << lev)
        }
    };
    (
        axis(kx, res.rect.x0, res.ppx, tc.dx, tx0),
        axis(ky, res.rect.y0, res.ppy, tc.dy, ty0),
    )
}

/// The packets of a tile, in codestream order: `volumes` in turn (the
/// tile's POCs, or one volume of the whole tile in the COD order), each
/// packet once (a packet already sent by an earlier volume is skipped).
/// `limit` bounds the number of packets (precincts times layers) a tile
/// may declare: every packet takes at least one byte.
pub fn packet_order(
    tcs: &[TileComponent],
    layers: u16,
    volumes: &[Volume],
    tile_origin: (u64, u64),
    limit: u64,
) -> Result<Vec<PacketId>> {
    let total: u64 = tcs
        .iter()
        .flat_map(|tc| tc.resolutions.iter().map(|r| r.precincts()))
        .sum();
    let packets = total.saturating_mul(layers as u64);
    if packets > limit {
        return Err(Error::malformed_at(
            0,
            format!(
                "a tile with {total} precincts and {layers} layers ({packets} packets) but too few bytes to hold them (at most {limit})"
            ),
        ));
    }
    // Layers sent so far, per (component, resolution, precinct): one
    // array, `base[c][r]` where each resolution's precincts start.
    let mut base: Vec<Vec<usize>> = Vec::with_capacity(tcs.len());
    let mut n = 0usize;
    for tc in tcs {
        base.push(
            tc.resolutions
                .iter()
                .map(|r| {
                    let b = n;
                    n += r.precincts() as usize;
                    b
                })
                .collect(),
        );
    }
    let mut sent = vec![0u16; n];
    let mut out = Vec::new();
    let mut emit = |out: &mut Vec<PacketId>, l: u16, r: usize, c: usize, k: u32| {
        let s = &mut sent[base[c][r] + k as usize];
        if *s == l {
            *s += 1;
            out.push(PacketId {
                layer: l,
                resolution: r as u8,
                component: c as u16,
                precinct: k,
            });
        }
    };
    let (tx0, ty0) = tile_origin;
    for v in volumes {
        let l_end = v.layer_end.min(layers);
        let c_end = (v.comp_end as usize).min(tcs.len());
        let c_range = (v.comp_start as usize).min(c_end)..c_end;
        let max_res = tcs.iter().map(|t| t.resolutions.len()).max().unwrap_or(0);
        let r_end = (v.res_end as usize).min(max_res);
        let r_range = (v.res_start as usize).min(r_end)..r_end;
        let has = |c: usize, r: usize| r < tcs[c].resolutions.len();
        // (y, x, c, r, k) of every precinct in the volume, for the
        // position-driven orders.
        let positions = |rs: std::ops::Range<usize>, cs: std::ops::Range<usize>| {
            let mut v = Vec::new();
            for c in cs {
                for r in rs.clone() {
                    if !has(c, r) {
                        continue;
                    }
                    let res = &tcs[c].resolutions[r];
                    for k in 0..res.precincts() as u32 {
                        let (x, y) = first_visit(&tcs[c], r, k % res.pw, k / res.pw, tx0, ty0);
                        v.push((y, x, c, r, k));
                    }
                }
            }
            v
        };
        match v.order {
            Progression::Lrcp => {
                for l in 0..l_end {
                    for r in r_range.clone() {
                        for c in c_range.clone() {
                            if has(c, r) {
                                for k in 0..tcs[c].resolutions[r].precincts() as u32 {
                                    emit(&mut out, l, r, c, k);
                                }
                            }
                        }
                    }
                }
            }
            Progression::Rlcp => {
                for r in r_range.clone() {
                    for l in 0..l_end {
                        for c in c_range.clone() {
                            if has(c, r) {
                                for k in 0..tcs[c].resolutions[r].precincts() as u32 {
                                    emit(&mut out, l, r, c, k);
                                }
                            }
                        }
                    }
                }
            }
            Progression::Rpcl => {
                for r in r_range.clone() {
                    let mut p = positions(r..r + 1, c_range.clone());
                    p.sort_by_key(|&(y, x, c, _, _)| (y, x, c));
                    for (_, _, c, r, k) in p {
                        for l in 0..l_end {
                            emit(&mut out, l, r, c, k);
                        }
                    }
                }
            }
            Progression::Pcrl => {
                let mut p = positions(r_range.clone(), c_range.clone());
                p.sort_by_key(|&(y, x, c, r, _)| (y, x, c, r));
                for (_, _, c, r, k) in p {
                    for l in 0..l_end {
                        emit(&mut out, l, r, c, k);
                    }
                }
            }
            Progression::Cprl => {
                for c in c_range.clone() {
                    let mut p = positions(r_range.clone(), c..c + 1);
                    p.sort_by_key(|&(y, x, _, r, _)| (y, x, r));
                    for (_, _, c, r, k) in p {
                        for l in 0..l_end {
                            emit(&mut out, l, r, c, k);
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
