/* f32: fast, exact-by-fallback conversions between f32 and decimal text (see f32.h).
 *
 * Error bound of the fast paths: a double operation rounds to within 2^-53 relative; scaling by
 * a power of ten takes at most four such roundings (a power above 10^22 is a product), so
 * scaled values are within 5e-16 relative of the truth. Decisions are taken only when the
 * quantities compared differ by more than 1e-14 relative, twenty times that bound. */
#include "f32.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 1e-14

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* x × 10^-k for |k| up to about 110 (a few roundings, see above). */
static double scale_down(double x, int k) {
    int n = k < 0 ? -k : k;
    double p = 1;
    while (n > 22) {
        p *= 1e22;
        n -= 22;
    }
    p *= pow10_exact[n];
    return k < 0 ? x * p : x / p;
}

/* Writes the decimal digits of c > 0 without trailing zeros; returns their count and adds the
 * zeros dropped to *k. */
static int put_digits(uint64_t c, char *digits, int *k) {
    while (c % 10 == 0) {
        c /= 10;
        (*k)++;
    }
    char tmp[24];
    int n = 0;
    while (c) {
        tmp[n++] = (char)('0' + c % 10);
        c /= 10;
    }
    for (int i = 0; i < n; i++) digits[i] = tmp[n - 1 - i];
    digits[n] = '\0';
    return n;
}

