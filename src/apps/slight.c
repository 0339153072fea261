/* The SpiderLightning runtime (apps/slight.h). The imports are wit-bindgen 0.2 resources: a
 * handle is an index (+1) into this thread's table of open resources (routers are the app's,
 * shared); the capability a resource opens must be named in the slightfile. */
#include "apps/slight.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "apps/app_common.h"
#include "apps/guest_abi.h"
#include "apps/http_server.h"
#include "apps/instance_pool.h"
#include "apps/kv_store.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/toml.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

#define MAX_HANDLES 64
#define MAX_ROUTES  256

enum { M_GET, M_POST, M_PUT, M_DELETE, M_PATCH, M_HEAD, M_OPTIONS };

/* A message of a topic's queue. */
typedef struct slight_msg {
    uint8_t *data;
    size_t len;
    struct slight_msg *next;
} slight_msg;

typedef struct slight_topic {
    char *name;
    slight_msg *head, *tail;
    struct slight_topic *next;
} slight_topic;

typedef struct slight_cap {
    char *resource; /* "keyvalue.filesystem" */
    char *name;
    wb_kv_store *kv;      /* keyvalue.filesystem: opened at start */
    slight_topic *topics; /* messaging.filesystem: the queues, under the app's lock */
} slight_cap;

typedef struct slight_route {
    int method;
    char *path;    /* "/hello", "/users/:id" */
    char *handler; /* the export: the handler's name with '_' as '-' */
} slight_route;

typedef struct slight_router {
    slight_route routes[MAX_ROUTES];
    size_t n;
} slight_router;

typedef struct slight_rt {
    const wb_wasm_job *job;
    slight_cap *caps;
    size_t ncaps;
    bool has_http;
    wb_module *module;
    pthread_mutex_t lock;   /* routers, the pool, the topics */
    pthread_cond_t message; /* a message was published */
    slight_router **routers;
    size_t nrouters, nrouters_cap;
    char *address; /* server::serve's */
    const slight_router *served;
    wb_pool *pool;
    int log_fd;
} slight_rt;

enum { H_FREE, H_KV, H_CONFIGS, H_ROUTER, H_SERVER, H_PUB, H_SUB };

/* The resources this thread's guest holds. */
static __thread struct {
    slight_rt *rt;
    struct {
        int kind;
        size_t index; /* caps[] for kv and configs, routers[] for routers */
    } h[MAX_HANDLES];
} cur;

static int trap(wb_caller *c, const char *what) {
    return wb_caller_trap(c, what);
}

static uint32_t new_handle(int kind, size_t index) {
    for (uint32_t i = 0; i < MAX_HANDLES; i++)
        if (cur.h[i].kind == H_FREE) {
            cur.h[i].kind = kind;
            cur.h[i].index = index;
            return i + 1;
        }
    return 0;
}

static bool handle_of(uint32_t h, int kind, size_t *index) {
    if (h < 1 || h > MAX_HANDLES || cur.h[h - 1].kind != kind) return false;
    *index = cur.h[h - 1].index;
    return true;
}

/* The capability named `name` whose resource starts with `prefix` ("keyvalue."), or NULL. */
static slight_cap *capability(const char *prefix, const char *name) {
    for (size_t i = 0; cur.rt && i < cur.rt->ncaps; i++)
        if (!strncmp(cur.rt->caps[i].resource, prefix, strlen(prefix)) &&
            !strcmp(cur.rt->caps[i].name, name))
            return &cur.rt->caps[i];
    return NULL;
}

static int ok_handle(wb_caller *c, uint32_t ret, uint32_t h) {
    return wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, h) ? 0 : trap(c, "slight: result");
}

static int error(wb_caller *c, uint32_t ret, uint8_t which, const char *msg) {
    return wb_abi_put_error(ret, which, msg) ? 0 : trap(c, "slight: result");
}

/* ---- keyvalue (keyvalue-error: key-not-found, invalid-key, invalid-value, connection-error,
 * authentication-error, timeout-error, io-error, unexpected-error; all with a string) ---- */

enum { KV_NOT_FOUND = 0, KV_IO = 6, KV_UNEXPECTED = 7 };

static int kv_open(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[2].u32;
    char *name = wb_abi_string(s[0].u32, s[1].u32);
    if (!name) return trap(c, "keyvalue::open: the name is outside memory");
    slight_cap *cap = capability("keyvalue.", name);
    char msg[300];
    snprintf(msg, sizeof msg, "no keyvalue capability named `%.200s` in the slightfile", name);
    free(name);
    if (!cap) return error(c, ret, KV_UNEXPECTED, msg);
    uint32_t h = new_handle(H_KV, (size_t)(cap - cur.rt->caps));
    return h ? ok_handle(c, ret, h) : error(c, ret, KV_UNEXPECTED, "too many open resources");
}

static wb_kv_store *kv_of(uint32_t h) {
    size_t i;
    return handle_of(h, H_KV, &i) ? cur.rt->caps[i].kv : NULL;
}

