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

static void set_times(const char *path, const struct stat *st) {
    struct timespec t[2] = {st->st_atim, st->st_mtim};
    utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

/* ---- the hard-link copy ---- */

static int copy_file(const char *src, const char *dst, const struct stat *st, wb_error *err) {
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return wb_error_sys(err, "open `%s`", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        close(in);
        return wb_error_sys(err, "create `%s`", dst);
    }
    char buf[65536];
    ssize_t k;
    int rc = 0;
    while ((k = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)k) != k) {
            rc = wb_error_sys(err, "write `%s`", dst);
            break;
        }
    if (k < 0) rc = wb_error_sys(err, "read `%s`", src);
    if (rc == 0 && (fchown(out, st->st_uid, st->st_gid) != 0 || fchmod(out, st->st_mode & 07777)))
        rc = wb_error_sys(err, "set the owner of `%s`", dst);
    close(in);
    close(out);
    if (rc == 0) set_times(dst, st);
    return rc;
}

static int link_tree(const char *src, const char *dst, int depth, wb_error *err) {
    struct stat st;
    if (lstat(src, &st) != 0) return wb_error_sys(err, "stat `%s`", src);
    if (!S_ISDIR(st.st_mode)) {
        if (linkat(AT_FDCWD, src, AT_FDCWD, dst, 0) == 0) return 0;
        if (errno != EXDEV && errno != EMLINK && errno != EPERM)
            return wb_error_sys(err, "link `%s`", dst);
        if (S_ISREG(st.st_mode)) return copy_file(src, dst, &st, err);
        if (S_ISLNK(st.st_mode)) {
            char target[MAX_PATH];
            ssize_t n = readlink(src, target, sizeof target - 1);
            if (n < 0) return wb_error_sys(err, "read the link `%s`", src);
            target[n] = '\0';
            if (symlink(target, dst) != 0) return wb_error_sys(err, "create `%s`", dst);
            if (lchown(dst, st.st_uid, st.st_gid) != 0) {
                /* the owner of a symlink matters to nobody here */
            }
            return 0;
        }
        return 0; /* nothing else is unpacked into a rootfs */
    }
    if (depth > MAX_DEPTH) return wb_error_set(err, ELOOP, "`%s`: too deep", src);
    if (mkdir(dst, 0700) != 0) return wb_error_sys(err, "create `%s`", dst);
    char **names;
    size_t n;
    if (list_dir(src, &names, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char s[MAX_PATH], d[MAX_PATH];
        if ((rc = join(s, src, names[i], err)) == 0 && (rc = join(d, dst, names[i], err)) == 0)
            rc = link_tree(s, d, depth + 1, err);
    }
    free_names(names, n);
    if (rc == 0 && (chown(dst, st.st_uid, st.st_gid) != 0 || chmod(dst, st.st_mode & 07777) != 0))
        rc = wb_error_sys(err, "set the mode of `%s`", dst);
    if (rc == 0) set_times(dst, &st);
    return rc;
}

int wb__root_link_copy(const char *src, const char *dst, wb_error *err) {
    return link_tree(src, dst, 0, err);
}

/* ---- owners ---- */

/* The parent directory of `rel` inside the root, no symlink followed. */
static int open_parent(int rootfd, const char *rel, const char **leaf) {
    const char *slash = strrchr(rel, '/');
    *leaf = slash ? slash + 1 : rel;
    if (!slash) return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
    char dir[MAX_PATH];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - rel), rel);
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve =
                               RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, rootfd, dir, &how, sizeof how);
}

/* A file still shared with the image's rootfs (a hard link of the copy) gets its own inode
 * before its owner or mode changes. */
