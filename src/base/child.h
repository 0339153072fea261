/* base/child.h — what a forked child does before it execs another program (a hook, a logger,
 * wasmbox-full) or runs a workload: signals as a fresh process has them (a shim blocks SIGCHLD
 * for its signalfd) and exactly the descriptors it is meant to have (none of the caller's
 * sockets, sync pipes or FIFOs). */
#ifndef WB_BASE_CHILD_H
#define WB_BASE_CHILD_H

/* Unblock every signal; put fds[i] at descriptor i for i < n (fds[i] < 0: descriptor i stays as
 * it is; the sources may be any descriptors, also among 0..n-1) without close-on-exec; close
 * every descriptor from n up. -1 if a descriptor could not be placed (the child should _exit). */
int wb_child_fds(const int *fds, int n);

#endif
