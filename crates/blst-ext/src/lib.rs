//! Safe wrappers over the few functions of the `blst` C library that the
//! `blst` crate's Rust API offers only as `unsafe extern "C"`.
//!
//! jsec verifies a cropped image's aggregate BLS signature (min-sig: points
//! of G1 are signatures and message hashes, points of G2 public keys) as
//! `e(S, g2) == e(H(m1) + ... + H(mn), pk)`: n hashes to G1, n - 1 point
//! additions and two Miller loops with one final exponentiation. The `blst`
//! crate's safe API has the Miller loop and the final check
//! ([`blst::blst_fp12::miller_loop`], [`blst::blst_fp12::finalverify`]) but
//! neither hashes a message to a point of G1 nor adds two points; its
//! generic `aggregate_verify` runs one Miller loop per message (about four
//! times slower for this use). This crate adds exactly those operations.
//!
//! It is the only code of the jsec project outside `jsec::ffi` with
//! `unsafe`; every block says why it is sound.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub use blst::{blst_fp12, blst_p1, blst_p1_affine, blst_p2_affine};

/// `H(msg)`: `msg` hashed to a point of G1 by the random-oracle hash to
/// curve of RFC 9380 (suite `BLS12381G1_XMD:SHA-256_SSWU_RO_`) with domain
/// separation tag `dst`, in projective form. The result is in G1 (never
/// needs a subgroup check).
pub fn hash_to_g1(msg: &[u8], dst: &[u8]) -> blst_p1 {
    let mut out = blst_p1::default();
    // SAFETY: `out` is a valid, writable `blst_p1`; `msg` and `dst` are
    // valid for reads of their lengths (blst reads nothing when a length is
    // 0); the augmentation is empty (length 0, never read).
    unsafe {
        blst::blst_hash_to_g1(
            &mut out,
            msg.as_ptr(),
            msg.len(),
            dst.as_ptr(),
            dst.len(),
            std::ptr::null(),
            0,
        );
    }
    out
}

/// `a + b` in G1 (projective; either may be the point at infinity, and
/// `a == b` doubles).
pub fn p1_add(a: &blst_p1, b: &blst_p1) -> blst_p1 {
    let mut out = blst_p1::default();
    // SAFETY: all three are valid `blst_p1` values owned or borrowed here;
    // blst allows `out` to differ from both inputs (it does here).
    unsafe { blst::blst_p1_add_or_double(&mut out, a, b) };
    out
}

/// The point at infinity of G1 (the identity for [`p1_add`]).
pub fn p1_infinity() -> blst_p1 {
    // blst represents infinity in projective form as Z = 0, which is what
    // the all-zero default is.
    blst_p1::default()
}

/// True when `p` is the point at infinity.
pub fn p1_is_infinity(p: &blst_p1) -> bool {
    // SAFETY: `p` is a valid `blst_p1` borrowed for the call.
    unsafe { blst::blst_p1_is_inf(p) }
}

/// `p` in affine form (infinity maps to the affine all-zero encoding blst
/// uses for it).
pub fn p1_to_affine(p: &blst_p1) -> blst_p1_affine {
    let mut out = blst_p1_affine::default();
    // SAFETY: `out` is a valid, writable `blst_p1_affine`; `p` a valid
    // `blst_p1` borrowed for the call.
    unsafe { blst::blst_p1_to_affine(&mut out, p) };
    out
}

/// True when the two affine points are equal.
pub fn p1_affine_eq(a: &blst_p1_affine, b: &blst_p1_affine) -> bool {
    // SAFETY: both are valid `blst_p1_affine` values borrowed for the call.
    unsafe { blst::blst_p1_affine_is_equal(a, b) }
}

/// The standard generator of G2.
pub fn g2_generator() -> blst_p2_affine {
    // SAFETY: blst returns a pointer to its static, immutable generator,
    // valid for the whole program; it is copied out.
    unsafe { *blst::blst_p2_affine_generator() }
}

