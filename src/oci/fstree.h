/* oci/fstree.h — the builder's in-memory file trees: the build context as the builder may see it
 * (after .dockerignore), a stage's root filesystem as its layers make it, the content of an
 * archive given to ADD. Nodes record where their data lives; nothing here touches the disk.
 * Also the path cleaning and the pattern matching (Docker's .dockerignore rules, with `**`, `!`
 * exceptions) shared by .dockerignore and COPY sources. */
#ifndef WB_OCI_FSTREE_H
#define WB_OCI_FSTREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define WB_FSTREE_MAX_NODES 1000000
#define WB_FSTREE_MAX_PATH  4096

typedef enum wb_ftype { WB_FT_DIR, WB_FT_REG, WB_FT_SYMLINK, WB_FT_HARDLINK } wb_ftype;

typedef struct wb_fsnode {
    char *name; /* last component; "" for the root */
    struct wb_fsnode *parent;
    struct wb_fsnode **children; /* sorted by name (strcmp) */
    size_t nchildren, cap;
    wb_ftype type;
    mode_t perm;       /* permission bits (07777) */
    uint32_t uid, gid; /* owner, from a layer's headers (0 for context files) */
    uint64_t size;
    int64_t mtime;
    char *link; /* symlink target as stored; hard link: the target's path in the tree */
    /* where the data is: a layer or archive (index, entry ordinal), or a context file (dev, ino) */
    int layer;
    uint64_t entry;
    uint64_t dev, ino;
    unsigned mark; /* free for the tree's builder (the context walk marks excluded directories) */
} wb_fsnode;

typedef struct wb_fstree wb_fstree;

wb_fstree *wb_fstree_new(void);
void wb_fstree_free(wb_fstree *t);
wb_fsnode *wb_fstree_root(wb_fstree *t);
size_t wb_fstree_count(const wb_fstree *t);

/* The node at a cleaned relative path ("" is the root), following no symlinks; NULL if absent. */
wb_fsnode *wb_fstree_get(wb_fstree *t, const char *path);
/* Create or replace the node at a cleaned relative path. Missing parents are created as
 * directories (0755, mtime 0); a parent that exists and is not a directory is an error (an entry
 * reached through a symlink or a file). Replacing a directory by a directory keeps its children;
 * replacing anything else drops the old node and its subtree. */
int wb_fstree_put(wb_fstree *t, const char *path, wb_ftype type, wb_fsnode **out, wb_error *err);
/* Remove a node and its subtree (not the root: that empties it). */
void wb_fstree_remove(wb_fstree *t, wb_fsnode *n);
/* The path of a node ("" for the root); malloc'd. */
char *wb_fsnode_path(const wb_fsnode *n);

enum {
    /* Symlinks are read as inside a root filesystem: absolute targets start at the root, `..` at
     * the root stays there (what the image's processes would see). */
    WB_RESOLVE_ROOTFS = 0,
    /* Symlinks must stay inside the tree: an absolute target, or `..` above the root, is refused
     * (EXDEV) — the build context. */
    WB_RESOLVE_CONTAINED = 1,
    WB_RESOLVE_NOFOLLOW = 2, /* do not follow a symlink in the final component */
};

/* Resolve a cleaned relative path, following symlinks (at most 40). *out is NULL with rc 0 when
 * only the final component is missing (then *parent_out, if given, is its directory and
 * *real_out the resolved path it would have); ENOENT/ENOTDIR when a parent is missing or not a
 * directory; EXDEV (contained) when a link leaves; ELOOP. *real_out (may be NULL) is the resolved
 * path without symlinks, malloc'd. */
int wb_fstree_resolve(wb_fstree *t, const char *path, unsigned flags, wb_fsnode **out,
                      char **real_out, wb_error *err);

/* Clean a path lexically as Go's filepath.Clean, relative to a root: leading slashes dropped,
 * `.` and empty components removed, `..` applied. With clamp, `..` at the root stays there;
 * without, it is an error (returns -1). Writes "" for the root. Malloc'd *out. */
int wb_path_clean(const char *in, bool clamp, char **out);

/* Docker's pattern syntax: `*` and `?` (not `/`), `[...]` classes (`^` negates), `\` escapes,
 * `**` any number of directories. A malformed pattern (an unclosed class) matches nothing. */
bool wb_pattern_valid(const char *pattern);
bool wb_pattern_match(const char *pattern, const char *path);
/* Does the pattern hold a wildcard (`*`, `?`, `[`)? */
bool wb_pattern_has_magic(const char *pattern);

/* .dockerignore: lines of patterns, `#` comments, `!` exceptions; the last matching pattern
 * decides; a pattern that matches a parent directory matches what is beneath it. */
typedef struct wb_ignore wb_ignore;
int wb_ignore_parse(const char *text, size_t len, wb_ignore **out, wb_error *err);
void wb_ignore_free(wb_ignore *ig);
/* Is the cleaned relative path excluded? */
bool wb_ignore_match(const wb_ignore *ig, const char *path);
/* Does the file have `!` exceptions (then excluded directories must still be walked)? */
bool wb_ignore_has_exceptions(const wb_ignore *ig);
size_t wb_ignore_count(const wb_ignore *ig);

#endif
