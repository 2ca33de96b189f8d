//! # jsec — secure JPEG and JPEG 2000 images inside their own formats
//!
//! The crate is layered; each layer only uses the ones listed before it:
//!
//! * [`jpeg`]: markers, segments, Huffman tables, the bit-level scan walker and
//!   coefficient decoding of baseline / extended-sequential Huffman JPEG.
//! * [`j2k`]: JPEG 2000 JP2 boxes and codestream marker segments and
//!   tile-parts, mapped so that files are written back byte for byte.
//! * [`crypto`]: keys, AES-CTR keystreams addressed by position, key and nonce
//!   derivation, BLS signatures with same-key aggregate verification (over
//!   `blst`; the few blst functions its Rust binding offers only as raw C
//!   calls are wrapped by the workspace crate `crates/blst-ext`, so that the
//!   `ffi` module stays this crate's only code outside safe Rust).
//! * [`fspe`]: file-size-preserving JPEG encryption (Kobayashi & Kiya, plus the
//!   `full` rule), in place on a buffer or as a bounded-memory stream.
//! * [`sign`]: croppable image signatures (Perazzo et al.): BLS signatures
//!   per cell of quantized DCT coefficients, keyless aggregation over a crop,
//!   verification with two pairings, localization of tampered cells.
//! * `ffi`: the C ABI, the only module with raw pointers and
//!   `extern "C"` (the lint table in `Cargo.toml` confines such code to
//!   it); see `include/jsec.h` and `docs/c-api.md`.
//!
//! Every error is an [`Error`] with an [`ErrorKind`] that maps one-to-one onto
//! the C `jsec_status` codes.
#![deny(missing_docs)]

pub mod crypto;
mod error;
pub mod fspe;
pub mod j2k;
pub mod jpeg;
pub mod jpsec;
pub mod sign;

#[doc(hidden)]
pub mod ffi;

pub use error::{Error, ErrorKind, Result};

/// The library version, `MAJOR.MINOR.PATCH` (from `Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
