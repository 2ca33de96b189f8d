/* test_jpsec: JPSEC (JPEG 2000 Part 8) through the C API and the OpenJPEG
 * glue (include/jsec_openjpeg.h), on codestreams this test encodes itself
 * with libopenjp2 (256x192 RGB, 3 decomposition levels, 2 quality layers;
 * no corpus files).
 *
 * Checks: every jsec_jpsec_* entry point, with its NULL arguments, bad enum
 * values, short buffers and struct_size handling; protect -> consume with
 * k0 gives the original bytes; consume with k2 (jsec_jpsec_derive_key)
 * opens exactly resolutions 0 and 1 (the report counts them, libopenjp2
 * at reduce 2 gives the original samples), and consuming that with k0
 * gives the original bytes; a wrong key is BAD_KEY; a tampered body is
 * VERIFICATION_FAILED with no output and a report naming the unit; the
 * per-packet protector gives the whole-file ciphertext of every packet;
 * transcoding a protected file then consuming it equals transcoding the
 * original; the protected file decodes with libopenjp2 (format-compliant);
 * a TOML policy equals the same policy built call by call; signatures; the
 * glue writer and reader. Zones by precinct, packet sequence range and byte
 * range (on a codestream with 64x64 precincts) encrypt exactly the packets
 * they select; whole-packet encryption after a MAC opens with k0, leaves
 * the MAC "not checked" without keys, cannot be transcoded keylessly, and
 * must be the last tool. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "jsec_check.h"
#include "opj_mem.h"
#include "jsec_openjpeg.h"
#include "testjpeg.h"

unsigned long check_count;

/* Base of the files this test writes in its working directory (from
 * argv[0], so that the shared, static and asan variants never collide). */
static char file_base[512];

static const uint8_t K0[32] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45,
                               0x67, 0x89, 0xab, 0xcd, 0xef, 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5,
                               0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f};
static const uint8_t KMAC[16] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11,
                                 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
