/* shim/pb.h — a small table-driven reader and writer of protobuf's proto3 wire format, for the
 * ttrpc messages containerd exchanges with its shims. It owns the wire format only: a message is
 * a plain C struct, described by a wb_pb_table (shim/messages.h holds the tables); the reader
 * fills the struct, the writer writes it. No reflection beyond the tables, no global state.
 *
 * What a field of each kind is in the C struct (offset = offsetof(struct, member)):
 *   WB_PB_UINT32  uint32_t   varint; a wider value is truncated to 32 bits, as Go does
 *   WB_PB_UINT64  uint64_t   varint
 *   WB_PB_INT32   int32_t    varint; negative values are sign-extended to 64 bits (10 bytes)
 *   WB_PB_INT64   int64_t    varint (two's complement, 10 bytes when negative)
 *   WB_PB_BOOL    bool       varint; any non-zero value reads as true
 *   WB_PB_STRING  char *     NULL = "" (absent); a NUL byte inside is refused (C strings could
 *                            not hold it); UTF-8 is not checked (gogo/protobuf, which containerd
 *                            1.6 uses, does not check it either)
 *   WB_PB_BYTES   wb_pb_bytes  {data, len}; data NULL when empty
 *   WB_PB_MESSAGE T *        pointer to the sub-table's struct; NULL = absent. A present but
 *                            empty message is written (tag, length 0), as Go writes a non-nil one
 *   WB_PB_REPEATED_MESSAGE   T *items at offset, size_t count at count_offset: an array of the
 *                            sub-table's structs; every element is written, empty or not
 *   WB_PB_REPEATED_STRING    char **items at offset, size_t count at count_offset; elements are
 *                            never NULL after a decode (NULL is written as "")
 *   WB_PB_MAP_STRING         map<string,string>: wb_pb_map_entry *items at offset, size_t count
 *                            at count_offset, in wire order; a key given twice is kept twice
 *                            (wb_pb_map_get returns the last, which is the one Go keeps); each
 *                            entry is written with both key and value, as Go and gogo do
 *
 * Writing follows Go's protobuf: fields in field-number order (the order of the table, which
 * must be sorted), proto3 default values omitted (0, false, NULL or "" strings, empty bytes, NULL
 * messages, empty arrays), so that what we write for a message equals what containerd writes.
 *
 * Reading follows the proto3 rules: fields in any order, the last occurrence of a scalar wins,
 * a message given twice is merged, repeated ones append. Unknown fields of every wire type
 * (varint, 64-bit, length-delimited, 32-bit) are skipped; groups (wire types 3, 4) and wire
 * types 6, 7 are refused, as is a known field sent with another wire type than its kind's (gogo's
 * generated code refuses it too). Limits: input over WB_PB_MAX_SIZE bytes, messages nested
 * deeper than WB_PB_MAX_DEPTH, decoded structs taking over WB_PB_MAX_DECODED bytes of memory
 * (16 bytes of overhead counted per allocation), varints over 10 bytes or beyond 64 bits, field
 * number 0 or over 2^29-1, lengths beyond the end of their enclosing message. */
#ifndef WB_SHIM_PB_H
#define WB_SHIM_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define WB_PB_MAX_SIZE     (4u << 20)  /* bytes of one encoded message: ttrpc's message limit */
#define WB_PB_MAX_DEPTH    32          /* nested messages, the outermost counting as 1 */
#define WB_PB_MAX_DECODED  (64u << 20) /* bytes the decoded structs of one message may take */
#define WB_PB_MAX_FIELD_NO 0x1fffffffu /* 2^29 - 1, the largest field number protobuf allows */

typedef enum wb_pb_kind {
    WB_PB_UINT32 = 1,
    WB_PB_UINT64,
    WB_PB_INT32,
    WB_PB_INT64,
    WB_PB_BOOL,
    WB_PB_STRING,
    WB_PB_BYTES,
    WB_PB_MESSAGE,
    WB_PB_REPEATED_MESSAGE,
    WB_PB_REPEATED_STRING,
    WB_PB_MAP_STRING,
} wb_pb_kind;

