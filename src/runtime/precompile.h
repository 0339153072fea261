/* runtime/precompile.h — compiling an image's Wasm module to native code when the image arrives
 * (`build`, `pull`, `load`, `import`), so that its first container already runs compiled code
 * (docs/native.md). The compiler is a child process (wb_native_compiler_program: this program if
 * it has LLVM, else wasmbox-full beside it), writing into ROOT/native the variant containers run
 * (interruptible, this CPU's features, the default level); the cache's writes are atomic, so an
 * interrupted compile leaves nothing behind. */
#ifndef WB_RUNTIME_PRECOMPILE_H
#define WB_RUNTIME_PRECOMPILE_H

#include <stdbool.h>
#include <stdio.h>

#include "oci/store.h"

/* Set to 0 in the environment to skip compiling on arrival (the first run then compiles in the
 * background, as for a module file). */
#define WB_PRECOMPILE_ENV "WASMBOX_PRECOMPILE"

typedef enum wb_precompile_result {
    WB_PRECOMPILE_SKIPPED,  /* nothing to do: a Linux image, no compiler here, or turned off */
    WB_PRECOMPILE_CACHED,   /* its native code was in the cache already */
    WB_PRECOMPILE_COMPILED, /* compiled now */
    WB_PRECOMPILE_FAILED, /* the compiler refused it (a warning was printed; it runs interpreted) */
} wb_precompile_result;

/* Compile the module of the image `ref` (a name or an ID the store resolves) into root's cache.
 * `label` names the image in messages. With `progress` (a terminal), a line on `out` counts the
 * seconds while the compiler works and ends with the time taken; without it, nothing is printed
 * but a failure's one warning line ("WARNING: NAME: its module could not be compiled to native
 * code (it runs interpreted): REASON"). An image whose module cannot be found is skipped: its run
 * says why. */
wb_precompile_result wb_precompile_image(wb_images *s, const char *root, const char *ref,
                                         const char *label, bool progress, FILE *out);

#endif
