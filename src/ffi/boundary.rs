//! The plumbing every exported function shares: `jsec_status`, the
//! thread-local last error, the panic boundary ([`boundary`]), the casts
//! between opaque handles and the Rust objects they own ([`Castable`]), and
//! the argument checks (NULL pointers, buffer lengths, caller structs).

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use crate::{Error, ErrorKind, Result};

/// cbindgen:rename-all=None
/// The result of every fallible jsec function.
///
/// The values are part of the ABI: they are explicit, never renumbered and
/// never reused; new codes are only ever appended. `JSEC_OK` is 0 and every
/// error is non-zero. The codes map one-to-one onto the Rust
/// `jsec::ErrorKind`, plus `JSEC_ERR_PANIC`. `jsec_status_str` names a code;
/// `jsec_last_error` describes the last failure on the calling thread.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum jsec_status {
    /// Success.
    JSEC_OK = 0,
    /// An argument is invalid: a NULL pointer, a fixed-size buffer that is too
    /// short, an unknown enum value or flag, an inconsistent option.
    JSEC_ERR_INVALID_ARGUMENT = 1,
    /// The input is not a well-formed file of the expected format (truncated,
    /// bad segment lengths, bad Huffman codes ...).
    JSEC_ERR_MALFORMED = 2,
    /// The input is well formed but uses a feature jsec does not handle
    /// (progressive, arithmetic coding, 12-bit, lossless ...).
    JSEC_ERR_UNSUPPORTED = 3,
    /// A caller-supplied output buffer is too small for a variable-length
    /// result (the required length is reported), or a stream has too much
    /// unread output.
    JSEC_ERR_BUFFER_TOO_SMALL = 4,
    /// Reading or writing a file failed.
    JSEC_ERR_IO = 5,
    /// A key is unusable (wrong length, not hexadecimal ...).
    JSEC_ERR_BAD_KEY = 6,
    /// A signature or MAC did not verify.
    JSEC_ERR_VERIFICATION_FAILED = 7,
    /// An object was used in a state that does not allow the call (a finished
    /// or failed stream, a seed asked of a stream that has none ...).
    JSEC_ERR_INVALID_STATE = 8,
    /// An internal invariant broke: a bug in jsec.
    JSEC_ERR_INTERNAL = 9,
    /// jsec panicked (a bug in jsec). The panic was caught at the boundary and
    /// did not unwind into the caller; objects passed to the call are in an
    /// unspecified but memory-safe state and should be freed.
    JSEC_ERR_PANIC = 10,
    /// An application callback (an external signer for
    /// `jsec_sign_key_new_external`) returned failure; the message names the
    /// callback and the value it returned.
    JSEC_ERR_CALLBACK = 11,
}

impl jsec_status {
    /// Every status, in numeric order (for tests and `jsec_status_str`).
    pub const ALL: [jsec_status; 12] = [
        jsec_status::JSEC_OK,
        jsec_status::JSEC_ERR_INVALID_ARGUMENT,
        jsec_status::JSEC_ERR_MALFORMED,
        jsec_status::JSEC_ERR_UNSUPPORTED,
        jsec_status::JSEC_ERR_BUFFER_TOO_SMALL,
        jsec_status::JSEC_ERR_IO,
        jsec_status::JSEC_ERR_BAD_KEY,
        jsec_status::JSEC_ERR_VERIFICATION_FAILED,
        jsec_status::JSEC_ERR_INVALID_STATE,
        jsec_status::JSEC_ERR_INTERNAL,
        jsec_status::JSEC_ERR_PANIC,
        jsec_status::JSEC_ERR_CALLBACK,
    ];

    /// The status with numeric value `code`, if there is one.
    pub fn from_code(code: c_int) -> Option<jsec_status> {
        jsec_status::ALL
            .iter()
            .copied()
            .find(|s| *s as c_int == code)
    }

