/* `cp` and `export`: a container's root opened in this process, trees written as tar streams
 * from descriptors (never by path), tars extracted by oci/tar.c beneath a directory opened inside
 * the root. A copy between two places runs the tar writer in a thread feeding a pipe. */
#include "runtime/copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/dynlib.h"
#include "base/fsutil.h"
#include "oci/image.h"
#include "oci/layers.h"
#include "oci/store.h"
#include "oci/tar.h"
#include "runtime/launch.h"

#define MAX_DEPTH 256

/* ---- the container's root ---- */

static int make_dir(const char *path, wb_error *err) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return wb_error_sys(err, "create `%s`", path);
    return 0;
}

/* The overlay of a container that is not running (or, read-only, of one that is: its upper
 * directory is then only a lower layer here, which the kernel allows beside the live mount). */
static int mount_overlay(wb_container *c, bool write, wb_container_root *r, wb_error *err) {
    wb_lowers lower;
    if (wb_container_lowers(c, &lower, err) < 0) return -1;
    char upper[4300], work[4300], incompat[4400];
    int rc = -1;
    if (wb_path_join(upper, sizeof upper, err, "%s/upper", c->dir) < 0 ||
        wb_path_join(work, sizeof work, err, "%s/work", c->dir) < 0 ||
        wb_path_join(r->mount, sizeof r->mount, err, "%s/rootfs", c->dir) < 0 ||
        make_dir(upper, err) < 0 || make_dir(work, err) < 0)
        goto out;
    if (!lower.n) { /* no layers: a Linux container's root is its upper dir, a Wasm one's rootfs/ */
        const char *dir = wb_container_is_linux(c) ? upper : r->mount;
        if (make_dir(dir, err) < 0) goto out;
        r->mount[0] = '\0';
        r->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        rc = r->fd < 0 ? wb_error_sys(err, "open `%s`", dir) : 0;
        goto out;
    }
    /* a volatile mount (a Wasm container's) leaves work/work/incompat behind, which refuses a
     * mount */
    if (wb_path_join(incompat, sizeof incompat, err, "%s/work/incompat", work) < 0) goto out;
    if (write) wb_remove_tree(incompat, NULL);
    if (make_dir(r->mount, err) < 0) goto out;
    if (unshare(CLONE_NEWNS) != 0) {
        rc = wb_error_sys(err, "unshare the mount namespace");
        goto out;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        rc = wb_error_sys(err, "make mounts private");
        goto out;
    }
    if (write) {
        rc = wb_overlay_mount(r->mount, lower.dirs, lower.n, upper, work, MS_NODEV, NULL, err);
    } else { /* the upper directory as the top lower layer */
        char **view = wb_calloc(lower.n + 1, sizeof *view);
        view[0] = upper;
        memcpy(view + 1, lower.dirs, lower.n * sizeof *view);
        rc = wb_overlay_mount(r->mount, view, lower.n + 1, NULL, NULL, MS_NODEV | MS_RDONLY, NULL,
                              err);
        free(view);
    }
    if (rc < 0) {
        wb_error_wrap(err, "the container's root");
        r->mount[0] = '\0';
        goto out;
    }
    r->fd = open(r->mount, O_PATH | O_DIRECTORY | O_CLOEXEC);
    rc = r->fd < 0 ? wb_error_sys(err, "open `%s`", r->mount) : 0;
out:
    wb_lowers_free(&lower);
    return rc;
}

