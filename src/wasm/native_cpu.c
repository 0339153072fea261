/* CPU features by cpuid: leaf 1 (ECX), leaf 7 subleaf 0 (EBX), leaf 0x80000001 (ECX, for LZCNT,
 * which AMD calls ABM), and XCR0 for the OS's support of the AVX register state. */
#include "wasm/native_cpu.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Per bit, in bit order: the name in messages and the LLVM feature(s) it enables. */
static const struct {
    uint64_t bit;
    const char *name;
    const char *llvm; /* comma-separated */
} feature_names[] = {
    {WB_CPU_SSE3, "sse3", "sse3"},       {WB_CPU_SSSE3, "ssse3", "ssse3"},
    {WB_CPU_SSE41, "sse4.1", "sse4.1"},  {WB_CPU_SSE42, "sse4.2", "sse4.2,crc32"},
    {WB_CPU_POPCNT, "popcnt", "popcnt"}, {WB_CPU_LZCNT, "lzcnt", "lzcnt"},
    {WB_CPU_BMI1, "bmi1", "bmi"},        {WB_CPU_BMI2, "bmi2", "bmi2"},
    {WB_CPU_AVX, "avx", "avx"},          {WB_CPU_AVX2, "avx2", "avx2"},
    {WB_CPU_FMA, "fma", "fma"},          {WB_CPU_MOVBE, "movbe", "movbe"},
    {WB_CPU_CX16, "cx16", "cx16"},       {WB_CPU_F16C, "f16c", "f16c"},
};

/* Features we never enable, disabled explicitly so that no CPU name or default turns them on.
 * Only names that LLVM 14 and its successors all know (an unknown name makes LLVM print a
 * warning); AVX-512 extensions missing here depend on avx512f and go with it. */
static const char *const never_enabled[] = {
    "avx512f",    "avx512cd",    "avx512bw",   "avx512dq",     "avx512vl",        "avx512ifma",
    "avx512vbmi", "avx512vbmi2", "avx512vnni", "avx512bitalg", "avx512vpopcntdq", "avx512bf16",
    "avx512fp16", "avxvnni",     "amx-tile",   "amx-int8",     "amx-bf16",        "sse4a",
    "fma4",       "xop",         "tbm",        "aes",          "pclmul",          "vaes",
    "vpclmulqdq", "gfni",        "sha",        "adx",          "rdrnd",           "rdseed",
    "sahf",       "prfchw",      "lwp",        "xsave",        "xsaveopt",        "xsavec",
    "xsaves",     "fsgsbase",
};

#define NFEATURES (sizeof feature_names / sizeof feature_names[0])
#define NNEVER    (sizeof never_enabled / sizeof never_enabled[0])

#if defined(__x86_64__)
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* cpuid traps to the hypervisor in a VM (microseconds each): the answer is kept after the first
 * call (process-wide, documented exception to "no mutable globals"; a benign race, every thread
 * computes the same value) */
static uint64_t features_cached;
static bool features_known;
static uint64_t detect(void);

uint64_t wb_cpu_features(void) {
    if (!__atomic_load_n(&features_known, __ATOMIC_ACQUIRE)) {
        features_cached = detect();
        __atomic_store_n(&features_known, true, __ATOMIC_RELEASE);
    }
    return features_cached;
}

