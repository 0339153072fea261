/* libFuzzer target for Spin's manifest reader (src/apps/spin_manifest.c): any input either gives
 * an app whose routes and templates the runtime can use — each route matches a path made from
 * it, its components exist, every component variable expands when all variables have values — or
 * fails with one line starting "spin.toml: ". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/spin_manifest.h"
#include "spin_app_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1); /* exactly sized: any overread is caught */
    if (!text) return 0;
    memcpy(text, data, size);
    wb_spin_app *app = NULL;
    wb_error err;
    if (wb_spin_manifest_parse(text, size, &app, &err) == 0) {
        check_app(app);
        wb_spin_app_free(app);
    } else if (strncmp(err.msg, "spin.toml: ", 11) != 0 || strchr(err.msg, '\n')) {
        abort();
    }
    free(text);
    return 0;
}
