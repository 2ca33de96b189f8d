//! The bodies of the fuzz targets (fuzz/fuzz_targets/*.rs include this file
//! by path), so that tests/fuzz_bodies.rs runs exactly the same code on
//! stable in every CI run. Only `jsec` and `std` are used here.
//!
//! Each body panics only on a contract violation: a panic inside jsec, an
//! error without a message, a buffer changed by a failed call, a round trip
//! that does not restore the input, or a stream that disagrees with the
//! in-place result.
#![allow(dead_code)]

use jsec::crypto::Key;
use jsec::fspe::{Bands, Cipher, Components, Direction, Metadata, Options, Region, Rule, Stream};

fn key() -> Key {
    Key::from_bytes(&[0x42; 32]).expect("key")
}

/// Option sets every input is run with: the default, and a busy one.
fn option_sets() -> [Options; 2] {
    [
        Options::default(),
        Options {
            rule: Rule::Paper,
            components: Components::All,
            bands: Bands {
                dc: true,
                ac_low: true,
                ac_high: false,
            },
            region: Some(Region {
                x: 5,
                y: 3,
                w: 11,
                h: 9,
                outside: false,
            }),
            levels: true,
            nonce: None,
            metadata: Metadata {
                location: true,
                identity: true,
                dates: true,
            },
        },
    ]
}

fn check_error(e: &jsec::Error) {
    assert!(!e.message().is_empty(), "error without a message: {e:?}");
}

/// `inspect` target: never panics; errors carry a message.
pub fn inspect(data: &[u8]) {
    match jsec::fspe::inspect(data) {
        Ok(r) => {
            for i in &r.images {
                assert!(i.offset < i.end || i.problem.is_some(), "{i:?}");
                assert!(i.end as usize <= data.len(), "{i:?}");
            }
        }
        Err(e) => check_error(&e),
    }
}

/// `walker_coefficients` target: never panics; decoded grids are consistent.
pub fn walker_coefficients(data: &[u8]) {
    match jsec::jpeg::decode_coefficients(data) {
        Ok(c) => {
            assert_eq!(c.components.len(), c.frame.components.len());
            for comp in &c.components {
                assert_eq!(
                    comp.data.len(),
                    comp.blocks_w as usize * comp.blocks_h as usize * 64
                );
            }
            // Re-encoding the whole image (a crop of everything) keeps every
            // coefficient of every image block, unless the data cannot be
            // coded in baseline Huffman (e.g. a DC difference of a corrupt
            // file beyond 11 bits: the encoder reports that as an error).
            let (w, h) = (c.frame.width, c.frame.height);
            if let Ok(again) = jsec::jpeg::crop::crop(data, &c, (0, 0, w, h), |_, _| true) {
                let d = jsec::jpeg::decode_coefficients(&again).expect("re-encoded file decodes");
                for (a, (b, fc)) in c
                    .components
                    .iter()
                    .zip(d.components.iter().zip(&c.frame.components))
                {
                    for by in 0..fc.blocks_h {
                        for bx in 0..fc.blocks_w {
                            assert_eq!(
                                a.block(bx, by),
                                b.block(bx, by),
                                "block ({bx}, {by}) changed"
                            );
                        }
                    }
                }
            }
        }
        Err(e) => check_error(&e),
    }
}

fn digest_seed(c: &Cipher, data: &[u8], chunks: &mut Chunks) -> Option<[u8; 32]> {
    let mut d = c.digest_stream();
    let mut sink = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let n = chunks.next(data.len() - i);
        if d.update(&data[i..i + n], &mut sink).is_err() {
            return None;
        }
        i += n;
    }
    d.finish().ok()?;
    drain(&mut d, &mut sink);
    assert!(sink == data, "digest stream changed its input");
    d.seed()
}

fn drain(s: &mut Stream, out: &mut Vec<u8>) {
    let mut rest = vec![0u8; s.available()];
    let k = s.read(&mut rest);
    out.extend_from_slice(&rest[..k]);
}

fn stream_all(
    c: &Cipher,
    dir: Direction,
    seed: [u8; 32],
    data: &[u8],
    chunks: &mut Chunks,
) -> jsec::Result<Vec<u8>> {
    let mut s = c.stream(dir, Some(seed))?;
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let n = chunks.next(data.len() - i);
        s.update(&data[i..i + n], &mut out)?;
        i += n;
    }
    s.finish()?;
    drain(&mut s, &mut out);
    Ok(out)
}

/// Chunk sizes from a tiny xorshift seeded by the input.
pub struct Chunks {
    state: u64,
    max: usize,
}

