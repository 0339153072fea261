/* The field tables of shim/messages.h. Each table names its message's full proto name, which is
 * also its Any type URL where containerd packs it (events, runtime options). Field numbers are
 * containerd 1.6.20's .proto files' (design/shim.md, section 1). */
#include "shim/messages.h"

#include <errno.h>
#include <string.h>

#include "base/alloc.h"

/* One field: number, kind, C struct, C member, .proto name; repeated kinds take their count
 * member's name, message kinds their element's table. */
#define SCALAR(n, kind, type, member, name)                                                        \
    { n, kind, name, offsetof(type, member), 0, NULL }
#define STR(n, type, member, name)  SCALAR(n, WB_PB_STRING, type, member, name)
#define U32(n, type, member, name)  SCALAR(n, WB_PB_UINT32, type, member, name)
#define BOOL(n, type, member, name) SCALAR(n, WB_PB_BOOL, type, member, name)
#define MSG(n, type, member, name, sub)                                                            \
    { n, WB_PB_MESSAGE, name, offsetof(type, member), 0, &sub }
#define REPEATED(n, kind, type, member, count, name, sub)                                          \
    { n, kind, name, offsetof(type, member), offsetof(type, count), sub }
#define TABLE(table, proto_name, type, fields)                                                     \
    const wb_pb_table table = {proto_name, sizeof(type), fields, sizeof fields / sizeof fields[0]}

/* ---- google.protobuf, google.rpc ---- */

/* google.protobuf.Any */
static const wb_pb_field any_fields[] = {
    STR(1, wb_msg_any, type_url, "type_url"),
    SCALAR(2, WB_PB_BYTES, wb_msg_any, value, "value"),
};
TABLE(wb_msg_any_table, "google.protobuf.Any", wb_msg_any, any_fields);

/* google.protobuf.Timestamp */
static const wb_pb_field timestamp_fields[] = {
    SCALAR(1, WB_PB_INT64, wb_msg_timestamp, seconds, "seconds"),
    SCALAR(2, WB_PB_INT32, wb_msg_timestamp, nanos, "nanos"),
};
TABLE(wb_msg_timestamp_table, "google.protobuf.Timestamp", wb_msg_timestamp, timestamp_fields);

/* google.protobuf.Empty */
const wb_pb_table wb_msg_empty_table = {"google.protobuf.Empty", sizeof(wb_msg_empty), NULL, 0};

/* google.rpc.Status */
static const wb_pb_field rpc_status_fields[] = {
    SCALAR(1, WB_PB_INT32, wb_msg_rpc_status, code, "code"),
    STR(2, wb_msg_rpc_status, message, "message"),
    REPEATED(3, WB_PB_REPEATED_MESSAGE, wb_msg_rpc_status, details, n_details, "details",
             &wb_msg_any_table),
};
TABLE(wb_msg_rpc_status_table, "google.rpc.Status", wb_msg_rpc_status, rpc_status_fields);

/* ---- ttrpc ---- */

/* ttrpc.KeyValue */
static const wb_pb_field key_value_fields[] = {
    STR(1, wb_msg_key_value, key, "key"),
    STR(2, wb_msg_key_value, value, "value"),
};
TABLE(wb_msg_key_value_table, "ttrpc.KeyValue", wb_msg_key_value, key_value_fields);

/* ttrpc.Request */
static const wb_pb_field ttrpc_request_fields[] = {
    STR(1, wb_msg_ttrpc_request, service, "service"),
    STR(2, wb_msg_ttrpc_request, method, "method"),
    SCALAR(3, WB_PB_BYTES, wb_msg_ttrpc_request, payload, "payload"),
    SCALAR(4, WB_PB_INT64, wb_msg_ttrpc_request, timeout_nano, "timeout_nano"),
    REPEATED(5, WB_PB_REPEATED_MESSAGE, wb_msg_ttrpc_request, metadata, n_metadata, "metadata",
             &wb_msg_key_value_table),
};
TABLE(wb_msg_ttrpc_request_table, "ttrpc.Request", wb_msg_ttrpc_request, ttrpc_request_fields);

