/* OCI runtime bundles: config.json read, Wasm or Linux decided (see oci_spec.h). */
#include "runtime/oci_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/rootpath.h"

static char *opt_string(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? wb_strdup(s) : NULL;
}

/* A JSON array of strings as a NULL-terminated malloc'd array; -1 when it is not one. */
static int strings(const json_t *a, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!a) {
        *out = wb_calloc(1, sizeof **out);
        return 0;
    }
    if (!json_is_array(a)) return -1;
    char **v = wb_calloc(json_array_size(a) + 1, sizeof *v);
    size_t i;
    json_t *s;
    json_array_foreach(a, i, s) {
        if (!json_is_string(s)) {
            for (size_t k = 0; k < i; k++) free(v[k]);
            free(v);
            return -1;
        }
        v[i] = wb_strdup(json_string_value(s));
    }
    *out = v;
    *n = json_array_size(a);
    return 0;
}

static int load_process(const json_t *p, const char *file, wb_oci_spec *out, wb_error *err) {
    if (!json_is_object(p)) return wb_error_set(err, EINVAL, "%s: process must be an object", file);
    if (strings(json_object_get(p, "args"), &out->args, &out->nargs) < 0 || out->nargs == 0)
        return wb_error_set(err, EINVAL, "%s: process.args must be a non-empty array of strings",
                            file);
    if (strings(json_object_get(p, "env"), &out->env, &out->nenv) < 0)
        return wb_error_set(err, EINVAL, "%s: process.env must be an array of strings", file);
    out->cwd = opt_string(p, "cwd");
    if (!out->cwd) out->cwd = wb_strdup("/");
    out->terminal = json_is_true(json_object_get(p, "terminal"));
    json_t *user = json_object_get(p, "user");
    out->uid = (uint32_t)json_integer_value(json_object_get(user, "uid"));
    out->gid = (uint32_t)json_integer_value(json_object_get(user, "gid"));
    return 0;
}

static int load_mounts(const json_t *a, wb_oci_spec *out, wb_error *err) {
    size_t i;
    json_t *m;
    out->mounts = wb_calloc(json_array_size(a) + 1, sizeof *out->mounts);
    json_array_foreach(a, i, m) {
        wb_oci_mount *d = &out->mounts[out->nmounts];
        d->destination = opt_string(m, "destination");
        if (!d->destination)
            return wb_error_set(err, EINVAL, "config.json: mounts[%zu].destination is missing", i);
        d->type = opt_string(m, "type");
        d->source = opt_string(m, "source");
        out->nmounts++;
        if (strings(json_object_get(m, "options"), &d->options, &d->noptions) < 0)
            return wb_error_set(err, EINVAL, "config.json: mounts[%zu].options must be strings", i);
    }
    return 0;
}

static int load_linux(const json_t *l, wb_oci_spec *out) {
    json_t *ns = json_object_get(l, "namespaces");
    out->namespaces = wb_calloc(json_array_size(ns) + 1, sizeof *out->namespaces);
    size_t i;
    json_t *n;
    json_array_foreach(ns, i, n) {
        char *type = opt_string(n, "type");
        if (!type) continue;
        out->namespaces[out->nnamespaces].type = type;
        out->namespaces[out->nnamespaces].path = opt_string(n, "path");
        out->nnamespaces++;
    }
    out->cgroups_path = opt_string(l, "cgroupsPath");
    json_t *lim =
        json_object_get(json_object_get(json_object_get(l, "resources"), "memory"), "limit");
    if (json_is_integer(lim) && json_integer_value(lim) > 0)
        out->memory_limit = json_integer_value(lim);
    return 0;
}

int wb_oci_spec_load(const char *bundle, wb_oci_spec *out, wb_error *err) {
    memset(out, 0, sizeof *out);
    char abs[PATH_MAX], path[PATH_MAX + 16];
    if (!realpath(bundle, abs)) return wb_error_sys(err, "bundle %s", bundle);
    if (wb_path_join(path, sizeof path, err, "%s/config.json", abs) < 0) return -1;
    json_error_t je;
    out->doc = json_load_file(path, 0, &je);
    out->bundle = wb_strdup(abs);
    out->annotations = json_object();
    if (!out->doc) {
        int code = access(path, F_OK) == 0 ? EINVAL : ENOENT;
        return wb_error_set(err, code, "%s: %s", path, je.text);
    }
    if (load_process(json_object_get(out->doc, "process"), "config.json", out, err) < 0) return -1;
    json_t *root = json_object_get(out->doc, "root");
    const char *rp = json_string_value(json_object_get(root, "path"));
    if (!rp) return wb_error_set(err, EINVAL, "config.json: root.path is missing");
    char joined[PATH_MAX + 8];
    if (wb_path_join(joined, sizeof joined, err, "%s%s%s", rp[0] == '/' ? "" : abs,
                     rp[0] == '/' ? "" : "/", rp) < 0)
        return -1;
    out->root = wb_strdup(joined);
    out->root_readonly = json_is_true(json_object_get(root, "readonly"));
    out->hostname = opt_string(out->doc, "hostname");
    if (load_mounts(json_object_get(out->doc, "mounts"), out, err) < 0) return -1;
    load_linux(json_object_get(out->doc, "linux"), out);
    json_t *ann = json_object_get(out->doc, "annotations");
    if (json_is_object(ann)) {
        json_decref(out->annotations);
        out->annotations = json_incref(ann);
    }
    return 0;
}

