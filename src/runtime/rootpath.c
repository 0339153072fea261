/* Paths inside a container's root: every component resolved with RESOLVE_IN_ROOT. */
#include "runtime/rootpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_in(int root, const char *path, int flags) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

int wb_root_open(int root, const char *path, enum wb_root_kind kind, bool create) {
    char prefix[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof prefix) {
        errno = ENAMETOOLONG;
        return -1;
    }
    while (len > 1 && path[len - 1] == '/') len--; /* "/a/b/" is "/a/b" */
    int fd = open_in(root, len <= 1 ? "/" : path, O_PATH | (kind == WB_ROOT_DIR ? O_DIRECTORY : 0));
    if (fd >= 0 || errno != ENOENT || !create || len <= 1) return fd;
    /* make what is missing, one component at a time, each parent opened inside the root */
    int parent = open_in(root, "/", O_PATH | O_DIRECTORY);
    if (parent < 0) return -1;
    for (size_t end = 1; end <= len; end++) {
        if (end < len && path[end] != '/') continue;
        if (path[end - 1] == '/') continue; /* "//" */
        memcpy(prefix, path, end);
        prefix[end] = '\0';
        bool last = end == len;
        bool dir = !last || kind == WB_ROOT_DIR;
        fd = open_in(root, prefix, O_PATH | (dir ? O_DIRECTORY : 0));
        if (fd < 0 && errno == ENOENT) {
            const char *name = strrchr(prefix, '/') + 1;
            int r = dir ? mkdirat(parent, name, 0755) : mknodat(parent, name, S_IFREG | 0644, 0);
            if (r != 0 && errno != EEXIST) {
                int saved = errno;
                close(parent);
                errno = saved;
                return -1;
            }
            fd = open_in(root, prefix, O_PATH | (dir ? O_DIRECTORY : 0));
        }
        int saved = errno;
        close(parent);
        if (fd < 0) {
            errno = saved;
            return -1;
        }
        parent = fd;
    }
    return parent;
}
