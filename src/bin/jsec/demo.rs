//! `jsec demo`: everything FSPE does, on a picture drawn on the spot, with
//! no system packages and no input files.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use jsec::crypto::{sha256, Key};
use jsec::fspe::{Cipher, Location, Metadata, Options, Report, Sensitivity};

use crate::args::DemoArgs;
use crate::exif;
use crate::fsio::{self, Failure};
use crate::scene::{self, Rgb};

/// Demo picture size.
const WIDTH: usize = 1024;
const HEIGHT: usize = 768;
/// Thumbnail size.
const THUMB_W: usize = 160;
const THUMB_H: usize = 120;

/// Encode an RGB image as JPEG (quality 85, 4:2:0), with optional APP1 payload.
pub fn encode_jpeg(img: &Rgb, app1: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let w = u16::try_from(img.width).map_err(|_| "image too wide".to_string())?;
    let h = u16::try_from(img.height).map_err(|_| "image too tall".to_string())?;
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 85);
    enc.set_sampling_factor(SamplingFactor::R_4_2_0);
    if let Some(p) = app1 {
        enc.add_app_segment(1, p).map_err(|e| e.to_string())?;
    }
    enc.encode(&img.pixels, w, h, ColorType::Rgb)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Decode a JPEG to RGB with jpeg-decoder (an independent decoder).
fn decode(jpeg: &[u8]) -> Result<Rgb, String> {
    let mut d = jpeg_decoder::Decoder::new(jpeg);
    let pixels = d.decode().map_err(|e| e.to_string())?;
    let info = d.info().ok_or("no image information")?;
    if info.pixel_format != jpeg_decoder::PixelFormat::RGB24 {
        return Err(format!("unexpected pixel format {:?}", info.pixel_format));
    }
    Ok(Rgb {
        width: info.width.into(),
        height: info.height.into(),
        pixels,
    })
}