static const uint8_t IV[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* Two ECDSA P-256 test keys (PKCS#8 PEM), made for this test only. */
static const char EC_KEY_A[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQguMEzB5zT5qynJhgM\n"
    "cX8ybR4tlhe5o4SKKif8HZu8XDOhRANCAASEMI3CBiVYHEC/+J5uod4dPseclfgE\n"
    "SYgmgFhWQ5lPYUlmMbMBWKpe7rS78a8fN/PKPclKx3VZUojjl0kIgY4Q\n"
    "-----END PRIVATE KEY-----\n";
static const char EC_KEY_B[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4vGiGVEwJXeLief1\n"
    "FBKwqfdBmnLPzftFWdmxG+/Q0WqhRANCAATh2mHJebcCaNf9X1cnL81xpBRcYTPG\n"
    "gJWPP8udby8OP3I/L9RDN9rrbl+EtLBw6DfNGyvOCAeyUI36fK3rkhE9\n"
    "-----END PRIVATE KEY-----\n";

/* ---- libopenjp2: encoding and decoding in memory ---- */

#define IMG_W 256
#define IMG_H 192

/* A procedurally drawn RGB picture: gradients, a disc, stripes, texture. */
static opj_image_t *draw_image(void) {
    opj_image_cmptparm_t cp[3];
    opj_image_t *img;
    unsigned c, x, y, seed = 12345;
    memset(cp, 0, sizeof cp);
    for (c = 0; c < 3; c++) {
        cp[c].dx = cp[c].dy = 1;
        cp[c].w = IMG_W;
        cp[c].h = IMG_H;
        cp[c].prec = 8;
        cp[c].sgnd = 0;
    }
    img = opj_image_create(3, cp, OPJ_CLRSPC_SRGB);
    CHECK(img != NULL);
    img->x0 = img->y0 = 0;
    img->x1 = IMG_W;
    img->y1 = IMG_H;
    for (y = 0; y < IMG_H; y++)
        for (x = 0; x < IMG_W; x++) {
            int cx = (int)x - IMG_W / 2, cy = (int)y - IMG_H / 2;
            int disc = cx * cx + cy * cy < 60 * 60;
            int stripe = ((x / 8) + (y / 8)) % 2;
            seed = seed * 1103515245u + 12345u;
            img->comps[0].data[y * IMG_W + x] = (OPJ_INT32)((x * 255) / (IMG_W - 1));
            img->comps[1].data[y * IMG_W + x] = (OPJ_INT32)((y * 255) / (IMG_H - 1));
            img->comps[2].data[y * IMG_W + x] =
                (OPJ_INT32)((disc ? 220 : stripe ? 40 : 120) + (int)((seed >> 16) % 24));
        }
    return img;
}

/* Encode `img` into `st` (libopenjp2 may take over the samples of a
 * single-tile image: draw a new image for each encoding): 3 decomposition levels (4 resolutions), 2
 * layers, 64x64 code-blocks, one tile, LRCP; with `precincts`, 64x64
 * precincts (12 in the highest resolution, 4 in the next, then 1 and 1),
 * else one precinct per resolution. */
static void encode_with(opj_image_t *img, opj_stream_t *st, bool precincts) {
    opj_cparameters_t p;
    opj_codec_t *codec = opj_create_compress(OPJ_CODEC_J2K);
    int r;
    opj_set_default_encoder_parameters(&p);
    p.numresolution = 4;
    p.tcp_numlayers = 2;
    p.tcp_rates[0] = 30;
    p.tcp_rates[1] = 4;
    p.cp_disto_alloc = 1;
    if (precincts) {
        p.csty |= 0x01;
        p.res_spec = p.numresolution;
        for (r = 0; r < p.res_spec; r++) p.prcw_init[r] = p.prch_init[r] = 64;
    }
    opj_mem_quiet(codec);
    CHECK(opj_setup_encoder(codec, &p, img));
    CHECK(opj_start_compress(codec, img, st));
    CHECK(opj_encode(codec, st));
    CHECK(opj_end_compress(codec, st));
    opj_destroy_codec(codec);
}

static void encode_into(opj_image_t *img, opj_stream_t *st) { encode_with(img, st, false); }

static unsigned char *encode_j2k_with(size_t *len, bool precincts) {
    opj_mem m = {NULL, 0, 0, 0};
    opj_image_t *img = draw_image();
    opj_stream_t *st = opj_mem_writer(&m);
    encode_with(img, st, precincts);
    opj_stream_destroy(st);
    opj_image_destroy(img);
    *len = m.len;
    return m.data;
}

static unsigned char *encode_j2k(size_t *len) { return encode_j2k_with(len, false); }

/* Decode from `st` with libopenjp2 at reduce `r`; every component's samples
 * concatenated (malloc'd) and their count, or NULL. */
static int *decode_stream(opj_stream_t *st, unsigned r, size_t *count) {
    return opj_mem_samples(st, OPJ_CODEC_J2K, r, 0, count);
}

static int *decode(const unsigned char *data, size_t len, unsigned r, size_t *count) {
    opj_mem m = {(unsigned char *)(uintptr_t)data, len, len, 0};
    opj_stream_t *st = opj_mem_reader(&m);
    int *out = decode_stream(st, r, count);
    opj_stream_destroy(st);
    return out;
}

/* Whether two files decode (at reduce r) to the same samples. */
static bool same_samples(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
                         unsigned r) {
    size_t na = 0, nb = 0;
    int *sa = decode(a, alen, r, &na), *sb = decode(b, blen, r, &nb);
    bool same;
    CHECK_MSG(sa != NULL && sb != NULL, "libopenjp2 could not decode at reduce %u", r);
    same = na == nb && na > 0 && memcmp(sa, sb, na * sizeof *sa) == 0;
    free(sa);
    free(sb);
    return same;
}

/* ---- small helpers ---- */

static const uint8_t *buf_bytes(const jsec_buffer *b, size_t *len) {
    const uint8_t *d = NULL;
    CHECK_OK(jsec_buffer_data(b, &d, len));
    return d;
}

static bool buf_equals(const jsec_buffer *b, const unsigned char *data, size_t len) {
    size_t n = 0;
    const uint8_t *d = buf_bytes(b, &n);
    return n == len && memcmp(d, data, len) == 0;
}

static jsec_jpsec_keys *make_keys(const uint8_t *k1, size_t l1, const uint8_t *k2, size_t l2) {
    jsec_jpsec_keys *k = NULL;
    CHECK_OK(jsec_jpsec_keys_new(&k));
    if (k1 != NULL) CHECK_OK(jsec_jpsec_keys_add(k, k1, l1));
    if (k2 != NULL) CHECK_OK(jsec_jpsec_keys_add(k, k2, l2));
    return k;
}

static jsec_jpsec_tool_report tool_report(const jsec_jpsec_report *r, size_t i) {
    jsec_jpsec_tool_report t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    CHECK_OK(jsec_jpsec_report_tool(r, i, &t));
    return t;
}

static jsec_jpsec_unit_report unit_report(const jsec_jpsec_report *r, size_t t, size_t u) {
    jsec_jpsec_unit_report x;
    memset(&x, 0, sizeof x);
    x.struct_size = sizeof x;
    CHECK_OK(jsec_jpsec_report_unit(r, t, u, &x));
    return x;
}

static jsec_j2k_packet packet_at(const jsec_j2k_index *ix, size_t i) {
    jsec_j2k_packet p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    CHECK_OK(jsec_j2k_index_packet(ix, i, &p));
    return p;
}

/* Packets with a non-empty body, and those among them at resolution <= r. */
static size_t count_bodies(const unsigned char *data, size_t len, int max_res, size_t *total) {
    const jsec_j2k_index *ix = NULL;
    size_t n = 0, i, in = 0;
    CHECK_OK(jsec_j2k_index_new(data, len, &ix));
    CHECK_OK(jsec_j2k_index_packet_count(ix, &n, NULL));
    *total = 0;
    for (i = 0; i < n; i++) {
        jsec_j2k_packet p = packet_at(ix, i);
        if (p.body_length == 0) continue;
        (*total)++;
        if ((int)p.resolution <= max_res) in++;
    }
    jsec_j2k_index_free(ix);
    return in;
}

/* The policy of most checks: encryption under K0 (CTR, format-compliant,
 * one level per resolution), a MAC per packet under KMAC, a hash per tile,
 * a content identification; fixed IV. */
static jsec_jpsec_policy *full_policy(void) {
    jsec_jpsec_policy *p = NULL;
    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_policy_add_encryption(p, K0, sizeof K0, JSEC_JPSEC_MODE_CTR, true));
    CHECK_OK(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_RESOLUTION, 0));
    CHECK_OK(jsec_jpsec_policy_add_mac(p, KMAC, sizeof KMAC, JSEC_JPSEC_MAC_HMAC_SHA256,
                                       JSEC_JPSEC_GRANULARITY_PACKET));
    CHECK_OK(jsec_jpsec_policy_add_hash(p, JSEC_JPSEC_HASH_SHA256, JSEC_JPSEC_GRANULARITY_TILE));
    CHECK_OK(jsec_jpsec_policy_add_content_id(p, "urn:jsec:test:0001", "jsec test registry"));
    CHECK_OK(jsec_jpsec_policy_set_iv(p, IV, sizeof IV));
    return p;
}

static jsec_buffer *protect(const jsec_jpsec_policy *p, const unsigned char *data, size_t len) {
    jsec_buffer *out = NULL;
    CHECK_OK(jsec_jpsec_protect(p, data, len, &out));
    CHECK(out != NULL);
    return out;
}

/* ---- the checks ---- */

/* Argument checks that need no codestream. */
static void check_arguments(void) {
    jsec_jpsec_policy *p = NULL, *keep = (jsec_jpsec_policy *)0x10;
    jsec_jpsec_keys *k = NULL;
    jsec_buffer *out = (jsec_buffer *)0x10;
    const jsec_jpsec_report *rep = (const jsec_jpsec_report *)0x10;
    const jsec_jpsec_packet_protector *pp = (const jsec_jpsec_packet_protector *)0x10;
    const jsec_sign_key *bls = NULL;
    const jsec_verify_key *bls_pub = NULL;
    static const uint16_t tiles[] = {0};
    static const uint32_t ranges[] = {0, 3, 7, 9};
    static const uint32_t reversed[] = {0, 3, 9, 7};
    static const uint32_t empty_bytes[] = {100, 0};
    uint8_t key[32], body[4] = {1, 2, 3, 4};
    jsec_jpsec_packet_id id;
    bool b = false;
    size_t n = 0;

    /* Constructors and NULL outputs. */
    CHECK_FAILS(jsec_jpsec_policy_new(NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_jpsec_keys_new(NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml(NULL, NULL, &keep), JSEC_ERR_INVALID_ARGUMENT,
                "toml");
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml("", NULL, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(keep == (jsec_jpsec_policy *)0x10);
    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_keys_new(&k));

    /* Modifiers with no tool yet: INVALID_STATE. */
    CHECK_FAILS(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_RESOLUTION, 0),
                JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_region(p, 0, 0, 8, 8, false), JSEC_ERR_INVALID_STATE,
                "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_resolutions(p, 0, 1), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_layers(p, 0, 0), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_components(p, 0, 0), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_tiles(p, tiles, 1), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_precincts(p, 0, 1), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_packets(p, ranges, 2), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_bytes(p, ranges, 2), JSEC_ERR_INVALID_STATE, "no tool");

    /* Bad keys and enum values: nothing is added. */
    CHECK_FAILS(jsec_jpsec_policy_add_encryption(p, K0, 20, JSEC_JPSEC_MODE_CTR, true),
                JSEC_ERR_BAD_KEY, "20");
    CHECK_FAILS(jsec_jpsec_policy_add_encryption(p, K0, 16, 0, true), JSEC_ERR_INVALID_ARGUMENT,
                "mode 0");
    CHECK_FAILS(jsec_jpsec_policy_add_encryption(p, K0, 16, 6, false), JSEC_ERR_INVALID_ARGUMENT,
                "mode 6");
    CHECK_FAILS(jsec_jpsec_policy_add_encryption(p, K0, 16, JSEC_JPSEC_MODE_CBC, true),
                JSEC_ERR_INVALID_ARGUMENT, "CBC");
    CHECK_FAILS(jsec_jpsec_policy_add_encryption(p, NULL, 16, JSEC_JPSEC_MODE_CTR, true),
                JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_jpsec_policy_add_encryption(NULL, K0, 16, JSEC_JPSEC_MODE_CTR, true),
                JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_add_packet_encryption(p, K0, 20, JSEC_JPSEC_MODE_CTR),
                JSEC_ERR_BAD_KEY, "20");
    CHECK_FAILS(jsec_jpsec_policy_add_packet_encryption(p, K0, 32, 0), JSEC_ERR_INVALID_ARGUMENT,
                "mode 0");
    CHECK_FAILS(jsec_jpsec_policy_add_packet_encryption(p, K0, 32, 6), JSEC_ERR_INVALID_ARGUMENT,
                "mode 6");
    CHECK_FAILS(jsec_jpsec_policy_add_packet_encryption(p, NULL, 32, JSEC_JPSEC_MODE_CTR),
                JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_jpsec_policy_add_packet_encryption(NULL, K0, 32, JSEC_JPSEC_MODE_CTR),
                JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_add_mac(p, KMAC, 16, 5, JSEC_JPSEC_GRANULARITY_TILE),
                JSEC_ERR_INVALID_ARGUMENT, "MAC 5");
    CHECK_FAILS(jsec_jpsec_policy_add_mac(p, KMAC, 16, JSEC_JPSEC_MAC_HMAC_SHA1, 7),
                JSEC_ERR_INVALID_ARGUMENT, "granularity 7");
    CHECK_FAILS(jsec_jpsec_policy_add_mac(p, KMAC, 15, JSEC_JPSEC_MAC_HMAC_SHA1, 1),
                JSEC_ERR_BAD_KEY, "15");
    CHECK_FAILS(jsec_jpsec_policy_add_mac(p, NULL, 16, JSEC_JPSEC_MAC_HMAC_SHA1, 1),
                JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_jpsec_policy_add_hash(p, 2, JSEC_JPSEC_GRANULARITY_TILE),
                JSEC_ERR_INVALID_ARGUMENT, "hash 2");
    CHECK_FAILS(jsec_jpsec_policy_add_hash(p, JSEC_JPSEC_HASH_SHA1, 0), JSEC_ERR_INVALID_ARGUMENT,
                "granularity 0");
    CHECK_FAILS(jsec_jpsec_policy_add_hash(NULL, JSEC_JPSEC_HASH_SHA1, 1),
                JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_add_content_id(p, "", "x"), JSEC_ERR_INVALID_ARGUMENT, "1 to");
    CHECK_FAILS(jsec_jpsec_policy_add_content_id(p, NULL, "x"), JSEC_ERR_INVALID_ARGUMENT, "id");
    CHECK_FAILS(jsec_jpsec_policy_add_content_id(p, "x", NULL), JSEC_ERR_INVALID_ARGUMENT,
                "authority");
    CHECK_FAILS(jsec_jpsec_policy_add_signature(p, NULL, JSEC_JPSEC_SIGNATURE_ECDSA_P256,
                                                JSEC_JPSEC_HASH_SHA256, 1),
                JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_OK(jsec_sign_key_generate(&bls));
    CHECK_FAILS(jsec_jpsec_policy_add_signature(p, bls, JSEC_JPSEC_SIGNATURE_ECDSA_P256,
                                                JSEC_JPSEC_HASH_SHA256, 1),
                JSEC_ERR_INVALID_ARGUMENT, "BLS");
    CHECK_OK(jsec_sign_key_public(bls, &bls_pub));
    CHECK_FAILS(jsec_jpsec_keys_add_public(k, bls_pub), JSEC_ERR_INVALID_ARGUMENT, "BLS");
    CHECK_FAILS(jsec_jpsec_keys_add_public(k, NULL), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_jpsec_keys_add_public(NULL, bls_pub), JSEC_ERR_INVALID_ARGUMENT, "keys");
    jsec_verify_key_free(bls_pub);
    jsec_sign_key_free(bls);
    /* Still no tool: */
    CHECK_FAILS(jsec_jpsec_policy_set_resolutions(p, 0, 1), JSEC_ERR_INVALID_STATE, "no tool");
    CHECK_FAILS(jsec_jpsec_policy_set_precincts(p, 0, 1), JSEC_ERR_INVALID_STATE, "no tool");

    /* Modifiers that the last tool does not take. */
    CHECK_OK(jsec_jpsec_policy_add_hash(p, JSEC_JPSEC_HASH_RIPEMD160,
                                        JSEC_JPSEC_GRANULARITY_RESOLUTION));
    CHECK_FAILS(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_LAYER, 2),
                JSEC_ERR_INVALID_STATE, "hash tool");
    CHECK_FAILS(jsec_jpsec_policy_set_region(p, 0, 0, 8, 8, true), JSEC_ERR_INVALID_STATE,
                "region");
    CHECK_OK(jsec_jpsec_policy_set_resolutions(p, 1, 3));
    CHECK_FAILS(jsec_jpsec_policy_set_resolutions(p, 3, 1), JSEC_ERR_INVALID_ARGUMENT, "3 to 1");
    CHECK_FAILS(jsec_jpsec_policy_set_resolutions(p, 0, 33), JSEC_ERR_INVALID_ARGUMENT, "32");
    CHECK_OK(jsec_jpsec_policy_set_layers(p, 0, 1));
    CHECK_FAILS(jsec_jpsec_policy_set_layers(p, 2, 1), JSEC_ERR_INVALID_ARGUMENT, "first");
    CHECK_OK(jsec_jpsec_policy_set_components(p, 0, 2));
    CHECK_FAILS(jsec_jpsec_policy_set_components(p, 1, 0), JSEC_ERR_INVALID_ARGUMENT, "first");
    CHECK_OK(jsec_jpsec_policy_set_tiles(p, tiles, 1));
    CHECK_OK(jsec_jpsec_policy_set_tiles(p, NULL, 0));
    CHECK_FAILS(jsec_jpsec_policy_set_tiles(p, NULL, 1), JSEC_ERR_INVALID_ARGUMENT, "tiles");
    CHECK_FAILS(jsec_jpsec_policy_set_tiles(p, tiles, 0), JSEC_ERR_INVALID_ARGUMENT, "NULL, 0");
    /* Precincts, packet ranges, byte ranges. */
    CHECK_OK(jsec_jpsec_policy_set_precincts(p, 1, 4));
    CHECK_OK(jsec_jpsec_policy_set_precincts(p, 0, 0));
    CHECK_FAILS(jsec_jpsec_policy_set_precincts(p, 4, 1), JSEC_ERR_INVALID_ARGUMENT, "4 to 1");
    CHECK_OK(jsec_jpsec_policy_set_packets(p, ranges, 2));
    CHECK_OK(jsec_jpsec_policy_set_packets(p, NULL, 0));
    CHECK_FAILS(jsec_jpsec_policy_set_packets(p, NULL, 2), JSEC_ERR_INVALID_ARGUMENT, "ranges");
    CHECK_FAILS(jsec_jpsec_policy_set_packets(p, ranges, 0), JSEC_ERR_INVALID_ARGUMENT,
                "NULL, 0");
    CHECK_FAILS(jsec_jpsec_policy_set_packets(p, reversed, 2), JSEC_ERR_INVALID_ARGUMENT,
                "`ranges` pair 1: packets 9 to 7");
    CHECK_OK(jsec_jpsec_policy_set_bytes(p, ranges, 2));
    CHECK_OK(jsec_jpsec_policy_set_bytes(p, NULL, 0));
    CHECK_FAILS(jsec_jpsec_policy_set_bytes(p, NULL, 1), JSEC_ERR_INVALID_ARGUMENT, "ranges");
    CHECK_FAILS(jsec_jpsec_policy_set_bytes(p, ranges, 0), JSEC_ERR_INVALID_ARGUMENT, "NULL, 0");
    CHECK_FAILS(jsec_jpsec_policy_set_bytes(p, empty_bytes, 1), JSEC_ERR_INVALID_ARGUMENT,
                "empty byte range at offset 100");
    CHECK_OK(jsec_jpsec_policy_add_mac(p, KMAC, 16, JSEC_JPSEC_MAC_CBC_MAC_AES,
                                       JSEC_JPSEC_GRANULARITY_PRECINCT));
    CHECK_OK(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_LAYER, 2));
    CHECK_FAILS(jsec_jpsec_policy_set_region(p, 0, 0, 8, 8, false), JSEC_ERR_INVALID_STATE,
                "MAC tool");
    CHECK_OK(jsec_jpsec_policy_add_encryption(p, K0, 24, JSEC_JPSEC_MODE_OFB, true));
    CHECK_OK(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_SINGLE, 1));
    CHECK_FAILS(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_SINGLE, 2),
                JSEC_ERR_INVALID_ARGUMENT, "single");
    CHECK_FAILS(jsec_jpsec_policy_set_levels(p, 3, 2), JSEC_ERR_INVALID_ARGUMENT, "access 3");
    CHECK_FAILS(jsec_jpsec_policy_set_region(p, 0, 0, 0, 8, false), JSEC_ERR_INVALID_ARGUMENT,
                "0");
    CHECK_OK(jsec_jpsec_policy_set_region(p, 0, 0, 64, 64, true));
    /* Whole-packet encryption: levels and zones, but no region. */
    CHECK_OK(jsec_jpsec_policy_add_packet_encryption(p, K0, 16, JSEC_JPSEC_MODE_ECB));
    CHECK_OK(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_LAYER, 2));
    CHECK_FAILS(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_SINGLE, 2),
                JSEC_ERR_INVALID_ARGUMENT, "single");
    CHECK_FAILS(jsec_jpsec_policy_set_region(p, 0, 0, 8, 8, false), JSEC_ERR_INVALID_STATE,
                "whole-packet encryption tool");
    CHECK_OK(jsec_jpsec_policy_set_resolutions(p, 0, 2));
    CHECK_OK(jsec_jpsec_policy_set_precincts(p, 0, 3));
    CHECK_OK(jsec_jpsec_policy_set_packets(p, ranges, 1));
    CHECK_OK(jsec_jpsec_policy_set_bytes(p, ranges, 1));
    CHECK_OK(jsec_jpsec_policy_add_content_id(p, "id", ""));
    CHECK_FAILS(jsec_jpsec_policy_set_tiles(p, tiles, 1), JSEC_ERR_INVALID_STATE,
                "content identification");
    CHECK_FAILS(jsec_jpsec_policy_set_precincts(p, 0, 0), JSEC_ERR_INVALID_STATE,
                "content identification");
    CHECK_FAILS(jsec_jpsec_policy_set_packets(p, ranges, 1), JSEC_ERR_INVALID_STATE,
                "content identification");
    CHECK_FAILS(jsec_jpsec_policy_set_bytes(p, ranges, 1), JSEC_ERR_INVALID_STATE,
                "content identification");
    CHECK_FAILS(jsec_jpsec_policy_set_levels(NULL, 0, 0), JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_region(NULL, 0, 0, 1, 1, false), JSEC_ERR_INVALID_ARGUMENT,
                "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_resolutions(NULL, 0, 0), JSEC_ERR_INVALID_ARGUMENT,
                "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_layers(NULL, 0, 0), JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_components(NULL, 0, 0), JSEC_ERR_INVALID_ARGUMENT,
                "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_tiles(NULL, NULL, 0), JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_precincts(NULL, 0, 0), JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_packets(NULL, NULL, 0), JSEC_ERR_INVALID_ARGUMENT,
                "policy");
    CHECK_FAILS(jsec_jpsec_policy_set_bytes(NULL, NULL, 0), JSEC_ERR_INVALID_ARGUMENT, "policy");

    /* IV: exactly 16 bytes. */
    CHECK_FAILS(jsec_jpsec_policy_set_iv(p, IV, 15), JSEC_ERR_INVALID_ARGUMENT, "16");
    CHECK_FAILS(jsec_jpsec_policy_set_iv(p, IV, 17), JSEC_ERR_INVALID_ARGUMENT, "16");
    CHECK_FAILS(jsec_jpsec_policy_set_iv(p, NULL, 16), JSEC_ERR_INVALID_ARGUMENT, "iv");
    CHECK_FAILS(jsec_jpsec_policy_set_iv(NULL, IV, 16), JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK_OK(jsec_jpsec_policy_set_iv(p, IV, JSEC_JPSEC_IV_LEN));

    /* Protect: NULLs, not a codestream, an empty policy. */
    CHECK_FAILS(jsec_jpsec_protect(p, body, sizeof body, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_jpsec_protect(NULL, body, sizeof body, &out), JSEC_ERR_INVALID_ARGUMENT,
                "policy");
    CHECK_FAILS(jsec_jpsec_protect(p, NULL, 4, &out), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK_STATUS(jsec_jpsec_protect(p, body, sizeof body, &out), JSEC_ERR_MALFORMED);
    CHECK(out == (jsec_buffer *)0x10);

    /* Keys. */
    CHECK_FAILS(jsec_jpsec_keys_add(k, K0, 31), JSEC_ERR_BAD_KEY, "31");
    CHECK_FAILS(jsec_jpsec_keys_add(k, NULL, 16), JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_jpsec_keys_add(NULL, K0, 16), JSEC_ERR_INVALID_ARGUMENT, "keys");

    /* Consume: NULLs, not a codestream. */
    CHECK_FAILS(jsec_jpsec_consume(body, sizeof body, k, NULL, &rep), JSEC_ERR_INVALID_ARGUMENT,
                "out");
    CHECK_FAILS(jsec_jpsec_consume(NULL, 4, k, &out, &rep), JSEC_ERR_INVALID_ARGUMENT, "data");
    CHECK_STATUS(jsec_jpsec_consume(body, sizeof body, NULL, &out, NULL), JSEC_ERR_MALFORMED);
    CHECK(out == (jsec_buffer *)0x10 && rep == (const jsec_jpsec_report *)0x10);

    /* Report accessors: NULLs. */
    CHECK_FAILS(jsec_jpsec_report_complete(NULL, &b), JSEC_ERR_INVALID_ARGUMENT, "report");
    CHECK_FAILS(jsec_jpsec_report_failed(NULL, &b), JSEC_ERR_INVALID_ARGUMENT, "report");
    CHECK_FAILS(jsec_jpsec_report_tool_count(NULL, &n), JSEC_ERR_INVALID_ARGUMENT, "report");
    CHECK_FAILS(jsec_jpsec_report_tool(NULL, 0, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_jpsec_report_unit(NULL, 0, 0, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");

    /* Key derivation: k_0 is k0, the chain composes, short buffers. */
    CHECK_OK(jsec_jpsec_derive_key(K0, sizeof K0, 0, key, sizeof key));
    CHECK(memcmp(key, K0, sizeof K0) == 0);
    {
        uint8_t k1[32], k2a[32], k2b[32], small[16];
        memset(small, 0x77, sizeof small);
        CHECK_OK(jsec_jpsec_derive_key(K0, sizeof K0, 1, k1, sizeof k1));
        CHECK_OK(jsec_jpsec_derive_key(K0, sizeof K0, 2, k2a, sizeof k2a));
        CHECK_OK(jsec_jpsec_derive_key(k1, sizeof k1, 1, k2b, sizeof k2b));
        CHECK(memcmp(k2a, k2b, sizeof k2a) == 0);
        CHECK(memcmp(k1, K0, sizeof k1) != 0 && memcmp(k1, k2a, sizeof k1) != 0);
        CHECK_FAILS(jsec_jpsec_derive_key(K0, sizeof K0, 1, small, sizeof small),
                    JSEC_ERR_BUFFER_TOO_SMALL, "16 bytes");
        CHECK(small[0] == 0x77 && small[15] == 0x77);
        CHECK_OK(jsec_jpsec_derive_key(K0, 16, 1, small, sizeof small));
        CHECK_FAILS(jsec_jpsec_derive_key(K0, 8, 1, key, sizeof key), JSEC_ERR_BAD_KEY, "8");
        CHECK_FAILS(jsec_jpsec_derive_key(NULL, 16, 1, key, sizeof key),
                    JSEC_ERR_INVALID_ARGUMENT, "k0");
        CHECK_FAILS(jsec_jpsec_derive_key(K0, 16, 1, NULL, 16), JSEC_ERR_INVALID_ARGUMENT, "out");
    }

    /* Packet protector: bad arguments. */
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 0, JSEC_JPSEC_ACCESS_RESOLUTION, 4,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 15, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "iv");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 0, 9, 4, JSEC_JPSEC_MODE_CTR, true, IV, 16,
                                                &pp),
                JSEC_ERR_INVALID_ARGUMENT, "access 9");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 0, JSEC_JPSEC_ACCESS_RESOLUTION, 4, 99,
                                                true, IV, 16, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "mode 99");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 0, JSEC_JPSEC_ACCESS_RESOLUTION, 0,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 16, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "0 access levels");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 4, JSEC_JPSEC_ACCESS_RESOLUTION, 4,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 16, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "key level 4");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 0, JSEC_JPSEC_ACCESS_SINGLE, 2,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 16, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "single");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 32, 0, JSEC_JPSEC_ACCESS_SINGLE, 1,
                                                JSEC_JPSEC_MODE_ECB, true, IV, 16, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "keystream");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 12, 0, JSEC_JPSEC_ACCESS_SINGLE, 1,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 16, &pp),
                JSEC_ERR_BAD_KEY, "12");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(NULL, 16, 0, JSEC_JPSEC_ACCESS_SINGLE, 1,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 16, &pp),
                JSEC_ERR_INVALID_ARGUMENT, "key");
    CHECK_FAILS(jsec_jpsec_packet_protector_new(K0, 16, 0, JSEC_JPSEC_ACCESS_SINGLE, 1,
                                                JSEC_JPSEC_MODE_CTR, true, IV, 16, NULL),
                JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK(pp == (const jsec_jpsec_packet_protector *)0x10);
    CHECK_OK(jsec_jpsec_packet_protector_new(K0, 16, 0, JSEC_JPSEC_ACCESS_SINGLE, 1,
                                             JSEC_JPSEC_MODE_CTR, false, IV, 16, &pp));
    memset(&id, 0, sizeof id);
    id.struct_size = sizeof id;
    CHECK_FAILS(jsec_jpsec_packet_protect(NULL, &id, body, sizeof body), JSEC_ERR_INVALID_ARGUMENT,
                "protector");
    CHECK_FAILS(jsec_jpsec_packet_protect(pp, NULL, body, sizeof body), JSEC_ERR_INVALID_ARGUMENT,
                "id");
    CHECK_FAILS(jsec_jpsec_packet_protect(pp, &id, NULL, 4), JSEC_ERR_INVALID_ARGUMENT, "body");
    CHECK_FAILS(jsec_jpsec_packet_unprotect(pp, &id, NULL, 4), JSEC_ERR_INVALID_ARGUMENT, "body");
    id.struct_size = offsetof(jsec_jpsec_packet_id, precinct);
    CHECK_FAILS(jsec_jpsec_packet_protect(pp, &id, body, sizeof body), JSEC_ERR_INVALID_ARGUMENT,
                "struct_size");
    CHECK(body[0] == 1 && body[3] == 4);
    id.struct_size = sizeof id;
    CHECK_OK(jsec_jpsec_packet_protect(pp, &id, body, sizeof body));
    CHECK(!(body[0] == 1 && body[1] == 2 && body[2] == 3 && body[3] == 4));
    CHECK_OK(jsec_jpsec_packet_unprotect(pp, &id, body, sizeof body));
    CHECK(body[0] == 1 && body[1] == 2 && body[2] == 3 && body[3] == 4);
    jsec_jpsec_packet_protector_free(pp);

    jsec_jpsec_keys_free(k);
    jsec_jpsec_policy_free(p);
    /* Freeing NULL is a no-op. */
    jsec_jpsec_policy_free(NULL);
    jsec_jpsec_keys_free(NULL);
    jsec_jpsec_report_free(NULL);
    jsec_jpsec_packet_protector_free(NULL);
    jsec_opj_writer_free(NULL);
    jsec_opj_reader_free(NULL);
}

