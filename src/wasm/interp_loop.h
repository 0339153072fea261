/* The interpreter's dispatch loop (direct threading with computed goto), included by
 * interp_guarded.c and interp_checked.c. The includer defines:
 *   WB_RUN      the function's name
 *   WB_CHECKED  0: linear memories are guarded (out-of-bounds accesses fault into the guard region
 *               and the fault handler turns them into traps); 1: every access is bounds-checked.
 * Handlers read all their operands before writing their destination, which the lowering relies
 * on when it retargets a result into a local. */

#include <string.h>

#include "wasm/interp_ops.h"
#include "wasm/interp_simd_ops.h"
#include "wasm/lower.h"
#include "wasm/runtime.h"

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* operands */
#define U(k)    (ip[WB_HANDLER_UNITS + (k)])
#define SLOT(k) (fp[U(k)])
#define D       SLOT(0)
#define A       SLOT(1)
#define B       SLOT(2)
#define IMM     U(2)

#define DISPATCH()                                                                                 \
    do {                                                                                           \
        const void *wb_h_;                                                                         \
        memcpy(&wb_h_, ip, sizeof wb_h_);                                                          \
        goto *wb_h_;                                                                               \
    } while (0)
#define NEXT(units)                                                                                \
    do {                                                                                           \
        ip += (units);                                                                             \
        DISPATCH();                                                                                \
    } while (0)
#define JUMP(k) NEXT((int32_t)U(k))
#define TRAP(kind)                                                                                 \
    do {                                                                                           \
        trap_kind = (kind);                                                                        \
        goto trap;                                                                                 \
    } while (0)

#if WB_CHECKED
#define RELOAD_MEM()                                                                               \
    do {                                                                                           \
        mem = inst->mem0 ? inst->mem0->base : NULL;                                                \
        mem_size = inst->mem0 ? inst->mem0->size : 0;                                              \
    } while (0)
/* effective address of a `size`-byte access, bounds-checked */
#define EA(aslot, off, size)                                                                       \
    ({                                                                                             \
        uint64_t wb_ea_ = (uint64_t)fp[aslot].u32 + (uint64_t)(off);                               \
        if (UNLIKELY(wb_ea_ + (size) > mem_size)) TRAP(WB_TRAP_MEMORY_OOB);                        \
        mem + wb_ea_;                                                                              \
    })
/* the same for an address computed as (u32)(fp[aslot] + k) */
#define EA_ADD(aslot, k, off, size)                                                                \
    ({                                                                                             \
        uint64_t wb_ea_ = (uint64_t)(uint32_t)(fp[aslot].u32 + (k)) + (uint64_t)(off);             \
        if (UNLIKELY(wb_ea_ + (size) > mem_size)) TRAP(WB_TRAP_MEMORY_OOB);                        \
        mem + wb_ea_;                                                                              \
    })
#else
#define RELOAD_MEM()                                                                               \
    do {                                                                                           \
        mem = inst->mem_base;                                                                      \
    } while (0)
/* the reservation covers every 33-bit effective address: a fault is the bounds check */
#define EA(aslot, off, size) (mem + (uint64_t)fp[aslot].u32 + (uint64_t)(off))
#define EA_ADD(aslot, k, off, size)                                                                \
    (mem + (uint64_t)(uint32_t)(fp[aslot].u32 + (k)) + (uint64_t)(off))
#endif

/* bounds of [start, start+len) inside a region of `size` */
#define OUT_OF(start, len, size) ((uint64_t)(start) + (uint64_t)(len) > (uint64_t)(size))

