/* compress_encrypt: compress a PPM with libjpeg and encrypt it on the fly.
 *
 *   compress_encrypt IN.ppm KEYHEX OUT.jpg [PLAIN.jpg [QUALITY]]
 *
 * The image is compressed once through jsec's libjpeg destination manager
 * (include/jsec_libjpeg.h), which encrypts the finished JPEG in place before
 * it reaches OUT.jpg. With PLAIN.jpg the same image is also compressed with
 * the same settings through libjpeg's own jpeg_stdio_dest, to show that the
 * protected file has exactly the size of the plain one.
 *
 * Error handling follows libjpeg's example.c: error_exit longjmps back here.
 * jsec failures reach error_exit only after the jsec call has returned, so no
 * longjmp ever crosses the Rust library. */
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

typedef struct {
    int width, height;
    unsigned char *rgb; /* width * height * 3 */
} image;

/* Read a binary PPM (P6, maxval 255). Returns 0 on success. */
static int read_ppm(const char *path, image *img) {
    img->rgb = example_read_ppm(path, &img->width, &img->height);
    return img->rgb != NULL ? 0 : -1;
}

/* Compress `img` into `out`: through jsec (cipher != NULL) or plain. */
static int compress(const image *img, int quality, const jsec_fspe_cipher *cipher, FILE *out,
                    unsigned long long *encrypted_bits) {
    struct jpeg_compress_struct cinfo;
    example_error_mgr jerr;
    int y;

    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = example_error_exit;
    if (setjmp(jerr.jump)) {
        const jsec_jpeg_error *e = jsec_jpeg_dest_error(&cinfo);
        if (e != NULL && e->status != JSEC_OK)
            fprintf(stderr, "compress_encrypt: %s: %s\n", jsec_status_str((int)e->status),
                    e->message);
        jpeg_destroy_compress(&cinfo);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    if (cipher != NULL)
        jsec_jpeg_stdio_dest(&cinfo, cipher, out);
    else
        jpeg_stdio_dest(&cinfo, out);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    for (y = 0; y < img->height; y++) {
        JSAMPROW row = img->rgb + (size_t)y * (size_t)img->width * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo); /* encrypts, then writes `out` */
    if (cipher != NULL && encrypted_bits != NULL)
        *encrypted_bits = jsec_jpeg_dest_get(&cinfo)->encrypted_bits;
    jpeg_destroy_compress(&cinfo);
    return 0;
}

static long file_size(FILE *f) {
    if (fseek(f, 0, SEEK_END) != 0) return -1;
    return ftell(f);
}

int main(int argc, char **argv) {
    image img = {0, 0, NULL};
    const jsec_key *key = NULL;
    jsec_fspe_options *options = NULL;
    const jsec_fspe_cipher *cipher = NULL;
    FILE *out = NULL, *plain = NULL;
    int quality = argc > 5 ? atoi(argv[5]) : 85;
    unsigned long long bits = 0;
    long enc_size, plain_size = -1;
    int rc = 1;
    jsec_status st;

    if (argc < 4 || argc > 6 || quality < 1 || quality > 100) {
        fprintf(stderr, "usage: compress_encrypt IN.ppm KEYHEX OUT.jpg [PLAIN.jpg [QUALITY]]\n");
        return 2;
    }
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK ||
        (st = jsec_key_new_from_hex(argv[2], &key)) != JSEC_OK ||
        (st = jsec_fspe_options_new(&options)) != JSEC_OK ||
        (st = jsec_fspe_cipher_new(key, options, 0, &cipher)) != JSEC_OK) {
        fprintf(stderr, "compress_encrypt: %s: %s\n", jsec_status_str((int)st),
                jsec_last_error());
        goto done;
    }
    if (read_ppm(argv[1], &img) != 0) goto done;

    out = fopen(argv[3], "w+b");
    if (out == NULL) {
        perror(argv[3]);
        goto done;
    }
    if (compress(&img, quality, cipher, out, &bits) != 0) goto done;
    enc_size = file_size(out);

    if (argc > 4) {
        plain = fopen(argv[4], "w+b");
        if (plain == NULL) {
            perror(argv[4]);
            goto done;
        }
        if (compress(&img, quality, NULL, plain, NULL) != 0) goto done;
        plain_size = file_size(plain);
    }
    printf("compress_encrypt: %dx%d q%d: %ld bytes, %llu additional bits encrypted\n",
           img.width, img.height, quality, enc_size, bits);
    if (plain_size >= 0) {
        printf("compress_encrypt: plain compression: %ld bytes (%s)\n", plain_size,
               plain_size == enc_size ? "same size" : "SIZE DIFFERS");
        if (plain_size != enc_size) goto done;
    }
    rc = 0;
done:
    if (out != NULL && fclose(out) != 0) {
        perror(argv[3]);
        rc = 1;
    }
    if (plain != NULL && fclose(plain) != 0) {
        perror(argv[4]);
        rc = 1;
    }
    /* Never leave a partial or unchecked output behind. */
    if (rc != 0 && out != NULL) remove_partial(argv[3]);
    if (rc != 0 && plain != NULL) remove_partial(argv[4]);
    free(img.rgb);
    jsec_fspe_cipher_free(cipher);
    jsec_fspe_options_free(options);
    jsec_key_free(key);
    return rc;
}
