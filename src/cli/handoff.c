/* The static core hands commands to wasmbox-full (docs/binaries.md): the same program linked
 * dynamically, which can load libcurl, libcrypto and libarchive. The hand-off is an exec of the
 * original command line, made before the command has changed anything, so the full program does
 * the whole command as if it had been called first. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/dynlib.h"
#include "base/fsutil.h"
#include "cli/cli.h"

/* Process-wide (documented exception to "no mutable globals"): main's argv, set once. */
static char **saved_argv;

void wb_cli_handoff_init(char **argv) {
    saved_argv = argv;
}

bool wb_cli_is_core(void) {
    return !wb_dynlib_loadable();
}

/* wasmbox-full beside this program: its path in full (PATH_MAX + 32 bytes); false if none. */
static bool full_path(char *full, size_t size) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    return wb_path_join(full, size, NULL, "%s/wasmbox-full", slash ? self : ".") == 0;
}

bool wb_cli_full_available(void) {
    char full[PATH_MAX + 32];
    return full_path(full, sizeof full) && access(full, X_OK) == 0;
}

int wb_cli_handoff(const char *what) {
    char full[PATH_MAX + 32];
    if (!full_path(full, sizeof full)) {
        wb_cli_error("%s needs wasmbox-full, but /proc/self/exe cannot be read: %s", what,
                     strerror(errno));
        return WB_EXIT_ENGINE;
    }
    fflush(stdout);
    fflush(stderr);
    execv(full, saved_argv);
    wb_cli_error("%s needs %s (the wasmbox that loads libcurl, libcrypto and libarchive): %s", what,
                 full, strerror(errno));
    return WB_EXIT_ENGINE;
}
