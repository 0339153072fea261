/* The lunatic runtime (apps/lunatic.h). A process is an instance of the module with its own
 * store and WASI context, run on a thread of its own; the runtime's lock guards the process table
 * and every mailbox, each process waiting on its own condition variable. Resources (TCP
 * listeners and streams, name-resolution iterators, errors) are u64 ids in the process's own
 * table, configurations in the runtime's. Host functions find their process through a
 * thread-local pointer. */
#include "apps/lunatic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "apps/app_common.h"
#include "base/alloc.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

#define RECEIVE_TIMEOUT 9027 /* receive's answer when the timeout passed */
#define NO_TIMEOUT      UINT64_MAX
#define MAX_PROCESSES   100000
#define MAX_RESOURCES   256 /* per process */
#define MAX_PARAMS      32

enum { R_FREE, R_LISTENER, R_STREAM, R_DNS, R_ERROR };

typedef struct resource {
    int kind;
    int fd;                         /* listener, stream */
    uint64_t rd_ms;                 /* stream: read timeout (0: none) */
    uint64_t wr_ms;                 /* stream: write timeout */
    char *text;                     /* error */
    struct sockaddr_storage *addrs; /* dns iterator */
    size_t naddrs, next;
} resource;

typedef struct lmsg {
    int64_t tag;
    bool signal; /* a linked process died */
    uint8_t *data;
    size_t len, cap, pos;
    int *streams; /* fds travelling with the message */
    size_t nstreams;
    struct lmsg *next;
} lmsg;

typedef struct link_entry {
    uint64_t pid;
    int64_t tag;
} link_entry;

typedef struct lproc {
    uint64_t id;
    struct lunatic_rt *rt;
    wb_store *store;
    wb_linker *linker;
    wb_wasi *wasi;
    wb_instance *inst;
    char *function; /* the export a spawned process runs */
    wb_value args[MAX_PARAMS];
    uint32_t nargs;
    pthread_cond_t wake; /* a message arrived, or it was killed */
    lmsg *head, *tail;   /* mailbox (under rt->lock) */
    lmsg *cur;           /* the message being written or the one received (own thread only) */
    bool killed, done, die_with_links;
    link_entry *links;
    size_t nlinks, links_cap;
    resource res[MAX_RESOURCES]; /* own thread only */
} lproc;

typedef struct lconfig {
    uint64_t max_memory, max_fuel;
    bool can_compile, can_create_configs, can_spawn, used;
} lconfig;

typedef struct ltimer {
    struct lunatic_rt *rt;
    uint64_t pid;
    lmsg *msg;
    struct timespec at;
    bool canceled, fired;
} ltimer;

typedef struct lunatic_rt {
    const wb_wasm_job *job;
    pthread_cond_t timer_wake; /* a timer was canceled */
    ltimer **timers;           /* by id - 1 (under lock) */
    size_t ntimers, timers_cap;
    wb_module *module;
    pthread_mutex_t lock;
    lproc **procs; /* by id - 1 (NULL once ended and reaped) */
    size_t nprocs, procs_cap;
    lconfig configs[256];
    int log_fd;
} lunatic_rt;

static __thread lproc *self;

/* The runtime of this process (documented exception to "no mutable globals"): kept reachable
 * for leak checkers, since the container's process ends with the first lunatic process while
 * the others may still run. */
static lunatic_rt *volatile running;

static int link_lunatic(lunatic_rt *rt, wb_store *s, wb_linker *l, wb_error *err);

/* ---- guest memory ---- */

static uint8_t *mem(wb_caller *c, uint32_t ptr, uint64_t len) {
    wb_memory *m = wb_caller_memory(c);
    if (!m || (uint64_t)ptr + len > wb_memory_size(m)) return NULL;
    return wb_memory_data(m) + ptr;
}

static bool put64(wb_caller *c, uint32_t ptr, uint64_t v) {
    uint8_t *p = mem(c, ptr, 8);
    if (p) memcpy(p, &v, 8);
    return p != NULL;
}

static int oob(wb_caller *c) {
    return wb_caller_trap(c, "lunatic: a pointer outside memory");
}

/* ---- resources ---- */

static uint64_t res_add(int kind) {
    for (size_t i = 0; i < MAX_RESOURCES; i++)
        if (self->res[i].kind == R_FREE) {
            memset(&self->res[i], 0, sizeof self->res[i]);
            self->res[i].kind = kind;
            self->res[i].fd = -1;
            return i + 1;
        }
    return 0;
}

static resource *res_get(uint64_t id, int kind) {
    if (id < 1 || id > MAX_RESOURCES || self->res[id - 1].kind != kind) return NULL;
    return &self->res[id - 1];
}

static void res_drop(uint64_t id, int kind) {
    resource *r = res_get(id, kind);
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->text);
    free(r->addrs);
    memset(r, 0, sizeof *r);
}

/* An error resource with the text (for the calls answering "1 and an error id"). */
static uint64_t error_id(const char *fmt, const char *what) {
    uint64_t id = res_add(R_ERROR);
    if (id) {
        size_t l = 0;
        wb_appendf(&self->res[id - 1].text, &l, fmt, what);
    }
    return id;
}

/* ---- lunatic::error ---- */

static int err_string_size(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    resource *r = res_get(s[0].u64, R_ERROR);
    s[0].u32 = r ? (uint32_t)strlen(r->text) : 0;
    return 0;
}

static int err_to_string(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    resource *r = res_get(s[0].u64, R_ERROR);
    if (!r) return 0;
    uint8_t *p = mem(c, s[1].u32, strlen(r->text));
    if (!p) return oob(c);
    memcpy(p, r->text, strlen(r->text));
    return 0;
}

static int err_drop(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    res_drop(s[0].u64, R_ERROR);
    return 0;
}

/* ---- messages ---- */

static void msg_free(lmsg *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nstreams; i++)
        if (m->streams[i] >= 0) close(m->streams[i]);
    free(m->streams);
    free(m->data);
    free(m);
}

static int msg_create(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    msg_free(self->cur);
    self->cur = wb_calloc(1, sizeof *self->cur);
    self->cur->tag = s[0].i64;
    if (s[1].u64 && s[1].u64 < (64u << 20)) {
        self->cur->data = wb_malloc(s[1].u64);
        self->cur->cap = s[1].u64;
    }
    return 0;
}

