/* Container commands: ps, logs, stop, kill, rm, wait, start, restart, inspect, container prune,
 * stats — Docker's flags, columns, messages and exit codes, without a daemon: each reads and
 * updates the container records under ROOT/containers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "oci/store.h"
#include "runtime/container.h"
#include "runtime/launch.h"
#include "runtime/network.h"
#include "runtime/volume.h"

static int64_t parse_time(const char *t) {
    if (!t || !strncmp(t, "0001-", 5)) return 0;
    return wb_time_parse(t);
}

static const char *sget(const json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Open every container (sorted newest first), refreshing stale states. */
static wb_container **all_containers(size_t *n) {
    char **ids;
    size_t count;
    *n = 0;
    if (wb_containers_list(wb_cli_root(), &ids, &count, NULL) < 0) return NULL;
    wb_container **cs = wb_calloc(count + 1, sizeof *cs);
    for (size_t i = 0; i < count; i++) {
        wb_container *c;
        if (wb_container_open(wb_cli_root(), ids[i], &c, NULL) == 0) {
            wb_container_refresh(c);
            cs[(*n)++] = c;
        }
        free(ids[i]);
    }
    free(ids);
    /* newest first */
    for (size_t i = 1; i < *n; i++)
        for (size_t k = i;
             k > 0 && strcmp(sget(cs[k]->doc, "Created"), sget(cs[k - 1]->doc, "Created")) > 0;
             k--) {
            wb_container *t = cs[k];
            cs[k] = cs[k - 1];
            cs[k - 1] = t;
        }
    return cs;
}

static void free_containers(wb_container **cs, size_t n) {
    for (size_t i = 0; i < n; i++) wb_container_free(cs[i]);
    free(cs);
}

static void status_text(const wb_container *c, char *buf, size_t size) {
    json_t *st = json_object_get(c->doc, "State");
    const char *status = sget(st, "Status");
    char d[64];
    if (!strcmp(status, "running") || !strcmp(status, "paused")) {
        wb_cli_human_duration(time(NULL) - parse_time(sget(st, "StartedAt")), d, sizeof d);
        snprintf(buf, size, "Up %s%s", d, !strcmp(status, "paused") ? " (Paused)" : "");
    } else if (!strcmp(status, "exited") || !strcmp(status, "restarting")) {
        int64_t fin = parse_time(sget(st, "FinishedAt"));
        wb_cli_human_duration(time(NULL) - fin, d, sizeof d);
        snprintf(buf, size, "%s (%lld) %s ago", !strcmp(status, "exited") ? "Exited" : "Restarting",
                 (long long)json_integer_value(json_object_get(st, "ExitCode")), d);
    } else if (!strcmp(status, "created")) {
        snprintf(buf, size, "Created");
    } else {
        snprintf(buf, size, "%c%s", status[0] ? status[0] - 32 : '?', status[0] ? status + 1 : "");
    }
}

static void command_text(const wb_container *c, bool no_trunc, char *buf, size_t size) {
    char cmd[1024];
    size_t n = (size_t)snprintf(cmd, sizeof cmd, "%s", sget(c->doc, "Path"));
    json_t *args = json_object_get(c->doc, "Args");
    for (size_t i = 0; i < json_array_size(args) && n < sizeof cmd; i++)
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " %s",
                              json_string_value(json_array_get(args, i)));
    if (!no_trunc && strlen(cmd) > 20)
        snprintf(buf, size, "\"%.19s…\"", cmd);
    else
        snprintf(buf, size, "\"%s\"", cmd);
}

static bool label_matches(const wb_container *c, const char *want) {
    json_t *labels = json_object_get(json_object_get(c->doc, "Config"), "Labels");
    const char *eq = strchr(want, '=');
    char key[256];
    snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - want) : (int)strlen(want), want);
    json_t *v = json_object_get(labels, key);
    if (!v) return false;
    return !eq || !strcmp(json_string_value(v) ?: "", eq + 1);
}

/* ---- ps ---- */

static const wb_cli_flag ps_flags[] = {
    {'a', "all", NULL, "Show all containers (default shows just running)", false},
    {'f', "filter", "filter",
     "Filter output based on conditions provided (status=, name=, label=, id=, ancestor=)", false},
    {0, "format", "string", WB_CLI_LIST_FORMAT_HELP, false},
    {'l', "latest", NULL, "Show the latest created container (includes all states)", false},
    {0, "no-trunc", NULL, "Don't truncate output", false},
    {'q', "quiet", NULL, "Only display container IDs", false},
    {0},
};
static const wb_cli_command ps_cmd = {"ps", "[OPTIONS]", "List containers", ps_flags, false};
static const wb_cli_command container_ls_cmd = {"container ls", "[OPTIONS]", "List containers",
                                                ps_flags, false};