/// `e(p1, q1) == e(p2, q2)`: two Miller loops and one final
/// exponentiation. The points must already be known to lie in their groups
/// (see `blst`'s `subgroup_check` / `validate`).
pub fn pairings_equal(
    p1: &blst_p1_affine,
    q1: &blst_p2_affine,
    p2: &blst_p1_affine,
    q2: &blst_p2_affine,
) -> bool {
    let a = blst_fp12::miller_loop(q1, p1);
    let b = blst_fp12::miller_loop(q2, p2);
    blst_fp12::finalverify(&a, &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blst::min_sig::{SecretKey, Signature};

    const DST: &[u8] = b"JSEC-BLST-EXT-TEST_BLS12381G1_XMD:SHA-256_SSWU_RO_";

    fn key(seed: u8) -> SecretKey {
        SecretKey::key_gen(&[seed; 32], &[]).unwrap()
    }

    /// blst's own signature is sk * H(m), so e(sig, g2) == e(H(m), pk).
    #[test]
    fn hash_matches_blst_signing() {
        let sk = key(1);
        let pk = sk.sk_to_pk();
        let sig = sk.sign(b"cell 0,0", DST, &[]);
        let h = p1_to_affine(&hash_to_g1(b"cell 0,0", DST));
        let g2 = g2_generator();
        let pk_aff: &blst_p2_affine = (&pk).into();
        let sig_aff: &blst_p1_affine = (&sig).into();
        assert!(pairings_equal(sig_aff, &g2, &h, pk_aff));
        let other = p1_to_affine(&hash_to_g1(b"cell 0,1", DST));
        assert!(!pairings_equal(sig_aff, &g2, &other, pk_aff));
    }

    /// The sum of hashes verifies the sum of signatures, and only it.
    #[test]
    fn aggregate_of_same_key_signatures() {
        let sk = key(2);
        let pk = sk.sk_to_pk();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3]).collect();
        let sigs: Vec<Signature> = msgs.iter().map(|m| sk.sign(m, DST, &[])).collect();
        let refs: Vec<&Signature> = sigs.iter().collect();
        let agg = blst::min_sig::AggregateSignature::aggregate(&refs, true)
            .unwrap()
            .to_signature();
        let mut sum = p1_infinity();
        assert!(p1_is_infinity(&sum));
        for m in &msgs {
            sum = p1_add(&sum, &hash_to_g1(m, DST));
        }
        assert!(!p1_is_infinity(&sum));
        let pk_aff: &blst_p2_affine = (&pk).into();
        let agg_aff: &blst_p1_affine = (&agg).into();
        let g2 = g2_generator();
        assert!(pairings_equal(agg_aff, &g2, &p1_to_affine(&sum), pk_aff));
        // Leaving a message out breaks it.
        let mut part = p1_infinity();
        for m in &msgs[1..] {
            part = p1_add(&part, &hash_to_g1(m, DST));
        }
        assert!(!pairings_equal(agg_aff, &g2, &p1_to_affine(&part), pk_aff));
        // Doubling through p1_add is doubling.
        let h = hash_to_g1(b"x", DST);
        let two_h = p1_add(&h, &h);
        let via_sum = p1_add(&p1_add(&p1_infinity(), &h), &h);
        assert!(p1_affine_eq(&p1_to_affine(&two_h), &p1_to_affine(&via_sum)));
    }

    /// RFC 9380 appendix J.9.1 (BLS12381G1_XMD:SHA-256_SSWU_RO_), msg "".
    #[test]
    fn rfc9380_vector() {
        let dst = b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
        let p = p1_to_affine(&hash_to_g1(b"", dst));
        let mut ser = [0u8; 96];
        // SAFETY-free: serialise through blst's safe Signature type.
        let sig = Signature::from(p);
        ser.copy_from_slice(&sig.serialize());
        let x = "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1";
        let y = "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265";
        assert_eq!(hex(&ser[..48]), x);
        assert_eq!(hex(&ser[48..]), y);
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
