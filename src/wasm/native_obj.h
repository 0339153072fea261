/* wasm/native_obj.h — our own loader of x86-64 ELF64 relocatable objects (ET_REL), as LLVM emits
 * them for the compiler tier (reloc model PIC, code model small): it maps the object's sections,
 * applies its relocations, and answers symbol queries. It serves the static core, which has no
 * libLLVM and no dynamic loader. The object may come from a cache file anyone could have
 * altered, so it is parsed as hostile input: a bad object is refused, never a crash.
 *
 * Loading: every SHF_ALLOC section of type PROGBITS or NOBITS goes into one private mapping of
 * at most WB_NATIVE_OBJ_MAX_MAP bytes, in three page-aligned groups, whose protections are set
 * after relocation: code (read+execute), read-only data (read; also the GOT) and writable data
 * (read+write, .data and .bss). Other sections (.comment, .note.*, .llvm_addrsig, debug info,
 * .eh_frame) are not loaded, and relocations of sections not loaded are ignored. Relocations:
 * SHT_RELA of types R_X86_64_NONE, 64, PC32, PLT32, 32, 32S, PC64, GOTPCREL, GOTPCRELX and
 * REX_GOTPCRELX; a GOT for symbols reached through the GOT, and for calls and jumps to undefined
 * symbols more than +-2 GiB away a 16-byte stub in the code group (jmp *0(%rip); .quad target).
 * Not supported (refused): SHT_REL, TLS, COMMON symbols, IFUNCs, constructors (.init_array),
 * section alignments above the page size, any other relocation type.
 *
 * Errors: -1 with err->code EINVAL and one line starting "native code: " naming the fault
 * (ENOMEM and the same prefix when memory or the mapping cannot be had). */
#ifndef WB_WASM_NATIVE_OBJ_H
#define WB_WASM_NATIVE_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define WB_NATIVE_OBJ_MAX_MAP (1u << 30) /* bytes mapped for one object, at most */

typedef struct wb_native_obj wb_native_obj;

/* Gives the address of an undefined symbol, NULL when unknown (then the load fails with
 * "native code: unresolved symbol NAME", except for weak symbols, which become 0). Called once
 * per undefined symbol during wb_native_obj_load, with the env given to it. */
typedef void *(*wb_native_resolver)(void *env, const char *name);

/* Load the object elf[0..len): on success *out is a new object (the caller frees it with
 * wb_native_obj_free) and returns 0; the object keeps no pointer into elf, which the caller
 * still owns. On failure -1, err filled, *out untouched, nothing left mapped or allocated.
 * resolve may be NULL when the object has no undefined symbols. */
int wb_native_obj_load(const uint8_t *elf, size_t len, wb_native_resolver resolve, void *env,
                       wb_native_obj **out, wb_error *err);
/* Unmap and free (NULL is a no-op). No code of the object may be running or called later. */
void wb_native_obj_free(wb_native_obj *o);

/* The address of the defined symbol `name` (local or global; FUNC, OBJECT or NOTYPE, not
 * SECTION or FILE), NULL if there is none; a global wins over a local of the same name.
 * O(log n). */
void *wb_native_obj_symbol(const wb_native_obj *o, const char *name);

/* The defined FUNC symbols in code sections, sorted by address: how many, and the i-th (i below
 * that count; *name points into o, valid until wb_native_obj_free). Any of the out pointers may
 * be NULL. */
size_t wb_native_obj_nsymbols(const wb_native_obj *o);
void wb_native_obj_symbol_at(const wb_native_obj *o, size_t i, const char **name, uintptr_t *addr,
                             size_t *size);

/* Whether pc lies in the object's code group (its code and its stubs). Async-signal-safe: reads
 * only what the load wrote; no locks, no allocation. */
bool wb_native_obj_contains(const wb_native_obj *o, uintptr_t pc);
/* The name of the FUNC symbol whose [st_value, st_value + st_size) covers pc, NULL if none
 * (the string belongs to o). Async-signal-safe, O(log n). */
const char *wb_native_obj_func_at(const wb_native_obj *o, uintptr_t pc);

#endif