/* protect -> consume: with k0, with nothing, with k2, then k0 again. */
static void check_round_trips(const unsigned char *orig, size_t len) {
    jsec_jpsec_policy *p = full_policy();
    jsec_buffer *prot = protect(p, orig, len), *out = NULL, *out2 = NULL;
    const jsec_jpsec_report *rep = NULL;
    jsec_jpsec_keys *keys;
    jsec_jpsec_tool_report t;
    const uint8_t *pd, *od;
    size_t plen = 0, olen = 0, n = 0, total = 0, low, i;
    bool b = true;
    uint8_t k2[32];

    pd = buf_bytes(prot, &plen);
    CHECK(plen > len); /* SEC segments were added */
    CHECK(!buf_equals(prot, orig, len));
    /* Format-compliant: libopenjp2 decodes it, same size, other samples. */
    {
        size_t na = 0, nb = 0;
        int *a = decode(orig, len, 0, &na), *c = decode(pd, plen, 0, &nb);
        CHECK_MSG(c != NULL, "libopenjp2 does not decode the protected file");
        CHECK_EQ_U(na, nb);
        CHECK(memcmp(a, c, na * sizeof *a) != 0);
        free(a);
        free(c);
    }
    /* The same policy and IV give the same bytes. */
    {
        jsec_buffer *again = protect(p, orig, len);
        CHECK(buf_equals(again, pd, plen));
        jsec_buffer_free(again);
    }
    /* An empty policy protects nothing. */
    {
        jsec_jpsec_policy *empty = NULL;
        CHECK_OK(jsec_jpsec_policy_new(&empty));
        CHECK_FAILS(jsec_jpsec_protect(empty, orig, len, &out), JSEC_ERR_INVALID_ARGUMENT,
                    "no protection tool");
        jsec_jpsec_policy_free(empty);
    }
    /* A protected file cannot be protected again. */
    CHECK_FAILS(jsec_jpsec_protect(p, pd, plen, &out), JSEC_ERR_UNSUPPORTED, "SEC");

    /* k0 and the MAC key: the original, every tool verified. */
    keys = make_keys(K0, sizeof K0, KMAC, sizeof KMAC);
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, &rep));
    CHECK(out != NULL && rep != NULL);
    CHECK_MSG(buf_equals(out, orig, len), "consume with k0 does not give the original bytes");
    CHECK_OK(jsec_jpsec_report_complete(rep, &b));
    CHECK(b);
    CHECK_OK(jsec_jpsec_report_failed(rep, &b));
    CHECK(!b);
    CHECK_OK(jsec_jpsec_report_tool_count(rep, &n));
    CHECK_EQ_U(n, 4);
    low = count_bodies(orig, len, 1, &total);
    CHECK(low > 0 && low < total);
    t = tool_report(rep, 0);
    CHECK_EQ_U(t.template_id, 1);
    CHECK_EQ_U(t.instance, 0);
    CHECK_EQ_U(t.units, total);
    CHECK_EQ_U(t.decrypted, total);
    CHECK(!t.failed && t.locked == 0 && t.verified == 0);
    CHECK_STR_CONTAINS(t.description, "decryption: AES-256 CTR format-compliant, 4 level(s)");
    t = tool_report(rep, 1);
    CHECK_EQ_U(t.template_id, 2);
    CHECK(t.units > 0 && t.verified == t.units && t.failed_units == 0);
    CHECK_STR_CONTAINS(t.outcome, "authentic");
    t = tool_report(rep, 2);
    CHECK_EQ_U(t.template_id, 3);
    CHECK(t.units == 1 && t.verified == 1);
    t = tool_report(rep, 3);
    CHECK_EQ_U(t.template_id, 4);
    CHECK(t.verified == t.units && t.units > 0);
    CHECK_STR_CONTAINS(t.description, "urn:jsec:test:0001");
    {
        jsec_jpsec_unit_report u = unit_report(rep, 2, 0);
        CHECK_EQ_U(u.status, JSEC_JPSEC_UNIT_STATUS_VERIFIED);
        CHECK(strcmp(u.zone, "tile 0") == 0);
    }
    /* Indices past the end, struct_size. */
    memset(&t, 0x5C, sizeof t);
    t.struct_size = sizeof t;
    CHECK_FAILS(jsec_jpsec_report_tool(rep, 4, &t), JSEC_ERR_INVALID_ARGUMENT, "tool 4");
    CHECK(t.instance == 0x5C5C5C5Cu);
    t.struct_size = offsetof(jsec_jpsec_tool_report, outcome);
    CHECK_OK(jsec_jpsec_report_tool(rep, 0, &t));
    CHECK(t.outcome[0] == 0x5C && t.template_id == 1);
    t.struct_size = 3;
    CHECK_FAILS(jsec_jpsec_report_tool(rep, 0, &t), JSEC_ERR_INVALID_ARGUMENT, "struct_size");
    {
        jsec_jpsec_unit_report u;
        u.struct_size = sizeof u;
        CHECK_FAILS(jsec_jpsec_report_unit(rep, 2, 1, &u), JSEC_ERR_INVALID_ARGUMENT, "unit 1");
        CHECK_FAILS(jsec_jpsec_report_unit(rep, 9, 0, &u), JSEC_ERR_INVALID_ARGUMENT, "tool 9");
        CHECK_FAILS(jsec_jpsec_report_unit(NULL, 0, 0, &u), JSEC_ERR_INVALID_ARGUMENT, "report");
    }
    CHECK_FAILS(jsec_jpsec_report_complete(rep, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_jpsec_report_failed(rep, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    CHECK_FAILS(jsec_jpsec_report_tool_count(rep, NULL), JSEC_ERR_INVALID_ARGUMENT, "out");
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);
    jsec_jpsec_keys_free(keys);

    /* No keys: hashes verified, packets locked, the file still protected. */
    rep = NULL;
    CHECK_OK(jsec_jpsec_consume(pd, plen, NULL, &out, &rep));
    CHECK_OK(jsec_jpsec_report_complete(rep, &b));
    CHECK(!b);
    t = tool_report(rep, 0);
    CHECK(t.locked == total && t.decrypted == 0);
    t = tool_report(rep, 1);
    CHECK(t.locked == t.units);
    CHECK_STR_CONTAINS(t.outcome, "no key");
    CHECK(buf_equals(out, pd, plen));
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);

    /* k2 alone: resolutions 0 and 1 open, the others locked. */
    CHECK_OK(jsec_jpsec_derive_key(K0, sizeof K0, 2, k2, sizeof k2));
    keys = make_keys(k2, sizeof k2, NULL, 0);
    rep = NULL;
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, &rep));
    CHECK_OK(jsec_jpsec_report_complete(rep, &b));
    CHECK(!b);
    t = tool_report(rep, 0);
    CHECK_MSG(t.decrypted == low && t.locked == total - low,
              "k2: %zu decrypted, %zu locked; expected %zu and %zu", t.decrypted, t.locked, low,
              total - low);
    printf("  k2 opens %zu of %zu packets (resolutions 0 and 1)\n", t.decrypted, total);
    for (i = 0; i < t.units; i++) {
        jsec_jpsec_unit_report u = unit_report(rep, 0, i);
        bool low_res = strstr(u.zone, "resolution 0") != NULL ||
                       strstr(u.zone, "resolution 1") != NULL;
        CHECK_EQ_U(u.status,
                   low_res ? JSEC_JPSEC_UNIT_STATUS_DECRYPTED : JSEC_JPSEC_UNIT_STATUS_LOCKED);
        CHECK(low_res ? u.level >= 2 : u.level < 2);
    }
    od = buf_bytes(out, &olen);
    CHECK_EQ_U(olen, plen);
    CHECK_MSG(same_samples(od, olen, orig, len, 2), "k2: reduce 2 differs from the original");
    CHECK_MSG(!same_samples(od, olen, orig, len, 0), "k2: full resolution equals the original");
    jsec_jpsec_report_free(rep);
    jsec_jpsec_keys_free(keys);

    /* Then k0: the rest opens, and the original comes back. */
    keys = make_keys(K0, sizeof K0, NULL, 0);
    rep = NULL;
    CHECK_OK(jsec_jpsec_consume(od, olen, keys, &out2, &rep));
    CHECK_MSG(buf_equals(out2, orig, len), "k2 then k0 does not give the original bytes");
    t = tool_report(rep, 0);
    CHECK(t.opened == low && t.decrypted == total - low);
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out2);
    jsec_jpsec_keys_free(keys);
    jsec_buffer_free(out);

    /* A wrong key: BAD_KEY, nothing written. */
    {
        uint8_t wrong[32];
        memset(wrong, 0x42, sizeof wrong);
        keys = make_keys(wrong, sizeof wrong, NULL, 0);
        out = (jsec_buffer *)0x10;
        rep = (const jsec_jpsec_report *)0x10;
        CHECK_FAILS(jsec_jpsec_consume(pd, plen, keys, &out, &rep), JSEC_ERR_BAD_KEY,
                    "wrong key");
        CHECK(out == (jsec_buffer *)0x10 && rep == (const jsec_jpsec_report *)0x10);
        jsec_jpsec_keys_free(keys);
    }
    /* Not protected: INVALID_ARGUMENT. */
    out = (jsec_buffer *)0x10;
    CHECK_FAILS(jsec_jpsec_consume(orig, len, NULL, &out, NULL), JSEC_ERR_INVALID_ARGUMENT,
                "no SEC");
    CHECK(out == (jsec_buffer *)0x10);

    jsec_buffer_free(prot);
    jsec_jpsec_policy_free(p);
}

