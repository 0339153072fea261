/* libFuzzer target for the Compose YAML loader and dumper (src/compose/yaml.c): whatever loads
 * must dump, the dump must load again (unless it outgrew the input limit) and give the same JSON;
 * lookups by path must answer for the paths of the tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every path of v must be found again, with a line within the text. */
static void check_paths(const wb_yaml_doc *d, const json_t *v, char *path, size_t len, int depth) {
    if (depth > 8 || len > 200) return;
    if (wb_yaml_line(d, path) < 0) abort();
    size_t i;
    const char *key;
    json_t *child;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child) {
            /* empty keys, and keys with '.' or '[', make paths ambiguous */
            if (!*key || strlen(key) > 40 || strpbrk(key, ".[")) continue;
            int n = snprintf(path + len, 256 - len, "%s%s", len ? "." : "", key);
            if (n < 0 || len + (size_t)n >= 256) continue;
            if (!wb_yaml_line(d, path)) abort();
            check_paths(d, child, path, len + (size_t)n, depth + 1);
            path[len] = 0;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child) {
            if (i > 8) break;
            int n = snprintf(path + len, 256 - len, "[%zu]", i);
            if (n < 0 || len + (size_t)n >= 256) continue;
            if (!wb_yaml_line(d, path)) abort();
            check_paths(d, child, path, len + (size_t)n, depth + 1);
            path[len] = 0;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wb_yaml_doc *d = NULL, *again = NULL;
    wb_error err = {0};
    if (wb_yaml_load((const char *)data, size, "fuzz.yaml", &d, &err) < 0) {
        if (d || strncmp(err.msg, "fuzz.yaml", 9) != 0) abort();
        return 0;
    }
    char path[256] = "";
    check_paths(d, wb_yaml_root(d), path, 0, 0);
    wb_yaml_tags(d, "a.b[0]");
    char *text = wb_yaml_dump(wb_yaml_root(d), &err);
    if (!text) {
        fprintf(stderr, "dump failed: %s\n", err.msg);
        abort();
    }
    size_t len = strlen(text);
    if (len <= WB_YAML_MAX_INPUT) {
        if (wb_yaml_load(text, len, "dump.yaml", &again, &err) < 0) {
            fprintf(stderr, "the dump does not load: %s\n--- dump:\n%s", err.msg, text);
            abort();
        }
        if (!json_equal(wb_yaml_root(d), wb_yaml_root(again))) {
            char *a = json_dumps(wb_yaml_root(d), JSON_ENCODE_ANY);
            char *b = json_dumps(wb_yaml_root(again), JSON_ENCODE_ANY);
            fprintf(stderr, "round trip differs:\n%s\n--- dump:\n%s--- back:\n%s\n", a, text, b);
            abort();
        }
        wb_yaml_free(again);
    }
    free(text);
    wb_yaml_free(d);
    return 0;
}
