/* Unit-test harness: TEST(name) { ... } registers a case; the runner (tests/unit/main.c) runs each
 * case in its own child process with a timeout, so a crash or hang fails only that case.
 * ASSERT_* print both sides and end the case; SKIP(reason) is only for a missing external resource.
 */
#ifndef WB_TESTS_HARNESS_H
#define WB_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*wb_test_fn)(void);
void wb_test_register(const char *name, const char *file, wb_test_fn fn);
_Noreturn void wb_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void wb_test_skip(const char *reason);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void register_##name(void) {                               \
        wb_test_register(#name, __FILE__, test_##name);                                            \
    }                                                                                              \
    static void test_##name(void)

#define ASSERT_TRUE(c)                                                                             \
    do {                                                                                           \
        if (!(c)) wb_test_fail(__FILE__, __LINE__, "expected true: %s", #c);                       \
    } while (0)

#define ASSERT_INT_OP(a, op, b)                                                                    \
    do {                                                                                           \
        long long wb_a_ = (long long)(a), wb_b_ = (long long)(b);                                  \
        if (!(wb_a_ op wb_b_))                                                                     \
            wb_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, wb_a_, wb_b_); \
    } while (0)
#define ASSERT_EQ(a, b) ASSERT_INT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP(a, <=, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP(a, >=, b)

#define ASSERT_U64_EQ(a, b)                                                                        \
    do {                                                                                           \
        uint64_t wb_a_ = (uint64_t)(a), wb_b_ = (uint64_t)(b);                                     \
        if (wb_a_ != wb_b_)                                                                        \
            wb_test_fail(__FILE__, __LINE__, "%s == %s: 0x%" PRIx64 " vs 0x%" PRIx64, #a, #b,      \
                         wb_a_, wb_b_);                                                            \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *wb_a_ = (a), *wb_b_ = (b);                                                     \
        if (!wb_a_ || !wb_b_ || strcmp(wb_a_, wb_b_) != 0)                                         \
            wb_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b,                 \
                         wb_a_ ? wb_a_ : "(null)", wb_b_ ? wb_b_ : "(null)");                      \
    } while (0)

/* a contains b */
#define ASSERT_STR_CONTAINS(a, b)                                                                  \
    do {                                                                                           \
        const char *wb_a_ = (a), *wb_b_ = (b);                                                     \
        if (!wb_a_ || !strstr(wb_a_, wb_b_))                                                       \
            wb_test_fail(__FILE__, __LINE__, "%s contains %s: \"%s\" lacks \"%s\"", #a, #b,        \
                         wb_a_ ? wb_a_ : "(null)", wb_b_);                                         \
    } while (0)

#define SKIP(reason) wb_test_skip(reason)

#endif
