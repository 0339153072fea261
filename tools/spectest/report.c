/* report.c — counting outcomes and printing failures: every failure with -v, otherwise the first
 * SPEC_FAILURES_SHOWN of each file, always before the file's summary line. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "spectest.h"

void spec_pass(spec_script *s) {
    s->counts.passed++;
}

void spec_skip(spec_script *s) {
    s->counts.skipped++;
}

static void print_line(const spec_script *s, const json_t *cmd, const char *what, const char *fmt,
                       va_list ap) {
    const json_t *line = json_object_get(cmd, "line");
    const char *type = spec_json_string(cmd, "type", NULL);
    if (!cmd)
        printf("  %s: %s", s->source, what);
    else if (json_is_integer(line))
        printf("  %s:%" JSON_INTEGER_FORMAT ": %s%s: ", s->source, json_integer_value(line), what,
               type ? type : "?");
    else
        printf("  %s:?: %s%s: ", s->source, what, type ? type : "?");
    vprintf(fmt, ap);
    putchar('\n');
}

void spec_fail(spec_script *s, const json_t *cmd, const char *fmt, ...) {
    s->counts.failed++;
    if (!s->verbose && s->shown >= SPEC_FAILURES_SHOWN) return;
    s->shown++;
    va_list ap;
    va_start(ap, fmt);
    print_line(s, cmd, "", fmt, ap);
    va_end(ap);
}

void spec_note(spec_script *s, const json_t *cmd, const char *fmt, ...) {
    if (!s->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    print_line(s, cmd, "note: ", fmt, ap);
    va_end(ap);
}

void spec_report_file(const spec_script *s) {
    if (s->counts.failed > s->shown)
        printf("  ... %" PRIu64 " more failures (-v shows all)\n", s->counts.failed - s->shown);
    printf("%s: %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", s->name,
           s->counts.passed, s->counts.failed, s->counts.skipped);
    fflush(stdout);
}
