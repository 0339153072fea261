/* vector: loops a compiler vectorises — an 8-bit alpha blend of two images, a saxpy-style f32
 * update and an i16 dot product with an i32 sum, over 64 Ki elements, n rounds. Built a second
 * time to wasm with -msimd128 (bench/simd.sh) to measure the engine's SIMD against its scalar
 * code; all three builds must give the same checksum (integer sums only; the f32 update is
 * element-wise, so vector and scalar code round alike). */
#include "freestanding.h"

#define LEN (1u << 16)

static uint8_t img_a[LEN], img_b[LEN], img_out[LEN];
static float xs[LEN], ys[LEN];
static int16_t va[LEN], vb[LEN];

/* out = (a * alpha + b * (256 - alpha)) / 256 */
static void blend(uint8_t *restrict out, const uint8_t *restrict a, const uint8_t *restrict b,
                  uint32_t alpha) {
    uint16_t wa = (uint16_t)alpha, wb = (uint16_t)(256u - alpha);
    for (uint32_t i = 0; i < LEN; i++) out[i] = (uint8_t)((uint16_t)(a[i] * wa + b[i] * wb) >> 8);
}

/* y = s * x + y * 0.5 keeps |y| bounded by 2 |s| max |x| */
static void saxpy(float *restrict y, const float *restrict x, float s) {
    for (uint32_t i = 0; i < LEN; i++) y[i] = s * x[i] + y[i] * 0.5f;
}

/* wrapping i32 sum of the i16 products */
static uint32_t dot(const int16_t *restrict a, const int16_t *restrict b) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < LEN; i++) sum += (uint32_t)(a[i] * b[i]);
    return sum;
}

/* va += the blended image (wrapping), so every round's dot product differs */
static void accumulate(int16_t *restrict a, const uint8_t *restrict img) {
    for (uint32_t i = 0; i < LEN; i++) a[i] = (int16_t)(uint16_t)((uint16_t)a[i] + img[i]);
}

int64_t bench_run(int32_t n) {
    uint32_t rng = 0x9e3779b9u;
    for (uint32_t i = 0; i < LEN; i++) {
        uint32_t r = bench_rng_next(&rng);
        img_a[i] = (uint8_t)r;
        img_b[i] = (uint8_t)(r >> 8);
        va[i] = (int16_t)(r >> 16);
        vb[i] = (int16_t)((r >> 3) & 0x3ff) - 512;
        xs[i] = (float)(int32_t)(r & 0xffff) / 65536.0f - 0.5f;
        ys[i] = 0.0f;
    }
    uint64_t hash = WB_BENCH_FNV64_INIT;
    for (int32_t round = 0; round < n; round++) {
        blend(img_out, img_a, img_b, (uint32_t)round * 37u & 255u);
        saxpy(ys, xs, 1.0f + (float)(round & 7) * 0.125f);
        accumulate(va, img_out);
        hash = bench_mix64(hash, dot(va, vb));
    }
    for (uint32_t i = 0; i < LEN; i += 4099) {
        union {
            float f;
            uint32_t u;
        } pun = {.f = ys[i]};
        hash = bench_mix64(hash, pun.u);
        hash = bench_mix64(hash, img_out[i]);
    }
    return (int64_t)hash;
}