impl Chunks {
    pub fn new(data: &[u8], max: usize) -> Chunks {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for &b in data.iter().take(64) {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01B3);
        }
        Chunks {
            state: h | 1,
            max: max.max(1),
        }
    }
    pub fn next(&mut self, left: usize) -> usize {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        (1 + (x % self.max as u64) as usize).min(left)
    }
}

/// `roundtrip` target: when encrypt succeeds, same size, decrypt restores
/// the input, and the stream gives the in-place result; when it fails, the
/// buffer is unchanged and the stream fails too.
pub fn roundtrip(data: &[u8]) {
    for opts in option_sets() {
        let c = Cipher::new(key(), opts).expect("valid options");
        let mut enc = data.to_vec();
        match c.encrypt(&mut enc) {
            Err(e) => {
                check_error(&e);
                assert!(enc == data, "failed encrypt changed the buffer");
                let mut chunks = Chunks::new(data, 257);
                assert!(
                    digest_seed(&c, data, &mut chunks).is_none(),
                    "digest stream accepts what encrypt rejects: {e}"
                );
            }
            Ok(_) => {
                assert_eq!(enc.len(), data.len());
                let mut dec = enc.clone();
                c.decrypt(&mut dec).expect("decrypt of an encrypted buffer");
                assert!(dec == data, "decrypt(encrypt(x)) != x");
                let mut chunks = Chunks::new(data, 257);
                let seed = digest_seed(&c, data, &mut chunks)
                    .expect("digest stream fails where encrypt worked");
                let out = stream_all(&c, Direction::Encrypt, seed, data, &mut chunks)
                    .expect("stream fails where encrypt worked");
                assert!(out == enc, "stream result differs from in-place");
            }
        }
    }
}

/// `stream_chunks` target: arbitrary chunking (sizes derived from the
/// input) gives the in-place result, both directions.
pub fn stream_chunks(data: &[u8]) {
    let c = Cipher::new(key(), Options::default()).expect("valid options");
    let mut enc = data.to_vec();
    let ok = c.encrypt(&mut enc).is_ok();
    for max in [1usize, 3, 17, 700] {
        let mut chunks = Chunks::new(data, max);
        let seed = digest_seed(&c, data, &mut chunks);
        match (ok, seed) {
            (true, Some(seed)) => {
                let out = stream_all(&c, Direction::Encrypt, seed, data, &mut chunks)
                    .expect("stream fails where encrypt worked");
                assert!(
                    out == enc,
                    "chunks up to {max}: stream differs from in-place"
                );
                let back = stream_all(&c, Direction::Decrypt, seed, &enc, &mut chunks)
                    .expect("stream decrypt");
                assert!(back == data, "chunks up to {max}: stream decrypt differs");
            }
            (true, None) => panic!("digest stream fails where encrypt worked"),
            (false, Some(_)) => {
                panic!("chunks up to {max}: digest stream accepts what encrypt rejects")
            }
            (false, None) => {}
        }
    }
}

/// The signature container, record and verifier: never a panic, every
/// error has a message, a parsed record re-serializes to bytes that parse
/// to the same record, and a file that verifies decodes.
pub fn sign_record(data: &[u8]) {
    use jsec::sign::record::Record;
    if let Ok(rec) = Record::parse(data) {
        assert_eq!(Record::parse(&rec.to_bytes()).expect("re-parse"), rec);
    }
    match jsec::sign::read_record(data) {
        Ok(rec) => assert_eq!(Record::parse(&rec.to_bytes()).expect("re-parse"), rec),
        Err(e) => assert!(!e.message().is_empty()),
    }
    let pk = jsec::crypto::bls::BlsSecretKey::from_ikm(&[0x5A; 32], b"fuzz")
        .expect("key")
        .public_key();
    match jsec::sign::verify_jpeg(data, &pk, 0) {
        Ok(_) => assert!(jsec::jpeg::decode_coefficients(data).is_ok()),
        Err(e) => assert!(!e.message().is_empty()),
    }
}

