/* test_key: jsec_key_new_from_bytes/_from_hex, jsec_key_generate,
 * jsec_key_derive, jsec_key_to_hex and jsec_key_free: lengths, parsing,
 * buffer sizes, NULL handling, and that out-params are only written on success. */
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"

unsigned long check_count;

static const jsec_key *const UNTOUCHED = (const jsec_key *)0x10;

/* The key's hex text (into buf, at least JSEC_KEY_HEX_CAPACITY bytes). */
static void hex_of(const jsec_key *k, char *buf) {
    size_t n = 0;
    CHECK_OK(jsec_key_to_hex(k, buf, JSEC_KEY_HEX_CAPACITY, &n));
    CHECK_EQ_U(strlen(buf), n);
}

static void check_from_bytes(void) {
    unsigned char bytes[33];
    const jsec_key *k = UNTOUCHED;
    char hex[JSEC_KEY_HEX_CAPACITY];
    size_t i;
    for (i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 17 + 1);

    CHECK_OK(jsec_key_new_from_bytes(bytes, 16, &k));
    CHECK(k != UNTOUCHED && k != NULL);
    hex_of(k, hex);
    CHECK(strcmp(hex, "0112233445566778899aabbccddeef00") == 0);
    jsec_key_free(k);

    k = UNTOUCHED;
    CHECK_OK(jsec_key_new_from_bytes(bytes, 32, &k));
    hex_of(k, hex);
    CHECK_EQ_U(strlen(hex), 64);
    CHECK(strncmp(hex, "0112233445566778899aabbccddeef00", 32) == 0);
    jsec_key_free(k);

    /* Only AES-128 and AES-256 lengths. */
    for (i = 0; i < sizeof bytes; i++) {
        if (i == 16 || i == 32) continue;
        k = UNTOUCHED;
        CHECK_FAILS(jsec_key_new_from_bytes(bytes, i, &k), JSEC_ERR_BAD_KEY,
                    "jsec_key_new_from_bytes");
        CHECK(k == UNTOUCHED);
    }
    CHECK_FAILS(jsec_key_new_from_bytes(NULL, 16, &k), JSEC_ERR_INVALID_ARGUMENT, "bytes");
    CHECK(k == UNTOUCHED);
    CHECK_FAILS(jsec_key_new_from_bytes(bytes, 16, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
}

static void check_from_hex(void) {
    const jsec_key *a = NULL, *b = NULL, *k = UNTOUCHED;
    unsigned char bytes[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                               0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
    char ha[JSEC_KEY_HEX_CAPACITY], hb[JSEC_KEY_HEX_CAPACITY];

    /* Hex and bytes give the same key; case and whitespace do not matter. */
    CHECK_OK(jsec_key_new_from_hex(TEST_KEY_HEX, &a));
    CHECK_OK(jsec_key_new_from_bytes(bytes, sizeof bytes, &b));
    hex_of(a, ha);
    hex_of(b, hb);
    CHECK(strcmp(ha, hb) == 0);
    CHECK(strcmp(ha, TEST_KEY_HEX) == 0);
    jsec_key_free(b);
    CHECK_OK(jsec_key_new_from_hex(" 00010203 04050607\n08090A0B0C0D0E0F\n", &b));
    hex_of(b, hb);
    CHECK(strcmp(ha, hb) == 0); /* lowercase out */
    jsec_key_free(a);
    jsec_key_free(b);

    CHECK_OK(jsec_key_new_from_hex(TEST_KEY256_HEX, &a));
    hex_of(a, ha);
    CHECK(strcmp(ha, TEST_KEY256_HEX) == 0);
    jsec_key_free(a);

    /* Bad text: wrong length, non-hex, odd digit count, empty. */
    CHECK_FAILS(jsec_key_new_from_hex("", &k), JSEC_ERR_BAD_KEY, "jsec_key_new_from_hex");
    CHECK_STATUS(jsec_key_new_from_hex("000102030405060708090a0b0c0d0e", &k), JSEC_ERR_BAD_KEY);
    CHECK_STATUS(jsec_key_new_from_hex("000102030405060708090a0b0c0d0e0f0", &k), JSEC_ERR_BAD_KEY);
    CHECK_STATUS(jsec_key_new_from_hex("000102030405060708090a0b0c0d0e0g", &k), JSEC_ERR_BAD_KEY);
    CHECK_STATUS(jsec_key_new_from_hex("0x0102030405060708090a0b0c0d0e0f", &k), JSEC_ERR_BAD_KEY);
    CHECK_STATUS(jsec_key_new_from_hex("\xc3\xa9\xc3\xa9", &k), JSEC_ERR_BAD_KEY);
    CHECK(k == UNTOUCHED);
    CHECK_FAILS(jsec_key_new_from_hex(NULL, &k), JSEC_ERR_INVALID_ARGUMENT, "hex");
    CHECK_FAILS(jsec_key_new_from_hex(TEST_KEY_HEX, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(k == UNTOUCHED);
}

static void check_to_hex(void) {
    const jsec_key *k = test_key(TEST_KEY_HEX);
    char buf[JSEC_KEY_HEX_CAPACITY];
    size_t n = 999;

    CHECK_EQ_U(JSEC_KEY_HEX_CAPACITY, 65);
    /* Ask for the length with a NULL buffer. */
    CHECK_STATUS(jsec_key_to_hex(k, NULL, 0, &n), JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U(n, 32);
    /* Too small by one (no room for the NUL): nothing written. */
    memset(buf, 'x', sizeof buf);
    n = 0;
    CHECK_FAILS(jsec_key_to_hex(k, buf, 32, &n), JSEC_ERR_BUFFER_TOO_SMALL, "jsec_key_to_hex");
    CHECK_EQ_U(n, 32);
    CHECK(buf[0] == 'x' && buf[31] == 'x' && buf[32] == 'x');
    /* Exactly enough. */
    CHECK_OK(jsec_key_to_hex(k, buf, 33, &n));
    CHECK_EQ_U(n, 32);
    CHECK(buf[32] == '\0');
    CHECK(strcmp(buf, TEST_KEY_HEX) == 0);
    CHECK(buf[33] == 'x'); /* nothing past the NUL */

    CHECK_FAILS(jsec_key_to_hex(NULL, buf, sizeof buf, &n), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_STATUS(jsec_key_to_hex(k, buf, sizeof buf, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_key_to_hex(k, NULL, 40, &n), JSEC_ERR_INVALID_ARGUMENT);
    jsec_key_free(k);
}

static void check_generate(void) {
    const jsec_key *a = NULL, *b = NULL, *k = UNTOUCHED;
    char ha[JSEC_KEY_HEX_CAPACITY], hb[JSEC_KEY_HEX_CAPACITY];

    CHECK_OK(jsec_key_generate(16, &a));
    CHECK_OK(jsec_key_generate(16, &b));
    hex_of(a, ha);
    hex_of(b, hb);
    CHECK_EQ_U(strlen(ha), 32);
    CHECK(strcmp(ha, hb) != 0); /* fresh randomness */
    jsec_key_free(a);
    jsec_key_free(b);
    CHECK_OK(jsec_key_generate(32, &a));
    hex_of(a, ha);
    CHECK_EQ_U(strlen(ha), 64);
    jsec_key_free(a);

    CHECK_FAILS(jsec_key_generate(24, &k), JSEC_ERR_INVALID_ARGUMENT, "jsec_key_generate");
    CHECK_STATUS(jsec_key_generate(0, &k), JSEC_ERR_INVALID_ARGUMENT);
    CHECK(k == UNTOUCHED);
    CHECK_STATUS(jsec_key_generate(16, NULL), JSEC_ERR_INVALID_ARGUMENT);
}

static void check_derive(void) {
    const jsec_key *k0 = test_key(TEST_KEY_HEX), *copy = NULL, *k1 = NULL, *k2 = NULL,
                   *k1k1 = NULL, *k = UNTOUCHED;
    char h0[JSEC_KEY_HEX_CAPACITY], hc[JSEC_KEY_HEX_CAPACITY], h1[JSEC_KEY_HEX_CAPACITY],
        h2[JSEC_KEY_HEX_CAPACITY], h11[JSEC_KEY_HEX_CAPACITY];

    CHECK_OK(jsec_key_derive(k0, 0, &copy));
    CHECK_OK(jsec_key_derive(k0, 1, &k1));
    CHECK_OK(jsec_key_derive(k0, 2, &k2));
    CHECK_OK(jsec_key_derive(k1, 1, &k1k1));
    hex_of(k0, h0);
    hex_of(copy, hc);
    hex_of(k1, h1);
    hex_of(k2, h2);
    hex_of(k1k1, h11);
    CHECK(strcmp(h0, hc) == 0);   /* 0 steps: a copy */
    CHECK(strcmp(h0, h1) != 0);   /* a different key */
    CHECK(strcmp(h1, h2) != 0);
    CHECK(strcmp(h2, h11) == 0);  /* a chain: derive(derive(k, 1), 1) == derive(k, 2) */
    CHECK_EQ_U(strlen(h1), 32);   /* same length */

    CHECK_OK(jsec_key_derive(k0, 255, &k));
    jsec_key_free(k);
    k = UNTOUCHED;
    CHECK_FAILS(jsec_key_derive(k0, 256, &k), JSEC_ERR_INVALID_ARGUMENT, "256");
    CHECK(k == UNTOUCHED);
    CHECK_FAILS(jsec_key_derive(NULL, 1, &k), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_STATUS(jsec_key_derive(k0, 1, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK(k == UNTOUCHED);

    /* Freeing the source key leaves the derived ones usable. */
    jsec_key_free(k0);
    hex_of(k1, hc);
    CHECK(strcmp(hc, h1) == 0);
    jsec_key_free(copy);
    jsec_key_free(k1);
    jsec_key_free(k2);
    jsec_key_free(k1k1);
    jsec_key_free(NULL); /* no-op */
}

int main(void) {
    check_from_bytes();
    check_from_hex();
    check_to_hex();
    check_generate();
    check_derive();
    return CHECK_DONE("test_key");
}
