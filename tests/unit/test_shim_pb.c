/* shim/pb.c, shim/messages.c, shim/ttrpc.c: round trips of every message, byte-exact vectors
 * observed between containerd and runc (design/shim.md), unknown fields, hostile input, ttrpc
 * frames over socketpairs and a unary call against a forked server. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "harness.h"
#include "shim/messages.h"
#include "shim/pb.h"
#include "shim/ttrpc.h"

/* ---- helpers ---- */

static char *hex(const uint8_t *p, size_t n) {
    char *s = wb_malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) sprintf(s + 2 * i, "%02x", p[i]);
    s[2 * n] = 0;
    return s;
}

static size_t unhex(const char *s, uint8_t *out) {
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* encode msg, check the size was exact, return the bytes as hex (caller frees) */
static char *encode_hex(const wb_pb_table *t, const void *msg) {
    size_t n = wb_pb_size(t, msg);
    uint8_t *buf = wb_malloc(n + 1);
    size_t w = wb_pb_encode(t, msg, buf);
    if (w != n) wb_test_fail(__FILE__, __LINE__, "%s: size %zu, wrote %zu", t->name, n, w);
    char *h = hex(buf, n);
    free(buf);
    return h;
}

/* decode hex as table t into out; returns wb_pb_decode's result, err filled */
static int decode_hex(const wb_pb_table *t, const char *h, void *out, wb_error *err) {
    size_t n = strlen(h) / 2;
    /* an exact-size buffer, so that ASan sees any read past the end */
    uint8_t *buf = wb_malloc(n ? n : 1);
    unhex(h, buf);
    int rc = wb_pb_decode(t, buf, n, out, err);
    free(buf);
    return rc;
}

/* Fill every field of a struct of table t with a value that is not the default, deriving
 * values from *seed (so that siblings differ). Allocations are malloc'd: wb_pb_free frees. */
static void fill(const wb_pb_table *t, void *msg, unsigned *seed, int depth) {
    char *base = msg;
    for (size_t i = 0; i < t->nfields; i++) {
        const wb_pb_field *f = &t->fields[i];
        void *slot = base + f->offset;
        size_t *count = (size_t *)(base + f->count_offset);
        unsigned s = ++*seed;
        char str[32];
        snprintf(str, sizeof str, "%s-%u", f->name, s);
        switch (f->kind) {
        case WB_PB_UINT32: *(uint32_t *)slot = s % 2 ? 0xfffffff0u + s % 8 : s * 1000003u; break;
        case WB_PB_UINT64: *(uint64_t *)slot = (uint64_t)s << 40 | s; break;
        case WB_PB_INT32: *(int32_t *)slot = s % 2 ? -(int32_t)s : (int32_t)s * 77777; break;
        case WB_PB_INT64: *(int64_t *)slot = s % 2 ? -62135596800 : (int64_t)s << 33; break;
        case WB_PB_BOOL: *(bool *)slot = true; break;
        case WB_PB_STRING: *(char **)slot = wb_strdup(str); break;
        case WB_PB_BYTES: {
            wb_pb_bytes *b = slot;
            b->len = 5;
            b->data = wb_malloc(6);
            memcpy(b->data, (uint8_t[]){0, 1, 0xff, (uint8_t)s, 0x80, 0}, 6);
            break;
        }
        case WB_PB_MESSAGE:
            if (depth < 6) {
                *(void **)slot = wb_calloc(1, f->sub->size);
                fill(f->sub, *(void **)slot, seed, depth + 1);
            }
            break;
        case WB_PB_REPEATED_MESSAGE: {
            char *items = wb_calloc(3, f->sub->size);
            for (int k = 0; k < 3; k++)
                if (k != 1) fill(f->sub, items + k * f->sub->size, seed, depth + 1);
            /* the middle element stays empty: it must still be written and read back */
            *(void **)slot = items;
            *count = 3;
            break;
        }
        case WB_PB_REPEATED_STRING: {
            char **items = wb_calloc(3, sizeof *items);
            items[0] = wb_strdup(str);
            items[1] = wb_strdup(""); /* an empty element is an element */
            items[2] = wb_strdup("last");
            *(char ***)slot = items;
            *count = 3;
            break;
        }
        case WB_PB_MAP_STRING: {
            wb_pb_map_entry *items = wb_calloc(2, sizeof *items);
            items[0] = (wb_pb_map_entry){wb_strdup(str), wb_strdup("v")};
            items[1] = (wb_pb_map_entry){wb_strdup("empty"), wb_strdup("")};
            *(wb_pb_map_entry **)slot = items;
            *count = 2;
            break;
        }
        }
    }
}

/* Encode msg, decode it, compare, encode again: the same bytes. */
static void check_round_trip(const wb_pb_table *t, const void *msg) {
    uint8_t *buf, *buf2;
    size_t len, len2;
    wb_error err = {0};
    if (wb_pb_encode_alloc(t, msg, &buf, &len, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s: %s", t->name, err.msg);
    void *back = wb_calloc(1, t->size);
    if (wb_pb_decode(t, buf, len, back, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s: decode: %s", t->name, err.msg);
    if (!wb_pb_equal(t, msg, back))
        wb_test_fail(__FILE__, __LINE__, "%s: decoded message differs", t->name);
    if (wb_pb_encode_alloc(t, back, &buf2, &len2, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s: %s", t->name, err.msg);
    if (len != len2 || memcmp(buf, buf2, len) != 0)
        wb_test_fail(__FILE__, __LINE__, "%s: re-encoded bytes differ", t->name);
    wb_pb_free(t, back);
    free(back);
    free(buf);
    free(buf2);
}

/* ---- tables and varints ---- */

TEST(shim_pb_tables_well_formed) {
    wb_error err = {0};
    ASSERT_GE(wb_msg_ntables, 45);
    for (size_t i = 0; i < wb_msg_ntables; i++) {
        const wb_pb_table *t = wb_msg_tables[i];
        if (wb_pb_table_check(t, &err) < 0) wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
        ASSERT_TRUE(wb_msg_table_by_name(t->name) == t); /* names unique */
    }
    ASSERT_TRUE(wb_msg_table_by_name("containerd.events.TaskExit") == &wb_msg_task_exit_table);
    ASSERT_TRUE(wb_msg_table_by_name("containerd.events.Nope") == NULL);
}

TEST(shim_pb_varint) {
    uint8_t b[16];
    ASSERT_EQ(wb_pb_varint_size(0), 1);
    ASSERT_EQ(wb_pb_varint_size(127), 1);
    ASSERT_EQ(wb_pb_varint_size(128), 2);
    ASSERT_EQ(wb_pb_varint_size(UINT32_MAX), 5);
    ASSERT_EQ(wb_pb_varint_size(UINT64_MAX), 10);
    size_t n = wb_pb_put_varint(b, 300);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(b[0], 0xac);
    ASSERT_EQ(b[1], 0x02);
    uint64_t v;
    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ASSERT_EQ(wb_pb_get_varint(max, max + 10, &v), 10);
    ASSERT_U64_EQ(v, UINT64_MAX);
    ASSERT_EQ(wb_pb_get_varint(max, max + 9, &v), 0); /* truncated */
    const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    ASSERT_EQ(wb_pb_get_varint(over, over + 10, &v), -1); /* beyond 64 bits */
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    ASSERT_EQ(wb_pb_get_varint(eleven, eleven + 11, &v), -1);
    /* a non-minimal encoding is valid protobuf: 0 in two bytes */
    const uint8_t padded[] = {0x80, 0x00};
    ASSERT_EQ(wb_pb_get_varint(padded, padded + 2, &v), 2);
    ASSERT_U64_EQ(v, 0);
}

/* ---- byte-exact vectors ---- */

/* runc's `delete` printed a DeleteResponse beginning 08d2c201 1089 01 1a0c (design/shim.md):
 *   08 d2c201      field 1 (pid), wire type 0: 24914 = 0x52 | 0x42<<7 | 0x01<<14 -> d2 c2 01
 *   10 8901        field 2 (exit_status), wire type 0: 137 = 0x09 | 0x01<<7 -> 89 01
 *   1a 0c          field 3 (exited_at), wire type 2, 12 bytes of google.protobuf.Timestamp
 * The 12 bytes were not recorded. A Timestamp is {1 seconds int64, 2 nanos int32}: 08 s.. 10 n..,
 * so the two varints take 10 bytes: a 2020s time in seconds (2^30..2^35) takes 5, so nanos took 5
 * too (2^28 ≤ nanos < 10^9). We take 1700000000 s (2023-11-14 22:13:20 UTC) and 500000000 ns:
 *   1700000000 in 7-bit groups, low first: 0x00 0x62 0x4f 0x2a 0x06 -> 80 e2 cf aa 06
 *   (1700000000 = 128 * 13281250; 13281250 = 128 * 103759 + 98; 103759 = 128 * 810 + 79;
 *    810 = 128 * 6 + 42; the continuation bit 0x80 set on all but the last)
 *   500000000: 0x00 0x4a 0x35 0x6e 0x01 -> 80 ca b5 ee 01
 *   (500000000 = 128 * 3906250; 3906250 = 128 * 30517 + 74; 30517 = 128 * 238 + 53;
 *    238 = 128 * 1 + 110)
 * giving 08 80e2cfaa06 10 80cab5ee01: 1 + 5 + 1 + 5 = 12 bytes, the length runc wrote. */
TEST(shim_pb_vector_delete_response) {
    wb_msg_timestamp ts = {1700000000, 500000000};
    wb_msg_delete_response r = {.pid = 24914, .exit_status = 137, .exited_at = &ts};
    const char *want = "08d2c201"
                       "108901"
                       "1a0c"
                       "0880e2cfaa06"
                       "1080cab5ee01";
    char *got = encode_hex(&wb_msg_delete_response_table, &r);
    ASSERT_STR_EQ(got, want);
    ASSERT_EQ(strncmp(got, "08d2c2011089011a0c", 18), 0); /* what runc printed */
    free(got);
    wb_msg_delete_response back = {0};
    wb_error err = {0};
    ASSERT_EQ(decode_hex(&wb_msg_delete_response_table, want, &back, &err), 0);
    ASSERT_EQ(back.pid, 24914);
    ASSERT_EQ(back.exit_status, 137);
    ASSERT_TRUE(back.exited_at != NULL);
    ASSERT_EQ(back.exited_at->seconds, 1700000000);
    ASSERT_EQ(back.exited_at->nanos, 500000000);
    wb_pb_free(&wb_msg_delete_response_table, &back);
    /* a Go zero time (runc's exited_at while running) is a negative int64: 10 bytes */
    ts = (wb_msg_timestamp){-62135596800, 0};
    got = encode_hex(&wb_msg_timestamp_table, &ts);
    ASSERT_STR_EQ(got, "088092b8c398feffffff01");
    free(got);
}

/* The traced Request(Start) was 38 bytes. ttrpc.Request{1 service, 2 method, 3 payload}:
 *   0a 17 "containerd.task.v2.Task"  2 + 23 = 25
 *   12 05 "Start"                    2 + 5  =  7
 *   1a NN <StartRequest>             2 + NN
 * so NN = 38 - 32 - 2 = 4, and StartRequest{1 id} = 0a LL <id> = 2 + LL gives LL = 2: a
 * two-character id, which is what the trace used (`-id tA`). */
TEST(shim_pb_vector_request_start) {
    wb_msg_start_request start = {.id = "tA"};
    uint8_t payload[16];
    size_t plen = wb_pb_encode(&wb_msg_start_request_table, &start, payload);
    ASSERT_EQ(plen, 4);
    wb_msg_ttrpc_request req = {
        .service = WB_MSG_TASK_SERVICE, .method = "Start", .payload = {payload, plen}};
    ASSERT_EQ(wb_pb_size(&wb_msg_ttrpc_request_table, &req), 38);
    char *got = encode_hex(&wb_msg_ttrpc_request_table, &req);
    ASSERT_STR_EQ(got, "0a17636f6e7461696e6572642e7461736b2e76322e5461736b"
                       "12055374617274"
                       "1a040a027441");
    free(got);
}

/* Forward of a /tasks/exit event, as a shim sends it (field order as Go writes it) */
TEST(shim_pb_vector_forward_task_exit) {
    wb_msg_timestamp at = {1, 2};
    wb_msg_task_exit ex = {
        .container_id = "c", .id = "c", .pid = 7, .exit_status = 3, .exited_at = &at};
    wb_msg_any any = {0};
    wb_error err = {0};
    ASSERT_EQ(wb_msg_any_pack(&wb_msg_task_exit_table, &ex, &any, &err), 0);
    ASSERT_STR_EQ(any.type_url, "containerd.events.TaskExit");
    char *h = hex(any.value.data, any.value.len);
    /* 0a01 63 | 1201 63 | 18 07 | 20 03 | 2a 04 (08 01 10 02) */
    ASSERT_STR_EQ(h, "0a0163120163180720032a0408011002");
    free(h);
    wb_msg_envelope env = {
        .timestamp = &at, .namespace_ = "wb", .topic = WB_MSG_TOPIC_EXIT, .event = &any};
    wb_msg_forward_request fwd = {.envelope = &env};
    h = encode_hex(&wb_msg_forward_request_table, &fwd);
    /* 0a LEN { 0a04 0801 1002 | 1202 "wb" | 1a0b "/tasks/exit" | 22 LEN { 0a1a "containerd.
     * events.TaskExit" | 1210 <16 bytes> } } */
    ASSERT_STR_EQ(h, "0a47"
                     "0a0408011002"
                     "12027762"
                     "1a0b2f7461736b732f65786974"
                     "222e"
                     "0a1a636f6e7461696e6572642e6576656e74732e5461736b45786974"
                     "12100a0163120163180720032a0408011002");
    free(h);
    wb_pb_free(&wb_msg_any_table, &any);
}

/* ---- round trips ---- */

TEST(shim_pb_round_trip_every_message) {
    for (size_t i = 0; i < wb_msg_ntables; i++) {
        const wb_pb_table *t = wb_msg_tables[i];
        /* every field set */
        void *msg = wb_calloc(1, t->size);
        unsigned seed = (unsigned)i * 100;
        fill(t, msg, &seed, 1);
        check_round_trip(t, msg);
        /* every proto3 default: nothing is written */
        void *zero = wb_calloc(1, t->size);
        ASSERT_EQ(wb_pb_size(t, zero), 0);
        check_round_trip(t, zero);
        wb_pb_free(t, msg);
        free(msg);
        free(zero);
    }
}

TEST(shim_pb_round_trip_create_task_request) {
    char *opts[] = {"index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2"};
    wb_msg_mount m = {.type = "overlay", .source = "overlay", .options = opts, .n_options = 4};
    wb_msg_runc_options ro = {.binary_name = "wasmbox-runc", .root = "/run/wb"};
    wb_msg_any opt = {0};
    wb_error err = {0};
    ASSERT_EQ(wb_msg_any_pack(&wb_msg_runc_options_table, &ro, &opt, &err), 0);
    wb_msg_create_task_request req = {.id = "tA",
                                      .bundle =
                                          "/run/containerd/io.containerd.runtime.v2.task/wb/tA",
                                      .rootfs = &m,
                                      .n_rootfs = 1,
                                      .stdin_path = "/run/containerd/fifo/1/tA-stdin",
                                      .stdout_path = "/run/containerd/fifo/1/tA-stdout",
                                      .options = &opt};
    check_round_trip(&wb_msg_create_task_request_table, &req);
    uint8_t *buf;
    size_t len;
    ASSERT_EQ(wb_pb_encode_alloc(&wb_msg_create_task_request_table, &req, &buf, &len, &err), 0);
    wb_msg_create_task_request back = {0};
    ASSERT_EQ(wb_pb_decode(&wb_msg_create_task_request_table, buf, len, &back, &err), 0);
    free(buf);
    ASSERT_STR_EQ(back.id, "tA");
    ASSERT_EQ(back.n_rootfs, 1);
    ASSERT_STR_EQ(back.rootfs[0].type, "overlay");
    ASSERT_TRUE(back.rootfs[0].target == NULL);
    ASSERT_EQ(back.rootfs[0].n_options, 4);
    ASSERT_STR_EQ(back.rootfs[0].options[3], "lowerdir=/l1:/l2");
    ASSERT_TRUE(back.stderr_path == NULL);
    ASSERT_TRUE(!back.terminal);
    ASSERT_TRUE(wb_msg_any_is(back.options, &wb_msg_runc_options_table));
    wb_msg_runc_options ro2 = {0};
    ASSERT_EQ(wb_msg_any_unpack(back.options, &wb_msg_runc_options_table, &ro2, &err), 0);
    ASSERT_STR_EQ(ro2.binary_name, "wasmbox-runc");
    ASSERT_STR_EQ(ro2.root, "/run/wb");
    wb_pb_free(&wb_msg_runc_options_table, &ro2);
    /* the wrong type is refused, naming both */
    ASSERT_EQ(wb_msg_any_unpack(back.options, &wb_msg_runtime_options_table, &ro2, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "containerd.runc.v1.Options");
    ASSERT_STR_CONTAINS(err.msg, "runtimeoptions.v1.Options");
    wb_pb_free(&wb_msg_create_task_request_table, &back);
    wb_pb_free(&wb_msg_any_table, &opt);
}

TEST(shim_pb_docker_runc_options) {
    /* Docker's stdin on `start`: Any{containerd.runc.v1.Options{6 binary_name, 7 root}}, with
     * the "type.googleapis.com/" form accepted too; other option fields are skipped */
    wb_msg_runc_options ro = {.binary_name = "runc", .root = "/var/run/docker/runtime-runc"};
    uint8_t body[128];
    size_t n = wb_pb_encode(&wb_msg_runc_options_table, &ro, body);
    ASSERT_EQ(body[0], 0x32); /* field 6, wire type 2 */
    /* with no_pivot_root (1, bool) and systemd_cgroup (9, bool) in front, unknown to us */
    uint8_t full[140] = {0x08, 0x01, 0x48, 0x01};
    memcpy(full + 4, body, n);
    wb_msg_any any = {.type_url = "type.googleapis.com/containerd.runc.v1.Options",
                      .value = {full, n + 4}};
    wb_msg_runc_options back = {0};
    wb_error err = {0};
    ASSERT_EQ(wb_msg_any_unpack(&any, &wb_msg_runc_options_table, &back, &err), 0);
    ASSERT_STR_EQ(back.binary_name, "runc");
    ASSERT_STR_EQ(back.root, "/var/run/docker/runtime-runc");
    wb_pb_free(&wb_msg_runc_options_table, &back);
}

TEST(shim_pb_defaults_and_presence) {
    /* proto3 defaults are omitted: "", false, 0 */
    wb_msg_state_response st = {.id = "", .terminal = false, .status = WB_MSG_STATUS_UNKNOWN};
    ASSERT_EQ(wb_pb_size(&wb_msg_state_response_table, &st), 0);
    /* a present empty message is written (tag, length 0), as Go writes a non-nil pointer */
    wb_msg_timestamp zero = {0};
    st.exited_at = &zero;
    char *h = encode_hex(&wb_msg_state_response_table, &st);
    ASSERT_STR_EQ(h, "5200");
    free(h);
    wb_msg_state_response back = {0};
    wb_error err = {0};
    ASSERT_EQ(decode_hex(&wb_msg_state_response_table, "5200", &back, &err), 0);
    ASSERT_TRUE(back.exited_at != NULL);
    ASSERT_EQ(back.exited_at->seconds, 0);
    wb_pb_free(&wb_msg_state_response_table, &back);
    /* an empty string on the wire reads as NULL (absent) */
    ASSERT_EQ(decode_hex(&wb_msg_state_response_table, "0a00", &back, &err), 0);
    ASSERT_TRUE(back.id == NULL);
    /* State RUNNING, pid 42, as containerd reads it */
    st = (wb_msg_state_response){.id = "t", .pid = 42, .status = WB_MSG_STATUS_RUNNING};
    h = encode_hex(&wb_msg_state_response_table, &st);
    ASSERT_STR_EQ(h, "0a0174182a2002");
    free(h);
}

TEST(shim_pb_last_wins_merge_append) {
    wb_msg_kill_request k = {0};
    wb_error err = {0};
    /* signal 15 then 9: the last wins; id twice: the last wins */
    ASSERT_EQ(decode_hex(&wb_msg_kill_request_table, "0a0161180f0a01621809", &k, &err), 0);
    ASSERT_EQ(k.signal, 9);
    ASSERT_STR_EQ(k.id, "b");
    wb_pb_free(&wb_msg_kill_request_table, &k);
    /* exited_at given twice: merged ({1 seconds} then {2 nanos}) */
    wb_msg_wait_response w = {0};
    ASSERT_EQ(decode_hex(&wb_msg_wait_response_table, "1202080512021007", &w, &err), 0);
    ASSERT_EQ(w.exited_at->seconds, 5);
    ASSERT_EQ(w.exited_at->nanos, 7);
    wb_pb_free(&wb_msg_wait_response_table, &w);
    /* repeated: appended across occurrences, the other fields between */
    wb_msg_mount m = {0};
    ASSERT_EQ(decode_hex(&wb_msg_mount_table,
                         "220161"
                         "0a0174"
                         "220162"
                         "220163"
                         "220164"
                         "220165",
                         &m, &err),
              0);
    ASSERT_EQ(m.n_options, 5);
    ASSERT_STR_EQ(m.options[4], "e");
    ASSERT_STR_EQ(m.type, "t");
    wb_pb_free(&wb_msg_mount_table, &m);
    ASSERT_TRUE(m.options == NULL && m.n_options == 0); /* freed and zeroed */
}

TEST(shim_pb_map) {
    wb_msg_update_task_request u = {0};
    wb_error err = {0};
    /* annotations {a: 1}, {b: ""} written without its value, {a: 2}: the last "a" wins */
    ASSERT_EQ(decode_hex(&wb_msg_update_task_request_table,
                         "0a0169"
                         "1a060a0161120131"
                         "1a030a0162"
                         "1a060a0161120132",
                         &u, &err),
              0);
    ASSERT_STR_EQ(u.id, "i");
    ASSERT_EQ(u.n_annotations, 3);
    ASSERT_STR_EQ(wb_pb_map_get(u.annotations, u.n_annotations, "a"), "2");
    ASSERT_STR_EQ(wb_pb_map_get(u.annotations, u.n_annotations, "b"), "");
    ASSERT_TRUE(wb_pb_map_get(u.annotations, u.n_annotations, "c") == NULL);
    /* written back with both key and value in every entry, as Go does */
    char *h = encode_hex(&wb_msg_update_task_request_table, &u);
    ASSERT_STR_EQ(h, "0a0169"
                     "1a060a0161120131"
                     "1a050a01621200"
                     "1a060a0161120132");
    free(h);
    wb_pb_free(&wb_msg_update_task_request_table, &u);
}

/* ---- unknown fields, wire types ---- */

TEST(shim_pb_unknown_fields_skipped) {
    wb_msg_start_request s = {0};
    wb_error err = {0};
    /* field 99 varint (10 bytes), 100 fixed64, 101 length-delimited, 102 fixed32, and the
     * largest field number (2^29-1, a five-byte tag), around the known ones */
    const char *in = "9806ffffffffffffffffff01"
                     "a1060102030405060708"
                     "0a0174"
                     "aa0603616263"
                     "b50601020304"
                     "f8ffffff0f05"
                     "120165";
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, in, &s, &err), 0);
    ASSERT_STR_EQ(s.id, "t");
    ASSERT_STR_EQ(s.exec_id, "e");
    wb_pb_free(&wb_msg_start_request_table, &s);
    /* inside a nested message too: Create.rootfs[0] with an unknown field 9 (fixed32) */
    wb_msg_create_task_request c = {0};
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "1a080a016d4d01020304", &c, &err), 0);
    ASSERT_EQ(c.n_rootfs, 1);
    ASSERT_STR_EQ(c.rootfs[0].type, "m");
    wb_pb_free(&wb_msg_create_task_request_table, &c);
    /* a message of no known field at all (Empty with everything) */
    wb_msg_empty e = {0};
    ASSERT_EQ(decode_hex(&wb_msg_empty_table,
                         "0801"
                         "110000000000000000"
                         "1a00"
                         "1d00000000",
                         &e, &err),
              0);
}

TEST(shim_pb_wire_types_refused) {
    wb_msg_start_request s = {0};
    wb_error err = {0};
    /* a group (start 3, end 4), wire types 6 and 7 */
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, "4b4c", &s, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "groups");
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, "4c", &s, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "groups");
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, "4e00", &s, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "invalid wire type 6");
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, "4f00", &s, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "invalid wire type 7");
    /* a known field with the wrong wire type: id (string) as a varint */
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, "0805", &s, &err), -1);
    ASSERT_STR_CONTAINS(
        err.msg,
        "containerd.task.v2.StartRequest: id (field 1): wire type 0, expected 2 at byte 0");
    ASSERT_EQ(err.code, EINVAL);
    /* field number 0, and 2^29 */
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table, "0001", &s, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "field number 0 out of range");
    ASSERT_EQ(decode_hex(&wb_msg_start_request_table,
                         "8080808010"
                         "00",
                         &s, &err),
              -1);
    ASSERT_STR_CONTAINS(err.msg, "field number 536870912 out of range");
    ASSERT_TRUE(s.id == NULL && s.exec_id == NULL);
}

