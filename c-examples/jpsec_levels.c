/* jpsec_levels: one JPEG 2000 file, three audiences (JPSEC access levels).
 *
 *   jpsec_levels protect OUTDIR [IN.ppm]
 *   jpsec_levels check OUTDIR
 *
 * protect: encodes IN.ppm (or a picture it draws, saved as OUTDIR/drawn.ppm)
 * with libopenjp2 through the jsec_opj_writer glue (2 decomposition levels:
 * 3 resolutions, 2 quality layers), which protects the codestream with one
 * JPSEC access level per resolution (AES-256 CTR, format-compliant) keyed by
 * the master key k0. Then it consumes the protected file through the
 * jsec_opj_reader glue, once with k2 = jsec_jpsec_derive_key(k0, 2) (the
 * "preview" key: it opens the lowest resolution only) and once with k0.
 * It writes:
 *   OUTDIR/plain.j2k      the codestream libopenjp2 wrote (unprotected)
 *   OUTDIR/protected.j2k  the protected file (any JPEG 2000 decoder decodes
 *                         it, to scrambled pixels)
 *   OUTDIR/k2.j2k         consumed with k2: the lowest resolution restored
 *   OUTDIR/k2-preview.ppm k2.j2k decoded at reduce 2 through the reader glue
 *   OUTDIR/k0.j2k         consumed with k0: the original codestream
 *
 * check: decodes those files with libopenjp2 and checks (printing each):
 * the protected file decodes, to other pixels than plain.j2k; k2.j2k at
 * reduce 2 gives exactly the pixels of plain.j2k at reduce 2, while at full
 * resolution its pixels differ; k0.j2k is byte-identical to plain.j2k.
 * Exit status 0 when every check holds. */
#define _POSIX_C_SOURCE 200809L /* stat() in remove_partial.h */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_io.h"
#include "jsec_openjpeg.h"
#include "remove_partial.h"

/* The master key k0 (a real application draws it at random and keeps it). */
static const uint8_t K0[32] = {0x6a, 0x70, 0x73, 0x65, 0x63, 0x2d, 0x6c, 0x65, 0x76, 0x65, 0x6c,
                               0x73, 0x2d, 0x64, 0x65, 0x6d, 0x6f, 0x2d, 0x6b, 0x30, 0x11, 0x22,
                               0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc};

#define LEVELS 3 /* one access level per resolution: k0, k1, k2 */

static void quiet(const char *msg, void *user) {
    (void)msg;
    (void)user;
}

static int jsec_failed(const char *what, jsec_status st) {
    fprintf(stderr, "jpsec_levels: %s: %s: %s\n", what, jsec_status_str((int)st),
            jsec_last_error());
    return 1;
}

static void path_in(char *buf, size_t cap, const char *dir, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
}

static int write_file(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    if (ok) {
        ok = fwrite(data, 1, len, f) == len;
        ok = fclose(f) == 0 && ok;
    }
    if (!ok) {
        perror(path);
        remove_partial(path);
        return 1;
    }
    return 0;
}

/* A drawn picture: gradients, a disc, a checkerboard (width x height RGB). */
static unsigned char *draw(int w, int h) {
    unsigned char *rgb = malloc((size_t)w * (size_t)h * 3);
    int x, y;
    if (rgb == NULL) return NULL;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            unsigned char *px = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            int cx = x - w / 2, cy = y - h / 2;
            px[0] = (unsigned char)(x * 255 / (w - 1));
            px[1] = (unsigned char)(y * 255 / (h - 1));
            px[2] = (unsigned char)(cx * cx + cy * cy < (h / 3) * (h / 3) ? 230
                                    : ((x / 16 + y / 16) % 2) ? 40 : 140);
        }
    return rgb;
}

static int write_ppm(const char *path, const unsigned char *rgb, int w, int h) {
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    if (ok) {
        ok = fprintf(f, "P6\n%d %d\n255\n", w, h) > 0;
        ok = ok && fwrite(rgb, 1, (size_t)w * (size_t)h * 3, f) == (size_t)w * (size_t)h * 3;
        ok = fclose(f) == 0 && ok;
    }
    if (!ok) {
        perror(path);
        remove_partial(path);
        return 1;
    }
    return 0;
}

static opj_image_t *image_from_rgb(const unsigned char *rgb, int w, int h) {
    opj_image_cmptparm_t cp[3];
    opj_image_t *img;
    size_t i, n = (size_t)w * (size_t)h;
    int c;
    memset(cp, 0, sizeof cp);
    for (c = 0; c < 3; c++) {
        cp[c].dx = cp[c].dy = 1;
        cp[c].w = (OPJ_UINT32)w;
        cp[c].h = (OPJ_UINT32)h;
        cp[c].prec = 8;
    }
    img = opj_image_create(3, cp, OPJ_CLRSPC_SRGB);
    if (img == NULL) return NULL;
    img->x1 = (OPJ_UINT32)w;
    img->y1 = (OPJ_UINT32)h;
    for (i = 0; i < n; i++)
        for (c = 0; c < 3; c++) img->comps[c].data[i] = rgb[i * 3 + (size_t)c];
    return img;
}

