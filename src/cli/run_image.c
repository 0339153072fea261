/* `wasmbox run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container from an image and run its
 * Wasm module in the foreground, with Docker's flags and exit codes (125 engine errors, 126 when
 * the entrypoint cannot be run, 127 when it does not exist, else the module's own code). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/run_opts.h"
#include "oci/image.h"
#include "oci/reference.h"
#include "oci/store.h"
#include "runtime/container.h"
#include "runtime/wasm_handler.h"

#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

int wb_run_image(wb_run_opts *o);

typedef struct strvec {
    char **v;
    size_t n;
} strvec;

static void sv_add(strvec *s, const char *x) {
    s->v = wb_reallocarray(s->v, s->n + 2, sizeof *s->v);
    s->v[s->n++] = wb_strdup(x);
    s->v[s->n] = NULL;
}

static void sv_free(strvec *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Set NAME=VALUE in env, replacing an earlier NAME. */
static void env_set(strvec *env, const char *kv) {
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < env->n; i++)
        if (!strncmp(env->v[i], kv, klen) && env->v[i][klen] == '=') {
            free(env->v[i]);
            env->v[i] = wb_strdup(kv);
            return;
        }
    sv_add(env, kv);
}

static bool same_arch(const char *a, const char *b) {
    bool wa = !strcmp(a, "wasm") || !strcmp(a, "wasm32");
    bool wb = !strcmp(b, "wasm") || !strcmp(b, "wasm32");
    return wa && wb ? true : !strcmp(a, b);
}

/* Open the entrypoint inside the rootfs, as if the rootfs were "/" (symlinks cannot leave it). */
static int open_in_rootfs(const char *rootfs, const char *workdir, const char *entry) {
    int dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -1;
    char path[8192];
    if (entry[0] == '/') snprintf(path, sizeof path, "%s", entry);
    else snprintf(path, sizeof path, "%s/%s", workdir ? workdir : "/", entry);
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof how);
    close(dfd);
    return fd;
}

static int parse_mount(const char *spec, wb_mount *m) {
    /* HOST:GUEST[:ro|:rw] */
    char *copy = wb_strdup(spec);
    char *first = strchr(copy, ':');
    if (!first || first == copy) {
        wb_cli_error("invalid volume specification: '%s' (expected HOST:GUEST[:ro])", spec);
        free(copy);
        return -1;
    }
    *first = '\0';
    char *guest = first + 1;
    char *mode = strchr(guest, ':');
    bool ro = false;
    if (mode) {
        *mode++ = '\0';
        if (!strcmp(mode, "ro")) ro = true;
        else if (strcmp(mode, "rw") != 0) {
            wb_cli_error("invalid mode: %s", mode);
            free(copy);
            return -1;
        }
    }
    if (copy[0] != '/') {
        wb_cli_error("invalid volume specification: '%s': named volumes are not supported; "
                     "give an absolute host path",
                     spec);
        free(copy);
        return -1;
    }
    if (guest[0] != '/') {
        wb_cli_error("invalid volume specification: '%s': the container path must be absolute", spec);
        free(copy);
        return -1;
    }
    struct stat st;
    if (stat(copy, &st) != 0 || !S_ISDIR(st.st_mode)) {
        wb_cli_error("invalid volume specification: '%s': %s is not a directory "
                     "(Wasm modules see directories only)",
                     spec, copy);
        free(copy);
        return -1;
    }
    m->host = wb_strdup(copy);
    m->guest = wb_strdup(guest);
    m->read_only = ro;
    free(copy);
    return 0;
}

static int platform_check(const char *ref, const wb_image *img, const char *platform) {
    char want_os[64] = "", want_arch[64] = "";
    const char *slash = strchr(platform, '/');
    if (!slash) {
        wb_cli_error("invalid platform \"%s\": expected OS/ARCH such as wasi/wasm", platform);
        return -1;
    }
    snprintf(want_os, sizeof want_os, "%.*s", (int)(slash - platform), platform);
    snprintf(want_arch, sizeof want_arch, "%s", slash + 1);
    char *v = strchr(want_arch, '/');
    if (v) *v = '\0'; /* a variant is not compared */
    bool artifact = img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI;
    bool ok = artifact ? !strcmp(want_os, "wasi") && same_arch(want_arch, "wasm")
                       : !strcmp(want_os, img->os) && same_arch(want_arch, img->arch);
    if (!ok) {
        wb_cli_error("image with reference %s was found but does not match the specified "
                     "platform: wanted %s/%s, actual: %s/%s",
                     ref, want_os, want_arch, artifact ? "wasi" : img->os,
                     artifact ? "wasm" : img->arch);
        return -1;
    }
    return 0;
}

