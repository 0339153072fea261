/* Instance snapshots (wasm.h): a run that writes memory, grows memory and a table, sets a global,
 * changes table entries and drops a passive segment is undone by wb_instance_restore, in every
 * memory strategy (TRACK, COPY, COW) and in bounds-checked mode; many runs in a row stay correct;
 * an instance importing a memory is refused. */
#include <errno.h>

#include "harness.h"

#include "wasm/wasm.h"

/* tests/unit/ has the text in this comment only:
 * (module
 *   (memory (export "mem") 1 100)
 *   (global $g (mut i32) (i32.const 7))
 *   (table $t 2 10 funcref)
 *   (elem (i32.const 0) $gget)
 *   (data (i32.const 16) "hello")
 *   (data $p "passive")
 *   (func $gget (export "gget") (result i32) global.get $g)
 *   (func (export "dirty")
 *     i32.const 16 i32.const 88 i32.store8
 *     i32.const 40000 i32.const 9 i32.store8
 *     i32.const 3 memory.grow drop
 *     i32.const 131072 i32.const 1 i32.store8
 *     i32.const 42 global.set $g
 *     ref.null func i32.const 3 table.grow $t drop
 *     i32.const 1 ref.null func table.set $t
 *     data.drop $p)
 *   (func (export "init_p") (result i32)
 *     i32.const 100 i32.const 0 i32.const 7 memory.init $p i32.const 1)
 *   (func (export "size") (result i32) memory.size)
 *   (func (export "tsize") (result i32) table.size $t)
 *   (func (export "call0") (result i32) i32.const 0 call_indirect (result i32))
 *   (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u)) */
static const uint8_t snap_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60, 0x00, 0x01, 0x7f, 0x60,
    0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x08, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x04, 0x05, 0x01, 0x70, 0x01, 0x02, 0x0a, 0x05, 0x04, 0x01, 0x01, 0x01, 0x64, 0x06, 0x06,
    0x01, 0x7f, 0x01, 0x41, 0x07, 0x0b, 0x07, 0x3d, 0x08, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04,
    0x67, 0x67, 0x65, 0x74, 0x00, 0x00, 0x05, 0x64, 0x69, 0x72, 0x74, 0x79, 0x00, 0x01, 0x06, 0x69,
    0x6e, 0x69, 0x74, 0x5f, 0x70, 0x00, 0x02, 0x04, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x03, 0x05, 0x74,
    0x73, 0x69, 0x7a, 0x65, 0x00, 0x04, 0x05, 0x63, 0x61, 0x6c, 0x6c, 0x30, 0x00, 0x05, 0x04, 0x6c,
    0x6f, 0x61, 0x64, 0x00, 0x06, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x0c, 0x01,
    0x02, 0x0a, 0x68, 0x07, 0x04, 0x00, 0x23, 0x00, 0x0b, 0x36, 0x00, 0x41, 0x10, 0x41, 0xd8, 0x00,
    0x3a, 0x00, 0x00, 0x41, 0xc0, 0xb8, 0x02, 0x41, 0x09, 0x3a, 0x00, 0x00, 0x41, 0x03, 0x40, 0x00,
    0x1a, 0x41, 0x80, 0x80, 0x08, 0x41, 0x01, 0x3a, 0x00, 0x00, 0x41, 0x2a, 0x24, 0x00, 0xd0, 0x70,
    0x41, 0x03, 0xfc, 0x0f, 0x00, 0x1a, 0x41, 0x01, 0xd0, 0x70, 0x26, 0x00, 0xfc, 0x09, 0x01, 0x0b,
    0x0f, 0x00, 0x41, 0xe4, 0x00, 0x41, 0x00, 0x41, 0x07, 0xfc, 0x08, 0x01, 0x00, 0x41, 0x01, 0x0b,
    0x04, 0x00, 0x3f, 0x00, 0x0b, 0x05, 0x00, 0xfc, 0x10, 0x00, 0x0b, 0x07, 0x00, 0x41, 0x00, 0x11,
    0x00, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x0b, 0x14, 0x02, 0x00, 0x41,
    0x10, 0x0b, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x01, 0x07, 0x70, 0x61, 0x73, 0x73, 0x69, 0x76,
    0x65};

/* (module (import "env" "m" (memory 1)) (func (export "f"))) */
static const uint8_t import_memory_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02,
    0x0a, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x03, 0x02, 0x01, 0x00,
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};

typedef struct fixture {
    wb_module *m;
    wb_store *s;
    wb_instance *inst;
} fixture;

static fixture make(bool bounds_checks) {
    fixture f;
    wb_config cfg = {.bounds_checks = bounds_checks};
    wb_error err;
    ASSERT_EQ(wb_module_new(&cfg, snap_wasm, sizeof snap_wasm, &f.m, &err), 0);
    f.s = wb_store_new(NULL, &err);
    ASSERT_TRUE(f.s != NULL);
    ASSERT_EQ(wb_instance_new(f.s, f.m, NULL, 0, &f.inst, &err), 0);
    return f;
}