int WB_RUN(wb_store *s, wb_func *entry, wb_slot *fp0, const void *const **labels_out) {
    static const void *const labels[] = {
#define X(NAME) &&L_##NAME,
        WB_IOPS(X)
#undef X
    };
    if (labels_out) {
        *labels_out = labels;
        return 0;
    }

    wb_slot *fp = fp0;
    wb_instance *inst = entry->inst;
    uint8_t *mem;
#if WB_CHECKED
    uint64_t mem_size;
#endif
    wb_frame_rec *rec = s->rec_top + 1;
    wb_frame_rec *const rec_end = s->recs_end;
    wb_slot *const stack_end = s->stack_end;
    wb_trap_kind trap_kind = WB_TRAP_NONE;
    const wb_code *code = entry->code;

    rec->ret_ip = s->halt_code[WB_CHECKED];
    rec->ret_fp = fp;
    rec->ret_inst = inst;
    rec->code = code;
    s->rec_top = rec;
    RELOAD_MEM();
    for (uint32_t i = 0; i < code->nlocals; i++) fp[code->nparams + i].u64 = 0;
    const uint32_t *ip = code->code;
    DISPATCH();

    /* ---- control ---- */
L_HALT:
    s->rec_top = rec;
    return 0;
L_UNREACHABLE:
    TRAP(WB_TRAP_UNREACHABLE);
L_FUEL:
    if (UNLIKELY(--s->fuel < 0)) {
        if (s->interrupt) TRAP(WB_TRAP_INTERRUPTED);
        if (s->fuel_limited) TRAP(WB_TRAP_OUT_OF_FUEL);
        s->fuel = INT64_MAX;
    }
    NEXT(2);
L_COPY:
    D = A;
    NEXT(4);
L_COPY_PAIR:
    fp[U(0)] = fp[U(1)];
    fp[U(2)] = fp[U(3)];
    NEXT(6);
L_COPY2:
    fp[U(0)] = fp[U(1)];
    fp[U(0) + 1] = fp[U(1) + 1];
    NEXT(4);
L_CONST32:
    D.u64 = U(1);
    NEXT(4);
L_CONST64:
    D.u64 = (uint64_t)U(1) | ((uint64_t)U(2) << 32);
    NEXT(5);
L_SELECT:
    D = SLOT(3).i32 ? A : B;
    NEXT(6);
L_SELECT2 : {
    uint32_t src = SLOT(3).i32 ? U(1) : U(2);
    wb_slot lo = fp[src], hi = fp[src + 1];
    fp[U(0)] = lo;
    fp[U(0) + 1] = hi;
    NEXT(6);
}
L_GLOBAL_GET:
    D = inst->globals[U(1)]->val[0];
    NEXT(4);
L_GLOBAL_SET:
    inst->globals[U(0)]->val[0] = A;
    NEXT(4);
L_GLOBAL_GET2 : {
    wb_global *g = inst->globals[U(1)];
    fp[U(0)] = g->val[0];
    fp[U(0) + 1] = g->val[1];
    NEXT(4);
}
L_GLOBAL_SET2 : {
    wb_global *g = inst->globals[U(0)];
    g->val[0] = fp[U(1)];
    g->val[1] = fp[U(1) + 1];
    NEXT(4);
}
L_BR:
    JUMP(0);
L_BR_NZ:
    if (SLOT(0).u32) JUMP(1);
    NEXT(4);
L_BR_Z:
    if (!SLOT(0).u32) JUMP(1);
    NEXT(4);
L_BR64_NZ:
    if (SLOT(0).u64) JUMP(1);
    NEXT(4);
L_BR64_Z:
    if (!SLOT(0).u64) JUMP(1);
    NEXT(4);

#define WB_BR_CMP(NAME, op, sg)                                                                    \
    L_BR_##NAME : if (WB_CMP32_##sg(SLOT(0), op, SLOT(1).u32)) JUMP(2);                            \
    NEXT(5);                                                                                       \
    L_BR_##NAME##_I : if (WB_CMP32_##sg(SLOT(0), op, U(1))) JUMP(2);                               \
    NEXT(5);                                                                                       \
    L_BR64_##NAME : if (WB_CMP64_##sg(SLOT(0), op, SLOT(1).u64)) JUMP(2);                          \
    NEXT(5);                                                                                       \
    L_BR64_##NAME##_I : if (WB_CMP64_##sg(SLOT(0), op, (uint64_t)(int64_t)(int32_t)U(1))) JUMP(2); \
    NEXT(5);
    WB_CMP_OPS(WB_BR_CMP)
#undef WB_BR_CMP

L_BR_TABLE : {
    uint32_t i = SLOT(0).u32, n = U(1);
    if (i > n) i = n;
    JUMP(2 + i);
}
L_BR_TABLE_I : {
    uint32_t i = SLOT(0).u32 + U(2), n = U(1);
    if (i > n) i = n;
    JUMP(3 + i);
}
L_BR_AND_NZ:
    if (SLOT(0).u32 & U(1)) JUMP(2);
    NEXT(5);
L_BR_AND_Z:
    if (!(SLOT(0).u32 & U(1))) JUMP(2);
    NEXT(5);

    /* ---- calls ---- */
    {
        wb_func *callee;
        wb_slot *nfp;
        const uint32_t *next_ip;
        const wb_code *cc;

/* Push an activation for code `cc` with its frame at nfp, returning to `ret`; zero its locals. */
#define PUSH_FRAME(cc, nfp, ret)                                                                   \
    do {                                                                                           \
        if (UNLIKELY((nfp) + (cc)->frame_slots > stack_end || rec + 1 >= rec_end))                 \
            TRAP(WB_TRAP_STACK_EXHAUSTED);                                                         \
        rec++;                                                                                     \
        rec->ret_ip = (ret);                                                                       \
        rec->ret_fp = fp;                                                                          \
        rec->ret_inst = inst;                                                                      \
        rec->code = (cc);                                                                          \
        s->rec_top = rec;                                                                          \
        for (uint32_t i = (cc)->nparams, e = (cc)->nparams + (cc)->nlocals; i < e; i++)            \
            (nfp)[i].u64 = 0;                                                                      \
        fp = (nfp);                                                                                \
    } while (0)

/* Lower cc's function at its first call. */
#define ENSURE_LOWERED(cc)                                                                         \
    do {                                                                                           \
        if (UNLIKELY(!__atomic_load_n(&(cc)->code, __ATOMIC_ACQUIRE)) && wb__code_prepare(cc) < 0) \
            TRAP(WB_TRAP_LOWERING);                                                                \
    } while (0)

    L_CALL:
        memcpy(&cc, &U(0), sizeof cc);
        ENSURE_LOWERED(cc);
        nfp = fp + U(2);
        PUSH_FRAME(cc, nfp, ip + WB_HANDLER_UNITS + 3);
        ip = cc->code;
        DISPATCH();

    L_CALL_IMPORT:
        callee = inst->funcs[U(0)];
        nfp = fp + U(1);
        next_ip = ip + WB_HANDLER_UNITS + 2;
        goto call_func;

    L_CALL_INDIRECT : {
        wb_table *t = inst->tables[U(0)];
        uint32_t idx = SLOT(2).u32;
        if (UNLIKELY(idx >= t->size)) TRAP(WB_TRAP_UNDEFINED_ELEMENT);
        callee = t->elems[idx];
        if (UNLIKELY(!callee)) TRAP(WB_TRAP_UNINITIALIZED_ELEMENT);
        const wb_functype *want = &inst->module->types[U(1)];
        if (UNLIKELY(callee->type != want && !wb__functype_equal(callee->type, want)))
            TRAP(WB_TRAP_INDIRECT_CALL_MISMATCH);
        nfp = fp + U(3);
        next_ip = ip + WB_HANDLER_UNITS + 4;
        goto call_func;
    }

    call_func:
        if (UNLIKELY(callee->kind != WB_CHECKED)) {
            /* a host function, or wasm code of the other dispatch loop: a nested entry */
            s->rec_top = rec;
            int rc = wb__call(s, inst, callee, nfp);
            s->rec_top = rec;
            if (UNLIKELY(rc != 0)) goto trap_recorded;
            RELOAD_MEM();
            ip = next_ip;
            DISPATCH();
        }
        cc = callee->code;
        ENSURE_LOWERED(cc);
        PUSH_FRAME(cc, nfp, next_ip);
        inst = callee->inst;
        RELOAD_MEM();
        ip = cc->code;
        DISPATCH();
    }

L_RETURN1:
    fp[0] = SLOT(0);
    /* fall through */
L_RETURN:
    ip = rec->ret_ip;
    fp = rec->ret_fp;
    inst = rec->ret_inst;
    rec--;
    s->rec_top = rec;
    RELOAD_MEM();
    DISPATCH();

    /* ---- numeric ---- */
#define WB_UN(opc, NAME, a, b, r) WB_UN_##b(NAME, a, r)
#define WB_UN_NONE(NAME, a, r)                                                                     \
    L_##NAME : WB_OP_##NAME(D, A);                                                                 \
    NEXT(4);
#define WB_UN_I32(NAME, a, r)                                                                      \
    L_##NAME : WB_OP_##NAME(D, A, B.u32);                                                          \
    NEXT(5);
#define WB_UN_I64(NAME, a, r)                                                                      \
    L_##NAME : WB_OP_##NAME(D, A, B.u64);                                                          \
    NEXT(5);
#define WB_UN_F32(NAME, a, r)                                                                      \
    L_##NAME : WB_OP_##NAME(D, A, B);                                                              \
    NEXT(5);
#define WB_UN_F64(NAME, a, r) WB_UN_F32(NAME, a, r)
    WB_NUMERIC_OPS(WB_UN)
#undef WB_UN

#define WB_SAT(sub, NAME, a, r)                                                                    \
    L_##NAME : WB_OP_##NAME(D, A);                                                                 \
    NEXT(4);
    WB_SAT_OPS(WB_SAT)
#undef WB_SAT

L_I32_SHR_U_AND_I:
    D.u64 = (A.u32 >> (U(2) & 31)) & U(3);
    NEXT(6);
L_I32_AND_SHL_I:
    D.u64 = (uint32_t)((A.u32 & U(2)) << (U(3) & 31));
    NEXT(6);
L_I32_ADD_SHL_I:
    D.u64 = (uint32_t)(A.u32 + (B.u32 << (U(3) & 31)));
    NEXT(6);
L_GLOBAL_SET_ADD_I : {
    uint32_t sum = A.u32 + U(2);
    D.u64 = sum;
    inst->globals[U(3)]->val[0].u64 = sum;
    NEXT(6);
}

#define WB_IMMOP(NAME)                                                                             \
    L_##NAME##_I : WB_OP_##NAME(D, A, WB_IMM_##NAME(IMM));                                         \
    NEXT(5);
    WB_IMM_BINOPS(WB_IMMOP)
#undef WB_IMMOP

    /* ---- memory ---- */
#define WB_MEM(opc, NAME, t, lg, st) WB_MEM_##st(NAME, lg)
#define WB_MEM_0(NAME, lg)                                                                         \
    L_##NAME : {                                                                                   \
        const uint8_t *p = EA(U(1), U(2), 1u << (lg));                                             \
        WB_LOAD_##NAME(D, p);                                                                      \
        NEXT(5);                                                                                   \
    }
