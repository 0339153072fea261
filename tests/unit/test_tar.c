/* The safe tar extractor (oci/tar.h) against hostile archives: escapes by `..`, absolute names,
 * symlinks and hard links, device nodes, whiteouts, duplicates, size and entry caps (a gzip bomb),
 * and a good archive with every entry type; OCI whiteouts applied across two layers. Archives are
 * assembled here byte by byte (ustar headers), so nothing sanitises the names on the way in;
 * compression goes through libarchive's writer. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#include "base/dynlib.h"
#include "base/fsutil.h"
#include "oci/archive.h"
#include "oci/tar.h"

/* ---- building tar archives ---- */

typedef struct tarbuf {
    uint8_t *p;
    size_t n, cap;
} tarbuf;

static void tb_put(tarbuf *t, const void *data, size_t n) {
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + n) cap *= 2;
        t->p = realloc(t->p, cap);
        ASSERT_TRUE(t->p != NULL);
        t->cap = cap;
    }
    memcpy(t->p + t->n, data, n);
    t->n += n;
}

/* width-1 octal digits and a NUL; values that do not fit use GNU's base-256 form */
static void octal(char *field, size_t width, uint64_t v) {
    if (v >> (3 * (width - 1))) {
        memset(field, 0, width);
        field[0] = (char)0x80;
        for (size_t i = width - 1; i > 0 && v; i--, v >>= 8) field[i] = (char)(v & 0xff);
        return;
    }
    for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = (char)('0' + (v & 7));
    field[width - 1] = '\0';
}

/* One ustar header (names up to 100 bytes, or split with the 155-byte prefix) and the data. */
static void tb_entry_sized(tarbuf *t, const char *name, char type, const char *link,
                           const void *data, size_t len, uint64_t declared, unsigned mode) {
    char h[512];
    memset(h, 0, sizeof h);
    size_t nlen = strlen(name);
    if (nlen <= 100) {
        memcpy(h, name, nlen);
    } else {
        const char *cut = name + nlen - 100;
        while (*cut && *cut != '/') cut++;
        ASSERT_TRUE(*cut == '/' && (size_t)(cut - name) <= 155);
        memcpy(h + 345, name, (size_t)(cut - name));
        memcpy(h, cut + 1, strlen(cut + 1));
    }
    octal(h + 100, 8, mode);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, declared);
    octal(h + 136, 12, 1700000000);
    h[156] = type;
    if (link) memcpy(h + 157, link, strlen(link));
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++) sum += (uint8_t)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    tb_put(t, h, 512);
    if (len) {
        tb_put(t, data, len);
        static const char zeros[512];
        if (len % 512) tb_put(t, zeros, 512 - len % 512);
    }
}

static void tb_entry(tarbuf *t, const char *name, char type, const char *link, const char *data,
                     unsigned mode) {
    size_t len = data ? strlen(data) : 0;
    tb_entry_sized(t, name, type, link, data, len, len, mode);
}

static void tb_file(tarbuf *t, const char *name, const char *data) {
    tb_entry(t, name, '0', NULL, data, 0644);
}
static void tb_dir(tarbuf *t, const char *name) {
    tb_entry(t, name, '5', NULL, NULL, 0755);
}
static void tb_symlink(tarbuf *t, const char *name, const char *target) {
    tb_entry(t, name, '2', target, NULL, 0777);
}
static void tb_hardlink(tarbuf *t, const char *name, const char *target) {
    tb_entry(t, name, '1', target, NULL, 0644);
}

static void tb_end(tarbuf *t) {
    static const char zeros[1024];
    tb_put(t, zeros, sizeof zeros);
}

/* A scratch directory per test: T/ holds the archive and dest/, and T/outside/ is where an escape
 * would land. */
typedef struct scratch {
    char root[256], dest[300], outside[300], archive[300];
} scratch;

