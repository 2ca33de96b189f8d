//! Signing, verifying and re-attaching signatures of whole JPEG files
//! (profiles `paper` and `compact`): the record goes into COM segments, the
//! image's entropy-coded data and every other segment are left as they are.

use super::cells::{cell_content, CellGrid, MSG_CELL};
use super::container;
use super::record::{Common, Record, PROFILE_COMPACT, PROFILE_PAPER};
use super::{localize, par_map, CellRect};
use crate::crypto::bls::{self, BlsPublicKey, BlsSecretKey, BlsSignature, HashSum};
use crate::crypto::longterm::{Certificate, LongTermPublic};
use crate::jpeg::coefficients::{decode_coefficients, Coefficients};
use crate::jpeg::marker;
use crate::{Error, ErrorKind, Result};

/// Message type byte of the header message.
pub const MSG_HEADER: u8 = 0x02;

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOptions {
    /// Cell side in iMCUs (1 to 32).
    pub granularity: u32,
    /// Threads of our own to use (0 = the calling thread only).
    pub threads: usize,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            granularity: 1,
            threads: 0,
        }
    }
}

pub use crate::crypto::longterm::LongTermSigner;

/// A public key to verify with, borrowed: BLS for `compact` signatures,
/// ECDSA P-256 / RSA for `paper` ones.
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    /// A long-term BLS key (profile compact).
    Bls(&'a BlsPublicKey),
    /// A long-term ECDSA or RSA key (profile paper).
    LongTerm(&'a LongTermPublic),
}

impl<'a> From<&'a BlsPublicKey> for KeyRef<'a> {
    fn from(k: &'a BlsPublicKey) -> Self {
        KeyRef::Bls(k)
    }
}

impl<'a> From<&'a LongTermPublic> for KeyRef<'a> {
    fn from(k: &'a LongTermPublic) -> Self {
        KeyRef::LongTerm(k)
    }
}

impl KeyRef<'_> {
    /// The key id a record names its signer by.
    pub fn fingerprint(&self) -> [u8; 32] {
        match self {
            KeyRef::Bls(k) => k.fingerprint(),
            KeyRef::LongTerm(k) => k.fingerprint(),
        }
    }
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Profile byte of the record (1 = paper, 2 = compact).
    pub profile: u8,
    /// The signer's key id: SHA-256 of its compressed BLS public key
    /// (compact) or of its SubjectPublicKeyInfo DER (paper).
    pub key_id: [u8; 32],
    /// Subject of the certificate embedded by the signer (paper profile),
    /// whose public key is the one verified with; the certificate itself is
    /// not validated (chain, dates: the application's policy).
    pub certificate_subject: Option<String>,
    /// Size of the signed original (pixels).
    pub original: (u32, u32),
    /// Granularity (cell side in iMCUs).
    pub granularity: u32,
    /// For a crop: its rectangle `(x, y, width, height)` in the original's
    /// pixel coordinates; `None` for the full image.
    pub crop: Option<(u32, u32, u32, u32)>,
    /// Number of cells checked.
    pub cells: u64,
}

/// The header message: `0x02 | binding | profile | g | u32 width | u32
/// height | u8 components | (H, V) per component`.
pub(super) fn header_message(profile: u8, common: &Common, coefs: &Coefficients) -> Vec<u8> {
    let f = &coefs.frame;
    let mut m = vec![MSG_HEADER];
    m.extend_from_slice(&common.binding);
    m.extend_from_slice(&[profile, common.g]);
    m.extend_from_slice(&common.width.to_be_bytes());
    m.extend_from_slice(&common.height.to_be_bytes());
    m.push(f.components.len() as u8);
    for c in &f.components {
        m.extend_from_slice(&[c.h, c.v]);
    }
    debug_assert_ne!(m[0], MSG_CELL);
    m
}

/// What the long-term key signs in the `paper` profile: the header message
/// followed by the ephemeral BLS public key (96 bytes).
pub(super) fn paper_statement(
    common: &Common,
    coefs: &Coefficients,
    ephemeral: &BlsPublicKey,
) -> Vec<u8> {
    let mut m = header_message(PROFILE_PAPER, common, coefs);
    m.extend_from_slice(&ephemeral.to_bytes());
    m
}

fn decode(jpeg: &[u8]) -> Result<Coefficients> {
    decode_coefficients(jpeg)
}

