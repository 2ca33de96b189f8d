/* test_options: the jsec_fspe_options builder: every setter's accepted and
 * rejected values (a rejected call changes nothing), NULL handling, and that
 * each option has the documented effect on encryption (rule, components,
 * bands, region, levels with jsec_key_derive, nonce; metadata on a file
 * without EXIF changes nothing, its effect on EXIF is in test_report). */
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

static unsigned char *g_jpeg;
static size_t g_len;

/* Encrypt a copy of the test image with `options`; returns the copy and the
 * number of encrypted bits of the primary image. */
static unsigned char *encrypt_with(const jsec_key *key, const jsec_fspe_options *options,
                                   uint64_t *bits) {
    const jsec_fspe_cipher *c = test_cipher_with(key, options, 0);
    unsigned char *buf = test_dup(g_jpeg, g_len);
    jsec_fspe_report *r = NULL;
    CHECK_OK(jsec_fspe_cipher_encrypt(c, buf, g_len, &r));
    *bits = test_image_info(r, 0).encrypted_bits;
    jsec_fspe_report_free(r);
    jsec_fspe_cipher_free(c);
    return buf;
}

static void check_setters(void) {
    jsec_fspe_options *o = NULL;
    unsigned char nonce[JSEC_FSPE_NONCE_LEN] = {1, 2, 3};

    CHECK_OK(jsec_fspe_options_new(&o));
    CHECK(o != NULL);
    CHECK_STATUS(jsec_fspe_options_new(NULL), JSEC_ERR_INVALID_ARGUMENT);

    CHECK_EQ_LL(JSEC_FSPE_RULE_FULL, 0);
    CHECK_EQ_LL(JSEC_FSPE_RULE_PAPER, 1);
    CHECK_OK(jsec_fspe_options_set_rule(o, JSEC_FSPE_RULE_PAPER));
    CHECK_OK(jsec_fspe_options_set_rule(o, JSEC_FSPE_RULE_FULL));
    CHECK_FAILS(jsec_fspe_options_set_rule(o, 2), JSEC_ERR_INVALID_ARGUMENT, "rule");
    CHECK_STATUS(jsec_fspe_options_set_rule(o, 0xFFFFFFFFu), JSEC_ERR_INVALID_ARGUMENT);

    CHECK_EQ_LL(JSEC_FSPE_COMPONENTS_ALL, 0);
    CHECK_EQ_LL(JSEC_FSPE_COMPONENTS_LUMA, 1);
    CHECK_EQ_LL(JSEC_FSPE_COMPONENTS_CHROMA, 2);
    CHECK_OK(jsec_fspe_options_set_components(o, JSEC_FSPE_COMPONENTS_LUMA));
    CHECK_OK(jsec_fspe_options_set_components(o, JSEC_FSPE_COMPONENTS_CHROMA));
    CHECK_OK(jsec_fspe_options_set_components(o, JSEC_FSPE_COMPONENTS_ALL));
    CHECK_FAILS(jsec_fspe_options_set_components(o, 3), JSEC_ERR_INVALID_ARGUMENT, "components");

    CHECK_EQ_LL(JSEC_FSPE_BAND_DC, 1);
    CHECK_EQ_LL(JSEC_FSPE_BAND_AC_LOW, 2);
    CHECK_EQ_LL(JSEC_FSPE_BAND_AC_HIGH, 4);
    CHECK_OK(jsec_fspe_options_set_bands(o, JSEC_FSPE_BAND_DC));
    CHECK_OK(jsec_fspe_options_set_bands(o, JSEC_FSPE_BAND_AC_LOW | JSEC_FSPE_BAND_AC_HIGH));
    CHECK_OK(jsec_fspe_options_set_bands(o, 7));
    CHECK_FAILS(jsec_fspe_options_set_bands(o, 0), JSEC_ERR_INVALID_ARGUMENT, "band");
    CHECK_STATUS(jsec_fspe_options_set_bands(o, 8), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_bands(o, 0xF), JSEC_ERR_INVALID_ARGUMENT);

    CHECK_OK(jsec_fspe_options_set_region(o, 0, 0, 8, 8, false));
    CHECK_OK(jsec_fspe_options_set_region(o, 100000, 100000, 1, 1, true));
    CHECK_FAILS(jsec_fspe_options_set_region(o, 0, 0, 0, 8, false), JSEC_ERR_INVALID_ARGUMENT,
                "empty");
    CHECK_STATUS(jsec_fspe_options_set_region(o, 0, 0, 8, 0, true), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_OK(jsec_fspe_options_clear_region(o));
    CHECK_OK(jsec_fspe_options_clear_region(o)); /* twice is fine */

    CHECK_OK(jsec_fspe_options_set_levels(o, true));
    CHECK_OK(jsec_fspe_options_set_levels(o, false));

    CHECK_EQ_U(JSEC_FSPE_NONCE_LEN, 16);
    CHECK_OK(jsec_fspe_options_set_nonce(o, nonce, sizeof nonce));
    CHECK_FAILS(jsec_fspe_options_set_nonce(o, nonce, 15), JSEC_ERR_INVALID_ARGUMENT, "nonce");
    CHECK_STATUS(jsec_fspe_options_set_nonce(o, nonce, 17), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_nonce(o, NULL, 16), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_OK(jsec_fspe_options_clear_nonce(o));

    CHECK_EQ_LL(JSEC_FSPE_METADATA_GPS, 1);
    CHECK_EQ_LL(JSEC_FSPE_METADATA_IDENTITY, 2);
    CHECK_EQ_LL(JSEC_FSPE_METADATA_DATES, 4);
    CHECK_OK(jsec_fspe_options_set_metadata(o, JSEC_FSPE_METADATA_GPS));
    CHECK_OK(jsec_fspe_options_set_metadata(o, JSEC_FSPE_METADATA_GPS |
                                                   JSEC_FSPE_METADATA_IDENTITY |
                                                   JSEC_FSPE_METADATA_DATES));
    CHECK_OK(jsec_fspe_options_set_metadata(o, 0)); /* none: the default */
    CHECK_FAILS(jsec_fspe_options_set_metadata(o, 8), JSEC_ERR_INVALID_ARGUMENT,
                "JSEC_FSPE_METADATA_");
    CHECK_STATUS(jsec_fspe_options_set_metadata(o, 0xFu), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_metadata(o, 0xFFFFFFFFu), JSEC_ERR_INVALID_ARGUMENT);

    /* NULL options everywhere. */
    CHECK_FAILS(jsec_fspe_options_set_rule(NULL, 0), JSEC_ERR_INVALID_ARGUMENT, "options");
    CHECK_STATUS(jsec_fspe_options_set_components(NULL, 0), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_bands(NULL, 7), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_region(NULL, 0, 0, 1, 1, false), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_clear_region(NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_levels(NULL, true), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_set_nonce(NULL, nonce, 16), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_options_clear_nonce(NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(jsec_fspe_options_set_metadata(NULL, JSEC_FSPE_METADATA_GPS),
                JSEC_ERR_INVALID_ARGUMENT, "options");
    jsec_fspe_options_free(o);
    jsec_fspe_options_free(NULL);
}

/* Each option changes what is encrypted, as documented. */
static void check_effects(void) {
    const jsec_key *key = test_key(TEST_KEY_HEX);
    jsec_fspe_options *o = NULL;
    unsigned char nonce[JSEC_FSPE_NONCE_LEN];
    unsigned char *def, *e;
    uint64_t all, bits, luma, chroma, dc, aclow, achigh;
    size_t i;
    for (i = 0; i < sizeof nonce; i++) nonce[i] = (unsigned char)(0xA0 + i);

    CHECK_OK(jsec_fspe_options_new(&o));
    def = encrypt_with(key, o, &all);
    CHECK(all > 100);

    /* Rule: PAPER encrypts a subset of FULL. */
    CHECK_OK(jsec_fspe_options_set_rule(o, JSEC_FSPE_RULE_PAPER));
    e = encrypt_with(key, o, &bits);
    CHECK(bits > 0 && bits < all);
    CHECK_MEM_NE(e, def, g_len);
    free(e);
    /* A rejected value leaves the previous one (PAPER) in place. */
    CHECK_STATUS(jsec_fspe_options_set_rule(o, 7), JSEC_ERR_INVALID_ARGUMENT);
    {
        uint64_t again;
        e = encrypt_with(key, o, &again);
        CHECK_EQ_U(again, bits);
        free(e);
    }
    CHECK_OK(jsec_fspe_options_set_rule(o, JSEC_FSPE_RULE_FULL));

    /* Components: luma + chroma = all. */
    CHECK_OK(jsec_fspe_options_set_components(o, JSEC_FSPE_COMPONENTS_LUMA));
    free(encrypt_with(key, o, &luma));
    CHECK_OK(jsec_fspe_options_set_components(o, JSEC_FSPE_COMPONENTS_CHROMA));
    free(encrypt_with(key, o, &chroma));
    CHECK(luma > 0 && chroma > 0);
    CHECK_EQ_U(luma + chroma, all);
    CHECK_OK(jsec_fspe_options_set_components(o, JSEC_FSPE_COMPONENTS_ALL));

    /* Bands: DC + AC low + AC high = all. */
    CHECK_OK(jsec_fspe_options_set_bands(o, JSEC_FSPE_BAND_DC));
    free(encrypt_with(key, o, &dc));
    CHECK_OK(jsec_fspe_options_set_bands(o, JSEC_FSPE_BAND_AC_LOW));
    free(encrypt_with(key, o, &aclow));
    CHECK_OK(jsec_fspe_options_set_bands(o, JSEC_FSPE_BAND_AC_HIGH));
    free(encrypt_with(key, o, &achigh));
    CHECK(dc > 0 && aclow > 0 && achigh > 0);
    CHECK_EQ_U(dc + aclow + achigh, all);
    CHECK_OK(jsec_fspe_options_set_bands(o, 7));

    /* Region: a corner encrypts less; clearing it restores the default. */
    CHECK_OK(jsec_fspe_options_set_region(o, 0, 0, 16, 16, false));
    e = encrypt_with(key, o, &bits);
    CHECK(bits > 0 && bits < all);
    CHECK_MEM_NE(e, def, g_len);
    free(e);
    CHECK_OK(jsec_fspe_options_set_region(o, 0, 0, 16, 16, true));
    free(encrypt_with(key, o, &bits));
    CHECK(bits > 0 && bits < all);
    CHECK_OK(jsec_fspe_options_clear_region(o));
    e = encrypt_with(key, o, &bits);
    CHECK_EQ_U(bits, all);
    CHECK_MEM_EQ(e, def, g_len);
    free(e);

    /* Nonce: another ciphertext; clearing it restores the default. */
    CHECK_OK(jsec_fspe_options_set_nonce(o, nonce, sizeof nonce));
    e = encrypt_with(key, o, &bits);
    CHECK_EQ_U(bits, all);
    CHECK_MEM_NE(e, def, g_len);
    free(e);
    CHECK_OK(jsec_fspe_options_clear_nonce(o));
    e = encrypt_with(key, o, &bits);
    CHECK_MEM_EQ(e, def, g_len);
    free(e);

    /* Metadata: the test image has no EXIF, so nothing changes (what it does
     * to EXIF values is checked in test_report). */
    CHECK_OK(jsec_fspe_options_set_metadata(o, JSEC_FSPE_METADATA_GPS | JSEC_FSPE_METADATA_DATES));
    e = encrypt_with(key, o, &bits);
    CHECK_EQ_U(bits, all);
    CHECK_MEM_EQ(e, def, g_len);
    free(e);
    CHECK_OK(jsec_fspe_options_set_metadata(o, 0));

    /* Levels: same bits, other keystreams. */
    CHECK_OK(jsec_fspe_options_set_levels(o, true));
    e = encrypt_with(key, o, &bits);
    CHECK_EQ_U(bits, all);
    CHECK_MEM_NE(e, def, g_len);
    free(e);

    /* Options are copied into the cipher: changing them later has no effect. */
    {
        const jsec_fspe_cipher *c = test_cipher_with(key, o, 0);
        unsigned char *a = test_dup(g_jpeg, g_len), *b;
        uint64_t levels_bits;
        CHECK_OK(jsec_fspe_options_set_levels(o, false));
        CHECK_OK(jsec_fspe_options_set_rule(o, JSEC_FSPE_RULE_PAPER));
        CHECK_OK(jsec_fspe_cipher_encrypt(c, a, g_len, NULL));
        CHECK_OK(jsec_fspe_options_set_levels(o, true));
        CHECK_OK(jsec_fspe_options_set_rule(o, JSEC_FSPE_RULE_FULL));
        b = encrypt_with(key, o, &levels_bits);
        CHECK_MEM_EQ(a, b, g_len);
        jsec_fspe_options_free(o); /* the cipher keeps working */
        o = NULL;
        CHECK_OK(jsec_fspe_cipher_decrypt(c, a, g_len, NULL));
        CHECK_MEM_EQ(a, g_jpeg, g_len);
        free(a);
        free(b);
        jsec_fspe_cipher_free(c);
    }
    free(def);
    jsec_key_free(key);
}

/* Mean absolute difference of the decoded pixels of two JPEGs. */
static double pixel_error(const unsigned char *a, const unsigned char *b, size_t len) {
    int wa, ha, ca, wb, hb, cb;
    unsigned char *pa = testjpeg_decode(a, len, &wa, &ha, &ca, NULL);
    unsigned char *pb = testjpeg_decode(b, len, &wb, &hb, &cb, NULL);
    double sum = 0;
    size_t i, n;
    CHECK(pa != NULL && pb != NULL);
    CHECK(wa == wb && ha == hb && ca == cb);
    n = (size_t)wa * (size_t)ha * (size_t)ca;
    for (i = 0; i < n; i++) sum += pa[i] > pb[i] ? pa[i] - pb[i] : pb[i] - pa[i];
    free(pa);
    free(pb);
    return sum / (double)n;
}

/* Multi-level access: k0 restores everything, k1 (level 1) DC and AC 1-5,
 * k2 (level 2) DC only; lower keys cannot encrypt. */
static void check_levels(void) {
    const jsec_key *k0 = test_key(TEST_KEY_HEX), *k1 = NULL, *k2 = NULL;
    jsec_fspe_options *o = NULL;
    const jsec_fspe_cipher *c0, *c1, *c2, *bad = (const jsec_fspe_cipher *)0x30;
    unsigned char *enc, *d1, *d2, *full;
    double e_enc, e_1, e_2;

    CHECK_OK(jsec_key_derive(k0, 1, &k1));
    CHECK_OK(jsec_key_derive(k0, 2, &k2));
    CHECK_OK(jsec_fspe_options_new(&o));
    /* A key level needs multi-level options; levels are 0..2. */
    CHECK_FAILS(jsec_fspe_cipher_new(k1, o, 1, &bad), JSEC_ERR_INVALID_ARGUMENT,
                "jsec_fspe_cipher_new");
    CHECK(bad == (const jsec_fspe_cipher *)0x30);
    CHECK_OK(jsec_fspe_options_set_levels(o, true));
    CHECK_STATUS(jsec_fspe_cipher_new(k0, o, 3, &bad), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_cipher_new(k0, o, 256u, &bad),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK(bad == (const jsec_fspe_cipher *)0x30);

    c0 = test_cipher_with(k0, o, 0);
    c1 = test_cipher_with(k1, o, 1);
    c2 = test_cipher_with(k2, o, 2);

    enc = test_dup(g_jpeg, g_len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c0, enc, g_len, NULL));
    CHECK_MEM_NE(enc, g_jpeg, g_len);
    /* Encryption needs the master key. */
    d1 = test_dup(g_jpeg, g_len);
    CHECK_FAILS(jsec_fspe_cipher_encrypt(c1, d1, g_len, NULL), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_MEM_EQ(d1, g_jpeg, g_len); /* unchanged on failure */
    free(d1);

    full = test_dup(enc, g_len);
    CHECK_OK(jsec_fspe_cipher_decrypt(c0, full, g_len, NULL));
    CHECK_MEM_EQ(full, g_jpeg, g_len);

    d1 = test_dup(enc, g_len);
    CHECK_OK(jsec_fspe_cipher_decrypt(c1, d1, g_len, NULL));
    d2 = test_dup(enc, g_len);
    CHECK_OK(jsec_fspe_cipher_decrypt(c2, d2, g_len, NULL));
    CHECK_MEM_NE(d1, g_jpeg, g_len); /* AC 6-63 still encrypted */
    CHECK_MEM_NE(d1, enc, g_len);
    CHECK_MEM_NE(d2, d1, g_len);
    CHECK_MEM_NE(d2, enc, g_len);

    /* Each level brings the picture closer to the original. */
    e_enc = pixel_error(enc, g_jpeg, g_len);
    e_2 = pixel_error(d2, g_jpeg, g_len);
    e_1 = pixel_error(d1, g_jpeg, g_len);
    printf("levels: mean pixel error encrypted %.2f, k2 %.2f, k1 %.2f\n", e_enc, e_2, e_1);
    CHECK(e_enc > e_2);
    CHECK(e_2 > e_1);
    CHECK(e_1 > 0.0);

    free(enc);
    free(d1);
    free(d2);
    free(full);
    jsec_fspe_cipher_free(c0);
    jsec_fspe_cipher_free(c1);
    jsec_fspe_cipher_free(c2);
    jsec_fspe_options_free(o);
    jsec_key_free(k0);
    jsec_key_free(k1);
    jsec_key_free(k2);
}

int main(void) {
    testjpeg_params p = testjpeg_defaults();
    p.width = 96;
    p.height = 64;
    p.quality = 90;
    g_jpeg = testjpeg_make(&p, &g_len);
    CHECK(g_jpeg != NULL);
    check_setters();
    check_effects();
    check_levels();
    free(g_jpeg);
    return CHECK_DONE("test_options");
}
