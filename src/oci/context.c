/* The build context and tar archives as trees (see context.h). */
#include "oci/context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/dynlib.h"
#include "base/fsutil.h"
#include "oci/tar_stream.h"

#define MAX_DEPTH     256
#define MARK_EXCLUDED 1

/* ---- the context walk ---- */

typedef struct walker {
    wb_context *c;
    bool exceptions;
    wb_error *err;
} walker;

static int walk_dir(walker *w, int dirfd, const char *rel, int depth) {
    if (depth > MAX_DEPTH)
        return wb_error_set(w->err, ELOOP, "build context: `%s` is nested too deeply", rel);
    int dfd = dup(dirfd);
    if (dfd < 0) return wb_error_sys(w->err, "read the build context");
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return wb_error_sys(w->err, "read `%s` in the build context", rel[0] ? rel : ".");
    }
    int rc = 0;
    struct dirent *de;
    char path[WB_FSTREE_MAX_PATH];
    while (rc == 0 && (errno = 0, de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        if (wb_path_join(path, sizeof path, w->err, "%s%s%s", rel, rel[0] ? "/" : "", name) < 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue; /* removed meanwhile */
            rc = wb_error_sys(w->err, "stat `%s` in the build context", path);
            break;
        }
        bool excluded = wb_ignore_match(w->c->ignore, path);
        wb_fsnode *n;
        if (S_ISDIR(st.st_mode)) {
            if (excluded && !w->exceptions) continue;
            int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (errno == EACCES && excluded) continue;
                rc = wb_error_sys(w->err, "open `%s` in the build context", path);
                break;
            }
            if ((rc = wb_fstree_put(w->c->tree, path, WB_FT_DIR, &n, w->err)) == 0) {
                n->perm = st.st_mode & 07777;
                n->mtime = st.st_mtime;
                n->dev = st.st_dev;
                n->ino = st.st_ino;
                n->mark = excluded ? MARK_EXCLUDED : 0;
                rc = walk_dir(w, sub, path, depth + 1);
            }
            close(sub);
        } else if (excluded) {
            continue;
        } else if (S_ISREG(st.st_mode)) {
            if ((rc = wb_fstree_put(w->c->tree, path, WB_FT_REG, &n, w->err)) == 0) {
                n->perm = st.st_mode & 07777;
                n->mtime = st.st_mtime;
                n->size = (uint64_t)st.st_size;
                n->dev = st.st_dev;
                n->ino = st.st_ino;
                w->c->files++;
                w->c->bytes += (uint64_t)st.st_size;
            }
        } else if (S_ISLNK(st.st_mode)) {
            char target[WB_FSTREE_MAX_PATH];
            ssize_t l = readlinkat(dirfd, name, target, sizeof target - 1);
            if (l < 0) {
                rc = wb_error_sys(w->err, "read the symlink `%s` in the build context", path);
                break;
            }
            target[l] = '\0';
            if ((rc = wb_fstree_put(w->c->tree, path, WB_FT_SYMLINK, &n, w->err)) == 0) {
                n->perm = 0777;
                n->mtime = st.st_mtime;
                n->link = wb_strdup(target);
            }
        }
        /* sockets, fifos and devices are not part of a build context */
    }
    if (rc == 0 && errno)
        rc = wb_error_sys(w->err, "read `%s` in the build context", rel[0] ? rel : ".");
    closedir(d);
    return rc;
}

/* Excluded directories stay only as parents of included (excepted) files. */
static void prune(wb_fstree *t, wb_fsnode *n) {
    for (size_t i = n->nchildren; i-- > 0;) {
        wb_fsnode *c = n->children[i];
        if (c->type != WB_FT_DIR) continue;
        prune(t, c);
        if (c->mark == MARK_EXCLUDED && c->nchildren == 0) wb_fstree_remove(t, c);
    }
}

