/* apps/spin_manifest.c — spin.toml (versions 1 and 2) read from the TOML document (base/toml.h)
 * into wb_spin_app: one pass over the document, checking each key's type where it is read, then
 * the cross-checks (component references, duplicate routes, template variables). Lookups by
 * name go through jansson objects (hashed), so the work stays linear in the document, whose size
 * WB_TOML_MAX_BYTES bounds. */
#include "apps/spin_manifest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/toml.h"

#define WAGI_DEFAULT_ARGV       WB_SPIN_WAGI_DEFAULT_ARGV
#define WAGI_DEFAULT_ENTRYPOINT WB_SPIN_WAGI_DEFAULT_ENTRYPOINT
#define ALLOW_ALL_HOSTS         "insecure:allow-all"

typedef struct parser {
    const char *file; /* "spin.toml" or the path given: the start of every message */
    char where[WB_ERROR_MSG_MAX / 2]; /* "component `x`: " while inside one, else "" */
    wb_error *err;
    wb_spin_app *app;
    size_t components_cap, routes_cap;
    json_t *app_variables; /* the document's [variables] (borrowed), or NULL */
    json_t *ids;           /* component id -> its index */
    json_t *routes;        /* normalised route -> the component's index */
} parser;

__attribute__((format(printf, 2, 3))) static int fail(parser *p, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_error_set(p->err, EINVAL, "%s: %s%s", p->file, p->where, msg);
}

__attribute__((format(printf, 2, 3))) static void set_where(parser *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->where, sizeof p->where, fmt, ap);
    va_end(ap);
}

/* ---- typed access to the document ---- */

/* obj[key] as a string: *out is NULL when the key is absent; < 0 when it is not a string. `name`
 * is how the message names the key (the key itself when NULL). */
static int opt_string(parser *p, json_t *obj, const char *key, const char *name, const char **out) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_is_string(v)) return fail(p, "`%s` must be a string", name ? name : key);
    *out = json_string_value(v);
    return 0;
}

static int opt_bool(parser *p, json_t *obj, const char *key, const char *name, bool *out) {
    json_t *v = json_object_get(obj, key);
    *out = false;
    if (!v) return 0;
    if (!json_is_boolean(v)) return fail(p, "`%s` must be a boolean", name ? name : key);
    *out = json_is_true(v);
    return 0;
}

static int opt_table(parser *p, json_t *obj, const char *key, const char *name, json_t **out) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) return 0;
    if (!json_is_object(v)) return fail(p, "`%s` must be a table", name ? name : key);
    *out = v;
    return 0;
}

/* obj[key], an array of strings, appended to *list */
static int string_list(parser *p, json_t *obj, const char *key, char ***list, size_t *n) {
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_array(v)) return fail(p, "`%s` must be an array of strings", key);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) return fail(p, "`%s`[%zu] must be a string", key, i);
    }
    *list = wb_reallocarray(*list, *n + json_array_size(v) + 1, sizeof **list);
    json_array_foreach(v, i, e)(*list)[(*n)++] = wb_strdup(json_string_value(e));
    return 0;
}

/* obj[key], a table of strings, as pairs in document order; `name` as in opt_string */
static int string_table(parser *p, json_t *obj, const char *key, const char *name,
                        wb_spin_pair **pairs, size_t *n) {
    json_t *t;
    if (opt_table(p, obj, key, name, &t) < 0) return -1;
    if (!t) return 0;
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v) {
        if (!json_is_string(v)) return fail(p, "`%s.%s` must be a string", name ? name : key, k);
    }
    *pairs = wb_calloc(json_object_size(t) + 1, sizeof **pairs);
    json_object_foreach(t, k, v) {
        (*pairs)[*n].key = wb_strdup(k);
        (*pairs)[*n].value = wb_strdup(json_string_value(v));
        (*n)++;
    }
    return 0;
}

/* ---- names and templates ---- */

