//! Signed JPEG files in the `paper` profile (a fresh ephemeral BLS key per
//! image signs the cells; a long-term ECDSA P-256 or RSA-PSS key signs the
//! header statement and the ephemeral public key): round trips over
//! generated images and the shared corpus, crops (jsec's own and
//! `jpegtran -crop` + attach), X.509 certificates and OpenSSL
//! interoperability, external signers, tampering, malformed records and a
//! bit-flip campaign on a signed crop.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use common::{generate, Layout};
use jsec::crypto::bls::{BlsSecretKey, PUBLIC_KEY_LEN};
use jsec::crypto::longterm::{Algorithm, Certificate, LongTermPublic, LongTermSecret};
use jsec::jpeg::coefficients::decode_coefficients;
use jsec::jpeg::Coefficients;
use jsec::sign::container;
use jsec::sign::record::{
    Certification, Common, Record, MAX_CERTIFICATE_LEN, PROFILE_COMPACT, PROFILE_PAPER,
};
use jsec::sign::{
    attach, crop_jpeg, read_record, sign_jpeg, sign_jpeg_paper, verify_jpeg, CellGrid,
    LongTermSigner, SignOptions, Verified,
};
use jsec::{Error, ErrorKind};

// ---------------------------------------------------------------- helpers

fn opts(granularity: u32, threads: usize) -> SignOptions {
    SignOptions {
        granularity,
        threads,
    }
}

/// One RSA-2048 key for the whole test binary (generation is slow).
fn rsa_key() -> &'static LongTermSecret {
    static KEY: OnceLock<LongTermSecret> = OnceLock::new();
    KEY.get_or_init(|| {
        let t = Instant::now();
        let k = LongTermSecret::generate_rsa(2048).expect("RSA-2048 key generation");
        eprintln!("RSA-2048 key generated in {:.2?}", t.elapsed());
        k
    })
}

fn grid_of(jpeg: &[u8], g: u32) -> CellGrid {
    let coefs = decode_coefficients(jpeg).unwrap();
    CellGrid::new(&coefs.frame, g).unwrap()
}

/// The pixel rectangle `(x, y, w, h)` of the cells `[cx, cx + nx) x [cy,
/// cy + ny)`, clipped to the image.
fn cell_rect(grid: &CellGrid, cx: u32, cy: u32, nx: u32, ny: u32) -> (u32, u32, u32, u32) {
    let (x0, y0) = (cx * grid.cell_w(), cy * grid.cell_h());
    let x1 = ((cx + nx) * grid.cell_w()).min(grid.width);
    let y1 = ((cy + ny) * grid.cell_h()).min(grid.height);
    (x0, y0, x1 - x0, y1 - y0)
}

fn err_of(r: jsec::Result<Verified>) -> Error {
    r.expect_err("verification should have failed")
}

/// `r` is a `VerificationFailed` error whose message contains `reason`.
#[track_caller]
fn assert_fails(r: jsec::Result<Verified>, reason: &str, what: &str) -> Error {
    let e = err_of(r);
    assert_eq!(e.kind(), ErrorKind::VerificationFailed, "{what}: {e}");
    assert!(
        e.message().contains(reason),
        "{what}: expected a message containing {reason:?}, got: {e}"
    );
    e
}

/// The raw record bytes stored in the file's container.
fn raw_record(jpeg: &[u8]) -> Vec<u8> {
    let segs = jsec::jpeg::marker::header_segments(jpeg).unwrap();
    container::read_record(jpeg, &segs)
        .unwrap()
        .expect("a record")
}

fn with_raw_record(jpeg: &[u8], raw: &[u8]) -> Vec<u8> {
    container::replace_record(jpeg, Some(raw)).unwrap()
}

fn with_record(jpeg: &[u8], rec: &Record) -> Vec<u8> {
    with_raw_record(jpeg, &rec.to_bytes())
}

fn common_mut(rec: &mut Record) -> &mut Common {
    match rec {
        Record::Full { common, .. } | Record::Cropped { common, .. } => common,
    }
}

fn cert_mut(rec: &mut Record) -> &mut Certification {
    common_mut(rec)
        .certification
        .as_mut()
        .expect("a paper-profile record")
}

fn certification(rec: &Record) -> &Certification {
    rec.common()
        .certification
        .as_ref()
        .expect("a paper-profile record")
}

/// Every image block (not the padding of partial iMCUs) holds the same
/// coefficients in `a` and `b`.
fn same_image_blocks(a: &Coefficients, b: &Coefficients) -> bool {
    a.frame == b.frame
        && a.frame.components.iter().enumerate().all(|(c, fc)| {
            (0..fc.blocks_h).all(|by| {
                (0..fc.blocks_w)
                    .all(|bx| a.components[c].block(bx, by) == b.components[c].block(bx, by))
            })
        })
}

/// Re-encode `signed` with the coefficients `coefs` (same size), keeping
/// its COM segments (and so its signature).
fn reencode(signed: &[u8], coefs: &Coefficients) -> Vec<u8> {
    let (w, h) = (coefs.frame.width, coefs.frame.height);
    jsec::jpeg::crop::crop(signed, coefs, (0, 0, w, h), |_, _| true).unwrap()
}

/// Copy the blocks of cell `from` of `src` into cell `to` of `dst` (both
/// full cells of the same grid).
fn copy_cell(
    dst: &mut Coefficients,
    to: (u32, u32),
    src: &Coefficients,
    from: (u32, u32),
    grid: &CellGrid,
) {
    for c in 0..dst.components.len() {
        let (dx0, dy0, dx1, dy1) = jsec::sign::cells::cell_blocks(&dst.frame, grid, c, to.0, to.1);
        let (sx0, sy0, sx1, sy1) =
            jsec::sign::cells::cell_blocks(&src.frame, grid, c, from.0, from.1);
        assert_eq!((dx1 - dx0, dy1 - dy0), (sx1 - sx0, sy1 - sy0), "cell sizes");
        for dy in 0..dy1 - dy0 {
            for dx in 0..dx1 - dx0 {
                let block = src.components[c].block(sx0 + dx, sy0 + dy).to_vec();
                let cc = &mut dst.components[c];
                let i = (((dy0 + dy) * cc.blocks_w + dx0 + dx) * 64) as usize;
                cc.data[i..i + 64].copy_from_slice(&block);
            }
        }
    }
}

/// The statement the long-term key signs, rebuilt from the documented
/// layout (header message with profile byte 1, then the 96-byte ephemeral
/// key): `0x02 | binding | 1 | g | u32 width | u32 height | u8 Nf | (H, V)
/// per component | ephemeral`.
fn statement(signed: &[u8]) -> Vec<u8> {
    let rec = read_record(signed).unwrap();
    let c = rec.common();
    let coefs = decode_coefficients(signed).unwrap();
    let mut m = vec![0x02];
    m.extend_from_slice(&c.binding);
    m.extend_from_slice(&[PROFILE_PAPER, c.g]);
    m.extend_from_slice(&c.width.to_be_bytes());
    m.extend_from_slice(&c.height.to_be_bytes());
    m.push(coefs.frame.components.len() as u8);
    for fc in &coefs.frame.components {
        m.extend_from_slice(&[fc.h, fc.v]);
    }
    m.extend_from_slice(&certification(&rec).ephemeral.to_bytes());
    m
}

// ECDSA signature encodings, written here independently of the library.

fn der_integer(be: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = be.iter().copied().skip_while(|&b| b == 0).collect();
    if v.is_empty() || v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    let mut out = vec![0x02, v.len() as u8];
    out.extend_from_slice(&v);
    out
}

/// `r ‖ s` (64 bytes) as a DER `ECDSA-Sig-Value`.
fn ecdsa_der(rs: &[u8]) -> Vec<u8> {
    assert_eq!(rs.len(), 64);
    let body = [der_integer(&rs[..32]), der_integer(&rs[32..])].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    out
}

