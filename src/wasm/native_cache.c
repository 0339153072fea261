/* The native code cache's files: naming, atomic writing, verified reading. */
#include "wasm/native_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/sha256.h"
#include "wasm/native_cpu.h"

#define MAGIC            "WBNATIVE"
#define STALE_TEMP_AGE_S 3600
#define TEMP_MARK        ".wbn.tmp." /* in temporary names, "<path>.tmp.<pid>.<salt>", of .wbn paths */

typedef struct cache_header {
    uint32_t format, header_size;
    wb_native_key key;
    uint64_t payload_len;
    uint8_t payload_digest[32];
    uint32_t level; /* 1 + the optimisation level */
    uint32_t reserved;
} cache_header;

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void encode_header(const cache_header *h, uint8_t out[WB_NATIVE_CACHE_HEADER_SIZE]) {
    memcpy(out, MAGIC, 8);
    put32(out + 8, h->format);
    put32(out + 12, h->header_size);
    memcpy(out + 16, h->key.module_digest, 32);
    put32(out + 48, h->key.abi_version);
    put32(out + 52, h->key.options);
    put64(out + 56, h->key.cpu_features);
    put64(out + 64, h->payload_len);
    memcpy(out + 72, h->payload_digest, 32);
    put32(out + 104, h->level);
    put32(out + 108, h->reserved);
}

static void decode_header(const uint8_t in[WB_NATIVE_CACHE_HEADER_SIZE], cache_header *h) {
    h->format = get32(in + 8);
    h->header_size = get32(in + 12);
    memcpy(h->key.module_digest, in + 16, 32);
    h->key.abi_version = get32(in + 48);
    h->key.options = get32(in + 52);
    h->key.cpu_features = get64(in + 56);
    h->payload_len = get64(in + 64);
    memcpy(h->payload_digest, in + 72, 32);
    h->level = get32(in + 104);
    h->reserved = get32(in + 108);
}

int wb_native_cache_path(const char *dir, const wb_native_key *k, char *out, size_t size,
                         wb_error *err) {
    uint8_t enc[4 + 32 + 4 + 4 + 8], digest[32];
    char hex[65];
    put32(enc, WB_NATIVE_CACHE_FORMAT);
    memcpy(enc + 4, k->module_digest, 32);
    put32(enc + 36, k->abi_version);
    put32(enc + 40, k->options);
    put64(enc + 44, k->cpu_features);
    wb_sha256(enc, sizeof enc, digest);
    wb_sha256_hex(digest, hex);
    return wb_path_join(out, size, err, "%s/%s.wbn", dir, hex);
}

/* path's directory ("." when it has no slash, "/" for "/x") */
static int dir_of(const char *path, char *out, size_t size, wb_error *err) {
    const char *slash = strrchr(path, '/');
    if (!slash) return wb_path_join(out, size, err, ".");
    int n = slash == path ? 1 : (int)(slash - path);
    return wb_path_join(out, size, err, "%.*s", n, path);
}

/* Remove the temporary files of writers that died more than an hour ago (best effort: a failure
 * here costs only disk space). */
static void remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (!strstr(e->d_name, TEMP_MARK)) continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (st.st_mtime < now - STALE_TEMP_AGE_S) unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* A new temporary file beside path, opened O_EXCL; its name in tmp. */
static int create_temp(const char *path, char *tmp, size_t size, wb_error *err) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned salt = (unsigned)ts.tv_nsec ^ (unsigned)((uintptr_t)&ts >> 4);
    for (int attempt = 0; attempt < 64; attempt++) {
        if (wb_path_join(tmp, size, err, "%s.tmp.%d.%08x", path, (int)getpid(),
                         salt + (unsigned)attempt * 0x9e3779b9u) < 0)
            return -1;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) {
            if (fd < 0) wb_error_sys(err, "native code cache: create `%s`", tmp);
            return fd;
        }
    }
    return wb_error_set(err, EEXIST, "native code cache: no unique temporary name for `%s`", path);
}

