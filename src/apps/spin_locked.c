/* apps/spin_locked.c — Spin's locked app (apps/spin_locked.h) read from its JSON into wb_spin_app:
 * the header first (version, must_understand, host requirements, metadata, variables), then the
 * trigger types (an app with a trigger we cannot run is refused before anything else is read),
 * the components, and last the http triggers as routes. Lookups by id and route go through
 * jansson objects (hashed), so the work stays linear in the document. Routes, variable names and
 * v1 host lists are checked by the manifest parser's own code (spin_manifest.h, wb__ helpers). */
#include "apps/spin_locked.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"

#define FILE_NAME "spin.json" /* the start of every message */

typedef struct reader {
    char where[WB_ERROR_MSG_MAX / 2]; /* "component `x`: " while inside one, else "" */
    wb_error *err;
    wb_spin_app *app;
    const char *content_dir; /* without a trailing '/' (content_dir_len bytes) */
    size_t content_dir_len;
    json_t *app_variables; /* the document's `variables` (borrowed), or NULL */
    json_t *ids;           /* component id -> its index */
    json_t *routes;        /* normalised route -> the component's index */
    const char *base;      /* the HTTP base ("/" by default; borrowed from the document) */
} reader;

__attribute__((format(printf, 2, 3))) static int fail(reader *r, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_error_set(r->err, EINVAL, "%s: %s%s", FILE_NAME, r->where, msg);
}

__attribute__((format(printf, 2, 3))) static void set_where(reader *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->where, sizeof r->where, fmt, ap);
    va_end(ap);
}

/* ---- typed access: null is absent, as serde reads an Option ---- */

static json_t *get(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* obj[key] as a string (*out NULL when absent); `name` is how the message names the key */
static int opt_string(reader *r, json_t *obj, const char *key, const char *name, const char **out) {
    json_t *v = get(obj, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_is_string(v)) return fail(r, "`%s` must be a string", name);
    *out = json_string_value(v);
    return 0;
}

static int opt_object(reader *r, json_t *obj, const char *key, const char *name, json_t **out) {
    json_t *v = get(obj, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_is_object(v)) return fail(r, "`%s` must be an object", name);
    *out = v;
    return 0;
}

/* obj[key], an array of strings, appended to *list (of *n) */
static int string_list(reader *r, json_t *obj, const char *key, const char *name, char ***list,
                       size_t *n) {
    json_t *v = get(obj, key);
    if (!v) return 0;
    if (!json_is_array(v)) return fail(r, "`%s` must be an array of strings", name);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) return fail(r, "`%s`[%zu] must be a string", name, i);
    }
    *list = wb_reallocarray(*list, *n + json_array_size(v) + 1, sizeof **list);
    json_array_foreach(v, i, e)(*list)[(*n)++] = wb_strdup(json_string_value(e));
    return 0;
}

/* obj[key], an object of strings, as pairs in document order */
static int string_map(reader *r, json_t *obj, const char *key, wb_spin_pair **pairs, size_t *n) {
    json_t *m;
    if (opt_object(r, obj, key, key, &m) < 0) return -1;
    if (!m) return 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (!json_is_string(v)) return fail(r, "`%s.%s` must be a string", key, k);
    }
    *pairs = wb_calloc(json_object_size(m) + 1, sizeof **pairs);
    json_object_foreach(m, k, v) {
        (*pairs)[*n].key = wb_strdup(k);
        (*pairs)[*n].value = wb_strdup(json_string_value(v));
        (*n)++;
    }
    return 0;
}

/* ---- contents ---- */

