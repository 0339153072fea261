/* Robustness of the engine through its public API: malformed headers and sections, LEB128 edge
 * cases, counts near 2^32 (without huge allocations), deep nesting, unbounded recursion, memory
 * accesses at the 4 GiB edge in both memory modes, memory.grow, backtraces with names, and host
 * functions. Modules are assembled in C with the small builder below. */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "wasm/wasm.h"

#if defined(__SANITIZE_ADDRESS__)
#define ROBUST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROBUST_ASAN 1
#endif
#endif

/* ---- byte buffers and LEB128 ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void buf_put(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n) cap *= 2;
        b->p = realloc(b->p, cap);
        ASSERT_TRUE(b->p != NULL);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void buf_u8(buf *b, uint8_t v) {
    buf_put(b, &v, 1);
}

static void buf_fill(buf *b, uint8_t v, size_t n) {
    for (size_t i = 0; i < n; i++) buf_u8(b, v);
}

static void buf_u32(buf *b, uint32_t v) {
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        buf_u8(b, v ? byte | 0x80 : byte);
    } while (v);
}

static void buf_s64(buf *b, int64_t v) {
    for (;;) {
        uint8_t byte = v & 0x7f;
        v >>= 7; /* arithmetic shift on gcc/clang */
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        buf_u8(b, done ? byte : byte | 0x80);
        if (done) return;
    }
}

static void buf_name(buf *b, const char *s) {
    buf_u32(b, (uint32_t)strlen(s));
    buf_put(b, s, strlen(s));
}

static void buf_release(buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static const uint8_t wasm_header[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

/* id, LEB128 size, payload */
static void buf_section(buf *out, uint8_t id, const buf *payload) {
    buf_u8(out, id);
    buf_u32(out, (uint32_t)payload->n);
    buf_put(out, payload->p, payload->n);
}

/* ---- a module builder: types, function imports, functions, one memory, exports, data, names ----
 */

typedef struct modb {
    buf types, imports, funcs, exports, code, datas, names;
    uint32_t ntypes, nimports, nfuncs, nexports, ndatas, nnames;
    bool has_memory;
    uint32_t mem_min;
    int64_t mem_max; /* < 0: no maximum */
} modb;

static uint8_t type_code(char c) {
    switch (c) {
    case 'i': return WB_I32;
    case 'I': return WB_I64;
    case 'f': return WB_F32;
    case 'F': return WB_F64;
    }
    wb_test_fail(__FILE__, __LINE__, "bad type letter %c", c);
}

/* params/results: one letter per value: i = i32, I = i64, f = f32, F = f64. */
static uint32_t mb_type(modb *m, const char *params, const char *results) {
    buf_u8(&m->types, 0x60);
    buf_u32(&m->types, (uint32_t)strlen(params));
    for (const char *c = params; *c; c++) buf_u8(&m->types, type_code(*c));
    buf_u32(&m->types, (uint32_t)strlen(results));
    for (const char *c = results; *c; c++) buf_u8(&m->types, type_code(*c));
    return m->ntypes++;
}

/* Imports come before definitions in the function index space: add them first. */
static uint32_t mb_import_func(modb *m, const char *module, const char *name, uint32_t type) {
    ASSERT_EQ(m->nfuncs, 0);
    buf_name(&m->imports, module);
    buf_name(&m->imports, name);
    buf_u8(&m->imports, 0x00);
    buf_u32(&m->imports, type);
    return m->nimports++;
}

/* body: the locals vector, the instructions and the final `end`. Returns the function index. */
static uint32_t mb_func(modb *m, uint32_t type, const uint8_t *body, size_t len) {
    buf_u32(&m->funcs, type);
    buf_u32(&m->code, (uint32_t)len);
    buf_put(&m->code, body, len);
    return m->nimports + m->nfuncs++;
}

static void mb_export(modb *m, const char *name, uint8_t kind, uint32_t index) {
    buf_name(&m->exports, name);
    buf_u8(&m->exports, kind);
    buf_u32(&m->exports, index);
    m->nexports++;
}

static void mb_memory(modb *m, uint32_t min, int64_t max) {
    m->has_memory = true;
    m->mem_min = min;
    m->mem_max = max;
}

static void mb_data(modb *m, uint32_t offset, const uint8_t *bytes, size_t n) {
    buf_u8(&m->datas, 0x00);
    buf_u8(&m->datas, 0x41); /* i32.const offset end */
    buf_s64(&m->datas, (int32_t)offset);
    buf_u8(&m->datas, 0x0b);
    buf_u32(&m->datas, (uint32_t)n);
    buf_put(&m->datas, bytes, n);
    m->ndatas++;
}

/* Function names, in increasing index order. */
static void mb_name(modb *m, uint32_t func, const char *name) {
    buf_u32(&m->names, func);
    buf_name(&m->names, name);
    m->nnames++;
}

static void put_vec_section(buf *out, uint8_t id, uint32_t count, const buf *items) {
    buf payload = {0};
    buf_u32(&payload, count);
    buf_put(&payload, items->p, items->n);
    buf_section(out, id, &payload);
    buf_release(&payload);
}

/* Assembles the module and releases the builder; the caller releases the result. */
static buf mb_finish(modb *m) {
    buf out = {0};
    buf_put(&out, wasm_header, sizeof wasm_header);
    if (m->ntypes) put_vec_section(&out, 1, m->ntypes, &m->types);
    if (m->nimports) put_vec_section(&out, 2, m->nimports, &m->imports);
    if (m->nfuncs) put_vec_section(&out, 3, m->nfuncs, &m->funcs);
    if (m->has_memory) {
        buf mem = {0};
        buf_u8(&mem, m->mem_max >= 0 ? 1 : 0);
        buf_u32(&mem, m->mem_min);
        if (m->mem_max >= 0) buf_u32(&mem, (uint32_t)m->mem_max);
        put_vec_section(&out, 5, 1, &mem);
        buf_release(&mem);
    }
    if (m->nexports) put_vec_section(&out, 7, m->nexports, &m->exports);
    if (m->nfuncs) put_vec_section(&out, 10, m->nfuncs, &m->code);
    if (m->ndatas) put_vec_section(&out, 11, m->ndatas, &m->datas);
    if (m->nnames) {
        buf custom = {0}, sub = {0};
        buf_name(&custom, "name");
        buf_u32(&sub, m->nnames);
        buf_put(&sub, m->names.p, m->names.n);
        buf_u8(&custom, 1); /* function names */
        buf_u32(&custom, (uint32_t)sub.n);
        buf_put(&custom, sub.p, sub.n);
        buf_section(&out, 0, &custom);
        buf_release(&custom);
        buf_release(&sub);
    }
    buf *parts[] = {&m->types, &m->imports, &m->funcs, &m->exports, &m->code, &m->datas, &m->names};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) buf_release(parts[i]);
    return out;
}

/* ---- loading and running ---- */

/* wb_module_new on raw bytes; a module that loads is freed. */
static int load_bytes(const wb_config *cfg, const uint8_t *bytes, size_t len, wb_error *err) {
    wb_module *m = NULL;
    memset(err, 0, sizeof *err);
    int rc = wb_module_new(cfg, bytes, len, &m, err);
    if (rc == 0) {
        ASSERT_TRUE(m != NULL);
        wb_module_free(m);
    } else {
        ASSERT_TRUE(m == NULL);
    }
    return rc;
}

/* A module of the header and one section (id, payload). */
static int load_section(uint8_t id, const uint8_t *payload, size_t len, wb_error *err) {
    buf b = {0}, p = {0};
    buf_put(&b, wasm_header, sizeof wasm_header);
    buf_put(&p, payload, len);
    buf_section(&b, id, &p);
    int rc = load_bytes(NULL, b.p, b.n, err);
    buf_release(&b);
    buf_release(&p);
    return rc;
}

#define ASSERT_MALFORMED(rc, err, text)                                                            \
    do {                                                                                           \
        ASSERT_EQ(rc, -1);                                                                         \
        ASSERT_EQ((err).code, WB_EMALFORMED);                                                      \
        ASSERT_STR_CONTAINS((err).msg, text);                                                      \
    } while (0)

typedef struct rt {
    wb_module *m;
    wb_store *s;
    wb_instance *inst;
} rt;

/* Loads bin and makes a store (lim may be NULL); rt_instantiate follows once imports exist. */
static void rt_open(rt *r, const wb_config *cfg, const wb_store_limits *lim, const buf *bin) {
    wb_error err = {0};
    memset(r, 0, sizeof *r);
    if (wb_module_new(cfg, bin->p, bin->n, &r->m, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "wb_module_new: %s", err.msg);
    r->s = wb_store_new(lim, &err);
    if (!r->s) wb_test_fail(__FILE__, __LINE__, "wb_store_new: %s", err.msg);
}

static void rt_instantiate(rt *r, const wb_extern *imports, uint32_t nimports) {
    wb_error err = {0};
    if (wb_instance_new(r->s, r->m, imports, nimports, &r->inst, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "wb_instance_new: %s", err.msg);
}

static void rt_close(rt *r) {
    wb_store_free(r->s);
    wb_module_free(r->m);
    memset(r, 0, sizeof *r);
}

static wb_extern rt_export(const rt *r, const char *name, uint8_t kind) {
    wb_extern e;
    memset(&e, 0, sizeof e);
    if (!wb_instance_export(r->inst, name, strlen(name), &e))
        wb_test_fail(__FILE__, __LINE__, "no export `%s`", name);
    ASSERT_EQ(e.kind, kind);
    return e;
}

static int rt_call(rt *r, const char *name, const wb_value *args, uint32_t nargs, wb_value *results,
                   uint32_t nresults, wb_error *err) {
    wb_extern f = rt_export(r, name, WB_EXTERN_FUNC);
    memset(err, 0, sizeof *err);
    return wb_func_call(r->s, f.of.func, args, nargs, results, nresults, err);
}

static wb_value v_i32(int32_t v) {
    wb_value x;
    memset(&x, 0, sizeof x);
    x.type = WB_I32;
    x.of.i32 = v;
    return x;
}

static wb_value v_i64(int64_t v) {
    wb_value x;
    memset(&x, 0, sizeof x);
    x.type = WB_I64;
    x.of.i64 = v;
    return x;
}

static wb_value v_f32_bits(uint32_t bits) {
    wb_value x;
    memset(&x, 0, sizeof x);
    x.type = WB_F32;
    x.of.f32 = bits;
    return x;
}

static wb_value v_f64_bits(uint64_t bits) {
    wb_value x;
    memset(&x, 0, sizeof x);
    x.type = WB_F64;
    x.of.f64 = bits;
    return x;
}

/* Calls an ()->i32 or (i32...)->i32 export and returns its result; the call must succeed. */
static int32_t call_i32(rt *r, const char *name, const wb_value *args, uint32_t nargs) {
    wb_value res;
    wb_error err;
    if (rt_call(r, name, args, nargs, &res, 1, &err) != 0)
        wb_test_fail(__FILE__, __LINE__, "call `%s`: %s", name, err.msg);
    ASSERT_EQ(res.type, WB_I32);
    return res.of.i32;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- proving that no huge allocation happens ---- */

#ifdef ROBUST_ASAN
/* ASan reserves terabytes of shadow memory, so RLIMIT_AS cannot be used; its allocator hooks
 * record the largest allocation instead. Test-only process state (each case runs in a child). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t largest_allocation;
static void note_malloc(const volatile void *p, size_t size) {
    if (size > largest_allocation) largest_allocation = size;
}
static void note_free(const volatile void *p) {}
#endif

#define ADDRESS_SPACE_LIMIT        ((rlim_t)2 << 30)
#define LARGEST_ALLOWED_ALLOCATION ((size_t)256 << 20)

/* From here on an attempt to allocate gigabytes fails the case: with RLIMIT_AS the allocation
 * fails and the engine's allocator aborts; under ASan the hook records it for
 * assert_no_huge_allocation. Only for cases that create no guarded memory (8 GiB reservations). */
static void limit_address_space(void) {
#ifdef ROBUST_ASAN
    largest_allocation = 0;
    __sanitizer_install_malloc_and_free_hooks(note_malloc, note_free);
#else
    struct rlimit rl = {ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT};
    ASSERT_EQ(setrlimit(RLIMIT_AS, &rl), 0);
#endif
}

static void assert_no_huge_allocation(void) {
#ifdef ROBUST_ASAN
    ASSERT_LT(largest_allocation, LARGEST_ALLOWED_ALLOCATION);
#endif
}

/* Heap bytes in use: mallinfo2 from glibc, or ASan's count (its allocator replaces glibc's). */
static size_t heap_in_use(void) {
#ifdef ROBUST_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks;
#endif
}

/* ==== 1. headers ==== */

TEST(robust_empty_input) {
    wb_error err;
    /* the spec: (assert_malformed (module binary "") "unexpected end") */
    int rc = load_bytes(NULL, NULL, 0, &err);
    ASSERT_MALFORMED(rc, err, "unexpected end");
    rc = load_bytes(NULL, (const uint8_t *)"", 0, &err);
    ASSERT_MALFORMED(rc, err, "unexpected end");
    /* a lone byte that is not the magic's first */
    rc = load_bytes(NULL, BYTES(0x01), &err);
    ASSERT_MALFORMED(rc, err, "unexpected end");
}

TEST(robust_magic_only) {
    wb_error err;
    /* the spec: (assert_malformed (module binary "\00asm") "unexpected end") */
    int rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6d), &err);
    ASSERT_MALFORMED(rc, err, "unexpected end");
    rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "unexpected end");
    /* the header alone is the smallest valid module */
    ASSERT_EQ(load_bytes(NULL, wasm_header, sizeof wasm_header, &err), 0);
}

TEST(robust_bad_magic) {
    wb_error err;
    int rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "magic header not detected");
    rc = load_bytes(NULL, BYTES(0x61, 0x73, 0x6d, 0x00, 0x01, 0x00, 0x00, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "magic header not detected");
    /* the text format is not a binary */
    rc = load_bytes(NULL, (const uint8_t *)"(module)", 8, &err);
    ASSERT_MALFORMED(rc, err, "magic header not detected");
}

TEST(robust_bad_version) {
    wb_error err;
    int rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "unknown binary version");
    rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6d, 0x00, 0x00, 0x00, 0x01), &err);
    ASSERT_MALFORMED(rc, err, "unknown binary version");
    /* the component-model layer encoding (version 0x0d, layer 1) */
    rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "unknown binary version");
}

