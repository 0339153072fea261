/* The WASI descriptor table and guest memory: running out of descriptors (EMFILE) and recovering,
 * rights that only narrow, pointers outside linear memory (EFAULT, never a host crash), flags
 * really applied, directory listings, and closing or renumbering the preopen itself (last, since
 * it takes the sandbox root away). Run by tests/wasi/sandbox.sh on the tree described in escape.c.
 */
#include <stdlib.h>

#include "check.h"

static uint32_t root;

static void exhaustion(void) {
    static uint32_t fds[8192];
    uint32_t n = 0;
    int32_t e = 0;
    while (n < 8192 && (e = open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fds[n])) == 0) n++;
    expect("emfile", e, __WASI_ERRNO_MFILE);
    /* the guest's table (4096 entries; 0-2 stdio, 3 the preopen) is full, not the host's */
    expect_true("emfile-table-limit", n == 4096 - 4, "EMFILE before the table limit of 4096");
    printf("# %u descriptors opened before EMFILE\n", (unsigned)n);
    /* a full table creates nothing */
    uint32_t fd;
    expect("emfile-no-create", open_at(root, 0, "created.txt", __WASI_OFLAGS_CREAT, 0, &fd),
           __WASI_ERRNO_MFILE);
    __wasi_filestat_t st;
    expect("emfile-nothing-created", stat_at(root, 0, "created.txt", &st), __WASI_ERRNO_NOENT);
    /* other calls still work while full */
    expect("emfile-stat-works", stat_at(root, 0, "file.txt", &st), 0);
    int closed_ok = 1;
    for (uint32_t i = 0; i < n; i++) closed_ok &= __wasi_fd_close(fds[i]) == 0;
    expect_true("emfile-close-all", closed_ok, "a close failed");
    char buf[16];
    expect("emfile-recovered", read_file(root, 0, "file.txt", buf, sizeof buf), 0);
    expect_true("emfile-recovered-content", !strcmp(buf, "hello"), "wrong content");
    /* the lowest free number is reused */
    expect("emfile-reuse", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fd), 0);
    expect_true("emfile-reuse-lowest", fd == fds[0], "not the lowest free descriptor");
    close_fd(fd);
}

