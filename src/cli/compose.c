/* `wasmbox compose`: Docker Compose v2's command line over src/compose (the model) and the
 * runtime. This file: the global flags, loading the project, dispatch, and the commands that
 * read or act on existing containers (config, ls, ps, images, port, top, kill, stop, rm, exec,
 * pause, unpause, version). */
#include "cli/compose.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "compose/plan.h"
#include "compose/yaml.h"
#include "runtime/launch.h"
#include "runtime/volume.h"

/* ---- global flags ---- */

typedef struct globals {
    char *files[64], *env_files[16], *profiles[32];
    size_t nfiles, nenv_files, nprofiles;
    const char *project_name, *project_dir, *ansi, *progress;
} globals;

static globals G;

static void warn_line(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "WARN[0000] %s\n", line);
}

/* COMPOSE_FILE (separated by COMPOSE_PATH_SEPARATOR, default ':') when no -f is given. */
static void files_from_env(void) {
    static char *copy;
    const char *v = getenv("COMPOSE_FILE");
    if (G.nfiles || !v || !*v || copy) return;
    const char *sep = getenv("COMPOSE_PATH_SEPARATOR");
    copy = wb_strdup(v);
    char *save = NULL;
    for (char *t = strtok_r(copy, sep && *sep ? sep : ":", &save); t && G.nfiles < 64;
         t = strtok_r(NULL, sep && *sep ? sep : ":", &save))
        G.files[G.nfiles++] = t;
}

int compose_load(compose_cli *cc, char *const *services, size_t nservices, bool all_profiles) {
    files_from_env();
    wb_compose_opts o = {
        .project_dir = G.project_dir,
        .files = G.files,
        .nfiles = G.nfiles,
        .project_name = G.project_name,
        .env_files = G.env_files,
        .nenv_files = G.nenv_files,
        .profiles = G.profiles,
        .nprofiles = G.nprofiles,
        .services = services,
        .nservices = nservices,
        .all_profiles = all_profiles,
        .warn = warn_line,
    };
    wb_error err;
    if (wb_compose_load(&o, &cc->p, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

int compose_check_services(const compose_cli *cc, char *const *names, size_t n) {
    json_t *services = json_object_get(cc->p->model, "services");
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(services, names[i])) {
            wb_cli_error("no such service: %s", names[i]);
            return -1;
        }
    return 0;
}

/* ---- the project's containers ---- */

static const char *label(const wb_container *c, const char *key) {
    return json_string_value(
        json_object_get(json_object_get(json_object_get(c->doc, "Config"), "Labels"), key));
}

static int cmp_ct(const void *a, const void *b) {
    const compose_ct *x = a, *y = b;
    int d = strcmp(x->service, y->service);
    return d ? d : x->number - y->number;
}

static bool running(const wb_container *c) {
    const char *s = json_string_value(json_object_get(json_object_get(c->doc, "State"), "Status"));
    return s && (!strcmp(s, "running") || !strcmp(s, "restarting") || !strcmp(s, "paused"));
}

int compose_containers(const compose_cli *cc, char *const *services, size_t nservices, bool all,
                       bool oneoff, compose_ct **out, size_t *n) {
    char **ids;
    size_t count;
    *out = NULL;
    *n = 0;
    if (wb_containers_list(wb_cli_root(), &ids, &count, NULL) < 0) return 0;
    compose_ct *v = wb_calloc(count + 1, sizeof *v);
    for (size_t i = 0; i < count; i++) {
        wb_container *c;
        if (wb_container_open(wb_cli_root(), ids[i], &c, NULL) < 0) {
            free(ids[i]);
            continue;
        }
        free(ids[i]);
        const char *proj = label(c, WB_COMPOSE_LABEL_PROJECT);
        const char *svc = label(c, WB_COMPOSE_LABEL_SERVICE);
        const char *one = label(c, WB_COMPOSE_LABEL_ONEOFF);
        bool is_oneoff = one && !strcmp(one, "True");
        bool want = proj && svc && !strcmp(proj, cc->p->name) && (oneoff || !is_oneoff);
        for (size_t k = 0; want && nservices && k <= nservices; k++) {
            if (k == nservices)
                want = false;
            else if (!strcmp(services[k], svc))
                break;
        }
        if (want) wb_container_refresh(c);
        if (!want || (!all && !running(c))) {
            wb_container_free(c);
            continue;
        }
        const char *num = label(c, WB_COMPOSE_LABEL_NUMBER);
        v[*n] = (compose_ct){c, wb_strdup(svc), num ? atoi(num) : 0, is_oneoff};
        (*n)++;
    }
    free(ids);
    qsort(v, *n, sizeof *v, cmp_ct);
    *out = v;
    return 0;
}

void compose_cts_free(compose_ct *cts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        wb_container_free(cts[i].c);
        free(cts[i].service);
    }
    free(cts);
}

/* ---- config ---- */

static const wb_cli_flag config_flags[] = {
    {0, "format", "string", "Format the output. Values: [yaml | json] (default \"yaml\")", false},
    {0, "services", NULL, "Print the service names, one per line.", false},
    {0, "volumes", NULL, "Print the volume names, one per line.", false},
    {0, "profiles", NULL, "Print the profile names, one per line.", false},
    {0, "images", NULL, "Print the image names, one per line.", false},
    {'q', "quiet", NULL, "Only validate the configuration, don't print anything.", false},
    {'o', "output", "string", "Save to file (default to stdout)", false},
    {0},
};
static const wb_cli_command config_cmd = {"compose config", "[OPTIONS] [SERVICE...]",
                                          "Parse, resolve and render compose file in canonical "
                                          "format",
                                          config_flags, false};

static int print_keys(const json_t *obj) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) printf("%s\n", k);
    return 0;
}

