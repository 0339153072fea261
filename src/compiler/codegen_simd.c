/* Wasm to LLVM IR: 0xFD (SIMD) instructions. Not compiled yet: a module that uses them is
 * refused by the compiler as a whole (`--engine auto` then runs it in the interpreter). */
#include "compiler/codegen.h"

bool cg_simd(cg_func *F, uint32_t sub, wb_reader *r) {
    (void)sub;
    (void)r;
    if (!F->err) F->err = "SIMD instructions are not compiled yet";
    return false;
}
