/* `compose up`, `down`, `create`, `start`, `restart`, `run`, `build`, `pull`, `push`: the
 * project's networks, volumes, images and containers made, started, stopped and removed as
 * Docker Compose v2 does, and `up`'s attached mode with its Ctrl+C (compose.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "cli/cli.h"
#include "cli/compose.h"
#include "cli/compose_service.h"
#include "cli/flags.h"
#include "cli/run_opts.h"
#include "compose/plan.h"
#include "oci/store.h"
#include "runtime/launch.h"
#include "runtime/network.h"
#include "runtime/volume.h"

int wb_run_image(wb_run_opts *o);

static const char *sget(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static const json_t *services_of(const compose_cli *cc) {
    return json_object_get(cc->p->model, "services");
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- signals: the first asks for a graceful stop, the second forces it ---- */

static volatile sig_atomic_t n_signals, force_stop;

static void on_signal(int sig) {
    (void)sig;
    n_signals++;
    if (n_signals >= 2) force_stop = 1;
}

static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- which services ---- */

/* The services to act on: those named and (unless no_deps) what they depend on, in dependency
 * order; all when none is named. A NULL-terminated array of borrowed names. */
static const char **selected(compose_cli *cc, char *const *named, size_t n, bool no_deps) {
    wb_error err;
    const char **order = wb_compose_service_order(cc->p->model, &err);
    if (!order) {
        wb_cli_error("%s", err.msg);
        return NULL;
    }
    if (!n) return order;
    json_t *want = json_object();
    for (size_t i = 0; i < n; i++) json_object_set_new(want, named[i], json_true());
    /* dependencies: walk the order backwards, marking what a wanted service depends on */
    size_t total = 0;
    while (order[total]) total++;
    for (size_t i = total; i-- > 0 && !no_deps;) {
        if (!json_object_get(want, order[i])) continue;
        const char *d;
        json_t *v;
        json_object_foreach(
            json_object_get(json_object_get(services_of(cc), order[i]), "depends_on"), d, v)
            json_object_set_new(want, d, json_true());
    }
    size_t k = 0;
    for (size_t i = 0; i < total; i++)
        if (json_object_get(want, order[i])) order[k++] = order[i];
    order[k] = NULL;
    json_decref(want);
    return order;
}

/* ---- networks and volumes ---- */

static int ensure_networks(compose_cli *cc, const char **svcs, compose_progress *pg) {
    const json_t *top = json_object_get(cc->p->model, "networks");
    json_t *used = json_object();
    for (size_t i = 0; svcs[i]; i++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(json_object_get(services_of(cc), svcs[i]), "networks"),
                            k, v) json_object_set_new(used, k, json_true());
    }
    int rc = 0;
    const char *key;
    json_t *net;
    json_object_foreach((json_t *)top, key, net) {
        if (!json_object_get(used, key)) continue;
        const char *name = sget(net, "name");
        wb_error err;
        json_t *found = wb_network_find(wb_cli_root(), name, &err);
        if (found) {
            json_decref(found);
            continue;
        }
        if (json_is_true(json_object_get(net, "external"))) {
            wb_cli_error("network %s declared as external, but could not be found", name);
            rc = -1;
            break;
        }
        compose_progress_set(pg, "Network", name, "Creating", false, false);
        char *labels[2];
        labels[0] = NULL;
        if (asprintf(&labels[0], "%s=%s", WB_COMPOSE_LABEL_PROJECT, cc->p->name) < 0 ||
            asprintf(&labels[1], "%s=%s", WB_COMPOSE_LABEL_NETWORK, key) < 0)
            abort();
        json_t *ipam0 = json_array_get(json_object_get(json_object_get(net, "ipam"), "config"), 0);
        wb_network_opts o = {
            .name = name,
            .driver = sget(net, "driver"),
            .subnet = sget(ipam0, "subnet"),
            .gateway = sget(ipam0, "gateway"),
            .internal = json_is_true(json_object_get(net, "internal")),
            .labels = labels,
            .nlabels = 2,
        };
        char id[65];
        int made = wb_network_create(wb_cli_root(), &o, id, &err);
        free(labels[0]);
        free(labels[1]);
        if (made < 0 && err.code != EEXIST) {
            compose_progress_set(pg, "Network", name, "Error", true, true);
            wb_cli_error("%s", err.msg);
            rc = -1;
            break;
        }
        compose_progress_set(pg, "Network", name, "Created", true, false);
    }
    json_decref(used);
    return rc;
}

static int ensure_volumes(compose_cli *cc, compose_progress *pg) {
    const char *key;
    json_t *vol;
    json_object_foreach(json_object_get(cc->p->model, "volumes"), key, vol) {
        const char *name = sget(vol, "name");
        json_t *v;
        wb_error err;
        if (wb_volume_get(wb_cli_root(), name, &v, &err) == 0) {
            json_decref(v);
            continue;
        }
        if (json_is_true(json_object_get(vol, "external"))) {
            wb_cli_error("external volume \"%s\" not found", name);
            return -1;
        }
        compose_progress_set(pg, "Volume", name, "Creating", false, false);
        char *labels[2];
        if (asprintf(&labels[0], "%s=%s", WB_COMPOSE_LABEL_PROJECT, cc->p->name) < 0 ||
            asprintf(&labels[1], "%s=%s", WB_COMPOSE_LABEL_VOLUME, key) < 0)
            abort();
        int made = wb_volume_create(wb_cli_root(), name, labels, 2, &v, &err);
        free(labels[0]);
        free(labels[1]);
        if (made < 0) {
            compose_progress_set(pg, "Volume", name, "Error", true, true);
            wb_cli_error("%s", err.msg);
            return -1;
        }
        json_decref(v);
        compose_progress_set(pg, "Volume", name, "Created", true, false);
    }
    return 0;
}

/* ---- images ---- */

