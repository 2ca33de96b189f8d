//! Signing a JPEG while it is being written: [`SignSession`] takes the
//! file's bytes as an encoder produces them (headers, then each scan, in
//! any chunks), decodes the coefficients as they arrive and signs each row
//! of cells as soon as its blocks are decoded, so that when the encoder
//! finishes only the last row of cells and the header remain to sign.
//! [`super::sign_jpeg`] and [`super::sign_jpeg_paper`] are one session fed
//! the whole file at once: both paths make the same signatures.

use super::cells::{cell_message, CellGrid};
use super::container;
use super::file::{
    check_certificate, header_message, paper_statement, LongTermSigner, SignOptions,
};
use super::record::{Certification, Common, Record, PROFILE_COMPACT};
use super::{par_map, CellRect};
use crate::crypto::bls::{self, BlsSecretKey, BlsSignature};
use crate::jpeg::coefficients::CoefficientDecoder;
use crate::{Error, ErrorKind, Result};

/// Which profile a session signs, and the BLS key that signs its cells.
enum CellKey {
    /// The signer's long-term BLS key.
    Compact(BlsSecretKey),
    /// A fresh ephemeral key, certified at the end by the long-term key.
    Paper(BlsSecretKey),
}

impl CellKey {
    fn key(&self) -> &BlsSecretKey {
        match self {
            CellKey::Compact(k) | CellKey::Paper(k) => k,
        }
    }
}

/// An image being signed as it is written. Feed every byte of the file in
/// order with [`write`](SignSession::write), then call
/// [`finish_compact`](SignSession::finish_compact) or
/// [`finish_paper`](SignSession::finish_paper) (whichever the session was
/// made for) for the signed file. An error is final: later calls fail.
pub struct SignSession {
    file: Vec<u8>,
    decoder: CoefficientDecoder,
    opts: SignOptions,
    key: CellKey,
    binding: [u8; 32],
    grid: Option<CellGrid>,
    /// Signatures of the cell rows signed so far, raster order.
    sigs: Vec<BlsSignature>,
    rows_signed: u32,
    done: bool,
    failed: bool,
}

impl SignSession {
    fn new(key: CellKey, opts: &SignOptions) -> Result<SignSession> {
        if !(1..=super::cells::MAX_GRANULARITY).contains(&opts.granularity) {
            return Err(Error::invalid_argument(format!(
                "granularity {}: must be 1 to {}",
                opts.granularity,
                super::cells::MAX_GRANULARITY
            )));
        }
        let mut binding = [0u8; 32];
        crate::crypto::random_bytes(&mut binding)?;
        Ok(SignSession {
            file: Vec::new(),
            decoder: CoefficientDecoder::new(),
            opts: *opts,
            key,
            binding,
            grid: None,
            sigs: Vec::new(),
            rows_signed: 0,
            done: false,
            failed: false,
        })
    }

    /// A session for the `compact` profile with the long-term BLS key `sk`
    /// (copied into the session and wiped with it).
    pub fn compact(sk: &BlsSecretKey, opts: &SignOptions) -> Result<SignSession> {
        Self::new(CellKey::Compact(sk.clone()), opts)
    }

    /// A session for the `paper` profile: draws the image's ephemeral BLS
    /// key, which signs the cells; the long-term signer certifies it in
    /// [`finish_paper`](SignSession::finish_paper).
    pub fn paper(opts: &SignOptions) -> Result<SignSession> {
        Self::new(CellKey::Paper(BlsSecretKey::generate()?), opts)
    }

    /// Cells signed so far and the image's cells (0 before the frame header).
    pub fn progress(&self) -> (u64, u64) {
        (self.sigs.len() as u64, self.grid.map_or(0, |g| g.len()))
    }

