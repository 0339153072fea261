/* libFuzzer target for the whole engine: decode, validate and lower a module (wb_module_new),
 * instantiate it with stand-ins for its imports, and call every exported function with zero
 * arguments (and those with parameters once more with every argument bit set). Each input runs
 * twice, once with guarded memories and once with explicit bounds checks; the two runs must agree
 * (call outcomes, results, exported memories and globals), which turns a wrong bounds check in
 * either interpreter into a finding even when nothing crashes.
 *
 * Build and run: make fuzz; build-fuzz/fuzz_module -max_total_time=60 CORPUS fuzz/seeds
 * (see fuzz/fuzz.mk). FUZZ_MODULE_NO_DIFF=1 in the environment skips the comparison.
 *
 * Built with -DFUZZ_NATIVE (build-fuzz/fuzz_native_diff), the two runs are the interpreter and
 * the compiler tier instead (both with guarded memories): the differential fuzzer of native
 * code. Runs that cannot be compared are skipped: a module the compiler refuses (SIMD, for
 * now), a call that ran out of fuel or stack (the tiers count neither the same way), and an
 * out-of-bounds load whose value is never used, which the interpreter traps on and optimised
 * code may have removed (docs/native.md). NaN results are compared as NaNs, not bit for bit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

#define FUEL      100000
#define MAX_CALLS 1000 /* exports called per run (a module may export one function many times) */

/* What one run observed, folded into a hash so the two runs can be compared cheaply. */
#define MAX_TRACKED 64 /* calls whose trap kinds are kept one by one (FUZZ_NATIVE) */

typedef struct outcome {
    bool incomparable; /* FUZZ_NATIVE: see the top */
    uint8_t traps[MAX_TRACKED];
    int module_rc;     /* wb_module_new */
    int instance_rc;   /* instantiation (incl. start), or 1 if not attempted */
    int instance_code; /* err.code when instantiation failed */
    uint32_t calls;
    uint64_t hash; /* call results, trap kinds, exported globals and memories */
} outcome;

static void mix(outcome *o, uint64_t v) {
    /* FNV-1a over the 8 bytes of v */
    for (int i = 0; i < 8; i++) {
        o->hash ^= (v >> (8 * i)) & 0xff;
        o->hash *= 0x100000001b3ull;
    }
}

static void mix_bytes(outcome *o, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        o->hash ^= p[i];
        o->hash *= 0x100000001b3ull;
    }
}

/* A v128 result with its NaNs made one NaN (the tiers may differ in NaN payloads, as the spec
 * allows): each 32-bit lane that reads as an f32 NaN, then each 64-bit half whose high lane is
 * a NaN (every f64 NaN is one) whole. The lane shape is unknown here: this only loses
 * precision, never reports a false difference. */
static void mix_v128(outcome *o, const uint8_t *bytes) {
    uint32_t lane[4];
    memcpy(lane, bytes, 16);
    for (int i = 0; i < 4; i++)
        if ((lane[i] & 0x7fffffffu) > 0x7f800000u) lane[i] = 0x7fc00000u;
    for (int i = 1; i < 4; i += 2)
        if (lane[i] == 0x7fc00000u) lane[i - 1] = 0;
    mix_bytes(o, (const uint8_t *)lane, 16);
}

/* The stand-in for an imported function: results are zeros. env holds the result slot count. */
static int zero_results(wb_caller *c, void *env, wb_slot *slots) {
    uint32_t n = (uint32_t)(uintptr_t)env;
    memset(slots, 0, (size_t)n * sizeof *slots);
    return 0;
}

static wb_value zero_value(uint8_t type) {
    wb_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    return v;
}

/* A fresh extern matching import i; false if one cannot be made (e.g. a memory over the cap). */
static bool make_standin(wb_store *s, const wb_import_info *im, wb_extern *out) {
    wb_error err;
    out->kind = im->kind;
    switch (im->kind) {
    case WB_EXTERN_FUNC:
        out->of.func = wb_func_new_host(s, im->func, zero_results,
                                        (void *)(uintptr_t)im->func->result_slots, "standin");
        return out->of.func != NULL;
    case WB_EXTERN_TABLE:
        out->of.table = wb_table_new(s, im->table, NULL, &err);
        return out->of.table != NULL;
    case WB_EXTERN_MEMORY:
        out->of.memory = wb_memory_new(s, im->memory, &err);
        return out->of.memory != NULL;
    case WB_EXTERN_GLOBAL:
        out->of.global = wb_global_new(s, im->global, zero_value(im->global.type));
        return out->of.global != NULL;
    }
    return false;
}

