//! `jsec_fspe_report`: what an FSPE operation or `jsec_fspe_inspect` found.
//! Images, sensitive EXIF fields, warnings, trailing bytes.

use std::ffi::c_char;

use super::boundary::jsec_status;
use super::boundary::{
    boundary, box_into_ptr, check_out, field_ends, free_box, try_ref, try_slice, write_out,
    write_sized, write_text, Castable, OwnershipBox, SizedStruct,
};
use super::options::{
    JSEC_FSPE_METADATA_DATES, JSEC_FSPE_METADATA_GPS, JSEC_FSPE_METADATA_IDENTITY,
};
use crate::fspe::{self, BitStats, Ifd, ImageReport, Location, MetadataField, Report, Sensitivity};
use crate::{Error, Result};

/// The report of an FSPE operation: one entry per image (the primary image
/// first, then embedded ones in file order), the sensitive EXIF fields found,
/// warnings, trailing bytes. Opaque.
///
/// Made by `jsec_fspe_cipher_encrypt`/`_decrypt`, `jsec_fspe_stream_finish`
/// and `jsec_fspe_inspect`; the caller frees it with `jsec_fspe_report_free`.
/// Immutable: the query functions only read it, so it may be read from
/// several threads at once. It refers to no other jsec object.
pub struct jsec_fspe_report {
    _private: [u8; 0],
}

impl Castable for jsec_fspe_report {
    type RustType = Report;
    type Ownership = OwnershipBox;
}

/// Where an image sits in the file (`jsec_fspe_image_info.location`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_fspe_location {
    /// The primary image (starts at offset 0).
    Primary = 0,
    /// Inside the payload of an APPn segment (see `segment_marker` and
    /// `segment_offset`): EXIF/JFXX/Photoshop thumbnails and the like.
    InSegment = 1,
    /// After the EOI of the primary image (MPF images, previews).
    AfterEoi = 2,
}

/// The image file directory of an EXIF field (`jsec_fspe_metadata_field.ifd`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum jsec_fspe_ifd {
    /// IFD0: the primary image's TIFF tags.
    Ifd0 = 0,
    /// IFD1: the thumbnail's tags.
    Ifd1 = 1,
    /// The Exif IFD (pointer tag 0x8769 in IFD0).
    Exif = 2,
    /// The GPS IFD (pointer tag 0x8825 in IFD0).
    Gps = 3,
}

/// Facts about one image of a report, filled by `jsec_fspe_report_image`.
///
/// The caller sets `struct_size` to `sizeof(jsec_fspe_image_info)` before the
/// call; jsec fills only the fields that fit in `struct_size` bytes, so a
/// program built against an older, shorter version of this struct keeps
/// working when fields are appended. Fields are never removed or reordered.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct jsec_fspe_image_info {
    /// Set by the caller to `sizeof(jsec_fspe_image_info)`; never written by jsec.
    pub struct_size: usize,
    /// Absolute offset of the image's SOI in the file.
    pub offset: u64,
    /// Absolute offset just past its EOI (or where processing stopped).
    pub end: u64,
    /// For `JSEC_FSPE_LOCATION_IN_SEGMENT`: absolute offset of the APPn
    /// segment's marker; otherwise 0.
    pub segment_offset: u64,
    /// A `jsec_fspe_location` value.
    pub location: u32,
    /// For `JSEC_FSPE_LOCATION_IN_SEGMENT`: the marker byte (0xE0 to 0xEF);
    /// otherwise 0.
    pub segment_marker: u32,
    /// Width in pixels (0 if the frame header was not reached).
    pub width: u32,
    /// Height in pixels (0 if the frame header was not reached).
    pub height: u32,
    /// Number of components in the frame (see `jsec_fspe_report_image_component`).
    pub component_count: u32,
    /// Number of scans.
    pub scans: u32,
    /// Restart interval in MCUs (0 = none).
    pub restart_interval: u32,
    /// Length in bytes of the problem text (0 = the image was fully
    /// processed); the text is read with `jsec_fspe_report_image_problem`.
    /// Only embedded images can have a problem: one in the primary image is
    /// an error of the whole call.
    pub problem_len: u32,
    /// Additional bits in the entropy-coded data.
    pub additional_bits: u64,
    /// Additional bits the PAPER rule may encrypt (whatever the selection).
    pub eligible_paper_bits: u64,
    /// Additional bits the FULL rule may encrypt (whatever the selection).
    pub eligible_full_bits: u64,
    /// Additional bits selected and encrypted (or decrypted) under the options.
    pub encrypted_bits: u64,
    /// Blocks whose DC difference was left in clear because encrypting it
    /// would have changed blocks outside the region.
    pub dc_kept_for_region: u64,
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_fspe_image_info {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_fspe_image_info:
            offset, end, segment_offset, location, segment_marker, width, height,
            component_count, scans, restart_interval, problem_len, additional_bits,
            eligible_paper_bits, eligible_full_bits, encrypted_bits, dc_kept_for_region,
        )
    }
}