/* A copy of `data` with one bit flipped in the middle of its largest packet
 * body; `want` receives that packet's description. */
static unsigned char *tamper(const unsigned char *data, size_t len, char *want, size_t cap) {
    const jsec_j2k_index *ix = NULL;
    jsec_j2k_packet pk;
    unsigned char *bad;
    size_t n = 0, i;
    CHECK_OK(jsec_j2k_index_new(data, len, &ix));
    CHECK_OK(jsec_j2k_index_packet_count(ix, &n, NULL));
    memset(&pk, 0, sizeof pk);
    for (i = 0; i < n; i++) {
        jsec_j2k_packet q = packet_at(ix, i);
        if (q.body_length > pk.body_length) pk = q;
    }
    jsec_j2k_index_free(ix);
    CHECK(pk.body_length > 8);
    bad = test_dup(data, len);
    bad[pk.body_offset + pk.body_length / 2] ^= 0x01;
    snprintf(want, cap, "tile %u layer %u resolution %u component %u precinct %u",
             (unsigned)pk.tile, (unsigned)pk.layer, (unsigned)pk.resolution,
             (unsigned)pk.component, (unsigned)pk.precinct);
    return bad;
}

/* A modified body: VERIFICATION_FAILED, no output, the report names it. */
static void check_tampering(const unsigned char *orig, size_t len) {
    jsec_jpsec_policy *p = full_policy();
    jsec_buffer *prot = protect(p, orig, len), *out;
    const jsec_jpsec_report *rep = NULL;
    jsec_jpsec_keys *keys = make_keys(K0, sizeof K0, KMAC, sizeof KMAC);
    jsec_jpsec_tool_report t;
    unsigned char *bad;
    size_t plen = 0, i, failed_units = 0;
    const uint8_t *pd = buf_bytes(prot, &plen);
    char want[128];
    bool b = false;

    bad = tamper(pd, plen, want, sizeof want);
    out = (jsec_buffer *)0x10;
    CHECK_STATUS(jsec_jpsec_consume(bad, plen, keys, &out, &rep), JSEC_ERR_VERIFICATION_FAILED);
    CHECK_MSG(out == NULL, "a failed verification must set *out to NULL");
    CHECK(rep != NULL);
    CHECK_STR_CONTAINS(jsec_last_error(), "jsec_jpsec_consume: tool 1 (authentication): ");
    CHECK_STR_CONTAINS(jsec_last_error(), want);
    CHECK_STR_CONTAINS(jsec_last_error(), "was modified");
    printf("  tampered: %s\n", jsec_last_error());
    CHECK_OK(jsec_jpsec_report_failed(rep, &b));
    CHECK(b);
    CHECK_OK(jsec_jpsec_report_complete(rep, &b));
    CHECK(!b);
    /* The MAC tool names exactly that packet; the hash tool its tile;
     * nothing was decrypted. */
    t = tool_report(rep, 1);
    CHECK_EQ_U(t.failed_units, 1);
    for (i = 0; i < t.units; i++) {
        jsec_jpsec_unit_report u = unit_report(rep, 1, i);
        if (u.status == JSEC_JPSEC_UNIT_STATUS_FAILED) {
            CHECK(strcmp(u.zone, want) == 0);
            failed_units++;
        } else {
            CHECK_EQ_U(u.status, JSEC_JPSEC_UNIT_STATUS_VERIFIED);
        }
    }
    CHECK_EQ_U(failed_units, 1);
    t = tool_report(rep, 2);
    CHECK_EQ_U(t.failed_units, 1);
    CHECK_EQ_U(unit_report(rep, 2, 0).status, JSEC_JPSEC_UNIT_STATUS_FAILED);
    t = tool_report(rep, 0);
    CHECK(t.decrypted == 0);
    CHECK_STR_CONTAINS(t.outcome, "nothing decrypted");
    jsec_jpsec_report_free(rep);

    /* Without a report, and keyless (the hash tool still catches it). */
    out = (jsec_buffer *)0x10;
    CHECK_FAILS(jsec_jpsec_consume(bad, plen, NULL, &out, NULL), JSEC_ERR_VERIFICATION_FAILED,
                "(hash): tile 0 was modified");
    CHECK(out == NULL);

    free(bad);
    jsec_jpsec_keys_free(keys);
    jsec_buffer_free(prot);
    jsec_jpsec_policy_free(p);
}

