/* Shared by every benchmark program: the same source is built natively (gcc, libc) and to
 * freestanding wasm32 (clang, no libc, no imports), so this header supplies the few helpers
 * both builds need and the memory routines the wasm build would otherwise import. */
#ifndef WB_BENCH_FREESTANDING_H
#define WB_BENCH_FREESTANDING_H

#include <stddef.h>
#include <stdint.h>

/* The entry point every program exports; the result is a checksum of all the work done. */
int64_t bench_run(int32_t n);

#if defined(__wasm__)
/* Nothing links a libc into the wasm build, yet the compiler may still emit calls to these for
 * struct copies or large zeroing. Defining them here keeps the module free of imports; the build
 * uses -fno-builtin so their own loops are not turned back into calls to themselves. */
void *memcpy(void *restrict dst, const void *restrict src, size_t len);
void *memmove(void *dst, const void *src, size_t len);
void *memset(void *dst, int byte, size_t len);

void *memcpy(void *restrict dst, const void *restrict src, size_t len) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (len--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t len) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (len--) *d++ = *s++;
    } else {
        while (len--) d[len] = s[len];
    }
    return dst;
}

void *memset(void *dst, int byte, size_t len) {
    unsigned char *d = dst;
    while (len--) *d++ = (unsigned char)byte;
    return dst;
}
#endif

/* xorshift32: a tiny deterministic generator so inputs are identical in both builds. */
static inline uint32_t bench_rng_next(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Folds a double into a checksum by its exact bits: the two builds must agree bit for bit,
 * which holds because both use IEEE-754 binary64 with the same operation order (no FMA
 * contraction, no fast-math) and correctly rounded sqrt. */
static inline uint64_t bench_f64_bits(double value) {
    union {
        double d;
        uint64_t u;
    } pun = {.d = value};
    return pun.u;
}

/* FNV-1a step over a 64-bit value, for folding many results into one checksum. */
static inline uint64_t bench_mix64(uint64_t hash, uint64_t value) {
    for (int i = 0; i < 8; i++) {
        hash ^= (value >> (i * 8)) & 0xff;
        hash *= 0x100000001b3ull;
    }
    return hash;
}

#define WB_BENCH_FNV64_INIT 0xcbf29ce484222325ull

#endif
