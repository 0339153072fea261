/* Commands whose implementations are being written: weak definitions that say so, replaced by
 * the real ones when their files land (this file is deleted then). */
#include "cli/cli.h"

#define PENDING(fn, what)                                                                          \
    __attribute__((weak)) int fn(int argc, char **argv) {                                          \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        wb_cli_error("%s is not available yet", what);                                             \
        return 1;                                                                                  \
    }

PENDING(wb_cmd_build, "wasmbox build")
PENDING(wb_cmd_save, "wasmbox save")
PENDING(wb_cmd_load, "wasmbox load")
PENDING(wb_cmd_import, "wasmbox import")
PENDING(wb_cmd_export_wasm, "wasmbox image export-wasm")
