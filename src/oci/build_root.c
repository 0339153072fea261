/* A build stage's root on disk and RUN's upper directories (see build_root.h). Everything here
 * works on private directories of the running build (ROOT/images/buildcache/tmp/<pid>.<n>): no
 * container runs while they are read or changed, so plain paths are used. */
#include "oci/build_root.h"

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

#include <linux/openat2.h>
#include <sys/syscall.h>

#include "base/alloc.h"
#include "base/dynlib.h"
#include "oci/tar_stream.h"
#include "base/fsutil.h"
#include "oci/layer.h"

#define MAX_PATH  4096
#define MAX_DEPTH 256

static int strcmp_ptr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a directory, sorted (strcmp), without . and .. ; malloc'd. */
static int list_dir(const char *path, char ***names, size_t *n, wb_error *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d) return wb_error_sys(err, "open `%s`", path);
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        WB_VEC_RESERVE(*names, cap, *n + 1);
        (*names)[(*n)++] = wb_strdup(de->d_name);
    }
    closedir(d);
    if (*n > 1) qsort(*names, *n, sizeof **names, strcmp_ptr);
    return 0;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int join(char *out, const char *dir, const char *name, wb_error *err) {
    return wb_path_join(out, MAX_PATH, err, "%s%s%s", dir, dir[0] ? "/" : "", name);
}

/* ---- owners ---- */

/* The parent directory of `rel` inside the root, no symlink followed. */
static int open_parent(int rootfd, const char *rel, const char **leaf) {
    const char *slash = strrchr(rel, '/');
    *leaf = slash ? slash + 1 : rel;
    if (!slash) return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
    char dir[MAX_PATH];
    if (wb_path_join(dir, sizeof dir, NULL, "%.*s", (int)(slash - rel), rel) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve =
                               RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, rootfd, dir, &how, sizeof how);
}

int wb__root_apply_owners(const char *blob, const char *root, wb_error *err) {
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return wb_error_sys(err, "open `%s`", root);
    wb_tar_stream *ts;
    if (wb_tar_stream_open(blob, -1, blob, 0, false, &ts, err) < 0) {
        close(rootfd);
        return -1;
    }
    struct archive *a = wb_tar_stream_reader(ts);
    struct archive_entry *e;
    int r, rc = 0;
    while ((r = ar->archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        la_int64_t uid = ar->archive_entry_uid(e), gid = ar->archive_entry_gid(e);
        mode_t perm = ar->archive_entry_perm(e) & 07777;
        const char *name = ar->archive_entry_pathname(e);
        if (!name || ar->archive_entry_hardlink(e)) continue;
        while (name[0] == '.' && name[1] == '/') name += 2;
        while (name[0] == '/') name++;
        char rel[MAX_PATH];
        /* a name too long for a path cannot be in the root: skipped, as one not there */
        if (wb_path_join(rel, sizeof rel, NULL, "%s", name) < 0) continue;
        size_t l = strlen(rel);
        while (l && rel[l - 1] == '/') rel[--l] = '\0';
        if (!l || strstr(rel, "..") || strstr(rel, "/.wh.") || !strncmp(rel, ".wh.", 4)) continue;
        const char *leaf;
        int dfd = open_parent(rootfd, rel, &leaf);
        if (dfd < 0) continue; /* not there (a whiteout later), or beneath a symlink */
        struct stat st;
        bool differs = fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                       (st.st_uid != (uid_t)uid || st.st_gid != (gid_t)gid ||
                        (!S_ISLNK(st.st_mode) && ((perm | st.st_mode) & 06000) &&
                         (st.st_mode & 07777) != perm));
        if (differs) {
            if (fchownat(dfd, leaf, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) != 0)
                rc = wb_error_sys(err, "set the owner of `%s`", rel);
            else if (!S_ISLNK(st.st_mode) && fchmodat(dfd, leaf, perm, 0) != 0)
                rc = wb_error_sys(err, "set the mode of `%s`", rel);
        }
        close(dfd);
        if (rc < 0) break;
    }
    if (rc == 0 && r != ARCHIVE_EOF) rc = wb_tar_stream_fail(ts, blob, err);
    wb_tar_stream_free(ts);
    close(rootfd);
    return rc;
}

/* ---- upper directories ---- */

static bool is_whiteout(const struct stat *st) {
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(const char *path) {
    char v[4];
    ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof v);
    return n == 1 && v[0] == 'y';
}

/* An empty mount point the runtime made (see build_root.h), absent from the lower. */
static bool runtime_artifact(const char *rel, const struct stat *st, const char *upper_path,
                             const wb_lowers *lower) {
    static const char *const dirs[] = {"proc", "sys", "dev"};
    static const char *const files[] = {"etc/hostname", "etc/hosts", "etc/resolv.conf"};
    bool match = false;
    if (S_ISDIR(st->st_mode)) {
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
            if (!strcmp(rel, dirs[i])) match = true;
        if (match) {
            char **names;
            size_t n;
            if (list_dir(upper_path, &names, &n, NULL) < 0) return false;
            free_names(names, n);
            if (n) return false;
        }
    } else if (S_ISREG(st->st_mode) && st->st_size == 0) {
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
            if (!strcmp(rel, files[i])) match = true;
    }
    if (!match) return false;
    struct stat ls;
    return wb_lowers_lstat(lower, rel, &ls) != 0 && errno == ENOENT;
}

/* A directory copied up only because the runtime made mount points in it (etc/ for
 * /etc/hostname): it exists in the lower, is not opaque and holds nothing else. */
static bool only_artifacts(const char *upper_path, const char *rel, const wb_lowers *lower) {
    struct stat ls;
    if (wb_lowers_lstat(lower, rel, &ls) != 0 || !S_ISDIR(ls.st_mode) || is_opaque(upper_path))
        return false;
    char **names;
    size_t n;
    if (list_dir(upper_path, &names, &n, NULL) < 0) return false;
    bool only = n > 0;
    for (size_t i = 0; i < n && only; i++) {
        char p[MAX_PATH], r[MAX_PATH];
        struct stat st;
        only = join(p, upper_path, names[i], NULL) == 0 && join(r, rel, names[i], NULL) == 0 &&
               lstat(p, &st) == 0 && runtime_artifact(r, &st, p, lower);
    }
    free_names(names, n);
    return only;
}

typedef struct hardlink {
    dev_t dev;
    ino_t ino;
    char *path;
} hardlink;

typedef struct layer_walk {
    wb_layer_writer *w;
    const wb_lowers *lower;
    wb_upper_stats *stats;
    hardlink *links;
    size_t nlinks, cap;
} layer_walk;

static int emit(layer_walk *lw, const char *path, const char *rel, const struct stat *st,
                wb_error *err) {
    wb_layer_set_owner(lw->w, st->st_uid, st->st_gid);
    int64_t mtime = (int64_t)st->st_mtim.tv_sec;
    mode_t perm = st->st_mode & 07777;
    lw->stats->entries++;
    if (S_ISDIR(st->st_mode)) return wb_layer_add_dir(lw->w, rel, perm, mtime, err);
    if (S_ISLNK(st->st_mode)) {
        char target[MAX_PATH];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) return wb_error_sys(err, "read the link `%s`", path);
        target[n] = '\0';
        return wb_layer_add_symlink(lw->w, rel, target, mtime, err);
    }
    if (st->st_nlink > 1) {
        for (size_t i = 0; i < lw->nlinks; i++)
            if (lw->links[i].dev == st->st_dev && lw->links[i].ino == st->st_ino)
                return wb_layer_add_hardlink(lw->w, rel, lw->links[i].path, perm, mtime, err);
        WB_VEC_RESERVE(lw->links, lw->cap, lw->nlinks + 1);
        lw->links[lw->nlinks++] = (hardlink){st->st_dev, st->st_ino, wb_strdup(rel)};
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0) return wb_error_sys(err, "open `%s`", path);
    int rc = wb_layer_add_fd(lw->w, rel, fd, perm, mtime, err);
    close(fd);
    return rc;
}