/* The hex of a "sha256:<64 lower-case hex>" digest, or NULL */
static const char *digest_hex(const char *digest) {
    if (strncmp(digest, "sha256:", 7)) return NULL;
    const char *hex = digest + 7;
    size_t n = 0;
    for (; hex[n]; n++)
        if (!((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f'))) return NULL;
    return n == 64 ? hex : NULL;
}

/* The content `ref` names by digest, as a path relative to the app's root (malloc'd), or NULL
 * after failing: `what` names the reference in the message ("source", "files[2]") */
static char *content_path(reader *r, json_t *ref, const char *what) {
    const char *digest;
    char name[48];
    snprintf(name, sizeof name, "%s.digest", what);
    if (opt_string(r, ref, "digest", name, &digest) < 0) return NULL;
    if (!digest) {
        fail(r, "%s has no digest", what);
        return NULL;
    }
    const char *hex = digest_hex(digest);
    if (!hex) {
        fail(r, "%s: digest `%s` is not `sha256:` and 64 lower-case hex digits", what, digest);
        return NULL;
    }
    char *path = NULL;
    size_t len = 0;
    if (r->content_dir_len)
        wb_appendf(&path, &len, "%.*s/sha256/%s", (int)r->content_dir_len, r->content_dir, hex);
    else
        wb_appendf(&path, &len, "sha256/%s", hex);
    return path;
}

/* A file's `path` (relative to the guest's root) as an absolute destination (malloc'd): "."
 * and empty components dropped; NULL after failing when it is absolute, leaves the root through
 * "..", or names nothing */
static char *file_destination(reader *r, const char *path, size_t index) {
    if (path[0] == '/') {
        fail(r, "files[%zu].path `%s` must be relative", index, path);
        return NULL;
    }
    wb_strbuf b = {0};
    const char *s = path;
    while (*s) {
        const char *e = strchrnul(s, '/');
        size_t n = (size_t)(e - s);
        if (n == 2 && !memcmp(s, "..", 2)) {
            free(b.s);
            fail(r, "files[%zu].path `%s` leaves the app", index, path);
            return NULL;
        }
        if (n && !(n == 1 && s[0] == '.')) {
            wb_strbuf_putc(&b, '/');
            wb_strbuf_putn(&b, s, n);
        }
        s = *e ? e + 1 : e;
    }
    if (!b.len) {
        fail(r, "files[%zu].path `%s` names no file", index, path);
        return NULL;
    }
    return wb_strbuf_take(&b);
}

/* ---- the header ---- */

static int parse_version(reader *r, json_t *doc) {
    json_t *v = get(doc, "spin_lock_version");
    if (!v) return fail(r, "`spin_lock_version` is missing");
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) return 0;
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    fail(r, "`spin_lock_version` %.64s is not supported (0 or 1)", text ? text : "?");
    free(text);
    return -1;
}

/* `must_understand` names the fields the host must process: only `host_requirements` exists */
static int parse_must_understand(reader *r, json_t *doc) {
    json_t *v = get(doc, "must_understand");
    if (!v) return 0;
    if (!json_is_array(v)) return fail(r, "`must_understand` must be an array of strings");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) return fail(r, "`must_understand`[%zu] must be a string", i);
        if (strcmp(json_string_value(e), "host_requirements"))
            return fail(r, "`must_understand`: `%s` is not supported", json_string_value(e));
    }
    return 0;
}

/* Spin skips a requirement that is "optional"; anything else is required of the host */
static int parse_host_requirements(reader *r, json_t *doc) {
    json_t *reqs;
    if (opt_object(r, doc, "host_requirements", "host_requirements", &reqs) < 0) return -1;
    const char *key;
    json_t *v;
    json_object_foreach(reqs, key, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), "optional")) continue;
        if (!strcmp(key, "local_service_chaining"))
            return fail(r, "host requirement `%s`: service chaining is not supported", key);
        return fail(r, "host requirement `%s` is not supported", key);
    }
    return 0;
}

/* `metadata`: the app's name and the HTTP base (Spin 2+ `triggers.http.base`, else Spin 1.x's
 * `trigger` { type = "http", base }) */