int wb_container_root_open(wb_container *c, unsigned flags, wb_container_root *r, wb_error *err) {
    r->fd = -1;
    r->mount[0] = '\0';
    if (!(flags & WB_CROOT_LIVE) || !wb_container_refresh(c))
        return mount_overlay(c, flags & WB_CROOT_WRITE, r, err);
    const json_t *st = json_object_get(c->doc, "State");
    int pid = (int)json_integer_value(json_object_get(st, "Pid"));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/root", pid);
    int proc_root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (proc_root < 0) return wb_error_sys(err, "open the container's root (%s)", path);
    if (wb_container_is_linux(c)) {
        r->fd = proc_root;
        return 0;
    }
    /* a Wasm workload is not pivoted: its root is its overlay, mounted (in its own mount
     * namespace) at the container's rootfs/, reached from its "/" (a path of ours, trusted) */
    char rootfs[4300];
    if (wb_path_join(rootfs, sizeof rootfs, err, ".%s/rootfs", c->dir) < 0) {
        close(proc_root);
        return -1;
    }
    r->fd = openat(proc_root, rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int saved = errno;
    close(proc_root);
    errno = saved;
    return r->fd < 0 ? wb_error_sys(err, "open the container's root (%s%s)", path, rootfs + 1) : 0;
}

void wb_container_root_close(wb_container_root *r) {
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    if (r->mount[0]) umount2(r->mount, MNT_DETACH);
    r->mount[0] = '\0';
}

/* ---- paths on either side ---- */

/* Open `path` inside the root `root` (RESOLVE_IN_ROOT), or on the host when root < 0. */
static int open_path(int root, const char *path, int flags) {
    if (root < 0) return open(path, flags | O_CLOEXEC);
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/* "dir/." (or ".") names the directory's contents. */
static bool contents_only(const char *path) {
    size_t n = strlen(path);
    return !strcmp(path, ".") || (n >= 2 && !strcmp(path + n - 2, "/."));
}

static bool trailing_slash(const char *path) {
    size_t n = strlen(path);
    return n > 1 && path[n - 1] == '/';
}

/* The last component of path ("" for "/"), without trailing "/" or "/.". */
static int base_name(const char *path, char *out, size_t size, wb_error *err) {
    size_t n = strlen(path);
    for (;;) {
        while (n > 0 && path[n - 1] == '/') n--;
        if (n >= 2 && path[n - 1] == '.' && path[n - 2] == '/') {
            n -= 2;
            continue;
        }
        break;
    }
    size_t start = n;
    while (start > 0 && path[start - 1] != '/') start--;
    if (n - start == 1 && path[start] == '.') n = start; /* "." */
    return wb_path_join(out, size, err, "%.*s", (int)(n - start), path + start);
}

/* The directory part of path ("/" or "." when it has none). */
static int dir_name(const char *path, bool in_root, char *out, size_t size, wb_error *err) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    while (n > 0 && path[n - 1] != '/') n--;
    while (n > 1 && path[n - 1] == '/') n--;
    if (n == 0) return wb_path_join(out, size, err, "%s", in_root ? "/" : ".");
    return wb_path_join(out, size, err, "%.*s", (int)n, path);
}

/* ---- writing a tree as a tar ---- */

typedef struct tar_writer {
    const wb_libarchive *ar;
    struct archive *a;
    struct archive_entry *e;
    char buf[65536];
} tar_writer;

static int archive_failed(tar_writer *t, const char *what, wb_error *err) {
    const char *msg = t->ar->archive_error_string(t->a);
    int code = t->ar->archive_errno(t->a);
    return wb_error_set(err, code > 0 ? code : EIO, "%s: %s", what, msg ? msg : "failed");
}

/* Reopen an O_PATH descriptor for reading (the same object, not a path looked up again). */
static int reopen(int fd, int flags) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    return open(p, flags | O_CLOEXEC);
}

static int write_tree(tar_writer *t, int fd, const char *name, int depth, wb_error *err);

static int write_children(tar_writer *t, int fd, const char *name, int depth, wb_error *err) {
    int dfd = reopen(fd, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) return wb_error_sys(err, "open directory `%s`", name[0] ? name : "/");
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return wb_error_sys(err, "read directory `%s`", name);
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char child[8192];
        if (wb_path_join(child, sizeof child, err, "%s%s%s", name, name[0] ? "/" : "", de->d_name) <
            0) {
            rc = -1;
            break;
        }
        int cfd = openat(dirfd(d), de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0) {
            if (errno == ENOENT) continue; /* gone meanwhile */
            rc = wb_error_sys(err, "open `%s`", child);
            break;
        }
        rc = write_tree(t, cfd, child, depth + 1, err);
        close(cfd);
    }
    closedir(d);
    return rc;
}

/* One object (fd: O_PATH, not followed) as the entry `name` ("" at the top: a directory's
 * contents only), a directory with everything beneath it. */
