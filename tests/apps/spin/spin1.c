/* A Spin 1.x component for the tests (tests/linux/spin.sh), written against the ABI by hand as
 * wit-bindgen 0.2 lowers it (no SDK): it exports `handle-http-request` and the canonical ABI's
 * allocator, and imports `spin-config` and `key-value`. Built as a reactor (_initialize). What
 * it answers depends on the path after /spin1: /hello, /headers, /echo (POST), /config, /nokey,
 * /kv?set=K=V, /kv?get=K, /kv?del=K, /kv?has=K, /kv-keys, /kv-other, /outbound?URL, /fresh,
 * /trap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define EXPORT(n)    __attribute__((export_name(n)))

IMPORT("spin-config", "get-config") void get_config(const char *k, size_t klen, void *ret);
IMPORT("key-value", "open") void kv_open(const char *n, size_t nlen, void *ret);
IMPORT("key-value", "get") void kv_get(uint32_t s, const char *k, size_t klen, void *ret);
IMPORT("key-value", "set")
void kv_set(uint32_t s, const char *k, size_t klen, const void *v, size_t vlen, void *ret);
IMPORT("key-value", "delete") void kv_delete(uint32_t s, const char *k, size_t klen, void *ret);
IMPORT("key-value", "exists") void kv_exists(uint32_t s, const char *k, size_t klen, void *ret);
IMPORT("key-value", "get-keys") void kv_get_keys(uint32_t s, void *ret);
IMPORT("key-value", "close") void kv_close(uint32_t s);
IMPORT("wasi-outbound-http", "request")
void http_request(int method, const char *uri, size_t uri_len, const uint32_t *headers,
                  size_t nheaders, const void *params, size_t nparams, int has_body,
                  const void *body, size_t body_len, void *ret);

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
static uint32_t ret_area[7];
static uint32_t out_headers[2][4];
static char body[65536];

/* expected<T, error> results: tag u8 at 0, payload at 4 */
typedef struct {
    uint8_t tag, pad[3];
    uint32_t a, b, c;
} result;

static const char *kv_errors[] = {"store-table-full", "no-such-store", "access-denied",
                                  "invalid-store",    "no-such-key",   "io"};

static uint32_t *answer(int status, const char *text, size_t len) {
    static const char ct[] = "content-type", ctv[] = "text/plain", x[] = "x-spin-test",
                      xv[] = "spin1";
    out_headers[0][0] = (uint32_t)(uintptr_t)ct;
    out_headers[0][1] = sizeof ct - 1;
    out_headers[0][2] = (uint32_t)(uintptr_t)ctv;
    out_headers[0][3] = sizeof ctv - 1;
    out_headers[1][0] = (uint32_t)(uintptr_t)x;
    out_headers[1][1] = sizeof x - 1;
    out_headers[1][2] = (uint32_t)(uintptr_t)xv;
    out_headers[1][3] = sizeof xv - 1;
    memset(ret_area, 0, sizeof ret_area);
    *(uint16_t *)ret_area = (uint16_t)status;
    ret_area[1] = 1; /* some(headers) */
    ret_area[2] = (uint32_t)(uintptr_t)out_headers;
    ret_area[3] = 2;
    ret_area[4] = 1; /* some(body) */
    ret_area[5] = (uint32_t)(uintptr_t)text;
    ret_area[6] = (uint32_t)len;
    return ret_area;
}

static uint32_t *text(int status, const char *s) {
    return answer(status, s, strlen(s));
}

/* The value of header `name` (a copy that lives until the request ends), or "(none)". */
static const char *header(const uint32_t *h, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++, h += 4)
        if (h[1] == strlen(name) && !memcmp((const char *)(uintptr_t)h[0], name, h[1])) {
            char *v = malloc(h[3] + 1);
            memcpy(v, (const char *)(uintptr_t)h[2], h[3]);
            v[h[3]] = 0;
            return v;
        }
    return "(none)";
}

static uint32_t open_default(void) {
    result r;
    kv_open("default", 7, &r);
    return r.tag ? 0 : r.a;
}

static uint32_t *kv(const char *q) {
    uint32_t s = open_default();
    if (!s) return text(500, "cannot open the default store");
    result r;
    if (!strncmp(q, "set=", 4)) {
        const char *eq = strchr(q + 4, '=');
        if (!eq) return text(400, "set=K=V");
        kv_set(s, q + 4, (size_t)(eq - q - 4), eq + 1, strlen(eq + 1), &r);
        snprintf(body, sizeof body, "set %s", r.tag ? kv_errors[r.a & 0xff] : "ok");
    } else if (!strncmp(q, "get=", 4)) {
        kv_get(s, q + 4, strlen(q + 4), &r);
        if (r.tag)
            snprintf(body, sizeof body, "error %s", kv_errors[r.a & 0xff]);
        else
            snprintf(body, sizeof body, "value %.*s", (int)r.b, (const char *)(uintptr_t)r.a);
    } else if (!strncmp(q, "del=", 4)) {
        kv_delete(s, q + 4, strlen(q + 4), &r);
        snprintf(body, sizeof body, "delete %s", r.tag ? kv_errors[r.a & 0xff] : "ok");
    } else if (!strncmp(q, "has=", 4)) {
        kv_exists(s, q + 4, strlen(q + 4), &r);
        snprintf(body, sizeof body, "exists %s", r.tag ? "error" : (r.a & 0xff) ? "yes" : "no");
    } else {
        return text(400, "set=, get=, del= or has=");
    }
    kv_close(s);
    return text(200, body);
}