/* Docker's ps columns: every field a row has (the names of `--format json`), with its title */
static const wb_cli_column ps_columns[] = {
    {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"}, {"ID", "CONTAINER ID"},
    {"Image", "IMAGE"},     {"Labels", "LABELS"},        {"LocalVolumes", "LOCAL VOLUMES"},
    {"Mounts", "MOUNTS"},   {"Names", "NAMES"},          {"Networks", "NETWORKS"},
    {"Ports", "PORTS"},     {"RunningFor", "CREATED"},   {"Size", "SIZE"},
    {"State", "STATE"},     {"Status", "STATUS"},
};
#define PS_TABLE                                                                                   \
    "table "                                                                                       \
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

/* "k=v,k2=v2" sorted, as Docker's Labels column. */
static void labels_text(const json_t *labels, char *buf, size_t size) {
    const char *keys[256];
    size_t n = 0, used = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) if (n < 256) keys[n++] = k;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j], keys[j - 1]) < 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", i ? "," : "", keys[i],
                                 json_string_value(json_object_get(labels, keys[i])) ?: "");
}

/* The mounts' sources (or names), comma-separated, as Docker's Mounts column. */
static void mounts_text(const json_t *mounts, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(mounts) && used < size; i++) {
        json_t *m = json_array_get(mounts, i);
        const char *name = sget(m, "Name");
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                                 *name ? name : sget(m, "Source"));
    }
}

/* Docker's PORTS: "0.0.0.0:8080->80/tcp, 443/tcp" from NetworkSettings.Ports (published ones
 * while running, exposed ones bare). */
static void ports_text(const json_t *ports, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    const char *key;
    json_t *list;
    json_object_foreach((json_t *)ports, key, list) {
        if (used >= size) break;
        if (!json_array_size(list)) {
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", key);
            continue;
        }
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b) {
            if (used >= size) break;
            used += (size_t)snprintf(buf + used, size - used, "%s%s:%s->%s", used ? ", " : "",
                                     sget(b, "HostIp"), sget(b, "HostPort"), key);
        }
    }
}

json_t *wb_cli_ps_row(const wb_container *c, bool no_trunc) {
    char id[65], cmd[1100], created[80], created_at[64], st[96], d[64], labels[4096], mounts[4096];
    const char *status = sget(json_object_get(c->doc, "State"), "Status");
    json_t *config = json_object_get(c->doc, "Config");
    snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, c->id);
    command_text(c, no_trunc, cmd, sizeof cmd);
    int64_t t = parse_time(sget(c->doc, "Created"));
    wb_cli_human_duration(time(NULL) - t, d, sizeof d);
    snprintf(created, sizeof created, "%s ago", d);
    wb_cli_go_time(t, created_at, sizeof created_at);
    status_text(c, st, sizeof st);
    labels_text(json_object_get(config, "Labels"), labels, sizeof labels);
    mounts_text(json_object_get(c->doc, "Mounts"), mounts, sizeof mounts);
    const char *image = sget(config, "Image");
    const char *network = sget(json_object_get(c->doc, "HostConfig"), "NetworkMode");
    char ports[2048] = "";
    /* only while it runs, as Docker (a killed monitor cannot have cleared them) */
    if (!strcmp(status ? status : "", "running") || !strcmp(status ? status : "", "paused"))
        ports_text(json_object_get(json_object_get(c->doc, "NetworkSettings"), "Ports"), ports,
                   sizeof ports);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                     "Command", cmd, "CreatedAt", created_at, "ID", id, "Image", image, "Labels",
                     labels, "LocalVolumes", "0", "Mounts", mounts, "Names", c->name, "Networks",
                     network, "Ports", ports, "RunningFor", created, "Size", "0B", "State", status,
                     "Status", st);
}

