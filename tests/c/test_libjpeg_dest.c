/* test_libjpeg_dest: the encrypting destination managers of jsec_libjpeg.h
 * (jsec_jpeg_mem_dest, jsec_jpeg_stdio_dest, jsec_jpeg_dest_get/_error):
 * the output has exactly the size of libjpeg's own output and decrypts to it
 * byte for byte; transcoding with jpeg_write_coefficients; reuse of one
 * compressor; errors (progressive output, a decrypt-only key, an application
 * addon message table) reach error_exit only after the jsec call returned,
 * with the status and full message recorded and nothing written; aborting
 * midway leaks nothing (checked under ASan). */
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
    int parm0;
    char text[JMSG_LENGTH_MAX];
} catch_mgr;

static void catch_exit(j_common_ptr cinfo) {
    catch_mgr *m = (catch_mgr *)cinfo->err;
    m->msg_code = cinfo->err->msg_code;
    m->parm0 = cinfo->err->msg_parm.i[0];
    (*cinfo->err->format_message)(cinfo, m->text);
    longjmp(m->jump, 1);
}

typedef enum { TO_MEM_PLAIN, TO_MEM_JSEC, TO_FILE_JSEC } target;

/* Pixels of the test picture. */
static unsigned char *picture(int w, int h) {
    unsigned char *px = malloc((size_t)w * h * 3);
    int x, y;
    CHECK(px != NULL);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            unsigned char *q = px + ((size_t)y * w + x) * 3;
            q[0] = (unsigned char)(x * 255 / w);
            q[1] = (unsigned char)(y * 255 / h);
            q[2] = (unsigned char)(((x / 4) ^ (y / 4)) * 37);
        }
    return px;
}

typedef struct {
    int progressive;
    int quality;
} settings;

/* Compress into memory (plain or jsec) or into a FILE (jsec). Returns 0 on
 * success, 1 if error_exit was called (m filled). */
static int compress_to(struct jpeg_compress_struct *cinfo, catch_mgr *m, target t,
                       const jsec_fspe_cipher *c, const unsigned char *px, int w, int h,
                       settings s, unsigned char **out, size_t *out_len, FILE *f) {
    unsigned long plain_size = 0;
    int y;
    if (setjmp(m->jump)) return 1;
    if (t == TO_MEM_PLAIN)
        jpeg_mem_dest(cinfo, out, &plain_size);
    else if (t == TO_MEM_JSEC)
        jsec_jpeg_mem_dest(cinfo, c, out, out_len);
    else
        jsec_jpeg_stdio_dest(cinfo, c, f);
    cinfo->image_width = (JDIMENSION)w;
    cinfo->image_height = (JDIMENSION)h;
    cinfo->input_components = 3;
    cinfo->in_color_space = JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, s.quality, TRUE);
    if (s.progressive) jpeg_simple_progression(cinfo);
    jpeg_start_compress(cinfo, TRUE);
    for (y = 0; y < h; y++) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)y * w * 3);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    if (t == TO_MEM_PLAIN) *out_len = plain_size;
    return 0;
}

static void init_compressor(struct jpeg_compress_struct *cinfo, catch_mgr *m) {
    memset(m, 0, sizeof *m);
    cinfo->err = jpeg_std_error(&m->pub);
    m->pub.error_exit = catch_exit;
    jpeg_create_compress(cinfo);
}

