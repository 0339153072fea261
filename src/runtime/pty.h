/* runtime/pty.h — a pseudo-terminal for a container's stdio (`run -t`), and the relay of the
 * CLI's stdin into it (`-i -t`). */
#ifndef WB_RUNTIME_PTY_H
#define WB_RUNTIME_PTY_H

#include "base/error.h"

/* Open a pty pair (both close-on-exec, neither becomes a controlling terminal). The slave echoes
 * nothing (the user's own terminal echoes what they type) and turns "\n" into "\r\n" as Docker's
 * ttys do; its window size is copied from size_from when that is a terminal. */
int wb_pty_open(int *master, int *slave, int size_from, wb_error *err);

/* Copy from_fd into the pty master on a thread until from_fd ends (then the slave's reader gets
 * end of file) or wb_pty_input_stop. */
typedef struct wb_pty_input wb_pty_input;
wb_pty_input *wb_pty_input_start(int from_fd, int master);
void wb_pty_input_stop(wb_pty_input *in);

#endif
