/* hashmap: an open-addressing (linear probing) hash table of u32 keys to u32 values, driven by a
 * pseudo-random mix of inserts, updates, lookups and deletions (backward-shift, no tombstones).
 * Measures integer multiply/shift mixing, data-dependent branches and random memory access. */
#include "freestanding.h"

#define TABLE_BITS 20
#define TABLE_SIZE (1u << TABLE_BITS)
#define TABLE_MASK (TABLE_SIZE - 1)
/* Keys are drawn from half the table size, so the load factor never exceeds 0.5. */
#define KEY_SPACE (TABLE_SIZE / 2)
#define EMPTY_KEY 0u

static uint32_t table_keys[TABLE_SIZE];
static uint32_t table_values[TABLE_SIZE];

/* murmur3's 32-bit finaliser: cheap and mixes every input bit into the slot index. */
static uint32_t hash_key(uint32_t key) {
    key ^= key >> 16;
    key *= 0x85ebca6bu;
    key ^= key >> 13;
    key *= 0xc2b2ae35u;
    key ^= key >> 16;
    return key;
}

static uint32_t find_slot(uint32_t key) {
    uint32_t slot = hash_key(key) & TABLE_MASK;
    while (table_keys[slot] != EMPTY_KEY && table_keys[slot] != key) slot = (slot + 1) & TABLE_MASK;
    return slot;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_slot(uint32_t hole) {
    uint32_t next = (hole + 1) & TABLE_MASK;
    while (table_keys[next] != EMPTY_KEY) {
        uint32_t home = hash_key(table_keys[next]) & TABLE_MASK;
        /* Move `next` into the hole unless its home lies cyclically in (hole, next]. */
        int home_after_hole = ((next - home) & TABLE_MASK) < ((next - hole) & TABLE_MASK);
        if (!home_after_hole) {
            table_keys[hole] = table_keys[next];
            table_values[hole] = table_values[next];
            hole = next;
        }
        next = (next + 1) & TABLE_MASK;
    }
    table_keys[hole] = EMPTY_KEY;
    table_values[hole] = 0;
}

int64_t bench_run(int32_t n) {
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        table_keys[i] = EMPTY_KEY;
        table_values[i] = 0;
    }
    uint32_t rng = 0x9e3779b9u;
    uint64_t sum = 0;
    uint32_t count = 0;
    for (int32_t op = 0; op < n; op++) {
        uint32_t r = bench_rng_next(&rng);
        uint32_t key = (r % KEY_SPACE) + 1; /* never EMPTY_KEY */
        uint32_t slot = find_slot(key);
        int present = table_keys[slot] == key;
        switch (r >> 30) {
        case 0: /* delete */
            if (present) {
                sum += table_values[slot];
                remove_slot(slot);
                count--;
            }
            break;
        case 1: /* lookup */ sum += present ? table_values[slot] : 1; break;
        default: /* insert or update */
            if (present) {
                table_values[slot] = table_values[slot] * 31u + (uint32_t)op;
            } else {
                table_keys[slot] = key;
                table_values[slot] = (uint32_t)op ^ key;
                count++;
            }
            break;
        }
    }
    uint64_t hash = WB_BENCH_FNV64_INIT;
    for (uint32_t i = 0; i < TABLE_SIZE; i += 97)
        hash = bench_mix64(hash, ((uint64_t)table_keys[i] << 32) | table_values[i]);
    return (int64_t)(hash ^ sum ^ ((uint64_t)count << 40));
}
