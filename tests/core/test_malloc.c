/* Tests of the static core's allocator (src/core/malloc.c), built against musl like the core
 * (tests/core/run.sh). Prints "core-malloc: P passed, F failed". */
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            passed++;                                                                              \
        } else {                                                                                   \
            failed++;                                                                              \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
        }                                                                                          \
    } while (0)

static bool all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

static void *churn(void *arg) {
    uintptr_t seed = (uintptr_t)arg;
    void *slots[64] = {0};
    bool ok = true;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned k = (unsigned)(seed >> 40) % 64;
        size_t n = (size_t)(seed >> 20) % 3000 + 1;
        if (slots[k]) {
            unsigned char tag = ((unsigned char *)slots[k])[0];
            ok = ok && ((unsigned char *)slots[k])[1] == (unsigned char)(tag ^ 0x5a);
            free(slots[k]);
        }
        slots[k] = malloc(n < 2 ? 2 : n);
        ((unsigned char *)slots[k])[0] = (unsigned char)k;
        ((unsigned char *)slots[k])[1] = (unsigned char)(k ^ 0x5a);
    }
    for (int k = 0; k < 64; k++) free(slots[k]);
    return (void *)(uintptr_t)ok;
}

int main(void) {
    /* sizes and alignment */
    for (size_t n = 0; n < 5000; n += 7) {
        unsigned char *p = malloc(n);
        CHECK(p && ((uintptr_t)p & 15) == 0 && malloc_usable_size(p) >= n);
        memset(p, 0xab, n);
        free(p);
    }
    /* calloc gives zeros, also for a block that was used and freed */
    unsigned char *a = malloc(1000);
    memset(a, 0xff, 1000);
    free(a);
    unsigned char *b = calloc(100, 10);
    CHECK(b == a); /* the freed block of the same class comes back */
    CHECK(all_zero(b, 1000));
    free(b);
    volatile size_t huge = SIZE_MAX / 2; /* (volatile: the compiler would reject the call) */
    CHECK(calloc(huge, 4) == NULL);      /* overflow */
    /* realloc keeps the contents, growing and shrinking, across classes and to a mapping */
    char *r = malloc(10);
    strcpy(r, "abcdefghi");
    r = realloc(r, 100000);
    CHECK(r && !strcmp(r, "abcdefghi"));
    r = realloc(r, 1 << 20);
    CHECK(r && !strcmp(r, "abcdefghi") && malloc_usable_size(r) >= (1u << 20));
    memset(r + 10, 7, (1 << 20) - 10);
    r = realloc(r, 20);
    CHECK(r && !strcmp(r, "abcdefghi"));
    free(r);
    CHECK(realloc(NULL, 5) != NULL);
    /* big blocks: their own mapping, zeroed, freed */
    unsigned char *big = calloc(1, 3 << 20);
    CHECK(big && all_zero(big, 3 << 20));
    free(big);
    /* aligned blocks */
    for (size_t al = 32; al <= 8192; al *= 2) {
        void *p = aligned_alloc(al, 100);
        CHECK(p && ((uintptr_t)p % al) == 0 && malloc_usable_size(p) >= 100);
        memset(p, 1, 100);
        free(p);
        void *q = NULL;
        CHECK(posix_memalign(&q, al, 5000) == 0 && q && ((uintptr_t)q % al) == 0);
        free(q);
    }
    void *q = NULL;
    CHECK(posix_memalign(&q, 3, 10) != 0);
    /* blocks in use never overlap */
    char *blocks[200];
    for (int i = 0; i < 200; i++) {
        blocks[i] = malloc((size_t)(i * 37 % 700) + 1);
        memset(blocks[i], i, (size_t)(i * 37 % 700) + 1);
    }
    bool intact = true;
    for (int i = 0; i < 200; i++)
        for (size_t k = 0; k < (size_t)(i * 37 % 700) + 1; k++)
            intact = intact && blocks[i][k] == (char)i;
    CHECK(intact);
    for (int i = 0; i < 200; i++) free(blocks[i]);
    /* threads allocating and freeing at once */
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, (void *)(i + 1));
    /* fork while the other threads allocate: the child can still allocate */
    pid_t pid = fork();
    if (pid == 0) {
        void *c = malloc(123);
        free(c);
        _exit(c ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < 4; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        CHECK(ok != NULL);
    }
    printf("core-malloc: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