/* Spin's variable names: lower case letters, digits and '_', starting with a letter */
bool wb__spin_variable_name_ok(const char *s) {
    if (!(*s >= 'a' && *s <= 'z')) return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

/* Spin's kebab-case ids (spin_serde::KebabId): '-'-separated non-empty words, each starting with
 * a letter, alphanumeric, all lower or all upper case */
static bool kebab_id_ok(const char *s) {
    if (!*s) return false;
    while (true) {
        const char *e = strchr(s, '-');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (!n) return false;
        bool upper = s[0] >= 'A' && s[0] <= 'Z';
        if (!upper && !(s[0] >= 'a' && s[0] <= 'z')) return false;
        for (size_t i = 1; i < n; i++) {
            char c = s[i];
            if (c >= '0' && c <= '9') continue;
            if (upper ? !(c >= 'A' && c <= 'Z') : !(c >= 'a' && c <= 'z')) return false;
        }
        if (!e) return true;
        s = e + 1;
    }
}

/* Called for each piece of a template: literal text (is_name false) or the name inside a
 * `{{ }}` (spaces trimmed); < 0 stops the walk. */
typedef int (*template_piece_fn)(void *ctx, const char *s, size_t n, bool is_name, wb_error *err);

static int template_walk(const char *tmpl, template_piece_fn fn, void *ctx, wb_error *err) {
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (!open) return fn(ctx, p, strlen(p), false, err);
        if (open > p && fn(ctx, p, (size_t)(open - p), false, err) < 0) return -1;
        const char *close = strstr(open + 2, "}}");
        if (!close) return wb_error_set(err, EINVAL, "`{{` without `}}`");
        const char *s = open + 2, *e = close;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if (s == e) return wb_error_set(err, EINVAL, "`{{ }}` names no variable");
        if (fn(ctx, s, (size_t)(e - s), true, err) < 0) return -1;
        p = close + 2;
    }
    return 0;
}

typedef struct expand_ctx {
    wb_spin_lookup lookup;
    void *ctx;
    wb_strbuf out;
} expand_ctx;

static int expand_piece(void *ctx, const char *s, size_t n, bool is_name, wb_error *err) {
    expand_ctx *x = ctx;
    if (!is_name) {
        wb_strbuf_putn(&x->out, s, n);
        return 0;
    }
    char *name = wb_strndup(s, n);
    const char *value = x->lookup(x->ctx, name);
    if (!value) {
        wb_error_set(err, EINVAL, "variable `%s` has no value", name);
        free(name);
        return -1;
    }
    free(name);
    wb_strbuf_puts(&x->out, value);
    return 0;
}

char *wb_spin_expand(const char *tmpl, wb_spin_lookup lookup, void *ctx, wb_error *err) {
    expand_ctx x = {.lookup = lookup, .ctx = ctx};
    if (template_walk(tmpl, expand_piece, &x, err) < 0) {
        free(x.out.s);
        return NULL;
    }
    return wb_strbuf_take(&x.out);
}

/* the template's names must be app variables (the object holding them, or NULL) */
static int check_piece(void *ctx, const char *s, size_t n, bool is_name, wb_error *err) {
    if (!is_name) return 0;
    char *name = wb_strndup(s, n);
    int rc = json_object_get(ctx, name)
                 ? 0
                 : wb_error_set(err, EINVAL, "uses the undefined variable `%s`", name);
    free(name);
    return rc;
}

/* ---- the model ---- */

static void free_pairs(wb_spin_pair *pairs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
}

