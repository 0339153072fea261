/* commands.c — what each wast2json command means and when it passes.
 * Assertions count once each; module, register and action commands count only when they fail.
 * The only skip is a text-format (.wat) module in assert_malformed/assert_invalid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest.h"

#define FORMAT_MAX 2048

static const char *code_name(int code) {
    switch (code) {
    case WB_EMALFORMED: return "malformed";
    case WB_EINVALID: return "invalid";
    case WB_ELINK: return "link error";
    case WB_ETRAP: return "trap";
    case WB_EEXIT: return "exit";
    case 0: return "error";
    }
    return "system error";
}

/* The engine's trap message: the store's last trap, or the error text if the store has none. */
static const char *trap_message(const spec_script *s, const wb_error *err) {
    const wb_trap_info *t = wb_store_last_trap(s->store);
    return t && t->kind != WB_TRAP_NONE ? t->message : err->msg;
}

/* The suite's texts and the engine's messages agree up to detail one side adds: ours may say more
 * ("… at offset 12") or the script may ("uninitialized element 2" for our "uninitialized
 * element"), so a word-prefix of the expected text also passes. */
static bool trap_text_matches(const char *ours, const char *expected) {
    if (strstr(ours, expected)) return true;
    size_t n = strlen(ours);
    return n > 0 && strncmp(expected, ours, n) == 0 && expected[n] == ' ';
}

static const char *text_of(const json_t *cmd) {
    const char *text = spec_json_string(cmd, "text", NULL);
    return text ? text : "";
}

/* "$M.name" or "name" (quoted) of an action, for messages. */
static void action_label(const json_t *action, char *buf, size_t size) {
    size_t len = 0;
    const char *field = spec_json_string(action, "field", &len);
    const char *module = spec_json_string(action, "module", NULL);
    char quoted[256];
    spec_name_format(field ? field : "?", field ? len : 1, quoted, sizeof quoted);
    snprintf(buf, size, "%s%s%s", module ? module : "", module ? "." : "", quoted);
}

static void values_format(const wb_value *v, uint32_t n, const json_t *expected, char *buf,
                          size_t size) {
    size_t pos = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && pos + 1 < size; i++) {
        spec_expect e;
        wb_error err;
        /* Show a v128 in the lanes the script expects, when it says. */
        bool shaped = spec_expect_parse(json_array_get(expected, i), &e, &err) == 0 &&
                      e.value.type == WB_V128;
        if (i) pos += (size_t)snprintf(buf + pos, size - pos, " ");
        if (pos + 1 >= size) break;
        spec_value_format(&v[i], shaped ? &e.lanes : NULL, buf + pos, size - pos);
        pos += strlen(buf + pos);
    }
}

static void expects_format(const json_t *expected, char *buf, size_t size) {
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(expected) && pos + 1 < size; i++) {
        spec_expect e;
        wb_error err;
        if (i) pos += (size_t)snprintf(buf + pos, size - pos, " ");
        if (pos + 1 >= size) break;
        if (spec_expect_parse(json_array_get(expected, i), &e, &err) < 0)
            snprintf(buf + pos, size - pos, "<%s>", err.msg);
        else
            spec_expect_format(&e, buf + pos, size - pos);
        pos += strlen(buf + pos);
    }
}

/* ---- modules ---- */

/* Reads and compiles cmd's module. Returns 0, -1 if the engine rejected it (err from the engine),
 * -2 if the file could not be read. */
static int compile(spec_script *s, const json_t *cmd, wb_module **m, wb_error *err) {
    uint8_t *bytes;
    size_t len;
    *m = NULL;
    if (spec_script_read_module(s, cmd, &bytes, &len, err) < 0) return -2;
    int rc = wb_module_new(&s->cfg, bytes, len, m, err);
    free(bytes);
    if (rc == 0 && s->native && wb_module_compile(*m, s->opt_level, 0, err) < 0) {
        /* a valid module the compiler cannot take: a failure of the test, not of the module */
        wb_module_free(*m);
        *m = NULL;
        return -2;
    }
    if (rc < 0) *m = NULL;
    return rc < 0 ? -1 : 0;
}

static void run_module(spec_script *s, const json_t *cmd) {
    wb_error err = {0};
    wb_module *m;
    wb_instance *inst = NULL;
    const char *name = spec_json_string(cmd, "name", NULL);
    int rc = compile(s, cmd, &m, &err);
    if (rc == -2)
        spec_fail(s, cmd, "%s", err.msg);
    else if (rc < 0)
        spec_fail(s, cmd, "compile (%s): %s", code_name(err.code), err.msg);
    else if (wb_linker_instantiate(s->linker, s->store, m, &inst, &err) < 0) {
        inst = NULL;
        spec_fail(s, cmd, "instantiate (%s): %s", code_name(err.code), err.msg);
    }
    if (m) wb_module_free(m);
    /* A failed module leaves no current module (and unbinds its name), so that what follows
     * fails visibly instead of running against an older module. */
    s->current = inst;
    if (name && spec_script_bind(s, name, inst, &err) < 0) spec_fail(s, cmd, "%s", err.msg);
}