/* ttrpc.Response */
static const wb_pb_field ttrpc_response_fields[] = {
    MSG(1, wb_msg_ttrpc_response, status, "status", wb_msg_rpc_status_table),
    SCALAR(2, WB_PB_BYTES, wb_msg_ttrpc_response, payload, "payload"),
};
TABLE(wb_msg_ttrpc_response_table, "ttrpc.Response", wb_msg_ttrpc_response, ttrpc_response_fields);

/* ---- containerd types ---- */

/* containerd.types.Mount */
static const wb_pb_field mount_fields[] = {
    STR(1, wb_msg_mount, type, "type"),
    STR(2, wb_msg_mount, source, "source"),
    STR(3, wb_msg_mount, target, "target"),
    REPEATED(4, WB_PB_REPEATED_STRING, wb_msg_mount, options, n_options, "options", NULL),
};
TABLE(wb_msg_mount_table, "containerd.types.Mount", wb_msg_mount, mount_fields);

/* containerd.v1.types.ProcessInfo */
static const wb_pb_field process_info_fields[] = {
    U32(1, wb_msg_process_info, pid, "pid"),
    MSG(2, wb_msg_process_info, info, "info", wb_msg_any_table),
};
TABLE(wb_msg_process_info_table, "containerd.v1.types.ProcessInfo", wb_msg_process_info,
      process_info_fields);

/* containerd.types.RuntimeVersion */
static const wb_pb_field runtime_version_fields[] = {
    STR(1, wb_msg_runtime_version, version, "version"),
    STR(2, wb_msg_runtime_version, revision, "revision"),
};
TABLE(wb_msg_runtime_version_table, "containerd.types.RuntimeVersion", wb_msg_runtime_version,
      runtime_version_fields);

/* containerd.types.RuntimeInfo */
static const wb_pb_field runtime_info_fields[] = {
    STR(1, wb_msg_runtime_info, name, "name"),
    MSG(2, wb_msg_runtime_info, version, "version", wb_msg_runtime_version_table),
    MSG(3, wb_msg_runtime_info, options, "options", wb_msg_any_table),
    MSG(4, wb_msg_runtime_info, features, "features", wb_msg_any_table),
    REPEATED(5, WB_PB_MAP_STRING, wb_msg_runtime_info, annotations, n_annotations, "annotations",
             NULL),
};
TABLE(wb_msg_runtime_info_table, "containerd.types.RuntimeInfo", wb_msg_runtime_info,
      runtime_info_fields);

/* ---- containerd.task.v2 ---- */

static const wb_pb_field id_fields[] = {
    STR(1, wb_msg_id_request, id, "id"),
};
static const wb_pb_field process_fields[] = {
    STR(1, wb_msg_process_request, id, "id"),
    STR(2, wb_msg_process_request, exec_id, "exec_id"),
};
static const wb_pb_field pid_fields[] = {
    U32(1, wb_msg_pid_response, pid, "pid"),
};

/* containerd.task.v2.CreateTaskRequest */
static const wb_pb_field create_task_request_fields[] = {
    STR(1, wb_msg_create_task_request, id, "id"),
    STR(2, wb_msg_create_task_request, bundle, "bundle"),
    REPEATED(3, WB_PB_REPEATED_MESSAGE, wb_msg_create_task_request, rootfs, n_rootfs, "rootfs",
             &wb_msg_mount_table),
    BOOL(4, wb_msg_create_task_request, terminal, "terminal"),
    STR(5, wb_msg_create_task_request, stdin_path, "stdin"),
    STR(6, wb_msg_create_task_request, stdout_path, "stdout"),
    STR(7, wb_msg_create_task_request, stderr_path, "stderr"),
    STR(8, wb_msg_create_task_request, checkpoint, "checkpoint"),
    STR(9, wb_msg_create_task_request, parent_checkpoint, "parent_checkpoint"),
    MSG(10, wb_msg_create_task_request, options, "options", wb_msg_any_table),
};
TABLE(wb_msg_create_task_request_table, "containerd.task.v2.CreateTaskRequest",
      wb_msg_create_task_request, create_task_request_fields);
