/* sort: sorts the same n pseudo-random u32 values twice, with quicksort (median of three,
 * insertion sort for short ranges) and with heapsort, and checks they agree. Measures
 * compare-and-branch heavy code, swaps and recursion. */
#include "freestanding.h"

#define MAX_ELEMS        (1u << 21)
#define INSERTION_CUTOFF 16

static uint32_t quick_keys[MAX_ELEMS];
static uint32_t heap_keys[MAX_ELEMS];

static void swap_keys(uint32_t *a, uint32_t *b) {
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(uint32_t *keys, int32_t len) {
    for (int32_t i = 1; i < len; i++) {
        uint32_t key = keys[i];
        int32_t j = i - 1;
        while (j >= 0 && keys[j] > key) {
            keys[j + 1] = keys[j];
            j--;
        }
        keys[j + 1] = key;
    }
}

/* Recurse into the smaller half and loop on the larger, so stack depth stays O(log n) — the
 * wasm build has only the linker's default 64 KiB shadow stack. */
static void quick_sort(uint32_t *keys, int32_t len) {
    while (len > INSERTION_CUTOFF) {
        int32_t mid = len / 2;
        if (keys[mid] < keys[0]) swap_keys(&keys[mid], &keys[0]);
        if (keys[len - 1] < keys[0]) swap_keys(&keys[len - 1], &keys[0]);
        if (keys[len - 1] < keys[mid]) swap_keys(&keys[len - 1], &keys[mid]);
        uint32_t pivot = keys[mid];
        int32_t i = 0, j = len - 1;
        for (;;) {
            while (keys[i] < pivot) i++;
            while (keys[j] > pivot) j--;
            if (i >= j) break;
            swap_keys(&keys[i], &keys[j]);
            i++;
            j--;
        }
        int32_t left_len = j + 1;
        if (left_len < len - left_len) {
            quick_sort(keys, left_len);
            keys += left_len;
            len -= left_len;
        } else {
            quick_sort(keys + left_len, len - left_len);
            len = left_len;
        }
    }
    insertion_sort(keys, len);
}

static void sift_down(uint32_t *keys, uint32_t root, uint32_t len) {
    for (;;) {
        uint32_t child = root * 2 + 1;
        if (child >= len) return;
        if (child + 1 < len && keys[child + 1] > keys[child]) child++;
        if (keys[root] >= keys[child]) return;
        swap_keys(&keys[root], &keys[child]);
        root = child;
    }
}

static void heap_sort(uint32_t *keys, uint32_t len) {
    for (uint32_t i = len / 2; i-- > 0;) sift_down(keys, i, len);
    for (uint32_t end = len; end-- > 1;) {
        swap_keys(&keys[0], &keys[end]);
        sift_down(keys, 0, end);
    }
}

int64_t bench_run(int32_t n) {
    uint32_t len = n < 0 ? 0u : (uint32_t)n > MAX_ELEMS ? MAX_ELEMS : (uint32_t)n;
    uint32_t rng = 2463534242u;
    for (uint32_t i = 0; i < len; i++) {
        /* Mask some values to force duplicates, which stress the partition loop. */
        uint32_t r = bench_rng_next(&rng);
        quick_keys[i] = (i & 3) == 0 ? r & 0xfff : r;
        heap_keys[i] = quick_keys[i];
    }
    quick_sort(quick_keys, (int32_t)len);
    heap_sort(heap_keys, len);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (quick_keys[i] != heap_keys[i] || (i > 0 && quick_keys[i - 1] > quick_keys[i]))
            return -1 - (int64_t)i; /* a wrong sort shows up as a negative checksum */
        sum = sum * 1000003u + quick_keys[i];
    }
    return (int64_t)(sum >> 1);
}
