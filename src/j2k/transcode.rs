//! Keyless transcoding: keep only the packets of the first layers, of the
//! lower resolutions and of chosen tiles, and rewrite the headers that
//! describe them (SIZ, COD, COC, QCD, QCC, POC, SOT, TLM, PLT, PLM, PPM,
//! PPT, SOP numbers, the JP2 `ihdr`). Packet bytes are copied as they are:
//! dropping later layers or higher resolutions removes whole precincts'
//! packet suffixes, so every kept header decodes as before. Protected
//! packets stay protected: no key is involved.
//!
//! The output is checked before it is returned: it is parsed and indexed
//! again, and its packets must be exactly the kept ones, with the same
//! bodies and code-block contributions.

use std::collections::HashMap;

use super::boxes::{self, Jp2Box};
use super::codestream::{Codestream, Segment};
use super::index::{packed_headers, Packet, PacketIndex};
use super::marker::{self, COC, COD, PLM, PLT, POC, PPM, PPT, QCC, QCD, SIZ, SOP, SOT, TLM};
use super::J2kFile;
use crate::{Error, ErrorKind, Result};

/// What to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscodeOptions {
    /// Resolution levels to drop (like `opj_decompress -r N`).
    pub reduce: u8,
    /// Quality layers to keep (`None`: all; like `opj_decompress -l L`).
    pub layers: Option<u16>,
    /// Tiles to keep (`None`: all). The others lose their tile-parts.
    pub tiles: Option<Vec<u16>>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid_argument(msg.into())
}

fn seg(marker: u16, body: &[u8]) -> Vec<u8> {
    let mut v = marker.to_be_bytes().to_vec();
    v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// Packet lengths as PLT / PLM code them: 7-bit groups, high bit = more.
fn varint(mut n: u64, out: &mut Vec<u8>) {
    let mut groups = vec![(n & 0x7F) as u8];
    n >>= 7;
    while n > 0 {
        groups.push((n & 0x7F) as u8 | 0x80);
        n >>= 7;
    }
    out.extend(groups.iter().rev());
}

/// Split `payload` (after a one-byte index Z) into segments of `marker`
/// with Z = 0, 1, ...
fn indexed_segments(marker: u16, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    for (z, chunk) in payload.chunks(65530).enumerate() {
        if z > 255 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("more than 256 {} segments needed", marker::name(marker)),
            ));
        }
        let mut body = vec![z as u8];
        body.extend_from_slice(chunk);
        out.extend_from_slice(&seg(marker, &body));
    }
    Ok(())
}

struct Rewriter<'a> {
    data: &'a [u8],
    cs: &'a Codestream,
    reduce: u32,
    layers: Option<u16>,
}

impl Rewriter<'_> {
    /// SPcod / SPcoc with `NL - reduce` levels and the precinct list cut.
    fn style(&self, p: &[u8], defined: bool) -> Vec<u8> {
        let mut v = p[..5].to_vec();
        v[0] -= self.reduce as u8;
        if defined {
            v.extend_from_slice(&p[5..5 + v[0] as usize + 1]);
        }
        v
    }

    /// A marker segment of the main or a tile-part header, rewritten (or
    /// `None` to drop it).
    fn segment(&self, s: &Segment, siz_bytes: &[u8]) -> Result<Option<Vec<u8>>> {
        let p = s.payload(self.data);
        let n = self.cs.siz.component_index_len();
        Ok(match s.marker {
            SIZ => Some(siz_bytes.to_vec()),
            COD => {
                let mut v = p[..5].to_vec();
                if let Some(l) = self.layers {
                    let have = u16::from_be_bytes([v[2], v[3]]);
                    v[2..4].copy_from_slice(&l.min(have).to_be_bytes());
                }
                v.extend(self.style(&p[5..], p[0] & 1 != 0));
                Some(seg(COD, &v))
            }
            COC => {
                let mut v = p[..n + 1].to_vec();
                v.extend(self.style(&p[n + 1..], p[n] & 1 != 0));
                Some(seg(COC, &v))
            }
            QCD | QCC => {
                let head = if s.marker == QCD { 0 } else { n };
                let style = p.get(head).map(|sq| sq & 0x1F);
                let cut = 3
                    * self.reduce as usize
                    * match style {
                        Some(0) => 1,
                        Some(2) => 2,
                        _ => 0,
                    };
                // At least the Sqcx byte and the LL sub-band's entry stay.
                if p.len() < head + 2 + cut {
                    return Err(Error::malformed_at(
                        s.offset as u64,
                        format!(
                            "{}: {} bytes cannot hold the step sizes of the sub-bands",
                            marker::name(s.marker),
                            p.len()
                        ),
                    ));
                }
                Some(seg(s.marker, &p[..p.len() - cut]))
            }
            POC => {
                let size = 5 + 2 * n;
                let mut v = p.to_vec();
                for e in v.chunks_exact_mut(size) {
                    if let Some(l) = self.layers {
                        let ly = u16::from_be_bytes([e[1 + n], e[2 + n]]);
                        e[1 + n..3 + n].copy_from_slice(&ly.min(l).to_be_bytes());
                    }
                }
                Some(seg(POC, &v))
            }
            // Regenerated from the kept packets, or dropped.
            TLM | PLM | PLT | PPM | PPT => None,
            _ => Some(s.bytes(self.data).to_vec()),
        })
    }
}