/* ==== 2. section sizes ==== */

TEST(robust_section_size_past_end) {
    wb_error err;
    /* type section of 7 bytes, 4 present: (binary.wast) "length out of bounds" */
    int rc = load_bytes(
        NULL,
        BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x02, 0x60, 0x00, 0x00),
        &err);
    ASSERT_MALFORMED(rc, err, "length out of bounds");
    /* a section size of 0xFFFFFFFF */
    rc = load_bytes(NULL,
                    BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                          0xff, 0x0f, 0x01, 0x61),
                    &err);
    ASSERT_MALFORMED(rc, err, "length out of bounds");
    /* a section id without a size */
    rc = load_bytes(NULL, BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01), &err);
    ASSERT_MALFORMED(rc, err, "unexpected end");
}

TEST(robust_section_size_mismatch) {
    wb_error err;
    /* type section of 7 bytes holding one 3-byte type and 3 stray bytes */
    int rc = load_section(1, BYTES(0x01, 0x60, 0x00, 0x00, 0x60, 0x00, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "section size mismatch");
    /* type section of 3 bytes whose only type needs 4 */
    rc = load_bytes(
        NULL,
        BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x03, 0x01, 0x60, 0x00, 0x00),
        &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    /* a bad section id */
    rc = load_section(13, BYTES(0x00), &err);
    ASSERT_MALFORMED(rc, err, "malformed section id");
}

/* ==== 3. LEB128 ==== */

TEST(robust_leb128_too_long) {
    wb_error err;
    /* a type count of 0 in 6 bytes (a u32 takes at most 5) */
    int rc = load_section(1, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), &err);
    ASSERT_MALFORMED(rc, err, "integer representation too long");
    /* 5 bytes of 0 are fine */
    ASSERT_EQ(load_section(1, BYTES(0x80, 0x80, 0x80, 0x80, 0x00), &err), 0);
    /* the section size itself */
    rc = load_bytes(NULL,
                    BYTES(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x81, 0x80, 0x80,
                          0x80, 0x80, 0x00, 0x00),
                    &err);
    ASSERT_MALFORMED(rc, err, "integer representation too long");
}