EXPORT("handle-http-request")
uint32_t *handle(int method, const char *uri, size_t uri_len, const uint32_t *headers,
                 size_t nheaders, const void *params, size_t nparams, int has_body,
                 const char *req_body, size_t body_len) {
    (void)params;
    (void)nparams;
    static const char *const methods[] = {"GET",   "POST", "PUT",    "DELETE",
                                          "PATCH", "HEAD", "OPTIONS"};
    runs++;
    char path[1024], query[1024] = "";
    snprintf(path, sizeof path, "%s", header(headers, nheaders, "spin-path-info"));
    const char *qm = memchr(uri, '?', uri_len);
    if (qm) snprintf(query, sizeof query, "%.*s", (int)(uri + uri_len - qm - 1), qm + 1);
    const char *q = query;
    if (!strcmp(path, "/hello")) {
        snprintf(body, sizeof body, "Hello from Spin 1 (%s %.*s)", methods[method], (int)uri_len,
                 uri);
        return text(200, body);
    }
    if (!strcmp(path, "/headers")) {
        snprintf(body, sizeof body, "path-info=%s matched=%s full-url=%s x-test=%s",
                 header(headers, nheaders, "spin-path-info"),
                 header(headers, nheaders, "spin-matched-route"),
                 header(headers, nheaders, "spin-full-url"), header(headers, nheaders, "x-test"));
        return text(200, body);
    }
    if (!strcmp(path, "/echo")) {
        snprintf(body, sizeof body, "%s %.*s", methods[method], has_body ? (int)body_len : 0,
                 has_body ? req_body : "");
        return text(201, body);
    }
    if (!strcmp(path, "/config") || !strcmp(path, "/nokey")) {
        result r;
        const char *key = !strcmp(path, "/config") ? "message" : "nope";
        get_config(key, strlen(key), &r);
        if (r.tag)
            snprintf(body, sizeof body, "error %u: %.*s", r.a & 0xff, (int)r.c,
                     (const char *)(uintptr_t)r.b);
        else
            snprintf(body, sizeof body, "%.*s", (int)r.b, (const char *)(uintptr_t)r.a);
        return text(r.tag ? 500 : 200, body);
    }
    if (!strcmp(path, "/kv")) return kv(q ? q : "");
    if (!strcmp(path, "/kv-keys")) {
        uint32_t s = open_default();
        result r;
        kv_get_keys(s, &r);
        size_t at = 0;
        const uint32_t *list = (const uint32_t *)(uintptr_t)r.a;
        for (uint32_t i = 0; !r.tag && i < r.b && at < sizeof body - 256; i++)
            at += (size_t)snprintf(body + at, sizeof body - at, "%s%.*s", i ? "," : "",
                                   (int)list[2 * i + 1], (const char *)(uintptr_t)list[2 * i]);
        body[at] = 0;
        return text(200, body);
    }
    if (!strcmp(path, "/kv-other")) {
        result r;
        kv_open("other", 5, &r);
        snprintf(body, sizeof body, "%s", r.tag ? kv_errors[r.a & 0xff] : "opened");
        return text(200, body);
    }
    if (!strcmp(path, "/outbound")) { /* GET the URL in the query, with a header of ours */
        static const char hk[] = "x-from", hv[] = "spin1";
        uint32_t h[4] = {(uint32_t)(uintptr_t)hk, sizeof hk - 1, (uint32_t)(uintptr_t)hv,
                         sizeof hv - 1};
        uint32_t r[8];
        http_request(0, q, strlen(q), h, 1, NULL, 0, 0, NULL, 0, r);
        if (r[0] & 0xff)
            snprintf(body, sizeof body, "error %u", r[1] & 0xff);
        else
            snprintf(body, sizeof body, "status %u body %.*s", r[1] & 0xffff,
                     (r[5] & 0xff) ? (int)r[7] : 0,
                     (r[5] & 0xff) ? (const char *)(uintptr_t)r[6] : "");
        return text(200, body);
    }
    if (!strcmp(path, "/fresh")) {
        snprintf(body, sizeof body, "runs=%d", runs);
        return text(200, body);
    }
    if (!strcmp(path, "/trap")) __builtin_trap();
    return text(404, "no such page");
}