static void scratch_init(scratch *s) {
    snprintf(s->root, sizeof s->root, "/tmp/wb-tar-XXXXXX");
    ASSERT_TRUE(mkdtemp(s->root) != NULL);
    snprintf(s->dest, sizeof s->dest, "%s/dest", s->root);
    snprintf(s->outside, sizeof s->outside, "%s/outside", s->root);
    snprintf(s->archive, sizeof s->archive, "%s/a.tar", s->root);
    ASSERT_EQ(mkdir(s->dest, 0755), 0);
    ASSERT_EQ(mkdir(s->outside, 0755), 0);
}

static void scratch_release(scratch *s) {
    wb_remove_tree(s->root, NULL);
}

static void write_archive(const char *path, tarbuf *t) {
    tb_end(t);
    ASSERT_EQ(wb_write_file_atomic(path, t->p, t->n, 0644, false, NULL), 0);
    free(t->p);
    memset(t, 0, sizeof *t);
}

static bool exists(const char *dir, const char *rel) {
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return lstat(p, &st) == 0;
}

static size_t count_entries(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find '%s' -mindepth 1 | wc -l", dir);
    FILE *f = popen(cmd, "r");
    ASSERT_TRUE(f != NULL);
    size_t n = 0;
    ASSERT_EQ(fscanf(f, "%zu", &n), 1);
    pclose(f);
    return n;
}

static char *slurp(const char *dir, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    uint8_t *data;
    size_t len;
    if (wb_read_file(p, 1 << 20, &data, &len, NULL) < 0) return NULL;
    return (char *)data;
}

/* Extract t (ending it) with flags; returns rc and leaves the message in err. */
static int extract(scratch *s, tarbuf *t, unsigned flags, wb_error *err) {
    write_archive(s->archive, t);
    return wb_tar_extract(s->archive, s->dest, NULL, flags, NULL, err);
}

/* The refusal must name the entry, and nothing may appear outside dest. */
#define ASSERT_REFUSED(s, t, flags, entry)                                                         \
    do {                                                                                           \
        wb_error e_ = {0};                                                                         \
        ASSERT_EQ(extract(s, t, flags, &e_), -1);                                                  \
        ASSERT_STR_CONTAINS(e_.msg, entry);                                                        \
        ASSERT_EQ(count_entries((s)->outside), 0);                                                 \
        ASSERT_EQ(wb_tar_scan((s)->archive, NULL, flags, NULL, &e_), -1);                          \
        ASSERT_STR_CONTAINS(e_.msg, entry);                                                        \
    } while (0)

static void need_libarchive(void) {
    if (!wb_libarchive_get(NULL)) SKIP("libarchive (libarchive13) is not installed");
}

/* ---- a good archive ---- */

