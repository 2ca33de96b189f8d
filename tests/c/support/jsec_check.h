/* jsec_check.h: CHECK macros and small helpers for tests of the jsec C API. */
#ifndef JSEC_TEST_JSEC_CHECK_H
#define JSEC_TEST_JSEC_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsec.h"

/* `expr` must return JSEC_OK; otherwise print the status and jsec_last_error(). */
#define CHECK_OK(expr)                                                       \
    do {                                                                     \
        jsec_status s_ = (expr);                                             \
        if (s_ != JSEC_OK)                                                   \
            CHECK_FAIL_("%s -> %s: %s", #expr, jsec_status_str((int)s_),     \
                        jsec_last_error());                                  \
        check_count++;                                                       \
    } while (0)

/* `expr` must return `want` (a jsec_status). */
#define CHECK_STATUS(expr, want)                                             \
    do {                                                                     \
        jsec_status s_ = (expr);                                             \
        if (s_ != (want))                                                    \
            CHECK_FAIL_("%s -> %s, expected %s (last error: %s)", #expr,     \
                        jsec_status_str((int)s_), jsec_status_str((int)(want)), \
                        jsec_last_error());                                  \
        check_count++;                                                       \
    } while (0)

/* `expr` must fail with `want` and jsec_last_error() must contain `text`. */
#define CHECK_FAILS(expr, want, text)                                        \
    do {                                                                     \
        CHECK_STATUS(expr, want);                                            \
        CHECK_STR_CONTAINS(jsec_last_error(), text);                         \
    } while (0)

static const char TEST_KEY_HEX[] = "000102030405060708090a0b0c0d0e0f";
static const char TEST_KEY256_HEX[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/* A key from hex (the test fails if it cannot be made). */
static inline const jsec_key *test_key(const char *hex) {
    const jsec_key *k = NULL;
    CHECK_OK(jsec_key_new_from_hex(hex, &k));
    CHECK(k != NULL);
    return k;
}

/* A cipher from `key` and `options` (NULL: the defaults) at `level`. */
static inline const jsec_fspe_cipher *test_cipher_with(const jsec_key *key,
                                                       const jsec_fspe_options *options,
                                                       uint32_t level) {
    jsec_fspe_options *defaults = NULL;
    const jsec_fspe_cipher *c = NULL;
    if (options == NULL) {
        CHECK_OK(jsec_fspe_options_new(&defaults));
        options = defaults;
    }
    CHECK_OK(jsec_fspe_cipher_new(key, options, level, &c));
    CHECK(c != NULL);
    jsec_fspe_options_free(defaults);
    return c;
}

/* A cipher with the default options and the key given in hex. */
static inline const jsec_fspe_cipher *test_cipher(const char *hex) {
    const jsec_key *k = test_key(hex);
    const jsec_fspe_cipher *c = test_cipher_with(k, NULL, 0);
    jsec_key_free(k);
    return c;
}

/* A malloc'd copy of `len` bytes. */
static inline unsigned char *test_dup(const unsigned char *p, size_t len) {
    unsigned char *q = malloc(len > 0 ? len : 1);
    CHECK(q != NULL);
    if (len > 0) memcpy(q, p, len);
    return q;
}

/* Number of differing bytes. */
static inline size_t test_diff_count(const unsigned char *a, const unsigned char *b, size_t n) {
    size_t i, d = 0;
    for (i = 0; i < n; i++) d += a[i] != b[i];
    return d;
}

/* The primary image's facts from a report. */
static inline jsec_fspe_image_info test_image_info(const jsec_fspe_report *r, size_t index) {
    jsec_fspe_image_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK_OK(jsec_fspe_report_image(r, index, &info));
    return info;
}

#endif
