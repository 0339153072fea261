/* Safe tar extraction (see tar.h). One walker reads the archive with libarchive and checks every
 * entry (its name, type, the size and entry caps, whiteouts, duplicates); then the entry is either
 * materialised beneath dest — only *at() calls relative to dest's descriptor, each path component
 * opened with O_NOFOLLOW, files created with O_EXCL — or, for a scan, recorded in a table of the
 * archive's paths so that the same escapes can be recognised without touching the disk. */
#include "oci/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/dynlib.h"
#include "base/fsutil.h"
#include "oci/tar_stream.h"

#define DEFAULT_MAX_BYTES   ((uint64_t)16 << 30)
#define DEFAULT_MAX_ENTRIES 1000000
#define MAX_PATH_LEN        4096
#define MAX_COMPONENT_LEN   255
#define WHITEOUT_PREFIX     ".wh."
#define WHITEOUT_OPAQUE     ".wh..wh..opq"

/* ---- the table of paths seen in this archive ---- */

enum kind { K_DIR = 1, K_FILE, K_SYMLINK, K_OTHER };

typedef struct path_slot {
    char *path; /* NULL: empty slot */
    uint8_t kind;
    bool implicit; /* a parent directory the archive did not list itself */
    int32_t dir;   /* index of its deferred_dir record, or -1 */
} path_slot;

typedef struct path_table {
    path_slot *slots;
    size_t cap, count; /* cap: a power of two */
} path_table;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static path_slot *table_find(path_table *t, const char *path) {
    if (!t->cap) return NULL;
    for (size_t i = hash_str(path) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->slots[i].path) return NULL;
        if (!strcmp(t->slots[i].path, path)) return &t->slots[i];
    }
}

/* Insert or update; returns the slot. */
static path_slot *table_put(path_table *t, const char *path, uint8_t kind, bool implicit) {
    path_slot *s = table_find(t, path);
    if (s) {
        s->kind = kind;
        s->implicit = implicit;
        return s;
    }
    if ((t->count + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        path_slot *n = wb_calloc(ncap, sizeof *n);
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].path) continue;
            size_t k = hash_str(t->slots[i].path) & (ncap - 1);
            while (n[k].path) k = (k + 1) & (ncap - 1);
            n[k] = t->slots[i];
        }
        free(t->slots);
        t->slots = n;
        t->cap = ncap;
    }
    size_t i = hash_str(path) & (t->cap - 1);
    while (t->slots[i].path) i = (i + 1) & (t->cap - 1);
    t->slots[i] = (path_slot){wb_strdup(path), kind, implicit, -1};
    t->count++;
    return &t->slots[i];
}