/* Decode from `st` at reduce `r`: RGB samples (malloc'd) and the size. */
static int *decode_stream(opj_stream_t *st, unsigned r, int *w, int *h) {
    opj_codec_t *codec = opj_create_decompress(OPJ_CODEC_J2K);
    opj_dparameters_t p;
    opj_image_t *img = NULL;
    int *out = NULL;
    opj_set_default_decoder_parameters(&p);
    opj_set_info_handler(codec, quiet, NULL);
    opj_set_warning_handler(codec, quiet, NULL);
    opj_set_error_handler(codec, quiet, NULL);
    if (opj_setup_decoder(codec, &p) && opj_read_header(st, codec, &img) &&
        opj_set_decoded_resolution_factor(codec, r) && opj_decode(codec, st, img) &&
        opj_end_decompress(codec, st) && img->numcomps == 3) {
        size_t n = (size_t)img->comps[0].w * img->comps[0].h, i;
        int c;
        out = malloc(n * 3 * sizeof *out);
        if (out != NULL) {
            for (i = 0; i < n; i++)
                for (c = 0; c < 3; c++) out[i * 3 + (size_t)c] = img->comps[c].data[i];
            *w = (int)img->comps[0].w;
            *h = (int)img->comps[0].h;
        }
    }
    opj_image_destroy(img);
    opj_destroy_codec(codec);
    return out;
}

/* ---- protect ---- */

static int print_report(const char *who, const jsec_jpsec_report *report) {
    jsec_jpsec_tool_report t;
    bool complete = false;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    if (jsec_jpsec_report_tool(report, 0, &t) != JSEC_OK ||
        jsec_jpsec_report_complete(report, &complete) != JSEC_OK)
        return jsec_failed("report", JSEC_ERR_INTERNAL);
    printf("jpsec_levels: %s: %s\n", who, t.description);
    printf("jpsec_levels: %s: %zu packet(s) decrypted, %zu locked; %s\n", who, t.decrypted,
           t.locked, complete ? "complete: the original codestream" : "partial");
    return 0;
}

/* Consume `protected_path` with `key` (level key of `key_level`), write the
 * result to `out_path`; with `preview`, also decode it at reduce 2 through
 * the reader's stream and write that as a PPM. */
static int consume_with(const char *protected_path, const uint8_t *key, const char *who,
                        const char *out_path, const char *preview) {
    jsec_jpsec_keys *keys = NULL;
    jsec_opj_reader *r = NULL;
    const jsec_jpsec_report *report = NULL;
    const uint8_t *data;
    size_t len;
    jsec_status st;
    int rc = 1;
    if ((st = jsec_jpsec_keys_new(&keys)) != JSEC_OK ||
        (st = jsec_jpsec_keys_add(keys, key, sizeof K0)) != JSEC_OK)
        goto jsec_error;
    if ((st = jsec_opj_reader_new(protected_path, keys, &r, &report)) != JSEC_OK) goto jsec_error;
    if (print_report(who, report) != 0) goto done;
    if ((st = jsec_opj_reader_data(r, &data, &len)) != JSEC_OK) goto jsec_error;
    if (write_file(out_path, data, len) != 0) goto done;
    printf("jpsec_levels: %s: wrote %s (%zu bytes)\n", who, out_path, len);
    if (preview != NULL) {
        int w = 0, h = 0, *px = decode_stream(jsec_opj_reader_stream(r), 2, &w, &h);
        unsigned char *rgb;
        size_t i;
        if (px == NULL) {
            fprintf(stderr, "jpsec_levels: %s: libopenjp2 cannot decode at reduce 2\n", who);
            goto done;
        }
        rgb = malloc((size_t)w * (size_t)h * 3);
        if (rgb == NULL) {
            free(px);
            goto done;
        }
        for (i = 0; i < (size_t)w * (size_t)h * 3; i++)
            rgb[i] = (unsigned char)(px[i] < 0 ? 0 : px[i] > 255 ? 255 : px[i]);
        free(px);
        if (write_ppm(preview, rgb, w, h) != 0) {
            free(rgb);
            goto done;
        }
        free(rgb);
        printf("jpsec_levels: %s: wrote %s (%dx%d, reduce 2)\n", who, preview, w, h);
    }
    rc = 0;
    goto done;
jsec_error:
    jsec_failed(who, st);
done:
    jsec_opj_reader_free(r);
    jsec_jpsec_report_free(report);
    jsec_jpsec_keys_free(keys);
    return rc;
}