void wb_context_free(wb_context *c) {
    if (!c) return;
    if (c->dirfd >= 0) close(c->dirfd);
    wb_fstree_free(c->tree);
    wb_ignore_free(c->ignore);
    free(c->dir);
    free(c);
}

/* A whole regular file from an open descriptor, at most max bytes; NUL-terminated. */
static int read_fd(int fd, size_t max, uint8_t **data, size_t *len, wb_error *err) {
    struct stat st;
    if (fstat(fd, &st) != 0) return wb_error_sys(err, "stat");
    if (!S_ISREG(st.st_mode)) return wb_error_set(err, EINVAL, "not a regular file");
    if ((uint64_t)st.st_size > max) return wb_error_set(err, EFBIG, "larger than %zu bytes", max);
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *buf = wb_malloc(size + 1);
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return 0;
}

int wb_context_open(const char *dir, const char *ignore_file, wb_context **out, wb_error *err) {
    *out = NULL;
    wb_context *c = wb_calloc(1, sizeof *c);
    c->dir = wb_strdup(dir);
    c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dirfd < 0) {
        wb_error_sys(err, "unable to prepare context: path \"%s\"", dir);
        free(c->dir);
        free(c);
        return -1;
    }
    c->tree = wb_fstree_new();
    /* .dockerignore */
    uint8_t *text = NULL;
    size_t len = 0;
    int rc;
    bool missing = false;
    if (ignore_file) {
        rc = wb_read_file(ignore_file, WB_CONTEXT_MAX_IGNORE_BYTES, &text, &len, err);
    } else {
        int fd = openat(c->dirfd, ".dockerignore", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            rc = -1;
            if (errno != ENOENT)
                wb_error_sys(err, "read `%s/.dockerignore`", dir);
            else
                missing = true;
        } else {
            rc = read_fd(fd, WB_CONTEXT_MAX_IGNORE_BYTES, &text, &len, err);
            if (rc < 0) wb_error_wrap(err, "read `%s/.dockerignore`", dir);
            close(fd);
        }
    }
    if (rc < 0 && !missing) goto fail;
    if (rc == 0) {
        rc = wb_ignore_parse((const char *)text, len, &c->ignore, err);
        free(text);
        if (rc < 0) goto fail;
    }
    struct stat st;
    if (fstat(c->dirfd, &st) == 0) {
        wb_fsnode *root = wb_fstree_root(c->tree);
        root->perm = st.st_mode & 07777;
        root->mtime = st.st_mtime;
        root->dev = st.st_dev;
        root->ino = st.st_ino;
    }
    walker w = {c, wb_ignore_has_exceptions(c->ignore), err};
    if (walk_dir(&w, c->dirfd, "", 0) < 0) goto fail;
    prune(c->tree, wb_fstree_root(c->tree));
    wb_error_clear(err);
    *out = c;
    return 0;
fail:
    wb_context_free(c);
    return -1;
}

