/* lz: an LZ77 compressor/decompressor in the LZ4 block style (hash of 4-byte prefixes, greedy
 * matching, token + literals + 16-bit offset). Each of n rounds generates 256 KiB of pseudo-text,
 * compresses it, decompresses it and checks the round trip. Measures byte loads/stores,
 * unaligned 32-bit reads, hashing and unpredictable branches. */
#include "freestanding.h"

#define TEXT_SIZE     (1u << 18)
#define COMP_CAPACITY (TEXT_SIZE + TEXT_SIZE / 255 + 64)
#define HASH_BITS     14
#define MIN_MATCH     4
#define MAX_OFFSET    65535u
/* As in LZ4, the last bytes are always literals so the decoder's final step is a literal run. */
#define TAIL_LITERALS 5

static uint8_t text[TEXT_SIZE];
static uint8_t compressed[COMP_CAPACITY];
static uint8_t restored[TEXT_SIZE];
static uint32_t hash_table[1u << HASH_BITS]; /* position + 1; 0 = empty */

static const char *const words[] = {
    "the ",    "wasm ",   "container ", "engine ", "runs ", "a ",         "module ",    "with ",
    "linear ", "memory ", "and ",       "tables ", "of ",   "functions ", "import",     "export ",
    "stack ",  "value ",  "i32 ",       "i64 ",    "f64 ",  "trap ",      "interpret ", "compile ",
    "layer ",  "image ",  "blob ",      "digest ", ". ",    ", ",         "\n",         "sandbox ",
};
#define WORD_COUNT (sizeof(words) / sizeof(words[0]))

static void generate_text(uint32_t seed) {
    uint32_t rng = seed * 2654435761u + 1u;
    uint32_t pos = 0;
    while (pos < TEXT_SIZE) {
        uint32_t r = bench_rng_next(&rng);
        if ((r & 15) == 0) {
            /* Occasional noise keeps the literal path busy. */
            text[pos++] = (uint8_t)('a' + (r >> 8) % 26);
            continue;
        }
        const char *word = words[(r >> 4) % WORD_COUNT];
        for (uint32_t i = 0; word[i] != '\0' && pos < TEXT_SIZE; i++)
            text[pos++] = (uint8_t)word[i];
    }
}

static uint32_t read_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t *write_length(uint8_t *out, uint32_t len) {
    while (len >= 255) {
        *out++ = 255;
        len -= 255;
    }
    *out++ = (uint8_t)len;
    return out;
}

/* Emits one sequence; match_len == 0 marks the final, literal-only one. */
static uint8_t *emit_sequence(uint8_t *out, const uint8_t *literals, uint32_t literal_len,
                              uint32_t offset, uint32_t match_len) {
    uint8_t *token = out++;
    uint32_t match_code = match_len ? match_len - MIN_MATCH : 0;
    *token =
        (uint8_t)((literal_len < 15 ? literal_len : 15) << 4 | (match_code < 15 ? match_code : 15));
    if (literal_len >= 15) out = write_length(out, literal_len - 15);
    for (uint32_t i = 0; i < literal_len; i++) *out++ = literals[i];
    if (match_len == 0) return out;
    *out++ = (uint8_t)offset;
    *out++ = (uint8_t)(offset >> 8);
    if (match_code >= 15) out = write_length(out, match_code - 15);
    return out;
}

static uint32_t compress(const uint8_t *src, uint32_t len) {
    for (uint32_t i = 0; i < (1u << HASH_BITS); i++) hash_table[i] = 0;
    uint8_t *out = compressed;
    uint32_t pos = 0, anchor = 0;
    uint32_t match_limit = len > TAIL_LITERALS ? len - TAIL_LITERALS : 0;
    while (pos + MIN_MATCH <= match_limit) {
        uint32_t seq = read_u32(src + pos);
        uint32_t slot = (seq * 2654435761u) >> (32 - HASH_BITS);
        uint32_t candidate = hash_table[slot];
        hash_table[slot] = pos + 1;
        if (candidate == 0 || pos - (candidate - 1) > MAX_OFFSET ||
            read_u32(src + candidate - 1) != seq) {
            pos++;
            continue;
        }
        uint32_t ref = candidate - 1;
        uint32_t match_len = MIN_MATCH;
        while (pos + match_len < match_limit && src[ref + match_len] == src[pos + match_len])
            match_len++;
        out = emit_sequence(out, src + anchor, pos - anchor, pos - ref, match_len);
        pos += match_len;
        anchor = pos;
    }
    out = emit_sequence(out, src + anchor, len - anchor, 0, 0);
    return (uint32_t)(out - compressed);
}

/* Returns the decoded length, or UINT32_MAX if the stream is malformed. */
static uint32_t decompress(const uint8_t *src, uint32_t src_len, uint8_t *dst, uint32_t dst_cap) {
    uint32_t in = 0, out = 0;
    while (in < src_len) {
        uint8_t token = src[in++];
        uint32_t literal_len = token >> 4;
        if (literal_len == 15) {
            uint8_t more;
            do {
                if (in >= src_len) return UINT32_MAX;
                more = src[in++];
                literal_len += more;
            } while (more == 255);
        }
        if (literal_len > src_len - in || literal_len > dst_cap - out) return UINT32_MAX;
        for (uint32_t i = 0; i < literal_len; i++) dst[out++] = src[in++];
        if (in == src_len) break;
        if (src_len - in < 2) return UINT32_MAX;
        uint32_t offset = (uint32_t)src[in] | (uint32_t)src[in + 1] << 8;
        in += 2;
        uint32_t match_len = (token & 15u) + MIN_MATCH;
        if ((token & 15u) == 15) {
            uint8_t more;
            do {
                if (in >= src_len) return UINT32_MAX;
                more = src[in++];
                match_len += more;
            } while (more == 255);
        }
        if (offset == 0 || offset > out || match_len > dst_cap - out) return UINT32_MAX;
        /* Byte by byte: the source may overlap the bytes being written. */
        for (uint32_t i = 0; i < match_len; i++, out++) dst[out] = dst[out - offset];
    }
    return out;
}

int64_t bench_run(int32_t n) {
    uint64_t hash = WB_BENCH_FNV64_INIT;
    for (int32_t round = 0; round < n; round++) {
        generate_text((uint32_t)round);
        uint32_t comp_len = compress(text, TEXT_SIZE);
        uint32_t plain_len = decompress(compressed, comp_len, restored, TEXT_SIZE);
        if (plain_len != TEXT_SIZE) return -1;
        for (uint32_t i = 0; i < TEXT_SIZE; i++) {
            if (restored[i] != text[i]) return -2;
        }
        hash = bench_mix64(hash, comp_len);
        for (uint32_t i = 0; i < comp_len; i += 61) hash = bench_mix64(hash, compressed[i]);
    }
    return (int64_t)hash;
}
