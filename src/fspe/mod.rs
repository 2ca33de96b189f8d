//! File-size-preserving JPEG encryption (FSPE).
//!
//! Encrypts the additional bits of Huffman-coded coefficients inside the
//! entropy-coded data, so the protected file has exactly the length of the
//! original, is still a valid JPEG, and decrypts back to identical bytes
//! (Kobayashi & Kiya; the `full` rule is this library's extension). Embedded
//! JPEGs (EXIF/JFXX/Photoshop thumbnails, MPF images and previews after EOI,
//! any complete JPEG inside an APPn payload) are encrypted too, each with its
//! own IV. The exact format is specified in `docs/fspe.md`.
//!
//! ```no_run
//! use jsec::crypto::Key;
//! use jsec::fspe::{Cipher, Options};
//! let mut jpeg = std::fs::read("photo.jpg").unwrap();
//! let cipher = Cipher::new(Key::generate(32).unwrap(), Options::default()).unwrap();
//! let report = cipher.encrypt(&mut jpeg).unwrap();
//! assert!(report.images[0].stats.encrypted > 0);
//! ```

mod engine;
mod metadata;
mod select;
mod stream;
mod transform;

pub use crate::jpeg::exif::{Ifd, Sensitivity};
pub use metadata::{Metadata, MetadataField};
pub use select::BitStats;
pub use stream::Stream;

use crate::crypto::{sha256, Key, KeyLevel, Keystream};
#[cfg(test)]
use crate::ErrorKind;
use crate::{Error, Result};
use engine::{Engine, Mode};

/// Which additional bits a byte may have encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rule {
    /// Every additional bit except those in bytes equal to 0xFF (XOR where a
    /// fixed bit of the byte is 0, addition modulo `2^m - 1` otherwise).
    #[default]
    Full,
    /// Kobayashi & Kiya exactly: additional bits in bytes that contain both
    /// Huffman-code and additional bits, and whose Huffman bits include a 0.
    Paper,
}

/// Which components are encrypted. "Luma" is the first component of the
/// frame (Y of YCbCr and YCCK); "chroma" all the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Components {
    /// Every component.
    #[default]
    All,
    /// The first component only.
    Luma,
    /// All components but the first.
    Chroma,
}

/// Coefficient bands, by zigzag index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// k = 0.
    Dc = 0,
    /// k = 1..=5.
    AcLow = 1,
    /// k = 6..=63.
    AcHigh = 2,
}

impl Band {
    /// The key level of the band in multi-level mode (DC 2, AC-low 1, AC-high 0).
    pub fn level(self) -> KeyLevel {
        match self {
            Band::Dc => 2,
            Band::AcLow => 1,
            Band::AcHigh => 0,
        }
    }
}

/// The set of bands to encrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bands {
    /// DC (k = 0).
    pub dc: bool,
    /// AC 1–5.
    pub ac_low: bool,
    /// AC 6–63.
    pub ac_high: bool,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            dc: true,
            ac_low: true,
            ac_high: true,
        }
    }
}

/// A rectangle of the primary image in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width (> 0).
    pub w: u32,
    /// Height (> 0).
    pub h: u32,
    /// Encrypt the blocks *not* entirely inside the rectangle instead of the
    /// blocks that touch it.
    pub outside: bool,
}

/// Encrypt or decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Plain → protected.
    Encrypt,
    /// Protected → plain.
    Decrypt,
}

/// What to encrypt and how. The decryptor must be given the same options as
/// the encryptor (nothing can be stored in a size-preserving file).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// Eligibility rule.
    pub rule: Rule,
    /// Components to encrypt.
    pub components: Components,
    /// Bands to encrypt.
    pub bands: Bands,
    /// Restrict the primary image's encryption to (or outside) a rectangle.
    pub region: Option<Region>,
    /// Multi-level access: DC with `k2`, AC 1–5 with `k1`, AC 6–63 with `k0`.
    pub levels: bool,
    /// A caller-supplied 16-byte nonce instead of the default one derived from
    /// the file's invariant bytes.
    pub nonce: Option<[u8; 16]>,
    /// Sensitive EXIF values to encipher in place (default: none). Always
    /// with the level-0 key; lower-level keys leave them enciphered.
    pub metadata: Metadata,
}