    /// The constant's name, NUL-terminated.
    fn name(self) -> &'static str {
        match self {
            jsec_status::JSEC_OK => "JSEC_OK\0",
            jsec_status::JSEC_ERR_INVALID_ARGUMENT => "JSEC_ERR_INVALID_ARGUMENT\0",
            jsec_status::JSEC_ERR_MALFORMED => "JSEC_ERR_MALFORMED\0",
            jsec_status::JSEC_ERR_UNSUPPORTED => "JSEC_ERR_UNSUPPORTED\0",
            jsec_status::JSEC_ERR_BUFFER_TOO_SMALL => "JSEC_ERR_BUFFER_TOO_SMALL\0",
            jsec_status::JSEC_ERR_IO => "JSEC_ERR_IO\0",
            jsec_status::JSEC_ERR_BAD_KEY => "JSEC_ERR_BAD_KEY\0",
            jsec_status::JSEC_ERR_VERIFICATION_FAILED => "JSEC_ERR_VERIFICATION_FAILED\0",
            jsec_status::JSEC_ERR_INVALID_STATE => "JSEC_ERR_INVALID_STATE\0",
            jsec_status::JSEC_ERR_INTERNAL => "JSEC_ERR_INTERNAL\0",
            jsec_status::JSEC_ERR_PANIC => "JSEC_ERR_PANIC\0",
            jsec_status::JSEC_ERR_CALLBACK => "JSEC_ERR_CALLBACK\0",
        }
    }
}

impl From<ErrorKind> for jsec_status {
    fn from(kind: ErrorKind) -> jsec_status {
        match kind {
            ErrorKind::InvalidArgument => jsec_status::JSEC_ERR_INVALID_ARGUMENT,
            ErrorKind::Malformed => jsec_status::JSEC_ERR_MALFORMED,
            ErrorKind::Unsupported => jsec_status::JSEC_ERR_UNSUPPORTED,
            ErrorKind::BufferTooSmall => jsec_status::JSEC_ERR_BUFFER_TOO_SMALL,
            ErrorKind::Io => jsec_status::JSEC_ERR_IO,
            ErrorKind::BadKey => jsec_status::JSEC_ERR_BAD_KEY,
            ErrorKind::VerificationFailed => jsec_status::JSEC_ERR_VERIFICATION_FAILED,
            ErrorKind::InvalidState => jsec_status::JSEC_ERR_INVALID_STATE,
            ErrorKind::Internal => jsec_status::JSEC_ERR_INTERNAL,
            ErrorKind::Callback => jsec_status::JSEC_ERR_CALLBACK,
        }
    }
}

// ---------------------------------------------------------------------------
// Thread-local last error
// ---------------------------------------------------------------------------

/// The last failure on this thread: its full text and byte offset.
struct LastError {
    text: Option<CString>,
    offset: Option<u64>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const {
        RefCell::new(LastError { text: None, offset: None })
    };
}

/// The empty string `jsec_last_error` returns when there is no error.
const EMPTY: &[u8] = b"\0";

/// Record `err`, raised by `function`, as this thread's last error.
fn set_last_error(function: &str, err: &Error) {
    set_last_error_text(format!("{function}: {err}"), err.offset());
}

fn set_last_error_text(text: String, offset: Option<u64>) {
    let text = CString::new(text.replace('\0', "?")).ok();
    // `try_with`: during thread teardown the slot may be gone; then there is
    // nowhere to record the error and the status code alone must do.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            slot.text = text;
            slot.offset = offset;
        }
    });
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            slot.text = None;
            slot.offset = None;
        }
    });
}

/// The text of a panic payload.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

// ---------------------------------------------------------------------------
// The panic boundary
// ---------------------------------------------------------------------------

/// What an exported body returns, and how that becomes the C return value.
///
/// This trait is the only thing that differs between the exported functions'
/// boundaries: [`boundary`] is the one wrapper they all use.
pub trait FfiReturn {
    /// The C return type.
    type C;
    /// The C value for a normal return (may record or clear the last error).
    fn into_c(self, function: &str) -> Self::C;
    /// The C value after a caught panic.
    fn panicked(function: &str, message: &str) -> Self::C;
}

