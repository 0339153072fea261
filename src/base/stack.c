/* The calling thread's stack bounds (stack.h). */
#include "base/stack.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNLIMITED_STACK ((size_t)8 << 20)

uintptr_t wb_stack_low(size_t margin) {
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 1;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) return 1;
    uintptr_t top = (uintptr_t)addr + size;
    if (getpid() == (pid_t)syscall(SYS_gettid)) { /* the main thread: it grows to its limit */
        struct rlimit rl;
        size_t limit = UNLIMITED_STACK;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            limit = (size_t)rl.rlim_cur;
        if (limit > size && limit < top) size = limit;
    }
    if (size <= 2 * margin) return 1;
    return top - size + margin;
}
