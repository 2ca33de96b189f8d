/*
 * In-memory libopenjp2 streams and sample decoding for the C tests
 * (header-only: only the tests that link libopenjp2 include it).
 */
#ifndef JSEC_TEST_OPJ_MEM_H
#define JSEC_TEST_OPJ_MEM_H

#include <openjpeg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A growable buffer that a stream reads from or writes into. */
typedef struct {
    unsigned char *data;
    size_t len, cap, pos;
} opj_mem;

static inline OPJ_SIZE_T opj_mem_write(void *buf, OPJ_SIZE_T n, void *user) {
    opj_mem *m = user;
    if (m->pos + n > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        unsigned char *d;
        while (cap < m->pos + n) cap *= 2;
        d = realloc(m->data, cap);
        if (d == NULL) return (OPJ_SIZE_T)-1;
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->pos, buf, n);
    m->pos += n;
    if (m->pos > m->len) m->len = m->pos;
    return n;
}

static inline OPJ_SIZE_T opj_mem_read(void *buf, OPJ_SIZE_T n, void *user) {
    opj_mem *m = user;
    size_t left = m->len - m->pos;
    if (left == 0) return (OPJ_SIZE_T)-1;
    if (n > left) n = left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return n;
}

static inline OPJ_OFF_T opj_mem_skip(OPJ_OFF_T n, void *user) {
    opj_mem *m = user;
    if (n < 0 || (size_t)n > m->len - m->pos) n = (OPJ_OFF_T)(m->len - m->pos);
    m->pos += (size_t)n;
    return n;
}

static inline OPJ_BOOL opj_mem_seek(OPJ_OFF_T n, void *user) {
    opj_mem *m = user;
    if (n < 0 || (size_t)n > m->len) return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

/* An input stream over `m` (which must outlive it). */
static inline opj_stream_t *opj_mem_reader(opj_mem *m) {
    opj_stream_t *st = opj_stream_create(65536, OPJ_TRUE);
    opj_stream_set_user_data(st, m, NULL);
    opj_stream_set_user_data_length(st, m->len);
    opj_stream_set_read_function(st, opj_mem_read);
    opj_stream_set_skip_function(st, opj_mem_skip);
    opj_stream_set_seek_function(st, opj_mem_seek);
    return st;
}

/* An output stream into `m` (which must outlive it; free m->data). */
static inline opj_stream_t *opj_mem_writer(opj_mem *m) {
    opj_stream_t *st = opj_stream_create(65536, OPJ_FALSE);
    opj_stream_set_user_data(st, m, NULL);
    opj_stream_set_write_function(st, opj_mem_write);
    opj_stream_set_skip_function(st, opj_mem_skip);
    opj_stream_set_seek_function(st, opj_mem_seek);
    return st;
}

static inline void opj_mem_quiet_handler(const char *msg, void *user) {
    (void)msg;
    (void)user;
}

/* Silence a codec's info, warning and error messages. */
static inline void opj_mem_quiet(opj_codec_t *codec) {
    opj_set_info_handler(codec, opj_mem_quiet_handler, NULL);
    opj_set_warning_handler(codec, opj_mem_quiet_handler, NULL);
    opj_set_error_handler(codec, opj_mem_quiet_handler, NULL);
}

/* Decode `st` with libopenjp2 as `format` at reduce `r` with at most
 * `layers` layers (0: all): every component's samples concatenated
 * (malloc'd, free() it) and their count, or NULL when decoding fails. */
static inline int *opj_mem_samples(opj_stream_t *st, OPJ_CODEC_FORMAT format, unsigned r,
                                   unsigned layers, size_t *count) {
    opj_codec_t *codec = opj_create_decompress(format);
    opj_dparameters_t p;
    opj_image_t *img = NULL;
    int *out = NULL;
    size_t n = 0, c, i;
    opj_set_default_decoder_parameters(&p);
    p.cp_reduce = r;
    p.cp_layer = layers;
    opj_mem_quiet(codec);
    if (opj_setup_decoder(codec, &p) && opj_read_header(st, codec, &img) &&
        opj_decode(codec, st, img) && opj_end_decompress(codec, st)) {
        for (c = 0; c < img->numcomps; c++) n += (size_t)img->comps[c].w * img->comps[c].h;
        out = malloc(n * sizeof *out + 1);
        if (out != NULL) {
            n = 0;
            for (c = 0; c < img->numcomps; c++)
                for (i = 0; i < (size_t)img->comps[c].w * img->comps[c].h; i++)
                    out[n++] = img->comps[c].data[i];
        } else {
            n = 0;
        }
    }
    *count = n;
    opj_image_destroy(img);
    opj_destroy_codec(codec);
    return out;
}

#endif
