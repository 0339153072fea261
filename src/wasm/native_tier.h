/* wasm/native_tier.h — choosing the tier a module runs in, and the cache of native code.
 *
 * Native code for a module lives in a cache directory (ROOT/native under the store root) as one
 * file per key: the module's SHA-256, WB_NATIVE_ABI_VERSION, the CPU features the code uses and
 * the options it was compiled for (bounds-checked memories, interruptible) — native_cache.h. The
 * static core only reads the cache; programs with the compiler (wasmbox-full, the test tools)
 * also fill it. A module the compiler cannot take leaves a "<key>.fail" file with the reason, so
 * that later runs neither retry nor hide why. */
#ifndef WB_WASM_NATIVE_TIER_H
#define WB_WASM_NATIVE_TIER_H

#include <stdbool.h>

#include "wasm/native_cache.h"
#include "wasm/wasm.h"

typedef enum wb_engine {
    WB_ENGINE_AUTO =
        0, /* native code from the cache, else the interpreter (+ background compile) */
    WB_ENGINE_INTERP,
    WB_ENGINE_NATIVE, /* native code, compiled now if this program can; else an error */
} wb_engine;

/* "auto", "interp", "native"; false for anything else. */
bool wb_engine_parse(const char *s, wb_engine *out);
/* The tier when none is asked for: $WASMBOX_ENGINE (auto, interp, native), else auto; -1 with
 * err when the variable holds anything else. */
#define WB_ENGINE_ENV "WASMBOX_ENGINE"
int wb_engine_default(wb_engine *out, wb_error *err);
/* The native-code cache for the store root: $WASMBOX_NATIVE_CACHE (one cache several store roots
 * share: the key names everything the code depends on), else ROOT/native. */
#define WB_NATIVE_CACHE_ENV "WASMBOX_NATIVE_CACHE"
int wb_native_cache_dir(const char *root, char *buf, size_t size, wb_error *err);
const char *wb_engine_name(wb_engine e);

/* The key of m's native code for these CPU features (0: this machine's). */
void wb_native_key_for(const wb_module *m, uint64_t cpu_features, wb_native_key *k);

typedef struct wb_native_use {
    wb_engine engine;
    const char *cache_dir; /* NULL: no cache (native then compiles in this process) */
    /* auto, nothing cached but a cache directory there: compile m for next time, detached, as
     * `PROGRAM compile --quiet --cache-dir DIR [--interruptible] [--bounds-checks] FILE` with
     * m's bytes in a memfd; PROGRAM is wb_native_compiler_program's */
    bool background;
} wb_native_use;

/* Prepares m for u->engine: attaches cached native code (this machine's features first, then the
 * portable x86-64-v2 build), or for WB_ENGINE_NATIVE compiles it (and caches it) when this program
 * has the compiler. Returns 1 when m runs native code, 0 when it stays interpreted, -1 with err
 * (WB_ENGINE_NATIVE only: nothing native could be had; the message says why). */
int wb_native_use_module(wb_module *m, const wb_native_use *u, wb_error *err);

/* The level the compiler uses when none is asked for. */
#define WB_NATIVE_DEFAULT_LEVEL 2

/* The quick tier. LLVM at the default level takes about 13 s of CPU per MB of code (the light
 * pipeline of a partitioned module; docs/native.md); at -O0 about 2.7 s, for code about 2.3x
 * slower. A module arriving with an image (runtime/precompile.h) with at least this much code is
 * compiled at -O0 first, so that `pull` and `build` end soon with native code in the cache, and
 * then at the default level in the background, whose file replaces the quick one; a run finding
 * quick code runs it and starts that background compile when none is running. */
#define WB_QUICK_TIER_MIN_BYTES (128 * 1024)
#define WB_QUICK_TIER_ENV       "WASMBOX_QUICK_TIER_BYTES" /* overrides it (tests: 0) */
int wb_native_quick_tier_bytes(void);
/* The bytes of m's function bodies. */
uint64_t wb_native_code_bytes(const wb_module *m);

/* Compiles m (opt_level < 0: default; cpu_features 0: this machine's) and writes it to cache_dir.
 * 0, 1 when a valid file at this level or above was there already (nothing compiled), -1 with
 * err (a compile failure also leaves the .fail file, unless quick-tier code was there: it stays).
 * A file of a lower level is replaced, under a lock on "<file>.lock": when another process holds
 * it (an upgrade running), the file there is used as it is (1). *path_out (if not NULL) receives
 * the cache file's path. */
int wb_native_compile_to_cache(wb_module *m, const char *cache_dir, int opt_level,
                               uint64_t cpu_features, char *path_out, size_t path_size,
                               wb_error *err);

/* What the cache in dir holds for m as it is configured, for this machine's features: 1 a file
 * (not verified here: reading it does that), 0 nothing, -1 a compile that failed before (its
 * reason in reason[size]). */
int wb_native_cache_state(const wb_module *m, const char *dir, char *reason, size_t size);

/* Compile m (for its configuration: interruptible, bounds checks) at opt_level (-1: the default)
 * into cache_dir with `program` (wb_native_compiler_program's) in a child process, and wait for it;
 * tick (may be NULL) is called about every 100 ms with the seconds spent. 0, or -1 with err holding
 * the compiler's message (its failure is also recorded in the cache's .fail file). */
int wb_native_compile_child(const wb_module *m, const char *cache_dir, const char *program,
                            int opt_level, void (*tick)(void *ctx, double secs), void *ctx,
                            wb_error *err);
/* The same detached, at the default level: nothing waits for it (a run's compile for next time,
 * the quick tier's upgrade). */
void wb_native_compile_background(const wb_module *m, const char *cache_dir, const char *program);

/* The program that can compile: this one if it has the compiler, else wasmbox-full beside it;
 * false if neither. */
bool wb_native_compiler_program(char *buf, size_t size);

#endif
