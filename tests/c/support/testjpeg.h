/* testjpeg.h: make and decode small JPEGs with libjpeg for the C tests. */
#ifndef JSEC_TEST_TESTJPEG_H
#define JSEC_TEST_TESTJPEG_H

#include <stddef.h>

typedef struct {
    int width, height;
    int components;      /* 1 (gray) or 3 (YCbCr from RGB) */
    int quality;         /* 1..100 */
    int h_samp, v_samp;  /* luma sampling factors (2,2 = 4:2:0; 1,1 = 4:4:4) */
    int progressive;     /* jpeg_simple_progression */
    int restart_rows;    /* restart interval in MCU rows; 0 = none */
    int optimize;        /* optimized Huffman tables */
    int noninterleaved;  /* sequential, one scan per component (color only) */
    unsigned seed;       /* texture seed: different seeds, different images */
} testjpeg_params;

/* Sensible defaults: 64x48 color 4:2:0, q85, baseline. */
testjpeg_params testjpeg_defaults(void);

/* Compress a deterministic textured gradient; returns a malloc'd buffer
 * (free()) and its length, or NULL with a message on stderr. */
unsigned char *testjpeg_make(const testjpeg_params *p, size_t *out_len);

/* Decode with libjpeg into a malloc'd interleaved buffer (free()).
 * Returns NULL if libjpeg reports an error; *warnings counts libjpeg
 * warnings (corrupt data) when not NULL. */
unsigned char *testjpeg_decode(const unsigned char *jpeg, size_t len, int *width,
                               int *height, int *components, int *warnings);

/* Read a whole file (malloc'd, free()); NULL if it cannot be read. */
unsigned char *testjpeg_read_file(const char *path, size_t *out_len);

/* Write a whole file; 0 on success. */
int testjpeg_write_file(const char *path, const unsigned char *data, size_t len);

/* The corpus directory (../shared/corpus relative to the repository), or
 * NULL when it is absent: tests must skip that part with a note. */
const char *testjpeg_corpus_dir(void);

#endif
