//! The packet index (ISO/IEC 15444-1 B.9, B.10, B.12): for every packet of
//! every tile, its identity and where its header and body lie in the file,
//! and what each code-block contributes, found by decoding the packet
//! headers (in the tile-part data, or packed in PPM / PPT).

use super::codestream::{cblk, Codestream, Segment, TilePart};
use super::geometry::{tile_components, TileCoding, TileComponent};
use super::marker::{EPH, PPM, PPT, SOP};
use super::progression::{packet_order, PacketId, Volume};
use super::tagtree::{HeaderBits, TagTree};
use crate::{Error, Result};

/// What one code-block contributes to a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    /// Sub-band within the resolution: 0 for LL (resolution 0), else 0 HL,
    /// 1 LH, 2 HH.
    pub band: u8,
    /// Code-block index within the precinct's part of the band (raster).
    pub block: u32,
    /// Coding passes added.
    pub passes: u32,
    /// Bytes added to the body.
    pub bytes: u32,
}

/// One packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Tile index.
    pub tile: u16,
    /// Index of its tile-part in [`Codestream::tile_parts`].
    pub tile_part: usize,
    /// Layer, resolution, component, precinct.
    pub id: PacketId,
    /// Sequence number within the tile (0-based; SOP carries it mod 65536).
    pub seq: u32,
    /// File offset of the packet's first byte (its SOP marker when it has
    /// one).
    pub offset: usize,
    /// Bytes in the tile-part data: SOP, header (when in-stream), EPH, body.
    pub length: usize,
    /// Bytes of the header in the tile-part data (0 when packed in PPM /
    /// PPT), EPH included.
    pub header_length: usize,
    /// Bytes of the header in the packed header stream (PPM / PPT), EPH
    /// included; 0 when the header is in the tile-part data.
    pub packed_header_length: usize,
    /// Where that header starts in the tile's packed header stream
    /// ([`packed_headers`]); 0 when the header is in the tile-part data.
    pub packed_header_offset: usize,
    /// File offset of the body.
    pub body_offset: usize,
    /// Bytes of the body.
    pub body_length: usize,
    /// The packet starts with an SOP marker.
    pub sop: bool,
    /// The code-blocks the packet carries data for (empty for an empty
    /// packet).
    pub contributions: Vec<Contribution>,
}

/// The packet index of a codestream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketIndex {
    /// Every packet present, in codestream order.
    pub packets: Vec<Packet>,
    /// Per tile: packets its progression declares that the codestream does
    /// not contain (a truncated stream ends early); 0 for absent tiles.
    pub missing: Vec<u64>,
    /// Tiles without any tile-part (a truncated stream).
    pub absent_tiles: Vec<u16>,
}

#[derive(Debug, Clone, Default)]
struct Block {
    included: bool,
    lblock: u32,
    /// Passes in the block's last codeword segment, and that segment's
    /// maximum.
    seg_passes: u32,
    seg_max: u32,
    segments: u32,
}

#[derive(Debug, Clone)]
struct BandState {
    cw: u32,
    ch: u32,
    /// Code-blocks included so far.
    included: u32,
    incl: TagTree,
    imsb: TagTree,
    blocks: Vec<Block>,
}

/// Decoder state of one precinct (created at its first packet).
#[derive(Debug, Clone)]
struct PrecinctState {
    bands: Vec<BandState>,
}

/// Number of new coding passes (B.10.6).
fn num_passes(b: &mut HeaderBits) -> Result<u32> {
    if b.bit()? == 0 {
        return Ok(1);
    }
    if b.bit()? == 0 {
        return Ok(2);
    }
    let n = b.bits(2)?;
    if n != 3 {
        return Ok(3 + n);
    }
    let n = b.bits(5)?;
    if n != 31 {
        return Ok(6 + n);
    }
    Ok(37 + b.bits(7)?)
}

fn floor_log2(n: u32) -> u32 {
    31 - n.leading_zeros()
}

/// The maximum number of passes of the segment after one of `prev_max`
/// passes (`None`: the first segment), for code-block style `style`.
fn segment_max(style: u8, prev_max: Option<u32>) -> u32 {
    if style & cblk::TERMALL != 0 {
        1
    } else if style & cblk::BYPASS != 0 {
        match prev_max {
            None => 10,
            Some(1) | Some(10) => 2,
            Some(_) => 1,
        }
    } else {
        109
    }
}