static int kv_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[3].u32;
    wb_kv_store *kv = kv_of(s[0].u32);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    if (!kv || !key) {
        free(key);
        return trap(c, "keyvalue::get: a bad handle or key");
    }
    size_t n = 0;
    uint8_t *v = wb_kv_get(kv, key, &n);
    int rc;
    if (!v) {
        rc = error(c, ret, KV_NOT_FOUND, key);
    } else {
        uint32_t p;
        rc = wb_abi_copy(v, n, 1, &p) && wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, p) &&
                     wb_abi_put_u32(ret + 8, (uint32_t)n)
                 ? 0
                 : trap(c, "keyvalue::get: result");
    }
    free(v);
    free(key);
    return rc;
}

static int kv_set(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[5].u32;
    wb_kv_store *kv = kv_of(s[0].u32);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    const uint8_t *v = wb_abi_bytes(s[3].u32, s[4].u32);
    if (!kv || !key || !v) {
        free(key);
        return trap(c, "keyvalue::set: a bad handle, key or value");
    }
    wb_error err;
    int rc = wb_kv_set(kv, key, v, s[4].u32, &err) < 0 ? error(c, ret, KV_IO, err.msg)
             : wb_abi_put_u8(ret, 0)                   ? 0
                                                       : trap(c, "keyvalue::set: result");
    free(key);
    return rc;
}

static int kv_delete(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[3].u32;
    wb_kv_store *kv = kv_of(s[0].u32);
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    if (!kv || !key) {
        free(key);
        return trap(c, "keyvalue::delete: a bad handle or key");
    }
    wb_error err;
    int rc = wb_kv_delete(kv, key, &err) < 0 ? error(c, ret, KV_IO, err.msg)
             : wb_abi_put_u8(ret, 0)         ? 0
                                             : trap(c, "keyvalue::delete: result");
    free(key);
    return rc;
}

static int kv_keys(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[1].u32;
    wb_kv_store *kv = kv_of(s[0].u32);
    if (!kv) return trap(c, "keyvalue::keys: a bad handle");
    size_t n = 0;
    char **keys = wb_kv_keys(kv, &n);
    uint32_t list = 0;
    bool ok = n < UINT32_MAX / 8 && wb_abi_alloc(4, (uint32_t)(8 * n), &list);
    for (size_t i = 0; i < n && ok; i++) {
        uint32_t p;
        ok = wb_abi_copy(keys[i], strlen(keys[i]), 1, &p) &&
             wb_abi_put_u32(list + 8 * (uint32_t)i, p) &&
             wb_abi_put_u32(list + 8 * (uint32_t)i + 4, (uint32_t)strlen(keys[i]));
    }
    for (size_t i = 0; i < n; i++) free(keys[i]);
    free(keys);
    ok = ok && wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, list) &&
         wb_abi_put_u32(ret + 8, (uint32_t)n);
    return ok ? 0 : trap(c, "keyvalue::keys: result");
}

/* ---- configs (configs-error: not-found, invalid-value, permission-denied, io-error,
 * unexpected-error; all with a string): configs.envvars reads the container's environment ---- */

static int configs_open(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[2].u32;
    char *name = wb_abi_string(s[0].u32, s[1].u32);
    if (!name) return trap(c, "configs::open: the name is outside memory");
    slight_cap *cap = capability("configs.", name);
    char msg[300];
    snprintf(msg, sizeof msg, "no configs capability named `%.200s` in the slightfile", name);
    free(name);
    if (!cap) return error(c, ret, 4, msg);
    uint32_t h = new_handle(H_CONFIGS, (size_t)(cap - cur.rt->caps));
    return h ? ok_handle(c, ret, h) : error(c, ret, 4, "too many open resources");
}

static int configs_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[3].u32;
    size_t i;
    char *key = wb_abi_string(s[1].u32, s[2].u32);
    if (!handle_of(s[0].u32, H_CONFIGS, &i) || !key) {
        free(key);
        return trap(c, "configs::get: a bad handle or key");
    }
    const char *v = wb_app_env(cur.rt->job, key);
    int rc;
    if (!v) {
        char msg[300];
        snprintf(msg, sizeof msg, "no environment variable `%.200s`", key);
        rc = error(c, ret, 0, msg);
    } else {
        uint32_t p;
        rc = wb_abi_copy(v, strlen(v), 1, &p) && wb_abi_put_u8(ret, 0) &&
                     wb_abi_put_u32(ret + 4, p) && wb_abi_put_u32(ret + 8, (uint32_t)strlen(v))
                 ? 0
                 : trap(c, "configs::get: result");
    }
    free(key);
    return rc;
}

static int configs_set(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return error(c, s[5].u32, 2, "configs.envvars is read-only in wasmbox");
}

/* ---- messaging (messaging-error: payload-too-large, queue-or-topic-not-found,
 * insufficient-permissions, service-unavailable, delivery-failed, connection-lost,
 * unsupported-message-format, unexpected-error; all with a string): messaging.filesystem is a
 * queue per topic shared by its subscribers (each message received once), in the app's memory ----
 */

#define RECEIVE_WAIT_S 10 /* receive waits this long for a message */

