/*
 * jsec_libjpeg.h: header-only glue between libjpeg (libjpeg-turbo, IJG
 * libjpeg 6b..9) and jsec's file-size-preserving encryption (FSPE) and
 * croppable signatures.
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 *
 * Everything here is a `static inline` function compiled into the
 * application: libjsec itself never links against libjpeg, and the
 * application links libjpeg and libjsec as usual. Include order does not
 * matter: this header includes <stdio.h>, <jpeglib.h>, <jerror.h> and
 * "jsec.h" itself.
 *
 * What it offers:
 *
 *   (a) Destination managers, like jpeg_stdio_dest() / jpeg_mem_dest():
 *       jsec_jpeg_stdio_dest() and jsec_jpeg_mem_dest() collect everything
 *       libjpeg writes, encrypt the finished file in place when
 *       jpeg_finish_compress() terminates the destination, and only then
 *       hand the protected file to a FILE* or a malloc'd buffer. The output
 *       has exactly the size the same compression would have had without
 *       jsec, and is a valid JPEG.
 *
 *   (b) Source managers, like jpeg_stdio_src() / jpeg_mem_src():
 *       jsec_jpeg_stdio_src() and jsec_jpeg_mem_src() read a protected JPEG
 *       (the whole file: FSPE needs all of it), decrypt it with the cipher
 *       when jpeg_read_header() starts, and serve the plain bytes.
 *
 *   Signing mode: jsec_jpeg_stdio_sign_dest() and jsec_jpeg_mem_sign_dest()
 *       sign the finished file instead (croppable signature in COM
 *       segments, image data untouched): a camera signs while encoding.
 *
 *   Verifying mode: jsec_jpeg_stdio_verify_src() and
 *       jsec_jpeg_mem_verify_src() verify the file's signature when
 *       jpeg_read_header() starts and decode it only if it is valid.
 *
 *   (c) Per-scan processing for applications that handle one scan at a time:
 *       jsec_jpeg_find_scan() locates a scan's entropy-coded data in a
 *       buffer and jsec_jpeg_process_scan() encrypts or decrypts it in place
 *       (a wrapper of jsec_fspe_cipher_process_scan()); jsec_jpeg_sign_scan()
 *       hands each scan to a signing session (jsec_sign_session_new()), which
 *       signs every row of cells as soon as its blocks are complete, and
 *       jsec_sign_session_finish() gives the signed file after the last.
 *
 * Errors. jsec never sees libjpeg's error handler: every jsec call returns a
 * jsec_status to the C code in this header first. On failure the status and
 * the full message (jsec_last_error()) are stored in the manager's
 * jsec_jpeg_error record, and only then is libjpeg's error_exit called (from
 * this header's C frame, never across Rust). The libjpeg message reads
 * "jsec: JSEC_ERR_...: <start of the jsec message, without the function
 * name>" (libjpeg keeps at most 79 characters of a string parameter); the
 * complete text stays in the record until the libjpeg object is destroyed.
 * As with any libjpeg error, call jpeg_abort_*() (or jpeg_destroy_*()) before
 * using the object again:
 *
 *     if (setjmp(my_err.jump)) {                          // error_exit landed here
 *         const jsec_jpeg_error *e = jsec_jpeg_dest_error(&cinfo);
 *         if (e != NULL && e->status != JSEC_OK)
 *             fprintf(stderr, "%s: %s\n", jsec_status_str(e->status), e->message);
 *         jpeg_destroy_compress(&cinfo);                  // frees the record
 *         ...
 *     }
 *
 * To produce that message this header installs a one-entry
 * addon_message_table in the jpeg_error_mgr when the application has none.
 * An application with its own addon table keeps it; the libjpeg message is
 * then "Bogus message code 7xxx" (7000 + the jsec_status) and the record has
 * the text. Non-jsec failures (out of memory, a failed fwrite) use libjpeg's
 * own codes (JERR_OUT_OF_MEMORY, JERR_FILE_WRITE, JERR_FILE_READ ...) and
 * leave the record's status JSEC_OK.
 *
 * Memory. The managers and their working buffers come from libjpeg's memory
 * pools: the manager from JPOOL_PERMANENT (like jpeg_stdio_dest), the
 * buffers holding the file from JPOOL_IMAGE. So nothing leaks when
 * compression or decompression fails, is aborted or destroyed at any point;
 * jpeg_finish_*, jpeg_abort_* and jpeg_destroy_* release the buffers. The
 * whole file is held in memory: the destination grows its buffer by
 * doubling and the pool keeps the outgrown buffers until the image is done,
 * so compression peaks below four times the file size (plus the malloc'd
 * result of jsec_jpeg_mem_dest); a memory source holds one copy of the
 * file, a FILE* source reads in doubling steps like the destination. Files up to
 * JSEC_JPEG_MAX_FILE bytes are handled. For bounded memory use the stream
 * API (jsec_fspe_stream_*) instead.
 *
 * Thread safety: as libjpeg's, one object per thread; a cipher may be shared
 * by several threads (it is immutable).
 */
#ifndef JSEC_LIBJPEG_H
#define JSEC_LIBJPEG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "jsec.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest file the managers handle: libjpeg refuses larger pool objects
 *  (MAX_ALLOC_CHUNK, 10^9 bytes) and the buffer needs a little headroom. */
#define JSEC_JPEG_MAX_FILE ((size_t)900000000u)