fn bad(at: usize, msg: String) -> Error {
    Error::malformed_at(at as u64, msg)
}

/// Decode one packet header from `bits`; returns the contributions and the
/// body length.
fn decode_header(
    bits: &mut HeaderBits,
    st: &mut Option<PrecinctState>,
    make: impl FnOnce() -> Result<PrecinctState>,
    layer: u32,
    style: u8,
    work: &mut u64,
) -> Result<(Vec<Contribution>, u64)> {
    let mut out = Vec::new();
    let mut body = 0u64;
    if bits.bit()? == 0 {
        return Ok((out, 0));
    }
    // The precinct's decoder state exists from its first non-empty packet
    // on (most precincts of finely tiled streams only ever send empty ones).
    let st = match st {
        Some(s) => s,
        None => st.insert(make()?),
    };
    for (bi, band) in st.bands.iter_mut().enumerate() {
        if band.included == 0 && band.incl.all_at_least(layer + 1) {
            // No code-block of the band can be included yet: nothing to
            // read (the tag tree would answer every leaf without a bit).
            continue;
        }
        *work = work.saturating_sub(band.blocks.len() as u64);
        if *work == 0 {
            return Err(Error::new(
                crate::ErrorKind::Malformed,
                "packet headers describe far more code-blocks than the codestream's size allows",
            ));
        }
        for y in 0..band.ch {
            for x in 0..band.cw {
                let i = (y * band.cw + x) as usize;
                let first = !band.blocks[i].included;
                let included = if first {
                    matches!(band.incl.decode(bits, x, y, layer + 1)?, Some(v) if v <= layer)
                } else {
                    bits.bit()? == 1
                };
                if !included {
                    continue;
                }
                if first {
                    // Zero bit-planes: resolve the leaf (the value is not
                    // needed to locate data, only consumed).
                    let mut t = 1;
                    while band.imsb.decode(bits, x, y, t)?.is_none() {
                        t += 1;
                        if t > 80 {
                            return Err(Error::new(
                                crate::ErrorKind::Malformed,
                                "packet header: more than 80 zero bit-planes",
                            ));
                        }
                    }
                    let b = &mut band.blocks[i];
                    b.included = true;
                    b.lblock = 3;
                    band.included += 1;
                }
                let passes = num_passes(bits)?;
                let b = &mut band.blocks[i];
                while bits.bit()? == 1 {
                    b.lblock += 1;
                    if b.lblock > 32 {
                        return Err(Error::new(
                            crate::ErrorKind::Malformed,
                            "packet header: code-block length indicator over 32 bits",
                        ));
                    }
                }
                let mut left = passes;
                let mut bytes = 0u64;
                while left > 0 {
                    if b.segments == 0 || b.seg_passes == b.seg_max {
                        let prev = if b.segments == 0 {
                            None
                        } else {
                            Some(b.seg_max)
                        };
                        b.seg_max = segment_max(style, prev);
                        b.seg_passes = 0;
                        b.segments += 1;
                    }
                    let n = left.min(b.seg_max - b.seg_passes);
                    let nbits = b.lblock + floor_log2(n);
                    if nbits > 32 {
                        return Err(Error::new(
                            crate::ErrorKind::Malformed,
                            "packet header: a codeword segment length of more than 32 bits",
                        ));
                    }
                    bytes += bits.bits(nbits)? as u64;
                    b.seg_passes += n;
                    left -= n;
                }
                body += bytes;
                out.push(Contribution {
                    band: bi as u8,
                    block: i as u32,
                    passes,
                    bytes: bytes.min(u32::MAX as u64) as u32,
                });
            }
        }
    }
    Ok((out, body))
}

/// Decode one packet header at the start of `src` and, when `eph`, the EPH
/// marker after it. Returns the contributions, the body length and the
/// header's bytes (EPH included); an error carries its offset in `src`.
fn read_header(
    src: &[u8],
    st: &mut Option<PrecinctState>,
    make: impl FnOnce() -> Result<PrecinctState>,
    layer: u32,
    style: u8,
    work: &mut u64,
    eph: bool,
) -> std::result::Result<(Vec<Contribution>, u64, usize), (usize, String)> {
    let mut bits = HeaderBits::new(src);
    let (contribs, body) = decode_header(&mut bits, st, make, layer, style, work)
        .map_err(|e| (0, e.message().to_string()))?;
    let mut h = bits.finish().map_err(|e| (0, e.message().to_string()))?;
    if eph {
        if !src[h..].starts_with(&EPH.to_be_bytes()) {
            return Err((h, "no EPH marker after the header".into()));
        }
        h += 2;
    }
    Ok((contribs, body, h))
}

