/* A slight app for the tests (tests/linux/slight.sh), written against the ABI by hand as
 * wit-bindgen 0.2 lowers slight's interfaces (no SDK): main builds a router and serves it; each
 * route's handler is an export (handle_x registered, handle-x exported) taking the request and
 * answering expected<response, error>. Uses the keyvalue store `my-store` and the configs
 * `my-configs` and the messaging queue `my-queue`. With SLIGHT_MODE=exit it serves nothing and
 * exits 7; with SLIGHT_MODE=kv it counts runs in the store and exits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define EXPORT(n)    __attribute__((export_name(n)))

typedef struct {
    uint8_t tag, pad[3];
    uint32_t a, b, c;
} result;

IMPORT("http-server", "router::new") void router_new(result *ret);
IMPORT("http-server", "router::get")
void router_get(uint32_t self, const char *r, size_t rl, const char *h, size_t hl, result *ret);
IMPORT("http-server", "router::put")
void router_put(uint32_t self, const char *r, size_t rl, const char *h, size_t hl, result *ret);
IMPORT("http-server", "router::post")
void router_post(uint32_t self, const char *r, size_t rl, const char *h, size_t hl, result *ret);
IMPORT("http-server", "router::delete")
void router_delete(uint32_t self, const char *r, size_t rl, const char *h, size_t hl, result *ret);
IMPORT("http-server", "server::serve")
void server_serve(const char *a, size_t al, uint32_t router, result *ret);
IMPORT("canonical_abi", "resource_drop_router") void drop_router(uint32_t h);
IMPORT("keyvalue", "keyvalue::open") void kv_open(const char *n, size_t nl, result *ret);
IMPORT("keyvalue", "keyvalue::get")
void kv_get(uint32_t s, const char *k, size_t kl, result *ret);
IMPORT("keyvalue", "keyvalue::set")
void kv_set(uint32_t s, const char *k, size_t kl, const void *v, size_t vl, result *ret);
IMPORT("keyvalue", "keyvalue::delete")
void kv_delete(uint32_t s, const char *k, size_t kl, result *ret);
IMPORT("keyvalue", "keyvalue::keys") void kv_keys(uint32_t s, result *ret);
IMPORT("canonical_abi", "resource_drop_keyvalue") void drop_kv(uint32_t h);
IMPORT("messaging", "pub::open") void pub_open(const char *n, size_t nl, result *ret);
IMPORT("messaging", "pub::publish")
void pub_publish(uint32_t s, const void *m, size_t ml, const char *t, size_t tl, result *ret);
IMPORT("messaging", "sub::open") void sub_open(const char *n, size_t nl, result *ret);
IMPORT("messaging", "sub::subscribe")
void sub_subscribe(uint32_t s, const char *t, size_t tl, result *ret);
IMPORT("messaging", "sub::receive")
void sub_receive(uint32_t s, const char *tok, size_t tl, result *ret);
IMPORT("configs", "configs::open") void configs_open(const char *n, size_t nl, result *ret);
IMPORT("configs", "configs::get")
void configs_get(uint32_t s, const char *k, size_t kl, result *ret);

EXPORT("canonical_abi_realloc") void *abi_realloc(void *p, size_t old, size_t align, size_t size) {
    (void)old;
    (void)align;
    return realloc(p, size ? size : 1);
}

EXPORT("canonical_abi_free") void abi_free(void *p, size_t size, size_t align) {
    (void)size;
    (void)align;
    free(p);
}

static int runs;
static uint32_t ret_area[8];
static char body[8192];

static uint32_t *answer(int status, const char *text) {
    static const char ct[] = "content-type", ctv[] = "text/plain";
    static uint32_t headers[4];
    headers[0] = (uint32_t)(uintptr_t)ct;
    headers[1] = sizeof ct - 1;
    headers[2] = (uint32_t)(uintptr_t)ctv;
    headers[3] = sizeof ctv - 1;
    memset(ret_area, 0, sizeof ret_area);
    ret_area[0] = 0; /* ok */
    *(uint16_t *)&ret_area[1] = (uint16_t)status;
    ret_area[2] = 1; /* some(headers) */
    ret_area[3] = (uint32_t)(uintptr_t)headers;
    ret_area[4] = 1;
    ret_area[5] = 1; /* some(body) */
    ret_area[6] = (uint32_t)(uintptr_t)text;
    ret_area[7] = (uint32_t)strlen(text);
    return ret_area;
}

