/* WASI: the path_* functions. Each resolves its guest path beneath the directory fd with
 * resolve.c, which yields the directory holding the final component and its name, and then makes
 * one *at(2) call on that pair that never follows a symbolic link itself: following (when the
 * guest asks with LOOKUP_SYMLINK_FOLLOW) is done by the resolver, inside the sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasi/resolve.h"
#include "wasi/wasi_internal.h"

#define OFLAGS_ALL (WASI_O_CREAT | WASI_O_DIRECTORY | WASI_O_EXCL | WASI_O_TRUNC)
#define FDFLAGS_ALL                                                                                \
    (WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_RSYNC |           \
     WASI_FDFLAG_SYNC)

/* Rights that mean nothing on a directory, removed from directory descriptors. */
#define RIGHTS_NOT_DIR                                                                             \
    (WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |      \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE)

/* The directory entry a path operation works in: EBADF, ENOTDIR for anything but a directory,
 * ENOTCAPABLE without `rights`. */
static wasi_fd *dir_fd(wb_wasi *w, uint32_t fd, uint64_t rights, uint16_t *e) {
    wasi_fd *f = wasi_fd_get(w, fd);
    if (!f)
        *e = WASI_EBADF;
    else if (f->kind != WFD_DIR)
        *e = WASI_ENOTDIR;
    else if ((f->rights_base & rights) != rights)
        *e = wasi_rights_errno(f, rights);
    else
        return f;
    return NULL;
}

/* The guest string (ptr, len), checked to lie in memory; resolve.c copies it before use. */
static uint16_t guest_str(const wasi_mem *m, uint32_t ptr, uint32_t len, const char **out) {
    if (!wasi_in_bounds(m, ptr, len)) return WASI_EFAULT;
    *out = (const char *)m->base + ptr;
    return 0;
}

/* Resolves guest path (ptr, len) beneath the directory fd `fd` holding `rights`. */
static uint16_t resolve_at(wb_caller *c, wb_wasi *w, uint32_t fd, uint64_t rights, uint32_t ptr,
                           uint32_t len, unsigned flags, wasi_path *out) {
    uint16_t e;
    wasi_fd *d = dir_fd(w, fd, rights, &e);
    if (!d) return e;
    wasi_mem m = wasi_memory(c);
    const char *path;
    if ((e = guest_str(&m, ptr, len, &path)) != 0) return e;
    return wasi_resolve(d->host, path, len, flags, out);
}

/* Lookup flags to resolver flags for lookups (stat, open, link source): EINVAL for unknown bits. */
static uint16_t lookup_flags(uint32_t lookup, unsigned *out) {
    if (lookup & ~WASI_LOOKUP_SYMLINK_FOLLOW) return WASI_EINVAL;
    *out =
        WASI_RESOLVE_SLASH_DIR | ((lookup & WASI_LOOKUP_SYMLINK_FOLLOW) ? WASI_RESOLVE_FOLLOW : 0);
    return 0;
}

/* Ends a path operation whose *at(2) call returned r: releases the resolved paths (q may be
 * NULL) and reports the call's errno. */
static int finish_at(wb_slot *s, int r, wasi_path *p, wasi_path *q) {
    int saved = errno;
    wasi_path_release(p);
    if (q) wasi_path_release(q);
    return wasi_ret(s, r != 0 ? wasi_errno(saved) : 0);
}

static int path_create_directory(wb_caller *c, void *env, wb_slot *s) {
    wasi_path p;
    uint16_t e =
        resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_CREATE_DIRECTORY, s[1].u32, s[2].u32, 0, &p);
    if (e) return wasi_ret(s, e);
    return finish_at(s, mkdirat(p.dirfd, p.name, 0777), &p, NULL);
}

static int path_filestat_get(wb_caller *c, void *env, wb_slot *s) {
    unsigned flags;
    uint16_t e = lookup_flags(s[1].u32, &flags);
    if (e) return wasi_ret(s, e);
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, s[4].u32, WASI_FILESTAT_SIZE)) return wasi_ret(s, WASI_EFAULT);
    wasi_path p;
    e = resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_FILESTAT_GET, s[2].u32, s[3].u32, flags, &p);
    if (e) return wasi_ret(s, e);
    struct stat st;
    int r = fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW);
    int saved = errno;
    wasi_path_release(&p);
    if (r != 0) return wasi_ret(s, wasi_errno(saved));
    wasi_put_filestat(&m, s[4].u32, &st);
    return wasi_ret(s, 0);
}

static int path_filestat_set_times(wb_caller *c, void *env, wb_slot *s) {
    unsigned flags;
    uint16_t e = lookup_flags(s[1].u32, &flags);
    if (e) return wasi_ret(s, e);
    struct timespec ts[2];
    if ((e = wasi_timespecs(s[4].u64, s[5].u64, s[6].u32, ts)) != 0) return wasi_ret(s, e);
    wasi_path p;
    e = resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_FILESTAT_SET_TIMES, s[2].u32, s[3].u32, flags,
                   &p);
    if (e) return wasi_ret(s, e);
    return finish_at(s, utimensat(p.dirfd, p.name, ts, AT_SYMLINK_NOFOLLOW), &p, NULL);
}

