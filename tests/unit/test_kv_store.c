/* The application runtimes' key-value store (apps/kv_store.h): values are bytes (NUL and 0xff
 * kept), changes reach the file and a new store reads them back, keys come sorted, a damaged file
 * is refused, a store without a file keeps everything in memory. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#include "apps/kv_store.h"
#include "base/fsutil.h"

static char *temp_dir(void) {
    char *d = strdup("/tmp/wb-kv-XXXXXX");
    ASSERT_TRUE(mkdtemp(d) != NULL);
    return d;
}

TEST(kv_store_persists_bytes) {
    char *dir = temp_dir(), path[4200];
    wb_error err;
    ASSERT_EQ(wb_path_join(path, sizeof path, &err, "%s/kv.json", dir), 0);
    wb_kv_store *kv;
    ASSERT_EQ(wb_kv_open(path, &kv, &err), 0);
    size_t n = 0;
    ASSERT_TRUE(wb_kv_get(kv, "a", &n) == NULL);
    const uint8_t bin[] = {0, 1, 0xff, 'x'};
    ASSERT_EQ(wb_kv_set(kv, "b", bin, sizeof bin, &err), 0);
    ASSERT_EQ(wb_kv_set(kv, "a", (const uint8_t *)"", 0, &err), 0);
    ASSERT_EQ(wb_kv_set(kv, "c", (const uint8_t *)"gone", 4, &err), 0);
    ASSERT_EQ(wb_kv_delete(kv, "c", &err), 0);
    ASSERT_EQ(wb_kv_delete(kv, "never", &err), 0);
    wb_kv_free(kv);
    ASSERT_EQ(wb_kv_open(path, &kv, &err), 0); /* read back from the file */
    uint8_t *v = wb_kv_get(kv, "b", &n);
    ASSERT_TRUE(v != NULL && n == sizeof bin && memcmp(v, bin, n) == 0);
    free(v);
    v = wb_kv_get(kv, "a", &n);
    ASSERT_TRUE(v != NULL && n == 0);
    free(v);
    ASSERT_TRUE(wb_kv_exists(kv, "a") && !wb_kv_exists(kv, "c"));
    char **keys = wb_kv_keys(kv, &n);
    ASSERT_EQ(n, 2);
    ASSERT_STR_EQ(keys[0], "a");
    ASSERT_STR_EQ(keys[1], "b");
    for (size_t i = 0; i < n; i++) free(keys[i]);
    free(keys);
    wb_kv_free(kv);
    ASSERT_EQ(wb_write_file_atomic(path, "[1,2", 4, 0600, false, &err), 0);
    ASSERT_EQ(wb_kv_open(path, &kv, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "is damaged");
    ASSERT_EQ(wb_remove_tree(dir, &err), 0);
    free(dir);
}

TEST(kv_store_in_memory) {
    wb_kv_store *kv;
    wb_error err;
    ASSERT_EQ(wb_kv_open(NULL, &kv, &err), 0);
    ASSERT_EQ(wb_kv_set(kv, "k", (const uint8_t *)"v", 1, &err), 0);
    size_t n;
    uint8_t *v = wb_kv_get(kv, "k", &n);
    ASSERT_TRUE(v != NULL && n == 1 && v[0] == 'v');
    free(v);
    wb_kv_free(kv);
}
