/* The registry client's pure parts (src/registry): encodings, names, challenges, the credentials
 * files and progress output. The protocol itself is tested against real peers in
 * tests/e2e/registry.sh. */
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/fsutil.h"
#include "registry/client.h"
#include "registry/registry.h"

static char *temp_dir(void) {
    static char dir[64];
    strcpy(dir, "/tmp/wb-registry-XXXXXX");
    if (!mkdtemp(dir)) wb_test_fail(__FILE__, __LINE__, "mkdtemp");
    return dir;
}

static void write_text(const char *path, const char *text) {
    wb_error err;
    if (wb_write_file_atomic(path, text, strlen(text), 0644, false, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
}

TEST(registry_base64) {
    char *e = wb_base64_encode((const uint8_t *)"alice:s3cret", 12);
    ASSERT_STR_EQ(e, "YWxpY2U6czNjcmV0");
    free(e);
    static const char *const cases[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                       "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        e = wb_base64_encode((const uint8_t *)cases[i], strlen(cases[i]));
        ASSERT_STR_EQ(e, want[i]);
        size_t n;
        uint8_t *d = wb_base64_decode(e, &n);
        ASSERT_TRUE(d != NULL);
        ASSERT_EQ(n, strlen(cases[i]));
        ASSERT_TRUE(memcmp(d, cases[i], n) == 0);
        free(d);
        free(e);
    }
    size_t n;
    ASSERT_TRUE(wb_base64_decode("not base64!", &n) == NULL);
}

TEST(registry_loopback_hosts) {
    ASSERT_TRUE(wb__reg_is_loopback("localhost"));
    ASSERT_TRUE(wb__reg_is_loopback("localhost:5000"));
    ASSERT_TRUE(wb__reg_is_loopback("127.0.0.1:5000"));
    ASSERT_TRUE(wb__reg_is_loopback("127.10.20.30"));
    ASSERT_TRUE(wb__reg_is_loopback("[::1]:5000"));
    ASSERT_TRUE(!wb__reg_is_loopback("128.0.0.1"));
    ASSERT_TRUE(!wb__reg_is_loopback("10.0.0.1:5000"));
    ASSERT_TRUE(!wb__reg_is_loopback("127.0.0.1.example.com"));
    ASSERT_TRUE(!wb__reg_is_loopback("registry.example.com"));
    ASSERT_TRUE(!wb__reg_is_loopback("127.0.0.256"));
}

TEST(registry_host_names) {
    char h[256];
    wb_registry_host("https://Registry.Example.com/v1/", h, sizeof h);
    ASSERT_STR_EQ(h, "registry.example.com");
    wb_registry_host("", h, sizeof h);
    ASSERT_STR_EQ(h, "docker.io");
    wb_registry_host(NULL, h, sizeof h);
    ASSERT_STR_EQ(h, "docker.io");
    wb_registry_host("https://index.docker.io/v1/", h, sizeof h);
    ASSERT_STR_EQ(h, "docker.io");
    wb_registry_host("http://127.0.0.1:5000", h, sizeof h);
    ASSERT_STR_EQ(h, "127.0.0.1:5000");
}

TEST(registry_url_hostport) {
    char b[300];
    wb__url_hostport("http://127.0.0.1:5000/v2/", b, sizeof b);
    ASSERT_STR_EQ(b, "127.0.0.1:5000");
    wb__url_hostport("https://registry-1.docker.io/v2/x", b, sizeof b);
    ASSERT_STR_EQ(b, "registry-1.docker.io:443");
    wb__url_hostport("http://user:pw@host/token?x=1", b, sizeof b);
    ASSERT_STR_EQ(b, "host:80");
    wb__url_hostport("http://[::1]:5000/v2/", b, sizeof b);
    ASSERT_STR_EQ(b, "[::1]:5000");
}

TEST(registry_challenge_params) {
    const char *p = "realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
                    "scope=\"repository:team/app:pull,push\"";
    char v[256];
    ASSERT_TRUE(wb__reg_challenge_param(p, "realm", v, sizeof v));
    ASSERT_STR_EQ(v, "https://auth.example.com/token");
    ASSERT_TRUE(wb__reg_challenge_param(p, "service", v, sizeof v));
    ASSERT_STR_EQ(v, "registry.example.com");
    ASSERT_TRUE(wb__reg_challenge_param(p, "scope", v, sizeof v));
    ASSERT_STR_EQ(v, "repository:team/app:pull,push");
    ASSERT_TRUE(!wb__reg_challenge_param(p, "error", v, sizeof v));
    /* tokens, escapes, case-insensitive keys, spaces */
    ASSERT_TRUE(
        wb__reg_challenge_param("Realm=plain, error=\"a \\\"b\\\"\"", "realm", v, sizeof v));
    ASSERT_STR_EQ(v, "plain");
    ASSERT_TRUE(
        wb__reg_challenge_param("Realm=plain, error=\"a \\\"b\\\"\"", "error", v, sizeof v));
    ASSERT_STR_EQ(v, "a \"b\"");
    /* a value longer than the buffer is cut, not overrun */
    char small[5];
    ASSERT_TRUE(wb__reg_challenge_param(p, "service", small, sizeof small));
    ASSERT_STR_EQ(small, "regi");
}

TEST(registry_credentials_lookup) {
    char *dir = temp_dir(), path[256], docker[256];
    snprintf(path, sizeof path, "%s/auth.json", dir);
    snprintf(docker, sizeof docker, "%s/docker", dir);
    setenv("REGISTRY_AUTH_FILE", path, 1);
    setenv("DOCKER_CONFIG", docker, 1);
    char *u, *p;
    wb_error err;
    ASSERT_EQ(wb_registry_credentials("127.0.0.1:5000", &u, &p, &err), 0);
    /* Docker's config: any spelling of the host */
    mkdir(docker, 0700);
    char cfg[300];
    snprintf(cfg, sizeof cfg, "%s/config.json", docker);
    write_text(cfg, "{\"auths\": {\"https://127.0.0.1:5000/v1/\": {\"auth\": \"Ym9iOnB3\"}}}");
    ASSERT_EQ(wb_registry_credentials("127.0.0.1:5000", &u, &p, &err), 1);
    ASSERT_STR_EQ(u, "bob");
    ASSERT_STR_EQ(p, "pw");
    free(u);
    free(p);
    /* ours first; a password may hold ':' */
    write_text(path, "{\"auths\": {\"127.0.0.1:5000\": {\"auth\": \"YWxpY2U6YTpi\"}, "
                     "\"other:1\": {\"auth\": \"eDp5\"}}}");
    ASSERT_EQ(wb_registry_credentials("127.0.0.1:5000", &u, &p, &err), 1);
    ASSERT_STR_EQ(u, "alice");
    ASSERT_STR_EQ(p, "a:b");
    free(u);
    free(p);
    /* logout forgets only that host, and the file stays 0600 */
    bool found;
    ASSERT_EQ(wb_registry_logout("127.0.0.1:5000", &found, &err), 0);
    ASSERT_TRUE(found);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_EQ(wb_registry_credentials("other:1", &u, &p, &err), 1);
    free(u);
    free(p);
    ASSERT_EQ(wb_registry_logout("127.0.0.1:5000", &found, &err), 0);
    ASSERT_TRUE(!found);
    /* a broken file is an error naming it */
    write_text(path, "{not json");
    ASSERT_EQ(wb_registry_credentials("x:1", &u, &p, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "auth.json");
    unsetenv("REGISTRY_AUTH_FILE");
    unsetenv("DOCKER_CONFIG");
}

static char *progress_output(wb_progress_mode mode) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    wb__progress *p = wb__progress_new(f, mode);
    wb__progress_line(p, "1: Pulling from team/app");
    int a = wb__progress_add(p, "sha256:0123456789abcdef0123", "Pulling fs layer");
    int b = wb__progress_add(p, "sha256:fedcba9876543210fedc", "Already exists");
    wb__progress_set(p, a, "Downloading", 0, 2000000);
    wb__progress_set(p, a, "Downloading", 1000000, 2000000);
    wb__progress_set(p, a, "Download complete", 2000000, 0);
    (void)b;
    wb__progress_line(p, "Digest: sha256:x");
    wb__progress_free(p);
    fclose(f);
    return buf;
}

TEST(registry_progress_modes) {
    char *lines = progress_output(WB_PROGRESS_LINES);
    ASSERT_STR_EQ(lines, "1: Pulling from team/app\n"
                         "0123456789ab: Pulling fs layer\n"
                         "fedcba987654: Already exists\n"
                         "0123456789ab: Downloading\n"
                         "0123456789ab: Download complete\n"
                         "Digest: sha256:x\n");
    free(lines);
    char *quiet = progress_output(WB_PROGRESS_QUIET);
    ASSERT_STR_EQ(quiet, "");
    free(quiet);
    char *tty = progress_output(WB_PROGRESS_TTY);
    /* the first row is redrawn two lines up, with a bar */
    ASSERT_STR_CONTAINS(tty, "\033[2A\r\033[2K0123456789ab: Downloading [>");
    ASSERT_STR_CONTAINS(tty, "0B/2MB");
    ASSERT_STR_CONTAINS(tty, "0123456789ab: Download complete");
    free(tty);
}

TEST(registry_human_sizes) {
    char b[32];
    wb__human_size(999, b, sizeof b);
    ASSERT_STR_EQ(b, "999B");
    wb__human_size(12345678, b, sizeof b);
    ASSERT_STR_EQ(b, "12.35MB");
    wb__human_size(1000, b, sizeof b);
    ASSERT_STR_EQ(b, "1kB");
}
