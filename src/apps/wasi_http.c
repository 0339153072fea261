/* wasi:http@0.2.0 lowered by hand for core modules (apps/wasi_http.h).
 *
 * Layouts in guest memory follow the canonical ABI: a result or option is a u8 discriminant with
 * its payload at the payload's alignment (4 for handles, lists and strings; 8 for u64 and for
 * `error-code`, which holds an option<u64>), a list or string is (pointer, length). Offsets are
 * written where they are used, with the type they come from. */
#include "apps/wasi_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apps/guest_abi.h"
#include "apps/http_client.h"
#include "base/alloc.h"

#define MAX_OBJECTS   65536               /* resources one request may create */
#define MAX_BODY      (64u << 20)         /* bytes one outgoing body may hold */
#define MAX_HELD      ((size_t)256 << 20) /* bytes of fields and bodies one request may hold */
#define WRITE_PERMIT  65536               /* what check-write allows at once */
#define FETCH_TIMEOUT 30000               /* ms, an outbound request */

/* error-code's cases this host produces */
enum {
    EC_DNS_ERROR = 1,
    EC_CONNECTION_REFUSED = 6,
    EC_TLS_PROTOCOL_ERROR = 12,
    EC_TLS_CERTIFICATE_ERROR = 13,
    EC_HTTP_REQUEST_DENIED = 15,
    EC_HTTP_REQUEST_URI_INVALID = 19,
    EC_HTTP_RESPONSE_TIMEOUT = 33,
    EC_HTTP_PROTOCOL_ERROR = 35,
    EC_INTERNAL_ERROR = 38,
};
/* header-error's cases */
enum { HE_INVALID_SYNTAX, HE_FORBIDDEN, HE_IMMUTABLE };

typedef enum kind {
    K_FIELDS = 1,
    K_IN_REQUEST,
    K_IN_BODY,
    K_IN_STREAM,
    K_FUTURE_TRAILERS,
    K_OUT_RESPONSE,
    K_OUT_BODY,
    K_OUT_STREAM,
    K_OUTPARAM,
    K_POLLABLE,
    K_ERROR,
    K_OUT_REQUEST,
    K_REQUEST_OPTIONS,
    K_FUTURE_RESPONSE,
    K_IN_RESPONSE,
} kind;

typedef struct field {
    char *name;
    uint8_t *value;
    size_t len;
} field;

typedef struct obj obj;
struct obj {
    kind kind;
    obj *next_all; /* every object of the request, freed at its end */
    /* K_FIELDS */
    field *fields;
    size_t nfields, cap;
    bool immutable;
    /* K_IN_BODY, K_IN_STREAM: bytes [data, data + len), read up to pos; K_OUT_BODY: written */
    uint8_t *data;
    size_t len, pos, data_cap;
    bool owned;    /* data is ours to free (K_OUT_BODY, K_IN_RESPONSE's body) */
    bool taken;    /* the body/stream/consume that may happen once happened */
    bool finished; /* K_OUT_BODY: finish was called; K_OUTPARAM: set */
    obj *body;     /* K_IN_STREAM/K_OUT_STREAM: its body; responses, requests: their body */
    obj *headers;  /* requests and responses: their fields */
    int status;    /* responses */
    /* K_OUT_REQUEST: method ("GET"...), scheme, authority, path-with-query (NULL: unset) */
    char *method, *scheme, *authority, *path;
    /* K_OUTPARAM: the response set (or error_code >= 0); K_FUTURE_RESPONSE: the request, then
     * the response (or error_code >= 0) */
    obj *request, *response;
    int error_code;
    bool delivered;             /* K_FUTURE_RESPONSE: get returned the response once */
    char *message;              /* K_ERROR; K_FUTURE_RESPONSE: why it failed */
    const wb_http_request *req; /* K_IN_REQUEST */
    const char *const (*extra)[2];
    size_t nextra;
};

typedef struct request {
    obj **table; /* handle h is table[h - 1] */
    uint32_t ntable, cap, nobjects;
    uint32_t *free_slots; /* indices of table the guest's drops and takes emptied */
    uint32_t nfree, free_cap;
    size_t held; /* bytes of fields and written bodies, against MAX_HELD */
    obj *all;
    const wb_wasi_http_policy *policy;
} request;

static __thread request *R;

static int bad(wb_caller *c, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, "wasi:http: %s", what);
    return wb_caller_trap(c, msg);
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
    if (!R->policy || !R->policy->log) return;
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    R->policy->log(R->policy->ctx, line);
}

/* ---- the handle table ---- */

static obj *new_obj(kind k) {
    if (R->nobjects >= MAX_OBJECTS) return NULL;
    obj *o = wb_calloc(1, sizeof *o);
    o->kind = k;
    o->error_code = -1;
    o->next_all = R->all;
    R->all = o;
    R->nobjects++;
    return o;
}

/* A handle for o (0 when the table is full or o is NULL). */
static uint32_t put(obj *o) {
    if (!o) return 0;
    if (R->nfree) { /* the latest emptied slot (handles are reused, as wasmtime's tables do) */
        uint32_t i = R->free_slots[--R->nfree];
        R->table[i] = o;
        return i + 1;
    }
    if (R->ntable == R->cap) {
        R->cap = R->cap ? 2 * R->cap : 64;
        R->table = wb_realloc(R->table, R->cap * sizeof *R->table);
    }
    R->table[R->ntable++] = o;
    return R->ntable;
}

static obj *get(uint32_t h, kind k) {
    if (h < 1 || h > R->ntable || !R->table[h - 1] || R->table[h - 1]->kind != k) return NULL;
    return R->table[h - 1];
}

/* An own<T> handed back to the host: out of the table. */
static obj *take(uint32_t h, kind k) {
    obj *o = get(h, k);
    if (!o) return NULL;
    R->table[h - 1] = NULL;
    if (R->nfree == R->free_cap) {
        R->free_cap = R->free_cap ? 2 * R->free_cap : 64;
        R->free_slots = wb_realloc(R->free_slots, R->free_cap * sizeof *R->free_slots);
    }
    R->free_slots[R->nfree++] = h - 1;
    return o;
}

static void free_obj(obj *o) {
    for (size_t i = 0; i < o->nfields; i++) {
        free(o->fields[i].name);
        free(o->fields[i].value);
    }
    free(o->fields);
    if (o->owned) free(o->data);
    free(o->method);
    free(o->scheme);
    free(o->authority);
    free(o->path);
    free(o->message);
    free(o);
}

/* A new handle for a new object of kind k, into *h; false when the request has too many. */
static bool create(kind k, obj **o, uint32_t *h) {
    *o = new_obj(k);
    *h = put(*o);
    return *h != 0;
}

/* A new object of kind k, its handle the function's result (s[0]). */
static int new_into(wb_caller *c, wb_slot *s, kind k) {
    obj *o;
    uint32_t h;
    if (!create(k, &o, &h)) return bad(c, "too many resources in one request");
    s[0].u32 = h;
    return 0;
}

/* ---- results in guest memory ---- */

static int wrote(wb_caller *c, bool ok) {
    return ok ? 0 : bad(c, "cannot write the result into the guest's memory");
}

/* result<own<T>> with the new object's handle: tag @0, handle @4 */
static int ret_new(wb_caller *c, uint32_t ret, kind k, obj **out) {
    obj *o;
    uint32_t h;
    if (!create(k, &o, &h)) return bad(c, "too many resources in one request");
    if (out) *out = o;
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, h));
}

