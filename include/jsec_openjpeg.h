/*
 * jsec_openjpeg.h: header-only glue between OpenJPEG's libopenjp2 (2.1 and
 * later) and jsec's JPSEC protection of JPEG 2000 codestreams.
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 *
 * Everything here is a `static inline` function compiled into the
 * application: libjsec itself never links against libopenjp2, and the
 * application links libopenjp2 and libjsec as usual. This header includes
 * <openjpeg.h> and "jsec.h" itself. C99 or later, and C++.
 *
 * What it offers:
 *
 *   (1) A writer: jsec_opj_writer_new() makes an in-memory output
 *       opj_stream_t (jsec_opj_writer_stream()) to give to
 *       opj_start_compress(), opj_encode() and opj_end_compress().
 *       jsec_opj_writer_finish() then protects the codestream OpenJPEG wrote
 *       with jsec_jpsec_protect() and the writer's policy, and writes the
 *       protected file to the writer's path: first to "<path>.partial",
 *       then renamed, so that `path` never holds a partial file.
 *
 *         jsec_opj_writer *w = NULL;
 *         jsec_opj_writer_new(policy, "out.j2k", &w);
 *         opj_start_compress(codec, image, jsec_opj_writer_stream(w));
 *         opj_encode(codec, jsec_opj_writer_stream(w));
 *         opj_end_compress(codec, jsec_opj_writer_stream(w));
 *         jsec_opj_writer_finish(w);     // protect, write out.j2k
 *         jsec_opj_writer_free(w);
 *
 *   (2) A reader: jsec_opj_reader_new() reads a protected file, consumes it
 *       with jsec_jpsec_consume() (verifying, and decrypting what the keys
 *       open), and jsec_opj_reader_stream() gives an input opj_stream_t
 *       over the consumed bytes for opj_read_header() and opj_decode().
 *
 *         jsec_opj_reader *r = NULL;
 *         const jsec_jpsec_report *report = NULL;
 *         if (jsec_opj_reader_new("in.j2k", keys, &r, &report) == JSEC_OK) {
 *             opj_read_header(jsec_opj_reader_stream(r), codec, &image);
 *             opj_decode(codec, jsec_opj_reader_stream(r), image);
 *             opj_end_decompress(codec, jsec_opj_reader_stream(r));
 *         }
 *         jsec_jpsec_report_free(report);
 *         jsec_opj_reader_free(r);
 *
 * Ownership. Each glue object owns its OpenJPEG stream: the stream is
 * created with opj_stream_create() and its user data points at the glue
 * object itself, registered with no free function
 * (opj_stream_set_user_data(stream, glue, NULL)). Never call
 * opj_stream_destroy() or opj_stream_set_user_data*() on it: the glue's
 * _free() destroys the stream, then releases its buffers and itself. The
 * pointer from jsec_opj_writer_stream() / jsec_opj_reader_stream() is valid
 * until the glue's _free() (for the reader: or its next _rewind()). A
 * stream serves one encode or one decode: use jsec_opj_reader_rewind() to
 * decode the same bytes again. The glue objects' fields are private.
 *
 * Threads. A glue object is used by one thread at a time (it may move
 * between threads). The writer only reads its policy, in
 * jsec_opj_writer_finish(); the policy must stay alive and unchanged until
 * then. The reader copies what it needs: the keys may be freed after
 * jsec_opj_reader_new().
 *
 * Errors. Every function returns a jsec_status (the _stream() accessors
 * return the stream, the _free() functions nothing). When the status comes
 * from a jsec call, jsec_last_error() describes it. Failures of the glue
 * itself leave jsec_last_error() as it was and mean:
 *   JSEC_ERR_INVALID_ARGUMENT  a NULL argument (where not allowed);
 *   JSEC_ERR_INVALID_STATE     jsec_opj_writer_finish() on a writer that
 *                              was finished already, or to which OpenJPEG
 *                              wrote nothing;
 *   JSEC_ERR_IO                a file could not be read or written (errno
 *                              tells why);
 *   JSEC_ERR_INTERNAL          memory ran out, or libopenjp2 could not make
 *                              a stream (jsec defines no out-of-memory
 *                              status; the glue reports allocation failure
 *                              as an internal failure).
 * As everywhere in jsec, outputs are written only on success, except the
 * report of jsec_opj_reader_new(), made as jsec_jpsec_consume() makes it
 * (also when a verification fails).
 */