static void check_memory_and_file(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    struct jpeg_compress_struct cinfo;
    catch_mgr m;
    settings s = {0, 85};
    int w = 203, h = 117, round;
    unsigned char *px = picture(w, h), *plain = NULL, *enc = NULL, *from_file;
    size_t plain_len = 0, enc_len = 0, file_len;
    const jsec_jpeg_dest_mgr *d;
    FILE *f;

    init_compressor(&cinfo, &m);
    CHECK(jsec_jpeg_dest_get(&cinfo) == NULL);
    CHECK(jsec_jpeg_dest_error(&cinfo) == NULL);
    CHECK(jsec_jpeg_dest_get(NULL) == NULL);
    CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_PLAIN, NULL, px, w, h, s, &plain, &plain_len, NULL), 0);
    CHECK(jsec_jpeg_dest_get(&cinfo) == NULL); /* libjpeg's own manager */

    /* The same compressor, twice through jsec (the manager is reused). */
    for (round = 0; round < 2; round++) {
        enc = NULL;
        enc_len = 0;
        CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_JSEC, c, px, w, h, s, &enc, &enc_len, NULL), 0);
        d = jsec_jpeg_dest_get(&cinfo);
        CHECK(d != NULL);
        CHECK_EQ_LL(d->error.status, JSEC_OK);
        CHECK_EQ_U(d->file_size, enc_len);
        CHECK(d->encrypted_bits > 0);
        CHECK_EQ_U(enc_len, plain_len); /* size preserved */
        CHECK_MEM_NE(enc, plain, plain_len);
        CHECK_OK(jsec_fspe_cipher_decrypt(c, enc, enc_len, NULL));
        CHECK_MEM_EQ(enc, plain, plain_len); /* exactly libjpeg's output */
        free(enc);
    }

    /* Into a FILE. */
    f = tmpfile();
    CHECK(f != NULL);
    CHECK_EQ_LL(compress_to(&cinfo, &m, TO_FILE_JSEC, c, px, w, h, s, NULL, NULL, f), 0);
    CHECK_EQ_LL(ftell(f), (long)plain_len);
    rewind(f);
    from_file = malloc(plain_len + 1);
    file_len = fread(from_file, 1, plain_len + 1, f);
    CHECK_EQ_U(file_len, plain_len);
    CHECK_OK(jsec_fspe_cipher_decrypt(c, from_file, file_len, NULL));
    CHECK_MEM_EQ(from_file, plain, plain_len);
    fclose(f);
    free(from_file);

    /* A large image: the collecting buffer grows many times. */
    {
        int bw = 1200, bh = 900;
        unsigned char *bpx = picture(bw, bh), *bplain = NULL, *benc = NULL;
        size_t bplain_len = 0, benc_len = 0;
        settings q = {0, 98};
        struct jpeg_compress_struct plain_cinfo;
        catch_mgr pm;
        /* libjpeg-turbo refuses jpeg_mem_dest on a compressor whose manager
         * it did not make, so the plain reference gets its own compressor
         * (jsec's setup functions accept any previous manager). */
        init_compressor(&plain_cinfo, &pm);
        CHECK_EQ_LL(compress_to(&plain_cinfo, &pm, TO_MEM_PLAIN, NULL, bpx, bw, bh, q, &bplain,
                                &bplain_len, NULL), 0);
        jpeg_destroy_compress(&plain_cinfo);
        CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_JSEC, c, bpx, bw, bh, q, &benc, &benc_len,
                                NULL), 0);
        CHECK(bplain_len > 4 * 65536);
        CHECK_EQ_U(benc_len, bplain_len);
        CHECK_OK(jsec_fspe_cipher_decrypt(c, benc, benc_len, NULL));
        CHECK_MEM_EQ(benc, bplain, bplain_len);
        printf("large image: %zu bytes through the growing buffer\n", benc_len);
        free(bpx);
        free(bplain);
        free(benc);
    }
    jpeg_destroy_compress(&cinfo);
    free(plain);
    free(px);
    jsec_fspe_cipher_free(c);
}

/* Lossless transcoding (jpegtran-style): read coefficients, write them
 * through the jsec destination. */
static void check_transcode(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    testjpeg_params p = testjpeg_defaults();
    size_t len, out_len = 0, ref_len = 0;
    unsigned char *src = testjpeg_make(&p, &len), *out = NULL, *ref = NULL;
    int pass;
    for (pass = 0; pass < 2; pass++) {
        struct jpeg_decompress_struct din;
        struct jpeg_compress_struct cout;
        catch_mgr md, mc;
        jvirt_barray_ptr *coefs;
        unsigned long plain_size = 0;
        memset(&md, 0, sizeof md);
        din.err = jpeg_std_error(&md.pub);
        md.pub.error_exit = catch_exit;
        init_compressor(&cout, &mc);
        jpeg_create_decompress(&din);
        if (setjmp(md.jump)) CHECK_MSG(0, "libjpeg decompressor error: %s", md.text);
        if (setjmp(mc.jump)) CHECK_MSG(0, "libjpeg compressor error: %s", mc.text);
        jpeg_mem_src(&din, src, (unsigned long)len);
        jpeg_read_header(&din, TRUE);
        coefs = jpeg_read_coefficients(&din);
        jpeg_copy_critical_parameters(&din, &cout);
        if (pass == 0)
            jpeg_mem_dest(&cout, &ref, &plain_size);
        else
            jsec_jpeg_mem_dest(&cout, c, &out, &out_len);
        jpeg_write_coefficients(&cout, coefs);
        jpeg_finish_compress(&cout);
        jpeg_finish_decompress(&din);
        jpeg_destroy_compress(&cout);
        jpeg_destroy_decompress(&din);
        if (pass == 0) ref_len = plain_size;
    }
    CHECK_EQ_U(out_len, ref_len);
    CHECK_MEM_NE(out, ref, ref_len);
    CHECK_OK(jsec_fspe_cipher_decrypt(c, out, out_len, NULL));
    CHECK_MEM_EQ(out, ref, ref_len);
    free(src);
    free(out);
    free(ref);
    jsec_fspe_cipher_free(c);
}

