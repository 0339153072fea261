/* Platforms ("os/arch[/variant]") in one place: what users and images write, normalised; the
 * host's; and whether an image's platform is the one wanted. */
#include "oci/platform.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static void lower(char *s) {
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static void normalize_arch(char arch[32], char variant[32]) {
    if (!strcmp(arch, "x86_64") || !strcmp(arch, "x86-64"))
        strcpy(arch, "amd64");
    else if (!strcmp(arch, "aarch64")) {
        strcpy(arch, "arm64");
        if (!strcmp(variant, "v8")) variant[0] = '\0';
    } else if (!strcmp(arch, "i386") || !strcmp(arch, "i686"))
        strcpy(arch, "386");
    else if (!strcmp(arch, "armhf") || !strcmp(arch, "armv7l")) {
        strcpy(arch, "arm");
        if (!variant[0]) strcpy(variant, "v7");
    } else if (!strcmp(arch, "armel")) {
        strcpy(arch, "arm");
        if (!variant[0]) strcpy(variant, "v6");
    }
}

int wb_platform_parse(const char *s, char os[32], char arch[32], char variant[32], wb_error *err) {
    os[0] = arch[0] = variant[0] = '\0';
    if (!s || !*s) return wb_error_set(err, EINVAL, "empty platform");
    if (strchr(s, ','))
        return wb_error_set(err, EINVAL,
                            "\"%s\": building for several platforms at once is not "
                            "supported",
                            s);
    const char *p1 = strchr(s, '/');
    const char *p2 = p1 ? strchr(p1 + 1, '/') : NULL;
    size_t lo = p1 ? (size_t)(p1 - s) : strlen(s);
    size_t la = p1 ? (p2 ? (size_t)(p2 - p1 - 1) : strlen(p1 + 1)) : 0;
    size_t lv = p2 ? strlen(p2 + 1) : 0;
    if (!lo || lo >= 32 || la >= 32 || lv >= 32 || (p1 && !la) ||
        (p2 && (!lv || strchr(p2 + 1, '/'))))
        return wb_error_set(err, EINVAL, "invalid platform \"%s\" (want OS/ARCH[/VARIANT])", s);
    memcpy(os, s, lo);
    os[lo] = '\0';
    if (p1) {
        memcpy(arch, p1 + 1, la);
        arch[la] = '\0';
    }
    if (p2) memcpy(variant, p2 + 1, lv + 1);
    lower(os);
    lower(arch);
    lower(variant);
    for (const char *c = s; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '/' || *c == '_' || *c == '-' || *c == '.'))
            return wb_error_set(err, EINVAL, "invalid platform \"%s\"", s);
    if (!arch[0]) { /* "linux" alone: the host's architecture */
        char ho[32], hv[32];
        wb_platform_host(ho, arch, hv);
        if (!variant[0]) strcpy(variant, hv);
    }
    normalize_arch(arch, variant);
    return 0;
}

void wb_platform_host(char os[32], char arch[32], char variant[32]) {
    struct utsname u;
    strcpy(os, "linux");
    variant[0] = '\0';
    if (uname(&u) != 0) {
        strcpy(arch, "amd64");
        return;
    }
    snprintf(arch, 32, "%.31s", u.machine);
    lower(arch);
    normalize_arch(arch, variant);
}

bool wb_arch_equal(const char *a, const char *b) {
    bool wa = !strcmp(a, "wasm") || !strcmp(a, "wasm32");
    bool wb = !strcmp(b, "wasm") || !strcmp(b, "wasm32");
    return wa && wb ? true : !strcmp(a, b);
}

/* One OS? WASI preview 1 is also written "wasip1" (Spin's images, Go's GOOS). */
static bool os_equal(const char *a, const char *b) {
    bool wa = !strcmp(a, "wasi") || !strcmp(a, "wasip1");
    bool wb = !strcmp(b, "wasi") || !strcmp(b, "wasip1");
    return wa && wb ? true : !strcmp(a, b);
}

bool wb_platform_matches(const char *want_os, const char *want_arch, const char *os,
                         const char *arch) {
    return os_equal(want_os, os) && wb_arch_equal(want_arch, arch);
}
