//! Helpers shared by the integration tests: a seeded RNG, corpus discovery,
//! test-image generation, PSNR, djpeg, and an independent reference JPEG
//! decoder/classifier (written from T.81, sharing no code with `jsec::jpeg`).
//!
//! Every test binary includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod exif;
pub mod refdec;

use std::path::{Path, PathBuf};
use std::process::Command;

use jsec::crypto::Key;
use jsec::fspe::{Cipher, Direction, Options};

// ---------------------------------------------------------------- RNG

/// xorshift64* — small, seeded, good enough to pick chunk sizes and flips.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 32) as u8
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

// ---------------------------------------------------------------- keys

/// Fail listing every collected failure, one per line, if there are any.
#[track_caller]
pub fn assert_no_failures(fails: &[String]) {
    assert!(
        fails.is_empty(),
        "{} failures:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

pub fn key(seed: u8) -> Key {
    let bytes: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(seed))
        .collect();
    Key::from_bytes(&bytes).expect("32-byte key")
}

pub fn cipher(seed: u8, options: Options) -> Cipher {
    Cipher::new(key(seed), options).expect("valid options")
}

// ---------------------------------------------------------------- samples

/// A named JPEG test input.
#[derive(Clone)]
pub struct Sample {
    pub name: String,
    pub data: Vec<u8>,
}

impl Sample {
    pub fn new(name: impl Into<String>, data: Vec<u8>) -> Sample {
        Sample {
            name: name.into(),
            data,
        }
    }
}

/// The shared corpus directory, or `None` (with a printed note).
pub fn corpus_root() -> Option<PathBuf> {
    let p = match std::env::var_os("JSEC_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    if p.join("real").is_dir() || p.join("generated").is_dir() || p.join("libjpeg-turbo").is_dir() {
        Some(p)
    } else {
        eprintln!(
            "note: corpus {} not found; corpus part of this test skipped",
            p.display()
        );
        None
    }
}

/// Every `.jpg`/`.jpeg` of real/, libjpeg-turbo/ and generated/jpeg/, sorted.
pub fn corpus_files() -> Vec<Sample> {
    let Some(root) = corpus_root() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in ["real", "libjpeg-turbo", "generated/jpeg"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for p in names {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if ext != "jpg" && ext != "jpeg" {
                continue;
            }
            let data = std::fs::read(&p).expect("read corpus file");
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            out.push(Sample::new(name, data));
        }
    }
    out
}

/// One corpus file by relative path (e.g. `real/DSCN0010.jpg`).
pub fn corpus_file(rel: &str) -> Option<Sample> {
    let root = corpus_root()?;
    match std::fs::read(root.join(rel)) {
        Ok(d) => Some(Sample::new(rel, d)),
        Err(_) => {
            eprintln!("note: corpus file {rel} missing; skipped");
            None
        }
    }
}

/// The SOF marker and sample precision of the first frame header (own
/// marker walk; `None` when there is none).
pub fn frame_type(data: &[u8]) -> Option<(u8, u8)> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return None;
    }
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let m = data[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC) {
            return data.get(i + 4).map(|&p| (m, p));
        }
        if m == 0xDA || m == 0xD9 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// Baseline / extended-sequential 8-bit Huffman, by its own header.
pub fn is_sequential_huffman(data: &[u8]) -> bool {
    matches!(frame_type(data), Some((0xC0 | 0xC1, 8)))
}

/// Corpus files jsec must handle: sequential Huffman 8-bit, and not one of
/// the deliberately broken `bad-*` files (except the one whose only flaw is
/// garbage after EOI).
pub fn corpus_baseline() -> Vec<Sample> {
    corpus_files()
        .into_iter()
        .filter(|s| is_sequential_huffman(&s.data))
        .filter(|s| !s.name.contains("/bad-") || s.name.contains("bad-trailing-garbage"))
        .collect()
}

/// Corpus files small enough for the slow reference classifier.
pub fn corpus_baseline_small(max_bytes: usize) -> Vec<Sample> {
    corpus_baseline()
        .into_iter()
        .filter(|s| s.data.len() <= max_bytes)
        .collect()
}

// ---------------------------------------------------------------- generation

/// Chroma layout of a generated image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    S444,
    S422,
    S420,
    S440,
    S411,
    Gray,
    Cmyk,
    Ycck,
}

