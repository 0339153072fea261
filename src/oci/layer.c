/* Layer writing (see layer.h). Two libarchive writers in a chain: the tar writer (pax where needed,
 * no compression) hands its bytes to our callback, which hashes them (the diff_id) and feeds a
 * second writer in "raw" format with the gzip filter, whose callback streams the compressed bytes
 * into the blob writer (which hashes them: the blob digest). One pass, nothing buffered whole, no
 * zlib of our own (libarchive brings it, and stays unloaded for `wasmbox run`).
 * Reproducible: uid/gid 0 unless the caller sets owners (RUN layers, COPY --chown), no user or
 * group names, no gzip timestamp, the tar ends after its two
 * zero blocks (no padding to a 10 KiB record). */
#include "oci/layer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/dynlib.h"

#define COPY_CHUNK ((size_t)256 << 10)

struct wb_layer_writer {
    const wb_libarchive *ar;
    struct archive *tar; /* tar format → tar_out */
    struct archive *gz;  /* raw format + gzip → gz_out → blob */
    struct archive_entry *entry;
    wb_blob_writer *blob;
    wb_hasher *diff; /* of the uncompressed tar */
    uid_t uid;       /* owner of the entries added next (wb_layer_set_owner) */
    gid_t gid;
    wb_error cb_err; /* a failure inside a callback */
    bool cb_failed;
    uint8_t *buf;
};

static la_ssize_t tar_out(struct archive *a, void *data, const void *buf, size_t len) {
    (void)a;
    wb_layer_writer *w = data;
    if (!w->blob) return (la_ssize_t)len; /* aborted: libarchive flushes while it is freed */
    wb_hasher_update(w->diff, buf, len);
    la_ssize_t n = w->ar->archive_write_data(w->gz, buf, len);
    if (n < 0 || (size_t)n != len) {
        if (!w->cb_failed)
            wb_error_set(&w->cb_err, EIO, "compress a layer: %s",
                         w->ar->archive_error_string(w->gz) ?: "write failed");
        w->cb_failed = true;
        return -1;
    }
    return (la_ssize_t)len;
}

static la_ssize_t gz_out(struct archive *a, void *data, const void *buf, size_t len) {
    (void)a;
    wb_layer_writer *w = data;
    if (!w->blob) return (la_ssize_t)len;
    if (wb_blob_writer_write(w->blob, buf, len, &w->cb_err) < 0) {
        w->cb_failed = true;
        return -1;
    }
    return (la_ssize_t)len;
}

/* The error of a failed libarchive call on `a`: the callback's own when it failed. */
static int ar_error(wb_layer_writer *w, struct archive *a, wb_error *err, const char *what,
                    const char *path) {
    if (w->cb_failed) {
        if (err) *err = w->cb_err;
        return wb_error_wrap(err, "%s `%s`", what, path);
    }
    const char *m = a ? w->ar->archive_error_string(a) : NULL;
    return wb_error_set(err, EIO, "%s `%s`: %s", what, path, m ? m : "libarchive failed");
}

static void writer_free(wb_layer_writer *w) {
    if (!w) return;
    if (w->tar) w->ar->archive_write_free(w->tar);
    if (w->gz) w->ar->archive_write_free(w->gz);
    if (w->entry) w->ar->archive_entry_free(w->entry);
    wb_hasher_free(w->diff);
    free(w->buf);
    free(w);
}

