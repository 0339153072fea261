/* apps/wasi_http.h — wasi:http@0.2.0 for core modules, without the component model: the
 * interfaces a module built for wasm32-wasi by the Spin 2/3 SDKs imports (`wasi:http/types`,
 * `wasi:http/outgoing-handler`, `wasi:io/streams`, `wasi:io/poll`, `wasi:io/error`, all @0.2.0)
 * as host functions with the canonical ABI's flat signatures, lowered by hand. Resources are i32
 * handles in a table of the request being served; what a request creates lives until it ends
 * (a dropped handle only leaves the table), so a handle the guest keeps after a drop is refused
 * rather than freed memory. Bodies are whole in memory: an incoming body is the request the
 * server read, an outgoing body what the guest wrote until the response is sent after `handle`
 * returns. Outbound requests go through apps/http_client.h when the guest first asks for their
 * response, after the policy allowed their URL. */
#ifndef WB_APPS_WASI_HTTP_H
#define WB_APPS_WASI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "apps/http_server.h"
#include "base/error.h"
#include "wasm/wasm.h"

/* The export a wasi:http handler module has. */
#define WB_WASI_HTTP_HANDLER "wasi:http/incoming-handler@0.2.0#handle"

/* A host function with its flat signature: parameter types then, after ':', result types, as
 * 'i' (i32) and 'I' (i64); "iiI:i" is (i32, i32, i64) -> i32. */
typedef struct wb_flat_import {
    const char *module, *name, *sig;
    wb_host_fn fn;
} wb_flat_import;

/* The entry of table[n] with this module and name, or NULL. */
const wb_flat_import *wb_flat_find(const wb_flat_import *table, size_t n, const char *module,
                                   size_t module_len, const char *name, size_t name_len);
/* Does ft have exactly sig's parameters and results? */
bool wb_flat_matches(const char *sig, const wb_functype *ft);

/* This layer's imports (the `env` of their host functions is unused). */
const wb_flat_import *wb_wasi_http_find(const char *module, size_t module_len, const char *name,
                                        size_t name_len);
/* Is `module` one of the interfaces above (to say "not supported" of a function we lack)? */
bool wb_wasi_http_interface(const char *module, size_t module_len);

/* What the app decides for the requests its handlers make. */
typedef struct wb_wasi_http_policy {
    void *ctx;
    /* May the guest fetch url? (false: the request fails with HTTP-request-denied) */
    bool (*allow)(void *ctx, const char *url);
    /* A line for the app's log (no newline). */
    void (*log)(void *ctx, const char *line);
} wb_wasi_http_policy;

/* Serve req with the instance's `handle` export (the instance's memory and realloc already set
 * by wb_abi_enter): the request's headers plus extra[0..nextra) (name, value pairs), authority
 * `host` and scheme HTTP; *resp filled with what the guest set. -1 with err (and *why, a short
 * reason for the log) when the guest trapped, set no response or an error, or broke the ABI. */
int wb_wasi_http_serve(wb_store *s, wb_instance *inst, const wb_http_request *req,
                       const char *const (*extra)[2], size_t nextra,
                       const wb_wasi_http_policy *policy, wb_http_response *resp, wb_error *err);

#endif
