/* A lunatic app for the tests (tests/linux/lunatic.sh), written against lunatic 0.13's host ABI
 * by hand (no SDK). LUNATIC_MODE picks what the first process does:
 *   spawn    spawn 1,000 processes (fresh instances running `child`), each sends its index back
 *   echo     a TCP echo server on 127.0.0.1:$LUNATIC_PORT, a process per connection (the stream
 *            travels to it in a message)
 *   link     a linked process that traps: its death arrives as a signal (with die_when_link_dies
 *            off), or kills the parent (with it on: mode link-die)
 *   timeout  a receive with a timeout, and tag filtering
 *   kill     kill a sleeping process; `exists` says it is gone
 *   timer    a message sent to itself after 100 ms; a canceled timer's never arrives */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
#define EXPORT(n)    __attribute__((export_name(n)))

IMPORT("lunatic::process", "spawn")
uint32_t lspawn(int64_t link, int64_t config, int64_t module, const char *fn, size_t fl,
                const uint8_t *params, size_t pl, uint64_t *id);
IMPORT("lunatic::process", "process_id") uint64_t process_id(void);
IMPORT("lunatic::process", "sleep_ms") void sleep_ms(uint64_t ms);
IMPORT("lunatic::process", "kill") void lkill(uint64_t pid);
IMPORT("lunatic::process", "exists") int32_t exists(uint64_t pid);
IMPORT("lunatic::process", "die_when_link_dies") void die_when_link_dies(uint32_t yes);
IMPORT("lunatic::message", "create_data") void create_data(int64_t tag, uint64_t capacity);
IMPORT("lunatic::message", "write_data") size_t write_data(const void *p, size_t n);
IMPORT("lunatic::message", "read_data") size_t read_data(void *p, size_t n);
IMPORT("lunatic::message", "get_tag") int64_t get_tag(void);
IMPORT("lunatic::message", "send") uint32_t lsend(uint64_t pid);
IMPORT("lunatic::message", "receive") uint32_t lreceive(const int64_t *tags, size_t n, uint64_t t);
IMPORT("lunatic::message", "push_tcp_stream") uint64_t push_tcp_stream(uint64_t id);
IMPORT("lunatic::message", "take_tcp_stream") uint64_t take_tcp_stream(uint64_t index);
IMPORT("lunatic::networking", "tcp_bind")
uint32_t tcp_bind(uint32_t type, const uint8_t *addr, uint32_t port, uint32_t flow, uint32_t scope,
                  uint64_t *id);
IMPORT("lunatic::networking", "tcp_accept")
uint32_t tcp_accept(uint64_t listener, uint64_t *id, uint64_t *peer);
IMPORT("lunatic::networking", "tcp_read")
uint32_t tcp_read(uint64_t stream, void *buf, size_t n, uint64_t *opaque);
IMPORT("lunatic::networking", "tcp_write_vectored")
uint32_t tcp_write_vectored(uint64_t stream, const uint32_t *iov, size_t n, uint64_t *opaque);
IMPORT("lunatic::networking", "drop_tcp_stream") void drop_tcp_stream(uint64_t stream);
IMPORT("lunatic::timer", "send_after") uint64_t send_after(uint64_t pid, uint64_t ms);
IMPORT("lunatic::timer", "cancel_timer") uint32_t cancel_timer(uint64_t id);
IMPORT("lunatic::error", "string_size") uint32_t error_size(uint64_t id);
IMPORT("lunatic::error", "to_string") void error_string(uint64_t id, char *out);

#define NO_TIMEOUT UINT64_MAX

/* One 17-byte spawn parameter: a type byte and a little-endian 16-byte value. */
static void param(uint8_t *p, uint8_t type, uint64_t v) {
    memset(p, 0, 17);
    p[0] = type;
    memcpy(p + 1, &v, 8);
}

static uint64_t spawn(const char *fn, int64_t link, uint64_t a, uint64_t b) {
    uint8_t params[34];
    param(params, 0x7E, a);
    param(params + 17, 0x7F, b);
    uint64_t id;
    if (lspawn(link, -1, -1, fn, strlen(fn), params, 34, &id)) {
        char msg[256] = "";
        uint32_t n = error_size(id);
        if (n < sizeof msg) error_string(id, msg);
        printf("spawn failed: %s\n", msg);
        exit(1);
    }
    return id;
}

