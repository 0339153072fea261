/* The shim's protobuf against an independent implementation: Debian's protobuf-c, with C generated
 * by protoc-c from tests/shim/proto at test build time (tests/shim/oracle.sh). protobuf-c is a
 * test oracle only; the shim never links it.
 *
 * For each message both sides know (matched by full proto name), many pseudo-random instances:
 *  - "ours→pbc": what we encode, protobuf-c decodes, and every field equals ours (compared
 *    through protobuf-c's descriptors, field by field);
 *  - "pbc bytes": protobuf-c re-encodes it to exactly our bytes (both write fields in number order
 *    and omit proto3 defaults; map entries with an empty key or value are not canonical, since we
 *    write both as Go does and protobuf-c omits the empty one, so there only fields are compared);
 *  - "pbc→ours": we decode protobuf-c's bytes back to a message equal to the original.
 * Then a few messages built by hand with protobuf-c's API (the direction where protobuf-c writes
 * first), the DeleteResponse runc printed and the 38-byte Request(Start) of design/shim.md.
 * Prints "shim-oracle: P passed, F failed". */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "base/alloc.h"
#include "events.pb-c.h"
#include "forward.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "mount.pb-c.h"
#include "runc_options.pb-c.h"
#include "shim/messages.h"
#include "shim/pb.h"
#include "task.pb-c.h"
#include "ttrpc.pb-c.h"

#define ITERATIONS 400

typedef struct oracle {
    int passed, failed;
    uint64_t rng;
    char why[512]; /* the first mismatch of the current comparison */
} oracle;

static void result(oracle *o, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void result(oracle *o, bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok && o->why[0]) printf(": %s", o->why);
    printf("\n");
    if (ok)
        o->passed++;
    else
        o->failed++;
    o->why[0] = 0;
}

