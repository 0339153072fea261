/* Loading a Compose project: files, environment, interpolation, normal form, extends, merge,
 * profiles, completion (see model.h). */
#include "compose/model.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "compose/dotenv.h"
#include "compose/interp.h"
#include "compose/merge.h"
#include "compose/project.h"
#include "compose/yaml.h"

typedef struct loader {
    const wb_compose_opts *o;
    wb_dotenv env;   /* .env or --env-file, below the shell */
    json_t *unset;   /* names already warned about */
    json_t *extends; /* path -> model of files read for extends.file */
    const char *project_dir;
} loader;

static void warn(const loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const loader *l, const char *fmt, ...) {
    if (!l->o->warn) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    l->o->warn(l->o->warn_ctx, line);
}

/* The shell first, then the project's env file (Compose's precedence). */
static const char *lookup(void *ctx, const char *name) {
    const loader *l = ctx;
    const char *v = getenv(name);
    return v ? v : wb_dotenv_get(&l->env, name);
}

static void on_unset(void *ctx, const char *name) {
    loader *l = ctx;
    if (json_object_get(l->unset, name)) return;
    json_object_set_new(l->unset, name, json_true());
    warn(l, "The \"%s\" variable is not set. Defaulting to a blank string.", name);
}

static int load_env(loader *l, const char *project_dir, wb_error *err) {
    const wb_compose_opts *o = l->o;
    for (size_t i = 0; i < o->nenv_files; i++) {
        wb_dotenv one;
        /* each file sees the shell and what the files before it set */
        if (wb_dotenv_load(o->env_files[i], lookup, l, &one, err) < 0) return -1;
        for (size_t k = 0; k < one.n; k++) {
            size_t j = 0;
            while (j < l->env.n && strcmp(l->env.names[j], one.names[k]) != 0) j++;
            if (j == l->env.n) {
                l->env.names = wb_reallocarray(l->env.names, j + 1, sizeof *l->env.names);
                l->env.values = wb_reallocarray(l->env.values, j + 1, sizeof *l->env.values);
                l->env.names[j] = wb_strdup(one.names[k]);
                l->env.values[j] = NULL;
                l->env.n++;
            }
            free(l->env.values[j]);
            l->env.values[j] = wb_strdup(one.values[k]);
        }
        wb_dotenv_free(&one);
    }
    if (o->nenv_files) return 0;
    char path[PATH_MAX];
    if (wb_path_join(path, sizeof path, err, "%s/.env", project_dir) < 0) return -1;
    if (access(path, F_OK) != 0) return 0;
    return wb_dotenv_load(path, lookup, l, &l->env, err);
}

/* ---- reading one file ---- */

static int read_text(const loader *l, const char *path, char **text, size_t *len, wb_error *err) {
    for (size_t i = 0; l->o->texts && i < l->o->nfiles; i++) {
        if (strcmp(l->o->files[i], path) != 0) continue;
        *len = l->o->text_lens[i];
        *text = wb_malloc(*len + 1);
        memcpy(*text, l->o->texts[i], *len);
        (*text)[*len] = '\0';
        return 0;
    }
    if (strcmp(path, "-") != 0) {
        uint8_t *d;
        if (wb_read_file(path, WB_YAML_MAX_INPUT, &d, len, err) < 0) return -1;
        *text = (char *)d;
        return 0;
    }
    size_t cap = 1 << 16, n = 0;
    char *b = wb_malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= WB_YAML_MAX_INPUT) {
                free(b);
                return wb_error_set(err, EFBIG, "stdin: more than %u bytes", WB_YAML_MAX_INPUT);
            }
            cap *= 2;
            b = wb_realloc(b, cap);
        }
        ssize_t r = read(0, b + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            free(b);
            return wb_error_sys(err, "read stdin");
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *text = b;
    *len = n;
    return 0;
}

static void path_push(char **p, size_t *len, size_t at, const char *key, long index) {
    *len = at;
    if (key)
        wb_appendf(p, len, "%s%s", at ? "." : "", key);
    else
        wb_appendf(p, len, "[%ld]", index);
}

