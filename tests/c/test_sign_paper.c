/* test_sign_paper: the croppable signatures' paper profile through the C
 * API, with keys, certificates and an external signer made by OpenSSL
 * (libcrypto 3): jsec_sign_key_new_from_pkcs8, jsec_verify_key_new_from_spki,
 * jsec_sign_key_new_external (the callback signs with OpenSSL, as an HSM
 * would), jsec_sign_options_set_profile, jsec_sign_options_set_certificate,
 * jsec_sign_certificate and the certificate fields of
 * jsec_sign_verification; profile / key mismatches, callback failures and
 * wrong signatures, NULLs. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

static jsec_buffer *const UNTOUCHED_BUF = (jsec_buffer *)0x10;

/* Bytes of a memory BIO, copied into a malloc'd buffer. */
static unsigned char *bio_bytes(BIO *b, size_t *len) {
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    unsigned char *out;
    CHECK(n > 0);
    *len = (size_t)n;
    out = test_dup((const unsigned char *)p, *len);
    BIO_free(b);
    return out;
}

static unsigned char *pkcs8_pem(EVP_PKEY *k, size_t *len) {
    BIO *b = BIO_new(BIO_s_mem());
    CHECK(b != NULL);
    CHECK(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1);
    return bio_bytes(b, len);
}

static unsigned char *pkcs8_der(EVP_PKEY *k, size_t *len) {
    BIO *b = BIO_new(BIO_s_mem());
    CHECK(b != NULL);
    CHECK(i2d_PKCS8PrivateKey_bio(b, k, NULL, NULL, 0, NULL, NULL) == 1);
    return bio_bytes(b, len);
}

static unsigned char *spki_der(EVP_PKEY *k, size_t *len) {
    unsigned char *der = NULL, *out;
    int n = i2d_PUBKEY(k, &der);
    CHECK(n > 0);
    *len = (size_t)n;
    out = test_dup(der, *len);
    OPENSSL_free(der);
    return out;
}

static unsigned char *spki_pem(EVP_PKEY *k, size_t *len) {
    BIO *b = BIO_new(BIO_s_mem());
    CHECK(b != NULL);
    CHECK(PEM_write_bio_PUBKEY(b, k) == 1);
    return bio_bytes(b, len);
}

/* A self-signed certificate for `k` with subject CN=`cn`, O=jsec tests. */
static unsigned char *self_signed(EVP_PKEY *k, const char *cn, size_t *len) {
    X509 *x = X509_new();
    X509_NAME *name;
    unsigned char *der = NULL, *out;
    int n;
    CHECK(x != NULL);
    CHECK(X509_set_version(x, 2) == 1);
    CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), 42) == 1);
    CHECK(X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL);
    CHECK(X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL);
    CHECK(X509_set_pubkey(x, k) == 1);
    name = X509_get_subject_name(x);
    CHECK(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"jsec tests",
                                     -1, -1, 0) == 1);
    CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                     0) == 1);
    CHECK(X509_set_issuer_name(x, name) == 1);
    CHECK(X509_sign(x, k, EVP_sha256()) > 0);
    n = i2d_X509(x, &der);
    CHECK(n > 0);
    *len = (size_t)n;
    out = test_dup(der, *len);
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

/* ---- the external signer ---- */

enum signer_mode { SIGN_MESSAGE, SIGN_DIGEST, SIGN_FAIL, SIGN_ZERO_LENGTH, SIGN_OVERLONG };

typedef struct {
    EVP_PKEY *key; /* the key the "HSM" signs with */
    enum signer_mode mode;
    int calls;
} hsm;

static int pss_params(EVP_PKEY_CTX *pctx) {
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
}

