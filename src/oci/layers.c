/* An image's files as a stack of directories (see layers.h): the per-layer store, overlay
 * mounts of a stack, and reads through a stack with overlayfs's rules. */
#include "oci/layers.h"
#include "oci/spin_artifact.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "oci/build_root.h"
#include "oci/unpack.h"

#define MAX_SYMLINKS 40
#define MAX_OPTS     4000 /* the kernel copies one page of mount options */

bool wb_layers_apart(void) {
    return geteuid() == 0;
}

void wb_lowers_free(wb_lowers *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->dirs[i]);
    free(l->dirs);
    l->dirs = NULL;
    l->n = 0;
}

int wb_layer_dir(wb_images *s, const char *diff_id, char *buf, size_t size, wb_error *err) {
    if (!wb_digest_valid(diff_id))
        return wb_error_set(err, EINVAL,
                            "the image config gives no valid diff_id for a layer "
                            "(\"%.80s\")",
                            diff_id);
    return wb_path_join(buf, size, err, "%s/layers/%s", wb_images_dir(s), wb_digest_hex(diff_id));
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Unpack one layer into dir (which does not exist yet): aside, then renamed into place. */
static int unpack_layer(wb_images *s, const wb_layer_desc *l, const char *dir,
                        const wb_tar_limits *lim, wb_error *err) {
    char parent[4096], tmp[4200], blob[4096];
    if (wb_path_join(parent, sizeof parent, err, "%s/layers", wb_images_dir(s)) < 0 ||
        wb_path_join(tmp, sizeof tmp, err, "%s/.tmp.%s.%d", parent, wb_digest_hex(l->diff_id),
                     (int)getpid()) < 0 ||
        wb_blob_path(s, l->digest, blob, sizeof blob, err) < 0)
        return -1;
    if (wb_mkdir_p(parent, 0700, err) < 0) return -1;
    wb_remove_tree(tmp, NULL);
    if (mkdir(tmp, 0755) != 0) return wb_error_sys(err, "create `%s`", tmp);
    /* checked against its diff_id and the caps as it streams; whiteouts kept for overlayfs; then
     * the owners and setuid/setgid bits of the layer's headers */
    if (wb_layer_unpack_overlay(s, l, tmp, lim, err) < 0 ||
        wb__root_apply_owners(blob, tmp, err) < 0)
        goto fail;
    if (rename(tmp, dir) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) { /* another process got there first */
            wb_remove_tree(tmp, NULL);
            return 0;
        }
        wb_error_sys(err, "rename `%s`", tmp);
        goto fail;
    }
    return 0;
fail:
    wb_remove_tree(tmp, NULL);
    return -1;
}

int wb_layers_lowers(wb_images *s, const wb_layer_desc *layers, size_t n, wb_lowers *out,
                     wb_error *err) {
    memset(out, 0, sizeof *out);
    wb_images_hold_gc(s); /* a build's new layers are listed by no image yet */
    wb_tar_limits lim;
    bool have_lim = false;
    out->dirs = wb_calloc(n + 1, sizeof *out->dirs);
    /* top first; a layer listed twice is kept where it is topmost (overlayfs refuses the same
     * directory twice, and the lower copy is hidden by the upper one: same files, same
     * whiteouts) */
    for (size_t k = n; k-- > 0;) {
        const wb_layer_desc *l = &layers[k];
        if (!wb_layer_is_tar(l->media_type)) continue;
        char dir[4096];
        if (wb_layer_dir(s, l->diff_id, dir, sizeof dir, err) < 0) goto fail;
        bool seen = false;
        for (size_t i = 0; i < out->n && !seen; i++) seen = !strcmp(out->dirs[i], dir);
        if (seen) continue;
        if (!is_dir(dir)) {
            if (!have_lim && wb_layer_limits(&lim, err) < 0) goto fail;
            have_lim = true;
            if (unpack_layer(s, l, dir, &lim, err) < 0) goto fail;
        }
        out->dirs[out->n++] = wb_strdup(dir);
    }
    return 0;
fail:
    wb_lowers_free(out);
    return -1;
}

