//! `jsec_fspe_options`: the builder of FSPE options.
//!
//! Options are set one by one through functions, so new options can be added
//! later without changing any struct layout or existing signature.

use super::boundary::jsec_status;
use super::boundary::{
    boundary, box_into_ptr, check_out, free_box, try_array, try_mut, write_out, Castable,
    OwnershipBox,
};
use crate::fspe::{Bands, Components, Metadata, Options, Region, Rule};
use crate::Error;

/// FSPE options: what to encrypt and how. Opaque; a mutable builder.
///
/// `jsec_fspe_options_new` gives the defaults (rule FULL, all components, all
/// bands, no region, single level, nonce derived from the file, no metadata
/// enciphered). The
/// decryptor must use the same options as the encryptor: nothing about them
/// is stored in the (size-preserving) file. Not thread-safe: use one builder
/// from one thread at a time (it may move between threads). Ciphers copy the
/// options, so the builder may be changed or freed after
/// `jsec_fspe_cipher_new`.
pub struct jsec_fspe_options {
    _private: [u8; 0],
}

impl Castable for jsec_fspe_options {
    type RustType = Options;
    type Ownership = OwnershipBox;
}

/// Which additional bits may be encrypted (`jsec_fspe_options_set_rule`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_fspe_rule {
    /// Every additional bit except those in bytes equal to 0xFF (the default).
    Full = 0,
    /// Kobayashi & Kiya exactly: additional bits in bytes that also hold
    /// Huffman-code bits including a 0.
    Paper = 1,
}

/// Which components are encrypted (`jsec_fspe_options_set_components`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_fspe_components {
    /// Every component (the default).
    All = 0,
    /// The first component of the frame only (Y of YCbCr).
    Luma = 1,
    /// Every component but the first.
    Chroma = 2,
}

/// Band flag for `jsec_fspe_options_set_bands`: the DC coefficient (k = 0).
pub const JSEC_FSPE_BAND_DC: u32 = 1;
/// Band flag for `jsec_fspe_options_set_bands`: AC coefficients 1 to 5.
pub const JSEC_FSPE_BAND_AC_LOW: u32 = 2;
/// Band flag for `jsec_fspe_options_set_bands`: AC coefficients 6 to 63.
pub const JSEC_FSPE_BAND_AC_HIGH: u32 = 4;
/// Length in bytes of a caller-supplied nonce (`jsec_fspe_options_set_nonce`).
pub const JSEC_FSPE_NONCE_LEN: usize = 16;

/// Metadata class flag for `jsec_fspe_options_set_metadata`: every GPS IFD
/// value but GPSVersionID (the location). Also the `sensitivity` of such a
/// field in `jsec_fspe_metadata_field`.
pub const JSEC_FSPE_METADATA_GPS: u32 = 1;
/// Metadata class flag for `jsec_fspe_options_set_metadata`: Artist,
/// HostComputer, XPAuthor, ImageUniqueID, CameraOwnerName, BodySerialNumber,
/// LensSerialNumber (who took the picture, with which unit). Also the
/// `sensitivity` of such a field in `jsec_fspe_metadata_field`.
pub const JSEC_FSPE_METADATA_IDENTITY: u32 = 2;
/// Metadata class flag for `jsec_fspe_options_set_metadata`: DateTime,
/// DateTimeOriginal, DateTimeDigitized, OffsetTime*, SubSecTime* (when). Also
/// the `sensitivity` of such a field in `jsec_fspe_metadata_field`.
pub const JSEC_FSPE_METADATA_DATES: u32 = 4;

const ALL_BANDS: u32 = JSEC_FSPE_BAND_DC | JSEC_FSPE_BAND_AC_LOW | JSEC_FSPE_BAND_AC_HIGH;
const ALL_METADATA: u32 =
    JSEC_FSPE_METADATA_GPS | JSEC_FSPE_METADATA_IDENTITY | JSEC_FSPE_METADATA_DATES;

