/* test_scan: per-scan processing, jsec_fspe_cipher_process_scan directly and
 * through jsec_jpeg_find_scan / jsec_jpeg_process_scan of jsec_libjpeg.h:
 * scan by scan equals whole-file encryption (seed from a digest pass, or a
 * caller nonce), on single-scan files with restart markers and on
 * non-interleaved multi-scan files; statistics; errors leave the scan
 * unchanged; errors raised through libjpeg's error_exit. Signing scan by
 * scan (jsec_jpeg_sign_scan and a jsec_sign_session): rows signed as their
 * scan arrives, the result verifies, errors raised through error_exit. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "jsec_libjpeg.h"
#include "testjpeg.h"

unsigned long check_count;

static void digest_seed(const jsec_fspe_cipher *c, const unsigned char *buf, size_t len,
                        unsigned char seed[JSEC_FSPE_SEED_LEN]) {
    jsec_fspe_stream *d = NULL;
    unsigned char sink[4096];
    size_t n;
    CHECK_OK(jsec_fspe_digest_stream_new(c, &d));
    CHECK_OK(jsec_fspe_stream_write(d, buf, len));
    CHECK_OK(jsec_fspe_stream_finish(d, NULL));
    do {
        CHECK_OK(jsec_fspe_stream_read(d, sink, sizeof sink, &n));
    } while (n > 0);
    CHECK_OK(jsec_fspe_stream_seed(d, seed, JSEC_FSPE_SEED_LEN));
    jsec_fspe_stream_free(d);
}

/* Process every scan of `buf` in file order, in place; returns the number of
 * scans and the sum of their encrypted bits. */
static int each_scan(const jsec_fspe_cipher *c, jsec_fspe_direction dir, const unsigned char *seed,
                     unsigned char *buf, size_t len, uint64_t *bits, int direct) {
    size_t from = 0, start = 0, end = 0;
    int scans = 0, found;
    *bits = 0;
    while ((found = jsec_jpeg_find_scan(buf, len, from, &start, &end)) == 1) {
        jsec_fspe_bit_stats stats;
        memset(&stats, 0, sizeof stats);
        stats.struct_size = sizeof stats;
        CHECK(start < end && end <= len);
        if (direct) {
            CHECK_OK(jsec_fspe_cipher_process_scan(c, (uint32_t)dir, seed,
                                                   seed ? JSEC_FSPE_SEED_LEN : 0, buf, start,
                                                   buf + start, end - start, &stats));
        } else {
            jsec_jpeg_error err;
            err.status = JSEC_ERR_INTERNAL;
            CHECK_OK(jsec_jpeg_process_scan(NULL, c, dir, seed, buf, start, end, &stats, &err));
            CHECK_EQ_LL(err.status, JSEC_OK);
            CHECK(err.message[0] == '\0');
        }
        CHECK(stats.encrypted_bits <= stats.additional_bits);
        *bits += stats.encrypted_bits;
        scans++;
        from = end;
    }
    CHECK_EQ_LL(found, 0); /* ended at EOI */
    return scans;
}

