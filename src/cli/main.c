/* wasmbox: global options, then dispatch to the command named by the first argument. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "cli/cli.h"
#include "oci/store.h"

static char *root_flag;
static char *root_path;

const char *wb_cli_root(void) {
    if (!root_path) root_path = wb_store_default_root(root_flag);
    return root_path;
}

void wb_cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("Error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void wb_cli_human_size(uint64_t bytes, char *buf, size_t size) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    snprintf(buf, size, "%.3g%s", v, units[u]);
}

void wb_cli_human_duration(int64_t s, char *buf, size_t size) {
    if (s < 1)
        snprintf(buf, size, "Less than a second");
    else if (s == 1)
        snprintf(buf, size, "1 second");
    else if (s < 60)
        snprintf(buf, size, "%lld seconds", (long long)s);
    else if (s / 60 == 1)
        snprintf(buf, size, "About a minute");
    else if (s < 3600)
        snprintf(buf, size, "%lld minutes", (long long)(s / 60));
    else if (s / 3600 == 1)
        snprintf(buf, size, "About an hour");
    else if (s < 48 * 3600)
        snprintf(buf, size, "%lld hours", (long long)(s / 3600));
    else if (s < 14 * 86400)
        snprintf(buf, size, "%lld days", (long long)(s / 86400));
    else if (s < 60 * 86400)
        snprintf(buf, size, "%lld weeks", (long long)(s / (7 * 86400)));
    else if (s < 730 * 86400)
        snprintf(buf, size, "%lld months", (long long)(s / (30 * 86400)));
    else
        snprintf(buf, size, "%lld years", (long long)(s / (365 * 86400)));
}

static void usage(FILE *out) {
    fputs("Usage:  wasmbox [OPTIONS] COMMAND\n"
          "\n"
          "A container engine for WebAssembly workloads\n"
          "\n"
          "Options:\n"
          "      --root DIR   Where images and containers are kept (default: $WASMBOX_ROOT,\n"
          "                   /var/lib/wasmbox as root, ~/.local/share/wasmbox otherwise)\n"
          "  -v, --version    Print version information and quit\n"
          "\n"
          "Commands:\n"
          "  run         Run a container from an image, or a WebAssembly module file\n"
          "  create      Create a new container\n"
          "  start       Start one or more stopped containers\n"
          "  ps          List containers\n"
          "  logs        Fetch the logs of a container\n"
          "  stop        Stop one or more running containers\n"
          "  restart     Restart one or more containers\n"
          "  kill        Kill one or more running containers\n"
          "  rm          Remove one or more containers\n"
          "  wait        Block until containers stop, then print their exit codes\n"
          "  stats       Display resource usage of containers (--no-stream)\n"
          "  container   Manage containers\n"
          "  build       Build an image from a Dockerfile\n"
          "  pull        Download an image from a registry\n"
          "  push        Upload an image to a registry\n"
          "  login       Log in to a registry\n"
          "  logout      Log out from a registry\n"
          "  images      List images\n"
          "  image       Manage images (ls, inspect, rm, tag, prune, save, load, import, "
          "export-wasm)\n"
          "  inspect     Return low-level information on containers and images\n"
          "  rmi         Remove one or more images\n"
          "  tag         Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n"
          "  save        Save one or more images to a tar archive\n"
          "  load        Load an image from a tar archive\n"
          "  import      Import the contents from a tarball to create an image\n"
          "  version     Show the wasmbox version\n"
          "\n"
          "Run 'wasmbox COMMAND --help' for more information on a command.\n",
          out);
}

typedef int (*command_fn)(int argc, char **argv);

static const struct {
    const char *name;
    command_fn fn;
} commands[] = {
    {"run", wb_cmd_run},         {"build", wb_cmd_build},   {"images", wb_cmd_images},
    {"inspect", wb_cmd_inspect}, {"rmi", wb_cmd_rmi},       {"tag", wb_cmd_tag},
    {"save", wb_cmd_save},       {"load", wb_cmd_load},     {"import", wb_cmd_import},
    {"create", wb_cmd_create},   {"ps", wb_cmd_ps},         {"logs", wb_cmd_logs},
    {"stop", wb_cmd_stop},       {"restart", wb_cmd_stop},  {"kill", wb_cmd_kill},
    {"rm", wb_cmd_rm},           {"wait", wb_cmd_wait},     {"start", wb_cmd_start},
    {"stats", wb_cmd_stats},     {"pull", wb_cmd_pull},     {"push", wb_cmd_push},
    {"login", wb_cmd_login},     {"logout", wb_cmd_logout},
};

static const struct {
    const char *name;
    command_fn fn;
} container_commands[] = {
    {"run", wb_cmd_run},     {"create", wb_cmd_create},   {"ls", wb_cmd_ps},
    {"list", wb_cmd_ps},     {"ps", wb_cmd_ps},           {"logs", wb_cmd_logs},
    {"stop", wb_cmd_stop},   {"restart", wb_cmd_stop},    {"kill", wb_cmd_kill},
    {"rm", wb_cmd_rm},       {"remove", wb_cmd_rm},       {"wait", wb_cmd_wait},
    {"start", wb_cmd_start}, {"inspect", wb_cmd_inspect}, {"prune", wb_cmd_container_prune},
    {"stats", wb_cmd_stats},
};

static const struct {
    const char *name;
    command_fn fn;
} image_commands[] = {
    {"ls", wb_cmd_images},
    {"list", wb_cmd_images},
    {"inspect", wb_cmd_image_inspect},
    {"rm", wb_cmd_rmi},
    {"remove", wb_cmd_rmi},
    {"tag", wb_cmd_tag},
    {"prune", wb_cmd_image_prune},
    {"save", wb_cmd_save},
    {"load", wb_cmd_load},
    {"import", wb_cmd_import},
    {"export-wasm", wb_cmd_export_wasm},
    {"build", wb_cmd_build},
    {"pull", wb_cmd_pull},
    {"push", wb_cmd_push},
};

/* What the static core hands to wasmbox-full at once: the commands (and `image` subcommands)
 * that need libcurl, libcrypto or libarchive. run and create may go later (src/cli/run_image.c). */