static int msg_write(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    const uint8_t *p = mem(c, s[0].u32, s[1].u32);
    if (!p) return oob(c);
    lmsg *m = self->cur;
    if (!m) return wb_caller_trap(c, "lunatic: write_data without create_data");
    WB_VEC_RESERVE(m->data, m->cap, m->pos + s[1].u32);
    memcpy(m->data + m->pos, p, s[1].u32);
    m->pos += s[1].u32;
    if (m->pos > m->len) m->len = m->pos;
    s[0].u32 = s[1].u32;
    return 0;
}

static int msg_read(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    lmsg *m = self->cur;
    uint8_t *p = mem(c, s[0].u32, s[1].u32);
    if (!p) return oob(c);
    size_t n = m && m->pos < m->len ? m->len - m->pos : 0;
    if (n > s[1].u32) n = s[1].u32;
    if (n) memcpy(p, m->data + m->pos, n);
    if (m) m->pos += n;
    s[0].u32 = (uint32_t)n;
    return 0;
}

static int msg_seek(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    if (self->cur) self->cur->pos = s[0].u64 < self->cur->len ? s[0].u64 : self->cur->len;
    return 0;
}

static int msg_get_tag(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].i64 = self->cur ? self->cur->tag : 0;
    return 0;
}

static int msg_data_size(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u64 = self->cur ? self->cur->len : 0;
    return 0;
}

static int msg_push_tcp(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    resource *r = res_get(s[0].u64, R_STREAM);
    lmsg *m = self->cur;
    if (!r || !m) return wb_caller_trap(c, "lunatic: push_tcp_stream: no such stream or message");
    m->streams = wb_reallocarray(m->streams, m->nstreams + 1, sizeof *m->streams);
    m->streams[m->nstreams] = r->fd; /* the stream moves with the message */
    r->fd = -1;
    res_drop(s[0].u64, R_STREAM);
    s[0].u64 = m->nstreams++;
    return 0;
}

static int msg_take_tcp(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    lmsg *m = self->cur;
    if (!m || s[0].u64 >= m->nstreams || m->streams[s[0].u64] < 0)
        return wb_caller_trap(c, "lunatic: take_tcp_stream: no such stream in the message");
    uint64_t id = res_add(R_STREAM);
    if (!id) return wb_caller_trap(c, "lunatic: too many resources");
    self->res[id - 1].fd = m->streams[s[0].u64];
    m->streams[s[0].u64] = -1;
    s[0].u64 = id;
    return 0;
}

static lproc *find(lunatic_rt *rt, uint64_t pid) { /* with rt->lock held */
    return pid >= 1 && pid <= rt->nprocs ? rt->procs[pid - 1] : NULL;
}

/* Queue m for pid (dropped if it is gone). With rt->lock held. */
static void deliver(lunatic_rt *rt, uint64_t pid, lmsg *m) {
    lproc *p = find(rt, pid);
    if (!p || p->done) {
        msg_free(m);
        return;
    }
    m->next = NULL;
    m->pos = 0;
    if (p->tail)
        p->tail->next = m;
    else
        p->head = m;
    p->tail = m;
    pthread_cond_broadcast(&p->wake);
}

static int msg_send(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    lmsg *m = self->cur;
    self->cur = NULL;
    if (!m) m = wb_calloc(1, sizeof *m);
    pthread_mutex_lock(&rt->lock);
    deliver(rt, s[0].u64, m);
    pthread_mutex_unlock(&rt->lock);
    s[0].u32 = 0;
    return 0;
}

static bool tag_wanted(int64_t tag, const int64_t *tags, size_t n) {
    if (!n) return true;
    for (size_t i = 0; i < n; i++)
        if (tags[i] == tag) return true;
    return false;
}

/* Wait for a message with one of the tags (any with n == 0); it becomes self->cur. 0 data,
 * 1 signal, RECEIVE_TIMEOUT, or -1 when the process was killed. */
static int wait_message(lunatic_rt *rt, const int64_t *tags, size_t n, uint64_t timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (timeout_ms != NO_TIMEOUT) {
        until.tv_sec += (time_t)(timeout_ms / 1000);
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&rt->lock);
    int rc;
    for (;;) {
        if (self->killed) {
            rc = -1;
            break;
        }
        lmsg **pp = &self->head, *prev = NULL;
        while (*pp && !(*pp)->signal && !tag_wanted((*pp)->tag, tags, n)) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            lmsg *m = *pp;
            *pp = m->next;
            if (self->tail == m) self->tail = prev;
            msg_free(self->cur);
            self->cur = m;
            rc = m->signal ? 1 : 0;
            break;
        }
        int w = timeout_ms == NO_TIMEOUT ? pthread_cond_wait(&self->wake, &rt->lock)
                                         : pthread_cond_timedwait(&self->wake, &rt->lock, &until);
        if (w == ETIMEDOUT) {
            rc = RECEIVE_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&rt->lock);
    return rc;
}

static int msg_receive(wb_caller *c, void *env, wb_slot *s) {
    lunatic_rt *rt = env;
    uint32_t n = s[1].u32;
    const uint8_t *t = mem(c, s[0].u32, (uint64_t)n * 8);
    if (!t || n > 1024) return oob(c);
    int64_t tags[1024];
    memcpy(tags, t, (size_t)n * 8);
    int rc = wait_message(rt, tags, n, s[2].u64);
    if (rc < 0) return wb_caller_trap(c, "lunatic: the process was killed");
    s[0].u32 = (uint32_t)rc;
    return 0;
}

static int msg_send_receive(wb_caller *c, void *env, wb_slot *s) {
    lunatic_rt *rt = env;
    uint64_t pid = s[0].u64, timeout = s[2].u64;
    int64_t tag = s[1].i64;
    msg_send(c, env, s);
    int rc = wait_message(rt, &tag, 1, timeout);
    if (rc < 0) return wb_caller_trap(c, "lunatic: the process was killed");
    (void)pid;
    s[0].u32 = (uint32_t)rc;
    return 0;
}

/* ---- lunatic::timer ---- */

