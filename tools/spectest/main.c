/* main.c — wasmbox-spectest: runs wast2json scripts against the engine's public API.
 * Usage: wasmbox-spectest [-v] FILE.json…; one summary line per file, then the totals; exit 1 if
 * anything failed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest.h"

static void usage(FILE *out) {
    fprintf(
        out,
        "usage: wasmbox-spectest [-v] [--bounds-checks] [--interruptible] [--engine interp|native] "
        "[-O 0-3] FILE.json...\n"
        "  Runs wast2json output; -v prints every failure and note.\n"
        "  --bounds-checks compiles modules for explicitly bounds-checked memories,\n"
        "  --interruptible with fuel checks at loop headers and calls,\n"
        "  -O N at that optimisation level (native; 0 is the quick tier's).\n");
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Runs one script with its own store and adds its counts to *total. */
static void run_file(const char *path, bool verbose, const wb_config *cfg, bool native,
                     int opt_level, spec_counts *total) {
    const char *base = base_name(path);
    size_t base_len = strlen(base);
    if (base_len > 5 && strcmp(base + base_len - 5, ".json") == 0) base_len -= 5;
    char *name = strndup(base, base_len);
    char *dir = base == path ? strdup(".") : strndup(path, (size_t)(base - path - 1));
    if (base == path + 1) { /* "/x.json" */
        free(dir);
        dir = strdup("/");
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    const char *wast = spec_json_string(root, "source_filename", NULL);
    char *source = wast ? strdup(base_name(wast)) : strdup(base);
    if (!name || !dir || !source) {
        printf("%s: out of memory\n", path);
        total->failed++;
        goto out;
    }

    spec_script s;
    wb_error err = {0};
    spec_script_init(&s, dir, name, source, verbose);
    s.cfg = *cfg;
    s.native = native;
    s.opt_level = opt_level;
    const json_t *commands = json_object_get(root, "commands");
    if (!root && jerr.line > 0)
        spec_fail(&s, NULL, "cannot load `%s`: %s (line %d)", path, jerr.text, jerr.line);
    else if (!root)
        spec_fail(&s, NULL, "cannot load `%s`: %s", path, jerr.text);
    else if (!json_is_array(commands))
        spec_fail(&s, NULL, "no \"commands\" array in `%s`", path);
    else if (spec_script_open(&s, &err) < 0)
        spec_fail(&s, NULL, "%s", err.msg);
    else
        for (size_t i = 0; i < json_array_size(commands); i++)
            spec_command_run(&s, json_array_get(commands, i));
    spec_report_file(&s);
    spec_script_release(&s);
    total->passed += s.counts.passed;
    total->failed += s.counts.failed;
    total->skipped += s.counts.skipped;
out:
    json_decref(root);
    free(source);
    free(dir);
    free(name);
}

int main(int argc, char **argv) {
    bool verbose = false, native = false;
    int opt_level = -1;
    wb_config cfg = {0};
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        }
        if (strcmp(argv[first], "-v") == 0 || strcmp(argv[first], "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(argv[first], "--bounds-checks") == 0) {
            cfg.bounds_checks = true;
        } else if (strcmp(argv[first], "--interruptible") == 0) {
            cfg.interruptible = true;
        } else if (strcmp(argv[first], "--engine") == 0 && first + 1 < argc &&
                   (strcmp(argv[first + 1], "native") == 0 ||
                    strcmp(argv[first + 1], "interp") == 0)) {
            native = strcmp(argv[++first], "native") == 0;
        } else if (strcmp(argv[first], "-O") == 0 && first + 1 < argc &&
                   argv[first + 1][0] >= '0' && argv[first + 1][0] <= '3' && !argv[first + 1][1]) {
            opt_level = argv[++first][0] - '0';
        } else if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "wasmbox-spectest: unknown option `%s`\n", argv[first]);
            usage(stderr);
            return 2;
        }
    }
    if (first >= argc) {
        usage(stderr);
        return 2;
    }
    spec_counts total = {0};
    for (int i = first; i < argc; i++) run_file(argv[i], verbose, &cfg, native, opt_level, &total);
    printf("%" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " skipped\n", total.passed,
           total.failed, total.skipped);
    return total.failed ? 1 : 0;
}