/* The value of pair `name` in a list of (string, string). */
static const char *pair(const uint32_t *p, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++, p += 4)
        if (p[1] == strlen(name) && !memcmp((const char *)(uintptr_t)p[0], name, p[1])) {
            char *v = malloc(p[3] + 1);
            memcpy(v, (const char *)(uintptr_t)p[2], p[3]);
            v[p[3]] = 0;
            return v;
        }
    return "(none)";
}

static uint32_t store(void) {
    result r;
    kv_open("my-store", 8, &r);
    return r.tag ? 0 : r.a;
}

#define HANDLER(name, export)                                                                      \
    EXPORT(export)                                                                                 \
    uint32_t *name(int method, const char *uri, size_t uri_len, const uint32_t *headers,           \
                   size_t nheaders, const uint32_t *params, size_t nparams, int has_body,          \
                   const char *req_body, size_t body_len)
#define UNUSED_ARGS                                                                                \
    (void)method, (void)uri, (void)uri_len, (void)headers, (void)nheaders, (void)params,           \
        (void)nparams, (void)has_body, (void)req_body, (void)body_len

HANDLER(handle_hello, "handle-hello") {
    UNUSED_ARGS;
    snprintf(body, sizeof body, "Hello from slight (method %d, %.*s, x-test %s)", method,
             (int)uri_len, uri, pair(headers, nheaders, "x-test"));
    return answer(200, body);
}

HANDLER(handle_echo, "handle-echo") {
    UNUSED_ARGS;
    snprintf(body, sizeof body, "%.*s", has_body ? (int)body_len : 0, has_body ? req_body : "");
    return answer(201, body);
}

HANDLER(handle_kv_put, "handle-kv-put") {
    UNUSED_ARGS;
    const char *key = pair(params, nparams, "key");
    result r;
    kv_set(store(), key, strlen(key), req_body, body_len, &r);
    snprintf(body, sizeof body, "set %s %s", key, r.tag ? "error" : "ok");
    return answer(200, body);
}

HANDLER(handle_kv_get, "handle-kv-get") {
    UNUSED_ARGS;
    const char *key = pair(params, nparams, "key");
    result r;
    uint32_t s = store();
    kv_get(s, key, strlen(key), &r);
    if (r.tag)
        snprintf(body, sizeof body, "error %u: %.*s", r.a & 0xff, (int)r.c,
                 (const char *)(uintptr_t)r.b);
    else
        snprintf(body, sizeof body, "%.*s", (int)r.b, (const char *)(uintptr_t)r.a);
    drop_kv(s);
    return answer(r.tag ? 404 : 200, body);
}

HANDLER(handle_kv_delete, "handle-kv-delete") {
    UNUSED_ARGS;
    const char *key = pair(params, nparams, "key");
    result r;
    kv_delete(store(), key, strlen(key), &r);
    return answer(200, r.tag ? "error" : "deleted");
}

HANDLER(handle_kv_keys, "handle-kv-keys") {
    UNUSED_ARGS;
    result r;
    kv_keys(store(), &r);
    size_t at = 0;
    const uint32_t *list = (const uint32_t *)(uintptr_t)r.a;
    body[0] = 0;
    for (uint32_t i = 0; !r.tag && i < r.b && at < sizeof body - 256; i++)
        at += (size_t)snprintf(body + at, sizeof body - at, "%s%.*s", i ? "," : "",
                               (int)list[2 * i + 1], (const char *)(uintptr_t)list[2 * i]);
    return answer(200, body);
}

HANDLER(handle_config, "handle-config") {
    UNUSED_ARGS;
    const char *name = pair(params, nparams, "name");
    result r;
    configs_open("my-configs", 10, &r);
    uint32_t c = r.a;
    configs_get(c, name, strlen(name), &r);
    if (r.tag)
        snprintf(body, sizeof body, "error %u: %.*s", r.a & 0xff, (int)r.c,
                 (const char *)(uintptr_t)r.b);
    else
        snprintf(body, sizeof body, "%.*s", (int)r.b, (const char *)(uintptr_t)r.a);
    return answer(200, body);
}

