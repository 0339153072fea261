/* libFuzzer target: layer extraction (oci/tar.c through oci/tar_stream.c, libarchive underneath)
 * with whiteouts applied, and again with whiteouts kept for overlayfs (as an image's layer is
 * unpacked as root). Each input is extracted beneath a fresh directory inside a scratch
 * directory; afterwards nothing may exist in the scratch directory but that destination (an
 * entry that escaped through "..", an absolute name, a symlink or a hard link would show there),
 * and the destination is removed. A crash, a sanitizer report or an escape is a finding. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oci/tar.h"

static char scratch[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_scratch(void) {
    DIR *d = opendir(scratch);
    if (!d) abort();
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "dest")) {
            fprintf(stderr, "fuzz_tar: an entry escaped its destination: %s/%s\n", scratch,
                    e->d_name);
            abort();
        }
    closedir(d);
}

static void remove_scratch(void) {
    wb_remove_tree(scratch, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!scratch[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/fuzz_tar.XXXXXX");
        if (!mkdtemp(scratch)) abort();
        atexit(remove_scratch);
    }
    char dest[128];
    snprintf(dest, sizeof dest, "%s/dest", scratch);
    if (mkdir(dest, 0755) != 0) abort();
    int fd = memfd_create("layer", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) abort();
    wb_tar_limits lim = {.max_bytes = 64 << 20, .max_entries = 10000};
    wb_tar_stats st;
    wb_error err;
    wb_tar_extract_fd(fd, "fuzz", dest, &lim, WB_TAR_APPLY_WHITEOUTS | WB_TAR_DIGEST, &st, &err);
    check_scratch();
    wb_remove_tree(dest, NULL);
    /* the same bytes as one layer of a stack (whiteouts kept as overlayfs's device nodes and
     * xattrs, as root; refused without) */
    if (mkdir(dest, 0755) != 0 || lseek(fd, 0, SEEK_SET) != 0) abort();
    wb_tar_extract_fd(fd, "fuzz", dest, &lim, WB_TAR_OVERLAY_WHITEOUTS | WB_TAR_DIGEST, &st, &err);
    close(fd);
    check_scratch();
    wb_remove_tree(dest, NULL);
    return 0;
}