/// Status-returning functions: `Ok` clears the thread's last error and gives
/// `JSEC_OK`; `Err` records the error and gives its status; a panic records
/// "panic: ..." and gives `JSEC_ERR_PANIC`.
impl FfiReturn for Result<()> {
    type C = jsec_status;
    fn into_c(self, function: &str) -> jsec_status {
        match self {
            Ok(()) => {
                clear_last_error();
                jsec_status::JSEC_OK
            }
            Err(e) => {
                set_last_error(function, &e);
                e.kind().into()
            }
        }
    }
    fn panicked(function: &str, message: &str) -> jsec_status {
        set_last_error_text(format!("{function}: panic: {message}"), None);
        jsec_status::JSEC_ERR_PANIC
    }
}

/// A status returned as is, leaving the last error alone (only
/// `jsec_last_error_offset`, which must not disturb what it reports).
impl FfiReturn for jsec_status {
    type C = jsec_status;
    fn into_c(self, _function: &str) -> jsec_status {
        self
    }
    fn panicked(_function: &str, _message: &str) -> jsec_status {
        jsec_status::JSEC_ERR_PANIC
    }
}

/// Functions returning a string that is never NULL: a panic gives "".
impl FfiReturn for *const c_char {
    type C = *const c_char;
    fn into_c(self, _function: &str) -> *const c_char {
        self
    }
    fn panicked(_function: &str, _message: &str) -> *const c_char {
        EMPTY.as_ptr().cast()
    }
}

/// Functions returning a number: a panic gives 0.
impl FfiReturn for u32 {
    type C = u32;
    fn into_c(self, _function: &str) -> u32 {
        self
    }
    fn panicked(_function: &str, _message: &str) -> u32 {
        0
    }
}

/// Functions returning nothing (`_free`): a panic is a no-op.
impl FfiReturn for () {
    type C = ();
    fn into_c(self, _function: &str) {}
    fn panicked(_function: &str, _message: &str) {}
}

/// Run the body of the exported function `function` so that no panic crosses
/// the C boundary, and turn its result into the C return value.
///
/// Every exported function's body runs inside this one wrapper.
pub fn boundary<R: FfiReturn>(function: &str, body: impl FnOnce() -> R) -> R::C {
    // AssertUnwindSafe: after a panic the objects the call touched may be
    // half-updated; JSEC_ERR_PANIC documents that they should only be freed.
    match catch_unwind(AssertUnwindSafe(|| body().into_c(function))) {
        Ok(c) => c,
        Err(payload) => {
            let message = panic_text(payload.as_ref());
            // Dropping the payload could itself panic; never let it unwind.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            R::panicked(function, &message)
        }
    }
}

// ---------------------------------------------------------------------------
// Opaque handles
// ---------------------------------------------------------------------------

/// Handles owned through a `Box` (mutable builders, streams, reports).
pub enum OwnershipBox {}
/// Handles owned through an `Arc` (immutable objects shareable across threads).
pub enum OwnershipArc {}

/// Ties an opaque C handle type to the Rust type it points to and to how it
/// is owned. A handle pointer is always a pointer to the Rust object itself.
pub trait Castable {
    /// The Rust object behind the handle.
    type RustType;
    /// [`OwnershipBox`] or [`OwnershipArc`].
    type Ownership;
}

/// A new Box-owned handle for `value`.
pub fn box_into_ptr<C: Castable<Ownership = OwnershipBox>>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(value)).cast()
}

/// A new Arc-owned handle for `value`.
pub fn arc_into_ptr<C: Castable<Ownership = OwnershipArc>>(value: C::RustType) -> *const C {
    Arc::into_raw(Arc::new(value)).cast()
}

