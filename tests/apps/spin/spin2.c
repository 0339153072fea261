/* A Spin 2 component for the tests (tests/linux/spin.sh), written against the ABI by hand (no
 * SDK, no wit-bindgen): a core module for wasm32-wasi that exports
 * `wasi:http/incoming-handler@0.2.0#handle` and `cabi_realloc`, and imports wasi:http@0.2.0
 * (types, outgoing-handler), wasi:io@0.2.0 (streams, poll, error) and fermyon:spin@2.0.0
 * (variables, key-value) with the canonical ABI's flat signatures: a function's parameters
 * flattened (up to 16), one flat result at most, otherwise the results stored at a return area
 * whose address is the last parameter. Every return area is read at the offsets the canonical
 * ABI gives (see the AREA comments: "disc@0 u8, ok@4 handle" and so on), so this module checks
 * the host's lowering independently of it. Built as a reactor (_initialize).
 *
 * What it answers depends on the path after /spin2: /hello, /headers, /authority, /echo,
 * /immutable, /entries, /fields, /status?N, /config, /nokey, /badname, /kv?set=K=V, /kv?get=K,
 * /kv?del=K, /kv?has=K, /kv-keys, /kv-other, /outbound?URL, /outbound-post?URL, /stream,
 * /fresh, /trap, /noset, /error; anything else is a 404. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define EXPORT(n)    __attribute__((export_name(n)))

#define HTTP  "wasi:http/types@0.2.0"
#define OUTH  "wasi:http/outgoing-handler@0.2.0"
#define IO    "wasi:io/streams@0.2.0"
#define POLL  "wasi:io/poll@0.2.0"
#define IOERR "wasi:io/error@0.2.0"
#define VARS  "fermyon:spin/variables@2.0.0"
#define KV    "fermyon:spin/key-value@2.0.0"

/* ---- imports: handles are u32, strings and lists (pointer, length), `ret` a return area ---- */

/* wasi:http/types: fields (headers and trailers) */
IMPORT(HTTP, "[constructor]fields") uint32_t fields_new(void);
IMPORT(HTTP, "[static]fields.from-list")
void fields_from_list(const void *entries, size_t n, void *ret);
IMPORT(HTTP, "[method]fields.get")
void fields_get(uint32_t f, const char *name, size_t nlen, void *ret);
IMPORT(HTTP, "[method]fields.has") uint32_t fields_has(uint32_t f, const char *name, size_t nlen);
IMPORT(HTTP, "[method]fields.set")
void fields_set(uint32_t f, const char *name, size_t nlen, const void *values, size_t n, void *ret);
IMPORT(HTTP, "[method]fields.delete")
void fields_delete(uint32_t f, const char *name, size_t nlen, void *ret);
IMPORT(HTTP, "[method]fields.append")
void fields_append(uint32_t f, const char *name, size_t nlen, const void *value, size_t vlen,
                   void *ret);
