/* wasm/native_cpu.h — which x86-64 instruction-set extensions this CPU (and its OS) offers, by
 * cpuid and xgetbv, with no LLVM: the static core checks cached native code against it
 * (wasm/native_cache.h), and the compiler turns a mask into LLVM's feature string, so that code
 * compiled for a mask never uses an instruction outside it. */
#ifndef WB_WASM_NATIVE_CPU_H
#define WB_WASM_NATIVE_CPU_H

#include <stddef.h>
#include <stdint.h>

/* Feature bits. The values are stored in cache files (wb_native_key.cpu_features): never
 * renumber, only add. */
#define WB_CPU_SSE3   (1ull << 0)
#define WB_CPU_SSSE3  (1ull << 1)
#define WB_CPU_SSE41  (1ull << 2)
#define WB_CPU_SSE42  (1ull << 3) /* includes the SSE4.2 CRC32 instruction */
#define WB_CPU_POPCNT (1ull << 4)
#define WB_CPU_LZCNT  (1ull << 5)
#define WB_CPU_BMI1   (1ull << 6)
#define WB_CPU_BMI2   (1ull << 7)
#define WB_CPU_AVX    (1ull << 8)
#define WB_CPU_AVX2   (1ull << 9)
#define WB_CPU_FMA    (1ull << 10)
#define WB_CPU_MOVBE  (1ull << 11)
#define WB_CPU_CX16   (1ull << 12)
#define WB_CPU_F16C   (1ull << 13)
#define WB_CPU_ALL    ((1ull << 14) - 1) /* every bit defined above */

/* The portable x86-64-v2 level (as the psABI defines it, less LAHF/SAHF in 64-bit mode, which
 * we never enable): code for this mask runs on any x86-64 CPU since about 2009. */
#define WB_CPU_X86_64_V2                                                                           \
    (WB_CPU_SSE3 | WB_CPU_SSSE3 | WB_CPU_SSE41 | WB_CPU_SSE42 | WB_CPU_POPCNT | WB_CPU_CX16)

/* This machine's features: the CPU's cpuid bits, with AVX, AVX2, FMA and F16C only when the OS
 * saves the YMM state (XCR0, read by xgetbv). Computed once per process (cpuid is slow in a VM);
 * 0 on a CPU that is not x86-64. */
uint64_t wb_cpu_features(void);

/* Write into buf (size bytes, NUL-terminated) the LLVM target-feature string for `mask`: "+name"
 * for each feature in the mask, then "-name" for every other feature we know of, among them
 * AVX-512 and the AMD-only extensions, e.g. "+sse3,+ssse3,...,-avx512f,...". With the CPU name
 * "x86-64" it lets LLVM use nothing outside the mask (bits outside WB_CPU_ALL are ignored).
 * Returns the length of the full string (like snprintf): the result was cut if >= size. */
size_t wb_cpu_features_llvm(uint64_t mask, char *buf, size_t size);

/* Write a human list of the mask's features, in bit order, separated by spaces, e.g.
 * "sse4.1 sse4.2 popcnt avx2" ("none" for an empty mask; an unknown bit as "bit<N>"), for
 * messages. Returns the full length, as wb_cpu_features_llvm. */
size_t wb_cpu_features_name(uint64_t mask, char *buf, size_t size);

#endif