/// Borrow the object behind handle `ptr` (argument `name`).
///
/// # Safety
///
/// `ptr` is NULL or a live handle of type `C` made by [`box_into_ptr`] or
/// [`arc_into_ptr`], not mutably borrowed for `'a`.
pub unsafe fn try_ref<'a, C: Castable>(ptr: *const C, name: &str) -> Result<&'a C::RustType> {
    // SAFETY: by the contract, a non-NULL `ptr` points to a live `RustType`.
    unsafe { ptr.cast::<C::RustType>().as_ref() }.ok_or_else(|| null_arg(name))
}

/// Mutably borrow the object behind Box-owned handle `ptr` (argument `name`).
///
/// # Safety
///
/// `ptr` is NULL or a live handle of type `C` made by [`box_into_ptr`], not
/// otherwise borrowed for `'a`.
pub unsafe fn try_mut<'a, C: Castable<Ownership = OwnershipBox>>(
    ptr: *mut C,
    name: &str,
) -> Result<&'a mut C::RustType> {
    // SAFETY: by the contract, a non-NULL `ptr` points to a live, unaliased `RustType`.
    unsafe { ptr.cast::<C::RustType>().as_mut() }.ok_or_else(|| null_arg(name))
}

/// Free a Box-owned handle; NULL is a no-op.
///
/// # Safety
///
/// `ptr` is NULL or a live handle made by [`box_into_ptr`] for `C`, not used
/// afterwards.
pub unsafe fn free_box<C: Castable<Ownership = OwnershipBox>>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: by the contract `ptr` came from `Box::into_raw` of a `RustType`
        // and ownership passes back to us here, exactly once.
        drop(unsafe { Box::from_raw(ptr.cast::<C::RustType>()) });
    }
}

/// Release an Arc-owned handle; NULL is a no-op.
///
/// # Safety
///
/// `ptr` is NULL or a live handle made by [`arc_into_ptr`] for `C`, not used
/// afterwards.
pub unsafe fn free_arc<C: Castable<Ownership = OwnershipArc>>(ptr: *const C) {
    if !ptr.is_null() {
        // SAFETY: by the contract `ptr` came from `Arc::into_raw` of a `RustType`
        // and this handle's reference is given back exactly once.
        drop(unsafe { Arc::from_raw(ptr.cast::<C::RustType>()) });
    }
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

/// The error for a NULL argument `name`.
pub fn null_arg(name: &str) -> Error {
    Error::invalid_argument(format!("argument `{name}` is NULL"))
}

/// Write `value` through output pointer `out` (argument `name`).
///
/// # Safety
///
/// `out` is NULL or valid for a write of `T` (no alignment needed).
pub unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: callers check `out` for NULL first (`check_out`); by the
    // contract it is valid for a possibly unaligned write of `T`.
    unsafe { out.write_unaligned(value) }
}

/// Fail with INVALID_ARGUMENT if output pointer `out` (argument `name`) is NULL.
pub fn check_out<T>(out: *mut T, name: &str) -> Result<()> {
    if out.is_null() {
        Err(null_arg(name))
    } else {
        Ok(())
    }
}

fn check_len(len: usize, name: &str) -> Result<()> {
    if len > isize::MAX as usize {
        return Err(Error::invalid_argument(format!(
            "argument `{name}`: length {len} exceeds the address space"
        )));
    }
    Ok(())
}

/// The input buffer `(ptr, len)` (argument `name`); NULL is an error even when
/// `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes, not written for `'a`.
pub unsafe fn try_slice<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(null_arg(name));
    }
    check_len(len, name)?;
    // SAFETY: non-NULL, `len` readable bytes by the contract, `len` <= isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The in/out buffer `(ptr, len)` (argument `name`); NULL is an error even