static const char *const full_only[] = {"build", "save", "load",  "import", "export-wasm",
                                        "pull",  "push", "login", "logout"};

static int dispatch(const char *name, command_fn fn, int argc, char **argv) {
    if (wb_cli_is_core())
        for (size_t i = 0; i < sizeof full_only / sizeof full_only[0]; i++)
            if (!strcmp(name, full_only[i])) return wb_cli_handoff(name);
    return fn(argc, argv);
}

int main(int argc, char **argv) {
    wb_cli_handoff_init(argv);
    /* jansson would read /dev/urandom for its hash seed: getrandom is one syscall (and the seed
     * stays random, so crafted JSON cannot make its tables degenerate) */
    uint32_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        json_object_seed(seed | 1);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--root") || !strncmp(a, "--root=", 7)) {
            const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                wb_cli_error("flag needs an argument: --root");
                return WB_EXIT_ENGINE;
            }
            root_flag = (char *)v;
        } else if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
            printf("wasmbox version %s\n", WB_VERSION);
            return 0;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "unknown flag: %s\nSee 'wasmbox --help'.\n", a);
            return WB_EXIT_ENGINE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return WB_EXIT_ENGINE;
    }
    const char *cmd = argv[i];
    int rc;
    if (!strcmp(cmd, "version")) {
        printf("wasmbox version %s\n", WB_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "image")) {
        if (i + 1 >= argc) {
            fprintf(stderr, "Usage:  wasmbox image COMMAND\n\nManage images\n\nCommands: ls, "
                            "inspect, rm, tag, prune, save, load, import, export-wasm, build\n");
            return 1;
        }
        for (size_t k = 0; k < sizeof image_commands / sizeof image_commands[0]; k++)
            if (!strcmp(argv[i + 1], image_commands[k].name)) {
                rc = dispatch(image_commands[k].name, image_commands[k].fn, argc - i - 1,
                              argv + i + 1);
                goto done;
            }
        fprintf(stderr,
                "wasmbox: 'image %s' is not a wasmbox command.\nSee 'wasmbox image --help'\n",
                argv[i + 1]);
        return 1;
    }
    if (!strcmp(cmd, "container")) {
        if (i + 1 >= argc) {
            fprintf(stderr, "Usage:  wasmbox container COMMAND\n\nManage containers\n\nCommands: "
                            "create, inspect, kill, logs, ls, prune, restart, rm, run, start, "
                            "stats, stop, wait\n");
            return 1;
        }
        for (size_t k = 0; k < sizeof container_commands / sizeof container_commands[0]; k++)
            if (!strcmp(argv[i + 1], container_commands[k].name)) {
                rc = dispatch(container_commands[k].name, container_commands[k].fn, argc - i - 1,
                              argv + i + 1);
                goto done;
            }
        fprintf(stderr, "wasmbox: 'container %s' is not a wasmbox command.\n", argv[i + 1]);
        return 1;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(cmd, commands[k].name)) {
            rc = dispatch(commands[k].name, commands[k].fn, argc - i, argv + i);
            goto done;
        }
    fprintf(stderr, "wasmbox: '%s' is not a wasmbox command.\nSee 'wasmbox --help'\n", cmd);
    return WB_EXIT_ENGINE;
done:
    free(root_path);
    return rc;
}