TEST(tar_good_archive_all_entry_types) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_dir(&t, "./");
    tb_dir(&t, "./app/");
    tb_file(&t, "./app/main.wasm", "\0asm-not-really");
    tb_file(&t, "deep/implied/parents/file.txt", "hello");
    tb_symlink(&t, "app/link", "main.wasm");
    tb_symlink(&t, "abs-link",
               "/etc/passwd"); /* a symlink may point anywhere: it is not followed */
    tb_hardlink(&t, "app/hard", "app/main.wasm");
    tb_entry(&t, "ro/", '5', NULL, NULL, 0555);
    tb_file(&t, "ro/inside", "x");
    tb_entry(&t, "exec.sh", '0', NULL, "#!", 0755);
    char long_name[300];
    snprintf(long_name, sizeof long_name, "%s/%s",
             "a-directory-with-a-rather-long-name-to-use-the-prefix-field",
             "and-a-file-whose-name-is-also-long-enough-to-need-more-than-one-hundred-bytes.txt");
    tb_file(&t, long_name, "long");
    write_archive(s.archive, &t);
    wb_error err = {0};
    wb_tar_stats st;
    ASSERT_EQ(
        wb_tar_scan(s.archive, NULL, WB_TAR_REFUSE_DUPLICATES | WB_TAR_REFUSE_WHITEOUTS, &st, &err),
        0);
    ASSERT_EQ(st.entries, 11);
    int rc = wb_tar_extract(s.archive, s.dest, NULL, WB_TAR_REFUSE_DUPLICATES, &st, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(st.entries, 11);
    ASSERT_EQ(st.bytes, strlen("hello") + 1 + 2 + 4); /* strlen stops at the NUL of \0asm */
    char *hello = slurp(s.dest, "deep/implied/parents/file.txt");
    ASSERT_STR_EQ(hello, "hello");
    free(hello);
    char p[1024], target[256];
    snprintf(p, sizeof p, "%s/app/link", s.dest);
    ssize_t n = readlink(p, target, sizeof target - 1);
    ASSERT_TRUE(n > 0);
    target[n] = '\0';
    ASSERT_STR_EQ(target, "main.wasm");
    struct stat a, b;
    snprintf(p, sizeof p, "%s/app/hard", s.dest);
    ASSERT_EQ(stat(p, &a), 0);
    snprintf(p, sizeof p, "%s/app/main.wasm", s.dest);
    ASSERT_EQ(stat(p, &b), 0);
    ASSERT_EQ(a.st_ino, b.st_ino);
    snprintf(p, sizeof p, "%s/ro", s.dest);
    ASSERT_EQ(stat(p, &a), 0);
    ASSERT_EQ(a.st_mode & 07777, 0555); /* applied after its children */
    ASSERT_TRUE(exists(s.dest, "ro/inside"));
    snprintf(p, sizeof p, "%s/exec.sh", s.dest);
    ASSERT_EQ(stat(p, &a), 0);
    ASSERT_EQ(a.st_mode & 0777, 0755);
    ASSERT_EQ(a.st_mtime, 1700000000);
    char *l = slurp(s.dest, long_name);
    ASSERT_STR_EQ(l, "long");
    free(l);
    chmod(p, 0755);
    snprintf(p, sizeof p, "%s/ro", s.dest);
    chmod(p, 0755);
    scratch_release(&s);
}

TEST(tar_extract_from_pipe) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_file(&t, "piped.txt", "through a pipe");
    tb_end(&t);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ssize_t w = write(fds[1], t.p, t.n);
        _exit(w == (ssize_t)t.n ? 0 : 1);
    }
    close(fds[1]);
    wb_error err = {0};
    ASSERT_EQ(wb_tar_extract_fd(fds[0], "stdin", s.dest, NULL, 0, NULL, &err), 0);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    char *c = slurp(s.dest, "piped.txt");
    ASSERT_STR_EQ(c, "through a pipe");
    free(c);
    free(t.p);
    scratch_release(&s);
}

TEST(tar_not_an_archive) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    ASSERT_EQ(wb_write_file_atomic(s.archive, "just some text, not a tar\n", 26, 0644, false, NULL),
              0);
    wb_error err = {0};
    ASSERT_EQ(wb_tar_extract(s.archive, s.dest, NULL, 0, NULL, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, s.archive);
    scratch_release(&s);
}

/* ---- escapes ---- */

TEST(tar_refuses_dotdot) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_file(&t, "../outside/evil", "pwned");
    ASSERT_REFUSED(&s, &t, 0, "../outside/evil");
    ASSERT_STR_CONTAINS(s.root, "wb-tar"); /* (keeps the macro's scope honest) */
    tb_file(&t, "ok/../../outside/evil", "pwned");
    ASSERT_REFUSED(&s, &t, 0, "ok/../../outside/evil");
    tb_dir(&t, "a/");
    tb_file(&t, "a/..", "x");
    ASSERT_REFUSED(&s, &t, 0, "a/..");
    scratch_release(&s);
}

TEST(tar_refuses_absolute_names) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    char name[400];
    snprintf(name, sizeof name, "%s/evil", s.outside);
    tb_file(&t, name, "pwned");
    ASSERT_REFUSED(&s, &t, 0, "absolute");
    scratch_release(&s);
}

