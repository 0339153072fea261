/* Several containers' logs (their json-file lines) printed as Compose prints them: each line
 * prefixed with the container's name padded to the longest, `name  | line`, in rotating colours
 * (cyan, yellow, green, magenta, blue, then the same bright) when colours are on. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/timeutil.h"
#include "cli/compose.h"
#include "runtime/launch.h"

typedef struct follower {
    char *name;
    char path[4200];
    FILE *f;
    long pos;
    bool tail_pending; /* -n N not applied yet (the file did not exist) */
    int color;
} follower;

struct compose_logs {
    compose_logs_opts o;
    follower *v;
    size_t n;
    size_t width;
    char *line;
    size_t cap;
};

static const char *const colors[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

compose_logs *compose_logs_new(const compose_logs_opts *o) {
    compose_logs *l = wb_calloc(1, sizeof *l);
    l->o = *o;
    return l;
}

/* The offset where the last `tail` lines of f start. */
static long tail_offset(FILE *f, long long tail) {
    fseek(f, 0, SEEK_END);
    long pos = ftell(f);
    long long newlines = 0;
    while (pos > 0) {
        pos--;
        fseek(f, pos, SEEK_SET);
        if (fgetc(f) == '\n' && ++newlines == tail + 1) return pos + 1;
    }
    return 0;
}

void compose_logs_add(compose_logs *l, wb_container *c, bool from_start) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, c->name)) return;
    l->v = wb_reallocarray(l->v, l->n + 1, sizeof *l->v);
    follower *f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    f->name = wb_strdup(c->name);
    f->color = (int)(l->n % (sizeof colors / sizeof colors[0]));
    l->n++;
    wb_container_log_path(c, f->path, sizeof f->path);
    f->f = fopen(f->path, "r");
    f->tail_pending = from_start && l->o.tail >= 0;
    if (f->f && !from_start) {
        fseek(f->f, 0, SEEK_END);
        f->pos = ftell(f->f);
    } else if (f->f && f->tail_pending) {
        f->pos = tail_offset(f->f, l->o.tail);
        f->tail_pending = false;
    }
    if (strlen(c->name) + 1 > l->width) l->width = strlen(c->name) + 1;
}

static void prefix(compose_logs *l, FILE *out, const char *name, int color) {
    if (!l->o.prefix) return;
    if (l->o.color)
        fprintf(out, "\033[%sm%-*s |\033[0m ", colors[color], (int)l->width, name);
    else
        fprintf(out, "%-*s | ", (int)l->width, name);
}

void compose_logs_note(compose_logs *l, const char *name, const char *fmt, ...) {
    int color = -1;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name)) color = l->v[i].color;
    va_list ap;
    va_start(ap, fmt);
    if (l->o.color && color >= 0) printf("\033[%sm", colors[color]);
    vprintf(fmt, ap);
    if (l->o.color && color >= 0) printf("\033[0m");
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* One json-file line of f's container; false when it is not one. */
static bool print_line(compose_logs *l, const follower *f, const char *text) {
    json_t *j = json_loads(text, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return false;
    }
    const char *t = json_string_value(json_object_get(j, "time"));
    if (l->o.since && t && wb_time_parse(t) < l->o.since) {
        json_decref(j);
        return true;
    }
    json_t *log = json_object_get(j, "log");
    const char *s = json_string_value(log);
    size_t len = json_string_length(log);
    prefix(l, stdout, f->name, f->color);
    if (l->o.timestamps && t) printf("%s ", t);
    fwrite(s ? s : "", 1, len, stdout);
    if (!len || s[len - 1] != '\n') putchar('\n');
    json_decref(j);
    return true;
}

size_t compose_logs_pump(compose_logs *l) {
    size_t printed = 0;
    for (size_t i = 0; i < l->n; i++) {
        follower *f = &l->v[i];
        if (!f->f) {
            f->f = fopen(f->path, "r");
            if (!f->f) continue;
            f->pos = f->tail_pending ? tail_offset(f->f, l->o.tail) : 0;
            f->tail_pending = false;
        }
        clearerr(f->f);
        fseek(f->f, f->pos, SEEK_SET);
        for (;;) {
            ssize_t n = getline(&l->line, &l->cap, f->f);
            if (n <= 0 || l->line[n - 1] != '\n') break; /* a partial line: later */
            f->pos += n;
            if (print_line(l, f, l->line)) printed++;
        }
    }
    if (printed) fflush(stdout);
    return printed;
}

void compose_logs_free(compose_logs *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].f) fclose(l->v[i].f);
        free(l->v[i].name);
    }
    free(l->v);
    free(l->line);
    free(l);
}

/* ---- compose logs ---- */

#include "cli/cli.h"
#include "cli/flags.h"

static const wb_cli_flag logs_flags[] = {
    {'f', "follow", NULL, "Follow log output", false},
    {0, "index", "int", "index of the container if service has multiple replicas", false},
    {0, "no-color", NULL, "Produce monochrome output", false},
    {0, "no-log-prefix", NULL, "Don't print prefix in logs", false},
    {0, "since", "string",
     "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 "
     "minutes)",
     false},
    {'n', "tail", "string",
     "Number of lines to show from the end of the logs for each container "
     "(default \"all\")",
     false},
    {'t', "timestamps", NULL, "Show timestamps", false},
    {0},
};
static const wb_cli_command logs_cmd = {"compose logs", "[OPTIONS] [SERVICE...]",
                                        "View output from containers", logs_flags, false};

int compose_cmd_logs(compose_cli *cc, int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&logs_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = COMPOSE_EXIT_ERROR;
    compose_ct *cts = NULL;
    size_t n = 0;
    if (compose_load(cc, NULL, 0, true) < 0 ||
        compose_check_services(cc, a.pos, (size_t)a.npos) < 0)
        goto out;
    compose_containers(cc, a.pos, (size_t)a.npos, true, false, &cts, &n);
    const char *tail = wb_cli_flag_value(&a, "tail"), *since = wb_cli_flag_value(&a, "since");
    const char *index = wb_cli_flag_value(&a, "index");
    compose_logs_opts o = {
        .follow = wb_cli_flag_set(&a, "follow"),
        .timestamps = wb_cli_flag_set(&a, "timestamps"),
        .color = !wb_cli_flag_set(&a, "no-color") && cc->ansi && isatty(1),
        .prefix = !wb_cli_flag_set(&a, "no-log-prefix"),
        .tail = !tail || !strcmp(tail, "all") ? -1 : atoll(tail),
        .since = since ? wb_cli_parse_since(since) : 0,
    };
    compose_logs *l = compose_logs_new(&o);
    for (size_t i = 0; i < n; i++)
        if (!index || cts[i].number == atoi(index)) compose_logs_add(l, cts[i].c, true);
    compose_logs_pump(l);
    while (o.follow) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
            if (wb_container_reload(cts[i].c, NULL) == 0 && wb_container_refresh(cts[i].c))
                any = true;
        struct timespec ts = {0, 50 * 1000 * 1000};
        if (!compose_logs_pump(l) && !any) break;
        nanosleep(&ts, NULL);
    }
    compose_logs_pump(l);
    compose_logs_free(l);
    rc = 0;
out:
    compose_cts_free(cts, n);
    wb_cli_args_release(&a);
    return rc;
}
