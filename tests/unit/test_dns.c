/* The resolver behind sock_getaddrinfo (wasi/dns.h): numeric hosts, services, hosts files and a
 * small DNS server run by the test in a thread on 127.0.0.1 (A, AAAA, CNAME chains, NXDOMAIN,
 * no data, SERVFAIL, a truncated answer asked again over TCP, a reply with the wrong ID and
 * hostile replies), search lists and ndots, time-outs, DNS_SERVER values, concurrent callers, a
 * fuzz loop over the reply parser, and agreement with glibc's getaddrinfo: on the host's own
 * /etc/hosts, on a hosts file bind-mounted over it, and, in a network namespace of its own where
 * the test's server listens on port 53, on every name of the test zone. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "wasi/dns.h"

/* ---- a DNS server for the tests ---- */

/* The zone: every name ends in .test; anything else is NXDOMAIN. */
typedef struct zone_entry {
    const char *name;
    const char *a[3];
    const char *aaaa[2];
    const char *cname;
    int rcode;    /* answered with this RCODE and nothing else */
    bool reverse; /* the records of its CNAME chain come in reverse order */
} zone_entry;

static const zone_entry zone[] = {
    {"web.test", {"198.51.100.5"}, {"2001:db8::5"}, NULL, 0, false},
    {"v4only.test", {"198.51.100.6"}, {NULL}, NULL, 0, false},
    {"v6only.test", {NULL}, {"2001:db8::6"}, NULL, 0, false},
    {"multi.test",
     {"198.51.100.7", "203.0.113.9", "198.51.100.8"},
     {"2001:db8::7"},
     NULL,
     0,
     false},
    {"alias.test", {NULL}, {NULL}, "web.test", 0, false},
    {"chain.test", {NULL}, {NULL}, "c2.test", 0, false},
    {"chain2.test", {NULL}, {NULL}, "c2.test", 0, true},
    {"c2.test", {NULL}, {NULL}, "web.test", 0, false},
    {"loop.test", {NULL}, {NULL}, "loop.test", 0, false},
    {"nodata.test", {NULL}, {NULL}, NULL, 0, false},
    {"host.sub.test", {"198.51.100.13"}, {NULL}, NULL, 0, false},
    {"both.test", {NULL}, {"2001:db8::14"}, NULL, 0, false},
    {"trunc.test", {"198.51.100.10"}, {"2001:db8::10"}, NULL, 0, false},
    {"wrongid.test", {"198.51.100.11"}, {NULL}, NULL, 0, false},
    {"hostile.test", {"198.51.100.12"}, {NULL}, NULL, 0, false},
    {"servfail.test", {NULL}, {NULL}, NULL, 2, false},
    {"refused.test", {NULL}, {NULL}, NULL, 5, false},
    {"silent.test", {NULL}, {NULL}, NULL, -1, false},
};

static const zone_entry *zone_find(const char *name) {
    for (size_t i = 0; i < sizeof zone / sizeof zone[0]; i++)
        if (strcasecmp(zone[i].name, name) == 0) return &zone[i];
    return NULL;
}

typedef struct msg {
    uint8_t b[4096];
    size_t n;
} msg;

static void put8(msg *m, uint8_t v) {
    if (m->n < sizeof m->b) m->b[m->n++] = v;
}
static void put16(msg *m, uint16_t v) {
    put8(m, (uint8_t)(v >> 8));
    put8(m, (uint8_t)v);
}
static void put32(msg *m, uint32_t v) {
    put16(m, (uint16_t)(v >> 16));
    put16(m, (uint16_t)v);
}
static void put_bytes(msg *m, const void *p, size_t n) {
    for (size_t i = 0; i < n; i++) put8(m, ((const uint8_t *)p)[i]);
}
static void put_name(msg *m, const char *name) {
    while (*name) {
        size_t l = strcspn(name, ".");
        put8(m, (uint8_t)l);
        put_bytes(m, name, l);
        name += l;
        if (*name) name++;
    }
    put8(m, 0);
}

/* A record: the owner as a pointer to the question (offset 12) when it is the question's name. */
static void put_rr(msg *m, const char *owner, const char *qname, uint16_t type, const void *rdata,
                   size_t rdlen, const char *target) {
    if (strcasecmp(owner, qname) == 0)
        put16(m, 0xc00c);
    else
        put_name(m, owner);
    put16(m, type);
    put16(m, 1);
    put32(m, 60);
    if (target) {
        msg t = {.n = 0};
        put_name(&t, target);
        put16(m, (uint16_t)t.n);
        put_bytes(m, t.b, t.n);
    } else {
        put16(m, (uint16_t)rdlen);
        put_bytes(m, rdata, rdlen);
    }
}

typedef struct query {
    uint16_t id, qtype;
    char name[256];
    const uint8_t *question; /* name, type, class as received */
    size_t qlen;
} query;

static bool parse_query(const uint8_t *p, size_t n, query *q) {
    if (n < 17) return false;
    q->id = (uint16_t)(p[0] << 8 | p[1]);
    size_t off = 12, o = 0;
    while (off < n && p[off] != 0) {
        size_t l = p[off];
        if (l > 63 || off + 1 + l >= n || o + l + 1 >= sizeof q->name) return false;
        if (o) q->name[o++] = '.';
        memcpy(q->name + o, p + off + 1, l);
        o += l;
        off += 1 + l;
    }
    q->name[o] = '\0';
    if (off + 5 > n) return false;
    q->qtype = (uint16_t)(p[off + 1] << 8 | p[off + 2]);
    q->question = p + 12;
    q->qlen = off + 5 - 12;
    return true;
}

static void header(msg *m, uint16_t id, uint16_t flags, uint16_t an, const query *q) {
    m->n = 0;
    put16(m, id);
    put16(m, flags);
    put16(m, 1);
    put16(m, an);
    put16(m, 0);
    put16(m, 0);
    put_bytes(m, q->question, q->qlen);
}

