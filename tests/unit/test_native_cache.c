/* The native code cache's files (wasm/native_cache.h): naming, round trips, each key field's
 * mismatch message, truncated and corrupted files, a writer killed before or during its write,
 * and two writers racing for one name. Each case works in its own temporary directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "base/fsutil.h"
#include "base/sha256.h"
#include "wasm/native_cache.h"
#include "wasm/native_cpu.h"

static void make_dir(char dir[64]) {
    strcpy(dir, "/tmp/wb-native-cache-XXXXXX");
    ASSERT_TRUE(mkdtemp(dir) != NULL);
}

static void remove_dir(const char *dir) {
    wb_error err = {0};
    ASSERT_EQ(wb_remove_tree(dir, &err), 0);
}

static wb_native_key test_key(void) {
    wb_native_key k = {.abi_version = WB_NATIVE_ABI_VERSION,
                       .cpu_features = wb_cpu_features() & WB_CPU_X86_64_V2,
                       .options = 0x15};
    wb_sha256("(module)", 8, k.module_digest);
    return k;
}

static uint8_t *payload(size_t len, uint8_t seed) {
    uint8_t *p = malloc(len ? len : 1);
    ASSERT_TRUE(p != NULL);
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(i * 31 + seed);
    return p;
}

static void write_ok(const char *path, const wb_native_key *k, const uint8_t *obj, size_t len) {
    wb_error err = {0};
    if (wb_native_cache_write(path, k, obj, len, 2, &err) != 0)
        wb_test_fail(__FILE__, __LINE__, "write: %s", err.msg);
}

/* The read's error message (and code in *code), or "ok". */
static const char *read_err(const char *path, const wb_native_key *k, int *code) {
    static wb_error err;
    uint8_t *obj = NULL;
    size_t len = 0;
    memset(&err, 0, sizeof err);
    if (wb_native_cache_read(path, k, &obj, &len, &err) == 0) {
        free(obj);
        return "ok";
    }
    *code = err.code;
    return err.msg;
}

