/* The layer writer (src/oci/layer.h): digests checked against gzip/sha256sum/tar. */
#include "harness.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oci/layer.h"
#include "oci/store.h"

static char *run(const char *cmd) {
    static char out[8192];
    FILE *f = popen(cmd, "r");
    if (!f) wb_test_fail(__FILE__, __LINE__, "popen %s", cmd);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    pclose(f);
    while (n && out[n - 1] == '\n') out[--n] = '\0';
    return out;
}

static wb_images *open_store(char *dir) {
    strcpy(dir, "/tmp/wb-layer-XXXXXX");
    if (!mkdtemp(dir)) wb_test_fail(__FILE__, __LINE__, "mkdtemp");
    wb_images *s;
    wb_error err;
    if (wb_images_open(dir, &s, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    return s;
}

static void write_sample(wb_images *s, const char *host_file, wb_layer_desc *d) {
    wb_layer_writer *w;
    wb_error err = {0};
    char longname[300];
    snprintf(longname, sizeof longname, "app/%0200d.wasm", 7);
    if (wb_layer_writer_open(s, &w, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    if (wb_layer_add_dir(w, "app", 0755, 1000, &err) < 0 ||
        wb_layer_add_file(w, "app/main.wasm", host_file, 0755, 2000, &err) < 0 ||
        wb_layer_add_bytes(w, longname, "\0asm\1\0\0\0", 8, 0644, 3000, &err) < 0 ||
        wb_layer_add_symlink(w, "app/link", "main.wasm", 4000, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    if (wb_layer_writer_commit(w, d, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
}

TEST(layer_digests_and_content) {
    char dir[64], cmd[8400], blob[4096];
    wb_images *s = open_store(dir);
    char host[128];
    snprintf(host, sizeof host, "%s/input", dir);
    /* a file larger than one copy chunk */
    size_t n = (1 << 20) + 123;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)(i * 7 + i / 1000);
    wb_error err;
    ASSERT_EQ(wb_write_file_atomic(host, data, n, 0644, false, &err), 0);
    wb_layer_desc d;
    write_sample(s, host, &d);
    ASSERT_STR_EQ(d.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    ASSERT_EQ(wb_blob_path(s, d.digest, blob, sizeof blob, &err), 0);
    snprintf(cmd, sizeof cmd, "sha256sum < %s | cut -c1-64", blob);
    ASSERT_STR_EQ(run(cmd), d.digest + 7);
    snprintf(cmd, sizeof cmd, "gzip -dc < %s | sha256sum | cut -c1-64", blob);
    ASSERT_STR_EQ(run(cmd), d.diff_id + 7);
    snprintf(cmd, sizeof cmd, "stat -c %%s %s", blob);
    ASSERT_EQ(strtoull(run(cmd), NULL, 10), d.size);
    snprintf(cmd, sizeof cmd, "tar -tzvf %s --numeric-owner | awk '{print $1, $2, $6}'", blob);
    char *listing = run(cmd);
    ASSERT_STR_CONTAINS(listing, "drwxr-xr-x 0/0 app/\n");
    ASSERT_STR_CONTAINS(listing, "-rwxr-xr-x 0/0 app/main.wasm\n");
    ASSERT_STR_CONTAINS(listing, "-rw-r--r-- 0/0 app/00000");
    ASSERT_STR_CONTAINS(listing, "lrwxrwxrwx 0/0 app/link");
    snprintf(cmd, sizeof cmd, "tar -xzOf %s app/main.wasm | cmp - %s && echo same", blob, host);
    ASSERT_STR_EQ(run(cmd), "same");
    /* the tar ends after its two zero blocks */
    snprintf(cmd, sizeof cmd, "gzip -dc < %s | wc -c", blob);
    ASSERT_EQ(strtoull(run(cmd), NULL, 10) % 512, 0);
    ASSERT_LT(strtoull(run(cmd), NULL, 10), n + 512 * 12);
    /* reproducible */
    wb_layer_desc d2;
    write_sample(s, host, &d2);
    ASSERT_STR_EQ(d2.digest, d.digest);
    ASSERT_STR_EQ(d2.diff_id, d.diff_id);
    wb_images_close(s);
    free(data);
    wb_remove_tree(dir, NULL);
}

TEST(layer_bad_names_and_abort) {
    char dir[64];
    wb_images *s = open_store(dir);
    wb_layer_writer *w;
    wb_error err;
    ASSERT_EQ(wb_layer_writer_open(s, &w, &err), 0);
    ASSERT_EQ(wb_layer_add_dir(w, "/abs", 0755, 0, &err), -1);
    ASSERT_EQ(wb_layer_add_dir(w, "a/../b", 0755, 0, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "invalid layer entry name");
    ASSERT_EQ(wb_layer_add_dir(w, "a//b", 0755, 0, &err), -1);
    ASSERT_EQ(wb_layer_add_dir(w, "", 0755, 0, &err), -1);
    ASSERT_EQ(wb_layer_add_file(w, "x", "/nonexistent/file", 0644, 0, &err), -1);
    ASSERT_EQ(wb_layer_add_file(w, "x", "/tmp", 0644, 0, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "not a regular file");
    ASSERT_EQ(wb_layer_add_bytes(w, "ok", "x", 1, 0644, 0, &err), 0);
    wb_layer_writer_abort(w);
    /* nothing was committed */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls -A %s/images/blobs/sha256 | wc -l", dir);
    ASSERT_STR_EQ(run(cmd), "0");
    wb_images_close(s);
    wb_remove_tree(dir, NULL);
}