/// Additional-bit statistics of one scan, filled by
/// `jsec_fspe_cipher_process_scan`.
///
/// The caller sets `struct_size` to `sizeof(jsec_fspe_bit_stats)`; jsec fills
/// only the fields that fit (see `jsec_fspe_image_info`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct jsec_fspe_bit_stats {
    /// Set by the caller to `sizeof(jsec_fspe_bit_stats)`; never written by jsec.
    pub struct_size: usize,
    /// Additional bits in the entropy-coded data.
    pub additional_bits: u64,
    /// Additional bits the PAPER rule may encrypt (whatever the selection).
    pub eligible_paper_bits: u64,
    /// Additional bits the FULL rule may encrypt (whatever the selection).
    pub eligible_full_bits: u64,
    /// Additional bits selected and encrypted (or decrypted) under the options.
    pub encrypted_bits: u64,
    /// Blocks whose DC difference was left in clear for the region.
    pub dc_kept_for_region: u64,
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_fspe_bit_stats {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_fspe_bit_stats:
            additional_bits, eligible_paper_bits, eligible_full_bits, encrypted_bits,
            dc_kept_for_region,
        )
    }
}

impl From<&BitStats> for jsec_fspe_bit_stats {
    fn from(s: &BitStats) -> Self {
        jsec_fspe_bit_stats {
            struct_size: std::mem::size_of::<jsec_fspe_bit_stats>(),
            additional_bits: s.additional,
            eligible_paper_bits: s.eligible_paper,
            eligible_full_bits: s.eligible_full,
            encrypted_bits: s.encrypted,
            dc_kept_for_region: s.dc_kept_for_region,
        }
    }
}

/// One privacy-sensitive EXIF field of a report, filled by
/// `jsec_fspe_report_metadata_field`.
///
/// Every sensitive field found is listed, whether its class was selected
/// (`jsec_fspe_options_set_metadata`) or not; `transformed` says whether this
/// operation enciphered (or deciphered) its value. The caller sets
/// `struct_size` to `sizeof(jsec_fspe_metadata_field)`; jsec fills only the
/// fields that fit (see `jsec_fspe_image_info`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct jsec_fspe_metadata_field {
    /// Set by the caller to `sizeof(jsec_fspe_metadata_field)`; never written by jsec.
    pub struct_size: usize,
    /// Absolute offset in the file of the marker of the APP1 segment holding
    /// the field.
    pub segment_offset: u64,
    /// Absolute offset in the file of the value's first byte, as the TIFF
    /// entry gives it: when the problem text says the value lies outside the
    /// EXIF data, this may point outside the segment or the file.
    pub offset: u64,
    /// Length of the value in bytes (4294967295 when longer).
    pub length: u32,
    /// A `jsec_fspe_ifd` value: the IFD the field sits in.
    pub ifd: u32,
    /// The TIFF tag number (0x0002 GPSLatitude, 0xA431 BodySerialNumber ...);
    /// its name is read with `jsec_fspe_report_metadata_name`.
    pub tag: u32,
    /// What the field reveals: one of `JSEC_FSPE_METADATA_GPS`,
    /// `JSEC_FSPE_METADATA_IDENTITY`, `JSEC_FSPE_METADATA_DATES`.
    pub sensitivity: u32,
    /// True when this operation enciphered (or deciphered) the value; always
    /// false in a report of `jsec_fspe_inspect` or of a digest stream, and
    /// with a key other than the master key.
    pub transformed: bool,
    /// Length in bytes of the problem text (0 = none): why a field of a
    /// selected class could not be transformed (its value overlaps the TIFF
    /// structure or another value, or runs past the segment). The text is
    /// read with `jsec_fspe_report_metadata_problem`.
    pub problem_len: u32,
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_fspe_metadata_field {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_fspe_metadata_field:
            segment_offset, offset, length, ifd, tag, sensitivity, transformed, problem_len,
        )
    }
}

