/* runtime/pty.h — a pseudo-terminal for a container's stdio (`run -t`), and the relay of the
 * CLI's stdin into it (`-i -t`). */
#ifndef WB_RUNTIME_PTY_H
#define WB_RUNTIME_PTY_H

#include "base/error.h"

/* Open a pty pair (both close-on-exec, neither becomes a controlling terminal). The slave echoes
 * nothing (the user's own terminal echoes what they type) and turns "\n" into "\r\n" as Docker's
 * ttys do; its window size is copied from size_from when that is a terminal. */
int wb_pty_open(int *master, int *slave, int size_from, wb_error *err);

/* A pty pair with the terminal's default settings (echo on, as runc's console): both
 * close-on-exec, neither a controlling terminal. */
int wb_pty_pair(int *master, int *slave, wb_error *err);

/* runc's console socket: send fd (a pty master) over the connected unix socket sock with
 * SCM_RIGHTS, with name (runc sends the pty's path) as the message's bytes; receive one the same
 * way (*fd close-on-exec; the caller owns it; the bytes are read and dropped). recv waits at
 * most timeout_ms for it (-1: no limit). */
int wb_pty_send_fd(int sock, const char *name, int fd, wb_error *err);
int wb_pty_recv_fd(int sock, int timeout_ms, int *fd, wb_error *err);

/* Copy from_fd into the pty master on a thread until from_fd ends (then the slave's reader gets
 * end of file) or wb_pty_input_stop. */
typedef struct wb_pty_input wb_pty_input;
wb_pty_input *wb_pty_input_start(int from_fd, int master);
void wb_pty_input_stop(wb_pty_input *in);

#endif
