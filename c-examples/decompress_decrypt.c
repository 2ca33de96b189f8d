/* decompress_decrypt: decode a protected JPEG with the key.
 *
 *   decompress_decrypt IN.jpg KEYHEX OUT.ppm [PLAIN.jpg]
 *
 * IN.jpg is read through jsec's libjpeg source manager
 * (include/jsec_libjpeg.h), which decrypts the whole file before libjpeg
 * parses it; the pixels are written to OUT.ppm. With PLAIN.jpg the plain file
 * is decoded too, through libjpeg's own jpeg_stdio_src, and the two pixel
 * buffers must be identical. */
#define _POSIX_C_SOURCE 200809L /* stat() in remove_partial.h */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "jsec.h"
#include "remove_partial.h"
#include "example_jpeg_error.h"
#include "jsec_libjpeg.h"

typedef struct {
    unsigned width, height, components;
    unsigned char *pixels;
} image;

/* Decode `f` (decrypting with `cipher` unless it is NULL) into `img`. */
static int decode(FILE *f, const jsec_fspe_cipher *cipher, image *img) {
    struct jpeg_decompress_struct cinfo;
    example_error_mgr jerr;
    size_t stride;
    unsigned char *volatile pixels = NULL;

    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = example_error_exit;
    if (setjmp(jerr.jump)) {
        const jsec_jpeg_error *e = jsec_jpeg_src_error(&cinfo);
        if (e != NULL && e->status != JSEC_OK)
            fprintf(stderr, "decompress_decrypt: %s: %s\n", jsec_status_str((int)e->status),
                    e->message);
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    if (cipher != NULL)
        jsec_jpeg_stdio_src(&cinfo, cipher, f);
    else
        jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE); /* reads and decrypts the whole file */
    jpeg_start_decompress(&cinfo);
    stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    pixels = malloc(stride * cinfo.output_height);
    if (pixels == NULL) ERREXIT1(&cinfo, JERR_OUT_OF_MEMORY, 0);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    img->width = cinfo.output_width;
    img->height = cinfo.output_height;
    img->components = (unsigned)cinfo.output_components;
    img->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

static int write_pnm(const char *path, const image *img) {
    FILE *f = fopen(path, "wb");
    size_t n = (size_t)img->width * img->height * img->components;
    int ok;
    if (f == NULL) {
        perror(path);
        return -1;
    }
    /* The same header djpeg writes, so the files can be compared directly. */
    fprintf(f, "P%c\n%u %u\n255\n", img->components == 1 ? '5' : '6', img->width,
            img->height);
    ok = fwrite(img->pixels, 1, n, f) == n;
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        perror(path);
        remove_partial(path); /* no partial output */
    }
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    const jsec_key *key = NULL;
    jsec_fspe_options *options = NULL;
    const jsec_fspe_cipher *cipher = NULL;
    image dec = {0, 0, 0, NULL}, ref = {0, 0, 0, NULL};
    FILE *in = NULL, *plain = NULL;
    int rc = 1;
    jsec_status st;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: decompress_decrypt IN.jpg KEYHEX OUT.ppm [PLAIN.jpg]\n");
        return 2;
    }
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK ||
        (st = jsec_key_new_from_hex(argv[2], &key)) != JSEC_OK ||
        (st = jsec_fspe_options_new(&options)) != JSEC_OK ||
        (st = jsec_fspe_cipher_new(key, options, 0, &cipher)) != JSEC_OK) {
        fprintf(stderr, "decompress_decrypt: %s: %s\n", jsec_status_str((int)st),
                jsec_last_error());
        goto done;
    }
    in = fopen(argv[1], "rb");
    if (in == NULL) {
        perror(argv[1]);
        goto done;
    }
    if (decode(in, cipher, &dec) != 0) goto done;
    if (write_pnm(argv[3], &dec) != 0) goto done;
    printf("decompress_decrypt: %ux%u, %u components -> %s\n", dec.width, dec.height,
           dec.components, argv[3]);
    if (argc > 4) {
        size_t n;
        plain = fopen(argv[4], "rb");
        if (plain == NULL) {
            perror(argv[4]);
            goto done;
        }
        if (decode(plain, NULL, &ref) != 0) goto done;
        n = (size_t)ref.width * ref.height * ref.components;
        if (ref.width != dec.width || ref.height != dec.height ||
            ref.components != dec.components || memcmp(ref.pixels, dec.pixels, n) != 0) {
            fprintf(stderr, "decompress_decrypt: PIXELS DIFFER from the plain decode\n");
            goto done;
        }
        printf("decompress_decrypt: pixels identical to the plain decode (%zu bytes)\n", n);
    }
    rc = 0;
done:
    if (in != NULL) fclose(in);
    if (plain != NULL) fclose(plain);
    free(dec.pixels);
    free(ref.pixels);
    jsec_fspe_cipher_free(cipher);
    jsec_fspe_options_free(options);
    jsec_key_free(key);
    return rc;
}