/** Capacity of jsec_jpeg_error.message, NUL included. */
#define JSEC_JPEG_MESSAGE_MAX 512

/** The libjpeg message code this header raises jsec failures with (its
 *  addon_message_table has this one entry). */
#define JSEC_JPEG_MSG_CODE 7000

/** The last jsec failure of a manager. Owned by the manager (in the libjpeg
 *  object's permanent pool): valid until jpeg_destroy_*(). */
typedef struct jsec_jpeg_error {
    /** JSEC_OK, or the status of the jsec call that failed. */
    jsec_status status;
    /** NUL-terminated; "" when status is JSEC_OK. The jsec message, cut to
     *  the capacity if longer. */
    char message[JSEC_JPEG_MESSAGE_MAX];
} jsec_jpeg_error;

/* ------------------------------------------------------------------------- */
/* Shared helpers                                                             */
/* ------------------------------------------------------------------------- */

/** The addon message table: one entry, "%s" filled with the status name and
 *  the start of the message. */
static inline const char *const *jsec_jpeg_message_table_(void) {
    static const char *const table[] = {"jsec: %s"};
    return table;
}

/** Record a failure of the jsec call that just returned `status`. */
static inline void jsec_jpeg_record_(jsec_jpeg_error *err, jsec_status status) {
    const char *text = jsec_last_error();
    err->status = status;
    if (text == NULL) text = "";
    strncpy(err->message, text, JSEC_JPEG_MESSAGE_MAX - 1);
    err->message[JSEC_JPEG_MESSAGE_MAX - 1] = '\0';
}

/** Raise the failure in `err` through libjpeg's error_exit (which does not
 *  return). Call only after the jsec call has returned. */
static inline void jsec_jpeg_raise_(j_common_ptr cinfo, const jsec_jpeg_error *err) {
    struct jpeg_error_mgr *jerr = cinfo->err;
    const char *text = err->message, *colon = strstr(text, ": ");
    /* libjpeg keeps 79 characters: drop the "jsec_function_name: " prefix. */
    if (strncmp(text, "jsec_", 5) == 0 && colon != NULL && colon - text < 48) text = colon + 2;
    if (jerr->addon_message_table == NULL ||
        (jerr->first_addon_message == JSEC_JPEG_MSG_CODE &&
         jerr->last_addon_message == JSEC_JPEG_MSG_CODE)) {
        jerr->addon_message_table = jsec_jpeg_message_table_();
        jerr->first_addon_message = JSEC_JPEG_MSG_CODE;
        jerr->last_addon_message = JSEC_JPEG_MSG_CODE;
        jerr->msg_code = JSEC_JPEG_MSG_CODE;
        snprintf(jerr->msg_parm.s, JMSG_STR_PARM_MAX, "%s: %s",
                 jsec_status_str((int)err->status), text);
    } else {
        jerr->msg_code = 0; /* JMSG_NOMESSAGE: "Bogus message code %d" */
        jerr->msg_parm.i[0] = JSEC_JPEG_MSG_CODE + (int)err->status;
    }
    (*jerr->error_exit)(cinfo);
}

/** A JPOOL_IMAGE buffer of at least `want` bytes holding the first `keep`
 *  bytes of `old` (NULL when keep is 0). The old buffer stays in the pool
 *  until the pool is freed. Raises JERR_OUT_OF_MEMORY beyond the limit. */
static inline JOCTET *jsec_jpeg_grow_(j_common_ptr cinfo, const JOCTET *old, size_t keep,
                                      size_t want, size_t *cap) {
    size_t n = *cap ? *cap : 65536;
    JOCTET *fresh;
    if (want > JSEC_JPEG_MAX_FILE) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    while (n < want) n = n > JSEC_JPEG_MAX_FILE / 2 ? JSEC_JPEG_MAX_FILE : n * 2;
    fresh = (JOCTET *)(*cinfo->mem->alloc_large)(cinfo, JPOOL_IMAGE, n);
    if (keep > 0) memcpy(fresh, old, keep);
    *cap = n;
    return fresh;
}

/* ------------------------------------------------------------------------- */
/* (a) Destination managers: compress, then encrypt in place                  */
/* ------------------------------------------------------------------------- */

/** The destination manager behind cinfo->dest after jsec_jpeg_stdio_dest() or
 *  jsec_jpeg_mem_dest(). Allocated in the permanent pool of `cinfo`; valid
 *  until jpeg_destroy_compress(). Fields are read-only for the application. */
typedef struct jsec_jpeg_dest_mgr {
    /** libjpeg's part; must come first. */
    struct jpeg_destination_mgr pub;
    /** Borrowed: must stay alive until jpeg_finish_compress() returns. */
    const jsec_fspe_cipher *cipher;
    /** Signing mode (instead of encryption): the borrowed key and options
     *  (options may be NULL), alive until jpeg_finish_compress() returns. */
    const jsec_sign_key *sign_key;
    const jsec_sign_options *sign_options;
    /** stdio mode: the borrowed output file (never closed here). */
    FILE *outfile;
    /** memory mode: where the malloc'd result and its size are stored. */
    unsigned char **outbuffer;
    size_t *outsize;
    /** The file being collected (JPOOL_IMAGE) and its capacity. */
    JOCTET *data;
    size_t cap;
    /** After a successful jpeg_finish_compress(): the file's size and the
     *  number of additional bits encrypted in the primary image. */
    size_t file_size;
    unsigned long long encrypted_bits;
    /** The last jsec failure (status JSEC_OK when there was none). */
    jsec_jpeg_error error;
} jsec_jpeg_dest_mgr;

