/* wasm/native_cache.h — the file format of the native code cache: one file per compiled module,
 * named after the hash of its key (module digest, ABI version, CPU features, compile options),
 * holding a fixed header and the object (wasm/native_obj.h) as its payload. Files are written
 * atomically and verified when read; since the payload is code this process will run, a file is
 * also refused when another user could have written it.
 *
 * The header (little-endian, WB_NATIVE_CACHE_HEADER_SIZE bytes):
 *     0  "WBNATIVE"              8 bytes: the magic
 *     8  format version          u32 (WB_NATIVE_CACHE_FORMAT)
 *    12  header size             u32
 *    16  module digest           32 bytes
 *    48  ABI version             u32
 *    52  options                 u32
 *    56  CPU features            u64
 *    64  payload length          u64
 *    72  payload SHA-256         32 bytes
 *   104  optimisation level      u32: 1 + the level the code was compiled at (0-3)
 *   108  reserved, zero          4 bytes
 * then the payload. The level is not part of the key: a module's code compiled quickly (a low
 * level, native_tier.h's quick tier) is replaced by the same key's code at a higher level. */
#ifndef WB_WASM_NATIVE_CACHE_H
#define WB_WASM_NATIVE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* bumped when the contract between generated code and the runtime changes (wasm/native.h) */
#define WB_NATIVE_ABI_VERSION 2 /* 2: SIMD compiled (.fail files of 1 said it was not) */

#define WB_NATIVE_CACHE_FORMAT      2 /* 2: the optimisation level in the header */
#define WB_NATIVE_CACHE_HEADER_SIZE 112
#define WB_NATIVE_CACHE_MAX_PAYLOAD (1ull << 30) /* larger files are refused when read */

typedef struct wb_native_key {
    uint8_t module_digest[32]; /* sha256 of the module's bytes */
    uint32_t abi_version;      /* WB_NATIVE_ABI_VERSION */
    uint64_t cpu_features;     /* WB_CPU_* the code may use */
    uint32_t options;          /* compile options (bits defined by the compiler: bounds checks,
                                  interruptible, opt level...) */
} wb_native_key;

/* "<dir>/<64 hex digits>.wbn" into out (size bytes), the digits being the SHA-256 of the cache
 * format version and the key's fields (in a fixed little-endian encoding): any field that differs
 * gives another file. -1 with ENAMETOOLONG when it does not fit. */
int wb_native_cache_path(const char *dir, const wb_native_key *k, char *out, size_t size,
                         wb_error *err);

/* Write obj[0..len), compiled at opt_level (0-3), under path with k in its header, atomically: a
 * temporary file in path's directory (unique name, O_EXCL, mode 0600), header and payload written
 * and fsynced, renamed over path, the directory fsynced. Two writers racing leave one good file; a
 * writer killed at any point leaves no partial file under path (only a temporary "<path>.tmp.*",
 * which a later writer to the same directory removes once it is an hour old, if path ends in
 * ".wbn"). Creates the directory (and its parents, mode 0700) if missing. The caller keeps obj. */
int wb_native_cache_write(const char *path, const wb_native_key *k, const uint8_t *obj, size_t len,
                          int opt_level, wb_error *err);

/* The optimisation level the file at path was compiled at (from its header, not verified
 * otherwise), or -1 when it cannot be read. */
int wb_native_cache_opt_level(const char *path);

/* Read and verify the file at path: the magic, the format version, the key (every field equal to
 * k's; the file's CPU features must moreover be a subset of this machine's, wb_cpu_features()),
 * the payload length and the payload's SHA-256; the file must be a regular file of this user's,
 * writable by no one else. On success *obj (malloc'd, the caller frees it) and *len hold the
 * payload. A missing file: -1 with err->code ENOENT. Any mismatch: -1 with err->code EINVAL and a
 * message naming the field, e.g. "native code cache /x/y.wbn: built for CPU features bmi2 avx2,
 * this CPU lacks avx2" or "native code cache /x/y.wbn: payload digest mismatch (corrupt file)".
 * Other failures (I/O) carry their errno. */
int wb_native_cache_read(const char *path, const wb_native_key *k, uint8_t **obj, size_t *len,
                         wb_error *err);

/* Module-internal, for the unit tests: the write with a function called after the data is
 * written and fsynced and before the rename (NULL: none); the read against the given CPU features
 * instead of this machine's. */
int wb__native_cache_write_hooked(const char *path, const wb_native_key *k, const uint8_t *obj,
                                  size_t len, int opt_level, void (*before_rename)(void *arg),
                                  void *arg, wb_error *err);
int wb__native_cache_read_host(const char *path, const wb_native_key *k, uint64_t host_features,
                               uint8_t **obj, size_t *len, wb_error *err);

#endif
