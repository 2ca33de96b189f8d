//! `jsec_key`: an immutable AES-128 or AES-256 key.

use std::ffi::{c_char, CStr};

use super::boundary::jsec_status;
use super::boundary::{
    arc_into_ptr, boundary, check_out, free_arc, null_arg, try_ref, try_slice, write_out,
    write_text, Castable, OwnershipArc,
};
use crate::crypto::Key;
use crate::{Error, ErrorKind};

/// An AES-128 (16-byte) or AES-256 (32-byte) key. Opaque.
///
/// Immutable once made: a `const jsec_key *` may be used from any number of
/// threads at once. The key bytes are wiped from memory when the last
/// reference is released with `jsec_key_free`. Objects made from a key
/// (ciphers) keep their own copy, so the key may be freed right after.
pub struct jsec_key {
    _private: [u8; 0],
}

impl Castable for jsec_key {
    type RustType = Key;
    type Ownership = OwnershipArc;
}

/// Buffer size that holds the hexadecimal text of any key plus its NUL: 65.
pub const JSEC_KEY_HEX_CAPACITY: usize = 65;

/// Make a key from raw bytes.
///
/// `bytes` points to `len` bytes; `len` must be 16 (AES-128) or 32 (AES-256),
/// anything else is `JSEC_ERR_BAD_KEY`. The bytes are copied: the caller keeps
/// ownership of `bytes` and should wipe it. On success `*out` receives a new
/// key the caller frees with `jsec_key_free`; on failure `*out` is not
/// written. NULL `bytes` or `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `bytes` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_key_new_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *const jsec_key,
) -> jsec_status {
    boundary("jsec_key_new_from_bytes", || {
        check_out(out, "out")?;
        // SAFETY: `bytes` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(bytes, len, "bytes") }?;
        let key = Key::from_bytes(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// Make a key from hexadecimal text: a NUL-terminated string of 32 or 64 hex
/// digits (either case); ASCII whitespace anywhere is ignored, so the content
/// of a key file can be passed as is.
///
/// Anything else is `JSEC_ERR_BAD_KEY`. The caller keeps ownership of `hex`.
/// On success `*out` receives a new key the caller frees with
/// `jsec_key_free`; on failure `*out` is not written. NULL `hex` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `hex` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_key_new_from_hex(
    hex: *const c_char,
    out: *mut *const jsec_key,
) -> jsec_status {
    boundary("jsec_key_new_from_hex", || {
        check_out(out, "out")?;
        if hex.is_null() {
            return Err(null_arg("hex"));
        }
        // SAFETY: `hex` is non-NULL and NUL-terminated by the contract.
        let text = unsafe { CStr::from_ptr(hex) };
        let text = text
            .to_str()
            .map_err(|_| Error::new(ErrorKind::BadKey, "bad key: text is not ASCII hex"))?;
        let key = Key::from_hex(text)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// Make a fresh random key of `len` bytes (16 or 32, else
/// `JSEC_ERR_INVALID_ARGUMENT`) from the operating system's generator.
///
/// On success `*out` receives a new key the caller frees with
/// `jsec_key_free`; on failure `*out` is not written (`JSEC_ERR_INTERNAL` if
/// the system generator fails). NULL `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_key_generate(len: usize, out: *mut *const jsec_key) -> jsec_status {
    boundary("jsec_key_generate", || {
        check_out(out, "out")?;
        let key = Key::generate(len)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// The key `steps` positions further down the FSPE hash chain (1 gives `k1`
/// from `k0`, 2 gives `k2`; 0 gives a copy). `steps` above 255 is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// `key` is only read. On success `*out` receives a new key the caller frees
/// with `jsec_key_free`; on failure `*out` is not written. NULL `key` or `out`
/// is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_key`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_key_derive(
    key: *const jsec_key,
    steps: u32,
    out: *mut *const jsec_key,
) -> jsec_status {
    boundary("jsec_key_derive", || {
        check_out(out, "out")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let steps = u8::try_from(steps)
            .map_err(|_| Error::invalid_argument(format!("steps {steps} is above 255")))?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key.derive(steps))) };
        Ok(())
    })
}

/// Write the key as lowercase hexadecimal text (32 or 64 digits) plus a NUL
/// into the caller's buffer `buf` of `len` bytes, and its length without the
/// NUL into `*out_len`. A buffer of `JSEC_KEY_HEX_CAPACITY` bytes always fits.
///
/// When `len` is too small (`len <= *out_len`), nothing is written to `buf`,
/// `*out_len` still receives the text length (so `*out_len + 1` bytes are
/// needed) and the result is `JSEC_ERR_BUFFER_TOO_SMALL`; `buf` may be NULL
/// when `len` is 0 to ask for the length. The text is the secret key: wipe
/// the buffer after use. NULL `key` or `out_len` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_key`; `buf` is NULL or writable for `len`
/// bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_key_to_hex(
    key: *const jsec_key,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> jsec_status {
    boundary("jsec_key_to_hex", || {
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let mut hex = key.to_hex();
        // SAFETY: `buf`/`len` and `out_len` as the contract states.
        let r = unsafe { write_text(&hex, buf, len, out_len, "buf") };
        zeroize::Zeroize::zeroize(&mut hex);
        r
    })
}

/// Release a key. NULL is a no-op.
///
/// The key bytes are wiped once no cipher or other copy refers to them. The
/// handle must not be used afterwards, and must not be freed twice.
/// It must not race with any other use of the same handle.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_key` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_key_free(key: *const jsec_key) {
    boundary("jsec_key_free", || {
        // SAFETY: `key` is NULL or a live handle given up by the caller.
        unsafe { free_arc(key) }
    })
}