static void *timer_main(void *arg) {
    ltimer *t = arg;
    lunatic_rt *rt = t->rt;
    pthread_mutex_lock(&rt->lock);
    while (!t->canceled &&
           pthread_cond_timedwait(&rt->timer_wake, &rt->lock, &t->at) != ETIMEDOUT) {
    }
    if (!t->canceled) {
        t->fired = true;
        deliver(rt, t->pid, t->msg);
    } else {
        msg_free(t->msg);
    }
    t->msg = NULL;
    pthread_mutex_unlock(&rt->lock);
    return NULL;
}

/* send_after(pid, ms) -> timer id: the message being written goes to pid after ms. */
static int timer_send_after(wb_caller *c, void *env, wb_slot *s) {
    lunatic_rt *rt = env;
    ltimer *t = wb_calloc(1, sizeof *t);
    t->rt = rt;
    t->pid = s[0].u64;
    t->msg = self->cur ? self->cur : wb_calloc(1, sizeof *t->msg);
    self->cur = NULL;
    uint64_t ms = s[1].u64 > 86400000ull * 365 ? 86400000ull * 365 : s[1].u64;
    clock_gettime(CLOCK_REALTIME, &t->at);
    t->at.tv_sec += (time_t)(ms / 1000);
    t->at.tv_nsec += (long)(ms % 1000) * 1000000;
    if (t->at.tv_nsec >= 1000000000) t->at.tv_sec++, t->at.tv_nsec -= 1000000000;
    pthread_mutex_lock(&rt->lock);
    WB_VEC_RESERVE(rt->timers, rt->timers_cap, rt->ntimers + 1);
    rt->timers[rt->ntimers++] = t;
    s[0].u64 = rt->ntimers;
    pthread_mutex_unlock(&rt->lock);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64u << 10);
    if (pthread_create(&th, &attr, timer_main, t) != 0) {
        pthread_attr_destroy(&attr);
        return wb_caller_trap(c, "lunatic: cannot start a timer");
    }
    pthread_attr_destroy(&attr);
    return 0;
}

/* cancel_timer(id) -> 1 when it was canceled before it fired, else 0. */
static int timer_cancel(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    pthread_mutex_lock(&rt->lock);
    ltimer *t = s[0].u64 >= 1 && s[0].u64 <= rt->ntimers ? rt->timers[s[0].u64 - 1] : NULL;
    bool canceled = t && !t->fired && !t->canceled;
    if (canceled) {
        t->canceled = true;
        pthread_cond_broadcast(&rt->timer_wake);
    }
    pthread_mutex_unlock(&rt->lock);
    s[0].u32 = canceled;
    return 0;
}

/* ---- processes ---- */

static void *process_main(void *arg);

static int new_process(lunatic_rt *rt, const char *function, const wb_value *args, uint32_t nargs,
                       lproc **out, wb_error *err) {
    const wb_wasm_job *job = rt->job;
    lproc *p = wb_calloc(1, sizeof *p);
    p->rt = rt;
    p->die_with_links = true;
    pthread_cond_init(&p->wake, NULL);
    p->function = function ? wb_strdup(function) : NULL;
    if (nargs) memcpy(p->args, args, nargs * sizeof *args);
    p->nargs = nargs;
    const char *argv0 = job->argc ? job->argv[0] : "main.wasm";
    wb_wasi_dir dirs[2] = {{job->rootfs, "/", job->read_only_root},
                           {job->rootfs, ".", job->read_only_root}};
    wb_wasi_config wc = {.argc = 1,
                         .argv = (char *const *)&argv0,
                         .envc = (int)job->nenv,
                         .env = job->env,
                         .dirs = dirs,
                         .ndirs = job->rootfs ? 2 : 0,
                         .stdio = {job->stdio[0], job->stdio[1] ? job->stdio[1] : 1,
                                   job->stdio[2] ? job->stdio[2] : 2},
                         .allow_net = job->network,
                         .no_wasmedge = true};
    wb_store_limits lim = {.max_memory = job->max_memory};
    p->linker = wb_linker_new();
    if (wb_wasi_new(&wc, &p->wasi, err) < 0 || !(p->store = wb_store_new(&lim, err)) ||
        wb_wasi_link(p->wasi, p->store, p->linker, rt->module, err) < 0 ||
        link_lunatic(rt, p->store, p->linker, err) < 0) {
        goto fail;
    }
    pthread_mutex_lock(&rt->lock);
    if (rt->nprocs >= MAX_PROCESSES) {
        pthread_mutex_unlock(&rt->lock);
        wb_error_set(err, EAGAIN, "more than %d processes", MAX_PROCESSES);
        goto fail;
    }
    WB_VEC_RESERVE(rt->procs, rt->procs_cap, rt->nprocs + 1);
    rt->procs[rt->nprocs++] = p;
    p->id = rt->nprocs;
    pthread_mutex_unlock(&rt->lock);
    *out = p;
    return 0;
fail:
    wb_wasi_free(p->wasi);
    wb_linker_free(p->linker);
    wb_store_free(p->store);
    free(p->function);
    pthread_cond_destroy(&p->wake);
    free(p);
    return -1;
}

static void add_link(lproc *p, uint64_t pid, int64_t tag) { /* with rt->lock held */
    for (size_t i = 0; i < p->nlinks; i++)
        if (p->links[i].pid == pid) {
            p->links[i].tag = tag;
            return;
        }
    WB_VEC_RESERVE(p->links, p->links_cap, p->nlinks + 1);
    p->links[p->nlinks++] = (link_entry){pid, tag};
}

