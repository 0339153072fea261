/* WASI: the fd_* functions — reading and writing (files, pipes, sockets), seeking, metadata,
 * directory listings, flags and rights of descriptors, preopen descriptions, renumbering.
 *
 * Directory listings as wasmtime's: "." and ".." first (d_next 1 and 2), then the entries, each
 * d_next the cookie to resume after it, and entries that do not fit written truncated. Past "..",
 * a cookie is the host directory's own position (telldir) + 3 rather than wasmtime's entry index:
 * resuming is a seekdir, not a re-read, and it stays right when entries come and go between
 * calls. Stdio descriptors are borrowed from the host, so fd_fdstat_set_flags only records
 * APPEND and NONBLOCK for them (changing the host's shared file description would leave e.g. a
 * terminal non-blocking after we exit); reads and writes then honour NONBLOCK with poll(2). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/resolve.h"
#include "wasi/wasi_internal.h"

#define FDFLAGS_ALL                                                                                \
    (WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_RSYNC |           \
     WASI_FDFLAG_SYNC)
#define FDFLAGS_SYNC (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)
#define FSTFLAGS_ALL                                                                               \
    (WASI_FSTFLAG_ATIM | WASI_FSTFLAG_ATIM_NOW | WASI_FSTFLAG_MTIM | WASI_FSTFLAG_MTIM_NOW)

/* ---- metadata helpers (also used by path.c) ---- */

uint8_t wasi_filetype_of_mode(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN; /* FIFOs: WASI has no type for them */
    }
}

