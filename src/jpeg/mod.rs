//! Baseline and extended-sequential (8-bit, Huffman) JPEG: markers, segments,
//! Huffman tables, the bit reader and a resumable image walker that knows, for
//! every bit of the entropy-coded data, whether it is a Huffman-code bit or an
//! additional bit and which component, block and coefficient it belongs to.

mod bits;
pub mod coefficients;
pub mod crop;
pub mod encode;
pub mod exif;
pub mod huffman;
pub mod marker;
pub mod segment;
pub mod walker;

pub use coefficients::{decode_coefficients, Coefficients, ComponentCoefficients};
pub use segment::{Frame, FrameComponent, FrameKind, QuantTable, ScanComponent, ScanHeader};
pub use walker::{BitClass, ImageWalker, Progress, Visitor};