static int path_link(wb_caller *c, void *env, wb_slot *s) {
    unsigned flags;
    uint16_t e = lookup_flags(s[1].u32, &flags);
    if (e) return wasi_ret(s, e);
    wasi_path from, to;
    e = resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_LINK_SOURCE, s[2].u32, s[3].u32, flags, &from);
    if (e) return wasi_ret(s, e);
    e = resolve_at(c, env, s[4].u32, WASI_RIGHT_PATH_LINK_TARGET, s[5].u32, s[6].u32, 0, &to);
    if (e) {
        wasi_path_release(&from);
        return wasi_ret(s, e);
    }
    return finish_at(s, linkat(from.dirfd, from.name, to.dirfd, to.name, 0), &from, &to);
}

/* Is there room for one more descriptor? (Checked before opening, so that a full table does not
 * leave a created file behind.) */
static bool table_has_room(const wb_wasi *w) {
    if (w->nfds < WASI_MAX_FDS) return true;
    for (uint32_t i = 0; i < w->nfds; i++)
        if (w->fds[i].kind == WFD_FREE) return true;
    return false;
}

static int path_open(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    uint32_t lookup = s[1].u32, ptr = s[2].u32, len = s[3].u32, oflags = s[4].u32;
    uint64_t base = s[5].u64, inheriting = s[6].u64;
    uint32_t fdflags = s[7].u32, result = s[8].u32;
    unsigned flags;
    uint16_t e = lookup_flags(lookup, &flags);
    if (e) return wasi_ret(s, e);
    if ((oflags & ~(uint32_t)OFLAGS_ALL) || (fdflags & ~(uint32_t)FDFLAGS_ALL))
        return wasi_ret(s, WASI_EINVAL);
    if ((oflags & WASI_O_DIRECTORY) && (oflags & (WASI_O_CREAT | WASI_O_EXCL | WASI_O_TRUNC)))
        return wasi_ret(s, WASI_EINVAL); /* as wasmtime: no creating or truncating directories */
    uint64_t need = WASI_RIGHT_PATH_OPEN;
    if (oflags & WASI_O_CREAT) need |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & WASI_O_TRUNC) need |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    wasi_fd *d = dir_fd(w, s[0].u32, need, &e);
    if (!d) return wasi_ret(s, e);
    wasi_mem m = wasi_memory(c);
    const char *path;
    if ((e = guest_str(&m, ptr, len, &path)) != 0) return wasi_ret(s, e);
    if (!wasi_in_bounds(&m, result, 4)) return wasi_ret(s, WASI_EFAULT);
    if (!table_has_room(w)) return wasi_ret(s, WASI_EMFILE);

    /* asking to write in a read-only tree fails as open(2) does on a read-only mount */
    if (d->read_only && (base & WASI_RIGHTS_WRITE_FILE)) return wasi_ret(s, WASI_EROFS);
    /* the new descriptor gets what it asks for, as far as the directory may hand it on */
    base &= d->rights_inheriting;
    inheriting &= d->rights_inheriting;
    if (d->read_only) {
        base &= ~(uint64_t)WASI_RIGHTS_READ_ONLY_TAKES;
        inheriting &= ~(uint64_t)WASI_RIGHTS_READ_ONLY_TAKES | WASI_RIGHTS_WRITE_FILE;
    }
    bool rd = base & WASI_RIGHT_FD_READ, wr = base & WASI_RIGHTS_WRITE_FILE;
    int of = (wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY) | O_NOCTTY;
    if (oflags & WASI_O_CREAT) of |= O_CREAT;
    if (oflags & WASI_O_EXCL) of |= O_EXCL;
    if (oflags & WASI_O_TRUNC) of |= O_TRUNC;
    if (oflags & WASI_O_DIRECTORY) of |= O_DIRECTORY;
    if (fdflags & WASI_FDFLAG_APPEND) of |= O_APPEND;
    if (fdflags & WASI_FDFLAG_DSYNC) of |= O_DSYNC;
    if (fdflags & WASI_FDFLAG_RSYNC) of |= O_RSYNC;
    if (fdflags & WASI_FDFLAG_SYNC) of |= O_SYNC;
    if (fdflags & WASI_FDFLAG_NONBLOCK) of |= O_NONBLOCK;

    int host;
    e = wasi_open_beneath(d->host, path, len, flags & WASI_RESOLVE_FOLLOW, of, 0666, &host);
    if (e) return wasi_ret(s, e);
    struct stat st;
    if (fstat(host, &st) != 0) {
        e = wasi_errno(errno);
        close(host);
        return wasi_ret(s, e);
    }
    if (S_ISDIR(st.st_mode)) base &= ~RIGHTS_NOT_DIR; /* as wasmtime reports them */
    wasi_fd f = {
        .kind = S_ISDIR(st.st_mode) ? WFD_DIR : WFD_FILE,
        .filetype = wasi_filetype_of_mode(st.st_mode),
        .fdflags = (uint16_t)fdflags,
        .host = host,
        .owned = true,
        .read_only = d->read_only,
        .rights_base = base,
        .rights_inheriting = inheriting,
    };
    uint32_t fd;
    if ((e = wasi_fd_insert(w, &f, &fd)) != 0) {
        close(host);
        return wasi_ret(s, e);
    }
    wasi_store32(&m, result, fd);
    return wasi_ret(s, 0);
}

