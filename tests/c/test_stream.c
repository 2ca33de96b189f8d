/* test_stream: digest and cipher streams (jsec_fspe_digest_stream_new,
 * jsec_fspe_stream_new/_write/_read/_available/_finish/_seed/_free) fed in
 * small and odd-sized chunks: the output equals in-place encryption byte for
 * byte, decryption streams restore the input, nonce streams need no seed;
 * states (finished, failed), the 1 MiB unread-output limit, NULL handling. */
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

/* Push `len` bytes through `s` in `chunk`-byte writes, reading with a
 * `read_cap`-byte buffer; returns the malloc'd output (length must be len). */
static unsigned char *pump(jsec_fspe_stream *s, const unsigned char *in, size_t len, size_t chunk,
                           size_t read_cap, jsec_fspe_report **report) {
    unsigned char *out = malloc(len + 1), *rbuf = malloc(read_cap);
    size_t pos = 0, got = 0, avail, n;
    CHECK(out != NULL && rbuf != NULL);
    while (pos < len) {
        size_t k = len - pos < chunk ? len - pos : chunk;
        CHECK_OK(jsec_fspe_stream_write(s, in + pos, k));
        pos += k;
        CHECK_OK(jsec_fspe_stream_available(s, &avail));
        CHECK(got + avail <= pos); /* output never runs ahead of input */
        do {
            CHECK_OK(jsec_fspe_stream_read(s, rbuf, read_cap, &n));
            CHECK(n <= read_cap && n <= avail);
            CHECK(got + n <= len);
            memcpy(out + got, rbuf, n);
            got += n;
            avail -= n;
        } while (n > 0);
        CHECK_EQ_U(avail, 0);
    }
    CHECK_OK(jsec_fspe_stream_finish(s, report));
    CHECK_OK(jsec_fspe_stream_available(s, &avail));
    CHECK_EQ_U(got + avail, len); /* everything is ready after finish */
    do {
        CHECK_OK(jsec_fspe_stream_read(s, rbuf, read_cap, &n));
        memcpy(out + got, rbuf, n);
        got += n;
    } while (n > 0);
    CHECK_EQ_U(got, len);
    free(rbuf);
    return out;
}

static void seed_of(const jsec_fspe_cipher *c, const unsigned char *in, size_t len, size_t chunk,
                    unsigned char seed[JSEC_FSPE_SEED_LEN]) {
    jsec_fspe_stream *d = NULL;
    unsigned char *out;
    CHECK_OK(jsec_fspe_digest_stream_new(c, &d));
    out = pump(d, in, len, chunk, 333, NULL);
    CHECK_MEM_EQ(out, in, len); /* a digest stream passes its input through */
    CHECK_OK(jsec_fspe_stream_seed(d, seed, JSEC_FSPE_SEED_LEN));
    free(out);
    jsec_fspe_stream_free(d);
}

static void check_equivalence(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    unsigned char *plain, *ref, *out, *back;
    unsigned char seed[JSEC_FSPE_SEED_LEN], seed2[JSEC_FSPE_SEED_LEN], seed3[JSEC_FSPE_SEED_LEN];
    static const size_t chunks[] = {1, 7, 64, 1000, 1 << 20};
    size_t len, i;
    jsec_fspe_stream *s = NULL;
    jsec_fspe_report *r = NULL, *rr = NULL;

    p.width = 200;
    p.height = 120;
    p.restart_rows = 2;
    plain = testjpeg_make(&p, &len);
    ref = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c, ref, len, &rr));

    /* The seed does not depend on the chunking, nor on encryption. */
    seed_of(c, plain, len, 1, seed);
    seed_of(c, plain, len, 4096, seed2);
    CHECK_MEM_EQ(seed, seed2, sizeof seed);
    seed_of(c, ref, len, 13, seed3);
    CHECK_MEM_EQ(seed, seed3, sizeof seed);

    for (i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, sizeof seed, &s));
        out = pump(s, plain, len, chunks[i], chunks[i] < 100 ? 5 : 4096, &r);
        CHECK_MSG(memcmp(out, ref, len) == 0, "stream with %zu-byte chunks differs from in place",
                  chunks[i]);
        CHECK_EQ_U(test_image_info(r, 0).encrypted_bits, test_image_info(rr, 0).encrypted_bits);
        jsec_fspe_report_free(r);
        r = NULL;
        jsec_fspe_stream_free(s);
        s = NULL;

        CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_DECRYPT, seed, sizeof seed, &s));
        back = pump(s, out, len, chunks[i] + 3, 100, NULL);
        CHECK_MEM_EQ(back, plain, len);
        jsec_fspe_stream_free(s);
        s = NULL;
        free(out);
        free(back);
    }

    /* A wrong seed gives another ciphertext. */
    seed[0] ^= 1;
    CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, sizeof seed, &s));
    out = pump(s, plain, len, 500, 500, NULL);
    CHECK_MEM_NE(out, ref, len);
    free(out);
    jsec_fspe_stream_free(s);

    jsec_fspe_report_free(rr);
    free(plain);
    free(ref);
    jsec_fspe_cipher_free(c);
}