static int parse_metadata(reader *r, json_t *doc) {
    json_t *meta, *triggers = NULL, *http = NULL, *single = NULL;
    const char *name = NULL, *base = NULL, *single_type = NULL;
    if (opt_object(r, doc, "metadata", "metadata", &meta) < 0 ||
        opt_string(r, meta, "name", "metadata.name", &name) < 0 ||
        opt_object(r, meta, "triggers", "metadata.triggers", &triggers) < 0 ||
        opt_object(r, triggers, "http", "metadata.triggers.http", &http) < 0 ||
        opt_string(r, http, "base", "metadata.triggers.http.base", &base) < 0)
        return -1;
    if (!base) {
        if (opt_object(r, meta, "trigger", "metadata.trigger", &single) < 0 ||
            opt_string(r, single, "type", "metadata.trigger.type", &single_type) < 0)
            return -1;
        if (single_type && !strcmp(single_type, "http") &&
            opt_string(r, single, "base", "metadata.trigger.base", &base) < 0)
            return -1;
    }
    r->app->name = wb_strdup(name ? name : "");
    r->base = base ? base : "/";
    return 0;
}

static int parse_variables(reader *r, json_t *doc) {
    if (opt_object(r, doc, "variables", "variables", &r->app_variables) < 0) return -1;
    if (!r->app_variables) return 0;
    size_t n = json_object_size(r->app_variables);
    if (n > WB_SPIN_LOCKED_MAX_VARIABLES)
        return fail(r, "`variables` has %zu entries: more than %d", n,
                    WB_SPIN_LOCKED_MAX_VARIABLES);
    wb_spin_app *app = r->app;
    app->variables = wb_calloc(n + 1, sizeof *app->variables);
    const char *name;
    json_t *v;
    json_object_foreach(r->app_variables, name, v) {
        if (!wb__spin_variable_name_ok(name))
            return fail(r,
                        "variable `%s`: a name must be lower case letters, digits and `_`, "
                        "starting with a letter",
                        name);
        set_where(r, "variable `%s`: ", name);
        if (!json_is_object(v)) return fail(r, "must be an object ({\"default\": \"...\"})");
        const char *def;
        json_t *secret = get(v, "secret");
        if (opt_string(r, v, "default", "default", &def) < 0) return -1;
        if (secret && !json_is_boolean(secret)) return fail(r, "`secret` must be a boolean");
        r->where[0] = '\0';
        wb_spin_variable *var = &app->variables[app->nvariables++];
        var->name = wb_strdup(name);
        var->default_value = def ? wb_strdup(def) : NULL; /* none: required */
        var->secret = json_is_true(secret);
    }
    return 0;
}

/* ---- components ---- */

typedef struct template_check {
    json_t *variables;
    char missing[128]; /* the first name lookup did not find */
} template_check;

static const char *defined(void *ctx, const char *name) {
    template_check *t = ctx;
    if (json_object_get(t->variables, name)) return "";
    snprintf(t->missing, sizeof t->missing, "%s", name);
    return NULL;
}

/* `config`: each name a variable name, each value a template of app variables only */
static int check_config(reader *r, const wb_spin_component *comp) {
    for (size_t i = 0; i < comp->nvariables; i++) {
        const wb_spin_pair *v = &comp->variables[i];
        if (!wb__spin_variable_name_ok(v->key))
            return fail(r,
                        "variable `%s`: a name must be lower case letters, digits and `_`, "
                        "starting with a letter",
                        v->key);
        template_check t = {.variables = r->app_variables};
        wb_error terr;
        char *expanded = wb_spin_expand(v->value, defined, &t, &terr);
        if (expanded) {
            free(expanded);
            continue;
        }
        if (t.missing[0])
            return fail(r, "variable `%s` uses the undefined variable `%s`", v->key, t.missing);
        return fail(r, "variable `%s`: %s", v->key, terr.msg);
    }
    return 0;
}

