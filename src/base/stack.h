/* base/stack.h — how far down the calling thread's stack may grow, for code that checks its
 * frame address instead of meeting the guard page (the engine's host→wasm entries, native code's
 * stack-exhaustion trap). */
#ifndef WB_BASE_STACK_H
#define WB_BASE_STACK_H

#include <stddef.h>
#include <stdint.h>

/* The lowest address of the calling thread's stack plus `margin`: a frame below it has less than
 * margin bytes left. 1 when the bounds cannot be read (nothing is then below it: no check).
 * The main thread's stack grows on demand up to RLIMIT_STACK (8 MiB when unlimited): its bound
 * is its top less that limit — glibc reports this, musl (the static core) only the part mapped so
 * far, which once left the static core with no check and a SIGSEGV for runaway recursion in
 * native code. */
uintptr_t wb_stack_low(size_t margin);

#endif
