/* test_report: jsec_fspe_inspect and every jsec_fspe_report_* getter: image
 * facts and statistics, component sampling, embedded JPEGs (in APP1 and
 * after EOI), warnings and problems of an unprocessable thumbnail, trailing
 * bytes, the struct_size protocol, index and buffer-size errors, NULL
 * handling; inspect of garbage, truncated and progressive inputs. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

typedef struct {
    unsigned char *data;
    size_t len;
} bytes;

static bytes make(int w, int h, int progressive, unsigned seed) {
    testjpeg_params p = testjpeg_defaults();
    bytes b;
    p.width = w;
    p.height = h;
    p.progressive = progressive;
    p.seed = seed;
    b.data = testjpeg_make(&p, &b.len);
    CHECK(b.data != NULL);
    return b;
}

/* SOI, APP1 "Exif\0\0" + thumb, then the rest of main after its SOI. */
static bytes with_app1_thumbnail(bytes main_img, bytes thumb) {
    bytes b;
    size_t seglen = 2 + 6 + thumb.len;
    CHECK(seglen <= 65535);
    b.len = main_img.len + 4 + 6 + thumb.len;
    b.data = malloc(b.len);
    CHECK(b.data != NULL);
    b.data[0] = 0xFF;
    b.data[1] = 0xD8;
    b.data[2] = 0xFF;
    b.data[3] = 0xE1;
    b.data[4] = (unsigned char)(seglen >> 8);
    b.data[5] = (unsigned char)(seglen & 0xFF);
    memcpy(b.data + 6, "Exif\0\0", 6);
    memcpy(b.data + 12, thumb.data, thumb.len);
    memcpy(b.data + 12 + thumb.len, main_img.data + 2, main_img.len - 2);
    return b;
}

static bytes concat(bytes a, const unsigned char *tail, size_t tail_len) {
    bytes b;
    b.len = a.len + tail_len;
    b.data = malloc(b.len);
    CHECK(b.data != NULL);
    memcpy(b.data, a.data, a.len);
    memcpy(b.data + a.len, tail, tail_len);
    return b;
}

static jsec_fspe_report *inspect(bytes b) {
    jsec_fspe_report *r = NULL;
    CHECK_OK(jsec_fspe_inspect(b.data, b.len, &r));
    CHECK(r != NULL);
    return r;
}

static size_t image_count(const jsec_fspe_report *r) {
    size_t n = 999;
    CHECK_OK(jsec_fspe_report_image_count(r, &n));
    return n;
}

static size_t warning_count(const jsec_fspe_report *r) {
    size_t n = 999;
    CHECK_OK(jsec_fspe_report_warning_count(r, &n));
    return n;
}

static uint64_t trailing(const jsec_fspe_report *r) {
    uint64_t n = 999;
    CHECK_OK(jsec_fspe_report_trailing_bytes(r, &n));
    return n;
}

static void check_stats(const jsec_fspe_image_info *i) {
    CHECK(i->additional_bits > 0);
    CHECK(i->eligible_paper_bits <= i->eligible_full_bits);
    CHECK(i->eligible_full_bits <= i->additional_bits);
    CHECK(i->encrypted_bits <= i->additional_bits);
    CHECK(i->encrypted_bits > 0);
    CHECK_EQ_U(i->dc_kept_for_region, 0);
}

