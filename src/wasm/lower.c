/* Lowering: each validated function body → internal code (see lower.h), once per module.
 *
 * The wasm operand stack is mapped to frame slots at lowering time. Entries of the compile-time
 * stack are lazy where that is safe: `local.get` pushes a reference to the local's slot and
 * constants stay immediates, so `local.get a; local.get b; i32.add; local.set c` becomes one
 * instruction `I32_ADD c, a, b`. Lazy entries are materialised (copied into their canonical slot)
 * before the local they name is written, at block boundaries and where an instruction needs a slot.
 * Compare-then-branch pairs are fused, and a result feeding `local.set`/`local.tee` is written
 * straight into the local. The input is trusted: the validator has accepted it. */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "wasm/limits.h"
#include "wasm/lower.h"
#include "wasm/module.h"
#include "wasm/reader.h"
#include "wasm/runtime.h"

#define NONE       UINT32_MAX
#define PAIR_SLOTS 1024 /* the hash table of WB_PAIR_OPS */

enum vkind { V_TEMP, V_LOCAL, V_CONST };

typedef struct vval {
    uint8_t type;
    uint8_t kind;
    uint32_t slot;  /* canonical slot of this stack position */
    uint32_t local; /* V_LOCAL: the local's slot; V_CONST unused */
    uint32_t lidx;  /* V_LOCAL: the local's index */
    uint64_t bits[2];
} vval;

enum fkind { F_BLOCK, F_LOOP, F_IF, F_FUNC };

typedef struct patch {
    uint32_t instr; /* start of the branching instruction */
    uint32_t unit;  /* unit holding the offset */
} patch;

typedef struct cframe {
    uint8_t kind;
    bool unreachable; /* the rest of this block is dead */
    bool dead;        /* opened inside dead code: nothing of it is emitted */
    bool has_else;
    bool branched; /* some branch targets this frame's label */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint32_t height;    /* stack entries below the params */
    uint32_t slot_base; /* canonical slot of the first param / result */
    uint32_t loop_pc;   /* F_LOOP: code position of the header */
    patch else_patch;   /* F_IF: the branch to the else arm */
    bool has_else_patch;
    patch *patches;
    uint32_t npatches, cap;
} cframe;

typedef struct cond {
    uint32_t iop;  /* a BR_* form */
    uint32_t a, b; /* slot operands or immediate */
    bool binary;
} cond;

typedef struct lowerer {
    const wb_module *m;
    const void *const *labels;
    bool ssse3; /* the CPU has pshufb: shuffles and swizzles use their SSSE3 handlers */
    bool ssse3_known;
    uint32_t func_index;
    const wb_functype *type;
    wb_reader r;

    uint32_t *code;
    uint32_t len, cap;
    bool borrowed; /* code points into the module's arena (lower_one), not an array of its own */

    uint32_t nlocals_all; /* params + declared locals */
    uint8_t *local_types;
    uint32_t *local_slot;
    uint32_t *local_refs; /* pending V_LOCAL entries per local */
    uint32_t temp_base;   /* first temporary slot */
    uint32_t scratch;     /* slot for breaking move cycles */
    uint32_t max_slot;    /* one past the highest slot used */

    vval *stack;
    uint32_t height, stack_cap;
    cframe *frames;
    uint32_t depth, frames_cap;

    /* peephole state: the last emitted instruction, and the one before it (prev_iop is
     * WB_IOP_COUNT when unknown), which becomes the last again when the last is taken back */
    uint32_t last_start, last_iop, last_dst;
    uint32_t prev_start, prev_iop, prev_dst;
    /* every instruction of the function so far, in order: where it starts and what it is (for
     * pair_instructions) */
    struct emitted {
        uint32_t start, iop;
    } * emitted;
    uint32_t nemitted, emitted_cap;
    bool pairs_ready; /* pair_keys/pair_iops filled (pair_table_init) */
    uint32_t pair_keys[PAIR_SLOTS], pair_iops[PAIR_SLOTS];
    uint32_t barrier; /* code position of the last bound label */

    wb_error *err;
} lowerer;

/* ---- code emission ---- */

/* Room for more code: twice the capacity. Code being written into the arena moves to an array of
 * its own (the arena's room after it stays free for the next function). */
__attribute__((noinline)) static void grow_code(lowerer *L) {
    uint32_t cap = L->cap ? L->cap * 2 : 256;
    if (L->borrowed) {
        uint32_t *own = wb_reallocarray(NULL, cap, sizeof *own);
        memcpy(own, L->code, (size_t)L->len * sizeof *own);
        L->code = own;
        L->borrowed = false;
    } else {
        L->code = wb_reallocarray(L->code, cap, sizeof *L->code);
    }
    L->cap = cap;
}

static void emit_unit(lowerer *L, uint32_t u) {
    if (L->len == L->cap) grow_code(L);
    L->code[L->len++] = u;
}

static uint32_t emit_op(lowerer *L, uint32_t iop) {
    uint64_t h = (uint64_t)(uintptr_t)L->labels[iop];
    uint32_t start = L->len;
    emit_unit(L, (uint32_t)h);
    emit_unit(L, (uint32_t)(h >> 32));
    L->prev_start = L->last_start;
    L->prev_iop = L->last_iop;
    L->prev_dst = L->last_dst;
    L->last_start = start;
    L->last_iop = iop;
    L->last_dst = NONE;
    WB_VEC_RESERVE(L->emitted, L->emitted_cap, L->nemitted + 1);
    L->emitted[L->nemitted++] = (struct emitted){start, iop};
    return start;
}

/* Remove the last instruction (its operands were read by the caller): the one before it becomes
 * the last, for the next fusion. */
static void take_back_last(lowerer *L) {
    L->nemitted--;
    L->len = L->last_start;
    L->last_start = L->prev_start;
    L->last_iop = L->prev_iop;
    L->last_dst = L->prev_dst;
    L->prev_iop = WB_IOP_COUNT;
    L->prev_dst = NONE;
}

/* The operands of the last instruction when it is `iop` and wrote the temporary `slot` (which
 * nothing else reads: a temporary is consumed once), else NULL. */
static const uint32_t *last_producer(const lowerer *L, uint32_t iop, uint32_t slot) {
    if (L->last_iop != iop || L->last_dst == NONE || L->last_start < L->barrier ||
        L->code[L->last_dst] != slot || slot < L->temp_base)
        return NULL;
    return L->code + L->last_start + WB_HANDLER_UNITS;
}

static void bind_label_here(lowerer *L) {
    L->barrier = L->len;
}

static void patch_to(lowerer *L, patch p, uint32_t target) {
    L->code[p.unit] = (uint32_t)((int32_t)target - (int32_t)p.instr);
}

static void use_slot(lowerer *L, uint32_t slot_end) {
    if (slot_end > L->max_slot) L->max_slot = slot_end;
}

static void emit_copy(lowerer *L, uint32_t dst, uint32_t src) {
    if (L->last_iop == WB_IOP_COPY && L->last_start >= L->barrier &&
        L->last_start + WB_HANDLER_UNITS + 2 == L->len) {
        /* two copies in a row run in one dispatch */
        uint32_t d1 = L->code[L->last_start + 2], s1 = L->code[L->last_start + 3];
        take_back_last(L);
        emit_op(L, WB_IOP_COPY_PAIR);
        emit_unit(L, d1);
        emit_unit(L, s1);
        emit_unit(L, dst);
        emit_unit(L, src);
        return;
    }
    emit_op(L, WB_IOP_COPY);
    emit_unit(L, dst);
    emit_unit(L, src);
}

/* ---- the compile-time operand stack ---- */

static uint32_t next_slot(const lowerer *L) {
    if (L->height == 0) return L->temp_base;
    const vval *top = &L->stack[L->height - 1];
    return top->slot + wb__type_slots(top->type);
}

static vval *push(lowerer *L, uint8_t type, uint8_t kind) {
    WB_VEC_RESERVE(L->stack, L->stack_cap, L->height + 1);
    vval *v = &L->stack[L->height];
    memset(v, 0, sizeof *v);
    v->type = type;
    v->kind = kind;
    v->slot = next_slot(L);
    L->height++;
    use_slot(L, v->slot + wb__type_slots(type));
    return v;
}

static vval pop(lowerer *L) {
    vval v = L->stack[--L->height];
    if (v.kind == V_LOCAL) L->local_refs[v.lidx]--;
    return v;
}

/* Copy a lazy entry into its canonical slot. */
static void materialize(lowerer *L, vval *v) {
    if (v->kind == V_TEMP) return;
    bool wide = v->type == WB_V128;
    if (v->kind == V_LOCAL) {
        if (wide) {
            emit_op(L, WB_IOP_COPY2);
            emit_unit(L, v->slot);
            emit_unit(L, v->local);
        } else {
            emit_copy(L, v->slot, v->local);
        }
        L->local_refs[v->lidx]--;
    } else if (wide) {
        emit_op(L, WB_IOP_V128_CONST);
        emit_unit(L, v->slot);
        emit_unit(L, (uint32_t)v->bits[0]);
        emit_unit(L, (uint32_t)(v->bits[0] >> 32));
        emit_unit(L, (uint32_t)v->bits[1]);
        emit_unit(L, (uint32_t)(v->bits[1] >> 32));
    } else if (v->bits[0] <= UINT32_MAX) {
        emit_op(L, WB_IOP_CONST32);
        emit_unit(L, v->slot);
        emit_unit(L, (uint32_t)v->bits[0]);
    } else {
        emit_op(L, WB_IOP_CONST64);
        emit_unit(L, v->slot);
        emit_unit(L, (uint32_t)v->bits[0]);
        emit_unit(L, (uint32_t)(v->bits[0] >> 32));
    }
    v->kind = V_TEMP;
}

/* The slot an operand can be read from (constants are materialised first). */
static uint32_t operand(lowerer *L, vval *v) {
    if (v->kind == V_LOCAL) return v->local;
    if (v->kind == V_CONST) materialize(L, v);
    return v->slot;
}

/* Before writing local `lidx`: no lazy entry may still refer to its old value. */
static void flush_local_refs(lowerer *L, uint32_t lidx) {
    if (L->local_refs[lidx] == 0) return;
    for (uint32_t i = 0; i < L->height; i++)
        if (L->stack[i].kind == V_LOCAL && L->stack[i].lidx == lidx) materialize(L, &L->stack[i]);
}

