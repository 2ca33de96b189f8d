//! Lossless crop of a baseline / extended-sequential Huffman JPEG on the
//! iMCU grid: the kept blocks' quantized coefficients are re-encoded
//! unchanged (DC prediction restarted, optimal Huffman tables built for
//! them), so a decoder gives exactly the pixels of the same region of the
//! original (the pixels `jpegtran -crop` gives).

use super::coefficients::Coefficients;
use super::encode::{count_block, BitWriter, EncTable, Freq};
use super::marker::{self, HeaderSegment};
use crate::{Error, Result};

fn push_segment(out: &mut Vec<u8>, m: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, m]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// Crop the JPEG `data` (whose coefficients are `coefs`) to `w` x `h`
/// pixels at (`x`, `y`); `x` and `y` must be multiples of the iMCU size,
/// and the rectangle inside the image. The output keeps the original's
/// APPn and COM segments before its first scan, in order (`keep` decides
/// for each; a caller drops a stale signature that way), then DQT, a frame
/// header with the new size, optimal DHT tables, one scan (interleaved for
/// several components) and EOI; no restart intervals.
pub fn crop(
    data: &[u8],
    coefs: &Coefficients,
    (x, y, w, h): (u32, u32, u32, u32),
    keep: impl Fn(&HeaderSegment, &[u8]) -> bool,
) -> Result<Vec<u8>> {
    let f = &coefs.frame;
    let (uw, uh) = f.imcu_size();
    let past = |start: u32, len: u32, size: u32| start as u64 + len as u64 > size as u64;
    if w == 0 || h == 0 || past(x, w, f.width) || past(y, h, f.height) {
        return Err(Error::invalid_argument(format!(
            "crop {w}x{h} at ({x}, {y}) is not inside the {}x{} image",
            f.width, f.height
        )));
    }
    if x % uw != 0 || y % uh != 0 {
        return Err(Error::invalid_argument(format!(
            "crop corner ({x}, {y}) is not on the {uw}x{uh} iMCU grid; the nearest corner up-left is ({}, {})",
            x / uw * uw,
            y / uh * uh
        )));
    }
    let n = f.components.len();
    let single = n == 1;
    let (mcus_x, mcus_y) = (w.div_ceil(uw), h.div_ceil(uh));
    // Per component: blocks per MCU and the source offset in blocks.
    let geo: Vec<(u32, u32, u32, u32)> = (0..n)
        .map(|c| {
            let (ph, pv) = f.imcu_blocks(c);
            (ph, pv, x / uw * ph, y / uh * pv)
        })
        .collect();
    let zero = [0i16; 64];
    let block = |c: usize, bx: u32, by: u32| -> &[i16] {
        let cc = &coefs.components[c];
        let (sx, sy) = (bx + geo[c].2, by + geo[c].3);
        if sx < cc.blocks_w && sy < cc.blocks_h {
            cc.block(sx, sy)
        } else {
            &zero
        }
    };
    // Blocks in coding order: (component, bx, by) per MCU.
    let mut order: Vec<(usize, u32, u32)> = Vec::new();
    let table_of = |c: usize| usize::from(c > 0);
    // Pass 1: statistics.
    let mut freqs = vec![(Freq::default(), Freq::default()); if single { 1 } else { 2 }];
    let mut preds = vec![0i32; n];
    for my in 0..mcus_y {
        for mx in 0..mcus_x {
            order.clear();
            for (c, &(ph, pv, _, _)) in geo.iter().enumerate() {
                for v in 0..pv {
                    for u in 0..ph {
                        order.push((c, mx * ph + u, my * pv + v));
                    }
                }
            }
            for &(c, bx, by) in &order {
                let b = block(c, bx, by);
                let t = &mut freqs[table_of(c)];
                if !count_block(b, preds[c], &mut t.0, &mut t.1) {
                    return Err(Error::new(
                        crate::ErrorKind::Unsupported,
                        format!(
                            "block ({bx}, {by}) of component {c} holds a value that 8-bit Huffman JPEG cannot code (a corrupt source?); it cannot be re-encoded"
                        ),
                    ));
                }
                preds[c] = b[0] as i32;
            }
        }
    }
    let tables: Vec<(EncTable, EncTable)> = freqs
        .iter()
        .map(|(d, a)| (EncTable::optimal(d), EncTable::optimal(a)))
        .collect();
    // Pass 2: entropy-coded data.
    let mut wr = BitWriter::new();
    preds.iter_mut().for_each(|p| *p = 0);
    for my in 0..mcus_y {
        for mx in 0..mcus_x {
            for (c, &(ph, pv, _, _)) in geo.iter().enumerate() {
                for v in 0..pv {
                    for u in 0..ph {
                        let (d, a) = &tables[table_of(c)];
                        preds[c] = wr.block(block(c, mx * ph + u, my * pv + v), preds[c], d, a);
                    }
                }
            }
        }
    }
    let scan_data = wr.finish();
    // Headers.
    let segs = marker::header_segments(data)?;
    let mut out = Vec::with_capacity(scan_data.len() + 2048);
    out.extend_from_slice(&[0xFF, marker::SOI]);
    for s in &segs {
        if (marker::is_app(s.marker) || s.marker == marker::COM) && keep(s, data) {
            out.extend_from_slice(&data[s.offset..s.offset + s.len]);
        }
    }
    let mut extended = false;
    let mut used: Vec<u8> = f.components.iter().map(|c| c.tq).collect();
    used.sort_unstable();
    used.dedup();
    for &id in &used {
        let q = coefs.quant[id as usize & 3].as_ref().ok_or_else(|| {
            Error::malformed_at(
                0,
                format!("quantization table {id} is used but not defined"),
            )
        })?;
        let mut body = vec![q.precision << 4 | id];
        for &n in &super::segment::ZIGZAG_TO_NATURAL {
            let v = q.values[n as usize];
            if q.precision == 0 {
                body.push(v as u8);
            } else {
                body.extend_from_slice(&v.to_be_bytes());
                extended = true;
            }
        }
        push_segment(&mut out, marker::DQT, &body);
    }
    let mut sof = vec![8];
    sof.extend_from_slice(&(h as u16).to_be_bytes());
    sof.extend_from_slice(&(w as u16).to_be_bytes());
    sof.push(n as u8);
    for c in &f.components {
        sof.extend_from_slice(&[c.id, c.h << 4 | c.v, c.tq]);
    }
    push_segment(
        &mut out,
        if extended { marker::SOF1 } else { marker::SOF0 },
        &sof,
    );
    let mut dht = Vec::new();
    for (i, (d, a)) in tables.iter().enumerate() {
        dht.extend_from_slice(&d.dht_body(0, i as u8));
        dht.extend_from_slice(&a.dht_body(1, i as u8));
    }
    push_segment(&mut out, marker::DHT, &dht);
    let mut sos = vec![n as u8];
    for (i, c) in f.components.iter().enumerate() {
        let t = table_of(i) as u8;
        sos.extend_from_slice(&[c.id, t << 4 | t]);
    }
    sos.extend_from_slice(&[0, 63, 0]);
    push_segment(&mut out, marker::SOS, &sos);
    out.extend_from_slice(&scan_data);
    out.extend_from_slice(&[0xFF, marker::EOI]);
    Ok(out)
}
