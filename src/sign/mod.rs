//! Croppable image signatures (Perazzo et al., with cells of quantized DCT
//! coefficients instead of decoded pixels): every cell of the image is
//! signed with BLS; anyone can crop the image on the cell grid and
//! aggregate the signatures of the cells kept into one, without a key; the
//! verifier checks that single signature against the cropped image's cells
//! with two pairings.
//!
//! This module has the cell layer: signing every cell, aggregating a
//! rectangle of cell signatures, verifying an aggregate against an image
//! (or a crop of it) and localizing the cells that fail. The container that
//! stores signatures in COM segments and the crop operation build on it.

pub mod cells;
pub mod container;
mod file;
pub mod record;
mod session;

use crate::crypto::bls::{
    self, BlsPublicKey, BlsSecretKey, BlsSignature, HashSum, SigSum, UncheckedSignature,
    SIGNATURE_LEN,
};
use crate::jpeg::coefficients::Coefficients;
use crate::{Error, Result};
pub use cells::{cell_content, cell_message, CellGrid};
pub use file::{
    attach, check_certificate, crop_jpeg, read_record, sign_jpeg, sign_jpeg_paper, verify_jpeg,
    KeyRef, LongTermSigner, SignOptions, Verified,
};
pub use session::SignSession;

/// Run `f(i)` for `i` in `0..n` on `threads` threads of our own (0 or 1 =
/// the calling thread only), results in index order. No pool outlives the
/// call.
fn par_map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return (0..n).map(f).collect();
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t * chunk..((t + 1) * chunk).min(n))
                        .map(f)
                        .collect::<Vec<T>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a signing thread panicked"))
            .collect()
    })
}

/// A rectangle of cells: columns `[x0, x1)`, rows `[y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRect {
    /// First column.
    pub x0: u32,
    /// First row.
    pub y0: u32,
    /// One past the last column.
    pub x1: u32,
    /// One past the last row.
    pub y1: u32,
}

impl CellRect {
    /// Every cell of `grid`.
    pub fn all(grid: &CellGrid) -> CellRect {
        CellRect {
            x0: 0,
            y0: 0,
            x1: grid.cells_x,
            y1: grid.cells_y,
        }
    }

    fn cells(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (self.y0..self.y1).flat_map(move |y| (self.x0..self.x1).map(move |x| (x, y)))
    }

    fn len(&self) -> usize {
        (self.x1.saturating_sub(self.x0) as usize) * (self.y1.saturating_sub(self.y0) as usize)
    }
}

/// Sign every cell of the image `coefs` at the grid `grid`, bound to
/// `binding`: one signature per cell, in raster order.
pub fn sign_cells(
    coefs: &Coefficients,
    grid: &CellGrid,
    binding: &[u8; 32],
    sk: &BlsSecretKey,
    threads: usize,
) -> Result<Vec<BlsSignature>> {
    let all = CellRect::all(grid);
    let cells: Vec<(u32, u32)> = all.cells().collect();
    par_map(cells.len(), threads, |i| {
        let (x, y) = cells[i];
        let m = cell_message(coefs, grid, binding, x, y, (0, 0))?;
        Ok(sk.sign(&m, bls::DST_CROP_V1))
    })
    .into_iter()
    .collect()
}

/// A stored (compressed) entry of a signature table.
pub type CellSig = [u8; SIGNATURE_LEN];

/// The summed-area table of the cell signatures `sigs` (raster order over a
/// grid `cells_x` wide): entry `(x, y)`, stored at index `y * cells_x + x`,
/// is the sum of the signatures of every cell `(i, j)` with `i <= x` and
/// `j <= y`. Any rectangle's aggregate then costs four entries
/// ([`aggregate_rect`]), whatever its size (docs/sign-format.md, section 7).
pub fn prefix_table(sigs: &[BlsSignature], cells_x: u32) -> Vec<CellSig> {
    let w = cells_x as usize;
    let mut col = vec![SigSum::new(); w];
    let mut out = Vec::with_capacity(sigs.len());
    for row in sigs.chunks(w.max(1)) {
        let mut run = SigSum::new();
        for (x, s) in row.iter().enumerate() {
            run.add(s);
            col[x].add_sum(&run);
            out.push(col[x].to_bytes());
        }
    }
    out
}

/// The aggregate of the signatures of the cells in `rect`, from the
/// summed-area table `table` of a grid `cells_x` wide ([`prefix_table`]):
/// `S(x1-1, y1-1) - S(x0-1, y1-1) - S(x1-1, y0-1) + S(x0-1, y0-1)`, the
/// terms outside the grid being zero; the sum is group-checked once. No key
/// needed.
pub fn aggregate_rect(table: &[CellSig], cells_x: u32, rect: CellRect) -> Result<BlsSignature> {
    if rect.x0 >= rect.x1 || rect.y0 >= rect.y1 {
        return Err(Error::invalid_argument("empty cell rectangle"));
    }
    let at = |x: u32, y: u32| -> Result<&CellSig> {
        table
            .get(y as usize * cells_x as usize + x as usize)
            .filter(|_| x < cells_x)
            .ok_or_else(|| {
                Error::invalid_argument(format!("cell ({x}, {y}) is outside the signature table"))
            })
    };
    let bad = |e: Error| {
        Error::new(
            crate::ErrorKind::Malformed,
            format!("signature table: {}", e.message()),
        )
    };
    let mut terms: Vec<UncheckedSignature> = Vec::with_capacity(4);
    let plus = at(rect.x1 - 1, rect.y1 - 1)?;
    if !UncheckedSignature::is_infinity_encoding(plus) {
        terms.push(UncheckedSignature::from_bytes(plus).map_err(bad)?);
    }
    if rect.x0 > 0 {
        if let Some(t) =
            UncheckedSignature::negated_from_bytes(at(rect.x0 - 1, rect.y1 - 1)?).map_err(bad)?
        {
            terms.push(t);
        }
    }
    if rect.y0 > 0 {
        if let Some(t) =
            UncheckedSignature::negated_from_bytes(at(rect.x1 - 1, rect.y0 - 1)?).map_err(bad)?
        {
            terms.push(t);
        }
    }
    if rect.x0 > 0 && rect.y0 > 0 {
        let t = at(rect.x0 - 1, rect.y0 - 1)?;
        if !UncheckedSignature::is_infinity_encoding(t) {
            terms.push(UncheckedSignature::from_bytes(t).map_err(bad)?);
        }
    }
    if terms.is_empty() {
        return Err(Error::new(
            crate::ErrorKind::VerificationFailed,
            "the aggregate signature is the point at infinity",
        ));
    }
    BlsSignature::aggregate_unchecked(&terms)
}