static int open_walk(int dirfd, const char *path) {
    /* without openat2: one component at a time, none of them a symlink */
    char buf[WB_FSTREE_MAX_PATH];
    if (wb_path_join(buf, sizeof buf, NULL, "%s", path) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int cur = dup(dirfd);
    char *save = NULL;
    char *comp = strtok_r(buf, "/", &save);
    while (comp && cur >= 0) {
        char *next = strtok_r(NULL, "/", &save);
        int flags =
            O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (next ? O_DIRECTORY : O_NONBLOCK | O_NOCTTY);
        int fd = openat(cur, comp, flags);
        int saved = errno;
        close(cur);
        errno = saved;
        cur = fd;
        comp = next;
    }
    return cur;
}

int wb_context_open_file(const wb_context *c, const char *path, const wb_fsnode *n, int *fd,
                         wb_error *err) {
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long f;
    do f = syscall(SYS_openat2, c->dirfd, path, &how, sizeof how);
    while (f < 0 && (errno == EINTR || errno == EAGAIN));
    if (f < 0 && errno == ENOSYS) f = open_walk(c->dirfd, path);
    if (f < 0) {
        if (errno == ELOOP || errno == EXDEV)
            return wb_error_set(err, errno,
                                "`%s` changed during the build (it is now reached "
                                "through a symlink)",
                                path);
        return wb_error_sys(err, "open `%s` in the build context", path);
    }
    struct stat st;
    if (fstat((int)f, &st) != 0 || !S_ISREG(st.st_mode) ||
        (n && n->ino && ((uint64_t)st.st_ino != n->ino || (uint64_t)st.st_dev != n->dev))) {
        close((int)f);
        return wb_error_set(err, ESTALE, "`%s` changed during the build", path);
    }
    /* back to blocking reads */
    int fl = fcntl((int)f, F_GETFL);
    if (fl >= 0) fcntl((int)f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = (int)f;
    return 0;
}

/* ---- tar archives ---- */

static struct archive *tar_open(const wb_libarchive *ar, int fd, wb_error *err) {
    if (lseek(fd, 0, SEEK_SET) < 0) {
        wb_error_sys(err, "rewind an archive");
        return NULL;
    }
    struct archive *a = ar->archive_read_new();
    if (!a) {
        wb_error_set(err, ENOMEM, "read an archive");
        return NULL;
    }
    ar->archive_read_support_filter_all(a);
    ar->archive_read_support_format_tar(a);
    if (ar->archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
        wb_error_set(err, EINVAL, "not a tar archive: %s", ar->archive_error_string(a) ?: "?");
        ar->archive_read_free(a);
        return NULL;
    }
    return a;
}

bool wb_tartree_is_archive(int fd) {
    const wb_libarchive *ar = wb_libarchive_get(NULL);
    if (!ar) return false;
    struct archive *a = tar_open(ar, fd, NULL);
    if (!a) return false;
    struct archive_entry *e;
    bool ok = ar->archive_read_next_header(a, &e) == ARCHIVE_OK;
    ar->archive_read_free(a);
    return ok;
}

/* An entry name as a tree path: "./" and (for layers) leading slashes dropped; `..` refused. */
static int entry_path(const char *name, unsigned flags, char **out, wb_error *err) {
    *out = NULL;
    if (name[0] == '/' && (flags & WB_TARTREE_ARCHIVE))
        return wb_error_set(err, EINVAL, "entry `%.200s` has an absolute name", name);
    for (const char *p = name; *p;) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 2 && p[0] == '.' && p[1] == '.')
            return wb_error_set(err, EINVAL, "entry `%.200s` leads outside (`..`)", name);
        if (!e) break;
        p = e + 1;
    }
    wb_path_clean(name, false, out);
    return 0;
}

