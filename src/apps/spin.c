/* The Spin runtime (apps/spin.h): the manifest read once, components loaded and their imports
 * checked at start, routes tried in Spin's order of preference, and per request an instance from
 * the component's pool run by the route's executor. The Spin 1.x imports (`spin-config`,
 * `key-value`) are host functions that find the request they serve through a thread-local
 * pointer (a request runs on one thread from start to end). */
#include "apps/spin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/app_common.h"
#include "apps/guest_abi.h"
#include "apps/http_client.h"
#include "apps/instance_pool.h"
#include "apps/kv_store.h"
#include "apps/spin_locked.h"
#include "apps/spin_manifest.h"
#include "apps/wasi_http.h"
#include "oci/spin_artifact.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

#define MAX_OUTPUT_BYTES (64u << 20) /* a WAGI component's answer */
#define MAX_PARAMS       16
#define MAX_STORES       16 /* key-value stores one request may hold open */
#define MAX_STAGED_FILES 10000

typedef struct spin_component {
    const wb_spin_component *def;
    wb_spin_rt *rt;
    wb_module *module;
    bool spin_abi;  /* exports handle-http-request (Spin 1.x) */
    bool wasi_http; /* exports wasi:http/incoming-handler's handle (Spin 2/3, apps/wasi_http.h) */
    bool has_init;  /* exports _initialize (a reactor) */
    char **env;     /* `environment` as K=V */
    int nenv;
    wb_spin_pair *config; /* its variables, expanded */
    size_t nconfig;
    wb_wasi_dir dirs[64]; /* `files`: held directories, then the staged ones at "/" */
    int ndirs;
    int held[64]; /* O_PATH descriptors the dirs' /proc/self/fd/N names */
    int nheld;
    char *argv[2]; /* the module's name: what its pool borrows */
    pthread_mutex_t lock;
    wb_pool *pool;
} spin_component;

struct wb_spin_rt {
    const wb_wasm_job *job;
    wb_spin_app *app;
    spin_component *comps;
    size_t *order; /* route indices, most specific first */
    int log_fd;
    wb_kv_store *kv; /* the default store, kept in the container's /.spin/key_value.json */
    bool locks_ready;
    bool all_native; /* every component runs native code */
};

/* The request a thread serves (for the host functions). */
typedef struct spin_request {
    spin_component *comp;
    wb_pool_instance *pi;
    bool open[MAX_STORES];
} spin_request;

static __thread spin_request *current;

static int trap(wb_caller *c, const char *what) {
    return wb_caller_trap(c, what);
}

/* The value of the current component's variable `name`, or NULL. */
static const char *component_variable(const char *name) {
    const spin_component *comp = current->comp;
    for (size_t i = 0; i < comp->nconfig; i++)
        if (!strcmp(comp->config[i].key, name)) return comp->config[i].value;
    return NULL;
}

/* ---- spin-config ---- */

/* get-config(key) -> expected<string, error>; error = provider | invalid-key | invalid-schema |
 * other, each with a string. */
static int get_config(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[2].u32;
    char *key = wb_abi_string(s[0].u32, s[1].u32);
    if (!key) return trap(c, "spin-config: the key is outside memory");
    const char *value = component_variable(key);
    uint32_t p;
    bool ok;
    if (value) {
        ok = wb_abi_copy(value, strlen(value), 1, &p) && wb_abi_put_u8(ret, 0) &&
             wb_abi_put_u32(ret + 4, p) && wb_abi_put_u32(ret + 8, (uint32_t)strlen(value));
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "no variable named `%.200s` in this component", key);
        ok = wb_abi_copy(msg, strlen(msg), 1, &p) && wb_abi_put_u8(ret, 1) &&
             wb_abi_put_u8(ret + 4, 1) && wb_abi_put_u32(ret + 8, p) &&
             wb_abi_put_u32(ret + 12, (uint32_t)strlen(msg));
    }
    free(key);
    return ok ? 0 : trap(c, "spin-config: cannot write the result");
}

/* ---- key-value (the "default" store) ---- */

enum { KV_TABLE_FULL, KV_NO_SUCH_STORE, KV_ACCESS_DENIED, KV_INVALID_STORE, KV_NO_SUCH_KEY, KV_IO };

static int kv_error(wb_caller *c, uint32_t ret, int code) {
    if (!wb_abi_put_u8(ret, 1) || !wb_abi_put_u8(ret + 4, (uint8_t)code))
        return trap(c, "key-value: cannot write the result");
    return 0;
}

/* The store handle s was opened by this request. */
static bool kv_handle_ok(uint32_t h) {
    return h >= 1 && h <= MAX_STORES && current->open[h - 1];
}

/* err(io(msg)): the store could not be written */
static int kv_io_error(wb_caller *c, uint32_t ret, const char *msg) {
    uint32_t p;
    if (!wb_abi_copy(msg, strlen(msg), 1, &p) || !wb_abi_put_u8(ret, 1) ||
        !wb_abi_put_u8(ret + 4, KV_IO) || !wb_abi_put_u32(ret + 8, p) ||
        !wb_abi_put_u32(ret + 12, (uint32_t)strlen(msg)))
        return trap(c, "key-value: cannot write the result");
    return 0;
}

static int kv_open(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[2].u32;
    char *name = wb_abi_string(s[0].u32, s[1].u32);
    if (!name) return trap(c, "key-value: the store name is outside memory");
    const wb_spin_component *def = current->comp->def;
    bool allowed = false;
    for (size_t i = 0; i < def->nkey_value_stores; i++)
        allowed = allowed || !strcmp(def->key_value_stores[i], name);
    bool is_default = !strcmp(name, "default");
    free(name);
    if (!allowed) return kv_error(c, ret, KV_ACCESS_DENIED);
    if (!is_default) return kv_error(c, ret, KV_NO_SUCH_STORE);
    for (uint32_t h = 0; h < MAX_STORES; h++)
        if (!current->open[h]) {
            current->open[h] = true;
            return wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, h + 1)
                       ? 0
                       : trap(c, "key-value: result");
        }
    return kv_error(c, ret, KV_TABLE_FULL);
}

static int kv_get(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    uint32_t ret = s[3].u32;
    if (!kv_handle_ok(s[0].u32)) return kv_error(c, ret, KV_INVALID_STORE);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    if (!key) return trap(c, "key-value: the key is outside memory");
    size_t n = 0;
    uint8_t *value = wb_kv_get(rt->kv, key, &n);
    free(key);
    if (!value) return kv_error(c, ret, KV_NO_SUCH_KEY);
    uint32_t p;
    bool ok = wb_abi_copy(value, n, 1, &p) && wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, p) &&
              wb_abi_put_u32(ret + 8, (uint32_t)n);
    free(value);
    return ok ? 0 : trap(c, "key-value: cannot write the result");
}

static int kv_set(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    uint32_t ret = s[5].u32;
    if (!kv_handle_ok(s[0].u32)) return kv_error(c, ret, KV_INVALID_STORE);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    const uint8_t *value = wb_abi_bytes(s[3].u32, s[4].u32);
    if (!key || !value) {
        free(key);
        return trap(c, "key-value: the key or value is outside memory");
    }
    wb_error err;
    int rc = wb_kv_set(rt->kv, key, value, s[4].u32, &err);
    free(key);
    if (rc < 0) return kv_io_error(c, ret, err.msg);
    return wb_abi_put_u8(ret, 0) ? 0 : trap(c, "key-value: cannot write the result");
}

static int kv_delete(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    uint32_t ret = s[3].u32;
    if (!kv_handle_ok(s[0].u32)) return kv_error(c, ret, KV_INVALID_STORE);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    if (!key) return trap(c, "key-value: the key is outside memory");
    wb_error err;
    int rc = wb_kv_delete(rt->kv, key, &err);
    free(key);
    if (rc < 0) return kv_io_error(c, ret, err.msg);
    return wb_abi_put_u8(ret, 0) ? 0 : trap(c, "key-value: cannot write the result");
}

