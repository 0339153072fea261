/* `wasmbox run [--invoke NAME] FILE.wasm [ARGS...]`: load a module, instantiate it and call an
 * export, printing each result on its own line. Modules that need WASI come with the WASI layer;
 * until then they are refused with a message naming the missing import. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "wasm/wasm.h"

/* engine-internal: listing of the lowered code */
void wb__module_dump(const wb_module *m, FILE *out);

#define MAX_MODULE_SIZE ((size_t)1 << 30)

static void run_usage(FILE *out) {
    fputs("Usage:  wasmbox run [OPTIONS] FILE.wasm [ARGS...]\n"
          "\n"
          "Run a WebAssembly module\n"
          "\n"
          "Options:\n"
          "      --invoke NAME     Call the exported function NAME with ARGS and print its results\n"
          "      --fuel N          Trap after N loop iterations and calls\n"
          "      --bounds-checks   Check memory accesses explicitly instead of using guard pages\n"
          "      --dump-code       Print the internal code of every function and exit\n",
          out);
}

static int read_file(const char *path, uint8_t **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_MODULE_SIZE) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        fclose(f);
        errno = e;
        return -1;
    }
    uint8_t *buf = wb_malloc((size_t)st.st_size + 1);
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (n != (size_t)st.st_size) {
        free(buf);
        errno = EIO;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Parse a command-line argument as a value of type t. */
static int parse_arg(const char *s, uint8_t t, wb_value *v) {
    char *end = NULL;
    memset(v, 0, sizeof *v);
    v->type = t;
    errno = 0;
    switch (t) {
    case WB_I32: {
        long long x = strtoll(s, &end, 0);
        if (x < INT32_MIN || x > UINT32_MAX) return -1;
        v->of.i32 = (int32_t)(uint32_t)x;
        break;
    }
    case WB_I64: {
        if (s[0] == '-') {
            v->of.i64 = strtoll(s, &end, 0);
        } else {
            v->of.i64 = (int64_t)strtoull(s, &end, 0);
        }
        break;
    }
    case WB_F32: {
        float f = strtof(s, &end);
        memcpy(&v->of.f32, &f, 4);
        break;
    }
    case WB_F64: {
        double d = strtod(s, &end);
        memcpy(&v->of.f64, &d, 8);
        break;
    }
    default: return -1;
    }
    if (errno || !end || *end || end == s) return -1;
    return 0;
}

static int exit_for_call_error(wb_store *store, const wb_error *err) {
    const wb_trap_info *t = wb_store_last_trap(store);
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
        if (parse_arg(argv[i], ft->types[i], &args[i]) < 0) {
            wb_cli_error("argument %u of `%s`: `%s` is not a valid %s", i + 1, name, argv[i],
                         ft->types[i] == WB_I32   ? "i32"
                         : ft->types[i] == WB_I64 ? "i64"
                         : ft->types[i] == WB_F32 ? "f32"
                         : ft->types[i] == WB_F64 ? "f64"
                                                  : "value of this type");
            rc = WB_EXIT_ENGINE;
            goto out;
        }
    }
    wb_error err;
    if (wb_func_call(store, ext.of.func, args, ft->nparams, results, ft->nresults, &err) < 0) {
        fflush(stdout);
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

int wb_cmd_run(int argc, char **argv) {
    const char *invoke_name = NULL;
    bool dump = false;
    int64_t fuel = -1;
    wb_config cfg = {0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--invoke") || !strncmp(a, "--invoke=", 9)) {
            if (a[8] == '=') invoke_name = a + 9;
            else if (i + 1 < argc) invoke_name = argv[++i];
            else {
                wb_cli_error("flag needs an argument: --invoke");
                return WB_EXIT_ENGINE;
            }
        } else if (!strcmp(a, "--fuel") || !strncmp(a, "--fuel=", 7)) {
            const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
            char *end;
            if (!v || (fuel = strtoll(v, &end, 10), *end) || fuel < 0) {
                wb_cli_error("invalid argument for --fuel: expected a non-negative integer");
                return WB_EXIT_ENGINE;
            }
            cfg.interruptible = true;
        } else if (!strcmp(a, "--dump-code")) {
            dump = true;
        } else if (!strcmp(a, "--bounds-checks")) {
            cfg.bounds_checks = true;
        } else {
            wb_cli_error("unknown flag: %s\nSee 'wasmbox run --help'.", a);
            return WB_EXIT_ENGINE;
        }
    }
    if (i >= argc) {
        wb_cli_error("\"wasmbox run\" requires at least 1 argument.\nSee 'wasmbox run --help'.");
        return WB_EXIT_ENGINE;
    }
    const char *path = argv[i++];
    uint8_t *bytes;
    size_t len;
    if (read_file(path, &bytes, &len) < 0) {
        wb_cli_error("read `%s`: %s", path, strerror(errno));
        return WB_EXIT_ENGINE;
    }
    wb_error err;
    wb_module *m;
    int rc = WB_EXIT_ENGINE;
    if (wb_module_new(&cfg, bytes, len, &m, &err) < 0) {
        free(bytes);
        wb_cli_error("`%s` is not a valid WebAssembly module: %s", path, err.msg);
        return WB_EXIT_ENGINE;
    }
    free(bytes);
    if (dump) {
        wb__module_dump(m, stdout);
        wb_module_free(m);
        return 0;
    }
    wb_store *store = wb_store_new(NULL, &err);
    if (!store) {
        wb_module_free(m);
        wb_cli_error("%s", err.msg);
        return WB_EXIT_ENGINE;
    }
    wb_store_set_fuel(store, fuel);
    wb_linker *linker = wb_linker_new();
    wb_instance *inst;
    if (wb_module_import_count(m) > 0) {
        wb_import_info im;
        wb_module_import(m, 0, &im);
        wb_cli_error("`%s` imports `%s`.`%s`: host imports such as WASI are not available yet; "
                     "only self-contained modules run",
                     path, im.module, im.name);
        goto out;
    }
    if (wb_linker_instantiate(linker, store, m, &inst, &err) < 0) {
        rc = exit_for_call_error(store, &err);
        goto out;
    }
    if (!invoke_name) {
        wb_extern start;
        if (!wb_instance_export(inst, "_start", 6, &start)) {
            wb_cli_error("`%s` has no `_start` export: name the function to call with --invoke",
                         path);
            goto out;
        }
        invoke_name = "_start";
    }
    rc = invoke(store, inst, invoke_name, argc - i, argv + i);
out:
    wb_linker_free(linker);
    wb_store_free(store);
    wb_module_free(m);
    return rc;
}
