/* test_cipher: jsec_fspe_cipher_new/_encrypt/_decrypt/_free on generated
 * JPEGs of many shapes: same size, bytes differ, still decodable by libjpeg
 * without warnings, decryption restores every byte; deterministic; wrong
 * keys; failures leave the buffer unchanged; NULL handling; one cipher used
 * by several threads at once. */
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

static void round_trip(const jsec_fspe_cipher *c, const testjpeg_params *p, const char *label) {
    size_t len, changed;
    unsigned char *plain = testjpeg_make(p, &len), *buf;
    unsigned char *pix_plain, *pix_enc;
    int w, h, comps, warnings = -1, w2, h2, c2;
    jsec_fspe_report *r = NULL;
    jsec_fspe_image_info info;

    CHECK_MSG(plain != NULL, "%s: libjpeg could not make the image", label);
    buf = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c, buf, len, &r));
    changed = test_diff_count(buf, plain, len);
    info = test_image_info(r, 0);
    CHECK_MSG(changed > 0, "%s: nothing changed", label);
    CHECK_MSG(info.encrypted_bits > 0, "%s: no bits encrypted", label);
    CHECK_EQ_U(info.end, len);
    CHECK_EQ_LL(info.width, p->width);
    CHECK_EQ_LL(info.height, p->height);

    /* The protected file is a valid JPEG of the same geometry. */
    pix_enc = testjpeg_decode(buf, len, &w, &h, &comps, &warnings);
    pix_plain = testjpeg_decode(plain, len, &w2, &h2, &c2, NULL);
    CHECK_MSG(pix_enc != NULL, "%s: libjpeg cannot decode the encrypted file", label);
    CHECK_EQ_LL(warnings, 0);
    CHECK(w == w2 && h == h2 && comps == c2);
    CHECK_MSG(memcmp(pix_enc, pix_plain, (size_t)w * h * comps) != 0, "%s: same pixels", label);

    jsec_fspe_report_free(r);
    r = NULL;
    CHECK_OK(jsec_fspe_cipher_decrypt(c, buf, len, &r));
    CHECK_MEM_EQ(buf, plain, len);
    CHECK_EQ_U(test_image_info(r, 0).encrypted_bits, info.encrypted_bits);
    printf("%-28s %6zu bytes, %5zu changed, %6llu bits\n", label, len, changed,
           (unsigned long long)info.encrypted_bits);
    jsec_fspe_report_free(r);
    free(pix_enc);
    free(pix_plain);
    free(plain);
    free(buf);
}

static void check_shapes(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    round_trip(c, &p, "64x48 4:2:0 q85");
    p.width = 227; p.height = 149; p.restart_rows = 1;
    round_trip(c, &p, "227x149 4:2:0 restart 1 row");
    p.restart_rows = 0; p.h_samp = 1; p.v_samp = 1; p.quality = 100;
    round_trip(c, &p, "227x149 4:4:4 q100");
    p.h_samp = 2; p.v_samp = 1; p.quality = 50; p.optimize = 1;
    round_trip(c, &p, "227x149 4:2:2 q50 optimized");
    p = testjpeg_defaults();
    p.components = 1; p.width = 33; p.height = 17;
    round_trip(c, &p, "33x17 gray");
    p = testjpeg_defaults();
    p.width = 9; p.height = 9;
    round_trip(c, &p, "9x9 4:2:0");
    p.width = 640; p.height = 480; p.seed = 9; p.restart_rows = 3;
    round_trip(c, &p, "640x480 4:2:0 restart 3 rows");
    jsec_fspe_cipher_free(c);

    /* AES-256. */
    c = test_cipher(TEST_KEY256_HEX);
    p = testjpeg_defaults();
    round_trip(c, &p, "64x48 AES-256");
    jsec_fspe_cipher_free(c);
}

static void check_keys_and_determinism(void) {
    const jsec_fspe_cipher *a = test_cipher(TEST_KEY_HEX), *a2 = test_cipher(TEST_KEY_HEX),
                           *b = test_cipher("ffffffffffffffffffffffffffffffff");
    testjpeg_params p = testjpeg_defaults();
    size_t len;
    unsigned char *plain = testjpeg_make(&p, &len);
    unsigned char *x = test_dup(plain, len), *y = test_dup(plain, len), *z = test_dup(plain, len);
    int w, h, comps, warnings = -1;
    unsigned char *pix;

    CHECK_OK(jsec_fspe_cipher_encrypt(a, x, len, NULL));
    CHECK_OK(jsec_fspe_cipher_encrypt(a2, y, len, NULL));
    CHECK_MEM_EQ(x, y, len); /* same key and options, same result */
    CHECK_OK(jsec_fspe_cipher_encrypt(b, z, len, NULL));
    CHECK_MEM_NE(x, z, len);

    /* A wrong key "succeeds" and gives another valid JPEG. */
    CHECK_OK(jsec_fspe_cipher_decrypt(b, x, len, NULL));
    CHECK_MEM_NE(x, plain, len);
    pix = testjpeg_decode(x, len, &w, &h, &comps, &warnings);
    CHECK(pix != NULL);
    CHECK_EQ_LL(warnings, 0);
    free(pix);

    /* The default nonce is derived from bytes encryption does not change,
     * so a file encrypted twice is restored by decrypting twice. */
    CHECK_OK(jsec_fspe_cipher_encrypt(a, y, len, NULL));
    CHECK_OK(jsec_fspe_cipher_decrypt(a, y, len, NULL));
    CHECK_OK(jsec_fspe_cipher_decrypt(a, y, len, NULL));
    CHECK_MEM_EQ(y, plain, len);

    free(plain);
    free(x);
    free(y);
    free(z);
    jsec_fspe_cipher_free(a);
    jsec_fspe_cipher_free(a2);
    jsec_fspe_cipher_free(b);
}

