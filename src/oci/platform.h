/* oci/platform.h — platforms ("os/arch[/variant]") in one place: parsing and normalising what
 * users and images write (x86_64 is amd64, aarch64 arm64, ...), the host's, and matching an
 * image's platform against the one wanted (wasm and wasm32 are one architecture; variants are
 * not told apart). */
#ifndef WB_OCI_PLATFORM_H
#define WB_OCI_PLATFORM_H

#include <stdbool.h>

#include "base/error.h"

/* "linux/amd64", "wasi/wasm", "linux/arm64/v8", "linux" (the host's architecture): lower-cased
 * and normalised into os, arch and variant; a list of several fails. */
int wb_platform_parse(const char *s, char os[32], char arch[32], char variant[32], wb_error *err);
/* The host's: linux and uname's machine, normalised. */
void wb_platform_host(char os[32], char arch[32], char variant[32]);

/* One architecture? (wasm = wasm32) */
bool wb_arch_equal(const char *a, const char *b);
/* Is os/arch (an image's or an index entry's) the wanted os/arch? (wasi = wasip1, wasm =
 * wasm32) */
bool wb_platform_matches(const char *want_os, const char *want_arch, const char *os,
                         const char *arch);

#endif
