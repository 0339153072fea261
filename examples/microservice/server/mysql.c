/* mysql: the MariaDB client and its pool (see mysql.h). Protocol facts: MariaDB's "Client/Server
 * Protocol" pages (packets, connection, COM_QUERY, result sets). */
#include "mysql.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f32.h"
#include "net.h"
#include "sha1.h"

/* capability flags */
#define CLIENT_MYSQL                          (1u << 0)
#define CLIENT_CONNECT_WITH_DB                (1u << 3)
#define CLIENT_PROTOCOL_41                    (1u << 9)
#define CLIENT_TRANSACTIONS                   (1u << 13)
#define CLIENT_SECURE_CONNECTION              (1u << 15)
#define CLIENT_MULTI_RESULTS                  (1u << 17)
#define CLIENT_PLUGIN_AUTH                    (1u << 19)
#define CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA (1u << 21)
#define CLIENT_DEPRECATE_EOF                  (1u << 24)
#define CLIENT_WANTED                                                                              \
    (CLIENT_MYSQL | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS |            \
     CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH |                        \
     CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_DEPRECATE_EOF) /* 0x012AA209 */

/* server status flags */
#define SERVER_MORE_RESULTS_EXISTS  0x0008
#define SERVER_NO_BACKSLASH_ESCAPES 0x0200

#define COM_QUIT  0x01
#define COM_QUERY 0x03

#define PACKET_MAX     0xffffffu /* payload bytes in one packet */
#define COLLATION_UTF8 45        /* utf8mb4_general_ci */
#define NATIVE_PLUGIN  "mysql_native_password"

struct db_conn {
    int fd;
    uint8_t seq;       /* the sequence id the next packet must carry */
    uint32_t caps;     /* negotiated capabilities */
    uint16_t status;   /* server status of the last OK or EOF */
    int reply_started; /* a packet of the current command's reply has arrived */
    int has_timeouts;  /* the socket times out by itself (else reads poll first) */
    int64_t last_used; /* ms_now() when it was last taken from the pool */
    buf in;            /* received bytes; in_pos is where the next packet starts */
    size_t in_pos;
    buf joined; /* a payload spread over several packets */
    buf out;
    char version[64];
    uint32_t id;
};

/* ---- packet I/O ---- */

