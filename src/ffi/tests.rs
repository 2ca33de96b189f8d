//! Tests of the C ABI through the exported functions.
