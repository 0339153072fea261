/* wasi/wasi_types.h — WASI preview1 constants and layouts, from the witx in
 * ../shared/specs/wasi-preview1/preview1/witx/typenames.witx (enum values are positions, flags are
 * bit positions, as witx defines them). */
#ifndef WB_WASI_TYPES_H
#define WB_WASI_TYPES_H

#include <stdint.h>

/* clockid */
#define WASI_CLOCK_REALTIME           0
#define WASI_CLOCK_MONOTONIC          1
#define WASI_CLOCK_PROCESS_CPUTIME_ID 2
#define WASI_CLOCK_THREAD_CPUTIME_ID  3

/* errno */
#define WASI_ESUCCESS        0
#define WASI_E2BIG           1
#define WASI_EACCES          2
#define WASI_EADDRINUSE      3
#define WASI_EADDRNOTAVAIL   4
#define WASI_EAFNOSUPPORT    5
#define WASI_EAGAIN          6
#define WASI_EALREADY        7
#define WASI_EBADF           8
#define WASI_EBADMSG         9
#define WASI_EBUSY           10
#define WASI_ECANCELED       11
#define WASI_ECHILD          12
#define WASI_ECONNABORTED    13
#define WASI_ECONNREFUSED    14
#define WASI_ECONNRESET      15
#define WASI_EDEADLK         16
#define WASI_EDESTADDRREQ    17
#define WASI_EDOM            18
#define WASI_EDQUOT          19
#define WASI_EEXIST          20
#define WASI_EFAULT          21
#define WASI_EFBIG           22
#define WASI_EHOSTUNREACH    23
#define WASI_EIDRM           24
#define WASI_EILSEQ          25
#define WASI_EINPROGRESS     26
#define WASI_EINTR           27
#define WASI_EINVAL          28
#define WASI_EIO             29
#define WASI_EISCONN         30
#define WASI_EISDIR          31
#define WASI_ELOOP           32
#define WASI_EMFILE          33
#define WASI_EMLINK          34
#define WASI_EMSGSIZE        35
#define WASI_EMULTIHOP       36
#define WASI_ENAMETOOLONG    37
#define WASI_ENETDOWN        38
#define WASI_ENETRESET       39
#define WASI_ENETUNREACH     40
#define WASI_ENFILE          41
#define WASI_ENOBUFS         42
#define WASI_ENODEV          43
#define WASI_ENOENT          44
#define WASI_ENOEXEC         45
#define WASI_ENOLCK          46
#define WASI_ENOLINK         47
#define WASI_ENOMEM          48
#define WASI_ENOMSG          49
#define WASI_ENOPROTOOPT     50
#define WASI_ENOSPC          51
#define WASI_ENOSYS          52
#define WASI_ENOTCONN        53
#define WASI_ENOTDIR         54
#define WASI_ENOTEMPTY       55
#define WASI_ENOTRECOVERABLE 56
#define WASI_ENOTSOCK        57
#define WASI_ENOTSUP         58
#define WASI_ENOTTY          59
#define WASI_ENXIO           60
#define WASI_EOVERFLOW       61
#define WASI_EOWNERDEAD      62
#define WASI_EPERM           63
#define WASI_EPIPE           64
#define WASI_EPROTO          65
#define WASI_EPROTONOSUPPORT 66
#define WASI_EPROTOTYPE      67
#define WASI_ERANGE          68
#define WASI_EROFS           69
#define WASI_ESPIPE          70
#define WASI_ESRCH           71
#define WASI_ESTALE          72
#define WASI_ETIMEDOUT       73
#define WASI_ETXTBSY         74
#define WASI_EXDEV           75
#define WASI_ENOTCAPABLE     76

/* rights */
#define WASI_RIGHT_FD_DATASYNC             ((uint64_t)1 << 0)
#define WASI_RIGHT_FD_READ                 ((uint64_t)1 << 1)
#define WASI_RIGHT_FD_SEEK                 ((uint64_t)1 << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS     ((uint64_t)1 << 3)
#define WASI_RIGHT_FD_SYNC                 ((uint64_t)1 << 4)
#define WASI_RIGHT_FD_TELL                 ((uint64_t)1 << 5)
#define WASI_RIGHT_FD_WRITE                ((uint64_t)1 << 6)
#define WASI_RIGHT_FD_ADVISE               ((uint64_t)1 << 7)
#define WASI_RIGHT_FD_ALLOCATE             ((uint64_t)1 << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY   ((uint64_t)1 << 9)
#define WASI_RIGHT_PATH_CREATE_FILE        ((uint64_t)1 << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE        ((uint64_t)1 << 11)
#define WASI_RIGHT_PATH_LINK_TARGET        ((uint64_t)1 << 12)
#define WASI_RIGHT_PATH_OPEN               ((uint64_t)1 << 13)
#define WASI_RIGHT_FD_READDIR              ((uint64_t)1 << 14)
#define WASI_RIGHT_PATH_READLINK           ((uint64_t)1 << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE      ((uint64_t)1 << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET      ((uint64_t)1 << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET       ((uint64_t)1 << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE  ((uint64_t)1 << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES ((uint64_t)1 << 20)
#define WASI_RIGHT_FD_FILESTAT_GET         ((uint64_t)1 << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE    ((uint64_t)1 << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES   ((uint64_t)1 << 23)
#define WASI_RIGHT_PATH_SYMLINK            ((uint64_t)1 << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY   ((uint64_t)1 << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE        ((uint64_t)1 << 26)
#define WASI_RIGHT_POLL_FD_READWRITE       ((uint64_t)1 << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN           ((uint64_t)1 << 28)
#define WASI_RIGHT_SOCK_ACCEPT             ((uint64_t)1 << 29)