static int cmd_config(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&config_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    if (compose_load(cc, a.pos, (size_t)a.npos, wb_cli_flag_set(&a, "profiles")) < 0) goto out;
    json_t *m = cc->p->model;
    if (a.npos && compose_check_services(cc, a.pos, (size_t)a.npos) < 0) goto out;
    if (wb_cli_flag_set(&a, "quiet")) {
        rc = 0;
        goto out;
    }
    rc = 0;
    if (wb_cli_flag_set(&a, "services")) {
        print_keys(json_object_get(m, "services"));
        goto out;
    }
    if (wb_cli_flag_set(&a, "volumes")) {
        print_keys(json_object_get(m, "volumes"));
        goto out;
    }
    if (wb_cli_flag_set(&a, "images")) {
        const char *k;
        json_t *s;
        json_object_foreach(json_object_get(m, "services"), k, s) {
            char *img = wb_compose_image_name(cc->p->name, k, s);
            printf("%s\n", img);
            free(img);
        }
        goto out;
    }
    if (wb_cli_flag_set(&a, "profiles")) {
        json_t *seen = json_object();
        const char *k;
        json_t *s;
        json_object_foreach(json_object_get(m, "services"), k, s) {
            size_t i;
            json_t *p;
            json_array_foreach(json_object_get(s, "profiles"), i, p)
                json_object_set_new(seen, json_string_value(p), json_true());
        }
        print_keys(seen);
        json_decref(seen);
        goto out;
    }
    const char *format = wb_cli_flag_value(&a, "format");
    char *text;
    wb_error err;
    if (format && !strcmp(format, "json")) {
        text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    } else if (!format || !strcmp(format, "yaml")) {
        text = wb_yaml_dump(m, &err);
        if (!text) {
            wb_cli_error("%s", err.msg);
            rc = COMPOSE_EXIT_ERROR;
            goto out;
        }
    } else {
        wb_cli_error("unsupported format \"%s\"", format);
        rc = COMPOSE_EXIT_ERROR;
        goto out;
    }
    const char *path = wb_cli_flag_value(&a, "output");
    if (path) {
        size_t len = strlen(text);
        char *withnl = wb_malloc(len + 2);
        memcpy(withnl, text, len);
        withnl[len] = '\n';
        if (wb_write_file_atomic(path, withnl, len + 1, 0644, true, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = COMPOSE_EXIT_ERROR;
        }
        free(withnl);
    } else {
        printf("%s%s", text, strlen(text) && text[strlen(text) - 1] == '\n' ? "" : "\n");
    }
    free(text);
out:
    wb_cli_args_release(&a);
    return rc;
}

/* ---- ls ---- */

static const wb_cli_flag ls_flags[] = {
    {'a', "all", NULL, "Show all stopped Compose projects", false},
    {0, "format", "string", "Format the output. Values: [table | json] (default \"table\")", false},
    {'q', "quiet", NULL, "Only display IDs", false},
    {0},
};
static const wb_cli_command ls_cmd = {"compose ls", "[OPTIONS]", "List running compose projects",
                                      ls_flags, false};

static int cmd_ls(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&ls_cmd, argc, argv, &a, &rc) < 0) return rc;
    bool all = wb_cli_flag_set(&a, "all"), quiet = wb_cli_flag_set(&a, "quiet");
    const char *format = wb_cli_flag_value(&a, "format");
    bool json = format && !strcmp(format, "json");
    wb_cli_args_release(&a);
    char **ids;
    size_t count;
    json_t *projects = json_object(); /* name -> {running, exited, files} */
    if (wb_containers_list(wb_cli_root(), &ids, &count, NULL) < 0) count = 0, ids = NULL;
    for (size_t i = 0; i < count; i++) {
        wb_container *c;
        if (wb_container_open(wb_cli_root(), ids[i], &c, NULL) == 0) {
            const char *proj = label(c, WB_COMPOSE_LABEL_PROJECT);
            if (proj) {
                wb_container_refresh(c);
                json_t *p = json_object_get(projects, proj);
                if (!p) {
                    const char *files = label(c, WB_COMPOSE_LABEL_FILES);
                    p = json_pack("{s:i, s:i, s:s}", "running", 0, "exited", 0, "files",
                                  files ? files : "");
                    json_object_set_new(projects, proj, p);
                }
                const char *key = running(c) ? "running" : "exited";
                json_object_set_new(p, key,
                                    json_integer(json_integer_value(json_object_get(p, key)) + 1));
            }
            wb_container_free(c);
        }
        free(ids[i]);
    }
    free(ids);
    json_t *rows = json_array();
    const char *name;
    json_t *p;
    json_object_foreach(projects, name, p) {
        json_int_t up = json_integer_value(json_object_get(p, "running"));
        json_int_t down = json_integer_value(json_object_get(p, "exited"));
        if (!up && !all) continue;
        char status[64];
        if (up && down)
            snprintf(status, sizeof status, "running(%lld), exited(%lld)", (long long)up,
                     (long long)down);
        else
            snprintf(status, sizeof status, "%s(%lld)", up ? "running" : "exited",
                     (long long)(up ? up : down));
        json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "Name", name, "Status", status,
                                              "ConfigFiles",
                                              json_string_value(json_object_get(p, "files"))));
    }
    /* sorted by name, as Compose lists them */
    size_t n = json_array_size(rows);
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            const char *x = json_string_value(json_object_get(json_array_get(rows, k), "Name"));
            const char *y = json_string_value(json_object_get(json_array_get(rows, k - 1), "Name"));
            if (strcmp(x, y) >= 0) break;
            json_t *t = json_incref(json_array_get(rows, k));
            json_array_set(rows, k, json_array_get(rows, k - 1));
            json_array_set_new(rows, k - 1, t);
        }
    if (json) {
        char *s = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    } else if (quiet) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", json_string_value(json_object_get(json_array_get(rows, i), "Name")));
    } else {
        size_t w = 4, sw = 6;
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(rows, i);
            size_t l = strlen(json_string_value(json_object_get(r, "Name")));
            size_t s = strlen(json_string_value(json_object_get(r, "Status")));
            if (l > w) w = l;
            if (s > sw) sw = s;
        }
        printf("%-*s   %-*s   %s\n", (int)w, "NAME", (int)sw, "STATUS", "CONFIG FILES");
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(rows, i);
            printf("%-*s   %-*s   %s\n", (int)w, json_string_value(json_object_get(r, "Name")),
                   (int)sw, json_string_value(json_object_get(r, "Status")),
                   json_string_value(json_object_get(r, "ConfigFiles")));
        }
    }
    json_decref(rows);
    json_decref(projects);
    return 0;
}

