/* nftables through libnftables (see nft.h). */
#include "runtime/nft.h"

#include <dlfcn.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/dynlib.h"

#define WB_NFT_FUNCS(X)                                                                            \
    X(nft_ctx_new)                                                                                 \
    X(nft_ctx_free)                                                                                \
    X(nft_ctx_buffer_output)                                                                       \
    X(nft_ctx_buffer_error)                                                                        \
    X(nft_ctx_get_output_buffer)                                                                   \
    X(nft_ctx_get_error_buffer)                                                                    \
    X(nft_run_cmd_from_buffer)

static struct {
#define WB_NFT_MEMBER(name) __typeof__(&name) name;
    WB_NFT_FUNCS(WB_NFT_MEMBER)
#undef WB_NFT_MEMBER
} fns;
static char why[WB_ERROR_MSG_MAX];
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    if (!wb_dynlib_loadable()) {
        snprintf(why, sizeof why,
                 "internal error: networks need libnftables, which the static wasmbox cannot load "
                 "(this command should have been handed to wasmbox-full)");
        return;
    }
    void *h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, sizeof why,
                 "cannot load libnftables.so.1: %s (install the Debian package libnftables1)",
                 dlerror());
        return;
    }
#define WB_NFT_RESOLVE(name)                                                                       \
    if (!why[0] && !(fns.name = (__typeof__(&name))dlsym(h, #name)))                               \
        snprintf(why, sizeof why, "libnftables.so.1 lacks %s", #name);
    WB_NFT_FUNCS(WB_NFT_RESOLVE)
#undef WB_NFT_RESOLVE
    loaded = !why[0];
}

static int run(const char *cmds, char **out, wb_error *err) {
    pthread_once(&once, load);
    if (!loaded) return wb_error_set(err, ENOENT, "%s", why);
    struct nft_ctx *ctx = fns.nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) return wb_error_set(err, ENOMEM, "nftables: cannot make a context");
    fns.nft_ctx_buffer_output(ctx);
    fns.nft_ctx_buffer_error(ctx);
    int rc = 0;
    if (fns.nft_run_cmd_from_buffer(ctx, cmds) != 0) {
        /* "Error: Could not process rule: No such file or directory\n<the command>\n^^^" */
        const char *e = fns.nft_ctx_get_error_buffer(ctx);
        const char *nl = e ? strchr(e, '\n') : NULL;
        int len = e ? (nl ? (int)(nl - e) : (int)strlen(e)) : 0;
        rc = wb_error_set(err, EIO, "nftables: %.*s", len > 400 ? 400 : len,
                          len ? e : "the batch was refused");
    } else if (out) {
        const char *o = fns.nft_ctx_get_output_buffer(ctx);
        *out = wb_strdup(o ? o : "");
    }
    fns.nft_ctx_free(ctx);
    return rc;
}

int wb_nft_run(const char *cmds, wb_error *err) {
    return run(cmds, NULL, err);
}

int wb_nft_query(const char *cmds, char **out, wb_error *err) {
    *out = NULL;
    return run(cmds, out, err);
}