static void table_release(path_table *t) {
    for (size_t i = 0; i < t->cap; i++) free(t->slots[i].path);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- the walker ---- */

typedef struct deferred_dir {
    char *path;
    mode_t mode;
    struct timespec mtime;
} deferred_dir;

typedef struct walker {
    const wb_libarchive *ar;
    wb_tar_stream *ts;
    struct archive *a; /* the stream's tar reader */
    int root;          /* dest's descriptor; -1 for a scan */
    unsigned flags;
    uint64_t max_bytes, max_entries;
    wb_tar_stats st;
    path_table seen;
    deferred_dir *dirs; /* directory modes and times, applied at the end (children first) */
    size_t ndirs, dirs_cap;
    char *cached_parent; /* the last parent directory opened, and its descriptor */
    int cached_fd;
} walker;

/* An entry name made printable for a message (control characters shown as '?', long names cut). */
static const char *printable(const char *name, char *buf, size_t size) {
    size_t i = 0;
    for (; name[i] && i + 4 < size; i++) buf[i] = (unsigned char)name[i] < 0x20 ? '?' : name[i];
    if (name[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static int bad_entry(wb_error *err, int code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad_entry(wb_error *err, int code, const char *name, const char *fmt, ...) {
    char pname[220], why[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return wb_error_set(err, code, "archive entry `%s`: %s", printable(name, pname, sizeof pname),
                        why);
}

/* Normalise an entry name into out: components separated by one '/', no "." components, no
 * leading or trailing '/'. Absolute names and ".." components are refused. "" is the root. */
static int normalise(const char *name, char *out, size_t size, wb_error *err) {
    if (!name) return wb_error_set(err, EINVAL, "archive entry with an unreadable name");
    if (name[0] == '/')
        return bad_entry(err, EPERM, name, "absolute path (names must be relative)");
    size_t used = 0;
    for (const char *p = name; *p;) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return bad_entry(err, EPERM, name, "the path leaves the destination (`..`)");
        if (n > MAX_COMPONENT_LEN) return bad_entry(err, ENAMETOOLONG, name, "name too long");
        if (used + n + 2 > size || used + n + 2 > MAX_PATH_LEN)
            return bad_entry(err, ENAMETOOLONG, name, "path too long");
        if (used) out[used++] = '/';
        memcpy(out + used, p, n);
        used += n;
        p += n;
    }
    out[used] = '\0';
    return 0;
}

static void drop_cache(walker *w) {
    if (w->cached_fd >= 0) close(w->cached_fd);
    w->cached_fd = -1;
    free(w->cached_parent);
    w->cached_parent = NULL;
}

/* Open the directory `rel` (normalised, "" = dest) beneath dest, one component at a time, never
 * following a symlink; missing directories are created (0755) when `create`, and recorded as
 * implicit. Returns a descriptor the caller closes, or -1 with err naming `entry`. */
static int open_dir(walker *w, const char *rel, bool create, const char *entry, wb_error *err) {
    int fd = openat(w->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "open the destination");
    char part[MAX_PATH_LEN + 1];
    size_t len = strlen(rel);
    if (len > MAX_PATH_LEN) {
        close(fd);
        return bad_entry(err, ENAMETOOLONG, entry, "path too long");
    }
    memcpy(part, rel, len + 1);
    for (char *p = part; *p;) {
        char *slash = strchr(p, '/');
        if (slash) *slash = '\0';
        int next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bool made = false;
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, p, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                return bad_entry(err, e, entry, "create directory `%s`: %s", part, strerror(e));
            }
            made = true;
            next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            struct stat st;
            bool is_link = fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            close(fd);
            if (is_link)
                return bad_entry(err, EPERM, entry,
                                 "`%s` is a symbolic link (refusing to follow it)", part);
            if (e == ENOTDIR || e == ELOOP)
                return bad_entry(err, ENOTDIR, entry, "`%s` is not a directory", part);
            return bad_entry(err, e, entry, "open `%s`: %s", part, strerror(e));
        }
        close(fd);
        fd = next;
        if (made) fchmod(fd, 0755); /* whatever the umask */
        /* a directory this archive passes through is its own for the whiteout rules */
        if (create && !table_find(&w->seen, part)) table_put(&w->seen, part, K_DIR, true);
        if (!slash) break;
        *slash = '/';
        p = slash + 1;
    }
    return fd;
}

/* The parent directory of an entry, through a one-entry cache (archives list siblings together).
 * The descriptor belongs to the cache: do not close it. */
static int parent_dir(walker *w, const char *parent, const char *entry, wb_error *err) {
    if (w->cached_parent && !strcmp(w->cached_parent, parent)) return w->cached_fd;
    drop_cache(w);
    int fd = open_dir(w, parent, true, entry, err);
    if (fd < 0) return -1;
    w->cached_parent = wb_strdup(parent);
    w->cached_fd = fd;
    return fd;
}

/* rm -rf of name in dir, never following symlinks. */
static int remove_at(int dir, const char *name, int depth) {
    if (unlinkat(dir, name, 0) == 0 || errno == ENOENT) return 0;
    if (errno != EISDIR && errno != EPERM) return -1;
    if (depth > MAX_PATH_LEN / 2) {
        errno = ELOOP;
        return -1;
    }
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        rc = remove_at(dirfd(d), de->d_name, depth + 1);
    }
    closedir(d);
    if (rc == 0 && unlinkat(dir, name, AT_REMOVEDIR) != 0 && errno != ENOENT) rc = -1;
    return rc;
}

static void split(const char *path, char *parent, const char **leaf) {
    const char *slash = strrchr(path, '/');
    if (slash) {
        memcpy(parent, path, (size_t)(slash - path));
        parent[slash - path] = '\0';
        *leaf = slash + 1;
    } else {
        parent[0] = '\0';
        *leaf = path;
    }
}

/* Make room for a new entry `leaf` in dir: an existing non-directory is unlinked; an existing
 * directory is kept when the new entry is a directory, else removed with its contents. (The
 * cached parent descriptor stays valid: only entries inside it are removed.) */
static int clear_slot(const walker *w, int dir, const char *leaf, bool new_is_dir, bool *exists_dir,
                      const char *entry, wb_error *err) {
    struct stat st;
    *exists_dir = false;
    if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return 0;
        return bad_entry(err, errno, entry, "stat: %s", strerror(errno));
    }
    if (S_ISDIR(st.st_mode) && new_is_dir) {
        *exists_dir = true;
        return 0;
    }
    if ((w->flags & WB_TAR_KEEP_DIRS) && (S_ISDIR(st.st_mode) || new_is_dir))
        return bad_entry(err, EEXIST, entry, "cannot overwrite %s with %s",
                         S_ISDIR(st.st_mode) ? "a directory" : "a non-directory",
                         new_is_dir ? "a directory" : "a non-directory");
    if (remove_at(dir, leaf, 0) != 0)
        return bad_entry(err, errno, entry, "replace the existing entry: %s", strerror(errno));
    return 0;
}

/* Whether a block is all zeros (then it is left as a hole of the new, empty file). */
static bool all_zero(const uint8_t *p, size_t n) {
    return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/* The entry's data; *end is where it ends (the file's length before a final hole). */
static int write_file_data(walker *w, int fd, const char *entry, uint64_t *end, wb_error *err) {
    const void *buf;
    size_t size;
    la_int64_t offset;
    *end = 0;
    for (;;) {
        int r = w->ar->archive_read_data_block(w->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return 0;
        if (r < ARCHIVE_WARN) {
            wb_tar_stream_fail(w->ts, "", err);
            if (wb_tar_stream_over_limit(w->ts)) w->st.over_limit = WB_TAR_OVER_BYTES;
            return wb_error_wrap(err, "archive entry `%.200s`: read", entry);
        }
        char lim[32];
        if (offset < 0 || (uint64_t)offset + size > w->max_bytes) {
            w->st.over_limit = WB_TAR_OVER_BYTES;
            return bad_entry(err, EFBIG, entry, "more than %s uncompressed (the limit)",
                             wb_size_text(w->max_bytes, lim, sizeof lim));
        }
        if ((uint64_t)offset + size > *end) *end = (uint64_t)offset + size;
        const uint8_t *p = buf;
        if (all_zero(p, size)) continue;
        while (size) {
            ssize_t n = pwrite(fd, p, size, offset);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return bad_entry(err, errno, entry, "write: %s", strerror(errno));
            p += n;
            size -= (size_t)n;
            offset += n;
        }
    }
}

static int extract_file(walker *w, struct archive_entry *e, int dir, const char *leaf,
                        const char *entry, wb_error *err) {
    bool exists_dir;
    if (clear_slot(w, dir, leaf, false, &exists_dir, entry, err) < 0) return -1;
    int fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return bad_entry(err, errno, entry, "create: %s", strerror(errno));
    uint64_t end;
    int rc = write_file_data(w, fd, entry, &end, err);
    /* the last hole (of a sparse entry, or zeros not written) */
    uint64_t length =
        w->ar->archive_entry_size_is_set(e) ? (uint64_t)w->ar->archive_entry_size(e) : end;
    if (rc == 0 && ftruncate(fd, (off_t)length) != 0)
        rc = bad_entry(err, errno, entry, "truncate: %s", strerror(errno));
    if (rc == 0) {
        struct timespec times[2] = {{0, UTIME_OMIT}, {w->ar->archive_entry_mtime(e), 0}};
        if ((w->flags & WB_TAR_KEEP_OWNERS) &&
            fchown(fd, (uid_t)w->ar->archive_entry_uid(e), (gid_t)w->ar->archive_entry_gid(e)) != 0)
            rc = bad_entry(err, errno, entry, "chown: %s", strerror(errno));
        fchmod(fd, w->ar->archive_entry_perm(e) & (w->flags & WB_TAR_KEEP_OWNERS ? 07777 : 01777));
        futimens(fd, times);
    }
    close(fd);
    return rc;
}

static int outside_link(wb_error *err, const char *entry, const char *target) {
    char ptarget[220];
    return bad_entry(err, EPERM, entry, "hard link to `%s`, outside the archive",
                     target ? printable(target, ptarget, sizeof ptarget) : "");
}

/* A hard link: the target must be a file or symlink already beneath dest, reached without
 * following a symlink. */
static int extract_hardlink(walker *w, const char *target_name, int dir, const char *leaf,
                            const char *entry, wb_error *err) {
    char target[MAX_PATH_LEN + 1], tparent[MAX_PATH_LEN + 1];
    const char *tleaf;
    if (normalise(target_name, target, sizeof target, NULL) < 0)
        return outside_link(err, entry, target_name);
    if (!target[0]) return bad_entry(err, EPERM, entry, "hard link to the destination itself");
    split(target, tparent, &tleaf);
    int tdir = open_dir(w, tparent, false, entry, err);
    if (tdir < 0) {
        if (err && err->code == ENOENT)
            return bad_entry(err, ENOENT, entry, "hard link to `%s`, which is not in the archive",
                             target);
        return -1;
    }
    struct stat st;
    int rc = 0;
    if (fstatat(tdir, tleaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc =
            bad_entry(err, ENOENT, entry, "hard link to `%s`, which is not in the archive", target);
    } else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        rc = bad_entry(err, EPERM, entry, "hard link to `%s`, which is not a file", target);
    } else if (!strcmp(target, entry)) {
        rc = bad_entry(err, EPERM, entry, "hard link to itself");
    } else {
        bool exists_dir;
        if (clear_slot(w, dir, leaf, false, &exists_dir, entry, err) < 0)
            rc = -1;
        else if (linkat(tdir, tleaf, dir, leaf, 0) != 0)
            rc = bad_entry(err, errno, entry, "link to `%s`: %s", target, strerror(errno));
    }
    close(tdir);
    return rc;
}

/* Directory modes and times are applied at the end: a read-only directory must stay writable
 * while its children are extracted, and children change its mtime. A directory listed again
 * updates its record. */
static void defer_dir(walker *w, const char *path, mode_t mode, time_t mtime) {
    path_slot *s = table_find(&w->seen, path);
    if (s && s->dir >= 0) {
        w->dirs[s->dir].mode = mode;
        w->dirs[s->dir].mtime = (struct timespec){mtime, 0};
        return;
    }
    WB_VEC_RESERVE(w->dirs, w->dirs_cap, w->ndirs + 1);
    w->dirs[w->ndirs] = (deferred_dir){wb_strdup(path), mode, {mtime, 0}};
    s = table_put(&w->seen, path, K_DIR, false);
    s->dir = (int32_t)w->ndirs++;
}

/* Lower layers' entries beneath `rel` go; what this archive put there stays. */
static int apply_opaque(walker *w, int dir, const char *rel, int depth) {
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char child[MAX_PATH_LEN + 300];
        if (wb_path_join(child, sizeof child, NULL, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) <
            0) {
            errno = ENAMETOOLONG;
            rc = -1;
            break;
        }
        path_slot *s = table_find(&w->seen, child);
        if (!s) {
            rc = remove_at(dirfd(d), de->d_name, 0);
        } else if (s->kind == K_DIR && depth < MAX_PATH_LEN / 2) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                rc = apply_opaque(w, sub, child, depth + 1);
                close(sub);
            }
        }
    }
    closedir(d);
    return rc;
}