static int parse_files(reader *r, json_t *c, wb_spin_component *comp) {
    json_t *files = get(c, "files");
    if (!files) return 0;
    if (!json_is_array(files)) return fail(r, "`files` must be an array");
    size_t n = json_array_size(files);
    if (n > WB_SPIN_LOCKED_MAX_FILES)
        return fail(r, "`files` has %zu entries: more than %d", n, WB_SPIN_LOCKED_MAX_FILES);
    comp->files = wb_calloc(n + 1, sizeof *comp->files);
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        char what[32];
        snprintf(what, sizeof what, "files[%zu]", i);
        if (!json_is_object(f))
            return fail(r, "%s must be an object with `digest` and `path`", what);
        json_t *path = get(f, "path");
        if (!path) return fail(r, "%s.path is missing", what);
        if (!json_is_string(path)) return fail(r, "%s.path must be a string", what);
        char *dest = file_destination(r, json_string_value(path), i);
        if (!dest) return -1;
        char *source = content_path(r, f, what);
        if (!source) {
            free(dest);
            return -1;
        }
        wb_spin_file *out = &comp->files[comp->nfiles++];
        out->source = source;
        out->destination = dest;
        out->pattern = false;
    }
    return 0;
}

/* `metadata`: the capabilities the runtime enforces; Spin 1.x's `allowed_http_hosts` converted
 * as the manifest parser converts v1's */
static int parse_component_metadata(reader *r, json_t *c, wb_spin_component *comp) {
    json_t *meta;
    if (opt_object(r, c, "metadata", "metadata", &meta) < 0) return -1;
    if (!meta) return 0;
    char **http_hosts = NULL;
    size_t nhttp = 0;
    int rc = 0;
    if (string_list(r, meta, "allowed_outbound_hosts", "metadata.allowed_outbound_hosts",
                    &comp->allowed_outbound_hosts, &comp->nallowed_outbound_hosts) < 0 ||
        string_list(r, meta, "key_value_stores", "metadata.key_value_stores",
                    &comp->key_value_stores, &comp->nkey_value_stores) < 0 ||
        string_list(r, meta, "allowed_http_hosts", "metadata.allowed_http_hosts", &http_hosts,
                    &nhttp) < 0)
        rc = -1;
    if (rc == 0 && nhttp)
        comp->allowed_outbound_hosts =
            wb_reallocarray(comp->allowed_outbound_hosts,
                            comp->nallowed_outbound_hosts + 2 * nhttp + 1, sizeof(char *));
    for (size_t i = 0; rc == 0 && i < nhttp; i++) {
        char *conv[2];
        wb_error herr;
        int k = wb__spin_http_host_convert(http_hosts[i], conv, &herr);
        if (k < 0) {
            rc = fail(r, "`metadata.allowed_http_hosts`: %s", herr.msg);
            break;
        }
        for (int j = 0; j < k; j++)
            comp->allowed_outbound_hosts[comp->nallowed_outbound_hosts++] = conv[j];
    }
    for (size_t i = 0; i < nhttp; i++) free(http_hosts[i]);
    free(http_hosts);
    return rc;
}

static int parse_component(reader *r, json_t *c, size_t index) {
    wb_spin_app *app = r->app;
    if (!json_is_object(c)) return fail(r, "components[%zu] must be an object", index);
    const char *id;
    set_where(r, "components[%zu]: ", index);
    if (opt_string(r, c, "id", "id", &id) < 0) return -1;
    if (!id || !*id) return fail(r, "`id` is missing");
    r->where[0] = '\0';
    if (json_object_get(r->ids, id)) return fail(r, "component `%s` is defined twice", id);
    json_object_set_new(r->ids, id, json_integer((json_int_t)index));
    set_where(r, "component `%s`: ", id);
    wb_spin_component *comp = &app->components[app->ncomponents++];
    memset(comp, 0, sizeof *comp);
    comp->id = wb_strdup(id);

    json_t *source = get(c, "source");
    if (!source) return fail(r, "`source` is missing");
    if (!json_is_object(source)) return fail(r, "`source` must be an object with `digest`");
    comp->source = content_path(r, source, "source");
    if (!comp->source) return -1;

    /* dependencies are composed into the component by Spin at load time (or by the push) */
    json_t *deps = get(c, "dependencies");
    if (deps && (!json_is_object(deps) || json_object_size(deps)))
        return fail(r, "`dependencies` is not supported (compose the component before pushing)");

    if (parse_files(r, c, comp) < 0 ||
        string_map(r, c, "env", &comp->environment, &comp->nenvironment) < 0 ||
        string_map(r, c, "config", &comp->variables, &comp->nvariables) < 0 ||
        check_config(r, comp) < 0 || parse_component_metadata(r, c, comp) < 0)
        return -1;
    r->where[0] = '\0';
    return 0;
}

