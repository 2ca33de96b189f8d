/* server_crop: a news site crops a signed photo, without any key.
 *
 *   server_crop IN.jpg X Y W H OUT.jpg
 *
 * jsec_sign_crop() crops losslessly on the signature's cell grid (the
 * decoded pixels are those of `jpegtran -crop`) and replaces the full
 * signature by the crop's single aggregate signature. A rectangle off the
 * grid is refused with the nearest aligned one in the message. */
#define _POSIX_C_SOURCE 200809L /* stat() in remove_partial.h */
#include <stdio.h>
#include <stdlib.h>

#include "jsec.h"
#include "remove_partial.h"
#include "example_io.h"

int main(int argc, char **argv) {
    unsigned char *in = NULL;
    size_t len = 0, out_len = 0;
    jsec_buffer *crop = NULL;
    const uint8_t *bytes = NULL;
    FILE *out = NULL;
    int rc = 1;
    jsec_status st;

    if (argc != 7) {
        fprintf(stderr, "usage: server_crop IN.jpg X Y W H OUT.jpg\n");
        return 2;
    }
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK) goto fail;
    in = example_read_file(argv[1], &len);
    if (in == NULL) goto done;
    st = jsec_sign_crop(in, len, (uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]),
                        (uint32_t)atol(argv[4]), (uint32_t)atol(argv[5]), &crop);
    if (st != JSEC_OK || (st = jsec_buffer_data(crop, &bytes, &out_len)) != JSEC_OK) goto fail;
    out = fopen(argv[6], "wb");
    if (out == NULL || fwrite(bytes, 1, out_len, out) != out_len) {
        perror(argv[6]);
        goto done;
    }
    printf("server_crop: %sx%s at (%s, %s), %lu bytes (no key used)\n", argv[4], argv[5],
           argv[2], argv[3], (unsigned long)out_len);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "server_crop: %s: %s\n", jsec_status_str((int)st), jsec_last_error());
done:
    if (out != NULL && fclose(out) != 0) rc = 1;
    if (rc != 0 && out != NULL) remove_partial(argv[6]);
    jsec_buffer_free(crop);
    free(in);
    return rc;
}