impl From<&MetadataField> for jsec_fspe_metadata_field {
    fn from(f: &MetadataField) -> Self {
        let ifd = match f.ifd {
            Ifd::Ifd0 => jsec_fspe_ifd::Ifd0,
            Ifd::Ifd1 => jsec_fspe_ifd::Ifd1,
            Ifd::Exif => jsec_fspe_ifd::Exif,
            Ifd::Gps => jsec_fspe_ifd::Gps,
        };
        let sensitivity = match f.sensitivity {
            Sensitivity::Location => JSEC_FSPE_METADATA_GPS,
            Sensitivity::Identity => JSEC_FSPE_METADATA_IDENTITY,
            Sensitivity::Time => JSEC_FSPE_METADATA_DATES,
        };
        jsec_fspe_metadata_field {
            struct_size: std::mem::size_of::<jsec_fspe_metadata_field>(),
            segment_offset: f.segment,
            offset: f.offset,
            length: f.len,
            ifd: ifd as u32,
            tag: u32::from(f.tag),
            sensitivity,
            transformed: f.transformed,
            problem_len: f.problem.as_ref().map_or(0, |p| clamp_u32(p.len())),
        }
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<&ImageReport> for jsec_fspe_image_info {
    fn from(r: &ImageReport) -> Self {
        let (location, segment_marker, segment_offset) = match r.location {
            Location::Primary => (jsec_fspe_location::Primary, 0, 0),
            Location::InSegment { marker, segment } => {
                (jsec_fspe_location::InSegment, u32::from(marker), segment)
            }
            Location::AfterEoi => (jsec_fspe_location::AfterEoi, 0, 0),
        };
        jsec_fspe_image_info {
            struct_size: std::mem::size_of::<jsec_fspe_image_info>(),
            offset: r.offset,
            end: r.end,
            segment_offset,
            location: location as u32,
            segment_marker,
            width: r.width,
            height: r.height,
            component_count: clamp_u32(r.sampling.len()),
            scans: r.scans,
            restart_interval: u32::from(r.restart_interval),
            problem_len: r.problem.as_ref().map_or(0, |p| clamp_u32(p.len())),
            additional_bits: r.stats.additional,
            eligible_paper_bits: r.stats.eligible_paper,
            eligible_full_bits: r.stats.eligible_full,
            encrypted_bits: r.stats.encrypted,
            dc_kept_for_region: r.stats.dc_kept_for_region,
        }
    }
}

/// The report's image `index`, or INVALID_ARGUMENT.
fn image(report: &Report, index: usize) -> Result<&ImageReport> {
    report.images.get(index).ok_or_else(|| {
        Error::invalid_argument(format!(
            "image index {index} out of range (the report has {} images)",
            report.images.len()
        ))
    })
}

/// The report's sensitive EXIF field `index`, or INVALID_ARGUMENT.
fn metadata_field(report: &Report, index: usize) -> Result<&MetadataField> {
    report.metadata.get(index).ok_or_else(|| {
        Error::invalid_argument(format!(
            "metadata field index {index} out of range (the report has {} fields)",
            report.metadata.len()
        ))
    })
}

/// Store `report` as a new handle in `*out` when `out` is not NULL.
///
/// # Safety
///
/// `out` is NULL or writable.
pub(crate) unsafe fn give_report(report: Report, out: *mut *mut jsec_fspe_report) {
    if !out.is_null() {
        // SAFETY: `out` is non-NULL and writable by the contract.
        unsafe { write_out(out, box_into_ptr(report)) };
    }
}

/// Parse the JPEG in `buf` (`len` bytes) and its embedded JPEGs, and report
/// their structure and additional-bit statistics (all bands and components
/// counted as selected). Changes nothing; needs no key.
///
/// `buf` is only read during the call; the caller keeps ownership. On success
/// `*out` receives a report the caller frees with `jsec_fspe_report_free`; on
/// failure (`JSEC_ERR_MALFORMED`, `JSEC_ERR_UNSUPPORTED` ...) `*out` is not
/// written. NULL `buf` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `buf` is NULL or readable for `len` bytes and not written during the call;
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_inspect(
    buf: *const u8,
    len: usize,
    out: *mut *mut jsec_fspe_report,
) -> jsec_status {
    boundary("jsec_fspe_inspect", || {
        check_out(out, "out")?;
        // SAFETY: `buf` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(buf, len, "buf") }?;
        let report = fspe::inspect(data)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { give_report(report, out) };
        Ok(())
    })
}

/// The number of images in the report (at least 1 for a report of a
/// successful operation), into `*out`. NULL `report` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_image_count(
    report: *const jsec_fspe_report,
    out: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_image_count", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.images.len()) };
        Ok(())
    })
}

