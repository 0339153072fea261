/* apps/guest_abi.h — the guest side of the canonical ABI, as the host functions of the
 * application runtimes need it (Spin 1.x and slight: wit-bindgen 0.2; Spin 2/3: wasi:http): the
 * memory of the instance a thread is running, bounds-checked reads and writes, and allocations
 * through the guest's exported canonical_abi_realloc (wit-bindgen 0.2) or cabi_realloc. A request
 * runs on one thread from start to end, so the instance is a thread-local set around the guest's
 * run (wb_abi_enter/leave). */
#ifndef WB_APPS_GUEST_ABI_H
#define WB_APPS_GUEST_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/http_server.h"
#include "wasm/wasm.h"

/* The instance (and its store) this thread's host functions work on until wb_abi_leave. */
void wb_abi_enter(wb_store *s, wb_instance *inst);
void wb_abi_leave(void);

/* [ptr, ptr+len) inside the guest's memory: its bytes, else NULL. */
uint8_t *wb_abi_bytes(uint32_t ptr, uint64_t len);
/* size bytes from the guest's realloc(0, 0, align, size); false on failure. */
bool wb_abi_alloc(uint32_t align, uint32_t size, uint32_t *out);
/* A copy of len bytes in the guest (*out: its pointer); false on failure. */
bool wb_abi_copy(const void *data, size_t len, uint32_t align, uint32_t *out);
bool wb_abi_put_u8(uint32_t at, uint8_t v);
bool wb_abi_put_u16(uint32_t at, uint16_t v);
bool wb_abi_put_u32(uint32_t at, uint32_t v);
bool wb_abi_put_u64(uint32_t at, uint64_t v);
/* A copy of the string in the guest, its pointer at `at` and length at `at + 4`. */
bool wb_abi_put_string(uint32_t at, const char *s, size_t len);
uint32_t wb_abi_u32(const uint8_t *p);
/* The guest string [ptr, ptr+len) as a C string (malloc'd), or NULL when out of bounds. */
char *wb_abi_string(uint32_t ptr, uint32_t len);
/* The HTTP method as wit's `enum method` (get, post, put, delete, patch, head, options): 0..6,
 * or -1 for another. */
int wb_abi_method(const char *method);
/* An HTTP response record at `at` (status u16; option<headers> at +4, +8, +12; option<body> at
 * +16, +20, +24) into resp. -1 with *why when it is malformed or outside memory. */
int wb_abi_read_response(uint32_t at, wb_http_response *resp, const char **why);
/* An `expected<_, E>`'s error written at ret: tag 1, the variant's case at ret+4 and, when msg is
 * set, its string at ret+8 (pointer) and ret+12 (length). false when it cannot be written. */
bool wb_abi_put_error(uint32_t ret, uint8_t which, const char *msg);

#endif