/* result<_> (or result<own<T>>) as an error: tag 1 @0 */
static int ret_err(wb_caller *c, uint32_t ret) {
    return wrote(c, wb_abi_put_u8(ret, 1));
}

/* A method handing out its object's one child (consume, body, stream, write) ->
 * result<own<child>> at s[1]: an error after the first call. *parent is the object at s[0] (of
 * kind pk, else a trap saying `what`), *child the new one (NULL when none was made). */
static int child_once(wb_caller *c, wb_slot *s, kind pk, kind ck, const char *what, obj **parent,
                      obj **child) {
    *child = NULL;
    *parent = get(s[0].u32, pk);
    if (!*parent) return bad(c, what);
    if ((*parent)->taken) return ret_err(c, s[1].u32);
    (*parent)->taken = true;
    return ret_new(c, s[1].u32, ck, child);
}

/* An error-code at `at` (u8 case @0, payload @8): the case, and for internal-error its
 * option<string> (tag @8, string @12). */
static bool put_error_code(uint32_t at, int code, const char *msg) {
    if (!wb_abi_put_u8(at, (uint8_t)code)) return false;
    if (code == EC_DNS_ERROR) /* DNS-error-payload: rcode none @8, info-code none @20 */
        return wb_abi_put_u8(at + 8, 0) && wb_abi_put_u8(at + 20, 0);
    if (code == EC_INTERNAL_ERROR)
        return msg ? wb_abi_put_u8(at + 8, 1) && wb_abi_put_string(at + 12, msg, strlen(msg))
                   : wb_abi_put_u8(at + 8, 0);
    return true;
}

/* stream-error at `at`: closed (case 1), or last-operation-failed (case 0) with a new error
 * resource @at+4 */
static bool put_stream_error(uint32_t at, const char *failed) {
    if (!failed) return wb_abi_put_u8(at, 1);
    obj *e;
    uint32_t h;
    if (!create(K_ERROR, &e, &h)) return false;
    e->message = wb_strdup(failed);
    return wb_abi_put_u8(at, 0) && wb_abi_put_u32(at + 4, h);
}

/* ---- fields ---- */

static bool field_value_ok(const uint8_t *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((v[i] < 32 && v[i] != '\t') || v[i] == 127) return false;
    return true;
}

/* What a guest may not set (as wasmtime forbids by default). */
static bool forbidden(const char *name) {
    static const char *const names[] = {
        "connection", "keep-alive",       "proxy-authenticate", "proxy-authorization",
        "te",         "proxy-connection", "transfer-encoding",  "upgrade",
        "host",       "http2-settings",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i])) return true;
    return false;
}

static void fields_add(obj *f, const char *name, size_t nlen, const void *v, size_t vlen) {
    if (f->nfields == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 8;
        f->fields = wb_realloc(f->fields, f->cap * sizeof *f->fields);
    }
    field *e = &f->fields[f->nfields++];
    R->held += nlen + vlen + sizeof *e;
    e->name = wb_strndup(name, nlen);
    e->value = wb_malloc(vlen + 1);
    memcpy(e->value, v, vlen);
    e->value[vlen] = 0;
    e->len = vlen;
}

static void fields_remove(obj *f, const char *name) {
    size_t k = 0;
    for (size_t i = 0; i < f->nfields; i++) {
        if (!strcasecmp(f->fields[i].name, name)) {
            free(f->fields[i].name);
            free(f->fields[i].value);
        } else {
            f->fields[k++] = f->fields[i];
        }
    }
    f->nfields = k;
}

/* Check a guest's name (and value) for a change to f: -1 fine, else the header-error case. */
static int field_check(const obj *f, const char *name, size_t nlen, const uint8_t *v, size_t vlen) {
    if (f->immutable) return HE_IMMUTABLE;
    if (!wb_http_token(name, nlen) || (v && !field_value_ok(v, vlen))) return HE_INVALID_SYNTAX;
    if (forbidden(name)) return HE_FORBIDDEN;
    return -1;
}

/* Would `more` bytes take the request past MAX_HELD? (what a guest adds is refused then) */
static bool over_budget(size_t more) {
    return more > MAX_HELD || R->held > MAX_HELD - more;
}

static obj *fields_copy(const obj *from, bool immutable) {
    size_t bytes = 0;
    for (size_t i = 0; from && i < from->nfields; i++)
        bytes += strlen(from->fields[i].name) + from->fields[i].len + sizeof(field);
    obj *f = over_budget(bytes) ? NULL : new_obj(K_FIELDS);
    if (!f) return NULL;
    for (size_t i = 0; from && i < from->nfields; i++)
        fields_add(f, from->fields[i].name, strlen(from->fields[i].name), from->fields[i].value,
                   from->fields[i].len);
    f->immutable = immutable;
    return f;
}

static int fields_new(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return new_into(c, s, K_FIELDS);
}

/* [static]fields.from-list(list<tuple<string, list<u8>>>) -> result<own<fields>, header-error>:
 * entries of 16 bytes (name ptr, len, value ptr, len); ret: tag @0, handle or case @4 */
static int fields_from_list(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t n = s[1].u32, ret = s[2].u32;
    const uint8_t *e = wb_abi_bytes(s[0].u32, (uint64_t)n * 16);
    if (!e) return bad(c, "fields.from-list: the list is outside memory");
    obj *f = new_obj(K_FIELDS);
    if (!f) return bad(c, "too many resources in one request");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nl = wb_abi_u32(e + 16 * i + 4), vl = wb_abi_u32(e + 16 * i + 12);
        if (over_budget((size_t)nl + vl + sizeof(field)))
            return bad(c, "the request holds more than 256 MiB of fields and bodies");
        const char *name = (const char *)wb_abi_bytes(wb_abi_u32(e + 16 * i), nl);
        const uint8_t *v = wb_abi_bytes(wb_abi_u32(e + 16 * i + 8), vl);
        if (!name || !v) return bad(c, "fields.from-list: an entry is outside memory");
        char *nm = wb_strndup(name, nl);
        int why = field_check(f, nm, nl, v, vl);
        free(nm);
        if (why >= 0)
            return wrote(c, wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, (uint8_t)why));
        fields_add(f, name, nl, v, vl);
    }
    uint32_t h = put(f);
    if (!h) return bad(c, "too many resources in one request");
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, h));
}

/* The fields at handle s[0] and the guest string name at s[1], s[2] (malloc'd). */
static obj *fields_and_name(wb_caller *c, wb_slot *s, char **name, int *rc) {
    obj *f = get(s[0].u32, K_FIELDS);
    *name = f ? wb_abi_string(s[1].u32, s[2].u32) : NULL;
    if (!f)
        *rc = bad(c, "fields: not a fields handle");
    else if (!*name)
        *rc = bad(c, "fields: the name is outside memory");
    return *name ? f : NULL;
}