static int msg_open(wb_caller *c, wb_slot *s, int kind) {
    uint32_t ret = s[2].u32;
    char *name = wb_abi_string(s[0].u32, s[1].u32);
    if (!name) return trap(c, "messaging: the name is outside memory");
    slight_cap *cap = capability("messaging.", name);
    char msg[300];
    snprintf(msg, sizeof msg, "no messaging capability named `%.200s` in the slightfile", name);
    free(name);
    if (!cap) return error(c, ret, 7, msg);
    uint32_t h = new_handle(kind, (size_t)(cap - cur.rt->caps));
    return h ? ok_handle(c, ret, h) : error(c, ret, 7, "too many open resources");
}

static int pub_open(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return msg_open(c, s, H_PUB);
}

static int sub_open(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return msg_open(c, s, H_SUB);
}

/* The topic's queue (made when missing), with the app's lock held. */
static slight_topic *topic(slight_cap *cap, const char *name) {
    for (slight_topic *t = cap->topics; t; t = t->next)
        if (!strcmp(t->name, name)) return t;
    slight_topic *t = wb_calloc(1, sizeof *t);
    t->name = wb_strdup(name);
    t->next = cap->topics;
    cap->topics = t;
    return t;
}

static int pub_publish(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[5].u32;
    size_t i;
    const uint8_t *data = wb_abi_bytes(s[1].u32, s[2].u32);
    char *name = wb_abi_string(s[3].u32, s[4].u32);
    if (!handle_of(s[0].u32, H_PUB, &i) || !data || !name) {
        free(name);
        return trap(c, "pub::publish: a bad handle, message or topic");
    }
    slight_rt *rt = cur.rt;
    slight_msg *m = wb_calloc(1, sizeof *m);
    m->data = wb_malloc(s[2].u32 ? s[2].u32 : 1);
    memcpy(m->data, data, s[2].u32);
    m->len = s[2].u32;
    pthread_mutex_lock(&rt->lock);
    slight_topic *t = topic(&rt->caps[i], name);
    if (t->tail)
        t->tail->next = m;
    else
        t->head = m;
    t->tail = m;
    pthread_cond_broadcast(&rt->message);
    pthread_mutex_unlock(&rt->lock);
    free(name);
    return wb_abi_put_u8(ret, 0) ? 0 : trap(c, "pub::publish: result");
}

static int sub_subscribe(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[3].u32;
    size_t i;
    const uint8_t *name = wb_abi_bytes(s[1].u32, s[2].u32);
    if (!handle_of(s[0].u32, H_SUB, &i) || !name) return trap(c, "sub::subscribe: bad arguments");
    uint32_t p; /* the token is the topic's name */
    return wb_abi_copy(name, s[2].u32, 1, &p) && wb_abi_put_u8(ret, 0) &&
                   wb_abi_put_u32(ret + 4, p) && wb_abi_put_u32(ret + 8, s[2].u32)
               ? 0
               : trap(c, "sub::subscribe: result");
}

static int sub_receive(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[3].u32;
    size_t i;
    char *name = wb_abi_string(s[1].u32, s[2].u32);
    if (!handle_of(s[0].u32, H_SUB, &i) || !name) {
        free(name);
        return trap(c, "sub::receive: bad arguments");
    }
    slight_rt *rt = cur.rt;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += RECEIVE_WAIT_S;
    pthread_mutex_lock(&rt->lock);
    slight_topic *t = topic(&rt->caps[i], name);
    while (!t->head && pthread_cond_timedwait(&rt->message, &rt->lock, &until) == 0) {
    }
    slight_msg *m = t->head;
    if (m) {
        t->head = m->next;
        if (!t->head) t->tail = NULL;
    }
    pthread_mutex_unlock(&rt->lock);
    free(name);
    if (!m) return error(c, ret, 7, "no message within 10 s");
    uint32_t p;
    bool ok = wb_abi_copy(m->data, m->len, 1, &p) && wb_abi_put_u8(ret, 0) &&
              wb_abi_put_u32(ret + 4, p) && wb_abi_put_u32(ret + 8, (uint32_t)m->len);
    free(m->data);
    free(m);
    return ok ? 0 : trap(c, "sub::receive: result");
}

/* ---- http-server: routers and the server ---- */

/* A router for the app (a copy of `from`, or empty), its handle. */
static uint32_t router_new_handle(const slight_router *from) {
    slight_rt *rt = cur.rt;
    slight_router *r = wb_calloc(1, sizeof *r);
    if (from) {
        r->n = from->n;
        for (size_t i = 0; i < from->n; i++)
            r->routes[i] = (slight_route){from->routes[i].method, wb_strdup(from->routes[i].path),
                                          wb_strdup(from->routes[i].handler)};
    }
    pthread_mutex_lock(&rt->lock);
    WB_VEC_RESERVE(rt->routers, rt->nrouters_cap, rt->nrouters + 1);
    size_t index = rt->nrouters++;
    rt->routers[index] = r;
    pthread_mutex_unlock(&rt->lock);
    return new_handle(H_ROUTER, index);
}

static slight_router *router_of(uint32_t h) {
    size_t i;
    if (!handle_of(h, H_ROUTER, &i)) return NULL;
    pthread_mutex_lock(&cur.rt->lock);
    slight_router *r = cur.rt->routers[i];
    pthread_mutex_unlock(&cur.rt->lock);
    return r;
}

static int router_new(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t h = router_new_handle(NULL);
    return h ? ok_handle(c, s[0].u32, h) : error(c, s[0].u32, 4, "too many open resources");
}