int wb_layer_writer_open(wb_images *s, wb_layer_writer **out, wb_error *err) {
    *out = NULL;
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    wb_layer_writer *w = wb_calloc(1, sizeof *w);
    w->ar = ar;
    w->diff = wb_hasher_new(err);
    if (!w->diff) goto fail;
    if (wb_blob_writer_open(s, NULL, -1, &w->blob, err) < 0) goto fail;
    w->entry = ar->archive_entry_new();
    w->gz = ar->archive_write_new();
    w->tar = ar->archive_write_new();
    if (!w->entry || !w->gz || !w->tar) {
        wb_error_set(err, ENOMEM, "start a layer");
        goto fail;
    }
    /* the compressing writer: one raw "entry" holding the whole tar stream */
    if (ar->archive_write_set_format_raw(w->gz) != ARCHIVE_OK ||
        ar->archive_write_add_filter_gzip(w->gz) != ARCHIVE_OK ||
        ar->archive_write_set_options(w->gz, "gzip:!timestamp") != ARCHIVE_OK ||
        ar->archive_write_set_bytes_in_last_block(w->gz, 1) != ARCHIVE_OK ||
        ar->archive_write_open(w->gz, w, NULL, gz_out, NULL) != ARCHIVE_OK) {
        ar_error(w, w->gz, err, "start", "layer (gzip)");
        goto fail;
    }
    ar->archive_entry_set_pathname(w->entry, "layer.tar");
    ar->archive_entry_set_filetype(w->entry, AE_IFREG);
    ar->archive_entry_set_perm(w->entry, 0644);
    if (ar->archive_write_header(w->gz, w->entry) != ARCHIVE_OK) {
        ar_error(w, w->gz, err, "start", "layer (gzip)");
        goto fail;
    }
    if (ar->archive_write_set_format_pax_restricted(w->tar) != ARCHIVE_OK ||
        ar->archive_write_add_filter_none(w->tar) != ARCHIVE_OK ||
        ar->archive_write_set_bytes_in_last_block(w->tar, 1) != ARCHIVE_OK ||
        ar->archive_write_open(w->tar, w, NULL, tar_out, NULL) != ARCHIVE_OK) {
        ar_error(w, w->tar, err, "start", "layer (tar)");
        goto fail;
    }
    w->buf = wb_malloc(COPY_CHUNK);
    *out = w;
    return 0;
fail:
    if (w->blob) wb_blob_writer_abort(w->blob);
    writer_free(w);
    return -1;
}

/* Entry names: relative, no empty, "." or ".." components, no NUL, below PATH_MAX. */
static int check_path(const char *path, wb_error *err) {
    size_t n = strlen(path);
    if (!n || n >= 4096 || path[0] == '/')
        return wb_error_set(err, EINVAL, "invalid layer entry name \"%.200s\"", path);
    for (const char *c = path; *c;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) {
            if (!(l == 0 && !e[1])) /* a trailing slash is tolerated */
                return wb_error_set(err, EINVAL, "invalid layer entry name \"%.200s\"", path);
        }
        if (!e) break;
        c = e + 1;
    }
    return 0;
}

static void set_common(wb_layer_writer *w, const char *path, mode_t type, mode_t perm,
                       int64_t mtime) {
    const wb_libarchive *ar = w->ar;
    ar->archive_entry_clear(w->entry);
    ar->archive_entry_set_pathname(w->entry, path);
    ar->archive_entry_set_filetype(w->entry, type);
    ar->archive_entry_set_perm(w->entry, perm & 07777);
    ar->archive_entry_set_uid(w->entry, w->uid);
    ar->archive_entry_set_gid(w->entry, w->gid);
    ar->archive_entry_set_mtime(w->entry, (time_t)mtime, 0);
}

static int write_header(wb_layer_writer *w, const char *path, wb_error *err) {
    if (w->ar->archive_write_header(w->tar, w->entry) != ARCHIVE_OK)
        return ar_error(w, w->tar, err, "add", path);
    return 0;
}

