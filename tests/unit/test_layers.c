/* Reads through a stack of layer directories (oci/layers.h) checked against the kernel: the same
 * stack is mounted with overlayfs and every path must give the same answer through the resolver
 * (wb_lowers_lstat, wb_lowers_open) as through the mount (openat2 RESOLVE_IN_ROOT, so absolute
 * symlinks stay inside as they do for a container). Layers are made by hand here: files,
 * symlinks (relative, absolute, escaping with `..`, a loop), whiteouts (0/0 character devices),
 * an opaque directory, a directory replaced by a file and the reverse. Needs root (mknod,
 * trusted xattrs, mounts). Then wb_overlay_mount with more layers than absolute paths fit in a
 * page of options. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"

#include "base/fsutil.h"
#include "oci/layers.h"

static void need_root_mounts(void) {
    if (geteuid() != 0) SKIP("needs root (whiteout device nodes, trusted xattrs, mounts)");
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        SKIP("cannot make a private mount namespace");
}

static void put(const char *root, const char *rel, const char *text) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    if (text)
        ASSERT_EQ(wb_write_file_atomic(p, text, strlen(text), 0644, false, NULL), 0);
    else
        ASSERT_EQ(wb_mkdir_p(p, 0755, NULL), 0);
}

static void link_to(const char *root, const char *rel, const char *target) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    ASSERT_EQ(symlink(target, p), 0);
}

static void whiteout(const char *root, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    ASSERT_EQ(mknod(p, S_IFCHR | 0600, makedev(0, 0)), 0);
}

static void opaque(const char *root, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    ASSERT_EQ(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
}

static int open_in(int root, const char *path, int flags) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

static void read_all(int fd, char *buf, size_t size) {
    ssize_t n = pread(fd, buf, size - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

/* The same answer from the resolver and from the kernel's overlay at mnt. */
static void agree(const wb_lowers *l, int mnt, const char *path) {
    /* lstat: the entry itself (the parent resolved, the leaf not followed) */
    struct stat a, b;
    char parent[512];
    const char *slash = strrchr(path, '/');
    const char *leaf = slash ? slash + 1 : path;
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - path) : 0, path);
    int pfd = open_in(mnt, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
    int kr = pfd < 0 ? -1 : fstatat(pfd, leaf[0] ? leaf : ".", &a, AT_SYMLINK_NOFOLLOW);
    int ke = errno;
    if (pfd >= 0) close(pfd);
    int rr = wb_lowers_lstat(l, path, &b);
    int re = errno;
    if ((kr == 0) != (rr == 0))
        wb_test_fail(__FILE__, __LINE__, "lstat %s: kernel %d (%s), resolver %d (%s)", path, kr,
                     kr ? strerror(ke) : "-", rr, rr ? strerror(re) : "-");
    if (kr == 0) {
        if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT))
            wb_test_fail(__FILE__, __LINE__, "lstat %s: type 0%o vs 0%o", path,
                         (unsigned)(a.st_mode & S_IFMT), (unsigned)(b.st_mode & S_IFMT));
        if (S_ISREG(a.st_mode)) ASSERT_EQ(a.st_size, b.st_size);
    }
    /* open: followed to the end; a file's content must match */
    int kfd = open_in(mnt, path, O_RDONLY);
    ke = errno;
    int rfd = wb_lowers_open(l, path, O_RDONLY);
    re = errno;
    if ((kfd >= 0) != (rfd >= 0))
        wb_test_fail(__FILE__, __LINE__, "open %s: kernel %s, resolver %s", path,
                     kfd >= 0 ? "opened" : strerror(ke), rfd >= 0 ? "opened" : strerror(re));
    if (kfd >= 0) {
        ASSERT_EQ(fstat(kfd, &a), 0);
        ASSERT_EQ(fstat(rfd, &b), 0);
        ASSERT_EQ(a.st_mode & S_IFMT, b.st_mode & S_IFMT);
        if (S_ISREG(a.st_mode)) {
            char x[256], y[256];
            read_all(kfd, x, sizeof x);
            read_all(rfd, y, sizeof y);
            if (strcmp(x, y) != 0)
                wb_test_fail(__FILE__, __LINE__, "open %s: kernel reads \"%s\", resolver \"%s\"",
                             path, x, y);
        }
        close(kfd);
        close(rfd);
    }
}