static inline void jsec_jpeg_dest_init_(j_compress_ptr cinfo) {
    jsec_jpeg_dest_mgr *d = (jsec_jpeg_dest_mgr *)cinfo->dest;
    d->cap = 0;
    d->data = jsec_jpeg_grow_((j_common_ptr)cinfo, NULL, 0, 65536, &d->cap);
    d->pub.next_output_byte = d->data;
    d->pub.free_in_buffer = d->cap;
    d->file_size = 0;
    d->encrypted_bits = 0;
    d->error.status = JSEC_OK;
    d->error.message[0] = '\0';
}

static inline boolean jsec_jpeg_dest_empty_(j_compress_ptr cinfo) {
    jsec_jpeg_dest_mgr *d = (jsec_jpeg_dest_mgr *)cinfo->dest;
    /* libjpeg calls this when the buffer is full, whatever free_in_buffer says. */
    size_t used = d->cap;
    d->data = jsec_jpeg_grow_((j_common_ptr)cinfo, d->data, used, used + 1, &d->cap);
    d->pub.next_output_byte = d->data + used;
    d->pub.free_in_buffer = d->cap - used;
    return TRUE;
}

/* Hand the finished file (`len` bytes at `bytes`) to the FILE* or to a new
 * malloc'd buffer. Returns 0, or the libjpeg error code to raise (the caller
 * raises it once it holds nothing that would leak). */
static inline int jsec_jpeg_dest_put_(jsec_jpeg_dest_mgr *d, const unsigned char *bytes,
                                      size_t len) {
    if (d->outfile != NULL) {
        if (len > 0 && fwrite(bytes, 1, len, d->outfile) != len) return JERR_FILE_WRITE;
        if (fflush(d->outfile) != 0 || ferror(d->outfile)) return JERR_FILE_WRITE;
    } else {
        unsigned char *out = (unsigned char *)malloc(len > 0 ? len : 1);
        if (out == NULL) return JERR_OUT_OF_MEMORY;
        memcpy(out, bytes, len);
        *d->outbuffer = out;
        *d->outsize = len;
    }
    d->file_size = len;
    return 0;
}

static inline void jsec_jpeg_dest_raise_put_(j_compress_ptr cinfo, int code) {
    if (code == JERR_OUT_OF_MEMORY) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 2);
    if (code != 0) ERREXIT(cinfo, code);
}

