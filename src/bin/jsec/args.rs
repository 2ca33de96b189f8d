//! Command-line syntax (clap derive) and its conversion into library options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jsec::fspe::{Bands, Components, Metadata, Options, Region, Rule};

/// `jsec`: secure JPEG images inside their own format.
#[derive(Debug, Parser)]
#[command(
    name = "jsec",
    version,
    about = "Secure JPEG images inside their own format (file-size-preserving encryption, croppable signatures)",
    long_about = "Secure JPEG images inside their own format.\n\n\
        File-size-preserving encryption (FSPE) scrambles the additional bits of the \
        Huffman-coded coefficients: the protected file has exactly the size of the original, \
        is still a valid JPEG, and decrypts back to identical bytes. Nothing is stored in the \
        file, so the decryptor must be given the same options as the encryptor.\n\n\
        Croppable signatures sign every cell of an image; a crop on the cell grid keeps one \
        aggregate signature that anyone can compute without a key.\n\n\
        Exit status: 0 on success, 2 on bad input or usage (one line per problem on stderr), \
        1 from verify for an invalid signature.",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Encrypt JPEG files (same size, still valid JPEGs).
    Encrypt(CryptArgs),
    /// Decrypt JPEG files encrypted with `jsec encrypt` (give the same options).
    Decrypt(DecryptArgs),
    /// Generate a random key file (hex, mode 0600).
    Keygen(KeygenArgs),
    /// Derive a lower-level key (k1, k2) for multi-level access.
    DeriveKey(DeriveKeyArgs),
    /// Show structure and encryptable-bit statistics of JPEG files.
    Info(InfoArgs),
    /// Draw a picture, then encrypt, decrypt and preview it, explaining each step.
    Demo(DemoArgs),
    /// Sign a JPEG with a croppable signature (every cell of the image signed).
    Sign(SignArgs),
    /// Verify a signed or signed-and-cropped JPEG (exit 0 valid, 1 invalid, 2 bad input).
    Verify(VerifyArgs),
    /// Crop a signed JPEG losslessly on its cell grid, keeping a valid signature (no key).
    Crop(CropArgs),
    /// Give a crop made by another tool (jpegtran -crop) the signature of its cells.
    Attach(AttachArgs),
    /// JPEG 2000 tools (packet index).
    #[command(subcommand)]
    J2k(J2kCommand),
}

/// `jsec j2k ...`.
#[derive(Debug, Subcommand)]
pub enum J2kCommand {
    /// List every packet of a JPEG 2000 codestream or JP2 file: identity and
    /// byte ranges of its header and body (decoded from the packet headers).
    Index(J2kIndexArgs),
    /// Keep only the first layers, the lower resolutions or some tiles of a
    /// JPEG 2000 file, without decoding and without keys (protected packets
    /// stay protected).
    Transcode(J2kTranscodeArgs),
    /// Protect a JPEG 2000 file with JPSEC tools (encryption that plain
    /// decoders still decode, access levels, MACs, signatures, hashes,
    /// content identification), from a policy file or from flags.
    Protect(J2kProtectArgs),
    /// Verify and decrypt a JPSEC-protected file with whatever keys are
    /// given; report per tool and zone (exit 0 ok, 1 verification failed,
    /// 2 bad input).
    Consume(J2kConsumeArgs),
    /// Describe the JPSEC tools of a file and check what needs no key
    /// (hashes, content identification).
    Info(J2kInfoArgs),
    /// Print the access-level key k_N derived from k_0 (hex).
    Keys(J2kKeysArgs),
}

/// Signature and MAC choices of `j2k protect --auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// HMAC-SHA-256 under the key (and its level keys).
    #[value(name = "hmac-sha256")]
    HmacSha256,
    /// HMAC-SHA-1.
    #[value(name = "hmac-sha1")]
    HmacSha1,
    /// HMAC-RIPEMD-160.
    #[value(name = "hmac-ripemd160")]
    HmacRipemd160,
    /// CBC-MAC with AES (ISO/IEC 9797-1 algorithm 1).
    #[value(name = "cbc-mac")]
    CbcMac,
    /// RSA-PSS signature (needs --sign-key, an RSA private key).
    #[value(name = "rsa-pss")]
    RsaPss,
    /// RSA PKCS#1 v1.5 signature (needs --sign-key, an RSA private key).
    #[value(name = "rsa-pkcs1")]
    RsaPkcs1,
    /// ECDSA P-256 signature (needs --sign-key, a P-256 private key).
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
}

