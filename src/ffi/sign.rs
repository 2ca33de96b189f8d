//! Croppable signatures: `jsec_sign_key` (secret), `jsec_verify_key`
//! (public), the `jsec_sign_options` builder, `jsec_buffer` (bytes jsec
//! made), and `jsec_sign_jpeg`, `jsec_sign_attach`, `jsec_sign_verify`.

use super::boundary::jsec_status;
use super::boundary::{
    arc_into_ptr, boundary, box_into_ptr, check_out, field_ends, free_arc, free_box, try_mut,
    try_ref, try_slice, try_slice_mut, write_out, write_sized, Castable, OwnershipArc,
    OwnershipBox, SizedStruct,
};
use crate::crypto::bls::{BlsPublicKey, BlsSecretKey, PUBLIC_KEY_LEN, SECRET_KEY_LEN};
use crate::sign::{self, SignOptions};
use crate::Error;

/// A BLS12-381 signing key (croppable signatures). Opaque, immutable: a
/// `const jsec_sign_key *` may be used from any number of threads at once.
/// The secret is wiped from memory when the last reference is released with
/// `jsec_sign_key_free`.
pub struct jsec_sign_key {
    _private: [u8; 0],
}

impl Castable for jsec_sign_key {
    type RustType = BlsSecretKey;
    type Ownership = OwnershipArc;
}

/// A BLS12-381 public key, to verify signatures. Opaque, immutable, shareable
/// between threads; freed with `jsec_verify_key_free`.
pub struct jsec_verify_key {
    _private: [u8; 0],
}

impl Castable for jsec_verify_key {
    type RustType = BlsPublicKey;
    type Ownership = OwnershipArc;
}

/// Signing options: a mutable builder (one thread at a time; it may move
/// between threads). Defaults: granularity 1, the calling thread only.
pub struct jsec_sign_options {
    _private: [u8; 0],
}

impl Castable for jsec_sign_options {
    type RustType = SignOptions;
    type Ownership = OwnershipBox;
}

/// Bytes jsec made (a signed JPEG). Opaque and immutable: read them with
/// `jsec_buffer_data`, release them with `jsec_buffer_free`.
pub struct jsec_buffer {
    _private: [u8; 0],
}

impl Castable for jsec_buffer {
    type RustType = Vec<u8>;
    type Ownership = OwnershipBox;
}

/// Length of a signing key's bytes (`jsec_sign_key_new_from_bytes`,
/// `jsec_sign_key_to_bytes`): 32.
pub const JSEC_SIGN_KEY_LEN: usize = 32;
/// Length of a public key's bytes (`jsec_verify_key_new_from_bytes`,
/// `jsec_verify_key_to_bytes`): 96 (compressed point of G2).
pub const JSEC_VERIFY_KEY_LEN: usize = 96;

// The header needs literals; they must match the library's.
const _: () = assert!(JSEC_SIGN_KEY_LEN == SECRET_KEY_LEN && JSEC_VERIFY_KEY_LEN == PUBLIC_KEY_LEN);

/// What `jsec_sign_verify` found in a valid file. A caller struct: set
/// `struct_size = sizeof(jsec_sign_verification)` (docs/c-api.md).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct jsec_sign_verification {
    /// Set by the caller to `sizeof(jsec_sign_verification)`.
    pub struct_size: usize,
    /// Profile of the signature (2 = compact).
    pub profile: u32,
    /// Granularity (cell side in iMCUs).
    pub granularity: u32,
    /// Width of the signed original, in pixels.
    pub original_width: u32,
    /// Height of the signed original.
    pub original_height: u32,
    /// True when the file is a crop of the original.
    pub cropped: bool,
    /// The crop's left edge in the original (0 when not cropped).
    pub crop_x: u32,
    /// The crop's top edge in the original.
    pub crop_y: u32,
    /// The crop's width (the image width when not cropped).
    pub crop_width: u32,
    /// The crop's height.
    pub crop_height: u32,
    /// Number of cells checked.
    pub cells: u64,
    /// SHA-256 of the signer's compressed public key.
    pub key_id: [u8; 32],
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_sign_verification {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_sign_verification:
            profile, granularity, original_width, original_height, cropped, crop_x, crop_y,
            crop_width, crop_height, cells, key_id,
        )
    }
}

