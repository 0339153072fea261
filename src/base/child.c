/* A forked child's signals and descriptors (see child.h). */
#include "base/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int wb_child_fds(const int *fds, int n) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int moved[n > 0 ? n : 1];
    /* first above n, so that placing one cannot overwrite a source not placed yet */
    for (int i = 0; i < n; i++) {
        moved[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD, n) : -1;
        if (fds[i] >= 0 && moved[i] < 0) return -1;
    }
    for (int i = 0; i < n; i++)
        if (moved[i] >= 0 && dup2(moved[i], i) < 0) return -1;
    syscall(SYS_close_range, (unsigned)n, ~0U, 0); /* no wrapper in musl (the static core) */
    return 0;
}