/// Access levels of `j2k protect --levels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelsArg {
    /// One level per resolution: k_i opens every resolution up to its own.
    Resolution,
    /// One level per quality layer.
    Layer,
}

/// `jsec j2k protect`.
#[derive(Debug, Clone, Args)]
pub struct J2kProtectArgs {
    /// Policy file (TOML; see docs/jpsec.md). Replaces the flags below.
    #[arg(long, value_name = "POLICY.toml")]
    pub policy: Option<PathBuf>,
    /// Key file (hex: 32, 48 or 64 digits, AES-128/192/256); with
    /// --levels it is k0.
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Multi-level access by resolution or by layer.
    #[arg(long, value_enum)]
    pub levels: Option<LevelsArg>,
    /// Number of access levels (default: as many as resolutions / layers).
    #[arg(long, value_name = "N", requires = "levels")]
    pub level_count: Option<u8>,
    /// Encrypt only this region of the image: X,Y,W,H on the image grid.
    #[arg(long, value_name = "X,Y,W,H", value_delimiter = ',', num_args = 4)]
    pub region: Option<Vec<u32>>,
    /// Encrypt outside the region instead of inside.
    #[arg(long, requires = "region")]
    pub outside: bool,
    /// Cipher mode (ctr, ofb, cfb; ecb and cbc need --non-compliant).
    #[arg(long, default_value = "ctr")]
    pub mode: String,
    /// Plain AES output in packet bodies (not format-compliant: marker
    /// codes may appear; strict decoders may reject the file).
    #[arg(long)]
    pub non_compliant: bool,
    /// Encrypt whole packets (headers too): the zone is not decodable and
    /// the file cannot be transcoded without keys.
    #[arg(long, conflicts_with = "region")]
    pub whole_packets: bool,
    /// Add an authentication tool.
    #[arg(long, value_enum)]
    pub auth: Option<AuthArg>,
    /// Private key for a signature (--auth rsa-pss | rsa-pkcs1 | ecdsa-p256).
    #[arg(long, value_name = "PRIVATE")]
    pub sign_key: Option<PathBuf>,
    /// Authentication / hash units: tile, resolution, layer, component,
    /// precinct, packet.
    #[arg(long, default_value = "resolution")]
    pub granularity: String,
    /// Add a keyless hash tool (sha256, sha1, ripemd160).
    #[arg(long, value_name = "HASH")]
    pub hash: Option<String>,
    /// Add registered content identification: the identifier.
    #[arg(long, value_name = "ID", requires = "authority")]
    pub content_id: Option<String>,
    /// The registration authority of --content-id.
    #[arg(long, value_name = "NAME", requires = "content_id")]
    pub authority: Option<String>,
    /// The .j2k / .j2c / .jp2 file.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The protected file to write.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
}

/// `jsec j2k consume`.
#[derive(Debug, Clone, Args)]
pub struct J2kConsumeArgs {
    /// Key file (any access level's key); may be repeated.
    #[arg(long, value_name = "KEY")]
    pub key: Vec<PathBuf>,
    /// A file of keys, one hex key per line (# comments).
    #[arg(long, value_name = "KEYS")]
    pub keys: Option<PathBuf>,
    /// A trusted signer's public key (PEM / DER SPKI, or a certificate);
    /// may be repeated.
    #[arg(long, value_name = "PUBLIC")]
    pub pubkey: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The protected file.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Where to write what the keys open (not written when a verification
    /// fails).
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
}

/// `jsec j2k info`.
#[derive(Debug, Clone, Args)]
pub struct J2kInfoArgs {
    /// Emit JSON.
    #[arg(long)]
    pub json: bool,
    /// The file.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
}

/// `jsec j2k keys`.
#[derive(Debug, Clone, Args)]
pub struct J2kKeysArgs {
    /// The master key file k0.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// The level N (k_N = H(k_{N-1})).
    #[arg(long, value_name = "N")]
    pub level: u8,
}

/// `jsec j2k transcode`.
#[derive(Debug, Clone, Args)]
pub struct J2kTranscodeArgs {
    /// Drop this many resolution levels (like `opj_decompress -r N`).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub reduce: u8,
    /// Keep this many quality layers (like `opj_decompress -l L`).
    #[arg(long, value_name = "L", value_parser = clap::value_parser!(u16).range(1..))]
    pub layers: Option<u16>,
    /// Keep only these tiles (comma-separated indices).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub tiles: Option<Vec<u16>>,
    /// The .j2k / .j2c / .jp2 file.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The transcoded file to write.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
}

/// `jsec j2k index`.
#[derive(Debug, Clone, Args)]
pub struct J2kIndexArgs {
    /// Emit JSON (schema in docs/cli.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The .j2k / .j2c / .jp2 file.
    #[arg(value_name = "FILE")]
    pub input: PathBuf,
}

/// Eligibility rule (`--rule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleArg {
    /// Every additional bit except those in 0xFF bytes (jsec's extension).
    Full,
    /// Kobayashi & Kiya exactly (fewer bits).
    Paper,
}

