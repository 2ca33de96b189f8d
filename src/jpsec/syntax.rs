//! The byte layout of JPSEC signalling: SEC marker segments (ISO/IEC
//! 15444-8 §5.5) and the jsec JPSEC profile, version 1, that fills them
//! (`docs/jpsec-format.md`). This module is the only one that knows the
//! bytes: the rest of [`crate::jpsec`] works on [`SecStream`], so a codec
//! for the real T.807 syntax could replace this one.
//!
//! What public sources fix is implemented as they give it: the marker code
//! 0xFF65, SEC segments in the main header after SIZ, consecutive when one
//! is not enough, a 16-bit length, the tool header `t, i, ID, LZOI, ZOI,
//! LPID, PID` with bit 6 of `t` telling a non-normative tool, the template
//! numbers (1 decryption, 2 authentication, 3 hash, 4 NULL), the block
//! cipher identifiers and the hash identifiers. Everything else is the
//! project's own definition, and every tool it writes is marked
//! non-normative so that a T.807 reader does not mistake it for a
//! normative template.

use crate::{Error, ErrorKind, Result};

/// The SEC marker.
pub const SEC: u16 = 0xFF65;
/// First bytes of the profile's logical stream.
pub const MAGIC: [u8; 4] = *b"JPSP";
/// The profile version this code reads and writes.
pub const VERSION: u8 = 1;
/// Largest segment length (`Lsec`) written: even, below 0xFF00.
pub const MAX_LSEC: usize = 0xFEFE;
/// `t` byte of every tool written: bit 6 set (non-normative).
pub const TOOL_T: u8 = 0x40;
/// Block cipher identifier of AES (T.807 table, ISO/IEC 18033-3).
pub const CIPHER_AES: u16 = 0x0001;
/// Processing order: units, and the packets of a unit, are listed and
/// processed in codestream order (the only order profile version 1
/// defines).
pub const ORDER_CODESTREAM: u8 = 1;
/// Processing domain: packet bodies (headers in clear; decodable).
pub const DOMAIN_BODIES: u8 = 1;
/// Processing domain: whole packets after their SOP marker segment (header,
/// EPH and body; not decodable). A packet reference's `offset` and
/// `body_length` then cover those bytes.
pub const DOMAIN_PACKETS: u8 = 2;

/// Protection method template of a tool (T.807 Table 2 numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Decryption template.
    Decryption = 1,
    /// Authentication template.
    Authentication = 2,
    /// Hash template.
    Hash = 3,
    /// NULL tool: used by the profile for registered content identification.
    Null = 4,
}

impl Template {
    fn from_byte(b: u8) -> Option<Template> {
        Some(match b {
            1 => Template::Decryption,
            2 => Template::Authentication,
            3 => Template::Hash,
            4 => Template::Null,
            _ => return None,
        })
    }

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Template::Decryption => "decryption",
            Template::Authentication => "authentication",
            Template::Hash => "hash",
            Template::Null => "content-id",
        }
    }
}

/// Unit of processing (how often IVs, keys or MACs change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One unit per tile.
    Tile = 1,
    /// One unit per tile and resolution level.
    Resolution = 2,
    /// One unit per tile and quality layer.
    Layer = 3,
    /// One unit per tile and component.
    Component = 4,
    /// One unit per precinct (all its layers).
    Precinct = 5,
    /// One unit per packet.
    Packet = 6,
}

impl Granularity {
    /// From the profile code.
    pub fn from_code(b: u8) -> Option<Granularity> {
        Some(match b {
            1 => Granularity::Tile,
            2 => Granularity::Resolution,
            3 => Granularity::Layer,
            4 => Granularity::Component,
            5 => Granularity::Precinct,
            6 => Granularity::Packet,
            _ => return None,
        })
    }

    /// Name, as the policy file and the CLI spell it.
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Tile => "tile",
            Granularity::Resolution => "resolution",
            Granularity::Layer => "layer",
            Granularity::Component => "component",
            Granularity::Precinct => "precinct",
            Granularity::Packet => "packet",
        }
    }

    /// From its name.
    pub fn parse(s: &str) -> Option<Granularity> {
        [
            Granularity::Tile,
            Granularity::Resolution,
            Granularity::Layer,
            Granularity::Component,
            Granularity::Precinct,
            Granularity::Packet,
        ]
        .into_iter()
        .find(|g| g.name().eq_ignore_ascii_case(s))
    }
}

/// How level keys are assigned (the key template of the tools that use a
/// key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// One key for everything (level 0).
    Single = 0,
    /// Level by resolution: resolution `r` of `N` levels is at level
    /// `N - 1 - min(r, N - 1)`.
    Resolution = 1,
    /// Level by quality layer, the same way.
    Layer = 2,
}

impl Access {
    fn from_code(b: u8) -> Option<Access> {
        Some(match b {
            0 => Access::Single,
            1 => Access::Resolution,
            2 => Access::Layer,
            _ => return None,
        })
    }

    /// Name for reports and options.
    pub fn name(self) -> &'static str {
        match self {
            Access::Single => "single",
            Access::Resolution => "resolution",
            Access::Layer => "layer",
        }
    }
}

/// The key template of a keyed tool: the level structure and one key check
/// value per level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    /// How packets map to levels.
    pub access: Access,
    /// Key check value of each level key `k_0 .. k_{N-1}` (N ≥ 1).
    pub checks: Vec<[u8; 8]>,
}

impl KeyTemplate {
    /// Number of levels.
    pub fn levels(&self) -> usize {
        self.checks.len()
    }
}

/// State of a packet reference (mutable: a transcoder marks dropped packets
/// absent, a partial consumer marks opened ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketState {
    /// Not in the codestream any more (dropped by a transcoder).
    Absent = 0,
    /// In the codestream, as the tool left it (encrypted, authenticated).
    Present = 1,
    /// In the codestream and already decrypted by a consumer holding the
    /// level key.
    Opened = 2,
}

