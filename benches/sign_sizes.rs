//! Size study of croppable signatures (Perazzo et al., "JPEGs Just Got
//! Snipped", Figs. 3-5): for granularity g = 1..8 and three photos, how
//! many bytes a signature adds to the full image and to a crop of its
//! top-left quarter, for three schemes:
//!
//! * `compact`: jsec's compact profile (one long-term BLS key; full image =
//!   summed-area table of 48-byte cell signatures, crop = one 48-byte
//!   aggregate in a 140-byte record);
//! * `paper`: jsec's paper profile (an ephemeral BLS key per image,
//!   certified by a long-term ECDSA P-256 signature);
//! * `johnson`: the baseline without aggregation (Johnson et al.): one
//!   ECDSA P-256 signature per cell message plus one over a header, all of
//!   them kept in full images and the kept cells' ones in crops. Its record
//!   (bench-only, not a jsec format) mirrors the compact one: the same
//!   76-byte common part (profile byte 0x80), the cell counts (full) or the
//!   crop origin and counts (crop), the 64-byte header signature, then
//!   64 bytes per cell in raster order; it is stored in the same COM
//!   container, so every scheme pays the same container overhead.
//!
//! The crop is the largest cell-aligned rectangle at (0, 0) no wider than
//! W/2 and no taller than H/2; the unsigned crop (to which the crops'
//! overhead is relative) is jsec's own lossless crop of the unsigned file,
//! which is what `jsec::sign::crop_jpeg` does to the image data. Every
//! signed file is verified (compact, paper: `verify_jpeg`; johnson: every
//! ECDSA signature), and every overhead is checked to be exactly the record
//! plus its COM segments.
//!
//! Images: the corpus's 1024x768 4:2:0 q95 file (237 kB), and two 1920x1080
//! files made at run time in a temporary directory from the corpus photo
//! `real/iphone_hdr_NO.jpg` with ImageMagick `convert` and libjpeg-turbo
//! `cjpeg` (~1 MB: 4:2:0 q98; ~5 MB: Gaussian noise, 4:4:4 q100); the
//! commands and each input's SHA-256 are printed. The corpus is
//! `$JSEC_CORPUS` or `../shared/corpus`; a missing corpus file or tool
//! skips the image with a message. No network is used.
//!
//! `cargo bench --bench sign_sizes` writes `docs/results/sign-sizes.csv`
//! and `docs/results/sign-sizes.svg` (only when all three images were
//! measured) and prints a Markdown summary on stdout; progress goes to
//! stderr. Without `--bench` (as `cargo test --all-targets` runs it) it
//! makes a quick check instead: one image at g = 4, every scheme signed,
//! cropped and verified, the CSV and SVG built but not written.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use jsec::crypto::bls::BlsSecretKey;
use jsec::crypto::longterm::{LongTermPublic, LongTermSecret};
use jsec::jpeg::marker::header_segments;
use jsec::jpeg::{decode_coefficients, Coefficients};
use jsec::sign::{self, cell_message, container, CellGrid, SignOptions};
use sha2::{Digest, Sha256};

#[allow(dead_code)]
#[path = "../src/bin/jsec/scene.rs"]
mod scene;

type Res<T> = Result<T, Box<dyn Error>>;

/// Granularities measured.
const GRANULARITIES: std::ops::RangeInclusive<u32> = 1..=8;
/// The schemes, in table and legend order.
const SCHEMES: [&str; 3] = ["compact", "paper", "johnson"];
/// Profile byte of the johnson baseline's record (not a jsec profile).
const JOHNSON_PROFILE: u8 = 0x80;
/// Kind bytes of a record (as in jsec's records).
const KIND_FULL: u8 = 1;
const KIND_CROPPED: u8 = 2;
/// Type byte of a header message (docs/sign-format.md section 5).
const MSG_HEADER: u8 = 0x02;
/// ECDSA P-256 signature, `r || s`.
const ECDSA_LEN: usize = 64;

/// One image to measure.
struct Input {
    /// Short name (CSV `image` column).
    name: String,
    /// What it is and how it was made (stderr and the SVG panel title).
    label: String,
    jpeg: Vec<u8>,
}

/// One CSV row: one image, one granularity, one scheme.
#[derive(Debug, Clone)]
struct Row {
    image: String,
    width: u32,
    height: u32,
    sampling: String,
    bytes_original: usize,
    g: u32,
    cell_w: u32,
    cell_h: u32,
    cells: u64,
    scheme: &'static str,
    full_bytes: usize,
    crop_w: u32,
    crop_h: u32,
    crop_cells: u64,
    crop_original_bytes: usize,
    crop_bytes: usize,
}

