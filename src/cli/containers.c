/* Container commands: ps, logs, stop, kill, rm, wait, start, restart, inspect, container prune,
 * stats — Docker's flags, columns, messages and exit codes, without a daemon: each reads and
 * updates the container records under ROOT/containers. */
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
#include "cli/gotemplate.h"
#include "cli/table.h"
#include "runtime/container.h"
#include "runtime/launch.h"

int wb_cmd_image_inspect(int argc, char **argv);

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
    if (!strcmp(status, "running")) {
        wb_cli_human_duration(time(NULL) - parse_time(sget(st, "StartedAt")), d, sizeof d);
        snprintf(buf, size, "Up %s", d);
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

int wb_cmd_ps(int argc, char **argv) {
    bool all = false, quiet = false, no_trunc = false, latest = false;
    const char *format = NULL;
    const char *filters[32];
    int nfilters = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-a") || !strcmp(a, "--all"))
            all = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            quiet = true;
        else if (!strcmp(a, "-aq") || !strcmp(a, "-qa"))
            all = quiet = true;
        else if (!strcmp(a, "--no-trunc"))
            no_trunc = true;
        else if (!strcmp(a, "-l") || !strcmp(a, "--latest"))
            latest = all = true;
        else if (!strcmp(a, "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strncmp(a, "--format=", 9))
            format = a + 9;
        else if ((!strcmp(a, "-f") || !strcmp(a, "--filter")) && i + 1 < argc && nfilters < 32)
            filters[nfilters++] = argv[++i];
        else if (!strncmp(a, "--filter=", 9) && nfilters < 32)
            filters[nfilters++] = a + 9;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            puts("Usage:  wasmbox ps [OPTIONS]\n\nList containers\n\nOptions:\n"
                 "  -a, --all             Show all containers (default shows just running)\n"
                 "  -f, --filter filter   status=, name=, label=, id=, ancestor=\n"
                 "      --format string   Format output using a Go template\n"
                 "  -l, --latest          Show the latest created container\n"
                 "      --no-trunc        Don't truncate output\n"
                 "  -q, --quiet           Only display container IDs");
            return 0;
        } else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
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
    const char *row_format = format && !strncmp(format, "table", 5) ? format + 5 : format;
    if (row_format && !*row_format) row_format = NULL;
    wb_table table;
    wb_table_init(&table, 7);
    static const char *const header[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                                         "STATUS",       "PORTS", "NAMES"};
    wb_table_add(&table, header);
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        wb_container *c = cs[i];
        const char *status = sget(json_object_get(c->doc, "State"), "Status");
        if (!all && !status_filter && strcmp(status, "running") != 0 &&
            strcmp(status, "restarting") != 0)
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
        char id[65], cmd[64], created[80], st[96], d[64];
        snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, c->id);
        command_text(c, no_trunc, cmd, sizeof cmd);
        wb_cli_human_duration(time(NULL) - parse_time(sget(c->doc, "Created")), d, sizeof d);
        snprintf(created, sizeof created, "%s ago", d);
        status_text(c, st, sizeof st);
        const char *image = sget(json_object_get(c->doc, "Config"), "Image");
        if (quiet) {
            puts(id);
        } else if (row_format) {
            json_t *j = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "ID", id, "Image", image,
                "Command", cmd, "CreatedAt", sget(c->doc, "Created"), "RunningFor", created,
                "Status", st, "State", status, "Names", c->name, "Ports", "", "Labels",
                json_deep_copy(json_object_get(json_object_get(c->doc, "Config"), "Labels")));
            wb_error err;
            if (wb_gotemplate_render(row_format, j, stdout, &err) < 0) {
                wb_cli_error("%s", err.msg);
                json_decref(j);
                wb_table_release(&table);
                free_containers(cs, n);
                return 1;
            }
            putchar('\n');
            json_decref(j);
        } else {
            const char *row[] = {id, image, cmd, created, st, "", c->name};
            wb_table_add(&table, row);
        }
    }
    if (!quiet && !row_format) wb_table_print(&table, stdout);
    wb_table_release(&table);
    free_containers(cs, n);
    return 0;
}

/* ---- opening the containers named on the command line ---- */

static wb_container *open_or_say(const char *ref) {
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
    return !strcmp(s, "running") || !strcmp(s, "restarting");
}

/* ---- stop, kill, restart ---- */