static void free_strings(char **list, size_t n) {
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

static void component_release(wb_spin_component *c) {
    free(c->id);
    free(c->source);
    for (size_t i = 0; i < c->nfiles; i++) {
        free(c->files[i].source);
        free(c->files[i].destination);
    }
    free(c->files);
    free_pairs(c->environment, c->nenvironment);
    free_pairs(c->variables, c->nvariables);
    free_strings(c->key_value_stores, c->nkey_value_stores);
    free_strings(c->allowed_outbound_hosts, c->nallowed_outbound_hosts);
}

void wb_spin_app_free(wb_spin_app *app) {
    if (!app) return;
    free(app->name);
    for (size_t i = 0; i < app->nvariables; i++) {
        free(app->variables[i].name);
        free(app->variables[i].default_value);
    }
    free(app->variables);
    for (size_t i = 0; i < app->ncomponents; i++) component_release(&app->components[i]);
    free(app->components);
    for (size_t i = 0; i < app->nroutes; i++) {
        free(app->routes[i].route);
        free(app->routes[i].wagi_argv);
        free(app->routes[i].wagi_entrypoint);
    }
    free(app->routes);
    free(app);
}

/* [variables] */
static int parse_variables(parser *p, json_t *doc) {
    if (opt_table(p, doc, "variables", NULL, &p->app_variables) < 0) return -1;
    if (!p->app_variables) return 0;
    wb_spin_app *app = p->app;
    app->variables = wb_calloc(json_object_size(p->app_variables) + 1, sizeof *app->variables);
    const char *name;
    json_t *v;
    json_object_foreach(p->app_variables, name, v) {
        if (!wb__spin_variable_name_ok(name))
            return fail(p,
                        "variable `%s`: a name must be lower case letters, digits and `_`, "
                        "starting with a letter",
                        name);
        set_where(p, "variable `%s`: ", name);
        if (!json_is_object(v)) return fail(p, "must be a table ({ default = \"...\" })");
        const char *def;
        bool required, secret;
        if (opt_string(p, v, "default", NULL, &def) < 0 ||
            opt_bool(p, v, "required", NULL, &required) < 0 ||
            opt_bool(p, v, "secret", NULL, &secret) < 0)
            return -1;
        p->where[0] = '\0';
        if (required && def)
            return fail(p, "variable `%s` is both required and has a default", name);
        /* Spin's loader: "must be `required` OR have a `default`" */
        if (!required && !def)
            return fail(p, "variable `%s` needs `required = true` or a `default`", name);
        wb_spin_variable *var = &app->variables[app->nvariables++];
        var->name = wb_strdup(name);
        var->default_value = def ? wb_strdup(def) : NULL;
        var->secret = secret;
    }
    return 0;
}

static int parse_source(parser *p, json_t *c, wb_spin_component *comp) {
    json_t *src = json_object_get(c, "source");
    if (!src) return fail(p, "`source` is missing");
    if (json_is_string(src)) {
        comp->source = wb_strdup(json_string_value(src));
        return 0;
    }
    if (json_is_object(src) && json_object_get(src, "url"))
        return fail(p, "`source` is a URL: fetching components is not supported");
    if (json_is_object(src) && json_object_get(src, "package"))
        return fail(p, "`source` is a registry package: fetching components is not supported");
    return fail(p, "`source` must be a string or a table with `url` and `digest`");
}

static int parse_files(parser *p, json_t *c, wb_spin_component *comp) {
    json_t *files = json_object_get(c, "files");
    if (!files) return 0;
    if (!json_is_array(files)) return fail(p, "`files` must be an array");
    comp->files = wb_calloc(json_array_size(files) + 1, sizeof *comp->files);
    size_t i;
    json_t *e;
    json_array_foreach(files, i, e) {
        wb_spin_file *f = &comp->files[comp->nfiles];
        if (json_is_string(e)) {
            f->source = wb_strdup(json_string_value(e));
            f->pattern = true;
            comp->nfiles++;
            continue;
        }
        json_t *s = json_object_get(e, "source"), *d = json_object_get(e, "destination");
        if (!json_is_object(e) || !json_is_string(s) || !json_is_string(d))
            return fail(p,
                        "`files`[%zu] must be a string or a table with `source` and "
                        "`destination`",
                        i);
        const char *dest = json_string_value(d);
        f->source = wb_strdup(json_string_value(s));
        /* Spin places a relative destination under the guest's root */
        if (dest[0] == '/') {
            f->destination = wb_strdup(dest);
        } else {
            size_t len = 0;
            wb_appendf(&f->destination, &len, "/%s", dest);
        }
        comp->nfiles++;
    }
    return 0;
}

/* One v1 `allowed_http_hosts` entry ("example.com", "host:port", "http://host:port", or
 * "insecure:allow-all") in the syntax of `allowed_outbound_hosts`: a bare host allows http and
 * https, as Spin has it (crates/manifest/src/compat.rs) */
int wb__spin_http_host_convert(const char *h, char *out[2], wb_error *err) {
    if (!strcmp(h, ALLOW_ALL_HOSTS)) {
        out[0] = wb_strdup("*://*:*");
        return 1;
    }
    if (strstr(h, "//")) {
        /* a URL: http or https, a host and an optional port, nothing else */
        const char *rest = !strncmp(h, "http://", 7)    ? h + 7
                           : !strncmp(h, "https://", 8) ? h + 8
                                                        : NULL;
        if (!rest) return wb_error_set(err, EINVAL, "`%s` is not an http or https URL", h);
        const char *slash = strchr(rest, '/');
        if (slash == rest || (slash && slash[1]))
            return wb_error_set(err, EINVAL, "`%s` must be a host and an optional port only", h);
        out[0] = wb_strndup(h, slash ? (size_t)(slash - h) : strlen(h));
        return 1;
    }
    if (!*h || strchr(h, '/'))
        return wb_error_set(err, EINVAL, "`%s` is not a host or host:port", h);
    size_t len = 0;
    out[0] = out[1] = NULL;
    wb_appendf(&out[0], &len, "http://%s", h);
    len = 0;
    wb_appendf(&out[1], &len, "https://%s", h);
    return 2;
}

/* v1's `allowed_http_hosts`, appended to the component's `allowed_outbound_hosts` */
static int parse_allowed_http_hosts(parser *p, json_t *c, wb_spin_component *comp) {
    char **hosts = NULL;
    size_t n = 0;
    if (string_list(p, c, "allowed_http_hosts", &hosts, &n) < 0) {
        free_strings(hosts, n);
        return -1;
    }
    if (!n) {
        free(hosts);
        return 0;
    }
    comp->allowed_outbound_hosts = wb_reallocarray(
        comp->allowed_outbound_hosts, comp->nallowed_outbound_hosts + 2 * n, sizeof(char *));
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *conv[2];
        wb_error herr;
        int k = wb__spin_http_host_convert(hosts[i], conv, &herr);
        if (k < 0) {
            rc = fail(p, "`allowed_http_hosts`: %s", herr.msg);
            break;
        }
        for (int j = 0; j < k; j++)
            comp->allowed_outbound_hosts[comp->nallowed_outbound_hosts++] = conv[j];
    }
    free_strings(hosts, n);
    return rc;
}