/// One packet named in a zone of influence, with where its body lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRef {
    /// Tile index.
    pub tile: u16,
    /// Quality layer.
    pub layer: u16,
    /// Resolution level.
    pub resolution: u8,
    /// Component.
    pub component: u16,
    /// Precinct.
    pub precinct: u32,
    /// Bytes of the packet body.
    pub body_length: u32,
    /// Mutable: present, absent or opened.
    pub state: PacketState,
    /// Mutable: offset of the body from the codestream's first SOT marker.
    pub offset: u32,
}

/// A unit: the packets processed together (one IV, one MAC, one hash), at
/// one key level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// Key level of the unit (0 when the tool has no key).
    pub level: u8,
    /// Its packets, in codestream order.
    pub packets: Vec<PacketRef>,
}

/// A rectangle on the reference grid, `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left.
    pub x0: u32,
    /// Top.
    pub y0: u32,
    /// Right, exclusive.
    pub x1: u32,
    /// Bottom, exclusive.
    pub y1: u32,
}

/// The image-related description of a zone: which tiles, resolutions,
/// layers and components, and an optional region (all `None`: everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageZone {
    /// Tiles.
    pub tiles: Option<Vec<u16>>,
    /// Resolution levels, inclusive range.
    pub resolutions: Option<(u8, u8)>,
    /// Layers, inclusive range.
    pub layers: Option<(u16, u16)>,
    /// Components, inclusive range.
    pub components: Option<(u16, u16)>,
    /// Image region (original reference grid), and whether the zone is
    /// outside it rather than inside.
    pub region: Option<(Region, bool)>,
    /// Precincts, inclusive range of raster indices.
    pub precincts: Option<(u32, u32)>,
    /// Packets by sequence number within their tile (inclusive ranges), as
    /// the codestream had them when the tool was applied.
    pub packets: Option<Vec<(u32, u32)>>,
    /// Byte ranges `(offset, length)` from the first SOT marker when the
    /// tool was applied: the packets whose body meets one.
    pub bytes: Option<Vec<(u32, u32)>>,
}

impl ImageZone {
    /// Whether the zone uses a description tied to the codestream layout
    /// when the tool was applied (packet sequence numbers, byte ranges):
    /// those are resolved once, into the ZOI's packet list.
    pub fn by_layout(&self) -> bool {
        self.packets.is_some() || self.bytes.is_some()
    }
}

/// A tool's zone of influence: the image description, the original
/// reference grid, and the correspondence with the codestream (units of
/// packets with their byte ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zoi {
    /// What part of the image.
    pub image: ImageZone,
    /// The original image area on the reference grid (SIZ `XOsiz, YOsiz,
    /// Xsiz, Ysiz` when the tool was applied).
    pub grid: Region,
    /// Mutable: resolution levels a transcoder has removed since.
    pub reduced: u8,
    /// The units, with their packets.
    pub units: Vec<Unit>,
}

/// Authentication methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HMAC with a hash function.
    Hmac = 1,
    /// CBC-MAC with AES (ISO/IEC 9797-1 MAC algorithm 1).
    CbcMac = 2,
    /// A digital signature over the units' hashes.
    Signature = 3,
}

/// Signature schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaPkcs1v15 = 1,
    /// RSA-PSS with SHA-256 (MGF1 SHA-256, salt 32).
    RsaPss = 2,
    /// ECDSA P-256 with SHA-256 (`r ‖ s`).
    EcdsaP256 = 3,
}

impl SignatureScheme {
    fn from_code(b: u8) -> Option<SignatureScheme> {
        Some(match b {
            1 => SignatureScheme::RsaPkcs1v15,
            2 => SignatureScheme::RsaPss,
            3 => SignatureScheme::EcdsaP256,
            _ => return None,
        })
    }

    /// Name for reports and options.
    pub fn name(self) -> &'static str {
        match self {
            SignatureScheme::RsaPkcs1v15 => "rsa-pkcs1v15",
            SignatureScheme::RsaPss => "rsa-pss",
            SignatureScheme::EcdsaP256 => "ecdsa-p256",
        }
    }
}

/// Parameters of a decryption tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionParams {
    /// Block cipher identifier (only [`CIPHER_AES`]).
    pub cipher: u16,
    /// Key length in bits: 128, 192 or 256.
    pub key_bits: u16,
    /// Mode code (`crypto::modes::Mode`).
    pub mode: u8,
    /// Padding: 0 none (stream modes), 1 ciphertext stealing.
    pub padding: u8,
    /// 1: format-compliant byte-class cipher; 0: plain mode output.
    pub compliant: bool,
    /// Processing domain: [`DOMAIN_BODIES`] or [`DOMAIN_PACKETS`].
    pub domain: u8,
    /// Granularity of IVs (always packet in profile version 1).
    pub granularity: Granularity,
    /// Level keys.
    pub keys: KeyTemplate,
    /// The global IV every unit's IV is derived from.
    pub iv: [u8; 16],
}

/// Parameters of an authentication tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
    /// Method.
    pub method: AuthMethod,
    /// Hash identifier (HMAC's hash, or the unit hash of a signature); 0
    /// for CBC-MAC.
    pub hash: u8,
    /// Signature scheme (signatures only).
    pub scheme: Option<SignatureScheme>,
    /// How units are formed.
    pub granularity: Granularity,
    /// Level keys (MAC methods), or `None` (signatures).
    pub keys: Option<KeyTemplate>,
    /// SHA-256 of the signer's SubjectPublicKeyInfo (signatures), else zero.
    pub key_id: [u8; 32],
    /// One value per unit of the ZOI: MAC tag, or unit hash (signatures).
    pub values: Vec<Vec<u8>>,
    /// The MAC of the SEC canonical form, or the signature.
    pub seal: Vec<u8>,
}

