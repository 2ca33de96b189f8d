//! Croppable signatures: `jsec_sign_key` (secret: BLS, ECDSA / RSA, or an
//! external signer behind a callback), `jsec_verify_key` (public), the
//! `jsec_sign_options` builder, `jsec_buffer` (bytes jsec made), and
//! `jsec_sign_jpeg`, `jsec_sign_crop`, `jsec_sign_attach`, `jsec_sign_verify`.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::jsec_status;
use super::boundary::{
    arc_into_ptr, boundary, box_into_ptr, check_out, field_ends, free_arc, free_box, try_mut,
    try_ref, try_slice, try_slice_mut, write_out, write_sized, Castable, OwnershipArc,
    OwnershipBox, SizedStruct,
};
use crate::crypto::bls::{BlsPublicKey, BlsSecretKey, PUBLIC_KEY_LEN, SECRET_KEY_LEN};
use crate::crypto::longterm::{LongTermPublic, LongTermSecret};
use crate::sign::{self, LongTermSigner, SignOptions};
use crate::{Error, ErrorKind};

/// A signing key (croppable signatures): a long-term BLS12-381 key (profile
/// compact), a long-term ECDSA P-256 or RSA key (profile paper), or an
/// external signer reached through a callback (profile paper). Opaque,
/// immutable: a `const jsec_sign_key *` may be used from any number of
/// threads at once. A secret held by jsec is wiped from memory when the last
/// reference is released with `jsec_sign_key_free`.
pub struct jsec_sign_key {
    _private: [u8; 0],
}

/// What a `jsec_sign_key` holds.
#[derive(Clone)]
pub enum SignKey {
    /// Long-term BLS key (compact).
    Bls(BlsSecretKey),
    /// Long-term ECDSA / RSA key (paper).
    LongTerm(LongTermSecret),
    /// Long-term signature from the application (paper).
    External(ExternalSigner),
}

impl SignKey {
    /// The long-term signer of the paper profile; `None` for a BLS key.
    fn long_term(&self) -> Option<&dyn LongTermSigner> {
        match self {
            SignKey::Bls(_) => None,
            SignKey::LongTerm(k) => Some(k),
            SignKey::External(x) => Some(x),
        }
    }
}

/// Refuse a profile or certificate the key cannot sign with.
fn check_profile(key: &SignKey, opts: &SignOpts) -> crate::Result<()> {
    match (key.long_term(), opts.profile) {
        (None, JSEC_SIGN_PROFILE_PAPER) => Err(Error::invalid_argument(
            "profile paper needs an ECDSA P-256 or RSA key or an external signer; this is a BLS key",
        )),
        (None, _) if opts.certificate.is_some() => Err(Error::invalid_argument(
            "a certificate is embedded in the paper profile only; this is a BLS key (compact)",
        )),
        (Some(_), JSEC_SIGN_PROFILE_COMPACT) => Err(Error::invalid_argument(
            "profile compact needs a BLS key; this key signs the paper profile",
        )),
        _ => Ok(()),
    }
}

impl Castable for jsec_sign_key {
    type RustType = SignKey;
    type Ownership = OwnershipArc;
}

/// A public key, to verify signatures: BLS12-381 (compact) or ECDSA P-256 /
/// RSA (paper). Opaque, immutable, shareable between threads; freed with
/// `jsec_verify_key_free`.
pub struct jsec_verify_key {
    _private: [u8; 0],
}

/// What a `jsec_verify_key` holds.
pub enum VerifyKey {
    /// BLS public key (compact).
    Bls(BlsPublicKey),
    /// ECDSA / RSA public key (paper).
    LongTerm(LongTermPublic),
}

impl VerifyKey {
    fn as_key_ref(&self) -> sign::KeyRef<'_> {
        match self {
            VerifyKey::Bls(k) => k.into(),
            VerifyKey::LongTerm(k) => k.into(),
        }
    }
}

impl Castable for jsec_verify_key {
    type RustType = VerifyKey;
    type Ownership = OwnershipArc;
}

/// Signing options: a mutable builder (one thread at a time; it may move
/// between threads). Defaults: granularity 1, the calling thread only, the
/// profile the key implies, no certificate.
pub struct jsec_sign_options {
    _private: [u8; 0],
}

/// What a `jsec_sign_options` holds.
#[derive(Debug, Clone, Default)]
pub struct SignOpts {
    base: SignOptions,
    profile: u32,
    certificate: Option<Vec<u8>>,
}

impl Castable for jsec_sign_options {
    type RustType = SignOpts;
    type Ownership = OwnershipBox;
}

/// Profile chosen by the key (`jsec_sign_options_set_profile`): compact for
/// a BLS key, paper for an ECDSA / RSA key or an external signer.
pub const JSEC_SIGN_PROFILE_AUTO: u32 = 0;
/// Profile paper: an ephemeral BLS key per image certified by a long-term
/// ECDSA P-256 or RSA-PSS signature (record profile byte 1).
pub const JSEC_SIGN_PROFILE_PAPER: u32 = 1;
/// Profile compact: a long-term BLS key (record profile byte 2).
pub const JSEC_SIGN_PROFILE_COMPACT: u32 = 2;
/// Room the external signer callback gets for its signature (bytes): enough
/// for RSA-4096 and for a DER-encoded ECDSA signature.
pub const JSEC_SIGN_CALLBACK_CAPACITY: usize = 1024;
/// Size of `jsec_sign_verification.certificate_subject`, terminating NUL
/// included.
pub const JSEC_SIGN_SUBJECT_LEN: usize = 256;