static int apply_whiteout(walker *w, int dir, const char *parent, const char *leaf,
                          const char *entry, wb_error *err) {
    if (!strcmp(leaf, WHITEOUT_OPAQUE)) {
        if (apply_opaque(w, dir, parent, 0) != 0)
            return bad_entry(err, errno, entry, "apply the opaque whiteout: %s", strerror(errno));
        return 0;
    }
    const char *victim = leaf + strlen(WHITEOUT_PREFIX);
    if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
        return bad_entry(err, EINVAL, entry, "invalid whiteout name");
    char path[MAX_PATH_LEN + 300];
    if (wb_path_join(path, sizeof path, err, "%s%s%s", parent, parent[0] ? "/" : "", victim) < 0)
        return -1;
    if (table_find(&w->seen, path)) return 0; /* a whiteout hides only lower layers' files */
    if (remove_at(dir, victim, 0) != 0)
        return bad_entry(err, errno, entry, "apply the whiteout: %s", strerror(errno));
    return 0;
}

/* A whiteout in overlayfs's format (WB_TAR_OVERLAY_WHITEOUTS): this layer's directory says what
 * it hides from the layers below it. */
static int overlay_whiteout(walker *w, int dir, const char *parent, const char *leaf,
                            const char *entry, wb_error *err) {
    if (!strcmp(leaf, WHITEOUT_OPAQUE)) {
        int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = fd < 0 ? -1 : fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
        int e = errno;
        if (fd >= 0) close(fd);
        if (rc != 0) return bad_entry(err, e, entry, "mark the directory opaque: %s", strerror(e));
        return 0;
    }
    const char *victim = leaf + strlen(WHITEOUT_PREFIX);
    if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
        return bad_entry(err, EINVAL, entry, "invalid whiteout name");
    char path[MAX_PATH_LEN + 300];
    if (wb_path_join(path, sizeof path, err, "%s%s%s", parent, parent[0] ? "/" : "", victim) < 0)
        return -1;
    if (table_find(&w->seen, path)) return 0; /* this layer's own file hides the lower ones */
    if (mknodat(dir, victim, S_IFCHR | 0600, makedev(0, 0)) != 0 && errno != EEXIST)
        return bad_entry(err, errno, entry, "record the whiteout: %s", strerror(errno));
    return 0;
}