/* The zone's answer to q; false for silence. */
static bool zone_answer(const query *q, bool tcp, msg *m) {
    const zone_entry *e = zone_find(q->name);
    if (!e) {
        header(m, q->id, 0x8183, 0, q); /* NXDOMAIN */
        return true;
    }
    if (e->rcode < 0) return false;
    if (e->rcode > 0) {
        header(m, q->id, (uint16_t)(0x8180 | e->rcode), 0, q);
        return true;
    }
    if (strcmp(e->name, "trunc.test") == 0 && !tcp) {
        header(m, q->id, 0x8380, 0, q); /* TC, nothing in it */
        return true;
    }
    /* the CNAME chain, then the addresses of its end */
    msg rrs[8];
    int n = 0;
    const zone_entry *cur = e;
    for (int hop = 0; cur && cur->cname && n < 6; hop++) {
        rrs[n].n = 0;
        put_rr(&rrs[n++], cur->name, q->name, 5, NULL, 0, cur->cname);
        if (strcmp(cur->cname, cur->name) == 0) break;
        cur = zone_find(cur->cname);
    }
    if (cur && (!cur->cname || strcmp(cur->cname, cur->name) != 0)) {
        for (int i = 0; i < 3 && n < 8; i++) {
            uint8_t a[16];
            const char *text = q->qtype == 1 ? cur->a[i] : i < 2 ? cur->aaaa[i] : NULL;
            if (!text) continue;
            inet_pton(q->qtype == 1 ? AF_INET : AF_INET6, text, a);
            rrs[n].n = 0;
            put_rr(&rrs[n++], cur->name, q->name, q->qtype, a, q->qtype == 1 ? 4 : 16, NULL);
        }
    }
    header(m, q->id, 0x8180, (uint16_t)n, q);
    for (int i = 0; i < n; i++) {
        const msg *r = &rrs[e->reverse ? n - 1 - i : i];
        put_bytes(m, r->b, r->n);
    }
    return true;
}

/* Replies that must be ignored, sent before the real one for hostile.test: each with the right
 * ID and question but a malformed answer section. */
static int hostile_replies(const query *q, msg out[8]) {
    int k = 0;
    header(&out[k], q->id, 0x8180, 1, q); /* an owner pointing to itself */
    put16(&out[k], (uint16_t)(0xc000 | out[k].n));
    put16(&out[k], 1), put16(&out[k], 1), put32(&out[k], 1), put16(&out[k], 4);
    put32(&out[k++], 0x01020304);
    header(&out[k], q->id, 0x8180, 1, q); /* an owner pointing forward, past the end */
    put16(&out[k++], 0xcfff);
    header(&out[k], q->id, 0x8180, 1, q); /* rdlength past the end */
    put16(&out[k], 0xc00c), put16(&out[k], 1), put16(&out[k], 1), put32(&out[k], 1);
    put16(&out[k], 4000);
    put32(&out[k++], 0x01020304);
    header(&out[k], q->id, 0x8180, 65535, q); /* 65535 answers announced, none there */
    k++;
    header(&out[k], q->id, 0x8180, 1, q); /* a label running past the end */
    put8(&out[k], 63);
    put_bytes(&out[k++], "abc", 3);
    header(&out[k], q->id, 0x8180, 1, q); /* two pointers pointing at each other */
    size_t at = out[k].n;
    put16(&out[k], (uint16_t)(0xc000 | (at + 2)));
    put16(&out[k], (uint16_t)(0xc000 | at));
    k++;
    header(&out[k], q->id, 0x8180, 1, q); /* a name of 63-byte labels longer than 255 */
    for (int i = 0; i < 5; i++) {
        put8(&out[k], 63);
        for (int j = 0; j < 63; j++) put8(&out[k], 'a');
    }
    put8(&out[k], 0);
    put16(&out[k], 1), put16(&out[k], 1), put32(&out[k], 1), put16(&out[k], 4);
    put32(&out[k++], 0x01020304);
    return k;
}

#define LOG_MAX 64

typedef struct test_server {
    int udp, tcp, stop[2];
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t mu;
    char log[LOG_MAX][300];
    int nlog;
} test_server;

static void server_log(test_server *s, const query *q, const char *how) {
    pthread_mutex_lock(&s->mu);
    if (s->nlog < LOG_MAX)
        snprintf(s->log[s->nlog++], sizeof s->log[0], "%s %s %s", q->name,
                 q->qtype == 1    ? "A"
                 : q->qtype == 28 ? "AAAA"
                                  : "?",
                 how);
    pthread_mutex_unlock(&s->mu);
}

/* The log as one string ("name A udp, name AAAA udp"), and cleared. */
static void server_take_log(test_server *s, char *out, size_t size) {
    pthread_mutex_lock(&s->mu);
    out[0] = '\0';
    for (int i = 0; i < s->nlog; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? ", " : "", s->log[i]);
    }
    s->nlog = 0;
    pthread_mutex_unlock(&s->mu);
}

static void serve_udp(test_server *s) {
    uint8_t buf[1500];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s->udp, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    query q;
    if (n <= 0 || !parse_query(buf, (size_t)n, &q)) return;
    server_log(s, &q, "udp");
    msg m;
    if (strcasecmp(q.name, "wrongid.test") == 0) {
        query other = q;
        other.id = (uint16_t)(q.id + 1);
        header(&m, other.id, 0x8180, 1, &q);
        uint8_t bad[4] = {192, 0, 2, 66};
        put_rr(&m, q.name, q.name, 1, bad, 4, NULL);
        sendto(s->udp, m.b, m.n, 0, (struct sockaddr *)&from, fl);
    }
    if (strcasecmp(q.name, "hostile.test") == 0) {
        msg bad[8];
        int k = hostile_replies(&q, bad);
        for (int i = 0; i < k; i++)
            sendto(s->udp, bad[i].b, bad[i].n, 0, (struct sockaddr *)&from, fl);
    }
    if (zone_answer(&q, false, &m)) sendto(s->udp, m.b, m.n, 0, (struct sockaddr *)&from, fl);
}

static bool read_full(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return false;
        p += r, n -= (size_t)r;
    }
    return true;
}