static bool image_present(const char *ref) {
    wb_images *s;
    wb_error err;
    if (wb_images_open(wb_cli_root(), &s, &err) < 0) return false;
    wb_image_record rec = {0};
    bool ok = wb_images_resolve(s, ref, &rec, &err) == 0;
    wb_image_record_release(&rec);
    wb_images_close(s);
    return ok;
}

static int build_service(compose_cli *cc, const char *name, const json_t *svc, bool no_cache) {
    const json_t *b = json_object_get(svc, "build");
    const char *ctx = sget(b, "context");
    const char *df = sget(b, "dockerfile");
    char *image = wb_compose_image_name(cc->p->name, name, svc);
    char *argv[96];
    int argc = 0;
    char *owned[64];
    int nowned = 0;
    argv[argc++] = "build";
    argv[argc++] = "-t";
    argv[argc++] = image;
    if (df) {
        if (df[0] != '/' && asprintf(&owned[nowned], "%s/%s", ctx, df) >= 0) df = owned[nowned++];
        argv[argc++] = "-f";
        argv[argc++] = (char *)df;
    }
    const char *platform = sget(svc, "platform");
    if (!platform) platform = json_string_value(json_array_get(json_object_get(b, "platforms"), 0));
    if (platform) {
        argv[argc++] = "--platform";
        argv[argc++] = (char *)platform;
    }
    if (sget(b, "target")) {
        argv[argc++] = "--target";
        argv[argc++] = (char *)sget(b, "target");
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(b, "args"), k, v) {
        if (argc > 88 || nowned > 60) break;
        if (json_is_string(v) ? asprintf(&owned[nowned], "%s=%s", k, json_string_value(v)) < 0
                              : asprintf(&owned[nowned], "%s", k) < 0)
            abort();
        argv[argc++] = "--build-arg";
        argv[argc++] = owned[nowned++];
    }
    if (no_cache || json_is_true(json_object_get(b, "no_cache"))) argv[argc++] = "--no-cache";
    argv[argc++] = (char *)ctx;
    argv[argc] = NULL;
    fflush(stdout);
    int rc = wb_cmd_build(argc, argv);
    fflush(stdout);
    for (int i = 0; i < nowned; i++) free(owned[i]);
    free(image);
    if (rc != 0) wb_cli_error("failed to build service \"%s\"", name);
    return rc ? -1 : 0;
}

static int pull_image(const char *ref, const char *platform) {
    char *argv[6];
    int argc = 0;
    argv[argc++] = "pull";
    if (platform) {
        argv[argc++] = "--platform";
        argv[argc++] = (char *)platform;
    }
    argv[argc++] = (char *)ref;
    argv[argc] = NULL;
    fflush(stdout);
    return wb_cmd_pull(argc, argv) == 0 ? 0 : -1;
}

/* Images for the services: built when asked (--build), when a build service's image is missing
 * or its pull_policy is build; pulled when missing (or pull_policy always). */
static int ensure_images(compose_cli *cc, const char **svcs, bool build, bool no_build) {
    for (size_t i = 0; svcs[i]; i++) {
        const json_t *svc = json_object_get(services_of(cc), svcs[i]);
        char *image = wb_compose_image_name(cc->p->name, svcs[i], svc);
        const char *policy = sget(svc, "pull_policy");
        bool has_build = json_object_get(svc, "build") != NULL;
        bool present = image_present(image);
        int rc = 0;
        if (has_build && !no_build && (build || !present || (policy && !strcmp(policy, "build"))))
            rc = build_service(cc, svcs[i], svc, false);
        else if ((!present && !(policy && !strcmp(policy, "never"))) ||
                 (policy && !strcmp(policy, "always")))
            rc = pull_image(image, sget(svc, "platform"));
        else if (!present) {
            wb_cli_error("No such image: %s", image);
            rc = -1;
        }
        free(image);
        if (rc < 0) return -1;
    }
    return 0;
}

/* ---- containers ---- */

static const char *state_of(const wb_container *c) {
    const char *s = sget(json_object_get(c->doc, "State"), "Status");
    return s ? s : "";
}

static bool is_running(const wb_container *c) {
    const char *s = state_of(c);
    return !strcmp(s, "running") || !strcmp(s, "restarting") || !strcmp(s, "paused");
}

static const char *label(const wb_container *c, const char *key) {
    return sget(json_object_get(json_object_get(c->doc, "Config"), "Labels"), key);
}

static int create_container(compose_cli *cc, const char *service, int number, compose_progress *pg,
                            wb_container **out) {
    compose_service_ctx x = {.p = cc->p,
                             .service = service,
                             .svc = json_object_get(services_of(cc), service),
                             .number = number};
    compose_service_opts so;
    wb_error err;
    *out = NULL;
    if (compose_service_opts_make(&so, &x, &err) < 0) {
        wb_cli_error("%s", err.msg);
        compose_service_opts_release(&so);
        return -1;
    }
    compose_progress_set(pg, "Container", so.name, "Creating", false, false);
    int rc = wb_run_image(&so.o);
    if (rc != 0 || !so.id[0]) {
        compose_progress_set(pg, "Container", so.name, "Error", true, true);
        compose_service_opts_release(&so);
        return -1;
    }
    compose_progress_set(pg, "Container", so.name, "Created", true, false);
    rc = wb_container_open(wb_cli_root(), so.id, out, &err);
    if (rc < 0) wb_cli_error("%s", err.msg);
    compose_service_opts_release(&so);
    return rc;
}

static void remove_container(wb_container *c, bool volumes) {
    json_t *mounts = json_deep_copy(json_object_get(c->doc, "Mounts"));
    if (wb_container_remove_force(c, NULL) == 0 && volumes)
        wb_volumes_remove_anonymous(wb_cli_root(), mounts);
    json_decref(mounts);
}