/* containerd.task.v2.CreateTaskResponse */
TABLE(wb_msg_create_task_response_table, "containerd.task.v2.CreateTaskResponse",
      wb_msg_pid_response, pid_fields);

/* containerd.task.v2.StartRequest, StartResponse */
TABLE(wb_msg_start_request_table, "containerd.task.v2.StartRequest", wb_msg_process_request,
      process_fields);
TABLE(wb_msg_start_response_table, "containerd.task.v2.StartResponse", wb_msg_pid_response,
      pid_fields);

/* containerd.task.v2.DeleteRequest, DeleteResponse */
TABLE(wb_msg_delete_request_table, "containerd.task.v2.DeleteRequest", wb_msg_process_request,
      process_fields);
static const wb_pb_field delete_response_fields[] = {
    U32(1, wb_msg_delete_response, pid, "pid"),
    U32(2, wb_msg_delete_response, exit_status, "exit_status"),
    MSG(3, wb_msg_delete_response, exited_at, "exited_at", wb_msg_timestamp_table),
};
TABLE(wb_msg_delete_response_table, "containerd.task.v2.DeleteResponse", wb_msg_delete_response,
      delete_response_fields);

/* containerd.task.v2.StateRequest, StateResponse */
TABLE(wb_msg_state_request_table, "containerd.task.v2.StateRequest", wb_msg_process_request,
      process_fields);
static const wb_pb_field state_response_fields[] = {
    STR(1, wb_msg_state_response, id, "id"),
    STR(2, wb_msg_state_response, bundle, "bundle"),
    U32(3, wb_msg_state_response, pid, "pid"),
    /* enum containerd.v1.types.Status: int32 on the wire (a uint32 would write a negative value
     * in 5 bytes, not 10 as Go and protobuf-c do) */
    SCALAR(4, WB_PB_INT32, wb_msg_state_response, status, "status"),
    STR(5, wb_msg_state_response, stdin_path, "stdin"),
    STR(6, wb_msg_state_response, stdout_path, "stdout"),
    STR(7, wb_msg_state_response, stderr_path, "stderr"),
    BOOL(8, wb_msg_state_response, terminal, "terminal"),
    U32(9, wb_msg_state_response, exit_status, "exit_status"),
    MSG(10, wb_msg_state_response, exited_at, "exited_at", wb_msg_timestamp_table),
    STR(11, wb_msg_state_response, exec_id, "exec_id"),
};
TABLE(wb_msg_state_response_table, "containerd.task.v2.StateResponse", wb_msg_state_response,
      state_response_fields);

/* containerd.task.v2.KillRequest */
static const wb_pb_field kill_request_fields[] = {
    STR(1, wb_msg_kill_request, id, "id"),
    STR(2, wb_msg_kill_request, exec_id, "exec_id"),
    U32(3, wb_msg_kill_request, signal, "signal"),
    BOOL(4, wb_msg_kill_request, all, "all"),
};
TABLE(wb_msg_kill_request_table, "containerd.task.v2.KillRequest", wb_msg_kill_request,
      kill_request_fields);

/* containerd.task.v2.WaitRequest, WaitResponse */
TABLE(wb_msg_wait_request_table, "containerd.task.v2.WaitRequest", wb_msg_process_request,
      process_fields);
static const wb_pb_field wait_response_fields[] = {
    U32(1, wb_msg_wait_response, exit_status, "exit_status"),
    MSG(2, wb_msg_wait_response, exited_at, "exited_at", wb_msg_timestamp_table),
};
TABLE(wb_msg_wait_response_table, "containerd.task.v2.WaitResponse", wb_msg_wait_response,
      wait_response_fields);

