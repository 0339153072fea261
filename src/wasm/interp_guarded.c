/* The dispatch loop for guarded linear memories (out-of-bounds accesses fault and become traps). */
#include "wasm/runtime.h"

#define WB_RUN     wb__interp_loop_guarded
#define WB_CHECKED 0
int WB_RUN(wb_store *s, wb_func *entry, wb_slot *fp0, const void *const **labels_out);
#include "wasm/interp_loop.h"