/* Materialise one checked entry. */
static int extract_entry(walker *w, struct archive_entry *e, const char *path, enum kind kind,
                         const char *hardlink, bool whiteout, wb_error *err) {
    char parent[MAX_PATH_LEN + 1];
    const char *leaf;
    split(path, parent, &leaf);
    if (whiteout && (w->flags & WB_TAR_OVERLAY_WHITEOUTS)) {
        int pdir = parent_dir(w, parent, path, err);
        return pdir < 0 ? -1 : overlay_whiteout(w, pdir, parent, leaf, path, err);
    }
    if (whiteout) { /* nothing to hide where there is no directory: do not create one */
        wb_error why = {0};
        int wdir = open_dir(w, parent, false, path, &why);
        if (wdir < 0 && why.code == ENOENT) return 0;
        if (wdir < 0) {
            if (err) *err = why;
            return -1;
        }
        int rc = apply_whiteout(w, wdir, parent, leaf, path, err);
        close(wdir);
        return rc;
    }
    int dir = parent_dir(w, parent, path, err);
    if (dir < 0) return -1;
    if (hardlink) return extract_hardlink(w, hardlink, dir, leaf, path, err);
    bool exists_dir;
    switch (kind) {
    case K_DIR:
        if (clear_slot(w, dir, leaf, true, &exists_dir, path, err) < 0) return -1;
        if (!exists_dir && mkdirat(dir, leaf, 0700) != 0)
            return bad_entry(err, errno, path, "create directory: %s", strerror(errno));
        if ((w->flags & WB_TAR_KEEP_OWNERS) &&
            fchownat(dir, leaf, (uid_t)w->ar->archive_entry_uid(e),
                     (gid_t)w->ar->archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) != 0)
            return bad_entry(err, errno, path, "chown: %s", strerror(errno));
        defer_dir(w, path, w->ar->archive_entry_perm(e) & 01777, w->ar->archive_entry_mtime(e));
        return 0;
    case K_FILE: return extract_file(w, e, dir, leaf, path, err);
    case K_SYMLINK: {
        const char *target = w->ar->archive_entry_symlink(e);
        if (!target || !*target)
            return bad_entry(err, EINVAL, path, "symbolic link without target");
        if (clear_slot(w, dir, leaf, false, &exists_dir, path, err) < 0) return -1;
        if (symlinkat(target, dir, leaf) != 0)
            return bad_entry(err, errno, path, "create symbolic link: %s", strerror(errno));
        if ((w->flags & WB_TAR_KEEP_OWNERS) &&
            fchownat(dir, leaf, (uid_t)w->ar->archive_entry_uid(e),
                     (gid_t)w->ar->archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) != 0)
            return bad_entry(err, errno, path, "chown: %s", strerror(errno));
        struct timespec times[2] = {{0, UTIME_OMIT}, {w->ar->archive_entry_mtime(e), 0}};
        utimensat(dir, leaf, times, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    default: return bad_entry(err, EPERM, path, "unsupported entry type");
    }
}

/* The scan's view of the same rules: ancestors must be directories of this archive (or implied),
 * never symlinks; hard links point at files seen before. */
static int scan_entry(walker *w, const char *path, enum kind kind, const char *hardlink,
                      wb_error *err) {
    char prefix[MAX_PATH_LEN + 1];
    for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
        size_t n = (size_t)(p - path);
        memcpy(prefix, path, n);
        prefix[n] = '\0';
        path_slot *s = table_find(&w->seen, prefix);
        if (!s) {
            table_put(&w->seen, prefix, K_DIR, true);
        } else if (s->kind == K_SYMLINK) {
            return bad_entry(err, EPERM, path, "`%s` is a symbolic link (refusing to follow it)",
                             prefix);
        } else if (s->kind != K_DIR) {
            return bad_entry(err, ENOTDIR, path, "`%s` is not a directory", prefix);
        }
    }
    if (hardlink) {
        char target[MAX_PATH_LEN + 1];
        if (normalise(hardlink, target, sizeof target, NULL) < 0)
            return outside_link(err, path, hardlink);
        path_slot *s = table_find(&w->seen, target);
        if (!s || s->implicit)
            return bad_entry(err, ENOENT, path, "hard link to `%s`, which is not in the archive",
                             target);
        if (s->kind == K_DIR)
            return bad_entry(err, EPERM, path, "hard link to `%s`, which is not a file", target);
        if (!strcmp(target, path)) return bad_entry(err, EPERM, path, "hard link to itself");
    }
    (void)kind;
    return 0;
}

/* Does a component before the leaf start with `.wh.`? */
static bool beneath_whiteout(const char *path, const char *leaf) {
    for (const char *c = path; c < leaf;) {
        if (!strncmp(c, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX))) return true;
        const char *slash = strchr(c, '/');
        if (!slash) break;
        c = slash + 1;
    }
    return false;
}

