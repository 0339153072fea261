/* The unit-test runner: runs every registered case (or those whose name contains argv[1]) in a
 * forked child with a timeout and prints "unit: P passed, F failed, S skipped". */
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TESTS       4096
#define TIMEOUT_SECONDS 60
#define EXIT_SKIP       77

static struct {
    const char *name, *file;
    wb_test_fn fn;
} tests[MAX_TESTS];
static int ntests;

void wb_test_register(const char *name, const char *file, wb_test_fn fn) {
    if (ntests < MAX_TESTS) tests[ntests++] = (typeof(tests[0])){name, file, fn};
}

void wb_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

void wb_test_skip(const char *reason) {
    fprintf(stderr, "    skipped: %s\n", reason);
    fflush(stderr);
    _exit(EXIT_SKIP);
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0, skipped = 0;
    const char *filter = argc > 1 ? argv[1] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(TIMEOUT_SECONDS);
            tests[i].fn();
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP) {
            skipped++;
            printf("SKIP %s\n", tests[i].name);
        } else {
            failed++;
            if (WIFSIGNALED(status))
                printf("FAIL %s (%s) [%s]\n", tests[i].name, strsignal(WTERMSIG(status)),
                       tests[i].file);
            else
                printf("FAIL %s [%s]\n", tests[i].name, tests[i].file);
        }
    }
    printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