typedef struct up_opts {
    bool force_recreate, no_recreate, always_recreate_deps, remove_orphans, renew_anon;
    int timeout;
} up_opts;

/* Make the service's containers match the model: recreate those whose config hash differs (or
 * all with --force-recreate), create missing ones, remove surplus. *cts gets them all. */
static int converge(compose_cli *cc, const char *service, const up_opts *uo, compose_progress *pg,
                    compose_ct **all, size_t *nall) {
    const json_t *svc = json_object_get(services_of(cc), service);
    int want = wb_compose_replicas(svc);
    char hash[65];
    wb_error err;
    if (wb_compose_config_hash(svc, hash, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    char *names[1] = {(char *)service};
    compose_ct *have;
    size_t n;
    compose_containers(cc, names, 1, true, false, &have, &n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        compose_ct *t = &have[i];
        const char *h = label(t->c, WB_COMPOSE_LABEL_HASH);
        bool stale = t->number > want ||
                     (!uo->no_recreate && (uo->force_recreate || !h || strcmp(h, hash) != 0));
        if (!stale) continue;
        compose_progress_set(pg, "Container", t->c->name,
                             t->number > want ? "Removing" : "Recreate", false, false);
        wb_container *one[1] = {t->c};
        wb_containers_stop(one, 1, uo->timeout, &force_stop, NULL, NULL);
        remove_container(t->c, false);
        compose_progress_set(pg, "Container", t->c->name,
                             t->number > want ? "Removed" : "Recreated", true, false);
        wb_container_free(t->c);
        t->c = NULL;
    }
    for (int num = 1; num <= want && rc == 0; num++) {
        wb_container *c = NULL;
        for (size_t i = 0; i < n; i++)
            if (have[i].c && have[i].number == num) c = have[i].c, have[i].c = NULL;
        if (!c && create_container(cc, service, num, pg, &c) < 0) {
            rc = -1;
            break;
        }
        if (c &&
            !strcmp(label(c, WB_COMPOSE_LABEL_HASH) ? label(c, WB_COMPOSE_LABEL_HASH) : "", hash) &&
            is_running(c))
            compose_progress_set(pg, "Container", c->name, "Running", true, false);
        *all = wb_reallocarray(*all, *nall + 1, sizeof **all);
        (*all)[(*nall)++] = (compose_ct){c, wb_strdup(service), num, false};
    }
    compose_cts_free(have, n);
    return rc;
}

/* pg NULL: no rows (attached `up` shows no Starting/Started rows, as Compose) */
static int start_container(wb_container *c, compose_progress *pg) {
    if (is_running(c)) return 0;
    wb_error err;
    int code;
    compose_progress_set(pg, "Container", c->name, "Starting", false, false);
    if (wb_container_start_detached(c, &code, &err) < 0) {
        compose_progress_set(pg, "Container", c->name, "Error", true, true);
        wb_cli_error("%s", err.msg);
        return -1;
    }
    compose_progress_set(pg, "Container", c->name, "Started", true, false);
    return 0;
}

/* Start the services in order, each once its dependencies' conditions hold. */
static int start_in_order(compose_cli *cc, const char **svcs, compose_ct *cts, size_t n,
                          compose_progress *pg, bool start_rows) {
    for (size_t s = 0; svcs[s]; s++) {
        const char *dep;
        json_t *cond;
        json_object_foreach(
            json_object_get(json_object_get(services_of(cc), svcs[s]), "depends_on"), dep, cond) {
            const char *c = sget(cond, "condition");
            if (!c || !strcmp(c, "service_started")) continue;
            bool found = false;
            for (size_t i = 0; svcs[i]; i++) found |= !strcmp(svcs[i], dep);
            if (!found) continue;
            for (size_t i = 0; i < n; i++)
                if (cts[i].c && !strcmp(cts[i].service, dep))
                    compose_progress_set(pg, "Container", cts[i].c->name, "Waiting", false, false);
            int ok = compose_wait_condition(cc, dep, c, &n_signals);
            bool required = !json_is_false(json_object_get(cond, "required"));
            const char *what = ok < 0                          ? "Error"
                               : !strcmp(c, "service_healthy") ? "Healthy"
                                                               : "Exited";
            for (size_t i = 0; i < n; i++)
                if (cts[i].c && !strcmp(cts[i].service, dep))
                    compose_progress_set(pg, "Container", cts[i].c->name, what, true, ok < 0);
            if (ok < 0 && required) return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (cts[i].c && !strcmp(cts[i].service, svcs[s]) &&
                start_container(cts[i].c, start_rows ? pg : NULL) < 0)
                return -1;
        if (n_signals) return -1;
    }
    return 0;
}

/* ---- stopping in reverse dependency order ---- */

typedef struct stopped_ctx {
    compose_progress *pg;
    const char *verb;
} stopped_ctx;

static void on_stopped(void *ctx, wb_container *c) {
    stopped_ctx *sc = ctx;
    compose_progress_set(sc->pg, "Container", c->name, sc->verb, true, false);
}

void compose_stop_ordered(compose_cli *cc, compose_ct *cts, size_t n, int timeout,
                          volatile sig_atomic_t *force, const char *verb_ing, const char *verb_ed) {
    /* level of a service: 0 when nothing depends on it, else 1 + its dependents' highest */
    const json_t *services = services_of(cc);
    json_t *level = json_object();
    bool changed = true;
    for (int round = 0; changed && round < 64; round++) {
        changed = false;
        const char *name;
        json_t *svc;
        json_object_foreach((json_t *)services, name, svc) {
            json_int_t mine = json_integer_value(json_object_get(level, name));
            const char *dep;
            json_t *v;
            json_object_foreach(json_object_get(svc, "depends_on"), dep, v) {
                json_int_t theirs = json_integer_value(json_object_get(level, dep));
                if (theirs < mine + 1) {
                    json_object_set_new(level, dep, json_integer(mine + 1));
                    changed = true;
                }
            }
        }
    }
    json_int_t max = 0;
    for (size_t i = 0; i < n; i++) {
        json_int_t l = json_integer_value(json_object_get(level, cts[i].service));
        if (l > max) max = l;
    }
    compose_progress *pg = compose_progress_new(cc, NULL);
    wb_container **batch = wb_calloc(n + 1, sizeof *batch);
    for (json_int_t l = 0; l <= max; l++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!cts[i].c || json_integer_value(json_object_get(level, cts[i].service)) != l)
                continue;
            wb_container_reload(cts[i].c, NULL);
            if (!wb_container_refresh(cts[i].c)) continue;
            compose_progress_set(pg, "Container", cts[i].c->name, verb_ing, false, false);
            batch[k++] = cts[i].c;
        }
        stopped_ctx sc = {pg, verb_ed};
        wb_containers_stop(batch, k, timeout, force, on_stopped, &sc);
    }
    free(batch);
    compose_progress_end(pg);
    json_decref(level);
}

/* ---- attached mode ---- */

/* Has the container ended for good: not running, and its monitor gone (a monitor that just
 * recorded an exit may be about to restart it)? */
static bool ended(wb_container *c) {
    wb_container_reload(c, NULL);
    if (wb_container_refresh(c)) return false;
    json_t *st = json_object_get(c->doc, "State");
    int mon = (int)json_integer_value(json_object_get(st, "MonitorPid"));
    json_int_t start = json_integer_value(json_object_get(st, "MonitorStart"));
    if (mon > 0 && start && (json_int_t)wb_process_start_time(mon) == start) return false;
    return true;
}

typedef struct attach_opts {
    bool abort_on_exit;
    const char *exit_code_from;
    int timeout;
    bool color, prefix;
} attach_opts;

static int attach(compose_cli *cc, compose_ct *cts, size_t n, const attach_opts *ao) {
    compose_logs_opts lo = {.color = ao->color, .prefix = ao->prefix, .tail = -1};
    compose_logs *l = compose_logs_new(&lo);
    char *names = NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        compose_logs_add(l, cts[i].c, true);
        wb_appendf(&names, &len, "%s%s", i ? ", " : "", cts[i].c->name);
    }
    printf("Attaching to %s\n", names ? names : "");
    fflush(stdout);
    free(names);
    /* the exits already reported (restarts count anew) */
    char(*seen)[64] = wb_calloc(n + 1, sizeof *seen);
    int rc = 0;
    bool stopping = false;
    for (;;) {
        compose_logs_pump(l);
        size_t live = 0;
        for (size_t i = 0; i < n; i++) {
            wb_container *c = cts[i].c;
            bool done = ended(c);
            const char *fin = sget(json_object_get(c->doc, "State"), "FinishedAt");
            if (!is_running(c) && fin && strcmp(seen[i], fin) != 0 &&
                strcmp(state_of(c), "created") != 0) {
                snprintf(seen[i], sizeof seen[i], "%s", fin);
                compose_logs_pump(l);
                int code = (int)json_integer_value(
                    json_object_get(json_object_get(c->doc, "State"), "ExitCode"));
                compose_logs_note(l, c->name, "%s exited with code %d", c->name, code);
                if (ao->exit_code_from && !strcmp(cts[i].service, ao->exit_code_from)) rc = code;
                if (ao->abort_on_exit && !stopping && !n_signals) {
                    if (!ao->exit_code_from) rc = code;
                    printf("Aborting on container exit...\n");
                    fflush(stdout);
                    stopping = true;
                }
            }
            if (!done) live++;
        }
        if (n_signals && !stopping) {
            fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
            stopping = true;
        }
        if (stopping) {
            compose_stop_ordered(cc, cts, n, ao->timeout, &force_stop, "Stopping", "Stopped");
            compose_logs_pump(l);
            if (force_stop) rc = 130;
            break;
        }
        if (!live) break;
        sleep_ms(50);
    }
    free(seen);
    compose_logs_free(l);
    return rc;
}

