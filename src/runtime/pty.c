/* A pseudo-terminal for `run -t`. */
#include "runtime/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"

int wb_pty_pair(int *master, int *slave, wb_error *err) {
    *master = *slave = -1;
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return wb_error_sys(err, "allocate a pseudo-terminal");
    char name[128];
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) {
        int e = errno;
        close(m);
        errno = e;
        return wb_error_sys(err, "allocate a pseudo-terminal");
    }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) {
        int e = errno;
        close(m);
        errno = e;
        return wb_error_sys(err, "open the pseudo-terminal `%s`", name);
    }
    *master = m;
    *slave = s;
    return 0;
}

int wb_pty_open(int *master, int *slave, int size_from, wb_error *err) {
    if (wb_pty_pair(master, slave, err) < 0) return -1;
    int s = *slave;
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
        t.c_oflag |= OPOST | ONLCR;
        tcsetattr(s, TCSANOW, &t);
    }
    struct winsize ws;
    if (size_from >= 0 && ioctl(size_from, TIOCGWINSZ, &ws) == 0) ioctl(s, TIOCSWINSZ, &ws);
    return 0;
}

int wb_pty_send_fd(int sock, const char *name, int fd, wb_error *err) {
    struct iovec iov = {(void *)name, strlen(name)};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
        return wb_error_sys(err, "send the console to the console socket");
    return 0;
}

int wb_pty_recv_fd(int sock, int timeout_ms, int *fd, wb_error *err) {
    *fd = -1;
    struct pollfd p = {sock, POLLIN, 0};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    if (r < 0) return wb_error_sys(err, "wait for the console");
    if (r == 0) return wb_error_set(err, ETIMEDOUT, "no console came on the console socket");
    char bytes[256];
    struct iovec iov = {bytes, sizeof bytes};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n;
    while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (n < 0) return wb_error_sys(err, "receive the console");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (n == 0 || !cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return wb_error_set(err, EPROTO, "the console socket sent no descriptor");
    memcpy(fd, CMSG_DATA(cm), sizeof *fd);
    return 0;
}

struct wb_pty_input {
    pthread_t thread;
    int from, master;
    int wake[2]; /* written by wb_pty_input_stop */
};

static void *input_main(void *arg) {
    wb_pty_input *in = arg;
    struct pollfd p[2] = {{in->from, POLLIN, 0}, {in->wake[0], POLLIN, 0}};
    char buf[4096];
    char last = '\n';
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        if (p[1].revents) return NULL;
        if (!p[0].revents) continue;
        ssize_t n = read(in->from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            /* end of input: the terminal's EOF character ends the reader's read */
            char eof = 4;
            struct termios t;
            if (tcgetattr(in->master, &t) == 0) eof = (char)t.c_cc[VEOF];
            /* after a partial line the first EOF only hands that line over */
            if (last != '\n') wb_write_all(in->master, &eof, 1);
            wb_write_all(in->master, &eof, 1);
            return NULL;
        }
        wb_write_all(in->master, buf, (size_t)n);
        last = buf[n - 1];
    }
}

wb_pty_input *wb_pty_input_start(int from_fd, int master) {
    wb_pty_input *in = wb_calloc(1, sizeof *in);
    in->from = from_fd;
    in->master = master;
    if (pipe2(in->wake, O_CLOEXEC) != 0) {
        free(in);
        return NULL;
    }
    if (pthread_create(&in->thread, NULL, input_main, in) != 0) {
        close(in->wake[0]);
        close(in->wake[1]);
        free(in);
        return NULL;
    }
    return in;
}

void wb_pty_input_stop(wb_pty_input *in) {
    if (!in) return;
    char c = 0;
    ssize_t w = write(in->wake[1], &c, 1);
    (void)w;
    pthread_join(in->thread, NULL);
    close(in->wake[0]);
    close(in->wake[1]);
    free(in);
}
