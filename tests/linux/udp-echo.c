/* udp-echo: a UDP echo server for wasm32-wasi through WasmEdge's socket API (V2 forms), for
 * tests/linux/network-modes.sh: `udp-echo PORT` answers every datagram with "echo: " and the
 * datagram, to its sender; `udp-echo --send HOST PORT MESSAGE` resolves HOST with
 * sock_getaddrinfo (the engine's resolver), sends MESSAGE and prints the answer. Built by the
 * test with
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -o udp-echo.wasm udp-echo.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define WE_IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

typedef struct we_address {
    uint8_t *buf;
    uint32_t buf_len;
} we_address;

WE_IMPORT("sock_open") uint32_t we_sock_open(uint32_t family, uint32_t type, uint32_t *fd);
WE_IMPORT("sock_bind") uint32_t we_sock_bind(uint32_t fd, we_address *addr, uint32_t port);
WE_IMPORT("sock_recv_from")
uint32_t we_sock_recv_from(uint32_t fd, __wasi_iovec_t *iovs, uint32_t niovs, we_address *addr,
                           uint32_t flags, uint32_t *port, uint32_t *nread, uint32_t *roflags);
WE_IMPORT("sock_send_to")
uint32_t we_sock_send_to(uint32_t fd, const __wasi_ciovec_t *iovs, uint32_t niovs, we_address *addr,
                         uint32_t port, uint32_t flags, uint32_t *nsent);

typedef struct we_addrinfo { /* __wasi_addrinfo_t */
    uint16_t flags;
    uint8_t family, socktype, protocol, pad[3];
    uint32_t addrlen, addr, canonname, canonname_len, next;
} we_addrinfo;
typedef struct we_sockaddr {
    uint8_t family, pad[3];
    uint32_t data_len, data; /* -> port (network order), then the address */
} we_sockaddr;
WE_IMPORT("sock_getaddrinfo")
uint32_t we_sock_getaddrinfo(const char *node, uint32_t node_len, const char *service,
                             uint32_t service_len, const we_addrinfo *hints, uint32_t *res,
                             uint32_t max, uint32_t *res_len);

/* --send HOST PORT MESSAGE: one datagram to HOST (by name), the answer printed */
static int send_one(const char *host, const char *port, const char *msg) {
    we_addrinfo hints = {.family = 1, .socktype = 1}, res = {0};
    we_sockaddr sa = {0};
    uint8_t data[26];
    char canon[64];
    sa.data = (uint32_t)(uintptr_t)data;
    sa.data_len = sizeof data;
    res.addr = (uint32_t)(uintptr_t)&sa;
    res.canonname = (uint32_t)(uintptr_t)canon;
    res.canonname_len = sizeof canon;
    uint32_t head = (uint32_t)(uintptr_t)&res, count = 0, fd, e;
    if ((e = we_sock_getaddrinfo(host, (uint32_t)strlen(host) + 1, port, (uint32_t)strlen(port) + 1,
                                 &hints, &head, 1, &count)) ||
        count == 0) {
        fprintf(stderr, "udp-echo: cannot resolve %s: error %u\n", host, e);
        return 1;
    }
    if ((e = we_sock_open(1, 1, &fd))) {
        fprintf(stderr, "udp-echo: sock_open: error %u\n", e);
        return 1;
    }
    uint8_t to[128] = {1};
    memcpy(to + 2, data + 2, 4);
    we_address ta = {to, sizeof to};
    __wasi_ciovec_t out = {(const uint8_t *)msg, strlen(msg)};
    uint32_t sent, n = 0, from_port, roflags;
    if ((e = we_sock_send_to(fd, &out, 1, &ta, (uint32_t)atoi(port), 0, &sent))) {
        fprintf(stderr, "udp-echo: sock_send_to: error %u\n", e);
        return 1;
    }
    char buf[1500];
    uint8_t from[128];
    we_address fa = {from, sizeof from};
    __wasi_iovec_t in = {(uint8_t *)buf, sizeof buf - 1};
    if ((e = we_sock_recv_from(fd, &in, 1, &fa, 0, &from_port, &n, &roflags))) {
        fprintf(stderr, "udp-echo: sock_recv_from: error %u\n", e);
        return 1;
    }
    buf[n] = '\0';
    printf("%s\n", buf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--send")) return send_one(argv[2], argv[3], argv[4]);
    uint32_t port = argc > 1 ? (uint32_t)atoi(argv[1]) : 5353, fd, e;
    if ((e = we_sock_open(1 /* inet4 */, 1 /* dgram */, &fd))) {
        fprintf(stderr, "udp-echo: sock_open: error %u\n", e);
        return 1;
    }
    uint8_t any[128] = {1}; /* u16 family (inet4), then 0.0.0.0 */
    we_address bind_addr = {any, sizeof any};
    if ((e = we_sock_bind(fd, &bind_addr, port))) {
        fprintf(stderr, "udp-echo: sock_bind: error %u\n", e);
        return 1;
    }
    printf("udp-echo: listening on %u\n", port);
    fflush(stdout);
    for (;;) {
        char buf[1500];
        memcpy(buf, "echo: ", 6);
        uint8_t from[128];
        we_address fa = {from, sizeof from};
        __wasi_iovec_t iov = {(uint8_t *)buf + 6, sizeof buf - 6};
        uint32_t from_port = 0, n = 0, roflags = 0;
        if ((e = we_sock_recv_from(fd, &iov, 1, &fa, 0, &from_port, &n, &roflags))) {
            fprintf(stderr, "udp-echo: sock_recv_from: error %u\n", e);
            return 1;
        }
        __wasi_ciovec_t out = {(const uint8_t *)buf, n + 6};
        uint32_t sent;
        if ((e = we_sock_send_to(fd, &out, 1, &fa, from_port, 0, &sent))) {
            fprintf(stderr, "udp-echo: sock_send_to: error %u\n", e);
            return 1;
        }
    }
}
