/* Helpers shared by save, load, import and export-wasm (archive_internal.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oci/archive_internal.h"
#include "oci/tar_stream.h"

#define COPY_BLOCK (256 * 1024)

int wb__write_all(int fd, const void *data, size_t len, wb_error *err) {
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return wb_error_sys(err, "write");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

bool wb__is_tar_layer(const char *mt) {
    return mt && (!strncmp(mt, "application/vnd.oci.image.layer.", 32) ||
                  !strncmp(mt, "application/vnd.docker.image.rootfs.", 36));
}

/* ---- scratch space in the store ---- */

static int tmp_root(wb_images *s, char *out, size_t size, wb_error *err) {
    if (wb_path_join(out, size, err, "%s/tmp", wb_images_root(s)) < 0) return -1;
    return wb_mkdir_p(out, 0700, err);
}

/* Remove ROOT/tmp/<kind>.<pid>.* whose process is gone. */
static void remove_stale(const char *root) {
    DIR *d = opendir(root);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *dot = strchr(de->d_name, '.');
        if (!dot || de->d_name[0] == '.') continue;
        char *end;
        long pid = strtol(dot + 1, &end, 10);
        if (end == dot + 1 || *end != '.' || pid <= 0) continue;
        if (pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[4096 + 256];
        if (wb_path_join(path, sizeof path, NULL, "%s/%s", root, de->d_name) == 0)
            wb_remove_tree(path, NULL);
    }
    closedir(d);
}

int wb__scratch_dir(wb_images *s, const char *kind, char *out, size_t size, wb_error *err) {
    char root[4096];
    if (tmp_root(s, root, sizeof root, err) < 0) return -1;
    remove_stale(root);
    if (wb_path_join(out, size, err, "%s/%s.%d.XXXXXX", root, kind, (int)getpid()) < 0) return -1;
    if (!mkdtemp(out)) return wb_error_sys(err, "create a directory in `%s`", root);
    return 0;
}

int wb__scratch_file(wb_images *s, wb_error *err) {
    char root[4096];
    if (tmp_root(s, root, sizeof root, err) < 0) return -1;
    remove_stale(root);
    int fd = open(root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    char path[4200];
    if (wb_path_join(path, sizeof path, err, "%s/spool.%d.XXXXXX", root, (int)getpid()) < 0)
        return -1;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "create a file in `%s`", root);
    unlink(path);
    return fd;
}

/* ---- reading an unpacked archive ---- */

static bool safe_relative(const char *rel) {
    if (!rel || !*rel || rel[0] == '/' || strlen(rel) >= 4096) return false;
    for (const char *p = rel; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return false;
        p += n;
        while (*p == '/') p++;
    }
    return true;
}

/* No openat2: walk the components with O_NOFOLLOW (so no symlink at all is followed). */
static int open_nofollow_walk(int root_fd, const char *rel) {
    char buf[4096];
    if (wb_path_join(buf, sizeof buf, NULL, "%s", rel) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = dup(root_fd);
    if (fd < 0) return -1;
    char *save = NULL;
    char *part = strtok_r(buf, "/", &save);
    while (part) {
        char *next = strtok_r(NULL, "/", &save);
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : 0);
        int nfd = openat(fd, part, flags);
        int e = errno;
        close(fd);
        if (nfd < 0) {
            errno = e;
            return -1;
        }
        fd = nfd;
        part = next;
    }
    return fd;
}

int wb__open_beneath(int root_fd, const char *rel, uint64_t *size, wb_error *err) {
    if (!safe_relative(rel))
        return wb_error_set(err, EPERM, "`%.200s`: the path must stay inside the archive",
                            rel ? rel : "");
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    int fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || getenv("WASMBOX_NO_OPENAT2")))
        fd = open_nofollow_walk(root_fd, rel);
    if (fd < 0) {
        if (errno == EXDEV || errno == ELOOP)
            return wb_error_set(err, EPERM, "`%.200s`: a symbolic link leads out of the archive",
                                rel);
        if (errno == ENOENT)
            return wb_error_set(err, ENOENT, "`%.200s` is missing from the archive", rel);
        return wb_error_sys(err, "open `%.200s` in the archive", rel);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return wb_error_set(err, EINVAL, "`%.200s` in the archive is not a regular file", rel);
    }
    if (size) *size = (uint64_t)st.st_size;
    return fd;
}