static int router_new_with_base(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t h = router_new_handle(NULL);
    return h ? ok_handle(c, s[2].u32, h) : error(c, s[2].u32, 4, "too many open resources");
}

static int router_add(wb_caller *c, wb_slot *s, int method) {
    uint32_t ret = s[5].u32;
    slight_router *r = router_of(s[0].u32);
    char *route = wb_abi_string(s[1].u32, s[2].u32), *handler = wb_abi_string(s[3].u32, s[4].u32);
    if (!r || !route || !handler) {
        free(route);
        free(handler);
        return trap(c, "router: a bad handle, route or handler");
    }
    if (r->n >= MAX_ROUTES || route[0] != '/') {
        int rc = error(c, ret, 0, route[0] != '/' ? "a route starts with /" : "too many routes");
        free(route);
        free(handler);
        return rc;
    }
    for (char *p = handler; *p; p++)
        if (*p == '_') *p = '-';
    uint32_t h = router_new_handle(r); /* the guest gets a new router with the route added */
    slight_router *nr = router_of(h);
    if (!nr) {
        free(route);
        free(handler);
        return error(c, ret, 4, "too many open resources");
    }
    nr->routes[nr->n++] = (slight_route){method, route, handler};
    return ok_handle(c, ret, h);
}

static int router_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return router_add(c, s, M_GET);
}
static int router_put(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return router_add(c, s, M_PUT);
}
static int router_post(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return router_add(c, s, M_POST);
}
static int router_delete(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return router_add(c, s, M_DELETE);
}

static int server_serve(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t ret = s[3].u32;
    char *address = wb_abi_string(s[0].u32, s[1].u32);
    slight_router *r = router_of(s[2].u32);
    if (!address || !r) {
        free(address);
        return trap(c, "server::serve: a bad address or router");
    }
    slight_rt *rt = cur.rt;
    if (!rt->has_http) {
        free(address);
        const char *msg = "/slightfile.toml has no `http` capability";
        wb_app_log(rt->log_fd, "slight: server::serve: %s", msg);
        return error(c, ret, 4, msg);
    }
    pthread_mutex_lock(&rt->lock);
    bool again = rt->served != NULL;
    if (!again) {
        rt->served = r;
        rt->address = address;
    }
    pthread_mutex_unlock(&rt->lock);
    if (again) {
        free(address);
        return error(c, ret, 4, "the app serves already");
    }
    uint32_t h = new_handle(H_SERVER, 0);
    return h ? ok_handle(c, ret, h) : error(c, ret, 4, "too many open resources");
}

static int server_stop(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return wb_abi_put_u8(s[1].u32, 0) ? 0 : trap(c, "server::stop: result");
}

static int drop(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    (void)env;
    if (s[0].u32 >= 1 && s[0].u32 <= MAX_HANDLES) cur.h[s[0].u32 - 1].kind = H_FREE;
    return 0;
}

static int clone_handle(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t h = s[0].u32;
    if (h < 1 || h > MAX_HANDLES || cur.h[h - 1].kind == H_FREE)
        return trap(c, "resource_clone: a bad handle");
    s[0].u32 = new_handle(cur.h[h - 1].kind, cur.h[h - 1].index);
    return s[0].u32 ? 0 : trap(c, "resource_clone: too many open resources");
}

/* ---- imports ---- */

typedef struct host_import {
    const char *module, *name;
    int nparams, nresults; /* all i32 */
    wb_host_fn fn;
} host_import;

static const host_import host_imports[] = {
    {"keyvalue", "keyvalue::open", 3, 0, kv_open},
    {"keyvalue", "keyvalue::get", 4, 0, kv_get},
    {"keyvalue", "keyvalue::set", 6, 0, kv_set},
    {"keyvalue", "keyvalue::delete", 4, 0, kv_delete},
    {"keyvalue", "keyvalue::keys", 2, 0, kv_keys},
    {"configs", "configs::open", 3, 0, configs_open},
    {"configs", "configs::get", 4, 0, configs_get},
    {"configs", "configs::set", 6, 0, configs_set},
    {"messaging", "pub::open", 3, 0, pub_open},
    {"messaging", "pub::publish", 6, 0, pub_publish},
    {"messaging", "sub::open", 3, 0, sub_open},
    {"messaging", "sub::subscribe", 4, 0, sub_subscribe},
    {"messaging", "sub::receive", 4, 0, sub_receive},
    {"http-server", "router::new", 1, 0, router_new},
    {"http-server", "router::new-with-base", 3, 0, router_new_with_base},
    {"http-server", "router::get", 6, 0, router_get},
    {"http-server", "router::put", 6, 0, router_put},
    {"http-server", "router::post", 6, 0, router_post},
    {"http-server", "router::delete", 6, 0, router_delete},
    {"http-server", "server::serve", 4, 0, server_serve},
    {"http-server", "server::stop", 2, 0, server_stop},
};

static const char *const resources[] = {"keyvalue", "configs", "router", "server", "pub", "sub"};

/* The host function for import (module, name), or NULL. *np, *nr: its signature. Slight's older
 * builds name the http module "http". */
