//! Fuzz target `j2k_codestream`: JP2 boxes and codestream marker segments
//! and tile-parts. The body lives in tests/common/fuzz_bodies.rs so that
//! tests/j2k_codestream.rs runs it on stable too.
#![no_main]

#[path = "../../tests/common/fuzz_bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::j2k_codestream(data));
