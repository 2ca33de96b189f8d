//! `jsec j2k index` (the packet index of a JPEG 2000 file) and `jsec j2k
//! transcode` (keyless resolution / layer / tile reduction).

use std::fmt::Write as _;
use std::process::ExitCode;

use jsec::j2k::{J2kFile, PacketIndex};

use crate::args::{J2kIndexArgs, J2kTranscodeArgs};
use crate::fsio::{self, Failure};
use crate::json::Json;

pub fn index(a: &J2kIndexArgs) -> Result<ExitCode, Failure> {
    let data = fsio::read_input(&a.input)?;
    let f = J2kFile::parse(&data).map_err(|e| Failure::at(&a.input, e))?;
    let cs = &f.codestream;
    let ix = PacketIndex::build(cs, &data).map_err(|e| Failure::at(&a.input, e))?;
    let missing: u64 = ix.missing.iter().sum();
    if a.json {
        let packets = ix
            .packets
            .iter()
            .map(|p| {
                Json::Object(vec![
                    ("tile", Json::UInt(p.tile.into())),
                    ("tile_part", Json::UInt(p.tile_part as u64)),
                    ("layer", Json::UInt(p.id.layer.into())),
                    ("resolution", Json::UInt(p.id.resolution.into())),
                    ("component", Json::UInt(p.id.component.into())),
                    ("precinct", Json::UInt(p.id.precinct.into())),
                    ("seq", Json::UInt(p.seq.into())),
                    ("offset", Json::UInt(p.offset as u64)),
                    ("length", Json::UInt(p.length as u64)),
                    ("header_length", Json::UInt(p.header_length as u64)),
                    (
                        "packed_header_length",
                        Json::UInt(p.packed_header_length as u64),
                    ),
                    ("body_offset", Json::UInt(p.body_offset as u64)),
                    ("body_length", Json::UInt(p.body_length as u64)),
                    ("sop", Json::Bool(p.sop)),
                    ("code_blocks", Json::UInt(p.contributions.len() as u64)),
                ])
            })
            .collect();
        let j = Json::Object(vec![
            ("file", Json::str(a.input.display().to_string())),
            (
                "format",
                Json::str(if f.boxes.is_some() { "jp2" } else { "j2k" }),
            ),
            ("width", Json::UInt((cs.siz.width - cs.siz.x0).into())),
            ("height", Json::UInt((cs.siz.height - cs.siz.y0).into())),
            ("components", Json::UInt(cs.siz.components.len() as u64)),
            ("tiles", Json::UInt(cs.siz.tiles().into())),
            ("tile_parts", Json::UInt(cs.tile_parts.len() as u64)),
            ("progression", Json::str(cs.cod.progression.name())),
            ("layers", Json::UInt(cs.cod.layers.into())),
            ("missing_packets", Json::UInt(missing)),
            ("packets", Json::Array(packets)),
        ]);
        crate::out::write(&j.to_pretty());
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} {}x{}, {} component(s), {} tile(s) in {} tile-part(s), {} {} layer(s): {} packets{}",
        a.input.display(),
        if f.boxes.is_some() { "JP2" } else { "J2K" },
        cs.siz.width - cs.siz.x0,
        cs.siz.height - cs.siz.y0,
        cs.siz.components.len(),
        cs.siz.tiles(),
        cs.tile_parts.len(),
        cs.cod.progression.name(),
        cs.cod.layers,
        ix.packets.len(),
        if missing > 0 {
            format!(" ({missing} declared packets absent: the stream ends early)")
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "{:>5} {:>6} {:>3} {:>3} {:>4} {:>7} {:>10} {:>8} {:>7} {:>10} {:>8}",
        "tile", "seq", "L", "R", "C", "prec", "offset", "length", "header", "body_off", "body_len"
    );
    for p in &ix.packets {
        let _ = writeln!(
            s,
            "{:>5} {:>6} {:>3} {:>3} {:>4} {:>7} {:>10} {:>8} {:>7} {:>10} {:>8}",
            p.tile,
            p.seq,
            p.id.layer,
            p.id.resolution,
            p.id.component,
            p.id.precinct,
            p.offset,
            p.length,
            p.header_length + p.packed_header_length,
            p.body_offset,
            p.body_length
        );
    }
    crate::out::write(&s);
    Ok(ExitCode::SUCCESS)
}

pub fn transcode(a: &J2kTranscodeArgs) -> Result<ExitCode, Failure> {
    let data = fsio::read_input(&a.input)?;
    let opts = jsec::j2k::transcode::TranscodeOptions {
        reduce: a.reduce,
        layers: a.layers,
        tiles: a.tiles.clone(),
    };
    let out =
        jsec::jpsec::transcode::transcode(&data, &opts).map_err(|e| Failure::at(&a.input, e))?;
    fsio::write_atomic(&a.output, &out)?;
    Ok(ExitCode::SUCCESS)
}
