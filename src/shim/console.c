/* Terminals for the shim's processes: the console socket and the relay (shim/console.h). */
#include "shim/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/child.h"
#include "base/fsutil.h"
#include "runtime/pty.h"

int wb_shim_console_listen(const char *dir, wb_shim_console *c, wb_error *err) {
    static unsigned counter; /* one shim process names its sockets apart; single-threaded */
    c->listen_fd = -1;
    int n =
        snprintf(c->path, sizeof c->path, "%s/.console.%d.%u.sock", dir, (int)getpid(), counter++);
    if (n < 0 || (size_t)n >= sizeof c->path)
        return wb_error_set(err, ENAMETOOLONG, "console socket path in %s too long", dir);
    if (wb_mkdir_p(dir, 0711, err) < 0) return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, c->path, (size_t)n + 1);
    unlink(c->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return wb_error_sys(err, "console socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return wb_error_sys(err, "listen on the console socket %s", c->path);
    }
    c->listen_fd = fd;
    return 0;
}

int wb_shim_console_take(wb_shim_console *c, int *master, wb_error *err) {
    *master = -1;
    struct pollfd p = {c->listen_fd, POLLIN, 0};
    int r;
    while ((r = poll(&p, 1, 10000)) < 0 && errno == EINTR) {
    }
    if (r <= 0) return wb_error_set(err, ETIMEDOUT, "the process sent no terminal");
    int conn = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) return wb_error_sys(err, "accept on the console socket");
    int rc = wb_pty_recv_fd(conn, 10000, master, err);
    close(conn);
    return rc;
}

void wb_shim_console_close(wb_shim_console *c) {
    if (c->listen_fd < 0) return;
    close(c->listen_fd);
    unlink(c->path);
    c->listen_fd = -1;
}

__attribute__((noreturn)) static void relay_main(int master, int in, int out) {
    struct pollfd p[2] = {{master, POLLIN, 0}, {in, POLLIN, 0}};
    nfds_t n = in >= 0 ? 2 : 1;
    char buf[16384];
    for (;;) {
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        if (p[0].revents) {
            ssize_t r = read(master, buf, sizeof buf);
            if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (r <= 0) _exit(0); /* EIO: nobody has the terminal open any more */
            if (out >= 0) wb_write_all(out, buf, (size_t)r);
        }
        if (n == 2 && p[1].revents) {
            ssize_t r = read(in, buf, sizeof buf);
            if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (r <= 0)
                n = 1; /* stdin ended (containerd's CloseIO): the terminal stays */
            else
                wb_write_all(master, buf, (size_t)r);
        }
    }
}

pid_t wb_shim_console_relay(int master, int in, int out, wb_error *err) {
    pid_t pid = fork();
    if (pid < 0) return wb_error_sys(err, "fork the terminal's relay");
    if (pid == 0) {
        /* 0: stdin, 1: stdout, 3: the master (none of the shim's sockets) */
        int fds[4] = {in, out, -1, master};
        if (wb_child_fds(fds, 4) < 0) _exit(1);
        relay_main(3, in >= 0 ? 0 : -1, out >= 0 ? 1 : -1);
    }
    return pid;
}

int wb_shim_console_resize(int master, uint32_t width, uint32_t height, wb_error *err) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    if (ioctl(master, TIOCSWINSZ, &ws) != 0) return wb_error_sys(err, "resize the terminal");
    return 0;
}