/// The order of P-256.
const P256_N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// `(r, s)` → `(r, n − s)`: the other valid signature (high S if `s` was
/// low).
fn negate_s(rs: &[u8]) -> Vec<u8> {
    let mut out = rs.to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = P256_N[i] as i16 - rs[32 + i] as i16 - borrow;
        out[32 + i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    out
}

/// A long-term signer that stands for an HSM or a remote service: it claims
/// `public` and answers with `sign`; counts its calls.
struct External<F: Fn(&[u8]) -> jsec::Result<Vec<u8>> + Send + Sync> {
    public: jsec::Result<LongTermPublic>,
    sign: F,
    calls: AtomicUsize,
}

impl<F: Fn(&[u8]) -> jsec::Result<Vec<u8>> + Send + Sync> External<F> {
    fn new(public: LongTermPublic, sign: F) -> Self {
        External {
            public: Ok(public),
            sign,
            calls: AtomicUsize::new(0),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl<F: Fn(&[u8]) -> jsec::Result<Vec<u8>> + Send + Sync> LongTermSigner for External<F> {
    fn public_key(&self) -> jsec::Result<LongTermPublic> {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> jsec::Result<Vec<u8>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        (self.sign)(message)
    }
}

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: openssl not installed; OpenSSL part of this test skipped");
    }
    ok
}

/// Run `openssl args…` in `dir`; panics with its stderr when it fails.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// `openssl req -x509` for the PKCS#8 key file `key` in `dir`: writes
/// `<name>.der` and `<name>.pem`, returns (DER, PEM).
fn make_certificate(dir: &Path, key: &str, name: &str, subject: &str) -> (Vec<u8>, Vec<u8>) {
    let der = format!("{name}.der");
    let pem = format!("{name}.pem");
    openssl(
        dir,
        &[
            "req", "-new", "-x509", "-key", key, "-subj", subject, "-days", "1", "-outform", "DER",
            "-out", &der,
        ],
    );
    openssl(
        dir,
        &[
            "x509", "-inform", "DER", "-in", &der, "-outform", "PEM", "-out", &pem,
        ],
    );
    (
        std::fs::read(dir.join(der)).unwrap(),
        std::fs::read(dir.join(pem)).unwrap(),
    )
}

fn write_key(dir: &Path, name: &str, key: &LongTermSecret) {
    std::fs::write(dir.join(name), key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
}

fn djpeg_ok(jpeg: &[u8]) -> bool {
    common::djpeg_clean(jpeg, "sign_paper").is_ok()
}

// ---------------------------------------------------------------- 1. round trips

/// Generated test images: every chroma layout, restart intervals, sizes
/// that are not multiples of the MCU.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("420-100x70", generate(100, 70, Layout::S420, 80, 0, 1)),
        ("420-rst1-75x51", generate(75, 51, Layout::S420, 75, 1, 2)),
        ("444-rst3-90x61", generate(90, 61, Layout::S444, 85, 3, 3)),
        ("422-rst2-83x48", generate(83, 48, Layout::S422, 80, 2, 4)),
        ("gray-41x35", generate(41, 35, Layout::Gray, 85, 0, 5)),
        ("gray-rst2-57x29", generate(57, 29, Layout::Gray, 90, 2, 6)),
    ]
}

/// Crop rectangles in cells `(cx, cy, nx, ny)` worth trying on a grid: an
/// interior cell, a crop to the right / bottom edges, the last (partial)
/// cell, the whole image.
fn crop_cells(grid: &CellGrid) -> Vec<(u32, u32, u32, u32)> {
    let (cx, cy) = (grid.cells_x, grid.cells_y);
    let mut v = vec![(0, 0, cx, cy), (cx - 1, cy - 1, 1, 1), (0, 0, 1, 1)];
    if cx >= 2 {
        v.push((1, 0, cx - 1, cy));
    }
    if cy >= 2 {
        v.push((0, cy / 2, cx, cy - cy / 2));
    }
    if cx >= 3 && cy >= 3 {
        v.push((1, 1, cx - 2, cy - 2));
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Sign `jpeg` with `sk` at granularity `g`, verify, crop (jsec and
/// jpegtran), verify the crops.
fn round_trip(name: &str, jpeg: &[u8], sk: &LongTermSecret, g: u32) {
    let what = format!("{name} g={g} {}", sk.algorithm().name());
    let pk = sk.public_key();
    let signed = sign_jpeg_paper(jpeg, sk, None, &opts(g, 2)).unwrap();
    // Only COM segments were added.
    assert_eq!(
        container::replace_record(&signed, None).unwrap(),
        jpeg,
        "{what}"
    );
    if common::have_tool("djpeg") {
        assert!(djpeg_ok(&signed), "{what}: djpeg refuses the signed file");
    }
    let grid = grid_of(jpeg, g);
    let rec = read_record(&signed).unwrap();
    assert_eq!(raw_record(&signed)[0], PROFILE_PAPER, "{what}");
    assert_eq!(rec.common().profile(), PROFILE_PAPER);
    let cert = certification(&rec);
    assert_eq!(cert.algorithm, sk.algorithm(), "{what}");
    assert_eq!(cert.signature.len(), pk.signature_len(), "{what}");
    assert!(cert.certificate.is_empty(), "{what}");
    assert!(
        pk.verify(&statement(&signed), &cert.signature),
        "{what}: the statement is not the documented one"
    );
    match &rec {
        Record::Full {
            cells_x,
            cells_y,
            header_sig,
            cell_sigs,
            ..
        } => {
            assert_eq!((*cells_x, *cells_y), (grid.cells_x, grid.cells_y), "{what}");
            assert_eq!(
                *header_sig, None,
                "{what}: paper has no header BLS signature"
            );
            assert_eq!(cell_sigs.len() as u64, grid.len());
        }
        Record::Cropped { .. } => panic!("{what}: a full record expected"),
    }
    // The documented record layout: prefix, certification block, cells.
    let raw = raw_record(&signed);
    assert_eq!(
        raw.len(),
        76 + PUBLIC_KEY_LEN + 4 + pk.signature_len() + 4 + 8 + 48 * grid.len() as usize,
        "{what}"
    );
    let v = verify_jpeg(&signed, &pk, 0).unwrap();
    assert_eq!(
        v,
        Verified {
            profile: PROFILE_PAPER,
            key_id: pk.fingerprint(),
            certificate_subject: None,
            original: (grid.width, grid.height),
            granularity: g,
            crop: None,
            cells: grid.len(),
        },
        "{what}"
    );
    assert_eq!(v.key_id, jsec::crypto::sha256(&[pk.spki_der()]));
    assert_eq!(verify_jpeg(&signed, &pk, 3).unwrap(), v, "{what}: threads");
    let (cw, ch) = (grid.cell_w(), grid.cell_h());
    for (cx, cy, nx, ny) in crop_cells(&grid) {
        let r = cell_rect(&grid, cx, cy, nx, ny);
        let what = format!("{what} crop {r:?}");
        let c = crop_jpeg(&signed, r).unwrap();
        let v = verify_jpeg(&c, &pk, 0).unwrap();
        assert_eq!(v.crop, Some(r), "{what}");
        assert_eq!(v.cells, (nx * ny) as u64, "{what}");
        assert_eq!(v.profile, PROFILE_PAPER);
        assert_eq!(v.original, (grid.width, grid.height));
        assert_eq!(v.granularity, g);
        assert_eq!(v.key_id, pk.fingerprint());
        let crec = read_record(&c).unwrap();
        match &crec {
            Record::Cropped { origin, cells, .. } => {
                assert_eq!((*origin, *cells), ((cx, cy), (nx, ny)), "{what}");
            }
            Record::Full { .. } => panic!("{what}: a cropped record expected"),
        }
        // The certification travels unchanged with the crop.
        assert_eq!(certification(&crec), cert, "{what}");
        assert_eq!(
            raw_record(&c).len(),
            76 + PUBLIC_KEY_LEN + 4 + pk.signature_len() + 4 + 16 + 48
        );
        if common::have_tool("djpeg") {
            assert!(djpeg_ok(&c), "{what}: djpeg refuses the crop");
        }
        // A crop of the crop: the cropped record cannot be cut further.
        let e = crop_jpeg(&c, (0, 0, cw.min(r.2), ch.min(r.3))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{what}: {e}");
        assert!(e.message().contains("signed original"), "{what}: {e}");
        // Nor attached to: attach needs the full signature.
        let e = attach(&c, &c, 0).unwrap_err();
        assert!(e.message().contains("signed original"), "{what}: {e}");
        if common::have_tool("jpegtran") {
            let t = common::jpegtran_crop(&signed, r);
            common::assert_same_image_blocks(
                &decode_coefficients(&c).unwrap(),
                &decode_coefficients(&t).unwrap(),
                &what,
            );
            if (cx, cy, nx, ny) == (0, 0, grid.cells_x, grid.cells_y) {
                // A "crop" to the whole image is a lossless re-encoding: the
                // full record it kept still verifies.
                assert_eq!(verify_jpeg(&t, &pk, 0).unwrap().crop, None, "{what}");
            } else {
                // jpegtran kept the full record: it does not match.
                assert_fails(verify_jpeg(&t, &pk, 0), "cropped or resized", &what);
            }
            let a = attach(&signed, &t, 2).unwrap();
            let va = verify_jpeg(&a, &pk, 0).unwrap();
            assert_eq!(va.crop, Some(r), "{what}: jpegtran + attach");
            assert_eq!(va.cells, (nx * ny) as u64, "{what}");
        }
    }
}

#[test]
fn round_trips_generated_images_ecdsa() {
    if !common::have_tool("jpegtran") {
        eprintln!("note: jpegtran not installed; jpegtran crops skipped");
    }
    let sk = LongTermSecret::generate_ecdsa_p256();
    for (name, jpeg) in samples() {
        for g in 1..=4 {
            round_trip(name, &jpeg, &sk, g);
        }
    }
}

#[test]
fn round_trips_generated_images_rsa_pss() {
    let sk = rsa_key();
    for (i, (name, jpeg)) in samples().into_iter().enumerate() {
        round_trip(name, &jpeg, sk, 1 + i as u32 % 4);
    }
    // An RSA signature is as long as the modulus, an ECDSA key does not
    // verify it.
    let jpeg = generate(48, 32, Layout::S420, 80, 0, 9);
    let signed = sign_jpeg_paper(&jpeg, sk, None, &opts(1, 0)).unwrap();
    assert_eq!(
        certification(&read_record(&signed).unwrap())
            .signature
            .len(),
        256
    );
    let ec = LongTermSecret::generate_ecdsa_p256().public_key();
    assert_fails(
        verify_jpeg(&signed, &ec, 0),
        "another key",
        "RSA file, ECDSA key",
    );
}

/// Each signing draws a fresh ephemeral key and binding; signing again
/// replaces the signature (paper over paper, paper over compact and back).
#[test]
fn every_signing_has_its_own_ephemeral_key() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let jpeg = generate(64, 48, Layout::S420, 80, 0, 12);
    let a = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let b = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let (ra, rb) = (read_record(&a).unwrap(), read_record(&b).unwrap());
    assert_ne!(certification(&ra).ephemeral, certification(&rb).ephemeral);
    assert_ne!(ra.common().binding, rb.common().binding);
    // Re-signing a signed file replaces its signature.
    let again = sign_jpeg_paper(&a, &sk, None, &opts(2, 0)).unwrap();
    assert_eq!(container::replace_record(&again, None).unwrap(), jpeg);
    assert_eq!(verify_jpeg(&again, &pk, 0).unwrap().granularity, 2);
    let bls = BlsSecretKey::from_ikm(&[7; 32], b"sign_paper").unwrap();
    let compact = sign_jpeg(&a, &bls, &opts(1, 0)).unwrap();
    assert_eq!(container::replace_record(&compact, None).unwrap(), jpeg);
    assert_eq!(
        verify_jpeg(&compact, &bls.public_key(), 0).unwrap().profile,
        PROFILE_COMPACT
    );
    let paper = sign_jpeg_paper(&compact, &sk, None, &opts(1, 0)).unwrap();
    assert_eq!(container::replace_record(&paper, None).unwrap(), jpeg);
    assert_eq!(verify_jpeg(&paper, &pk, 0).unwrap().profile, PROFILE_PAPER);
    // Threads do not change the result's validity.
    for threads in [0, 1, 3, 16] {
        let s = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, threads)).unwrap();
        assert_eq!(verify_jpeg(&s, &pk, threads).unwrap().cells, 12);
    }
    // Bad granularities are refused before the signer is asked.
    for g in [0, 33] {
        let ext = External::new(pk.clone(), |m: &[u8]| sk.sign(m));
        let e = sign_jpeg_paper(&jpeg, &ext, None, &opts(g, 0)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "g={g}: {e}");
        assert_eq!(ext.calls(), 0);
    }
    // Not a JPEG.
    assert!(sign_jpeg_paper(b"not a jpeg", &sk, None, &opts(1, 0)).is_err());
}

// ---------------------------------------------------------------- 2. corpus

#[test]
fn corpus_files_sign_verify_and_crop() {
    let Some(root) = common::corpus_root() else {
        return;
    };
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let start = Instant::now();
    let (mut checked, mut refused) = (Vec::new(), Vec::new());
    for dir in ["real", "libjpeg-turbo"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            eprintln!("note: corpus directory {dir} missing");
            continue;
        };
        let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for p in files {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !ext.eq_ignore_ascii_case("jpg") && !ext.eq_ignore_ascii_case("jpeg") {
                continue;
            }
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            let data = std::fs::read(&p).unwrap();
            let t = Instant::now();
            let coefs = match decode_coefficients(&data) {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::Unsupported => {
                    refused.push(format!("{name} ({e})"));
                    continue;
                }
                Err(e) => panic!("{name}: {e}"),
            };
            // About 2000 cells at most: g = 1 for small pictures, 4 to 8
            // for 2 to 12 MP photos.
            let g = (1..=8)
                .find(|&g| CellGrid::new(&coefs.frame, g).unwrap().len() <= 2000)
                .unwrap_or(8);
            let grid = CellGrid::new(&coefs.frame, g).unwrap();
            drop(coefs);
            let signed = match sign_jpeg_paper(&data, &sk, None, &opts(g, 2)) {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::Unsupported => {
                    refused.push(format!("{name} ({e})"));
                    continue;
                }
                Err(e) => panic!("{name}: {e}"),
            };
            assert_eq!(
                container::replace_record(&signed, None).unwrap(),
                data,
                "{name}: signing changed more than the COM segments"
            );
            let v = verify_jpeg(&signed, &pk, 2).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                (v.crop, v.cells, v.granularity),
                (None, grid.len(), g),
                "{name}"
            );
            // The top-left quarter, on the cell grid.
            let quarter = |size: u32, cell: u32| ((size / 2) / cell * cell).max(cell).min(size);
            let r = (
                0,
                0,
                quarter(grid.width, grid.cell_w()),
                quarter(grid.height, grid.cell_h()),
            );
            let c = crop_jpeg(&signed, r).unwrap_or_else(|e| panic!("{name} {r:?}: {e}"));
            let vc = verify_jpeg(&c, &pk, 2).unwrap_or_else(|e| panic!("{name} {r:?}: {e}"));
            assert_eq!(vc.crop, Some(r), "{name}");
            assert_eq!(
                vc.cells,
                (r.2.div_ceil(grid.cell_w()) * r.3.div_ceil(grid.cell_h())) as u64,
                "{name}"
            );
            eprintln!(
                "{name}: {}x{} g={g} {} cells, {:.2?}",
                grid.width,
                grid.height,
                grid.len(),
                t.elapsed()
            );
            checked.push(name);
        }
    }
    eprintln!(
        "corpus: {} files signed, verified and cropped in {:.2?}; refused as unsupported: {}",
        checked.len(),
        start.elapsed(),
        refused.join("; ")
    );
    assert!(
        checked.len() >= 5,
        "only {} corpus files checked: {checked:?}",
        checked.len()
    );
}

