/* Parsing `wasmbox run` options (wasmtime-compatible spellings) and turning them into engine and
 * WASI settings: sizes, durations, argument values, --tcplisten sockets, the --timeout timer. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/run_opts.h"

extern char **environ;

/* ---- values ---- */

int wb_cli_parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || !isfinite(v)) return -1;
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {
        {"", 1},        {"b", 1},        {"k", 1024},      {"kb", 1024},
        {"kib", 1024},  {"m", 1 << 20},  {"mb", 1 << 20},  {"mib", 1 << 20},
        {"g", 1 << 30}, {"gb", 1 << 30}, {"gib", 1 << 30},
    };
    char unit[8];
    size_t n = strlen(end);
    if (n >= sizeof unit) return -1;
    for (size_t i = 0; i <= n; i++)
        unit[i] = (char)(end[i] >= 'A' && end[i] <= 'Z' ? end[i] + 32 : end[i]);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(unit, units[i].suffix) != 0) continue;
        double bytes = v * units[i].mult;
        if (bytes > 18446744073709551615.0) return -1;
        *out = (uint64_t)bytes;
        return 0;
    }
    return -1;
}

int wb_cli_parse_duration(const char *s, uint64_t *out_ns) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || !isfinite(v)) return -1;
    double mult;
    if (!strcmp(end, "ns"))
        mult = 1;
    else if (!strcmp(end, "us"))
        mult = 1e3;
    else if (!strcmp(end, "ms"))
        mult = 1e6;
    else if (!strcmp(end, "s") || !*end)
        mult = 1e9;
    else if (!strcmp(end, "m"))
        mult = 60e9;
    else if (!strcmp(end, "h"))
        mult = 3600e9;
    else
        return -1;
    double ns = v * mult;
    if (ns < 1 || ns > 9e18) return -1;
    *out_ns = (uint64_t)ns;
    return 0;
}

int wb_cli_parse_value(const char *s, uint8_t t, wb_value *v) {
    char *end = NULL;
    memset(v, 0, sizeof *v);
    v->type = t;
    errno = 0;
    switch (t) {
    case WB_I32: {
        long long x = strtoll(s, &end, 0);
        if (x < INT32_MIN || x > (long long)UINT32_MAX) return -1;
        v->of.i32 = (int32_t)(uint32_t)x;
        break;
    }
    case WB_I64:
        if (s[0] == '-')
            v->of.i64 = strtoll(s, &end, 0);
        else
            v->of.i64 = (int64_t)strtoull(s, &end, 0);
        break;
    case WB_F32: {
        float f = strtof(s, &end);
        memcpy(&v->of.f32, &f, 4);
        break;
    }
    case WB_F64: {
        double d = strtod(s, &end);
        memcpy(&v->of.f64, &d, 8);
        break;
    }
    default: return -1;
    }
    if (errno || !end || *end || end == s) return -1;
    return 0;
}

/* ---- --tcplisten ---- */

static int tcp_listen(const char *spec) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) {
        wb_cli_error("invalid argument for --tcplisten: `%s` (expected HOST:PORT)", spec);
        return -1;
    }
    size_t hl = (size_t)(colon - spec);
    memcpy(host, spec, hl);
    host[hl] = '\0';
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') { /* [::1]:8080 */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0) {
        wb_cli_error("--tcplisten %s: %s", spec, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        wb_cli_error("--tcplisten %s: %s", spec, strerror(errno));
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* ---- parsing ---- */

/* The value of option `name` at argv[*i]: "--name=V" or "--name V". */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (a[n] == '=') return a + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    wb_cli_error("flag needs an argument: %s", name);
    return NULL;
}

static bool is_opt(const char *a, const char *name) {
    size_t n = strlen(name);
    return !strncmp(a, name, n) && (a[n] == '\0' || a[n] == '=');
}

