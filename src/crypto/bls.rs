//! BLS signatures on BLS12-381, min-sig variant (signatures and message
//! hashes in G1, 48 bytes compressed; public keys in G2, 96 bytes
//! compressed), over `blst`, for croppable image signatures.
//!
//! Signatures by one key aggregate by point addition, and an aggregate over
//! messages `m1 … mn` is checked with one product of two pairings:
//! `e(S, g2) == e(H(m1) + … + H(mn), pk)` ([`verify_same_key`]). Because
//! the messages are all signed by the same key, they must be distinct (the
//! image-signature format puts each cell's coordinates in its message);
//! otherwise `H(m) + H(m)` could stand for two different cells.
//!
//! Hashing is RFC 9380's random-oracle hash to G1
//! (`BLS12381G1_XMD:SHA-256_SSWU_RO_`) with the domain separation tag the
//! caller gives (the formats define theirs, e.g. [`DST_CROP_V1`]).
//!
//! Every point parsed from bytes is checked to lie in its prime-order
//! subgroup and not to be the point at infinity; points computed here never
//! need that check.

use blst::min_sig::{AggregateSignature, PublicKey, SecretKey, Signature};
use blst::BLST_ERROR;
use jsec_blst_ext as ext;

use crate::{Error, ErrorKind, Result};

/// Domain separation tag of jsec's croppable image signatures, format 1.
pub const DST_CROP_V1: &[u8] = b"JSEC-CROPSIG-V1_BLS12381G1_XMD:SHA-256_SSWU_RO_";

/// Length of a serialized secret key (big-endian scalar).
pub const SECRET_KEY_LEN: usize = 32;
/// Length of a compressed public key (a point of G2).
pub const PUBLIC_KEY_LEN: usize = 96;
/// Length of a compressed signature (a point of G1).
pub const SIGNATURE_LEN: usize = 48;

/// `bytes` must be `len` long; otherwise an error of `kind` naming `what`.
fn check_len(bytes: &[u8], len: usize, kind: ErrorKind, what: &str) -> Result<()> {
    if bytes.len() == len {
        Ok(())
    } else {
        Err(Error::new(
            kind,
            format!("a {what} is {len} bytes, not {}", bytes.len()),
        ))
    }
}

/// A blst error while decoding a `what`, as an error of `kind`.
fn decode_error(kind: ErrorKind, what: &str) -> impl Fn(BLST_ERROR) -> Error + '_ {
    move |e| Error::new(kind, format!("bad {what}: {}", blst_message(e)))
}

fn blst_message(e: BLST_ERROR) -> &'static str {
    match e {
        BLST_ERROR::BLST_BAD_ENCODING => "bad encoding",
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => "point not on the curve",
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => "point not in the prime-order subgroup",
        BLST_ERROR::BLST_PK_IS_INFINITY => "point at infinity",
        BLST_ERROR::BLST_BAD_SCALAR => "scalar out of range",
        _ => "rejected by blst",
    }
}

/// A BLS secret key (a scalar modulo the group order), wiped from memory
/// when dropped.
#[derive(Clone)]
pub struct BlsSecretKey(SecretKey);

impl std::fmt::Debug for BlsSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlsSecretKey(..)")
    }
}

impl BlsSecretKey {
    /// A fresh key from 32 bytes of the operating system's random generator
    /// (through the IETF BLS `KeyGen`).
    pub fn generate() -> Result<BlsSecretKey> {
        let mut ikm = zeroize::Zeroizing::new([0u8; 32]);
        super::random_bytes(&mut ikm[..])?;
        BlsSecretKey::from_ikm(&ikm[..], &[])
    }

    /// The key the IETF BLS `KeyGen` derives from input keying material `ikm`
    /// (at least 32 bytes) and `info`.
    pub fn from_ikm(ikm: &[u8], info: &[u8]) -> Result<BlsSecretKey> {
        SecretKey::key_gen(ikm, info)
            .map(BlsSecretKey)
            .map_err(|_| {
                Error::new(
                    ErrorKind::BadKey,
                    "BLS key material must be at least 32 bytes",
                )
            })
    }