/// when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads and writes of `len` bytes, not otherwise
/// accessed for `'a`.
pub unsafe fn try_slice_mut<'a>(ptr: *mut u8, len: usize, name: &str) -> Result<&'a mut [u8]> {
    if ptr.is_null() {
        return Err(null_arg(name));
    }
    check_len(len, name)?;
    // SAFETY: non-NULL, `len` writable unaliased bytes by the contract, `len` <= isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// The fixed-size input array of `N` bytes at `ptr` whose caller-declared
/// length is `len` (argument `name`): NULL or `len != N` is INVALID_ARGUMENT
/// (a longer buffer is refused too rather than silently truncated).
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes.
pub unsafe fn try_array<const N: usize>(ptr: *const u8, len: usize, name: &str) -> Result<[u8; N]> {
    if len != N {
        return Err(Error::invalid_argument(format!(
            "argument `{name}`: {len} bytes, exactly {N} needed"
        )));
    }
    // SAFETY: forwarded contract; `len` == N.
    let s = unsafe { try_slice(ptr, N, name) }?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

/// Copy `text` as a NUL-terminated string into the caller's buffer
/// `(buf, len)` and store its length (without the NUL) in `*out_len`.
///
/// `buf` may be NULL only when `len` is 0 (a size query). When
/// `len <= text.len()` nothing is written to `buf`, `*out_len` still gets the
/// text length, and the result is BUFFER_TOO_SMALL. Interior NUL bytes are
/// replaced by '?'.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `len` bytes; `out_len` is NULL or
/// valid for a write of `usize`.
pub unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    buf_name: &str,
) -> Result<()> {
    check_out(out_len, "out_len")?;
    if buf.is_null() && len != 0 {
        return Err(null_arg(buf_name));
    }
    let bytes = text.as_bytes();
    if len <= bytes.len() {
        // SAFETY: `out_len` checked non-NULL above; valid by the contract.
        unsafe { write_out(out_len, bytes.len()) };
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!(
                "`{buf_name}` holds {len} bytes, {} needed (text plus NUL)",
                bytes.len() + 1
            ),
        ));
    }
    // SAFETY: `buf` is non-NULL here (len > 0) and valid for `len` bytes, and
    // `len > bytes.len()`, so the text and its NUL fit.
    let dst = unsafe { try_slice_mut(buf.cast::<u8>(), bytes.len() + 1, buf_name) }?;
    for (d, s) in dst.iter_mut().zip(bytes) {
        *d = if *s == 0 { b'?' } else { *s };
    }
    dst[bytes.len()] = 0;
    // SAFETY: `out_len` checked non-NULL above; valid by the contract.
    unsafe { write_out(out_len, bytes.len()) };
    Ok(())
}

/// A `#[repr(C)]` struct whose first field is `size_t struct_size`, set by the
/// caller to the size of its own version of the struct.
///
/// # Safety
///
/// Implementors are `#[repr(C)]` with a leading `usize` field, and
/// [`SizedStruct::field_ends`] lists the end offset of every later field.
pub unsafe trait SizedStruct: Sized {
    /// The offset just past each field after `struct_size`, in field order.
    fn field_ends() -> Vec<usize>;
}

/// `vec![end offset of each listed field]` for a `SizedStruct` implementation.
macro_rules! field_ends {
    ($t:ident: $($f:ident),+ $(,)?) => {{
        let v = $t::default();
        vec![$(::std::mem::offset_of!($t, $f) + ::std::mem::size_of_val(&v.$f)),+]
    }};
}
pub(crate) use field_ends;

