/* test_errors: jsec_status_str, jsec_last_error and jsec_last_error_offset:
 * names of every code, messages naming the failing function, byte offsets,
 * clearing on success, and per-thread isolation. */
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "jsec_check.h"
#include "testjpeg.h"

unsigned long check_count;

static const struct {
    int code;
    const char *name;
} NAMES[] = {
    {JSEC_OK, "JSEC_OK"},
    {JSEC_ERR_INVALID_ARGUMENT, "JSEC_ERR_INVALID_ARGUMENT"},
    {JSEC_ERR_MALFORMED, "JSEC_ERR_MALFORMED"},
    {JSEC_ERR_UNSUPPORTED, "JSEC_ERR_UNSUPPORTED"},
    {JSEC_ERR_BUFFER_TOO_SMALL, "JSEC_ERR_BUFFER_TOO_SMALL"},
    {JSEC_ERR_IO, "JSEC_ERR_IO"},
    {JSEC_ERR_BAD_KEY, "JSEC_ERR_BAD_KEY"},
    {JSEC_ERR_VERIFICATION_FAILED, "JSEC_ERR_VERIFICATION_FAILED"},
    {JSEC_ERR_INVALID_STATE, "JSEC_ERR_INVALID_STATE"},
    {JSEC_ERR_INTERNAL, "JSEC_ERR_INTERNAL"},
    {JSEC_ERR_PANIC, "JSEC_ERR_PANIC"},
    {JSEC_ERR_CALLBACK, "JSEC_ERR_CALLBACK"},
};

/* The codes are ABI: their values never change. */
static void check_values(void) {
    CHECK_EQ_LL(JSEC_OK, 0);
    CHECK_EQ_LL(JSEC_ERR_INVALID_ARGUMENT, 1);
    CHECK_EQ_LL(JSEC_ERR_MALFORMED, 2);
    CHECK_EQ_LL(JSEC_ERR_UNSUPPORTED, 3);
    CHECK_EQ_LL(JSEC_ERR_BUFFER_TOO_SMALL, 4);
    CHECK_EQ_LL(JSEC_ERR_IO, 5);
    CHECK_EQ_LL(JSEC_ERR_BAD_KEY, 6);
    CHECK_EQ_LL(JSEC_ERR_VERIFICATION_FAILED, 7);
    CHECK_EQ_LL(JSEC_ERR_INVALID_STATE, 8);
    CHECK_EQ_LL(JSEC_ERR_INTERNAL, 9);
    CHECK_EQ_LL(JSEC_ERR_PANIC, 10);
    CHECK_EQ_LL(JSEC_ERR_CALLBACK, 11);
}

static void check_status_str(void) {
    size_t i;
    for (i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        const char *s = jsec_status_str(NAMES[i].code);
        CHECK(s != NULL);
        CHECK_MSG(strcmp(s, NAMES[i].name) == 0, "code %d: '%s', expected '%s'", NAMES[i].code,
                  s, NAMES[i].name);
        CHECK(jsec_status_str(NAMES[i].code) == s); /* static strings */
    }
    CHECK(strcmp(jsec_status_str(-1), "JSEC_ERR_UNKNOWN") == 0);
    CHECK(strcmp(jsec_status_str(12), "JSEC_ERR_UNKNOWN") == 0);
    CHECK(strcmp(jsec_status_str(1 << 30), "JSEC_ERR_UNKNOWN") == 0);
}