static int parse_signal(const char *s) {
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
                {"CONT", SIGCONT}, {"ALRM", SIGALRM}};
    if (!strncmp(s, "SIG", 3)) s += 3;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (!strcasecmp(s, sigs[i].name)) return sigs[i].sig;
    char *end;
    long n = strtol(s, &end, 10);
    return !*end && n > 0 && n < 65 ? (int)n : -1;
}

int wb_cmd_stop(int argc, char **argv) {
    int timeout = -1, first = 1, rc = 0;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if ((!strcmp(a, "-t") || !strcmp(a, "--time") || !strcmp(a, "--timeout")) &&
            first + 1 < argc)
            timeout = atoi(argv[++first]);
        else if (!strncmp(a, "--time=", 7))
            timeout = atoi(a + 7);
        else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox %s\" requires at least 1 argument.", argv[0]);
        return 1;
    }
    bool restart = !strcmp(argv[0], "restart");
    for (int i = first; i < argc; i++) {
        wb_container *c = open_or_say(argv[i]);
        if (!c) {
            rc = 1;
            continue;
        }
        wb_error err;
        if (wb_container_stop(c, timeout, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        } else if (restart) {
            int code;
            if (wb_container_start_detached(c, &code, &err) < 0) {
                wb_cli_error("%s", err.msg);
                rc = 1;
            } else {
                puts(argv[i]);
            }
        } else {
            puts(argv[i]);
        }
        wb_container_free(c);
    }
    return rc;
}

int wb_cmd_kill(int argc, char **argv) {
    int sig = SIGKILL, first = 1, rc = 0;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        const char *v = NULL;
        if ((!strcmp(a, "-s") || !strcmp(a, "--signal")) && first + 1 < argc)
            v = argv[++first];
        else if (!strncmp(a, "--signal=", 9))
            v = a + 9;
        else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
        if ((sig = parse_signal(v)) < 0) {
            wb_cli_error("invalid signal: %s", v);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox kill\" requires at least 1 argument.");
        return 1;
    }
    for (int i = first; i < argc; i++) {
        wb_container *c = open_or_say(argv[i]);
        if (!c) {
            rc = 1;
            continue;
        }
        wb_error err;
        if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
            /* a user's kill ends the container: no restart */
            char path[4200];
            snprintf(path, sizeof path, "%s/stopped", c->dir);
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd >= 0) close(fd);
        }
        if (wb_container_signal(c, sig, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        } else {
            puts(argv[i]);
        }
        wb_container_free(c);
    }
    return rc;
}

/* ---- rm, prune ---- */

static int force_remove(wb_container *c, wb_error *err) {
    if (is_running(c)) {
        json_t *st = json_object_get(c->doc, "State");
        int mon = (int)json_integer_value(json_object_get(st, "MonitorPid"));
        int pid = (int)json_integer_value(json_object_get(st, "Pid"));
        json_int_t mstart = json_integer_value(json_object_get(st, "MonitorStart"));
        char marker[4200];
        snprintf(marker, sizeof marker, "%s/stopped", c->dir);
        int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
        /* kill the workload and let its monitor reap it, record the exit and leave (no restart:
         * the marker says so); only a monitor that does not go is killed too */
        if (pid > 0) kill(pid, SIGKILL);
        bool separate = mon > 0 && mon != pid && (json_int_t)wb_process_start_time(mon) == mstart;
        for (int i = 0; i < 250 && separate && wb_process_start_time(mon); i++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (separate && (json_int_t)wb_process_start_time(mon) == mstart) kill(mon, SIGKILL);
    }
    char cg[256];
    snprintf(cg, sizeof cg, "/sys/fs/cgroup/cpu/wasmbox/%s", c->id);
    rmdir(cg);
    return wb_container_remove(c, err);
}

int wb_cmd_rm(int argc, char **argv) {
    bool force = false;
    int first = 1, rc = 0;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if (!strcmp(a, "-f") || !strcmp(a, "--force"))
            force = true;
        else if (!strcmp(a, "-v") || !strcmp(a, "--volumes"))
            continue; /* no anonymous volumes */
        else if (!strcmp(a, "-fv") || !strcmp(a, "-vf"))
            force = true;
        else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox rm\" requires at least 1 argument.");
        return 1;
    }
    for (int i = first; i < argc; i++) {
        wb_container *c = open_or_say(argv[i]);
        if (!c) {
            rc = 1;
            continue;
        }
        wb_error err;
        if (is_running(c) && !force) {
            wb_cli_error("You cannot remove a running container %s. Stop the container before "
                         "attempting removal or force remove",
                         c->id);
            rc = 1;
        } else if (force_remove(c, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        } else {
            puts(argv[i]);
        }
        wb_container_free(c);
    }
    return rc;
}

