/* apps/lunatic.h — the lunatic runtime (io.containerd.lunatic.v1, as containerd-shim-lunatic runs
 * lunatic 0.13): the entrypoint module's `_start` is the first process; `lunatic::process`.spawn
 * makes another by instantiating the same module with fresh memory and calling the named export
 * on a thread of its own; processes exchange messages (tagged data and TCP streams) through
 * mailboxes with tag-filtered, blocking receive; links report (or propagate) a process's death;
 * `lunatic::networking` gives TCP and name resolution. The container ends with the first
 * process. docs/apps.md lists what is there. */
#ifndef WB_APPS_LUNATIC_H
#define WB_APPS_LUNATIC_H

#include "base/error.h"
#include "runtime/wasm_handler.h"

/* Run job->module as lunatic's first process until it ends: *exit_code its status (134 after a
 * trap, whose message goes to stderr). -1 with err when it cannot start. */
int wb_lunatic_run(const wb_wasm_job *job, int *exit_code, wb_error *err);

#endif