int wb__copy_to_blob(wb_images *s, int fd, const char *digest, uint64_t size,
                     const wb_archive_progress *progress, const char *verb, wb_error *err) {
    uint64_t have;
    if (progress && progress->fn) progress->fn(progress->ctx, verb, digest, size);
    /* a blob the store has is not written again, but the archive's copy is still checked: an
     * archive with a wrong blob is refused whatever the store holds */
    bool present = wb_blob_exists(s, digest, &have) && have == size;
    wb_blob_writer *w = NULL;
    wb_hasher *h = NULL;
    if (present ? !(h = wb_hasher_new(err))
                : wb_blob_writer_open(s, digest, (int64_t)size, &w, err) < 0)
        return -1;
    uint8_t *buf = malloc(COPY_BLOCK);
    uint64_t total = 0;
    if (!buf) {
        wb_error_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    for (;;) {
        ssize_t n = read(fd, buf, COPY_BLOCK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wb_error_sys(err, "read blob %s", digest);
            goto fail;
        }
        if (n == 0) break;
        total += (uint64_t)n;
        if (h)
            wb_hasher_update(h, buf, (size_t)n);
        else if (wb_blob_writer_write(w, buf, (size_t)n, err) < 0)
            goto fail;
    }
    free(buf);
    if (w) {
        if (wb_blob_writer_commit(w, NULL, err) < 0) return wb_error_wrap(err, "blob %s", digest);
        return 0;
    }
    char got[WB_DIGEST_MAX];
    wb_hasher_final(h, got);
    if (total != size)
        return wb_error_set(err, EIO, "blob %s: got %llu bytes, expected %llu", digest,
                            (unsigned long long)total, (unsigned long long)size);
    if (strcmp(got, digest) != 0)
        return wb_error_set(err, EIO, "blob %s: digest mismatch: expected %s, got %s", digest,
                            digest, got);
    return 0;
fail:
    free(buf);
    if (w) wb_blob_writer_abort(w);
    if (h) wb_hasher_free(h);
    return -1;
}

/* ---- output files ---- */

int wb__outfile_open(wb__outfile *o, const char *path, wb_error *err) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    if (wb_path_join(o->final, sizeof o->final, err, "%s", path) < 0) return -1;
    if (wb_path_join(o->dir, sizeof o->dir, err, "%s", path) < 0) return -1;
    char *slash = strrchr(o->dir, '/');
    if (!slash)
        snprintf(o->dir, sizeof o->dir, ".");
    else if (slash == o->dir)
        o->dir[1] = '\0';
    else
        *slash = '\0';
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return wb_error_set(err, EISDIR, "`%s` is a directory", path);
    o->fd = open(o->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        /* no O_TMPFILE here: a named file, removed on abort */
        char tmp[4200];
        if (wb_path_join(tmp, sizeof tmp, err, "%s.tmp-%d", o->final, (int)getpid()) < 0) return -1;
        o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o->fd < 0) return wb_error_sys(err, "create `%s`", tmp);
        o->dir[0] = '\0'; /* marks the named fallback */
    }
    return 0;
}