/* ---- hostile input ---- */

TEST(shim_pb_truncated_every_prefix) {
    wb_msg_create_task_request req = {0};
    unsigned seed = 1;
    fill(&wb_msg_create_task_request_table, &req, &seed, 1);
    uint8_t *buf;
    size_t len;
    wb_error err = {0};
    ASSERT_EQ(wb_pb_encode_alloc(&wb_msg_create_task_request_table, &req, &buf, &len, &err), 0);
    ASSERT_GE(len, 100);
    int ok = 0, refused = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *p = wb_malloc(n ? n : 1);
        memcpy(p, buf, n);
        wb_msg_create_task_request back = {0};
        if (wb_pb_decode(&wb_msg_create_task_request_table, p, n, &back, &err) == 0) {
            ok++; /* a prefix that ends between top-level fields is a valid message */
            wb_pb_free(&wb_msg_create_task_request_table, &back);
        } else {
            refused++;
            ASSERT_TRUE(err.msg[0] != 0);
            ASSERT_STR_CONTAINS(err.msg, "containerd.task.v2.CreateTaskRequest");
            /* nothing left behind */
            ASSERT_TRUE(back.id == NULL && back.rootfs == NULL && back.options == NULL);
        }
        free(p);
    }
    ASSERT_GE(ok, 5);
    ASSERT_GE(refused, 50);
    free(buf);
    wb_pb_free(&wb_msg_create_task_request_table, &req);
}