/* Interpolate every string value of v in place; keys stay as written. */
static int interpolate(loader *l, json_t *v, const char *file, const wb_yaml_doc *doc, char **path,
                       size_t plen, wb_error *err) {
    size_t len = plen;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            path_push(path, &len, plen, k, 0);
            if (interpolate(l, x, file, doc, path, len, err) < 0) return -1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            path_push(path, &len, plen, NULL, (long)i);
            if (interpolate(l, x, file, doc, path, len, err) < 0) return -1;
        }
    } else if (json_is_string(v) && strchr(json_string_value(v), '$')) {
        char *out;
        wb_error e;
        if (wb_interp(json_string_value(v), lookup, l, on_unset, &out, &e) < 0) {
            (*path)[plen] = '\0';
            int line = wb_yaml_line(doc, *path);
            if (line) return wb_error_set(err, e.code, "%s:%d: %s: %s", file, line, *path, e.msg);
            return wb_error_set(err, e.code, "%s: %s: %s", file, *path, e.msg);
        }
        json_string_set(v, out);
        free(out);
    }
    return 0;
}

typedef struct file_model {
    wb_yaml_doc *doc;
    json_t *model;
} file_model;

static unsigned tags_of(void *ctx, const char *path) {
    return wb_yaml_tags(ctx, path);
}

/* Read, parse, interpolate and normalise one file (its extends left as they are: merge.c
 * resolves a chain across files itself, and finds its cycles). */
static int load_file(loader *l, const char *path, const char *workdir, file_model *fm,
                     wb_error *err) {
    char *text = NULL;
    size_t len = 0;
    const char *shown = strcmp(path, "-") ? path : "stdin";
    memset(fm, 0, sizeof *fm);
    if (read_text(l, path, &text, &len, err) < 0) return -1;
    int rc = wb_yaml_load(text, len, shown, &fm->doc, err);
    free(text);
    if (rc < 0) return -1;
    json_t *root = wb_yaml_root(fm->doc); /* null for an empty file */
    if (!json_is_object(root) && !json_is_null(root))
        return wb_error_set(err, EINVAL, "%s: Top-level object must be a mapping", shown);
    char *p = wb_strdup("");
    rc = json_is_object(root) ? interpolate(l, root, shown, fm->doc, &p, 0, err) : 0;
    free(p);
    if (rc < 0) return -1;
    json_t *empty = json_object();
    rc = wb_compose_normalize(json_is_object(root) ? root : empty, fm->doc, shown, workdir,
                              l->o->warn, l->o->warn_ctx, &fm->model, err);
    json_decref(empty);
    return rc;
}

static void file_model_release(file_model *fm) {
    json_decref(fm->model);
    wb_yaml_free(fm->doc);
    memset(fm, 0, sizeof *fm);
}

static json_t *load_for_extends(void *ctx, const char *path, wb_error *err) {
    loader *l = ctx;
    json_t *m = json_object_get(l->extends, path);
    if (m) return json_incref(m);
    char dir[PATH_MAX];
    if (wb_path_join(dir, sizeof dir, err, "%s", path) < 0) return NULL;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, "/");
    file_model fm;
    int rc = load_file(l, path, dir, &fm, err);
    if (rc < 0) {
        file_model_release(&fm);
        return NULL;
    }
    m = json_incref(fm.model);
    json_object_set(l->extends, path, m);
    file_model_release(&fm);
    return m;
}

/* ---- completing the model ---- */

/* env_file entries into environment (the service's own keys win), then null values from the
 * environment. */