static uint64_t timestamp_of(struct timespec ts) {
    if (ts.tv_sec < 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void wasi_put_filestat(wasi_mem *m, uint32_t p, const struct stat *st) {
    memset(m->base + p, 0, WASI_FILESTAT_SIZE);
    wasi_store64(m, p + 0, (uint64_t)st->st_dev);
    wasi_store64(m, p + 8, (uint64_t)st->st_ino);
    wasi_store8(m, p + 16, wasi_filetype_of_mode(st->st_mode));
    wasi_store64(m, p + 24, (uint64_t)st->st_nlink);
    wasi_store64(m, p + 32, (uint64_t)st->st_size);
    wasi_store64(m, p + 40, timestamp_of(st->st_atim));
    wasi_store64(m, p + 48, timestamp_of(st->st_mtim));
    wasi_store64(m, p + 56, timestamp_of(st->st_ctim));
}

static struct timespec timespec_of(uint64_t ns) {
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

uint16_t wasi_timespecs(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]) {
    if ((fst & ~(uint32_t)FSTFLAGS_ALL) ||
        ((fst & WASI_FSTFLAG_ATIM) && (fst & WASI_FSTFLAG_ATIM_NOW)) ||
        ((fst & WASI_FSTFLAG_MTIM) && (fst & WASI_FSTFLAG_MTIM_NOW)))
        return WASI_EINVAL;
    ts[0] = (fst & WASI_FSTFLAG_ATIM_NOW) ? (struct timespec){.tv_nsec = UTIME_NOW}
            : (fst & WASI_FSTFLAG_ATIM)   ? timespec_of(atim)
                                          : (struct timespec){.tv_nsec = UTIME_OMIT};
    ts[1] = (fst & WASI_FSTFLAG_MTIM_NOW) ? (struct timespec){.tv_nsec = UTIME_NOW}
            : (fst & WASI_FSTFLAG_MTIM)   ? timespec_of(mtim)
                                          : (struct timespec){.tv_nsec = UTIME_OMIT};
    return 0;
}

/* ---- helpers ---- */

static int ret_errno(wb_slot *s) {
    return wasi_ret(s, wasi_errno(errno));
}

/* The entry of a file-like fd (not a directory) holding `rights`. */
static wasi_fd *io_fd(wb_wasi *w, uint32_t fd, uint64_t rights, uint16_t *e) {
    wasi_fd *f = wasi_fd_check(w, fd, rights, e);
    if (f && f->kind == WFD_DIR) {
        *e = WASI_EBADF;
        return NULL;
    }
    return f;
}

/* Emulated NONBLOCK on a borrowed descriptor: EAGAIN unless ready for `events` now. */
static uint16_t nonblock_ready(const wasi_fd *f, short events) {
    if (f->mem || f->owned || !(f->fdflags & WASI_FDFLAG_NONBLOCK)) return 0;
    struct pollfd p = {.fd = f->host, .events = events};
    int r = poll(&p, 1, 0);
    if (r < 0) return wasi_errno(errno);
    return r == 0 ? WASI_EAGAIN : 0;
}

/* ---- functions ---- */

static int fd_advise(wb_caller *c, void *env, wb_slot *s) {
    static const int host_advice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL,
                                      POSIX_FADV_RANDOM,   POSIX_FADV_WILLNEED,
                                      POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    uint16_t e;
    wasi_fd *f = io_fd(env, s[0].u32, WASI_RIGHT_FD_ADVISE, &e);
    if (!f) return wasi_ret(s, e);
    uint64_t offset = s[1].u64, len = s[2].u64;
    uint32_t advice = s[3].u32;
    if (advice > WASI_ADVICE_NOREUSE || offset > INT64_MAX || len > INT64_MAX)
        return wasi_ret(s, WASI_EINVAL);
    int r = posix_fadvise(f->host, (off_t)offset, (off_t)len, host_advice[advice]);
    return wasi_ret(s, r ? wasi_errno(r) : 0);
}

static int fd_allocate(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = io_fd(env, s[0].u32, WASI_RIGHT_FD_ALLOCATE, &e);
    if (!f) return wasi_ret(s, e);
    uint64_t offset = s[1].u64, len = s[2].u64;
    if (offset > INT64_MAX || len > INT64_MAX || offset + len > INT64_MAX)
        return wasi_ret(s, WASI_EFBIG);
    int r = posix_fallocate(f->host, (off_t)offset, (off_t)len);
    return wasi_ret(s, r ? wasi_errno(r) : 0);
}

static int fd_close(wb_caller *c, void *env, wb_slot *s) {
    wasi_fd *f = wasi_fd_get(env, s[0].u32);
    if (!f) return wasi_ret(s, WASI_EBADF);
    wasi_fd_release(f);
    return wasi_ret(s, 0);
}

static int fd_datasync(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(env, s[0].u32, WASI_RIGHT_FD_DATASYNC, &e);
    if (!f) return wasi_ret(s, e);
    return fdatasync(f->host) != 0 ? ret_errno(s) : wasi_ret(s, 0);
}

static int fd_sync(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(env, s[0].u32, WASI_RIGHT_FD_SYNC, &e);
    if (!f) return wasi_ret(s, e);
    return fsync(f->host) != 0 ? ret_errno(s) : wasi_ret(s, 0);
}

static int fd_fdstat_get(wb_caller *c, void *env, wb_slot *s) {
    wasi_fd *f = wasi_fd_get(env, s[0].u32);
    if (!f) return wasi_ret(s, WASI_EBADF);
    wasi_mem m = wasi_memory(c);
    uint32_t p = s[1].u32;
    if (!wasi_in_bounds(&m, p, WASI_FDSTAT_SIZE)) return wasi_ret(s, WASI_EFAULT);
    memset(m.base + p, 0, WASI_FDSTAT_SIZE);
    wasi_store8(&m, p, f->filetype);
    wasi_store16(&m, p + 2, f->fdflags);
    wasi_store64(&m, p + 8, f->rights_base);
    wasi_store64(&m, p + 16, f->rights_inheriting);
    return wasi_ret(s, 0);
}

static int fd_fdstat_set_flags(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(env, s[0].u32, WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &e);
    if (!f) return wasi_ret(s, e);
    uint32_t flags = s[1].u32;
    if (flags & ~(uint32_t)FDFLAGS_ALL) return wasi_ret(s, WASI_EINVAL);
    /* Linux cannot change O_DSYNC/O_SYNC on an open file; as wasmtime, only APPEND and NONBLOCK
     * change (the sync flags may be passed back unchanged, as F_GETFL|O_NONBLOCK does). */
    if ((flags & FDFLAGS_SYNC) != (f->fdflags & FDFLAGS_SYNC)) return wasi_ret(s, WASI_EINVAL);
    if (f->owned) {
        int fl = fcntl(f->host, F_GETFL);
        if (fl < 0) return ret_errno(s);
        int nfl = fl & ~(O_APPEND | O_NONBLOCK);
        if (flags & WASI_FDFLAG_APPEND) nfl |= O_APPEND;
        if (flags & WASI_FDFLAG_NONBLOCK) nfl |= O_NONBLOCK;
        if (nfl != fl && fcntl(f->host, F_SETFL, nfl) != 0) return ret_errno(s);
    }
    f->fdflags = (uint16_t)flags;
    return wasi_ret(s, 0);
}

static int fd_fdstat_set_rights(wb_caller *c, void *env, wb_slot *s) {
    wasi_fd *f = wasi_fd_get(env, s[0].u32);
    if (!f) return wasi_ret(s, WASI_EBADF);
    uint64_t base = s[1].u64, inheriting = s[2].u64;
    if ((base & ~f->rights_base) || (inheriting & ~f->rights_inheriting))
        return wasi_ret(s, WASI_ENOTCAPABLE); /* rights only ever shrink */
    f->rights_base = base;
    f->rights_inheriting = inheriting;
    return wasi_ret(s, 0);
}

static int fd_filestat_get(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(env, s[0].u32, WASI_RIGHT_FD_FILESTAT_GET, &e);
    if (!f) return wasi_ret(s, e);
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, s[1].u32, WASI_FILESTAT_SIZE)) return wasi_ret(s, WASI_EFAULT);
    struct stat st;
    if (f->mem) { /* as a pipe: a FIFO of nothing */
        memset(&st, 0, sizeof st);
        st.st_mode = S_IFIFO | 0600;
    } else if (fstat(f->host, &st) != 0) {
        return ret_errno(s);
    }
    wasi_put_filestat(&m, s[1].u32, &st);
    return wasi_ret(s, 0);
}

