/* shim/console.h — terminals of the shim's tasks and exec'd processes (`ctr run -t`, `ctr task
 * exec -t`), as containerd's runc shim makes them: a console socket the runtime sends the pty's
 * master to (runtime/oci_run.h's console_socket), and a relay process copying containerd's stdin
 * FIFO into the master and the master into the stdout FIFO. For shim/service.c only. */
#ifndef WB_SHIM_CONSOLE_H
#define WB_SHIM_CONSOLE_H

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

typedef struct wb_shim_console {
    int listen_fd; /* -1: none */
    char path[108];
} wb_shim_console;

/* A listening console socket in dir (a short name of this process's pid and a counter). */
int wb_shim_console_listen(const char *dir, wb_shim_console *c, wb_error *err);
/* The master the runtime sent (it connected during create or exec): waits at most 10 s.
 * *master is the caller's (close-on-exec). */
int wb_shim_console_take(wb_shim_console *c, int *master, wb_error *err);
/* Close and unlink the socket; a zeroed or already closed one is fine. */
void wb_shim_console_close(wb_shim_console *c);

/* Fork the relay: in (-1: none) into master, master into out, until the terminal's last user
 * closes it (the master then reads EIO, after what the process wrote). The relay holds its own
 * copies of the three descriptors; the caller keeps (or closes) its own. Returns its pid (a
 * child of the caller, which reaps it), or -1 with err. */
pid_t wb_shim_console_relay(int master, int in, int out, wb_error *err);

/* The terminal's window size, in characters (ResizePty). */
int wb_shim_console_resize(int master, uint32_t width, uint32_t height, wb_error *err);

#endif
