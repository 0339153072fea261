/* libFuzzer target for the native code loader (src/wasm/native_obj.c): the input is an x86-64
 * ELF relocatable object, as a cache file would hold. Undefined symbols resolve to a dummy
 * address (far from the mapping, so calls get stubs), except names starting with 'u', which stay
 * unresolved. A loaded object is queried (every FUNC symbol by name and by address) and freed;
 * its code is never run. A crash, a sanitizer report or an inconsistent answer is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/native_obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *resolve(void *env, const char *name) {
    return name[0] == 'u' ? NULL : env;
}

static void query(const wb_native_obj *o) {
    for (size_t i = 0; i < wb_native_obj_nsymbols(o); i++) {
        const char *name;
        uintptr_t addr;
        size_t len;
        wb_native_obj_symbol_at(o, i, &name, &addr, &len);
        /* an unnamed symbol (name offset at a NUL) cannot be looked up by name */
        if (!name || (name[0] && !wb_native_obj_symbol(o, name)) ||
            !wb_native_obj_contains(o, addr))
            abort();
        if (len && !wb_native_obj_func_at(o, addr)) abort();
    }
    if (wb_native_obj_func_at(o, 0) || wb_native_obj_contains(o, 0)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *elf = malloc(size ? size : 1); /* exactly sized: any overread is caught */
    if (!elf) return 0;
    memcpy(elf, data, size);
    wb_native_obj *o = NULL;
    wb_error err;
    if (wb_native_obj_load(elf, size, resolve, (void *)(uintptr_t)0x10000, &o, &err) == 0) {
        query(o);
        wb_native_obj_free(o);
    } else if (strncmp(err.msg, "native code: ", 13) != 0 || strchr(err.msg, '\n')) {
        abort();
    }
    free(elf);
    return 0;
}
