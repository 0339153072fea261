/* compose/merge.c — the compose-spec merge of canonical models, `extends` and `profiles`
 * (merge.h). A merge walks the override keeping its YAML path, which names both the tags to look
 * up and the rule of the table below; it changes the base in place and takes deep copies of what
 * it keeps from the override, which it never changes. */
#include "compose/merge.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "compose/yaml.h"

/* ---- paths as yaml.h writes them, with their segments kept for the rule table ---- */

typedef struct path_seg {
    size_t text_len; /* length of the text before this segment was pushed */
    size_t key_at;   /* where the key starts in the text */
    size_t key_len;
    bool index; /* a sequence item, `[N]` */
} path_seg;

typedef struct merge_path {
    char *text; /* NUL-terminated */
    size_t len, cap;
    path_seg *segs;
    size_t n, segs_cap;
} merge_path;

static void path_init(merge_path *p) {
    *p = (merge_path){0};
    WB_VEC_RESERVE(p->text, p->cap, 64);
    p->text[0] = '\0';
}

static void path_release(merge_path *p) {
    free(p->text);
    free(p->segs);
}

static void path_append(merge_path *p, const char *s, size_t n) {
    WB_VEC_RESERVE(p->text, p->cap, p->len + n + 1);
    memcpy(p->text + p->len, s, n);
    p->len += n;
    p->text[p->len] = '\0';
}

static void path_push(merge_path *p, const char *key, bool index) {
    WB_VEC_RESERVE(p->segs, p->segs_cap, p->n + 1);
    path_seg *seg = &p->segs[p->n++];
    seg->text_len = p->len;
    seg->index = index;
    if (index) {
        path_append(p, "[", 1);
    } else if (p->len > 0) {
        path_append(p, ".", 1);
    }
    seg->key_at = p->len;
    seg->key_len = strlen(key);
    path_append(p, key, seg->key_len);
    if (index) path_append(p, "]", 1);
}

static void path_push_key(merge_path *p, const char *key) {
    path_push(p, key, false);
}

static void path_push_index(merge_path *p, size_t i) {
    char digits[24]; /* a size_t in decimal */
    snprintf(digits, sizeof digits, "%zu", i);
    path_push(p, digits, true);
}

static void path_pop(merge_path *p) {
    p->len = p->segs[--p->n].text_len;
    p->text[p->len] = '\0';
}

/* Does the path match `pattern`, keys joined by '.', where "*" is any one key? */
static bool path_matches(const merge_path *p, const char *pattern) {
    size_t i = 0;
    for (const char *s = pattern;; i++) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (i >= p->n || p->segs[i].index) return false;
        const path_seg *seg = &p->segs[i];
        bool any = n == 1 && s[0] == '*';
        if (!any && (n != seg->key_len || memcmp(s, p->text + seg->key_at, n) != 0)) return false;
        if (!dot) break;
        s = dot + 1;
    }
    return i + 1 == p->n;
}

/* ---- the rule table ---- */

typedef enum merge_kind {
    MERGE_DEFAULT,       /* mappings merge by key, each member recursively; sequences append */
    MERGE_REPLACE,       /* the override's value replaces the base's (null included) */
    MERGE_UNIQUE_BY,     /* append; an item `same` as one in the result replaces it in place */
    MERGE_UNIQUE_STRING, /* append the strings not already there (first place kept) */
    MERGE_BY_KEY,        /* a flat {KEY: scalar} map: the override's value for a key wins, null
                            included (environment's `KEY` alone is a value) */
    MERGE_LOGGING,       /* merged when the drivers agree (or one has none), else replaced */
} merge_kind;

typedef bool (*same_item_fn)(const json_t *a, const json_t *b);

typedef struct merge_rule {
    const char *pattern;
    merge_kind kind;
    same_item_fn same; /* MERGE_UNIQUE_BY */
} merge_rule;

/* Members equal, or both absent. */
static bool same_member(const json_t *a, const json_t *b, const char *key) {
    const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
    return x ? y && json_equal(x, y) : !y;
}

static bool same_port(const json_t *a, const json_t *b) {
    return json_is_object(a) && json_is_object(b) && same_member(a, b, "host_ip") &&
           same_member(a, b, "target") && same_member(a, b, "published") &&
           same_member(a, b, "protocol");
}

static bool same_string_member(const json_t *a, const json_t *b, const char *key) {
    const char *x = json_string_value(json_object_get(a, key));
    const char *y = json_string_value(json_object_get(b, key));
    return x && y && strcmp(x, y) == 0;
}