static void check_errors(void) {
    const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
    struct jpeg_compress_struct cinfo;
    catch_mgr m;
    settings prog = {1, 80}, ok = {0, 80};
    int w = 64, h = 48;
    unsigned char *px = picture(w, h), *out = (unsigned char *)0x1;
    size_t out_len = 4242;
    const jsec_jpeg_error *e;
    FILE *f;

    /* Progressive output: jsec refuses it in term_destination. */
    init_compressor(&cinfo, &m);
    CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_JSEC, c, px, w, h, prog, &out, &out_len, NULL), 1);
    CHECK_EQ_LL(m.msg_code, JSEC_JPEG_MSG_CODE);
    CHECK_STR_CONTAINS(m.text, "jsec: JSEC_ERR_UNSUPPORTED: ");
    CHECK(strstr(m.text, "jsec_fspe_cipher_encrypt") == NULL); /* function name dropped */
    e = jsec_jpeg_dest_error(&cinfo);
    CHECK(e != NULL);
    CHECK_EQ_LL(e->status, JSEC_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(e->message, "jsec_fspe_cipher_encrypt");
    CHECK_STR_CONTAINS(e->message, "rogressive");
    CHECK(out == (unsigned char *)0x1 && out_len == 4242); /* outputs untouched */
    printf("progressive through jsec: \"%s\"\n", m.text);
    jpeg_destroy_compress(&cinfo);

    /* Same into a FILE: nothing written. */
    f = tmpfile();
    init_compressor(&cinfo, &m);
    CHECK_EQ_LL(compress_to(&cinfo, &m, TO_FILE_JSEC, c, px, w, h, prog, NULL, NULL, f), 1);
    CHECK_EQ_LL(jsec_jpeg_dest_error(&cinfo)->status, JSEC_ERR_UNSUPPORTED);
    CHECK_EQ_LL(ftell(f), 0);
    jpeg_destroy_compress(&cinfo);
    fclose(f);

    /* A decrypt-only (level 1) cipher cannot encrypt. */
    {
        const jsec_key *k0 = test_key(TEST_KEY_HEX), *k1 = NULL;
        jsec_fspe_options *o = NULL;
        const jsec_fspe_cipher *c1;
        CHECK_OK(jsec_key_derive(k0, 1, &k1));
        CHECK_OK(jsec_fspe_options_new(&o));
        CHECK_OK(jsec_fspe_options_set_levels(o, true));
        c1 = test_cipher_with(k1, o, 1);
        init_compressor(&cinfo, &m);
        out = NULL;
        CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_JSEC, c1, px, w, h, ok, &out, &out_len, NULL), 1);
        CHECK_EQ_LL(jsec_jpeg_dest_error(&cinfo)->status, JSEC_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(m.text, "jsec: JSEC_ERR_INVALID_ARGUMENT");
        CHECK(out == NULL);
        /* After jpeg_abort_compress the same compressor works again and the
         * record is reset. (Not after a progressive compression: libjpeg-turbo
         * keeps its optimised Huffman tables, and jpeg_set_defaults does not
         * replace them, so a later baseline stream would be corrupt.) */
        jpeg_abort_compress(&cinfo);
        f = tmpfile();
        CHECK_MSG(compress_to(&cinfo, &m, TO_FILE_JSEC, c, px, w, h, ok, NULL, NULL, f) == 0,
                  "reuse after abort: %s", m.text);
        CHECK_EQ_LL(jsec_jpeg_dest_error(&cinfo)->status, JSEC_OK);
        CHECK(jsec_jpeg_dest_error(&cinfo)->message[0] == '\0');
        {
            /* The reused compressor's output decrypts to exactly what a
             * fresh compressor writes without jsec. */
            struct jpeg_compress_struct plain_cinfo;
            catch_mgr pm;
            unsigned char *ref = NULL, *got;
            size_t ref_len = 0;
            long got_len = ftell(f);
            init_compressor(&plain_cinfo, &pm);
            CHECK_EQ_LL(compress_to(&plain_cinfo, &pm, TO_MEM_PLAIN, NULL, px, w, h, ok, &ref,
                                    &ref_len, NULL),
                        0);
            jpeg_destroy_compress(&plain_cinfo);
            CHECK_EQ_LL(got_len, (long long)ref_len);
            got = malloc(ref_len);
            CHECK(got != NULL);
            rewind(f);
            CHECK_EQ_U(fread(got, 1, ref_len, f), ref_len);
            CHECK_OK(jsec_fspe_cipher_decrypt(c, got, ref_len, NULL));
            CHECK_MEM_EQ(got, ref, ref_len);
            free(got);
            free(ref);
        }
        fclose(f);
        jpeg_destroy_compress(&cinfo);
        /* A NULL cipher is an argument error, raised the same way. */
        init_compressor(&cinfo, &m);
        CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_JSEC, NULL, px, w, h, ok, &out, &out_len, NULL), 1);
        CHECK_EQ_LL(jsec_jpeg_dest_error(&cinfo)->status, JSEC_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(jsec_jpeg_dest_error(&cinfo)->message, "cipher");
        jpeg_destroy_compress(&cinfo);
        jsec_fspe_cipher_free(c1);
        jsec_fspe_options_free(o);
        jsec_key_free(k0);
        jsec_key_free(k1);
    }

    /* An application with its own addon message table keeps it. */
    {
        static const char *const mine[] = {"app message one", "app message two"};
        init_compressor(&cinfo, &m);
        m.pub.addon_message_table = mine;
        m.pub.first_addon_message = 100;
        m.pub.last_addon_message = 101;
        CHECK_EQ_LL(compress_to(&cinfo, &m, TO_MEM_JSEC, c, px, w, h, prog, &out, &out_len, NULL), 1);
        CHECK(m.pub.addon_message_table == mine);
        CHECK_EQ_LL(m.msg_code, 0);
        CHECK_EQ_LL(m.parm0, JSEC_JPEG_MSG_CODE + JSEC_ERR_UNSUPPORTED);
        CHECK_EQ_LL(jsec_jpeg_dest_error(&cinfo)->status, JSEC_ERR_UNSUPPORTED);
        jpeg_destroy_compress(&cinfo);
    }

    /* NULL output pointers are refused at setup. */
    init_compressor(&cinfo, &m);
    if (setjmp(m.jump) == 0) {
        jsec_jpeg_mem_dest(&cinfo, c, NULL, &out_len);
        CHECK_MSG(0, "jsec_jpeg_mem_dest accepted NULL outbuffer");
    }
    CHECK_EQ_LL(m.msg_code, JERR_BUFFER_SIZE);
    jpeg_destroy_compress(&cinfo);

    /* Abort midway and destroy: the pool buffers go with it (ASan checks). */
    init_compressor(&cinfo, &m);
    out = NULL;
    if (setjmp(m.jump) == 0) {
        int y;
        jsec_jpeg_mem_dest(&cinfo, c, &out, &out_len);
        cinfo.image_width = (JDIMENSION)w;
        cinfo.image_height = (JDIMENSION)h;
        cinfo.input_components = 3;
        cinfo.in_color_space = JCS_RGB;
        jpeg_set_defaults(&cinfo);
        jpeg_start_compress(&cinfo, TRUE);
        for (y = 0; y < h / 2; y++) {
            JSAMPROW row = (JSAMPROW)(px + (size_t)y * w * 3);
            jpeg_write_scanlines(&cinfo, &row, 1);
        }
        jpeg_abort_compress(&cinfo);
    } else {
        CHECK_MSG(0, "unexpected libjpeg error: %s", m.text);
    }
    CHECK(out == NULL);
    jpeg_destroy_compress(&cinfo);

    free(px);
    jsec_fspe_cipher_free(c);
}

int main(void) {
    check_memory_and_file();
    check_transcode();
    check_errors();
    return CHECK_DONE("test_libjpeg_dest");
}