#define WB_MEM_1(NAME, lg)                                                                         \
    L_##NAME : {                                                                                   \
        uint8_t *p = EA(U(0), U(2), 1u << (lg));                                                   \
        WB_STORE_##NAME(p, SLOT(1));                                                               \
        NEXT(5);                                                                                   \
    }
    WB_MEMORY_OPS(WB_MEM)
#undef WB_MEM

#define WB_MEMA(opc, NAME, t, lg, st) WB_MEMA_##st(NAME, lg)
#define WB_MEMA_0(NAME, lg)                                                                        \
    L_##NAME##_A : {                                                                               \
        const uint8_t *p = EA_ADD(U(1), U(3), U(2), 1u << (lg));                                   \
        WB_LOAD_##NAME(D, p);                                                                      \
        NEXT(6);                                                                                   \
    }                                                                                              \
    L_##NAME##_X : {                                                                               \
        const uint8_t *p = EA_ADD(U(1), SLOT(3).u32, U(2), 1u << (lg));                            \
        WB_LOAD_##NAME(D, p);                                                                      \
        NEXT(6);                                                                                   \
    }
#define WB_MEMA_1(NAME, lg)                                                                        \
    L_##NAME##_A : {                                                                               \
        uint8_t *p = EA_ADD(U(0), U(3), U(2), 1u << (lg));                                         \
        WB_STORE_##NAME(p, SLOT(1));                                                               \
        NEXT(6);                                                                                   \
    }                                                                                              \
    L_##NAME##_X : {                                                                               \
        uint8_t *p = EA_ADD(U(0), SLOT(3).u32, U(2), 1u << (lg));                                  \
        WB_STORE_##NAME(p, SLOT(1));                                                               \
        NEXT(6);                                                                                   \
    }
    WB_MEMORY_OPS(WB_MEMA)
