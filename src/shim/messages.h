/* shim/messages.h — the protobuf messages a containerd shim v2 exchanges (design/shim.md,
 * sections 1 and 2): ttrpc's envelope, the few well-known Google types, containerd's task service
 * (containerd.task.v2, also served as containerd.task.v3 with the same messages), its events and
 * the runtime options it passes on start. Each message is a C struct and a wb_pb_table (shim/pb.h
 * says what each field kind is in C); field numbers and names are containerd 1.6's. Decode with
 * wb_pb_decode(&wb_msg_X_table, ...), release with wb_pb_free(&wb_msg_X_table, &msg).
 *
 * Names: struct wb_msg_<proto name in snake case>, table wb_msg_<same>_table. Where containerd has
 * several messages of one shape ({id}, {id, exec_id}, {pid}, {container_id}) they share a struct
 * (typedefs give each its containerd name) but each keeps its own table, for its proto name. C
 * members named after stdio's macros get a suffix: stdin → stdin_path (musl defines stdin as a
 * macro that a member access cannot survive); the tables keep the .proto names. */
#ifndef WB_SHIM_MESSAGES_H
#define WB_SHIM_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim/pb.h"

/* ---- services, methods, topics ---- */

#define WB_MSG_TASK_SERVICE    "containerd.task.v2.Task"
#define WB_MSG_TASK_SERVICE_V3 "containerd.task.v3.Task" /* containerd 2.x, same messages */
#define WB_MSG_EVENTS_SERVICE  "containerd.services.events.ttrpc.v1.Events"
#define WB_MSG_EVENTS_FORWARD  "Forward"
/* request metadata key naming the containerd namespace of an event */
#define WB_MSG_NAMESPACE_KEY "containerd-namespace-ttrpc"
/* the Any type URL of an exec's process spec (JSON, not protobuf) */
#define WB_MSG_PROCESS_SPEC_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"

#define WB_MSG_TOPIC_CREATE       "/tasks/create"
#define WB_MSG_TOPIC_START        "/tasks/start"
#define WB_MSG_TOPIC_EXIT         "/tasks/exit"
#define WB_MSG_TOPIC_DELETE       "/tasks/delete"
#define WB_MSG_TOPIC_EXEC_ADDED   "/tasks/exec-added"
#define WB_MSG_TOPIC_EXEC_STARTED "/tasks/exec-started"
#define WB_MSG_TOPIC_PAUSED       "/tasks/paused"
#define WB_MSG_TOPIC_RESUMED      "/tasks/resumed"
#define WB_MSG_TOPIC_OOM          "/tasks/oom"

/* containerd.v1.types.Status, StateResponse.status */
enum {
    WB_MSG_STATUS_UNKNOWN = 0,
    WB_MSG_STATUS_CREATED = 1,
    WB_MSG_STATUS_RUNNING = 2,
    WB_MSG_STATUS_STOPPED = 3,
    WB_MSG_STATUS_PAUSED = 4,
    WB_MSG_STATUS_PAUSING = 5,
};

/* ---- google.protobuf and google.rpc ---- */

/* google.protobuf.Any. containerd's type URLs carry no "type.googleapis.com/" prefix
 * ("containerd.events.TaskExit"); wb_msg_any_unpack accepts both forms. */
typedef struct wb_msg_any {
    char *type_url;
    wb_pb_bytes value;
} wb_msg_any;

/* google.protobuf.Timestamp */
typedef struct wb_msg_timestamp {
    int64_t seconds;
    int32_t nanos;
} wb_msg_timestamp;

/* google.protobuf.Empty (the member only gives the struct a size) */
typedef struct wb_msg_empty {
    uint8_t unused_;
} wb_msg_empty;

/* google.rpc.Status */
typedef struct wb_msg_rpc_status {
    int32_t code; /* a gRPC code, WB_RPC_* in shim/ttrpc.h */
    char *message;
    wb_msg_any *details;
    size_t n_details;
} wb_msg_rpc_status;

/* ---- ttrpc (package ttrpc) ---- */

/* ttrpc.KeyValue */
typedef struct wb_msg_key_value {
    char *key, *value;
} wb_msg_key_value;