static int add_env(wb_run_opts *o, const char *v) {
    char *entry;
    if (strchr(v, '=')) {
        entry = wb_strdup(v);
    } else {
        const char *host = getenv(v);
        if (!host) return 0; /* inheriting an unset variable sets nothing, as wasmtime */
        size_t n = strlen(v) + strlen(host) + 2;
        entry = wb_malloc(n);
        snprintf(entry, n, "%s=%s", v, host);
    }
    if (entry[0] == '=') {
        wb_cli_error("invalid argument for --env: `%s` (expected NAME=VALUE or NAME)", v);
        free(entry);
        return -1;
    }
    o->env = wb_reallocarray(o->env, (size_t)o->nenv + 1, sizeof *o->env);
    o->env[o->nenv++] = entry;
    return 0;
}

/* HOST[::GUEST][:ro|:rw] (the mode suffix as in `-v`; "HOST::ro" is a guest named "ro") */
static int add_dir(wb_run_opts *o, const char *v) {
    size_t len = strlen(v);
    bool ro = false;
    if (len > 3 && (!strcmp(v + len - 3, ":ro") || !strcmp(v + len - 3, ":rw")) &&
        v[len - 4] != ':') {
        ro = v[len - 1] == 'o';
        len -= 3;
    }
    WB_AUTOFREE char *spec = wb_strndup(v, len);
    const char *sep = strstr(spec, "::");
    o->dirs = wb_reallocarray(o->dirs, (size_t)o->ndirs + 1, sizeof *o->dirs);
    wb_wasi_dir *d = &o->dirs[o->ndirs];
    d->host = sep ? wb_strndup(spec, (size_t)(sep - spec)) : wb_strdup(spec);
    d->guest = wb_strdup(sep ? sep + 2 : spec);
    d->read_only = ro;
    o->ndirs++;
    if (!d->host[0] || !d->guest[0]) {
        wb_cli_error("invalid argument for --dir: `%s` (expected HOST[::GUEST][:ro])", v);
        return -1;
    }
    return 0;
}

static int add_preload(wb_run_opts *o, const char *v) {
    const char *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1]) {
        wb_cli_error("invalid argument for --preload: `%s` (expected NAME=FILE.wasm)", v);
        return -1;
    }
    o->preload = wb_reallocarray(o->preload, (size_t)o->npreload + 1, sizeof *o->preload);
    o->preload[o->npreload].name = wb_strndup(v, (size_t)(eq - v));
    o->preload[o->npreload].path = wb_strdup(eq + 1);
    o->npreload++;
    return 0;
}

static void add_str(char ***v, int *n, const char *s) {
    *v = wb_reallocarray(*v, (size_t)*n + 1, sizeof **v);
    (*v)[(*n)++] = wb_strdup(s);
}