static int fd_filestat_set_size(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = io_fd(env, s[0].u32, WASI_RIGHT_FD_FILESTAT_SET_SIZE, &e);
    if (!f) return wasi_ret(s, e);
    if (s[1].u64 > INT64_MAX) return wasi_ret(s, WASI_EFBIG);
    return ftruncate(f->host, (off_t)s[1].u64) != 0 ? ret_errno(s) : wasi_ret(s, 0);
}

static int fd_filestat_set_times(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(env, s[0].u32, WASI_RIGHT_FD_FILESTAT_SET_TIMES, &e);
    if (!f) return wasi_ret(s, e);
    struct timespec ts[2];
    if ((e = wasi_timespecs(s[1].u64, s[2].u64, s[3].u32, ts)) != 0) return wasi_ret(s, e);
    return futimens(f->host, ts) != 0 ? ret_errno(s) : wasi_ret(s, 0);
}

/* Shared part of the four read/write calls: the fd, its iovecs and the result pointer, checked. */
static uint16_t io_setup(wb_caller *c, wb_wasi *w, wb_slot *s, uint64_t rights, uint32_t result,
                         wasi_fd **f, wasi_mem *m, struct iovec *iov) {
    uint16_t e;
    if (!(*f = io_fd(w, s[0].u32, rights, &e))) return e;
    *m = wasi_memory(c);
    if ((e = wasi_iovecs(m, s[1].u32, s[2].u32, iov)) != 0) return e;
    if (!wasi_in_bounds(m, result, 4)) return WASI_EFAULT;
    return 0;
}

