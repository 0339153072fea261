/* Unpacking an image's layers (wb_image_rootfs) against hostile layers: a config whose diff_id
 * lies, a header declaring a file larger than the cap (refused before a byte of it is written), a
 * real gzip bomb, too many entries, `.wh.NAME/` written as a directory, an opaque whiteout. Each
 * failure must leave nothing under ROOT/images/rootfs. Layers are assembled here byte by byte
 * (ustar headers) and gzipped with libarchive's raw writer. The cases before the last section
 * use only calls older code has (wb_image_rootfs), and fail on it; the last section tests the
 * calls pull, load and build make (unpack.h, context.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "base/dynlib.h"
#include "base/fsutil.h"
#include "oci/context.h"
#include "oci/image.h"
#include "oci/store.h"
#include "oci/unpack.h"

/* ---- tars in memory ---- */

typedef struct ubuf {
    uint8_t *p;
    size_t n, cap;
} ubuf;

static void ub_put(ubuf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        b->p = realloc(b->p, cap);
        ASSERT_TRUE(b->p != NULL);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void oct(char *field, size_t width, uint64_t v) {
    if (v >> (3 * (width - 1))) { /* GNU base-256 */
        memset(field, 0, width);
        field[0] = (char)0x80;
        for (size_t i = width - 1; i > 0 && v; i--, v >>= 8) field[i] = (char)(v & 0xff);
        return;
    }
    for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = (char)('0' + (v & 7));
    field[width - 1] = '\0';
}

/* A header declaring `declared` bytes, followed by len bytes of data (padded). */
static void ub_entry(ubuf *b, const char *name, char type, const void *data, size_t len,
                     uint64_t declared) {
    char h[512];
    memset(h, 0, sizeof h);
    ASSERT_TRUE(strlen(name) < 100);
    memcpy(h, name, strlen(name));
    oct(h + 100, 8, type == '5' ? 0755 : 0644);
    oct(h + 108, 8, 0);
    oct(h + 116, 8, 0);
    oct(h + 124, 12, declared);
    oct(h + 136, 12, 1700000000);
    h[156] = type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++) sum += (uint8_t)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    ub_put(b, h, 512);
    ub_put(b, data, len);
    static const char zeros[512];
    if (len % 512) ub_put(b, zeros, 512 - len % 512);
}

static void ub_file(ubuf *b, const char *name, const char *text) {
    ub_entry(b, name, '0', text, strlen(text), strlen(text));
}
static void ub_dir(ubuf *b, const char *name) {
    ub_entry(b, name, '5', NULL, 0, 0);
}
static void ub_end(ubuf *b) {
    static const char zeros[1024];
    ub_put(b, zeros, sizeof zeros);
}

/* ---- a store with images made of such layers ---- */

typedef struct fixture {
    char root[64];
    wb_images *s;
} fixture;

static void need_libs(void) {
    if (!wb_libarchive_get(NULL)) SKIP("libarchive (libarchive13) is not installed");
    if (!wb_libcrypto_get(NULL)) SKIP("libcrypto (libssl3) is not installed");
}