/* Docker's whiteout names beside `rel` (whose parent is `dir`). */
static int emit_marker(layer_walk *lw, const char *dir, const char *name, const struct stat *st,
                       wb_error *err) {
    char p[MAX_PATH];
    if (wb_path_join(p, sizeof p, err, "%s%s.wh.%s", dir, dir[0] ? "/" : "", name) < 0) return -1;
    wb_layer_set_owner(lw->w, 0, 0);
    lw->stats->entries++;
    return wb_layer_add_bytes(lw->w, p, "", 0, 0, (int64_t)st->st_mtim.tv_sec, err);
}

static int walk_upper(layer_walk *lw, const char *path, const char *rel, int depth, wb_error *err) {
    if (depth > MAX_DEPTH) return wb_error_set(err, ELOOP, "`%s`: too deep", path);
    char **names;
    size_t n;
    if (list_dir(path, &names, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char p[MAX_PATH], r[MAX_PATH];
        struct stat st;
        if ((rc = join(p, path, names[i], err)) < 0 || (rc = join(r, rel, names[i], err)) < 0)
            break;
        if (lstat(p, &st) != 0) {
            rc = wb_error_sys(err, "stat `%s`", p);
            break;
        }
        if (is_whiteout(&st)) {
            rc = emit_marker(lw, rel, names[i], &st, err);
        } else if (runtime_artifact(r, &st, p, lw->lower) ||
                   (S_ISDIR(st.st_mode) && only_artifacts(p, r, lw->lower))) {
            continue;
        } else if (S_ISDIR(st.st_mode)) {
            if ((rc = emit(lw, p, r, &st, err)) == 0 && is_opaque(p))
                rc = emit_marker(lw, r, ".wh..opq", &st, err);
            if (rc == 0) rc = walk_upper(lw, p, r, depth + 1, err);
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
            rc = emit(lw, p, r, &st, err);
        } else {
            lw->stats->skipped++;
        }
    }
    free_names(names, n);
    return rc;
}

int wb__upper_write_layer(wb_images *s, const char *upper, const wb_lowers *lower,
                          wb_layer_desc *desc, wb_upper_stats *stats, wb_error *err) {
    memset(stats, 0, sizeof *stats);
    wb_layer_writer *w;
    if (wb_layer_writer_open(s, &w, err) < 0) return -1;
    layer_walk lw = {.w = w, .lower = lower, .stats = stats};
    int rc = walk_upper(&lw, upper, "", 0, err);
    for (size_t i = 0; i < lw.nlinks; i++) free(lw.links[i].path);
    free(lw.links);
    if (rc < 0 || stats->entries == 0) {
        wb_layer_writer_abort(w);
        return rc;
    }
    return wb_layer_writer_commit(w, desc, err);
}
