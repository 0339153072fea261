/* runtime/cgroup.h — a container's control group, cgroup v1 (a directory per controller under
 * /sys/fs/cgroup/<controller>/wasmbox/<id>: memory, pids, cpu,cpuacct, freezer) or v2 (one
 * directory /sys/fs/cgroup/wasmbox/<id> with the controllers enabled), whichever the host mounts
 * (detected at run time). Limits as Docker sets them; statistics for `stats`; the freezer for
 * `pause`; the OOM-kill count for State.OOMKilled. */
#ifndef WB_RUNTIME_CGROUP_H
#define WB_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

typedef struct wb_cgroup_limits {
    int64_t memory;      /* bytes (--memory); 0: none */
    int64_t memory_swap; /* bytes of memory + swap (--memory-swap); 0: Docker's default (twice
                          * --memory when that is set), -1: unlimited */
    int64_t nano_cpus;   /* --cpus in 1e-9 CPUs (CFS quota over a 100 ms period); 0: none */
    int64_t cpu_shares;  /* --cpu-shares (v2: converted to cpu.weight as runc does); 0: default */
    int64_t pids_limit;  /* --pids-limit; 0 or -1: unlimited */
} wb_cgroup_limits;

typedef struct wb_cgroup wb_cgroup;

/* Which version the host has: 1 or 2 (0: none usable). */
int wb_cgroup_version(void);

/* Create the container's cgroup (every directory it needs; v2: the controllers enabled in the
 * parents' cgroup.subtree_control) and apply the limits (l may be NULL: none). A cgroup left over
 * from an earlier run of the same container is reused, every limit rewritten (defaults included).
 * Errors name the file and the value ("write 8388608 to /sys/fs/…/memory.limit_in_bytes: …");
 * a limit whose controller the host lacks is ENOTSUP; inconsistent limits are EINVAL. The
 * caller frees *out with wb_cgroup_free. */
int wb_cgroup_create(const char *container_id, const wb_cgroup_limits *l, wb_cgroup **out,
                     wb_error *err);
/* The same at a path relative to each hierarchy's root instead of wasmbox/<id>: an OCI spec's
 * linux.cgroupsPath ("/default/<id>", as containerd and Podman's cgroupfs manager write it);
 * EINVAL for a component that is empty, "..", or holds anything but [A-Za-z0-9_.-]. */
int wb_cgroup_create_path(const char *path, const wb_cgroup_limits *l, wb_cgroup **out,
                          wb_error *err);
int wb_cgroup_open_path(const char *path, wb_cgroup **out, wb_error *err);
/* The existing cgroup of a container (for stats, pause, exec); ENOENT when there is none. */
int wb_cgroup_open(const char *container_id, wb_cgroup **out, wb_error *err);
void wb_cgroup_free(wb_cgroup *cg);

/* Move a process into it (every controller). */
int wb_cgroup_add(wb_cgroup *cg, pid_t pid, wb_error *err);
/* Freeze or thaw every process in it; returns once the state is reached. */
int wb_cgroup_freeze(wb_cgroup *cg, bool frozen, wb_error *err);
/* Is it frozen now (false when that cannot be read)? */
bool wb_cgroup_frozen(wb_cgroup *cg);

typedef struct wb_cgroup_stats {
    uint64_t memory_usage; /* bytes (v1: usage_in_bytes minus cache, as docker stats shows) */
    uint64_t memory_limit; /* bytes; the host's memory when unlimited */
    uint64_t cpu_usage_ns; /* total CPU time */
    uint64_t pids;         /* current number of tasks */
    uint64_t pids_limit;   /* 0: unlimited */
    uint64_t oom_kills;    /* processes the OOM killer ended in this cgroup */
    uint64_t blkio_read, blkio_write; /* bytes */
} wb_cgroup_stats;
int wb_cgroup_stats_read(wb_cgroup *cg, wb_cgroup_stats *st, wb_error *err);

/* A descriptor that becomes readable when the OOM killer acts in it (v1: an eventfd registered
 * on memory.oom_control through cgroup.event_control; it also fires when the cgroup is removed,
 * so compare wb_cgroup_stats.oom_kills before reporting); read 8 bytes to re-arm. ENOTSUP on v2
 * and without the memory controller. The caller closes it. */
int wb_cgroup_oom_fd(wb_cgroup *cg, wb_error *err);

/* The pids of the processes in it, as the host sees them (for `top`); the caller frees *pids. */
int wb_cgroup_pids(wb_cgroup *cg, pid_t **pids, size_t *n, wb_error *err);

/* Remove its directories (they must be empty of processes: the caller has reaped them; a process
 * still in it is killed with SIGKILL first, and a frozen cgroup thawed so that it can die).
 * Refuses (EBUSY) when the calling process is in it. The wb_cgroup still has to be freed. */
int wb_cgroup_destroy(wb_cgroup *cg, wb_error *err);

/* Its directory: v2 the one directory (controller ignored); v1 the directory in the hierarchy of
 * `controller` ("memory", "pids", "cpu", "cpuacct", "freezer", "blkio"), NULL when that
 * controller is not mounted. Owned by cg. */
const char *wb_cgroup_path(const wb_cgroup *cg, const char *controller);

/* Module-internal, for the unit tests: v2 under another unified mount (a hybrid host's
 * /sys/fs/cgroup/unified); the v1 directories a mountinfo text gives (nothing is created: only
 * wb_cgroup_path and wb_cgroup_free apply); the cpu.shares -> cpu.weight conversion (0: the
 * default, 100). */
int wb__cgroup_create_v2(const char *root, const char *container_id, const wb_cgroup_limits *l,
                         wb_cgroup **out, wb_error *err);
int wb__cgroup_open_v2(const char *root, const char *container_id, wb_cgroup **out, wb_error *err);
int wb__cgroup_v1_layout(const char *mountinfo, const char *container_id, wb_cgroup **out,
                         wb_error *err);
int64_t wb__cgroup_cpu_weight(int64_t shares);

#endif