static bool same_target(const json_t *a, const json_t *b) {
    return same_string_member(a, b, "target");
}

static bool same_path(const json_t *a, const json_t *b) {
    return same_string_member(a, b, "path");
}

/* secrets and configs: by target, or by source for an item without one */
static const char *file_ref_key(const json_t *item) {
    const char *target = json_string_value(json_object_get(item, "target"));
    return target ? target : json_string_value(json_object_get(item, "source"));
}

static bool same_file_ref(const json_t *a, const json_t *b) {
    const char *x = file_ref_key(a), *y = file_ref_key(b);
    return x && y && strcmp(x, y) == 0;
}

static bool same_value(const json_t *a, const json_t *b) {
    return json_equal(a, b);
}

/* "KEY=VALUE" list items (a map kept in list form, as sysctls may be): by KEY */
static bool same_kv_key(const json_t *a, const json_t *b) {
    const char *x = json_string_value(a), *y = json_string_value(b);
    if (!x || !y) return false;
    size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
    return nx == ny && memcmp(x, y, nx) == 0;
}

static const merge_rule merge_rules[] = {
    {"services.*.command", MERGE_REPLACE, NULL},
    {"services.*.entrypoint", MERGE_REPLACE, NULL},
    {"services.*.healthcheck.test", MERGE_REPLACE, NULL},
    {"services.*.ports", MERGE_UNIQUE_BY, same_port},
    {"services.*.volumes", MERGE_UNIQUE_BY, same_target},
    {"services.*.secrets", MERGE_UNIQUE_BY, same_file_ref},
    {"services.*.configs", MERGE_UNIQUE_BY, same_file_ref},
    {"services.*.env_file", MERGE_UNIQUE_BY, same_path},
    {"services.*.expose", MERGE_UNIQUE_STRING, NULL},
    {"services.*.dns", MERGE_UNIQUE_STRING, NULL},
    {"services.*.dns_search", MERGE_UNIQUE_STRING, NULL},
    {"services.*.dns_opt", MERGE_UNIQUE_STRING, NULL},
    {"services.*.cap_add", MERGE_UNIQUE_STRING, NULL},
    {"services.*.cap_drop", MERGE_UNIQUE_STRING, NULL},
    {"services.*.security_opt", MERGE_UNIQUE_STRING, NULL},
    {"services.*.tmpfs", MERGE_UNIQUE_STRING, NULL},
    {"services.*.extra_hosts", MERGE_UNIQUE_STRING, NULL},
    {"services.*.profiles", MERGE_UNIQUE_STRING, NULL},
    {"services.*.devices", MERGE_UNIQUE_STRING, NULL},
    {"services.*.links", MERGE_UNIQUE_STRING, NULL},
    {"services.*.external_links", MERGE_UNIQUE_STRING, NULL},
    {"services.*.group_add", MERGE_UNIQUE_STRING, NULL},
    {"services.*.volumes_from", MERGE_UNIQUE_STRING, NULL},
    {"services.*.environment", MERGE_BY_KEY, NULL},
    {"services.*.labels", MERGE_BY_KEY, NULL},
    {"services.*.annotations", MERGE_BY_KEY, NULL},
    {"services.*.build.args", MERGE_BY_KEY, NULL},
    {"services.*.build.labels", MERGE_BY_KEY, NULL},
    {"services.*.deploy.labels", MERGE_BY_KEY, NULL},
    {"services.*.sysctls", MERGE_BY_KEY, NULL},
    {"networks.*.labels", MERGE_BY_KEY, NULL},
    {"volumes.*.labels", MERGE_BY_KEY, NULL},
    /* maps of objects: merged by key, each member recursively (a null member is no change) */
    {"services.*.networks", MERGE_DEFAULT, NULL},
    {"services.*.depends_on", MERGE_DEFAULT, NULL},
    {"services.*.ulimits", MERGE_DEFAULT, NULL},
    {"services.*.logging", MERGE_LOGGING, NULL},
};

static const merge_rule default_rule = {"", MERGE_DEFAULT, NULL};

static const merge_rule *rule_for(const merge_path *p) {
    for (size_t i = 0; i < sizeof merge_rules / sizeof merge_rules[0]; i++)
        if (path_matches(p, merge_rules[i].pattern)) return &merge_rules[i];
    return &default_rule;
}

/* ---- merging ---- */