int wb_run_opts_env_file(wb_run_opts *o, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        wb_cli_error("open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[65536];
    int rc = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        if (*p == '=') {
            wb_cli_error("invalid environment variable in %s, line %d: %s", path, lineno, line);
            rc = -1;
            break;
        }
        if (add_env(o, p) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Docker's short flags that take a value; `-it` style groups of boolean short flags. */
static int short_flag(wb_run_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    char f = a[1];
    if (f == 'm') { /* -m SIZE */
        const char *v = a[2] ? a + 2 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v || wb_cli_parse_size(v, &o->memory) < 0 || o->memory == 0) {
            wb_cli_error("invalid argument \"%s\" for \"-m, --memory\" flag", v ? v : "");
            return -1;
        }
        o->image_only_flag = "--memory";
        return 0;
    }
    if (f == 'h' && !a[2] && *i + 1 >= argc) return 1; /* a lone -h: the help */
    if (f == 'e' || f == 'v' || f == 'w' || f == 'l' || f == 'h' || f == 'u' || f == 'p') {
        const char *v = a[2] ? a + 2 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v) {
            wb_cli_error("flag needs an argument: '%c' in -%c", f, f);
            return -1;
        }
        if (f == 'e') return add_env(o, v);
        if (f == 'v') add_str(&o->volumes, &o->nvolumes, v);
        if (f == 'w') o->workdir = v;
        if (f == 'l') add_str(&o->labels, &o->nlabels, v);
        if (f == 'h') o->hostname = v;
        if (f == 'u') o->user = v;
        if (f == 'p') add_str(&o->publish, &o->npublish, v);
        static const char names[] = "vwlhup";
        static const char *const flags[] = {"-v", "-w", "-l", "-h", "-u", "-p"};
        if (f != 'e') o->image_only_flag = flags[strchr(names, f) - names];
        return 0;
    }
    for (const char *c = a + 1; *c; c++) {
        if (*c == 'd')
            o->detach = true;
        else if (*c == 'i')
            o->interactive = true;
        else if (*c == 't')
            o->tty = true;
        else if (*c == 'P')
            o->publish_all = true;
        else {
            wb_cli_error("unknown shorthand flag: '%c' in %s\nSee 'wasmbox run --help'.", *c, a);
            return -1;
        }
    }
    return 0;
}

int wb_run_opts_parse(wb_run_opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    wb_error err;
    if (wb_engine_default(&o->engine, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    o->fuel = -1;
    o->stop_timeout = -1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--help")) return 1;
        if (a[1] != '-') {
            int r = short_flag(o, argc, argv, &i);
            if (r != 0) return r; /* 1: a lone -h, the help */
            continue;
        }
        /* flags for module files (wasmtime's) */
        if (is_opt(a, "--invoke")) {
            if (!(o->invoke = opt_value(argc, argv, &i, "--invoke"))) return -1;
            o->file_only_flag = "--invoke";
        } else if (is_opt(a, "--dir")) {
            if (!(v = opt_value(argc, argv, &i, "--dir")) || add_dir(o, v) < 0) return -1;
            o->file_only_flag = "--dir";
        } else if (is_opt(a, "--env")) {
            if (!(v = opt_value(argc, argv, &i, "--env")) || add_env(o, v) < 0) return -1;
        } else if (is_opt(a, "--env-file")) {
            if (!(v = opt_value(argc, argv, &i, "--env-file")) || wb_run_opts_env_file(o, v) < 0)
                return -1;
        } else if (is_opt(a, "--tcplisten")) {
            if (!(v = opt_value(argc, argv, &i, "--tcplisten"))) return -1;
            int fd = tcp_listen(v);
            if (fd < 0) return -1;
            o->listen_fds = wb_reallocarray(o->listen_fds, (size_t)o->nlisten + 1, sizeof(int));
            o->listen_fds[o->nlisten++] = fd;
            o->file_only_flag = "--tcplisten";
        } else if (!strcmp(a, "--net")) {
            o->net = true;
            o->file_only_flag = "--net";
        } else if (is_opt(a, "--preload")) {
            if (!(v = opt_value(argc, argv, &i, "--preload")) || add_preload(o, v) < 0) return -1;
            o->file_only_flag = "--preload";
        } else if (is_opt(a, "--fuel")) {
            char *end;
            if (!(v = opt_value(argc, argv, &i, "--fuel"))) return -1;
            errno = 0;
            long long f = strtoll(v, &end, 10);
            if (errno || *end || end == v || f < 0) {
                wb_cli_error("invalid argument for --fuel: `%s` (expected a non-negative integer)",
                             v);
                return -1;
            }
            o->fuel = f;
            o->cfg.interruptible = true;
            o->file_only_flag = "--fuel";
        } else if (is_opt(a, "--timeout")) {
            if (!(v = opt_value(argc, argv, &i, "--timeout"))) return -1;
            if (wb_cli_parse_duration(v, &o->timeout_ns) < 0) {
                wb_cli_error("invalid argument for --timeout: `%s` (expected e.g. 500ms, 10s, 2m)",
                             v);
                return -1;
            }
            o->cfg.interruptible = true;
            o->file_only_flag = "--timeout";
        } else if (is_opt(a, "--max-memory")) {
            if (!(v = opt_value(argc, argv, &i, "--max-memory"))) return -1;
            if (wb_cli_parse_size(v, &o->max_memory) < 0 || o->max_memory == 0) {
                wb_cli_error("invalid argument for --max-memory: `%s` (expected e.g. 64MiB, 1g)",
                             v);
                return -1;
            }
        } else if (!strcmp(a, "--bounds-checks")) {
            o->cfg.bounds_checks = true;
        } else if (is_opt(a, "--engine")) {
            if (!(v = opt_value(argc, argv, &i, "--engine"))) return -1;
            if (!wb_engine_parse(v, &o->engine)) {
                wb_cli_error(
                    "invalid argument \"%s\" for \"--engine\" flag: auto, interp or native", v);
                return -1;
            }
        } else if (!strcmp(a, "--dump-code")) {
            o->dump = true;
            o->file_only_flag = "--dump-code";
            /* flags for images (Docker's) */
        } else if (!strcmp(a, "--rm")) {
            o->rm = true;
            o->image_only_flag = "--rm";
        } else if (is_opt(a, "--hostname")) {
            if (!(o->hostname = opt_value(argc, argv, &i, "--hostname"))) return -1;
            o->image_only_flag = "--hostname";
        } else if (is_opt(a, "--user")) {
            if (!(o->user = opt_value(argc, argv, &i, "--user"))) return -1;
            o->image_only_flag = "--user";
        } else if (is_opt(a, "--cap-add")) {
            if (!(v = opt_value(argc, argv, &i, "--cap-add"))) return -1;
            add_str(&o->cap_add, &o->ncap_add, v);
            o->image_only_flag = "--cap-add";
        } else if (is_opt(a, "--cap-drop")) {
            if (!(v = opt_value(argc, argv, &i, "--cap-drop"))) return -1;
            add_str(&o->cap_drop, &o->ncap_drop, v);
            o->image_only_flag = "--cap-drop";
        } else if (is_opt(a, "--security-opt")) {
            if (!(v = opt_value(argc, argv, &i, "--security-opt"))) return -1;
            add_str(&o->security_opt, &o->nsecurity_opt, v);
            o->image_only_flag = "--security-opt";
        } else if (is_opt(a, "--ulimit")) {
            if (!(v = opt_value(argc, argv, &i, "--ulimit"))) return -1;
            add_str(&o->ulimits, &o->nulimits, v);
            o->image_only_flag = "--ulimit";
        } else if (!strcmp(a, "--privileged")) {
            o->privileged = true;
            o->image_only_flag = "--privileged";
        } else if (!strcmp(a, "--read-only")) {
            o->read_only = true;
            o->image_only_flag = "--read-only";
        } else if (!strcmp(a, "--detach")) {
            o->detach = true;
        } else if (!strcmp(a, "--interactive")) {
            o->interactive = true;
        } else if (!strcmp(a, "--tty")) {
            o->tty = true;
        } else if (is_opt(a, "--name")) {
            if (!(o->name = opt_value(argc, argv, &i, "--name"))) return -1;
            o->image_only_flag = "--name";
        } else if (is_opt(a, "--volume")) {
            if (!(v = opt_value(argc, argv, &i, "--volume"))) return -1;
            add_str(&o->volumes, &o->nvolumes, v);
            o->image_only_flag = "--volume";
        } else if (is_opt(a, "--workdir")) {
            if (!(o->workdir = opt_value(argc, argv, &i, "--workdir"))) return -1;
            o->image_only_flag = "--workdir";
        } else if (is_opt(a, "--entrypoint")) {
            if (!(o->entrypoint = opt_value(argc, argv, &i, "--entrypoint"))) return -1;
            o->entrypoint_set = true;
            o->image_only_flag = "--entrypoint";
        } else if (is_opt(a, "--runtime")) {
            if (!(o->runtime = opt_value(argc, argv, &i, "--runtime"))) return -1;
            o->image_only_flag = "--runtime";
        } else if (is_opt(a, "--platform")) {
            if (!(o->platform = opt_value(argc, argv, &i, "--platform"))) return -1;
            o->image_only_flag = "--platform";
        } else if (is_opt(a, "--network")) {
            if (!(o->network = opt_value(argc, argv, &i, "--network"))) return -1;
            o->image_only_flag = "--network";
        } else if (is_opt(a, "--network-alias")) {
            if (!(v = opt_value(argc, argv, &i, "--network-alias"))) return -1;
            add_str(&o->aliases, &o->naliases, v);
            o->image_only_flag = "--network-alias";
        } else if (is_opt(a, "--add-host")) {
            if (!(v = opt_value(argc, argv, &i, "--add-host"))) return -1;
            const char *colon = strchr(v, ':');
            if (!colon || colon == v || !colon[1]) {
                wb_cli_error("invalid argument \"%s\" for \"--add-host\" flag: bad format for "
                             "add-host: \"%s\"",
                             v, v);
                return -1;
            }
            add_str(&o->add_hosts, &o->nadd_hosts, v);
            o->image_only_flag = "--add-host";
        } else if (is_opt(a, "--dns")) {
            if (!(v = opt_value(argc, argv, &i, "--dns"))) return -1;
            struct in_addr a4;
            struct in6_addr a6;
            if (inet_pton(AF_INET, v, &a4) != 1 && inet_pton(AF_INET6, v, &a6) != 1) {
                wb_cli_error("invalid argument \"%s\" for \"--dns\" flag: %s is not an ip "
                             "address",
                             v, v);
                return -1;
            }
            add_str(&o->dns, &o->ndns, v);
            o->image_only_flag = "--dns";
        } else if (is_opt(a, "--dns-search")) {
            if (!(v = opt_value(argc, argv, &i, "--dns-search"))) return -1;
            add_str(&o->dns_search, &o->ndns_search, v);
            o->image_only_flag = "--dns-search";
        } else if (is_opt(a, "--dns-option")) {
            if (!(v = opt_value(argc, argv, &i, "--dns-option"))) return -1;
            add_str(&o->dns_options, &o->ndns_options, v);
            o->image_only_flag = "--dns-option";
        } else if (is_opt(a, "--ip")) {
            if (!(o->ip = opt_value(argc, argv, &i, "--ip"))) return -1;
            o->image_only_flag = "--ip";
        } else if (is_opt(a, "--publish")) {
            if (!(v = opt_value(argc, argv, &i, "--publish"))) return -1;
            add_str(&o->publish, &o->npublish, v);
            o->image_only_flag = "--publish";
        } else if (is_opt(a, "--publish-all")) {
            o->publish_all = true;
            o->image_only_flag = "--publish-all";
        } else if (is_opt(a, "--pull")) {
            if (!(o->pull = opt_value(argc, argv, &i, "--pull"))) return -1;
            if (strcmp(o->pull, "missing") != 0 && strcmp(o->pull, "always") != 0 &&
                strcmp(o->pull, "never") != 0) {
                wb_cli_error("invalid pull option: '%s': must be one of \"always\", \"missing\" "
                             "or \"never\"",
                             o->pull);
                return -1;
            }
            o->image_only_flag = "--pull";
        } else if (is_opt(a, "--restart")) {
            if (!(o->restart = opt_value(argc, argv, &i, "--restart"))) return -1;
            o->image_only_flag = "--restart";
        } else if (is_opt(a, "--stop-timeout")) {
            char *end;
            if (!(v = opt_value(argc, argv, &i, "--stop-timeout"))) return -1;
            long t = strtol(v, &end, 10);
            if (*end || end == v || t < 0 || t > 86400) {
                wb_cli_error("invalid argument \"%s\" for \"--stop-timeout\" flag", v);
                return -1;
            }
            o->stop_timeout = (int)t;
            o->image_only_flag = "--stop-timeout";
        } else if (is_opt(a, "--memory")) {
            if (!(v = opt_value(argc, argv, &i, "--memory"))) return -1;
            if (wb_cli_parse_size(v, &o->memory) < 0 || o->memory == 0) {
                wb_cli_error("invalid argument \"%s\" for \"-m, --memory\" flag", v);
                return -1;
            }
            o->image_only_flag = "--memory";
        } else if (is_opt(a, "--tmpfs")) {
            if (!(v = opt_value(argc, argv, &i, "--tmpfs"))) return -1;
            add_str(&o->tmpfs, &o->ntmpfs, v);
            o->image_only_flag = "--tmpfs";
        } else if (is_opt(a, "--shm-size")) {
            if (!(v = opt_value(argc, argv, &i, "--shm-size"))) return -1;
            if (wb_cli_parse_size(v, &o->shm_size) < 0 || o->shm_size == 0) {
                wb_cli_error("invalid argument \"%s\" for \"--shm-size\" flag", v);
                return -1;
            }
            o->image_only_flag = "--shm-size";
        } else if (!strcmp(a, "--init")) {
            o->init = true;
            o->image_only_flag = "--init";
        } else if (is_opt(a, "--memory-swap")) {
            if (!(v = opt_value(argc, argv, &i, "--memory-swap"))) return -1;
            uint64_t b;
            if (!strcmp(v, "-1")) {
                o->memory_swap = -1;
            } else if (wb_cli_parse_size(v, &b) < 0 || b == 0 || b > INT64_MAX) {
                wb_cli_error("invalid argument \"%s\" for \"--memory-swap\" flag", v);
                return -1;
            } else {
                o->memory_swap = (int64_t)b;
            }
            o->image_only_flag = "--memory-swap";
        } else if (is_opt(a, "--cpu-shares") || is_opt(a, "--pids-limit")) {
            bool shares = is_opt(a, "--cpu-shares");
            const char *flag = shares ? "--cpu-shares" : "--pids-limit";
            if (!(v = opt_value(argc, argv, &i, flag))) return -1;
            char *end;
            errno = 0;
            long long n = strtoll(v, &end, 10);
            if (errno || *end || end == v || (shares && n < 0) || (!shares && n < -1)) {
                wb_cli_error("invalid argument \"%s\" for \"%s\" flag", v, flag);
                return -1;
            }
            if (shares)
                o->cpu_shares = n;
            else
                o->pids_limit = n;
            o->image_only_flag = flag;
        } else if (is_opt(a, "--cpus")) {
            char *end;
            if (!(v = opt_value(argc, argv, &i, "--cpus"))) return -1;
            double c = strtod(v, &end);
            if (*end || end == v || !(c > 0) || c > 1024) {
                wb_cli_error("invalid argument \"%s\" for \"--cpus\" flag", v);
                return -1;
            }
            o->nano_cpus = (int64_t)(c * 1e9);
            o->image_only_flag = "--cpus";
        } else if (is_opt(a, "--label")) {
            if (!(v = opt_value(argc, argv, &i, "--label"))) return -1;
            add_str(&o->labels, &o->nlabels, v);
            o->image_only_flag = "--label";
        } else {
            wb_cli_error("unknown flag: %s\nSee 'wasmbox run --help'.", a);
            return -1;
        }
    }
    if (i >= argc) {
        wb_cli_error("\"wasmbox run\" requires at least 1 argument.\nSee 'wasmbox run --help'.");
        return -1;
    }
    o->path = argv[i++];
    o->args = argv + i;
    o->nargs = argc - i;
    return 0;
}

void wb_run_opts_release(wb_run_opts *o) {
    for (int i = 0; i < o->ndirs; i++) {
        free((char *)o->dirs[i].host);
        free((char *)o->dirs[i].guest);
    }
    free(o->dirs);
    for (int i = 0; i < o->nenv; i++) free(o->env[i]);
    free(o->env);
    for (int i = 0; i < o->nlisten; i++)
        if (o->listen_fds[i] >= 0) close(o->listen_fds[i]);
    free(o->listen_fds);
    for (int i = 0; i < o->npreload; i++) {
        free(o->preload[i].name);
        free(o->preload[i].path);
    }
    free(o->preload);
    for (int i = 0; i < o->nvolumes; i++) free(o->volumes[i]);
    free(o->volumes);
    for (int i = 0; i < o->nlabels; i++) free(o->labels[i]);
    free(o->labels);
    for (int i = 0; i < o->ncap_add; i++) free(o->cap_add[i]);
    free(o->cap_add);
    for (int i = 0; i < o->ncap_drop; i++) free(o->cap_drop[i]);
    free(o->cap_drop);
    for (int i = 0; i < o->nsecurity_opt; i++) free(o->security_opt[i]);
    free(o->security_opt);
    for (int i = 0; i < o->nulimits; i++) free(o->ulimits[i]);
    free(o->ulimits);
    for (int i = 0; i < o->ntmpfs; i++) free(o->tmpfs[i]);
    free(o->tmpfs);
    for (int i = 0; i < o->npublish; i++) free(o->publish[i]);
    free(o->publish);
    for (int i = 0; i < o->naliases; i++) free(o->aliases[i]);
    free(o->aliases);
    for (int i = 0; i < o->nadd_hosts; i++) free(o->add_hosts[i]);
    free(o->add_hosts);
    for (int i = 0; i < o->ndns; i++) free(o->dns[i]);
    free(o->dns);
    for (int i = 0; i < o->ndns_search; i++) free(o->dns_search[i]);
    free(o->dns_search);
    for (int i = 0; i < o->ndns_options; i++) free(o->dns_options[i]);
    free(o->dns_options);
}

int wb_run_opts_wasi(wb_run_opts *o, wb_wasi **out) {
    int argc = o->invoke ? 1 : 1 + o->nargs;
    char **argv = wb_calloc((size_t)argc + 1, sizeof *argv);
    argv[0] = (char *)o->path;
    for (int i = 1; i < argc; i++) argv[i] = o->args[i - 1];
    wb_wasi_config cfg = {
        .argc = argc,
        .argv = argv,
        .envc = o->nenv,
        .env = o->env,
        .dirs = o->dirs,
        .ndirs = o->ndirs,
        .listen_fds = o->listen_fds,
        .nlisten = o->nlisten,
        .stdio = {0, 1, 2},
        .allow_net = o->net,
    };
    wb_error err;
    int rc = wb_wasi_new(&cfg, out, &err);
    free(argv);
    /* the listening sockets belong to the WASI context now (or were closed by it) */
    for (int i = 0; i < o->nlisten; i++) o->listen_fds[i] = -1;
    if (rc < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- --timeout ---- */

/* The store the timer interrupts: signal-handler state (one timer per process, the CLI's). */
static wb_store *volatile timer_store;

static void on_timer(int sig) {
    (void)sig;
    wb_store *s = timer_store;
    if (s) wb_store_interrupt(s);
}

int wb_run_timer_start(wb_run_timer *t, wb_store *s, uint64_t ns) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_timer;
    /* no SA_RESTART: a guest blocked in accept/recv/poll gets EINTR back and meets the fuel
     * check on its way out */
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    timer_store = s;
    if (sigaction(SIGALRM, &sa, &t->old) != 0) {
        wb_cli_error("--timeout: %s", strerror(errno));
        return -1;
    }
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    pid_t tid = (pid_t)syscall(SYS_gettid);
#ifdef __GLIBC__
    sev._sigev_un._tid = tid;
#else /* musl (the static core) */
    sev.sigev_notify_thread_id = tid;
#endif
    if (timer_create(CLOCK_MONOTONIC, &sev, &t->id) != 0) {
        wb_cli_error("--timeout: %s", strerror(errno));
        sigaction(SIGALRM, &t->old, NULL);
        return -1;
    }
    /* fire at the deadline, then every 10 ms until the module has stopped */
    struct itimerspec its = {
        .it_value = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)},
        .it_interval = {0, 10 * 1000 * 1000},
    };
    timer_settime(t->id, 0, &its, NULL);
    t->armed = true;
    return 0;
}

void wb_run_timer_stop(wb_run_timer *t) {
    if (!t->armed) return;
    timer_delete(t->id);
    sigaction(SIGALRM, &t->old, NULL);
    timer_store = NULL;
    t->armed = false;
}