static void unshare_file(int dfd, const char *leaf, const struct stat *st) {
    if (!S_ISREG(st->st_mode) || st->st_nlink < 2) return;
    char tmp[300];
    snprintf(tmp, sizeof tmp, ".wb-own.%.200s", leaf);
    int in = openat(dfd, leaf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int out = in < 0 ? -1 : openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = out >= 0;
    char buf[65536];
    ssize_t k;
    while (ok && (k = read(in, buf, sizeof buf)) != 0)
        ok = k > 0 && write(out, buf, (size_t)k) == k;
    if (ok) {
        struct timespec t[2] = {st->st_atim, st->st_mtim};
        futimens(out, t);
        ok = renameat(dfd, tmp, dfd, leaf) == 0;
    }
    if (!ok && out >= 0) unlinkat(dfd, tmp, 0);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
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
        snprintf(rel, sizeof rel, "%s", name);
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
            unshare_file(dfd, leaf, &st);
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
                             const char *lower) {
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
    char lp[MAX_PATH];
    struct stat ls;
    if (join(lp, lower, rel, NULL) < 0) return false;
    return lstat(lp, &ls) != 0 && errno == ENOENT;
}

/* A directory copied up only because the runtime made mount points in it (etc/ for
 * /etc/hostname): it exists in the lower, is not opaque and holds nothing else. */
static bool only_artifacts(const char *upper_path, const char *rel, const char *lower) {
    char lp[MAX_PATH];
    struct stat ls;
    if (join(lp, lower, rel, NULL) < 0 || lstat(lp, &ls) != 0 || !S_ISDIR(ls.st_mode) ||
        is_opaque(upper_path))
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
    const char *lower;
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

int wb__upper_write_layer(wb_images *s, const char *upper, const char *lower, wb_layer_desc *desc,
                          wb_upper_stats *stats, wb_error *err) {
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

/* ---- moving an upper into the root ---- */

static void drop_overlay_xattrs(const char *path) {
    char names[4096];
    ssize_t n = llistxattr(path, names, sizeof names);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
        if (!strncmp(names + i, "trusted.overlay.", 16)) lremovexattr(path, names + i);
}

static int empty_dir(const char *path, wb_error *err) {
    char **names;
    size_t n;
    if (list_dir(path, &names, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char p[MAX_PATH];
        if ((rc = join(p, path, names[i], err)) == 0) rc = wb_remove_tree(p, err);
    }
    free_names(names, n);
    return rc;
}

static int apply_dir(const char *upper, const char *root, const char *top, const char *rel,
                     int depth, wb_error *err) {
    if (depth > MAX_DEPTH) return wb_error_set(err, ELOOP, "`%s`: too deep", upper);
    char **names;
    size_t n;
    if (list_dir(upper, &names, &n, err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char u[MAX_PATH], r[MAX_PATH], sub[MAX_PATH];
        struct stat us, rs;
        if ((rc = join(u, upper, names[i], err)) < 0 || (rc = join(r, root, names[i], err)) < 0 ||
            (rc = join(sub, rel, names[i], err)) < 0)
            break;
        if (lstat(u, &us) != 0) {
            rc = wb_error_sys(err, "stat `%s`", u);
            break;
        }
        bool exists = lstat(r, &rs) == 0;
        if (!exists && runtime_artifact(sub, &us, u, top)) continue;
        if (is_whiteout(&us)) {
            rc = wb_remove_tree(r, err);
        } else if (S_ISDIR(us.st_mode)) {
            if (exists && !S_ISDIR(rs.st_mode) && (rc = wb_remove_tree(r, err)) < 0) break;
            if (!exists || !S_ISDIR(rs.st_mode)) {
                if (mkdir(r, 0700) != 0) rc = wb_error_sys(err, "create `%s`", r);
            } else if (is_opaque(u)) {
                rc = empty_dir(r, err);
            }
            if (rc == 0) rc = apply_dir(u, r, top, sub, depth + 1, err);
            if (rc == 0 && (lchown(r, us.st_uid, us.st_gid) != 0 || chmod(r, us.st_mode & 07777)))
                rc = wb_error_sys(err, "set the mode of `%s`", r);
            if (rc == 0) set_times(r, &us);
        } else {
            if (exists && (rc = wb_remove_tree(r, err)) < 0) break;
            if (rename(u, r) != 0) {
                rc = wb_error_sys(err, "move `%s` into the stage's root", u);
                break;
            }
            drop_overlay_xattrs(r);
        }
    }
    free_names(names, n);
    return rc;
}

int wb__upper_apply(const char *upper, const char *root, wb_error *err) {
    return apply_dir(upper, root, root, "", 0, err);
}
