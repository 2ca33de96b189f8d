//! Long-term signature keys (ECDSA P-256 and RSA-PSS, over RustCrypto) and
//! the signer's X.509 certificate: what certifies an image's ephemeral BLS
//! key in the croppable signatures' `paper` profile.
//!
//! Encodings are the ones OpenSSL reads and writes: secret keys as PKCS#8
//! (PEM or DER; RSA also as PKCS#1), public keys as SubjectPublicKeyInfo
//! (PEM or DER), certificates as X.509 DER or PEM. Signatures:
//!
//! * ECDSA P-256 with SHA-256: the 64-byte `r ‖ s` (each 32 bytes,
//!   big-endian), low-S or not (both verify), as PKCS#11 and most HSMs
//!   return it; a DER `ECDSA-Sig-Value` from an external signer is
//!   converted.
//! * RSASSA-PSS with SHA-256, MGF1 with SHA-256, a 32-byte salt, trailer
//!   0xBC: as many bytes as the modulus. Moduli of 2048 to 4096 bits.

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use x509_cert::der::{Decode, DecodePem, Encode};
use zeroize::Zeroizing;

use crate::{Error, ErrorKind, Result};

/// Signature algorithms of long-term keys; the values are the algorithm
/// bytes of docs/sign-format.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA over P-256 with SHA-256; 64-byte `r ‖ s` signatures.
    EcdsaP256Sha256 = 1,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt.
    RsaPssSha256 = 2,
}

impl Algorithm {
    /// From its byte; other values are `None`.
    pub fn from_byte(b: u8) -> Option<Algorithm> {
        match b {
            1 => Some(Algorithm::EcdsaP256Sha256),
            2 => Some(Algorithm::RsaPssSha256),
            _ => None,
        }
    }

    /// A short name: `ecdsa-p256-sha256` or `rsa-pss-sha256`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::RsaPssSha256 => "rsa-pss-sha256",
        }
    }
}

/// Smallest and largest RSA modulus accepted, in bits.
pub const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;
/// Length of an ECDSA P-256 signature (`r ‖ s`).
pub const ECDSA_SIGNATURE_LEN: usize = 64;
/// PSS salt length in bytes.
const PSS_SALT_LEN: usize = 32;

fn bad_key(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadKey, msg.into())
}

fn internal(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Internal, format!("{what}: {e}"))
}

/// A long-term secret key. The secret is wiped when dropped (the RustCrypto
/// key types zeroize themselves).
#[derive(Clone)]
pub enum LongTermSecret {
    /// ECDSA P-256.
    Ecdsa(p256::ecdsa::SigningKey),
    /// RSA (signs with PSS).
    Rsa(Box<rsa::RsaPrivateKey>),
}

impl std::fmt::Debug for LongTermSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LongTermSecret({}, ..)", self.algorithm().name())
    }
}

fn check_rsa_size(bits: usize) -> Result<()> {
    if RSA_BITS.contains(&bits) {
        Ok(())
    } else {
        Err(bad_key(format!(
            "RSA modulus of {bits} bits (jsec accepts {} to {})",
            RSA_BITS.start(),
            RSA_BITS.end()
        )))
    }
}

impl LongTermSecret {
    /// A fresh ECDSA P-256 key from the operating system's generator.
    pub fn generate_ecdsa_p256() -> LongTermSecret {
        LongTermSecret::Ecdsa(p256::ecdsa::SigningKey::random(&mut rand_core::OsRng))
    }

