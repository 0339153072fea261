/* The WASI context: creation from a configuration (arguments, environment, preopens, stdio,
 * listening sockets), the descriptor table, errno translation, guest-memory helpers, and linking
 * a module's WASI imports to the implementations whose types match. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasi/wasi_internal.h"

/* ---- errors ---- */

uint16_t wasi_errno(int e) {
    switch (e) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN;
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
    case EOPNOTSUPP: return WASI_ENOTSUP;
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO;
    }
}

/* ---- guest memory ---- */

uint16_t wasi_put32(wasi_mem *m, uint32_t ptr, uint32_t v) {
    if (!wasi_in_bounds(m, ptr, 4)) return WASI_EFAULT;
    wasi_store32(m, ptr, v);
    return 0;
}

uint16_t wasi_put64(wasi_mem *m, uint32_t ptr, uint64_t v) {
    if (!wasi_in_bounds(m, ptr, 8)) return WASI_EFAULT;
    wasi_store64(m, ptr, v);
    return 0;
}

uint16_t wasi_iovecs(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *out) {
    if (n > WASI_MAX_IOVS) return WASI_EINVAL;
    if (!wasi_in_bounds(m, iovs, (uint64_t)n * WASI_IOVEC_SIZE)) return WASI_EFAULT;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = wasi_load32(m, iovs + i * WASI_IOVEC_SIZE);
        uint32_t len = wasi_load32(m, iovs + i * WASI_IOVEC_SIZE + 4);
        if (!wasi_in_bounds(m, buf, len)) return WASI_EFAULT;
        out[i].iov_base = m->base + buf;
        out[i].iov_len = len;
    }
    return 0;
}

/* ---- descriptor table ---- */

wasi_fd *wasi_fd_get(wb_wasi *w, uint32_t fd) {
    if (fd >= w->nfds || w->fds[fd].kind == WFD_FREE) return NULL;
    return &w->fds[fd];
}

wasi_fd *wasi_fd_check(wb_wasi *w, uint32_t fd, uint64_t rights, uint16_t *err) {
    wasi_fd *f = wasi_fd_get(w, fd);
    if (!f) {
        *err = WASI_EBADF;
        return NULL;
    }
    if ((f->rights_base & rights) != rights) {
        *err = wasi_rights_errno(f, rights);
        return NULL;
    }
    *err = 0;
    return f;
}

uint16_t wasi_rights_errno(const wasi_fd *f, uint64_t rights) {
    uint64_t missing = rights & ~f->rights_base;
    return f->read_only && (missing & WASI_RIGHTS_READ_ONLY_TAKES) ? WASI_EROFS : WASI_ENOTCAPABLE;
}

uint16_t wasi_fd_insert(wb_wasi *w, const wasi_fd *entry, uint32_t *out_fd) {
    uint32_t fd = 0;
    while (fd < w->nfds && w->fds[fd].kind != WFD_FREE) fd++;
    if (fd >= WASI_MAX_FDS) return WASI_EMFILE;
    WB_VEC_RESERVE(w->fds, w->cap, fd + 1);
    if (fd == w->nfds) w->nfds++;
    w->fds[fd] = *entry;
    *out_fd = fd;
    return 0;
}

void wasi_fd_release(wasi_fd *f) {
    if (f->dir) closedir(f->dir); /* closes its own duplicate of the fd */
    if (f->owned && f->host >= 0) close(f->host);
    free(f->preopen);
    memset(f, 0, sizeof *f);
    f->kind = WFD_FREE;
    f->host = -1;
}