typedef struct merge_ctx {
    wb_compose_tags_fn tags; /* NULL: no tags */
    void *tags_ctx;
    merge_path path; /* of the override node at hand */
    wb_error *err;
} merge_ctx;

static unsigned node_tags(merge_ctx *m) {
    return m->tags ? m->tags(m->tags_ctx, m->path.text) : 0;
}

/* A deep copy of the override's node at the current path, without the members and items the
 * override tags `!reset` (they are absent from the result even where the base had none). The
 * casts only let jansson's iterators read `v`. */
static json_t *copy_over(merge_ctx *m, const json_t *v) {
    if (!m->tags || !(json_is_object(v) || json_is_array(v))) return json_deep_copy(v);
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)v, key, member) {
            path_push_key(&m->path, key);
            if (!(node_tags(m) & WB_YAML_RESET))
                json_object_set_new(out, key, copy_over(m, member));
            path_pop(&m->path);
        }
        return out;
    }
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(v); i++) {
        path_push_index(&m->path, i);
        if (!(node_tags(m) & WB_YAML_RESET))
            json_array_append_new(out, copy_over(m, json_array_get(v, i)));
        path_pop(&m->path);
    }
    return out;
}

static int set_copy(merge_ctx *m, json_t *parent, const char *key, const json_t *over) {
    json_object_set_new(parent, key, copy_over(m, over));
    return 0;
}

static const char *shape_name(const json_t *v) {
    return json_is_object(v) ? "a mapping" : json_is_array(v) ? "a sequence" : "a scalar";
}

static int cannot_merge(merge_ctx *m, const json_t *base, const json_t *over) {
    return wb_error_set(m->err, EINVAL, "cannot merge %s: %s over %s", m->path.text,
                        shape_name(over), shape_name(base));
}

/* Append the override's items to `arr`; with `same`, an item `same` as one already in `arr`
 * replaces it in place instead (the override's own repeats included). */
static void append_items(merge_ctx *m, json_t *arr, const json_t *over, same_item_fn same) {
    for (size_t i = 0; i < json_array_size(over); i++) {
        path_push_index(&m->path, i);
        if (!(node_tags(m) & WB_YAML_RESET)) {
            json_t *item = copy_over(m, json_array_get(over, i));
            size_t at = json_array_size(arr);
            for (size_t j = 0; same && j < json_array_size(arr); j++) {
                if (same(json_array_get(arr, j), item)) {
                    at = j;
                    break;
                }
            }
            if (at < json_array_size(arr)) {
                json_array_set_new(arr, at, item);
            } else {
                json_array_append_new(arr, item);
            }
        }
        path_pop(&m->path);
    }
}

static int merge_object(merge_ctx *m, json_t *base, const json_t *over);

static int merge_default(merge_ctx *m, json_t *parent, const char *key, json_t *base,
                         const json_t *over) {
    if (json_is_null(over)) return 0;
    if (json_is_object(base) && json_is_object(over)) return merge_object(m, base, over);
    if (json_is_array(base) && json_is_array(over)) {
        append_items(m, base, over, NULL);
        return 0;
    }
    if (json_is_object(base) || json_is_array(base)) return cannot_merge(m, base, over);
    return set_copy(m, parent, key, over);
}

static int merge_unique(merge_ctx *m, json_t *parent, const char *key, json_t *base,
                        const json_t *over, same_item_fn same) {
    if (json_is_null(over)) return 0;
    if (json_is_null(base)) return set_copy(m, parent, key, over);
    if (!json_is_array(base) || !json_is_array(over)) return cannot_merge(m, base, over);
    append_items(m, base, over, same);
    return 0;
}

/* {K: V} of a "K=V" / "K" list; NULL if an item is not a string. */
static json_t *kv_list_to_object(const json_t *list) {
    json_t *out = json_object();
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *s = json_string_value(json_array_get(list, i));
        if (!s) {
            json_decref(out);
            return NULL;
        }
        const char *eq = strchr(s, '=');
        json_object_setn_new(out, s, eq ? (size_t)(eq - s) : strlen(s),
                             eq ? json_string(eq + 1) : json_null());
    }
    return out;
}

static int merge_members_by_key(merge_ctx *m, json_t *base, const json_t *over) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)over, k, v) {
        path_push_key(&m->path, k);
        if (node_tags(m) & WB_YAML_RESET) {
            json_object_del(base, k);
        } else {
            set_copy(m, base, k, v);
        }
        path_pop(&m->path);
    }
    return 0;
}