/// The external signer callback of `jsec_sign_key_new_external`.
///
/// jsec calls it once per image signed in profile paper, on the thread that
/// called `jsec_sign_jpeg`, with the statement to sign (`message`,
/// `message_len` bytes, valid for the call) and its SHA-256 (`digest`, 32
/// bytes) for signers that take a pre-hashed input. It writes the signature
/// into `signature` (`signature_capacity` = `JSEC_SIGN_CALLBACK_CAPACITY`
/// bytes), stores its length in `*signature_len` and returns 0; any other
/// return value is a failure, reported as `JSEC_ERR_CALLBACK`. ECDSA P-256:
/// 64 bytes `r || s` (PKCS#11 `CKM_ECDSA` output) or DER `ECDSA-Sig-Value`;
/// RSA: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt. jsec
/// verifies the signature with the key's public key before using it. The
/// callback must return normally (no `longjmp` or exception through jsec),
/// and must be safe to call from several threads at once if the key is used
/// from several threads.
pub type jsec_sign_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        message: *const u8,
        message_len: usize,
        digest: *const u8,
        signature: *mut u8,
        signature_capacity: usize,
        signature_len: *mut usize,
    ) -> i32,
>;

/// An external long-term signer: the application's callback and its public
/// key.
#[derive(Clone)]
pub struct ExternalSigner {
    callback: unsafe extern "C" fn(
        *mut c_void,
        *const u8,
        usize,
        *const u8,
        *mut u8,
        usize,
        *mut usize,
    ) -> i32,
    user_data: *mut c_void,
    public: LongTermPublic,
}

// SAFETY: `jsec_sign_key_new_external` requires the callback and its
// user_data to be usable from any thread (and concurrently when the key is
// shared); jsec never touches `user_data` itself.
unsafe impl Send for ExternalSigner {}
// SAFETY: as above.
unsafe impl Sync for ExternalSigner {}

impl LongTermSigner for ExternalSigner {
    fn public_key(&self) -> crate::Result<LongTermPublic> {
        Ok(self.public.clone())
    }

    fn sign(&self, message: &[u8]) -> crate::Result<Vec<u8>> {
        let digest = crate::crypto::sha256(&[message]);
        let mut sig = vec![0u8; JSEC_SIGN_CALLBACK_CAPACITY];
        let mut len = usize::MAX;
        // SAFETY: every pointer is valid for the lengths passed, for the
        // duration of the call; the callback's own contract is the
        // application's (see `jsec_sign_callback`).
        let rc = unsafe {
            (self.callback)(
                self.user_data,
                message.as_ptr(),
                message.len(),
                digest.as_ptr(),
                sig.as_mut_ptr(),
                sig.len(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(Error::new(
                ErrorKind::Callback,
                format!("the external signer failed (its callback returned {rc})"),
            ));
        }
        if len == 0 || len > sig.len() {
            return Err(Error::new(
                ErrorKind::Callback,
                format!(
                    "the external signer returned 0 but set a signature length of {} (room: {} bytes)",
                    if len == usize::MAX { "nothing".to_string() } else { len.to_string() },
                    sig.len()
                ),
            ));
        }
        sig.truncate(len);
        Ok(sig)
    }
}

/// Bytes jsec made (a signed JPEG). Opaque and immutable: read them with
/// `jsec_buffer_data`, release them with `jsec_buffer_free`.
pub struct jsec_buffer {
    _private: [u8; 0],
}

impl Castable for jsec_buffer {
    type RustType = Vec<u8>;
    type Ownership = OwnershipBox;
}

/// Length of a signing key's bytes (`jsec_sign_key_new_from_bytes`,
/// `jsec_sign_key_to_bytes`): 32.
pub const JSEC_SIGN_KEY_LEN: usize = 32;
/// Length of a public key's bytes (`jsec_verify_key_new_from_bytes`,
/// `jsec_verify_key_to_bytes`): 96 (compressed point of G2).
pub const JSEC_VERIFY_KEY_LEN: usize = 96;

// The header needs literals; they must match the library's.
const _: () = assert!(JSEC_SIGN_KEY_LEN == SECRET_KEY_LEN && JSEC_VERIFY_KEY_LEN == PUBLIC_KEY_LEN);

/// What `jsec_sign_verify` found in a valid file. A caller struct: set
/// `struct_size = sizeof(jsec_sign_verification)` (docs/c-api.md).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct jsec_sign_verification {
    /// Set by the caller to `sizeof(jsec_sign_verification)`.
    pub struct_size: usize,
    /// Profile of the signature: `JSEC_SIGN_PROFILE_PAPER` (1) or
    /// `JSEC_SIGN_PROFILE_COMPACT` (2).
    pub profile: u32,
    /// Granularity (cell side in iMCUs).
    pub granularity: u32,
    /// Width of the signed original, in pixels.
    pub original_width: u32,
    /// Height of the signed original.
    pub original_height: u32,
    /// True when the file is a crop of the original.
    pub cropped: bool,
    /// The crop's left edge in the original (0 when not cropped).
    pub crop_x: u32,
    /// The crop's top edge in the original.
    pub crop_y: u32,
    /// The crop's width (the image width when not cropped).
    pub crop_width: u32,
    /// The crop's height.
    pub crop_height: u32,
    /// Number of cells checked.
    pub cells: u64,
    /// The signer's key id: SHA-256 of its compressed BLS public key
    /// (compact) or of its SubjectPublicKeyInfo DER (paper).
    pub key_id: [u8; 32],
    /// True when the signer embedded an X.509 certificate (paper profile);
    /// its key is the one that verified. Get it with
    /// `jsec_sign_certificate` to validate its chain.
    pub has_certificate: bool,
    /// Length in bytes of the certificate's full subject (0 without a
    /// certificate). When it is `JSEC_SIGN_SUBJECT_LEN` or more,
    /// `certificate_subject` holds only its beginning.
    pub certificate_subject_len: u32,
    /// The certificate's subject (RFC 4514, `CN=...`), NUL-terminated, cut
    /// at a UTF-8 character boundary when longer than 255 bytes; empty
    /// without a certificate.
    pub certificate_subject: [c_char; JSEC_SIGN_SUBJECT_LEN],
}

impl Default for jsec_sign_verification {
    fn default() -> Self {
        jsec_sign_verification {
            struct_size: std::mem::size_of::<jsec_sign_verification>(),
            profile: 0,
            granularity: 0,
            original_width: 0,
            original_height: 0,
            cropped: false,
            crop_x: 0,
            crop_y: 0,
            crop_width: 0,
            crop_height: 0,
            cells: 0,
            key_id: [0; 32],
            has_certificate: false,
            certificate_subject_len: 0,
            certificate_subject: [0; JSEC_SIGN_SUBJECT_LEN],
        }
    }
}

// SAFETY: `#[repr(C)]` with `struct_size: usize` first; every later field listed.
unsafe impl SizedStruct for jsec_sign_verification {
    fn field_ends() -> Vec<usize> {
        field_ends!(jsec_sign_verification:
            profile, granularity, original_width, original_height, cropped, crop_x, crop_y,
            crop_width, crop_height, cells, key_id, has_certificate, certificate_subject_len,
            certificate_subject,
        )
    }
}

/// Make a fresh random BLS signing key (profile compact; from the operating
/// system's generator).
///
/// On success `*out` receives a key the caller frees with
/// `jsec_sign_key_free`; on failure `*out` is not written. NULL `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_generate(out: *mut *const jsec_sign_key) -> jsec_status {
    boundary("jsec_sign_key_generate", || {
        check_out(out, "out")?;
        let key = BlsSecretKey::generate()?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(SignKey::Bls(key))) };
        Ok(())
    })
}