static void serve_tcp(test_server *s) {
    int fd = accept4(s->tcp, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t len[2], buf[1500];
    query q;
    while (read_full(fd, len, 2)) { /* glibc may send both queries on one connection */
        size_t n = (size_t)(len[0] << 8 | len[1]);
        if (n > sizeof buf || !read_full(fd, buf, n) || !parse_query(buf, n, &q)) break;
        server_log(s, &q, "tcp");
        msg m;
        if (!zone_answer(&q, true, &m)) break;
        uint8_t out[2 + sizeof m.b];
        out[0] = (uint8_t)(m.n >> 8), out[1] = (uint8_t)m.n;
        memcpy(out + 2, m.b, m.n);
        if (write(fd, out, m.n + 2) != (ssize_t)(m.n + 2)) break;
    }
    close(fd);
}

static void *server_main(void *arg) {
    test_server *s = arg;
    for (;;) {
        struct pollfd p[3] = {{s->udp, POLLIN, 0}, {s->tcp, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
        if (poll(p, 3, -1) < 0) continue;
        if (p[2].revents) return NULL;
        if (p[0].revents) serve_udp(s);
        if (p[1].revents) serve_tcp(s);
    }
}

/* Starts the server on 127.0.0.1 (UDP and TCP on one port): `port` or an ephemeral one. */
static void server_start(test_server *s, uint16_t port) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    for (int attempt = 0; attempt < 20; attempt++) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sin;
        s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(s->udp >= 0);
        ASSERT_EQ(bind(s->udp, (struct sockaddr *)&sin, sizeof sin), 0);
        getsockname(s->udp, (struct sockaddr *)&sin, &sl);
        s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s->tcp, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(s->tcp, 16) == 0) {
            s->port = ntohs(sin.sin_port);
            break;
        }
        close(s->udp);
        close(s->tcp);
        ASSERT_EQ(port, 0); /* a fixed port must be free */
    }
    ASSERT_NE(s->port, 0);
    ASSERT_EQ(pipe(s->stop), 0);
    ASSERT_EQ(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(test_server *s) {
    ASSERT_EQ(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->udp), close(s->tcp), close(s->stop[0]), close(s->stop[1]);
}

/* ---- helpers ---- */

typedef struct test_dir {
    char path[64], hosts[96], resolv[96], server[64];
} test_dir;

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs(text, f);
    ASSERT_EQ(fclose(f), 0);
}

/* A temporary directory with a hosts file and a resolv.conf; server "127.0.0.1:PORT". */
static void test_dir_make(test_dir *d, const char *hosts, const char *resolv, uint16_t port) {
    snprintf(d->path, sizeof d->path, "/tmp/wb-dns-XXXXXX");
    ASSERT_TRUE(mkdtemp(d->path) != NULL);
    snprintf(d->hosts, sizeof d->hosts, "%s/hosts", d->path);
    snprintf(d->resolv, sizeof d->resolv, "%s/resolv.conf", d->path);
    snprintf(d->server, sizeof d->server, "127.0.0.1:%u", port);
    write_text(d->hosts, hosts);
    write_text(d->resolv, resolv);
}

static void test_dir_remove(test_dir *d) {
    unlink(d->hosts);
    unlink(d->resolv);
    rmdir(d->path);
}

static void addr_text(const struct sockaddr *sa, char *out, size_t size) {
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
        snprintf(out, size, "%s", ip);
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        if (s6->sin6_scope_id)
            snprintf(out, size, "%s%%%u", ip, s6->sin6_scope_id);
        else
            snprintf(out, size, "%s", ip);
    }
}

static uint16_t port_of(const struct sockaddr *sa) {
    return ntohs(sa->sa_family == AF_INET ? ((const struct sockaddr_in *)sa)->sin_port
                                          : ((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* The distinct addresses of a list, in order, space-separated. */
static void addrs_text(const struct addrinfo *ai, char *out, size_t size) {
    out[0] = '\0';
    for (const struct addrinfo *p = ai; p; p = p->ai_next) {
        char a[80];
        addr_text(p->ai_addr, a, sizeof a);
        bool seen = false;
        for (const struct addrinfo *q = ai; q != p; q = q->ai_next) {
            char b[80];
            addr_text(q->ai_addr, b, sizeof b);
            seen |= strcmp(a, b) == 0;
        }
        if (seen) continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", used ? " " : "", a);
    }
}

/* Every field of every entry (glibc's duplicates, which ours leaves out, once). */
static void describe(int r, const struct addrinfo *ai, char *out, size_t size) {
    if (r != 0) {
        snprintf(out, size, "error %d (%s)", r, gai_strerror(r));
        return;
    }
    out[0] = '\0';
    for (const struct addrinfo *p = ai; p; p = p->ai_next) {
        bool dup = false;
        for (const struct addrinfo *q = ai; q != p && !dup; q = q->ai_next)
            dup = q->ai_family == p->ai_family && q->ai_socktype == p->ai_socktype &&
                  q->ai_protocol == p->ai_protocol && q->ai_addrlen == p->ai_addrlen &&
                  memcmp(q->ai_addr, p->ai_addr, p->ai_addrlen) == 0;
        if (dup) continue;
        char a[80];
        addr_text(p->ai_addr, a, sizeof a);
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s[%s port %u type %d proto %d flags %d%s%s]",
                 used ? " " : "", a, port_of(p->ai_addr), p->ai_socktype, p->ai_protocol,
                 p->ai_flags, p->ai_canonname ? " canon " : "",
                 p->ai_canonname ? p->ai_canonname : "");
    }
}

static int resolve(const wb_dns_config *cfg, const char *node, const char *service, int family,
                   int socktype, int flags, char *out, size_t size) {
    struct addrinfo hints = {.ai_flags = flags, .ai_family = family, .ai_socktype = socktype};
    struct addrinfo *res = NULL;
    int r = wb_dns_getaddrinfo(cfg, node, service, &hints, &res);
    if (r == 0) {
        addrs_text(res, out, size);
        if (res->ai_canonname) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, " canon=%s", res->ai_canonname);
        }
    } else {
        snprintf(out, size, "error %d", r);
        ASSERT_TRUE(res == NULL);
    }
    wb_dns_freeaddrinfo(res);
    return r;
}

static void sorted_words(const char *in, char *out, size_t size) {
    char words[16][80];
    int n = 0;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", in);
    for (char *save, *w = strtok_r(copy, " ", &save); w && n < 16; w = strtok_r(NULL, " ", &save))
        snprintf(words[n++], sizeof words[0], "%s", w);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(words[j - 1], words[j]) > 0; j--) {
            char t[80];
            memcpy(t, words[j], sizeof t);
            memcpy(words[j], words[j - 1], sizeof t);
            memcpy(words[j - 1], t, sizeof t);
        }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? " " : "", words[i]);
    }
}

static int64_t ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define DNS_RESOLV "nameserver 127.0.0.1\nsearch test\noptions timeout:2 attempts:1\n"

/* ---- numbers, services, hosts files ---- */

