/* Functions are lowered at their first call: through a direct call, call_indirect and a host
 * entry; a function never called is never lowered; wb__module_lower_all lowers the rest; threads
 * racing to make the first calls of one shared module all get correct results. */
#include <pthread.h>

#include "harness.h"

#include "wasm/module.h"
#include "wasm/wasm.h"

/* (module
 *   (type $t (func (param i32) (result i32)))
 *   (table 2 funcref)
 *   (elem (i32.const 0) $double $inc)
 *   (func $inc (param i32) (result i32) local.get 0 i32.const 1 i32.add)
 *   (func $double (param i32) (result i32) local.get 0 local.get 0 i32.add)
 *   (func $unused (param i32) (result i32) local.get 0 i32.const 7 i32.mul)
 *   (func (export "f") (param i32) (result i32)
 *     local.get 0 call $inc
 *     i32.const 0 call_indirect (type $t)))      ;; f(x) = 2 * (x + 1) */
static const uint8_t lazy_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01,
    0x7f, 0x03, 0x05, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x02, 0x07,
    0x05, 0x01, 0x01, 0x66, 0x00, 0x03, 0x09, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x01,
    0x00, 0x0a, 0x25, 0x04, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x20, 0x00, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x41, 0x07, 0x6c, 0x0b, 0x0b, 0x00,
    0x20, 0x00, 0x10, 0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0b};

static bool lowered(const wb_module *m, uint32_t defined_index) {
    return __atomic_load_n(&m->funcs[defined_index].lowered.code, __ATOMIC_ACQUIRE) != NULL;
}

/* f(x) in a store of its own; returns -1 on any failure */
static int64_t call_f(wb_module *m, int32_t x) {
    wb_error err;
    wb_store *s = wb_store_new(NULL, &err);
    wb_instance *inst;
    if (!s) return -1;
    int64_t r = -1;
    wb_extern f;
    wb_value arg = {.type = WB_I32, .of.i32 = x}, res;
    if (wb_instance_new(s, m, NULL, 0, &inst, &err) == 0 && wb_instance_export(inst, "f", 1, &f) &&
        wb_func_call(s, f.of.func, &arg, 1, &res, 1, &err) == 0)
        r = res.of.i32;
    wb_store_free(s);
    return r;
}

static void lazy_calls(bool bounds_checks) {
    wb_config cfg = {.bounds_checks = bounds_checks};
    wb_module *m;
    wb_error err;
    ASSERT_EQ(wb_module_new(&cfg, lazy_wasm, sizeof lazy_wasm, &m, &err), 0);
    for (uint32_t i = 0; i < 4; i++) ASSERT_TRUE(!lowered(m, i));
    ASSERT_EQ(call_f(m, 20), 42);
    ASSERT_TRUE(lowered(m, 0)); /* call */
    ASSERT_TRUE(lowered(m, 1)); /* call_indirect */
    ASSERT_TRUE(!lowered(m, 2));
    ASSERT_TRUE(lowered(m, 3)); /* host entry */
    ASSERT_EQ(call_f(m, -1), 0);
    ASSERT_EQ(wb__module_lower_all(m, &err), 0);
    ASSERT_TRUE(lowered(m, 2));
    ASSERT_EQ(call_f(m, 5), 12);
    wb_module_free(m);
}

TEST(lazy_lowering_guarded) {
    lazy_calls(false);
}

TEST(lazy_lowering_checked) {
    lazy_calls(true);
}

TEST(lazy_lowering_eager_config) {
    wb_config cfg = {.eager_lowering = true};
    wb_module *m;
    wb_error err;
    ASSERT_EQ(wb_module_new(&cfg, lazy_wasm, sizeof lazy_wasm, &m, &err), 0);
    for (uint32_t i = 0; i < 4; i++) ASSERT_TRUE(lowered(m, i));
    ASSERT_EQ(call_f(m, 1), 4);
    wb_module_free(m);
}

typedef struct racer {
    wb_module *m;
    pthread_barrier_t *go;
    int wrong;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    pthread_barrier_wait(r->go);
    for (int32_t i = 0; i < 100; i++)
        if (call_f(r->m, i) != 2 * (i + 1)) r->wrong++;
    return NULL;
}

TEST(lazy_lowering_threads_race_first_calls) {
    enum { NT = 4, ROUNDS = 10 };
    for (int round = 0; round < ROUNDS; round++) {
        wb_module *m;
        wb_error err;
        ASSERT_EQ(wb_module_new(NULL, lazy_wasm, sizeof lazy_wasm, &m, &err), 0);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, NT);
        racer rs[NT];
        pthread_t th[NT];
        for (int i = 0; i < NT; i++) {
            rs[i] = (racer){.m = m, .go = &go};
            ASSERT_EQ(pthread_create(&th[i], NULL, race, &rs[i]), 0);
        }
        for (int i = 0; i < NT; i++) {
            pthread_join(th[i], NULL);
            ASSERT_EQ(rs[i].wrong, 0);
        }
        pthread_barrier_destroy(&go);
        ASSERT_TRUE(!lowered(m, 2));
        wb_module_free(m);
    }
}