/* containerd.task.v2.PidsRequest, PidsResponse */
TABLE(wb_msg_pids_request_table, "containerd.task.v2.PidsRequest", wb_msg_id_request, id_fields);
static const wb_pb_field pids_response_fields[] = {
    REPEATED(1, WB_PB_REPEATED_MESSAGE, wb_msg_pids_response, processes, n_processes, "processes",
             &wb_msg_process_info_table),
};
TABLE(wb_msg_pids_response_table, "containerd.task.v2.PidsResponse", wb_msg_pids_response,
      pids_response_fields);

/* containerd.task.v2.ConnectRequest, ConnectResponse */
TABLE(wb_msg_connect_request_table, "containerd.task.v2.ConnectRequest", wb_msg_id_request,
      id_fields);
static const wb_pb_field connect_response_fields[] = {
    U32(1, wb_msg_connect_response, shim_pid, "shim_pid"),
    U32(2, wb_msg_connect_response, task_pid, "task_pid"),
    STR(3, wb_msg_connect_response, version, "version"),
};
TABLE(wb_msg_connect_response_table, "containerd.task.v2.ConnectResponse", wb_msg_connect_response,
      connect_response_fields);

/* containerd.task.v2.ShutdownRequest */
static const wb_pb_field shutdown_request_fields[] = {
    STR(1, wb_msg_shutdown_request, id, "id"),
    BOOL(2, wb_msg_shutdown_request, now, "now"),
};
TABLE(wb_msg_shutdown_request_table, "containerd.task.v2.ShutdownRequest", wb_msg_shutdown_request,
      shutdown_request_fields);

/* io.containerd.cgroups.v1.Metrics and its parts (containerd/cgroups stats/v1/metrics.proto) */
#define U64(n, type, member, name) SCALAR(n, WB_PB_UINT64, type, member, name)
static const wb_pb_field pids_stat_fields[] = {
    U64(1, wb_msg_pids_stat, current, "current"),
    U64(2, wb_msg_pids_stat, limit, "limit"),
};
TABLE(wb_msg_pids_stat_table, "io.containerd.cgroups.v1.PidsStat", wb_msg_pids_stat,
      pids_stat_fields);
static const wb_pb_field cpu_usage_fields[] = {
    U64(1, wb_msg_cpu_usage, total, "total"),
    U64(2, wb_msg_cpu_usage, kernel, "kernel"),
    U64(3, wb_msg_cpu_usage, user, "user"),
};
TABLE(wb_msg_cpu_usage_table, "io.containerd.cgroups.v1.CPUUsage", wb_msg_cpu_usage,
      cpu_usage_fields);
static const wb_pb_field cpu_stat_fields[] = {
    MSG(1, wb_msg_cpu_stat, usage, "usage", wb_msg_cpu_usage_table),
};
TABLE(wb_msg_cpu_stat_table, "io.containerd.cgroups.v1.CPUStat", wb_msg_cpu_stat, cpu_stat_fields);
static const wb_pb_field memory_entry_fields[] = {
    U64(1, wb_msg_memory_entry, limit, "limit"),
    U64(2, wb_msg_memory_entry, usage, "usage"),
    U64(3, wb_msg_memory_entry, max, "max"),
    U64(4, wb_msg_memory_entry, failcnt, "failcnt"),
};
TABLE(wb_msg_memory_entry_table, "io.containerd.cgroups.v1.MemoryEntry", wb_msg_memory_entry,
      memory_entry_fields);
static const wb_pb_field memory_stat_fields[] = {
    U64(1, wb_msg_memory_stat, cache, "cache"),
    U64(2, wb_msg_memory_stat, rss, "rss"),
    MSG(33, wb_msg_memory_stat, usage, "usage", wb_msg_memory_entry_table),
};
TABLE(wb_msg_memory_stat_table, "io.containerd.cgroups.v1.MemoryStat", wb_msg_memory_stat,
      memory_stat_fields);