    /// The next bytes of the file. Cells whose blocks are all decoded are
    /// signed before this returns (with the options' threads). Bytes after
    /// the image's EOI are kept as they are.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.usable()?;
        self.file.extend_from_slice(data);
        let r = self.step(false);
        self.failed = r.is_err();
        r
    }

    fn usable(&self) -> Result<()> {
        if self.failed {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "an earlier call of this signing session failed",
            ));
        }
        Ok(())
    }

    fn step(&mut self, last: bool) -> Result<()> {
        if !self.done {
            self.done = self.decoder.advance(&mut self.file, last)?;
        }
        if self.grid.is_none() {
            if let Some(f) = self.decoder.frame() {
                self.grid = Some(CellGrid::new(f, self.opts.granularity)?);
            }
        }
        let Some(grid) = self.grid else {
            return Ok(());
        };
        // Cell rows whose iMCU rows are all decoded (all at the end).
        let imcu_rows = if last {
            None
        } else {
            self.decoder.complete_imcu_rows()
        };
        let rows = match imcu_rows {
            None if last => grid.cells_y,
            None => 0,
            Some(r) => {
                let total = grid.height.div_ceil(grid.cell_h() / grid.g);
                if r >= total {
                    grid.cells_y
                } else {
                    r / grid.g
                }
            }
        };
        if rows > self.rows_signed {
            let (y0, binding, threads) = (self.rows_signed, self.binding, self.opts.threads);
            let sk = self.key.key().clone();
            let new = self
                .decoder
                .with_partial(|coefs| -> Result<Vec<BlsSignature>> {
                    let rect = CellRect {
                        x0: 0,
                        y0,
                        x1: grid.cells_x,
                        y1: rows,
                    };
                    let cells: Vec<(u32, u32)> = rect.cells().collect();
                    par_map(cells.len(), threads, |i| {
                        let (x, y) = cells[i];
                        let m = cell_message(coefs, &grid, &binding, x, y, (0, 0))?;
                        Ok(sk.sign(&m, bls::DST_CROP_V1))
                    })
                    .into_iter()
                    .collect()
                })
                .expect("the frame is known")?;
            self.sigs.extend(new);
            self.rows_signed = rows;
        }
        Ok(())
    }

    /// The end of the file: decodes the rest (an image without EOI is an
    /// error), signs the remaining cells, and returns the decoded image's
    /// record parts.
    fn complete(&mut self) -> Result<(crate::jpeg::coefficients::Coefficients, Common, CellGrid)> {
        self.usable()?;
        self.failed = true;
        // The rows signed while writing used the tables in force then;
        // `finish` refuses files that change them between scans.
        self.step(true)?;
        let decoder = std::mem::take(&mut self.decoder);
        let coefs = decoder.finish()?;
        let grid = self.grid.expect("the frame is known after the last step");
        let common = Common {
            g: self.opts.granularity as u8,
            width: coefs.frame.width,
            height: coefs.frame.height,
            binding: self.binding,
            key_id: [0; 32],
            certification: None,
        };
        Ok((coefs, common, grid))
    }

    fn record(&self, common: Common, grid: &CellGrid, header_sig: Option<BlsSignature>) -> Vec<u8> {
        Record::Full {
            common,
            cells_x: grid.cells_x,
            cells_y: grid.cells_y,
            header_sig,
            cell_sigs: super::prefix_table(&self.sigs, grid.cells_x),
        }
        .to_bytes()
    }

    /// Finish a `compact` session: the signed file.
    pub fn finish_compact(mut self) -> Result<Vec<u8>> {
        let CellKey::Compact(sk) = &self.key else {
            return Err(Error::invalid_argument(
                "this session signs the paper profile: finish it with the long-term signer",
            ));
        };
        let sk = sk.clone();
        let (coefs, mut common, grid) = self.complete()?;
        common.key_id = sk.public_key().fingerprint();
        let header_sig = sk.sign(
            &header_message(PROFILE_COMPACT, &common, &coefs),
            bls::DST_CROP_V1,
        );
        let record = self.record(common, &grid, Some(header_sig));
        container::replace_record(&self.file, Some(&record))
    }

    /// Finish a `paper` session: `signer` signs the statement that certifies
    /// the ephemeral key (its signature is verified first), `certificate`
    /// (X.509, DER or PEM) is embedded when given; the signed file. The
    /// ephemeral secret is wiped when the session is dropped.
    pub fn finish_paper(
        mut self,
        signer: &dyn LongTermSigner,
        certificate: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let CellKey::Paper(esk) = &self.key else {
            return Err(Error::invalid_argument(
                "this session signs the compact profile: it has no long-term signer",
            ));
        };
        let ephemeral = esk.public_key();
        let public = signer.public_key()?;
        let certificate = check_certificate(&public, certificate)?;
        let (coefs, mut common, grid) = self.complete()?;
        common.key_id = public.fingerprint();
        let statement = paper_statement(&common, &coefs, &ephemeral);
        let signature = public.normalize_signature(&signer.sign(&statement)?)?;
        if !public.verify(&statement, &signature) {
            return Err(Error::new(
                ErrorKind::BadKey,
                format!(
                    "the long-term signer returned a signature that does not verify with its public key ({})",
                    public.algorithm().name()
                ),
            ));
        }
        common.certification = Some(Certification {
            ephemeral,
            algorithm: public.algorithm(),
            signature,
            certificate,
        });
        let record = self.record(common, &grid, None);
        container::replace_record(&self.file, Some(&record))
    }
}
