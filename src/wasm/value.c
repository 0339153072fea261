/* Printing values as the CLI shows them: floats as the shortest decimal that reads back to the
 * same bits, NaNs with their payload when it is not the canonical one. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/wasm.h"

static void format_f32(uint32_t bits, char *buf, size_t size) {
    const char *sign = (bits >> 31) ? "-" : "";
    uint32_t exp = (bits >> 23) & 0xff, frac = bits & 0x7fffff;
    if (exp == 0xff) {
        if (!frac)
            snprintf(buf, size, "%sinf", sign);
        else if (frac == 0x400000)
            snprintf(buf, size, "%snan", sign);
        else
            snprintf(buf, size, "%snan:0x%" PRIx32, sign, frac);
        return;
    }
    float f;
    memcpy(&f, &bits, 4);
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)f);
        float back = strtof(buf, NULL);
        if (memcmp(&back, &f, 4) == 0) return;
    }
}

static void format_f64(uint64_t bits, char *buf, size_t size) {
    const char *sign = (bits >> 63) ? "-" : "";
    uint64_t exp = (bits >> 52) & 0x7ff, frac = bits & 0xfffffffffffffull;
    if (exp == 0x7ff) {
        if (!frac)
            snprintf(buf, size, "%sinf", sign);
        else if (frac == 0x8000000000000ull)
            snprintf(buf, size, "%snan", sign);
        else
            snprintf(buf, size, "%snan:0x%" PRIx64, sign, frac);
        return;
    }
    double d;
    memcpy(&d, &bits, 8);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        double back = strtod(buf, NULL);
        if (memcmp(&back, &d, 8) == 0) return;
    }
}

void wb_value_format(const wb_value *v, char *buf, size_t size) {
    switch (v->type) {
    case WB_I32: snprintf(buf, size, "%" PRId32, v->of.i32); break;
    case WB_I64: snprintf(buf, size, "%" PRId64, v->of.i64); break;
    case WB_F32: format_f32(v->of.f32, buf, size); break;
    case WB_F64: format_f64(v->of.f64, buf, size); break;
    case WB_V128: {
        uint32_t lanes[4];
        memcpy(lanes, v->of.v128, 16);
        snprintf(buf, size, "i32x4 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32,
                 lanes[0], lanes[1], lanes[2], lanes[3]);
        break;
    }
    case WB_FUNCREF: snprintf(buf, size, v->of.ref ? "ref.func" : "ref.null func"); break;
    case WB_EXTERNREF: snprintf(buf, size, v->of.ref ? "ref.extern" : "ref.null extern"); break;
    default: snprintf(buf, size, "?"); break;
    }
}