static const wb_pb_field memory_oom_control_fields[] = {
    U64(3, wb_msg_memory_oom_control, oom_kill, "oom_kill"),
};
TABLE(wb_msg_memory_oom_control_table, "io.containerd.cgroups.v1.MemoryOomControl",
      wb_msg_memory_oom_control, memory_oom_control_fields);
static const wb_pb_field metrics_fields[] = {
    MSG(2, wb_msg_metrics, pids, "pids", wb_msg_pids_stat_table),
    MSG(3, wb_msg_metrics, cpu, "cpu", wb_msg_cpu_stat_table),
    MSG(4, wb_msg_metrics, memory, "memory", wb_msg_memory_stat_table),
    MSG(9, wb_msg_metrics, memory_oom_control, "memory_oom_control",
        wb_msg_memory_oom_control_table),
};
TABLE(wb_msg_metrics_table, "io.containerd.cgroups.v1.Metrics", wb_msg_metrics, metrics_fields);

/* containerd.task.v2.StatsRequest, StatsResponse */
TABLE(wb_msg_stats_request_table, "containerd.task.v2.StatsRequest", wb_msg_id_request, id_fields);
static const wb_pb_field stats_response_fields[] = {
    MSG(1, wb_msg_stats_response, stats, "stats", wb_msg_any_table),
};
TABLE(wb_msg_stats_response_table, "containerd.task.v2.StatsResponse", wb_msg_stats_response,
      stats_response_fields);

/* containerd.task.v2.ExecProcessRequest */
static const wb_pb_field exec_process_request_fields[] = {
    STR(1, wb_msg_exec_process_request, id, "id"),
    STR(2, wb_msg_exec_process_request, exec_id, "exec_id"),
    BOOL(3, wb_msg_exec_process_request, terminal, "terminal"),
    STR(4, wb_msg_exec_process_request, stdin_path, "stdin"),
    STR(5, wb_msg_exec_process_request, stdout_path, "stdout"),
    STR(6, wb_msg_exec_process_request, stderr_path, "stderr"),
    MSG(7, wb_msg_exec_process_request, spec, "spec", wb_msg_any_table),
};
TABLE(wb_msg_exec_process_request_table, "containerd.task.v2.ExecProcessRequest",
      wb_msg_exec_process_request, exec_process_request_fields);

/* containerd.task.v2.ResizePtyRequest */
static const wb_pb_field resize_pty_request_fields[] = {
    STR(1, wb_msg_resize_pty_request, id, "id"),
    STR(2, wb_msg_resize_pty_request, exec_id, "exec_id"),
    U32(3, wb_msg_resize_pty_request, width, "width"),
    U32(4, wb_msg_resize_pty_request, height, "height"),
};
TABLE(wb_msg_resize_pty_request_table, "containerd.task.v2.ResizePtyRequest",
      wb_msg_resize_pty_request, resize_pty_request_fields);

/* containerd.task.v2.CloseIORequest */
static const wb_pb_field close_io_request_fields[] = {
    STR(1, wb_msg_close_io_request, id, "id"),
    STR(2, wb_msg_close_io_request, exec_id, "exec_id"),
    BOOL(3, wb_msg_close_io_request, close_stdin, "stdin"),
};
TABLE(wb_msg_close_io_request_table, "containerd.task.v2.CloseIORequest", wb_msg_close_io_request,
      close_io_request_fields);

/* containerd.task.v2.UpdateTaskRequest */
static const wb_pb_field update_task_request_fields[] = {
    STR(1, wb_msg_update_task_request, id, "id"),
    MSG(2, wb_msg_update_task_request, resources, "resources", wb_msg_any_table),
    REPEATED(3, WB_PB_MAP_STRING, wb_msg_update_task_request, annotations, n_annotations,
             "annotations", NULL),
};
TABLE(wb_msg_update_task_request_table, "containerd.task.v2.UpdateTaskRequest",
      wb_msg_update_task_request, update_task_request_fields);

