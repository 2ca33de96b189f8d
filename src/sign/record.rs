//! The signature record (docs/sign-format.md, "Record"): what the container
//! carries, for a full image or a crop, in the `paper` and `compact`
//! profiles.

use crate::crypto::bls::{BlsPublicKey, BlsSignature, PUBLIC_KEY_LEN, SIGNATURE_LEN};
use crate::crypto::longterm::{Algorithm, ECDSA_SIGNATURE_LEN};
use crate::{Error, ErrorKind, Result};

/// Profile byte of `paper`: an ephemeral BLS key per image, certified by a
/// long-term ECDSA P-256 or RSA-PSS signature (Perazzo et al.).
pub const PROFILE_PAPER: u8 = 1;
/// Profile byte of `compact`: one long-term BLS key, a per-image nonce, the
/// header message aggregated with the cells.
pub const PROFILE_COMPACT: u8 = 2;
/// Largest embedded certificate accepted (bytes).
pub const MAX_CERTIFICATE_LEN: usize = 1 << 20;
/// Kind byte: the full table of cell signatures.
pub const KIND_FULL: u8 = 1;
/// Kind byte: one aggregate signature over a crop.
pub const KIND_CROPPED: u8 = 2;

/// Bytes before the kind-specific part.
const PREFIX: usize = 1 + 1 + 1 + 1 + 4 + 4 + 32 + 32;

/// The `paper` profile's certification of the image's ephemeral BLS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certification {
    /// The ephemeral BLS public key that signed the cells.
    pub ephemeral: BlsPublicKey,
    /// Algorithm of the long-term signature.
    pub algorithm: Algorithm,
    /// The long-term signature of the header statement (stored form, see
    /// [`crate::crypto::longterm`]).
    pub signature: Vec<u8>,
    /// The signer's X.509 certificate (DER), empty when none is embedded.
    pub certificate: Vec<u8>,
}

impl Certification {
    fn write(&self, v: &mut Vec<u8>) {
        v.extend_from_slice(&self.ephemeral.to_bytes());
        v.extend_from_slice(&[self.algorithm as u8, 0]);
        v.extend_from_slice(&(self.signature.len() as u16).to_be_bytes());
        v.extend_from_slice(&self.signature);
        v.extend_from_slice(&(self.certificate.len() as u32).to_be_bytes());
        v.extend_from_slice(&self.certificate);
    }

    /// Parse from the start of `b`; returns it and the bytes used.
    fn parse(b: &[u8]) -> Result<(Certification, usize)> {
        let bad = |m: String| Error::new(ErrorKind::Malformed, format!("signature record: {m}"));
        let short = || bad("certification block truncated".into());
        if b.len() < PUBLIC_KEY_LEN + 4 {
            return Err(short());
        }
        let ephemeral = BlsPublicKey::from_bytes(&b[..PUBLIC_KEY_LEN])
            .map_err(|e| bad(format!("ephemeral public key: {}", e.message())))?;
        let mut i = PUBLIC_KEY_LEN;
        let algorithm = Algorithm::from_byte(b[i]).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                format!("signature record: long-term signature algorithm {}", b[i]),
            )
        })?;
        if b[i + 1] != 0 {
            return Err(bad(format!("reserved byte is {}", b[i + 1])));
        }
        let sig_len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        i += 4;
        let ok_len = match algorithm {
            Algorithm::EcdsaP256Sha256 => sig_len == ECDSA_SIGNATURE_LEN,
            Algorithm::RsaPssSha256 => (256..=512).contains(&sig_len),
        };
        if !ok_len {
            return Err(bad(format!(
                "{}-byte {} signature",
                sig_len,
                algorithm.name()
            )));
        }
        let signature = b.get(i..i + sig_len).ok_or_else(short)?.to_vec();
        i += sig_len;
        let cl = b.get(i..i + 4).ok_or_else(short)?;
        let cert_len = u32::from_be_bytes(cl.try_into().expect("4 bytes")) as usize;
        i += 4;
        if cert_len > MAX_CERTIFICATE_LEN {
            return Err(bad(format!("certificate of {cert_len} bytes")));
        }
        let certificate = b.get(i..i + cert_len).ok_or_else(short)?.to_vec();
        i += cert_len;
        Ok((
            Certification {
                ephemeral,
                algorithm,
                signature,
                certificate,
            },
            i,
        ))
    }
}

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
    /// The signer's key id: SHA-256 of its compressed BLS public key
    /// (compact) or of its long-term key's SubjectPublicKeyInfo DER (paper).
    pub key_id: [u8; 32],
    /// `paper` profile: the certified ephemeral key; `None` for `compact`.
    pub certification: Option<Certification>,
}

impl Common {
    /// The profile byte.
    pub fn profile(&self) -> u8 {
        if self.certification.is_some() {
            PROFILE_PAPER
        } else {
            PROFILE_COMPACT
        }
    }
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
        /// Signature of the header message (compact; `None` in paper,
        /// where the long-term signature certifies the header).
        header_sig: Option<BlsSignature>,
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
        /// Header signature (compact only) plus the signatures of the crop's
        /// cells.
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
        v.extend_from_slice(&[c.profile(), kind, c.g, 0]);
        v.extend_from_slice(&c.width.to_be_bytes());
        v.extend_from_slice(&c.height.to_be_bytes());
        v.extend_from_slice(&c.binding);
        v.extend_from_slice(&c.key_id);
        if let Some(cert) = &c.certification {
            cert.write(&mut v);
        }
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
                if let Some(h) = header_sig {
                    v.extend_from_slice(&h.to_bytes());
                }
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
        if b[0] != PROFILE_COMPACT && b[0] != PROFILE_PAPER {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("signature record: profile {} (this jsec reads profiles {PROFILE_PAPER}, paper, and {PROFILE_COMPACT}, compact)", b[0]),
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
        let (certification, used) = if b[0] == PROFILE_PAPER {
            let (c, n) = Certification::parse(&b[PREFIX..])?;
            (Some(c), n)
        } else {
            (None, 0)
        };
        let common = Common {
            g,
            width: u32_at(4),
            height: u32_at(8),
            binding: b[12..44].try_into().expect("32 bytes"),
            key_id: b[44..76].try_into().expect("32 bytes"),
            certification,
        };
        if common.width == 0 || common.height == 0 || common.width > 65535 || common.height > 65535
        {
            return Err(bad(format!(
                "image size {}x{}",
                common.width, common.height
            )));
        }
        let at = PREFIX + used;
        let rest = &b[at..];
        let u32_rest =
            |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        let sig_at = |r: &[u8], i: usize| BlsSignature::from_bytes(&r[i..i + SIGNATURE_LEN]);
        // Bytes of σ0 in a full record: compact has one, paper none.
        let header_len = if used == 0 { SIGNATURE_LEN } else { 0 };
        match b[1] {
            KIND_FULL => {
                if rest.len() < 8 + header_len {
                    return Err(bad("full record too short".into()));
                }
                let (cells_x, cells_y) = (u32_rest(0), u32_rest(4));
                let n = cells_x as u64 * cells_y as u64;
                let sigs = &rest[8 + header_len..];
                if n == 0 || n.checked_mul(SIGNATURE_LEN as u64) != Some(sigs.len() as u64) {
                    return Err(bad(format!(
                        "{cells_x}x{cells_y} cells but {} bytes of cell signatures",
                        sigs.len()
                    )));
                }
                let header_sig = if header_len > 0 {
                    Some(sig_at(rest, 8)?)
                } else {
                    None
                };
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
                let v: Vec<u32> = (0..4).map(|i| u32_rest(4 * i)).collect();
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