static int resolve_env(loader *l, const char *svc, json_t *s, wb_error *err) {
    json_t *files = json_object_get(s, "env_file");
    json_t *env = json_object_get(s, "environment");
    json_t *merged = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        const char *path = json_string_value(json_object_get(f, "path"));
        json_t *req = json_object_get(f, "required");
        wb_dotenv e;
        if (!path) continue;
        if (wb_dotenv_load(path, lookup, l, &e, err) < 0) {
            if (err->code == ENOENT && json_is_false(req)) continue;
            json_decref(merged);
            if (err->code == ENOENT)
                return wb_error_set(err, ENOENT,
                                    "env file %s not found: stat %s: no such file or "
                                    "directory",
                                    path, path);
            return wb_error_wrap(err, "service \"%s\"", svc);
        }
        for (size_t k = 0; k < e.n; k++)
            json_object_set_new(merged, e.names[k], json_string(e.values[k]));
        wb_dotenv_free(&e);
    }
    const char *k;
    json_t *v;
    json_object_foreach(env, k, v) json_object_set(merged, k, v);
    json_object_foreach(merged, k, v) {
        if (!json_is_null(v)) continue;
        const char *from = lookup(l, k);
        if (from) json_object_set_new(merged, k, json_string(from));
    }
    json_object_del(s, "env_file");
    if (json_object_size(merged) || env)
        json_object_set_new(s, "environment", merged);
    else
        json_decref(merged);
    return 0;
}

static void name_resources(json_t *model, const char *section, const char *project) {
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(model, section), k, v) {
        if (json_is_string(json_object_get(v, "name"))) continue;
        if (json_is_true(json_object_get(v, "external"))) {
            json_object_set_new(v, "name", json_string(k));
            continue;
        }
        char *n = NULL;
        size_t len = 0;
        wb_appendf(&n, &len, "%s_%s", project, k);
        json_object_set_new(v, "name", json_string(n));
        free(n);
    }
}

static json_t *section(json_t *model, const char *key) {
    json_t *s = json_object_get(model, key);
    if (!json_is_object(s)) {
        s = json_object();
        json_object_set_new(model, key, s);
    }
    return s;
}

static int check_service(const char *name, json_t *s, json_t *model, wb_error *err) {
    if (!json_object_get(s, "image") && !json_object_get(s, "build"))
        return wb_error_set(err, EINVAL,
                            "service \"%s\" has neither an image nor a build context specified: "
                            "invalid compose project",
                            name);
    json_t *nets = section(model, "networks"), *vols = section(model, "volumes");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(s, "networks"), k, v) {
        if (!json_object_get(nets, k))
            return wb_error_set(err, EINVAL,
                                "service \"%s\" refers to undefined network %s: invalid compose "
                                "project",
                                name, k);
    }
    size_t i;
    json_array_foreach(json_object_get(s, "volumes"), i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *src = json_string_value(json_object_get(v, "source"));
        if (type && !strcmp(type, "volume") && src && *src && !json_object_get(vols, src))
            return wb_error_set(err, EINVAL,
                                "service \"%s\" refers to undefined volume %s: invalid compose "
                                "project",
                                name, src);
    }
    json_object_foreach(json_object_get(s, "depends_on"), k, v) {
        if (!json_object_get(json_object_get(model, "services"), k))
            return wb_error_set(err, EINVAL,
                                "service \"%s\" depends on undefined service \"%s\": invalid "
                                "compose project",
                                name, k);
    }
    return 0;
}

/* The model's keys in `config`'s order: name, services, networks, volumes, configs, secrets,
 * then the rest (x-*). */
static void order_keys(json_t *model) {
    static const char *const first[] = {"name",    "services", "networks",
                                        "volumes", "configs",  "secrets"};
    json_t *copy = json_copy(model);
    json_object_clear(model);
    for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
        json_t *v = json_object_get(copy, first[i]);
        if (v) json_object_set(model, first[i], v);
    }
    const char *k;
    json_t *v;
    json_object_foreach(copy, k, v) if (!json_object_get(model, k)) json_object_set(model, k, v);
    json_decref(copy);
}

