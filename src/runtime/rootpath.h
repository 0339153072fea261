/* runtime/rootpath.h — paths inside a container's root, resolved by the kernel as if the root were
 * "/" (openat2 RESOLVE_IN_ROOT): a symlink in an image or planted by a container, absolute or full
 * of "..", never leads outside it (the class of runc's CVE-2021-30465). */
#ifndef WB_RUNTIME_ROOTPATH_H
#define WB_RUNTIME_ROOTPATH_H

#include <stdbool.h>

enum wb_root_kind {
    WB_ROOT_DIR,  /* a directory (made, with its parents, when missing and `create`) */
    WB_ROOT_FILE, /* a file (made empty, parents too, when missing and `create`): a bind target */
    WB_ROOT_ANY,  /* whatever is there (never created) */
};

/* Open `path` (absolute inside the root whose directory descriptor is `root`) as an O_PATH
 * descriptor; with `create`, make what is missing (directories 0755, a file 0644). Returns the
 * descriptor or -1 with errno. The descriptor names the object itself: mount onto
 * /proc/self/fd/N to mount exactly there. */
int wb_root_open(int root, const char *path, enum wb_root_kind kind, bool create);

#endif
