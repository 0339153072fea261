#include "base/dynlib.h"

#ifndef WB_STATIC_CORE
#include <dlfcn.h>
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Each table is filled once (pthread_once) and read-only afterwards; a failure is remembered
 * with its message. */
static wb_libarchive archive_fns;
static wb_libcrypto crypto_fns;
static wb_libcurl curl_fns;
static char archive_err[WB_ERROR_MSG_MAX], crypto_err[WB_ERROR_MSG_MAX], curl_err[WB_ERROR_MSG_MAX];
static pthread_once_t archive_once = PTHREAD_ONCE_INIT, crypto_once = PTHREAD_ONCE_INIT,
                      curl_once = PTHREAD_ONCE_INIT;

#ifdef WB_STATIC_CORE
/* The static core (build/wasmbox) can load no library: the commands that need one are handed to
 * wasmbox-full before they do anything (src/cli/handoff.c), so getting here is a routing bug,
 * reported as such rather than as a missing package. */
static void refuse(char *why, const char *lib) {
    snprintf(why, WB_ERROR_MSG_MAX,
             "internal error: %s is needed, but the static wasmbox loads no library (this "
             "command should have been handed to wasmbox-full)",
             lib);
}
static void load_archive(void) {
    refuse(archive_err, "libarchive");
}
static void load_crypto(void) {
    refuse(crypto_err, "libcrypto");
}
static void load_curl(void) {
    refuse(curl_err, "libcurl");
}

bool wb_dynlib_loadable(void) {
    return false;
}
#else
static void *open_first(const char *const *names, char *why, size_t size) {
    for (const char *const *n = names; *n; n++) {
        void *h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
        if (h) return h;
    }
    snprintf(why, size, "cannot load %s: %s (install the Debian package that provides it)",
             names[0], dlerror());
    return NULL;
}

#define WB_DYNLIB_RESOLVE(name)                                                                    \
    if (!why[0] && !(fns->name = (__typeof__(&name))dlsym(h, #name)))                              \
        snprintf(why, WB_ERROR_MSG_MAX, "%s lacks %s", lib, #name);

static void load_archive(void) {
    static const char *const names[] = {"libarchive.so.13", "libarchive.so", NULL};
    const char *lib = names[0];
    char *why = archive_err;
    wb_libarchive *fns = &archive_fns;
    void *h = open_first(names, why, WB_ERROR_MSG_MAX);
    if (!h) return;
    WB_LIBARCHIVE_FUNCS(WB_DYNLIB_RESOLVE)
}

static void load_crypto(void) {
    static const char *const names[] = {"libcrypto.so.3", "libcrypto.so", NULL};
    const char *lib = names[0];
    char *why = crypto_err;
    wb_libcrypto *fns = &crypto_fns;
    void *h = open_first(names, why, WB_ERROR_MSG_MAX);
    if (!h) return;
    WB_LIBCRYPTO_FUNCS(WB_DYNLIB_RESOLVE)
}

static void load_curl(void) {
    /* the OpenSSL flavour (libcurl4); the GnuTLS one has the same ABI */
    static const char *const names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", NULL};
    const char *lib = names[0];
    char *why = curl_err;
    wb_libcurl *fns = &curl_fns;
    void *h = open_first(names, why, WB_ERROR_MSG_MAX);
    if (!h) return;
    WB_LIBCURL_FUNCS(WB_DYNLIB_RESOLVE)
    if (why[0]) return;
    CURLcode (*global_init)(long) = (CURLcode(*)(long))dlsym(h, "curl_global_init");
    if (!global_init || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        snprintf(why, WB_ERROR_MSG_MAX, "%s: curl_global_init failed", lib);
}

bool wb_dynlib_loadable(void) {
    return true;
}
#endif

bool wb_full_program(char *buf, size_t size) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return false;
    self[n] = '\0';
    if (wb_dynlib_loadable()) return snprintf(buf, size, "%s", self) < (int)size;
    char *slash = strrchr(self, '/');
    if (!slash) return false;
    *slash = '\0';
    if (snprintf(buf, size, "%s/wasmbox-full", self) >= (int)size) return false;
    return access(buf, X_OK) == 0;
}

const wb_libarchive *wb_libarchive_get(wb_error *err) {
    pthread_once(&archive_once, load_archive);
    if (archive_err[0]) {
        wb_error_set(err, ENOENT, "%s", archive_err);
        return NULL;
    }
    return &archive_fns;
}

const wb_libcrypto *wb_libcrypto_get(wb_error *err) {
    pthread_once(&crypto_once, load_crypto);
    if (crypto_err[0]) {
        wb_error_set(err, ENOENT, "%s", crypto_err);
        return NULL;
    }
    return &crypto_fns;
}

const wb_libcurl *wb_libcurl_get(wb_error *err) {
    pthread_once(&curl_once, load_curl);
    if (curl_err[0]) {
        wb_error_set(err, ENOENT, "%s", curl_err);
        return NULL;
    }
    return &curl_fns;
}