static int protect(const char *dir, const char *ppm) {
    char path[1024], plain[1024], prot[1024], k2_path[1024], k0_path[1024], preview[1024];
    unsigned char *rgb;
    int w = 0, h = 0, rc = 1;
    uint8_t k2[sizeof K0];
    jsec_jpsec_policy *policy = NULL;
    jsec_opj_writer *writer = NULL;
    opj_image_t *img = NULL;
    opj_codec_t *codec = NULL;
    opj_cparameters_t p;
    const uint8_t *data;
    size_t len, i;
    jsec_status st;

    if (ppm != NULL) {
        rgb = example_read_ppm(ppm, &w, &h);
        if (rgb == NULL) return 1;
    } else {
        w = 320;
        h = 240;
        rgb = draw(w, h);
        path_in(path, sizeof path, dir, "drawn.ppm");
        if (rgb == NULL || write_ppm(path, rgb, w, h) != 0) {
            free(rgb);
            return 1;
        }
        printf("jpsec_levels: drew %s (%dx%d)\n", path, w, h);
    }
    img = image_from_rgb(rgb, w, h);
    free(rgb);
    if (img == NULL) {
        fprintf(stderr, "jpsec_levels: libopenjp2 cannot make the image\n");
        return 1;
    }
    path_in(plain, sizeof plain, dir, "plain.j2k");
    path_in(prot, sizeof prot, dir, "protected.j2k");
    path_in(k2_path, sizeof k2_path, dir, "k2.j2k");
    path_in(k0_path, sizeof k0_path, dir, "k0.j2k");
    path_in(preview, sizeof preview, dir, "k2-preview.ppm");

    /* The policy: AES-256 CTR, format-compliant, one level per resolution. */
    if ((st = jsec_jpsec_policy_new(&policy)) != JSEC_OK ||
        (st = jsec_jpsec_policy_add_encryption(policy, K0, sizeof K0, JSEC_JPSEC_MODE_CTR,
                                               true)) != JSEC_OK ||
        (st = jsec_jpsec_policy_set_levels(policy, JSEC_JPSEC_ACCESS_RESOLUTION, LEVELS)) !=
            JSEC_OK ||
        (st = jsec_opj_writer_new(policy, prot, &writer)) != JSEC_OK) {
        jsec_failed("policy", st);
        goto done;
    }

    /* Encode with libopenjp2 straight into the protecting writer. */
    opj_set_default_encoder_parameters(&p);
    p.numresolution = LEVELS; /* 2 decomposition levels: 3 resolutions */
    p.tcp_numlayers = 2;
    p.tcp_rates[0] = 20;
    p.tcp_rates[1] = 4;
    p.cp_disto_alloc = 1;
    codec = opj_create_compress(OPJ_CODEC_J2K);
    if (codec == NULL || !opj_setup_encoder(codec, &p, img) ||
        !opj_start_compress(codec, img, jsec_opj_writer_stream(writer)) ||
        !opj_encode(codec, jsec_opj_writer_stream(writer)) ||
        !opj_end_compress(codec, jsec_opj_writer_stream(writer))) {
        fprintf(stderr, "jpsec_levels: libopenjp2 failed to encode\n");
        goto done;
    }
    if ((st = jsec_opj_writer_codestream(writer, &data, &len)) != JSEC_OK) {
        jsec_failed("codestream", st);
        goto done;
    }
    if (write_file(plain, data, len) != 0) goto done;
    printf("jpsec_levels: wrote %s (%zu bytes, unprotected)\n", plain, len);
    if ((st = jsec_opj_writer_finish(writer)) != JSEC_OK) {
        jsec_failed("protect", st);
        goto done;
    }
    printf("jpsec_levels: wrote %s (protected: %d access levels by resolution)\n", prot, LEVELS);

    /* The preview audience gets k2; the owner keeps k0. */
    if ((st = jsec_jpsec_derive_key(K0, sizeof K0, 2, k2, sizeof k2)) != JSEC_OK) {
        jsec_failed("derive k2", st);
        goto done;
    }
    printf("jpsec_levels: k2 = ");
    for (i = 0; i < sizeof k2; i++) printf("%02x", k2[i]);
    printf("\n");
    if (consume_with(prot, k2, "k2", k2_path, preview) != 0) goto done;
    if (consume_with(prot, K0, "k0", k0_path, NULL) != 0) goto done;
    rc = 0;
done:
    memset(k2, 0, sizeof k2);
    if (codec != NULL) opj_destroy_codec(codec);
    opj_image_destroy(img);
    jsec_opj_writer_free(writer);
    jsec_jpsec_policy_free(policy);
    return rc;
}