static int proc_spawn(wb_caller *c, void *env, wb_slot *s) {
    lunatic_rt *rt = env;
    int64_t link = s[0].i64, module_id = s[2].i64;
    uint32_t fptr = s[3].u32, flen = s[4].u32, pptr = s[5].u32, plen = s[6].u32, idp = s[7].u32;
    const uint8_t *fname = mem(c, fptr, flen), *params = mem(c, pptr, plen);
    if (!fname || !params || !mem(c, idp, 8)) return oob(c);
    if (module_id != -1) { /* only this module: compile_module is not offered */
        put64(c, idp, error_id("%s", "spawning another module is not supported"));
        s[0].u32 = 1;
        return 0;
    }
    if (plen % 17 || plen / 17 > MAX_PARAMS) {
        put64(c, idp, error_id("%s", "bad spawn parameters"));
        s[0].u32 = 1;
        return 0;
    }
    wb_value args[MAX_PARAMS];
    uint32_t nargs = plen / 17;
    for (uint32_t i = 0; i < nargs; i++) {
        const uint8_t *r = params + 17 * i;
        memset(&args[i], 0, sizeof args[i]);
        uint64_t lo;
        memcpy(&lo, r + 1, 8);
        if (r[0] == 0x7F) {
            args[i].type = WB_I32;
            args[i].of.i32 = (int32_t)lo;
        } else if (r[0] == 0x7E) {
            args[i].type = WB_I64;
            args[i].of.i64 = (int64_t)lo;
        } else if (r[0] == 0x7B) {
            args[i].type = WB_V128;
            memcpy(args[i].of.v128, r + 1, 16);
        } else {
            put64(c, idp, error_id("%s", "a spawn parameter of an unknown type"));
            s[0].u32 = 1;
            return 0;
        }
    }
    char *function = wb_strndup((const char *)fname, flen);
    lproc *p;
    wb_error err;
    if (new_process(rt, function, args, nargs, &p, &err) < 0) {
        free(function);
        put64(c, idp, error_id("%s", err.msg));
        s[0].u32 = 1;
        return 0;
    }
    free(function);
    if (link) {
        pthread_mutex_lock(&rt->lock);
        add_link(self, p->id, link);
        add_link(p, self->id, link);
        pthread_mutex_unlock(&rt->lock);
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 8u << 20);
    if (pthread_create(&t, &attr, process_main, p) != 0) {
        pthread_mutex_lock(&rt->lock);
        p->done = true;
        pthread_mutex_unlock(&rt->lock);
        put64(c, idp, error_id("%s", "cannot start a thread for the process"));
        s[0].u32 = 1;
    } else {
        put64(c, idp, p->id);
        s[0].u32 = 0;
    }
    pthread_attr_destroy(&attr);
    return 0;
}

static int proc_id(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u64 = self->id;
    return 0;
}

static int proc_sleep(wb_caller *c, void *env, wb_slot *s) {
    lunatic_rt *rt = env;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(s[0].u64 / 1000);
    until.tv_nsec += (long)(s[0].u64 % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
    pthread_mutex_lock(&rt->lock);
    while (!self->killed && pthread_cond_timedwait(&self->wake, &rt->lock, &until) != ETIMEDOUT) {
    }
    bool killed = self->killed;
    pthread_mutex_unlock(&rt->lock);
    return killed ? wb_caller_trap(c, "lunatic: the process was killed") : 0;
}

/* Kill p (with rt->lock held): its code traps at its next check or blocking call. */
static void kill_locked(lproc *p) {
    if (!p || p->done) return;
    p->killed = true;
    wb_store_interrupt(p->store);
    pthread_cond_broadcast(&p->wake);
}

static int proc_kill(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    pthread_mutex_lock(&rt->lock);
    kill_locked(find(rt, s[0].u64));
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

static int proc_exists(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    pthread_mutex_lock(&rt->lock);
    lproc *p = find(rt, s[0].u64);
    s[0].i32 = p && !p->done;
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

static int proc_link(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    pthread_mutex_lock(&rt->lock);
    lproc *p = find(rt, s[1].u64);
    if (p && !p->done) {
        add_link(self, p->id, s[0].i64);
        add_link(p, self->id, s[0].i64);
    }
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

static void remove_link(lproc *p, uint64_t pid) {
    for (size_t i = 0; i < p->nlinks; i++)
        if (p->links[i].pid == pid) p->links[i] = p->links[--p->nlinks];
}

static int proc_unlink(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    pthread_mutex_lock(&rt->lock);
    lproc *p = find(rt, s[0].u64);
    remove_link(self, s[0].u64);
    if (p) remove_link(p, self->id);
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

static int proc_die_when_link_dies(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    self->die_with_links = s[0].u32 != 0;
    return 0;
}

static int cfg_create(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lunatic_rt *rt = env;
    pthread_mutex_lock(&rt->lock);
    s[0].i64 = -1;
    for (int i = 0; i < 256; i++)
        if (!rt->configs[i].used) {
            rt->configs[i] = (lconfig){.used = true, .can_spawn = true};
            s[0].i64 = i + 1;
            break;
        }
    pthread_mutex_unlock(&rt->lock);
    return 0;
}

static lconfig *cfg_get(lunatic_rt *rt, uint64_t id) {
    return id >= 1 && id <= 256 && rt->configs[id - 1].used ? &rt->configs[id - 1] : NULL;
}

static int cfg_drop(wb_caller *c, void *env, wb_slot *s) {
    (void)c;
    lconfig *k = cfg_get(env, s[0].u64);
    if (k) k->used = false;
    return 0;
}

#define CFG_SET(name, field, conv)                                                                 \
    static int name(wb_caller *c, void *env, wb_slot *s) {                                         \
        (void)c;                                                                                   \
        lconfig *k = cfg_get(env, s[0].u64);                                                       \
        if (k) k->field = conv;                                                                    \
        return 0;                                                                                  \
    }
#define CFG_GET(name, field, slot)                                                                 \
    static int name(wb_caller *c, void *env, wb_slot *s) {                                         \
        (void)c;                                                                                   \
        lconfig *k = cfg_get(env, s[0].u64);                                                       \
        s[0].slot = k ? k->field : 0;                                                              \
        return 0;                                                                                  \
    }
CFG_SET(cfg_set_max_memory, max_memory, s[1].u64)
CFG_GET(cfg_get_max_memory, max_memory, u64)
CFG_SET(cfg_set_max_fuel, max_fuel, s[1].u64)
CFG_GET(cfg_get_max_fuel, max_fuel, u64)
CFG_SET(cfg_set_can_compile, can_compile, s[1].u32 != 0)
CFG_GET(cfg_can_compile, can_compile, u32)
CFG_SET(cfg_set_can_create_configs, can_create_configs, s[1].u32 != 0)
CFG_GET(cfg_can_create_configs, can_create_configs, u32)
CFG_SET(cfg_set_can_spawn, can_spawn, s[1].u32 != 0)
CFG_GET(cfg_can_spawn, can_spawn, u32)

/* ---- networking ---- */

/* The socket address from lunatic's (addr_type 4|6, addr bytes, port, flow_info, scope_id). */
static bool sockaddr_of(wb_caller *c, uint32_t type, uint32_t addr, uint32_t port, uint32_t flow,
                        uint32_t scope, struct sockaddr_storage *ss, socklen_t *len) {
    memset(ss, 0, sizeof *ss);
    if (type == 4) {
        const uint8_t *a = mem(c, addr, 4);
        if (!a) return false;
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, a, 4);
        in->sin_port = htons((uint16_t)port);
        *len = sizeof *in;
        return true;
    }
    const uint8_t *a = mem(c, addr, 16);
    if (type != 6 || !a) return false;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, a, 16);
    in6->sin6_port = htons((uint16_t)port);
    in6->sin6_flowinfo = htonl(flow);
    in6->sin6_scope_id = scope;
    *len = sizeof *in6;
    return true;
}

/* 1 with an error id at idp. */
static int fail_id(wb_caller *c, wb_slot *s, uint32_t idp, const char *what) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
    if (!put64(c, idp, error_id("%s", msg))) return oob(c);
    s[0].u32 = 1;
    return 0;
}

static int tcp_bind(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    struct sockaddr_storage ss;
    socklen_t len;
    uint32_t idp = s[5].u32;
    if (!mem(c, idp, 8)) return oob(c);
    if (!sockaddr_of(c, s[0].u32, s[1].u32, s[2].u32, s[3].u32, s[4].u32, &ss, &len)) {
        errno = EINVAL;
        return fail_id(c, s, idp, "tcp_bind");
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) return fail_id(c, s, idp, "tcp_bind");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return fail_id(c, s, idp, "tcp_bind");
    }
    uint64_t id = res_add(R_LISTENER);
    if (!id) {
        close(fd);
        errno = EMFILE;
        return fail_id(c, s, idp, "tcp_bind");
    }
    self->res[id - 1].fd = fd;
    put64(c, idp, id);
    s[0].u32 = 0;
    return 0;
}

/* A name-resolution iterator holding one address. */
static uint64_t dns_one(const struct sockaddr_storage *ss) {
    uint64_t id = res_add(R_DNS);
    if (!id) return 0;
    self->res[id - 1].addrs = wb_malloc(sizeof *ss);
    memcpy(self->res[id - 1].addrs, ss, sizeof *ss);
    self->res[id - 1].naddrs = 1;
    return id;
}

/* Block in poll on fd for ev, waking every 100 ms to see whether the process was killed; false
 * when it was (or the wait failed). timeout_ms 0: none. */
static bool wait_fd(int fd, short ev, uint64_t timeout_ms, bool *timed_out) {
    uint64_t waited = 0;
    *timed_out = false;
    for (;;) {
        if (__atomic_load_n(&self->killed, __ATOMIC_RELAXED)) return false;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, 100);
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
        waited += 100;
        if (timeout_ms && waited >= timeout_ms) {
            *timed_out = true;
            errno = ETIMEDOUT;
            return false;
        }
    }
}

