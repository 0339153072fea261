/* f32: decimal text to and from f32 the way the original's serde_json does it, without printf
 * and strtod on the hot path (wasi-libc's take the 128-bit long double path, emulated in
 * software, which costs microseconds per number in an interpreter). Each fast path works in
 * double precision with a proven error bound and hands the rare undecidable case to the
 * exact printf/strtod path. */
#ifndef MS_F32_H
#define MS_F32_H

#include <stddef.h>

#include "base.h"

#define F32_DIGITS_MAX 9 /* 9 significant digits always read back */

/* The shortest decimal digits that read back as f (finite, > 0), the closest to f among them
 * (Ryu's result): f ≈ digits × 10^*k. Returns the digit count (no trailing zeros). */
int f32_shortest(float f, char digits[F32_DIGITS_MAX + 2], int *k);
/* The same in double precision only: the digit count, or -1 when a candidate lies too near a
 * bound of f's rounding interval (or two are too near a tie) to decide. */
int f32_shortest_fast(float f, char digits[F32_DIGITS_MAX + 2], int *k);
/* The same through printf and strtof (exact, slow). */
int f32_shortest_exact(float f, char digits[F32_DIGITS_MAX + 2], int *k);

/* f as serde_json prints an f32 (Ryu's layout): "56.0", "2.5", "0.001", "1e-7",
 * "3.4028235e38"; "null" when not finite. */
void f32_format(buf *b, float f);

/* A decimal number (JSON's grammar, and MariaDB's DOUBLE text) converted as serde_json does:
 * to the nearest f64, then to f32. 0 with *out; -1 when s[0..len) is not a number; -2 when
 * the value does not fit an f32 (or an f64). */
int f32_parse(const char *s, size_t len, float *out);
/* The same through strtod (exact, slow). */
int f32_parse_exact(const char *s, size_t len, float *out);

#endif
