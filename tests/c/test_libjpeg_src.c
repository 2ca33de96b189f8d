/* test_libjpeg_src: the decrypting source managers of jsec_libjpeg.h
 * (jsec_jpeg_mem_src, jsec_jpeg_stdio_src, jsec_jpeg_src_get/_error): the
 * pixels equal libjpeg's decode of the plain file exactly, the input buffer
 * is never changed, partial decryption with a level-1 key, reuse of one
 * decompressor; errors (garbage, progressive, empty input, truncated file)
 * reach error_exit after the jsec call returned, with the record filled. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "jsec_libjpeg.h"
#include "testjpeg.h"

unsigned long check_count;

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int msg_code;
    int warnings;
    char text[JMSG_LENGTH_MAX];
} catch_mgr;

static void catch_exit(j_common_ptr cinfo) {
    catch_mgr *m = (catch_mgr *)cinfo->err;
    m->msg_code = cinfo->err->msg_code;
    (*cinfo->err->format_message)(cinfo, m->text);
    longjmp(m->jump, 1);
}

static void catch_emit(j_common_ptr cinfo, int level) {
    catch_mgr *m = (catch_mgr *)cinfo->err;
    if (level < 0) m->warnings++;
}

static void init_decompressor(struct jpeg_decompress_struct *cinfo, catch_mgr *m) {
    memset(m, 0, sizeof *m);
    cinfo->err = jpeg_std_error(&m->pub);
    m->pub.error_exit = catch_exit;
    m->pub.emit_message = catch_emit;
    jpeg_create_decompress(cinfo);
}

typedef struct {
    unsigned char *px;
    size_t size;
} pixels;

/* Decode through jsec (from memory, or from `f` if not NULL). Returns 0, or
 * 1 when error_exit was called. */
static int decode(struct jpeg_decompress_struct *cinfo, catch_mgr *m, const jsec_fspe_cipher *c,
                  const unsigned char *buf, size_t len, FILE *f, pixels *out) {
    size_t stride;
    out->px = NULL;
    if (setjmp(m->jump)) {
        free(out->px);
        out->px = NULL;
        return 1;
    }
    if (f != NULL)
        jsec_jpeg_stdio_src(cinfo, c, f);
    else
        jsec_jpeg_mem_src(cinfo, c, buf, len);
    jpeg_read_header(cinfo, TRUE);
    jpeg_start_decompress(cinfo);
    stride = (size_t)cinfo->output_width * cinfo->output_components;
    out->size = stride * cinfo->output_height;
    out->px = malloc(out->size);
    CHECK(out->px != NULL);
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = out->px + stride * cinfo->output_scanline;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    return 0;
}

static void check_decode(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    struct jpeg_decompress_struct cinfo;
    catch_mgr m;
    size_t len;
    unsigned char *plain, *enc, *enc_copy, *ref;
    int w, h, comps, round;
    pixels out;
    const jsec_jpeg_src_mgr *s;
    jsec_fspe_report *r = NULL;
    FILE *f;

    p.width = 173;
    p.height = 91;
    p.restart_rows = 2;
    plain = testjpeg_make(&p, &len);
    ref = testjpeg_decode(plain, len, &w, &h, &comps, NULL);
    enc = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c, enc, len, &r));
    enc_copy = test_dup(enc, len);

    init_decompressor(&cinfo, &m);
    CHECK(jsec_jpeg_src_get(&cinfo) == NULL);
    CHECK(jsec_jpeg_src_error(&cinfo) == NULL);
    CHECK(jsec_jpeg_src_get(NULL) == NULL);
    for (round = 0; round < 2; round++) { /* one decompressor, used twice */
        CHECK_EQ_LL(decode(&cinfo, &m, c, enc, len, NULL, &out), 0);
        CHECK_EQ_U(out.size, (size_t)w * h * comps);
        CHECK_MEM_EQ(out.px, ref, out.size);
        CHECK_MEM_EQ(enc, enc_copy, len); /* the input is never changed */
        s = jsec_jpeg_src_get(&cinfo);
        CHECK(s != NULL);
        CHECK_EQ_LL(s->error.status, JSEC_OK);
        CHECK_EQ_U(s->len, len);
        CHECK_EQ_U(s->decrypted_bits, test_image_info(r, 0).encrypted_bits);
        CHECK_EQ_LL(m.warnings, 0);
        free(out.px);
    }

    /* From a FILE. */
    f = tmpfile();
    CHECK(f != NULL);
    CHECK_EQ_U(fwrite(enc, 1, len, f), len);
    rewind(f);
    CHECK_EQ_LL(decode(&cinfo, &m, c, NULL, 0, f, &out), 0);
    CHECK_MEM_EQ(out.px, ref, out.size);
    free(out.px);
    fclose(f);

    /* A wrong key decodes too (nothing can tell), to other pixels. */
    {
        const jsec_fspe_cipher *wrong = test_cipher("0f0e0d0c0b0a09080706050403020100");
        CHECK_EQ_LL(decode(&cinfo, &m, wrong, enc, len, NULL, &out), 0);
        CHECK_MEM_NE(out.px, ref, out.size);
        free(out.px);
        jsec_fspe_cipher_free(wrong);
    }
    jpeg_destroy_decompress(&cinfo);
    jsec_fspe_report_free(r);
    free(plain);
    free(enc);
    free(enc_copy);
    free(ref);
    jsec_fspe_cipher_free(c);
}