/// Make a fresh random signing key (from the operating system's generator).
///
/// On success `*out` receives a key the caller frees with
/// `jsec_sign_key_free`; on failure `*out` is not written. NULL `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_generate(out: *mut *const jsec_sign_key) -> jsec_status {
    boundary("jsec_sign_key_generate", || {
        check_out(out, "out")?;
        let key = BlsSecretKey::generate()?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// Make a signing key from its 32 bytes (big-endian scalar, as written by
/// `jsec_sign_key_to_bytes`). Another length, zero or a value not below the
/// group order is `JSEC_ERR_BAD_KEY`. The bytes are copied; the caller
/// keeps (and should wipe) them. On success `*out` receives a key freed
/// with `jsec_sign_key_free`. NULL `bytes` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `bytes` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_new_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *const jsec_sign_key,
) -> jsec_status {
    boundary("jsec_sign_key_new_from_bytes", || {
        check_out(out, "out")?;
        // SAFETY: `bytes` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(bytes, len, "bytes") }?;
        let key = BlsSecretKey::from_bytes(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// Write the signing key's 32 bytes into `buf` (`len` must be at least
/// `JSEC_SIGN_KEY_LEN`, else `JSEC_ERR_BUFFER_TOO_SMALL` and nothing is
/// written). The bytes are the secret: wipe them after use. NULL `key` or
/// `buf` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `buf` is NULL or writable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_to_bytes(
    key: *const jsec_sign_key,
    buf: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_sign_key_to_bytes", || {
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        // SAFETY: `buf` is writable for `len` bytes by the contract.
        let dst = unsafe { try_slice_mut(buf, len, "buf") }?;
        if dst.len() < JSEC_SIGN_KEY_LEN {
            return Err(Error::new(
                crate::ErrorKind::BufferTooSmall,
                format!(
                    "`buf` holds {} bytes; a signing key needs {JSEC_SIGN_KEY_LEN}",
                    dst.len()
                ),
            ));
        }
        dst[..JSEC_SIGN_KEY_LEN].copy_from_slice(&key.to_bytes()[..]);
        Ok(())
    })
}

/// The public key of a signing key. On success `*out` receives a key freed
/// with `jsec_verify_key_free`. NULL `key` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_public(
    key: *const jsec_sign_key,
    out: *mut *const jsec_verify_key,
) -> jsec_status {
    boundary("jsec_sign_key_public", || {
        check_out(out, "out")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key.public_key())) };
        Ok(())
    })
}

/// Release a signing key (NULL is a no-op). The secret is wiped once no
/// reference remains. Must not race with another use of the handle.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_free(key: *const jsec_sign_key) {
    boundary("jsec_sign_key_free", || {
        // SAFETY: `key` is NULL or a live handle given up by the caller.
        unsafe { free_arc(key) }
    })
}

/// Make a public key from its 96-byte compressed encoding. Another length,
/// a point not on the curve or not in G2, or the point at infinity is
/// `JSEC_ERR_BAD_KEY`. On success `*out` receives a key freed with
/// `jsec_verify_key_free`. NULL `bytes` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `bytes` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_new_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *const jsec_verify_key,
) -> jsec_status {
    boundary("jsec_verify_key_new_from_bytes", || {
        check_out(out, "out")?;
        // SAFETY: `bytes` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(bytes, len, "bytes") }?;
        let key = BlsPublicKey::from_bytes(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// Write the public key's 96-byte compressed encoding into `buf` (`len` at
/// least `JSEC_VERIFY_KEY_LEN`, else `JSEC_ERR_BUFFER_TOO_SMALL` and nothing
/// is written). NULL `key` or `buf` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_verify_key`; `buf` is NULL or writable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_to_bytes(
    key: *const jsec_verify_key,
    buf: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_verify_key_to_bytes", || {
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        // SAFETY: `buf` is writable for `len` bytes by the contract.
        let dst = unsafe { try_slice_mut(buf, len, "buf") }?;
        if dst.len() < JSEC_VERIFY_KEY_LEN {
            return Err(Error::new(
                crate::ErrorKind::BufferTooSmall,
                format!(
                    "`buf` holds {} bytes; a public key needs {JSEC_VERIFY_KEY_LEN}",
                    dst.len()
                ),
            ));
        }
        dst[..JSEC_VERIFY_KEY_LEN].copy_from_slice(&key.to_bytes());
        Ok(())
    })
}

/// Release a public key (NULL is a no-op). Must not race with another use
/// of the handle.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_verify_key` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_free(key: *const jsec_verify_key) {
    boundary("jsec_verify_key_free", || {
        // SAFETY: `key` is NULL or a live handle given up by the caller.
        unsafe { free_arc(key) }
    })
}

