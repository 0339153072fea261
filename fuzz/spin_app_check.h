/* fuzz/spin_app_check.h — what the Spin fuzz targets (fuzz_spin_manifest, fuzz_spin_locked)
 * check of an app their parser accepted; aborts on a violation. Included by each target (static
 * functions: one translation unit each). */
#ifndef WB_FUZZ_SPIN_APP_CHECK_H
#define WB_FUZZ_SPIN_APP_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/spin_manifest.h"

static const char *any_value(void *ctx, const char *name) {
    (void)ctx;
    (void)name;
    return "v";
}

/* A path the route must match: its literal segments, "x" for parameters, the rest dropped. */
static void path_for(const char *route, char *out, size_t size) {
    size_t n = 0;
    out[0] = 0;
    for (const char *p = route; *p && n + 4 < size;) {
        while (*p == '/') p++;
        if (!*p) break;
        size_t len = strcspn(p, "/");
        if (len == 3 && !strncmp(p, "...", 3)) break;
        out[n++] = '/';
        if (*p == ':') {
            out[n++] = 'x';
        } else {
            if (len > size - n - 2) len = size - n - 2;
            memcpy(out + n, p, len);
            n += len;
        }
        p += strcspn(p, "/");
        out[n] = 0;
    }
    if (!n) snprintf(out, size, "/");
}

/* The invariants of a parsed app: each route matches a path made from it and names a component
 * that exists; every component variable expands when all variables have values. */
static void check_app(const wb_spin_app *app) {
    wb_error err;
    for (size_t i = 0; i < app->nroutes; i++) {
        const wb_spin_route *r = &app->routes[i];
        if (r->component >= app->ncomponents || r->route[0] != '/') abort();
        char path[4096];
        path_for(r->route, path, sizeof path);
        const char *info = NULL;
        wb_spin_pair params[8];
        size_t np = 0;
        if (!wb_spin_route_match(r->route, path, &info, params, 8, &np) && strlen(path) < 4000)
            abort();
        for (size_t k = 0; k < np; k++) {
            free(params[k].key);
            free(params[k].value);
        }
        if (i) wb_spin_route_compare(r->route, app->routes[i - 1].route);
    }
    for (size_t c = 0; c < app->ncomponents; c++)
        for (size_t v = 0; v < app->components[c].nvariables; v++) {
            char *s = wb_spin_expand(app->components[c].variables[v].value, any_value, NULL, &err);
            if (!s) abort();
            free(s);
        }
}

#endif
