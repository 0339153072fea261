/* compiler/objlink.h — joins the relocatable objects of a module compiled in partitions into one
 * (a minimal `ld -r`), so that the cache and the loader (wasm/native_obj.c) see one object as
 * before. Internal to the compiler tier: its inputs are objects LLVM just emitted, not untrusted
 * files, but every index in them is still checked. */
#ifndef WB_COMPILER_OBJLINK_H
#define WB_COMPILER_OBJLINK_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* One object of n x86-64 ELF64 ET_REL objects: their sections side by side, one symbol table
 * (the locals of each, then the globals; an undefined global that another object defines is
 * bound to that definition), relocations renumbered. Address-significance tables are dropped.
 * A global defined twice is an error. On success *out is malloc'd and owned by the caller. */
int wb__obj_link(const uint8_t *const *objs, const size_t *lens, size_t n, uint8_t **out,
                 size_t *out_len, wb_error *err);

#endif
