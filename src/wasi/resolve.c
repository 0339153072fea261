/* Resolving guest paths beneath a directory fd: openat2(RESOLVE_BENEATH) where the kernel has it,
 * else a component walk that opens each step with O_NOFOLLOW, expands symbolic links itself and
 * keeps a stack of the directories it entered, so that `..` pops the stack and can never climb
 * above the base directory, not even for one step. See resolve.h for the rules. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasi/resolve.h"
#include "wasi/wasi_internal.h"

/* Directory fds the walk keeps open at once; deeper ancestors are closed and reopened through
 * `..` from their (already verified) child when the walk climbs back to them. */
#define WALK_OPEN_WINDOW 32
/* Bound on the text a walk may have pending after symlink expansions. */
#define WALK_MAX_TEXT (64 * 1024)
/* openat2 fails with EAGAIN when a rename raced with a `..` step; retries before the walk. */
#define OPENAT2_RETRIES 16

/* ---- checks on guest bytes ---- */

/* Well-formed UTF-8 as Rust's str accepts it (no overlongs, no surrogates, <= U+10FFFF): guests'
 * paths are strings in WASI, and wasmtime answers EILSEQ for anything else. */
static bool utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0)
            len = 2, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            len = 3, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

uint16_t wasi_path_check(const char *path, size_t len) {
    if (len == 0) return WASI_ENOENT;
    if (len > WASI_MAX_PATH) return WASI_ENAMETOOLONG;
    if (memchr(path, '\0', len)) return WASI_EINVAL;
    if (!utf8_valid((const unsigned char *)path, len)) return WASI_EILSEQ;
    if (path[0] == '/') return WASI_ENOTCAPABLE;
    return 0;
}

/* Copies guest bytes (which a guest thread might change under us) and checks the copy. */
static uint16_t copy_path(const char *path, size_t len, char **out) {
    if (len > WASI_MAX_PATH) return WASI_ENAMETOOLONG;
    char *p = wb_malloc(len + 1);
    memcpy(p, path, len);
    p[len] = '\0';
    uint16_t e = wasi_path_check(p, len);
    if (e) {
        free(p);
        return e;
    }
    *out = p;
    return 0;
}

/* ---- openat2 ---- */

static bool openat2_wanted(unsigned flags) {
    if (flags & WASI_RESOLVE_WALK) return false;
    const char *v = getenv("WASMBOX_WASI_NO_OPENAT2");
    return !v || !*v || !strcmp(v, "0");
}

/* openat2 beneath dirfd. Returns the fd or -errno; -ENOSYS (also after persistent EAGAIN) means
 * "use the walk". */
static int openat2_beneath(int dirfd, const char *path, int oflags, mode_t mode) {
    struct open_how how = {
        .flags = (uint64_t)(unsigned)oflags,
        .mode = (oflags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int tries = 0;; tries++) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
            if (tries < OPENAT2_RETRIES) continue;
            return -ENOSYS;
        }
        return -errno;
    }
}

/* ---- the component walk ---- */

typedef struct walker {
    int *fds;     /* fds[0] is the base (borrowed); fds[1..depth] the directories entered, -1 for
                   * an ancestor closed to stay within WALK_OPEN_WINDOW */
    size_t depth; /* index of the current directory */
    size_t cap;
    size_t nopen; /* fds of ours open in the stack */
    int *nlinks;  /* symbolic links expanded so far in this resolution */
} walker;

static void walker_init(walker *wk, int base, int *nlinks) {
    memset(wk, 0, sizeof *wk);
    WB_VEC_RESERVE(wk->fds, wk->cap, 8);
    wk->fds[0] = base;
    wk->nlinks = nlinks;
}

static void walker_push(walker *wk, int fd) {
    WB_VEC_RESERVE(wk->fds, wk->cap, wk->depth + 2);
    wk->fds[++wk->depth] = fd;
    if (++wk->nopen <= WALK_OPEN_WINDOW) return;
    for (size_t i = 1; i < wk->depth; i++) {
        if (wk->fds[i] >= 0) {
            close(wk->fds[i]);
            wk->fds[i] = -1;
            wk->nopen--;
            return;
        }
    }
}

