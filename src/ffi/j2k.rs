//! JPEG 2000: the packet index (`jsec_j2k_index`) and keyless transcoding
//! (`jsec_j2k_transcode` with the `jsec_j2k_transcode_options` builder).

use super::boundary::jsec_status;
use super::boundary::{
    arc_into_ptr, boundary, box_into_ptr, check_out, field_ends, free_arc, free_box, try_mut,
    try_ref, try_slice, write_out, write_sized, Castable, OwnershipArc, OwnershipBox, SizedStruct,
};
use super::sign::jsec_buffer;
use crate::j2k::transcode::TranscodeOptions;
use crate::j2k::{J2kFile, PacketIndex};
use crate::Error;

/// The packet index of a JPEG 2000 codestream or JP2 file. Opaque and
/// immutable: may be read from any number of threads at once; freed with
/// `jsec_j2k_index_free`. It keeps no reference to the file's bytes.
pub struct jsec_j2k_index {
    _private: [u8; 0],
}

impl Castable for jsec_j2k_index {
    type RustType = PacketIndex;
    type Ownership = OwnershipArc;
}

/// One packet of a `jsec_j2k_index`. A caller struct: set `struct_size =
/// sizeof(jsec_j2k_packet)` (docs/c-api.md). Offsets are file offsets.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct jsec_j2k_packet {
    /// Set by the caller to `sizeof(jsec_j2k_packet)`.
    pub struct_size: usize,
    /// Offset of the packet's first byte (its SOP marker, when present).
    pub offset: u64,
    /// Bytes in the tile-part data: SOP, header when in-stream, EPH, body.
    pub length: u64,
    /// Bytes of the header in the tile-part data, EPH included (0 when the
    /// header is packed in PPM / PPT).
    pub header_length: u64,
    /// Bytes of the header in the tile's packed header stream (0 when
    /// in-stream).
    pub packed_header_length: u64,
    /// Where that header starts in the tile's packed header stream.
    pub packed_header_offset: u64,
    /// Offset of the body.
    pub body_offset: u64,
    /// Bytes of the body.
    pub body_length: u64,
    /// Sequence number within the tile (SOP carries it mod 65536).
    pub seq: u32,
    /// Precinct (raster index within the resolution).
    pub precinct: u32,
    /// Index of the packet's tile-part in codestream order.
    pub tile_part: u32,
    /// Code-blocks the packet carries data for.
    pub code_blocks: u32,
    /// Tile index.
    pub tile: u16,
    /// Quality layer.
    pub layer: u16,
    /// Component.
    pub component: u16,
    /// Resolution level.
    pub resolution: u8,
    /// True when the packet starts with an SOP marker.
    pub sop: bool,
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_j2k_packet {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_j2k_packet:
            offset, length, header_length, packed_header_length, packed_header_offset,
            body_offset, body_length, seq, precinct, tile_part, code_blocks, tile, layer,
            component, resolution, sop,
        )
    }
}

/// Transcoding options: a mutable builder (one thread at a time; it may
/// move between threads). Defaults: keep everything.
pub struct jsec_j2k_transcode_options {
    _private: [u8; 0],
}

impl Castable for jsec_j2k_transcode_options {
    type RustType = TranscodeOptions;
    type Ownership = OwnershipBox;
}

/// Index every packet of the JPEG 2000 codestream or JP2 file in `data`
/// (`len` bytes): decodes the main and tile-part headers and every packet
/// header (no entropy decoding). On success `*out` receives an index freed
/// with `jsec_j2k_index_free`; on failure `*out` is not written
/// (`JSEC_ERR_MALFORMED` with a message naming what is wrong and where).
/// NULL `data` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `data` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_index_new(
    data: *const u8,
    len: usize,
    out: *mut *const jsec_j2k_index,
) -> jsec_status {
    boundary("jsec_j2k_index_new", || {
        check_out(out, "out")?;
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(data, len, "data") }?;
        let f = J2kFile::parse(bytes)?;
        let ix = PacketIndex::build(&f.codestream, bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr::<jsec_j2k_index>(ix)) };
        Ok(())
    })
}

/// The number of packets in the index (`*count`), and the number of
/// packets the codestream's progression declares but does not contain
/// (`*missing`, non-zero for a truncated stream; may be NULL). NULL `index`
/// or `count` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `index` is NULL or a live `jsec_j2k_index`; `count` is NULL or writable;
/// `missing` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_index_packet_count(
    index: *const jsec_j2k_index,
    count: *mut usize,
    missing: *mut u64,
) -> jsec_status {
    boundary("jsec_j2k_index_packet_count", || {
        check_out(count, "count")?;
        // SAFETY: `index` is NULL or a live handle by the contract.
        let ix = unsafe { try_ref(index, "index") }?;
        // SAFETY: `count` checked non-NULL; `missing` checked below; both
        // writable by the contract.
        unsafe {
            write_out(count, ix.packets.len());
            if !missing.is_null() {
                write_out(missing, ix.missing.iter().sum());
            }
        }
        Ok(())
    })
}

