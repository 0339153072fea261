/* apps/kv_store.h — a key-value store of the application runtimes (Spin's `default` store,
 * slight's keyvalue.filesystem): keys are strings, values bytes, kept in memory and, when it has a
 * file, written there (JSON, values in hex) atomically after every change, so the store outlives
 * the container's process. Safe to use from many threads. */
#ifndef WB_APPS_KV_STORE_H
#define WB_APPS_KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct wb_kv_store wb_kv_store;

/* The store kept in `path` (read when it exists: a damaged file is an error, and so is a symlink,
 * never followed; NULL: memory only). */
int wb_kv_open(const char *path, wb_kv_store **out, wb_error *err);
/* The same for the file `name` in the directory dirfd (an O_PATH descriptor the store takes). */
int wb_kv_open_in(int dirfd, const char *name, wb_kv_store **out, wb_error *err);
void wb_kv_free(wb_kv_store *kv);
/* A copy of the value (malloc'd, *len bytes), or NULL when the key is not there. */
uint8_t *wb_kv_get(wb_kv_store *kv, const char *key, size_t *len);
bool wb_kv_exists(wb_kv_store *kv, const char *key);
int wb_kv_set(wb_kv_store *kv, const char *key, const uint8_t *value, size_t len, wb_error *err);
/* Removing a key that is not there is not an error. */
int wb_kv_delete(wb_kv_store *kv, const char *key, wb_error *err);
/* The keys, sorted (malloc'd strings in a malloc'd array of *n). */
char **wb_kv_keys(wb_kv_store *kv, size_t *n);

#endif