/// Make a signing key from its 32 bytes (big-endian scalar, as written by
/// `jsec_sign_key_to_bytes`). Another length, zero or a value not below the
/// group order is `JSEC_ERR_BAD_KEY`. The bytes are copied; the caller
/// keeps (and should wipe) them. On success `*out` receives a key freed
/// with `jsec_sign_key_free`. NULL `bytes` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `bytes` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_new_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *const jsec_sign_key,
) -> jsec_status {
    boundary("jsec_sign_key_new_from_bytes", || {
        check_out(out, "out")?;
        // SAFETY: `bytes` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(bytes, len, "bytes") }?;
        let key = BlsSecretKey::from_bytes(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(SignKey::Bls(key))) };
        Ok(())
    })
}

/// Write a BLS signing key's 32 bytes into `buf` (`len` must be at least
/// `JSEC_SIGN_KEY_LEN`, else `JSEC_ERR_BUFFER_TOO_SMALL` and nothing is
/// written). The bytes are the secret: wipe them after use. Another kind of
/// key, NULL `key` or NULL `buf` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `buf` is NULL or writable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_to_bytes(
    key: *const jsec_sign_key,
    buf: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_sign_key_to_bytes", || {
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let SignKey::Bls(key) = key else {
            return Err(Error::invalid_argument(
                "`key` is not a BLS key: only BLS keys have a 32-byte form",
            ));
        };
        // SAFETY: `buf` is writable for `len` bytes by the contract.
        let dst = unsafe { try_slice_mut(buf, len, "buf") }?;
        if dst.len() < JSEC_SIGN_KEY_LEN {
            return Err(Error::new(
                crate::ErrorKind::BufferTooSmall,
                format!(
                    "`buf` holds {} bytes; a signing key needs {JSEC_SIGN_KEY_LEN}",
                    dst.len()
                ),
            ));
        }
        dst[..JSEC_SIGN_KEY_LEN].copy_from_slice(&key.to_bytes()[..]);
        Ok(())
    })
}

/// The public key of a signing key. On success `*out` receives a key freed
/// with `jsec_verify_key_free`. NULL `key` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_public(
    key: *const jsec_sign_key,
    out: *mut *const jsec_verify_key,
) -> jsec_status {
    boundary("jsec_sign_key_public", || {
        check_out(out, "out")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let public = match key {
            SignKey::Bls(k) => VerifyKey::Bls(k.public_key()),
            SignKey::LongTerm(k) => VerifyKey::LongTerm(k.public_key()),
            SignKey::External(x) => VerifyKey::LongTerm(x.public.clone()),
        };
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(public)) };
        Ok(())
    })
}

/// Release a signing key (NULL is a no-op). The secret is wiped once no
/// reference remains. Must not race with another use of the handle.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_free(key: *const jsec_sign_key) {
    boundary("jsec_sign_key_free", || {
        // SAFETY: `key` is NULL or a live handle given up by the caller.
        unsafe { free_arc(key) }
    })
}