    /// A fresh RSA key of `bits` bits (2048 to 4096; 3072 recommended).
    pub fn generate_rsa(bits: usize) -> Result<LongTermSecret> {
        check_rsa_size(bits)?;
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)
            .map_err(|e| internal("RSA key generation failed", e))?;
        Ok(LongTermSecret::Rsa(Box::new(k)))
    }

    /// Parse a PKCS#8 key (PEM `PRIVATE KEY` or DER) holding an EC P-256 or
    /// RSA key, an EC P-256 key in SEC 1 (PEM `EC PRIVATE KEY` or DER, what
    /// `openssl ecparam -genkey` writes), or an RSA key in PKCS#1 (PEM `RSA
    /// PRIVATE KEY` or DER).
    pub fn from_encoded(data: &[u8]) -> Result<LongTermSecret> {
        let text = std::str::from_utf8(data).ok().map(str::trim_start);
        if let Some(t) = text.filter(|t| t.starts_with("-----BEGIN")) {
            if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(t) {
                return Ok(LongTermSecret::Ecdsa(k));
            }
            if let Ok(k) = p256::SecretKey::from_sec1_pem(t) {
                return Ok(LongTermSecret::Ecdsa(k.into()));
            }
            let k = rsa::RsaPrivateKey::from_pkcs8_pem(t)
                .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(t))
                .map_err(|_| {
                    bad_key("not a PKCS#8 EC P-256 or RSA private key, nor a SEC 1 EC P-256 or PKCS#1 RSA key (PEM)")
                })?;
            return Self::rsa_checked(k);
        }
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(data) {
            return Ok(LongTermSecret::Ecdsa(k));
        }
        if let Ok(k) = p256::SecretKey::from_sec1_der(data) {
            return Ok(LongTermSecret::Ecdsa(k.into()));
        }
        let k = rsa::RsaPrivateKey::from_pkcs8_der(data)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_der(data))
            .map_err(|_| {
                bad_key("not a PKCS#8 EC P-256 or RSA private key, nor a SEC 1 EC P-256 or PKCS#1 RSA key (DER)")
            })?;
        Self::rsa_checked(k)
    }

    fn rsa_checked(k: rsa::RsaPrivateKey) -> Result<LongTermSecret> {
        check_rsa_size(k.n().bits())?;
        k.validate()
            .map_err(|e| bad_key(format!("inconsistent RSA key: {e}")))?;
        Ok(LongTermSecret::Rsa(Box::new(k)))
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        match self {
            LongTermSecret::Ecdsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            LongTermSecret::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| internal("PKCS#8 encoding failed", e))
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            LongTermSecret::Ecdsa(_) => Algorithm::EcdsaP256Sha256,
            LongTermSecret::Rsa(_) => Algorithm::RsaPssSha256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> LongTermPublic {
        let key = match self {
            LongTermSecret::Ecdsa(k) => PublicInner::Ecdsa(*k.verifying_key()),
            LongTermSecret::Rsa(k) => PublicInner::Rsa(Box::new(k.to_public_key())),
        };
        LongTermPublic::from_inner(key).expect("a valid key encodes")
    }

    /// Sign `msg` (hashed with SHA-256 inside).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        match self {
            LongTermSecret::Ecdsa(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                Ok(s.to_bytes().to_vec())
            }
            LongTermSecret::Rsa(k) => {
                let sk = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new_with_salt_len(
                    (**k).clone(),
                    PSS_SALT_LEN,
                );
                use rsa::signature::{RandomizedSigner, SignatureEncoding};
                let s = sk
                    .try_sign_with_rng(&mut rand_core::OsRng, msg)
                    .map_err(|e| internal("RSA-PSS signing failed", e))?;
                Ok(s.to_vec())
            }
        }
    }

    /// Sign `msg` with RSASSA-PKCS1-v1_5 and SHA-256 (RSA keys only; an
    /// ECDSA key is `InvalidArgument`).
    pub fn sign_pkcs1v15(&self, msg: &[u8]) -> Result<Vec<u8>> {
        match self {
            LongTermSecret::Ecdsa(_) => Err(Error::invalid_argument(
                "RSA PKCS#1 v1.5 signatures need an RSA key, not an ECDSA key",
            )),
            LongTermSecret::Rsa(k) => {
                use rsa::signature::{SignatureEncoding, Signer};
                let sk = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone());
                let s = sk
                    .try_sign(msg)
                    .map_err(|e| internal("RSA PKCS#1 v1.5 signing failed", e))?;
                Ok(s.to_vec())
            }
        }
    }
}

/// A long-term signer: a local key ([`LongTermSecret`]) or anything else
/// that can sign, such as an HSM or a key management service reached
/// through a callback. jsec verifies every signature it is given before it
/// embeds it.
pub trait LongTermSigner: Send + Sync {
    /// The public key the signatures verify with.
    fn public_key(&self) -> Result<LongTermPublic>;
    /// Sign `message` (the signer hashes it: SHA-256 for both algorithms).
    /// ECDSA P-256: 64 bytes `r ‖ s` or DER; RSA: PSS with SHA-256, MGF1
    /// SHA-256, 32-byte salt.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
    /// Sign `message` with RSASSA-PKCS1-v1_5 and SHA-256. Signers that only
    /// do the schemes of [`LongTermSigner::sign`] keep this default, which
    /// is [`ErrorKind::Unsupported`].
    fn sign_pkcs1v15(&self, message: &[u8]) -> Result<Vec<u8>> {
        let _ = message;
        Err(Error::new(
            ErrorKind::Unsupported,
            "this signer does not make RSA PKCS#1 v1.5 signatures",
        ))
    }
}