// ---------------------------------------------------------------- 3. certificates, OpenSSL

#[test]
fn certificates_and_openssl_keys() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let subject = "/CN=Test Camera/O=jsec tests";
    let jpeg = generate(64, 48, Layout::S420, 80, 0, 21);
    let ec = LongTermSecret::generate_ecdsa_p256();
    let ec2 = LongTermSecret::generate_ecdsa_p256();
    write_key(d, "ec.pem", &ec);
    write_key(d, "ec2.pem", &ec2);
    write_key(d, "rsa.pem", rsa_key());
    let (ec_der, ec_pem) = make_certificate(d, "ec.pem", "ec-cert", subject);
    let (ec2_der, _) = make_certificate(d, "ec2.pem", "ec2-cert", "/CN=Other Camera/O=jsec tests");
    let (rsa_der, rsa_pem) = make_certificate(d, "rsa.pem", "rsa-cert", subject);

    for (name, sk, der, pem) in [
        ("ecdsa", &ec, &ec_der, &ec_pem),
        ("rsa", rsa_key(), &rsa_der, &rsa_pem),
    ] {
        let pk = sk.public_key();
        let cert = Certificate::from_encoded(der).unwrap();
        assert_eq!(cert.public_key(), &pk, "{name}");
        assert_eq!(cert.der(), &der[..]);
        assert_eq!(Certificate::from_encoded(pem).unwrap(), cert, "{name}");
        for (form, bytes) in [("DER", der), ("PEM", pem)] {
            let what = format!("{name} certificate as {form}");
            let signed = sign_jpeg_paper(&jpeg, sk, Some(bytes), &opts(1, 0)).unwrap();
            // Stored as DER whatever the form given.
            assert_eq!(
                certification(&read_record(&signed).unwrap()).certificate,
                *der,
                "{what}"
            );
            let v = verify_jpeg(&signed, &pk, 0).unwrap();
            let subj = v.certificate_subject.clone().expect("a subject");
            assert!(subj.contains("CN=Test Camera"), "{what}: {subj}");
            assert!(subj.contains("O=jsec tests"), "{what}: {subj}");
            // The certificate (either form) is a key to verify with.
            for k in [der, pem] {
                let from_cert = LongTermPublic::from_encoded(k).unwrap();
                assert_eq!(from_cert, pk, "{what}");
                assert_eq!(verify_jpeg(&signed, &from_cert, 0).unwrap(), v);
            }
            // The subject travels with crops.
            let c = crop_jpeg(&signed, (16, 16, 32, 32)).unwrap();
            let vc = verify_jpeg(&c, &pk, 0).unwrap();
            assert_eq!(vc.certificate_subject, Some(subj.clone()), "{what}");
            assert_eq!(vc.crop, Some((16, 16, 32, 32)));
            if common::have_tool("jpegtran") {
                let t = common::jpegtran_crop(&signed, (16, 0, 48, 32));
                let va = verify_jpeg(&attach(&signed, &t, 0).unwrap(), &pk, 0).unwrap();
                assert_eq!(va.certificate_subject, Some(subj), "{what}");
            }
        }
        // A certificate for another key is refused at signing.
        for other in [&ec2_der, if name == "rsa" { &ec_der } else { &rsa_der }] {
            let e = sign_jpeg_paper(&jpeg, sk, Some(other), &opts(1, 0)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
            assert!(e.message().contains("another key"), "{name}: {e}");
        }
    }
    // Not a certificate.
    let e = sign_jpeg_paper(&jpeg, &ec, Some(b"garbage"), &opts(1, 0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Malformed, "{e}");
    assert!(sign_jpeg_paper(&jpeg, &ec, Some(&ec_der[..ec_der.len() - 1]), &opts(1, 0)).is_err());

    // A certificate for another key put into the record afterwards.
    let pk = ec.public_key();
    let signed = sign_jpeg_paper(&jpeg, &ec, Some(&ec_der), &opts(1, 0)).unwrap();
    let mut rec = read_record(&signed).unwrap();
    cert_mut(&mut rec).certificate = ec2_der.clone();
    let forged = with_record(&signed, &rec);
    assert_fails(
        verify_jpeg(&forged, &pk, 0),
        "Other Camera) is for another key",
        "certificate swapped",
    );
    // ... even when the key id is changed to match it: the long-term
    // signature is still ec's.
    common_mut(&mut rec).key_id = ec2.public_key().fingerprint();
    let forged = with_record(&signed, &rec);
    let from_cert = LongTermPublic::from_encoded(&ec2_der).unwrap();
    assert_fails(
        verify_jpeg(&forged, &from_cert, 0),
        "long-term ecdsa-p256-sha256 signature of the header does not verify",
        "certificate and key id swapped",
    );
    // ... or in a cropped record.
    let c = crop_jpeg(&signed, (0, 0, 32, 32)).unwrap();
    let mut rc = read_record(&c).unwrap();
    cert_mut(&mut rc).certificate = ec2_der.clone();
    assert_fails(
        verify_jpeg(&with_record(&c, &rc), &pk, 0),
        "is for another key",
        "certificate swapped in a crop",
    );
    // A certificate added to a file signed without one is checked too.
    let plain = sign_jpeg_paper(&jpeg, &ec, None, &opts(1, 0)).unwrap();
    let mut rp = read_record(&plain).unwrap();
    cert_mut(&mut rp).certificate = ec_der.clone();
    let v = verify_jpeg(&with_record(&plain, &rp), &pk, 0).unwrap();
    assert!(v.certificate_subject.unwrap().contains("CN=Test Camera"));
    cert_mut(&mut rp).certificate = b"not a certificate".to_vec();
    assert!(verify_jpeg(&with_record(&plain, &rp), &pk, 0).is_err());

    // OpenSSL's public key (PEM and DER) is the same key, with the same id.
    openssl(
        d,
        &["pkey", "-in", "ec.pem", "-pubout", "-out", "ec.pub.pem"],
    );
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "ec.pem",
            "-pubout",
            "-outform",
            "DER",
            "-out",
            "ec.pub.der",
        ],
    );
    let pub_pem = std::fs::read(d.join("ec.pub.pem")).unwrap();
    let pub_der = std::fs::read(d.join("ec.pub.der")).unwrap();
    for k in [&pub_pem, &pub_der] {
        let p = LongTermPublic::from_encoded(k).unwrap();
        assert_eq!(p, pk);
        let v = verify_jpeg(&signed, &p, 0).unwrap();
        assert_eq!(
            v.key_id,
            jsec::crypto::sha256(&[&pub_der]),
            "key id = SHA-256 of the SPKI DER"
        );
    }
    assert_eq!(pk.spki_der(), &pub_der[..]);
    assert_eq!(pk.to_pem().as_bytes(), &pub_pem[..]);

    // OpenSSL verifies the long-term signature over the documented
    // statement (ECDSA as DER, RSA-PSS salt 32, MGF1-SHA-256).
    std::fs::write(d.join("stmt.bin"), statement(&signed)).unwrap();
    let sig = certification(&read_record(&signed).unwrap())
        .signature
        .clone();
    std::fs::write(d.join("sig.der"), ecdsa_der(&sig)).unwrap();
    openssl(
        d,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "ec.pub.pem",
            "-signature",
            "sig.der",
            "stmt.bin",
        ],
    );
    let rsa_signed = sign_jpeg_paper(&jpeg, rsa_key(), None, &opts(2, 0)).unwrap();
    openssl(
        d,
        &["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub.pem"],
    );
    std::fs::write(d.join("rstmt.bin"), statement(&rsa_signed)).unwrap();
    std::fs::write(
        d.join("rsig.bin"),
        &certification(&read_record(&rsa_signed).unwrap()).signature,
    )
    .unwrap();
    let mut args = vec!["dgst", "-sha256"];
    args.extend_from_slice(&PSS);
    args.extend_from_slice(&[
        "-verify",
        "rsa.pub.pem",
        "-signature",
        "rsig.bin",
        "rstmt.bin",
    ]);
    openssl(d, &args);

    // OpenSSL as the external signer (an HSM stand-in): DER ECDSA and
    // RSA-PSS signatures, produced by another implementation.
    let sign_with = |key: &'static str, extra: &'static [&'static str]| {
        let d = d.to_path_buf();
        move |m: &[u8]| -> jsec::Result<Vec<u8>> {
            let n = format!("m{}.bin", m.len());
            std::fs::write(d.join(&n), m).unwrap();
            let mut args = vec!["dgst", "-sha256", "-sign", key];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-out", "s.bin", n.as_str()]);
            openssl(&d, &args);
            Ok(std::fs::read(d.join("s.bin")).unwrap())
        }
    };
    static PSS: [&str; 6] = [
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:32",
        "-sigopt",
        "rsa_mgf1_md:sha256",
    ];
    for (key, sk, extra) in [("ec.pem", &ec, &[][..]), ("rsa.pem", rsa_key(), &PSS[..])] {
        let ext = External::new(sk.public_key(), sign_with(key, extra));
        let s = sign_jpeg_paper(
            &jpeg,
            &ext,
            Some(&ec_der).filter(|_| key == "ec.pem").map(|v| &v[..]),
            &opts(1, 0),
        )
        .unwrap_or_else(|e| panic!("openssl signer {key}: {e}"));
        assert_eq!(ext.calls(), 1);
        let stored = certification(&read_record(&s).unwrap()).signature.clone();
        assert_eq!(
            stored.len(),
            sk.public_key().signature_len(),
            "{key}: stored form"
        );
        verify_jpeg(&s, &sk.public_key(), 0).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
    // PSS with another salt length does not verify: refused at signing.
    let ext = External::new(
        rsa_key().public_key(),
        sign_with(
            "rsa.pem",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:20",
            ],
        ),
    );
    let e = sign_jpeg_paper(&jpeg, &ext, None, &opts(1, 0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadKey, "{e}");

    // A P-256 key generated by OpenSSL (PKCS#8, PEM and DER) loads and signs.
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "gen.pem",
        ],
    );
    openssl(
        d,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "gen.pem", "-outform", "DER", "-out", "gen.der",
        ],
    );
    openssl(
        d,
        &["pkey", "-in", "gen.pem", "-pubout", "-out", "gen.pub.pem"],
    );
    let gen_pub =
        LongTermPublic::from_encoded(&std::fs::read(d.join("gen.pub.pem")).unwrap()).unwrap();
    for f in ["gen.pem", "gen.der"] {
        let sk = LongTermSecret::from_encoded(&std::fs::read(d.join(f)).unwrap())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(sk.algorithm(), Algorithm::EcdsaP256Sha256);
        assert_eq!(sk.public_key(), gen_pub, "{f}");
        let s = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
        assert_eq!(
            verify_jpeg(&s, &gen_pub, 0).unwrap().key_id,
            gen_pub.fingerprint()
        );
    }
    // The same key in OpenSSL's "traditional" SEC1 form (`EC PRIVATE KEY`,
    // what `openssl ecparam -genkey` and `openssl pkey -outform DER`
    // write): read as the same key.
    openssl(d, &["ec", "-in", "gen.pem", "-out", "gen-sec1.pem"]);
    openssl(
        d,
        &[
            "pkey",
            "-in",
            "gen.pem",
            "-outform",
            "DER",
            "-out",
            "gen-sec1.der",
        ],
    );
    for f in ["gen-sec1.pem", "gen-sec1.der"] {
        let k = LongTermSecret::from_encoded(&std::fs::read(d.join(f)).unwrap())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(k.public_key(), gen_pub, "{f}");
    }
    // An RSA key generated by OpenSSL (PKCS#8 and PKCS#1).
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "grsa.pem",
        ],
    );
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "grsa.pem",
            "-traditional",
            "-out",
            "grsa1.pem",
        ],
    );
    openssl(
        d,
        &["pkey", "-in", "grsa.pem", "-pubout", "-out", "grsa.pub.pem"],
    );
    let grsa_pub =
        LongTermPublic::from_encoded(&std::fs::read(d.join("grsa.pub.pem")).unwrap()).unwrap();
    for f in ["grsa.pem", "grsa1.pem"] {
        let sk = LongTermSecret::from_encoded(&std::fs::read(d.join(f)).unwrap())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(sk.algorithm(), Algorithm::RsaPssSha256);
        let s = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
        verify_jpeg(&s, &grsa_pub, 0).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
}