/// Fill `*info` with the facts about image `index` (0 = the primary image).
///
/// The caller sets `info->struct_size = sizeof(jsec_fspe_image_info)` first;
/// only the fields that fit in `struct_size` bytes are written, and
/// `struct_size` itself is not. A `struct_size` smaller than `sizeof(size_t)`,
/// an `index` out of range, or NULL `report` or `info`, is
/// `JSEC_ERR_INVALID_ARGUMENT` and writes nothing.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `info` is NULL or points to
/// at least `info->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_image(
    report: *const jsec_fspe_report,
    index: usize,
    info: *mut jsec_fspe_image_info,
) -> jsec_status {
    boundary("jsec_fspe_report_image", || {
        check_out(info, "info")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let full = jsec_fspe_image_info::from(image(r, index)?);
        // SAFETY: `info` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(info, &full, "info") }
    })
}

/// The id and the horizontal and vertical sampling factors of component
/// `component` (0 to `component_count - 1`) of image `index`, into `*id`,
/// `*h` and `*v`.
///
/// An index out of range, or any NULL pointer, is `JSEC_ERR_INVALID_ARGUMENT`
/// and writes nothing.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `id`, `h`, `v` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_image_component(
    report: *const jsec_fspe_report,
    index: usize,
    component: usize,
    id: *mut u8,
    h: *mut u8,
    v: *mut u8,
) -> jsec_status {
    boundary("jsec_fspe_report_image_component", || {
        check_out(id, "id")?;
        check_out(h, "h")?;
        check_out(v, "v")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let img = image(r, index)?;
        let &(cid, ch, cv) = img.sampling.get(component).ok_or_else(|| {
            Error::invalid_argument(format!(
                "component index {component} out of range (image {index} has {})",
                img.sampling.len()
            ))
        })?;
        // SAFETY: the three pointers are checked non-NULL and writable by the contract.
        unsafe {
            write_out(id, cid);
            write_out(h, ch);
            write_out(v, cv);
        }
        Ok(())
    })
}

/// Copy the problem text of image `index` (why an embedded image could not be
/// fully processed; "" when it was) into the caller's buffer `buf` of `len`
/// bytes, NUL-terminated, and its length without the NUL into `*out_len`.
///
/// When `len <= *out_len` nothing is written to `buf`, `*out_len` still
/// receives the length and the result is `JSEC_ERR_BUFFER_TOO_SMALL`; `buf`
/// may be NULL when `len` is 0. An index out of range, or NULL `report` or
/// `out_len`, is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `buf` is NULL or writable
/// for `len` bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_image_problem(
    report: *const jsec_fspe_report,
    index: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_image_problem", || {
        check_out(out_len, "out_len")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let text = image(r, index)?.problem.as_deref().unwrap_or("");
        // SAFETY: `buf`/`len` and `out_len` as the contract states.
        unsafe { write_text(text, buf, len, out_len, "buf") }
    })
}

/// The number of warnings in the report (extraneous bytes, embedded images
/// that could not be processed ...), into `*out`. NULL `report` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_warning_count(
    report: *const jsec_fspe_report,
    out: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_warning_count", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.warnings.len()) };
        Ok(())
    })
}

/// Warning `index`: its byte offset in the file into `*offset`, and its text,
/// NUL-terminated, into the caller's buffer `buf` of `len` bytes with the
/// length without the NUL into `*out_len`.
///
/// When `len <= *out_len` nothing is written to `buf`, `*offset` and
/// `*out_len` still receive their values and the result is
/// `JSEC_ERR_BUFFER_TOO_SMALL`; `buf` may be NULL when `len` is 0. An index
/// out of range, or NULL `report`, `offset` or `out_len`, is
/// `JSEC_ERR_INVALID_ARGUMENT` and writes nothing.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `offset` and `out_len` are
/// NULL or writable; `buf` is NULL or writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_warning(
    report: *const jsec_fspe_report,
    index: usize,
    offset: *mut u64,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_warning", || {
        check_out(offset, "offset")?;
        check_out(out_len, "out_len")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let (at, text) = r.warnings.get(index).ok_or_else(|| {
            Error::invalid_argument(format!(
                "warning index {index} out of range (the report has {})",
                r.warnings.len()
            ))
        })?;
        if buf.is_null() && len != 0 {
            return Err(super::boundary::null_arg("buf"));
        }
        // SAFETY: `offset` checked non-NULL; writable by the contract.
        unsafe { write_out(offset, *at) };
        // SAFETY: `buf`/`len` and `out_len` as the contract states.
        unsafe { write_text(text, buf, len, out_len, "buf") }
    })
}

