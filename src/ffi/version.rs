//! Version queries and the `jsec_init` ABI handshake.
//!
//! The header's `JSEC_VERSION_MAJOR`, `JSEC_VERSION_MINOR`,
//! `JSEC_VERSION_PATCH`, `JSEC_VERSION_NUMBER`, `JSEC_VERSION_STRING` and
//! `JSEC_ABI_VERSION` macros are written by `build.rs` from the same
//! `Cargo.toml` version these functions report.

use std::ffi::c_char;

use super::boundary::{boundary, jsec_status};
use crate::{Error, Result};

/// Parse a decimal version component at compile time.
const fn parse_component(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n: u32 = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "version component is not a number");
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// Major version of the library.
pub(crate) const MAJOR: u32 = parse_component(env!("CARGO_PKG_VERSION_MAJOR"));
/// Minor version of the library.
pub(crate) const MINOR: u32 = parse_component(env!("CARGO_PKG_VERSION_MINOR"));
/// Patch version of the library.
pub(crate) const PATCH: u32 = parse_component(env!("CARGO_PKG_VERSION_PATCH"));

// The encoding gives each component three decimal digits.
const _: () = assert!(MINOR < 1000 && PATCH < 1000 && MAJOR < 4294);

/// `major * 1000000 + minor * 1000 + patch`, as `JSEC_VERSION_NUMBER`.
pub(crate) const NUMBER: u32 = MAJOR * 1_000_000 + MINOR * 1_000 + PATCH;

/// The version string, NUL-terminated.
const VERSION_C: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version as "MAJOR.MINOR.PATCH" (for example "0.1.0").
///
/// Never NULL; the string is static (never free it). Thread-safe. Compare
/// with the header's `JSEC_VERSION_STRING` to detect a header/library
/// mismatch.
#[no_mangle]
pub extern "C" fn jsec_version() -> *const c_char {
    boundary("jsec_version", || VERSION_C.as_ptr().cast())
}

/// The library's version as `major * 1000000 + minor * 1000 + patch`, the
/// same encoding as the header's `JSEC_VERSION_NUMBER` (0.1.0 is 1000).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn jsec_version_number() -> u32 {
    boundary("jsec_version_number", || NUMBER)
}

/// Whether a caller built against ABI version `abi` can use this library.
fn check_abi(abi: u32) -> Result<()> {
    let (major, minor) = (abi / 1_000_000, abi / 1_000 % 1_000);
    let compatible = if MAJOR == 0 {
        // While 0.x every minor release may break the ABI.
        major == 0 && minor == MINOR
    } else {
        // A newer header may declare functions this library lacks.
        major == MAJOR && minor <= MINOR
    };
    if compatible {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "the caller was built against jsec ABI {major}.{minor} (JSEC_ABI_VERSION {abi}), \
             incompatible with this library {} (ABI {MAJOR}.{MINOR})",
            env!("CARGO_PKG_VERSION"),
        )))
    }
}

/// Check that the library loaded at run time is compatible with the header the
/// caller was compiled against. Call it once, before anything else, as
/// `jsec_init(JSEC_ABI_VERSION)`.
///
/// `abi_version` is encoded like `JSEC_VERSION_NUMBER`; the patch part is
/// ignored. Compatible means: the same major version and, for 1.0 and later, a
/// minor version no newer than the library's; while the major version is 0,
/// the same minor version (every 0.x minor release may break the ABI).
/// Returns `JSEC_OK`, or `JSEC_ERR_INVALID_ARGUMENT` with a message in
/// `jsec_last_error` when incompatible. It has no other effect: the library
/// needs no initialisation, and calling it again is harmless. Thread-safe.
#[no_mangle]
pub extern "C" fn jsec_init(abi_version: u32) -> jsec_status {
    boundary("jsec_init", || check_abi(abi_version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parts_match_the_string() {
        assert_eq!(
            format!("{MAJOR}.{MINOR}.{PATCH}"),
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(jsec_version_number(), NUMBER);
        assert_eq!(NUMBER, MAJOR * 1_000_000 + MINOR * 1_000 + PATCH);
    }

    #[test]
    fn abi_handshake() {
        assert_eq!(jsec_init(NUMBER), jsec_status::JSEC_OK);
        // The patch part is ignored.
        assert_eq!(jsec_init(NUMBER - PATCH + 999), jsec_status::JSEC_OK);
        assert_eq!(
            jsec_init(NUMBER + 1_000_000),
            jsec_status::JSEC_ERR_INVALID_ARGUMENT
        );
        if MAJOR == 0 {
            assert_eq!(
                jsec_init(NUMBER + 1_000),
                jsec_status::JSEC_ERR_INVALID_ARGUMENT
            );
        }
    }
}