// ---------------------------------------------------------------- external signers

#[test]
fn external_signers_are_checked_before_anything_is_written() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let other = LongTermSecret::generate_ecdsa_p256();
    let jpeg = generate(48, 32, Layout::S444, 85, 0, 31);

    // DER signatures are accepted and stored as r || s.
    let der = External::new(pk.clone(), |m: &[u8]| Ok(ecdsa_der(&sk.sign(m)?)));
    let s = sign_jpeg_paper(&jpeg, &der, None, &opts(1, 0)).unwrap();
    assert_eq!(der.calls(), 1, "the long-term key signs once per image");
    assert_eq!(certification(&read_record(&s).unwrap()).signature.len(), 64);
    verify_jpeg(&s, &pk, 0).unwrap();
    // High-S signatures verify (documented: low-S or not), raw or DER.
    let high = External::new(pk.clone(), |m: &[u8]| Ok(negate_s(&sk.sign(m)?)));
    let s = sign_jpeg_paper(&jpeg, &high, None, &opts(1, 0)).unwrap();
    verify_jpeg(&s, &pk, 0).unwrap();
    let high_der = External::new(pk.clone(), |m: &[u8]| {
        Ok(ecdsa_der(&negate_s(&sk.sign(m)?)))
    });
    let s = sign_jpeg_paper(&jpeg, &high_der, None, &opts(1, 0)).unwrap();
    verify_jpeg(&s, &pk, 0).unwrap();
    // Whatever the form, (r, s) and (r, n - s) are the same signature to a
    // verifier: negating s in a stored record keeps it valid.
    let mut rec = read_record(&s).unwrap();
    let sig = cert_mut(&mut rec).signature.clone();
    cert_mut(&mut rec).signature = negate_s(&sig);
    verify_jpeg(&with_record(&s, &rec), &pk, 0).unwrap();

    // Refusals: an error, no output, whatever the signer returns.
    type SignFn<'a> = Box<dyn Fn(&[u8]) -> jsec::Result<Vec<u8>> + Send + Sync + 'a>;
    let cases: Vec<(&str, LongTermPublic, SignFn, ErrorKind, &str)> = vec![
        (
            "another key's signature",
            pk.clone(),
            Box::new(|m: &[u8]| other.sign(m)),
            ErrorKind::BadKey,
            "does not verify with its public key",
        ),
        (
            "another key's signature, DER",
            pk.clone(),
            Box::new(|m: &[u8]| Ok(ecdsa_der(&other.sign(m)?))),
            ErrorKind::BadKey,
            "does not verify",
        ),
        (
            "a signature of another message",
            pk.clone(),
            Box::new(|m: &[u8]| sk.sign(&m[1..])),
            ErrorKind::BadKey,
            "does not verify",
        ),
        (
            "64 zero bytes",
            pk.clone(),
            Box::new(|_: &[u8]| Ok(vec![0; 64])),
            ErrorKind::BadKey,
            "does not verify",
        ),
        (
            "64 bytes of garbage",
            pk.clone(),
            Box::new(|_: &[u8]| Ok((0..64u8).map(|i| i.wrapping_mul(97) ^ 0x5A).collect())),
            ErrorKind::BadKey,
            "does not verify",
        ),
        (
            "10 bytes",
            pk.clone(),
            Box::new(|_: &[u8]| Ok(vec![7; 10])),
            ErrorKind::InvalidArgument,
            "64 bytes (r || s) or DER",
        ),
        (
            "nothing",
            pk.clone(),
            Box::new(|_: &[u8]| Ok(Vec::new())),
            ErrorKind::InvalidArgument,
            "64 bytes (r || s) or DER",
        ),
        (
            "truncated DER",
            pk.clone(),
            Box::new(|m: &[u8]| {
                let d = ecdsa_der(&sk.sign(m)?);
                Ok(d[..d.len() - 1].to_vec())
            }),
            ErrorKind::InvalidArgument,
            "DER",
        ),
        (
            "an RSA signature for an ECDSA key",
            pk.clone(),
            Box::new(|m: &[u8]| rsa_key().sign(m)),
            ErrorKind::InvalidArgument,
            "got 256 bytes",
        ),
        (
            "an ECDSA signature for an RSA key",
            rsa_key().public_key(),
            Box::new(|m: &[u8]| sk.sign(m)),
            ErrorKind::BadKey,
            "rsa-pss-sha256",
        ),
        (
            "an RSA signature one byte short",
            rsa_key().public_key(),
            Box::new(|m: &[u8]| Ok(rsa_key().sign(m)?[1..].to_vec())),
            ErrorKind::BadKey,
            "does not verify",
        ),
        (
            "a failing HSM",
            pk.clone(),
            Box::new(|_: &[u8]| Err(Error::new(ErrorKind::Io, "HSM offline"))),
            ErrorKind::Io,
            "HSM offline",
        ),
    ];
    for (what, public, f, kind, msg) in cases {
        let ext = External::new(public, f);
        let e = sign_jpeg_paper(&jpeg, &ext, None, &opts(1, 0)).unwrap_err();
        assert_eq!(e.kind(), kind, "{what}: {e}");
        assert!(e.message().contains(msg), "{what}: {e}");
        assert_eq!(ext.calls(), 1, "{what}");
    }
    // A signer that cannot name its key.
    let broken = External {
        public: Err(Error::new(ErrorKind::Io, "no key handle")),
        sign: |m: &[u8]| sk.sign(m),
        calls: AtomicUsize::new(0),
    };
    let e = sign_jpeg_paper(&jpeg, &broken, None, &opts(1, 0)).unwrap_err();
    assert!(e.message().contains("no key handle"), "{e}");
    assert_eq!(broken.calls(), 0);
}