typedef struct wb_pb_bytes {
    uint8_t
        *data; /* malloc'd, with a NUL byte after the last (not counted in len); NULL if empty */
    size_t len;
} wb_pb_bytes;

typedef struct wb_pb_map_entry {
    char *key, *value; /* malloc'd; never NULL after a decode */
} wb_pb_map_entry;

struct wb_pb_table;

typedef struct wb_pb_field {
    uint32_t number; /* 1 .. WB_PB_MAX_FIELD_NO */
    wb_pb_kind kind;
    const char *name;              /* the .proto name, for messages */
    size_t offset;                 /* of the member (for repeated kinds: of the items pointer) */
    size_t count_offset;           /* repeated kinds: of the size_t count; 0 otherwise */
    const struct wb_pb_table *sub; /* message kinds: the element's table; NULL otherwise */
} wb_pb_field;

typedef struct wb_pb_table {
    const char *name;          /* full proto name, "containerd.task.v2.CreateTaskRequest" */
    size_t size;               /* sizeof the C struct */
    const wb_pb_field *fields; /* sorted by number, numbers unique */
    size_t nfields;
} wb_pb_table;

/* Decode buf[0..len) as a message of table t into *out, which must be zero-initialised (or hold
 * what an earlier wb_pb_decode of the same table left: the input is then merged into it, as
 * protobuf's Merge does). The input is only borrowed; every string, bytes, message and array of
 * *out is a malloc'd copy that *out owns: release them with wb_pb_free. A string field present
 * but empty reads as NULL, like an absent one. Returns 0, or -1 with *out freed and zeroed and
 * err naming the message, the path of the field, its number, the fault and where it is:
 * "containerd.task.v2.CreateTaskRequest: rootfs[0].options[2] (field 4): string holds a NUL byte
 * at byte 37" (code EINVAL for malformed input, EMSGSIZE over a limit). Never reads outside buf
 * (which may be NULL when len is 0). */
int wb_pb_decode(const wb_pb_table *t, const uint8_t *buf, size_t len, void *out, wb_error *err);

/* Free everything a struct of table t owns (recursively) and zero it; the struct itself stays
 * the caller's. A zeroed struct is fine; so is NULL. */
void wb_pb_free(const wb_pb_table *t, void *msg);

/* The exact number of bytes wb_pb_encode writes for msg. */
size_t wb_pb_size(const wb_pb_table *t, const void *msg);
/* Write msg into buf, which has room for wb_pb_size(t, msg) bytes; returns the bytes written
 * (that size). msg is only read. */
size_t wb_pb_encode(const wb_pb_table *t, const void *msg, uint8_t *buf);
/* Both in one: *out is a new malloc'd buffer of *len bytes that the caller frees (a non-NULL
 * pointer even for an empty message). Returns -1 (EMSGSIZE) if the message is over
 * WB_PB_MAX_SIZE, which no peer would accept. */
int wb_pb_encode_alloc(const wb_pb_table *t, const void *msg, uint8_t **out, size_t *len,
                       wb_error *err);

/* Deep comparison of two structs of table t: true when they encode the same (NULL and "" strings
 * are equal, a NULL message differs from an empty one). For tests and the fuzz target. */
bool wb_pb_equal(const wb_pb_table *t, const void *a, const void *b);

/* The value of the last entry whose key is key, borrowed; NULL when there is none. */
const char *wb_pb_map_get(const wb_pb_map_entry *entries, size_t count, const char *key);

/* Check that a table is well formed (fields sorted and unique, numbers in range, sub-tables
 * where needed, offsets inside the struct), recursively; -1 with err naming the fault. For the
 * tests. */
int wb_pb_table_check(const wb_pb_table *t, wb_error *err);

/* ---- wire-level helpers, shared with shim/ttrpc.c and the tests ---- */

/* Bytes of v as a varint (1..10). */
size_t wb_pb_varint_size(uint64_t v);
/* Write v as a varint at p; returns the bytes written. */
size_t wb_pb_put_varint(uint8_t *p, uint64_t v);
/* Read a varint from p[0..end): returns the bytes consumed (1..10), 0 if truncated, -1 if longer
 * than 10 bytes or beyond 64 bits. */
int wb_pb_get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v);

#endif