static int apply_whiteout(wb_fstree *t, const char *path, int index, unsigned flags,
                          wb_error *err) {
    if (flags & WB_TARTREE_ARCHIVE)
        return wb_error_set(err, EINVAL, "entry `%.200s` is a whiteout (only layers have them)",
                            path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[WB_FSTREE_MAX_PATH];
    if (wb_path_join(dir, sizeof dir, err, "%.*s", slash ? (int)(slash - path) : 0, path) < 0)
        return -1;
    wb_fsnode *d = wb_fstree_get(t, dir);
    if (!d || d->type != WB_FT_DIR) return 0;
    if (!strcmp(base, ".wh..wh..opq")) {
        /* opaque directory: what lower layers put in it is gone */
        for (size_t i = d->nchildren; i-- > 0;)
            if (d->children[i]->layer < index) wb_fstree_remove(t, d->children[i]);
        return 0;
    }
    char victim[WB_FSTREE_MAX_PATH];
    if (wb_path_join(victim, sizeof victim, err, "%s%s%s", dir, dir[0] ? "/" : "", base + 4) < 0)
        return -1;
    wb_fsnode *v = wb_fstree_get(t, victim);
    if (v && v != wb_fstree_root(t)) wb_fstree_remove(t, v);
    return 0;
}

/* Does a component before the last start with `.wh.`? */
static bool beneath_whiteout(const char *path) {
    const char *last = strrchr(path, '/');
    for (const char *c = path; last && c < last;) {
        if (!strncmp(c, ".wh.", 4)) return true;
        c = strchr(c, '/') + 1;
    }
    return false;
}

/* A tar stream on fd, from offset 0. */
static wb_tar_stream *stream_open(int fd, uint64_t max_bytes, bool hash, wb_error *err) {
    if (lseek(fd, 0, SEEK_SET) < 0) {
        wb_error_sys(err, "rewind an archive");
        return NULL;
    }
    wb_tar_stream *ts;
    if (wb_tar_stream_open(NULL, fd, "archive", max_bytes, hash, &ts, err) < 0) return NULL;
    return ts;
}

int wb_tartree_read(int fd, int index, unsigned flags, const wb_tartree_limits *lim, wb_fstree *t,
                    wb_error *err) {
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    uint64_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : (uint64_t)16 << 30;
    uint64_t max_entries = lim && lim->max_entries ? lim->max_entries : 1000000;
    const char *diff_id = lim ? lim->diff_id : NULL;
    if (diff_id && !wb_digest_valid(diff_id))
        return wb_error_set(err, EINVAL, "the image config gives no valid diff_id (\"%.80s\")",
                            diff_id);
    wb_tar_stream *ts = stream_open(fd, max_bytes, diff_id != NULL, err);
    if (!ts) return -1;
    struct archive *a = wb_tar_stream_reader(ts);
    struct archive_entry *e;
    uint64_t ordinal = 0, bytes = 0;
    int rc = 0, r;
    char lim_text[32];
    while ((r = ar->archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        uint64_t ord = ordinal++;
        if (ordinal > max_entries) {
            rc = wb_error_set(err, EFBIG, "more than %llu entries (the limit)",
                              (unsigned long long)max_entries);
            break;
        }
        const char *name = ar->archive_entry_pathname(e);
        if (!name) {
            rc = wb_error_set(err, EINVAL, "an entry without a name");
            break;
        }
        char *path;
        if ((rc = entry_path(name, flags, &path, err)) < 0) break;
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if ((flags & WB_TARTREE_LAYER) && beneath_whiteout(path)) {
            free(path); /* beneath `.wh.x/`: nothing there is content */
            continue;
        }
        if (!strncmp(base, ".wh.", 4)) {
            rc = apply_whiteout(t, path, index, flags, err);
            free(path);
            if (rc < 0) break;
            continue;
        }
        mode_t type = ar->archive_entry_filetype(e);
        const char *hard = ar->archive_entry_hardlink(e);
        wb_fsnode *n = NULL;
        if (hard) {
            char *target;
            if ((rc = entry_path(hard, flags, &target, err)) < 0) {
                free(path);
                break;
            }
            wb_fsnode *tn = wb_fstree_get(t, target);
            if (!tn || tn->type != WB_FT_REG) {
                rc = wb_error_set(err, EINVAL,
                                  "entry `%.200s` is a hard link to `%.200s`, which "
                                  "is not a file before it",
                                  name, hard);
                free(target);
                free(path);
                break;
            }
            /* the same content, seen through another name */
            int tl = tn->layer;
            uint64_t te = tn->entry, tsize = tn->size;
            rc = wb_fstree_put(t, path, WB_FT_REG, &n, err);
            if (rc == 0) {
                n->layer = tl;
                n->entry = te;
                n->size = tsize;
            }
            free(target);
        } else if (type == AE_IFDIR) {
            rc = wb_fstree_put(t, path, WB_FT_DIR, &n, err);
        } else if (type == AE_IFREG) {
            uint64_t size = (uint64_t)ar->archive_entry_size(e);
            if (bytes + size > max_bytes || bytes + size < bytes) {
                rc = wb_error_set(err, EFBIG, "more than %s uncompressed (the limit)",
                                  wb_size_text(max_bytes, lim_text, sizeof lim_text));
            } else {
                bytes += size;
                rc = wb_fstree_put(t, path, WB_FT_REG, &n, err);
                if (rc == 0) {
                    n->size = size;
                    n->layer = index;
                    n->entry = ord;
                }
            }
        } else if (type == AE_IFLNK) {
            const char *target = ar->archive_entry_symlink(e);
            rc = wb_fstree_put(t, path, WB_FT_SYMLINK, &n, err);
            if (rc == 0) n->link = wb_strdup(target ? target : "");
        } else if (flags & WB_TARTREE_ARCHIVE) {
            rc = wb_error_set(err, EINVAL, "entry `%.200s` is a device or fifo", name);
        }
        /* (devices and fifos in a base image's layers are not kept: COPY never takes them) */
        if (rc == 0 && n) {
            if (type != AE_IFLNK) n->perm = ar->archive_entry_perm(e) & 07777;
            n->mtime = ar->archive_entry_mtime(e);
            n->uid = (uint32_t)ar->archive_entry_uid(e);
            n->gid = (uint32_t)ar->archive_entry_gid(e);
            if (!hard && type != AE_IFREG) n->layer = index;
        }
        if (rc < 0) wb_error_wrap(err, "entry `%.200s`", name);
        free(path);
        if (rc < 0) break;
    }
    if (rc == 0 && r != ARCHIVE_EOF) rc = wb_tar_stream_fail(ts, "read a tar archive: ", err);
    char got[WB_DIGEST_MAX];
    if (rc == 0 && diff_id && wb_tar_stream_finish(ts, got, NULL, err) < 0) rc = -1;
    if (rc == 0 && diff_id && strcmp(got, diff_id) != 0)
        rc = wb_error_set(err, EIO,
                          "uncompressed content %s does not match the image config's diff_id %s",
                          got, diff_id);
    wb_tar_stream_free(ts);
    return rc;
}

int wb_tartree_fetch(int fd, const uint64_t *entries, size_t n, int dirfd, wb_error *err) {
    if (!n) return 0;
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    struct archive *a = tar_open(ar, fd, err);
    if (!a) return -1;
    struct archive_entry *e;
    uint64_t ordinal = 0;
    size_t next = 0;
    int rc = 0, r;
    char *buf = wb_malloc(256 * 1024);
    while (next < n &&
           ((r = ar->archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
        uint64_t ord = ordinal++;
        if (ord != entries[next]) continue;
        while (next < n && entries[next] == ord) next++;
        char name[32];
        snprintf(name, sizeof name, "%llu", (unsigned long long)ord);
        int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0) {
            rc = wb_error_sys(err, "create a temporary file");
            break;
        }
        uint64_t want = (uint64_t)ar->archive_entry_size(e), got = 0;
        for (;;) {
            la_ssize_t k = ar->archive_read_data(a, buf, 256 * 1024);
            if (k < 0) {
                rc =
                    wb_error_set(err, EIO, "read entry `%.200s`: %s", ar->archive_entry_pathname(e),
                                 ar->archive_error_string(a) ?: "?");
                break;
            }
            if (k == 0) break;
            got += (uint64_t)k;
            if (got > want) {
                rc = wb_error_set(err, EIO, "entry `%.200s` holds more than its size",
                                  ar->archive_entry_pathname(e));
                break;
            }
            for (la_ssize_t off = 0; off < k;) {
                ssize_t w = write(out, buf + off, (size_t)(k - off));
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) {
                    rc = wb_error_sys(err, "write a temporary file");
                    break;
                }
                off += w;
            }
            if (rc < 0) break;
        }
        close(out);
        if (rc < 0) break;
    }
    if (rc == 0 && next < n)
        rc = wb_error_set(err, EIO, "the archive changed: entry %llu is missing",
                          (unsigned long long)entries[next]);
    free(buf);
    ar->archive_read_free(a);
    return rc;
}