static int kv_exists(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    uint32_t ret = s[3].u32;
    if (!kv_handle_ok(s[0].u32)) return kv_error(c, ret, KV_INVALID_STORE);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    if (!key) return trap(c, "key-value: the key is outside memory");
    bool found = wb_kv_exists(rt->kv, key);
    free(key);
    return wb_abi_put_u8(ret, 0) && wb_abi_put_u8(ret + 4, found) ? 0
                                                                  : trap(c, "key-value: result");
}

static int kv_get_keys(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    uint32_t ret = s[1].u32;
    if (!kv_handle_ok(s[0].u32)) return kv_error(c, ret, KV_INVALID_STORE);
    size_t n = 0, i;
    char **keys = wb_kv_keys(rt->kv, &n);
    i = n;
    uint32_t list = 0;
    bool ok = n < UINT32_MAX / 8 && wb_abi_alloc(4, (uint32_t)(8 * n), &list);
    for (size_t j = 0; j < i && ok; j++) {
        uint32_t p;
        ok = wb_abi_copy(keys[j], strlen(keys[j]), 1, &p) &&
             wb_abi_put_u32(list + 8 * (uint32_t)j, p) &&
             wb_abi_put_u32(list + 8 * (uint32_t)j + 4, (uint32_t)strlen(keys[j]));
    }
    ok = ok && wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, list) &&
         wb_abi_put_u32(ret + 8, (uint32_t)i);
    for (size_t j = 0; j < i; j++) free(keys[j]);
    free(keys);
    return ok ? 0 : trap(c, "key-value: cannot write the result");
}

static int kv_close(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    (void)env;
    if (kv_handle_ok(s[0].u32)) current->open[s[0].u32 - 1] = false;
    return 0;
}

/* ---- fermyon:spin@2.0.0 (Spin 2/3 core modules): variables and key-value, with the canonical
 * ABI's layouts: result<T, error> is a tag @0 and T or error @4; error is a variant (its case
 * @4, a string payload @8). ---- */

/* variables' error cases: invalid-name, undefined, provider, other (each with a string) */
static int variables_error(wb_caller *c, uint32_t ret, uint8_t which, const char *msg) {
    return wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, which) &&
                   wb_abi_put_string(ret + 8, msg, strlen(msg))
               ? 0
               : trap(c, "variables: cannot write the result");
}

/* get(name) -> result<string, error>; a name is lower-case letters, digits and '_', starting
 * with a letter (as Spin's manifests require) */
static int variables_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[2].u32;
    char *name = wb_abi_string(s[0].u32, s[1].u32);
    if (!name) return trap(c, "variables: the name is outside memory");
    bool valid = name[0] >= 'a' && name[0] <= 'z';
    for (const char *p = name; *p && valid; p++)
        valid = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    const char *value = valid ? component_variable(name) : NULL;
    char msg[300];
    int rc;
    if (!valid) {
        snprintf(msg, sizeof msg, "invalid variable name `%.200s`", name);
        rc = variables_error(c, ret, 0, msg);
    } else if (!value) {
        snprintf(msg, sizeof msg, "no variable named `%.200s` in this component", name);
        rc = variables_error(c, ret, 1, msg);
    } else {
        rc = wb_abi_put_u8(ret, 0) && wb_abi_put_string(ret + 4, value, strlen(value))
                 ? 0
                 : trap(c, "variables: cannot write the result");
    }
    free(name);
    return rc;
}

/* key-value's error cases: store-table-full, no-such-store, access-denied, other(string) */
enum {
    KV2_OTHER = 3
}; /* the cases before it are 1.x's KV_TABLE_FULL, KV_NO_SUCH_STORE, KV_ACCESS_DENIED */

static int kv2_error(wb_caller *c, uint32_t ret, uint8_t which, const char *msg) {
    bool ok = wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, which) &&
              (!msg || wb_abi_put_string(ret + 8, msg, strlen(msg)));
    return ok ? 0 : trap(c, "key-value: cannot write the result");
}

/* The store handle s[0] and the key at s[1], s[2] (malloc'd), or a trap in *rc. */
static char *kv2_key(wb_caller *c, wb_slot *s, int *rc) {
    char *key = kv_handle_ok(s[0].u32) ? wb_abi_string(s[1].u32, s[2].u32) : NULL;
    if (!key)
        *rc = trap(c, kv_handle_ok(s[0].u32) ? "key-value: the key is outside memory"
                                             : "key-value: not an open store handle");
    return key;
}

/* get(key) -> result<option<list<u8>>, error>: the option's tag @4, the list @8 */
static int kv2_get(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    int rc = 0;
    char *key = kv2_key(c, s, &rc);
    if (!key) return rc;
    uint32_t ret = s[3].u32, p;
    size_t n = 0;
    uint8_t *value = wb_kv_get(rt->kv, key, &n);
    free(key);
    bool ok = wb_abi_put_u8(ret, 0) && wb_abi_put_u8(ret + 4, value != NULL) &&
              (!value || (wb_abi_copy(value, n, 1, &p) && wb_abi_put_u32(ret + 8, p) &&
                          wb_abi_put_u32(ret + 12, (uint32_t)n)));
    free(value);
    return ok ? 0 : trap(c, "key-value: cannot write the result");
}

/* set(key, list<u8>) -> result<_, error> */
static int kv2_set(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    int rc = 0;
    char *key = kv2_key(c, s, &rc);
    if (!key) return rc;
    const uint8_t *value = wb_abi_bytes(s[3].u32, s[4].u32);
    wb_error err;
    if (!value)
        rc = trap(c, "key-value: the value is outside memory");
    else if (wb_kv_set(rt->kv, key, value, s[4].u32, &err) < 0)
        rc = kv2_error(c, s[5].u32, KV2_OTHER, err.msg);
    else if (!wb_abi_put_u8(s[5].u32, 0))
        rc = trap(c, "key-value: cannot write the result");
    free(key);
    return rc;
}

static int kv2_delete(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    int rc = 0;
    char *key = kv2_key(c, s, &rc);
    if (!key) return rc;
    wb_error err;
    if (wb_kv_delete(rt->kv, key, &err) < 0)
        rc = kv2_error(c, s[3].u32, KV2_OTHER, err.msg);
    else if (!wb_abi_put_u8(s[3].u32, 0))
        rc = trap(c, "key-value: cannot write the result");
    free(key);
    return rc;
}

/* exists(key) -> result<bool, error>: the bool @4 */
static int kv2_exists(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    int rc = 0;
    char *key = kv2_key(c, s, &rc);
    if (!key) return rc;
    bool found = wb_kv_exists(rt->kv, key);
    free(key);
    return wb_abi_put_u8(s[3].u32, 0) && wb_abi_put_u8(s[3].u32 + 4, found)
               ? 0
               : trap(c, "key-value: cannot write the result");
}

/* get-keys() -> result<list<string>, error>: the list @4 (the same layout as Spin 1.x's) */
static int kv2_get_keys(wb_caller *c, void *env, wb_slot *s) {
    if (!kv_handle_ok(s[0].u32)) return trap(c, "key-value: not an open store handle");
    return kv_get_keys(c, env, s);
}

/* ---- wasi-outbound-http: request(req) -> expected<response, http-error>; http-error is an
 * enum: success, destination-not-allowed, invalid-url, request-error, runtime-error,
 * too-many-requests ---- */

#define OUTBOUND_TIMEOUT_MS 30000

enum { HTTP_NOT_ALLOWED = 1, HTTP_INVALID_URL = 2, HTTP_REQUEST_ERROR = 3, HTTP_RUNTIME = 4 };