int wb_cmd_ps(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(strcmp(argv[0], "ps") ? &container_ls_cmd : &ps_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    bool all = wb_cli_flag_set(&a, "all"), quiet = wb_cli_flag_set(&a, "quiet");
    bool no_trunc = wb_cli_flag_set(&a, "no-trunc"), latest = wb_cli_flag_set(&a, "latest");
    const char *format = wb_cli_flag_value(&a, "format");
    if (latest) all = true;
    if (a.npos) {
        wb_cli_error("\"wasmbox ps\" accepts no arguments.");
        wb_cli_args_release(&a);
        return 1;
    }
    const char *filters[32];
    int nfilters = 0;
    for (const char *f; nfilters < 32 && (f = wb_cli_flag_nth(&a, "filter", nfilters));)
        filters[nfilters++] = f;
    wb_cli_args_release(&a);
    for (int f = 0; f < nfilters; f++)
        if (strncmp(filters[f], "status=", 7) && strncmp(filters[f], "name=", 5) &&
            strncmp(filters[f], "label=", 6) && strncmp(filters[f], "id=", 3) &&
            strncmp(filters[f], "ancestor=", 9)) {
            wb_cli_error("invalid filter '%s'", filters[f]);
            return 1;
        }
    size_t n;
    wb_container **cs = all_containers(&n);
    bool status_filter = false;
    for (int f = 0; f < nfilters; f++) status_filter |= !strncmp(filters[f], "status=", 7);
    wb_cli_list list;
    wb_cli_list_init(&list, format, PS_TABLE, ps_columns, sizeof ps_columns / sizeof *ps_columns);
    int shown = 0, rc = 0;
    wb_error err;
    for (size_t i = 0; i < n && rc == 0; i++) {
        wb_container *c = cs[i];
        const char *status = sget(json_object_get(c->doc, "State"), "Status");
        if (!all && !status_filter && strcmp(status, "running") != 0 &&
            strcmp(status, "restarting") != 0 && strcmp(status, "paused") != 0)
            continue;
        bool ok = true;
        for (int f = 0; f < nfilters && ok; f++) {
            const char *v = strchr(filters[f], '=') + 1;
            if (!strncmp(filters[f], "status=", 7))
                ok = !strcmp(status, v);
            else if (!strncmp(filters[f], "name=", 5))
                ok = strstr(c->name, v) != NULL;
            else if (!strncmp(filters[f], "label=", 6))
                ok = label_matches(c, v);
            else if (!strncmp(filters[f], "id=", 3))
                ok = !strncmp(c->id, v, strlen(v));
            else if (!strncmp(filters[f], "ancestor=", 9))
                ok = !strcmp(sget(json_object_get(c->doc, "Config"), "Image"), v);
        }
        if (!ok) continue;
        if (latest && shown) break;
        shown++;
        if (quiet) {
            /* -q wins over --format, as Docker's */
            printf("%.*s\n", no_trunc ? 64 : 12, c->id);
            continue;
        }
        json_t *row = wb_cli_ps_row(c, no_trunc);
        if (wb_cli_list_row(&list, row, &err) < 0) rc = 1;
        json_decref(row);
    }
    if (rc == 0 && !quiet && wb_cli_list_print(&list, stdout, &err) < 0) rc = 1;
    if (rc) wb_cli_error("template parsing error: %s", err.msg);
    wb_cli_list_release(&list);
    free_containers(cs, n);
    return rc;
}

/* ---- opening the containers named on the command line ---- */

wb_container *wb_cli_open_container(const char *ref) {
    wb_container *c;
    wb_error err;
    if (wb_container_open(wb_cli_root(), ref, &c, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return NULL;
    }
    wb_container_refresh(c);
    return c;
}

static bool is_running(wb_container *c) {
    const char *s = sget(json_object_get(c->doc, "State"), "Status");
    return !strcmp(s, "running") || !strcmp(s, "restarting") || !strcmp(s, "paused");
}

/* What a command does to one named container; returns its exit status (0 when done). */
typedef int (*container_fn)(wb_container *c, const char *name, void *ctx);

/* Run fn on each named container, as Docker does: a name that is no container is reported and
 * the others still go; the result is the last failure's status, 0 when none failed. */
static int for_each_container(char **names, int n, container_fn fn, void *ctx) {
    int rc = 0;
    for (int i = 0; i < n; i++) {
        wb_container *c = wb_cli_open_container(names[i]);
        if (!c) {
            rc = 1;
            continue;
        }
        int r = fn(c, names[i], ctx);
        if (r) rc = r;
        wb_container_free(c);
    }
    return rc;
}

/* Is any of the named containers a Linux container? Starting one needs libcap and libseccomp,
 * which the static core hands to wasmbox-full (docs/binaries.md). */
/* Whether one of the containers needs wasmbox-full to start or be torn down: a Linux one
 * (libseccomp, libcap) or one on a network (libnftables). */
static bool any_needs_full(char **names, int n) {
    for (int i = 0; i < n; i++) {
        wb_container *c;
        if (wb_container_open(wb_cli_root(), names[i], &c, NULL) < 0) continue;
        json_t *host = json_object_get(c->doc, "HostConfig");
        bool full =
            wb_container_is_linux(c) ||
            wb_net_needs_nft(
                wb_cli_root(), json_string_value(json_object_get(host, "NetworkMode")),
                json_object_get(json_object_get(c->doc, "NetworkingConfig"), "EndpointsConfig"),
                json_object_size(json_object_get(host, "PortBindings")) > 0);
        wb_container_free(c);
        if (full) return true;
    }
    return false;
}

/* Whether one of the containers has endpoints whose teardown needs libnftables. */
static bool any_endpoints(char **names, int n) {
    for (int i = 0; i < n; i++) {
        wb_container *c;
        if (wb_container_open(wb_cli_root(), names[i], &c, NULL) < 0) continue;
        bool has = wb_net_teardown_needs_nft(c);
        wb_container_free(c);
        if (has) return true;
    }
    return false;
}

/* Parse a container command's line. Returns 0 to go on; else the command is over (its help was
 * printed, a flag was wrong, or fewer than min_args names were given) with *rc its exit status.
 * exact: the command takes exactly min_args names. */
static int parse_command(const wb_cli_command *cmd, int argc, char **argv, int min_args, bool exact,
                         wb_cli_args *a, int *rc) {
    int p = wb_cli_parse(cmd, argc, argv, a);
    if (p != 0) {
        *rc = p > 0 ? 0 : WB_EXIT_ENGINE;
        wb_cli_args_release(a);
        return -1;
    }
    if (a->npos < min_args || (exact && a->npos != min_args)) {
        wb_cli_error("\"wasmbox %s\" requires %s %d argument%s.", cmd->name,
                     exact ? "exactly" : "at least", min_args, min_args == 1 ? "" : "s");
        *rc = 1;
        wb_cli_args_release(a);
        return -1;
    }
    return 0;
}

/* ---- stop, kill, restart ---- */

#define parse_signal wb_signal_parse

static const wb_cli_flag stop_flags[] = {
    {'t', "time", "int", "Seconds to wait before killing the container", false},
    {0, "timeout", "int", "", true}, /* the old name of --time */
    {0},
};
static const wb_cli_command stop_cmd = {"stop", "[OPTIONS] CONTAINER [CONTAINER...]",
                                        "Stop one or more running containers", stop_flags, false};
static const wb_cli_command restart_cmd = {"restart", "[OPTIONS] CONTAINER [CONTAINER...]",
                                           "Restart one or more containers", stop_flags, false};

typedef struct stop_ctx {
    int timeout;
    bool restart;
} stop_ctx;

static int stop_one(wb_container *c, const char *name, void *ctx) {
    const stop_ctx *o = ctx;
    wb_error err;
    int code;
    if (wb_container_stop(c, o->timeout, &err) < 0 ||
        (o->restart && wb_container_start_detached(c, &code, &err) < 0)) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    puts(name);
    return 0;
}

int wb_cmd_stop(int argc, char **argv) {
    stop_ctx o = {-1, !strcmp(argv[0], "restart")};
    wb_cli_args a;
    int rc;
    if (parse_command(o.restart ? &restart_cmd : &stop_cmd, argc, argv, 1, false, &a, &rc) < 0)
        return rc;
    if (o.restart && wb_cli_is_core() && any_needs_full(a.pos, a.npos)) {
        wb_cli_args_release(&a);
        return wb_cli_handoff("restarting Linux or networked containers");
    }
    const char *t = wb_cli_flag_value(&a, "time");
    if (!t) t = wb_cli_flag_value(&a, "timeout");
    if (t) o.timeout = atoi(t);
    rc = for_each_container(a.pos, a.npos, stop_one, &o);
    wb_cli_args_release(&a);
    return rc;
}

static const wb_cli_flag kill_flags[] = {
    {'s', "signal", "string", "Signal to send to the container (default \"KILL\")", false},
    {0},
};
static const wb_cli_command kill_cmd = {"kill", "[OPTIONS] CONTAINER [CONTAINER...]",
                                        "Kill one or more running containers", kill_flags, false};

static int kill_one(wb_container *c, const char *name, void *ctx) {
    int sig = *(const int *)ctx;
    wb_error err;
    if (wb_container_kill(c, sig, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    puts(name);
    return 0;
}

int wb_cmd_kill(int argc, char **argv) {
    wb_cli_args a;
    int rc, sig = SIGKILL;
    if (parse_command(&kill_cmd, argc, argv, 0, false, &a, &rc) < 0) return rc;
    const char *v = wb_cli_flag_value(&a, "signal");
    if (v && (sig = parse_signal(v)) < 0) {
        wb_cli_error("invalid signal: %s", v);
        wb_cli_args_release(&a);
        return 1;
    }
    if (a.npos < 1) {
        wb_cli_error("\"wasmbox kill\" requires at least 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    rc = for_each_container(a.pos, a.npos, kill_one, &sig);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- rm, prune ---- */

static const wb_cli_flag rm_flags[] = {
    {'f', "force", NULL, "Force the removal of a running container (uses SIGKILL)", false},
    {'v', "volumes", NULL, "Remove anonymous volumes associated with the container", false},
    {0},
};
static const wb_cli_command rm_cmd = {"rm", "[OPTIONS] CONTAINER [CONTAINER...]",
                                      "Remove one or more containers", rm_flags, false};

typedef struct rm_ctx {
    bool force, volumes;
} rm_ctx;

static int rm_one(wb_container *c, const char *name, void *ctx) {
    const rm_ctx *o = ctx;
    bool force = o->force;
    wb_error err;
    if (is_running(c) && !force) {
        wb_cli_error("You cannot remove a running container %s. Stop the container before "
                     "attempting removal or force remove",
                     c->id);
        return 1;
    }
    json_t *mounts = o->volumes ? json_deep_copy(json_object_get(c->doc, "Mounts")) : NULL;
    if (wb_container_remove_force(c, &err) < 0) {
        json_decref(mounts);
        wb_cli_error("%s", err.msg);
        return 1;
    }
    if (mounts) wb_volumes_remove_anonymous(wb_cli_root(), mounts);
    json_decref(mounts);
    puts(name);
    return 0;
}

int wb_cmd_rm(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&rm_cmd, argc, argv, 1, false, &a, &rc) < 0) return rc;
    if (wb_cli_is_core() && any_endpoints(a.pos, a.npos)) {
        wb_cli_args_release(&a);
        return wb_cli_handoff("removing networked containers");
    }
    rm_ctx o = {wb_cli_flag_set(&a, "force"), wb_cli_flag_set(&a, "volumes")};
    rc = for_each_container(a.pos, a.npos, rm_one, &o);
    wb_cli_args_release(&a);
    return rc;
}

static const wb_cli_flag prune_flags[] = {
    {'f', "force", NULL, "Do not prompt for confirmation", false},
    {0},
};
static const wb_cli_command prune_cmd = {"container prune", "[OPTIONS]",
                                         "Remove all stopped containers", prune_flags, false};

int wb_cmd_container_prune(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&prune_cmd, argc, argv, 0, false, &a, &rc) < 0) return rc;
    wb_cli_args_release(&a);
    size_t n;
    wb_container **cs = all_containers(&n);
    puts("Deleted Containers:");
    for (size_t i = 0; i < n; i++) {
        if (is_running(cs[i])) continue;
        if (wb_container_remove(cs[i], NULL) == 0) puts(cs[i]->id);
    }
    puts("\nTotal reclaimed space: 0B");
    free_containers(cs, n);
    return 0;
}

/* ---- wait, start ---- */

static const wb_cli_flag no_flags[] = {{0}};
static const wb_cli_command wait_cmd = {
    "wait", "CONTAINER [CONTAINER...]",
    "Block until one or more containers stop, then print their exit codes", no_flags, false};

static int wait_one(wb_container *c, const char *name, void *ctx) {
    (void)name;
    (void)ctx;
    int code;
    wb_error err;
    if (wb_container_wait(c, &code, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    printf("%d\n", code);
    fflush(stdout);
    return 0;
}

int wb_cmd_wait(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&wait_cmd, argc, argv, 1, false, &a, &rc) < 0) return rc;
    rc = for_each_container(a.pos, a.npos, wait_one, NULL);
    wb_cli_args_release(&a);
    return rc;
}

static int follow_logs(wb_container *c, long long tail, bool timestamps, int64_t since,
                       bool follow);

static const wb_cli_flag start_flags[] = {
    {'a', "attach", NULL, "Attach STDOUT/STDERR and forward signals", false},
    {'i', "interactive", NULL, "Attach container's STDIN", false},
    {0},
};
static const wb_cli_command start_cmd = {"start", "[OPTIONS] CONTAINER [CONTAINER...]",
                                         "Start one or more stopped containers", start_flags,
                                         false};

static int start_one(wb_container *c, const char *name, void *ctx) {
    bool attach = *(const bool *)ctx;
    if (is_running(c)) {
        if (!attach) puts(name);
        return 0;
    }
    int code;
    wb_error err;
    struct stat st;
    char log[4200];
    wb_container_log_path(c, log, sizeof log);
    off_t before = stat(log, &st) == 0 ? st.st_size : 0;
    if (wb_container_start_detached(c, &code, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return code ? code : 1;
    }
    if (attach) {
        /* stream what this start writes (the log from its size before), then pass the exit
         * code through */
        follow_logs(c, -2 - (long long)before, false, 0, true);
        wb_container_wait(c, &code, &err);
        return code;
    }
    puts(name);
    return 0;
}

int wb_cmd_start(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&start_cmd, argc, argv, 1, false, &a, &rc) < 0) return rc;
    if (wb_cli_is_core() && any_needs_full(a.pos, a.npos)) {
        wb_cli_args_release(&a);
        return wb_cli_handoff("starting Linux or networked containers");
    }
    bool attach = wb_cli_flag_set(&a, "attach");
    rc = for_each_container(a.pos, a.npos, start_one, &attach);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- logs ---- */

int64_t wb_cli_parse_since(const char *v) {
    char *end;
    double n = strtod(v, &end);
    if (end != v && (*end == 's' || *end == 'm' || *end == 'h') && !end[1]) {
        double mult = *end == 's' ? 1 : *end == 'm' ? 60 : 3600;
        return (int64_t)time(NULL) - (int64_t)(n * mult);
    }
    if (end != v && !*end) return (int64_t)n; /* unix seconds */
    return parse_time(v);
}

/* Print one json-file line; returns false if it is not one. */
static bool print_log_line(const char *line, bool timestamps, int64_t since) {
    json_t *j = json_loads(line, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return false;
    }
    const char *time_s = sget(j, "time");
    if (since && parse_time(time_s) < since) {
        json_decref(j);
        return true;
    }
    FILE *out = !strcmp(sget(j, "stream"), "stderr") ? stderr : stdout;
    if (timestamps) fprintf(out, "%s ", time_s);
    json_t *log = json_object_get(j, "log");
    fwrite(json_string_value(log) ?: "", 1, json_string_length(log), out);
    fflush(out);
    json_decref(j);
    return true;
}

/* tail: -1 all; >= 0 last N lines; <= -2: start at byte offset -(tail + 2) */
static int follow_logs(wb_container *c, long long tail, bool timestamps, int64_t since,
                       bool follow) {
    char path[4200];
    wb_container_log_path(c, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f && !follow) return 0;
    long start = 0;
    if (f && tail <= -2) {
        start = (long)(-(tail + 2));
    } else if (f && tail >= 0) {
        /* the offset after the (tail+1)-th newline from the end (the last one ends the file) */
        fseek(f, 0, SEEK_END);
        long pos = ftell(f);
        long long newlines = 0;
        start = 0;
        while (pos > 0) {
            pos--;
            fseek(f, pos, SEEK_SET);
            if (fgetc(f) == '\n' && ++newlines == tail + 1) {
                start = pos + 1;
                break;
            }
        }
    }
    if (f) fseek(f, start, SEEK_SET);
    char *line = NULL;
    size_t cap = 0;
    for (;;) {
        if (!f) f = fopen(path, "r");
        ssize_t n = f ? getline(&line, &cap, f) : -1;
        if (n > 0 && line[n - 1] == '\n') {
            print_log_line(line, timestamps, since);
            continue;
        }
        if (n > 0) fseek(f, -n, SEEK_CUR); /* a partial line: read it again when complete */
        if (!follow) break;
        if (wb_container_reload(c, NULL) < 0 || !wb_container_refresh(c)) {
            /* stopped: drain what is left, then end */
            while (f && (n = getline(&line, &cap, f)) > 0) print_log_line(line, timestamps, since);
            break;
        }
        if (f) clearerr(f);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(line);
    if (f) fclose(f);
    return 0;
}

static const wb_cli_flag logs_flags[] = {
    {'f', "follow", NULL, "Follow log output", false},
    {0, "since", "string",
     "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 "
     "minutes)",
     false},
    {'n', "tail", "string", "Number of lines to show from the end of the logs (default \"all\")",
     false},
    {'t', "timestamps", NULL, "Show timestamps", false},
    {0},
};
static const wb_cli_command logs_cmd = {"logs", "[OPTIONS] CONTAINER",
                                        "Fetch the logs of a container", logs_flags, false};

int wb_cmd_logs(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&logs_cmd, argc, argv, 1, true, &a, &rc) < 0) return rc;
    const char *tail_s = wb_cli_flag_value(&a, "tail"), *since_s = wb_cli_flag_value(&a, "since");
    long long tail = !tail_s || !strcmp(tail_s, "all") ? -1 : atoll(tail_s);
    int64_t since = since_s ? wb_cli_parse_since(since_s) : 0;
    wb_container *c = wb_cli_open_container(a.pos[0]);
    rc = c ? follow_logs(c, tail, wb_cli_flag_set(&a, "timestamps"), since,
                         wb_cli_flag_set(&a, "follow"))
           : 1;
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- inspect ---- */

static const wb_cli_flag inspect_flags[] = {
    {'f', "format", "string", WB_CLI_INSPECT_FORMAT_HELP, false},
    {'s', "size", NULL, "Display total file sizes if the type is container", false},
    {0, "type", "string", "Only inspect objects of the given type (container, image)", false},
    {0},
};
static const wb_cli_command inspect_cmd = {
    "inspect", "[OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on Docker objects (containers, images)", inspect_flags, false};
static const wb_cli_command container_inspect_cmd = {
    "container inspect", "[OPTIONS] CONTAINER [CONTAINER...]",
    "Display detailed information on one or more containers", inspect_flags, false};

/* inspect, and container inspect (container_only: --type container) */
static int inspect(int argc, char **argv, bool container_only) {
    wb_cli_args a;
    int rc;
    if (parse_command(container_only ? &container_inspect_cmd : &inspect_cmd, argc, argv, 1, false,
                      &a, &rc) < 0)
        return rc;
    rc = 0;
    const char *format = wb_cli_flag_value(&a, "format");
    const char *type = container_only ? "container" : wb_cli_flag_value(&a, "type");
    if (type && strcmp(type, "container") != 0 && strcmp(type, "image") != 0) {
        wb_cli_error("\"%s\" is not a valid value for --type", type);
        wb_cli_args_release(&a);
        return 1;
    }
    /* containers first, as Docker; anything that is not a container is tried as an image */
    json_t *all = json_array();
    wb_images *store = NULL;
    for (int i = 0; i < a.npos; i++) {
        const char *name = a.pos[i];
        wb_container *c;
        wb_error err;
        if ((!type || !strcmp(type, "container")) &&
            wb_container_open(wb_cli_root(), name, &c, NULL) == 0) {
            wb_container_refresh(c);
            json_array_append_new(all, wb_container_inspect_doc(c));
            wb_container_free(c);
            continue;
        }
        if (!type || !strcmp(type, "image")) {
            json_t *doc = wb_cli_image_inspect_doc(&store, name, &err);
            if (doc) {
                json_array_append_new(all, doc);
                continue;
            }
            if (err.code != ENOENT || type) {
                wb_cli_error("%s", err.msg);
                rc = 1;
                continue;
            }
        }
        /* Docker's words for each case */
        if (!type)
            wb_cli_error("No such object: %s", name);
        else
            wb_cli_error("No such container: %s", name);
        rc = 1;
    }
    wb_error err;
    if (wb_cli_inspect_print(format, all, stdout, &err) < 0) {
        wb_cli_error("template parsing error: %s", err.msg);
        rc = 1;
    }
    json_decref(all);
    wb_cli_image_store_close(store);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_inspect(int argc, char **argv) {
    return inspect(argc, argv, false);
}

int wb_cmd_container_inspect(int argc, char **argv) {
    return inspect(argc, argv, true);
}

/* ---- stats ---- */

static const wb_cli_flag stats_flags[] = {
    {'a', "all", NULL, "Show all containers (default shows just running)", false},
    {0, "format", "string", WB_CLI_LIST_FORMAT_HELP, false},
    {0, "no-stream", NULL, "Disable streaming stats and only pull the first result", false},
    {0, "no-trunc", NULL, "Do not truncate output", false},
    {0},
};
static const wb_cli_command stats_cmd = {"stats", "[OPTIONS] [CONTAINER...]",
                                         "Display a live stream of container(s) resource usage "
                                         "statistics",
                                         stats_flags, false};

static const wb_cli_column stats_columns[] = {
    {"BlockIO", "BLOCK I/O"}, {"CPUPerc", "CPU %"}, {"Container", "CONTAINER"},
    {"ID", "CONTAINER ID"},   {"MemPerc", "MEM %"}, {"MemUsage", "MEM USAGE / LIMIT"},
    {"Name", "NAME"},         {"NetIO", "NET I/O"}, {"PIDs", "PIDS"},
};
#define STATS_TABLE                                                                                \
    "table "                                                                                       \
    "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}"      \
    "\t{{.PIDs}}"

/* Docker's memory figures in stats: binary units, four significant digits ("1.527MiB"). */
static void binary_size(uint64_t bytes, char *buf, size_t size) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, "%.4g%s", v, units[u]);
}

/* One table of stats: two samples `interval` apart give the CPU share. Returns 0, or 1 after a
 * template error. */
static int stats_table(wb_container **cs, size_t n, const wb_cli_args *a, bool all, bool no_trunc,
                       long interval_ms) {
    wb_container_usage *u0 = wb_calloc(n + 1, sizeof *u0);
    bool *up = wb_calloc(n + 1, sizeof *up);
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    for (size_t i = 0; i < n; i++) up[i] = wb_container_usage_read(cs[i], &u0[i], NULL) == 0;
    struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double wall_ns = (double)(w1.tv_sec - w0.tv_sec) * 1e9 + (double)(w1.tv_nsec - w0.tv_nsec);
    wb_cli_list list;
    wb_cli_list_init(&list, wb_cli_flag_value(a, "format"), STATS_TABLE, stats_columns,
                     sizeof stats_columns / sizeof *stats_columns);
    wb_error err;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        wb_container *c = cs[i];
        const char *asked = NULL; /* the name the user gave it by (Docker's Container column) */
        for (int k = 0; k < a->npos && !asked; k++)
            if (!strcmp(a->pos[k], c->name) || !strncmp(c->id, a->pos[k], strlen(a->pos[k])))
                asked = a->pos[k];
        if (a->npos && !asked) continue;
        wb_container_usage u1;
        bool now = up[i] && wb_container_usage_read(c, &u1, NULL) == 0;
        if (!now && !all && !a->npos) continue;
        if (!now) memset(&u1, 0, sizeof u1);
        double cpu = now && wall_ns > 0 ? (double)(u1.cpu_ns - u0[i].cpu_ns) / wall_ns * 100.0 : 0;
        char usage[32], lim[32], col[80], cpu_s[16], mem_s[16], id[65], net[80], blk[80], pids[24];
        char a1[32], a2[32];
        binary_size(u1.mem, usage, sizeof usage);
        binary_size(u1.mem_limit, lim, sizeof lim);
        snprintf(col, sizeof col, "%s / %s", usage, lim);
        snprintf(cpu_s, sizeof cpu_s, "%.2f%%", cpu);
        snprintf(mem_s, sizeof mem_s, "%.2f%%",
                 u1.mem_limit ? 100.0 * (double)u1.mem / (double)u1.mem_limit : 0.0);
        wb_cli_human_size(u1.net_rx, a1, sizeof a1);
        wb_cli_human_size(u1.net_tx, a2, sizeof a2);
        snprintf(net, sizeof net, "%s / %s", a1, a2);
        wb_cli_human_size(u1.blk_read, a1, sizeof a1);
        wb_cli_human_size(u1.blk_write, a2, sizeof a2);
        snprintf(blk, sizeof blk, "%s / %s", a1, a2);
        snprintf(pids, sizeof pids, "%llu", (unsigned long long)u1.pids);
        snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, c->id);
        json_t *row =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "BlockIO", blk, "CPUPerc",
                      cpu_s, "Container", asked ? asked : id, "ID", id, "MemPerc", mem_s,
                      "MemUsage", col, "Name", c->name, "NetIO", net, "PIDs", pids);
        if (wb_cli_list_row(&list, row, &err) < 0) rc = 1;
        json_decref(row);
    }
    if (rc == 0 && wb_cli_list_print(&list, stdout, &err) < 0) rc = 1;
    if (rc) wb_cli_error("template parsing error: %s", err.msg);
    fflush(stdout);
    wb_cli_list_release(&list);
    free(u0);
    free(up);
    return rc;
}