/* The per-packet protector gives the whole-file ciphertext of every packet. */
static void check_packet_hook(const unsigned char *orig, size_t len, uint32_t mode,
                              uint32_t access, const char *what) {
    jsec_jpsec_policy *p = NULL;
    jsec_buffer *prot;
    const jsec_j2k_index *io = NULL, *ip = NULL;
    const jsec_jpsec_packet_protector *pp = NULL, *pp2 = NULL;
    size_t n = 0, m = 0, plen = 0, i, compared = 0, refused = 0;
    const uint8_t *pd;
    uint8_t k1[32];
    uint8_t levels = access == JSEC_JPSEC_ACCESS_RESOLUTION ? 4 : 2;

    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_policy_add_encryption(p, K0, sizeof K0, mode, true));
    CHECK_OK(jsec_jpsec_policy_set_levels(p, access, 0));
    CHECK_OK(jsec_jpsec_policy_set_iv(p, IV, sizeof IV));
    prot = protect(p, orig, len);
    pd = buf_bytes(prot, &plen);

    CHECK_OK(jsec_j2k_index_new(orig, len, &io));
    CHECK_OK(jsec_j2k_index_new(pd, plen, &ip));
    CHECK_OK(jsec_j2k_index_packet_count(io, &n, NULL));
    CHECK_OK(jsec_j2k_index_packet_count(ip, &m, NULL));
    CHECK_EQ_U(n, m);
    CHECK_OK(jsec_jpsec_packet_protector_new(K0, sizeof K0, 0, access, levels, mode, true, IV,
                                             sizeof IV, &pp));
    CHECK_OK(jsec_jpsec_derive_key(K0, sizeof K0, 1, k1, sizeof k1));
    CHECK_OK(jsec_jpsec_packet_protector_new(k1, sizeof k1, 1, access, levels, mode, true, IV,
                                             sizeof IV, &pp2));
    for (i = 0; i < n; i++) {
        jsec_j2k_packet a = packet_at(io, i), b = packet_at(ip, i);
        jsec_jpsec_packet_id id;
        unsigned char *body;
        jsec_status st;
        CHECK(a.tile == b.tile && a.layer == b.layer && a.resolution == b.resolution &&
              a.component == b.component && a.precinct == b.precinct &&
              a.body_length == b.body_length);
        if (a.body_length == 0) continue;
        memset(&id, 0, sizeof id);
        id.struct_size = sizeof id;
        id.tile = a.tile;
        id.layer = a.layer;
        id.resolution = a.resolution;
        id.component = a.component;
        id.precinct = a.precinct;
        body = test_dup(orig + a.body_offset, (size_t)a.body_length);
        CHECK_OK(jsec_jpsec_packet_protect(pp, &id, body, (size_t)a.body_length));
        CHECK_MSG(memcmp(body, pd + b.body_offset, (size_t)b.body_length) == 0,
                  "%s: packet %zu: per-packet ciphertext differs from the whole file's", what, i);
        /* The level-1 key opens levels 1 and above, refuses level 0. */
        st = jsec_jpsec_packet_unprotect(pp2, &id, body, (size_t)a.body_length);
        if (st == JSEC_OK) {
            CHECK(memcmp(body, orig + a.body_offset, (size_t)a.body_length) == 0);
        } else {
            CHECK_STATUS(st, JSEC_ERR_BAD_KEY);
            CHECK_STR_CONTAINS(jsec_last_error(), "access level 0");
            CHECK(memcmp(body, pd + b.body_offset, (size_t)b.body_length) == 0);
            CHECK_OK(jsec_jpsec_packet_unprotect(pp, &id, body, (size_t)a.body_length));
            CHECK(memcmp(body, orig + a.body_offset, (size_t)a.body_length) == 0);
            refused++;
        }
        free(body);
        compared++;
    }
    CHECK(compared > 0 && refused > 0 && refused < compared);
    printf("  %s: %zu packets match the whole-file ciphertext; k1 refuses %zu\n", what, compared,
           refused);
    jsec_jpsec_packet_protector_free(pp2);
    jsec_jpsec_packet_protector_free(pp);
    jsec_j2k_index_free(ip);
    jsec_j2k_index_free(io);
    jsec_buffer_free(prot);
    jsec_jpsec_policy_free(p);
}

/* Transcoding a protected file keeps its SEC true. */
static void check_transcode(const unsigned char *orig, size_t len) {
    jsec_jpsec_policy *p = full_policy();
    jsec_buffer *prot = protect(p, orig, len), *tp = NULL, *to = NULL, *out = NULL;
    jsec_j2k_transcode_options *o = NULL;
    jsec_jpsec_keys *keys = make_keys(K0, sizeof K0, KMAC, sizeof KMAC);
    const jsec_jpsec_report *rep = NULL;
    jsec_jpsec_tool_report t;
    const uint8_t *pd, *d;
    size_t plen = 0, n = 0, tlen = 0;

    pd = buf_bytes(prot, &plen);
    CHECK_OK(jsec_j2k_transcode_options_new(&o));
    CHECK_OK(jsec_j2k_transcode_options_set_reduce(o, 1));
    CHECK_OK(jsec_j2k_transcode(o, pd, plen, &tp));
    CHECK_OK(jsec_j2k_transcode(o, orig, len, &to));
    d = buf_bytes(tp, &n);
    CHECK_OK(jsec_jpsec_consume(d, n, keys, &out, &rep));
    d = buf_bytes(to, &tlen);
    CHECK_MSG(buf_equals(out, d, tlen),
              "consume(transcode(protected)) differs from transcode(original)");
    t = tool_report(rep, 0);
    CHECK(t.absent > 0 && t.decrypted > 0 && t.locked == 0);
    t = tool_report(rep, 1);
    CHECK(t.absent > 0 && t.verified > 0 && t.failed_units == 0);
    printf("  transcode -r 1: %zu packets decrypted, %zu absent\n", tool_report(rep, 0).decrypted,
           tool_report(rep, 0).absent);
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);
    jsec_buffer_free(to);
    jsec_buffer_free(tp);
    jsec_j2k_transcode_options_free(o);
    jsec_jpsec_keys_free(keys);
    jsec_buffer_free(prot);
    jsec_jpsec_policy_free(p);
}

/* A region, tiles, layers and components: round trip with k0. */
static void check_zones(const unsigned char *orig, size_t len) {
    jsec_jpsec_policy *p = NULL;
    jsec_buffer *prot, *out = NULL;
    jsec_jpsec_keys *keys = make_keys(K0, sizeof K0, NULL, 0);
    static const uint16_t tile0[] = {0};
    const uint8_t *pd;
    size_t plen = 0;
    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_policy_add_encryption(p, K0, sizeof K0, JSEC_JPSEC_MODE_CFB, true));
    CHECK_OK(jsec_jpsec_policy_set_region(p, 64, 48, 96, 64, false));
    CHECK_OK(jsec_jpsec_policy_set_tiles(p, tile0, 1));
    CHECK_OK(jsec_jpsec_policy_set_components(p, 0, 0));
    CHECK_OK(jsec_jpsec_policy_add_encryption(p, K0 + 16, 16, JSEC_JPSEC_MODE_OFB, true));
    CHECK_OK(jsec_jpsec_policy_set_layers(p, 1, 1));
    CHECK_OK(jsec_jpsec_policy_set_resolutions(p, 2, 3));
    CHECK_OK(jsec_jpsec_policy_set_components(p, 1, 2));
    prot = protect(p, orig, len);
    pd = buf_bytes(prot, &plen);
    CHECK_OK(jsec_jpsec_keys_add(keys, K0 + 16, 16));
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, NULL));
    CHECK(buf_equals(out, orig, len));
    /* Format-compliant, and the image changed. */
    CHECK(!same_samples(pd, plen, orig, len, 0));
    jsec_buffer_free(out);
    jsec_buffer_free(prot);
    jsec_jpsec_keys_free(keys);
    jsec_jpsec_policy_free(p);
}