static int http_error(wb_caller *c, uint32_t ret, int code) {
    return wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, (uint8_t)code)
               ? 0
               : trap(c, "wasi-outbound-http: cannot write the result");
}

/* A list<tuple<string, string>> of n pairs at ptr as headers (malloc'd names and values). */
static wb_http_header *guest_pairs(uint32_t ptr, uint32_t n) {
    const uint8_t *e = wb_abi_bytes(ptr, (uint64_t)n * 16);
    if (!e || n > 1000) return NULL;
    wb_http_header *h = wb_calloc(n + 1, sizeof *h);
    for (uint32_t i = 0; i < n; i++) {
        h[i].name = wb_abi_string(wb_abi_u32(e + 16 * i), wb_abi_u32(e + 16 * i + 4));
        h[i].value = wb_abi_string(wb_abi_u32(e + 16 * i + 8), wb_abi_u32(e + 16 * i + 12));
        if (!h[i].name || !h[i].value) {
            for (uint32_t k = 0; k <= i; k++) {
                free((char *)h[k].name);
                free((char *)h[k].value);
            }
            free(h);
            return NULL;
        }
    }
    return h;
}

/* The response at ret + 4: status, headers, body (copied into the guest). */
static bool put_response(uint32_t ret, const wb_http_response *r) {
    if (!wb_abi_put_u8(ret, 0)) return false;
    uint8_t *st = wb_abi_bytes(ret + 4, 2);
    if (!st) return false;
    uint16_t status = (uint16_t)r->status;
    memcpy(st, &status, 2);
    uint32_t list = 0;
    if (!wb_abi_alloc(4, (uint32_t)(16 * r->nheaders), &list)) return false;
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *line = r->header_lines[i], *colon = strchr(line, ':');
        size_t kl = colon ? (size_t)(colon - line) : strlen(line);
        const char *v = colon ? colon + 1 : "";
        while (*v == ' ') v++;
        char *name = wb_strndup(line, kl);
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        uint32_t kp, vp, at = list + 16 * (uint32_t)i;
        bool ok = wb_abi_copy(name, kl, 1, &kp) && wb_abi_copy(v, strlen(v), 1, &vp) &&
                  wb_abi_put_u32(at, kp) && wb_abi_put_u32(at + 4, (uint32_t)kl) &&
                  wb_abi_put_u32(at + 8, vp) && wb_abi_put_u32(at + 12, (uint32_t)strlen(v));
        free(name);
        if (!ok) return false;
    }
    uint32_t body = 0;
    return wb_abi_put_u8(ret + 8, 1) && wb_abi_put_u32(ret + 12, list) &&
           wb_abi_put_u32(ret + 16, (uint32_t)r->nheaders) &&
           wb_abi_copy(r->body, r->body_len, 1, &body) && wb_abi_put_u8(ret + 20, 1) &&
           wb_abi_put_u32(ret + 24, body) && wb_abi_put_u32(ret + 28, (uint32_t)r->body_len);
}

static int outbound_request(wb_caller *c, void *env, wb_slot *s) {
    wb_spin_rt *rt = env;
    static const char *const methods[] = {"GET",   "POST", "PUT",    "DELETE",
                                          "PATCH", "HEAD", "OPTIONS"};
    uint32_t ret = s[10].u32;
    if (s[0].u32 > 6) return http_error(c, ret, HTTP_REQUEST_ERROR);
    char *url = wb_abi_string(s[1].u32, s[2].u32);
    wb_http_header *headers = guest_pairs(s[3].u32, s[4].u32);
    const uint8_t *body = s[7].u32 ? wb_abi_bytes(s[8].u32, s[9].u32) : (const uint8_t *)"";
    size_t body_len = s[7].u32 ? s[9].u32 : 0;
    int rc;
    const wb_spin_component *def = current->comp->def;
    char scheme[16], host[256];
    int port;
    if (!url || !headers || !body) {
        rc = trap(c, "wasi-outbound-http: the request is outside memory");
    } else if (!wb_url_split(url, scheme, host, &port, NULL)) {
        rc = http_error(c, ret, HTTP_INVALID_URL);
    } else if (!wb_url_allowed(url, def->allowed_outbound_hosts, def->nallowed_outbound_hosts)) {
        wb_app_log(rt->log_fd,
                   "spin: component `%s`: outbound request to %s refused: not in its "
                   "allowed_outbound_hosts",
                   def->id, url);
        rc = http_error(c, ret, HTTP_NOT_ALLOWED);
    } else {
        wb_http_response r = {0};
        wb_error err;
        if (wb_http_fetch(methods[s[0].u32], url, headers, s[4].u32, body, body_len,
                          OUTBOUND_TIMEOUT_MS, &r, &err) < 0) {
            wb_app_log(rt->log_fd, "spin: component `%s`: outbound request to %s: %s", def->id, url,
                       err.msg);
            rc = http_error(c, ret, err.code == EINVAL ? HTTP_INVALID_URL : HTTP_REQUEST_ERROR);
        } else {
            rc = put_response(ret, &r) ? 0 : trap(c, "wasi-outbound-http: cannot write the result");
        }
        wb_http_response_release(&r);
    }
    for (uint32_t i = 0; headers && i < s[4].u32; i++) {
        free((char *)headers[i].name);
        free((char *)headers[i].value);
    }
    free(headers);
    free(url);
    return rc;
}

/* ---- imports ---- */

#define KV2  "fermyon:spin/key-value@2.0.0"
#define VAR2 "fermyon:spin/variables@2.0.0"

static const wb_flat_import host_imports[] = {
    {"spin-config", "get-config", "iii", get_config},
    {"wasi-outbound-http", "request", "iiiiiiiiiii", outbound_request},
    {"key-value", "open", "iii", kv_open},
    {"key-value", "get", "iiii", kv_get},
    {"key-value", "set", "iiiiii", kv_set},
    {"key-value", "delete", "iiii", kv_delete},
    {"key-value", "exists", "iiii", kv_exists},
    {"key-value", "get-keys", "ii", kv_get_keys},
    {"key-value", "close", "i", kv_close},
    {VAR2, "get", "iii", variables_get},
    {KV2, "[static]store.open", "iii", kv_open}, /* the same layout and cases as 1.x */
    {KV2, "[method]store.get", "iiii", kv2_get},
    {KV2, "[method]store.set", "iiiiii", kv2_set},
    {KV2, "[method]store.delete", "iiii", kv2_delete},
    {KV2, "[method]store.exists", "iiii", kv2_exists},
    {KV2, "[method]store.get-keys", "ii", kv2_get_keys},
    {KV2, "[resource-drop]store", "i", kv_close},
};

/* Ours (Spin 1.x and fermyon:spin@2.0.0), then wasi:http's. */
static const wb_flat_import *find_host_import(const wb_import_info *im) {
    const wb_flat_import *h =
        wb_flat_find(host_imports, sizeof host_imports / sizeof host_imports[0], im->module,
                     im->module_len, im->name, im->name_len);
    return h ? h : wb_wasi_http_find(im->module, im->module_len, im->name, im->name_len);
}

static bool has_prefix(const wb_import_info *im, const char *prefix) {
    return im->module_len >= strlen(prefix) && !memcmp(im->module, prefix, strlen(prefix));
}