/// Components to encrypt (`--components`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ComponentsArg {
    /// Every component.
    All,
    /// The first component (Y) only.
    Luma,
    /// Every component but the first (Cb, Cr).
    Chroma,
}

/// A coefficient band (`--bands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BandArg {
    /// DC coefficients (zigzag index 0).
    Dc,
    /// AC coefficients 1 to 5.
    AcLow,
    /// AC coefficients 6 to 63.
    AcHigh,
}

/// Key type (`keygen --type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// 32-byte key, 64 hex digits.
    Aes256,
    /// 16-byte key, 32 hex digits.
    Aes128,
    /// BLS12-381 signing key (for `sign`, profile compact); --public-out
    /// writes the public key.
    Bls,
    /// ECDSA P-256 long-term signing key (profile paper), PKCS#8 PEM;
    /// --public-out writes the public key (PEM).
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    /// RSA 3072-bit long-term signing key (profile paper, RSA-PSS), PKCS#8
    /// PEM; --public-out writes the public key (PEM).
    #[value(name = "rsa3072")]
    Rsa3072,
}

impl KeyType {
    /// The symmetric key length in bytes (`None` for a signing key).
    pub fn len(self) -> Option<usize> {
        match self {
            KeyType::Aes256 => Some(32),
            KeyType::Aes128 => Some(16),
            KeyType::Bls | KeyType::EcdsaP256 | KeyType::Rsa3072 => None,
        }
    }
}

/// What to encrypt: must be identical for encryption and decryption.
#[derive(Debug, Clone, Args)]
pub struct FspeArgs {
    /// Eligibility rule.
    #[arg(long, value_enum, default_value_t = RuleArg::Full)]
    pub rule: RuleArg,
    /// Components to encrypt.
    #[arg(long, value_enum, default_value_t = ComponentsArg::All)]
    pub components: ComponentsArg,
    /// Coefficient bands to encrypt, comma-separated [default: dc,ac-low,ac-high].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "BAND,...")]
    pub bands: Vec<BandArg>,
    /// Encrypt only the blocks touching this rectangle of the primary image (pixels).
    #[arg(long, value_name = "X,Y,W,H", value_parser = parse_region)]
    pub region: Option<(u32, u32, u32, u32)>,
    /// With --region: encrypt the blocks outside the rectangle instead.
    #[arg(long, requires = "region")]
    pub outside: bool,
    /// Multi-level access: DC with k2, AC 1-5 with k1, AC 6-63 with the master key.
    #[arg(long)]
    pub levels: bool,
    /// A 16-byte nonce (32 hex digits) instead of the one derived from the file.
    #[arg(long, value_name = "HEX32", value_parser = parse_nonce)]
    pub nonce: Option<[u8; 16]>,
    /// Also encipher sensitive EXIF values in place: gps, identity (owner,
    /// artist, serial numbers, unique id), dates. `--exif` alone means
    /// gps,identity (capture dates stay readable).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "CLASS,...",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "gps,identity"
    )]
    pub exif: Option<Vec<ExifArg>>,
}

/// Classes of sensitive EXIF values (`--exif`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExifArg {
    /// Every GPS IFD value but GPSVersionID.
    Gps,
    /// Artist, HostComputer, XPAuthor, CameraOwnerName, Body/LensSerialNumber, ImageUniqueID.
    Identity,
    /// DateTime, DateTimeOriginal/Digitized, SubSecTime*, OffsetTime*.
    Dates,
}