static void check_nonce_streams(void) {
    const jsec_key *k = test_key(TEST_KEY_HEX);
    jsec_fspe_options *o = NULL;
    const jsec_fspe_cipher *c;
    unsigned char nonce[JSEC_FSPE_NONCE_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    testjpeg_params p = testjpeg_defaults();
    unsigned char *plain, *ref, *out, *back;
    size_t len;
    jsec_fspe_stream *s = NULL;

    CHECK_OK(jsec_fspe_options_new(&o));
    CHECK_OK(jsec_fspe_options_set_nonce(o, nonce, sizeof nonce));
    c = test_cipher_with(k, o, 0);
    plain = testjpeg_make(&p, &len);
    ref = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c, ref, len, NULL));

    CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_ENCRYPT, NULL, 0, &s));
    out = pump(s, plain, len, 17, 64, NULL);
    CHECK_MEM_EQ(out, ref, len);
    jsec_fspe_stream_free(s);
    CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_DECRYPT, NULL, 0, &s));
    back = pump(s, out, len, 29, 64, NULL);
    CHECK_MEM_EQ(back, plain, len);
    jsec_fspe_stream_free(s);
    free(out);
    free(back);

    /* Without a nonce in the options a cipher stream needs a seed. */
    {
        const jsec_fspe_cipher *plain_c = test_cipher(TEST_KEY_HEX);
        jsec_fspe_stream *bad = (jsec_fspe_stream *)0x70;
        CHECK_FAILS(jsec_fspe_stream_new(plain_c, JSEC_FSPE_DIRECTION_ENCRYPT, NULL, 0, &bad),
                    JSEC_ERR_INVALID_ARGUMENT, "nonce");
        CHECK(bad == (jsec_fspe_stream *)0x70);
        jsec_fspe_cipher_free(plain_c);
    }
    free(plain);
    free(ref);
    jsec_fspe_cipher_free(c);
    jsec_fspe_options_free(o);
    jsec_key_free(k);
}

