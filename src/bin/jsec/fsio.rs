//! File handling: atomic output (temporary file + rename), key files, and
//! expansion of directory arguments.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use jsec::crypto::bls::{BlsPublicKey, BlsSecretKey};
use jsec::crypto::longterm::{LongTermPublic, LongTermSecret};
use jsec::crypto::Key;
use zeroize::Zeroize;

/// A failure to report as `jsec: <path>: <message>` (or `jsec: <message>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file the failure is about, if any.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A failure about `path`.
    pub fn at(path: &Path, message: impl fmt::Display) -> Failure {
        Failure {
            path: Some(path.to_path_buf()),
            message: message.to_string(),
        }
    }

    /// A failure not tied to a file (usage).
    pub fn usage(message: impl fmt::Display) -> Failure {
        Failure {
            path: None,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// An `io::Error` as a short message (without the "(os error N)" noise).
pub fn io_message(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Read a whole input file.
pub fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| Failure::at(path, io_message(&e)))
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The directory a path's file lives in (`.` for a bare name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Create a fresh temporary file next to `out` (same directory, so the final
/// rename is atomic). Its name starts with `.` and ends in `.jsec-tmp`.
fn create_temp(out: &Path, secret: bool) -> io::Result<(PathBuf, File)> {
    let dir = parent_dir(out);
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let pid = std::process::id();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{pid}-{n}.jsec-tmp"));
        let mut oo = OpenOptions::new();
        oo.write(true).create_new(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt;
            oo.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = secret;
        match oo.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 1000 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// How an output path is written.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// An existing non-regular file (character or block device, FIFO,
    /// socket: `/dev/null`, `/dev/stdout` on a pipe): written in place.
    /// Renaming a temporary file over it would replace the device node.
    Special(PathBuf),
    /// A regular file or a new name: replaced atomically through a
    /// temporary file next to this path. A symbolic link to a regular file
    /// resolves to the file, so the link is kept and its target replaced.
    Replace(PathBuf),
}

fn target(out: &Path) -> Target {
    match fs::metadata(out) {
        Ok(m) if !m.is_file() && !m.is_dir() => Target::Special(out.to_path_buf()),
        Ok(m) if m.is_file() && out.is_symlink() => match fs::canonicalize(out) {
            Ok(real) => Target::Replace(real),
            Err(_) => Target::Replace(out.to_path_buf()),
        },
        _ => Target::Replace(out.to_path_buf()),
    }
}

/// Write `data` into an existing non-regular file (no create, no rename).
fn write_special(out: &Path, data: &[u8]) -> Result<(), Failure> {
    OpenOptions::new()
        .write(true)
        .open(out)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.flush()))
        .map_err(|e| Failure::at(out, io_message(&e)))
}

/// Write `data` to `out` atomically: into a temporary file in the same
/// directory, then renamed over `out`. On any error the temporary file is
/// removed and `out` is untouched. An existing `out` keeps its permissions;
/// a symbolic link to a regular file keeps pointing to it (the file is
/// replaced); an existing device, FIFO or socket is written in place.
pub fn write_atomic(out: &Path, data: &[u8]) -> Result<(), Failure> {
    let path = match target(out) {
        Target::Special(p) => return write_special(&p, data),
        Target::Replace(p) => p,
    };
    let existing = fs::metadata(&path).ok().map(|m| m.permissions());
    let (tmp, mut file) =
        create_temp(&path, false).map_err(|e| Failure::at(out, io_message(&e)))?;
    let result = (|| -> io::Result<()> {
        file.write_all(data)?;
        file.flush()?;
        drop(file);
        if let Some(p) = existing {
            fs::set_permissions(&tmp, p)?;
        }
        fs::rename(&tmp, &path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Failure::at(out, io_message(&e))
    })
}

/// Write a key file: `hex` + newline, mode 0600. Refuses to replace an
/// existing file unless `force`; with `force` the replacement is atomic.
pub fn write_key_file(out: &Path, key: &Key, force: bool) -> Result<(), Failure> {
    let mut text = key.to_hex();
    text.push('\n');
    let result = if force {
        write_secret_atomic(out, text.as_bytes())
    } else {
        write_secret_new(out, text.as_bytes())
    };
    text.zeroize();
    result
}

#[cfg(unix)]
fn set_owner_only(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_path: &Path) -> io::Result<()> {
    Ok(())
}

fn write_secret_new(out: &Path, data: &[u8]) -> Result<(), Failure> {
    let mut oo = OpenOptions::new();
    oo.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        oo.mode(0o600);
    }
    let mut file = oo.open(out).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            Failure::at(out, "file exists (use --force to replace it)")
        } else {
            Failure::at(out, io_message(&e))
        }
    })?;
    let result = (|| -> io::Result<()> {
        // The umask may have removed bits; make it exactly 0600.
        set_owner_only(out)?;
        file.write_all(data)?;
        file.flush()
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(out);
        Failure::at(out, io_message(&e))
    })
}

