/* base/sha256.h — SHA-256 (FIPS 180-4) in plain C.
 * The static core (build/wasmbox, musl, no dynamic loader) cannot dlopen libcrypto the way
 * wasmbox-full does (base/dynlib.h), yet it must hash modules to find their native code in the
 * cache (wasm/native_cache.h); this is its own implementation, with no dependency at all. */
#ifndef WB_BASE_SHA256_H
#define WB_BASE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_SHA256_DIGEST_SIZE 32
#define WB_SHA256_HEX_SIZE    65 /* 64 hex digits and the NUL */

/* Streaming state, embedded by the caller (no allocation): _init, any number of _update, _final.
 * After _final the state must be _init'ed again before reuse. (Named _ctx: C gives a typedef and
 * the one-shot function wb_sha256 one namespace.) */
typedef struct wb_sha256_ctx {
    uint32_t h[8];
    uint64_t total;    /* bytes hashed so far */
    uint8_t block[64]; /* the pending partial block */
    size_t used;       /* bytes in block */
} wb_sha256_ctx;

void wb_sha256_init(wb_sha256_ctx *s);
/* Hash len bytes of data (data may be NULL when len is 0). */
void wb_sha256_update(wb_sha256_ctx *s, const void *data, size_t len);
void wb_sha256_final(wb_sha256_ctx *s, uint8_t out[WB_SHA256_DIGEST_SIZE]);
/* One-shot digest of len bytes. */
void wb_sha256(const void *data, size_t len, uint8_t out[WB_SHA256_DIGEST_SIZE]);
/* The digest as 64 lower-case hex digits, NUL-terminated. */
void wb_sha256_hex(const uint8_t d[WB_SHA256_DIGEST_SIZE], char out[WB_SHA256_HEX_SIZE]);

/* Tests: run the portable compression (true) or the fastest this CPU has (false). */
void wb__sha256_force_portable(bool portable);

#endif