/// Where packet headers come from for one tile.
enum Headers {
    /// In the tile-part data.
    InStream,
    /// Packed: the tile's packed headers (its tile-parts' PPM shares, or
    /// their PPT data, in tile-part order: one stream for the tile, as
    /// OpenJPEG reads it), and how far they are read.
    Packed(Vec<u8>, usize),
}

/// The concatenated data of PPM segments (ordered by `Zppm`), split per
/// tile-part (`Nppm`, `Ippm`).
fn ppm_shares(data: &[u8], main: &[Segment], tile_parts: usize) -> Result<Option<Vec<Vec<u8>>>> {
    let mut segs: Vec<(u8, &[u8], usize)> = main
        .iter()
        .filter(|s| s.marker == PPM)
        .map(|s| {
            let p = s.payload(data);
            (
                p.first().copied().unwrap_or(0),
                p.get(1..).unwrap_or(&[]),
                s.offset,
            )
        })
        .collect();
    if segs.is_empty() {
        return Ok(None);
    }
    segs.sort_by_key(|s| s.0);
    let all: Vec<u8> = segs.iter().flat_map(|s| s.1.iter().copied()).collect();
    let mut shares = Vec::new();
    let mut p = 0usize;
    while p < all.len() && shares.len() < tile_parts {
        if all.len() - p < 4 {
            return Err(bad(segs[0].2, "PPM: truncated Nppm".into()));
        }
        let n = u32::from_be_bytes(all[p..p + 4].try_into().expect("4 bytes")) as usize;
        p += 4;
        if n > all.len() - p {
            return Err(bad(
                segs[0].2,
                format!("PPM: a tile-part's {n} bytes of headers run past the PPM data"),
            ));
        }
        shares.push(all[p..p + n].to_vec());
        p += n;
    }
    Ok(Some(shares))
}

fn ppt_data(data: &[u8], tp: &TilePart) -> Option<Vec<u8>> {
    let mut segs: Vec<(u8, &[u8])> = tp
        .segments
        .iter()
        .filter(|s| s.marker == PPT)
        .map(|s| {
            let p = s.payload(data);
            (p.first().copied().unwrap_or(0), p.get(1..).unwrap_or(&[]))
        })
        .collect();
    if segs.is_empty() {
        return None;
    }
    segs.sort_by_key(|s| s.0);
    Some(segs.iter().flat_map(|s| s.1.iter().copied()).collect())
}

/// The packed headers of the tile whose tile-parts are `parts` (indices
/// into `cs.tile_parts`): their PPM shares, or their PPT data, in
/// tile-part order; `None` when the tile's headers are in its data.
fn tile_headers(
    cs: &Codestream,
    data: &[u8],
    ppm: Option<&[Vec<u8>]>,
    parts: &[usize],
) -> Result<Option<Vec<u8>>> {
    let mut packed = Vec::new();
    let mut any = false;
    for &pi in parts {
        let tp = &cs.tile_parts[pi];
        match (ppm, ppt_data(data, tp)) {
            (Some(shares), _) => {
                packed.extend_from_slice(shares.get(pi).ok_or_else(|| {
                    bad(
                        tp.offset(),
                        "PPM: no packet headers for this tile-part".into(),
                    )
                })?);
                any = true;
            }
            (None, Some(v)) => {
                packed.extend_from_slice(&v);
                any = true;
            }
            (None, None) => {}
        }
    }
    Ok(any.then_some(packed))
}

/// The packed packet headers of tile `tile` (PPM shares or PPT data of its
/// tile-parts, concatenated in order: [`Packet::packed_header_offset`]
/// indexes them), or `None` when its headers are in the tile-part data.
pub fn packed_headers(cs: &Codestream, data: &[u8], tile: u16) -> Result<Option<Vec<u8>>> {
    let ppm = ppm_shares(data, &cs.main, cs.tile_parts.len())?;
    let parts: Vec<usize> = (0..cs.tile_parts.len())
        .filter(|&i| cs.tile_parts[i].sot.tile == tile)
        .collect();
    tile_headers(cs, data, ppm.as_deref(), &parts)
}