static int tcp_accept(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    uint32_t idp = s[1].u32, peerp = s[2].u32;
    resource *l = res_get(s[0].u64, R_LISTENER);
    if (!mem(c, idp, 8) || !mem(c, peerp, 8)) return oob(c);
    if (!l) {
        errno = EBADF;
        return fail_id(c, s, idp, "tcp_accept");
    }
    bool to;
    if (!wait_fd(l->fd, POLLIN, 0, &to)) {
        if (self->killed) return wb_caller_trap(c, "lunatic: the process was killed");
        return fail_id(c, s, idp, "tcp_accept");
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    if (fd < 0) return fail_id(c, s, idp, "tcp_accept");
    uint64_t id = res_add(R_STREAM);
    if (!id) {
        close(fd);
        errno = EMFILE;
        return fail_id(c, s, idp, "tcp_accept");
    }
    self->res[id - 1].fd = fd;
    put64(c, idp, id);
    put64(c, peerp, dns_one(&ss));
    s[0].u32 = 0;
    return 0;
}

static int tcp_connect(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    struct sockaddr_storage ss;
    socklen_t len;
    uint32_t idp = s[6].u32;
    if (!mem(c, idp, 8)) return oob(c);
    if (!sockaddr_of(c, s[0].u32, s[1].u32, s[2].u32, s[3].u32, s[4].u32, &ss, &len)) {
        errno = EINVAL;
        return fail_id(c, s, idp, "tcp_connect");
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail_id(c, s, idp, "tcp_connect");
    bool to;
    int so = 0;
    socklen_t sl = sizeof so;
    if ((connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) ||
        !wait_fd(fd, POLLOUT, s[5].u64 == NO_TIMEOUT ? 0 : s[5].u64, &to) ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0 || so) {
        if (so) errno = so;
        int e = errno;
        close(fd);
        errno = e;
        return fail_id(c, s, idp, "tcp_connect");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    uint64_t id = res_add(R_STREAM);
    if (!id) {
        close(fd);
        errno = EMFILE;
        return fail_id(c, s, idp, "tcp_connect");
    }
    self->res[id - 1].fd = fd;
    put64(c, idp, id);
    s[0].u32 = 0;
    return 0;
}

static int stream_io(wb_caller *c, wb_slot *s, bool peek) {
    resource *r = res_get(s[0].u64, R_STREAM);
    uint32_t buf = s[1].u32, n = s[2].u32, op = s[3].u32;
    uint8_t *p = mem(c, buf, n);
    if (!p || !mem(c, op, 8)) return oob(c);
    if (!r) {
        errno = EBADF;
        return fail_id(c, s, op, "tcp_read");
    }
    bool to;
    if (!wait_fd(r->fd, POLLIN, r->rd_ms, &to)) {
        if (self->killed) return wb_caller_trap(c, "lunatic: the process was killed");
        return fail_id(c, s, op, "tcp_read");
    }
    ssize_t got = recv(r->fd, p, n, peek ? MSG_PEEK : 0);
    if (got < 0) return fail_id(c, s, op, "tcp_read");
    put64(c, op, (uint64_t)got);
    s[0].u32 = 0;
    return 0;
}

static int tcp_read(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return stream_io(c, s, false);
}

static int tcp_peek(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    return stream_io(c, s, true);
}

static int tcp_write_vectored(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    resource *r = res_get(s[0].u64, R_STREAM);
    uint32_t arr = s[1].u32, n = s[2].u32, op = s[3].u32;
    const uint8_t *v = mem(c, arr, (uint64_t)n * 8);
    if (!v || n > 1024 || !mem(c, op, 8)) return oob(c);
    if (!r) {
        errno = EBADF;
        return fail_id(c, s, op, "tcp_write");
    }
    struct iovec iov[1024];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ptr, len;
        memcpy(&ptr, v + 8 * i, 4);
        memcpy(&len, v + 8 * i + 4, 4);
        iov[i].iov_base = mem(c, ptr, len);
        iov[i].iov_len = len;
        if (!iov[i].iov_base) return oob(c);
    }
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n};
    ssize_t w = sendmsg(r->fd, &mh, MSG_NOSIGNAL);
    if (w < 0) return fail_id(c, s, op, "tcp_write");
    put64(c, op, (uint64_t)w);
    s[0].u32 = 0;
    return 0;
}

static int tcp_flush(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u32 = 0; /* writes go out at once */
    return 0;
}

static int drop_stream(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    res_drop(s[0].u64, R_STREAM);
    return 0;
}

static int drop_listener(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    res_drop(s[0].u64, R_LISTENER);
    return 0;
}

static int drop_dns(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    res_drop(s[0].u64, R_DNS);
    return 0;
}

static int clone_stream(wb_caller *c, void *env, wb_slot *s) {
    resource *r = res_get(s[0].u64, R_STREAM);
    (void)env;
    if (!r) return wb_caller_trap(c, "lunatic: clone_tcp_stream: no such stream");
    int fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
    uint64_t id = fd >= 0 ? res_add(R_STREAM) : 0;
    if (!id) {
        if (fd >= 0) close(fd);
        return wb_caller_trap(c, "lunatic: clone_tcp_stream: too many resources");
    }
    self->res[id - 1].fd = fd;
    s[0].u64 = id;
    return 0;
}

static int local_addr(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    resource *r = res_get(s[0].u64, R_LISTENER);
    uint32_t op = s[1].u32;
    if (!mem(c, op, 8)) return oob(c);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!r || getsockname(r->fd, (struct sockaddr *)&ss, &len) != 0) {
        if (!r) errno = EBADF;
        return fail_id(c, s, op, "tcp_local_addr");
    }
    put64(c, op, dns_one(&ss));
    s[0].u32 = 0;
    return 0;
}

