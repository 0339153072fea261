/* libFuzzer target for the TOML reader (src/base/toml.c): any input either parses into an object
 * that jansson can serialise, or fails with a message that names its line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1); /* exactly sized: any overread is caught */
    if (!text) return 0;
    memcpy(text, data, size);
    wb_error err;
    json_t *doc = wb_toml_parse(text, size, &err);
    if (doc) {
        if (!json_is_object(doc)) abort();
        char *s = json_dumps(doc, JSON_ENCODE_ANY);
        if (!s) abort();
        free(s);
        json_decref(doc);
    } else if ((strncmp(err.msg, "line ", 5) != 0 &&
                strncmp(err.msg, "a TOML document", 15) != 0) ||
               strchr(err.msg, '\n')) {
        abort();
    }
    free(text);
    return 0;
}
