/* camera_sign: a camera signs while it encodes (croppable signature).
 *
 *   camera_sign IN.ppm OUT.jpg PUBKEY.bin [GRANULARITY]
 *
 * A fresh signing key stands for the camera's key. The picture is
 * compressed with libjpeg through jsec's signing destination manager
 * (include/jsec_libjpeg.h): what jpeg_finish_compress() produces is signed,
 * every cell of GRANULARITY x GRANULARITY iMCUs (default 1), and only then
 * written to OUT.jpg. The public key (96 bytes) goes to PUBKEY.bin for the
 * verifier. See server_crop.c and client_verify.c for the rest of the story. */
#define _POSIX_C_SOURCE 200809L /* stat() in remove_partial.h */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "jsec.h"
#include "remove_partial.h"
#include "example_io.h"
#include "example_jpeg_error.h"
#include "jsec_libjpeg.h"

static int compress_signed(const unsigned char *rgb, int w, int h, const jsec_sign_key *key,
                           const jsec_sign_options *options, FILE *out) {
    struct jpeg_compress_struct cinfo;
    example_error_mgr jerr;
    int y;
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = example_error_exit;
    if (setjmp(jerr.jump)) {
        const jsec_jpeg_error *e = jsec_jpeg_dest_error(&cinfo);
        if (e != NULL && e->status != JSEC_OK)
            fprintf(stderr, "camera_sign: %s: %s\n", jsec_status_str((int)e->status),
                    e->message);
        jpeg_destroy_compress(&cinfo);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jsec_jpeg_stdio_sign_dest(&cinfo, key, options, out);
    cinfo.image_width = (JDIMENSION)w;
    cinfo.image_height = (JDIMENSION)h;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 85, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    for (y = 0; y < h; y++) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)y * (size_t)w * 3);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo); /* signs, then writes `out` */
    printf("camera_sign: %dx%d signed, %lu bytes\n", w, h,
           (unsigned long)jsec_jpeg_dest_get(&cinfo)->file_size);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

int main(int argc, char **argv) {
    const jsec_sign_key *key = NULL;
    const jsec_verify_key *pub = NULL;
    jsec_sign_options *options = NULL;
    unsigned char *rgb = NULL, pk[JSEC_VERIFY_KEY_LEN];
    FILE *out = NULL, *pkf = NULL;
    int w = 0, h = 0, rc = 1;
    unsigned g = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
    jsec_status st;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: camera_sign IN.ppm OUT.jpg PUBKEY.bin [GRANULARITY]\n");
        return 2;
    }
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK ||
        (st = jsec_sign_key_generate(&key)) != JSEC_OK ||
        (st = jsec_sign_key_public(key, &pub)) != JSEC_OK ||
        (st = jsec_verify_key_to_bytes(pub, pk, sizeof pk)) != JSEC_OK ||
        (st = jsec_sign_options_new(&options)) != JSEC_OK ||
        (st = jsec_sign_options_set_granularity(options, g)) != JSEC_OK ||
        (st = jsec_sign_options_set_threads(options, 2)) != JSEC_OK) {
        fprintf(stderr, "camera_sign: %s: %s\n", jsec_status_str((int)st), jsec_last_error());
        goto done;
    }
    rgb = example_read_ppm(argv[1], &w, &h);
    if (rgb == NULL) goto done;
    out = fopen(argv[2], "wb");
    if (out == NULL) {
        perror(argv[2]);
        goto done;
    }
    if (compress_signed(rgb, w, h, key, options, out) != 0) goto done;
    pkf = fopen(argv[3], "wb");
    if (pkf == NULL || fwrite(pk, 1, sizeof pk, pkf) != sizeof pk) {
        perror(argv[3]);
        goto done;
    }
    rc = 0;
done:
    if (out != NULL && fclose(out) != 0) rc = 1;
    if (pkf != NULL && fclose(pkf) != 0) rc = 1;
    if (rc != 0) {
        if (out != NULL) remove_partial(argv[2]);
        if (pkf != NULL) remove_partial(argv[3]);
    }
    free(rgb);
    jsec_sign_options_free(options);
    jsec_verify_key_free(pub);
    jsec_sign_key_free(key);
    return rc;
}