/* `..`: back to the parent on the stack; at the base it would leave the sandbox. */
static uint16_t walker_pop(walker *wk) {
    if (wk->depth == 0) return WASI_ENOTCAPABLE;
    int top = wk->fds[wk->depth];
    if (wk->fds[wk->depth - 1] < 0) {
        /* a closed ancestor: its fd is the physical parent of the child we entered from it */
        int parent = openat(top, "..", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (parent < 0) return wasi_errno(errno);
        wk->fds[wk->depth - 1] = parent;
        wk->nopen++;
    }
    close(top);
    wk->nopen--;
    wk->depth--;
    return 0;
}

static void walker_abort(walker *wk) {
    for (size_t i = 1; i <= wk->depth; i++)
        if (wk->fds[i] >= 0) close(wk->fds[i]);
    free(wk->fds);
}

/* Ends the walk: the current directory, owned unless it is the base. */
static void walker_finish(walker *wk, int *fd, bool *owned) {
    for (size_t i = 1; i < wk->depth; i++)
        if (wk->fds[i] >= 0) close(wk->fds[i]);
    *fd = wk->fds[wk->depth];
    *owned = wk->depth > 0;
    free(wk->fds);
}

/* Walks every component of `path` as a directory from the walker's current directory. */
static uint16_t walk_dirs(walker *wk, const char *path) {
    char *pending = NULL; /* text after a symlink expansion; `p` points into it */
    const char *p = path;
    uint16_t e = 0;
    for (;;) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 1 && p[0] == '.') {
            p = end;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if ((e = walker_pop(wk)) != 0) break;
            p = end;
            continue;
        }
        if (n > NAME_MAX) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        char comp[NAME_MAX + 1];
        memcpy(comp, p, n);
        comp[n] = '\0';
        int fd = openat(wk->fds[wk->depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            e = wasi_errno(errno);
            if (fd >= 0) close(fd);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            walker_push(wk, fd);
            p = end;
            continue;
        }
        if (!S_ISLNK(st.st_mode)) {
            close(fd);
            e = WASI_ENOTDIR;
            break;
        }
        /* a symbolic link: continue with its target in front of what remains */
        char target[PATH_MAX];
        ssize_t tn = readlinkat(fd, "", target, sizeof target);
        int saved = errno;
        close(fd);
        if (tn < 0) {
            e = wasi_errno(saved);
            break;
        }
        if ((size_t)tn >= sizeof target) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        if (++*wk->nlinks > WASI_MAX_SYMLINKS) {
            e = WASI_ELOOP;
            break;
        }
        if (tn == 0) {
            e = WASI_ENOENT;
            break;
        }
        if (target[0] == '/') {
            e = WASI_ENOTCAPABLE;
            break;
        }
        size_t rest = strlen(end);
        if ((size_t)tn + 1 + rest > WALK_MAX_TEXT) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        char *next = wb_malloc((size_t)tn + 1 + rest + 1);
        memcpy(next, target, (size_t)tn);
        next[tn] = '/';
        memcpy(next + tn + 1, end, rest + 1);
        free(pending);
        pending = next;
        p = next;
    }
    free(pending);
    return e;
}

/* Opens directory `path` (every component a directory, symlinks followed) beneath base.
 * An empty path is the base itself (borrowed). */
