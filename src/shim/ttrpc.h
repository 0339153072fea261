/* shim/ttrpc.h — ttrpc's wire layer (containerd's RPC between containerd and its shims): one
 * frame in or out of a file descriptor, Request/Response payloads (shim/messages.h), unix socket
 * addresses, and a small blocking client for the one call a shim makes itself (Events/Forward to
 * $TTRPC_ADDRESS). It owns no threads and no connection state: the server loop lives elsewhere.
 *
 * A frame (design/shim.md, section 1) is a 10-byte header, u32be payload length (at most
 * WB_TTRPC_MAX_PAYLOAD), u32be stream id (a client's are odd: 1, 3, 5...), u8 type, u8 flags,
 * then the payload, a protobuf ttrpc.Request (type 1) or ttrpc.Response (type 2). Concurrent
 * writers on one connection must hold a lock around wb_ttrpc_write_frame: each call writes its
 * whole frame, but two calls could interleave. */
#ifndef WB_SHIM_TTRPC_H
#define WB_SHIM_TTRPC_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "base/error.h"
#include "shim/messages.h"

#define WB_TTRPC_HEADER_SIZE 10
#define WB_TTRPC_MAX_PAYLOAD (4u << 20) /* ttrpc-go's default message limit */

/* frame types */
#define WB_TTRPC_REQUEST  1
#define WB_TTRPC_RESPONSE 2
#define WB_TTRPC_DATA     3 /* streaming; unused by containerd's shim calls */
/* frame flags (streams only; unary frames carry 0) */
#define WB_TTRPC_FLAG_REMOTE_CLOSED 1
#define WB_TTRPC_FLAG_REMOTE_OPEN   2
#define WB_TTRPC_FLAG_NO_DATA       4

/* gRPC status codes (google.rpc.Code), for wb_msg_rpc_status.code */
enum {
    WB_RPC_OK = 0,
    WB_RPC_CANCELLED = 1,
    WB_RPC_UNKNOWN = 2,
    WB_RPC_INVALID_ARGUMENT = 3,
    WB_RPC_DEADLINE_EXCEEDED = 4,
    WB_RPC_NOT_FOUND = 5,
    WB_RPC_ALREADY_EXISTS = 6,
    WB_RPC_PERMISSION_DENIED = 7,
    WB_RPC_RESOURCE_EXHAUSTED = 8,
    WB_RPC_FAILED_PRECONDITION = 9,
    WB_RPC_ABORTED = 10,
    WB_RPC_OUT_OF_RANGE = 11,
    WB_RPC_UNIMPLEMENTED = 12,
    WB_RPC_INTERNAL = 13,
    WB_RPC_UNAVAILABLE = 14,
    WB_RPC_DATA_LOSS = 15,
    WB_RPC_UNAUTHENTICATED = 16,
};

typedef struct wb_ttrpc_frame {
    uint32_t stream_id;
    uint8_t type, flags;
    uint8_t *payload; /* malloc'd (owned by the frame; NULL when len is 0) */
    size_t len;
} wb_ttrpc_frame;

/* Read one frame from fd (blocking; EINTR and short reads are retried). Returns 1 with *out
 * filled (release it with wb_ttrpc_frame_release), 0 on end of file before the first byte of a
 * frame (the peer closed between frames), or -1 with err:
 *  - EPROTO: the connection ended inside a frame (truncated header or payload);
 *  - EMSGSIZE: the announced payload is over WB_TTRPC_MAX_PAYLOAD. The payload is read and
 *    dropped, so that the connection stays in step, and out->stream_id and out->type say whose
 *    it was: a server answers it with WB_RPC_RESOURCE_EXHAUSTED, as ttrpc-go does;
 *  - EBADMSG: a frame type other than 1, 2, 3 (payload dropped, stream id set as above);
 *  - the errno of a failed read. */
int wb_ttrpc_read_frame(int fd, wb_ttrpc_frame *out, wb_error *err);
void wb_ttrpc_frame_release(wb_ttrpc_frame *f);

/* Write one frame (header and payload) to fd, all of it: short writes and EINTR are retried. On
 * a socket it is sent with MSG_NOSIGNAL (a closed peer gives EPIPE, never SIGPIPE). -1 with err
 * (EMSGSIZE over WB_TTRPC_MAX_PAYLOAD, nothing written; else the errno of the write). */
int wb_ttrpc_write_frame(int fd, uint32_t stream_id, uint8_t type, uint8_t flags,
                         const uint8_t *payload, size_t len, wb_error *err);

/* Encode req (ttrpc.Request) and write it as a request frame on stream_id. */
int wb_ttrpc_send_request(int fd, uint32_t stream_id, const wb_msg_ttrpc_request *req,
                          wb_error *err);
/* Write a response frame on stream_id: code WB_RPC_OK sends payload[0..len) with no status (as
 * containerd's shims do); any other code sends google.rpc.Status{code, message} and no payload. */
int wb_ttrpc_send_response(int fd, uint32_t stream_id, int32_t code, const char *message,
                           const uint8_t *payload, size_t len, wb_error *err);

/* Decode a frame's payload; *out zeroed before, owned after (wb_pb_free with the table). */
int wb_ttrpc_decode_request(const wb_ttrpc_frame *f, wb_msg_ttrpc_request *out, wb_error *err);
int wb_ttrpc_decode_response(const wb_ttrpc_frame *f, wb_msg_ttrpc_response *out, wb_error *err);

/* Parse a ttrpc address: "unix:///run/x.sock", "unix://@name" or "@name" (abstract socket), or a
 * plain path "/run/x.sock". Fills *sa and *len for connect/bind. -1 with err: EINVAL for an
 * empty address, EAFNOSUPPORT for another scheme ("tcp://", "vsock://"), ENAMETOOLONG for a path
 * that does not fit sun_path (107 bytes). */
int wb_ttrpc_parse_address(const char *address, struct sockaddr_un *sa, socklen_t *len,
                           wb_error *err);

/* Connect a new SOCK_STREAM socket (close-on-exec) to address; *fd is the caller's. */
int wb_ttrpc_dial(const char *address, int *fd, wb_error *err);

/* A unary call on a connected fd: send req on stream_id, then read frames until the response
 * of that stream (frames of other streams are dropped: one call at a time per connection).
 * req->timeout_nano > 0 also bounds each read and write (SO_RCVTIMEO/SO_SNDTIMEO; ETIMEDOUT).
 * *resp (zeroed before) holds the response and is the caller's to free, also when the call
 * fails with a status: then -1 with err "SERVICE/METHOD: rpc error: code = N desc = MESSAGE"
 * (err->code EREMOTEIO). */
int wb_ttrpc_call_fd(int fd, uint32_t stream_id, const wb_msg_ttrpc_request *req,
                     wb_msg_ttrpc_response *resp, wb_error *err);
/* The same over a connection of its own to address, on stream 1, closed afterwards. */
int wb_ttrpc_call(const char *address, const wb_msg_ttrpc_request *req, wb_msg_ttrpc_response *resp,
                  wb_error *err);

#endif