int wb_cmd_container_prune(int argc, char **argv) {
    (void)argc;
    (void)argv;
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

int wb_cmd_wait(int argc, char **argv) {
    if (argc < 2) {
        wb_cli_error("\"wasmbox wait\" requires at least 1 argument.");
        return 1;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        wb_container *c = open_or_say(argv[i]);
        if (!c) {
            rc = 1;
            continue;
        }
        int code;
        wb_error err;
        if (wb_container_wait(c, &code, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        } else {
            printf("%d\n", code);
            fflush(stdout);
        }
        wb_container_free(c);
    }
    return rc;
}

static int follow_logs(wb_container *c, long long tail, bool timestamps, int64_t since,
                       bool follow);

int wb_cmd_start(int argc, char **argv) {
    bool attach = false;
    int first = 1, rc = 0;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-a") || !strcmp(argv[first], "--attach"))
            attach = true;
        else if (!strcmp(argv[first], "-i") || !strcmp(argv[first], "--interactive"))
            continue;
        else {
            wb_cli_error("unknown flag: %s", argv[first]);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox start\" requires at least 1 argument.");
        return 1;
    }
    for (int i = first; i < argc; i++) {
        wb_container *c = open_or_say(argv[i]);
        if (!c) {
            rc = 1;
            continue;
        }
        if (is_running(c)) {
            if (!attach) puts(argv[i]);
            wb_container_free(c);
            continue;
        }
        int code;
        wb_error err;
        struct stat st;
        char log[4200];
        wb_container_log_path(c, log, sizeof log);
        off_t before = stat(log, &st) == 0 ? st.st_size : 0;
        if (wb_container_start_detached(c, &code, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = code ? code : 1;
        } else if (attach) {
            /* stream what this start writes (the log from its size before), then pass the exit
             * code through */
            follow_logs(c, -2 - (long long)before, false, 0, true);
            wb_container_wait(c, &code, &err);
            rc = code;
        } else {
            puts(argv[i]);
        }
        wb_container_free(c);
    }
    return rc;
}

/* ---- logs ---- */

static int64_t parse_since(const char *v) {
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

int wb_cmd_logs(int argc, char **argv) {
    bool follow = false, timestamps = false;
    long long tail = -1;
    int64_t since = 0;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if (!strcmp(a, "-f") || !strcmp(a, "--follow"))
            follow = true;
        else if (!strcmp(a, "-t") || !strcmp(a, "--timestamps"))
            timestamps = true;
        else if ((!strcmp(a, "-n") || !strcmp(a, "--tail")) && first + 1 < argc) {
            const char *v = argv[++first];
            tail = !strcmp(v, "all") ? -1 : atoll(v);
        } else if (!strncmp(a, "--tail=", 7))
            tail = !strcmp(a + 7, "all") ? -1 : atoll(a + 7);
        else if (!strcmp(a, "--since") && first + 1 < argc)
            since = parse_since(argv[++first]);
        else if (!strncmp(a, "--since=", 8))
            since = parse_since(a + 8);
        else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
    if (first + 1 != argc) {
        wb_cli_error("\"wasmbox logs\" requires exactly 1 argument.");
        return 1;
    }
    wb_container *c = open_or_say(argv[first]);
    if (!c) return 1;
    int rc = follow_logs(c, tail, timestamps, since, follow);
    wb_container_free(c);
    return rc;
}

/* ---- inspect ---- */

int wb_cmd_inspect(int argc, char **argv) {
    const char *format = NULL, *type = NULL;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if ((!strcmp(a, "-f") || !strcmp(a, "--format")) && first + 1 < argc)
            format = argv[++first];
        else if (!strncmp(a, "--format=", 9))
            format = a + 9;
        else if (!strcmp(a, "--type") && first + 1 < argc)
            type = argv[++first];
        else if (!strcmp(a, "-s") || !strcmp(a, "--size"))
            continue;
        else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox inspect\" requires at least 1 argument.");
        return 1;
    }
    if (type && !strcmp(type, "image")) return wb_cmd_image_inspect(argc, argv);
    /* containers first, as Docker; anything that is not a container is tried as an image */
    json_t *all = json_array();
    int rc = 0;
    for (int i = first; i < argc; i++) {
        wb_container *c;
        if (wb_container_open(wb_cli_root(), argv[i], &c, NULL) == 0) {
            wb_container_refresh(c);
            json_array_append(all, c->doc);
            wb_container_free(c);
            continue;
        }
        if (type && !strcmp(type, "container")) {
            wb_cli_error("No such container: %s", argv[i]);
            rc = 1;
            continue;
        }
        char *sub[] = {"inspect", NULL, NULL, NULL};
        int k = 1;
        if (format) {
            sub[k++] = "--format";
            sub[k++] = (char *)format;
        }
        sub[k++] = argv[i];
        if (json_array_size(all) == 0 && argc - first == 1) {
            json_decref(all);
            return wb_cmd_image_inspect(k, sub);
        }
        rc |= wb_cmd_image_inspect(k, sub);
    }
    if (format) {
        for (size_t i = 0; i < json_array_size(all); i++) {
            wb_error err;
            if (wb_gotemplate_render(format, json_array_get(all, i), stdout, &err) < 0) {
                wb_cli_error("%s", err.msg);
                rc = 1;
                break;
            }
            putchar('\n');
        }
    } else if (json_array_size(all)) {
        char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        puts(text ? text : "[]");
        free(text);
    }
    json_decref(all);
    return rc;
}

/* ---- stats ---- */

static bool proc_cpu_and_rss(int pid, unsigned long long *ticks, unsigned long long *rss_kb) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) return false;
    unsigned long long utime = 0, stime = 0, rss = 0;
    int field = 2;
    for (char *t = strtok(p + 1, " "); t; t = strtok(NULL, " ")) {
        field++;
        if (field == 14) utime = strtoull(t, NULL, 10);
        if (field == 15) stime = strtoull(t, NULL, 10);
        if (field == 24) {
            rss = strtoull(t, NULL, 10);
            break;
        }
    }
    *ticks = utime + stime;
    *rss_kb = rss * (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
    return true;
}

