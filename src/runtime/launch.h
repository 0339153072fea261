/* runtime/launch.h — starting a container from its record: rebuilding its Wasm job (module,
 * rootfs, argv, env, mounts, limits) from container.json and the image, and running it
 *   - in this process, in the foreground (`run` without -d), its output teed into the log unless
 *     the container is removed afterwards;
 *   - under a monitor process (`run -d`, `start`): detached with setsid, the monitor owns the
 *     workload process, the log file (Docker's json-file lines) and the exit status, and applies
 *     the restart policy. The Wasm engine runs in the workload process, never in the monitor. */
#ifndef WB_RUNTIME_LAUNCH_H
#define WB_RUNTIME_LAUNCH_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/layers.h"
#include "runtime/container.h"

/* Exit codes Docker uses when a container's command cannot be started. */
#define WB_EXIT_CANNOT_INVOKE 126
#define WB_EXIT_NOT_FOUND     127

/* Run in the foreground, in this process. *exit_code is the module's status (130 after Ctrl+C,
 * 143 after SIGTERM), or 125/126/127 when it could not start (then -1 is returned with err).
 * Logs are captured unless HostConfig.AutoRemove. */
/* The files of the container's image (its record's ImageManifest; none: an image without
 * layers or no image), as oci/layers.h gives them. */
int wb_container_lowers(wb_container *c, wb_lowers *l, wb_error *err);

int wb_container_run_foreground(wb_container *c, int *exit_code, wb_error *err);

/* Start under a detached monitor and return once the workload runs (0), or once starting it
 * failed (-1, err, *exit_code 125/126/127; the container stays "created"). */
int wb_container_start_detached(wb_container *c, int *exit_code, wb_error *err);

/* Is the container's monitor (or foreground runner) alive? When it is not, a stale "running"
 * state is corrected in c and on disk (wb_container_mark_vanished). */
bool wb_container_refresh(wb_container *c);

/* Send a signal to the workload; SIGKILL also ends a detached monitor. */
int wb_container_signal(wb_container *c, int sig, wb_error *err);
/* `kill`: the signal, and for SIGKILL, SIGTERM and SIGINT the record that the user ended it (its
 * restart policy does not apply). */
int wb_container_kill(wb_container *c, int sig, wb_error *err);
/* `rm -f`: a running container is killed (its monitor reaps it and records the end; a monitor
 * that does not go is killed too), its cgroup removed, then the container. */
int wb_container_remove_force(wb_container *c, wb_error *err);

/* stop: record that the user stopped it (no restart), SIGTERM (or the container's stop signal),
 * then SIGKILL after timeout seconds (< 0: the container's --stop-timeout or 10). Returns once it
 * has exited. */
int wb_container_stop(wb_container *c, int timeout, wb_error *err);

/* Stop several containers together (`compose stop/down`, Ctrl+C of `compose up`): each is
 * recorded as stopped by the user (no restart), gets its stop signal (Config.StopSignal, else
 * SIGTERM) at once, and SIGKILL after its own timeout (timeout < 0: its StopTimeout, else 10 s).
 * Returns when all have ended. When *force (may be NULL) becomes nonzero meanwhile, everything
 * still running is killed at once. `stopped` (may be NULL) is told as each one ends. */
typedef void (*wb_stopped_fn)(void *ctx, wb_container *c); /* one has ended */
int wb_containers_stop(wb_container **cs, size_t n, int timeout, volatile sig_atomic_t *force,
                       wb_stopped_fn stopped, void *ctx);

/* "SIGTERM", "TERM", "term", "15" → the signal number; -1 when not a signal. */
int wb_signal_parse(const char *s);

/* `pause`/`unpause`: freeze or thaw every process of the running container (its cgroup's
 * freezer; a Wasm container gets a cgroup for it), and record State.Paused / Status "paused". */
int wb_container_pause(wb_container *c, bool pause, wb_error *err);
/* The host pids of the container's processes (its cgroup's, else its workload's), for `top`. */
int wb_container_pids(wb_container *c, pid_t **pids, size_t *n, wb_error *err);

/* What `stats` shows of a running container at one moment: cumulative CPU time, memory in use
 * and its limit (the host's memory when none), processes, block and network I/O (cumulative
 * bytes). A Linux container from its cgroup and its network namespace; a Wasm container from its
 * workload process (its limit is the linear memory's cap, or the host's memory). */
typedef struct wb_container_usage {
    uint64_t cpu_ns, mem, mem_limit, pids;
    uint64_t blk_read, blk_write, net_rx, net_tx;
} wb_container_usage;
int wb_container_usage_read(wb_container *c, wb_container_usage *u, wb_error *err);

/* `exec`: run a command in a running Linux container (linux_handler.h: its namespaces, cgroup,
 * user, capabilities and seccomp filter). env adds to the container's; user and workdir replace
 * its own when set. In the foreground (not detach) the command gets this process's stdio (stdin
 * only with interactive; a pty with tty) and *exit_code is its status; with detach it runs on
 * alone and *exit_code is 0. Fails (with *exit_code 126 or 127 and Docker's message) when the
 * command cannot start; a container that is not running or runs a Wasm module is an error. */
typedef struct wb_exec_opts {
    char *const *argv;
    size_t argc;
    char *const *env; /* "K=V" */
    size_t nenv;
    const char *user, *workdir;
    bool detach, interactive, tty, privileged;
} wb_exec_opts;
int wb_container_exec(wb_container *c, const wb_exec_opts *o, int *exit_code, wb_error *err);

/* Wait until the container is no longer running; *exit_code its ExitCode. */
int wb_container_wait(wb_container *c, int *exit_code, wb_error *err);

/* Path of the container's log (json-file lines). */
void wb_container_log_path(const wb_container *c, char *buf, size_t size);

#endif