TEST(robust_leb128_too_large) {
    wb_error err;
    /* 5th byte with bits above 2^32 set: 0x7f */
    int rc = load_section(1, BYTES(0xff, 0xff, 0xff, 0xff, 0x7f), &err);
    ASSERT_MALFORMED(rc, err, "integer too large");
    rc = load_section(1, BYTES(0x80, 0x80, 0x80, 0x80, 0x10), &err);
    ASSERT_MALFORMED(rc, err, "integer too large");
    /* a signed i32.const whose 5th byte does not sign-extend bit 31: 0x4f */
    modb mb = {0};
    uint32_t t = mb_type(&mb, "", "i");
    mb_func(&mb, t, BYTES(0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x4f, 0x0b));
    buf bin = mb_finish(&mb);
    rc = load_bytes(NULL, bin.p, bin.n, &err);
    buf_release(&bin);
    ASSERT_MALFORMED(rc, err, "integer too large");
}

/* ==== 4. counts near 2^32 ==== */

TEST(robust_huge_type_count) {
    wb_error err;
    limit_address_space();
    int rc = load_section(1, BYTES(0xff, 0xff, 0xff, 0xff, 0x0f), &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    /* a plausible count with too few bytes behind it */
    rc = load_section(1, BYTES(0xe8, 0x07, 0x60, 0x00, 0x00), &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    assert_no_huge_allocation();
}

TEST(robust_huge_function_count) {
    wb_error err;
    limit_address_space();
    buf b = {0}, p = {0};
    buf_put(&b, wasm_header, sizeof wasm_header);
    buf_put(&p, BYTES(0x01, 0x60, 0x00, 0x00));
    buf_section(&b, 1, &p);
    p.n = 0;
    buf_u32(&p, 0xFFFFFFF0u);
    buf_fill(&p, 0x00, 16);
    buf_section(&b, 3, &p);
    int rc = load_bytes(NULL, b.p, b.n, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    /* the same count in the code section */
    b.n = sizeof wasm_header;
    p.n = 0;
    buf_u32(&p, 0xFFFFFFF0u);
    buf_section(&b, 10, &p);
    rc = load_bytes(NULL, b.p, b.n, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    buf_release(&b);
    buf_release(&p);
    assert_no_huge_allocation();
}

TEST(robust_huge_locals_count) {
    wb_error err;
    limit_address_space();
    modb mb = {0};
    uint32_t t = mb_type(&mb, "", "");
    /* one group of 0xFFFFFFFF i32 locals */
    mb_func(&mb, t, BYTES(0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b));
    buf bin = mb_finish(&mb);
    int rc = load_bytes(NULL, bin.p, bin.n, &err);
    buf_release(&bin);
    ASSERT_MALFORMED(rc, err, "too many locals");
    /* two groups of 2^31 each: the sum wraps a u32 to 0 */
    mb = (modb){0};
    t = mb_type(&mb, "", "");
    mb_func(
        &mb, t,
        BYTES(0x02, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7e, 0x0b));
    bin = mb_finish(&mb);
    rc = load_bytes(NULL, bin.p, bin.n, &err);
    buf_release(&bin);
    ASSERT_MALFORMED(rc, err, "too many locals");
    /* 0xFFFFFFFF groups */
    mb = (modb){0};
    t = mb_type(&mb, "", "");
    mb_func(&mb, t, BYTES(0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x7f, 0x0b));
    bin = mb_finish(&mb);
    rc = load_bytes(NULL, bin.p, bin.n, &err);
    buf_release(&bin);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    assert_no_huge_allocation();
}

TEST(robust_huge_data_count) {
    wb_error err;
    limit_address_space();
    buf p = {0};
    buf_u32(&p, 4000000000u);
    /* the data count section */
    int rc = load_section(12, p.p, p.n, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    /* the data section */
    buf_fill(&p, 0x01, 8);
    rc = load_section(11, p.p, p.n, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    /* one data segment claiming 4e9 bytes */
    p.n = 0;
    buf_put(&p, BYTES(0x01, 0x01));
    buf_u32(&p, 4000000000u);
    buf_fill(&p, 0x00, 8);
    rc = load_section(11, p.p, p.n, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    buf_release(&p);
    assert_no_huge_allocation();
}

TEST(robust_huge_other_counts) {
    wb_error err;
    limit_address_space();
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00, 0x00};
    /* imports, tables, memories, globals, exports, elements */
    static const uint8_t ids[] = {2, 4, 5, 6, 7, 9};
    for (size_t i = 0; i < sizeof ids; i++) {
        int rc = load_section(ids[i], huge, sizeof huge, &err);
        if (rc != -1 || err.code != WB_EMALFORMED)
            wb_test_fail(__FILE__, __LINE__, "section %u: rc %d, code %d, %s", ids[i], rc, err.code,
                         err.msg);
    }
    /* a name section claiming 0xFFFFFFFF function names is advisory: the module loads */
    modb mb = {0};
    uint32_t t = mb_type(&mb, "", "");
    mb_func(&mb, t, BYTES(0x00, 0x0b));
    buf bin = mb_finish(&mb);
    buf custom = {0};
    buf_name(&custom, "name");
    buf_put(&custom, BYTES(0x01, 0x07, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01));
    buf_section(&bin, 0, &custom);
    ASSERT_EQ(load_bytes(NULL, bin.p, bin.n, &err), 0);
    buf_release(&bin);
    buf_release(&custom);
    assert_no_huge_allocation();
}

TEST(robust_huge_br_table) {
    wb_error err;
    limit_address_space();
    modb mb = {0};
    uint32_t t = mb_type(&mb, "", "");
    /* block  i32.const 0  br_table [0xFFFFFFFF labels...] 0  end: the labels are not there */
    mb_func(&mb, t,
            BYTES(0x00, 0x02, 0x40, 0x41, 0x00, 0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00,
                  0x0b, 0x0b));
    buf bin = mb_finish(&mb);
    int rc = load_bytes(NULL, bin.p, bin.n, &err);
    buf_release(&bin);
    ASSERT_MALFORMED(rc, err, "unexpected end");
    /* 1,000,001 labels that are all there: over the engine's limit of 1,000,000 */
    for (uint32_t n = 1000001; n >= 1000000; n--) {
        buf body = {0};
        buf_put(&body, BYTES(0x00, 0x02, 0x40, 0x41, 0x00, 0x0e));
        buf_u32(&body, n);
        buf_fill(&body, 0x00, (size_t)n + 1);
        buf_put(&body, BYTES(0x0b, 0x0b));
        mb = (modb){0};
        t = mb_type(&mb, "", "");
        mb_func(&mb, t, body.p, body.n);
        buf_release(&body);
        bin = mb_finish(&mb);
        rc = load_bytes(NULL, bin.p, bin.n, &err);
        buf_release(&bin);
        if (n > 1000000) {
            ASSERT_EQ(rc, -1);
            ASSERT_TRUE(err.code == WB_EMALFORMED || err.code == WB_EINVALID);
            ASSERT_STR_CONTAINS(err.msg, "br_table");
        } else {
            /* exactly at the limit: valid, and lowered */
            if (rc != 0) wb_test_fail(__FILE__, __LINE__, "1,000,000 labels: %s", err.msg);
        }
    }
    assert_no_huge_allocation();
}

TEST(robust_huge_table_instantiation) {
    wb_error err = {0};
    limit_address_space();
    /* (table 0xFFFFFFFF funcref): valid, but instantiation must fail cleanly */
    buf b = {0}, p = {0};
    buf_put(&b, wasm_header, sizeof wasm_header);
    buf_put(&p, BYTES(0x01, 0x70, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f));
    buf_section(&b, 4, &p);
    wb_module *m = NULL;
    ASSERT_EQ(wb_module_new(NULL, b.p, b.n, &m, &err), 0);
    wb_store_limits lim = {.max_call_depth = 1000, .value_stack_mb = 1};
    wb_store *s = wb_store_new(&lim, &err);
    ASSERT_TRUE(s != NULL);
    wb_instance *inst = NULL;
    ASSERT_EQ(wb_instance_new(s, m, NULL, 0, &inst, &err), -1);
    ASSERT_TRUE(inst == NULL);
    ASSERT_EQ(err.code, ENOMEM);
    ASSERT_STR_CONTAINS(err.msg, "table");
    wb_store_free(s);
    wb_module_free(m);
    buf_release(&b);
    buf_release(&p);
    assert_no_huge_allocation();
}

/* ==== 5. deep nesting ==== */

TEST(robust_million_nested_blocks) {
    enum { DEPTH = 1000000 };
    wb_error err;
    limit_address_space();
    buf body = {0};
    buf_u8(&body, 0x00);
    for (int i = 0; i < DEPTH; i++) buf_put(&body, BYTES(0x02, 0x40));
    buf_fill(&body, 0x0b, DEPTH + 1);
    modb mb = {0};
    uint32_t t = mb_type(&mb, "", "");
    mb_func(&mb, t, body.p, body.n);
    buf_release(&body);
    buf bin = mb_finish(&mb);
    double t0 = now_seconds();
    int rc = load_bytes(NULL, bin.p, bin.n, &err);
    double elapsed = now_seconds() - t0;
    buf_release(&bin);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EINVALID);
    ASSERT_STR_CONTAINS(err.msg, "nesting");
    ASSERT_LT(elapsed * 1000, 5000);
    /* loops and ifs too */
    body = (buf){0};
    buf_u8(&body, 0x00);
    for (int i = 0; i < DEPTH; i++) buf_put(&body, BYTES(0x41, 0x01, 0x04, 0x40, 0x03, 0x40));
    buf_fill(&body, 0x0b, 2 * (size_t)DEPTH + 1);
    mb = (modb){0};
    t = mb_type(&mb, "", "");
    mb_func(&mb, t, body.p, body.n);
    buf_release(&body);
    bin = mb_finish(&mb);
    rc = load_bytes(NULL, bin.p, bin.n, &err);
    buf_release(&bin);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EINVALID);
    ASSERT_STR_CONTAINS(err.msg, "nesting");
    assert_no_huge_allocation();
}

TEST(robust_nesting_at_the_limit_is_valid) {
    /* 9,000 nested blocks are fine and run */
    enum { DEPTH = 9000 };
    buf body = {0};
    buf_u8(&body, 0x00);
    for (int i = 0; i < DEPTH; i++) buf_put(&body, BYTES(0x02, 0x40));
    buf_fill(&body, 0x0b, DEPTH);
    buf_put(&body, BYTES(0x41, 0x07, 0x0b));
    modb mb = {0};
    uint32_t t = mb_type(&mb, "", "i");
    uint32_t f = mb_func(&mb, t, body.p, body.n);
    mb_export(&mb, "f", WB_EXTERN_FUNC, f);
    buf_release(&body);
    buf bin = mb_finish(&mb);
    rt r;
    rt_open(&r, NULL, NULL, &bin);
    rt_instantiate(&r, NULL, 0);
    ASSERT_EQ(call_i32(&r, "f", NULL, 0), 7);
    rt_close(&r);
    buf_release(&bin);
}

/* ==== 6. unbounded recursion ==== */

/* "f": calls itself forever; "big": the same with 1,000 i64 locals per frame (the value stack
 * runs out first); "ok": returns 42. */
static buf recursion_module(void) {
    modb mb = {0};
    uint32_t tv = mb_type(&mb, "", ""), ti = mb_type(&mb, "", "i");
    uint32_t f = mb_func(&mb, tv, BYTES(0x00, 0x10, 0x00, 0x0b));
    uint32_t big = mb_func(&mb, tv, BYTES(0x01, 0xe8, 0x07, 0x7e, 0x10, 0x01, 0x0b));
    uint32_t ok = mb_func(&mb, ti, BYTES(0x00, 0x41, 0x2a, 0x0b));
    mb_export(&mb, "f", WB_EXTERN_FUNC, f);
    mb_export(&mb, "big", WB_EXTERN_FUNC, big);
    mb_export(&mb, "ok", WB_EXTERN_FUNC, ok);
    return mb_finish(&mb);
}

static void expect_exhausted(rt *r, const char *name) {
    wb_error err;
    int rc = rt_call(r, name, NULL, 0, NULL, 0, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_ETRAP);
    ASSERT_STR_CONTAINS(err.msg, "call stack exhausted");
    const wb_trap_info *t = wb_store_last_trap(r->s);
    ASSERT_EQ(t->kind, WB_TRAP_STACK_EXHAUSTED);
    ASSERT_STR_EQ(t->message, "call stack exhausted");
    ASSERT_EQ(t->nframes, WB_BACKTRACE_MAX);
}

TEST(robust_recursion_thousand_times) {
    buf bin = recursion_module();
    rt r;
    rt_open(&r, NULL, NULL, &bin);
    rt_instantiate(&r, NULL, 0);
    /* warm up: the stacks get committed by the first calls */
    for (int i = 0; i < 10; i++) expect_exhausted(&r, "f");
    const uint32_t depth = wb_store_last_trap(r.s)->total_frames;
    ASSERT_GE(depth, 99000);
    ASSERT_LE(depth, 100002);
    size_t rss0 = rss_bytes(), heap0 = heap_in_use();
    for (int i = 0; i < 1000; i++) {
        expect_exhausted(&r, "f");
        ASSERT_EQ(wb_store_last_trap(r.s)->total_frames, depth);
    }
    size_t rss1 = rss_bytes(), heap1 = heap_in_use();
    ASSERT_LT((long long)rss1 - (long long)rss0, 8ll << 20);
    ASSERT_LT((long long)heap1 - (long long)heap0, 64ll << 10);
    /* the store is still usable */
    ASSERT_EQ(wb_store_last_trap(r.s)->kind, WB_TRAP_STACK_EXHAUSTED);
    ASSERT_EQ(call_i32(&r, "ok", NULL, 0), 42);
    ASSERT_EQ(wb_store_last_trap(r.s)->kind, WB_TRAP_NONE);
    rt_close(&r);
    buf_release(&bin);
}

TEST(robust_recursion_value_stack_exhausted) {
    buf bin = recursion_module();
    rt r;
    wb_store_limits lim = {.max_call_depth = 100000, .value_stack_mb = 4};
    rt_open(&r, NULL, &lim, &bin);
    rt_instantiate(&r, NULL, 0);
    for (int i = 0; i < 1000; i++) {
        expect_exhausted(&r, "big");
        /* 4 MiB of 8-byte slots and >= 1,000 slots per frame: at most ~524 frames */
        ASSERT_LE(wb_store_last_trap(r.s)->total_frames, 525);
        ASSERT_GE(wb_store_last_trap(r.s)->total_frames, 100);
    }
    ASSERT_EQ(call_i32(&r, "ok", NULL, 0), 42);
    /* and the depth limit of this store */
    expect_exhausted(&r, "f");
    ASSERT_GE(wb_store_last_trap(r.s)->total_frames, 99000);
    ASSERT_EQ(call_i32(&r, "ok", NULL, 0), 42);
    rt_close(&r);
    buf_release(&bin);
}

TEST(robust_recursion_small_depth_limit) {
    buf bin = recursion_module();
    rt r;
    wb_store_limits lim = {.max_call_depth = 50, .value_stack_mb = 1};
    rt_open(&r, NULL, &lim, &bin);
    rt_instantiate(&r, NULL, 0);
    expect_exhausted(&r, "f");
    uint32_t depth = wb_store_last_trap(r.s)->total_frames;
    ASSERT_GE(depth, 49);
    ASSERT_LE(depth, 51);
    ASSERT_EQ(call_i32(&r, "ok", NULL, 0), 42);
    rt_close(&r);
    buf_release(&bin);
}

/* ==== 7. loads and stores at the 4 GiB edge ==== */

typedef struct mem_op {
    uint8_t opcode;
    const char *name;
    char type;    /* value type letter */
    uint8_t size; /* bytes accessed */
    bool is_store, is_signed;
} mem_op;

static const mem_op mem_ops[] = {
    {0x28, "i32.load", 'i', 4, false, false},    {0x29, "i64.load", 'I', 8, false, false},
    {0x2a, "f32.load", 'f', 4, false, false},    {0x2b, "f64.load", 'F', 8, false, false},
    {0x2c, "i32.load8_s", 'i', 1, false, true},  {0x2d, "i32.load8_u", 'i', 1, false, false},
    {0x2e, "i32.load16_s", 'i', 2, false, true}, {0x2f, "i32.load16_u", 'i', 2, false, false},
    {0x30, "i64.load8_s", 'I', 1, false, true},  {0x31, "i64.load8_u", 'I', 1, false, false},
    {0x32, "i64.load16_s", 'I', 2, false, true}, {0x33, "i64.load16_u", 'I', 2, false, false},
    {0x34, "i64.load32_s", 'I', 4, false, true}, {0x35, "i64.load32_u", 'I', 4, false, false},
    {0x36, "i32.store", 'i', 4, true, false},    {0x37, "i64.store", 'I', 8, true, false},
    {0x38, "f32.store", 'f', 4, true, false},    {0x39, "f64.store", 'F', 8, true, false},
    {0x3a, "i32.store8", 'i', 1, true, false},   {0x3b, "i32.store16", 'i', 2, true, false},
    {0x3c, "i64.store8", 'I', 1, true, false},   {0x3d, "i64.store16", 'I', 2, true, false},
    {0x3e, "i64.store32", 'I', 4, true, false},
};
#define NMEM_OPS (sizeof mem_ops / sizeof mem_ops[0])
static const uint32_t edge_offsets[] = {0, 1, 0xFFFFFFFFu};
#define NOFFSETS 3
#define MEM_END  65536u
#define TAIL     16 /* known bytes at the end of memory */

static void edge_export_name(char *out, size_t size, const mem_op *op, int k) {
    snprintf(out, size, "%s/%d", op->name, k);
}

/* For every op and offset, an export "<op>/<k>": loads (i32 addr) -> T, stores (i32 addr, T). One
 * page of memory whose last TAIL bytes are 0x81, 0x82, ... */
static buf edge_module(void) {
    modb mb = {0};
    uint32_t load_type[4], store_type[4];
    const char *letters = "iIfF";
    for (int i = 0; i < 4; i++) {
        char res[2] = {letters[i], 0}, params[3] = {'i', letters[i], 0};
        load_type[i] = mb_type(&mb, "i", res);
        store_type[i] = mb_type(&mb, params, "");
    }
    mb_memory(&mb, 1, 1);
    mb_export(&mb, "mem", WB_EXTERN_MEMORY, 0);
    for (size_t i = 0; i < NMEM_OPS; i++) {
        const mem_op *op = &mem_ops[i];
        int ti = (int)(strchr(letters, op->type) - letters);
        for (int k = 0; k < NOFFSETS; k++) {
            buf body = {0};
            buf_put(&body, BYTES(0x00, 0x20, 0x00));
            if (op->is_store) buf_put(&body, BYTES(0x20, 0x01));
            buf_u8(&body, op->opcode);
            buf_u8(&body, 0x00); /* align 1 */
            buf_u32(&body, edge_offsets[k]);
            buf_u8(&body, 0x0b);
            uint32_t f =
                mb_func(&mb, op->is_store ? store_type[ti] : load_type[ti], body.p, body.n);
            buf_release(&body);
            char name[32];
            edge_export_name(name, sizeof name, op, k);
            mb_export(&mb, name, WB_EXTERN_FUNC, f);
        }
    }
    uint8_t tail[TAIL];
    for (int i = 0; i < TAIL; i++) tail[i] = (uint8_t)(0x81 + i);
    mb_data(&mb, MEM_END - TAIL, tail, TAIL);
    return mb_finish(&mb);
}

static wb_value value_of(char type, uint64_t bits) {
    switch (type) {
    case 'i': return v_i32((int32_t)(uint32_t)bits);
    case 'I': return v_i64((int64_t)bits);
    case 'f': return v_f32_bits((uint32_t)bits);
    default: return v_f64_bits(bits);
    }
}

static uint64_t bits_of(const wb_value *v) {
    switch (v->type) {
    case WB_I32: return (uint32_t)v->of.i32;
    case WB_I64: return (uint64_t)v->of.i64;
    case WB_F32: return v->of.f32;
    default: return v->of.f64;
    }
}

/* What a load of op->size bytes at addr gives (memory bytes as in `mem`). */
static uint64_t expected_load(const mem_op *op, const uint8_t *mem, uint32_t addr) {
    uint64_t raw = 0;
    for (int i = op->size - 1; i >= 0; i--) raw = (raw << 8) | mem[addr + (uint32_t)i];
    if (op->is_signed && (raw >> (op->size * 8 - 1)) & 1) raw |= ~(uint64_t)0 << (op->size * 8);
    if (op->type == 'i') raw &= 0xffffffffu;
    return raw;
}

/* Calls export (op, k) at addr; returns the call's rc, the loaded value in *out. */
static int edge_call(rt *r, const mem_op *op, int k, uint32_t addr, uint64_t store_bits,
                     uint64_t *out, wb_error *err) {
    char name[32];
    edge_export_name(name, sizeof name, op, k);
    wb_value args[2] = {v_i32((int32_t)addr), value_of(op->type, store_bits)};
    wb_value res;
    memset(&res, 0, sizeof res);
    int rc = rt_call(r, name, args, op->is_store ? 2 : 1, &res, op->is_store ? 0 : 1, err);
    if (rc == 0 && !op->is_store) *out = bits_of(&res);
    return rc;
}

static void expect_oob(rt *r, const mem_op *op, int k, uint32_t addr, const uint8_t *mem) {
    wb_error err;
    uint64_t got = 0;
    uint8_t before[TAIL];
    memcpy(before, mem + MEM_END - TAIL, TAIL);
    int rc = edge_call(r, op, k, addr, 0x1122334455667788ull, &got, &err);
    if (rc != -1)
        wb_test_fail(__FILE__, __LINE__, "%s offset=0x%x at 0x%x: no trap (rc %d, got 0x%llx)",
                     op->name, edge_offsets[k], addr, rc, (unsigned long long)got);
    ASSERT_EQ(err.code, WB_ETRAP);
    ASSERT_STR_CONTAINS(err.msg, "out of bounds memory access");
    ASSERT_EQ(wb_store_last_trap(r->s)->kind, WB_TRAP_MEMORY_OOB);
    /* a trapping store writes nothing, not even the in-bounds part of a straddling access */
    if (memcmp(before, mem + MEM_END - TAIL, TAIL) != 0)
        wb_test_fail(__FILE__, __LINE__, "%s offset=0x%x at 0x%x: partial write before the trap",
                     op->name, edge_offsets[k], addr);
}

static void expect_in_bounds(rt *r, const mem_op *op, int k, uint32_t addr, uint8_t *mem) {
    wb_error err;
    uint64_t got = 0;
    uint32_t ea = addr + edge_offsets[k];
    if (!op->is_store) {
        int rc = edge_call(r, op, k, addr, 0, &got, &err);
        if (rc != 0)
            wb_test_fail(__FILE__, __LINE__, "%s offset=0x%x at 0x%x: %s", op->name,
                         edge_offsets[k], addr, err.msg);
        ASSERT_U64_EQ(got, expected_load(op, mem, ea));
        return;
    }
    uint8_t saved[8];
    memcpy(saved, mem + ea, op->size);
    const uint64_t value = 0x0102030405060708ull ^ ((uint64_t)op->opcode << 56);
    int rc = edge_call(r, op, k, addr, value, &got, &err);
    if (rc != 0)
        wb_test_fail(__FILE__, __LINE__, "%s offset=0x%x at 0x%x: %s", op->name, edge_offsets[k],
                     addr, err.msg);
    for (int i = 0; i < op->size; i++)
        ASSERT_EQ(mem[ea + (uint32_t)i], (uint8_t)(value >> (8 * i)));
    memcpy(mem + ea, saved, op->size);
}

static void run_edge_matrix(const wb_config *cfg) {
    buf bin = edge_module();
    rt r;
    rt_open(&r, cfg, NULL, &bin);
    rt_instantiate(&r, NULL, 0);
    wb_extern mem = rt_export(&r, "mem", WB_EXTERN_MEMORY);
    ASSERT_U64_EQ(wb_memory_size(mem.of.memory), MEM_END);
    uint8_t *data = wb_memory_data(mem.of.memory);
    for (int i = 0; i < TAIL; i++) ASSERT_EQ(data[MEM_END - TAIL + (uint32_t)i], 0x81 + i);
    for (size_t i = 0; i < NMEM_OPS; i++) {
        const mem_op *op = &mem_ops[i];
        for (int k = 0; k < NOFFSETS; k++) {
            expect_oob(&r, op, k, 0xFFFFFFFFu, data);
            expect_oob(&r, op, k, 0xFFFFFFF0u, data);
            expect_oob(&r, op, k, 0x80000000u, data);
            expect_oob(&r, op, k, MEM_END, data);
        }
        /* straddling the end by one byte, through the address or the offset */
        expect_oob(&r, op, 0, MEM_END - op->size + 1, data);
        expect_oob(&r, op, 1, MEM_END - op->size, data);
        /* offset 0xFFFFFFFF from address 0 */
        expect_oob(&r, op, 2, 0, data);
        /* the last valid addresses, and the first */
        expect_in_bounds(&r, op, 0, MEM_END - op->size, data);
        expect_in_bounds(&r, op, 1, MEM_END - op->size - 1, data);
        expect_in_bounds(&r, op, 0, MEM_END - TAIL, data);
        expect_in_bounds(&r, op, 0, 0, data);
    }
    /* the store still works after all those traps */
    uint64_t got = 0;
    wb_error err;
    ASSERT_EQ(edge_call(&r, &mem_ops[0], 0, MEM_END - 4, 0, &got, &err), 0);
    ASSERT_U64_EQ(got, 0x908f8e8d);
    rt_close(&r);
    buf_release(&bin);
}

TEST(robust_memory_edge_guarded) {
    run_edge_matrix(NULL);
}

TEST(robust_memory_edge_bounds_checked) {
    wb_config cfg = {.bounds_checks = true};
    run_edge_matrix(&cfg);
}

/* ==== 8. backtraces with names ==== */

TEST(robust_backtrace_names) {
    modb mb = {0};
    uint32_t tv = mb_type(&mb, "", "");
    /* 0 inner: calls 3; 1 middle: calls 0; 2 outer: calls 1; 3 (unnamed): traps */
    uint32_t inner = mb_func(&mb, tv, BYTES(0x00, 0x10, 0x03, 0x0b));
    uint32_t middle = mb_func(&mb, tv, BYTES(0x00, 0x10, 0x00, 0x0b));
    uint32_t outer = mb_func(&mb, tv, BYTES(0x00, 0x01, 0x10, 0x01, 0x0b));
    uint32_t leaf = mb_func(&mb, tv, BYTES(0x00, 0x01, 0x00, 0x0b));
    ASSERT_EQ(leaf, 3);
    mb_export(&mb, "run", WB_EXTERN_FUNC, outer);
    mb_export(&mb, "middle", WB_EXTERN_FUNC, middle);
    mb_name(&mb, inner, "inner");
    mb_name(&mb, middle, "middle");
    mb_name(&mb, outer, "outer");
    buf bin = mb_finish(&mb);
    rt r;
    rt_open(&r, NULL, NULL, &bin);
    ASSERT_STR_EQ(wb_module_func_name(r.m, 1), "middle");
    ASSERT_TRUE(wb_module_func_name(r.m, 3) == NULL);
    ASSERT_TRUE(wb_module_func_name(r.m, 4) == NULL);
    rt_instantiate(&r, NULL, 0);

    wb_error err;
    ASSERT_EQ(rt_call(&r, "run", NULL, 0, NULL, 0, &err), -1);
    ASSERT_EQ(err.code, WB_ETRAP);
    ASSERT_STR_CONTAINS(err.msg, "unreachable");
    const wb_trap_info *t = wb_store_last_trap(r.s);
    ASSERT_EQ(t->kind, WB_TRAP_UNREACHABLE);
    ASSERT_EQ(t->nframes, 4);
    ASSERT_EQ(t->total_frames, 4);
    ASSERT_EQ(t->frames[0].func_index, 3);
    ASSERT_TRUE(t->frames[0].name == NULL);
    ASSERT_TRUE(t->frames[0].module == r.m);
    ASSERT_EQ(t->frames[1].func_index, 0);
    ASSERT_STR_EQ(t->frames[1].name, "inner");
    ASSERT_EQ(t->frames[2].func_index, 1);
    ASSERT_STR_EQ(t->frames[2].name, "middle");
    ASSERT_EQ(t->frames[3].func_index, 2);
    ASSERT_STR_EQ(t->frames[3].name, "outer");

    char text[512];
    wb_trap_format_backtrace(t, text, sizeof text);
    ASSERT_STR_CONTAINS(text, "wasm backtrace:");
    const char *p0 = strstr(text, "0: <wasm function 3>");
    const char *p1 = strstr(text, "1: inner");
    const char *p2 = strstr(text, "2: middle");
    const char *p3 = strstr(text, "3: outer");
    if (!p0 || !p1 || !p2 || !p3 || !(p0 < p1 && p1 < p2 && p2 < p3))
        wb_test_fail(__FILE__, __LINE__, "backtrace not in order:\n%s", text);
    /* a short buffer is truncated, still terminated */
    char small[20];
    memset(small, 'x', sizeof small);
    wb_trap_format_backtrace(t, small, sizeof small);
    ASSERT_LT(strlen(small), sizeof small);

    /* entering in the middle: two frames */
    ASSERT_EQ(rt_call(&r, "middle", NULL, 0, NULL, 0, &err), -1);
    ASSERT_EQ(t->nframes, 3);
    ASSERT_STR_EQ(t->frames[2].name, "middle");
    rt_close(&r);
    buf_release(&bin);
}

TEST(robust_backtrace_truncated_at_max) {
    /* a trap 100 frames deep keeps WB_BACKTRACE_MAX frames and counts the rest */
    modb mb = {0};
    uint32_t ti = mb_type(&mb, "i", "");
    /* f(n): if n == 0 unreachable; f(n - 1) */
    uint32_t f = mb_func(&mb, ti,
                         BYTES(0x00, 0x20, 0x00, 0x45, 0x04, 0x40, 0x00, 0x0b, 0x20, 0x00, 0x41,
                               0x01, 0x6b, 0x10, 0x00, 0x0b));
    mb_export(&mb, "f", WB_EXTERN_FUNC, f);
    mb_name(&mb, f, "countdown");
    buf bin = mb_finish(&mb);
    rt r;
    rt_open(&r, NULL, NULL, &bin);
    rt_instantiate(&r, NULL, 0);
    wb_value arg = v_i32(99);
    wb_error err;
    ASSERT_EQ(rt_call(&r, "f", &arg, 1, NULL, 0, &err), -1);
    const wb_trap_info *t = wb_store_last_trap(r.s);
    ASSERT_EQ(t->kind, WB_TRAP_UNREACHABLE);
    ASSERT_EQ(t->nframes, WB_BACKTRACE_MAX);
    ASSERT_EQ(t->total_frames, 100);
    char text[4096];
    wb_trap_format_backtrace(t, text, sizeof text);
    ASSERT_STR_CONTAINS(text, "countdown");
    char more[64];
    snprintf(more, sizeof more, "... %u more frames", 100 - WB_BACKTRACE_MAX);
    ASSERT_STR_CONTAINS(text, more);
    rt_close(&r);
    buf_release(&bin);
}

/* ==== 9. memory.grow ==== */

/* (memory min max) with exports grow (i32)->i32, size ()->i32, load (i32)->i32,
 * store (i32 i32), and the memory "mem". */
static buf grow_module(uint32_t min, int64_t max) {
    modb mb = {0};
    uint32_t t_ii = mb_type(&mb, "i", "i"), t_i = mb_type(&mb, "", "i"),
             t_st = mb_type(&mb, "ii", "");
    mb_memory(&mb, min, max);
    uint32_t grow = mb_func(&mb, t_ii, BYTES(0x00, 0x20, 0x00, 0x40, 0x00, 0x0b));
    uint32_t size = mb_func(&mb, t_i, BYTES(0x00, 0x3f, 0x00, 0x0b));
    uint32_t load = mb_func(&mb, t_ii, BYTES(0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b));
    uint32_t store =
        mb_func(&mb, t_st, BYTES(0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b));
    mb_export(&mb, "grow", WB_EXTERN_FUNC, grow);
    mb_export(&mb, "size", WB_EXTERN_FUNC, size);
    mb_export(&mb, "load", WB_EXTERN_FUNC, load);
    mb_export(&mb, "store", WB_EXTERN_FUNC, store);
    mb_export(&mb, "mem", WB_EXTERN_MEMORY, 0);
    return mb_finish(&mb);
}

static int32_t grow(rt *r, uint32_t delta) {
    wb_value a = v_i32((int32_t)delta);
    return call_i32(r, "grow", &a, 1);
}

static int32_t load32(rt *r, uint32_t addr) {
    wb_value a = v_i32((int32_t)addr);
    return call_i32(r, "load", &a, 1);
}

static int store32(rt *r, uint32_t addr, uint32_t v) {
    wb_value a[2] = {v_i32((int32_t)addr), v_i32((int32_t)v)};
    wb_error err;
    return rt_call(r, "store", a, 2, NULL, 0, &err);
}

static void run_grow(const wb_config *cfg) {
    buf bin = grow_module(1, 3);
    rt r;
    rt_open(&r, cfg, NULL, &bin);
    rt_instantiate(&r, NULL, 0);
    ASSERT_EQ(call_i32(&r, "size", NULL, 0), 1);
    ASSERT_EQ(store32(&r, 65532, 0xdeadbeef), 0);
    ASSERT_EQ(store32(&r, 0, 0x01020304), 0);
    ASSERT_EQ(store32(&r, 65536, 1), -1); /* not yet */
    ASSERT_EQ(grow(&r, 1), 1);
    ASSERT_EQ(call_i32(&r, "size", NULL, 0), 2);
    ASSERT_EQ((uint32_t)load32(&r, 65532), 0xdeadbeef);
    ASSERT_EQ(load32(&r, 0), 0x01020304);
    ASSERT_EQ(load32(&r, 65536), 0); /* new pages are zero */
    ASSERT_EQ(store32(&r, 131068, 0xcafef00d), 0);
    ASSERT_EQ(store32(&r, 131069, 1), -1);
    ASSERT_EQ(grow(&r, 2), -1); /* 4 pages > max 3 */
    ASSERT_EQ(call_i32(&r, "size", NULL, 0), 2);
    ASSERT_EQ(grow(&r, 0xFFFFFFFFu), -1);
    ASSERT_EQ(grow(&r, 0x10000), -1);
    ASSERT_EQ(grow(&r, 1), 2);
    ASSERT_EQ(grow(&r, 0), 3);
    ASSERT_EQ(grow(&r, 1), -1);
    ASSERT_EQ((uint32_t)load32(&r, 65532), 0xdeadbeef);
    ASSERT_EQ((uint32_t)load32(&r, 131068), 0xcafef00d);
    ASSERT_EQ(store32(&r, 3 * 65536 - 4, 7), 0);
    ASSERT_EQ(store32(&r, 3 * 65536 - 3, 7), -1);
    /* the host sees the same bytes */
    wb_extern mem = rt_export(&r, "mem", WB_EXTERN_MEMORY);
    ASSERT_U64_EQ(wb_memory_size(mem.of.memory), 3 * 65536);
    uint32_t v;
    memcpy(&v, wb_memory_data(mem.of.memory) + 131068, 4);
    ASSERT_EQ(v, 0xcafef00d);
    ASSERT_EQ(wb_memory_limits(mem.of.memory).min, 3);
    rt_close(&r);
    buf_release(&bin);

    /* from zero pages, no maximum, under a store cap of 4 pages; the host grows it too */
    bin = grow_module(0, -1);
    wb_store_limits lim = {.max_memory = 4 * 65536};
    rt_open(&r, cfg, &lim, &bin);
    rt_instantiate(&r, NULL, 0);
    ASSERT_EQ(call_i32(&r, "size", NULL, 0), 0);
    ASSERT_EQ(store32(&r, 0, 1), -1);
    ASSERT_EQ(grow(&r, 1), 0);
    ASSERT_EQ(store32(&r, 100, 0x5555aaaa), 0);
    mem = rt_export(&r, "mem", WB_EXTERN_MEMORY);
    ASSERT_EQ(wb_memory_grow(mem.of.memory, 2), 1);
    ASSERT_EQ(call_i32(&r, "size", NULL, 0), 3);
    ASSERT_EQ((uint32_t)load32(&r, 100), 0x5555aaaa);
    ASSERT_EQ(store32(&r, 3 * 65536 - 4, 9), 0);
    ASSERT_EQ(grow(&r, 2), -1); /* over the store's cap */
    ASSERT_EQ(wb_memory_grow(mem.of.memory, 2), -1);
    ASSERT_EQ(grow(&r, 1), 3);
    ASSERT_EQ(load32(&r, 3 * 65536 - 4), 9);
    ASSERT_EQ((uint32_t)load32(&r, 100), 0x5555aaaa);
    ASSERT_EQ(grow(&r, 1), -1);
    rt_close(&r);
    buf_release(&bin);
}

TEST(robust_memory_grow_guarded) {
    run_grow(NULL);
}

TEST(robust_memory_grow_bounds_checked) {
    wb_config cfg = {.bounds_checks = true};
    run_grow(&cfg);
}

/* ==== 10. host functions ==== */

typedef struct host_env {
    int calls;
    int32_t last_a, last_b;
    uint32_t mem_word; /* read through wb_caller_memory */
} host_env;

/* (i32 a, i32 b) -> a * 1000 + b; counts calls and reads memory word 16 of the caller */
static int host_combine(wb_caller *c, void *env, wb_slot *slots) {
    host_env *e = env;
    e->calls++;
    e->last_a = slots[0].i32;
    e->last_b = slots[1].i32;
    wb_memory *mem = wb_caller_memory(c);
    if (mem && wb_memory_size(mem) >= 20) memcpy(&e->mem_word, wb_memory_data(mem) + 16, 4);
    slots[0].u64 = (uint32_t)(e->last_a * 1000 + e->last_b);
    return 0;
}

static int host_fail(wb_caller *c, void *env, wb_slot *slots) {
    host_env *e = env;
    e->calls++;
    return wb_caller_trap(c, "custom failure: the host says no");
}

TEST(robust_host_functions) {
    modb mb = {0};
    uint32_t t_comb = mb_type(&mb, "ii", "i"), t_v = mb_type(&mb, "", ""),
             t_i = mb_type(&mb, "i", "i");
    uint32_t imp_comb = mb_import_func(&mb, "env", "combine", t_comb);
    uint32_t imp_fail = mb_import_func(&mb, "env", "fail", t_v);
    mb_memory(&mb, 1, -1);
    /* use(x) = combine(x, 7) + 1 */
    uint32_t use = mb_func(
        &mb, t_i,
        BYTES(0x00, 0x20, 0x00, 0x41, 0x07, 0x10, (uint8_t)imp_comb, 0x41, 0x01, 0x6a, 0x0b));
    /* bad(): fail() */
    uint32_t bad = mb_func(&mb, t_v, BYTES(0x00, 0x10, (uint8_t)imp_fail, 0x0b));
    /* outer(): bad() */
    uint32_t outer = mb_func(&mb, t_v, BYTES(0x00, 0x10, (uint8_t)bad, 0x0b));
    mb_export(&mb, "use", WB_EXTERN_FUNC, use);
    mb_export(&mb, "outer", WB_EXTERN_FUNC, outer);
    mb_name(&mb, bad, "bad");
    mb_name(&mb, outer, "outer");
    mb_data(&mb, 16, BYTES(0x78, 0x56, 0x34, 0x12));
    buf bin = mb_finish(&mb);

    rt r;
    rt_open(&r, NULL, NULL, &bin);
    ASSERT_EQ(wb_module_import_count(r.m), 2);
    wb_import_info im;
    wb_module_import(r.m, 0, &im);
    ASSERT_EQ(im.kind, WB_EXTERN_FUNC);
    ASSERT_EQ(im.func->nparams, 2);
    ASSERT_EQ(im.func->nresults, 1);
    host_env env = {0};
    wb_extern imports[2] = {{.kind = WB_EXTERN_FUNC}, {.kind = WB_EXTERN_FUNC}};
    imports[0].of.func = wb_func_new_host(r.s, im.func, host_combine, &env, "combine");
    wb_module_import(r.m, 1, &im);
    imports[1].of.func = wb_func_new_host(r.s, im.func, host_fail, &env, "fail");
    /* the wrong function type for an import is a link error */
    wb_error err = {0};
    wb_extern swapped[2] = {imports[1], imports[0]};
    wb_instance *inst = NULL;
    ASSERT_EQ(wb_instance_new(r.s, r.m, swapped, 2, &inst, &err), -1);
    ASSERT_EQ(err.code, WB_ELINK);
    rt_instantiate(&r, imports, 2);

    wb_value arg = v_i32(5);
    ASSERT_EQ(call_i32(&r, "use", &arg, 1), 5008);
    ASSERT_EQ(env.calls, 1);
    ASSERT_EQ(env.last_a, 5);
    ASSERT_EQ(env.last_b, 7);
    ASSERT_EQ(env.mem_word, 0x12345678);
    /* the host function called directly */
    wb_value args[2] = {v_i32(-3), v_i32(4)}, res;
    ASSERT_EQ(wb_func_call(r.s, imports[0].of.func, args, 2, &res, 1, &err), 0);
    ASSERT_EQ(res.of.i32, -2996);
    ASSERT_EQ(env.calls, 2);
    /* wrong argument count and types are refused before the call */
    ASSERT_EQ(wb_func_call(r.s, imports[0].of.func, args, 1, &res, 1, &err), -1);
    ASSERT_NE(err.code, WB_ETRAP);
    wb_value wrong[2] = {v_i64(1), v_i32(2)};
    ASSERT_EQ(wb_func_call(r.s, imports[0].of.func, wrong, 2, &res, 1, &err), -1);
    ASSERT_NE(err.code, WB_ETRAP);
    ASSERT_EQ(env.calls, 2);

    /* a host trap with its own message, two wasm frames under it */
    ASSERT_EQ(rt_call(&r, "outer", NULL, 0, NULL, 0, &err), -1);
    ASSERT_EQ(err.code, WB_ETRAP);
    ASSERT_STR_CONTAINS(err.msg, "custom failure: the host says no");
    const wb_trap_info *t = wb_store_last_trap(r.s);
    ASSERT_EQ(t->kind, WB_TRAP_HOST);
    ASSERT_STR_EQ(t->message, "custom failure: the host says no");
    ASSERT_EQ(t->nframes, 2);
    ASSERT_STR_EQ(t->frames[0].name, "bad");
    ASSERT_STR_EQ(t->frames[1].name, "outer");
    ASSERT_EQ(env.calls, 3);
    /* the store is fine afterwards */
    arg = v_i32(-1);
    ASSERT_EQ(call_i32(&r, "use", &arg, 1), -992);
    ASSERT_EQ(wb_store_last_trap(r.s)->kind, WB_TRAP_NONE);
    rt_close(&r);
    buf_release(&bin);
}

/* A host function that traps, called 10,000 times: no growth, the store stays usable. */
TEST(robust_host_trap_repeated) {
    modb mb = {0};
    uint32_t t_v = mb_type(&mb, "", "");
    uint32_t imp = mb_import_func(&mb, "env", "fail", t_v);
    uint32_t f = mb_func(&mb, t_v, BYTES(0x00, 0x10, (uint8_t)imp, 0x0b));
    mb_export(&mb, "f", WB_EXTERN_FUNC, f);
    buf bin = mb_finish(&mb);
    rt r;
    rt_open(&r, NULL, NULL, &bin);
    host_env env = {0};
    wb_import_info im;
    wb_module_import(r.m, 0, &im);
    wb_extern imp_ext = {.kind = WB_EXTERN_FUNC};
    imp_ext.of.func = wb_func_new_host(r.s, im.func, host_fail, &env, NULL);
    rt_instantiate(&r, &imp_ext, 1);
    wb_error err;
    /* the first call lowers f (its code arena is allocated then) */
    ASSERT_EQ(rt_call(&r, "f", NULL, 0, NULL, 0, &err), -1);
    size_t heap0 = heap_in_use();
    for (int i = 0; i < 10000; i++) {
        ASSERT_EQ(rt_call(&r, "f", NULL, 0, NULL, 0, &err), -1);
        ASSERT_EQ(wb_store_last_trap(r.s)->kind, WB_TRAP_HOST);
    }
    ASSERT_LT((long long)heap_in_use() - (long long)heap0, 64ll << 10);
    ASSERT_EQ(env.calls, 10001);
    rt_close(&r);
    buf_release(&bin);
}

/* A host function that calls back into wasm, which calls the host again, forever: each round trip
 * nests a host entry on the native stack, so the engine must bound the nesting (with the wasm call
 * depth or separately) and trap "call stack exhausted" rather than overflow the native stack. */
typedef struct reenter_env {
    wb_func *target; /* the exported wasm function to call back */
    uint32_t depth, max_depth;
} reenter_env;

static int host_reenter(wb_caller *c, void *env, wb_slot *slots) {
    reenter_env *e = env;
    wb_error err;
    e->depth++;
    if (e->depth > e->max_depth) e->max_depth = e->depth;
    int rc = wb_func_call(wb_caller_store(c), e->target, NULL, 0, NULL, 0, &err);
    e->depth--;
    if (rc == 0) return 0;
    /* pass the inner trap on as this host function's trap */
    char message[sizeof wb_store_last_trap(wb_caller_store(c))->message];
    snprintf(message, sizeof message, "%s", wb_store_last_trap(wb_caller_store(c))->message);
    return wb_caller_trap(c, message);
}

static void run_reentry(const wb_store_limits *lim) {
    modb mb = {0};
    uint32_t t_v = mb_type(&mb, "", ""), t_i = mb_type(&mb, "", "i");
    uint32_t imp = mb_import_func(&mb, "env", "reenter", t_v);
    uint32_t f = mb_func(&mb, t_v, BYTES(0x00, 0x10, (uint8_t)imp, 0x0b));
    uint32_t ok = mb_func(&mb, t_i, BYTES(0x00, 0x41, 0x2a, 0x0b));
    mb_export(&mb, "f", WB_EXTERN_FUNC, f);
    mb_export(&mb, "ok", WB_EXTERN_FUNC, ok);
    buf bin = mb_finish(&mb);
    rt r;
    rt_open(&r, NULL, lim, &bin);
    reenter_env env = {0};
    wb_import_info im;
    wb_module_import(r.m, 0, &im);
    wb_extern imp_ext = {.kind = WB_EXTERN_FUNC};
    imp_ext.of.func = wb_func_new_host(r.s, im.func, host_reenter, &env, "reenter");
    rt_instantiate(&r, &imp_ext, 1);
    env.target = rt_export(&r, "f", WB_EXTERN_FUNC).of.func;
    wb_error err;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(rt_call(&r, "f", NULL, 0, NULL, 0, &err), -1);
        ASSERT_EQ(err.code, WB_ETRAP);
        ASSERT_STR_CONTAINS(err.msg, "call stack exhausted");
        ASSERT_EQ(env.depth, 0);
        ASSERT_GE(env.max_depth, 10);
    }
    ASSERT_EQ(call_i32(&r, "ok", NULL, 0), 42);
    rt_close(&r);
    buf_release(&bin);
}

TEST(robust_host_reentry_recursion_default_limits) {
    run_reentry(NULL);
}

TEST(robust_host_reentry_recursion_small_limits) {
    wb_store_limits lim = {.max_call_depth = 2000, .value_stack_mb = 4};
    run_reentry(&lim);
}

/* Re-raising the store's last trap message from a host function (a natural way to propagate an
 * inner failure) must keep the message: the argument is the store's own trap buffer. */
static int host_rethrow_indirect(wb_caller *c, void *env, wb_slot *slots) {
    wb_store *s = wb_caller_store(c);
    wb_func *target = *(wb_func **)env;
    wb_error err;
    if (wb_func_call(s, target, NULL, 0, NULL, 0, &err) == 0) return 0;
    return wb_caller_trap(c, wb_store_last_trap(s)->message);
}

TEST(robust_host_trap_rethrows_last_message) {
    modb mb = {0};
    uint32_t t_v = mb_type(&mb, "", "");
    uint32_t imp = mb_import_func(&mb, "env", "rethrow", t_v);
    uint32_t outer = mb_func(&mb, t_v, BYTES(0x00, 0x10, (uint8_t)imp, 0x0b));
    uint32_t boom = mb_func(&mb, t_v, BYTES(0x00, 0x00, 0x0b));
    mb_export(&mb, "outer", WB_EXTERN_FUNC, outer);
    mb_export(&mb, "boom", WB_EXTERN_FUNC, boom);
    buf bin = mb_finish(&mb);
    rt r;
    rt_open(&r, NULL, NULL, &bin);
    /* the host function needs the export, which needs the instance: go through a table of one */
    wb_func *target_slot[1] = {NULL};
    wb_import_info im;
    wb_module_import(r.m, 0, &im);
    wb_extern imp_ext = {.kind = WB_EXTERN_FUNC};
    imp_ext.of.func = wb_func_new_host(r.s, im.func, host_rethrow_indirect, target_slot, NULL);
    rt_instantiate(&r, &imp_ext, 1);
    target_slot[0] = rt_export(&r, "boom", WB_EXTERN_FUNC).of.func;
    wb_error err;
    ASSERT_EQ(rt_call(&r, "outer", NULL, 0, NULL, 0, &err), -1);
    ASSERT_EQ(wb_store_last_trap(r.s)->kind, WB_TRAP_HOST);
    ASSERT_STR_EQ(wb_store_last_trap(r.s)->message, "unreachable");
    ASSERT_STR_CONTAINS(err.msg, "unreachable");
    rt_close(&r);
    buf_release(&bin);
}
