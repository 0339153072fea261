/* Shared by the WASI sandbox guests (the .c files beside it, built with
 * clang --target=wasm32-wasi): raw WASI imports that take (pointer, length) so that a test can pass
 * what a C string cannot (a NUL inside a path, pointers past the end of memory), and the check
 * helpers. Each check prints one line, "ok NAME" or "FAIL NAME: got G want W";
 * tests/wasi/sandbox.sh counts them. The guest exits 1 if any check failed. */
#ifndef SANDBOX_CHECK_H
#define SANDBOX_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define RAW(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))

int32_t raw_path_open(int32_t fd, int32_t lookup, int32_t path, int32_t len, int32_t oflags,
                      int64_t base, int64_t inheriting, int32_t fdflags, int32_t result)
    RAW(path_open);
int32_t raw_path_filestat_get(int32_t fd, int32_t lookup, int32_t path, int32_t len, int32_t result)
    RAW(path_filestat_get);
int32_t raw_path_filestat_set_times(int32_t fd, int32_t lookup, int32_t path, int32_t len,
                                    int64_t atim, int64_t mtim, int32_t fst)
    RAW(path_filestat_set_times);
int32_t raw_path_create_directory(int32_t fd, int32_t path, int32_t len) RAW(path_create_directory);
int32_t raw_path_remove_directory(int32_t fd, int32_t path, int32_t len) RAW(path_remove_directory);
int32_t raw_path_unlink_file(int32_t fd, int32_t path, int32_t len) RAW(path_unlink_file);
int32_t raw_path_rename(int32_t fd, int32_t path, int32_t len, int32_t new_fd, int32_t new_path,
                        int32_t new_len) RAW(path_rename);
int32_t raw_path_link(int32_t fd, int32_t lookup, int32_t path, int32_t len, int32_t new_fd,
                      int32_t new_path, int32_t new_len) RAW(path_link);
int32_t raw_path_symlink(int32_t target, int32_t target_len, int32_t fd, int32_t path, int32_t len)
    RAW(path_symlink);
int32_t raw_path_readlink(int32_t fd, int32_t path, int32_t len, int32_t buf, int32_t buf_len,
                          int32_t result) RAW(path_readlink);
int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t result) RAW(fd_write);
int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t n, int32_t result) RAW(fd_read);
int32_t raw_fd_pread(int32_t fd, int32_t iovs, int32_t n, int64_t offset, int32_t result)
    RAW(fd_pread);
int32_t raw_fd_fdstat_get(int32_t fd, int32_t result) RAW(fd_fdstat_get);
int32_t raw_fd_filestat_get(int32_t fd, int32_t result) RAW(fd_filestat_get);
int32_t raw_fd_prestat_get(int32_t fd, int32_t result) RAW(fd_prestat_get);
int32_t raw_fd_prestat_dir_name(int32_t fd, int32_t buf, int32_t len) RAW(fd_prestat_dir_name);
int32_t raw_fd_readdir(int32_t fd, int32_t buf, int32_t len, int64_t cookie, int32_t result)
    RAW(fd_readdir);
int32_t raw_fd_seek(int32_t fd, int64_t offset, int32_t whence, int32_t result) RAW(fd_seek);
int32_t raw_fd_tell(int32_t fd, int32_t result) RAW(fd_tell);

#define PTR(p) ((int32_t)(uintptr_t)(p))

