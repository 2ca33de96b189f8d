/* testjpeg.c: make and decode small JPEGs with libjpeg for the C tests.
 * libjpeg errors longjmp back to these functions only (no Rust frames are
 * involved here), then the function returns NULL. */
#include "testjpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int warnings;
} test_error_mgr;

static void test_error_exit(j_common_ptr cinfo) {
    test_error_mgr *err = (test_error_mgr *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, msg);
    fprintf(stderr, "libjpeg: %s\n", msg);
    longjmp(err->jump, 1);
}

static void test_emit_message(j_common_ptr cinfo, int level) {
    test_error_mgr *err = (test_error_mgr *)cinfo->err;
    if (level < 0) err->warnings++;
}

testjpeg_params testjpeg_defaults(void) {
    testjpeg_params p;
    memset(&p, 0, sizeof p);
    p.width = 64;
    p.height = 48;
    p.components = 3;
    p.quality = 85;
    p.h_samp = 2;
    p.v_samp = 2;
    p.seed = 1;
    return p;
}

/* A smooth gradient plus a deterministic pseudo-random texture, so that
 * every block has AC coefficients (encryption then changes many bits). */
static unsigned char pixel(const testjpeg_params *p, int x, int y, int c, unsigned *state) {
    int base;
    *state = *state * 1103515245u + 12345u;
    switch (c) {
    case 0: base = (x * 255) / (p->width > 1 ? p->width - 1 : 1); break;
    case 1: base = (y * 255) / (p->height > 1 ? p->height - 1 : 1); break;
    default: base = ((x + y) * 127) / (p->width + p->height); break;
    }
    base += (int)((*state >> 16) % 48u) - 24;
    if (base < 0) base = 0;
    if (base > 255) base = 255;
    return (unsigned char)base;
}

/* State that must survive a longjmp lives on the heap, not in registers. */
typedef struct {
    struct jpeg_compress_struct cinfo;
    test_error_mgr jerr;
    unsigned char *buf;
    unsigned long size;
    unsigned char *row;
    unsigned rng;
} make_state;

unsigned char *testjpeg_make(const testjpeg_params *p, size_t *out_len) {
    make_state *st = calloc(1, sizeof *st);
    unsigned char *out;
    int y;

    if (st == NULL) return NULL;
    st->rng = p->seed * 2654435761u + 1u;
    st->cinfo.err = jpeg_std_error(&st->jerr.pub);
    st->jerr.pub.error_exit = test_error_exit;
    st->jerr.pub.emit_message = test_emit_message;
    if (setjmp(st->jerr.jump)) {
        jpeg_destroy_compress(&st->cinfo);
        free(st->buf);
        free(st->row);
        free(st);
        return NULL;
    }
    jpeg_create_compress(&st->cinfo);
    jpeg_mem_dest(&st->cinfo, &st->buf, &st->size);
    st->cinfo.image_width = (JDIMENSION)p->width;
    st->cinfo.image_height = (JDIMENSION)p->height;
    st->cinfo.input_components = p->components;
    st->cinfo.in_color_space = p->components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&st->cinfo);
    jpeg_set_quality(&st->cinfo, p->quality, TRUE);
    if (p->components == 3) {
        st->cinfo.comp_info[0].h_samp_factor = p->h_samp;
        st->cinfo.comp_info[0].v_samp_factor = p->v_samp;
    }
    st->cinfo.optimize_coding = p->optimize ? TRUE : FALSE;
    st->cinfo.restart_in_rows = p->restart_rows;
    if (p->progressive) jpeg_simple_progression(&st->cinfo);
    if (p->noninterleaved && p->components == 3) {
        /* Ss 0, Se 63, Ah = Al = 0 in every scan: sequential, not progressive. */
        static const jpeg_scan_info scans[3] = {
            {1, {0, 0, 0, 0}, 0, 63, 0, 0},
            {1, {1, 0, 0, 0}, 0, 63, 0, 0},
            {1, {2, 0, 0, 0}, 0, 63, 0, 0},
        };
        st->cinfo.scan_info = scans;
        st->cinfo.num_scans = 3;
    }
    st->row = malloc((size_t)p->width * (size_t)p->components);
    if (st->row == NULL) longjmp(st->jerr.jump, 1);
    jpeg_start_compress(&st->cinfo, TRUE);
    for (y = 0; y < p->height; y++) {
        JSAMPROW rows[1];
        int x, c;
        for (x = 0; x < p->width; x++)
            for (c = 0; c < p->components; c++)
                st->row[x * p->components + c] = pixel(p, x, y, c, &st->rng);
        rows[0] = st->row;
        jpeg_write_scanlines(&st->cinfo, rows, 1);
    }
    jpeg_finish_compress(&st->cinfo);
    jpeg_destroy_compress(&st->cinfo);
    free(st->row);
    out = st->buf;
    *out_len = (size_t)st->size;
    free(st);
    return out;
}

typedef struct {
    struct jpeg_decompress_struct cinfo;
    test_error_mgr jerr;
    unsigned char *pixels;
} decode_state;

unsigned char *testjpeg_decode(const unsigned char *jpeg, size_t len, int *width,
                               int *height, int *components, int *warnings) {
    decode_state *st = calloc(1, sizeof *st);
    unsigned char *out;
    size_t stride;

    if (st == NULL) return NULL;
    st->cinfo.err = jpeg_std_error(&st->jerr.pub);
    st->jerr.pub.error_exit = test_error_exit;
    st->jerr.pub.emit_message = test_emit_message;
    if (setjmp(st->jerr.jump)) {
        jpeg_destroy_decompress(&st->cinfo);
        free(st->pixels);
        free(st);
        return NULL;
    }
    jpeg_create_decompress(&st->cinfo);
    jpeg_mem_src(&st->cinfo, jpeg, (unsigned long)len);
    jpeg_read_header(&st->cinfo, TRUE);
    jpeg_start_decompress(&st->cinfo);
    stride = (size_t)st->cinfo.output_width * (size_t)st->cinfo.output_components;
    st->pixels = malloc(stride * st->cinfo.output_height);
    if (st->pixels == NULL) longjmp(st->jerr.jump, 1);
    while (st->cinfo.output_scanline < st->cinfo.output_height) {
        JSAMPROW rows[1];
        rows[0] = st->pixels + stride * st->cinfo.output_scanline;
        jpeg_read_scanlines(&st->cinfo, rows, 1);
    }
    jpeg_finish_decompress(&st->cinfo);
    *width = (int)st->cinfo.output_width;
    *height = (int)st->cinfo.output_height;
    *components = st->cinfo.output_components;
    if (warnings != NULL) *warnings = st->jerr.warnings;
    jpeg_destroy_decompress(&st->cinfo);
    out = st->pixels;
    free(st);
    return out;
}

unsigned char *testjpeg_read_file(const char *path, size_t *out_len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;
    if (f == NULL) return NULL;
    for (;;) {
        size_t n;
        if (len == cap) {
            unsigned char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *out_len = len;
    return buf;
}

int testjpeg_write_file(const char *path, const unsigned char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) return -1;
    ok = fwrite(data, 1, len, f) == len;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

const char *testjpeg_corpus_dir(void) {
#ifdef JSEC_CORPUS_DIR
    static const char dir[] = JSEC_CORPUS_DIR;
    char probe[4096];
    FILE *f;
    if (snprintf(probe, sizeof probe, "%s/MANIFEST.md", dir) >= (int)sizeof probe) return NULL;
    f = fopen(probe, "rb");
    if (f == NULL) return NULL;
    fclose(f);
    return dir;
#else
    return NULL;
#endif
}