/// Packet `i` (0-based, codestream order) of the index, into the caller
/// struct `*packet` (`struct_size` set). `i` past the end is
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing is written. NULL `index` or
/// `packet` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `index` is NULL or a live `jsec_j2k_index`; `packet` is NULL or points
/// to `packet->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_index_packet(
    index: *const jsec_j2k_index,
    i: usize,
    packet: *mut jsec_j2k_packet,
) -> jsec_status {
    boundary("jsec_j2k_index_packet", || {
        check_out(packet, "packet")?;
        // SAFETY: `index` is NULL or a live handle by the contract.
        let ix = unsafe { try_ref(index, "index") }?;
        let p = ix.packets.get(i).ok_or_else(|| {
            Error::invalid_argument(format!("packet {i}: the index holds {}", ix.packets.len()))
        })?;
        let full = jsec_j2k_packet {
            struct_size: std::mem::size_of::<jsec_j2k_packet>(),
            offset: p.offset as u64,
            length: p.length as u64,
            header_length: p.header_length as u64,
            packed_header_length: p.packed_header_length as u64,
            packed_header_offset: p.packed_header_offset as u64,
            body_offset: p.body_offset as u64,
            body_length: p.body_length as u64,
            seq: p.seq,
            precinct: p.id.precinct,
            tile_part: p.tile_part as u32,
            code_blocks: p.contributions.len() as u32,
            tile: p.tile,
            layer: p.id.layer,
            component: p.id.component,
            resolution: p.id.resolution,
            sop: p.sop,
        };
        // SAFETY: `packet` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(packet, &full, "packet") }
    })
}

/// What one code-block contributes to a packet
/// (`jsec_j2k_index_contribution`). A caller struct: set `struct_size =
/// sizeof(jsec_j2k_contribution)`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct jsec_j2k_contribution {
    /// Set by the caller to `sizeof(jsec_j2k_contribution)`.
    pub struct_size: usize,
    /// Code-block index within the precinct's part of its sub-band (raster).
    pub block: u32,
    /// Coding passes added.
    pub passes: u32,
    /// Bytes added to the packet body (the contributions' bytes follow one
    /// another in the body in this order).
    pub bytes: u32,
    /// Sub-band: 0 for LL (resolution 0), else 0 HL, 1 LH, 2 HH.
    pub band: u32,
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_j2k_contribution {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_j2k_contribution: block, passes, bytes, band)
    }
}

/// Contribution `j` (0 to the packet's `code_blocks` - 1) of packet `i`,
/// into the caller struct `*contribution`. Indices past the end are
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing is written; so are NULL `index`
/// and `contribution`. Thread-safe.
///
/// # Safety
///
/// `index` is NULL or a live `jsec_j2k_index`; `contribution` is NULL or
/// points to `contribution->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_index_contribution(
    index: *const jsec_j2k_index,
    i: usize,
    j: usize,
    contribution: *mut jsec_j2k_contribution,
) -> jsec_status {
    boundary("jsec_j2k_index_contribution", || {
        check_out(contribution, "contribution")?;
        // SAFETY: `index` is NULL or a live handle by the contract.
        let ix = unsafe { try_ref(index, "index") }?;
        let p = ix.packets.get(i).ok_or_else(|| {
            Error::invalid_argument(format!("packet {i}: the index holds {}", ix.packets.len()))
        })?;
        let c = p.contributions.get(j).ok_or_else(|| {
            Error::invalid_argument(format!(
                "contribution {j} of packet {i}, which has {}",
                p.contributions.len()
            ))
        })?;
        let full = jsec_j2k_contribution {
            struct_size: std::mem::size_of::<jsec_j2k_contribution>(),
            block: c.block,
            passes: c.passes,
            bytes: c.bytes,
            band: c.band as u32,
        };
        // SAFETY: `contribution` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(contribution, &full, "contribution") }
    })
}

/// Release an index (NULL is a no-op). Must not race with another use of
/// the handle.
///
/// # Safety
///
/// `index` is NULL or a live `jsec_j2k_index` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_index_free(index: *const jsec_j2k_index) {
    boundary("jsec_j2k_index_free", || {
        // SAFETY: `index` is NULL or a live handle given up by the caller.
        unsafe { free_arc(index) }
    })
}

/// Make a transcoding-options builder that keeps everything. On success
/// `*out` receives a builder freed with `jsec_j2k_transcode_options_free`.
/// NULL `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_transcode_options_new(
    out: *mut *mut jsec_j2k_transcode_options,
) -> jsec_status {
    boundary("jsec_j2k_transcode_options_new", || {
        check_out(out, "out")?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(TranscodeOptions::default())) };
        Ok(())
    })
}