TEST(shim_pb_hostile_lengths_and_varints) {
    wb_msg_create_task_request c = {0};
    wb_error err = {0};
    /* id of length 2^32-1 with 1 byte behind */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "0affffffff0f41", &c, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "length 4294967295 runs past the end");
    ASSERT_STR_CONTAINS(err.msg, "CreateTaskRequest: id (field 1): length");
    /* a length of 2^64-1: must not wrap the pointer */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "0affffffffffffffffff0141", &c, &err),
              -1);
    ASSERT_STR_CONTAINS(err.msg, "runs past the end");
    /* the same in an unknown field */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "fa01ffffffffffffffff0141", &c, &err),
              -1);
    ASSERT_STR_CONTAINS(err.msg, "field 31 (unknown)");
    /* an 11-byte varint, a 10-byte one beyond 64 bits, a truncated one */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "208080808080808080808000", &c, &err),
              -1);
    ASSERT_STR_CONTAINS(err.msg, "varint longer than 10 bytes");
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "20ffffffffffffffffff02", &c, &err),
              -1);
    ASSERT_STR_CONTAINS(err.msg, "beyond 64 bits");
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "20ff", &c, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "truncated varint");
    ASSERT_STR_CONTAINS(err.msg, "at byte 1");
    /* truncated fixed64 / fixed32 unknown fields */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "f901010203", &c, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "truncated 8-byte field");
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "fd01010203", &c, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "truncated 4-byte field");
    /* a nested length that runs past its parent (but not past the input): rootfs of 3 bytes
     * holding a type of 5 */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "1a030a0561626364650000", &c, &err),
              -1);
    ASSERT_STR_CONTAINS(err.msg, "containerd.task.v2.CreateTaskRequest: rootfs[0].type (field 1): "
                                 "length 5 runs past the end of its message (1 bytes left) "
                                 "at byte 3");
    /* a NUL inside a string */
    ASSERT_EQ(decode_hex(&wb_msg_create_task_request_table, "0a03610062", &c, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "NUL");
    /* but bytes keep it, with a NUL after */
    wb_msg_any a = {0};
    ASSERT_EQ(decode_hex(&wb_msg_any_table, "1203610062", &a, &err), 0);
    ASSERT_EQ(a.value.len, 3);
    ASSERT_EQ(a.value.data[1], 0);
    ASSERT_EQ(a.value.data[3], 0);
    wb_pb_free(&wb_msg_any_table, &a);
    ASSERT_TRUE(c.id == NULL && c.rootfs == NULL);
}