static int check_and_apply(walker *w, struct archive_entry *e, wb_error *err) {
    const wb_libarchive *ar = w->ar;
    const char *raw = ar->archive_entry_pathname(e);
    char path[MAX_PATH_LEN + 1];
    if (normalise(raw, path, sizeof path, err) < 0) return -1;
    if (++w->st.entries > w->max_entries) {
        w->st.over_limit = WB_TAR_OVER_ENTRIES;
        return bad_entry(err, EFBIG, raw, "more than %llu entries (the limit)",
                         (unsigned long long)w->max_entries);
    }
    const char *hardlink = ar->archive_entry_hardlink(e);
    mode_t type = ar->archive_entry_filetype(e);
    enum kind kind = K_OTHER;
    if (hardlink)
        kind = K_FILE;
    else if (type == AE_IFREG)
        kind = K_FILE;
    else if (type == AE_IFDIR)
        kind = K_DIR;
    else if (type == AE_IFLNK)
        kind = K_SYMLINK;
    else if (type == AE_IFCHR || type == AE_IFBLK)
        return bad_entry(err, EPERM, raw, "device nodes are not allowed");
    else if (type == AE_IFIFO)
        return bad_entry(err, EPERM, raw, "FIFOs are not allowed");
    else if (type == AE_IFSOCK)
        return bad_entry(err, EPERM, raw, "sockets are not allowed");
    else
        return bad_entry(err, EPERM, raw, "unsupported entry type 0%o", (unsigned)type);

    if (!path[0]) { /* "./": dest itself */
        if (kind != K_DIR) return bad_entry(err, EPERM, raw, "the root is not a directory");
        return 0;
    }
    const char *leaf = strrchr(path, '/');
    leaf = leaf ? leaf + 1 : path;
    bool whiteout = !strncmp(leaf, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX));
    bool beneath = beneath_whiteout(path, leaf);
    if ((whiteout || beneath) && (w->flags & WB_TAR_REFUSE_WHITEOUTS))
        return bad_entry(err, EPERM, raw, "whiteout entries are not allowed here");
    unsigned honour = WB_TAR_APPLY_WHITEOUTS | WB_TAR_OVERLAY_WHITEOUTS;
    if (!(w->flags & honour)) whiteout = false;
    /* `.wh.x/` written as a directory with entries: the whiteout is the directory entry itself;
     * what the tar puts beneath it means nothing and must not recreate it */
    if (beneath && (w->flags & honour)) return 0;

    path_slot *prev = table_find(&w->seen, path);
    if (prev && !prev->implicit && (w->flags & WB_TAR_REFUSE_DUPLICATES))
        return bad_entry(err, EEXIST, raw, "duplicate entry");

    uint64_t size = kind == K_FILE && !hardlink && ar->archive_entry_size_is_set(e)
                        ? (uint64_t)ar->archive_entry_size(e)
                        : 0;
    char lim[32], declared[32];
    if (size > w->max_bytes || w->st.bytes + size > w->max_bytes) {
        w->st.over_limit = WB_TAR_OVER_BYTES;
        return bad_entry(err, EFBIG, raw,
                         "declares %s, which takes the archive past %s uncompressed (the limit)",
                         wb_size_text(size, declared, sizeof declared),
                         wb_size_text(w->max_bytes, lim, sizeof lim));
    }
    w->st.bytes += size;

    int rc = w->root < 0 ? scan_entry(w, path, kind, hardlink, err)
                         : extract_entry(w, e, path, kind, hardlink, whiteout, err);
    if (rc < 0) return -1;
    path_slot *s = table_put(&w->seen, path, whiteout ? K_OTHER : (uint8_t)kind, false);
    if (kind != K_DIR) s->dir = -1;
    return 0;
}