fn write_secret_atomic(out: &Path, data: &[u8]) -> Result<(), Failure> {
    let path = match target(out) {
        Target::Special(p) => return write_special(&p, data),
        Target::Replace(p) => p,
    };
    let (tmp, mut file) = create_temp(&path, true).map_err(|e| Failure::at(out, io_message(&e)))?;
    let result = (|| -> io::Result<()> {
        set_owner_only(&tmp)?;
        file.write_all(data)?;
        file.flush()?;
        drop(file);
        fs::rename(&tmp, &path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Failure::at(out, io_message(&e))
    })
}

/// Largest key file accepted (a key is at most 64 hex digits plus whitespace).
const MAX_KEY_FILE: u64 = 4096;

/// Read a key file (hex digits, whitespace ignored).
pub fn read_key_file(path: &Path) -> Result<Key, Failure> {
    let file = File::open(path).map_err(|e| Failure::at(path, io_message(&e)))?;
    let mut raw = Vec::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Failure::at(path, io_message(&e)))?;
    if raw.len() as u64 > MAX_KEY_FILE {
        raw.zeroize();
        return Err(Failure::at(path, "not a key file (too large)"));
    }
    let key = match std::str::from_utf8(&raw) {
        Ok(text) => Key::from_hex(text).map_err(|e| Failure::at(path, e)),
        Err(_) => Err(Failure::at(path, "bad key: not hex text")),
    };
    raw.zeroize();
    key
}

/// First word of a BLS secret key file.
const BLS_SECRET_TAG: &str = "jsec-bls12381-secret-key";
/// First word of a BLS public key file.
const BLS_PUBLIC_TAG: &str = "jsec-bls12381-public-key";

/// Write a BLS secret key file: `jsec-bls12381-secret-key <64 hex>` and a
/// newline, mode 0600; refuses to replace a file unless `force`.
pub fn write_bls_secret(out: &Path, sk: &BlsSecretKey, force: bool) -> Result<(), Failure> {
    let mut text = format!("{BLS_SECRET_TAG} {}\n", hex(&sk.to_bytes()[..]));
    let r = if force {
        write_secret_atomic(out, text.as_bytes())
    } else {
        write_secret_new(out, text.as_bytes())
    };
    text.zeroize();
    r
}

/// Write a BLS public key file: `jsec-bls12381-public-key <192 hex>` and a
/// newline; refuses to replace a file unless `force`.
pub fn write_bls_public(out: &Path, pk: &BlsPublicKey, force: bool) -> Result<(), Failure> {
    let text = format!("{BLS_PUBLIC_TAG} {}\n", hex(&pk.to_bytes()));
    if !force && fs::symlink_metadata(out).is_ok() {
        return Err(Failure::at(out, "file exists (use --force to replace it)"));
    }
    write_atomic(out, text.as_bytes())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The bytes of a tagged key file (`TAG hex`), whitespace around ignored.
fn read_tagged(path: &Path, tag: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    let file = File::open(path).map_err(|e| Failure::at(path, io_message(&e)))?;
    let mut raw = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Failure::at(path, io_message(&e)))?;
    if raw.len() as u64 > MAX_KEY_FILE {
        return Err(Failure::at(path, "not a key file (too large)"));
    }
    let text = std::str::from_utf8(&raw).map_err(|_| Failure::at(path, "bad key: not text"))?;
    let mut words = text.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(t), Some(h), None) if t == tag => {
            if h.len() % 2 != 0 || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(Failure::at(path, "bad key: not hex"));
            }
            let bytes = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex checked"))
                .collect();
            Ok(zeroize::Zeroizing::new(bytes))
        }
        (Some(t), _, _) if t == BLS_SECRET_TAG || t == BLS_PUBLIC_TAG => Err(Failure::at(
            path,
            format!("bad key: this is a {t} file, a {tag} file is needed here"),
        )),
        _ => Err(Failure::at(
            path,
            format!("bad key: not a {tag} file (make one with jsec keygen --type bls)"),
        )),
    }
}

/// Largest PEM / DER key or certificate file read.
const MAX_PEM_FILE: u64 = 1 << 20;

