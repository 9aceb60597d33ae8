/* harness.c: the unit-test runner; prints one line per test and "unit: N passed, N failed". */
#include "tests/unit/harness.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define MAX_TESTS 1024
static struct {
    const char *name;
    void (*fn)(void);
} tests[MAX_TESTS];
static unsigned nr_tests;
static unsigned cur_failures;

void test_register(const char *name, void (*fn)(void))
{
    if (nr_tests < MAX_TESTS)
        tests[nr_tests++] = (typeof(tests[0])){name, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (cur_failures++ < 5) {
        fprintf(stdout, "    %s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stdout, fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
    }
}

int main(int argc, char **argv)
{
    unsigned passed = 0, failed = 0;
    const char *skip = getenv("XHV_SKIP_TESTS"); /* comma-separated names (make check-tsan) */
    xhv_log_level = getenv("XHV_TEST_VERBOSE") ? LOG_DEBUG : -1;
    for (unsigned i = 0; i < nr_tests; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        if (skip && strstr(skip, tests[i].name)) {
            printf("SKIPPED %s (XHV_SKIP_TESTS)\n", tests[i].name);
            continue;
        }
        cur_failures = 0;
        tests[i].fn();
        printf("%s %s\n", cur_failures ? "FAIL" : "PASS", tests[i].name);
        fflush(stdout);
        if (cur_failures)
            failed++;
        else
            passed++;
    }
    printf("unit: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