/* get(name) -> list<list<u8>>: ret: list @0, @4 of 8-byte (ptr, len) values */
static int fields_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    char *name;
    int rc = 0;
    obj *f = fields_and_name(c, s, &name, &rc);
    if (!f) return rc;
    uint32_t ret = s[3].u32, n = 0, list = 0;
    for (size_t i = 0; i < f->nfields; i++) n += !strcasecmp(f->fields[i].name, name);
    bool ok = wb_abi_alloc(4, 8 * n, &list);
    for (size_t i = 0, k = 0; i < f->nfields && ok; i++)
        if (!strcasecmp(f->fields[i].name, name)) {
            uint32_t p;
            ok = wb_abi_copy(f->fields[i].value, f->fields[i].len, 1, &p) &&
                 wb_abi_put_u32(list + 8 * (uint32_t)k, p) &&
                 wb_abi_put_u32(list + 8 * (uint32_t)k + 4, (uint32_t)f->fields[i].len);
            k++;
        }
    free(name);
    return wrote(c, ok && wb_abi_put_u32(ret, list) && wb_abi_put_u32(ret + 4, n));
}

static int fields_has(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    char *name;
    int rc = 0;
    obj *f = fields_and_name(c, s, &name, &rc);
    if (!f) return rc;
    uint32_t found = 0;
    for (size_t i = 0; i < f->nfields && !found; i++) found = !strcasecmp(f->fields[i].name, name);
    free(name);
    s[0].u32 = found;
    return 0;
}

/* result<_, header-error>: tag @0, case @1 */
static int header_result(wb_caller *c, uint32_t ret, int why) {
    if (why < 0) return wrote(c, wb_abi_put_u8(ret, 0));
    return wrote(c, wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 1, (uint8_t)why));
}

/* set(name, list<list<u8>>) */
static int fields_set(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    char *name;
    int rc = 0;
    obj *f = fields_and_name(c, s, &name, &rc);
    if (!f) return rc;
    uint32_t n = s[4].u32, ret = s[5].u32;
    const uint8_t *l = wb_abi_bytes(s[3].u32, (uint64_t)n * 8);
    int why = l ? field_check(f, name, strlen(name), NULL, 0) : -1;
    for (uint32_t i = 0; l && why < 0 && i < n; i++) {
        const uint8_t *v = wb_abi_bytes(wb_abi_u32(l + 8 * i), wb_abi_u32(l + 8 * i + 4));
        if (!v)
            l = NULL;
        else if (!field_value_ok(v, wb_abi_u32(l + 8 * i + 4)))
            why = HE_INVALID_SYNTAX;
    }
    if (!l) {
        free(name);
        return bad(c, "fields.set: the values are outside memory");
    }
    uint64_t bytes = 0;
    for (uint32_t i = 0; why < 0 && i < n; i++) bytes += wb_abi_u32(l + 8 * i + 4) + sizeof(field);
    if (why < 0 && over_budget(bytes + (uint64_t)n * strlen(name))) {
        free(name);
        return bad(c, "the request holds more than 256 MiB of fields and bodies");
    }
    if (why < 0) {
        fields_remove(f, name);
        for (uint32_t i = 0; i < n; i++)
            fields_add(f, name, strlen(name), wb_abi_bytes(wb_abi_u32(l + 8 * i), 0),
                       wb_abi_u32(l + 8 * i + 4));
    }
    free(name);
    return header_result(c, ret, why);
}

static int fields_delete(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    char *name;
    int rc = 0;
    obj *f = fields_and_name(c, s, &name, &rc);
    if (!f) return rc;
    int why = field_check(f, name, strlen(name), NULL, 0);
    if (why < 0) fields_remove(f, name);
    free(name);
    return header_result(c, s[3].u32, why);
}

/* append(name, list<u8>) */
static int fields_append(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    char *name;
    int rc = 0;
    obj *f = fields_and_name(c, s, &name, &rc);
    if (!f) return rc;
    const uint8_t *v = wb_abi_bytes(s[3].u32, s[4].u32);
    if (!v) {
        free(name);
        return bad(c, "fields.append: the value is outside memory");
    }
    int why = field_check(f, name, strlen(name), v, s[4].u32);
    if (why < 0 && over_budget(strlen(name) + s[4].u32 + sizeof(field))) {
        free(name);
        return bad(c, "the request holds more than 256 MiB of fields and bodies");
    }
    if (why < 0) fields_add(f, name, strlen(name), v, s[4].u32);
    free(name);
    return header_result(c, s[5].u32, why);
}

/* entries() -> list<tuple<string, list<u8>>>: ret: list @0, @4 of 16-byte entries */
static int fields_entries(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *f = get(s[0].u32, K_FIELDS);
    if (!f) return bad(c, "fields.entries: not a fields handle");
    uint32_t ret = s[1].u32, list = 0;
    bool ok = wb_abi_alloc(4, 16 * (uint32_t)f->nfields, &list);
    for (size_t i = 0; i < f->nfields && ok; i++) {
        uint32_t at = list + 16 * (uint32_t)i, v;
        ok = wb_abi_put_string(at, f->fields[i].name, strlen(f->fields[i].name)) &&
             wb_abi_copy(f->fields[i].value, f->fields[i].len, 1, &v) &&
             wb_abi_put_u32(at + 8, v) && wb_abi_put_u32(at + 12, (uint32_t)f->fields[i].len);
    }
    return wrote(c,
                 ok && wb_abi_put_u32(ret, list) && wb_abi_put_u32(ret + 4, (uint32_t)f->nfields));
}

static int fields_clone(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *f = get(s[0].u32, K_FIELDS);
    if (!f) return bad(c, "fields.clone: not a fields handle");
    uint32_t h = put(fields_copy(f, false));
    if (!h) return bad(c, "too many resources in one request");
    s[0].u32 = h;
    return 0;
}

/* ---- the incoming request ---- */

static obj *in_request(wb_caller *c, wb_slot *s, int *rc) {
    obj *o = get(s[0].u32, K_IN_REQUEST);
    if (!o) *rc = bad(c, "not an incoming-request handle");
    return o;
}

/* wasi:http's method cases, in order (case 9 is other(string)) */
static const char *const methods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

/* method() -> method: case @0 (get, head, post, put, delete, connect, options, trace, patch,
 * other), other's string @4 */
static bool put_method(uint32_t ret, const char *m) {
    for (uint8_t i = 0; i < 9; i++)
        if (!strcmp(m, methods[i])) return wb_abi_put_u8(ret, i);
    return wb_abi_put_u8(ret, 9) && wb_abi_put_string(ret + 4, m, strlen(m));
}

static int in_request_method(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = in_request(c, s, &rc);
    return o ? wrote(c, put_method(s[1].u32, o->req->method)) : rc;
}

/* option<string>: tag @0, string @4 */
static bool put_opt_string(uint32_t ret, const char *v) {
    if (!v) return wb_abi_put_u8(ret, 0);
    return wb_abi_put_u8(ret, 1) && wb_abi_put_string(ret + 4, v, strlen(v));
}

static int in_request_path(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = in_request(c, s, &rc);
    return o ? wrote(c, put_opt_string(s[1].u32, o->req->target)) : rc;
}

static int in_request_authority(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = in_request(c, s, &rc);
    return o ? wrote(c, put_opt_string(s[1].u32, *o->req->host ? o->req->host : NULL)) : rc;
}

/* option<scheme>: tag @0, scheme's case @4 (HTTP, HTTPS, other), other's string @8 */
static bool put_opt_scheme(uint32_t ret, const char *scheme) {
    if (!scheme) return wb_abi_put_u8(ret, 0);
    if (!strcasecmp(scheme, "http")) return wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, 0);
    if (!strcasecmp(scheme, "https")) return wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, 1);
    return wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 4, 2) &&
           wb_abi_put_string(ret + 8, scheme, strlen(scheme));
}

