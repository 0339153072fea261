/* ttrpc frames over a file descriptor, and the blocking client of shim/ttrpc.h. */
#include "shim/ttrpc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/alloc.h"

/* ---- reading ---- */

/* Read n bytes into buf; *got says how many arrived. 0 when all did, 1 at end of file before
 * that, -1 on a read error (errno set; EAGAIN from a receive timeout becomes ETIMEDOUT). */
static int read_full(int fd, uint8_t *buf, size_t n, size_t *got) {
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, buf + *got, n - *got);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
            return -1;
        }
        if (r == 0) return 1;
        *got += (size_t)r;
    }
    return 0;
}

/* Read and drop n payload bytes (a frame we refuse), keeping the connection in step. */
static int discard(int fd, uint64_t n, wb_error *err) {
    uint8_t chunk[16384];
    while (n > 0) {
        size_t want = n < sizeof chunk ? (size_t)n : sizeof chunk, got;
        int rc = read_full(fd, chunk, want, &got);
        if (rc < 0) return wb_error_sys(err, "ttrpc: read payload");
        if (rc > 0) return wb_error_set(err, EPROTO, "ttrpc: connection closed inside a payload");
        n -= want;
    }
    return 0;
}

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int wb_ttrpc_read_frame(int fd, wb_ttrpc_frame *out, wb_error *err) {
    uint8_t header[WB_TTRPC_HEADER_SIZE];
    size_t got;
    *out = (wb_ttrpc_frame){0};
    int rc = read_full(fd, header, sizeof header, &got);
    if (rc < 0) return wb_error_sys(err, "ttrpc: read frame header");
    if (rc > 0) {
        if (got == 0) return 0;
        return wb_error_set(err, EPROTO,
                            "ttrpc: connection closed inside a frame header (%zu of %d bytes)", got,
                            WB_TTRPC_HEADER_SIZE);
    }
    uint32_t len = get_be32(header);
    out->stream_id = get_be32(header + 4);
    out->type = header[8];
    out->flags = header[9];
    if (len > WB_TTRPC_MAX_PAYLOAD) {
        if (discard(fd, len, err) < 0) return -1;
        return wb_error_set(err, EMSGSIZE,
                            "ttrpc: stream %u: message length %u exceeded maximum message size "
                            "of %u",
                            out->stream_id, len, WB_TTRPC_MAX_PAYLOAD);
    }
    if (out->type < WB_TTRPC_REQUEST || out->type > WB_TTRPC_DATA) {
        if (discard(fd, len, err) < 0) return -1;
        return wb_error_set(err, EBADMSG, "ttrpc: stream %u: unknown frame type %u", out->stream_id,
                            out->type);
    }
    if (len == 0) return 1;
    out->payload = wb_malloc(len);
    rc = read_full(fd, out->payload, len, &got);
    if (rc != 0) {
        wb_ttrpc_frame_release(out);
        if (rc < 0) return wb_error_sys(err, "ttrpc: read payload");
        return wb_error_set(
            err, EPROTO, "ttrpc: connection closed inside a payload (%zu of %u bytes)", got, len);
    }
    out->len = len;
    return 1;
}

void wb_ttrpc_frame_release(wb_ttrpc_frame *f) {
    if (!f) return;
    free(f->payload);
    f->payload = NULL;
    f->len = 0;
}

/* ---- writing ---- */