#undef WB_MEMA

L_MEMORY_SIZE:
    D.u64 = inst->mem0->size / WB_PAGE_SIZE;
    NEXT(3);
L_MEMORY_GROW : {
    int64_t old = wb__memory_grow(inst->mem0, A.u32);
    D.u64 = (uint32_t)old;
    RELOAD_MEM();
    NEXT(4);
}
L_MEMORY_FILL : {
    uint32_t d = SLOT(0).u32, v = SLOT(1).u32, n = SLOT(2).u32;
    if (UNLIKELY(OUT_OF(d, n, inst->mem0->size))) TRAP(WB_TRAP_MEMORY_OOB);
    memset(inst->mem0->base + d, (int)(v & 0xff), n);
    NEXT(5);
}
L_MEMORY_COPY : {
    uint32_t d = SLOT(0).u32, sa = SLOT(1).u32, n = SLOT(2).u32;
    uint64_t size = inst->mem0->size;
    if (UNLIKELY(OUT_OF(d, n, size) || OUT_OF(sa, n, size))) TRAP(WB_TRAP_MEMORY_OOB);
    memmove(inst->mem0->base + d, inst->mem0->base + sa, n);
    NEXT(5);
}
L_MEMORY_INIT : {
    uint32_t seg = U(0), d = SLOT(1).u32, sa = SLOT(2).u32, n = SLOT(3).u32;
    const wb_data_segment *ds = &inst->module->datas[seg];
    uint32_t len = inst->data_dropped[seg] ? 0 : ds->len;
    if (UNLIKELY(OUT_OF(sa, n, len) || OUT_OF(d, n, inst->mem0->size))) TRAP(WB_TRAP_MEMORY_OOB);
    if (n) memcpy(inst->mem0->base + d, ds->bytes + sa, n);
    NEXT(6);
}
L_DATA_DROP:
    inst->data_dropped[U(0)] = true;
    NEXT(3);

    /* ---- tables and references ---- */
