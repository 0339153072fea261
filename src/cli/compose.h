/* The `wasmbox compose` command family (Docker Compose v2's CLI), shared between its files:
 *   compose.c           global flags, loading the project, dispatch, config, ls, ps and the small
 *                       commands over existing containers (stop, start, kill, rm, exec, ...)
 *   compose_up.c        up, down, create, run: networks, volumes, images, containers, Ctrl+C
 *   compose_logs.c      following several containers' logs with Compose's prefixes
 *   compose_progress.c  the "[+] Running 3/3" display (plain lines when not a terminal)
 *   compose_health.c    running healthchecks, waiting for depends_on conditions
 * The project model comes from src/compose (model.h); containers are made through the same code
 * as `run` (run_image.c) and driven through the runtime (launch.h). */
#ifndef WB_CLI_COMPOSE_H
#define WB_CLI_COMPOSE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "compose/model.h"
#include "runtime/container.h"

typedef struct compose_cli {
    wb_compose_project *p;
    bool ansi;     /* colours and cursor moves on stderr/stdout (terminal, --ansi) */
    bool progress; /* the live "[+] Running" block (stderr is a terminal, --progress tty/auto) */
} compose_cli;

int wb_cmd_compose(int argc, char **argv);

/* Load the project (cc->p) with the global flags: `services` are the services named on the
 * command line (they enable their profiles), `all_profiles` takes every service whatever its
 * profiles (commands over existing containers). -1 after printing the error. */
int compose_load(compose_cli *cc, char *const *services, size_t nservices, bool all_profiles);

/* ---- containers of the project (compose.c) ---- */

typedef struct compose_ct {
    wb_container *c;
    char *service; /* its label's value (a copy: c's record is replaced when reloaded) */
    int number;
    bool oneoff;
} compose_ct;

/* The project's containers (labels), for the services named (none: all), sorted by service
 * then number; with `all` false only running ones. *out malloc'd; free with compose_cts_free. */
int compose_containers(const compose_cli *cc, char *const *services, size_t nservices, bool all,
                       bool oneoff, compose_ct **out, size_t *n);
void compose_cts_free(compose_ct *cts, size_t n);
/* The service names given exist in the model ("no such service: NAME"); returns -1 after
 * printing the error. */
int compose_check_services(const compose_cli *cc, char *const *names, size_t n);

/* ---- up and friends (compose_up.c) ---- */
int compose_cmd_up(compose_cli *cc, int argc, char **argv);
int compose_cmd_down(compose_cli *cc, int argc, char **argv);
int compose_cmd_create(compose_cli *cc, int argc, char **argv);
int compose_cmd_run(compose_cli *cc, int argc, char **argv);
int compose_cmd_build(compose_cli *cc, int argc, char **argv);
int compose_cmd_pull(compose_cli *cc, int argc, char **argv);
int compose_cmd_push(compose_cli *cc, int argc, char **argv);
int compose_cmd_start(compose_cli *cc, int argc, char **argv);
int compose_cmd_restart(compose_cli *cc, int argc, char **argv);
/* Stop the containers in reverse dependency order (dependents first), each group together;
 * `force` as wb_containers_stop's. */
void compose_stop_ordered(compose_cli *cc, compose_ct *cts, size_t n, int timeout,
                          volatile sig_atomic_t *force, const char *verb_ing, const char *verb_ed);

/* ---- logs (compose_logs.c) ---- */
typedef struct compose_logs_opts {
    bool follow, timestamps, color, prefix;
    long long tail;  /* lines from the end per container; < 0: all */
    long long since; /* unix seconds; 0: all */
} compose_logs_opts;
typedef struct compose_logs compose_logs;
compose_logs *compose_logs_new(const compose_logs_opts *o);
/* Add a container (borrowed: it must outlive l) by name; its log is read from the start or from
 * its current end. Adding a name already there only re-reads its record. */
void compose_logs_add(compose_logs *l, wb_container *c, bool from_start);
/* Print what is new in every log (complete lines); returns the number of lines printed. */
size_t compose_logs_pump(compose_logs *l);
void compose_logs_free(compose_logs *l);
/* Print one line of our own in the stream ("demo-web-1 exited with code 0"), coloured as the
 * container's prefix when colours are on (name may be unknown to l). */
void compose_logs_note(compose_logs *l, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int compose_cmd_logs(compose_cli *cc, int argc, char **argv);

/* ---- progress (compose_progress.c) ---- */
typedef struct compose_progress compose_progress;
compose_progress *compose_progress_new(const compose_cli *cc, const char *title);
/* A resource's state: kind "Container", "Network", "Volume", "Image"; text "Creating",
 * "Created", ...; done marks the row finished (✔), failed (✘). */
void compose_progress_set(compose_progress *p, const char *kind, const char *name, const char *text,
                          bool done, bool failed);
void compose_progress_end(compose_progress *p);
/* --progress quiet: no progress at all. */
bool compose_progress_quiet(void);

/* ---- healthchecks (compose_health.c) ---- */
/* Run the container's healthcheck once (Config.Healthcheck); records State.Health. Returns 1
 * healthy, 0 unhealthy/starting, -1 when it has no healthcheck. */
int compose_health_probe(wb_container *c);
/* Wait for a depends_on condition of service `dep` ("service_healthy",
 * "service_completed_successfully", "service_started"); -1 after printing why not.
 * `stop` (may be NULL) ends the wait early (-1, nothing printed). */
int compose_wait_condition(compose_cli *cc, const char *dep, const char *condition,
                           volatile sig_atomic_t *stop);

/* Print "Error: ..." as the compose CLI does (the caller returns 1). */
#define COMPOSE_EXIT_ERROR 1

#endif