static bool mismatch(oracle *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool mismatch(oracle *o, const char *fmt, ...) {
    if (!o->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->why, sizeof o->why, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* ---- random messages of ours ---- */

static uint64_t next(oracle *o) {
    /* xorshift64* */
    o->rng ^= o->rng >> 12;
    o->rng ^= o->rng << 25;
    o->rng ^= o->rng >> 27;
    return o->rng * 2685821657736338717ull;
}

static unsigned pick(oracle *o, unsigned n) {
    return (unsigned)(next(o) % n);
}

static char *random_string(oracle *o) {
    static const char *const samples[] = {"",          "a",
                                          "tA",        "/run/containerd/fifo/1/tA-stdout",
                                          "ünïcödé ✓", "containerd.events.TaskExit",
                                          "x=y,z"};
    unsigned k = pick(o, 9);
    if (k < 7) return wb_strdup(samples[k]);
    /* long enough for a two-byte length (and, once in a while, three) */
    size_t n = k == 7 ? 130 + pick(o, 200) : 16384 + pick(o, 100);
    char *s = wb_malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[i] = (char)('a' + pick(o, 26));
    s[n] = 0;
    return s;
}

static void random_message(oracle *o, const wb_pb_table *t, void *msg, int depth);

static void random_field(oracle *o, const wb_pb_field *f, char *base, int depth) {
    void *slot = base + f->offset;
    size_t *count = (size_t *)(base + f->count_offset);
    switch (f->kind) {
    case WB_PB_UINT32: {
        static const uint32_t v[] = {1, 127, 128, 24914, 137, UINT32_MAX};
        *(uint32_t *)slot = pick(o, 2) ? v[pick(o, 6)] : (uint32_t)next(o);
        break;
    }
    case WB_PB_INT32: {
        static const int32_t v[] = {-1, INT32_MIN, INT32_MAX, 5, 999999999};
        *(int32_t *)slot = pick(o, 2) ? v[pick(o, 5)] : (int32_t)next(o);
        break;
    }
    case WB_PB_UINT64: *(uint64_t *)slot = next(o); break;
    case WB_PB_INT64: {
        static const int64_t v[] = {-1, -62135596800, INT64_MIN, INT64_MAX, 1700000000};
        *(int64_t *)slot = pick(o, 2) ? v[pick(o, 5)] : (int64_t)next(o);
        break;
    }
    case WB_PB_BOOL: *(bool *)slot = true; break;
    case WB_PB_STRING: *(char **)slot = random_string(o); break;
    case WB_PB_BYTES: {
        wb_pb_bytes *b = slot;
        b->len = pick(o, 3) ? pick(o, 20) : 200 + pick(o, 300);
        b->data = b->len ? wb_malloc(b->len + 1) : NULL;
        for (size_t i = 0; i < b->len; i++) b->data[i] = (uint8_t)next(o);
        if (b->data) b->data[b->len] = 0;
        break;
    }
    case WB_PB_MESSAGE:
        if (depth < 5) {
            *(void **)slot = wb_calloc(1, f->sub->size);
            random_message(o, f->sub, *(void **)slot, depth + 1);
        }
        break;
    case WB_PB_REPEATED_MESSAGE: {
        size_t n = pick(o, 4);
        char *items = n ? wb_calloc(n, f->sub->size) : NULL;
        for (size_t k = 0; k < n; k++)
            random_message(o, f->sub, items + k * f->sub->size, depth + 1);
        *(void **)slot = items;
        *count = n;
        break;
    }
    case WB_PB_REPEATED_STRING: {
        size_t n = pick(o, 5);
        char **items = n ? wb_calloc(n, sizeof *items) : NULL;
        for (size_t k = 0; k < n; k++) items[k] = random_string(o);
        *(char ***)slot = items;
        *count = n;
        break;
    }
    case WB_PB_MAP_STRING: {
        size_t n = pick(o, 4);
        wb_pb_map_entry *items = n ? wb_calloc(n, sizeof *items) : NULL;
        for (size_t k = 0; k < n; k++) {
            char key[32];
            snprintf(key, sizeof key, "io.example/k%zu", k); /* distinct keys: protobuf-c keeps
                                                               every entry, as we do */
            items[k].key = pick(o, 8) ? wb_strdup(key) : wb_strdup(k ? key : "");
            items[k].value = random_string(o);
        }
        *(wb_pb_map_entry **)slot = items;
        *count = n;
        break;
    }
    }
}

static void random_message(oracle *o, const wb_pb_table *t, void *msg, int depth) {
    for (size_t i = 0; i < t->nfields; i++)
        if (pick(o, 4)) random_field(o, &t->fields[i], msg, depth); /* else: the default */
}

/* Whether our bytes for msg are the only encoding protobuf-c would write (see the top). */
static bool canonical(const wb_pb_table *t, const void *msg) {
    const char *base = msg;
    for (size_t i = 0; i < t->nfields; i++) {
        const wb_pb_field *f = &t->fields[i];
        const void *slot = base + f->offset;
        size_t count = f->count_offset ? *(const size_t *)(base + f->count_offset) : 0;
        if (f->kind == WB_PB_MESSAGE && *(void *const *)slot &&
            !canonical(f->sub, *(void *const *)slot))
            return false;
        if (f->kind == WB_PB_REPEATED_MESSAGE)
            for (size_t k = 0; k < count; k++)
                if (!canonical(f->sub, *(char *const *)slot + k * f->sub->size)) return false;
        if (f->kind == WB_PB_MAP_STRING)
            for (size_t k = 0; k < count; k++) {
                const wb_pb_map_entry *e = &(*(wb_pb_map_entry *const *)slot)[k];
                if (!e->key[0] || !e->value[0]) return false;
            }
    }
    return true;
}

/* ---- ours against protobuf-c's, field by field ---- */

static const char *s_or_empty(const char *s) {
    return s ? s : "";
}

static bool same_message(oracle *o, const wb_pb_table *t, const void *ours,
                         const ProtobufCMessage *theirs);

static bool same_field(oracle *o, const wb_pb_table *t, const wb_pb_field *f, const char *ours,
                       const ProtobufCMessage *theirs) {
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field(theirs->descriptor, f->number);
    if (!fd) return mismatch(o, "%s: protobuf-c has no field %u", t->name, f->number);
    const void *mine = ours + f->offset;
    const char *tb = (const char *)theirs + fd->offset;
    size_t count = f->count_offset ? *(const size_t *)(ours + f->count_offset) : 0;
    size_t their_count =
        f->count_offset ? *(const size_t *)((const char *)theirs + fd->quantifier_offset) : 0;
    switch (f->kind) {
    case WB_PB_UINT32:
        if (*(const uint32_t *)mine != *(const uint32_t *)tb)
            return mismatch(o, "%s.%s: %u vs %u", t->name, f->name, *(const uint32_t *)mine,
                            *(const uint32_t *)tb);
        return true;
    case WB_PB_INT32:
        if (*(const int32_t *)mine != *(const int32_t *)tb)
            return mismatch(o, "%s.%s: %d vs %d", t->name, f->name, *(const int32_t *)mine,
                            *(const int32_t *)tb);
        return true;
    case WB_PB_UINT64:
    case WB_PB_INT64:
        if (*(const uint64_t *)mine != *(const uint64_t *)tb)
            return mismatch(o, "%s.%s: %" PRIu64 " vs %" PRIu64, t->name, f->name,
                            *(const uint64_t *)mine, *(const uint64_t *)tb);
        return true;
    case WB_PB_BOOL:
        if (*(const bool *)mine != (*(const protobuf_c_boolean *)tb != 0))
            return mismatch(o, "%s.%s: bool differs", t->name, f->name);
        return true;
    case WB_PB_STRING:
        if (strcmp(s_or_empty(*(char *const *)mine), s_or_empty(*(char *const *)tb)))
            return mismatch(o, "%s.%s: \"%.40s\" vs \"%.40s\"", t->name, f->name,
                            s_or_empty(*(char *const *)mine), s_or_empty(*(char *const *)tb));
        return true;
    case WB_PB_BYTES: {
        const wb_pb_bytes *b = mine;
        const ProtobufCBinaryData *c = (const ProtobufCBinaryData *)tb;
        if (b->len != c->len || (b->len && memcmp(b->data, c->data, b->len)))
            return mismatch(o, "%s.%s: bytes differ (%zu vs %zu)", t->name, f->name, b->len,
                            c->len);
        return true;
    }
    case WB_PB_MESSAGE: {
        const void *m = *(void *const *)mine;
        const ProtobufCMessage *c = *(ProtobufCMessage *const *)tb;
        if (!m || !c)
            return m == (const void *)c || mismatch(o, "%s.%s: presence", t->name, f->name);
        return same_message(o, f->sub, m, c);
    }
    case WB_PB_REPEATED_MESSAGE:
    case WB_PB_REPEATED_STRING:
    case WB_PB_MAP_STRING: {
        if (count != their_count)
            return mismatch(o, "%s.%s: %zu elements vs %zu", t->name, f->name, count, their_count);
        for (size_t k = 0; k < count; k++) {
            if (f->kind == WB_PB_REPEATED_MESSAGE) {
                const ProtobufCMessage *c = (*(ProtobufCMessage * *const *)tb)[k];
                if (!same_message(o, f->sub, *(char *const *)mine + k * f->sub->size, c))
                    return false;
            } else if (f->kind == WB_PB_REPEATED_STRING) {
                const char *a = (*(char **const *)mine)[k], *b = (*(char **const *)tb)[k];
                if (strcmp(s_or_empty(a), s_or_empty(b)))
                    return mismatch(o, "%s.%s[%zu] differs", t->name, f->name, k);
            } else {
                /* a map entry is a message {1 key, 2 value} to protobuf-c */
                const ProtobufCMessage *c = (*(ProtobufCMessage * *const *)tb)[k];
                const wb_pb_map_entry *e = &(*(wb_pb_map_entry *const *)mine)[k];
                const ProtobufCFieldDescriptor *kd =
                    protobuf_c_message_descriptor_get_field(c->descriptor, 1);
                const ProtobufCFieldDescriptor *vd =
                    protobuf_c_message_descriptor_get_field(c->descriptor, 2);
                const char *key = *(char *const *)((const char *)c + kd->offset);
                const char *value = *(char *const *)((const char *)c + vd->offset);
                if (strcmp(s_or_empty(e->key), s_or_empty(key)) ||
                    strcmp(s_or_empty(e->value), s_or_empty(value)))
                    return mismatch(o, "%s.%s[%zu]: entry differs", t->name, f->name, k);
            }
        }
        return true;
    }
    }
    return mismatch(o, "%s.%s: kind %d", t->name, f->name, (int)f->kind);
}

static bool same_message(oracle *o, const wb_pb_table *t, const void *ours,
                         const ProtobufCMessage *theirs) {
    if (strcmp(t->name, theirs->descriptor->name))
        return mismatch(o, "%s vs %s", t->name, theirs->descriptor->name);
    if (t->nfields != theirs->descriptor->n_fields)
        return mismatch(o, "%s: %zu fields vs %u", t->name, t->nfields,
                        theirs->descriptor->n_fields);
    for (size_t i = 0; i < t->nfields; i++)
        if (!same_field(o, t, &t->fields[i], ours, theirs)) return false;
    return true;
}

/* ---- the random round trips ---- */

typedef struct pair {
    const wb_pb_table *ours;
    const ProtobufCMessageDescriptor *theirs;
} pair;

static void round_trips(oracle *o, const pair *p) {
    int fail_unpack = 0, fail_bytes = 0, fail_back = 0, non_canonical = 0;
    char first[3][400] = {"", "", ""};
    for (int it = 0; it < ITERATIONS; it++) {
        void *msg = wb_calloc(1, p->ours->size);
        random_message(o, p->ours, msg, 1);
        uint8_t *buf;
        size_t len;
        wb_error err = {0};
        if (wb_pb_encode_alloc(p->ours, msg, &buf, &len, &err) < 0) {
            fprintf(stderr, "%s: %s\n", p->ours->name, err.msg);
            exit(2);
        }
        ProtobufCMessage *m = protobuf_c_message_unpack(p->theirs, NULL, len, buf);
        o->why[0] = 0;
        if (!m || !same_message(o, p->ours, msg, m)) {
            if (!fail_unpack++)
                snprintf(first[0], sizeof first[0], "%.300s", m ? o->why : "protobuf-c refused it");
        } else {
            size_t n = protobuf_c_message_get_packed_size(m);
            uint8_t *again = wb_malloc(n + 1);
            protobuf_c_message_pack(m, again);
            if (!canonical(p->ours, msg)) {
                non_canonical++;
            } else if (n != len || memcmp(again, buf, len)) {
                if (!fail_bytes++)
                    snprintf(first[1], sizeof first[1], "%zu bytes vs our %zu", n, len);
            }
            void *back = wb_calloc(1, p->ours->size);
            if (wb_pb_decode(p->ours, again, n, back, &err) < 0 ||
                !wb_pb_equal(p->ours, msg, back)) {
                if (!fail_back++)
                    snprintf(first[2], sizeof first[2], "%.300s", err.msg[0] ? err.msg : "differs");
            }
            wb_pb_free(p->ours, back);
            free(back);
            free(again);
        }
        if (m) protobuf_c_message_free_unpacked(m, NULL);
        free(buf);
        wb_pb_free(p->ours, msg);
        free(msg);
    }
    snprintf(o->why, sizeof o->why, "%d of %d: %s", fail_unpack, ITERATIONS, first[0]);
    result(o, !fail_unpack, "%s: ours→pbc, fields", p->ours->name);
    snprintf(o->why, sizeof o->why, "%d of %d: %s", fail_bytes, ITERATIONS, first[1]);
    result(o, !fail_bytes, "%s: pbc re-encodes our bytes exactly (%d non-canonical skipped)",
           p->ours->name, non_canonical);
    snprintf(o->why, sizeof o->why, "%d of %d: %s", fail_back, ITERATIONS, first[2]);
    result(o, !fail_back, "%s: pbc→ours", p->ours->name);
}

/* ---- messages protobuf-c writes first ---- */

static uint8_t *pack(const ProtobufCMessage *m, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = wb_malloc(*len + 1);
    protobuf_c_message_pack(m, buf);
    return buf;
}

static void vectors(oracle *o) {
    /* runc's DeleteResponse (design/shim.md; the Timestamp as tests/unit/test_shim_pb.c builds
     * it) */
    static const uint8_t del[] = {0x08, 0xd2, 0xc2, 0x01, 0x10, 0x89, 0x01, 0x1a, 0x0c, 0x08, 0x80,
                                  0xe2, 0xcf, 0xaa, 0x06, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01};
    Containerd__Task__V2__DeleteResponse *d =
        containerd__task__v2__delete_response__unpack(NULL, sizeof del, del);
    result(o,
           d && d->pid == 24914 && d->exit_status == 137 && d->exited_at &&
               d->exited_at->seconds == 1700000000 && d->exited_at->nanos == 500000000,
           "runc's DeleteResponse decoded by protobuf-c");
    if (d) containerd__task__v2__delete_response__free_unpacked(d, NULL);

    /* Request(Start) = 38 bytes, as traced */
    Ttrpc__Request req = TTRPC__REQUEST__INIT;
    req.service = "containerd.task.v2.Task";
    req.method = "Start";
    req.payload.data = (uint8_t *)"\x0a\x02tA";
    req.payload.len = 4;
    size_t len;
    uint8_t *buf = pack(&req.base, &len);
    wb_msg_ttrpc_request ours = {0};
    wb_error err = {0};
    bool ok = len == 38 && wb_pb_decode(&wb_msg_ttrpc_request_table, buf, len, &ours, &err) == 0 &&
              wb_pb_size(&wb_msg_ttrpc_request_table, &ours) == 38;
    uint8_t mine[38];
    ok = ok && wb_pb_encode(&wb_msg_ttrpc_request_table, &ours, mine) == 38 &&
         !memcmp(mine, buf, 38);
    result(o, ok, "Request(Start): protobuf-c writes 38 bytes, we read and write the same");
    wb_pb_free(&wb_msg_ttrpc_request_table, &ours);
    free(buf);
}

static void written_by_pbc(oracle *o) {
    wb_error err = {0};
    size_t len;
    /* Docker's runtime options, in full: we read two fields and skip nine */
    Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
    ro.no_pivot_root = 1;
    ro.no_new_keyring = 1;
    ro.shim_cgroup = "/shim";
    ro.io_uid = 1000;
    ro.io_gid = 4294967295u;
    ro.binary_name = "runc";
    ro.root = "/var/run/docker/runtime-runc";
    ro.criu_path = "/usr/sbin/criu";
    ro.systemd_cgroup = 1;
    ro.criu_image_path = "/img";
    ro.criu_work_path = "/work";
    uint8_t *opts = pack(&ro.base, &len);
    size_t opts_len = len;

    /* CreateTaskRequest with an overlay mount and those options */
    Containerd__Types__Mount m = CONTAINERD__TYPES__MOUNT__INIT;
    char *mopts[] = {"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l"};
    m.type = "overlay";
    m.source = "overlay";
    m.n_options = 4;
    m.options = mopts;
    Containerd__Types__Mount *mounts[] = {&m};
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "containerd.runc.v1.Options";
    any.value.data = opts;
    any.value.len = opts_len;
    Containerd__Task__V2__CreateTaskRequest c = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
    c.id = "tA";
    c.bundle = "/run/containerd/io.containerd.runtime.v2.task/wb/tA";
    c.n_rootfs = 1;
    c.rootfs = mounts;
    c.terminal = 1;
    c.stdin = "/run/containerd/fifo/1/tA-stdin";
    c.options = &any;
    uint8_t *buf = pack(&c.base, &len);
    wb_msg_create_task_request cr = {0};
    wb_msg_runc_options ours_ro = {0};
    bool ok = wb_pb_decode(&wb_msg_create_task_request_table, buf, len, &cr, &err) == 0 &&
              !strcmp(cr.id, "tA") && cr.n_rootfs == 1 && cr.rootfs[0].n_options == 4 &&
              !strcmp(cr.rootfs[0].options[3], "lowerdir=/l") && cr.terminal &&
              !strcmp(cr.stdin_path, "/run/containerd/fifo/1/tA-stdin") && !cr.stdout_path &&
              wb_msg_any_unpack(cr.options, &wb_msg_runc_options_table, &ours_ro, &err) == 0 &&
              !strcmp(ours_ro.binary_name, "runc") &&
              !strcmp(ours_ro.root, "/var/run/docker/runtime-runc");
    snprintf(o->why, sizeof o->why, "%s", err.msg);
    result(o, ok, "CreateTaskRequest written by protobuf-c, runc Options' unknown fields skipped");
    if (ok) {
        /* and we write what protobuf-c wrote */
        uint8_t *mine;
        size_t mlen;
        ok = wb_pb_encode_alloc(&wb_msg_create_task_request_table, &cr, &mine, &mlen, &err) == 0 &&
             mlen == len && !memcmp(mine, buf, len);
        result(o, ok, "CreateTaskRequest: our encoding equals protobuf-c's");
        free(mine);
    }
    wb_pb_free(&wb_msg_runc_options_table, &ours_ro);
    wb_pb_free(&wb_msg_create_task_request_table, &cr);
    free(buf);
    free(opts);

    /* a TaskExit forwarded in an Envelope */
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = 1700000000;
    ts.nanos = 123;
    Containerd__Events__TaskExit ex = CONTAINERD__EVENTS__TASK_EXIT__INIT;
    ex.container_id = "tA";
    ex.id = "tA";
    ex.pid = 24914;
    ex.exit_status = 137;
    ex.exited_at = &ts;
    uint8_t *exb = pack(&ex.base, &len);
    Google__Protobuf__Any ev = GOOGLE__PROTOBUF__ANY__INIT;
    ev.type_url = "containerd.events.TaskExit";
    ev.value.data = exb;
    ev.value.len = len;
    Containerd__Services__Events__Ttrpc__V1__Envelope env =
        CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
    env.timestamp = &ts;
    env.namespace_ = "wb";
    env.topic = "/tasks/exit";
    env.event = &ev;
    Containerd__Services__Events__Ttrpc__V1__ForwardRequest fwd =
        CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
    fwd.envelope = &env;
    buf = pack(&fwd.base, &len);
    wb_msg_forward_request f = {0};
    wb_msg_task_exit te = {0};
    ok = wb_pb_decode(&wb_msg_forward_request_table, buf, len, &f, &err) == 0 && f.envelope &&
         !strcmp(f.envelope->topic, "/tasks/exit") && !strcmp(f.envelope->namespace_, "wb") &&
         f.envelope->timestamp->nanos == 123 &&
         wb_msg_any_unpack(f.envelope->event, &wb_msg_task_exit_table, &te, &err) == 0 &&
         te.pid == 24914 && te.exit_status == 137 && te.exited_at->seconds == 1700000000;
    snprintf(o->why, sizeof o->why, "%s", err.msg);
    result(o, ok, "ForwardRequest{TaskExit} written by protobuf-c");
    wb_pb_free(&wb_msg_task_exit_table, &te);
    wb_pb_free(&wb_msg_forward_request_table, &f);
    free(buf);
    free(exb);

    /* an error Response with a negative code and a detail */
    Google__Protobuf__Any detail = GOOGLE__PROTOBUF__ANY__INIT;
    detail.type_url = "x";
    Google__Protobuf__Any *details[] = {&detail};
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = -5;
    st.message = "no";
    st.n_details = 1;
    st.details = details;
    Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
    resp.status = &st;
    buf = pack(&resp.base, &len);
    wb_msg_ttrpc_response r = {0};
    ok = wb_pb_decode(&wb_msg_ttrpc_response_table, buf, len, &r, &err) == 0 && r.status &&
         r.status->code == -5 && !strcmp(r.status->message, "no") && r.status->n_details == 1 &&
         !strcmp(r.status->details[0].type_url, "x") && r.payload.len == 0;
    result(o, ok, "Response{Status{-5}} written by protobuf-c");
    wb_pb_free(&wb_msg_ttrpc_response_table, &r);
    free(buf);

    /* annotations */
    Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry e1 =
        CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__ANNOTATIONS_ENTRY__INIT;
    Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry e2 =
        CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__ANNOTATIONS_ENTRY__INIT;
    e1.key = "io.kubernetes.cri.sandbox-id";
    e1.value = "abc";
    e2.key = "empty";
    e2.value = "";
    Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry *entries[] = {&e1, &e2};
    Containerd__Task__V2__UpdateTaskRequest u = CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
    u.id = "tA";
    u.n_annotations = 2;
    u.annotations = entries;
    buf = pack(&u.base, &len);
    wb_msg_update_task_request ur = {0};
    ok = wb_pb_decode(&wb_msg_update_task_request_table, buf, len, &ur, &err) == 0 &&
         ur.n_annotations == 2 &&
         !strcmp(wb_pb_map_get(ur.annotations, 2, "io.kubernetes.cri.sandbox-id"), "abc") &&
         !strcmp(wb_pb_map_get(ur.annotations, 2, "empty"), "");
    result(o, ok, "UpdateTaskRequest annotations written by protobuf-c");
    wb_pb_free(&wb_msg_update_task_request_table, &ur);
    free(buf);
}

int main(void) {
    oracle o = {.rng = 0x9e3779b97f4a7c15ull};
    const pair pairs[] = {
        {&wb_msg_any_table, &google__protobuf__any__descriptor},
        {&wb_msg_timestamp_table, &google__protobuf__timestamp__descriptor},
        {&wb_msg_rpc_status_table, &google__rpc__status__descriptor},
        {&wb_msg_key_value_table, &ttrpc__key_value__descriptor},
        {&wb_msg_ttrpc_request_table, &ttrpc__request__descriptor},
        {&wb_msg_ttrpc_response_table, &ttrpc__response__descriptor},
        {&wb_msg_mount_table, &containerd__types__mount__descriptor},
        {&wb_msg_create_task_request_table, &containerd__task__v2__create_task_request__descriptor},
        {&wb_msg_delete_response_table, &containerd__task__v2__delete_response__descriptor},
        {&wb_msg_state_response_table, &containerd__task__v2__state_response__descriptor},
        {&wb_msg_update_task_request_table, &containerd__task__v2__update_task_request__descriptor},
        {&wb_msg_task_io_table, &containerd__events__task_io__descriptor},
        {&wb_msg_task_create_table, &containerd__events__task_create__descriptor},
        {&wb_msg_task_exit_table, &containerd__events__task_exit__descriptor},
        {&wb_msg_envelope_table, &containerd__services__events__ttrpc__v1__envelope__descriptor},
        {&wb_msg_forward_request_table,
         &containerd__services__events__ttrpc__v1__forward_request__descriptor},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) round_trips(&o, &pairs[i]);
    vectors(&o);
    written_by_pbc(&o);
    printf("shim-oracle: %d passed, %d failed\n", o.passed, o.failed);
    return o.failed ? 1 : 0;
}