/* A flat map; either side may still be in "K=V" list form (sysctls are kept as written). */
static int merge_by_key(merge_ctx *m, json_t *parent, const char *key, json_t *base,
                        const json_t *over) {
    if (json_is_null(over)) return 0;
    if (json_is_null(base)) return set_copy(m, parent, key, over);
    if (json_is_array(base) && json_is_array(over)) {
        append_items(m, base, over, same_kv_key);
        return 0;
    }
    json_t *base_map = json_is_array(base) ? kv_list_to_object(base) : json_incref(base);
    json_t *over_map = json_is_array(over) ? kv_list_to_object(over) : json_incref((json_t *)over);
    int rc = -1;
    if (json_is_object(base_map) && json_is_object(over_map)) {
        if (base_map != base) json_object_set(parent, key, base_map);
        rc = merge_members_by_key(m, base_map, over_map);
    } else {
        cannot_merge(m, base, over);
    }
    json_decref(base_map);
    json_decref(over_map);
    return rc;
}

static int merge_logging(merge_ctx *m, json_t *parent, const char *key, json_t *base,
                         const json_t *over) {
    const json_t *base_driver = json_object_get(base, "driver");
    const json_t *over_driver = json_object_get(over, "driver");
    if (base_driver && over_driver && !json_equal(base_driver, over_driver))
        return set_copy(m, parent, key, over);
    return merge_default(m, parent, key, base, over);
}

/* The override's member `key` (the path names it) into `parent`, the base's mapping. */
static int merge_member(merge_ctx *m, json_t *parent, const char *key, const json_t *over) {
    unsigned tags = node_tags(m);
    if (tags & WB_YAML_RESET) {
        json_object_del(parent, key);
        return 0;
    }
    json_t *base = json_object_get(parent, key);
    if (!base || (tags & WB_YAML_OVERRIDE)) return set_copy(m, parent, key, over);
    const merge_rule *rule = rule_for(&m->path);
    switch (rule->kind) {
    case MERGE_REPLACE: return set_copy(m, parent, key, over);
    case MERGE_UNIQUE_BY: return merge_unique(m, parent, key, base, over, rule->same);
    case MERGE_UNIQUE_STRING: return merge_unique(m, parent, key, base, over, same_value);
    case MERGE_BY_KEY: return merge_by_key(m, parent, key, base, over);
    case MERGE_LOGGING: return merge_logging(m, parent, key, base, over);
    case MERGE_DEFAULT: break;
    }
    return merge_default(m, parent, key, base, over);
}

static int merge_object(merge_ctx *m, json_t *base, const json_t *over) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)over, k, v) {
        path_push_key(&m->path, k);
        int rc = merge_member(m, base, k, v);
        path_pop(&m->path);
        if (rc < 0) return -1;
    }
    return 0;
}

int wb_compose_merge(json_t *base, const json_t *over, wb_compose_tags_fn tags, void *tags_ctx,
                     wb_error *err) {
    if (!json_is_object(base) || !json_is_object(over))
        return wb_error_set(err, EINVAL, "cannot merge: a Compose model must be a mapping");
    merge_ctx m = {.tags = tags, .tags_ctx = tags_ctx, .err = err};
    path_init(&m.path);
    int rc = merge_object(&m, base, over);
    path_release(&m.path);
    return rc;
}

/* ---- extends ---- */

#define MAX_EXTENDS_DEPTH 64 /* services in one extends chain; compose has no limit */

typedef struct extends_link {
    const char *file, *service;
} extends_link;

typedef struct extends_run {
    wb_compose_load_fn load;
    void *load_ctx;
    wb_error *err;
    extends_link chain[MAX_EXTENDS_DEPTH]; /* the services being resolved, outermost first */
    size_t depth;
} extends_run;

/* `path` cleaned lexically as Go's filepath.Clean does (no "." or empty segments, ".." folded),
 * so that one file reached by two spellings is one link of a cycle. malloc'd. */
static char *clean_path(const char *path) {
    bool absolute = path[0] == '/';
    char *out = wb_malloc(strlen(path) + 2);
    size_t len = 0, floor = 0; /* ".." never removes out[0..floor) */
    if (absolute) out[len++] = '/', floor = 1;
    for (const char *s = path; *s;) {
        size_t n = strcspn(s, "/");
        bool dotdot = n == 2 && s[0] == '.' && s[1] == '.';
        if (dotdot && len > floor) {
            while (len > floor && out[len - 1] != '/') len--;
            if (len > floor) len--;
        } else if ((n > 0 && !(n == 1 && s[0] == '.')) && !(dotdot && absolute)) {
            if (len > 0 && out[len - 1] != '/') out[len++] = '/';
            memcpy(out + len, s, n);
            len += n;
            if (dotdot) floor = len;
        }
        s += n;
        if (*s == '/') s++;
    }
    if (len == 0) out[len++] = '.';
    out[len] = '\0';
    return out;
}