HANDLER(handle_publish, "handle-publish") {
    UNUSED_ARGS;
    const char *t = pair(params, nparams, "topic");
    result r;
    pub_open("my-queue", 8, &r);
    uint32_t h = r.a;
    pub_publish(h, req_body, body_len, t, strlen(t), &r);
    return answer(200, r.tag ? "publish error" : "published");
}

HANDLER(handle_receive, "handle-receive") {
    UNUSED_ARGS;
    const char *t = pair(params, nparams, "topic");
    result r;
    sub_open("my-queue", 8, &r);
    uint32_t h = r.a;
    sub_subscribe(h, t, strlen(t), &r);
    uint32_t tok = r.a, tokl = r.b;
    sub_receive(h, (const char *)(uintptr_t)tok, tokl, &r);
    if (r.tag)
        snprintf(body, sizeof body, "error %u: %.*s", r.a & 0xff, (int)r.c,
                 (const char *)(uintptr_t)r.b);
    else
        snprintf(body, sizeof body, "%.*s", (int)r.b, (const char *)(uintptr_t)r.a);
    return answer(200, body);
}

HANDLER(handle_fresh, "handle-fresh") {
    UNUSED_ARGS;
    runs++;
    snprintf(body, sizeof body, "runs=%d", runs);
    return answer(200, body);
}

HANDLER(handle_trap, "handle-trap") {
    UNUSED_ARGS;
    __builtin_trap();
}

HANDLER(handle_fail, "handle-fail") {
    UNUSED_ARGS;
    memset(ret_area, 0, sizeof ret_area);
    ret_area[0] = 1; /* err */
    return ret_area;
}

static uint32_t route(uint32_t router, int method, const char *path, const char *handler) {
    result r;
    void (*add[])(uint32_t, const char *, size_t, const char *, size_t,
                  result *) = {router_get, router_put, router_post, router_delete};
    add[method](router, path, strlen(path), handler, strlen(handler), &r);
    if (r.tag) {
        printf("app: route %s failed\n", path);
        exit(1);
    }
    drop_router(router);
    return r.a;
}

int main(void) {
    const char *mode = getenv("SLIGHT_MODE");
    if (mode && !strcmp(mode, "exit")) {
        printf("app: nothing to serve\n");
        return 7;
    }
    if (mode && !strcmp(mode, "kv")) { /* count the container's runs in the store */
        result r;
        uint32_t s = store();
        kv_get(s, "starts", 6, &r);
        int n = r.tag ? 0 : atoi((const char *)(uintptr_t)r.a);
        char v[16];
        snprintf(v, sizeof v, "%d", n + 1);
        kv_set(s, "starts", 6, v, strlen(v), &r);
        printf("app: start %s\n", v);
        return 0;
    }
    result r;
    router_new(&r);
    uint32_t router = r.a;
    router = route(router, 0, "/hello", "handle_hello");
    router = route(router, 2, "/echo", "handle_echo");
    router = route(router, 1, "/kv/:key", "handle_kv_put");
    router = route(router, 0, "/kv/:key", "handle_kv_get");
    router = route(router, 3, "/kv/:key", "handle_kv_delete");
    router = route(router, 0, "/keys", "handle_kv_keys");
    router = route(router, 0, "/config/:name", "handle_config");
    router = route(router, 0, "/fresh", "handle_fresh");
    router = route(router, 2, "/publish/:topic", "handle_publish");
    router = route(router, 0, "/receive/:topic", "handle_receive");
    router = route(router, 0, "/trap", "handle_trap");
    router = route(router, 0, "/fail", "handle_fail");
    router = route(router, 0, "/missing", "handle_missing");
    const char *addr = getenv("SLIGHT_ADDR") ? getenv("SLIGHT_ADDR") : "0.0.0.0:3000";
    server_serve(addr, strlen(addr), router, &r);
    printf("app: serve %s\n", r.tag ? "failed" : "started");
    return 0;
}