/* File offset of the first SOT marker of a raw codestream (the origin of
 * byte ranges), walking the main header's marker segments. */
static size_t first_sot(const unsigned char *d, size_t len) {
    size_t i = 2; /* after SOC */
    CHECK(len > 4 && d[0] == 0xFF && d[1] == 0x4F);
    while (i + 4 <= len) {
        CHECK(d[i] == 0xFF);
        if (d[i + 1] == 0x90) return i;
        i += 2 + (((size_t)d[i + 2] << 8) | d[i + 3]);
    }
    CHECK_MSG(0, "no SOT marker");
    return 0;
}

/* Which packets a zone test selects. */
typedef bool (*packet_filter)(const jsec_j2k_packet *p, size_t sot, const void *arg);

/* Packets of `data` with a non-empty body that `f` selects. */
static size_t count_selected(const unsigned char *data, size_t len, packet_filter f,
                             const void *arg) {
    const jsec_j2k_index *ix = NULL;
    size_t n = 0, i, in = 0, sot = first_sot(data, len);
    CHECK_OK(jsec_j2k_index_new(data, len, &ix));
    CHECK_OK(jsec_j2k_index_packet_count(ix, &n, NULL));
    for (i = 0; i < n; i++) {
        jsec_j2k_packet p = packet_at(ix, i);
        if (p.body_length > 0 && f(&p, sot, arg)) in++;
    }
    jsec_j2k_index_free(ix);
    return in;
}

/* Bodies of the packets `f` does not select are the same in `prot` as in
 * `orig`; the number of selected bodies that changed. */
static size_t changed_bodies(const unsigned char *orig, size_t len, const uint8_t *prot,
                             size_t plen, packet_filter f, const void *arg) {
    const jsec_j2k_index *io = NULL, *ip = NULL;
    size_t n = 0, m = 0, i, changed = 0, sot = first_sot(orig, len);
    CHECK_OK(jsec_j2k_index_new(orig, len, &io));
    CHECK_OK(jsec_j2k_index_new(prot, plen, &ip));
    CHECK_OK(jsec_j2k_index_packet_count(io, &n, NULL));
    CHECK_OK(jsec_j2k_index_packet_count(ip, &m, NULL));
    CHECK_EQ_U(n, m);
    for (i = 0; i < n; i++) {
        jsec_j2k_packet a = packet_at(io, i), b = packet_at(ip, i);
        bool same;
        CHECK(a.seq == b.seq && a.body_length == b.body_length && a.precinct == b.precinct);
        same = memcmp(orig + a.body_offset, prot + b.body_offset, (size_t)a.body_length) == 0;
        if (a.body_length > 0 && f(&a, sot, arg)) {
            if (!same) changed++;
        } else {
            CHECK_MSG(same, "packet %zu (seq %u) is outside the zone but changed", i,
                      (unsigned)a.seq);
        }
    }
    jsec_j2k_index_free(ip);
    jsec_j2k_index_free(io);
    return changed;
}

static bool in_precincts(const jsec_j2k_packet *p, size_t sot, const void *arg) {
    const uint32_t *r = arg;
    (void)sot;
    return p->precinct >= r[0] && p->precinct <= r[1];
}

static bool in_packet_ranges(const jsec_j2k_packet *p, size_t sot, const void *arg) {
    const uint32_t *r = arg;
    (void)sot;
    return (p->seq >= r[0] && p->seq <= r[1]) || (p->seq >= r[2] && p->seq <= r[3]);
}

static bool in_byte_ranges(const jsec_j2k_packet *p, size_t sot, const void *arg) {
    const uint32_t *r = arg;
    uint64_t s = p->body_offset - sot, e = s + p->body_length;
    return (s < (uint64_t)r[0] + r[1] && r[0] < e) || (s < (uint64_t)r[2] + r[3] && r[2] < e);
}

/* Protect `orig` with one format-compliant CTR encryption tool restricted
 * by `zone` (called on the policy right after the tool is added), check
 * that exactly the packets `f` selects changed, that the report counts
 * them, that k0 gives the original bytes; the number of packets. */
static size_t zone_round_trip(const unsigned char *orig, size_t len, const char *what,
                              void (*zone)(jsec_jpsec_policy *, const void *), packet_filter f,
                              const void *arg) {
    jsec_jpsec_policy *p = NULL;
    jsec_jpsec_keys *keys = make_keys(K0, sizeof K0, NULL, 0);
    jsec_buffer *prot, *out = NULL;
    const jsec_jpsec_report *rep = NULL;
    jsec_jpsec_tool_report t;
    const uint8_t *pd;
    size_t plen = 0, total = 0, want, changed;

    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_policy_add_encryption(p, K0, sizeof K0, JSEC_JPSEC_MODE_CTR, true));
    zone(p, arg);
    CHECK_OK(jsec_jpsec_policy_set_iv(p, IV, sizeof IV));
    prot = protect(p, orig, len);
    pd = buf_bytes(prot, &plen);
    count_bodies(orig, len, 0, &total);
    want = count_selected(orig, len, f, arg);
    CHECK_MSG(want > 0 && want < total, "%s: the zone selects %zu of %zu packets", what, want,
              total);
    changed = changed_bodies(orig, len, pd, plen, f, arg);
    CHECK_MSG(changed > 0 && changed + 2 >= want, "%s: %zu of %zu selected bodies changed", what,
              changed, want);
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, &rep));
    CHECK_MSG(buf_equals(out, orig, len), "%s: consume with k0 does not give the original", what);
    t = tool_report(rep, 0);
    CHECK_EQ_U(t.units, want);
    CHECK_EQ_U(t.decrypted, want);
    printf("  %s: %zu of %zu packets encrypted and opened\n", what, want, total);
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);
    jsec_buffer_free(prot);
    jsec_jpsec_keys_free(keys);
    jsec_jpsec_policy_free(p);
    return want;
}

static void zone_precincts(jsec_jpsec_policy *p, const void *arg) {
    const uint32_t *r = arg;
    CHECK_OK(jsec_jpsec_policy_set_precincts(p, r[0], r[1]));
}

static void zone_packets(jsec_jpsec_policy *p, const void *arg) {
    CHECK_OK(jsec_jpsec_policy_set_packets(p, arg, 2));
}

static void zone_bytes(jsec_jpsec_policy *p, const void *arg) {
    CHECK_OK(jsec_jpsec_policy_set_bytes(p, arg, 2));
}

/* Precincts, packet sequence ranges and byte ranges, on a codestream with
 * several precincts per resolution. */
static void check_layout_zones(void) {
    size_t len = 0, sot, n = 0;
    unsigned char *orig = encode_j2k_with(&len, true);
    const jsec_j2k_index *ix = NULL;
    static const uint32_t precincts[2] = {1, 2};
    static const uint32_t packets[4] = {0, 7, 40, 50};
    uint32_t bytes[4];
    jsec_j2k_packet a, b;
    bool several = false;
    size_t i;

    CHECK(orig != NULL);
    CHECK_OK(jsec_j2k_index_new(orig, len, &ix));
    CHECK_OK(jsec_j2k_index_packet_count(ix, &n, NULL));
    for (i = 0; i < n; i++) several |= packet_at(ix, i).precinct > 2;
    CHECK_MSG(several, "libopenjp2 made one precinct per resolution");
    /* Byte ranges: one byte inside the 5th packet's body, and the whole
     * body of a packet in the middle. */
    sot = first_sot(orig, len);
    a = packet_at(ix, 4);
    b = packet_at(ix, n / 2);
    jsec_j2k_index_free(ix);
    CHECK(a.body_length > 2 && b.body_length > 0);
    bytes[0] = (uint32_t)(a.body_offset - sot + a.body_length / 2);
    bytes[1] = 1;
    bytes[2] = (uint32_t)(b.body_offset - sot);
    bytes[3] = (uint32_t)b.body_length;

    zone_round_trip(orig, len, "precincts 1 to 2", zone_precincts, in_precincts, precincts);
    zone_round_trip(orig, len, "packets 0-7 and 40-50", zone_packets, in_packet_ranges, packets);
    zone_round_trip(orig, len, "two byte ranges", zone_bytes, in_byte_ranges, bytes);
    free(orig);
}