/* whence */
#define WASI_WHENCE_SET 0
#define WASI_WHENCE_CUR 1
#define WASI_WHENCE_END 2

/* filetype */
#define WASI_FILETYPE_UNKNOWN          0
#define WASI_FILETYPE_BLOCK_DEVICE     1
#define WASI_FILETYPE_CHARACTER_DEVICE 2
#define WASI_FILETYPE_DIRECTORY        3
#define WASI_FILETYPE_REGULAR_FILE     4
#define WASI_FILETYPE_SOCKET_DGRAM     5
#define WASI_FILETYPE_SOCKET_STREAM    6
#define WASI_FILETYPE_SYMBOLIC_LINK    7

/* advice */
#define WASI_ADVICE_NORMAL     0
#define WASI_ADVICE_SEQUENTIAL 1
#define WASI_ADVICE_RANDOM     2
#define WASI_ADVICE_WILLNEED   3
#define WASI_ADVICE_DONTNEED   4
#define WASI_ADVICE_NOREUSE    5

/* fdflags */
#define WASI_FDFLAG_APPEND   ((uint16_t)1 << 0)
#define WASI_FDFLAG_DSYNC    ((uint16_t)1 << 1)
#define WASI_FDFLAG_NONBLOCK ((uint16_t)1 << 2)
#define WASI_FDFLAG_RSYNC    ((uint16_t)1 << 3)
#define WASI_FDFLAG_SYNC     ((uint16_t)1 << 4)

/* fstflags */
#define WASI_FSTFLAG_ATIM     ((uint16_t)1 << 0)
#define WASI_FSTFLAG_ATIM_NOW ((uint16_t)1 << 1)
#define WASI_FSTFLAG_MTIM     ((uint16_t)1 << 2)
#define WASI_FSTFLAG_MTIM_NOW ((uint16_t)1 << 3)

/* lookupflags */
#define WASI_LOOKUP_SYMLINK_FOLLOW ((uint32_t)1 << 0)

/* oflags */
#define WASI_O_CREAT     ((uint16_t)1 << 0)
#define WASI_O_DIRECTORY ((uint16_t)1 << 1)
#define WASI_O_EXCL      ((uint16_t)1 << 2)
#define WASI_O_TRUNC     ((uint16_t)1 << 3)

/* eventtype */
#define WASI_EVENTTYPE_CLOCK    0
#define WASI_EVENTTYPE_FD_READ  1
#define WASI_EVENTTYPE_FD_WRITE 2

/* eventrwflags */
#define WASI_EVENT_FD_READWRITE_HANGUP ((uint16_t)1 << 0)

/* subclockflags */
#define WASI_SUBCLOCK_SUBSCRIPTION_CLOCK_ABSTIME ((uint16_t)1 << 0)

/* signal */
#define WASI_SIGNONE   0
#define WASI_SIGHUP    1
#define WASI_SIGINT    2
#define WASI_SIGQUIT   3
#define WASI_SIGILL    4
#define WASI_SIGTRAP   5
#define WASI_SIGABRT   6
#define WASI_SIGBUS    7
#define WASI_SIGFPE    8
#define WASI_SIGKILL   9
#define WASI_SIGUSR1   10
#define WASI_SIGSEGV   11
#define WASI_SIGUSR2   12
#define WASI_SIGPIPE   13
#define WASI_SIGALRM   14
#define WASI_SIGTERM   15
#define WASI_SIGCHLD   16
#define WASI_SIGCONT   17
#define WASI_SIGSTOP   18
#define WASI_SIGTSTP   19
#define WASI_SIGTTIN   20
#define WASI_SIGTTOU   21
#define WASI_SIGURG    22
#define WASI_SIGXCPU   23
#define WASI_SIGXFSZ   24
#define WASI_SIGVTALRM 25
#define WASI_SIGPROF   26
#define WASI_SIGWINCH  27
#define WASI_SIGPOLL   28
#define WASI_SIGPWR    29
#define WASI_SIGSYS    30

/* riflags */
#define WASI_RI_RECV_PEEK    ((uint16_t)1 << 0)
#define WASI_RI_RECV_WAITALL ((uint16_t)1 << 1)

/* roflags */
#define WASI_RO_RECV_DATA_TRUNCATED ((uint16_t)1 << 0)

/* sdflags */
#define WASI_SHUT_RD ((uint8_t)1 << 0)
#define WASI_SHUT_WR ((uint8_t)1 << 1)

/* preopentype */
#define WASI_PREOPENTYPE_DIR 0

/* Layouts (little-endian, wasm32): sizes and field offsets. */
#define WASI_IOVEC_SIZE 8 /* buf u32 @0, buf_len u32 @4 */
#define WASI_FDSTAT_SIZE                                                                           \
    24 /* filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16 */
#define WASI_FILESTAT_SIZE                                                                         \
    64 /* dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56 */
#define WASI_DIRENT_SIZE  24 /* d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20 */
#define WASI_PRESTAT_SIZE 8  /* tag u8 @0, dir name_len u32 @4 */
#define WASI_SUBSCRIPTION_SIZE                                                                     \
    48 /* userdata u64 @0, tag u8 @8, union @16: clock {id u32 @16, timeout u64 @24,               \
        * precision u64 @32, flags u16 @40}, fd_readwrite {fd u32 @16} */
#define WASI_EVENT_SIZE                                                                            \
    32 /* userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite {nbytes u64 @16,                \
        * flags u16 @24} */

/* All rights. */
#define WASI_RIGHTS_ALL (((uint64_t)1 << 30) - 1)

#endif