static inline void jsec_jpeg_dest_term_(j_compress_ptr cinfo) {
    jsec_jpeg_dest_mgr *d = (jsec_jpeg_dest_mgr *)cinfo->dest;
    size_t len = d->cap - d->pub.free_in_buffer;
    jsec_fspe_report *report = NULL;
    jsec_fspe_image_info info;
    jsec_status st;
    if (d->sign_key != NULL) {
        jsec_buffer *signed_file = NULL;
        const uint8_t *bytes = NULL;
        size_t n = 0;
        st = jsec_sign_jpeg(d->sign_key, d->sign_options, d->data, len, &signed_file);
        int code;
        if (st == JSEC_OK) st = jsec_buffer_data(signed_file, &bytes, &n);
        if (st != JSEC_OK) {
            jsec_jpeg_record_(&d->error, st);
            jsec_buffer_free(signed_file);
            jsec_jpeg_raise_((j_common_ptr)cinfo, &d->error);
            return; /* not reached */
        }
        code = jsec_jpeg_dest_put_(d, bytes, n);
        jsec_buffer_free(signed_file); /* before any longjmp */
        jsec_jpeg_dest_raise_put_(cinfo, code);
        return;
    }
    st = jsec_fspe_cipher_encrypt(d->cipher, d->data, len, &report);
    if (st != JSEC_OK) {
        jsec_jpeg_record_(&d->error, st);
        jsec_jpeg_raise_((j_common_ptr)cinfo, &d->error);
        return; /* not reached: error_exit does not return */
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (jsec_fspe_report_image(report, 0, &info) == JSEC_OK)
        d->encrypted_bits = (unsigned long long)info.encrypted_bits;
    jsec_fspe_report_free(report);
    jsec_jpeg_dest_raise_put_(cinfo, jsec_jpeg_dest_put_(d, d->data, len));
}

static inline jsec_jpeg_dest_mgr *jsec_jpeg_dest_setup_(j_compress_ptr cinfo,
                                                       const jsec_fspe_cipher *cipher) {
    jsec_jpeg_dest_mgr *d;
    /* Reuse our manager if cinfo already has one (like jpeg_stdio_dest). */
    if (cinfo->dest == NULL ||
        cinfo->dest->init_destination != jsec_jpeg_dest_init_) {
        cinfo->dest = (struct jpeg_destination_mgr *)(*cinfo->mem->alloc_small)(
            (j_common_ptr)cinfo, JPOOL_PERMANENT, sizeof(jsec_jpeg_dest_mgr));
    }
    d = (jsec_jpeg_dest_mgr *)cinfo->dest;
    memset(d, 0, sizeof *d);
    d->pub.init_destination = jsec_jpeg_dest_init_;
    d->pub.empty_output_buffer = jsec_jpeg_dest_empty_;
    d->pub.term_destination = jsec_jpeg_dest_term_;
    d->cipher = cipher;
    d->error.status = JSEC_OK;
    return d;
}

/**
 * Compress into `outfile`, encrypted with `cipher` (the FILE* counterpart of
 * jpeg_stdio_dest()). Call after jpeg_create_compress(), before
 * jpeg_start_compress() (or jpeg_write_coefficients()).
 *
 * Nothing is written to `outfile` until jpeg_finish_compress(): then the
 * whole file is encrypted in memory and written with one fwrite() and an
 * fflush(). `outfile` is borrowed (open for binary writing; not closed here).
 * `cipher` is borrowed and must stay alive until jpeg_finish_compress()
 * returns; it must be made with key level 0 (encryption). If encryption fails
 * nothing is written, the failure is stored (jsec_jpeg_dest_error()) and
 * raised through cinfo->err->error_exit. Not for tables-only datastreams
 * (jpeg_write_tables()): jsec needs a complete image.
 *
 * A compressor may switch to a jsec destination from any other one (a jsec
 * manager is reused, another is replaced). The reverse is libjpeg-turbo's
 * business: its jpeg_stdio_dest()/jpeg_mem_dest() refuse a compressor whose
 * manager they did not make (JERR_BUFFER_SIZE), so keep one compressor per
 * kind of destination.
 */
static inline void jsec_jpeg_stdio_dest(j_compress_ptr cinfo, const jsec_fspe_cipher *cipher,
                                        FILE *outfile) {
    jsec_jpeg_dest_mgr *d = jsec_jpeg_dest_setup_(cinfo, cipher);
    d->outfile = outfile;
}

/**
 * Compress into memory, encrypted with `cipher` (the counterpart of
 * jpeg_mem_dest()).
 *
 * On success jpeg_finish_compress() stores in `*outbuffer` a new buffer of
 * `*outsize` bytes, allocated with malloc(): the caller owns it and frees it
 * with free(). Unlike jpeg_mem_dest(), `*outbuffer` and `*outsize` are never
 * read (an old buffer there is neither reused nor freed) and are written only
 * on success; on failure they are left untouched, so there is nothing to free.
 * `outbuffer`, `outsize` and `cipher` are borrowed and must stay valid until
 * jpeg_finish_compress() returns; NULL `outbuffer` or `outsize` raises
 * JERR_BUFFER_SIZE. Otherwise as jsec_jpeg_stdio_dest().
 */
static inline void jsec_jpeg_mem_dest(j_compress_ptr cinfo, const jsec_fspe_cipher *cipher,
                                      unsigned char **outbuffer, size_t *outsize) {
    jsec_jpeg_dest_mgr *d;
    if (outbuffer == NULL || outsize == NULL) ERREXIT(cinfo, JERR_BUFFER_SIZE);
    d = jsec_jpeg_dest_setup_(cinfo, cipher);
    d->outbuffer = outbuffer;
    d->outsize = outsize;
}

/**
 * Compress into `outfile` and **sign** the result with a croppable signature
 * (docs/sign-format.md): what jpeg_finish_compress() produced is signed in
 * memory with `key` (every cell, `options` giving the granularity and the
 * threads; NULL for the defaults) and written with one fwrite() and an
 * fflush(), the image data untouched and the signature in COM segments. A
 * camera-style application thus signs while encoding. `key` and `options`
 * are borrowed and must stay alive until jpeg_finish_compress() returns. If
 * signing fails nothing is written and the failure is stored
 * (jsec_jpeg_dest_error()) and raised through cinfo->err->error_exit.
 * Otherwise as jsec_jpeg_stdio_dest().
 */
static inline void jsec_jpeg_stdio_sign_dest(j_compress_ptr cinfo, const jsec_sign_key *key,
                                             const jsec_sign_options *options, FILE *outfile) {
    jsec_jpeg_dest_mgr *d;
    if (key == NULL) ERREXIT(cinfo, JERR_BUFFER_SIZE);
    d = jsec_jpeg_dest_setup_(cinfo, NULL);
    d->sign_key = key;
    d->sign_options = options;
    d->outfile = outfile;
}

/**
 * Compress into memory and sign the result (the signing counterpart of
 * jsec_jpeg_mem_dest(); the same ownership rules for `*outbuffer`).
 */
static inline void jsec_jpeg_mem_sign_dest(j_compress_ptr cinfo, const jsec_sign_key *key,
                                           const jsec_sign_options *options,
                                           unsigned char **outbuffer, size_t *outsize) {
    jsec_jpeg_dest_mgr *d;
    if (key == NULL || outbuffer == NULL || outsize == NULL) ERREXIT(cinfo, JERR_BUFFER_SIZE);
    d = jsec_jpeg_dest_setup_(cinfo, NULL);
    d->sign_key = key;
    d->sign_options = options;
    d->outbuffer = outbuffer;
    d->outsize = outsize;
}

/** The jsec destination manager of `cinfo`, or NULL when cinfo->dest is not
 *  one (set by jsec_jpeg_stdio_dest() / jsec_jpeg_mem_dest()). Borrowed; valid
 *  until jpeg_destroy_compress(). */
static inline const jsec_jpeg_dest_mgr *jsec_jpeg_dest_get(j_compress_ptr cinfo) {
    if (cinfo == NULL || cinfo->dest == NULL ||
        cinfo->dest->init_destination != jsec_jpeg_dest_init_)
        return NULL;
    return (const jsec_jpeg_dest_mgr *)cinfo->dest;
}

/** The last jsec failure of the destination of `cinfo` (status JSEC_OK when
 *  the failure came from libjpeg or there was none), or NULL when cinfo->dest
 *  is not a jsec destination. Borrowed; valid until jpeg_destroy_compress(). */
static inline const jsec_jpeg_error *jsec_jpeg_dest_error(j_compress_ptr cinfo) {
    const jsec_jpeg_dest_mgr *d = jsec_jpeg_dest_get(cinfo);
    return d != NULL ? &d->error : NULL;
}

/* ------------------------------------------------------------------------- */
/* (b) Source managers: decrypt, then decompress                              */
/* ------------------------------------------------------------------------- */

/** The source manager behind cinfo->src after jsec_jpeg_stdio_src() or
 *  jsec_jpeg_mem_src(). Allocated in the permanent pool of `cinfo`; valid
 *  until jpeg_destroy_decompress(). Fields are read-only for the application. */
typedef struct jsec_jpeg_src_mgr {
    /** libjpeg's part; must come first. */
    struct jpeg_source_mgr pub;
    /** Borrowed: must stay alive until jpeg_read_header() returns. */
    const jsec_fspe_cipher *cipher;
    /** Verifying mode (instead of decryption): the borrowed key, options
     *  (may be NULL) and the caller's result struct, alive until
     *  jpeg_read_header() returns. */
    const jsec_verify_key *verify_key;
    const jsec_sign_options *verify_options;
    jsec_sign_verification *verification;
    /** stdio mode: the borrowed input file, read to its end (never closed). */
    FILE *infile;
    /** memory mode: the borrowed protected file. */
    const unsigned char *inbuffer;
    size_t insize;
    /** The plain file (JPOOL_IMAGE) once decrypted, its length and capacity. */
    JOCTET *data;
    size_t len, cap;
    /** After a successful decryption: bits decrypted in the primary image. */
    unsigned long long decrypted_bits;
    /** The last jsec failure (status JSEC_OK when there was none). */
    jsec_jpeg_error error;
} jsec_jpeg_src_mgr;

/** Two bytes FF D9, served after the end of a truncated file. */
static inline const JOCTET *jsec_jpeg_fake_eoi_(void) {
    static const JOCTET eoi[2] = {0xFF, JPEG_EOI};
    return eoi;
}

static inline void jsec_jpeg_src_init_(j_decompress_ptr cinfo) {
    jsec_jpeg_src_mgr *s = (jsec_jpeg_src_mgr *)cinfo->src;
    jsec_fspe_report *report = NULL;
    jsec_fspe_image_info info;
    jsec_status st;
    s->cap = 0;
    s->len = 0;
    s->decrypted_bits = 0;
    s->error.status = JSEC_OK;
    s->error.message[0] = '\0';
    if (s->infile != NULL) {
        s->data = jsec_jpeg_grow_((j_common_ptr)cinfo, NULL, 0, 65536, &s->cap);
        for (;;) {
            size_t n;
            if (s->len == s->cap)
                s->data = jsec_jpeg_grow_((j_common_ptr)cinfo, s->data, s->len, s->len + 1,
                                          &s->cap);
            n = fread(s->data + s->len, 1, s->cap - s->len, s->infile);
            s->len += n;
            if (n == 0) break;
        }
        if (ferror(s->infile)) ERREXIT(cinfo, JERR_FILE_READ);
    } else {
        s->data = jsec_jpeg_grow_((j_common_ptr)cinfo, NULL, 0, s->insize, &s->cap);
        memcpy(s->data, s->inbuffer, s->insize);
        s->len = s->insize;
    }
    if (s->len == 0) ERREXIT(cinfo, JERR_INPUT_EMPTY);
    if (s->verify_key != NULL) {
        st = jsec_sign_verify(s->verify_key, s->verify_options, s->data, s->len,
                              s->verification);
        if (st != JSEC_OK) {
            jsec_jpeg_record_(&s->error, st);
            jsec_jpeg_raise_((j_common_ptr)cinfo, &s->error);
            return; /* not reached */
        }
        s->pub.next_input_byte = s->data;
        s->pub.bytes_in_buffer = s->len;
        return;
    }
    st = jsec_fspe_cipher_decrypt(s->cipher, s->data, s->len, &report);
    if (st != JSEC_OK) {
        jsec_jpeg_record_(&s->error, st);
        jsec_jpeg_raise_((j_common_ptr)cinfo, &s->error);
        return; /* not reached */
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (jsec_fspe_report_image(report, 0, &info) == JSEC_OK)
        s->decrypted_bits = (unsigned long long)info.encrypted_bits;
    jsec_fspe_report_free(report);
    s->pub.next_input_byte = s->data;
    s->pub.bytes_in_buffer = s->len;
}

static inline boolean jsec_jpeg_src_fill_(j_decompress_ptr cinfo) {
    /* The whole file is already in the buffer: running out means it was
     * truncated. Like jpeg_mem_src: warn and insert a fake EOI. */
    WARNMS(cinfo, JWRN_JPEG_EOF);
    cinfo->src->next_input_byte = jsec_jpeg_fake_eoi_();
    cinfo->src->bytes_in_buffer = 2;
    return TRUE;
}

static inline void jsec_jpeg_src_skip_(j_decompress_ptr cinfo, long num_bytes) {
    struct jpeg_source_mgr *src = cinfo->src;
    if (num_bytes <= 0) return;
    while ((unsigned long)num_bytes > (unsigned long)src->bytes_in_buffer) {
        num_bytes -= (long)src->bytes_in_buffer;
        (void)(*src->fill_input_buffer)(cinfo);
    }
    src->next_input_byte += (size_t)num_bytes;
    src->bytes_in_buffer -= (size_t)num_bytes;
}

static inline void jsec_jpeg_src_term_(j_decompress_ptr cinfo) { (void)cinfo; }

static inline jsec_jpeg_src_mgr *jsec_jpeg_src_setup_(j_decompress_ptr cinfo,
                                                     const jsec_fspe_cipher *cipher) {
    jsec_jpeg_src_mgr *s;
    if (cinfo->src == NULL || cinfo->src->init_source != jsec_jpeg_src_init_) {
        cinfo->src = (struct jpeg_source_mgr *)(*cinfo->mem->alloc_small)(
            (j_common_ptr)cinfo, JPOOL_PERMANENT, sizeof(jsec_jpeg_src_mgr));
    }
    s = (jsec_jpeg_src_mgr *)cinfo->src;
    memset(s, 0, sizeof *s);
    s->pub.init_source = jsec_jpeg_src_init_;
    s->pub.fill_input_buffer = jsec_jpeg_src_fill_;
    s->pub.skip_input_data = jsec_jpeg_src_skip_;
    s->pub.resync_to_restart = jpeg_resync_to_restart;
    s->pub.term_source = jsec_jpeg_src_term_;
    s->pub.next_input_byte = NULL;
    s->pub.bytes_in_buffer = 0;
    s->cipher = cipher;
    s->error.status = JSEC_OK;
    return s;
}

/**
 * Decompress the protected JPEG read from `infile`, decrypted with `cipher`
 * (the counterpart of jpeg_stdio_src()). Call after
 * jpeg_create_decompress(), before jpeg_read_header().
 *
 * jpeg_read_header() reads `infile` to its end (one image per file), decrypts
 * the whole file in memory and then parses the plain bytes; the rest of the
 * decompression is ordinary libjpeg. `infile` is borrowed (open for binary
 * reading; not closed here). `cipher` is borrowed and must stay alive until
 * jpeg_read_header() returns; a cipher made with a key of level 1 or 2
 * restores only the bands that key covers. A wrong key or wrong options are
 * not detected (the result is a different valid image). If decryption fails
 * the failure is stored (jsec_jpeg_src_error()) and raised through
 * cinfo->err->error_exit; an empty input raises JERR_INPUT_EMPTY and a read
 * error JERR_FILE_READ. A truncated file decodes like with jpeg_mem_src()
 * (warning JWRN_JPEG_EOF, fake EOI) if jsec accepted it.
 */
static inline void jsec_jpeg_stdio_src(j_decompress_ptr cinfo, const jsec_fspe_cipher *cipher,
                                       FILE *infile) {
    jsec_jpeg_src_mgr *s = jsec_jpeg_src_setup_(cinfo, cipher);
    s->infile = infile;
}

/**
 * Decompress the protected JPEG in `inbuffer` (`insize` bytes), decrypted
 * with `cipher` (the counterpart of jpeg_mem_src()).
 *
 * `inbuffer` is only read, never changed: jpeg_read_header() copies it into a
 * libjpeg pool buffer and decrypts the copy. `inbuffer` and `cipher` are
 * borrowed and must stay valid until jpeg_read_header() returns. NULL
 * `inbuffer` or `insize` 0 raises JERR_INPUT_EMPTY. Otherwise as
 * jsec_jpeg_stdio_src().
 */
static inline void jsec_jpeg_mem_src(j_decompress_ptr cinfo, const jsec_fspe_cipher *cipher,
                                     const unsigned char *inbuffer, size_t insize) {
    jsec_jpeg_src_mgr *s;
    if (inbuffer == NULL || insize == 0) ERREXIT(cinfo, JERR_INPUT_EMPTY);
    s = jsec_jpeg_src_setup_(cinfo, cipher);
    s->inbuffer = inbuffer;
    s->insize = insize;
}

/**
 * Decompress the signed JPEG read from `infile` only if its croppable
 * signature verifies against `key` (the verifying counterpart of
 * jsec_jpeg_stdio_src()). jpeg_read_header() reads `infile` to its end and
 * verifies the whole file (`options`, NULL for the defaults, gives the
 * threads); on success it fills `*result` (a caller struct with
 * `struct_size` set: signer key id, original size, crop rectangle) and
 * decompresses the file as it is; otherwise nothing is decoded and the
 * failure (JSEC_ERR_VERIFICATION_FAILED with the reason, or a read error) is
 * stored (jsec_jpeg_src_error()) and raised through cinfo->err->error_exit.
 * `key`, `options` and `result` are borrowed until jpeg_read_header()
 * returns.
 */
static inline void jsec_jpeg_stdio_verify_src(j_decompress_ptr cinfo, const jsec_verify_key *key,
                                              const jsec_sign_options *options,
                                              jsec_sign_verification *result, FILE *infile) {
    jsec_jpeg_src_mgr *s;
    if (key == NULL || result == NULL) ERREXIT(cinfo, JERR_INPUT_EMPTY);
    s = jsec_jpeg_src_setup_(cinfo, NULL);
    s->verify_key = key;
    s->verify_options = options;
    s->verification = result;
    s->infile = infile;
}

/**
 * Decompress the signed JPEG in `inbuffer` (`insize` bytes) only if its
 * signature verifies (the counterpart of jsec_jpeg_mem_src()); otherwise as
 * jsec_jpeg_stdio_verify_src().
 */
static inline void jsec_jpeg_mem_verify_src(j_decompress_ptr cinfo, const jsec_verify_key *key,
                                            const jsec_sign_options *options,
                                            jsec_sign_verification *result,
                                            const unsigned char *inbuffer, size_t insize) {
    jsec_jpeg_src_mgr *s;
    if (key == NULL || result == NULL || inbuffer == NULL || insize == 0)
        ERREXIT(cinfo, JERR_INPUT_EMPTY);
    s = jsec_jpeg_src_setup_(cinfo, NULL);
    s->verify_key = key;
    s->verify_options = options;
    s->verification = result;
    s->inbuffer = inbuffer;
    s->insize = insize;
}

/** The jsec source manager of `cinfo`, or NULL when cinfo->src is not one.
 *  Borrowed; valid until jpeg_destroy_decompress(). */
static inline const jsec_jpeg_src_mgr *jsec_jpeg_src_get(j_decompress_ptr cinfo) {
    if (cinfo == NULL || cinfo->src == NULL || cinfo->src->init_source != jsec_jpeg_src_init_)
        return NULL;
    return (const jsec_jpeg_src_mgr *)cinfo->src;
}

/** The last jsec failure of the source of `cinfo` (status JSEC_OK when the
 *  failure came from libjpeg or there was none), or NULL when cinfo->src is
 *  not a jsec source. Borrowed; valid until jpeg_destroy_decompress(). */
static inline const jsec_jpeg_error *jsec_jpeg_src_error(j_decompress_ptr cinfo) {
    const jsec_jpeg_src_mgr *s = jsec_jpeg_src_get(cinfo);
    return s != NULL ? &s->error : NULL;
}

/* ------------------------------------------------------------------------- */
/* (c) One scan at a time                                                     */
/* ------------------------------------------------------------------------- */

/**
 * Find the entropy-coded data of the next scan of the JPEG in `buf` (`len`
 * bytes), searching from offset `from`: 0 for the first scan, then the
 * previous scan's `*data_end`. Only marker segments are parsed (no Huffman
 * decoding, no allocation); the buffer is only read.
 *
 * Returns 1 and sets `*data_start` (just past the scan's SOS segment, i.e.
 * the `prefix_len` of jsec_jpeg_process_scan()) and `*data_end` (the first
 * byte of the marker that ends the scan; RST markers inside the scan are part
 * of it) when a scan was found; 0 when the image's EOI (or, for `from` 0, a
 * buffer that has no scan) comes first; -1 when the buffer is not a JPEG
 * from SOI on, a segment length runs past `len`, or the scan is not
 * terminated by a marker within `len` (a file still being written: call
 * again when more bytes are there). Nothing is written unless it returns 1.
 */
static inline int jsec_jpeg_find_scan(const unsigned char *buf, size_t len, size_t from,
                                      size_t *data_start, size_t *data_end) {
    size_t pos = from;
    if (buf == NULL || data_start == NULL || data_end == NULL) return -1;
    if (from == 0) {
        if (len < 2 || buf[0] != 0xFF || buf[1] != 0xD8) return -1; /* SOI */
        pos = 2;
    }
    for (;;) {
        unsigned marker;
        size_t seglen;
        if (pos >= len || buf[pos] != 0xFF) return -1;
        while (pos < len && buf[pos] == 0xFF) pos++; /* fill bytes */
        if (pos >= len) return -1;
        marker = buf[pos++];
        if (marker == JPEG_EOI) return 0;
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
            return -1; /* no stand-alone markers between segments here */
        if (len - pos < 2) return -1;
        seglen = ((size_t)buf[pos] << 8) | buf[pos + 1];
        if (seglen < 2 || seglen > len - pos) return -1;
        pos += seglen;
        if (marker == 0xDA) { /* SOS: the entropy-coded data follows */
            size_t p = pos;
            while (p + 1 < len) {
                if (buf[p] == 0xFF) {
                    size_t q = p;
                    while (q < len && buf[q] == 0xFF) q++;
                    if (q >= len) return -1;
                    if (buf[q] == 0x00 || (buf[q] >= 0xD0 && buf[q] <= 0xD7)) {
                        p = q + 1; /* stuffed byte or RSTn: still in the scan */
                        continue;
                    }
                    *data_start = pos;
                    *data_end = p;
                    return 1;
                }
                p++;
            }
            return -1;
        }
    }
}

/* The failure `e` of a per-scan call (already recorded): raised through
 * cinfo->err->error_exit when `cinfo` is given (a copy kept in the
 * object's pool when the caller gave no record of its own, so that the
 * handler can read it), else its status returned. */
static inline jsec_status jsec_jpeg_fail_(j_common_ptr cinfo, jsec_jpeg_error *e,
                                          const jsec_jpeg_error *callers) {
    if (cinfo != NULL) {
        if (callers == NULL) {
            jsec_jpeg_error *kept = (jsec_jpeg_error *)(*cinfo->mem->alloc_small)(
                cinfo, JPOOL_PERMANENT, sizeof(jsec_jpeg_error));
            *kept = *e;
            e = kept;
        }
        jsec_jpeg_raise_(cinfo, e);
    }
    return e->status;
}

/**
 * Encrypt or decrypt one scan in place: the entropy-coded data
 * `file[data_start .. data_end)` of the primary image, where `file[0 ..
 * data_start)` is everything before it (SOI through this scan's SOS, earlier
 * scans included exactly as they are in the file: already processed ones
 * processed, later ones absent). Use jsec_jpeg_find_scan() for the offsets.
 * Wraps jsec_fspe_cipher_process_scan(); `direction` is
 * JSEC_FSPE_DIRECTION_ENCRYPT or JSEC_FSPE_DIRECTION_DECRYPT.
 *
 * Seed or nonce:
 *  - Encrypting while the file is being produced (a camera writing scan by
 *    scan, a libjpeg pipeline that emits one scan at a time): the rest of the
 *    file does not exist yet, so there can be no seed. The cipher's options
 *    must carry a caller nonce (jsec_fspe_options_set_nonce(), a fresh one
 *    per image and key, stored or sent with the image) and `seed` is NULL.
 *    Decrypt the same way with the same nonce.
 *  - Processing a complete file one scan at a time (to bound the work per
 *    call, or to skip scans): without a nonce in the options, first run a
 *    digest stream over the whole file (jsec_fspe_digest_stream_new(),
 *    _write() everything, _finish(), jsec_fspe_stream_seed()) and pass that
 *    JSEC_FSPE_SEED_LEN-byte seed; the result then equals
 *    jsec_fspe_cipher_encrypt()/_decrypt() of the whole file. The seed of the
 *    plain and of the protected file are the same, so one digest pass
 *    serves both directions.
 *
 * `file` is borrowed for the call; only `file[data_start .. data_end)` is
 * changed, and only on success. `stats` may be NULL, else its struct_size
 * must be set (see jsec_fspe_bit_stats). `err` may be NULL; otherwise it
 * receives the status and message (JSEC_OK and "" on success). If `cinfo` is
 * not NULL, a failure is raised through cinfo->err->error_exit after being
 * recorded (so `err` should then outlive the error handler); with `cinfo`
 * NULL the status is returned. Returns JSEC_OK on success.
 */
static inline jsec_status jsec_jpeg_process_scan(j_common_ptr cinfo,
                                                 const jsec_fspe_cipher *cipher,
                                                 jsec_fspe_direction direction,
                                                 const unsigned char *seed, unsigned char *file,
                                                 size_t data_start, size_t data_end,
                                                 jsec_fspe_bit_stats *stats,
                                                 jsec_jpeg_error *err) {
    jsec_jpeg_error local;
    jsec_jpeg_error *e = err != NULL ? err : &local;
    jsec_status st;
    if (file == NULL || data_end < data_start) {
        e->status = JSEC_ERR_INVALID_ARGUMENT;
        snprintf(e->message, JSEC_JPEG_MESSAGE_MAX,
                 "jsec_jpeg_process_scan: %s",
                 file == NULL ? "argument `file` is NULL" : "data_end is before data_start");
    } else {
        st = jsec_fspe_cipher_process_scan(cipher, (uint32_t)direction, seed,
                                           seed != NULL ? JSEC_FSPE_SEED_LEN : 0, file,
                                           data_start, file + data_start,
                                           data_end - data_start, stats);
        if (st == JSEC_OK) {
            e->status = JSEC_OK;
            e->message[0] = '\0';
            return JSEC_OK;
        }
        jsec_jpeg_record_(e, st);
    }
    return jsec_jpeg_fail_(cinfo, e, err);
}

/**
 * Sign a JPEG scan by scan, as the application produces it: hand the
 * session (jsec_sign_session_new()) the file's next `len` bytes at `bytes`,
 * typically everything up to the end of a scan just written (the headers
 * and the first scan's SOS segment and entropy-coded data on the first
 * call: jsec_jpeg_find_scan()'s `*data_end` is where a scan ends), or any
 * other chunk: the bytes must only arrive in file order, each once. jsec
 * decodes them at once and signs every row of cells whose blocks are now
 * complete (in a one-scan image, rows are signed while later rows are still
 * being encoded; in a multi-scan image, at the last scan). After the EOI,
 * jsec_sign_session_finish() signs the header and gives the signed file.
 * A wrapper of jsec_sign_session_write().
 *
 * `err` may be NULL; otherwise it receives the status and message (JSEC_OK
 * and "" on success). If `cinfo` is not NULL, a failure (a malformed or
 * unsupported file, as soon as its bytes show it) is raised through
 * cinfo->err->error_exit after being recorded; with `cinfo` NULL the status
 * is returned. After a failure the session only accepts
 * jsec_sign_session_free(). Returns JSEC_OK on success.
 */
static inline jsec_status jsec_jpeg_sign_scan(j_common_ptr cinfo, jsec_sign_session *session,
                                              const unsigned char *bytes, size_t len,
                                              jsec_jpeg_error *err) {
    jsec_jpeg_error local;
    jsec_jpeg_error *e = err != NULL ? err : &local;
    jsec_status st = jsec_sign_session_write(session, bytes, len);
    if (st == JSEC_OK) {
        e->status = JSEC_OK;
        e->message[0] = '\0';
        return JSEC_OK;
    }
    jsec_jpeg_record_(e, st);
    return jsec_jpeg_fail_(cinfo, e, err);
}

#ifdef __cplusplus
}
#endif

#endif /* JSEC_LIBJPEG_H */
