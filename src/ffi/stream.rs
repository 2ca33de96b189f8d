//! `jsec_fspe_stream`: bounded-memory digest and cipher streams.

use super::boundary::jsec_status;
use super::boundary::{
    boundary, box_into_ptr, check_out, free_box, try_mut, try_ref, try_slice, try_slice_mut,
    write_out, Castable, OwnershipBox,
};
use super::cipher::{direction, jsec_fspe_cipher, optional_seed, JSEC_FSPE_SEED_LEN};
use super::report::{give_report, jsec_fspe_report};
use crate::fspe::Stream;
use crate::{Error, ErrorKind};

/// A length-preserving FSPE stream. Opaque.
///
/// Every byte written comes out of `jsec_fspe_stream_read` exactly once, in
/// order (transformed or not), lagging behind the input by at most one marker
/// segment or MCU. Memory stays bounded as long as the caller reads: more
/// than 1 MiB of unread output makes `jsec_fspe_stream_write` fail with
/// `JSEC_ERR_BUFFER_TOO_SMALL`.
///
/// Two kinds exist. A digest stream (`jsec_fspe_digest_stream_new`) passes
/// its input through unchanged and, after `jsec_fspe_stream_finish`, yields
/// the file's seed (`jsec_fspe_stream_seed`). A cipher stream
/// (`jsec_fspe_stream_new`) encrypts or decrypts with that seed (or with the
/// options' caller nonce). After any error the stream is failed: discard
/// everything it produced.
///
/// Not thread-safe: use a stream from one thread at a time (it may move
/// between threads). It keeps its own copy of the cipher, which may be freed
/// after the stream is made.
pub struct jsec_fspe_stream {
    _private: [u8; 0],
}

impl Castable for jsec_fspe_stream {
    type RustType = Stream;
    type Ownership = OwnershipBox;
}

/// Make a digest stream for `cipher`: write the whole file (plain for
/// encryption, protected for decryption: the seed is the same), finish, then
/// take the seed with `jsec_fspe_stream_seed`. Its output is its input,
/// unchanged.
///
/// `cipher` is only read. On success `*out` receives a stream the caller frees
/// with `jsec_fspe_stream_free`; on failure `*out` is not written. NULL
/// `cipher` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `cipher` is NULL or a live `jsec_fspe_cipher`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_digest_stream_new(
    cipher: *const jsec_fspe_cipher,
    out: *mut *mut jsec_fspe_stream,
) -> jsec_status {
    boundary("jsec_fspe_digest_stream_new", || {
        check_out(out, "out")?;
        // SAFETY: `cipher` is NULL or a live handle by the contract.
        let c = unsafe { try_ref(cipher, "cipher") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(c.digest_stream())) };
        Ok(())
    })
}

/// Make a stream that encrypts or decrypts with `cipher`.
///
/// `direction` is a `jsec_fspe_direction` value. `seed` points to exactly
/// `seed_len` = `JSEC_FSPE_SEED_LEN` bytes from a digest stream over the same
/// file (copied); or `seed` is NULL and `seed_len` 0 to use the caller nonce of
/// the cipher's options. Exactly one of the two: no seed without a caller
/// nonce, or a seed together with one, is `JSEC_ERR_INVALID_ARGUMENT`. On success
/// `*out` receives a stream the caller frees with `jsec_fspe_stream_free`; on
/// failure `*out` is not written. NULL `cipher` or `out`, a bad `seed_len` or
/// `direction`, or encryption with a key level above 0, is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `cipher` is NULL or a live `jsec_fspe_cipher`; `seed` is NULL or readable
/// for `seed_len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_new(
    cipher: *const jsec_fspe_cipher,
    direction: u32,
    seed: *const u8,
    seed_len: usize,
    out: *mut *mut jsec_fspe_stream,
) -> jsec_status {
    boundary("jsec_fspe_stream_new", || {
        check_out(out, "out")?;
        // SAFETY: `cipher` is NULL or a live handle by the contract.
        let c = unsafe { try_ref(cipher, "cipher") }?;
        let dir = self::direction(direction)?;
        // SAFETY: `seed` is NULL or readable for `seed_len` bytes by the contract.
        let seed = unsafe { optional_seed(seed, seed_len) }?;
        let stream = c.stream(dir, seed)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(stream)) };
        Ok(())
    })
}

/// Feed `len` bytes of input from `data` (copied; the caller keeps
/// ownership). Then read the output that became ready.
///
/// Fails with `JSEC_ERR_BUFFER_TOO_SMALL` (accepting nothing, the stream stays
/// usable) when more than 1 MiB of output waits to be read; with
/// `JSEC_ERR_INVALID_STATE` after `jsec_fspe_stream_finish` or an earlier
/// error; with `JSEC_ERR_MALFORMED` or `JSEC_ERR_UNSUPPORTED` when the input
/// is bad (the stream is then failed). NULL `stream` or `data` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
///
/// `stream` is NULL or a live `jsec_fspe_stream` not used concurrently; `data`
/// is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_write(
    stream: *mut jsec_fspe_stream,
    data: *const u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_fspe_stream_write", || {
        // SAFETY: `stream` is NULL or a live, unshared handle by the contract.
        let s = unsafe { try_mut(stream, "stream") }?;
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(data, len, "data") }?;
        s.write(data)
    })
}