static int path_readlink(wb_caller *c, void *env, wb_slot *s) {
    uint32_t buf = s[3].u32, buf_len = s[4].u32, used = s[5].u32;
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, buf, buf_len) || !wasi_in_bounds(&m, used, 4))
        return wasi_ret(s, WASI_EFAULT);
    wasi_path p;
    uint16_t e = resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_READLINK, s[1].u32, s[2].u32,
                            WASI_RESOLVE_SLASH_DIR, &p);
    if (e) return wasi_ret(s, e);
    char target[PATH_MAX];
    ssize_t n = readlinkat(p.dirfd, p.name, target, sizeof target);
    int saved = errno;
    wasi_path_release(&p);
    if (n < 0) return wasi_ret(s, wasi_errno(saved));
    /* as wasmtime: a short buffer gets the first buf_len bytes */
    uint32_t k = (size_t)n < buf_len ? (uint32_t)n : buf_len;
    memcpy(m.base + buf, target, k);
    wasi_store32(&m, used, k);
    return wasi_ret(s, 0);
}

static int path_remove_directory(wb_caller *c, void *env, wb_slot *s) {
    wasi_path p;
    uint16_t e =
        resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_REMOVE_DIRECTORY, s[1].u32, s[2].u32, 0, &p);
    if (e) return wasi_ret(s, e);
    return finish_at(s, unlinkat(p.dirfd, p.name, AT_REMOVEDIR), &p, NULL);
}

static int path_rename(wb_caller *c, void *env, wb_slot *s) {
    wasi_path from, to;
    uint16_t e =
        resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_RENAME_SOURCE, s[1].u32, s[2].u32, 0, &from);
    if (e) return wasi_ret(s, e);
    e = resolve_at(c, env, s[3].u32, WASI_RIGHT_PATH_RENAME_TARGET, s[4].u32, s[5].u32, 0, &to);
    if (e) {
        wasi_path_release(&from);
        return wasi_ret(s, e);
    }
    return finish_at(s, renameat(from.dirfd, from.name, to.dirfd, to.name), &from, &to);
}

static int path_symlink(wb_caller *c, void *env, wb_slot *s) {
    uint32_t tptr = s[0].u32, tlen = s[1].u32;
    wasi_mem m = wasi_memory(c);
    const char *text;
    uint16_t e = guest_str(&m, tptr, tlen, &text);
    if (e) return wasi_ret(s, e);
    /* The target is text that is only checked as a string, except that an absolute target is
     * refused as wasmtime (cap-std) does (wasi-testsuite symlink_create): it could never be
     * followed. Relative targets may point anywhere; following them is what the resolver keeps
     * inside the sandbox. */
    if (tlen > WASI_MAX_PATH) return wasi_ret(s, WASI_ENAMETOOLONG);
    WB_AUTOFREE char *target = wb_malloc((size_t)tlen + 1);
    memcpy(target, text, tlen);
    target[tlen] = '\0';
    /* empty: ENOENT, NUL: EINVAL, bad UTF-8: EILSEQ, absolute: ENOTCAPABLE */
    if ((e = wasi_path_check(target, tlen)) != 0) return wasi_ret(s, e);
    wasi_path p;
    e = resolve_at(c, env, s[2].u32, WASI_RIGHT_PATH_SYMLINK, s[3].u32, s[4].u32, 0, &p);
    if (e) return wasi_ret(s, e);
    return finish_at(s, symlinkat(target, p.dirfd, p.name), &p, NULL);
}

static int path_unlink_file(wb_caller *c, void *env, wb_slot *s) {
    wasi_path p;
    uint16_t e =
        resolve_at(c, env, s[0].u32, WASI_RIGHT_PATH_UNLINK_FILE, s[1].u32, s[2].u32, 0, &p);
    if (e) return wasi_ret(s, e);
    return finish_at(s, unlinkat(p.dirfd, p.name, 0), &p, NULL);
}

const wasi_func_def wasi_path_funcs[] = {
    {"path_create_directory", "iii:i", path_create_directory},
    {"path_filestat_get", "iiiii:i", path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi:i", path_filestat_set_times},
    {"path_link", "iiiiiii:i", path_link},
    {"path_open", "iiiiiIIii:i", path_open},
    {"path_readlink", "iiiiii:i", path_readlink},
    {"path_remove_directory", "iii:i", path_remove_directory},
    {"path_rename", "iiiiii:i", path_rename},
    {"path_symlink", "iiiii:i", path_symlink},
    {"path_unlink_file", "iii:i", path_unlink_file},
    {NULL, NULL, NULL},
};