/// Parameters of a hash tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashParams {
    /// Hash identifier.
    pub hash: u8,
    /// How units are formed.
    pub granularity: Granularity,
    /// One hash per unit.
    pub values: Vec<Vec<u8>>,
}

/// Parameters of registered content identification (NULL tool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentIdParams {
    /// Hash identifier.
    pub hash: u8,
    /// The content identifier.
    pub id: String,
    /// The registration authority's name.
    pub authority: String,
    /// Hash binding identifier, authority and the per-unit hashes.
    pub binding: Vec<u8>,
    /// One hash per unit (packet granularity).
    pub values: Vec<Vec<u8>>,
}

/// The parameters (PID) of a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    /// Decryption template.
    Decryption(DecryptionParams),
    /// Authentication template.
    Authentication(AuthParams),
    /// Hash template.
    Hash(HashParams),
    /// Content identification (NULL tool).
    ContentId(ContentIdParams),
    /// A tool this profile does not define: kept as bytes.
    Unknown {
        /// Its `t` byte.
        t: u8,
        /// Its ID bytes.
        id: Vec<u8>,
        /// Its ZOI bytes.
        zoi: Vec<u8>,
        /// Its PID bytes.
        pid: Vec<u8>,
    },
}

/// One tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// Tool instance index `i`.
    pub instance: u32,
    /// Zone of influence (empty for unknown tools).
    pub zoi: Zoi,
    /// Parameters.
    pub params: Params,
}

impl Tool {
    /// The template, `None` for a tool of another profile.
    pub fn template(&self) -> Option<Template> {
        Some(match self.params {
            Params::Decryption(_) => Template::Decryption,
            Params::Authentication(_) => Template::Authentication,
            Params::Hash(_) => Template::Hash,
            Params::ContentId(_) => Template::Null,
            Params::Unknown { .. } => return None,
        })
    }
}

/// The logical JPSEC stream carried by the SEC segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecStream {
    /// Profile flags (0 in version 1).
    pub flags: u8,
    /// The tools, in the order they were applied.
    pub tools: Vec<Tool>,
}

// ---------------------------------------------------------------- writing

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// BAS: 7 value bits per byte, big-endian groups, high bit set on every
    /// byte but the last.
    fn bas(&mut self, v: u64) {
        let mut groups = vec![(v & 0x7F) as u8];
        let mut n = v >> 7;
        while n > 0 {
            groups.push((n & 0x7F) as u8 | 0x80);
            n >>= 7;
        }
        self.0.extend(groups.iter().rev());
    }
    /// BAS16: a first 16-bit group of 15 value bits (high bit: more
    /// follow), then BAS bytes.
    fn bas16(&mut self, v: u64) {
        let mut ext = Vec::new();
        let mut n = v;
        while n >= 1 << 15 {
            let more = if ext.is_empty() { 0 } else { 0x80 };
            ext.push((n & 0x7F) as u8 | more);
            n >>= 7;
        }
        let first = n as u16 | if ext.is_empty() { 0 } else { 0x8000 };
        self.u16(first);
        self.0.extend(ext.iter().rev());
    }
    fn str16(&mut self, s: &str) {
        self.u16(s.len() as u16);
        self.bytes(s.as_bytes());
    }
}

fn write_packet(w: &mut W, p: &PacketRef, canonical: bool) {
    w.u16(p.tile);
    w.u16(p.layer);
    w.u8(p.resolution);
    w.u16(p.component);
    w.u32(p.precinct);
    w.u32(p.body_length);
    if canonical {
        w.u8(0);
        w.u32(0);
    } else {
        w.u8(p.state as u8);
        w.u32(p.offset);
    }
}

fn write_keys(w: &mut W, k: &KeyTemplate) {
    w.u8(k.access as u8);
    w.u8(k.checks.len() as u8);
    for c in &k.checks {
        w.bytes(c);
    }
}

fn write_zoi(z: &Zoi, canonical: bool) -> Vec<u8> {
    let mut w = W(Vec::new());
    let im = &z.image;
    let mut flags = 0u16;
    if im.tiles.is_some() {
        flags |= 0x01;
    }
    if im.resolutions.is_some() {
        flags |= 0x02;
    }
    if im.layers.is_some() {
        flags |= 0x04;
    }
    if im.components.is_some() {
        flags |= 0x08;
    }
    if let Some((_, outside)) = im.region {
        flags |= 0x10 | if outside { 0x20 } else { 0 };
    }
    if im.precincts.is_some() {
        flags |= 0x40;
    }
    if im.packets.is_some() {
        flags |= 0x80;
    }
    if im.bytes.is_some() {
        flags |= 0x100;
    }
    w.u16(flags);
    if let Some(t) = &im.tiles {
        w.bas(t.len() as u64);
        for &x in t {
            w.u16(x);
        }
    }
    if let Some((a, b)) = im.resolutions {
        w.u8(a);
        w.u8(b);
    }
    if let Some((a, b)) = im.layers {
        w.u16(a);
        w.u16(b);
    }
    if let Some((a, b)) = im.components {
        w.u16(a);
        w.u16(b);
    }
    if let Some((r, _)) = im.region {
        for v in [r.x0, r.y0, r.x1, r.y1] {
            w.u32(v);
        }
    }
    if let Some((a, b)) = im.precincts {
        w.u32(a);
        w.u32(b);
    }
    for list in [&im.packets, &im.bytes].into_iter().flatten() {
        w.bas(list.len() as u64);
        for &(a, b) in list {
            w.u32(a);
            w.u32(b);
        }
    }
    for v in [z.grid.x0, z.grid.y0, z.grid.x1, z.grid.y1] {
        w.u32(v);
    }
    w.u8(if canonical { 0 } else { z.reduced });
    w.bas(z.units.len() as u64);
    for u in &z.units {
        w.u8(u.level);
        w.bas(u.packets.len() as u64);
        for p in &u.packets {
            write_packet(&mut w, p, canonical);
        }
    }
    w.0
}