static void run_register(spec_script *s, const json_t *cmd) {
    wb_error err = {0};
    size_t len;
    const char *as = spec_json_string(cmd, "as", &len);
    if (!as || len != strlen(as)) {
        spec_fail(s, cmd, "register without a usable \"as\" (the linker takes C strings)");
        return;
    }
    wb_instance *inst = spec_script_instance(s, json_object_get(cmd, "name"), &err);
    if (!inst) {
        spec_fail(s, cmd, "%s", err.msg);
        return;
    }
    wb_linker_define_instance(s->linker, as, inst);
}

/* assert_invalid / assert_malformed: the engine must reject the module. */
static void run_reject(spec_script *s, const json_t *cmd, int want_code) {
    const char *module_type = spec_json_string(cmd, "module_type", NULL);
    if (module_type && strcmp(module_type, "text") == 0) {
        spec_skip(s); /* needs a text-format parser */
        return;
    }
    if (module_type && strcmp(module_type, "binary") != 0) {
        spec_fail(s, cmd, "unknown module_type \"%s\"", module_type);
        return;
    }
    wb_error err = {0};
    wb_module *m;
    int rc = compile(s, cmd, &m, &err);
    if (rc == -2) {
        spec_fail(s, cmd, "%s", err.msg);
    } else if (rc == 0) {
        wb_module_free(m);
        spec_fail(s, cmd, "module compiled; expected %s \"%s\"", code_name(want_code),
                  text_of(cmd));
    } else {
        spec_pass(s);
        if (err.code != want_code)
            spec_note(s, cmd, "expected %s \"%s\", engine said %s: %s", code_name(want_code),
                      text_of(cmd), code_name(err.code), err.msg);
        else if (strncmp(err.msg, text_of(cmd), strlen(text_of(cmd))) != 0)
            spec_note(s, cmd, "expected message \"%s\", engine said: %s", text_of(cmd), err.msg);
    }
}

/* assert_unlinkable (want WB_ELINK) and assert_uninstantiable / module-form assert_trap (want
 * WB_ETRAP): the module compiles, instantiation fails and must not become current. */
static void run_uninstantiable(spec_script *s, const json_t *cmd, int want_code, bool strict) {
    wb_error err = {0};
    wb_module *m;
    wb_instance *inst;
    int rc = compile(s, cmd, &m, &err);
    if (rc == -2) {
        spec_fail(s, cmd, "%s", err.msg);
        return;
    }
    if (rc < 0) {
        spec_fail(s, cmd, "compile (%s): %s", code_name(err.code), err.msg);
        return;
    }
    rc = wb_linker_instantiate(s->linker, s->store, m, &inst, &err);
    wb_module_free(m);
    if (rc == 0) {
        spec_fail(s, cmd, "instantiated; expected %s \"%s\"", code_name(want_code), text_of(cmd));
        return;
    }
    if (want_code == WB_ELINK) {
        spec_pass(s); /* any failure to instantiate will do */
        if (err.code != WB_ELINK)
            spec_note(s, cmd, "expected link error \"%s\", engine said %s: %s", text_of(cmd),
                      code_name(err.code), err.msg);
        return;
    }
    if (err.code != WB_ETRAP) {
        spec_fail(s, cmd, "expected trap \"%s\", engine said %s: %s", text_of(cmd),
                  code_name(err.code), err.msg);
        return;
    }
    const char *ours = trap_message(s, &err);
    if (trap_text_matches(ours, text_of(cmd))) {
        spec_pass(s);
    } else if (strict) {
        spec_fail(s, cmd, "expected trap \"%s\", got trap \"%s\"", text_of(cmd), ours);
    } else {
        spec_pass(s);
        spec_note(s, cmd, "expected trap \"%s\", got trap \"%s\"", text_of(cmd), ours);
    }
}

/* ---- actions ---- */

static void run_action(spec_script *s, const json_t *cmd) {
    wb_error err = {0};
    wb_value *results;
    uint32_t n;
    char label[300];
    const json_t *action = json_object_get(cmd, "action");
    action_label(action, label, sizeof label);
    spec_action_result r = spec_action_run(s, action, &results, &n, &err);
    free(results);
    if (r == SPEC_ACTION_FAILED)
        spec_fail(s, cmd, "%s: %s: %s", label, code_name(err.code), err.msg);
    else if (r == SPEC_ACTION_BROKEN)
        spec_fail(s, cmd, "%s: %s", label, err.msg);
}

