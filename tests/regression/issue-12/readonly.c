/* Issue #12, item 1: every write path WASI offers fails with EROFS beneath a read-only preopen.
 * Usage: readonly.wasm RO_DIR [RW_DIR]
 * RO_DIR holds k.txt ("keep\n"), dir/ (with f.txt) and empty/; RW_DIR, if given, is writable and
 * holds w.txt. Prints "ok NAME" or "FAIL NAME: ..." per check and exits 0 (the host compares the
 * trees). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static char ro[256], rw[256];
static int failures;

static const char *p(const char *dir, const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return buf[k];
}

/* r: the call's result; ok when it is -1 with errno EROFS */
static void erofs(const char *name, int r) {
    if (r == -1 && errno == EROFS) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: result %d, errno %d (%s), want EROFS\n", name, r, r == -1 ? errno : 0,
               r == -1 ? strerror(errno) : "-");
        failures++;
    }
}

static void check(const char *name, int cond, const char *detail) {
    if (cond) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: %s\n", name, detail);
        failures++;
    }
}

static void wasi_erofs(const char *name, __wasi_errno_t e) {
    char d[64];
    snprintf(d, sizeof d, "wasi errno %u, want EROFS (%u)", e, __WASI_ERRNO_ROFS);
    check(name, e == __WASI_ERRNO_ROFS, d);
}

/* The WASI descriptor of the preopen named `name`, or -1. */
static int preopen_fd(const char *name) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
        char buf[256];
        if (ps.u.dir.pr_name_len >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, ps.u.dir.pr_name_len) != 0) continue;
        buf[ps.u.dir.pr_name_len] = '\0';
        if (!strcmp(buf, name)) return (int)fd;
    }
    return -1;
}

static void libc_paths(void) {
    errno = 0;
    erofs("open-wronly", open(p(ro, "k.txt"), O_WRONLY));
    erofs("open-rdwr", open(p(ro, "k.txt"), O_RDWR));
    erofs("open-creat", open(p(ro, "new.txt"), O_WRONLY | O_CREAT, 0644));
    erofs("open-creat-excl", open(p(ro, "new2.txt"), O_RDWR | O_CREAT | O_EXCL, 0644));
    erofs("open-trunc", open(p(ro, "k.txt"), O_WRONLY | O_TRUNC));
    erofs("open-append", open(p(ro, "k.txt"), O_WRONLY | O_APPEND));
    FILE *f = fopen(p(ro, "k.txt"), "w");
    erofs("fopen-w", f ? 0 : -1);
    f = fopen(p(ro, "k.txt"), "a");
    erofs("fopen-a", f ? 0 : -1);
    f = fopen(p(ro, "k.txt"), "r+");
    erofs("fopen-r+", f ? 0 : -1);
    erofs("open-creat-subdir", open(p(ro, "dir/new.txt"), O_WRONLY | O_CREAT, 0644));
    erofs("unlink", unlink(p(ro, "k.txt")));
    erofs("unlink-subdir", unlink(p(ro, "dir/f.txt")));
    erofs("rename-within", rename(p(ro, "k.txt"), p(ro, "k2.txt")));
    erofs("rename-dir", rename(p(ro, "dir"), p(ro, "dir2")));
    erofs("link", link(p(ro, "k.txt"), p(ro, "k3.txt")));
    erofs("symlink", symlink("k.txt", p(ro, "sym")));
    erofs("mkdir", mkdir(p(ro, "newdir"), 0755));
    erofs("rmdir", rmdir(p(ro, "empty")));
    struct timespec ts[2] = {{0, 0}, {0, 0}};
    erofs("utimensat", utimensat(AT_FDCWD, p(ro, "k.txt"), ts, 0));
    erofs("utimensat-dir", utimensat(AT_FDCWD, p(ro, "dir"), ts, 0));
    if (rw[0]) {
        erofs("rename-into", rename(p(rw, "w.txt"), p(ro, "w.txt")));
        erofs("rename-out", rename(p(ro, "k.txt"), p(rw, "k.txt")));
        erofs("link-out", link(p(ro, "k.txt"), p(rw, "k.txt")));
        erofs("link-into", link(p(rw, "w.txt"), p(ro, "w.txt")));
    }

    /* an fd opened for reading, beneath the read-only tree */
    int fd = open(p(ro, "k.txt"), O_RDONLY);
    check("open-rdonly", fd >= 0, strerror(errno));
    if (fd >= 0) {
        char buf[16] = {0};
        check("read", read(fd, buf, sizeof buf) == 5 && !memcmp(buf, "keep\n", 5),
              "content differs");
        erofs("write", (int)write(fd, "x", 1));
        erofs("pwrite", (int)pwrite(fd, "x", 1, 0));
        erofs("ftruncate", ftruncate(fd, 0));
        erofs("futimens", futimens(fd, ts));
        int r = posix_fallocate(fd, 0, 100); /* returns the error */
        errno = r;
        erofs("posix_fallocate", r ? -1 : 0);
        close(fd);
    }
    int dfd = open(p(ro, "dir"), O_RDONLY | O_DIRECTORY);
    check("open-dir", dfd >= 0, strerror(errno));
    if (dfd >= 0) {
        erofs("openat-creat", openat(dfd, "g.txt", O_WRONLY | O_CREAT, 0644));
        erofs("unlinkat", unlinkat(dfd, "f.txt", 0));
        erofs("mkdirat", mkdirat(dfd, "sub", 0755));
        erofs("futimens-dir", futimens(dfd, ts));
        close(dfd);
    }
}