static void bad_fds(void) {
    uint32_t fd;
    char b[4];
    __wasi_iovec_t iov = {(uint8_t *)b, sizeof b};
    size_t n;
    expect("badf-read", __wasi_fd_read(9999, &iov, 1, &n), __WASI_ERRNO_BADF);
    expect("badf-huge", __wasi_fd_read(0x7fffffff, &iov, 1, &n), __WASI_ERRNO_BADF);
    expect("badf-path-open", open_at(9999, 0, "file.txt", 0, 0, &fd), __WASI_ERRNO_BADF);
    expect("open-for-close", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fd), 0);
    expect("close-once", __wasi_fd_close(fd), 0);
    expect("close-twice", __wasi_fd_close(fd), __WASI_ERRNO_BADF);
    expect("open-file-as-dir", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fd), 0);
    uint32_t fd2;
    expect("path-open-on-file", open_at(fd, 0, "x", 0, 0, &fd2), __WASI_ERRNO_NOTDIR);
    expect("mkdir-on-file", mkdir_at(fd, "x"), __WASI_ERRNO_NOTDIR);
    close_fd(fd);
    uint32_t dir;
    expect("open-dir", open_at(root, 0, "dir", __WASI_OFLAGS_DIRECTORY, RIGHTS_FILE_READ, &dir), 0);
    __wasi_filesize_t pos;
    __wasi_fdstat_t fst;
    expect("open-dir-fdstat", __wasi_fd_fdstat_get(dir, &fst), 0);
    expect_true("open-dir-no-seek-right", !(fst.fs_rights_base & __WASI_RIGHTS_FD_SEEK),
                "a directory got the seek right");
    expect("seek-dir", __wasi_fd_seek(dir, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE);
    expect("read-dir", __wasi_fd_read(dir, &iov, 1, &n), __WASI_ERRNO_BADF);
    close_fd(dir);
    expect("open-dir-for-write",
           open_at(root, 0, "dir", __WASI_OFLAGS_DIRECTORY, RIGHTS_FILE_RW, &dir),
           __WASI_ERRNO_ISDIR);
    expect("open-dir-write-no-oflag", open_at(root, 0, "dir", 0, RIGHTS_FILE_RW, &dir),
           __WASI_ERRNO_ISDIR);
    expect("open-directory-creat",
           open_at(root, 0, "nd", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, 0, &dir),
           __WASI_ERRNO_INVAL);
    expect("open-directory-on-file", open_at(root, 0, "file.txt", __WASI_OFLAGS_DIRECTORY, 0, &dir),
           __WASI_ERRNO_NOTDIR);
    expect("open-excl-exists",
           open_at(root, 0, "file.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd),
           __WASI_ERRNO_EXIST);
}

static void rights(void) {
    __wasi_fdstat_t fst;
    uint32_t fd, dir;
    size_t n;
    expect("preopen-fdstat", __wasi_fd_fdstat_get(root, &fst), 0);
    expect_true("preopen-rights",
                (fst.fs_rights_base & __WASI_RIGHTS_PATH_OPEN) &&
                    (fst.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE),
                "preopen lacks path_open or inheritable fd_write");
    /* a read-only descriptor cannot write */
    expect("rights-open-ro", open_at(root, 0, "file.txt", 0, __WASI_RIGHTS_FD_READ, &fd), 0);
    __wasi_ciovec_t civ = {(const uint8_t *)"x", 1};
    expect("rights-write-denied", __wasi_fd_write(fd, &civ, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    __wasi_filesize_t pos;
    expect("rights-seek-denied", __wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos),
           __WASI_ERRNO_NOTCAPABLE);
    /* rights can be dropped, never regained */
    expect("rights-widen-refused",
           __wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0),
           __WASI_ERRNO_NOTCAPABLE);
    expect("rights-narrow", __wasi_fd_fdstat_set_rights(fd, 0, 0), 0);
    char b[4];
    __wasi_iovec_t iov = {(uint8_t *)b, sizeof b};
    expect("rights-read-dropped", __wasi_fd_read(fd, &iov, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    expect("rights-regain-refused", __wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ, 0),
           __WASI_ERRNO_NOTCAPABLE);
    close_fd(fd);
    /* a directory hands on at most its inheriting rights */
    expect("rights-dir-narrow-inheriting",
           raw_path_open((int32_t)root, 0, PTR("dir"), 3, __WASI_OFLAGS_DIRECTORY,
                         (int64_t)(__WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_FILESTAT_GET),
                         (int64_t)__WASI_RIGHTS_FD_READ, 0, PTR(&dir)),
           0);
    expect("rights-inherited-open",
           open_at(dir, 0, "inner.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, &fd), 0);
    expect("rights-inherited-fdstat", __wasi_fd_fdstat_get(fd, &fst), 0);
    expect_true("rights-inherited-intersection", fst.fs_rights_base == __WASI_RIGHTS_FD_READ,
                "rights beyond the directory's inheriting rights");
    expect("rights-inherited-write-denied", __wasi_fd_write(fd, &civ, 1, &n),
           __WASI_ERRNO_NOTCAPABLE);
    close_fd(fd);
    /* path operations need the directory's own rights */
    expect("rights-no-create", open_at(dir, 0, "new.txt", __WASI_OFLAGS_CREAT, 0, &fd),
           __WASI_ERRNO_NOTCAPABLE);
    expect("rights-no-trunc", open_at(dir, 0, "inner.txt", __WASI_OFLAGS_TRUNC, 0, &fd),
           __WASI_ERRNO_NOTCAPABLE);
    expect("rights-no-unlink", unlink_at(dir, "inner.txt"), __WASI_ERRNO_NOTCAPABLE);
    expect("rights-no-mkdir", mkdir_at(dir, "x"), __WASI_ERRNO_NOTCAPABLE);
    expect("rights-no-symlink", symlink_at("inner.txt", dir, "l"), __WASI_ERRNO_NOTCAPABLE);
    expect("rights-no-rename", rename_at(dir, "inner.txt", root, "moved.txt"),
           __WASI_ERRNO_NOTCAPABLE);
    expect("rights-no-link-target", link_at(root, 0, "file.txt", dir, "h"),
           __WASI_ERRNO_NOTCAPABLE);
    uint8_t buf[64];
    expect("rights-no-readdir", __wasi_fd_readdir(dir, buf, sizeof buf, 0, &n),
           __WASI_ERRNO_NOTCAPABLE);
    expect("rights-drop-path-open",
           __wasi_fd_fdstat_set_rights(dir, __WASI_RIGHTS_PATH_FILESTAT_GET, 0), 0);
    expect("rights-no-path-open", open_at(dir, 0, "inner.txt", 0, 0, &fd), __WASI_ERRNO_NOTCAPABLE);
    __wasi_filestat_t st;
    expect("rights-stat-kept", stat_at(dir, 0, "inner.txt", &st), 0);
    close_fd(dir);
}

static void faults(void) {
    uint32_t end = memory_end(), fd;
    int32_t n32;
    /* iovec array, buffers and results outside memory */
    expect("efault-iovec-array", raw_fd_write(1, (int32_t)(end - 4), 1, PTR(&n32)),
           __WASI_ERRNO_FAULT);
    static __wasi_ciovec_t civ;
    civ.buf = (const uint8_t *)(uintptr_t)(end - 8);
    civ.buf_len = 16;
    expect("efault-iovec-past-end", raw_fd_write(1, PTR(&civ), 1, PTR(&n32)), __WASI_ERRNO_FAULT);
    civ.buf = (const uint8_t *)(uintptr_t)0xfffffff0u;
    civ.buf_len = 0x20;
    expect("efault-iovec-wraps", raw_fd_write(1, PTR(&civ), 1, PTR(&n32)), __WASI_ERRNO_FAULT);
    civ.buf = (const uint8_t *)"ab";
    civ.buf_len = 2;
    expect("efault-write-result", raw_fd_write(1, PTR(&civ), 1, (int32_t)end), __WASI_ERRNO_FAULT);
    expect("efault-open-read", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_RW, &fd), 0);
    static __wasi_iovec_t iov;
    iov.buf = (uint8_t *)(uintptr_t)(end - 2);
    iov.buf_len = 4;
    expect("efault-read-buffer", raw_fd_read((int32_t)fd, PTR(&iov), 1, PTR(&n32)),
           __WASI_ERRNO_FAULT);
    static char b[8];
    iov.buf = (uint8_t *)b;
    iov.buf_len = 4;
    expect("efault-read-result", raw_fd_read((int32_t)fd, PTR(&iov), 1, (int32_t)(end - 1)),
           __WASI_ERRNO_FAULT);
    uint64_t pos = 99;
    expect("efault-read-consumed-nothing", raw_fd_tell((int32_t)fd, PTR(&pos)), 0);
    expect_true("efault-read-position", pos == 0, "a faulting read moved the position");
    expect("efault-pread-result", raw_fd_pread((int32_t)fd, PTR(&iov), 1, 0, (int32_t)end),
           __WASI_ERRNO_FAULT);
    expect("efault-seek-result", raw_fd_seek((int32_t)fd, 0, __WASI_WHENCE_SET, (int32_t)end - 7),
           __WASI_ERRNO_FAULT);
    expect("efault-fdstat", raw_fd_fdstat_get((int32_t)fd, (int32_t)end - 23), __WASI_ERRNO_FAULT);
    expect("efault-filestat", raw_fd_filestat_get((int32_t)fd, (int32_t)end - 63),
           __WASI_ERRNO_FAULT);
    close_fd(fd);
    /* paths and their results */
    expect("efault-path",
           raw_path_open((int32_t)root, 0, (int32_t)(end - 3), 8, 0, 0, 0, 0, PTR(&fd)),
           __WASI_ERRNO_FAULT);
    expect("efault-path-wraps",
           raw_path_open((int32_t)root, 0, (int32_t)0xfffffffe, 8, 0, 0, 0, 0, PTR(&fd)),
           __WASI_ERRNO_FAULT);
    expect("efault-open-result",
           raw_path_open((int32_t)root, 0, PTR("fault.txt"), 9, __WASI_OFLAGS_CREAT, 0, 0, 0,
                         (int32_t)end),
           __WASI_ERRNO_FAULT);
    __wasi_filestat_t st;
    expect("efault-open-nothing-created", stat_at(root, 0, "fault.txt", &st), __WASI_ERRNO_NOENT);
    expect("efault-path-stat-result",
           raw_path_filestat_get((int32_t)root, 0, PTR("file.txt"), 8, (int32_t)end - 8),
           __WASI_ERRNO_FAULT);
    expect("efault-readlink-buffer",
           raw_path_readlink((int32_t)root, PTR("link_in"), 7, (int32_t)end - 2, 16, PTR(&n32)),
           __WASI_ERRNO_FAULT);
    expect("efault-symlink-target",
           raw_path_symlink((int32_t)end - 1, 4, (int32_t)root, PTR("l"), 1), __WASI_ERRNO_FAULT);
    expect("efault-readdir-buffer",
           raw_fd_readdir((int32_t)root, (int32_t)end - 10, 64, 0, PTR(&n32)), __WASI_ERRNO_FAULT);
    expect("efault-prestat", raw_fd_prestat_get((int32_t)root, (int32_t)end - 4),
           __WASI_ERRNO_FAULT);
    expect("efault-prestat-name", raw_fd_prestat_dir_name((int32_t)root, (int32_t)end, 1),
           __WASI_ERRNO_FAULT);
    expect("einval-too-many-iovecs", raw_fd_write(1, PTR(&civ), 100000, PTR(&n32)),
           __WASI_ERRNO_INVAL);
}

static void flags_and_io(void) {
    uint32_t fd;
    size_t n;
    __wasi_fdstat_t fst;
    expect("append-open", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_RW, &fd), 0);
    expect("append-set", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
    expect("append-fdstat", __wasi_fd_fdstat_get(fd, &fst), 0);
    expect_true("append-flag-shown", fst.fs_flags == __WASI_FDFLAGS_APPEND, "flags not reported");
    __wasi_ciovec_t civ = {(const uint8_t *)"!", 1};
    expect("append-write", __wasi_fd_write(fd, &civ, 1, &n), 0);
    __wasi_filestat_t st;
    expect("append-filestat", __wasi_fd_filestat_get(fd, &st), 0);
    expect_true("append-at-end", st.size == 6,
                "APPEND not applied: the write did not go to the end");
    expect("append-clear", __wasi_fd_fdstat_set_flags(fd, 0), 0);
    __wasi_filesize_t pos;
    expect("append-seek", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
    civ.buf = (const uint8_t *)"H";
    expect("append-cleared-write", __wasi_fd_write(fd, &civ, 1, &n), 0);
    char buf[16] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    expect("pread", __wasi_fd_pread(fd, &iov, 1, 0, &n), 0);
    expect_true("pread-content", n == 6 && !memcmp(buf, "Hello!", 6), "wrong content");
    expect("nonblock-set", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK), 0);
    expect("nonblock-fdstat", __wasi_fd_fdstat_get(fd, &fst), 0);
    expect_true("nonblock-flag-shown", fst.fs_flags == __WASI_FDFLAGS_NONBLOCK,
                "flags not reported");
    expect("sync-flag-change-refused", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC),
           __WASI_ERRNO_INVAL);
    expect("truncate", __wasi_fd_filestat_set_size(fd, 5), 0);
    expect("truncate-stat", __wasi_fd_filestat_get(fd, &st), 0);
    expect_true("truncate-size", st.size == 5, "size not changed");
    close_fd(fd);
}

/* Reads the whole listing of dir with a buffer of `size` bytes per call. */
static uint64_t last_cookie;

static int list_dir(uint32_t dir, size_t size, char names[][64], int max, int *count) {
    uint64_t cookie = 0;
    static uint8_t buf[4096];
    *count = 0;
    for (;;) {
        size_t used;
        int32_t e = __wasi_fd_readdir(dir, buf, size, cookie, &used);
        if (e) return e;
        size_t at = 0;
        while (at + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + at, sizeof d);
            if (at + sizeof d + d.d_namlen > used) break; /* truncated: resume at this entry */
            if (*count < max) {
                size_t k = d.d_namlen < 63 ? d.d_namlen : 63;
                memcpy(names[*count], buf + at + sizeof d, k);
                names[*count][k] = '\0';
            }
            (*count)++;
            cookie = d.d_next;
            at += sizeof d + d.d_namlen;
        }
        if (used < size) {
            last_cookie = cookie;
            return 0;
        }
    }
}

static void readdir_cookies(void) {
    char names[64][64];
    int count;
    expect("readdir-big", list_dir(root, 4096, names, 64, &count), 0);
    expect_true("readdir-dot-first",
                count >= 2 && !strcmp(names[0], ".") && !strcmp(names[1], ".."),
                "listing does not start with . and ..");
    int big = count, found = 0;
    for (int i = 0; i < count && i < 64; i++) found += !strcmp(names[i], "file.txt");
    expect_true("readdir-has-file", found == 1, "file.txt not listed once");
    expect("readdir-small-buffer", list_dir(root, 40, names, 64, &count), 0);
    expect_true("readdir-small-same-count", count == big, "different entries with a small buffer");
    size_t used;
    uint8_t tiny[10];
    expect("readdir-truncated", __wasi_fd_readdir(root, tiny, sizeof tiny, 0, &used), 0);
    expect_true("readdir-truncated-full", used == sizeof tiny, "a full buffer must be reported");
    expect("readdir-past-end", __wasi_fd_readdir(root, tiny, sizeof tiny, last_cookie, &used), 0);
    expect_true("readdir-past-end-empty", used == 0, "entries after the end");
    uint32_t fd;
    expect("readdir-open-file", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fd), 0);
    expect("readdir-on-file", __wasi_fd_readdir(fd, tiny, sizeof tiny, 0, &used),
           __WASI_ERRNO_NOTDIR);
    close_fd(fd);
}