/// A signing key file: BLS (compact) or long-term ECDSA / RSA (paper).
pub enum SignKey {
    /// `jsec-bls12381-secret-key` file.
    Bls(BlsSecretKey),
    /// PKCS#8 (or PKCS#1 RSA) file.
    LongTerm(LongTermSecret),
}

/// A verifying key file: BLS public key, or SPKI / certificate.
pub enum VerifyKey {
    /// `jsec-bls12381-public-key` file.
    Bls(BlsPublicKey),
    /// SubjectPublicKeyInfo or X.509 certificate, PEM or DER.
    LongTerm(LongTermPublic),
}

fn read_small(path: &Path, limit: u64) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    let file = File::open(path).map_err(|e| Failure::at(path, io_message(&e)))?;
    let mut raw = zeroize::Zeroizing::new(Vec::new());
    file.take(limit + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Failure::at(path, io_message(&e)))?;
    if raw.len() as u64 > limit {
        return Err(Failure::at(path, "not a key file (too large)"));
    }
    Ok(raw)
}

fn starts_with_word(raw: &[u8], word: &str) -> bool {
    let start = raw
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(raw.len());
    raw[start..].starts_with(word.as_bytes())
}

/// Read a signing key file of any kind `sign` takes.
pub fn read_sign_key(path: &Path) -> Result<SignKey, Failure> {
    let raw = read_small(path, MAX_PEM_FILE)?;
    if starts_with_word(&raw, BLS_SECRET_TAG) || starts_with_word(&raw, BLS_PUBLIC_TAG) {
        return read_bls_secret(path).map(SignKey::Bls);
    }
    LongTermSecret::from_encoded(&raw)
        .map(SignKey::LongTerm)
        .map_err(|e| {
            let why = if e.kind() == jsec::ErrorKind::BadKey && e.message().starts_with("not ") {
                "not a signing key: expected a jsec BLS secret key file, or an ECDSA P-256 / RSA private key in PKCS#8 or PKCS#1, PEM or DER (make one with jsec keygen --type bls|ecdsa-p256|rsa3072)".to_string()
            } else {
                e.message().to_string()
            };
            Failure::at(path, format!("bad key: {why}"))
        })
}

/// Read a public key file of any kind `verify` takes.
pub fn read_verify_key(path: &Path) -> Result<VerifyKey, Failure> {
    let raw = read_small(path, MAX_PEM_FILE)?;
    if starts_with_word(&raw, BLS_SECRET_TAG) || starts_with_word(&raw, BLS_PUBLIC_TAG) {
        return read_bls_public(path).map(VerifyKey::Bls);
    }
    LongTermPublic::from_encoded(&raw)
        .map(VerifyKey::LongTerm)
        .map_err(|e| Failure::at(path, format!("bad key: {}", e.message())))
}

/// Read a certificate file (DER or PEM), as bytes.
pub fn read_certificate(path: &Path) -> Result<Vec<u8>, Failure> {
    Ok(read_small(path, MAX_PEM_FILE)?.to_vec())
}

/// Write a long-term secret key as PKCS#8 PEM, mode 0600; refuses to
/// replace a file unless `force`.
pub fn write_long_term_secret(out: &Path, sk: &LongTermSecret, force: bool) -> Result<(), Failure> {
    let pem = sk.to_pkcs8_pem().map_err(|e| Failure::at(out, e))?;
    if force {
        write_secret_atomic(out, pem.as_bytes())
    } else {
        write_secret_new(out, pem.as_bytes())
    }
}

/// Write a long-term public key as SubjectPublicKeyInfo PEM; refuses to
/// replace a file unless `force`.
pub fn write_long_term_public(out: &Path, pk: &LongTermPublic, force: bool) -> Result<(), Failure> {
    if !force && fs::symlink_metadata(out).is_ok() {
        return Err(Failure::at(out, "file exists (use --force to replace it)"));
    }
    write_atomic(out, pk.to_pem().as_bytes())
}

/// Read a BLS secret key file.
pub fn read_bls_secret(path: &Path) -> Result<BlsSecretKey, Failure> {
    let b = read_tagged(path, BLS_SECRET_TAG)?;
    BlsSecretKey::from_bytes(&b).map_err(|e| Failure::at(path, e.message()))
}

/// Read a BLS public key file.
pub fn read_bls_public(path: &Path) -> Result<BlsPublicKey, Failure> {
    let b = read_tagged(path, BLS_PUBLIC_TAG)?;
    BlsPublicKey::from_bytes(&b).map_err(|e| Failure::at(path, e.message()))
}