static int in_request_scheme(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = in_request(c, s, &rc);
    return o ? wrote(c, put_opt_scheme(s[1].u32, "http")) : rc;
}

/* headers() -> own<headers>: immutable */
static int in_request_headers(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = in_request(c, s, &rc);
    if (!o) return rc;
    uint32_t h = put(fields_copy(o->headers, true));
    if (!h) return bad(c, "too many resources in one request");
    s[0].u32 = h;
    return 0;
}

/* consume() -> result<own<incoming-body>> (once) */
static int in_request_consume(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *o, *b;
    int rc = child_once(c, s, K_IN_REQUEST, K_IN_BODY, "not an incoming-request handle", &o, &b);
    if (b) {
        b->data = (uint8_t *)o->req->body;
        b->len = o->req->body_len;
    }
    return rc;
}

/* ---- incoming bodies and input streams ---- */

/* incoming-body.stream() -> result<own<input-stream>> (once) */
static int in_body_stream(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *b, *st;
    int rc = child_once(c, s, K_IN_BODY, K_IN_STREAM, "not an incoming-body handle", &b, &st);
    if (st) st->body = b;
    return rc;
}

/* [static]finish(own<incoming-body>) -> own<future-trailers> */
static int in_body_finish(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (!take(s[0].u32, K_IN_BODY)) return bad(c, "not an incoming-body handle");
    return new_into(c, s, K_FUTURE_TRAILERS);
}

/* future-trailers.get() -> option<result<result<option<own<trailers>>, error-code>>>: here
 * always some(ok(ok(none))): tags @0, @8, @16, @24 */
static int future_trailers_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (!get(s[0].u32, K_FUTURE_TRAILERS)) return bad(c, "not a future-trailers handle");
    uint32_t ret = s[1].u32;
    return wrote(c, wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 8, 0) &&
                        wb_abi_put_u8(ret + 16, 0) && wb_abi_put_u8(ret + 24, 0));
}

/* read(len: u64) -> result<list<u8>, stream-error>: tag @0, list @4 or stream-error @4 */
static int stream_read(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_IN_STREAM);
    if (!st) return bad(c, "not an input-stream handle");
    uint32_t ret = s[2].u32;
    obj *b = st->body;
    if (b->pos >= b->len && s[1].u64 > 0)
        return wrote(c, wb_abi_put_u8(ret, 1) && put_stream_error(ret + 4, NULL));
    size_t n = b->len - b->pos;
    if (s[1].u64 < n) n = (size_t)s[1].u64;
    if (n > (16u << 20)) n = 16u << 20;
    uint32_t p;
    if (!wb_abi_copy(b->data + b->pos, n, 1, &p))
        return bad(c, "input-stream.read: cannot allocate in the guest");
    b->pos += n;
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 4, p) &&
                        wb_abi_put_u32(ret + 8, (uint32_t)n));
}

/* skip(len: u64) -> result<u64, stream-error>: tag @0, u64 or stream-error @8 */
static int stream_skip(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_IN_STREAM);
    if (!st) return bad(c, "not an input-stream handle");
    uint32_t ret = s[2].u32;
    obj *b = st->body;
    if (b->pos >= b->len && s[1].u64 > 0)
        return wrote(c, wb_abi_put_u8(ret, 1) && put_stream_error(ret + 8, NULL));
    size_t n = b->len - b->pos;
    if (s[1].u64 < n) n = (size_t)s[1].u64;
    b->pos += n;
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u64(ret + 8, n));
}

/* Every subscribe: a pollable that is ready (bodies are in memory, outbound requests are made
 * when their response is asked for). */
static int subscribe(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (s[0].u32 < 1 || s[0].u32 > R->ntable || !R->table[s[0].u32 - 1])
        return bad(c, "subscribe: not a handle");
    return new_into(c, s, K_POLLABLE);
}

/* ---- the outgoing response, bodies and output streams ---- */

/* [constructor](own<headers>) of an outgoing response or request: the fields become its own;
 * the new handle in s[0] */
static obj *with_headers(wb_caller *c, wb_slot *s, kind k, int *rc) {
    obj *f = take(s[0].u32, K_FIELDS), *r;
    uint32_t h;
    if (!f) {
        *rc = bad(c, "constructor: not a fields handle");
        return NULL;
    }
    if (!create(k, &r, &h)) {
        *rc = bad(c, "too many resources in one request");
        return NULL;
    }
    r->headers = f;
    f->immutable = false;
    s[0].u32 = h;
    return r;
}

static int out_response_new(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *r = with_headers(c, s, K_OUT_RESPONSE, &rc);
    if (r) r->status = 200;
    return rc;
}

static int out_response_status(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *r = get(s[0].u32, K_OUT_RESPONSE);
    if (!r) return bad(c, "not an outgoing-response handle");
    s[0].u32 = (uint32_t)r->status;
    return 0;
}

/* set-status-code(u16) -> result: 0 ok, 1 err (not a valid status) */
static int out_response_set_status(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *r = get(s[0].u32, K_OUT_RESPONSE);
    if (!r) return bad(c, "not an outgoing-response handle");
    uint32_t code = s[1].u32 & 0xffff;
    if (code < 100 || code > 999) {
        s[0].u32 = 1;
        return 0;
    }
    r->status = (int)code;
    s[0].u32 = 0;
    return 0;
}

/* headers() -> own<headers>: a copy of the response's or request's fields, immutable (0.2.0: set,
 * append and delete fail with header-error.immutable) */
static int out_headers(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t h = s[0].u32;
    obj *r = get(h, K_OUT_RESPONSE);
    if (!r) r = get(h, K_OUT_REQUEST);
    if (!r) return bad(c, "headers: not an outgoing-response or outgoing-request handle");
    s[0].u32 = put(fields_copy(r->headers, true));
    return s[0].u32 ? 0 : bad(c, "too many resources in one request");
}

/* body() -> result<own<outgoing-body>> (once), of a response or a request */
static int out_body_of(wb_caller *c, wb_slot *s, kind k) {
    obj *r, *b;
    int rc =
        child_once(c, s, k, K_OUT_BODY, "body: not an outgoing-response or request handle", &r, &b);
    if (b) {
        b->owned = true;
        r->body = b;
    }
    return rc;
}

static int out_response_body(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return out_body_of(c, s, K_OUT_RESPONSE);
}

static int out_request_body(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return out_body_of(c, s, K_OUT_REQUEST);
}

/* outgoing-body.write() -> result<own<output-stream>> (once) */
static int out_body_write(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *b, *st;
    int rc = child_once(c, s, K_OUT_BODY, K_OUT_STREAM, "not an outgoing-body handle", &b, &st);
    if (st) st->body = b;
    return rc;
}

/* [static]finish(own<outgoing-body>, option<own<trailers>>) -> result<_, error-code>:
 * tag @0, error-code @8. Trailers are accepted and not sent (HTTP/1.1 without chunks). */
static int out_body_finish(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *b = take(s[0].u32, K_OUT_BODY);
    if (!b) return bad(c, "outgoing-body.finish: not an outgoing-body handle");
    if (s[1].u32 && !take(s[2].u32, K_FIELDS))
        return bad(c, "outgoing-body.finish: the trailers are not a fields handle");
    b->finished = true;
    return wrote(c, wb_abi_put_u8(s[3].u32, 0));
}