static void finish_dirs(walker *w) {
    for (size_t i = w->ndirs; i-- > 0;) {
        deferred_dir *d = &w->dirs[i];
        int fd = open_dir(w, d->path, false, d->path, NULL);
        if (fd >= 0) {
            fchmod(fd, d->mode);
            struct timespec times[2] = {{0, UTIME_OMIT}, d->mtime};
            futimens(fd, times);
            close(fd);
        }
    }
}

static void walker_release(walker *w) {
    drop_cache(w);
    table_release(&w->seen);
    for (size_t i = 0; i < w->ndirs; i++) free(w->dirs[i].path);
    free(w->dirs);
    wb_tar_stream_free(w->ts);
    if (w->root >= 0) close(w->root);
}

/* Open the archive (path, or fd when path is NULL) and walk it. */
static int walk(const char *path, int fd, const char *name, const char *dest,
                const wb_tar_limits *lim, unsigned flags, wb_tar_stats *stats, wb_error *err) {
    walker w = {.root = -1, .cached_fd = -1, .flags = flags};
    w.max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
    w.max_entries = lim && lim->max_entries ? lim->max_entries : DEFAULT_MAX_ENTRIES;
    if (stats) memset(stats, 0, sizeof *stats);
    if ((flags & WB_TAR_APPLY_WHITEOUTS) && (flags & WB_TAR_REFUSE_WHITEOUTS))
        return wb_error_set(err, EINVAL, "whiteouts cannot be both applied and refused");
    w.ar = wb_libarchive_get(err);
    if (!w.ar) return -1;
    int rc = -1;
    if (dest) {
        w.root = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w.root < 0) {
            wb_error_sys(err, "open `%s`", dest);
            goto out;
        }
    }
    /* the stream's own cap is the content cap: the tar's headers and padding count too */
    if (wb_tar_stream_open(path, fd, name, w.max_bytes, flags & WB_TAR_DIGEST, &w.ts, err) < 0)
        goto out;
    w.a = wb_tar_stream_reader(w.ts);
    for (;;) {
        struct archive_entry *e;
        int r = w.ar->archive_read_next_header(w.a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            char what[300];
            snprintf(what, sizeof what, "read `%.200s`: ", name);
            wb_tar_stream_fail(w.ts, what, err);
            if (wb_tar_stream_over_limit(w.ts)) w.st.over_limit = WB_TAR_OVER_BYTES;
            goto out;
        }
        if (check_and_apply(&w, e, err) < 0) goto out;
    }
    if (w.root >= 0) finish_dirs(&w);
    if ((flags & WB_TAR_DIGEST) &&
        wb_tar_stream_finish(w.ts, w.st.digest, &w.st.stream_bytes, err) < 0) {
        if (wb_tar_stream_over_limit(w.ts)) w.st.over_limit = WB_TAR_OVER_BYTES;
        goto out;
    }
    rc = 0;
out:
    if (stats) *stats = w.st;
    walker_release(&w);
    return rc;
}

int wb_tar_extract(const char *archive, const char *dest, const wb_tar_limits *lim, unsigned flags,
                   wb_tar_stats *stats, wb_error *err) {
    return walk(archive, -1, archive, dest, lim, flags, stats, err);
}

int wb_tar_extract_fd(int fd, const char *name, const char *dest, const wb_tar_limits *lim,
                      unsigned flags, wb_tar_stats *stats, wb_error *err) {
    return walk(NULL, fd, name, dest, lim, flags, stats, err);
}

int wb_tar_scan(const char *archive, const wb_tar_limits *lim, unsigned flags, wb_tar_stats *stats,
                wb_error *err) {
    return walk(archive, -1, archive, NULL, lim, flags, stats, err);
}
