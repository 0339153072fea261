/* apps/spin_manifest.h — Spin application manifests (`spin.toml`, manifest versions 1 and 2, as
 * Spin 1.x–3.x read them) read into one model for the Spin runtime (apps/spin.h): the components
 * (module, files, environment, variables, key-value stores, outbound hosts) and the HTTP routes
 * with their executors. Only what the runtime needs is kept; unknown keys are ignored as Spin
 * ignores them. Every error is one line naming the manifest's key:
 * "spin.toml: component `hello`: `source` must be a string or a table with `url` and `digest`". */
#ifndef WB_APPS_SPIN_MANIFEST_H
#define WB_APPS_SPIN_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

typedef enum wb_spin_executor {
    WB_SPIN_EXECUTOR_SPIN = 0, /* the default ("spin"): the module's exports say which ABI */
    WB_SPIN_EXECUTOR_WAGI,     /* executor = { type = "wagi" }: CGI over WASI */
} wb_spin_executor;

typedef struct wb_spin_pair {
    char *key, *value;
} wb_spin_pair;

/* A `files` entry. A plain string ("index.html", "*.css", or a directory's name followed by "/"
 * and "**" for everything below it) is a glob pattern relative to the manifest's directory: the
 * matching files keep their relative paths under "/". A table { source = "assets", destination =
 * "/assets" } maps a directory (or one file). */
typedef struct wb_spin_file {
    char *source;      /* relative to the manifest's directory, as written */
    char *destination; /* absolute in the guest; NULL for a pattern */
    bool pattern;
} wb_spin_file;

typedef struct wb_spin_component {
    char *id;
    char *source; /* the module: a path relative to the manifest's directory, as written */
    wb_spin_file *files;
    size_t nfiles;
    wb_spin_pair *environment; /* `environment` */
    size_t nenvironment;
    wb_spin_pair *variables; /* v2 `[component.X.variables]`, v1 `[component.config]`: values are
                              * templates ("{{ name }}") the runtime expands */
    size_t nvariables;
    char **key_value_stores; /* store labels ("default") */
    size_t nkey_value_stores;
    /* v2 `allowed_outbound_hosts` as written ("https://x.com", "http://127.0.0.1:8080", or
     * scheme, host and port each "*" for all); v1 `allowed_http_hosts` entries become
     * "http://HOST" and "https://HOST", and "insecure:allow-all" the all-wildcard one */
    char **allowed_outbound_hosts;
    size_t nallowed_outbound_hosts;
} wb_spin_component;

/* An HTTP trigger. */
typedef struct wb_spin_route {
    char *route;      /* the whole route, base included, normalised: "/", "/hello", "/static/...",
                       * "/users/:id" (no trailing '/' except the root; "/..." for the wildcard) */
    size_t component; /* index into wb_spin_app.components */
    wb_spin_executor executor;
    char *wagi_argv;       /* WAGI: the argv template (default "${SCRIPT_NAME} ${ARGS}") */
    char *wagi_entrypoint; /* WAGI: the function to run (default "_start") */
} wb_spin_route;

/* WAGI's defaults, as Spin's WagiTriggerConfig has them */
#define WB_SPIN_WAGI_DEFAULT_ARGV       "${SCRIPT_NAME} ${ARGS}"
#define WB_SPIN_WAGI_DEFAULT_ENTRYPOINT "_start"

/* An application variable (`[variables]`). */
typedef struct wb_spin_variable {
    char *name;          /* lower case, as Spin requires ([a-z][a-z0-9_]*) */
    char *default_value; /* NULL when required */
    bool secret;
} wb_spin_variable;

typedef struct wb_spin_app {
    int manifest_version; /* 1 or 2 */
    char *name;
    wb_spin_variable *variables;
    size_t nvariables;
    wb_spin_component *components;
    size_t ncomponents;
    wb_spin_route *routes; /* in manifest order */
    size_t nroutes;
} wb_spin_app;

/* Parse a manifest's text (TOML, base/toml.h). Refused, each with its own message: a version
 * other than 1 or 2; a trigger other than http ("the `redis` trigger is not supported"); a
 * component without `source`, or with a `source` URL ("is a URL: fetching components is not
 * supported"); a route naming no component; two routes the same; a bad variable name or a
 * variable both required and with a default; a template naming an undefined variable. The caller
 * owns *out (wb_spin_app_free). */
int wb_spin_manifest_parse(const char *text, size_t len, wb_spin_app **out, wb_error *err);
/* The same from a file; messages start with the file's name as given. */
int wb_spin_manifest_load(const char *path, wb_spin_app **out, wb_error *err);
void wb_spin_app_free(wb_spin_app *app);

/* Expand a variable template ("{{ name }}", "prefix-{{name}}", text without braces) with the
 * values lookup gives (NULL: unknown). Returns a malloc'd string, or NULL with err: "variable
 * `name` has no value" / "`{{` without `}}`". */
typedef const char *(*wb_spin_lookup)(void *ctx, const char *name);
char *wb_spin_expand(const char *tmpl, wb_spin_lookup lookup, void *ctx, wb_error *err);

/* Match a request path (percent-decoded segments are the caller's business: path as sent, without
 * the query) against a normalised route: true if it matches; *path_info is what the wildcard
 * matched ("" or "/rest/of/path"), and params (may be NULL) gets up to max_params ":name" values
 * (name and value malloc'd into params[i]). Exact routes match only themselves ("/hello" matches
 * "/hello" and "/hello/"), "/x/..." matches "/x" and everything below it, "/..." everything. */
bool wb_spin_route_match(const char *route, const char *path, const char **path_info,
                         wb_spin_pair *params, size_t max_params, size_t *nparams);
/* Order of preference between two routes that both match: Spin picks the most specific (exact
 * before parameter before wildcard, longer prefix first). < 0 when a is preferred. */
int wb_spin_route_compare(const char *a, const char *b);

/* ---- module-internal: shared with the locked-app reader (apps/spin_locked.c) ---- */

/* Spin's variable names: [a-z][a-z0-9_]* */
bool wb__spin_variable_name_ok(const char *name);
/* base and route joined and normalised as wb_spin_route.route is (malloc'd); NULL with err
 * ("route `R`: `...` may only be its last segment") */
char *wb__spin_route_join(const char *base, const char *route, wb_error *err);
/* One v1 `allowed_http_hosts` entry in the syntax of `allowed_outbound_hosts`: fills out[0]
 * (and out[1] for a bare host, which allows http and https), malloc'd, and returns how many;
 * < 0 with err ("`x` is not a host or host:port"). */
int wb__spin_http_host_convert(const char *host, char *out[2], wb_error *err);

#endif