fn write_pid(p: &Params, canonical: bool) -> Vec<u8> {
    let mut w = W(Vec::new());
    match p {
        Params::Decryption(d) => {
            w.u16(d.cipher);
            w.u16(d.key_bits);
            w.u8(d.mode);
            w.u8(d.padding);
            w.u8(d.compliant as u8);
            w.u8(d.domain);
            w.u8(d.granularity as u8);
            w.u8(ORDER_CODESTREAM);
            write_keys(&mut w, &d.keys);
            w.bytes(&d.iv);
        }
        Params::Authentication(a) => {
            w.u8(a.method as u8);
            w.u8(a.hash);
            w.u8(a.scheme.map_or(0, |s| s as u8));
            w.u8(a.granularity as u8);
            w.u8(ORDER_CODESTREAM);
            match &a.keys {
                Some(k) => write_keys(&mut w, k),
                None => {
                    w.u8(0);
                    w.u8(0);
                }
            }
            w.bytes(&a.key_id);
            let vlen = a.values.first().map_or(0, |v| v.len());
            w.u16(vlen as u16);
            // MAC tags are results, hashed units of a signature are inputs.
            let zero_values = canonical && a.method != AuthMethod::Signature;
            for v in &a.values {
                if zero_values {
                    w.bytes(&vec![0; v.len()]);
                } else {
                    w.bytes(v);
                }
            }
            w.u16(a.seal.len() as u16);
            if canonical {
                w.bytes(&vec![0; a.seal.len()]);
            } else {
                w.bytes(&a.seal);
            }
        }
        Params::Hash(h) => {
            w.u8(h.hash);
            w.u8(h.granularity as u8);
            w.u8(ORDER_CODESTREAM);
            let vlen = h.values.first().map_or(0, |v| v.len());
            w.u16(vlen as u16);
            for v in &h.values {
                w.bytes(v);
            }
        }
        Params::ContentId(c) => {
            w.u8(c.hash);
            w.str16(&c.id);
            w.str16(&c.authority);
            w.u16(c.binding.len() as u16);
            w.bytes(&c.binding);
            let vlen = c.values.first().map_or(0, |v| v.len());
            w.u16(vlen as u16);
            for v in &c.values {
                w.bytes(v);
            }
        }
        Params::Unknown { pid, .. } => w.bytes(pid),
    }
    w.0
}

impl SecStream {
    /// The logical stream (unstuffed), as it is carried by the SEC
    /// segments. With `canonical`, the mutable fields (packet states and
    /// offsets, `reduced`) and the authentication results (MAC tags,
    /// seals, signatures) are written as zeros: the form that
    /// authentication tools cover.
    pub fn to_bytes(&self, canonical: bool) -> Vec<u8> {
        let mut w = W(Vec::new());
        w.bytes(&MAGIC);
        w.u8(VERSION);
        w.u8(self.flags);
        w.bas(self.tools.len() as u64);
        for t in &self.tools {
            let (tb, id, zoi, pid) = match &t.params {
                Params::Unknown { t, id, zoi, pid } => (*t, id.clone(), zoi.clone(), pid.clone()),
                p => {
                    let template = t.template().map_or(0, |x| x as u8);
                    let mut id = b"jsec".to_vec();
                    id.extend_from_slice(&[template, VERSION]);
                    (
                        TOOL_T,
                        id,
                        write_zoi(&t.zoi, canonical),
                        write_pid(p, canonical),
                    )
                }
            };
            w.u8(tb);
            w.bas(t.instance as u64);
            w.u8(id.len() as u8);
            w.bytes(&id);
            w.bas16(zoi.len() as u64);
            w.bytes(&zoi);
            w.bas16(pid.len() as u64);
            w.bytes(&pid);
        }
        w.0
    }

