/* inplace: encrypt or decrypt a JPEG file in memory with the plain C API.
 *
 *   inplace encrypt|decrypt KEYHEX IN.jpg OUT.jpg [NONCEHEX]
 *
 * The file is read into a buffer, transformed in place by
 * jsec_fspe_cipher_encrypt / _decrypt (same length, still a valid JPEG) and
 * written to OUT.jpg. The program then undoes the operation on a copy and
 * checks that it gives the input back byte for byte. NONCEHEX (32 hex digits)
 * selects a caller nonce instead of the default one derived from the file. */
#define _POSIX_C_SOURCE 200809L /* stat() in remove_partial.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsec.h"
#include "remove_partial.h"
#include "example_io.h"

static int parse_hex(const char *hex, unsigned char *out, size_t len) {
    size_t i;
    if (strlen(hex) != 2 * len) return -1;
    for (i = 0; i < len; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

static void print_report(const jsec_fspe_report *report) {
    size_t n = 0, i;
    if (jsec_fspe_report_image_count(report, &n) != JSEC_OK) return;
    for (i = 0; i < n; i++) {
        jsec_fspe_image_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        if (jsec_fspe_report_image(report, i, &info) != JSEC_OK) continue;
        printf("inplace: image %zu at %llu: %ux%u, %u scans, %llu of %llu additional bits\n",
               i, (unsigned long long)info.offset, info.width, info.height, info.scans,
               (unsigned long long)info.encrypted_bits,
               (unsigned long long)info.additional_bits);
    }
}

int main(int argc, char **argv) {
    const jsec_key *key = NULL;
    jsec_fspe_options *options = NULL;
    const jsec_fspe_cipher *cipher = NULL;
    jsec_fspe_report *report = NULL;
    unsigned char *buf = NULL, *copy = NULL, nonce[JSEC_FSPE_NONCE_LEN];
    size_t len = 0, i, changed = 0;
    int encrypt, rc = 1;
    FILE *out;
    jsec_status st;

    if (argc < 5 || argc > 6 || (strcmp(argv[1], "encrypt") != 0 &&
                                 strcmp(argv[1], "decrypt") != 0)) {
        fprintf(stderr, "usage: inplace encrypt|decrypt KEYHEX IN.jpg OUT.jpg [NONCEHEX]\n");
        return 2;
    }
    encrypt = strcmp(argv[1], "encrypt") == 0;
    if (argc > 5 && parse_hex(argv[5], nonce, sizeof nonce) != 0) {
        fprintf(stderr, "inplace: the nonce must be %d hex digits\n", 2 * JSEC_FSPE_NONCE_LEN);
        return 2;
    }
    if ((st = jsec_init(JSEC_ABI_VERSION)) != JSEC_OK ||
        (st = jsec_key_new_from_hex(argv[2], &key)) != JSEC_OK ||
        (st = jsec_fspe_options_new(&options)) != JSEC_OK ||
        (argc > 5 && (st = jsec_fspe_options_set_nonce(options, nonce, sizeof nonce)) != JSEC_OK) ||
        (st = jsec_fspe_cipher_new(key, options, 0, &cipher)) != JSEC_OK)
        goto jsec_failed;

    buf = example_read_file(argv[3], &len);
    if (buf == NULL) goto done;
    copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) goto done;
    memcpy(copy, buf, len);

    /* The operation itself: in place, same length. */
    st = encrypt ? jsec_fspe_cipher_encrypt(cipher, buf, len, &report)
                 : jsec_fspe_cipher_decrypt(cipher, buf, len, &report);
    if (st != JSEC_OK) goto jsec_failed;
    for (i = 0; i < len; i++) changed += buf[i] != copy[i];
    printf("inplace: %s %s: %zu bytes, %zu bytes changed\n", argv[1], argv[3], len, changed);
    print_report(report);

    out = fopen(argv[4], "wb");
    if (out == NULL) {
        perror(argv[4]);
        goto done;
    }
    {
        int written = fwrite(buf, 1, len, out) == len;
        if (fclose(out) != 0) written = 0;
        if (!written) {
            perror(argv[4]);
            remove_partial(argv[4]);
            goto done;
        }
    }

    /* Undo it on the result and compare with the input. */
    st = encrypt ? jsec_fspe_cipher_decrypt(cipher, buf, len, NULL)
                 : jsec_fspe_cipher_encrypt(cipher, buf, len, NULL);
    if (st != JSEC_OK) goto jsec_failed;
    if (memcmp(buf, copy, len) != 0) {
        fprintf(stderr, "inplace: ROUND TRIP FAILED: undoing the %s did not restore the input\n",
                argv[1]);
        goto done;
    }
    printf("inplace: round trip restores all %zu bytes\n", len);
    rc = 0;
    goto done;

jsec_failed:
    fprintf(stderr, "inplace: %s: %s\n", jsec_status_str((int)st), jsec_last_error());
done:
    free(buf);
    free(copy);
    jsec_fspe_report_free(report);
    jsec_fspe_cipher_free(cipher);
    jsec_fspe_options_free(options);
    jsec_key_free(key);
    return rc;
}
