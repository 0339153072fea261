/* The decompress → count → hash → parse pipeline (see tar_stream.h). The decompressing reader
 * uses libarchive's "raw" format (the whole input is one entry: its data is the uncompressed
 * stream); the tar reader is opened on a callback that hands it the raw reader's blocks as they
 * come, without copying (libarchive keeps a callback's buffer only until the next call). */
#include "oci/tar_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/dynlib.h"

#define READ_BLOCK (64 * 1024)

struct wb_tar_stream {
    const wb_libarchive *ar;
    struct archive *raw; /* decompresses the input */
    struct archive *tar; /* parses the uncompressed bytes */
    char *name;
    uint64_t max_bytes, bytes;
    wb_hasher *hash; /* NULL without hashing */
    bool eof, failed, over_limit;
    wb_error err; /* the stream's own failure */
};

const char *wb_size_text(uint64_t n, char *buf, size_t size) {
    if (n && n % ((uint64_t)1 << 30) == 0)
        snprintf(buf, size, "%llu GiB", (unsigned long long)(n >> 30));
    else if (n && n % ((uint64_t)1 << 20) == 0)
        snprintf(buf, size, "%llu MiB", (unsigned long long)(n >> 20));
    else
        snprintf(buf, size, "%llu bytes", (unsigned long long)n);
    return buf;
}

/* The next block of the uncompressed stream, counted and hashed: 1 with *buf and *len, 0 at the
 * end, -1 with ts->err. */
static int next_block(wb_tar_stream *ts, const void **buf, size_t *len) {
    if (ts->failed) return -1;
    while (!ts->eof) {
        la_int64_t offset;
        int r = ts->ar->archive_read_data_block(ts->raw, buf, len, &offset);
        if (r == ARCHIVE_EOF) {
            ts->eof = true;
            break;
        }
        if (r < ARCHIVE_WARN) {
            const char *why = ts->ar->archive_error_string(ts->raw);
            wb_error_set(&ts->err, EIO, "read `%s`: %s", ts->name, why ? why : "read error");
            ts->failed = true;
            return -1;
        }
        if (!*len) continue;
        if (ts->max_bytes && (*len > ts->max_bytes || ts->bytes > ts->max_bytes - *len)) {
            char lim[32];
            wb_error_set(&ts->err, EFBIG, "`%s`: more than %s uncompressed (the limit)", ts->name,
                         wb_size_text(ts->max_bytes, lim, sizeof lim));
            ts->failed = ts->over_limit = true;
            return -1;
        }
        ts->bytes += *len;
        if (ts->hash) wb_hasher_update(ts->hash, *buf, *len);
        return 1;
    }
    return 0;
}

static la_ssize_t feed_tar(struct archive *a, void *data, const void **buf) {
    (void)a;
    size_t len = 0;
    int r = next_block(data, buf, &len);
    return r < 0 ? -1 : r == 0 ? 0 : (la_ssize_t)len;
}

int wb_tar_stream_open(const char *path, int fd, const char *name, uint64_t max_bytes, bool hash,
                       wb_tar_stream **out, wb_error *err) {
    *out = NULL;
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    wb_tar_stream *ts = wb_calloc(1, sizeof *ts);
    ts->ar = ar;
    ts->name = wb_strdup(name ? name : path ? path : "-");
    ts->max_bytes = max_bytes;
    if (hash && !(ts->hash = wb_hasher_new(err))) goto fail;
    ts->raw = ar->archive_read_new();
    ts->tar = ar->archive_read_new();
    if (!ts->raw || !ts->tar) {
        wb_error_set(err, ENOMEM, "libarchive: cannot create a reader");
        goto fail;
    }
    /* only these decompressors: no external program is ever started for a hostile input */
    ar->archive_read_support_filter_gzip(ts->raw);
    ar->archive_read_support_filter_zstd(ts->raw);
    ar->archive_read_support_filter_xz(ts->raw);
    ar->archive_read_support_filter_bzip2(ts->raw);
    ar->archive_read_support_format_raw(ts->raw);
    int r = path ? ar->archive_read_open_filename(ts->raw, path, READ_BLOCK)
                 : ar->archive_read_open_fd(ts->raw, fd, READ_BLOCK);
    struct archive_entry *e;
    if (r == ARCHIVE_OK) r = ar->archive_read_next_header(ts->raw, &e);
    if (r == ARCHIVE_EOF) {
        ts->eof = true; /* empty input: the tar reader says what it thinks of that */
    } else if (r < ARCHIVE_WARN) {
        int code = ar->archive_errno(ts->raw);
        const char *why = ar->archive_error_string(ts->raw);
        wb_error_set(err, code > 0 ? code : EINVAL, "read `%s`: %s", ts->name,
                     why ? why : "cannot read");
        goto fail;
    }
    ar->archive_read_support_format_tar(ts->tar);
    if (ar->archive_read_open(ts->tar, ts, NULL, feed_tar, NULL) != ARCHIVE_OK) {
        wb_tar_stream_fail(ts, "", err);
        wb_error_wrap(err, "read `%s`", ts->name);
        goto fail;
    }
    *out = ts;
    return 0;
fail:
    wb_tar_stream_free(ts);
    return -1;
}

struct archive *wb_tar_stream_reader(wb_tar_stream *ts) {
    return ts->tar;
}

int wb_tar_stream_fail(wb_tar_stream *ts, const char *what, wb_error *err) {
    if (ts->failed) {
        if (err) *err = ts->err;
        return -1;
    }
    const char *why = ts->ar->archive_error_string(ts->tar);
    return wb_error_set(err, EINVAL, "%s%s", what,
                        why ? why : "not a tar archive (or a damaged one)");
}

bool wb_tar_stream_over_limit(const wb_tar_stream *ts) {
    return ts->over_limit;
}

int wb_tar_stream_finish(wb_tar_stream *ts, char digest[WB_DIGEST_MAX], uint64_t *bytes,
                         wb_error *err) {
    const void *buf;
    size_t len;
    int r;
    while ((r = next_block(ts, &buf, &len)) > 0) {
    }
    if (r < 0) {
        if (err) *err = ts->err;
        return -1;
    }
    if (bytes) *bytes = ts->bytes;
    if (digest) digest[0] = '\0';
    if (ts->hash) {
        if (digest)
            wb_hasher_final(ts->hash, digest);
        else
            wb_hasher_free(ts->hash);
        ts->hash = NULL;
    }
    return 0;
}

void wb_tar_stream_free(wb_tar_stream *ts) {
    if (!ts) return;
    /* the tar reader first: it reads from the raw one */
    if (ts->tar) ts->ar->archive_read_free(ts->tar);
    if (ts->raw) ts->ar->archive_read_free(ts->raw);
    wb_hasher_free(ts->hash);
    free(ts->name);
    free(ts);
}
