/* `wasmbox run [OPTIONS] FILE.wasm [ARGS...]`: run a WASI command module (its `_start`) or call
 * one export (--invoke), like `wasmtime run`. Exit status: the module's proc_exit code, 134 for a
 * trap, 125 for an error of wasmbox itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/run_opts.h"
#include "base/fsutil.h"

int wb_run_image(wb_run_opts *o);
#include "wasi/wasi.h"
#include "wasm/native_tier.h"
#include "wasm/wasm.h"

/* engine-internal: listing of the lowered code */
void wb__module_dump(const wb_module *m, FILE *out);

/* run's and create's flags, for their help (src/cli/run_opts.c parses them): Docker's for images,
 * wasmtime's for module files */
static const wb_cli_flag run_flags[] = {
    {0, "engine", "string",
     "Wasm tier: auto (native code if compiled, else the interpreter), interp or native", false},
    {0, "bounds-checks", NULL, "Module files: check memory accesses explicitly, not by guard pages",
     false},
    {0, "cpus", "decimal", "Number of CPUs", false},
    {0, "cpu-shares", "int", "CPU shares (relative weight, Linux containers)", false},
    {0, "init", NULL,
     "Run an init inside the container that forwards signals and reaps processes (Linux "
     "containers)",
     false},
    {0, "shm-size", "bytes", "Size of /dev/shm (Linux containers)", false},
    {0, "tmpfs", "list", "Mount a tmpfs directory (PATH[:OPTIONS], Linux containers)", false},
    {0, "memory-swap", "bytes",
     "Swap limit equal to memory plus swap: '-1' to enable unlimited swap (Linux containers)",
     false},
    {0, "pids-limit", "int", "Tune container pids limit (set -1 for unlimited, Linux containers)",
     false},
    {0, "add-host", "list", "Add a custom host-to-IP mapping (host:ip)", false},
    {'d', "detach", NULL, "Run container in background and print container ID", false},
    {0, "dns", "list", "Set custom DNS servers", false},
    {0, "dns-option", "list", "Set DNS options", false},
    {0, "dns-search", "list", "Set custom DNS search domains", false},
    {0, "dir", "HOST[::GUEST]", "Module files: preopen the host directory HOST as GUEST", false},
    {0, "dump-code", NULL, "Module files: print the internal code of every function and exit",
     false},
    {0, "entrypoint", "string", "Overwrite the default ENTRYPOINT of the image", false},
    {'e', "env", "list", "Set environment variables (NAME=VALUE, or NAME: inherit it)", false},
    {0, "env-file", "list", "Read in a file of environment variables", false},
    {0, "fuel", "N", "Module files: trap after N loop iterations and calls", false},
    {'i', "interactive", NULL, "Keep STDIN open even if not attached", false},
    {0, "invoke", "NAME",
     "Module files: call the exported function NAME with ARGS, print its results", false},
    {'l', "label", "list", "Set meta data on a container", false},
    {0, "max-memory", "SIZE", "Module files: cap each linear memory at SIZE bytes (e.g. 64MiB)",
     false},
    {'m', "memory", "bytes", "Memory limit", false},
    {0, "name", "string", "Assign a name to the container", false},
    {0, "net", NULL, "Module files: let the module open sockets itself (WasmEdge socket API)",
     false},
    {0, "ip", "string", "IPv4 address (e.g., 172.30.100.104)", false},
    {0, "network", "network",
     "Connect a container to a network (bridge, host, none, container:ID or a network's name)",
     false},
    {0, "network-alias", "list", "Add network-scoped alias for the container", false},
    {'p', "publish", "list", "Publish a container's port(s) to the host", false},
    {'P', "publish-all", NULL, "Publish all exposed ports to random ports", false},
    {0, "platform", "string", "Set platform if server is multi-platform capable (e.g. wasi/wasm)",
     false},
    {0, "preload", "NAME=FILE", "Module files: instantiate FILE first, link its exports as NAME",
     false},
    {0, "pull", "string",
     "Pull image before running (\"always\", \"missing\", \"never\") (default "
     "\"missing\")",
     false},
    {0, "read-only", NULL, "Mount the container's root filesystem as read only", false},
    {0, "privileged", NULL, "Give extended privileges to this container (Linux containers)", false},
    {0, "cap-add", "list", "Add Linux capabilities", false},
    {0, "cap-drop", "list", "Drop Linux capabilities", false},
    {0, "security-opt", "list",
     "Security Options (no-new-privileges, seccomp=unconfined) (Linux containers)", false},
    {'h', "hostname", "string", "Container host name", false},
    {'u', "user", "string", "Username or UID (format: <name|uid>[:<group|gid>])", false},
    {0, "ulimit", "ulimit", "Ulimit options (NAME=SOFT[:HARD], Linux containers)", false},
    {0, "restart", "string", "Restart policy to apply when a container exits (default \"no\")",
     false},
    {0, "rm", NULL,
     "Automatically remove the container and its associated anonymous volumes when "
     "it exits",
     false},
    {0, "runtime", "string",
     "Runtime to use for this container (io.containerd.wasmedge.v1, "
     "...wasmtime.v1, ...wasmer.v1, ...wws.v1, ...spin.v2, ...slight.v1, ...lunatic.v1)",
     false},
    {0, "stop-timeout", "int", "Timeout (in seconds) to stop a container", false},
    {0, "tcplisten", "HOST:PORT", "Module files: preopen a listening TCP socket for sock_accept",
     false},
    {0, "timeout", "DURATION", "Module files: interrupt the module after DURATION (e.g. 500ms, 2m)",
     false},
    {'t', "tty", NULL, "Allocate a pseudo-TTY", false},
    {'v', "volume", "list", "Bind mount a volume (HOST:GUEST[:ro])", false},
    {'w', "workdir", "string", "Working directory inside the container", false},
    {0},
};

