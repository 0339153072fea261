/* Native driver for a benchmark program: parses n, runs bench_run(n) once and prints the
 * checksum in signed decimal, the same format `wasmbox run --invoke` uses. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "freestanding.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    char *end;
    errno = 0;
    long n = strtol(argv[1], &end, 10);
    if (errno != 0 || *end != '\0' || end == argv[1] || n < 0 || n > INT32_MAX) {
        fprintf(stderr, "%s: bad N `%s`\n", argv[0], argv[1]);
        return 2;
    }
    printf("%" PRId64 "\n", bench_run((int32_t)n));
    return 0;
}