/// The number of bytes after the primary image's EOI that belong to no
/// embedded image, into `*out`. NULL `report` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_trailing_bytes(
    report: *const jsec_fspe_report,
    out: *mut u64,
) -> jsec_status {
    boundary("jsec_fspe_report_trailing_bytes", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.trailing_bytes) };
        Ok(())
    })
}

/// The number of privacy-sensitive EXIF fields found (GPS, identity and date
/// values in the EXIF APP1 segments of the primary image and of embedded
/// images, in file order, whether their class was selected or not), into
/// `*out`. NULL `report` or `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_metadata_count(
    report: *const jsec_fspe_report,
    out: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_metadata_count", || {
        check_out(out, "out")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, r.metadata.len()) };
        Ok(())
    })
}

/// Fill `*info` with the facts about sensitive EXIF field `index` (0 to
/// `jsec_fspe_report_metadata_count` - 1).
///
/// The caller sets `info->struct_size = sizeof(jsec_fspe_metadata_field)`
/// first; only the fields that fit in `struct_size` bytes are written, and
/// `struct_size` itself is not. A `struct_size` smaller than
/// `sizeof(size_t)`, an `index` out of range, or NULL `report` or `info`, is
/// `JSEC_ERR_INVALID_ARGUMENT` and writes nothing.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `info` is NULL or points to
/// at least `info->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_metadata_field(
    report: *const jsec_fspe_report,
    index: usize,
    info: *mut jsec_fspe_metadata_field,
) -> jsec_status {
    boundary("jsec_fspe_report_metadata_field", || {
        check_out(info, "info")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let full = jsec_fspe_metadata_field::from(metadata_field(r, index)?);
        // SAFETY: `info` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(info, &full, "info") }
    })
}

/// Copy the tag name of sensitive EXIF field `index` (`GPSLatitude`,
/// `BodySerialNumber` ...; `GPSUnknown` for an unnamed GPS tag) into the
/// caller's buffer `buf` of `len` bytes, NUL-terminated, and its length
/// without the NUL into `*out_len`.
///
/// When `len <= *out_len` nothing is written to `buf`, `*out_len` still
/// receives the length and the result is `JSEC_ERR_BUFFER_TOO_SMALL`; `buf`
/// may be NULL when `len` is 0. An index out of range, or NULL `report` or
/// `out_len`, is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `buf` is NULL or writable
/// for `len` bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_metadata_name(
    report: *const jsec_fspe_report,
    index: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_metadata_name", || {
        check_out(out_len, "out_len")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let text = metadata_field(r, index)?.name;
        // SAFETY: `buf`/`len` and `out_len` as the contract states.
        unsafe { write_text(text, buf, len, out_len, "buf") }
    })
}

/// Copy the problem text of sensitive EXIF field `index` (why a field of a
/// selected class could not be transformed; "" when there is none) into the
/// caller's buffer `buf` of `len` bytes, NUL-terminated, and its length
/// without the NUL into `*out_len`.
///
/// When `len <= *out_len` nothing is written to `buf`, `*out_len` still
/// receives the length and the result is `JSEC_ERR_BUFFER_TOO_SMALL`; `buf`
/// may be NULL when `len` is 0. An index out of range, or NULL `report` or
/// `out_len`, is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe: the report is only read.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report`; `buf` is NULL or writable
/// for `len` bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_metadata_problem(
    report: *const jsec_fspe_report,
    index: usize,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> jsec_status {
    boundary("jsec_fspe_report_metadata_problem", || {
        check_out(out_len, "out_len")?;
        // SAFETY: `report` is NULL or a live handle by the contract.
        let r = unsafe { try_ref(report, "report") }?;
        let text = metadata_field(r, index)?.problem.as_deref().unwrap_or("");
        // SAFETY: `buf`/`len` and `out_len` as the contract states.
        unsafe { write_text(text, buf, len, out_len, "buf") }
    })
}

/// Free a report. NULL is a no-op. The handle must not be used afterwards.
/// It must not race with any other use of the same handle.
///
/// # Safety
///
/// `report` is NULL or a live `jsec_fspe_report` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_fspe_report_free(report: *mut jsec_fspe_report) {
    boundary("jsec_fspe_report_free", || {
        // SAFETY: `report` is NULL or a live handle given up by the caller.
        unsafe { free_box(report) }
    })
}
