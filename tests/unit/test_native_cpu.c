/* CPU features by cpuid (wasm/native_cpu.h): our bits agree with the kernel's /proc/cpuinfo
 * flags, and the LLVM feature string names every known feature exactly once, enabled or not. */
#include "harness.h"

#include "wasm/native_cpu.h"

/* Whether /proc/cpuinfo's first "flags" line lists flag; -1 when there is no such file. */
static int cpuinfo_has(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    static char line[8192];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        found = 0;
        for (char *tok = strtok(strchr(line, ':') + 1, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            if (strcmp(tok, flag) == 0) found = 1;
        break;
    }
    fclose(f);
    return found;
}

TEST(native_cpu_matches_proc_cpuinfo) {
    static const struct {
        const char *flag;
        uint64_t bit;
    } flags[] = {
        {"pni", WB_CPU_SSE3},     {"ssse3", WB_CPU_SSSE3},   {"sse4_1", WB_CPU_SSE41},
        {"sse4_2", WB_CPU_SSE42}, {"popcnt", WB_CPU_POPCNT}, {"abm", WB_CPU_LZCNT},
        {"bmi1", WB_CPU_BMI1},    {"bmi2", WB_CPU_BMI2},     {"avx", WB_CPU_AVX},
        {"avx2", WB_CPU_AVX2},    {"fma", WB_CPU_FMA},       {"movbe", WB_CPU_MOVBE},
        {"cx16", WB_CPU_CX16},    {"f16c", WB_CPU_F16C},
    };
    if (cpuinfo_has("sse2") < 0) SKIP("no /proc/cpuinfo flags line");
    uint64_t f = wb_cpu_features();
    ASSERT_U64_EQ(f & ~WB_CPU_ALL, 0);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        int has = cpuinfo_has(flags[i].flag);
        if (has != ((f & flags[i].bit) != 0))
            wb_test_fail(__FILE__, __LINE__, "flag %s: /proc/cpuinfo %d, cpuid %d", flags[i].flag,
                         has, (f & flags[i].bit) != 0);
    }
    /* every x86-64 machine this project runs on is at least x86-64-v2 */
    ASSERT_U64_EQ(f & WB_CPU_X86_64_V2, WB_CPU_X86_64_V2);
    ASSERT_EQ(wb_cpu_features(), f);
}

/* The LLVM names one bit stands for: the "+" items of its string, as ",name,name,". */
static void plus_items(uint64_t mask, char *out, size_t size) {
    char buf[2048];
    ASSERT_LT(wb_cpu_features_llvm(mask, buf, sizeof buf), sizeof buf);
    snprintf(out, size, ",");
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        if (tok[0] == '+') {
            ASSERT_LT(strlen(out) + strlen(tok) + 1, size);
            strcat(out, tok + 1);
            strcat(out, ",");
        }
}

TEST(native_cpu_llvm_string_round_trips) {
    char names[14][64];
    for (int b = 0; b < 14; b++) {
        plus_items(1ull << b, names[b], sizeof names[b]);
        ASSERT_TRUE(strlen(names[b]) > 2);
    }
    srand(7);
    for (int round = 0; round < 500; round++) {
        uint64_t mask = round == 0 ? WB_CPU_ALL : round == 1 ? 0 : (uint64_t)rand() & WB_CPU_ALL;
        char buf[2048], seen[2048] = ",";
        size_t n = wb_cpu_features_llvm(mask, buf, sizeof buf);
        ASSERT_EQ(n, strlen(buf));
        /* parse it back: each name once, "+" exactly for the mask's bits */
        uint64_t plus = 0, minus = 0;
        int items = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","), items++) {
            ASSERT_TRUE(tok[0] == '+' || tok[0] == '-');
            char key[80];
            ASSERT_LT(snprintf(key, sizeof key, ",%s,", tok + 1), (int)sizeof key);
            if (strstr(seen, key)) wb_test_fail(__FILE__, __LINE__, "%s twice", tok + 1);
            strcat(seen, key + 1);
            for (int b = 0; b < 14; b++)
                if (strstr(names[b], key)) *(tok[0] == '+' ? &plus : &minus) |= 1ull << b;
        }
        ASSERT_U64_EQ(plus, mask);
        ASSERT_U64_EQ(minus, WB_CPU_ALL & ~mask);
        ASSERT_GE(items, 40);
    }
    char buf[2048];
    wb_cpu_features_llvm(0, buf, sizeof buf);
    ASSERT_STR_CONTAINS(buf, "-avx512f,");
    ASSERT_STR_CONTAINS(buf, "-avx2,");
    wb_cpu_features_llvm(WB_CPU_X86_64_V2, buf, sizeof buf);
    ASSERT_TRUE(strncmp(buf, "+sse3,+ssse3,+sse4.1,+sse4.2,", 29) == 0);
    ASSERT_STR_CONTAINS(buf, "+popcnt,");
    ASSERT_STR_CONTAINS(buf, "+cx16,");
    ASSERT_STR_CONTAINS(buf, "-avx,");
}

TEST(native_cpu_strings_truncate_safely) {
    char full[2048], small[16];
    size_t n = wb_cpu_features_llvm(WB_CPU_ALL, full, sizeof full);
    ASSERT_EQ(wb_cpu_features_llvm(WB_CPU_ALL, small, sizeof small), n);
    ASSERT_EQ(strlen(small), sizeof small - 1);
    ASSERT_TRUE(strncmp(small, full, sizeof small - 1) == 0);
    ASSERT_EQ(wb_cpu_features_llvm(WB_CPU_ALL, NULL, 0), n);
    ASSERT_EQ(wb_cpu_features_name(WB_CPU_ALL, NULL, 0),
              wb_cpu_features_name(WB_CPU_ALL, full, sizeof full));
}

TEST(native_cpu_human_names) {
    char buf[256];
    wb_cpu_features_name(WB_CPU_SSE41 | WB_CPU_SSE42 | WB_CPU_POPCNT | WB_CPU_AVX2, buf,
                         sizeof buf);
    ASSERT_STR_EQ(buf, "sse4.1 sse4.2 popcnt avx2");
    wb_cpu_features_name(0, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "none");
    wb_cpu_features_name(WB_CPU_BMI1 | (1ull << 63), buf, sizeof buf);
    ASSERT_STR_EQ(buf, "bmi1 bit63");
    wb_cpu_features_name(WB_CPU_ALL, buf, sizeof buf);
    ASSERT_STR_EQ(buf,
                  "sse3 ssse3 sse4.1 sse4.2 popcnt lzcnt bmi1 bmi2 avx avx2 fma movbe cx16 f16c");
}