/* ---- triggers ---- */

static void trigger_where(reader *r, json_t *t, size_t index) {
    const char *id = json_string_value(get(t, "id"));
    if (id)
        set_where(r, "trigger `%s`: ", id);
    else
        set_where(r, "triggers[%zu]: ", index);
}

/* Every trigger an object with a `trigger_type` we run (http), before anything else is read */
static int check_trigger_types(reader *r, json_t *triggers) {
    size_t i;
    json_t *t;
    json_array_foreach(triggers, i, t) {
        if (!json_is_object(t)) return fail(r, "triggers[%zu] must be an object", i);
        trigger_where(r, t, i);
        const char *type;
        if (opt_string(r, t, "trigger_type", "trigger_type", &type) < 0) return -1;
        if (!type) return fail(r, "`trigger_type` is missing");
        if (strcmp(type, "http")) return fail(r, "the `%s` trigger is not supported", type);
    }
    r->where[0] = '\0';
    return 0;
}

static int parse_executor(reader *r, json_t *cfg, wb_spin_route *route) {
    json_t *ex = get(cfg, "executor");
    route->executor = WB_SPIN_EXECUTOR_SPIN;
    if (!ex) return 0;
    if (!json_is_object(ex)) return fail(r, "`trigger_config.executor` must be an object");
    const char *type, *argv, *entrypoint;
    if (opt_string(r, ex, "type", "trigger_config.executor.type", &type) < 0 ||
        opt_string(r, ex, "argv", "trigger_config.executor.argv", &argv) < 0 ||
        opt_string(r, ex, "entrypoint", "trigger_config.executor.entrypoint", &entrypoint) < 0)
        return -1;
    if (!type) return fail(r, "`trigger_config.executor.type` is missing");
    if (!strcmp(type, "spin") || !strcmp(type, "http")) return 0; /* "http": Spin 2's name */
    if (strcmp(type, "wagi"))
        return fail(r, "executor `%s` is not supported (`spin` or `wagi`)", type);
    route->executor = WB_SPIN_EXECUTOR_WAGI;
    route->wagi_argv = wb_strdup(argv ? argv : WB_SPIN_WAGI_DEFAULT_ARGV);
    /* Spin's default for an empty entrypoint too (the manifest parser's rule) */
    route->wagi_entrypoint =
        wb_strdup(entrypoint && *entrypoint ? entrypoint : WB_SPIN_WAGI_DEFAULT_ENTRYPOINT);
    return 0;
}

/* An http trigger as a route (none for a private endpoint, { "private": true }) */
static int parse_http_trigger(reader *r, json_t *t, size_t index) {
    wb_spin_app *app = r->app;
    trigger_where(r, t, index);
    json_t *cfg = get(t, "trigger_config");
    if (!cfg) return fail(r, "`trigger_config` is missing");
    if (!json_is_object(cfg)) return fail(r, "`trigger_config` must be an object");
    const char *comp_id;
    if (opt_string(r, cfg, "component", "trigger_config.component", &comp_id) < 0) return -1;
    if (!comp_id)
        return get(cfg, "static_response")
                   ? fail(r, "`trigger_config.static_response` is not supported")
                   : fail(r, "`trigger_config.component` is missing: the route names no "
                             "component");
    json_t *found = json_object_get(r->ids, comp_id);
    if (!found) return fail(r, "component `%s` is not defined", comp_id);
    size_t comp = (size_t)json_integer_value(found);

    json_t *route_json = get(cfg, "route");
    if (!route_json) return fail(r, "`trigger_config.route` is missing");
    if (json_is_object(route_json) && json_is_true(json_object_get(route_json, "private")) &&
        json_object_size(route_json) == 1) {
        r->where[0] = '\0';
        return 0; /* reachable only through service chaining, which is not supported */
    }
    if (!json_is_string(route_json))
        return fail(r, "`trigger_config.route` must be a string or {\"private\": true}");
    wb_error jerr;
    char *full = wb__spin_route_join(r->base, json_string_value(route_json), &jerr);
    if (!full) return fail(r, "%s", jerr.msg);
    json_t *other = json_object_get(r->routes, full);
    if (other) {
        size_t o = (size_t)json_integer_value(other);
        r->where[0] = '\0';
        fail(r, "route `%s` is used twice (components `%s` and `%s`)", full, app->components[o].id,
             app->components[comp].id);
        free(full);
        return -1;
    }
    json_object_set_new(r->routes, full, json_integer((json_int_t)comp));
    wb_spin_route *route = &app->routes[app->nroutes++];
    memset(route, 0, sizeof *route);
    route->route = full;
    route->component = comp;
    if (parse_executor(r, cfg, route) < 0) return -1;
    r->where[0] = '\0';
    return 0;
}