/* Every import of comp's module is WASI's or one of ours, with our signature. */
static int check_imports(const spin_component *comp, wb_error *err) {
    const wb_module *m = comp->module;
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if ((im.module_len == 22 && !memcmp(im.module, "wasi_snapshot_preview1", 22)) ||
            (im.module_len == 13 && !memcmp(im.module, "wasi_unstable", 13)))
            continue;
        const wb_flat_import *h = find_host_import(&im);
        if (h && im.kind == WB_EXTERN_FUNC && wb_flat_matches(h->sig, im.func)) continue;
        const char *why =
            h ? "has another signature than the canonical ABI's for it"
            : has_prefix(&im, "outbound") || has_prefix(&im, "fermyon:spin/redis") ||
                    has_prefix(&im, "fermyon:spin/postgres") ||
                    has_prefix(&im, "fermyon:spin/mysql")
                ? "is not supported yet (outbound Redis, PostgreSQL and MySQL)"
            : wb_wasi_http_interface(im.module, im.module_len) || has_prefix(&im, KV2) ||
                    has_prefix(&im, VAR2)
                ? "is not among the functions of this interface wasmbox provides"
            : has_prefix(&im, "wasi:") || has_prefix(&im, "fermyon") || has_prefix(&im, "spin:")
                ? "is not supported yet (of Spin 2/3's interfaces, wasmbox provides wasi:http, "
                  "wasi:io, fermyon:spin/variables and fermyon:spin/key-value @2.0.0)"
                : "is not provided by Spin";
        return wb_error_set(err, WB_ELINK, "spin: component `%s` imports `%.*s`.`%.*s`, which %s",
                            comp->def->id, (int)im.module_len, im.module, (int)im.name_len, im.name,
                            why);
    }
    return 0;
}

static int link_spin(void *ctx, wb_store *s, wb_linker *l, wb_error *err) {
    spin_component *comp = ctx;
    const wb_module *m = comp->module;
    (void)err;
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        const wb_flat_import *h = find_host_import(&im);
        if (!h) continue;
        wb_extern ext = {.kind = WB_EXTERN_FUNC};
        ext.of.func = wb_func_new_host(s, im.func, h->fn, comp->rt, h->name);
        wb_linker_define(l, h->module, h->name, ext);
    }
    return 0;
}

/* ---- loading ---- */

static const char *variable_value(void *ctx, const char *name) {
    const wb_spin_rt *rt = ctx;
    char envname[256];
    int n = snprintf(envname, sizeof envname, "SPIN_VARIABLE_%s", name);
    for (int i = 14; i < n; i++)
        if (envname[i] >= 'a' && envname[i] <= 'z') envname[i] = (char)(envname[i] - 'a' + 'A');
    const char *v = wb_app_env(rt->job, envname);
    if (v) return v;
    for (size_t i = 0; i < rt->app->nvariables; i++)
        if (!strcmp(rt->app->variables[i].name, name)) return rt->app->variables[i].default_value;
    return NULL;
}

/* Copy the file at container path `from` to host path `to` (parents made). */
static int stage_file(const wb_spin_rt *rt, const char *from, const char *to, wb_error *err) {
    bool ro;
    int fd = wb_app_open(rt->job, from, false, &ro);
    if (fd < 0) return wb_error_sys(err, "spin: file `%s`", from);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = wb_read_file(proc, (size_t)1 << 30, &data, &len, err);
    close(fd);
    if (rc < 0) return wb_error_wrap(err, "spin: file `%s`", from);
    char *dir = wb_strdup(to);
    *strrchr(dir, '/') = 0;
    rc = wb_mkdir_p(dir, 0755, err);
    if (rc == 0) rc = wb_write_file_atomic(to, data, len, 0644, false, err);
    free(dir);
    free(data);
    return rc;
}

/* Stage the files under container directory `from` (recursively when deep) whose names match
 * `pattern` (NULL: all) at staged-dir + `to`. */
static int stage_dir(const wb_spin_rt *rt, const char *from, const char *pattern, bool deep,
                     const char *to_host, size_t *count, wb_error *err) {
    bool ro;
    int fd = wb_app_open(rt->job, from, true, &ro);
    if (fd < 0) return wb_error_sys(err, "spin: directory `%s`", from);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    DIR *d = opendir(proc);
    close(fd);
    if (!d) return wb_error_sys(err, "spin: directory `%s`", from);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *f = NULL, *t = NULL;
        size_t fl = 0, tl = 0;
        wb_appendf(&f, &fl, "%s/%s", strcmp(from, "/") ? from : "", de->d_name);
        wb_appendf(&t, &tl, "%s/%s", to_host, de->d_name);
        bool dir = de->d_type == DT_DIR;
        if (dir && deep)
            rc = stage_dir(rt, f, NULL, true, t, count, err);
        else if (!dir && de->d_type != DT_LNK && (!pattern || !fnmatch(pattern, de->d_name, 0))) {
            if (++*count > MAX_STAGED_FILES)
                rc =
                    wb_error_set(err, EFBIG, "spin: more than %d files to stage", MAX_STAGED_FILES);
            else
                rc = stage_file(rt, f, t, err);
        }
        free(f);
        free(t);
    }
    closedir(d);
    return rc;
}

static int add_dir(spin_component *comp, int fd, const char *guest, bool read_only, wb_error *err) {
    if (comp->ndirs >= 64 || comp->nheld >= 64) {
        close(fd);
        return wb_error_set(err, E2BIG, "spin: component `%s`: too many `files` entries",
                            comp->def->id);
    }
    char *host = NULL;
    size_t hl = 0;
    wb_appendf(&host, &hl, "/proc/self/fd/%d", fd);
    comp->held[comp->nheld++] = fd;
    comp->dirs[comp->ndirs++] = (wb_wasi_dir){host, wb_strdup(guest), read_only};
    return 0;
}

/* The component's `files`: directories mapped to a destination are preopened as they are (read
 * only, as Spin mounts them); patterns and single files are copied into a directory of their own
 * in the container (/.spin/files/ID), preopened at "/". */
static int prepare_files(wb_spin_rt *rt, spin_component *comp, size_t index, wb_error *err) {
    const wb_spin_component *def = comp->def;
    /* a fresh directory resolved in the container's root: what is copied there stays inside */
    int staged_fd = -1;
    char staged[64] = "";
    bool needs_stage = false;
    for (size_t i = 0; i < def->nfiles; i++) needs_stage = needs_stage || def->files[i].pattern;
    for (size_t i = 0; !needs_stage && i < def->nfiles; i++) {
        char *src = wb_app_path(def->files[i].source);
        bool ro;
        int fd = src ? wb_app_open(rt->job, src, true, &ro) : -1;
        needs_stage = src && fd < 0 && errno == ENOTDIR;
        if (fd >= 0) close(fd);
        free(src);
    }
    if (needs_stage) {
        char guest[64];
        snprintf(guest, sizeof guest, "/.spin/files/%zu", index);
        staged_fd = wb_app_state_dir(rt->job, guest, true, err);
        if (staged_fd < 0) return wb_error_wrap(err, "spin: component `%s`: files", def->id);
        snprintf(staged, sizeof staged, "/proc/self/fd/%d", staged_fd);
    }
    bool any_staged = false;
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < def->nfiles; i++) {
        const wb_spin_file *f = &def->files[i];
        char *src = wb_app_path(f->source);
        if (!src) {
            rc = wb_error_set(err, EINVAL, "spin: component `%s`: file `%s` is outside the app",
                              def->id, f->source);
            break;
        }
        if (!f->pattern) {
            bool ro;
            int fd = wb_app_open(rt->job, src, true, &ro);
            if (fd >= 0) {
                rc = add_dir(comp, fd, f->destination, true, err);
            } else if (errno == ENOTDIR) {
                char *to = NULL;
                size_t tl = 0;
                wb_appendf(&to, &tl, "%s%s", staged, f->destination);
                rc = stage_file(rt, src, to, err);
                any_staged = true;
                free(to);
            } else {
                rc = wb_error_sys(err, "spin: component `%s`: files: `%s`", def->id, f->source);
            }
        } else {
            /* DIR + "/" + "**": everything below DIR; "DIR/NAME" with wildcards, or a file
             * name: in one directory */
            char *slash = strrchr(src, '/');
            const char *base = slash + 1;
            char *dir = wb_strdup(src);
            dir[slash - src ? (size_t)(slash - src) : 1] = 0;
            bool deep = !strcmp(base, "**");
            char *to = NULL;
            size_t tl = 0;
            wb_appendf(&to, &tl, "%s%s", staged, strcmp(dir, "/") ? dir : "");
            if (!strpbrk(base, "*?[")) {
                wb_appendf(&to, &tl, "/%s", base);
                rc = stage_file(rt, src, to, err);
            } else {
                rc = stage_dir(rt, dir, deep ? NULL : base, deep, to, &count, err);
            }
            any_staged = true;
            free(dir);
            free(to);
        }
        free(src);
    }
    if (rc == 0 && any_staged) {
        rc = add_dir(comp, staged_fd, "/", true, err); /* it holds the descriptor now */
        staged_fd = -1;
    }
    if (staged_fd >= 0) close(staged_fd);
    return rc;
}