/* containerd.task.v2.PauseRequest, ResumeRequest */
TABLE(wb_msg_pause_request_table, "containerd.task.v2.PauseRequest", wb_msg_id_request, id_fields);
TABLE(wb_msg_resume_request_table, "containerd.task.v2.ResumeRequest", wb_msg_id_request,
      id_fields);

/* containerd.task.v2.CheckpointTaskRequest (answered Unimplemented; decoded for its id) */
static const wb_pb_field checkpoint_task_request_fields[] = {
    STR(1, wb_msg_checkpoint_task_request, id, "id"),
    STR(2, wb_msg_checkpoint_task_request, path, "path"),
    MSG(3, wb_msg_checkpoint_task_request, options, "options", wb_msg_any_table),
};
TABLE(wb_msg_checkpoint_task_request_table, "containerd.task.v2.CheckpointTaskRequest",
      wb_msg_checkpoint_task_request, checkpoint_task_request_fields);

/* ---- events: type URL = proto name, e.g. "containerd.events.TaskExit" ---- */

/* containerd.events.TaskIO */
static const wb_pb_field task_io_fields[] = {
    STR(1, wb_msg_task_io, stdin_path, "stdin"),
    STR(2, wb_msg_task_io, stdout_path, "stdout"),
    STR(3, wb_msg_task_io, stderr_path, "stderr"),
    BOOL(4, wb_msg_task_io, terminal, "terminal"),
};
TABLE(wb_msg_task_io_table, "containerd.events.TaskIO", wb_msg_task_io, task_io_fields);

/* containerd.events.TaskCreate (/tasks/create) */
static const wb_pb_field task_create_fields[] = {
    STR(1, wb_msg_task_create, container_id, "container_id"),
    STR(2, wb_msg_task_create, bundle, "bundle"),
    REPEATED(3, WB_PB_REPEATED_MESSAGE, wb_msg_task_create, rootfs, n_rootfs, "rootfs",
             &wb_msg_mount_table),
    MSG(4, wb_msg_task_create, io, "io", wb_msg_task_io_table),
    STR(5, wb_msg_task_create, checkpoint, "checkpoint"),
    U32(6, wb_msg_task_create, pid, "pid"),
};
TABLE(wb_msg_task_create_table, "containerd.events.TaskCreate", wb_msg_task_create,
      task_create_fields);

/* containerd.events.TaskStart (/tasks/start) */
static const wb_pb_field task_start_fields[] = {
    STR(1, wb_msg_task_start, container_id, "container_id"),
    U32(2, wb_msg_task_start, pid, "pid"),
};
TABLE(wb_msg_task_start_table, "containerd.events.TaskStart", wb_msg_task_start, task_start_fields);

/* containerd.events.TaskExit (/tasks/exit) */
static const wb_pb_field task_exit_fields[] = {
    STR(1, wb_msg_task_exit, container_id, "container_id"),
    STR(2, wb_msg_task_exit, id, "id"),
    U32(3, wb_msg_task_exit, pid, "pid"),
    U32(4, wb_msg_task_exit, exit_status, "exit_status"),
    MSG(5, wb_msg_task_exit, exited_at, "exited_at", wb_msg_timestamp_table),
};
TABLE(wb_msg_task_exit_table, "containerd.events.TaskExit", wb_msg_task_exit, task_exit_fields);

/* containerd.events.TaskDelete (/tasks/delete) */
static const wb_pb_field task_delete_fields[] = {
    STR(1, wb_msg_task_delete, container_id, "container_id"),
    U32(2, wb_msg_task_delete, pid, "pid"),
    U32(3, wb_msg_task_delete, exit_status, "exit_status"),
    MSG(4, wb_msg_task_delete, exited_at, "exited_at", wb_msg_timestamp_table),
    STR(5, wb_msg_task_delete, id, "id"),
};
TABLE(wb_msg_task_delete_table, "containerd.events.TaskDelete", wb_msg_task_delete,
      task_delete_fields);