/* check-write() -> result<u64, stream-error>: tag @0, u64 or stream-error @8 */
static int stream_check_write(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_OUT_STREAM);
    if (!st) return bad(c, "not an output-stream handle");
    uint32_t ret = s[1].u32;
    if (st->body->finished)
        return wrote(c, wb_abi_put_u8(ret, 1) && put_stream_error(ret + 8, NULL));
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u64(ret + 8, WRITE_PERMIT));
}

/* Append n bytes (NULL: zeroes) to the stream's body: NULL, or why it failed. */
static const char *body_append(obj *st, const uint8_t *data, uint64_t n) {
    obj *b = st->body;
    if (b->finished) return "";
    if (n > MAX_BODY - b->len) return "the body is larger than 64 MiB";
    if (over_budget((size_t)n)) return "the request holds more than 256 MiB of fields and bodies";
    if (b->len + n > b->data_cap) {
        b->data_cap = b->data_cap ? 2 * b->data_cap : 4096;
        if (b->data_cap < b->len + n) b->data_cap = b->len + (size_t)n;
        b->data = wb_realloc(b->data, b->data_cap);
    }
    if (data)
        memcpy(b->data + b->len, data, (size_t)n);
    else
        memset(b->data + b->len, 0, (size_t)n);
    b->len += (size_t)n;
    R->held += (size_t)n;
    return NULL;
}

/* result<_, stream-error> for an append: tag @0, stream-error @4 */
static int write_result(wb_caller *c, uint32_t ret, const char *failed) {
    if (!failed) return wrote(c, wb_abi_put_u8(ret, 0));
    return wrote(c, wb_abi_put_u8(ret, 1) && put_stream_error(ret + 4, *failed ? failed : NULL));
}

/* write(list<u8>) and blocking-write-and-flush(list<u8>) */
static int stream_write(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_OUT_STREAM);
    if (!st) return bad(c, "not an output-stream handle");
    const uint8_t *data = wb_abi_bytes(s[1].u32, s[2].u32);
    if (!data) return bad(c, "output-stream.write: the bytes are outside memory");
    return write_result(c, s[3].u32, body_append(st, data, s[2].u32));
}

/* write-zeroes(u64) and blocking-write-zeroes-and-flush(u64) */
static int stream_write_zeroes(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_OUT_STREAM);
    if (!st) return bad(c, "not an output-stream handle");
    return write_result(c, s[2].u32, body_append(st, NULL, s[1].u64));
}

/* flush() and blocking-flush(): nothing is buffered */
static int stream_flush(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_OUT_STREAM);
    if (!st) return bad(c, "not an output-stream handle");
    return write_result(c, s[1].u32, st->body->finished ? "" : NULL);
}

/* splice(src: borrow<input-stream>, len: u64) -> result<u64, stream-error>: tag @0, @8 */
static int stream_splice(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *st = get(s[0].u32, K_OUT_STREAM), *in = get(s[1].u32, K_IN_STREAM);
    if (!st || !in) return bad(c, "output-stream.splice: not a stream handle");
    uint32_t ret = s[3].u32;
    obj *b = in->body;
    if (b->pos >= b->len && s[2].u64 > 0)
        return wrote(c, wb_abi_put_u8(ret, 1) && put_stream_error(ret + 8, NULL));
    size_t n = b->len - b->pos;
    if (s[2].u64 < n) n = (size_t)s[2].u64;
    const char *failed = body_append(st, b->data + b->pos, n);
    if (failed)
        return wrote(c,
                     wb_abi_put_u8(ret, 1) && put_stream_error(ret + 8, *failed ? failed : NULL));
    b->pos += n;
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u64(ret + 8, n));
}

/* [static]response-outparam.set(own<response-outparam>, result<own<outgoing-response>,
 * error-code>), flat: param, result tag, then the handle or error-code's flat form (case,
 * then its payload's slots: for internal-error an option tag and, as i64 and i32, a string) */
static int outparam_set(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *p = take(s[0].u32, K_OUTPARAM);
    if (!p) return bad(c, "response-outparam.set: not a response-outparam handle");
    p->finished = true;
    if (s[1].u32 == 0) {
        p->response = take(s[2].u32, K_OUT_RESPONSE);
        if (!p->response) return bad(c, "response-outparam.set: not an outgoing-response handle");
        return 0;
    }
    p->error_code = (int)(s[2].u32 & 0xff);
    if (p->error_code == EC_INTERNAL_ERROR && s[3].u32 == 1 && s[4].u64 <= UINT32_MAX) {
        char *msg = wb_abi_string((uint32_t)s[4].u64, s[5].u32);
        if (msg) p->message = msg;
    }
    return 0;
}

/* ---- outbound requests ---- */

static int out_request_new(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *r = with_headers(c, s, K_OUT_REQUEST, &rc);
    if (r) r->method = wb_strdup("GET");
    return rc;
}

static obj *out_request(wb_caller *c, wb_slot *s, int *rc) {
    obj *o = get(s[0].u32, K_OUT_REQUEST);
    if (!o) *rc = bad(c, "not an outgoing-request handle");
    return o;
}

static int out_request_method(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    return o ? wrote(c, put_method(s[1].u32, o->method)) : rc;
}

/* set-method(method) -> result: the case, other's string */
static int out_request_set_method(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    if (!o) return rc;
    char *m = NULL;
    if (s[1].u32 < 9)
        m = wb_strdup(methods[s[1].u32]);
    else if (s[1].u32 == 9 && (m = wb_abi_string(s[2].u32, s[3].u32)) &&
             !wb_http_token(m, strlen(m))) {
        free(m);
        m = NULL;
    }
    if (s[1].u32 == 9 && !m && !wb_abi_bytes(s[2].u32, s[3].u32))
        return bad(c, "set-method: the string is outside memory");
    if (m) {
        free(o->method);
        o->method = m;
    }
    s[0].u32 = m ? 0 : 1;
    return 0;
}

/* set-scheme(option<scheme>) -> result */
static int out_request_set_scheme(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    if (!o) return rc;
    char *v = NULL;
    if (s[1].u32) {
        if (s[2].u32 == 0)
            v = wb_strdup("http");
        else if (s[2].u32 == 1)
            v = wb_strdup("https");
        else if (!(v = wb_abi_string(s[3].u32, s[4].u32)))
            return bad(c, "set-scheme: the string is outside memory");
    }
    free(o->scheme);
    o->scheme = v;
    s[0].u32 = 0;
    return 0;
}

/* set-authority / set-path-with-query(option<string>) -> result */
static int set_opt_string(wb_caller *c, wb_slot *s, bool path) {
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    if (!o) return rc;
    char *v = NULL;
    if (s[1].u32 && !(v = wb_abi_string(s[2].u32, s[3].u32)))
        return bad(c, "set: the string is outside memory");
    bool ok = !v || (path ? v[0] == '/' || v[0] == 0 : !strpbrk(v, "/?# \t\r\n"));
    if (!ok) {
        free(v);
        s[0].u32 = 1;
        return 0;
    }
    char **slot = path ? &o->path : &o->authority;
    free(*slot);
    *slot = v;
    s[0].u32 = 0;
    return 0;
}

static int out_request_set_authority(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return set_opt_string(c, s, false);
}

static int out_request_set_path(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return set_opt_string(c, s, true);
}

static int out_request_authority(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    return o ? wrote(c, put_opt_string(s[1].u32, o->authority)) : rc;
}