static void release(fixture *f) {
    wb_store_free(f->s);
    wb_module_free(f->m);
}

/* The export's i32 result (arg used when the export takes one); -1000 on a trap. */
static int32_t call(fixture *f, const char *name, int32_t arg) {
    wb_extern e;
    ASSERT_TRUE(wb_instance_export(f->inst, name, strlen(name), &e));
    const wb_functype *t = wb_func_type(e.of.func);
    wb_value a = {.type = WB_I32, .of.i32 = arg}, r = {.type = WB_I32};
    wb_error err;
    if (wb_func_call(f->s, e.of.func, &a, t->nparams, &r, t->nresults, &err) < 0) return -1000;
    return t->nresults ? r.of.i32 : 0;
}

static void expect_pristine(fixture *f) {
    ASSERT_EQ(call(f, "size", 0), 1);
    ASSERT_EQ(call(f, "tsize", 0), 2);
    ASSERT_EQ(call(f, "gget", 0), 7);
    ASSERT_EQ(call(f, "call0", 0), 7);
    ASSERT_EQ(call(f, "load", 16), 'h');
    ASSERT_EQ(call(f, "load", 40000), 0);
    ASSERT_EQ(call(f, "load", 131072), -1000); /* the grown page is gone */
    ASSERT_EQ(call(f, "load", 100), 0);
}

static void dirty_and_check(fixture *f) {
    ASSERT_EQ(call(f, "dirty", 0), 0);
    ASSERT_EQ(call(f, "size", 0), 4);
    ASSERT_EQ(call(f, "tsize", 0), 5);
    ASSERT_EQ(call(f, "gget", 0), 42);
    ASSERT_EQ(call(f, "load", 16), 88);
    ASSERT_EQ(call(f, "load", 40000), 9);
    ASSERT_EQ(call(f, "load", 131072), 1);
    ASSERT_EQ(call(f, "init_p", 0), -1000); /* dropped */
}

static void runs(bool bounds_checks, int mode) {
    fixture f = make(bounds_checks);
    wb_snapshot *snap;
    wb_error err;
    int rc = wb_instance_snapshot(f.inst, mode, &snap, &err);
    if (rc < 0 && err.code == ENOTSUP && mode == WB_SNAPSHOT_TRACK) SKIP(err.msg);
    ASSERT_EQ(rc, 0);
    for (int run = 0; run < 50; run++) {
        expect_pristine(&f);
        dirty_and_check(&f);
        ASSERT_EQ(wb_instance_restore(f.inst, snap, &err), 0);
        expect_pristine(&f);
        /* the passive segment is back: memory.init works, then a restore undoes its write too */
        ASSERT_EQ(call(&f, "init_p", 0), 1);
        ASSERT_EQ(call(&f, "load", 100), 'p');
        ASSERT_EQ(wb_instance_restore(f.inst, snap, &err), 0);
    }
    wb_snapshot_free(snap);
    release(&f);
}

TEST(snapshot_copy_guarded) {
    runs(false, WB_SNAPSHOT_COPY);
}

TEST(snapshot_cow_guarded) {
    runs(false, WB_SNAPSHOT_COW);
}

TEST(snapshot_track_guarded) {
    runs(false, WB_SNAPSHOT_TRACK);
}

TEST(snapshot_auto_guarded) {
    runs(false, WB_SNAPSHOT_AUTO);
}

TEST(snapshot_bounds_checked) {
    runs(true, WB_SNAPSHOT_AUTO);
    runs(true, WB_SNAPSHOT_COW); /* a checked memory has no COW image: copied */
}

TEST(snapshot_of_another_instance_refused) {
    fixture a = make(false), b = make(false);
    wb_snapshot *snap;
    wb_error err;
    ASSERT_EQ(wb_instance_snapshot(a.inst, WB_SNAPSHOT_AUTO, &snap, &err), 0);
    ASSERT_EQ(wb_instance_restore(b.inst, snap, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "another instance");
    wb_snapshot_free(snap);
    release(&a);
    release(&b);
}

TEST(snapshot_refuses_imported_memory) {
    wb_module *m;
    wb_error err;
    ASSERT_EQ(wb_module_new(NULL, import_memory_wasm, sizeof import_memory_wasm, &m, &err), 0);
    wb_store *s = wb_store_new(NULL, &err);
    wb_memory *mem = wb_memory_new(s, (wb_limits){.min = 1}, &err);
    ASSERT_TRUE(mem != NULL);
    wb_extern imp = {.kind = WB_EXTERN_MEMORY, .of.memory = mem};
    wb_instance *inst;
    ASSERT_EQ(wb_instance_new(s, m, &imp, 1, &inst, &err), 0);
    wb_snapshot *snap = (wb_snapshot *)1;
    ASSERT_EQ(wb_instance_snapshot(inst, WB_SNAPSHOT_AUTO, &snap, &err), -1);
    ASSERT_TRUE(snap == NULL);
    ASSERT_STR_CONTAINS(err.msg, "imports a memory");
    wb_store_free(s);
    wb_module_free(m);
}