/* containerd.events.TaskExecAdded (/tasks/exec-added) */
static const wb_pb_field task_exec_added_fields[] = {
    STR(1, wb_msg_task_exec_added, container_id, "container_id"),
    STR(2, wb_msg_task_exec_added, exec_id, "exec_id"),
};
TABLE(wb_msg_task_exec_added_table, "containerd.events.TaskExecAdded", wb_msg_task_exec_added,
      task_exec_added_fields);

/* containerd.events.TaskExecStarted (/tasks/exec-started) */
static const wb_pb_field task_exec_started_fields[] = {
    STR(1, wb_msg_task_exec_started, container_id, "container_id"),
    STR(2, wb_msg_task_exec_started, exec_id, "exec_id"),
    U32(3, wb_msg_task_exec_started, pid, "pid"),
};
TABLE(wb_msg_task_exec_started_table, "containerd.events.TaskExecStarted", wb_msg_task_exec_started,
      task_exec_started_fields);

/* containerd.events.TaskPaused, TaskResumed, TaskOOM (/tasks/paused, /tasks/resumed, /tasks/oom) */
static const wb_pb_field container_event_fields[] = {
    STR(1, wb_msg_container_event, container_id, "container_id"),
};
TABLE(wb_msg_task_paused_table, "containerd.events.TaskPaused", wb_msg_container_event,
      container_event_fields);
TABLE(wb_msg_task_resumed_table, "containerd.events.TaskResumed", wb_msg_container_event,
      container_event_fields);
TABLE(wb_msg_task_oom_table, "containerd.events.TaskOOM", wb_msg_container_event,
      container_event_fields);

/* containerd.services.events.ttrpc.v1.Envelope */
static const wb_pb_field envelope_fields[] = {
    MSG(1, wb_msg_envelope, timestamp, "timestamp", wb_msg_timestamp_table),
    STR(2, wb_msg_envelope, namespace_, "namespace"),
    STR(3, wb_msg_envelope, topic, "topic"),
    MSG(4, wb_msg_envelope, event, "event", wb_msg_any_table),
};
TABLE(wb_msg_envelope_table, "containerd.services.events.ttrpc.v1.Envelope", wb_msg_envelope,
      envelope_fields);

/* containerd.services.events.ttrpc.v1.ForwardRequest (Events/Forward; the reply is Empty) */
static const wb_pb_field forward_request_fields[] = {
    MSG(1, wb_msg_forward_request, envelope, "envelope", wb_msg_envelope_table),
};
TABLE(wb_msg_forward_request_table, "containerd.services.events.ttrpc.v1.ForwardRequest",
      wb_msg_forward_request, forward_request_fields);

/* ---- runtime options ---- */

/* containerd.runc.v1.Options (type URL "containerd.runc.v1.Options") */
static const wb_pb_field runc_options_fields[] = {
    STR(6, wb_msg_runc_options, binary_name, "binary_name"),
    STR(7, wb_msg_runc_options, root, "root"),
};
TABLE(wb_msg_runc_options_table, "containerd.runc.v1.Options", wb_msg_runc_options,
      runc_options_fields);

/* runtimeoptions.v1.Options (type URL "runtimeoptions.v1.Options") */
static const wb_pb_field runtime_options_fields[] = {
    STR(1, wb_msg_runtime_options, type_url, "type_url"),
    STR(2, wb_msg_runtime_options, config_path, "config_path"),
};
TABLE(wb_msg_runtime_options_table, "runtimeoptions.v1.Options", wb_msg_runtime_options,
      runtime_options_fields);

/* ---- the list, Any ---- */

