/* libFuzzer target for the whole Compose loader (src/compose/model.c): YAML, interpolation,
 * normal form, extends, merge, profiles and completion. The input is a compose file, optionally
 * followed by "\n---8<---\n" and an override file; both are given in memory as
 * /fuzz/compose.yaml and /fuzz/compose.override.yaml. A loaded model must dump to YAML, and its
 * service order must come out or fail with a message. (Files the input names, for extends.file or
 * env_file, are looked up on disk: /fuzz does not exist, and absolute paths are the fuzzer's
 * business.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model.h"
#include "compose/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char separator[] = "\n---8<---\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *names[] = {"/fuzz/compose.yaml", "/fuzz/compose.override.yaml"};
    const char *text = (const char *)data;
    const char *texts[2] = {text, NULL};
    size_t lens[2] = {size, 0};
    size_t nfiles = 1;
    const char *cut = memmem(text, size, separator, sizeof separator - 1);
    if (cut) {
        lens[0] = (size_t)(cut - text) + 1; /* the base keeps its last line break */
        texts[1] = cut + sizeof separator - 1;
        lens[1] = size - (size_t)(texts[1] - text);
        nfiles = 2;
    }
    wb_compose_opts o = {.project_dir = "/fuzz",
                         .files = names,
                         .nfiles = nfiles,
                         .project_name = "fuzz",
                         .texts = texts,
                         .text_lens = lens,
                         .warn = NULL};
    wb_compose_project *p = (wb_compose_project *)1;
    wb_error err = {0};
    if (wb_compose_load(&o, &p, &err) < 0) {
        if (p || !err.msg[0]) abort(); /* a failure leaves nothing, and says why */
        return 0;
    }
    if (!p || !json_is_object(p->model) || strcmp(p->name, "fuzz") != 0) abort();
    char *yaml = wb_yaml_dump(p->model, &err);
    if (!yaml) {
        fprintf(stderr, "dump failed: %s\n", err.msg);
        abort();
    }
    free(yaml);
    wb_error order_err = {0};
    const char **order = wb_compose_service_order(p->model, &order_err);
    if (order) {
        size_t n = 0;
        while (order[n]) n++;
        if (n != json_object_size(json_object_get(p->model, "services"))) abort();
    } else if (strncmp(order_err.msg, "dependency cycle detected: ", 27) != 0) {
        abort();
    }
    free(order);
    wb_compose_project_free(p);
    return 0;
}