fn new_precinct(tc: &TileComponent, r: usize, k: u32, budget: &mut u64) -> Result<PrecinctState> {
    let bands = tc.resolutions[r].precinct_bands(k);
    let blocks: u64 = bands.iter().map(|b| b.cw as u64 * b.ch as u64).sum();
    // A tag tree has fewer than 2 nodes per leaf; two trees per band.
    if blocks.saturating_mul(5) > *budget {
        return Err(Error::new(
            crate::ErrorKind::Malformed,
            format!(
                "a precinct of {blocks} code-blocks: more than the codestream's size can describe"
            ),
        ));
    }
    *budget -= blocks * 5;
    Ok(PrecinctState {
        bands: bands
            .iter()
            .map(|b| BandState {
                cw: b.cw,
                ch: b.ch,
                included: 0,
                incl: TagTree::new(b.cw, b.ch),
                imsb: TagTree::new(b.cw, b.ch),
                blocks: vec![Block::default(); b.cw as usize * b.ch as usize],
            })
            .collect(),
    })
}

impl PacketIndex {
    /// Index every packet of `cs` (whose offsets refer to `data`).
    pub fn build(cs: &Codestream, data: &[u8]) -> Result<PacketIndex> {
        let ppm = ppm_shares(data, &cs.main, cs.tile_parts.len())?;
        let tiles = cs.siz.tiles() as usize;
        let mut packets = Vec::new();
        let mut missing = vec![0u64; tiles];
        // Budget for decoder state: proportional to the codestream's size.
        let mut budget = (data.len() as u64).saturating_mul(64).max(1 << 20);
        // Code-blocks visited by packet headers (a visit without a bit
        // read is possible for blocks not yet included): bounded too.
        let mut work = (data.len() as u64).saturating_mul(64) + (1 << 24);
        let mut parts_of: Vec<Vec<usize>> = vec![Vec::new(); tiles];
        for (i, tp) in cs.tile_parts.iter().enumerate() {
            parts_of[tp.sot.tile as usize].push(i);
        }
        // Geometry work (components x resolutions of each tile present):
        // bounded by the data too.
        let mut geometry = (data.len() as u64).saturating_mul(8) + 65536;
        let mut absent_tiles = Vec::new();
        for t in 0..tiles as u16 {
            let parts = &parts_of[t as usize];
            let Some(&first) = parts.first() else {
                absent_tiles.push(t);
                continue;
            };
            let coding = TileCoding::of(cs, Some(&cs.tile_parts[first]));
            let cost: u64 = coding.styles.iter().map(|s| s.levels as u64 + 1).sum();
            geometry = geometry.checked_sub(cost).ok_or_else(|| {
                bad(
                    cs.tile_parts[first].offset(),
                    format!(
                        "tile {t}: more tile-components and resolutions than the codestream's size can hold"
                    ),
                )
            })?;
            let tcs = tile_components(cs, t, &coding)?;
            let tile_pocs: Vec<Volume> = parts
                .iter()
                .flat_map(|&i| cs.tile_parts[i].pocs.iter().map(|&p| p.into()))
                .collect();
            let volumes = if !tile_pocs.is_empty() {
                tile_pocs
            } else if !cs.pocs.is_empty() {
                cs.pocs.iter().map(|&p| p.into()).collect()
            } else {
                vec![Volume {
                    layer_end: coding.cod.layers,
                    res_start: 0,
                    res_end: u8::MAX,
                    comp_start: 0,
                    comp_end: u16::MAX,
                    order: coding.cod.progression,
                }]
            };
            let bytes: u64 = parts
                .iter()
                .map(|&i| {
                    let tp = &cs.tile_parts[i];
                    let packed = ppm.as_ref().and_then(|s| s.get(i)).map_or(0, |v| v.len())
                        + ppt_data(data, tp).map_or(0, |v| v.len());
                    (tp.data.len() + packed) as u64
                })
                .sum();
            let (tx0, ty0, _, _) = cs.siz.tile_rect(t as u32);
            let order = packet_order(
                &tcs,
                coding.cod.layers,
                &volumes,
                (tx0 as u64, ty0 as u64),
                bytes.saturating_mul(8) + 65536,
            )?;
            let mut states: std::collections::HashMap<(u16, u8, u32), Option<PrecinctState>> =
                std::collections::HashMap::new();
            let mut next = 0usize;
            let mut headers = match tile_headers(cs, data, ppm.as_deref(), parts)? {
                Some(v) => Headers::Packed(v, 0),
                None => Headers::InStream,
            };
            for (n, &pi) in parts.iter().enumerate() {
                let tp = &cs.tile_parts[pi];
                let last_part = n + 1 == parts.len();
                let mut pos = tp.data.start;
                loop {
                    let packed_left = match &headers {
                        Headers::Packed(v, p) => v.len() - *p,
                        Headers::InStream => 0,
                    };
                    // Packets go to this tile-part while its data lasts; the
                    // last one also takes empty packets left in the packed
                    // headers.
                    if pos == tp.data.end && (!last_part || packed_left == 0) {
                        break;
                    }
                    let Some(&id) = order.get(next) else {
                        return Err(bad(
                            pos,
                            format!(
                                "tile {t}: data after the last of its {} packets",
                                order.len()
                            ),
                        ));
                    };
                    let seq = next as u32;
                    next += 1;
                    let start = pos;
                    let mut sop = false;
                    if coding.cod.sop() && data[pos..tp.data.end].starts_with(&SOP.to_be_bytes()) {
                        if tp.data.end - pos < 6 {
                            return Err(bad(pos, "truncated SOP marker".into()));
                        }
                        let nsop = u16::from_be_bytes([data[pos + 4], data[pos + 5]]);
                        if nsop != (seq % 65536) as u16 {
                            return Err(bad(
                                pos,
                                format!(
                                    "tile {t}: SOP says packet {nsop} where packet {} is due",
                                    seq % 65536
                                ),
                            ));
                        }
                        sop = true;
                        pos += 6;
                    }
                    let c = id.component as usize;
                    let r = id.resolution as usize;
                    let key = (id.component, id.resolution, id.precinct);
                    let st = states.entry(key).or_insert(None);
                    let budget = &mut budget;
                    let make = || new_precinct(&tcs[c], r, id.precinct, budget);
                    let style = tcs[c].cb_style;
                    let where_ = || {
                        format!(
                            "tile {t} packet {seq} (layer {}, resolution {r}, component {c}, precinct {})",
                            id.layer, id.precinct
                        )
                    };
                    let packed_at = match &headers {
                        Headers::Packed(_, p) => *p,
                        Headers::InStream => 0,
                    };
                    // The header, from the tile-part data or the packed
                    // stream; errors point at the header (in-stream) or at
                    // the tile-part (packed).
                    let (src, at, what) = match &headers {
                        Headers::InStream => (&data[pos..tp.data.end], pos, "header"),
                        Headers::Packed(v, p) => (&v[*p..], tp.offset(), "packed header"),
                    };
                    let (contribs, body, h) = read_header(
                        src,
                        st,
                        make,
                        id.layer as u32,
                        style,
                        &mut work,
                        coding.cod.eph(),
                    )
                    .map_err(|(off, m)| {
                        let off = if matches!(headers, Headers::InStream) {
                            off
                        } else {
                            0
                        };
                        bad(at + off, format!("{} ({what}): {m}", where_()))
                    })?;
                    let (header_length, packed_header_length) = match &mut headers {
                        Headers::InStream => {
                            pos += h;
                            (h, 0)
                        }
                        Headers::Packed(_, p) => {
                            *p += h;
                            (0, h)
                        }
                    };
                    if body > (tp.data.end - pos) as u64 {
                        return Err(bad(
                            pos,
                            format!(
                                "{}: a body of {body} bytes runs past the end of the tile-part ({} bytes left)",
                                where_(),
                                tp.data.end - pos
                            ),
                        ));
                    }
                    let body = body as usize;
                    packets.push(Packet {
                        tile: t,
                        tile_part: pi,
                        id,
                        seq,
                        offset: start,
                        length: pos + body - start,
                        header_length,
                        packed_header_length,
                        packed_header_offset: packed_at,
                        body_offset: pos,
                        body_length: body,
                        sop,
                        contributions: contribs,
                    });
                    pos += body;
                }
            }
            missing[t as usize] = (order.len() - next) as u64;
        }
        Ok(PacketIndex {
            packets,
            missing,
            absent_tiles,
        })
    }
}