TEST(dns_numeric_hosts) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", DNS_RESOLV, s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512], log[1024];
    resolve(&cfg, "192.0.2.1", NULL, AF_UNSPEC, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "192.0.2.1");
    resolve(&cfg, "127.1", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "127.0.0.1");
    resolve(&cfg, "0x7f.0.0.010", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "127.0.0.8");
    resolve(&cfg, "2001:db8::1", NULL, AF_UNSPEC, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "2001:db8::1 canon=2001:db8::1");
    resolve(&cfg, "fe80::1%7", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "fe80::1%7");
    resolve(&cfg, "::ffff:192.0.2.9", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "192.0.2.9");
    ASSERT_EQ(resolve(&cfg, "192.0.2.1", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out),
              EAI_ADDRFAMILY);
    resolve(&cfg, "192.0.2.1", NULL, AF_INET6, SOCK_STREAM, AI_V4MAPPED, out, sizeof out);
    ASSERT_STR_EQ(out, "::ffff:192.0.2.1");
    ASSERT_EQ(resolve(&cfg, "2001:db8::1", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out),
              EAI_ADDRFAMILY);
    ASSERT_EQ(resolve(&cfg, "fe80::1%nosuchif0", NULL, AF_INET6, 0, 0, out, sizeof out),
              EAI_NONAME);
    ASSERT_EQ(resolve(&cfg, "web", NULL, AF_INET, 0, AI_NUMERICHOST, out, sizeof out), EAI_NONAME);
    ASSERT_EQ(resolve(&cfg, "1.2.3.4.5", NULL, AF_INET, 0, AI_NUMERICHOST, out, sizeof out),
              EAI_NONAME);
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, ""); /* numbers need no server */
    /* no node: loopback, or the wildcard with AI_PASSIVE */
    resolve(&cfg, NULL, "80", AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "127.0.0.1");
    resolve(&cfg, NULL, "80", AF_INET6, SOCK_STREAM, AI_PASSIVE, out, sizeof out);
    ASSERT_STR_EQ(out, "::");
    char sorted[512];
    resolve(&cfg, NULL, "80", AF_UNSPEC, SOCK_STREAM, AI_PASSIVE, out, sizeof out);
    sorted_words(out, sorted, sizeof sorted);
    ASSERT_STR_EQ(sorted, "0.0.0.0 ::");
    ASSERT_EQ(resolve(&cfg, NULL, NULL, AF_UNSPEC, 0, 0, out, sizeof out), EAI_NONAME);
    ASSERT_EQ(resolve(&cfg, NULL, "80", AF_UNSPEC, 0, AI_CANONNAME, out, sizeof out), EAI_BADFLAGS);
    ASSERT_EQ(resolve(&cfg, "192.0.2.1", NULL, AF_UNIX, 0, 0, out, sizeof out), EAI_FAMILY);
    test_dir_remove(&d);
    server_stop(&s);
}

/* Our answer and glibc's for the same question, which needs no name lookup or only the host's
 * files. */
static void same_as_libc(const wb_dns_config *cfg, const char *node, const char *service,
                         int family, int socktype, int protocol, int flags) {
    struct addrinfo hints = {
        .ai_flags = flags, .ai_family = family, .ai_socktype = socktype, .ai_protocol = protocol};
    struct addrinfo *mine = NULL, *theirs = NULL;
    int r1 = wb_dns_getaddrinfo(cfg, node, service, &hints, &mine);
    int r2 = getaddrinfo(node, service, &hints, &theirs);
    static char a[16384], b[16384];
    describe(r1, mine, a, sizeof a);
    describe(r2, theirs, b, sizeof b);
    if (strcmp(a, b) != 0)
        wb_test_fail(__FILE__, __LINE__,
                     "node %s service %s family %d socktype %d protocol %d flags 0x%x:\n"
                     "      ours:  %s\n      glibc: %s",
                     node ? node : "NULL", service ? service : "NULL", family, socktype, protocol,
                     flags, a, b);
    wb_dns_freeaddrinfo(mine);
    if (r2 == 0) freeaddrinfo(theirs);
}

TEST(dns_services_as_libc) {
    wb_dns_config cfg = {NULL, "/nonexistent/resolv.conf", NULL};
    const char *services[] = {NULL,         "80",     "0",   "65535",
                              "http",       "domain", "ssh", "nosuchservice",
                              "4294967297", "-1",     "*"};
    const int types[][2] = {{0, 0},
                            {SOCK_STREAM, 0},
                            {SOCK_DGRAM, 0},
                            {SOCK_RAW, 0},
                            {0, IPPROTO_TCP},
                            {0, IPPROTO_UDP},
                            {SOCK_DGRAM, IPPROTO_TCP},
                            {SOCK_STREAM, IPPROTO_TCP},
                            {SOCK_RAW, IPPROTO_UDP},
                            {SOCK_SEQPACKET, 0}};
    const int flags[] = {0, AI_NUMERICSERV, AI_PASSIVE};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++)
            for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
                same_as_libc(&cfg, "192.0.2.1", services[i], AF_UNSPEC, types[t][0], types[t][1],
                             flags[f]);
                same_as_libc(&cfg, NULL, services[i] ? services[i] : "80", AF_UNSPEC, types[t][0],
                             types[t][1], flags[f]);
            }
    /* the numeric forms, every family and flag */
    const char *nodes[] = {"192.0.2.1",       "127.1",    "0x7f.1",     "08.1.2.3",
                           "1.2.3.4 ",        " 1.2.3.4", "::1",        "fe80::1%1",
                           "::ffff:10.1.2.3", "1::2::3",  "1.2.3.4.",   "256.1.1.1",
                           "0.0.0.0",         "::",       "4294967295", "4294967296"};
    const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
    const int gflags[] = {0,
                          AI_NUMERICHOST,
                          AI_V4MAPPED,
                          AI_V4MAPPED | AI_ALL,
                          AI_CANONNAME,
                          AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST};
    for (size_t n = 0; n < sizeof nodes / sizeof nodes[0]; n++)
        for (size_t fa = 0; fa < 3; fa++)
            for (size_t f = 0; f < sizeof gflags / sizeof gflags[0]; f++)
                if ((gflags[f] & AI_NUMERICHOST) ||
                    strspn(nodes[n], "0123456789.:afx%") == strlen(nodes[n]))
                    same_as_libc(&cfg, nodes[n], "80", families[fa], SOCK_STREAM, 0,
                                 gflags[f] | AI_NUMERICHOST);
}

