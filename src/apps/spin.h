/* apps/spin.h — the Spin runtime (io.containerd.spin.v2, as containerd-shim-spin runs Spin apps):
 * the app of `/spin.toml` (manifest v1 or v2, apps/spin_manifest.h) served over HTTP on port 80
 * (SPIN_HTTP_LISTEN_ADDR overrides), each route's component run per request on a fresh instance
 * (one of its pool, apps/instance_pool.h) by its executor: WAGI (CGI over WASI) or the Spin 1.x
 * core-module ABI (`handle-http-request`, wit-bindgen 0.2's canonical ABI) with `spin-config`
 * and `key-value` (the "default" store, kept in the container's /.spin/). docs/apps.md says what
 * is there and what is not. */
#ifndef WB_APPS_SPIN_H
#define WB_APPS_SPIN_H

#include "apps/http_server.h"
#include "base/error.h"
#include "runtime/wasm_handler.h"

#define WB_SPIN_PORT 80

typedef struct wb_spin_rt wb_spin_rt;

/* Read job->rootfs's /spin.toml, resolve the variables (defaults, SPIN_VARIABLE_* from the
 * container's environment), load every component's module once and check its imports, stage its
 * files. Messages name Spin and the file or component at fault. job is borrowed for the app's
 * life. The caller owns *out (wb_spin_rt_free). */
int wb_spin_load(const wb_wasm_job *job, wb_spin_rt **out, wb_error *err);
void wb_spin_rt_free(wb_spin_rt *rt);
/* The app's HTTP handler (apps/http_server.h), ctx being the runtime. */
int wb_spin_handle(void *rt, const wb_http_request *req, wb_http_response *resp);

/* The container's workload: load the app and serve it until SIGTERM or SIGINT. */
int wb_spin_run(const wb_wasm_job *job, int *exit_code, wb_error *err);

#endif
