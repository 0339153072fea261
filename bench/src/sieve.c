/* sieve: the sieve of Eratosthenes over a byte array, repeated n times with a slightly
 * different limit each round. Measures tight loops of byte loads/stores with strided access. */
#include "freestanding.h"

#define SIEVE_LIMIT (1u << 21)

static uint8_t composite[SIEVE_LIMIT + 1];

int64_t bench_run(int32_t n) {
    uint64_t hash = WB_BENCH_FNV64_INIT;
    for (int32_t round = 0; round < n; round++) {
        uint32_t limit = SIEVE_LIMIT - (uint32_t)round * 7u % 4096u;
        for (uint32_t i = 0; i <= limit; i++) composite[i] = 0;
        for (uint32_t p = 2; p * p <= limit; p++) {
            if (composite[p]) continue;
            for (uint32_t m = p * p; m <= limit; m += p) composite[m] = 1;
        }
        uint32_t count = 0;
        uint64_t prime_sum = 0;
        for (uint32_t i = 2; i <= limit; i++) {
            if (!composite[i]) {
                count++;
                prime_sum += i;
            }
        }
        hash = bench_mix64(hash, count);
        hash = bench_mix64(hash, prime_sum);
    }
    return (int64_t)hash;
}
