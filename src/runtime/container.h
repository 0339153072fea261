/* runtime/container.h — containers without a daemon: one directory per container under
 * ROOT/containers/<id> holding container.json (Docker's inspect shape: Id, Name, Created, Path,
 * Args, State, Image, Config, HostConfig, Platform, …), every update written to a temporary file
 * and renamed. Names are reserved race-free with O_EXCL files under ROOT/containers/names/. */
#ifndef WB_RUNTIME_CONTAINER_H
#define WB_RUNTIME_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define WB_CONTAINER_ID_LEN 64

typedef struct wb_mount {
    char *host, *guest;
    bool read_only;
    char *volume; /* a named volume's name (host is its _data directory); NULL: a bind mount */
} wb_mount;

/* What `run`/`create` asked for. Strings are borrowed for the duration of wb_container_create. */
typedef struct wb_container_spec {
    const char *name;      /* NULL: generated */
    const char *image_ref; /* as the user typed it */
    const char *image_id;  /* config digest */
    const char *image_manifest;
    char **entrypoint; /* the effective command: entrypoint + cmd (or user args) */
    size_t nentrypoint;
    char **cmd;
    size_t ncmd;
    char **env; /* "K=V", image env then -e */
    size_t nenv;
    const wb_mount *mounts;
    size_t nmounts;
    const char *workdir;
    const char *user;
    const json_t *exposed_ports; /* the image's {"8080/tcp": {}, ...} (NULL: none; copied) */
    const char *runtime;         /* the --runtime name as given (normalised) */
    const char *engine;          /* Wasm: --engine auto|interp|native (NULL: auto) */
    const char *platform;        /* "wasi/wasm" */
    bool auto_remove;            /* --rm */
    bool read_only_root;         /* --read-only */
    char **labels;               /* "K=V" */
    size_t nlabels;
    bool tty, interactive;
    const char *restart; /* "no", "on-failure", "always", "unless-stopped" (NULL: "no") */
    int restart_max;     /* on-failure:N */
    int stop_timeout;    /* seconds; < 0: not set (10) */
    uint64_t memory;     /* bytes a linear memory may grow to; 0: no limit */
    int64_t nano_cpus;   /* CPU quota in 1e-9 CPUs; 0: none */
    int64_t memory_swap, cpu_shares, pids_limit; /* Linux containers (cgroup.h's meanings) */
    char **tmpfs;                                /* --tmpfs PATH[:OPTIONS] */
    size_t ntmpfs;
    int64_t shm_size; /* 0: Docker's 64 MiB */
    bool init;
    const char *network;         /* "none" (default), "host", "bridge" or a network's name */
    const json_t *port_bindings; /* HostConfig.PortBindings {"80/tcp": [{HostIp, HostPort}]} */
    const json_t *endpoints;     /* NetworkingConfig.EndpointsConfig {net: {Aliases, IPAMConfig}} */
    const json_t *host_extra;    /* more HostConfig keys (ExtraHosts, Dns, DnsSearch, DnsOptions) */
    const json_t *config_extra;  /* more Config keys (StopSignal, Healthcheck in Docker's shape) */
    /* Linux containers */
    const char *hostname; /* NULL: the short ID */
    char **cap_add, **cap_drop, **security_opt;
    size_t ncap_add, ncap_drop, nsecurity_opt;
    const json_t *ulimits; /* [{"Name", "Soft", "Hard"}] (NULL: none; copied) */
    bool privileged;
    bool start_here; /* the calling process runs it at once (a foreground run): the
                      * record is written once, already running with this pid */
} wb_container_spec;

typedef struct wb_container {
    char root[4096];     /* ROOT (the store root) */
    char dir[4096 + 80]; /* ROOT/containers/<id> */
    char id[WB_CONTAINER_ID_LEN + 1];
    char name[256]; /* without the leading '/' */
    json_t *doc;    /* container.json */
    /* the image as the caller already loaded it (borrowed, for this process's launch only);
     * NULL: the launcher loads the record's ImageManifest */
    struct wb_images *store;
    struct wb_image *image;
    bool running_recorded; /* this process wrote the running state (create with start_here) */
    /* this process ran or reaped the workload, which has ended: nothing can write into the
     * container's directory any more, so wb_container_remove may keep it as a spare */
    bool workload_reaped;
} wb_container;

/* Create a container in state "created": reserves the name (Docker's conflict error if taken:
 * `Conflict. The container name "/x" is already in use by container "ID". You have to remove (or
 * rename) that container to be able to reuse that name.`), writes container.json. */
int wb_container_create(const char *root, const wb_container_spec *spec, wb_container **out,
                        wb_error *err);
/* Load by full ID, unique ID prefix or name. */
int wb_container_open(const char *root, const char *ref, wb_container **out, wb_error *err);
void wb_container_free(wb_container *c);

/* Re-read container.json (another process may have updated it). */
int wb_container_reload(wb_container *c, wb_error *err);
/* Write c->doc to container.json (temp file + rename). */
int wb_container_save(wb_container *c, wb_error *err);

/* State transitions (rewrite container.json atomically). monitor_start: the monitor's start time
 * (wb_process_start_time), or 0 to read it now. */
int wb_container_mark_running(wb_container *c, int pid, int monitor_pid,
                              unsigned long long monitor_start, wb_error *err);
int wb_container_mark_exited(wb_container *c, int exit_code, const char *error, wb_error *err);
/* The container's monitor (or foreground runner) is gone without recording an exit (killed with
 * SIGKILL, or crashed): marks it exited, ExitCode 137, Error WB_CONTAINER_VANISHED, FinishedAt the
 * time it was found, in c and on disk. Returns 1 without writing when the record on disk names
 * another run or state than c did (another process recorded something since; c now holds it). */
#define WB_CONTAINER_VANISHED                                                                      \
    "the container's process vanished without recording its exit (killed or crashed)"
int wb_container_mark_vanished(wb_container *c, wb_error *err);
/* The file in the container's directory where a Wasm workload records the tier that ran it
 * ("interp" or "native", wasm_handler.h's tier_path). */
#define WB_CONTAINER_ENGINE_FILE "engine"
/* The record as `inspect` shows it (new reference): c->doc, with State.WasmEngine set to the tier
 * that ran a Wasm container's module in its latest start ("interp", "native"; "" before it has
 * chosen one, or for a Linux container). HostConfig.WasmEngine stays what was asked for. */
json_t *wb_container_inspect_doc(const wb_container *c);
/* Does the record name a Linux container (HostConfig.Runtime runc)? */
bool wb_container_is_linux(const wb_container *c);
/* Remove the container's directory and its name. */
int wb_container_remove(wb_container *c, wb_error *err);

/* IDs of all containers (for ps, rm, and refusing `image rm` of an image in use). */
int wb_containers_list(const char *root, char ***ids, size_t *n, wb_error *err);
/* Is any container (of any state) using the image with this ID? Writes its ID. */
bool wb_containers_using_image(const char *root, const char *image_id, char *container_id);

/* The start time of a process (clock ticks since boot, /proc/PID/stat), 0 if it is gone: a pid
 * with the start time recorded for it identifies one process even after pids wrap. */
unsigned long long wb_process_start_time(int pid);

#endif