/* Whole-packet encryption: a MAC, then whole packets by resolution. */
static void check_packet_encryption(const unsigned char *orig, size_t len) {
    jsec_jpsec_policy *p = NULL, *bad = NULL;
    jsec_jpsec_keys *keys = make_keys(K0, sizeof K0, KMAC, sizeof KMAC);
    jsec_buffer *prot, *out = NULL, *keep = (jsec_buffer *)0x10;
    const jsec_jpsec_report *rep = NULL;
    jsec_j2k_transcode_options *o = NULL;
    jsec_jpsec_tool_report t;
    const uint8_t *pd;
    size_t plen = 0, n = 0, total = 0, packets = 0, i;
    bool b = true;
    uint8_t k2[32];

    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_policy_add_mac(p, KMAC, sizeof KMAC, JSEC_JPSEC_MAC_HMAC_SHA256,
                                       JSEC_JPSEC_GRANULARITY_RESOLUTION));
    CHECK_OK(jsec_jpsec_policy_add_packet_encryption(p, K0, sizeof K0, JSEC_JPSEC_MODE_CBC));
    CHECK_OK(jsec_jpsec_policy_set_levels(p, JSEC_JPSEC_ACCESS_RESOLUTION, 0));
    CHECK_OK(jsec_jpsec_policy_set_iv(p, IV, sizeof IV));
    prot = protect(p, orig, len);
    pd = buf_bytes(prot, &plen);
    CHECK(plen > len);
    {
        const jsec_j2k_index *ix = NULL;
        CHECK_OK(jsec_j2k_index_new(orig, len, &ix));
        CHECK_OK(jsec_j2k_index_packet_count(ix, &packets, NULL));
        jsec_j2k_index_free(ix);
    }
    count_bodies(orig, len, 0, &total);

    /* k0 and the MAC key: the original bytes, the MAC verified. */
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, &rep));
    CHECK_MSG(buf_equals(out, orig, len), "whole packets: k0 does not give the original bytes");
    CHECK_OK(jsec_jpsec_report_complete(rep, &b));
    CHECK(b);
    CHECK_OK(jsec_jpsec_report_tool_count(rep, &n));
    CHECK_EQ_U(n, 2);
    t = tool_report(rep, 1);
    CHECK_EQ_U(t.template_id, 1);
    CHECK_EQ_U(t.units, packets); /* every packet, empty bodies too */
    CHECK_EQ_U(t.decrypted, packets);
    CHECK_STR_CONTAINS(t.description, "whole packets");
    CHECK_STR_CONTAINS(t.description, "4 level(s)");
    t = tool_report(rep, 0);
    CHECK(t.units > 0 && t.verified == t.units && !t.failed);
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);
    jsec_jpsec_keys_free(keys);

    /* No keys: the headers stay hidden, so the MAC tool is not checked;
     * nothing opens and the file stays as it was. */
    rep = NULL;
    CHECK_OK(jsec_jpsec_consume(pd, plen, NULL, &out, &rep));
    CHECK_OK(jsec_jpsec_report_complete(rep, &b));
    CHECK(!b);
    CHECK_OK(jsec_jpsec_report_failed(rep, &b));
    CHECK(!b);
    t = tool_report(rep, 0);
    CHECK_EQ_U(t.template_id, 2);
    CHECK_STR_CONTAINS(t.outcome, "not checked");
    CHECK(!t.failed && t.verified == 0);
    t = tool_report(rep, 1);
    CHECK(t.locked == packets && t.decrypted == 0);
    for (i = 0; i < t.units; i++)
        CHECK_EQ_U(unit_report(rep, 1, i).status, JSEC_JPSEC_UNIT_STATUS_LOCKED);
    CHECK(buf_equals(out, pd, plen));
    printf("  whole packets, no key: MAC tool: %s\n", tool_report(rep, 0).outcome);
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);

    /* k2 alone opens the whole packets of resolutions 0 and 1; the others'
     * headers stay hidden, so the MAC is still not checked. */
    CHECK_OK(jsec_jpsec_derive_key(K0, sizeof K0, 2, k2, sizeof k2));
    keys = make_keys(k2, sizeof k2, NULL, 0);
    rep = NULL;
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, &rep));
    t = tool_report(rep, 1);
    CHECK(t.decrypted > 0 && t.locked > 0 && t.decrypted + t.locked == packets);
    CHECK_STR_CONTAINS(tool_report(rep, 0).outcome, "not checked");
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);
    jsec_jpsec_keys_free(keys);

    /* A keyless transcoder cannot read the hidden headers. */
    CHECK_OK(jsec_j2k_transcode_options_new(&o));
    CHECK_OK(jsec_j2k_transcode_options_set_reduce(o, 1));
    CHECK_FAILS(jsec_j2k_transcode(o, pd, plen, &keep), JSEC_ERR_UNSUPPORTED,
                "encrypts whole packets");
    CHECK_FAILS(jsec_j2k_transcode(NULL, pd, plen, &keep), JSEC_ERR_UNSUPPORTED,
                "cannot be transcoded without its keys");
    CHECK(keep == (jsec_buffer *)0x10);
    jsec_j2k_transcode_options_free(o);

    /* Another tool after whole-packet encryption: refused. */
    CHECK_OK(jsec_jpsec_policy_new(&bad));
    CHECK_OK(jsec_jpsec_policy_add_packet_encryption(bad, K0, sizeof K0, JSEC_JPSEC_MODE_CTR));
    CHECK_OK(jsec_jpsec_policy_add_hash(bad, JSEC_JPSEC_HASH_SHA256, JSEC_JPSEC_GRANULARITY_TILE));
    CHECK_FAILS(jsec_jpsec_protect(bad, orig, len, &keep), JSEC_ERR_INVALID_ARGUMENT,
                "after every other tool");
    CHECK(keep == (jsec_buffer *)0x10);
    jsec_jpsec_policy_free(bad);

    /* Zones apply to it: resolutions 2 and 3 only, in ECB. The packets of
     * resolutions 0 and 1 are untouched (the SEC segments shift them all
     * by the same amount), the others changed; k0 gives the original. */
    CHECK_OK(jsec_jpsec_policy_new(&bad));
    CHECK_OK(jsec_jpsec_policy_add_packet_encryption(bad, K0, 16, JSEC_JPSEC_MODE_ECB));
    CHECK_OK(jsec_jpsec_policy_set_resolutions(bad, 2, 3));
    out = protect(bad, orig, len);
    {
        size_t olen = 0, shift, high = 0, changed = 0;
        const uint8_t *od = buf_bytes(out, &olen);
        const jsec_j2k_index *ix = NULL;
        jsec_buffer *back = NULL;
        CHECK(olen > len);
        shift = olen - len;
        CHECK_OK(jsec_j2k_index_new(orig, len, &ix));
        for (i = 0; i < packets; i++) {
            jsec_j2k_packet q = packet_at(ix, i);
            bool same =
                memcmp(orig + q.offset, od + q.offset + shift, (size_t)q.length) == 0;
            if (q.resolution >= 2) {
                high++;
                if (!same) changed++;
            } else {
                CHECK_MSG(same, "packet %zu (resolution %u) changed", i, (unsigned)q.resolution);
            }
        }
        jsec_j2k_index_free(ix);
        CHECK(high > 0 && high < packets && changed > 0);
        keys = make_keys(K0, 16, NULL, 0);
        rep = NULL;
        CHECK_OK(jsec_jpsec_consume(od, olen, keys, &back, &rep));
        CHECK_MSG(buf_equals(back, orig, len), "resolutions 2-3: k0 does not give the original");
        t = tool_report(rep, 0);
        CHECK_EQ_U(t.units, high);
        CHECK_EQ_U(t.decrypted, high);
        jsec_jpsec_report_free(rep);
        jsec_buffer_free(back);
        jsec_jpsec_keys_free(keys);
    }
    jsec_buffer_free(out);
    jsec_jpsec_policy_free(bad);

    printf("  whole packets: %zu packets (%zu with a body) encrypted and opened\n", packets,
           total);
    jsec_buffer_free(prot);
    jsec_jpsec_policy_free(p);
}

/* Signatures with a PKCS#8 key. */
/* The public key of EC_KEY_A (openssl pkey -pubout). */
static const char EC_PUB_A[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhDCNwgYlWBxAv/iebqHeHT7HnJX4\n"
    "BEmIJoBYVkOZT2FJZjGzAViqXu60u/GvHzfzyj3JSsd1WVKI45dJCIGOEA==\n"
    "-----END PUBLIC KEY-----\n";

/* An external signer (an HSM stand-in): fails, or answers with a
 * signature that does not verify; jsec must refuse both. */
static int32_t external_sign(void *user_data, const uint8_t *message, size_t message_len,
                             const uint8_t *digest, uint8_t *signature,
                             size_t signature_capacity, size_t *signature_len) {
    int *mode = (int *)user_data;
    (void)message;
    (void)message_len;
    (void)digest;
    if (*mode == 0) return -7;
    if (signature_capacity < 64) return -1;
    memset(signature, 0x11, 64);
    *signature_len = 64;
    return 0;
}

static void check_external_signer(const unsigned char *orig, size_t len) {
    const jsec_sign_key *ext = NULL;
    jsec_jpsec_policy *p = NULL;
    jsec_buffer *out = (jsec_buffer *)0x10;
    int mode = 0;
    CHECK_OK(jsec_sign_key_new_external((const uint8_t *)EC_PUB_A, sizeof EC_PUB_A - 1,
                                        external_sign, &mode, &ext));
    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_OK(jsec_jpsec_policy_add_signature(p, ext, JSEC_JPSEC_SIGNATURE_ECDSA_P256,
                                             JSEC_JPSEC_HASH_SHA256,
                                             JSEC_JPSEC_GRANULARITY_RESOLUTION));
    jsec_sign_key_free(ext); /* the policy keeps its own reference */
    /* The callback fails: JSEC_ERR_CALLBACK, no output. */
    CHECK_FAILS(jsec_jpsec_protect(p, orig, len, &out), JSEC_ERR_CALLBACK, "callback");
    CHECK(out == (jsec_buffer *)0x10); /* out parameters are unchanged on failure */
    /* It answers with a signature that does not verify: refused. */
    mode = 1;
    CHECK_FAILS(jsec_jpsec_protect(p, orig, len, &out), JSEC_ERR_BAD_KEY, "does not verify");
    CHECK(out == (jsec_buffer *)0x10);
    jsec_jpsec_policy_free(p);
}

static void check_signature(const unsigned char *orig, size_t len) {
    const jsec_sign_key *ka = NULL, *kb = NULL;
    const jsec_verify_key *pa = NULL, *pb = NULL;
    jsec_jpsec_policy *p = NULL;
    jsec_jpsec_keys *keys = NULL;
    jsec_buffer *prot, *out = NULL;
    const jsec_jpsec_report *rep = NULL;
    jsec_jpsec_tool_report t;
    const uint8_t *pd;
    size_t plen = 0;

    CHECK_OK(jsec_sign_key_new_from_pkcs8((const uint8_t *)EC_KEY_A, sizeof EC_KEY_A - 1, &ka));
    CHECK_OK(jsec_sign_key_new_from_pkcs8((const uint8_t *)EC_KEY_B, sizeof EC_KEY_B - 1, &kb));
    CHECK_OK(jsec_sign_key_public(ka, &pa));
    CHECK_OK(jsec_sign_key_public(kb, &pb));
    CHECK_OK(jsec_jpsec_policy_new(&p));
    CHECK_FAILS(jsec_jpsec_policy_add_signature(p, ka, JSEC_JPSEC_SIGNATURE_RSA_PSS,
                                                JSEC_JPSEC_HASH_SHA256,
                                                JSEC_JPSEC_GRANULARITY_RESOLUTION),
                JSEC_ERR_INVALID_ARGUMENT, "does not suit");
    CHECK_FAILS(jsec_jpsec_policy_add_signature(p, ka, 4, JSEC_JPSEC_HASH_SHA256, 1),
                JSEC_ERR_INVALID_ARGUMENT, "scheme 4");
    CHECK_FAILS(jsec_jpsec_policy_add_signature(p, ka, JSEC_JPSEC_SIGNATURE_ECDSA_P256, 0, 1),
                JSEC_ERR_INVALID_ARGUMENT, "hash 0");
    CHECK_OK(jsec_jpsec_policy_add_signature(p, ka, JSEC_JPSEC_SIGNATURE_ECDSA_P256,
                                             JSEC_JPSEC_HASH_SHA256,
                                             JSEC_JPSEC_GRANULARITY_RESOLUTION));
    jsec_sign_key_free(ka); /* the policy keeps its own reference */
    CHECK_OK(jsec_jpsec_policy_set_resolutions(p, 0, 2));
    prot = protect(p, orig, len);
    pd = buf_bytes(prot, &plen);

    /* The signer's key: valid, every unit verified. */
    CHECK_OK(jsec_jpsec_keys_new(&keys));
    CHECK_OK(jsec_jpsec_keys_add_public(keys, pa));
    CHECK_OK(jsec_jpsec_consume(pd, plen, keys, &out, &rep));
    CHECK(buf_equals(out, orig, len));
    t = tool_report(rep, 0);
    CHECK(!t.failed && t.units == 3 && t.verified == 3);
    CHECK_STR_CONTAINS(t.outcome, "signature valid");
    jsec_jpsec_report_free(rep);
    jsec_buffer_free(out);
    jsec_jpsec_keys_free(keys);

    /* Another signer's key: VERIFICATION_FAILED. */
    CHECK_OK(jsec_jpsec_keys_new(&keys));
    CHECK_OK(jsec_jpsec_keys_add_public(keys, pb));
    rep = NULL;
    out = (jsec_buffer *)0x10;
    CHECK_FAILS(jsec_jpsec_consume(pd, plen, keys, &out, &rep), JSEC_ERR_VERIFICATION_FAILED,
                "signed by another key");
    CHECK(out == NULL && rep != NULL);
    CHECK(tool_report(rep, 0).failed);
    jsec_jpsec_report_free(rep);
    jsec_jpsec_keys_free(keys);

    jsec_buffer_free(prot);
    jsec_jpsec_policy_free(p);
    jsec_verify_key_free(pa);
    jsec_verify_key_free(pb);
    jsec_sign_key_free(kb);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

/* A TOML policy gives the same bytes as the same policy built call by call. */
static void check_toml(const unsigned char *orig, size_t len) {
    char keyfile[600], badfile[600], toml[2048], hex[65];
    const char *name;
    jsec_jpsec_policy *tp = (jsec_jpsec_policy *)0x10, *bp = NULL;
    jsec_buffer *a, *b;
    const uint8_t *ad;
    size_t alen = 0, i;

    for (i = 0; i < sizeof K0; i++) snprintf(hex + 2 * i, 3, "%02x", K0[i]);
    snprintf(keyfile, sizeof keyfile, "%s.k0.hex", file_base);
    snprintf(badfile, sizeof badfile, "%s.bad.hex", file_base);
    name = strrchr(keyfile, '/');
    name = name != NULL ? name + 1 : keyfile;
    snprintf(toml, sizeof toml, "# the key file holds a comment first\n%s\n", hex);
    write_text(keyfile, toml);
    write_text(badfile, "# no key here\nnot hex at all\n");
    snprintf(toml, sizeof toml,
             "version = 1\n"
             "iv = \"000102030405060708090a0b0c0d0e0f\"\n"
             "[[tool]]\n"
             "type = \"encrypt\"\n"
             "key = \"%s\"\n"
             "mode = \"ofb\"\n"
             "levels = \"layer\"\n"
             "[[tool]]\n"
             "type = \"hash\"\n"
             "algorithm = \"sha1\"\n"
             "granularity = \"precinct\"\n"
             "resolutions = [1, 2]\n",
             name);
    {
        /* key_dir: the directory of the key file (NULL would be "."). */
        char dir[600];
        size_t dl = (size_t)(name - keyfile);
        memcpy(dir, keyfile, dl);
        dir[dl] = '\0';
        CHECK_OK(jsec_jpsec_policy_new_from_toml(toml, dl > 0 ? dir : NULL, &tp));
    }
    a = protect(tp, orig, len);
    CHECK_OK(jsec_jpsec_policy_new(&bp));
    CHECK_OK(jsec_jpsec_policy_add_encryption(bp, K0, sizeof K0, JSEC_JPSEC_MODE_OFB, true));
    CHECK_OK(jsec_jpsec_policy_set_levels(bp, JSEC_JPSEC_ACCESS_LAYER, 0));
    CHECK_OK(jsec_jpsec_policy_add_hash(bp, JSEC_JPSEC_HASH_SHA1, JSEC_JPSEC_GRANULARITY_PRECINCT));
    CHECK_OK(jsec_jpsec_policy_set_resolutions(bp, 1, 2));
    CHECK_OK(jsec_jpsec_policy_set_iv(bp, IV, sizeof IV));
    b = protect(bp, orig, len);
    ad = buf_bytes(a, &alen);
    CHECK_MSG(buf_equals(b, ad, alen), "the TOML policy and the built one differ");
    jsec_buffer_free(a);
    jsec_buffer_free(b);
    jsec_jpsec_policy_free(bp);
    jsec_jpsec_policy_free(tp);

    /* A missing key file (IO), a bad one (BAD_KEY), bad TOML. */
    tp = (jsec_jpsec_policy *)0x10;
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml(
                    "[[tool]]\ntype = \"encrypt\"\nkey = \"/nonexistent/jsec-test.hex\"\n", NULL,
                    &tp),
                JSEC_ERR_IO, "nonexistent");
    /* The loader's error keeps its kind and gets the tool and key in front. */
    CHECK_STR_CONTAINS(jsec_last_error(),
                       "jsec_jpsec_policy_new_from_toml: policy: tool 0: key "
                       "/nonexistent/jsec-test.hex: /nonexistent/jsec-test.hex: ");
    snprintf(toml, sizeof toml, "[[tool]]\ntype = \"mac\"\nkey = \"%s\"\n", badfile);
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml(toml, NULL, &tp), JSEC_ERR_BAD_KEY, "hex");
    CHECK_STR_CONTAINS(jsec_last_error(), "policy: tool 0: key ");
    snprintf(toml, sizeof toml,
             "[[tool]]\ntype = \"hash\"\n[[tool]]\ntype = \"sign\"\nkey = \"%s\"\n", badfile);
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml(toml, NULL, &tp), JSEC_ERR_BAD_KEY,
                "policy: tool 1: key ");
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml("[[tool]]\ntype = \"shred\"\n", NULL, &tp),
                JSEC_ERR_INVALID_ARGUMENT, "shred");
    CHECK_FAILS(jsec_jpsec_policy_new_from_toml("this is = = not toml", NULL, &tp),
                JSEC_ERR_INVALID_ARGUMENT, "policy");
    CHECK(tp == (jsec_jpsec_policy *)0x10);
    remove(keyfile);
    remove(badfile);
}