/* ttrpc.Request */
typedef struct wb_msg_ttrpc_request {
    char *service;
    char *method;
    wb_pb_bytes payload;
    int64_t timeout_nano;
    wb_msg_key_value *metadata;
    size_t n_metadata;
} wb_msg_ttrpc_request;

/* ttrpc.Response: status NULL = OK (success omits it, as observed) */
typedef struct wb_msg_ttrpc_response {
    wb_msg_rpc_status *status;
    wb_pb_bytes payload;
} wb_msg_ttrpc_response;

/* ---- containerd types ---- */

/* containerd.types.Mount */
typedef struct wb_msg_mount {
    char *type, *source, *target;
    char **options;
    size_t n_options;
} wb_msg_mount;

/* containerd.v1.types.ProcessInfo */
typedef struct wb_msg_process_info {
    uint32_t pid;
    wb_msg_any *info;
} wb_msg_process_info;

/* containerd.types.RuntimeVersion */
typedef struct wb_msg_runtime_version {
    char *version, *revision;
} wb_msg_runtime_version;

/* containerd.types.RuntimeInfo, the answer of `shim -info` (containerd 2.x); features holds the
 * OCI features JSON */
typedef struct wb_msg_runtime_info {
    char *name;
    wb_msg_runtime_version *version;
    wb_msg_any *options;
    wb_msg_any *features;
    wb_pb_map_entry *annotations;
    size_t n_annotations;
} wb_msg_runtime_info;

/* ---- containerd.task.v2 ---- */

/* {1 id}: PidsRequest, ConnectRequest, StatsRequest, PauseRequest, ResumeRequest */
typedef struct wb_msg_id_request {
    char *id;
} wb_msg_id_request;
typedef wb_msg_id_request wb_msg_pids_request, wb_msg_connect_request, wb_msg_stats_request,
    wb_msg_pause_request, wb_msg_resume_request;

/* {1 id, 2 exec_id}: StartRequest, DeleteRequest, StateRequest, WaitRequest */
typedef struct wb_msg_process_request {
    char *id, *exec_id;
} wb_msg_process_request;
typedef wb_msg_process_request wb_msg_start_request, wb_msg_delete_request, wb_msg_state_request,
    wb_msg_wait_request;

/* {1 pid}: CreateTaskResponse, StartResponse */
typedef struct wb_msg_pid_response {
    uint32_t pid;
} wb_msg_pid_response;
typedef wb_msg_pid_response wb_msg_create_task_response, wb_msg_start_response;

typedef struct wb_msg_create_task_request {
    char *id, *bundle;
    wb_msg_mount *rootfs;
    size_t n_rootfs;
    bool terminal;
    char *stdin_path, *stdout_path, *stderr_path; /* stdin, stdout, stderr */
    char *checkpoint, *parent_checkpoint;
    wb_msg_any *options;
} wb_msg_create_task_request;

typedef struct wb_msg_delete_response {
    uint32_t pid, exit_status;
    wb_msg_timestamp *exited_at;
} wb_msg_delete_response;

typedef struct wb_msg_state_response {
    char *id, *bundle;
    uint32_t pid;
    int32_t status; /* WB_MSG_STATUS_*; an enum, which protobuf writes as an int32 */
    char *stdin_path, *stdout_path, *stderr_path;
    bool terminal;
    uint32_t exit_status;
    wb_msg_timestamp *exited_at;
    char *exec_id;
} wb_msg_state_response;

typedef struct wb_msg_kill_request {
    char *id, *exec_id;
    uint32_t signal;
    bool all;
} wb_msg_kill_request;

typedef struct wb_msg_wait_response {
    uint32_t exit_status;
    wb_msg_timestamp *exited_at;
} wb_msg_wait_response;

typedef struct wb_msg_pids_response {
    wb_msg_process_info *processes;
    size_t n_processes;
} wb_msg_pids_response;

typedef struct wb_msg_connect_response {
    uint32_t shim_pid, task_pid;
    char *version;
} wb_msg_connect_response;

typedef struct wb_msg_shutdown_request {
    char *id;
    bool now;
} wb_msg_shutdown_request;

