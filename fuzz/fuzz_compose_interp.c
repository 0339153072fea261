/* libFuzzer target for Compose interpolation and .env files (src/compose/interp.c, dotenv.c). The
 * first byte picks the parser (even: wb_interp, odd: wb_dotenv_parse) and which variables are set;
 * the rest is the value or the file. Checked beyond "no crash": a success gives a string no longer
 * than the limit, a failure leaves nothing behind, and a parsed file holds distinct, non-empty
 * names with values whose sizes add up within the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/dotenv.h"
#include "compose/interp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"A", "B", "EMPTY", "FOO", "LONG", "DOLLAR"};
static const char *const values[] = {"a", "b$A", "", "first", "0123456789abcdef", "$${X:-}"};

/* the variables whose bit is set in the selector are set */
static const char *lookup(void *ctx, const char *name) {
    unsigned set = *(const unsigned *)ctx;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((set >> i & 1) && strcmp(name, names[i]) == 0) return values[i];
    return NULL;
}

static void unset(void *ctx, const char *name) {
    (void)ctx;
    if (!name[0]) abort(); /* a reported name is never empty */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned set = data[0] >> 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    wb_error err;
    if (data[0] & 1) {
        char *copy = malloc(len ? len : 1); /* exactly sized: any overread is caught */
        if (!copy) return 0;
        memcpy(copy, text, len);
        wb_dotenv env = {(char **)1, (char **)1, 99};
        if (wb_dotenv_parse(copy, len, "fuzz.env", lookup, &set, &env, &err) == 0) {
            size_t total = 0;
            for (size_t i = 0; i < env.n; i++) {
                if (!env.names[i][0] || wb_dotenv_get(&env, env.names[i]) != env.values[i])
                    abort(); /* empty or repeated name */
                total += strlen(env.values[i]);
            }
            if (total > WB_DOTENV_MAX_VALUES) abort();
        } else if (env.n || env.names || env.values || !err.msg[0]) {
            abort();
        }
        wb_dotenv_free(&env);
        free(copy);
        return 0;
    }
    char *in = malloc(len + 1);
    if (!in) return 0;
    memcpy(in, text, len);
    in[len] = '\0'; /* a NUL inside ends the value early, as for any C string */
    char *out = (char *)1;
    if (wb_interp(in, lookup, &set, unset, &out, &err) == 0) {
        if (!out || strlen(out) > WB_INTERP_MAX_OUTPUT) abort();
        free(out);
    } else if (out || !err.msg[0]) {
        abort();
    }
    free(in);
    return 0;
}
