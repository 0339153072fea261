/* oci/tar_stream.h — the one way tars from untrusted sources are read: the input (plain, gzip,
 * zstd, xz or bzip2) is decompressed by one libarchive reader, every uncompressed byte is counted
 * against a cap and (optionally) hashed — the SHA-256 of the uncompressed stream is a layer's
 * diff_id — and a second libarchive reader parses the tar from those bytes. The extractor
 * (tar.c) and the builder's layer trees (context.c) both read through it. */
#ifndef WB_OCI_TAR_STREAM_H
#define WB_OCI_TAR_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"

struct archive;
typedef struct wb_tar_stream wb_tar_stream;

/* Open `path`, or — path NULL — the descriptor fd (read from where it is; it stays the caller's
 * and open). `name` is used in messages. max_bytes caps the uncompressed stream (0: no cap): the
 * reader fails with EFBIG ("`name`: more than 1 GiB uncompressed (the limit)") as soon as it
 * passes. With `hash`, the uncompressed stream is hashed (libcrypto is loaded). *out is freed with
 * wb_tar_stream_free. */
int wb_tar_stream_open(const char *path, int fd, const char *name, uint64_t max_bytes, bool hash,
                       wb_tar_stream **out, wb_error *err);
/* The tar reader (owned by the stream): call archive_read_next_header/_data_block on it. */
struct archive *wb_tar_stream_reader(wb_tar_stream *ts);
/* After the tar reader failed: fill err with the stream's own failure (the cap, a decompression
 * error) when it had one, else with libarchive's message prefixed by `what`. Returns -1. */
int wb_tar_stream_fail(wb_tar_stream *ts, const char *what, wb_error *err);
/* Whether the stream stopped at the cap. */
bool wb_tar_stream_over_limit(const wb_tar_stream *ts);
/* Read the rest of the uncompressed stream (the tar's end blocks and padding are part of the
 * diff_id), still under the cap, and write its digest ("" without `hash`) and length. */
int wb_tar_stream_finish(wb_tar_stream *ts, char digest[WB_DIGEST_MAX], uint64_t *bytes,
                         wb_error *err);
void wb_tar_stream_free(wb_tar_stream *ts);

/* "16 GiB", "64 MiB", or "N bytes" */
const char *wb_size_text(uint64_t n, char *buf, size_t size);

#endif