/* ---- ps ---- */

static const wb_cli_flag ps_flags[] = {
    {'a', "all", NULL, "Show all stopped containers (including those created by the run command)",
     false},
    {0, "format", "string",
     "Format output using a custom template:\n'table': Print output in "
     "table format with column headers (default)\n'json': Print in JSON "
     "format",
     false},
    {'q', "quiet", NULL, "Only display IDs", false},
    {0, "services", NULL, "Display services", false},
    {0, "status", "stringArray",
     "Filter services by status. Values: [paused | restarting | removing | running | dead | "
     "created | exited]",
     false},
    {0, "no-trunc", NULL, "Don't truncate output", false},
    {0},
};
static const wb_cli_command ps_cmd = {"compose ps", "[OPTIONS] [SERVICE...]", "List containers",
                                      ps_flags, false};

static const wb_cli_column ps_columns[] = {
    {"Name", "NAME"},       {"Image", "IMAGE"},        {"Command", "COMMAND"},
    {"Service", "SERVICE"}, {"RunningFor", "CREATED"}, {"Status", "STATUS"},
    {"Ports", "PORTS"},     {"ID", "CONTAINER ID"},    {"State", "STATE"},
    {"Project", "PROJECT"}, {"ExitCode", "EXIT CODE"}, {"Health", "HEALTH"},
};
#define COMPOSE_PS_TABLE                                                                           \
    "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{."   \
    "Ports}}"

static json_t *compose_ps_row(const compose_cli *cc, const compose_ct *t, bool no_trunc) {
    json_t *row = wb_cli_ps_row(t->c, no_trunc);
    json_t *st = json_object_get(t->c->doc, "State");
    const char *health =
        json_string_value(json_object_get(json_object_get(st, "Health"), "Status"));
    json_object_set_new(row, "Name", json_string(t->c->name));
    json_object_set_new(row, "Service", json_string(t->service));
    json_object_set_new(row, "Project", json_string(cc->p->name));
    json_object_set_new(row, "ExitCode",
                        json_integer(json_integer_value(json_object_get(st, "ExitCode"))));
    json_object_set_new(row, "Health", json_string(health ? health : ""));
    if (health && running(t->c)) { /* "Up 5 seconds (healthy)" */
        char s[160];
        snprintf(s, sizeof s, "%s (%s)", json_string_value(json_object_get(row, "Status")), health);
        json_object_set_new(row, "Status", json_string(s));
    }
    return row;
}

