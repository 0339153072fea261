/* wasmbox: global options, then dispatch to the command named by the first argument. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "cli/cli.h"
#include "shim/shim.h"
#include "cli/flags.h"
#include "cli/gotemplate.h"
#include "oci/platform.h"
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
          "  exec        Execute a command in a running container\n"
          "  pause       Pause all processes within one or more containers\n"
          "  unpause     Unpause all processes within one or more containers\n"
          "  top         Display the running processes of a container\n"
          "  diff        Inspect changes to files or directories on a container's filesystem\n"
          "  commit      Create a new image from a container's changes\n"
          "  cp          Copy files/folders between a container and the local filesystem\n"
          "  export      Export a container's filesystem as a tar archive\n"
          "  volume      Manage volumes (create, ls, inspect, rm, prune)\n"
          "  network     Manage networks (create, ls, inspect, rm, prune, connect, disconnect)\n"
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
          "  version     Show the wasmbox version information\n"
          "  buildx      Docker Buildx: build images (build, ls, version)\n"
          "  compose     Docker Compose: define and run multi-container applications\n"
          "  oci         A runc-compatible runtime for Wasm bundles (also run as wasmbox-runc)\n"
          "  shim        Install the containerd shim links (shim install)\n"
          "  compile     Compile WebAssembly modules to native code (the cache run uses)\n"
          "\n"
          "Run 'wasmbox COMMAND --help' for more information on a command.\n",
          out);
}

/* ---- version ---- */

static const wb_cli_flag version_flags[] = {
    {'f', "format", "string", WB_CLI_INSPECT_FORMAT_HELP, false},
    {0},
};
static const wb_cli_command version_cmd = {
    "version", "[OPTIONS]", "Show the wasmbox version information", version_flags, false};

static int wb_cmd_version(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&version_cmd, argc, argv, &a);
    const char *format = p == 0 ? wb_cli_flag_value(&a, "format") : NULL;
    wb_cli_args_release(&a);
    if (p != 0) return p > 0 ? 0 : WB_EXIT_ENGINE;
    if (!format) {
        printf("wasmbox version %s\n", WB_VERSION);
        return 0;
    }
    /* Docker's shape (`version --format json`): a client and no server, as there is no daemon */
    char os[32], arch[32], variant[32];
    wb_platform_host(os, arch, variant);
    json_t *v = json_pack("{s:{s:{s:s}, s:s, s:s, s:s}, s:n}", "Client", "Platform", "Name",
                          "wasmbox", "Version", WB_VERSION, "Os", "linux", "Arch", arch, "Server");
    wb_error err;
    int rc = 0;
    if (!strcmp(format, "json")) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        puts(text ? text : "{}");
        free(text);
    } else if (wb_gotemplate_render(format, v, stdout, &err) < 0) {
        wb_cli_error("template parsing error: %s", err.msg);
        rc = 1;
    } else {
        putchar('\n');
    }
    json_decref(v);
    return rc;
}

typedef int (*command_fn)(int argc, char **argv);

typedef struct command {
    const char *name;
    command_fn fn;
    const char *summary; /* for a group's help; NULL: an alias, not listed */
} command;

static const command commands[] = {
    {"run", wb_cmd_run, NULL},         {"build", wb_cmd_build, NULL},
    {"images", wb_cmd_images, NULL},   {"inspect", wb_cmd_inspect, NULL},
    {"rmi", wb_cmd_rmi, NULL},         {"tag", wb_cmd_tag, NULL},
    {"save", wb_cmd_save, NULL},       {"load", wb_cmd_load, NULL},
    {"import", wb_cmd_import, NULL},   {"create", wb_cmd_create, NULL},
    {"ps", wb_cmd_ps, NULL},           {"logs", wb_cmd_logs, NULL},
    {"stop", wb_cmd_stop, NULL},       {"restart", wb_cmd_stop, NULL},
    {"kill", wb_cmd_kill, NULL},       {"rm", wb_cmd_rm, NULL},
    {"wait", wb_cmd_wait, NULL},       {"start", wb_cmd_start, NULL},
    {"stats", wb_cmd_stats, NULL},     {"pull", wb_cmd_pull, NULL},
    {"push", wb_cmd_push, NULL},       {"login", wb_cmd_login, NULL},
    {"logout", wb_cmd_logout, NULL},   {"version", wb_cmd_version, NULL},
    {"exec", wb_cmd_exec, NULL},       {"pause", wb_cmd_pause, NULL},
    {"unpause", wb_cmd_pause, NULL},   {"diff", wb_cmd_diff, NULL},
    {"cp", wb_cmd_cp, NULL},           {"export", wb_cmd_export, NULL},
    {"commit", wb_cmd_commit, NULL},   {"port", wb_cmd_port, NULL},
    {"top", wb_cmd_top, NULL},         {"compose", wb_cmd_compose, NULL},
    {"oci", wb_cmd_oci, NULL},         {"shim", wb_cmd_shim, NULL},
    {"compile", wb_cmd_compile, NULL},
};

