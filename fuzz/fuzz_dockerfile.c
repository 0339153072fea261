/* libFuzzer target for the builder's text parsers: Dockerfiles (src/oci/dockerfile.c, with the
 * word expansion of every argument), .dockerignore files and Docker patterns (src/oci/fstree.c).
 * The input is used three ways: as a Dockerfile, as a .dockerignore, and split at its first
 * newline into a pattern and a path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/dockerfile.h"
#include "oci/fstree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *ctx, const char *name) {
    (void)ctx;
    if (!strcmp(name, "A")) return "alpha";
    if (!strcmp(name, "EMPTY")) return "";
    return NULL;
}

static void expand_all(const wb_dockerfile *df, const wb_df_instr *in) {
    char *out;
    wb_error err;
    for (size_t i = 0; i < in->nargs; i++)
        if (wb_df_expand(in->args[i], df->escape, lookup, NULL, &out, &err) == 0) free(out);
    for (size_t i = 0; i < in->nkvs; i++) {
        if (wb_df_expand(in->kvs[i].key, df->escape, lookup, NULL, &out, &err) == 0) free(out);
        if (in->kvs[i].value &&
            wb_df_expand(in->kvs[i].value, df->escape, lookup, NULL, &out, &err) == 0)
            free(out);
    }
    for (size_t i = 0; i < in->nflags; i++)
        if (in->flags[i].value &&
            wb_df_expand(in->flags[i].value, df->escape, lookup, NULL, &out, &err) == 0)
            free(out);
    if (in->sub) expand_all(df, in->sub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    wb_dockerfile *df;
    wb_error err;
    if (wb_dockerfile_parse("Dockerfile", (const char *)data, size, &df, &err) == 0) {
        for (size_t i = 0; i < df->ninstrs; i++) expand_all(df, &df->instrs[i]);
        for (size_t i = 0; i < df->nstages; i++)
            if (df->stages[i].name) (void)wb_dockerfile_find_stage(df, df->stages[i].name);
        wb_dockerfile_free(df);
    }
    wb_ignore *ig;
    if (wb_ignore_parse((const char *)data, size, &ig, &err) == 0) {
        static const char *paths[] = {
            "a", "a/b", "a/b/c.wasm", "node_modules/x", ".git/HEAD", "docs/keep.txt", ""};
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            (void)wb_ignore_match(ig, paths[i]);
        wb_ignore_free(ig);
    }
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl && !memchr(data, '\0', size)) {
        char *pattern = strndup((const char *)data, (size_t)(nl - data));
        char *path = strndup((const char *)nl + 1, size - (size_t)(nl - data) - 1);
        (void)wb_pattern_match(pattern, path);
        char *clean;
        if (wb_path_clean(path, false, &clean) == 0) free(clean);
        free(pattern);
        free(path);
    }
    return 0;
}