#ifndef JSEC_OPENJPEG_H
#define JSEC_OPENJPEG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openjpeg.h>

#include "jsec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Buffer size of the OpenJPEG streams the glue makes (bytes). */
#define JSEC_OPJ_STREAM_CHUNK ((OPJ_SIZE_T)65536)

/** Suffix of the temporary file jsec_opj_writer_finish() writes first. */
#define JSEC_OPJ_PARTIAL_SUFFIX ".partial"

/**
 * A protecting writer (jsec_opj_writer_new()). The fields are private.
 */
typedef struct jsec_opj_writer {
    const jsec_jpsec_policy *policy; /* borrowed until finish */
    char *path;                      /* copy of the destination path */
    unsigned char *data;             /* what OpenJPEG wrote (malloc'd) */
    size_t len, cap, pos;            /* bytes written, allocated, position */
    int out_of_memory;               /* a write could not grow `data` */
    int finished;                    /* jsec_opj_writer_finish() was called */
    opj_stream_t *stream;            /* owned; user data = this writer */
} jsec_opj_writer;

/**
 * A consuming reader (jsec_opj_reader_new()). The fields are private.
 */
typedef struct jsec_opj_reader {
    jsec_buffer *consumed;   /* the consumed file (owned) */
    const uint8_t *data;     /* its bytes */
    size_t len, pos;         /* their number, the read position */
    opj_stream_t *stream;    /* owned; user data = this reader */
} jsec_opj_reader;

/* ---- writer callbacks (OpenJPEG calls them with the writer as user data) */

static inline OPJ_SIZE_T jsec_opj_writer_write_(void *buf, OPJ_SIZE_T n, void *user) {
    jsec_opj_writer *w = (jsec_opj_writer *)user;
    size_t end;
    if (n > SIZE_MAX - w->pos) {
        w->out_of_memory = 1;
        return (OPJ_SIZE_T)-1;
    }
    end = w->pos + n;
    if (end > w->cap) {
        size_t cap = w->cap > 0 ? w->cap : (size_t)JSEC_OPJ_STREAM_CHUNK;
        unsigned char *more;
        while (cap < end) cap = cap > SIZE_MAX / 2 ? end : cap * 2;
        more = (unsigned char *)realloc(w->data, cap);
        if (more == NULL) {
            w->out_of_memory = 1;
            return (OPJ_SIZE_T)-1;
        }
        w->data = more;
        w->cap = cap;
    }
    /* After a skip or seek past the end, the gap reads as zeros. */
    if (w->pos > w->len) memset(w->data + w->len, 0, w->pos - w->len);
    if (n > 0) memcpy(w->data + w->pos, buf, n);
    w->pos = end;
    if (end > w->len) w->len = end;
    return n;
}

static inline OPJ_OFF_T jsec_opj_writer_skip_(OPJ_OFF_T n, void *user) {
    jsec_opj_writer *w = (jsec_opj_writer *)user;
    if (n < 0 ? (size_t)(-(n + 1)) >= w->pos : (uint64_t)n > (uint64_t)(SIZE_MAX - w->pos))
        return (OPJ_OFF_T)-1;
    w->pos = n < 0 ? w->pos - (size_t)(-(n + 1)) - 1 : w->pos + (size_t)n;
    return n;
}

static inline OPJ_BOOL jsec_opj_writer_seek_(OPJ_OFF_T n, void *user) {
    jsec_opj_writer *w = (jsec_opj_writer *)user;
    if (n < 0 || (uint64_t)n > (uint64_t)SIZE_MAX) return OPJ_FALSE;
    w->pos = (size_t)n;
    return OPJ_TRUE;
}

/**
 * Make a writer that protects with `policy` and writes to `path`. The
 * policy is borrowed (it must stay alive and unchanged until
 * jsec_opj_writer_finish()); `path` is copied. On success `*out` receives
 * the writer, freed with jsec_opj_writer_free(); on failure `*out` is not
 * written. NULL arguments are JSEC_ERR_INVALID_ARGUMENT; JSEC_ERR_INTERNAL
 * when memory runs out or OpenJPEG cannot make the stream.
 */