static int fd_read(wb_caller *c, void *env, wb_slot *s) {
    struct iovec small[WASI_IOVS_ON_STACK], *iov = wasi_iov_room(env, s[2].u32, small);
    wasi_fd *f;
    wasi_mem m;
    uint16_t e = io_setup(c, env, s, WASI_RIGHT_FD_READ, s[3].u32, &f, &m, iov);
    if (!e) e = nonblock_ready(f, POLLIN);
    if (e) return wasi_ret(s, e);
    if (f->mem) {
        if (f->mem != WASI_MEM_IN) return wasi_ret(s, WASI_EBADF);
        wasi_store32(&m, s[3].u32, (uint32_t)wasi_mem_read(env, iov, s[2].u32));
        return wasi_ret(s, 0);
    }
    ssize_t n = readv(f->host, iov, (int)s[2].u32);
    if (n < 0) return ret_errno(s);
    wasi_store32(&m, s[3].u32, (uint32_t)n);
    return wasi_ret(s, 0);
}

static int fd_write(wb_caller *c, void *env, wb_slot *s) {
    struct iovec small[WASI_IOVS_ON_STACK], *iov = wasi_iov_room(env, s[2].u32, small);
    wasi_fd *f;
    wasi_mem m;
    uint16_t e = io_setup(c, env, s, WASI_RIGHT_FD_WRITE, s[3].u32, &f, &m, iov);
    if (!e) e = nonblock_ready(f, POLLOUT);
    if (e) return wasi_ret(s, e);
    ssize_t n;
    if (f->mem) {
        if (f->mem != WASI_MEM_OUT) return wasi_ret(s, WASI_EBADF);
        n = (ssize_t)wasi_mem_write(env, iov, s[2].u32, &e);
        if (n < 0) return wasi_ret(s, e);
    } else if (f->kind == WFD_SOCKET) {
        /* a peer that went away is EPIPE for the guest, never SIGPIPE for us */
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = s[2].u32};
        n = sendmsg(f->host, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = writev(f->host, iov, (int)s[2].u32);
    } else {
        n = writev(f->host, iov, (int)s[2].u32);
    }
    if (n < 0) return ret_errno(s);
    wasi_store32(&m, s[3].u32, (uint32_t)n);
    return wasi_ret(s, 0);
}

static int fd_pread(wb_caller *c, void *env, wb_slot *s) {
    struct iovec small[WASI_IOVS_ON_STACK], *iov = wasi_iov_room(env, s[2].u32, small);
    wasi_fd *f;
    wasi_mem m;
    uint16_t e =
        io_setup(c, env, s, WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK, s[4].u32, &f, &m, iov);
    if (e) return wasi_ret(s, e);
    if (s[3].u64 > INT64_MAX) return wasi_ret(s, WASI_EINVAL);
    ssize_t n = preadv(f->host, iov, (int)s[2].u32, (off_t)s[3].u64);
    if (n < 0) return ret_errno(s);
    wasi_store32(&m, s[4].u32, (uint32_t)n);
    return wasi_ret(s, 0);
}

static int fd_pwrite(wb_caller *c, void *env, wb_slot *s) {
    struct iovec small[WASI_IOVS_ON_STACK], *iov = wasi_iov_room(env, s[2].u32, small);
    wasi_fd *f;
    wasi_mem m;
    uint16_t e =
        io_setup(c, env, s, WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK, s[4].u32, &f, &m, iov);
    if (e) return wasi_ret(s, e);
    if (s[3].u64 > INT64_MAX) return wasi_ret(s, WASI_EINVAL);
    /* Linux semantics (as wasmtime): on an O_APPEND file the data goes to the end */
    ssize_t n = pwritev(f->host, iov, (int)s[2].u32, (off_t)s[3].u64);
    if (n < 0) return ret_errno(s);
    wasi_store32(&m, s[4].u32, (uint32_t)n);
    return wasi_ret(s, 0);
}