const wb_pb_table *const wb_msg_tables[] = {
    &wb_msg_metrics_table,
    &wb_msg_pids_stat_table,
    &wb_msg_cpu_stat_table,
    &wb_msg_cpu_usage_table,
    &wb_msg_memory_stat_table,
    &wb_msg_memory_entry_table,
    &wb_msg_memory_oom_control_table,
    &wb_msg_any_table,
    &wb_msg_timestamp_table,
    &wb_msg_empty_table,
    &wb_msg_rpc_status_table,
    &wb_msg_key_value_table,
    &wb_msg_ttrpc_request_table,
    &wb_msg_ttrpc_response_table,
    &wb_msg_mount_table,
    &wb_msg_process_info_table,
    &wb_msg_runtime_version_table,
    &wb_msg_runtime_info_table,
    &wb_msg_create_task_request_table,
    &wb_msg_create_task_response_table,
    &wb_msg_start_request_table,
    &wb_msg_start_response_table,
    &wb_msg_delete_request_table,
    &wb_msg_delete_response_table,
    &wb_msg_state_request_table,
    &wb_msg_state_response_table,
    &wb_msg_kill_request_table,
    &wb_msg_wait_request_table,
    &wb_msg_wait_response_table,
    &wb_msg_pids_request_table,
    &wb_msg_pids_response_table,
    &wb_msg_connect_request_table,
    &wb_msg_connect_response_table,
    &wb_msg_shutdown_request_table,
    &wb_msg_stats_request_table,
    &wb_msg_stats_response_table,
    &wb_msg_exec_process_request_table,
    &wb_msg_resize_pty_request_table,
    &wb_msg_close_io_request_table,
    &wb_msg_update_task_request_table,
    &wb_msg_pause_request_table,
    &wb_msg_resume_request_table,
    &wb_msg_checkpoint_task_request_table,
    &wb_msg_task_io_table,
    &wb_msg_task_create_table,
    &wb_msg_task_start_table,
    &wb_msg_task_exit_table,
    &wb_msg_task_delete_table,
    &wb_msg_task_exec_added_table,
    &wb_msg_task_exec_started_table,
    &wb_msg_task_paused_table,
    &wb_msg_task_resumed_table,
    &wb_msg_task_oom_table,
    &wb_msg_envelope_table,
    &wb_msg_forward_request_table,
    &wb_msg_runc_options_table,
    &wb_msg_runtime_options_table,
};
const size_t wb_msg_ntables = sizeof wb_msg_tables / sizeof wb_msg_tables[0];

const wb_pb_table *wb_msg_table_by_name(const char *name) {
    for (size_t i = 0; i < wb_msg_ntables; i++)
        if (strcmp(wb_msg_tables[i]->name, name) == 0) return wb_msg_tables[i];
    return NULL;
}

int wb_msg_any_pack(const wb_pb_table *t, const void *msg, wb_msg_any *out, wb_error *err) {
    uint8_t *buf;
    size_t len;
    if (wb_pb_encode_alloc(t, msg, &buf, &len, err) < 0) return -1;
    out->type_url = wb_strdup(t->name);
    if (len) {
        /* wb_pb_bytes keeps a NUL after the data */
        out->value.data = wb_realloc(buf, len + 1);
        out->value.data[len] = 0;
    } else {
        free(buf);
        out->value.data = NULL;
    }
    out->value.len = len;
    return 0;
}

bool wb_msg_any_is(const wb_msg_any *any, const wb_pb_table *t) {
    const char *url = any && any->type_url ? any->type_url : "";
    const char *slash = strrchr(url, '/');
    return strcmp(slash ? slash + 1 : url, t->name) == 0;
}

int wb_msg_any_unpack(const wb_msg_any *any, const wb_pb_table *t, void *out, wb_error *err) {
    if (!wb_msg_any_is(any, t))
        return wb_error_set(err, EINVAL, "Any holds `%s`, not %s",
                            any && any->type_url ? any->type_url : "", t->name);
    return wb_pb_decode(t, any->value.data, any->value.len, out, err);
}