static void check_last_error(void) {
    const jsec_key *key = (const jsec_key *)0x1; /* must stay untouched */
    uint64_t offset = 12345;
    unsigned char *jpeg, *cut;
    size_t len;
    testjpeg_params p = testjpeg_defaults();
    jsec_fspe_report *report = NULL;
    char saved[512];

    /* A success leaves "" (never NULL). */
    CHECK_OK(jsec_init(JSEC_ABI_VERSION));
    CHECK(jsec_last_error() != NULL);
    CHECK_EQ_U(strlen(jsec_last_error()), 0);
    CHECK_STATUS(jsec_last_error_offset(&offset), JSEC_ERR_INVALID_STATE);
    CHECK_EQ_U(offset, 12345);

    /* A failure names the function and the problem; out-params untouched. */
    CHECK_FAILS(jsec_key_new_from_hex("abc", &key), JSEC_ERR_BAD_KEY, "jsec_key_new_from_hex");
    CHECK(key == (const jsec_key *)0x1);
    CHECK_FAILS(jsec_key_new_from_hex(NULL, &key), JSEC_ERR_INVALID_ARGUMENT, "hex");
    CHECK(key == (const jsec_key *)0x1);
    /* No byte offset for an argument error. */
    CHECK_STATUS(jsec_last_error_offset(&offset), JSEC_ERR_INVALID_STATE);
    CHECK_EQ_U(offset, 12345);
    CHECK_STATUS(jsec_last_error_offset(NULL), JSEC_ERR_INVALID_ARGUMENT);

    /* A malformed input carries the offset where the problem was found. */
    jpeg = testjpeg_make(&p, &len);
    CHECK(jpeg != NULL);
    cut = test_dup(jpeg, len / 2);
    CHECK_STATUS(jsec_fspe_inspect(cut, len / 2, &report), JSEC_ERR_MALFORMED);
    CHECK(report == NULL);
    CHECK_STR_CONTAINS(jsec_last_error(), "jsec_fspe_inspect");
    CHECK_STR_CONTAINS(jsec_last_error(), "byte offset");
    strncpy(saved, jsec_last_error(), sizeof saved - 1);
    saved[sizeof saved - 1] = '\0';
    CHECK_OK(jsec_last_error_offset(&offset));
    CHECK_MSG(offset > 0 && offset <= len / 2, "offset %llu for a %zu-byte input",
              (unsigned long long)offset, len / 2);
    {
        /* The message quotes the same offset. */
        char needle[64];
        snprintf(needle, sizeof needle, "%llu", (unsigned long long)offset);
        CHECK_STR_CONTAINS(jsec_last_error(), needle);
    }
    /* jsec_last_error_offset does not change the last error. */
    CHECK(strcmp(saved, jsec_last_error()) == 0);
    CHECK_STATUS(jsec_last_error_offset(NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(saved, jsec_last_error()) == 0);
    /* Neither do jsec_status_str, jsec_version, jsec_version_number. */
    (void)jsec_status_str(JSEC_ERR_IO);
    (void)jsec_version();
    (void)jsec_version_number();
    CHECK(strcmp(saved, jsec_last_error()) == 0);

    /* The next success clears it. */
    CHECK_OK(jsec_fspe_inspect(jpeg, len, &report));
    CHECK_EQ_U(strlen(jsec_last_error()), 0);
    CHECK_STATUS(jsec_last_error_offset(&offset), JSEC_ERR_INVALID_STATE);
    jsec_fspe_report_free(report);
    free(cut);
    free(jpeg);
}

/* Each thread has its own last error. */
typedef struct {
    int fail;
    int ok;
} thread_arg;

static int thread_main(void *p) {
    thread_arg *a = (thread_arg *)p;
    const jsec_key *k = NULL;
    int i;
    a->ok = 1;
    for (i = 0; i < 200; i++) {
        if (a->fail) {
            if (jsec_key_new_from_hex("zz", &k) != JSEC_ERR_BAD_KEY) a->ok = 0;
            if (strstr(jsec_last_error(), "jsec_key_new_from_hex") == NULL) a->ok = 0;
        } else {
            if (jsec_init(JSEC_ABI_VERSION) != JSEC_OK) a->ok = 0;
            if (jsec_last_error()[0] != '\0') a->ok = 0;
        }
    }
    return 0;
}

static void check_threads(void) {
    thrd_t t[4];
    thread_arg args[4];
    int i;
    /* This thread's error survives what other threads do. */
    CHECK_STATUS(jsec_key_generate(3, NULL), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(jsec_last_error(), "jsec_key_generate");
    for (i = 0; i < 4; i++) {
        args[i].fail = i % 2;
        CHECK(thrd_create(&t[i], thread_main, &args[i]) == thrd_success);
    }
    for (i = 0; i < 4; i++) {
        CHECK(thrd_join(t[i], NULL) == thrd_success);
        CHECK_MSG(args[i].ok, "thread %d saw another thread's last error", i);
    }
    CHECK_STR_CONTAINS(jsec_last_error(), "jsec_key_generate");
}

int main(void) {
    check_values();
    check_status_str();
    check_last_error();
    check_threads();
    return CHECK_DONE("test_errors");
}