impl FspeArgs {
    /// The library options these flags stand for.
    pub fn options(&self) -> Options {
        let bands = if self.bands.is_empty() {
            Bands::default()
        } else {
            Bands {
                dc: self.bands.contains(&BandArg::Dc),
                ac_low: self.bands.contains(&BandArg::AcLow),
                ac_high: self.bands.contains(&BandArg::AcHigh),
            }
        };
        Options {
            rule: match self.rule {
                RuleArg::Full => Rule::Full,
                RuleArg::Paper => Rule::Paper,
            },
            components: match self.components {
                ComponentsArg::All => Components::All,
                ComponentsArg::Luma => Components::Luma,
                ComponentsArg::Chroma => Components::Chroma,
            },
            bands,
            region: self.region.map(|(x, y, w, h)| Region {
                x,
                y,
                w,
                h,
                outside: self.outside,
            }),
            levels: self.levels,
            nonce: self.nonce,
            metadata: self
                .exif
                .as_deref()
                .map_or_else(Metadata::default, |list| Metadata {
                    location: list.contains(&ExifArg::Gps),
                    identity: list.contains(&ExifArg::Identity),
                    dates: list.contains(&ExifArg::Dates),
                }),
        }
    }
}

/// Where outputs go and how the work is run.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// Write each output into DIR under its input's file name (required with
    /// more than one input or a directory).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Allow OUT to be IN (replace the input); without OUT or --out-dir, every
    /// input is replaced.
    #[arg(long)]
    pub in_place: bool,
    /// Worker threads for batches [default: number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// No progress bar and no summary line (errors and warnings are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `jsec encrypt`.
#[derive(Debug, Clone, Args)]
pub struct CryptArgs {
    /// Key file (32 or 64 hex digits).
    #[arg(long, short = 'k', value_name = "FILE")]
    pub key: PathBuf,
    /// Encryption options.
    #[command(flatten)]
    pub fspe: FspeArgs,
    /// Output options.
    #[command(flatten)]
    pub batch: BatchArgs,
    /// IN OUT; or, with --out-dir / --in-place, any number of input files and directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `jsec decrypt`.
#[derive(Debug, Clone, Args)]
pub struct DecryptArgs {
    /// The same arguments as `encrypt`.
    #[command(flatten)]
    pub common: CryptArgs,
    /// Level of the key in the hash chain (1 = k1, 2 = k2; needs --levels):
    /// k1 restores DC and AC 1-5, k2 the DC only.
    #[arg(long, value_name = "0|1|2", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=2))]
    pub key_level: u8,
}

/// `jsec keygen`.
#[derive(Debug, Clone, Args)]
pub struct KeygenArgs {
    /// Key type.
    #[arg(long = "type", short = 't', value_enum, default_value_t = KeyType::Aes256)]
    pub key_type: KeyType,
    /// Key file to create.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// With a signing key type: also write the public key to this file.
    #[arg(long, value_name = "FILE")]
    pub public_out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Signature profile (`--profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// Perazzo et al.: an ephemeral BLS key per image, certified by a
    /// long-term ECDSA P-256 or RSA key (and optionally its certificate).
    Paper,
    /// jsec's: a long-term BLS key; a crop carries one 48-byte signature.
    Compact,
}

/// `jsec sign`.
#[derive(Debug, Clone, Args)]
pub struct SignArgs {
    /// Secret key file: BLS (`jsec keygen --type bls`, profile compact) or
    /// ECDSA P-256 / RSA in PKCS#8 (profile paper).
    #[arg(long, short = 'k', value_name = "FILE")]
    pub key: PathBuf,
    /// Signature profile [default: compact for a BLS key, paper for an
    /// ECDSA or RSA key].
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
    /// Profile paper: embed the signer's X.509 certificate (DER or PEM); it
    /// must hold the key's public key.
    #[arg(long, value_name = "CERT")]
    pub cert: Option<PathBuf>,
    /// Cell side in iMCUs (16x16 pixels for 4:2:0): smaller cells allow
    /// finer crops and cost more signature bytes.
    #[arg(long, short = 'g', value_name = "G", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=32))]
    pub granularity: u32,
    /// Threads to sign with [default: number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// The JPEG to sign.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The signed JPEG to write.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
}

/// `jsec verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The signer's public key: a BLS public key file (profile compact), or
    /// an ECDSA P-256 / RSA public key (PEM or DER SubjectPublicKeyInfo) or
    /// X.509 certificate (profile paper).
    #[arg(long, short = 'p', value_name = "FILE")]
    pub pubkey: PathBuf,
    /// Threads to verify with [default: number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Emit JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The signed (possibly cropped) JPEG.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
}

/// `jsec crop`.
#[derive(Debug, Clone, Args)]
pub struct CropArgs {
    /// The rectangle to keep, in pixels: its corner on the signature's cell
    /// grid, its far edges on the grid or at the image edge.
    #[arg(long, value_name = "X,Y,W,H", value_parser = parse_region)]
    pub rect: (u32, u32, u32, u32),
    /// The signed JPEG (with its full signature).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The cropped JPEG, with the signature of its cells.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
}

/// `jsec attach`.
#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// The signed original (with its full signature).
    #[arg(long, value_name = "FILE")]
    pub signed: PathBuf,
    /// Threads [default: number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// The crop made by another tool (on the cell grid).
    #[arg(value_name = "CROPPED")]
    pub cropped: PathBuf,
    /// The crop with its signature.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
}

/// `jsec derive-key`.
#[derive(Debug, Clone, Args)]
pub struct DeriveKeyArgs {
    /// Master key file (k0).
    #[arg(long, short = 'k', value_name = "FILE")]
    pub key: PathBuf,
    /// Steps down the hash chain: 1 gives k1, 2 gives k2.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub level: u8,
    /// Key file to create.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `jsec info`.
#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// Emit JSON (schema in docs/cli.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// JPEG files or directories.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `jsec demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Folder for the demo files (created if missing).
    #[arg(long, value_name = "DIR", default_value = "jsec-demo")]
    pub out_dir: PathBuf,
}

/// Parse `X,Y,W,H`.
fn parse_region(s: &str) -> Result<(u32, u32, u32, u32), String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != 4 {
        return Err(format!(
            "expected X,Y,W,H (4 numbers), got {} values",
            parts.len()
        ));
    }
    let mut v = [0u32; 4];
    for (slot, p) in v.iter_mut().zip(&parts) {
        *slot = p
            .parse()
            .map_err(|_| format!("{p:?} is not a non-negative integer"))?;
    }
    if v[2] == 0 || v[3] == 0 {
        return Err("width and height must be greater than 0".into());
    }
    Ok((v[0], v[1], v[2], v[3]))
}