static int set_read_timeout(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    resource *r = res_get(s[0].u64, R_STREAM);
    if (r) r->rd_ms = s[1].u64 == NO_TIMEOUT ? 0 : s[1].u64;
    return 0;
}

static int get_read_timeout(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    resource *r = res_get(s[0].u64, R_STREAM);
    s[0].u64 = r && r->rd_ms ? r->rd_ms : NO_TIMEOUT;
    return 0;
}

static int set_noop_timeout(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env, (void)s;
    return 0;
}

static int get_noop_timeout(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u64 = NO_TIMEOUT;
    return 0;
}

static int resolve(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    const uint8_t *name = mem(c, s[0].u32, s[1].u32);
    uint32_t idp = s[3].u32;
    if (!name || !mem(c, idp, 8)) return oob(c);
    char host[300], *colon;
    snprintf(host, sizeof host, "%.*s", (int)(s[1].u32 < 299 ? s[1].u32 : 299), (const char *)name);
    colon = strrchr(host, ':'); /* "host:port" */
    if (!colon) {
        errno = EINVAL;
        return fail_id(c, s, idp, "resolve: a name needs a port (HOST:PORT)");
    }
    *colon = 0;
    const char *h = host;
    size_t hl = strlen(h);
    if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') { /* [v6]:port */
        host[hl - 1] = 0;
        h = host + 1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(h, colon + 1, &hints, &ai);
    if (g != 0) {
        char msg[400];
        snprintf(msg, sizeof msg, "resolve %s: %s", h, gai_strerror(g));
        put64(c, idp, error_id("%s", msg));
        s[0].u32 = 1;
        return 0;
    }
    uint64_t id = res_add(R_DNS);
    if (!id) {
        freeaddrinfo(ai);
        errno = EMFILE;
        return fail_id(c, s, idp, "resolve");
    }
    resource *r = &self->res[id - 1];
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        r->addrs = wb_reallocarray(r->addrs, r->naddrs + 1, sizeof *r->addrs);
        memset(&r->addrs[r->naddrs], 0, sizeof r->addrs[0]);
        memcpy(&r->addrs[r->naddrs++], a->ai_addr, a->ai_addrlen);
    }
    freeaddrinfo(ai);
    put64(c, idp, id);
    s[0].u32 = 0;
    return 0;
}

static int resolve_next(wb_caller *c, void *env, wb_slot *s) {
    (void)env;
    resource *r = res_get(s[0].u64, R_DNS);
    if (!r || r->next >= r->naddrs) {
        s[0].u32 = 1;
        return 0;
    }
    const struct sockaddr_storage *ss = &r->addrs[r->next++];
    uint8_t *type = mem(c, s[1].u32, 4), *addr = mem(c, s[2].u32, 16), *port = mem(c, s[3].u32, 2),
            *flow = mem(c, s[4].u32, 4), *scope = mem(c, s[5].u32, 4);
    if (!type || !addr || !port || !flow || !scope) return oob(c);
    uint32_t t, fl = 0, sc = 0;
    uint16_t pt;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        t = 4;
        memcpy(addr, &in->sin_addr, 4);
        pt = ntohs(in->sin_port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        t = 6;
        memcpy(addr, &in6->sin6_addr, 16);
        pt = ntohs(in6->sin6_port);
        fl = ntohl(in6->sin6_flowinfo);
        sc = in6->sin6_scope_id;
    }
    memcpy(type, &t, 4);
    memcpy(port, &pt, 2);
    memcpy(flow, &fl, 4);
    memcpy(scope, &sc, 4);
    s[0].u32 = 0;
    return 0;
}

/* ---- version ---- */

static int version_major(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u32 = 0;
    return 0;
}
static int version_minor(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u32 = 13;
    return 0;
}
static int version_patch(wb_caller *c, void *env, wb_slot *s) {
    (void)c, (void)env;
    s[0].u32 = 2;
    return 0;
}