static int out_request_path(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    return o ? wrote(c, put_opt_string(s[1].u32, o->path)) : rc;
}

static int out_request_scheme(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    int rc = 0;
    obj *o = out_request(c, s, &rc);
    return o ? wrote(c, put_opt_scheme(s[1].u32, o->scheme)) : rc;
}

static int request_options_new(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return new_into(c, s, K_REQUEST_OPTIONS);
}

/* the timeouts: accepted (a request's own timeout applies), read back as none */
static int request_options_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (!get(s[0].u32, K_REQUEST_OPTIONS)) return bad(c, "not a request-options handle");
    return wrote(c, wb_abi_put_u8(s[1].u32, 0));
}

static int request_options_set(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (!get(s[0].u32, K_REQUEST_OPTIONS)) return bad(c, "not a request-options handle");
    s[0].u32 = 0;
    return 0;
}

/* The URL of an outgoing request (malloc'd), or NULL without an authority. */
static char *request_url(const obj *r) {
    if (!r->authority || !*r->authority) return NULL;
    char *url = NULL;
    size_t len = 0;
    wb_appendf(&url, &len, "%s://%s%s", r->scheme ? r->scheme : "https", r->authority,
               r->path && *r->path ? r->path : "/");
    return url;
}

/* wasi:http/outgoing-handler.handle(own<outgoing-request>, option<own<request-options>>) ->
 * result<own<future-incoming-response>, error-code>: tag @0, handle or error-code @8 */
static int outgoing_handle(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *r = take(s[0].u32, K_OUT_REQUEST);
    if (!r) return bad(c, "outgoing-handler.handle: not an outgoing-request handle");
    if (s[1].u32 && !take(s[2].u32, K_REQUEST_OPTIONS))
        return bad(c, "outgoing-handler.handle: not a request-options handle");
    uint32_t ret = s[3].u32;
    char *url = request_url(r);
    int code = -1;
    if (!url) {
        code = EC_HTTP_REQUEST_URI_INVALID;
    } else if (!R->policy || !R->policy->allow || !R->policy->allow(R->policy->ctx, url)) {
        code = EC_HTTP_REQUEST_DENIED;
    }
    if (code >= 0) {
        free(url);
        return wrote(c, wb_abi_put_u8(ret, 1) && put_error_code(ret + 8, code, NULL));
    }
    free(url);
    obj *f;
    uint32_t h;
    if (!create(K_FUTURE_RESPONSE, &f, &h)) return bad(c, "too many resources in one request");
    f->request = r;
    return wrote(c, wb_abi_put_u8(ret, 0) && wb_abi_put_u32(ret + 8, h));
}

/* Make the future's request (once): its response or error code. */
static void fetch(obj *f) {
    if (f->response || f->error_code >= 0) return;
    if (over_budget(0)) {
        f->error_code = EC_INTERNAL_ERROR;
        f->message = wb_strdup("the request holds more than 256 MiB of fields and bodies");
        return;
    }
    obj *r = f->request;
    char *url = request_url(r);
    wb_http_header *h = wb_calloc(r->headers->nfields + 1, sizeof *h);
    for (size_t i = 0; i < r->headers->nfields; i++)
        h[i] =
            (wb_http_header){r->headers->fields[i].name, (const char *)r->headers->fields[i].value};
    const uint8_t *body = r->body ? r->body->data : NULL;
    size_t body_len = r->body ? r->body->len : 0;
    wb_http_response resp = {0};
    wb_error err;
    if (wb_http_fetch(r->method, url, h, r->headers->nfields, body ? body : (const uint8_t *)"",
                      body_len, FETCH_TIMEOUT, &resp, &err) < 0) {
        f->error_code = err.code == EINVAL         ? EC_HTTP_REQUEST_URI_INVALID
                        : err.code == ECONNREFUSED ? EC_CONNECTION_REFUSED
                        : err.code == ETIMEDOUT    ? EC_HTTP_RESPONSE_TIMEOUT
                        : err.code == EHOSTUNREACH ? EC_DNS_ERROR
                        : err.code == EKEYREJECTED ? EC_TLS_CERTIFICATE_ERROR
                        : err.code == EPROTO       ? EC_TLS_PROTOCOL_ERROR
                        : err.code == EBADMSG      ? EC_HTTP_PROTOCOL_ERROR
                                                   : EC_INTERNAL_ERROR;
        f->message = wb_strdup(err.msg);
        logf_("outbound request to %s: %s", url, err.msg);
    } else {
        obj *in = new_obj(K_IN_RESPONSE), *hd = new_obj(K_FIELDS), *b = new_obj(K_IN_BODY);
        if (!in || !hd || !b) {
            f->error_code = EC_INTERNAL_ERROR;
            f->message = wb_strdup("too many resources in one request");
        } else {
            in->status = resp.status;
            for (size_t i = 0; i < resp.nheaders; i++) {
                const char *line = resp.header_lines[i], *colon = strchr(line, ':');
                size_t kl = colon ? (size_t)(colon - line) : strlen(line);
                const char *v = colon ? colon + 1 : "";
                while (*v == ' ' || *v == '\t') v++;
                fields_add(hd, line, kl, v, strlen(v));
                for (char *p = hd->fields[hd->nfields - 1].name; *p; p++)
                    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
            }
            hd->immutable = true;
            in->headers = hd;
            b->data = resp.body; /* the body moves to b */
            b->len = resp.body_len;
            b->owned = true;
            R->held += resp.body_len;
            resp.body = NULL;
            resp.body_len = 0;
            in->body = b;
            f->response = in;
        }
    }
    wb_http_response_release(&resp);
    free(h);
    free(url);
}

/* future-incoming-response.get() -> option<result<result<own<incoming-response>, error-code>>>:
 * tags @0 (some), @8 (ok: not taken before), @16 (ok: a response), handle or error-code @24 */
static int future_response_get(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *f = get(s[0].u32, K_FUTURE_RESPONSE);
    if (!f) return bad(c, "not a future-incoming-response handle");
    uint32_t ret = s[1].u32;
    if (f->delivered) return wrote(c, wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 8, 1));
    fetch(f);
    f->delivered = true;
    if (!f->response)
        return wrote(c, wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 8, 0) &&
                            wb_abi_put_u8(ret + 16, 1) &&
                            put_error_code(ret + 24, f->error_code, f->message));
    uint32_t h = put(f->response);
    if (!h) return bad(c, "too many resources in one request");
    return wrote(c, wb_abi_put_u8(ret, 1) && wb_abi_put_u8(ret + 8, 0) &&
                        wb_abi_put_u8(ret + 16, 0) && wb_abi_put_u32(ret + 24, h));
}

static int in_response_status(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *r = get(s[0].u32, K_IN_RESPONSE);
    if (!r) return bad(c, "not an incoming-response handle");
    s[0].u32 = (uint32_t)r->status;
    return 0;
}

static int in_response_headers(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *r = get(s[0].u32, K_IN_RESPONSE);
    if (!r) return bad(c, "not an incoming-response handle");
    uint32_t h = put(fields_copy(r->headers, true));
    if (!h) return bad(c, "too many resources in one request");
    s[0].u32 = h;
    return 0;
}