TEST(dns_hosts_file) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d,
                  "# a comment line\n"
                  "127.0.0.1\tlocalhost\n"
                  "::1 localhost ip6-localhost\n"
                  "10.88.0.5   Web web.dns.podman   # the container itself\n"
                  "10.88.0.6 db\n"
                  "fd00::6 db\n"
                  "10.88.0.7 other db\n"
                  "10.88.0.6 DB\n"
                  "not-an-address db\n"
                  "10.88.0.8\n"
                  "   10.88.0.9 indented\n",
                  DNS_RESOLV, s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512], log[1024];
    resolve(&cfg, "db", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "10.88.0.6 10.88.0.7"); /* every line in order, once each */
    resolve(&cfg, "db", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "fd00::6");
    resolve(&cfg, "WEB", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "10.88.0.5 canon=Web");
    resolve(&cfg, "web.DNS.podman", NULL, AF_UNSPEC, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "10.88.0.5 canon=Web");
    resolve(&cfg, "indented", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "10.88.0.9");
    resolve(&cfg, "localhost", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "127.0.0.1"); /* and ::1, read as 127.0.0.1, is the same one */
    resolve(&cfg, "ip6-localhost", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "127.0.0.1");
    resolve(&cfg, "localhost", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "::1");
    char sorted[512];
    resolve(&cfg, "localhost", "80", AF_UNSPEC, SOCK_STREAM, 0, out, sizeof out);
    sorted_words(out, sorted, sizeof sorted);
    ASSERT_STR_EQ(sorted, "127.0.0.1 ::1");
    resolve(&cfg, "other", NULL, AF_INET6, SOCK_STREAM, AI_V4MAPPED, out, sizeof out);
    ASSERT_STR_EQ(out, "::ffff:10.88.0.7");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, ""); /* all from the file */
    /* a name the file has only for IPv4, asked for IPv6: DNS is asked, as glibc does */
    ASSERT_EQ(resolve(&cfg, "other", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out), EAI_NONAME);
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "other.test AAAA udp, other AAAA udp");
    /* the file is read at each call */
    write_text(d.hosts, "10.88.0.42 newcomer\n");
    resolve(&cfg, "newcomer", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "10.88.0.42");
    /* no hosts file configured, or a missing one: DNS only */
    wb_dns_config dns_only = {NULL, d.resolv, d.server};
    ASSERT_EQ(resolve(&dns_only, "newcomer", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NONAME);
    wb_dns_config missing = {"/nonexistent/hosts", d.resolv, d.server};
    resolve(&missing, "web", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5");
    test_dir_remove(&d);
    server_stop(&s);
}

/* ---- DNS ---- */

TEST(dns_a_aaaa_cname) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", DNS_RESOLV, s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512], sorted[512];
    resolve(&cfg, "web.test", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5 canon=web.test");
    resolve(&cfg, "web.test", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "2001:db8::5");
    resolve(&cfg, "web.test", "80", AF_UNSPEC, SOCK_STREAM, 0, out, sizeof out);
    sorted_words(out, sorted, sizeof sorted);
    ASSERT_STR_EQ(sorted, "198.51.100.5 2001:db8::5");
    resolve(&cfg, "WEB.Test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5");
    resolve(&cfg, "multi.test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.7 203.0.113.9 198.51.100.8"); /* the server's order */
    resolve(&cfg, "alias.test", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5 canon=web.test");
    resolve(&cfg, "chain.test", NULL, AF_INET6, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "2001:db8::5 canon=web.test");
    resolve(&cfg, "chain2.test", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5 canon=web.test"); /* records in reverse order */
    resolve(&cfg, "v4only.test", "80", AF_UNSPEC, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.6");
    resolve(&cfg, "v4only.test", NULL, AF_INET6, SOCK_STREAM, AI_V4MAPPED, out, sizeof out);
    ASSERT_STR_EQ(out, "::ffff:198.51.100.6");
    resolve(&cfg, "web.test", NULL, AF_INET6, SOCK_STREAM, AI_V4MAPPED | AI_ALL, out, sizeof out);
    sorted_words(out, sorted, sizeof sorted);
    ASSERT_STR_EQ(sorted, "2001:db8::5 ::ffff:198.51.100.5");
    /* a name that does not exist, and names without such addresses */
    ASSERT_EQ(resolve(&cfg, "missing.test", NULL, AF_UNSPEC, 0, 0, out, sizeof out), EAI_NONAME);
    ASSERT_EQ(resolve(&cfg, "v6only.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NODATA);
    ASSERT_EQ(resolve(&cfg, "nodata.test", NULL, AF_UNSPEC, 0, 0, out, sizeof out), EAI_NODATA);
    ASSERT_EQ(resolve(&cfg, "loop.test", NULL, AF_UNSPEC, 0, 0, out, sizeof out), EAI_NONAME);
    ASSERT_EQ(resolve(&cfg, "loop.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NODATA);
    ASSERT_EQ(resolve(&cfg, "servfail.test", NULL, AF_UNSPEC, 0, 0, out, sizeof out), EAI_AGAIN);
    /* glibc's quirk, kept: for AF_INET the NXDOMAIN of the search list's servfail.test.test,
     * which comes last, makes it an unknown name; without a search list it is EAI_AGAIN */
    ASSERT_EQ(resolve(&cfg, "servfail.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NONAME);
    write_text(d.resolv, "nameserver 127.0.0.1\n");
    ASSERT_EQ(resolve(&cfg, "servfail.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_AGAIN);
    ASSERT_EQ(resolve(&cfg, "a..b", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NONAME);
    test_dir_remove(&d);
    server_stop(&s);
}

TEST(dns_truncated_reply_goes_tcp) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", DNS_RESOLV, s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512], log[1024];
    resolve(&cfg, "trunc.test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.10");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "trunc.test A udp, trunc.test A tcp");
    /* use-vc: TCP from the start */
    write_text(d.resolv, "nameserver 127.0.0.1\noptions use-vc\n");
    resolve(&cfg, "web.test", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "2001:db8::5");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "web.test AAAA tcp");
    test_dir_remove(&d);
    server_stop(&s);
}

TEST(dns_wrong_id_and_hostile_replies_ignored) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", DNS_RESOLV, s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512];
    resolve(&cfg, "wrongid.test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.11");
    resolve(&cfg, "hostile.test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.12");
    test_dir_remove(&d);
    server_stop(&s);
}

TEST(dns_search_list_and_ndots) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", "nameserver 127.0.0.1\nsearch test other.test\n", s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512], log[1024];
    /* no dot: the search list first */
    resolve(&cfg, "web", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5 canon=web.test");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "web.test A udp");
    /* one dot, ndots 1: as is first, then the list */
    resolve(&cfg, "host.sub", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.13");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "host.sub A udp, host.sub.test A udp");
    /* a final dot: only as is */
    ASSERT_EQ(resolve(&cfg, "web.", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NONAME);
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "web A udp");
    resolve(&cfg, "web.test.", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5");
    /* nowhere: every domain, then as is */
    server_take_log(&s, log, sizeof log);
    ASSERT_EQ(resolve(&cfg, "nothere", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NONAME);
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "nothere.test A udp, nothere.other.test A udp, nothere A udp");
    /* no data in a domain: the search goes on, and says so at the end */
    ASSERT_EQ(resolve(&cfg, "nodata", NULL, AF_INET, 0, 0, out, sizeof out), EAI_NODATA);
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "nodata.test A udp, nodata.other.test A udp, nodata A udp");
    /* ndots:2: a name with one dot tries the list first */
    write_text(d.resolv, "nameserver 127.0.0.1\nsearch test\noptions ndots:2\n");
    resolve(&cfg, "host.sub", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.13");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "host.sub.test A udp");
    /* `domain` is a one-entry search list; the later of domain/search wins */
    write_text(d.resolv, "search nowhere\ndomain test\nnameserver 127.0.0.1\n");
    resolve(&cfg, "web", NULL, AF_INET6, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "2001:db8::5");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "web.test AAAA udp");
    /* AF_UNSPEC sends A and AAAA together */
    resolve(&cfg, "v6only", "80", AF_UNSPEC, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "2001:db8::6");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "v6only.test A udp, v6only.test AAAA udp");
    test_dir_remove(&d);
    server_stop(&s);
}

TEST(dns_no_answer_is_eai_again) {
    /* a port where something listens but never answers: timeout:1 attempts:1 is one second */
    int silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sin;
    ASSERT_EQ(bind(silent, (struct sockaddr *)&sin, sizeof sin), 0);
    getsockname(silent, (struct sockaddr *)&sin, &sl);
    test_dir d;
    test_dir_make(&d, "", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
                  ntohs(sin.sin_port));
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    char out[512];
    int64_t t0 = ms_now();
    ASSERT_EQ(resolve(&cfg, "web.test", NULL, AF_UNSPEC, 0, 0, out, sizeof out), EAI_AGAIN);
    int64_t took = ms_now() - t0;
    ASSERT_GE(took, 900);
    ASSERT_LT(took, 2500);
    /* a port nobody listens on: refused at once */
    close(silent);
    t0 = ms_now();
    ASSERT_EQ(resolve(&cfg, "web.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_AGAIN);
    ASSERT_LT(ms_now() - t0, 900);
    /* the test server's silent name, with two attempts */
    test_server s;
    server_start(&s, 0);
    snprintf(d.server, sizeof d.server, "127.0.0.1:%u", s.port);
    write_text(d.resolv, "options timeout:1 attempts:2\n");
    t0 = ms_now();
    ASSERT_EQ(resolve(&cfg, "silent.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_AGAIN);
    took = ms_now() - t0;
    ASSERT_GE(took, 1900);
    ASSERT_LT(took, 3500);
    test_dir_remove(&d);
    server_stop(&s);
}

TEST(dns_server_values) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    /* resolv.conf's own server is not the test's: DNS_SERVER replaces it */
    test_dir_make(&d, "10.88.0.5 fromhosts\n", "nameserver 192.0.2.53\nsearch test\n", s.port);
    char out[512], log[1024];
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    resolve(&cfg, "web", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5");
    resolve(&cfg, "fromhosts", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "10.88.0.5"); /* the hosts file is still read first */
    /* DNS_SERVER without any container files: no hosts file, default options */
    wb_dns_config plain = {NULL, NULL, d.server};
    resolve(&plain, "web.test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "198.51.100.5");
    server_take_log(&s, log, sizeof log);
    ASSERT_STR_EQ(log, "web.test A udp, web.test A udp");
    /* written other ways */
    char v[64];
    snprintf(v, sizeof v, "[::ffff:127.0.0.1]:%u", s.port);
    wb_dns_config mapped = {NULL, NULL, v};
    int r = resolve(&mapped, "web.test", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
    if (r == 0) ASSERT_STR_EQ(out, "198.51.100.5"); /* else: no IPv6 sockets here */
    /* malformed: EAI_FAIL for what needs a server, never a crash; numbers still work */
    const char *bad[] = {"",
                         "nonsense",
                         "dns.example:53",
                         "127.0.0.1:",
                         "127.0.0.1:0",
                         "127.0.0.1:99999",
                         "127.0.0.1:53x",
                         "[::1",
                         "[::1]x",
                         "[::1]:",
                         "1.2.3.4:5:6x",
                         "::1::2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wb_dns_config b = {NULL, NULL, bad[i]};
        ASSERT_EQ(resolve(&b, "web.test", NULL, AF_INET, 0, 0, out, sizeof out), EAI_FAIL);
        resolve(&b, "192.0.2.1", NULL, AF_INET, SOCK_STREAM, 0, out, sizeof out);
        ASSERT_STR_EQ(out, "192.0.2.1");
    }
    test_dir_remove(&d);
    server_stop(&s);
}

typedef struct worker {
    const wb_dns_config *cfg;
    int failures;
} worker;

static void *resolve_many(void *arg) {
    worker *w = arg;
    const char *names[][2] = {{"web.test", "198.51.100.5"},
                              {"alias.test", "198.51.100.5"},
                              {"trunc.test", "198.51.100.10"},
                              {"v4only", "198.51.100.6"}};
    for (int i = 0; i < 40; i++) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
        const char *(*n)[2] = &names[i % 4];
        if (wb_dns_getaddrinfo(w->cfg, (*n)[0], "80", &hints, &res) != 0) {
            w->failures++;
            continue;
        }
        char a[80];
        addr_text(res->ai_addr, a, sizeof a);
        if (strcmp(a, (*n)[1]) != 0 || res->ai_next) w->failures++;
        wb_dns_freeaddrinfo(res);
    }
    return NULL;
}

TEST(dns_concurrent_callers) {
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", DNS_RESOLV, s.port);
    wb_dns_config cfg = {d.hosts, d.resolv, d.server};
    pthread_t t[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){&cfg, 0};
        ASSERT_EQ(pthread_create(&t[i], NULL, resolve_many, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(w[i].failures, 0);
    }
    test_dir_remove(&d);
    server_stop(&s);
}

/* ---- the reply parser ---- */

static void reply_for(const char *name, uint16_t qtype, uint16_t id, bool tcp, msg *m) {
    msg qm = {.n = 0};
    put16(&qm, id);
    put16(&qm, 0x0100);
    put16(&qm, 1), put16(&qm, 0), put16(&qm, 0), put16(&qm, 0);
    put_name(&qm, name);
    put16(&qm, qtype), put16(&qm, 1);
    query q;
    ASSERT_TRUE(parse_query(qm.b, qm.n, &q));
    ASSERT_TRUE(zone_answer(&q, tcp, m));
}

TEST(dns_parse_reply_checks) {
    msg m;
    wb_dns_reply r;
    reply_for("alias.test", 1, 0x1234, false, &m);
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 0x1234, "alias.test", 1, &r), 0);
    ASSERT_EQ(r.naddrs, 1);
    ASSERT_STR_EQ(r.canon, "web.test");
    ASSERT_EQ(r.ancount, 2);
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 0x1234, "ALIAS.TEST", 1, &r), 0);
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 0x1235, "alias.test", 1, &r), -1); /* id */
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 0x1234, "other.test", 1, &r), -1); /* question */
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 0x1234, "alias.test", 28, &r), -1);
    for (size_t cut = 0; cut < m.n; cut++) /* every truncation is malformed */
        ASSERT_EQ(wb_dns_parse_reply(m.b, cut, 0x1234, "alias.test", 1, &r), -1);
    m.b[2] &= 0x7f; /* a query, not a response */
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 0x1234, "alias.test", 1, &r), -1);
    reply_for("missing.test", 28, 7, false, &m);
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 7, "missing.test", 28, &r), 0);
    ASSERT_EQ(r.rcode, 3);
    reply_for("trunc.test", 1, 9, false, &m);
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n, 9, "trunc.test", 1, &r), 0);
    ASSERT_TRUE(r.truncated);
    /* a truncated reply cut in the middle of a record still says TC */
    reply_for("multi.test", 1, 11, false, &m);
    m.b[2] |= 0x02;
    ASSERT_EQ(wb_dns_parse_reply(m.b, m.n - 3, 11, "multi.test", 1, &r), 0);
    ASSERT_TRUE(r.truncated);
    /* the hostile ones */
    query q = {.id = 5, .qtype = 1};
    msg qm = {.n = 0};
    put_name(&qm, "hostile.test");
    put16(&qm, 1), put16(&qm, 1);
    q.question = qm.b;
    q.qlen = qm.n;
    msg bad[8];
    int k = hostile_replies(&q, bad);
    for (int i = 0; i < k; i++)
        ASSERT_EQ(wb_dns_parse_reply(bad[i].b, bad[i].n, 5, "hostile.test", 1, &r), -1);
    /* a compressed question pointing to itself */
    uint8_t loop[] = {0, 5, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    ASSERT_EQ(wb_dns_parse_reply(loop, sizeof loop, 5, "x", 1, &r), -1);
}