static int cmd_ps(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&ps_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    if (compose_load(cc, NULL, 0, true) < 0) goto out;
    if (compose_check_services(cc, a.pos, (size_t)a.npos) < 0) goto out;
    bool all = wb_cli_flag_set(&a, "all"), no_trunc = wb_cli_flag_set(&a, "no-trunc");
    const char *status = wb_cli_flag_value(&a, "status");
    if (status) all = true;
    if (wb_cli_flag_set(&a, "services")) {
        const char *k;
        json_t *s;
        json_object_foreach(json_object_get(cc->p->model, "services"), k, s) printf("%s\n", k);
        rc = 0;
        goto out;
    }
    compose_containers(cc, a.pos, (size_t)a.npos, all, all, &cts, &n);
    const char *format = wb_cli_flag_value(&a, "format");
    bool json = format && !strcmp(format, "json");
    json_t *arr = json_array();
    wb_cli_list list;
    wb_cli_list_init(&list, json ? NULL : format, COMPOSE_PS_TABLE, ps_columns,
                     sizeof ps_columns / sizeof ps_columns[0]);
    wb_error err;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *state =
            json_string_value(json_object_get(json_object_get(cts[i].c->doc, "State"), "Status"));
        if (status && (!state || strcmp(state, status) != 0)) continue;
        if (wb_cli_flag_set(&a, "quiet")) {
            printf("%s\n", cts[i].c->id);
            continue;
        }
        json_t *row = compose_ps_row(cc, &cts[i], no_trunc);
        if (json)
            json_array_append(arr, row);
        else if (wb_cli_list_row(&list, row, &err) < 0)
            rc = COMPOSE_EXIT_ERROR;
        json_decref(row);
    }
    if (!wb_cli_flag_set(&a, "quiet") && rc == 0) {
        if (json) {
            char *s = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", s);
            free(s);
        } else if (wb_cli_list_print(&list, stdout, &err) < 0) {
            rc = COMPOSE_EXIT_ERROR;
        }
    }
    if (rc) wb_cli_error("template parsing error: %s", err.msg);
    wb_cli_list_release(&list);
    json_decref(arr);
out:
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- commands over the project's containers: kill, stop, rm, pause, top, port, images ---- */

static const wb_cli_flag kill_flags[] = {
    {'s', "signal", "string", "SIGNAL to send to the container (default \"SIGKILL\")", false},
    {0, "remove-orphans", NULL, "Remove containers for services not defined in the Compose file",
     false},
    {0},
};
static const wb_cli_command kill_cmd = {"compose kill", "[OPTIONS] [SERVICE...]",
                                        "Force stop service containers", kill_flags, false};
static const wb_cli_flag stop_flags[] = {
    {'t', "timeout", "int", "Specify a shutdown timeout in seconds", false},
    {0},
};
static const wb_cli_command stop_cmd = {"compose stop", "[OPTIONS] [SERVICE...]", "Stop services",
                                        stop_flags, false};
static const wb_cli_flag rm_flags[] = {
    {'f', "force", NULL, "Don't ask to confirm removal", false},
    {'s', "stop", NULL, "Stop the containers, if required, before removing", false},
    {'v', "volumes", NULL, "Remove any anonymous volumes attached to containers", false},
    {0},
};
static const wb_cli_command rm_cmd = {"compose rm", "[OPTIONS] [SERVICE...]",
                                      "Removes stopped service containers", rm_flags, false};
static const wb_cli_flag no_flags[] = {{0}};
static const wb_cli_command pause_cmd = {"compose pause", "[SERVICE...]", "Pause services",
                                         no_flags, false};
static const wb_cli_command unpause_cmd = {"compose unpause", "[SERVICE...]", "Unpause services",
                                           no_flags, false};
static const wb_cli_command top_cmd = {"compose top", "[SERVICES...]",
                                       "Display the running processes", no_flags, false};
static const wb_cli_flag port_flags[] = {
    {0, "index", "int", "Index of the container if service has multiple replicas", false},
    {0, "protocol", "string", "tcp or udp (default \"tcp\")", false},
    {0},
};
static const wb_cli_command port_cmd = {"compose port", "[OPTIONS] SERVICE PRIVATE_PORT",
                                        "Print the public port for a port binding", port_flags,
                                        false};
static const wb_cli_flag images_flags[] = {
    {0, "format", "string", "Format the output. Values: [table | json] (default \"table\")", false},
    {'q', "quiet", NULL, "Only display IDs", false},
    {0},
};
static const wb_cli_command images_cmd = {"compose images", "[OPTIONS] [SERVICE...]",
                                          "List images used by the created containers",
                                          images_flags, false};

