/* http-hello: a small HTTP/1.1 server. `GET /` answers "Hello from wasmbox!\n", any other path
 * 404, other methods 405; every response closes the connection. One source, four builds (see the
 * Makefile), which differ only in the few socket calls below:
 *
 *   HELLO_NET_WASMEDGE  wasm32-wasi, WasmEdge's socket extension through raw imports: sock_open,
 *                       sock_bind 0.0.0.0:PORT, sock_listen, sock_accept (V1: two arguments),
 *                       sock_recv, sock_send, fd_close; needs `wasmbox run --net`.
 *     + HELLO_WASMEDGE_V2  the same with WasmEdge's V2 forms: a 128-byte address on bind,
 *                       sock_accept with flags, sock_getlocaladdr with two results.
 *   HELLO_NET_P1        wasm32-wasi, preview1 only: a listener preopened by the runtime
 *                       (`wasmbox run --tcplisten HOST:PORT`), sock_accept, sock_recv, sock_send.
 *   (neither)           native, POSIX sockets: the baseline for benchmarks.
 *
 * The port is argv[1], else $PORT, else 8080 (not used by the preview1 build, whose listener the
 * runtime opened). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(HELLO_NET_WASMEDGE) || defined(HELLO_NET_P1)
#include <wasi/api.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#endif

#define GREETING    "Hello from wasmbox!\n"
#define REQUEST_MAX 8192

/* Write all of a message to stdout/stderr (no stdio: it would pull in more of WASI). */
static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    for (int done = 0; done < n;) {
        ssize_t w = write(fd, buf + done, (size_t)(n - done));
        if (w <= 0) return;
        done += (int)w;
    }
}

/* ---- the socket calls of each build: each returns >= 0, or -errno ---- */

#if defined(HELLO_NET_WASMEDGE)

#define WE_IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

/* WasmEdge's address argument: a buffer and its length (4 or 16 address bytes for V1; 128 bytes
 * holding a u16 family then the address bytes for V2) */
typedef struct we_address {
    uint8_t *buf;
    uint32_t buf_len;
} we_address;

#define WE_AF_INET4     1
#define WE_SOCK_STREAM  2
#define WE_SOL_SOCKET   0
#define WE_SO_REUSEADDR 0

WE_IMPORT("sock_open") uint32_t we_sock_open(uint32_t family, uint32_t type, uint32_t *fd);
WE_IMPORT("sock_setsockopt")
uint32_t we_sock_setsockopt(uint32_t fd, uint32_t level, uint32_t name, const void *flag,
                            uint32_t flag_size);
WE_IMPORT("sock_bind") uint32_t we_sock_bind(uint32_t fd, we_address *addr, uint32_t port);
WE_IMPORT("sock_listen") uint32_t we_sock_listen(uint32_t fd, uint32_t backlog);
#ifdef HELLO_WASMEDGE_V2
WE_IMPORT("sock_accept") uint32_t we_sock_accept(uint32_t fd, uint32_t flags, uint32_t *new_fd);
WE_IMPORT("sock_getlocaladdr")
uint32_t we_sock_getlocaladdr(uint32_t fd, we_address *addr, uint32_t *port);
#else
WE_IMPORT("sock_accept") uint32_t we_sock_accept(uint32_t fd, uint32_t *new_fd);
WE_IMPORT("sock_getlocaladdr")
uint32_t we_sock_getlocaladdr(uint32_t fd, we_address *addr, uint32_t *addr_type, uint32_t *port);
#endif
WE_IMPORT("sock_recv")
uint32_t we_sock_recv(uint32_t fd, __wasi_iovec_t *iovs, uint32_t niovs, uint32_t flags,
                      uint32_t *nread, uint32_t *roflags);
WE_IMPORT("sock_send")
uint32_t we_sock_send(uint32_t fd, const __wasi_ciovec_t *iovs, uint32_t niovs, uint32_t flags,
                      uint32_t *nwritten);

static const char *failed_call;

static int fail(const char *call, uint32_t e) {
    failed_call = call;
    return -(int)e;
}

