/* Fixture for tests/unit/test_native_obj.c: 4096 functions f_000 .. f_fff, f_N(x) = x + N, for
 * symbol lookup by name and by address over thousands of symbols. */
// clang-format off
#define F(n) int f_##n(int x) { return x + 0x##n; }
#define F16(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) \
               F(n##8) F(n##9) F(n##a) F(n##b) F(n##c) F(n##d) F(n##e) F(n##f)
#define F256(n) F16(n##0) F16(n##1) F16(n##2) F16(n##3) F16(n##4) F16(n##5) F16(n##6) F16(n##7) \
                F16(n##8) F16(n##9) F16(n##a) F16(n##b) F16(n##c) F16(n##d) F16(n##e) F16(n##f)
F256(0) F256(1) F256(2) F256(3) F256(4) F256(5) F256(6) F256(7)
F256(8) F256(9) F256(a) F256(b) F256(c) F256(d) F256(e) F256(f)
    // clang-format on
