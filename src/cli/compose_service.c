/* A Compose service as the options of `run` (run_opts.h): what `compose up/create/run` hands to
 * the same code that makes `wasmbox run` containers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "cli/cli.h"
#include "cli/compose_service.h"
#include "compose/normalize.h"
#include "compose/plan.h"

static void push(char ***arr, int *n, const char *s) {
    *arr = wb_reallocarray(*arr, (size_t)*n + 2, sizeof **arr);
    (*arr)[(*n)++] = wb_strdup(s);
    (*arr)[*n] = NULL;
}

static void push_list(char ***arr, int *n, const json_t *list) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (json_is_string(v)) push(arr, n, json_string_value(v));
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0) s = NULL;
    va_end(ap);
    if (!s) abort();
    return s;
}

static const char *sget(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* A list of strings borrowed from the model, as a NULL-terminated array the caller frees. */
static char **borrow(const json_t *list, int *n) {
    char **v = wb_calloc(json_array_size(list) + 1, sizeof *v);
    *n = 0;
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) if (json_is_string(s)) v[(*n)++] = (char *)json_string_value(s);
    return v;
}

static long long duration_ns(const json_t *svc_hc, const char *key) {
    const char *s = sget(svc_hc, key);
    long long ns;
    return s && wb_compose_parse_duration(s, &ns) == 0 ? ns : 0;
}

static json_t *healthcheck(const json_t *hc) {
    if (!hc) return NULL;
    if (json_is_true(json_object_get(hc, "disable"))) return json_pack("{s:[s]}", "Test", "NONE");
    json_t *test = json_object_get(hc, "test");
    if (!test) return NULL;
    json_t *out = json_pack("{s:O}", "Test", test);
    static const struct {
        const char *from, *to;
    } durs[] = {{"interval", "Interval"},
                {"timeout", "Timeout"},
                {"start_period", "StartPeriod"},
                {"start_interval", "StartInterval"}};
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        long long ns = duration_ns(hc, durs[i].from);
        if (ns) json_object_set_new(out, durs[i].to, json_integer(ns));
    }
    json_t *r = json_object_get(hc, "retries");
    if (json_is_integer(r)) json_object_set_new(out, "Retries", r ? json_incref(r) : NULL);
    return out;
}

static void volumes(compose_service_opts *so, const json_t *model, const json_t *svc) {
    wb_run_opts *o = &so->o;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(svc, "volumes"), i, v) {
        const char *type = sget(v, "type"), *src = sget(v, "source"), *dst = sget(v, "target");
        bool ro = json_is_true(json_object_get(v, "read_only"));
        if (!type || !dst) continue;
        char *spec = NULL;
        if (!strcmp(type, "bind") && src) {
            struct stat st;
            json_t *create = json_object_get(json_object_get(v, "bind"), "create_host_path");
            if (stat(src, &st) != 0 && !json_is_false(create)) wb_mkdir_p(src, 0755, NULL);
            spec = fmt("%s:%s%s", src, dst, ro ? ":ro" : "");
        } else if (!strcmp(type, "volume") && src && *src) {
            const char *name =
                sget(json_object_get(json_object_get(model, "volumes"), src), "name");
            spec = fmt("%s:%s%s", name ? name : src, dst, ro ? ":ro" : "");
        } else if (!strcmp(type, "volume")) {
            spec = fmt("%s", dst);
        } else if (!strcmp(type, "tmpfs")) {
            json_t *size = json_object_get(json_object_get(v, "tmpfs"), "size");
            char *t = json_is_integer(size)
                          ? fmt("%s:size=%lld", dst, (long long)json_integer_value(size))
                          : fmt("%s", dst);
            push(&o->tmpfs, &o->ntmpfs, t);
            free(t);
            continue;
        } else {
            continue; /* npipe, image, cluster: refused by the caller's check */
        }
        push(&o->volumes, &o->nvolumes, spec);
        free(spec);
    }
}

static void ports(wb_run_opts *o, const json_t *svc) {
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(svc, "ports"), i, p) {
        const char *ip = sget(p, "host_ip"), *pub = sget(p, "published");
        const char *proto = sget(p, "protocol");
        long long target = json_integer_value(json_object_get(p, "target"));
        char *s = fmt("%s%s%s%s%lld/%s", ip && *ip ? ip : "", ip && *ip ? ":" : "",
                      pub && *pub ? pub : "", (pub && *pub) || (ip && *ip) ? ":" : "", target,
                      proto ? proto : "tcp");
        push(&o->publish, &o->npublish, s);
        free(s);
    }
}

