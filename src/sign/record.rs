//! The signature record (docs/sign-format.md, "Record"): what the container
//! carries, for a full image or a crop, in the `compact` profile.

use crate::crypto::bls::{BlsSignature, SIGNATURE_LEN};
use crate::{Error, ErrorKind, Result};

/// Profile byte of `compact`: one long-term BLS key, a per-image nonce, the
/// header message aggregated with the cells.
pub const PROFILE_COMPACT: u8 = 2;
/// Kind byte: the full table of cell signatures.
pub const KIND_FULL: u8 = 1;
/// Kind byte: one aggregate signature over a crop.
pub const KIND_CROPPED: u8 = 2;

/// Bytes before the kind-specific part.
const PREFIX: usize = 1 + 1 + 1 + 1 + 4 + 4 + 32 + 32;

/// What both kinds share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// Granularity (cell side in iMCUs).
    pub g: u8,
    /// Width of the signed (original) image in pixels.
    pub width: u32,
    /// Height of the signed image.
    pub height: u32,
    /// The image-binding value (compact: a random per-image nonce).
    pub binding: [u8; 32],
    /// SHA-256 of the signer's compressed BLS public key.
    pub key_id: [u8; 32],
}

/// A parsed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The whole image, as signed.
    Full {
        /// Shared fields.
        common: Common,
        /// Cells per row.
        cells_x: u32,
        /// Cell rows.
        cells_y: u32,
        /// Signature of the header message.
        header_sig: BlsSignature,
        /// The summed-area table of the cell signatures (see
        /// [`crate::sign::prefix_table`]), compressed, raster order, as
        /// stored: entries are decoded (and only aggregates group-checked)
        /// when used.
        cell_sigs: Vec<[u8; SIGNATURE_LEN]>,
    },
    /// A crop on the cell grid.
    Cropped {
        /// Shared fields.
        common: Common,
        /// The crop's first cell in the original grid (column, row).
        origin: (u32, u32),
        /// Cells of the crop across and down.
        cells: (u32, u32),
        /// Header signature plus the signatures of the crop's cells.
        aggregate: BlsSignature,
    },
}

impl Record {
    /// The shared fields.
    pub fn common(&self) -> &Common {
        match self {
            Record::Full { common, .. } | Record::Cropped { common, .. } => common,
        }
    }

    /// Serialize (big-endian integers).
    pub fn to_bytes(&self) -> Vec<u8> {
        let (kind, c) = match self {
            Record::Full { common, .. } => (KIND_FULL, common),
            Record::Cropped { common, .. } => (KIND_CROPPED, common),
        };
        let mut v = Vec::new();
        v.extend_from_slice(&[PROFILE_COMPACT, kind, c.g, 0]);
        v.extend_from_slice(&c.width.to_be_bytes());
        v.extend_from_slice(&c.height.to_be_bytes());
        v.extend_from_slice(&c.binding);
        v.extend_from_slice(&c.key_id);
        match self {
            Record::Full {
                cells_x,
                cells_y,
                header_sig,
                cell_sigs,
                ..
            } => {
                v.extend_from_slice(&cells_x.to_be_bytes());
                v.extend_from_slice(&cells_y.to_be_bytes());
                v.extend_from_slice(&header_sig.to_bytes());
                for s in cell_sigs {
                    v.extend_from_slice(s);
                }
            }
            Record::Cropped {
                origin,
                cells,
                aggregate,
                ..
            } => {
                for x in [origin.0, origin.1, cells.0, cells.1] {
                    v.extend_from_slice(&x.to_be_bytes());
                }
                v.extend_from_slice(&aggregate.to_bytes());
            }
        }
        v
    }

    /// Parse, checking every length and every signature point.
    pub fn parse(b: &[u8]) -> Result<Record> {
        let bad = |m: String| Error::new(ErrorKind::Malformed, format!("signature record: {m}"));
        if b.len() < PREFIX {
            return Err(bad(format!(
                "{} bytes, shorter than its fixed part",
                b.len()
            )));
        }
        if b[0] != PROFILE_COMPACT {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("signature record: profile {} (this jsec reads profile {PROFILE_COMPACT}, compact)", b[0]),
            ));
        }
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let g = b[2];
        if g == 0 || g as u32 > super::cells::MAX_GRANULARITY {
            return Err(bad(format!("granularity {g}")));
        }
        if b[3] != 0 {
            return Err(bad(format!("reserved byte is {}", b[3])));
        }
        let common = Common {
            g,
            width: u32_at(4),
            height: u32_at(8),
            binding: b[12..44].try_into().expect("32 bytes"),
            key_id: b[44..76].try_into().expect("32 bytes"),
        };
        if common.width == 0 || common.height == 0 || common.width > 65535 || common.height > 65535
        {
            return Err(bad(format!(
                "image size {}x{}",
                common.width, common.height
            )));
        }
        let rest = &b[PREFIX..];
        let sig_at = |r: &[u8], i: usize| BlsSignature::from_bytes(&r[i..i + SIGNATURE_LEN]);
        match b[1] {
            KIND_FULL => {
                if rest.len() < 8 + SIGNATURE_LEN {
                    return Err(bad("full record too short".into()));
                }
                let (cells_x, cells_y) = (u32_at(PREFIX), u32_at(PREFIX + 4));
                let n = cells_x as u64 * cells_y as u64;
                let sigs = &rest[8 + SIGNATURE_LEN..];
                if n == 0 || sigs.len() as u64 != n * SIGNATURE_LEN as u64 {
                    return Err(bad(format!(
                        "{cells_x}x{cells_y} cells but {} bytes of cell signatures",
                        sigs.len()
                    )));
                }
                let header_sig = sig_at(rest, 8)?;
                let cell_sigs = sigs
                    .chunks_exact(SIGNATURE_LEN)
                    .map(|c| c.try_into().expect("chunks of 48"))
                    .collect();
                Ok(Record::Full {
                    common,
                    cells_x,
                    cells_y,
                    header_sig,
                    cell_sigs,
                })
            }
            KIND_CROPPED => {
                if rest.len() != 16 + SIGNATURE_LEN {
                    return Err(bad(format!("cropped record of {} bytes", b.len())));
                }
                let v: Vec<u32> = (0..4).map(|i| u32_at(PREFIX + 4 * i)).collect();
                Ok(Record::Cropped {
                    common,
                    origin: (v[0], v[1]),
                    cells: (v[2], v[3]),
                    aggregate: sig_at(rest, 16)?,
                })
            }
            k => Err(bad(format!("kind {k}"))),
        }
    }
}
