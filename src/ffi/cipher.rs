//! `jsec_fspe_cipher`: a key and options, ready to encrypt and decrypt.

use super::boundary::jsec_status;
use super::boundary::{
    arc_into_ptr, boundary, check_out, free_arc, try_array, try_ref, try_slice, try_slice_mut,
    write_sized, Castable, OwnershipArc,
};
use super::key::jsec_key;
use super::options::jsec_fspe_options;
use super::report::{give_report, jsec_fspe_bit_stats, jsec_fspe_report};
use crate::fspe::{Cipher, Direction, Seed};
use crate::{Error, Result};

/// A configured FSPE operation: a key at a level of the hash chain plus
/// options. Opaque.
///
/// Immutable once made: a `const jsec_fspe_cipher *` may be used by any
/// number of threads at once (each call works on its own buffer). It keeps
/// its own copies of the key and options. Freed with `jsec_fspe_cipher_free`.
pub struct jsec_fspe_cipher {
    _private: [u8; 0],
}

impl Castable for jsec_fspe_cipher {
    type RustType = Cipher;
    type Ownership = OwnershipArc;
}

/// Encrypt or decrypt (streams and per-scan calls).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_fspe_direction {
    /// Plain to protected.
    Encrypt = 0,
    /// Protected to plain.
    Decrypt = 1,
}

/// Length in bytes of a seed (`jsec_fspe_stream_seed`, `jsec_fspe_stream_new`,
/// `jsec_fspe_cipher_process_scan`).
pub const JSEC_FSPE_SEED_LEN: usize = 32;

/// The direction for C value `dir`, or INVALID_ARGUMENT.
pub(crate) fn direction(dir: u32) -> Result<Direction> {
    match dir {
        d if d == jsec_fspe_direction::Encrypt as u32 => Ok(Direction::Encrypt),
        d if d == jsec_fspe_direction::Decrypt as u32 => Ok(Direction::Decrypt),
        d => Err(Error::invalid_argument(format!("unknown direction {d}"))),
    }
}

/// The optional seed `(seed, seed_len)`: NULL with `seed_len` 0 is "none",
/// otherwise exactly `JSEC_FSPE_SEED_LEN` bytes.
///
/// # Safety
///
/// `seed` is NULL or readable for `seed_len` bytes.
pub(crate) unsafe fn optional_seed(seed: *const u8, seed_len: usize) -> Result<Option<Seed>> {
    if seed.is_null() && seed_len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    Ok(Some(unsafe {
        try_array::<JSEC_FSPE_SEED_LEN>(seed, seed_len, "seed")
    }?))
}

/// Make a cipher from `key` and `options`.
///
/// `key_level` says which key of the hash chain `key` is: 0 for the master key
/// `k0` (encrypts and decrypts everything), 1 for `k1` or 2 for `k2` (decrypt
/// only, restoring the bands that key covers; needs multi-level options).
/// Other values, or a level above 0 without multi-level options, are
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// `key` and `options` are only read and copied: the caller may free or
/// change them afterwards. On success `*out` receives a cipher the caller frees
/// with `jsec_fspe_cipher_free`; on failure `*out` is not written. NULL `key`,
/// `options` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_key`; `options` is NULL or a live
/// `jsec_fspe_options` not being changed by another thread; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_cipher_new(
    key: *const jsec_key,
    options: *const jsec_fspe_options,
    key_level: u32,
    out: *mut *const jsec_fspe_cipher,
) -> jsec_status {
    boundary("jsec_fspe_cipher_new", || {
        check_out(out, "out")?;
        // SAFETY: `key` and `options` are NULL or live handles by the contract.
        let (key, options) = unsafe { (try_ref(key, "key")?, try_ref(options, "options")?) };
        let level = u8::try_from(key_level)
            .map_err(|_| Error::invalid_argument(format!("key level {key_level} (0, 1 or 2)")))?;
        let cipher = Cipher::new(key.clone(), options.clone())?.with_key_level(level)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { super::boundary::write_out(out, arc_into_ptr(cipher)) };
        Ok(())
    })
}

/// The shared body of encrypt and decrypt.
///
/// # Safety
///
/// As for `jsec_fspe_cipher_encrypt`.
unsafe fn in_place(
    function: &str,
    cipher: *const jsec_fspe_cipher,
    buf: *mut u8,
    len: usize,
    report: *mut *mut jsec_fspe_report,
    dir: Direction,
) -> jsec_status {
    boundary(function, || {
        // SAFETY: `cipher` is NULL or a live handle by the contract.
        let c = unsafe { try_ref(cipher, "cipher") }?;
        // SAFETY: `buf` is readable and writable for `len` bytes, unshared, by the contract.
        let data = unsafe { try_slice_mut(buf, len, "buf") }?;
        let r = match dir {
            Direction::Encrypt => c.encrypt(data)?,
            Direction::Decrypt => c.decrypt(data)?,
        };
        // SAFETY: `report` is NULL or writable by the contract.
        unsafe { give_report(r, report) };
        Ok(())
    })
}

/// Encrypt the JPEG file in `buf` (`len` bytes) in place: the primary image
/// and every embedded JPEG. The length never changes and the result is still
/// a valid JPEG.
///
/// On failure `buf` is unchanged. `report` may be NULL; otherwise on success
/// `*report` receives a report the caller frees with `jsec_fspe_report_free`
/// (on failure it is not written). NULL `cipher` or `buf` is
/// `JSEC_ERR_INVALID_ARGUMENT`; a cipher made with a key level above 0 cannot
/// encrypt (`JSEC_ERR_INVALID_ARGUMENT`). Thread-safe for distinct buffers:
/// many threads may use one cipher at once.
///
/// # Safety
///
/// `cipher` is NULL or a live `jsec_fspe_cipher`; `buf` is NULL or readable
/// and writable for `len` bytes, and not accessed by anyone else during the
/// call; `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_cipher_encrypt(
    cipher: *const jsec_fspe_cipher,
    buf: *mut u8,
    len: usize,
    report: *mut *mut jsec_fspe_report,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        in_place(
            "jsec_fspe_cipher_encrypt",
            cipher,
            buf,
            len,
            report,
            Direction::Encrypt,
        )
    }
}