void wb_cli_run_usage(FILE *out, bool create) {
    const wb_cli_command run = {
        "run",
        "[OPTIONS] IMAGE [COMMAND] [ARG...]\n   or:  wasmbox run [OPTIONS] FILE.wasm [ARGS...]",
        "Create and run a new container from an image, or run a WebAssembly module file", run_flags,
        false};
    const wb_cli_command create_cmd = {"create", "[OPTIONS] IMAGE [COMMAND] [ARG...]",
                                       "Create a new container", run_flags, false};
    wb_cli_usage(create ? &create_cmd : &run, out);
}

static int load_module(const char *path, const wb_config *cfg, wb_module **out) {
    wb_error err;
    if (wb_module_load(cfg, path, out, &err) < 0) {
        if (err.code == WB_EMALFORMED || err.code == WB_EINVALID)
            wb_cli_error("`%s` is not a valid WebAssembly module: %s", path, err.msg);
        else
            wb_cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* The tier the module runs in (--engine; docs/native.md): native code from the cache under the
 * store root when there is some, else the interpreter, compiling in the background for next
 * time. */
static int use_tier(const wb_run_opts *o, wb_module *m) {
    char dir[PATH_MAX];
    wb_error err;
    if (o->engine == WB_ENGINE_INTERP) return 0;
    if (wb_native_cache_dir(wb_cli_root(), dir, sizeof dir, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    wb_native_use u = {.engine = o->engine, .cache_dir = dir, .background = true};
    if (wb_native_use_module(m, &u, &err) < 0) {
        /* the static core cannot compile: wasmbox-full does the whole run (nothing started) */
        if (err.code == ENOENT && wb_cli_is_core() && wb_cli_full_available()) {
            wb_cli_handoff("run --engine native"); /* returns only if the exec failed */
            return -1;
        }
        wb_cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* A hint naming what would provide an import we do not have. */
static const char *import_hint(const char *module) {
    static const struct {
        const char *prefix, *hint;
    } hints[] = {
        {"wasi_snapshot_preview1", "WASI preview1"},
        {"wasi_unstable", "WASI preview0"},
        {"wasi_ephemeral_nn", "wasi-nn, a WasmEdge plugin that wasmbox does not provide"},
        {"wasi_nn", "wasi-nn, a WasmEdge plugin that wasmbox does not provide"},
        {"wasmedge_", "a WasmEdge plugin that wasmbox does not provide"},
        {"wasi:http", "a wasi:http handler: serve it with --runtime=io.containerd.spin.v2"},
        {"wasi:", "WASI preview2 (the component model): run a preview1 core module instead"},
        {"spin", "the Spin application runtime: run it with --runtime=io.containerd.spin.v2"},
        {"fermyon", "the Spin application runtime: run it with --runtime=io.containerd.spin.v2"},
        {"env",
         "no runtime: `env` imports come from the toolchain; link them with --preload env=FILE"},
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (!strncmp(module, hints[i].prefix, strlen(hints[i].prefix))) return hints[i].hint;
    return NULL;
}

static void link_error(const char *path, const wb_module *m, const wb_error *err) {
    /* name the first import the linker could not resolve, with its provider when we know it */
    wb_cli_error("cannot link `%s`: %s", path, err->msg);
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if (strstr(err->msg, im.name) && strstr(err->msg, im.module)) {
            const char *hint = import_hint(im.module);
            if (hint) fprintf(stderr, "  `%s`.`%s` belongs to %s\n", im.module, im.name, hint);
            return;
        }
    }
}

static int exit_for_call_error(wb_store *store, const wb_error *err) {
    const wb_trap_info *t = wb_store_last_trap(store);
    fflush(stdout);
    if (err->code == WB_EEXIT) return t->exit_code;
    if (err->code == WB_ETRAP) {
        char bt[4096];
        wb_trap_format_backtrace(t, bt, sizeof bt);
        fprintf(stderr, "Error: wasm trap: %s\n%s%s", t->message, bt, bt[0] ? "\n" : "");
        return WB_EXIT_TRAP;
    }
    wb_cli_error("%s", err->msg);
    return WB_EXIT_ENGINE;
}

static int invoke(wb_store *store, wb_instance *inst, const char *name, int argc, char **argv) {
    wb_extern ext;
    if (!wb_instance_export(inst, name, strlen(name), &ext) || ext.kind != WB_EXTERN_FUNC) {
        wb_cli_error("the module has no exported function `%s`", name);
        return WB_EXIT_ENGINE;
    }
    const wb_functype *ft = wb_func_type(ext.of.func);
    if ((uint32_t)argc != ft->nparams) {
        wb_cli_error("`%s` takes %u argument%s, %d given", name, ft->nparams,
                     ft->nparams == 1 ? "" : "s", argc);
        return WB_EXIT_ENGINE;
    }
    wb_value *args = wb_calloc(ft->nparams + 1, sizeof *args);
    wb_value *results = wb_calloc(ft->nresults + 1, sizeof *results);
    int rc = 0;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        if (wb_cli_parse_value(argv[i], ft->types[i], &args[i]) < 0) {
            wb_cli_error("argument %u of `%s`: `%s` is not a valid %s", i + 1, name, argv[i],
                         wb_valtype_name(ft->types[i]));
            rc = WB_EXIT_ENGINE;
            goto out;
        }
    }
    wb_error err;
    if (wb_func_call(store, ext.of.func, args, ft->nparams, results, ft->nresults, &err) < 0) {
        rc = exit_for_call_error(store, &err);
        goto out;
    }
    for (uint32_t i = 0; i < ft->nresults; i++) {
        char buf[128];
        wb_value_format(&results[i], buf, sizeof buf);
        puts(buf);
    }
out:
    free(args);
    free(results);
    return rc;
}

/* Instantiate m through the linker, adding WASI functions for its WASI imports. */
static int instantiate(wb_linker *linker, wb_store *store, wb_wasi *wasi, wb_module *m,
                       const char *path, wb_instance **inst) {
    wb_error err;
    if (wasi && wb_wasi_link(wasi, store, linker, m, &err) < 0) {
        link_error(path, m, &err);
        return WB_EXIT_ENGINE;
    }
    if (wb_linker_instantiate(linker, store, m, inst, &err) < 0) {
        if (err.code == WB_ELINK) {
            link_error(path, m, &err);
            return WB_EXIT_ENGINE;
        }
        return exit_for_call_error(store, &err);
    }
    return 0;
}

/* The process settings a WASI guest needs: a closed pipe is EPIPE for the guest, not SIGPIPE for
 * wasmbox; and the guest's descriptor table (4096) should not hit the host's soft limit first. */
static void prepare_process(void) {
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A module file (as opposed to an image name): what looks like a path (image references never
 * start with '/' or '.'), names ending in .wasm, or an existing regular file with a '/'. */
static bool is_module_file(const char *arg) {
    size_t n = strlen(arg);
    if (arg[0] == '/' || arg[0] == '.' || (n > 5 && !strcmp(arg + n - 5, ".wasm"))) return true;
    struct stat st;
    return strchr(arg, '/') && stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

int wb_cmd_run(int argc, char **argv) {
    wb_run_opts o;
    int rc = wb_run_opts_parse(&o, argc, argv);
    if (rc == 1) {
        wb_cli_run_usage(stdout, false);
        wb_run_opts_release(&o);
        return 0;
    }
    if (rc < 0) {
        wb_run_opts_release(&o);
        return WB_EXIT_ENGINE;
    }
    if (!is_module_file(o.path) && !o.dump) {
        rc = wb_run_image(&o);
        wb_run_opts_release(&o);
        return rc;
    }
    if (o.image_only_flag || o.detach) {
        wb_cli_error("%s applies when running an image, not the module file `%s`",
                     o.image_only_flag ? o.image_only_flag : "--detach", o.path);
        wb_run_opts_release(&o);
        return WB_EXIT_ENGINE;
    }

    wb_module *m = NULL;
    wb_module **pre = wb_calloc(o.npreload + 1, sizeof *pre);
    wb_store *store = NULL;
    wb_linker *linker = NULL;
    wb_wasi *wasi = NULL;
    wb_run_timer timer = {0};
    wb_error err;
    rc = WB_EXIT_ENGINE;

    if (load_module(o.path, &o.cfg, &m) < 0) goto out;
    if (o.dump) {
        wb__module_dump(m, stdout);
        rc = 0;
        goto out;
    }
    for (int i = 0; i < o.npreload; i++)
        if (load_module(o.preload[i].path, &o.cfg, &pre[i]) < 0) goto out;
    if (use_tier(&o, m) < 0) goto out;
    for (int i = 0; i < o.npreload; i++)
        if (use_tier(&o, pre[i]) < 0) goto out;

    wb_store_limits lim = {0};
    lim.max_memory = o.max_memory;
    store = wb_store_new(&lim, &err);
    if (!store) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    wb_store_set_fuel(store, o.fuel);
    linker = wb_linker_new();

    bool needs_wasi = wb_wasi_module_uses(m);
    for (int i = 0; i < o.npreload; i++) needs_wasi = needs_wasi || wb_wasi_module_uses(pre[i]);
    if (needs_wasi || o.ndirs || o.nlisten) {
        prepare_process();
        if (wb_run_opts_wasi(&o, &wasi) < 0) goto out;
    }
    for (int i = 0; i < o.npreload; i++) {
        wb_instance *pi;
        if ((rc = instantiate(linker, store, wasi, pre[i], o.preload[i].path, &pi)) != 0) goto out;
        wb_linker_define_instance(linker, o.preload[i].name, pi);
        rc = WB_EXIT_ENGINE;
    }
    if (o.timeout_ns && wb_run_timer_start(&timer, store, o.timeout_ns) < 0) goto out;

    wb_instance *inst;
    if ((rc = instantiate(linker, store, wasi, m, o.path, &inst)) != 0) goto out;
    const char *entry = o.invoke;
    if (!entry) {
        wb_extern start;
        if (!wb_instance_export(inst, "_start", 6, &start)) {
            wb_cli_error("`%s` has no `_start` export: name the function to call with --invoke",
                         o.path);
            rc = WB_EXIT_ENGINE;
            goto out;
        }
        rc = invoke(store, inst, "_start", 0, NULL);
    } else {
        rc = invoke(store, inst, entry, o.nargs, o.args);
    }
out:
    wb_run_timer_stop(&timer);
    fflush(stdout);
    /* the command ends here: exit unmaps the engine's memory at once (wb_leave_to_exit) */
    wb_wasi_free(wasi);
    for (int i = 0; i < o.npreload; i++) wb_leave_to_exit(pre[i], NULL, NULL);
    free(pre);
    wb_leave_to_exit(m, store, linker);
    wb_run_opts_release(&o);
    return rc;
}