/// A photo-like deterministic test picture: gradients, waves, edges, noise.
pub fn pixels(w: usize, h: usize, channels: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(w * h * channels);
    for y in 0..h {
        for x in 0..w {
            let fx = x as f64;
            let fy = y as f64;
            let wave = (fx * 0.11 + fy * 0.05).sin() * 60.0 + (fy * 0.21).cos() * 25.0;
            let edge = if ((x / 11) + (y / 7)) % 3 == 0 {
                50.0
            } else {
                -20.0
            };
            for c in 0..channels {
                let grad = (fx * (c as f64 + 1.0) * 0.7 + fy * 0.9) % 256.0;
                let noise = (rng.below(41) as f64) - 20.0;
                let v = 0.45 * grad + wave + edge * (c as f64 * 0.5 + 0.5) + noise + 70.0;
                out.push(v.clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

/// Encode a generated picture with jpeg-encoder.
pub fn generate(w: u16, h: u16, layout: Layout, quality: u8, restart: u16, seed: u64) -> Vec<u8> {
    generate_opt(w, h, layout, quality, restart, false, seed)
}

pub fn generate_opt(
    w: u16,
    h: u16,
    layout: Layout,
    quality: u8,
    restart: u16,
    optimize: bool,
    seed: u64,
) -> Vec<u8> {
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
    let (ct, ch) = match layout {
        Layout::Gray => (ColorType::Luma, 1),
        Layout::Cmyk => (ColorType::Cmyk, 4),
        Layout::Ycck => (ColorType::CmykAsYcck, 4),
        _ => (ColorType::Rgb, 3),
    };
    let px = pixels(w as usize, h as usize, ch, seed);
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, quality);
    let sf = match layout {
        Layout::S422 => SamplingFactor::F_2_1,
        Layout::S420 | Layout::Cmyk | Layout::Ycck => SamplingFactor::F_2_2,
        Layout::S440 => SamplingFactor::F_1_2,
        Layout::S411 => SamplingFactor::F_4_1,
        _ => SamplingFactor::F_1_1,
    };
    enc.set_sampling_factor(sf);
    enc.set_restart_interval(restart);
    enc.set_optimized_huffman_tables(optimize);
    enc.encode(&px, w, h, ct).expect("jpeg-encoder");
    out
}

/// The generated set every "all images" test runs over: every layout,
/// sizes that are and are not multiples of the MCU, 1x1 and 7x9, restart
/// intervals, optimized tables, extreme qualities.
pub fn generated_set() -> Vec<Sample> {
    let mut v = Vec::new();
    let mut add = |name: &str, data: Vec<u8>| v.push(Sample::new(format!("gen/{name}"), data));
    add("444-64x64-q85", generate(64, 64, Layout::S444, 85, 0, 1));
    add("422-96x80-q75", generate(96, 80, Layout::S422, 75, 0, 2));
    add("420-123x77-q80", generate(123, 77, Layout::S420, 80, 0, 3));
    add("440-70x66-q80", generate(70, 66, Layout::S440, 80, 0, 4));
    add("411-100x40-q80", generate(100, 40, Layout::S411, 80, 0, 5));
    add("gray-50x41-q90", generate(50, 41, Layout::Gray, 90, 0, 6));
    add("cmyk-40x24-q80", generate(40, 24, Layout::Cmyk, 80, 0, 7));
    add("ycck-33x17-q80", generate(33, 17, Layout::Ycck, 80, 0, 8));
    add("420-1x1-q75", generate(1, 1, Layout::S420, 75, 0, 9));
    add("gray-1x1-q75", generate(1, 1, Layout::Gray, 75, 0, 10));
    add("444-1x1-q100", generate(1, 1, Layout::S444, 100, 0, 11));
    add("420-7x9-q75", generate(7, 9, Layout::S420, 75, 0, 12));
    add("444-7x9-q95", generate(7, 9, Layout::S444, 95, 0, 13));
    add("422-17x33-q60", generate(17, 33, Layout::S422, 60, 0, 14));
    add("420-q100-96x64", generate(96, 64, Layout::S420, 100, 0, 15));
    add("420-q5-96x64", generate(96, 64, Layout::S420, 5, 0, 16));
    add("420-rst1-45x37", generate(45, 37, Layout::S420, 80, 1, 17));
    add("444-rst3-71x29", generate(71, 29, Layout::S444, 85, 3, 18));
    add("gray-rst2-33x33", generate(33, 33, Layout::Gray, 75, 2, 19));
    add("422-rst5-90x70", generate(90, 70, Layout::S422, 90, 5, 20));
    add("411-rst2-70x20", generate(70, 20, Layout::S411, 80, 2, 21));
    add("420-rst1-7x9", generate(7, 9, Layout::S420, 80, 1, 22));
    add(
        "420-opt-80x64",
        generate_opt(80, 64, Layout::S420, 80, 0, true, 23),
    );
    add(
        "gray-opt-rst3-64x40",
        generate_opt(64, 40, Layout::Gray, 95, 3, true, 24),
    );
    add(
        "420-256x192-q75",
        generate(256, 192, Layout::S420, 75, 0, 25),
    );
    v
}

/// A generated image with an EXIF-style APP1 segment holding a generated
/// thumbnail, and a second generated JPEG appended after EOI.
/// Returns (file, thumbnail offset, thumbnail, appended offset, appended).
pub fn with_embedded() -> (Vec<u8>, usize, Vec<u8>, usize, Vec<u8>) {
    let main = generate(160, 120, Layout::S420, 85, 0, 101);
    let thumb = generate(64, 48, Layout::S420, 90, 0, 102);
    let after = generate(96, 72, Layout::S444, 85, 0, 103);
    let (out, thumb_at, after_at) = embed(&main, TIFF_PREFIX, &thumb, b"tail", &after);
    (out, thumb_at, thumb, after_at, after)
}

/// APP1 "Exif\0\0" and a minimal big-endian TIFF header.
pub const TIFF_PREFIX: &[u8] = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0";

/// `main` with an APP1 segment right after its SOI holding `prefix`, the
/// JPEG `thumb` and `suffix`, and the JPEG `after` appended after its EOI.
/// Returns (file, offset of the thumbnail, offset of the appended JPEG).
pub fn embed(
    main: &[u8],
    prefix: &[u8],
    thumb: &[u8],
    suffix: &[u8],
    after: &[u8],
) -> (Vec<u8>, usize, usize) {
    let payload = [prefix, thumb, suffix].concat();
    let mut out = main[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    let thumb_at = out.len() + prefix.len();
    out.extend_from_slice(&payload);
    out.extend_from_slice(&main[2..]);
    let after_at = out.len();
    out.extend_from_slice(after);
    (out, thumb_at, after_at)
}

// ---------------------------------------------------------------- pixels

/// Decode with jpeg-decoder: (width, height, pixels).
pub fn decode_pixels(data: &[u8]) -> Result<(u16, u16, Vec<u8>), String> {
    let mut d = jpeg_decoder::Decoder::new(data);
    let px = d.decode().map_err(|e| e.to_string())?;
    let info = d.info().ok_or("no info")?;
    Ok((info.width, info.height, px))
}

/// Standard deviation of the samples (flat pictures cannot be destroyed
/// by FSPE: their coefficients have no additional bits).
pub fn std_dev(a: &[u8]) -> f64 {
    let n = a.len().max(1) as f64;
    let m = a.iter().map(|&x| x as f64).sum::<f64>() / n;
    (a.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n).sqrt()
}

/// PSNR in dB between two equally long sample arrays.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len(), "psnr of different sizes");
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = x as f64 - y as f64;
            d * d
        })
        .sum::<f64>()
        / a.len().max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

// ---------------------------------------------------------------- djpeg

/// Is djpeg installed? Prints a note once per call site when not.
pub fn djpeg_available() -> bool {
    let ok = Command::new("djpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success() || !o.stderr.is_empty())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: djpeg not installed; libjpeg decode check skipped");
    }
    ok
}

/// Decode `data` with `djpeg -outfile /dev/null`; Err(status + stderr) unless
/// exit 0 and empty stderr.
pub fn djpeg_clean(data: &[u8], tag: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let p = dir.path().join(format!("{}.jpg", tag.replace('/', "_")));
    std::fs::write(&p, data).map_err(|e| e.to_string())?;
    let o = Command::new("djpeg")
        .arg("-outfile")
        .arg("/dev/null")
        .arg(&p)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() && o.stderr.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "djpeg exit {:?}, stderr: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

// ---------------------------------------------------------------- streams

/// Run `cipher`'s two-pass stream API over `data`, feeding chunks of random
/// sizes 1..=max_chunk and draining the output with a random mix of
/// `update` and `write` + `read`. Returns the output (must equal the
/// in-place result). With a caller nonce in the options the stream gets no
/// seed (`None`); otherwise the seed of a digest pass.
pub fn run_stream(
    cipher: &Cipher,
    dir: Direction,
    data: &[u8],
    rng: &mut Rng,
    max_chunk: usize,
) -> jsec::Result<Vec<u8>> {
    let seed = if cipher.options().nonce.is_some() {
        None
    } else {
        let mut d = cipher.digest_stream();
        let mut sink = Vec::new();
        let mut i = 0;
        while i < data.len() {
            let n = rng.range(1, max_chunk).min(data.len() - i);
            d.update(&data[i..i + n], &mut sink)?;
            i += n;
        }
        d.finish()?;
        let mut rest = vec![0u8; d.available()];
        let k = d.read(&mut rest);
        sink.extend_from_slice(&rest[..k]);
        assert_eq!(
            sink, data,
            "a digest stream must output its input unchanged"
        );
        Some(d.seed().expect("seed after finish"))
    };
    let mut s = cipher.stream(dir, seed)?;
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let n = rng.range(1, max_chunk).min(data.len() - i);
        if rng.below(2) == 0 {
            s.update(&data[i..i + n], &mut out)?;
        } else {
            s.write(&data[i..i + n])?;
            let mut buf = vec![0u8; rng.range(1, 2 * max_chunk)];
            loop {
                let k = s.read(&mut buf);
                out.extend_from_slice(&buf[..k]);
                if k < buf.len() {
                    break;
                }
            }
        }
        i += n;
    }
    s.finish()?;
    let mut rest = vec![0u8; s.available()];
    let k = s.read(&mut rest);
    out.extend_from_slice(&rest[..k]);
    Ok(out)
}

/// Count of differing bits.
pub fn bit_diff(a: &[u8], b: &[u8]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x ^ y).count_ones() as u64)
        .sum()
}