static void flush_all_locals(lowerer *L) {
    for (uint32_t i = 0; i < L->height; i++)
        if (L->stack[i].kind == V_LOCAL) materialize(L, &L->stack[i]);
}

/* Push the result of an instruction about to be emitted and return its slot; the caller emits the
 * op (via emit_op) and then calls set_dst with the unit position of the destination operand. */
static uint32_t push_result(lowerer *L, uint8_t type) {
    return push(L, type, V_TEMP)->slot;
}

static void emit_dst(lowerer *L, uint32_t slot) {
    L->last_dst = L->len;
    emit_unit(L, slot);
}

/* ---- moves between slots (branch values, returns) ---- */

typedef struct move {
    uint32_t dst;
    vval src;
    bool done;
} move;

static bool move_reads(const move *mv, uint32_t slot) {
    if (mv->done || mv->src.kind == V_CONST) return false;
    uint32_t s = mv->src.kind == V_LOCAL ? mv->src.local : mv->src.slot;
    return s == slot;
}

/* Emit a parallel move of single-slot pieces; sources are read before any is overwritten. */
static void parallel_move(lowerer *L, move *mv, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (mv[i].src.kind == V_CONST) continue;
        uint32_t s = mv[i].src.kind == V_LOCAL ? mv[i].src.local : mv[i].src.slot;
        if (s == mv[i].dst) mv[i].done = true;
    }
    for (;;) {
        bool progress = false, pending = false;
        for (uint32_t i = 0; i < n; i++) {
            if (mv[i].done || mv[i].src.kind == V_CONST) continue;
            pending = true;
            bool blocked = false;
            for (uint32_t k = 0; k < n && !blocked; k++)
                if (k != i && move_reads(&mv[k], mv[i].dst)) blocked = true;
            if (blocked) continue;
            emit_copy(L, mv[i].dst, mv[i].src.kind == V_LOCAL ? mv[i].src.local : mv[i].src.slot);
            mv[i].done = true;
            progress = true;
        }
        if (!pending) break;
        if (!progress) {
            /* a cycle: park one source in the scratch slot */
            for (uint32_t i = 0; i < n; i++) {
                if (mv[i].done || mv[i].src.kind == V_CONST) continue;
                uint32_t s = mv[i].src.kind == V_LOCAL ? mv[i].src.local : mv[i].src.slot;
                emit_copy(L, L->scratch, s);
                mv[i].src.kind = V_TEMP;
                mv[i].src.slot = L->scratch;
                break;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (mv[i].src.kind != V_CONST) continue;
        vval c = mv[i].src;
        c.slot = mv[i].dst;
        c.type = WB_I64;
        materialize(L, &c);
    }
}

/* Move the top `n` entries (of the given types) into slots starting at dst_base. */
static void move_top_to(lowerer *L, uint32_t n, uint32_t dst_base) {
    if (n == 0) return;
    uint32_t pieces = 0;
    for (uint32_t i = L->height - n; i < L->height; i++) pieces += wb__type_slots(L->stack[i].type);
    move *mv = wb_calloc(pieces, sizeof *mv);
    uint32_t k = 0, dst = dst_base;
    for (uint32_t i = L->height - n; i < L->height; i++) {
        vval v = L->stack[i];
        uint32_t w = wb__type_slots(v.type);
        for (uint32_t j = 0; j < w; j++) {
            vval piece = v;
            if (v.kind == V_LOCAL)
                piece.local = v.local + j;
            else if (v.kind == V_TEMP)
                piece.slot = v.slot + j;
            else
                piece.bits[0] = v.bits[j];
            mv[k].dst = dst++;
            mv[k].src = piece;
            k++;
        }
    }
    use_slot(L, dst);
    parallel_move(L, mv, pieces);
    free(mv);
}

/* True if the top n entries already sit, materialised, at dst_base onwards. */
static bool top_in_place(const lowerer *L, uint32_t n, uint32_t dst_base) {
    uint32_t dst = dst_base;
    for (uint32_t i = L->height - n; i < L->height; i++) {
        const vval *v = &L->stack[i];
        if (v->kind != V_TEMP || v->slot != dst) return false;
        dst += wb__type_slots(v->type);
    }
    return true;
}

/* ---- labels and branches ---- */

static cframe *frame_at(lowerer *L, uint32_t depth) {
    return &L->frames[L->depth - 1 - depth];
}

static uint32_t label_arity(const cframe *f) {
    return f->kind == F_LOOP ? f->nparams : f->nresults;
}

static void add_patch(lowerer *L, cframe *f, uint32_t instr, uint32_t unit) {
    WB_VEC_RESERVE(f->patches, f->cap, f->npatches + 1);
    f->patches[f->npatches++] = (patch){instr, unit};
    f->branched = true;
}

/* Fill the offset unit of the instruction at `instr` to reach frame f's label. */
static void target_label(lowerer *L, cframe *f, uint32_t instr, uint32_t unit) {
    if (f->kind == F_LOOP) {
        L->code[unit] = (uint32_t)((int32_t)f->loop_pc - (int32_t)instr);
        f->branched = true;
    } else {
        add_patch(L, f, instr, unit);
    }
}

static void emit_br(lowerer *L, cframe *f) {
    uint32_t at = emit_op(L, WB_IOP_BR);
    emit_unit(L, 0);
    target_label(L, f, at, at + 2);
}

/* Values a branch to f carries, moved into f's slots (used on the taken path only). */
static void branch_values(lowerer *L, cframe *f) {
    move_top_to(L, label_arity(f), f->slot_base);
}

static uint32_t negate_cmp(uint32_t iop) {
    switch (iop) {
#define NEG(A, B)                                                                                  \
    case WB_IOP_BR_##A: return WB_IOP_BR_##B;                                                      \
    case WB_IOP_BR_##B: return WB_IOP_BR_##A;                                                      \
    case WB_IOP_BR_##A##_I: return WB_IOP_BR_##B##_I;                                              \
    case WB_IOP_BR_##B##_I: return WB_IOP_BR_##A##_I;                                              \
    case WB_IOP_BR64_##A: return WB_IOP_BR64_##B;                                                  \
    case WB_IOP_BR64_##B: return WB_IOP_BR64_##A;                                                  \
    case WB_IOP_BR64_##A##_I: return WB_IOP_BR64_##B##_I;                                          \
    case WB_IOP_BR64_##B##_I: return WB_IOP_BR64_##A##_I;
        NEG(EQ, NE)
        NEG(LT_S, GE_S)
        NEG(LT_U, GE_U)
        NEG(GT_S, LE_S)
        NEG(GT_U, LE_U)
#undef NEG
    case WB_IOP_BR_NZ: return WB_IOP_BR_Z;
    case WB_IOP_BR_Z: return WB_IOP_BR_NZ;
    case WB_IOP_BR64_NZ: return WB_IOP_BR64_Z;
    case WB_IOP_BR64_Z: return WB_IOP_BR64_NZ;
    case WB_IOP_BR_AND_NZ: return WB_IOP_BR_AND_Z;
    case WB_IOP_BR_AND_Z: return WB_IOP_BR_AND_NZ;
    default: return iop;
    }
}

/* The fused branch for a compare op (slot form or _I form), or NONE. */
static uint32_t branch_for_compare(uint32_t iop, bool *binary) {
    *binary = true;
    switch (iop) {
#define MAP(NAME, op, sg)                                                                          \
    case WB_IOP_I32_##NAME: return WB_IOP_BR_##NAME;                                               \
    case WB_IOP_I32_##NAME##_I: return WB_IOP_BR_##NAME##_I;                                       \
    case WB_IOP_I64_##NAME: return WB_IOP_BR64_##NAME;                                             \
    case WB_IOP_I64_##NAME##_I: return WB_IOP_BR64_##NAME##_I;
        WB_CMP_OPS(MAP)
#undef MAP
    case WB_IOP_I32_EQZ: *binary = false; return WB_IOP_BR_Z;
    case WB_IOP_I64_EQZ: *binary = false; return WB_IOP_BR64_Z;
    default: return NONE;
    }
}

/* Pop an i32 condition; when it is the result of the compare just emitted, take the compare back
 * and return the fused branch form instead. */
static cond pop_cond(lowerer *L) {
    cond c = {0};
    vval *top = &L->stack[L->height - 1];
    bool binary;
    uint32_t br;
    if (top->kind == V_TEMP && L->last_dst != NONE && L->last_start >= L->barrier &&
        L->code[L->last_dst] == top->slot &&
        (br = branch_for_compare(L->last_iop, &binary)) != NONE) {
        const uint32_t *ops = L->code + L->last_start + WB_HANDLER_UNITS;
        c.iop = br;
        c.binary = binary;
        c.a = ops[1];
        c.b = binary ? ops[2] : 0;
        take_back_last(L); /* drop the compare */
        pop(L);
    } else {
        vval v = pop(L);
        c.iop = WB_IOP_BR_NZ;
        c.a = operand(L, &v);
    }
    /* a test of (x & mask): one test-and-branch */
    const uint32_t *and;
    if ((c.iop == WB_IOP_BR_NZ || c.iop == WB_IOP_BR_Z) &&
        (and = last_producer(L, WB_IOP_I32_AND_I, c.a)) != NULL) {
        c.iop = c.iop == WB_IOP_BR_NZ ? WB_IOP_BR_AND_NZ : WB_IOP_BR_AND_Z;
        c.a = and[1];
        c.b = and[2];
        c.binary = true;
        take_back_last(L);
    }
    return c;
}

/* Emit a conditional branch; returns its position (offset unit at +2+nops). */
static patch emit_cond_branch(lowerer *L, cond c) {
    uint32_t at = emit_op(L, c.iop);
    emit_unit(L, c.a);
    if (c.binary) emit_unit(L, c.b);
    uint32_t unit = L->len;
    emit_unit(L, 0);
    return (patch){at, unit};
}

/* ---- blocks ---- */

static void block_type(lowerer *L, int64_t bt, uint32_t *np, const uint8_t **p, uint32_t *nr,
                       const uint8_t **r) {
    static const uint8_t single[] = {WB_I32,  WB_I64,     WB_F32,      WB_F64,
                                     WB_V128, WB_FUNCREF, WB_EXTERNREF};
    *np = 0;
    *p = NULL;
    *nr = 0;
    *r = NULL;
    if (bt == -64) return;
    if (bt < 0) {
        uint8_t t = (uint8_t)(bt & 0x7f);
        for (size_t i = 0; i < sizeof single; i++)
            if (single[i] == t) *r = &single[i];
        *nr = 1;
        return;
    }
    const wb_functype *ft = &L->m->types[bt];
    *np = ft->nparams;
    *p = ft->types;
    *nr = ft->nresults;
    *r = ft->types + ft->nparams;
}

static cframe *push_frame(lowerer *L, uint8_t kind, int64_t bt, bool dead) {
    WB_VEC_RESERVE(L->frames, L->frames_cap, L->depth + 1);
    cframe *f = &L->frames[L->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->dead = dead;
    if (dead) return f;
    block_type(L, bt, &f->nparams, &f->params, &f->nresults, &f->results);
    f->height = L->height - f->nparams;
    f->slot_base = f->height < L->height ? L->stack[f->height].slot : next_slot(L);
    return f;
}

/* Entering a block: lazy locals anywhere and the block's params must be in their slots. */
static void enter_block(lowerer *L, uint32_t nparams) {
    flush_all_locals(L);
    for (uint32_t i = L->height - nparams; i < L->height; i++) materialize(L, &L->stack[i]);
}

static void reset_stack_to(lowerer *L, uint32_t height, uint32_t n, const uint8_t *types) {
    while (L->height > height) pop(L);
    for (uint32_t i = 0; i < n; i++) push(L, types[i], V_TEMP);
}

static void mark_unreachable(lowerer *L) {
    cframe *f = &L->frames[L->depth - 1];
    f->unreachable = true;
    while (L->height > f->height) pop(L);
}

static bool is_dead(const lowerer *L) {
    const cframe *f = &L->frames[L->depth - 1];
    return f->dead || f->unreachable;
}

static void emit_return(lowerer *L) {
    uint32_t n = L->type->nresults;
    if (n == 1 && L->type->result_slots == 1) {
        vval *v = &L->stack[L->height - 1];
        if (v->kind == V_CONST) {
            vval c = *v;
            c.slot = 0;
            materialize(L, &c);
            emit_op(L, WB_IOP_RETURN);
        } else {
            emit_op(L, WB_IOP_RETURN1);
            emit_unit(L, v->kind == V_LOCAL ? v->local : v->slot);
        }
        return;
    }
    move_top_to(L, n, 0);
    emit_op(L, WB_IOP_RETURN);
}

static void do_end(lowerer *L) {
    cframe *f = &L->frames[L->depth - 1];
    if (f->dead) {
        free(f->patches);
        L->depth--;
        return;
    }
    if (f->kind == F_FUNC) {
        /* branches to the function's label were lowered as returns */
        if (!f->unreachable) emit_return(L);
        free(f->patches);
        L->depth--;
        return;
    }
    bool reachable_after = !f->unreachable || f->branched || (f->kind == F_IF && !f->has_else);
    if (!f->unreachable) move_top_to(L, f->nresults, f->slot_base);
    if (f->kind == F_IF && !f->has_else) patch_to(L, f->else_patch, L->len);
    for (uint32_t i = 0; i < f->npatches; i++) patch_to(L, f->patches[i], L->len);
    bind_label_here(L);
    uint32_t height = f->height, nr = f->nresults;
    const uint8_t *results = f->results;
    free(f->patches);
    L->depth--;
    reset_stack_to(L, height, nr, results);
    if (!reachable_after) mark_unreachable(L);
}

static void do_else(lowerer *L) {
    cframe *f = &L->frames[L->depth - 1];
    if (f->dead) return;
    if (!f->unreachable) {
        move_top_to(L, f->nresults, f->slot_base);
        emit_br(L, f);
    }
    patch_to(L, f->else_patch, L->len);
    bind_label_here(L);
    f->has_else = true;
    f->unreachable = false;
    reset_stack_to(L, f->height, f->nparams, f->params);
}

/* ---- branches ---- */

static void do_br(lowerer *L, uint32_t depth) {
    cframe *f = frame_at(L, depth);
    if (f->kind == F_FUNC) {
        emit_return(L);
    } else {
        branch_values(L, f);
        emit_br(L, f);
    }
    mark_unreachable(L);
}

static void do_br_if(lowerer *L, uint32_t depth) {
    cframe *f = frame_at(L, depth);
    uint32_t n = f->kind == F_FUNC ? L->type->nresults : label_arity(f);
    uint32_t dst = f->kind == F_FUNC ? 0 : f->slot_base;
    cond c = pop_cond(L);
    /* values already at the label's height only need materialising, on both paths */
    if (f->kind != F_FUNC && L->height - n == f->height) {
        for (uint32_t i = L->height - n; i < L->height; i++) materialize(L, &L->stack[i]);
    }
    if (f->kind != F_FUNC && top_in_place(L, n, dst)) {
        patch p = emit_cond_branch(L, c);
        target_label(L, f, p.instr, p.unit);
        return;
    }
    /* otherwise: skip over the moves when not taken */
    c.iop = negate_cmp(c.iop);
    patch skip = emit_cond_branch(L, c);
    if (f->kind == F_FUNC) {
        emit_return(L);
    } else {
        branch_values(L, f);
        emit_br(L, f);
    }
    patch_to(L, skip, L->len);
    bind_label_here(L);
}

static void do_br_table(lowerer *L, const uint32_t *targets, uint32_t n) {
    /* an index computed as x + k (a switch over a range not starting at 0): BR_TABLE_I */
    const uint32_t *add = last_producer(L, WB_IOP_I32_ADD_I, L->stack[L->height - 1].slot);
    uint32_t bias = 0;
    bool biased = add && L->stack[L->height - 1].kind == V_TEMP;
    uint32_t islot;
    if (biased) {
        islot = add[1];
        bias = add[2];
        take_back_last(L);
        pop(L);
    } else {
        vval idx = pop(L);
        islot = operand(L, &idx);
    }
    /* when every label sits at the same height, values are materialised once, in place */
    cframe *def = frame_at(L, targets[n]);
    uint32_t arity = def->kind == F_FUNC ? L->type->nresults : label_arity(def);
    bool all_direct = true;
    for (uint32_t i = 0; i <= n; i++) {
        cframe *f = frame_at(L, targets[i]);
        if (f->kind == F_FUNC || L->height - arity != f->height) all_direct = false;
    }
    if (all_direct)
        for (uint32_t i = L->height - arity; i < L->height; i++) materialize(L, &L->stack[i]);
    uint32_t at = emit_op(L, biased ? WB_IOP_BR_TABLE_I : WB_IOP_BR_TABLE);
    emit_unit(L, islot);
    emit_unit(L, n);
    if (biased) emit_unit(L, bias);
    uint32_t table = L->len;
    for (uint32_t i = 0; i <= n; i++) emit_unit(L, 0);
    for (uint32_t i = 0; i <= n; i++) {
        cframe *f = frame_at(L, targets[i]);
        if (all_direct) {
            target_label(L, f, at, table + i);
            continue;
        }
        /* a stub per entry that moves the values then branches */
        L->code[table + i] = L->len - at;
        bind_label_here(L);
        if (f->kind == F_FUNC) {
            emit_return(L);
        } else {
            branch_values(L, f);
            emit_br(L, f);
        }
    }
    mark_unreachable(L);
}

/* ---- calls ---- */

static void do_call_common(lowerer *L, const wb_functype *ft, uint32_t iop, uint32_t a, uint32_t b,
                           uint32_t c, uint32_t nextra) {
    uint32_t np = ft->nparams;
    for (uint32_t i = L->height - np; i < L->height; i++) materialize(L, &L->stack[i]);
    uint32_t base = np ? L->stack[L->height - np].slot : next_slot(L);
    for (uint32_t i = 0; i < np; i++) pop(L);
    uint32_t at = emit_op(L, iop);
    emit_unit(L, a);
    if (nextra > 1) emit_unit(L, b);
    if (nextra > 2) emit_unit(L, c);
    emit_unit(L, base);
    (void)at;
    for (uint32_t i = 0; i < ft->nresults; i++) push(L, ft->types[np + i], V_TEMP);
    use_slot(L, base + ft->result_slots);
}

static void do_call(lowerer *L, uint32_t fidx) {
    const wb_module *m = L->m;
    const wb_functype *ft = wb__func_type(m, fidx);
    if (fidx < m->nimported_funcs) {
        do_call_common(L, ft, WB_IOP_CALL_IMPORT, fidx, 0, 0, 1);
        return;
    }
    const wb_code *callee = &m->funcs[fidx - m->nimported_funcs].lowered;
    uint64_t p = (uint64_t)(uintptr_t)callee;
    do_call_common(L, ft, WB_IOP_CALL, (uint32_t)p, (uint32_t)(p >> 32), 0, 2);
}

static void do_call_indirect(lowerer *L, uint32_t type_index, uint32_t table) {
    /* the element index sits above the args; the handler reads it before the callee's frame
     * (which starts at the first arg) is set up, so its slot may be shared with that frame */
    vval e = pop(L);
    uint32_t eslot = operand(L, &e);
    do_call_common(L, &L->m->types[type_index], WB_IOP_CALL_INDIRECT, table, type_index, eslot, 3);
}

/* ---- numeric ops ---- */

static bool has_imm_form(uint32_t iop, uint32_t *imm_iop) {
    switch (iop) {
#define IMM(NAME)                                                                                  \
    case WB_IOP_##NAME: *imm_iop = WB_IOP_##NAME##_I; return true;
        WB_IMM_BINOPS(IMM)
#undef IMM
    default: return false;
    }
}

/* For a constant left operand: the op with operands swapped, if there is one. */
static uint32_t swapped_op(uint32_t iop) {
    switch (iop) {
    case WB_IOP_I32_ADD:
    case WB_IOP_I32_MUL:
    case WB_IOP_I32_AND:
    case WB_IOP_I32_OR:
    case WB_IOP_I32_XOR:
    case WB_IOP_I32_EQ:
    case WB_IOP_I32_NE:
    case WB_IOP_I64_ADD:
    case WB_IOP_I64_MUL:
    case WB_IOP_I64_AND:
    case WB_IOP_I64_OR:
    case WB_IOP_I64_XOR:
    case WB_IOP_I64_EQ:
    case WB_IOP_I64_NE: return iop;
#define SW(A, B)                                                                                   \
    case WB_IOP_I32_##A: return WB_IOP_I32_##B;                                                    \
    case WB_IOP_I32_##B: return WB_IOP_I32_##A;                                                    \
    case WB_IOP_I64_##A: return WB_IOP_I64_##B;                                                    \
    case WB_IOP_I64_##B: return WB_IOP_I64_##A;
        SW(LT_S, GT_S)
        SW(LT_U, GT_U)
        SW(LE_S, GE_S)
        SW(LE_U, GE_U)
#undef SW
    default: return NONE;
    }
}

static bool const_fits_imm(const vval *v) {
    if (v->kind != V_CONST) return false;
    if (v->type == WB_I32) return true;
    int64_t x = (int64_t)v->bits[0];
    return v->type == WB_I64 && x >= INT32_MIN && x <= INT32_MAX;
}

/* Two ops in one, where the first's result is a temporary only the second reads:
 *   (x >> s) & m  →  I32_SHR_U_AND_I d x s m     (bit fields: decoding a bytecode, unpacking)
 *   (x & m) << s  →  I32_AND_SHL_I d x m s
 *   a + (x << s)  →  I32_ADD_SHL_I d a x s       (indexing an array of 2^s-byte elements)
 * Returns false when the pattern is not there (nothing emitted). */
static bool fuse_binop(lowerer *L, uint32_t iop, const vval *a, const vval *b) {
    const uint32_t *first;
    uint32_t fused, x, k1, other = 0;
    if (iop == WB_IOP_I32_AND && b->kind == V_CONST && a->kind == V_TEMP &&
        (first = last_producer(L, WB_IOP_I32_SHR_U_I, a->slot))) {
        fused = WB_IOP_I32_SHR_U_AND_I;
    } else if (iop == WB_IOP_I32_SHL && b->kind == V_CONST && a->kind == V_TEMP &&
               (first = last_producer(L, WB_IOP_I32_AND_I, a->slot))) {
        fused = WB_IOP_I32_AND_SHL_I;
    } else if (iop == WB_IOP_I32_ADD && b->kind == V_TEMP && a->kind != V_CONST &&
               (first = last_producer(L, WB_IOP_I32_SHL_I, b->slot))) {
        fused = WB_IOP_I32_ADD_SHL_I;
        other = a->kind == V_LOCAL ? a->local : a->slot;
    } else if (iop == WB_IOP_I32_ADD && a->kind == V_TEMP && b->kind == V_LOCAL &&
               (first = last_producer(L, WB_IOP_I32_SHL_I, a->slot))) {
        fused = WB_IOP_I32_ADD_SHL_I;
        other = b->local;
    } else {
        return false;
    }
    x = first[1];
    k1 = first[2];
    take_back_last(L);
    uint32_t d = push_result(L, WB_I32);
    emit_op(L, fused);
    emit_dst(L, d);
    if (fused == WB_IOP_I32_ADD_SHL_I) {
        emit_unit(L, other);
        emit_unit(L, x);
        emit_unit(L, k1);
    } else {
        emit_unit(L, x);
        emit_unit(L, k1);
        emit_unit(L, (uint32_t)b->bits[0]);
    }
    return true;
}

static void do_binop(lowerer *L, uint32_t iop, uint8_t rtype) {
    vval b = pop(L), a = pop(L);
    uint32_t imm_iop, sw;
    if (fuse_binop(L, iop, &a, &b)) return;
    if (const_fits_imm(&b) && has_imm_form(iop, &imm_iop)) {
        if (iop == WB_IOP_I32_SUB) {
            imm_iop = WB_IOP_I32_ADD_I;
            b.bits[0] = (uint32_t)(0u - (uint32_t)b.bits[0]);
        } else if (iop == WB_IOP_I64_SUB && (int64_t)b.bits[0] != INT32_MIN) {
            imm_iop = WB_IOP_I64_ADD_I;
            b.bits[0] = (uint64_t)(-(int64_t)b.bits[0]);
        }
        uint32_t as = operand(L, &a);
        uint32_t d = push_result(L, rtype);
        emit_op(L, imm_iop);
        emit_dst(L, d);
        emit_unit(L, as);
        emit_unit(L, (uint32_t)b.bits[0]);
        return;
    }
    if (const_fits_imm(&a) && b.kind != V_CONST && (sw = swapped_op(iop)) != NONE &&
        has_imm_form(sw, &imm_iop)) {
        uint32_t bs = operand(L, &b);
        uint32_t d = push_result(L, rtype);
        emit_op(L, imm_iop);
        emit_dst(L, d);
        emit_unit(L, bs);
        emit_unit(L, (uint32_t)a.bits[0]);
        return;
    }
    uint32_t as = operand(L, &a), bs = operand(L, &b);
    uint32_t d = push_result(L, rtype);
    emit_op(L, iop);
    emit_dst(L, d);
    emit_unit(L, as);
    emit_unit(L, bs);
}

/* The integer compare with the opposite result, or NONE. */
static uint32_t negated_compare(uint32_t iop) {
    switch (iop) {
#define NEG(A, B)                                                                                  \
    case WB_IOP_I32_##A: return WB_IOP_I32_##B;                                                    \
    case WB_IOP_I32_##B: return WB_IOP_I32_##A;                                                    \
    case WB_IOP_I32_##A##_I: return WB_IOP_I32_##B##_I;                                            \
    case WB_IOP_I32_##B##_I: return WB_IOP_I32_##A##_I;                                            \
    case WB_IOP_I64_##A: return WB_IOP_I64_##B;                                                    \
    case WB_IOP_I64_##B: return WB_IOP_I64_##A;                                                    \
    case WB_IOP_I64_##A##_I: return WB_IOP_I64_##B##_I;                                            \
    case WB_IOP_I64_##B##_I: return WB_IOP_I64_##A##_I;
        NEG(EQ, NE)
        NEG(LT_S, GE_S)
        NEG(LT_U, GE_U)
        NEG(GT_S, LE_S)
        NEG(GT_U, LE_U)
#undef NEG
    default: return NONE;
    }
}

static void rewrite_handler(lowerer *L, uint32_t at, uint32_t iop) {
    uint64_t h = (uint64_t)(uintptr_t)L->labels[iop];
    L->code[at] = (uint32_t)h;
    L->code[at + 1] = (uint32_t)(h >> 32);
    if (at == L->last_start) L->last_iop = iop;
    for (uint32_t i = L->nemitted; i-- > 0;)
        if (L->emitted[i].start == at) {
            L->emitted[i].iop = iop;
            break;
        }
}

/* WB_PAIR_OPS as a hash table: (first << 16 | second) → the pair's instruction (no pair starts
 * with HALT, instruction 0, so key 0 marks a free slot). */
#define PAIR_KEY(a, b) ((a) << 16 | (b))
_Static_assert(WB_IOP_COUNT < 1u << 16, "pair keys hold two instructions");

static uint32_t pair_hash(uint32_t key) {
    return (key * 2654435761u) >> 22;
}

static void pair_table_init(lowerer *L) {
    static const uint32_t pairs[][3] = {
#define PAIR(A, B) {WB_IOP_##A, WB_IOP_##B, WB_IOP_##A##_THEN_##B},
        WB_PAIR_OPS(PAIR)
#undef PAIR
    };
    _Static_assert(sizeof pairs / sizeof *pairs < PAIR_SLOTS / 2, "the pair table stays sparse");
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        uint32_t key = PAIR_KEY(pairs[i][0], pairs[i][1]), h = pair_hash(key);
        while (L->pair_keys[h]) h = (h + 1) % PAIR_SLOTS;
        L->pair_keys[h] = key;
        L->pair_iops[h] = pairs[i][2];
    }
    L->pairs_ready = true;
}

/* The instruction running `a` then `b` (WB_PAIR_OPS), or NONE. */
static uint32_t pair_iop(const lowerer *L, uint32_t a, uint32_t b) {
    uint32_t key = PAIR_KEY(a, b);
    for (uint32_t h = pair_hash(key); L->pair_keys[h]; h = (h + 1) % PAIR_SLOTS)
        if (L->pair_keys[h] == key) return L->pair_iops[h];
    return NONE;
}

/* The function is complete: where an instruction of a frequent pair is followed by the other,
 * the first's handler becomes the pair's, which runs both with one dispatch. The second keeps
 * its own handler for branches that land on it, so no offset changes. From the end backwards,
 * so that the second may itself have become a pair (a chain of three, where WB_PAIR_OPS lists
 * the first with that pair). */
static void pair_instructions(lowerer *L) {
    if (!L->pairs_ready) pair_table_init(L);
    if (L->nemitted < 2) return;
    uint32_t next_final = L->emitted[L->nemitted - 1].iop; /* what the next one has become */
    for (uint32_t i = L->nemitted - 1; i-- > 0;) {
        const struct emitted *e = &L->emitted[i];
        uint32_t p = pair_iop(L, e->iop, next_final);
        if (p == NONE) p = pair_iop(L, e->iop, e[1].iop);
        next_final = p == NONE ? e->iop : p;
        if (p == NONE) continue;
        uint64_t h = (uint64_t)(uintptr_t)L->labels[p];
        L->code[e->start] = (uint32_t)h;
        L->code[e->start + 1] = (uint32_t)(h >> 32);
    }
}

static void do_unop(lowerer *L, uint32_t iop, uint8_t rtype) {
    vval *top = &L->stack[L->height - 1];
    uint32_t neg;
    /* i32.eqz of a compare just made: the opposite compare */
    if (iop == WB_IOP_I32_EQZ && top->kind == V_TEMP && L->last_dst != NONE &&
        L->last_start >= L->barrier && L->code[L->last_dst] == top->slot &&
        (neg = negated_compare(L->last_iop)) != NONE) {
        rewrite_handler(L, L->last_start, neg);
        return;
    }
    vval a = pop(L);
    uint32_t as = operand(L, &a);
    uint32_t d = push_result(L, rtype);
    emit_op(L, iop);
    emit_dst(L, d);
    emit_unit(L, as);
}

/* ---- locals ---- */

static void do_local_set(lowerer *L, uint32_t lidx, bool tee) {
    uint32_t lslot = L->local_slot[lidx];
    vval *top = &L->stack[L->height - 1];
    bool wide = top->type == WB_V128;
    if (top->kind == V_LOCAL && top->lidx == lidx) {
        if (!tee) pop(L);
        return;
    }
    vval v = pop(L);
    bool fusable = v.kind == V_TEMP && L->last_dst != NONE && L->last_start >= L->barrier &&
                   L->code[L->last_dst] == v.slot && L->local_refs[lidx] == 0;
    if (fusable) {
        L->code[L->last_dst] = lslot;
        L->last_dst = NONE;
    } else {
        flush_local_refs(L, lidx);
        if (v.kind == V_CONST) {
            vval c = v;
            c.slot = lslot;
            materialize(L, &c);
        } else if (wide) {
            emit_op(L, WB_IOP_COPY2);
            emit_unit(L, lslot);
            emit_unit(L, v.kind == V_LOCAL ? v.local : v.slot);
        } else {
            emit_copy(L, lslot, v.kind == V_LOCAL ? v.local : v.slot);
        }
    }
    if (tee) {
        vval *n = push(L, v.type, V_LOCAL);
        n->local = lslot;
        n->lidx = lidx;
        L->local_refs[lidx]++;
    }
}

/* ---- memory ---- */

static uint32_t mem_iop(uint8_t opcode) {
    switch (opcode) {
#define M(opc, NAME, t, lg, st)                                                                    \
    case opc: return WB_IOP_##NAME;
        WB_MEMORY_OPS(M)
#undef M
    default: return NONE;
    }
}

static uint8_t mem_type(uint8_t opcode) {
    switch (opcode) {
#define M(opc, NAME, t, lg, st)                                                                    \
    case opc: return WB_##t;
        WB_MEMORY_OPS(M)
#undef M
    default: return 0;
    }
}

/* The fused load-from-(x + k) form of a load opcode (_X when k is a slot, _A a constant). */
#define LOAD_ADD_CASE(opc, NAME, t, lg, st) LOAD_ADD_CASE_##st(opc, NAME)
#define LOAD_ADD_CASE_0(opc, NAME)                                                                 \
    case opc:                                                                                      \
        return two_slots ? WB_IOP_##NAME##_X : WB_IOP_##NAME##_A;
#define LOAD_ADD_CASE_1(opc, NAME)

static uint32_t load_add_iop(uint8_t opcode, bool two_slots) {
    switch (opcode) {
        WB_MEMORY_OPS(LOAD_ADD_CASE)
    default: return NONE;
    }
}

/* When the address on top of the stack was just computed by an i32.add (slot + slot, or slot +
 * constant), take that add back: pop the address and return its operands, for a load that adds
 * them itself. */
static bool take_address_add(lowerer *L, uint32_t *x, uint32_t *k, bool *two_slots) {
    vval *top = &L->stack[L->height - 1];
    if (top->kind != V_TEMP || L->last_dst == NONE || L->last_start < L->barrier ||
        L->code[L->last_dst] != top->slot ||
        (L->last_iop != WB_IOP_I32_ADD_I && L->last_iop != WB_IOP_I32_ADD))
        return false;
    const uint32_t *ops = L->code + L->last_start + WB_HANDLER_UNITS;
    *x = ops[1];
    *k = ops[2];
    *two_slots = L->last_iop == WB_IOP_I32_ADD;
    take_back_last(L);
    pop(L);
    return true;
}

static void do_load(lowerer *L, uint8_t opcode, uint32_t offset) {
    uint32_t x, k;
    bool two_slots;
    /* an address just computed as x + constant: fold the add into the load */
    if (take_address_add(L, &x, &k, &two_slots)) {
        uint32_t d = push_result(L, mem_type(opcode));
        emit_op(L, load_add_iop(opcode, two_slots));
        emit_dst(L, d);
        emit_unit(L, x);
        emit_unit(L, offset);
        emit_unit(L, k);
        return;
    }
    vval a = pop(L);
    uint32_t as = operand(L, &a);
    uint32_t d = push_result(L, mem_type(opcode));
    emit_op(L, mem_iop(opcode));
    emit_dst(L, d);
    emit_unit(L, as);
    emit_unit(L, offset);
}

/* The fused store-to-(x + k) form of a store opcode (_X when k is a slot, _A a constant). */
#define STORE_ADD_CASE(opc, NAME, t, lg, st) STORE_ADD_CASE_##st(opc, NAME)
#define STORE_ADD_CASE_1(opc, NAME)                                                                \
    case opc:                                                                                      \
        return two_slots ? WB_IOP_##NAME##_X : WB_IOP_##NAME##_A;
#define STORE_ADD_CASE_0(opc, NAME)

static uint32_t store_add_iop(uint8_t opcode, bool two_slots) {
    switch (opcode) {
        WB_MEMORY_OPS(STORE_ADD_CASE)
    default: return NONE;
    }
}

static void do_store(lowerer *L, uint8_t opcode, uint32_t offset) {
    /* an address just computed as x + k, with a value that needs no instruction of its own (a
     * local, or a constant whose slot the add does not read): fold the add into the store */
    vval *av = &L->stack[L->height - 2], *vv = &L->stack[L->height - 1];
    const uint32_t *add = NULL;
    bool two_slots = false;
    if (av->kind == V_TEMP && vv->kind != V_TEMP) {
        if ((add = last_producer(L, WB_IOP_I32_ADD_I, av->slot)) == NULL &&
            (add = last_producer(L, WB_IOP_I32_ADD, av->slot)) != NULL)
            two_slots = true;
        if (add && vv->kind == V_CONST && (vv->slot == add[1] || (two_slots && vv->slot == add[2])))
            add = NULL;
    }
    if (add) {
        uint32_t x = add[1], k = add[2];
        take_back_last(L);
        vval v = pop(L);
        pop(L);
        uint32_t vs = operand(L, &v);
        emit_op(L, store_add_iop(opcode, two_slots));
        emit_unit(L, x);
        emit_unit(L, vs);
        emit_unit(L, offset);
        emit_unit(L, k);
        return;
    }
    vval v = pop(L), a = pop(L);
    uint32_t as = operand(L, &a), vs = operand(L, &v);
    emit_op(L, mem_iop(opcode));
    emit_unit(L, as);
    emit_unit(L, vs);
    emit_unit(L, offset);
}

/* Generic op with n slot operands popped (in push order) and an optional result. */
static void do_slots_op(lowerer *L, uint32_t iop, uint32_t npop, const uint32_t *imms,
                        uint32_t nimm, uint8_t rtype) {
    vval vals[4];
    uint32_t slots[4];
    for (uint32_t i = npop; i-- > 0;) vals[i] = pop(L);
    for (uint32_t i = 0; i < npop; i++) slots[i] = operand(L, &vals[i]);
    uint32_t d = rtype ? push_result(L, rtype) : 0;
    emit_op(L, iop);
    if (rtype) emit_dst(L, d);
    for (uint32_t i = 0; i < nimm; i++) emit_unit(L, imms[i]);
    for (uint32_t i = 0; i < npop; i++) emit_unit(L, slots[i]);
}

/* ---- the instruction loop ---- */

static uint32_t numeric_iop(uint8_t opcode, uint8_t *rtype, bool *binary) {
    switch (opcode) {
#define N(opc, NAME, a, b, r)                                                                      \
    case opc:                                                                                      \
        *rtype = WB_##r;                                                                           \
        *binary = WB_NUMERIC_BINARY_##b;                                                           \
        return WB_IOP_##NAME;
#define WB_NUMERIC_BINARY_NONE false
#define WB_NUMERIC_BINARY_I32  true
#define WB_NUMERIC_BINARY_I64  true
#define WB_NUMERIC_BINARY_F32  true
#define WB_NUMERIC_BINARY_F64  true
        WB_NUMERIC_OPS(N)
#undef N
    default: return NONE;
    }
}

static void push_const(lowerer *L, uint8_t type, uint64_t bits) {
    vval *v = push(L, type, V_CONST);
    v->bits[0] = bits;
}

static int lower_fc(lowerer *L, uint32_t sub) {
    wb_reader *r = &L->r;
    uint32_t a = 0, b = 0;
    switch (sub) {
#define S(n, NAME, in, out)                                                                        \
    case n: do_unop(L, WB_IOP_##NAME, WB_##out); return 0;
        WB_SAT_OPS(S)
#undef S
    case WB_FC_MEMORY_INIT: {
        uint8_t zero;
        wb__rd_u32(r, &a);
        wb__rd_u8(r, &zero);
        do_slots_op(L, WB_IOP_MEMORY_INIT, 3, &a, 1, 0);
        return 0;
    }
    case WB_FC_DATA_DROP:
        wb__rd_u32(r, &a);
        do_slots_op(L, WB_IOP_DATA_DROP, 0, &a, 1, 0);
        return 0;
    case WB_FC_MEMORY_COPY: {
        uint8_t z0, z1;
        wb__rd_u8(r, &z0);
        wb__rd_u8(r, &z1);
        do_slots_op(L, WB_IOP_MEMORY_COPY, 3, NULL, 0, 0);
        return 0;
    }
    case WB_FC_MEMORY_FILL: {
        uint8_t zero;
        wb__rd_u8(r, &zero);
        do_slots_op(L, WB_IOP_MEMORY_FILL, 3, NULL, 0, 0);
        return 0;
    }
    case WB_FC_TABLE_INIT: {
        uint32_t imms[2];
        wb__rd_u32(r, &a); /* segment */
        wb__rd_u32(r, &b); /* table */
        imms[0] = b;
        imms[1] = a;
        do_slots_op(L, WB_IOP_TABLE_INIT, 3, imms, 2, 0);
        return 0;
    }
    case WB_FC_ELEM_DROP:
        wb__rd_u32(r, &a);
        do_slots_op(L, WB_IOP_ELEM_DROP, 0, &a, 1, 0);
        return 0;
    case WB_FC_TABLE_COPY: {
        uint32_t imms[2];
        wb__rd_u32(r, &imms[0]); /* destination table */
        wb__rd_u32(r, &imms[1]); /* source table */
        do_slots_op(L, WB_IOP_TABLE_COPY, 3, imms, 2, 0);
        return 0;
    }
    case WB_FC_TABLE_GROW:
        wb__rd_u32(r, &a);
        do_slots_op(L, WB_IOP_TABLE_GROW, 2, &a, 1, WB_I32);
        return 0;
    case WB_FC_TABLE_SIZE:
        wb__rd_u32(r, &a);
        do_slots_op(L, WB_IOP_TABLE_SIZE, 0, &a, 1, WB_I32);
        return 0;
    case WB_FC_TABLE_FILL:
        wb__rd_u32(r, &a);
        do_slots_op(L, WB_IOP_TABLE_FILL, 3, &a, 1, 0);
        return 0;
    default: return wb_error_set(L->err, WB_EINVALID, "illegal opcode 0xfc %u", sub);
    }
}

/* ---- SIMD ---- */

/* Operand count and result type of each WB_SIMD_OPS shape. */
#define SIMD_NIN_V_V             1
#define SIMD_NIN_VV_V            2
#define SIMD_NIN_VVV_V           3
#define SIMD_NIN_V_I32           1
#define SIMD_NIN_VI32_V          2
#define SIMD_NIN_I32_V           1
#define SIMD_NIN_I64_V           1
#define SIMD_NIN_F32_V           1
#define SIMD_NIN_F64_V           1
#define SIMD_OUT_V_I32           WB_I32
#define SIMD_OUT_V_V             WB_V128
#define SIMD_OUT_VV_V            WB_V128
#define SIMD_OUT_VVV_V           WB_V128
#define SIMD_OUT_VI32_V          WB_V128
#define SIMD_OUT_I32_V           WB_V128
#define SIMD_OUT_I64_V           WB_V128
#define SIMD_OUT_F32_V           WB_V128
#define SIMD_OUT_F64_V           WB_V128
#define SIMD_LANE_NPOP_EXTRACT   1
#define SIMD_LANE_NPOP_REPLACE   2
#define SIMD_LANE_OUT_EXTRACT(t) WB_##t
#define SIMD_LANE_OUT_REPLACE(t) WB_V128
#define SIMD_MEM_OUT_LOAD        WB_V128
#define SIMD_MEM_OUT_STORE       0
/* the immediate form of a shift (the count a constant), for the other shapes NONE */
#define SIMD_IMM_IOP_VI32_V(NAME) WB_IOP_##NAME##_I
#define SIMD_IMM_IOP_V_V(NAME)    NONE
#define SIMD_IMM_IOP_VV_V(NAME)   NONE
#define SIMD_IMM_IOP_VVV_V(NAME)  NONE
#define SIMD_IMM_IOP_V_I32(NAME)  NONE
#define SIMD_IMM_IOP_I32_V(NAME)  NONE
#define SIMD_IMM_IOP_I64_V(NAME)  NONE
#define SIMD_IMM_IOP_F32_V(NAME)  NONE
#define SIMD_IMM_IOP_F64_V(NAME)  NONE

/* An op of WB_SIMD_OPS; a shift by a constant count takes it as an immediate (imm_iop). */
static void do_simd_op(lowerer *L, uint32_t iop, uint32_t npop, uint8_t rtype, uint32_t imm_iop) {
    if (imm_iop != NONE && L->stack[L->height - 1].kind == V_CONST) {
        vval count = pop(L), a = pop(L);
        uint32_t as = operand(L, &a);
        uint32_t d = push_result(L, rtype);
        emit_op(L, imm_iop);
        emit_dst(L, d);
        emit_unit(L, as);
        emit_unit(L, (uint32_t)count.bits[0]);
        return;
    }
    do_slots_op(L, iop, npop, NULL, 0, rtype);
}

/* A SIMD load (LOAD d offset a), or its form with a fused address add (_X: slot + slot, _A: slot
 * + constant; d offset x k). */
static void do_simd_load(lowerer *L, uint32_t iop, uint32_t iop_a, uint32_t iop_x,
                         uint32_t offset) {
    uint32_t x, k;
    bool two_slots;
    if (take_address_add(L, &x, &k, &two_slots)) {
        uint32_t d = push_result(L, WB_V128);
        emit_op(L, two_slots ? iop_x : iop_a);
        emit_dst(L, d);
        emit_unit(L, offset);
        emit_unit(L, x);
        emit_unit(L, k);
        return;
    }
    do_slots_op(L, iop, 1, &offset, 1, WB_V128);
}

/* The handlers built for SSSE3 (pshufb) run where the CPU has it; the baseline is SSE2. Asked
 * with one CPUID, only when a module has a shuffle or swizzle: CPUID traps to the hypervisor in
 * a VM, and libgcc's __builtin_cpu_supports would run a series of them at every start. */
static bool cpu_has_ssse3(lowerer *L) {
    if (L->ssse3_known) return L->ssse3;
    L->ssse3_known = true;
#if (defined(__x86_64__) || defined(__i386__)) && !defined(WB_SIMD_PORTABLE)
    unsigned a, b, c, d;
    L->ssse3 = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3);
#else
    L->ssse3 = false;
#endif
    return L->ssse3;
}

/* i8x16.shuffle: the 16 lane indices become two pshufb masks, one selecting from each operand
 * (0x80: a zero byte), so that the SSSE3 handler is two pshufb and an or. */
static void do_shuffle(lowerer *L, const uint8_t *lanes) {
    uint8_t masks[32];
    uint32_t imms[8];
    for (int k = 0; k < 16; k++) {
        masks[k] = lanes[k] < 16 ? lanes[k] : 0x80;
        masks[16 + k] = lanes[k] < 16 ? 0x80 : (uint8_t)(lanes[k] - 16);
    }
    memcpy(imms, masks, sizeof masks);
    do_slots_op(L, cpu_has_ssse3(L) ? WB_IOP_I8X16_SHUFFLE_SSSE3 : WB_IOP_I8X16_SHUFFLE, 2, imms, 8,
                WB_V128);
}

static int lower_simd(lowerer *L, uint32_t sub) {
    wb_reader *r = &L->r;
    uint32_t imms[4], align;
    uint8_t lane;
    const uint8_t *bytes;
    if (sub == WB_SIMD_I8X16_SWIZZLE && cpu_has_ssse3(L)) {
        do_slots_op(L, WB_IOP_I8X16_SWIZZLE_SSSE3, 2, NULL, 0, WB_V128);
        return 0;
    }
    switch (sub) {
#define SIMPLE(n, NAME, shape)                                                                     \
    case n:                                                                                        \
        do_simd_op(L, WB_IOP_##NAME, SIMD_NIN_##shape, SIMD_OUT_##shape,                           \
                   SIMD_IMM_IOP_##shape(NAME));                                                    \
        return 0;
        WB_SIMD_OPS(SIMPLE)
#undef SIMPLE
#define LANE(n, NAME, lanes, t, kind)                                                              \
    case n:                                                                                        \
        wb__rd_u8(r, &lane);                                                                       \
        imms[0] = lane;                                                                            \
        do_slots_op(L, WB_IOP_##NAME, SIMD_LANE_NPOP_##kind, imms, 1, SIMD_LANE_OUT_##kind(t));    \
        return 0;
        WB_SIMD_LANE_OPS(LANE)
#undef LANE
#define MEMORY(n, NAME, lg, kind)                                                                  \
    case n:                                                                                        \
        wb__rd_memarg(r, &align, &imms[0]);                                                        \
        SIMD_MEMORY_##kind(NAME);                                                                  \
        return 0;
#define SIMD_MEMORY_LOAD(NAME)                                                                     \
    do_simd_load(L, WB_IOP_##NAME, WB_IOP_##NAME##_A, WB_IOP_##NAME##_X, imms[0])
#define SIMD_MEMORY_STORE(NAME) do_slots_op(L, WB_IOP_##NAME, 2, imms, 1, 0)
        WB_SIMD_MEMORY_OPS(MEMORY)
#undef MEMORY
#undef SIMD_MEMORY_LOAD
#undef SIMD_MEMORY_STORE
#define LANE_MEMORY(n, NAME, lg, kind)                                                             \
    case n:                                                                                        \
        wb__rd_memarg(r, &align, &imms[0]);                                                        \
        wb__rd_u8(r, &lane);                                                                       \
        imms[1] = lane;                                                                            \
        do_slots_op(L, WB_IOP_##NAME, 2, imms, 2, SIMD_MEM_OUT_##kind);                            \
        return 0;
        WB_SIMD_LANE_MEMORY_OPS(LANE_MEMORY)
#undef LANE_MEMORY
    case WB_SIMD_V128_CONST: {
        vval *v = push(L, WB_V128, V_CONST);
        if (wb__rd_bytes(r, 16, &bytes)) memcpy(v->bits, bytes, 16);
        return 0;
    }
    case WB_SIMD_I8X16_SHUFFLE:
        if (wb__rd_bytes(r, 16, &bytes)) do_shuffle(L, bytes);
        return 0;
    default: return wb_error_set(L->err, WB_EINVALID, "illegal opcode 0xfd %u", sub);
    }
}

static void skip_simd_immediates(wb_reader *r) {
    uint32_t sub, align, offset;
    uint8_t lane;
    const uint8_t *bytes;
    wb__rd_u32(r, &sub);
    switch (wb__simd_imm(sub)) {
    case WB_SIMD_IMM_LANE: wb__rd_u8(r, &lane); break;
    case WB_SIMD_IMM_MEMARG: wb__rd_memarg(r, &align, &offset); break;
    case WB_SIMD_IMM_MEMARG_LANE:
        wb__rd_memarg(r, &align, &offset);
        wb__rd_u8(r, &lane);
        break;
    case WB_SIMD_IMM_BYTES16: wb__rd_bytes(r, 16, &bytes); break;
    default: break;
    }
}

/* Skip an instruction's immediates in dead code. Returns -1 on an unknown opcode. */
static int skip_immediates(lowerer *L, uint8_t op) {
    wb_reader *r = &L->r;
    uint32_t u;
    int64_t s;
    uint8_t b;
    switch (op) {
    case WB_OP_BR:
    case WB_OP_BR_IF:
    case WB_OP_CALL:
    case WB_OP_LOCAL_GET:
    case WB_OP_LOCAL_SET:
    case WB_OP_LOCAL_TEE:
    case WB_OP_GLOBAL_GET:
    case WB_OP_GLOBAL_SET:
    case WB_OP_TABLE_GET:
    case WB_OP_TABLE_SET:
    case WB_OP_REF_FUNC: wb__rd_u32(r, &u); return 0;
    case WB_OP_CALL_INDIRECT:
        wb__rd_u32(r, &u);
        wb__rd_u32(r, &u);
        return 0;
    case WB_OP_BR_TABLE: {
        uint32_t n;
        wb__rd_u32(r, &n);
        for (uint32_t i = 0; i <= n && !r->err; i++) wb__rd_u32(r, &u);
        return 0;
    }
    case WB_OP_SELECT_T: {
        uint32_t n;
        wb__rd_u32(r, &n);
        for (uint32_t i = 0; i < n && !r->err; i++) wb__rd_u8(r, &b);
        return 0;
    }
    case WB_OP_MEMORY_SIZE:
    case WB_OP_MEMORY_GROW:
    case WB_OP_REF_NULL: wb__rd_u8(r, &b); return 0;
    case WB_OP_I32_CONST:
    case WB_OP_I64_CONST: wb__rd_s64(r, &s); return 0;
    case WB_OP_F32_CONST: {
        uint32_t f;
        wb__rd_f32(r, &f);
        return 0;
    }
    case WB_OP_F64_CONST: {
        uint64_t f;
        wb__rd_f64(r, &f);
        return 0;
    }
    case WB_OP_PREFIX_SIMD: skip_simd_immediates(r); return 0;
    case WB_OP_PREFIX_FC: {
        wb__rd_u32(r, &u);
        uint32_t x;
        switch (u) {
        case WB_FC_MEMORY_INIT:
            wb__rd_u32(r, &x);
            wb__rd_u8(r, &b);
            break;
        case WB_FC_DATA_DROP:
        case WB_FC_ELEM_DROP:
        case WB_FC_TABLE_GROW:
        case WB_FC_TABLE_SIZE:
        case WB_FC_TABLE_FILL: wb__rd_u32(r, &x); break;
        case WB_FC_MEMORY_COPY:
            wb__rd_u8(r, &b);
            wb__rd_u8(r, &b);
            break;
        case WB_FC_MEMORY_FILL: wb__rd_u8(r, &b); break;
        case WB_FC_TABLE_INIT:
        case WB_FC_TABLE_COPY:
            wb__rd_u32(r, &x);
            wb__rd_u32(r, &x);
            break;
        default: break;
        }
        return 0;
    }
    default:
        if (op >= WB_OP_I32_LOAD && op <= WB_OP_I64_STORE32) {
            uint32_t al, off;
            wb__rd_memarg(r, &al, &off);
        }
        return 0;
    }
}

static int lower_instr(lowerer *L, uint8_t op);

static int lower_body(lowerer *L) {
    while (L->depth > 0) {
        uint8_t op;
        if (!wb__rd_u8(&L->r, &op)) break;
        if (is_dead(L) && op != WB_OP_END && op != WB_OP_ELSE && op != WB_OP_BLOCK &&
            op != WB_OP_LOOP && op != WB_OP_IF) {
            skip_immediates(L, op);
            continue;
        }
        if (lower_instr(L, op) < 0) return -1;
        if (L->r.err) break;
    }
    if (L->r.err)
        return wb_error_set(L->err, WB_EMALFORMED, "lowering function %u: %s", L->func_index,
                            L->r.err);
    return 0;
}

static int lower_instr(lowerer *L, uint8_t op) {
    wb_reader *r = &L->r;
    uint32_t u, v;
    switch (op) {
    case WB_OP_UNREACHABLE:
        emit_op(L, WB_IOP_UNREACHABLE);
        mark_unreachable(L);
        return 0;
    case WB_OP_NOP: return 0;
    case WB_OP_BLOCK:
    case WB_OP_LOOP: {
        int64_t bt;
        wb__rd_s33(r, &bt);
        bool dead = is_dead(L);
        if (!dead) {
            uint32_t np = 0, nr;
            const uint8_t *p, *rs;
            block_type(L, bt, &np, &p, &nr, &rs);
            enter_block(L, np);
        }
        cframe *f = push_frame(L, op == WB_OP_BLOCK ? F_BLOCK : F_LOOP, bt, dead);
        if (!dead && op == WB_OP_LOOP) {
            bind_label_here(L);
            f->loop_pc = L->len;
            if (L->m->cfg.interruptible) emit_op(L, WB_IOP_FUEL);
        }
        return 0;
    }
    case WB_OP_IF: {
        int64_t bt;
        wb__rd_s33(r, &bt);
        if (is_dead(L)) {
            push_frame(L, F_IF, bt, true);
            return 0;
        }
        uint32_t np = 0, nr;
        const uint8_t *p, *rs;
        block_type(L, bt, &np, &p, &nr, &rs);
        /* the condition is fused only when nothing needs materialising before the branch */
        bool must_flush = false;
        for (uint32_t i = 0; i + 1 < L->height; i++)
            if (L->stack[i].kind == V_LOCAL ||
                (i + 1 + np >= L->height && L->stack[i].kind != V_TEMP))
                must_flush = true;
        cond c;
        if (must_flush) {
            vval cv = pop(L);
            enter_block(L, np);
            c = (cond){WB_IOP_BR_Z, operand(L, &cv), 0, false};
        } else {
            c = pop_cond(L);
            c.iop = negate_cmp(c.iop);
        }
        patch p_else = emit_cond_branch(L, c);
        cframe *f = push_frame(L, F_IF, bt, false);
        f->else_patch = p_else;
        f->has_else_patch = true;
        return 0;
    }
    case WB_OP_ELSE: do_else(L); return 0;
    case WB_OP_END: do_end(L); return 0;
    case WB_OP_BR:
        wb__rd_u32(r, &u);
        do_br(L, u);
        return 0;
    case WB_OP_BR_IF:
        wb__rd_u32(r, &u);
        do_br_if(L, u);
        return 0;
    case WB_OP_BR_TABLE: {
        uint32_t n;
        wb__rd_u32(r, &n);
        uint32_t *targets = wb_malloc(((size_t)n + 1) * sizeof *targets);
        for (uint32_t i = 0; i <= n; i++) wb__rd_u32(r, &targets[i]);
        do_br_table(L, targets, n);
        free(targets);
        return 0;
    }
    case WB_OP_RETURN:
        emit_return(L);
        mark_unreachable(L);
        return 0;
    case WB_OP_CALL:
        wb__rd_u32(r, &u);
        do_call(L, u);
        return 0;
    case WB_OP_CALL_INDIRECT:
        wb__rd_u32(r, &u);
        wb__rd_u32(r, &v);
        do_call_indirect(L, u, v);
        return 0;
    case WB_OP_DROP: pop(L); return 0;
    case WB_OP_SELECT:
    case WB_OP_SELECT_T: {
        if (op == WB_OP_SELECT_T) {
            uint8_t t;
            wb__rd_u32(r, &u);
            for (uint32_t i = 0; i < u; i++) wb__rd_u8(r, &t);
        }
        uint8_t t = L->stack[L->height - 2].type;
        do_slots_op(L, t == WB_V128 ? WB_IOP_SELECT2 : WB_IOP_SELECT, 3, NULL, 0, t);
        return 0;
    }
    case WB_OP_LOCAL_GET: {
        wb__rd_u32(r, &u);
        vval *nv = push(L, L->local_types[u], V_LOCAL);
        nv->local = L->local_slot[u];
        nv->lidx = u;
        L->local_refs[u]++;
        return 0;
    }
    case WB_OP_LOCAL_SET:
    case WB_OP_LOCAL_TEE:
        wb__rd_u32(r, &u);
        do_local_set(L, u, op == WB_OP_LOCAL_TEE);
        return 0;
    case WB_OP_GLOBAL_GET: {
        wb__rd_u32(r, &u);
        uint8_t t = L->m->global_types[u].type;
        do_slots_op(L, t == WB_V128 ? WB_IOP_GLOBAL_GET2 : WB_IOP_GLOBAL_GET, 0, &u, 1, t);
        return 0;
    }
    case WB_OP_GLOBAL_SET: {
        wb__rd_u32(r, &u);
        uint8_t t = L->m->global_types[u].type;
        /* global.set of x + k just computed (the shadow stack pointer moved in a prologue or an
         * epilogue, the sum perhaps also kept in a local): one instruction */
        const vval *top = &L->stack[L->height - 1];
        uint32_t vslot = top->kind == V_LOCAL ? top->local : top->slot;
        if (top->kind != V_CONST && L->last_iop == WB_IOP_I32_ADD_I &&
            L->last_start >= L->barrier && L->last_start + WB_HANDLER_UNITS + 3 == L->len &&
            L->code[L->last_start + WB_HANDLER_UNITS] == vslot) {
            pop(L);
            rewrite_handler(L, L->last_start, WB_IOP_GLOBAL_SET_ADD_I);
            emit_unit(L, u);
            L->last_dst = NONE;
            return 0;
        }
        do_slots_op(L, t == WB_V128 ? WB_IOP_GLOBAL_SET2 : WB_IOP_GLOBAL_SET, 1, &u, 1, 0);
        return 0;
    }
    case WB_OP_TABLE_GET:
        wb__rd_u32(r, &u);
        do_slots_op(L, WB_IOP_TABLE_GET, 1, &u, 1, L->m->tables[u].elem);
        return 0;
    case WB_OP_TABLE_SET:
        wb__rd_u32(r, &u);
        do_slots_op(L, WB_IOP_TABLE_SET, 2, &u, 1, 0);
        return 0;
    case WB_OP_MEMORY_SIZE: {
        uint8_t z;
        wb__rd_u8(r, &z);
        do_slots_op(L, WB_IOP_MEMORY_SIZE, 0, NULL, 0, WB_I32);
        return 0;
    }
    case WB_OP_MEMORY_GROW: {
        uint8_t z;
        wb__rd_u8(r, &z);
        do_slots_op(L, WB_IOP_MEMORY_GROW, 1, NULL, 0, WB_I32);
        return 0;
    }
    case WB_OP_I32_CONST: {
        int32_t c;
        wb__rd_s32(r, &c);
        push_const(L, WB_I32, (uint32_t)c);
        return 0;
    }
    case WB_OP_I64_CONST: {
        int64_t c;
        wb__rd_s64(r, &c);
        push_const(L, WB_I64, (uint64_t)c);
        return 0;
    }
    case WB_OP_F32_CONST: {
        uint32_t c;
        wb__rd_f32(r, &c);
        push_const(L, WB_F32, c);
        return 0;
    }
    case WB_OP_F64_CONST: {
        uint64_t c;
        wb__rd_f64(r, &c);
        push_const(L, WB_F64, c);
        return 0;
    }
    case WB_OP_REF_NULL: {
        uint8_t t;
        wb__rd_u8(r, &t);
        push_const(L, t, 0);
        return 0;
    }
    case WB_OP_REF_IS_NULL: do_unop(L, WB_IOP_REF_IS_NULL, WB_I32); return 0;
    case WB_OP_REF_FUNC:
        wb__rd_u32(r, &u);
        do_slots_op(L, WB_IOP_REF_FUNC, 0, &u, 1, WB_FUNCREF);
        return 0;
    case WB_OP_PREFIX_FC: wb__rd_u32(r, &u); return lower_fc(L, u);
    case WB_OP_PREFIX_SIMD: wb__rd_u32(r, &u); return lower_simd(L, u);
    default: break;
    }
    if (op >= WB_OP_I32_LOAD && op <= WB_OP_I64_STORE32) {
        uint32_t align, offset;
        wb__rd_memarg(r, &align, &offset);
        bool store = op >= 0x36;
        if (store)
            do_store(L, op, offset);
        else
            do_load(L, op, offset);
        return 0;
    }
    uint8_t rtype;
    bool binary;
    uint32_t iop = numeric_iop(op, &rtype, &binary);
    if (iop == NONE)
        return wb_error_set(L->err, WB_EINVALID, "function %u: cannot lower opcode 0x%02x",
                            L->func_index, op);
    if (binary)
        do_binop(L, iop, rtype);
    else
        do_unop(L, iop, rtype);
    return 0;
}

/* Lower defined function `di` into L's code array, which starts empty. L's scratch arrays are
 * reused from function to function. */
static int lower_function(lowerer *L, uint32_t di) {
    const wb_module *m = L->m;
    wb_func_decl *fd = &m->funcs[di];
    const wb_functype *ft = &m->types[fd->type_index];
    L->func_index = m->nimported_funcs + di;
    L->type = ft;
    L->height = 0;
    L->depth = 0;
    L->nlocals_all = ft->nparams + fd->nlocals;
    L->local_types = wb_realloc(L->local_types, L->nlocals_all + 1);
    L->local_slot = wb_reallocarray(L->local_slot, L->nlocals_all + 1, sizeof *L->local_slot);
    L->local_refs = wb_reallocarray(L->local_refs, L->nlocals_all + 1, sizeof *L->local_refs);
    memset(L->local_refs, 0, (L->nlocals_all + 1) * sizeof *L->local_refs);
    uint32_t slot = 0;
    for (uint32_t i = 0; i < L->nlocals_all; i++) {
        uint8_t t = i < ft->nparams ? ft->types[i] : fd->local_types[i - ft->nparams];
        L->local_types[i] = t;
        L->local_slot[i] = slot;
        slot += wb__type_slots(t);
    }
    L->scratch = slot;
    L->temp_base = slot + 1;
    L->max_slot = L->temp_base;
    if (ft->result_slots > L->max_slot) L->max_slot = ft->result_slots;
    L->barrier = L->len;
    L->last_start = L->len;
    L->last_dst = NONE;
    L->last_iop = WB_IOP_COUNT;
    L->prev_iop = WB_IOP_COUNT;
    L->prev_dst = NONE;
    L->nemitted = 0;

    /* skip the locals declarations */
    L->r = (wb_reader){fd->body, fd->body + fd->body_len, m->bytes, NULL, true, NULL};
    uint32_t ngroups, cnt;
    uint8_t t;
    wb__rd_u32(&L->r, &ngroups);
    for (uint32_t g = 0; g < ngroups; g++) {
        wb__rd_u32(&L->r, &cnt);
        wb__rd_u8(&L->r, &t);
    }

    WB_VEC_RESERVE(L->frames, L->frames_cap, 1);
    cframe *f = &L->frames[L->depth++];
    memset(f, 0, sizeof *f);
    f->kind = F_FUNC;
    f->nresults = ft->nresults;
    f->results = ft->types + ft->nparams;
    if (m->cfg.interruptible) emit_op(L, WB_IOP_FUEL);

    int rc = lower_body(L);
    for (uint32_t i = 0; i < L->depth; i++) free(L->frames[i].patches);
    if (rc < 0) return -1;
    pair_instructions(L);

    wb_code *c = &fd->lowered;
    c->code_len = L->len;
    c->nparams = ft->param_slots;
    c->nlocals = slot - ft->param_slots;
    c->frame_slots = L->max_slot; /* module and func_index were set by wb__module_lower */
    return 0;
}

/* ---- lowering on demand ---- */

/* Lowered code lives in chunks that never move (running code points into them): small functions
 * are written one after the other into the current chunk (the arena), a big one is a chunk of
 * its own. */
#define CHUNK_UNITS (16u * 1024)

struct wb_lower_state {
    lowerer L;         /* scratch arrays reused from function to function */
    uint32_t **chunks; /* every chunk, for freeing */
    uint32_t nchunks, chunks_cap;
    uint32_t *arena;    /* the chunk small functions are written into */
    uint32_t used, cap; /* units used and available in it */
    uint32_t nlowered;  /* functions lowered so far */
};

static void lowerer_free_scratch(lowerer *L) {
    free(L->frames);
    free(L->stack);
    free(L->local_types);
    free(L->local_slot);
    free(L->local_refs);
    free(L->emitted);
    L->emitted = NULL;
    L->emitted_cap = 0;
    L->frames = NULL;
    L->stack = NULL;
    L->local_types = NULL;
    L->local_slot = NULL;
    L->local_refs = NULL;
    L->frames_cap = L->stack_cap = 0;
}

static void add_chunk(struct wb_lower_state *ls, uint32_t *chunk) {
    WB_VEC_RESERVE(ls->chunks, ls->chunks_cap, ls->nchunks + 1);
    ls->chunks[ls->nchunks++] = chunk;
}

/* Lower defined function `di` and publish its code. Caller holds m->lower_lock. */
static int lower_one(wb_module *m, uint32_t di, wb_error *err) {
    if (!m->lower) {
        m->lower = wb_calloc(1, sizeof *m->lower);
        m->lower->L.m = m;
        m->lower->L.labels =
            wb__interp_labels(m->cfg.bounds_checks ? WB_INTERP_CHECKED : WB_INTERP_GUARDED);
    }
    struct wb_lower_state *ls = m->lower;
    lowerer *L = &ls->L;
    L->err = err;
    L->len = 0;
    /* a small function is written straight into the arena (no scratch copy: its pages are
     * touched once), in a fresh chunk if the current one has not the usual room for it (about
     * two units per byte of body); a big one gets an array of its own, sized the usual way */
    size_t want = (size_t)m->funcs[di].body_len * 2 + 64;
    if (want <= CHUNK_UNITS / 4) {
        if (ls->cap - ls->used < want) {
            ls->cap = CHUNK_UNITS;
            ls->arena = wb_reallocarray(NULL, ls->cap, sizeof *ls->arena);
            ls->used = 0;
            add_chunk(ls, ls->arena);
        }
        L->code = ls->arena + ls->used;
        L->cap = ls->cap - ls->used;
        L->borrowed = true;
    } else {
        L->code = wb_reallocarray(NULL, want, sizeof *L->code);
        L->cap = (uint32_t)want;
        L->borrowed = false;
    }
    int rc = lower_function(L, di);
    const uint32_t *code = NULL;
    if (rc == 0 && L->borrowed) {
        code = L->code;
        ls->used += L->len;
    } else if (rc == 0) {
        /* an array of its own becomes the function's chunk, trimmed (not yet published, it
         * may still move) */
        uint32_t *own = wb_realloc(L->code, (size_t)L->len * sizeof *L->code);
        add_chunk(ls, own);
        code = own;
    } else if (!L->borrowed) {
        free(L->code);
    }
    L->code = NULL;
    L->cap = 0;
    L->borrowed = false;
    if (rc < 0) return -1;
    __atomic_store_n(&m->funcs[di].lowered.code, code, __ATOMIC_RELEASE);
    if (++ls->nlowered == m->nfunc_decls) lowerer_free_scratch(L); /* nothing left to lower */
    return 0;
}

int wb__code_prepare(const wb_code *c) {
    wb_module *m = (wb_module *)c->module;
    int rc = 0;
    pthread_mutex_lock(&m->lower_lock);
    if (!__atomic_load_n(&c->code, __ATOMIC_ACQUIRE)) {
        wb_error err = {0};
        rc = lower_one(m, c->func_index - m->nimported_funcs, &err);
    }
    pthread_mutex_unlock(&m->lower_lock);
    return rc;
}

int wb__module_lower_all(wb_module *m, wb_error *err) {
    int rc = 0;
    pthread_mutex_lock(&m->lower_lock);
    for (uint32_t i = 0; i < m->nfunc_decls && rc == 0; i++)
        if (!__atomic_load_n(&m->funcs[i].lowered.code, __ATOMIC_ACQUIRE))
            rc = lower_one(m, i, err);
    pthread_mutex_unlock(&m->lower_lock);
    return rc;
}

int wb__module_lower(wb_module *m, wb_error *err) {
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        m->funcs[i].lowered.module = m;
        m->funcs[i].lowered.func_index = m->nimported_funcs + i;
    }
    pthread_mutex_init(&m->lower_lock, NULL);
    m->lower_lock_ready = true;
    return m->cfg.eager_lowering ? wb__module_lower_all(m, err) : 0;
}

void wb__module_lower_release(wb_module *m) {
    if (m->lower) {
        lowerer_free_scratch(&m->lower->L);
        for (uint32_t i = 0; i < m->lower->nchunks; i++) free(m->lower->chunks[i]);
        free(m->lower->chunks);
        free(m->lower);
        m->lower = NULL;
    }
    if (m->lower_lock_ready) pthread_mutex_destroy(&m->lower_lock);
    m->lower_lock_ready = false;
}