static wb_host_fn find_import(const wb_import_info *im, int *np, int *nr) {
    char module[64], name[128];
    if (im->module_len >= sizeof module || im->name_len >= sizeof name) return NULL;
    snprintf(module, sizeof module, "%.*s", (int)im->module_len, im->module);
    snprintf(name, sizeof name, "%.*s", (int)im->name_len, im->name);
    if (!strcmp(module, "http")) snprintf(module, sizeof module, "http-server");
    for (size_t i = 0; i < sizeof host_imports / sizeof host_imports[0]; i++)
        if (!strcmp(host_imports[i].module, module) && !strcmp(host_imports[i].name, name)) {
            *np = host_imports[i].nparams;
            *nr = host_imports[i].nresults;
            return host_imports[i].fn;
        }
    if (!strcmp(module, "canonical_abi"))
        for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
            char drop_name[64], clone_name[64];
            snprintf(drop_name, sizeof drop_name, "resource_drop_%s", resources[i]);
            snprintf(clone_name, sizeof clone_name, "resource_clone_%s", resources[i]);
            *np = 1;
            if (!strcmp(name, drop_name)) {
                *nr = 0;
                return drop;
            }
            if (!strcmp(name, clone_name)) {
                *nr = 1;
                return clone_handle;
            }
        }
    return NULL;
}

static bool all_i32(const wb_functype *ft, int np, int nr) {
    if ((int)ft->nparams != np || (int)ft->nresults != nr) return false;
    for (uint32_t i = 0; i < ft->nparams + ft->nresults; i++)
        if (ft->types[i] != WB_I32) return false;
    return true;
}

static int check_imports(const wb_module *m, wb_error *err) {
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if ((im.module_len == 22 && !memcmp(im.module, "wasi_snapshot_preview1", 22)) ||
            (im.module_len == 13 && !memcmp(im.module, "wasi_unstable", 13)))
            continue;
        int np, nr;
        wb_host_fn fn = find_import(&im, &np, &nr);
        if (fn && im.kind == WB_EXTERN_FUNC && all_i32(im.func, np, nr)) continue;
        return wb_error_set(err, WB_ELINK, "slight: /app.wasm imports `%.*s`.`%.*s`, which %s",
                            (int)im.module_len, im.module, (int)im.name_len, im.name,
                            fn ? "has another signature than slight's"
                               : "is not provided (wasmbox's slight has the http, "
                                 "keyvalue.filesystem, configs.envvars and messaging.filesystem "
                                 "capabilities)");
    }
    return 0;
}

static int link_slight(void *ctx, wb_store *s, wb_linker *l, wb_error *err) {
    slight_rt *rt = ctx;
    (void)err;
    for (uint32_t i = 0; i < wb_module_import_count(rt->module); i++) {
        wb_import_info im;
        wb_module_import(rt->module, i, &im);
        int np, nr;
        wb_host_fn fn = find_import(&im, &np, &nr);
        if (!fn) continue;
        char module[64], name[128];
        snprintf(module, sizeof module, "%.*s", (int)im.module_len, im.module);
        snprintf(name, sizeof name, "%.*s", (int)im.name_len, im.name);
        wb_extern ext = {.kind = WB_EXTERN_FUNC};
        ext.of.func = wb_func_new_host(s, im.func, fn, rt, name);
        wb_linker_define(l, module, name, ext);
    }
    return 0;
}

/* ---- loading ---- */

/* The app's argv (storage that lives as long as the pools that borrow it). */
static char app_name[] = "app.wasm";
static char *const app_argv[] = {app_name, NULL};

static void rt_free(slight_rt *rt) {
    if (!rt) return;
    wb_pool_free(rt->pool);
    wb_module_free(rt->module);
    for (size_t i = 0; i < rt->ncaps; i++) {
        free(rt->caps[i].resource);
        free(rt->caps[i].name);
        wb_kv_free(rt->caps[i].kv);
        for (slight_topic *t = rt->caps[i].topics, *tn; t; t = tn) {
            tn = t->next;
            for (slight_msg *m = t->head, *mn; m; m = mn) {
                mn = m->next;
                free(m->data);
                free(m);
            }
            free(t->name);
            free(t);
        }
    }
    free(rt->caps);
    for (size_t i = 0; i < rt->nrouters; i++) {
        for (size_t k = 0; k < rt->routers[i]->n; k++) {
            free(rt->routers[i]->routes[k].path);
            free(rt->routers[i]->routes[k].handler);
        }
        free(rt->routers[i]);
    }
    free(rt->routers);
    free(rt->address);
    pthread_mutex_destroy(&rt->lock);
    pthread_cond_destroy(&rt->message);
    free(rt);
}

/* A file of the container (its host path through an O_PATH descriptor) read whole. */
static int read_app_file(const wb_wasm_job *job, const char *guest, uint8_t **data, size_t *len,
                         size_t max, wb_error *err) {
    bool ro;
    int fd = wb_app_open(job, guest, false, &ro);
    if (fd < 0) return wb_error_set(err, errno, "%s: %s", guest, strerror(errno));
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int rc = wb_read_file(proc, max, data, len, err);
    close(fd);
    return rc < 0 ? wb_error_wrap(err, "%s", guest) : 0;
}