static int in_response_consume(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *r = get(s[0].u32, K_IN_RESPONSE);
    if (!r) return bad(c, "not an incoming-response handle");
    if (r->taken) return ret_err(c, s[1].u32);
    r->taken = true;
    uint32_t h = put(r->body);
    if (!h) return bad(c, "too many resources in one request");
    return wrote(c, wb_abi_put_u8(s[1].u32, 0) && wb_abi_put_u32(s[1].u32 + 4, h));
}

/* http-error-code(borrow<io-error>) -> option<error-code>: none (stream errors here are not
 * HTTP protocol errors) */
static int http_error_code(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (!get(s[0].u32, K_ERROR)) return bad(c, "http-error-code: not an error handle");
    return wrote(c, wb_abi_put_u8(s[1].u32, 0));
}

/* ---- wasi:io poll and error ---- */

static int pollable_ready(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    if (!get(s[0].u32, K_POLLABLE)) return bad(c, "not a pollable handle");
    s[0].u32 = 1;
    return 0;
}

static int pollable_block(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return get(s[0].u32, K_POLLABLE) ? 0 : bad(c, "not a pollable handle");
}

/* poll(list<borrow<pollable>>) -> list<u32>: every index (all are ready); ret: list @0, @4 */
static int poll_list(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t n = s[1].u32, ret = s[2].u32, list;
    const uint8_t *l = wb_abi_bytes(s[0].u32, (uint64_t)n * 4);
    if (!l || n == 0) return bad(c, "poll: an empty list, or outside memory");
    for (uint32_t i = 0; i < n; i++)
        if (!get(wb_abi_u32(l + 4 * i), K_POLLABLE)) return bad(c, "poll: not a pollable handle");
    bool ok = wb_abi_alloc(4, 4 * n, &list);
    for (uint32_t i = 0; i < n && ok; i++) ok = wb_abi_put_u32(list + 4 * i, i);
    return wrote(c, ok && wb_abi_put_u32(ret, list) && wb_abi_put_u32(ret + 4, n));
}

static int error_debug_string(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *e = get(s[0].u32, K_ERROR);
    if (!e) return bad(c, "not an error handle");
    const char *m = e->message ? e->message : "";
    return wrote(c, wb_abi_put_string(s[1].u32, m, strlen(m)));
}

/* [resource-drop]T: the handle leaves the table (the object lives until the request ends) */
#define DROP(fn, k)                                                                                \
    static int fn(wb_caller *c, void *env, wb_slot *s) {                                           \
        (void)env;                                                                                 \
        return take(s[0].u32, k) ? 0 : bad(c, "drop: not a handle of this type");                  \
    }
DROP(drop_fields, K_FIELDS)
DROP(drop_in_request, K_IN_REQUEST)
DROP(drop_in_body, K_IN_BODY)
DROP(drop_in_stream, K_IN_STREAM)
DROP(drop_future_trailers, K_FUTURE_TRAILERS)
DROP(drop_out_response, K_OUT_RESPONSE)
DROP(drop_out_stream, K_OUT_STREAM)
DROP(drop_outparam, K_OUTPARAM)
DROP(drop_pollable, K_POLLABLE)
DROP(drop_error, K_ERROR)
DROP(drop_out_request, K_OUT_REQUEST)
DROP(drop_request_options, K_REQUEST_OPTIONS)
DROP(drop_future_response, K_FUTURE_RESPONSE)
DROP(drop_in_response, K_IN_RESPONSE)

/* An outgoing body dropped without finish: the body is cut short (the response fails). */
static int drop_out_body(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    obj *b = take(s[0].u32, K_OUT_BODY);
    if (!b) return bad(c, "drop: not an outgoing-body handle");
    b->error_code = EC_INTERNAL_ERROR;
    return 0;
}

/* ---- the table of imports ---- */

#define T  "wasi:http/types@0.2.0"
#define S  "wasi:io/streams@0.2.0"
#define P  "wasi:io/poll@0.2.0"
#define IE "wasi:io/error@0.2.0"

static const wb_flat_import imports[] = {
    {T, "[constructor]fields", ":i", fields_new},
    {T, "[static]fields.from-list", "iii", fields_from_list},
    {T, "[method]fields.get", "iiii", fields_get},
    {T, "[method]fields.has", "iii:i", fields_has},
    {T, "[method]fields.set", "iiiiii", fields_set},
    {T, "[method]fields.delete", "iiii", fields_delete},
    {T, "[method]fields.append", "iiiiii", fields_append},
    {T, "[method]fields.entries", "ii", fields_entries},
    {T, "[method]fields.clone", "i:i", fields_clone},
    {T, "[resource-drop]fields", "i", drop_fields},
    {T, "[method]incoming-request.method", "ii", in_request_method},
    {T, "[method]incoming-request.path-with-query", "ii", in_request_path},
    {T, "[method]incoming-request.scheme", "ii", in_request_scheme},
    {T, "[method]incoming-request.authority", "ii", in_request_authority},
    {T, "[method]incoming-request.headers", "i:i", in_request_headers},
    {T, "[method]incoming-request.consume", "ii", in_request_consume},
    {T, "[resource-drop]incoming-request", "i", drop_in_request},
    {T, "[method]incoming-body.stream", "ii", in_body_stream},
    {T, "[static]incoming-body.finish", "i:i", in_body_finish},
    {T, "[resource-drop]incoming-body", "i", drop_in_body},
    {T, "[method]future-trailers.subscribe", "i:i", subscribe},
    {T, "[method]future-trailers.get", "ii", future_trailers_get},
    {T, "[resource-drop]future-trailers", "i", drop_future_trailers},
    {T, "[constructor]outgoing-response", "i:i", out_response_new},
    {T, "[method]outgoing-response.status-code", "i:i", out_response_status},
    {T, "[method]outgoing-response.set-status-code", "ii:i", out_response_set_status},
    {T, "[method]outgoing-response.headers", "i:i", out_headers},
    {T, "[method]outgoing-response.body", "ii", out_response_body},
    {T, "[resource-drop]outgoing-response", "i", drop_out_response},
    {T, "[method]outgoing-body.write", "ii", out_body_write},
    {T, "[static]outgoing-body.finish", "iiii", out_body_finish},
    {T, "[resource-drop]outgoing-body", "i", drop_out_body},
    {T, "[static]response-outparam.set", "iiiiIiiii", outparam_set},
    {T, "[resource-drop]response-outparam", "i", drop_outparam},
    {T, "[constructor]outgoing-request", "i:i", out_request_new},
    {T, "[method]outgoing-request.method", "ii", out_request_method},
    {T, "[method]outgoing-request.set-method", "iiii:i", out_request_set_method},
    {T, "[method]outgoing-request.path-with-query", "ii", out_request_path},
    {T, "[method]outgoing-request.set-path-with-query", "iiii:i", out_request_set_path},
    {T, "[method]outgoing-request.scheme", "ii", out_request_scheme},
    {T, "[method]outgoing-request.set-scheme", "iiiii:i", out_request_set_scheme},
    {T, "[method]outgoing-request.authority", "ii", out_request_authority},
    {T, "[method]outgoing-request.set-authority", "iiii:i", out_request_set_authority},
    {T, "[method]outgoing-request.headers", "i:i", out_headers},
    {T, "[method]outgoing-request.body", "ii", out_request_body},
    {T, "[resource-drop]outgoing-request", "i", drop_out_request},
    {T, "[constructor]request-options", ":i", request_options_new},
    {T, "[method]request-options.connect-timeout", "ii", request_options_get},
    {T, "[method]request-options.set-connect-timeout", "iiI:i", request_options_set},
    {T, "[method]request-options.first-byte-timeout", "ii", request_options_get},
    {T, "[method]request-options.set-first-byte-timeout", "iiI:i", request_options_set},
    {T, "[method]request-options.between-bytes-timeout", "ii", request_options_get},
    {T, "[method]request-options.set-between-bytes-timeout", "iiI:i", request_options_set},
    {T, "[resource-drop]request-options", "i", drop_request_options},
    {T, "[method]future-incoming-response.subscribe", "i:i", subscribe},
    {T, "[method]future-incoming-response.get", "ii", future_response_get},
    {T, "[resource-drop]future-incoming-response", "i", drop_future_response},
    {T, "[method]incoming-response.status", "i:i", in_response_status},
    {T, "[method]incoming-response.headers", "i:i", in_response_headers},
    {T, "[method]incoming-response.consume", "ii", in_response_consume},
    {T, "[resource-drop]incoming-response", "i", drop_in_response},
    {T, "http-error-code", "ii", http_error_code},
    {"wasi:http/outgoing-handler@0.2.0", "handle", "iiii", outgoing_handle},
    {S, "[method]input-stream.read", "iIi", stream_read},
    {S, "[method]input-stream.blocking-read", "iIi", stream_read},
    {S, "[method]input-stream.skip", "iIi", stream_skip},
    {S, "[method]input-stream.blocking-skip", "iIi", stream_skip},
    {S, "[method]input-stream.subscribe", "i:i", subscribe},
    {S, "[resource-drop]input-stream", "i", drop_in_stream},
    {S, "[method]output-stream.check-write", "ii", stream_check_write},
    {S, "[method]output-stream.write", "iiii", stream_write},
    {S, "[method]output-stream.blocking-write-and-flush", "iiii", stream_write},
    {S, "[method]output-stream.flush", "ii", stream_flush},
    {S, "[method]output-stream.blocking-flush", "ii", stream_flush},
    {S, "[method]output-stream.write-zeroes", "iIi", stream_write_zeroes},
    {S, "[method]output-stream.blocking-write-zeroes-and-flush", "iIi", stream_write_zeroes},
    {S, "[method]output-stream.splice", "iiIi", stream_splice},
    {S, "[method]output-stream.blocking-splice", "iiIi", stream_splice},
    {S, "[method]output-stream.subscribe", "i:i", subscribe},
    {S, "[resource-drop]output-stream", "i", drop_out_stream},
    {P, "[method]pollable.ready", "i:i", pollable_ready},
    {P, "[method]pollable.block", "i", pollable_block},
    {P, "poll", "iii", poll_list},
    {P, "[resource-drop]pollable", "i", drop_pollable},
    {IE, "[method]error.to-debug-string", "ii", error_debug_string},
    {IE, "[resource-drop]error", "i", drop_error},
};

