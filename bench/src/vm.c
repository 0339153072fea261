/* vm: a tiny register bytecode interpreter (a switch-dispatched loop, like many guest programs
 * run inside wasm) executing a hand-assembled program: an LCG-driven loop whose body runs a
 * short Collatz walk and calls a subroutine. Measures indirect branching and decode work. */
#include "freestanding.h"

enum opcode {
    OP_HALT,
    OP_LOADI, /* r[a] = imm (next word) */
    OP_MOV,   /* r[a] = r[b] */
    OP_ADD,   /* r[a] = r[b] + r[c] */
    OP_SUB,
    OP_MUL,
    OP_AND,
    OP_XOR,
    OP_SHRI, /* r[a] = r[b] >> c */
    OP_SHLI, /* r[a] = r[b] << c */
    OP_ADDI, /* r[a] = r[b] + (int8)c */
    OP_JLT,  /* if r[a] < r[b]: pc = next word */
    OP_JEQ,  /* if r[a] == r[b]: pc = next word */
    OP_JMP,  /* pc = next word */
    OP_CALL, /* push pc after target word; pc = target */
    OP_RET,
};

#define CODE_WORDS 256
#define REG_COUNT  16
#define CALL_DEPTH 16

static uint32_t code[CODE_WORDS];

struct assembler {
    uint32_t len;
};

static uint32_t emit(struct assembler *as, enum opcode op, uint32_t a, uint32_t b, uint32_t c) {
    uint32_t at = as->len;
    code[as->len++] = (uint32_t)op | a << 8 | b << 16 | c << 24;
    return at;
}

static uint32_t emit_word(struct assembler *as, uint32_t word) {
    uint32_t at = as->len;
    code[as->len++] = word;
    return at;
}

/* Registers: r0 iteration limit, r1 i, r2 LCG state, r3 accumulator, r4..r9 scratch,
 * r10 constant 1, r11 Collatz value, r12 constant 0. Returns the entry pc. */
static uint32_t assemble(void) {
    struct assembler as = {0};
    uint32_t patch_to_main;

    /* Subroutine mix: r3 = (r3 ^ (r3 >> 7)) * 0x2545F491 + r11. */
    emit(&as, OP_JMP, 0, 0, 0);
    patch_to_main = emit_word(&as, 0);
    uint32_t mix = as.len;
    emit(&as, OP_SHRI, 4, 3, 7);
    emit(&as, OP_XOR, 3, 3, 4);
    emit(&as, OP_LOADI, 5, 0, 0);
    emit_word(&as, 0x2545f491u);
    emit(&as, OP_MUL, 3, 3, 5);
    emit(&as, OP_ADD, 3, 3, 11);
    emit(&as, OP_RET, 0, 0, 0);

    code[patch_to_main] = as.len;
    emit(&as, OP_LOADI, 1, 0, 0);
    emit_word(&as, 0);
    emit(&as, OP_LOADI, 2, 0, 0);
    emit_word(&as, 12345);
    emit(&as, OP_LOADI, 3, 0, 0);
    emit_word(&as, 0);
    emit(&as, OP_LOADI, 10, 0, 0);
    emit_word(&as, 1);
    emit(&as, OP_LOADI, 12, 0, 0);
    emit_word(&as, 0);
    emit(&as, OP_LOADI, 6, 0, 0);
    emit_word(&as, 1103515245u);

    uint32_t loop = as.len;
    /* r2 = r2 * 1103515245 + 12345; r11 = ((r2 >> 16) & 63) + 1 */
    emit(&as, OP_MUL, 2, 2, 6);
    emit(&as, OP_LOADI, 7, 0, 0);
    emit_word(&as, 12345);
    emit(&as, OP_ADD, 2, 2, 7);
    emit(&as, OP_SHRI, 11, 2, 16);
    emit(&as, OP_LOADI, 7, 0, 0);
    emit_word(&as, 63);
    emit(&as, OP_AND, 11, 11, 7);
    emit(&as, OP_ADDI, 11, 11, 1);

    /* Collatz walk of r11 down to 1, counting steps into r3. */
    uint32_t collatz = as.len;
    emit(&as, OP_JEQ, 11, 10, 0);
    uint32_t patch_collatz_done = emit_word(&as, 0);
    emit(&as, OP_AND, 8, 11, 10);
    emit(&as, OP_JEQ, 8, 12, 0);
    uint32_t patch_even = emit_word(&as, 0);
    /* odd: r11 = 3 * r11 + 1 */
    emit(&as, OP_ADD, 9, 11, 11);
    emit(&as, OP_ADD, 11, 9, 11);
    emit(&as, OP_ADDI, 11, 11, 1);
    emit(&as, OP_ADDI, 3, 3, 1);
    emit(&as, OP_JMP, 0, 0, 0);
    emit_word(&as, collatz);
    code[patch_even] = as.len;
    emit(&as, OP_SHRI, 11, 11, 1);
    emit(&as, OP_ADDI, 3, 3, 1);
    emit(&as, OP_JMP, 0, 0, 0);
    emit_word(&as, collatz);
    code[patch_collatz_done] = as.len;

    /* r11 = i; call mix; i++; loop while i < limit */
    emit(&as, OP_MOV, 11, 1, 0);
    emit(&as, OP_CALL, 0, 0, 0);
    emit_word(&as, mix);
    emit(&as, OP_ADDI, 1, 1, 1);
    emit(&as, OP_JLT, 1, 0, 0);
    emit_word(&as, loop);
    emit(&as, OP_SUB, 3, 3, 2);
    emit(&as, OP_HALT, 0, 0, 0);
    return 0;
}

