/* test.c: test reports ("ok N - ...", "not ok N - ...") and the final verdict + shutdown. */
#include "kit.h"

static unsigned int nr_tests, nr_passed, nr_failed, nr_skipped;

static void report(bool ok, const char *desc, const char *detail)
{
    nr_tests++;
    ok ? nr_passed++ : nr_failed++;
    printf("%sok %u - %s%s%s%s\n", ok ? "" : "not ", nr_tests, desc, detail ? " (" : "",
           detail ? detail : "", detail ? ")" : "");
}

void test_ok(bool cond, const char *fmt, ...)
{
    char desc[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    report(cond, desc, NULL);
}

void test_expect_eq(const char *name, long got, long expected)
{
    char detail[80];

    snprintf(detail, sizeof(detail), "got %ld, expected %ld", got, expected);
    report(got == expected, name, got == expected ? NULL : detail);
}

void test_skip(const char *fmt, ...)
{
    char reason[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    nr_tests++;
    nr_skipped++;
    printf("ok %u # SKIP %s\n", nr_tests, reason);
}

unsigned int test_failures(void)
{
    return nr_failed;
}

__noreturn void test_finish(void)
{
    bool pass = nr_failed == 0;

    printf("Test result: %s (%u passed, %u failed, %u skipped)\n", pass ? "PASS" : "FAIL",
           nr_passed, nr_failed, nr_skipped);
    kit_shutdown(pass ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}