int wb_cmd_stats(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&stats_cmd, argc, argv, 0, false, &a, &rc) < 0) return rc;
    bool no_trunc = wb_cli_flag_set(&a, "no-trunc"), all = wb_cli_flag_set(&a, "all");
    bool stream = !wb_cli_flag_set(&a, "no-stream");
    for (int k = 0; k < a.npos; k++) { /* named containers must exist, as Docker checks */
        wb_container *c = wb_cli_open_container(a.pos[k]);
        if (!c) {
            wb_cli_args_release(&a);
            return 1;
        }
        wb_container_free(c);
    }
    bool tty = isatty(STDOUT_FILENO);
    rc = 0;
    do {
        size_t n;
        wb_container **cs = all_containers(&n);
        /* the first table after 200 ms, then one a second, as Docker redraws */
        if (stream && tty) fputs("\033[2J\033[H", stdout);
        rc = stats_table(cs, n, &a, all, no_trunc, stream ? 1000 : 200);
        free_containers(cs, n);
    } while (stream && rc == 0);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- pause, unpause, top ---- */

static const wb_cli_flag no_flags_pause[] = {{0}};
static const wb_cli_command pause_cmd = {"pause", "CONTAINER [CONTAINER...]",
                                         "Pause all processes within one or more containers",
                                         no_flags_pause, false};
