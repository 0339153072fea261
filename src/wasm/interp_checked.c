/* The dispatch loop with explicit bounds checks (for memories without a guard reservation). */
#include "wasm/runtime.h"

#define WB_RUN     wb__interp_loop_checked
#define WB_CHECKED 1
int WB_RUN(wb_store *s, wb_func *entry, wb_slot *fp0, const void *const **labels_out);
#include "wasm/interp_loop.h"
