//! JPEG 2000 (ISO/IEC 15444-1): the JP2 box structure and the codestream's
//! marker segments and tile-parts, mapped byte for byte so that a file is
//! written back identical and a transcoder rewrites only what it changes.
//! Packet headers (Tier-2) build on this map.

pub mod boxes;
pub mod codestream;
pub mod geometry;
pub mod index;
pub mod marker;
pub mod progression;
pub mod tagtree;
pub mod transcode;

use crate::Result;
pub use boxes::Jp2Box;
pub use codestream::{Codestream, Progression, Siz};
pub use index::{Packet, PacketIndex};

/// A JPEG 2000 file: a raw codestream (`.j2k`, `.j2c`) or a JP2 file with
/// its boxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct J2kFile {
    /// The JP2 boxes, `None` for a raw codestream.
    pub boxes: Option<Vec<Jp2Box>>,
    /// The (first) codestream.
    pub codestream: Codestream,
}

impl J2kFile {
    /// Parse a raw codestream or a JP2 file (told apart by their first
    /// bytes); for JP2 the first `jp2c` box holds the codestream.
    pub fn parse(data: &[u8]) -> Result<J2kFile> {
        if boxes::is_jp2(data) {
            let bx = boxes::parse_boxes(data)?;
            let c = bx
                .iter()
                .find(|b| b.kind == boxes::JP2C)
                .expect("parse_boxes checks there is one");
            let codestream = Codestream::parse(&data[..c.offset + c.len], c.offset + c.header_len)?;
            Ok(J2kFile {
                boxes: Some(bx),
                codestream,
            })
        } else {
            Ok(J2kFile {
                boxes: None,
                codestream: Codestream::parse(data, 0)?,
            })
        }
    }

    /// The file rebuilt from the map: identical to `data` when nothing was
    /// changed.
    pub fn write(&self, data: &[u8]) -> Result<Vec<u8>> {
        let cs = self.codestream.write(data);
        match &self.boxes {
            None => Ok(cs),
            Some(bx) => boxes::replace_codestream(data, bx, &cs),
        }
    }
}