/* A component: `id` is its id (a v2 table key, a v1 `id`, or generated for an inline one). Its
 * index in app->components is *index. */
static int parse_component(parser *p, json_t *c, const char *id, size_t *index) {
    wb_spin_app *app = p->app;
    set_where(p, "component `%s`: ", id);
    if (json_object_get(p->ids, id)) {
        p->where[0] = '\0';
        return fail(p, "component `%s` is defined twice", id);
    }
    WB_VEC_RESERVE(app->components, p->components_cap, app->ncomponents + 1);
    *index = app->ncomponents;
    wb_spin_component *comp = &app->components[app->ncomponents++];
    memset(comp, 0, sizeof *comp);
    comp->id = wb_strdup(id);
    json_object_set_new(p->ids, id, json_integer((json_int_t)*index));

    const char *vars_key = app->manifest_version == 1 ? "config" : "variables";
    if (parse_source(p, c, comp) < 0 || parse_files(p, c, comp) < 0 ||
        string_table(p, c, "environment", NULL, &comp->environment, &comp->nenvironment) < 0 ||
        string_table(p, c, vars_key, NULL, &comp->variables, &comp->nvariables) < 0 ||
        string_list(p, c, "key_value_stores", &comp->key_value_stores, &comp->nkey_value_stores) <
            0 ||
        string_list(p, c, "allowed_outbound_hosts", &comp->allowed_outbound_hosts,
                    &comp->nallowed_outbound_hosts) < 0 ||
        parse_allowed_http_hosts(p, c, comp) < 0)
        return -1;
    for (size_t i = 0; i < comp->nvariables; i++) {
        const wb_spin_pair *v = &comp->variables[i];
        if (!wb__spin_variable_name_ok(v->key))
            return fail(p,
                        "variable `%s`: a name must be lower case letters, digits and `_`, "
                        "starting with a letter",
                        v->key);
        wb_error terr;
        if (template_walk(v->value, check_piece, p->app_variables, &terr) < 0)
            return fail(p, "variable `%s`%s%s", v->key, strncmp(terr.msg, "uses ", 5) ? ": " : " ",
                        terr.msg);
    }
    p->where[0] = '\0';
    return 0;
}

/* The route's segments (base's, then route's) joined: a leading '/', no empty segments (so no
 * "//" and no trailing '/'), "/" for none. NULL (with the error) when "..." is not last. */