static int fd_prestat_get(wb_caller *c, void *env, wb_slot *s) {
    wasi_fd *f = wasi_fd_get(env, s[0].u32);
    if (!f || !f->preopen) return wasi_ret(s, WASI_EBADF);
    wasi_mem m = wasi_memory(c);
    uint32_t p = s[1].u32;
    if (!wasi_in_bounds(&m, p, WASI_PRESTAT_SIZE)) return wasi_ret(s, WASI_EFAULT);
    memset(m.base + p, 0, WASI_PRESTAT_SIZE);
    wasi_store8(&m, p, WASI_PREOPENTYPE_DIR);
    wasi_store32(&m, p + 4, (uint32_t)strlen(f->preopen));
    return wasi_ret(s, 0);
}

static int fd_prestat_dir_name(wb_caller *c, void *env, wb_slot *s) {
    wasi_fd *f = wasi_fd_get(env, s[0].u32);
    if (!f) return wasi_ret(s, WASI_EBADF);
    if (!f->preopen) return wasi_ret(s, WASI_ENOTDIR);
    size_t n = strlen(f->preopen);
    if (s[2].u32 < n) return wasi_ret(s, WASI_ENAMETOOLONG);
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, s[1].u32, n)) return wasi_ret(s, WASI_EFAULT);
    memcpy(m.base + s[1].u32, f->preopen, n);
    return wasi_ret(s, 0);
}

/* Wasmtime's dirent type for a directory entry (lstat when the filesystem does not say). */
static uint8_t dirent_type(DIR *d, const struct dirent *de) {
    switch (de->d_type) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case DT_UNKNOWN: {
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return WASI_FILETYPE_UNKNOWN;
        return wasi_filetype_of_mode(st.st_mode);
    }
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

/* Writes one dirent and its name at *at, as much of them as fits in *cap: entries that do not fit
 * are written truncated, and a full buffer tells the guest to go on from the last whole one. */
static void put_dirent(wasi_mem *m, uint32_t *at, uint32_t *cap, uint64_t next, uint64_t ino,
                       uint8_t type, const char *name) {
    uint32_t namlen = (uint32_t)strlen(name);
    uint8_t hdr[WASI_DIRENT_SIZE] = {0};
    memcpy(hdr, &next, 8);
    memcpy(hdr + 8, &ino, 8);
    memcpy(hdr + 16, &namlen, 4);
    hdr[20] = type;
    uint32_t k = *cap < WASI_DIRENT_SIZE ? *cap : WASI_DIRENT_SIZE;
    memcpy(m->base + *at, hdr, k);
    *at += k;
    *cap -= k;
    k = *cap < namlen ? *cap : namlen;
    memcpy(m->base + *at, name, k);
    *at += k;
    *cap -= k;
}

static int fd_readdir(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(env, s[0].u32, WASI_RIGHT_FD_READDIR, &e);
    if (!f) return wasi_ret(s, e);
    if (f->kind != WFD_DIR) return wasi_ret(s, WASI_ENOTDIR);
    uint32_t buf = s[1].u32, buf_len = s[2].u32, used = s[4].u32;
    uint64_t cookie = s[3].u64;
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, buf, buf_len) || !wasi_in_bounds(&m, used, 4))
        return wasi_ret(s, WASI_EFAULT);
    if (!f->dir) {
        /* a description of our own: the listing's offset is not shared with anything */
        int dfd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) return ret_errno(s);
        if (!(f->dir = fdopendir(dfd))) {
            int saved = errno;
            close(dfd);
            return wasi_ret(s, wasi_errno(saved));
        }
    }
    DIR *d = f->dir;
    struct stat self;
    if (fstat(f->host, &self) != 0) return ret_errno(s);
    uint32_t cap = buf_len, at = buf;
    /* "." and ".." first (the host's own are skipped below; ".." reports the directory's own
     * inode, as wasmtime, so that the preopen's parent stays unseen) */
    for (uint64_t idx = cookie; idx < 2 && cap > 0; idx++)
        put_dirent(&m, &at, &cap, idx + 1, self.st_ino, WASI_FILETYPE_DIRECTORY, idx ? ".." : ".");
    if (cap == 0) {
        wasi_store32(&m, used, buf_len);
        return wasi_ret(s, 0);
    }
    if (cookie <= 2)
        rewinddir(d);
    else
        seekdir(d, (long)(cookie - 3));
    while (cap > 0) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) return ret_errno(s);
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        uint64_t next = (uint64_t)telldir(d) + 3;
        put_dirent(&m, &at, &cap, next, de->d_ino, dirent_type(d, de), de->d_name);
    }
    wasi_store32(&m, used, buf_len - cap);
    return wasi_ret(s, 0);
}