impl LongTermSigner for LongTermSecret {
    fn public_key(&self) -> Result<LongTermPublic> {
        Ok(LongTermSecret::public_key(self))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        LongTermSecret::sign(self, message)
    }

    fn sign_pkcs1v15(&self, message: &[u8]) -> Result<Vec<u8>> {
        LongTermSecret::sign_pkcs1v15(self, message)
    }
}

#[derive(Clone, PartialEq, Eq)]
enum PublicInner {
    Ecdsa(p256::ecdsa::VerifyingKey),
    Rsa(Box<rsa::RsaPublicKey>),
}

/// A long-term public key, with its SubjectPublicKeyInfo DER encoding (what
/// its key id is computed from).
#[derive(Clone, PartialEq, Eq)]
pub struct LongTermPublic {
    key: PublicInner,
    spki: Vec<u8>,
}

impl std::fmt::Debug for LongTermPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LongTermPublic({})", self.algorithm().name())
    }
}

impl LongTermPublic {
    fn from_inner(key: PublicInner) -> Result<LongTermPublic> {
        let doc = match &key {
            PublicInner::Ecdsa(k) => k.to_public_key_der(),
            PublicInner::Rsa(k) => k.to_public_key_der(),
        }
        .map_err(|e| internal("SubjectPublicKeyInfo encoding failed", e))?;
        Ok(LongTermPublic {
            key,
            spki: doc.as_bytes().to_vec(),
        })
    }

    /// Parse a SubjectPublicKeyInfo (DER) holding an EC P-256 or RSA key.
    pub fn from_spki_der(der: &[u8]) -> Result<LongTermPublic> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Self::from_inner(PublicInner::Ecdsa(k));
        }
        let k = rsa::RsaPublicKey::from_public_key_der(der)
            .map_err(|_| bad_key("not an EC P-256 or RSA SubjectPublicKeyInfo"))?;
        check_rsa_size(k.n().bits())?;
        Self::from_inner(PublicInner::Rsa(Box::new(k)))
    }

    /// Parse a public key: SubjectPublicKeyInfo as PEM (`PUBLIC KEY`) or
    /// DER, or an X.509 certificate (PEM or DER), whose key is taken.
    pub fn from_encoded(data: &[u8]) -> Result<LongTermPublic> {
        if let Ok(cert) = Certificate::from_encoded(data) {
            return Ok(cert.public_key);
        }
        let text = std::str::from_utf8(data).ok().map(str::trim_start);
        if let Some(t) = text.filter(|t| t.starts_with("-----BEGIN")) {
            let (label, der) = x509_cert::der::pem::decode_vec(t.as_bytes())
                .map_err(|e| bad_key(format!("PEM: {e}")))?;
            if label != "PUBLIC KEY" {
                return Err(bad_key(format!(
                    "PEM block '{label}': expected PUBLIC KEY or CERTIFICATE"
                )));
            }
            return Self::from_spki_der(&der);
        }
        Self::from_spki_der(data)
    }

    /// The algorithm of the key.
    pub fn algorithm(&self) -> Algorithm {
        match self.key {
            PublicInner::Ecdsa(_) => Algorithm::EcdsaP256Sha256,
            PublicInner::Rsa(_) => Algorithm::RsaPssSha256,
        }
    }

    /// The SubjectPublicKeyInfo DER encoding.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// PEM `PUBLIC KEY` of the SubjectPublicKeyInfo.
    pub fn to_pem(&self) -> String {
        x509_cert::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.spki)
            .expect("PEM of a DER document")
    }

    /// Key id: SHA-256 of the SubjectPublicKeyInfo DER.
    pub fn fingerprint(&self) -> [u8; 32] {
        super::sha256(&[&self.spki])
    }

    /// Length in bytes of this key's signatures.
    pub fn signature_len(&self) -> usize {
        match &self.key {
            PublicInner::Ecdsa(_) => ECDSA_SIGNATURE_LEN,
            PublicInner::Rsa(k) => k.size(),
        }
    }

    /// Bring an external signer's signature into the stored form: ECDSA
    /// `r ‖ s` as is, or DER `ECDSA-Sig-Value` converted; RSA as is. Does not
    /// verify.
    pub fn normalize_signature(&self, sig: &[u8]) -> Result<Vec<u8>> {
        match &self.key {
            PublicInner::Ecdsa(_) if sig.len() != ECDSA_SIGNATURE_LEN => {
                let s = p256::ecdsa::Signature::from_der(sig).map_err(|_| {
                    Error::invalid_argument(format!(
                        "an ECDSA P-256 signature is 64 bytes (r || s) or DER; got {} bytes that are neither",
                        sig.len()
                    ))
                })?;
                Ok(s.to_bytes().to_vec())
            }
            _ => Ok(sig.to_vec()),
        }
    }

    /// Whether `sig` (stored form) is a valid signature of `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            PublicInner::Ecdsa(k) => {
                p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            PublicInner::Rsa(k) => {
                if sig.len() != k.size() {
                    return false;
                }
                let vk = rsa::pss::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                rsa::pss::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
        }
    }

    /// Whether `sig` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of
    /// `msg` (false for an ECDSA key).
    pub fn verify_pkcs1v15(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            PublicInner::Ecdsa(_) => false,
            PublicInner::Rsa(k) => {
                if sig.len() != k.size() {
                    return false;
                }
                let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
        }
    }
}

