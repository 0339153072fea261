/* The static core's allocator (docs/binaries.md). The core is linked with musl, whose allocator
 * maps and unmaps memory as it goes: 40 mmap and 21 munmap calls for one `run --rm`, and on this
 * VM every munmap is a TLB flush. This one takes memory from the kernel in 1 MiB chunks and never
 * gives it back, but for blocks above MAX_CLASS (their own mapping, unmapped on free); freed
 * blocks go to a free list per size class and are reused for the same class. That suits the
 * core: short commands, and long-running monitors and workloads whose allocations are made at
 * start and reused. One lock; fork() in another thread is made safe with pthread_atfork.
 *
 * Every block has a 16-byte header just before it: its class (or LARGE with the mapping's length,
 * or ALIGNED with the distance back to the block it was carved from), and whether its memory is
 * still as the kernel gave it (zero: calloc need not clear it). */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HDR       16u
#define CHUNK     ((size_t)1 << 20)
#define MAX_CLASS ((size_t)256 << 10)
#define LARGE     0xffffu
#define ALIGNED   0xfffeu

typedef struct hdr {
    uint16_t cls;
    uint16_t fresh; /* memory not written since the kernel zeroed it */
    uint32_t pad;
    uint64_t len; /* LARGE: the mapping's length; ALIGNED: the distance back to the block */
} hdr;
_Static_assert(sizeof(hdr) == HDR, "a header keeps blocks 16-byte aligned");

/* multiples of 16 to 128, then two classes per power of two up to MAX_CLASS */
static const uint32_t class_size[] = {
    16,    32,    48,    64,    80,    96,    112,   128,    192,    256,
    384,   512,   768,   1024,  1536,  2048,  3072,  4096,   6144,   8192,
    12288, 16384, 24576, 32768, 49152, 65536, 98304, 131072, 196608, 262144,
};
#define NCLASSES (sizeof class_size / sizeof class_size[0])

/* Process-wide state (documented exception to "no mutable globals"): the allocator's. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *free_list[NCLASSES];
static char *bump, *bump_end;
static bool atfork_set;

static void lock_all(void) {
    pthread_mutex_lock(&lock);
}
static void unlock_all(void) {
    pthread_mutex_unlock(&lock);
}

static unsigned class_of(size_t n) {
    unsigned c = 0;
    while (class_size[c] < n) c++;
    return c;
}

/* (through an integer: to the compiler a block returned by malloc starts where it starts) */
static hdr *header(void *p) {
    return (hdr *)((uintptr_t)p - HDR);
}

static void *alloc_large(size_t n) {
    if (n > SIZE_MAX - HDR - 4096) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = (n + HDR + 4095) & ~(size_t)4095;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    hdr *h = (hdr *)m;
    h->cls = LARGE;
    h->fresh = 1;
    h->len = len;
    return m + HDR;
}

/* a block of class c, under the lock */
static void *alloc_class(unsigned c) {
    void *p = free_list[c];
    if (p) {
        free_list[c] = *(void **)p;
        header(p)->fresh = 0;
        return p;
    }
    size_t need = HDR + class_size[c];
    if ((size_t)(bump_end - bump) < need) {
        char *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            errno = ENOMEM;
            return NULL;
        }
        bump = m;
        bump_end = m + CHUNK;
    }
    hdr *h = (hdr *)bump;
    bump += need;
    h->cls = (uint16_t)c;
    h->fresh = 1;
    return (char *)h + HDR;
}

/* (malloc's body, called by calloc under its own name: the compiler turns "malloc then memset"
 * into a call to calloc) */
static void *allocate(size_t n) {
    if (!atfork_set) { /* before the first lock: pthread_atfork itself allocates */
        atfork_set = true;
        pthread_atfork(lock_all, unlock_all, unlock_all);
    }
    if (n > MAX_CLASS) return alloc_large(n);
    unsigned c = class_of(n ? n : 1);
    pthread_mutex_lock(&lock);
    void *p = alloc_class(c);
    pthread_mutex_unlock(&lock);
    return p;
}

void *malloc(size_t n) {
    return allocate(n);
}

void free(void *p) {
    if (!p) return;
    hdr *h = header(p);
    if (h->cls == ALIGNED) {
        p = (char *)p - h->len;
        h = header(p);
    }
    if (h->cls == LARGE) {
        munmap(h, h->len);
        return;
    }
    pthread_mutex_lock(&lock);
    *(void **)p = free_list[h->cls];
    free_list[h->cls] = p;
    pthread_mutex_unlock(&lock);
}

static size_t usable(void *p) {
    hdr *h = header(p);
    if (h->cls == LARGE) return h->len - HDR;
    if (h->cls == ALIGNED) {
        char *base = (char *)p - h->len;
        return usable(base) - h->len;
    }
    return class_size[h->cls];
}

void *calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = count * size;
    void *p = allocate(n);
    if (p && !header(p)->fresh) memset(p, 0, n);
    return p;
}

void *realloc(void *p, size_t n) {
    if (!p) return allocate(n);
    size_t have = usable(p);
    if (n <= have && header(p)->cls != ALIGNED && (n > have / 2 || have <= 16)) return p;
    void *q = allocate(n);
    if (!q) return NULL;
    memcpy(q, p, n < have ? n : have);
    free(p);
    return q;
}

void *aligned_alloc(size_t align, size_t n) {
    if (align <= HDR) return allocate(n);
    if (align & (align - 1) || n > SIZE_MAX - align - HDR) {
        errno = EINVAL;
        return NULL;
    }
    char *base = allocate(n + align + HDR);
    if (!base) return NULL;
    char *p = (char *)(((uintptr_t)base + HDR + align - 1) & ~(uintptr_t)(align - 1));
    hdr *h = header(p);
    h->cls = ALIGNED;
    h->fresh = 0;
    h->len = (uint64_t)(p - base);
    return p;
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = aligned_alloc(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *memalign(size_t align, size_t n) {
    return aligned_alloc(align, n);
}

size_t malloc_usable_size(void *p) {
    return p ? usable(p) : 0;
}
