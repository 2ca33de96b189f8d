//! Zones of influence on a real codestream: which packets an image
//! description covers, which bytes of a packet body a region covers (by
//! code-block footprints), how packets group into units by granularity,
//! per-packet IVs and the messages that MACs and hashes cover
//! (`docs/jpsec-format.md` §6–§8).

use std::collections::HashMap;

use super::syntax::{Granularity, ImageZone, PacketRef, PacketState, Region};
use crate::j2k::codestream::Codestream;
use crate::j2k::geometry::{tile_components, TileCoding, TileComponent};
use crate::j2k::index::{packed_headers, Packet, PacketIndex};
use crate::j2k::marker::EPH;
use crate::j2k::J2kFile;
use crate::{Error, ErrorKind, Result};

/// Margin around a code-block's footprint, in coefficients of its band:
/// the half-length of the longest synthesis filter (9/7), so a block counts
/// as touching a region when any of its coefficients can change a sample in
/// it.
pub const FILTER_MARGIN: i64 = 4;

/// A parsed file with its packet index and the lookups the tools need.
pub struct Layout<'a> {
    /// The file bytes.
    pub data: &'a [u8],
    /// The file (JP2 boxes, codestream).
    pub file: J2kFile,
    /// Every packet.
    pub index: PacketIndex,
    /// File offset of the first SOT marker (packet offsets in the ZOI are
    /// relative to it).
    pub first_sot: usize,
    tcs: HashMap<u16, Vec<TileComponent>>,
    packed: HashMap<u16, Vec<u8>>,
    by_id: HashMap<Key, usize>,
}

/// A packet's identity: tile, layer, resolution, component, precinct.
pub type Key = (u16, u16, u8, u16, u32);

/// The identity of an indexed packet.
pub fn key_of(p: &Packet) -> Key {
    (
        p.tile,
        p.id.layer,
        p.id.resolution,
        p.id.component,
        p.id.precinct,
    )
}

/// The identity of a packet reference.
pub fn ref_key(p: &PacketRef) -> Key {
    (p.tile, p.layer, p.resolution, p.component, p.precinct)
}

/// A short description of a packet for messages.
pub fn describe(k: Key) -> String {
    format!(
        "tile {} layer {} resolution {} component {} precinct {}",
        k.0, k.1, k.2, k.3, k.4
    )
}