/* ---- the import table ---- */

typedef struct host_import {
    const char *module, *name, *sig; /* params "->" results, in i (i32), I (i64) */
    wb_host_fn fn;
} host_import;

static const host_import host_imports[] = {
    {"lunatic::error", "string_size", "I->i", err_string_size},
    {"lunatic::error", "to_string", "Ii->", err_to_string},
    {"lunatic::error", "drop", "I->", err_drop},
    {"lunatic::message", "create_data", "II->", msg_create},
    {"lunatic::message", "write_data", "ii->i", msg_write},
    {"lunatic::message", "read_data", "ii->i", msg_read},
    {"lunatic::message", "seek_data", "I->", msg_seek},
    {"lunatic::message", "get_tag", "->I", msg_get_tag},
    {"lunatic::message", "data_size", "->I", msg_data_size},
    {"lunatic::message", "push_tcp_stream", "I->I", msg_push_tcp},
    {"lunatic::message", "take_tcp_stream", "I->I", msg_take_tcp},
    {"lunatic::message", "send", "I->i", msg_send},
    {"lunatic::message", "send_receive_skip_search", "IIII->i", msg_send_receive},
    {"lunatic::message", "receive", "iiI->i", msg_receive},
    {"lunatic::process", "spawn", "IIIiiiii->i", proc_spawn},
    {"lunatic::process", "process_id", "->I", proc_id},
    {"lunatic::process", "sleep_ms", "I->", proc_sleep},
    {"lunatic::process", "kill", "I->", proc_kill},
    {"lunatic::process", "exists", "I->i", proc_exists},
    {"lunatic::process", "link", "II->", proc_link},
    {"lunatic::process", "unlink", "I->", proc_unlink},
    {"lunatic::process", "die_when_link_dies", "i->", proc_die_when_link_dies},
    {"lunatic::process", "create_config", "->I", cfg_create},
    {"lunatic::process", "drop_config", "I->", cfg_drop},
    {"lunatic::process", "config_set_max_memory", "II->", cfg_set_max_memory},
    {"lunatic::process", "config_get_max_memory", "I->I", cfg_get_max_memory},
    {"lunatic::process", "config_set_max_fuel", "II->", cfg_set_max_fuel},
    {"lunatic::process", "config_get_max_fuel", "I->I", cfg_get_max_fuel},
    {"lunatic::process", "config_can_compile_modules", "I->i", cfg_can_compile},
    {"lunatic::process", "config_set_can_compile_modules", "Ii->", cfg_set_can_compile},
    {"lunatic::process", "config_can_create_configs", "I->i", cfg_can_create_configs},
    {"lunatic::process", "config_set_can_create_configs", "Ii->", cfg_set_can_create_configs},
    {"lunatic::process", "config_can_spawn_processes", "I->i", cfg_can_spawn},
    {"lunatic::process", "config_set_can_spawn_processes", "Ii->", cfg_set_can_spawn},
    {"lunatic::networking", "tcp_bind", "iiiiii->i", tcp_bind},
    {"lunatic::networking", "tcp_accept", "Iii->i", tcp_accept},
    {"lunatic::networking", "tcp_connect", "iiiiiIi->i", tcp_connect},
    {"lunatic::networking", "tcp_read", "Iiii->i", tcp_read},
    {"lunatic::networking", "tcp_peek", "Iiii->i", tcp_peek},
    {"lunatic::networking", "tcp_write_vectored", "Iiii->i", tcp_write_vectored},
    {"lunatic::networking", "tcp_flush", "Ii->i", tcp_flush},
    {"lunatic::networking", "drop_tcp_stream", "I->", drop_stream},
    {"lunatic::networking", "drop_tcp_listener", "I->", drop_listener},
    {"lunatic::networking", "clone_tcp_stream", "I->I", clone_stream},
    {"lunatic::networking", "tcp_local_addr", "Ii->i", local_addr},
    {"lunatic::networking", "resolve", "iiIi->i", resolve},
    {"lunatic::networking", "resolve_next", "Iiiiii->i", resolve_next},
    {"lunatic::networking", "drop_dns_iterator", "I->", drop_dns},
    {"lunatic::networking", "set_read_timeout", "II->", set_read_timeout},
    {"lunatic::networking", "get_read_timeout", "I->I", get_read_timeout},
    {"lunatic::networking", "set_write_timeout", "II->", set_noop_timeout},
    {"lunatic::networking", "get_write_timeout", "I->I", get_noop_timeout},
    {"lunatic::networking", "set_peek_timeout", "II->", set_noop_timeout},
    {"lunatic::networking", "get_peek_timeout", "I->I", get_noop_timeout},
    {"lunatic::timer", "send_after", "II->I", timer_send_after},
    {"lunatic::timer", "cancel_timer", "I->i", timer_cancel},
    {"lunatic::version", "major", "->i", version_major},
    {"lunatic::version", "minor", "->i", version_minor},
    {"lunatic::version", "patch", "->i", version_patch},
};

static bool sig_matches(const char *sig, const wb_functype *ft) {
    uint32_t i = 0, np = 0;
    for (; *sig && *sig != '-'; sig++, np++)
        if (np >= ft->nparams || ft->types[np] != (*sig == 'I' ? WB_I64 : WB_I32)) return false;
    if (np != ft->nparams || strncmp(sig, "->", 2)) return false;
    sig += 2;
    for (i = 0; *sig; sig++, i++)
        if (i >= ft->nresults || ft->types[ft->nparams + i] != (*sig == 'I' ? WB_I64 : WB_I32))
            return false;
    return i == ft->nresults;
}

static const host_import *find_import(const wb_import_info *im) {
    for (size_t i = 0; i < sizeof host_imports / sizeof host_imports[0]; i++) {
        const host_import *h = &host_imports[i];
        if (strlen(h->module) == im->module_len && !memcmp(h->module, im->module, im->module_len) &&
            strlen(h->name) == im->name_len && !memcmp(h->name, im->name, im->name_len))
            return h;
    }
    return NULL;
}

