/* Options of `wasmbox run`, parsed; the helpers that turn them into engine and WASI settings. */
#ifndef WB_CLI_RUN_OPTS_H
#define WB_CLI_RUN_OPTS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "wasi/wasi.h"
#include "wasm/native_tier.h"
#include "wasm/wasm.h"

typedef struct wb_run_preload {
    char *name;
    char *path;
} wb_run_preload;

typedef struct wb_run_opts {
    const char *path; /* the module */
    char **args;      /* after the module path */
    int nargs;
    const char *invoke;
    bool dump;
    wb_config cfg;
    wb_engine engine;    /* --engine (wasm/native_tier.h) */
    int64_t fuel;        /* -1: unlimited */
    uint64_t timeout_ns; /* 0: none */
    uint64_t max_memory; /* 0: none */
    wb_wasi_dir *dirs;
    int ndirs;
    char **env; /* "NAME=VALUE", owned */
    int nenv;
    int *listen_fds; /* bound and listening (owned until handed to WASI) */
    int nlisten;
    bool net;
    wb_run_preload *preload;
    int npreload;
    /* Docker's flags (running an image) */
    bool rm, detach, interactive, tty;
    bool read_only; /* --read-only: the container's root filesystem */
    /* Linux containers */
    const char *hostname, *user;
    char **cap_add, **cap_drop, **security_opt, **ulimits;
    int ncap_add, ncap_drop, nsecurity_opt, nulimits;
    bool privileged;
    int64_t memory_swap; /* --memory-swap bytes; -1 unlimited; 0 unset */
    int64_t cpu_shares;  /* --cpu-shares */
    int64_t pids_limit;  /* --pids-limit; 0 unset */
    char **tmpfs;        /* --tmpfs PATH[:OPTIONS] */
    int ntmpfs;
    uint64_t shm_size; /* --shm-size */
    bool init;         /* --init */
    const char *name, *workdir, *entrypoint, *runtime, *platform, *network;
    char **publish; /* -p [IP:][HOST:]CONTAINER[/PROTO] as given */
    int npublish;
    bool publish_all; /* -P */
    char **aliases;   /* --network-alias */
    int naliases;
    const char *ip;   /* --ip */
    char **add_hosts; /* --add-host host:ip */
    int nadd_hosts;
    char **dns, **dns_search, **dns_options; /* --dns, --dns-search, --dns-option */
    int ndns, ndns_search, ndns_options;
    const char *pull; /* --pull missing|always|never (NULL: missing) */
    bool entrypoint_set;
    char **volumes; /* -v HOST:GUEST[:ro] as given */
    int nvolumes;
    char **labels;
    int nlabels;
    bool used_file_only; /* a flag that only applies to a module file was given */
    const char *file_only_flag;
    const char *image_only_flag;
    /* containers */
    const char *restart; /* --restart NAME[:N] as given */
    int stop_timeout;    /* --stop-timeout; -1 unset */
    uint64_t memory;     /* --memory */
    int64_t nano_cpus;   /* --cpus */
    bool create_only;    /* `create`: make the container, do not start it */
    /* set by `compose` (not flags): borrowed */
    char **entrypoint_argv; /* non-NULL: the entrypoint as a list (may be empty: cleared) */
    int nentrypoint_argv;
    const json_t *config_extra; /* more Config keys (wb_container_spec.config_extra) */
    const json_t *endpoints;    /* NetworkingConfig.EndpointsConfig beyond --network-alias/--ip */
    char *created_id;           /* non-NULL: gets the new container's ID (65 bytes) */
    bool quiet;                 /* do not print the new container's ID */
} wb_run_opts;

/* Returns 0, 1 for --help, or -1 after printing the error. */
int wb_run_opts_parse(wb_run_opts *o, int argc, char **argv);
void wb_run_opts_release(wb_run_opts *o);
/* Read an --env-file into o->env (Docker's format: NAME=VALUE or NAME lines, # comments). */
int wb_run_opts_env_file(wb_run_opts *o, const char *path);
/* A WASI context from the options (stdio 0/1/2; argv = module path + args unless --invoke). */
int wb_run_opts_wasi(wb_run_opts *o, wb_wasi **out);

/* "64MiB", "1g", "65536" → bytes; "500ms", "10s", "2m", "1.5h" → nanoseconds. */
int wb_cli_parse_size(const char *s, uint64_t *out);
int wb_cli_parse_duration(const char *s, uint64_t *out_ns);
/* A command-line value of wasm type t (i32/i64 decimal or 0x hex, floats via strtod). */
int wb_cli_parse_value(const char *s, uint8_t t, wb_value *v);

/* --timeout: a timer on this thread that interrupts the store, repeating until it stops. */
typedef struct wb_run_timer {
    bool armed;
    timer_t id;
    struct sigaction old;
} wb_run_timer;
int wb_run_timer_start(wb_run_timer *t, wb_store *s, uint64_t ns);
void wb_run_timer_stop(wb_run_timer *t);

#endif