static int32_t hsm_sign(void *user_data, const uint8_t *message, size_t message_len,
                        const uint8_t *digest, uint8_t *signature, size_t capacity,
                        size_t *signature_len) {
    hsm *h = user_data;
    int is_rsa = EVP_PKEY_is_a(h->key, "RSA");
    size_t n = capacity;
    int ok = 0;
    h->calls++;
    if (h->mode == SIGN_FAIL) return 7;
    if (h->mode == SIGN_ZERO_LENGTH) {
        *signature_len = 0;
        return 0;
    }
    if (h->mode == SIGN_OVERLONG) {
        *signature_len = capacity + 1;
        return 0;
    }
    if (h->mode == SIGN_DIGEST) {
        /* A pre-hashed signer (PKCS#11 CKM_ECDSA style): sign the 32 bytes. */
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(h->key, NULL);
        ok = pctx != NULL && EVP_PKEY_sign_init(pctx) == 1 &&
             EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1 &&
             (!is_rsa || pss_params(pctx)) &&
             EVP_PKEY_sign(pctx, signature, &n, digest, 32) == 1;
        EVP_PKEY_CTX_free(pctx);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        ok = md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, h->key) == 1 &&
             (!is_rsa || pss_params(pctx)) &&
             EVP_DigestSign(md, signature, &n, message, message_len) == 1;
        EVP_MD_CTX_free(md);
    }
    if (!ok) return -1;
    *signature_len = n; /* ECDSA: DER, which jsec converts to r || s */
    return 0;
}

/* ---- the checks ---- */

static const uint8_t *data_of(const jsec_buffer *b, size_t *len) {
    const uint8_t *p = NULL;
    CHECK_OK(jsec_buffer_data(b, &p, len));
    CHECK(p != NULL && *len > 0);
    return p;
}

static unsigned char *test_image(size_t *len, unsigned seed) {
    testjpeg_params p = testjpeg_defaults();
    unsigned char *jpeg;
    p.width = 72;
    p.height = 40;
    p.seed = seed;
    jpeg = testjpeg_make(&p, len);
    CHECK(jpeg != NULL);
    return jpeg;
}