static int write_tree(tar_writer *t, int fd, const char *name, int depth, wb_error *err) {
    if (depth > MAX_DEPTH) return wb_error_set(err, ELOOP, "`%s`: nested too deep", name);
    const wb_libarchive *ar = t->ar;
    struct stat st;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0)
        return wb_error_sys(err, "stat `%s`", name);
    if (!name[0]) {
        if (!S_ISDIR(st.st_mode)) return wb_error_set(err, ENOTDIR, "not a directory");
        return write_children(t, fd, name, depth, err);
    }
    if (S_ISSOCK(st.st_mode)) return 0; /* as Docker: sockets are not archived */
    char entry_name[8200];
    snprintf(entry_name, sizeof entry_name, "%s%s", name, S_ISDIR(st.st_mode) ? "/" : "");
    ar->archive_entry_clear(t->e);
    ar->archive_entry_set_pathname(t->e, entry_name);
    ar->archive_entry_set_filetype(t->e, st.st_mode & S_IFMT);
    ar->archive_entry_set_perm(t->e, st.st_mode & 07777);
    ar->archive_entry_set_uid(t->e, st.st_uid);
    ar->archive_entry_set_gid(t->e, st.st_gid);
    ar->archive_entry_set_mtime(t->e, st.st_mtim.tv_sec, 0);
    ar->archive_entry_set_size(t->e, S_ISREG(st.st_mode) ? st.st_size : 0);
    int data = -1;
    if (S_ISLNK(st.st_mode)) {
        char target[4097];
        ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
        if (n < 0) return wb_error_sys(err, "read the link `%s`", name);
        target[n] = '\0';
        ar->archive_entry_set_symlink(t->e, target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        ar->archive_entry_set_rdev(t->e, st.st_rdev);
    } else if (S_ISREG(st.st_mode)) {
        data = reopen(fd, O_RDONLY);
        if (data < 0) return wb_error_sys(err, "open `%s`", name);
    }
    if (ar->archive_write_header(t->a, t->e) < ARCHIVE_WARN) {
        if (data >= 0) close(data);
        return archive_failed(t, "write the tar", err);
    }
    int rc = 0;
    for (int64_t left = S_ISREG(st.st_mode) ? st.st_size : 0; data >= 0 && left > 0;) {
        ssize_t n =
            read(data, t->buf, sizeof t->buf < (uint64_t)left ? sizeof t->buf : (size_t)left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = wb_error_sys(err, "read `%s`", name);
            break;
        }
        if (n == 0) { /* shrunk meanwhile: the header promised more, pad with zeros */
            memset(t->buf, 0, sizeof t->buf);
            n = sizeof t->buf < (uint64_t)left ? (ssize_t)sizeof t->buf : (ssize_t)left;
        }
        if (ar->archive_write_data(t->a, t->buf, (size_t)n) < 0) {
            rc = archive_failed(t, "write the tar", err);
            break;
        }
        left -= n;
    }
    if (data >= 0) close(data);
    if (rc == 0 && S_ISDIR(st.st_mode)) rc = write_children(t, fd, name, depth, err);
    return rc;
}

/* The tree at `fd` (O_PATH) as a tar on out (left open), its top entry named `name`. */
static int write_tar(int fd, const char *name, int out, wb_error *err) {
    tar_writer *t = calloc(1, sizeof *t);
    if (!t) return wb_error_set(err, ENOMEM, "out of memory");
    int rc = -1;
    t->ar = wb_libarchive_get(err);
    if (!t->ar) goto done;
    t->a = t->ar->archive_write_new();
    t->e = t->ar->archive_entry_new();
    if (!t->a || !t->e) {
        wb_error_set(err, ENOMEM, "out of memory");
        goto done;
    }
    if (t->ar->archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        t->ar->archive_write_add_filter_none(t->a) != ARCHIVE_OK ||
        t->ar->archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
        t->ar->archive_write_open_fd(t->a, out) != ARCHIVE_OK) {
        archive_failed(t, "write the tar", err);
        goto done;
    }
    rc = write_tree(t, fd, name, 0, err);
    if (t->ar->archive_write_close(t->a) != ARCHIVE_OK && rc == 0)
        rc = archive_failed(t, "write the tar", err);
done:
    if (t->e) t->ar->archive_entry_free(t->e);
    if (t->a) t->ar->archive_write_free(t->a);
    free(t);
    return rc;
}

/* ---- a copy between two places: the writer in a thread, a pipe, the extractor ---- */

typedef struct writer_job {
    int fd;
    const char *name;
    int out;
    int rc;
    wb_error err;
} writer_job;

static void *writer_main(void *arg) {
    writer_job *j = arg;
    /* a failed extraction closes the pipe: EPIPE here, not a SIGPIPE for the process */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    j->rc = write_tar(j->fd, j->name, j->out, &j->err);
    close(j->out);
    return NULL;
}

/* Extract the tar read from in_fd into the directory dir_fd. */
static int extract_into(int in_fd, int dir_fd, bool owners, wb_error *err) {
    char dest[64];
    snprintf(dest, sizeof dest, "/proc/self/fd/%d", dir_fd);
    return wb_tar_extract_fd(in_fd, "the copied files", dest, NULL,
                             WB_TAR_KEEP_DIRS | (owners ? WB_TAR_KEEP_OWNERS : 0), NULL, err);
}