/* ---- up / create ---- */

static const wb_cli_flag up_flags[] = {
    {0, "abort-on-container-exit", NULL,
     "Stops all containers if any container was stopped. Incompatible with -d", false},
    {0, "always-recreate-deps", NULL,
     "Recreate dependent containers. Incompatible with --no-recreate.", false},
    {0, "attach", "stringArray", "Restrict attaching to the specified services.", false},
    {0, "build", NULL, "Build images before starting containers.", false},
    {'d', "detach", NULL, "Detached mode: Run containers in the background", false},
    {0, "exit-code-from", "string",
     "Return the exit code of the selected service container. Implies --abort-on-container-exit",
     false},
    {0, "force-recreate", NULL,
     "Recreate containers even if their configuration and image haven't changed.", false},
    {0, "no-build", NULL, "Don't build an image, even if it's missing.", false},
    {0, "no-color", NULL, "Produce monochrome output.", false},
    {0, "no-deps", NULL, "Don't start linked services.", false},
    {0, "no-log-prefix", NULL, "Don't print prefix in logs.", false},
    {0, "no-recreate", NULL,
     "If containers already exist, don't recreate them. Incompatible with --force-recreate.",
     false},
    {0, "no-start", NULL, "Don't start the services after creating them.", false},
    {0, "pull", "string", "Pull image before running (\"always\"|\"missing\"|\"never\")", false},
    {0, "remove-orphans", NULL, "Remove containers for services not defined in the Compose file.",
     false},
    {'t', "timeout", "int",
     "Use this timeout in seconds for container shutdown when attached or "
     "when containers are already running.",
     false},
    {0, "wait", NULL, "Wait for services to be running|healthy. Implies detached mode.", false},
    {0, "wait-timeout", "int", "timeout waiting for application to be running|healthy.", false},
    {0},
};
static const wb_cli_command up_cmd = {"compose up", "[OPTIONS] [SERVICE...]",
                                      "Create and start containers", up_flags, false};
