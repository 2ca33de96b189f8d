/*
 * example_io.h: reading whole files and binary PPMs, shared by the examples
 * (each is otherwise a self-contained program).
 */
#ifndef JSEC_EXAMPLE_IO_H
#define JSEC_EXAMPLE_IO_H

#include <stdio.h>
#include <stdlib.h>

/* Read the whole file at `path` (a pipe too) into a malloc'd buffer; its
 * length in `*len`. NULL, with a message on stderr, when it cannot be read. */
static inline unsigned char *example_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n;
    *len = 0;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    for (;;) {
        if (*len == cap) {
            unsigned char *more = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (more == NULL) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = more;
        }
        n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        perror(path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Read a binary PPM (P6, maxval 255) into a malloc'd RGB buffer (width *
 * height * 3 bytes). NULL, with a message on stderr, when it is not one. */
static inline unsigned char *example_read_ppm(const char *path, int *w, int *h) {
    FILE *f = fopen(path, "rb");
    int maxval;
    size_t n;
    unsigned char *rgb;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    if (fscanf(f, "P6 %d %d %d", w, h, &maxval) != 3 || maxval != 255 || *w <= 0 || *h <= 0 ||
        *w > 65500 || *h > 65500 || fgetc(f) == EOF) {
        fprintf(stderr, "%s: not a P6 PPM with maxval 255\n", path);
        fclose(f);
        return NULL;
    }
    n = (size_t)*w * (size_t)*h * 3;
    rgb = malloc(n);
    if (rgb == NULL || fread(rgb, 1, n, f) != n) {
        fprintf(stderr, "%s: truncated PPM\n", path);
        free(rgb);
        fclose(f);
        return NULL;
    }
    fclose(f);
    return rgb;
}

#endif
