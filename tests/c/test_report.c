/* test_report: jsec_fspe_inspect and every jsec_fspe_report_* getter: image
 * facts and statistics, component sampling, embedded JPEGs (in APP1 and
 * after EOI), warnings and problems of an unprocessable thumbnail, trailing
 * bytes, the struct_size protocol, index and buffer-size errors, NULL
 * handling; inspect of garbage, truncated and progressive inputs; metadata
 * privacy on a hand-built EXIF segment with a GPS IFD (values enciphered in
 * place by class, the sensitive fields reported, decryption exact). */
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

/* ---- Metadata privacy (sensitive EXIF values) ---- */

/* Absolute file offsets of the values of with_exif()'s APP1 segment, which
 * sits right after SOI: marker at 2, payload at 6, TIFF data at 12. */
enum {
    EXIF_SEGMENT = 2,
    EXIF_ARTIST = 12 + 104,  /* IFD0 Artist, ASCII[10] */
    EXIF_DATE = 12 + 114,    /* IFD0 DateTime, ASCII[20] */
    EXIF_VERSION = 12 + 60,  /* GPSVersionID, BYTE[4] inline, not sensitive */
    EXIF_LAT_REF = 12 + 72,  /* GPSLatitudeRef, ASCII[2] inline */
    EXIF_LAT = 12 + 134,     /* GPSLatitude, RATIONAL[3] */
    EXIF_ALTITUDE = 12 + 8,  /* GPSAltitude: its offset points into IFD0 */
    EXIF_TIFF_LEN = 158
};

static unsigned char *put16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    return p + 2;
}

static unsigned char *put32(unsigned char *p, unsigned long v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return p + 4;
}

/* One 12-byte IFD entry: the value at `offset`, or inline `inl` (4 bytes) when
 * `inl` is not NULL. */
static unsigned char *entry(unsigned char *p, unsigned tag, unsigned type, unsigned long count,
                            unsigned long offset, const unsigned char *inl) {
    p = put16(p, tag);
    p = put16(p, type);
    p = put32(p, count);
    if (inl != NULL) {
        memcpy(p, inl, 4);
        return p + 4;
    }
    return put32(p, offset);
}

/* SOI, an APP1 EXIF segment (big-endian TIFF: IFD0 with Artist, DateTime and
 * the GPS pointer; a GPS IFD with GPSVersionID, GPSLatitudeRef "N" inline,
 * GPSLatitude 48/1 51/1 2400/100, and a GPSAltitude whose value offset points
 * into IFD0, which can never be transformed), then main after its SOI. */
static bytes with_exif(bytes main_img) {
    static const unsigned char version[4] = {2, 3, 0, 0}, lat_ref[4] = {'N', 0, 0, 0};
    static const unsigned long lat[6] = {48, 1, 51, 1, 2400, 100};
    unsigned char t[EXIF_TIFF_LEN], *p = t;
    size_t seglen = 2 + 6 + sizeof t, i;
    bytes b;
    memcpy(p, "MM\0\x2a", 4);
    p = put32(p + 4, 8);
    p = put16(p, 3); /* IFD0 at 8 */
    p = entry(p, 0x013B, 2, 10, 104, NULL);
    p = entry(p, 0x0132, 2, 20, 114, NULL);
    p = entry(p, 0x8825, 4, 1, 50, NULL);
    p = put32(p, 0);
    CHECK_EQ_U(p - t, 50);
    p = put16(p, 4); /* GPS IFD at 50 */
    p = entry(p, 0x0000, 1, 4, 0, version);
    p = entry(p, 0x0001, 2, 2, 0, lat_ref);
    p = entry(p, 0x0002, 5, 3, 134, NULL);
    p = entry(p, 0x0006, 5, 1, 8, NULL);
    p = put32(p, 0);
    CHECK_EQ_U(p - t, 104);
    memcpy(p, "Jane Doe\0\0", 10);
    memcpy(p + 10, "2024:05:06 07:08:09", 20); /* with its NUL */
    p += 30;
    for (i = 0; i < 6; i++) p = put32(p, lat[i]);
    CHECK_EQ_U(p - t, sizeof t);

    b.len = main_img.len + 4 + 6 + sizeof t;
    b.data = malloc(b.len);
    CHECK(b.data != NULL);
    b.data[0] = 0xFF;
    b.data[1] = 0xD8;
    b.data[2] = 0xFF;
    b.data[3] = 0xE1;
    put16(b.data + 4, (unsigned)seglen);
    memcpy(b.data + 6, "Exif\0\0", 6);
    memcpy(b.data + 12, t, sizeof t);
    memcpy(b.data + 12 + sizeof t, main_img.data + 2, main_img.len - 2);
    return b;
}

