/* stream_camera: encrypt a JPEG as a camera would, chunk by chunk, with the
 * bounded-memory stream API.
 *
 *   stream_camera KEYHEX IN.jpg OUT.jpg [CHUNK [NONCEHEX]]
 *
 * The "sensor" delivers IN.jpg in CHUNK-byte pieces (default 1000).
 *
 * Without a nonce (the default, same result as jsec_fspe_cipher_encrypt):
 *   pass 1, a digest stream sees every chunk and yields the file's seed;
 *   pass 2, a cipher stream encrypts the chunks again with that seed and the
 *   output is written as it becomes ready. A camera keeps the JPEG in its
 *   buffer or flash between the passes; memory inside jsec stays bounded.
 * With NONCEHEX (32 hex digits) the seed comes from the caller nonce and one
 * pass suffices: the camera encrypts while it produces the file (it must
 * store the nonce with the image, and never reuse it with the same key). */
#define _POSIX_C_SOURCE 200809L /* stat() in remove_partial.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsec.h"
#include "remove_partial.h"

/* The camera's sensor: hands out the file in fixed-size chunks. */
typedef struct {
    FILE *f;
    size_t chunk;
} sensor;

static size_t sensor_next(sensor *s, unsigned char *buf) {
    return fread(buf, 1, s->chunk, s->f);
}

/* Write whatever the stream has ready to `out`. */
static jsec_status drain(jsec_fspe_stream *stream, FILE *out, size_t *written) {
    unsigned char buf[4096];
    for (;;) {
        size_t n = 0;
        jsec_status st = jsec_fspe_stream_read(stream, buf, sizeof buf, &n);
        if (st != JSEC_OK) return st;
        if (n == 0) return JSEC_OK;
        if (out != NULL && fwrite(buf, 1, n, out) != n) {
            perror("stream_camera: writing the output");
            return JSEC_ERR_IO;
        }
        *written += n;
    }
}

/* Feed the whole file through `stream`, writing its output to `out` (NULL:
 * discard, as for the digest pass, whose output is its input). */
static jsec_status run_pass(jsec_fspe_stream *stream, sensor *s, FILE *out, size_t *written) {
    unsigned char *chunk = malloc(s->chunk);
    jsec_status st = JSEC_OK;
    size_t n;
    if (chunk == NULL) {
        perror("stream_camera: chunk buffer");
        return JSEC_ERR_INTERNAL;
    }
    rewind(s->f);
    while (st == JSEC_OK && (n = sensor_next(s, chunk)) > 0) {
        st = jsec_fspe_stream_write(stream, chunk, n);
        if (st == JSEC_OK) st = drain(stream, out, written);
    }
    free(chunk);
    if (st == JSEC_OK && ferror(s->f)) {
        perror("stream_camera: reading the input");
        st = JSEC_ERR_IO;
    }
    if (st == JSEC_OK) st = jsec_fspe_stream_finish(stream, NULL);
    if (st == JSEC_OK) st = drain(stream, out, written);
    return st;
}

static int parse_hex(const char *hex, unsigned char *out, size_t len) {
    size_t i;
    if (strlen(hex) != 2 * len) return -1;
    for (i = 0; i < len; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

int main(int argc, char **argv) {
    const jsec_key *key = NULL;
    jsec_fspe_options *options = NULL;
    const jsec_fspe_cipher *cipher = NULL;
    jsec_fspe_stream *digest = NULL, *enc = NULL;
    unsigned char seed[JSEC_FSPE_SEED_LEN], nonce[JSEC_FSPE_NONCE_LEN];
    sensor s = {NULL, 1000};
    FILE *out = NULL;
    size_t written = 0, passed = 0;
    int use_nonce = argc > 5, rc = 1;
    jsec_status st;

    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: stream_camera KEYHEX IN.jpg OUT.jpg [CHUNK [NONCEHEX]]\n");
        return 2;
    }
    if (argc > 4) s.chunk = (size_t)strtoul(argv[4], NULL, 10);
    if (s.chunk == 0 || (use_nonce && parse_hex(argv[5], nonce, sizeof nonce) != 0)) {
        fprintf(stderr, "stream_camera: bad CHUNK or NONCEHEX\n");
        return 2;
    }
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK ||
        (st = jsec_key_new_from_hex(argv[1], &key)) != JSEC_OK ||
        (st = jsec_fspe_options_new(&options)) != JSEC_OK ||
        (use_nonce && (st = jsec_fspe_options_set_nonce(options, nonce, sizeof nonce)) != JSEC_OK) ||
        (st = jsec_fspe_cipher_new(key, options, 0, &cipher)) != JSEC_OK)
        goto jsec_failed;
    s.f = fopen(argv[2], "rb");
    if (s.f == NULL) {
        perror(argv[2]);
        goto done;
    }
    out = fopen(argv[3], "wb");
    if (out == NULL) {
        perror(argv[3]);
        goto done;
    }

    if (use_nonce) {
        /* One pass: the nonce replaces the seed. */
        if ((st = jsec_fspe_stream_new(cipher, JSEC_FSPE_DIRECTION_ENCRYPT, NULL, 0, &enc)) !=
            JSEC_OK)
            goto jsec_failed;
    } else {
        /* Pass 1: the digest of the file's invariant bytes gives the seed. */
        if ((st = jsec_fspe_digest_stream_new(cipher, &digest)) != JSEC_OK ||
            (st = run_pass(digest, &s, NULL, &passed)) != JSEC_OK ||
            (st = jsec_fspe_stream_seed(digest, seed, sizeof seed)) != JSEC_OK)
            goto jsec_failed;
        printf("stream_camera: digest pass over %zu bytes in %zu-byte chunks\n", passed,
               s.chunk);
        if ((st = jsec_fspe_stream_new(cipher, JSEC_FSPE_DIRECTION_ENCRYPT, seed, sizeof seed,
                                       &enc)) != JSEC_OK)
            goto jsec_failed;
    }
    /* Pass 2 (or the only pass): encrypt and write as the output is ready. */
    if ((st = run_pass(enc, &s, out, &written)) != JSEC_OK) goto jsec_failed;
    printf("stream_camera: wrote %zu encrypted bytes (%s)\n", written,
           use_nonce ? "one pass, caller nonce" : "two passes, file seed");
    rc = 0;
    goto done;

jsec_failed:
    /* A C-side failure (I/O, memory) was already reported with perror and
     * left no jsec message. */
    if (jsec_last_error()[0] != '\0')
        fprintf(stderr, "stream_camera: %s: %s\n", jsec_status_str((int)st), jsec_last_error());
done:
    if (s.f != NULL) fclose(s.f);
    if (out != NULL && fclose(out) != 0) {
        perror(argv[3]);
        rc = 1;
    }
    /* An encrypted file that stopped half-way is useless: remove it. */
    if (rc != 0 && out != NULL) remove_partial(argv[3]);
    jsec_fspe_stream_free(digest);
    jsec_fspe_stream_free(enc);
    jsec_fspe_cipher_free(cipher);
    jsec_fspe_options_free(options);
    jsec_key_free(key);
    return rc;
}