/* The glue: encode through the writer, read back through the reader. */
static void check_glue(const unsigned char *orig, size_t len) {
    opj_image_t *img = draw_image();
    char path[600], partial[620];
    jsec_jpsec_policy *p = full_policy();
    jsec_opj_writer *w = NULL;
    jsec_opj_reader *r = NULL;
    jsec_jpsec_keys *keys = make_keys(K0, sizeof K0, KMAC, sizeof KMAC);
    const jsec_jpsec_report *rep = NULL;
    jsec_buffer *expected = protect(p, orig, len);
    const uint8_t *d;
    unsigned char *file, *bad;
    size_t n = 0, flen = 0, na = 0, nb = 0;
    int *a, *b;
    FILE *f;

    snprintf(path, sizeof path, "%s.glue.j2k", file_base);
    snprintf(partial, sizeof partial, "%s" JSEC_OPJ_PARTIAL_SUFFIX, path);
    remove(path);
    CHECK_STATUS(jsec_opj_writer_new(NULL, path, &w), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_opj_writer_new(p, NULL, &w), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_opj_writer_new(p, path, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK(w == NULL);
    CHECK_OK(jsec_opj_writer_new(p, path, &w));
    CHECK(jsec_opj_writer_stream(w) != NULL && jsec_opj_writer_stream(NULL) == NULL);
    CHECK_STATUS(jsec_opj_writer_finish(w), JSEC_ERR_INVALID_STATE); /* nothing written yet */
    encode_into(img, jsec_opj_writer_stream(w));
    opj_image_destroy(img);
    CHECK_OK(jsec_opj_writer_codestream(w, &d, &n));
    CHECK_MSG(n == len && memcmp(d, orig, len) == 0, "the writer's codestream differs");
    CHECK_STATUS(jsec_opj_writer_codestream(w, NULL, &n), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_OK(jsec_opj_writer_finish(w));
    CHECK_STATUS(jsec_opj_writer_finish(w), JSEC_ERR_INVALID_STATE);
    CHECK_STATUS(jsec_opj_writer_finish(NULL), JSEC_ERR_INVALID_ARGUMENT);
    jsec_opj_writer_free(w);
    f = fopen(partial, "rb");
    CHECK_MSG(f == NULL, "%s was left behind", partial);
    file = testjpeg_read_file(path, &flen);
    CHECK(file != NULL);
    CHECK_MSG(buf_equals(expected, file, flen), "the written file is not jsec_jpsec_protect's");

    /* The reader decodes the original samples, twice (rewind). */
    CHECK_STATUS(jsec_opj_reader_new(NULL, keys, &r, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_opj_reader_new(path, keys, NULL, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(jsec_opj_reader_new("/nonexistent/jsec.j2k", keys, &r, &rep), JSEC_ERR_IO);
    CHECK(r == NULL && rep == NULL);
    CHECK_OK(jsec_opj_reader_new(path, keys, &r, &rep));
    CHECK(rep != NULL && jsec_opj_reader_stream(NULL) == NULL);
    CHECK_OK(jsec_opj_reader_data(r, &d, &n));
    CHECK(n == len && memcmp(d, orig, len) == 0);
    CHECK_STATUS(jsec_opj_reader_data(r, NULL, &n), JSEC_ERR_INVALID_ARGUMENT);
    a = decode_stream(jsec_opj_reader_stream(r), 0, &na);
    b = decode(orig, len, 0, &nb);
    CHECK(a != NULL && b != NULL && na == nb && memcmp(a, b, na * sizeof *a) == 0);
    free(a);
    free(b);
    CHECK_OK(jsec_opj_reader_rewind(r));
    CHECK_STATUS(jsec_opj_reader_rewind(NULL), JSEC_ERR_INVALID_ARGUMENT);
    a = decode_stream(jsec_opj_reader_stream(r), 1, &na);
    b = decode(orig, len, 1, &nb);
    CHECK(a != NULL && b != NULL && na == nb && memcmp(a, b, na * sizeof *a) == 0);
    free(a);
    free(b);
    jsec_opj_reader_free(r);
    jsec_jpsec_report_free(rep);

    /* A tampered file: no reader, but the report. */
    {
        char want[128];
        bad = tamper(file, flen, want, sizeof want);
    }
    CHECK(testjpeg_write_file(path, bad, flen) == 0);
    r = NULL;
    rep = NULL;
    CHECK_STATUS(jsec_opj_reader_new(path, keys, &r, &rep), JSEC_ERR_VERIFICATION_FAILED);
    CHECK_STR_CONTAINS(jsec_last_error(), "was modified");
    CHECK(r == NULL && rep != NULL);
    jsec_jpsec_report_free(rep);
    free(bad);
    free(file);
    remove(path);

    jsec_buffer_free(expected);
    jsec_jpsec_keys_free(keys);
    jsec_jpsec_policy_free(p);
}

int main(int argc, char **argv) {
    unsigned char *orig;
    size_t len = 0;
    (void)argc;
    snprintf(file_base, sizeof file_base, "%s", argc > 0 ? argv[0] : "test_jpsec");
    CHECK_OK(jsec_init(JSEC_ABI_VERSION));

    check_arguments();

    orig = encode_j2k(&len);
    CHECK(orig != NULL && len > 1000);
    printf("  encoded %dx%d RGB with libopenjp2: %zu bytes\n", IMG_W, IMG_H, len);

    check_round_trips(orig, len);
    check_tampering(orig, len);
    check_packet_hook(orig, len, JSEC_JPSEC_MODE_CTR, JSEC_JPSEC_ACCESS_RESOLUTION,
                      "CTR by resolution");
    check_packet_hook(orig, len, JSEC_JPSEC_MODE_CFB, JSEC_JPSEC_ACCESS_LAYER, "CFB by layer");
    check_transcode(orig, len);
    check_zones(orig, len);
    check_layout_zones();
    check_packet_encryption(orig, len);
    check_signature(orig, len);
    check_external_signer(orig, len);
    check_toml(orig, len);
    check_glue(orig, len);

    free(orig);
    return CHECK_DONE("test_jpsec");
}