// ---------------------------------------------------------------- 4. tampering

#[test]
fn tampering_fails_with_reasons() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let jpeg = generate(64, 48, Layout::S420, 85, 0, 41);
    let signed = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let grid = grid_of(&jpeg, 1);
    assert_eq!((grid.cells_x, grid.cells_y), (4, 3));
    let coefs = decode_coefficients(&signed).unwrap();
    let long_term = "long-term ecdsa-p256-sha256 signature of the header does not verify";

    // No signature at all.
    assert_fails(verify_jpeg(&jpeg, &pk, 0), "no jsec signature", "unsigned");

    // One coefficient of cell (2, 1) changed.
    let mut c = coefs.clone();
    let (bx, by, _, _) = jsec::sign::cells::cell_blocks(&c.frame, &grid, 0, 2, 1);
    let i = ((by * c.components[0].blocks_w + bx) * 64 + 9) as usize;
    c.components[0].data[i] += 1;
    let e = assert_fails(
        verify_jpeg(&reencode(&signed, &c), &pk, 0),
        "1 of 12 cells do not match",
        "one coefficient",
    );
    assert!(e.message().contains("(2, 1)"), "{e}");
    // The same in a chroma block of cell (0, 2).
    let mut c = coefs.clone();
    let (bx, by, _, _) = jsec::sign::cells::cell_blocks(&c.frame, &grid, 2, 0, 2);
    let i = ((by * c.components[2].blocks_w + bx) * 64) as usize;
    c.components[2].data[i] -= 1;
    let e = assert_fails(
        verify_jpeg(&reencode(&signed, &c), &pk, 0),
        "1 of 12 cells",
        "one chroma DC",
    );
    assert!(e.message().contains("(0, 2)"), "{e}");
    // The unchanged coefficients re-encoded (other Huffman tables): fine.
    verify_jpeg(&reencode(&signed, &coefs), &pk, 0).unwrap();

    // Two cells swapped.
    let mut c = coefs.clone();
    copy_cell(&mut c, (0, 0), &coefs, (1, 0), &grid);
    copy_cell(&mut c, (1, 0), &coefs, (0, 0), &grid);
    let e = assert_fails(
        verify_jpeg(&reencode(&signed, &c), &pk, 0),
        "2 of 12 cells",
        "swapped cells",
    );
    assert!(e.message().contains("(0, 0), (1, 0)"), "{e}");
    let mut c = coefs.clone();
    copy_cell(&mut c, (3, 0), &coefs, (0, 1), &grid);
    copy_cell(&mut c, (0, 1), &coefs, (3, 0), &grid);
    let e = assert_fails(
        verify_jpeg(&reencode(&signed, &c), &pk, 0),
        "2 of 12 cells",
        "swapped cells",
    );
    assert!(e.message().contains("(3, 0), (0, 1)"), "{e}");

    // A cell spliced from another image signed with the same key.
    let other_jpeg = generate(64, 48, Layout::S420, 85, 0, 42);
    let other = sign_jpeg_paper(&other_jpeg, &sk, None, &opts(1, 0)).unwrap();
    let donor = decode_coefficients(&other).unwrap();
    let mut c = coefs.clone();
    copy_cell(&mut c, (3, 1), &donor, (3, 1), &grid);
    let e = assert_fails(
        verify_jpeg(&reencode(&signed, &c), &pk, 0),
        "1 of 12 cells",
        "spliced cell",
    );
    assert!(e.message().contains("(3, 1)"), "{e}");
    // ... and its crop at that cell, with the other image's record moved
    // over: the cell is authentic there, but not here.
    let mut c = coefs.clone();
    copy_cell(&mut c, (1, 1), &donor, (1, 1), &grid);
    let spliced = reencode(&signed, &c);
    let crop = crop_jpeg(
        &with_raw_record(&spliced, &raw_record(&signed)),
        (16, 16, 16, 16),
    )
    .unwrap();
    assert_fails(
        verify_jpeg(&crop, &pk, 0),
        "aggregate signature does not match",
        "spliced crop",
    );
    let crop_other = crop_jpeg(&other, (16, 16, 16, 16)).unwrap();
    verify_jpeg(&crop_other, &pk, 0).unwrap();
    assert_eq!(
        decode_coefficients(&crop).unwrap().components,
        decode_coefficients(&crop_other).unwrap().components
    );

    // The ephemeral key replaced by another valid key.
    let mut rec = read_record(&signed).unwrap();
    let fresh = BlsSecretKey::generate().unwrap().public_key();
    cert_mut(&mut rec).ephemeral = fresh.clone();
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        long_term,
        "ephemeral key replaced",
    );
    // The long-term signature corrupted, at several places.
    for at in [0, 1, 31, 32, 33, 63] {
        let mut rec = read_record(&signed).unwrap();
        cert_mut(&mut rec).signature[at] ^= 0x10;
        assert_fails(
            verify_jpeg(&with_record(&signed, &rec), &pk, 0),
            long_term,
            "signature corrupted",
        );
    }
    // The long-term signature of another image.
    let orec = read_record(&other).unwrap();
    let mut rec = read_record(&signed).unwrap();
    cert_mut(&mut rec).signature = certification(&orec).signature.clone();
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        long_term,
        "other image's signature",
    );
    // ... with its ephemeral key (a consistent pair, but another binding).
    cert_mut(&mut rec).ephemeral = certification(&orec).ephemeral.clone();
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        long_term,
        "other image's certification",
    );
    // ... and its binding: the header statement verifies, every cell fails.
    common_mut(&mut rec).binding = orec.common().binding;
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        "12 of 12 cells do not match",
        "other image's header",
    );
    // The whole record of the other image: every cell fails.
    assert_fails(
        verify_jpeg(&with_raw_record(&signed, &raw_record(&other)), &pk, 0),
        "12 of 12 cells",
        "other image's record",
    );
    // Header fields: binding, original size.
    let mut rec = read_record(&signed).unwrap();
    common_mut(&mut rec).binding[31] ^= 1;
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        long_term,
        "binding changed",
    );
    let mut rec = read_record(&signed).unwrap();
    common_mut(&mut rec).width -= 1;
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        long_term,
        "width changed",
    );
    // The key id set to another key's: that key does not verify the
    // statement.
    let sk2 = LongTermSecret::generate_ecdsa_p256();
    let mut rec = read_record(&signed).unwrap();
    common_mut(&mut rec).key_id = sk2.public_key().fingerprint();
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &sk2.public_key(), 0),
        long_term,
        "key id changed",
    );

    // Wrong keys.
    assert_fails(
        verify_jpeg(&signed, &sk2.public_key(), 0),
        "signed by another key",
        "another ECDSA key",
    );
    assert_fails(
        verify_jpeg(&signed, &rsa_key().public_key(), 0),
        "signed by another key",
        "an RSA key",
    );
    let bls = BlsSecretKey::from_ikm(&[3; 32], b"sign_paper").unwrap();
    assert_fails(
        verify_jpeg(&signed, &bls.public_key(), 0),
        "paper-profile signature",
        "paper file, BLS key",
    );
    let compact = sign_jpeg(&jpeg, &bls, &opts(1, 0)).unwrap();
    let e = assert_fails(
        verify_jpeg(&compact, &pk, 0),
        "compact-profile signature",
        "compact file, ECDSA key",
    );
    assert!(e.message().contains("ecdsa-p256-sha256"), "{e}");
    assert_fails(
        verify_jpeg(&compact, &rsa_key().public_key(), 0),
        "compact-profile signature",
        "compact file, RSA key",
    );
    // The ephemeral key is no long-term key: verifying a paper file with it.
    let eph = certification(&read_record(&signed).unwrap())
        .ephemeral
        .clone();
    assert_fails(
        verify_jpeg(&signed, &eph, 0),
        "paper-profile",
        "paper file, its ephemeral key",
    );

    // The algorithm byte: as raw bytes the lengths no longer fit (an
    // unreadable record); edited consistently, the verifier names the
    // mismatch.
    let raw = raw_record(&signed);
    let mut r = raw.clone();
    r[76 + PUBLIC_KEY_LEN] = Algorithm::RsaPssSha256 as u8;
    let e = err_of(verify_jpeg(&with_raw_record(&signed, &r), &pk, 0));
    assert_eq!(e.kind(), ErrorKind::Malformed, "{e}");
    assert!(
        e.message().contains("64-byte rsa-pss-sha256 signature"),
        "{e}"
    );
    r[76 + PUBLIC_KEY_LEN] = 3;
    let e = err_of(verify_jpeg(&with_raw_record(&signed, &r), &pk, 0));
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    let mut rec = read_record(&signed).unwrap();
    cert_mut(&mut rec).algorithm = Algorithm::RsaPssSha256;
    cert_mut(&mut rec).signature = vec![0x42; 256];
    assert_fails(
        verify_jpeg(&with_record(&signed, &rec), &pk, 0),
        "the record says rsa-pss-sha256 but the key is ecdsa-p256-sha256",
        "algorithm changed",
    );
    let rsa_signed = sign_jpeg_paper(&jpeg, rsa_key(), None, &opts(1, 0)).unwrap();
    let mut rec = read_record(&rsa_signed).unwrap();
    cert_mut(&mut rec).algorithm = Algorithm::EcdsaP256Sha256;
    cert_mut(&mut rec).signature.truncate(64);
    assert_fails(
        verify_jpeg(&with_record(&rsa_signed, &rec), &rsa_key().public_key(), 0),
        "the record says ecdsa-p256-sha256 but the key is rsa-pss-sha256",
        "algorithm changed (RSA)",
    );

    // Cropped records.
    let crop = crop_jpeg(&signed, (16, 16, 32, 32)).unwrap();
    assert_eq!(
        verify_jpeg(&crop, &pk, 0).unwrap().crop,
        Some((16, 16, 32, 32))
    );
    let edit = |f: &dyn Fn(&mut Record)| {
        let mut r = read_record(&crop).unwrap();
        f(&mut r);
        with_record(&crop, &r)
    };
    let set_origin = |o: (u32, u32)| {
        edit(&move |r: &mut Record| {
            if let Record::Cropped { origin, .. } = r {
                *origin = o;
            }
        })
    };
    for o in [(0, 1), (2, 1), (1, 0), (0, 0), (2, 0)] {
        assert_fails(
            verify_jpeg(&set_origin(o), &pk, 0),
            "aggregate signature does not match",
            &format!("origin moved to {o:?}"),
        );
    }
    for o in [(3, 1), (1, 2), (u32::MAX, 0), (0, u32::MAX)] {
        assert_fails(
            verify_jpeg(&set_origin(o), &pk, 0),
            "crop geometry does not match",
            &format!("origin moved to {o:?}"),
        );
    }
    let set_cells = |n: (u32, u32)| {
        edit(&move |r: &mut Record| {
            if let Record::Cropped { cells, .. } = r {
                *cells = n;
            }
        })
    };
    for n in [(1, 2), (2, 1), (3, 2), (0, 0)] {
        assert_fails(
            verify_jpeg(&set_cells(n), &pk, 0),
            "crop geometry",
            &format!("cells {n:?}"),
        );
    }
    // Another crop's aggregate (same image, other rectangle).
    let other_crop = crop_jpeg(&signed, (0, 0, 32, 32)).unwrap();
    let agg = match read_record(&other_crop).unwrap() {
        Record::Cropped { aggregate, .. } => aggregate,
        Record::Full { .. } => unreachable!(),
    };
    let swapped = edit(&|r: &mut Record| {
        if let Record::Cropped { aggregate, .. } = r {
            *aggregate = agg.clone();
        }
    });
    assert_fails(
        verify_jpeg(&swapped, &pk, 0),
        "aggregate signature does not match",
        "other aggregate",
    );
    // The ephemeral key or the long-term signature of a cropped record.
    let f = edit(&|r: &mut Record| cert_mut(r).ephemeral = fresh.clone());
    assert_fails(
        verify_jpeg(&f, &pk, 0),
        long_term,
        "crop: ephemeral key replaced",
    );
    let f = edit(&|r: &mut Record| cert_mut(r).signature[5] ^= 1);
    assert_fails(
        verify_jpeg(&f, &pk, 0),
        long_term,
        "crop: signature corrupted",
    );
    // The original size in a cropped record.
    let f = edit(&|r: &mut Record| common_mut(r).height += 16);
    assert!(verify_jpeg(&f, &pk, 0).is_err());
    // A cropped record on the full image.
    let f = with_raw_record(&signed, &raw_record(&crop));
    assert!(verify_jpeg(&f, &pk, 0).is_err());
}