impl Options {
    /// Check the options for consistency.
    pub fn validate(&self) -> Result<()> {
        if !(self.bands.dc || self.bands.ac_low || self.bands.ac_high) {
            return Err(Error::invalid_argument("no coefficient band selected"));
        }
        if let Some(r) = self.region {
            if r.w == 0 || r.h == 0 {
                return Err(Error::invalid_argument(format!(
                    "region {}x{} is empty",
                    r.w, r.h
                )));
            }
        }
        Ok(())
    }

    /// The fixed 21-byte encoding of the options bound into every IV
    /// (`docs/fspe.md`, "Parameter block").
    pub fn param_block(&self) -> [u8; 21] {
        let mut p = [0u8; 21];
        p[0] = match self.rule {
            Rule::Full => 0,
            Rule::Paper => 1,
        };
        p[1] = match self.components {
            Components::All => 0,
            Components::Luma => 1,
            Components::Chroma => 2,
        };
        p[2] =
            self.bands.dc as u8 | (self.bands.ac_low as u8) << 1 | (self.bands.ac_high as u8) << 2;
        p[3] = self.levels as u8;
        if let Some(r) = self.region {
            p[4] = if r.outside { 2 } else { 1 };
            p[5..9].copy_from_slice(&r.x.to_be_bytes());
            p[9..13].copy_from_slice(&r.y.to_be_bytes());
            p[13..17].copy_from_slice(&r.w.to_be_bytes());
            p[17..21].copy_from_slice(&r.h.to_be_bytes());
        }
        p
    }
}

/// Where an image sits in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The primary image (starts at offset 0).
    Primary,
    /// Inside the payload of an APPn segment (marker byte, segment offset).
    InSegment {
        /// The marker (0xE0..=0xEF).
        marker: u8,
        /// Absolute offset of the segment's marker.
        segment: u64,
    },
    /// After the EOI of the primary image (MPF images, previews).
    AfterEoi,
}

/// What was found and done for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReport {
    /// Absolute offset of the image's SOI.
    pub offset: u64,
    /// Absolute offset just past its EOI (or where processing stopped).
    pub end: u64,
    /// Where it sits.
    pub location: Location,
    /// Width in pixels (0 if the frame header was not reached).
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Component ids and sampling factors `(id, h, v)`.
    pub sampling: Vec<(u8, u8, u8)>,
    /// Number of scans.
    pub scans: u32,
    /// Restart interval in MCUs (0 = none).
    pub restart_interval: u16,
    /// Additional-bit statistics.
    pub stats: BitStats,
    /// `None` when fully processed; otherwise why the image could not be
    /// (fully) encrypted. Only embedded images can carry this; a problem in
    /// the primary image is an error.
    pub problem: Option<String>,
}

/// The result of an operation over a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The primary image first, then embedded ones in file order of discovery.
    pub images: Vec<ImageReport>,
    /// Warnings (offset, message): extraneous bytes, embedded images that
    /// could not be encrypted, etc.
    pub warnings: Vec<(u64, String)>,
    /// Bytes after the primary image's EOI that belong to no embedded image.
    pub trailing_bytes: u64,
    /// Every privacy-sensitive EXIF field found (in the primary image's and
    /// embedded images' APP1 segments), and whether it was transformed.
    pub metadata: Vec<MetadataField>,
}

impl Report {
    /// The primary image's report.
    pub fn primary(&self) -> Option<&ImageReport> {
        self.images.first()
    }
}

/// The 32-byte seed from which every image's IV is derived: the digest of
/// the file's invariant bytes, or a hash of the caller's nonce.
pub type Seed = [u8; 32];

