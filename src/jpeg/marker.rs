//! JPEG marker codes (ITU-T T.81 table B.1) and their names.

/// Start of image.
pub const SOI: u8 = 0xD8;
/// End of image.
pub const EOI: u8 = 0xD9;
/// Start of scan.
pub const SOS: u8 = 0xDA;
/// Define quantization table(s).
pub const DQT: u8 = 0xDB;
/// Define number of lines.
pub const DNL: u8 = 0xDC;
/// Define restart interval.
pub const DRI: u8 = 0xDD;
/// Define Huffman table(s).
pub const DHT: u8 = 0xC4;
/// Comment.
pub const COM: u8 = 0xFE;
/// Baseline DCT frame.
pub const SOF0: u8 = 0xC0;
/// Extended sequential DCT frame, Huffman coding.
pub const SOF1: u8 = 0xC1;
/// First application segment marker (APP0).
pub const APP0: u8 = 0xE0;
/// Last application segment marker (APP15).
pub const APP15: u8 = 0xEF;
/// First restart marker (RST0).
pub const RST0: u8 = 0xD0;
/// Last restart marker (RST7).
pub const RST7: u8 = 0xD7;

/// True for RST0..RST7.
pub fn is_rst(m: u8) -> bool {
    (RST0..=RST7).contains(&m)
}

/// True for APP0..APP15.
pub fn is_app(m: u8) -> bool {
    (APP0..=APP15).contains(&m)
}

/// True for the SOFn markers (C0–CF except DHT C4, JPG C8 and DAC CC).
pub fn is_sof(m: u8) -> bool {
    (0xC0..=0xCF).contains(&m) && m != DHT && m != 0xC8 && m != 0xCC
}

/// A short human-readable name of a marker, e.g. `"SOF2 (progressive)"`.
pub fn name(m: u8) -> String {
    match m {
        0xC0 => "SOF0 (baseline)".into(),
        0xC1 => "SOF1 (extended sequential)".into(),
        0xC2 => "SOF2 (progressive)".into(),
        0xC3 => "SOF3 (lossless)".into(),
        0xC5 => "SOF5 (differential sequential)".into(),
        0xC6 => "SOF6 (differential progressive)".into(),
        0xC7 => "SOF7 (differential lossless)".into(),
        0xC9 => "SOF9 (arithmetic-coded sequential)".into(),
        0xCA => "SOF10 (arithmetic-coded progressive)".into(),
        0xCB => "SOF11 (arithmetic-coded lossless)".into(),
        0xCD => "SOF13 (arithmetic-coded differential sequential)".into(),
        0xCE => "SOF14 (arithmetic-coded differential progressive)".into(),
        0xCF => "SOF15 (arithmetic-coded differential lossless)".into(),
        0xC4 => "DHT".into(),
        0xC8 => "JPG".into(),
        0xCC => "DAC".into(),
        0xD0..=0xD7 => format!("RST{}", m - 0xD0),
        0xD8 => "SOI".into(),
        0xD9 => "EOI".into(),
        0xDA => "SOS".into(),
        0xDB => "DQT".into(),
        0xDC => "DNL".into(),
        0xDD => "DRI".into(),
        0xDE => "DHP".into(),
        0xDF => "EXP".into(),
        0xE0..=0xEF => format!("APP{}", m - 0xE0),
        0xF0..=0xFD => format!("JPG{}", m - 0xF0),
        0xFE => "COM".into(),
        0x01 => "TEM".into(),
        _ => format!("reserved marker 0xFF{m:02X}"),
    }
}

/// A marker segment of the header part of a JPEG file (before the first
/// scan's entropy-coded data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderSegment {
    /// The marker code (second byte).
    pub marker: u8,
    /// Offset of the marker's 0xFF.
    pub offset: usize,
    /// Bytes from the 0xFF through the end of the payload (2 for SOI).
    pub len: usize,
}

impl HeaderSegment {
    /// The payload (after the two length bytes; empty for the stand-alone
    /// markers SOI and TEM).
    pub fn payload<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        if self.len <= 2 {
            &[]
        } else {
            &data[self.offset + 4..self.offset + self.len]
        }
    }
}

/// The segments from SOI through the first SOS (inclusive), in file order.
/// Fill bytes (0xFF runs) before a marker are skipped. Errors name what is
/// wrong and where.
pub fn header_segments(data: &[u8]) -> crate::Result<Vec<HeaderSegment>> {
    use crate::Error;
    if data.len() < 2 || data[0] != 0xFF || data[1] != SOI {
        return Err(Error::malformed_at(0, "not a JPEG file (no SOI marker)"));
    }
    let mut out = vec![HeaderSegment {
        marker: SOI,
        offset: 0,
        len: 2,
    }];
    let mut p = 2usize;
    loop {
        if p >= data.len() {
            return Err(Error::malformed_at(
                p as u64,
                "truncated: the file ends before the first scan",
            ));
        }
        if data[p] != 0xFF {
            return Err(Error::malformed_at(
                p as u64,
                format!("expected a marker, found byte 0x{:02X}", data[p]),
            ));
        }
        let mut q = p;
        while q + 1 < data.len() && data[q + 1] == 0xFF {
            q += 1; // fill bytes
        }
        if q + 3 >= data.len() {
            return Err(Error::malformed_at(p as u64, "truncated marker segment"));
        }
        let m = data[q + 1];
        if m == 0x01 {
            // TEM: stand-alone, no length (the walker skips it the same way).
            out.push(HeaderSegment {
                marker: m,
                offset: q,
                len: 2,
            });
            p = q + 2;
            continue;
        }
        if m == SOI || m == EOI || is_rst(m) || m == 0x00 {
            return Err(Error::malformed_at(
                q as u64,
                format!("unexpected marker {} before the first scan", name(m)),
            ));
        }
        let len = u16::from_be_bytes([data[q + 2], data[q + 3]]) as usize;
        if len < 2 || q + 2 + len > data.len() {
            return Err(Error::malformed_at(
                q as u64,
                format!(
                    "{} segment length {len} runs past the end of the file",
                    name(m)
                ),
            ));
        }
        out.push(HeaderSegment {
            marker: m,
            offset: q,
            len: 2 + len,
        });
        p = q + 2 + len;
        if m == SOS {
            return Ok(out);
        }
    }
}