L_TABLE_GET : {
    wb_table *t = inst->tables[U(1)];
    uint32_t i = SLOT(2).u32;
    if (UNLIKELY(i >= t->size)) TRAP(WB_TRAP_TABLE_OOB);
    D.ref = t->elems[i];
    NEXT(5);
}
L_TABLE_SET : {
    wb_table *t = inst->tables[U(0)];
    uint32_t i = SLOT(1).u32;
    if (UNLIKELY(i >= t->size)) TRAP(WB_TRAP_TABLE_OOB);
    t->elems[i] = SLOT(2).ref;
    NEXT(5);
}
L_TABLE_SIZE:
    D.u64 = inst->tables[U(1)]->size;
    NEXT(4);
L_TABLE_GROW : {
    int64_t old = wb__table_grow(inst->tables[U(1)], SLOT(3).u32, SLOT(2).ref);
    D.u64 = (uint32_t)old;
    NEXT(6);
}
L_TABLE_FILL : {
    wb_table *t = inst->tables[U(0)];
    uint32_t i = SLOT(1).u32, n = SLOT(3).u32;
    void *v = SLOT(2).ref;
    if (UNLIKELY(OUT_OF(i, n, t->size))) TRAP(WB_TRAP_TABLE_OOB);
    for (uint32_t k = 0; k < n; k++) t->elems[i + k] = v;
    NEXT(6);
}
L_TABLE_COPY : {
    wb_table *dt = inst->tables[U(0)], *st = inst->tables[U(1)];
    uint32_t d = SLOT(2).u32, sa = SLOT(3).u32, n = SLOT(4).u32;
    if (UNLIKELY(OUT_OF(d, n, dt->size) || OUT_OF(sa, n, st->size))) TRAP(WB_TRAP_TABLE_OOB);
    if (n) memmove(dt->elems + d, st->elems + sa, (size_t)n * sizeof *dt->elems);
    NEXT(7);
}
L_TABLE_INIT : {
    wb_table *t = inst->tables[U(0)];
    uint32_t seg = U(1), d = SLOT(2).u32, sa = SLOT(3).u32, n = SLOT(4).u32;
    uint32_t len = inst->elem_dropped[seg] ? 0 : inst->module->elems[seg].count;
    if (UNLIKELY(OUT_OF(sa, n, len) || OUT_OF(d, n, t->size))) TRAP(WB_TRAP_TABLE_OOB);
    for (uint32_t k = 0; k < n; k++)
        t->elems[d + k] = wb__elem_item(inst, &inst->module->elems[seg].items[sa + k]);
    NEXT(7);
}
L_ELEM_DROP:
    inst->elem_dropped[U(0)] = true;
    NEXT(3);