static const wb_cli_flag create_flags[] = {
    {0, "build", NULL, "Build images before starting containers.", false},
    {0, "force-recreate", NULL,
     "Recreate containers even if their configuration and image haven't changed.", false},
    {0, "no-build", NULL, "Don't build an image, even if it's missing.", false},
    {0, "no-recreate", NULL, "If containers already exist, don't recreate them.", false},
    {0, "remove-orphans", NULL, "Remove containers for services not defined in the Compose file.",
     false},
    {0},
};
static const wb_cli_command create_cmd = {"compose create", "[OPTIONS] [SERVICE...]",
                                          "Creates containers for a service.", create_flags, false};

/* Containers of the project whose service the model does not have. */
static void orphans(compose_cli *cc, bool remove) {
    compose_ct *cts;
    size_t n;
    compose_containers(cc, NULL, 0, true, false, &cts, &n);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(services_of(cc), cts[i].service)) continue;
        if (!remove) {
            any = true;
            continue;
        }
        wb_container *one[1] = {cts[i].c};
        wb_containers_stop(one, 1, -1, NULL, NULL, NULL);
        remove_container(cts[i].c, false);
        fprintf(stderr, " Container %s  Removed\n", cts[i].c->name);
    }
    if (any)
        fprintf(stderr, "WARN[0000] Found orphan containers for this project. If you removed or "
                        "renamed this service in your compose file, you can run this command with "
                        "the --remove-orphans flag to clean it up.\n");
    compose_cts_free(cts, n);
}

static int up_or_create(compose_cli *cc, const wb_cli_args *a, bool create_only) {
    bool detach = create_only || wb_cli_flag_set(a, "detach") || wb_cli_flag_set(a, "wait");
    const char *from = wb_cli_flag_value(a, "exit-code-from");
    bool abort_exit = wb_cli_flag_set(a, "abort-on-container-exit") || from;
    const char *t = wb_cli_flag_value(a, "timeout");
    const char *pull = wb_cli_flag_value(a, "pull");
    if (detach && abort_exit && !create_only) {
        wb_cli_error("--abort-on-container-exit and --detach are incompatible");
        return COMPOSE_EXIT_ERROR;
    }
    if (wb_cli_flag_set(a, "force-recreate") && wb_cli_flag_set(a, "no-recreate")) {
        wb_cli_error("--force-recreate and --no-recreate are incompatible");
        return COMPOSE_EXIT_ERROR;
    }
    if (compose_load(cc, a->pos, (size_t)a->npos, false) < 0) return COMPOSE_EXIT_ERROR;
    if (compose_check_services(cc, a->pos, (size_t)a->npos) < 0) return COMPOSE_EXIT_ERROR;
    if (from && compose_check_services(cc, (char **)&from, 1) < 0) return COMPOSE_EXIT_ERROR;
    const char **svcs = selected(cc, a->pos, (size_t)a->npos, wb_cli_flag_set(a, "no-deps"));
    if (!svcs) return COMPOSE_EXIT_ERROR;
    catch_signals();
    up_opts uo = {.force_recreate = wb_cli_flag_set(a, "force-recreate"),
                  .no_recreate = wb_cli_flag_set(a, "no-recreate"),
                  .timeout = t ? atoi(t) : -1};
    int rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    if (pull && !strcmp(pull, "always"))
        for (size_t i = 0; svcs[i]; i++) {
            const json_t *svc = json_object_get(services_of(cc), svcs[i]);
            if (!json_object_get(svc, "build") &&
                pull_image(sget(svc, "image"), sget(svc, "platform")) < 0)
                goto out;
        }
    if (ensure_images(cc, svcs, wb_cli_flag_set(a, "build"), wb_cli_flag_set(a, "no-build")) < 0)
        goto out;
    orphans(cc, wb_cli_flag_set(a, "remove-orphans"));
    compose_progress *pg = compose_progress_new(cc, NULL);
    int step = ensure_networks(cc, svcs, pg);
    if (step == 0) step = ensure_volumes(cc, pg);
    for (size_t i = 0; svcs[i] && step == 0 && !n_signals; i++)
        step = converge(cc, svcs[i], &uo, pg, &cts, &n);
    if (step == 0 && !create_only && !wb_cli_flag_set(a, "no-start") && !n_signals)
        step = start_in_order(cc, svcs, cts, n, pg, detach);
    if (step == 0 && wb_cli_flag_set(a, "wait") && !n_signals)
        for (size_t i = 0; svcs[i] && step == 0; i++) {
            const json_t *hc =
                json_object_get(json_object_get(services_of(cc), svcs[i]), "healthcheck");
            if (hc && !json_is_true(json_object_get(hc, "disable")))
                step = compose_wait_condition(cc, svcs[i], "service_healthy", &n_signals);
        }
    compose_progress_end(pg);
    if (n_signals && !detach) { /* Ctrl+C before everything was up: stop what was started */
        fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
        compose_stop_ordered(cc, cts, n, uo.timeout, &force_stop, "Stopping", "Stopped");
        rc = force_stop ? 130 : 0;
        goto out;
    }
    if (step < 0) goto out;
    rc = 0;
    if (detach || wb_cli_flag_set(a, "no-start")) goto out;
    attach_opts ao = {.abort_on_exit = abort_exit,
                      .exit_code_from = from,
                      .timeout = uo.timeout,
                      .color = !wb_cli_flag_set(a, "no-color") && cc->ansi && isatty(1),
                      .prefix = !wb_cli_flag_set(a, "no-log-prefix")};
    rc = attach(cc, cts, n, &ao);
out:
    compose_cts_free(cts, n);
    free(svcs);
    return rc;
}