static bool is_spectest(const wb_import_info *im) {
    return im->module_len == 8 && memcmp(im->module, "spectest", 8) == 0;
}

static bool has_nul(const char *p, uint32_t n) {
    return memchr(p, 0, n) != NULL;
}

/* Instantiate through a linker that holds `spectest` and a stand-in for every other import. If
 * that fails to link (duplicate names with different types, names holding NUL, a spectest import
 * of the wrong type), fall back to a stand-in for every import, passed directly. */
static int instantiate(wb_store *s, wb_module *m, wb_instance **inst, wb_error *err) {
    uint32_t n = wb_module_import_count(m);
    wb_linker *l = wb_linker_new();
    int rc = wb_spectest_define(l, s, err);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        wb_import_info im;
        wb_extern ext;
        wb_module_import(m, i, &im);
        if (is_spectest(&im) || has_nul(im.module, im.module_len) || has_nul(im.name, im.name_len))
            continue;
        if (make_standin(s, &im, &ext)) wb_linker_define(l, im.module, im.name, ext);
    }
    if (rc == 0) rc = wb_linker_instantiate(l, s, m, inst, err);
    wb_linker_free(l);
    if (rc == 0 || err->code != WB_ELINK) return rc;

    wb_extern *exts = calloc(n ? n : 1, sizeof *exts);
    if (!exts) return -1;
    for (uint32_t i = 0; i < n; i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if (!make_standin(s, &im, &exts[i])) {
            free(exts);
            return -1;
        }
    }
    rc = wb_instance_new(s, m, exts, n, inst, err);
    free(exts);
    return rc;
}

/* Arguments: every value zero, or (a second call, for functions with parameters) every bit set:
 * -1 as an address reaches the last bytes of the 4 GiB space and, added to memory.size * 64 KiB,
 * straddles the end of memory, which zeros never do. */
static wb_value arg_value(uint8_t type, bool ones) {
    wb_value v = zero_value(type);
    if (ones && type != WB_FUNCREF && type != WB_EXTERNREF) memset(&v.of, 0xff, sizeof v.of);
    return v;
}

static void call_export(wb_store *s, wb_func *f, bool ones, outcome *o) {
    const wb_functype *ft = wb_func_type(f);
    wb_value *args = calloc(ft->nparams + 1, sizeof *args);
    wb_value *results = calloc(ft->nresults + 1, sizeof *results);
    if (!args || !results) abort();
    for (uint32_t k = 0; k < ft->nparams; k++) args[k] = arg_value(ft->types[k], ones);
    wb_error err;
    wb_store_set_fuel(s, FUEL);
    int rc = wb_func_call(s, f, args, ft->nparams, results, ft->nresults, &err);
    mix(o, (uint64_t)rc);
    wb_trap_kind kind = rc < 0 ? wb_store_last_trap(s)->kind : WB_TRAP_NONE;
    if (o->calls < MAX_TRACKED) o->traps[o->calls] = (uint8_t)kind;
    o->calls++;
    if (kind == WB_TRAP_OUT_OF_FUEL || kind == WB_TRAP_STACK_EXHAUSTED ||
        kind == WB_TRAP_INTERRUPTED)
        o->incomparable = true;
    if (rc < 0) {
        mix(o, (uint64_t)kind);
    } else {
        for (uint32_t k = 0; k < ft->nresults; k++) {
            mix(o, results[k].type);
            if (results[k].type == WB_FUNCREF || results[k].type == WB_EXTERNREF)
                mix(o, results[k].of.ref != NULL);
            else if (results[k].type == WB_F32 && (results[k].of.f32 & 0x7fffffffu) > 0x7f800000u)
                mix(o, 0x7fc00000u); /* any NaN */
            else if (results[k].type == WB_F64 &&
                     (results[k].of.f64 & 0x7fffffffffffffffull) > 0x7ff0000000000000ull)
                mix(o, 0x7ff8000000000000ull);
            else if (results[k].type == WB_V128)
                mix_v128(o, results[k].of.v128);
            else
                mix_bytes(o, results[k].of.v128, 8);
        }
    }
    free(args);
    free(results);
}