L_REF_IS_NULL:
    D.u64 = A.ref == NULL;
    NEXT(4);
L_REF_FUNC:
    D.ref = inst->funcs[U(1)];
    NEXT(4);

    /* ---- pairs (WB_PAIR_OPS): the first's work, then straight on to the second's handler ---- */
/* The work of each instruction that starts a pair, and its length in units. */
#define WB_IMM_BODY(NAME) WB_OP_##NAME(D, A, WB_IMM_##NAME(IMM))
#define WB_LOAD_BODY(NAME, size)                                                                   \
    do {                                                                                           \
        const uint8_t *p_ = EA(U(1), U(2), size);                                                  \
        WB_LOAD_##NAME(D, p_);                                                                     \
    } while (0)
#define WB_LOAD_A_BODY(NAME, size)                                                                 \
    do {                                                                                           \
        const uint8_t *p_ = EA_ADD(U(1), U(3), U(2), size);                                        \
        WB_LOAD_##NAME(D, p_);                                                                     \
    } while (0)
#define WB_LOAD_X_BODY(NAME, size)                                                                 \
    do {                                                                                           \
        const uint8_t *p_ = EA_ADD(U(1), SLOT(3).u32, U(2), size);                                 \
        WB_LOAD_##NAME(D, p_);                                                                     \
    } while (0)
#define WB_STORE_BODY(NAME, size)                                                                  \
    do {                                                                                           \
        uint8_t *p_ = EA(U(0), U(2), size);                                                        \
        WB_STORE_##NAME(p_, SLOT(1));                                                              \
    } while (0)
#define WB_STORE_A_BODY(NAME, size)                                                                \
    do {                                                                                           \
        uint8_t *p_ = EA_ADD(U(0), U(3), U(2), size);                                              \
        WB_STORE_##NAME(p_, SLOT(1));                                                              \
    } while (0)
/* conditional branches: taken, they leave (offset at operand k); not taken, the pair goes on */
#define WB_BRANCH_BODY(cond, k)                                                                    \
    do {                                                                                           \
        if (cond) JUMP(k);                                                                         \
    } while (0)