EXPORT("child") void child(int64_t parent, int32_t index) {
    create_data(7, 4);
    write_data(&index, 4);
    lsend((uint64_t)parent);
}

EXPORT("conn") void conn(int64_t parent, int32_t unused) {
    (void)parent, (void)unused;
    int64_t tag = 5;
    if (lreceive(&tag, 1, NO_TIMEOUT)) return;
    uint64_t s = take_tcp_stream(0);
    char buf[4096];
    for (;;) {
        uint64_t n;
        if (tcp_read(s, buf, sizeof buf, &n) || n == 0) break;
        uint32_t iov[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)n};
        uint64_t w;
        if (tcp_write_vectored(s, iov, 1, &w)) break;
    }
    drop_tcp_stream(s);
}

EXPORT("crash") void crash(int64_t a, int32_t b) {
    (void)a, (void)b;
    sleep_ms(50);
    __builtin_trap();
}

EXPORT("sleeper") void sleeper(int64_t a, int32_t b) {
    (void)a, (void)b;
    sleep_ms(1000000);
}

int main(void) {
    const char *mode = getenv("LUNATIC_MODE") ? getenv("LUNATIC_MODE") : "spawn";
    uint64_t me = process_id();
    if (!strcmp(mode, "spawn")) {
        int n = 1000;
        for (int i = 0; i < n; i++) spawn("child", 0, me, (uint64_t)i);
        long sum = 0;
        int64_t tag = 7;
        for (int i = 0; i < n; i++) {
            if (lreceive(&tag, 1, 60000)) {
                printf("receive failed after %d\n", i);
                return 1;
            }
            int32_t v;
            if (read_data(&v, 4) != 4) return 1;
            sum += v;
        }
        printf("received %d messages, sum %ld\n", n, sum);
    } else if (!strcmp(mode, "echo")) {
        uint8_t addr[4] = {127, 0, 0, 1};
        uint64_t l, id, peer;
        const char *port = getenv("LUNATIC_PORT");
        if (tcp_bind(4, addr, port ? (uint32_t)atoi(port) : 3000, 0, 0, &l)) {
            printf("bind failed\n");
            return 1;
        }
        printf("listening\n");
        fflush(stdout);
        while (!tcp_accept(l, &id, &peer)) {
            uint64_t c = spawn("conn", 0, me, 0);
            create_data(5, 0);
            push_tcp_stream(id);
            lsend(c);
        }
    } else if (!strcmp(mode, "link")) {
        die_when_link_dies(0);
        spawn("crash", 42, me, 0);
        uint32_t r = lreceive(NULL, 0, 10000);
        printf("receive %u tag %lld\n", r, (long long)get_tag());
    } else if (!strcmp(mode, "link-die")) {
        spawn("crash", 42, me, 0);
        sleep_ms(10000);
        printf("not killed\n");
    } else if (!strcmp(mode, "timeout")) {
        int64_t tag = 3;
        printf("empty: %u\n", lreceive(&tag, 1, 100));
        create_data(9, 0); /* a message to itself with another tag: not matched */
        lsend(me);
        printf("other tag: %u\n", lreceive(&tag, 1, 100));
        int64_t nine = 9;
        printf("its tag: %u %lld\n", lreceive(&nine, 1, 100), (long long)get_tag());
    } else if (!strcmp(mode, "timer")) {
        int64_t t11 = 11, t12 = 12;
        create_data(11, 0);
        send_after(me, 100);
        uint32_t got = lreceive(&t11, 1, 5000);
        create_data(12, 0);
        uint64_t t = send_after(me, 300);
        uint32_t canceled = cancel_timer(t);
        printf("timer: %u cancel: %u again: %u after cancel: %u\n", got, canceled, cancel_timer(t),
               lreceive(&t12, 1, 600));
    } else if (!strcmp(mode, "kill")) {
        uint64_t s = spawn("sleeper", 0, me, 0);
        sleep_ms(50);
        printf("before: %d\n", exists(s));
        lkill(s);
        for (int i = 0; i < 100 && exists(s); i++) sleep_ms(10);
        printf("after: %d\n", exists(s));
    }
    return 0;
}
