/* script.c — the state of one script (one JSON file): its store, its linker and the instances
 * commands refer to by name or as "the current module", and the actions that call into them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spectest.h"

void spec_script_init(spec_script *s, const char *dir, const char *name, const char *source,
                      bool verbose) {
    memset(s, 0, sizeof *s);
    s->dir = dir;
    s->name = name;
    s->source = source;
    s->verbose = verbose;
}

int spec_script_open(spec_script *s, wb_error *err) {
    s->store = wb_store_new(NULL, err);
    if (!s->store) return wb_error_wrap(err, "create store");
    s->linker = wb_linker_new();
    if (!s->linker) return wb_error_set(err, ENOMEM, "create linker");
    if (wb_spectest_define(s->linker, s->store, err) < 0)
        return wb_error_wrap(err, "define module \"spectest\"");
    return 0;
}

void spec_script_release(spec_script *s) {
    for (size_t i = 0; i < s->nnamed; i++) free(s->named[i].name);
    free(s->named);
    /* The linker only names externs that live in the store, so it goes first. */
    if (s->linker) wb_linker_free(s->linker);
    if (s->store) wb_store_free(s->store);
    s->named = NULL;
    s->nnamed = s->named_cap = 0;
    s->linker = NULL;
    s->store = NULL;
    s->current = NULL;
}

int spec_script_bind(spec_script *s, const char *name, wb_instance *inst, wb_error *err) {
    for (size_t i = 0; i < s->nnamed; i++) {
        if (strcmp(s->named[i].name, name) == 0) {
            s->named[i].inst = inst;
            return 0;
        }
    }
    if (s->nnamed == s->named_cap) {
        size_t cap = s->named_cap ? 2 * s->named_cap : 8;
        spec_named *grown = realloc(s->named, cap * sizeof *grown);
        if (!grown) return wb_error_set(err, ENOMEM, "out of memory");
        s->named = grown;
        s->named_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return wb_error_set(err, ENOMEM, "out of memory");
    s->named[s->nnamed++] = (spec_named){copy, inst};
    return 0;
}

wb_instance *spec_script_instance(spec_script *s, const json_t *name, wb_error *err) {
    if (!name) {
        if (!s->current) wb_error_set(err, 0, "no current module (none yet, or the last failed)");
        return s->current;
    }
    if (!json_is_string(name)) {
        wb_error_set(err, 0, "module name is not a string");
        return NULL;
    }
    for (size_t i = 0; i < s->nnamed; i++) {
        if (strcmp(s->named[i].name, json_string_value(name)) != 0) continue;
        if (!s->named[i].inst)
            wb_error_set(err, 0, "module %s failed to instantiate", s->named[i].name);
        return s->named[i].inst;
    }
    wb_error_set(err, 0, "unknown module %s", json_string_value(name));
    return NULL;
}

int spec_script_read_module(spec_script *s, const json_t *cmd, uint8_t **bytes, size_t *len,
                            wb_error *err) {
    size_t name_len;
    const char *file = spec_json_string(cmd, "filename", &name_len);
    *bytes = NULL;
    *len = 0;
    if (!file || name_len != strlen(file) || file[0] == '\0')
        return wb_error_set(err, 0, "command without a usable \"filename\"");
    char *path;
    if (file[0] == '/')
        path = strdup(file);
    else if (asprintf(&path, "%s/%s", s->dir, file) < 0)
        path = NULL;
    if (!path) return wb_error_set(err, ENOMEM, "out of memory");

    int rc = -1;
    struct stat st;
    uint8_t *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        wb_error_sys(err, "open `%s`", path);
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        wb_error_sys(err, "stat `%s`", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SPEC_MODULE_MAX) {
        wb_error_set(err, EFBIG, "`%s` is not a regular file of at most %zu bytes", path,
                     SPEC_MODULE_MAX);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = malloc(size ? size : 1);
    if (!buf) {
        wb_error_set(err, ENOMEM, "out of memory reading `%s`", path);
        goto out;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wb_error_sys(err, "read `%s`", path);
            goto out;
        }
        if (n == 0) {
            wb_error_set(err, EIO, "read `%s`: file shrank", path);
            goto out;
        }
        got += (size_t)n;
    }
    *bytes = buf;
    *len = size;
    buf = NULL;
    rc = 0;
out:
    if (fd >= 0) close(fd);
    free(buf);
    free(path);
    return rc;
}

static spec_action_result get_global(wb_extern *ext, wb_value **results, uint32_t *nresults,
                                     wb_error *err) {
    *results = calloc(1, sizeof **results);
    if (!*results) return wb_error_set(err, ENOMEM, "out of memory"), SPEC_ACTION_BROKEN;
    (*results)[0] = wb_global_get(ext->of.global);
    *nresults = 1;
    return SPEC_ACTION_OK;
}

/* Parses "args" against f's parameter types into *args (caller frees). */
static int args_parse(const json_t *action, const wb_functype *type, wb_value **args,
                      wb_error *err) {
    const json_t *list = json_object_get(action, "args");
    size_t n = list ? json_array_size(list) : 0;
    *args = NULL;
    if (list && !json_is_array(list)) return wb_error_set(err, 0, "\"args\" is not an array");
    if (n != type->nparams)
        return wb_error_set(err, 0, "function takes %u arguments, script passes %zu", type->nparams,
                            n);
    *args = calloc(n ? n : 1, sizeof **args);
    if (!*args) return wb_error_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (spec_value_parse(json_array_get(list, i), &(*args)[i], NULL, err) < 0)
            return wb_error_wrap(err, "argument %zu", i);
        if ((*args)[i].type != type->types[i]) {
            const char *want = spec_type_name(type->types[i]);
            return wb_error_set(err, 0, "argument %zu is %s, the parameter %s", i,
                                spec_type_name((*args)[i].type), want ? want : "another type");
        }
    }
    return 0;
}

