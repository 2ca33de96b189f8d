//! `jsec info`: structure and encryptable-bit statistics, as text or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jsec::fspe::{self, ImageReport, Location, MetadataField, Report, Sensitivity};
use jsec::jpeg::marker;
use jsec::ErrorKind;

use crate::args::InfoArgs;
use crate::commands::EXIT_FAILURE;
use crate::fsio::{self, Failure};
use crate::json::Json;
use crate::out;

/// The JSON schema version of `jsec info --json` (bumped on incompatible changes).
pub const SCHEMA: u64 = 1;

/// Frame facts read from an image's header segments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FrameFacts {
    /// The SOFn marker byte.
    marker: u8,
    /// Sample precision in bits.
    precision: u8,
}

/// What `info` found for one file.
enum FileInfo {
    Ok {
        size: u64,
        report: Report,
        frames: Vec<Option<FrameFacts>>,
        identifiers: Vec<Option<String>>,
    },
    Failed {
        size: Option<u64>,
        kind: &'static str,
        message: String,
        offset: Option<u64>,
    },
}

/// Run `jsec info`.
pub fn run(a: &InfoArgs) -> Result<ExitCode, Failure> {
    let (files, _) = fsio::expand_inputs(&a.files)?;
    if files.is_empty() {
        return Err(Failure::usage("no input files"));
    }
    let mut failed = false;
    let mut entries = Vec::with_capacity(files.len());
    let mut printed = false;
    for path in &files {
        let fi = examine(path);
        if let FileInfo::Failed {
            message, offset, ..
        } = &fi
        {
            failed = true;
            let at = offset.map_or(String::new(), |o| format!(" (at byte offset {o})"));
            eprintln!("jsec: {}: {message}{at}", path.display());
        }
        if a.json {
            entries.push(file_json(path, &fi));
        } else if let FileInfo::Ok { .. } = fi {
            if printed {
                outln!("");
            }
            out::write(&file_text(path, &fi));
            printed = true;
        }
    }
    if a.json {
        let doc = Json::Object(vec![
            ("schema", Json::UInt(SCHEMA)),
            ("jsec_version", Json::str(jsec::VERSION)),
            ("files", Json::Array(entries)),
        ]);
        out::write(&doc.to_pretty());
    }
    Ok(if failed {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

fn kind_name(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::InvalidArgument => "invalid_argument",
        ErrorKind::Malformed => "malformed",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::BufferTooSmall => "buffer_too_small",
        ErrorKind::Io => "io",
        ErrorKind::BadKey => "bad_key",
        ErrorKind::VerificationFailed => "verification_failed",
        ErrorKind::InvalidState => "invalid_state",
        ErrorKind::Internal => "internal",
        ErrorKind::Callback => "callback",
    }
}

fn examine(path: &Path) -> FileInfo {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            return FileInfo::Failed {
                size: None,
                kind: "io",
                message: fsio::io_message(&e),
                offset: None,
            }
        }
    };
    match fspe::inspect(&data) {
        Ok(report) => {
            let frames = report
                .images
                .iter()
                .map(|im| frame_facts(&data, im.offset))
                .collect();
            let identifiers = report
                .images
                .iter()
                .map(|im| match im.location {
                    Location::InSegment { segment, .. } => segment_identifier(&data, segment),
                    _ => None,
                })
                .collect();
            FileInfo::Ok {
                size: data.len() as u64,
                report,
                frames,
                identifiers,
            }
        }
        Err(e) => FileInfo::Failed {
            size: Some(data.len() as u64),
            kind: kind_name(e.kind()),
            message: e.message().to_string(),
            offset: e.offset(),
        },
    }
}