/// Make a signing-options builder holding the defaults (granularity 1, the
/// calling thread only). On success `*out` receives a builder freed with
/// `jsec_sign_options_free`. NULL `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_new(out: *mut *mut jsec_sign_options) -> jsec_status {
    boundary("jsec_sign_options_new", || {
        check_out(out, "out")?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(SignOptions::default())) };
        Ok(())
    })
}

/// Set the cell side in iMCUs (1 to 32; otherwise
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing changes). Smaller cells allow
/// finer crops and cost 48 bytes of full signature each. NULL `options` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_set_granularity(
    options: *mut jsec_sign_options,
    granularity: u32,
) -> jsec_status {
    boundary("jsec_sign_options_set_granularity", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if !(1..=sign::cells::MAX_GRANULARITY).contains(&granularity) {
            return Err(Error::invalid_argument(format!(
                "granularity {granularity}: must be 1 to {}",
                sign::cells::MAX_GRANULARITY
            )));
        }
        o.granularity = granularity;
        Ok(())
    })
}

/// Set the number of threads jsec may start for one call (0 or 1: the
/// calling thread only, the default). jsec keeps no thread pool: threads
/// live for the duration of a call. Values above 256 are
/// `JSEC_ERR_INVALID_ARGUMENT`. NULL `options` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_set_threads(
    options: *mut jsec_sign_options,
    threads: u32,
) -> jsec_status {
    boundary("jsec_sign_options_set_threads", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if threads > 256 {
            return Err(Error::invalid_argument(format!(
                "{threads} threads: at most 256"
            )));
        }
        o.threads = threads as usize;
        Ok(())
    })
}

/// Release a signing-options builder (NULL is a no-op).
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_free(options: *mut jsec_sign_options) {
    boundary("jsec_sign_options_free", || {
        // SAFETY: `options` is NULL or a live handle given up by the caller.
        unsafe { free_box(options) }
    })
}

/// Sign the JPEG in `jpeg` (`len` bytes, baseline or extended-sequential
/// Huffman): every cell of the image and a header are signed with `key`,
/// and the full signature is stored in COM segments after SOI and the
/// leading APPn segments (an existing jsec signature is replaced; nothing
/// else changes). `options` may be NULL for the defaults.
///
/// On success `*out` receives the signed file in a buffer the caller frees
/// with `jsec_buffer_free`; on failure `*out` is not written (errors:
/// `JSEC_ERR_MALFORMED`, `JSEC_ERR_UNSUPPORTED` with a message naming what).
/// NULL `key`, `jpeg` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `options` is NULL or a live
/// `jsec_sign_options` not being changed; `jpeg` is NULL or readable for
/// `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_jpeg(
    key: *const jsec_sign_key,
    options: *const jsec_sign_options,
    jpeg: *const u8,
    len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_jpeg", || {
        check_out(out, "out")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let opts = options_or_default(options)?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        let signed = sign::sign_jpeg(data, key, &opts)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(signed)) };
        Ok(())
    })
}

fn options_or_default(options: *const jsec_sign_options) -> crate::Result<SignOptions> {
    if options.is_null() {
        Ok(SignOptions::default())
    } else {
        // SAFETY: `options` is non-NULL and a live handle by the caller's contract.
        Ok(*unsafe { try_ref(options, "options") }?)
    }
}

/// Give `cropped` (a crop of the signed `signed` made by another tool, e.g.
/// `jpegtran -crop`, on the signature's cell grid) the aggregated signature
/// of the cells it kept, replacing the full signature it carries: no key is
/// needed. `options` (NULL for the defaults) gives the threads.
///
/// On success `*out` receives the crop with its signature, freed with
/// `jsec_buffer_free`. `JSEC_ERR_VERIFICATION_FAILED`: `cropped` is not a
/// crop of `signed` on its grid; `JSEC_ERR_INVALID_ARGUMENT` also when
/// `signed` holds a cropped signature. NULL `signed`, `cropped` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` not being changed;
/// `signed_jpeg` and `cropped` are NULL or readable for their lengths; `out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_attach(
    options: *const jsec_sign_options,
    signed_jpeg: *const u8,
    signed_len: usize,
    cropped: *const u8,
    cropped_len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_attach", || {
        check_out(out, "out")?;
        let opts = options_or_default(options)?;
        // SAFETY: both are readable for their lengths by the contract.
        let signed = unsafe { try_slice(signed_jpeg, signed_len, "signed_jpeg") }?;
        // SAFETY: as above.
        let crop = unsafe { try_slice(cropped, cropped_len, "cropped") }?;
        let result = sign::attach(signed, crop, opts.threads)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(result)) };
        Ok(())
    })
}

