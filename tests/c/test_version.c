/* test_version: the version macros of jsec.h against jsec_version(),
 * jsec_version_number() and the jsec_init() ABI handshake. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "jsec.h"

unsigned long check_count;

#define STR_(x) #x
#define STR(x) STR_(x)

int main(void) {
    char expected[64];
    uint32_t number = jsec_version_number();

    /* The macros agree with each other... */
    snprintf(expected, sizeof expected, "%d.%d.%d", JSEC_VERSION_MAJOR, JSEC_VERSION_MINOR,
             JSEC_VERSION_PATCH);
    CHECK(strcmp(expected, JSEC_VERSION_STRING) == 0);
    CHECK(strcmp(STR(JSEC_VERSION_MAJOR) "." STR(JSEC_VERSION_MINOR) "." STR(JSEC_VERSION_PATCH),
                 JSEC_VERSION_STRING) == 0);
    CHECK_EQ_U(JSEC_VERSION_NUMBER,
               JSEC_VERSION_MAJOR * 1000000u + JSEC_VERSION_MINOR * 1000u + JSEC_VERSION_PATCH);
    CHECK(JSEC_VERSION_MINOR < 1000 && JSEC_VERSION_PATCH < 1000);
    CHECK_EQ_U(JSEC_ABI_VERSION, JSEC_VERSION_NUMBER);

    /* ...and with the library this program runs against. */
    CHECK(jsec_version() != NULL);
    CHECK_MSG(strcmp(jsec_version(), JSEC_VERSION_STRING) == 0, "library %s, header %s",
              jsec_version(), JSEC_VERSION_STRING);
    CHECK_EQ_U(number, JSEC_VERSION_NUMBER);
    CHECK(jsec_version() == jsec_version()); /* static string */

    /* ABI handshake: the header's ABI is accepted, the patch part ignored. */
    CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION), JSEC_OK);
    CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION), JSEC_OK); /* idempotent */
    CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION - JSEC_VERSION_PATCH + 999), JSEC_OK);
    CHECK_STR_CONTAINS(jsec_last_error(), ""); /* cleared on success */
    CHECK_EQ_U(strlen(jsec_last_error()), 0);

    /* Another major version is refused with a message. */
    CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION + 1000000u), JSEC_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(jsec_last_error(), "jsec_init");
    CHECK_STR_CONTAINS(jsec_last_error(), JSEC_VERSION_STRING);
    if (JSEC_VERSION_MAJOR == 0) {
        /* While 0.x every minor release may break the ABI. */
        CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION + 1000u), JSEC_ERR_INVALID_ARGUMENT);
        if (JSEC_VERSION_MINOR > 0)
            CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION - 1000u), JSEC_ERR_INVALID_ARGUMENT);
    } else {
        /* A header older in minor is fine, a newer one is not. */
        CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION + 1000u), JSEC_ERR_INVALID_ARGUMENT);
    }
    CHECK_EQ_LL(jsec_init(0xFFFFFFFFu), JSEC_ERR_INVALID_ARGUMENT);
    /* A success clears the last error again. */
    CHECK_EQ_LL(jsec_init(JSEC_ABI_VERSION), JSEC_OK);
    CHECK_EQ_U(strlen(jsec_last_error()), 0);

    printf("library %s (%u), header %s\n", jsec_version(), (unsigned)number, JSEC_VERSION_STRING);
    return CHECK_DONE("test_version");
}