/// Make a long-term signing key (profile paper) from an ECDSA P-256 or RSA
/// (2048 to 4096 bits) private key in PKCS#8, PEM (`-----BEGIN PRIVATE
/// KEY-----`) or DER, an EC P-256 key in SEC 1 or an RSA key in PKCS#1
/// (PEM or DER), as OpenSSL writes them (unencrypted). Anything else is `JSEC_ERR_BAD_KEY`. The bytes
/// are copied; the caller keeps (and should wipe) them. On success `*out`
/// receives a key freed with `jsec_sign_key_free`. NULL `data` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `data` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_new_from_pkcs8(
    data: *const u8,
    len: usize,
    out: *mut *const jsec_sign_key,
) -> jsec_status {
    boundary("jsec_sign_key_new_from_pkcs8", || {
        check_out(out, "out")?;
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(data, len, "data") }?;
        let key = LongTermSecret::from_encoded(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(SignKey::LongTerm(key))) };
        Ok(())
    })
}

/// Make a signing key (profile paper) whose long-term signature comes from
/// the application: an HSM, a smart card, a key management service. `spki`
/// (`spki_len` bytes) is the signer's public key, as a SubjectPublicKeyInfo
/// (PEM or DER) or an X.509 certificate (PEM or DER), ECDSA P-256 or RSA of
/// 2048 to 4096 bits (`JSEC_ERR_BAD_KEY` otherwise); it fixes the algorithm.
/// `callback` (see `jsec_sign_callback`) is called with `user_data` once
/// per signed image; jsec never dereferences `user_data`, which must stay
/// valid until the key is freed. On success `*out` receives a key freed with
/// `jsec_sign_key_free`. NULL `spki`, `callback` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `spki` is NULL or readable for `spki_len` bytes; `out` is NULL or
/// writable; `callback` and `user_data` meet `jsec_sign_callback`'s
/// contract for as long as the key lives.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_key_new_external(
    spki: *const u8,
    spki_len: usize,
    callback: jsec_sign_callback,
    user_data: *mut c_void,
    out: *mut *const jsec_sign_key,
) -> jsec_status {
    boundary("jsec_sign_key_new_external", || {
        check_out(out, "out")?;
        // SAFETY: `spki` is readable for `spki_len` bytes by the contract.
        let bytes = unsafe { try_slice(spki, spki_len, "spki") }?;
        let callback = callback.ok_or_else(|| Error::invalid_argument("`callback` is NULL"))?;
        let public = LongTermPublic::from_encoded(bytes)?;
        let key = SignKey::External(ExternalSigner {
            callback,
            user_data,
            public,
        });
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(key)) };
        Ok(())
    })
}

/// Make a public key (profile paper) from an ECDSA P-256 or RSA (2048 to
/// 4096 bits) SubjectPublicKeyInfo in PEM (`-----BEGIN PUBLIC KEY-----`) or
/// DER, or from an X.509 certificate (PEM or DER), whose key is taken (the
/// certificate itself is not validated). Anything else is
/// `JSEC_ERR_BAD_KEY`. On success `*out` receives a key freed with
/// `jsec_verify_key_free`. NULL `data` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `data` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_new_from_spki(
    data: *const u8,
    len: usize,
    out: *mut *const jsec_verify_key,
) -> jsec_status {
    boundary("jsec_verify_key_new_from_spki", || {
        check_out(out, "out")?;
        // SAFETY: `data` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(data, len, "data") }?;
        let key = LongTermPublic::from_encoded(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(VerifyKey::LongTerm(key))) };
        Ok(())
    })
}

/// Make a BLS public key from its 96-byte compressed encoding. Another length,
/// a point not on the curve or not in G2, or the point at infinity is
/// `JSEC_ERR_BAD_KEY`. On success `*out` receives a key freed with
/// `jsec_verify_key_free`. NULL `bytes` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `bytes` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_new_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *const jsec_verify_key,
) -> jsec_status {
    boundary("jsec_verify_key_new_from_bytes", || {
        check_out(out, "out")?;
        // SAFETY: `bytes` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(bytes, len, "bytes") }?;
        let key = BlsPublicKey::from_bytes(bytes)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, arc_into_ptr(VerifyKey::Bls(key))) };
        Ok(())
    })
}

/// Write a BLS public key's 96-byte compressed encoding into `buf` (`len`
/// at least `JSEC_VERIFY_KEY_LEN`, else `JSEC_ERR_BUFFER_TOO_SMALL` and
/// nothing is written). Another kind of key, NULL `key` or NULL `buf` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_verify_key`; `buf` is NULL or writable for
/// `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_to_bytes(
    key: *const jsec_verify_key,
    buf: *mut u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_verify_key_to_bytes", || {
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let VerifyKey::Bls(key) = key else {
            return Err(Error::invalid_argument(
                "`key` is not a BLS key: only BLS keys have a 96-byte form",
            ));
        };
        // SAFETY: `buf` is writable for `len` bytes by the contract.
        let dst = unsafe { try_slice_mut(buf, len, "buf") }?;
        if dst.len() < JSEC_VERIFY_KEY_LEN {
            return Err(Error::new(
                crate::ErrorKind::BufferTooSmall,
                format!(
                    "`buf` holds {} bytes; a public key needs {JSEC_VERIFY_KEY_LEN}",
                    dst.len()
                ),
            ));
        }
        dst[..JSEC_VERIFY_KEY_LEN].copy_from_slice(&key.to_bytes());
        Ok(())
    })
}