static int io_fail(ms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int io_fail(ms_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->kind = DB_ERR_IO;
    err->code = 0;
    return -1;
}

/* At least `want` unread bytes in c->in. */
static int fill(db_conn *c, size_t want, ms_error *err) {
    if (c->in_pos > 0 && c->in_pos == c->in.len) { /* all read: start over */
        buf_reset(&c->in);
        c->in_pos = 0;
    }
    while (c->in.len - c->in_pos < want) {
        if (c->in_pos > (1u << 16)) { /* keep the buffer from creeping forward */
            buf_consume(&c->in, c->in_pos);
            c->in_pos = 0;
        }
        size_t room = want - (c->in.len - c->in_pos);
        if (room < 16384) room = 16384;
        if (buf_reserve(&c->in, room) < 0) return io_fail(err, "out of memory");
        /* a blocking read, bounded by the socket's timeout or else by a poll first */
        int w = c->has_timeouts ? 1 : net_wait_readable(c->fd, DB_IO_TIMEOUT_MS);
        long n = w < 0 ? w : w == 0 ? -EAGAIN : net_recv(c->fd, c->in.data + c->in.len, room);
        if (n == -EINTR) continue;
        if (n == -EAGAIN || n == -EWOULDBLOCK)
            return io_fail(err, "no answer from the database in %d s", DB_IO_TIMEOUT_MS / 1000);
        if (n < 0) return io_fail(err, "reading from the database: %s", strerror((int)-n));
        if (n == 0) return io_fail(err, "the database closed the connection");
        c->in.len += (size_t)n;
        c->in.data[c->in.len] = '\0';
    }
    return 0;
}

/* The next payload (joined when it spans packets). *p stays valid until the next call. */
static int read_packet(db_conn *c, const uint8_t **p, size_t *len, ms_error *err) {
    buf_reset(&c->joined);
    int joining = 0;
    for (;;) {
        if (fill(c, 4, err) < 0) return -1;
        const uint8_t *h = (const uint8_t *)c->in.data + c->in_pos;
        size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
        if (h[3] != c->seq) /* (a goodbye ERR of a server going down, say) */
            return io_fail(err, "packet out of order (sequence %u, expected %u)", h[3], c->seq);
        c->seq++;
        c->reply_started = 1;
        if (fill(c, 4 + n, err) < 0) return -1;
        const uint8_t *payload = (const uint8_t *)c->in.data + c->in_pos + 4;
        c->in_pos += 4 + n;
        if (!joining && n < PACKET_MAX) {
            *p = payload;
            *len = n;
            return 0;
        }
        if (c->joined.len + n > DB_RESULT_MAX)
            return io_fail(err, "a reply packet over %u bytes", DB_RESULT_MAX);
        buf_add(&c->joined, payload, n);
        if (c->joined.oom) return io_fail(err, "out of memory");
        joining = 1;
        if (n < PACKET_MAX) {
            *p = (const uint8_t *)c->joined.data;
            *len = c->joined.len;
            return 0;
        }
    }
}

/* Sends c->out, whose first 4 bytes are room for the header, as one payload (split into
 * packets of at most PACKET_MAX bytes, plus an empty one when it ends on that size). */
static int send_out(db_conn *c, ms_error *err) {
    if (c->out.oom) return io_fail(err, "out of memory");
    size_t len = c->out.len - 4;
    uint8_t *d = (uint8_t *)c->out.data;
    if (len < PACKET_MAX) {
        d[0] = (uint8_t)len;
        d[1] = (uint8_t)(len >> 8);
        d[2] = (uint8_t)(len >> 16);
        d[3] = c->seq++;
        int r = net_send_all(c->fd, d, c->out.len);
        return r < 0 ? io_fail(err, "writing to the database: %s", strerror(-r)) : 0;
    }
    size_t off = 4;
    for (;;) {
        size_t n = len < PACKET_MAX ? len : PACKET_MAX;
        uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), c->seq++};
        int r = net_send_all(c->fd, h, 4);
        if (r == 0) r = net_send_all(c->fd, d + off, n);
        if (r < 0) return io_fail(err, "writing to the database: %s", strerror(-r));
        off += n;
        len -= n;
        if (n < PACKET_MAX) return 0;
    }
}

static void out_start(db_conn *c) {
    buf_reset(&c->out);
    buf_add(&c->out, "\0\0\0\0", 4);
}

/* ---- payload reading ---- */

typedef struct reader {
    const uint8_t *p, *end;
    int bad; /* read past the end */
} reader;