TEST(layers_resolver_agrees_with_overlayfs) {
    need_root_mounts();
    char top[] = "/tmp/wb-layers-XXXXXX";
    ASSERT_TRUE(mkdtemp(top) != NULL);
    char l0[300], l1[300], l2[300], mnt[300];
    snprintf(l0, sizeof l0, "%s/l0", top);
    snprintf(l1, sizeof l1, "%s/l1", top);
    snprintf(l2, sizeof l2, "%s/l2", top);
    snprintf(mnt, sizeof mnt, "%s/mnt", top);
    put(l0, "", NULL);
    put(l1, "", NULL);
    put(l2, "", NULL);
    put(mnt, "", NULL);
    /* bottom */
    put(l0, "a", NULL);
    put(l0, "a/f1", "l0 f1");
    put(l0, "a/f2", "l0 f2");
    put(l0, "b", NULL);
    put(l0, "b/x", "l0 bx");
    put(l0, "c", "l0 c is a file");
    put(l0, "d", NULL);
    put(l0, "d/old", "l0 old");
    put(l0, "e", NULL);
    put(l0, "e/deep", NULL);
    put(l0, "e/deep/file", "l0 deep");
    put(l0, "g", NULL);
    put(l0, "g/kept", "l0 g");
    link_to(l0, "lnk", "a");
    link_to(l0, "abs", "/a/f1");
    link_to(l0, "up", "../../../..");
    link_to(l0, "loop", "loop");
    link_to(l0, "dangling", "/nowhere/at/all");
    /* middle: overrides, a whiteout, a file turned directory, an opaque directory */
    put(l1, "a", NULL);
    put(l1, "a/f1", "l1 f1");
    whiteout(l1, "b");
    put(l1, "c", NULL);
    put(l1, "c/inner", "l1 inner");
    put(l1, "d", NULL);
    opaque(l1, "d");
    put(l1, "d/new", "l1 new");
    put(l1, "e", NULL);
    put(l1, "e/deep", NULL);
    whiteout(l1, "e/deep/file");
    put(l1, "g", "l1 g is a file now");
    link_to(l1, "rel-abs", "a/../d/new");
    /* top: a directory turned file below it comes back as a directory */
    put(l2, "a", NULL);
    put(l2, "a/f3", "l2 f3");
    put(l2, "g", NULL);
    put(l2, "g/again", "l2 g");
    link_to(l2, "abs-dir", "/e");
    char opts[1200];
    snprintf(opts, sizeof opts, "lowerdir=%s:%s:%s", l2, l1, l0);
    ASSERT_EQ(mount("overlay", mnt, "overlay", MS_RDONLY, opts), 0);
    int m = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_TRUE(m >= 0);
    char *dirs[] = {l2, l1, l0};
    wb_lowers l = {dirs, 3};
    static const char *const paths[] = {
        "/",
        "a",
        "a/f1",
        "a/f2",
        "a/f3",
        "b",
        "b/x",
        "c",
        "c/inner",
        "d",
        "d/old",
        "d/new",
        "e",
        "e/deep",
        "e/deep/file",
        "g",
        "g/kept",
        "g/again",
        "lnk",
        "lnk/f1",
        "lnk/f3",
        "abs",
        "up",
        "up/a/f1",
        "up/up/c/inner",
        "loop",
        "loop/x",
        "dangling",
        "rel-abs",
        "abs-dir",
        "abs-dir/deep",
        "abs-dir/deep/file",
        "a/../c/inner",
        "/a//f2/",
        "a/./f1",
        "..",
        "../../a/f1",
        "nonexistent",
        "a/f1/x",
        "a/nope",
        "c/inner/x",
        "lnk/../d/new",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) agree(&l, m, paths[i]);
    close(m);
    umount2(mnt, MNT_DETACH);
    wb_remove_tree(top, NULL);
}

TEST(layers_overlay_mount_with_many_layers) {
    need_root_mounts();
    /* 60 layers of 64-hex names under a long parent: absolute paths take more than a page of
     * options, names relative to the parent fit */
    char top[] = "/tmp/wb-layers-many-XXXXXX";
    ASSERT_TRUE(mkdtemp(top) != NULL);
    char parent[400], mnt[400];
    snprintf(parent, sizeof parent, "%s/a-rather-long-directory-name/images/layers", top);
    snprintf(mnt, sizeof mnt, "%s/mnt", top);
    ASSERT_EQ(wb_mkdir_p(parent, 0755, NULL), 0);
    ASSERT_EQ(mkdir(mnt, 0755), 0);
    enum { N = 60 };
    char *dirs[N];
    for (int i = 0; i < N; i++) {
        char name[70];
        snprintf(name, sizeof name, "%064d", i);
        dirs[N - 1 - i] = malloc(512);
        snprintf(dirs[N - 1 - i], 512, "%s/%s", parent, name);
        ASSERT_EQ(mkdir(dirs[N - 1 - i], 0755), 0);
        char file[600], text[16];
        snprintf(file, sizeof file, "%s/f%d", dirs[N - 1 - i], i);
        snprintf(text, sizeof text, "%d", i);
        ASSERT_EQ(wb_write_file_atomic(file, text, strlen(text), 0644, false, NULL), 0);
        snprintf(file, sizeof file, "%s/same", dirs[N - 1 - i]);
        ASSERT_EQ(wb_write_file_atomic(file, text, strlen(text), 0644, false, NULL), 0);
    }
    char cwd_before[512], cwd_after[512];
    ASSERT_TRUE(getcwd(cwd_before, sizeof cwd_before) != NULL);
    wb_error err = {0};
    int rc = wb_overlay_mount(mnt, dirs, N, NULL, NULL, MS_RDONLY, NULL, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    ASSERT_EQ(rc, 0);
    ASSERT_TRUE(getcwd(cwd_after, sizeof cwd_after) != NULL);
    ASSERT_STR_EQ(cwd_after, cwd_before);
    char p[600];
    snprintf(p, sizeof p, "%s/f0", mnt);
    ASSERT_EQ(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/f%d", mnt, N - 1);
    ASSERT_EQ(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/same", mnt);
    uint8_t *data;
    size_t len;
    ASSERT_EQ(wb_read_file(p, 64, &data, &len, NULL), 0);
    ASSERT_EQ(len, 2);
    ASSERT_TRUE(!memcmp(data, "59", 2)); /* the top layer wins */
    free(data);
    umount2(mnt, MNT_DETACH);
    /* far too many: refused with a message, nothing mounted */
    char *many[400];
    for (int i = 0; i < 400; i++) many[i] = dirs[i % N];
    ASSERT_EQ(wb_overlay_mount(mnt, many, 400, NULL, NULL, MS_RDONLY, NULL, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "too many");
    for (int i = 0; i < N; i++) free(dirs[i]);
    wb_remove_tree(top, NULL);
}