static void check_equivalence(const testjpeg_params *p, int expect_scans, const char *label) {
    const jsec_key *k = test_key(TEST_KEY_HEX);
    jsec_fspe_options *o = NULL;
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX), *cn;
    unsigned char nonce[JSEC_FSPE_NONCE_LEN] = {0x11, 0x22, 0x33};
    unsigned char seed[JSEC_FSPE_SEED_LEN];
    size_t len;
    unsigned char *plain = testjpeg_make(p, &len), *ref, *work;
    jsec_fspe_report *r = NULL;
    uint64_t bits = 0, total;
    int direct;

    CHECK(plain != NULL);
    ref = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c, ref, len, &r));
    total = test_image_info(r, 0).encrypted_bits;
    CHECK_EQ_U(test_image_info(r, 0).scans, (uint32_t)expect_scans);
    jsec_fspe_report_free(r);

    /* Seed from a digest pass (of the plain or of the protected file). */
    digest_seed(c, plain, len, seed);
    for (direct = 0; direct < 2; direct++) {
        work = test_dup(plain, len);
        CHECK_EQ_LL(each_scan(c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, work, len, &bits, direct),
                    expect_scans);
        CHECK_MSG(memcmp(work, ref, len) == 0, "%s: per-scan encryption differs", label);
        CHECK_EQ_U(bits, total);
        digest_seed(c, work, len, seed); /* same seed from the protected file */
        CHECK_EQ_LL(each_scan(c, JSEC_FSPE_DIRECTION_DECRYPT, seed, work, len, &bits, direct),
                    expect_scans);
        CHECK_MEM_EQ(work, plain, len);
        free(work);
    }

    /* A caller nonce: no digest pass, no seed. */
    CHECK_OK(jsec_fspe_options_new(&o));
    CHECK_OK(jsec_fspe_options_set_nonce(o, nonce, sizeof nonce));
    cn = test_cipher_with(k, o, 0);
    memcpy(ref, plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(cn, ref, len, NULL));
    work = test_dup(plain, len);
    each_scan(cn, JSEC_FSPE_DIRECTION_ENCRYPT, NULL, work, len, &bits, 1);
    CHECK_MEM_EQ(work, ref, len);
    each_scan(cn, JSEC_FSPE_DIRECTION_DECRYPT, NULL, work, len, &bits, 0);
    CHECK_MEM_EQ(work, plain, len);
    printf("%-34s %zu bytes, %d scans, %llu bits: per-scan == in place\n", label, len,
           expect_scans, (unsigned long long)total);

    free(work);
    free(ref);
    free(plain);
    jsec_fspe_cipher_free(c);
    jsec_fspe_cipher_free(cn);
    jsec_fspe_options_free(o);
    jsec_key_free(k);
}

static void check_find_scan(void) {
    testjpeg_params p = testjpeg_defaults();
    size_t len, s = 7, e = 9;
    unsigned char *jpeg = testjpeg_make(&p, &len);
    /* Not a JPEG, NULL, truncated in the headers or in the scan. */
    CHECK_EQ_LL(jsec_jpeg_find_scan((const unsigned char *)"GIF89a", 6, 0, &s, &e), -1);
    CHECK_EQ_LL(jsec_jpeg_find_scan(NULL, 10, 0, &s, &e), -1);
    CHECK_EQ_LL(jsec_jpeg_find_scan(jpeg, len, 0, NULL, &e), -1);
    CHECK_EQ_LL(jsec_jpeg_find_scan(jpeg, 100, 0, &s, &e), -1);
    CHECK_EQ_LL(jsec_jpeg_find_scan(jpeg, len - 3, 0, &s, &e), -1);
    CHECK(s == 7 && e == 9); /* untouched */
    CHECK_EQ_LL(jsec_jpeg_find_scan(jpeg, len, 0, &s, &e), 1);
    CHECK(jpeg[s - 14] == 0xFF && jpeg[s - 13] == 0xDA); /* 3-component SOS is 14 bytes */
    CHECK(e == len - 2 && jpeg[e] == 0xFF && jpeg[e + 1] == 0xD9);
    CHECK_EQ_LL(jsec_jpeg_find_scan(jpeg, len, e, &s, &e), 0);
    free(jpeg);
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int msg_code;
    char text[JMSG_LENGTH_MAX];
} catch_mgr;

static void catch_exit(j_common_ptr cinfo) {
    catch_mgr *m = (catch_mgr *)cinfo->err;
    m->msg_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, m->text);
    longjmp(m->jump, 1);
}