TEST(shim_pb_negative_int32) {
    /* google.rpc.Status.code -1: int32 negatives are sign-extended, 10 bytes (as Go) */
    wb_msg_rpc_status st = {.code = -1};
    char *h = encode_hex(&wb_msg_rpc_status_table, &st);
    ASSERT_STR_EQ(h, "08ffffffffffffffffff01");
    free(h);
    wb_msg_rpc_status back = {0};
    wb_error err = {0};
    ASSERT_EQ(decode_hex(&wb_msg_rpc_status_table, "08ffffffffffffffffff01", &back, &err), 0);
    ASSERT_EQ(back.code, -1);
    /* the 5-byte form some encoders write reads the same (Go truncates to 32 bits) */
    ASSERT_EQ(decode_hex(&wb_msg_rpc_status_table, "08ffffffff0f", &back, &err), 0);
    ASSERT_EQ(back.code, -1);
    /* INT32_MIN */
    st.code = INT32_MIN;
    h = encode_hex(&wb_msg_rpc_status_table, &st);
    ASSERT_STR_EQ(h, "0880808080f8ffffffff01");
    ASSERT_EQ(decode_hex(&wb_msg_rpc_status_table, h, &back, &err), 0);
    ASSERT_EQ(back.code, INT32_MIN);
    free(h);
    /* uint32 given a 64-bit value: truncated to 32 bits, as Go does */
    wb_msg_start_response sr = {0};
    ASSERT_EQ(decode_hex(&wb_msg_start_response_table, "0881808080f0ffffffff01", &sr, &err), 0);
    ASSERT_EQ(sr.pid, 1);
    /* int64 -1 */
    wb_msg_timestamp ts = {.seconds = -1};
    h = encode_hex(&wb_msg_timestamp_table, &ts);
    ASSERT_STR_EQ(h, "08ffffffffffffffffff01");
    free(h);
}

