/* apps/app_common.h — what the application runtimes (apps/wws.h, apps/spin.h) share around their
 * HTTP server: the container's environment, paths of the app resolved inside the container's root
 * (or the -v mount that holds them), and serving until SIGTERM/SIGINT in the container's network
 * namespace (a private one with only a loopback when the container has none). */
#ifndef WB_APPS_APP_COMMON_H
#define WB_APPS_APP_COMMON_H

#include <stdbool.h>

#include "apps/http_server.h"
#include "base/error.h"
#include "runtime/wasm_handler.h"

/* The value of NAME in the container's environment (-e, the image's ENV), or NULL. */
const char *wb_app_env(const wb_wasm_job *job, const char *name);

/* One line (a newline added) on fd, written at once (requests log from many threads). */
void wb_app_log(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "./data", "data", "/data" (relative to the app's root) -> "/data" (malloc'd); NULL when the
 * path leaves the root through "..". */
char *wb_app_path(const char *from);

/* The directory (or, with want_dir false, the file) at container path `guest` (absolute) as an
 * O_PATH descriptor: inside the mount (-v) that holds it, else job->rootfs, resolved in it
 * (rootpath.h: a symlink never leads out); *read_only is that mount's :ro, or --read-only for
 * the root. -1 with errno. */
int wb_app_open(const wb_wasm_job *job, const char *guest, bool want_dir, bool *read_only);

/* Native code for m as job->engine asks (wasm/native_tier.h): attached from the store's cache
 * when it is there; with auto and none, compiled in the background for the next start; with
 * native, compiled now (through wasmbox-full when this program has no compiler). 1 when m runs
 * native code, 0 interpreted, -1 with err (native asked and not to be had). */
int wb_app_prepare_module(const wb_wasm_job *job, wb_module *m, wb_error *err);
/* Record the tier the app runs in for `inspect` (State.WasmEngine): "native" when every module
 * does, else "interp". */
void wb_app_record_tier(const wb_wasm_job *job, bool native);

/* A directory of the runtime's own in the container's root (`guest`, "/.spin"), made when missing
 * and resolved in the root as rootpath.h does, so that a symlink in the image never leads the
 * runtime's writes out of it; with `fresh`, whatever was there before is removed first (a
 * symlink itself, never what it points to). Returns its O_PATH descriptor (the caller closes it;
 * /proc/self/fd/N names the directory), or -1 with err. */
int wb_app_state_dir(const wb_wasm_job *job, const char *guest, bool fresh, wb_error *err);

/* Serve srv->handler(ctx) on host:port until SIGTERM or SIGINT: in the container's network
 * namespace (all addresses), or, when the container has none (--network none), in a private one
 * with its loopback up, else — where that cannot be made — on the host's 127.0.0.1 only.
 * banner(ctx, fd, host, port) prints the app's first lines on fd (the container's stdout);
 * on_stop(ctx) is called when the stop begins. *exit_code 0 after a stop. */
typedef void (*wb_app_banner)(void *ctx, int fd, const char *host, int port);
typedef struct wb_app_server {
    const char *name; /* "wws", "spin": prefixes messages */
    const char *host; /* NULL: "0.0.0.0" */
    int port;
    wb_http_handler handler;
    void (*on_stop)(void *ctx); /* the server stops: end the running requests (may be NULL) */
    wb_app_banner banner;
    void *ctx;
} wb_app_server;
int wb_app_serve(const wb_wasm_job *job, const wb_app_server *srv, int *exit_code, wb_error *err);

#endif