/// The new SIZ segment for `reduce` levels dropped.
fn reduced_siz(cs: &Codestream, data: &[u8], reduce: u32) -> Result<Vec<u8>> {
    let siz = &cs.siz;
    let s = cs.main[1];
    let mut p = s.payload(data).to_vec();
    if reduce > 0 {
        let d = |v: u32| -> u32 { ((v as u64).div_ceil(1u64 << reduce)) as u32 };
        let single = siz.tiles_x() == 1 && siz.tiles_y() == 1;
        if !single && (siz.tile_w % (1 << reduce) != 0 || siz.tile_h % (1 << reduce) != 0) {
            return Err(invalid(format!(
                "--reduce {reduce}: the {}x{} tiles are not multiples of {}, so the reduced image has no regular tile grid",
                siz.tile_w,
                siz.tile_h,
                1u32 << reduce
            )));
        }
        let (w, h, x0, y0) = (d(siz.width), d(siz.height), d(siz.x0), d(siz.y0));
        let (tx0, ty0) = (d(siz.tile_x0), d(siz.tile_y0));
        let (tw, th) = if single {
            (w - tx0, h - ty0)
        } else {
            (siz.tile_w >> reduce, siz.tile_h >> reduce)
        };
        for (i, v) in [w, h, x0, y0, tw, th, tx0, ty0].iter().enumerate() {
            p[2 + 4 * i..6 + 4 * i].copy_from_slice(&v.to_be_bytes());
        }
    }
    Ok(seg(SIZ, &p))
}

/// Patch the width and height of the `ihdr` box inside `jp2h`.
fn patch_ihdr(out: &mut [u8], boxes: &[Jp2Box], w: u32, h: u32) {
    for b in boxes.iter().filter(|b| b.kind == boxes::JP2H) {
        let mut p = b.offset + b.header_len;
        let end = b.offset + b.len;
        while p + 8 <= end {
            let l = u32::from_be_bytes(out[p..p + 4].try_into().expect("4 bytes")) as usize;
            if &out[p + 4..p + 8] == b"ihdr" && p + 16 <= end {
                out[p + 8..p + 12].copy_from_slice(&h.to_be_bytes());
                out[p + 12..p + 16].copy_from_slice(&w.to_be_bytes());
                return;
            }
            if l < 8 {
                return;
            }
            p += l;
        }
    }
}

/// Transcode `data` (a raw codestream or a JP2 file): see the module
/// documentation. Errors: `JSEC_ERR_INVALID_ARGUMENT` for options the file
/// cannot take (more levels than it has, tiles it does not have),
/// `JSEC_ERR_MALFORMED` for a damaged file.
pub fn transcode(data: &[u8], opts: &TranscodeOptions) -> Result<Vec<u8>> {
    transcode_mapped(data, opts).map(|t| t.data)
}