/* The same through the raw WASI calls, as a module that bypasses libc would make them. */
static void raw_paths(void) {
    int pre = preopen_fd(ro);
    char d[96];
    snprintf(d, sizeof d, "no preopen named %s", ro);
    check("raw-preopen", pre >= 0, d);
    if (pre < 0) return;
    __wasi_fdstat_t st;
    check("raw-fdstat", __wasi_fd_fdstat_get(pre, &st) == 0, "fd_fdstat_get failed");
    check("raw-preopen-rights",
          !(st.fs_rights_base &
            (__WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_UNLINK_FILE |
             __WASI_RIGHTS_PATH_CREATE_DIRECTORY | __WASI_RIGHTS_PATH_RENAME_TARGET |
             __WASI_RIGHTS_PATH_SYMLINK | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES)),
          "the read-only preopen holds rights that write");
    __wasi_fd_t nfd;
    __wasi_rights_t all = ~(__wasi_rights_t)0;
    wasi_erofs("raw-open-write",
               __wasi_path_open(pre, 0, "k.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE,
                                all, 0, &nfd));
    wasi_erofs("raw-open-trunc", __wasi_path_open(pre, 0, "k.txt", __WASI_OFLAGS_TRUNC,
                                                  __WASI_RIGHTS_FD_READ, all, 0, &nfd));
    wasi_erofs("raw-open-creat", __wasi_path_open(pre, 0, "n.txt", __WASI_OFLAGS_CREAT,
                                                  __WASI_RIGHTS_FD_READ, all, 0, &nfd));
    wasi_erofs(
        "raw-set-size-right",
        __wasi_path_open(pre, 0, "k.txt", 0, __WASI_RIGHTS_FD_FILESTAT_SET_SIZE, all, 0, &nfd));
    /* asking for every right but the file-writing ones: granted none that write */
    __wasi_rights_t ask = all & ~(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_DATASYNC |
                                  __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE);
    __wasi_errno_t e = __wasi_path_open(pre, 0, "dir", __WASI_OFLAGS_DIRECTORY, ask, all, 0, &nfd);
    check("raw-open-subdir", e == 0, "path_open of dir failed");
    if (e == 0) {
        __wasi_fdstat_t s2 = {0};
        check("raw-subdir-fdstat", __wasi_fd_fdstat_get(nfd, &s2) == 0, "fd_fdstat_get failed");
        check("raw-subdir-rights",
              !(s2.fs_rights_base &
                (__WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_UNLINK_FILE |
                 __WASI_RIGHTS_PATH_REMOVE_DIRECTORY | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES)),
              "a directory opened beneath holds rights that write");
        __wasi_fd_t xfd;
        wasi_erofs("raw-subdir-create", __wasi_path_open(nfd, 0, "x", __WASI_OFLAGS_CREAT,
                                                         __WASI_RIGHTS_FD_READ, all, 0, &xfd));
        wasi_erofs("raw-subdir-unlink", __wasi_path_unlink_file(nfd, "f.txt"));
        wasi_erofs("raw-subdir-mkdir", __wasi_path_create_directory(nfd, "m"));
        wasi_erofs("raw-subdir-symlink", __wasi_path_symlink("f.txt", nfd, "s"));
        wasi_erofs("raw-subdir-set-times",
                   __wasi_path_filestat_set_times(nfd, 0, "f.txt", 1, 1,
                                                  __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    }
    e = __wasi_path_open(pre, 0, "k.txt", 0, ask, all, 0, &nfd);
    check("raw-open-read", e == 0, "path_open for reading failed");
    if (e == 0) {
        __wasi_fdstat_t s3 = {0};
        check("raw-file-fdstat", __wasi_fd_fdstat_get(nfd, &s3) == 0, "fd_fdstat_get failed");
        check("raw-file-rights",
              !(s3.fs_rights_base &
                (__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ALLOCATE |
                 __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES)),
              "a file opened beneath holds rights that write");
        check("raw-set-rights-grow",
              __wasi_fd_fdstat_set_rights(nfd, s3.fs_rights_base | __WASI_RIGHTS_FD_WRITE,
                                          s3.fs_rights_inheriting) == __WASI_ERRNO_NOTCAPABLE,
              "fd_fdstat_set_rights added FD_WRITE");
        __wasi_ciovec_t iov = {(const uint8_t *)"x", 1};
        __wasi_size_t n;
        wasi_erofs("raw-fd-write", __wasi_fd_write(nfd, &iov, 1, &n));
        wasi_erofs("raw-fd-pwrite", __wasi_fd_pwrite(nfd, &iov, 1, 0, &n));
        wasi_erofs("raw-fd-allocate", __wasi_fd_allocate(nfd, 0, 10));
        wasi_erofs("raw-fd-set-size", __wasi_fd_filestat_set_size(nfd, 0));
        wasi_erofs("raw-fd-set-times", __wasi_fd_filestat_set_times(
                                           nfd, 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    }
    wasi_erofs("raw-rename", __wasi_path_rename(pre, "k.txt", pre, "z.txt"));
    wasi_erofs("raw-link", __wasi_path_link(pre, 0, "k.txt", pre, "z.txt"));
    wasi_erofs("raw-remove-directory", __wasi_path_remove_directory(pre, "empty"));
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: readonly RO_DIR [RW_DIR]\n");
        return 2;
    }
    snprintf(ro, sizeof ro, "%s", argv[1]);
    if (argc > 2) snprintf(rw, sizeof rw, "%s", argv[2]);
    libc_paths();
    raw_paths();
    printf("done %d\n", failures);
    return 0;
}