static int load_capabilities(slight_rt *rt, wb_error *err) {
    uint8_t *text = NULL;
    size_t len = 0;
    if (read_app_file(rt->job, "/slightfile.toml", &text, &len, 1u << 20, err) < 0) {
        if (err->code == ENOENT)
            return wb_error_set(err, ENOENT,
                                "slight: no /slightfile.toml in the container (a slight app image "
                                "has /slightfile.toml and /app.wasm)");
        return wb_error_wrap(err, "slight");
    }
    json_t *doc = wb_toml_parse((const char *)text, len, err);
    free(text);
    if (!doc) return wb_error_wrap(err, "slight: /slightfile.toml");
    int rc = 0;
    const char *version = json_string_value(json_object_get(doc, "specversion"));
    json_t *caps = json_object_get(doc, "capability");
    if (!version || (strcmp(version, "0.1") && strcmp(version, "0.2")))
        rc = wb_error_set(err, EINVAL,
                          "slight: /slightfile.toml: `specversion` must be \"0.1\" or \"0.2\"");
    else if (caps && !json_is_array(caps))
        rc = wb_error_set(err, EINVAL,
                          "slight: /slightfile.toml: `capability` must be an array of tables");
    rt->caps = wb_calloc(json_array_size(caps) + 1, sizeof *rt->caps);
    for (size_t i = 0; rc == 0 && i < json_array_size(caps); i++) {
        json_t *c = json_array_get(caps, i);
        const char *resource = json_string_value(json_object_get(c, "resource"));
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!resource || !name) {
            rc = wb_error_set(err, EINVAL,
                              "slight: /slightfile.toml: capability %zu needs `resource` and "
                              "`name` (strings)",
                              i + 1);
            break;
        }
        slight_cap *cap = &rt->caps[rt->ncaps++];
        cap->resource = wb_strdup(resource);
        cap->name = wb_strdup(name);
        if (!strcmp(resource, "http")) {
            rt->has_http = true;
        } else if (!strcmp(resource, "keyvalue.filesystem")) {
            if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
                rc = wb_error_set(err, EINVAL, "slight: keyvalue `%s`: a name without '/'", name);
                break;
            }
            /* in the container's /.slight/keyvalue (resolved in its root), or in memory when
             * the root is read-only */
            char *file = NULL;
            size_t fl = 0;
            wb_appendf(&file, &fl, "%s.json", name);
            int dir = -1;
            if (rt->job->read_only_root) {
                wb_app_log(rt->log_fd,
                           "slight: the container's root is read-only: keyvalue `%s` "
                           "is kept in memory only",
                           name);
                rc = wb_kv_open(NULL, &cap->kv, err);
            } else if ((dir = wb_app_state_dir(rt->job, "/.slight/keyvalue", false, err)) < 0) {
                rc = -1;
            } else {
                rc = wb_kv_open_in(dir, file, &cap->kv, err);
            }
            if (rc < 0) wb_error_wrap(err, "slight: keyvalue `%s`", name);
            free(file);
        } else if (strcmp(resource, "configs.envvars") &&
                   strcmp(resource, "messaging.filesystem")) {
            rc = wb_error_set(err, ENOTSUP,
                              "slight: capability `%s` (`%s`) is not supported (wasmbox's slight "
                              "has http, keyvalue.filesystem, configs.envvars and "
                              "messaging.filesystem)",
                              resource, name);
        }
    }
    json_decref(doc);
    return rc;
}

static int load(const wb_wasm_job *job, slight_rt **out, wb_error *err) {
    slight_rt *rt = wb_calloc(1, sizeof *rt);
    rt->job = job;
    rt->log_fd = job->stdio[2] ? job->stdio[2] : 2;
    pthread_mutex_init(&rt->lock, NULL);
    pthread_cond_init(&rt->message, NULL);
    *out = NULL;
    int rc = load_capabilities(rt, err);
    if (rc == 0) {
        bool ro;
        int fd = wb_app_open(job, "/app.wasm", false, &ro);
        if (fd < 0) {
            rc = wb_error_set(err, errno, "slight: /app.wasm: %s", strerror(errno));
        } else {
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            wb_config cfg = {.interruptible = true};
            rc = wb_module_load(&cfg, proc, &rt->module, err);
            close(fd);
            if (rc < 0) wb_error_wrap(err, "slight: /app.wasm");
        }
    }
    if (rc == 0) rc = check_imports(rt->module, err);
    if (rc == 0) {
        int native = wb_app_prepare_module(job, rt->module, err);
        if (native < 0) rc = wb_error_wrap(err, "slight: /app.wasm");
        wb_app_record_tier(job, native == 1);
    }
    if (rc < 0) {
        rt_free(rt);
        return -1;
    }
    *out = rt;
    return 0;
}

/* ---- requests ---- */

/* path matches route ("/a/:x/b"): params (name, value pairs, malloc'd) into p[0..*n). */
static bool match(const char *route, const char *path, char *p[][2], size_t max, size_t *n) {
    *n = 0;
    while (*route == '/' && *path == '/') {
        route++;
        path++;
        size_t rl = strcspn(route, "/"), pl = strcspn(path, "/");
        if (route[0] == ':' && pl > 0) {
            if (*n < max) {
                p[*n][0] = wb_strndup(route + 1, rl - 1);
                p[*n][1] = wb_strndup(path, pl);
                (*n)++;
            }
        } else if (rl != pl || strncmp(route, path, rl)) {
            return false;
        }
        route += rl;
        path += pl;
    }
    return !*route && (!*path || !strcmp(path, "/"));
}

