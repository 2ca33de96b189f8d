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

use crate::crypto::bls::{
    self, BlsPublicKey, BlsSecretKey, BlsSignature, HashSum, UncheckedSignature, SIGNATURE_LEN,
};
use crate::jpeg::coefficients::Coefficients;
use crate::{Error, Result};
pub use cells::{cell_content, cell_message, CellGrid};
pub use file::{attach, crop_jpeg, read_record, sign_jpeg, verify_jpeg, SignOptions, Verified};

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

/// A stored (compressed) cell signature.
pub type CellSig = [u8; SIGNATURE_LEN];

/// Decode the stored cell signatures `idx` of `sigs` (raster order over a
/// grid `cells_x` wide), on `threads` threads; an entry that is not a point
/// names its cell.
fn decode_sigs(
    sigs: &[CellSig],
    cells_x: u32,
    idx: &[usize],
    threads: usize,
) -> Result<Vec<UncheckedSignature>> {
    par_map(idx.len(), threads, |k| {
        let i = idx[k];
        let raw = sigs.get(i).ok_or_else(|| {
            Error::invalid_argument(format!(
                "cell ({}, {}) is outside the signature table",
                i as u32 % cells_x,
                i as u32 / cells_x
            ))
        })?;
        UncheckedSignature::from_bytes(raw).map_err(|e| {
            Error::new(
                crate::ErrorKind::Malformed,
                format!(
                    "signature of cell ({}, {}): {}",
                    i as u32 % cells_x,
                    i as u32 / cells_x,
                    e.message()
                ),
            )
        })
    })
    .into_iter()
    .collect()
}

/// The aggregate of the stored signatures of the cells in `rect`, from the
/// full table `sigs` (raster order over a grid `cells_x` wide), decoded on
/// `threads` threads and group-checked once. No key needed.
pub fn aggregate_rect(
    sigs: &[CellSig],
    cells_x: u32,
    rect: CellRect,
    threads: usize,
) -> Result<BlsSignature> {
    let idx: Vec<usize> = rect
        .cells()
        .map(|(x, y)| y as usize * cells_x as usize + x as usize)
        .collect();
    let decoded = decode_sigs(sigs, cells_x, &idx, threads)?;
    BlsSignature::aggregate_unchecked(&decoded)
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

/// The cells of the image `coefs` (signed as a whole, `sigs` its full table
/// in raster order) whose content does not match the signature table, in
/// raster order: empty exactly when the aggregate of the whole table
/// verifies.
///
/// A group test: a range of cells whose aggregate verifies is authentic as
/// a whole and is not searched further; a failing range is split in
/// halves, down to single cells, which are reported when their own
/// signature fails. A few tampered cells among many thus cost a few pairing
/// checks per level, not one per cell. Every cell whose content changed is
/// reported. Table entries merely exchanged between cells (content
/// unchanged) are reported only when they end up in different halves of a
/// failing range: a range whose aggregate verifies holds authentic content
/// even if its entries are permuted (such a table still fails any crop that
/// separates them).
pub fn localize(
    coefs: &Coefficients,
    grid: &CellGrid,
    binding: &[u8; 32],
    sigs: &[CellSig],
    pk: &BlsPublicKey,
    threads: usize,
) -> Result<Vec<(u32, u32)>> {
    if sigs.len() as u64 != grid.len() {
        return Err(Error::invalid_argument(format!(
            "{} cell signatures for a grid of {} cells",
            sigs.len(),
            grid.len()
        )));
    }
    // Each cell's hash once; then group tests over index ranges.
    let n = sigs.len();
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
    // Entries that are not points on the curve are bad cells themselves.
    let decoded: Vec<Option<UncheckedSignature>> = par_map(n, threads, |i| {
        UncheckedSignature::from_bytes(&sigs[i]).ok()
    });
    let mut bad = Vec::new();
    let mut stack = vec![(0usize, n)];
    while let Some((a, b)) = stack.pop() {
        let mut sum = HashSum::new();
        for h in &hashes[a..b] {
            sum.merge(h);
        }
        let ok = decoded[a..b].iter().all(Option::is_some)
            && BlsSignature::aggregate_unchecked(decoded[a..b].iter().flatten())
                .map(|agg| bls::verify_same_key(&agg, &sum, pk))
                .unwrap_or(false);
        if ok {
            continue;
        }
        if b - a == 1 {
            bad.push(a);
        } else {
            let mid = (a + b) / 2;
            stack.push((mid, b));
            stack.push((a, mid));
        }
    }
    bad.sort_unstable();
    Ok(bad
        .into_iter()
        .map(|i| (i as u32 % grid.cells_x, i as u32 / grid.cells_x))
        .collect())
}