static void check_states_and_errors(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    unsigned char *plain, seed[JSEC_FSPE_SEED_LEN], buf[64];
    size_t len, n, avail;
    jsec_fspe_stream *d = NULL, *s = NULL, *bad = (jsec_fspe_stream *)0x80;
    jsec_fspe_report *r = (jsec_fspe_report *)0x90;
    plain = testjpeg_make(&p, &len);

    /* Argument checks. */
    CHECK_FAILS(jsec_fspe_digest_stream_new(NULL, &d), JSEC_ERR_INVALID_ARGUMENT, "cipher");
    CHECK_STATUS(jsec_fspe_digest_stream_new(c, NULL), JSEC_ERR_INVALID_ARGUMENT);
    memset(seed, 1, sizeof seed);
    CHECK_STATUS(jsec_fspe_stream_new(NULL, 0, seed, sizeof seed, &bad), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_new(c, 0, seed, sizeof seed, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(jsec_fspe_stream_new(c, 2, seed, sizeof seed, &bad), JSEC_ERR_INVALID_ARGUMENT,
                "direction");
    CHECK_FAILS(jsec_fspe_stream_new(c, 0, seed, 31, &bad), JSEC_ERR_INVALID_ARGUMENT, "seed");
    CHECK_STATUS(jsec_fspe_stream_new(c, 0, seed, 33, &bad), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_new(c, 0, NULL, 32, &bad), JSEC_ERR_INVALID_ARGUMENT);
    CHECK(bad == (jsec_fspe_stream *)0x80);
    CHECK_STATUS(jsec_fspe_stream_write(NULL, plain, 1), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_read(NULL, buf, sizeof buf, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_available(NULL, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_finish(NULL, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_seed(NULL, seed, sizeof seed), JSEC_ERR_INVALID_ARGUMENT);
    jsec_fspe_stream_free(NULL);

    /* A digest stream: no seed before finish, one after; finish only once. */
    CHECK_OK(jsec_fspe_digest_stream_new(c, &d));
    CHECK_STATUS(jsec_fspe_stream_write(d, NULL, 4), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_read(d, NULL, 4, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_read(d, buf, sizeof buf, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_stream_available(d, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_OK(jsec_fspe_stream_write(d, plain, len / 2));
    CHECK_FAILS(jsec_fspe_stream_seed(d, seed, sizeof seed), JSEC_ERR_INVALID_STATE, "seed");
    CHECK_OK(jsec_fspe_stream_write(d, plain + len / 2, len - len / 2));
    CHECK_OK(jsec_fspe_stream_write(d, plain, 0)); /* empty writes are fine */
    CHECK_OK(jsec_fspe_stream_finish(d, NULL));
    CHECK_FAILS(jsec_fspe_stream_finish(d, NULL), JSEC_ERR_INVALID_STATE, "jsec_fspe_stream_finish");
    CHECK_FAILS(jsec_fspe_stream_write(d, plain, 1), JSEC_ERR_INVALID_STATE, "jsec_fspe_stream_write");
    CHECK_FAILS(jsec_fspe_stream_seed(d, seed, 31), JSEC_ERR_INVALID_ARGUMENT, "32");
    CHECK_STATUS(jsec_fspe_stream_seed(d, NULL, 32), JSEC_ERR_INVALID_ARGUMENT);
    {
        unsigned char big[40];
        memset(big, 0xEE, sizeof big);
        CHECK_OK(jsec_fspe_stream_seed(d, big, sizeof big)); /* exactly 32 written */
        CHECK(big[32] == 0xEE && big[39] == 0xEE);
        CHECK_OK(jsec_fspe_stream_seed(d, seed, sizeof seed));
        CHECK_MEM_EQ(big, seed, sizeof seed);
    }
    /* Output can still be drained after finish. */
    CHECK_OK(jsec_fspe_stream_available(d, &avail));
    CHECK_EQ_U(avail, len);
    CHECK_OK(jsec_fspe_stream_read(d, buf, sizeof buf, &n));
    CHECK_EQ_U(n, sizeof buf);
    CHECK_MEM_EQ(buf, plain, sizeof buf);
    jsec_fspe_stream_free(d); /* unread output is discarded */

    /* A cipher stream has no seed. */
    CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, sizeof seed, &s));
    CHECK_OK(jsec_fspe_stream_write(s, plain, len));
    CHECK_OK(jsec_fspe_stream_finish(s, &r));
    CHECK(r != (jsec_fspe_report *)0x90 && r != NULL);
    jsec_fspe_report_free(r);
    CHECK_FAILS(jsec_fspe_stream_seed(s, seed, sizeof seed), JSEC_ERR_INVALID_STATE, "seed");
    jsec_fspe_stream_free(s);

    /* Truncated input: finish fails, the stream is then failed. */
    CHECK_OK(jsec_fspe_stream_new(c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, sizeof seed, &s));
    CHECK_OK(jsec_fspe_stream_write(s, plain, len - 30));
    r = (jsec_fspe_report *)0x90;
    CHECK_FAILS(jsec_fspe_stream_finish(s, &r), JSEC_ERR_MALFORMED, "jsec_fspe_stream_finish");
    CHECK(r == (jsec_fspe_report *)0x90);
    CHECK_STATUS(jsec_fspe_stream_write(s, plain, 1), JSEC_ERR_INVALID_STATE);
    CHECK_STATUS(jsec_fspe_stream_finish(s, NULL), JSEC_ERR_INVALID_STATE);
    CHECK_OK(jsec_fspe_stream_read(s, buf, sizeof buf, &n)); /* reading never fails */
    jsec_fspe_stream_free(s);

    /* Garbage: write fails with MALFORMED, then the stream is failed. */
    CHECK_OK(jsec_fspe_digest_stream_new(c, &d));
    CHECK_FAILS(jsec_fspe_stream_write(d, (const unsigned char *)"not a jpeg at all", 17),
                JSEC_ERR_MALFORMED, "not a JPEG");
    CHECK_STATUS(jsec_fspe_stream_write(d, plain, len), JSEC_ERR_INVALID_STATE);
    CHECK_STATUS(jsec_fspe_stream_seed(d, seed, sizeof seed), JSEC_ERR_INVALID_STATE);
    jsec_fspe_stream_free(d);

    /* Progressive input: unsupported. */
    {
        unsigned char *prog;
        size_t plen;
        p.progressive = 1;
        prog = testjpeg_make(&p, &plen);
        CHECK_OK(jsec_fspe_digest_stream_new(c, &d));
        {
            jsec_status st = jsec_fspe_stream_write(d, prog, plen);
            if (st == JSEC_OK) st = jsec_fspe_stream_finish(d, NULL);
            CHECK_EQ_LL(st, JSEC_ERR_UNSUPPORTED);
            CHECK_STR_CONTAINS(jsec_last_error(), "rogressive");
        }
        jsec_fspe_stream_free(d);
        free(prog);
    }

    /* A level-1 cipher cannot make an encryption stream. */
    {
        const jsec_key *k0 = test_key(TEST_KEY_HEX), *k1 = NULL;
        jsec_fspe_options *o = NULL;
        const jsec_fspe_cipher *c1;
        CHECK_OK(jsec_key_derive(k0, 1, &k1));
        CHECK_OK(jsec_fspe_options_new(&o));
        CHECK_OK(jsec_fspe_options_set_levels(o, true));
        c1 = test_cipher_with(k1, o, 1);
        bad = (jsec_fspe_stream *)0x80;
        CHECK_STATUS(jsec_fspe_stream_new(c1, JSEC_FSPE_DIRECTION_ENCRYPT, seed, sizeof seed, &bad),
                     JSEC_ERR_INVALID_ARGUMENT);
        CHECK(bad == (jsec_fspe_stream *)0x80);
        CHECK_OK(jsec_fspe_stream_new(c1, JSEC_FSPE_DIRECTION_DECRYPT, seed, sizeof seed, &s));
        jsec_fspe_stream_free(s);
        jsec_fspe_cipher_free(c1);
        jsec_fspe_options_free(o);
        jsec_key_free(k0);
        jsec_key_free(k1);
    }
    free(plain);
    jsec_fspe_cipher_free(c);
}

/* More than 1 MiB of unread output: write refuses (accepting nothing) and
 * the stream stays usable once the output is read. */
static void check_backpressure(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    unsigned char *plain, *out, *ref;
    size_t len, pos = 0, got = 0, n, avail, chunk = 256 * 1024;
    jsec_fspe_stream *d = NULL;
    int refused = 0;

    p.width = 1600;
    p.height = 1200;
    p.quality = 97;
    p.h_samp = 1;
    p.v_samp = 1;
    plain = testjpeg_make(&p, &len);
    CHECK_MSG(len > (3u << 20) / 2, "test image too small: %zu bytes", len);
    out = malloc(len);
    CHECK_OK(jsec_fspe_digest_stream_new(c, &d));
    while (pos < len) {
        size_t k = len - pos < chunk ? len - pos : chunk;
        jsec_status st = jsec_fspe_stream_write(d, plain + pos, k);
        if (st == JSEC_ERR_BUFFER_TOO_SMALL) {
            refused++;
            CHECK_OK(jsec_fspe_stream_available(d, &avail));
            CHECK(avail > (1u << 20) - chunk);
            /* Drain, then retry the same chunk. */
            do {
                CHECK_OK(jsec_fspe_stream_read(d, out + got, len - got, &n));
                got += n;
            } while (n > 0);
            continue;
        }
        CHECK_OK(st);
        pos += k;
    }
    CHECK_OK(jsec_fspe_stream_finish(d, NULL));
    do {
        CHECK_OK(jsec_fspe_stream_read(d, out + got, len - got, &n));
        got += n;
    } while (n > 0);
    CHECK_EQ_U(got, len);
    CHECK_MEM_EQ(out, plain, len);
    CHECK_MSG(refused > 0, "writing %zu bytes without reading was never refused", len);
    printf("backpressure: %zu bytes, write refused %d times\n", len, refused);
    {
        /* The seed matches one computed with regular reads. */
        unsigned char s1[JSEC_FSPE_SEED_LEN], s2[JSEC_FSPE_SEED_LEN];
        CHECK_OK(jsec_fspe_stream_seed(d, s1, sizeof s1));
        jsec_fspe_stream_free(d);
        ref = test_dup(plain, len);
        CHECK_OK(jsec_fspe_cipher_encrypt(c, ref, len, NULL));
        seed_of(c, ref, len, 65536, s2);
        CHECK_MEM_EQ(s1, s2, sizeof s1);
        free(ref);
    }
    free(out);
    free(plain);
    jsec_fspe_cipher_free(c);
}

int main(void) {
    check_equivalence();
    check_nonce_streams();
    check_states_and_errors();
    check_backpressure();
    return CHECK_DONE("test_stream");
}