/* A message that holds itself, to reach the depth limit (no containerd message nests deep). */
typedef struct node {
    uint32_t value;
    struct node *child;
} node;
extern const wb_pb_table node_table;
static const wb_pb_field node_fields[] = {
    {1, WB_PB_UINT32, "value", offsetof(node, value), 0, NULL},
    {2, WB_PB_MESSAGE, "child", offsetof(node, child), 0, &node_table},
};
const wb_pb_table node_table = {"test.Node", sizeof(node), node_fields, 2};

static uint8_t *nested(int levels, size_t *len) {
    /* built inside out: each level is 12 <len> <inner> */
    uint8_t *buf = wb_malloc(16);
    size_t n = 2;
    buf[0] = 0x08;
    buf[1] = 0x01;
    for (int i = 1; i < levels; i++) {
        uint8_t *outer = wb_malloc(n + 12);
        outer[0] = 0x12;
        size_t k = 1 + wb_pb_put_varint(outer + 1, n);
        memcpy(outer + k, buf, n);
        free(buf);
        buf = outer;
        n += k;
    }
    *len = n;
    return buf;
}

TEST(shim_pb_depth_limit) {
    wb_error err = {0};
    size_t len;
    uint8_t *buf = nested(WB_PB_MAX_DEPTH, &len);
    node n = {0};
    ASSERT_EQ(wb_pb_decode(&node_table, buf, len, &n, &err), 0);
    int depth = 1;
    for (node *p = &n; p->child; p = p->child) depth++;
    ASSERT_EQ(depth, WB_PB_MAX_DEPTH);
    check_round_trip(&node_table, &n);
    wb_pb_free(&node_table, &n);
    free(buf);
    buf = nested(WB_PB_MAX_DEPTH + 1, &len);
    ASSERT_EQ(wb_pb_decode(&node_table, buf, len, &n, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "nested deeper than 32");
    ASSERT_EQ(err.code, EMSGSIZE);
    ASSERT_TRUE(n.child == NULL);
    free(buf);
    buf = nested(10000, &len);
    ASSERT_EQ(wb_pb_decode(&node_table, buf, len, &n, &err), -1);
    free(buf);
    ASSERT_EQ(wb_pb_table_check(&node_table, &err), -1); /* recursive tables nest too deep */
}

TEST(shim_pb_size_limits) {
    wb_error err = {0};
    /* over 4 MiB of input: refused before reading */
    size_t big = WB_PB_MAX_SIZE + 1;
    uint8_t *buf = wb_calloc(1, big);
    wb_msg_mount m = {0};
    ASSERT_EQ(wb_pb_decode(&wb_msg_mount_table, buf, big, &m, &err), -1);
    ASSERT_EQ(err.code, EMSGSIZE);
    ASSERT_STR_CONTAINS(err.msg, "over the limit");
    free(buf);
    /* 4 MiB of empty mounts (1a 00): 2 Mi elements of 40 bytes would take 80 MiB and more */
    big = WB_PB_MAX_SIZE;
    buf = wb_malloc(big);
    for (size_t i = 0; i < big; i += 2) {
        buf[i] = 0x1a;
        buf[i + 1] = 0;
    }
    wb_msg_create_task_request c = {0};
    ASSERT_EQ(wb_pb_decode(&wb_msg_create_task_request_table, buf, big, &c, &err), -1);
    ASSERT_EQ(err.code, EMSGSIZE);
    ASSERT_STR_CONTAINS(err.msg, "bytes of memory");
    ASSERT_TRUE(c.rootfs == NULL && c.n_rootfs == 0);
    /* a quarter of that fits */
    ASSERT_EQ(wb_pb_decode(&wb_msg_create_task_request_table, buf, big / 4, &c, &err), 0);
    ASSERT_EQ(c.n_rootfs, big / 8);
    wb_pb_free(&wb_msg_create_task_request_table, &c);
    free(buf);
    /* the writer refuses what no peer would read */
    wb_msg_any any = {.type_url = "x"};
    any.value.len = WB_PB_MAX_SIZE;
    any.value.data = wb_calloc(1, any.value.len);
    uint8_t *out;
    size_t len;
    ASSERT_EQ(wb_pb_encode_alloc(&wb_msg_any_table, &any, &out, &len, &err), -1);
    ASSERT_EQ(err.code, EMSGSIZE);
    free(any.value.data);
}

/* ---- ttrpc frames ---- */

static void socket_pair(int sv[2]) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        wb_test_fail(__FILE__, __LINE__, "socketpair: %s", strerror(errno));
}