/// Check `agg` against every cell of the image `coefs` (a crop whose cell
/// (0, 0) is cell `origin` of the signed original): two pairings whatever
/// the number of cells.
pub fn verify_cells(
    coefs: &Coefficients,
    grid: &CellGrid,
    binding: &[u8; 32],
    origin: (u32, u32),
    agg: &BlsSignature,
    pk: &BlsPublicKey,
    threads: usize,
) -> Result<bool> {
    let sum = hash_cells(coefs, grid, binding, origin, CellRect::all(grid), threads)?;
    Ok(bls::verify_same_key(agg, &sum, pk))
}

/// The sum of the hashes of the messages of the cells in `rect`.
fn hash_cells(
    coefs: &Coefficients,
    grid: &CellGrid,
    binding: &[u8; 32],
    origin: (u32, u32),
    rect: CellRect,
    threads: usize,
) -> Result<HashSum> {
    let cells: Vec<(u32, u32)> = rect.cells().collect();
    let threads = threads.clamp(1, cells.len().max(1));
    let chunk = cells.len().div_ceil(threads).max(1);
    let parts = par_map(threads, threads, |t| -> Result<HashSum> {
        let mut h = HashSum::new();
        for &(x, y) in cells.iter().skip(t * chunk).take(chunk) {
            h.add(
                &cell_message(coefs, grid, binding, x, y, origin)?,
                bls::DST_CROP_V1,
            );
        }
        Ok(h)
    });
    let mut sum = HashSum::new();
    for p in parts {
        sum.merge(&p?);
    }
    debug_assert_eq!(sum.count() as usize, rect.len());
    Ok(sum)
}

/// The cells of the image `coefs` (signed as a whole, `table` its full
/// summed-area table) whose content does not match the signatures, in
/// raster order: empty exactly when the aggregate of the whole image
/// verifies.
///
/// A group test over rectangles: a rectangle whose aggregate (four table
/// entries) verifies against the sum of its cells' message hashes is
/// authentic as a whole and is not searched further; a failing one is cut
/// in halves across its longer side, down to single cells. A few tampered
/// cells among many cost a few pairing checks per level, not one per cell,
/// and every cell whose content changed is reported.
pub fn localize(
    coefs: &Coefficients,
    grid: &CellGrid,
    binding: &[u8; 32],
    table: &[CellSig],
    pk: &BlsPublicKey,
    threads: usize,
) -> Result<Vec<(u32, u32)>> {
    if table.len() as u64 != grid.len() {
        return Err(Error::invalid_argument(format!(
            "{} signature table entries for a grid of {} cells",
            table.len(),
            grid.len()
        )));
    }
    // Each cell's hash once; then group tests over rectangles.
    let n = table.len();
    let hashes = par_map(n, threads, |i| -> Result<HashSum> {
        let (x, y) = (i as u32 % grid.cells_x, i as u32 / grid.cells_x);
        let mut h = HashSum::new();
        h.add(
            &cell_message(coefs, grid, binding, x, y, (0, 0))?,
            bls::DST_CROP_V1,
        );
        Ok(h)
    })
    .into_iter()
    .collect::<Result<Vec<HashSum>>>()?;
    let mut bad = Vec::new();
    let mut stack = vec![CellRect::all(grid)];
    while let Some(r) = stack.pop() {
        let mut sum = HashSum::new();
        for (x, y) in r.cells() {
            sum.merge(&hashes[y as usize * grid.cells_x as usize + x as usize]);
        }
        let ok = aggregate_rect(table, grid.cells_x, r)
            .map(|agg| bls::verify_same_key(&agg, &sum, pk))
            .unwrap_or(false);
        if ok {
            continue;
        }
        let (w, h) = (r.x1 - r.x0, r.y1 - r.y0);
        if w == 1 && h == 1 {
            bad.push((r.y0, r.x0));
        } else if w >= h {
            let mid = r.x0 + w / 2;
            stack.push(CellRect { x0: mid, ..r });
            stack.push(CellRect { x1: mid, ..r });
        } else {
            let mid = r.y0 + h / 2;
            stack.push(CellRect { y0: mid, ..r });
            stack.push(CellRect { y1: mid, ..r });
        }
    }
    bad.sort_unstable();
    Ok(bad.into_iter().map(|(y, x)| (x, y)).collect())
}