fn failed(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::VerificationFailed, msg.into())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Sign the JPEG `jpeg` with the long-term BLS key `sk` (profile
/// `compact`): the output is the same file with the full signature (header
/// signature and the table of cell signatures) in COM segments after SOI and
/// the leading APPn segments. An existing jsec signature is replaced.
pub fn sign_jpeg(jpeg: &[u8], sk: &BlsSecretKey, opts: &SignOptions) -> Result<Vec<u8>> {
    let mut s = super::SignSession::compact(sk, opts)?;
    s.write(jpeg)?;
    s.finish_compact()
}

/// The DER of `certificate` (X.509, DER or PEM) after checking that it
/// holds `public`; empty for none.
pub fn check_certificate(public: &LongTermPublic, certificate: Option<&[u8]>) -> Result<Vec<u8>> {
    let Some(c) = certificate else {
        return Ok(Vec::new());
    };
    let cert = Certificate::from_encoded(c)?;
    if cert.public_key() != public {
        return Err(Error::invalid_argument(format!(
            "the certificate ({}) is for another key than the signing key",
            cert.subject()
        )));
    }
    Ok(cert.der().to_vec())
}

/// Sign the JPEG `jpeg` in the `paper` profile: a fresh ephemeral BLS key
/// signs the cells, and `signer`'s long-term ECDSA P-256 or RSA-PSS key
/// signs the header statement (size, granularity, layout, binding and the
/// ephemeral public key). `certificate` (X.509, DER or PEM), when given, is
/// embedded and must hold the signer's public key. The signer's signature
/// is verified before anything is written; the ephemeral secret is wiped
/// when the call returns.
pub fn sign_jpeg_paper(
    jpeg: &[u8],
    signer: &dyn LongTermSigner,
    certificate: Option<&[u8]>,
    opts: &SignOptions,
) -> Result<Vec<u8>> {
    // Refuse a certificate for another key before any work.
    check_certificate(&signer.public_key()?, certificate)?;
    let mut s = super::SignSession::paper(opts)?;
    s.write(jpeg)?;
    s.finish_paper(signer, certificate)
}

/// The record of a signed file (errors when there is none).
pub fn read_record(jpeg: &[u8]) -> Result<Record> {
    let segs = marker::header_segments(jpeg)?;
    let raw = container::read_record(jpeg, &segs)?.ok_or_else(|| {
        Error::new(
            ErrorKind::VerificationFailed,
            "no jsec signature in this file",
        )
    })?;
    Record::parse(&raw)
}

/// The cell rectangle `rect` of the original, in original pixels.
fn pixel_rect(grid: &CellGrid, origin: (u32, u32), cells: (u32, u32)) -> (u32, u32, u32, u32) {
    let (x0, y0) = (origin.0 * grid.cell_w(), origin.1 * grid.cell_h());
    let x1 = ((origin.0 + cells.0) * grid.cell_w()).min(grid.width);
    let y1 = ((origin.1 + cells.1) * grid.cell_h()).min(grid.height);
    (x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
}

/// Verify the signature in `jpeg` with the signer's public key: a BLS key
/// for `compact` signatures, the long-term ECDSA P-256 / RSA key (or its
/// certificate's key) for `paper` ones. A full signature is checked as one
/// aggregate; when it fails, the header is checked alone and the tampered
/// cells are localized, and the error names them. A cropped image's
/// aggregate is checked against its cells at the recorded origin.
pub fn verify_jpeg<'k>(
    jpeg: &[u8],
    key: impl Into<KeyRef<'k>>,
    threads: usize,
) -> Result<Verified> {
    let key = key.into();
    let record = read_record(jpeg)?;
    let common = record.common().clone();
    let profile = common.profile();
    match (profile, key) {
        (PROFILE_COMPACT, KeyRef::LongTerm(k)) => {
            return Err(failed(format!(
                "the file has a compact-profile signature (long-term BLS key), but the key given is an {} key",
                k.algorithm().name()
            )))
        }
        (PROFILE_PAPER, KeyRef::Bls(_)) => {
            return Err(failed(
                "the file has a paper-profile signature (long-term ECDSA or RSA key), but the key given is a BLS key",
            ))
        }
        _ => {}
    }
    if common.key_id != key.fingerprint() {
        return Err(failed(format!(
            "signed by another key (key id {}, given key {})",
            hex(&common.key_id[..8]),
            hex(&key.fingerprint()[..8])
        )));
    }
    let coefs = decode(jpeg)?;
    let g = common.g as u32;
    let here = CellGrid::new(&coefs.frame, g)?;
    // The original's grid: same iMCU, the recorded size.
    let orig = CellGrid {
        width: common.width,
        height: common.height,
        cells_x: common.width.div_ceil(here.cell_w()),
        cells_y: common.height.div_ceil(here.cell_h()),
        ..here
    };
    // The key the cells verify with, and the header message that is
    // aggregated with them (compact only).
    let mut certificate_subject = None;
    let (cell_pk, header) = match (&common.certification, key) {
        (None, KeyRef::Bls(pk)) => (
            pk.clone(),
            Some(header_message(PROFILE_COMPACT, &common, &coefs)),
        ),
        (Some(c), KeyRef::LongTerm(lt)) => {
            if !c.certificate.is_empty() {
                let cert = Certificate::from_encoded(&c.certificate)?;
                if cert.public_key() != lt {
                    return Err(failed(format!(
                        "the embedded certificate ({}) is for another key than the signer's",
                        cert.subject()
                    )));
                }
                certificate_subject = Some(cert.subject().to_string());
            }
            if c.algorithm != lt.algorithm() {
                return Err(failed(format!(
                    "the record says {} but the key is {}",
                    c.algorithm.name(),
                    lt.algorithm().name()
                )));
            }
            if !lt.verify(
                &paper_statement(&common, &coefs, &c.ephemeral),
                &c.signature,
            ) {
                return Err(failed(format!(
                    "the long-term {} signature of the header does not verify (image size, granularity, sampling, binding or ephemeral key changed)",
                    lt.algorithm().name()
                )));
            }
            (c.ephemeral.clone(), None)
        }
        _ => unreachable!("profile and key type checked above"),
    };
    let header_sum = || {
        let mut sum = HashSum::new();
        if let Some(h) = &header {
            sum.add(h, bls::DST_CROP_V1);
        }
        sum
    };
    let verified = |crop, cells| Verified {
        profile,
        key_id: common.key_id,
        certificate_subject: certificate_subject.clone(),
        original: (common.width, common.height),
        granularity: g,
        crop,
        cells,
    };
    match &record {
        Record::Full {
            cells_x,
            cells_y,
            header_sig,
            cell_sigs,
            ..
        } => {
            if (coefs.frame.width, coefs.frame.height) != (common.width, common.height)
                || (*cells_x, *cells_y) != (here.cells_x, here.cells_y)
            {
                return Err(failed(format!(
                    "the image is {}x{} but its full signature is for {}x{} ({}x{} cells): cropped or resized without updating the signature",
                    coefs.frame.width, coefs.frame.height, common.width, common.height, cells_x, cells_y
                )));
            }
            let mut sum = header_sum();
            let cells = super::hash_cells(
                &coefs,
                &here,
                &common.binding,
                (0, 0),
                CellRect::all(&here),
                threads,
            )?;
            sum.merge(&cells);
            let cells_agg = super::aggregate_rect(cell_sigs, *cells_x, CellRect::all(&here));
            let agg = cells_agg.and_then(|c| match header_sig {
                Some(h) => BlsSignature::aggregate([h, &c]),
                None => Ok(c),
            });
            if agg.is_ok_and(|agg| bls::verify_same_key(&agg, &sum, &cell_pk)) {
                return Ok(verified(None, here.len()));
            }
            if let (Some(h), Some(msg)) = (header_sig, &header) {
                if !bls::verify(h, msg, bls::DST_CROP_V1, &cell_pk) {
                    return Err(failed(
                        "the header signature does not verify (image size, granularity, sampling or binding changed)",
                    ));
                }
            }
            let bad = localize(&coefs, &here, &common.binding, cell_sigs, &cell_pk, threads)?;
            let list: Vec<String> = bad
                .iter()
                .take(20)
                .map(|(x, y)| format!("({x}, {y})"))
                .collect();
            let more = if bad.len() > 20 {
                format!(" and {} more", bad.len() - 20)
            } else {
                String::new()
            };
            Err(failed(format!(
                "{} of {} cells do not match their signatures: cell{} (column, row) {}{more}",
                bad.len(),
                here.len(),
                if bad.len() == 1 { "" } else { "s" },
                list.join(", ")
            )))
        }
        Record::Cropped {
            origin,
            cells,
            aggregate,
            ..
        } => {
            let (ox, oy) = *origin;
            if *cells != (here.cells_x, here.cells_y)
                || ox as u64 + cells.0 as u64 > orig.cells_x as u64
                || oy as u64 + cells.1 as u64 > orig.cells_y as u64
            {
                return Err(failed(format!(
                    "the crop geometry does not match: the record says {}x{} cells at cell ({ox}, {oy}) of a {}x{}-cell original, the image has {}x{} cells",
                    cells.0, cells.1, orig.cells_x, orig.cells_y, here.cells_x, here.cells_y
                )));
            }
            let rect = pixel_rect(&orig, *origin, *cells);
            if (rect.2, rect.3) != (coefs.frame.width, coefs.frame.height) {
                return Err(failed(format!(
                    "the image is {}x{} pixels but the recorded crop is {}x{} at ({}, {})",
                    coefs.frame.width, coefs.frame.height, rect.2, rect.3, rect.0, rect.1
                )));
            }
            let mut sum = header_sum();
            sum.merge(&super::hash_cells(
                &coefs,
                &here,
                &common.binding,
                *origin,
                CellRect::all(&here),
                threads,
            )?);
            if !bls::verify_same_key(aggregate, &sum, &cell_pk) {
                return Err(failed(
                    "the aggregate signature does not match the cropped image (content changed, or the crop offset is not the one recorded)",
                ));
            }
            Ok(verified(Some(rect), here.len()))
        }
    }
}

/// What a keyless crop needs from a full signature.
struct FullTable {
    common: Common,
    cells_x: u32,
    header_sig: Option<BlsSignature>,
    cell_sigs: Vec<super::CellSig>,
}

impl FullTable {
    /// The cropped record's aggregate for the cells of `rect`: their sum,
    /// plus the header signature in the compact profile.
    fn aggregate(&self, rect: CellRect) -> Result<BlsSignature> {
        let cells = super::aggregate_rect(&self.cell_sigs, self.cells_x, rect)?;
        match &self.header_sig {
            Some(h) => BlsSignature::aggregate([h, &cells]),
            None => Ok(cells),
        }
    }
}

/// The full signature of `signed`; a cropped one is an error ending with
/// `what_instead`.
fn full_table(signed: &[u8], what_instead: &str) -> Result<FullTable> {
    match read_record(signed)? {
        Record::Full {
            common,
            cells_x,
            header_sig,
            cell_sigs,
            ..
        } => Ok(FullTable {
            common,
            cells_x,
            header_sig,
            cell_sigs,
        }),
        Record::Cropped { .. } => Err(Error::invalid_argument(format!(
            "this file carries a cropped signature, not the full one: {what_instead}"
        ))),
    }
}

/// Give `cropped` (a crop of `signed_original` made by another tool, e.g.
/// `jpegtran -crop`, on the cell grid) the aggregated signature of the
/// cells it kept: finds where the crop lies in the original by comparing
/// coefficients, and writes the cropped record. No key is needed.
pub fn attach(signed_original: &[u8], cropped: &[u8], threads: usize) -> Result<Vec<u8>> {
    let table = full_table(signed_original, "attach needs the signed original")?;
    let common = table.common.clone();
    let orig = decode(signed_original)?;
    let crop = decode(cropped)?;
    let g = common.g as u32;
    let og = CellGrid::new(&orig.frame, g)?;
    let cg = CellGrid::new(&crop.frame, g)?;
    let same_layout = orig.frame.components.len() == crop.frame.components.len()
        && orig
            .frame
            .components
            .iter()
            .zip(&crop.frame.components)
            .all(|(a, b)| (a.h, a.v) == (b.h, b.v));
    if !same_layout {
        return Err(Error::invalid_argument(
            "the cropped image has other components or sampling factors than the original",
        ));
    }
    // Candidate origins: the crop must fit, and its size must be what a crop
    // from there yields. Compare the content of cell (0, 0) first (cheap),
    // then of every cell.
    let first = cell_content(&crop, &cg, 0, 0)?;
    let mut found = None;
    'search: for oy in 0..og.cells_y {
        for ox in 0..og.cells_x {
            if ox + cg.cells_x > og.cells_x || oy + cg.cells_y > og.cells_y {
                continue;
            }
            let r = pixel_rect(&og, (ox, oy), (cg.cells_x, cg.cells_y));
            if (r.2, r.3) != (crop.frame.width, crop.frame.height) {
                continue;
            }
            if cell_content(&orig, &og, ox, oy)? != first {
                continue;
            }
            let all_equal = par_map(cg.len() as usize, threads, |i| -> Result<bool> {
                let (x, y) = (i as u32 % cg.cells_x, i as u32 / cg.cells_x);
                Ok(cell_content(&crop, &cg, x, y)? == cell_content(&orig, &og, x + ox, y + oy)?)
            })
            .into_iter()
            .collect::<Result<Vec<bool>>>()?
            .into_iter()
            .all(|e| e);
            if all_equal {
                found = Some((ox, oy));
                break 'search;
            }
        }
    }
    let (ox, oy) = found.ok_or_else(|| {
        failed("the cropped image is not a crop of the signed original on its cell grid (no position matches its coefficients)")
    })?;
    let rect = CellRect {
        x0: ox,
        y0: oy,
        x1: ox + cg.cells_x,
        y1: oy + cg.cells_y,
    };
    let aggregate = table.aggregate(rect)?;
    let out = Record::Cropped {
        common,
        origin: (ox, oy),
        cells: (cg.cells_x, cg.cells_y),
        aggregate,
    };
    container::replace_record(cropped, Some(&out.to_bytes()))
}

