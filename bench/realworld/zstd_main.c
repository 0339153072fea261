/* zstd workload for bench/realworld.sh: Zstandard (Debian's libzstd sources) compresses 4 MiB of
 * generated text-like data at levels 1, 3 and 9 and decompresses each frame, n rounds, checking
 * every round trip. Prints the frame sizes and an XXH64 of the frames, which depend only on the
 * library's code. Both builds run the same C code: no threads, no assembly, no SSE2 intrinsics
 * (ZSTD_DISABLE_ASM, DYNAMIC_BMI2=0, ZSTD_NO_INTRINSICS). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include "xxhash.h"
#include "zstd.h"

#define INPUT_SIZE (4u << 20)

static uint32_t rng = 2463534242u;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* Appends word, or the decimal digits of n, like "%s" and "%u" but without stdio: the text is
 * the input, not the workload (printf is slower in wasi-libc than in glibc). */
static size_t append_word(char *dst, const char *word) {
    size_t len = strlen(word);
    memcpy(dst, word, len);
    return len;
}
static size_t append_u32(char *dst, uint32_t n) {
    char digits[10];
    size_t len = 0;
    do digits[len++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    for (size_t i = 0; i < len; i++) dst[i] = digits[len - 1 - i];
    return len;
}

/* words from a small vocabulary with skewed frequencies, numbers and punctuation: compressible
 * like text, with matches at many distances */
static void generate(unsigned char *buf, size_t size) {
    static const char *const vocab[] = {
        "the",  "of",     "and",    "to",       "in",      "a",       "is",     "that",
        "for",  "memory", "module", "function", "table",   "export",  "import", "value",
        "page", "stack",  "frame",  "branch",   "compile", "runtime", "trap",   "instance"};
    size_t n = 0;
    while (n < size) {
        uint32_t r = next_rand();
        char word[32];
        size_t len = r % 11 == 0 ? append_u32(word, (r >> 12) % 100000)
                                 : append_word(word, vocab[(r >> 8) % 24 & (r >> 16) % 24]);
        for (size_t i = 0; i < len && n < size; i++) buf[n++] = (unsigned char)word[i];
        if (n < size) buf[n++] = (unsigned char)(r % 17 == 0 ? '\n' : r % 13 == 0 ? ',' : ' ');
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    static const int levels[] = {1, 3, 9};
    unsigned char *input = malloc(INPUT_SIZE), *output = malloc(INPUT_SIZE);
    size_t cap = ZSTD_compressBound(INPUT_SIZE);
    unsigned char *frame = malloc(cap);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!input || !output || !frame || !cctx || !dctx) return 1;
    generate(input, INPUT_SIZE);
    uint64_t sum = 0;
    size_t sizes[3] = {0};
    for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < 3; k++) {
            size_t n = ZSTD_compressCCtx(cctx, frame, cap, input, INPUT_SIZE, levels[k]);
            if (ZSTD_isError(n)) {
                fprintf(stderr, "zstd: compress: %s\n", ZSTD_getErrorName(n));
                return 1;
            }
            size_t m = ZSTD_decompressDCtx(dctx, output, INPUT_SIZE, frame, n);
            if (ZSTD_isError(m) || m != INPUT_SIZE || memcmp(input, output, INPUT_SIZE) != 0) {
                fprintf(stderr, "zstd: round trip failed at level %d\n", levels[k]);
                return 1;
            }
            sizes[k] = n;
            sum = XXH64(frame, n, sum);
        }
    }
    printf("zstd %s rounds=%d sizes %zu %zu %zu xxh64 %016llx\n", ZSTD_versionString(), rounds,
           sizes[0], sizes[1], sizes[2], (unsigned long long)sum);
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
    free(input);
    free(output);
    free(frame);
    return 0;
}