/* Write the iovecs entirely: sendmsg(MSG_NOSIGNAL) on a socket, writev on anything else. */
static int write_all(int fd, struct iovec *iov, int n) {
    bool is_socket = true;
    while (n > 0) {
        ssize_t w;
        if (is_socket) {
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
            w = sendmsg(fd, &mh, MSG_NOSIGNAL);
            if (w < 0 && errno == ENOTSOCK) {
                is_socket = false;
                continue;
            }
        } else {
            w = writev(fd, iov, n);
        }
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
            return -1;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

int wb_ttrpc_write_frame(int fd, uint32_t stream_id, uint8_t type, uint8_t flags,
                         const uint8_t *payload, size_t len, wb_error *err) {
    if (len > WB_TTRPC_MAX_PAYLOAD)
        return wb_error_set(err, EMSGSIZE,
                            "ttrpc: stream %u: message of %zu bytes over the limit of %u",
                            stream_id, len, WB_TTRPC_MAX_PAYLOAD);
    uint8_t header[WB_TTRPC_HEADER_SIZE];
    put_be32(header, (uint32_t)len);
    put_be32(header + 4, stream_id);
    header[8] = type;
    header[9] = flags;
    struct iovec iov[2] = {{header, sizeof header}, {(void *)payload, len}};
    if (write_all(fd, iov, len ? 2 : 1) < 0)
        return wb_error_sys(err, "ttrpc: stream %u: write frame", stream_id);
    return 0;
}

static int send_message(int fd, uint32_t stream_id, uint8_t type, const wb_pb_table *t,
                        const void *msg, wb_error *err) {
    uint8_t *buf;
    size_t len;
    if (wb_pb_encode_alloc(t, msg, &buf, &len, err) < 0) return -1;
    int rc = wb_ttrpc_write_frame(fd, stream_id, type, 0, buf, len, err);
    free(buf);
    return rc;
}

int wb_ttrpc_send_request(int fd, uint32_t stream_id, const wb_msg_ttrpc_request *req,
                          wb_error *err) {
    return send_message(fd, stream_id, WB_TTRPC_REQUEST, &wb_msg_ttrpc_request_table, req, err);
}

int wb_ttrpc_send_response(int fd, uint32_t stream_id, int32_t code, const char *message,
                           const uint8_t *payload, size_t len, wb_error *err) {
    wb_msg_rpc_status status = {.code = code, .message = (char *)message};
    wb_msg_ttrpc_response resp = {0};
    if (code != WB_RPC_OK)
        resp.status = &status;
    else
        resp.payload = (wb_pb_bytes){(uint8_t *)payload, len};
    return send_message(fd, stream_id, WB_TTRPC_RESPONSE, &wb_msg_ttrpc_response_table, &resp, err);
}

int wb_ttrpc_decode_request(const wb_ttrpc_frame *f, wb_msg_ttrpc_request *out, wb_error *err) {
    if (wb_pb_decode(&wb_msg_ttrpc_request_table, f->payload, f->len, out, err) < 0)
        return wb_error_wrap(err, "ttrpc: stream %u", f->stream_id);
    return 0;
}

int wb_ttrpc_decode_response(const wb_ttrpc_frame *f, wb_msg_ttrpc_response *out, wb_error *err) {
    if (wb_pb_decode(&wb_msg_ttrpc_response_table, f->payload, f->len, out, err) < 0)
        return wb_error_wrap(err, "ttrpc: stream %u", f->stream_id);
    return 0;
}

/* ---- addresses and the client ---- */

int wb_ttrpc_parse_address(const char *address, struct sockaddr_un *sa, socklen_t *len,
                           wb_error *err) {
    const char *p = address ? address : "";
    if (strncmp(p, "unix://", 7) == 0)
        p += 7;
    else if (strstr(p, "://"))
        return wb_error_set(err, EAFNOSUPPORT,
                            "ttrpc address `%s`: only unix sockets are supported", p);
    if (!*p)
        return wb_error_set(err, EINVAL, "ttrpc address `%s`: no socket path",
                            address ? address : "");
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    bool abstract = p[0] == '@';
    size_t n = strlen(p);
    if (n >= sizeof sa->sun_path)
        return wb_error_set(err, ENAMETOOLONG,
                            "ttrpc address `%s`: socket path longer than %zu bytes", address,
                            sizeof sa->sun_path - 1);
    if (abstract) {
        /* the name follows a NUL byte; its length is the address length, no terminator */
        memcpy(sa->sun_path + 1, p + 1, n - 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        memcpy(sa->sun_path, p, n + 1);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    return 0;
}

int wb_ttrpc_dial(const char *address, int *fd, wb_error *err) {
    struct sockaddr_un sa;
    socklen_t len;
    if (wb_ttrpc_parse_address(address, &sa, &len, err) < 0) return -1;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return wb_error_sys(err, "ttrpc: socket");
    if (connect(s, (struct sockaddr *)&sa, len) < 0) {
        /* an interrupted connect goes on by itself: wait for it, then ask how it ended */
        int soerr = errno;
        if (soerr == EINTR) {
            struct pollfd pfd = {s, POLLOUT, 0};
            while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
            }
            socklen_t sl = sizeof soerr;
            if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) soerr = errno;
        }
        if (soerr) {
            close(s);
            errno = soerr;
            return wb_error_sys(err, "ttrpc: connect `%s`", address);
        }
    }
    *fd = s;
    return 0;
}

static const char *code_name(int32_t code) {
    static const char *const names[] = {
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    if (code >= 0 && (size_t)code < sizeof names / sizeof names[0]) return names[code];
    return NULL;
}

static void set_timeouts(int fd, int64_t timeout_nano) {
    struct timeval tv = {0, 0};
    if (timeout_nano > 0) {
        tv.tv_sec = (time_t)(timeout_nano / 1000000000);
        tv.tv_usec = (suseconds_t)(timeout_nano % 1000000000 / 1000);
        if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1; /* 0 would mean "no timeout" */
    }
    /* not a socket (a pipe in the tests): no timeouts, which is fine */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int wb_ttrpc_call_fd(int fd, uint32_t stream_id, const wb_msg_ttrpc_request *req,
                     wb_msg_ttrpc_response *resp, wb_error *err) {
    const char *service = req->service ? req->service : "",
               *method = req->method ? req->method : "";
    set_timeouts(fd, req->timeout_nano);
    if (wb_ttrpc_send_request(fd, stream_id, req, err) < 0)
        return wb_error_wrap(err, "%s/%s", service, method);
    for (;;) {
        wb_ttrpc_frame f;
        int rc = wb_ttrpc_read_frame(fd, &f, err);
        if (rc == 0)
            return wb_error_set(err, EPROTO, "%s/%s: connection closed before the response",
                                service, method);
        /* a frame refused on another stream is not our answer: it was dropped, go on */
        if (rc < 0 &&
            (!err || (err->code != EMSGSIZE && err->code != EBADMSG) || f.stream_id == stream_id))
            return wb_error_wrap(err, "%s/%s", service, method);
        if (rc < 0 || f.stream_id != stream_id || f.type != WB_TTRPC_RESPONSE) {
            wb_ttrpc_frame_release(&f);
            continue;
        }
        rc = wb_ttrpc_decode_response(&f, resp, err);
        wb_ttrpc_frame_release(&f);
        if (rc < 0) return wb_error_wrap(err, "%s/%s", service, method);
        break;
    }
    if (resp->status && resp->status->code != WB_RPC_OK) {
        const char *name = code_name(resp->status->code);
        const char *msg = resp->status->message ? resp->status->message : "";
        if (name)
            return wb_error_set(err, EREMOTEIO, "%s/%s: rpc error: code = %s desc = %s", service,
                                method, name, msg);
        return wb_error_set(err, EREMOTEIO, "%s/%s: rpc error: code = Code(%d) desc = %s", service,
                            method, (int)resp->status->code, msg);
    }
    return 0;
}

int wb_ttrpc_call(const char *address, const wb_msg_ttrpc_request *req, wb_msg_ttrpc_response *resp,
                  wb_error *err) {
    int fd;
    if (wb_ttrpc_dial(address, &fd, err) < 0) return -1;
    int rc = wb_ttrpc_call_fd(fd, 1, req, resp, err);
    close(fd);
    return rc;
}