static int write_data(wb_layer_writer *w, const char *path, const void *data, size_t len,
                      wb_error *err) {
    const uint8_t *p = data;
    while (len) {
        la_ssize_t n = w->ar->archive_write_data(w->tar, p, len);
        if (n <= 0) return ar_error(w, w->tar, err, "add", path);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int finish_entry(wb_layer_writer *w, const char *path, wb_error *err) {
    if (w->ar->archive_write_finish_entry(w->tar) != ARCHIVE_OK)
        return ar_error(w, w->tar, err, "add", path);
    return 0;
}

int wb_layer_add_dir(wb_layer_writer *w, const char *path, mode_t mode, int64_t mtime,
                     wb_error *err) {
    if (check_path(path, err) < 0) return -1;
    set_common(w, path, AE_IFDIR, mode, mtime);
    if (write_header(w, path, err) < 0) return -1;
    return finish_entry(w, path, err);
}

int wb_layer_add_symlink(wb_layer_writer *w, const char *path, const char *target, int64_t mtime,
                         wb_error *err) {
    if (check_path(path, err) < 0) return -1;
    if (!*target || strlen(target) >= 4096)
        return wb_error_set(err, EINVAL, "add `%s`: invalid symlink target", path);
    set_common(w, path, AE_IFLNK, 0777, mtime);
    w->ar->archive_entry_set_symlink(w->entry, target);
    if (write_header(w, path, err) < 0) return -1;
    return finish_entry(w, path, err);
}

void wb_layer_set_owner(wb_layer_writer *w, uid_t uid, gid_t gid) {
    w->uid = uid;
    w->gid = gid;
}

int wb_layer_add_hardlink(wb_layer_writer *w, const char *path, const char *target, mode_t mode,
                          int64_t mtime, wb_error *err) {
    if (check_path(path, err) < 0 || check_path(target, err) < 0) return -1;
    set_common(w, path, AE_IFREG, mode, mtime);
    w->ar->archive_entry_set_hardlink(w->entry, target);
    w->ar->archive_entry_set_size(w->entry, 0);
    if (write_header(w, path, err) < 0) return -1;
    return finish_entry(w, path, err);
}

int wb_layer_add_bytes(wb_layer_writer *w, const char *path, const void *data, size_t len,
                       mode_t mode, int64_t mtime, wb_error *err) {
    if (check_path(path, err) < 0) return -1;
    set_common(w, path, AE_IFREG, mode, mtime);
    w->ar->archive_entry_set_size(w->entry, (la_int64_t)len);
    if (write_header(w, path, err) < 0 || write_data(w, path, data, len, err) < 0) return -1;
    return finish_entry(w, path, err);
}

int wb_layer_add_fd(wb_layer_writer *w, const char *path, int fd, mode_t mode, int64_t mtime,
                    wb_error *err) {
    if (check_path(path, err) < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) return wb_error_sys(err, "add `%s`", path);
    if (!S_ISREG(st.st_mode))
        return wb_error_set(err, EINVAL, "add `%s`: not a regular file", path);
    set_common(w, path, AE_IFREG, mode, mtime);
    w->ar->archive_entry_set_size(w->entry, (la_int64_t)st.st_size);
    if (write_header(w, path, err) < 0) return -1;
    uint64_t size = (uint64_t)st.st_size, done = 0;
    while (done < size) {
        size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
        ssize_t n = pread(fd, w->buf, want, (off_t)done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return wb_error_sys(err, "read `%s`", path);
        if (n == 0)
            return wb_error_set(err, EIO, "add `%s`: the file shrank while it was being read",
                                path);
        if (write_data(w, path, w->buf, (size_t)n, err) < 0) return -1;
        done += (uint64_t)n;
    }
    /* the header promised `size` bytes: a file that grew meanwhile would be cut silently */
    uint8_t probe;
    ssize_t more;
    do more = pread(fd, &probe, 1, (off_t)size);
    while (more < 0 && errno == EINTR);
    if (more > 0)
        return wb_error_set(err, EIO, "add `%s`: the file grew while it was being read", path);
    return finish_entry(w, path, err);
}

int wb_layer_add_file(wb_layer_writer *w, const char *path, const char *host_path, mode_t mode,
                      int64_t mtime, wb_error *err) {
    int fd = open(host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return wb_error_sys(err, "open `%s`", host_path);
    int rc = wb_layer_add_fd(w, path, fd, mode, mtime, err);
    close(fd);
    return rc;
}

int wb_layer_writer_commit(wb_layer_writer *w, wb_layer_desc *desc, wb_error *err) {
    const wb_libarchive *ar = w->ar;
    int rc = -1;
    /* closing the tar writer flushes its end blocks through tar_out into the gzip writer */
    if (ar->archive_write_close(w->tar) != ARCHIVE_OK) {
        ar_error(w, w->tar, err, "finish", "layer (tar)");
        goto fail;
    }
    if (ar->archive_write_finish_entry(w->gz) != ARCHIVE_OK ||
        ar->archive_write_close(w->gz) != ARCHIVE_OK) {
        ar_error(w, w->gz, err, "finish", "layer (gzip)");
        goto fail;
    }
    memset(desc, 0, sizeof *desc);
    snprintf(desc->media_type, sizeof desc->media_type, "%s", WB_MT_OCI_LAYER_GZIP);
    wb_hasher_final(w->diff, desc->diff_id);
    w->diff = NULL;
    desc->size = wb_blob_writer_size(w->blob);
    rc = wb_blob_writer_commit(w->blob, desc->digest, err);
    w->blob = NULL;
    writer_free(w);
    return rc;
fail:
    wb_layer_writer_abort(w);
    return rc;
}

void wb_layer_writer_abort(wb_layer_writer *w) {
    if (!w) return;
    if (w->blob) wb_blob_writer_abort(w->blob);
    w->blob = NULL;
    writer_free(w);
}