/// File-name extensions taken from a directory argument.
const JPEG_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "jpe", "jfif"];

/// Does the name end in a JPEG extension (any case)?
pub fn is_jpeg_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| JPEG_EXTENSIONS.iter().any(|j| e.eq_ignore_ascii_case(j)))
}

/// Expand the arguments: a directory stands for its regular files with a JPEG
/// extension (not recursive, sorted by name); files are kept as given.
/// Returns the inputs and whether any directory was expanded.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, bool), Failure> {
    let mut out = Vec::new();
    let mut had_dir = false;
    for p in paths {
        if p.is_dir() {
            had_dir = true;
            let rd = fs::read_dir(p).map_err(|e| Failure::at(p, io_message(&e)))?;
            let mut found = Vec::new();
            for entry in rd {
                let entry = entry.map_err(|e| Failure::at(p, io_message(&e)))?;
                let path = entry.path();
                // is_file() follows symlinks, so links to files count too.
                if path.is_file() && is_jpeg_name(&path) {
                    found.push(path);
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok((out, had_dir))
}

/// Do `a` and `b` name the same file? (Same device and inode when `b`
/// exists; otherwise same canonical path.)
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    match (fs::canonicalize(a), canonical_maybe_missing(b)) {
        (Ok(ca), Some(cb)) => ca == cb,
        _ => false,
    }
}

fn canonical_maybe_missing(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = fs::canonicalize(p) {
        return Some(c);
    }
    let parent = fs::canonicalize(parent_dir(p)).ok()?;
    Some(parent.join(p.file_name()?))
}

/// Read JPSEC keys: one hex key per line (blank lines and `#` comments
/// ignored); a plain key file is a one-key file.
pub fn read_jpsec_keys(path: &Path) -> Result<Vec<jsec::jpsec::JpsecKey>, Failure> {
    let raw = read_small(path, 1 << 20)?;
    let text = std::str::from_utf8(&raw).map_err(|_| Failure::at(path, "bad key: not hex text"))?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        keys.push(
            jsec::jpsec::JpsecKey::from_hex(line)
                .map_err(|e| Failure::at(path, format!("line {}: {}", n + 1, e.message())))?,
        );
    }
    if keys.is_empty() {
        return Err(Failure::at(path, "bad key: no key in the file"));
    }
    Ok(keys)
}

/// Read a long-term private key (PKCS#8 / PKCS#1 / SEC 1, PEM or DER).
pub fn read_long_term_secret(path: &Path) -> Result<LongTermSecret, Failure> {
    let raw = read_small(path, MAX_PEM_FILE)?;
    LongTermSecret::from_encoded(&raw)
        .map_err(|e| Failure::at(path, format!("bad key: {}", e.message())))
}

/// Read a long-term public key (SPKI PEM / DER, or a certificate).
pub fn read_long_term_public(path: &Path) -> Result<LongTermPublic, Failure> {
    let raw = read_small(path, MAX_PEM_FILE)?;
    LongTermPublic::from_encoded(&raw)
        .map_err(|e| Failure::at(path, format!("bad key: {}", e.message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o.jpg");
        write_atomic(&out, b"one").unwrap();
        write_atomic(&out, b"two").unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("missing-dir").join("o.jpg");
        assert!(write_atomic(&bad, b"x").is_err());
    }

    #[test]
    #[cfg(unix)]
    fn devices_are_written_in_place_and_links_kept() {
        // Only resolved, never written: a regression must not rename a file
        // over /dev/null.
        assert_eq!(
            target(Path::new("/dev/null")),
            Target::Special(PathBuf::from("/dev/null"))
        );
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jpg");
        let link = dir.path().join("link.jpg");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(link.is_symlink(), "the link was replaced by a file");
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        // A FIFO is opened and written, not replaced.
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.map(|s| s.success()).unwrap_or(false) {
            let reader = {
                let fifo = fifo.clone();
                std::thread::spawn(move || fs::read(fifo).unwrap())
            };
            write_atomic(&fifo, b"through").unwrap();
            assert_eq!(reader.join().unwrap(), b"through");
            assert!(!fs::symlink_metadata(&fifo).unwrap().is_file());
        }
    }

    #[test]
    fn jpeg_names() {
        assert!(is_jpeg_name(Path::new("a/B.JPG")));
        assert!(is_jpeg_name(Path::new("x.jfif")));
        assert!(!is_jpeg_name(Path::new("x.png")));
        assert!(!is_jpeg_name(Path::new("jpg")));
    }
}