/* extends.file `rel` against the directory of `file`, cleaned; malloc'd. */
static char *extends_path(const char *file, const char *rel) {
    const char *slash = strrchr(file, '/');
    if (rel[0] == '/' || !slash) return clean_path(rel);
    char *joined = NULL;
    size_t len = 0;
    wb_appendf(&joined, &len, "%.*s/%s", (int)(slash - file), file, rel);
    char *clean = clean_path(joined);
    free(joined);
    return clean;
}

static int cycle_error(extends_run *r, const char *file, const char *service) {
    char *text = NULL;
    size_t len = 0;
    const char *root = r->chain[0].file;
    for (size_t i = 0; i <= r->depth; i++) {
        extends_link l = i < r->depth ? r->chain[i] : (extends_link){file, service};
        wb_appendf(&text, &len, "%s%s", i ? " extends " : "", l.service);
        if (strcmp(l.file, root) != 0) wb_appendf(&text, &len, " in %s", l.file);
    }
    wb_error_set(r->err, EINVAL, "Circular reference: %s", text);
    free(text);
    return -1;
}

static int enter_link(extends_run *r, const char *file, const char *service) {
    for (size_t i = 0; i < r->depth; i++)
        if (strcmp(r->chain[i].file, file) == 0 && strcmp(r->chain[i].service, service) == 0)
            return cycle_error(r, file, service);
    if (r->depth == MAX_EXTENDS_DEPTH)
        return wb_error_set(r->err, EINVAL, "service \"%s\": extends nested deeper than %d",
                            r->chain[0].service, MAX_EXTENDS_DEPTH);
    r->chain[r->depth++] = (extends_link){file, service};
    return 0;
}

/* `over` (a service; its `extends` is skipped) merged over `base` at services.NAME. */
static int merge_service(json_t *base, const json_t *over, const char *name, wb_error *err) {
    if (!json_is_object(base) || !json_is_object(over))
        return wb_error_set(err, EINVAL, "cannot extend service \"%s\": not a mapping", name);
    json_t *own = json_copy((json_t *)over); /* shallow: shares the members, changes none */
    json_object_del(own, "extends");
    merge_ctx m = {.err = err};
    path_init(&m.path);
    path_push_key(&m.path, "services");
    path_push_key(&m.path, name);
    int rc = merge_object(&m, base, own);
    path_release(&m.path);
    json_decref(own);
    return rc;
}

static int resolve_service(extends_run *r, const json_t *model, const char *file, const char *name,
                           json_t **out);

/* The service `name` of `file` (its `svc`) with its `extends` resolved into *out. */
static int extend_service(extends_run *r, const json_t *model, const char *file, const char *name,
                          const json_t *svc, json_t **out) {
    const json_t *ext = json_object_get(svc, "extends");
    const char *ref = json_is_string(ext) ? json_string_value(ext)
                                          : json_string_value(json_object_get(ext, "service"));
    const char *rel = json_string_value(json_object_get(ext, "file"));
    if (!ref)
        return wb_error_set(r->err, EINVAL, "%s: services.%s.extends.service must be a string",
                            file, name);
    if (rel && !r->load)
        return wb_error_set(r->err, EINVAL, "cannot extend service \"%s\" in %s: no loader for %s",
                            name, file, rel);
    char *other_path = rel ? extends_path(file, rel) : NULL;
    json_t *other = other_path ? r->load(r->load_ctx, other_path, r->err) : NULL;
    const json_t *from = other_path ? other : model;
    const char *from_file = other_path ? other_path : file;
    json_t *base = NULL;
    int rc = -1;
    if (other_path && !other) {
        wb_error_wrap(r->err, "cannot extend service \"%s\" in %s", name, file);
    } else if (!json_object_get(json_object_get(from, "services"), ref)) {
        wb_error_set(r->err, EINVAL, "cannot extend service \"%s\" in %s: service \"%s\" not found",
                     name, from_file, ref);
    } else if (resolve_service(r, from, from_file, ref, &base) == 0) {
        rc = merge_service(base, svc, name, r->err);
    }
    if (rc == 0) {
        *out = base;
    } else {
        json_decref(base);
    }
    json_decref(other);
    free(other_path);
    return rc;
}