/* io.containerd.cgroups.v1.Metrics, the part a Wasm task's cgroup fills (what runc's shim packs
 * into StatsResponse.stats; `ctr task metrics` prints it): {2 pids PidsStat{1 current, 2 limit},
 * 3 cpu CPUStat{1 usage CPUUsage{1 total, 2 kernel, 3 user}}, 4 memory MemoryStat{1 cache, 2 rss,
 * 33 usage MemoryEntry{1 limit, 2 usage, 3 max, 4 failcnt}}, 9 memory_oom_control
 * MemoryOomControl{3 oom_kill}} */
typedef struct wb_msg_pids_stat {
    uint64_t current, limit;
} wb_msg_pids_stat;
typedef struct wb_msg_cpu_usage {
    uint64_t total, kernel, user;
} wb_msg_cpu_usage;
typedef struct wb_msg_cpu_stat {
    wb_msg_cpu_usage *usage;
} wb_msg_cpu_stat;
typedef struct wb_msg_memory_entry {
    uint64_t limit, usage, max, failcnt;
} wb_msg_memory_entry;
typedef struct wb_msg_memory_stat {
    uint64_t cache, rss;
    wb_msg_memory_entry *usage;
} wb_msg_memory_stat;
typedef struct wb_msg_memory_oom_control {
    uint64_t oom_kill;
} wb_msg_memory_oom_control;
typedef struct wb_msg_metrics {
    wb_msg_pids_stat *pids;
    wb_msg_cpu_stat *cpu;
    wb_msg_memory_stat *memory;
    wb_msg_memory_oom_control *memory_oom_control;
} wb_msg_metrics;

typedef struct wb_msg_stats_response {
    wb_msg_any *stats;
} wb_msg_stats_response;

typedef struct wb_msg_exec_process_request {
    char *id, *exec_id;
    bool terminal;
    char *stdin_path, *stdout_path, *stderr_path;
    wb_msg_any *spec; /* WB_MSG_PROCESS_SPEC_URL, the OCI process as JSON */
} wb_msg_exec_process_request;

typedef struct wb_msg_resize_pty_request {
    char *id, *exec_id;
    uint32_t width, height;
} wb_msg_resize_pty_request;

typedef struct wb_msg_close_io_request {
    char *id, *exec_id;
    bool close_stdin; /* stdin */
} wb_msg_close_io_request;

typedef struct wb_msg_update_task_request {
    char *id;
    wb_msg_any *resources;
    wb_pb_map_entry *annotations;
    size_t n_annotations;
} wb_msg_update_task_request;

typedef struct wb_msg_checkpoint_task_request {
    char *id, *path;
    wb_msg_any *options;
} wb_msg_checkpoint_task_request;

/* ---- events (containerd.events, and the ttrpc events service's envelope) ---- */

typedef struct wb_msg_task_io {
    char *stdin_path, *stdout_path, *stderr_path;
    bool terminal;
} wb_msg_task_io;

typedef struct wb_msg_task_create {
    char *container_id, *bundle;
    wb_msg_mount *rootfs;
    size_t n_rootfs;
    wb_msg_task_io *io;
    char *checkpoint;
    uint32_t pid;
} wb_msg_task_create;

typedef struct wb_msg_task_start {
    char *container_id;
    uint32_t pid;
} wb_msg_task_start;

typedef struct wb_msg_task_exit {
    char *container_id;
    char *id; /* the container id for the init process, else the exec id */
    uint32_t pid, exit_status;
    wb_msg_timestamp *exited_at;
} wb_msg_task_exit;

typedef struct wb_msg_task_delete {
    char *container_id;
    uint32_t pid, exit_status;
    wb_msg_timestamp *exited_at;
    char *id;
} wb_msg_task_delete;

typedef struct wb_msg_task_exec_added {
    char *container_id, *exec_id;
} wb_msg_task_exec_added;

typedef struct wb_msg_task_exec_started {
    char *container_id, *exec_id;
    uint32_t pid;
} wb_msg_task_exec_started;

/* {1 container_id}: TaskPaused, TaskResumed, TaskOOM */
typedef struct wb_msg_container_event {
    char *container_id;
} wb_msg_container_event;
typedef wb_msg_container_event wb_msg_task_paused, wb_msg_task_resumed, wb_msg_task_oom;

typedef struct wb_msg_envelope {
    wb_msg_timestamp *timestamp;
    char *namespace_; /* namespace */
    char *topic;
    wb_msg_any *event;
} wb_msg_envelope;