/// Crop the signed JPEG `jpeg` losslessly to `width` x `height` pixels at
/// (`x`, `y`) and give the crop the aggregate signature of its cells,
/// replacing the full signature: no key is needed. The corner must lie on
/// the signature's cell grid and the far edges on it or at the image's
/// right / bottom edge; otherwise `JSEC_ERR_INVALID_ARGUMENT` with the
/// nearest aligned rectangle in `jsec_last_error()`. A file holding a
/// cropped signature cannot be cropped again (crop the signed original).
///
/// On success `*out` receives the crop in a buffer freed with
/// `jsec_buffer_free`. NULL `jpeg` or `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `jpeg` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_crop(
    jpeg: *const u8,
    len: usize,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_crop", || {
        check_out(out, "out")?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        let result = sign::crop_jpeg(data, (x, y, width, height))?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(result)) };
        Ok(())
    })
}

/// Verify the signature in `jpeg` against `key`. Returns `JSEC_OK` and fills
/// `*result` (a caller struct, `struct_size` set) when valid;
/// `JSEC_ERR_VERIFICATION_FAILED` when the signature is absent or invalid,
/// with the reason in `jsec_last_error()` (another key; cropped without an
/// updated signature; crop geometry; header; the cells that changed);
/// `JSEC_ERR_MALFORMED` / `JSEC_ERR_UNSUPPORTED` for a file that cannot be
/// read. `options` (NULL for the defaults) gives the threads. NULL `key`,
/// `jpeg` or `result` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_verify_key`; `options` is NULL or a live
/// `jsec_sign_options` not being changed; `jpeg` is NULL or readable for
/// `len` bytes; `result` is NULL or points to `result->struct_size` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_verify(
    key: *const jsec_verify_key,
    options: *const jsec_sign_options,
    jpeg: *const u8,
    len: usize,
    result: *mut jsec_sign_verification,
) -> jsec_status {
    boundary("jsec_sign_verify", || {
        check_out(result, "result")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let opts = options_or_default(options)?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        let v = sign::verify_jpeg(data, key, opts.threads)?;
        let (cx, cy, cw, ch) = v.crop.unwrap_or((0, 0, v.original.0, v.original.1));
        let full = jsec_sign_verification {
            struct_size: std::mem::size_of::<jsec_sign_verification>(),
            profile: v.profile as u32,
            granularity: v.granularity,
            original_width: v.original.0,
            original_height: v.original.1,
            cropped: v.crop.is_some(),
            crop_x: cx,
            crop_y: cy,
            crop_width: cw,
            crop_height: ch,
            cells: v.cells,
            key_id: v.key_id,
        };
        // SAFETY: `result` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(result, &full, "result") }
    })
}

/// The bytes of a buffer: `*data` receives a pointer to them (valid until
/// `jsec_buffer_free`, never to be written through), `*len` their number.
/// NULL arguments are `JSEC_ERR_INVALID_ARGUMENT`. May be called from
/// several threads at once.
///
/// # Safety
///
/// `buffer` is NULL or a live `jsec_buffer`; `data` and `len` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_buffer_data(
    buffer: *const jsec_buffer,
    data: *mut *const u8,
    len: *mut usize,
) -> jsec_status {
    boundary("jsec_buffer_data", || {
        check_out(data, "data")?;
        check_out(len, "len")?;
        // SAFETY: `buffer` is NULL or a live handle by the contract.
        let b = unsafe { try_ref(buffer, "buffer") }?;
        // SAFETY: both checked non-NULL; writable by the contract.
        unsafe {
            write_out(data, b.as_ptr());
            write_out(len, b.len());
        }
        Ok(())
    })
}

/// Release a buffer (NULL is a no-op); pointers from `jsec_buffer_data`
/// become invalid.
///
/// # Safety
///
/// `buffer` is NULL or a live `jsec_buffer` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_buffer_free(buffer: *mut jsec_buffer) {
    boundary("jsec_buffer_free", || {
        // SAFETY: `buffer` is NULL or a live handle given up by the caller.
        unsafe { free_box(buffer) }
    })
}