/* Multi-level: the level-1 key restores DC and AC 1-5 only. */
static void check_partial(void) {
    const jsec_key *k0 = test_key(TEST_KEY_HEX), *k1 = NULL;
    jsec_fspe_options *o = NULL;
    const jsec_fspe_cipher *c0, *c1;
    testjpeg_params p = testjpeg_defaults();
    struct jpeg_decompress_struct cinfo;
    catch_mgr m;
    size_t len;
    unsigned char *plain, *enc, *ref, *direct;
    int w, h, comps;
    pixels full, part;

    CHECK_OK(jsec_key_derive(k0, 1, &k1));
    CHECK_OK(jsec_fspe_options_new(&o));
    CHECK_OK(jsec_fspe_options_set_levels(o, true));
    c0 = test_cipher_with(k0, o, 0);
    c1 = test_cipher_with(k1, o, 1);
    plain = testjpeg_make(&p, &len);
    ref = testjpeg_decode(plain, len, &w, &h, &comps, NULL);
    enc = test_dup(plain, len);
    CHECK_OK(jsec_fspe_cipher_encrypt(c0, enc, len, NULL));

    init_decompressor(&cinfo, &m);
    CHECK_EQ_LL(decode(&cinfo, &m, c0, enc, len, NULL, &full), 0);
    CHECK_MEM_EQ(full.px, ref, full.size);
    CHECK_EQ_LL(decode(&cinfo, &m, c1, enc, len, NULL, &part), 0);
    CHECK_MEM_NE(part.px, ref, part.size);
    /* Same as decrypting in place with the level-1 cipher, then decoding. */
    direct = test_dup(enc, len);
    CHECK_OK(jsec_fspe_cipher_decrypt(c1, direct, len, NULL));
    {
        unsigned char *px = testjpeg_decode(direct, len, &w, &h, &comps, NULL);
        CHECK_MEM_EQ(px, part.px, part.size);
        free(px);
    }
    jpeg_destroy_decompress(&cinfo);
    free(full.px);
    free(part.px);
    free(direct);
    free(plain);
    free(enc);
    free(ref);
    jsec_fspe_cipher_free(c0);
    jsec_fspe_cipher_free(c1);
    jsec_fspe_options_free(o);
    jsec_key_free(k0);
    jsec_key_free(k1);
}