/// Make a new options builder holding the defaults.
///
/// On success `*out` receives a builder the caller frees with
/// `jsec_fspe_options_free`; on failure `*out` is not written. NULL `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_new(out: *mut *mut jsec_fspe_options) -> jsec_status {
    boundary("jsec_fspe_options_new", || {
        check_out(out, "out")?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(Options::default())) };
        Ok(())
    })
}

/// Run `f` on the options behind `options` (NULL is INVALID_ARGUMENT).
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
unsafe fn with_options(
    function: &str,
    options: *mut jsec_fspe_options,
    f: impl FnOnce(&mut Options) -> crate::Result<()>,
) -> jsec_status {
    boundary(function, || {
        // SAFETY: `options` is NULL or a live, unshared builder by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        f(o)
    })
}

/// Set the eligibility rule: a `jsec_fspe_rule` value (`JSEC_FSPE_RULE_FULL`
/// or `JSEC_FSPE_RULE_PAPER`); any other value is `JSEC_ERR_INVALID_ARGUMENT`
/// and changes nothing. NULL `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_rule(
    options: *mut jsec_fspe_options,
    rule: u32,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_set_rule", options, |o| {
            o.rule = match rule {
                r if r == jsec_fspe_rule::Full as u32 => Rule::Full,
                r if r == jsec_fspe_rule::Paper as u32 => Rule::Paper,
                r => return Err(Error::invalid_argument(format!("unknown rule {r}"))),
            };
            Ok(())
        })
    }
}

/// Set the components to encrypt: a `jsec_fspe_components` value
/// (`JSEC_FSPE_COMPONENTS_ALL`, `_LUMA` or `_CHROMA`); any other value is
/// `JSEC_ERR_INVALID_ARGUMENT` and changes nothing. NULL `options` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_components(
    options: *mut jsec_fspe_options,
    components: u32,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_set_components", options, |o| {
            o.components = match components {
                c if c == jsec_fspe_components::All as u32 => Components::All,
                c if c == jsec_fspe_components::Luma as u32 => Components::Luma,
                c if c == jsec_fspe_components::Chroma as u32 => Components::Chroma,
                c => return Err(Error::invalid_argument(format!("unknown components {c}"))),
            };
            Ok(())
        })
    }
}

/// Set the coefficient bands to encrypt: a non-empty OR of
/// `JSEC_FSPE_BAND_DC`, `JSEC_FSPE_BAND_AC_LOW` and `JSEC_FSPE_BAND_AC_HIGH`
/// (default: all three). 0 or unknown bits are `JSEC_ERR_INVALID_ARGUMENT` and
/// change nothing. NULL `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_bands(
    options: *mut jsec_fspe_options,
    bands: u32,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_set_bands", options, |o| {
            if bands == 0 || bands & !ALL_BANDS != 0 {
                return Err(Error::invalid_argument(format!(
                    "band mask {bands:#x}: need a non-empty OR of JSEC_FSPE_BAND_* flags"
                )));
            }
            o.bands = Bands {
                dc: bands & JSEC_FSPE_BAND_DC != 0,
                ac_low: bands & JSEC_FSPE_BAND_AC_LOW != 0,
                ac_high: bands & JSEC_FSPE_BAND_AC_HIGH != 0,
            };
            Ok(())
        })
    }
}

/// Restrict the primary image's encryption to a rectangle in pixels: the
/// blocks that touch (`x`, `y`, `w`, `h`), or with `outside` true the blocks
/// not entirely inside it. Embedded images are not affected.
///
/// `w` or `h` of 0 is `JSEC_ERR_INVALID_ARGUMENT` and changes nothing. NULL
/// `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_region(
    options: *mut jsec_fspe_options,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    outside: bool,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_set_region", options, |o| {
            if w == 0 || h == 0 {
                return Err(Error::invalid_argument(format!("region {w}x{h} is empty")));
            }
            o.region = Some(Region {
                x,
                y,
                w,
                h,
                outside,
            });
            Ok(())
        })
    }
}