typedef struct wb_msg_forward_request {
    wb_msg_envelope *envelope;
} wb_msg_forward_request;

/* ---- runtime options (the Any on the shim's stdin and in Create.options) ---- */

/* containerd.runc.v1.Options: only the fields Docker was seen to send; the rest are skipped */
typedef struct wb_msg_runc_options {
    char *binary_name; /* 6 */
    char *root;        /* 7 */
} wb_msg_runc_options;

/* runtimeoptions.v1.Options: what the CRI plugin sends for a runtime type it does not know */
typedef struct wb_msg_runtime_options {
    char *type_url, *config_path;
} wb_msg_runtime_options;

/* ---- the tables ---- */

extern const wb_pb_table wb_msg_any_table, wb_msg_timestamp_table, wb_msg_empty_table,
    wb_msg_rpc_status_table;
extern const wb_pb_table wb_msg_key_value_table, wb_msg_ttrpc_request_table,
    wb_msg_ttrpc_response_table;
extern const wb_pb_table wb_msg_mount_table, wb_msg_process_info_table,
    wb_msg_runtime_version_table, wb_msg_runtime_info_table;
extern const wb_pb_table wb_msg_create_task_request_table, wb_msg_create_task_response_table,
    wb_msg_start_request_table, wb_msg_start_response_table, wb_msg_delete_request_table,
    wb_msg_delete_response_table, wb_msg_state_request_table, wb_msg_state_response_table,
    wb_msg_kill_request_table, wb_msg_wait_request_table, wb_msg_wait_response_table,
    wb_msg_pids_request_table, wb_msg_pids_response_table, wb_msg_connect_request_table,
    wb_msg_connect_response_table, wb_msg_shutdown_request_table, wb_msg_stats_request_table,
    wb_msg_stats_response_table, wb_msg_exec_process_request_table, wb_msg_resize_pty_request_table,
    wb_msg_close_io_request_table, wb_msg_update_task_request_table, wb_msg_pause_request_table,
    wb_msg_resume_request_table, wb_msg_checkpoint_task_request_table;
extern const wb_pb_table wb_msg_task_io_table, wb_msg_task_create_table, wb_msg_task_start_table,
    wb_msg_task_exit_table, wb_msg_task_delete_table, wb_msg_task_exec_added_table,
    wb_msg_task_exec_started_table, wb_msg_task_paused_table, wb_msg_task_resumed_table,
    wb_msg_task_oom_table, wb_msg_envelope_table, wb_msg_forward_request_table;
extern const wb_pb_table wb_msg_runc_options_table, wb_msg_runtime_options_table;
extern const wb_pb_table wb_msg_metrics_table, wb_msg_pids_stat_table, wb_msg_cpu_stat_table,
    wb_msg_cpu_usage_table, wb_msg_memory_stat_table, wb_msg_memory_entry_table,
    wb_msg_memory_oom_control_table;

/* Every table above, for the tests and the fuzz target; wb_msg_ntables entries. */
extern const wb_pb_table *const wb_msg_tables[];
extern const size_t wb_msg_ntables;

/* The table whose proto name is name ("containerd.events.TaskExit"), or NULL. */
const wb_pb_table *wb_msg_table_by_name(const char *name);

/* ---- Any ---- */

/* Pack msg (of table t) into *out: type_url t->name (containerd's form, no prefix) and value its
 * encoding. *out must be zeroed; it owns its copies afterwards (wb_pb_free(&wb_msg_any_table,
 * out)). -1 (EMSGSIZE) if the message is over WB_PB_MAX_SIZE. */
int wb_msg_any_pack(const wb_pb_table *t, const void *msg, wb_msg_any *out, wb_error *err);
/* Whether any holds a message of table t: its type URL is t->name, alone or after a '/'
 * ("type.googleapis.com/containerd.runc.v1.Options"). */
bool wb_msg_any_is(const wb_msg_any *any, const wb_pb_table *t);
/* Decode any's value as a message of table t into *out (zeroed; wb_pb_decode's ownership rules);
 * -1 (EINVAL) naming both types if any holds another type. */
int wb_msg_any_unpack(const wb_msg_any *any, const wb_pb_table *t, void *out, wb_error *err);

#endif