    /// The SEC marker segments (markers included) carrying this stream:
    /// stuffed (every 0xFF followed by 0x00), split into segments of even
    /// length at most [`MAX_LSEC`], each `FF65 Lsec Zsec Npad payload pad`.
    pub fn to_segments(&self) -> Result<Vec<u8>> {
        let logical = self.to_bytes(false);
        let mut stuffed = Vec::with_capacity(logical.len() + logical.len() / 64 + 8);
        for &b in &logical {
            stuffed.push(b);
            if b == 0xFF {
                stuffed.push(0);
            }
        }
        // Payload room per segment: Lsec (2) + Zsec (1) + Npad (1) + data
        // + pad <= MAX_LSEC.
        let room = MAX_LSEC - 4;
        let mut out = Vec::new();
        let mut pos = 0;
        let mut z = 0usize;
        while pos < stuffed.len() || z == 0 {
            let mut end = (pos + room).min(stuffed.len());
            // Never split an 0xFF from its stuffing byte.
            if end < stuffed.len() && end > pos && stuffed[end - 1] == 0xFF {
                end -= 1;
            }
            let chunk = &stuffed[pos..end];
            if z > 255 {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the JPSEC parameters need more than 256 SEC marker segments",
                ));
            }
            let pad = (4 + chunk.len()) % 2;
            let lsec = 4 + chunk.len() + pad;
            out.extend_from_slice(&SEC.to_be_bytes());
            out.extend_from_slice(&(lsec as u16).to_be_bytes());
            out.push(z as u8);
            out.push(pad as u8);
            out.extend_from_slice(chunk);
            out.extend(std::iter::repeat(0).take(pad));
            pos = end;
            z += 1;
        }
        Ok(out)
    }

    /// Read the stream from the payloads (after `Lsec`) of consecutive SEC
    /// segments, in file order, with their file offsets for messages.
    pub fn from_segments(payloads: &[(usize, &[u8])]) -> Result<SecStream> {
        let mut stuffed = Vec::new();
        for (z, &(off, p)) in payloads.iter().enumerate() {
            if p.len() < 2 {
                return Err(Error::malformed_at(
                    off as u64,
                    "SEC segment: shorter than its Zsec and Npad fields",
                ));
            }
            if p[0] as usize != z {
                return Err(Error::malformed_at(
                    off as u64,
                    format!(
                        "SEC segment {z}: Zsec is {} (segments must be consecutive and numbered from 0)",
                        p[0]
                    ),
                ));
            }
            let pad = p[1] as usize;
            if pad > 1 || pad > p.len() - 2 {
                return Err(Error::malformed_at(
                    off as u64 + 1,
                    format!("SEC segment {z}: Npad is {pad} (0 or 1 expected)"),
                ));
            }
            stuffed.extend_from_slice(&p[2..p.len() - pad]);
        }
        let mut logical = Vec::with_capacity(stuffed.len());
        let mut i = 0;
        while i < stuffed.len() {
            let b = stuffed[i];
            logical.push(b);
            if b == 0xFF {
                if stuffed.get(i + 1) != Some(&0) {
                    return Err(Error::new(
                        ErrorKind::Malformed,
                        "SEC parameters: an 0xFF byte is not followed by its 0x00 stuffing byte",
                    ));
                }
                i += 1;
            }
            i += 1;
        }
        SecStream::from_bytes(&logical)
    }

    /// Parse the logical (unstuffed) stream.
    pub fn from_bytes(b: &[u8]) -> Result<SecStream> {
        let mut r = R { b, pos: 0 };
        if r.take(4, "profile magic")? != MAGIC {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "SEC parameters: not the jsec JPSEC profile (magic \"JPSP\" missing); \
                 other JPSEC syntaxes are not supported",
            ));
        }
        let version = r.u8("profile version")?;
        if version != VERSION {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("SEC parameters: jsec JPSEC profile version {version} (this is version {VERSION})"),
            ));
        }
        let flags = r.u8("profile flags")?;
        if flags != 0 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("SEC parameters: profile flags 0x{flags:02x} (none are defined)"),
            ));
        }
        let n = r.bas("tool count")?;
        let mut tools = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for k in 0..n {
            // Each tool needs at least 8 bytes: bounds the loop.
            if r.left() < 8 {
                return Err(r.err(format!("tool {k} of {n}: truncated")));
            }
            let t = r.u8("tool t")?;
            let instance = r.bas("tool instance i")?;
            let instance = u32::try_from(instance)
                .map_err(|_| r.err(format!("tool {k}: instance {instance} too large")))?;
            if !seen.insert(instance) {
                return Err(r.err(format!("tool {k}: instance {instance} used twice")));
            }
            let idlen = r.u8("tool ID length")? as usize;
            let id = r.take(idlen, "tool ID")?.to_vec();
            let lz = r.bas16("LZOI")? as usize;
            let zoi = r.take(lz, "ZOI")?;
            let lp = r.bas16("LPID")? as usize;
            let pid = r.take(lp, "PID")?;
            let ours = t == TOOL_T && id.len() == 6 && id[..4] == *b"jsec" && id[5] == VERSION;
            let template = if ours {
                Template::from_byte(id[4])
            } else {
                None
            };
            let Some(template) = template else {
                tools.push(Tool {
                    instance,
                    zoi: Zoi {
                        image: ImageZone::default(),
                        grid: Region {
                            x0: 0,
                            y0: 0,
                            x1: 0,
                            y1: 0,
                        },
                        reduced: 0,
                        units: Vec::new(),
                    },
                    params: Params::Unknown {
                        t,
                        id,
                        zoi: zoi.to_vec(),
                        pid: pid.to_vec(),
                    },
                });
                continue;
            };
            let ctx = |e: Error| e.context(format_args!("tool {instance} ({})", template.name()));
            let zoi = read_zoi(zoi).map_err(ctx)?;
            let params = read_pid(template, pid, zoi.units.len()).map_err(ctx)?;
            tools.push(Tool {
                instance,
                zoi,
                params,
            });
        }
        if r.left() != 0 {
            return Err(r.err(format!("{} bytes after the last tool", r.left())));
        }
        Ok(SecStream { flags, tools })
    }
}

struct R<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> R<'a> {
    fn err(&self, msg: impl Into<String>) -> Error {
        Error::new(
            ErrorKind::Malformed,
            format!("SEC parameters (byte {}): {}", self.pos, msg.into()),
        )
    }
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.left() < n {
            return Err(self.err(format!(
                "truncated in {what} ({n} bytes needed, {} left)",
                self.left()
            )));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let s = self.take(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let s = self.take(4, what)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn bas(&mut self, what: &str) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..5 {
            let b = self.u8(what)?;
            if i == 0 && b == 0x80 {
                return Err(self.err(format!("{what}: BAS value with a leading zero group")));
            }
            v = (v << 7) | (b & 0x7F) as u64;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err(format!("{what}: BAS value longer than 5 bytes")))
    }
    fn bas16(&mut self, what: &str) -> Result<u64> {
        let first = self.u16(what)?;
        let mut v = (first & 0x7FFF) as u64;
        if first & 0x8000 == 0 {
            return Ok(v);
        }
        if v == 0 {
            return Err(self.err(format!("{what}: BAS value with a leading zero group")));
        }
        for _ in 0..3 {
            let b = self.u8(what)?;
            v = (v << 7) | (b & 0x7F) as u64;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err(format!("{what}: BAS value longer than 5 bytes")))
    }
    fn str16(&mut self, what: &str) -> Result<String> {
        let n = self.u16(what)? as usize;
        let s = self.take(n, what)?;
        String::from_utf8(s.to_vec()).map_err(|_| self.err(format!("{what}: not UTF-8")))
    }
    fn end(&self, what: &str) -> Result<()> {
        if self.left() != 0 {
            return Err(self.err(format!("{} bytes after the {what}", self.left())));
        }
        Ok(())
    }
}

