/* The guest side of wit-bindgen 0.2's canonical ABI (apps/guest_abi.h). */
#include "apps/guest_abi.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* The instance's memory and allocator are looked up once per run (exports are a linear scan),
 * not at every access. */
static __thread struct {
    wb_store *store;
    wb_memory *memory;
    wb_func *realloc;
} current;

void wb_abi_enter(wb_store *s, wb_instance *inst) {
    wb_extern e;
    current.store = s;
    current.memory = wb_instance_export(inst, "memory", 6, &e) && e.kind == WB_EXTERN_MEMORY
                         ? e.of.memory
                         : NULL;
    /* wit-bindgen 0.2's name, then the current canonical ABI's (Spin 2/3 modules) */
    current.realloc = (wb_instance_export(inst, "canonical_abi_realloc", 21, &e) ||
                       wb_instance_export(inst, "cabi_realloc", 12, &e)) &&
                              e.kind == WB_EXTERN_FUNC
                          ? e.of.func
                          : NULL;
}

void wb_abi_leave(void) {
    memset(&current, 0, sizeof current);
}

uint8_t *wb_abi_bytes(uint32_t ptr, uint64_t len) {
    wb_memory *m = current.memory;
    if (!m || (uint64_t)ptr + len > wb_memory_size(m)) return NULL;
    return wb_memory_data(m) + ptr;
}

bool wb_abi_alloc(uint32_t align, uint32_t size, uint32_t *out) {
    if (!current.realloc) return false;
    wb_value args[4] = {{.type = WB_I32, .of.i32 = 0},
                        {.type = WB_I32, .of.i32 = 0},
                        {.type = WB_I32, .of.i32 = (int32_t)align},
                        {.type = WB_I32, .of.i32 = (int32_t)size}},
             r;
    wb_error err;
    if (wb_func_call(current.store, current.realloc, args, 4, &r, 1, &err) < 0) return false;
    *out = (uint32_t)r.of.i32;
    return wb_abi_bytes(*out, size) != NULL;
}

bool wb_abi_copy(const void *data, size_t len, uint32_t align, uint32_t *out) {
    if (len > UINT32_MAX / 2 || !wb_abi_alloc(align, (uint32_t)len, out)) return false;
    if (len) memcpy(wb_abi_bytes(*out, len), data, len);
    return true;
}

bool wb_abi_put_u8(uint32_t at, uint8_t v) {
    uint8_t *p = wb_abi_bytes(at, 1);
    if (p) *p = v;
    return p != NULL;
}

bool wb_abi_put_u32(uint32_t at, uint32_t v) {
    uint8_t *p = wb_abi_bytes(at, 4);
    if (p) memcpy(p, &v, 4);
    return p != NULL;
}

bool wb_abi_put_u16(uint32_t at, uint16_t v) {
    uint8_t *p = wb_abi_bytes(at, 2);
    if (p) memcpy(p, &v, 2);
    return p != NULL;
}

bool wb_abi_put_u64(uint32_t at, uint64_t v) {
    uint8_t *p = wb_abi_bytes(at, 8);
    if (p) memcpy(p, &v, 8);
    return p != NULL;
}

bool wb_abi_put_string(uint32_t at, const char *s, size_t len) {
    uint32_t p;
    return wb_abi_copy(s, len, 1, &p) && wb_abi_put_u32(at, p) &&
           wb_abi_put_u32(at + 4, (uint32_t)len);
}

uint32_t wb_abi_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

char *wb_abi_string(uint32_t ptr, uint32_t len) {
    const uint8_t *p = wb_abi_bytes(ptr, len);
    if (!p) return NULL;
    char *s = wb_malloc((size_t)len + 1);
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

bool wb_abi_put_error(uint32_t ret, uint8_t which, const char *msg) {
    if (!wb_abi_put_u8(ret, 1) || !wb_abi_put_u8(ret + 4, which)) return false;
    if (!msg) return true;
    uint32_t p;
    return wb_abi_copy(msg, strlen(msg), 1, &p) && wb_abi_put_u32(ret + 8, p) &&
           wb_abi_put_u32(ret + 12, (uint32_t)strlen(msg));
}

int wb_abi_method(const char *method) {
    static const char *const names[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(method, names[i])) return i;
    return -1;
}

int wb_abi_read_response(uint32_t at, wb_http_response *resp, const char **why) {
    const uint8_t *r = wb_abi_bytes(at, 28);
    if (!r) {
        *why = "the response is outside memory";
        return -1;
    }
    uint16_t status;
    memcpy(&status, r, 2);
    if (status < 100 || status > 999) {
        *why = "the response's status is not an HTTP status";
        return -1;
    }
    resp->status = status;
    if (r[4]) {
        uint32_t list = wb_abi_u32(r + 8), n = wb_abi_u32(r + 12);
        const uint8_t *e = wb_abi_bytes(list, (uint64_t)n * 16);
        for (uint32_t i = 0; e && i < n; i++) {
            char *k = wb_abi_string(wb_abi_u32(e + 16 * i), wb_abi_u32(e + 16 * i + 4));
            char *v = wb_abi_string(wb_abi_u32(e + 16 * i + 8), wb_abi_u32(e + 16 * i + 12));
            if (k && v) wb_http_response_header(resp, k, v);
            if (!k || !v) e = NULL;
            free(k);
            free(v);
        }
        if (!e) {
            *why = "the response's headers are outside memory";
            return -1;
        }
    }
    if (r[16]) {
        const uint8_t *body = wb_abi_bytes(wb_abi_u32(r + 20), wb_abi_u32(r + 24));
        if (!body) {
            *why = "the response's body is outside memory";
            return -1;
        }
        wb_http_response_append(resp, body, wb_abi_u32(r + 24));
    }
    return 0;
}