static int write_contents(int fd, const char *tmp, const wb_native_key *k, const uint8_t *obj,
                          size_t len, int opt_level, wb_error *err) {
    cache_header h = {.format = WB_NATIVE_CACHE_FORMAT,
                      .header_size = WB_NATIVE_CACHE_HEADER_SIZE,
                      .key = *k,
                      .payload_len = len,
                      .level = 1 + (uint32_t)(opt_level < 0   ? 0
                                              : opt_level > 3 ? 3
                                                              : opt_level)};
    uint8_t raw[WB_NATIVE_CACHE_HEADER_SIZE];
    wb_sha256(obj, len, h.payload_digest);
    encode_header(&h, raw);
    if (wb_write_all(fd, raw, sizeof raw) < 0 || wb_write_all(fd, obj, len) < 0 || fsync(fd) != 0)
        return wb_error_sys(err, "native code cache: write `%s`", tmp);
    return 0;
}

int wb__native_cache_write_hooked(const char *path, const wb_native_key *k, const uint8_t *obj,
                                  size_t len, int opt_level, void (*before_rename)(void *arg),
                                  void *arg, wb_error *err) {
    char dir[4096], tmp[4096];
    if (dir_of(path, dir, sizeof dir, err) < 0 || wb_mkdir_p(dir, 0700, err) < 0) return -1;
    remove_stale_temps(dir);
    int fd = create_temp(path, tmp, sizeof tmp, err);
    if (fd < 0) return -1;
    int rc = write_contents(fd, tmp, k, obj, len, opt_level, err);
    if (rc == 0 && before_rename) before_rename(arg);
    if (close(fd) != 0 && rc == 0) rc = wb_error_sys(err, "native code cache: write `%s`", tmp);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = wb_error_sys(err, "native code cache: rename `%s` to `%s`", tmp, path);
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    return wb_fsync_dir(dir, err);
}

int wb_native_cache_write(const char *path, const wb_native_key *k, const uint8_t *obj, size_t len,
                          int opt_level, wb_error *err) {
    return wb__native_cache_write_hooked(path, k, obj, len, opt_level, NULL, NULL, err);
}

int wb_native_cache_opt_level(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    uint8_t raw[WB_NATIVE_CACHE_HEADER_SIZE];
    ssize_t n = pread(fd, raw, sizeof raw, 0);
    close(fd);
    if (n != (ssize_t)sizeof raw || memcmp(raw, MAGIC, 8) != 0) return -1;
    cache_header h;
    decode_header(raw, &h);
    if (h.format != WB_NATIVE_CACHE_FORMAT || h.level < 1 || h.level > 4) return -1;
    return (int)h.level - 1;
}

