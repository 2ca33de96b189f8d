/* test_j2k: the JPEG 2000 packet index and keyless transcoding through the
 * C API (jsec_j2k_index_*, jsec_j2k_transcode_options_*, jsec_j2k_transcode),
 * checked with OpenJPEG's libopenjp2: packets tile the data and carry the
 * encoder's SOP numbers; the transcoded codestream, decoded by libopenjp2,
 * gives exactly the samples libopenjp2 gives of the original with the same
 * resolution reduction and layer limit. NULLs, bad input, struct_size. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openjpeg.h>

#include "jsec_check.h"
#include "opj_mem.h"
#include "testjpeg.h"

unsigned long check_count;

/* Decode with libopenjp2 (reduce `r`, at most `layers` layers, 0 = all);
 * returns every component's samples concatenated (malloc'd) and their
 * count, or NULL. */
static int *opj_samples(const unsigned char *data, size_t len, unsigned r, unsigned layers,
                        size_t *count) {
    opj_mem m = {(unsigned char *)(uintptr_t)data, len, len, 0};
    bool jp2 = len > 12 && memcmp(data + 4, "jP  ", 4) == 0;
    opj_stream_t *st = opj_mem_reader(&m);
    int *out = opj_mem_samples(st, jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K, r, layers, count);
    opj_stream_destroy(st);
    return out;
}

/* ---- the checks ---- */

static void check_index(const char *name, const unsigned char *data, size_t len) {
    const jsec_j2k_index *ix = NULL;
    size_t n = 0, i;
    uint64_t missing = 7;
    jsec_j2k_packet p, prev;
    CHECK_OK(jsec_j2k_index_new(data, len, &ix));
    CHECK_OK(jsec_j2k_index_packet_count(ix, &n, &missing));
    CHECK_MSG(n > 0 && missing == 0, "%s: %zu packets, %llu missing", name, n,
              (unsigned long long)missing);
    memset(&prev, 0, sizeof prev);
    for (i = 0; i < n; i++) {
        memset(&p, 0xEE, sizeof p);
        p.struct_size = sizeof p;
        CHECK_OK(jsec_j2k_index_packet(ix, i, &p));
        CHECK(p.body_offset + p.body_length == p.offset + p.length);
        CHECK(p.offset + p.length <= len);
        if (p.sop) {
            CHECK(data[p.offset] == 0xFF && data[p.offset + 1] == 0x91);
            CHECK_EQ_U(((unsigned)data[p.offset + 4] << 8) | data[p.offset + 5], p.seq % 65536);
        }
        /* The contributions add up to the body. */
        {
            uint64_t sum = 0;
            uint32_t j;
            jsec_j2k_contribution c;
            c.struct_size = sizeof c;
            for (j = 0; j < p.code_blocks; j++) {
                CHECK_OK(jsec_j2k_index_contribution(ix, i, j, &c));
                CHECK(c.passes > 0 && c.band < 3);
                sum += c.bytes;
            }
            CHECK_EQ_U(sum, p.body_length);
            CHECK_FAILS(jsec_j2k_index_contribution(ix, i, p.code_blocks, &c),
                        JSEC_ERR_INVALID_ARGUMENT, "contribution");
        }
        /* In one tile-part, packets follow each other without gaps. */
        if (i > 0 && p.tile_part == prev.tile_part)
            CHECK_MSG(p.offset == prev.offset + prev.length, "%s: gap before packet %zu", name, i);
        prev = p;
    }
    /* Past the end, NULLs, a short struct_size. */
    p.struct_size = sizeof p;
    CHECK_FAILS(jsec_j2k_index_packet(ix, n, &p), JSEC_ERR_INVALID_ARGUMENT, "index holds");
    CHECK_FAILS(jsec_j2k_index_packet(ix, 0, NULL), JSEC_ERR_INVALID_ARGUMENT, "packet");
    CHECK_FAILS(jsec_j2k_index_packet(NULL, 0, &p), JSEC_ERR_INVALID_ARGUMENT, "index");
    CHECK_FAILS(jsec_j2k_index_contribution(ix, 0, 0, NULL), JSEC_ERR_INVALID_ARGUMENT,
                "contribution");
    CHECK_FAILS(jsec_j2k_index_contribution(ix, n, 0, NULL), JSEC_ERR_INVALID_ARGUMENT,
                "contribution");
    CHECK_FAILS(jsec_j2k_index_packet_count(ix, NULL, NULL), JSEC_ERR_INVALID_ARGUMENT, "count");
    memset(&p, 0x5C, sizeof p);
    p.struct_size = offsetof(jsec_j2k_packet, length);
    CHECK_OK(jsec_j2k_index_packet(ix, 0, &p));
    CHECK_EQ_U(p.length, 0x5C5C5C5C5C5C5C5Cull);
    p.struct_size = 2;
    CHECK_FAILS(jsec_j2k_index_packet(ix, 0, &p), JSEC_ERR_INVALID_ARGUMENT, "struct_size");
    jsec_j2k_index_free(ix);
}