    /// Parse a serialized key (32 bytes, big-endian, non-zero and below the
    /// group order).
    pub fn from_bytes(bytes: &[u8]) -> Result<BlsSecretKey> {
        check_len(bytes, SECRET_KEY_LEN, ErrorKind::BadKey, "BLS secret key")?;
        SecretKey::from_bytes(bytes)
            .map(BlsSecretKey)
            .map_err(decode_error(ErrorKind::BadKey, "BLS secret key"))
    }

    /// The key as 32 big-endian bytes (wiped when the result is dropped).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<[u8; SECRET_KEY_LEN]> {
        zeroize::Zeroizing::new(self.0.to_bytes())
    }

    /// The public key `sk * g2`.
    pub fn public_key(&self) -> BlsPublicKey {
        BlsPublicKey(self.0.sk_to_pk())
    }

    /// Sign `msg` under domain separation tag `dst`: `sk * H(msg)`.
    pub fn sign(&self, msg: &[u8], dst: &[u8]) -> BlsSignature {
        BlsSignature(self.0.sign(msg, dst, &[]))
    }
}

/// A BLS public key (a point of G2 known to be in the prime-order subgroup
/// and not the point at infinity).
#[derive(Clone, PartialEq, Eq)]
pub struct BlsPublicKey(PublicKey);

impl std::fmt::Debug for BlsPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlsPublicKey({})", hex(&self.to_bytes()[..8]))
    }
}

impl BlsPublicKey {
    /// Parse a compressed public key (96 bytes), checking that it lies in
    /// G2 and is not the point at infinity.
    pub fn from_bytes(bytes: &[u8]) -> Result<BlsPublicKey> {
        check_len(bytes, PUBLIC_KEY_LEN, ErrorKind::BadKey, "BLS public key")?;
        let pk = PublicKey::uncompress(bytes)
            .and_then(|pk| pk.validate().map(|()| pk))
            .map_err(decode_error(ErrorKind::BadKey, "BLS public key"))?;
        Ok(BlsPublicKey(pk))
    }

    /// The compressed encoding (96 bytes).
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.0.compress()
    }

    /// SHA-256 of the compressed encoding: how tools name the key.
    pub fn fingerprint(&self) -> [u8; 32] {
        super::sha256(&[&self.to_bytes()])
    }
}

/// A BLS signature or aggregate of signatures (a point of G1 known to be in
/// the prime-order subgroup and not the point at infinity).
#[derive(Clone, PartialEq, Eq)]
pub struct BlsSignature(Signature);

impl std::fmt::Debug for BlsSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlsSignature({})", hex(&self.to_bytes()[..8]))
    }
}

impl BlsSignature {
    /// Parse a compressed signature (48 bytes), checking that it lies in G1
    /// and is not the point at infinity.
    pub fn from_bytes(bytes: &[u8]) -> Result<BlsSignature> {
        check_len(bytes, SIGNATURE_LEN, ErrorKind::Malformed, "BLS signature")?;
        let sig = Signature::uncompress(bytes)
            .and_then(|s| s.validate(true).map(|()| s))
            .map_err(decode_error(ErrorKind::Malformed, "BLS signature"))?;
        Ok(BlsSignature(sig))
    }

    /// The compressed encoding (48 bytes).
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0.compress()
    }

    /// The sum of `sigs` (no key needed). Fails on an empty list and, with
    /// negligible probability for honest signatures, when the sum is the
    /// point at infinity.
    pub fn aggregate<'a, I: IntoIterator<Item = &'a BlsSignature>>(
        sigs: I,
    ) -> Result<BlsSignature> {
        let list: Vec<&Signature> = sigs.into_iter().map(|s| &s.0).collect();
        // The inputs were checked when parsed or computed here: no group check.
        let agg = AggregateSignature::aggregate(&list, false)
            .map_err(|_| Error::invalid_argument("nothing to aggregate"))?
            .to_signature();
        if agg.validate(true).is_err() {
            return Err(Error::new(
                ErrorKind::VerificationFailed,
                "the aggregate signature is the point at infinity",
            ));
        }
        Ok(BlsSignature(agg))
    }
}