static void write_raw(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) _exit(3);
        p += w;
        n -= (size_t)w;
    }
}

TEST(shim_ttrpc_frame_round_trip) {
    int sv[2];
    socket_pair(sv);
    wb_error err = {0};
    const uint8_t payload[] = "hello";
    ASSERT_EQ(wb_ttrpc_write_frame(sv[0], 7, WB_TTRPC_REQUEST, 0, payload, 5, &err), 0);
    ASSERT_EQ(wb_ttrpc_write_frame(sv[0], 9, WB_TTRPC_DATA, WB_TTRPC_FLAG_NO_DATA, NULL, 0, &err),
              0);
    /* the header on the wire: big-endian length and stream id, type, flags */
    uint8_t raw[15];
    ASSERT_EQ(read(sv[1], raw, 15), 15);
    char *h = hex(raw, 15);
    ASSERT_STR_EQ(h, "00000005000000070100"
                     "68656c6c6f");
    free(h);
    wb_ttrpc_frame f;
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 1);
    ASSERT_EQ(f.stream_id, 9);
    ASSERT_EQ(f.type, WB_TTRPC_DATA);
    ASSERT_EQ(f.flags, WB_TTRPC_FLAG_NO_DATA);
    ASSERT_EQ(f.len, 0);
    ASSERT_TRUE(f.payload == NULL);
    /* a Request frame through send/read/decode */
    wb_msg_key_value md = {WB_MSG_NAMESPACE_KEY, "wb"};
    wb_msg_ttrpc_request req = {.service = WB_MSG_TASK_SERVICE,
                                .method = "State",
                                .payload = {(uint8_t *)"\x0a\x02tA", 4},
                                .timeout_nano = 2000000000,
                                .metadata = &md,
                                .n_metadata = 1};
    ASSERT_EQ(wb_ttrpc_send_request(sv[0], 3, &req, &err), 0);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 1);
    ASSERT_EQ(f.stream_id, 3);
    ASSERT_EQ(f.type, WB_TTRPC_REQUEST);
    wb_msg_ttrpc_request back = {0};
    ASSERT_EQ(wb_ttrpc_decode_request(&f, &back, &err), 0);
    ASSERT_TRUE(wb_pb_equal(&wb_msg_ttrpc_request_table, &req, &back));
    wb_msg_state_request sr = {0};
    ASSERT_EQ(
        wb_pb_decode(&wb_msg_state_request_table, back.payload.data, back.payload.len, &sr, &err),
        0);
    ASSERT_STR_EQ(sr.id, "tA");
    wb_pb_free(&wb_msg_state_request_table, &sr);
    wb_pb_free(&wb_msg_ttrpc_request_table, &back);
    wb_ttrpc_frame_release(&f);
    /* responses: OK with payload and no status; an error with status and no payload */
    ASSERT_EQ(
        wb_ttrpc_send_response(sv[1], 3, WB_RPC_OK, NULL, (const uint8_t *)"\x08\x2a", 2, &err), 0);
    ASSERT_EQ(wb_ttrpc_send_response(sv[1], 5, WB_RPC_NOT_FOUND, "task tB not found",
                                     (const uint8_t *)"x", 1, &err),
              0);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[0], &f, &err), 1);
    h = hex(f.payload, f.len);
    ASSERT_STR_EQ(h, "1202082a");
    free(h);
    wb_ttrpc_frame_release(&f);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[0], &f, &err), 1);
    wb_msg_ttrpc_response resp = {0};
    ASSERT_EQ(wb_ttrpc_decode_response(&f, &resp, &err), 0);
    ASSERT_TRUE(resp.status != NULL);
    ASSERT_EQ(resp.status->code, WB_RPC_NOT_FOUND);
    ASSERT_STR_EQ(resp.status->message, "task tB not found");
    ASSERT_EQ(resp.payload.len, 0);
    wb_pb_free(&wb_msg_ttrpc_response_table, &resp);
    wb_ttrpc_frame_release(&f);
    close(sv[0]);
    close(sv[1]);
}