TEST(tar_refuses_symlink_then_file) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_symlink(&t, "link", s.outside); /* absolute target */
    tb_file(&t, "link/evil", "pwned");
    ASSERT_REFUSED(&s, &t, 0, "link/evil");
    wb_remove_tree(s.dest, NULL);
    mkdir(s.dest, 0755);
    tb_symlink(&t, "rel", "../outside"); /* relative target */
    tb_file(&t, "rel/evil", "pwned");
    ASSERT_REFUSED(&s, &t, 0, "symbolic link");
    wb_remove_tree(s.dest, NULL);
    mkdir(s.dest, 0755);
    tb_dir(&t, "d/");
    tb_symlink(&t, "d/up", "../..");
    tb_dir(&t, "d/up/outside/newdir/"); /* a directory through the link */
    ASSERT_REFUSED(&s, &t, 0, "d/up/outside/newdir");
    scratch_release(&s);
}

TEST(tar_symlink_replaced_by_file_is_not_followed) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    char victim[400];
    snprintf(victim, sizeof victim, "%s/victim", s.outside);
    ASSERT_EQ(wb_write_file_atomic(victim, "intact", 6, 0644, false, NULL), 0);
    tarbuf t = {0};
    tb_symlink(&t, "x", victim);
    tb_file(&t, "x",
            "pwned"); /* without REFUSE_DUPLICATES: replaces the link, never writes through it */
    write_archive(s.archive, &t);
    wb_error err = {0};
    ASSERT_EQ(wb_tar_extract(s.archive, s.dest, NULL, 0, NULL, &err), 0);
    char *v = slurp(s.outside, "victim");
    ASSERT_STR_EQ(v, "intact");
    free(v);
    char *x = slurp(s.dest, "x");
    ASSERT_STR_EQ(x, "pwned");
    free(x);
    scratch_release(&s);
}

TEST(tar_refuses_hardlinks_outside) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    /* the victim sits beside dest (T/victim), so that T/outside stays empty */
    char victim[400];
    snprintf(victim, sizeof victim, "%s/victim", s.root);
    ASSERT_EQ(wb_write_file_atomic(victim, "intact", 6, 0644, false, NULL), 0);
    tarbuf t = {0};
    tb_hardlink(&t, "h", "../victim");
    ASSERT_REFUSED(&s, &t, 0, "`h`");
    tb_hardlink(&t, "h", victim);
    ASSERT_REFUSED(&s, &t, 0, "outside the archive");
    tb_hardlink(&t, "h", "not-there");
    ASSERT_REFUSED(&s, &t, 0, "not in the archive");
    tb_symlink(&t, "l", s.root);
    tb_hardlink(&t, "h", "l/victim"); /* through a symlink */
    ASSERT_REFUSED(&s, &t, 0, "`h`");
    wb_remove_tree(s.dest, NULL);
    mkdir(s.dest, 0755);
    tb_dir(&t, "dir/");
    tb_hardlink(&t, "h", "dir");
    ASSERT_REFUSED(&s, &t, 0, "not a file");
    /* the victim kept its single link */
    struct stat st;
    ASSERT_EQ(stat(victim, &st), 0);
    ASSERT_EQ(st.st_nlink, 1);
    scratch_release(&s);
}

TEST(tar_refuses_devices_and_fifos) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_entry(&t, "dev/null", '3', NULL, NULL, 0666);
    ASSERT_REFUSED(&s, &t, 0, "device");
    tb_entry(&t, "dev/sda", '4', NULL, NULL, 0666);
    ASSERT_REFUSED(&s, &t, 0, "dev/sda");
    tb_entry(&t, "fifo", '6', NULL, NULL, 0666);
    ASSERT_REFUSED(&s, &t, 0, "FIFO");
    ASSERT_TRUE(!exists(s.dest, "dev/null") && !exists(s.dest, "fifo"));
    scratch_release(&s);
}

