//! The C ABI (placeholder until the FFI layer lands).