static inline jsec_status jsec_opj_writer_new(const jsec_jpsec_policy *policy, const char *path,
                                              jsec_opj_writer **out) {
    jsec_opj_writer *w;
    size_t n;
    if (policy == NULL || path == NULL || out == NULL) return JSEC_ERR_INVALID_ARGUMENT;
    w = (jsec_opj_writer *)calloc(1, sizeof *w);
    if (w == NULL) return JSEC_ERR_INTERNAL;
    n = strlen(path) + 1;
    w->path = (char *)malloc(n);
    w->stream = opj_stream_create(JSEC_OPJ_STREAM_CHUNK, OPJ_FALSE);
    if (w->path == NULL || w->stream == NULL) {
        if (w->stream != NULL) opj_stream_destroy(w->stream);
        free(w->path);
        free(w);
        return JSEC_ERR_INTERNAL;
    }
    memcpy(w->path, path, n);
    w->policy = policy;
    opj_stream_set_user_data(w->stream, w, NULL);
    opj_stream_set_write_function(w->stream, jsec_opj_writer_write_);
    opj_stream_set_skip_function(w->stream, jsec_opj_writer_skip_);
    opj_stream_set_seek_function(w->stream, jsec_opj_writer_seek_);
    *out = w;
    return JSEC_OK;
}

/**
 * The output stream to give to opj_start_compress(), opj_encode() and
 * opj_end_compress(); owned by the writer (valid until
 * jsec_opj_writer_free()). NULL when `w` is NULL.
 */
static inline opj_stream_t *jsec_opj_writer_stream(jsec_opj_writer *w) {
    return w != NULL ? w->stream : NULL;
}

/**
 * The codestream OpenJPEG wrote, before protection: `*data` points into the
 * writer (valid until jsec_opj_writer_free(); never write through it),
 * `*len` is its length (0 before opj_end_compress()). NULL arguments are
 * JSEC_ERR_INVALID_ARGUMENT.
 */
static inline jsec_status jsec_opj_writer_codestream(const jsec_opj_writer *w,
                                                     const uint8_t **data, size_t *len) {
    if (w == NULL || data == NULL || len == NULL) return JSEC_ERR_INVALID_ARGUMENT;
    *data = w->data;
    *len = w->len;
    return JSEC_OK;
}

/**
 * After opj_end_compress(): protect the codestream with the writer's policy
 * (jsec_jpsec_protect(); its errors are returned as they are, with
 * jsec_last_error()) and write the protected file to the writer's path:
 * first to "<path>.partial", which is then renamed to `path` (replacing
 * it), so `path` never holds a partial file. On failure nothing is left at
 * either name (an existing file at `path` is kept). Call it once:
 * a finished writer, or one OpenJPEG wrote nothing to, is
 * JSEC_ERR_INVALID_STATE; JSEC_ERR_INTERNAL when a write of OpenJPEG ran
 * out of memory or the temporary name cannot be made; JSEC_ERR_IO when the
 * file cannot be written (errno tells why). NULL `w` is
 * JSEC_ERR_INVALID_ARGUMENT.
 */
static inline jsec_status jsec_opj_writer_finish(jsec_opj_writer *w) {
    jsec_buffer *prot = NULL;
    const uint8_t *bytes = NULL;
    size_t n = 0, plen;
    char *tmp;
    FILE *f;
    jsec_status st;
    int ok;
    if (w == NULL) return JSEC_ERR_INVALID_ARGUMENT;
    if (w->finished || w->len == 0) return JSEC_ERR_INVALID_STATE;
    w->finished = 1;
    if (w->out_of_memory) return JSEC_ERR_INTERNAL;
    st = jsec_jpsec_protect(w->policy, w->data, w->len, &prot);
    if (st != JSEC_OK) return st;
    st = jsec_buffer_data(prot, &bytes, &n);
    if (st != JSEC_OK) {
        jsec_buffer_free(prot);
        return st;
    }
    plen = strlen(w->path);
    tmp = (char *)malloc(plen + sizeof JSEC_OPJ_PARTIAL_SUFFIX);
    if (tmp == NULL) {
        jsec_buffer_free(prot);
        return JSEC_ERR_INTERNAL;
    }
    memcpy(tmp, w->path, plen);
    memcpy(tmp + plen, JSEC_OPJ_PARTIAL_SUFFIX, sizeof JSEC_OPJ_PARTIAL_SUFFIX);
    f = fopen(tmp, "wb");
    ok = f != NULL;
    if (ok) {
        ok = fwrite(bytes, 1, n, f) == n;
        ok = fclose(f) == 0 && ok;
    }
    jsec_buffer_free(prot);
    /* rename() replaces an existing file on POSIX systems; elsewhere (Windows)
     * it fails, and the old file is removed first. */
    if (ok && rename(tmp, w->path) != 0)
        ok = remove(w->path) == 0 && rename(tmp, w->path) == 0;
    if (!ok) remove(tmp);
    free(tmp);
    return ok ? JSEC_OK : JSEC_ERR_IO;
}