static void call_exports(wb_store *s, wb_instance *inst, const wb_module *m, outcome *o) {
    uint32_t n = wb_module_export_count(m);
    for (uint32_t i = 0; i < n && o->calls < MAX_CALLS; i++) {
        wb_export_info ex;
        wb_extern ext;
        wb_module_export(m, i, &ex);
        if (ex.kind != WB_EXTERN_FUNC) continue;
        if (!wb_instance_export(inst, ex.name, ex.name_len, &ext)) __builtin_trap();
        call_export(s, ext.of.func, false, o);
        if (wb_func_type(ext.of.func)->nparams) call_export(s, ext.of.func, true, o);
    }
}

/* Exported globals and memories after the calls. */
static void observe_state(wb_instance *inst, const wb_module *m, outcome *o) {
    uint32_t n = wb_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        wb_export_info ex;
        wb_extern ext;
        wb_module_export(m, i, &ex);
        if (!wb_instance_export(inst, ex.name, ex.name_len, &ext)) __builtin_trap();
        if (ext.kind == WB_EXTERN_GLOBAL) {
            wb_value v = wb_global_get(ext.of.global);
            if (v.type == WB_FUNCREF || v.type == WB_EXTERNREF)
                mix(o, v.of.ref != NULL);
            else
                mix_bytes(o, v.of.v128, v.type == WB_V128 ? 16 : 8);
        } else if (ext.kind == WB_EXTERN_MEMORY) {
            uint64_t size = wb_memory_size(ext.of.memory);
            mix(o, size);
            mix_bytes(o, wb_memory_data(ext.of.memory), (size_t)size);
        }
    }
}

static void run(const uint8_t *data, size_t size, bool bounds_checks, bool native, outcome *o) {
    /* the guarded run lowers every function at load, the checked one each at its first call:
     * the lowering of code never called is fuzzed too, and the two ways are compared */
    wb_config cfg = {
        .bounds_checks = bounds_checks, .interruptible = true, .eager_lowering = !bounds_checks};
    wb_store_limits lim = {.max_call_depth = 2000, .value_stack_mb = 4, .max_memory = 64u << 20};
    wb_error err;
    wb_module *m = NULL;
    memset(o, 0, sizeof *o);
    o->hash = 0xcbf29ce484222325ull;
    o->instance_rc = 1;
    o->module_rc = wb_module_new(&cfg, data, size, &m, &err);
    if (o->module_rc < 0) {
        if (err.code != WB_EMALFORMED && err.code != WB_EINVALID) __builtin_trap();
        return;
    }
    if (native && wb_module_compile(m, -1, 0, &err) < 0) {
        o->incomparable = true; /* e.g. SIMD, not compiled yet */
        wb_module_free(m);
        return;
    }
    wb_store *s = wb_store_new(&lim, &err);
    if (!s) abort();
    wb_instance *inst = NULL;
    wb_store_set_fuel(s, FUEL);
    o->instance_rc = instantiate(s, m, &inst, &err);
    if (o->instance_rc < 0) {
        o->instance_code = err.code;
        if (err.code == WB_ETRAP) mix(o, (uint64_t)wb_store_last_trap(s)->kind);
    } else {
        call_exports(s, inst, m, o);
        observe_state(inst, m, o);
    }
    wb_store_free(s);
    wb_module_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bool diff = getenv("FUZZ_MODULE_NO_DIFF") == NULL;
    outcome guarded, checked;
#ifdef FUZZ_NATIVE
    run(data, size, false, false, &guarded);
    run(data, size, false, true, &checked);
    if (guarded.incomparable || checked.incomparable) return 0;
    for (uint32_t i = 0; i < guarded.calls && i < MAX_TRACKED; i++)
        if (guarded.traps[i] == WB_TRAP_MEMORY_OOB && checked.traps[i] == WB_TRAP_NONE) return 0;
    const char *what = "interpreted and compiled";
#else
    run(data, size, false, false, &guarded);
    run(data, size, true, false, &checked);
    const char *what = "guarded and bounds-checked";
#endif
    if (diff &&
        (guarded.module_rc != checked.module_rc || guarded.instance_rc != checked.instance_rc ||
         guarded.instance_code != checked.instance_code || guarded.calls != checked.calls ||
         guarded.hash != checked.hash)) {
        fprintf(stderr,
                "fuzz_module: %s runs disagree: module %d/%d, instance "
                "%d/%d (code %d/%d), calls %u/%u, hash %016llx/%016llx\n",
                what, guarded.module_rc, checked.module_rc, guarded.instance_rc,
                checked.instance_rc, guarded.instance_code, checked.instance_code, guarded.calls,
                checked.calls, (unsigned long long)guarded.hash, (unsigned long long)checked.hash);
        __builtin_trap();
    }
    return 0;
}