/// Copy up to `cap` ready output bytes into `out` and their number into
/// `*out_len` (0 when none are ready). Never fails on a failed or finished
/// stream: whatever was produced can still be drained.
///
/// NULL `stream`, `out` or `out_len` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
///
/// `stream` is NULL or a live `jsec_fspe_stream` not used concurrently; `out`
/// is NULL or writable for `cap` bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_read(
    stream: *mut jsec_fspe_stream,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_stream_read", || {
        check_out(out_len, "out_len")?;
        // SAFETY: `stream` is NULL or a live, unshared handle by the contract.
        let s = unsafe { try_mut(stream, "stream") }?;
        // SAFETY: `out` is writable for `cap` bytes by the contract.
        let dst = unsafe { try_slice_mut(out, cap, "out") }?;
        let n = s.read(dst);
        // SAFETY: `out_len` checked non-NULL; writable by the contract.
        unsafe { write_out(out_len, n) };
        Ok(())
    })
}

/// The number of output bytes ready to be read, into `*out`. NULL `stream`
/// or `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
///
/// `stream` is NULL or a live `jsec_fspe_stream` not used concurrently; `out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_available(
    stream: *const jsec_fspe_stream,
    out: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_stream_available", || {
        check_out(out, "out")?;
        // SAFETY: `stream` is NULL or a live handle by the contract.
        let s = unsafe { try_ref(stream, "stream") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, s.available()) };
        Ok(())
    })
}

/// Declare the end of input: all remaining output becomes ready to read.
///
/// Fails with `JSEC_ERR_MALFORMED` when the input ended before the primary
/// image was complete, and with `JSEC_ERR_INVALID_STATE` when called twice or
/// after an error. `report` may be NULL; otherwise on success `*report`
/// receives a report the caller frees with `jsec_fspe_report_free` (on
/// failure it is not written). NULL `stream` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
///
/// `stream` is NULL or a live `jsec_fspe_stream` not used concurrently;
/// `report` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_finish(
    stream: *mut jsec_fspe_stream,
    report: *mut *mut jsec_fspe_report,
) -> jsec_status {
    boundary("jsec_fspe_stream_finish", || {
        // SAFETY: `stream` is NULL or a live, unshared handle by the contract.
        let s = unsafe { try_mut(stream, "stream") }?;
        let r = s.finish()?;
        // SAFETY: `report` is NULL or writable by the contract.
        unsafe { give_report(r, report) };
        Ok(())
    })
}

/// Copy the file's seed, `JSEC_FSPE_SEED_LEN` (32) bytes, into `out` (`len`
/// must be at least 32; exactly 32 bytes are written). The seed is not secret.
///
/// Only a digest stream that finished successfully has a seed; otherwise the
/// result is `JSEC_ERR_INVALID_STATE`. NULL `stream` or `out`, or `len` below
/// 32, is `JSEC_ERR_INVALID_ARGUMENT`. Nothing is written on failure.
/// Not thread-safe: one thread at a time per stream.
///
/// # Safety
///
/// `stream` is NULL or a live `jsec_fspe_stream` not used concurrently; `out`
/// is NULL or writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_seed(
    stream: *const jsec_fspe_stream,
    out: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_fspe_stream_seed", || {
        // SAFETY: `stream` is NULL or a live handle by the contract.
        let s = unsafe { try_ref(stream, "stream") }?;
        if len < JSEC_FSPE_SEED_LEN {
            return Err(Error::invalid_argument(format!(
                "argument `out`: {len} bytes, {JSEC_FSPE_SEED_LEN} needed"
            )));
        }
        // SAFETY: `out` is writable for `len` >= 32 bytes by the contract.
        let dst = unsafe { try_slice_mut(out, JSEC_FSPE_SEED_LEN, "out") }?;
        let seed = s.seed().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidState,
                "no seed: only a digest stream that finished successfully has one",
            )
        })?;
        dst.copy_from_slice(&seed);
        Ok(())
    })
}

/// Free a stream. NULL is a no-op. The handle must not be used afterwards;
/// unread output is discarded.
/// It must not race with any other use of the same handle.
///
/// # Safety
///
/// `stream` is NULL or a live `jsec_fspe_stream` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_stream_free(stream: *mut jsec_fspe_stream) {
    boundary("jsec_fspe_stream_free", || {
        // SAFETY: `stream` is NULL or a live handle given up by the caller.
        unsafe { free_box(stream) }
    })
}
