/* libFuzzer target: the shim's protobuf reader and ttrpc frames (src/shim/). The first byte picks
 * what the rest is: one of the message tables of shim/messages.h, or (the value after the last
 * table) a stream of ttrpc frames, whose Request payloads are decoded as ttrpc.Request and then
 * as the task service's request its method names. Whatever decodes is encoded again (the size
 * must be exact), decoded again (it must succeed and be equal) and encoded once more (the bytes
 * must be the same). A crash, a sanitizer report or an abort here is a finding. The seeds in
 * fuzz/seeds-shim-pb start with the index their message had in wb_msg_tables when they were
 * written (CreateTaskRequest 11, DeleteResponse 16, ...; "frames" with wb_msg_ntables). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/messages.h"
#include "shim/pb.h"
#include "shim/ttrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const wb_pb_table *t, const uint8_t *buf, size_t len) {
    wb_error err;
    void *first = calloc(1, t->size), *second = calloc(1, t->size);
    if (!first || !second) abort();
    if (wb_pb_decode(t, buf, len, first, &err) == 0) {
        size_t n = wb_pb_size(t, first);
        uint8_t *enc = malloc(n + 1), *enc2 = NULL;
        if (!enc || wb_pb_encode(t, first, enc) != n) {
            fprintf(stderr, "%s: size %zu is not what encode wrote\n", t->name, n);
            abort();
        }
        if (wb_pb_decode(t, enc, n, second, &err) < 0) {
            fprintf(stderr, "%s: our own encoding refused: %s\n", t->name, err.msg);
            abort();
        }
        if (!wb_pb_equal(t, first, second)) {
            fprintf(stderr, "%s: decode(encode(m)) != m\n", t->name);
            abort();
        }
        size_t n2 = wb_pb_size(t, second);
        enc2 = malloc(n2 + 1);
        if (!enc2 || n2 != n || wb_pb_encode(t, second, enc2) != n || memcmp(enc, enc2, n) != 0) {
            fprintf(stderr, "%s: encoding not stable\n", t->name);
            abort();
        }
        free(enc);
        free(enc2);
    } else {
        /* a refusal leaves nothing behind and says why */
        if (!err.msg[0]) abort();
        for (size_t i = 0; i < t->size; i++)
            if (((const uint8_t *)first)[i]) abort();
    }
    wb_pb_free(t, first);
    wb_pb_free(t, second);
    free(first);
    free(second);
}

/* The request message of a task-service method (as the shim's server will pick it). */
static const wb_pb_table *request_table(const char *method) {
    static const struct {
        const char *method;
        const wb_pb_table *table;
    } methods[] = {
        {"Create", &wb_msg_create_task_request_table},
        {"Start", &wb_msg_start_request_table},
        {"Delete", &wb_msg_delete_request_table},
        {"State", &wb_msg_state_request_table},
        {"Kill", &wb_msg_kill_request_table},
        {"Wait", &wb_msg_wait_request_table},
        {"Pids", &wb_msg_pids_request_table},
        {"Connect", &wb_msg_connect_request_table},
        {"Shutdown", &wb_msg_shutdown_request_table},
        {"Stats", &wb_msg_stats_request_table},
        {"Exec", &wb_msg_exec_process_request_table},
        {"ResizePty", &wb_msg_resize_pty_request_table},
        {"CloseIO", &wb_msg_close_io_request_table},
        {"Update", &wb_msg_update_task_request_table},
        {"Pause", &wb_msg_pause_request_table},
        {"Resume", &wb_msg_resume_request_table},
        {"Checkpoint", &wb_msg_checkpoint_task_request_table},
        {"Forward", &wb_msg_forward_request_table},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (method && strcmp(methods[i].method, method) == 0) return methods[i].table;
    return NULL;
}

static void frames(const uint8_t *data, size_t size) {
    int fd = memfd_create("frames", MFD_CLOEXEC);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) abort();
    for (int i = 0; i < 64; i++) {
        wb_ttrpc_frame f;
        wb_error err;
        int rc = wb_ttrpc_read_frame(fd, &f, &err);
        if (rc == 0) break;
        if (rc < 0) {
            if (err.code == EPROTO) break; /* the input ended inside a frame */
            continue;                      /* refused and dropped: in step, go on */
        }
        if (f.len > WB_TTRPC_MAX_PAYLOAD) abort();
        if (f.type == WB_TTRPC_REQUEST) {
            check(&wb_msg_ttrpc_request_table, f.payload, f.len);
            wb_msg_ttrpc_request req = {0};
            if (wb_ttrpc_decode_request(&f, &req, &err) == 0) {
                const wb_pb_table *t = request_table(req.method);
                if (t) check(t, req.payload.data, req.payload.len);
                wb_pb_free(&wb_msg_ttrpc_request_table, &req);
            }
        } else if (f.type == WB_TTRPC_RESPONSE) {
            check(&wb_msg_ttrpc_response_table, f.payload, f.len);
        }
        wb_ttrpc_frame_release(&f);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t which = data[0] % (wb_msg_ntables + 1);
    if (which == wb_msg_ntables)
        frames(data + 1, size - 1);
    else
        check(wb_msg_tables[which], data + 1, size - 1);
    return 0;
}