/// Peak signal-to-noise ratio in dB (infinite for identical images).
pub fn psnr(a: &Rgb, b: &Rgb) -> Result<f64, String> {
    if (a.width, a.height) != (b.width, b.height) || a.pixels.len() != b.pixels.len() {
        return Err("images differ in size".into());
    }
    let se: u64 = a
        .pixels
        .iter()
        .zip(&b.pixels)
        .map(|(&x, &y)| {
            let d = i64::from(x) - i64::from(y);
            (d * d) as u64
        })
        .sum();
    if se == 0 {
        return Ok(f64::INFINITY);
    }
    let mse = se as f64 / a.pixels.len() as f64;
    Ok(10.0 * (255.0 * 255.0 / mse).log10())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ms(t: Instant) -> String {
    format!("{:.1} ms", t.elapsed().as_secs_f64() * 1e3)
}

fn db(x: f64) -> String {
    if x.is_infinite() {
        "inf dB (identical)".into()
    } else {
        format!("{x:.2} dB")
    }
}

/// The embedded thumbnail's byte range and report in a file's report.
fn thumbnail(report: &Report) -> Option<(usize, usize, u64, u64)> {
    report.images.iter().find_map(|im| match im.location {
        Location::InSegment { segment, .. } => Some((
            usize::try_from(im.offset).ok()?,
            usize::try_from(im.end).ok()?,
            segment,
            im.stats.encrypted,
        )),
        _ => None,
    })
}

/// Run the demo; any failed check is an error (exit 2).
pub fn run(a: &DemoArgs) -> Result<ExitCode, Failure> {
    let dir = &a.out_dir;
    let fail = |m: String| Failure::at(dir, m);
    let total = Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| fail(fsio::io_message(&e)))?;
    outln!("jsec demo: writing into {}", dir.display());

    // 1. Draw and encode the picture with an EXIF thumbnail.
    let t = Instant::now();
    let picture = scene::landscape(WIDTH, HEIGHT);
    let small = scene::downscale(&picture, THUMB_W, THUMB_H);
    let draw_time = ms(t);
    let t = Instant::now();
    let thumb = encode_jpeg(&small, None).map_err(|e| fail(format!("thumbnail: {e}")))?;
    let camera = exif::Camera {
        artist: "Demo Photographer".into(),
        date_time: "2026:06:21 09:41:00".into(),
        serial: "JSEC-000042".into(),
        latitude: ('N', 46, 31, 1200),
        longitude: ('E', 6, 37, 4500),
        altitude_dm: 3720,
    };
    let exif = exif::camera_exif(
        &thumb,
        concat!("jsec ", env!("CARGO_PKG_VERSION"), " demo"),
        Some(&camera),
    )
    .map_err(fail)?;
    let original = encode_jpeg(&picture, Some(&exif)).map_err(fail)?;
    outln!(
        "  drew a {WIDTH}x{HEIGHT} landscape ({draw_time}) and encoded it with jpeg-encoder \
         (quality 85, 4:2:0) plus an EXIF APP1 holding a {THUMB_W}x{THUMB_H} JPEG thumbnail \
         ({} bytes), a GPS position, the artist, the capture date and a serial number ({})",
        thumb.len(),
        ms(t)
    );
    write(dir, "original.jpg", &original)?;
    outln!("  original.jpg     {:>9} bytes", original.len());

    // 2. A key.
    let key = Key::generate(32).map_err(|e| fail(e.to_string()))?;
    fsio::write_key_file(&dir.join("key.hex"), &key, true)?;
    outln!("  key.hex          AES-256 key, 64 hex digits, mode 0600 (jsec keygen)");

    // 3. Encrypt with the full rule, GPS and identity EXIF values too.
    let options = Options {
        metadata: Metadata::PRIVATE,
        ..Options::default()
    };
    let cipher = Cipher::new(key.clone(), options).map_err(|e| fail(e.to_string()))?;
    let mut encrypted = original.clone();
    let t = Instant::now();
    let report = cipher
        .encrypt(&mut encrypted)
        .map_err(|e| fail(format!("encrypt: {e}")))?;
    let enc_time = ms(t);
    write(dir, "encrypted.jpg", &encrypted)?;
    let primary = report
        .primary()
        .ok_or_else(|| fail("no primary image in the report".into()))?;
    outln!(
        "  encrypted.jpg    {:>9} bytes  (rule full, all components and bands: {} of {} \
         additional bits encrypted; EXIF GPS and identity values enciphered, --exif; \
         {enc_time})",
        encrypted.len(),
        primary.stats.encrypted,
        primary.stats.additional
    );
    for (off, w) in &report.warnings {
        outln!("    warning at byte offset {off}: {w}");
    }

    // 4. The checks on the encrypted file.
    if encrypted.len() != original.len() {
        return Err(fail("sizes differ".into()));
    }
    outln!(
        "  sizes equal: {} bytes = {} bytes",
        original.len(),
        encrypted.len()
    );
    let t = Instant::now();
    let orig_px = decode(&original).map_err(|e| fail(format!("original.jpg: {e}")))?;
    let enc_px =
        decode(&encrypted).map_err(|e| fail(format!("encrypted.jpg does not decode: {e}")))?;
    let enc_psnr = psnr(&orig_px, &enc_px).map_err(fail)?;
    outln!(
        "  encrypted.jpg decodes with jpeg-decoder: {}x{}, PSNR vs original {} ({})",
        enc_px.width,
        enc_px.height,
        db(enc_psnr),
        ms(t)
    );

    let (ta, tb, segment, thumb_bits) =
        thumbnail(&report).ok_or_else(|| fail("the EXIF thumbnail was not found".into()))?;
    let outside = || fail(format!("thumbnail range {ta}..{tb} lies outside the file"));
    let thumb_orig = decode(original.get(ta..tb).ok_or_else(outside)?)
        .map_err(|e| fail(format!("original thumbnail: {e}")))?;
    let thumb_enc = decode(encrypted.get(ta..tb).ok_or_else(outside)?)
        .map_err(|e| fail(format!("encrypted thumbnail does not decode: {e}")))?;
    let thumb_psnr = psnr(&thumb_orig, &thumb_enc).map_err(fail)?;
    if thumb_bits == 0 || thumb_psnr.is_infinite() {
        return Err(fail("the thumbnail was not encrypted".into()));
    }
    outln!(
        "  thumbnail encrypted: the {}x{} JPEG in the APP1 segment at offset {segment} \
         (bytes {ta}..{tb}) had {thumb_bits} bits encrypted; it still decodes, PSNR vs the \
         original thumbnail {}",
        thumb_enc.width,
        thumb_enc.height,
        db(thumb_psnr)
    );

    // The EXIF values: sensitive ones enciphered in place, the date kept.
    outln!(
        "  {}",
        exif_summary(&report, &original, &encrypted).map_err(fail)?
    );

    // 5. Decrypt.
    let mut decrypted = encrypted.clone();
    let t = Instant::now();
    cipher
        .decrypt(&mut decrypted)
        .map_err(|e| fail(format!("decrypt: {e}")))?;
    let dec_time = ms(t);
    write(dir, "decrypted.jpg", &decrypted)?;
    let (h_orig, h_dec) = (sha256(&[&original]), sha256(&[&decrypted]));
    if decrypted != original {
        return Err(fail("decrypted bytes differ from the original".into()));
    }
    outln!(
        "  decrypted.jpg    {:>9} bytes  ({dec_time}): identical bytes to original.jpg",
        decrypted.len()
    );
    outln!("    SHA-256 original.jpg  {}", hex(&h_orig));
    outln!("    SHA-256 decrypted.jpg {}", hex(&h_dec));

    // 6. Multi-level: encrypt with levels, decrypt with k2 only.
    let levels = Options {
        levels: true,
        ..Options::default()
    };
    let t = Instant::now();
    let mut leveled = original.clone();
    Cipher::new(key.clone(), levels.clone())
        .and_then(|c| c.encrypt(&mut leveled))
        .map_err(|e| fail(format!("multi-level encrypt: {e}")))?;
    let mut preview = leveled.clone();
    Cipher::new(key.derive(2), levels)
        .and_then(|c| c.with_key_level(2))
        .and_then(|c| c.decrypt(&mut preview))
        .map_err(|e| fail(format!("k2 decrypt: {e}")))?;
    let lvl_time = ms(t);
    write(dir, "encrypted-levels.jpg", &leveled)?;
    write(dir, "preview-k2.jpg", &preview)?;
    let lvl_psnr = decode(&leveled)
        .and_then(|p| psnr(&orig_px, &p))
        .map_err(|e| fail(format!("encrypted-levels.jpg: {e}")))?;
    let prev_psnr = decode(&preview)
        .and_then(|p| psnr(&orig_px, &p))
        .map_err(|e| fail(format!("preview-k2.jpg: {e}")))?;
    outln!(
        "  multi-level ({lvl_time}): encrypted-levels.jpg (DC with k2, AC 1-5 with k1, AC 6-63 \
         with k0) PSNR {}; decrypted with k2 only (jsec derive-key --level 2): preview-k2.jpg \
         PSNR {} (DC restored: a coarse preview)",
        db(lvl_psnr),
        db(prev_psnr)
    );

    outln!(
        "  done in {:.2} s. The same with the CLI:\n    jsec keygen -o key.hex\n    \
         jsec encrypt --exif --key key.hex original.jpg encrypted.jpg\n    \
         jsec decrypt --exif --key key.hex encrypted.jpg decrypted.jpg\n    \
         jsec encrypt --levels --key key.hex original.jpg encrypted-levels.jpg\n    \
         jsec derive-key --key key.hex --level 2 -o k2.hex\n    \
         jsec decrypt --levels --key k2.hex --key-level 2 encrypted-levels.jpg preview-k2.jpg",
        total.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// One line on the EXIF fields: which were enciphered (and that their bytes
/// changed), which stayed readable (and that they did not).
fn exif_summary(report: &Report, original: &[u8], encrypted: &[u8]) -> Result<String, String> {
    let value = |d: &[u8], f: &jsec::fspe::MetadataField| {
        d.get(f.offset as usize..(f.offset + f.len as u64) as usize)
            .map(<[u8]>::to_vec)
    };
    let (mut changed, mut kept, mut bytes) = (Vec::new(), Vec::new(), 0u64);
    for f in &report.metadata {
        let (a, b) = (value(original, f), value(encrypted, f));
        if a.is_none() || b.is_none() {
            return Err(format!("EXIF {} lies outside the file", f.name));
        }
        match (f.transformed, f.sensitivity) {
            // A short value can stay the same by chance (a one-letter GPS
            // reference keeps its letter with probability 1/95); eight
            // bytes cannot, in practice.
            (true, _) if a == b && f.len >= 8 => {
                return Err(format!("EXIF {} was not enciphered", f.name))
            }
            (true, _) => {
                changed.push(f.name);
                bytes += f.len as u64;
            }
            (false, Sensitivity::Time) if a == b => kept.push(f.name),
            (false, _) => return Err(format!("EXIF {} was left readable", f.name)),
        }
    }
    if changed.is_empty() {
        return Err("no EXIF value was enciphered".into());
    }
    Ok(format!(
        "EXIF enciphered in place ({} values, {bytes} bytes, TIFF structure unchanged): {}; \
         kept readable: {}",
        changed.len(),
        changed.join(", "),
        kept.join(", ")
    ))
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<(), Failure> {
    fsio::write_atomic(&dir.join(name), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psnr_values() {
        let a = Rgb {
            width: 2,
            height: 1,
            pixels: vec![0, 0, 0, 10, 10, 10],
        };
        assert!(psnr(&a, &a).unwrap().is_infinite());
        let mut b = a.clone();
        b.pixels[0] = 255;
        // MSE = 255^2 / 6 -> PSNR = 10 log10(6).
        assert!((psnr(&a, &b).unwrap() - 10.0 * 6f64.log10()).abs() < 1e-9);
        let c = Rgb {
            width: 1,
            height: 1,
            pixels: vec![0; 3],
        };
        assert!(psnr(&a, &c).is_err());
    }
}