char *wb__spin_route_join(const char *base, const char *route, wb_error *err) {
    wb_strbuf b = {0};
    const char *parts[2] = {base, route};
    for (int i = 0; i < 2; i++) {
        const char *s = parts[i];
        while (*s) {
            while (*s == '/') s++;
            const char *e = strchr(s, '/');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (!n) break;
            if (b.len >= 4 && !strcmp(b.s + b.len - 4, "/...")) {
                free(b.s);
                wb_error_set(err, EINVAL, "route `%s`: `...` may only be its last segment", route);
                return NULL;
            }
            wb_strbuf_putc(&b, '/');
            wb_strbuf_putn(&b, s, n);
            s += n;
        }
    }
    if (!b.len) wb_strbuf_putc(&b, '/');
    return wb_strbuf_take(&b);
}

static char *join_route(parser *p, const char *base, const char *route) {
    wb_error jerr;
    char *full = wb__spin_route_join(base, route, &jerr);
    if (!full) fail(p, "%s", jerr.msg);
    return full;
}

static int parse_executor(parser *p, json_t *trigger, wb_spin_route *r) {
    json_t *ex = json_object_get(trigger, "executor");
    r->executor = WB_SPIN_EXECUTOR_SPIN;
    if (!ex) return 0;
    if (!json_is_object(ex)) return fail(p, "`executor` must be a table with `type`");
    const char *type, *argv, *entrypoint;
    if (opt_string(p, ex, "type", "executor.type", &type) < 0 ||
        opt_string(p, ex, "argv", "executor.argv", &argv) < 0 ||
        opt_string(p, ex, "entrypoint", "executor.entrypoint", &entrypoint) < 0)
        return -1;
    if (!type) return fail(p, "`executor.type` is missing");
    if (!strcmp(type, "spin") || !strcmp(type, "http")) return 0; /* "http": Spin 2's name */
    if (strcmp(type, "wagi"))
        return fail(p, "executor `%s` is not supported (`spin` or `wagi`)", type);
    r->executor = WB_SPIN_EXECUTOR_WAGI;
    r->wagi_argv = wb_strdup(argv ? argv : WAGI_DEFAULT_ARGV);
    /* Spin's default for an empty entrypoint too */
    r->wagi_entrypoint =
        wb_strdup(entrypoint && *entrypoint ? entrypoint : WAGI_DEFAULT_ENTRYPOINT);
    return 0;
}

/* trigger's `route` (a string, or { private = true }: *route NULL) */
static int trigger_route(parser *p, json_t *trigger, const char *name, const char **route) {
    json_t *r = json_object_get(trigger, "route");
    *route = NULL;
    if (!r) return fail(p, "`%s` is missing", name);
    if (json_is_string(r)) {
        *route = json_string_value(r);
        return 0;
    }
    if (json_is_object(r) && json_is_true(json_object_get(r, "private")) &&
        json_object_size(r) == 1)
        return 0;
    return fail(p, "`%s` must be a string or `{ private = true }`", name);
}

/* An HTTP route for component `index`, from trigger (its `executor`) */
static int add_route(parser *p, const char *base, const char *route, size_t index,
                     json_t *trigger) {
    wb_spin_app *app = p->app;
    char *full = join_route(p, base, route);
    if (!full) return -1;
    json_t *other = json_object_get(p->routes, full);
    if (other) {
        size_t o = (size_t)json_integer_value(other);
        p->where[0] = '\0';
        fail(p, "route `%s` is used twice (components `%s` and `%s`)", full, app->components[o].id,
             app->components[index].id);
        free(full);
        return -1;
    }
    json_object_set_new(p->routes, full, json_integer((json_int_t)index));
    WB_VEC_RESERVE(app->routes, p->routes_cap, app->nroutes + 1);
    wb_spin_route *r = &app->routes[app->nroutes++];
    memset(r, 0, sizeof *r);
    r->route = full;
    r->component = index;
    return parse_executor(p, trigger, r);
}

static int check_trigger_type(parser *p, const char *type) {
    if (strcmp(type, "http")) return fail(p, "the `%s` trigger is not supported", type);
    return 0;
}

/* ---- version 1 ---- */

