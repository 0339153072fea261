/* apps/slight.h — the SpiderLightning runtime (io.containerd.slight.v1, as containerd-shim-slight
 * runs slight 0.5): `/slightfile.toml` names the capabilities, `/app.wasm` is the app, a core
 * module built with wit-bindgen 0.2. Its `_start` (or `on-server-init`) runs once; when it builds
 * a router and calls `server::serve`, the host serves HTTP on that address and calls, for each
 * request, the export named after the route's handler (`_` becomes `-`) on a fresh instance (one
 * of a pool, apps/instance_pool.h). Capabilities: http, keyvalue.filesystem (kept in the
 * container's /.slight/), configs.envvars; others are refused by name. docs/apps.md says more. */
#ifndef WB_APPS_SLIGHT_H
#define WB_APPS_SLIGHT_H

#include "base/error.h"
#include "runtime/wasm_handler.h"

/* The container's workload: run the app (and serve it, when it asks to) until it ends or
 * SIGTERM/SIGINT. *exit_code is the app's exit status, or 0 after a stop. */
int wb_slight_run(const wb_wasm_job *job, int *exit_code, wb_error *err);

#endif
