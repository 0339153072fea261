/* Loading libLLVM on first use (see llvm_api.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "compiler/llvm_api.h"

static wb_llvm api;
static char load_error[256];
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define LIBLLVM "libLLVM-14.so.1"

static void load(void) {
    void *h = dlopen(LIBLLVM, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error,
                 "the compiler needs " LIBLLVM " (Debian package libllvm14): %s", dlerror());
        return;
    }
#define WB_LLVM_LOAD(name)                                                                         \
    api.name = (__typeof__(api.name))dlsym(h, "LLVM" #name);                                       \
    if (!api.name) {                                                                               \
        snprintf(load_error, sizeof load_error, LIBLLVM " lacks LLVM" #name);                      \
        return;                                                                                    \
    }
    WB_LLVM_FUNCS(WB_LLVM_LOAD)
#undef WB_LLVM_LOAD
    api.InitializeX86TargetInfo();
    api.InitializeX86Target();
    api.InitializeX86TargetMC();
    api.InitializeX86AsmPrinter();
    loaded = true;
}

const wb_llvm *wb_llvm_get(wb_error *err) {
    pthread_once(&once, load);
    if (!loaded) {
        wb_error_set(err, ENOENT, "%s", load_error);
        return NULL;
    }
    return &api;
}