/// Every image block (not the padding of partial MCUs) of every component
/// holds the same coefficients in `a` and `b`.
#[allow(dead_code)]
pub fn assert_same_image_blocks(
    a: &jsec::jpeg::Coefficients,
    b: &jsec::jpeg::Coefficients,
    what: &str,
) {
    assert_eq!(a.frame.components.len(), b.frame.components.len(), "{what}");
    for (c, fc) in a.frame.components.iter().enumerate() {
        for by in 0..fc.blocks_h {
            for bx in 0..fc.blocks_w {
                assert_eq!(
                    a.components[c].block(bx, by),
                    b.components[c].block(bx, by),
                    "{what}: component {c} block ({bx}, {by})"
                );
            }
        }
    }
}

/// True when the command-line tool `tool` (a libjpeg-turbo program) runs.
#[allow(dead_code)]
pub fn have_tool(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// `jpegtran -crop WxH+X+Y` of `jpeg` (the rectangle as `(x, y, w, h)`).
#[allow(dead_code)]
pub fn jpegtran_crop(jpeg: &[u8], (x, y, w, h): (u32, u32, u32, u32)) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (i, o) = (dir.path().join("i.jpg"), dir.path().join("o.jpg"));
    std::fs::write(&i, jpeg).unwrap();
    let st = std::process::Command::new("jpegtran")
        .args(["-crop", &format!("{w}x{h}+{x}+{y}"), "-outfile"])
        .arg(&o)
        .arg(&i)
        .status()
        .unwrap();
    assert!(st.success(), "jpegtran -crop {w}x{h}+{x}+{y} failed");
    std::fs::read(o).unwrap()
}