impl<'a> Layout<'a> {
    /// Parse and index `data`.
    pub fn new(data: &'a [u8]) -> Result<Layout<'a>> {
        let file = J2kFile::parse(data)?;
        let cs = &file.codestream;
        let index = PacketIndex::build(cs, data)?;
        let first_sot =
            cs.tile_parts.first().map(|t| t.offset()).ok_or_else(|| {
                Error::new(ErrorKind::Malformed, "the codestream has no tile-part")
            })?;
        let mut tcs = HashMap::new();
        for t in 0..cs.siz.tiles() as u16 {
            // As the index does: the tile's first tile-part in the file.
            let Some(first) = cs.tile_parts.iter().find(|tp| tp.sot.tile == t) else {
                continue;
            };
            let coding = TileCoding::of(cs, Some(first));
            tcs.insert(t, tile_components(cs, t, &coding)?);
        }
        let by_id = index
            .packets
            .iter()
            .enumerate()
            .map(|(i, p)| (key_of(p), i))
            .collect();
        Ok(Layout {
            data,
            file,
            index,
            first_sot,
            tcs,
            packed: HashMap::new(),
            by_id,
        })
    }

    /// The codestream.
    pub fn cs(&self) -> &Codestream {
        &self.file.codestream
    }

    /// The index of the packet with identity `k`.
    pub fn find(&self, k: Key) -> Option<usize> {
        self.by_id.get(&k).copied()
    }

    /// Decomposition levels of component `c` in tile `t`.
    pub fn levels(&self, t: u16, c: u16) -> u8 {
        self.tcs
            .get(&t)
            .and_then(|v| v.get(c as usize))
            .map_or(0, |tc| (tc.resolutions.len() - 1) as u8)
    }

    /// Whether packet `p` is in the zone description `z` (the region is
    /// not looked at here: see [`Layout::body_mask`]; packet sequence
    /// numbers and byte ranges refer to this codestream as it is).
    pub fn in_zone(&self, p: &Packet, z: &ImageZone) -> bool {
        z.tiles.as_ref().map_or(true, |t| t.contains(&p.tile))
            && z.resolutions
                .map_or(true, |(a, b)| (a..=b).contains(&p.id.resolution))
            && z.layers
                .map_or(true, |(a, b)| (a..=b).contains(&p.id.layer))
            && z.components
                .map_or(true, |(a, b)| (a..=b).contains(&p.id.component))
            && z.precincts
                .map_or(true, |(a, b)| (a..=b).contains(&p.id.precinct))
            && z.packets
                .as_ref()
                .map_or(true, |v| v.iter().any(|&(a, b)| (a..=b).contains(&p.seq)))
            && z.bytes.as_ref().map_or(true, |v| {
                let start = (p.body_offset - self.first_sot) as u64;
                let end = start + p.body_length as u64;
                v.iter().any(|&(o, n)| {
                    let (o, e) = (o as u64, o as u64 + n as u64);
                    if start == end {
                        (o..e).contains(&start)
                    } else {
                        start < e && o < end
                    }
                })
            })
    }

    /// Which bytes of `p`'s body a region selects: the contributions of the
    /// code-blocks whose footprint on the original reference grid, widened
    /// by [`FILTER_MARGIN`] coefficients, meets the region (`outside`:
    /// is not inside it). `shift` is the number of resolution levels
    /// removed since the region was recorded. `None`: the whole body.
    pub fn body_mask(
        &self,
        p: &Packet,
        region: Option<(Region, bool)>,
        shift: u8,
    ) -> Result<Option<Vec<bool>>> {
        let Some((reg, outside)) = region else {
            return Ok(None);
        };
        let tc = self
            .tcs
            .get(&p.tile)
            .and_then(|v| v.get(p.id.component as usize))
            .ok_or_else(|| Error::new(ErrorKind::Internal, "packet of an unknown tile"))?;
        let nl = (tc.resolutions.len() - 1) as u32;
        let r = p.id.resolution as u32;
        let res = &tc.resolutions[r as usize];
        let dx = tc.dx as i64;
        let dy = tc.dy as i64;
        let mut mask = vec![false; p.body_length];
        let mut pos = 0usize;
        for c in &p.contributions {
            let n = c.bytes as usize;
            let rect = res
                .code_block_rect(p.id.precinct, c.band as usize, c.block)
                .ok_or_else(|| {
                    Error::new(ErrorKind::Internal, "contribution of an unknown code-block")
                })?;
            // Exponent from band to tile-component coordinates, at the
            // original resolution.
            let (e, xo, yo) = if r == 0 {
                (nl + shift as u32, 0, 0)
            } else {
                let e = nl - r + 1 + shift as u32;
                match c.band {
                    0 => (e, 1, 0),
                    1 => (e, 0, 1),
                    _ => (e, 1, 1),
                }
            };
            if e > 40 {
                return Err(Error::new(
                    ErrorKind::Malformed,
                    "SEC: the reduced-levels count is out of range",
                ));
            }
            let s = 1i64 << e;
            let half = if e > 0 { s / 2 } else { 0 };
            let m = FILTER_MARGIN * s;
            let fx0 = (rect.x0 * s + xo * half - m) * dx;
            let fx1 = (rect.x1 * s + xo * half + m) * dx;
            let fy0 = (rect.y0 * s + yo * half - m) * dy;
            let fy1 = (rect.y1 * s + yo * half + m) * dy;
            let (rx0, ry0, rx1, ry1) = (reg.x0 as i64, reg.y0 as i64, reg.x1 as i64, reg.y1 as i64);
            let meets = fx0 < rx1 && rx0 < fx1 && fy0 < ry1 && ry0 < fy1;
            let inside = fx0 >= rx0 && fx1 <= rx1 && fy0 >= ry0 && fy1 <= ry1;
            let selected = if outside { !inside } else { meets };
            if pos + n > mask.len() {
                return Err(Error::new(
                    ErrorKind::Internal,
                    "contributions longer than the body",
                ));
            }
            if selected {
                mask[pos..pos + n].fill(true);
            }
            pos += n;
        }
        Ok(Some(mask))
    }

    /// The packet header's bytes (from the tile-part data or PPM / PPT),
    /// without SOP and without EPH.
    pub fn header(&mut self, i: usize) -> Result<Vec<u8>> {
        let p = &self.index.packets[i];
        let h: &[u8] = if p.packed_header_length == 0 {
            let sop = if p.sop { 6 } else { 0 };
            &self.data[p.offset + sop..p.body_offset]
        } else {
            if !self.packed.contains_key(&p.tile) {
                let v =
                    packed_headers(&self.file.codestream, self.data, p.tile)?.unwrap_or_default();
                self.packed.insert(p.tile, v);
            }
            let v = &self.packed[&p.tile];
            v.get(p.packed_header_offset..p.packed_header_offset + p.packed_header_length)
                .ok_or_else(|| Error::new(ErrorKind::Internal, "packed header out of range"))?
        };
        let h = match h {
            [rest @ .., a, b] if u16::from_be_bytes([*a, *b]) == EPH => rest,
            _ => h,
        };
        Ok(h.to_vec())
    }

    /// A reference to packet `i` as it is now.
    pub fn packet_ref(&self, i: usize) -> PacketRef {
        let p = &self.index.packets[i];
        PacketRef {
            tile: p.tile,
            layer: p.id.layer,
            resolution: p.id.resolution,
            component: p.id.component,
            precinct: p.id.precinct,
            body_length: p.body_length as u32,
            state: PacketState::Present,
            offset: (p.body_offset - self.first_sot) as u32,
        }
    }
}

/// The unit key of a packet under a granularity (packets with equal keys
/// and equal levels form one unit).
pub fn unit_key(g: Granularity, k: Key) -> Key {
    let (t, l, r, c, p) = k;
    match g {
        Granularity::Tile => (t, 0, 0, 0, 0),
        Granularity::Resolution => (t, 0, r, 0, 0),
        Granularity::Layer => (t, l, 0, 0, 0),
        Granularity::Component => (t, 0, 0, c, 0),
        Granularity::Precinct => (t, 0, r, c, p),
        Granularity::Packet => k,
    }
}

/// The IV of one packet: the first 16 bytes of
/// `SHA-256("jsec/jpsec/v1/iv" ‖ global IV ‖ tile ‖ layer ‖ resolution ‖
/// component ‖ precinct)` (big-endian u16, u16, u8, u16, u32).
pub fn packet_iv(global: &[u8; 16], k: Key) -> [u8; 16] {
    let d = crate::crypto::sha256(&[
        b"jsec/jpsec/v1/iv",
        global,
        &k.0.to_be_bytes(),
        &k.1.to_be_bytes(),
        &[k.2],
        &k.3.to_be_bytes(),
        &k.4.to_be_bytes(),
    ]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&d[..16]);
    iv
}

/// Encrypt (`encrypt`) or decrypt the body of packet `k` in place with the
/// decryption tool's cipher (§8.4, §8.5 of the format): format-compliant
/// over the selected positions, or plain over the body or, with a mask,
/// over the selected bytes gathered in order as one unit.
pub fn crypt_body(
    c: &crate::crypto::modes::UnitCipher,
    iv: &[u8; 16],
    k: Key,
    body: &mut [u8],
    mask: Option<&[bool]>,
    compliant: bool,
    encrypt: bool,
) -> Result<()> {
    if compliant {
        let r = if encrypt {
            c.compliant_encrypt(iv, body, mask)
        } else {
            c.compliant_decrypt(iv, body, mask)
        };
        return r.map_err(|e| e.context(describe(k)));
    }
    let run = |d: &mut [u8]| {
        if encrypt {
            c.encrypt(iv, d)
        } else {
            c.decrypt(iv, d)
        }
    };
    match mask {
        None => run(body),
        Some(m) => {
            let mut sel: Vec<u8> = body
                .iter()
                .zip(m)
                .filter(|(_, &s)| s)
                .map(|(b, _)| *b)
                .collect();
            run(&mut sel);
            let mut it = sel.into_iter();
            for (b, &s) in body.iter_mut().zip(m) {
                if s {
                    *b = it.next().unwrap_or(*b);
                }
            }
        }
    }
    Ok(())
}

/// Label that starts every unit message.
pub const UNIT_LABEL: &[u8] = b"jsec/jpsec/v1/unit";

/// The message a unit's MAC or hash covers, given each packet's identity,
/// header and body: `"jsec/jpsec/v1/unit" ‖ instance (u32) ‖ unit index
/// (u32)`, then per packet `tile (u16) ‖ layer (u16) ‖ resolution (u8) ‖
/// component (u16) ‖ precinct (u32) ‖ header length (u32) ‖ header ‖ body
/// length (u32) ‖ body`. Fed to `sink` piece by piece; returns the total
/// length when `sink` is a counter.
pub fn unit_message(
    instance: u32,
    unit: u32,
    packets: &[(Key, &[u8], &[u8])],
    sink: &mut dyn FnMut(&[u8]),
) {
    sink(UNIT_LABEL);
    sink(&instance.to_be_bytes());
    sink(&unit.to_be_bytes());
    for (k, h, b) in packets {
        sink(&k.0.to_be_bytes());
        sink(&k.1.to_be_bytes());
        sink(&[k.2]);
        sink(&k.3.to_be_bytes());
        sink(&k.4.to_be_bytes());
        sink(&(h.len() as u32).to_be_bytes());
        sink(h);
        sink(&(b.len() as u32).to_be_bytes());
        sink(b);
    }
}