/// Release a public key (NULL is a no-op). Must not race with another use
/// of the handle.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_verify_key` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_verify_key_free(key: *const jsec_verify_key) {
    boundary("jsec_verify_key_free", || {
        // SAFETY: `key` is NULL or a live handle given up by the caller.
        unsafe { free_arc(key) }
    })
}

/// Make a signing-options builder holding the defaults (granularity 1, the
/// calling thread only). On success `*out` receives a builder freed with
/// `jsec_sign_options_free`. NULL `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_new(out: *mut *mut jsec_sign_options) -> jsec_status {
    boundary("jsec_sign_options_new", || {
        check_out(out, "out")?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr(SignOpts::default())) };
        Ok(())
    })
}

/// Set the cell side in iMCUs (1 to 32; otherwise
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing changes). Smaller cells allow
/// finer crops and cost 48 bytes of full signature each. NULL `options` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_set_granularity(
    options: *mut jsec_sign_options,
    granularity: u32,
) -> jsec_status {
    boundary("jsec_sign_options_set_granularity", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if !(1..=sign::cells::MAX_GRANULARITY).contains(&granularity) {
            return Err(Error::invalid_argument(format!(
                "granularity {granularity}: must be 1 to {}",
                sign::cells::MAX_GRANULARITY
            )));
        }
        o.base.granularity = granularity;
        Ok(())
    })
}

/// Set the number of threads jsec may start for one call (0 or 1: the
/// calling thread only, the default). jsec keeps no thread pool: threads
/// live for the duration of a call. Values above 256 are
/// `JSEC_ERR_INVALID_ARGUMENT`. NULL `options` is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_set_threads(
    options: *mut jsec_sign_options,
    threads: u32,
) -> jsec_status {
    boundary("jsec_sign_options_set_threads", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if threads > 256 {
            return Err(Error::invalid_argument(format!(
                "{threads} threads: at most 256"
            )));
        }
        o.base.threads = threads as usize;
        Ok(())
    })
}

/// Choose the profile: `JSEC_SIGN_PROFILE_AUTO` (0, the default: what the
/// key implies), `JSEC_SIGN_PROFILE_PAPER` (1) or
/// `JSEC_SIGN_PROFILE_COMPACT` (2). A profile the key cannot sign is
/// reported by `jsec_sign_jpeg`. Other values, or NULL `options`, are
/// `JSEC_ERR_INVALID_ARGUMENT` and nothing changes.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` used by no other thread.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_set_profile(
    options: *mut jsec_sign_options,
    profile: u32,
) -> jsec_status {
    boundary("jsec_sign_options_set_profile", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if profile > JSEC_SIGN_PROFILE_COMPACT {
            return Err(Error::invalid_argument(format!(
                "profile {profile}: must be 0 (auto), 1 (paper) or 2 (compact)"
            )));
        }
        o.profile = profile;
        Ok(())
    })
}

/// Embed the signer's X.509 certificate (`len` bytes, DER or PEM) in paper
/// signatures; it must hold the signing key's public key (checked by
/// `jsec_sign_jpeg`). The bytes are copied. NULL `certificate` with `len`
/// 0 removes it. A certificate that does not parse is `JSEC_ERR_MALFORMED`,
/// one over 1 MiB or with a key that is neither EC P-256 nor RSA is
/// `JSEC_ERR_BAD_KEY` or `JSEC_ERR_MALFORMED`; then nothing changes. NULL
/// `options` is `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` used by no other thread;
/// `certificate` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_set_certificate(
    options: *mut jsec_sign_options,
    certificate: *const u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_sign_options_set_certificate", || {
        // SAFETY: `options` is NULL or a live, unshared handle by the contract.
        let o = unsafe { try_mut(options, "options") }?;
        if certificate.is_null() && len == 0 {
            o.certificate = None;
            return Ok(());
        }
        // SAFETY: `certificate` is readable for `len` bytes by the contract.
        let bytes = unsafe { try_slice(certificate, len, "certificate") }?;
        if bytes.len() > sign::record::MAX_CERTIFICATE_LEN {
            return Err(Error::new(
                ErrorKind::Malformed,
                format!("certificate of {} bytes (at most 1 MiB)", bytes.len()),
            ));
        }
        crate::crypto::longterm::Certificate::from_encoded(bytes)?;
        o.certificate = Some(bytes.to_vec());
        Ok(())
    })
}

/// Release a signing-options builder (NULL is a no-op).
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_options_free(options: *mut jsec_sign_options) {
    boundary("jsec_sign_options_free", || {
        // SAFETY: `options` is NULL or a live handle given up by the caller.
        unsafe { free_box(options) }
    })
}

