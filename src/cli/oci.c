/* `wasmbox oci` (also run as `wasmbox-runc`): a runc-compatible command line over
 * runtime/oci_run.h, what Docker (through containerd's runc shim) and Podman (through conmon)
 * call: global --root, --log, --log-format, --systemd-cgroup; create, start, state, kill,
 * delete, exec, ps, features, --version. Errors: one line on stderr, exit 1, and with
 * --log-format json a {"level":"error","msg":...,"time":...} line appended to --log (the shim
 * reports the last msg). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/timeutil.h"
#include "base/fsutil.h"
#include "cli/cli.h"
#include "runtime/launch.h"
#include "runtime/oci_run.h"

typedef struct oci_globals {
    const char *root, *log, *log_format;
    bool prefer_wasm;
} oci_globals;

static void oci_error(const oci_globals *g, const char *msg) {
    fprintf(stderr, "%s\n", msg);
    if (!g->log) return;
    FILE *f = fopen(g->log, "a");
    if (!f) return;
    char now[64];
    wb_time_now(now, sizeof now);
    if (g->log_format && !strcmp(g->log_format, "json")) {
        json_t *line = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", msg, "time", now);
        char *text = json_dumps(line, JSON_COMPACT);
        fprintf(f, "%s\n", text ? text : "{}");
        free(text);
        json_decref(line);
    } else {
        fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", now, msg);
    }
    fclose(f);
}

/* "--name V", "--name=V", "-x V": the value, advancing *i; NULL when argv[*i] is not it. */
static const char *opt(int argc, char **argv, int *i, const char *name, char shorthand) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    const char *dashed = a[0] == '-' && a[1] == '-' ? a + 2 : a[0] == '-' ? a + 1 : NULL;
    if (!dashed) return NULL;
    if (!strncmp(dashed, name, n) && dashed[n] == '=') return dashed + n + 1;
    bool is = !strcmp(dashed, name) || (shorthand && a[1] == shorthand && !a[2]);
    if (!is) return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

static bool flag(const char *a, const char *name) {
    const char *d = a[0] == '-' && a[1] == '-' ? a + 2 : a[0] == '-' ? a + 1 : NULL;
    return d && !strcmp(d, name);
}

static int fail(const oci_globals *g, const wb_error *err) {
    oci_error(g, err->msg);
    return 1;
}

static int cmd_create(const oci_globals *g, int argc, char **argv, bool and_start) {
    wb_oci_create_opts o = {.root = g->root, .prefer_wasm = g->prefer_wasm, .bundle = "."};
    bool detach = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = opt(argc, argv, &i, "bundle", 'b')))
            o.bundle = v;
        else if ((v = opt(argc, argv, &i, "pid-file", 0)))
            o.pid_file = v;
        else if ((v = opt(argc, argv, &i, "console-socket", 0)))
            o.console_socket = v;
        else if ((v = opt(argc, argv, &i, "preserve-fds", 0)))
            ;
        else if (flag(argv[i], "detach") || flag(argv[i], "d"))
            detach = true;
        else if (flag(argv[i], "no-pivot") || flag(argv[i], "no-new-keyring") ||
                 flag(argv[i], "keep"))
            ;
        else if (argv[i][0] != '-' && !o.id)
            o.id = argv[i];
        else {
            wb_error err;
            wb_error_set(&err, EINVAL, "flag provided but not defined: %s", argv[i]);
            return fail(g, &err);
        }
    }
    wb_error err;
    if (!o.id) {
        wb_error_set(&err, EINVAL, "container id cannot be empty");
        return fail(g, &err);
    }
    if (wb_oci_needs_full(g->root, o.id, o.bundle, o.prefer_wasm))
        return wb_cli_handoff("a Linux bundle");
    pid_t pid;
    if (wb_oci_create(&o, &pid, &err) < 0) return fail(g, &err);
    if (!and_start) return 0;
    if (wb_oci_start(g->root, o.id, &err) < 0) return fail(g, &err);
    if (detach) return 0;
    /* `run` in the foreground: the workload is this process's child; its status is ours, and
     * the container goes with it (as runc run) */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    wb_oci_delete(g->root, o.id, true, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The one positional argument (the container id) after the command's own flags. */
static const char *the_id(int argc, char **argv, int from) {
    for (int i = from; i < argc; i++) {
        if (!strcmp(argv[i], "--format") || !strcmp(argv[i], "-f")) {
            i++; /* its value */
            continue;
        }
        if (argv[i][0] != '-') return argv[i];
    }
    return NULL;
}

static int cmd_kill(const oci_globals *g, int argc, char **argv) {
    bool all = false;
    const char *id = NULL, *sigs = "SIGTERM";
    for (int i = 1; i < argc; i++) {
        if (flag(argv[i], "all") || flag(argv[i], "a"))
            all = true;
        else if (!id)
            id = argv[i];
        else
            sigs = argv[i];
    }
    wb_error err;
    int sig = wb_signal_parse(sigs);
    if (!id) {
        wb_error_set(&err, EINVAL, "container id cannot be empty");
        return fail(g, &err);
    }
    if (sig < 0) {
        wb_error_set(&err, EINVAL, "unknown signal \"%s\"", sigs);
        return fail(g, &err);
    }
    return wb_oci_kill(g->root, id, sig, all, &err) < 0 ? fail(g, &err) : 0;
}

static int cmd_exec(const oci_globals *g, int argc, char **argv) {
    const char *process = NULL, *pid_file = NULL, *id = NULL, *console_socket = NULL;
    bool detach = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = opt(argc, argv, &i, "process", 'p')))
            process = v;
        else if ((v = opt(argc, argv, &i, "pid-file", 0)))
            pid_file = v;
        else if ((v = opt(argc, argv, &i, "console-socket", 0)))
            console_socket = v;
        else if ((v = opt(argc, argv, &i, "preserve-fds", 0)))
            ;
        else if (flag(argv[i], "detach") || flag(argv[i], "d"))
            detach = true;
        else if (argv[i][0] != '-' && !id)
            id = argv[i];
        else if (argv[i][0] != '-')
            break; /* a command given inline: not supported without --process */
    }
    wb_error err;
    if (!id || !process) {
        wb_error_set(&err, EINVAL, "exec needs a container id and --process FILE");
        return fail(g, &err);
    }
    if (wb_oci_needs_full(g->root, id, NULL, false)) return wb_cli_handoff("a Linux container");
    int code;
    if (wb_oci_exec(g->root, id, process, detach, pid_file, console_socket, &code, &err) < 0) {
        oci_error(g, err.msg);
        return code > 1 ? code : 1;
    }
    return code;
}

