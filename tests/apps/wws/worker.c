/* A wws worker for the tests (tests/linux/wws.sh): the request comes as JSON on stdin, the answer
 * goes as JSON on stdout. What it does is chosen by the MODE variable of its <worker>.toml
 * ([vars]): hello (the default), echo, params, counter, file, vars, b64, trap, badjson, fresh,
 * loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char input[1 << 20];
static int runs; /* fresh: 1 on every request when each one gets a fresh instance */

static void put_json_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* the object that follows "key": in the input (flat objects of strings only) */
static const char *object_of(const char *key, size_t *len) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":{", key);
    const char *p = strstr(input, pat);
    if (!p) return NULL;
    p += strlen(pat) - 1;
    const char *e = strchr(p, '}');
    *len = e ? (size_t)(e - p) + 1 : 0;
    return p;
}

static void answer(const char *data, size_t n, int status, const char *kv, int b64) {
    printf("{\"data\":");
    put_json_string(data, n);
    printf(",\"status\":%d,\"headers\":{\"x-wws-test\":\"%s\",\"content_type\":\"text/plain\"},"
           "\"kv\":%s%s}",
           status, getenv("MODE") ? getenv("MODE") : "hello", kv ? kv : "{}",
           b64 ? ",\"base64\":true" : "");
}

int main(void) {
    size_t n = fread(input, 1, sizeof input - 1, stdin);
    input[n] = 0;
    const char *mode = getenv("MODE") ? getenv("MODE") : "hello";
    char buf[4096];
    if (!strcmp(mode, "echo")) {
        answer(input, n, 200, NULL, 0);
    } else if (!strcmp(mode, "params")) {
        size_t len = 0;
        const char *p = object_of("params", &len);
        answer(p ? p : "{}", p ? len : 2, 200, NULL, 0);
    } else if (!strcmp(mode, "counter")) {
        size_t len = 0;
        const char *kv = object_of("kv", &len);
        int count = 0;
        const char *c = kv ? strstr(kv, "\"count\":\"") : NULL;
        if (c && c < kv + len) count = atoi(c + 9);
        count++;
        char newkv[128];
        snprintf(newkv, sizeof newkv, "{\"count\":\"%d\"}", count);
        snprintf(buf, sizeof buf, "count=%d", count);
        answer(buf, strlen(buf), 200, newkv, 0);
    } else if (!strcmp(mode, "file")) {
        FILE *f = fopen("/data/message.txt", "r");
        if (!f) {
            answer("no /data/message.txt", 20, 500, NULL, 0);
            return 0;
        }
        size_t k = fread(buf, 1, sizeof buf, f);
        fclose(f);
        answer(buf, k, 200, NULL, 0);
    } else if (!strcmp(mode, "vars")) {
        snprintf(buf, sizeof buf, "GREETING=%s FROM_ENV=%s",
                 getenv("GREETING") ? getenv("GREETING") : "(unset)",
                 getenv("FROM_ENV") ? getenv("FROM_ENV") : "(unset)");
        answer(buf, strlen(buf), 200, NULL, 0);
    } else if (!strcmp(mode, "b64")) {
        answer("aGVsbG8gYmluYXJ5", 16, 201, NULL, 1);
    } else if (!strcmp(mode, "trap")) {
        __builtin_trap();
    } else if (!strcmp(mode, "fresh")) {
        /* leave as much behind as a run can: a static changed, memory grown and written, a file
         * left open, every preopened directory closed; the next request must see none of it */
        runs++;
        unsigned long pages = (unsigned long)__builtin_wasm_memory_size(0);
        FILE *f = fopen("/data/message.txt", "r");
        char *big = malloc(4 << 20);
        if (big) memset(big, 1, 4 << 20);
        for (int fd = 3; fd < 64; fd++)
            if (!f || fd != fileno(f)) close(fd);
        snprintf(buf, sizeof buf, "runs=%d pages=%lu file=%s grown=%s", runs, pages,
                 f ? "ok" : "missing", big ? "yes" : "no");
        answer(buf, strlen(buf), 200, NULL, 0);
    } else if (!strcmp(mode, "loop")) { /* never answers: `stop` must still end it */
        volatile int forever = 1;
        while (forever) {
        }
    } else if (!strcmp(mode, "badjson")) {
        fputs("this is not JSON", stdout);
    } else {
        answer("Hello from wws!", 15, 200, NULL, 0);
    }
    return 0;
}