/// Sign the JPEG in `jpeg` (`len` bytes, baseline or extended-sequential
/// Huffman): every cell of the image and a header are signed, and the full
/// signature is stored in COM segments after SOI and the leading APPn
/// segments (an existing jsec signature is replaced; nothing else changes).
/// With a BLS key the profile is compact; with an ECDSA / RSA key or an
/// external signer it is paper (a fresh ephemeral BLS key signs the cells,
/// the long-term key signs the header, and the certificate set in `options`
/// is embedded). `options` may be NULL for the defaults.
///
/// On success `*out` receives the signed file in a buffer the caller frees
/// with `jsec_buffer_free`; on failure `*out` is not written (errors:
/// `JSEC_ERR_MALFORMED`, `JSEC_ERR_UNSUPPORTED` with a message naming what;
/// `JSEC_ERR_INVALID_ARGUMENT` for a profile the key cannot sign or a
/// certificate for another key; `JSEC_ERR_CALLBACK` when the external
/// signer fails; `JSEC_ERR_BAD_KEY` when its signature does not verify).
/// NULL `key`, `jpeg` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `options` is NULL or a live
/// `jsec_sign_options` not being changed; `jpeg` is NULL or readable for
/// `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_jpeg(
    key: *const jsec_sign_key,
    options: *const jsec_sign_options,
    jpeg: *const u8,
    len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_jpeg", || {
        check_out(out, "out")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let opts = options_or_default(options)?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        check_profile(key, &opts)?;
        let signed = match (key, key.long_term()) {
            (SignKey::Bls(k), _) => sign::sign_jpeg(data, k, &opts.base)?,
            (_, Some(signer)) => {
                sign::sign_jpeg_paper(data, signer, opts.certificate.as_deref(), &opts.base)?
            }
            (_, None) => return Err(Error::new(ErrorKind::Internal, "key without a signer")),
        };
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(signed)) };
        Ok(())
    })
}

fn options_or_default(options: *const jsec_sign_options) -> crate::Result<SignOpts> {
    if options.is_null() {
        Ok(SignOpts::default())
    } else {
        // SAFETY: `options` is non-NULL and a live handle by the caller's contract.
        Ok(unsafe { try_ref(options, "options") }?.clone())
    }
}

/// Give `cropped` (a crop of the signed `signed` made by another tool, e.g.
/// `jpegtran -crop`, on the signature's cell grid) the aggregated signature
/// of the cells it kept, replacing the full signature it carries: no key is
/// needed. `options` (NULL for the defaults) gives the threads.
///
/// On success `*out` receives the crop with its signature, freed with
/// `jsec_buffer_free`. `JSEC_ERR_VERIFICATION_FAILED`: `cropped` is not a
/// crop of `signed` on its grid; `JSEC_ERR_INVALID_ARGUMENT` also when
/// `signed` holds a cropped signature. NULL `signed`, `cropped` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `options` is NULL or a live `jsec_sign_options` not being changed;
/// `signed_jpeg` and `cropped` are NULL or readable for their lengths; `out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_attach(
    options: *const jsec_sign_options,
    signed_jpeg: *const u8,
    signed_len: usize,
    cropped: *const u8,
    cropped_len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_attach", || {
        check_out(out, "out")?;
        let opts = options_or_default(options)?;
        // SAFETY: both are readable for their lengths by the contract.
        let signed = unsafe { try_slice(signed_jpeg, signed_len, "signed_jpeg") }?;
        // SAFETY: as above.
        let crop = unsafe { try_slice(cropped, cropped_len, "cropped") }?;
        let result = sign::attach(signed, crop, opts.base.threads)?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(result)) };
        Ok(())
    })
}

/// Crop the signed JPEG `jpeg` losslessly to `width` x `height` pixels at
/// (`x`, `y`) and give the crop the aggregate signature of its cells,
/// replacing the full signature: no key is needed. The corner must lie on
/// the signature's cell grid and the far edges on it or at the image's
/// right / bottom edge; otherwise `JSEC_ERR_INVALID_ARGUMENT` with the
/// nearest aligned rectangle in `jsec_last_error()`. A file holding a
/// cropped signature cannot be cropped again (crop the signed original).
///
/// On success `*out` receives the crop in a buffer freed with
/// `jsec_buffer_free`. NULL `jpeg` or `out` is `JSEC_ERR_INVALID_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
///
/// `jpeg` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_crop(
    jpeg: *const u8,
    len: usize,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_crop", || {
        check_out(out, "out")?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        let result = sign::crop_jpeg(data, (x, y, width, height))?;
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(result)) };
        Ok(())
    })
}