static void check_errors(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    struct jpeg_decompress_struct cinfo;
    catch_mgr m;
    static const unsigned char garbage[] = "PK\x03\x04 a zip file, not a JPEG";
    unsigned char *prog, *plain;
    size_t plen, len;
    pixels out;
    FILE *f;

    /* Garbage: JSEC_ERR_MALFORMED through error_exit. */
    init_decompressor(&cinfo, &m);
    CHECK_EQ_LL(decode(&cinfo, &m, c, garbage, sizeof garbage - 1, NULL, &out), 1);
    CHECK_EQ_LL(m.msg_code, JSEC_JPEG_MSG_CODE);
    CHECK_STR_CONTAINS(m.text, "jsec: JSEC_ERR_MALFORMED: ");
    CHECK_EQ_LL(jsec_jpeg_src_error(&cinfo)->status, JSEC_ERR_MALFORMED);
    CHECK_STR_CONTAINS(jsec_jpeg_src_error(&cinfo)->message, "not a JPEG");
    printf("garbage: \"%s\"\n", m.text);
    jpeg_destroy_decompress(&cinfo);

    /* Progressive: JSEC_ERR_UNSUPPORTED. */
    p.progressive = 1;
    prog = testjpeg_make(&p, &plen);
    init_decompressor(&cinfo, &m);
    CHECK_EQ_LL(decode(&cinfo, &m, c, prog, plen, NULL, &out), 1);
    CHECK_EQ_LL(jsec_jpeg_src_error(&cinfo)->status, JSEC_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(m.text, "jsec: JSEC_ERR_UNSUPPORTED");
    /* After jpeg_abort_decompress the same decompressor decodes a good file;
     * the record is reset. */
    jpeg_abort_decompress(&cinfo);
    p.progressive = 0;
    plain = testjpeg_make(&p, &len);
    {
        unsigned char *enc = test_dup(plain, len);
        int rw, rh, rc;
        unsigned char *want = testjpeg_decode(plain, len, &rw, &rh, &rc, NULL);
        CHECK_OK(jsec_fspe_cipher_encrypt(c, enc, len, NULL));
        CHECK_EQ_LL(decode(&cinfo, &m, c, enc, len, NULL, &out), 0);
        CHECK_EQ_LL(jsec_jpeg_src_error(&cinfo)->status, JSEC_OK);
        /* The reused decompressor gives exactly the plain file's pixels. */
        CHECK(want != NULL);
        CHECK_EQ_U(out.size, (size_t)rw * (size_t)rh * (size_t)rc);
        CHECK_MEM_EQ(out.px, want, (size_t)rw * (size_t)rh * (size_t)rc);
        free(want);
        free(out.px);
        free(enc);
    }
    jpeg_destroy_decompress(&cinfo);

    /* Truncated: jsec refuses it (nothing is decoded from a partial file). */
    init_decompressor(&cinfo, &m);
    CHECK_EQ_LL(decode(&cinfo, &m, c, plain, len - 25, NULL, &out), 1);
    CHECK_EQ_LL(jsec_jpeg_src_error(&cinfo)->status, JSEC_ERR_MALFORMED);
    jpeg_destroy_decompress(&cinfo);

    /* Empty input: libjpeg's JERR_INPUT_EMPTY (memory and FILE). */
    init_decompressor(&cinfo, &m);
    CHECK_EQ_LL(decode(&cinfo, &m, c, plain, 0, NULL, &out), 1);
    CHECK_EQ_LL(m.msg_code, JERR_INPUT_EMPTY);
    jpeg_abort_decompress(&cinfo);
    CHECK_EQ_LL(decode(&cinfo, &m, c, NULL, 10, NULL, &out), 1);
    CHECK_EQ_LL(m.msg_code, JERR_INPUT_EMPTY);
    jpeg_abort_decompress(&cinfo);
    f = tmpfile();
    CHECK_EQ_LL(decode(&cinfo, &m, c, NULL, 0, f, &out), 1);
    CHECK_EQ_LL(m.msg_code, JERR_INPUT_EMPTY);
    CHECK_EQ_LL(jsec_jpeg_src_error(&cinfo)->status, JSEC_OK); /* not a jsec failure */
    fclose(f);
    jpeg_abort_decompress(&cinfo);
    /* A NULL cipher: JSEC_ERR_INVALID_ARGUMENT. */
    CHECK_EQ_LL(decode(&cinfo, &m, NULL, plain, len, NULL, &out), 1);
    CHECK_EQ_LL(jsec_jpeg_src_error(&cinfo)->status, JSEC_ERR_INVALID_ARGUMENT);
    jpeg_destroy_decompress(&cinfo);

    free(prog);
    free(plain);
    jsec_fspe_cipher_free(c);
}

int main(void) {
    check_decode();
    check_partial();
    check_errors();
    return CHECK_DONE("test_libjpeg_src");
}