/// A transcoded file and how its packets and tiles map onto the input's.
#[derive(Debug, Clone)]
pub struct Transcoded {
    /// The output file.
    pub data: Vec<u8>,
    /// For each packet of the output, in codestream order: its index in
    /// the input's [`PacketIndex`].
    pub kept: Vec<usize>,
    /// For each input tile: its index in the output (`None`: gone).
    pub tiles: Vec<Option<u16>>,
}

/// [`transcode`], also telling which input packets and tiles became which.
pub fn transcode_mapped(data: &[u8], opts: &TranscodeOptions) -> Result<Transcoded> {
    let f = J2kFile::parse(data)?;
    let cs = &f.codestream;
    let ix = PacketIndex::build(cs, data)?;
    let reduce = opts.reduce as u32;
    // Every tile-component must have the levels to drop.
    let min_levels = cs
        .tile_parts
        .iter()
        .flat_map(|tp| {
            tp.cod
                .iter()
                .map(|c| c.style.levels)
                .chain(tp.cocs.iter().map(|c| c.style.levels))
        })
        .chain(std::iter::once(cs.cod.style.levels))
        .chain(cs.cocs.iter().map(|c| c.style.levels))
        .min()
        .unwrap_or(0) as u32;
    if reduce > min_levels {
        return Err(invalid(format!(
            "--reduce {reduce}: the codestream has only {min_levels} decomposition level(s) in some tile-component"
        )));
    }
    if opts.layers == Some(0) {
        return Err(invalid("--layers 0: keep at least one layer"));
    }
    if let Some(ts) = &opts.tiles {
        if let Some(t) = ts.iter().find(|&&t| t as u32 >= cs.siz.tiles()) {
            return Err(invalid(format!(
                "tile {t}: the image has {} tiles",
                cs.siz.tiles()
            )));
        }
    }
    let keep_tile = |t: u16| opts.tiles.as_ref().map_or(true, |ts| ts.contains(&t));
    // Resolution count per (tile, component) in the original.
    let levels_of = |t: u16, c: u16| -> u32 {
        let first = cs
            .tile_parts
            .iter()
            .find(|tp| tp.sot.tile == t && tp.sot.part == 0);
        super::geometry::TileCoding::of(cs, first).styles[c as usize].levels as u32
    };
    let mut nl_cache: HashMap<(u16, u16), u32> = HashMap::new();
    let mut keep = |p: &Packet| -> bool {
        if !keep_tile(p.tile) {
            return false;
        }
        if opts.layers.is_some_and(|l| p.id.layer >= l) {
            return false;
        }
        let nl = *nl_cache
            .entry((p.tile, p.id.component))
            .or_insert_with(|| levels_of(p.tile, p.id.component));
        (p.id.resolution as u32) + reduce <= nl
    };
    let kept_idx: Vec<usize> = (0..ix.packets.len())
        .filter(|&i| keep(&ix.packets[i]))
        .collect();
    let kept: Vec<&Packet> = kept_idx.iter().map(|&i| &ix.packets[i]).collect();
    let rw = Rewriter {
        data,
        cs,
        reduce,
        layers: opts.layers,
    };
    let siz_bytes = reduced_siz(cs, data, reduce)?;
    // Where each tile lands in the reduced tile grid (tiles whose reduced
    // area is empty vanish: their kept resolutions hold no packet).
    let new_siz = {
        let mut v = vec![0xFF, 0x4F];
        v.extend_from_slice(&siz_bytes);
        v.extend_from_slice(&[0xFF, 0x52, 0, 12, 0, 0, 0, 1, 0, 0, 4, 4, 0, 1]);
        v.extend_from_slice(&[0xFF, 0x5C, 0, 4, 0, 0x40]);
        v.extend_from_slice(&[0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 14, 0, 1, 0xFF, 0x93]);
        Codestream::parse(&v, 0)
            .map_err(|e| invalid(format!("--reduce {reduce}: {}", e.message())))?
            .siz
    };
    let d = |v: u32| -> u32 { ((v as u64).div_ceil(1u64 << reduce)) as u32 };
    let mut tile_map: HashMap<u16, Option<u16>> = HashMap::new();
    for t in 0..cs.siz.tiles() {
        let (x0, y0, x1, y1) = cs.siz.tile_rect(t);
        let r = (d(x0), d(y0), d(x1), d(y1));
        let mapped = if r.0 >= r.2 || r.1 >= r.3 {
            None
        } else {
            let px = (r.0 - new_siz.tile_x0) / new_siz.tile_w;
            let py = (r.1 - new_siz.tile_y0) / new_siz.tile_h;
            let nt = py * new_siz.tiles_x() + px;
            if nt >= new_siz.tiles() || new_siz.tile_rect(nt) != r {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("--reduce {reduce}: tile {t} does not map onto the reduced tile grid"),
                ));
            }
            Some(nt as u16)
        };
        tile_map.insert(t as u16, mapped);
    }
    let mut packed: HashMap<u16, Vec<u8>> = HashMap::new();
    let header_of = |p: &Packet, packed: &mut HashMap<u16, Vec<u8>>| -> Result<Vec<u8>> {
        if p.packed_header_length == 0 {
            let sop = if p.sop { 6 } else { 0 };
            return Ok(data[p.offset + sop..p.body_offset].to_vec());
        }
        let h = match packed.entry(p.tile) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(packed_headers(cs, data, p.tile)?.unwrap_or_default())
            }
        };
        Ok(h[p.packed_header_offset..p.packed_header_offset + p.packed_header_length].to_vec())
    };
    let uses_ppm = cs.main.iter().any(|s| s.marker == PPM);
    let has_tlm = cs.main.iter().any(|s| s.marker == TLM);
    let has_plm = cs.main.iter().any(|s| s.marker == PLM);
    // Tile-parts kept, with their packets' new data and headers.
    let mut parts = Vec::new();
    let mut seq: HashMap<u16, u32> = HashMap::new();
    for (i, tp) in cs.tile_parts.iter().enumerate() {
        if !keep_tile(tp.sot.tile) {
            continue;
        }
        let Some(new_tile) = tile_map[&tp.sot.tile] else {
            if kept.iter().any(|p| p.tile_part == i) {
                return Err(Error::new(
                    ErrorKind::Internal,
                    format!(
                        "tile {} vanishes at this resolution but has packets there",
                        tp.sot.tile
                    ),
                ));
            }
            continue;
        };
        let mut sot = tp.sot;
        sot.tile = new_tile;
        let mut body = Vec::new();
        let mut headers = Vec::new();
        let mut lengths = Vec::new();
        let packed_here = tp.segments.iter().any(|s| s.marker == PPT) || uses_ppm;
        for p in kept.iter().filter(|p| p.tile_part == i) {
            let n = seq.entry(p.tile).or_insert(0);
            let start = body.len();
            if p.sop {
                body.extend_from_slice(&SOP.to_be_bytes());
                body.extend_from_slice(&[0, 4]);
                body.extend_from_slice(&((*n % 65536) as u16).to_be_bytes());
            }
            *n += 1;
            let h = header_of(p, &mut packed)?;
            if packed_here {
                headers.extend_from_slice(&h);
            } else {
                body.extend_from_slice(&h);
            }
            body.extend_from_slice(&data[p.body_offset..p.body_offset + p.body_length]);
            lengths.push((body.len() - start) as u64);
        }
        let mut hdr = Vec::new();
        for s in &tp.segments[1..tp.segments.len() - 1] {
            if let Some(b) = rw.segment(s, &siz_bytes)? {
                hdr.extend_from_slice(&b);
            }
        }
        if tp.segments.iter().any(|s| s.marker == PPT) && !uses_ppm {
            indexed_segments(PPT, &headers, &mut hdr)?;
        }
        if tp.segments.iter().any(|s| s.marker == PLT) || has_plm {
            let mut v = Vec::new();
            for &l in &lengths {
                varint(l, &mut v);
            }
            indexed_segments(PLT, &v, &mut hdr)?;
        }
        parts.push((sot, hdr, body, headers));
    }
    let mut out = Vec::new();
    for s in &cs.main {
        if s.marker == marker::SOC {
            out.extend_from_slice(s.bytes(data));
            continue;
        }
        if let Some(b) = rw.segment(s, &siz_bytes)? {
            out.extend_from_slice(&b);
        }
    }
    if has_tlm {
        // Ztlm, Stlm: Ttlm 8 bits when the tile indices fit, else 16;
        // Ptlm 16 bits when the lengths fit, else 32.
        let lens: Vec<(u16, u64)> = parts
            .iter()
            .map(|(sot, hdr, body, _)| (sot.tile, (14 + hdr.len() + body.len()) as u64))
            .collect();
        let t8 = lens.iter().all(|&(t, _)| t < 256);
        let p16 = lens.iter().all(|&(_, l)| l < 65536);
        let stlm = if t8 { 0x10 } else { 0x20 } | if p16 { 0 } else { 0x40 };
        let mut v = Vec::new();
        for &(t, l) in &lens {
            if t8 {
                v.push(t as u8);
            } else {
                v.extend_from_slice(&t.to_be_bytes());
            }
            if p16 {
                v.extend_from_slice(&(l as u16).to_be_bytes());
            } else {
                v.extend_from_slice(&(l as u32).to_be_bytes());
            }
        }
        let entry = if t8 { 1 } else { 2 } + if p16 { 2 } else { 4 };
        for (z, chunk) in v.chunks(entry * 10000).enumerate() {
            let mut b = vec![z as u8, stlm];
            b.extend_from_slice(chunk);
            out.extend_from_slice(&seg(TLM, &b));
        }
    }
    if uses_ppm {
        let mut v = Vec::new();
        for (_, _, _, headers) in &parts {
            v.extend_from_slice(&(headers.len() as u32).to_be_bytes());
            v.extend_from_slice(headers);
        }
        indexed_segments(PPM, &v, &mut out)?;
    }
    for (sot, hdr, body, _) in &parts {
        out.extend_from_slice(&SOT.to_be_bytes());
        out.extend_from_slice(&[0, 10]);
        out.extend_from_slice(&sot.tile.to_be_bytes());
        out.extend_from_slice(&((14 + hdr.len() + body.len()) as u32).to_be_bytes());
        out.extend_from_slice(&[sot.part, sot.parts]);
        out.extend_from_slice(hdr);
        out.extend_from_slice(&marker::SOD.to_be_bytes());
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&marker::EOC.to_be_bytes());
    // Check: the output's packets are the kept ones, in the order the new
    // geometry gives, with the same bodies and contributions.
    let new = Codestream::parse(&out, 0).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("transcoded codestream does not parse: {}", e.message()),
        )
    })?;
    let nix = PacketIndex::build(&new, &out).map_err(|e| {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "this codestream cannot be transcoded so (the result does not index: {})",
                e.message()
            ),
        )
    })?;
    let same = nix.packets.len() == kept.len()
        && nix.packets.iter().zip(&kept).all(|(a, b)| {
            a.id == b.id
                && a.contributions == b.contributions
                && out[a.body_offset..a.body_offset + a.body_length]
                    == data[b.body_offset..b.body_offset + b.body_length]
        });
    if !same {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "this codestream cannot be transcoded so: the reduced geometry orders its packets differently",
        ));
    }
    let tiles = (0..cs.siz.tiles() as u16)
        .map(|t| {
            if keep_tile(t) {
                tile_map.get(&t).copied().flatten()
            } else {
                None
            }
        })
        .collect();
    let data = match &f.boxes {
        None => out,
        Some(bx) => {
            let mut file = boxes::replace_codestream(data, bx, &out)?;
            let s = &new.siz;
            let nb = boxes::parse_boxes(&file)?;
            patch_ihdr(&mut file, &nb, s.width - s.x0, s.height - s.y0);
            file
        }
    };
    Ok(Transcoded {
        data,
        kept: kept_idx,
        tiles,
    })
}
