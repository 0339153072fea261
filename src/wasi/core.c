/* WASI: arguments, environment, clocks, randomness, process exit, scheduling. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

#include "wasi/wasi_internal.h"

/* Write n strings as a pointer array at `ptrs` and the NUL-terminated strings at `buf`. */
static uint16_t put_strings(wasi_mem *m, char *const *strs, uint32_t n, size_t bytes, uint32_t ptrs,
                            uint32_t buf) {
    if (!wasi_in_bounds(m, ptrs, (uint64_t)n * 4) || !wasi_in_bounds(m, buf, bytes))
        return WASI_EFAULT;
    uint32_t at = buf;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(strs[i]) + 1;
        wasi_store32(m, ptrs + i * 4, at);
        memcpy(m->base + at, strs[i], len);
        at += (uint32_t)len;
    }
    return 0;
}

static int args_get(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    wasi_mem m = wasi_memory(c);
    return wasi_ret(s, put_strings(&m, w->argv, w->argc, w->argv_bytes, s[0].u32, s[1].u32));
}

static int args_sizes_get(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    wasi_mem m = wasi_memory(c);
    uint16_t e = wasi_put32(&m, s[0].u32, w->argc);
    if (!e) e = wasi_put32(&m, s[1].u32, (uint32_t)w->argv_bytes);
    return wasi_ret(s, e);
}

static int environ_get(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    wasi_mem m = wasi_memory(c);
    return wasi_ret(s, put_strings(&m, w->env, w->envc, w->env_bytes, s[0].u32, s[1].u32));
}

static int environ_sizes_get(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    wasi_mem m = wasi_memory(c);
    uint16_t e = wasi_put32(&m, s[0].u32, w->envc);
    if (!e) e = wasi_put32(&m, s[1].u32, (uint32_t)w->env_bytes);
    return wasi_ret(s, e);
}

static bool host_clock(uint32_t id, clockid_t *out) {
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME_ID: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME_ID: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

static int clock_res_get(wb_caller *c, void *env, wb_slot *s) {
    clockid_t id;
    struct timespec ts;
    if (!host_clock(s[0].u32, &id)) return wasi_ret(s, WASI_EINVAL);
    if (clock_getres(id, &ts) != 0) return wasi_ret(s, wasi_errno(errno));
    wasi_mem m = wasi_memory(c);
    return wasi_ret(
        s, wasi_put64(&m, s[1].u32, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec));
}

static int clock_time_get(wb_caller *c, void *env, wb_slot *s) {
    clockid_t id;
    struct timespec ts;
    if (!host_clock(s[0].u32, &id)) return wasi_ret(s, WASI_EINVAL);
    if (clock_gettime(id, &ts) != 0) return wasi_ret(s, wasi_errno(errno));
    wasi_mem m = wasi_memory(c);
    return wasi_ret(
        s, wasi_put64(&m, s[2].u32, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec));
}

static int random_get(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    uint32_t buf = s[0].u32, len = s[1].u32;
    if (!wasi_in_bounds(&m, buf, len)) return wasi_ret(s, WASI_EFAULT);
    for (uint32_t done = 0; done < len;) {
        ssize_t n = getrandom(m.base + buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return wasi_ret(s, wasi_errno(errno));
        }
        done += (uint32_t)n;
    }
    return wasi_ret(s, 0);
}

static int proc_exit(wb_caller *c, void *env, wb_slot *s) {
    return wb_caller_exit(c, s[0].i32);
}

static int proc_raise(wb_caller *c, void *env, wb_slot *s) {
    uint32_t sig = s[0].u32;
    if (sig == WASI_SIGNONE) return wasi_ret(s, 0);
    if (sig > WASI_SIGSYS) return wasi_ret(s, WASI_EINVAL);
    /* no signal handlers exist in a wasm guest: a raised signal ends it, as its default would */
    char msg[64];
    snprintf(msg, sizeof msg, "the module raised signal %u", sig);
    return wb_caller_trap(c, msg);
}

static int sched_yield_(wb_caller *c, void *env, wb_slot *s) {
    sched_yield();
    return wasi_ret(s, 0);
}

const wasi_func_def wasi_core_funcs[] = {
    {"args_get", "ii:i", args_get},
    {"args_sizes_get", "ii:i", args_sizes_get},
    {"environ_get", "ii:i", environ_get},
    {"environ_sizes_get", "ii:i", environ_sizes_get},
    {"clock_res_get", "ii:i", clock_res_get},
    {"clock_time_get", "iIi:i", clock_time_get},
    {"random_get", "ii:i", random_get},
    {"proc_exit", "i:", proc_exit},
    {"proc_raise", "i:i", proc_raise},
    {"sched_yield", ":i", sched_yield_},
    {NULL, NULL, NULL},
};
