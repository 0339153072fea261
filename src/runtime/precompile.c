/* Compiling an image's module when the image arrives (precompile.h). */
#include "runtime/precompile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oci/image.h"
#include "wasm/native_tier.h"

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

typedef struct progress_line {
    FILE *out;
    const char *label;
    bool quick;
} progress_line;

static void tick(void *ctx, double secs) {
    progress_line *p = ctx;
    fprintf(p->out, "\r%s: compiling to native code%s %.1fs", p->label,
            p->quick ? " (quick tier)" : "", secs);
    fflush(p->out);
}

wb_precompile_result wb_precompile_image(wb_images *s, const char *root, const char *ref,
                                         const char *label, bool progress, FILE *out) {
    const char *env = getenv(WB_PRECOMPILE_ENV);
    char program[PATH_MAX], dir[PATH_MAX];
    if ((env && !strcmp(env, "0")) || !wb_native_compiler_program(program, sizeof program) ||
        wb_native_cache_dir(root, dir, sizeof dir, NULL) < 0)
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
    close(fd);
    int state = wb_native_cache_state(m, dir, why, sizeof why);
    wb_precompile_result res = WB_PRECOMPILE_CACHED;
    if (state < 0) {
        res = WB_PRECOMPILE_FAILED;
    } else if (state == 0) {
        /* a large module: the quick tier now, the default level in the background */
        bool quick = wb_native_code_bytes(m) >= (uint64_t)wb_native_quick_tier_bytes();
        progress_line line = {out, label, quick};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = wb_native_compile_child(m, dir, program, quick ? 0 : -1, progress ? tick : NULL,
                                         &line, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        res = rc == 0 ? WB_PRECOMPILE_COMPILED : WB_PRECOMPILE_FAILED;
        if (rc < 0) snprintf(why, sizeof why, "%s", err.msg);
        if (rc == 0 && quick) wb_native_compile_background(m, dir, program);
        if (progress && rc == 0)
            fprintf(out, "\r%s: compiled to native code in %.1fs%s\n", label,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                    quick ? " (quick tier; optimising in the background)" : "");
        else if (progress)
            fputs("\r\033[K", out);
        fflush(out);
    }
    wb_module_free(m);
    if (res == WB_PRECOMPILE_FAILED)
        fprintf(stderr,
                "WARNING: %s: its module could not be compiled to native code (it runs "
                "interpreted): %s\n",
                label, why);
    return res;
}