/// Verify the signature in `jpeg` against `key` (a BLS key for compact
/// signatures, the signer's ECDSA / RSA key or certificate for paper ones). Returns `JSEC_OK` and fills
/// `*result` (a caller struct, `struct_size` set) when valid;
/// `JSEC_ERR_VERIFICATION_FAILED` when the signature is absent or invalid,
/// with the reason in `jsec_last_error()` (another key; cropped without an
/// updated signature; crop geometry; header; the cells that changed);
/// `JSEC_ERR_MALFORMED` / `JSEC_ERR_UNSUPPORTED` for a file that cannot be
/// read. `options` (NULL for the defaults) gives the threads. NULL `key`,
/// `jpeg` or `result` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_verify_key`; `options` is NULL or a live
/// `jsec_sign_options` not being changed; `jpeg` is NULL or readable for
/// `len` bytes; `result` is NULL or points to `result->struct_size` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_verify(
    key: *const jsec_verify_key,
    options: *const jsec_sign_options,
    jpeg: *const u8,
    len: usize,
    result: *mut jsec_sign_verification,
) -> jsec_status {
    boundary("jsec_sign_verify", || {
        check_out(result, "result")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let opts = options_or_default(options)?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        let v = sign::verify_jpeg(data, key.as_key_ref(), opts.base.threads)?;
        let (cx, cy, cw, ch) = v.crop.unwrap_or((0, 0, v.original.0, v.original.1));
        let full = jsec_sign_verification {
            struct_size: std::mem::size_of::<jsec_sign_verification>(),
            profile: v.profile as u32,
            granularity: v.granularity,
            original_width: v.original.0,
            original_height: v.original.1,
            cropped: v.crop.is_some(),
            crop_x: cx,
            crop_y: cy,
            crop_width: cw,
            crop_height: ch,
            cells: v.cells,
            key_id: v.key_id,
            has_certificate: v.certificate_subject.is_some(),
            ..Default::default()
        };
        let mut full = full;
        if let Some(subject) = &v.certificate_subject {
            let mut n = subject.len().min(JSEC_SIGN_SUBJECT_LEN - 1);
            while !subject.is_char_boundary(n) {
                n -= 1;
            }
            for (d, b) in full
                .certificate_subject
                .iter_mut()
                .zip(&subject.as_bytes()[..n])
            {
                *d = *b as c_char;
            }
            full.certificate_subject_len = u32::try_from(subject.len()).unwrap_or(u32::MAX);
        }
        // SAFETY: `result` is non-NULL and holds `struct_size` writable bytes by the contract.
        unsafe { write_sized(result, &full, "result") }
    })
}

/// A JPEG being signed while it is written (`jsec_sign_session_new`): the
/// application hands over the file's bytes as its encoder produces them
/// (headers, then scan by scan, in chunks of any size); jsec decodes them as
/// they come and signs each row of cells as soon as its blocks are complete,
/// so that at the end only the last row and the header remain. Opaque; one
/// thread at a time (it may move between threads); freed with
/// `jsec_sign_session_free`.
pub struct jsec_sign_session {
    _private: [u8; 0],
}

/// What a `jsec_sign_session` holds.
pub struct Session {
    key: SignKey,
    certificate: Option<Vec<u8>>,
    inner: Option<sign::SignSession>,
}

impl Castable for jsec_sign_session {
    type RustType = Session;
    type Ownership = OwnershipBox;
}

fn live(s: &mut Session) -> crate::Result<&mut sign::SignSession> {
    s.inner.as_mut().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidState,
            "the session is finished (jsec_sign_session_finish was called)",
        )
    })
}

/// Start signing a JPEG that is being written, with `key` and `options`
/// (NULL for the defaults; copied: later changes to `options` do not
/// affect the session). The profile and certificate are checked now, as by
/// `jsec_sign_jpeg`. The key is copied too (a secret copy is wiped with the
/// session); an external signer's callback is called by
/// `jsec_sign_session_finish`. On success `*out` receives a session freed
/// with `jsec_sign_session_free`. NULL `key` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `key` is NULL or a live `jsec_sign_key`; `options` is NULL or a live
/// `jsec_sign_options` not being changed; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_session_new(
    key: *const jsec_sign_key,
    options: *const jsec_sign_options,
    out: *mut *mut jsec_sign_session,
) -> jsec_status {
    boundary("jsec_sign_session_new", || {
        check_out(out, "out")?;
        // SAFETY: `key` is NULL or a live handle by the contract.
        let key = unsafe { try_ref(key, "key") }?;
        let opts = options_or_default(options)?;
        check_profile(key, &opts)?;
        let inner = match (key, key.long_term()) {
            (SignKey::Bls(k), _) => sign::SignSession::compact(k, &opts.base)?,
            (_, Some(signer)) => {
                sign::check_certificate(&signer.public_key()?, opts.certificate.as_deref())?;
                sign::SignSession::paper(&opts.base)?
            }
            (_, None) => return Err(Error::new(ErrorKind::Internal, "key without a signer")),
        };
        let session = Session {
            key: key.clone(),
            certificate: opts.certificate,
            inner: Some(inner),
        };
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_sign_session>(session)) };
        Ok(())
    })
}

/// The next `len` bytes of the file (any amount, including 0; the first
/// call starts with SOI). Rows of cells whose blocks are now complete are
/// signed before it returns (with the session's threads). A file that is
/// not a JPEG, unsupported or malformed fails as soon as the bytes show it
/// (`JSEC_ERR_MALFORMED`, `JSEC_ERR_UNSUPPORTED`); after a failure every
/// call but `_free` is `JSEC_ERR_INVALID_STATE`. The bytes are copied.
/// NULL `session`, or NULL `data` with `len` > 0, is
/// `JSEC_ERR_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `session` is NULL or a live `jsec_sign_session` used by no other thread;
/// `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_session_write(
    session: *mut jsec_sign_session,
    data: *const u8,
    len: usize,
) -> jsec_status {
    boundary("jsec_sign_session_write", || {
        // SAFETY: `session` is NULL or a live, unshared handle by the contract.
        let s = unsafe { try_mut(session, "session") }?;
        let bytes: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: `data` is readable for `len` bytes by the contract.
            unsafe { try_slice(data, len, "data") }?
        };
        live(s)?.write(bytes)
    })
}