/// Parse 32 hex digits into 16 bytes.
fn parse_nonce(s: &str) -> Result<[u8; 16], String> {
    let b = s.as_bytes();
    if b.len() != 32 {
        return Err(format!(
            "expected 32 hex digits, got {} characters",
            b.len()
        ));
    }
    let mut out = [0u8; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        let hi = hex_digit(b[2 * i]);
        let lo = hex_digit(b[2 * i + 1]);
        match (hi, lo) {
            (Some(h), Some(l)) => *slot = h << 4 | l,
            (None, _) => return Err(format!("character {} is not a hex digit", 2 * i + 1)),
            (_, None) => return Err(format!("character {} is not a hex digit", 2 * i + 2)),
        }
    }
    Ok(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn region_and_nonce_parsing() {
        assert_eq!(parse_region("1, 2,3,4"), Ok((1, 2, 3, 4)));
        assert!(parse_region("1,2,3").is_err());
        assert!(parse_region("1,2,0,4").is_err());
        assert!(parse_region("1,2,-3,4").is_err());
        let n = parse_nonce("000102030405060708090a0b0c0d0E0F").unwrap();
        assert_eq!(n[15], 15);
        assert!(parse_nonce("00").is_err());
        assert!(parse_nonce(&"g".repeat(32)).is_err());
    }

    #[test]
    fn bands_map_onto_options() {
        let cli = Cli::try_parse_from([
            "jsec",
            "encrypt",
            "-k",
            "k",
            "--bands",
            "dc,ac-high",
            "--region",
            "0,0,8,8",
            "--outside",
            "a",
            "b",
        ])
        .unwrap();
        let Command::Encrypt(a) = cli.command else {
            panic!("wrong subcommand")
        };
        let o = a.fspe.options();
        assert!(o.bands.dc && !o.bands.ac_low && o.bands.ac_high);
        assert!(o.region.is_some_and(|r| r.outside && r.w == 8));
    }
}