/// `sign_session` target: a signing session fed the input in chunks of
/// several sizes accepts exactly what the whole-file decoder accepts, and
/// what it signs verifies (which also proves the chunked decode, MCUs cut
/// anywhere, gave the coefficients a one-shot decode gives). One cell
/// (granularity 32) keeps each input to a few signatures.
pub fn sign_session(data: &[u8]) {
    use jsec::sign::{verify_jpeg, CellGrid, SignOptions, SignSession};
    let sk = jsec::crypto::bls::BlsSecretKey::from_ikm(&[0x5A; 32], b"fuzz").expect("key");
    let opts = SignOptions {
        granularity: 32,
        threads: 0,
    };
    let whole = jsec::jpeg::decode_coefficients(data)
        .and_then(|c| CellGrid::new(&c.frame, opts.granularity).map(|_| ()));
    for max in [1usize, 13, 500] {
        let mut s = SignSession::compact(&sk, &opts).expect("session");
        let mut chunks = Chunks::new(data, max);
        let mut at = 0;
        let mut failed = None;
        while at < data.len() {
            let n = chunks.next(data.len() - at);
            if let Err(e) = s.write(&data[at..at + n]) {
                failed = Some(e);
                break;
            }
            at += n;
        }
        let r = match failed {
            Some(e) => Err(e),
            None => s.finish_compact(),
        };
        match (&whole, r) {
            (Ok(()), Ok(signed)) => {
                if let Err(e) = verify_jpeg(&signed, &sk.public_key(), 0) {
                    panic!("chunks up to {max}: the session's signature does not verify: {e}");
                }
            }
            (Err(_), Err(e)) => assert!(!e.message().is_empty()),
            (Ok(()), Err(e)) => {
                panic!("chunks up to {max}: the session refuses a decodable file: {e}")
            }
            (Err(e), Ok(_)) => {
                panic!("chunks up to {max}: the session signs what does not decode: {e}")
            }
        }
    }
}

