/* wasi/wasi_internal.h — shared by the WASI implementation files (not for other modules).
 *
 * Every WASI function is a wb_host_fn: arguments in slots[0..], the errno result written to
 * slots[0]. Guest pointers are checked against the calling instance's memory before use (EFAULT);
 * nothing a module passes can make the host read or write outside that memory. */
#ifndef WB_WASI_INTERNAL_H
#define WB_WASI_INTERNAL_H

#include <stdint.h>
#include <sys/uio.h>
#include <string.h>

#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

/* Limits on what a guest may ask for in one call. */
#define WASI_MAX_FDS  4096 /* guest file descriptors (EMFILE beyond) */
#define WASI_MAX_IOVS 1024 /* iovecs per read/write (as IOV_MAX) */
#define WASI_MAX_PATH 4096 /* bytes of a path argument (ENAMETOOLONG beyond) */

enum wasi_fd_kind { WFD_FREE = 0, WFD_FILE, WFD_DIR, WFD_SOCKET, WFD_STDIO };

typedef struct wasi_fd {
    uint8_t kind;     /* enum wasi_fd_kind; WFD_FREE marks an unused entry */
    uint8_t filetype; /* WASI_FILETYPE_* as reported to the guest */
    uint16_t fdflags; /* WASI_FDFLAG_* as the guest set them */
    int host;         /* host fd */
    bool owned;       /* close `host` with the entry (false for borrowed stdio) */
    bool read_only;   /* in a read-only tree (a `:ro` preopen and all opened beneath it) */
    uint64_t rights_base, rights_inheriting;
    char *preopen;   /* guest name of a preopened directory, else NULL */
    void *dir;       /* DIR * for fd_readdir, opened lazily */
    int sock_family; /* sockets: AF_INET, AF_INET6 or AF_UNIX */
    int sock_type;   /* sockets: SOCK_STREAM or SOCK_DGRAM */
    uint8_t mem;     /* WASI_MEM_IN / WASI_MEM_OUT: a standard stream in memory (host -1) */
} wasi_fd;

enum { WASI_MEM_NONE = 0, WASI_MEM_IN, WASI_MEM_OUT };

struct wb_wasi {
    char **argv;
    uint32_t argc;
    size_t argv_bytes; /* total of the NUL-terminated strings */
    char **env;
    uint32_t envc;
    size_t env_bytes;
    wasi_fd *fds;
    uint32_t nfds; /* entries in use or free below the highest used one, + 1 */
    uint32_t cap;
    bool allow_net;
    bool no_wasmedge;
    char *hosts_path, *resolv_path; /* owned copies of the config's (NULL: not set) */
    /* iovecs of a read or write with more than WASI_IOVS_ON_STACK of them (WASI_MAX_IOVS
     * entries, allocated on first need; a context is used by one thread at a time) */
    struct iovec *iov_big;
    /* wb_wasi_reset: the table as it was at the first reset (owned fds are duplicates), and the
     * standard streams in memory */
    wasi_fd *base;
    int *base_host; /* per base entry: the host fd of its live twin */
    uint32_t nbase;
    bool has_base;
    const uint8_t *mem_in;
    size_t mem_in_len, mem_in_pos;
    uint8_t *mem_out;
    size_t mem_out_len, mem_out_cap, mem_out_max;
    bool mem_out_full;
};

/* fd_read / fd_write on a standard stream in memory: bytes moved, or -1 with *e set. */
size_t wasi_mem_read(wb_wasi *w, const struct iovec *iov, uint32_t n);
int64_t wasi_mem_write(wb_wasi *w, const struct iovec *iov, uint32_t n, uint16_t *e);

/* iovecs a read or write keeps on the stack: a full WASI_MAX_IOVS array is 16 KiB of stack,
 * four fresh pages for every call that goes deeper */
#define WASI_IOVS_ON_STACK 16

/* Where the n iovecs of a call go: `small` (WASI_IOVS_ON_STACK entries) or w->iov_big. */
struct iovec *wasi_iov_room(wb_wasi *w, uint32_t n, struct iovec *small);

/* ---- guest memory ---- */

typedef struct wasi_mem {
    uint8_t *base;
    uint64_t size;
} wasi_mem;

static inline wasi_mem wasi_memory(wb_caller *c) {
    wb_memory *m = wb_caller_memory(c);
    wasi_mem mem = {NULL, 0};
    if (m) {
        mem.base = wb_memory_data(m);
        mem.size = wb_memory_size(m);
    }
    return mem;
}

/* True when [ptr, ptr+len) lies inside guest memory. */
static inline bool wasi_in_bounds(const wasi_mem *m, uint32_t ptr, uint64_t len) {
    return (uint64_t)ptr + len <= m->size;
}