/* Encrypt or decrypt `b` in place with the metadata `classes`; the report. */
static jsec_fspe_report *metadata_run(const jsec_key *key, uint32_t classes, int encrypt,
                                      bytes b) {
    jsec_fspe_options *o = NULL;
    const jsec_fspe_cipher *c;
    jsec_fspe_report *r = NULL;
    CHECK_OK(jsec_fspe_options_new(&o));
    CHECK_OK(jsec_fspe_options_set_metadata(o, classes));
    c = test_cipher_with(key, o, 0);
    if (encrypt)
        CHECK_OK(jsec_fspe_cipher_encrypt(c, b.data, b.len, &r));
    else
        CHECK_OK(jsec_fspe_cipher_decrypt(c, b.data, b.len, &r));
    CHECK(r != NULL);
    jsec_fspe_cipher_free(c);
    jsec_fspe_options_free(o);
    return r;
}

static jsec_fspe_metadata_field metadata_field(const jsec_fspe_report *r, size_t i) {
    jsec_fspe_metadata_field f;
    memset(&f, 0, sizeof f);
    f.struct_size = sizeof f;
    CHECK_OK(jsec_fspe_report_metadata_field(r, i, &f));
    CHECK_EQ_U(f.struct_size, sizeof f);
    return f;
}

/* The report lists the five sensitive fields of with_exif() in reading order;
 * bit i of `transformed` says whether field i was transformed; `problem`:
 * whether GPSAltitude's class was selected (it then has a problem). */
static void check_metadata_fields(const jsec_fspe_report *r, unsigned transformed, int problem) {
    static const struct {
        uint64_t offset;
        uint32_t length, ifd, tag, sensitivity;
        const char *name;
    } want[5] = {
        {EXIF_ARTIST, 10, JSEC_FSPE_IFD_IFD0, 0x013B, JSEC_FSPE_METADATA_IDENTITY, "Artist"},
        {EXIF_DATE, 20, JSEC_FSPE_IFD_IFD0, 0x0132, JSEC_FSPE_METADATA_DATES, "DateTime"},
        {EXIF_LAT_REF, 2, JSEC_FSPE_IFD_GPS, 0x0001, JSEC_FSPE_METADATA_GPS, "GPSLatitudeRef"},
        {EXIF_LAT, 24, JSEC_FSPE_IFD_GPS, 0x0002, JSEC_FSPE_METADATA_GPS, "GPSLatitude"},
        {EXIF_ALTITUDE, 8, JSEC_FSPE_IFD_GPS, 0x0006, JSEC_FSPE_METADATA_GPS, "GPSAltitude"},
    };
    size_t n = 99, i, len;
    char text[128];
    CHECK_OK(jsec_fspe_report_metadata_count(r, &n));
    CHECK_EQ_U(n, 5);
    for (i = 0; i < 5; i++) {
        jsec_fspe_metadata_field f = metadata_field(r, i);
        CHECK_EQ_U(f.segment_offset, EXIF_SEGMENT);
        CHECK_EQ_U(f.offset, want[i].offset);
        CHECK_EQ_U(f.length, want[i].length);
        CHECK_EQ_U(f.ifd, want[i].ifd);
        CHECK_EQ_U(f.tag, want[i].tag);
        CHECK_EQ_U(f.sensitivity, want[i].sensitivity);
        CHECK_MSG((unsigned)f.transformed == ((transformed >> i) & 1u), "%s transformed %d",
                  want[i].name, (int)f.transformed);
        len = 999;
        CHECK_OK(jsec_fspe_report_metadata_name(r, i, text, sizeof text, &len));
        CHECK_MSG(strcmp(text, want[i].name) == 0, "field %zu is %s, not %s", i, text,
                  want[i].name);
        CHECK_EQ_U(len, strlen(want[i].name));
        len = 999;
        CHECK_OK(jsec_fspe_report_metadata_problem(r, i, text, sizeof text, &len));
        CHECK_EQ_U(len, f.problem_len);
        CHECK_EQ_U(strlen(text), len);
        CHECK_MSG((len > 0) == (problem && i == 4), "%s problem \"%s\"", want[i].name, text);
    }
}

