/* check.h: the tiny assertion layer of the jsec C tests.
 *
 * CHECK* abort the test on the first failure with file:line and a message;
 * every passed check is counted so each test ends with "ALL OK (n checks)". */
#ifndef JSEC_TEST_CHECK_H
#define JSEC_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern unsigned long check_count;

#define CHECK_FAIL_(...)                                                   \
    do {                                                                   \
        fprintf(stderr, "%s:%d: CHECK failed: ", __FILE__, __LINE__);      \
        fprintf(stderr, __VA_ARGS__);                                      \
        fputc('\n', stderr);                                               \
        exit(1);                                                           \
    } while (0)

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) CHECK_FAIL_("%s", #cond);                             \
        check_count++;                                                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do {                                                                   \
        if (!(cond)) CHECK_FAIL_(__VA_ARGS__);                             \
        check_count++;                                                     \
    } while (0)

#define CHECK_EQ_LL(a, b)                                                  \
    do {                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                \
        if (a_ != b_) CHECK_FAIL_("%s == %s (%lld != %lld)", #a, #b, a_, b_); \
        check_count++;                                                     \
    } while (0)

#define CHECK_EQ_U(a, b)                                                   \
    do {                                                                   \
        unsigned long long a_ = (unsigned long long)(a);                   \
        unsigned long long b_ = (unsigned long long)(b);                   \
        if (a_ != b_) CHECK_FAIL_("%s == %s (%llu != %llu)", #a, #b, a_, b_); \
        check_count++;                                                     \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                               \
    do {                                                                   \
        const char *h_ = (haystack);                                       \
        if (h_ == NULL || strstr(h_, (needle)) == NULL)                    \
            CHECK_FAIL_("\"%s\" does not contain \"%s\"",                  \
                        h_ ? h_ : "(null)", (needle));                     \
        check_count++;                                                     \
    } while (0)

#define CHECK_MEM_EQ(a, b, n)                                              \
    do {                                                                   \
        if (memcmp((a), (b), (n)) != 0)                                    \
            CHECK_FAIL_("%s and %s differ in the first %zu bytes", #a, #b, \
                        (size_t)(n));                                      \
        check_count++;                                                     \
    } while (0)

#define CHECK_MEM_NE(a, b, n)                                              \
    do {                                                                   \
        if (memcmp((a), (b), (n)) == 0)                                    \
            CHECK_FAIL_("%s and %s are identical (%zu bytes)", #a, #b,     \
                        (size_t)(n));                                      \
        check_count++;                                                     \
    } while (0)

/* Print the summary line; call as the last statement of main. */
#define CHECK_DONE(name)                                                   \
    (printf("%s: ALL OK (%lu checks)\n", (name), check_count),            \
     fflush(stdout), 0)

#endif
