/* libFuzzer target for Spin's locked-app reader (src/apps/spin_locked.c, the config of an app
 * pulled from a registry): any input either gives an app the runtime can use (spin_app_check.h:
 * routes, components, templates) whose contents are all under the content directory and whose
 * files land inside the app, or fails with one line starting "spin.json: ". */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/spin_locked.h"
#include "spin_app_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does an absolute guest path step out of "/" (a ".." component), or is it not absolute? */
static bool leaves(const char *path) {
    if (path[0] != '/') return true;
    for (const char *p = path; *p;) {
        while (*p == '/') p++;
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') return true;
        p += n;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1); /* exactly sized: any overread is caught */
    if (!text) return 0;
    memcpy(text, data, size);
    wb_spin_app *app = NULL;
    wb_error err;
    if (wb_spin_locked_parse(text, size, ".spin-oci", &app, &err) == 0) {
        check_app(app);
        for (size_t c = 0; c < app->ncomponents; c++) {
            const wb_spin_component *k = &app->components[c];
            if (strncmp(k->source, ".spin-oci/sha256/", 17) != 0) abort();
            for (size_t f = 0; f < k->nfiles; f++)
                if (strncmp(k->files[f].source, ".spin-oci/sha256/", 17) != 0 ||
                    leaves(k->files[f].destination))
                    abort();
        }
        wb_spin_app_free(app);
    } else if (strncmp(err.msg, "spin.json: ", 11) != 0 || strchr(err.msg, '\n')) {
        abort();
    }
    free(text);
    return 0;
}