int wb__outfile_commit(wb__outfile *o, wb_error *err) {
    char tmp[4200];
    if (wb_path_join(tmp, sizeof tmp, err, "%s.tmp-%d", o->final, (int)getpid()) < 0) {
        wb__outfile_abort(o);
        return -1;
    }
    if (fsync(o->fd) != 0) {
        wb_error_sys(err, "write `%s`", o->final);
        wb__outfile_abort(o);
        return -1;
    }
    if (o->dir[0]) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
        unlink(tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) != 0) {
            wb_error_sys(err, "create `%s`", tmp);
            wb__outfile_abort(o);
            return -1;
        }
    }
    close(o->fd);
    o->fd = -1;
    if (rename(tmp, o->final) != 0) {
        wb_error_sys(err, "rename `%s` to `%s`", tmp, o->final);
        unlink(tmp);
        return -1;
    }
    char dir[4096];
    if (wb_path_join(dir, sizeof dir, err, "%s", o->final) < 0) return -1;
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return wb_fsync_dir(dir, err);
}

void wb__outfile_abort(wb__outfile *o) {
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    if (!o->dir[0]) {
        char tmp[4200];
        if (wb_path_join(tmp, sizeof tmp, NULL, "%s.tmp-%d", o->final, (int)getpid()) == 0)
            unlink(tmp);
    }
}

/* ---- writing tar ---- */

static int tar_error(wb__tar_out *t, const char *what, const char *path, wb_error *err) {
    const char *why = t->ar->archive_error_string(t->a);
    return wb_error_set(err, EIO, "write %s `%s` to the archive: %s", what, path,
                        why ? why : "libarchive error");
}

int wb__tar_out_open(wb__tar_out *t, int fd, wb_error *err) {
    memset(t, 0, sizeof *t);
    t->ar = wb_libarchive_get(err);
    if (!t->ar) return -1;
    t->a = t->ar->archive_write_new();
    t->e = t->ar->archive_entry_new();
    if (!t->a || !t->e) {
        wb__tar_out_free(t);
        return wb_error_set(err, ENOMEM, "libarchive: cannot create a writer");
    }
    /* no padding of the last record: the same bytes whether written to a file or a pipe */
    if (t->ar->archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        t->ar->archive_write_add_filter_none(t->a) != ARCHIVE_OK ||
        t->ar->archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
        t->ar->archive_write_open_fd(t->a, fd) != ARCHIVE_OK) {
        wb_error_set(err, EIO, "start the archive: %s", t->ar->archive_error_string(t->a));
        wb__tar_out_free(t);
        return -1;
    }
    return 0;
}

static void entry_init(wb__tar_out *t, const char *path, mode_t type, mode_t perm, uint64_t size) {
    const wb_libarchive *ar = t->ar;
    ar->archive_entry_clear(t->e);
    ar->archive_entry_set_pathname(t->e, path);
    ar->archive_entry_set_filetype(t->e, type);
    ar->archive_entry_set_perm(t->e, perm);
    ar->archive_entry_set_size(t->e, (la_int64_t)size);
    ar->archive_entry_set_mtime(t->e, (time_t)t->mtime, 0);
    ar->archive_entry_set_uid(t->e, 0);
    ar->archive_entry_set_gid(t->e, 0);
}

int wb__tar_out_dir(wb__tar_out *t, const char *path, wb_error *err) {
    entry_init(t, path, AE_IFDIR, 0755, 0);
    if (t->ar->archive_write_header(t->a, t->e) != ARCHIVE_OK)
        return tar_error(t, "directory", path, err);
    return 0;
}

int wb__tar_out_bytes(wb__tar_out *t, const char *path, const void *data, size_t len,
                      wb_error *err) {
    entry_init(t, path, AE_IFREG, 0644, len);
    if (t->ar->archive_write_header(t->a, t->e) != ARCHIVE_OK)
        return tar_error(t, "file", path, err);
    if (len && t->ar->archive_write_data(t->a, data, len) != (la_ssize_t)len)
        return tar_error(t, "file", path, err);
    if (t->ar->archive_write_finish_entry(t->a) != ARCHIVE_OK)
        return tar_error(t, "file", path, err);
    return 0;
}