/// Decrypt the JPEG file in `buf` (`len` bytes) in place.
///
/// The cipher needs the key and options used to encrypt; with wrong ones the
/// result is a different (valid, same-size) JPEG and the call still succeeds:
/// nothing in the file can tell. On failure `buf` is unchanged. `report` may
/// be NULL; otherwise on success `*report` receives a report the caller frees
/// with `jsec_fspe_report_free`. NULL `cipher` or `buf` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe for distinct buffers.
///
/// # Safety
///
/// `cipher` is NULL or a live `jsec_fspe_cipher`; `buf` is NULL or readable
/// and writable for `len` bytes, and not accessed by anyone else during the
/// call; `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_cipher_decrypt(
    cipher: *const jsec_fspe_cipher,
    buf: *mut u8,
    len: usize,
    report: *mut *mut jsec_fspe_report,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        in_place(
            "jsec_fspe_cipher_decrypt",
            cipher,
            buf,
            len,
            report,
            Direction::Decrypt,
        )
    }
}

/// Encrypt or decrypt one scan of the primary image in place, for
/// applications that handle one scan at a time (a libjpeg-based pipeline).
///
/// * `direction`: a `jsec_fspe_direction` value.
/// * `seed`, `seed_len`: the file's seed from a digest stream over the whole
///   (plain, or for decryption protected) file (`jsec_fspe_stream_seed`),
///   exactly `JSEC_FSPE_SEED_LEN` bytes; or NULL and 0 when the options carry
///   a caller nonce.
/// * `prefix`, `prefix_len`: every byte of the file before this scan's
///   entropy-coded data, from SOI through this scan's SOS segment, earlier
///   scans included as they are in the file. Only read.
/// * `scan`, `scan_len`: this scan's entropy-coded data up to (not including)
///   the marker that ends it, RST markers inside included. Changed in place.
/// * `stats`: NULL, or a caller struct with `struct_size` set that receives
///   this scan's statistics on success (only the fields that fit).
///
/// The result equals what `jsec_fspe_cipher_encrypt`/`_decrypt` do to those
/// bytes. Embedded images are not touched. On failure `scan` and `*stats` are
/// unchanged. NULL `cipher`, `prefix` or `scan`, a bad `seed_len` or
/// `direction`, no seed without a caller nonce or a seed with one, or a
/// `prefix` that does not end exactly at the end of an SOS segment, is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe for distinct buffers.
///
/// # Safety
///
/// `cipher` is NULL or a live `jsec_fspe_cipher`; `seed` is NULL or readable
/// for `seed_len` bytes; `prefix` is NULL or readable for `prefix_len` bytes;
/// `scan` is NULL or readable and writable for `scan_len` bytes and overlaps
/// no other argument; `stats` is NULL or points to `stats->struct_size`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_cipher_process_scan(
    cipher: *const jsec_fspe_cipher,
    direction: u32,
    seed: *const u8,
    seed_len: usize,
    prefix: *const u8,
    prefix_len: usize,
    scan: *mut u8,
    scan_len: usize,
    stats: *mut jsec_fspe_bit_stats,
) -> jsec_status {
    boundary("jsec_fspe_cipher_process_scan", || {
        // SAFETY: `cipher` is NULL or a live handle by the contract.
        let c = unsafe { try_ref(cipher, "cipher") }?;
        let dir = self::direction(direction)?;
        // SAFETY: `seed` is NULL or readable for `seed_len` bytes by the contract.
        let seed = unsafe { optional_seed(seed, seed_len) }?;
        // SAFETY: `prefix` is readable for `prefix_len` bytes by the contract.
        let prefix = unsafe { try_slice(prefix, prefix_len, "prefix") }?;
        // SAFETY: `scan` is readable and writable for `scan_len` bytes, unshared.
        let scan = unsafe { try_slice_mut(scan, scan_len, "scan") }?;
        if !stats.is_null() {
            // Check `struct_size` before touching `scan`, so that a failure
            // leaves everything unchanged.
            // SAFETY: `stats` is non-NULL and starts with a readable `size_t`.
            let size = unsafe { stats.cast::<usize>().read_unaligned() };
            if size < std::mem::size_of::<usize>() {
                return Err(Error::invalid_argument(format!(
                    "`stats->struct_size` is {size}; set it to sizeof the struct"
                )));
            }
        }
        let s = c.process_scan(dir, seed, prefix, scan)?;
        if !stats.is_null() {
            // SAFETY: `stats` holds `struct_size` writable bytes by the contract.
            unsafe { write_sized(stats, &jsec_fspe_bit_stats::from(&s), "stats") }?;
        }
        Ok(())
    })
}

/// Release a cipher. NULL is a no-op. The handle must not be used afterwards
/// (by any thread); streams made from it are not affected.
/// It must not race with any other use of the same handle.
///
/// # Safety
///
/// `cipher` is NULL or a live `jsec_fspe_cipher` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_cipher_free(cipher: *const jsec_fspe_cipher) {
    boundary("jsec_fspe_cipher_free", || {
        // SAFETY: `cipher` is NULL or a live handle given up by the caller.
        unsafe { free_arc(cipher) }
    })
}