static int complete(loader *l, json_t *model, const char *project, wb_error *err) {
    json_object_set_new(model, "name", json_string(project));
    json_t *services = section(model, "services");
    bool wants_default = false;
    const char *name;
    json_t *s;
    json_object_foreach(services, name, s) {
        if (resolve_env(l, name, s, err) < 0) return -1;
        json_t *build = json_object_get(s, "build");
        if (json_is_object(build) && !json_object_get(build, "context"))
            json_object_set_new(build, "context", json_string(l->project_dir));
        if (json_object_get(s, "network_mode")) continue;
        if (!json_object_size(json_object_get(s, "networks"))) {
            json_object_set_new(s, "networks", json_pack("{s:n}", "default"));
            wants_default = true;
        } else if (json_object_get(json_object_get(s, "networks"), "default")) {
            wants_default = true;
        }
    }
    json_t *nets = section(model, "networks");
    if (wants_default && !json_object_get(nets, "default"))
        json_object_set_new(nets, "default", json_object());
    name_resources(model, "networks", project);
    name_resources(model, "volumes", project);
    section(model, "volumes");
    json_object_foreach(services, name, s) {
        if (check_service(name, s, model, err) < 0) return -1;
    }
    /* empty top-level sections are left out, as `config` shows them */
    const char *keys[] = {"networks", "volumes", "configs", "secrets"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *x = json_object_get(model, keys[i]);
        if (x && !json_object_size(x)) json_object_del(model, keys[i]);
    }
    order_keys(model);
    return 0;
}

static char **split_commas(const char *s, size_t *n) {
    char **v = NULL;
    *n = 0;
    char *copy = wb_strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        if (!*t) continue;
        v = wb_reallocarray(v, *n + 1, sizeof *v);
        v[(*n)++] = wb_strdup(t);
    }
    free(copy);
    return v;
}

static int apply_profiles(loader *l, json_t *model, wb_error *err) {
    const wb_compose_opts *o = l->o;
    if (o->all_profiles) {
        char *all[] = {"*"};
        return wb_compose_profiles(model, all, 1, o->services, o->nservices, err);
    }
    if (o->nprofiles)
        return wb_compose_profiles(model, o->profiles, o->nprofiles, o->services, o->nservices,
                                   err);
    size_t n = 0;
    const char *env = lookup(l, "COMPOSE_PROFILES");
    char **active = env ? split_commas(env, &n) : NULL;
    int rc = wb_compose_profiles(model, active, n, o->services, o->nservices, err);
    for (size_t i = 0; i < n; i++) free(active[i]);
    free(active);
    return rc;
}

static int load_all(loader *l, const wb_compose_files *f, json_t **model, wb_error *err) {
    json_t *merged = NULL;
    for (size_t i = 0; i < f->n; i++) {
        file_model fm;
        /* stdin's extends.file values start from the project directory */
        char *name = NULL;
        size_t len = 0;
        if (strcmp(f->paths[i], "-") != 0)
            wb_appendf(&name, &len, "%s", f->paths[i]);
        else
            wb_appendf(&name, &len, "%s/stdin", strcmp(f->project_dir, "/") ? f->project_dir : "");
        int rc = load_file(l, f->paths[i], f->project_dir, &fm, err);
        if (rc == 0) rc = wb_compose_extends(fm.model, name, load_for_extends, l, err);
        free(name);
        if (rc < 0) {
            file_model_release(&fm);
            json_decref(merged);
            return -1;
        }
        /* the first file too is merged (into nothing), so that its `!reset` keys go as
         * compose-go drops them */
        if (!merged) merged = json_object();
        if (wb_compose_merge(merged, fm.model, tags_of, fm.doc, err) < 0) {
            file_model_release(&fm);
            json_decref(merged);
            return -1;
        }
        file_model_release(&fm);
    }
    *model = merged;
    return 0;
}