/// Remove the region: encrypt the whole image again (the default). NULL
/// `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_clear_region(
    options: *mut jsec_fspe_options,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_clear_region", options, |o| {
            o.region = None;
            Ok(())
        })
    }
}

/// Turn multi-level access on or off (default off). On: DC is encrypted with
/// `k2`, AC 1-5 with `k1`, AC 6-63 with `k0` (see `jsec_key_derive`), and a
/// cipher made with a lower-level key decrypts only the bands it covers.
/// NULL `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_levels(
    options: *mut jsec_fspe_options,
    levels: bool,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_set_levels", options, |o| {
            o.levels = levels;
            Ok(())
        })
    }
}

/// Use a caller-supplied nonce instead of the default one derived from the
/// file's invariant bytes. Needed by streams and per-scan calls that get no
/// seed from a digest pass.
///
/// `nonce` points to `len` bytes; `len` must be exactly
/// `JSEC_FSPE_NONCE_LEN` (16). The bytes are copied (the caller keeps
/// ownership). NULL `nonce` or `options`, or another `len`, is
/// `JSEC_ERR_INVALID_ARGUMENT` and changes nothing. Never reuse a nonce with
/// the same key for different images.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently;
/// `nonce` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_nonce(
    options: *mut jsec_fspe_options,
    nonce: *const u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_fspe_options_set_nonce", || {
        // SAFETY: `options` is NULL or a live, unshared builder by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        // SAFETY: `nonce` is NULL or readable for `len` bytes by the contract.
        o.nonce = Some(unsafe { try_array::<JSEC_FSPE_NONCE_LEN>(nonce, len, "nonce") }?);
        Ok(())
    })
}

/// Remove the caller-supplied nonce: derive it from the file again (the
/// default). NULL `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_clear_nonce(
    options: *mut jsec_fspe_options,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_clear_nonce", options, |o| {
            o.nonce = None;
            Ok(())
        })
    }
}

/// Select the sensitive EXIF values to encipher in place (metadata privacy,
/// `docs/fspe.md` section 12): an OR of `JSEC_FSPE_METADATA_GPS`,
/// `JSEC_FSPE_METADATA_IDENTITY` and `JSEC_FSPE_METADATA_DATES`, or 0 for
/// none (the default: metadata is left exactly as it is).
///
/// The values of the selected fields in every EXIF APP1 segment (of the
/// primary image and of embedded images) are enciphered with the master key
/// only; sizes, offsets and the TIFF structure stay, so EXIF readers still
/// read the file. A cipher made with a lower-level key (multi-level mode)
/// leaves them enciphered. The decryptor must select the same classes.
/// Unknown bits are `JSEC_ERR_INVALID_ARGUMENT` and change nothing. NULL
/// `options` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Not thread-safe: one thread at a time per builder.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_set_metadata(
    options: *mut jsec_fspe_options,
    classes: u32,
) -> jsec_status {
    // SAFETY: forwarded contract.
    unsafe {
        with_options("jsec_fspe_options_set_metadata", options, |o| {
            if classes & !ALL_METADATA != 0 {
                return Err(Error::invalid_argument(format!(
                    "metadata mask {classes:#x}: need an OR of JSEC_FSPE_METADATA_* flags"
                )));
            }
            o.metadata = Metadata {
                location: classes & JSEC_FSPE_METADATA_GPS != 0,
                identity: classes & JSEC_FSPE_METADATA_IDENTITY != 0,
                dates: classes & JSEC_FSPE_METADATA_DATES != 0,
            };
            Ok(())
        })
    }
}

/// Free an options builder. NULL is a no-op. The handle must not be used
/// afterwards; ciphers made from it are not affected.
/// It must not race with any other use of the same handle.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_fspe_options` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_options_free(options: *mut jsec_fspe_options) {
    boundary("jsec_fspe_options_free", || {
        // SAFETY: `options` is NULL or a live handle given up by the caller.
        unsafe { free_box(options) }
    })
}