fn read_keys(r: &mut R) -> Result<KeyTemplate> {
    let access = r.u8("key access")?;
    let access = Access::from_code(access)
        .ok_or_else(|| r.err(format!("key access code {access} is not defined")))?;
    let n = r.u8("key level count")? as usize;
    if n == 0 {
        return Err(r.err("key template with no level"));
    }
    let mut checks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = [0u8; 8];
        c.copy_from_slice(r.take(8, "key check value")?);
        checks.push(c);
    }
    if access == Access::Single && n != 1 {
        return Err(r.err(format!("single-key template with {n} levels")));
    }
    Ok(KeyTemplate { access, checks })
}

fn read_zoi(b: &[u8]) -> Result<Zoi> {
    let mut r = R { b, pos: 0 };
    let flags = r.u16("zone flags")?;
    if flags & !0x1FF != 0 || (flags & 0x20 != 0 && flags & 0x10 == 0) {
        return Err(r.err(format!("zone flags 0x{flags:04x}: undefined bits")));
    }
    let mut im = ImageZone::default();
    if flags & 0x01 != 0 {
        let n = r.bas("tile count")?;
        if n > r.left() as u64 / 2 {
            return Err(r.err(format!("{n} tiles: truncated")));
        }
        let mut t = Vec::with_capacity(n as usize);
        for _ in 0..n {
            t.push(r.u16("tile")?);
        }
        im.tiles = Some(t);
    }
    if flags & 0x02 != 0 {
        let (a, b) = (r.u8("resolution")?, r.u8("resolution")?);
        if a > b {
            return Err(r.err(format!("resolution range {a}..{b}")));
        }
        im.resolutions = Some((a, b));
    }
    if flags & 0x04 != 0 {
        let (a, b) = (r.u16("layer")?, r.u16("layer")?);
        if a > b {
            return Err(r.err(format!("layer range {a}..{b}")));
        }
        im.layers = Some((a, b));
    }
    if flags & 0x08 != 0 {
        let (a, b) = (r.u16("component")?, r.u16("component")?);
        if a > b {
            return Err(r.err(format!("component range {a}..{b}")));
        }
        im.components = Some((a, b));
    }
    if flags & 0x10 != 0 {
        let reg = read_rect(&mut r, "region")?;
        im.region = Some((reg, flags & 0x20 != 0));
    }
    if flags & 0x40 != 0 {
        let (a, b) = (r.u32("precinct")?, r.u32("precinct")?);
        if a > b {
            return Err(r.err(format!("precinct range {a}..{b}")));
        }
        im.precincts = Some((a, b));
    }
    for (bit, what) in [(0x80u16, "packet range"), (0x100, "byte range")] {
        if flags & bit == 0 {
            continue;
        }
        let n = r.bas(what)?;
        if n == 0 || n > r.left() as u64 / 8 {
            return Err(r.err(format!("{n} {what}s")));
        }
        let mut v = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let (a, b) = (r.u32(what)?, r.u32(what)?);
            if bit == 0x80 && a > b {
                return Err(r.err(format!("packet range {a}..{b}")));
            }
            v.push((a, b));
        }
        if bit == 0x80 {
            im.packets = Some(v);
        } else {
            im.bytes = Some(v);
        }
    }
    let grid = read_rect(&mut r, "reference grid")?;
    let reduced = r.u8("reduced levels")?;
    if reduced > 32 {
        return Err(r.err(format!("{reduced} reduced levels")));
    }
    let nu = r.bas("unit count")?;
    // A unit takes at least 2 bytes.
    if nu > r.left() as u64 / 2 {
        return Err(r.err(format!("{nu} units: truncated")));
    }
    let mut units = Vec::with_capacity(nu as usize);
    for _ in 0..nu {
        let level = r.u8("unit level")?;
        let np = r.bas("packet count")?;
        if np > r.left() as u64 / 20 {
            return Err(r.err(format!("{np} packets: truncated")));
        }
        let mut packets = Vec::with_capacity(np as usize);
        for _ in 0..np {
            let tile = r.u16("packet tile")?;
            let layer = r.u16("packet layer")?;
            let resolution = r.u8("packet resolution")?;
            let component = r.u16("packet component")?;
            let precinct = r.u32("packet precinct")?;
            let body_length = r.u32("packet body length")?;
            let state = match r.u8("packet state")? {
                0 => PacketState::Absent,
                1 => PacketState::Present,
                2 => PacketState::Opened,
                s => return Err(r.err(format!("packet state {s} is not defined"))),
            };
            let offset = r.u32("packet offset")?;
            packets.push(PacketRef {
                tile,
                layer,
                resolution,
                component,
                precinct,
                body_length,
                state,
                offset,
            });
        }
        units.push(Unit { level, packets });
    }
    r.end("ZOI")?;
    Ok(Zoi {
        image: im,
        grid,
        reduced,
        units,
    })
}

fn read_rect(r: &mut R, what: &str) -> Result<Region> {
    let reg = Region {
        x0: r.u32(what)?,
        y0: r.u32(what)?,
        x1: r.u32(what)?,
        y1: r.u32(what)?,
    };
    if reg.x0 >= reg.x1 || reg.y0 >= reg.y1 {
        return Err(r.err(format!(
            "{what} [{}, {}) x [{}, {}) is empty",
            reg.x0, reg.x1, reg.y0, reg.y1
        )));
    }
    Ok(reg)
}

