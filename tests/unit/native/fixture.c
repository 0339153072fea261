/* Fixture for tests/unit/test_native_obj.c, compiled by the Makefile into objects for the native
 * code loader (-fPIC; -fno-pic; -mcmodel=large): calls, a jump table, floating-point constants,
 * writable data, external functions and an external variable (resolved by the test). */
extern int ext_counter; /* through the GOT with -fPIC */
extern int ext_near(int);
extern int ext_far(int);

__attribute__((noinline)) static int square(int x) {
    return x * x;
}
__attribute__((noinline)) int add3(int a, int b, int c) {
    return a + b + c;
}
int calls(int x) {
    return add3(x, square(x), 1);
}

int classify(int x) {
    switch (x) {
    case 0: return 11;
    case 1: return 23;
    case 2: return 37;
    case 3: return 41;
    case 4: return 59;
    case 5: return 67;
    case 6: return 73;
    case 7: return 89;
    case 8: return 97;
    default: return -1;
    }
}

double scale(double x) {
    return x * 3.25 + 0.125;
}
float fscale(float x) {
    return x * 1.5f - 0.25f;
}
static const double table[8] = {1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5};
double pick(int i) {
    return table[i & 7];
}

static int counters[16];                /* .bss */
static int init_data[4] = {5, 6, 7, 8}; /* .data */
int bump(int i) {
    counters[i & 15]++;
    init_data[i & 3] += 1;
    return counters[i & 15] * 100 + init_data[i & 3];
}

int global_var = 42; /* defined, yet reached through the GOT with -fPIC (preemptible) */
int get_global(void) {
    return global_var;
}
int read_ext(void) {
    return ext_counter;
}
void write_ext(int v) {
    ext_counter = v;
}

int call_near(int x) {
    return ext_near(x) + 1;
}
int call_far(int x) {
    return ext_far(x) + 2;
}
int tail_far(int x) {
    return ext_far(x);
} /* a jmp, not a call */

static int neg(int x) {
    return -x;
}
static int twice(int x) {
    return 2 * x;
}
static int inc(int x) {
    return x + 1;
}
static int (*const ops[])(int) = {neg, twice, inc, square}; /* absolute pointers to relocate */
int dispatch(int i, int x) {
    return ops[i & 3](x);
}

const char *greeting(void) {
    return "hello from native code";
}
