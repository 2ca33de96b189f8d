/* client_verify: a reader checks a (cropped) photo before showing it.
 *
 *   client_verify PUBKEY.bin IN.jpg OUT.ppm
 *
 * The photo is decoded with libjpeg through jsec's verifying source manager
 * (include/jsec_libjpeg.h): jpeg_read_header() first checks the croppable
 * signature against the signer's public key (one aggregate signature, two
 * pairings) and decodes nothing unless it is valid. On success it prints the
 * original size and where the crop lies in it, and writes the pixels to
 * OUT.ppm. Exit status: 0 valid, 1 invalid or unreadable, 2 usage. */
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

/* Unlike example_error_exit, print nothing: the handler below prints the
 * whole jsec reason rather than libjpeg's shortened message. */
static void silent_error_exit(j_common_ptr cinfo) {
    longjmp(((example_error_mgr *)cinfo->err)->jump, 1);
}

/* Verify and decode `in` into a malloc'd RGB buffer; NULL when the signature
 * is invalid or the file cannot be decoded (the reason printed). */
static unsigned char *verify_and_decode(const jsec_verify_key *key, FILE *in,
                                        jsec_sign_verification *v, unsigned *w, unsigned *h,
                                        const char *name) {
    struct jpeg_decompress_struct dinfo;
    example_error_mgr jerr;
    unsigned char *volatile pixels = NULL;
    dinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = silent_error_exit;
    if (setjmp(jerr.jump)) {
        const jsec_jpeg_error *e = jsec_jpeg_src_error(&dinfo);
        if (e != NULL && e->status != JSEC_OK)
            fprintf(stderr, "client_verify: %s: INVALID: %s\n", name, e->message);
        else
            (*dinfo.err->output_message)((j_common_ptr)&dinfo);
        jpeg_destroy_decompress(&dinfo);
        free(pixels);
        return NULL;
    }
    jpeg_create_decompress(&dinfo);
    jsec_jpeg_stdio_verify_src(&dinfo, key, NULL, v, in);
    jpeg_read_header(&dinfo, TRUE); /* verifies first */
    dinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&dinfo);
    *w = dinfo.output_width;
    *h = dinfo.output_height;
    pixels = malloc((size_t)*w * *h * 3);
    if (pixels == NULL) ERREXIT1(&dinfo, JERR_OUT_OF_MEMORY, 0);
    while (dinfo.output_scanline < dinfo.output_height) {
        JSAMPROW row = pixels + (size_t)dinfo.output_scanline * *w * 3;
        jpeg_read_scanlines(&dinfo, &row, 1);
    }
    jpeg_finish_decompress(&dinfo);
    jpeg_destroy_decompress(&dinfo);
    return pixels;
}

int main(int argc, char **argv) {
    unsigned char pk[JSEC_VERIFY_KEY_LEN], *pixels;
    const jsec_verify_key *key = NULL;
    jsec_sign_verification v;
    FILE *pkf, *in, *out;
    unsigned w = 0, h = 0;
    int rc = 1;
    jsec_status st;

    if (argc != 4) {
        fprintf(stderr, "usage: client_verify PUBKEY.bin IN.jpg OUT.ppm\n");
        return 2;
    }
    pkf = fopen(argv[1], "rb");
    if (pkf == NULL || fread(pk, 1, sizeof pk, pkf) != sizeof pk) {
        fprintf(stderr, "client_verify: %s: cannot read a %d-byte public key\n", argv[1],
                JSEC_VERIFY_KEY_LEN);
        if (pkf != NULL) fclose(pkf);
        return 1;
    }
    fclose(pkf);
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK ||
        (st = jsec_verify_key_new_from_bytes(pk, sizeof pk, &key)) != JSEC_OK) {
        fprintf(stderr, "client_verify: %s: %s\n", jsec_status_str((int)st), jsec_last_error());
        return 1;
    }
    in = fopen(argv[2], "rb");
    if (in == NULL) {
        perror(argv[2]);
        jsec_verify_key_free(key);
        return 1;
    }
    memset(&v, 0, sizeof v);
    v.struct_size = sizeof v;
    pixels = verify_and_decode(key, in, &v, &w, &h, argv[2]);
    fclose(in);
    jsec_verify_key_free(key);
    if (pixels == NULL) return 1;
    printf("client_verify: valid signature: %ux%u at (%u, %u) of a %ux%u original%s\n",
           v.crop_width, v.crop_height, v.crop_x, v.crop_y, v.original_width,
           v.original_height, v.cropped ? "" : " (not cropped)");
    out = fopen(argv[3], "wb");
    if (out == NULL) {
        perror(argv[3]);
    } else {
        size_t n = (size_t)w * h * 3;
        int ok = fprintf(out, "P6\n%u %u\n255\n", w, h) > 0 && fwrite(pixels, 1, n, out) == n;
        if (fclose(out) != 0) ok = 0;
        if (ok)
            rc = 0;
        else
            remove_partial(argv[3]);
    }
    free(pixels);
    return rc;
}