static void fail(const slight_rt *rt, const char *handler, const char *why,
                 wb_http_response *resp) {
    wb_app_log(rt->log_fd, "slight: handler `%s`: %s", handler, why);
    wb_http_response_release(resp);
    resp->status = 500;
    wb_http_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    const char *body = "Internal Server Error\n";
    wb_http_response_append(resp, body, strlen(body));
}

/* The flat request (method, uri, headers, params, body) in the guest: args[0..10). */
static bool pass_request(const wb_http_request *req, int method, char *params[][2], size_t nparams,
                         int32_t args[10]) {
    uint32_t uri, headers, plist, body = 0;
    if (!wb_abi_copy(req->target, strlen(req->target), 1, &uri) ||
        !wb_abi_alloc(4, (uint32_t)(16 * req->nheaders), &headers) ||
        !wb_abi_alloc(4, (uint32_t)(16 * nparams), &plist) ||
        (req->body_len && !wb_abi_copy(req->body, req->body_len, 1, &body)))
        return false;
    for (size_t i = 0; i < req->nheaders + nparams; i++) {
        const char *k = i < req->nheaders ? req->headers[i].name : params[i - req->nheaders][0];
        const char *v = i < req->nheaders ? req->headers[i].value : params[i - req->nheaders][1];
        uint32_t at = i < req->nheaders ? headers + 16 * (uint32_t)i
                                        : plist + 16 * (uint32_t)(i - req->nheaders);
        uint32_t kp, vp;
        if (!wb_abi_copy(k, strlen(k), 1, &kp) || !wb_abi_copy(v, strlen(v), 1, &vp) ||
            !wb_abi_put_u32(at, kp) || !wb_abi_put_u32(at + 4, (uint32_t)strlen(k)) ||
            !wb_abi_put_u32(at + 8, vp) || !wb_abi_put_u32(at + 12, (uint32_t)strlen(v)))
            return false;
    }
    int32_t v[10] = {method,
                     (int32_t)uri,
                     (int32_t)strlen(req->target),
                     (int32_t)headers,
                     (int32_t)req->nheaders,
                     (int32_t)plist,
                     (int32_t)nparams,
                     1, /* slight always passes a body, empty or not */
                     (int32_t)body,
                     (int32_t)req->body_len};
    memcpy(args, v, sizeof v);
    return true;
}

/* expected<response, error> at ret into resp. */
static int read_response(uint32_t ret, wb_http_response *resp, const char **why) {
    const uint8_t *r = wb_abi_bytes(ret, 4);
    if (!r) {
        *why = "the response is outside memory";
        return -1;
    }
    if (r[0]) {
        *why = "the handler returned an error";
        return -1;
    }
    return wb_abi_read_response(ret + 4, resp, why);
}

static wb_pool *app_pool(slight_rt *rt, wb_error *err) {
    pthread_mutex_lock(&rt->lock);
    if (!rt->pool) {
        wb_pool_config pc = {.module = rt->module,
                             .wasi = {.argc = 1,
                                      .argv = app_argv,
                                      .envc = (int)rt->job->nenv,
                                      .env = rt->job->env,
                                      .stdio = {-1, -1, rt->log_fd},
                                      .no_wasmedge = true},
                             .limits = {.max_memory = rt->job->max_memory},
                             .link = link_slight,
                             .link_ctx = rt};
        wb_pool_new(&pc, &rt->pool, err);
    }
    wb_pool *p = rt->pool;
    pthread_mutex_unlock(&rt->lock);
    return p;
}

static int handle(void *ctx, const wb_http_request *req, wb_http_response *resp) {
    slight_rt *rt = ctx;
    int method = wb_abi_method(req->method);
    const slight_route *route = NULL;
    char *params[16][2];
    size_t nparams = 0;
    for (size_t i = 0; i < rt->served->n && !route; i++) {
        const slight_route *r = &rt->served->routes[i];
        if (r->method == method && match(r->path, req->path, params, 16, &nparams))
            route = r;
        else
            for (size_t k = 0; k < nparams; k++) free(params[k][0]), free(params[k][1]);
    }
    if (!route) {
        resp->status = 404;
        return 0;
    }
    wb_error err;
    wb_wasi_run_io io = {.in = (const uint8_t *)"", .out_max = 1 << 20};
    wb_pool *pool = app_pool(rt, &err);
    wb_pool_instance *pi;
    const char *why = NULL;
    if (!pool || wb_pool_take(pool, &io, &pi, &err) < 0) {
        fail(rt, route->handler, err.msg, resp);
    } else {
        memset(&cur, 0, sizeof cur);
        cur.rt = rt;
        wb_abi_enter(pi->store, pi->inst);
        wb_extern f;
        int32_t a[10];
        wb_value args[10], r;
        if (wb_instance_export(pi->inst, "_initialize", 11, &f) &&
            wb_func_call(pi->store, f.of.func, NULL, 0, NULL, 0, &err) < 0) {
            why = err.msg;
        } else if (!wb_instance_export(pi->inst, route->handler, strlen(route->handler), &f) ||
                   f.kind != WB_EXTERN_FUNC) {
            snprintf(err.msg, sizeof err.msg, "/app.wasm exports no `%s`", route->handler);
            why = err.msg;
        } else if (!pass_request(req, method, params, nparams, a)) {
            why = "cannot pass the request (canonical_abi_realloc failed)";
        } else {
            for (int i = 0; i < 10; i++) args[i] = (wb_value){.type = WB_I32, .of.i32 = a[i]};
            if (wb_func_call(pi->store, f.of.func, args, 10, &r, 1, &err) < 0)
                why = err.msg;
            else
                read_response((uint32_t)r.of.i32, resp, &why);
        }
        if (why) fail(rt, route->handler, why, resp);
        wb_abi_leave();
        memset(&cur, 0, sizeof cur);
        wb_pool_give(pool, pi);
    }
    for (size_t k = 0; k < nparams; k++) free(params[k][0]), free(params[k][1]);
    return 0;
}