static uint16_t open_dir(int base, const char *path, unsigned flags, int *nlinks, int *fd,
                         bool *owned) {
    if (!*path) {
        *fd = base;
        *owned = false;
        return 0;
    }
    if (openat2_wanted(flags)) {
        int r = openat2_beneath(base, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (r >= 0) {
            *fd = r;
            *owned = true;
            return 0;
        }
        if (r == -EXDEV) return WASI_ENOTCAPABLE;
        if (r != -ENOSYS) return wasi_errno(-r);
    }
    walker wk;
    walker_init(&wk, base, nlinks);
    uint16_t e = walk_dirs(&wk, path);
    if (e) {
        walker_abort(&wk);
        return e;
    }
    walker_finish(&wk, fd, owned);
    return 0;
}

/* ---- resolution ---- */

static bool is_dots(const char *s, size_t n) {
    return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

uint16_t wasi_resolve(int dirfd, const char *path, size_t len, unsigned flags, wasi_path *out) {
    char *cur;
    uint16_t e = copy_path(path, len, &cur);
    if (e) return e;
    int nlinks = 0;
    for (;;) {
        size_t n = strlen(cur), end = n;
        while (end > 0 && cur[end - 1] == '/') end--;
        size_t start = end;
        while (start > 0 && cur[start - 1] != '/') start--;
        bool slash = end < n;
        int fd;
        bool owned;
        if (is_dots(cur + start, end - start) || (slash && (flags & WASI_RESOLVE_SLASH_DIR))) {
            /* the path names a directory: resolve all of it, act on "." inside */
            e = open_dir(dirfd, cur, flags, &nlinks, &fd, &owned);
            if (e) break;
            out->dirfd = fd;
            out->owned = owned;
            out->name = wb_strdup(".");
            break;
        }
        char *last = wb_strndup(cur + start, end - start);
        cur[start] = '\0'; /* cur is now the directory part, e.g. "a/b/" or "" */
        e = open_dir(dirfd, cur, flags, &nlinks, &fd, &owned);
        if (e) {
            free(last);
            break;
        }
        char target[PATH_MAX];
        ssize_t tn = -1;
        if (flags & WASI_RESOLVE_FOLLOW) tn = readlinkat(fd, last, target, sizeof target);
        if (tn < 0) {
            /* not a symlink (or absent: a create names it): this is the final component */
            out->dirfd = fd;
            out->owned = owned;
            if (slash) {
                size_t ln = end - start;
                out->name = wb_realloc(last, ln + 2);
                out->name[ln] = '/';
                out->name[ln + 1] = '\0';
            } else {
                out->name = last;
            }
            break;
        }
        /* a final symlink to follow: resolve "<directory part><target>" again from the base */
        free(last);
        if (owned) close(fd);
        if ((size_t)tn >= sizeof target) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        if (++nlinks > WASI_MAX_SYMLINKS) {
            e = WASI_ELOOP;
            break;
        }
        if (tn == 0) {
            e = WASI_ENOENT;
            break;
        }
        if (target[0] == '/') {
            e = WASI_ENOTCAPABLE;
            break;
        }
        if (start + (size_t)tn + 1 > WALK_MAX_TEXT) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        char *next = wb_malloc(start + (size_t)tn + 2);
        memcpy(next, cur, start);
        memcpy(next + start, target, (size_t)tn);
        next[start + (size_t)tn] = slash ? '/' : '\0';
        next[start + (size_t)tn + 1] = '\0';
        free(cur);
        cur = next;
    }
    free(cur);
    return e;
}

void wasi_path_release(wasi_path *p) {
    if (p->owned && p->dirfd >= 0) close(p->dirfd);
    free(p->name);
    p->name = NULL;
    p->dirfd = -1;
    p->owned = false;
}

uint16_t wasi_open_beneath(int dirfd, const char *path, size_t len, unsigned flags, int oflags,
                           mode_t mode, int *out_fd) {
    char *p;
    uint16_t e = copy_path(path, len, &p);
    if (e) return e;
    oflags |= O_CLOEXEC;
    if (!(flags & WASI_RESOLVE_FOLLOW)) oflags |= O_NOFOLLOW;
    if (openat2_wanted(flags)) {
        int fd = openat2_beneath(dirfd, p, oflags, mode);
        if (fd >= 0) {
            free(p);
            *out_fd = fd;
            return 0;
        }
        if (fd != -ENOSYS) {
            free(p);
            return fd == -EXDEV ? WASI_ENOTCAPABLE : wasi_errno(-fd);
        }
        flags |= WASI_RESOLVE_WALK;
    }
    /* The walk finds the directory and the final name (final symlinks expanded when following),
     * then one openat that never follows: a link swapped in meanwhile gives ELOOP, not an
     * escape. O_CREAT with a trailing slash keeps the slash for the kernel (EISDIR), as openat2
     * would answer. */
    bool creat_slash = (oflags & O_CREAT) && p[len - 1] == '/';
    wasi_path rp;
    e = wasi_resolve(dirfd, p, len,
                     (flags & (WASI_RESOLVE_FOLLOW | WASI_RESOLVE_WALK)) |
                         (creat_slash ? 0 : WASI_RESOLVE_SLASH_DIR),
                     &rp);
    free(p);
    if (e) return e;
    int fd = openat(rp.dirfd, rp.name, oflags | O_NOFOLLOW, mode);
    int saved = errno;
    wasi_path_release(&rp);
    if (fd < 0) return wasi_errno(saved);
    *out_fd = fd;
    return 0;
}