/// Drop `levels` resolution levels (like `opj_decompress -r`); 0 keeps
/// them all. More than 32 is `JSEC_ERR_INVALID_ARGUMENT` (more than the
/// file has is reported by `jsec_j2k_transcode`). NULL `options` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live builder used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_transcode_options_set_reduce(
    options: *mut jsec_j2k_transcode_options,
    levels: u32,
) -> jsec_status {
    boundary("jsec_j2k_transcode_options_set_reduce", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if levels > 32 {
            return Err(Error::invalid_argument(format!(
                "{levels} levels: at most 32"
            )));
        }
        o.reduce = levels as u8;
        Ok(())
    })
}

/// Keep the first `layers` quality layers (like `opj_decompress -l`); 0
/// keeps them all. More than 65535 is `JSEC_ERR_INVALID_ARGUMENT`. NULL
/// `options` is `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live builder used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_transcode_options_set_layers(
    options: *mut jsec_j2k_transcode_options,
    layers: u32,
) -> jsec_status {
    boundary("jsec_j2k_transcode_options_set_layers", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if layers > u16::MAX as u32 {
            return Err(Error::invalid_argument(format!(
                "{layers} layers: at most 65535"
            )));
        }
        o.layers = (layers > 0).then_some(layers as u16);
        Ok(())
    })
}

/// Keep only the `count` tiles listed in `tiles` (copied); NULL `tiles`
/// with `count` 0 keeps all tiles again. NULL `options`, or NULL `tiles`
/// with a non-zero `count`, is `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live builder used by no other thread; `tiles` is
/// NULL or readable for `count` values.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_transcode_options_set_tiles(
    options: *mut jsec_j2k_transcode_options,
    tiles: *const u16,
    count: usize,
) -> jsec_status {
    boundary("jsec_j2k_transcode_options_set_tiles", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if tiles.is_null() {
            if count != 0 {
                return Err(super::boundary::null_arg("tiles"));
            }
            o.tiles = None;
            return Ok(());
        }
        if count > 65536 {
            return Err(Error::invalid_argument(format!(
                "{count} tiles: a codestream has at most 65535"
            )));
        }
        // SAFETY: `tiles` is non-NULL and readable for `count` u16 values
        // (at most 128 KiB) by the contract.
        let list = unsafe { std::slice::from_raw_parts(tiles, count) };
        o.tiles = Some(list.to_vec());
        Ok(())
    })
}

/// Release a transcoding-options builder (NULL is a no-op).
///
/// # Safety
///
/// `options` is NULL or a live builder not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_transcode_options_free(options: *mut jsec_j2k_transcode_options) {
    boundary("jsec_j2k_transcode_options_free", || {
        // SAFETY: `options` is NULL or a live handle given up by the caller.
        unsafe { free_box(options) }
    })
}

/// Transcode the JPEG 2000 file in `data` without keys: keep the packets of
/// the lower resolutions, first layers and chosen tiles (`options`, NULL to
/// keep everything) and rewrite the headers that describe them (see
/// docs/cli.md, `j2k transcode`). A JPSEC-protected file (SEC segments, see
/// `jsec_jpsec_protect`) stays protected and its SEC segments stay true:
/// the dropped packets are marked absent and the kept ones get their new
/// offsets, so what remains still decrypts and verifies with
/// `jsec_jpsec_consume`; a reduction that would renumber tiles of a
/// protected file is `JSEC_ERR_UNSUPPORTED`. The result is indexed again
/// before it is returned. On success `*out` receives it in a buffer freed
/// with `jsec_buffer_free`. `JSEC_ERR_INVALID_ARGUMENT`: options the file
/// cannot take (more levels than it has, tiles it does not have, a tile
/// size that cannot be halved); `JSEC_ERR_MALFORMED`: a damaged file, or SEC
/// segments that do not match the codestream; `JSEC_ERR_UNSUPPORTED`: a
/// stream whose reduced geometry would reorder its packets. NULL `data` or
/// `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `options` is NULL or a live builder not being changed; `data` is NULL or
/// readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_j2k_transcode(
    options: *const jsec_j2k_transcode_options,
    data: *const u8,
    len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_j2k_transcode", || {
        check_out(out, "out")?;
        let opts = if options.is_null() {
            TranscodeOptions::default()
        } else {
            // SAFETY: `options` is non-NULL and a live handle by the contract.
            unsafe { try_ref(options, "options") }?.clone()
        };
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(data, len, "data") }?;
        let result = crate::jpsec::transcode::transcode(bytes, &opts)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(result)) };
        Ok(())
    })
}