fn read_values(r: &mut R, n: usize, what: &str) -> Result<Vec<Vec<u8>>> {
    let len = r.u16(what)? as usize;
    if len == 0 && n > 0 {
        return Err(r.err(format!("{what}: zero-length values")));
    }
    if (len as u64) * (n as u64) > r.left() as u64 {
        return Err(r.err(format!("{what}: {n} values of {len} bytes: truncated")));
    }
    (0..n).map(|_| Ok(r.take(len, what)?.to_vec())).collect()
}

/// The granularity, then the processing order (only codestream order is
/// defined).
fn read_granularity(r: &mut R) -> Result<Granularity> {
    let g = r.u8("granularity")?;
    let g = Granularity::from_code(g)
        .ok_or_else(|| r.err(format!("granularity code {g} is not defined")))?;
    let o = r.u8("processing order")?;
    if o != ORDER_CODESTREAM {
        return Err(r.err(format!(
            "processing order {o} is not defined (1: codestream order)"
        )));
    }
    Ok(g)
}

fn read_hash_id(r: &mut R) -> Result<u8> {
    let h = r.u8("hash identifier")?;
    if crate::crypto::mac::HashAlg::from_id(h).is_none() {
        return Err(r.err(format!(
            "hash identifier {h} is not supported (1 SHA-1, 3 RIPEMD-160, 7 SHA-256)"
        )));
    }
    Ok(h)
}