impl Row {
    fn full_overhead(&self) -> usize {
        self.full_bytes - self.bytes_original
    }

    fn crop_overhead(&self) -> usize {
        self.crop_bytes - self.crop_original_bytes
    }
}

fn main() -> ExitCode {
    let full_run = std::env::args().any(|a| a == "--bench");
    let result = if full_run { bench() } else { quick() };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sign_sizes: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The shared test corpus: `$JSEC_CORPUS`, else `../shared/corpus` next to
/// the repository (as the integration tests look for it).
fn corpus() -> PathBuf {
    std::env::var_os("JSEC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// Quick check for `cargo test`: one image (the corpus's 1024x768 file, or
/// a generated one when the corpus is absent), g = 4, every scheme.
fn quick() -> Res<()> {
    let path = corpus().join("generated/jpeg/c1024-q95-420.jpg");
    let input = match std::fs::read(&path) {
        Ok(jpeg) => Input {
            name: "c1024-q95-420".into(),
            label: "1024x768 4:2:0 q95".into(),
            jpeg,
        },
        Err(_) => {
            eprintln!(
                "sign_sizes: note: {} not present; quick check on a generated image",
                path.display()
            );
            let img = scene::landscape(1024, 768);
            let mut jpeg = Vec::new();
            let mut enc = jpeg_encoder::Encoder::new(&mut jpeg, 85);
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
            enc.encode(&img.pixels, 1024, 768, jpeg_encoder::ColorType::Rgb)?;
            Input {
                name: "generated-1024x768".into(),
                label: "generated 1024x768 4:2:0 q85".into(),
                jpeg,
            }
        }
    };
    let keys = Keys::new()?;
    let rows = measure(&input, 4..=4, &keys)?;
    let csv = to_csv(&rows);
    let svg = to_svg(&rows, std::slice::from_ref(&input));
    if rows.len() != SCHEMES.len() || !svg.ends_with("</svg>\n") || csv.lines().count() != 4 {
        return Err("quick check: unexpected table".into());
    }
    eprintln!(
        "sign_sizes: quick check passed (run `cargo bench --bench sign_sizes` for the study)"
    );
    Ok(())
}

/// The full study: three images, g = 1..8, results written to docs/results.
fn bench() -> Res<()> {
    let start = Instant::now();
    eprintln!("sign_sizes: {} threads", threads());
    let tmp = tempfile::tempdir()?;
    let inputs = inputs(tmp.path());
    let keys = Keys::new()?;
    let mut rows = Vec::new();
    for input in &inputs {
        rows.extend(measure(input, GRANULARITIES, &keys)?);
    }
    print!("{}", to_markdown(&rows));
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/results");
    if inputs.len() == 3 {
        std::fs::create_dir_all(&out_dir)?;
        let csv_path = out_dir.join("sign-sizes.csv");
        let svg_path = out_dir.join("sign-sizes.svg");
        std::fs::write(&csv_path, to_csv(&rows))?;
        std::fs::write(&svg_path, to_svg(&rows, &inputs))?;
        eprintln!(
            "sign_sizes: wrote {} and {}",
            csv_path.display(),
            svg_path.display()
        );
    } else {
        eprintln!(
            "sign_sizes: only {} of the 3 images could be made; {} left unchanged",
            inputs.len(),
            out_dir.display()
        );
    }
    eprintln!("sign_sizes: done in {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// The three images; any that cannot be read or made is skipped with a
/// message saying why.
fn inputs(tmp: &Path) -> Vec<Input> {
    let mut v = Vec::new();
    let root = corpus();
    let small = root.join("generated/jpeg/c1024-q95-420.jpg");
    match std::fs::read(&small) {
        Ok(jpeg) => v.push(Input {
            name: "c1024-q95-420".into(),
            label: "1024x768 4:2:0 q95".into(),
            jpeg,
        }),
        Err(e) => eprintln!(
            "sign_sizes: skipping the 1024x768 image: cannot read {}: {e}",
            small.display()
        ),
    }
    let photo = root.join("real/iphone_hdr_NO.jpg");
    if !photo.is_file() {
        eprintln!(
            "sign_sizes: skipping the two 1920x1080 images: {} not present",
            photo.display()
        );
        return v;
    }
    match make_1080p(&photo, tmp) {
        Ok(mut made) => v.append(&mut made),
        Err(e) => eprintln!("sign_sizes: skipping the two 1920x1080 images: {e}"),
    }
    v
}

/// Run `program args`, naming the missing tool or the failure.
fn run(program: &str, args: &[&str], package: &str) -> Res<()> {
    eprintln!("sign_sizes: $ {program} {}", args.join(" "));
    let status = match Command::new(program).args(args).status() {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("`{program}` not found (install {package})").into())
        }
        Err(e) => return Err(format!("cannot run `{program}`: {e}").into()),
    };
    if !status.success() {
        return Err(format!("`{program}` failed ({status})").into());
    }
    Ok(())
}

/// The ~1 MB and ~5 MB 1920x1080 images, derived from `photo` in `tmp`.
fn make_1080p(photo: &Path, tmp: &Path) -> Res<Vec<Input>> {
    let p = |name: &str| tmp.join(name).to_string_lossy().into_owned();
    let (base, noisy) = (p("a1080.ppm"), p("n1080.ppm"));
    let (one, five) = (p("a1080-q98-420.jpg"), p("n1080-q100-444.jpg"));
    let photo = photo.to_string_lossy();
    let im = "ImageMagick (Debian: imagemagick)";
    let lt = "libjpeg-turbo's cjpeg (Debian: libjpeg-turbo-progs)";
    // Resize to cover 1920x1080, then centre-crop.
    run(
        "convert",
        &[
            &photo,
            "-resize",
            "1920x1080^",
            "-gravity",
            "center",
            "-extent",
            "1920x1080",
            &base,
        ],
        im,
    )?;
    run(
        "cjpeg",
        &["-quality", "98", "-sample", "2x2", "-outfile", &one, &base],
        lt,
    )?;
    run(
        "convert",
        &[
            &base,
            "-seed",
            "1",
            "-attenuate",
            "0.5",
            "+noise",
            "Gaussian",
            &noisy,
        ],
        im,
    )?;
    run(
        "cjpeg",
        &[
            "-quality", "100", "-sample", "1x1", "-outfile", &five, &noisy,
        ],
        lt,
    )?;
    Ok(vec![
        Input {
            name: "a1080-q98-420".into(),
            label: "1920x1080 4:2:0 q98".into(),
            jpeg: std::fs::read(&one)?,
        },
        Input {
            name: "n1080-q100-444".into(),
            label: "1920x1080 4:4:4 q100 + noise".into(),
            jpeg: std::fs::read(&five)?,
        },
    ])
}

/// The keys every image is signed with.
struct Keys {
    bls: BlsSecretKey,
    ecdsa: LongTermSecret,
    ecdsa_public: LongTermPublic,
}

impl Keys {
    fn new() -> Res<Keys> {
        let ecdsa = LongTermSecret::generate_ecdsa_p256();
        Ok(Keys {
            bls: BlsSecretKey::generate()?,
            ecdsa_public: ecdsa.public_key(),
            ecdsa,
        })
    }
}

/// "4:2:0", "4:4:4", "gray", or the sampling factors.
fn sampling(coefs: &Coefficients) -> String {
    let c = &coefs.frame.components;
    let hv: Vec<(u8, u8)> = c.iter().map(|c| (c.h, c.v)).collect();
    match hv.as_slice() {
        [_] => "gray".into(),
        [(2, 2), (1, 1), (1, 1)] => "4:2:0".into(),
        [(2, 1), (1, 1), (1, 1)] => "4:2:2".into(),
        [(1, 1), (1, 1), (1, 1)] => "4:4:4".into(),
        _ => hv
            .iter()
            .map(|(h, v)| format!("{h}x{v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Bytes that `record` takes once stored in its COM segments.
fn stored_len(record: &[u8]) -> Res<usize> {
    Ok(container::to_segments(record)?.len())
}

/// Check that `signed` is `unsigned` plus exactly the stored record.
fn check_overhead(signed: &[u8], unsigned: &[u8], record: &[u8], what: &str) -> Res<()> {
    let expected = stored_len(record)?;
    if signed.len() != unsigned.len() + expected {
        return Err(format!(
            "{what}: {} bytes, expected {} + {expected} (record and container)",
            signed.len(),
            unsigned.len()
        )
        .into());
    }
    Ok(())
}

/// The record stored in `jpeg`.
fn raw_record(jpeg: &[u8]) -> Res<Vec<u8>> {
    let segs = header_segments(jpeg)?;
    container::read_record(jpeg, &segs)?.ok_or_else(|| "no signature record in the file".into())
}

/// Measure `input` at each granularity of `gs` with every scheme.
fn measure(input: &Input, gs: std::ops::RangeInclusive<u32>, keys: &Keys) -> Res<Vec<Row>> {
    let jpeg = &input.jpeg;
    let coefs = decode_coefficients(jpeg)?;
    let (width, height) = (coefs.frame.width, coefs.frame.height);
    let sampling = sampling(&coefs);
    eprintln!(
        "sign_sizes: {} ({}): {width}x{height} {sampling}, {} bytes, sha256 {}",
        input.name,
        input.label,
        jpeg.len(),
        Sha256::digest(jpeg)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let t = threads();
    let mut rows = Vec::new();
    for g in gs {
        let grid = CellGrid::new(&coefs.frame, g)?;
        let (cw, ch) = (grid.cell_w(), grid.cell_h());
        // Largest cell-aligned rectangle at (0, 0) within W/2 x H/2 (at
        // least one cell).
        let crop_w = ((width / 2) / cw * cw).max(cw).min(width);
        let crop_h = ((height / 2) / ch * ch).max(ch).min(height);
        let crop_cells = crop_w.div_ceil(cw) as u64 * crop_h.div_ceil(ch) as u64;
        let unsigned_crop =
            jsec::jpeg::crop::crop(jpeg, &coefs, (0, 0, crop_w, crop_h), |_, _| true)?;
        let opts = SignOptions {
            granularity: g,
            threads: t,
        };
        for scheme in SCHEMES {
            let clock = Instant::now();
            let (full, crop) = match scheme {
                "compact" => {
                    let full = sign::sign_jpeg(jpeg, &keys.bls, &opts)?;
                    let crop = sign::crop_jpeg(&full, (0, 0, crop_w, crop_h))?;
                    let pk = keys.bls.public_key();
                    sign::verify_jpeg(&full, &pk, t)?;
                    sign::verify_jpeg(&crop, &pk, t)?;
                    (full, crop)
                }
                "paper" => {
                    let full = sign::sign_jpeg_paper(jpeg, &keys.ecdsa, None, &opts)?;
                    let crop = sign::crop_jpeg(&full, (0, 0, crop_w, crop_h))?;
                    sign::verify_jpeg(&full, &keys.ecdsa_public, t)?;
                    sign::verify_jpeg(&crop, &keys.ecdsa_public, t)?;
                    (full, crop)
                }
                _ => {
                    let sig = johnson_sign(&coefs, &grid, &keys.ecdsa, t)?;
                    let full = container::replace_record(jpeg, Some(&sig.full_record()))?;
                    let record = sig.crop_record(crop_w.div_ceil(cw), crop_h.div_ceil(ch));
                    let crop = container::replace_record(&unsigned_crop, Some(&record))?;
                    johnson_verify(&full, &keys.ecdsa_public, t)?;
                    johnson_verify(&crop, &keys.ecdsa_public, t)?;
                    (full, crop)
                }
            };
            check_overhead(&full, jpeg, &raw_record(&full)?, "full image")?;
            check_overhead(&crop, &unsigned_crop, &raw_record(&crop)?, "crop")?;
            let row = Row {
                image: input.name.clone(),
                width,
                height,
                sampling: sampling.clone(),
                bytes_original: jpeg.len(),
                g,
                cell_w: cw,
                cell_h: ch,
                cells: grid.len(),
                scheme,
                full_bytes: full.len(),
                crop_w,
                crop_h,
                crop_cells,
                crop_original_bytes: unsigned_crop.len(),
                crop_bytes: crop.len(),
            };
            eprintln!(
                "sign_sizes:   g={g} {scheme:<8} {:>6} cells: full +{:>9} B, crop {crop_w}x{crop_h} ({crop_cells} cells) +{:>8} B   [sign, crop, verify: {:.2} s]",
                row.cells,
                row.full_overhead(),
                row.crop_overhead(),
                clock.elapsed().as_secs_f64()
            );
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Run `f(i)` for `i` in `0..n` on `threads` scoped threads, results in
/// index order.
fn par_map<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, n.max(1));
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                s.spawn(move || {
                    (k * chunk..((k + 1) * chunk).min(n))
                        .map(f)
                        .collect::<Vec<T>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect::<Vec<T>>()
    })
}

/// A johnson-baseline signature of one image: its common record part, the
/// header signature and one ECDSA signature per cell (raster order).
struct JohnsonSig {
    common: [u8; 76],
    cells_x: u32,
    cells_y: u32,
    header_sig: Vec<u8>,
    cell_sigs: Vec<Vec<u8>>,
}

/// The johnson header message: as jsec's (docs/sign-format.md section 5)
/// with profile byte 0x80.
fn johnson_header(
    binding: &[u8; 32],
    g: u32,
    width: u32,
    height: u32,
    coefs: &Coefficients,
) -> Vec<u8> {
    let mut m = vec![MSG_HEADER];
    m.extend_from_slice(binding);
    m.extend_from_slice(&[JOHNSON_PROFILE, g as u8]);
    m.extend_from_slice(&width.to_be_bytes());
    m.extend_from_slice(&height.to_be_bytes());
    m.push(coefs.frame.components.len() as u8);
    for c in &coefs.frame.components {
        m.extend_from_slice(&[c.h, c.v]);
    }
    m
}

/// Sign the header and every cell of `coefs` with `sk` (ECDSA P-256).
fn johnson_sign(
    coefs: &Coefficients,
    grid: &CellGrid,
    sk: &LongTermSecret,
    threads: usize,
) -> Res<JohnsonSig> {
    let mut binding = [0u8; 32];
    jsec::crypto::random_bytes(&mut binding)?;
    let (w, h) = (coefs.frame.width, coefs.frame.height);
    let header_sig = sk.sign(&johnson_header(&binding, grid.g, w, h, coefs))?;
    let cell_sigs = par_map(grid.len() as usize, threads, |i| -> jsec::Result<Vec<u8>> {
        let (cx, cy) = (i as u32 % grid.cells_x, i as u32 / grid.cells_x);
        sk.sign(&cell_message(coefs, grid, &binding, cx, cy, (0, 0))?)
    })
    .into_iter()
    .collect::<jsec::Result<Vec<_>>>()?;
    if header_sig.len() != ECDSA_LEN || cell_sigs.iter().any(|s| s.len() != ECDSA_LEN) {
        return Err("ECDSA P-256 signature not 64 bytes".into());
    }
    let mut common = [0u8; 76];
    common[..4].copy_from_slice(&[JOHNSON_PROFILE, KIND_FULL, grid.g as u8, 0]);
    common[4..8].copy_from_slice(&w.to_be_bytes());
    common[8..12].copy_from_slice(&h.to_be_bytes());
    common[12..44].copy_from_slice(&binding);
    common[44..76].copy_from_slice(&sk.public_key().fingerprint());
    Ok(JohnsonSig {
        common,
        cells_x: grid.cells_x,
        cells_y: grid.cells_y,
        header_sig,
        cell_sigs,
    })
}

impl JohnsonSig {
    /// Common part, `cells_x | cells_y`, header signature, every cell's.
    fn full_record(&self) -> Vec<u8> {
        let mut v = self.common.to_vec();
        v.extend_from_slice(&self.cells_x.to_be_bytes());
        v.extend_from_slice(&self.cells_y.to_be_bytes());
        v.extend_from_slice(&self.header_sig);
        for s in &self.cell_sigs {
            v.extend_from_slice(s);
        }
        v
    }

    /// The record of the crop keeping the `nx` x `ny` cells at (0, 0):
    /// common part (kind 2), `ox | oy | nx | ny`, header signature, the
    /// kept cells' signatures in raster order.
    fn crop_record(&self, nx: u32, ny: u32) -> Vec<u8> {
        let mut v = self.common.to_vec();
        v[1] = KIND_CROPPED;
        for x in [0, 0, nx, ny] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(&self.header_sig);
        for y in 0..ny {
            for x in 0..nx {
                v.extend_from_slice(&self.cell_sigs[(y * self.cells_x + x) as usize]);
            }
        }
        v
    }
}

/// Verify a johnson-signed full image or crop: the header signature and
/// every cell's, against the file's own coefficients.
fn johnson_verify(jpeg: &[u8], pk: &LongTermPublic, threads: usize) -> Res<()> {
    let r = raw_record(jpeg)?;
    let u32_at = |i: usize| -> Res<u32> {
        let b = r.get(i..i + 4).ok_or("johnson record truncated")?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if r.len() < 92 || r[0] != JOHNSON_PROFILE || r[44..76] != pk.fingerprint() {
        return Err("not a johnson record by this key".into());
    }
    let (kind, g) = (r[1], r[2] as u32);
    let (width, height) = (u32_at(4)?, u32_at(8)?);
    let binding: [u8; 32] = r[12..44].try_into()?;
    let coefs = decode_coefficients(jpeg)?;
    let grid = CellGrid::new(&coefs.frame, g)?;
    let (origin, sigs_at) = match kind {
        KIND_FULL => {
            if (u32_at(76)?, u32_at(80)?) != (grid.cells_x, grid.cells_y) {
                return Err("johnson record: cell counts differ from the image's".into());
            }
            ((0, 0), 84)
        }
        KIND_CROPPED => {
            if (u32_at(84)?, u32_at(88)?) != (grid.cells_x, grid.cells_y) {
                return Err("johnson record: cell counts differ from the crop's".into());
            }
            ((u32_at(76)?, u32_at(80)?), 92)
        }
        _ => return Err("johnson record: unknown kind".into()),
    };
    let n = grid.len() as usize;
    if r.len() != sigs_at + ECDSA_LEN * (1 + n) {
        return Err("johnson record: wrong length".into());
    }
    let header = johnson_header(&binding, g, width, height, &coefs);
    if !pk.verify(&header, &r[sigs_at..sigs_at + ECDSA_LEN]) {
        return Err("johnson: header signature invalid".into());
    }
    let cells = &r[sigs_at + ECDSA_LEN..];
    let ok = par_map(n, threads, |i| -> jsec::Result<bool> {
        let (cx, cy) = (i as u32 % grid.cells_x, i as u32 / grid.cells_x);
        let m = cell_message(&coefs, &grid, &binding, cx, cy, origin)?;
        Ok(pk.verify(&m, &cells[i * ECDSA_LEN..(i + 1) * ECDSA_LEN]))
    });
    for (i, v) in ok.into_iter().enumerate() {
        if !v? {
            return Err(format!("johnson: signature of cell {i} invalid").into());
        }
    }
    Ok(())
}

fn to_csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "image,width,height,sampling,bytes_original,g,cell_w,cell_h,cells,scheme,full_bytes,full_overhead,crop_w,crop_h,crop_cells,crop_original_bytes,crop_bytes,crop_overhead\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.image,
            r.width,
            r.height,
            r.sampling,
            r.bytes_original,
            r.g,
            r.cell_w,
            r.cell_h,
            r.cells,
            r.scheme,
            r.full_bytes,
            r.full_overhead(),
            r.crop_w,
            r.crop_h,
            r.crop_cells,
            r.crop_original_bytes,
            r.crop_bytes,
            r.crop_overhead()
        );
    }
    s
}

/// `n` with thousands separators.
fn thousands(n: usize) -> String {
    let d = n.to_string();
    let mut s = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            s.push(',');
        }
        s.push(c);
    }
    s
}

/// Per image, one line per g: each scheme's overhead in bytes and in per
/// cent of the unsigned file (full image, then crop).
fn to_markdown(rows: &[Row]) -> String {
    let mut s = String::new();
    let mut images: Vec<&str> = rows.iter().map(|r| r.image.as_str()).collect();
    images.dedup();
    for image in images {
        let of: Vec<&Row> = rows.iter().filter(|r| r.image == image).collect();
        let r0 = of[0];
        let _ = writeln!(
            s,
            "\n**{image}** ({}x{} {}, {} bytes)\n",
            r0.width,
            r0.height,
            r0.sampling,
            thousands(r0.bytes_original)
        );
        let _ = writeln!(s, "| g | cells | full: compact | full: paper | full: johnson | crop cells | crop: compact | crop: paper | crop: johnson |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        let mut gs: Vec<u32> = of.iter().map(|r| r.g).collect();
        gs.dedup();
        for g in gs {
            let at: Vec<&&Row> = of.iter().filter(|r| r.g == g).collect();
            let pct = |num: usize, den: usize| 100.0 * num as f64 / den as f64;
            let full: Vec<String> = at
                .iter()
                .map(|r| {
                    format!(
                        "{} ({:.1} %)",
                        thousands(r.full_overhead()),
                        pct(r.full_overhead(), r.bytes_original)
                    )
                })
                .collect();
            let crop: Vec<String> = at
                .iter()
                .map(|r| {
                    format!(
                        "{} ({:.2} %)",
                        thousands(r.crop_overhead()),
                        pct(r.crop_overhead(), r.crop_original_bytes)
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "| {g} | {} | {} | {} |",
                thousands(at[0].cells as usize),
                full.join(" | "),
                std::iter::once(thousands(at[0].crop_cells as usize))
                    .chain(crop)
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
    }
    s
}

/// Colour and marker of each scheme.
fn style(scheme: &str) -> (&'static str, &'static str) {
    match scheme {
        "compact" => ("#1f5fbf", "circle"),
        "paper" => ("#e08a00", "square"),
        _ => ("#c62828", "triangle"),
    }
}

fn marker(shape: &str, x: f64, y: f64, colour: &str, filled: bool) -> String {
    let fill = if filled { colour } else { "white" };
    match shape {
        "circle" => format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.6" fill="{fill}" stroke="{colour}" stroke-width="1.5"/>"#
        ),
        "square" => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="11" height="11" fill="{fill}" stroke="{colour}" stroke-width="1.5"/>"#,
            x - 5.5,
            y - 5.5
        ),
        _ => format!(
            r#"<path d="M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{fill}" stroke="{colour}" stroke-width="1.5"/>"#,
            y - 5.5,
            x + 5.0,
            y + 3.5,
            x - 5.0,
            y + 3.5
        ),
    }
}

/// "100 B", "10 kB", "1 MB" for a power of ten.
fn decade_label(k: i32) -> String {
    match k {
        i32::MIN..=2 => format!("{} B", 10u64.pow(k.max(0) as u32)),
        3..=5 => format!("{} kB", 10u64.pow((k - 3) as u32)),
        6..=8 => format!("{} MB", 10u64.pow((k - 6) as u32)),
        _ => format!("1e{k} B"),
    }
}

/// XML-escape text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One panel per image: overhead (log scale) against g, one line per
/// scheme for the full image (solid) and the crop (dashed), and the
/// unsigned file's size for reference.
fn to_svg(rows: &[Row], inputs: &[Input]) -> String {
    let (pw, ph) = (330.0, 330.0); // plot area of a panel
    let (left, gap, top) = (90.0, 95.0, 118.0);
    let n = inputs.len().max(1) as f64;
    let width = left + n * pw + (n - 1.0) * gap + 30.0;
    let height = top + ph + 128.0;
    let values = rows
        .iter()
        .flat_map(|r| [r.full_overhead(), r.crop_overhead(), r.bytes_original])
        .filter(|&v| v > 0);
    let (lo, hi) = values.fold((usize::MAX, 1usize), |(a, b), v| (a.min(v), b.max(v)));
    // Bottom a third of a decade below the smallest value (room for the
    // label under the lowest line), top at the decade above the largest.
    let bottom = (lo.max(1) as f64).log10() - 0.35;
    let k0 = bottom.floor() as i32;
    let k1 = ((hi as f64).log10().ceil() as i32).max(k0 + 1);
    let y_of = |v: f64| top + ph * (1.0 - (v.log10() - bottom) / (k1 as f64 - bottom));
    let gs: Vec<u32> = {
        let mut g: Vec<u32> = rows.iter().map(|r| r.g).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let (gmin, gmax) = (
        *gs.first().unwrap_or(&1) as f64,
        *gs.last().unwrap_or(&1) as f64,
    );
    let x_in = |g: f64| {
        if gmax > gmin {
            (g - gmin) / (gmax - gmin) * (pw - 30.0) + 15.0
        } else {
            pw / 2.0
        }
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="13">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white" stroke="none"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.0}" y="30" text-anchor="middle" font-size="19" font-weight="bold">Croppable signatures: bytes added to the JPEG vs. granularity</text>"#,
        width / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.0}" y="52" text-anchor="middle" font-size="13" fill="#333">solid: signed full image; dashed: signed crop of the top-left quarter (cell-aligned); grey dotted: size of the unsigned file</text>"##,
        width / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.0}" y="70" text-anchor="middle" font-size="13" fill="#333">paper's full-image curve is 120 bytes above compact's, hidden under it at this scale (orange squares behind the blue circles)</text>"##,
        width / 2.0
    );
    for (i, input) in inputs.iter().enumerate() {
        let x0 = left + i as f64 * (pw + gap);
        let of: Vec<&Row> = rows.iter().filter(|r| r.image == input.name).collect();
        let Some(r0) = of.first() else { continue };
        let _ = writeln!(s, r#"<g transform="translate({x0:.1},0)">"#);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#,
            pw / 2.0,
            top - 22.0,
            esc(&input.label)
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="#333">{} ({} bytes)</text>"##,
            pw / 2.0,
            top - 7.0,
            esc(&input.name),
            thousands(r0.bytes_original)
        );
        // Grid: decades (labelled) and 2, 5 times a decade (light).
        for k in k0..=k1 {
            let y = y_of(10f64.powi(k));
            if k as f64 >= bottom {
                let _ = writeln!(
                    s,
                    r##"<line x1="0" y1="{y:.1}" x2="{pw}" y2="{y:.1}" stroke="#bbb" stroke-width="1"/><text x="-8" y="{:.1}" text-anchor="end" font-size="12">{}</text>"##,
                    y + 4.0,
                    decade_label(k)
                );
            }
            if k < k1 {
                for m in [2.0, 5.0] {
                    if (m * 10f64.powi(k)).log10() < bottom {
                        continue;
                    }
                    let y = y_of(m * 10f64.powi(k));
                    let _ = writeln!(
                        s,
                        r##"<line x1="0" y1="{y:.1}" x2="{pw}" y2="{y:.1}" stroke="#e6e6e6" stroke-width="1"/>"##
                    );
                }
            }
        }
        for &g in &gs {
            let x = x_in(g as f64);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="12">{g}</text>"##,
                top + ph,
                top + ph,
                top + ph + 5.0,
                top + ph + 19.0
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="0" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        // The unsigned file's size.
        let y = y_of(r0.bytes_original as f64);
        let _ = writeln!(
            s,
            r##"<line x1="0" y1="{y:.1}" x2="{pw}" y2="{y:.1}" stroke="#777" stroke-width="1.5" stroke-dasharray="2,3"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#555">unsigned file</text>"##,
            pw - 4.0,
            y - 5.0
        );
        // Lines: paper first (its squares under compact's circles, where
        // the two nearly coincide), crops before full images.
        for crop in [true, false] {
            for scheme in ["paper", "johnson", "compact"] {
                let (colour, shape) = style(scheme);
                let pts: Vec<(f64, f64)> = of
                    .iter()
                    .filter(|r| r.scheme == scheme)
                    .map(|r| {
                        let v = if crop {
                            r.crop_overhead()
                        } else {
                            r.full_overhead()
                        };
                        (x_in(r.g as f64), y_of(v.max(1) as f64))
                    })
                    .collect();
                let path: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                // A constant line (the aggregated crops) gets its value
                // written above (paper) or below (compact) it.
                let vals: Vec<usize> = of
                    .iter()
                    .filter(|r| r.scheme == scheme)
                    .map(|r| {
                        if crop {
                            r.crop_overhead()
                        } else {
                            r.full_overhead()
                        }
                    })
                    .collect();
                if vals.len() > 1 && vals.iter().all(|&v| v == vals[0]) {
                    let dy = if scheme == "compact" { 17.0 } else { -9.0 };
                    let text = format!("{} B, every g", vals[0]);
                    let (tw, ty) = (6.8 * text.len() as f64 + 8.0, pts[0].1 + dy);
                    let _ = writeln!(
                        s,
                        r#"<rect x="{:.1}" y="{:.1}" width="{tw:.1}" height="15" fill="white" stroke="none"/><text x="{:.1}" y="{ty:.1}" text-anchor="middle" font-size="12" fill="{colour}">{text}</text>"#,
                        (pw - tw) / 2.0,
                        ty - 11.5,
                        pw / 2.0,
                    );
                }
                let dash = if crop {
                    r#" stroke-dasharray="7,4""#
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                    path.join(" ")
                );
                for (x, y) in pts {
                    let _ = writeln!(s, "{}", marker(shape, x, y, colour, !crop));
                }
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13">granularity g (cell = g x g iMCUs)</text>"#,
            pw / 2.0,
            top + ph + 40.0
        );
        let _ = writeln!(
            s,
            r#"<text transform="translate(-62,{:.1}) rotate(-90)" text-anchor="middle" font-size="13">signature overhead (bytes, log scale)</text>"#,
            top + ph / 2.0
        );
        let _ = writeln!(s, "</g>");
    }
    // Legend.
    let ly = top + ph + 78.0;
    let mut lx = left;
    let entries: [(&str, &str); 3] = [
        ("compact", "compact (jsec, long-term BLS key)"),
        ("paper", "paper (jsec, ephemeral BLS + ECDSA P-256)"),
        ("johnson", "johnson (one ECDSA P-256 signature per cell)"),
    ];
    for (scheme, text) in entries {
        let (colour, shape) = style(scheme);
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"/>{}<text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 34.0,
            marker(shape, lx + 17.0, ly, colour, true),
            lx + 42.0,
            ly + 4.5,
            esc(text)
        );
        lx += 42.0 + 7.4 * text.len() as f64 + 28.0;
    }
    let ly2 = ly + 28.0;
    let _ = writeln!(
        s,
        r##"<line x1="{left:.1}" y1="{ly2:.1}" x2="{:.1}" y2="{ly2:.1}" stroke="#333" stroke-width="2"/>{}<text x="{:.1}" y="{:.1}">full image (filled markers)</text>"##,
        left + 34.0,
        marker("circle", left + 17.0, ly2, "#333", true),
        left + 42.0,
        ly2 + 4.5
    );
    let x2 = left + 300.0;
    let _ = writeln!(
        s,
        r##"<line x1="{x2:.1}" y1="{ly2:.1}" x2="{:.1}" y2="{ly2:.1}" stroke="#333" stroke-width="2" stroke-dasharray="7,4"/>{}<text x="{:.1}" y="{:.1}">crop, top-left quarter (open markers)</text>"##,
        x2 + 34.0,
        marker("circle", x2 + 17.0, ly2, "#333", false),
        x2 + 42.0,
        ly2 + 4.5
    );
    let x3 = left + 640.0;
    let _ = writeln!(
        s,
        r##"<line x1="{x3:.1}" y1="{ly2:.1}" x2="{:.1}" y2="{ly2:.1}" stroke="#777" stroke-width="1.5" stroke-dasharray="2,3"/><text x="{:.1}" y="{:.1}">unsigned full image (file size)</text>"##,
        x3 + 34.0,
        x3 + 42.0,
        ly2 + 4.5
    );
    let _ = writeln!(s, "</svg>");
    s
}