/* The tree at src_fd (O_PATH) as `name` into dir_fd. */
static int copy_tree(int src_fd, const char *name, int dir_fd, bool owners, wb_error *err) {
    /* libarchive is loaded before the thread starts (pthread_once would serialise it anyway) */
    if (!wb_libarchive_get(err)) return -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return wb_error_sys(err, "pipe");
    writer_job j = {.fd = src_fd, .name = name, .out = p[1]};
    pthread_t th;
    int e = pthread_create(&th, NULL, writer_main, &j);
    if (e != 0) {
        close(p[0]);
        close(p[1]);
        errno = e;
        return wb_error_sys(err, "start a thread");
    }
    wb_error xerr = {0};
    int rc = extract_into(p[0], dir_fd, owners, &xerr);
    close(p[0]);
    pthread_join(th, NULL);
    if (j.rc < 0) {
        *err = j.err;
        return -1;
    }
    if (rc < 0) *err = xerr;
    return rc;
}

/* ---- cp ---- */

/* Where a copy lands, by Docker's rules: the directory to extract into (*dir_fd, O_PATH) and the
 * top entry's name (name[0] == '\0': the source directory's contents go straight in). droot:
 * the container's root (named `container` in messages), or -1 for the host. */
static int landing(int droot, const char *container, const char *dest, bool src_dir, bool contents,
                   const char *src_base, int *dir_fd, char *name, size_t nsize, wb_error *err) {
    char shown[4500];
    if (container)
        snprintf(shown, sizeof shown, "%s:%s", container, dest);
    else
        snprintf(shown, sizeof shown, "%s", dest);
    *dir_fd = -1;
    int dfd = open_path(droot, dest, O_PATH);
    struct stat st;
    if (dfd >= 0 && fstat(dfd, &st) == 0 && S_ISDIR(st.st_mode)) {
        *dir_fd = dfd;
        snprintf(name, nsize, "%s", src_dir && contents ? "" : src_base);
        return 0;
    }
    int e = errno;
    if (dfd >= 0) { /* an existing non-directory: replaced by a file */
        close(dfd);
        if (src_dir) return wb_error_set(err, ENOTDIR, "cannot copy directory");
    } else if (e == ENOTDIR) {
        return wb_error_set(err, ENOTDIR, "%s: not a directory", shown);
    } else if (e != ENOENT) {
        errno = e;
        return wb_error_sys(err, "%s", shown);
    } else if (trailing_slash(dest) && !src_dir) {
        return wb_error_set(err, ENOENT, "no such directory: %s", shown);
    }
    char parent[4200];
    if (dir_name(dest, droot >= 0, parent, sizeof parent, err) < 0 ||
        base_name(dest, name, nsize, err) < 0)
        return -1;
    if (!name[0]) return wb_error_set(err, EINVAL, "%s: invalid destination", shown);
    *dir_fd = open_path(droot, parent, O_PATH | O_DIRECTORY);
    if (*dir_fd < 0) {
        if (droot >= 0 && (errno == ENOENT || errno == ENOTDIR))
            return wb_error_set(err, ENOENT, "Could not find the file %s in container %s", parent,
                                container);
        return wb_error_sys(err, "%s", parent);
    }
    return 0;
}

/* A container path as Docker takes it: relative to "/". */
static int in_root(const char *path, char *out, size_t size, wb_error *err) {
    return wb_path_join(out, size, err, "%s%s", path[0] == '/' ? "" : "/", path);
}