/* Bytes of linear memory: addresses at or past this are outside it. */
static inline uint32_t memory_end(void) {
    return (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
}

static int checks_failed, checks_passed;

static inline void expect(const char *name, int32_t got, int32_t want) {
    if (got == want) {
        printf("ok %s\n", name);
        checks_passed++;
    } else {
        printf("FAIL %s: got %d want %d\n", name, (int)got, (int)want);
        checks_failed++;
    }
}

static inline void expect_true(const char *name, int cond, const char *what) {
    if (cond) {
        printf("ok %s\n", name);
        checks_passed++;
    } else {
        printf("FAIL %s: %s\n", name, what);
        checks_failed++;
    }
}

static inline int finish(void) {
    printf("# %d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}

/* Closes an fd opened by a test; a failure is a failed check. */
static inline void close_fd(uint32_t fd) {
    int32_t e = __wasi_fd_close(fd);
    if (e) {
        printf("FAIL close %u: got %d\n", (unsigned)fd, (int)e);
        checks_failed++;
    }
}

/* ---- C-string conveniences over the raw calls ---- */

#define RIGHTS_FILE_READ                                                                           \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |                       \
     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR)
#define RIGHTS_FILE_RW                                                                             \
    (RIGHTS_FILE_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE |              \
     __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS)

static inline int32_t open_at(uint32_t dir, uint32_t lookup, const char *path, uint32_t oflags,
                              uint64_t base, uint32_t *fd) {
    return raw_path_open((int32_t)dir, (int32_t)lookup, PTR(path), (int32_t)strlen(path),
                         (int32_t)oflags, (int64_t)base, (int64_t)base, 0, PTR(fd));
}

/* Opens, expects `want`, and closes what was opened. */
static inline void expect_open(const char *name, uint32_t dir, uint32_t lookup, const char *path,
                               uint32_t oflags, int32_t want) {
    uint32_t fd = 0;
    int32_t e = open_at(dir, lookup, path, oflags, RIGHTS_FILE_READ, &fd);
    expect(name, e, want);
    if (e == 0) close_fd(fd);
}

static inline int32_t stat_at(uint32_t dir, uint32_t lookup, const char *path,
                              __wasi_filestat_t *st) {
    return raw_path_filestat_get((int32_t)dir, (int32_t)lookup, PTR(path), (int32_t)strlen(path),
                                 PTR(st));
}

static inline int32_t mkdir_at(uint32_t dir, const char *path) {
    return raw_path_create_directory((int32_t)dir, PTR(path), (int32_t)strlen(path));
}

static inline int32_t rmdir_at(uint32_t dir, const char *path) {
    return raw_path_remove_directory((int32_t)dir, PTR(path), (int32_t)strlen(path));
}

static inline int32_t unlink_at(uint32_t dir, const char *path) {
    return raw_path_unlink_file((int32_t)dir, PTR(path), (int32_t)strlen(path));
}

static inline int32_t rename_at(uint32_t dir, const char *from, uint32_t to_dir, const char *to) {
    return raw_path_rename((int32_t)dir, PTR(from), (int32_t)strlen(from), (int32_t)to_dir, PTR(to),
                           (int32_t)strlen(to));
}

static inline int32_t link_at(uint32_t dir, uint32_t lookup, const char *from, uint32_t to_dir,
                              const char *to) {
    return raw_path_link((int32_t)dir, (int32_t)lookup, PTR(from), (int32_t)strlen(from),
                         (int32_t)to_dir, PTR(to), (int32_t)strlen(to));
}

static inline int32_t symlink_at(const char *target, uint32_t dir, const char *path) {
    return raw_path_symlink(PTR(target), (int32_t)strlen(target), (int32_t)dir, PTR(path),
                            (int32_t)strlen(path));
}

static inline int32_t readlink_at(uint32_t dir, const char *path, char *buf, uint32_t len,
                                  uint32_t *used) {
    return raw_path_readlink((int32_t)dir, PTR(path), (int32_t)strlen(path), PTR(buf), (int32_t)len,
                             PTR(used));
}

/* Reads up to len-1 bytes of a file into buf (NUL-terminated). */
static inline int32_t read_file(uint32_t dir, uint32_t lookup, const char *path, char *buf,
                                size_t len) {
    uint32_t fd;
    int32_t e = open_at(dir, lookup, path, 0, RIGHTS_FILE_READ, &fd);
    if (e) return e;
    __wasi_iovec_t iov = {(uint8_t *)buf, len - 1};
    size_t n = 0;
    e = __wasi_fd_read(fd, &iov, 1, &n);
    buf[e ? 0 : n] = '\0';
    close_fd(fd);
    return e;
}

/* The fd of the preopened directory the guest sees as `name`. */
static inline uint32_t find_preopen(const char *name) {
    for (uint32_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
        char buf[256] = {0};
        if (ps.u.dir.pr_name_len >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, ps.u.dir.pr_name_len) != 0) continue;
        if (!strcmp(buf, name)) return fd;
    }
    printf("FAIL setup: no preopen named %s\n", name);
    checks_failed++;
    return (uint32_t)-1;
}

#endif