static uint32_t rng_next(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

TEST(dns_parse_reply_fuzz) {
    /* mutated replies of every kind from the zone, and random bytes behind a valid header: the
     * parser returns -1 or 0 and never reads outside (the SAN build checks that) */
    const char *names[] = {"web.test",   "alias.test", "chain2.test",
                           "multi.test", "loop.test",  "missing.test"};
    uint32_t seed = 0x9e3779b9u;
    wb_dns_reply r;
    for (int iter = 0; iter < 60000; iter++) {
        const char *name = names[iter % 6];
        uint16_t qtype = (iter / 6) % 2 ? 28 : 1;
        msg m;
        reply_for(name, qtype, 0x4242, true, &m);
        int edits = 1 + (int)(rng_next(&seed) % 8);
        for (int e = 0; e < edits; e++) {
            size_t at = 12 + rng_next(&seed) % (m.n - 12);
            switch (rng_next(&seed) % 4) {
            case 0: m.b[at] = (uint8_t)rng_next(&seed); break;
            case 1: m.b[at] = (uint8_t)(0xc0 | (rng_next(&seed) & 1)); break; /* pointers */
            case 2: m.b[at] ^= (uint8_t)(1u << (rng_next(&seed) % 8)); break;
            default: m.n = at + 1; break;
            }
        }
        if (iter % 17 == 0) { /* random tail */
            m.n = 12 + rng_next(&seed) % 300;
            for (size_t i = 12; i < m.n; i++) m.b[i] = (uint8_t)rng_next(&seed);
        }
        uint8_t *copy = malloc(m.n); /* exactly sized, so ASan sees any overread */
        memcpy(copy, m.b, m.n);
        int res = wb_dns_parse_reply(copy, m.n, 0x4242, name, qtype, &r);
        ASSERT_TRUE(res == 0 || res == -1);
        if (res == 0) ASSERT_LE(r.naddrs, WB_DNS_MAX_ADDRS);
        free(copy);
    }
}

/* ---- agreement with glibc ---- */

static const int cmp_families[] = {AF_UNSPEC, AF_INET, AF_INET6};
static const int cmp_flags[] = {0,
                                AI_CANONNAME,
                                AI_V4MAPPED,
                                AI_V4MAPPED | AI_ALL,
                                AI_ADDRCONFIG,
                                AI_CANONNAME | AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG,
                                AI_PASSIVE};

/* Every combination for which ours did not need the DNS server (when `files_only`): glibc would
 * ask the host's. */
static int compare_names(const wb_dns_config *cfg, test_server *s, const char *const *names,
                         size_t n, bool files_only) {
    int compared = 0;
    char log[1024];
    for (size_t i = 0; i < n; i++)
        for (size_t fa = 0; fa < 3; fa++)
            for (size_t f = 0; f < sizeof cmp_flags / sizeof cmp_flags[0]; f++)
                for (int st = 0; st < 2; st++) {
                    const char *service = st ? "80" : NULL;
                    int socktype = st ? SOCK_STREAM : 0;
                    if (files_only) {
                        struct addrinfo h = {.ai_flags = cmp_flags[f],
                                             .ai_family = cmp_families[fa],
                                             .ai_socktype = socktype},
                                        *res = NULL;
                        server_take_log(s, log, sizeof log);
                        int r = wb_dns_getaddrinfo(cfg, names[i], service, &h, &res);
                        if (r == 0) wb_dns_freeaddrinfo(res);
                        server_take_log(s, log, sizeof log);
                        if (log[0] || r == EAI_AGAIN) continue;
                    }
                    same_as_libc(cfg, names[i], service, cmp_families[fa], socktype, 0,
                                 cmp_flags[f]);
                    compared++;
                }
    return compared;
}

/* The names of a hosts file. */
static size_t hosts_names(const char *path, char names[][64], size_t max) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "#")] = '\0';
        char *save, *w = strtok_r(line, " \t\r\n", &save);
        while (w && (w = strtok_r(NULL, " \t\r\n", &save)) && n < max) {
            bool dup = false;
            for (size_t i = 0; i < n; i++) dup |= strcmp(names[i], w) == 0;
            if (!dup && strlen(w) < 64) strcpy(names[n++], w);
        }
    }
    fclose(f);
    return n;
}