/// `j2k_codestream` target: the JP2 box and codestream map and the packet
/// index never panic, errors have a message, whatever parses is written
/// back byte for byte and parses again to the same map, and an index's
/// packets lie inside their tile-parts, in order, without overlap.
pub fn j2k_codestream(data: &[u8]) {
    match jsec::j2k::J2kFile::parse(data) {
        Ok(f) => {
            let back = f.write(data).expect("write back");
            assert!(back == data, "not written back identical");
            let again = jsec::j2k::J2kFile::parse(&back).expect("re-parse");
            assert!(again == f, "re-parse differs");
            match jsec::j2k::PacketIndex::build(&f.codestream, data) {
                Ok(ix) => {
                    let mut end = vec![0usize; f.codestream.tile_parts.len()];
                    for p in &ix.packets {
                        let tp = &f.codestream.tile_parts[p.tile_part];
                        assert!(p.offset >= tp.data.start.max(end[p.tile_part]));
                        assert!(p.offset + p.length <= tp.data.end);
                        assert!(p.body_offset + p.body_length == p.offset + p.length);
                        end[p.tile_part] = p.offset + p.length;
                    }
                    // Transcoding what indexes never panics; what it makes
                    // parses (it checks its own output).
                    for (reduce, layers) in [(0, None), (1, Some(1))] {
                        let opts = jsec::j2k::transcode::TranscodeOptions {
                            reduce,
                            layers,
                            tiles: None,
                        };
                        match jsec::j2k::transcode::transcode(data, &opts) {
                            Ok(out) => assert!(jsec::j2k::J2kFile::parse(&out).is_ok()),
                            Err(e) => assert!(!e.message().is_empty()),
                        }
                    }
                }
                Err(e) => assert!(!e.message().is_empty()),
            }
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
}

/// `longterm_keys` target: the key and certificate readers of the paper
/// profile (PEM / DER detection over RustCrypto's parsers) never panic,
/// errors have a message, and a key that parses round-trips.
pub fn longterm_keys(data: &[u8]) {
    use jsec::crypto::longterm::{Certificate, LongTermPublic, LongTermSecret};
    match LongTermSecret::from_encoded(data) {
        Ok(k) => {
            let pem = k.to_pkcs8_pem().expect("encode");
            let back = LongTermSecret::from_encoded(pem.as_bytes()).expect("re-read");
            assert!(back.public_key() == k.public_key());
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
    match LongTermPublic::from_encoded(data) {
        Ok(k) => assert!(LongTermPublic::from_spki_der(k.spki_der()).expect("re-read") == k),
        Err(e) => assert!(!e.message().is_empty()),
    }
    match Certificate::from_encoded(data) {
        Ok(c) => assert!(Certificate::from_encoded(c.der()).expect("re-read") == c),
        Err(e) => assert!(!e.message().is_empty()),
    }
}

/// `jpsec_sec` target: the JPSEC profile reader on a logical SEC stream
/// (a stream that parses is written back identically), and the whole
/// consumer and the SEC-aware transcoder on a file: never a panic, errors
/// have a message, and output is only produced without failures.
pub fn jpsec_sec(data: &[u8]) {
    use jsec::jpsec::{consume, ConsumeOptions, JpsecKey, SecStream};
    match SecStream::from_bytes(data) {
        Ok(s) => {
            let back = s.to_bytes(false);
            assert_eq!(SecStream::from_bytes(&back).expect("re-parse"), s);
            let _ = s.to_bytes(true);
            if let Ok(segs) = s.to_segments() {
                assert_eq!(segs.len() % 2, 0);
            }
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
    let key = JpsecKey::from_bytes(&[0x42; 32]).expect("key");
    let opts = ConsumeOptions {
        keys: vec![key],
        public_keys: vec![],
    };
    match consume(data, &opts) {
        Ok(c) => assert!(c.output.is_none() == c.report.failed()),
        Err(e) => assert!(!e.message().is_empty()),
    }
    let t = jsec::j2k::transcode::TranscodeOptions {
        reduce: 1,
        layers: Some(1),
        tiles: None,
    };
    match jsec::jpsec::transcode::transcode(data, &t) {
        Ok(out) => assert!(jsec::j2k::J2kFile::parse(&out).is_ok()),
        Err(e) => assert!(!e.message().is_empty()),
    }
}

/// `jpsec_policy` target: the TOML policy reader never panics, names what
/// is wrong, and a policy it accepts has at least one tool and asked its
/// loader for the key of every keyed tool.
pub fn jpsec_policy(data: &[u8]) {
    use jsec::jpsec::policy::{parse, KeyKind, LoadedKey};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut asked = Vec::new();
    let r = parse(text, &mut |kind, name| {
        asked.push(name.to_string());
        match kind {
            KeyKind::Symmetric => Ok(LoadedKey::Symmetric(
                jsec::jpsec::JpsecKey::from_bytes(&[0x42; 32]).expect("key"),
            )),
            KeyKind::Signing => Err(jsec::Error::new(
                jsec::ErrorKind::BadKey,
                "no signing keys in the fuzzer",
            )),
        }
    });
    match r {
        Ok(p) => {
            assert!(!p.tools.is_empty());
            let keyed = p
                .tools
                .iter()
                .filter(|t| {
                    matches!(
                        t,
                        jsec::jpsec::ToolSpec::Encrypt { .. }
                            | jsec::jpsec::ToolSpec::EncryptPackets { .. }
                            | jsec::jpsec::ToolSpec::Mac { .. }
                    )
                })
                .count();
            assert_eq!(keyed, asked.len());
        }
        Err(e) => assert!(!e.message().is_empty()),
    }
}

/// `exif` target: the TIFF reader of an EXIF APP1 payload (the input's
/// first APP1 payload when it is a JPEG starting with one, else the input,
/// with `Exif\0\0` put in front when it does not start with it) never panics,
/// and what it reports is consistent: structure ranges inside the payload
/// and sorted, usable fields inside the payload, disjoint from the structure
/// and from each other (docs/fspe.md section 12.2).
pub fn exif(data: &[u8]) {
    let payload = if data.len() > 6 && data[..4] == [0xFF, 0xD8, 0xFF, 0xE1] {
        // A JPEG starting with APP1: its payload.
        let len = u16::from_be_bytes([data[4], data[5]]) as usize;
        data[6..(4 + len).clamp(6, data.len())].to_vec()
    } else if data.starts_with(b"Exif\0") {
        data.to_vec()
    } else {
        [&b"Exif\0\0"[..], data].concat()
    };
    let Some(x) = jsec::jpeg::exif::read(&payload) else {
        return;
    };
    let n = payload.len();
    let mut prev = 0;
    for &(a, b) in &x.structure {
        assert!(a < b && b <= n, "structure range {a}..{b} of {n}");
        assert!(a >= prev, "structure not sorted: {:?}", x.structure);
        prev = a;
    }
    let mut usable: Vec<(usize, usize)> = Vec::new();
    for f in &x.fields {
        if f.problem.is_some() || f.len == 0 {
            continue;
        }
        let (a, b) = (f.offset, f.offset + f.len);
        assert!(b <= n, "field {f:?} past the payload ({n})");
        assert!(
            !x.structure.iter().any(|&(s, e)| s < b && a < e),
            "usable field {f:?} overlaps the structure"
        );
        assert!(
            !usable.iter().any(|&(s, e)| s < b && a < e),
            "usable fields overlap: {f:?}"
        );
        usable.push((a, b));
    }
}