int wb_compose_load(const wb_compose_opts *o, wb_compose_project **out, wb_error *err) {
    wb_compose_files f = {0};
    loader l = {.o = o, .unset = json_object(), .extends = json_object()};
    json_t *model = NULL;
    char *name = NULL;
    int rc = -1;
    *out = NULL;
    if (o->texts && !o->nfiles) {
        wb_error_set(err, ENOENT, "no configuration file provided: not found");
        goto out;
    } else if (o->texts) {
        f.paths = wb_calloc(o->nfiles + 1, sizeof *f.paths);
        for (size_t i = 0; i < o->nfiles; i++) f.paths[f.n++] = wb_strdup(o->files[i]);
        f.project_dir = wb_strdup(o->project_dir ? o->project_dir : "/");
    } else if (wb_compose_find_files(o->project_dir, o->files, o->nfiles, &f, err) < 0) {
        goto out;
    }
    if (f.warning) warn(&l, "%s", f.warning);
    l.project_dir = f.project_dir;
    if (load_env(&l, f.project_dir, err) < 0) goto out;
    if (load_all(&l, &f, &model, err) < 0) goto out;
    const char *env_name = lookup(&l, "COMPOSE_PROJECT_NAME");
    if (wb_compose_project_name(o->project_name, env_name,
                                json_string_value(json_object_get(model, "name")), f.project_dir,
                                &name, err) < 0)
        goto out;
    if (apply_profiles(&l, model, err) < 0) goto out;
    if (complete(&l, model, name, err) < 0) goto out;
    wb_compose_project *p = wb_calloc(1, sizeof *p);
    p->name = name;
    name = NULL;
    p->dir = f.project_dir;
    f.project_dir = NULL;
    p->files = f.paths;
    p->nfiles = f.n;
    f.paths = NULL;
    f.n = 0;
    p->model = model;
    model = NULL;
    *out = p;
    rc = 0;
out:
    free(name);
    json_decref(model);
    wb_compose_files_free(&f);
    wb_dotenv_free(&l.env);
    json_decref(l.unset);
    json_decref(l.extends);
    return rc;
}

void wb_compose_project_free(wb_compose_project *p) {
    if (!p) return;
    free(p->name);
    free(p->dir);
    for (size_t i = 0; i < p->nfiles; i++) free(p->files[i]);
    free(p->files);
    json_decref(p->model);
    free(p);
}

/* ---- dependency order ---- */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int visit(const json_t *services, const char *name, json_t *state, const char **order,
                 size_t *n, char **trail, size_t *tlen, wb_error *err) {
    json_t *st = json_object_get(state, name);
    if (st && json_integer_value(st) == 2) return 0;
    size_t at = *tlen;
    wb_appendf(trail, tlen, "%s%s", at ? " -> " : "", name);
    if (st) return wb_error_set(err, ELOOP, "dependency cycle detected: %s", *trail);
    json_object_set_new(state, name, json_integer(1));
    const json_t *deps = json_object_get(json_object_get(services, name), "depends_on");
    const char **keys = wb_calloc(json_object_size(deps) + 1, sizeof *keys);
    size_t nk = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)deps, k, v) keys[nk++] = k;
    qsort(keys, nk, sizeof *keys, cmp_str);
    for (size_t i = 0; i < nk; i++) {
        if (!json_object_get(services, keys[i])) continue; /* dropped (required: false) */
        if (visit(services, keys[i], state, order, n, trail, tlen, err) < 0) {
            free(keys);
            return -1;
        }
    }
    free(keys);
    json_object_set_new(state, name, json_integer(2));
    order[(*n)++] = json_object_iter_key(json_object_iter_at((json_t *)services, name));
    *tlen = at;
    (*trail)[at] = '\0';
    return 0;
}

const char **wb_compose_service_order(const json_t *model, wb_error *err) {
    const json_t *services = json_object_get(model, "services");
    size_t total = json_object_size(services);
    const char **names = wb_calloc(total + 1, sizeof *names);
    const char **order = wb_calloc(total + 1, sizeof *order);
    size_t nn = 0, n = 0, tlen = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)services, k, v) names[nn++] = k;
    qsort(names, nn, sizeof *names, cmp_str);
    json_t *state = json_object();
    char *trail = wb_strdup("");
    int rc = 0;
    for (size_t i = 0; i < nn && rc == 0; i++)
        rc = visit(services, names[i], state, order, &n, &trail, &tlen, err);
    free(trail);
    free(names);
    json_decref(state);
    if (rc < 0) {
        free(order);
        return NULL;
    }
    return order;
}
