//! Fuzz target `jpsec_policy`: the TOML protection-policy reader. The body
//! lives in tests/common/fuzz_bodies.rs so that tests/fuzz_bodies.rs runs
//! it on stable too.
#![no_main]

#[path = "../../tests/common/fuzz_bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::jpsec_policy(data));