int wb_oci_process_load(const char *path, wb_oci_spec *out, wb_error *err) {
    memset(out, 0, sizeof *out);
    out->annotations = json_object();
    json_error_t je;
    out->doc = json_load_file(path, 0, &je);
    if (!out->doc) return wb_error_set(err, EINVAL, "%s: %s", path, je.text);
    return load_process(out->doc, path, out, err);
}

int wb_oci_process_parse(const char *text, wb_oci_spec *out, wb_error *err) {
    memset(out, 0, sizeof *out);
    out->annotations = json_object();
    json_error_t je;
    out->doc = json_loads(text, 0, &je);
    if (!out->doc) return wb_error_set(err, EINVAL, "the process spec: %s", je.text);
    return load_process(out->doc, "the process spec", out, err);
}

void wb_oci_spec_free(wb_oci_spec *s) {
    for (size_t i = 0; i < s->nargs; i++) free(s->args[i]);
    free(s->args);
    for (size_t i = 0; i < s->nenv; i++) free(s->env[i]);
    free(s->env);
    for (size_t i = 0; i < s->nmounts; i++) {
        wb_oci_mount *m = &s->mounts[i];
        free(m->destination);
        free(m->type);
        free(m->source);
        for (size_t k = 0; k < m->noptions; k++) free(m->options[k]);
        free(m->options);
    }
    free(s->mounts);
    for (size_t i = 0; i < s->nnamespaces; i++) {
        free(s->namespaces[i].type);
        free(s->namespaces[i].path);
    }
    free(s->namespaces);
    free(s->bundle);
    free(s->root);
    free(s->cwd);
    free(s->hostname);
    free(s->cgroups_path);
    json_decref(s->annotations);
    json_decref(s->doc);
    memset(s, 0, sizeof *s);
}

const wb_oci_namespace *wb_oci_spec_namespace(const wb_oci_spec *s, const char *type) {
    for (size_t i = 0; i < s->nnamespaces; i++)
        if (!strcmp(s->namespaces[i].type, type)) return &s->namespaces[i];
    return NULL;
}

/* ---- Wasm or Linux ---- */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The first bytes of `path` inside the root (resolved in it): 1 ELF or "#!", 2 Wasm, 0 other,
 * -1 missing. */
static int magic_in_root(int root, const char *path) {
    int at = wb_root_open(root, path, WB_ROOT_ANY, false);
    if (at < 0) return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", at);
    int fd = open(proc, O_RDONLY | O_CLOEXEC);
    close(at);
    if (fd < 0) return 0;
    unsigned char b[4] = {0};
    ssize_t n = read(fd, b, 4);
    close(fd);
    if (n >= 4 && !memcmp(b, "\177ELF", 4)) return 1;
    if (n >= 2 && b[0] == '#' && b[1] == '!') return 1;
    if (n >= 4 && !memcmp(b, "\0asm", 4)) return 2;
    return 0;
}

/* args[0] as the process would find it: a path, or each PATH directory. */
static int classify(const wb_oci_spec *s) {
    int root = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return -1;
    const char *a0 = s->args[0];
    char path[PATH_MAX];
    int found = -1;
    if (strchr(a0, '/')) {
        snprintf(path, sizeof path, "%s%s%s", a0[0] == '/' ? "" : s->cwd, a0[0] == '/' ? "" : "/",
                 a0);
        found = magic_in_root(root, path);
    } else {
        const char *p = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (size_t i = 0; i < s->nenv; i++)
            if (!strncmp(s->env[i], "PATH=", 5)) p = s->env[i] + 5;
        while (found < 0 && *p) {
            const char *colon = strchr(p, ':');
            size_t len = colon ? (size_t)(colon - p) : strlen(p);
            snprintf(path, sizeof path, "%.*s/%s", (int)len, p, a0);
            found = magic_in_root(root, path);
            p += len + (colon ? 1 : 0);
        }
    }
    close(root);
    return found;
}

int wb_oci_spec_kind(const wb_oci_spec *s, bool prefer_wasm, wb_oci_kind *kind, wb_error *err) {
    const char *type =
        json_string_value(json_object_get(s->annotations, "io.kubernetes.cri.container-type"));
    const char *handler = json_string_value(json_object_get(s->annotations, "run.oci.handler"));
    const char *variant =
        json_string_value(json_object_get(s->annotations, "module.wasm.image/variant"));
    bool sandbox = type && !strcmp(type, "sandbox");
    bool wasm_name = ends_with(s->args[0], ".wasm") || ends_with(s->args[0], ".wat");
    if (!sandbox &&
        ((handler && !strcmp(handler, "wasm")) || (variant && !strcmp(variant, "compat")))) {
        *kind = WB_OCI_WASM;
        return 0;
    }
    if (!sandbox && wasm_name &&
        ((handler && !strcmp(handler, "wasm-smart")) ||
         (variant && !strcmp(variant, "compat-smart")))) {
        *kind = WB_OCI_WASM;
        return 0;
    }
    int c = sandbox ? 1 : classify(s);
    /* a command found nowhere (and not named as a module): run as a Linux container, whose
     * lookup fails as runc's does (`exec: "x": executable file not found in $PATH`, 127) */
    if (c == 1 || (c < 0 && !wasm_name) || (c == 0 && !prefer_wasm && !wasm_name)) {
        *kind = WB_OCI_LINUX;
        return 0;
    }
    if (c == 2 || (prefer_wasm && c == 0)) {
        *kind = WB_OCI_WASM;
        return 0;
    }
    return wb_error_set(err, ENOEXEC,
                        "cannot tell how to run %s: not a WebAssembly module nor a Linux "
                        "executable (%s)",
                        s->args[0], c < 0 ? "not found in the root" : "unknown format");
}