static void labels(compose_service_opts *so, const compose_service_ctx *x, const char *hash) {
    wb_run_opts *o = &so->o;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(x->svc, "labels"), k, v) {
        char *s = fmt("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
        push(&o->labels, &o->nlabels, s);
        free(s);
    }
    char *files = NULL;
    size_t flen = 0;
    for (size_t i = 0; i < x->p->nfiles; i++)
        wb_appendf(&files, &flen, "%s%s", i ? "," : "", x->p->files[i]);
    struct {
        const char *k;
        char *v;
    } ours[] = {
        {WB_COMPOSE_LABEL_PROJECT, fmt("%s", x->p->name)},
        {WB_COMPOSE_LABEL_SERVICE, fmt("%s", x->service)},
        {WB_COMPOSE_LABEL_NUMBER, fmt("%d", x->number)},
        {WB_COMPOSE_LABEL_HASH, fmt("%s", hash)},
        {WB_COMPOSE_LABEL_ONEOFF, fmt("%s", x->oneoff ? "True" : "False")},
        {WB_COMPOSE_LABEL_WORKDIR, fmt("%s", x->p->dir)},
        {WB_COMPOSE_LABEL_FILES, files ? files : fmt("%s", "")},
        {WB_COMPOSE_LABEL_VERSION, fmt("%s", WB_COMPOSE_VERSION)},
    };
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        char *s = fmt("%s=%s", ours[i].k, ours[i].v);
        push(&o->labels, &o->nlabels, s);
        free(s);
        free(ours[i].v);
    }
}

/* The service's networks, primary first (Compose: by priority, then name). */
static int networks(compose_service_opts *so, const compose_service_ctx *x, wb_error *err) {
    wb_run_opts *o = &so->o;
    const json_t *svc = x->svc;
    const char *mode = sget(svc, "network_mode");
    if (mode) {
        if (!strncmp(mode, "service:", 8)) {
            so->network_mode = wb_compose_container_name(
                x->p->name, mode + 8,
                json_object_get(json_object_get(x->p->model, "services"), mode + 8), 1);
            char *m = fmt("container:%s", so->network_mode);
            free(so->network_mode);
            so->network_mode = m;
        } else {
            so->network_mode = wb_strdup(mode);
        }
        o->network = so->network_mode;
        return 0;
    }
    json_t *nets = json_object_get(svc, "networks");
    json_t *top = json_object_get(x->p->model, "networks");
    const char *best = NULL;
    long long best_prio = 0;
    const char *k;
    json_t *v;
    json_object_foreach(nets, k, v) {
        long long prio = json_integer_value(json_object_get(v, "priority"));
        if (!best || prio > best_prio || (prio == best_prio && strcmp(k, best) < 0)) {
            best = k;
            best_prio = prio;
        }
    }
    if (!best) return wb_error_set(err, EINVAL, "service \"%s\" has no network", x->service);
    so->endpoints = json_object();
    json_object_foreach(nets, k, v) {
        const char *name = sget(json_object_get(top, k), "name");
        if (!name) return wb_error_set(err, EINVAL, "network %s is not declared", k);
        json_t *aliases = json_array();
        if (!x->oneoff || x->use_aliases) json_array_append_new(aliases, json_string(x->service));
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(v, "aliases"), i, a) json_array_append(aliases, a);
        json_t *ep = json_pack("{s:o}", "Aliases", aliases);
        const char *ip = sget(v, "ipv4_address");
        if (ip) json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", ip));
        json_object_set_new(so->endpoints, name, ep);
        if (!strcmp(k, best))
            o->network = json_string_value(json_object_get(json_object_get(top, k), "name"));
    }
    o->endpoints = so->endpoints;
    return 0;
}

/* The content of a top-level secret or config: its file, its `content`, or the variable its
 * `environment` names. malloc'd, *len set; NULL with err. */
static char *file_content(const json_t *def, const char *what, const char *name, size_t *len,
                          wb_error *err) {
    const char *file = sget(def, "file"), *content = sget(def, "content");
    const char *env = sget(def, "environment");
    if (json_is_true(json_object_get(def, "external"))) {
        wb_error_set(err, ENOTSUP,
                     "%s \"%s\" is external: only file, content and environment "
                     "%ss are supported (there is no swarm)",
                     what, name, what);
        return NULL;
    }
    if (file) {
        uint8_t *d;
        if (wb_read_file(file, 16u << 20, &d, len, err) < 0) {
            wb_error_wrap(err, "%s \"%s\": ", what, name);
            return NULL;
        }
        return (char *)d;
    }
    const char *v = content ? content : env ? getenv(env) : NULL;
    if (!v) {
        wb_error_set(err, EINVAL, "%s \"%s\" has no file, content or set environment variable",
                     what, name);
        return NULL;
    }
    *len = strlen(v);
    return wb_strdup(v);
}