static int fd_renumber(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    uint32_t from = s[0].u32, to = s[1].u32;
    wasi_fd *a = wasi_fd_get(w, from), *b = wasi_fd_get(w, to);
    if (!a || !b) return wasi_ret(s, WASI_EBADF);
    if (from == to) return wasi_ret(s, 0);
    wasi_fd_release(b);
    *b = *a;
    memset(a, 0, sizeof *a);
    a->kind = WFD_FREE;
    a->host = -1;
    return wasi_ret(s, 0);
}

static int fd_seek(wb_caller *c, void *env, wb_slot *s) {
    int64_t offset = s[1].i64;
    uint32_t whence = s[2].u32, result = s[3].u32;
    uint64_t rights =
        offset == 0 && whence == WASI_WHENCE_CUR ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
    uint16_t e;
    wasi_fd *f = io_fd(env, s[0].u32, rights, &e);
    if (!f) return wasi_ret(s, e);
    int how = whence == WASI_WHENCE_SET   ? SEEK_SET
              : whence == WASI_WHENCE_CUR ? SEEK_CUR
              : whence == WASI_WHENCE_END ? SEEK_END
                                          : -1;
    if (how < 0) return wasi_ret(s, WASI_EINVAL);
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, result, 8)) return wasi_ret(s, WASI_EFAULT);
    off_t pos = lseek(f->host, (off_t)offset, how);
    if (pos < 0) return ret_errno(s);
    wasi_store64(&m, result, (uint64_t)pos);
    return wasi_ret(s, 0);
}

static int fd_tell(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = io_fd(env, s[0].u32, WASI_RIGHT_FD_TELL, &e);
    if (!f) return wasi_ret(s, e);
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, s[1].u32, 8)) return wasi_ret(s, WASI_EFAULT);
    off_t pos = lseek(f->host, 0, SEEK_CUR);
    if (pos < 0) return ret_errno(s);
    wasi_store64(&m, s[1].u32, (uint64_t)pos);
    return wasi_ret(s, 0);
}

const wasi_func_def wasi_fd_funcs[] = {
    {"fd_advise", "iIIi:i", fd_advise},
    {"fd_allocate", "iII:i", fd_allocate},
    {"fd_close", "i:i", fd_close},
    {"fd_datasync", "i:i", fd_datasync},
    {"fd_fdstat_get", "ii:i", fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii:i", fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII:i", fd_fdstat_set_rights},
    {"fd_filestat_get", "ii:i", fd_filestat_get},
    {"fd_filestat_set_size", "iI:i", fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi:i", fd_filestat_set_times},
    {"fd_pread", "iiiIi:i", fd_pread},
    {"fd_prestat_get", "ii:i", fd_prestat_get},
    {"fd_prestat_dir_name", "iii:i", fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi:i", fd_pwrite},
    {"fd_read", "iiii:i", fd_read},
    {"fd_readdir", "iiiIi:i", fd_readdir},
    {"fd_renumber", "ii:i", fd_renumber},
    {"fd_seek", "iIii:i", fd_seek},
    {"fd_sync", "i:i", fd_sync},
    {"fd_tell", "ii:i", fd_tell},
    {"fd_write", "iiii:i", fd_write},
    {NULL, NULL, NULL},
};