static void check_transcode(const char *name, const unsigned char *data, size_t len,
                            unsigned reduce, unsigned layers) {
    jsec_j2k_transcode_options *o = NULL;
    jsec_buffer *out = NULL;
    const uint8_t *t;
    size_t tlen = 0, na = 0, nb = 0;
    int *want, *got;
    jsec_status st;
    CHECK_OK(jsec_j2k_transcode_options_new(&o));
    CHECK_OK(jsec_j2k_transcode_options_set_reduce(o, reduce));
    CHECK_OK(jsec_j2k_transcode_options_set_layers(o, layers));
    st = jsec_j2k_transcode(o, data, len, &out);
    if (st == JSEC_ERR_INVALID_ARGUMENT) {
        printf("  %s -r %u -l %u: refused: %s\n", name, reduce, layers, jsec_last_error());
        jsec_j2k_transcode_options_free(o);
        return;
    }
    CHECK_STATUS(st, JSEC_OK);
    CHECK_OK(jsec_buffer_data(out, &t, &tlen));
    want = opj_samples(data, len, reduce, layers, &na);
    got = opj_samples(t, tlen, 0, 0, &nb);
    CHECK_MSG(want != NULL && got != NULL, "%s: libopenjp2 failed to decode", name);
    CHECK_MSG(na == nb && memcmp(want, got, na * sizeof *want) == 0,
              "%s -r %u -l %u: other samples than libopenjp2 with the same reduction", name,
              reduce, layers);
    free(want);
    free(got);
    jsec_buffer_free(out);
    jsec_j2k_transcode_options_free(o);
}

static void check_errors(void) {
    const jsec_j2k_index *ix = (const jsec_j2k_index *)0x10;
    jsec_j2k_transcode_options *o = NULL;
    jsec_buffer *out = (jsec_buffer *)0x10;
    static const unsigned char junk[] = {0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x05, 0, 0, 0};
    static const uint16_t tiles[] = {0, 1};
    CHECK_FAILS(jsec_j2k_index_new(junk, sizeof junk, &ix), JSEC_ERR_MALFORMED, "SIZ");
    CHECK_FAILS(jsec_j2k_index_new((const uint8_t *)"GIF89a", 6, &ix), JSEC_ERR_MALFORMED,
                "not a JPEG 2000");
    CHECK_FAILS(jsec_j2k_index_new(NULL, 10, &ix), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK_FAILS(jsec_j2k_index_new(junk, sizeof junk, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(ix == (const jsec_j2k_index *)0x10);
    CHECK_OK(jsec_j2k_transcode_options_new(&o));
    CHECK_FAILS(jsec_j2k_transcode_options_set_reduce(o, 33), JSEC_ERR_INVALID_ARGUMENT, "33");
    CHECK_FAILS(jsec_j2k_transcode_options_set_layers(o, 70000), JSEC_ERR_INVALID_ARGUMENT,
                "70000");
    CHECK_FAILS(jsec_j2k_transcode_options_set_tiles(o, NULL, 2), JSEC_ERR_INVALID_ARGUMENT,
                "tiles");
    CHECK_OK(jsec_j2k_transcode_options_set_tiles(o, tiles, 2));
    CHECK_OK(jsec_j2k_transcode_options_set_tiles(o, NULL, 0));
    CHECK_FAILS(jsec_j2k_transcode_options_set_reduce(NULL, 1), JSEC_ERR_INVALID_ARGUMENT,
                "options");
    CHECK_FAILS(jsec_j2k_transcode_options_new(NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_j2k_transcode(o, junk, sizeof junk, &out), JSEC_ERR_MALFORMED, "SIZ");
    CHECK_FAILS(jsec_j2k_transcode(o, NULL, 1, &out), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK_FAILS(jsec_j2k_transcode(NULL, junk, sizeof junk, NULL), JSEC_ERR_INVALID_ARGUMENT,
                "out");
    CHECK(out == (jsec_buffer *)0x10);
    jsec_j2k_transcode_options_free(o);
    jsec_j2k_transcode_options_free(NULL);
    jsec_j2k_index_free(NULL);
}

int main(void) {
    static const char *files[] = {
        "j2k-conformance/p0_03.j2k",   "j2k-conformance/p1_05.j2k",
        "j2k-conformance/p1_06.j2k",   "j2k-conformance/p0_06.j2k",
        "j2k-conformance/file8.jp2",   "generated/j2k/c1024-RPCL-sop-eph-prec-t512.j2k",
        "generated/j2k/c1024-LRCP-t256-plt-tlm-tpR.j2k",
        "generated/j2k/c1024-POC-RPCL-CPRL.j2k",
    };
    const char *corpus = testjpeg_corpus_dir();
    size_t i;
    check_errors();
    if (corpus == NULL) {
        printf("shared corpus not found: corpus part skipped\n");
        return CHECK_DONE("test_j2k");
    }
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        size_t len = 0;
        unsigned char *data;
        snprintf(path, sizeof path, "%s/%s", corpus, files[i]);
        data = testjpeg_read_file(path, &len);
        CHECK_MSG(data != NULL, "cannot read %s", path);
        check_index(files[i], data, len);
        check_transcode(files[i], data, len, 0, 1);
        check_transcode(files[i], data, len, 1, 0);
        check_transcode(files[i], data, len, 2, 1);
        free(data);
    }
    return CHECK_DONE("test_j2k");
}