/* Read exactly len bytes; 0, or -1 with errno (EIO-like short reads as ENODATA). */
static int read_exact(int fd, void *buf, size_t len) {
    uint8_t *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) {
            errno = ENODATA;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int mismatch(wb_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int mismatch(wb_error *err, const char *path, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_error_set(err, EINVAL, "native code cache %s: %s", path, msg);
}

static int check_cpu(const char *path, uint64_t file, uint64_t want, uint64_t host, wb_error *err) {
    char have[256], lacks[256], expected[256];
    if (file & ~host) {
        wb_cpu_features_name(file, have, sizeof have);
        wb_cpu_features_name(file & ~host, lacks, sizeof lacks);
        return mismatch(err, path, "built for CPU features %s, this CPU lacks %s", have, lacks);
    }
    if (file != want) {
        wb_cpu_features_name(file, have, sizeof have);
        wb_cpu_features_name(want, expected, sizeof expected);
        return mismatch(err, path, "built for CPU features %s, expected %s", have, expected);
    }
    return 0;
}

static int check_header(const char *path, const uint8_t *raw, const wb_native_key *k, uint64_t host,
                        uint64_t file_size, cache_header *h, wb_error *err) {
    if (memcmp(raw, MAGIC, 8) != 0)
        return mismatch(err, path, "not a native code cache file (bad magic)");
    decode_header(raw, h);
    if (h->format != WB_NATIVE_CACHE_FORMAT)
        return mismatch(err, path, "format version %u, expected %u", h->format,
                        WB_NATIVE_CACHE_FORMAT);
    if (h->header_size != WB_NATIVE_CACHE_HEADER_SIZE || h->reserved != 0 || h->level < 1 ||
        h->level > 4)
        return mismatch(err, path, "bad header (size %u, level field %u, reserved field %u)",
                        h->header_size, h->level, h->reserved);
    if (memcmp(h->key.module_digest, k->module_digest, 32) != 0)
        return mismatch(err, path, "built for another module (module digest mismatch)");
    if (h->key.abi_version != k->abi_version)
        return mismatch(err, path, "built for ABI version %u, expected %u", h->key.abi_version,
                        k->abi_version);
    if (h->key.options != k->options)
        return mismatch(err, path, "built with compile options 0x%x, expected 0x%x", h->key.options,
                        k->options);
    if (check_cpu(path, h->key.cpu_features, k->cpu_features, host, err) < 0) return -1;
    uint64_t have = file_size - WB_NATIVE_CACHE_HEADER_SIZE;
    if (h->payload_len > WB_NATIVE_CACHE_MAX_PAYLOAD)
        return mismatch(err, path, "payload length %llu above the limit",
                        (unsigned long long)h->payload_len);
    if (h->payload_len != have)
        return mismatch(err, path,
                        "payload length %llu, the file holds %llu bytes after the header%s",
                        (unsigned long long)h->payload_len, (unsigned long long)have,
                        have < h->payload_len ? " (truncated)" : "");
    return 0;
}

/* A regular file of this user's that no one else can write: the payload is code to run. */
static int check_owner(const char *path, const struct stat *st, wb_error *err) {
    if (!S_ISREG(st->st_mode)) return mismatch(err, path, "not a regular file");
    if (st->st_uid != geteuid() || (st->st_mode & (S_IWGRP | S_IWOTH)))
        return mismatch(err, path, "owned by uid %u with mode %03o: others could have written it",
                        (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777));
    return 0;
}

static int read_payload(int fd, const char *path, const cache_header *h, uint8_t **obj, size_t *len,
                        wb_error *err) {
    uint8_t *buf = malloc(h->payload_len ? h->payload_len : 1), digest[32];
    if (!buf) return wb_error_set(err, ENOMEM, "native code cache %s: out of memory", path);
    if (read_exact(fd, buf, h->payload_len) < 0) {
        free(buf);
        return wb_error_sys(err, "native code cache %s: read", path);
    }
    wb_sha256(buf, h->payload_len, digest);
    if (memcmp(digest, h->payload_digest, 32) != 0) {
        free(buf);
        return mismatch(err, path, "payload digest mismatch (corrupt file)");
    }
    *obj = buf;
    *len = h->payload_len;
    return 0;
}

int wb__native_cache_read_host(const char *path, const wb_native_key *k, uint64_t host_features,
                               uint8_t **obj, size_t *len, wb_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return wb_error_sys(err, "native code cache %s", path);
    struct stat st;
    uint8_t raw[WB_NATIVE_CACHE_HEADER_SIZE];
    cache_header h;
    int rc = fstat(fd, &st) == 0 ? 0 : wb_error_sys(err, "native code cache %s: stat", path);
    if (rc == 0) rc = check_owner(path, &st, err);
    if (rc == 0 && (uint64_t)st.st_size < sizeof raw)
        rc = mismatch(err, path, "truncated (%llu bytes, the header alone takes %d)",
                      (unsigned long long)st.st_size, WB_NATIVE_CACHE_HEADER_SIZE);
    if (rc == 0 && read_exact(fd, raw, sizeof raw) < 0)
        rc = wb_error_sys(err, "native code cache %s: read", path);
    if (rc == 0) rc = check_header(path, raw, k, host_features, (uint64_t)st.st_size, &h, err);
    if (rc == 0) rc = read_payload(fd, path, &h, obj, len, err);
    close(fd);
    return rc;
}

int wb_native_cache_read(const char *path, const wb_native_key *k, uint8_t **obj, size_t *len,
                         wb_error *err) {
    return wb__native_cache_read_host(path, k, wb_cpu_features(), obj, len, err);
}
