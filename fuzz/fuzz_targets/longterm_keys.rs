//! Fuzz target `longterm_keys`: the paper profile's key and certificate
//! readers. The body lives in tests/common/fuzz_bodies.rs so that
//! tests/fuzz_bodies.rs runs it on stable too.
#![no_main]

#[path = "../../tests/common/fuzz_bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::longterm_keys(data));