static int net_listen(int port) {
    uint32_t fd, e;
    if ((e = we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, &fd))) return fail("sock_open", e);
    int one = 1;
    if ((e = we_sock_setsockopt(fd, WE_SOL_SOCKET, WE_SO_REUSEADDR, &one, sizeof one)))
        return fail("sock_setsockopt", e);
#ifdef HELLO_WASMEDGE_V2
    uint8_t storage[128] = {0};
    storage[0] = WE_AF_INET4; /* u16 family, little-endian; address 0.0.0.0 follows */
    we_address addr = {storage, sizeof storage};
#else
    uint8_t any[4] = {0, 0, 0, 0};
    we_address addr = {any, sizeof any};
#endif
    if ((e = we_sock_bind(fd, &addr, (uint32_t)port))) return fail("sock_bind", e);
    if ((e = we_sock_listen(fd, 128))) return fail("sock_listen", e);
    return (int)fd;
}

static int net_local_port(int fd) {
    uint32_t port = 0, e;
#ifdef HELLO_WASMEDGE_V2
    uint8_t storage[128];
    we_address addr = {storage, sizeof storage};
    e = we_sock_getlocaladdr((uint32_t)fd, &addr, &port);
#else
    uint8_t ip[16];
    uint32_t type;
    we_address addr = {ip, 4};
    e = we_sock_getlocaladdr((uint32_t)fd, &addr, &type, &port);
#endif
    return e ? fail("sock_getlocaladdr", e) : (int)port;
}

static int net_accept(int lfd) {
    uint32_t fd, e;
#ifdef HELLO_WASMEDGE_V2
    e = we_sock_accept((uint32_t)lfd, 0, &fd);
#else
    e = we_sock_accept((uint32_t)lfd, &fd);
#endif
    return e ? fail("sock_accept", e) : (int)fd;
}

static long net_recv(int fd, void *buf, size_t len) {
    __wasi_iovec_t iov = {buf, len};
    uint32_t n, roflags = 0, e = we_sock_recv((uint32_t)fd, &iov, 1, 0, &n, &roflags);
    return e ? fail("sock_recv", e) : (long)n;
}

static long net_send(int fd, const void *buf, size_t len) {
    __wasi_ciovec_t iov = {buf, len};
    uint32_t n, e = we_sock_send((uint32_t)fd, &iov, 1, 0, &n);
    return e ? fail("sock_send", e) : (long)n;
}

static void net_close(int fd) {
    (void)__wasi_fd_close((__wasi_fd_t)fd);
}

#elif defined(HELLO_NET_P1)

static const char *failed_call;

static int fail(const char *call, __wasi_errno_t e) {
    failed_call = call;
    return -(int)e;
}

/* The first preopened stream socket (fd 3 when it is the only preopen). */
static int net_listen(int port) {
    (void)port;
    for (__wasi_fd_t fd = 3; fd < 3 + 64; fd++) {
        __wasi_fdstat_t st;
        if (__wasi_fd_fdstat_get(fd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM &&
            (st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT))
            return (int)fd;
    }
    return fail("find a preopened listener (run with --tcplisten HOST:PORT)", __WASI_ERRNO_BADF);
}

static int net_local_port(int fd) {
    (void)fd;
    return 0; /* preview1 cannot ask; the runtime chose it */
}

static int net_accept(int lfd) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_sock_accept((__wasi_fd_t)lfd, 0, &fd);
    return e ? fail("sock_accept", e) : (int)fd;
}

static long net_recv(int fd, void *buf, size_t len) {
    __wasi_iovec_t iov = {buf, len};
    __wasi_size_t n;
    __wasi_roflags_t roflags;
    __wasi_errno_t e = __wasi_sock_recv((__wasi_fd_t)fd, &iov, 1, 0, &n, &roflags);
    return e ? fail("sock_recv", e) : (long)n;
}

static long net_send(int fd, const void *buf, size_t len) {
    __wasi_ciovec_t iov = {buf, len};
    __wasi_size_t n;
    __wasi_errno_t e = __wasi_sock_send((__wasi_fd_t)fd, &iov, 1, 0, &n);
    return e ? fail("sock_send", e) : (long)n;
}

