/* bzip2 workload for bench/realworld.sh: libbzip2 (Debian's bzip2 sources) compresses 2 MiB of
 * generated text-like data with 900k blocks and decompresses it, n rounds, checking the round
 * trip. Prints the compressed size and an FNV-1a hash of the compressed bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bzlib.h"

#define INPUT_SIZE (2u << 20)

/* built with BZ_NO_STDIO, the library leaves its assertion handler to the program */
void bz_internal_error(int code);
void bz_internal_error(int code) {
    fprintf(stderr, "bzip2: internal error %d\n", code);
    exit(1);
}

static uint32_t rng = 88172645u;
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

static void generate(char *buf, size_t size) {
    static const char *const vocab[] = {"lorem", "ipsum", "dolor",  "sit",  "amet",    "elit",
                                        "sed",   "do",    "tempor", "ut",   "labore",  "magna",
                                        "enim",  "minim", "veniam", "quis", "nostrud", "ex"};
    size_t n = 0;
    while (n < size) {
        uint32_t r = next_rand();
        char word[32];
        size_t len = r % 9 == 0 ? append_u32(word, (r >> 10) % 10000)
                                : append_word(word, vocab[(r >> 8) % 18]);
        for (size_t i = 0; i < len && n < size; i++) buf[n++] = word[i];
        if (n < size) buf[n++] = r % 15 == 0 ? '\n' : ' ';
    }
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 1;
    char *input = malloc(INPUT_SIZE), *output = malloc(INPUT_SIZE);
    unsigned cap = INPUT_SIZE + INPUT_SIZE / 100 + 600;
    char *packed = malloc(cap);
    if (!input || !output || !packed) return 1;
    generate(input, INPUT_SIZE);
    uint64_t hash = 1469598103934665603ull;
    unsigned packed_len = 0;
    for (int round = 0; round < rounds; round++) {
        packed_len = cap;
        int rc = BZ2_bzBuffToBuffCompress(packed, &packed_len, input, INPUT_SIZE, 9, 0, 0);
        if (rc != BZ_OK) {
            fprintf(stderr, "bzip2: compress failed (%d)\n", rc);
            return 1;
        }
        unsigned out_len = INPUT_SIZE;
        rc = BZ2_bzBuffToBuffDecompress(output, &out_len, packed, packed_len, 0, 0);
        if (rc != BZ_OK || out_len != INPUT_SIZE || memcmp(input, output, INPUT_SIZE) != 0) {
            fprintf(stderr, "bzip2: round trip failed (%d)\n", rc);
            return 1;
        }
        for (unsigned i = 0; i < packed_len; i++)
            hash = (hash ^ (unsigned char)packed[i]) * 1099511628211ull;
    }
    printf("bzip2 %s rounds=%d size %u fnv %016llx\n", BZ2_bzlibVersion(), rounds, packed_len,
           (unsigned long long)hash);
    free(input);
    free(output);
    free(packed);
    return 0;
}