TEST(tar_refuses_whiteouts_and_duplicates_when_asked) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_file(&t, "a/.wh.b", "");
    ASSERT_REFUSED(&s, &t, WB_TAR_REFUSE_WHITEOUTS, "a/.wh.b");
    tb_file(&t, "d/.wh..wh..opq", "");
    ASSERT_REFUSED(&s, &t, WB_TAR_REFUSE_WHITEOUTS, "whiteout");
    tb_file(&t, "x", "1");
    tb_file(&t, "./x", "2");
    ASSERT_REFUSED(&s, &t, WB_TAR_REFUSE_DUPLICATES, "duplicate");
    tb_dir(&t, "d/");
    tb_dir(&t, "d");
    ASSERT_REFUSED(&s, &t, WB_TAR_REFUSE_DUPLICATES, "`d`");
    /* without the flags: a later entry wins, a whiteout name is an ordinary file */
    tb_file(&t, "x", "1");
    tb_file(&t, "x", "2");
    tb_file(&t, ".wh.y", "");
    wb_error err = {0};
    ASSERT_EQ(extract(&s, &t, 0, &err), 0);
    char *x = slurp(s.dest, "x");
    ASSERT_STR_EQ(x, "2");
    free(x);
    ASSERT_TRUE(exists(s.dest, ".wh.y"));
    scratch_release(&s);
}

/* ---- caps ---- */

/* gzip a file with libarchive's raw writer (the tar stays byte for byte) */
static void gzip_file(const char *in, const char *out) {
    const wb_libarchive *ar = wb_libarchive_get(NULL);
    uint8_t *data;
    size_t len;
    ASSERT_EQ(wb_read_file(in, 1 << 30, &data, &len, NULL), 0);
    struct archive *a = ar->archive_write_new();
    struct archive_entry *e = ar->archive_entry_new();
    ASSERT_EQ(ar->archive_write_set_format_raw(a), ARCHIVE_OK);
    ASSERT_EQ(ar->archive_write_add_filter_gzip(a), ARCHIVE_OK);
    ASSERT_EQ(ar->archive_write_open_filename(a, out), ARCHIVE_OK);
    ar->archive_entry_set_pathname(e, "data");
    ar->archive_entry_set_filetype(e, AE_IFREG);
    ar->archive_entry_set_size(e, (la_int64_t)len);
    ASSERT_EQ(ar->archive_write_header(a, e), ARCHIVE_OK);
    ASSERT_EQ(ar->archive_write_data(a, data, len), (la_ssize_t)len);
    ASSERT_EQ(ar->archive_write_close(a), ARCHIVE_OK);
    ar->archive_write_free(a);
    ar->archive_entry_free(e);
    free(data);
}

TEST(tar_gzip_bomb_stops_at_the_cap) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    size_t big = 8 << 20;
    char *zeros = calloc(1, big);
    tb_entry_sized(&t, "zeros", '0', NULL, zeros, big, big, 0644);
    free(zeros);
    write_archive(s.archive, &t);
    char gz[400];
    snprintf(gz, sizeof gz, "%s/bomb.tar.gz", s.root);
    gzip_file(s.archive, gz);
    struct stat st;
    ASSERT_EQ(stat(gz, &st), 0);
    ASSERT_LT(st.st_size, 64 << 10); /* 8 MiB of zeros in a few kB */
    wb_tar_limits lim = {.max_bytes = 1 << 20};
    wb_error err = {0};
    ASSERT_EQ(wb_tar_extract(gz, s.dest, &lim, 0, NULL, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "limit");
    ASSERT_STR_CONTAINS(err.msg, "zeros");
    ASSERT_TRUE(!exists(s.dest, "zeros"));
    ASSERT_EQ(wb_tar_scan(gz, &lim, 0, NULL, &err), -1);
    /* under the cap it extracts */
    lim.max_bytes = 16 << 20;
    ASSERT_EQ(wb_tar_extract(gz, s.dest, &lim, 0, NULL, &err), 0);
    scratch_release(&s);
}