static bool nscd_running(void) {
    return access("/var/run/nscd/socket", F_OK) == 0 || access("/run/nscd/socket", F_OK) == 0;
}

TEST(dns_matches_libc_on_host_hosts) {
    if (nscd_running()) SKIP("nscd answers glibc's lookups from its cache");
    test_server s;
    server_start(&s, 0);
    test_dir d;
    test_dir_make(&d, "", DNS_RESOLV, s.port);
    wb_dns_config cfg = {"/etc/hosts", d.resolv, d.server};
    char names[64][64];
    size_t n = hosts_names("/etc/hosts", names, 64);
    if (n == 0) {
        test_dir_remove(&d);
        SKIP("no names in /etc/hosts");
    }
    const char *ptrs[64];
    for (size_t i = 0; i < n; i++) ptrs[i] = names[i];
    ASSERT_GE(compare_names(&cfg, &s, ptrs, n, true), 1);
    test_dir_remove(&d);
    server_stop(&s);
}

/* A mount namespace of our own (and a network one with `net`): as root, or in a user namespace
 * when unprivileged ones are allowed. */
static bool enter_namespaces(bool net) {
    int flags = CLONE_NEWNS | (net ? CLONE_NEWNET : 0);
    if (unshare(flags) != 0) {
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER | flags) != 0) return false;
        char map[64];
        int fd = open("/proc/self/setgroups", O_WRONLY);
        if (fd >= 0) {
            if (write(fd, "deny", 4) < 0) { /* older kernels have no such file */
            }
            close(fd);
        }
        snprintf(map, sizeof map, "0 %u 1", uid);
        fd = open("/proc/self/uid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0) return false;
        close(fd);
        snprintf(map, sizeof map, "0 %u 1", gid);
        fd = open("/proc/self/gid_map", O_WRONLY);
        if (fd < 0 || write(fd, map, strlen(map)) < 0) return false;
        close(fd);
    }
    /* nothing mounted here may reach the host's namespace */
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static bool bind_file(const char *from, const char *to) {
    struct stat st;
    return stat(to, &st) == 0 && S_ISREG(st.st_mode) && mount(from, to, NULL, MS_BIND, NULL) == 0;
}

