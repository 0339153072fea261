/* An OCI bundle's hooks (see oci_hooks.h). */
#include "runtime/oci_hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/child.h"
#include "base/timeutil.h"

static const char *const supported[] = {"prestart", "createRuntime",   "poststart",
                                        "poststop", "createContainer", "startContainer"};
static const char *const in_container[] = {"createContainer", "startContainer"};

static const json_t *hooks_of(const wb_oci_spec *s, const char *kind) {
    return json_object_get(json_object_get(s->doc, "hooks"), kind);
}

/* A hook entry's strings: path (absolute), args and env arrays of strings, timeout > 0. */
static int check_hook(const json_t *h, const char *kind, size_t i, wb_error *err) {
    const char *path = json_string_value(json_object_get(h, "path"));
    if (!path || path[0] != '/')
        return wb_error_set(err, EINVAL, "config.json: hooks.%s[%zu].path must be an absolute path",
                            kind, i);
    static const char *const lists[] = {"args", "env"};
    for (size_t l = 0; l < 2; l++) {
        const json_t *a = json_object_get(h, lists[l]);
        size_t k;
        json_t *v;
        if (a && !json_is_array(a))
            return wb_error_set(err, EINVAL, "config.json: hooks.%s[%zu].%s must be an array", kind,
                                i, lists[l]);
        json_array_foreach(a, k, v) {
            if (!json_is_string(v))
                return wb_error_set(err, EINVAL, "config.json: hooks.%s[%zu].%s must be strings",
                                    kind, i, lists[l]);
        }
    }
    const json_t *t = json_object_get(h, "timeout");
    if (t && (!json_is_integer(t) || json_integer_value(t) <= 0))
        return wb_error_set(err, EINVAL, "config.json: hooks.%s[%zu].timeout must be positive",
                            kind, i);
    return 0;
}

int wb_oci_hooks_check(const wb_oci_spec *s, bool linux_container, wb_error *err) {
    const json_t *hooks = json_object_get(s->doc, "hooks");
    if (!hooks) return 0;
    if (!json_is_object(hooks))
        return wb_error_set(err, EINVAL, "config.json: hooks must be an object");
    const char *kind;
    const json_t *list;
    json_object_foreach((json_t *)hooks, kind, list) {
        bool known = false;
        for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
            known = known || !strcmp(kind, supported[i]);
        for (size_t i = 0; i < sizeof in_container / sizeof in_container[0]; i++)
            if (!linux_container && !strcmp(kind, in_container[i]) && json_array_size(list))
                return wb_error_set(err, ENOTSUP,
                                    "config.json: %s hooks run inside a Linux container's "
                                    "process; a WebAssembly workload has none",
                                    kind);
        if (!known) continue; /* an unknown kind: ignored, as runc does */
        if (!json_is_array(list))
            return wb_error_set(err, EINVAL, "config.json: hooks.%s must be an array", kind);
        size_t i;
        json_t *h;
        json_array_foreach(list, i, h) {
            if (check_hook(h, kind, i, err) < 0) return -1;
        }
    }
    return 0;
}

/* NULL-terminated copy of a string array (borrowed strings); `first` when the array is absent. */
static char **strings(const json_t *a, const char *first) {
    size_t n = json_array_size(a);
    char **v = wb_calloc(n + 2, sizeof *v);
    if (!n && first) v[0] = (char *)first;
    for (size_t i = 0; i < n; i++) v[i] = (char *)json_string_value(json_array_get(a, i));
    return v;
}

/* Up to `max` bytes of what the hook wrote on fd (from its start), line breaks as spaces. */
static void output_of(int fd, char *out, size_t max) {
    ssize_t n = pread(fd, out, max - 1, 0);
    out[n > 0 ? n : 0] = 0;
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t len = strlen(out);
    while (len && out[len - 1] == ' ') out[--len] = 0;
}

static int run_one(const json_t *h, const char *kind, size_t index, const char *state,
                   wb_error *err) {
    const char *path = json_string_value(json_object_get(h, "path"));
    char **argv = strings(json_object_get(h, "args"), path);
    char **envp = strings(json_object_get(h, "env"), NULL);
    const json_t *t = json_object_get(h, "timeout");
    double deadline = t ? wb_mono_seconds() + (double)json_integer_value(t) : 0;
    int in = (int)syscall(SYS_memfd_create, "hook-state", MFD_CLOEXEC);
    int out = (int)syscall(SYS_memfd_create, "hook-stdout", MFD_CLOEXEC);
    int errfd = (int)syscall(SYS_memfd_create, "hook-stderr", MFD_CLOEXEC);
    int rc = -1;
    if (in < 0 || out < 0 || errfd < 0 ||
        write(in, state, strlen(state)) != (ssize_t)strlen(state) || lseek(in, 0, SEEK_SET) != 0) {
        wb_error_sys(err, "the %s hook's stdio", kind);
        goto done;
    }
    fflush(NULL);
    pid_t p = fork();
    if (p < 0) {
        wb_error_sys(err, "fork");
        goto done;
    }
    if (p == 0) {
        int fds[3] = {in, out, errfd};
        if (wb_child_fds(fds, 3) < 0) _exit(127);
        execve(path, argv, envp);
        dprintf(2, "exec %s: %s", path, strerror(errno));
        _exit(127);
    }
    int status = 0;
    for (;;) {
        pid_t w = waitpid(p, &status, deadline ? WNOHANG : 0);
        if (w == p) break;
        if (w < 0 && errno != EINTR) {
            wb_error_sys(err, "wait for the %s hook", kind);
            goto done;
        }
        if (deadline && wb_mono_seconds() > deadline) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0);
            wb_error_set(err, ETIMEDOUT, "error running %s hook #%zu: timeout after %lld seconds",
                         kind, index, (long long)json_integer_value(t));
            goto done;
        }
        if (deadline) usleep(2000);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
        goto done;
    }
    char o[512], e[512];
    output_of(out, o, sizeof o);
    output_of(errfd, e, sizeof e);
    if (WIFEXITED(status))
        wb_error_set(err, EINVAL,
                     "error running %s hook #%zu: exit status %d, stdout: %s, stderr: %s", kind,
                     index, WEXITSTATUS(status), o, e);
    else
        wb_error_set(err, EINVAL, "error running %s hook #%zu: signal: %s, stdout: %s, stderr: %s",
                     kind, index, strsignal(WTERMSIG(status)), o, e);
done:
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (errfd >= 0) close(errfd);
    free(argv);
    free(envp);
    return rc;
}

int wb_oci_hooks_run(const wb_oci_spec *s, const char *kind, const char *id, const char *status,
                     pid_t pid, wb_error *err) {
    const json_t *list = hooks_of(s, kind);
    if (!json_array_size(list)) return 0;
    json_t *st =
        json_pack("{s:s, s:s, s:s, s:i, s:s, s:O}", "ociVersion", "1.0.2", "id", id, "status",
                  status, "pid", (int)pid, "bundle", s->bundle, "annotations", s->annotations);
    char *text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(list) && rc == 0; i++)
        rc = run_one(json_array_get(list, i), kind, i, text, err);
    free(text);
    return rc;
}