static void run_assert_return(spec_script *s, const json_t *cmd) {
    wb_error err = {0};
    wb_value *results;
    uint32_t n;
    char label[300];
    const json_t *action = json_object_get(cmd, "action");
    const json_t *expected = json_object_get(cmd, "expected");
    action_label(action, label, sizeof label);
    spec_action_result r = spec_action_run(s, action, &results, &n, &err);
    if (r == SPEC_ACTION_BROKEN) {
        spec_fail(s, cmd, "%s: %s", label, err.msg);
        return;
    }
    if (r == SPEC_ACTION_FAILED) {
        spec_fail(s, cmd, "%s: %s: %s", label, code_name(err.code), err.msg);
        return;
    }
    bool ok = json_is_array(expected) && json_array_size(expected) == n;
    for (uint32_t i = 0; ok && i < n; i++) {
        spec_expect e;
        if (spec_expect_parse(json_array_get(expected, i), &e, &err) < 0) {
            spec_fail(s, cmd, "%s: expected result %u: %s", label, i, err.msg);
            free(results);
            return;
        }
        ok = spec_expect_matches(&e, &results[i]);
    }
    if (ok) {
        spec_pass(s);
    } else {
        char *want = malloc(FORMAT_MAX), *got = malloc(FORMAT_MAX);
        if (want && got) {
            expects_format(expected, want, FORMAT_MAX);
            values_format(results, n, expected, got, FORMAT_MAX);
        }
        spec_fail(s, cmd, "%s: expected (%s), got (%s)", label, want && got ? want : "?",
                  want && got ? got : "?");
        free(want);
        free(got);
    }
    free(results);
}

/* assert_trap with an action, and assert_exhaustion: the call must trap with the given text. */
static void run_assert_trap(spec_script *s, const json_t *cmd) {
    const json_t *action = json_object_get(cmd, "action");
    if (!action && json_object_get(cmd, "filename")) {
        run_uninstantiable(s, cmd, WB_ETRAP, true);
        return;
    }
    wb_error err = {0};
    wb_value *results;
    uint32_t n;
    char label[300];
    action_label(action, label, sizeof label);
    spec_action_result r = spec_action_run(s, action, &results, &n, &err);
    if (r == SPEC_ACTION_BROKEN) {
        spec_fail(s, cmd, "%s: %s", label, err.msg);
    } else if (r == SPEC_ACTION_OK) {
        char *got = malloc(FORMAT_MAX);
        if (got) values_format(results, n, NULL, got, FORMAT_MAX);
        spec_fail(s, cmd, "%s: expected trap \"%s\", returned (%s)", label, text_of(cmd),
                  got ? got : "?");
        free(got);
    } else if (err.code != WB_ETRAP) {
        spec_fail(s, cmd, "%s: expected trap \"%s\", got %s: %s", label, text_of(cmd),
                  code_name(err.code), err.msg);
    } else if (!trap_text_matches(trap_message(s, &err), text_of(cmd))) {
        spec_fail(s, cmd, "%s: expected trap \"%s\", got trap \"%s\"", label, text_of(cmd),
                  trap_message(s, &err));
    } else {
        spec_pass(s);
    }
    free(results);
}

/* ---- dispatch ---- */

static void run_assert_invalid(spec_script *s, const json_t *cmd) {
    run_reject(s, cmd, WB_EINVALID);
}
static void run_assert_malformed(spec_script *s, const json_t *cmd) {
    run_reject(s, cmd, WB_EMALFORMED);
}
static void run_assert_unlinkable(spec_script *s, const json_t *cmd) {
    run_uninstantiable(s, cmd, WB_ELINK, false);
}
static void run_assert_uninstantiable(spec_script *s, const json_t *cmd) {
    run_uninstantiable(s, cmd, WB_ETRAP, false);
}

static const struct {
    const char *type;
    void (*run)(spec_script *s, const json_t *cmd);
} commands[] = {
    {"module", run_module},
    {"register", run_register},
    {"action", run_action},
    {"assert_return", run_assert_return},
    {"assert_trap", run_assert_trap},
    {"assert_exhaustion", run_assert_trap},
    {"assert_invalid", run_assert_invalid},
    {"assert_malformed", run_assert_malformed},
    {"assert_unlinkable", run_assert_unlinkable},
    {"assert_uninstantiable", run_assert_uninstantiable},
};

void spec_command_run(spec_script *s, const json_t *cmd) {
    const char *type = spec_json_string(cmd, "type", NULL);
    if (!type) {
        spec_fail(s, cmd, "command without a \"type\"");
        return;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(type, commands[i].type) == 0) {
            commands[i].run(s, cmd);
            return;
        }
    }
    spec_fail(s, cmd, "unknown command type \"%s\"", type);
}