static int parse_v1(parser *p, json_t *doc) {
    json_t *trigger;
    const char *type, *base, *name;
    if (opt_string(p, doc, "name", NULL, &name) < 0 ||
        opt_table(p, doc, "trigger", NULL, &trigger) < 0)
        return -1;
    p->app->name = wb_strdup(name ? name : "");
    if (!trigger) return fail(p, "`trigger` is missing (trigger = { type = \"http\" })");
    if (opt_string(p, trigger, "type", "trigger.type", &type) < 0 ||
        opt_string(p, trigger, "base", "trigger.base", &base) < 0)
        return -1;
    if (!type) return fail(p, "`trigger.type` is missing");
    if (check_trigger_type(p, type) < 0 || parse_variables(p, doc) < 0) return -1;
    json_t *components = json_object_get(doc, "component");
    if (components && !json_is_array(components))
        return fail(p, "`component` must be an array of tables ([[component]])");
    size_t i;
    json_t *c;
    json_array_foreach(components, i, c) {
        const char *id;
        if (!json_is_object(c)) return fail(p, "`component`[%zu] must be a table", i);
        set_where(p, "`component`[%zu]: ", i);
        if (opt_string(p, c, "id", NULL, &id) < 0) return -1;
        if (!id) return fail(p, "`id` is missing");
        size_t index;
        if (parse_component(p, c, id, &index) < 0) return -1;
        set_where(p, "component `%s`: ", id);
        json_t *ct;
        const char *route;
        if (opt_table(p, c, "trigger", NULL, &ct) < 0) return -1;
        if (!ct) return fail(p, "`trigger.route` is missing");
        if (trigger_route(p, ct, "trigger.route", &route) < 0) return -1;
        if (route && add_route(p, base ? base : "/", route, index, ct) < 0) return -1;
        p->where[0] = '\0';
    }
    return 0;
}

/* ---- version 2 ---- */

/* The ids Spin gives the [[trigger.http]] entries (spin_manifest::normalize): `id`, else
 * "COMPONENT-http-trigger" for a reference, else "http-triggerN". The caller frees the array. */
static char **trigger_ids(json_t *http) {
    size_t n = json_array_size(http), i, counter = 1;
    char **ids = wb_calloc(n + 1, sizeof *ids);
    json_t *taken = json_object(), *t;
    json_array_foreach(http, i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        if (id) {
            ids[i] = wb_strdup(id);
            json_object_set_new(taken, id, json_true());
        }
    }
    json_array_foreach(http, i, t) {
        if (ids[i]) continue;
        const char *comp = json_string_value(json_object_get(t, "component"));
        size_t len = 0;
        if (comp) {
            wb_appendf(&ids[i], &len, "%s-http-trigger", comp);
            if (!json_object_get(taken, ids[i])) {
                json_object_set_new(taken, ids[i], json_true());
                continue;
            }
        }
        do {
            free(ids[i]);
            ids[i] = NULL;
            len = 0;
            wb_appendf(&ids[i], &len, "http-trigger%zu", counter++);
        } while (json_object_get(taken, ids[i]));
        json_object_set_new(taken, ids[i], json_true());
    }
    json_decref(taken);
    return ids;
}

/* The id of an inline component of trigger `tid` (as Spin's normalize_inline_components) */
static char *inline_component_id(parser *p, const char *tid) {
    char *id = NULL;
    size_t len = 0;
    wb_appendf(&id, &len, "%s-component", tid);
    for (size_t counter = 1; !kebab_id_ok(id) || json_object_get(p->ids, id); counter++) {
        free(id);
        id = NULL;
        len = 0;
        wb_appendf(&id, &len, "inline-component%zu", counter);
    }
    return id;
}