/* ---- the container's workload ---- */

/* Run the app's _start (or on-server-init) once with the container's stdio: *code its status. */
static int run_init(slight_rt *rt, int *code, wb_error *err) {
    const wb_wasm_job *job = rt->job;
    wb_wasi_config wc = {.argc = 1,
                         .argv = app_argv,
                         .envc = (int)job->nenv,
                         .env = job->env,
                         .stdio = {job->stdio[0], job->stdio[1] ? job->stdio[1] : 1,
                                   job->stdio[2] ? job->stdio[2] : 2},
                         .no_wasmedge = true};
    wb_wasi *wasi = NULL;
    wb_store *store = NULL;
    wb_linker *linker = wb_linker_new();
    wb_instance *inst;
    int rc = -1;
    *code = 1;
    wb_store_limits lim = {.max_memory = job->max_memory};
    if (wb_wasi_new(&wc, &wasi, err) < 0 || !(store = wb_store_new(&lim, err))) goto out;
    if (wb_wasi_link(wasi, store, linker, rt->module, err) < 0 ||
        link_slight(rt, store, linker, err) < 0 ||
        wb_linker_instantiate(linker, store, rt->module, &inst, err) < 0)
        goto out;
    wb_extern f;
    if (!wb_instance_export(inst, "on-server-init", 14, &f) &&
        !wb_instance_export(inst, "_start", 6, &f)) {
        wb_error_set(err, ENOEXEC,
                     "slight: /app.wasm exports neither `_start` nor "
                     "`on-server-init`");
        goto out;
    }
    memset(&cur, 0, sizeof cur);
    cur.rt = rt;
    wb_abi_enter(store, inst);
    int r = wb_func_call(store, f.of.func, NULL, 0, NULL, 0, err);
    wb_abi_leave();
    if (r < 0 && err->code == WB_EEXIT) {
        *code = wb_store_last_trap(store)->exit_code;
        rc = 0;
    } else if (r < 0) {
        wb_error_wrap(err, "slight: /app.wasm");
        *code = 134;
    } else {
        *code = 0;
        rc = 0;
    }
out:
    memset(&cur, 0, sizeof cur);
    wb_wasi_free(wasi);
    wb_linker_free(linker);
    wb_store_free(store);
    return rc;
}

/* The server stops: the requests running end (their instances are interrupted). */
static void stop(void *ctx) {
    slight_rt *rt = ctx;
    pthread_mutex_lock(&rt->lock);
    wb_pool *p = rt->pool;
    pthread_mutex_unlock(&rt->lock);
    wb_pool_stop(p);
}

static void banner(void *ctx, int out, const char *host, int port) {
    const slight_rt *rt = ctx;
    dprintf(out, "slight: serving on http://%s:%d\n", host, port);
    static const char *const methods[] = {"GET",   "POST", "PUT",    "DELETE",
                                          "PATCH", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < rt->served->n; i++)
        dprintf(out, "  %s %s => %s\n", methods[rt->served->routes[i].method],
                rt->served->routes[i].path, rt->served->routes[i].handler);
}

int wb_slight_run(const wb_wasm_job *job, int *exit_code, wb_error *err) {
    slight_rt *rt;
    *exit_code = 1;
    if (load(job, &rt, err) < 0) return -1;
    int code, rc = run_init(rt, &code, err);
    if (rc == 0 && rt->served) {
        char host[256];
        const char *colon = strrchr(rt->address, ':');
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || end == colon + 1 || *end || port < 0 || port > 65535 ||
            (size_t)(colon - rt->address) >= sizeof host) {
            rc = wb_error_set(err, EINVAL, "slight: server::serve: `%s` is not HOST:PORT",
                              rt->address);
        } else {
            snprintf(host, sizeof host, "%.*s", (int)(colon - rt->address), rt->address);
            if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
            wb_app_server srv = {"slight", host, (int)port, handle, stop, banner, rt};
            rc = wb_app_serve(job, &srv, exit_code, err);
        }
    } else if (rc == 0) {
        *exit_code = code;
    }
    rt_free(rt);
    return rc;
}
