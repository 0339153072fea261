/* SIMD (v128) through the public API: validation messages (lane indices, alignment, types,
 * illegal sub-opcodes), v128 arguments and results, v128.const in a global initialiser, the
 * printed form of a v128, dead code holding SIMD immediates, and 16-byte accesses at the end of
 * memory in both memory modes. Modules are assembled by hand: one function type, one function,
 * optionally a one-page memory and a v128 global, exports "f" (and "g"). */
#include "harness.h"

#include "wasm/wasm.h"

typedef struct bytes {
    uint8_t b[1024];
    size_t n;
} bytes;

static void put(bytes *out, const uint8_t *p, size_t n) {
    ASSERT_TRUE(out->n + n <= sizeof out->b);
    memcpy(out->b + out->n, p, n);
    out->n += n;
}

/* A section with a payload shorter than 128 bytes (one-byte LEB128 size). */
static void put_section(bytes *out, uint8_t id, const uint8_t *payload, size_t n) {
    ASSERT_TRUE(n < 128);
    uint8_t hdr[2] = {id, (uint8_t)n};
    put(out, hdr, 2);
    put(out, payload, n);
}

#define ARR(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

enum { WITH_MEMORY = 1, WITH_GLOBAL = 2 };

/* sig: an encoded functype; body: locals vector, code, final `end` (< 126 bytes). The global
 * (WITH_GLOBAL) is an immutable v128 initialised with v128.const i32x4 1 2 3 4, exported "g". */
