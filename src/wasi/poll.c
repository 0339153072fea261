/* WASI: poll_oneoff. Clock subscriptions become one timeout; regular files are always ready;
 * pipes, character devices, stdio and sockets are waited on with ppoll(2). The host waits only as
 * long as the guest asked: the earliest clock deadline, or without limit when the guest
 * subscribed to descriptors and no clock. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasi/wasi_internal.h"

/* Subscriptions in one call. The descriptor table holds at most WASI_MAX_FDS entries, so even a
 * read and a write subscription on every one of them plus clocks fit far below this. */
#define POLL_MAX_SUBSCRIPTIONS 65536u

#define NS_PER_SEC 1000000000ull

enum sub_state {
    SUB_WAIT,  /* waiting: a clock before its deadline, or a descriptor in the ppoll set */
    SUB_READY, /* the event is to be reported (possibly with an error) */
};

typedef struct poll_sub {
    uint64_t userdata;
    uint8_t type;     /* the subscription's tag as the guest wrote it */
    uint8_t state;    /* enum sub_state */
    uint16_t error;   /* WASI errno reported in the event */
    uint16_t rwflags; /* WASI_EVENT_FD_READWRITE_* */
    uint64_t nbytes;
    uint64_t deadline; /* clocks: CLOCK_MONOTONIC ns */
    int pfd;           /* descriptors: index in the pollfd array, else -1 */
    bool is_socket;
} poll_sub;

static uint64_t now_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void sub_ready(poll_sub *s, uint16_t error) {
    s->state = SUB_READY;
    s->error = error;
}

/* Turn a clock subscription into a monotonic deadline (or an error event). */
static void setup_clock(poll_sub *s, const wasi_mem *m, uint32_t at, uint64_t mono_now) {
    uint32_t id = wasi_load32(m, at + 16);
    uint64_t timeout = wasi_load64(m, at + 24);
    uint16_t flags;
    memcpy(&flags, m->base + at + 40, 2);
    if (flags & ~WASI_SUBCLOCK_SUBSCRIPTION_CLOCK_ABSTIME) return sub_ready(s, WASI_EINVAL);
    clockid_t host;
    if (id == WASI_CLOCK_REALTIME)
        host = CLOCK_REALTIME;
    else if (id == WASI_CLOCK_MONOTONIC)
        host = CLOCK_MONOTONIC;
    else
        return sub_ready(s, WASI_EINVAL); /* CPU-time clocks cannot be slept on */
    uint64_t remaining = timeout;
    if (flags & WASI_SUBCLOCK_SUBSCRIPTION_CLOCK_ABSTIME) {
        uint64_t now = host == CLOCK_MONOTONIC ? mono_now : now_ns(host);
        remaining = timeout > now ? timeout - now : 0;
    }
    s->deadline = add_sat(mono_now, remaining);
    if (remaining == 0) sub_ready(s, 0);
}

/* Bytes left to read in a regular file from its current offset. */
static uint64_t file_remaining(int fd) {
    struct stat st;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (fstat(fd, &st) != 0 || pos < 0 || st.st_size <= pos) return 0;
    return (uint64_t)(st.st_size - pos);
}

/* Set up an fd_read / fd_write subscription: an immediate event for files and errors, else a
 * pollfd entry. */