TEST(tar_declared_size_over_the_cap_is_refused_at_once) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    /* a header claiming 64 GiB with only a few bytes behind it */
    tb_entry_sized(&t, "huge", '0', NULL, "abc", 3, (uint64_t)64 << 30, 0644);
    ASSERT_REFUSED(&s, &t, 0, "limit");
    scratch_release(&s);
}

TEST(tar_entry_cap) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    for (int i = 0; i < 50; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        tb_file(&t, name, "");
    }
    write_archive(s.archive, &t);
    wb_tar_limits lim = {.max_entries = 20};
    wb_error err = {0};
    ASSERT_EQ(wb_tar_extract(s.archive, s.dest, &lim, 0, NULL, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "more than 20 entries");
    ASSERT_LE(count_entries(s.dest), 20);
    scratch_release(&s);
}

/* ---- whiteouts across layers ---- */

TEST(tar_whiteouts_apply_across_two_layers) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_dir(&t, "d1/");
    tb_file(&t, "d1/f1", "1");
    tb_file(&t, "d1/f2", "2");
    tb_dir(&t, "d2/");
    tb_file(&t, "d2/g1", "g");
    tb_dir(&t, "d3/");
    tb_file(&t, "d3/h1", "h");
    tb_dir(&t, "d3/s/");
    tb_file(&t, "d3/s/k", "k");
    tb_dir(&t, "d3/keep/");
    tb_file(&t, "d3/keep/old", "old");
    tb_file(&t, "top", "t");
    wb_error err = {0};
    ASSERT_EQ(extract(&s, &t, WB_TAR_APPLY_WHITEOUTS, &err), 0);
    /* layer 2 */
    tb_file(&t, "d1/.wh.f1", "");
    tb_file(&t, ".wh.d2", "");
    tb_file(&t, "d3/keep/new", "new"); /* before the opaque marker: stays */
    tb_file(&t, "d3/.wh..wh..opq", "");
    tb_file(&t, "d3/after", "a");
    tb_file(&t, "n", "mine");
    tb_file(&t, ".wh.n", ""); /* a whiteout hides only lower layers: n stays */
    tb_file(&t, ".wh.missing", "");
    tb_file(&t, "no/such/dir/.wh.x", ""); /* creates nothing */
    int rc = extract(&s, &t, WB_TAR_APPLY_WHITEOUTS, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    ASSERT_EQ(rc, 0);
    ASSERT_TRUE(!exists(s.dest, "d1/f1"));
    ASSERT_TRUE(exists(s.dest, "d1/f2"));
    ASSERT_TRUE(!exists(s.dest, "d2"));
    ASSERT_TRUE(!exists(s.dest, "d3/h1"));
    ASSERT_TRUE(!exists(s.dest, "d3/s"));
    ASSERT_TRUE(!exists(s.dest, "d3/keep/old"));
    ASSERT_TRUE(exists(s.dest, "d3/keep/new"));
    ASSERT_TRUE(exists(s.dest, "d3/after"));
    ASSERT_TRUE(exists(s.dest, "n"));
    ASSERT_TRUE(exists(s.dest, "top"));
    ASSERT_TRUE(!exists(s.dest, ".wh.n") && !exists(s.dest, "d3/.wh..wh..opq"));
    ASSERT_TRUE(!exists(s.dest, "no"));
    /* a whiteout cannot reach outside either */
    char victim[400];
    snprintf(victim, sizeof victim, "%s/victim", s.outside);
    ASSERT_EQ(wb_write_file_atomic(victim, "intact", 6, 0644, false, NULL), 0);
    tb_symlink(&t, "out", s.outside);
    write_archive(s.archive, &t);
    ASSERT_EQ(wb_tar_extract(s.archive, s.dest, NULL, WB_TAR_APPLY_WHITEOUTS, NULL, &err), 0);
    tb_file(&t, "out/.wh.victim", "");
    ASSERT_EQ(extract(&s, &t, WB_TAR_APPLY_WHITEOUTS, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "symbolic link");
    ASSERT_TRUE(exists(s.outside, "victim"));
    scratch_release(&s);
}

TEST(tar_later_layer_replaces_types) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_dir(&t, "was-dir/");
    tb_file(&t, "was-dir/child", "c");
    tb_file(&t, "was-file", "f");
    wb_error err = {0};
    ASSERT_EQ(extract(&s, &t, WB_TAR_APPLY_WHITEOUTS, &err), 0);
    tb_file(&t, "was-dir", "now a file");
    tb_dir(&t, "was-file/");
    tb_file(&t, "was-file/inside", "i");
    ASSERT_EQ(extract(&s, &t, WB_TAR_APPLY_WHITEOUTS, &err), 0);
    char *c = slurp(s.dest, "was-dir");
    ASSERT_STR_EQ(c, "now a file");
    free(c);
    ASSERT_TRUE(exists(s.dest, "was-file/inside"));
    scratch_release(&s);
}