IMPORT(HTTP, "[method]fields.entries") void fields_entries(uint32_t f, void *ret);
IMPORT(HTTP, "[method]fields.clone") uint32_t fields_clone(uint32_t f);
IMPORT(HTTP, "[resource-drop]fields") void fields_drop(uint32_t f);
/* incoming-request, incoming-body, future-trailers */
IMPORT(HTTP, "[method]incoming-request.method") void request_method(uint32_t r, void *ret);
IMPORT(HTTP, "[method]incoming-request.path-with-query")
void request_path_with_query(uint32_t r, void *ret);
IMPORT(HTTP, "[method]incoming-request.scheme") void request_scheme(uint32_t r, void *ret);
IMPORT(HTTP, "[method]incoming-request.authority") void request_authority(uint32_t r, void *ret);
IMPORT(HTTP, "[method]incoming-request.headers") uint32_t request_headers(uint32_t r);
IMPORT(HTTP, "[method]incoming-request.consume") void request_consume(uint32_t r, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-request") void request_drop(uint32_t r);
IMPORT(HTTP, "[method]incoming-body.stream") void incoming_body_stream(uint32_t b, void *ret);
IMPORT(HTTP, "[static]incoming-body.finish") uint32_t incoming_body_finish(uint32_t b);
IMPORT(HTTP, "[resource-drop]incoming-body") void incoming_body_drop(uint32_t b);
IMPORT(HTTP, "[resource-drop]future-trailers") void future_trailers_drop(uint32_t t);
/* outgoing-response, outgoing-body, response-outparam */
IMPORT(HTTP, "[constructor]outgoing-response") uint32_t response_new(uint32_t headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code")
uint32_t response_set_status(uint32_t r, uint32_t status);
IMPORT(HTTP, "[method]outgoing-response.headers") uint32_t response_headers(uint32_t r);
IMPORT(HTTP, "[method]outgoing-response.body") void response_body(uint32_t r, void *ret);
IMPORT(HTTP, "[resource-drop]outgoing-response") void response_drop(uint32_t r);
IMPORT(HTTP, "[method]outgoing-body.write") void outgoing_body_write(uint32_t b, void *ret);
IMPORT(HTTP, "[static]outgoing-body.finish")
void outgoing_body_finish(uint32_t b, uint32_t has_trailers, uint32_t trailers, void *ret);
IMPORT(HTTP, "[resource-drop]outgoing-body") void outgoing_body_drop(uint32_t b);
/* set(param, result<own<outgoing-response>, error-code>): the result flattened to
 * [disc, handle|error-code's disc, payload i32, payload i64, payload i32 x 4] */
IMPORT(HTTP, "[static]response-outparam.set")
void outparam_set(uint32_t param, uint32_t is_err, uint32_t v0, uint32_t v1, int64_t v2,
                  uint32_t v3, uint32_t v4, uint32_t v5, uint32_t v6);
/* outgoing-request, future-incoming-response, incoming-response */
IMPORT(HTTP, "[constructor]outgoing-request") uint32_t outreq_new(uint32_t headers);
IMPORT(HTTP, "[method]outgoing-request.set-method")
uint32_t outreq_set_method(uint32_t r, uint32_t disc, const char *other, size_t olen);
IMPORT(HTTP, "[method]outgoing-request.set-scheme")
uint32_t outreq_set_scheme(uint32_t r, uint32_t is_some, uint32_t disc, const char *other,
                           size_t olen);
IMPORT(HTTP, "[method]outgoing-request.set-authority")
uint32_t outreq_set_authority(uint32_t r, uint32_t is_some, const char *a, size_t alen);
IMPORT(HTTP, "[method]outgoing-request.set-path-with-query")
uint32_t outreq_set_path(uint32_t r, uint32_t is_some, const char *p, size_t plen);
IMPORT(HTTP, "[method]outgoing-request.body") void outreq_body(uint32_t r, void *ret);
IMPORT(HTTP, "[resource-drop]outgoing-request") void outreq_drop(uint32_t r);
IMPORT(HTTP, "[method]future-incoming-response.get")
void future_response_get(uint32_t f, void *ret);
IMPORT(HTTP, "[method]future-incoming-response.subscribe")
uint32_t future_response_subscribe(uint32_t f);
IMPORT(HTTP, "[resource-drop]future-incoming-response") void future_response_drop(uint32_t f);
IMPORT(HTTP, "[method]incoming-response.status") uint32_t inresp_status(uint32_t r);
IMPORT(HTTP, "[method]incoming-response.headers") uint32_t inresp_headers(uint32_t r);
IMPORT(HTTP, "[method]incoming-response.consume") void inresp_consume(uint32_t r, void *ret);
IMPORT(HTTP, "[resource-drop]incoming-response") void inresp_drop(uint32_t r);
/* wasi:http/outgoing-handler */
IMPORT(OUTH, "handle")
void outgoing_handle(uint32_t req, uint32_t has_options, uint32_t options, void *ret);
/* wasi:io */
IMPORT(IO, "[method]input-stream.read") void input_read(uint32_t s, uint64_t len, void *ret);
IMPORT(IO, "[method]input-stream.blocking-read")
void input_blocking_read(uint32_t s, uint64_t len, void *ret);
IMPORT(IO, "[resource-drop]input-stream") void input_drop(uint32_t s);
IMPORT(IO, "[method]output-stream.check-write") void output_check_write(uint32_t s, void *ret);
IMPORT(IO, "[method]output-stream.write")
void output_write(uint32_t s, const void *p, size_t n, void *ret);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush")
void output_blocking_write_and_flush(uint32_t s, const void *p, size_t n, void *ret);
IMPORT(IO, "[method]output-stream.blocking-flush")
void output_blocking_flush(uint32_t s, void *ret);
IMPORT(IO, "[resource-drop]output-stream") void output_drop(uint32_t s);
IMPORT(POLL, "[method]pollable.block") void pollable_block(uint32_t p);
IMPORT(POLL, "[resource-drop]pollable") void pollable_drop(uint32_t p);
IMPORT(IOERR, "[resource-drop]error") void io_error_drop(uint32_t e);
/* fermyon:spin */
IMPORT(VARS, "get") void variables_get(const char *name, size_t nlen, void *ret);
IMPORT(KV, "[static]store.open") void store_open(const char *label, size_t llen, void *ret);
IMPORT(KV, "[method]store.get") void store_get(uint32_t s, const char *k, size_t klen, void *ret);
IMPORT(KV, "[method]store.set")
void store_set(uint32_t s, const char *k, size_t klen, const void *v, size_t vlen, void *ret);
IMPORT(KV, "[method]store.delete")
void store_delete(uint32_t s, const char *k, size_t klen, void *ret);
IMPORT(KV, "[method]store.exists")
void store_exists(uint32_t s, const char *k, size_t klen, void *ret);
IMPORT(KV, "[method]store.get-keys") void store_get_keys(uint32_t s, void *ret);
IMPORT(KV, "[resource-drop]store") void store_drop(uint32_t s);

/* The canonical ABI's allocator: the host stores the lists and strings it returns in memory it
 * asks for here (and this module frees them, as wit-bindgen's bindings do). */
EXPORT("cabi_realloc") void *cabi_realloc(void *old, size_t old_size, size_t align, size_t size) {
    (void)old_size;
    (void)align; /* malloc aligns to 8 at least: the canonical ABI's largest alignment */
    void *p = realloc(old, size ? size : 1);
    if (!p) __builtin_trap();
    return p;
}

/* ---- return areas ---- */

/* Filled with 0xEE before each call, so a field the host left unwritten shows. */
typedef struct {
    _Alignas(8) uint8_t b[64];
} area;

static area *fresh(area *a) {
    memset(a->b, 0xee, sizeof a->b);
    return a;
}
#define U8(a, o)  ((a).b[o])
#define U32(a, o) (*(const uint32_t *)((a).b + (o)))
#define U64(a, o) (*(const uint64_t *)((a).b + (o)))
#define PTR(a, o) ((const char *)(uintptr_t)U32(a, o))

/* The host broke the ABI: say what on stderr and trap (so the request answers 500). */
__attribute__((noreturn)) static void abi_fail(const char *what, unsigned value) {
    fprintf(stderr, "spin2: ABI: %s (%u)\n", what, value);
    fflush(stderr);
    __builtin_trap();
}

/* A discriminant must be below n. */
static unsigned disc(unsigned value, unsigned n, const char *what) {
    if (value >= n) abi_fail(what, value);
    return value;
}

/* Free a list or string the host returned (allocated through cabi_realloc). */
static void release(const void *p, size_t len) {
    if (len) free((void *)(uintptr_t)p);
}

static char *dupn(const char *p, size_t n) {
    char *s = malloc(n + 1);
    if (!s) __builtin_trap();
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* ---- a growing buffer ---- */

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static void buf_add(buf *b, const void *p, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) __builtin_trap();
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}

__attribute__((format(printf, 2, 3))) static void buf_printf(buf *b, const char *fmt, ...) {
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- fields ---- */

/* AREA result<_, header-error>: disc@0 u8; header-error@1 u8 (a variant of payload-less cases
 * has alignment 1). -1 when ok, else the header-error case. */
static int header_error(const area *a) {
    if (!disc(U8(*a, 0), 2, "result<_, header-error> disc")) return -1;
    return (int)disc(U8(*a, 1), 3, "header-error case");
}

static int append(uint32_t f, const char *name, const char *value) {
    area a;
    fields_append(f, name, strlen(name), value, strlen(value), fresh(&a));
    return header_error(&a);
}

/* The values of `name` in f joined with ',', or "(none)" (malloc'ed).
 * AREA list<field-value>: ptr@0, len@4; elements of 8 bytes (ptr@0, len@4). */
static char *field(uint32_t f, const char *name) {
    area a;
    fields_get(f, name, strlen(name), fresh(&a));
    const uint32_t *vals = (const uint32_t *)(uintptr_t)U32(a, 0);
    uint32_t n = U32(a, 4);
    if (!n) return dupn("(none)", 6);
    buf out = {0};
    for (uint32_t i = 0; i < n; i++) {
        if (i) buf_add(&out, ",", 1);
        buf_add(&out, (const char *)(uintptr_t)vals[2 * i], vals[2 * i + 1]);
        release((const void *)(uintptr_t)vals[2 * i], vals[2 * i + 1]);
    }
    release(vals, n);
    return out.p;
}

/* f's entries as "k=v;" each.
 * AREA list<tuple<field-key, field-value>>: ptr@0, len@4; elements of 16 bytes (key ptr@0,
 * key len@4, value ptr@8, value len@12). */
static void entries(uint32_t f, buf *out) {
    area a;
    fields_entries(f, fresh(&a));
    const uint32_t *e = (const uint32_t *)(uintptr_t)U32(a, 0);
    uint32_t n = U32(a, 4);
    for (uint32_t i = 0; i < n; i++, e += 4) {
        buf_printf(out, "%.*s=%.*s;", (int)e[1], (const char *)(uintptr_t)e[0], (int)e[3],
                   (const char *)(uintptr_t)e[2]);
        release((const void *)(uintptr_t)e[0], e[1]);
        release((const void *)(uintptr_t)e[2], e[3]);
    }
    release((const void *)(uintptr_t)U32(a, 0), n);
}

/* A list<tuple<field-key, field-value>> entry as the host reads it (16 bytes). */
typedef struct {
    const char *k;
    size_t klen;
    const char *v;
    size_t vlen;
} entry;

/* ---- the request ---- */

static uint32_t request, outparam;

static const char *const methods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

/* AREA method: disc@0 u8; other's string ptr@4, len@8. */
static char *method(void) {
    area a;
    request_method(request, fresh(&a));
    unsigned d = disc(U8(a, 0), 10, "method disc");
    if (d < 9) return dupn(methods[d], strlen(methods[d]));
    char *s = dupn(PTR(a, 4), U32(a, 8));
    release(PTR(a, 4), U32(a, 8));
    return s;
}

/* AREA option<string>: disc@0 u8; ptr@4, len@8. NULL for none. */
static char *option_string(const area *a, const char *what) {
    if (!disc(U8(*a, 0), 2, what)) return NULL;
    char *s = dupn(PTR(*a, 4), U32(*a, 8));
    release(PTR(*a, 4), U32(*a, 8));
    return s;
}

static char *path_with_query(void) {
    area a;
    request_path_with_query(request, fresh(&a));
    return option_string(&a, "option<string> disc (path-with-query)");
}

/* One read's answer: appended to out. 1 for data (maybe none), 0 at the end, -1 on failure.
 * AREA result<list<u8>, stream-error>: disc@0 u8; ok: ptr@4, len@8; err: stream-error disc@4
 * u8 (0 last-operation-failed, 1 closed), its own<error>@8. */
static int take_read(const area *a, buf *out, size_t *got) {
    *got = 0;
    if (!disc(U8(*a, 0), 2, "result<list<u8>, stream-error> disc")) {
        uint32_t n = U32(*a, 8);
        if (n > 1000) abi_fail("a read returned more than asked", n);
        buf_add(out, PTR(*a, 4), n);
        release(PTR(*a, 4), n);
        *got = n;
        return 1;
    }
    if (disc(U8(*a, 4), 2, "stream-error disc (read)") == 1) return 0;
    io_error_drop(U32(*a, 8));
    return -1;
}

/* Read an input stream to its end into out, at most 1000 bytes a call until closed: with
 * blocking-read, or (try_first) with read first and blocking-read only when read had nothing.
 * 0, or -1 if the stream failed. */
static int read_stream(uint32_t s, buf *out, int try_first) {
    for (;;) {
        area a;
        size_t got = 0;
        int rc;
        if (try_first) {
            input_read(s, 1000, fresh(&a));
            if ((rc = take_read(&a, out, &got)) <= 0) return rc;
            if (got) continue;
        }
        input_blocking_read(s, 1000, fresh(&a));
        if ((rc = take_read(&a, out, &got)) <= 0) return rc;
    }
}

/* Read an incoming body (own<incoming-body>) to its end and finish it.
 * AREA result<own<input-stream>>: disc@0 u8, handle@4. */
static int read_incoming_body(uint32_t body, buf *out, int try_first) {
    area a;
    incoming_body_stream(body, fresh(&a));
    if (disc(U8(a, 0), 2, "result<input-stream> disc")) {
        incoming_body_drop(body);
        return -1;
    }
    uint32_t s = U32(a, 4);
    int rc = read_stream(s, out, try_first);
    input_drop(s);
    future_trailers_drop(incoming_body_finish(body));
    return rc;
}

/* The request's body. AREA result<own<incoming-body>>: disc@0 u8, handle@4. */
static int read_body(buf *out) {
    area a;
    request_consume(request, fresh(&a));
    if (disc(U8(a, 0), 2, "result<incoming-body> disc")) return -1;
    return read_incoming_body(U32(a, 4), out, 0);
}

/* ---- the response ---- */

/* A response with headers h (a new fields when 0) plus content-type and x-spin-test. */
static uint32_t new_response(uint32_t h) {
    if (!h) h = fields_new();
    if (append(h, "content-type", "text/plain") >= 0 || append(h, "x-spin-test", "spin2") >= 0)
        abi_fail("append to new fields failed", 0);
    return response_new(h);
}

/* Write all of p to an output stream: check-write, then blocking-write-and-flush of at most
 * 4096 bytes (and at most what check-write permits when it permits some).
 * AREA result<u64, stream-error>: disc@0 u8; ok u64@8; err: stream-error disc@8, error@12.
 * AREA result<_, stream-error>: disc@0 u8; err: stream-error disc@4 u8, error@8. */
static int write_all(uint32_t s, const char *p, size_t n) {
    while (n) {
        area a;
        output_check_write(s, fresh(&a));
        uint64_t permit = 4096;
        if (disc(U8(a, 0), 2, "result<u64, stream-error> disc")) {
            if (!disc(U8(a, 8), 2, "stream-error disc (check-write)")) io_error_drop(U32(a, 12));
            return -1;
        }
        if (U64(a, 8) && U64(a, 8) < permit) permit = U64(a, 8);
        size_t chunk = n < permit ? n : (size_t)permit;
        output_blocking_write_and_flush(s, p, chunk, fresh(&a));
        if (disc(U8(a, 0), 2, "result<_, stream-error> disc (write)")) {
            if (!disc(U8(a, 4), 2, "stream-error disc (write)")) io_error_drop(U32(a, 8));
            return -1;
        }
        p += chunk;
        n -= chunk;
    }
    return 0;
}

/* AREA result<_, error-code>: disc@0 u8; error-code@8 (alignment 8: option<u64> payloads),
 * its disc@8 u8, its payload@16. */
static void finish_outgoing_body(uint32_t body) {
    area a;
    outgoing_body_finish(body, 0, 0, fresh(&a));
    if (disc(U8(a, 0), 2, "result<_, error-code> disc (finish)"))
        abi_fail("outgoing-body.finish failed with error-code", U8(a, 8));
}

/* AREA result<own<outgoing-body>>: disc@0 u8, handle@4;
 * AREA result<own<output-stream>>: disc@0 u8, handle@4. */
static uint32_t body_stream(uint32_t body) {
    area a;
    outgoing_body_write(body, fresh(&a));
    if (disc(U8(a, 0), 2, "result<output-stream> disc")) abi_fail("outgoing-body.write failed", 0);
    return U32(a, 4);
}

static uint32_t response_outgoing_body(uint32_t resp) {
    area a;
    response_body(resp, fresh(&a));
    if (disc(U8(a, 0), 2, "result<outgoing-body> disc"))
        abi_fail("outgoing-response.body failed", 0);
    return U32(a, 4);
}

static void set_ok(uint32_t resp) {
    outparam_set(outparam, 0, resp, 0, 0, 0, 0, 0, 0);
}

/* The normal way: body, write it, finish, then set the response. */
static void send_response(uint32_t resp, const char *text, size_t len) {
    uint32_t body = response_outgoing_body(resp);
    uint32_t s = body_stream(body);
    if (write_all(s, text, len)) abi_fail("writing the response body failed", 0);
    output_drop(s);
    finish_outgoing_body(body);
    set_ok(resp);
}

static void send(unsigned status, const char *text, size_t len, uint32_t headers) {
    uint32_t resp = new_response(headers);
    if (status != 200 && response_set_status(resp, status))
        abi_fail("set-status-code refused a valid status", status);
    send_response(resp, text, len);
}

static void send_text(unsigned status, const char *text) {
    send(status, text, strlen(text), 0);
}

__attribute__((format(printf, 2, 3))) static void send_f(unsigned status, const char *fmt, ...) {
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    send_text(status, tmp);
}

/* ---- routes ---- */

static int runs;

static void hello(const char *pq) {
    char *m = method();
    send_f(200, "Hello from Spin 2 (%s %s)", m, pq);
}

static void headers(void) {
    uint32_t h = request_headers(request);
    unsigned has = fields_has(h, "nope", 4);
    if (has > 1) abi_fail("bool out of range (fields.has)", has);
    send_f(200, "x-test=%s has-nope=%u path-info=%s matched=%s full-url=%s", field(h, "x-test"),
           has, field(h, "spin-path-info"), field(h, "spin-matched-route"),
           field(h, "spin-full-url"));
    fields_drop(h);
}

/* AREA option<scheme>: disc@0 u8; scheme@4: its disc@4 u8 (0 HTTP, 1 HTTPS, 2 other), other's
 * string ptr@8, len@12. AREA option<string> (authority): disc@0, ptr@4, len@8. */
static void authority(void) {
    area a;
    char scheme[256] = "none";
    request_scheme(request, fresh(&a));
    if (disc(U8(a, 0), 2, "option<scheme> disc")) {
        unsigned d = disc(U8(a, 4), 3, "scheme disc");
        if (d < 2)
            snprintf(scheme, sizeof scheme, "%s", d ? "HTTPS" : "HTTP");
        else {
            snprintf(scheme, sizeof scheme, "other:%.*s", (int)U32(a, 12), PTR(a, 8));
            release(PTR(a, 8), U32(a, 12));
        }
    }
    request_authority(request, fresh(&a));
    char *auth = option_string(&a, "option<string> disc (authority)");
    send_f(200, "scheme=%s authority=%s", scheme, auth ? auth : "none");
}

static void echo(void) {
    char *m = method();
    buf out = {0};
    buf_printf(&out, "%s ", m);
    if (read_body(&out)) abi_fail("reading the request body failed", 0);
    send(201, out.p, out.n, 0);
}

static void immutable(void) {
    uint32_t h = request_headers(request);
    static const char v[] = "x";
    const uint32_t vals[2] = {(uint32_t)(uintptr_t)v, 1}; /* list<field-value>: (ptr, len) each */
    area a;
    fields_set(h, "x-new", 5, vals, 1, fresh(&a));
    int e = header_error(&a);
    fields_drop(h);
    if (e < 0)
        send_text(200, "immutable ok");
    else
        send_f(200, "immutable error %d", e);
}

/* AREA result<own<fields>, header-error>: disc@0 u8; payload@4 (alignment 4): handle@4 or
 * header-error@4 u8. Returns the handle, or -(case + 1). */
static int64_t from_list(const entry *e, size_t n) {
    area a;
    fields_from_list(e, n, fresh(&a));
    if (disc(U8(a, 0), 2, "result<fields, header-error> disc"))
        return -(int64_t)disc(U8(a, 4), 3, "header-error case (from-list)") - 1;
    return U32(a, 4);
}

static void entries_route(void) {
    static const entry e[] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}};
    int64_t f = from_list(e, 2);
    if (f < 0) abi_fail("from-list failed", (unsigned)(-f - 1));
    if (append((uint32_t)f, "a", "3") >= 0) abi_fail("append failed", 0);
    buf out = {0};
    entries((uint32_t)f, &out);
    send(200, out.p, out.n, (uint32_t)f); /* the same fields as the response's headers */
}

/* clone, delete, invalid names, and the immutable headers of requests and responses */
static void fields_route(void) {
    static const entry e[] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}};
    static const entry bad[] = {{"bad name", 8, "x", 1}};
    buf out = {0};
    int64_t fl = from_list(e, 2);
    if (fl < 0) abi_fail("from-list failed", (unsigned)(-fl - 1));
    uint32_t f = (uint32_t)fl;
    uint32_t c = fields_clone(f);
    area a;
    fields_delete(c, "a", 1, fresh(&a));
    if (header_error(&a) >= 0) abi_fail("delete on a clone failed", 0);
    if (append(c, "x-y", "z") >= 0) abi_fail("append on a clone failed", 0);
    buf_add(&out, "orig=", 5);
    entries(f, &out);
    buf_add(&out, " clone=", 7);
    entries(c, &out);
    fields_drop(c);
    fields_drop(f);
    int64_t b = from_list(bad, 1);
    buf_printf(&out, " bad-name=%d", b < 0 ? (int)(-b - 1) : -1);
    if (b >= 0) fields_drop((uint32_t)b);
    uint32_t h = request_headers(request);
    fields_delete(h, "x", 1, fresh(&a));
    buf_printf(&out, " req-delete=%d", header_error(&a));
    buf_printf(&out, " req-append=%d", append(h, "x", "y"));
    c = fields_clone(h);
    buf_printf(&out, " req-clone=%d",
               append(c, "x-added", "1") < 0 ? (int)fields_has(c, "x-added", 7) : -1);
    fields_drop(c);
    fields_drop(h);
    uint32_t resp = new_response(0);
    uint32_t rh = response_headers(resp);
    buf_printf(&out, " resp-has-ct=%u resp-append=%d", fields_has(rh, "content-type", 12),
               append(rh, "x", "y"));
    fields_drop(rh);
    response_drop(resp);
    send(200, out.p, out.n, 0);
}