static void setup_fd(wb_wasi *w, poll_sub *s, const wasi_mem *m, uint32_t at, struct pollfd *pfds,
                     nfds_t *npfds) {
    uint16_t e;
    wasi_fd *f = wasi_fd_check(w, wasi_load32(m, at + 16), WASI_RIGHT_POLL_FD_READWRITE, &e);
    if (!f) return sub_ready(s, e);
    if (f->kind == WFD_DIR || f->filetype == WASI_FILETYPE_DIRECTORY)
        return sub_ready(s, WASI_EBADF); /* nothing to read or write on a directory fd */
    if (f->mem) {                        /* a stream in memory never blocks */
        if (s->type == WASI_EVENTTYPE_FD_READ) s->nbytes = w->mem_in_len - w->mem_in_pos;
        return sub_ready(s, 0);
    }
    if (f->filetype == WASI_FILETYPE_REGULAR_FILE || f->filetype == WASI_FILETYPE_BLOCK_DEVICE ||
        f->filetype == WASI_FILETYPE_SYMBOLIC_LINK) {
        /* regular files never block: always ready, as POSIX poll reports them */
        if (s->type == WASI_EVENTTYPE_FD_READ) s->nbytes = file_remaining(f->host);
        return sub_ready(s, 0);
    }
    s->is_socket =
        f->filetype == WASI_FILETYPE_SOCKET_STREAM || f->filetype == WASI_FILETYPE_SOCKET_DGRAM;
    short events = s->type == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
    if (s->is_socket && s->type == WASI_EVENTTYPE_FD_READ) events |= POLLRDHUP;
    s->pfd = (int)*npfds;
    pfds[*npfds].fd = f->host;
    pfds[*npfds].events = events;
    pfds[*npfds].revents = 0;
    (*npfds)++;
}

/* Bytes the descriptor can take without blocking, for sockets (SO_SNDBUF minus the bytes queued);
 * 0 when unknown, as the guest may always try. */
static uint64_t write_space(int fd, bool is_socket) {
    int sndbuf = 0, queued = 0;
    socklen_t len = sizeof sndbuf;
    if (!is_socket || getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0) return 0;
    if (ioctl(fd, TIOCOUTQ, &queued) != 0) queued = 0;
    return sndbuf > queued ? (uint64_t)(sndbuf - queued) : 0;
}

/* Fill in a descriptor subscription from ppoll's result. */
static void collect_fd(poll_sub *s, const struct pollfd *p) {
    short rev = p->revents;
    if (!rev) return;
    if (rev & POLLNVAL) return sub_ready(s, WASI_EBADF);
    /* POLLERR: report readiness; the pending error (SO_ERROR, EPIPE…) is for the guest's next
     * read, write or getsockopt to see, so it is not consumed here. */
    if (rev & POLLHUP) s->rwflags |= WASI_EVENT_FD_READWRITE_HANGUP;
    if (s->type == WASI_EVENTTYPE_FD_READ) {
        if (rev & POLLRDHUP) s->rwflags |= WASI_EVENT_FD_READWRITE_HANGUP;
        int avail = 0;
        if (ioctl(p->fd, FIONREAD, &avail) == 0 && avail > 0) s->nbytes = (uint64_t)avail;
    } else {
        s->nbytes = write_space(p->fd, s->is_socket);
    }
    sub_ready(s, 0);
}

static void write_event(wasi_mem *m, uint32_t at, const poll_sub *s) {
    memset(m->base + at, 0, WASI_EVENT_SIZE);
    wasi_store64(m, at, s->userdata);
    wasi_store16(m, at + 8, s->error);
    wasi_store8(m, at + 10, s->type);
    if (s->type == WASI_EVENTTYPE_FD_READ || s->type == WASI_EVENTTYPE_FD_WRITE) {
        wasi_store64(m, at + 16, s->nbytes);
        wasi_store16(m, at + 24, s->rwflags);
    }
}

