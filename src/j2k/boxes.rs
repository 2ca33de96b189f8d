//! JP2 file format boxes (ISO/IEC 15444-1 Annex I): the box sequence of a
//! `.jp2` file, with each box's header kept as it was written so that a file
//! can be rebuilt byte for byte, and the contiguous codestream box (`jp2c`)
//! located.
//!
//! A box is `LBox` (u32, big-endian), `TBox` (4 bytes), then, when `LBox`
//! is 1, `XLBox` (u64); `LBox` 0 means the box runs to the end of the file
//! (allowed for the last box only). Lengths count the header.

use crate::{Error, Result};

/// The 12-byte JPEG 2000 signature box that starts every JP2 file.
pub const SIGNATURE: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];

/// Box type `jp2c`: the contiguous codestream.
pub const JP2C: [u8; 4] = *b"jp2c";
/// Box type `jp2h`: the JP2 header superbox.
pub const JP2H: [u8; 4] = *b"jp2h";
/// Box type `ftyp`: the file type box.
pub const FTYP: [u8; 4] = *b"ftyp";

/// One top-level box of a JP2 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jp2Box {
    /// The box type (`TBox`).
    pub kind: [u8; 4],
    /// File offset of the box's first byte.
    pub offset: usize,
    /// Bytes of its header: 8, or 16 with an `XLBox`.
    pub header_len: usize,
    /// Bytes of the whole box, header included.
    pub len: usize,
    /// True when `LBox` was 0 (the box runs to the end of the file).
    pub to_end: bool,
}

impl Jp2Box {
    /// The box's contents (after its header).
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.offset + self.header_len..self.offset + self.len]
    }

    /// The type as text (`jp2c`), for messages.
    pub fn kind_name(&self) -> String {
        self.kind
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '?'
                }
            })
            .collect()
    }
}

/// True when `data` starts with the JP2 signature box.
pub fn is_jp2(data: &[u8]) -> bool {
    data.starts_with(&SIGNATURE)
}

/// The top-level boxes of the JP2 file `data`, in file order. The first
/// must be the signature box and the second `ftyp`; there must be at least
/// one `jp2c` (the first is the image; later ones are kept as they are).
/// Lengths are checked against the file.
pub fn parse_boxes(data: &[u8]) -> Result<Vec<Jp2Box>> {
    if !is_jp2(data) {
        return Err(Error::malformed_at(
            0,
            "not a JP2 file (no JPEG 2000 signature box)",
        ));
    }
    let mut boxes = Vec::new();
    let mut p = 0usize;
    while p < data.len() {
        if data.len() - p < 8 {
            return Err(Error::malformed_at(
                p as u64,
                format!("truncated: {} bytes after the last box", data.len() - p),
            ));
        }
        let lbox = u32::from_be_bytes(data[p..p + 4].try_into().expect("4 bytes"));
        let kind: [u8; 4] = data[p + 4..p + 8].try_into().expect("4 bytes");
        let (header_len, len, to_end) = match lbox {
            0 => (8, data.len() - p, true),
            1 => {
                if data.len() - p < 16 {
                    return Err(Error::malformed_at(
                        p as u64,
                        "truncated: box header with an XLBox",
                    ));
                }
                let xl = u64::from_be_bytes(data[p + 8..p + 16].try_into().expect("8 bytes"));
                if xl < 16 || xl > (data.len() - p) as u64 {
                    return Err(Error::malformed_at(
                        p as u64,
                        format!(
                            "box '{}' claims {xl} bytes; {} remain in the file",
                            String::from_utf8_lossy(&kind),
                            data.len() - p
                        ),
                    ));
                }
                (16, xl as usize, false)
            }
            2..=7 => {
                return Err(Error::malformed_at(
                    p as u64,
                    format!("box length {lbox} is shorter than its header"),
                ))
            }
            n => {
                if n as usize > data.len() - p {
                    return Err(Error::malformed_at(
                        p as u64,
                        format!(
                            "truncated: box '{}' claims {n} bytes; {} remain in the file",
                            String::from_utf8_lossy(&kind),
                            data.len() - p
                        ),
                    ));
                }
                (8, n as usize, false)
            }
        };
        boxes.push(Jp2Box {
            kind,
            offset: p,
            header_len,
            len,
            to_end,
        });
        p += len;
    }
    if boxes.len() < 2 || boxes[1].kind != FTYP {
        return Err(Error::malformed_at(
            boxes.get(1).map_or(12, |b| b.offset) as u64,
            "JP2 file without a file type box ('ftyp') after the signature",
        ));
    }
    if !boxes.iter().any(|b| b.kind == JP2C) {
        return Err(Error::malformed_at(
            data.len() as u64,
            "JP2 file without a contiguous codestream box ('jp2c')",
        ));
    }
    Ok(boxes)
}

/// Rebuild a JP2 file from `boxes` of `data`, with the payload of the first
/// `jp2c` box replaced by `codestream` (its header rewritten for the new
/// length: the same form, `LBox`, `XLBox` or to-the-end, when it fits;
/// every other byte as it was).
pub fn replace_codestream(data: &[u8], boxes: &[Jp2Box], codestream: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut done = false;
    for b in boxes {
        if b.kind == JP2C && !done {
            done = true;
            let total = codestream.len() as u64 + b.header_len as u64;
            if b.to_end && b.offset + b.len == data.len() {
                out.extend_from_slice(&0u32.to_be_bytes());
                out.extend_from_slice(&JP2C);
            } else if b.header_len == 16 || total > u32::MAX as u64 {
                out.extend_from_slice(&1u32.to_be_bytes());
                out.extend_from_slice(&JP2C);
                out.extend_from_slice(&(codestream.len() as u64 + 16).to_be_bytes());
            } else {
                out.extend_from_slice(&(total as u32).to_be_bytes());
                out.extend_from_slice(&JP2C);
            }
            out.extend_from_slice(codestream);
        } else {
            out.extend_from_slice(&data[b.offset..b.offset + b.len]);
        }
    }
    if !done {
        return Err(Error::invalid_argument("no 'jp2c' box to replace"));
    }
    Ok(out)
}