TEST(shim_ttrpc_frame_split_into_bytes) {
    int sv[2];
    socket_pair(sv);
    uint8_t frame[10 + 300];
    memcpy(frame, "\x00\x00\x01\x2c\x00\x00\x00\x0b\x02\x00", 10);
    for (int i = 0; i < 300; i++) frame[10 + i] = (uint8_t)i;
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < sizeof frame; i++) {
            write_raw(sv[0], frame + i, 1);
            if (i % 50 == 0) usleep(1000);
        }
        _exit(0);
    }
    wb_ttrpc_frame f;
    wb_error err = {0};
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 1);
    ASSERT_EQ(f.stream_id, 11);
    ASSERT_EQ(f.type, WB_TTRPC_RESPONSE);
    ASSERT_EQ(f.len, 300);
    ASSERT_EQ(memcmp(f.payload, frame + 10, 300), 0);
    wb_ttrpc_frame_release(&f);
    int status;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(shim_ttrpc_frame_over_limit) {
    int sv[2];
    socket_pair(sv);
    wb_error err = {0};
    /* the writer refuses it, writing nothing */
    uint8_t *big = wb_calloc(1, WB_TTRPC_MAX_PAYLOAD + 1);
    ASSERT_EQ(wb_ttrpc_write_frame(sv[0], 1, 1, 0, big, WB_TTRPC_MAX_PAYLOAD + 1, &err), -1);
    ASSERT_EQ(err.code, EMSGSIZE);
    /* the reader drops it (a child writes it raw, then a good frame) and stays in step */
    pid_t pid = fork();
    if (pid == 0) {
        uint8_t h[10] = {0x00, 0x40, 0x00, 0x01, 0, 0, 0, 5, 1, 0}; /* 4 MiB + 1, stream 5 */
        write_raw(sv[0], h, 10);
        write_raw(sv[0], big, WB_TTRPC_MAX_PAYLOAD + 1);
        wb_error e2;
        if (wb_ttrpc_write_frame(sv[0], 7, 1, 0, (const uint8_t *)"ok", 2, &e2) < 0) _exit(4);
        /* exactly the limit is fine */
        if (wb_ttrpc_write_frame(sv[0], 9, 2, 0, big, WB_TTRPC_MAX_PAYLOAD, &e2) < 0) _exit(5);
        _exit(0);
    }
    wb_ttrpc_frame f;
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), -1);
    ASSERT_EQ(err.code, EMSGSIZE);
    ASSERT_EQ(f.stream_id, 5);
    ASSERT_EQ(f.type, WB_TTRPC_REQUEST);
    ASSERT_STR_CONTAINS(err.msg, "4194305");
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 1);
    ASSERT_EQ(f.stream_id, 7);
    ASSERT_EQ(f.len, 2);
    wb_ttrpc_frame_release(&f);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 1);
    ASSERT_EQ(f.stream_id, 9);
    ASSERT_EQ(f.len, WB_TTRPC_MAX_PAYLOAD);
    wb_ttrpc_frame_release(&f);
    int status;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(big);
}

TEST(shim_ttrpc_eof_and_truncation) {
    wb_error err = {0};
    wb_ttrpc_frame f;
    int sv[2];
    /* closed between frames: end of file, not an error */
    socket_pair(sv);
    close(sv[0]);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 0);
    close(sv[1]);
    /* closed inside the header */
    socket_pair(sv);
    write_raw(sv[0], (const uint8_t *)"\x00\x00\x00\x05\x00", 5);
    close(sv[0]);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), -1);
    ASSERT_EQ(err.code, EPROTO);
    ASSERT_STR_CONTAINS(err.msg, "5 of 10");
    close(sv[1]);
    /* closed inside the payload */
    socket_pair(sv);
    write_raw(sv[0], (const uint8_t *)"\x00\x00\x00\x05\x00\x00\x00\x01\x01\x00he", 12);
    close(sv[0]);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), -1);
    ASSERT_EQ(err.code, EPROTO);
    ASSERT_STR_CONTAINS(err.msg, "2 of 5");
    ASSERT_TRUE(f.payload == NULL);
    close(sv[1]);
    /* an unknown frame type: dropped, in step */
    socket_pair(sv);
    write_raw(sv[0], (const uint8_t *)"\x00\x00\x00\x02\x00\x00\x00\x03\x09\x00zz", 12);
    ASSERT_EQ(wb_ttrpc_write_frame(sv[0], 5, 1, 0, (const uint8_t *)"k", 1, &err), 0);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), -1);
    ASSERT_EQ(err.code, EBADMSG);
    ASSERT_EQ(f.stream_id, 3);
    ASSERT_EQ(wb_ttrpc_read_frame(sv[1], &f, &err), 1);
    ASSERT_EQ(f.stream_id, 5);
    wb_ttrpc_frame_release(&f);
    close(sv[0]);
    close(sv[1]);
}

TEST(shim_ttrpc_write_pipe_and_closed_peer) {
    wb_error err = {0};
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    /* not a socket: writev */
    ASSERT_EQ(wb_ttrpc_write_frame(p[1], 1, 1, 0, (const uint8_t *)"abc", 3, &err), 0);
    wb_ttrpc_frame f;
    ASSERT_EQ(wb_ttrpc_read_frame(p[0], &f, &err), 1);
    ASSERT_EQ(f.len, 3);
    wb_ttrpc_frame_release(&f);
    close(p[0]);
    close(p[1]);
    /* a socket whose peer is gone: EPIPE, and no SIGPIPE (which would kill this test) */
    int sv[2];
    socket_pair(sv);
    close(sv[1]);
    ASSERT_EQ(wb_ttrpc_write_frame(sv[0], 1, 1, 0, (const uint8_t *)"abc", 3, &err), -1);
    ASSERT_EQ(err.code, EPIPE);
    close(sv[0]);
}

/* ---- addresses, the client ---- */