int wb_cmd_stats(int argc, char **argv) {
    bool no_stream = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--no-stream"))
            no_stream = true;
        else if (!strcmp(argv[first], "-a") || !strcmp(argv[first], "--all"))
            continue;
        else {
            wb_cli_error("unknown flag: %s", argv[first]);
            return 1;
        }
    }
    if (!no_stream) {
        wb_cli_error("streaming stats are not available yet: use --no-stream");
        return 1;
    }
    size_t n;
    wb_container **cs = all_containers(&n);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long mem_total_kb = (unsigned long long)sysconf(_SC_PHYS_PAGES) *
                                      (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
    /* two samples 200 ms apart give the CPU share */
    unsigned long long *t0 = wb_calloc(n + 1, sizeof *t0);
    for (size_t i = 0; i < n; i++) {
        unsigned long long rss;
        int pid =
            (int)json_integer_value(json_object_get(json_object_get(cs[i]->doc, "State"), "Pid"));
        if (is_running(cs[i])) proc_cpu_and_rss(pid, &t0[i], &rss);
    }
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("%-15s%-22s%-9s%-24s%-9s%-13s%-13s%s\n", "CONTAINER ID", "NAME", "CPU %",
           "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
    for (size_t i = 0; i < n; i++) {
        wb_container *c = cs[i];
        if (!is_running(c)) continue;
        bool named = first >= argc;
        for (int k = first; k < argc && !named; k++)
            named = !strcmp(argv[k], c->name) || !strncmp(c->id, argv[k], strlen(argv[k]));
        if (!named) continue;
        int pid = (int)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "Pid"));
        unsigned long long t1 = 0, rss = 0;
        proc_cpu_and_rss(pid, &t1, &rss);
        double cpu = (double)(t1 - t0[i]) / (double)hz / 0.2 * 100.0;
        uint64_t limit = (uint64_t)json_integer_value(
            json_object_get(json_object_get(c->doc, "HostConfig"), "Memory"));
        uint64_t lim_kb = limit ? limit / 1024 : mem_total_kb;
        char usage[32], lim[32], col[80], cpu_s[16], mem_s[16];
        wb_cli_human_size(rss * 1024, usage, sizeof usage);
        wb_cli_human_size((uint64_t)lim_kb * 1024, lim, sizeof lim);
        snprintf(col, sizeof col, "%s / %s", usage, lim);
        snprintf(cpu_s, sizeof cpu_s, "%.2f%%", cpu);
        snprintf(mem_s, sizeof mem_s, "%.2f%%",
                 lim_kb ? 100.0 * (double)rss / (double)lim_kb : 0.0);
        printf("%-15.12s%-22s%-9s%-24s%-9s%-13s%-13s%d\n", c->id, c->name, cpu_s, col, mem_s,
               "0B / 0B", "0B / 0B", 1);
    }
    free(t0);
    free_containers(cs, n);
    return 0;
}