/// An X.509 certificate: its DER bytes, subject and public key. Parsing
/// checks the structure and takes the key; it does not validate the
/// certificate (issuer signature, validity period, chain): that is the
/// relying application's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    subject: String,
    public_key: LongTermPublic,
}

impl Certificate {
    /// Parse a certificate in DER, or PEM (`CERTIFICATE`). Its subject key
    /// must be EC P-256 or RSA of 2048 to 4096 bits.
    pub fn from_encoded(data: &[u8]) -> Result<Certificate> {
        let bad = |m: String| Error::new(ErrorKind::Malformed, format!("X.509 certificate: {m}"));
        let text = std::str::from_utf8(data).ok().map(str::trim_start);
        let cert = match text.filter(|t| t.starts_with("-----BEGIN")) {
            Some(t) => x509_cert::Certificate::from_pem(t.as_bytes()),
            None => x509_cert::Certificate::from_der(data),
        }
        .map_err(|e| bad(e.to_string()))?;
        let der = cert.to_der().map_err(|e| bad(e.to_string()))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| bad(e.to_string()))?;
        let public_key = LongTermPublic::from_spki_der(&spki)?;
        Ok(Certificate {
            der,
            subject: cert.tbs_certificate.subject.to_string(),
            public_key,
        })
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject name, RFC 4514 style (`CN=...,O=...`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject's public key.
    pub fn public_key(&self) -> &LongTermPublic {
        &self.public_key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_round_trip_and_encodings() {
        let sk = LongTermSecret::generate_ecdsa_p256();
        let pk = sk.public_key();
        let sig = sk.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(pk.verify(b"hello", &sig));
        assert!(!pk.verify(b"hellp", &sig));
        let pem = sk.to_pkcs8_pem().unwrap();
        let back = LongTermSecret::from_encoded(pem.as_bytes()).unwrap();
        assert_eq!(back.public_key(), pk);
        let pk2 = LongTermPublic::from_encoded(pk.to_pem().as_bytes()).unwrap();
        assert_eq!(pk2, pk);
        assert_eq!(LongTermPublic::from_encoded(pk.spki_der()).unwrap(), pk);
        // DER signatures from external signers are converted.
        let der = p256::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
        assert_eq!(pk.normalize_signature(der.as_bytes()).unwrap(), sig);
        assert!(pk.normalize_signature(&[0u8; 10]).is_err());
    }

    #[test]
    fn rsa_pss_round_trip() {
        let sk = LongTermSecret::generate_rsa(2048).unwrap();
        let pk = sk.public_key();
        assert_eq!(pk.algorithm(), Algorithm::RsaPssSha256);
        let sig = sk.sign(b"msg").unwrap();
        assert_eq!(sig.len(), 256);
        assert!(pk.verify(b"msg", &sig));
        let mut bad = sig.clone();
        bad[100] ^= 1;
        assert!(!pk.verify(b"msg", &bad));
        assert!(!pk.verify(b"msg", &sig[1..]));
        assert!(LongTermSecret::generate_rsa(1024).is_err());
    }

    #[test]
    fn garbage_is_a_bad_key() {
        assert_eq!(
            LongTermSecret::from_encoded(b"nonsense")
                .unwrap_err()
                .kind(),
            ErrorKind::BadKey
        );
        assert_eq!(
            LongTermPublic::from_encoded(b"-----BEGIN FOO-----\n-----END FOO-----\n")
                .unwrap_err()
                .kind(),
            ErrorKind::BadKey
        );
    }
}
