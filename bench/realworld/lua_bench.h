/* Forced into every Lua source for bench/realworld.sh (-include), in both builds so that they run
 * the same code: errors abort instead of unwinding with longjmp (wasi-libc has no setjmp;
 * bench.lua raises no error, so protected calls just run), the hook flag is a plain int (no
 * signal.h either) and table.sort's pivot is not randomised by clock() and time(). */
#include <stdio.h>
#include <stdlib.h>
#define LUAI_THROW(L, c) (fputs("lua: error thrown (no longjmp in this build)\n", stderr), abort())
#define LUAI_TRY(L, c, a)                                                                          \
    { a }
#define luai_jmpbuf        int
#define l_signalT          int
#define l_randomizePivot() 0x9e3779b9u