#define WB_FIRST_BR64_Z           WB_BRANCH_BODY(!SLOT(0).u64, 1), 4
#define WB_FIRST_BR_AND_NZ        WB_BRANCH_BODY(SLOT(0).u32 &U(1), 2), 5
#define WB_FIRST_BR_AND_Z         WB_BRANCH_BODY(!(SLOT(0).u32 & U(1)), 2), 5
#define WB_FIRST_BR_EQ            WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), ==, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_EQ_I          WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), ==, U(1)), 2), 5
#define WB_FIRST_BR_GE_S_I        WB_BRANCH_BODY(WB_CMP32_s(SLOT(0), >=, U(1)), 2), 5
#define WB_FIRST_BR_GE_U          WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), >=, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_GT_S          WB_BRANCH_BODY(WB_CMP32_s(SLOT(0), >, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_LE_U          WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), <=, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_LT_S          WB_BRANCH_BODY(WB_CMP32_s(SLOT(0), <, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_LT_S_I        WB_BRANCH_BODY(WB_CMP32_s(SLOT(0), <, U(1)), 2), 5
#define WB_FIRST_BR_LT_U          WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), <, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_LT_U_I        WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), <, U(1)), 2), 5
#define WB_FIRST_BR_NE            WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), !=, SLOT(1).u32), 2), 5
#define WB_FIRST_BR_NE_I          WB_BRANCH_BODY(WB_CMP32_u(SLOT(0), !=, U(1)), 2), 5
#define WB_FIRST_BR_NZ            WB_BRANCH_BODY(SLOT(0).u32, 1), 4
#define WB_FIRST_BR_Z             WB_BRANCH_BODY(!SLOT(0).u32, 1), 4
#define WB_FIRST_CONST32          D.u64 = U(1), 4
#define WB_FIRST_CONST64          D.u64 = (uint64_t)U(1) | ((uint64_t)U(2) << 32), 5
#define WB_FIRST_COPY             D = A, 4
#define WB_FIRST_COPY_PAIR        (fp[U(0)] = fp[U(1)], fp[U(2)] = fp[U(3)]), 6
#define WB_FIRST_F64_ADD          WB_OP_F64_ADD(D, A, B), 5
#define WB_FIRST_F64_LOAD         WB_LOAD_BODY(F64_LOAD, 8), 5
#define WB_FIRST_F64_LOAD_A       WB_LOAD_A_BODY(F64_LOAD, 8), 6
#define WB_FIRST_F64_MUL          WB_OP_F64_MUL(D, A, B), 5
#define WB_FIRST_F64_STORE        WB_STORE_BODY(F64_STORE, 8), 5
#define WB_FIRST_F64_SUB          WB_OP_F64_SUB(D, A, B), 5
#define WB_FIRST_GLOBAL_GET       D = inst->globals[U(1)]->val[0], 4
#define WB_FIRST_I32_ADD          WB_OP_I32_ADD(D, A, B.u32), 5
#define WB_FIRST_I32_ADD_I        WB_IMM_BODY(I32_ADD), 5
#define WB_FIRST_I32_ADD_SHL_I    D.u64 = (uint32_t)(A.u32 + (B.u32 << (U(3) & 31))), 6
#define WB_FIRST_I32_AND          WB_OP_I32_AND(D, A, B.u32), 5
#define WB_FIRST_I32_AND_I        WB_IMM_BODY(I32_AND), 5
#define WB_FIRST_I32_AND_SHL_I    D.u64 = (uint32_t)((A.u32 & U(2)) << (U(3) & 31)), 6
#define WB_FIRST_I32_CTZ          WB_OP_I32_CTZ(D, A), 4
#define WB_FIRST_I32_EQZ          WB_OP_I32_EQZ(D, A), 4
#define WB_FIRST_I32_GT_S         WB_OP_I32_GT_S(D, A, B.u32), 5
#define WB_FIRST_I32_GT_U         WB_OP_I32_GT_U(D, A, B.u32), 5
#define WB_FIRST_I32_LOAD         WB_LOAD_BODY(I32_LOAD, 4), 5
#define WB_FIRST_I32_LOAD16_U     WB_LOAD_BODY(I32_LOAD16_U, 2), 5
#define WB_FIRST_I32_LOAD16_U_A   WB_LOAD_A_BODY(I32_LOAD16_U, 2), 6
#define WB_FIRST_I32_LOAD8_S      WB_LOAD_BODY(I32_LOAD8_S, 1), 5
#define WB_FIRST_I32_LOAD8_U      WB_LOAD_BODY(I32_LOAD8_U, 1), 5
#define WB_FIRST_I32_LOAD8_U_A    WB_LOAD_A_BODY(I32_LOAD8_U, 1), 6
#define WB_FIRST_I32_LOAD8_U_X    WB_LOAD_X_BODY(I32_LOAD8_U, 1), 6
#define WB_FIRST_I32_LOAD_A       WB_LOAD_A_BODY(I32_LOAD, 4), 6
#define WB_FIRST_I32_LOAD_X       WB_LOAD_X_BODY(I32_LOAD, 4), 6
#define WB_FIRST_I32_LT_S         WB_OP_I32_LT_S(D, A, B.u32), 5
#define WB_FIRST_I32_LT_U_I       WB_IMM_BODY(I32_LT_U), 5
#define WB_FIRST_I32_MUL_I        WB_IMM_BODY(I32_MUL), 5
#define WB_FIRST_I32_NE           WB_OP_I32_NE(D, A, B.u32), 5
#define WB_FIRST_I32_OR           WB_OP_I32_OR(D, A, B.u32), 5
#define WB_FIRST_I32_OR_I         WB_IMM_BODY(I32_OR), 5
#define WB_FIRST_I32_ROTL_I       WB_IMM_BODY(I32_ROTL), 5
#define WB_FIRST_I32_SHL          WB_OP_I32_SHL(D, A, B.u32), 5
#define WB_FIRST_I32_SHL_I        WB_IMM_BODY(I32_SHL), 5
#define WB_FIRST_I32_SHR_S_I      WB_IMM_BODY(I32_SHR_S), 5
#define WB_FIRST_I32_SHR_U_AND_I  D.u64 = (A.u32 >> (U(2) & 31)) & U(3), 6
#define WB_FIRST_I32_SHR_U_I      WB_IMM_BODY(I32_SHR_U), 5
#define WB_FIRST_I32_STORE        WB_STORE_BODY(I32_STORE, 4), 5
#define WB_FIRST_I32_STORE8       WB_STORE_BODY(I32_STORE8, 1), 5
#define WB_FIRST_I32_STORE8_A     WB_STORE_A_BODY(I32_STORE8, 1), 6
#define WB_FIRST_I32_STORE_A      WB_STORE_A_BODY(I32_STORE, 4), 6
#define WB_FIRST_I32_SUB          WB_OP_I32_SUB(D, A, B.u32), 5
#define WB_FIRST_I32_WRAP_I64     WB_OP_I32_WRAP_I64(D, A), 4
#define WB_FIRST_I32_XOR          WB_OP_I32_XOR(D, A, B.u32), 5
#define WB_FIRST_I32_XOR_I        WB_IMM_BODY(I32_XOR), 5
#define WB_FIRST_I64_ADD          WB_OP_I64_ADD(D, A, B.u64), 5
#define WB_FIRST_I64_ADD_I        WB_IMM_BODY(I64_ADD), 5
#define WB_FIRST_I64_AND          WB_OP_I64_AND(D, A, B.u64), 5
#define WB_FIRST_I64_EQ           WB_OP_I64_EQ(D, A, B.u64), 5
#define WB_FIRST_I64_EXTEND_I32_S WB_OP_I64_EXTEND_I32_S(D, A), 4
#define WB_FIRST_I64_EXTEND_I32_U WB_OP_I64_EXTEND_I32_U(D, A), 4
#define WB_FIRST_I64_LOAD         WB_LOAD_BODY(I64_LOAD, 8), 5
#define WB_FIRST_I64_LOAD_A       WB_LOAD_A_BODY(I64_LOAD, 8), 6
#define WB_FIRST_I64_MUL          WB_OP_I64_MUL(D, A, B.u64), 5
#define WB_FIRST_I64_STORE        WB_STORE_BODY(I64_STORE, 8), 5
#define WB_FIRST_I64_STORE_A      WB_STORE_A_BODY(I64_STORE, 8), 6
#define WB_FIRST_SELECT           D = SLOT(3).i32 ? A : B, 6
#define WB_PAIR_RUN(body, len)                                                                     \
    body;                                                                                          \
    ip += (len)
#define WB_PAIR_RUN_(...) WB_PAIR_RUN(__VA_ARGS__)
#define WB_PAIR(A_, B_)                                                                            \
    L_##A_##_THEN_##B_ : WB_PAIR_RUN_(WB_FIRST_##A_);                                              \
    goto L_##B_;
    WB_PAIR_OPS(WB_PAIR)
#undef WB_PAIR

    /* ---- SIMD ---- */
#include "wasm/interp_simd.h"

trap:
    s->rec_top = rec;
    wb__trap_set(s, trap_kind, rec, NULL);
trap_recorded:
    return -1;
}

#undef U
#undef SLOT
#undef D
#undef A
#undef B
#undef IMM
#undef DISPATCH
#undef NEXT
#undef JUMP
#undef TRAP
#undef PUSH_FRAME
#undef RELOAD_MEM
#undef EA
#undef EA_ADD
#undef OUT_OF