static spec_action_result invoke(spec_script *s, const json_t *action, wb_extern *ext,
                                 wb_value **results, uint32_t *nresults, wb_error *err) {
    const wb_functype *type = wb_func_type(ext->of.func);
    if (!type) return wb_error_set(err, 0, "export has no function type"), SPEC_ACTION_BROKEN;
    if (type->nparams > SPEC_VALUES_MAX || type->nresults > SPEC_VALUES_MAX)
        return wb_error_set(err, 0, "function has over %u params or results", SPEC_VALUES_MAX),
               SPEC_ACTION_BROKEN;
    wb_value *args;
    if (args_parse(action, type, &args, err) < 0) {
        free(args);
        return SPEC_ACTION_BROKEN;
    }
    wb_value *values = calloc(type->nresults ? type->nresults : 1, sizeof *values);
    if (!values) {
        free(args);
        return wb_error_set(err, ENOMEM, "out of memory"), SPEC_ACTION_BROKEN;
    }
    int rc = wb_func_call(s->store, ext->of.func, args, type->nparams, values, type->nresults, err);
    free(args);
    if (rc < 0) {
        free(values);
        return SPEC_ACTION_FAILED;
    }
    *results = values;
    *nresults = type->nresults;
    return SPEC_ACTION_OK;
}

spec_action_result spec_action_run(spec_script *s, const json_t *action, wb_value **results,
                                   uint32_t *nresults, wb_error *err) {
    *results = NULL;
    *nresults = 0;
    const char *kind = spec_json_string(action, "type", NULL);
    size_t field_len;
    const char *field = spec_json_string(action, "field", &field_len);
    if (!kind || !field)
        return wb_error_set(err, 0, "action without type or field"), SPEC_ACTION_BROKEN;
    bool is_get = strcmp(kind, "get") == 0;
    if (!is_get && strcmp(kind, "invoke") != 0)
        return wb_error_set(err, 0, "unknown action \"%s\"", kind), SPEC_ACTION_BROKEN;

    wb_instance *inst = spec_script_instance(s, json_object_get(action, "module"), err);
    if (!inst) return SPEC_ACTION_BROKEN;
    wb_extern ext;
    char quoted[256];
    if (!wb_instance_export(inst, field, field_len, &ext)) {
        spec_name_format(field, field_len, quoted, sizeof quoted);
        return wb_error_set(err, 0, "no export %s", quoted), SPEC_ACTION_BROKEN;
    }
    uint8_t want = is_get ? WB_EXTERN_GLOBAL : WB_EXTERN_FUNC;
    if (ext.kind != want) {
        spec_name_format(field, field_len, quoted, sizeof quoted);
        return wb_error_set(err, 0, "export %s is not a %s", quoted,
                            is_get ? "global" : "function"),
               SPEC_ACTION_BROKEN;
    }
    if (is_get) return get_global(&ext, results, nresults, err);
    return invoke(s, action, &ext, results, nresults, err);
}