TEST(tar_scan_rules) {
    need_libarchive();
    scratch s;
    scratch_init(&s);
    tarbuf t = {0};
    tb_file(&t, "f", "x");
    tb_file(&t, "f/under-a-file", "x");
    write_archive(s.archive, &t);
    wb_error err = {0};
    ASSERT_EQ(wb_tar_scan(s.archive, NULL, 0, NULL, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "not a directory");
    tb_file(&t, "f", "x");
    tb_hardlink(&t, "g", "f");
    tb_symlink(&t, "s", "f");
    tb_hardlink(&t, "h", "s"); /* a hard link to a symlink is fine */
    write_archive(s.archive, &t);
    wb_tar_stats st;
    ASSERT_EQ(wb_tar_scan(s.archive, NULL, WB_TAR_REFUSE_DUPLICATES, &st, &err), 0);
    ASSERT_EQ(st.entries, 4);
    ASSERT_EQ(count_entries(s.dest), 0);
    scratch_release(&s);
}

/* ---- import --change ---- */

TEST(import_changes) {
    json_t *config = json_pack("{s:{}}", "config");
    wb_error err = {0};
    ASSERT_EQ(wb_import_apply_change(config, "ENTRYPOINT [\"/app.wasm\", \"--x\"]", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "CMD run fast", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "ENV A=1 B=\"two words\"", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "env A 3", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "WORKDIR /srv", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "WORKDIR data", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "LABEL org.x=y 'k 2'=v", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "EXPOSE 8080 53/udp", &err), 0);
    ASSERT_EQ(wb_import_apply_change(config, "USER 1000", &err), 0);
    char *text = json_dumps(json_object_get(config, "config"), JSON_COMPACT | JSON_SORT_KEYS);
    ASSERT_STR_EQ(text, "{\"Cmd\":[\"/bin/sh\",\"-c\",\"run fast\"],"
                        "\"Entrypoint\":[\"/app.wasm\",\"--x\"],\"Env\":[\"A=3\",\"B=two words\"],"
                        "\"ExposedPorts\":{\"53/udp\":{},\"8080/tcp\":{}},"
                        "\"Labels\":{\"k 2\":\"v\",\"org.x\":\"y\"},\"User\":\"1000\","
                        "\"WorkingDir\":\"/srv/data\"}");
    free(text);
    ASSERT_EQ(wb_import_apply_change(config, "RUN rm -rf /", &err), -1);
    ASSERT_STR_EQ(err.msg, "RUN is not a valid change command");
    ASSERT_EQ(wb_import_apply_change(config, "ENV", &err), -1);
    ASSERT_EQ(wb_import_apply_change(config, "ENV A=\"unterminated", &err), -1);
    ASSERT_EQ(wb_import_apply_change(config, "EXPOSE http", &err), -1);
    json_decref(config);
}

/* ---- whiteouts kept for overlayfs ---- */

/* Each layer unpacked alone with WB_TAR_OVERLAY_WHITEOUTS and stacked by the kernel must show
 * what applying the layers in order onto one directory gives. */
TEST(tar_overlay_whiteouts_stack_like_applied_layers) {
    need_libarchive();
    if (geteuid() != 0) SKIP("needs root (whiteout device nodes, trusted xattrs, mounts)");
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        SKIP("cannot make a private mount namespace");
    scratch s;
    scratch_init(&s);
    char l1[400], l2[400], mnt[400], opts[1400], cmd[2400];
    snprintf(l1, sizeof l1, "%s/l1", s.root);
    snprintf(l2, sizeof l2, "%s/l2", s.root);
    snprintf(mnt, sizeof mnt, "%s/mnt", s.root);
    ASSERT_EQ(mkdir(l1, 0755), 0);
    ASSERT_EQ(mkdir(l2, 0755), 0);
    ASSERT_EQ(mkdir(mnt, 0755), 0);
    tarbuf t = {0};
    wb_error err = {0};
    for (int layer = 1; layer <= 2; layer++) {
        if (layer == 1) {
            tb_dir(&t, "d1/");
            tb_file(&t, "d1/f1", "1");
            tb_file(&t, "d1/f2", "2");
            tb_dir(&t, "d2/");
            tb_file(&t, "d2/g1", "g");
            tb_dir(&t, "d3/");
            tb_file(&t, "d3/h1", "h");
            tb_dir(&t, "d3/keep/");
            tb_file(&t, "d3/keep/old", "old");
            tb_file(&t, "n", "lower n");
        } else {
            tb_file(&t, "d1/.wh.f1", "");
            tb_file(&t, ".wh.d2", "");
            tb_file(&t, "d3/keep/new", "new");
            tb_file(&t, "d3/.wh..wh..opq", "");
            tb_file(&t, "d3/after", "a");
            tb_file(&t, "n", "mine");
            tb_file(&t, ".wh.n", ""); /* hides only lower layers: this layer's n stays */
            tb_file(&t, ".wh.missing", "");
            tb_file(&t, ".wh.x/", ""); /* a whiteout written as a directory */
            tb_file(&t, ".wh.x/y", "");
        }
        write_archive(s.archive, &t);
        ASSERT_EQ(wb_tar_extract(s.archive, s.dest, NULL, WB_TAR_APPLY_WHITEOUTS, NULL, &err), 0);
        int rc = wb_tar_extract(s.archive, layer == 1 ? l1 : l2, NULL, WB_TAR_OVERLAY_WHITEOUTS,
                                NULL, &err);
        if (rc) fprintf(stderr, "%s\n", err.msg);
        ASSERT_EQ(rc, 0);
    }
    struct stat st;
    char p[600];
    snprintf(p, sizeof p, "%s/d2", l2);
    ASSERT_EQ(lstat(p, &st), 0);
    ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == 0); /* the whiteout, as overlayfs writes it */
    snprintf(p, sizeof p, "%s/.wh.d2", l2);
    ASSERT_TRUE(lstat(p, &st) != 0);
    snprintf(opts, sizeof opts, "lowerdir=%s:%s", l2, l1);
    ASSERT_EQ(mount("overlay", mnt, "overlay", MS_RDONLY, opts), 0);
    /* the same tree: paths, types and contents */

    snprintf(cmd, sizeof cmd,
             "cd '%s' && find . -printf '%%y %%p\\n' | sort >../applied.txt && "
             "cd '%s' && find . -printf '%%y %%p\\n' | sort >../stacked.txt && "
             "cmp -s ../applied.txt ../stacked.txt && diff -r '%s' '%s'",
             s.dest, mnt, s.dest, mnt);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "diff '%s/applied.txt' '%s/stacked.txt' >&2", s.root, s.root);
        if (system(cmd)) {
        }
    }
    ASSERT_EQ(rc, 0);
    umount2(mnt, MNT_DETACH);
    scratch_release(&s);
}
