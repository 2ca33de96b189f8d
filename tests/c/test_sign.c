/* test_sign: croppable signatures through the C API: jsec_sign_key_*,
 * jsec_verify_key_*, jsec_sign_options_*, jsec_sign_jpeg, jsec_sign_attach,
 * jsec_sign_verify, jsec_sign_session_* (signing while the file is
 * written), jsec_buffer_data and jsec_buffer_free: round trips,
 * tampering, wrong keys, malformed input, NULL and short buffers, the
 * struct_size rule, and that outputs are written only on success. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

static jsec_buffer *const UNTOUCHED_BUF = (jsec_buffer *)0x10;

/* Bytes and length of a buffer. */
static const uint8_t *data_of(const jsec_buffer *b, size_t *len) {
    const uint8_t *p = NULL;
    CHECK_OK(jsec_buffer_data(b, &p, len));
    CHECK(p != NULL && *len > 0);
    return p;
}

static void check_keys(void) {
    const jsec_sign_key *sk = NULL, *sk2 = NULL, *bad = (const jsec_sign_key *)0x10;
    const jsec_verify_key *pk = NULL, *pk2 = NULL, *vbad = (const jsec_verify_key *)0x10;
    uint8_t skb[JSEC_SIGN_KEY_LEN], skb2[JSEC_SIGN_KEY_LEN];
    uint8_t pkb[JSEC_VERIFY_KEY_LEN], pkb2[JSEC_VERIFY_KEY_LEN];
    uint8_t zero[JSEC_SIGN_KEY_LEN] = {0};
    uint8_t big[JSEC_VERIFY_KEY_LEN + 1];

    CHECK_OK(jsec_sign_key_generate(&sk));
    CHECK_OK(jsec_sign_key_to_bytes(sk, skb, sizeof skb));
    CHECK_OK(jsec_sign_key_new_from_bytes(skb, sizeof skb, &sk2));
    CHECK_OK(jsec_sign_key_to_bytes(sk2, skb2, sizeof skb2));
    CHECK(memcmp(skb, skb2, sizeof skb) == 0);
    CHECK_OK(jsec_sign_key_public(sk, &pk));
    CHECK_OK(jsec_verify_key_to_bytes(pk, pkb, sizeof pkb));
    CHECK_OK(jsec_verify_key_new_from_bytes(pkb, sizeof pkb, &pk2));
    CHECK_OK(jsec_verify_key_to_bytes(pk2, pkb2, sizeof pkb2));
    CHECK(memcmp(pkb, pkb2, sizeof pkb) == 0);

    /* Bad keys: wrong length, zero scalar, a flipped public key. */
    CHECK_FAILS(jsec_sign_key_new_from_bytes(skb, 31, &bad), JSEC_ERR_BAD_KEY, "32 bytes");
    CHECK_FAILS(jsec_sign_key_new_from_bytes(zero, sizeof zero, &bad), JSEC_ERR_BAD_KEY,
                "secret key");
    CHECK(bad == (const jsec_sign_key *)0x10);
    memcpy(big, pkb, sizeof pkb);
    CHECK_FAILS(jsec_verify_key_new_from_bytes(big, sizeof big, &vbad), JSEC_ERR_BAD_KEY,
                "96 bytes");
    big[0] ^= 0x20; /* the sign flag: still on the curve? either way not our key */
    big[5] ^= 0x01;
    if (jsec_verify_key_new_from_bytes(big, JSEC_VERIFY_KEY_LEN, &vbad) == JSEC_OK) {
        jsec_verify_key_free(vbad);
    } else {
        CHECK_STR_CONTAINS(jsec_last_error(), "public key");
    }
    /* Short output buffers, NULLs. */
    CHECK_FAILS(jsec_sign_key_to_bytes(sk, skb, 31), JSEC_ERR_BUFFER_TOO_SMALL, "32");
    CHECK_FAILS(jsec_verify_key_to_bytes(pk, pkb, 95), JSEC_ERR_BUFFER_TOO_SMALL, "96");
    CHECK_FAILS(jsec_sign_key_to_bytes(NULL, skb, sizeof skb), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_sign_key_to_bytes(sk, NULL, 32), JSEC_ERR_INVALID_ARGUMENT, "buf");
    CHECK_FAILS(jsec_verify_key_to_bytes(NULL, pkb, sizeof pkb), JSEC_ERR_INVALID_ARGUMENT,
                "key");
    CHECK_FAILS(jsec_sign_key_generate(NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_sign_key_public(NULL, &pk2), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_verify_key_new_from_bytes(NULL, 96, &pk2), JSEC_ERR_INVALID_ARGUMENT,
                "bytes");
    memset(skb, 0, sizeof skb);
    memset(skb2, 0, sizeof skb2);
    jsec_sign_key_free(sk);
    jsec_sign_key_free(sk2);
    jsec_verify_key_free(pk);
    jsec_verify_key_free(pk2);
    jsec_sign_key_free(NULL);
    jsec_verify_key_free(NULL);
}

static void check_options(void) {
    jsec_sign_options *o = NULL;
    CHECK_OK(jsec_sign_options_new(&o));
    CHECK_OK(jsec_sign_options_set_granularity(o, 4));
    CHECK_FAILS(jsec_sign_options_set_granularity(o, 0), JSEC_ERR_INVALID_ARGUMENT,
                "granularity");
    CHECK_FAILS(jsec_sign_options_set_granularity(o, 33), JSEC_ERR_INVALID_ARGUMENT,
                "granularity");
    CHECK_OK(jsec_sign_options_set_threads(o, 0));
    CHECK_OK(jsec_sign_options_set_threads(o, 3));
    CHECK_FAILS(jsec_sign_options_set_threads(o, 100000), JSEC_ERR_INVALID_ARGUMENT, "threads");
    CHECK_FAILS(jsec_sign_options_set_threads(NULL, 1), JSEC_ERR_INVALID_ARGUMENT, "options");
    CHECK_FAILS(jsec_sign_options_new(NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    jsec_sign_options_free(o);
    jsec_sign_options_free(NULL);
}

static void check_sign_verify(int components, int h_samp, int v_samp, unsigned granularity) {
    testjpeg_params p = testjpeg_defaults();
    const jsec_sign_key *sk = NULL, *other = NULL;
    const jsec_verify_key *pk = NULL, *opk = NULL;
    jsec_sign_options *o = NULL;
    jsec_buffer *signed_buf = NULL, *again = NULL, *att = UNTOUCHED_BUF;
    const uint8_t *s;
    size_t jlen = 0, slen = 0, alen = 0;
    unsigned char *jpeg, *tampered, *plain2;
    jsec_sign_verification v, untouched;
    int w = 0, h = 0, c = 0, warn = 0;

    p.width = 80;
    p.height = 56;
    p.components = components;
    p.h_samp = h_samp;
    p.v_samp = v_samp;
    jpeg = testjpeg_make(&p, &jlen);
    CHECK(jpeg != NULL);

    CHECK_OK(jsec_sign_key_generate(&sk));
    CHECK_OK(jsec_sign_key_public(sk, &pk));
    CHECK_OK(jsec_sign_key_generate(&other));
    CHECK_OK(jsec_sign_key_public(other, &opk));
    CHECK_OK(jsec_sign_options_new(&o));
    CHECK_OK(jsec_sign_options_set_granularity(o, granularity));
    CHECK_OK(jsec_sign_options_set_threads(o, 2));

    CHECK_OK(jsec_sign_jpeg(sk, o, jpeg, jlen, &signed_buf));
    s = data_of(signed_buf, &slen);
    CHECK(slen > jlen);
    /* libjpeg still decodes it, to the same size. */
    {
        unsigned char *px = testjpeg_decode(s, slen, &w, &h, &c, &warn);
        CHECK(px != NULL);
        CHECK(w == 80 && h == 56 && warn == 0);
        free(px);
    }
    memset(&v, 0xAB, sizeof v);
    v.struct_size = sizeof v;
    CHECK_OK(jsec_sign_verify(pk, o, s, slen, &v));
    CHECK_EQ_U(v.struct_size, sizeof v);
    CHECK_EQ_U(v.profile, 2);
    CHECK_EQ_U(v.granularity, granularity);
    CHECK(v.original_width == 80 && v.original_height == 56);
    CHECK(!v.cropped);
    CHECK(v.crop_x == 0 && v.crop_y == 0 && v.crop_width == 80 && v.crop_height == 56);
    CHECK(v.cells > 0);
    /* NULL options: the defaults (the calling thread only). */
    CHECK_OK(jsec_sign_verify(pk, NULL, s, slen, &v));

    /* A short struct_size gets only its prefix; a tiny one is refused. */
    memset(&untouched, 0x5C, sizeof untouched);
    untouched.struct_size = offsetof(jsec_sign_verification, granularity);
    CHECK_OK(jsec_sign_verify(pk, NULL, s, slen, &untouched));
    CHECK_EQ_U(untouched.profile, 2);
    CHECK_EQ_U(untouched.granularity, 0x5C5C5C5Cu);
    untouched.struct_size = 1;
    CHECK_FAILS(jsec_sign_verify(pk, NULL, s, slen, &untouched), JSEC_ERR_INVALID_ARGUMENT,
                "struct_size");

    /* Other key, unsigned input: VERIFICATION_FAILED with a reason, result untouched. */
    memset(&untouched, 0x33, sizeof untouched);
    untouched.struct_size = sizeof untouched;
    CHECK_FAILS(jsec_sign_verify(opk, NULL, s, slen, &untouched), JSEC_ERR_VERIFICATION_FAILED,
                "another key");
    CHECK_EQ_U(untouched.profile, 0x33333333u);
    CHECK_FAILS(jsec_sign_verify(pk, NULL, jpeg, jlen, &untouched), JSEC_ERR_VERIFICATION_FAILED,
                "no jsec signature");

    /* A changed coefficient: flip bits in the second half of the entropy
     * data; a flip jsec decodes either changes no coefficient (valid) or is
     * caught, naming the cells. (jsec refuses some flips libjpeg accepts,
     * e.g. an AC run past coefficient 63: MALFORMED, skipped here.) */
    tampered = malloc(slen);
    CHECK(tampered != NULL);
    {
        size_t at;
        int caught = 0;
        for (at = slen - 40; at > slen / 2 && caught < 3; at--) {
            jsec_status st;
            if (s[at] == 0xFF || (s[at] ^ 0x08) == 0xFF || s[at - 1] == 0xFF) continue;
            memcpy(tampered, s, slen);
            tampered[at] ^= 0x08;
            st = jsec_sign_verify(pk, NULL, tampered, slen, &untouched);
            if (st == JSEC_ERR_VERIFICATION_FAILED) {
                CHECK_STR_CONTAINS(jsec_last_error(), "do not match their signatures");
                caught++;
            } else if (st != JSEC_OK) {
                CHECK_STATUS(st, JSEC_ERR_MALFORMED);
            }
        }
        CHECK(caught == 3);
    }
    /* Truncated: MALFORMED, not a verdict. */
    CHECK_STATUS(jsec_sign_verify(pk, NULL, s, slen / 3, &untouched), JSEC_ERR_MALFORMED);
    /* Not a JPEG at all. */
    CHECK_FAILS(jsec_sign_jpeg(sk, o, (const uint8_t *)"hello", 5, &again), JSEC_ERR_MALFORMED,
                "not a JPEG");
    CHECK(again == NULL);

    /* attach: the whole image taken as its own crop gives a cropped record;
     * a picture that is no crop of it is refused and nothing is made. */
    CHECK_OK(jsec_sign_attach(o, s, slen, jpeg, jlen, &att));
    {
        const uint8_t *a = data_of(att, &alen);
        CHECK(alen < slen);
        CHECK_OK(jsec_sign_verify(pk, NULL, a, alen, &v));
        CHECK(v.cropped);
        CHECK(v.crop_x == 0 && v.crop_y == 0 && v.crop_width == 80 && v.crop_height == 56);
        /* A cropped signature cannot be attached from. */
        CHECK_FAILS(jsec_sign_attach(NULL, a, alen, jpeg, jlen, &again),
                    JSEC_ERR_INVALID_ARGUMENT, "not the full one");
    }
    /* jsec_sign_crop: the crop verifies with its rectangle; a misaligned
     * corner names the nearest aligned crop; a crop cannot be re-cropped. */
    {
        jsec_buffer *cb = UNTOUCHED_BUF, *none = UNTOUCHED_BUF;
        unsigned cell = 8 * granularity * (unsigned)(components == 1 ? 1 : h_samp);
        unsigned cellh = 8 * granularity * (unsigned)(components == 1 ? 1 : v_samp);
        size_t clen = 0;
        const uint8_t *cd;
        CHECK_OK(jsec_sign_crop(s, slen, cell, cellh, 80 - cell, 56 - cellh, &cb));
        cd = data_of(cb, &clen);
        {
            unsigned char *px = testjpeg_decode(cd, clen, &w, &h, &c, &warn);
            CHECK(px != NULL);
            CHECK(w == (int)(80 - cell) && h == (int)(56 - cellh) && warn == 0);
            free(px);
        }
        CHECK_OK(jsec_sign_verify(pk, NULL, cd, clen, &v));
        CHECK(v.cropped);
        CHECK(v.crop_x == cell && v.crop_y == cellh);
        CHECK(v.crop_width == 80 - cell && v.crop_height == 56 - cellh);
        CHECK_FAILS(jsec_sign_crop(cd, clen, 0, 0, cell, cellh, &none), JSEC_ERR_INVALID_ARGUMENT,
                    "signed original");
        CHECK_FAILS(jsec_sign_crop(s, slen, 1, 0, cell, cellh, &none), JSEC_ERR_INVALID_ARGUMENT,
                    "nearest aligned crop");
        CHECK(none == UNTOUCHED_BUF);
        CHECK_FAILS(jsec_sign_crop(NULL, 10, 0, 0, 8, 8, &none), JSEC_ERR_INVALID_ARGUMENT, "jpeg");
        CHECK_FAILS(jsec_sign_crop(s, slen, 0, 0, 8, 8, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
        jsec_buffer_free(cb);
    }

    p.seed += 99;
    plain2 = testjpeg_make(&p, &jlen);
    CHECK(plain2 != NULL);
    {
        jsec_buffer *none = UNTOUCHED_BUF;
        CHECK_FAILS(jsec_sign_attach(NULL, s, slen, plain2, jlen, &none),
                    JSEC_ERR_VERIFICATION_FAILED, "not a crop");
        CHECK(none == UNTOUCHED_BUF);
    }

    /* NULL arguments. */
    CHECK_FAILS(jsec_sign_jpeg(NULL, o, s, slen, &again), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_sign_jpeg(sk, o, NULL, 10, &again), JSEC_ERR_INVALID_ARGUMENT, "jpeg");
    CHECK_FAILS(jsec_sign_jpeg(sk, o, s, slen, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_sign_verify(NULL, o, s, slen, &v), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_sign_verify(pk, o, s, slen, NULL), JSEC_ERR_INVALID_ARGUMENT, "result");
    CHECK_FAILS(jsec_sign_attach(o, NULL, 1, s, slen, &again), JSEC_ERR_INVALID_ARGUMENT,
                "signed_jpeg");
    CHECK_FAILS(jsec_buffer_data(NULL, &s, &slen), JSEC_ERR_INVALID_ARGUMENT, "buffer");
    CHECK_FAILS(jsec_buffer_data(signed_buf, NULL, &slen), JSEC_ERR_INVALID_ARGUMENT, "data");

    jsec_buffer_free(att);
    jsec_buffer_free(signed_buf);
    jsec_buffer_free(NULL);
    jsec_sign_options_free(o);
    jsec_sign_key_free(sk);
    jsec_sign_key_free(other);
    jsec_verify_key_free(pk);
    jsec_verify_key_free(opk);
    free(tampered);
    free(plain2);
    free(jpeg);
}

/* A session fed in chunks signs rows before the end, and its output
 * verifies; failures are final; a finished session refuses more. */
static void check_session(unsigned chunk) {
    testjpeg_params p = testjpeg_defaults();
    const jsec_sign_key *sk = NULL;
    const jsec_verify_key *pk = NULL;
    jsec_sign_options *o = NULL;
    jsec_sign_session *s = NULL, *bad = (jsec_sign_session *)0x10;
    jsec_buffer *out = NULL, *none = UNTOUCHED_BUF;
    const uint8_t *d;
    size_t jlen = 0, at, dlen;
    uint64_t done = 7, total = 7, early = 0;
    unsigned char *jpeg;
    jsec_sign_verification v;

    p.width = 128;
    p.height = 96;
    jpeg = testjpeg_make(&p, &jlen);
    CHECK(jpeg != NULL);
    CHECK_OK(jsec_sign_key_generate(&sk));
    CHECK_OK(jsec_sign_key_public(sk, &pk));
    CHECK_OK(jsec_sign_options_new(&o));
    CHECK_OK(jsec_sign_options_set_threads(o, 2));

    CHECK_OK(jsec_sign_session_new(sk, o, &s));
    jsec_sign_options_free(o); /* the session copied them */
    o = NULL;
    CHECK_OK(jsec_sign_session_progress(s, &done, &total));
    CHECK(done == 0 && total == 0);
    CHECK_OK(jsec_sign_session_write(s, NULL, 0));
    for (at = 0; at < jlen; at += chunk) {
        size_t n = jlen - at < chunk ? jlen - at : chunk;
        CHECK_OK(jsec_sign_session_write(s, jpeg + at, n));
        CHECK_OK(jsec_sign_session_progress(s, &done, NULL));
        if (done > 0 && at + n < jlen && early == 0) early = done;
    }
    CHECK_OK(jsec_sign_session_progress(s, NULL, &total));
    CHECK(total == 8 * 6);
    CHECK_MSG(early > 0 && early < total, "no row signed before the end (%llu of %llu)",
              (unsigned long long)early, (unsigned long long)total);
    CHECK_OK(jsec_sign_session_finish(s, &out));
    d = data_of(out, &dlen);
    CHECK(dlen > jlen);
    v.struct_size = sizeof v;
    CHECK_OK(jsec_sign_verify(pk, NULL, d, dlen, &v));
    CHECK_EQ_U(v.cells, total);
    /* Finished: everything but _free is INVALID_STATE. */
    CHECK_FAILS(jsec_sign_session_write(s, jpeg, 10), JSEC_ERR_INVALID_STATE, "finished");
    CHECK_FAILS(jsec_sign_session_finish(s, &none), JSEC_ERR_INVALID_STATE, "finished");
    CHECK_FAILS(jsec_sign_session_progress(s, &done, &total), JSEC_ERR_INVALID_STATE,
                "finished");
    jsec_sign_session_free(s);

    /* Not a JPEG: fails at once, and stays failed. */
    CHECK_OK(jsec_sign_session_new(sk, NULL, &s));
    CHECK_FAILS(jsec_sign_session_write(s, (const uint8_t *)"GIF89a", 6), JSEC_ERR_MALFORMED,
                "not a JPEG");
    CHECK_FAILS(jsec_sign_session_write(s, jpeg, jlen), JSEC_ERR_INVALID_STATE, "failed");
    jsec_sign_session_free(s);
    /* Truncated: the finish says so and makes nothing. */
    CHECK_OK(jsec_sign_session_new(sk, NULL, &s));
    CHECK_OK(jsec_sign_session_write(s, jpeg, jlen - 20));
    CHECK_FAILS(jsec_sign_session_finish(s, &none), JSEC_ERR_MALFORMED, "truncated");
    CHECK(none == UNTOUCHED_BUF);
    jsec_sign_session_free(s);
    /* A BLS key cannot start a paper session. */
    CHECK_OK(jsec_sign_options_new(&o));
    CHECK_OK(jsec_sign_options_set_profile(o, JSEC_SIGN_PROFILE_PAPER));
    CHECK_FAILS(jsec_sign_session_new(sk, o, &bad), JSEC_ERR_INVALID_ARGUMENT, "paper needs");
    CHECK(bad == (jsec_sign_session *)0x10);
    /* NULLs. */
    CHECK_FAILS(jsec_sign_session_new(NULL, NULL, &s), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_sign_session_new(sk, NULL, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_sign_session_write(NULL, jpeg, 1), JSEC_ERR_INVALID_ARGUMENT, "session");
    CHECK_FAILS(jsec_sign_session_progress(NULL, &done, &total), JSEC_ERR_INVALID_ARGUMENT,
                "session");
    CHECK_FAILS(jsec_sign_session_finish(NULL, &none), JSEC_ERR_INVALID_ARGUMENT, "session");
    CHECK_OK(jsec_sign_session_new(sk, NULL, &s));
    CHECK_FAILS(jsec_sign_session_write(s, NULL, 1), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK_FAILS(jsec_sign_session_finish(s, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    jsec_sign_session_free(s);
    jsec_sign_session_free(NULL);

    jsec_buffer_free(out);
    jsec_sign_options_free(o);
    jsec_sign_key_free(sk);
    jsec_verify_key_free(pk);
    free(jpeg);
}

int main(void) {
    check_keys();
    check_session(1);
    check_session(97);
    check_options();
    check_sign_verify(3, 2, 2, 1);
    check_sign_verify(3, 1, 1, 2);
    check_sign_verify(1, 1, 1, 1);
    return CHECK_DONE("test_sign");
}