#define CMP_HOSTS                                                                                  \
    "127.0.0.1 localhost\n"                                                                        \
    "::1 localhost ip6-localhost\n"                                                                \
    "10.88.0.5 Web-1 web1 # a container\n"                                                         \
    "10.88.0.6 both\n"                                                                             \
    "192.0.2.77 multi\n"                                                                           \
    "8.8.8.8 multi\n"                                                                              \
    "127.0.0.2 multi\n"                                                                            \
    "::1 multi\n"                                                                                  \
    "fd00::5 multi\n"                                                                              \
    "2001:db8::1 multi\n"                                                                          \
    "::ffff:10.1.1.3 multi mapped\n"                                                               \
    "fe80::1 multi linklocal\n"                                                                    \
    "169.254.1.1 multi\n"                                                                          \
    "2002::1 six-to-four\n"                                                                        \
    "fec0::1 sitelocal\n"

TEST(dns_matches_libc_on_a_mounted_hosts_file) {
    if (nscd_running()) SKIP("nscd answers glibc's lookups from its cache");
    test_server s;
    test_dir d;
    test_dir_make(&d, CMP_HOSTS, DNS_RESOLV, 1);
    if (!enter_namespaces(false) || !bind_file(d.hosts, "/etc/hosts")) {
        test_dir_remove(&d);
        SKIP("no mount namespace to put a hosts file in (needs root or user namespaces)");
    }
    server_start(&s, 0);
    snprintf(d.server, sizeof d.server, "127.0.0.1:%u", s.port);
    wb_dns_config cfg = {"/etc/hosts", d.resolv, d.server};
    const char *names[] = {"localhost", "ip6-localhost", "web1",      "WEB-1",       "both",
                           "multi",     "mapped",        "linklocal", "six-to-four", "sitelocal"};
    /* the host's own interfaces order the results here */
    ASSERT_GE(compare_names(&cfg, &s, names, sizeof names / sizeof names[0], true), 100);
    server_stop(&s);
    test_dir_remove(&d);
}

static void loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    ASSERT_EQ(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    ASSERT_EQ(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
    close(fd);
}

TEST(dns_matches_libc_through_dns) {
    if (nscd_running()) SKIP("nscd answers glibc's lookups from its cache");
    test_dir d;
    test_dir_make(&d, CMP_HOSTS,
                  "nameserver 127.0.0.1\nsearch test other.test\noptions timeout:1 attempts:1\n",
                  53);
    if (!enter_namespaces(true) || !bind_file(d.hosts, "/etc/hosts") ||
        !bind_file(d.resolv, "/etc/resolv.conf")) {
        test_dir_remove(&d);
        SKIP("no network namespace for a server on port 53 (needs root or user namespaces)");
    }
    loopback_up();
    test_server s;
    server_start(&s, 53);
    wb_dns_config cfg = {"/etc/hosts", "/etc/resolv.conf", NULL}; /* what glibc reads */
    /* not chain2.test: glibc follows a CNAME chain only in record order (EAI_NONAME), ours in
     * any order; nor hostile.test and silent.test, which glibc does not survive quickly */
    const char *names[] = {"web",        "web.test",     "WEB.TEST",     "web.test.",
                           "web.",       "alias.test",   "chain.test",   "c2.test",
                           "multi.test", "v4only.test",  "v6only.test",  "nodata.test",
                           "nodata",     "missing.test", "nothere",      "host.sub",
                           "trunc.test", "wrongid.test", "loop.test",    "servfail.test",
                           "both",       "both.test",    "localhost",    "multi",
                           "v6only",     "a..b",         "refused.test", ""};
    ASSERT_GE(compare_names(&cfg, &s, names, sizeof names / sizeof names[0], false), 500);
    /* another resolv.conf (glibc notices the change): ndots 2, the search list the other way */
    write_text(d.resolv, "search other.test test\nnameserver 127.0.0.1\n"
                         "options ndots:2 timeout:1 attempts:1\n");
    const char *more[] = {"web",  "host.sub",  "web.test", "nothere.x", "-web",
                          "we_b", "web-.test", "x.y.z.w",  "both",      "nodata"};
    ASSERT_GE(compare_names(&cfg, &s, more, sizeof more / sizeof more[0], false), 200);
    server_stop(&s);
    test_dir_remove(&d);
}