static bool one_component(const char *s) {
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* secrets (at /run/secrets/NAME, a directory of their own, read-only) and configs (at /NAME or
 * their target, each file mounted read-only): written under ROOT/compose/<project>/<container>/
 * (removed by `down`). A Wasm service sees directories only: its configs need a target in a
 * directory of theirs, which `run` checks. */
static int secrets_and_configs(compose_service_opts *so, const compose_service_ctx *x,
                               const char *container, wb_error *err) {
    static const struct {
        const char *key, *what, *dir;
    } kinds[] = {{"secrets", "secret", "/run/secrets"}, {"configs", "config", ""}};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *ref;
        bool dir_mounted = false;
        json_array_foreach(json_object_get(x->svc, kinds[k].key), i, ref) {
            const char *src = sget(ref, "source"), *target = sget(ref, "target");
            const json_t *def = json_object_get(json_object_get(x->p->model, kinds[k].key), src);
            if (!src || !def)
                return wb_error_set(err, EINVAL, "service \"%s\" refers to undefined %s %s",
                                    x->service, kinds[k].what, src ? src : "");
            size_t len;
            const char *leaf = target && target[0] != '/' ? target : src;
            /* one file name under the container's own directory: nothing may lead out of it */
            if (!one_component(leaf) || !one_component(container))
                return wb_error_set(err, EINVAL,
                                    "service \"%s\": %s \"%s\": the file name must be one path "
                                    "component (no '/', not . or ..)",
                                    x->service, kinds[k].what, leaf);
            char *data = file_content(def, kinds[k].what, src, &len, err);
            if (!data) return -1;
            char dir[4096], path[4200];
            int rc = wb_path_join(dir, sizeof dir, err, "%s/compose/%s/%s/%s", wb_cli_root(),
                                  x->p->name, container, kinds[k].key);
            if (rc == 0) rc = wb_mkdir_p(dir, 0700, err);
            if (rc == 0) rc = wb_path_join(path, sizeof path, err, "%s/%s", dir, leaf);
            if (rc == 0) rc = wb_write_file_atomic(path, data, len, 0444, false, err);
            free(data);
            if (rc < 0) return -1;
            char *spec;
            if (k == 0 && !(target && target[0] == '/')) { /* one directory for all secrets */
                if (dir_mounted) continue;
                dir_mounted = true;
                spec = fmt("%s:%s:ro", dir, kinds[k].dir);
            } else {
                spec = fmt("%s:%s%s:ro", path, target && target[0] == '/' ? "" : "/",
                           target ? target : src);
            }
            push(&so->o.volumes, &so->o.nvolumes, spec);
            free(spec);
        }
    }
    return 0;
}

static void limits(wb_run_opts *o, const json_t *svc) {
    const json_t *lim =
        json_object_get(json_object_get(json_object_get(svc, "deploy"), "resources"), "limits");
    json_t *mem = json_object_get(lim, "memory");
    if (!json_is_integer(mem)) mem = json_object_get(svc, "mem_limit");
    if (json_is_integer(mem)) o->memory = (uint64_t)json_integer_value(mem);
    json_t *cpus = json_object_get(lim, "cpus");
    double c = 0;
    if (json_is_string(cpus))
        c = strtod(json_string_value(cpus), NULL);
    else if (json_is_number(json_object_get(svc, "cpus")))
        c = json_number_value(json_object_get(svc, "cpus"));
    else if (json_is_string(json_object_get(svc, "cpus")))
        c = strtod(sget(svc, "cpus"), NULL);
    if (c > 0) o->nano_cpus = (int64_t)(c * 1e9);
    json_t *pids = json_object_get(lim, "pids");
    if (!json_is_integer(pids)) pids = json_object_get(svc, "pids_limit");
    if (json_is_integer(pids)) o->pids_limit = json_integer_value(pids);
    json_t *swap = json_object_get(svc, "memswap_limit");
    if (json_is_integer(swap)) o->memory_swap = json_integer_value(swap);
    json_t *shares = json_object_get(svc, "cpu_shares");
    if (json_is_integer(shares)) o->cpu_shares = json_integer_value(shares);
    json_t *shm = json_object_get(svc, "shm_size");
    if (json_is_integer(shm)) o->shm_size = (uint64_t)json_integer_value(shm);
}

