/* Compiling an image's module when the image arrives (precompile.h). */
#include "runtime/precompile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oci/image.h"
#include "wasm/native_tier.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The image's module as a descriptor, or -1 (a Linux image, or no module to be found). */
static int image_module(wb_images *s, const char *ref) {
    wb_image_record rec;
    wb_error err;
    if (wb_images_resolve(s, ref, &rec, &err) < 0) return -1;
    wb_image *img;
    int rc = wb_image_load(s, rec.manifest, &img, &err);
    wb_image_record_release(&rec);
    if (rc < 0) return -1;
    int fd = -1;
    if (img->wasm != WB_WASM_NOT) fd = wb_image_wasm_open(s, img, &err);
    wb_image_free(img);
    return fd;
}

/* The first line the compiler printed on stderr, without the program's "Error: " prefix. */
static void first_line(char *text, char *out, size_t size) {
    char *nl = strchr(text, '\n');
    if (nl) *nl = '\0';
    const char *p = text;
    if (!strncmp(p, "Error: ", 7)) p += 7;
    if (!*p) p = "the compiler failed without saying why";
    size_t n = strlen(p) < size ? strlen(p) : size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Run `PROGRAM compile -q --interruptible --cache-dir DIR /proc/self/fd/N`, counting seconds on
 * out when progress is set; 0 when it succeeded, else -1 with its message in why. */
static int run_compiler(const char *program, const char *dir, int fd, const char *label,
                        bool progress, FILE *out, char *why, size_t size) {
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) {
        snprintf(why, size, "pipe: %s", strerror(errno));
        return -1;
    }
    char file[64];
    snprintf(file, sizeof file, "/proc/self/fd/%d", fd);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, size, "fork: %s", strerror(errno));
        close(errp[0]);
        close(errp[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(errp[1], 2);
        fcntl(fd, F_SETFD, 0); /* the module, inherited */
        execl(program, program, "compile", "-q", "--interruptible", "--cache-dir", dir, file,
              (char *)NULL);
        dprintf(2, "run %s: %s\n", program, strerror(errno));
        _exit(127);
    }
    close(errp[1]);
    char msg[2048];
    size_t len = 0;
    double t0 = now();
    for (;;) {
        struct pollfd p = {.fd = errp[0], .events = POLLIN};
        int r = poll(&p, 1, progress ? 100 : -1);
        if (progress) {
            fprintf(out, "\r%s: compiling to native code %.1fs", label, now() - t0);
            fflush(out);
        }
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(errp[0], msg + len, sizeof msg - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
        if (len == sizeof msg - 1) len = sizeof msg - 2; /* the rest is dropped */
    }
    msg[len] = '\0';
    close(errp[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (progress) {
        fprintf(out, ok ? "\r%s: compiled to native code in %.1fs\n" : "\r\033[K", label,
                now() - t0);
        fflush(out);
    }
    if (ok) return 0;
    if (WIFSIGNALED(status))
        snprintf(why, size, "the compiler ended by signal %d", WTERMSIG(status));
    else
        first_line(msg, why, size);
    return -1;
}

wb_precompile_result wb_precompile_image(wb_images *s, const char *root, const char *ref,
                                         const char *label, bool progress, FILE *out) {
    const char *env = getenv(WB_PRECOMPILE_ENV);
    char program[PATH_MAX], dir[PATH_MAX];
    if ((env && !strcmp(env, "0")) || !wb_native_compiler_program(program, sizeof program) ||
        wb_path_join(dir, sizeof dir, NULL, "%s/native", root) < 0)
        return WB_PRECOMPILE_SKIPPED;
    int fd = image_module(s, ref);
    if (fd < 0) return WB_PRECOMPILE_SKIPPED;
    /* the key containers use: interruptible, this machine's features */
    char file[64], why[1024] = "";
    snprintf(file, sizeof file, "/proc/self/fd/%d", fd);
    wb_config cfg = {.interruptible = true};
    wb_module *m;
    wb_error err;
    if (wb_module_load(&cfg, file, &m, &err) < 0) { /* not a module: its run says so */
        close(fd);
        return WB_PRECOMPILE_SKIPPED;
    }
    int state = wb_native_cache_state(m, dir, why, sizeof why);
    wb_module_free(m);
    wb_precompile_result res = WB_PRECOMPILE_CACHED;
    if (state == 0)
        res = run_compiler(program, dir, fd, label, progress, out, why, sizeof why) == 0
                  ? WB_PRECOMPILE_COMPILED
                  : WB_PRECOMPILE_FAILED;
    else if (state < 0)
        res = WB_PRECOMPILE_FAILED;
    close(fd);
    if (res == WB_PRECOMPILE_FAILED)
        fprintf(stderr,
                "WARNING: %s: its module could not be compiled to native code (it runs "
                "interpreted): %s\n",
                label, why);
    return res;
}