static uint64_t get_int(reader *r, int n) {
    if (r->end - r->p < n) {
        r->bad = 1;
        r->p = r->end;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

/* A length-encoded integer; *is_null for the 0xFB of a NULL field. */
static uint64_t get_lenenc(reader *r, int *is_null) {
    if (is_null) *is_null = 0;
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    uint8_t b = *r->p++;
    if (b < 0xfb) return b;
    if (b == 0xfb) {
        if (is_null) *is_null = 1;
        return 0;
    }
    if (b == 0xfc) return get_int(r, 2);
    if (b == 0xfd) return get_int(r, 3);
    if (b == 0xfe) return get_int(r, 8);
    r->bad = 1; /* 0xFF */
    return 0;
}

static const uint8_t *get_bytes(reader *r, uint64_t n) {
    if ((uint64_t)(r->end - r->p) < n) {
        r->bad = 1;
        r->p = r->end;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

/* A NUL-terminated string (or the rest of the payload when it has no NUL). */
static const char *get_cstring(reader *r, size_t *len) {
    const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    const char *s = (const char *)r->p;
    *len = nul ? (size_t)(nul - r->p) : (size_t)(r->end - r->p);
    r->p = nul ? nul + 1 : r->end;
    return s;
}

/* An ERR packet (p[0] == 0xFF) into err. */
static int server_error(const db_conn *c, const uint8_t *p, size_t len, ms_error *err) {
    reader r = {p + 1, p + len, 0};
    unsigned code = (unsigned)get_int(&r, 2);
    char state[6] = "";
    if (r.p < r.end && *r.p == '#' && (c->caps & CLIENT_PROTOCOL_41) && r.end - r.p >= 6) {
        memcpy(state, r.p + 1, 5);
        r.p += 6;
    }
    int n = (int)(r.end - r.p);
    if (state[0])
        snprintf(err->msg, sizeof err->msg, "ERROR %u (%s): %.*s", code, state, n, r.p);
    else
        snprintf(err->msg, sizeof err->msg, "ERROR %u: %.*s", code, n, r.p);
    err->kind = DB_ERR_SERVER;
    err->code = (int)code;
    return -1;
}

/* An OK packet (0x00, or 0xFE ending a result set under DEPRECATE_EOF). */
static int parse_ok(db_conn *c, const uint8_t *p, size_t len, uint64_t *affected, ms_error *err) {
    reader r = {p + 1, p + len, 0};
    uint64_t rows = get_lenenc(&r, NULL);
    (void)get_lenenc(&r, NULL); /* last insert id */
    uint16_t status = (uint16_t)get_int(&r, 2);
    if (r.bad) return io_fail(err, "a malformed OK packet");
    c->status = status;
    if (affected) *affected = rows;
    return 0;
}

/* The EOF packet of the old protocol: 0xFE, warnings, status. */
static void parse_eof(db_conn *c, const uint8_t *p, size_t len) {
    reader r = {p + 1, p + len, 0};
    (void)get_int(&r, 2);
    uint16_t status = (uint16_t)get_int(&r, 2);
    if (!r.bad) c->status = status;
}

/* ---- connecting ---- */

void db_native_password(const char *password, const uint8_t seed[20], uint8_t out[20]) {
    uint8_t stage1[SHA1_SIZE], stage2[SHA1_SIZE], mix[SHA1_SIZE];
    sha1(password, strlen(password), stage1);
    sha1(stage1, sizeof stage1, stage2);
    sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, seed, 20);
    sha1_update(&ctx, stage2, sizeof stage2);
    sha1_final(&ctx, mix);
    for (int i = 0; i < SHA1_SIZE; i++) out[i] = stage1[i] ^ mix[i];
}

static void conn_free(db_conn *c) {
    if (!c) return;
    if (c->fd >= 0) net_close(c->fd);
    buf_release(&c->in);
    buf_release(&c->joined);
    buf_release(&c->out);
    free(c);
}

static int connect_fail(ms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int connect_fail(ms_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->kind = DB_ERR_CONNECT;
    err->code = 0;
    return -1;
}

/* Reads the initial handshake; fills caps, version, id and the 20-byte seed. */
static int read_handshake(db_conn *c, uint32_t *server_caps, uint8_t seed[20], char *plugin,
                          size_t plugin_size, ms_error *err) {
    const uint8_t *p;
    size_t len;
    if (read_packet(c, &p, &len, err) < 0) return -1;
    if (len > 0 && p[0] == 0xff) {
        c->caps = CLIENT_PROTOCOL_41; /* an early ERR may carry a state */
        return server_error(c, p, len, err);
    }
    reader r = {p, p + len, 0};
    if (get_int(&r, 1) != 10) return io_fail(err, "not a MySQL protocol v10 handshake");
    size_t n;
    const char *version = get_cstring(&r, &n);
    snprintf(c->version, sizeof c->version, "%.*s", (int)n, version);
    c->id = (uint32_t)get_int(&r, 4);
    const uint8_t *seed1 = get_bytes(&r, 8);
    (void)get_int(&r, 1);
    uint32_t caps = (uint32_t)get_int(&r, 2);
    plugin[0] = '\0';
    if (r.bad || !seed1) return io_fail(err, "a short handshake packet");
    memcpy(seed, seed1, 8);
    memset(seed + 8, 0, 12);
    if (r.p < r.end) {
        (void)get_int(&r, 1); /* collation */
        (void)get_int(&r, 2); /* status */
        caps |= (uint32_t)get_int(&r, 2) << 16;
        unsigned auth_len = (unsigned)get_int(&r, 1);
        (void)get_bytes(&r, 6);
        (void)get_int(&r, 4); /* MariaDB's extended capabilities, or filler */
        if (caps & CLIENT_SECURE_CONNECTION) {
            unsigned n2 = auth_len > 21 ? auth_len - 9 : 12;
            const uint8_t *seed2 = get_bytes(&r, n2);
            if (!seed2 || r.bad) return io_fail(err, "a short handshake packet");
            memcpy(seed + 8, seed2, 12);
            (void)get_int(&r, 1);
        }
        if ((caps & CLIENT_PLUGIN_AUTH) && r.p < r.end) {
            const char *name = get_cstring(&r, &n);
            snprintf(plugin, plugin_size, "%.*s", (int)n, name);
        }
    }
    *server_caps = caps;
    return 0;
}

/* Authentication after the handshake response: OK, ERR, or an auth switch to answer. */
static int finish_auth(db_conn *c, const char *password, ms_error *err) {
    for (int round = 0; round < 4; round++) {
        const uint8_t *p;
        size_t len;
        if (read_packet(c, &p, &len, err) < 0) return -1;
        if (len == 0) return io_fail(err, "an empty authentication reply");
        if (p[0] == 0x00) return parse_ok(c, p, len, NULL, err);
        if (p[0] == 0xff) return server_error(c, p, len, err);
        if (p[0] == 0x01 && len == 2 && p[1] == 3) continue; /* caching_sha2 fast path: OK next */
        if (p[0] != 0xfe)
            return connect_fail(
                err, "the server asked for more authentication data than " NATIVE_PLUGIN " gives");
        /* AuthSwitchRequest: plugin name, then its data (our seed, NUL-terminated) */
        reader r = {p + 1, p + len, 0};
        size_t n;
        const char *name = get_cstring(&r, &n);
        if (len == 1 || n != strlen(NATIVE_PLUGIN) || memcmp(name, NATIVE_PLUGIN, n) != 0)
            return connect_fail(
                err,
                "the server asks for the authentication plugin `%.*s`; only " NATIVE_PLUGIN
                " is supported",
                len == 1 ? 18 : (int)n, len == 1 ? "mysql_old_password" : name);
        if (r.end - r.p < 20) return io_fail(err, "an auth switch request without a 20-byte seed");
        ms_log("the database switched authentication to " NATIVE_PLUGIN " with a new seed");
        out_start(c);
        if (password[0]) {
            uint8_t answer[20];
            db_native_password(password, r.p, answer);
            buf_add(&c->out, answer, sizeof answer);
        }
        if (send_out(c, err) < 0) return -1;
    }
    return io_fail(err, "authentication did not end");
}

static db_conn *conn_open(const db_config *cfg, ms_error *err) {
    db_conn *c = calloc(1, sizeof *c);
    if (!c) {
        connect_fail(err, "out of memory");
        return NULL;
    }
    buf_init(&c->in);
    buf_init(&c->joined);
    buf_init(&c->out);
    c->fd = net_connect(cfg->host, cfg->port, err);
    if (c->fd < 0) goto fail;
    c->has_timeouts = net_set_timeouts(c->fd, DB_IO_TIMEOUT_MS) == 0;
    uint32_t server_caps = 0;
    uint8_t seed[20];
    char plugin[64];
    if (read_handshake(c, &server_caps, seed, plugin, sizeof plugin, err) < 0) goto fail;
    if (!(server_caps & CLIENT_PROTOCOL_41) || !(server_caps & CLIENT_SECURE_CONNECTION)) {
        connect_fail(err, "the server (%s) is too old: no 4.1 protocol", c->version);
        goto fail;
    }
    c->caps = CLIENT_WANTED & server_caps;
    if (!cfg->database[0]) c->caps &= ~CLIENT_CONNECT_WITH_DB;

    /* HandshakeResponse41 */
    out_start(c);
    uint8_t head[32] = {0};
    for (int i = 0; i < 4; i++) head[i] = (uint8_t)(c->caps >> (8 * i));
    head[7] = 1; /* max packet size 16 MiB */
    head[8] = COLLATION_UTF8;
    buf_add(&c->out, head, sizeof head); /* then 19 + 4 zero bytes: filler, extended caps */
    buf_add(&c->out, cfg->user, strlen(cfg->user) + 1);
    uint8_t answer[20];
    size_t answer_len = 0;
    if (cfg->password[0]) {
        db_native_password(cfg->password, seed, answer);
        answer_len = sizeof answer;
    }
    buf_addc(&c->out, (char)answer_len); /* a lenenc or 1-byte length: the same below 251 */
    buf_add(&c->out, answer, answer_len);
    if (c->caps & CLIENT_CONNECT_WITH_DB)
        buf_add(&c->out, cfg->database, strlen(cfg->database) + 1);
    if (c->caps & CLIENT_PLUGIN_AUTH) buf_add(&c->out, NATIVE_PLUGIN, sizeof NATIVE_PLUGIN);
    if (send_out(c, err) < 0) goto fail;
    if (finish_auth(c, cfg->password, err) < 0) goto fail;
    return c;
fail:
    err->kind = DB_ERR_CONNECT; /* whatever went wrong, there is no connection */
    ms_wrap(err, "connecting to the database at %s:%d as `%s`", cfg->host, cfg->port, cfg->user);
    conn_free(c);
    return NULL;
}

static void conn_quit(db_conn *c) {
    c->seq = 0;
    out_start(c);
    buf_addc(&c->out, COM_QUIT);
    ms_error ignored = {0};
    (void)send_out(c, &ignored);
    conn_free(c);
}

/* ---- statements ---- */

void db_quote_string(buf *b, const char *s, size_t len, int no_backslash_escapes) {
    buf_addc(b, '\'');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        if (no_backslash_escapes) {
            if (s[i] == '\'') esc = "''";
        } else {
            switch (s[i]) {
            case '\0': esc = "\\0"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\\': esc = "\\\\"; break;
            case '\'': esc = "\\'"; break;
            case '"': esc = "\\\""; break;
            case '\032': esc = "\\Z"; break;
            default: break;
            }
        }
        if (!esc) continue;
        buf_add(b, s + run, i - run);
        buf_adds(b, esc);
        run = i + 1;
    }
    buf_add(b, s + run, len - run);
    buf_addc(b, '\'');
}

/* An f32 as an SQL number the FLOAT column stores back as the same f32. The server reads the
 * literal into a double (correctly rounded) and casts that to float, as f32_parse does: the
 * shortest form passes that test almost always; when not, the exact double value does. */
static void add_float(buf *b, float f) {
    size_t at = b->len;
    f32_format(b, f);
    float back;
    if (!b->oom && (f32_parse(b->data + at, b->len - at, &back) != 0 || back != f)) {
        b->len = at;
        buf_printf(b, "%.17g", (double)f);
    }
}

/* COM_QUERY with the parameters in place of the `?`s of sql. */
static int build_query(db_conn *c, const char *sql, const db_param *params, size_t nparams,
                       ms_error *err) {
    out_start(c);
    buf_addc(&c->out, COM_QUERY);
    size_t used = 0;
    for (const char *q = sql;; q++) {
        size_t run = strcspn(q, "?");
        buf_add(&c->out, q, run);
        q += run;
        if (!*q) break;
        if (used == nparams) return io_fail(err, "more `?` than parameters in `%s`", sql);
        const db_param *v = &params[used++];
        switch (v->type) {
        case DB_NULL: buf_adds(&c->out, "NULL"); break;
        case DB_INT: buf_add_int(&c->out, v->i); break;
        case DB_FLOAT: add_float(&c->out, v->f); break;
        case DB_STRING:
            db_quote_string(&c->out, v->s, v->len, c->status & SERVER_NO_BACKSLASH_ESCAPES);
            break;
        }
    }
    if (used != nparams) return io_fail(err, "fewer `?` than parameters in `%s`", sql);
    return 0;
}

/* Stores field `index` of the result (row-major). */
static int add_field(db_result *res, size_t index, const uint8_t *p, size_t len, int is_null,
                     ms_error *err) {
    if (index >= res->fields_cap) {
        size_t cap = res->fields_cap ? res->fields_cap * 2 : 64;
        db_field *grown = realloc(res->fields, cap * sizeof *grown);
        if (!grown) return io_fail(err, "out of memory");
        res->fields = grown;
        res->fields_cap = cap;
    }
    if (res->storage.len + len + 1 > DB_RESULT_MAX)
        return io_fail(err, "a result set over %u bytes", DB_RESULT_MAX);
    db_field *f = &res->fields[index];
    f->offset = res->storage.len;
    f->len = len;
    f->is_null = is_null;
    if (buf_reserve(&res->storage, len + 1) < 0) return io_fail(err, "out of memory");
    if (len) memcpy(res->storage.data + res->storage.len, p, len);
    res->storage.len += len + 1; /* the field's NUL (and the buffer's) */
    res->storage.data[res->storage.len - 1] = '\0';
    res->storage.data[res->storage.len] = '\0';
    return 0;
}

/* Whether a packet ends a result set: 0xFE under 9 bytes (EOF) or, with DEPRECATE_EOF, an OK
 * with that header; a row starting with 0xFE (an 8-byte length) is always longer. */
static int is_end(const uint8_t *p, size_t len) {
    return len > 0 && p[0] == 0xfe && len < PACKET_MAX;
}

/* A text result set after its column count: definitions, [EOF], rows, the end. */
static int read_rows(db_conn *c, uint64_t columns, db_result *res, ms_error *err) {
    const uint8_t *p;
    size_t len;
    if (columns == 0 || columns > 4096)
        return io_fail(err, "a result set of %llu columns", (unsigned long long)columns);
    res->columns = (unsigned)columns;
    for (uint64_t i = 0; i < columns; i++) { /* column definitions: not needed here */
        if (read_packet(c, &p, &len, err) < 0) return -1;
        if (len > 0 && p[0] == 0xff) return server_error(c, p, len, err);
    }
    if (!(c->caps & CLIENT_DEPRECATE_EOF)) {
        if (read_packet(c, &p, &len, err) < 0) return -1;
        if (!is_end(p, len)) return io_fail(err, "no EOF after the column definitions");
        parse_eof(c, p, len);
    }
    for (;;) {
        if (read_packet(c, &p, &len, err) < 0) return -1;
        if (len > 0 && p[0] == 0xff) return server_error(c, p, len, err);
        if (is_end(p, len)) {
            if (c->caps & CLIENT_DEPRECATE_EOF) return parse_ok(c, p, len, NULL, err);
            parse_eof(c, p, len);
            return 0;
        }
        reader r = {p, p + len, 0};
        for (unsigned col = 0; col < res->columns; col++) {
            int is_null;
            uint64_t n = get_lenenc(&r, &is_null);
            const uint8_t *data = is_null ? NULL : get_bytes(&r, n);
            if (r.bad) return io_fail(err, "a malformed row");
            if (add_field(res, res->rows * res->columns + col, data, is_null ? 0 : (size_t)n,
                          is_null, err) < 0)
                return -1;
        }
        if (r.p != r.end) return io_fail(err, "a row longer than its fields");
        res->rows++;
    }
}

/* One statement on one connection; *broken says whether the connection is still usable. */
static int conn_exec(db_conn *c, const char *sql, const db_param *params, size_t nparams,
                     db_result *res, int *broken, ms_error *err) {
    *broken = 1;
    c->seq = 0;
    c->reply_started = 0;
    if (c->in_pos != c->in.len) return io_fail(err, "unexpected bytes from the database");
    if (build_query(c, sql, params, nparams, err) < 0) {
        *broken = 0;
        return -1;
    }
    if (send_out(c, err) < 0) return -1;
    int first = 1;
    for (;;) {
        const uint8_t *p;
        size_t len;
        if (read_packet(c, &p, &len, err) < 0) return -1;
        if (len == 0) return io_fail(err, "an empty reply");
        if (p[0] == 0xff) {
            *broken = 0;
            return server_error(c, p, len, err);
        }
        int r;
        if (p[0] == 0x00) {
            r = parse_ok(c, p, len, first ? &res->affected_rows : NULL, err);
        } else if (p[0] == 0xfb) {
            return io_fail(err, "the server asked for a local file");
        } else {
            reader rd = {p, p + len, 0};
            uint64_t columns = get_lenenc(&rd, NULL);
            if (rd.bad || rd.p != rd.end) return io_fail(err, "a malformed reply");
            if (!first) { /* further result sets (a CALL): read and drop */
                db_result extra;
                db_result_init(&extra);
                r = read_rows(c, columns, &extra, err);
                db_result_release(&extra);
            } else {
                r = read_rows(c, columns, res, err);
            }
        }
        if (r < 0) {
            *broken = err->kind != DB_ERR_SERVER;
            if (!*broken) {
                /* an ERR ends the reply; anything left means we lost track */
                *broken = c->in_pos != c->in.len;
            }
            return -1;
        }
        if (!(c->status & SERVER_MORE_RESULTS_EXISTS)) {
            *broken = 0;
            return 0;
        }
        first = 0;
    }
}

/* ---- results ---- */

void db_result_init(db_result *r) {
    memset(r, 0, sizeof *r);
    buf_init(&r->storage);
}

void db_result_release(db_result *r) {
    free(r->fields);
    buf_release(&r->storage);
    db_result_init(r);
}

static void db_result_clear(db_result *r) {
    r->columns = 0;
    r->rows = 0;
    r->affected_rows = 0;
    buf_reset(&r->storage);
}

const char *db_result_text(const db_result *r, size_t row, unsigned column, size_t *len) {
    const db_field *f = &r->fields[row * r->columns + column];
    *len = f->len;
    return f->is_null ? NULL : r->storage.data + f->offset;
}

/* ---- the pool ---- */

void db_pool_init(db_pool *pool, const db_config *cfg) {
    memset(pool, 0, sizeof *pool);
    pool->cfg = *cfg;
}

static void drop_idle(db_pool *pool) {
    while (pool->n_idle > 0) {
        conn_free(pool->idle[--pool->n_idle]);
        pool->n_open--;
    }
}

void db_pool_release(db_pool *pool) {
    while (pool->n_idle > 0) {
        conn_quit(pool->idle[--pool->n_idle]);
        pool->n_open--;
    }
}

/* An idle connection that still looks alive, or a new one. An idle connection has nothing to
 * read unless the server closed it or said goodbye; that is checked (a poll) only after a
 * second of rest, since a connection that broke just now fails its statement before any reply
 * arrives, and that statement is retried (db_pool_exec). */
static db_conn *acquire(db_pool *pool, ms_error *err) {
    int64_t now = ms_now();
    while (pool->n_idle > 0) {
        db_conn *c = pool->idle[--pool->n_idle];
        if (now - c->last_used < DB_IDLE_CHECK_MS || net_wait_readable(c->fd, 0) == 0) {
            c->last_used = now; /* its rest ends about now */
            return c;
        }
        conn_free(c);
        pool->n_open--;
    }
    if (pool->n_open >= DB_POOL_MAX) {
        connect_fail(err, "all %d database connections are busy", DB_POOL_MAX);
        return NULL;
    }
    db_conn *c = conn_open(&pool->cfg, err);
    if (!c) return NULL;
    pool->n_open++;
    c->last_used = now;
    ms_log("connected to the database at %s:%d (server %s, connection %u)", pool->cfg.host,
           pool->cfg.port, c->version, (unsigned)c->id);
    return c;
}

int db_pool_exec(db_pool *pool, const char *sql, const db_param *params, size_t nparams,
                 db_result *res, ms_error *err) {
    for (int attempt = 0;; attempt++) {
        db_result_clear(res);
        err->kind = 0;
        db_conn *c = acquire(pool, err);
        if (!c) return -1;
        int broken;
        int r = conn_exec(c, sql, params, nparams, res, &broken, err);
        if (!broken) {
            pool->idle[pool->n_idle++] = c;
            return r;
        }
        int retry = attempt == 0 && !c->reply_started;
        conn_free(c);
        pool->n_open--;
        if (!retry) return -1;
        /* the connection died before answering, most likely with the server: so did the
         * others; try once more on a new connection */
        ms_log("the database connection broke (%s); reconnecting", err->msg);
        drop_idle(pool);
    }
}

/* ---- DATABASE_URL ---- */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* s[0..len) percent-decoded into out (size bytes with the NUL); -1 when it does not fit or a
 * % escape is bad. */
static int percent_decode(const char *s, size_t len, char *out, size_t size) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3 || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) return -1;
            c = (char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
            i += 2;
        }
        if (c == '\0' || n + 1 >= size) return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int db_config_from_url(db_config *cfg, const char *url, ms_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->port = 3306;
    const char *rest;
    if (strncmp(url, "mysql://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "mariadb://", 10) == 0)
        rest = url + 10;
    else
        return ms_fail(err, "DATABASE_URL must start with mysql://");
    const char *slash = strchr(rest, '/');
    const char *auth_end = slash ? slash : rest + strlen(rest);
    const char *at = NULL;
    for (const char *q = rest; q < auth_end; q++)
        if (*q == '@') at = q;
    const char *host = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        const char *user_end = colon ? colon : at;
        if (percent_decode(rest, (size_t)(user_end - rest), cfg->user, sizeof cfg->user) < 0)
            return ms_fail(err, "DATABASE_URL: a bad or too long user name");
        if (colon && percent_decode(colon + 1, (size_t)(at - colon - 1), cfg->password,
                                    sizeof cfg->password) < 0)
            return ms_fail(err, "DATABASE_URL: a bad or too long password");
        host = at + 1;
    }
    const char *host_end = auth_end, *port = NULL;
    if (*host == '[') { /* [IPv6]:port */
        const char *close = memchr(host, ']', (size_t)(auth_end - host));
        if (!close) return ms_fail(err, "DATABASE_URL: `[` without `]` in the host");
        if (close + 1 < auth_end) {
            if (close[1] != ':') return ms_fail(err, "DATABASE_URL: junk after `]`");
            port = close + 2;
        }
        host_end = close;
        host++;
    } else {
        const char *colon = memchr(host, ':', (size_t)(auth_end - host));
        if (colon) {
            host_end = colon;
            port = colon + 1;
        }
    }
    if (host_end == host) return ms_fail(err, "DATABASE_URL: no host name");
    if (percent_decode(host, (size_t)(host_end - host), cfg->host, sizeof cfg->host) < 0)
        return ms_fail(err, "DATABASE_URL: a bad or too long host name");
    if (port) {
        long v = 0;
        const char *q = port;
        for (; q < auth_end && *q >= '0' && *q <= '9' && v <= 65535; q++) v = v * 10 + (*q - '0');
        if (q != auth_end || q == port || v < 1 || v > 65535)
            return ms_fail(err, "DATABASE_URL: a bad port `%.*s`", (int)(auth_end - port), port);
        cfg->port = (int)v;
    }
    const char *db = slash ? slash + 1 : "";
    size_t db_len = strcspn(db, "?#");
    if (db_len == 0) return ms_fail(err, "DATABASE_URL: a database name is required");
    if (percent_decode(db, db_len, cfg->database, sizeof cfg->database) < 0)
        return ms_fail(err, "DATABASE_URL: a bad or too long database name");
    return 0;
}