/* update [-r FILE|-] [--memory N] [--memory-swap N] [--cpu-quota N] [--cpu-period N]
 * [--cpu-shares N] [--pids-limit N] ID: runc's flags (Docker's `docker update` goes through
 * containerd's runc shim as `update --resources -` with a linux.resources JSON on stdin). */
static int cmd_update(const oci_globals *g, int argc, char **argv) {
    static const struct {
        const char *flag, *group, *key;
    } numbers[] = {
        {"memory", "memory", "limit"},   {"memory-swap", "memory", "swap"},
        {"cpu-quota", "cpu", "quota"},   {"cpu-period", "cpu", "period"},
        {"cpu-shares", "cpu", "shares"}, {"pids-limit", "pids", "limit"},
    };
    const char *id = NULL, *file = NULL;
    json_t *res = json_object();
    wb_error err = {0};
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        bool known = false;
        if ((v = opt(argc, argv, &i, "resources", 'r'))) {
            file = v;
            continue;
        }
        for (size_t k = 0; k < sizeof numbers / sizeof numbers[0] && !known; k++) {
            if (!(v = opt(argc, argv, &i, numbers[k].flag, 0))) continue;
            known = true;
            char *end;
            long long n = strtoll(v, &end, 10);
            if (!*v || *end) {
                wb_error_set(&err, EINVAL, "invalid value \"%s\" for --%s", v, numbers[k].flag);
                goto out;
            }
            json_t *grp = json_object_get(res, numbers[k].group);
            if (!grp) json_object_set_new(res, numbers[k].group, grp = json_object());
            json_object_set_new(grp, numbers[k].key, json_integer(n));
        }
        if (known) continue;
        if (argv[i][0] == '-') {
            wb_error_set(&err, EINVAL, "flag provided but not defined: %s", argv[i]);
            goto out;
        }
        id = argv[i];
    }
    if (!id) {
        wb_error_set(&err, EINVAL, "container id cannot be empty");
        goto out;
    }
    char *text = NULL;
    if (file && !strcmp(file, "-")) { /* stdin: a pipe */
        size_t len = 0, cap = 4096;
        text = wb_malloc(cap);
        ssize_t n;
        while ((n = read(STDIN_FILENO, text + len, cap - 1 - len)) > 0) {
            len += (size_t)n;
            if (len == cap - 1) {
                if (cap >= (1u << 20)) break; /* (json_loads then finds it cut) */
                text = wb_realloc(text, cap *= 2);
            }
        }
        text[len] = '\0';
    } else if (file) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (wb_read_file(file, 1 << 20, &data, &len, &err) < 0) goto out;
        text = wb_malloc(len + 1);
        memcpy(text, data, len);
        text[len] = '\0';
        free(data);
    } else {
        text = json_dumps(res, JSON_COMPACT);
    }
    int u = wb_oci_update(g->root, id, text, &err);
    free(text);
    if (u == 0) rc = 0;
out:
    json_decref(res);
    return rc ? fail(g, &err) : 0;
}