static void linux_options(wb_run_opts *o, const json_t *svc) {
    push_list(&o->cap_add, &o->ncap_add, json_object_get(svc, "cap_add"));
    push_list(&o->cap_drop, &o->ncap_drop, json_object_get(svc, "cap_drop"));
    push_list(&o->security_opt, &o->nsecurity_opt, json_object_get(svc, "security_opt"));
    push_list(&o->add_hosts, &o->nadd_hosts, json_object_get(svc, "extra_hosts"));
    push_list(&o->dns, &o->ndns, json_object_get(svc, "dns"));
    push_list(&o->dns_search, &o->ndns_search, json_object_get(svc, "dns_search"));
    push_list(&o->dns_options, &o->ndns_options, json_object_get(svc, "dns_opt"));
    push_list(&o->tmpfs, &o->ntmpfs, json_object_get(svc, "tmpfs"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(svc, "ulimits"), k, v) {
        char *s = fmt("%s=%lld:%lld", k, (long long)json_integer_value(json_object_get(v, "soft")),
                      (long long)json_integer_value(json_object_get(v, "hard")));
        push(&o->ulimits, &o->nulimits, s);
        free(s);
    }
    o->privileged = json_is_true(json_object_get(svc, "privileged"));
    o->init = json_is_true(json_object_get(svc, "init"));
    o->read_only = json_is_true(json_object_get(svc, "read_only"));
}

int compose_service_opts_make(compose_service_opts *so, const compose_service_ctx *x,
                              wb_error *err) {
    memset(so, 0, sizeof *so);
    wb_run_opts *o = &so->o;
    o->fuel = -1;
    o->stop_timeout = -1;
    const json_t *svc = x->svc;
    char hash[65];
    if (wb_compose_config_hash(svc, hash, err) < 0) return -1;
    memcpy(so->hash, hash, sizeof hash);
    so->image = wb_compose_image_name(x->p->name, x->service, svc);
    so->name = x->name ? wb_strdup(x->name)
                       : wb_compose_container_name(x->p->name, x->service, svc, x->number);
    o->path = so->image;
    o->name = so->name;
    o->pull = "never"; /* `up` pulled or built it before */
    o->create_only = true;
    o->quiet = true;
    o->created_id = so->id;
    const json_t *cmd = x->command ? x->command : json_object_get(svc, "command");
    if (json_is_array(cmd)) {
        so->args = borrow(cmd, &o->nargs);
        o->args = so->args;
    }
    const json_t *ep = x->entrypoint ? x->entrypoint : json_object_get(svc, "entrypoint");
    if (json_is_array(ep)) {
        so->entrypoint = borrow(ep, &o->nentrypoint_argv);
        o->entrypoint_argv = so->entrypoint;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(svc, "environment"), k, v) {
        if (!json_is_string(v)) continue;
        char *s = fmt("%s=%s", k, json_string_value(v));
        push(&o->env, &o->nenv, s);
        free(s);
    }
    for (size_t i = 0; i < x->nextra_env; i++) push(&o->env, &o->nenv, x->extra_env[i]);
    volumes(so, x->p->model, svc);
    if (!x->oneoff || x->service_ports) ports(o, svc);
    labels(so, x, hash);
    if (networks(so, x, err) < 0) return -1;
    if (secrets_and_configs(so, x, so->name, err) < 0) return -1;
    limits(o, svc);
    linux_options(o, svc);
    o->hostname = sget(svc, "hostname");
    o->user = x->user ? x->user : sget(svc, "user");
    o->workdir = x->workdir ? x->workdir : sget(svc, "working_dir");
    o->runtime = sget(svc, "runtime");
    o->platform = sget(svc, "platform");
    /* the Wasm tier (docs/native.md): an extension field, as Compose files carry them */
    const char *engine = sget(svc, "x-wasmbox-engine");
    if (!engine && wb_engine_default(&o->engine, err) < 0) return -1;
    if (engine && !wb_engine_parse(engine, &o->engine))
        return wb_error_set(err, EINVAL,
                            "service \"%s\": x-wasmbox-engine: invalid value \"%s\" (auto, interp "
                            "or native)",
                            x->service, engine);
    o->restart = x->oneoff ? NULL : sget(svc, "restart");
    o->tty = json_is_true(json_object_get(svc, "tty"));
    o->interactive = json_is_true(json_object_get(svc, "stdin_open"));
    const char *grace = sget(svc, "stop_grace_period");
    long long ns;
    if (grace && wb_compose_parse_duration(grace, &ns) == 0)
        o->stop_timeout = (int)((ns + 999999999LL) / 1000000000LL);
    so->config_extra = json_object();
    const char *sig = sget(svc, "stop_signal");
    if (sig) json_object_set_new(so->config_extra, "StopSignal", json_string(sig));
    json_t *hc = healthcheck(json_object_get(svc, "healthcheck"));
    if (hc) json_object_set_new(so->config_extra, "Healthcheck", hc);
    o->config_extra = so->config_extra;
    return 0;
}

void compose_service_opts_release(compose_service_opts *so) {
    wb_run_opts_release(&so->o);
    free(so->args);
    free(so->entrypoint);
    free(so->image);
    free(so->name);
    free(so->network_mode);
    json_decref(so->endpoints);
    json_decref(so->config_extra);
    memset(so, 0, sizeof *so);
}