uint8_t wasi_filetype_of(int host_fd) {
    struct stat st;
    if (fstat(host_fd, &st) != 0) return WASI_FILETYPE_UNKNOWN;
    switch (st.st_mode & S_IFMT) {
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: {
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(host_fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
            return WASI_FILETYPE_SOCKET_DGRAM;
        return WASI_FILETYPE_SOCKET_STREAM;
    }
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

/* ---- contexts ---- */

static char **copy_strings(int n, char *const *src, size_t *bytes) {
    char **dst = wb_calloc((size_t)n + 1, sizeof *dst);
    *bytes = 0;
    for (int i = 0; i < n; i++) {
        dst[i] = wb_strdup(src[i]);
        *bytes += strlen(src[i]) + 1;
    }
    return dst;
}

static void free_strings(char **s, uint32_t n) {
    if (!s) return;
    for (uint32_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* Rights a directory fd hands on to what is opened through it. */
#define DIR_RIGHTS_BASE                                                                            \
    (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |                  \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                              \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN |            \
     WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE |            \
     WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                                \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |                      \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |     \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |                              \
     WASI_RIGHT_POLL_FD_READWRITE)

int wb_wasi_new(const wb_wasi_config *cfg, wb_wasi **out, wb_error *err) {
    wb_wasi *w = wb_calloc(1, sizeof *w);
    w->argc = (uint32_t)cfg->argc;
    w->argv = copy_strings(cfg->argc, cfg->argv, &w->argv_bytes);
    w->envc = (uint32_t)cfg->envc;
    w->env = copy_strings(cfg->envc, cfg->env, &w->env_bytes);
    w->allow_net = cfg->allow_net;
    w->no_wasmedge = cfg->no_wasmedge;
    w->hosts_path = cfg->hosts_path ? wb_strdup(cfg->hosts_path) : NULL;
    w->resolv_path = cfg->resolv_path ? wb_strdup(cfg->resolv_path) : NULL;
    *out = NULL;

    for (int i = 0; i < 3; i++) {
        wasi_fd f = {.kind = WFD_STDIO, .host = cfg->stdio[i], .owned = false};
        if (cfg->stdio[i] < 0) {
            f.kind = WFD_FREE; /* closed: the number is free for the guest */
        } else {
            f.filetype = wasi_filetype_of(cfg->stdio[i]);
            f.rights_base = WASI_RIGHTS_ALL & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
            /* a guest's isatty() is "a character device that cannot seek": a character device
             * that is not a terminal (/dev/null) keeps seek and tell, as it can on the host */
            if (f.filetype == WASI_FILETYPE_REGULAR_FILE ||
                (f.filetype == WASI_FILETYPE_CHARACTER_DEVICE && !isatty(cfg->stdio[i])))
                f.rights_base = WASI_RIGHTS_ALL;
            int fl = fcntl(cfg->stdio[i], F_GETFL);
            if (fl >= 0 && (fl & O_APPEND)) f.fdflags |= WASI_FDFLAG_APPEND;
            if (fl >= 0 && (fl & O_NONBLOCK)) f.fdflags |= WASI_FDFLAG_NONBLOCK;
        }
        WB_VEC_RESERVE(w->fds, w->cap, w->nfds + 1);
        w->fds[w->nfds++] = f;
    }
    for (int i = 0; i < cfg->ndirs; i++) {
        int fd = open(cfg->dirs[i].host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            wb_error_sys(err, "open directory `%s`", cfg->dirs[i].host);
            wb_wasi_free(w);
            return -1;
        }
        bool ro = cfg->dirs[i].read_only;
        wasi_fd f = {.kind = WFD_DIR,
                     .filetype = WASI_FILETYPE_DIRECTORY,
                     .host = fd,
                     .owned = true,
                     .read_only = ro,
                     .rights_base = DIR_RIGHTS_BASE & ~(ro ? WASI_RIGHTS_READ_ONLY_TAKES : 0),
                     .rights_inheriting = ro ? (WASI_RIGHTS_ALL & ~WASI_RIGHTS_READ_ONLY_TAKES) |
                                                   WASI_RIGHTS_WRITE_FILE
                                             : WASI_RIGHTS_ALL,
                     .preopen = wb_strdup(cfg->dirs[i].guest)};
        uint32_t gfd;
        if (wasi_fd_insert(w, &f, &gfd) != 0) {
            close(fd);
            free(f.preopen);
            wb_error_set(err, EMFILE, "too many preopened directories");
            wb_wasi_free(w);
            return -1;
        }
    }
    for (int i = 0; i < cfg->nlisten; i++) {
        wasi_fd f = {.kind = WFD_SOCKET,
                     .filetype = WASI_FILETYPE_SOCKET_STREAM,
                     .host = cfg->listen_fds[i],
                     .owned = true,
                     .rights_base = WASI_RIGHT_SOCK_ACCEPT | WASI_RIGHT_POLL_FD_READWRITE |
                                    WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_SOCK_SHUTDOWN,
                     .rights_inheriting = WASI_RIGHTS_ALL};
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getsockname(f.host, (struct sockaddr *)&ss, &len) == 0) f.sock_family = ss.ss_family;
        f.sock_type = SOCK_STREAM;
        uint32_t gfd;
        if (wasi_fd_insert(w, &f, &gfd) != 0) {
            wb_error_set(err, EMFILE, "too many preopened sockets");
            wb_wasi_free(w);
            return -1;
        }
    }
    *out = w;
    return 0;
}

struct iovec *wasi_iov_room(wb_wasi *w, uint32_t n, struct iovec *small) {
    if (n <= WASI_IOVS_ON_STACK) return small;
    if (!w->iov_big) w->iov_big = wb_reallocarray(NULL, WASI_MAX_IOVS, sizeof *w->iov_big);
    return w->iov_big;
}

/* ---- one context for many runs ---- */

/* A copy of entry e for the other table: an owned host fd is duplicated (each table closes its
 * own), the preopen name copied. false when the duplicate cannot be made. */
static bool copy_entry(const wasi_fd *e, wasi_fd *out) {
    *out = *e;
    out->dir = NULL;
    out->preopen = e->preopen ? wb_strdup(e->preopen) : NULL;
    if (e->kind != WFD_FREE && e->owned && e->host >= 0) {
        out->host = fcntl(e->host, F_DUPFD_CLOEXEC, 0);
        if (out->host < 0) {
            free(out->preopen);
            return false;
        }
    }
    return true;
}

/* Live entry i is what the last reset left there (its host fd is base_host[i], the base holding
 * a duplicate). */
static bool unchanged(const wb_wasi *w, uint32_t i) {
    const wasi_fd *live = i < w->nfds ? &w->fds[i] : NULL, *b = i < w->nbase ? &w->base[i] : NULL;
    bool live_free = !live || live->kind == WFD_FREE, base_free = !b || b->kind == WFD_FREE;
    if (live_free || base_free) return live_free && base_free;
    return live->kind == b->kind && live->host == w->base_host[i] && live->fdflags == b->fdflags &&
           live->rights_base == b->rights_base && live->rights_inheriting == b->rights_inheriting &&
           !live->preopen == !b->preopen;
}

/* The live table is the base again (fds 3 and up; 0 to 2 are set by the caller). */
static int restore_table(wb_wasi *w, wb_error *err) {
    bool same = true;
    for (uint32_t i = 3; same && (i < w->nfds || i < w->nbase); i++) same = unchanged(w, i);
    if (same) {
        for (uint32_t i = 3; i < w->nfds; i++) /* a directory's read position */
            if (w->fds[i].dir) {
                closedir(w->fds[i].dir);
                w->fds[i].dir = NULL;
            }
        return 0;
    }
    for (uint32_t i = 3; i < w->nfds; i++)
        if (w->fds[i].kind != WFD_FREE) wasi_fd_release(&w->fds[i]);
    WB_VEC_RESERVE(w->fds, w->cap, w->nbase);
    w->nfds = w->nbase > 3 ? w->nbase : 3;
    for (uint32_t i = 3; i < w->nbase; i++) {
        if (!copy_entry(&w->base[i], &w->fds[i])) {
            for (uint32_t k = 3; k < i; k++) wasi_fd_release(&w->fds[k]);
            w->nfds = 3;
            return wb_error_sys(err, "restore the WASI descriptors");
        }
        w->base_host[i] = w->fds[i].host;
    }
    return 0;
}

int wb_wasi_reset(wb_wasi *w, const wb_wasi_run_io *io, wb_error *err) {
    if (!w->has_base) {
        w->base = wb_calloc(w->nfds ? w->nfds : 1, sizeof *w->base);
        w->base_host = wb_calloc(w->nfds ? w->nfds : 1, sizeof *w->base_host);
        for (uint32_t i = 0; i < w->nfds; i++) {
            w->base_host[i] = w->fds[i].host;
            if (i < 3 || w->fds[i].kind == WFD_FREE) {
                w->base[i] = (wasi_fd){.kind = WFD_FREE, .host = -1};
            } else if (!copy_entry(&w->fds[i], &w->base[i])) {
                for (uint32_t k = 3; k < i; k++) wasi_fd_release(&w->base[k]);
                free(w->base);
                free(w->base_host);
                w->base = NULL;
                w->base_host = NULL;
                return wb_error_sys(err, "record the WASI descriptors");
            }
        }
        w->nbase = w->nfds;
        w->has_base = true;
    } else if (restore_table(w, err) < 0) {
        return -1;
    }
    WB_VEC_RESERVE(w->fds, w->cap, 3);
    if (w->nfds < 3) w->nfds = 3;
    for (int i = 0; i < 2; i++) {
        if (w->fds[i].kind != WFD_FREE) wasi_fd_release(&w->fds[i]);
        w->fds[i] =
            (wasi_fd){.kind = WFD_STDIO,
                      .filetype = WASI_FILETYPE_UNKNOWN, /* as a pipe */
                      .host = -1,
                      .rights_base = WASI_RIGHTS_ALL & ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL),
                      .mem = i == 0 ? WASI_MEM_IN : WASI_MEM_OUT};
    }
    if (io->argv) {
        free_strings(w->argv, w->argc);
        w->argc = (uint32_t)io->argc;
        w->argv = copy_strings(io->argc, io->argv, &w->argv_bytes);
    }
    if (io->env) {
        free_strings(w->env, w->envc);
        w->envc = (uint32_t)io->envc;
        w->env = copy_strings(io->envc, io->env, &w->env_bytes);
    }
    w->mem_in = io->in;
    w->mem_in_len = io->in_len;
    w->mem_in_pos = 0;
    w->mem_out_len = 0;
    w->mem_out_max = io->out_max;
    w->mem_out_full = false;
    return 0;
}

const uint8_t *wb_wasi_output(const wb_wasi *w, size_t *len, bool *full) {
    *len = w->mem_out_len;
    if (full) *full = w->mem_out_full;
    return w->mem_out ? w->mem_out : (const uint8_t *)"";
}

size_t wasi_mem_read(wb_wasi *w, const struct iovec *iov, uint32_t n) {
    size_t done = 0;
    for (uint32_t i = 0; i < n && w->mem_in_pos < w->mem_in_len; i++) {
        size_t k = w->mem_in_len - w->mem_in_pos;
        if (k > iov[i].iov_len) k = iov[i].iov_len;
        memcpy(iov[i].iov_base, w->mem_in + w->mem_in_pos, k);
        w->mem_in_pos += k;
        done += k;
    }
    return done;
}

int64_t wasi_mem_write(wb_wasi *w, const struct iovec *iov, uint32_t n, uint16_t *e) {
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += iov[i].iov_len;
    if (total > w->mem_out_max - w->mem_out_len) {
        w->mem_out_full = true;
        *e = WASI_EFBIG;
        return -1;
    }
    WB_VEC_RESERVE(w->mem_out, w->mem_out_cap, w->mem_out_len + total);
    for (uint32_t i = 0; i < n; i++) {
        if (iov[i].iov_len) memcpy(w->mem_out + w->mem_out_len, iov[i].iov_base, iov[i].iov_len);
        w->mem_out_len += iov[i].iov_len;
    }
    return (int64_t)total;
}

void wb_wasi_free(wb_wasi *w) {
    if (!w) return;
    free(w->iov_big);
    for (uint32_t i = 0; i < w->nbase; i++)
        if (w->base[i].kind != WFD_FREE) wasi_fd_release(&w->base[i]);
    free(w->base);
    free(w->base_host);
    free(w->mem_out);
    for (uint32_t i = 0; i < w->nfds; i++)
        if (w->fds[i].kind != WFD_FREE) wasi_fd_release(&w->fds[i]);
    free(w->fds);
    free_strings(w->argv, w->argc);
    free_strings(w->env, w->envc);
    free(w->hosts_path);
    free(w->resolv_path);
    free(w);
}

/* ---- linking ---- */

static bool is_wasi_module_name(const char *name, uint32_t len) {
    return len == 22 && memcmp(name, "wasi_snapshot_preview1", 22) == 0;
}

/* WASI preview0: same names as preview1, but other layouts (filestat) and enum values (whence). */
static bool is_wasi_preview0(const char *name, uint32_t len) {
    return len == 13 && memcmp(name, "wasi_unstable", 13) == 0;
}

bool wb_wasi_module_uses(const wb_module *m) {
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if (is_wasi_module_name(im.module, im.module_len) ||
            is_wasi_preview0(im.module, im.module_len))
            return true;
    }
    return false;
}

static uint8_t sig_type(char c) {
    switch (c) {
    case 'i': return WB_I32;
    case 'I': return WB_I64;
    case 'f': return WB_F32;
    case 'F': return WB_F64;
    default: return 0;
    }
}

/* Does the "params:results" signature match ft? */
static bool sig_matches(const char *sig, const wb_functype *ft) {
    const char *colon = strchr(sig, ':');
    size_t np = (size_t)(colon - sig), nr = strlen(colon + 1);
    if (np != ft->nparams || nr != ft->nresults) return false;
    for (size_t i = 0; i < np; i++)
        if (sig_type(sig[i]) != ft->types[i]) return false;
    for (size_t i = 0; i < nr; i++)
        if (sig_type(colon[1 + i]) != ft->types[np + i]) return false;
    return true;
}

static void sig_of(const wb_functype *ft, char *buf, size_t size) {
    size_t n = 0;
    for (uint32_t i = 0; i < ft->nparams + ft->nresults && n + 2 < size; i++) {
        if (i == ft->nparams) buf[n++] = ':';
        uint8_t t = ft->types[i];
        buf[n++] = t == WB_I32   ? 'i'
                   : t == WB_I64 ? 'I'
                   : t == WB_F32 ? 'f'
                   : t == WB_F64 ? 'F'
                                 : '?';
    }
    if (ft->nresults == 0 && n + 1 < size) buf[n++] = ':';
    buf[n] = '\0';
}

/* WASI preview1's own socket functions (the rest of sock_* is WasmEdge's extension). */
static bool is_preview1_socket(const wasi_func_def *d) {
    static const struct {
        const char *name, *sig;
    } p1[] = {{"sock_accept", "iii:i"},
              {"sock_recv", "iiiiii:i"},
              {"sock_send", "iiiii:i"},
              {"sock_shutdown", "ii:i"}};
    for (size_t i = 0; i < sizeof p1 / sizeof p1[0]; i++)
        if (!strcmp(d->name, p1[i].name) && !strcmp(d->sig, p1[i].sig)) return true;
    return false;
}

static const wasi_func_def *const func_tables[] = {
    wasi_core_funcs, wasi_fd_funcs, wasi_path_funcs, wasi_poll_funcs, wasi_sock_funcs,
};

int wb_wasi_link(wb_wasi *w, wb_store *s, wb_linker *l, const wb_module *m, wb_error *err) {
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if (is_wasi_preview0(im.module, im.module_len))
            return wb_error_set(err, WB_ELINK,
                                "unknown import: `%s`.`%s`: WASI preview0 (wasi_unstable) is not "
                                "supported; rebuild the module for wasi_snapshot_preview1",
                                im.module, im.name);
        if (!is_wasi_module_name(im.module, im.module_len)) continue;
        if (im.kind != WB_EXTERN_FUNC)
            return wb_error_set(err, WB_ELINK,
                                "WASI provides only functions, but the module "
                                "imports `%s`.`%s` as another kind",
                                im.module, im.name);
        const wasi_func_def *found = NULL;
        bool name_known = false;
        for (size_t t = 0; t < sizeof func_tables / sizeof func_tables[0] && !found; t++)
            for (const wasi_func_def *d = func_tables[t]; d->name && !found; d++) {
                if (strlen(d->name) != im.name_len || memcmp(d->name, im.name, im.name_len) != 0)
                    continue;
                name_known = true;
                if (sig_matches(d->sig, im.func)) found = d;
            }
        if (!found) {
            char sig[64];
            sig_of(im.func, sig, sizeof sig);
            if (name_known)
                return wb_error_set(err, WB_ELINK,
                                    "incompatible import type: `%s`.`%s` with signature (%s) is "
                                    "not a signature wasmbox implements",
                                    im.module, im.name, sig);
            return wb_error_set(err, WB_ELINK, "unknown import: `%s`.`%s` is not a WASI function",
                                im.module, im.name);
        }
        if (w->no_wasmedge && !strncmp(found->name, "sock_", 5) && !is_preview1_socket(found))
            return wb_error_set(err, WB_ELINK,
                                "unknown import: `%s`.`%s` belongs to WasmEdge's socket extension, "
                                "which this runtime does not provide (use "
                                "--runtime=io.containerd.wasmedge.v1)",
                                im.module, im.name);
        wb_extern ext = {.kind = WB_EXTERN_FUNC};
        char name[160];
        snprintf(name, sizeof name, "%s.%s", im.module, found->name);
        ext.of.func = wb_func_new_host(s, im.func, found->fn, w, name);
        wb_linker_define(l, im.module, im.name, ext);
    }
    return 0;
}