/**
 * Release a writer (NULL is a no-op): destroys its OpenJPEG stream (do not
 * call opj_stream_destroy() on it yourself) and frees its buffers. Nothing
 * is written to the file unless jsec_opj_writer_finish() was called.
 */
static inline void jsec_opj_writer_free(jsec_opj_writer *w) {
    if (w == NULL) return;
    if (w->stream != NULL) opj_stream_destroy(w->stream);
    free(w->data);
    free(w->path);
    free(w);
}

/* ---- reader callbacks (OpenJPEG calls them with the reader as user data) */

static inline OPJ_SIZE_T jsec_opj_reader_read_(void *buf, OPJ_SIZE_T n, void *user) {
    jsec_opj_reader *r = (jsec_opj_reader *)user;
    size_t left = r->len - r->pos;
    if (left == 0) return (OPJ_SIZE_T)-1; /* end of stream */
    if (n > left) n = left;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return n;
}

static inline OPJ_OFF_T jsec_opj_reader_skip_(OPJ_OFF_T n, void *user) {
    jsec_opj_reader *r = (jsec_opj_reader *)user;
    if (n < 0) {
        if ((size_t)(-(n + 1)) >= r->pos) return (OPJ_OFF_T)-1;
        r->pos -= (size_t)(-(n + 1)) + 1;
        return n;
    }
    if ((uint64_t)n > (uint64_t)(r->len - r->pos)) n = (OPJ_OFF_T)(r->len - r->pos);
    r->pos += (size_t)n;
    return n;
}

static inline OPJ_BOOL jsec_opj_reader_seek_(OPJ_OFF_T n, void *user) {
    jsec_opj_reader *r = (jsec_opj_reader *)user;
    if (n < 0 || (uint64_t)n > (uint64_t)r->len) return OPJ_FALSE;
    r->pos = (size_t)n;
    return OPJ_TRUE;
}

/* A fresh input stream over the reader's bytes, at their start. */
static inline opj_stream_t *jsec_opj_reader_make_stream_(jsec_opj_reader *r) {
    opj_stream_t *s = opj_stream_create(JSEC_OPJ_STREAM_CHUNK, OPJ_TRUE);
    if (s == NULL) return NULL;
    r->pos = 0;
    opj_stream_set_user_data(s, r, NULL);
    opj_stream_set_user_data_length(s, (OPJ_UINT64)r->len);
    opj_stream_set_read_function(s, jsec_opj_reader_read_);
    opj_stream_set_skip_function(s, jsec_opj_reader_skip_);
    opj_stream_set_seek_function(s, jsec_opj_reader_seek_);
    return s;
}