static void check_plain_image(void) {
    bytes b = make(80, 56, 0, 1);
    jsec_fspe_report *r = inspect(b);
    jsec_fspe_image_info info = test_image_info(r, 0);
    uint8_t id = 0, h = 0, v = 0;
    char text[64];
    size_t n = 77;

    CHECK_EQ_U(image_count(r), 1);
    CHECK_EQ_U(info.offset, 0);
    CHECK_EQ_U(info.end, b.len);
    CHECK_EQ_U(info.segment_offset, 0);
    CHECK_EQ_LL(info.location, JSEC_FSPE_LOCATION_PRIMARY);
    CHECK_EQ_U(info.segment_marker, 0);
    CHECK_EQ_U(info.width, 80);
    CHECK_EQ_U(info.height, 56);
    CHECK_EQ_U(info.component_count, 3);
    CHECK_EQ_U(info.scans, 1);
    CHECK_EQ_U(info.restart_interval, 0);
    CHECK_EQ_U(info.problem_len, 0);
    check_stats(&info);

    /* 4:2:0: Y 2x2, Cb and Cr 1x1; libjpeg numbers the components 1, 2, 3. */
    CHECK_OK(jsec_fspe_report_image_component(r, 0, 0, &id, &h, &v));
    CHECK(id == 1 && h == 2 && v == 2);
    CHECK_OK(jsec_fspe_report_image_component(r, 0, 2, &id, &h, &v));
    CHECK(id == 3 && h == 1 && v == 1);
    id = 99;
    CHECK_FAILS(jsec_fspe_report_image_component(r, 0, 3, &id, &h, &v),
                JSEC_ERR_INVALID_ARGUMENT, "component");
    CHECK_STATUS(jsec_fspe_report_image_component(r, 1, 0, &id, &h, &v),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_component(NULL, 0, 0, &id, &h, &v),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_component(r, 0, 0, NULL, &h, &v),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_component(r, 0, 0, &id, NULL, &v),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_component(r, 0, 0, &id, &h, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK(id == 99);

    /* No problem, no warnings, no trailing bytes. */
    memset(text, 'x', sizeof text);
    CHECK_OK(jsec_fspe_report_image_problem(r, 0, text, sizeof text, &n));
    CHECK_EQ_U(n, 0);
    CHECK(text[0] == '\0');
    CHECK_EQ_U(warning_count(r), 0);
    CHECK_EQ_U(trailing(r), 0);
    {
        uint64_t off = 5;
        CHECK_FAILS(jsec_fspe_report_warning(r, 0, &off, text, sizeof text, &n),
                    JSEC_ERR_INVALID_ARGUMENT, "warning index");
        CHECK_EQ_U(off, 5);
    }

    /* The struct_size protocol: only the fields that fit are written. */
    {
        jsec_fspe_image_info small;
        memset(&small, 0xAB, sizeof small);
        small.struct_size = offsetof(jsec_fspe_image_info, end);
        CHECK_OK(jsec_fspe_report_image(r, 0, &small));
        CHECK_EQ_U(small.struct_size, offsetof(jsec_fspe_image_info, end));
        CHECK_EQ_U(small.offset, 0);
        CHECK_EQ_U(small.end, 0xABABABABABABABABull); /* untouched */
        CHECK_EQ_U(small.width, 0xABABABABu);
        small.struct_size = sizeof(size_t) - 1;
        CHECK_FAILS(jsec_fspe_report_image(r, 0, &small), JSEC_ERR_INVALID_ARGUMENT,
                    "struct_size");
        CHECK_EQ_U(small.offset, 0);
        small.struct_size = sizeof small;
        CHECK_FAILS(jsec_fspe_report_image(r, 1, &small), JSEC_ERR_INVALID_ARGUMENT,
                    "image index");
        CHECK_STATUS(jsec_fspe_report_image(NULL, 0, &small), JSEC_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(jsec_fspe_report_image(r, 0, NULL), JSEC_ERR_INVALID_ARGUMENT);
    }

    /* NULLs of the count getters. */
    CHECK_STATUS(jsec_fspe_report_image_count(NULL, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_count(r, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_warning_count(NULL, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_warning_count(r, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_trailing_bytes(NULL, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_trailing_bytes(r, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_problem(r, 0, text, sizeof text, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_problem(NULL, 0, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_image_problem(r, 1, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);

    /* inspect never changes its input and needs no key. */
    {
        unsigned char *copy = test_dup(b.data, b.len);
        jsec_fspe_report *r2 = inspect(b);
        CHECK_MEM_EQ(copy, b.data, b.len);
        jsec_fspe_report_free(r2);
        free(copy);
    }
    CHECK_FAILS(jsec_fspe_inspect(NULL, 10, &r), JSEC_ERR_INVALID_ARGUMENT, "buf");
    CHECK_FAILS(jsec_fspe_inspect(b.data, b.len, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    jsec_fspe_report_free(r);
    jsec_fspe_report_free(NULL);
    free(b.data);
}

static void check_restart_and_gray(void) {
    testjpeg_params p = testjpeg_defaults();
    bytes b;
    jsec_fspe_report *r;
    jsec_fspe_image_info info;
    uint8_t id, h, v;
    p.components = 1;
    p.width = 40;
    p.height = 40;
    p.restart_rows = 2;
    b.data = testjpeg_make(&p, &b.len);
    r = inspect(b);
    info = test_image_info(r, 0);
    CHECK_EQ_U(info.component_count, 1);
    CHECK_EQ_U(info.restart_interval, 2 * 5); /* 2 MCU rows of 5 MCUs */
    CHECK_OK(jsec_fspe_report_image_component(r, 0, 0, &id, &h, &v));
    CHECK(h == 1 && v == 1);
    jsec_fspe_report_free(r);
    free(b.data);
}

static void check_embedded(void) {
    bytes main_img = make(96, 64, 0, 2), thumb = make(24, 16, 0, 3);
    bytes prog_thumb = make(24, 16, 1, 4);
    bytes with_thumb = with_app1_thumbnail(main_img, thumb);
    bytes with_bad_thumb = with_app1_thumbnail(main_img, prog_thumb);
    bytes after_eoi = concat(main_img, thumb.data, thumb.len);
    bytes garbage_tail = concat(main_img, (const unsigned char *)"GARBAGE!", 8);
    jsec_fspe_report *r;
    jsec_fspe_image_info info;
    char text[256], tiny[4];
    size_t n;
    uint64_t off;

    /* A thumbnail inside APP1. */
    r = inspect(with_thumb);
    CHECK_EQ_U(image_count(r), 2);
    info = test_image_info(r, 0);
    CHECK_EQ_LL(info.location, JSEC_FSPE_LOCATION_PRIMARY);
    CHECK_EQ_U(info.width, 96);
    CHECK_EQ_U(info.end, with_thumb.len);
    info = test_image_info(r, 1);
    CHECK_EQ_LL(info.location, JSEC_FSPE_LOCATION_IN_SEGMENT);
    CHECK_EQ_U(info.segment_marker, 0xE1);
    CHECK_EQ_U(info.segment_offset, 2);
    CHECK_EQ_U(info.offset, 12);
    CHECK_EQ_U(info.end, 12 + thumb.len);
    CHECK_EQ_U(info.width, 24);
    CHECK_EQ_U(info.height, 16);
    CHECK_EQ_U(info.problem_len, 0);
    check_stats(&info);
    CHECK_EQ_U(warning_count(r), 0);
    jsec_fspe_report_free(r);

    /* Encryption covers the thumbnail too, and the report says so. */
    {
        const jsec_fspe_cipher *c = test_cipher(TEST_KEY_HEX);
        unsigned char *buf = test_dup(with_thumb.data, with_thumb.len);
        jsec_fspe_report *er = NULL;
        CHECK_OK(jsec_fspe_cipher_encrypt(c, buf, with_thumb.len, &er));
        CHECK_EQ_U(image_count(er), 2);
        CHECK(test_image_info(er, 1).encrypted_bits > 0);
        CHECK(test_diff_count(buf + 12, thumb.data, thumb.len) > 0);
        CHECK_MEM_EQ(buf, with_thumb.data, 12); /* headers stay */
        CHECK_OK(jsec_fspe_cipher_decrypt(c, buf, with_thumb.len, NULL));
        CHECK_MEM_EQ(buf, with_thumb.data, with_thumb.len);
        jsec_fspe_report_free(er);
        jsec_fspe_cipher_free(c);
        free(buf);
    }

    /* A progressive thumbnail: the main image is fine, the thumbnail has a
     * problem and there is a warning at its offset. */
    r = inspect(with_bad_thumb);
    CHECK_EQ_U(image_count(r), 2);
    info = test_image_info(r, 1);
    CHECK(info.problem_len > 0);
    CHECK_OK(jsec_fspe_report_image_problem(r, 1, text, sizeof text, &n));
    CHECK_EQ_U(n, info.problem_len);
    CHECK_EQ_U(strlen(text), n);
    memset(tiny, 'x', sizeof tiny);
    CHECK_STATUS(jsec_fspe_report_image_problem(r, 1, tiny, sizeof tiny, &n),
                 JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U(n, info.problem_len);
    CHECK(tiny[0] == 'x');
    CHECK_STATUS(jsec_fspe_report_image_problem(r, 1, NULL, 0, &n), JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U(n, info.problem_len);
    printf("progressive thumbnail problem: %s\n", text);

    CHECK_EQ_U(warning_count(r), 1);
    off = 0;
    CHECK_OK(jsec_fspe_report_warning(r, 0, &off, text, sizeof text, &n));
    CHECK_EQ_U(off, 12);
    CHECK_EQ_U(strlen(text), n);
    CHECK_STR_CONTAINS(text, "not fully encrypted");
    printf("warning at %llu: %s\n", (unsigned long long)off, text);
    off = 0;
    CHECK_STATUS(jsec_fspe_report_warning(r, 0, &off, tiny, sizeof tiny, &n),
                 JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U(off, 12); /* still reported */
    CHECK(tiny[0] == 'x');
    CHECK_STATUS(jsec_fspe_report_warning(r, 0, &off, NULL, 0, &n), JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK_STATUS(jsec_fspe_report_warning(r, 0, &off, NULL, 10, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_warning(r, 0, NULL, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_warning(r, 0, &off, text, sizeof text, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_warning(NULL, 0, &off, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);
    jsec_fspe_report_free(r);

    /* A JPEG after EOI (MPF-style) and plain trailing garbage. */
    r = inspect(after_eoi);
    CHECK_EQ_U(image_count(r), 2);
    info = test_image_info(r, 1);
    CHECK_EQ_LL(info.location, JSEC_FSPE_LOCATION_AFTER_EOI);
    CHECK_EQ_U(info.offset, main_img.len);
    CHECK_EQ_U(info.end, after_eoi.len);
    CHECK_EQ_U(info.segment_offset, 0);
    CHECK_EQ_U(trailing(r), 0);
    jsec_fspe_report_free(r);

    r = inspect(garbage_tail);
    CHECK_EQ_U(image_count(r), 1);
    CHECK_EQ_U(trailing(r), 8);
    CHECK_EQ_U(test_image_info(r, 0).end, main_img.len);
    jsec_fspe_report_free(r);

    free(main_img.data);
    free(thumb.data);
    free(prog_thumb.data);
    free(with_thumb.data);
    free(with_bad_thumb.data);
    free(after_eoi.data);
    free(garbage_tail.data);
}

static void check_bad_inputs(void) {
    bytes b = make(64, 48, 0, 5), prog = make(64, 48, 1, 5);
    jsec_fspe_report *r = (jsec_fspe_report *)0x60;
    static const unsigned char garbage[] = "GIF89a this is certainly not a JPEG file";
    uint64_t off = 0;
    size_t cut;

    /* Garbage: malformed, "not a JPEG". */
    CHECK_FAILS(jsec_fspe_inspect(garbage, sizeof garbage - 1, &r), JSEC_ERR_MALFORMED,
                "not a JPEG");
    CHECK(r == (jsec_fspe_report *)0x60);
    CHECK_STATUS(jsec_fspe_inspect(garbage, 0, &r), JSEC_ERR_MALFORMED);
    CHECK_STATUS(jsec_fspe_inspect(b.data, 1, &r), JSEC_ERR_MALFORMED);

    /* Truncated anywhere: malformed, with an offset inside the input. */
    for (cut = 2; cut < b.len; cut += b.len / 13) {
        CHECK_STATUS(jsec_fspe_inspect(b.data, cut, &r), JSEC_ERR_MALFORMED);
        CHECK_OK(jsec_last_error_offset(&off));
        CHECK_MSG(off <= cut, "offset %llu past the end %zu", (unsigned long long)off, cut);
    }
    CHECK(r == (jsec_fspe_report *)0x60);

    /* Progressive: unsupported. */
    CHECK_FAILS(jsec_fspe_inspect(prog.data, prog.len, &r), JSEC_ERR_UNSUPPORTED, "rogressive");
    CHECK(r == (jsec_fspe_report *)0x60);
    free(b.data);
    free(prog.data);
}

int main(void) {
    check_plain_image();
    check_restart_and_gray();
    check_embedded();
    check_bad_inputs();
    return CHECK_DONE("test_report");
}