static int check_imports(const wb_module *m, wb_error *err) {
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if ((im.module_len == 22 && !memcmp(im.module, "wasi_snapshot_preview1", 22)) ||
            (im.module_len == 13 && !memcmp(im.module, "wasi_unstable", 13)))
            continue;
        const host_import *h = find_import(&im);
        if (h && im.kind == WB_EXTERN_FUNC && sig_matches(h->sig, im.func)) continue;
        return wb_error_set(err, WB_ELINK, "lunatic: the module imports `%.*s`.`%.*s`, which %s",
                            (int)im.module_len, im.module, (int)im.name_len, im.name,
                            h ? "has another signature than lunatic 0.13's"
                              : "is not provided (wasmbox's lunatic has process, message, "
                                "networking (TCP, names), timer, error and version)");
    }
    return 0;
}

static int link_lunatic(lunatic_rt *rt, wb_store *s, wb_linker *l, wb_error *err) {
    (void)err;
    for (uint32_t i = 0; i < wb_module_import_count(rt->module); i++) {
        wb_import_info im;
        wb_module_import(rt->module, i, &im);
        const host_import *h = find_import(&im);
        if (!h) continue;
        wb_extern ext = {.kind = WB_EXTERN_FUNC};
        ext.of.func = wb_func_new_host(s, im.func, h->fn, rt, h->name);
        wb_linker_define(l, h->module, h->name, ext);
    }
    return 0;
}

/* ---- running processes ---- */

/* p ended (abnormally when `failed`): its links hear of it. */
static void process_ended(lproc *p, bool failed) {
    lunatic_rt *rt = p->rt;
    pthread_mutex_lock(&rt->lock);
    p->done = true;
    for (size_t i = 0; i < p->nlinks; i++) {
        lproc *q = find(rt, p->links[i].pid);
        if (!q || q->done) continue;
        remove_link(q, p->id);
        if (!failed) continue;
        if (q->die_with_links) {
            kill_locked(q);
        } else {
            lmsg *m = wb_calloc(1, sizeof *m);
            m->signal = true;
            m->tag = p->links[i].tag;
            deliver(rt, q->id, m);
        }
    }
    lmsg *m = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&rt->lock);
    while (m) {
        lmsg *n = m->next;
        msg_free(m);
        m = n;
    }
}

/* Instantiate p's module and run its function; the status is the exit code (134: a trap). */
static int run_process(lproc *p, int *status, wb_error *err) {
    self = p;
    if (wb_linker_instantiate(p->linker, p->store, p->rt->module, &p->inst, err) < 0) return -1;
    const char *fn = p->function ? p->function : "_start";
    wb_extern f;
    if (!wb_instance_export(p->inst, fn, strlen(fn), &f) || f.kind != WB_EXTERN_FUNC)
        return wb_error_set(err, ENOEXEC, "lunatic: the module exports no function `%s`", fn);
    const wb_functype *ft = wb_func_type(f.of.func);
    wb_value results[8];
    if (ft->nparams != p->nargs || ft->nresults > 8)
        return wb_error_set(err, EINVAL, "lunatic: `%s` takes %u arguments, spawned with %u", fn,
                            ft->nparams, p->nargs);
    if (wb_func_call(p->store, f.of.func, p->args, p->nargs, results, ft->nresults, err) < 0) {
        if (err->code == WB_EEXIT) {
            *status = wb_store_last_trap(p->store)->exit_code;
            return 0;
        }
        *status = 134;
        return 0;
    }
    *status = 0;
    return 0;
}

static void process_free(lproc *p) {
    msg_free(p->cur);
    for (size_t i = 0; i < MAX_RESOURCES; i++)
        if (p->res[i].kind != R_FREE) {
            if (p->res[i].fd >= 0) close(p->res[i].fd);
            free(p->res[i].text);
            free(p->res[i].addrs);
        }
    wb_wasi_free(p->wasi);
    wb_linker_free(p->linker);
    wb_store_free(p->store);
    free(p->function);
    free(p->links);
}

static void *process_main(void *arg) {
    lproc *p = arg;
    int status = 0;
    wb_error err;
    if (run_process(p, &status, &err) < 0) {
        wb_app_log(p->rt->log_fd, "lunatic: process %llu: %s", (unsigned long long)p->id, err.msg);
        status = 1;
    } else if (status == 134 && !p->killed) {
        wb_app_log(p->rt->log_fd, "lunatic: process %llu: %s", (unsigned long long)p->id, err.msg);
    }
    process_ended(p, status != 0);
    process_free(p); /* its entry stays (done) so that ids are never reused */
    return NULL;
}

int wb_lunatic_run(const wb_wasm_job *job, int *exit_code, wb_error *err) {
    lunatic_rt *rt = wb_calloc(1, sizeof *rt);
    running = rt;
    rt->job = job;
    rt->log_fd = job->stdio[2] ? job->stdio[2] : 2;
    pthread_mutex_init(&rt->lock, NULL);
    pthread_cond_init(&rt->timer_wake, NULL);
    *exit_code = 125;
    signal(SIGPIPE, SIG_IGN);
    wb_config cfg = {.interruptible = true};
    int rc = wb_module_load(&cfg, job->module, &rt->module, err);
    if (rc < 0 && (err->code == WB_EMALFORMED || err->code == WB_EINVALID))
        wb_error_wrap(err, "exec %s: not a valid WebAssembly module", job->argv[0]);
    if (rc == 0) rc = check_imports(rt->module, err);
    if (rc == 0) {
        int native = wb_app_prepare_module(job, rt->module, err);
        if (native < 0) rc = -1;
        wb_app_record_tier(job, native == 1);
    }
    lproc *first = NULL;
    if (rc == 0) rc = new_process(rt, NULL, NULL, 0, &first, err);
    if (rc < 0) { /* nothing runs: all of it goes */
        running = NULL;
        wb_module_free(rt->module);
        pthread_mutex_destroy(&rt->lock);
        pthread_cond_destroy(&rt->timer_wake);
        free(rt->procs);
        free(rt);
        return -1;
    }
    if (rc == 0) {
        int status;
        if (run_process(first, &status, err) < 0) {
            rc = -1;
        } else {
            if (status == 134) dprintf(rt->log_fd, "Error: %s\n", err->msg);
            *exit_code = status;
        }
    }
    /* the container ends with its first process: the others end with the program (their
     * threads are not waited for, as lunatic exits when its main process does) */
    return rc;
}