static void check_errors(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    size_t len, s = 0, e = 0;
    unsigned char *plain = testjpeg_make(&p, &len), *work = test_dup(plain, len);
    unsigned char seed[JSEC_FSPE_SEED_LEN];
    jsec_fspe_bit_stats stats;
    jsec_jpeg_error err;

    CHECK_EQ_LL(jsec_jpeg_find_scan(work, len, 0, &s, &e), 1);
    digest_seed(c, plain, len, seed);
    memset(&stats, 0x5A, sizeof stats);
    stats.struct_size = 0;

    CHECK_FAILS(jsec_fspe_cipher_process_scan(NULL, 0, seed, 32, work, s, work + s, e - s, NULL),
                JSEC_ERR_INVALID_ARGUMENT, "cipher");
    CHECK_FAILS(jsec_fspe_cipher_process_scan(c, 0, NULL, 0, work, s, work + s, e - s, NULL),
                JSEC_ERR_INVALID_ARGUMENT, "nonce");
    CHECK_FAILS(jsec_fspe_cipher_process_scan(c, 0, seed, 16, work, s, work + s, e - s, NULL),
                JSEC_ERR_INVALID_ARGUMENT, "seed");
    CHECK_FAILS(jsec_fspe_cipher_process_scan(c, 7, seed, 32, work, s, work + s, e - s, NULL),
                JSEC_ERR_INVALID_ARGUMENT, "direction");
    CHECK_STATUS(jsec_fspe_cipher_process_scan(c, 0, seed, 32, NULL, s, work + s, e - s, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_cipher_process_scan(c, 0, seed, 32, work, s, NULL, e - s, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(jsec_fspe_cipher_process_scan(c, 0, seed, 32, work, s, work + s, e - s, &stats),
                JSEC_ERR_INVALID_ARGUMENT, "struct_size");
    CHECK_EQ_U(stats.additional_bits, 0x5A5A5A5A5A5A5A5Aull);
    /* The prefix must end with the SOS segment; the scan must be complete. */
    CHECK(jsec_fspe_cipher_process_scan(c, 0, seed, 32, work, s - 1, work + s, e - s, NULL) !=
          JSEC_OK);
    CHECK(jsec_fspe_cipher_process_scan(c, 0, seed, 32, work, s, work + s, (e - s) / 2, NULL) !=
          JSEC_OK);
    CHECK_MEM_EQ(work, plain, len); /* nothing changed by any failure */

    /* Only the fields that fit in struct_size are written. */
    memset(&stats, 0x5A, sizeof stats);
    stats.struct_size = sizeof(size_t) + sizeof(uint64_t);
    CHECK_OK(jsec_fspe_cipher_process_scan(c, 0, seed, 32, work, s, work + s, e - s, &stats));
    CHECK(stats.additional_bits > 0 && stats.additional_bits != 0x5A5A5A5A5A5A5A5Aull);
    CHECK_EQ_U(stats.eligible_paper_bits, 0x5A5A5A5A5A5A5A5Aull);
    CHECK_MEM_NE(work, plain, len);
    memcpy(work, plain, len);

    /* The wrapper: status and message into the record. */
    CHECK_STATUS(jsec_jpeg_process_scan(NULL, c, JSEC_FSPE_DIRECTION_ENCRYPT, NULL, work, s, e,
                                        NULL, &err),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_EQ_LL(err.status, JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.message, "jsec_fspe_cipher_process_scan");
    CHECK_STATUS(jsec_jpeg_process_scan(NULL, c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, work, e, s,
                                        NULL, &err),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.message, "data_end");
    CHECK_STATUS(jsec_jpeg_process_scan(NULL, c, JSEC_FSPE_DIRECTION_ENCRYPT, seed, NULL, s, e,
                                        NULL, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_MEM_EQ(work, plain, len);

    /* ... and raised through libjpeg's error_exit when a cinfo is given. */
    {
        struct jpeg_compress_struct cinfo;
        catch_mgr m;
        jsec_jpeg_error *volatile rec = &err;
        memset(&m, 0, sizeof m);
        cinfo.err = jpeg_std_error(&m.pub);
        m.pub.error_exit = catch_exit;
        jpeg_create_compress(&cinfo);
        err.status = JSEC_OK;
        if (setjmp(m.jump) == 0) {
            jsec_jpeg_process_scan((j_common_ptr)&cinfo, c, JSEC_FSPE_DIRECTION_ENCRYPT, NULL,
                                   work, s, e, NULL, rec);
            CHECK_MSG(0, "error_exit was not called");
        }
        CHECK_EQ_LL(m.msg_code, JSEC_JPEG_MSG_CODE);
        CHECK_STR_CONTAINS(m.text, "jsec: JSEC_ERR_INVALID_ARGUMENT: ");
        CHECK_EQ_LL(rec->status, JSEC_ERR_INVALID_ARGUMENT);
        /* Without a record, the pool keeps one for the handler. */
        m.msg_code = 0;
        if (setjmp(m.jump) == 0) {
            jsec_jpeg_process_scan((j_common_ptr)&cinfo, c, JSEC_FSPE_DIRECTION_ENCRYPT, NULL,
                                   work, s, e, NULL, NULL);
            CHECK_MSG(0, "error_exit was not called");
        }
        CHECK_EQ_LL(m.msg_code, JSEC_JPEG_MSG_CODE);
        /* Success with a cinfo: nothing raised. */
        CHECK_OK(jsec_jpeg_process_scan((j_common_ptr)&cinfo, c, JSEC_FSPE_DIRECTION_ENCRYPT, seed,
                                        work, s, e, NULL, NULL));
        jpeg_destroy_compress(&cinfo);
        CHECK_MEM_NE(work, plain, len);
    }

    /* Per-scan encryption needs the master key. */
    {
        const jsec_key *k0 = test_key(TEST_KEY_HEX), *k1 = NULL;
        jsec_fspe_options *o = NULL;
        const jsec_fspe_cipher *c1;
        CHECK_OK(jsec_key_derive(k0, 1, &k1));
        CHECK_OK(jsec_fspe_options_new(&o));
        CHECK_OK(jsec_fspe_options_set_levels(o, true));
        c1 = test_cipher_with(k1, o, 1);
        memcpy(work, plain, len);
        CHECK_STATUS(jsec_fspe_cipher_process_scan(c1, JSEC_FSPE_DIRECTION_ENCRYPT, seed, 32, work,
                                                   s, work + s, e - s, NULL),
                     JSEC_ERR_INVALID_ARGUMENT);
        CHECK_MEM_EQ(work, plain, len);
        jsec_fspe_cipher_free(c1);
        jsec_fspe_options_free(o);
        jsec_key_free(k0);
        jsec_key_free(k1);
    }
    free(plain);
    free(work);
    jsec_fspe_cipher_free(c);
}

/* Hand the file to a signing session scan by scan (headers + first scan,
 * then each further scan, then the tail); returns the cells signed after
 * each scan in `after` (up to 8) and the signed file. */
static jsec_buffer *sign_by_scans(const jsec_sign_key *key, const unsigned char *jpeg, size_t len,
                                  uint64_t after[8], int *scans) {
    jsec_sign_session *s = NULL;
    jsec_buffer *out = NULL;
    jsec_jpeg_error err;
    size_t from = 0, start = 0, end = 0, fed = 0;
    *scans = 0;
    CHECK_OK(jsec_sign_session_new(key, NULL, &s));
    while (jsec_jpeg_find_scan(jpeg, len, from, &start, &end) == 1) {
        CHECK_OK(jsec_jpeg_sign_scan(NULL, s, jpeg + fed, end - fed, &err));
        CHECK_EQ_LL(err.status, JSEC_OK);
        fed = from = end;
        if (*scans < 8) CHECK_OK(jsec_sign_session_progress(s, &after[*scans], NULL));
        (*scans)++;
    }
    CHECK_OK(jsec_jpeg_sign_scan(NULL, s, jpeg + fed, len - fed, NULL));
    CHECK_OK(jsec_sign_session_finish(s, &out));
    jsec_sign_session_free(s);
    return out;
}

static void check_sign_scans(void) {
    testjpeg_params p = testjpeg_defaults();
    const jsec_sign_key *key = NULL;
    const jsec_verify_key *pub = NULL;
    uint64_t after[8] = {0}, total = 0;
    size_t len, slen;
    int scans;
    unsigned char *jpeg;
    jsec_buffer *signed_file;
    const uint8_t *sd;
    jsec_sign_verification v;

    CHECK_OK(jsec_sign_key_generate(&key));
    CHECK_OK(jsec_sign_key_public(key, &pub));
    v.struct_size = sizeof v;
    p.width = 96;
    p.height = 64;

    /* One interleaved scan: all rows are signed when it has arrived. */
    jpeg = testjpeg_make(&p, &len);
    signed_file = sign_by_scans(key, jpeg, len, after, &scans);
    CHECK_EQ_LL(scans, 1);
    CHECK_OK(jsec_buffer_data(signed_file, &sd, &slen));
    CHECK_OK(jsec_sign_verify(pub, NULL, sd, slen, &v));
    CHECK_EQ_U(after[0], v.cells);
    jsec_buffer_free(signed_file);
    free(jpeg);

    /* Three non-interleaved scans: nothing can be signed before the last. */
    p.noninterleaved = 1;
    jpeg = testjpeg_make(&p, &len);
    signed_file = sign_by_scans(key, jpeg, len, after, &scans);
    CHECK_EQ_LL(scans, 3);
    CHECK(after[0] == 0 && after[1] == 0);
    CHECK_OK(jsec_buffer_data(signed_file, &sd, &slen));
    CHECK_OK(jsec_sign_verify(pub, NULL, sd, slen, &v));
    total = v.cells;
    CHECK(total == 6 * 4);
    jsec_buffer_free(signed_file);

    /* Errors: recorded, and raised through error_exit with a cinfo. */
    {
        jsec_sign_session *s = NULL;
        jsec_jpeg_error err;
        struct jpeg_compress_struct cinfo;
        catch_mgr m;
        CHECK_OK(jsec_sign_session_new(key, NULL, &s));
        CHECK_STATUS(jsec_jpeg_sign_scan(NULL, s, (const unsigned char *)"nope", 4, &err),
                     JSEC_ERR_MALFORMED);
        CHECK_EQ_LL(err.status, JSEC_ERR_MALFORMED);
        CHECK_STR_CONTAINS(err.message, "not a JPEG");
        memset(&m, 0, sizeof m);
        cinfo.err = jpeg_std_error(&m.pub);
        m.pub.error_exit = catch_exit;
        jpeg_create_compress(&cinfo);
        if (setjmp(m.jump) == 0) {
            jsec_jpeg_sign_scan((j_common_ptr)&cinfo, s, jpeg, len, NULL);
            CHECK_MSG(0, "error_exit was not called");
        }
        CHECK_EQ_LL(m.msg_code, JSEC_JPEG_MSG_CODE);
        CHECK_STR_CONTAINS(m.text, "jsec: JSEC_ERR_INVALID_STATE: ");
        jpeg_destroy_compress(&cinfo);
        jsec_sign_session_free(s);
        CHECK_STATUS(jsec_jpeg_sign_scan(NULL, NULL, jpeg, len, NULL), JSEC_ERR_INVALID_ARGUMENT);
    }
    free(jpeg);
    jsec_sign_key_free(key);
    jsec_verify_key_free(pub);
}

int main(void) {
    testjpeg_params p = testjpeg_defaults();
    check_find_scan();
    check_sign_scans();
    p.width = 120;
    p.height = 90;
    check_equivalence(&p, 1, "120x90 4:2:0, one scan");
    p.restart_rows = 1;
    check_equivalence(&p, 1, "120x90 4:2:0, restart every row");
    p.restart_rows = 0;
    p.noninterleaved = 1;
    check_equivalence(&p, 3, "120x90 4:2:0, 3 non-interleaved");
    p.restart_rows = 2;
    p.h_samp = 1;
    p.v_samp = 1;
    check_equivalence(&p, 3, "120x90 4:4:4, 3 scans, restarts");
    check_errors();
    return CHECK_DONE("test_scan");
}