static int load_component(wb_spin_rt *rt, size_t index, wb_error *err) {
    spin_component *comp = &rt->comps[index];
    const wb_spin_component *def = &rt->app->components[index];
    comp->def = def;
    comp->rt = rt;
    comp->argv[0] = def->source;
    char *src = wb_app_path(def->source);
    if (!src)
        return wb_error_set(err, EINVAL, "spin: component `%s`: source `%s` is outside the app",
                            def->id, def->source);
    bool ro;
    int fd = wb_app_open(rt->job, src, false, &ro);
    if (fd < 0) {
        wb_error_sys(err, "spin: component `%s`: source `%s`", def->id, def->source);
        free(src);
        return -1;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    wb_config cfg = {.interruptible = true};
    int rc = wb_module_load(&cfg, proc, &comp->module, err);
    close(fd);
    free(src);
    if (rc < 0) return wb_error_wrap(err, "spin: component `%s`: `%s`", def->id, def->source);
    int native = wb_app_prepare_module(rt->job, comp->module, err);
    if (native < 0) return wb_error_wrap(err, "spin: component `%s`", def->id);
    rt->all_native = rt->all_native && native == 1;
    for (uint32_t i = 0; i < wb_module_export_count(comp->module); i++) {
        wb_export_info e;
        wb_module_export(comp->module, i, &e);
        if (e.kind != WB_EXTERN_FUNC) continue;
        if (e.name_len == 19 && !memcmp(e.name, "handle-http-request", 19)) comp->spin_abi = true;
        if (e.name_len == strlen(WB_WASI_HTTP_HANDLER) &&
            !memcmp(e.name, WB_WASI_HTTP_HANDLER, e.name_len))
            comp->wasi_http = true;
        if (e.name_len == 11 && !memcmp(e.name, "_initialize", 11)) comp->has_init = true;
    }
    if (check_imports(comp, err) < 0) return -1;
    comp->env = wb_calloc(def->nenvironment + 1, sizeof *comp->env);
    for (size_t i = 0; i < def->nenvironment; i++) {
        size_t l = 0;
        wb_appendf(&comp->env[comp->nenv++], &l, "%s=%s", def->environment[i].key,
                   def->environment[i].value);
    }
    comp->config = wb_calloc(def->nvariables + 1, sizeof *comp->config);
    for (size_t i = 0; i < def->nvariables; i++) {
        char *v = wb_spin_expand(def->variables[i].value, variable_value, rt, err);
        if (!v)
            return wb_error_wrap(err, "spin: component `%s`: variable `%s`", def->id,
                                 def->variables[i].key);
        comp->config[comp->nconfig++] = (wb_spin_pair){wb_strdup(def->variables[i].key), v};
    }
    for (size_t i = 0; i < def->nkey_value_stores; i++)
        if (strcmp(def->key_value_stores[i], "default"))
            return wb_error_set(err, EINVAL,
                                "spin: component `%s`: key-value store `%s` is not defined (only "
                                "`default` is, without a runtime configuration)",
                                def->id, def->key_value_stores[i]);
    return prepare_files(rt, comp, index, err);
}

static const wb_spin_rt *sort_rt; /* qsort's context (start-up only) */

static int route_order(const void *a, const void *b) {
    const wb_spin_route *ra = &sort_rt->app->routes[*(const size_t *)a];
    const wb_spin_route *rb = &sort_rt->app->routes[*(const size_t *)b];
    return wb_spin_route_compare(ra->route, rb->route);
}

/* The default store: in the container's /.spin/key_value.json, or in memory when the
 * container's root is read-only (--read-only: nothing of it is written). */
static int load_kv(wb_spin_rt *rt, wb_error *err) {
    if (rt->job->read_only_root) {
        wb_app_log(rt->log_fd, "spin: the container's root is read-only: the key-value store "
                               "`default` is kept in memory only");
        return wb_kv_open(NULL, &rt->kv, err);
    }
    int dir = wb_app_state_dir(rt->job, "/.spin", false, err);
    if (dir < 0 || wb_kv_open_in(dir, "key_value.json", &rt->kv, err) < 0)
        return wb_error_wrap(err, "spin: key-value store `default`");
    return 0;
}

int wb_spin_load(const wb_wasm_job *job, wb_spin_rt **out, wb_error *err) {
    wb_spin_rt *rt = wb_calloc(1, sizeof *rt);
    rt->job = job;
    rt->log_fd = job->stdio[2] ? job->stdio[2] : 2;
    rt->all_native = true;
    *out = NULL;
    bool ro, locked = false;
    int fd = wb_app_open(job, "/spin.toml", false, &ro);
    if (fd < 0 && errno == ENOENT) { /* a Spin artifact's locked app (oci/spin_artifact.h) */
        fd = wb_app_open(job, "/spin.json", false, &ro);
        locked = fd >= 0;
    }
    if (fd < 0) {
        int e = errno;
        wb_spin_rt_free(rt);
        return e == ENOENT ? wb_error_set(err, ENOENT,
                                          "spin: no /spin.toml in the container (a Spin app "
                                          "image has its manifest at /spin.toml, a Spin app "
                                          "pushed by `spin registry push` its locked app)")
                           : wb_error_set(err, e, "spin: /spin.toml: %s", strerror(e));
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = wb_read_file(proc, 16u << 20, &text, &len, err);
    close(fd);
    if (rc == 0 && locked)
        rc = wb_spin_locked_parse((const char *)text, len, WB_SPIN_CONTENT_DIR, &rt->app, err);
    else if (rc == 0)
        rc = wb_spin_manifest_parse((const char *)text, len, &rt->app, err);
    free(text);
    if (rc < 0) {
        wb_spin_rt_free(rt);
        return wb_error_wrap(err, "spin");
    }
    for (size_t i = 0; i < rt->app->nvariables; i++)
        if (!variable_value(rt, rt->app->variables[i].name)) {
            wb_error_set(err, EINVAL,
                         "spin: variable `%s` is required and has no value (give it with -e "
                         "SPIN_VARIABLE_%s=...)",
                         rt->app->variables[i].name, rt->app->variables[i].name);
            for (char *p = strstr(err->msg, "SPIN_VARIABLE_") + 14; *p && *p != '='; p++)
                if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
            wb_spin_rt_free(rt);
            return -1;
        }
    rt->comps = wb_calloc(rt->app->ncomponents + 1, sizeof *rt->comps);
    rc = load_kv(rt, err);
    for (size_t i = 0; rc == 0 && i < rt->app->ncomponents; i++) rc = load_component(rt, i, err);
    for (size_t i = 0; rc == 0 && i < rt->app->nroutes; i++) {
        const wb_spin_route *r = &rt->app->routes[i];
        const spin_component *comp = &rt->comps[r->component];
        if (r->executor == WB_SPIN_EXECUTOR_SPIN && !comp->spin_abi && !comp->wasi_http)
            rc = wb_error_set(err, EINVAL,
                              "spin: component `%s` (route %s) exports neither `%s` (Spin 2/3) "
                              "nor `handle-http-request` (Spin 1.x); for a WASI command use "
                              "executor = { type = \"wagi\" }",
                              comp->def->id, r->route, WB_WASI_HTTP_HANDLER);
    }
    if (rc < 0) {
        wb_spin_rt_free(rt);
        return -1;
    }
    for (size_t i = 0; i < rt->app->ncomponents; i++) pthread_mutex_init(&rt->comps[i].lock, NULL);
    rt->locks_ready = true;
    rt->order = wb_calloc(rt->app->nroutes + 1, sizeof *rt->order);
    for (size_t i = 0; i < rt->app->nroutes; i++) rt->order[i] = i;
    sort_rt = rt;
    qsort(rt->order, rt->app->nroutes, sizeof *rt->order, route_order);
    *out = rt;
    return 0;
}

void wb_spin_rt_free(wb_spin_rt *rt) {
    if (!rt) return;
    for (size_t i = 0; rt->comps && rt->app && i < rt->app->ncomponents; i++) {
        spin_component *c = &rt->comps[i];
        wb_pool_free(c->pool);
        if (rt->locks_ready) pthread_mutex_destroy(&c->lock);
        wb_module_free(c->module);
        for (int k = 0; k < c->nenv; k++) free(c->env[k]);
        free(c->env);
        for (size_t k = 0; k < c->nconfig; k++) {
            free(c->config[k].key);
            free(c->config[k].value);
        }
        free(c->config);
        for (int k = 0; k < c->ndirs; k++) {
            free((char *)c->dirs[k].host);
            free((char *)c->dirs[k].guest);
        }
        for (int k = 0; k < c->nheld; k++) close(c->held[k]);
    }
    free(rt->comps);
    free(rt->order);
    wb_spin_app_free(rt->app);
    wb_kv_free(rt->kv);
    free(rt);
}

/* ---- requests ---- */

static wb_pool *component_pool(spin_component *comp, wb_error *err) {
    pthread_mutex_lock(&comp->lock);
    if (!comp->pool) {
        wb_pool_config pc = {
            .module = comp->module,
            .wasi = {.argc = 1,
                     .argv = comp->argv,
                     .dirs = comp->dirs,
                     .ndirs = comp->ndirs,
                     .stdio = {-1, -1, comp->rt->log_fd},
                     .no_wasmedge = true},
            .limits = {.max_memory = comp->rt->job->max_memory},
            .link = link_spin,
            .link_ctx = comp,
        };
        wb_pool_new(&pc, &comp->pool, err);
    }
    wb_pool *p = comp->pool;
    pthread_mutex_unlock(&comp->lock);
    return p;
}

static void fail(const wb_spin_rt *rt, const spin_component *comp, const wb_spin_route *r,
                 const char *why, wb_http_response *resp) {
    wb_app_log(rt->log_fd, "spin: component `%s` (route %s): %s", comp->def->id, r->route, why);
    wb_http_response_release(resp);
    resp->status = 500;
    wb_http_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    const char *body = "Internal Server Error\n";
    wb_http_response_append(resp, body, strlen(body));
}

typedef struct request_ctx {
    const wb_http_request *req;
    const wb_spin_route *route;
    const char *path_info;
    char full_url[4200];
    char client[128];
} request_ctx;

/* The headers Spin adds to a request for its component (crates/trigger-http/src/headers.rs). */
#define SPIN_HEADERS 7
static void spin_extra_headers(const request_ctx *rc, const char *out[SPIN_HEADERS][2]) {
    const char *h[SPIN_HEADERS][2] = {{"spin-full-url", rc->full_url},
                                      {"spin-path-info", rc->path_info},
                                      {"spin-matched-route", rc->route->route},
                                      {"spin-component-route", rc->route->route},
                                      {"spin-raw-component-route", rc->route->route},
                                      {"spin-base-path", "/"},
                                      {"spin-client-addr", rc->client}};
    memcpy(out, h, sizeof h);
}

/* "${SCRIPT_NAME} ${ARGS}" -> argv (malloc'd strings, NULL-terminated): the template split at
 * spaces, ${SCRIPT_NAME} replaced, ${ARGS} standing for the query's parameters ('&'-separated,
 * percent-decoded), one argument each. */
static char **wagi_argv(const request_ctx *rc, const char *script_name, int *argc) {
    enum { MAX_ARGS = 64 };
    char **argv = wb_calloc(MAX_ARGS + 1, sizeof *argv);
    *argc = 0;
    char *tmpl = wb_strdup(rc->route->wagi_argv ? rc->route->wagi_argv : "${SCRIPT_NAME} ${ARGS}");
    for (char *save = NULL, *w = strtok_r(tmpl, " ", &save); w && *argc < MAX_ARGS;
         w = strtok_r(NULL, " ", &save)) {
        if (strcmp(w, "${ARGS}")) {
            char *arg = NULL;
            size_t al = 0;
            wb_appendf(&arg, &al, "%s", "");
            for (const char *t = w; *t;) {
                if (!strncmp(t, "${SCRIPT_NAME}", 14)) {
                    wb_appendf(&arg, &al, "%s", script_name);
                    t += 14;
                } else {
                    wb_appendf(&arg, &al, "%c", *t++);
                }
            }
            argv[(*argc)++] = arg;
            continue;
        }
        for (const char *q = rc->req->query; *q && *argc < MAX_ARGS;) {
            const char *e = strchr(q, '&');
            size_t n = e ? (size_t)(e - q) : strlen(q);
            char *arg = wb_malloc(n + 1);
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                unsigned v;
                if (q[i] == '%' && i + 2 < n && sscanf(q + i + 1, "%2x", &v) == 1) {
                    arg[k++] = (char)v;
                    i += 2;
                } else {
                    arg[k++] = q[i] == '+' ? ' ' : q[i];
                }
            }
            arg[k] = 0;
            if (n)
                argv[(*argc)++] = arg;
            else
                free(arg);
            q += n + (e ? 1 : 0);
        }
    }
    free(tmpl);
    return argv;
}

static void add_env(char ***env, int *n, int *cap, const char *k, const char *v) {
    WB_VEC_RESERVE(*env, *cap, *n + 2);
    size_t l = 0;
    (*env)[*n] = NULL;
    wb_appendf(&(*env)[*n], &l, "%s=%s", k, v);
    (*n)++;
    (*env)[*n] = NULL;
}

/* The CGI variables of the request and the component's environment. */
static char **wagi_env(const spin_component *comp, const request_ctx *rc, const char *script_name,
                       int *n) {
    char **env = NULL;
    int cap = 0;
    *n = 0;
    const wb_http_request *req = rc->req;
    char len[32], port[16] = "80", server[256];
    snprintf(len, sizeof len, "%zu", req->body_len);
    snprintf(server, sizeof server, "%s", req->host);
    char *colon = strrchr(server, ':');
    if (colon && !strchr(colon, ']')) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = 0;
    }
    const char *ctype = wb_http_request_header(req, "content-type");
    add_env(&env, n, &cap, "AUTH_TYPE", "");
    add_env(&env, n, &cap, "CONTENT_LENGTH", len);
    add_env(&env, n, &cap, "CONTENT_TYPE", ctype ? ctype : "");
    add_env(&env, n, &cap, "GATEWAY_INTERFACE", "CGI/1.1");
    add_env(&env, n, &cap, "PATH_INFO", rc->path_info);
    add_env(&env, n, &cap, "PATH_TRANSLATED", rc->path_info);
    add_env(&env, n, &cap, "QUERY_STRING", req->query);
    add_env(&env, n, &cap, "REMOTE_ADDR", req->client_ip ? req->client_ip : "");
    add_env(&env, n, &cap, "REMOTE_HOST", req->client_ip ? req->client_ip : "");
    add_env(&env, n, &cap, "REMOTE_USER", "");
    add_env(&env, n, &cap, "REQUEST_METHOD", req->method);
    add_env(&env, n, &cap, "SCRIPT_NAME", script_name);
    add_env(&env, n, &cap, "SERVER_NAME", server);
    add_env(&env, n, &cap, "SERVER_PORT", port);
    add_env(&env, n, &cap, "SERVER_PROTOCOL", req->minor_version ? "HTTP/1.1" : "HTTP/1.0");
    add_env(&env, n, &cap, "SERVER_SOFTWARE", "WAGI/1");
    add_env(&env, n, &cap, "X_FULL_URL", rc->full_url);
    add_env(&env, n, &cap, "X_MATCHED_ROUTE", rc->route->route);
    add_env(&env, n, &cap, "X_RAW_PATH_INFO", rc->path_info);
    for (size_t i = 0; i < req->nheaders; i++) {
        char name[300];
        int k = snprintf(name, sizeof name, "HTTP_%s", req->headers[i].name);
        for (int j = 5; j < k && j < (int)sizeof name - 1; j++)
            name[j] = name[j] == '-'                     ? '_'
                      : name[j] >= 'a' && name[j] <= 'z' ? (char)(name[j] - 'a' + 'A')
                                                         : name[j];
        add_env(&env, n, &cap, name, req->headers[i].value);
    }
    for (int i = 0; i < comp->nenv; i++) {
        WB_VEC_RESERVE(env, cap, *n + 2);
        env[(*n)++] = wb_strdup(comp->env[i]);
        env[*n] = NULL;
    }
    return env;
}