/* The f32 after f > 0 (infinity after the largest), without libm calls. */
static float f32_up(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    bits++;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float f32_down(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    bits--;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int f32_shortest_fast(float f, char digits[F32_DIGITS_MAX + 2], int *k_out) {
    double v = f;
    float below = f32_down(f), above = f32_up(f);
    /* the rounding interval: halfway to each neighbour (sums of two f32s are exact) */
    double lo = (v + (double)below) / 2;
    double hi = isinf(above) ? (v + 0x1p128) / 2 : (v + (double)above) / 2;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    int e2 = (int)(bits >> 23) - 127; /* about log2(v); subnormals fall short, fixed below */
    int e10 = e2 * 30103 / 100000 - (e2 < 0); /* about log10(v) */
    while (scale_down(v, e10 + 1) >= 1) e10++;
    while (scale_down(v, e10) < 1) e10--;
    double lead = scale_down(v, e10);         /* in [1, 10) unless too near a power of ten to say */
    if (lead == 1 && e10 >= 0 && e10 <= 10) { /* 10^e10 itself: an f32, its scaling exact */
        digits[0] = '1';
        digits[1] = '\0';
        *k_out = e10;
        return 1;
    }
    if (lead < 1 + TOLERANCE || lead > 10 * (1 - TOLERANCE)) return -1;
    for (int p = 1; p <= F32_DIGITS_MAX; p++) {
        int k = e10 - p + 1;
        double sv = scale_down(v, k), slo = scale_down(lo, k), shi = scale_down(hi, k);
        double m = (double)(int64_t)(sv + 0.5), best = 0, best_dist = 0; /* sv > 0: floor */
        for (double c = m - 1; c <= m + 1; c++) {
            if (c <= 0) continue;
            double tol = c * TOLERANCE;
            if (fabs(c - slo) <= tol || fabs(c - shi) <= tol) return -1; /* on a bound? */
            if (c <= slo || c >= shi) continue;
            double dist = fabs(c - sv);
            if (best > 0 && fabs(dist - best_dist) <= tol) return -1; /* a tie? */
            if (best == 0 || dist < best_dist) {
                best = c;
                best_dist = dist;
            }
        }
        if (best > 0) {
            *k_out = k;
            return put_digits((uint64_t)best, digits, k_out);
        }
    }
    return -1;
}

/* ---- the exact path ---- */

/* The p-significant-digit rendering of v > 0 (correctly rounded by printf) and the exponent of
 * its last digit. */
static int digits_of(double v, int p, char *digits, int *exp_last) {
    char text[48];
    snprintf(text, sizeof text, "%.*e", p - 1, v); /* d.ddde±xx */
    int n = 0;
    const char *q = text;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') digits[n++] = *q;
    *exp_last = atoi(q + 1) - (n - 1);
    return n;
}

static int reads_back(const char *digits, int n, int exp_last, float f) {
    char text[48];
    snprintf(text, sizeof text, "%.*se%d", n, digits, exp_last);
    return strtof(text, NULL) == f;
}

/* digits ± 1 in the last place; 0, or -1 when the digit count would change. */
static int step_digits(char *digits, int n, int delta) {
    for (int i = n - 1; i >= 0; i--) {
        int d = digits[i] - '0' + delta;
        if (d >= 0 && d <= 9) {
            digits[i] = (char)('0' + d);
            return digits[0] == '0' ? -1 : 0;
        }
        digits[i] = delta > 0 ? '0' : '9';
    }
    return -1;
}

static int finish_exact(char *digits, int n, int k, int *k_out) {
    while (n > 1 && digits[n - 1] == '0') {
        n--;
        k++;
    }
    digits[n] = '\0';
    *k_out = k;
    return n;
}

int f32_shortest_exact(float f, char digits[F32_DIGITS_MAX + 2], int *k_out) {
    for (int p = 1; p <= F32_DIGITS_MAX; p++) {
        int e, n = digits_of((double)f, p, digits, &e);
        if (reads_back(digits, n, e, f)) return finish_exact(digits, n, e, k_out);
        /* near a power of two the interval is lopsided: the correctly rounded candidate may
         * miss while its neighbour on the wider side fits */
        for (int delta = -1; delta <= 1; delta += 2) {
            char other[F32_DIGITS_MAX + 2];
            memcpy(other, digits, (size_t)n);
            if (step_digits(other, n, delta) == 0 && reads_back(other, n, e, f)) {
                memcpy(digits, other, (size_t)n);
                return finish_exact(digits, n, e, k_out);
            }
        }
    }
    int e, n = digits_of((double)f, F32_DIGITS_MAX, digits, &e);
    return finish_exact(digits, n, e, k_out);
}

int f32_shortest(float f, char digits[F32_DIGITS_MAX + 2], int *k) {
    if (f < 0x1p24f && f == (float)(int32_t)f) {
        /* an integer below 2^24: its neighbours are integers too, so its own digits are the
         * shortest (prices such as 56.0 mostly are) */
        *k = 0;
        return put_digits((uint64_t)f, digits, k);
    }
    int n = f32_shortest_fast(f, digits, k);
    return n > 0 ? n : f32_shortest_exact(f, digits, k);
}

void f32_format(buf *b, float f) {
    if (!isfinite(f)) {
        buf_adds(b, "null");
        return;
    }
    if (signbit(f)) buf_addc(b, '-');
    f = fabsf(f);
    if (f == 0) {
        buf_adds(b, "0.0");
        return;
    }
    char d[F32_DIGITS_MAX + 2];
    int k, n = f32_shortest(f, d, &k);
    int kk = n + k; /* 10^(kk-1) <= f < 10^kk */
    if (k >= 0 && kk <= 13) {
        buf_add(b, d, (size_t)n);
        for (int i = n; i < kk; i++) buf_addc(b, '0');
        buf_adds(b, ".0");
    } else if (kk > 0 && kk <= 13) {
        buf_add(b, d, (size_t)kk);
        buf_addc(b, '.');
        buf_add(b, d + kk, (size_t)(n - kk));
    } else if (kk > -6 && kk <= 0) {
        buf_adds(b, "0.");
        for (int i = kk; i < 0; i++) buf_addc(b, '0');
        buf_add(b, d, (size_t)n);
    } else {
        buf_addc(b, d[0]);
        if (n > 1) {
            buf_addc(b, '.');
            buf_add(b, d + 1, (size_t)(n - 1));
        }
        buf_addc(b, 'e');
        buf_add_int(b, kk - 1);
    }
}

/* ---- parsing ---- */

int f32_parse_exact(const char *s, size_t len, float *out) {
    char small[64];
    char *text = len < sizeof small ? small : malloc(len + 1);
    if (!text) return -2;
    memcpy(text, s, len);
    text[len] = '\0';
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    int bad = end != text + len || len == 0, range = errno == ERANGE && isinf(d);
    if (text != small) free(text);
    if (bad) return -1;
    if (range || !isfinite((float)d)) return -2;
    *out = (float)d;
    return 0;
}

int f32_parse(const char *s, size_t len, float *out) {
    const char *p = s, *end = s + len;
    int negative = p < end && *p == '-';
    if (negative) p++;
    uint64_t m = 0;
    int digits = 0, k = 0, any = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, any = 1) {
        if (m == 0 && *p == '0') continue;
        if (digits == 19) return f32_parse_exact(s, len, out); /* more digits than m holds */
        m = m * 10 + (uint64_t)(*p - '0');
        digits++;
    }
    if (p < end && *p == '.') {
        p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, any = 1) {
            if (m == 0 && *p == '0') {
                k--;
                continue;
            }
            if (digits == 19) return f32_parse_exact(s, len, out);
            m = m * 10 + (uint64_t)(*p - '0');
            digits++;
            k--;
        }
    }
    if (!any) return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = p < end && *p == '-', e = 0, edigits = 0;
        if (p < end && (*p == '-' || *p == '+')) p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, edigits++)
            if (e < 10000) e = e * 10 + (*p - '0');
        if (!edigits) return -1;
        k += eneg ? -e : e;
    }
    if (p != end) return -1;
    if (m == 0) {
        *out = negative ? -0.0f : 0.0f;
        return 0;
    }
    if (k < -80 || k > 60) return f32_parse_exact(s, len, out); /* 0 or out of range: exactly */
    double d;
    if (m <= (1ull << 53) && k >= -22 && k <= 22) {
        /* both operands exact: one rounding, the same double as strtod's */
        d = k < 0 ? (double)m / pow10_exact[-k] : (double)m * pow10_exact[k];
    } else {
        d = scale_down((double)m, -k); /* a few roundings: decide only far from an f32 tie */
        float f = (float)d;
        if (f == 0 || isinf(f) || fabsf(f) == 3.40282347e38f) return f32_parse_exact(s, len, out);
        double ulp = (double)f32_up(fabsf(f)) - (double)fabsf(f);
        double frac = fabs(d - (double)f) / ulp; /* where d lies between f32s: 0.5 is a tie */
        if (fabs(frac - 0.5) < 1e-6) return f32_parse_exact(s, len, out);
    }
    float f = (float)d;
    if (isinf(f)) return -2;
    *out = negative ? -f : f;
    return 0;
}
