/* Safe tar extraction: being written (see tar.h). */
#include "oci/tar.h"

#include <errno.h>

int wb_tar_extract(const char *archive, const char *dest, const wb_tar_limits *lim, unsigned flags,
                   wb_tar_stats *stats, wb_error *err) {
    return wb_error_set(err, ENOSYS, "extracting `%s`: tar extraction is being written", archive);
}

int wb_tar_scan(const char *archive, const wb_tar_limits *lim, unsigned flags, wb_tar_stats *stats,
                wb_error *err) {
    return wb_error_set(err, ENOSYS, "scanning `%s`: tar extraction is being written", archive);
}