int wb_run_image(wb_run_opts *o) {
    const char *ref = o->path;
    wb_runtime_kind kind = WB_RUNTIME_WASMEDGE;
    const char *runtime = "io.containerd.wasmedge.v1";
    wb_error err;
    wb_images *store = NULL;
    wb_image *img = NULL;
    wb_image_record rec = {0};
    wb_container *c = NULL;
    strvec argv = {0}, env = {0}, entrypoint = {0}, cmd = {0};
    wb_mount *mounts = NULL;
    char *rootfs = NULL, *croot = NULL;
    int rc = WB_EXIT_ENGINE;

    if (o->file_only_flag) {
        wb_cli_error("%s applies to a module file, but `%s` is not one (it was taken as an image)",
                     o->file_only_flag, ref);
        return WB_EXIT_ENGINE;
    }
    if (o->runtime && wb_runtime_lookup(o->runtime, &kind, &runtime, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return WB_EXIT_ENGINE;
    }
    if (o->detach) {
        wb_cli_error("detached containers (-d) are not available yet: run in the foreground");
        return WB_EXIT_ENGINE;
    }
    if (o->network && strcmp(o->network, "host") != 0 && strcmp(o->network, "none") != 0) {
        wb_cli_error("network %s not found (available: host, none)", o->network);
        return WB_EXIT_ENGINE;
    }
    for (int i = 0; i < o->nvolumes; i++) {
        mounts = wb_reallocarray(mounts, (size_t)i + 1, sizeof *mounts);
        if (parse_mount(o->volumes[i], &mounts[i]) < 0) {
            for (int k = 0; k < i; k++) {
                free(mounts[k].host);
                free(mounts[k].guest);
            }
            free(mounts);
            return WB_EXIT_ENGINE;
        }
    }

    if (wb_images_open(wb_cli_root(), &store, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    if (wb_images_resolve(store, ref, &rec, &err) < 0) {
        if (err.code == ENOENT) {
            wb_ref r;
            char full[WB_REF_MAX + 80], fam[WB_REF_MAX + 80];
            if (wb_ref_parse(ref, &r, NULL) == 0) {
                wb_ref_full(&r, full, sizeof full);
                wb_ref_familiar(full, fam, sizeof fam);
            } else {
                snprintf(fam, sizeof fam, "%s", ref);
            }
            fprintf(stderr, "Unable to find image '%s' locally\n", fam);
            wb_cli_error("pulling images from a registry is not available yet: build, load or "
                         "import %s first",
                         fam);
        } else {
            wb_cli_error("%s", err.msg);
        }
        goto out;
    }
    if (wb_image_load(store, rec.manifest, &img, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    if (o->platform && platform_check(ref, img, o->platform) < 0) goto out;

    /* the command: Docker's rules for ENTRYPOINT, CMD, --entrypoint and arguments */
    if (o->entrypoint_set) {
        if (o->entrypoint[0]) sv_add(&entrypoint, o->entrypoint);
    } else {
        for (size_t i = 0; i < img->nentrypoint; i++) sv_add(&entrypoint, img->entrypoint[i]);
    }
    if (o->nargs > 0) {
        for (int i = 0; i < o->nargs; i++) sv_add(&cmd, o->args[i]);
    } else if (!o->entrypoint_set) {
        for (size_t i = 0; i < img->ncmd; i++) sv_add(&cmd, img->cmd[i]);
    }
    bool artifact = img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI;
    /* an artifact's module is its layer: with no ENTRYPOINT, the arguments follow its name */
    if (artifact && entrypoint.n == 0) sv_add(&argv, ref);
    for (size_t i = 0; i < entrypoint.n; i++) sv_add(&argv, entrypoint.v[i]);
    for (size_t i = 0; i < cmd.n; i++) sv_add(&argv, cmd.v[i]);
    for (size_t i = 0; i < img->nenv; i++) env_set(&env, img->env[i]);
    for (int i = 0; i < o->nenv; i++) env_set(&env, o->env[i]);
    const char *workdir = o->workdir ? o->workdir : img->workdir;

    /* where the module is */
    char module[256];
    int module_fd = -1;
    if (artifact) {
        char *path;
        if (wb_image_wasm_entry(store, img, &path, &err) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        module_fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
    } else {
        if (argv.n == 0) {
            wb_cli_error("no command specified");
            goto out;
        }
        if (wb_image_rootfs(store, img, &rootfs, &err) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        module_fd = open_in_rootfs(rootfs, workdir, argv.v[0]);
        if (module_fd < 0) {
            fprintf(stderr, "Error: exec: \"%s\": stat %s: no such file or directory\n", argv.v[0],
                    argv.v[0]);
            rc = EXIT_NOT_FOUND;
            goto out;
        }
        char magic[4];
        if (pread(module_fd, magic, 4, 0) != 4 || memcmp(magic, "\0asm", 4) != 0) {
            fprintf(stderr, "Error: exec %s: exec format error (%s is not a WebAssembly module)\n",
                    argv.v[0], argv.v[0]);
            rc = EXIT_CANNOT_INVOKE;
            goto out;
        }
    }
    if (module_fd < 0) {
        wb_cli_error("open the module of %s: %s", ref, strerror(errno));
        goto out;
    }
    snprintf(module, sizeof module, "/proc/self/fd/%d", module_fd);

    char platform[80];
    snprintf(platform, sizeof platform, "%s", artifact ? "wasi" : img->os);
    wb_container_spec spec = {
        .name = o->name, .image_ref = ref, .image_id = rec.config, .image_manifest = rec.manifest,
        .entrypoint = entrypoint.v, .nentrypoint = entrypoint.n, .cmd = cmd.v, .ncmd = cmd.n,
        .env = env.v, .nenv = env.n, .mounts = mounts, .nmounts = (size_t)o->nvolumes,
        .workdir = workdir, .user = img->user, .runtime = runtime, .platform = platform,
        .auto_remove = o->rm, .labels = o->labels, .nlabels = (size_t)o->nlabels,
        .tty = o->tty, .interactive = o->interactive,
    };
    if (wb_container_create(wb_cli_root(), &spec, &c, &err) < 0) {
        wb_cli_error("%s", err.msg);
        close(module_fd);
        goto out;
    }
    if (wb_wasm_prepare_rootfs(c, artifact ? NULL : rootfs, &croot, &err) < 0 ||
        wb_container_mark_running(c, (int)getpid(), &err) < 0) {
        wb_cli_error("%s", err.msg);
        close(module_fd);
        goto remove;
    }
    wb_wasm_job job = {
        .module = module, .rootfs = croot, .argv = argv.v, .argc = argv.n, .env = env.v,
        .nenv = env.n, .mounts = mounts, .nmounts = (size_t)o->nvolumes, .workdir = workdir,
        .runtime = kind, .network = o->network && !strcmp(o->network, "host"),
    };
    int exit_code = 0;
    int run_rc = wb_wasm_run(&job, &exit_code, &err);
    close(module_fd);
    if (run_rc < 0) {
        bool format = err.code == WB_EMALFORMED || err.code == WB_EINVALID || err.code == ENOEXEC;
        fprintf(stderr, "Error: %s\n", err.msg);
        exit_code = format ? EXIT_CANNOT_INVOKE : WB_EXIT_ENGINE;
    }
    wb_container_mark_exited(c, exit_code, run_rc < 0 ? err.msg : NULL, NULL);
    rc = exit_code;
remove:
    if (o->rm && c) {
        /* the overlay vanishes with this process's mount namespace; unmount it first anyway */
        if (croot) umount2(croot, MNT_DETACH);
        wb_container_remove(c, NULL);
    }
out:
    wb_container_free(c);
    free(croot);
    free(rootfs);
    for (int i = 0; mounts && i < o->nvolumes; i++) {
        free(mounts[i].host);
        free(mounts[i].guest);
    }
    free(mounts);
    sv_free(&argv);
    sv_free(&env);
    sv_free(&entrypoint);
    sv_free(&cmd);
    wb_image_free(img);
    wb_image_record_release(&rec);
    wb_images_close(store);
    return rc;
}