/// A signature decoded from its compressed bytes and known to be on the
/// curve, but not yet checked to lie in G1 (the subgroup check costs about
/// three decompressions). Tables of cell signatures are read this way and
/// only the aggregate that is verified gets the check
/// ([`BlsSignature::aggregate_unchecked`]): a sum in G1 is all the pairing
/// equation needs.
#[derive(Clone, PartialEq, Eq)]
pub struct UncheckedSignature(Signature);

impl std::fmt::Debug for UncheckedSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UncheckedSignature({})", hex(&self.0.compress()[..8]))
    }
}

impl UncheckedSignature {
    /// Decode a compressed signature (48 bytes) that must be a point on the
    /// curve.
    pub fn from_bytes(bytes: &[u8]) -> Result<UncheckedSignature> {
        check_len(bytes, SIGNATURE_LEN, ErrorKind::Malformed, "BLS signature")?;
        Signature::uncompress(bytes)
            .map(UncheckedSignature)
            .map_err(decode_error(ErrorKind::Malformed, "BLS signature"))
    }
}

impl UncheckedSignature {
    /// Decode the **negation** of the compressed signature `bytes`: the same
    /// point with the other y (the compression sign flag toggled). `None`
    /// for the encoding of the point at infinity (its negation is itself:
    /// callers skip it).
    pub fn negated_from_bytes(bytes: &[u8; SIGNATURE_LEN]) -> Result<Option<UncheckedSignature>> {
        if bytes[0] & 0x40 != 0 {
            return Ok(None);
        }
        let mut b = *bytes;
        b[0] ^= 0x20;
        UncheckedSignature::from_bytes(&b).map(Some)
    }

    /// True for the encoding of the point at infinity.
    pub fn is_infinity_encoding(bytes: &[u8; SIGNATURE_LEN]) -> bool {
        bytes[0] & 0x40 != 0
    }
}

/// A running sum of signatures (kept in projective form, so adding is
/// cheap), for tables of partial aggregates.
#[derive(Clone, Copy, Default)]
pub struct SigSum(Option<AggregateSignature>);

impl std::fmt::Debug for SigSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigSum({})", hex(&self.to_bytes()[..8]))
    }
}

impl SigSum {
    /// The empty sum (the point at infinity).
    pub fn new() -> SigSum {
        SigSum(None)
    }

    /// Add a signature.
    pub fn add(&mut self, s: &BlsSignature) {
        match &mut self.0 {
            Some(a) => a
                .add_signature(&s.0, false)
                .expect("adding a point never fails without a group check"),
            None => self.0 = Some(AggregateSignature::from_signature(&s.0)),
        }
    }

    /// Add another sum.
    pub fn add_sum(&mut self, other: &SigSum) {
        match (&mut self.0, &other.0) {
            (_, None) => {}
            (Some(a), Some(b)) => a.add_aggregate(b),
            (None, Some(b)) => self.0 = Some(*b),
        }
    }

    /// The compressed encoding of the sum (`0xC0` then zeros for the point at
    /// infinity).
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        match &self.0 {
            Some(a) => a.to_signature().compress(),
            None => {
                let mut b = [0u8; SIGNATURE_LEN];
                b[0] = 0xC0;
                b
            }
        }
    }
}

impl BlsSignature {
    /// The sum of `sigs`, checked once to lie in G1 and not to be the point
    /// at infinity (the check the summands skipped).
    pub fn aggregate_unchecked<'a, I: IntoIterator<Item = &'a UncheckedSignature>>(
        sigs: I,
    ) -> Result<BlsSignature> {
        let list: Vec<&Signature> = sigs.into_iter().map(|s| &s.0).collect();
        let agg = AggregateSignature::aggregate(&list, false)
            .map_err(|_| Error::invalid_argument("nothing to aggregate"))?
            .to_signature();
        agg.validate(true).map_err(|e| {
            Error::new(
                ErrorKind::VerificationFailed,
                format!("the aggregate signature is not valid: {}", blst_message(e)),
            )
        })?;
        Ok(BlsSignature(agg))
    }
}

/// The running sum of message hashes `H(m1) + … + H(mn)` that an aggregate
/// signature is checked against. Sums of disjoint parts (computed on other
/// threads) combine with [`HashSum::merge`].
#[derive(Clone, Copy)]
pub struct HashSum {
    sum: ext::blst_p1,
    count: u64,
}

