/* Paths inside a container's root: every component resolved with RESOLVE_IN_ROOT. */
#include "runtime/rootpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_in(int root, const char *path, int flags) {
    struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

static int root_open(int root, const char *path, enum wb_root_kind kind, bool create, int depth);

/* `path` failed with ENOENT: if its last component is a dangling symlink, the path it points to
 * (inside the root: the kernel clamps "..", an absolute target starts at the root), else NULL. */
static bool dangling_target(int root, const char *path, char *out, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1]) return false;
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
    int pfd = open_in(root, parent[0] ? parent : "/", O_PATH | O_DIRECTORY);
    if (pfd < 0) return false;
    char link[PATH_MAX];
    ssize_t n = readlinkat(pfd, slash + 1, link, sizeof link - 1);
    close(pfd);
    if (n <= 0) return false;
    link[n] = '\0';
    int w = link[0] == '/' ? snprintf(out, size, "%s", link)
                           : snprintf(out, size, "%s/%s", parent, link);
    return w > 0 && (size_t)w < size;
}

int wb_root_open(int root, const char *path, enum wb_root_kind kind, bool create) {
    return root_open(root, path, kind, create, 0);
}

static int root_open(int root, const char *path, enum wb_root_kind kind, bool create, int depth) {
    char prefix[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof prefix) {
        errno = ENAMETOOLONG;
        return -1;
    }
    while (len > 1 && path[len - 1] == '/') len--; /* "/a/b/" is "/a/b" */
    int fd = open_in(root, len <= 1 ? "/" : path, O_PATH | (kind == WB_ROOT_DIR ? O_DIRECTORY : 0));
    if (fd >= 0 || errno != ENOENT || !create || len <= 1) return fd;
    /* a dangling symlink is followed (inside the root) to where it points, which is made */
    char target[PATH_MAX];
    if (dangling_target(root, path, target, sizeof target)) {
        if (depth >= 40) {
            errno = ELOOP;
            return -1;
        }
        return root_open(root, target, kind, create, depth + 1);
    }
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