/// Every truncation of a signed file (and of a signed crop) is an error,
/// except those that leave every coefficient as it was.
#[test]
fn truncated_files_never_verify() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let jpeg = generate(48, 32, Layout::S420, 85, 0, 43);
    let signed = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let crop = crop_jpeg(&signed, (16, 0, 32, 32)).unwrap();
    for (what, file) in [("full", &signed), ("crop", &crop)] {
        let whole = decode_coefficients(file).unwrap();
        let mut kinds = std::collections::BTreeMap::new();
        for n in 0..file.len() {
            match verify_jpeg(&file[..n], &pk, 0) {
                Ok(_) => {
                    let c = decode_coefficients(&file[..n]).unwrap();
                    assert!(
                        same_image_blocks(&c, &whole),
                        "{what}: truncated to {n} of {} bytes, changed, but verifies",
                        file.len()
                    );
                    *kinds.entry("ok (unchanged)".to_string()).or_insert(0) += 1;
                }
                Err(e) => *kinds.entry(format!("{:?}", e.kind())).or_insert(0) += 1,
            }
        }
        eprintln!("{what}: truncations: {kinds:?}");
        assert!(
            kinds.get("ok (unchanged)").copied().unwrap_or(0) <= 2,
            "{what}: {kinds:?}"
        );
    }
}

// ---------------------------------------------------------------- 5. malformed records

// Offsets in a paper record: the certification block follows the 76-byte
// prefix.
const CERT_AT: usize = 76;
const ALG_AT: usize = CERT_AT + PUBLIC_KEY_LEN;
const RESERVED_AT: usize = ALG_AT + 1;
const SIG_LEN_AT: usize = ALG_AT + 2;
const SIG_AT: usize = ALG_AT + 4;

