/* Healthchecks of Compose services and the depends_on conditions that wait for them. wasmbox
 * has no daemon to run healthchecks in the background: `compose up` runs a service's check
 * itself while something waits for it (depends_on service_healthy, --wait), through `exec` in
 * the container, and records the result in the container's State.Health (Docker's shape), which
 * `compose ps` shows. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/compose.h"
#include "runtime/launch.h"

static long long hc_ns(const json_t *hc, const char *key, long long dflt) {
    json_t *v = json_object_get(hc, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : dflt;
}

static long long monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Run argv in c with a timeout; its exit status (-1 on timeout), its output in out. */
static int run_check(wb_container *c, char **argv, size_t argc, long long timeout_ns, char *out,
                     size_t cap) {
    int pfd[2];
    out[0] = '\0';
    if (pipe2(pfd, O_CLOEXEC) < 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        wb_exec_opts o = {.argv = argv, .argc = argc};
        int code = 0;
        wb_error err;
        if (wb_container_exec(c, &o, &code, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            _exit(code ? code : 1);
        }
        _exit(code);
    }
    close(pfd[1]);
    size_t got = 0;
    long long deadline = monotonic_ns() + timeout_ns;
    bool timed_out = false;
    for (;;) {
        long long left = deadline - monotonic_ns();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int r = poll(&p, 1, (int)(left / 1000000 + 1));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char buf[512];
        ssize_t n = read(pfd[0], buf, sizeof buf);
        if (n <= 0) break;
        size_t take = (size_t)n < cap - 1 - got ? (size_t)n : cap - 1 - got;
        memcpy(out + got, buf, take);
        got += take;
        out[got] = '\0';
    }
    close(pfd[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Record one probe in State.Health (Docker's rules: healthy at the first success; unhealthy
 * after `Retries` failures in a row once the start period is over). Returns 1 healthy, 0 not. */
static int record(wb_container *c, const json_t *hc, int code, const char *output,
                  const char *start) {
    if (wb_container_reload(c, NULL) < 0) return 0;
    json_t *st = json_object_get(c->doc, "State");
    json_t *h = json_object_get(st, "Health");
    if (!json_is_object(h)) {
        h = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
        json_object_set_new(st, "Health", h);
    }
    json_int_t streak = json_integer_value(json_object_get(h, "FailingStreak"));
    const char *status = json_string_value(json_object_get(h, "Status"));
    long long retries = hc_ns(hc, "Retries", 3);
    long long started = wb_time_parse(json_string_value(json_object_get(st, "StartedAt")));
    bool in_start = (long long)time(NULL) - started < hc_ns(hc, "StartPeriod", 0) / 1000000000LL;
    if (code == 0) {
        streak = 0;
        status = "healthy";
    } else if (!in_start) {
        streak++;
        if (streak >= retries) status = "unhealthy";
    }
    char end[64];
    wb_time_now(end, sizeof end);
    json_t *log = json_object_get(h, "Log");
    json_t *text = json_string(output); /* NULL when not UTF-8 */
    json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:o}", "Start", start, "End", end,
                                         "ExitCode", code, "Output",
                                         text ? text : json_string("(output not UTF-8)")));
    while (json_array_size(log) > 5) json_array_remove(log, 0);
    bool healthy = status && !strcmp(status, "healthy");
    json_object_set_new(h, "FailingStreak", json_integer(streak));
    /* (status may point into the value replaced here) */
    json_object_set_new(h, "Status", json_string(status ? status : "starting"));
    wb_container_save(c, NULL);
    return healthy;
}

int compose_health_probe(wb_container *c) {
    const json_t *hc = json_object_get(json_object_get(c->doc, "Config"), "Healthcheck");
    json_t *test = json_object_get(hc, "Test");
    const char *kind = json_string_value(json_array_get(test, 0));
    if (!kind || !strcmp(kind, "NONE")) return -1;
    /* copies: the exec re-reads the record, which frees the strings of the old one */
    char *argv[64];
    size_t argc = 0;
    if (!strcmp(kind, "CMD-SHELL")) {
        argv[argc++] = wb_strdup("/bin/sh");
        argv[argc++] = wb_strdup("-c");
        const char *s = json_string_value(json_array_get(test, 1));
        argv[argc++] = wb_strdup(s ? s : "");
    } else {
        for (size_t i = 1; i < json_array_size(test) && argc < 63; i++) {
            const char *s = json_string_value(json_array_get(test, i));
            argv[argc++] = wb_strdup(s ? s : "");
        }
    }
    argv[argc] = NULL;
    json_t *copy = json_deep_copy(hc);
    int rc = -1;
    if (argc) {
        char start[64], out[4096];
        wb_time_now(start, sizeof start);
        int code = run_check(c, argv, argc, hc_ns(copy, "Timeout", 30000000000LL), out, sizeof out);
        rc = record(c, copy, code, code < 0 ? "Health check exceeded timeout" : out, start);
    }
    for (size_t i = 0; i < argc; i++) free(argv[i]);
    json_decref(copy);
    return rc;
}

static const char *state_of(wb_container *c) {
    const char *s = json_string_value(json_object_get(json_object_get(c->doc, "State"), "Status"));
    return s ? s : "";
}

/* One look at the dependency's containers: 1 met, 0 not yet, -1 never (printed). */
static int check_once(compose_cli *cc, compose_ct *cts, size_t n, const char *dep,
                      const char *condition, long *next_ms) {
    bool healthy = !strcmp(condition, "service_healthy");
    int met = 1;
    for (size_t i = 0; i < n; i++) {
        wb_container *c = cts[i].c;
        wb_container_reload(c, NULL);
        bool live = wb_container_refresh(c);
        int code =
            (int)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "ExitCode"));
        if (!healthy) { /* service_completed_successfully */
            if (live || !strcmp(state_of(c), "created")) {
                met = 0;
            } else if (code != 0) {
                wb_cli_error("service \"%s\" didn't complete successfully: exit %d", dep, code);
                return -1;
            }
            continue;
        }
        if (!live) {
            wb_cli_error("dependency failed to start: container %s exited (%d)", c->name, code);
            return -1;
        }
        int h = compose_health_probe(c);
        const json_t *hc = json_object_get(json_object_get(c->doc, "Config"), "Healthcheck");
        if (h < 0) {
            wb_cli_error("dependency failed to start: container %s has no healthcheck configured",
                         c->name);
            return -1;
        }
        const char *st = json_string_value(
            json_object_get(json_object_get(json_object_get(c->doc, "State"), "Health"), "Status"));
        if (st && !strcmp(st, "unhealthy")) {
            wb_cli_error("dependency failed to start: container %s is unhealthy", c->name);
            return -1;
        }
        if (!h) met = 0;
        /* the next probe: start_interval, else the interval but at most a second (someone is
         * waiting; Docker probes every interval, 30 s by default) */
        long long iv = hc_ns(hc, "StartInterval", 0);
        if (!iv) iv = hc_ns(hc, "Interval", 1000000000LL);
        if (!hc_ns(hc, "StartInterval", 0) && iv > 1000000000LL) iv = 1000000000LL;
        if (iv / 1000000 < *next_ms) *next_ms = (long)(iv / 1000000);
    }
    return met;
}

int compose_wait_condition(compose_cli *cc, const char *dep, const char *condition,
                           volatile sig_atomic_t *stop) {
    if (!strcmp(condition, "service_started")) return 0;
    char *names[1] = {(char *)dep};
    compose_ct *cts;
    size_t n;
    compose_containers(cc, names, 1, true, false, &cts, &n);
    int rc = -1;
    for (;;) {
        long next_ms = 100;
        if (!strcmp(condition, "service_healthy")) next_ms = 1000;
        int r = check_once(cc, cts, n, dep, condition, &next_ms);
        if (r != 0) {
            rc = r > 0 ? 0 : -1;
            break;
        }
        for (long w = 0; w < next_ms; w += 20) {
            if (stop && *stop) goto out;
            sleep_ms(20);
        }
    }
out:
    compose_cts_free(cts, n);
    return rc;
}