/// Crop the signed JPEG `signed` to the pixel rectangle `(x, y, w, h)` on
/// its signature's cell grid and replace the full signature by the crop's
/// aggregate (no key needed). The corner must be on the cell grid and the
/// far edges on it or at the image's right / bottom edge; otherwise the
/// error names the nearest such rectangle. The image data is re-encoded
/// losslessly (see [`crate::jpeg::crop`]); the crop's aggregate costs
/// four entries of the signature table, whatever its size.
pub fn crop_jpeg(signed: &[u8], (x, y, w, h): (u32, u32, u32, u32)) -> Result<Vec<u8>> {
    let table = full_table(
        signed,
        "crop the signed original instead (or crop with another tool and attach to the original)",
    )?;
    let coefs = decode(signed)?;
    let grid = CellGrid::new(&coefs.frame, table.common.g as u32)?;
    let (cw, ch) = (grid.cell_w(), grid.cell_h());
    let (iw, ih) = (coefs.frame.width, coefs.frame.height);
    let edge_ok = |start: u32, len: u32, cell: u32, size: u32| {
        start % cell == 0
            && len > 0
            && start + len <= size
            && ((start + len) % cell == 0 || start + len == size)
    };
    if x.checked_add(w).is_none()
        || y.checked_add(h).is_none()
        || !edge_ok(x, w, cw, iw)
        || !edge_ok(y, h, ch, ih)
    {
        // The nearest aligned rectangle: corner rounded down, far edges to
        // the nearest cell boundary (or the image edge), at least one cell.
        let snap = |start: u32, len: u32, cell: u32, size: u32| -> (u32, u32) {
            let s = (start.min(size.saturating_sub(1)) / cell) * cell;
            let end = start.saturating_add(len).min(size);
            let mut e = ((end + cell / 2) / cell * cell).min(size);
            if e <= s {
                e = (s + cell).min(size);
            }
            (s, e - s)
        };
        let (sx, sw) = snap(x, w, cw, iw);
        let (sy, sh) = snap(y, h, ch, ih);
        return Err(Error::invalid_argument(format!(
            "crop {w}x{h} at ({x}, {y}) is not on the signature's {cw}x{ch}-pixel cell grid of this {iw}x{ih} image; the nearest aligned crop is {sw}x{sh} at ({sx}, {sy}) (--rect {sx},{sy},{sw},{sh})"
        )));
    }
    let cropped = crate::jpeg::crop::crop(signed, &coefs, (x, y, w, h), |s, d| {
        !(s.marker == marker::COM && container::is_signature_payload(s.payload(d)))
    })?;
    let rect = CellRect {
        x0: x / cw,
        y0: y / ch,
        x1: (x + w).div_ceil(cw),
        y1: (y + h).div_ceil(ch),
    };
    let aggregate = table.aggregate(rect)?;
    let out = Record::Cropped {
        common: table.common,
        origin: (rect.x0, rect.y0),
        cells: (rect.x1 - rect.x0, rect.y1 - rect.y0),
        aggregate,
    };
    container::replace_record(&cropped, Some(&out.to_bytes()))
}