static uint32_t execute(uint32_t entry, uint32_t limit) {
    uint32_t reg[REG_COUNT] = {0};
    uint32_t call_stack[CALL_DEPTH];
    uint32_t depth = 0;
    uint32_t pc = entry;
    reg[0] = limit;
    for (;;) {
        uint32_t insn = code[pc++];
        uint32_t a = (insn >> 8) & (REG_COUNT - 1), b = (insn >> 16) & (REG_COUNT - 1);
        uint32_t c = insn >> 24, c_reg = c & (REG_COUNT - 1);
        switch ((enum opcode)(insn & 0xff)) {
        case OP_HALT: return reg[3];
        case OP_LOADI: reg[a] = code[pc++]; break;
        case OP_MOV: reg[a] = reg[b]; break;
        case OP_ADD: reg[a] = reg[b] + reg[c_reg]; break;
        case OP_SUB: reg[a] = reg[b] - reg[c_reg]; break;
        case OP_MUL: reg[a] = reg[b] * reg[c_reg]; break;
        case OP_AND: reg[a] = reg[b] & reg[c_reg]; break;
        case OP_XOR: reg[a] = reg[b] ^ reg[c_reg]; break;
        case OP_SHRI: reg[a] = reg[b] >> (c & 31); break;
        case OP_SHLI: reg[a] = reg[b] << (c & 31); break;
        case OP_ADDI: reg[a] = reg[b] + (uint32_t)(int32_t)(int8_t)c; break;
        case OP_JLT: pc = reg[a] < reg[b] ? code[pc] : pc + 1; break;
        case OP_JEQ: pc = reg[a] == reg[b] ? code[pc] : pc + 1; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_CALL:
            if (depth == CALL_DEPTH) return 0xdeadbeefu;
            call_stack[depth++] = pc + 1;
            pc = code[pc];
            break;
        case OP_RET:
            if (depth == 0) return 0xdeadbeefu;
            pc = call_stack[--depth];
            break;
        default: return 0xbadc0deu;
        }
        pc &= CODE_WORDS - 1;
    }
}

int64_t bench_run(int32_t n) {
    uint32_t entry = assemble();
    return (int64_t)execute(entry, n < 0 ? 0u : (uint32_t)n);
}
