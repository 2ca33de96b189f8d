//! Keyless transcoding, proved with OpenJPEG: `opj_decompress` of the
//! transcoded file gives exactly the samples `opj_decompress -r N -l L`
//! gives of the original, for every corpus J2K / JP2 file and several N
//! and L; and the result indexes to exactly the kept packets.

mod common;

use jsec::j2k::transcode::{transcode, TranscodeOptions};
use jsec::j2k::{J2kFile, PacketIndex};
use jsec::ErrorKind;
use std::path::Path;

#[test]
fn transcoded_files_decode_like_opj_reduce_and_layers() {
    if !common::have_tool("opj_decompress") {
        eprintln!("opj_decompress not found (libopenjp2-tools): skipped");
        return;
    }
    let files = common::j2k_corpus_files(false);
    if files.is_empty() {
        eprintln!("shared corpus not found: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut done, mut refused) = (0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let data = std::fs::read(path).unwrap();
        let f = J2kFile::parse(&data).unwrap();
        let cs = &f.codestream;
        let nl = cs.cod.style.levels;
        let layers = cs.cod.layers;
        let ext = path.extension().unwrap().to_string_lossy().to_string();
        // Every resolution reduction with all layers, every layer count
        // (at most 6 of them, spread) at full resolution, and mixes.
        let mut combos: Vec<(u8, Option<u16>)> = (0..=nl).map(|n| (n, None)).collect();
        let mut ls: Vec<u16> = vec![1, 2, 3, layers / 2, layers - 1, layers];
        ls.retain(|&l| l >= 1 && l <= layers);
        ls.sort();
        ls.dedup();
        combos.extend(ls.iter().map(|&l| (0, Some(l))));
        combos.push((nl / 2, Some(1)));
        combos.push((nl, Some(layers.div_ceil(2))));
        combos.sort();
        combos.dedup();
        for (n, l) in combos {
            if n > nl {
                continue;
            }
            let opts = TranscodeOptions {
                reduce: n,
                layers: l,
                tiles: None,
            };
            let out = match transcode(&data, &opts) {
                Ok(o) => o,
                Err(e)
                    if e.kind() == ErrorKind::InvalidArgument
                        || e.kind() == ErrorKind::Unsupported =>
                {
                    // Say why, and make sure it is a statement about the file.
                    eprintln!("{name} -r {n} -l {l:?}: refused: {e}");
                    refused += 1;
                    continue;
                }
                Err(e) => panic!("{name} -r {n} -l {l:?}: {e}"),
            };
            let t = dir.path().join(format!("t.{ext}"));
            std::fs::write(&t, &out).unwrap();
            let mut args = vec!["-r".to_string(), n.to_string()];
            if let Some(l) = l {
                args.extend(["-l".to_string(), l.to_string()]);
            }
            let want = common::opj_samples(dir.path(), "orig", path, &args);
            let got = common::opj_samples(dir.path(), "new", &t, &[]);
            assert!(
                got == want,
                "{name} -r {n} -l {l:?}: other samples than opj_decompress -r -l"
            );
            // Only the re-coded TLM / PLT can take a few more bytes.
            assert!(out.len() <= data.len() + 64, "{name}: grew");
            done += 1;
        }
    }
    eprintln!("{done} transcodes decode like opj_decompress -r/-l; {refused} refused");
    assert!(done >= 400, "only {done} transcodes checked");
}

#[test]
fn options_the_file_cannot_take_are_refused() {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/generated/j2k/tiny-7x9.j2k");
    let Ok(data) = std::fs::read(p) else {
        eprintln!("shared corpus not found: skipped");
        return;
    };
    let e = transcode(
        &data,
        &TranscodeOptions {
            reduce: 5,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("decomposition level"), "{e}");
    let e = transcode(
        &data,
        &TranscodeOptions {
            layers: Some(0),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.message().contains("at least one layer"), "{e}");
    let e = transcode(
        &data,
        &TranscodeOptions {
            tiles: Some(vec![3]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.message().contains("tile 3"), "{e}");
    // Nothing dropped: the same packets, SOP and EPH kept.
    let same = transcode(&data, &TranscodeOptions::default()).unwrap();
    let a = PacketIndex::build(&J2kFile::parse(&data).unwrap().codestream, &data).unwrap();
    let b = PacketIndex::build(&J2kFile::parse(&same).unwrap().codestream, &same).unwrap();
    assert_eq!(a.packets.len(), b.packets.len());
    assert!(b.packets.iter().all(|p| p.sop));
}

#[test]
fn tiles_can_be_kept_alone() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/generated/j2k/c1024-LRCP-t256-plt-tlm-tpR.j2k");
    let Ok(data) = std::fs::read(p) else {
        eprintln!("shared corpus not found: skipped");
        return;
    };
    let out = transcode(
        &data,
        &TranscodeOptions {
            tiles: Some(vec![0, 5]),
            ..Default::default()
        },
    )
    .unwrap();
    let f = J2kFile::parse(&out).unwrap();
    let ix = PacketIndex::build(&f.codestream, &out).unwrap();
    assert!(ix.packets.iter().all(|p| p.tile == 0 || p.tile == 5));
    assert_eq!(ix.absent_tiles.len() as u32, f.codestream.siz.tiles() - 2);
    assert!(out.len() < data.len() / 4);
}