static int parse_http_triggers(parser *p, json_t *http, const char *base) {
    if (!json_is_array(http))
        return fail(p, "`trigger.http` must be an array of tables ([[trigger.http]])");
    char **tids = trigger_ids(http);
    int rc = 0;
    size_t i;
    json_t *t;
    json_array_foreach(http, i, t) {
        if (!json_is_object(t)) {
            rc = fail(p, "`trigger.http`[%zu] must be a table", i);
            break;
        }
        json_t *route_json = json_object_get(t, "route");
        if (json_is_string(route_json))
            set_where(p, "`trigger.http`[%zu] (route `%s`): ", i, json_string_value(route_json));
        else
            set_where(p, "`trigger.http`[%zu]: ", i);
        const char *route, *explicit_id; /* type-checked here, used by trigger_ids */
        if ((rc = trigger_route(p, t, "route", &route)) < 0 ||
            (rc = opt_string(p, t, "id", NULL, &explicit_id)) < 0)
            break;
        json_t *comp = json_object_get(t, "component");
        size_t index;
        if (!comp) {
            rc = json_object_get(t, "static_response")
                     ? fail(p, "`static_response` is not supported")
                     : fail(p, "`component` is missing: the route names no component");
            break;
        } else if (json_is_string(comp)) {
            json_t *found = json_object_get(p->ids, json_string_value(comp));
            if (!found) {
                rc = fail(p, "component `%s` is not defined", json_string_value(comp));
                break;
            }
            index = (size_t)json_integer_value(found);
        } else if (json_is_object(comp)) {
            char *id = inline_component_id(p, tids[i]);
            rc = parse_component(p, comp, id, &index);
            free(id);
            if (rc < 0) break;
        } else {
            rc = fail(p, "`component` must be a component id or an inline component table");
            break;
        }
        if (route) {
            set_where(p, "`trigger.http`[%zu] (route `%s`): ", i, route);
            if ((rc = add_route(p, base, route, index, t)) < 0) break;
        }
        p->where[0] = '\0';
    }
    for (size_t k = 0; k < json_array_size(http); k++) free(tids[k]);
    free(tids);
    return rc;
}

static int parse_v2(parser *p, json_t *doc) {
    json_t *application, *triggers, *components, *app_triggers = NULL, *http_cfg = NULL;
    const char *name, *base = NULL;
    if (opt_table(p, doc, "application", NULL, &application) < 0 ||
        opt_string(p, application, "name", "application.name", &name) < 0 ||
        opt_table(p, application, "trigger", "application.trigger", &app_triggers) < 0 ||
        opt_table(p, app_triggers, "http", "application.trigger.http", &http_cfg) < 0 ||
        opt_string(p, http_cfg, "base", "application.trigger.http.base", &base) < 0)
        return -1;
    p->app->name = wb_strdup(name ? name : "");
    if (opt_table(p, doc, "trigger", NULL, &triggers) < 0 ||
        opt_table(p, doc, "component", NULL, &components) < 0)
        return -1;
    const char *key;
    json_t *v;
    json_object_foreach(triggers, key, v) {
        if (check_trigger_type(p, key) < 0) return -1;
    }
    if (parse_variables(p, doc) < 0) return -1;
    json_object_foreach(components, key, v) {
        size_t index;
        if (!json_is_object(v)) return fail(p, "`component.%s` must be a table", key);
        if (parse_component(p, v, key, &index) < 0) return -1;
    }
    json_t *http = json_object_get(triggers, "http");
    if (http && parse_http_triggers(p, http, base ? base : "/") < 0) return -1;
    return 0;
}

/* ---- entry points ---- */

static int parse_doc(json_t *doc, const char *file, wb_spin_app **out, wb_error *err) {
    parser p = {.file = file, .err = err};
    p.app = wb_calloc(1, sizeof *p.app);
    p.ids = json_object();
    p.routes = json_object();
    json_t *version = json_object_get(doc, "spin_manifest_version");
    const char *version_key = "spin_manifest_version";
    if (!version) {
        version = json_object_get(doc, "spin_version"); /* Spin 0.x's name of it */
        version_key = "spin_version";
    }
    int rc = -1;
    if (!version) {
        fail(&p, "`spin_manifest_version` is missing");
    } else if ((json_is_string(version) && !strcmp(json_string_value(version), "1")) ||
               (json_is_integer(version) && json_integer_value(version) == 1)) {
        p.app->manifest_version = 1;
        rc = parse_v1(&p, doc);
    } else if ((json_is_string(version) && !strcmp(json_string_value(version), "2")) ||
               (json_is_integer(version) && json_integer_value(version) == 2)) {
        p.app->manifest_version = 2;
        rc = parse_v2(&p, doc);
    } else {
        char *text = json_dumps(version, JSON_ENCODE_ANY | JSON_COMPACT);
        fail(&p, "`%s` %s is not supported (1 or 2)", version_key, text ? text : "?");
        free(text);
    }
    json_decref(p.ids);
    json_decref(p.routes);
    if (rc < 0) {
        wb_spin_app_free(p.app);
        return -1;
    }
    *out = p.app;
    return 0;
}

int wb_spin_manifest_parse(const char *text, size_t len, wb_spin_app **out, wb_error *err) {
    json_t *doc = wb_toml_parse(text, len, err);
    if (!doc) return wb_error_wrap(err, "spin.toml");
    int rc = parse_doc(doc, "spin.toml", out, err);
    json_decref(doc);
    return rc;
}