/* The service `name` of `model` (read from `file`; the service must exist) with its extends
 * chain resolved: a new tree in *out. */
static int resolve_service(extends_run *r, const json_t *model, const char *file, const char *name,
                           json_t **out) {
    const json_t *svc = json_object_get(json_object_get(model, "services"), name);
    if (!json_object_get(svc, "extends")) {
        *out = json_deep_copy(svc);
        return 0;
    }
    if (enter_link(r, file, name) < 0) return -1;
    int rc = extend_service(r, model, file, name, svc, out);
    r->depth--;
    return rc;
}

int wb_compose_extends(json_t *model, const char *filename, wb_compose_load_fn load, void *load_ctx,
                       wb_error *err) {
    json_t *services = json_object_get(model, "services");
    const char *name;
    json_t *svc;
    json_object_foreach(services, name, svc) {
        if (!json_object_get(svc, "extends")) continue;
        extends_run r = {.load = load, .load_ctx = load_ctx, .err = err};
        json_t *resolved = NULL;
        if (resolve_service(&r, model, filename ? filename : "", name, &resolved) < 0) return -1;
        /* replacing the value of a present key keeps the iteration valid */
        json_object_set_new(services, name, resolved);
    }
    return 0;
}

/* ---- profiles ---- */

typedef struct name_list {
    const char **v;
    size_t n, cap;
} name_list;

static void name_list_add(name_list *l, const char *s) {
    WB_VEC_RESERVE(l->v, l->cap, l->n + 1);
    l->v[l->n++] = s;
}

static bool name_list_has(const name_list *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0) return true;
    return false;
}

static bool service_enabled(const char *name, const json_t *svc, const name_list *active,
                            const name_list *named) {
    const json_t *profiles = json_object_get(svc, "profiles");
    if (json_array_size(profiles) == 0 || name_list_has(named, name) || name_list_has(active, "*"))
        return true;
    for (size_t i = 0; i < json_array_size(profiles); i++) {
        const char *p = json_string_value(json_array_get(profiles, i));
        if (p && name_list_has(active, p)) return true;
    }
    return false;
}

/* Every depends_on entry of the enabled services names an enabled service, or is dropped when
 * not required. */
static int check_depends_on(json_t *services, wb_error *err) {
    const char *name, *dep;
    json_t *svc, *spec;
    void *tmp;
    json_object_foreach(services, name, svc) {
        json_t *deps = json_object_get(svc, "depends_on");
        json_object_foreach_safe(deps, tmp, dep, spec) {
            if (json_object_get(services, dep)) continue;
            if (json_is_false(json_object_get(spec, "required"))) {
                json_object_del(deps, dep);
                continue;
            }
            return wb_error_set(err, EINVAL,
                                "service \"%s\" depends on undefined service \"%s\": invalid "
                                "compose project",
                                name, dep);
        }
    }
    return 0;
}

int wb_compose_profiles(json_t *model, char *const *active, size_t n_active, char *const *named,
                        size_t n_named, wb_error *err) {
    json_t *services = json_object_get(model, "services");
    name_list on = {0}, targets = {0};
    int rc = 0;
    for (size_t i = 0; i < n_active; i++) name_list_add(&on, active[i]);
    for (size_t i = 0; i < n_named && rc == 0; i++) {
        const json_t *svc = json_object_get(services, named[i]);
        if (!svc) {
            rc = wb_error_set(err, EINVAL, "no such service: %s", named[i]);
            break;
        }
        name_list_add(&targets, named[i]);
        /* a targeted service's profiles become active (compose-spec profiles.md) */
        const json_t *profiles = json_object_get(svc, "profiles");
        for (size_t j = 0; j < json_array_size(profiles); j++) {
            const char *p = json_string_value(json_array_get(profiles, j));
            if (p) name_list_add(&on, p);
        }
    }
    if (rc == 0 && json_is_object(services)) {
        const char *name;
        json_t *svc;
        void *tmp;
        json_object_foreach_safe(services, tmp, name,
                                 svc) if (!service_enabled(name, svc, &on, &targets))
            json_object_del(services, name);
        rc = check_depends_on(services, err);
    }
    free(on.v);
    free(targets.v);
    return rc;
}