int wb_image_lowers(wb_images *s, const wb_image *img, wb_lowers *out, wb_error *err) {
    memset(out, 0, sizeof *out);
    if (img->wasm == WB_WASM_SPIN) { /* its contents laid out for the Spin runtime */
        char *root;
        if (wb_spin_artifact_root(s, img, &root, err) < 0) return -1;
        out->dirs = wb_calloc(1, sizeof *out->dirs);
        out->dirs[0] = root;
        out->n = 1;
        return 0;
    }
    if (wb_layers_apart()) return wb_layers_lowers(s, img->layers, img->nlayers, out, err);
    bool tars = false;
    for (size_t i = 0; i < img->nlayers; i++)
        tars = tars || wb_layer_is_tar(img->layers[i].media_type);
    if (!tars) return 0;
    char *flat;
    if (wb_image_rootfs(s, img, &flat, err) < 0) return -1;
    out->dirs = wb_calloc(1, sizeof *out->dirs);
    out->dirs[0] = flat;
    out->n = 1;
    return 0;
}

bool wb_image_lowers_need_unpack(wb_images *s, const wb_image *img) {
    if (!wb_layers_apart()) return wb_image_rootfs_needs_unpack(s, img);
    for (size_t i = 0; i < img->nlayers; i++) {
        char dir[4096];
        if (!wb_layer_is_tar(img->layers[i].media_type)) continue;
        if (wb_layer_dir(s, img->layers[i].diff_id, dir, sizeof dir, NULL) < 0 || !is_dir(dir))
            return true;
    }
    return false;
}

/* ---- overlay mounts ---- */

static int append(char *buf, size_t size, size_t *len, const char *fmt, const char *a,
                  const char *b) {
    int k = snprintf(buf + *len, size - *len, fmt, a, b);
    if (k < 0 || (size_t)k >= size - *len) return -1;
    *len += (size_t)k;
    return 0;
}

/* "lowerdir=A:B[,upperdir=U,workdir=W][,extra]", the lowers with `skip` leading bytes cut. */
static int build_opts(char *buf, size_t size, char *const *dirs, size_t n, size_t skip,
                      const char *upper, const char *work, const char *extra) {
    size_t len = 0;
    if (append(buf, size, &len, "%s%s", "lowerdir=", "") < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (append(buf, size, &len, "%s%s", i ? ":" : "", dirs[i] + skip) < 0) return -1;
    if (upper && (append(buf, size, &len, ",upperdir=%s%s", upper, "") < 0 ||
                  append(buf, size, &len, ",workdir=%s%s", work, "") < 0))
        return -1;
    if (extra && append(buf, size, &len, ",%s%s", extra, "") < 0) return -1;
    return 0;
}

int wb_overlay_mount(const char *target, char *const *dirs, size_t n, const char *upper,
                     const char *work, unsigned long flags, const char *extra, wb_error *err) {
    if (n == 0) return wb_error_set(err, EINVAL, "an overlay needs a lower directory");
    for (size_t i = 0; i < n; i++)
        if (strpbrk(dirs[i], ",:"))
            return wb_error_set(err, EINVAL, "paths with ',' or ':' cannot be overlay layers");
    if ((upper && strpbrk(upper, ",:")) || (work && strpbrk(work, ",:")))
        return wb_error_set(err, EINVAL, "paths with ',' or ':' cannot be overlay layers");
    if (!upper && n == 1) { /* a view of one directory: bound read-only */
        if (mount(dirs[0], target, NULL, MS_BIND, NULL) != 0 ||
            mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | flags, NULL) != 0)
            return wb_error_sys(err, "bind `%s` read-only", dirs[0]);
        return 0;
    }
    char opts[MAX_OPTS + 1];
    if (build_opts(opts, sizeof opts, dirs, n, 0, upper, work, extra) == 0) {
        if (mount("overlay", target, "overlay", flags, opts) != 0)
            return wb_error_sys(err, "mount the overlay");
        return 0;
    }
    /* too long: the layers named from their common parent directory */
    size_t common = strlen(dirs[0]);
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && dirs[i][k] == dirs[0][k]) k++;
        common = k;
    }
    while (common > 0 && dirs[0][common - 1] != '/') common--;
    if (common == 0 || build_opts(opts, sizeof opts, dirs, n, common, upper, work, extra) < 0)
        return wb_error_set(err, E2BIG,
                            "%zu layers are too many for one overlay mount (the kernel takes "
                            "one page of options)",
                            n);
    char parent[4096];
    if (wb_path_join(parent, sizeof parent, err, "%.*s", (int)common, dirs[0]) < 0) return -1;
    int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0) return wb_error_sys(err, "open the working directory");
    int rc = 0;
    if (chdir(parent) != 0)
        rc = wb_error_sys(err, "enter `%s`", parent);
    else if (mount("overlay", target, "overlay", flags, opts) != 0)
        rc = wb_error_sys(err, "mount the overlay");
    if (fchdir(cwd) != 0 && rc == 0) rc = wb_error_sys(err, "return to the working directory");
    close(cwd);
    return rc;
}

