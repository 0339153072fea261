/* `wasmbox compile [OPTIONS] FILE.wasm...`: ahead-of-time compilation into the native-code cache
 * under the store root (docs/native.md), which `run` (and every container) uses from then on. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "oci/reference.h"
#include "runtime/precompile.h"
#include "wasm/native_cpu.h"
#include "wasm/native_tier.h"

static const wb_cli_flag compile_flags[] = {
    {'O', "opt-level", "int", "Optimisation level 0-3 (default 2)", false},
    {0, "target", "string", "CPU features: \"host\" (default) or \"x86-64-v2\" (portable)", false},
    {0, "cache-dir", "string", "Native-code cache (default ROOT/native)", false},
    {0, "bounds-checks", NULL, "For explicitly bounds-checked memories", false},
    {0, "interruptible", NULL,
     "With fuel and interrupt checks (as containers and --fuel/--timeout run modules; default "
     "both variants)",
     false},
    {'q', "quiet", NULL, "Print nothing but errors", false},
    {0},
};

static const wb_cli_command compile_cmd = {
    "compile", "[OPTIONS] FILE.wasm [FILE.wasm...]",
    "Compile WebAssembly modules to native code (into the cache run uses)", compile_flags, false};

static int compile_one(const char *file, const wb_config *cfg, const char *dir, int level,
                       uint64_t features, bool quiet) {
    wb_error err;
    wb_module *m;
    if (wb_module_load(cfg, file, &m, &err) < 0) {
        if (err.code == WB_EMALFORMED || err.code == WB_EINVALID)
            wb_cli_error("`%s` is not a valid WebAssembly module: %s", file, err.msg);
        else
            wb_cli_error("%s", err.msg);
        return -1;
    }
    char path[PATH_MAX];
    double t0 = wb_mono_seconds();
    int rc = wb_native_compile_to_cache(m, dir, level, features, path, sizeof path, &err);
    double secs = wb_mono_seconds() - t0;
    if (rc < 0) {
        wb_cli_error("compile %s: %s", file, err.msg);
    } else if (!quiet) {
        struct stat st;
        long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
        if (rc == 1)
            printf("%s: cached already (%s)\n", file, path);
        else
            printf("%s: %.2f s, %lld KiB of native code%s -> %s\n", file, secs,
                   (size + 1023) / 1024, cfg->interruptible ? " (interruptible)" : "", path);
    }
    wb_module_free(m);
    return rc < 0 ? -1 : 0;
}

int wb_cmd_compile(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&compile_cmd, argc, argv, &a, &rc) < 0) return rc;
    rc = WB_EXIT_ENGINE;
    int level = -1;
    uint64_t features = 0;
    const char *lv = wb_cli_flag_value(&a, "opt-level");
    const char *target = wb_cli_flag_value(&a, "target");
    char dir[PATH_MAX];
    wb_error err;
    if (lv) {
        char *end;
        long l = strtol(lv, &end, 10);
        if (*end || l < 0 || l > 3) {
            wb_cli_error("invalid argument \"%s\" for \"-O, --opt-level\": 0 to 3", lv);
            goto out;
        }
        level = (int)l;
    }
    if (target && !strcmp(target, "x86-64-v2")) {
        features = WB_CPU_X86_64_V2;
    } else if (target && strcmp(target, "host") != 0) {
        wb_cli_error("invalid argument \"%s\" for \"--target\": host or x86-64-v2", target);
        goto out;
    }
    if (a.npos == 0) {
        wb_cli_error("\"compile\" requires at least 1 argument");
        goto out;
    }
    const char *cd = wb_cli_flag_value(&a, "cache-dir");
    if (cd ? wb_path_join(dir, sizeof dir, &err, "%s", cd) < 0
           : wb_native_cache_dir(wb_cli_root(), dir, sizeof dir, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    bool quiet = wb_cli_flag_set(&a, "quiet");
    bool bc = wb_cli_flag_set(&a, "bounds-checks");
    bool only_interruptible = wb_cli_flag_set(&a, "interruptible");
    rc = 0;
    for (int i = 0; i < a.npos; i++) {
        /* containers run modules interruptible; module files run plain unless --fuel/--timeout */
        wb_config cfg = {.bounds_checks = bc, .interruptible = true};
        if (compile_one(a.pos[i], &cfg, dir, level, features, quiet) < 0) {
            rc = WB_EXIT_ENGINE;
            continue;
        }
        if (only_interruptible) continue;
        cfg.interruptible = false;
        if (compile_one(a.pos[i], &cfg, dir, level, features, quiet) < 0) rc = WB_EXIT_ENGINE;
    }
out:
    wb_cli_args_release(&a);
    return rc;
}

void wb_cli_precompile(struct wb_images *s, const char *ref, bool quiet) {
    char label[WB_REF_MAX + 160];
    if (!strncmp(ref, "sha256:", 7))
        snprintf(label, sizeof label, "%.12s", ref + 7);
    else
        wb_ref_familiar(ref, label, sizeof label);
    wb_precompile_image(s, wb_cli_root(), ref, label, !quiet && isatty(STDERR_FILENO), stderr);
}