static const wb_cli_command unpause_cmd = {"unpause", "CONTAINER [CONTAINER...]",
                                           "Unpause all processes within one or more containers",
                                           no_flags_pause, false};

static int pause_one(wb_container *c, const char *name, void *ctx) {
    bool pause = *(const bool *)ctx;
    wb_error err;
    if (wb_container_pause(c, pause, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    puts(name);
    return 0;
}

int wb_cmd_pause(int argc, char **argv) {
    bool pause = !strcmp(argv[0], "pause");
    wb_cli_args a;
    int rc;
    if (parse_command(pause ? &pause_cmd : &unpause_cmd, argc, argv, 1, false, &a, &rc) < 0)
        return rc;
    rc = for_each_container(a.pos, a.npos, pause_one, &pause);
    wb_cli_args_release(&a);
    return rc;
}

static const wb_cli_command top_cmd = {"top", "CONTAINER [ps OPTIONS]",
                                       "Display the running processes of a container",
                                       no_flags_pause, true};

/* As Docker: the host's `ps` (with the given options, default -ef), its lines for the
 * container's processes. */
int wb_cmd_top(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&top_cmd, argc, argv, 1, false, &a, &rc) < 0) return rc;
    wb_container *c = wb_cli_open_container(a.pos[0]);
    if (!c) {
        wb_cli_args_release(&a);
        return 1;
    }
    pid_t *pids = NULL;
    size_t n = 0;
    wb_error err;
    rc = 1;
    if (wb_container_pids(c, &pids, &n, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    char cmd[1024] = "ps";
    size_t used = 2;
    if (a.npos < 2) used += (size_t)snprintf(cmd + used, sizeof cmd - used, " -ef");
    for (int i = 1; i < a.npos && used < sizeof cmd; i++) {
        for (const char *p = a.pos[i]; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("-,=_:%", *p)) {
                wb_cli_error("invalid ps option: %s", a.pos[i]);
                goto out;
            }
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " %s", a.pos[i]);
    }
    FILE *ps = popen(cmd, "r");
    if (!ps) {
        wb_cli_error("run ps: %s", strerror(errno));
        goto out;
    }
    char line[4096];
    int pid_col = -1;
    bool header = true;
    while (fgets(line, sizeof line, ps)) {
        if (header) { /* the PID column, by its title */
            char copy[4096];
            snprintf(copy, sizeof copy, "%s", line);
            int col = 0;
            for (char *save = NULL, *w = strtok_r(copy, " \t\n", &save); w;
                 w = strtok_r(NULL, " \t\n", &save), col++)
                if (!strcmp(w, "PID")) pid_col = col;
            if (pid_col < 0) {
                wb_cli_error("Couldn't find PID field in ps output");
                pclose(ps);
                goto out;
            }
            fputs(line, stdout);
            header = false;
            continue;
        }
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", line);
        char *save = NULL, *w = strtok_r(copy, " \t\n", &save);
        for (int col = 0; w && col < pid_col; col++) w = strtok_r(NULL, " \t\n", &save);
        long pid = w ? strtol(w, NULL, 10) : -1;
        for (size_t k = 0; k < n; k++)
            if (pids[k] == (pid_t)pid) {
                fputs(line, stdout);
                break;
            }
    }
    rc = pclose(ps) == 0 ? 0 : 1;
out:
    free(pids);
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}