/// The J2K / JP2 / J2C files of the shared corpus (`j2k-conformance`,
/// `generated/j2k`), sorted; the deliberately damaged `bad-*` ones only
/// when `with_bad`. Empty when the corpus is absent.
pub fn j2k_corpus_files(with_bad: bool) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut v = Vec::new();
    for dir in ["j2k-conformance", "generated/j2k"] {
        for e in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = e.path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            let bad = p.file_name().unwrap().to_string_lossy().starts_with("bad-");
            if matches!(ext, "j2k" | "jp2" | "j2c") && (with_bad || !bad) {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

/// `opj_decompress` of the file `input` with `args`: the samples of every
/// component (one PGX file each, any sub-sampling and depth), concatenated.
/// Works in a sub-folder `tag` of `work`, removed afterwards.
pub fn opj_samples(
    work: &std::path::Path,
    tag: &str,
    input: &std::path::Path,
    args: &[String],
) -> Vec<u8> {
    let sub = work.join(tag);
    std::fs::create_dir_all(&sub).unwrap();
    let o = std::process::Command::new("opj_decompress")
        .arg("-i")
        .arg(input)
        .arg("-o")
        .arg(sub.join("out.pgx"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{tag}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&sub)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pgx"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{tag}: opj_decompress wrote nothing");
    let v = files
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    std::fs::remove_dir_all(&sub).unwrap();
    v
}