impl Default for HashSum {
    fn default() -> Self {
        HashSum::new()
    }
}

impl std::fmt::Debug for HashSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashSum({} messages)", self.count)
    }
}

impl HashSum {
    /// The empty sum.
    pub fn new() -> HashSum {
        HashSum {
            sum: ext::p1_infinity(),
            count: 0,
        }
    }

    /// Add `H(msg)` under domain separation tag `dst`.
    pub fn add(&mut self, msg: &[u8], dst: &[u8]) {
        self.sum = ext::p1_add(&self.sum, &ext::hash_to_g1(msg, dst));
        self.count += 1;
    }

    /// Add another partial sum.
    pub fn merge(&mut self, other: &HashSum) {
        self.sum = ext::p1_add(&self.sum, &other.sum);
        self.count += other.count;
    }

    /// Number of messages added.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Check that `sig` is the aggregate of signatures by `pk` on exactly the
/// messages summed in `hashes`: `e(sig, g2) == e(hashes, pk)`. An empty sum
/// never verifies.
pub fn verify_same_key(sig: &BlsSignature, hashes: &HashSum, pk: &BlsPublicKey) -> bool {
    if hashes.count == 0 || ext::p1_is_infinity(&hashes.sum) {
        return false;
    }
    let h = ext::p1_to_affine(&hashes.sum);
    let s: &ext::blst_p1_affine = (&sig.0).into();
    let q: &ext::blst_p2_affine = (&pk.0).into();
    ext::pairings_equal(s, &ext::g2_generator(), &h, q)
}

/// Check one signature on one message.
pub fn verify(sig: &BlsSignature, msg: &[u8], dst: &[u8], pk: &BlsPublicKey) -> bool {
    let mut h = HashSum::new();
    h.add(msg, dst);
    verify_same_key(sig, &h, pk)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DST: &[u8] = DST_CROP_V1;

    fn key(seed: u8) -> BlsSecretKey {
        BlsSecretKey::from_ikm(&[seed; 32], b"test").unwrap()
    }

    fn msgs(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("cell {i}").into_bytes()).collect()
    }

    #[test]
    fn sign_verify_and_wrong_inputs() {
        let sk = key(1);
        let pk = sk.public_key();
        let sig = sk.sign(b"hello", DST);
        assert!(verify(&sig, b"hello", DST, &pk));
        assert!(!verify(&sig, b"hellp", DST, &pk));
        assert!(!verify(&sig, b"hello", b"OTHER-DST", &pk));
        assert!(!verify(&sig, b"hello", DST, &key(2).public_key()));
    }

    #[test]
    fn aggregate_verifies_exactly_its_messages() {
        let sk = key(3);
        let pk = sk.public_key();
        let m = msgs(6);
        let sigs: Vec<BlsSignature> = m.iter().map(|x| sk.sign(x, DST)).collect();
        // Any subset aggregates without the key and verifies against the sum
        // of its messages' hashes, split over "threads" and merged.
        let pick = [0usize, 2, 3, 5];
        let agg = BlsSignature::aggregate(pick.iter().map(|&i| &sigs[i])).unwrap();
        let (mut a, mut b) = (HashSum::new(), HashSum::new());
        for (n, &i) in pick.iter().enumerate() {
            if n % 2 == 0 {
                a.add(&m[i], DST)
            } else {
                b.add(&m[i], DST)
            }
        }
        a.merge(&b);
        assert_eq!(a.count(), 4);
        assert!(verify_same_key(&agg, &a, &pk));
        // One message more, one less, one swapped, another key: rejected.
        let mut more = a;
        more.add(&m[1], DST);
        assert!(!verify_same_key(&agg, &more, &pk));
        let mut less = HashSum::new();
        for &i in &pick[1..] {
            less.add(&m[i], DST);
        }
        assert!(!verify_same_key(&agg, &less, &pk));
        let mut swapped = HashSum::new();
        for &i in &[0usize, 2, 3, 4] {
            swapped.add(&m[i], DST);
        }
        assert!(!verify_same_key(&agg, &swapped, &pk));
        assert!(!verify_same_key(&agg, &a, &key(4).public_key()));
        assert!(!verify_same_key(&agg, &HashSum::new(), &pk));
    }

