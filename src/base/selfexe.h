/* base/selfexe.h — where the program that can do everything is: the static core hands work that
 * needs a library (libcurl, libcrypto, libarchive, libcap, libseccomp, LLVM) to wasmbox-full
 * beside it (docs/binaries.md). Defined in base/dynlib.c, without pulling those libraries'
 * headers into the modules that only need the path. */
#ifndef WB_BASE_SELFEXE_H
#define WB_BASE_SELFEXE_H

#include <stdbool.h>
#include <stddef.h>

/* This program's own path when it can load the libraries (wasmbox-full itself), else
 * wasmbox-full beside it (in the directory of /proc/self/exe). False when there is none (not
 * executable, or the path does not fit in size bytes). */
bool wb_full_program(char *buf, size_t size);

#endif