int wb__tar_out_fd(wb__tar_out *t, const char *path, int fd, uint64_t size, wb_error *err) {
    entry_init(t, path, AE_IFREG, 0644, size);
    if (t->ar->archive_write_header(t->a, t->e) != ARCHIVE_OK)
        return tar_error(t, "file", path, err);
    uint8_t *buf = malloc(COPY_BLOCK);
    if (!buf) return wb_error_set(err, ENOMEM, "out of memory");
    uint64_t left = size;
    int rc = 0;
    while (left && rc == 0) {
        size_t want = left < COPY_BLOCK ? (size_t)left : COPY_BLOCK;
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            rc = n < 0 ? wb_error_sys(err, "read `%s`", path)
                       : wb_error_set(err, EIO, "`%s` is shorter than %llu bytes", path,
                                      (unsigned long long)size);
            break;
        }
        if (t->ar->archive_write_data(t->a, buf, (size_t)n) != n)
            rc = tar_error(t, "file", path, err);
        left -= (uint64_t)n;
    }
    free(buf);
    if (rc == 0 && t->ar->archive_write_finish_entry(t->a) != ARCHIVE_OK)
        rc = tar_error(t, "file", path, err);
    return rc;
}

int wb__tar_out_close(wb__tar_out *t, wb_error *err) {
    int rc = 0;
    if (t->ar->archive_write_close(t->a) != ARCHIVE_OK)
        rc = wb_error_set(err, EIO, "finish the archive: %s", t->ar->archive_error_string(t->a));
    wb__tar_out_free(t);
    return rc;
}

void wb__tar_out_free(wb__tar_out *t) {
    if (!t->ar) return;
    if (t->e) t->ar->archive_entry_free(t->e);
    if (t->a) t->ar->archive_write_free(t->a);
    t->e = NULL;
    t->a = NULL;
}

/* ---- decompression ---- */

int wb__decompress(int fd, const char *name, uint64_t max, wb__sink_fn sink, void *ctx,
                   wb_error *err) {
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    struct archive *a = ar->archive_read_new();
    if (!a) return wb_error_set(err, ENOMEM, "libarchive: cannot create a reader");
    ar->archive_read_support_filter_gzip(a);
    ar->archive_read_support_filter_zstd(a);
    ar->archive_read_support_filter_xz(a);
    ar->archive_read_support_filter_bzip2(a);
    ar->archive_read_support_format_raw(a);
    int rc = -1;
    struct archive_entry *e;
    if (ar->archive_read_open_fd(a, fd, COPY_BLOCK) != ARCHIVE_OK) {
        wb_error_set(err, EIO, "read `%s`: %s", name, ar->archive_error_string(a));
        goto out;
    }
    int r = ar->archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) { /* empty input */
        rc = 0;
        goto out;
    }
    if (r < ARCHIVE_WARN) {
        wb_error_set(err, EIO, "read `%s`: %s", name, ar->archive_error_string(a));
        goto out;
    }
    uint8_t *buf = malloc(COPY_BLOCK);
    if (!buf) {
        wb_error_set(err, ENOMEM, "out of memory");
        goto out;
    }
    uint64_t total = 0;
    bool failed = false;
    for (;;) {
        la_ssize_t n = ar->archive_read_data(a, buf, COPY_BLOCK);
        if (n == 0) break;
        if (n < 0) {
            failed = true;
            wb_error_set(err, EIO, "read `%s`: %s", name, ar->archive_error_string(a));
            break;
        }
        total += (uint64_t)n;
        if (total > max) {
            failed = true;
            char lim[32];
            wb_error_set(err, EFBIG, "`%s`: more than %s uncompressed (the limit)", name,
                         wb_size_text(max, lim, sizeof lim));
            break;
        }
        if (sink(ctx, buf, (size_t)n, err) < 0) {
            failed = true;
            break;
        }
    }
    free(buf);
    if (!failed) rc = 0;
out:
    ar->archive_read_free(a);
    return rc;
}
