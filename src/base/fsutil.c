#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"

int wb_path_join(char *buf, size_t size, wb_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return wb_error_set(err, ENAMETOOLONG, "path too long: %.200s...", buf);
    return 0;
}

int wb_fsync_dir(const char *path, wb_error *err) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "open `%s`", path);
    int rc = fsync(fd);
    close(fd);
    if (rc != 0 && errno != EINVAL) return wb_error_sys(err, "fsync `%s`", path);
    return 0;
}

int wb_write_all(int fd, const void *data, size_t len) {
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int wb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                         wb_error *err) {
    char tmp[4096];
    static unsigned counter; /* only makes names unique within the process */
    if (wb_path_join(tmp, sizeof tmp, err, "%s.tmp.%d.%u", path, (int)getpid(), counter++) < 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ? mode : 0644);
    if (fd < 0) return wb_error_sys(err, "create `%s`", tmp);
    if (wb_write_all(fd, data, len) < 0 || (durable && fsync(fd) != 0)) {
        wb_error_sys(err, "write `%s`", tmp);
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0) {
        wb_error_sys(err, "write `%s`", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        wb_error_sys(err, "rename `%s` to `%s`", tmp, path);
        unlink(tmp);
        return -1;
    }
    if (durable) {
        char dir[4096];
        if (wb_path_join(dir, sizeof dir, err, "%s", path) < 0) return -1;
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            slash[1] = '\0';
        else if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        if (wb_fsync_dir(dir, err) < 0) return -1;
    }
    return 0;
}

int wb_read_file(const char *path, size_t max, uint8_t **data, size_t *len, wb_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "read `%s`", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        wb_error_sys(err, "read `%s`", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        return wb_error_set(err, S_ISREG(st.st_mode) ? EFBIG : EINVAL, "read `%s`: %s", path,
                            S_ISREG(st.st_mode) ? "file too large" : "not a regular file");
    }
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *buf = wb_malloc(size + 1);
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            wb_error_sys(err, "read `%s`", path);
            free(buf);
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return 0;
}

int wb_mkdir_p(const char *path, mode_t mode, wb_error *err) {
    char buf[4096];
    struct stat st0;
    if (stat(path, &st0) == 0 && S_ISDIR(st0.st_mode)) return 0; /* the common case: one call */
    if (wb_path_join(buf, sizeof buf, err, "%s", path) < 0) return -1;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) != 0 && errno != EEXIST)
                return wb_error_sys(err, "create `%s`", buf);
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return wb_error_set(err, ENOTDIR, "create `%s`: not a directory", path);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (type == FTW_DP) return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int wb_remove_tree(const char *path, wb_error *err) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : wb_error_sys(err, "remove `%s`", path);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) != 0) return wb_error_sys(err, "remove `%s`", path);
        return 0;
    }
    if (nftw(path, remove_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
        return wb_error_sys(err, "remove `%s`", path);
    return 0;
}

/* /etc/passwd read directly, not through getpwuid: the static core loads no NSS module. A home
 * too long for buf is none (false), never a cut-short path. */
bool wb_home_dir(char *buf, size_t size) {
    const char *env = getenv("HOME");
    if (env && *env) return wb_path_join(buf, size, NULL, "%s", env) == 0;
    FILE *f = fopen("/etc/passwd", "re");
    if (!f) return false;
    char line[1024];
    bool found = false;
    uid_t uid = geteuid();
    while (!found && fgets(line, sizeof line, f)) {
        /* name:password:uid:gid:gecos:home:shell */
        char *field[7] = {line};
        int n = 1;
        for (char *p = line; *p && n < 7; p++)
            if (*p == ':') {
                *p = '\0';
                field[n++] = p + 1;
            }
        char *end;
        if (n < 7 || !field[5][0]) continue;
        unsigned long id = strtoul(field[2], &end, 10);
        if (*end == '\0' && end != field[2] && id == uid) {
            found = wb_path_join(buf, size, NULL, "%s", field[5]) == 0;
            break;
        }
    }
    fclose(f);
    return found;
}

int wb_rename_noreplace(const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
}

int wb_lock_file(const char *path, wb_error *err) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return wb_error_sys(err, "open `%s`", path);
    if (flock(fd, LOCK_EX) != 0) {
        wb_error_sys(err, "lock `%s`", path);
        close(fd);
        return -1;
    }
    return fd;
}