    /// The fast same-key check agrees with blst's own generic aggregate
    /// verification (one pairing per message), an independent code path.
    #[test]
    fn agrees_with_blst_aggregate_verify() {
        let sk = key(5);
        let pk = sk.public_key();
        let m = msgs(5);
        let sigs: Vec<BlsSignature> = m.iter().map(|x| sk.sign(x, DST)).collect();
        let agg = BlsSignature::aggregate(&sigs).unwrap();
        let refs: Vec<&[u8]> = m.iter().map(|x| x.as_slice()).collect();
        let pks: Vec<&PublicKey> = (0..m.len()).map(|_| &pk.0).collect();
        for tamper in [false, true] {
            let mut sum = HashSum::new();
            for (i, x) in m.iter().enumerate() {
                if tamper && i == 2 {
                    sum.add(b"other", DST);
                } else {
                    sum.add(x, DST);
                }
            }
            let mut r = refs.clone();
            if tamper {
                r[2] = b"other";
            }
            let blst_ok =
                agg.0.aggregate_verify(true, &r, DST, &pks, true) == BLST_ERROR::BLST_SUCCESS;
            assert_eq!(verify_same_key(&agg, &sum, &pk), blst_ok);
            assert_eq!(blst_ok, !tamper);
        }
    }

    #[test]
    fn serialisation_round_trips_and_rejects_bad_points() {
        let sk = key(6);
        let pk = sk.public_key();
        let sig = sk.sign(b"x", DST);
        assert_eq!(
            BlsSecretKey::from_bytes(&sk.to_bytes()[..])
                .unwrap()
                .public_key(),
            pk
        );
        assert_eq!(BlsPublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
        assert_eq!(BlsSignature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        // Wrong lengths.
        assert_eq!(
            BlsSignature::from_bytes(&[0u8; 47]).unwrap_err().kind(),
            ErrorKind::Malformed
        );
        assert_eq!(
            BlsPublicKey::from_bytes(&[0u8; 95]).unwrap_err().kind(),
            ErrorKind::BadKey
        );
        assert_eq!(
            BlsSecretKey::from_bytes(&[0u8; 31]).unwrap_err().kind(),
            ErrorKind::BadKey
        );
        // Zero and out-of-range scalars.
        assert!(BlsSecretKey::from_bytes(&[0u8; 32]).is_err());
        assert!(BlsSecretKey::from_bytes(&[0xFFu8; 32]).is_err());
        // The compressed point at infinity (0xC0, zeros) is refused.
        let mut inf = [0u8; 48];
        inf[0] = 0xC0;
        assert!(BlsSignature::from_bytes(&inf).is_err());
        let mut inf_pk = [0u8; 96];
        inf_pk[0] = 0xC0;
        assert!(BlsPublicKey::from_bytes(&inf_pk).is_err());
        // Flipped bits: either not a point, or (rarely) another point; never
        // a panic, and a changed signature never verifies.
        let bytes = sig.to_bytes();
        for bit in 0..SIGNATURE_LEN * 8 {
            let mut b = bytes;
            b[bit / 8] ^= 0x80 >> (bit % 8);
            if let Ok(s) = BlsSignature::from_bytes(&b) {
                assert!(!verify(&s, b"x", DST, &pk), "bit {bit}");
            }
        }
        // A point on the curve but outside G1 is refused: x = 4 - the
        // smallest x giving a curve point with compression flags set - is
        // not in the subgroup (the cofactor of G1 is large).
        let mut found_outside = false;
        for x in 0u8..64 {
            let mut b = [0u8; 48];
            b[0] = 0x80;
            b[47] = x;
            if let Err(e) = BlsSignature::from_bytes(&b) {
                if e.message().contains("subgroup") {
                    found_outside = true;
                    break;
                }
            }
        }
        assert!(found_outside, "no small x gave a curve point outside G1");
    }

    #[test]
    fn generated_keys_differ() {
        let a = BlsSecretKey::generate().unwrap();
        let b = BlsSecretKey::generate().unwrap();
        assert_ne!(a.public_key(), b.public_key());
        assert_eq!(format!("{a:?}"), "BlsSecretKey(..)");
    }
}