static void status(const char *q) {
    unsigned n = (unsigned)strtoul(q, NULL, 10);
    uint32_t resp = new_response(0);
    char text[64];
    if (response_set_status(resp, n & 0xffff)) /* result<_, _>: one flat i32, the disc */
        snprintf(text, sizeof text, "rejected %u", n);
    else
        snprintf(text, sizeof text, "status %u", n);
    send_response(resp, text, strlen(text));
}

/* AREA result<string, variables.error>: disc@0 u8; ok: ptr@4, len@8; err: error disc@4 u8
 * (0 invalid-name, 1 undefined, 2 provider, 3 other), its string ptr@8, len@12. */
static void variable(const char *name, int with_message) {
    area a;
    variables_get(name, strlen(name), fresh(&a));
    if (!disc(U8(a, 0), 2, "result<string, error> disc (variables)")) {
        send(200, PTR(a, 4), U32(a, 8), 0);
        return;
    }
    unsigned e = disc(U8(a, 4), 4, "variables error case");
    if (with_message)
        send_f(200, "error %u %.*s", e, (int)U32(a, 12), PTR(a, 8));
    else
        send_f(200, "error %u", e);
}

/* Key-value. AREA result<T, key-value.error>: disc@0 u8; payload@4; err: error disc@4 u8
 * (0 store-table-full, 1 no-such-store, 2 access-denied, 3 other), other's string ptr@8,
 * len@12. -1 when ok, else the case. */