/* Read the whole file at `path` into a malloc'd buffer. */
static inline jsec_status jsec_opj_read_file_(const char *path, unsigned char **data,
                                              size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    if (f == NULL) return JSEC_ERR_IO;
    for (;;) {
        if (n == cap) {
            unsigned char *more;
            if (cap > SIZE_MAX / 2) {
                free(buf);
                fclose(f);
                return JSEC_ERR_INTERNAL;
            }
            cap = cap > 0 ? cap * 2 : (size_t)JSEC_OPJ_STREAM_CHUNK;
            more = (unsigned char *)realloc(buf, cap);
            if (more == NULL) {
                free(buf);
                fclose(f);
                return JSEC_ERR_INTERNAL;
            }
            buf = more;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return JSEC_ERR_IO;
    }
    fclose(f);
    *data = buf;
    *len = n;
    return JSEC_OK;
}

/**
 * Read the JPSEC-protected file at `path` and consume it with
 * jsec_jpsec_consume() and `keys` (NULL: no keys; the reader keeps nothing
 * of them). On success `*out` receives a reader, freed with
 * jsec_opj_reader_free(), whose stream serves the consumed codestream: the
 * original one when the keys opened every packet, else the file with the
 * packets they open in clear. `report` (may be NULL) receives the
 * consumption report as jsec_jpsec_consume() makes it, also on
 * JSEC_ERR_VERIFICATION_FAILED (then no reader is made); free it with
 * jsec_jpsec_report_free(). The statuses of jsec_jpsec_consume() are
 * returned as they are; JSEC_ERR_IO when the file cannot be read (errno
 * tells why), JSEC_ERR_INTERNAL when memory runs out or OpenJPEG cannot
 * make the stream; NULL `path` or `out` is JSEC_ERR_INVALID_ARGUMENT.
 */
static inline jsec_status jsec_opj_reader_new(const char *path, const jsec_jpsec_keys *keys,
                                              jsec_opj_reader **out,
                                              const jsec_jpsec_report **report) {
    unsigned char *file = NULL;
    size_t flen = 0;
    jsec_buffer *consumed = NULL;
    const jsec_jpsec_report *rep = NULL;
    jsec_opj_reader *r;
    jsec_status st;
    if (path == NULL || out == NULL) return JSEC_ERR_INVALID_ARGUMENT;
    st = jsec_opj_read_file_(path, &file, &flen);
    if (st != JSEC_OK) return st;
    st = jsec_jpsec_consume(file, flen, keys, &consumed, report != NULL ? &rep : NULL);
    free(file);
    if (st != JSEC_OK) {
        if (report != NULL && rep != NULL) *report = rep;
        return st;
    }
    r = (jsec_opj_reader *)calloc(1, sizeof *r);
    if (r == NULL) {
        jsec_buffer_free(consumed);
        jsec_jpsec_report_free(rep);
        return JSEC_ERR_INTERNAL;
    }
    r->consumed = consumed;
    st = jsec_buffer_data(consumed, &r->data, &r->len);
    if (st == JSEC_OK) {
        r->stream = jsec_opj_reader_make_stream_(r);
        if (r->stream == NULL) st = JSEC_ERR_INTERNAL;
    }
    if (st != JSEC_OK) {
        jsec_buffer_free(consumed);
        jsec_jpsec_report_free(rep);
        free(r);
        return st;
    }
    if (report != NULL) *report = rep;
    *out = r;
    return JSEC_OK;
}

/**
 * The input stream to give to opj_read_header(), opj_decode() and
 * opj_end_decompress(), over the consumed bytes; owned by the reader (valid
 * until jsec_opj_reader_free() or jsec_opj_reader_rewind()). NULL when `r`
 * is NULL.
 */
static inline opj_stream_t *jsec_opj_reader_stream(jsec_opj_reader *r) {
    return r != NULL ? r->stream : NULL;
}

/**
 * Replace the reader's stream by a fresh one at the start of the consumed
 * bytes, to decode them again (an OpenJPEG stream serves one decode). The
 * previous stream is destroyed: it must no longer be in use. On failure
 * (JSEC_ERR_INTERNAL) the previous stream is kept. NULL `r` is
 * JSEC_ERR_INVALID_ARGUMENT.
 */
static inline jsec_status jsec_opj_reader_rewind(jsec_opj_reader *r) {
    opj_stream_t *s;
    if (r == NULL) return JSEC_ERR_INVALID_ARGUMENT;
    s = jsec_opj_reader_make_stream_(r);
    if (s == NULL) return JSEC_ERR_INTERNAL;
    opj_stream_destroy(r->stream);
    r->stream = s;
    return JSEC_OK;
}

/**
 * The consumed bytes the reader serves: `*data` points into the reader
 * (valid until jsec_opj_reader_free(); never write through it), `*len` is
 * their length. NULL arguments are JSEC_ERR_INVALID_ARGUMENT.
 */
static inline jsec_status jsec_opj_reader_data(const jsec_opj_reader *r, const uint8_t **data,
                                               size_t *len) {
    if (r == NULL || data == NULL || len == NULL) return JSEC_ERR_INVALID_ARGUMENT;
    *data = r->data;
    *len = r->len;
    return JSEC_OK;
}

/**
 * Release a reader (NULL is a no-op): destroys its OpenJPEG stream (do not
 * call opj_stream_destroy() on it yourself) and the consumed bytes.
 */
static inline void jsec_opj_reader_free(jsec_opj_reader *r) {
    if (r == NULL) return;
    if (r->stream != NULL) opj_stream_destroy(r->stream);
    jsec_buffer_free(r->consumed);
    free(r);
}

#ifdef __cplusplus
}
#endif

#endif /* JSEC_OPENJPEG_H */