static bytes build(const uint8_t *sig, size_t sig_len, const uint8_t *body, size_t body_len,
                   int flags) {
    bytes m = {.n = 0};
    uint8_t payload[160];
    put(&m, ARR(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
    payload[0] = 1;
    memcpy(payload + 1, sig, sig_len);
    put_section(&m, 1, payload, 1 + sig_len);
    put_section(&m, 3, ARR(0x01, 0x00));
    if (flags & WITH_MEMORY) put_section(&m, 5, ARR(0x01, 0x00, 0x01));
    if (flags & WITH_GLOBAL)
        put_section(&m, 6,
                    ARR(0x01, 0x7b, 0x00, 0xfd, 0x0c, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0,
                        0, 0x0b));
    if (flags & WITH_GLOBAL)
        put_section(&m, 7, ARR(0x02, 0x01, 'f', 0x00, 0x00, 0x01, 'g', 0x03, 0x00));
    else
        put_section(&m, 7, ARR(0x01, 0x01, 'f', 0x00, 0x00));
    ASSERT_TRUE(body_len < 126);
    payload[0] = 1;
    payload[1] = (uint8_t)body_len;
    memcpy(payload + 2, body, body_len);
    put_section(&m, 10, payload, 2 + body_len);
    return m;
}

static int compile(const uint8_t *sig, size_t sig_len, const uint8_t *body, size_t body_len,
                   int flags, wb_error *err) {
    bytes m = build(sig, sig_len, body, body_len, flags);
    wb_module *mod = NULL;
    memset(err, 0, sizeof *err);
    int rc = wb_module_new(NULL, m.b, m.n, &mod, err);
    if (rc == 0) wb_module_free(mod);
    return rc;
}

#define SIG_VOID  ARR(0x60, 0x00, 0x00)
#define SIG_V128  ARR(0x60, 0x00, 0x01, 0x7b)
#define SIG_VV_V  ARR(0x60, 0x02, 0x7b, 0x7b, 0x01, 0x7b)
#define SIG_I32_V ARR(0x60, 0x01, 0x7f, 0x01, 0x7b)
#define V128_ZERO 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

#define ASSERT_FAILS(rc, err, want_code, text)                                                     \
    do {                                                                                           \
        ASSERT_EQ(rc, -1);                                                                         \
        ASSERT_EQ((err).code, want_code);                                                          \
        ASSERT_STR_CONTAINS((err).msg, text);                                                      \
    } while (0)

TEST(simd_splat_is_valid) {
    wb_error err;
    /* i32.const 0 i8x16.splat drop */
    ASSERT_EQ(compile(SIG_VOID, ARR(0x00, 0x41, 0x00, 0xfd, 0x0f, 0x1a, 0x0b), 0, &err), 0);
}

TEST(simd_extract_lane_index) {
    wb_error err;
    /* v128.const 0 i8x16.extract_lane_s 16 drop */
    int rc = compile(SIG_VOID, ARR(0x00, V128_ZERO, 0xfd, 0x15, 16, 0x1a, 0x0b), 0, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "invalid lane index");
    /* lane 15 is the last one */
    rc = compile(SIG_VOID, ARR(0x00, V128_ZERO, 0xfd, 0x15, 15, 0x1a, 0x0b), 0, &err);
    ASSERT_EQ(rc, 0);
}

TEST(simd_load_lane_index) {
    wb_error err;
    /* i32.const 0 v128.const 0 v128.load64_lane align=3 offset=0 lane 2 drop */
    int rc = compile(SIG_VOID, ARR(0x00, 0x41, 0x00, V128_ZERO, 0xfd, 0x57, 3, 0, 2, 0x1a, 0x0b),
                     WITH_MEMORY, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "invalid lane index");
}

TEST(simd_shuffle_lane_index) {
    wb_error err;
    /* v128.const 0 v128.const 0 i8x16.shuffle with a 32 drop */
    int rc = compile(SIG_VOID,
                     ARR(0x00, V128_ZERO, V128_ZERO, 0xfd, 0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                         11, 12, 13, 14, 32, 0x1a, 0x0b),
                     0, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "invalid lane index");
}

TEST(simd_alignment) {
    wb_error err;
    /* i32.const 0 v128.load align=2^5 drop: natural is 2^4 */
    int rc =
        compile(SIG_VOID, ARR(0x00, 0x41, 0x00, 0xfd, 0x00, 5, 0, 0x1a, 0x0b), WITH_MEMORY, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "alignment must not be larger than natural");
    /* v128.load32_splat align=2^3: natural is 2^2 */
    rc = compile(SIG_VOID, ARR(0x00, 0x41, 0x00, 0xfd, 0x09, 3, 0, 0x1a, 0x0b), WITH_MEMORY, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "alignment must not be larger than natural");
    rc = compile(SIG_VOID, ARR(0x00, 0x41, 0x00, 0xfd, 0x00, 4, 0, 0x1a, 0x0b), WITH_MEMORY, &err);
    ASSERT_EQ(rc, 0);
}

TEST(simd_needs_memory) {
    wb_error err;
    int rc = compile(SIG_VOID, ARR(0x00, 0x41, 0x00, 0xfd, 0x00, 4, 0, 0x1a, 0x0b), 0, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "unknown memory");
}

TEST(simd_type_mismatch) {
    wb_error err;
    /* v128.const 0 i32.const 1 i32x4.add */
    int rc =
        compile(SIG_VOID, ARR(0x00, V128_ZERO, 0x41, 0x01, 0xfd, 0xae, 0x01, 0x1a, 0x0b), 0, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "type mismatch");
    /* a shift count is an i32: v128.const 0 v128.const 0 i32x4.shl */
    rc = compile(SIG_VOID, ARR(0x00, V128_ZERO, V128_ZERO, 0xfd, 0xab, 0x01, 0x1a, 0x0b), 0, &err);
    ASSERT_FAILS(rc, err, WB_EINVALID, "type mismatch");
}

TEST(simd_illegal_opcode) {
    wb_error err;
    /* 0xfd 0x9a is a hole in the opcode space; so is anything past 0xff */
    int rc = compile(SIG_VOID, ARR(0x00, V128_ZERO, 0xfd, 0x9a, 0x01, 0x1a, 0x0b), 0, &err);
    ASSERT_FAILS(rc, err, WB_EMALFORMED, "illegal opcode");
    rc = compile(SIG_VOID, ARR(0x00, V128_ZERO, 0xfd, 0x80, 0x02, 0x1a, 0x0b), 0, &err);
    ASSERT_FAILS(rc, err, WB_EMALFORMED, "illegal opcode");
}

/* ---- running ---- */

typedef struct run {
    wb_module *m;
    wb_store *s;
    wb_instance *inst;
} run;

static void run_start(run *r, const uint8_t *sig, size_t sig_len, const uint8_t *body,
                      size_t body_len, int flags, bool bounds_checks) {
    wb_error err;
    wb_config cfg = {.bounds_checks = bounds_checks};
    bytes m = build(sig, sig_len, body, body_len, flags);
    if (wb_module_new(&cfg, m.b, m.n, &r->m, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "wb_module_new: %s", err.msg);
    r->s = wb_store_new(NULL, &err);
    ASSERT_TRUE(r->s != NULL);
    if (wb_instance_new(r->s, r->m, NULL, 0, &r->inst, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "wb_instance_new: %s", err.msg);
}

static void run_end(run *r) {
    wb_store_free(r->s);
    wb_module_free(r->m);
}

static int call_f(run *r, const wb_value *args, uint32_t nargs, wb_value *result, wb_error *err) {
    wb_extern f;
    ASSERT_TRUE(wb_instance_export(r->inst, "f", 1, &f));
    return wb_func_call(r->s, f.of.func, args, nargs, result, 1, err);
}

static wb_value v128_of(const uint32_t lanes[4]) {
    wb_value v;
    memset(&v, 0, sizeof v);
    v.type = WB_V128;
    memcpy(v.of.v128, lanes, 16);
    return v;
}

TEST(simd_args_and_results) {
    run r;
    wb_error err;
    wb_value res;
    char text[128];
    /* (param v128 v128) (result v128): local.get 0 local.get 1 i32x4.add */
    run_start(&r, SIG_VV_V, ARR(0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0xae, 0x01, 0x0b), 0, false);
    wb_value args[2] = {v128_of((const uint32_t[]){1, 2, 3, 0xffffffffu}),
                        v128_of((const uint32_t[]){10, 20, 30, 2})};
    ASSERT_EQ(call_f(&r, args, 2, &res, &err), 0);
    ASSERT_EQ(res.type, WB_V128);
    wb_value_format(&res, text, sizeof text);
    ASSERT_STR_EQ(text, "i32x4 0x0000000b 0x00000016 0x00000021 0x00000001");
    run_end(&r);
}

TEST(simd_global_initializer) {
    run r;
    wb_extern g;
    char text[128];
    run_start(&r, SIG_VOID, ARR(0x00, 0x0b), WITH_GLOBAL, false);
    ASSERT_TRUE(wb_instance_export(r.inst, "g", 1, &g));
    wb_value v = wb_global_get(g.of.global);
    wb_value_format(&v, text, sizeof text);
    ASSERT_STR_EQ(text, "i32x4 0x00000001 0x00000002 0x00000003 0x00000004");
    run_end(&r);
}

/* Unreachable code is skipped by the lowering: immediates holding 0x0b (end) and 0x05 (else)
 * bytes must be skipped whole. */
TEST(simd_dead_code_immediates) {
    run r;
    wb_error err;
    wb_value res;
    char text[128];
    /* (result v128): block br 0 v128.const 0x0b.. i8x16.shuffle 0x05.. drop end
     * v128.const i32x4 7 0 0 0 */
    run_start(&r, SIG_V128,
              ARR(0x00, 0x02, 0x40, 0x0c, 0x00, 0xfd, 0x0c, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                  0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0xfd, 0x0d, 5, 5, 5,
                  5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0x1a, 0x0b, 0xfd, 0x0c, 7, 0, 0, 0, 0, 0,
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b),
              0, false);
    ASSERT_EQ(call_f(&r, NULL, 0, &res, &err), 0);
    wb_value_format(&res, text, sizeof text);
    ASSERT_STR_EQ(text, "i32x4 0x00000007 0x00000000 0x00000000 0x00000000");
    run_end(&r);
}

/* v128.load of 16 bytes at address a: in bounds up to 65520, a trap from 65521 on, in both memory
 * modes (the guarded one relies on the guard region for the last bytes). */
static void load_at_end(bool bounds_checks) {
    run r;
    wb_error err;
    wb_value res;
    /* (param i32) (result v128): local.get 0 v128.load align=0 offset=0 */
    run_start(&r, SIG_I32_V, ARR(0x00, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x0b), WITH_MEMORY,
              bounds_checks);
    wb_value arg = {.type = WB_I32};
    arg.of.i32 = 65520;
    ASSERT_EQ(call_f(&r, &arg, 1, &res, &err), 0);
    arg.of.i32 = 65521;
    ASSERT_EQ(call_f(&r, &arg, 1, &res, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "out of bounds memory access");
    arg.of.i32 = -1;
    ASSERT_EQ(call_f(&r, &arg, 1, &res, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "out of bounds memory access");
    run_end(&r);
}

TEST(simd_load_at_end_guarded) {
    load_at_end(false);
}

TEST(simd_load_at_end_checked) {
    load_at_end(true);
}

/* Operand reuse: the result may be written over an operand (i8x16.shuffle of a value with
 * itself into the same local), so handlers must read every lane before writing. */
TEST(simd_shuffle_in_place) {
    run r;
    wb_error err;
    wb_value res;
    char text[128];
    /* (param v128 v128) (result v128): local.get 0 local.get 0 i8x16.shuffle 15..0 local.tee 0 */
    run_start(&r, SIG_VV_V,
              ARR(0x00, 0x20, 0x00, 0x20, 0x00, 0xfd, 0x0d, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                  4, 3, 2, 1, 0, 0x22, 0x00, 0x0b),
              0, false);
    wb_value args[2] = {v128_of((const uint32_t[]){0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c}),
                        v128_of((const uint32_t[]){0, 0, 0, 0})};
    ASSERT_EQ(call_f(&r, args, 2, &res, &err), 0);
    wb_value_format(&res, text, sizeof text);
    ASSERT_STR_EQ(text, "i32x4 0x0c0d0e0f 0x08090a0b 0x04050607 0x00010203");
    run_end(&r);
}