fn read_pid(template: Template, b: &[u8], units: usize) -> Result<Params> {
    let mut r = R { b, pos: 0 };
    let p = match template {
        Template::Decryption => {
            let cipher = r.u16("cipher identifier")?;
            if cipher != CIPHER_AES {
                return Err(r.err(format!(
                    "block cipher 0x{cipher:04x} is not supported (AES is 0x0001)"
                )));
            }
            let key_bits = r.u16("key length")?;
            if ![128, 192, 256].contains(&key_bits) {
                return Err(r.err(format!("AES key length {key_bits} bits")));
            }
            let mode = r.u8("mode")?;
            let m = crate::crypto::modes::Mode::from_code(mode)
                .ok_or_else(|| r.err(format!("cipher mode code {mode} is not defined")))?;
            let padding = r.u8("padding")?;
            let block_mode = matches!(
                m,
                crate::crypto::modes::Mode::Ecb | crate::crypto::modes::Mode::Cbc
            );
            if padding > 1 || (padding == 1) != block_mode {
                return Err(r.err(format!("padding code {padding} with mode {}", m.name())));
            }
            let compliant = match r.u8("compliance")? {
                0 => false,
                1 if !block_mode => true,
                c => return Err(r.err(format!("compliance code {c} with mode {}", m.name()))),
            };
            let domain = r.u8("processing domain")?;
            let allowed = domain == DOMAIN_BODIES || (domain == DOMAIN_PACKETS && !compliant);
            if !allowed {
                return Err(r.err(format!(
                    "processing domain {domain}{} is not defined",
                    if compliant {
                        " with the compliant cipher"
                    } else {
                        ""
                    }
                )));
            }
            let granularity = read_granularity(&mut r)?;
            if granularity != Granularity::Packet {
                return Err(r.err("decryption granularity must be packet in profile version 1"));
            }
            let keys = read_keys(&mut r)?;
            let mut iv = [0u8; 16];
            iv.copy_from_slice(r.take(16, "global IV")?);
            Params::Decryption(DecryptionParams {
                cipher,
                key_bits,
                mode,
                padding,
                compliant,
                domain,
                granularity,
                keys,
                iv,
            })
        }
        Template::Authentication => {
            let method = match r.u8("authentication method")? {
                1 => AuthMethod::Hmac,
                2 => AuthMethod::CbcMac,
                3 => AuthMethod::Signature,
                m => return Err(r.err(format!("authentication method {m} is not defined"))),
            };
            let hash = if method == AuthMethod::CbcMac {
                match r.u8("hash identifier")? {
                    0 => 0,
                    h => return Err(r.err(format!("CBC-MAC with hash identifier {h}"))),
                }
            } else {
                read_hash_id(&mut r)?
            };
            let sc = r.u8("signature scheme")?;
            let scheme = match (method, sc) {
                (AuthMethod::Signature, s) => Some(
                    SignatureScheme::from_code(s)
                        .ok_or_else(|| r.err(format!("signature scheme {s} is not defined")))?,
                ),
                (_, 0) => None,
                (_, s) => return Err(r.err(format!("signature scheme {s} with a MAC"))),
            };
            let granularity = read_granularity(&mut r)?;
            let keys = if method == AuthMethod::Signature {
                if r.take(2, "key template")? != [0, 0] {
                    return Err(r.err("a signature tool with a key template"));
                }
                None
            } else {
                Some(read_keys(&mut r)?)
            };
            let mut key_id = [0u8; 32];
            key_id.copy_from_slice(r.take(32, "key identifier")?);
            let values = read_values(&mut r, units, "unit values")?;
            let sl = r.u16("seal length")? as usize;
            let seal = r.take(sl, "seal")?.to_vec();
            Params::Authentication(AuthParams {
                method,
                hash,
                scheme,
                granularity,
                keys,
                key_id,
                values,
                seal,
            })
        }
        Template::Hash => {
            let hash = read_hash_id(&mut r)?;
            let granularity = read_granularity(&mut r)?;
            let values = read_values(&mut r, units, "unit hashes")?;
            Params::Hash(HashParams {
                hash,
                granularity,
                values,
            })
        }
        Template::Null => {
            let hash = read_hash_id(&mut r)?;
            let id = r.str16("content identifier")?;
            let authority = r.str16("registration authority")?;
            let bl = r.u16("binding length")? as usize;
            let binding = r.take(bl, "binding")?.to_vec();
            let values = read_values(&mut r, units, "unit hashes")?;
            Params::ContentId(ContentIdParams {
                hash,
                id,
                authority,
                binding,
                values,
            })
        }
    };
    r.end("PID")?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SecStream {
        let p = PacketRef {
            tile: 1,
            layer: 2,
            resolution: 3,
            component: 0,
            precinct: 7,
            body_length: 300,
            state: PacketState::Present,
            offset: 0xFF_FF,
        };
        let zoi = Zoi {
            image: ImageZone {
                tiles: Some(vec![0, 1]),
                resolutions: Some((1, 4)),
                layers: None,
                components: Some((0, 0)),
                region: Some((
                    Region {
                        x0: 1,
                        y0: 2,
                        x1: 300,
                        y1: 0xFFFF,
                    },
                    true,
                )),
                precincts: Some((0, 3)),
                packets: Some(vec![(0, 4), (9, 9)]),
                bytes: Some(vec![(100, 50)]),
            },
            grid: Region {
                x0: 0,
                y0: 0,
                x1: 640,
                y1: 480,
            },
            reduced: 1,
            units: vec![Unit {
                level: 2,
                packets: vec![p; 3],
            }],
        };
        SecStream {
            flags: 0,
            tools: vec![
                Tool {
                    instance: 0,
                    zoi: zoi.clone(),
                    params: Params::Decryption(DecryptionParams {
                        cipher: CIPHER_AES,
                        key_bits: 256,
                        mode: 5,
                        padding: 0,
                        compliant: true,
                        domain: 1,
                        granularity: Granularity::Packet,
                        keys: KeyTemplate {
                            access: Access::Resolution,
                            checks: vec![[0xFF; 8], [1; 8], [2; 8]],
                        },
                        iv: [0xFF; 16],
                    }),
                },
                Tool {
                    instance: 300,
                    zoi,
                    params: Params::Authentication(AuthParams {
                        method: AuthMethod::Hmac,
                        hash: 7,
                        scheme: None,
                        granularity: Granularity::Resolution,
                        keys: Some(KeyTemplate {
                            access: Access::Single,
                            checks: vec![[9; 8]],
                        }),
                        key_id: [0; 32],
                        values: vec![vec![0xAB; 32]],
                        seal: vec![0xFF; 32],
                    }),
                },
            ],
        }
    }

    #[test]
    fn round_trip_through_segments() {
        let s = sample();
        let segs = s.to_segments().unwrap();
        assert_eq!(u16::from_be_bytes([segs[0], segs[1]]), SEC);
        let lsec = u16::from_be_bytes([segs[2], segs[3]]) as usize;
        assert_eq!(lsec % 2, 0);
        assert_eq!(segs.len(), 2 + lsec);
        // No 0xFF followed by anything but 0x00 in the payload.
        let payload = &segs[4..];
        for w in payload.windows(2) {
            assert!(w[0] != 0xFF || w[1] == 0);
        }
        let back = SecStream::from_segments(&[(0, &segs[4..])]).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn many_segments_are_consecutive_and_even() {
        let mut s = sample();
        let p = s.tools[0].zoi.units[0].packets[0];
        s.tools[0].zoi.units[0].packets = vec![p; 9000];
        let segs = s.to_segments().unwrap();
        let mut pos = 0;
        let mut payloads = Vec::new();
        while pos < segs.len() {
            assert_eq!(&segs[pos..pos + 2], &[0xFF, 0x65]);
            let l = u16::from_be_bytes([segs[pos + 2], segs[pos + 3]]) as usize;
            assert!(l % 2 == 0 && l <= MAX_LSEC);
            payloads.push((pos, &segs[pos + 4..pos + 2 + l]));
            pos += 2 + l;
        }
        assert!(payloads.len() > 2);
        assert_eq!(SecStream::from_segments(&payloads).unwrap(), s);
        // Out of order: named.
        payloads.swap(0, 1);
        let e = SecStream::from_segments(&payloads).unwrap_err();
        assert!(e.message().contains("Zsec"), "{}", e.message());
    }

    #[test]
    fn canonical_form_ignores_mutable_fields_only() {
        let s = sample();
        let mut t = s.clone();
        t.tools[0].zoi.units[0].packets[1].state = PacketState::Absent;
        t.tools[0].zoi.units[0].packets[1].offset = 5;
        t.tools[1].zoi.reduced = 3;
        if let Params::Authentication(a) = &mut t.tools[1].params {
            a.values[0][0] ^= 1;
            a.seal[0] ^= 1;
        }
        assert_eq!(s.to_bytes(true), t.to_bytes(true));
        assert_ne!(s.to_bytes(false), t.to_bytes(false));
        let mut u = s.clone();
        u.tools[0].zoi.units[0].packets[1].body_length += 1;
        assert_ne!(s.to_bytes(true), u.to_bytes(true));
    }

    #[test]
    fn bas_round_trip() {
        for v in [
            0u64,
            1,
            127,
            128,
            0x3FFF,
            0x4000,
            0x7FFF,
            0x8000,
            1 << 20,
            u32::MAX as u64,
        ] {
            let mut w = W(Vec::new());
            w.bas(v);
            w.bas16(v);
            let mut r = R { b: &w.0, pos: 0 };
            assert_eq!(r.bas("x").unwrap(), v);
            assert_eq!(r.bas16("x").unwrap(), v);
            assert_eq!(r.left(), 0);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        let b = sample().to_bytes(false);
        for n in 0..b.len() {
            let e = SecStream::from_bytes(&b[..n]).unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::Malformed | ErrorKind::Unsupported),
                "{n}"
            );
        }
    }
}