static size_t count_entries(const char *dir) {
    DIR *d = opendir(dir);
    ASSERT_TRUE(d != NULL);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

TEST(native_cache_path_names_the_key) {
    wb_native_key k = test_key(), k2;
    char a[256], b[256];
    wb_error err = {0};
    ASSERT_EQ(wb_native_cache_path("/var/cache/x", &k, a, sizeof a, &err), 0);
    ASSERT_EQ(strlen(a), strlen("/var/cache/x/") + 64 + 4);
    ASSERT_TRUE(strncmp(a, "/var/cache/x/", 13) == 0);
    ASSERT_STR_EQ(a + strlen(a) - 4, ".wbn");
    ASSERT_EQ(strspn(a + 13, "0123456789abcdef"), 64);
    ASSERT_EQ(wb_native_cache_path("/var/cache/x", &k, b, sizeof b, &err), 0);
    ASSERT_STR_EQ(a, b);
    for (int field = 0; field < 4; field++) {
        k2 = k;
        if (field == 0) k2.module_digest[31] ^= 1;
        if (field == 1) k2.abi_version++;
        if (field == 2) k2.cpu_features ^= WB_CPU_AVX2;
        if (field == 3) k2.options ^= 0x100;
        ASSERT_EQ(wb_native_cache_path("/var/cache/x", &k2, b, sizeof b, &err), 0);
        if (strcmp(a, b) == 0) wb_test_fail(__FILE__, __LINE__, "field %d not in the name", field);
    }
    ASSERT_EQ(wb_native_cache_path("/var/cache/x", &k, a, 40, &err), -1);
    ASSERT_EQ(err.code, ENAMETOOLONG);
}

TEST(native_cache_round_trip) {
    char dir[64], sub[128], path[256];
    make_dir(dir);
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* created by the write, 0700 */
    wb_native_key k = test_key();
    wb_error err = {0};
    ASSERT_EQ(wb_native_cache_path(sub, &k, path, sizeof path, &err), 0);
    int code = 0;
    ASSERT_STR_CONTAINS(read_err(path, &k, &code), "No such file");
    ASSERT_EQ(code, ENOENT);
    for (size_t len = 0; len < 300000; len = len * 7 + 1) {
        uint8_t *obj = payload(len, (uint8_t)len), *back = NULL;
        size_t back_len = 1;
        write_ok(path, &k, obj, len);
        ASSERT_EQ(wb_native_cache_read(path, &k, &back, &back_len, &err), 0);
        ASSERT_EQ(back_len, len);
        ASSERT_TRUE(memcmp(back, obj, len) == 0);
        free(back);
        free(obj);
    }
    struct stat st;
    ASSERT_EQ(stat(sub, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0700);
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(count_entries(sub), 1); /* no temporary file left */
    remove_dir(dir);
}

/* The level a file was compiled at is in its header (outside the key: the quick tier's file is
 * replaced by the default level's under the same name) and reads back; none for no file. */
TEST(native_cache_records_the_level) {
    char dir[64], path[256];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/l.wbn", dir);
    wb_native_key k = test_key();
    uint8_t *obj = payload(1000, 3), *back = NULL;
    size_t len = 0;
    wb_error err = {0};
    ASSERT_EQ(wb_native_cache_opt_level(path), -1);
    for (int level = 0; level <= 3; level++) {
        ASSERT_EQ(wb_native_cache_write(path, &k, obj, 1000, level, &err), 0);
        ASSERT_EQ(wb_native_cache_opt_level(path), level);
        ASSERT_EQ(wb_native_cache_read(path, &k, &back, &len, &err), 0);
        free(back);
    }
    free(obj);
    remove_dir(dir);
}

TEST(native_cache_key_mismatches) {
    char dir[64], path[256];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/m.wbn", dir);
    wb_native_key k = test_key(), other;
    uint8_t *obj = payload(1000, 1);
    write_ok(path, &k, obj, 1000);
    int code = 0;
    ASSERT_STR_EQ(read_err(path, &k, &code), "ok");
#define MISMATCH(edit, want)                                                                       \
    do {                                                                                           \
        other = k;                                                                                 \
        edit;                                                                                      \
        code = 0;                                                                                  \
        ASSERT_STR_CONTAINS(read_err(path, &other, &code), want);                                  \
        ASSERT_EQ(code, EINVAL);                                                                   \
    } while (0)
    char prefix[320];
    snprintf(prefix, sizeof prefix, "native code cache %s: ", path);
    MISMATCH(other.module_digest[0] ^= 0x80, prefix);
    MISMATCH(other.module_digest[0] ^= 0x80, "built for another module (module digest mismatch)");
    char abi_want[64];
    snprintf(abi_want, sizeof abi_want, "built for ABI version %d, expected 7",
             WB_NATIVE_ABI_VERSION);
    MISMATCH(other.abi_version = 7, abi_want);
    MISMATCH(other.options = 0x14, "built with compile options 0x15, expected 0x14");
    MISMATCH(other.cpu_features &= ~WB_CPU_POPCNT,
             "built for CPU features sse3 ssse3 sse4.1 sse4.2 popcnt cx16, expected sse3 ssse3 "
             "sse4.1 sse4.2 cx16");
#undef MISMATCH
    /* a file built for features this CPU lacks: a bit no CPU has, then (as if on an older CPU)
     * avx2 */
    other = k;
    other.cpu_features |= 1ull << 63;
    write_ok(path, &other, obj, 1000);
    ASSERT_STR_CONTAINS(read_err(path, &other, &code), "this CPU lacks bit63");
    other.cpu_features = WB_CPU_AVX2 | WB_CPU_BMI2;
    write_ok(path, &other, obj, 1000);
    wb_error err = {0};
    uint8_t *back = NULL;
    size_t len;
    ASSERT_EQ(
        wb__native_cache_read_host(path, &other, WB_CPU_ALL & ~WB_CPU_AVX2, &back, &len, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    char want[512];
    snprintf(want, sizeof want,
             "native code cache %s: built for CPU features bmi2 avx2, this CPU lacks avx2", path);
    ASSERT_STR_EQ(err.msg, want);
    ASSERT_EQ(wb__native_cache_read_host(path, &other, WB_CPU_ALL, &back, &len, &err), 0);
    free(back);
    free(obj);
    remove_dir(dir);
}

/* XOR byte `at` of the file with mask (a byte past the end counts as 0: it is appended), or
 * truncate the file to `at` bytes when mask < 0. */
static void edit_file(const char *path, long at, int mask) {
    FILE *f = fopen(path, "r+b");
    ASSERT_TRUE(f != NULL);
    if (mask < 0) {
        ASSERT_EQ(ftruncate(fileno(f), at), 0);
    } else {
        ASSERT_EQ(fseek(f, at, SEEK_SET), 0);
        int c = fgetc(f);
        ASSERT_EQ(fseek(f, at, SEEK_SET), 0);
        ASSERT_TRUE(fputc((c == EOF ? 0 : c) ^ mask, f) != EOF);
    }
    ASSERT_EQ(fclose(f), 0);
}

TEST(native_cache_corrupt_files) {
    char dir[64], path[256];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/c.wbn", dir);
    wb_native_key k = test_key();
    uint8_t *obj = payload(5000, 9);
    int code = 0;
    const long h = WB_NATIVE_CACHE_HEADER_SIZE;
    struct {
        long at;
        int mask;
        const char *want;
    } cases[] = {
        {h + 4321, 0x5a, "payload digest mismatch (corrupt file)"},
        {h, 0x01, "payload digest mismatch (corrupt file)"},
        {80, 0x10, "payload digest mismatch (corrupt file)"}, /* in the recorded digest */
        {0, 0x20, "not a native code cache file (bad magic)"},
        {8, 0x03, "format version 1, expected 2"},
        {104, 0x08, "bad header (size 112, level field 11"},
        {12, 0x14, "bad header (size 100"},
        {110, 0x01, "bad header"},
        {64, 0x01, "payload length 5001, the file holds 5000 bytes after the header (truncated)"},
        {h + 5000, 'x', "payload length 5000, the file holds 5001 bytes after the header"},
        {71, 0x7f, "payload length 9151314442816852872 above the limit"},
        {h + 4999, -1, "the file holds 4999 bytes after the header (truncated)"},
        {h, -1, "the file holds 0 bytes after the header (truncated)"},
        {50, -1, "truncated (50 bytes, the header alone takes 112)"},
        {0, -1, "truncated (0 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_ok(path, &k, obj, 5000);
        edit_file(path, cases[i].at, cases[i].mask);
        code = 0;
        const char *msg = read_err(path, &k, &code);
        if (!strstr(msg, cases[i].want))
            wb_test_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, msg,
                         cases[i].want);
        ASSERT_EQ(code, EINVAL);
    }
    /* code others could have written is refused */
    write_ok(path, &k, obj, 5000);
    ASSERT_EQ(chmod(path, 0620), 0);
    ASSERT_STR_CONTAINS(read_err(path, &k, &code), "others could have written it");
    ASSERT_EQ(chmod(path, 0600), 0);
    ASSERT_STR_EQ(read_err(path, &k, &code), "ok");
    free(obj);
    remove_dir(dir);
}

static void kill_self(void *arg) {
    raise(SIGKILL);
}

/* Write in a child that is killed with SIGKILL (by the hook, or from outside after delay_us). */
static void killed_writer(const char *path, size_t len, long delay_us) {
    wb_native_key k = test_key();
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        uint8_t *obj = payload(len, 3);
        wb_error err = {0};
        for (;;)
            wb__native_cache_write_hooked(path, &k, obj, len, 2, delay_us ? NULL : kill_self, NULL,
                                          &err);
    }
    if (delay_us) {
        struct timespec ts = {0, delay_us * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(native_cache_killed_writer_leaves_no_file) {
    char dir[64], path[256];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/k.wbn", dir);
    wb_native_key k = test_key();
    int code = 0;
    /* killed after writing everything, before the rename */
    killed_writer(path, 1 << 20, 0);
    ASSERT_STR_CONTAINS(read_err(path, &k, &code), "No such file");
    ASSERT_EQ(count_entries(dir), 1); /* its temporary file */
    /* killed at various points of writing 8 MiB again and again: whatever is under the name is
     * whole */
    for (long delay = 1000; delay < 200000; delay *= 2) {
        killed_writer(path, 8 << 20, delay);
        const char *msg = read_err(path, &k, &code);
        if (strcmp(msg, "ok") != 0 && !strstr(msg, "No such file"))
            wb_test_fail(__FILE__, __LINE__, "after a kill at %ld us: %s", delay, msg);
    }
    remove_dir(dir);
}

TEST(native_cache_removes_stale_temporaries) {
    char dir[64], path[256], stale[300], fresh[300], other[300];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/s.wbn", dir);
    snprintf(stale, sizeof stale, "%s/old.wbn.tmp.1.0", dir);
    snprintf(fresh, sizeof fresh, "%s/new.wbn.tmp.2.0", dir);
    snprintf(other, sizeof other, "%s/unrelated.tmp.3.0", dir);
    const char *files[] = {stale, fresh, other};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(files[i], "w");
        ASSERT_TRUE(f != NULL);
        fclose(f);
    }
    struct timespec two_hours_ago[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, stale, two_hours_ago, 0), 0);
    ASSERT_EQ(utimensat(AT_FDCWD, other, two_hours_ago, 0), 0);
    wb_native_key k = test_key();
    uint8_t *obj = payload(100, 4);
    write_ok(path, &k, obj, 100);
    ASSERT_EQ(access(stale, F_OK), -1);
    ASSERT_EQ(access(fresh, F_OK), 0);
    ASSERT_EQ(access(other, F_OK), 0); /* not one of ours */
    int code = 0;
    ASSERT_STR_EQ(read_err(path, &k, &code), "ok");
    free(obj);
    remove_dir(dir);
}

TEST(native_cache_racing_writers) {
    char dir[64], path[256];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/r.wbn", dir);
    wb_native_key k = test_key();
    const size_t len = 256 << 10;
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        pids[w] = fork();
        ASSERT_TRUE(pids[w] >= 0);
        if (pids[w] == 0) {
            uint8_t *obj = payload(len, (uint8_t)(w + 1));
            wb_error err = {0};
            for (int i = 0; i < 25; i++)
                if (wb_native_cache_write(path, &k, obj, len, 2, &err) != 0) {
                    fprintf(stderr, "    writer %d: %s\n", w, err.msg);
                    _exit(1);
                }
            _exit(0);
        }
    }
    for (int w = 0; w < 2; w++) {
        int status;
        ASSERT_EQ(waitpid(pids[w], &status, 0), pids[w]);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    uint8_t *back = NULL, *one = payload(len, 1), *two = payload(len, 2);
    size_t back_len;
    wb_error err = {0};
    ASSERT_EQ(wb_native_cache_read(path, &k, &back, &back_len, &err), 0);
    ASSERT_EQ(back_len, len);
    ASSERT_TRUE(memcmp(back, one, len) == 0 || memcmp(back, two, len) == 0);
    ASSERT_EQ(count_entries(dir), 1);
    free(back);
    free(one);
    free(two);
    remove_dir(dir);
}
