/* Names, labels and config hashes of a Compose project's resources (see plan.h). */
#include "compose/plan.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "oci/digest.h"

char *wb_compose_container_name(const char *project, const char *service, const json_t *svc,
                                int n) {
    const char *fixed = json_string_value(json_object_get(svc, "container_name"));
    char *out = NULL;
    size_t len = 0;
    if (fixed)
        wb_appendf(&out, &len, "%s", fixed);
    else
        wb_appendf(&out, &len, "%s-%s-%d", project, service, n);
    return out;
}

char *wb_compose_image_name(const char *project, const char *service, const json_t *svc) {
    const char *image = json_string_value(json_object_get(svc, "image"));
    char *out = NULL;
    size_t len = 0;
    if (image)
        wb_appendf(&out, &len, "%s", image);
    else
        wb_appendf(&out, &len, "%s-%s", project, service);
    return out;
}

int wb_compose_replicas(const json_t *svc) {
    json_t *r = json_object_get(json_object_get(svc, "deploy"), "replicas");
    if (json_is_integer(r)) return (int)json_integer_value(r);
    r = json_object_get(svc, "scale");
    if (json_is_integer(r)) return (int)json_integer_value(r);
    return 1;
}

int wb_compose_config_hash(const json_t *svc, char out[65], wb_error *err) {
    json_t *copy = json_deep_copy(svc);
    static const char *const ignored[] = {"build", "pull_policy", "scale", "profiles"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        json_object_del(copy, ignored[i]);
    json_object_del(json_object_get(copy, "deploy"), "replicas");
    char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(copy);
    char digest[WB_DIGEST_MAX];
    int rc = wb_digest_of(text, strlen(text), digest, err);
    free(text);
    if (rc < 0) return -1;
    memcpy(out, wb_digest_hex(digest), 64);
    out[64] = '\0';
    return 0;
}