/* ---- reads through the stack ---- */

typedef struct resolver {
    const wb_lowers *l;
    size_t *contrib; /* the layers that make up the directory `cur`, top first */
    size_t ncontrib;
    char cur[4096]; /* resolved, no symlinks, "" for the root */
} resolver;

static int layer_path(const resolver *r, size_t i, const char *rel, char *buf, size_t size) {
    int k = snprintf(buf, size, "%s%s%s", r->l->dirs[i], rel[0] ? "/" : "", rel);
    if (k < 0 || (size_t)k >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static bool opaque(const resolver *r, size_t i, const char *rel) {
    char p[8192], v[2];
    return layer_path(r, i, rel, p, sizeof p) == 0 &&
           lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

static bool whiteout(const struct stat *st) {
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static void at_root(resolver *r) {
    r->cur[0] = '\0';
    r->ncontrib = 0;
    for (size_t i = 0; i < r->l->n; i++) {
        r->contrib[r->ncontrib++] = i;
        if (opaque(r, i, "")) break;
    }
}

/* The entry `cand` (a child of cur): its topmost layer (-1 with errno ENOENT: none, or a
 * whiteout), its stat, and when a directory the layers that make it up (into next). */
static int child(resolver *r, const char *cand, struct stat *st, size_t *next, size_t *nnext) {
    int found = -1;
    *nnext = 0;
    for (size_t k = 0; k < r->ncontrib; k++) {
        size_t i = r->contrib[k];
        char p[8192];
        struct stat s;
        if (layer_path(r, i, cand, p, sizeof p) < 0) return -1;
        if (lstat(p, &s) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) continue;
            return -1;
        }
        if (whiteout(&s)) break;
        if (found < 0) {
            found = (int)i;
            *st = s;
        }
        if (!S_ISDIR(s.st_mode)) break; /* a file hides what is below; below a dir it ends it */
        next[(*nnext)++] = i;
        if (opaque(r, i, cand)) break;
    }
    if (found < 0) errno = ENOENT;
    return found;
}

/* cur's parent, its layers found again from the root (cur holds no symlink). */
static int up(resolver *r, size_t *scratch) {
    char path[4096]; /* the parent: each of its prefixes ending before a '/' is a directory */
    char *slash = strrchr(r->cur, '/');
    size_t len = slash ? (size_t)(slash - r->cur) : 0;
    memcpy(path, r->cur, len);
    path[len] = '\0';
    at_root(r);
    for (size_t end = 0; len && end <= len; end++) {
        if (end < len && path[end] != '/') continue;
        char saved = path[end];
        path[end] = '\0';
        struct stat st;
        size_t n;
        int found = child(r, path, &st, scratch, &n);
        if (found >= 0) memcpy(r->cur, path, end + 1);
        path[end] = saved;
        if (found < 0) return -1;
        memcpy(r->contrib, scratch, n * sizeof *scratch);
        r->ncontrib = n;
    }
    return 0;
}

/* Resolve path; on success r->cur is the entry's path, *layer its topmost layer, *st its stat. */
static int resolve(resolver *r, const char *path, bool follow, int *layer, struct stat *st) {
    size_t *scratch = wb_calloc(r->l->n + 1, sizeof *scratch);
    char todo[8192];
    int links = 0, rc = -1;
    if (snprintf(todo, sizeof todo, "%s", path) >= (int)sizeof todo) {
        errno = ENAMETOOLONG;
        goto out;
    }
    at_root(r);
    if (r->ncontrib == 0) {
        errno = ENOENT;
        goto out;
    }
    *layer = (int)r->contrib[0];
    if (lstat(r->l->dirs[*layer], st) != 0) goto out;
    char *p = todo;
    for (;;) {
        while (*p == '/') p++;
        if (!*p) break;
        char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char comp[256];
        if (len >= sizeof comp) {
            errno = ENAMETOOLONG;
            goto out;
        }
        memcpy(comp, p, len);
        comp[len] = '\0';
        p += len;
        const char *rest = p;
        while (*rest == '/') rest++;
        bool last = !*rest;
        if (!strcmp(comp, ".")) continue;
        if (!strcmp(comp, "..")) {
            if (r->cur[0] && up(r, scratch) < 0) goto out;
            *layer = (int)r->contrib[0]; /* the directory's topmost layer */
            char lp[8192];
            if (layer_path(r, (size_t)*layer, r->cur, lp, sizeof lp) < 0 || lstat(lp, st) != 0)
                goto out;
            continue;
        }
        char cand[4096];
        if (snprintf(cand, sizeof cand, "%s%s%s", r->cur, r->cur[0] ? "/" : "", comp) >=
            (int)sizeof cand) {
            errno = ENAMETOOLONG;
            goto out;
        }
        size_t n;
        int found = child(r, cand, st, scratch, &n);
        if (found < 0) goto out;
        if (S_ISLNK(st->st_mode) && (!last || follow || *p == '/')) {
            if (++links > MAX_SYMLINKS) {
                errno = ELOOP;
                goto out;
            }
            char lp[8192], target[4096];
            if (layer_path(r, (size_t)found, cand, lp, sizeof lp) < 0) goto out;
            ssize_t k = readlink(lp, target, sizeof target - 1);
            if (k < 0) goto out;
            target[k] = '\0';
            char next[8192];
            /* the rest of the path after the target ("link/" keeps its slash) */
            if (snprintf(next, sizeof next, "%s%s%s", target, *rest || *p == '/' ? "/" : "",
                         rest) >= (int)sizeof next) {
                errno = ENAMETOOLONG;
                goto out;
            }
            if (target[0] == '/') at_root(r);
            memcpy(todo, next, strlen(next) + 1);
            p = todo;
            continue;
        }
        if ((!last || *p == '/') && !S_ISDIR(st->st_mode)) { /* "file/" too */
            errno = ENOTDIR;
            goto out;
        }
        memcpy(r->contrib, scratch, n * sizeof *scratch);
        r->ncontrib = n;
        memcpy(r->cur, cand, strlen(cand) + 1);
        *layer = found;
    }
    rc = 0;
out:
    free(scratch);
    return rc;
}

int wb_lowers_lstat(const wb_lowers *l, const char *path, struct stat *st) {
    resolver r = {.l = l, .contrib = wb_calloc(l->n + 1, sizeof(size_t))};
    int layer;
    int rc = resolve(&r, path, false, &layer, st);
    free(r.contrib);
    return rc;
}

int wb_lowers_open(const wb_lowers *l, const char *path, int oflags) {
    resolver r = {.l = l, .contrib = wb_calloc(l->n + 1, sizeof(size_t))};
    int layer, fd = -1;
    struct stat st;
    if (resolve(&r, path, true, &layer, &st) == 0) {
        char p[8192];
        if (layer_path(&r, (size_t)layer, r.cur, p, sizeof p) == 0)
            fd = open(p, oflags | O_NOFOLLOW | O_CLOEXEC);
    }
    int e = errno;
    free(r.contrib);
    errno = e;
    return fd;
}

/* ---- a merged view in a child ---- */

int wb_lowers_with_view(const wb_lowers *l, int (*fn)(const char *root, void *arg, wb_error *err),
                        void *arg, wb_error *err) {
    if (l->n == 1 && !wb_layers_apart()) return fn(l->dirs[0], arg, err); /* flat: no mount */
    char view[] = "/tmp/wasmbox-view.XXXXXX";
    if (!mkdtemp(view)) return wb_error_sys(err, "create a directory for the image's files");
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        rmdir(view);
        return wb_error_sys(err, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        rmdir(view);
        return wb_error_sys(err, "fork");
    }
    if (pid == 0) {
        close(fds[0]);
        wb_error e = {0};
        int rc = 0;
        if (unshare(CLONE_NEWNS) != 0)
            rc = wb_error_sys(&e, "unshare the mount namespace");
        else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
            rc = wb_error_sys(&e, "make mounts private");
        else if (l->n && wb_overlay_mount(view, l->dirs, l->n, NULL, NULL, MS_RDONLY, NULL, &e) < 0)
            rc = -1;
        if (rc == 0) rc = fn(view, arg, &e);
        if (rc < 0 && write(fds[1], &e, sizeof e) != (ssize_t)sizeof e) _exit(2);
        _exit(rc < 0 ? 1 : 0);
    }
    close(fds[1]);
    wb_error e;
    ssize_t k;
    while ((k = read(fds[0], &e, sizeof e)) < 0 && errno == EINTR) {
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    rmdir(view);
    if (k == (ssize_t)sizeof e) {
        if (err) *err = e;
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wb_error_set(err, EIO, "reading the image's files failed");
    return 0;
}