static uint64_t detect(void) {
    uint32_t r[4];
    uint64_t f = 0;
    cpuid(0, 0, r);
    uint32_t max_leaf = r[0];
    if (max_leaf < 1) return 0;
    cpuid(1, 0, r);
    uint32_t ecx1 = r[2];
    f |= (ecx1 & (1u << 0)) ? WB_CPU_SSE3 : 0;
    f |= (ecx1 & (1u << 9)) ? WB_CPU_SSSE3 : 0;
    f |= (ecx1 & (1u << 12)) ? WB_CPU_FMA : 0;
    f |= (ecx1 & (1u << 13)) ? WB_CPU_CX16 : 0;
    f |= (ecx1 & (1u << 19)) ? WB_CPU_SSE41 : 0;
    f |= (ecx1 & (1u << 20)) ? WB_CPU_SSE42 : 0;
    f |= (ecx1 & (1u << 22)) ? WB_CPU_MOVBE : 0;
    f |= (ecx1 & (1u << 23)) ? WB_CPU_POPCNT : 0;
    f |= (ecx1 & (1u << 28)) ? WB_CPU_AVX : 0;
    f |= (ecx1 & (1u << 29)) ? WB_CPU_F16C : 0;
    if (max_leaf >= 7) {
        cpuid(7, 0, r);
        f |= (r[1] & (1u << 3)) ? WB_CPU_BMI1 : 0;
        f |= (r[1] & (1u << 5)) ? WB_CPU_AVX2 : 0;
        f |= (r[1] & (1u << 8)) ? WB_CPU_BMI2 : 0;
    }
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000001u) {
        cpuid(0x80000001u, 0, r);
        f |= (r[2] & (1u << 5)) ? WB_CPU_LZCNT : 0;
    }
    /* the YMM registers are usable only if the OS saves them: OSXSAVE, then XCR0 bits 1 (SSE)
     * and 2 (AVX) */
    bool ymm = (ecx1 & (1u << 27)) && (xgetbv0() & 6) == 6;
    if (!ymm) f &= ~(WB_CPU_AVX | WB_CPU_AVX2 | WB_CPU_FMA | WB_CPU_F16C);
    return f;
}
#else
uint64_t wb_cpu_features(void) {
    return 0;
}
#endif

/* Appends to a buffer that may be too small, counting the full length. */
typedef struct text_out {
    char *buf;
    size_t size, len;
} text_out;

static void put(text_out *t, const char *s) {
    size_t n = strlen(s);
    if (t->len < t->size) {
        size_t room = t->size - t->len - 1;
        memcpy(t->buf + t->len, s, n < room ? n : room);
    }
    t->len += n;
    if (t->size) t->buf[t->len < t->size ? t->len : t->size - 1] = '\0';
}

/* "+a,+b" or "-a,-b" for a comma-separated list of LLVM names. */
static void put_llvm_list(text_out *t, char sign, const char *names) {
    char item[64];
    const char *p = names;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof item) n = sizeof item - 1;
        snprintf(item, sizeof item, "%s%c%.*s", t->len ? "," : "", sign, (int)n, p);
        put(t, item);
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
}

size_t wb_cpu_features_llvm(uint64_t mask, char *buf, size_t size) {
    text_out t = {buf, size, 0};
    if (size) buf[0] = '\0';
    for (size_t i = 0; i < NFEATURES; i++)
        if (mask & feature_names[i].bit) put_llvm_list(&t, '+', feature_names[i].llvm);
    /* the disabling comes last: LLVM applies the list in order, and disabling a feature also
     * disables those that imply it, so a mask with avx2 but not avx gets neither */
    for (size_t i = 0; i < NFEATURES; i++)
        if (!(mask & feature_names[i].bit)) put_llvm_list(&t, '-', feature_names[i].llvm);
    for (size_t i = 0; i < NNEVER; i++) put_llvm_list(&t, '-', never_enabled[i]);
    return t.len;
}

size_t wb_cpu_features_name(uint64_t mask, char *buf, size_t size) {
    text_out t = {buf, size, 0};
    if (size) buf[0] = '\0';
    for (unsigned b = 0; b < 64; b++) {
        if (!(mask & (1ull << b))) continue;
        char unknown[16];
        const char *name = unknown;
        snprintf(unknown, sizeof unknown, "bit%u", b);
        for (size_t i = 0; i < NFEATURES; i++)
            if (feature_names[i].bit == 1ull << b) name = feature_names[i].name;
        if (t.len) put(&t, " ");
        put(&t, name);
    }
    if (!t.len) put(&t, "none");
    return t.len;
}