const wb_flat_import *wb_flat_find(const wb_flat_import *table, size_t n, const char *module,
                                   size_t module_len, const char *name, size_t name_len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i].module) == module_len && !memcmp(table[i].module, module, module_len) &&
            strlen(table[i].name) == name_len && !memcmp(table[i].name, name, name_len))
            return &table[i];
    return NULL;
}

bool wb_flat_matches(const char *sig, const wb_functype *ft) {
    const char *colon = strchr(sig, ':');
    size_t np = colon ? (size_t)(colon - sig) : strlen(sig);
    const char *res = colon ? colon + 1 : "";
    if (ft->nparams != np || ft->nresults != strlen(res)) return false;
    for (size_t i = 0; i < np + strlen(res); i++) {
        char want = i < np ? sig[i] : res[i - np];
        if (ft->types[i] != (want == 'I' ? WB_I64 : WB_I32)) return false;
    }
    return true;
}

const wb_flat_import *wb_wasi_http_find(const char *module, size_t module_len, const char *name,
                                        size_t name_len) {
    return wb_flat_find(imports, sizeof imports / sizeof imports[0], module, module_len, name,
                        name_len);
}

bool wb_wasi_http_interface(const char *module, size_t module_len) {
    static const char *const ifaces[] = {T, S, P, IE, "wasi:http/outgoing-handler@0.2.0"};
    for (size_t i = 0; i < sizeof ifaces / sizeof ifaces[0]; i++)
        if (strlen(ifaces[i]) == module_len && !memcmp(ifaces[i], module, module_len)) return true;
    return false;
}

/* ---- serving a request ---- */

/* The guest's answer into resp: -1 with err when it set none, or an error. */
static int answer(const obj *param, wb_http_response *resp, wb_error *err) {
    if (!param->finished)
        return wb_error_set(err, EPROTO, "the component set no response (response-outparam.set)");
    if (param->error_code >= 0)
        return wb_error_set(err, EPROTO, "the component answered with error-code %d%s%s",
                            param->error_code, param->message ? ": " : "",
                            param->message ? param->message : "");
    const obj *r = param->response;
    if (r->body && r->body->error_code >= 0)
        return wb_error_set(err, EPROTO, "the component dropped the response body unfinished");
    resp->status = r->status;
    for (size_t i = 0; i < r->headers->nfields; i++) {
        const field *f = &r->headers->fields[i];
        if (!strcasecmp(f->name, "content-length") || forbidden(f->name)) continue;
        wb_http_response_header(resp, f->name, (const char *)f->value);
    }
    if (r->body && r->body->len) wb_http_response_append(resp, r->body->data, r->body->len);
    return 0;
}

int wb_wasi_http_serve(wb_store *s, wb_instance *inst, const wb_http_request *req,
                       const char *const (*extra)[2], size_t nextra,
                       const wb_wasi_http_policy *policy, wb_http_response *resp, wb_error *err) {
    request rq = {.policy = policy};
    R = &rq;
    int rc = -1;
    wb_extern f;
    obj *in = new_obj(K_IN_REQUEST), *hd = new_obj(K_FIELDS), *param = new_obj(K_OUTPARAM);
    in->req = req;
    for (size_t i = 0; i < req->nheaders; i++)
        fields_add(hd, req->headers[i].name, strlen(req->headers[i].name), req->headers[i].value,
                   strlen(req->headers[i].value));
    for (size_t i = 0; i < nextra; i++)
        fields_add(hd, extra[i][0], strlen(extra[i][0]), extra[i][1], strlen(extra[i][1]));
    hd->immutable = true;
    in->headers = hd;
    uint32_t hreq = put(in), hparam = put(param);
    if (!wb_instance_export(inst, WB_WASI_HTTP_HANDLER, strlen(WB_WASI_HTTP_HANDLER), &f) ||
        f.kind != WB_EXTERN_FUNC) {
        wb_error_set(err, ENOEXEC, "no `%s` export", WB_WASI_HTTP_HANDLER);
    } else {
        wb_value a[2] = {{.type = WB_I32, .of.i32 = (int32_t)hreq},
                         {.type = WB_I32, .of.i32 = (int32_t)hparam}};
        if (wb_func_call(s, f.of.func, a, 2, NULL, 0, err) == 0) rc = answer(param, resp, err);
    }
    while (rq.all) {
        obj *next = rq.all->next_all;
        free_obj(rq.all);
        rq.all = next;
    }
    free(rq.table);
    free(rq.free_slots);
    R = NULL;
    return rc;
}