int wb_spin_manifest_load(const char *path, wb_spin_app **out, wb_error *err) {
    uint8_t *text;
    size_t len;
    if (wb_read_file(path, WB_TOML_MAX_BYTES, &text, &len, err) < 0) return -1;
    json_t *doc = wb_toml_parse((const char *)text, len, err);
    free(text);
    if (!doc) return wb_error_wrap(err, "%s", path);
    int rc = parse_doc(doc, path, out, err);
    json_decref(doc);
    return rc;
}

/* ---- routes ---- */

static bool is_wildcard(const char *route, size_t *prefix_len) {
    size_t n = strlen(route);
    if (n >= 4 && !strcmp(route + n - 4, "/...")) {
        *prefix_len = n - 4;
        return true;
    }
    *prefix_len = n;
    return false;
}

bool wb_spin_route_match(const char *route, const char *path, const char **path_info,
                         wb_spin_pair *params, size_t max_params, size_t *nparams) {
    size_t rlen, np = 0;
    bool wildcard = is_wildcard(route, &rlen);
    const char *r = route, *rend = route + rlen, *pp = *path ? path : "/";
    if (rlen == 1) rend = route; /* the root "/" has no segments */
    bool ok = pp[0] == '/';
    /* the route's segments, one for one with the path's */
    while (ok && r < rend) {
        const char *rs = r + 1, *re = memchr(rs, '/', (size_t)(rend - rs));
        if (!re) re = rend;
        if (*pp != '/') {
            ok = false;
            break;
        }
        const char *ps = pp + 1, *pe = strchrnul(ps, '/');
        if (*rs == ':') {
            ok = pe > ps;
            if (ok && params && np < max_params) {
                params[np].key = wb_strndup(rs + 1, (size_t)(re - rs - 1));
                params[np].value = wb_strndup(ps, (size_t)(pe - ps));
            }
            if (ok) np++;
        } else {
            ok = pe - ps == re - rs && !memcmp(ps, rs, (size_t)(re - rs));
        }
        r = re;
        pp = pe;
    }
    const char *info = "";
    if (ok && wildcard) {
        ok = *pp == '\0' || *pp == '/';
        info = pp;
    } else if (ok) {
        /* an exact route tolerates one trailing '/' ("/" itself is the root's) */
        ok = *pp == '\0' || (pp[0] == '/' && pp[1] == '\0');
        info = pp + strlen(pp);
    }
    size_t stored = np < max_params ? np : max_params;
    if (!ok) {
        for (size_t i = 0; params && i < stored; i++) {
            free(params[i].key);
            free(params[i].value);
            params[i].key = params[i].value = NULL;
        }
        stored = 0;
    }
    if (nparams) *nparams = params ? stored : 0;
    if (path_info) *path_info = ok ? info : NULL;
    return ok;
}

enum route_kind { ROUTE_EXACT, ROUTE_PARAMS, ROUTE_WILDCARD };

static enum route_kind route_kind(const char *route, size_t *nsegments) {
    size_t len;
    bool wildcard = is_wildcard(route, &len);
    bool params = false;
    *nsegments = 0;
    for (size_t i = 0; i < len; i++) {
        if (route[i] != '/') continue;
        if (i + 1 < len) (*nsegments)++;
        if (route[i + 1] == ':') params = true;
    }
    return wildcard ? ROUTE_WILDCARD : params ? ROUTE_PARAMS : ROUTE_EXACT;
}

int wb_spin_route_compare(const char *a, const char *b) {
    size_t na, nb;
    enum route_kind ka = route_kind(a, &na), kb = route_kind(b, &nb);
    if (ka != kb) return ka < kb ? -1 : 1;
    if (na != nb) return na > nb ? -1 : 1;
    /* the same shape: the first segment where one is literal and the other a parameter */
    const char *sa = a, *sb = b;
    while (*sa && *sb) {
        bool pa = sa[0] == '/' && sa[1] == ':', pb = sb[0] == '/' && sb[1] == ':';
        if (pa != pb) return pa ? 1 : -1;
        sa = strchrnul(sa + 1, '/');
        sb = strchrnul(sb + 1, '/');
    }
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}