static void free_strings(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* A WAGI answer: headers, a blank line, the body. */
static int wagi_answer(const uint8_t *out, size_t len, wb_http_response *resp, const char **why) {
    size_t at = 0;
    int status = 0;
    bool has_type = false, has_location = false;
    for (;;) {
        const uint8_t *nl = memchr(out + at, '\n', len - at);
        if (!nl) {
            *why = "the output has no blank line after its headers";
            return -1;
        }
        size_t end = (size_t)(nl - out), line_end = end;
        if (line_end > at && out[line_end - 1] == '\r') line_end--;
        if (line_end == at) {
            at = end + 1;
            break;
        }
        char line[8192];
        size_t n = line_end - at < sizeof line - 1 ? line_end - at : sizeof line - 1;
        memcpy(line, out + at, n);
        line[n] = 0;
        char *colon = strchr(line, ':');
        if (!colon) {
            *why = "a header line without a colon";
            return -1;
        }
        *colon = 0;
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t') value++;
        if (!strcasecmp(line, "status")) {
            status = atoi(value);
        } else {
            if (!strcasecmp(line, "content-type")) has_type = true;
            if (!strcasecmp(line, "location")) has_location = true;
            wb_http_response_header(resp, line, value);
        }
        at = end + 1;
    }
    if (!has_type && !has_location) {
        *why = "exactly one of `location` or `content-type` must be specified";
        return -1;
    }
    resp->status = status ? status : has_location ? 302 : 200;
    wb_http_response_append(resp, out + at, len - at);
    return 0;
}

static int run_wagi(spin_component *comp, const request_ctx *rc, wb_http_response *resp,
                    const char **why, wb_error *err) {
    char script_name[4096];
    snprintf(script_name, sizeof script_name, "%s", rc->route->route);
    size_t sn = strlen(script_name);
    if (sn >= 4 && !strcmp(script_name + sn - 4, "/...")) script_name[sn - 4] = 0;
    int argc, envc;
    char **argv = wagi_argv(rc, script_name, &argc);
    char **env = wagi_env(comp, rc, script_name, &envc);
    wb_wasi_run_io io = {.in = rc->req->body,
                         .in_len = rc->req->body_len,
                         .out_max = MAX_OUTPUT_BYTES,
                         .argc = argc,
                         .argv = argv,
                         .envc = envc,
                         .env = env};
    wb_pool *pool = component_pool(comp, err);
    wb_pool_instance *pi;
    int rc_ = -1;
    if (pool && wb_pool_take(pool, &io, &pi, err) == 0) {
        const char *entry = rc->route->wagi_entrypoint ? rc->route->wagi_entrypoint : "_start";
        wb_extern start;
        if (!wb_instance_export(pi->inst, entry, strlen(entry), &start) ||
            start.kind != WB_EXTERN_FUNC) {
            wb_error_set(err, ENOEXEC, "the module exports no function `%s`", entry);
        } else if (wb_func_call(pi->store, start.of.func, NULL, 0, NULL, 0, err) < 0 &&
                   (err->code != WB_EEXIT || wb_store_last_trap(pi->store)->exit_code != 0)) {
            if (err->code == WB_EEXIT)
                wb_error_set(err, ECANCELED, "exited with status %d",
                             wb_store_last_trap(pi->store)->exit_code);
        } else {
            size_t len;
            bool full;
            const uint8_t *out = wb_wasi_output(pi->wasi, &len, &full);
            if (full)
                wb_error_set(err, EFBIG, "wrote more than %u bytes", MAX_OUTPUT_BYTES);
            else if (wagi_answer(out, len, resp, why) < 0)
                wb_error_set(err, EINVAL, "%s", *why);
            else
                rc_ = 0;
        }
        wb_pool_give(pool, pi);
    }
    free_strings(argv, argc);
    free_strings(env, envc);
    return rc_;
}

/* The request's headers and Spin's own, as list<tuple<string, string>> in the guest. */
static bool spin_headers(const request_ctx *rc, uint32_t *list, uint32_t *count) {
    const wb_http_request *req = rc->req;
    const char *extra[SPIN_HEADERS][2];
    spin_extra_headers(rc, extra);
    size_t n = req->nheaders + SPIN_HEADERS;
    if (!wb_abi_alloc(4, (uint32_t)(16 * n), list)) return false;
    for (size_t i = 0; i < n; i++) {
        const char *k = i < req->nheaders ? req->headers[i].name : extra[i - req->nheaders][0];
        const char *v = i < req->nheaders ? req->headers[i].value : extra[i - req->nheaders][1];
        uint32_t kp, vp, at = *list + 16 * (uint32_t)i;
        if (!wb_abi_copy(k, strlen(k), 1, &kp) || !wb_abi_copy(v, strlen(v), 1, &vp) ||
            !wb_abi_put_u32(at, kp) || !wb_abi_put_u32(at + 4, (uint32_t)strlen(k)) ||
            !wb_abi_put_u32(at + 8, vp) || !wb_abi_put_u32(at + 12, (uint32_t)strlen(v)))
            return false;
    }
    *count = (uint32_t)n;
    return true;
}

static int run_spin(spin_component *comp, const request_ctx *rc, wb_http_response *resp,
                    const char **why, wb_error *err) {
    int method = wb_abi_method(rc->req->method);
    if (method < 0) {
        resp->status = 405;
        return 0;
    }
    wb_wasi_run_io io = {.in = (const uint8_t *)"",
                         .out_max = MAX_OUTPUT_BYTES,
                         .argc = 1,
                         .argv = comp->argv,
                         .envc = comp->nenv,
                         .env = comp->env};
    wb_pool *pool = component_pool(comp, err);
    wb_pool_instance *pi;
    if (!pool || wb_pool_take(pool, &io, &pi, err) < 0) return -1;
    spin_request sr = {.comp = comp, .pi = pi};
    current = &sr;
    wb_abi_enter(pi->store, pi->inst);
    int rc_ = -1;
    wb_extern f;
    uint32_t uri = 0, headers = 0, nheaders = 0, body = 0;
    const char *target = rc->req->target;
    if (comp->has_init && wb_instance_export(pi->inst, "_initialize", 11, &f) &&
        wb_func_call(pi->store, f.of.func, NULL, 0, NULL, 0, err) < 0) {
        *why = err->msg;
    } else if (!wb_abi_copy(target, strlen(target), 1, &uri) ||
               !spin_headers(rc, &headers, &nheaders) ||
               (rc->req->body_len && !wb_abi_copy(rc->req->body, rc->req->body_len, 1, &body))) {
        wb_error_set(err, ENOMEM, "cannot pass the request (canonical_abi_realloc failed)");
    } else if (!wb_instance_export(pi->inst, "handle-http-request", 19, &f)) {
        wb_error_set(err, ENOEXEC, "no `handle-http-request`");
    } else {
        wb_value a[10], r;
        int32_t vals[10] = {method,
                            (int32_t)uri,
                            (int32_t)strlen(target),
                            (int32_t)headers,
                            (int32_t)nheaders,
                            0,
                            0,
                            rc->req->body_len ? 1 : 0,
                            (int32_t)body,
                            (int32_t)rc->req->body_len};
        for (int i = 0; i < 10; i++) a[i] = (wb_value){.type = WB_I32, .of.i32 = vals[i]};
        if (wb_func_call(pi->store, f.of.func, a, 10, &r, 1, err) == 0) {
            if (wb_abi_read_response((uint32_t)r.of.i32, resp, why) < 0)
                wb_error_set(err, EINVAL, "%s", *why);
            else
                rc_ = 0;
        }
    }
    current = NULL;
    wb_abi_leave();
    wb_pool_give(pool, pi);
    return rc_;
}

/* ---- Spin 2/3: wasi:http/incoming-handler (apps/wasi_http.c) ---- */

static bool outbound_allowed(void *ctx, const char *url) {
    const spin_component *comp = ctx;
    const wb_spin_component *def = comp->def;
    if (wb_url_allowed(url, def->allowed_outbound_hosts, def->nallowed_outbound_hosts)) return true;
    wb_app_log(comp->rt->log_fd,
               "spin: component `%s`: outbound request to %s refused: not in its "
               "allowed_outbound_hosts",
               def->id, url);
    return false;
}

static void component_log(void *ctx, const char *line) {
    const spin_component *comp = ctx;
    wb_app_log(comp->rt->log_fd, "spin: component `%s`: %s", comp->def->id, line);
}

static int run_wasi_http(spin_component *comp, const request_ctx *rc, wb_http_response *resp,
                         wb_error *err) {
    wb_wasi_run_io io = {.in = (const uint8_t *)"",
                         .out_max = MAX_OUTPUT_BYTES,
                         .argc = 1,
                         .argv = comp->argv,
                         .envc = comp->nenv,
                         .env = comp->env};
    wb_pool *pool = component_pool(comp, err);
    wb_pool_instance *pi;
    if (!pool || wb_pool_take(pool, &io, &pi, err) < 0) return -1;
    spin_request sr = {.comp = comp, .pi = pi};
    current = &sr;
    wb_abi_enter(pi->store, pi->inst);
    const char *extra[SPIN_HEADERS][2];
    spin_extra_headers(rc, extra);
    wb_wasi_http_policy policy = {.ctx = comp, .allow = outbound_allowed, .log = component_log};
    wb_extern f;
    int r = -1;
    if (comp->has_init && wb_instance_export(pi->inst, "_initialize", 11, &f) &&
        wb_func_call(pi->store, f.of.func, NULL, 0, NULL, 0, err) < 0)
        r = -1;
    else
        r = wb_wasi_http_serve(pi->store, pi->inst, rc->req, (const char *const(*)[2])extra,
                               SPIN_HEADERS, &policy, resp, err);
    current = NULL;
    wb_abi_leave();
    wb_pool_give(pool, pi);
    return r;
}

int wb_spin_handle(void *ctx, const wb_http_request *req, wb_http_response *resp) {
    wb_spin_rt *rt = ctx;
    const wb_spin_route *route = NULL;
    request_ctx rc = {.req = req, .path_info = ""};
    wb_spin_pair params[MAX_PARAMS];
    size_t nparams = 0;
    for (size_t i = 0; i < rt->app->nroutes && !route; i++) {
        const wb_spin_route *r = &rt->app->routes[rt->order[i]];
        if (wb_spin_route_match(r->route, req->path, &rc.path_info, params, MAX_PARAMS, &nparams))
            route = r;
    }
    for (size_t i = 0; i < nparams; i++) {
        free(params[i].key);
        free(params[i].value);
    }
    if (!route) {
        resp->status = 404;
        return 0;
    }
    rc.route = route;
    snprintf(rc.full_url, sizeof rc.full_url, "http://%s%s", req->host, req->target);
    snprintf(rc.client, sizeof rc.client, "%s:%d", req->client_ip ? req->client_ip : "",
             req->client_port);
    spin_component *comp = &rt->comps[route->component];
    const char *why = NULL;
    wb_error err;
    int r = route->executor == WB_SPIN_EXECUTOR_WAGI ? run_wagi(comp, &rc, resp, &why, &err)
            : comp->wasi_http                        ? run_wasi_http(comp, &rc, resp, &err)
                                                     : run_spin(comp, &rc, resp, &why, &err);
    if (r < 0) fail(rt, comp, route, err.msg, resp);
    return 0;
}

/* ---- the container's workload ---- */

/* The server stops: the requests running end (their instances are interrupted). */
static void stop(void *ctx) {
    wb_spin_rt *rt = ctx;
    for (size_t i = 0; i < rt->app->ncomponents; i++) {
        pthread_mutex_lock(&rt->comps[i].lock);
        wb_pool *p = rt->comps[i].pool;
        pthread_mutex_unlock(&rt->comps[i].lock);
        wb_pool_stop(p);
    }
}

static void banner(void *ctx, int out, const char *host, int port) {
    const wb_spin_rt *rt = ctx;
    dprintf(out, "spin: serving %s on http://%s:%d\n", rt->app->name ? rt->app->name : "the app",
            host, port);
    for (size_t i = 0; i < rt->app->nroutes; i++) {
        const wb_spin_route *r = &rt->app->routes[i];
        dprintf(out, "  %s => %s (%s)\n", r->route, rt->app->components[r->component].id,
                r->executor == WB_SPIN_EXECUTOR_WAGI ? "wagi" : "spin");
    }
}

int wb_spin_run(const wb_wasm_job *job, int *exit_code, wb_error *err) {
    wb_spin_rt *rt;
    *exit_code = 1;
    char host[256] = "0.0.0.0";
    int port = WB_SPIN_PORT;
    const char *listen = wb_app_env(job, "SPIN_HTTP_LISTEN_ADDR");
    if (listen) {
        const char *colon = strrchr(listen, ':');
        char *end = NULL;
        long p = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || !*(colon + 1) || *end || p < 0 || p > 65535 ||
            (size_t)(colon - listen) >= sizeof host)
            return wb_error_set(err, EINVAL,
                                "spin: SPIN_HTTP_LISTEN_ADDR `%s` is not HOST:PORT (e.g. "
                                "0.0.0.0:3000)",
                                listen);
        snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = 0;
        }
        port = (int)p;
    }
    if (wb_spin_load(job, &rt, err) < 0) return -1;
    wb_app_record_tier(job, rt->all_native && rt->app->ncomponents);
    wb_app_server srv = {"spin", host, port, wb_spin_handle, stop, banner, rt};
    int rc = wb_app_serve(job, &srv, exit_code, err);
    wb_spin_rt_free(rt);
    return rc;
}
