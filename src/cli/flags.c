#include "cli/flags.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "cli/cli.h"

/* Docker's flag errors: the message, then where to look, on stderr (no "Error: " prefix). */
static __attribute__((format(printf, 2, 3))) void flag_error(const wb_cli_command *cmd,
                                                             const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nSee 'wasmbox %s --help'.\n", cmd->name);
}

static int find_long(const wb_cli_command *cmd, const char *name, size_t n) {
    for (int i = 0; cmd->flags && cmd->flags[i].name; i++)
        if (strlen(cmd->flags[i].name) == n && !strncmp(cmd->flags[i].name, name, n)) return i;
    return -1;
}

static int find_short(const wb_cli_command *cmd, char c) {
    for (int i = 0; cmd->flags && cmd->flags[i].name; i++)
        if (cmd->flags[i].shorthand == c) return i;
    return -1;
}

/* "-t, --time" or "--time", as Docker names a flag in its value errors. */
static void flag_names(const wb_cli_flag *f, char *buf, size_t size) {
    if (f->shorthand)
        snprintf(buf, size, "-%c, --%s", f->shorthand, f->name);
    else
        snprintf(buf, size, "--%s", f->name);
}

static int add(const wb_cli_command *cmd, wb_cli_args *a, int flag, const char *value) {
    const wb_cli_flag *f = &cmd->flags[flag];
    char names[128];
    flag_names(f, names, sizeof names);
    if (!f->type && strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
        flag_error(cmd,
                   "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: parsing "
                   "\"%s\": invalid syntax",
                   value, names, value);
        return -1;
    }
    if (f->type && !strcmp(f->type, "int")) {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        (void)v;
        if (errno || !*value || *end) {
            flag_error(cmd,
                       "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: parsing "
                       "\"%s\": invalid syntax",
                       value, names, value);
            return -1;
        }
    }
    if (a->ngiven == WB_CLI_MAX_GIVEN) {
        flag_error(cmd, "too many flags (at most %d)", WB_CLI_MAX_GIVEN);
        return -1;
    }
    a->given[a->ngiven].flag = flag;
    a->given[a->ngiven].value = value;
    a->ngiven++;
    return 0;
}

static bool is_help(const char *a) {
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* One "-xyz" group: booleans, the last (or any) may take a value from the rest of the group or
 * the next argument. */
static int parse_shorts(const wb_cli_command *cmd, int argc, char **argv, int *i, wb_cli_args *a) {
    const char *arg = argv[*i];
    for (const char *c = arg + 1; *c; c++) {
        int k = find_short(cmd, *c);
        if (k < 0) {
            flag_error(cmd, "unknown shorthand flag: '%c' in %s", *c, arg);
            return -1;
        }
        if (!cmd->flags[k].type) {
            if (add(cmd, a, k, "true") < 0) return -1;
            continue;
        }
        const char *v = c[1] == '=' ? c + 2 : c[1] ? c + 1 : NULL;
        if (!v) {
            if (*i + 1 >= argc) {
                flag_error(cmd, "flag needs an argument: '%c' in -%c", *c, *c);
                return -1;
            }
            v = argv[++*i];
        }
        return add(cmd, a, k, v);
    }
    return 0;
}

int wb_cli_parse(const wb_cli_command *cmd, int argc, char **argv, wb_cli_args *a) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->pos = wb_calloc((size_t)argc + 1, sizeof *a->pos);
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (flags_done || arg[0] != '-' || !arg[1]) {
            a->pos[a->npos++] = argv[i];
            if (cmd->flags_before_args) flags_done = true;
            continue;
        }
        if (!strcmp(arg, "--")) {
            flags_done = true;
            continue;
        }
        if (is_help(arg)) {
            wb_cli_usage(cmd, stdout);
            return 1;
        }
        if (arg[1] != '-') {
            if (parse_shorts(cmd, argc, argv, &i, a) < 0) return -1;
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        int k = find_long(cmd, name, eq ? (size_t)(eq - name) : strlen(name));
        if (k < 0) {
            flag_error(cmd, "unknown flag: --%.*s", (int)(eq ? eq - name : (long)strlen(name)),
                       name);
            return -1;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && cmd->flags[k].type) {
            if (i + 1 >= argc) {
                flag_error(cmd, "flag needs an argument: %s", arg);
                return -1;
            }
            v = argv[++i];
        }
        if (add(cmd, a, k, v ? v : "true") < 0) return -1;
    }
    return 0;
}

void wb_cli_args_release(wb_cli_args *a) {
    free(a->pos);
    a->pos = NULL;
    a->npos = 0;
}

const char *wb_cli_flag_nth(const wb_cli_args *a, const char *name, int n) {
    for (int i = 0; i < a->ngiven; i++)
        if (!strcmp(a->cmd->flags[a->given[i].flag].name, name) && n-- == 0)
            return a->given[i].value;
    return NULL;
}

const char *wb_cli_flag_value(const wb_cli_args *a, const char *name) {
    const char *v = NULL;
    for (int i = 0; i < a->ngiven; i++)
        if (!strcmp(a->cmd->flags[a->given[i].flag].name, name)) v = a->given[i].value;
    return v;
}

bool wb_cli_flag_set(const wb_cli_args *a, const char *name) {
    const char *v = wb_cli_flag_value(a, name);
    return v && strcmp(v, "false") != 0;
}

void wb_cli_usage(const wb_cli_command *cmd, FILE *out) {
    fprintf(out, "Usage:  wasmbox %s%s%s\n\n%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
            cmd->summary);
    /* the descriptions start three columns after the longest "  -s, --name type" */
    size_t w = 0;
    for (int i = 0; cmd->flags && cmd->flags[i].name; i++) {
        const wb_cli_flag *f = &cmd->flags[i];
        size_t n = 8 + strlen(f->name) + (f->type ? 1 + strlen(f->type) : 0);
        if (!f->hidden && n > w) w = n;
    }
    if (!w) return;
    fputs("\nOptions:\n", out);
    /* sorted by long name, as Docker lists them */
    int order[WB_CLI_MAX_GIVEN], n = 0;
    for (int i = 0; cmd->flags[i].name && n < WB_CLI_MAX_GIVEN; i++) order[n++] = i;
    for (int i = 1; i < n; i++)
        for (int k = i;
             k > 0 && strcmp(cmd->flags[order[k]].name, cmd->flags[order[k - 1]].name) < 0; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        const wb_cli_flag *f = &cmd->flags[order[i]];
        if (f->hidden) continue;
        char col[160];
        if (f->shorthand)
            snprintf(col, sizeof col, "  -%c, --%s%s%s", f->shorthand, f->name, f->type ? " " : "",
                     f->type ? f->type : "");
        else
            snprintf(col, sizeof col, "      --%s%s%s", f->name, f->type ? " " : "",
                     f->type ? f->type : "");
        /* a help of several lines continues under its first */
        fprintf(out, "%-*s   ", (int)w, col);
        for (const char *h = f->help; *h; h++) {
            fputc(*h, out);
            if (*h == '\n') fprintf(out, "%*s", (int)w + 3, "");
        }
        fputc('\n', out);
    }
}

int wb_cli_parse_cmd(const wb_cli_command *cmd, int argc, char **argv, wb_cli_args *a, int *rc) {
    int p = wb_cli_parse(cmd, argc, argv, a);
    if (p == 0) return 0;
    *rc = p > 0 ? 0 : WB_EXIT_ENGINE;
    wb_cli_args_release(a);
    return -1;
}