/// How far the session is: `*cells_signed` cells signed so far of
/// `*cells_total` (0 until the frame header was written). Either output may
/// be NULL. NULL `session` is `JSEC_ERR_INVALID_ARGUMENT`; a finished
/// session is `JSEC_ERR_INVALID_STATE`.
///
/// # Safety
///
/// `session` is NULL or a live `jsec_sign_session` used by no other thread;
/// `cells_signed` and `cells_total` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_session_progress(
    session: *mut jsec_sign_session,
    cells_signed: *mut u64,
    cells_total: *mut u64,
) -> jsec_status {
    boundary("jsec_sign_session_progress", || {
        // SAFETY: `session` is NULL or a live, unshared handle by the contract.
        let s = unsafe { try_mut(session, "session") }?;
        let (done, total) = live(s)?.progress();
        // SAFETY: each is NULL (skipped) or writable by the contract.
        unsafe {
            if !cells_signed.is_null() {
                write_out(cells_signed, done);
            }
            if !cells_total.is_null() {
                write_out(cells_total, total);
            }
        }
        Ok(())
    })
}

/// The end of the file: decodes and signs what remains, signs the header
/// (paper: calls the long-term signer, whose signature is verified), and
/// gives the signed file in `*out` (freed with `jsec_buffer_free`), the
/// same as `jsec_sign_jpeg` would make of the bytes written. A file that
/// ends before its EOI is `JSEC_ERR_MALFORMED` (truncated). The session is
/// finished either way: later calls but `_free` are
/// `JSEC_ERR_INVALID_STATE`. NULL `session` or `out` is
/// `JSEC_ERR_INVALID_ARGUMENT` (and finishes nothing).
///
/// # Safety
///
/// `session` is NULL or a live `jsec_sign_session` used by no other thread;
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_session_finish(
    session: *mut jsec_sign_session,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_session_finish", || {
        check_out(out, "out")?;
        // SAFETY: `session` is NULL or a live, unshared handle by the contract.
        let s = unsafe { try_mut(session, "session") }?;
        live(s)?;
        let Some(inner) = s.inner.take() else {
            return Err(Error::new(ErrorKind::Internal, "session state lost"));
        };
        let signed = match s.key.long_term() {
            None => inner.finish_compact()?,
            Some(signer) => inner.finish_paper(signer, s.certificate.as_deref())?,
        };
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, box_into_ptr::<jsec_buffer>(signed)) };
        Ok(())
    })
}

/// Release a session (NULL is a no-op); a copied secret key is wiped.
///
/// # Safety
///
/// `session` is NULL or a live `jsec_sign_session` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_session_free(session: *mut jsec_sign_session) {
    boundary("jsec_sign_session_free", || {
        // SAFETY: `session` is NULL or a live handle given up by the caller.
        unsafe { free_box(session) }
    })
}

/// The X.509 certificate (DER) embedded in a paper-profile signature of
/// `jpeg`, so that the application can validate it (chain, dates, usage)
/// with its own PKI library. The file is not verified here: call
/// `jsec_sign_verify` with the certificate's key. On success `*out`
/// receives a buffer freed with `jsec_buffer_free`, or NULL when the
/// signature carries no certificate. A file without a jsec signature is
/// `JSEC_ERR_VERIFICATION_FAILED`; a damaged one `JSEC_ERR_MALFORMED`.
/// NULL `jpeg` or `out` is `JSEC_ERR_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `jpeg` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_sign_certificate(
    jpeg: *const u8,
    len: usize,
    out: *mut *mut jsec_buffer,
) -> jsec_status {
    boundary("jsec_sign_certificate", || {
        check_out(out, "out")?;
        // SAFETY: `jpeg` is readable for `len` bytes by the contract.
        let data = unsafe { try_slice(jpeg, len, "jpeg") }?;
        let record = sign::read_record(data)?;
        let cert = record
            .common()
            .certification
            .as_ref()
            .map(|c| c.certificate.clone())
            .filter(|c| !c.is_empty());
        let ptr = match cert {
            Some(c) => box_into_ptr::<jsec_buffer>(c),
            None => std::ptr::null_mut(),
        };
        // SAFETY: `out` checked non-NULL; writable by the contract.
        unsafe { write_out(out, ptr) };
        Ok(())
    })
}

/// The bytes of a buffer: `*data` receives a pointer to them (valid until
/// `jsec_buffer_free`, never to be written through), `*len` their number.
/// NULL arguments are `JSEC_ERR_INVALID_ARGUMENT`. May be called from
/// several threads at once.
///
/// # Safety
///
/// `buffer` is NULL or a live `jsec_buffer`; `data` and `len` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn jsec_buffer_data(
    buffer: *const jsec_buffer,
    data: *mut *const u8,
    len: *mut usize,
) -> jsec_status {
    boundary("jsec_buffer_data", || {
        check_out(data, "data")?;
        check_out(len, "len")?;
        // SAFETY: `buffer` is NULL or a live handle by the contract.
        let b = unsafe { try_ref(buffer, "buffer") }?;
        // SAFETY: both checked non-NULL; writable by the contract.
        unsafe {
            write_out(data, b.as_ptr());
            write_out(len, b.len());
        }
        Ok(())
    })
}

/// Release a buffer (NULL is a no-op); pointers from `jsec_buffer_data`
/// become invalid.
///
/// # Safety
///
/// `buffer` is NULL or a live `jsec_buffer` not used after this call.
#[no_mangle]
pub unsafe extern "C" fn jsec_buffer_free(buffer: *mut jsec_buffer) {
    boundary("jsec_buffer_free", || {
        // SAFETY: `buffer` is NULL or a live handle given up by the caller.
        unsafe { free_box(buffer) }
    })
}