int compose_cmd_up(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&up_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = up_or_create(cc, &a, false);
    wb_cli_args_release(&a);
    return rc;
}

int compose_cmd_create(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&create_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = up_or_create(cc, &a, true);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- start, restart ---- */

static const wb_cli_flag start_flags[] = {{0}};
static const wb_cli_command start_cmd = {"compose start", "[SERVICE...]", "Start services",
                                         start_flags, false};
static const wb_cli_flag restart_flags[] = {
    {0, "no-deps", NULL, "Don't restart dependent services.", false},
    {'t', "timeout", "int", "Specify a shutdown timeout in seconds", false},
    {0},
};
static const wb_cli_command restart_cmd = {"compose restart", "[OPTIONS] [SERVICE...]",
                                           "Restart service containers", restart_flags, false};

static int start_or_restart(compose_cli *cc, int argc, char **argv, bool restart) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(restart ? &restart_cmd : &start_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    const char **svcs = NULL;
    if (compose_load(cc, NULL, 0, true) < 0 ||
        compose_check_services(cc, a.pos, (size_t)a.npos) < 0)
        goto out;
    svcs = selected(cc, a.pos, (size_t)a.npos, true);
    if (!svcs) goto out;
    compose_containers(cc, a.pos, (size_t)a.npos, true, false, &cts, &n);
    if (!n) {
        wb_cli_error("service \"%s\" has no container to start", a.npos ? a.pos[0] : "");
        goto out;
    }
    if (restart) {
        const char *t = wb_cli_flag_value(&a, "timeout");
        compose_stop_ordered(cc, cts, n, t ? atoi(t) : -1, NULL, "Restarting", "Stopped");
        for (size_t i = 0; i < n; i++) wb_container_reload(cts[i].c, NULL);
    }
    compose_progress *pg = compose_progress_new(cc, NULL);
    rc = start_in_order(cc, svcs, cts, n, pg, true) < 0 ? COMPOSE_EXIT_ERROR : 0;
    compose_progress_end(pg);
out:
    free(svcs);
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

int compose_cmd_start(compose_cli *cc, int argc, char **argv) {
    return start_or_restart(cc, argc, argv, false);
}

int compose_cmd_restart(compose_cli *cc, int argc, char **argv) {
    return start_or_restart(cc, argc, argv, true);
}

/* ---- down ---- */

static const wb_cli_flag down_flags[] = {
    {0, "remove-orphans", NULL, "Remove containers for services not defined in the Compose file.",
     false},
    {0, "rmi", "string",
     "Remove images used by services. \"local\" remove only images that "
     "don't have a custom tag (\"local\"|\"all\")",
     false},
    {'t', "timeout", "int", "Specify a shutdown timeout in seconds", false},
    {'v', "volumes", NULL,
     "Remove named volumes declared in the \"volumes\" section of the Compose file and anonymous "
     "volumes attached to containers.",
     false},
    {0},
};
static const wb_cli_command down_cmd = {"compose down", "[OPTIONS] [SERVICES]",
                                        "Stop and remove containers, networks", down_flags, false};

int compose_cmd_down(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&down_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    const char *rmi = wb_cli_flag_value(&a, "rmi");
    if (rmi && strcmp(rmi, "local") && strcmp(rmi, "all")) {
        wb_cli_error("invalid value for --rmi: %s", rmi);
        goto out;
    }
    if (compose_load(cc, NULL, 0, true) < 0 ||
        compose_check_services(cc, a.pos, (size_t)a.npos) < 0)
        goto out;
    bool volumes = wb_cli_flag_set(&a, "volumes");
    bool with_orphans = wb_cli_flag_set(&a, "remove-orphans");
    const char *t = wb_cli_flag_value(&a, "timeout");
    compose_containers(cc, a.pos, (size_t)a.npos, true, true, &cts, &n);
    size_t k = 0; /* orphans only with --remove-orphans */
    bool orphan_left = false;
    for (size_t i = 0; i < n; i++) {
        if (!with_orphans && !json_object_get(services_of(cc), cts[i].service)) {
            wb_container_free(cts[i].c);
            free(cts[i].service);
            orphan_left = true;
            continue;
        }
        cts[k++] = cts[i];
    }
    n = k;
    compose_stop_ordered(cc, cts, n, t ? atoi(t) : -1, NULL, "Stopping", "Stopped");
    compose_progress *pg = compose_progress_new(cc, NULL);
    for (size_t i = 0; i < n; i++) {
        compose_progress_set(pg, "Container", cts[i].c->name, "Removing", false, false);
        remove_container(cts[i].c, volumes);
        compose_progress_set(pg, "Container", cts[i].c->name, "Removed", true, false);
    }
    rc = 0;
    if (a.npos) goto images; /* services named: their containers only */
    char files[4096];        /* the secrets and configs written for the containers */
    if (wb_path_join(files, sizeof files, NULL, "%s/compose/%s", wb_cli_root(), cc->p->name) == 0)
        wb_remove_tree(files, NULL);
    const char *key;
    json_t *net;
    json_object_foreach(json_object_get(cc->p->model, "networks"), key, net) {
        if (json_is_true(json_object_get(net, "external")) || orphan_left) continue;
        const char *name = sget(net, "name");
        wb_error err;
        json_t *found = wb_network_find(wb_cli_root(), name, &err);
        if (!found) continue;
        json_decref(found);
        compose_progress_set(pg, "Network", name, "Removing", false, false);
        if (wb_network_remove(wb_cli_root(), name, &err) < 0) {
            compose_progress_set(pg, "Network", name, "Error", true, true);
            wb_cli_error("%s", err.msg);
            rc = COMPOSE_EXIT_ERROR;
        } else {
            compose_progress_set(pg, "Network", name, "Removed", true, false);
        }
    }
    json_t *vol;
    json_object_foreach(json_object_get(cc->p->model, "volumes"), key, vol) {
        if (!volumes || json_is_true(json_object_get(vol, "external"))) continue;
        const char *name = sget(vol, "name");
        wb_error err;
        json_t *v;
        if (wb_volume_get(wb_cli_root(), name, &v, &err) < 0) continue;
        json_decref(v);
        compose_progress_set(pg, "Volume", name, "Removing", false, false);
        if (wb_volume_remove(wb_cli_root(), name, false, &err) < 0) {
            compose_progress_set(pg, "Volume", name, "Error", true, true);
            wb_cli_error("%s", err.msg);
            rc = COMPOSE_EXIT_ERROR;
        } else {
            compose_progress_set(pg, "Volume", name, "Removed", true, false);
        }
    }
images:
    compose_progress_end(pg);
    if (rmi) {
        const char *name;
        json_t *svc;
        json_object_foreach((json_t *)services_of(cc), name, svc) {
            if (!strcmp(rmi, "local") && json_object_get(svc, "image")) continue;
            char *image = wb_compose_image_name(cc->p->name, name, svc);
            if (image_present(image)) {
                char *rargv[] = {"rmi", image, NULL};
                fflush(stdout);
                if (wb_cmd_rmi(2, rargv) != 0) rc = COMPOSE_EXIT_ERROR;
            }
            free(image);
        }
    }
out:
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- run ---- */

static const wb_cli_flag run_flags[] = {
    {0, "build", NULL, "Build image before starting container.", false},
    {'d', "detach", NULL, "Run container in background and print container ID", false},
    {0, "entrypoint", "string", "Override the entrypoint of the image", false},
    {'e', "env", "stringArray", "Set environment variables", false},
    {'i', "interactive", NULL, "Keep STDIN open even if not attached. (default true)", false},
    {0, "name", "string", "Assign a name to the container", false},
    {'T', "no-TTY", NULL, "Disable pseudo-TTY allocation (default: auto-detected)", false},
    {0, "no-deps", NULL, "Don't start linked services.", false},
    {0, "rm", NULL, "Automatically remove the container when it exits", false},
    {0, "service-ports", NULL,
     "Run command with all service's ports enabled and mapped to the host.", false},
    {0, "use-aliases", NULL,
     "Use the service's network useAliases in the network(s) the container connects to.", false},
    {'u', "user", "string", "Run as specified username or uid", false},
    {'w', "workdir", "string", "Working directory inside the container", false},
    {0},
};
static const wb_cli_command run_cmd = {"compose run", "[OPTIONS] SERVICE [COMMAND] [ARGS...]",
                                       "Run a one-off command on a service.", run_flags, true};

int compose_cmd_run(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&run_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    const char **svcs = NULL;
    json_t *command = NULL, *entrypoint = NULL;
    compose_ct *cts = NULL;
    size_t n = 0;
    char *env[64];
    size_t nenv = 0;
    compose_service_opts so = {0};
    if (a.npos < 1) {
        wb_cli_error("\"compose run\" requires at least 1 argument: SERVICE");
        goto out;
    }
    if (compose_load(cc, a.pos, 1, false) < 0 || compose_check_services(cc, a.pos, 1) < 0) goto out;
    svcs = selected(cc, a.pos, 1, wb_cli_flag_set(&a, "no-deps"));
    if (!svcs) goto out;
    catch_signals();
    if (ensure_images(cc, svcs, wb_cli_flag_set(&a, "build"), false) < 0) goto out;
    compose_progress *pg = compose_progress_new(cc, NULL);
    int step = ensure_networks(cc, svcs, pg);
    if (step == 0) step = ensure_volumes(cc, pg);
    up_opts uo = {.no_recreate = true, .timeout = -1};
    for (size_t i = 0; svcs[i] && step == 0; i++) /* dependencies up, as Compose does */
        if (strcmp(svcs[i], a.pos[0]) != 0) step = converge(cc, svcs[i], &uo, pg, &cts, &n);
    if (step == 0) {
        const char **deps = wb_calloc(n + 2, sizeof *deps);
        size_t k = 0;
        for (size_t i = 0; svcs[i]; i++)
            if (strcmp(svcs[i], a.pos[0]) != 0) deps[k++] = svcs[i];
        step = start_in_order(cc, deps, cts, n, pg, true);
        free(deps);
    }
    compose_progress_end(pg);
    if (step < 0) goto out;
    if (a.npos > 1) {
        command = json_array();
        for (int i = 1; i < a.npos; i++) json_array_append_new(command, json_string(a.pos[i]));
    }
    const char *ep = wb_cli_flag_value(&a, "entrypoint");
    if (ep) {
        wb_error err;
        char **words = wb_compose_split_words(ep, &err);
        if (!words) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        entrypoint = json_array();
        for (char **w = words; *w; w++) json_array_append_new(entrypoint, json_string(*w));
        wb_compose_words_free(words);
    }
    for (const char *e; nenv < 64 && (e = wb_cli_flag_nth(&a, "env", (int)nenv));)
        env[nenv++] = (char *)e;
    /* one-off containers are numbered after every other of the service */
    compose_ct *all;
    size_t nall;
    compose_containers(cc, a.pos, 1, true, true, &all, &nall);
    int number = 1;
    for (size_t i = 0; i < nall; i++)
        if (all[i].number >= number) number = all[i].number + 1;
    compose_cts_free(all, nall);
    char generated[512];
    snprintf(generated, sizeof generated, "%s-%s-run-%08lx", cc->p->name, a.pos[0],
             (unsigned long)random());
    compose_service_ctx x = {.p = cc->p,
                             .service = a.pos[0],
                             .svc = json_object_get(services_of(cc), a.pos[0]),
                             .number = number,
                             .name = wb_cli_flag_value(&a, "name") ? wb_cli_flag_value(&a, "name")
                                                                   : generated,
                             .oneoff = true,
                             .service_ports = wb_cli_flag_set(&a, "service-ports"),
                             .use_aliases = wb_cli_flag_set(&a, "use-aliases"),
                             .command = command,
                             .entrypoint = entrypoint,
                             .user = wb_cli_flag_value(&a, "user"),
                             .workdir = wb_cli_flag_value(&a, "workdir"),
                             .extra_env = env,
                             .nextra_env = nenv};
    wb_error err;
    if (compose_service_opts_make(&so, &x, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    so.o.create_only = false;
    so.o.detach = wb_cli_flag_set(&a, "detach");
    so.o.quiet = !so.o.detach;
    so.o.rm = wb_cli_flag_set(&a, "rm");
    so.o.tty = !wb_cli_flag_set(&a, "no-TTY") && isatty(0) && isatty(1);
    so.o.interactive = true;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    rc = wb_run_image(&so.o);
out:
    compose_service_opts_release(&so);
    json_decref(command);
    json_decref(entrypoint);
    compose_cts_free(cts, n);
    free(svcs);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- build, pull, push ---- */

static const wb_cli_flag build_flags[] = {
    {0, "build-arg", "stringArray", "Set build-time variables for services", false},
    {0, "no-cache", NULL, "Do not use cache when building the image", false},
    {0, "pull", NULL, "Always attempt to pull a newer version of the image", false},
    {'q', "quiet", NULL, "Don't print anything to STDOUT", false},
    {0},
};
static const wb_cli_command build_cmd = {"compose build", "[OPTIONS] [SERVICE...]",
                                         "Build or rebuild services", build_flags, false};

int compose_cmd_build(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&build_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    if (compose_load(cc, a.pos, (size_t)a.npos, false) < 0 ||
        compose_check_services(cc, a.pos, (size_t)a.npos) < 0)
        goto out;
    const char *name;
    json_t *svc;
    rc = 0;
    json_object_foreach((json_t *)services_of(cc), name, svc) {
        bool named = !a.npos;
        for (int i = 0; i < a.npos; i++) named |= !strcmp(a.pos[i], name);
        if (!named || !json_object_get(svc, "build")) continue;
        json_t *copy = json_deep_copy(svc);
        json_t *args = json_object_get(json_object_get(copy, "build"), "args");
        if (!args) {
            args = json_object();
            json_object_set_new(json_object_get(copy, "build"), "args", args);
        }
        for (int i = 0; wb_cli_flag_nth(&a, "build-arg", i); i++) {
            const char *kv = wb_cli_flag_nth(&a, "build-arg", i);
            const char *eq = strchr(kv, '=');
            char key[256];
            snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - kv) : (int)strlen(kv), kv);
            json_object_set_new(args, key, eq ? json_string(eq + 1) : json_null());
        }
        if (build_service(cc, name, copy, wb_cli_flag_set(&a, "no-cache")) < 0)
            rc = COMPOSE_EXIT_ERROR;
        json_decref(copy);
        if (rc) break;
    }
out:
    wb_cli_args_release(&a);
    return rc;
}

static const wb_cli_flag pull_flags[] = {
    {0, "ignore-buildable", NULL, "Ignore images that can be built", false},
    {0, "ignore-pull-failures", NULL, "Pull what it can and ignores images with pull failures",
     false},
    {0, "include-deps", NULL, "Also pull services declared as dependencies", false},
    {'q', "quiet", NULL, "Pull without printing progress information", false},
    {0},
};
static const wb_cli_command pull_cmd = {"compose pull", "[OPTIONS] [SERVICE...]",
                                        "Pull service images", pull_flags, false};
static const wb_cli_flag push_flags[] = {
    {0, "ignore-push-failures", NULL, "Push what it can and ignores images with push failures",
     false},
    {0, "include-deps", NULL, "Also push images of services declared as dependencies", false},
    {'q', "quiet", NULL, "Push without printing progress information", false},
    {0},
};
static const wb_cli_command push_cmd = {"compose push", "[OPTIONS] [SERVICE...]",
                                        "Push service images", push_flags, false};

static int pull_or_push(compose_cli *cc, int argc, char **argv, bool push) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(push ? &push_cmd : &pull_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    if (compose_load(cc, a.pos, (size_t)a.npos, false) < 0 ||
        compose_check_services(cc, a.pos, (size_t)a.npos) < 0)
        goto out;
    const char **svcs = selected(cc, a.pos, (size_t)a.npos, !wb_cli_flag_set(&a, "include-deps"));
    if (!svcs) goto out;
    bool ignore = wb_cli_flag_set(&a, push ? "ignore-push-failures" : "ignore-pull-failures");
    rc = 0;
    for (size_t i = 0; svcs[i]; i++) {
        const json_t *svc = json_object_get(services_of(cc), svcs[i]);
        const char *image = sget(svc, "image");
        if (!image) continue; /* built, never pulled or pushed under a generated name */
        if (!push && json_object_get(svc, "build") &&
            (wb_cli_flag_set(&a, "ignore-buildable") || !image))
            continue;
        int r;
        if (push) {
            char *pargv[] = {"push", (char *)image, NULL};
            fflush(stdout);
            r = wb_cmd_push(2, pargv);
        } else {
            r = pull_image(image, sget(svc, "platform"));
        }
        if (r != 0 && !ignore) {
            rc = COMPOSE_EXIT_ERROR;
            break;
        }
    }
    free(svcs);
out:
    wb_cli_args_release(&a);
    return rc;
}

int compose_cmd_pull(compose_cli *cc, int argc, char **argv) {
    return pull_or_push(cc, argc, argv, false);
}

int compose_cmd_push(compose_cli *cc, int argc, char **argv) {
    return pull_or_push(cc, argc, argv, true);
}