/// `raw` (a paper record whose signature is `old_len` bytes) with the
/// algorithm byte `alg`, the signature length field `len_field` and the
/// signature bytes `sig`.
fn with_signature(raw: &[u8], old_len: usize, alg: u8, len_field: u16, sig: &[u8]) -> Vec<u8> {
    let mut v = raw[..ALG_AT].to_vec();
    v.extend_from_slice(&[alg, 0]);
    v.extend_from_slice(&len_field.to_be_bytes());
    v.extend_from_slice(sig);
    v.extend_from_slice(&raw[SIG_AT + old_len..]);
    v
}

#[track_caller]
fn parse_err(b: &[u8], kind: ErrorKind, msg: &str, what: &str) {
    match std::panic::catch_unwind(|| Record::parse(b)) {
        Ok(Ok(r)) => panic!("{what}: parsed as {r:?}"),
        Ok(Err(e)) => {
            assert_eq!(e.kind(), kind, "{what}: {e}");
            assert!(
                e.message().contains(msg),
                "{what}: expected {msg:?}, got: {e}"
            );
        }
        Err(_) => panic!("{what}: Record::parse panicked"),
    }
}

#[test]
fn malformed_paper_records_are_errors_not_panics() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let jpeg = generate(48, 32, Layout::S420, 80, 0, 51);
    let signed = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let crop = crop_jpeg(&signed, (16, 0, 32, 32)).unwrap();
    let full = raw_record(&signed);
    let cropped = raw_record(&crop);
    // A record with a (junk) certificate: Record::parse does not look
    // inside it.
    let mut rec = read_record(&signed).unwrap();
    cert_mut(&mut rec).certificate = (0..300u32).map(|i| (i * 31) as u8).collect();
    let with_cert = rec.to_bytes();
    assert_eq!(Record::parse(&with_cert).unwrap(), rec);
    assert!(verify_jpeg(&with_raw_record(&signed, &with_cert), &pk, 0).is_err());
    for r in [&full, &cropped, &with_cert] {
        assert_eq!(
            Record::parse(r).unwrap().to_bytes(),
            *r,
            "canonical serialization"
        );
    }
    // The documented layout of the certification block.
    assert_eq!(full[0], PROFILE_PAPER);
    assert_eq!(full[ALG_AT], Algorithm::EcdsaP256Sha256 as u8);
    assert_eq!(full[RESERVED_AT], 0);
    assert_eq!(&full[SIG_LEN_AT..SIG_AT], &[0, 64]);
    let cert_len_at = SIG_AT + 64;
    assert_eq!(&full[cert_len_at..cert_len_at + 4], &[0; 4]);
    assert_eq!(
        &with_cert[cert_len_at..cert_len_at + 4],
        &300u32.to_be_bytes()
    );
    let end_of_block = cert_len_at + 4;

    // Truncated at every length.
    for (what, r, block_end) in [
        ("full", &full, end_of_block),
        ("cropped", &cropped, end_of_block),
        ("with certificate", &with_cert, end_of_block + 300),
    ] {
        for n in 0..r.len() {
            let what = format!("{what} record truncated to {n} bytes");
            if (CERT_AT..block_end).contains(&n) {
                parse_err(
                    &r[..n],
                    ErrorKind::Malformed,
                    "certification block truncated",
                    &what,
                );
            } else {
                parse_err(&r[..n], ErrorKind::Malformed, "signature record", &what);
            }
        }
        // Through the container and the verifier (a sample of lengths).
        for n in (1..r.len())
            .step_by(7)
            .chain([CERT_AT + 1, ALG_AT + 1, block_end - 1])
        {
            let file = with_raw_record(&signed, &r[..n]);
            assert!(
                verify_jpeg(&file, &pk, 0).is_err(),
                "{what} truncated to {n}"
            );
        }
        // One byte too many.
        let mut longer = r.clone();
        longer.push(0);
        assert!(Record::parse(&longer).is_err(), "{what} + 1 byte");
    }

    // Unknown algorithm bytes.
    for alg in [0u8, 3, 4, 0x81, 0xFF] {
        let mut r = full.clone();
        r[ALG_AT] = alg;
        parse_err(
            &r,
            ErrorKind::Unsupported,
            &format!("algorithm {alg}"),
            "algorithm",
        );
        let e = err_of(verify_jpeg(&with_raw_record(&signed, &r), &pk, 0));
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    }

    // Wrong signature lengths, with or without the bytes to match.
    let sig = full[SIG_AT..SIG_AT + 64].to_vec();
    for len in [0usize, 1, 63, 65, 72, 256, 0xFFFF] {
        let what = format!("ECDSA signature length {len}");
        let msg = format!("{len}-byte ecdsa-p256-sha256 signature");
        let r = with_signature(&full, 64, 1, len as u16, &sig);
        parse_err(&r, ErrorKind::Malformed, &msg, &what);
        let bytes: Vec<u8> = sig.iter().copied().cycle().take(len).collect();
        let r = with_signature(&full, 64, 1, len as u16, &bytes);
        parse_err(&r, ErrorKind::Malformed, &msg, &what);
    }
    for len in [0usize, 64, 255, 513, 1024] {
        let bytes = vec![0x33; len];
        let r = with_signature(&full, 64, 2, len as u16, &bytes);
        parse_err(
            &r,
            ErrorKind::Malformed,
            &format!("{len}-byte rsa-pss-sha256 signature"),
            &format!("RSA signature length {len}"),
        );
    }
    for len in [256usize, 384, 512] {
        let r = with_signature(&full, 64, 2, len as u16, &vec![0x33; len]);
        let parsed = Record::parse(&r).unwrap();
        assert_eq!(certification(&parsed).signature.len(), len);
        assert_eq!(parsed.to_bytes(), r);
        // Readable, but not by this key.
        assert_fails(
            verify_jpeg(&with_raw_record(&signed, &r), &pk, 0),
            "the record says rsa-pss-sha256",
            "RSA-length signature",
        );
    }
    // Signature length field larger than what follows.
    let mut r = full.clone();
    r.truncate(SIG_AT + 30);
    parse_err(
        &r,
        ErrorKind::Malformed,
        "truncated",
        "short signature bytes",
    );

    // Oversized certificate lengths.
    for len in [
        MAX_CERTIFICATE_LEN as u32 + 1,
        0x7FFF_FFFF,
        0xFFFF_FFF0,
        u32::MAX,
    ] {
        let mut r = full.clone();
        r[cert_len_at..cert_len_at + 4].copy_from_slice(&len.to_be_bytes());
        parse_err(
            &r,
            ErrorKind::Malformed,
            &format!("certificate of {len} bytes"),
            "certificate length",
        );
    }
    // A certificate length within bounds but past the end.
    for len in [MAX_CERTIFICATE_LEN as u32, 301, 100_000] {
        let mut r = with_cert.clone();
        r[cert_len_at..cert_len_at + 4].copy_from_slice(&len.to_be_bytes());
        assert!(Record::parse(&r).is_err(), "certificate length {len}");
    }
    // A shorter certificate length: the record no longer adds up.
    let mut r = with_cert.clone();
    r[cert_len_at..cert_len_at + 4].copy_from_slice(&299u32.to_be_bytes());
    parse_err(
        &r,
        ErrorKind::Malformed,
        "signature record",
        "certificate length 299",
    );

    // Nonzero reserved bytes (certification block and prefix).
    for b in [1u8, 0x80, 0xFF] {
        let mut r = full.clone();
        r[RESERVED_AT] = b;
        parse_err(
            &r,
            ErrorKind::Malformed,
            &format!("reserved byte is {b}"),
            "reserved",
        );
        let mut r = cropped.clone();
        r[3] = b;
        parse_err(
            &r,
            ErrorKind::Malformed,
            &format!("reserved byte is {b}"),
            "prefix reserved",
        );
    }

    // Ephemeral keys that are no valid G2 points.
    let mut infinity = vec![0u8; PUBLIC_KEY_LEN];
    infinity[0] = 0xC0;
    let mut off_curve = full[CERT_AT..ALG_AT].to_vec();
    off_curve[PUBLIC_KEY_LEN - 1] ^= 1;
    let mut uncompressed_flag = full[CERT_AT..ALG_AT].to_vec();
    uncompressed_flag[0] &= 0x7F;
    for (what, key) in [
        ("zeros", vec![0u8; PUBLIC_KEY_LEN]),
        ("infinity", infinity),
        ("off the curve", off_curve),
        ("no compression flag", uncompressed_flag),
        ("all ones", vec![0xFF; PUBLIC_KEY_LEN]),
    ] {
        let mut r = full.clone();
        r[CERT_AT..ALG_AT].copy_from_slice(&key);
        parse_err(&r, ErrorKind::Malformed, "ephemeral public key", what);
    }

    // A compact record called paper (the paper record called compact: see
    // `profile_swaps_and_huge_cell_counts_are_errors_not_panics`), an
    // unknown profile.
    let bls = BlsSecretKey::from_ikm(&[9; 32], b"sign_paper").unwrap();
    let compact = raw_record(&sign_jpeg(&jpeg, &bls, &opts(1, 0)).unwrap());
    let mut r = compact.clone();
    r[0] = PROFILE_PAPER;
    parse_err(
        &r,
        ErrorKind::Malformed,
        "ephemeral public key",
        "compact record as paper",
    );
    for p in [0u8, 3, 0xFF] {
        let mut r = full.clone();
        r[0] = p;
        parse_err(&r, ErrorKind::Unsupported, "profile", "profile byte");
    }

    // Random damage: never a panic; what parses serializes back to the same
    // bytes; what verifies differs from the signed record at most in table
    // entries the full-image check does not use (docs: a damaged entry
    // is found by the crops that use it).
    let mut rng = common::Rng::new(52);
    let table_at = end_of_block + 8;
    let (mut parsed, mut verified, mut overflowing) = (0, 0, 0);
    for i in 0..3000 {
        let (what, base, file) = match i % 3 {
            0 => ("full", &full, &signed),
            1 => ("cropped", &cropped, &crop),
            _ => ("with certificate", &with_cert, &signed),
        };
        let mut r = base.clone();
        for _ in 0..rng.range(1, 3) {
            match rng.below(8) {
                0 => {
                    let at = rng.below(r.len() + 1);
                    r.insert(at, rng.byte());
                }
                1 if r.len() > 1 => {
                    r.remove(rng.below(r.len()));
                }
                2 => {
                    // The interesting bytes: the certification block's
                    // fixed fields.
                    let at = ALG_AT + rng.below(4);
                    r[at] = rng.byte();
                }
                3 => {
                    let at = cert_len_at + rng.below(4);
                    r[at] = rng.byte();
                }
                _ => {
                    let at = rng.below(r.len());
                    r[at] ^= 1 << rng.below(8);
                }
            }
        }
        if cell_count_overflows(&r) {
            // Counted: these once overflowed in Record::parse (see
            // `profile_swaps_and_huge_cell_counts_are_errors_not_panics`).
            overflowing += 1;
        }
        let res = std::panic::catch_unwind(|| Record::parse(&r))
            .unwrap_or_else(|_| panic!("{what}: Record::parse panicked on {r:02x?}"));
        if let Ok(rec) = res {
            parsed += 1;
            assert_eq!(rec.to_bytes(), r, "{what}: not canonical");
        }
        if r.is_empty() || r == *base {
            continue;
        }
        let f = with_raw_record(file, &r);
        let v = std::panic::catch_unwind(|| verify_jpeg(&f, &pk, 0))
            .unwrap_or_else(|_| panic!("{what}: verify_jpeg panicked on {r:02x?}"));
        if v.is_ok() {
            verified += 1;
            let same_outside_table = std::ptr::eq(file, &signed)
                && r.len() == base.len()
                && r[..table_at] == base[..table_at]
                && r[r.len() - 48..] == base[base.len() - 48..];
            assert!(
                same_outside_table,
                "{what}: damaged record verifies: {r:02x?}"
            );
        }
    }
    eprintln!(
        "random damage: {parsed} of 3000 records parsed, {verified} verified, {overflowing} with an overflowing cell count"
    );
}