/* ---- check ---- */

typedef struct {
    const unsigned char *data;
    size_t len, pos;
} mem_src;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T n, void *user) {
    mem_src *m = user;
    size_t left = m->len - m->pos;
    if (left == 0) return (OPJ_SIZE_T)-1;
    if (n > left) n = left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return n;
}

static OPJ_OFF_T mem_skip(OPJ_OFF_T n, void *user) {
    mem_src *m = user;
    if (n < 0 || (size_t)n > m->len - m->pos) n = (OPJ_OFF_T)(m->len - m->pos);
    m->pos += (size_t)n;
    return n;
}

static OPJ_BOOL mem_seek(OPJ_OFF_T n, void *user) {
    mem_src *m = user;
    if (n < 0 || (size_t)n > m->len) return OPJ_FALSE;
    m->pos = (size_t)n;
    return OPJ_TRUE;
}

static int *decode_file(const unsigned char *data, size_t len, unsigned r, int *w, int *h) {
    mem_src m = {data, len, 0};
    opj_stream_t *st = opj_stream_create(65536, OPJ_TRUE);
    int *px;
    if (st == NULL) return NULL;
    opj_stream_set_user_data(st, &m, NULL);
    opj_stream_set_user_data_length(st, len);
    opj_stream_set_read_function(st, mem_read);
    opj_stream_set_skip_function(st, mem_skip);
    opj_stream_set_seek_function(st, mem_seek);
    px = decode_stream(st, r, w, h);
    opj_stream_destroy(st);
    return px;
}

/* 1: same pixels, 0: different, -1: a file does not decode. */
static int same_pixels(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                       unsigned r) {
    int wa = 0, ha = 0, wb = 0, hb = 0, same;
    int *pa = decode_file(a, alen, r, &wa, &ha), *pb = decode_file(b, blen, r, &wb, &hb);
    if (pa == NULL || pb == NULL) {
        free(pa);
        free(pb);
        return -1;
    }
    same = wa == wb && ha == hb &&
           memcmp(pa, pb, (size_t)wa * (size_t)ha * 3 * sizeof *pa) == 0;
    free(pa);
    free(pb);
    return same;
}

static int verdict(bool ok, const char *what) {
    printf("jpsec_levels: check: %s: %s\n", what, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

static int check(const char *dir) {
    static const char *names[4] = {"plain.j2k", "protected.j2k", "k2.j2k", "k0.j2k"};
    unsigned char *f[4] = {NULL, NULL, NULL, NULL};
    size_t n[4] = {0, 0, 0, 0};
    int i, bad = 0, w = 0, h = 0, *px;
    char path[1024];
    for (i = 0; i < 4; i++) {
        path_in(path, sizeof path, dir, names[i]);
        f[i] = example_read_file(path, &n[i]);
        if (f[i] == NULL) {
            bad = 1;
            goto done;
        }
    }
    px = decode_file(f[1], n[1], 0, &w, &h);
    bad |= verdict(px != NULL, "libopenjp2 decodes protected.j2k without keys");
    free(px);
    bad |= verdict(same_pixels(f[1], n[1], f[0], n[0], 0) == 0,
                   "protected.j2k decodes to other pixels than plain.j2k");
    bad |= verdict(same_pixels(f[2], n[2], f[0], n[0], 2) == 1,
                   "k2.j2k at reduce 2 has exactly the pixels of plain.j2k at reduce 2");
    bad |= verdict(same_pixels(f[2], n[2], f[0], n[0], 1) == 0,
                   "k2.j2k at reduce 1 differs from plain.j2k (resolution 1 stays locked)");
    bad |= verdict(same_pixels(f[2], n[2], f[0], n[0], 0) == 0,
                   "k2.j2k at full resolution differs from plain.j2k");
    bad |= verdict(n[3] == n[0] && memcmp(f[3], f[0], n[0]) == 0,
                   "k0.j2k is byte-identical to plain.j2k");
done:
    for (i = 0; i < 4; i++) free(f[i]);
    if (!bad) printf("jpsec_levels: all checks passed\n");
    return bad;
}

int main(int argc, char **argv) {
    jsec_status st = jsec_init(JSEC_ABI_VERSION);
    if (st != JSEC_OK) return jsec_failed("jsec_init", st);
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "protect") == 0)
        return protect(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc == 3 && strcmp(argv[1], "check") == 0) return check(argv[2]);
    fprintf(stderr, "usage: jpsec_levels protect OUTDIR [IN.ppm]\n"
                    "       jpsec_levels check OUTDIR\n");
    return 2;
}