static void check_metadata(void) {
    const uint32_t private_classes = JSEC_FSPE_METADATA_GPS | JSEC_FSPE_METADATA_IDENTITY;
    const jsec_key *key = test_key(TEST_KEY256_HEX);
    bytes main_img = make(64, 48, 0, 6);
    bytes plain = with_exif(main_img);
    bytes enc;
    size_t seg_end = 12 + EXIF_TIFF_LEN, i, n, changed = 0;
    jsec_fspe_report *r;
    char text[128], tiny[4];

    /* Encrypt with GPS | IDENTITY. A refused mask changes nothing. */
    enc.len = plain.len;
    enc.data = test_dup(plain.data, plain.len);
    {
        jsec_fspe_options *o = NULL;
        const jsec_fspe_cipher *c;
        CHECK_OK(jsec_fspe_options_new(&o));
        CHECK_OK(jsec_fspe_options_set_metadata(o, private_classes));
        CHECK_FAILS(jsec_fspe_options_set_metadata(o, 0x10), JSEC_ERR_INVALID_ARGUMENT,
                    "jsec_fspe_options_set_metadata");
        CHECK_STATUS(jsec_fspe_options_set_metadata(o, private_classes | 8u),
                     JSEC_ERR_INVALID_ARGUMENT);
        c = test_cipher_with(key, o, 0);
        r = NULL;
        CHECK_OK(jsec_fspe_cipher_encrypt(c, enc.data, enc.len, &r));
        jsec_fspe_cipher_free(c);
        jsec_fspe_options_free(o);
    }
    CHECK_EQ_U(enc.len, plain.len);
    {   /* still a JPEG of the same structure */
        jsec_fspe_report *ir = inspect(enc);
        jsec_fspe_image_info info = test_image_info(ir, 0);
        CHECK_EQ_U(info.end, enc.len);
        CHECK_EQ_U(info.width, 64);
        jsec_fspe_report_free(ir);
    }

    /* GPS and identity values changed, types kept; the date, GPSVersionID and
     * every other byte of the segment are unchanged. */
    CHECK_MEM_NE(enc.data + EXIF_LAT, plain.data + EXIF_LAT, 24);
    for (i = 0; i < 24; i++)
        if (i % 8 >= 4) CHECK_EQ_U(enc.data[EXIF_LAT + i], plain.data[EXIF_LAT + i]);
    CHECK(enc.data[EXIF_LAT_REF] >= 0x20 && enc.data[EXIF_LAT_REF] <= 0x7E);
    CHECK_EQ_U(enc.data[EXIF_LAT_REF + 1], 0);
    CHECK_MEM_NE(enc.data + EXIF_ARTIST, plain.data + EXIF_ARTIST, 10);
    for (i = 0; i < 8; i++)
        CHECK(enc.data[EXIF_ARTIST + i] >= 0x20 && enc.data[EXIF_ARTIST + i] <= 0x7E);
    CHECK(enc.data[EXIF_ARTIST + 8] == 0 && enc.data[EXIF_ARTIST + 9] == 0);
    CHECK_MEM_EQ(enc.data + EXIF_DATE, "2024:05:06 07:08:09", 20);
    CHECK_MEM_EQ(enc.data + EXIF_VERSION, "\x02\x03\x00\x00", 4);
    for (i = 0; i < seg_end; i++) {
        int in_value = (i >= EXIF_ARTIST && i < EXIF_ARTIST + 10) ||
                       (i >= EXIF_LAT_REF && i < EXIF_LAT_REF + 2) ||
                       (i >= EXIF_LAT && i < EXIF_LAT + 24);
        if (enc.data[i] != plain.data[i]) {
            CHECK_MSG(in_value, "byte %zu of the APP1 segment changed", i);
            changed++;
        }
    }
    CHECK(changed > 0);
    CHECK(test_diff_count(enc.data + seg_end, plain.data + seg_end, plain.len - seg_end) > 0);

    /* The report: what is there and what was transformed. */
    check_metadata_fields(r, 0x0Du /* Artist, GPSLatitudeRef, GPSLatitude */, 1);
    CHECK_OK(jsec_fspe_report_metadata_problem(r, 4, text, sizeof text, &n));
    printf("GPSAltitude problem: %s\n", text);
    {   /* ... also a warning naming the tag, at the segment's offset */
        size_t w, count = warning_count(r);
        int named = 0;
        uint64_t off;
        for (w = 0; w < count; w++) {
            CHECK_OK(jsec_fspe_report_warning(r, w, &off, text, sizeof text, &n));
            named |= off == EXIF_SEGMENT && strstr(text, "GPSAltitude") != NULL;
        }
        CHECK(named);
    }

    /* Text buffers: size query, too small, NULL. */
    n = 99;
    CHECK_STATUS(jsec_fspe_report_metadata_name(r, 3, NULL, 0, &n), JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_U(n, strlen("GPSLatitude"));
    memset(tiny, 'x', sizeof tiny);
    CHECK_STATUS(jsec_fspe_report_metadata_name(r, 3, tiny, sizeof tiny, &n),
                 JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK(tiny[0] == 'x');
    CHECK_STATUS(jsec_fspe_report_metadata_problem(r, 4, tiny, sizeof tiny, &n),
                 JSEC_ERR_BUFFER_TOO_SMALL);
    CHECK(n > sizeof tiny && tiny[0] == 'x');
    CHECK_STATUS(jsec_fspe_report_metadata_name(r, 0, NULL, 8, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_metadata_name(r, 0, text, sizeof text, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_metadata_problem(r, 0, text, sizeof text, NULL),
                 JSEC_ERR_INVALID_ARGUMENT);
    n = 99;
    CHECK_FAILS(jsec_fspe_report_metadata_name(r, 5, text, sizeof text, &n),
                JSEC_ERR_INVALID_ARGUMENT, "metadata field index");
    CHECK_STATUS(jsec_fspe_report_metadata_problem(r, 5, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_EQ_U(n, 99);
    CHECK_STATUS(jsec_fspe_report_metadata_name(NULL, 0, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_metadata_problem(NULL, 0, text, sizeof text, &n),
                 JSEC_ERR_INVALID_ARGUMENT);

    /* Count and field: NULLs, index, and the struct_size protocol. */
    CHECK_STATUS(jsec_fspe_report_metadata_count(NULL, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_fspe_report_metadata_count(r, NULL), JSEC_ERR_INVALID_ARGUMENT);
    {
        jsec_fspe_metadata_field small;
        memset(&small, 0xAB, sizeof small);
        small.struct_size = offsetof(jsec_fspe_metadata_field, tag);
        CHECK_OK(jsec_fspe_report_metadata_field(r, 3, &small));
        CHECK_EQ_U(small.struct_size, offsetof(jsec_fspe_metadata_field, tag));
        CHECK_EQ_U(small.segment_offset, EXIF_SEGMENT);
        CHECK_EQ_U(small.offset, EXIF_LAT);
        CHECK_EQ_U(small.length, 24);
        CHECK_EQ_U(small.ifd, JSEC_FSPE_IFD_GPS);
        CHECK_EQ_U(small.tag, 0xABABABABu); /* untouched */
        CHECK_EQ_U(small.problem_len, 0xABABABABu);
        small.struct_size = sizeof(size_t) - 1;
        CHECK_FAILS(jsec_fspe_report_metadata_field(r, 3, &small), JSEC_ERR_INVALID_ARGUMENT,
                    "struct_size");
        CHECK_EQ_U(small.tag, 0xABABABABu);
        small.struct_size = sizeof small;
        CHECK_FAILS(jsec_fspe_report_metadata_field(r, 5, &small), JSEC_ERR_INVALID_ARGUMENT,
                    "metadata field index");
        CHECK_STATUS(jsec_fspe_report_metadata_field(NULL, 0, &small), JSEC_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(jsec_fspe_report_metadata_field(r, 0, NULL), JSEC_ERR_INVALID_ARGUMENT);
        CHECK_EQ_U(small.tag, 0xABABABABu);
    }
    jsec_fspe_report_free(r);

    /* Decryption with the same classes restores every byte. */
    r = metadata_run(key, private_classes, 0, enc);
    CHECK_MEM_EQ(enc.data, plain.data, plain.len);
    check_metadata_fields(r, 0x0Du, 1);
    jsec_fspe_report_free(r);

    /* Dates only: DateTime changes, the rest of the segment stays. */
    r = metadata_run(key, JSEC_FSPE_METADATA_DATES, 1, enc);
    CHECK_MEM_NE(enc.data + EXIF_DATE, plain.data + EXIF_DATE, 19);
    CHECK_EQ_U(enc.data[EXIF_DATE + 19], 0);
    CHECK_MEM_EQ(enc.data + EXIF_ARTIST, plain.data + EXIF_ARTIST, 10);
    CHECK_MEM_EQ(enc.data + EXIF_LAT, plain.data + EXIF_LAT, 24);
    check_metadata_fields(r, 0x02u, 0);
    jsec_fspe_report_free(r);
    r = metadata_run(key, JSEC_FSPE_METADATA_DATES, 0, enc);
    CHECK_MEM_EQ(enc.data, plain.data, plain.len);
    jsec_fspe_report_free(r);

    /* None (the default): the segment is untouched, the fields still listed;
     * inspect lists them too and transforms nothing. */
    r = metadata_run(key, 0, 1, enc);
    CHECK_MEM_EQ(enc.data, plain.data, seg_end);
    check_metadata_fields(r, 0, 0);
    jsec_fspe_report_free(r);
    r = inspect(plain);
    check_metadata_fields(r, 0, 0);
    jsec_fspe_report_free(r);
    /* A file without EXIF has no fields. */
    r = inspect(main_img);
    n = 99;
    CHECK_OK(jsec_fspe_report_metadata_count(r, &n));
    CHECK_EQ_U(n, 0);
    CHECK_FAILS(jsec_fspe_report_metadata_name(r, 0, text, sizeof text, &n),
                JSEC_ERR_INVALID_ARGUMENT, "index");
    jsec_fspe_report_free(r);

    free(enc.data);
    free(plain.data);
    free(main_img.data);
    jsec_key_free(key);
}

int main(void) {
    check_plain_image();
    check_restart_and_gray();
    check_embedded();
    check_bad_inputs();
    check_metadata();
    return CHECK_DONE("test_report");
}