static int print_json(json_t *v) {
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s ? s : "null");
    free(s);
    json_decref(v);
    return 0;
}

static int features(void) {
    json_t *f = json_pack("{s:s, s:s, s:[s,s,s,s,s,s], s:{s:[s,s,s,s,s,s,s,s]}, s:{s:s, s:s}}",
                          "ociVersionMin", "1.0.0", "ociVersionMax", "1.0.2", "hooks", "prestart",
                          "createRuntime", "createContainer", "startContainer", "poststart",
                          "poststop", "linux", "namespaces", "cgroup", "ipc", "mount", "network",
                          "pid", "user", "uts", "time", "annotations", "io.github.wasmbox.wasm",
                          "true", "run.oci.handler", "wasm, wasm-smart");
    return print_json(f);
}

static void usage(FILE *out) {
    fputs("Usage: wasmbox-runc [global options] COMMAND [options] CONTAINER_ID\n\n"
          "A runc-compatible runtime for WebAssembly (WASI) and Linux bundles (Docker's\n"
          "--add-runtime, Podman's --runtime).\n\n"
          "Commands: create, start, run, state, kill, delete, exec, ps, pause, resume, update,\n"
          "features. A Linux bundle's terminal: create/exec --console-socket PATH (the pty's\n"
          "master is sent there).\n\n"
          "Global options: --root DIR (default " WB_OCI_DEFAULT_ROOT "), --log FILE,\n"
          "--log-format text|json, --systemd-cgroup (not supported), --version.\n",
          out);
}

int wb_cmd_oci(int argc, char **argv) {
    oci_globals g = {.root = WB_OCI_DEFAULT_ROOT, .prefer_wasm = true};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *v;
        if ((v = opt(argc, argv, &i, "root", 0)))
            g.root = v;
        else if ((v = opt(argc, argv, &i, "log", 0)))
            g.log = v;
        else if ((v = opt(argc, argv, &i, "log-format", 0)))
            g.log_format = v;
        else if ((v = opt(argc, argv, &i, "criu", 0)))
            ;
        else if (flag(argv[i], "version") || flag(argv[i], "v")) {
            printf("wasmbox-runc version %s\nspec: 1.0.2\n", WB_VERSION);
            return 0;
        } else if (flag(argv[i], "help") || flag(argv[i], "h")) {
            usage(stdout);
            return 0;
        } else if (flag(argv[i], "debug") || flag(argv[i], "systemd-cgroup") ||
                   flag(argv[i], "rootless"))
            ; /* cgroupfs only: the systemd cgroup manager is not used */
        else {
            fprintf(stderr, "flag provided but not defined: %s\n", argv[i]);
            return 1;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[i];
    int cargc = argc - i;
    char **cargv = argv + i;
    wb_error err;
    const char *id = the_id(cargc, cargv, 1);
    if (!strcmp(cmd, "create")) return cmd_create(&g, cargc, cargv, false);
    if (!strcmp(cmd, "run")) return cmd_create(&g, cargc, cargv, true);
    if (!strcmp(cmd, "kill")) return cmd_kill(&g, cargc, cargv);
    if (!strcmp(cmd, "exec")) return cmd_exec(&g, cargc, cargv);
    if (!strcmp(cmd, "features")) return features();
    if (!strcmp(cmd, "update")) return cmd_update(&g, cargc, cargv);
    if (!id) {
        wb_error_set(&err, EINVAL, "container id cannot be empty");
        return fail(&g, &err);
    }
    if (!strcmp(cmd, "start")) return wb_oci_start(g.root, id, &err) < 0 ? fail(&g, &err) : 0;
    if (!strcmp(cmd, "delete")) {
        bool force = false;
        for (int k = 1; k < cargc; k++) force |= flag(cargv[k], "force") || flag(cargv[k], "f");
        return wb_oci_delete(g.root, id, force, &err) < 0 ? fail(&g, &err) : 0;
    }
    if (!strcmp(cmd, "state")) {
        json_t *st = wb_oci_state(g.root, id, &err);
        return st ? print_json(st) : fail(&g, &err);
    }
    if (!strcmp(cmd, "ps")) {
        pid_t *pids;
        size_t n;
        if (wb_oci_pids(g.root, id, &pids, &n, &err) < 0) return fail(&g, &err);
        json_t *a = json_array();
        for (size_t k = 0; k < n; k++) json_array_append_new(a, json_integer(pids[k]));
        free(pids);
        char *s = json_dumps(a, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
        json_decref(a);
        return 0;
    }
    if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
        if (wb_oci_pause(g.root, id, !strcmp(cmd, "pause"), &err) < 0) return fail(&g, &err);
        return 0;
    }
    wb_error_set(&err, EINVAL, "No help topic for '%s'", cmd);
    return fail(&g, &err);
}
