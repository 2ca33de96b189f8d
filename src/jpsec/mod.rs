//! JPSEC (ISO/IEC 15444-8) for JPEG 2000: protection tools applied to a
//! codestream and signalled in SEC marker segments, so that one file
//! serves several audiences and stays decodable by plain JPEG 2000
//! decoders.
//!
//! * [`syntax`]: the SEC segments and the jsec JPSEC profile (version 1)
//!   that fills them — the only module that knows their bytes
//!   (`docs/jpsec-format.md`).
//! * [`keys`]: master key, level key chain, subkeys, key check values.
//! * [`zone`]: zones of influence on a real codestream (packets, regions
//!   mapped to code-blocks, units, IVs, unit messages).
//! * [`protect()`](protect::protect) applies tools; [`consume()`](consume::consume)
//!   verifies and decrypts; [`transcode()`](transcode::transcode) drops
//!   resolutions, layers or tiles of a protected file without keys and
//!   keeps its SEC true.

pub mod consume;
pub mod keys;
pub mod packet;
pub mod policy;
pub mod protect;
pub mod syntax;
pub mod transcode;
pub mod zone;

pub use consume::{consume, ConsumeOptions, Consumed, Report, ToolReport, UnitReport, UnitStatus};
pub use keys::JpsecKey;
pub use packet::PacketProtector;
pub use protect::{protect, Levels, ProtectOptions, Signer, ToolSpec};
pub use syntax::{Granularity, ImageZone, Region, SecStream};