/* Parse, load (every profile), check the named services, list their containers. */
static int over_containers(compose_cli *cc, const wb_cli_command *cmd, int argc, char **argv,
                           bool all, wb_cli_args *a, compose_ct **cts, size_t *n, int *rc) {
    *cts = NULL;
    *n = 0;
    if (wb_cli_parse_cmd(cmd, argc, argv, a, rc) < 0) return -1;
    *rc = COMPOSE_EXIT_ERROR;
    if (compose_load(cc, NULL, 0, true) < 0 ||
        compose_check_services(cc, a->pos, (size_t)a->npos) < 0) {
        wb_cli_args_release(a);
        return -1;
    }
    compose_containers(cc, a->pos, (size_t)a->npos, all, false, cts, n);
    return 0;
}

static int cmd_kill(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    compose_ct *cts;
    size_t n;
    int rc;
    if (over_containers(cc, &kill_cmd, argc, argv, false, &a, &cts, &n, &rc) < 0) return rc;
    const char *s = wb_cli_flag_value(&a, "signal");
    int sig = s ? wb_signal_parse(s) : SIGKILL;
    rc = 0;
    if (sig < 0) {
        wb_cli_error("invalid signal: %s", s);
        rc = COMPOSE_EXIT_ERROR;
    }
    if (!n && rc == 0) {
        wb_cli_error("no container to kill");
        rc = COMPOSE_EXIT_ERROR;
    }
    compose_progress *p = rc ? NULL : compose_progress_new(cc, NULL);
    for (size_t i = 0; i < n && rc == 0; i++) {
        wb_error err;
        compose_progress_set(p, "Container", cts[i].c->name, "Killing", false, false);
        if (wb_container_kill(cts[i].c, sig, &err) < 0) {
            compose_progress_set(p, "Container", cts[i].c->name, "Error", true, true);
            wb_cli_error("%s", err.msg);
            rc = COMPOSE_EXIT_ERROR;
        } else {
            compose_progress_set(p, "Container", cts[i].c->name, "Killed", true, false);
        }
    }
    if (p) compose_progress_end(p);
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

static int cmd_stop(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    compose_ct *cts;
    size_t n;
    int rc;
    if (over_containers(cc, &stop_cmd, argc, argv, false, &a, &cts, &n, &rc) < 0) return rc;
    const char *t = wb_cli_flag_value(&a, "timeout");
    compose_stop_ordered(cc, cts, n, t ? atoi(t) : -1, NULL, "Stopping", "Stopped");
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return 0;
}

static int cmd_rm(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    compose_ct *cts;
    size_t n;
    int rc;
    if (over_containers(cc, &rm_cmd, argc, argv, true, &a, &cts, &n, &rc) < 0) return rc;
    rc = 0;
    if (wb_cli_flag_set(&a, "stop"))
        compose_stop_ordered(cc, cts, n, -1, NULL, "Stopping", "Stopped");
    size_t stopped = 0;
    for (size_t i = 0; i < n; i++) stopped += !running(cts[i].c);
    if (!stopped) {
        fprintf(stderr, "No stopped containers\n");
    } else {
        if (!wb_cli_flag_set(&a, "force")) {
            fprintf(stderr, "Going to remove");
            for (size_t i = 0; i < n; i++)
                if (!running(cts[i].c)) fprintf(stderr, " %s", cts[i].c->name);
            fprintf(stderr, "\n");
            if (!isatty(0)) {
                fprintf(stderr, "Are you sure? [yN] \n");
                goto done; /* no answer: nothing removed, as Compose without a terminal */
            }
            fprintf(stderr, "Are you sure? [yN] ");
            char line[16] = "";
            if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) goto done;
        }
        compose_progress *p = compose_progress_new(cc, NULL);
        for (size_t i = 0; i < n; i++) {
            if (running(cts[i].c)) continue;
            wb_error err;
            json_t *mounts = json_deep_copy(json_object_get(cts[i].c->doc, "Mounts"));
            compose_progress_set(p, "Container", cts[i].c->name, "Removing", false, false);
            if (wb_container_remove_force(cts[i].c, &err) < 0) {
                compose_progress_set(p, "Container", cts[i].c->name, "Error", true, true);
                wb_cli_error("%s", err.msg);
                rc = COMPOSE_EXIT_ERROR;
            } else {
                if (wb_cli_flag_set(&a, "volumes"))
                    wb_volumes_remove_anonymous(wb_cli_root(), mounts);
                compose_progress_set(p, "Container", cts[i].c->name, "Removed", true, false);
            }
            json_decref(mounts);
        }
        compose_progress_end(p);
    }
done:
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

static int cmd_pause(compose_cli *cc, int argc, char **argv) {
    bool pause = !strcmp(argv[0], "pause");
    wb_cli_args a;
    compose_ct *cts;
    size_t n;
    int rc;
    if (over_containers(cc, pause ? &pause_cmd : &unpause_cmd, argc, argv, false, &a, &cts, &n,
                        &rc) < 0)
        return rc;
    rc = 0;
    compose_progress *p = compose_progress_new(cc, NULL);
    for (size_t i = 0; i < n; i++) {
        wb_error err;
        if (wb_container_pause(cts[i].c, pause, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = COMPOSE_EXIT_ERROR;
            continue;
        }
        compose_progress_set(p, "Container", cts[i].c->name, pause ? "Paused" : "Unpaused", true,
                             false);
    }
    compose_progress_end(p);
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

static int cmd_top(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    compose_ct *cts;
    size_t n;
    int rc;
    if (over_containers(cc, &top_cmd, argc, argv, false, &a, &cts, &n, &rc) < 0) return rc;
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        printf("%s%s\n", i ? "\n" : "", cts[i].c->name);
        fflush(stdout);
        char *targv[] = {"top", cts[i].c->id, NULL};
        if (wb_cmd_top(2, targv) != 0) rc = COMPOSE_EXIT_ERROR;
    }
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

static int cmd_port(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&port_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    if (a.npos != 2) {
        wb_cli_error("\"compose port\" requires exactly 2 arguments: SERVICE PRIVATE_PORT");
        goto out;
    }
    if (compose_load(cc, NULL, 0, true) < 0 || compose_check_services(cc, a.pos, 1) < 0) goto out;
    compose_containers(cc, a.pos, 1, false, false, &cts, &n);
    const char *idx = wb_cli_flag_value(&a, "index");
    const char *proto = wb_cli_flag_value(&a, "protocol");
    int want = idx ? atoi(idx) : 1;
    char key[64];
    snprintf(key, sizeof key, "%s/%s", a.pos[1], proto ? proto : "tcp");
    for (size_t i = 0; i < n; i++) {
        if (cts[i].number != want) continue;
        json_t *b = json_object_get(
            json_object_get(json_object_get(cts[i].c->doc, "NetworkSettings"), "Ports"), key);
        json_t *first = json_array_get(b, 0);
        if (!first) break;
        const char *ip = json_string_value(json_object_get(first, "HostIp"));
        printf("%s:%s\n", ip && *ip ? ip : "0.0.0.0",
               json_string_value(json_object_get(first, "HostPort")));
        rc = 0;
        goto out;
    }
    wb_cli_error("no port %s for container %s-%s-%d", key, cc->p->name, a.pos[0], want);
out:
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

static int cmd_images(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    compose_ct *cts;
    size_t n;
    int rc;
    if (over_containers(cc, &images_cmd, argc, argv, true, &a, &cts, &n, &rc) < 0) return rc;
    const char *format = wb_cli_flag_value(&a, "format");
    bool json = format && !strcmp(format, "json"), quiet = wb_cli_flag_set(&a, "quiet");
    json_t *arr = json_array();
    if (!quiet && !json)
        printf("%-24s %-24s %-10s %-14s %s\n", "CONTAINER", "REPOSITORY", "TAG", "IMAGE ID",
               "SIZE");
    wb_images *store = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *ref =
            json_string_value(json_object_get(json_object_get(cts[i].c->doc, "Config"), "Image"));
        const char *id = json_string_value(json_object_get(cts[i].c->doc, "Image"));
        const char *hex = id && !strncmp(id, "sha256:", 7) ? id + 7 : (id ? id : "");
        char repo[512], tag[128] = "latest";
        snprintf(repo, sizeof repo, "%s", ref ? ref : "");
        char *colon = strrchr(repo, ':');
        if (colon && !strchr(colon, '/')) {
            snprintf(tag, sizeof tag, "%s", colon + 1);
            *colon = '\0';
        }
        wb_error err;
        json_t *doc = wb_cli_image_inspect_doc(&store, ref ? ref : "", &err);
        char size[32] = "";
        if (doc)
            wb_cli_human_size((uint64_t)json_integer_value(json_object_get(doc, "Size")), size,
                              sizeof size);
        if (quiet)
            printf("%s\n", id ? id : "");
        else if (json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "ContainerName",
                                                 cts[i].c->name, "Repository", repo, "Tag", tag,
                                                 "ID", id ? id : "", "Size", size));
        else
            printf("%-24s %-24s %-10s %-14.12s %s\n", cts[i].c->name, repo, tag, hex, size);
        json_decref(doc);
    }
    wb_cli_image_store_close(store);
    if (json) {
        char *s = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    }
    json_decref(arr);
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return 0;
}

/* ---- exec ---- */

static const wb_cli_flag exec_flags[] = {
    {'d', "detach", NULL, "Detached mode: Run command in the background", false},
    {'e', "env", "stringArray", "Set environment variables", false},
    {0, "index", "int", "Index of the container if service has multiple replicas", false},
    {'T', "no-TTY", NULL,
     "Disable pseudo-TTY allocation. By default `docker compose exec` "
     "allocates a TTY.",
     false},
    {0, "privileged", NULL, "Give extended privileges to the process", false},
    {'u', "user", "string", "Run the command as this user", false},
    {'w', "workdir", "string", "Path to workdir directory for this command", false},
    {0},
};
static const wb_cli_command exec_cmd = {"compose exec", "[OPTIONS] SERVICE COMMAND [ARGS...]",
                                        "Execute a command in a running container", exec_flags,
                                        true};

static int cmd_exec(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&exec_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    if (a.npos < 2) {
        wb_cli_error("\"compose exec\" requires at least 2 arguments: SERVICE COMMAND");
        goto out;
    }
    if (compose_load(cc, NULL, 0, true) < 0 || compose_check_services(cc, a.pos, 1) < 0) goto out;
    compose_containers(cc, a.pos, 1, false, false, &cts, &n);
    const char *idx = wb_cli_flag_value(&a, "index");
    int want = idx ? atoi(idx) : 1;
    wb_container *c = NULL;
    for (size_t i = 0; i < n; i++)
        if (cts[i].number == want) c = cts[i].c;
    if (!c) {
        wb_cli_error("service \"%s\" is not running", a.pos[0]);
        goto out;
    }
    char *env[64];
    size_t nenv = 0;
    for (const char *e; nenv < 64 && (e = wb_cli_flag_nth(&a, "env", (int)nenv));)
        env[nenv++] = (char *)e;
    wb_exec_opts o = {
        .argv = a.pos + 1,
        .argc = (size_t)a.npos - 1,
        .env = env,
        .nenv = nenv,
        .user = wb_cli_flag_value(&a, "user"),
        .workdir = wb_cli_flag_value(&a, "workdir"),
        .detach = wb_cli_flag_set(&a, "detach"),
        .interactive = !wb_cli_flag_set(&a, "detach"),
        .tty = !wb_cli_flag_set(&a, "no-TTY") && isatty(0) && isatty(1),
        .privileged = wb_cli_flag_set(&a, "privileged"),
    };
    int code = 0;
    wb_error err;
    if (wb_container_exec(c, &o, &code, &err) < 0) {
        wb_cli_error("%s", err.msg);
        rc = code ? code : COMPOSE_EXIT_ERROR;
        goto out;
    }
    rc = code;
out:
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- dispatch ---- */

typedef struct subcommand {
    const char *name;
    int (*fn)(compose_cli *cc, int argc, char **argv);
    const char *summary;
} subcommand;

static int cmd_version(compose_cli *cc, int argc, char **argv) {
    (void)cc;
    bool short_form = argc > 1 && !strcmp(argv[1], "--short");
    printf(short_form ? "%s\n" : "Docker Compose version v%s (wasmbox " WB_VERSION ")\n",
           WB_COMPOSE_VERSION);
    return 0;
}

static const subcommand subcommands[] = {
    {"build", compose_cmd_build, "Build or rebuild services"},
    {"config", cmd_config, "Parse, resolve and render compose file in canonical format"},
    {"create", compose_cmd_create, "Creates containers for a service."},
    {"down", compose_cmd_down, "Stop and remove containers, networks"},
    {"exec", cmd_exec, "Execute a command in a running container."},
    {"images", cmd_images, "List images used by the created containers"},
    {"kill", cmd_kill, "Force stop service containers."},
    {"logs", compose_cmd_logs, "View output from containers"},
    {"ls", NULL, "List running compose projects"},
    {"pause", cmd_pause, "Pause services"},
    {"port", cmd_port, "Print the public port for a port binding."},
    {"ps", cmd_ps, "List containers"},
    {"pull", compose_cmd_pull, "Pull service images"},
    {"push", compose_cmd_push, "Push service images"},
    {"restart", compose_cmd_restart, "Restart service containers"},
    {"rm", cmd_rm, "Removes stopped service containers"},
    {"run", compose_cmd_run, "Run a one-off command on a service."},
    {"start", compose_cmd_start, "Start services"},
    {"stop", cmd_stop, "Stop services"},
    {"top", cmd_top, "Display the running processes"},
    {"unpause", cmd_pause, "Unpause services"},
    {"up", compose_cmd_up, "Create and start containers"},
    {"version", cmd_version, "Show the Docker Compose version information"},
};

static void usage(FILE *out) {
    fputs("Usage:  wasmbox compose [OPTIONS] COMMAND\n\nDefine and run multi-container "
          "applications with Docker Compose (Wasm and Linux services)\n\nOptions:\n"
          "      --ansi string                Control when to print ANSI control characters "
          "(\"never\"|\"always\"|\"auto\") (default \"auto\")\n"
          "      --env-file stringArray       Specify an alternate environment file\n"
          "  -f, --file stringArray           Compose configuration files\n"
          "      --profile stringArray        Specify a profile to enable\n"
          "      --progress string            Set type of progress output (auto, tty, plain, "
          "quiet) (default \"auto\")\n"
          "      --project-directory string   Specify an alternate working directory\n"
          "                                   (default: the path of the, first specified, "
          "Compose file)\n"
          "  -p, --project-name string        Project name\n\nCommands:\n",
          out);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-11s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\nRun 'wasmbox compose COMMAND --help' for more information on a command.\n", out);
}

/* A global flag's value: "--name V", "--name=V", "-x V", "-xV". NULL when argv[*i] is not it. */
static const char *flag_value(int argc, char **argv, int *i, char shorthand, const char *name,
                              bool *bad) {
    const char *a = argv[*i];
    size_t nl = strlen(name);
    if (a[1] == '-' && !strncmp(a + 2, name, nl) && (a[2 + nl] == '=' || !a[2 + nl])) {
        if (a[2 + nl] == '=') return a + 3 + nl;
    } else if (shorthand && a[1] == shorthand) {
        if (a[2]) return a + 2;
    } else {
        return NULL;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "flag needs an argument: --%s\n", name);
        *bad = true;
        return NULL;
    }
    return argv[++*i];
}

static int parse_globals(int argc, char **argv, int *next) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        bool bad = false;
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 1;
        }
#define LIST(arr, n, cap)                                                                          \
    do {                                                                                           \
        if (n < cap) arr[n++] = (char *)v;                                                         \
    } while (0)
        if ((v = flag_value(argc, argv, &i, 'f', "file", &bad)))
            LIST(G.files, G.nfiles, 64);
        else if ((v = flag_value(argc, argv, &i, 'p', "project-name", &bad)))
            G.project_name = v;
        else if ((v = flag_value(argc, argv, &i, 0, "profile", &bad)))
            LIST(G.profiles, G.nprofiles, 32);
        else if ((v = flag_value(argc, argv, &i, 0, "env-file", &bad)))
            LIST(G.env_files, G.nenv_files, 16);
        else if ((v = flag_value(argc, argv, &i, 0, "project-directory", &bad)))
            G.project_dir = v;
        else if ((v = flag_value(argc, argv, &i, 0, "ansi", &bad)))
            G.ansi = v;
        else if ((v = flag_value(argc, argv, &i, 0, "progress", &bad)))
            G.progress = v;
        else if ((v = flag_value(argc, argv, &i, 0, "parallel", &bad)))
            ; /* accepted: wasmbox's own pace */
        else if (!strcmp(argv[i], "--compatibility"))
            ;
        else if (!bad) {
            fprintf(stderr, "unknown flag: %s\nSee 'wasmbox compose --help'.\n", argv[i]);
            return -1;
        }
#undef LIST
        if (bad) return -1;
    }
    *next = i;
    if (G.ansi && strcmp(G.ansi, "never") && strcmp(G.ansi, "always") && strcmp(G.ansi, "auto")) {
        wb_cli_error("invalid --ansi value \"%s\" (never, always or auto)", G.ansi);
        return -1;
    }
    if (G.progress && strcmp(G.progress, "auto") && strcmp(G.progress, "tty") &&
        strcmp(G.progress, "plain") && strcmp(G.progress, "quiet")) {
        wb_cli_error("unsupported --progress value \"%s\"", G.progress);
        return -1;
    }
    return 0;
}