static void net_close(int fd) {
    (void)__wasi_fd_close((__wasi_fd_t)fd);
}

#else /* native */

static const char *failed_call;

static int fail(const char *call) {
    failed_call = call;
    return -errno;
}

static int net_listen(int port) {
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fail("socket");
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail("setsockopt");
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) return fail("bind");
    if (listen(fd, 128) != 0) return fail("listen");
    return fd;
}

static int net_local_port(int fd) {
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0) return fail("getsockname");
    return ntohs(sin.sin_port);
}

static int net_accept(int lfd) {
    int fd = accept(lfd, NULL, NULL);
    return fd < 0 ? fail("accept") : fd;
}

static long net_recv(int fd, void *buf, size_t len) {
    ssize_t n = recv(fd, buf, len, 0);
    return n < 0 ? fail("recv") : (long)n;
}

static long net_send(int fd, const void *buf, size_t len) {
    ssize_t n = send(fd, buf, len, 0);
    return n < 0 ? fail("send") : (long)n;
}

static void net_close(int fd) {
    close(fd);
}

#endif

/* ---- HTTP ---- */

/* Send all of buf, however the socket splits it; false if the connection failed. */
static int send_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        long n = net_send(fd, buf, len);
        if (n < 0 && -n == EINTR) continue;
        if (n <= 0) return 0;
        buf += n;
        len -= (size_t)n;
    }
    return 1;
}

static void respond(int fd, int status, const char *reason, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nServer: http-hello\r\n\r\n",
                     status, reason, strlen(body));
    if (send_all(fd, head, (size_t)n)) send_all(fd, body, strlen(body));
}

/* One connection: read the request head (however many reads it takes), answer, close. */
static void serve(int fd) {
    static char req[REQUEST_MAX + 1];
    size_t have = 0;
    for (;;) {
        if (have == REQUEST_MAX) {
            respond(fd, 431, "Request Header Fields Too Large", "request too large\n");
            net_close(fd);
            return;
        }
        long n = net_recv(fd, req + have, REQUEST_MAX - have);
        if (n < 0 && -n == EINTR) continue;
        if (n <= 0) { /* the client went away before a full request */
            net_close(fd);
            return;
        }
        have += (size_t)n;
        req[have] = '\0';
        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) break; /* the end of the head */
    }
    char method[16] = "", target[1024] = "";
    if (sscanf(req, "%15s %1023s", method, target) != 2) {
        respond(fd, 400, "Bad Request", "bad request\n");
    } else if (strcmp(method, "GET") != 0) {
        respond(fd, 405, "Method Not Allowed", "only GET is served here\n");
    } else if (strcmp(target, "/") == 0 || strncmp(target, "/?", 2) == 0) {
        respond(fd, 200, "OK", GREETING);
    } else {
        respond(fd, 404, "Not Found", "not found\n");
    }
    net_close(fd);
}

int main(int argc, char **argv) {
    int port = 8080;
    const char *arg = argc > 1 ? argv[1] : getenv("PORT");
    if (arg && *arg) {
        char *end;
        long p = strtol(arg, &end, 10);
        if (*end || p < 0 || p > 65535) {
            say(2, "http-hello: bad port `%s`\n", arg);
            return 2;
        }
        port = (int)p;
    }
    int lfd = net_listen(port);
    if (lfd < 0) {
        say(2, "http-hello: %s failed: %s (errno %d)%s\n", failed_call, strerror(-lfd), -lfd,
            -lfd == EACCES ? "; the runtime did not grant network access (wasmbox run --net)" : "");
        return 1;
    }
    int bound = net_local_port(lfd);
    if (bound > 0)
        say(1, "http-hello: listening on port %d\n", bound);
    else
        say(1, "http-hello: listening on fd %d\n", lfd);
    for (;;) {
        int fd = net_accept(lfd);
        if (fd < 0) {
            int e = -fd;
            if (e == EINTR || e == ECONNABORTED || e == EAGAIN || e == EMFILE || e == ENFILE)
                continue;
            say(2, "http-hello: %s failed: %s (errno %d)\n", failed_call, strerror(e), e);
            return 1;
        }
        serve(fd);
    }
}