/// Whether a full record's cells across times cells down times 48
/// overflows u64 (the layout of docs/sign-format.md: the cell counts follow
/// the prefix in compact, the certification block in paper).
fn cell_count_overflows(r: &[u8]) -> bool {
    if r.len() < CERT_AT || r[1] != 1 {
        return false;
    }
    let at = match r[0] {
        PROFILE_COMPACT => CERT_AT,
        PROFILE_PAPER => {
            let Some(l) = r.get(SIG_LEN_AT..SIG_AT) else {
                return false;
            };
            let cert_len_at = SIG_AT + u16::from_be_bytes([l[0], l[1]]) as usize;
            let Some(c) = r.get(cert_len_at..cert_len_at + 4) else {
                return false;
            };
            cert_len_at + 4 + u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize
        }
        _ => return false,
    };
    let Some(c) = r.get(at..at + 8) else {
        return false;
    };
    let across = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64;
    let down = u32::from_be_bytes([c[4], c[5], c[6], c[7]]) as u64;
    (across * down).checked_mul(48).is_none()
}

/// A paper record read as compact (profile byte 2): its cell counts are the
/// first bytes of the ephemeral key, and their product times 48 overflows
/// u64. A record claiming 2^30 x 2^30 cells and no table: 2^60 * 48 wraps
/// to 0, the length of its (empty) table.
#[test]
fn profile_swaps_and_huge_cell_counts_are_errors_not_panics() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let jpeg = generate(48, 32, Layout::S420, 80, 0, 53);
    let signed = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let full = raw_record(&signed);
    let mut swapped = full.clone();
    swapped[0] = PROFILE_COMPACT;
    let mut cases = vec![("paper record as compact", swapped)];
    for profile in [PROFILE_COMPACT, PROFILE_PAPER] {
        let mut r = full[..CERT_AT].to_vec();
        r[0] = profile;
        if profile == PROFILE_PAPER {
            r.extend_from_slice(&full[CERT_AT..SIG_AT + 64 + 4]);
        }
        r.extend_from_slice(&(1u32 << 30).to_be_bytes());
        r.extend_from_slice(&(1u32 << 30).to_be_bytes());
        if profile == PROFILE_COMPACT {
            // sigma_0: any valid G1 point (an aggregate from the file).
            r.extend_from_slice(&full[full.len() - 48..]);
        }
        cases.push(("2^30 x 2^30 cells, no table", r));
    }
    let mut fails = Vec::new();
    for (what, r) in &cases {
        match std::panic::catch_unwind(|| Record::parse(r)) {
            Err(_) => fails.push(format!("{what}: Record::parse panicked")),
            Ok(Ok(rec)) => fails.push(format!("{what}: parsed: {:?}", rec.common())),
            Ok(Err(e)) => assert_eq!(e.kind(), ErrorKind::Malformed, "{what}: {e}"),
        }
        let f = with_raw_record(&signed, r);
        match std::panic::catch_unwind(|| verify_jpeg(&f, &pk, 0)) {
            Err(_) => fails.push(format!("{what}: verify_jpeg panicked")),
            Ok(v) => assert!(v.is_err(), "{what}"),
        }
        if std::panic::catch_unwind(|| crop_jpeg(&f, (0, 0, 16, 16))).is_err() {
            fails.push(format!("{what}: crop_jpeg panicked"));
        }
    }
    common::assert_no_failures(&fails);
}

// ---------------------------------------------------------------- 6. bit flips

/// `n` random single-bit flips in the entropy-coded data of `crop` (a
/// signed crop verifying with `pk`): a flip that still decodes and changes
/// a coefficient of the picture is rejected, one that changes none is
/// accepted, one that does not decode is an error. Returns the number of
/// decodable, changed, rejected flips.
fn flip_campaign(what: &str, crop: &[u8], pk: &LongTermPublic, seed: u64, n: usize) -> usize {
    let v = verify_jpeg(crop, pk, 0).unwrap();
    assert!(v.crop.is_some(), "{what}");
    let orig = decode_coefficients(crop).unwrap();
    let segs = jsec::jpeg::marker::header_segments(crop).unwrap();
    let sos = segs.last().unwrap();
    assert_eq!(sos.marker, 0xDA, "{what}: the last header segment is SOS");
    let (start, end) = (sos.offset + sos.len, crop.len() - 2);
    let mut rng = seed | 1;
    let (mut rejected, mut unchanged, mut undecodable) = (0, 0, 0);
    for _ in 0..n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let bit = (rng % ((end - start) as u64 * 8)) as usize;
        let mut f = crop.to_vec();
        f[start + bit / 8] ^= 0x80 >> (bit % 8);
        let res = verify_jpeg(&f, pk, 0);
        match decode_coefficients(&f) {
            Ok(c) if !same_image_blocks(&c, &orig) => {
                let e =
                    res.expect_err(&format!("{what}: bit {bit}: changed coefficients accepted"));
                assert_eq!(
                    e.kind(),
                    ErrorKind::VerificationFailed,
                    "{what}: bit {bit}: {e}"
                );
                assert!(
                    e.message().contains("aggregate signature does not match"),
                    "{what}: bit {bit}: {e}"
                );
                rejected += 1;
            }
            Ok(_) => {
                // Only padding bits or padding blocks changed: no tampering.
                assert!(
                    res.is_ok(),
                    "{what}: bit {bit}: unchanged picture refused: {res:?}"
                );
                unchanged += 1;
            }
            Err(_) => {
                assert!(res.is_err(), "{what}: bit {bit}: undecodable file verifies");
                undecodable += 1;
            }
        }
    }
    eprintln!(
        "{what}: {n} flips: {rejected} rejected, {unchanged} unchanged, {undecodable} undecodable"
    );
    assert!(
        rejected > n / 10,
        "{what}: only {rejected} of {n} flips decoded to another picture"
    );
    rejected
}

#[test]
fn bit_flips_in_a_signed_paper_crop_are_rejected() {
    let sk = LongTermSecret::generate_ecdsa_p256();
    let pk = sk.public_key();
    let jpeg = generate(96, 64, Layout::S420, 80, 0, 61);
    let signed = sign_jpeg_paper(&jpeg, &sk, None, &opts(1, 0)).unwrap();
    let crop = crop_jpeg(&signed, (16, 16, 48, 32)).unwrap();
    flip_campaign("jsec crop", &crop, &pk, 0x9E37_79B9_7F4A_7C15, 1200);
    if common::have_tool("jpegtran") {
        let jpeg = generate(90, 61, Layout::S444, 85, 3, 62);
        let signed = sign_jpeg_paper(&jpeg, &sk, None, &opts(2, 0)).unwrap();
        let t = common::jpegtran_crop(&signed, (16, 16, 74, 45));
        let attached = attach(&signed, &t, 0).unwrap();
        flip_campaign("jpegtran crop", &attached, &pk, 0x2545_F491_4F6C_DD1D, 1000);
    } else {
        eprintln!("note: jpegtran not installed; jpegtran crop campaign skipped");
    }
}