/// Find the SOFn segment among the header segments of the image whose SOI
/// is at `start` (stops at the first SOS or EOI). The image's reported end
/// is not used as a bound: for an image that could not be processed it is
/// where processing stopped, which may be the SOFn marker itself.
fn frame_facts(data: &[u8], start: u64) -> Option<FrameFacts> {
    let end = data.len();
    let mut i = usize::try_from(start).ok()?.checked_add(2)?;
    while i + 1 < end {
        if data[i] != 0xFF {
            return None;
        }
        let m = data[i + 1];
        if m == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker::is_sof(m) {
            return Some(FrameFacts {
                marker: m,
                precision: *data.get(i + 4)?,
            });
        }
        if m == marker::SOS || m == marker::EOI {
            return None;
        }
        if marker::is_rst(m) || m == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([*data.get(i + 2)?, *data.get(i + 3)?]) as usize;
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// The identifier at the start of an APPn payload ("Exif", "MPF",
/// "Photoshop 3.0" …): printable ASCII up to the first NUL, at most 24 bytes.
fn segment_identifier(data: &[u8], segment: u64) -> Option<String> {
    let start = usize::try_from(segment).ok()?.checked_add(4)?;
    let payload = data.get(start..)?;
    let n = payload.iter().take(24).position(|&b| b == 0)?;
    let id = &payload[..n];
    if !id.is_empty() && id.iter().all(|b| (0x20..0x7f).contains(b)) {
        Some(String::from_utf8_lossy(id).into_owned())
    } else {
        None
    }
}

/// "4:2:0", "4:4:4", "gray" … or the raw factors when unusual.
fn subsampling(sampling: &[(u8, u8, u8)]) -> String {
    match sampling {
        [] => String::new(),
        [_] => "gray".into(),
        [(_, h0, v0), rest @ ..] => {
            let (_, h1, v1) = rest[0];
            let uniform = rest.iter().all(|&(_, h, v)| h == h1 && v == v1);
            let named = if uniform && h1 > 0 && v1 > 0 && h0 % h1 == 0 && v0 % v1 == 0 {
                match (h0 / h1, v0 / v1) {
                    (1, 1) => Some("4:4:4"),
                    (2, 1) => Some("4:2:2"),
                    (2, 2) => Some("4:2:0"),
                    (1, 2) => Some("4:4:0"),
                    (4, 1) => Some("4:1:1"),
                    (4, 2) => Some("4:1:0"),
                    _ => None,
                }
            } else {
                None
            };
            match named {
                Some(n) => n.into(),
                None => sampling
                    .iter()
                    .map(|&(_, h, v)| format!("{h}x{v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            }
        }
    }
}

fn pct(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

fn location_text(im: &ImageReport, ident: &Option<String>) -> String {
    match im.location {
        Location::Primary => "primary".into(),
        Location::InSegment { marker: m, segment } => {
            let id = ident
                .as_ref()
                .map_or(String::new(), |s| format!(" \"{s}\""));
            format!(
                "embedded in {}{id} segment at offset {segment}",
                marker::name(m)
            )
        }
        Location::AfterEoi => "embedded after the primary image's EOI".into(),
    }
}

fn file_text(path: &Path, fi: &FileInfo) -> String {
    let FileInfo::Ok {
        size,
        report,
        frames,
        identifiers,
    } = fi
    else {
        return String::new();
    };
    let mut s = format!(
        "{}: {size} bytes, {} image(s)\n",
        path.display(),
        report.images.len()
    );
    for (i, im) in report.images.iter().enumerate() {
        s += &format!(
            "  image {i} ({}): offset {}, {} bytes\n",
            location_text(im, &identifiers[i]),
            im.offset,
            im.end.saturating_sub(im.offset)
        );
        match &frames[i] {
            Some(f) => {
                s += &format!(
                    "    frame: {}, {}-bit, {}x{}\n",
                    marker::name(f.marker),
                    f.precision,
                    im.width,
                    im.height
                )
            }
            None => s += "    frame: no frame header found\n",
        }
        if !im.sampling.is_empty() {
            let comps: Vec<String> = im
                .sampling
                .iter()
                .map(|(id, h, v)| format!("id {id} {h}x{v}"))
                .collect();
            s += &format!(
                "    components: {} ({}): {}\n",
                im.sampling.len(),
                subsampling(&im.sampling),
                comps.join(", ")
            );
        }
        let ri = if im.restart_interval == 0 {
            "none".to_string()
        } else {
            format!("{} MCUs", im.restart_interval)
        };
        s += &format!("    scans: {}, restart interval: {ri}\n", im.scans);
        let st = &im.stats;
        s += &format!(
            "    additional bits: {}, eligible paper: {} ({:.1} %), eligible full: {} ({:.1} %)\n",
            st.additional,
            st.eligible_paper,
            pct(st.eligible_paper, st.additional),
            st.eligible_full,
            pct(st.eligible_full, st.additional)
        );
        match &im.problem {
            None => s += "    encryptable: yes\n",
            Some(p) => s += &format!("    encryptable: no: {p}\n"),
        }
    }
    s += &format!("  trailing bytes: {}\n", report.trailing_bytes);
    s += &metadata_text(&report.metadata);
    if report.warnings.is_empty() {
        s += "  warnings: none\n";
    } else {
        s += &format!("  warnings: {}\n", report.warnings.len());
        for (off, msg) in &report.warnings {
            s += &format!("    at byte offset {off}: {msg}\n");
        }
    }
    s
}

/// The sensitive EXIF fields, grouped by class (`--exif` names).
fn metadata_text(fields: &[MetadataField]) -> String {
    if fields.is_empty() {
        return "  sensitive EXIF: none\n".to_string();
    }
    let mut s = format!(
        "  sensitive EXIF: {} field{} (jsec encrypt --exif=CLASS,... enciphers them)\n",
        fields.len(),
        if fields.len() == 1 { "" } else { "s" }
    );
    for class in [
        Sensitivity::Location,
        Sensitivity::Identity,
        Sensitivity::Time,
    ] {
        // Each name once, in the order found (thumbnails repeat tags).
        let mut names: Vec<&str> = Vec::new();
        for f in fields.iter().filter(|f| f.sensitivity == class) {
            if !names.contains(&f.name) {
                names.push(f.name);
            }
        }
        if !names.is_empty() {
            s += &format!("    {}: {}\n", class.name(), names.join(", "));
        }
    }
    s
}

fn metadata_json(fields: &[MetadataField]) -> Json {
    Json::Array(
        fields
            .iter()
            .map(|f| {
                Json::Object(vec![
                    ("class", Json::str(f.sensitivity.name())),
                    ("ifd", Json::str(f.ifd.name())),
                    ("tag", Json::UInt(f.tag as u64)),
                    ("name", Json::str(f.name)),
                    ("segment", Json::UInt(f.segment)),
                    ("offset", Json::UInt(f.offset)),
                    ("length", Json::UInt(f.len as u64)),
                ])
            })
            .collect(),
    )
}

fn image_json(
    i: usize,
    im: &ImageReport,
    frame: &Option<FrameFacts>,
    ident: &Option<String>,
) -> Json {
    let (location, segment) = match im.location {
        Location::Primary => ("primary", Json::Null),
        Location::InSegment { marker: m, segment } => (
            "segment",
            Json::Object(vec![
                ("marker", Json::str(marker::name(m))),
                ("offset", Json::UInt(segment)),
                ("identifier", Json::opt(ident.clone())),
            ]),
        ),
        Location::AfterEoi => ("after-eoi", Json::Null),
    };
    let st = &im.stats;
    Json::Object(vec![
        ("index", Json::UInt(i as u64)),
        ("location", Json::str(location)),
        ("segment", segment),
        ("offset", Json::UInt(im.offset)),
        ("end", Json::UInt(im.end)),
        ("size", Json::UInt(im.end.saturating_sub(im.offset))),
        (
            "frame",
            Json::opt(frame.as_ref().map(|f| marker::name(f.marker))),
        ),
        (
            "precision",
            Json::opt(frame.as_ref().map(|f| u32::from(f.precision))),
        ),
        ("width", Json::from(im.width)),
        ("height", Json::from(im.height)),
        (
            "components",
            Json::Array(
                im.sampling
                    .iter()
                    .map(|&(id, h, v)| {
                        Json::Object(vec![
                            ("id", Json::from(u32::from(id))),
                            ("h", Json::from(u32::from(h))),
                            ("v", Json::from(u32::from(v))),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("subsampling", Json::str(subsampling(&im.sampling))),
        ("scans", Json::from(im.scans)),
        (
            "restart_interval",
            Json::from(u32::from(im.restart_interval)),
        ),
        (
            "bits",
            Json::Object(vec![
                ("additional", Json::UInt(st.additional)),
                ("eligible_paper", Json::UInt(st.eligible_paper)),
                (
                    "eligible_paper_pct",
                    Json::Fixed2(pct(st.eligible_paper, st.additional)),
                ),
                ("eligible_full", Json::UInt(st.eligible_full)),
                (
                    "eligible_full_pct",
                    Json::Fixed2(pct(st.eligible_full, st.additional)),
                ),
            ]),
        ),
        ("encryptable", Json::Bool(im.problem.is_none())),
        ("problem", Json::opt(im.problem.clone())),
    ])
}

fn file_json(path: &Path, fi: &FileInfo) -> Json {
    let name = Json::str(path_string(path));
    match fi {
        FileInfo::Ok {
            size,
            report,
            frames,
            identifiers,
        } => Json::Object(vec![
            ("file", name),
            ("ok", Json::Bool(true)),
            ("size", Json::UInt(*size)),
            (
                "images",
                Json::Array(
                    report
                        .images
                        .iter()
                        .enumerate()
                        .map(|(i, im)| image_json(i, im, &frames[i], &identifiers[i]))
                        .collect(),
                ),
            ),
            ("trailing_bytes", Json::UInt(report.trailing_bytes)),
            ("sensitive_exif", metadata_json(&report.metadata)),
            (
                "warnings",
                Json::Array(
                    report
                        .warnings
                        .iter()
                        .map(|(o, m)| {
                            Json::Object(vec![
                                ("offset", Json::UInt(*o)),
                                ("message", Json::str(m.clone())),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]),
        FileInfo::Failed {
            size,
            kind,
            message,
            offset,
        } => Json::Object(vec![
            ("file", name),
            ("ok", Json::Bool(false)),
            ("size", Json::opt(*size)),
            (
                "error",
                Json::Object(vec![
                    ("kind", Json::str(*kind)),
                    ("message", Json::str(message.clone())),
                    ("offset", Json::opt(*offset)),
                ]),
            ),
        ]),
    }
}

fn path_string(p: &Path) -> String {
    PathBuf::from(p).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsampling_names() {
        assert_eq!(subsampling(&[(1, 2, 2), (2, 1, 1), (3, 1, 1)]), "4:2:0");
        assert_eq!(subsampling(&[(1, 1, 1), (2, 1, 1), (3, 1, 1)]), "4:4:4");
        assert_eq!(subsampling(&[(1, 2, 1), (2, 1, 1), (3, 1, 1)]), "4:2:2");
        assert_eq!(subsampling(&[(1, 1, 1)]), "gray");
        assert_eq!(
            subsampling(&[(1, 2, 2), (2, 1, 1), (3, 2, 1)]),
            "2x2,1x1,2x1"
        );
    }

    #[test]
    fn frame_and_identifier() {
        // SOI, APP1 "Exif\0\0" (len 8), SOF0 with precision 8.
        let mut d = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 8, b'E', b'x', b'i', b'f', 0, 0];
        d.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        let f = frame_facts(&d, 0).unwrap();
        assert_eq!((f.marker, f.precision), (0xC0, 8));
        assert_eq!(segment_identifier(&d, 2).as_deref(), Some("Exif"));
        assert!(frame_facts(&d[..6], 0).is_none());
    }
}