TEST(shim_ttrpc_parse_address) {
    struct sockaddr_un sa;
    socklen_t len;
    wb_error err = {0};
    ASSERT_EQ(wb_ttrpc_parse_address("unix:///run/containerd/s/abc", &sa, &len, &err), 0);
    ASSERT_STR_EQ(sa.sun_path, "/run/containerd/s/abc");
    ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 22);
    ASSERT_EQ(wb_ttrpc_parse_address("/run/containerd/containerd.sock.ttrpc", &sa, &len, &err), 0);
    ASSERT_STR_EQ(sa.sun_path, "/run/containerd/containerd.sock.ttrpc");
    ASSERT_EQ(wb_ttrpc_parse_address("unix://@/containerd-shim/x.sock", &sa, &len, &err), 0);
    ASSERT_EQ(sa.sun_path[0], 0);
    ASSERT_EQ(memcmp(sa.sun_path + 1, "/containerd-shim/x.sock", 23), 0);
    ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 24);
    ASSERT_EQ(wb_ttrpc_parse_address("", &sa, &len, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_EQ(wb_ttrpc_parse_address("unix://", &sa, &len, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_EQ(wb_ttrpc_parse_address(NULL, &sa, &len, &err), -1);
    ASSERT_EQ(wb_ttrpc_parse_address("tcp://127.0.0.1:1", &sa, &len, &err), -1);
    ASSERT_EQ(err.code, EAFNOSUPPORT);
    ASSERT_EQ(wb_ttrpc_parse_address("vsock://3:1024", &sa, &len, &err), -1);
    ASSERT_EQ(err.code, EAFNOSUPPORT);
    char long_path[200];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = 0;
    ASSERT_EQ(wb_ttrpc_parse_address(long_path, &sa, &len, &err), -1);
    ASSERT_EQ(err.code, ENAMETOOLONG);
    long_path[107] = 0; /* 107 bytes: the longest that fits */
    ASSERT_EQ(wb_ttrpc_parse_address(long_path, &sa, &len, &err), 0);
}

/* A forked server on a temporary socket: accepts one connection per element of `mode`, reads a
 * request and answers it. Modes: 'f' Forward check then an answer on another stream first, 'n'
 * NotFound, 's' silence (never answers). */
static pid_t serve(const char *path, const char *modes) {
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    socklen_t len;
    wb_error err;
    if (ls < 0 || wb_ttrpc_parse_address(path, &sa, &len, &err) < 0 ||
        bind(ls, (struct sockaddr *)&sa, len) < 0 || listen(ls, 4) < 0)
        wb_test_fail(__FILE__, __LINE__, "listen `%s`: %s", path, strerror(errno));
    pid_t pid = fork();
    if (pid != 0) {
        close(ls);
        return pid;
    }
    for (const char *m = modes; *m; m++) {
        int c = accept(ls, NULL, NULL);
        wb_ttrpc_frame f;
        wb_msg_ttrpc_request req = {0};
        if (c < 0 || wb_ttrpc_read_frame(c, &f, &err) != 1 || f.type != WB_TTRPC_REQUEST ||
            wb_ttrpc_decode_request(&f, &req, &err) < 0)
            _exit(10);
        if (*m == 'f') {
            wb_msg_forward_request fwd = {0};
            wb_msg_task_exit ex = {0};
            if (strcmp(req.service, WB_MSG_EVENTS_SERVICE) || strcmp(req.method, "Forward") ||
                req.n_metadata != 1 || strcmp(req.metadata[0].key, WB_MSG_NAMESPACE_KEY) ||
                strcmp(req.metadata[0].value, "wb") || req.timeout_nano != 5000000000)
                _exit(11);
            if (wb_pb_decode(&wb_msg_forward_request_table, req.payload.data, req.payload.len, &fwd,
                             &err) < 0 ||
                !fwd.envelope || strcmp(fwd.envelope->topic, WB_MSG_TOPIC_EXIT) ||
                wb_msg_any_unpack(fwd.envelope->event, &wb_msg_task_exit_table, &ex, &err) < 0 ||
                ex.exit_status != 137)
                _exit(12);
            /* a frame of an unknown type and an answer to a stream the client did not use come
             * first: it must skip both */
            const uint8_t odd[] = {0, 0, 0, 1, 0, 0, 0, 99, 9, 0, 'z'};
            write_raw(c, odd, sizeof odd);
            wb_ttrpc_send_response(c, f.stream_id + 2, WB_RPC_INTERNAL, "not yours", NULL, 0, &err);
            wb_ttrpc_send_response(c, f.stream_id, WB_RPC_OK, NULL, NULL, 0, &err);
        } else if (*m == 'n') {
            wb_ttrpc_send_response(c, f.stream_id, WB_RPC_NOT_FOUND, "no such thing", NULL, 0,
                                   &err);
        } else if (*m == 's') {
            sleep(5);
        }
        close(c);
    }
    _exit(0);
}

TEST(shim_ttrpc_call) {
    char dir[] = "/tmp/wb-ttrpc-XXXXXX", path[64], address[80];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/s.sock", dir);
    snprintf(address, sizeof address, "unix://%s", path);
    pid_t pid = serve(path, "fns");
    wb_error err = {0};
    /* a /tasks/exit event as the shim forwards it */
    wb_msg_timestamp at = {1700000000, 1};
    wb_msg_task_exit ex = {
        .container_id = "tA", .id = "tA", .pid = 24914, .exit_status = 137, .exited_at = &at};
    wb_msg_any any = {0};
    ASSERT_EQ(wb_msg_any_pack(&wb_msg_task_exit_table, &ex, &any, &err), 0);
    wb_msg_envelope env = {
        .timestamp = &at, .namespace_ = "wb", .topic = WB_MSG_TOPIC_EXIT, .event = &any};
    wb_msg_forward_request fwd = {.envelope = &env};
    uint8_t *payload;
    size_t plen;
    ASSERT_EQ(wb_pb_encode_alloc(&wb_msg_forward_request_table, &fwd, &payload, &plen, &err), 0);
    wb_msg_key_value md = {WB_MSG_NAMESPACE_KEY, "wb"};
    wb_msg_ttrpc_request req = {.service = WB_MSG_EVENTS_SERVICE,
                                .method = WB_MSG_EVENTS_FORWARD,
                                .payload = {payload, plen},
                                .timeout_nano = 5000000000,
                                .metadata = &md,
                                .n_metadata = 1};
    wb_msg_ttrpc_response resp = {0};
    if (wb_ttrpc_call(address, &req, &resp, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    ASSERT_TRUE(resp.status == NULL);
    wb_pb_free(&wb_msg_ttrpc_response_table, &resp);
    /* an error status */
    ASSERT_EQ(wb_ttrpc_call(path, &req, &resp, &err), -1);
    ASSERT_EQ(err.code, EREMOTEIO);
    ASSERT_STR_CONTAINS(err.msg, "containerd.services.events.ttrpc.v1.Events/Forward: rpc error: "
                                 "code = NotFound desc = no such thing");
    ASSERT_EQ(resp.status->code, WB_RPC_NOT_FOUND);
    wb_pb_free(&wb_msg_ttrpc_response_table, &resp);
    /* no answer within the timeout */
    req.timeout_nano = 200000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(wb_ttrpc_call(address, &req, &resp, &err), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ASSERT_EQ(err.code, ETIMEDOUT);
    ASSERT_LT(t1.tv_sec - t0.tv_sec, 3);
    /* nobody listening */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(path);
    ASSERT_EQ(wb_ttrpc_call(address, &req, &resp, &err), -1);
    ASSERT_EQ(err.code, ENOENT);
    ASSERT_STR_CONTAINS(err.msg, "connect");
    rmdir(dir);
    free(payload);
    wb_pb_free(&wb_msg_any_table, &any);
}
