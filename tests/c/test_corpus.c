/* test_corpus: in-place round trips over the shared corpus
 * (../shared/corpus/{real,libjpeg-turbo,generated/jpeg}), when present.
 *
 * Every baseline/extended-sequential Huffman file must encrypt to the same
 * size with bytes changed, decode with libjpeg like before (no error, no
 * more warnings) and decrypt back byte for byte. Progressive and arithmetic
 * files must be refused with JSEC_ERR_UNSUPPORTED, the buffer unchanged.
 * Other failures are only accepted for the deliberately broken bad-* files
 * (MALFORMED/UNSUPPORTED, buffer unchanged). Without the corpus the test
 * prints a note and passes: tests/c/test_cipher.c covers generated images. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_jpeg_name(const char *name) {
    return ends_with(name, ".jpg") || ends_with(name, ".jpeg") || ends_with(name, ".JPG");
}

static int counts[3]; /* round trips, refused as unsupported, refused bad files */

static void one_file(const jsec_fspe_cipher *c, const char *path, const char *name) {
    size_t len;
    unsigned char *orig = testjpeg_read_file(path, &len), *buf;
    int expect_unsupported = strstr(name, "prog") != NULL || strstr(name, "arith") != NULL ||
                             strstr(name, "testimgp") != NULL || strstr(name, "testimgari") != NULL ||
                             strstr(name, "32-lens_data") != NULL;
    int is_bad = strncmp(name, "bad-", 4) == 0;
    jsec_status st;

    CHECK_MSG(orig != NULL, "cannot read %s", path);
    buf = test_dup(orig, len);
    st = jsec_fspe_cipher_encrypt(c, buf, len, NULL);
    if (st == JSEC_OK) {
        int w, h, comps, warn_before = 0, warn_after = 0;
        unsigned char *px_before = testjpeg_decode(orig, len, &w, &h, &comps, &warn_before);
        unsigned char *px_after;
        CHECK_MSG(!expect_unsupported, "%s: expected JSEC_ERR_UNSUPPORTED, encryption succeeded",
                  name);
        CHECK_MSG(test_diff_count(buf, orig, len) > 0, "%s: encryption changed nothing", name);
        if (px_before != NULL) {
            /* What libjpeg decoded before, it decodes after, warning no more. */
            px_after = testjpeg_decode(buf, len, &w, &h, &comps, &warn_after);
            CHECK_MSG(px_after != NULL, "%s: libjpeg fails on the encrypted file", name);
            CHECK_MSG(warn_after <= warn_before, "%s: %d libjpeg warnings, %d before", name,
                      warn_after, warn_before);
            free(px_after);
            free(px_before);
        }
        CHECK_OK(jsec_fspe_cipher_decrypt(c, buf, len, NULL));
        CHECK_MSG(memcmp(buf, orig, len) == 0, "%s: decryption did not restore the file", name);
        counts[0]++;
        printf("  round trip  %-40s %9zu bytes\n", name, len);
    } else {
        CHECK_MSG(memcmp(buf, orig, len) == 0, "%s: failed encryption changed the buffer", name);
        if (expect_unsupported) {
            CHECK_MSG(st == JSEC_ERR_UNSUPPORTED, "%s: %s (%s), expected JSEC_ERR_UNSUPPORTED",
                      name, jsec_status_str((int)st), jsec_last_error());
            counts[1]++;
        } else {
            CHECK_MSG(is_bad || st == JSEC_ERR_UNSUPPORTED,
                      "%s: unexpected failure %s: %s", name, jsec_status_str((int)st),
                      jsec_last_error());
            CHECK_MSG(st == JSEC_ERR_MALFORMED || st == JSEC_ERR_UNSUPPORTED,
                      "%s: unexpected status %s", name, jsec_status_str((int)st));
            if (is_bad) counts[2]++;
            else counts[1]++;
        }
        printf("  refused     %-40s %s: %s\n", name, jsec_status_str((int)st), jsec_last_error());
    }
    free(orig);
    free(buf);
}

static void one_dir(const jsec_fspe_cipher *c, const char *corpus, const char *sub) {
    char dir[4096], path[8192];
    DIR *d;
    struct dirent *e;
    snprintf(dir, sizeof dir, "%s/%s", corpus, sub);
    d = opendir(dir);
    if (d == NULL) {
        printf("note: %s absent, skipped\n", dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_jpeg_name(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        one_file(c, path, e->d_name);
    }
    closedir(d);
}

int main(void) {
    const char *corpus = testjpeg_corpus_dir();
    const jsec_fspe_cipher *c;
    if (corpus == NULL) {
        printf("note: the shared corpus (../shared/corpus) is absent; nothing to do\n");
        return CHECK_DONE("test_corpus");
    }
    c = test_cipher(TEST_KEY_HEX);
    one_dir(c, corpus, "libjpeg-turbo");
    one_dir(c, corpus, "generated/jpeg");
    one_dir(c, corpus, "real");
    jsec_fspe_cipher_free(c);
    printf("%d round trips, %d refused as unsupported, %d bad files refused\n", counts[0],
           counts[1], counts[2]);
    CHECK(counts[0] > 10);
    return CHECK_DONE("test_corpus");
}