static const command container_commands[] = {
    {"create", wb_cmd_create, "Create a new container"},
    {"commit", wb_cmd_commit, "Create a new image from a container's changes"},
    {"cp", wb_cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"diff", wb_cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
    {"exec", wb_cmd_exec, "Execute a command in a running container"},
    {"export", wb_cmd_export, "Export a container's filesystem as a tar archive"},
    {"pause", wb_cmd_pause, "Pause all processes within one or more containers"},
    {"top", wb_cmd_top, "Display the running processes of a container"},
    {"unpause", wb_cmd_pause, "Unpause all processes within one or more containers"},
    {"inspect", wb_cmd_container_inspect, "Display detailed information on one or more containers"},
    {"kill", wb_cmd_kill, "Kill one or more running containers"},
    {"logs", wb_cmd_logs, "Fetch the logs of a container"},
    {"ls", wb_cmd_ps, "List containers"},
    {"list", wb_cmd_ps, NULL},
    {"ps", wb_cmd_ps, NULL},
    {"prune", wb_cmd_container_prune, "Remove all stopped containers"},
    {"restart", wb_cmd_stop, "Restart one or more containers"},
    {"rm", wb_cmd_rm, "Remove one or more containers"},
    {"remove", wb_cmd_rm, NULL},
    {"run", wb_cmd_run, "Create and run a new container from an image"},
    {"start", wb_cmd_start, "Start one or more stopped containers"},
    {"stats", wb_cmd_stats, "Display resource usage statistics of containers (--no-stream)"},
    {"stop", wb_cmd_stop, "Stop one or more running containers"},
    {"wait", wb_cmd_wait, "Block until one or more containers stop, then print their exit codes"},
    {NULL, NULL, NULL},
};

static const command image_commands[] = {
    {"build", wb_cmd_build, "Build an image from a Dockerfile"},
    {"export-wasm", wb_cmd_export_wasm, "Write the WebAssembly module of an image to a file"},
    {"import", wb_cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"inspect", wb_cmd_image_inspect, "Display detailed information on one or more images"},
    {"load", wb_cmd_load, "Load an image from a tar archive or STDIN"},
    {"ls", wb_cmd_images, "List images"},
    {"list", wb_cmd_images, NULL},
    {"prune", wb_cmd_image_prune, "Remove unused images"},
    {"pull", wb_cmd_pull, "Download an image from a registry"},
    {"push", wb_cmd_push, "Upload an image to a registry"},
    {"rm", wb_cmd_rmi, "Remove one or more images"},
    {"remove", wb_cmd_rmi, NULL},
    {"save", wb_cmd_save,
     "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"tag", wb_cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {NULL, NULL, NULL},
};

static const command buildx_commands[] = {
    {"build", wb_cmd_buildx_build, "Start a build"},
    {"ls", wb_cmd_buildx_ls, "List builder instances"},
    {"version", wb_cmd_buildx_version, "Show buildx version information"},
    {NULL, NULL, NULL},
};

static const command volume_commands[] = {
    {"create", wb_cmd_volume_create, "Create a volume"},
    {"inspect", wb_cmd_volume_inspect, "Display detailed information on one or more volumes"},
    {"ls", wb_cmd_volume_ls, "List volumes"},
    {"list", wb_cmd_volume_ls, NULL},
    {"prune", wb_cmd_volume_prune, "Remove unused local volumes"},
    {"rm", wb_cmd_volume_rm, "Remove one or more volumes"},
    {"remove", wb_cmd_volume_rm, NULL},
    {NULL, NULL, NULL},
};

static const command network_commands[] = {
    {"connect", wb_cmd_network_connect, "Connect a container to a network"},
    {"create", wb_cmd_network_create, "Create a network"},
    {"disconnect", wb_cmd_network_disconnect, "Disconnect a container from a network"},
    {"inspect", wb_cmd_network_inspect, "Display detailed information on one or more networks"},
    {"ls", wb_cmd_network_ls, "List networks"},
    {"list", wb_cmd_network_ls, NULL},
    {"prune", wb_cmd_network_prune, "Remove all unused networks"},
    {"rm", wb_cmd_network_rm, "Remove one or more networks"},
    {"remove", wb_cmd_network_rm, NULL},
    {NULL, NULL, NULL},
};

/* A management command (`image`, `container`, `buildx`, `volume`, `network`) and its
 * subcommands. */
typedef struct group {
    const char *name, *summary;
    const command *commands;
} group;

static const group groups[] = {
    {"container", "Manage containers", container_commands},
    {"image", "Manage images", image_commands},
    {"buildx", "Docker Buildx: build images (the builder built into wasmbox)", buildx_commands},
    {"volume", "Manage volumes", volume_commands},
    {"network", "Manage networks", network_commands},
};

/* As Docker prints a management command's help. */
static void group_usage(const group *g, FILE *out) {
    fprintf(out, "Usage:  wasmbox %s COMMAND\n\n%s\n\nCommands:\n", g->name, g->summary);
    int w = 11; /* as cobra pads the names: to the longest, at least 11 */
    for (const command *c = g->commands; c->name; c++)
        if (c->summary && (int)strlen(c->name) > w) w = (int)strlen(c->name);
    for (const command *c = g->commands; c->name; c++)
        if (c->summary) fprintf(out, "  %-*s %s\n", w, c->name, c->summary);
    fprintf(out, "\nRun 'wasmbox %s COMMAND --help' for more information on a command.\n", g->name);
}

/* What the static core hands to wasmbox-full at once: the commands (and `image` subcommands)
 * that need libcurl, libcrypto or libarchive. run and create may go later (src/cli/run_image.c). */
static const char *const full_only[] = {
    "build", "save",   "load", "import", "export-wasm", "pull",       "push",    "login",  "logout",
    "exec",  "commit", "cp",   "export", "connect",     "disconnect", "compose", "compile"};

/* name: what full_only knows the command by (`buildx build` is a build) */
static int dispatch(const char *name, command_fn fn, int argc, char **argv) {
    if (wb_cli_is_core())
        for (size_t i = 0; i < sizeof full_only / sizeof full_only[0]; i++)
            if (!strcmp(name, full_only[i])) return wb_cli_handoff(name);
    return fn(argc, argv);
}

int main(int argc, char **argv) {
    wb_cli_handoff_init(argv);
    /* run as wasmbox-runc (a link): the runc-compatible CLI, as Docker and Podman call it */
    const char *self = strrchr(argv[0], '/');
    self = self ? self + 1 : argv[0];
    if (!strcmp(self, "wasmbox-runc")) return wb_cmd_oci(argc, argv);
    /* run as containerd-shim-<runtime>-v1 (a link): the containerd shim v2 */
    if (!strncmp(self, "containerd-shim-", 16)) return wb_shim_main(argc, argv);
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
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++) {
        const group *g = &groups[k];
        if (strcmp(cmd, g->name) != 0) continue;
        /* no subcommand, or --help: the group's help (exit 0, as Docker) */
        if (i + 1 >= argc || !strcmp(argv[i + 1], "--help") || !strcmp(argv[i + 1], "-h")) {
            group_usage(g, stdout);
            return 0;
        }
        for (const command *c = g->commands; c->name; c++)
            if (!strcmp(argv[i + 1], c->name)) {
                rc = dispatch(c->fn == wb_cmd_buildx_build ? "build" : c->name, c->fn, argc - i - 1,
                              argv + i + 1);
                goto done;
            }
        fprintf(stderr, "wasmbox: '%s %s' is not a wasmbox command.\nSee 'wasmbox %s --help'\n",
                g->name, argv[i + 1], g->name);
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
