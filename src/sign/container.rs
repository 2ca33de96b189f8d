//! The signature container: a signature record split across COM segments
//! that carry a magic, a version and lengths, so that a reader never takes a
//! user comment for a signature (docs/sign-format.md, "Container").
//!
//! Segment payload (all integers big-endian):
//! `"JSEC-SIG" | u8 version = 1 | u8 0 | u16 index | u16 count | u32 record
//! length | record bytes [chunk]`.

use crate::jpeg::marker::{self, HeaderSegment};
use crate::{Error, ErrorKind, Result};

/// First eight bytes of every signature COM segment.
pub const MAGIC: &[u8; 8] = b"JSEC-SIG";
/// Container version written and read.
pub const VERSION: u8 = 1;
/// Bytes of segment header before the chunk.
pub const SEGMENT_HEADER: usize = 8 + 1 + 1 + 2 + 2 + 4;
/// Largest COM payload (segment length field 65535 minus its own 2 bytes).
pub const MAX_PAYLOAD: usize = 65533;
/// Largest record accepted (a full signature table of a very large image at
/// the finest granularity stays far below).
pub const MAX_RECORD: usize = 64 << 20;

/// Split `record` into complete COM segments (marker, length and payload).
pub fn to_segments(record: &[u8]) -> Result<Vec<u8>> {
    if record.is_empty() || record.len() > MAX_RECORD {
        return Err(Error::invalid_argument(format!(
            "signature record of {} bytes (1 to {MAX_RECORD})",
            record.len()
        )));
    }
    let chunk = MAX_PAYLOAD - SEGMENT_HEADER;
    let count = record.len().div_ceil(chunk);
    if count > u16::MAX as usize {
        return Err(Error::invalid_argument(
            "signature record needs too many segments",
        ));
    }
    let mut out = Vec::with_capacity(record.len() + count * (SEGMENT_HEADER + 4));
    for (i, part) in record.chunks(chunk).enumerate() {
        let payload_len = SEGMENT_HEADER + part.len();
        out.extend_from_slice(&[0xFF, marker::COM]);
        out.extend_from_slice(&((payload_len + 2) as u16).to_be_bytes());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(0);
        out.extend_from_slice(&(i as u16).to_be_bytes());
        out.extend_from_slice(&(count as u16).to_be_bytes());
        out.extend_from_slice(&(record.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// True when a COM payload starts with the signature magic.
pub fn is_signature_payload(payload: &[u8]) -> bool {
    payload.len() >= MAGIC.len() && &payload[..MAGIC.len()] == MAGIC
}

fn bad(at: usize, msg: impl Into<String>) -> Error {
    Error::malformed_at(at as u64, format!("signature segment: {}", msg.into()))
}

/// The signature record stored in the header segments of `data`, if any.
/// Every COM segment starting with the magic is part of it; they must agree
/// on the version, count and length, and hold each index exactly once.
pub fn read_record(data: &[u8], segs: &[HeaderSegment]) -> Result<Option<Vec<u8>>> {
    let mut parts: Vec<Option<&[u8]>> = Vec::new();
    let mut meta: Option<(usize, usize)> = None; // (count, length)
    for s in segs.iter().filter(|s| s.marker == marker::COM) {
        let p = s.payload(data);
        if !is_signature_payload(p) {
            continue;
        }
        if p.len() < SEGMENT_HEADER {
            return Err(bad(s.offset, "shorter than its header"));
        }
        if p[8] != VERSION {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "signature segment at byte offset {}: container version {} (this jsec reads version {VERSION})",
                    s.offset, p[8]
                ),
            ));
        }
        let index = u16::from_be_bytes([p[10], p[11]]) as usize;
        let count = u16::from_be_bytes([p[12], p[13]]) as usize;
        let length = u32::from_be_bytes([p[14], p[15], p[16], p[17]]) as usize;
        if count == 0 || index >= count {
            return Err(bad(s.offset, format!("index {index} of {count}")));
        }
        if length == 0 || length > MAX_RECORD {
            return Err(bad(s.offset, format!("record length {length}")));
        }
        match meta {
            None => {
                meta = Some((count, length));
                parts = vec![None; count];
            }
            Some(m) if m != (count, length) => {
                return Err(bad(
                    s.offset,
                    "segments disagree on the number of segments or the record length",
                ))
            }
            Some(_) => {}
        }
        if parts[index].replace(&p[SEGMENT_HEADER..]).is_some() {
            return Err(bad(s.offset, format!("segment {index} appears twice")));
        }
    }
    let Some((count, length)) = meta else {
        return Ok(None);
    };
    let mut record = Vec::with_capacity(length);
    for (i, part) in parts.iter().enumerate() {
        match part {
            Some(p) => record.extend_from_slice(p),
            None => {
                return Err(Error::malformed_at(
                    0,
                    format!("signature segment {i} of {count} is missing"),
                ))
            }
        }
    }
    if record.len() != length {
        return Err(Error::malformed_at(
            0,
            format!(
                "signature record holds {} bytes, its header says {length}",
                record.len()
            ),
        ));
    }
    Ok(Some(record))
}

/// `data` with every signature COM segment removed and the segments of
/// `record` (if any) inserted after SOI and the APPn segments that directly
/// follow it (so JFIF / Exif stay first, as their specifications ask).
pub fn replace_record(data: &[u8], record: Option<&[u8]>) -> Result<Vec<u8>> {
    let segs = marker::header_segments(data)?;
    let new_segs = match record {
        Some(r) => to_segments(r)?,
        None => Vec::new(),
    };
    let insert_at = segs
        .iter()
        .skip(1)
        .take_while(|s| marker::is_app(s.marker))
        .last()
        .map(|s| s.offset + s.len)
        .unwrap_or(2);
    let mut out = Vec::with_capacity(data.len() + new_segs.len());
    let mut copied = 0usize;
    let mut inserted = false;
    for s in &segs {
        let is_sig = s.marker == marker::COM && is_signature_payload(s.payload(data));
        if !inserted && s.offset >= insert_at {
            out.extend_from_slice(&data[copied..s.offset]);
            copied = s.offset;
            out.extend_from_slice(&new_segs);
            inserted = true;
        }
        if is_sig {
            out.extend_from_slice(&data[copied..s.offset]);
            copied = s.offset + s.len;
        }
    }
    out.extend_from_slice(&data[copied..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with(extra: &[u8]) -> Vec<u8> {
        // SOI, APP0, COM "hello", extra, SOS (minimal header), data, EOI.
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, b'J', b'F'];
        v.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x07, b'h', b'e', b'l', b'l', b'o']);
        v.extend_from_slice(extra);
        v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0x34, 0xFF, 0xD9]);
        v
    }

    #[test]
    fn round_trip_small_and_split() {
        for n in [
            1usize,
            100,
            MAX_PAYLOAD - SEGMENT_HEADER,
            MAX_PAYLOAD - SEGMENT_HEADER + 1,
            200_000,
        ] {
            let record: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let f = replace_record(&jpeg_with(&[]), Some(&record)).unwrap();
            let segs = marker::header_segments(&f).unwrap();
            // Inserted after APP0, before the user comment; user comment kept.
            assert_eq!(segs[1].marker, 0xE0);
            assert_eq!(segs[2].marker, marker::COM);
            assert!(is_signature_payload(segs[2].payload(&f)));
            assert!(segs.iter().any(|s| s.payload(&f) == b"hello"));
            assert!(segs.iter().all(|s| s.len <= MAX_PAYLOAD + 4));
            assert_eq!(read_record(&f, &segs).unwrap().unwrap(), record, "n = {n}");
            // Replacing drops the old record entirely.
            let g = replace_record(&f, Some(b"new")).unwrap();
            let gs = marker::header_segments(&g).unwrap();
            assert_eq!(read_record(&g, &gs).unwrap().unwrap(), b"new");
            let h = replace_record(&g, None).unwrap();
            assert_eq!(h, jpeg_with(&[]));
        }
    }

    #[test]
    fn damaged_containers_are_errors() {
        let f = replace_record(&jpeg_with(&[]), Some(&vec![9u8; 150_000])).unwrap();
        let segs = marker::header_segments(&f).unwrap();
        let sig: Vec<&HeaderSegment> = segs
            .iter()
            .filter(|s| is_signature_payload(s.payload(&f)))
            .collect();
        assert_eq!(sig.len(), 3);
        // A missing segment.
        let mut g = f[..sig[1].offset].to_vec();
        g.extend_from_slice(&f[sig[1].offset + sig[1].len..]);
        let gs = marker::header_segments(&g).unwrap();
        let e = read_record(&g, &gs).unwrap_err();
        assert!(e.message().contains("segment 1 of 3 is missing"), "{e}");
        // A duplicated one.
        let mut d = f[..sig[2].offset].to_vec();
        d.extend_from_slice(&f[sig[1].offset..sig[1].offset + sig[1].len]);
        d.extend_from_slice(&f[sig[2].offset..]);
        let ds = marker::header_segments(&d).unwrap();
        assert!(read_record(&d, &ds)
            .unwrap_err()
            .message()
            .contains("twice"));
        // Another version.
        let mut v = f.clone();
        v[sig[0].offset + 4 + 8] = 2;
        let vs = marker::header_segments(&v).unwrap();
        assert_eq!(
            read_record(&v, &vs).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        // Disagreeing lengths, index out of range.
        let mut l = f.clone();
        l[sig[0].offset + 4 + 17] ^= 1;
        let ls = marker::header_segments(&l).unwrap();
        assert!(read_record(&l, &ls).is_err());
        let mut x = f.clone();
        x[sig[0].offset + 4 + 11] = 9;
        let xs = marker::header_segments(&x).unwrap();
        assert!(read_record(&x, &xs).is_err());
        // No signature: None; a short magic-bearing comment: error.
        let plain = jpeg_with(&[]);
        assert_eq!(
            read_record(&plain, &marker::header_segments(&plain).unwrap()).unwrap(),
            None
        );
        let short = jpeg_with(&[
            0xFF, 0xFE, 0x00, 0x0C, b'J', b'S', b'E', b'C', b'-', b'S', b'I', b'G', 1, 0,
        ]);
        assert!(read_record(&short, &marker::header_segments(&short).unwrap()).is_err());
    }
}
