/* `wasmbox run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container from an image and run its
 * Wasm module in the foreground, with Docker's flags and exit codes (125 engine errors, 126 when
 * the entrypoint cannot be run, 127 when it does not exist, else the module's own code). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include "oci/layers.h"
#include "oci/platform.h"
#include "oci/reference.h"
#include "oci/store.h"
#include "runtime/network.h"
#include "registry/registry.h"
#include "runtime/container.h"
#include "runtime/launch.h"
#include "runtime/linux_handler.h"
#include "runtime/linux_security.h"
#include "runtime/volume.h"
#include "runtime/wasm_handler.h"

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

/* The volumes of the -v list, made or found: each gets its directory as host ("" names an
 * anonymous one, which gets its generated name). */
static int make_volumes(wb_mount *mounts, int n) {
    for (int i = 0; i < n; i++) {
        wb_mount *m = &mounts[i];
        if (!m->volume) continue;
        json_t *v;
        wb_error err;
        char *anon[1] = {WB_VOLUME_ANONYMOUS_LABEL "="};
        bool anonymous = !m->volume[0];
        if (wb_volume_create(wb_cli_root(), anonymous ? NULL : m->volume, anonymous ? anon : NULL,
                             anonymous ? 1 : 0, &v, &err) < 0) {
            wb_cli_error("%s", err.msg);
            return -1;
        }
        free(m->host);
        free(m->volume);
        m->host = wb_strdup(json_string_value(json_object_get(v, "Mountpoint")));
        m->volume = wb_strdup(json_string_value(json_object_get(v, "Name")));
        json_decref(v);
    }
    return 0;
}

/* -v HOST:GUEST[:ro|:rw] (a bind mount), NAME:GUEST[:ro|:rw] (a named volume, made when
 * missing) or GUEST alone (an anonymous volume). */
static int parse_mount(const char *spec, wb_mount *m) {
    char *copy = wb_strdup(spec);
    char *first = strchr(copy, ':');
    const char *src = NULL;
    char *guest = copy;
    if (first) {
        if (first == copy) {
            wb_cli_error("invalid volume specification: '%s' (expected HOST:GUEST[:ro])", spec);
            free(copy);
            return -1;
        }
        *first = '\0';
        src = copy;
        guest = first + 1;
    }
    char *mode = strchr(guest, ':');
    bool ro = false;
    if (mode) {
        *mode++ = '\0';
        if (!strcmp(mode, "ro"))
            ro = true;
        else if (strcmp(mode, "rw") != 0) {
            wb_cli_error("invalid mode: %s", mode);
            free(copy);
            return -1;
        }
    }
    if (guest[0] != '/') {
        wb_cli_error("invalid volume specification: '%s': the container path must be absolute",
                     spec);
        free(copy);
        return -1;
    }
    memset(m, 0, sizeof *m);
    if (!src || src[0] != '/') { /* a volume: named, or anonymous */
        if (src && !wb_volume_name_valid(src)) {
            wb_cli_error("invalid volume specification: '%s': \"%s\" includes invalid characters "
                         "for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed "
                         "(a bind mount needs an absolute host path)",
                         spec, src);
            free(copy);
            return -1;
        }
        /* made later (make_volumes), once this process is the one that runs the container: the
         * static core may still hand the command over, and must write nothing before */
        m->volume = wb_strdup(src ? src : "");
    } else {
        struct stat st;
        if (stat(src, &st) != 0) {
            wb_cli_error("invalid volume specification: '%s': bind source path does not exist: "
                         "%s",
                         spec, src);
            free(copy);
            return -1;
        }
        m->host = wb_strdup(src);
    }
    m->guest = wb_strdup(guest);
    m->read_only = ro;
    free(copy);
    return 0;
}

