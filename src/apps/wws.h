/* apps/wws.h — the Wasm Workers Server runtime (io.containerd.wws.v1, as wws v1.7.0 behind
 * containerd-shim-wws): the workers in the folder at the container's "/" become routes (file
 * names: index, [id], [...rest]; public/ served as static files), each request runs a fresh
 * instance of its worker fed the request as JSON on stdin and answering JSON on stdout, with the
 * worker's <name>.toml (kv namespace, folders, vars); HTTP on port 3000. docs/apps.md says what is
 * there and what is not. */
#ifndef WB_APPS_WWS_H
#define WB_APPS_WWS_H

#include "apps/http_server.h"
#include "base/error.h"
#include "runtime/wasm_handler.h"

#define WB_WWS_PORT        3000
#define WB_WWS_MAX_WORKERS 4096 /* workers (files) in one app */

typedef struct wb_wws_app wb_wws_app;

/* Find the workers under job->rootfs, read their configuration and .wws.toml, load (decode,
 * validate, link-check) every module once. Messages name the framework and the file at fault
 * ("wws: worker `/x.toml`: line 3: ..."). job is borrowed for the app's life. Log lines go to
 * job->stdio[2] (or 2). The caller owns *out (wb_wws_app_free). */
int wb_wws_app_load(const wb_wasm_job *job, wb_wws_app **out, wb_error *err);
void wb_wws_app_free(wb_wws_app *app);
/* The HTTP handler of the app (apps/http_server.h), ctx being the app. */
int wb_wws_handle(void *app, const wb_http_request *req, wb_http_response *resp);

/* The container's workload: load the app and serve it on 0.0.0.0:3000 in the container's network
 * namespace until SIGTERM or SIGINT (*exit_code 0 then). -1 with err when the app cannot start. */
int wb_wws_run(const wb_wasm_job *job, int *exit_code, wb_error *err);

#endif