int wb_cmd_compose(int argc, char **argv) {
    int next;
    memset(&G, 0, sizeof G);
    int rc = parse_globals(argc, argv, &next);
    if (rc != 0) return rc > 0 ? 0 : COMPOSE_EXIT_ERROR;
    if (next >= argc) {
        usage(stdout);
        return 0;
    }
    compose_cli cc = {0};
    bool tty = isatty(2);
    cc.ansi = G.ansi ? !strcmp(G.ansi, "always") || (!strcmp(G.ansi, "auto") && tty) : tty;
    cc.progress =
        G.progress ? !strcmp(G.progress, "tty") || (!strcmp(G.progress, "auto") && tty) : tty;
    if (G.ansi && !strcmp(G.ansi, "never")) cc.progress = false;
    if (G.progress && !strcmp(G.progress, "quiet")) cc.progress = false;
    const char *name = argv[next];
    if (!strcmp(name, "ls")) return cmd_ls(argc - next, argv + next);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (strcmp(name, subcommands[i].name) != 0) continue;
        rc = subcommands[i].fn(&cc, argc - next, argv + next);
        wb_compose_project_free(cc.p);
        return rc;
    }
    fprintf(stderr, "unknown docker command: \"compose %s\"\n", name);
    return COMPOSE_EXIT_ERROR;
}

bool compose_progress_quiet(void) {
    return G.progress && !strcmp(G.progress, "quiet");
}