/// Fill the caller's struct at `dst` (argument `name`) from `src`: every field
/// after `struct_size` that lies entirely within both the caller's
/// `struct_size` and the library's `sizeof`. The caller's `struct_size` and
/// any bytes past the last field that fits are left as they are.
///
/// # Safety
///
/// `dst` is NULL or points to at least `struct_size` writable bytes, where
/// `struct_size` is the `size_t` at its start.
pub unsafe fn write_sized<T: SizedStruct>(dst: *mut T, src: &T, name: &str) -> Result<()> {
    check_out(dst, name)?;
    let head = size_of::<usize>();
    // SAFETY: `dst` is non-NULL and, by the contract, starts with a readable
    // `size_t` (which may be unaligned in a hostile caller's memory).
    let caller_size = unsafe { dst.cast::<usize>().read_unaligned() };
    if caller_size < head {
        return Err(Error::invalid_argument(format!(
            "`{name}->struct_size` is {caller_size}; set it to sizeof the struct"
        )));
    }
    let limit = caller_size.min(size_of::<T>());
    let n = T::field_ends()
        .into_iter()
        .filter(|&end| end <= limit)
        .max()
        .unwrap_or(head);
    // SAFETY: `src` is a whole `T` (n <= sizeof T) and `dst` has `caller_size`
    // >= n writable bytes by the contract; they cannot overlap because `dst`
    // is caller memory and `src` a Rust value. A byte copy needs no alignment.
    unsafe {
        ptr::copy_nonoverlapping(
            (src as *const T).cast::<u8>().add(head),
            dst.cast::<u8>().add(head),
            n - head,
        )
    };
    Ok(())
}

// ---------------------------------------------------------------------------
// Exported error functions
// ---------------------------------------------------------------------------

/// The message of the last failure of a jsec call on the calling thread,
/// including the function name and, when known, the byte offset in the input
/// ("... (at byte offset N)").
///
/// Never NULL: "" when the last status-returning jsec call on this thread
/// succeeded or none was made. Every status-returning function except
/// `jsec_last_error_offset` clears or replaces the message. The string is
/// owned by jsec and stays valid until the next jsec call on the same thread;
/// copy it to keep it. Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn jsec_last_error() -> *const c_char {
    boundary("jsec_last_error", || {
        LAST_ERROR
            .try_with(|slot| match slot.try_borrow() {
                Ok(e) => e.text.as_ref().map(|t| t.as_ptr()),
                Err(_) => None,
            })
            .ok()
            .flatten()
            .unwrap_or(EMPTY.as_ptr().cast())
    })
}

/// The byte offset in the input at which the last failure on the calling
/// thread was found.
///
/// Writes `*out` and returns `JSEC_OK` when the last error has an offset;
/// returns `JSEC_ERR_INVALID_STATE` (and leaves `*out` alone) when there is no
/// last error or it has no offset; `JSEC_ERR_INVALID_ARGUMENT` when `out` is
/// NULL. Never changes the last error. Thread-safe (per-thread state).
///
/// # Safety
///
/// `out` is NULL or points to a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn jsec_last_error_offset(out: *mut u64) -> jsec_status {
    boundary("jsec_last_error_offset", || {
        if out.is_null() {
            return jsec_status::JSEC_ERR_INVALID_ARGUMENT;
        }
        let offset = LAST_ERROR
            .try_with(|slot| slot.try_borrow().ok().and_then(|e| e.offset))
            .ok()
            .flatten();
        match offset {
            Some(o) => {
                // SAFETY: `out` is non-NULL and writable by the contract.
                unsafe { write_out(out, o) };
                jsec_status::JSEC_OK
            }
            None => jsec_status::JSEC_ERR_INVALID_STATE,
        }
    })
}

/// The name of status code `status` ("JSEC_OK", "JSEC_ERR_MALFORMED" ...), or
/// "JSEC_ERR_UNKNOWN" for a value that is not a `jsec_status`.
///
/// `status` is an `int` rather than a `jsec_status` so that any value a C
/// caller may hold is accepted safely. Never NULL; the string is static (never
/// free it). Thread-safe; does not change the last error.
#[no_mangle]
pub extern "C" fn jsec_status_str(status: c_int) -> *const c_char {
    boundary("jsec_status_str", || {
        let name = match jsec_status::from_code(status) {
            Some(s) => s.name(),
            None => "JSEC_ERR_UNKNOWN\0",
        };
        name.as_ptr().cast()
    })
}
