//! The C ABI of jsec: a thin, mechanical layer over the Rust API.
//!
//! This module is the only place in the crate with `unsafe`, raw pointers and
//! `extern "C"`. `build.rs` runs cbindgen over this module (and only this
//! module) to produce `include/jsec.h`; the conventions every function follows
//! are written down once in `docs/c-api.md`.
//!
//! Layout:
//!
//! * [`boundary`]: the panic boundary every exported body runs in, the
//!   thread-local last error, `jsec_status`, and the pointer/ownership casts
//!   between opaque C handles and Rust objects.
//! * [`version`]: version queries and the `jsec_init` ABI handshake.
//! * [`key`]: `jsec_key`.
//! * [`options`]: the `jsec_fspe_options` builder.
//! * [`cipher`]: `jsec_fspe_cipher` (in place, per scan).
//! * [`report`]: `jsec_fspe_report`, `jsec_fspe_inspect`.
//! * [`stream`]: `jsec_fspe_stream` (digest and cipher streams).
//! * [`sign`]: croppable signatures: keys, options, `jsec_buffer`, sign,
//!   attach, verify, signing sessions.
//! * [`j2k`]: the JPEG 2000 packet index and keyless transcoding.
//! * [`jpsec`]: JPSEC (JPEG 2000 Part 8): protection policies, protection,
//!   consumption and its report, level keys, the per-packet hook.

#![allow(non_camel_case_types)]
// The one module allowed to use `unsafe` (denied crate-wide in Cargo.toml).
#![allow(unsafe_code)]
// Every unsafe operation sits in its own `unsafe {}` block with a
// `// SAFETY:` comment, also inside `unsafe fn`s.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Declared in the order the header presents them (one group each, so that
// rustfmt keeps the order).
pub mod boundary;

pub mod version;

pub mod key;

pub mod options;

pub mod cipher;

pub mod report;

pub mod stream;

pub mod sign;

pub mod j2k;

pub mod jpsec;