static inline uint32_t wasi_load32(const wasi_mem *m, uint32_t ptr) {
    uint32_t v;
    memcpy(&v, m->base + ptr, 4);
    return v;
}
static inline uint64_t wasi_load64(const wasi_mem *m, uint32_t ptr) {
    uint64_t v;
    memcpy(&v, m->base + ptr, 8);
    return v;
}
static inline void wasi_store8(wasi_mem *m, uint32_t ptr, uint8_t v) {
    m->base[ptr] = v;
}
static inline void wasi_store16(wasi_mem *m, uint32_t ptr, uint16_t v) {
    memcpy(m->base + ptr, &v, 2);
}
static inline void wasi_store32(wasi_mem *m, uint32_t ptr, uint32_t v) {
    memcpy(m->base + ptr, &v, 4);
}
static inline void wasi_store64(wasi_mem *m, uint32_t ptr, uint64_t v) {
    memcpy(m->base + ptr, &v, 8);
}

/* Store a 32/64-bit result at ptr, or EFAULT. */
uint16_t wasi_put32(wasi_mem *m, uint32_t ptr, uint32_t v);
uint16_t wasi_put64(wasi_mem *m, uint32_t ptr, uint64_t v);

/* Translate a guest iovec array into host iovecs (checked; at most WASI_MAX_IOVS).
 * Returns 0 or a WASI errno. */
struct iovec;
uint16_t wasi_iovecs(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *out);

/* ---- errors ---- */

uint16_t wasi_errno(int host_errno);

/* Result helpers for host functions: write the errno into slots[0] and return 0 (no trap). */
static inline int wasi_ret(wb_slot *slots, uint16_t e) {
    slots[0].u64 = e;
    return 0;
}

/* ---- the descriptor table ---- */

/* What a descriptor in a read-only tree never holds: every right that writes a file or changes
 * a directory. (Its inheriting set keeps the four file-writing rights of RIGHTS_WRITE_FILE so that
 * a libc that masks its request with them still asks for writing, and path_open answers EROFS as
 * open(2) does on a read-only mount; no descriptor is ever granted them.) */
#define WASI_RIGHTS_READ_ONLY_TAKES                                                                \
    (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_ALLOCATE |                       \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE | WASI_RIGHT_FD_FILESTAT_SET_TIMES |                          \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                              \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_RENAME_SOURCE |   \
     WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_SET_SIZE |                           \
     WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_SYMLINK |                                \
     WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE)
/* The rights that make path_open ask the host for write access (as wasmtime derives it). */
#define WASI_RIGHTS_WRITE_FILE                                                                     \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |                       \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE)

/* The errno for an entry that lacks some of `rights`: EROFS when what is missing is writing in a
 * read-only tree (as Linux answers on a read-only mount), else ENOTCAPABLE. */
uint16_t wasi_rights_errno(const wasi_fd *f, uint64_t rights);

/* The entry for guest fd, or NULL (EBADF). */
wasi_fd *wasi_fd_get(wb_wasi *w, uint32_t fd);
/* Like wasi_fd_get, also checking that the fd holds `rights` (wasi_rights_errno otherwise). *err
 * gets the errno when NULL is returned. */
wasi_fd *wasi_fd_check(wb_wasi *w, uint32_t fd, uint64_t rights, uint16_t *err);
/* Insert a new entry (copied) at the lowest free guest fd; EMFILE when full. */
uint16_t wasi_fd_insert(wb_wasi *w, const wasi_fd *entry, uint32_t *out_fd);
/* Close and free an entry's host resources (the entry becomes WFD_FREE). */
void wasi_fd_release(wasi_fd *f);

/* Filetype of a host fd (from fstat). */
uint8_t wasi_filetype_of(int host_fd);

/* ---- registering implementations ---- */

/* One implementation of a WASI function: name, signature ("params:results" in i/I/f/F for
 * i32/i64/f32/f64, e.g. "iiii:i"), and the host function. */
typedef struct wasi_func_def {
    const char *name;
    const char *sig;
    wb_host_fn fn;
} wasi_func_def;

/* Tables of implementations, one per file (terminated by a NULL name). */
extern const wasi_func_def wasi_core_funcs[]; /* core.c: args, environ, clocks, random, proc */
extern const wasi_func_def wasi_fd_funcs[];   /* fd.c: fd_* */
extern const wasi_func_def wasi_path_funcs[]; /* path.c: path_* */
extern const wasi_func_def wasi_poll_funcs[]; /* poll.c: poll_oneoff */
extern const wasi_func_def wasi_sock_funcs[]; /* sock.c: sock_* (p1 and WasmEdge V1/V2) */

#endif