static void fixture_init(fixture *f) {
    need_libs();
    snprintf(f->root, sizeof f->root, "/tmp/wb-unpack-XXXXXX");
    ASSERT_TRUE(mkdtemp(f->root) != NULL);
    wb_error err = {0};
    if (wb_images_open(f->root, &f->s, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
}

static void fixture_release(fixture *f) {
    wb_images_close(f->s);
    wb_remove_tree(f->root, NULL);
}

/* gzip bytes with libarchive's raw writer, through a file */
static void gzip_bytes(fixture *f, const ubuf *in, ubuf *out) {
    const wb_libarchive *ar = wb_libarchive_get(NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/layer.gz", f->root);
    struct archive *a = ar->archive_write_new();
    struct archive_entry *e = ar->archive_entry_new();
    ASSERT_EQ(ar->archive_write_set_format_raw(a), ARCHIVE_OK);
    ASSERT_EQ(ar->archive_write_add_filter_gzip(a), ARCHIVE_OK);
    ASSERT_EQ(ar->archive_write_open_filename(a, path), ARCHIVE_OK);
    ar->archive_entry_set_pathname(e, "data");
    ar->archive_entry_set_filetype(e, AE_IFREG);
    ar->archive_entry_set_size(e, (la_int64_t)in->n);
    ASSERT_EQ(ar->archive_write_header(a, e), ARCHIVE_OK);
    for (size_t done = 0; done < in->n;) {
        la_ssize_t k = ar->archive_write_data(a, in->p + done, in->n - done);
        ASSERT_TRUE(k > 0);
        done += (size_t)k;
    }
    ASSERT_EQ(ar->archive_write_close(a), ARCHIVE_OK);
    ar->archive_write_free(a);
    ar->archive_entry_free(e);
    uint8_t *data;
    size_t len;
    ASSERT_EQ(wb_read_file(path, 1 << 30, &data, &len, NULL), 0);
    out->p = data;
    out->n = out->cap = len;
    unlink(path);
}

/* Store the tar (gzipped) as a layer; diff_id is the tar's own digest unless `lie` is given. */
static void add_layer(fixture *f, ubuf *tar, const char *lie, wb_layer_desc *d) {
    memset(d, 0, sizeof *d);
    wb_error err = {0};
    snprintf(d->media_type, sizeof d->media_type, "%s", WB_MT_OCI_LAYER_GZIP);
    ASSERT_EQ(wb_digest_of(tar->p, tar->n, d->diff_id, &err), 0);
    if (lie) snprintf(d->diff_id, sizeof d->diff_id, "%s", lie);
    ubuf gz = {0};
    gzip_bytes(f, tar, &gz);
    ASSERT_EQ(wb_blob_put(f->s, gz.p, gz.n, d->digest, &err), 0);
    d->size = gz.n;
    free(gz.p);
    free(tar->p);
    memset(tar, 0, sizeof *tar);
}

/* An image of these layers, loaded. */
static wb_image *make_image(fixture *f, const wb_layer_desc *layers, size_t n) {
    json_t *config = wb_config_new("wasi", "wasm");
    json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
    for (size_t i = 0; i < n; i++) json_array_append_new(ids, json_string(layers[i].diff_id));
    char manifest[WB_DIGEST_MAX];
    wb_error err = {0};
    if (wb_image_commit(f->s, config, layers, n, NULL, 0, manifest, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    json_decref(config);
    wb_image *img;
    if (wb_image_load(f->s, manifest, &img, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    return img;
}

/* Entries under ROOT/images/rootfs (a missing directory counts as empty). */
static int rootfs_entries(fixture *f) {
    char path[128];
    snprintf(path, sizeof path, "%s/images/rootfs", f->root);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

static bool present(const char *rootfs, const char *rel) {
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", rootfs, rel);
    return lstat(p, &st) == 0;
}

/* Unpacking must fail with a message holding each of the words, and leave nothing behind. */
static void expect_refused(fixture *f, wb_image *img, const char *w1, const char *w2) {
    char *path = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_image_rootfs(f->s, img, &path, &err), -1);
    ASSERT_TRUE(path == NULL);
    ASSERT_STR_CONTAINS(err.msg, w1);
    if (w2) ASSERT_STR_CONTAINS(err.msg, w2);
    ASSERT_EQ(rootfs_entries(f), 0);
    /* the image is still usable for what does not need the rootfs, and a retry fails alike */
    ASSERT_EQ(wb_image_rootfs(f->s, img, &path, &err), -1);
    ASSERT_EQ(rootfs_entries(f), 0);
}

/* ---- diff_id ---- */

TEST(unpack_diff_id_mismatch_is_refused_and_leaves_nothing) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_dir(&t, "app/");
    ub_file(&t, "app/main.wasm", "\0asm");
    ub_end(&t);
    wb_layer_desc l;
    const char *lie = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    add_layer(&f, &t, lie, &l);
    wb_image *img = make_image(&f, &l, 1);
    expect_refused(&f, img, "does not match the image config's diff_id", lie);
    wb_error err = {0};
    char *path = NULL;
    ASSERT_EQ(wb_image_rootfs(f.s, img, &path, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, l.digest); /* names the layer */
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_second_layer_lies_first_is_fine) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_file(&t, "a", "1");
    ub_end(&t);
    wb_layer_desc l[2];
    add_layer(&f, &t, NULL, &l[0]);
    ub_file(&t, "b", "2");
    ub_end(&t);
    add_layer(&f, &t, l[0].diff_id, &l[1]); /* claims to be the first layer's content */
    wb_image *img = make_image(&f, l, 2);
    expect_refused(&f, img, "does not match the image config's diff_id", l[1].digest);
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_good_layers_still_unpack) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_dir(&t, "app/");
    ub_file(&t, "app/main.wasm", "hello");
    ub_end(&t);
    /* padding after the end blocks is part of the diff_id */
    static const char pad[8192];
    ub_put(&t, pad, sizeof pad);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    wb_image *img = make_image(&f, &l, 1);
    char *path = NULL;
    wb_error err = {0};
    if (wb_image_rootfs(f.s, img, &path, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    ASSERT_TRUE(present(path, "app/main.wasm"));
    ASSERT_EQ(rootfs_entries(&f), 1);
    free(path);
    wb_image_free(img);
    fixture_release(&f);
}

/* ---- caps ---- */

TEST(unpack_declared_size_over_the_cap_is_refused_before_writing) {
    fixture f;
    fixture_init(&f);
    setenv("WASMBOX_MAX_LAYER_SIZE", "1M", 1);
    ubuf t = {0};
    ub_file(&t, "small", "ok");
    /* a header declaring 2 GiB, with 256 KiB of data behind it and then the end: an extractor
     * that writes before it checks writes those 256 KiB and then fails on a short archive */
    size_t have = 256 << 10;
    uint8_t *data = malloc(have);
    memset(data, 'x', have);
    ub_entry(&t, "big", '0', data, have, (uint64_t)2 << 30);
    free(data);
    ub_end(&t);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    wb_image *img = make_image(&f, &l, 1);
    expect_refused(&f, img, "`big`", "WASMBOX_MAX_LAYER_SIZE");
    wb_error err = {0};
    char *path = NULL;
    ASSERT_EQ(wb_image_rootfs(f.s, img, &path, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "2 GiB");
    ASSERT_STR_CONTAINS(err.msg, "1 MiB");
    ASSERT_STR_CONTAINS(err.msg, l.digest);
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_default_cap_refuses_a_64_gib_header) {
    fixture f;
    fixture_init(&f);
    unsetenv("WASMBOX_MAX_LAYER_SIZE");
    ubuf t = {0};
    ub_entry(&t, "huge", '0', "abc", 3, (uint64_t)64 << 30);
    ub_end(&t);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    wb_image *img = make_image(&f, &l, 1);
    expect_refused(&f, img, "`huge`", "16 GiB");
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_gzip_bomb_stops_at_the_cap) {
    fixture f;
    fixture_init(&f);
    setenv("WASMBOX_MAX_LAYER_SIZE", "1M", 1);
    ubuf t = {0};
    /* many 512 KiB files of zeros: each under the cap, together far over it */
    size_t one = 512 << 10;
    uint8_t *zeros = calloc(1, one);
    for (int i = 0; i < 16; i++) {
        char name[32];
        snprintf(name, sizeof name, "z%02d", i);
        ub_entry(&t, name, '0', zeros, one, one);
    }
    free(zeros);
    ub_end(&t);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    ASSERT_LT(l.size, 256 << 10); /* 8 MiB in a few kB */
    wb_image *img = make_image(&f, &l, 1);
    expect_refused(&f, img, "WASMBOX_MAX_LAYER_SIZE", "1 MiB");
    /* raised, it unpacks */
    setenv("WASMBOX_MAX_LAYER_SIZE", "16MiB", 1);
    char *path = NULL;
    wb_error err = {0};
    if (wb_image_rootfs(f.s, img, &path, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    free(path);
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_entry_cap) {
    fixture f;
    fixture_init(&f);
    setenv("WASMBOX_MAX_LAYER_ENTRIES", "20", 1);
    ubuf t = {0};
    for (int i = 0; i < 50; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        ub_file(&t, name, "");
    }
    ub_end(&t);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    wb_image *img = make_image(&f, &l, 1);
    expect_refused(&f, img, "more than 20 entries", "WASMBOX_MAX_LAYER_ENTRIES");
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_bad_setting_is_an_error) {
    fixture f;
    fixture_init(&f);
    setenv("WASMBOX_MAX_LAYER_SIZE", "lots", 1);
    ubuf t = {0};
    ub_file(&t, "a", "1");
    ub_end(&t);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    wb_image *img = make_image(&f, &l, 1);
    expect_refused(&f, img, "WASMBOX_MAX_LAYER_SIZE", "lots");
    wb_image_free(img);
    fixture_release(&f);
}

/* A file of zeros is left as holes: the bytes a bomb claims never reach the disk. */
TEST(unpack_zeros_take_no_disk) {
    fixture f;
    fixture_init(&f);
    unsetenv("WASMBOX_MAX_LAYER_SIZE");
    ubuf t = {0};
    size_t big = 8 << 20;
    uint8_t *zeros = calloc(1, big);
    zeros[big / 2] = 1; /* one data block in the middle */
    ub_entry(&t, "zeros", '0', zeros, big, big);
    free(zeros);
    ub_end(&t);
    wb_layer_desc l;
    add_layer(&f, &t, NULL, &l);
    wb_image *img = make_image(&f, &l, 1);
    char *path = NULL;
    wb_error err = {0};
    if (wb_image_rootfs(f.s, img, &path, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    char file[4200];
    snprintf(file, sizeof file, "%s/zeros", path);
    struct stat st;
    ASSERT_EQ(stat(file, &st), 0);
    ASSERT_EQ(st.st_size, (off_t)big);
    ASSERT_LT((long long)st.st_blocks * 512, 1 << 20);
    uint8_t *back;
    size_t len;
    ASSERT_EQ(wb_read_file(file, big + 1, &back, &len, NULL), 0);
    ASSERT_EQ(len, big);
    ASSERT_EQ(back[big / 2], 1);
    ASSERT_EQ(back[big / 2 - 1], 0);
    free(back);
    free(path);
    wb_image_free(img);
    fixture_release(&f);
}

/* ---- whiteouts written as directories ---- */

TEST(unpack_whiteout_directory_entry_removes_and_leaves_nothing) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_dir(&t, "victim/");
    ub_file(&t, "victim/f", "f");
    ub_dir(&t, "d/");
    ub_file(&t, "d/x", "x");
    ub_file(&t, "d/y", "y");
    ub_end(&t);
    wb_layer_desc l[2];
    add_layer(&f, &t, NULL, &l[0]);
    ub_dir(&t, ".wh.victim/");           /* a whiteout written as a directory */
    ub_file(&t, ".wh.victim/junk", "j"); /* and something beneath it */
    ub_dir(&t, "d/.wh.x/");
    ub_end(&t);
    add_layer(&f, &t, NULL, &l[1]);
    wb_image *img = make_image(&f, l, 2);
    char *path = NULL;
    wb_error err = {0};
    if (wb_image_rootfs(f.s, img, &path, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    ASSERT_TRUE(!present(path, "victim"));
    ASSERT_TRUE(!present(path, ".wh.victim"));
    ASSERT_TRUE(!present(path, "d/x"));
    ASSERT_TRUE(!present(path, "d/.wh.x"));
    ASSERT_TRUE(present(path, "d/y"));
    free(path);
    wb_image_free(img);
    fixture_release(&f);
}

TEST(unpack_opaque_whiteout_file_and_directory) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_dir(&t, "o1/");
    ub_file(&t, "o1/old", "old");
    ub_dir(&t, "o2/");
    ub_file(&t, "o2/old", "old");
    ub_dir(&t, "o2/sub/");
    ub_file(&t, "o2/sub/deep", "deep");
    ub_end(&t);
    wb_layer_desc l[2];
    add_layer(&f, &t, NULL, &l[0]);
    ub_file(&t, "o1/.wh..wh..opq", ""); /* the usual form */
    ub_file(&t, "o1/new", "new");
    ub_dir(&t, "o2/.wh..wh..opq/"); /* as a directory, with an entry beneath */
    ub_file(&t, "o2/.wh..wh..opq/junk", "j");
    ub_file(&t, "o2/new", "new");
    ub_end(&t);
    add_layer(&f, &t, NULL, &l[1]);
    wb_image *img = make_image(&f, l, 2);
    char *path = NULL;
    wb_error err = {0};
    if (wb_image_rootfs(f.s, img, &path, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    ASSERT_TRUE(!present(path, "o1/old"));
    ASSERT_TRUE(present(path, "o1/new"));
    ASSERT_TRUE(!present(path, "o1/.wh..wh..opq"));
    ASSERT_TRUE(!present(path, "o2/old"));
    ASSERT_TRUE(!present(path, "o2/sub"));
    ASSERT_TRUE(present(path, "o2/new"));
    ASSERT_TRUE(!present(path, "o2/.wh..wh..opq"));
    free(path);
    wb_image_free(img);
    fixture_release(&f);
}

/* ---- the calls behind pull, load and build (unpack.h, context.h) ---- */

TEST(unpack_size_settings_parse) {
    uint64_t v = 0;
    ASSERT_TRUE(wb_parse_size("1048576", &v));
    ASSERT_U64_EQ(v, 1 << 20);
    ASSERT_TRUE(wb_parse_size("16G", &v));
    ASSERT_U64_EQ(v, (uint64_t)16 << 30);
    ASSERT_TRUE(wb_parse_size("512MiB", &v));
    ASSERT_U64_EQ(v, (uint64_t)512 << 20);
    ASSERT_TRUE(wb_parse_size("2t", &v));
    ASSERT_U64_EQ(v, (uint64_t)2 << 40);
    ASSERT_TRUE(!wb_parse_size("0", &v));
    ASSERT_TRUE(!wb_parse_size("-1", &v));
    ASSERT_TRUE(!wb_parse_size("lots", &v));
    ASSERT_TRUE(!wb_parse_size("1X", &v));
    ASSERT_TRUE(!wb_parse_size("99999999999999999999", &v));
    ASSERT_TRUE(!wb_parse_size("16777216T", &v)); /* 2^64: does not fit */
    wb_tar_limits lim;
    wb_error err = {0};
    unsetenv("WASMBOX_MAX_LAYER_SIZE");
    unsetenv("WASMBOX_MAX_LAYER_ENTRIES");
    ASSERT_EQ(wb_layer_limits(&lim, &err), 0);
    ASSERT_U64_EQ(lim.max_bytes, (uint64_t)16 << 30);
    ASSERT_U64_EQ(lim.max_entries, 1000000);
    setenv("WASMBOX_MAX_LAYER_ENTRIES", "12x", 1);
    ASSERT_EQ(wb_layer_limits(&lim, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "WASMBOX_MAX_LAYER_ENTRIES");
}

/* What pull and load call before registering: a check that writes nothing. */
TEST(unpack_check_layers_writes_nothing) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_file(&t, "a", "1");
    ub_end(&t);
    wb_layer_desc l[2];
    add_layer(&f, &t, NULL, &l[0]);
    ub_dir(&t, "w/");
    ub_end(&t);
    add_layer(&f, &t, NULL, &l[1]);
    wb_image *good = make_image(&f, l, 2);
    wb_error err = {0};
    if (wb_image_check_layers(f.s, good, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    snprintf(l[1].diff_id, sizeof l[1].diff_id, "%s", l[0].diff_id);
    wb_image *liar = make_image(&f, l, 2);
    ASSERT_EQ(wb_image_check_layers(f.s, liar, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, l[1].digest);
    ASSERT_STR_CONTAINS(err.msg, "does not match the image config's diff_id");
    l[1].diff_id[0] = '\0'; /* a config with fewer diff_ids than layers */
    wb_image *short_config = make_image(&f, l, 1);
    short_config->layers[0].diff_id[0] = '\0';
    ASSERT_EQ(wb_image_check_layers(f.s, short_config, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "no valid diff_id");
    ASSERT_EQ(rootfs_entries(&f), 0);
    wb_image_free(good);
    wb_image_free(liar);
    wb_image_free(short_config);
    fixture_release(&f);
}

/* The builder reads base layers into trees: the diff_id is checked there too, whiteouts written
 * as directories leave nothing, and the caps hold. */
TEST(unpack_build_tree_checks_diff_id_and_whiteout_dirs) {
    fixture f;
    fixture_init(&f);
    ubuf t = {0};
    ub_dir(&t, "victim/");
    ub_file(&t, "victim/f", "f");
    ub_file(&t, "keep", "k");
    ub_end(&t);
    wb_layer_desc l[2];
    add_layer(&f, &t, NULL, &l[0]);
    ub_dir(&t, ".wh.victim/");
    ub_file(&t, ".wh.victim/junk", "j");
    ub_end(&t);
    add_layer(&f, &t, NULL, &l[1]);
    wb_fstree *tree = wb_fstree_new();
    wb_error err = {0};
    for (int i = 0; i < 2; i++) {
        char blob[4096];
        ASSERT_EQ(wb_blob_path(f.s, l[i].digest, blob, sizeof blob, &err), 0);
        int fd = open(blob, O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        wb_tartree_limits lim = {0, 0, l[i].diff_id};
        int rc = wb_tartree_read(fd, i, WB_TARTREE_LAYER, &lim, tree, &err);
        if (rc < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
        /* the same layer against another diff_id is refused */
        wb_fstree *scratch = wb_fstree_new();
        wb_tartree_limits wrong = {0, 0, l[1 - i].diff_id};
        ASSERT_EQ(wb_tartree_read(fd, i, WB_TARTREE_LAYER, &wrong, scratch, &err), -1);
        ASSERT_STR_CONTAINS(err.msg, "does not match the image config's diff_id");
        wb_fstree_free(scratch);
        /* and the caps */
        scratch = wb_fstree_new();
        wb_tartree_limits few = {0, 1, NULL};
        ASSERT_EQ(wb_tartree_read(fd, i, WB_TARTREE_LAYER, &few, scratch, &err), -1);
        ASSERT_STR_CONTAINS(err.msg, "(the limit)");
        wb_fstree_free(scratch);
        close(fd);
    }
    ASSERT_TRUE(wb_fstree_get(tree, "keep") != NULL);
    ASSERT_TRUE(wb_fstree_get(tree, "victim") == NULL);
    ASSERT_TRUE(wb_fstree_get(tree, ".wh.victim") == NULL);
    wb_fstree_free(tree);
    fixture_release(&f);
}