const CALLER_NONCE_LABEL: &[u8] = b"jsec/fspe/v1/caller-nonce";

/// A configured FSPE operation: a key at a level of the hash chain plus options.
#[derive(Debug, Clone)]
pub struct Cipher {
    key: Key,
    key_level: KeyLevel,
    options: Options,
}

impl Cipher {
    /// A cipher with master key `key` (level 0) and `options`.
    pub fn new(key: Key, options: Options) -> Result<Cipher> {
        options.validate()?;
        Ok(Cipher {
            key,
            key_level: 0,
            options,
        })
    }

    /// Say that the key is level `level` of the hash chain (`k1` = 1, `k2` = 2):
    /// decryption then restores exactly the bands that key covers. Needs
    /// `options.levels` for a level above 0; such a key cannot encrypt.
    pub fn with_key_level(mut self, level: KeyLevel) -> Result<Cipher> {
        if level > 2 {
            return Err(Error::invalid_argument(format!(
                "key level {level} (0, 1 or 2)"
            )));
        }
        if level > 0 && !self.options.levels {
            return Err(Error::invalid_argument(
                "a key level above 0 needs multi-level mode (levels)",
            ));
        }
        self.key_level = level;
        Ok(self)
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Keystreams per level for the image at `image_offset`.
    fn streams(&self, seed: &Seed, image_offset: u64) -> [Option<Keystream>; 3] {
        let iv = transform::image_iv(seed, &self.options.param_block(), image_offset);
        let mut out: [Option<Keystream>; 3] = [None, None, None];
        if self.options.levels {
            let mut k = self.key.clone();
            for (l, slot) in out.iter_mut().enumerate() {
                if l as u8 >= self.key_level {
                    *slot = Some(Keystream::new(&k, &iv));
                    k = k.next_in_chain();
                }
            }
        } else {
            out[0] = Some(Keystream::new(&self.key, &iv));
        }
        out
    }

    /// The metadata cipher of the APP1 segment at `segment`: `None` when no
    /// metadata is selected or the key is not the level-0 key.
    fn metadata_cipher(
        &self,
        seed: &Seed,
        segment: u64,
        dir: Direction,
    ) -> Option<metadata::MetaCipher> {
        if !self.options.metadata.any() || self.key_level > 0 {
            return None;
        }
        let iv = metadata::metadata_iv(
            seed,
            &self.options.param_block(),
            self.options.metadata.code(),
            segment,
        );
        Some(metadata::MetaCipher::new(
            Keystream::new(&self.key, &iv),
            segment,
            dir,
        ))
    }

    /// The seed from a caller nonce (if the options carry one).
    fn caller_seed(&self) -> Option<Seed> {
        self.options
            .nonce
            .map(|n| sha256(&[CALLER_NONCE_LABEL, &n]))
    }

    /// The seed of a stream or per-scan call: the caller's `seed` (from a
    /// digest pass) or the options' caller nonce, exactly one of them.
    fn resolve_seed(&self, seed: Option<Seed>) -> Result<Seed> {
        match (seed, self.caller_seed()) {
            (Some(s), None) => Ok(s),
            (None, Some(s)) => Ok(s),
            (Some(_), Some(_)) => Err(Error::invalid_argument(
                "the options carry a caller nonce, which determines the keystream: pass no seed",
            )),
            (None, None) => Err(Error::invalid_argument(
                "needs the seed from a digest pass over the file, or a caller-supplied nonce",
            )),
        }
    }

    fn check_direction(&self, dir: Direction) -> Result<()> {
        if dir == Direction::Encrypt && self.key_level > 0 {
            return Err(Error::invalid_argument(
                "encryption needs the level-0 (master) key",
            ));
        }
        Ok(())
    }

    /// Encrypt the JPEG in `buf` in place. On error `buf` is unchanged.
    pub fn encrypt(&self, buf: &mut [u8]) -> Result<Report> {
        self.in_place(buf, Direction::Encrypt)
    }

    /// Decrypt the JPEG in `buf` in place. On error `buf` is unchanged. With
    /// the wrong key or options the result is a different (still valid,
    /// same-size) JPEG: nothing in the file can tell.
    pub fn decrypt(&self, buf: &mut [u8]) -> Result<Report> {
        self.in_place(buf, Direction::Decrypt)
    }

    fn in_place(&self, buf: &mut [u8], dir: Direction) -> Result<Report> {
        self.check_direction(dir)?;
        // Pass 1 parses everything, finds the masks and the digest; nothing
        // is written, so an error leaves `buf` untouched.
        let DigestPass {
            digest,
            report,
            spans,
            masks,
            meta_ranges,
        } = digest_pass(&self.options, buf)?;
        let seed = self.caller_seed().unwrap_or(digest);
        // Pass 2 applies the keystreams where pass 1 put masks.
        for (image_offset, ranges) in spans {
            let mut cipher =
                transform::ImageCipher::new(self.streams(&seed, image_offset), image_offset, dir);
            for (a, b) in ranges {
                let (a, b) = (a as usize, b as usize);
                cipher.apply(
                    &mut buf[a..b],
                    [&masks[0][a..b], &masks[1][a..b], &masks[2][a..b]],
                    a as u64,
                );
            }
        }
        // Pass 3: metadata values (disjoint from every span); only the
        // master key has their keystream.
        let mut report = report;
        if self.key_level > 0 {
            for f in &mut report.metadata {
                f.transformed = false;
            }
        }
        let mut current: Option<(u64, metadata::MetaCipher)> = None;
        for r in &meta_ranges {
            let segment = r.segment;
            if current.as_ref().map(|c| c.0) != Some(segment) {
                current = self
                    .metadata_cipher(&seed, segment, dir)
                    .map(|c| (segment, c));
            }
            if let Some((_, c)) = current.as_mut() {
                let (a, b) = (r.offset as usize, (r.offset + r.len) as usize);
                c.apply(r, &mut buf[a..b]);
            }
        }
        Ok(report)
    }

    /// A stream computing the default seed (the digest of the file's
    /// invariant bytes): write the whole file, then [`Stream::finish`] and
    /// [`Stream::seed`]. Its output is the input, unchanged.
    pub fn digest_stream(&self) -> Stream {
        Stream::new(Engine::new(&self.options, Mode::digest()))
    }

    /// A bounded-memory stream that encrypts or decrypts: its output is the
    /// transformed input, byte for byte, lagging behind by at most one
    /// segment or MCU. `seed` comes from a [`Cipher::digest_stream`] pass over
    /// the same input, and must be `None` exactly when the options carry a
    /// caller nonce (anything else is [`crate::ErrorKind::InvalidArgument`]). On
    /// error, discard everything the stream produced.
    pub fn stream(&self, dir: Direction, seed: Option<Seed>) -> Result<Stream> {
        self.check_direction(dir)?;
        let seed = self.resolve_seed(seed)?;
        let me = self.clone();
        let me2 = self.clone();
        let factory = engine::CipherFactory {
            image: Box::new(move |image_offset: u64| {
                transform::ImageCipher::new(me.streams(&seed, image_offset), image_offset, dir)
            }),
            metadata: Box::new(move |segment: u64| me2.metadata_cipher(&seed, segment, dir)),
        };
        Ok(Stream::new(Engine::new(
            &self.options,
            Mode::Cipher(factory),
        )))
    }
}

impl Cipher {
    /// Encrypt or decrypt one scan's entropy-coded data in place, for
    /// applications that handle one scan at a time.
    ///
    /// `prefix` is every byte of the file before the scan's entropy-coded
    /// data (SOI through this scan's SOS, earlier scans included as they
    /// are); `scan` is the scan's entropy-coded data up to (not including) the
    /// marker that ends it, RST markers inside included. The scan is the
    /// primary image's (keystream position = offset in the file). The result
    /// equals what [`Cipher::encrypt`] does to those bytes when `seed` is the
    /// file's digest (from a [`Cipher::digest_stream`] pass) or, with `seed`
    /// `None`, when the options carry a caller nonce (a seed together with a
    /// caller nonce is refused). Embedded images in the
    /// prefix are not touched. Returns the statistics of this scan. On error
    /// `scan` is unchanged.
    pub fn process_scan(
        &self,
        dir: Direction,
        seed: Option<Seed>,
        prefix: &[u8],
        scan: &mut [u8],
    ) -> Result<BitStats> {
        self.check_direction(dir)?;
        let seed = self.resolve_seed(seed)?;
        let start = prefix.len();
        let mut w = Vec::with_capacity(start + scan.len() + 2);
        w.extend_from_slice(prefix);
        w.extend_from_slice(scan);
        w.extend_from_slice(&[0xFF, crate::jpeg::marker::EOI]);
        let n = w.len();
        let mut masks = [vec![0u8; n], vec![0u8; n], vec![0u8; n]];
        let mut sel = select::Selector::new(&self.options, true);
        sel.count_from(start as u64);
        let mut warnings = Vec::new();
        let mut walker = crate::jpeg::ImageWalker::new(0);
        {
            let [m0, m1, m2] = &mut masks;
            let mut visit = select::SelectVisit {
                sel: &mut sel,
                masks: [m0.as_mut_slice(), m1.as_mut_slice(), m2.as_mut_slice()],
                base: 0,
                on_segment: |_, _, _: &mut [u8], _: [&mut [u8]; 3]| Ok(()),
                warnings: &mut warnings,
            };
            let progress = walker.advance(&mut w, 0, true, &mut visit)?;
            if progress != crate::jpeg::Progress::Done || walker.end() != n as u64 {
                return Err(Error::malformed_at(
                    walker.end(),
                    "the scan data does not end exactly at the end of the given bytes",
                ));
            }
        }
        if walker.scans() == 0 || walker.scan_data_start() != start as u64 {
            return Err(Error::invalid_argument(format!(
                "the prefix ({start} bytes) does not end exactly at the end of an SOS segment"
            )));
        }
        let end = start + scan.len();
        let mut cipher = transform::ImageCipher::new(self.streams(&seed, 0), 0, dir);
        cipher.apply(
            scan,
            [
                &masks[0][start..end],
                &masks[1][start..end],
                &masks[2][start..end],
            ],
            start as u64,
        );
        Ok(sel.stats)
    }
}

#[cfg(test)]
mod tests;

/// Parse a JPEG (and its embedded JPEGs) and report structure and
/// additional-bit statistics, changing nothing.
pub fn inspect(data: &[u8]) -> Result<Report> {
    // The walker's segment callback may write (cipher mode); a digest pass
    // does not, but needs the same mutable window, hence the copy.
    let mut buf = data.to_vec();
    Ok(digest_pass(&Options::default(), &mut buf)?.report)
}

/// What the first (read-only) pass over a whole file yields.
struct DigestPass {
    digest: Seed,
    report: Report,
    spans: engine::Spans,
    masks: [Vec<u8>; 3],
    meta_ranges: Vec<metadata::MetaRange>,
}

/// Parse the whole file in `buf` (not modified): the digest of its
/// invariant bytes, the report, and where and which bits to encrypt.
fn digest_pass(options: &Options, buf: &mut [u8]) -> Result<DigestPass> {
    let n = buf.len();
    let mut masks = [vec![0u8; n], vec![0u8; n], vec![0u8; n]];
    let mut engine = Engine::new(options, Mode::digest());
    let [m0, m1, m2] = &mut masks;
    engine.advance(buf, [m0, m1, m2], 0, true)?;
    let (digest, report, spans, meta_ranges) = engine.finish_digest()?;
    Ok(DigestPass {
        digest,
        report,
        spans,
        masks,
        meta_ranges,
    })
}
