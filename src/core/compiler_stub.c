/* The static core's stand-in for the compiler tier (src/compiler/, LLVM, only in wasmbox-full):
 * the core runs cached native code but cannot make it. */
#include <errno.h>

#include "wasm/native.h"

bool wb__native_compiler_available(void) {
    return false;
}

int wb__native_compile(const wb_module *m, const wb_native_options *opt, uint8_t **out, size_t *len,
                       wb_error *err) {
    (void)m;
    (void)opt;
    *out = NULL;
    *len = 0;
    return wb_error_set(err, ENOTSUP,
                        "this program has no compiler (wasmbox-full compiles modules)");
}