static void check_failures(void) {
    const jsec_key *k = test_key(TEST_KEY_HEX);
    jsec_fspe_options *o = NULL;
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX), *bad = (const jsec_fspe_cipher *)0x40;
    testjpeg_params p = testjpeg_defaults();
    jsec_fspe_report *r = (jsec_fspe_report *)0x50;
    unsigned char *prog, *plain, *buf;
    size_t plen, len;

    CHECK_OK(jsec_fspe_options_new(&o));
    CHECK_FAILS(jsec_fspe_cipher_new(NULL, o, 0, &bad), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_fspe_cipher_new(k, NULL, 0, &bad), JSEC_ERR_INVALID_ARGUMENT, "options");
    CHECK_FAILS(jsec_fspe_cipher_new(k, o, 0, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(bad == (const jsec_fspe_cipher *)0x40);

    plain = testjpeg_make(&p, &len);
    buf = test_dup(plain, len);
    CHECK_FAILS(jsec_fspe_cipher_encrypt(NULL, buf, len, NULL), JSEC_ERR_INVALID_ARGUMENT,
                "cipher");
    CHECK_FAILS(jsec_fspe_cipher_encrypt(c, NULL, len, NULL), JSEC_ERR_INVALID_ARGUMENT, "buf");
    CHECK_FAILS(jsec_fspe_cipher_decrypt(NULL, buf, len, NULL), JSEC_ERR_INVALID_ARGUMENT,
                "cipher");
    CHECK_FAILS(jsec_fspe_cipher_decrypt(c, NULL, len, NULL), JSEC_ERR_INVALID_ARGUMENT, "buf");
    CHECK_MEM_EQ(buf, plain, len);

    /* Progressive: unsupported, buffer and report untouched. */
    p.progressive = 1;
    prog = testjpeg_make(&p, &plen);
    free(buf);
    buf = test_dup(prog, plen);
    CHECK_FAILS(jsec_fspe_cipher_encrypt(c, buf, plen, &r), JSEC_ERR_UNSUPPORTED,
                "jsec_fspe_cipher_encrypt");
    CHECK_STR_CONTAINS(jsec_last_error(), "rogressive");
    CHECK(r == (jsec_fspe_report *)0x50);
    CHECK_MEM_EQ(buf, prog, plen);
    CHECK_STATUS(jsec_fspe_cipher_decrypt(c, buf, plen, &r), JSEC_ERR_UNSUPPORTED);
    CHECK_MEM_EQ(buf, prog, plen);

    /* Truncated in the scan: malformed, unchanged. */
    free(buf);
    buf = test_dup(plain, len - 40);
    CHECK_FAILS(jsec_fspe_cipher_encrypt(c, buf, len - 40, &r), JSEC_ERR_MALFORMED,
                "byte offset");
    CHECK_MEM_EQ(buf, plain, len - 40);
    CHECK(r == (jsec_fspe_report *)0x50);
    /* Empty input. */
    CHECK_STATUS(jsec_fspe_cipher_encrypt(c, buf, 0, NULL), JSEC_ERR_MALFORMED);

    free(buf);
    free(plain);
    free(prog);
    jsec_fspe_options_free(o);
    jsec_key_free(k);
    jsec_fspe_cipher_free(c);
    jsec_fspe_cipher_free(NULL);
}

/* One cipher, four threads, each encrypting its own copy. */
typedef struct {
    const jsec_fspe_cipher *cipher;
    const unsigned char *plain;
    size_t len;
    unsigned char *out;
    jsec_status status;
} job;

static int worker(void *arg) {
    job *j = (job *)arg;
    int i;
    j->status = JSEC_OK;
    for (i = 0; i < 10 && j->status == JSEC_OK; i++) {
        memcpy(j->out, j->plain, j->len);
        j->status = jsec_fspe_cipher_encrypt(j->cipher, j->out, j->len, NULL);
    }
    return 0;
}

static void check_threads(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    size_t len;
    unsigned char *plain, *ref;
    thrd_t t[4];
    job jobs[4];
    int i;
    p.width = 320;
    p.height = 240;
    plain = testjpeg_make(&p, &len);
    ref = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c, ref, len, NULL));
    for (i = 0; i < 4; i++) {
        jobs[i].cipher = c;
        jobs[i].plain = plain;
        jobs[i].len = len;
        jobs[i].out = malloc(len);
        CHECK(thrd_create(&t[i], worker, &jobs[i]) == thrd_success);
    }
    for (i = 0; i < 4; i++) {
        CHECK(thrd_join(t[i], NULL) == thrd_success);
        CHECK_EQ_LL(jobs[i].status, JSEC_OK);
        CHECK_MEM_EQ(jobs[i].out, ref, len);
        free(jobs[i].out);
    }
    free(plain);
    free(ref);
    jsec_fspe_cipher_free(c);
}

int main(void) {
    check_shapes();
    check_keys_and_determinism();
    check_failures();
    check_threads();
    return CHECK_DONE("test_cipher");
}