static int platform_check(const char *ref, const wb_image *img, const char *platform) {
    char want_os[32], want_arch[32], want_variant[32];
    wb_error err;
    if (wb_platform_parse(platform, want_os, want_arch, want_variant, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    bool artifact = wb_image_is_wasm_artifact(img->wasm);
    const char *os = artifact ? "wasi" : img->os, *arch = artifact ? "wasm" : img->arch;
    if (!wb_platform_matches(want_os, want_arch, os, arch)) {
        wb_cli_error("image with reference %s was found but does not match the specified "
                     "platform: wanted %s/%s, actual: %s/%s",
                     ref, want_os, want_arch, os, arch);
        return -1;
    }
    return 0;
}

/* --restart no|on-failure[:N]|always|unless-stopped */
static int parse_restart(const char *v, char *name, size_t size, int *max) {
    char *colon = strchr(v, ':');
    snprintf(name, size, "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
    *max = 0;
    if (strcmp(name, "no") != 0 && strcmp(name, "on-failure") != 0 && strcmp(name, "always") != 0 &&
        strcmp(name, "unless-stopped") != 0) {
        wb_cli_error("invalid restart policy %s", v);
        return -1;
    }
    if (colon) {
        char *end;
        long n = strtol(colon + 1, &end, 10);
        if (strcmp(name, "on-failure") != 0) {
            wb_cli_error("maximum retry count cannot be used with restart policy '%s'", name);
            return -1;
        }
        if (*end || end == colon + 1 || n < 0) {
            wb_cli_error("invalid restart policy %s: maximum retry count must be an integer", v);
            return -1;
        }
        *max = (int)n;
    }
    return 0;
}

int wb_cmd_create(int argc, char **argv) {
    wb_run_opts o;
    int rc = wb_run_opts_parse(&o, argc, argv);
    if (rc == 1) {
        wb_cli_run_usage(stdout, true);
        wb_run_opts_release(&o);
        return 0;
    }
    if (rc < 0) {
        wb_run_opts_release(&o);
        return WB_EXIT_ENGINE;
    }
    o.create_only = true;
    rc = wb_run_image(&o);
    wb_run_opts_release(&o);
    return rc;
}

/* A Linux image whose command is not a Wasm module (which would make it a Wasm container). */
/* "A" or "A-B" (1..65535); false when malformed. */
static bool port_range(const char *s, size_t len, int *lo, int *hi) {
    char buf[32];
    if (!len || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    long a = strtol(buf, &end, 10), b = a;
    if (end == buf) return false;
    if (*end == '-') {
        char *e2;
        b = strtol(end + 1, &e2, 10);
        if (e2 == end + 1 || *e2) return false;
    } else if (*end) {
        return false;
    }
    if (a < 1 || b > 65535 || b < a) return false;
    *lo = (int)a;
    *hi = (int)b;
    return true;
}

/* -p [IP:][HOST:]CONTAINER[/PROTO] (ports or ranges) into Docker's PortBindings. */
static int add_publish(json_t *bindings, const char *spec, wb_error *err) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *slash = strrchr(buf, '/');
    const char *proto = "tcp";
    if (slash) {
        *slash = '\0';
        proto = slash + 1;
        if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
            return wb_error_set(err, EINVAL, "invalid proto: %s", proto);
        if (!strcmp(proto, "sctp"))
            return wb_error_set(err, ENOTSUP, "publishing sctp ports is not supported");
    }
    char *cport = strrchr(buf, ':'), *hport = NULL, *ip = NULL;
    if (cport) {
        *cport++ = '\0';
        hport = strrchr(buf, ':');
        if (hport) {
            *hport++ = '\0';
            ip = buf;
        } else {
            hport = buf;
        }
    } else {
        cport = buf;
    }
    int clo, chi, hlo = 0, hhi = 0;
    if (!port_range(cport, strlen(cport), &clo, &chi))
        return wb_error_set(err, EINVAL, "invalid containerPort: %s", cport);
    if (hport && *hport && !port_range(hport, strlen(hport), &hlo, &hhi))
        return wb_error_set(err, EINVAL, "invalid hostPort: %s", hport);
    if (hlo && hhi - hlo != chi - clo)
        return wb_error_set(err, EINVAL,
                            "invalid ranges specified for container and host Ports: %s and %s",
                            cport, hport);
    struct in_addr a;
    if (ip && *ip && inet_pton(AF_INET, ip, &a) != 1)
        return wb_error_set(err, EINVAL, "invalid IP address: %s", ip);
    for (int p = clo; p <= chi; p++) {
        char key[32], host[16] = "";
        snprintf(key, sizeof key, "%d/%s", p, proto);
        if (hlo) snprintf(host, sizeof host, "%d", hlo + (p - clo));
        json_t *list = json_object_get(bindings, key);
        if (!list) {
            list = json_array();
            json_object_set_new(bindings, key, list);
        }
        json_array_append_new(list,
                              json_pack("{s:s, s:s}", "HostIp", ip ? ip : "", "HostPort", host));
    }
    return 0;
}

/* The network of a `run` without --network: Docker's default bridge. Without root no bridge
 * can be made: "none" then, unless something asks for a network (-p, --ip, an alias: those
 * fail later with the reason). */
static const char *default_network(const wb_run_opts *o) {
    if (geteuid() == 0 || o->npublish || o->publish_all || o->naliases || o->ip)
        return WB_NETWORK_DEFAULT;
    return "none";
}

static bool image_is_linux(wb_images *store, wb_image *img) {
    if (img->wasm != WB_WASM_NOT) return false;
    wb_error err;
    int fd = wb_image_wasm_open(store, img, &err);
    if (fd >= 0) {
        close(fd);
        return false; /* WB_WASM_MAGIC */
    }
    return true;
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
    if (o->network && !strncmp(o->network, "container:", 10)) {
        wb_container *other;
        if (wb_container_open(wb_cli_root(), o->network + 10, &other, &err) < 0) {
            wb_cli_error("%s", err.msg);
            return WB_EXIT_ENGINE;
        }
        wb_container_free(other);
        if (o->npublish || o->publish_all || o->naliases || o->ip || o->hostname || o->ndns ||
            o->nadd_hosts) {
            wb_cli_error("conflicting options: %s and the network mode",
                         o->npublish || o->publish_all ? "port publishing"
                         : o->hostname                 ? "hostname"
                         : o->ndns                     ? "dns"
                         : o->nadd_hosts               ? "custom host-to-IP mapping"
                                                       : "network-scoped alias or ip");
            return WB_EXIT_ENGINE;
        }
    }
    json_t *checked = json_object(); /* -p is checked before any pull, as Docker does */
    for (int i = 0; i < o->npublish; i++)
        if (add_publish(checked, o->publish[i], &err) < 0) {
            json_decref(checked);
            wb_cli_error("%s", err.msg);
            return WB_EXIT_ENGINE;
        }
    json_decref(checked);
    if (wb_net_mode_attaches(o->network)) {
        json_t *net = wb_network_find(wb_cli_root(), o->network, &err);
        if (!net) {
            wb_cli_error("%s", err.msg);
            return WB_EXIT_ENGINE;
        }
        json_decref(net);
    } else if (o->network && strcmp(o->network, "host") != 0 && strcmp(o->network, "none") != 0 &&
               strncmp(o->network, "container:", 10) != 0) {
        wb_cli_error("network %s not found", o->network);
        return WB_EXIT_ENGINE;
    }
    for (int i = 0; i < o->nvolumes; i++) {
        mounts = wb_reallocarray(mounts, (size_t)i + 1, sizeof *mounts);
        if (parse_mount(o->volumes[i], &mounts[i]) < 0) {
            for (int k = 0; k < i; k++) {
                free(mounts[k].host);
                free(mounts[k].guest);
                free(mounts[k].volume);
            }
            free(mounts);
            return WB_EXIT_ENGINE;
        }
    }

    if (wb_images_open(wb_cli_root(), &store, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    /* --pull always: the registry's image first; missing (the default): only when absent. Pulls
     * and unpacking need libraries the static core does not load: wasmbox-full takes over the
     * command at those points, before anything is written. */
    char pulled[WB_DIGEST_MAX];
    bool pull_always = o->pull && !strcmp(o->pull, "always");
    if (pull_always && wb_cli_is_core()) {
        rc = wb_cli_handoff("pulling");
        goto out;
    }
    if (pull_always && wb_registry_pull_hook(NULL, store, ref, o->platform, pulled, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    if (wb_images_resolve(store, ref, &rec, &err) < 0) {
        if (err.code != ENOENT) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        wb_ref r;
        char full[WB_REF_MAX + 80], fam[WB_REF_MAX + 80];
        if (wb_ref_parse(ref, &r, NULL) == 0) {
            wb_ref_full(&r, full, sizeof full);
            wb_ref_familiar(full, fam, sizeof fam);
        } else {
            snprintf(fam, sizeof fam, "%s", ref);
        }
        if (o->pull && !strcmp(o->pull, "never")) {
            wb_cli_error("No such image: %s", fam);
            goto out;
        }
        if (wb_cli_is_core()) {
            rc = wb_cli_handoff("pulling");
            goto out;
        }
        /* as Docker: the default tag is named first (progress on stderr: stdout is the
         * workload's) */
        wb_registry_opts ro;
        wb_registry_opts_init_stderr(&ro);
        const char *colon = strrchr(ref, ':'), *slash = strrchr(ref, '/');
        ro.default_tag_said = !strchr(ref, '@') && !(colon && (!slash || colon > slash));
        if (ro.default_tag_said) fputs("Using default tag: latest\n", stderr);
        fprintf(stderr, "Unable to find image '%s' locally\n", fam);
        if (wb_registry_pull_hook(&ro, store, ref, o->platform, pulled, &err) < 0 ||
            wb_images_resolve(store, pulled, &rec, &err) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
    }
    if (wb_image_load(store, rec.manifest, &img, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    /* a Spin app pushed by `spin registry push` runs on the Spin runtime unless told otherwise,
     * as Spin's shim runs it; its command is the root, as Spin's own images give */
    if (img->wasm == WB_WASM_SPIN && !o->runtime) {
        kind = WB_RUNTIME_SPIN;
        runtime = "io.containerd.spin.v2";
    }
    if (o->platform && platform_check(ref, img, o->platform) < 0) goto out;
    if (wb_cli_is_core() && wb_image_lowers_need_unpack(store, img)) {
        rc = wb_cli_handoff("unpacking the image's layers");
        goto out;
    }
    /* a Linux container: asked for (--runtime runc), or a Linux image whose command is not a
     * Wasm module. Its capabilities and seccomp filter need libcap and libseccomp, which the
     * static core does not load: wasmbox-full runs it (and its monitor). */
    bool linux_ct = o->runtime ? kind == WB_RUNTIME_LINUX : image_is_linux(store, img);
    if (linux_ct && wb_cli_is_core()) {
        rc = wb_cli_handoff("running Linux containers");
        goto out;
    }
    /* a bridge to set up or ports to publish (libnftables): wasmbox-full too; the static core
     * alone runs without a network when none was asked for */
    const char *net_mode = o->network ? o->network : default_network(o);
    bool publishes = o->npublish || o->publish_all;
    if (wb_cli_is_core() && wb_net_needs_nft(wb_cli_root(), net_mode, NULL, publishes)) {
        if (o->network || publishes || wb_cli_full_available()) {
            rc = wb_cli_handoff("setting up a network");
            goto out;
        }
        fprintf(stderr, "WARNING: the default bridge needs wasmbox-full to be set up (not found "
                        "beside this wasmbox): running with --network none\n");
        net_mode = "none";
    }
    if (make_volumes(mounts, o->nvolumes) < 0) goto out;
    if (linux_ct) {
        runtime = "runc";
        wb_caps caps;
        if (wb_caps_compute(o->cap_add, (size_t)o->ncap_add, o->cap_drop, (size_t)o->ncap_drop,
                            o->privileged, &caps, &err) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
    } else {
        const char *linux_only = o->user                       ? "--user"
                                 : o->privileged               ? "--privileged"
                                 : o->nsecurity_opt            ? "--security-opt"
                                 : o->ncap_add || o->ncap_drop ? "--cap-add/--cap-drop"
                                 : o->nulimits                 ? "--ulimit"
                                 : o->memory_swap              ? "--memory-swap"
                                 : o->cpu_shares               ? "--cpu-shares"
                                 : o->pids_limit               ? "--pids-limit"
                                 : o->ntmpfs                   ? "--tmpfs"
                                 : o->shm_size                 ? "--shm-size"
                                 : o->init                     ? "--init"
                                                               : NULL;
        if (linux_only) {
            wb_cli_error("%s applies to Linux containers; `%s` runs as a Wasm container",
                         linux_only, ref);
            goto out;
        }
        for (int i = 0; i < o->nvolumes; i++) { /* WASI preopens directories only */
            struct stat st;
            if (stat(mounts[i].host, &st) != 0 || !S_ISDIR(st.st_mode)) {
                wb_cli_error("invalid volume specification: '%s': %s is not a directory (Wasm "
                             "modules see directories only)",
                             o->volumes[i], mounts[i].host);
                goto out;
            }
        }
    }
    /* an empty volume mounted where the image has files gets them (Docker's copy-up) */
    for (int i = 0; i < o->nvolumes; i++) {
        if (!mounts[i].volume) continue;
        wb_lowers image = {0};
        if (!wb_image_lowers_need_unpack(store, img) &&
            wb_image_lowers(store, img, &image, &err) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        int copied = wb_volume_copy_up(mounts[i].host, &image, mounts[i].guest, &err);
        wb_lowers_free(&image);
        if (copied < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
    }

    /* the command: Docker's rules for ENTRYPOINT, CMD, --entrypoint and arguments */
    if (o->entrypoint_argv) {
        for (int i = 0; i < o->nentrypoint_argv; i++) sv_add(&entrypoint, o->entrypoint_argv[i]);
    } else if (o->entrypoint_set) {
        if (o->entrypoint[0]) sv_add(&entrypoint, o->entrypoint);
    } else {
        for (size_t i = 0; i < img->nentrypoint; i++) sv_add(&entrypoint, img->entrypoint[i]);
    }
    if (o->nargs > 0) {
        for (int i = 0; i < o->nargs; i++) sv_add(&cmd, o->args[i]);
    } else if (!o->entrypoint_set && !o->entrypoint_argv) {
        for (size_t i = 0; i < img->ncmd; i++) sv_add(&cmd, img->cmd[i]);
    }
    bool artifact = img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI;
    /* an artifact's module is its layer: with no ENTRYPOINT, the arguments follow its name */
    if (artifact && entrypoint.n == 0) sv_add(&argv, ref);
    if (img->wasm == WB_WASM_SPIN && entrypoint.n == 0 && cmd.n == 0) sv_add(&argv, "/");
    for (size_t i = 0; i < entrypoint.n; i++) sv_add(&argv, entrypoint.v[i]);
    for (size_t i = 0; i < cmd.n; i++) sv_add(&argv, cmd.v[i]);
    for (size_t i = 0; i < img->nenv; i++) env_set(&env, img->env[i]);
    for (int i = 0; i < o->nenv; i++) env_set(&env, o->env[i]);
    const char *workdir = o->workdir ? o->workdir : img->workdir;
    if (workdir && *workdir && workdir[0] != '/') {
        wb_cli_error("the working directory '%s' is invalid, it needs to be an absolute path",
                     workdir);
        goto out;
    }

    /* the container: Docker creates it, then starts it (a start failure leaves it created) */
    char platform[80];
    snprintf(platform, sizeof platform, "%s",
             wb_image_is_wasm_artifact(img->wasm) ? "wasi" : img->os);
    char restart_name[32] = "no";
    int restart_max = 0;
    if (o->restart &&
        parse_restart(o->restart, restart_name, sizeof restart_name, &restart_max) < 0)
        goto out;
    if (o->rm && strcmp(restart_name, "no") != 0) {
        wb_cli_error("Conflicting options: --restart and --rm");
        goto out;
    }
    wb_container_spec spec = {
        .name = o->name,
        .image_ref = ref,
        .image_id = rec.config,
        .image_manifest = rec.manifest,
        .entrypoint = entrypoint.v,
        .nentrypoint = entrypoint.n,
        .cmd = cmd.v,
        .ncmd = cmd.n,
        .env = env.v,
        .nenv = env.n,
        .mounts = mounts,
        .nmounts = (size_t)o->nvolumes,
        .workdir = workdir,
        .user = img->user,
        .exposed_ports = json_object_get(json_object_get(img->config, "config"), "ExposedPorts"),
        .runtime = runtime,
        .engine = wb_engine_name(o->engine),
        .platform = platform,
        .auto_remove = o->rm,
        .read_only_root = o->read_only,
        .labels = o->labels,
        .nlabels = (size_t)o->nlabels,
        .tty = o->tty,
        .interactive = o->interactive,
        .restart = restart_name,
        .restart_max = restart_max,
        .stop_timeout = o->stop_timeout,
        .memory = o->memory,
        .nano_cpus = o->nano_cpus,
        .memory_swap = o->memory_swap,
        .cpu_shares = o->cpu_shares,
        .pids_limit = o->pids_limit,
        .tmpfs = o->tmpfs,
        .ntmpfs = (size_t)o->ntmpfs,
        .shm_size = (int64_t)o->shm_size,
        .init = o->init,
        .network = net_mode,
        .start_here = !o->detach && !o->create_only,
        .hostname = o->hostname,
        .cap_add = o->cap_add,
        .ncap_add = (size_t)o->ncap_add,
        .cap_drop = o->cap_drop,
        .ncap_drop = (size_t)o->ncap_drop,
        .security_opt = o->security_opt,
        .nsecurity_opt = (size_t)o->nsecurity_opt,
        .privileged = o->privileged,
    };
    if (o->user) spec.user = o->user;
    /* published ports, aliases and a fixed address need a network: the default bridge when
     * none was named */
    json_t *bindings = json_object(), *endpoints = NULL;
    for (int i = 0; i < o->npublish; i++)
        if (add_publish(bindings, o->publish[i], &err) < 0) {
            json_decref(bindings);
            wb_cli_error("%s", err.msg);
            goto out;
        }
    if (o->publish_all) {
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(json_object_get(img->config, "config"), "ExposedPorts"),
                            key, v) {
            if (!json_object_get(bindings, key))
                json_object_set_new(bindings, key,
                                    json_pack("[{s:s, s:s}]", "HostIp", "", "HostPort", ""));
        }
    }
    if (!wb_net_mode_attaches(spec.network) && (o->naliases || o->ip)) {
        json_decref(bindings);
        wb_cli_error("%s needs a network of its own (--network NAME)",
                     o->ip ? "--ip" : "--network-alias");
        goto out;
    }
    if (!wb_net_mode_attaches(spec.network) && json_object_size(bindings)) {
        fputs("WARNING: Published ports are discarded when using host network mode\n", stderr);
        json_object_clear(bindings);
    }
    if (o->endpoints) {
        endpoints = json_deep_copy(o->endpoints);
    } else if (o->naliases || o->ip) {
        json_t *al = json_array();
        for (int i = 0; i < o->naliases; i++) json_array_append_new(al, json_string(o->aliases[i]));
        json_t *ep = json_pack("{s:o}", "Aliases", al);
        if (o->ip) json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", o->ip));
        endpoints = json_pack("{s:o}", spec.network, ep);
    }
    spec.port_bindings = bindings;
    spec.endpoints = endpoints;
    json_t *host_extra = json_object();
    json_t *lists[4] = {json_array(), json_array(), json_array(), json_array()};
    for (int i = 0; i < o->nadd_hosts; i++)
        json_array_append_new(lists[0], json_string(o->add_hosts[i]));
    for (int i = 0; i < o->ndns; i++) json_array_append_new(lists[1], json_string(o->dns[i]));
    for (int i = 0; i < o->ndns_search; i++)
        json_array_append_new(lists[2], json_string(o->dns_search[i]));
    for (int i = 0; i < o->ndns_options; i++)
        json_array_append_new(lists[3], json_string(o->dns_options[i]));
    json_object_set_new(host_extra, "ExtraHosts", lists[0]);
    json_object_set_new(host_extra, "Dns", lists[1]);
    json_object_set_new(host_extra, "DnsSearch", lists[2]);
    json_object_set_new(host_extra, "DnsOptions", lists[3]);
    spec.host_extra = host_extra;
    spec.config_extra = o->config_extra;
    json_t *ulimits = json_array();
    for (int i = 0; i < o->nulimits; i++) {
        wb_ulimit l;
        char name[16];
        if (wb_ulimit_parse(o->ulimits[i], &l, name, &err) < 0) {
            json_decref(ulimits);
            json_decref(bindings);
            json_decref(endpoints);
            json_decref(host_extra);
            wb_cli_error("%s", err.msg);
            goto out;
        }
        json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft",
                                                 (json_int_t)l.soft, "Hard", (json_int_t)l.hard));
    }
    spec.ulimits = ulimits;
    /* an artifact without ENTRYPOINT: the module's name is argv[0], the arguments follow */
    if ((img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI) && entrypoint.n == 0) {
        spec.entrypoint = argv.v;
        spec.nentrypoint = 1;
    }
    int created = wb_container_create(wb_cli_root(), &spec, &c, &err);
    json_decref(host_extra);
    json_decref(ulimits);
    json_decref(bindings);
    json_decref(endpoints);
    if (created < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    c->store = store; /* the launcher uses the image loaded here instead of reading it again */
    c->image = img;
    int exit_code = 0;
    if (o->created_id) memcpy(o->created_id, c->id, WB_CONTAINER_ID_LEN + 1);
    if (o->create_only) {
        if (!o->quiet) printf("%s\n", c->id);
        rc = 0;
        goto out;
    }
    if (o->detach) {
        if (wb_container_start_detached(c, &exit_code, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = exit_code ? exit_code : WB_EXIT_ENGINE;
            goto out;
        }
        if (!o->quiet) printf("%s\n", c->id);
        rc = 0;
        goto out;
    }
    if (wb_container_run_foreground(c, &exit_code, &err) < 0)
        fprintf(stderr, "Error: %s\n", err.msg);
    rc = exit_code;
    if (o->rm) { /* with its anonymous volumes, as Docker's --rm */
        json_t *recorded = json_deep_copy(json_object_get(c->doc, "Mounts"));
        if (wb_container_remove(c, NULL) == 0) wb_volumes_remove_anonymous(wb_cli_root(), recorded);
        json_decref(recorded);
    }
out:
    wb_container_free(c);
    for (int i = 0; mounts && i < o->nvolumes; i++) {
        free(mounts[i].host);
        free(mounts[i].guest);
        free(mounts[i].volume);
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
