/* The application runtimes' key-value store (apps/kv_store.h): a jansson object of hex strings
 * under a mutex. */
#include "apps/kv_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/fsutil.h"

#define MAX_STORE_BYTES (256u << 20)

struct wb_kv_store {
    pthread_mutex_t lock;
    json_t *map; /* key -> value in hex */
    char *path;  /* NULL: memory only */
    int dirfd;   /* wb_kv_open_in's directory (path is in it), else -1 */
};

/* The file's bytes (NUL-terminated), not following a symlink: 0, 1 when there is none, -1. */
static int read_nofollow(const char *path, uint8_t **data, size_t *len, wb_error *err) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 1 : wb_error_sys(err, "open %s", path);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int rc = wb_read_file(proc, MAX_STORE_BYTES, data, len, err);
    close(fd);
    return rc;
}

int wb_kv_open(const char *path, wb_kv_store **out, wb_error *err) {
    *out = NULL;
    json_t *map = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    int r = path ? read_nofollow(path, &data, &len, err) : 1;
    if (r < 0) return -1;
    if (r == 0) {
        json_error_t je;
        map = json_loadb((const char *)data, len, 0, &je);
        free(data);
        if (!json_is_object(map)) {
            json_decref(map);
            return wb_error_set(err, EINVAL, "the key-value store %s is damaged", path);
        }
    }
    wb_kv_store *kv = wb_calloc(1, sizeof *kv);
    pthread_mutex_init(&kv->lock, NULL);
    kv->map = map ? map : json_object();
    kv->path = path ? wb_strdup(path) : NULL;
    kv->dirfd = -1;
    *out = kv;
    return 0;
}

int wb_kv_open_in(int dirfd, const char *name, wb_kv_store **out, wb_error *err) {
    char *path = NULL;
    size_t l = 0;
    wb_appendf(&path, &l, "/proc/self/fd/%d/%s", dirfd, name);
    int rc = wb_kv_open(path, out, err);
    free(path);
    if (rc < 0) {
        close(dirfd);
        return -1;
    }
    (*out)->dirfd = dirfd;
    return 0;
}

void wb_kv_free(wb_kv_store *kv) {
    if (!kv) return;
    pthread_mutex_destroy(&kv->lock);
    json_decref(kv->map);
    free(kv->path);
    if (kv->dirfd >= 0) close(kv->dirfd);
    free(kv);
}

/* With the lock held. */
static int save(wb_kv_store *kv, wb_error *err) {
    if (!kv->path) return 0;
    char *text = json_dumps(kv->map, JSON_SORT_KEYS | JSON_COMPACT);
    if (!text) return wb_error_set(err, ENOMEM, "the key-value store: out of memory");
    int rc = wb_write_file_atomic(kv->path, text, strlen(text), 0600, false, err);
    free(text);
    return rc;
}

uint8_t *wb_kv_get(wb_kv_store *kv, const char *key, size_t *len) {
    pthread_mutex_lock(&kv->lock);
    const char *hex = json_string_value(json_object_get(kv->map, key));
    uint8_t *v = NULL;
    if (hex) {
        size_t n = strlen(hex) / 2;
        v = wb_malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) {
            unsigned b = 0;
            sscanf(hex + 2 * i, "%2x", &b);
            v[i] = (uint8_t)b;
        }
        *len = n;
    }
    pthread_mutex_unlock(&kv->lock);
    return v;
}

bool wb_kv_exists(wb_kv_store *kv, const char *key) {
    pthread_mutex_lock(&kv->lock);
    bool found = json_object_get(kv->map, key) != NULL;
    pthread_mutex_unlock(&kv->lock);
    return found;
}

int wb_kv_set(wb_kv_store *kv, const char *key, const uint8_t *value, size_t len, wb_error *err) {
    char *hex = wb_malloc(2 * len + 1);
    for (size_t i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", value[i]);
    hex[2 * len] = 0;
    pthread_mutex_lock(&kv->lock);
    int rc = json_object_set_new(kv->map, key, json_string(hex)) == 0
                 ? save(kv, err)
                 : wb_error_set(err, EINVAL, "the key is not valid UTF-8");
    pthread_mutex_unlock(&kv->lock);
    free(hex);
    return rc;
}

int wb_kv_delete(wb_kv_store *kv, const char *key, wb_error *err) {
    pthread_mutex_lock(&kv->lock);
    int rc = json_object_del(kv->map, key) == 0 ? save(kv, err) : 0;
    pthread_mutex_unlock(&kv->lock);
    return rc;
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **wb_kv_keys(wb_kv_store *kv, size_t *n) {
    pthread_mutex_lock(&kv->lock);
    size_t cap = json_object_size(kv->map), i = 0;
    char **keys = wb_calloc(cap + 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(kv->map, k, v) {
        (void)v;
        if (i < cap) keys[i++] = wb_strdup(k);
    }
    pthread_mutex_unlock(&kv->lock);
    qsort(keys, i, sizeof *keys, by_string);
    *n = i;
    return keys;
}
