//! Fuzz target `exif` (the TIFF reader of EXIF APP1 payloads); the body lives
//! in tests/common/fuzz_bodies.rs so that tests/fuzz_bodies.rs runs it on
//! stable too. Seeds: JPEG files work as well as bare payloads (the body
//! reads the input as a payload).
#![no_main]

#[path = "../../tests/common/fuzz_bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::exif(data));
