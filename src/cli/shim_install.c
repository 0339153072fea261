/* `wasmbox shim install [--prefix DIR]`: the links that make wasmbox containerd's shim for the
 * seed's runtime names and a runc-compatible runtime (docs/shim.md), and the configuration
 * snippets that use them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "cli/cli.h"
#include "cli/flags.h"

static const char *const links[] = {
    "containerd-shim-wasmbox-v1",
    "containerd-shim-wasmedge-v1",
    "containerd-shim-wasmtime-v1",
    "containerd-shim-wasmer-v1",
    /* the application runtimes: the app at the image's root */
    "containerd-shim-spin-v2",
    "containerd-shim-wws-v1",
    "containerd-shim-slight-v1",
    "containerd-shim-lunatic-v1",
    "wasmbox-runc",
};

static const wb_cli_flag install_flags[] = {
    {0, "prefix", "string", "Directory for the links (default /usr/local/bin)", false},
    {0},
};
static const wb_cli_command install_cmd = {
    "shim install", "[OPTIONS]",
    "Install containerd-shim-{wasmbox,wasmedge,wasmtime,wasmer,wws,slight,lunatic}-v1, -spin-v2 "
    "and wasmbox-runc (links to wasmbox)",
    install_flags, false};

/* The static core beside this program (wasmbox-full's sibling), else this program. */
static int target_binary(char *out, size_t size) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash && !strcmp(slash + 1, "wasmbox-full")) {
        if (wb_path_join(out, size, NULL, "%.*s/wasmbox", (int)(slash - self), self) == 0 &&
            access(out, X_OK) == 0)
            return 0;
    }
    return wb_path_join(out, size, NULL, "%s", self);
}

static int install(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&install_cmd, argc, argv, &a, &rc) < 0) return rc;
    const char *prefix = wb_cli_flag_value(&a, "prefix");
    if (!prefix) prefix = "/usr/local/bin";
    char target[PATH_MAX];
    wb_error err;
    rc = 1;
    if (target_binary(target, sizeof target) < 0) {
        wb_cli_error("cannot tell where this program is (/proc/self/exe)");
        goto out;
    }
    if (wb_mkdir_p(prefix, 0755, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        if (wb_path_join(path, sizeof path, &err, "%s/%s", prefix, links[i]) < 0 ||
            wb_path_join(tmp, sizeof tmp, &err, "%s.tmp", path) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        unlink(tmp);
        if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
            wb_cli_error("link %s -> %s: %s", path, target, strerror(errno));
            unlink(tmp);
            goto out;
        }
        printf("%s -> %s\n", path, target);
    }
    printf("\ncontainerd (%s must be on containerd's PATH, or give runtime_path):\n"
           "  ctr run --rm --runtime io.containerd.wasmedge.v1 --platform wasi/wasm IMAGE ID\n"
           "  ctr run -d --net-host --runtime io.containerd.spin.v2 SPIN-APP-IMAGE ID   (also "
           "io.containerd.wws.v1)\n"
           "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.wasmbox]\n"
           "    runtime_type = \"io.containerd.wasmbox.v1\"\n"
           "\nKubernetes:\n"
           "  apiVersion: node.k8s.io/v1\n  kind: RuntimeClass\n  metadata:\n    name: wasmbox\n"
           "  handler: wasmbox\n"
           "\nDocker 20.10 (through runc's shim): dockerd --add-runtime wasmbox=%s/wasmbox-runc\n"
           "  docker run --runtime=wasmbox --platform wasi/wasm IMAGE\n"
           "Podman: podman --runtime %s/wasmbox-runc run IMAGE\n",
           prefix, prefix, prefix);
    rc = 0;
out:
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_shim(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "install")) return install(argc - 1, argv + 1);
    fprintf(stderr, "Usage:  wasmbox shim install [--prefix DIR]\n\n"
                    "Install wasmbox as containerd's shim for io.containerd.{wasmbox,wasmedge,"
                    "wasmtime,wasmer,wws,slight,lunatic}.v1 and io.containerd.spin.v2, and as "
                    "wasmbox-runc\n");
    return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 1;
}