/* ---- the document ---- */

/* doc[key], a required array of at most max entries */
static int bounded_array(reader *r, json_t *doc, const char *key, size_t max, json_t **out) {
    json_t *v = get(doc, key);
    *out = v;
    if (!v) return fail(r, "`%s` is missing", key);
    if (!json_is_array(v)) return fail(r, "`%s` must be an array", key);
    if (json_array_size(v) > max)
        return fail(r, "`%s` has %zu entries: more than %zu", key, json_array_size(v), max);
    return 0;
}

static int parse_doc(reader *r, json_t *doc) {
    json_t *components, *triggers;
    if (!json_is_object(doc)) return fail(r, "must be a JSON object");
    if (parse_version(r, doc) < 0 || parse_must_understand(r, doc) < 0 ||
        parse_host_requirements(r, doc) < 0 || parse_metadata(r, doc) < 0 ||
        bounded_array(r, doc, "triggers", WB_SPIN_LOCKED_MAX_TRIGGERS, &triggers) < 0 ||
        check_trigger_types(r, triggers) < 0 || parse_variables(r, doc) < 0 ||
        bounded_array(r, doc, "components", WB_SPIN_LOCKED_MAX_COMPONENTS, &components) < 0)
        return -1;
    wb_spin_app *app = r->app;
    app->components = wb_calloc(json_array_size(components) + 1, sizeof *app->components);
    app->routes = wb_calloc(json_array_size(triggers) + 1, sizeof *app->routes);
    size_t i;
    json_t *e;
    json_array_foreach(components, i, e) {
        if (parse_component(r, e, i) < 0) return -1;
    }
    json_array_foreach(triggers, i, e) {
        if (parse_http_trigger(r, e, i) < 0) return -1;
    }
    return 0;
}

int wb_spin_locked_parse(const char *json, size_t len, const char *content_dir, wb_spin_app **out,
                         wb_error *err) {
    *out = NULL;
    if (len > WB_SPIN_LOCKED_MAX_BYTES)
        return wb_error_set(err, EFBIG, "%s: %zu bytes: more than the limit of %zu MiB", FILE_NAME,
                            len, WB_SPIN_LOCKED_MAX_BYTES >> 20);
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return wb_error_set(err, EINVAL, "%s: line %d, column %d: %s", FILE_NAME, jerr.line,
                            jerr.column, jerr.text);
    if (!content_dir) content_dir = "";
    size_t dir_len = strlen(content_dir);
    while (dir_len && content_dir[dir_len - 1] == '/') dir_len--;
    reader r = {
        .err = err,
        .content_dir = content_dir,
        .content_dir_len = dir_len,
        .ids = json_object(),
        .routes = json_object(),
    };
    r.app = wb_calloc(1, sizeof *r.app);
    r.app->manifest_version = 2;
    int rc = parse_doc(&r, doc);
    json_decref(r.ids);
    json_decref(r.routes);
    json_decref(doc);
    if (rc < 0) {
        wb_spin_app_free(r.app);
        return -1;
    }
    *out = r.app;
    return 0;
}
