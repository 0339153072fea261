/* fib: naive doubly recursive Fibonacci. Measures call/return and small-function overhead. */
#include "freestanding.h"

static int64_t fib(int32_t k) {
    if (k < 2) return k;
    return fib(k - 1) + fib(k - 2);
}

int64_t bench_run(int32_t n) {
    return fib(n);
}
