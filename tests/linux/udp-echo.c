/* udp-echo: a UDP echo server for wasm32-wasi through WasmEdge's socket API (V2 forms), for
 * tests/linux/network-modes.sh: `udp-echo PORT` answers every datagram with "echo: " and the
 * datagram, to its sender. Built by the test with
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

int main(int argc, char **argv) {
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