/* Last: the preopen itself can be renumbered and closed, after which it is gone. */
static void preopen_close_renumber(void) {
    uint32_t fd, other;
    __wasi_prestat_t ps;
    expect("renumber-open", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fd), 0);
    expect("renumber-from-preopen", __wasi_fd_renumber(root, fd), 0);
    expect("renumber-preopen-moved", __wasi_fd_prestat_get(fd, &ps), 0);
    expect("renumber-old-number-free", __wasi_fd_prestat_get(root, &ps), __WASI_ERRNO_BADF);
    expect("renumber-moved-still-works", open_at(fd, 0, "file.txt", 0, RIGHTS_FILE_READ, &other),
           0);
    /* `other` took the lowest free number, which is the preopen's old one */
    expect_true("renumber-lowest-free", other == root, "freed preopen number not reused");
    expect("renumber-to-closed", __wasi_fd_renumber(fd, 9999), __WASI_ERRNO_BADF);
    expect("renumber-back", __wasi_fd_renumber(fd, root), 0);
    expect("renumber-back-prestat", __wasi_fd_prestat_get(root, &ps), 0);
    expect("renumber-source-gone", __wasi_fd_prestat_get(fd, &ps), __WASI_ERRNO_BADF);
    expect("renumber-onto-preopen-open", open_at(root, 0, "file.txt", 0, RIGHTS_FILE_READ, &fd), 0);
    uint32_t dir;
    expect("renumber-keep-dir",
           open_at(root, 0, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_PATH_OPEN, &dir), 0);
    expect("renumber-onto-preopen", __wasi_fd_renumber(fd, root), 0);
    expect("renumber-onto-preopen-gone", __wasi_fd_prestat_get(root, &ps), __WASI_ERRNO_BADF);
    __wasi_fdstat_t fst;
    expect("renumber-onto-preopen-file", __wasi_fd_fdstat_get(root, &fst), 0);
    expect_true("renumber-onto-preopen-type", fst.fs_filetype == __WASI_FILETYPE_REGULAR_FILE,
                "the preopen number does not hold the file");
    expect("close-preopen-number", __wasi_fd_close(root), 0);
    expect("closed-preopen-open", open_at(root, 0, "file.txt", 0, 0, &fd), __WASI_ERRNO_BADF);
    expect("closed-preopen-prestat", __wasi_fd_prestat_get(root, &ps), __WASI_ERRNO_BADF);
    expect("closed-preopen-stat", mkdir_at(root, "x"), __WASI_ERRNO_BADF);
    /* the directory opened through it lives on, still inside */
    expect_open("closed-preopen-dir-lives", dir, 0, "file.txt", 0, 0);
    expect_open("closed-preopen-dir-sandboxed", dir, 0, "../secret.txt", 0,
                __WASI_ERRNO_NOTCAPABLE);
    close_fd(dir);
}

int main(void) {
    root = find_preopen("/");
    if (root == (uint32_t)-1) return finish();
    exhaustion();
    bad_fds();
    rights();
    faults();
    flags_and_io();
    readdir_cookies();
    preopen_close_renumber();
    return finish();
}