int wb_container_copy_out(wb_container *c, const char *src, const char *dest, int out_fd,
                          const wb_copy_opts *o, wb_error *err) {
    char path[4200], shown[4500], base[256];
    if (in_root(src, path, sizeof path, err) < 0) return -1;
    snprintf(shown, sizeof shown, "%s:%s", o->ref, src);
    wb_container_root r;
    if (wb_container_root_open(c, WB_CROOT_LIVE, &r, err) < 0) return -1;
    int rc = -1, sfd = -1, dir_fd = -1;
    sfd = open_path(r.fd, path, O_PATH | (o->follow_link ? 0 : O_NOFOLLOW));
    if (sfd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            wb_error_set(err, ENOENT, "No such container:path: %s", shown);
        else
            wb_error_sys(err, "%s", shown);
        goto out;
    }
    struct stat st;
    if (fstatat(sfd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
        wb_error_sys(err, "stat %s", shown);
        goto out;
    }
    bool is_dir = S_ISDIR(st.st_mode), contents = contents_only(path) || !strcmp(path, "/");
    if (base_name(path, base, sizeof base, err) < 0) goto out;
    if (!dest) {
        rc = write_tar(sfd, is_dir && contents ? "" : base, out_fd, err);
        goto out;
    }
    char name[256];
    if (landing(-1, NULL, dest, is_dir, contents, base, &dir_fd, name, sizeof name, err) < 0)
        goto out;
    rc = copy_tree(sfd, name, dir_fd, o->archive, err);
out:
    if (dir_fd >= 0) close(dir_fd);
    if (sfd >= 0) close(sfd);
    wb_container_root_close(&r);
    return rc;
}

/* Docker refuses to write where the container itself could not: beneath a read-only mount, or
 * in a read-only root outside its writable mounts (the mount with the longest matching
 * destination decides). */
static int writable_at(const wb_container *c, const char *path, wb_error *err) {
    const json_t *ms = json_object_get(c->doc, "Mounts");
    size_t best = 0;
    bool found = false, rw = true;
    for (size_t i = 0; i < json_array_size(ms); i++) {
        const json_t *m = json_array_get(ms, i);
        const char *d = json_string_value(json_object_get(m, "Destination"));
        size_t n = d ? strlen(d) : 0;
        while (n > 1 && d[n - 1] == '/') n--;
        if (!n || strncmp(path, d, n) != 0 || (path[n] && path[n] != '/' && n > 1)) continue;
        if (!found || n > best) {
            found = true;
            best = n;
            rw = json_is_true(json_object_get(m, "RW"));
        }
    }
    if (found) return rw ? 0 : wb_error_set(err, EROFS, "mounted volume is marked read-only");
    if (json_is_true(json_object_get(json_object_get(c->doc, "HostConfig"), "ReadonlyRootfs")))
        return wb_error_set(err, EROFS, "container rootfs is marked read-only");
    return 0;
}

int wb_container_copy_in(wb_container *c, const char *src, int in_fd, const char *dest,
                         const wb_copy_opts *o, wb_error *err) {
    char path[4200], shown[4500], base[256];
    if (in_root(dest, path, sizeof path, err) < 0 || writable_at(c, path, err) < 0) return -1;
    snprintf(shown, sizeof shown, "%s:%s", o->ref, dest);
    int sfd = -1, dir_fd = -1, rc = -1;
    struct stat st;
    if (src) { /* the host's side first: a missing source touches nothing in the container */
        sfd = open(src, O_PATH | O_CLOEXEC | (o->follow_link ? 0 : O_NOFOLLOW));
        if (sfd < 0 || fstatat(sfd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
            wb_error_sys(err, "%s %s", o->follow_link ? "stat" : "lstat", src);
            if (sfd >= 0) close(sfd);
            return -1;
        }
    }
    wb_container_root r;
    if (wb_container_root_open(c, WB_CROOT_LIVE | WB_CROOT_WRITE, &r, err) < 0) {
        if (sfd >= 0) close(sfd);
        return -1;
    }
    if (!src) { /* a tar from in_fd: DEST must be a directory */
        dir_fd = open_path(r.fd, path, O_PATH);
        struct stat dst;
        if (dir_fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
            wb_error_set(err, ENOENT, "Could not find the file %s in container %s", path, o->ref);
        } else if (dir_fd < 0) {
            wb_error_sys(err, "%s", shown);
        } else if (fstat(dir_fd, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
            wb_error_set(err, ENOTDIR, "destination \"%s\" must be a directory", shown);
        } else {
            rc = extract_into(in_fd, dir_fd, o->archive, err);
        }
        goto out;
    }
    bool is_dir = S_ISDIR(st.st_mode);
    if (base_name(src, base, sizeof base, err) < 0) goto out;
    bool contents = contents_only(src) || !base[0];
    if (!base[0]) snprintf(base, sizeof base, "%s", "root");
    char name[256];
    if (landing(r.fd, o->ref, path, is_dir, contents, base, &dir_fd, name, sizeof name, err) < 0)
        goto out;
    rc = copy_tree(sfd, name, dir_fd, o->archive, err);
out:
    if (dir_fd >= 0) close(dir_fd);
    if (sfd >= 0) close(sfd);
    wb_container_root_close(&r);
    return rc;
}

/* ---- export ---- */

int wb_container_export(wb_container *c, int out_fd, wb_error *err) {
    if (!wb_libarchive_get(err)) return -1;
    wb_container_root r;
    if (wb_container_root_open(c, 0, &r, err) < 0) return -1;
    int rc = write_tar(r.fd, "", out_fd, err);
    wb_container_root_close(&r);
    return rc;
}