/* Waits until at least one subscription is ready (or ppoll fails); returns 0 or a WASI errno. */
static uint16_t wait_ready(poll_sub *subs, uint32_t n, struct pollfd *pfds, nfds_t npfds) {
    for (;;) {
        bool any_ready = false, any_clock = false;
        uint64_t next = UINT64_MAX, now = now_ns(CLOCK_MONOTONIC);
        for (uint32_t i = 0; i < n; i++) {
            poll_sub *s = &subs[i];
            if (s->state == SUB_WAIT && s->type == WASI_EVENTTYPE_CLOCK) {
                if (s->deadline <= now)
                    sub_ready(s, 0);
                else if (s->deadline - now < next)
                    next = s->deadline - now;
                any_clock = true;
            }
            any_ready |= s->state == SUB_READY;
        }
        /* With something ready, still look once (no wait) at the descriptors: the guest gets
         * every event that has occurred, as POSIX poll would report them. */
        struct timespec ts = {0, 0}, *timeout = &ts;
        if (!any_ready) {
            if (any_clock) {
                ts.tv_sec = (time_t)(next / NS_PER_SEC);
                ts.tv_nsec = (long)(next % NS_PER_SEC);
            } else {
                timeout = NULL; /* only descriptors: the guest asked to wait for them */
            }
        }
        if (!any_ready && npfds == 0 && !any_clock) return 0; /* cannot happen: n > 0 */
        int r = ppoll(npfds ? pfds : NULL, npfds, timeout, NULL);
        if (r < 0) return wasi_errno(errno); /* EINTR included: a signal is the guest's to see */
        for (uint32_t i = 0; i < n && r > 0; i++)
            if (subs[i].pfd >= 0 && subs[i].state == SUB_WAIT)
                collect_fd(&subs[i], &pfds[subs[i].pfd]);
        now = now_ns(CLOCK_MONOTONIC);
        for (uint32_t i = 0; i < n; i++) {
            poll_sub *s = &subs[i];
            if (s->state == SUB_WAIT && s->type == WASI_EVENTTYPE_CLOCK && s->deadline <= now)
                sub_ready(s, 0);
            any_ready |= s->state == SUB_READY;
        }
        if (any_ready) return 0;
    }
}

static int poll_oneoff(wb_caller *c, void *env, wb_slot *sl) {
    wb_wasi *w = env;
    wasi_mem m = wasi_memory(c);
    uint32_t in = sl[0].u32, out = sl[1].u32, n = sl[2].u32, nevents_ptr = sl[3].u32;
    if (n == 0) return wasi_ret(sl, WASI_EINVAL);
    if (!wasi_in_bounds(&m, in, (uint64_t)n * WASI_SUBSCRIPTION_SIZE) ||
        !wasi_in_bounds(&m, out, (uint64_t)n * WASI_EVENT_SIZE) ||
        !wasi_in_bounds(&m, nevents_ptr, 4))
        return wasi_ret(sl, WASI_EFAULT);
    if (n > POLL_MAX_SUBSCRIPTIONS) return wasi_ret(sl, WASI_EINVAL);

    WB_AUTOFREE poll_sub *subs = wb_calloc(n, sizeof *subs);
    WB_AUTOFREE struct pollfd *pfds = wb_calloc(n, sizeof *pfds);
    nfds_t npfds = 0;
    uint64_t mono_now = now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t at = in + i * WASI_SUBSCRIPTION_SIZE;
        poll_sub *s = &subs[i];
        s->userdata = wasi_load64(&m, at);
        s->type = m.base[at + 8];
        s->pfd = -1;
        switch (s->type) {
        case WASI_EVENTTYPE_CLOCK: setup_clock(s, &m, at, mono_now); break;
        case WASI_EVENTTYPE_FD_READ:
        case WASI_EVENTTYPE_FD_WRITE: setup_fd(w, s, &m, at, pfds, &npfds); break;
        default: sub_ready(s, WASI_EINVAL); break;
        }
    }
    uint16_t e = wait_ready(subs, n, pfds, npfds);
    if (e) return wasi_ret(sl, e);
    uint32_t nevents = 0;
    for (uint32_t i = 0; i < n; i++)
        if (subs[i].state == SUB_READY)
            write_event(&m, out + nevents++ * WASI_EVENT_SIZE, &subs[i]);
    wasi_store32(&m, nevents_ptr, nevents);
    return wasi_ret(sl, 0);
}

const wasi_func_def wasi_poll_funcs[] = {
    {"poll_oneoff", "iiii:i", poll_oneoff},
    {NULL, NULL, NULL},
};