static void check_local_keys_and_certificate(EVP_PKEY *ec, EVP_PKEY *other) {
    size_t plen, dlen, klen, kplen, clen, jlen, slen, certlen, crlen, olen;
    unsigned char *pem = pkcs8_pem(ec, &plen), *der = pkcs8_der(ec, &dlen);
    unsigned char *spki = spki_der(ec, &klen), *spkipem = spki_pem(ec, &kplen);
    unsigned char *cert = self_signed(ec, "jsec C test camera", &clen);
    unsigned char *other_cert = self_signed(other, "someone else", &olen);
    unsigned char *jpeg = test_image(&jlen, 3);
    const jsec_sign_key *sk = NULL, *sk_der = NULL, *bad = (const jsec_sign_key *)0x10;
    const jsec_verify_key *pk = NULL, *pk_pem = NULL, *pk_cert = NULL, *derived = NULL;
    const jsec_verify_key *vbad = (const jsec_verify_key *)0x10;
    jsec_sign_options *o = NULL;
    jsec_buffer *signed_buf = NULL, *none = UNTOUCHED_BUF, *cb = NULL, *crop = NULL;
    const uint8_t *s, *cd, *c;
    jsec_sign_verification v, part;
    uint8_t buf[JSEC_VERIFY_KEY_LEN];

    CHECK_OK(jsec_sign_key_new_from_pkcs8(pem, plen, &sk));
    CHECK_OK(jsec_sign_key_new_from_pkcs8(der, dlen, &sk_der));
    CHECK_OK(jsec_verify_key_new_from_spki(spki, klen, &pk));
    CHECK_OK(jsec_verify_key_new_from_spki(spkipem, kplen, &pk_pem));
    CHECK_OK(jsec_verify_key_new_from_spki(cert, clen, &pk_cert));
    CHECK_OK(jsec_sign_key_public(sk, &derived));
    /* Only BLS keys have a raw byte form. */
    CHECK_FAILS(jsec_sign_key_to_bytes(sk, buf, sizeof buf), JSEC_ERR_INVALID_ARGUMENT,
                "not a BLS key");
    CHECK_FAILS(jsec_verify_key_to_bytes(pk, buf, sizeof buf), JSEC_ERR_INVALID_ARGUMENT,
                "not a BLS key");
    /* Bad keys. */
    CHECK_FAILS(jsec_sign_key_new_from_pkcs8((const uint8_t *)"hello", 5, &bad), JSEC_ERR_BAD_KEY,
                "PKCS#8");
    CHECK_FAILS(jsec_sign_key_new_from_pkcs8(spki, klen, &bad), JSEC_ERR_BAD_KEY, "PKCS#8");
    CHECK_FAILS(jsec_sign_key_new_from_pkcs8(NULL, 5, &bad), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK_FAILS(jsec_sign_key_new_from_pkcs8(pem, plen, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(bad == (const jsec_sign_key *)0x10);
    CHECK_STATUS(jsec_verify_key_new_from_spki(pem, plen, &vbad), JSEC_ERR_BAD_KEY);
    CHECK_FAILS(jsec_verify_key_new_from_spki(spki, klen / 2, &vbad), JSEC_ERR_BAD_KEY,
                "SubjectPublicKeyInfo");
    CHECK_FAILS(jsec_verify_key_new_from_spki(NULL, 1, &vbad), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK(vbad == (const jsec_verify_key *)0x10);

    /* Options: the profile, the certificate. */
    CHECK_OK(jsec_sign_options_new(&o));
    CHECK_FAILS(jsec_sign_options_set_profile(o, 3), JSEC_ERR_INVALID_ARGUMENT, "profile 3");
    CHECK_FAILS(jsec_sign_options_set_profile(NULL, 1), JSEC_ERR_INVALID_ARGUMENT, "options");
    CHECK_FAILS(jsec_sign_options_set_certificate(o, (const uint8_t *)"nope", 4),
                JSEC_ERR_MALFORMED, "X.509");
    CHECK_FAILS(jsec_sign_options_set_certificate(o, NULL, 4), JSEC_ERR_INVALID_ARGUMENT,
                "certificate");
    CHECK_FAILS(jsec_sign_options_set_certificate(NULL, cert, clen), JSEC_ERR_INVALID_ARGUMENT,
                "options");
    /* A certificate for another key is refused when signing. */
    CHECK_OK(jsec_sign_options_set_certificate(o, other_cert, olen));
    CHECK_FAILS(jsec_sign_jpeg(sk, o, jpeg, jlen, &none), JSEC_ERR_INVALID_ARGUMENT,
                "another key");
    CHECK(none == UNTOUCHED_BUF);
    /* The profile must suit the key. */
    CHECK_OK(jsec_sign_options_set_certificate(o, NULL, 0));
    CHECK_OK(jsec_sign_options_set_profile(o, JSEC_SIGN_PROFILE_COMPACT));
    CHECK_FAILS(jsec_sign_jpeg(sk, o, jpeg, jlen, &none), JSEC_ERR_INVALID_ARGUMENT,
                "compact needs a BLS key");
    CHECK_OK(jsec_sign_options_set_profile(o, JSEC_SIGN_PROFILE_PAPER));
    CHECK_OK(jsec_sign_options_set_certificate(o, cert, clen));
    CHECK_OK(jsec_sign_options_set_granularity(o, 1));

    CHECK_OK(jsec_sign_jpeg(sk, o, jpeg, jlen, &signed_buf));
    s = data_of(signed_buf, &slen);
    {
        int w = 0, h = 0, comps = 0, warn = 0;
        unsigned char *px = testjpeg_decode(s, slen, &w, &h, &comps, &warn);
        CHECK(px != NULL && w == 72 && h == 40 && warn == 0);
        free(px);
    }
    /* Every form of the public key verifies; the report names the certificate. */
    memset(&v, 0xAB, sizeof v);
    v.struct_size = sizeof v;
    CHECK_OK(jsec_sign_verify(pk, NULL, s, slen, &v));
    CHECK_EQ_U(v.profile, JSEC_SIGN_PROFILE_PAPER);
    CHECK(!v.cropped && v.original_width == 72 && v.original_height == 40);
    CHECK(v.has_certificate);
    CHECK_STR_CONTAINS(v.certificate_subject, "CN=jsec C test camera");
    CHECK_STR_CONTAINS(v.certificate_subject, "O=jsec tests");
    CHECK_EQ_U(v.certificate_subject_len, strlen(v.certificate_subject));
    CHECK_OK(jsec_sign_verify(pk_pem, NULL, s, slen, &v));
    CHECK_OK(jsec_sign_verify(pk_cert, NULL, s, slen, &v));
    CHECK_OK(jsec_sign_verify(derived, NULL, s, slen, &v));
    /* An older caller's struct (up to key_id) gets nothing past it. */
    memset(&part, 0x5C, sizeof part);
    part.struct_size = offsetof(jsec_sign_verification, has_certificate);
    CHECK_OK(jsec_sign_verify(pk, NULL, s, slen, &part));
    CHECK_EQ_U(part.profile, 1);
    CHECK_EQ_U(part.certificate_subject_len, 0x5C5C5C5Cu);
    /* The key signed with DER PKCS#8 is the same key. */
    {
        jsec_buffer *again = NULL;
        size_t alen = 0;
        const uint8_t *a;
        CHECK_OK(jsec_sign_jpeg(sk_der, o, jpeg, jlen, &again));
        a = data_of(again, &alen);
        CHECK_OK(jsec_sign_verify(pk, NULL, a, alen, &v));
        jsec_buffer_free(again);
    }

    /* The embedded certificate comes back byte for byte. */
    CHECK_OK(jsec_sign_certificate(s, slen, &cb));
    CHECK(cb != NULL);
    c = data_of(cb, &certlen);
    CHECK(certlen == clen && memcmp(c, cert, clen) == 0);
    CHECK_FAILS(jsec_sign_certificate(jpeg, jlen, &none), JSEC_ERR_VERIFICATION_FAILED,
                "no jsec signature");
    CHECK_FAILS(jsec_sign_certificate(NULL, 1, &none), JSEC_ERR_INVALID_ARGUMENT, "jpeg");
    CHECK_FAILS(jsec_sign_certificate(s, slen, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(none == UNTOUCHED_BUF);

    /* A crop keeps the certification and verifies with the same key. */
    CHECK_OK(jsec_sign_crop(s, slen, 16, 16, 32, 24, &crop));
    cd = data_of(crop, &crlen);
    CHECK_OK(jsec_sign_verify(pk_cert, NULL, cd, crlen, &v));
    CHECK(v.cropped && v.crop_x == 16 && v.crop_y == 16 && v.crop_width == 32 &&
          v.crop_height == 24);
    CHECK(v.has_certificate);

    /* Wrong keys: another ECDSA key; a BLS key for a paper signature. */
    {
        size_t k2len;
        unsigned char *k2 = spki_der(other, &k2len);
        const jsec_verify_key *pk2 = NULL, *blspk = NULL;
        const jsec_sign_key *bls = NULL;
        CHECK_OK(jsec_verify_key_new_from_spki(k2, k2len, &pk2));
        CHECK_FAILS(jsec_sign_verify(pk2, NULL, s, slen, &v), JSEC_ERR_VERIFICATION_FAILED,
                    "another key");
        CHECK_OK(jsec_sign_key_generate(&bls));
        CHECK_OK(jsec_sign_key_public(bls, &blspk));
        CHECK_FAILS(jsec_sign_verify(blspk, NULL, cd, crlen, &v), JSEC_ERR_VERIFICATION_FAILED,
                    "paper-profile");
        /* A BLS key cannot sign the paper profile, nor embed a certificate. */
        CHECK_FAILS(jsec_sign_jpeg(bls, o, jpeg, jlen, &none), JSEC_ERR_INVALID_ARGUMENT,
                    "paper needs");
        CHECK_OK(jsec_sign_options_set_profile(o, JSEC_SIGN_PROFILE_AUTO));
        CHECK_FAILS(jsec_sign_jpeg(bls, o, jpeg, jlen, &none), JSEC_ERR_INVALID_ARGUMENT,
                    "certificate");
        /* A compact signature has no certificate: *out is NULL. */
        CHECK_OK(jsec_sign_options_set_certificate(o, NULL, 0));
        {
            jsec_buffer *cs = NULL, *nc = UNTOUCHED_BUF;
            size_t cslen;
            const uint8_t *csd;
            CHECK_OK(jsec_sign_jpeg(bls, o, jpeg, jlen, &cs));
            csd = data_of(cs, &cslen);
            CHECK_OK(jsec_sign_certificate(csd, cslen, &nc));
            CHECK(nc == NULL);
            CHECK_FAILS(jsec_sign_verify(pk, NULL, csd, cslen, &v), JSEC_ERR_VERIFICATION_FAILED,
                        "compact-profile");
            jsec_buffer_free(cs);
        }
        CHECK(none == UNTOUCHED_BUF);
        jsec_verify_key_free(pk2);
        jsec_verify_key_free(blspk);
        jsec_sign_key_free(bls);
        free(k2);
    }

    jsec_buffer_free(crop);
    jsec_buffer_free(cb);
    jsec_buffer_free(signed_buf);
    jsec_sign_options_free(o);
    jsec_sign_key_free(sk);
    jsec_sign_key_free(sk_der);
    jsec_verify_key_free(pk);
    jsec_verify_key_free(pk_pem);
    jsec_verify_key_free(pk_cert);
    jsec_verify_key_free(derived);
    free(pem);
    free(der);
    free(spki);
    free(spkipem);
    free(cert);
    free(other_cert);
    free(jpeg);
}

static void check_external(EVP_PKEY *key, EVP_PKEY *other, const char *what) {
    size_t klen, jlen, slen, clen;
    unsigned char *spki = spki_der(key, &klen);
    unsigned char *cert = self_signed(key, "HSM-held key", &clen);
    unsigned char *jpeg = test_image(&jlen, 11);
    hsm h = {key, SIGN_MESSAGE, 0};
    const jsec_sign_key *sk = NULL, *from_cert = NULL, *bad = (const jsec_sign_key *)0x10;
    const jsec_verify_key *pk = NULL, *derived = NULL;
    jsec_sign_options *o = NULL;
    jsec_buffer *signed_buf = NULL, *none = UNTOUCHED_BUF;
    const uint8_t *s;
    jsec_sign_verification v;

    printf("external signer: %s\n", what);
    v.struct_size = sizeof v;
    CHECK_OK(jsec_sign_key_new_external(spki, klen, hsm_sign, &h, &sk));
    CHECK_OK(jsec_sign_key_new_external(cert, clen, hsm_sign, &h, &from_cert));
    CHECK_OK(jsec_verify_key_new_from_spki(spki, klen, &pk));
    CHECK_OK(jsec_sign_key_public(sk, &derived));
    CHECK_FAILS(jsec_sign_key_new_external(spki, klen, NULL, &h, &bad), JSEC_ERR_INVALID_ARGUMENT,
                "callback");
    CHECK_FAILS(jsec_sign_key_new_external(NULL, 0, hsm_sign, &h, &bad),
                JSEC_ERR_INVALID_ARGUMENT, "spki");
    CHECK_FAILS(jsec_sign_key_new_external(spki, klen, hsm_sign, &h, NULL),
                JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_sign_key_new_external((const uint8_t *)"junk", 4, hsm_sign, &h, &bad),
                JSEC_ERR_BAD_KEY, "SubjectPublicKeyInfo");
    CHECK(bad == (const jsec_sign_key *)0x10);

    CHECK_OK(jsec_sign_options_new(&o));
    CHECK_OK(jsec_sign_options_set_certificate(o, cert, clen));
    CHECK_OK(jsec_sign_options_set_granularity(o, 2));
    CHECK_OK(jsec_sign_options_set_threads(o, 2));

    /* The callback signs the message, then (pre-hashed) the digest. */
    CHECK_OK(jsec_sign_jpeg(sk, o, jpeg, jlen, &signed_buf));
    CHECK_EQ_U(h.calls, 1);
    s = data_of(signed_buf, &slen);
    CHECK_OK(jsec_sign_verify(pk, NULL, s, slen, &v));
    CHECK_OK(jsec_sign_verify(derived, NULL, s, slen, &v));
    CHECK_EQ_U(v.profile, 1);
    CHECK_STR_CONTAINS(v.certificate_subject, "CN=HSM-held key");
    jsec_buffer_free(signed_buf);
    h.mode = SIGN_DIGEST;
    CHECK_OK(jsec_sign_jpeg(from_cert, o, jpeg, jlen, &signed_buf));
    CHECK_EQ_U(h.calls, 2);
    s = data_of(signed_buf, &slen);
    CHECK_OK(jsec_sign_verify(pk, NULL, s, slen, &v));

    /* A session: the callback is called once, at the finish. */
    {
        jsec_sign_session *session = NULL;
        jsec_buffer *sb = NULL;
        size_t sblen, at;
        const uint8_t *sd;
        int calls = h.calls;
        h.mode = SIGN_MESSAGE;
        CHECK_OK(jsec_sign_session_new(sk, o, &session));
        for (at = 0; at < jlen; at += 50)
            CHECK_OK(jsec_sign_session_write(session, jpeg + at, jlen - at < 50 ? jlen - at : 50));
        CHECK_EQ_U(h.calls, calls);
        CHECK_OK(jsec_sign_session_finish(session, &sb));
        CHECK_EQ_U(h.calls, calls + 1);
        sd = data_of(sb, &sblen);
        CHECK_OK(jsec_sign_verify(pk, NULL, sd, sblen, &v));
        CHECK_STR_CONTAINS(v.certificate_subject, "CN=HSM-held key");
        jsec_buffer_free(sb);
        jsec_sign_session_free(session);
        /* A failing callback fails the finish. */
        h.mode = SIGN_FAIL;
        CHECK_OK(jsec_sign_session_new(sk, o, &session));
        CHECK_OK(jsec_sign_session_write(session, jpeg, jlen));
        CHECK_FAILS(jsec_sign_session_finish(session, &none), JSEC_ERR_CALLBACK, "returned 7");
        jsec_sign_session_free(session);
        h.calls -= 2; /* keep the count below as it was */
    }

    /* Failures: nothing is made. */
    h.mode = SIGN_FAIL;
    CHECK_FAILS(jsec_sign_jpeg(sk, o, jpeg, jlen, &none), JSEC_ERR_CALLBACK, "returned 7");
    h.mode = SIGN_ZERO_LENGTH;
    CHECK_FAILS(jsec_sign_jpeg(sk, o, jpeg, jlen, &none), JSEC_ERR_CALLBACK,
                "signature length of 0");
    h.mode = SIGN_OVERLONG;
    CHECK_FAILS(jsec_sign_jpeg(sk, o, jpeg, jlen, &none), JSEC_ERR_CALLBACK, "room");
    /* An HSM that signs with another key: the signature does not verify. */
    h.mode = SIGN_MESSAGE;
    h.key = other;
    CHECK_OK(jsec_sign_options_set_certificate(o, NULL, 0));
    if (EVP_PKEY_is_a(other, "RSA") == EVP_PKEY_is_a(key, "RSA")) {
        CHECK_FAILS(jsec_sign_jpeg(sk, o, jpeg, jlen, &none), JSEC_ERR_BAD_KEY,
                    "does not verify");
    }
    CHECK(none == UNTOUCHED_BUF);
    CHECK_EQ_U(h.calls, 6);

    jsec_buffer_free(signed_buf);
    jsec_sign_options_free(o);
    jsec_sign_key_free(sk);
    jsec_sign_key_free(from_cert);
    jsec_verify_key_free(pk);
    jsec_verify_key_free(derived);
    free(spki);
    free(cert);
    free(jpeg);
}

int main(void) {
    EVP_PKEY *ec = EVP_EC_gen("P-256"), *ec2 = EVP_EC_gen("P-256");
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *rsa2 = EVP_RSA_gen(2048);
    CHECK(ec != NULL && ec2 != NULL && rsa != NULL && rsa2 != NULL);
    check_local_keys_and_certificate(ec, ec2);
    check_local_keys_and_certificate(rsa, rsa2);
    check_external(ec, ec2, "ECDSA P-256 (DER signatures)");
    check_external(rsa, rsa2, "RSA-PSS 2048");
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec2);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    return CHECK_DONE("test_sign_paper");
}
