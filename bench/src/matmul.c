/* matmul: dense f64 matrix multiply C = A * B of n x n matrices (i-k-j order, so the inner
 * loop streams rows). Measures f64 multiply-add throughput and linear memory bandwidth. */
#include "freestanding.h"

#define MAX_DIM 1024

static double mat_a[MAX_DIM * MAX_DIM];
static double mat_b[MAX_DIM * MAX_DIM];
static double mat_c[MAX_DIM * MAX_DIM];

int64_t bench_run(int32_t n) {
    uint32_t dim = n < 1 ? 1u : n > MAX_DIM ? (uint32_t)MAX_DIM : (uint32_t)n;
    for (uint32_t i = 0; i < dim; i++) {
        for (uint32_t j = 0; j < dim; j++) {
            /* Small exact dyadic-free values in [-0.5, 0.5): no overflow, non-trivial rounding. */
            mat_a[i * dim + j] = (double)((i * 31u + j * 17u) % 97u) / 97.0 - 0.5;
            mat_b[i * dim + j] = (double)((i * 13u + j * 29u + 7u) % 89u) / 89.0 - 0.5;
            mat_c[i * dim + j] = 0.0;
        }
    }
    for (uint32_t i = 0; i < dim; i++) {
        double *c_row = &mat_c[i * dim];
        for (uint32_t k = 0; k < dim; k++) {
            double a = mat_a[i * dim + k];
            const double *b_row = &mat_b[k * dim];
            for (uint32_t j = 0; j < dim; j++) c_row[j] += a * b_row[j];
        }
    }
    /* Sum each row in order (no reassociation), then fold the row sums and the diagonal. */
    uint64_t hash = WB_BENCH_FNV64_INIT;
    for (uint32_t i = 0; i < dim; i++) {
        double row_sum = 0.0;
        for (uint32_t j = 0; j < dim; j++) row_sum += mat_c[i * dim + j];
        hash = bench_mix64(hash, bench_f64_bits(row_sum));
        hash = bench_mix64(hash, bench_f64_bits(mat_c[i * dim + i]));
    }
    return (int64_t)hash;
}