static int kv_error(const area *a, const char *what) {
    if (!disc(U8(*a, 0), 2, what)) return -1;
    unsigned e = disc(U8(*a, 4), 4, "key-value error case");
    if (e == 3) release(PTR(*a, 8), U32(*a, 12));
    return (int)e;
}

/* AREA result<own<store>, error>: handle@4. */
static int64_t kv_open(const char *label) {
    area a;
    store_open(label, strlen(label), fresh(&a));
    int e = kv_error(&a, "result<store, error> disc");
    return e < 0 ? (int64_t)U32(a, 4) : -(int64_t)e - 1;
}

static void kv(const char *q) {
    int64_t so = kv_open("default");
    if (so < 0) {
        send_f(200, "error %d", (int)(-so - 1));
        return;
    }
    uint32_t s = (uint32_t)so;
    area a;
    int e;
    char text[4096];
    if (!strncmp(q, "set=", 4)) {
        const char *eq = strchr(q + 4, '=');
        if (eq) {
            store_set(s, q + 4, (size_t)(eq - q - 4), eq + 1, strlen(eq + 1), fresh(&a));
            e = kv_error(&a, "result<_, error> disc (set)");
            snprintf(text, sizeof text, e < 0 ? "set ok" : "error %d", e);
        } else {
            snprintf(text, sizeof text, "set=K=V");
        }
    } else if (!strncmp(q, "get=", 4)) {
        /* AREA result<option<list<u8>>, error>: ok: option disc@4 u8, ptr@8, len@12 */
        store_get(s, q + 4, strlen(q + 4), fresh(&a));
        e = kv_error(&a, "result<option<list<u8>>, error> disc");
        if (e >= 0)
            snprintf(text, sizeof text, "error %d", e);
        else if (!disc(U8(a, 4), 2, "option<list<u8>> disc"))
            snprintf(text, sizeof text, "none");
        else {
            snprintf(text, sizeof text, "value %.*s", (int)U32(a, 12), PTR(a, 8));
            release(PTR(a, 8), U32(a, 12));
        }
    } else if (!strncmp(q, "del=", 4)) {
        store_delete(s, q + 4, strlen(q + 4), fresh(&a));
        e = kv_error(&a, "result<_, error> disc (delete)");
        snprintf(text, sizeof text, e < 0 ? "delete ok" : "error %d", e);
    } else if (!strncmp(q, "has=", 4)) {
        /* AREA result<bool, error>: ok: bool@4 u8 */
        store_exists(s, q + 4, strlen(q + 4), fresh(&a));
        e = kv_error(&a, "result<bool, error> disc");
        if (e >= 0)
            snprintf(text, sizeof text, "error %d", e);
        else
            snprintf(text, sizeof text, "exists %s", disc(U8(a, 4), 2, "bool") ? "yes" : "no");
    } else {
        snprintf(text, sizeof text, "set=, get=, del= or has=");
    }
    store_drop(s);
    send_text(200, text);
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* AREA result<list<string>, error>: ok: ptr@4, len@8; elements of 8 bytes (ptr@0, len@4). */
static void kv_keys(void) {
    int64_t so = kv_open("default");
    if (so < 0) {
        send_f(200, "error %d", (int)(-so - 1));
        return;
    }
    area a;
    store_get_keys((uint32_t)so, fresh(&a));
    int e = kv_error(&a, "result<list<string>, error> disc");
    store_drop((uint32_t)so);
    if (e >= 0) {
        send_f(200, "error %d", e);
        return;
    }
    const uint32_t *list = (const uint32_t *)(uintptr_t)U32(a, 4);
    uint32_t n = U32(a, 8);
    char **keys = calloc(n + 1, sizeof *keys);
    for (uint32_t i = 0; i < n; i++) {
        keys[i] = dupn((const char *)(uintptr_t)list[2 * i], list[2 * i + 1]);
        release((const void *)(uintptr_t)list[2 * i], list[2 * i + 1]);
    }
    release(list, n);
    qsort(keys, n, sizeof *keys, by_string);
    buf out = {0};
    buf_add(&out, "", 0);
    for (uint32_t i = 0; i < n; i++) {
        if (i) buf_add(&out, ",", 1);
        buf_add(&out, keys[i], strlen(keys[i]));
    }
    send(200, out.p, out.n, 0);
}

static void kv_other(void) {
    int64_t so = kv_open("other");
    if (so >= 0) {
        store_drop((uint32_t)so);
        send_text(200, "opened");
    } else {
        send_f(200, "error %d", (int)(-so - 1));
    }
}

/* An outbound request to url (GET, or POST with the body "ping"), answered as
 * "status N body BODY" or "error CASE" (the error-code's case). */
static void outbound(const char *url, int post) {
    /* the URL: SCHEME://AUTHORITY/PATH */
    const char *sep = strstr(url, "://");
    const char *scheme = url, *auth = sep ? sep + 3 : url;
    size_t scheme_len = sep ? (size_t)(sep - url) : 0;
    const char *path = strchr(auth, '/');
    if (!path) path = auth + strlen(auth);
    size_t auth_len = (size_t)(path - auth);
    if (!*path) path = "/";

    uint32_t h = fields_new();
    if (append(h, "x-from", "spin2") >= 0) abi_fail("append x-from failed", 0);
    uint32_t req = outreq_new(h);
    /* method: disc (0 get, 2 post), other's (ptr, len) */
    if (outreq_set_method(req, post ? 2 : 0, NULL, 0)) abi_fail("set-method failed", 0);
    /* option<scheme>: some, disc (0 HTTP, 1 HTTPS, 2 other), other's (ptr, len) */
    if (sep) {
        uint32_t r;
        if (scheme_len == 4 && !memcmp(scheme, "http", 4))
            r = outreq_set_scheme(req, 1, 0, NULL, 0);
        else if (scheme_len == 5 && !memcmp(scheme, "https", 5))
            r = outreq_set_scheme(req, 1, 1, NULL, 0);
        else
            r = outreq_set_scheme(req, 1, 2, scheme, scheme_len);
        if (r) {
            outreq_drop(req);
            send_text(200, "scheme refused");
            return;
        }
    }
    if (outreq_set_authority(req, 1, auth, auth_len) ||
        outreq_set_path(req, 1, path, strlen(path))) {
        outreq_drop(req);
        send_text(200, "authority or path refused");
        return;
    }
    uint32_t body = 0;
    area a;
    if (post) {
        outreq_body(req, fresh(&a)); /* result<own<outgoing-body>>: disc@0, handle@4 */
        if (disc(U8(a, 0), 2, "result<outgoing-body> disc (request)"))
            abi_fail("outgoing-request.body failed", 0);
        body = U32(a, 4);
    }
    /* AREA result<own<future-incoming-response>, error-code>: disc@0 u8; payload@8 (alignment
     * 8): handle@8, or error-code disc@8 u8. */
    outgoing_handle(req, 0, 0, fresh(&a));
    if (disc(U8(a, 0), 2, "result<future-incoming-response, error-code> disc")) {
        unsigned e = disc(U8(a, 8), 39, "error-code case (handle)");
        if (body) outgoing_body_drop(body);
        send_f(200, "error %u", e);
        return;
    }
    uint32_t future = U32(a, 8);
    if (post) {
        uint32_t s = body_stream(body);
        area w;
        output_write(s, "ping", 4, fresh(&w)); /* result<_, stream-error>: disc@0 */
        if (disc(U8(w, 0), 2, "result<_, stream-error> disc (write)")) abi_fail("write failed", 0);
        output_blocking_flush(s, fresh(&w));
        if (disc(U8(w, 0), 2, "result<_, stream-error> disc (flush)")) abi_fail("flush failed", 0);
        output_drop(s);
        finish_outgoing_body(body);
    }
    uint32_t p = future_response_subscribe(future);
    pollable_block(p);
    pollable_drop(p);
    /* AREA option<result<result<own<incoming-response>, error-code>>>: option disc@0 u8; outer
     * result disc@8 u8; inner result disc@16 u8; handle@24, or error-code disc@24 u8. */
    future_response_get(future, fresh(&a));
    if (!disc(U8(a, 0), 2, "option<result<result<...>>> disc"))
        abi_fail("no response after block", 0);
    if (disc(U8(a, 8), 2, "outer result disc")) abi_fail("response already taken", 0);
    future_response_drop(future);
    if (disc(U8(a, 16), 2, "result<incoming-response, error-code> disc")) {
        send_f(200, "error %u", disc(U8(a, 24), 39, "error-code case (get)"));
        return;
    }
    uint32_t resp = U32(a, 24);
    unsigned st = inresp_status(resp);
    fields_drop(inresp_headers(resp));
    buf out = {0};
    buf_printf(&out, "status %u body ", st);
    inresp_consume(resp, fresh(&a)); /* result<own<incoming-body>>: disc@0, handle@4 */
    if (disc(U8(a, 0), 2, "result<incoming-body> disc (response)")) abi_fail("consume failed", 0);
    if (read_incoming_body(U32(a, 4), &out, 1)) abi_fail("reading the response body failed", 0);
    inresp_drop(resp);
    send(200, out.p, out.n, 0);
}

/* The SDKs' order: set the response first, then write its body (2000 lines) and finish it. */
static void stream_route(void) {
    uint32_t resp = new_response(0);
    uint32_t body = response_outgoing_body(resp);
    set_ok(resp);
    uint32_t s = body_stream(body);
    buf out = {0};
    for (int i = 1; i <= 2000; i++) buf_printf(&out, "line %d\n", i);
    if (write_all(s, out.p, out.n)) abi_fail("writing the body after set failed", 0);
    output_drop(s);
    finish_outgoing_body(body);
}

/* /hog: 1 MiB header values appended until the host refuses (it bounds what one request holds
 * at 256 MiB: a trap, so the answer is a 500); answers 200 only if it never did */
static void hog(void) {
    static char big[1 << 20];
    memset(big, 'h', sizeof big);
    uint32_t f = fields_new();
    for (int i = 0; i < 400; i++) {
        area a;
        fields_append(f, "x-hog", 5, big, sizeof big, fresh(&a));
    }
    send_f(200, "the host held 400 MiB");
}

EXPORT("wasi:http/incoming-handler@0.2.0#handle") void handle(uint32_t req, uint32_t out) {
    request = req;
    outparam = out;
    runs++;
    char *pq = path_with_query();
    if (!pq) abi_fail("no path-with-query", 0);
    const char *rest = !strncmp(pq, "/spin2", 6) ? pq + 6 : pq;
    char path[512];
    size_t plen = strcspn(rest, "?");
    snprintf(path, sizeof path, "%.*s", (int)plen, rest);
    const char *q = rest[plen] ? rest + plen + 1 : "";

    if (!strcmp(path, "/hello"))
        hello(pq);
    else if (!strcmp(path, "/headers"))
        headers();
    else if (!strcmp(path, "/authority"))
        authority();
    else if (!strcmp(path, "/echo"))
        echo();
    else if (!strcmp(path, "/immutable"))
        immutable();
    else if (!strcmp(path, "/entries"))
        entries_route();
    else if (!strcmp(path, "/fields"))
        fields_route();
    else if (!strcmp(path, "/status"))
        status(q);
    else if (!strcmp(path, "/config"))
        variable("message", 1);
    else if (!strcmp(path, "/nokey"))
        variable("nope", 1);
    else if (!strcmp(path, "/badname"))
        variable("Bad-Name", 0);
    else if (!strcmp(path, "/kv"))
        kv(q);
    else if (!strcmp(path, "/kv-keys"))
        kv_keys();
    else if (!strcmp(path, "/kv-other"))
        kv_other();
    else if (!strcmp(path, "/outbound"))
        outbound(q, 0);
    else if (!strcmp(path, "/outbound-post"))
        outbound(q, 1);
    else if (!strcmp(path, "/stream"))
        stream_route();
    else if (!strcmp(path, "/fresh"))
        send_f(200, "runs=%d", runs);
    else if (!strcmp(path, "/trap"))
        __builtin_trap();
    else if (!strcmp(path, "/hog"))
        hog();
    else if (!strcmp(path, "/noset"))
        ; /* no response: the host answers 500 */
    else if (!strcmp(path, "/error")) {
        /* err(internal-error(some("boom"))): result disc 1, error-code case 38, then the
         * option<string> in the joined payload: disc 1 (i32), ptr (in the i64 slot), len */
        static const char boom[] = "boom";
        outparam_set(outparam, 1, 38, 1, (int64_t)(uintptr_t)boom, sizeof boom - 1, 0, 0, 0);
    } else
        send_text(404, "not found");
    request_drop(req);
}
