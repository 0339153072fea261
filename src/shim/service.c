/* The containerd shim v2 task service: one poll loop, tasks run through runtime/oci_run.h,
 * events to containerd (see service.h). */
#include "shim/service.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/child.h"
#include "base/timeutil.h"
#include "runtime/cgroup.h"
#include "runtime/oci_run.h"
#include "shim/console.h"
#include "shim/messages.h"
#include "shim/pb.h"
#include "shim/ttrpc.h"

#define MAX_CONNS       64
#define MAX_OOM_WATCHES 64 /* tasks whose OOM events one shim watches (a pod's) */

typedef struct proc {
    char *exec_id; /* "" for the task's own process */
    pid_t pid;
    bool started, exited;
    uint32_t exit_status;
    wb_msg_timestamp exited_at;
    char *io[3]; /* stdin, stdout, stderr paths as containerd gave them */
    bool terminal;
    char *spec;   /* an exec's process JSON */
    bool has_tty; /* a terminal (shim/console.h): its master and the relay copying it */
    int tty;      /* the master, kept for ResizePty */
    pid_t relay;  /* 0 once reaped */
} proc;

typedef struct task {
    char *id, *bundle;
    bool rootfs_mounted;
    bool paused; /* its cgroup frozen (Pause) */
    proc *procs; /* procs[0] is the task's own */
    size_t nprocs;
    int oom_fd;         /* readable when the OOM killer acts in its cgroup; -1: not watched */
    uint64_t oom_kills; /* the count seen so far */
    double oom_recheck; /* the descriptor fired before the count grew (the kernel notifies before
                         * it kills): look again until this time (0: nothing pending) */
} task;

typedef struct waiter {
    int conn;
    uint32_t stream;
    char *id, *exec_id;
} waiter;

typedef struct server {
    const wb_shim_config *cfg;
    task *tasks;
    size_t ntasks;
    waiter *waiters;
    size_t nwaiters;
    int conns[MAX_CONNS];
    size_t nconns;
    bool shutdown;
} server;

static const char *nz(const char *s) {
    return s ? s : "";
}

static void now_ts(wb_msg_timestamp *t) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t->seconds = ts.tv_sec;
    t->nanos = (int32_t)ts.tv_nsec;
}

/* ---- tasks ---- */

static task *find_task(server *s, const char *id) {
    for (size_t i = 0; i < s->ntasks; i++)
        if (!strcmp(s->tasks[i].id, nz(id))) return &s->tasks[i];
    return NULL;
}

static proc *find_proc(task *t, const char *exec_id) {
    for (size_t i = 0; t && i < t->nprocs; i++)
        if (!strcmp(t->procs[i].exec_id, nz(exec_id))) return &t->procs[i];
    return NULL;
}

static void proc_release(proc *p) {
    if (p->has_tty) close(p->tty);
    p->has_tty = false;
    free(p->exec_id);
    for (int i = 0; i < 3; i++) free(p->io[i]);
    free(p->spec);
}

static void task_remove(server *s, task *t) {
    if (t->oom_fd >= 0) close(t->oom_fd);
    for (size_t i = 0; i < t->nprocs; i++) proc_release(&t->procs[i]);
    free(t->procs);
    free(t->id);
    free(t->bundle);
    size_t at = (size_t)(t - s->tasks);
    memmove(&s->tasks[at], &s->tasks[at + 1], (s->ntasks - at - 1) * sizeof *s->tasks);
    s->ntasks--;
}

/* ---- events ---- */

static void publish(server *s, const char *topic, const wb_pb_table *t, const void *event) {
    if (!s->cfg->ttrpc_address || !*s->cfg->ttrpc_address) return;
    wb_error err;
    wb_msg_any any = {0};
    if (wb_msg_any_pack(t, event, &any, &err) < 0) return;
    wb_msg_timestamp ts;
    now_ts(&ts);
    wb_msg_envelope env = {&ts, (char *)nz(s->cfg->ns), (char *)topic, &any};
    wb_msg_forward_request fwd = {&env};
    uint8_t *payload;
    size_t len;
    if (wb_pb_encode_alloc(&wb_msg_forward_request_table, &fwd, &payload, &len, &err) == 0) {
        wb_msg_key_value md = {WB_MSG_NAMESPACE_KEY, (char *)nz(s->cfg->ns)};
        wb_msg_ttrpc_request req = {
            WB_MSG_EVENTS_SERVICE, WB_MSG_EVENTS_FORWARD, {payload, len}, 5000000000LL, &md, 1};
        wb_msg_ttrpc_response resp = {0};
        if (wb_ttrpc_call(s->cfg->ttrpc_address, &req, &resp, &err) < 0)
            fprintf(stderr, "wasmbox shim: publish %s: %s\n", topic, err.msg);
        wb_pb_free(&wb_msg_ttrpc_response_table, &resp);
        free(payload);
    }
    wb_pb_free(&wb_msg_any_table, &any);
}

/* ---- replies ---- */

static void reply(int conn, uint32_t stream, const wb_pb_table *t, const void *msg) {
    uint8_t *payload = NULL;
    size_t len = 0;
    wb_error err;
    if (t && wb_pb_encode_alloc(t, msg, &payload, &len, &err) < 0) {
        wb_ttrpc_send_response(conn, stream, WB_RPC_INTERNAL, err.msg, NULL, 0, NULL);
        return;
    }
    wb_ttrpc_send_response(conn, stream, WB_RPC_OK, NULL, payload, len, NULL);
    free(payload);
}

static void reply_error(int conn, uint32_t stream, int code, const char *msg) {
    wb_ttrpc_send_response(conn, stream, code, msg, NULL, 0, NULL);
}

static void reply_empty(int conn, uint32_t stream) {
    wb_msg_empty e = {0};
    reply(conn, stream, &wb_msg_empty_table, &e);
}

/* ---- stdio ---- */

/* A URI's %XX escapes decoded in place. */
static void uri_unescape(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        unsigned v;
        if (r[0] == '%' && r[1] && r[2] && sscanf(r + 1, "%2x", &v) == 1) {
            *w++ = (char)v;
            r += 2;
        } else {
            *w++ = *r == '+' ? ' ' : *r;
        }
    }
    *w = 0;
}

/* containerd's binary:// logger (what its runc shim does, pkg/process/io.go): the program at
 * the URI's path, its query's keys and values as arguments, started with the read ends of the
 * task's stdout and stderr pipes as fds 3 and 4 and a "ready" pipe as fd 5 (it closes or writes
 * it once ready; waited for up to 10 s), CONTAINER_ID and CONTAINER_NAMESPACE in its
 * environment. *out and *errw get the write ends (the task's stdout and stderr). The logger is
 * this process's child, reaped with the others; it ends when the task's stdio closes. */
static int start_logger(const char *uri, const char *ns, const char *id, int *out, int *errw,
                        wb_error *err) {
    char *path = wb_strdup(uri + 9), *query = strchr(path, '?');
    if (query) *query++ = 0;
    uri_unescape(path);
    char *argv[34] = {path};
    int argc = 1;
    for (char *save = NULL, *kv = query ? strtok_r(query, "&", &save) : NULL; kv && argc < 32;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) *eq++ = 0;
        uri_unescape(kv);
        argv[argc++] = kv;
        if (eq && *eq) {
            uri_unescape(eq);
            argv[argc++] = eq;
        }
    }
    argv[argc] = NULL;
    int o[2] = {-1, -1}, e[2] = {-1, -1}, r[2] = {-1, -1}, rc = -1;
    if (path[0] != '/') {
        wb_error_set(err, EINVAL, "binary:// logger: %s is not an absolute path", path);
        goto out;
    }
    if (access(path, X_OK) != 0) {
        wb_error_sys(err, "binary:// logger %s", path);
        goto out;
    }
    if (pipe2(o, O_CLOEXEC) != 0 || pipe2(e, O_CLOEXEC) != 0 || pipe2(r, O_CLOEXEC) != 0) {
        wb_error_sys(err, "pipe");
        goto out;
    }
    char env_id[600], env_ns[600];
    snprintf(env_id, sizeof env_id, "CONTAINER_ID=%s", id);
    snprintf(env_ns, sizeof env_ns, "CONTAINER_NAMESPACE=%s", nz(ns));
    char *envp[] = {env_id, env_ns,
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        wb_error_sys(err, "fork the logger");
        goto out;
    }
    if (pid == 0) { /* 0-2 /dev/null, 3 stdout, 4 stderr, 5 ready */
        int null = open("/dev/null", O_RDWR);
        int fds[6] = {null, null, null, o[0], e[0], r[1]};
        if (wb_child_fds(fds, 6) < 0) _exit(127);
        execve(path, argv, envp);
        _exit(127);
    }
    close(r[1]);
    r[1] = -1;
    struct pollfd p = {r[0], POLLIN, 0};
    char b;
    if (poll(&p, 1, 10000) <= 0 || (read(r[0], &b, 1) < 0)) {
        kill(pid, SIGKILL);
        wb_error_set(err, ETIMEDOUT, "binary:// logger %s did not get ready", path);
        goto out;
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) { /* it ended instead of getting ready */
        wb_error_set(err, EINVAL, "binary:// logger %s exited at once (status %d)", path,
                     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        goto out;
    }
    *out = o[1];
    *errw = e[1];
    o[1] = e[1] = -1;
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (o[i] >= 0) close(o[i]);
        if (e[i] >= 0) close(e[i]);
        if (r[i] >= 0) close(r[i]);
    }
    free(path);
    return rc;
}

/* containerd's stdio: a bare path is a FIFO it reads (or writes, stdin), file:// a file to
 * append to (binary:// loggers: open_stdio). -1 for none. */
static int open_io(const char *path, bool input, wb_error *err) {
    if (!path || !*path) return -1;
    if (!strncmp(path, "binary://", 9)) {
        wb_error_set(err, ENOTSUP, "binary:// for stdin is not supported");
        return -2;
    }
    int fd;
    if (!strncmp(path, "file://", 7)) {
        fd = open(path + 7, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    } else if (input) {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    } else {
        fd = open(path, O_RDWR | O_CLOEXEC); /* a FIFO: never blocks, whoever reads */
    }
    if (fd < 0) {
        wb_error_sys(err, "open %s", path);
        return -2;
    }
    return fd;
}

static int open_stdio(const server *s, const char *id, char *const io[3], int fds[3],
                      wb_error *err) {
    for (int i = 0; i < 3; i++) fds[i] = -1;
    /* a binary:// logger takes stdout, and stderr when it names the same URI (ctr --log-uri) */
    if (io[1] && !strncmp(io[1], "binary://", 9)) {
        int errw;
        if (start_logger(io[1], s->cfg->ns, id, &fds[1], &errw, err) < 0) return -1;
        if (io[2] && !strcmp(io[2], io[1]))
            fds[2] = errw;
        else
            close(errw);
    }
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0) continue;
        fds[i] = open_io(io[i], i == 0, err);
        if (fds[i] == -2) {
            for (int k = 0; k < 3; k++)
                if (fds[k] >= 0) close(fds[k]);
            return -1;
        }
    }
    /* none given: /dev/null (the workload must not write into the shim's own stdio) */
    for (int i = 0; i < 3; i++)
        if (fds[i] < 0) fds[i] = open("/dev/null", (i ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    return 0;
}

static void close_stdio(int fds[3]) {
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0) close(fds[i]);
}

/* ---- rootfs ---- */

static int mount_rootfs(const char *bundle, const wb_msg_mount *m, size_t n, wb_error *err) {
    char target[4200];
    snprintf(target, sizeof target, "%s/rootfs", bundle);
    for (size_t i = 0; i < n; i++) {
        char *data = NULL;
        size_t len = 0;
        unsigned long flags = 0;
        for (size_t k = 0; k < m[i].n_options; k++) {
            const char *o = m[i].options[k];
            if (!strcmp(o, "ro"))
                flags |= MS_RDONLY;
            else if (!strcmp(o, "rbind"))
                flags |= MS_BIND | MS_REC;
            else if (!strcmp(o, "bind"))
                flags |= MS_BIND;
            else if (strcmp(o, "rw") != 0)
                wb_appendf(&data, &len, "%s%s", len ? "," : "", o);
        }
        int rc = mount(nz(m[i].source), target, nz(m[i].type), flags, data);
        free(data);
        if (rc != 0)
            return wb_error_sys(err, "mount %s (%s) on %s", nz(m[i].source), nz(m[i].type), target);
    }
    return 0;
}

static void unmount_rootfs(task *t) {
    if (!t->rootfs_mounted) return;
    char target[4200];
    snprintf(target, sizeof target, "%s/rootfs", t->bundle);
    umount2(target, MNT_DETACH);
    t->rootfs_mounted = false;
}

/* ---- the methods ---- */

typedef struct call {
    server *s;
    int conn;
    uint32_t stream;
    const wb_pb_bytes *payload;
} call;

#define DECODE(table, var)                                                                         \
    wb_error err;                                                                                  \
    if (wb_pb_decode(&table, c->payload->data, c->payload->len, &var, &err) < 0) {                 \
        reply_error(c->conn, c->stream, WB_RPC_INVALID_ARGUMENT, err.msg);                         \
        return;                                                                                    \
    }

/* A terminal process was made (create or exec): take its pty's master from the console socket
 * and start the relay between it and containerd's stdin (fds[0]) and stdout (fds[1]). */
static int attach_tty(wb_shim_console *con, const int fds[3], proc *p, wb_error *err) {
    int master;
    if (wb_shim_console_take(con, &master, err) < 0) return -1;
    pid_t relay = wb_shim_console_relay(master, fds[0], fds[1], err);
    if (relay < 0) {
        close(master);
        return -1;
    }
    p->has_tty = true;
    p->tty = master;
    p->relay = relay;
    return 0;
}

static void m_create(call *c) {
    wb_msg_create_task_request r = {0};
    DECODE(wb_msg_create_task_request_table, r);
    if (find_task(c->s, r.id)) {
        reply_error(c->conn, c->stream, WB_RPC_ALREADY_EXISTS, "task already exists");
        goto out;
    }
    if (r.n_rootfs && mount_rootfs(r.bundle, r.rootfs, r.n_rootfs, &err) < 0) {
        reply_error(c->conn, c->stream, WB_RPC_INTERNAL, err.msg);
        goto out;
    }
    char *io[3] = {r.stdin_path, r.stdout_path, r.stderr_path};
    int fds[3];
    pid_t pid = 0;
    wb_shim_console con = {.listen_fd = -1};
    proc tty = {0};
    int rc = open_stdio(c->s, r.id, io, fds, &err);
    if (rc == 0) {
        wb_oci_create_opts o = {.root = c->s->cfg->state_root,
                                .id = r.id,
                                .bundle = r.bundle,
                                .prefer_wasm = true,
                                .app_runtime = c->s->cfg->app_runtime,
                                .stdio = fds};
        if (r.terminal && (rc = wb_shim_console_listen(c->s->cfg->state_root, &con, &err)) == 0)
            o.console_socket = con.path;
        if (rc == 0) rc = wb_oci_create(&o, &pid, &err);
        if (rc == 0 && r.terminal && (rc = attach_tty(&con, fds, &tty, &err)) < 0)
            wb_oci_delete(c->s->cfg->state_root, r.id, true, NULL);
        wb_shim_console_close(&con);
        close_stdio(fds);
    }
    if (rc < 0) {
        if (r.n_rootfs) {
            char target[4200];
            snprintf(target, sizeof target, "%s/rootfs", r.bundle);
            umount2(target, MNT_DETACH);
        }
        reply_error(c->conn, c->stream, WB_RPC_UNKNOWN, err.msg);
        goto out;
    }
    server *s = c->s;
    s->tasks = wb_reallocarray(s->tasks, s->ntasks + 1, sizeof *s->tasks);
    task *t = &s->tasks[s->ntasks++];
    *t = (task){.id = wb_strdup(r.id),
                .bundle = wb_strdup(r.bundle),
                .rootfs_mounted = r.n_rootfs > 0,
                .procs = wb_calloc(1, sizeof(proc)),
                .nprocs = 1,
                .oom_fd = -1};
    wb_error oerr; /* /tasks/oom where the host can tell (cgroup v1's memory controller) */
    t->oom_fd = wb_oci_oom_watch(s->cfg->state_root, t->id, &t->oom_kills, &oerr);
    t->procs[0] = (proc){.exec_id = wb_strdup(""),
                         .pid = pid,
                         .terminal = r.terminal,
                         .has_tty = tty.has_tty,
                         .tty = tty.tty,
                         .relay = tty.relay};
    for (int i = 0; i < 3; i++) t->procs[0].io[i] = wb_strdup(nz(io[i]));
    wb_msg_create_task_response resp = {(uint32_t)pid};
    reply(c->conn, c->stream, &wb_msg_create_task_response_table, &resp);
    wb_msg_task_io tio = {r.stdin_path, r.stdout_path, r.stderr_path, false};
    wb_msg_task_create ev = {r.id, r.bundle, r.rootfs, r.n_rootfs, &tio, NULL, (uint32_t)pid};
    publish(s, WB_MSG_TOPIC_CREATE, &wb_msg_task_create_table, &ev);
out:
    wb_pb_free(&wb_msg_create_task_request_table, &r);
}

static void m_start(call *c) {
    wb_msg_start_request r = {0};
    DECODE(wb_msg_start_request_table, r);
    task *t = find_task(c->s, r.id);
    proc *p = find_proc(t, r.exec_id);
    if (!p) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process does not exist");
        goto out;
    }
    int rc;
    if (!*p->exec_id) {
        rc = wb_oci_start(c->s->cfg->state_root, t->id, &err);
    } else {
        int fds[3];
        wb_shim_console con = {.listen_fd = -1};
        rc = open_stdio(c->s, t->id, p->io, fds, &err);
        if (rc == 0 && p->terminal) rc = wb_shim_console_listen(c->s->cfg->state_root, &con, &err);
        if (rc == 0)
            rc = wb_oci_exec_spawn(c->s->cfg->state_root, t->id, p->spec, fds,
                                   p->terminal ? con.path : NULL, &p->pid, &err);
        if (rc == 0 && p->terminal && (rc = attach_tty(&con, fds, p, &err)) < 0) {
            kill(p->pid, SIGKILL);
            p->started = true; /* reaped as it exits */
        }
        wb_shim_console_close(&con);
        close_stdio(fds);
    }
    if (rc < 0) {
        reply_error(c->conn, c->stream, WB_RPC_UNKNOWN, err.msg);
        goto out;
    }
    p->started = true;
    wb_msg_start_response resp = {(uint32_t)p->pid};
    reply(c->conn, c->stream, &wb_msg_start_response_table, &resp);
    if (!*p->exec_id) {
        wb_msg_task_start ev = {t->id, (uint32_t)p->pid};
        publish(c->s, WB_MSG_TOPIC_START, &wb_msg_task_start_table, &ev);
    } else {
        wb_msg_task_exec_started ev = {t->id, p->exec_id, (uint32_t)p->pid};
        publish(c->s, WB_MSG_TOPIC_EXEC_STARTED, &wb_msg_task_exec_started_table, &ev);
    }
out:
    wb_pb_free(&wb_msg_start_request_table, &r);
}

static int32_t status_of(const task *t, const proc *p) {
    if (p->exited) return WB_MSG_STATUS_STOPPED;
    if (t->paused) return WB_MSG_STATUS_PAUSED;
    return p->started ? WB_MSG_STATUS_RUNNING : WB_MSG_STATUS_CREATED;
}

static void m_state(call *c) {
    wb_msg_state_request r = {0};
    DECODE(wb_msg_state_request_table, r);
    task *t = find_task(c->s, r.id);
    proc *p = find_proc(t, r.exec_id);
    if (!p) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process does not exist");
    } else {
        wb_msg_state_response resp = {t->id,
                                      t->bundle,
                                      (uint32_t)p->pid,
                                      status_of(t, p),
                                      p->io[0],
                                      p->io[1],
                                      p->io[2],
                                      p->terminal,
                                      p->exit_status,
                                      p->exited ? &p->exited_at : NULL,
                                      p->exec_id};
        reply(c->conn, c->stream, &wb_msg_state_response_table, &resp);
    }
    wb_pb_free(&wb_msg_state_request_table, &r);
}

static void m_kill(call *c) {
    wb_msg_kill_request r = {0};
    DECODE(wb_msg_kill_request_table, r);
    task *t = find_task(c->s, r.id);
    proc *p = find_proc(t, r.exec_id);
    if (!p)
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process does not exist");
    else if (p->exited || p->pid <= 0)
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process already finished");
    else if (kill(p->pid, (int)r.signal) != 0)
        reply_error(c->conn, c->stream, WB_RPC_UNKNOWN, strerror(errno));
    else
        reply_empty(c->conn, c->stream);
    if (p && r.all && !*nz(r.exec_id))
        for (size_t i = 1; i < t->nprocs; i++)
            if (!t->procs[i].exited && t->procs[i].pid > 0) kill(t->procs[i].pid, (int)r.signal);
    wb_pb_free(&wb_msg_kill_request_table, &r);
}

static void answer_wait(int conn, uint32_t stream, const proc *p) {
    wb_msg_wait_response resp = {p->exit_status, (wb_msg_timestamp *)&p->exited_at};
    reply(conn, stream, &wb_msg_wait_response_table, &resp);
}

static void m_wait(call *c) {
    wb_msg_wait_request r = {0};
    DECODE(wb_msg_wait_request_table, r);
    task *t = find_task(c->s, r.id);
    proc *p = find_proc(t, r.exec_id);
    if (!p) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process does not exist");
    } else if (p->exited) {
        answer_wait(c->conn, c->stream, p);
    } else {
        server *s = c->s;
        s->waiters = wb_reallocarray(s->waiters, s->nwaiters + 1, sizeof *s->waiters);
        s->waiters[s->nwaiters++] =
            (waiter){c->conn, c->stream, wb_strdup(r.id), wb_strdup(nz(r.exec_id))};
    }
    wb_pb_free(&wb_msg_wait_request_table, &r);
}

static void m_delete(call *c) {
    wb_msg_delete_request r = {0};
    DECODE(wb_msg_delete_request_table, r);
    task *t = find_task(c->s, r.id);
    proc *p = find_proc(t, r.exec_id);
    if (!p) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process does not exist");
        goto out;
    }
    if (p->started && !p->exited) {
        reply_error(c->conn, c->stream, WB_RPC_FAILED_PRECONDITION,
                    "cannot delete a running process");
        goto out;
    }
    if (!p->exited) now_ts(&p->exited_at);
    wb_msg_delete_response resp = {(uint32_t)p->pid, p->exit_status, &p->exited_at};
    if (*p->exec_id) {
        reply(c->conn, c->stream, &wb_msg_delete_response_table, &resp);
        proc_release(p);
        size_t at = (size_t)(p - t->procs);
        memmove(&t->procs[at], &t->procs[at + 1], (t->nprocs - at - 1) * sizeof *t->procs);
        t->nprocs--;
        goto out;
    }
    wb_oci_delete(c->s->cfg->state_root, t->id, true, NULL);
    unmount_rootfs(t);
    reply(c->conn, c->stream, &wb_msg_delete_response_table, &resp);
    wb_msg_task_delete ev = {t->id, resp.pid, resp.exit_status, &p->exited_at, t->id};
    publish(c->s, WB_MSG_TOPIC_DELETE, &wb_msg_task_delete_table, &ev);
    task_remove(c->s, t);
out:
    wb_pb_free(&wb_msg_delete_request_table, &r);
}

static void m_exec(call *c) {
    wb_msg_exec_process_request r = {0};
    DECODE(wb_msg_exec_process_request_table, r);
    task *t = find_task(c->s, r.id);
    if (!t) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "task does not exist");
    } else if (find_proc(t, r.exec_id)) {
        reply_error(c->conn, c->stream, WB_RPC_ALREADY_EXISTS, "process already exists");
    } else if (!r.spec || !r.spec->value.data) {
        reply_error(c->conn, c->stream, WB_RPC_INVALID_ARGUMENT, "exec without a process spec");
    } else {
        t->procs = wb_reallocarray(t->procs, t->nprocs + 1, sizeof *t->procs);
        proc *p = &t->procs[t->nprocs++];
        *p = (proc){.exec_id = wb_strdup(nz(r.exec_id)),
                    .terminal = r.terminal,
                    .spec = wb_strndup((const char *)r.spec->value.data, r.spec->value.len)};
        p->io[0] = wb_strdup(nz(r.stdin_path));
        p->io[1] = wb_strdup(nz(r.stdout_path));
        p->io[2] = wb_strdup(nz(r.stderr_path));
        reply_empty(c->conn, c->stream);
        wb_msg_task_exec_added ev = {t->id, r.exec_id};
        publish(c->s, WB_MSG_TOPIC_EXEC_ADDED, &wb_msg_task_exec_added_table, &ev);
    }
    wb_pb_free(&wb_msg_exec_process_request_table, &r);
}

static void m_pids(call *c) {
    wb_msg_pids_request r = {0};
    DECODE(wb_msg_pids_request_table, r);
    task *t = find_task(c->s, r.id);
    if (!t) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "task does not exist");
    } else {
        wb_msg_process_info *ps = wb_calloc(t->nprocs + 1, sizeof *ps);
        size_t n = 0;
        for (size_t i = 0; i < t->nprocs; i++)
            if (t->procs[i].pid > 0 && !t->procs[i].exited)
                ps[n++] = (wb_msg_process_info){(uint32_t)t->procs[i].pid, NULL};
        wb_msg_pids_response resp = {ps, n};
        reply(c->conn, c->stream, &wb_msg_pids_response_table, &resp);
        free(ps);
    }
    wb_pb_free(&wb_msg_pids_request_table, &r);
}

static void m_connect(call *c) {
    wb_msg_connect_request r = {0};
    DECODE(wb_msg_connect_request_table, r);
    task *t = find_task(c->s, r.id);
    wb_msg_connect_response resp = {(uint32_t)getpid(), t ? (uint32_t)t->procs[0].pid : 0, NULL};
    reply(c->conn, c->stream, &wb_msg_connect_response_table, &resp);
    wb_pb_free(&wb_msg_connect_request_table, &r);
}

static void m_shutdown(call *c) {
    wb_msg_shutdown_request r = {0};
    DECODE(wb_msg_shutdown_request_table, r);
    reply_empty(c->conn, c->stream);
    if (c->s->ntasks == 0 || r.now) c->s->shutdown = true;
    wb_pb_free(&wb_msg_shutdown_request_table, &r);
}

/* Pause, Resume: the task's cgroup frozen or thawed (oci_run.h), then /tasks/paused|resumed. */
static void pause_or_resume(call *c, bool pause) {
    wb_msg_id_request r = {0};
    DECODE(wb_msg_pause_request_table, r);
    task *t = find_task(c->s, r.id);
    if (!t) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "task does not exist");
    } else if (wb_oci_pause(c->s->cfg->state_root, t->id, pause, &err) < 0) {
        reply_error(c->conn, c->stream,
                    err.code == ESRCH ? WB_RPC_FAILED_PRECONDITION : WB_RPC_UNKNOWN, err.msg);
    } else {
        t->paused = pause;
        reply_empty(c->conn, c->stream);
        wb_msg_container_event ev = {t->id};
        publish(c->s, pause ? WB_MSG_TOPIC_PAUSED : WB_MSG_TOPIC_RESUMED,
                pause ? &wb_msg_task_paused_table : &wb_msg_task_resumed_table, &ev);
    }
    wb_pb_free(&wb_msg_pause_request_table, &r);
}

/* Stats: the task's cgroup as io.containerd.cgroups.v1.Metrics (what runc's shim sends); memory
 * usage counts as `docker stats` does (without the inactive page cache). */
static void m_stats(call *c) {
    wb_msg_id_request r = {0};
    DECODE(wb_msg_stats_request_table, r);
    task *t = find_task(c->s, r.id);
    wb_cgroup_stats cs;
    if (!t) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "task does not exist");
    } else if (wb_oci_stats(c->s->cfg->state_root, t->id, &cs, &err) < 0) {
        reply_error(c->conn, c->stream, WB_RPC_UNKNOWN, err.msg);
    } else {
        wb_msg_pids_stat pids = {cs.pids, cs.pids_limit};
        wb_msg_cpu_usage usage = {cs.cpu_usage_ns, 0, 0};
        wb_msg_cpu_stat cpu = {&usage};
        wb_msg_memory_entry mem_usage = {cs.memory_limit, cs.memory_usage, 0, 0};
        wb_msg_memory_stat mem = {0, 0, &mem_usage};
        wb_msg_memory_oom_control oom = {cs.oom_kills};
        wb_msg_metrics m = {&pids, &cpu, &mem, &oom};
        wb_msg_any any = {0};
        if (wb_msg_any_pack(&wb_msg_metrics_table, &m, &any, &err) < 0) {
            reply_error(c->conn, c->stream, WB_RPC_UNKNOWN, err.msg);
        } else {
            wb_msg_stats_response resp = {&any};
            reply(c->conn, c->stream, &wb_msg_stats_response_table, &resp);
            free(any.type_url);
            free(any.value.data);
        }
    }
    wb_pb_free(&wb_msg_stats_request_table, &r);
}

/* Update: resources as containerd packs specs.LinuxResources (JSON in the Any's value). */
static void m_update(call *c) {
    wb_msg_update_task_request r = {0};
    DECODE(wb_msg_update_task_request_table, r);
    task *t = find_task(c->s, r.id);
    if (!t) {
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "task does not exist");
    } else if (!r.resources || !r.resources->value.len) {
        reply_empty(c->conn, c->stream); /* nothing to change */
    } else {
        char *text = wb_malloc(r.resources->value.len + 1);
        memcpy(text, r.resources->value.data, r.resources->value.len);
        text[r.resources->value.len] = '\0';
        if (wb_oci_update(c->s->cfg->state_root, t->id, text, &err) < 0)
            reply_error(c->conn, c->stream,
                        err.code == ESRCH    ? WB_RPC_FAILED_PRECONDITION
                        : err.code == EINVAL ? WB_RPC_INVALID_ARGUMENT
                                             : WB_RPC_UNKNOWN,
                        err.msg);
        else
            reply_empty(c->conn, c->stream);
        free(text);
    }
    wb_pb_free(&wb_msg_update_task_request_table, &r);
}

static void m_pause(call *c) {
    pause_or_resume(c, true);
}

static void m_resume(call *c) {
    pause_or_resume(c, false);
}

static void m_resize_pty(call *c) {
    wb_msg_resize_pty_request r = {0};
    DECODE(wb_msg_resize_pty_request_table, r);
    proc *p = find_proc(find_task(c->s, r.id), r.exec_id);
    if (!p)
        reply_error(c->conn, c->stream, WB_RPC_NOT_FOUND, "process does not exist");
    else if (!p->has_tty)
        reply_error(c->conn, c->stream, WB_RPC_FAILED_PRECONDITION, "the process has no terminal");
    else if (wb_shim_console_resize(p->tty, r.width, r.height, &err) < 0)
        reply_error(c->conn, c->stream, WB_RPC_UNKNOWN, err.msg);
    else
        reply_empty(c->conn, c->stream);
    wb_pb_free(&wb_msg_resize_pty_request_table, &r);
}

static void m_close_io(call *c) {
    reply_empty(c->conn, c->stream); /* stdin is the workload's own copy: nothing held here */
}

static const struct method {
    const char *name;
    void (*fn)(call *c);
} methods[] = {
    {"Create", m_create},    {"Start", m_start},
    {"State", m_state},      {"Kill", m_kill},
    {"Wait", m_wait},        {"Delete", m_delete},
    {"Exec", m_exec},        {"Pids", m_pids},
    {"Connect", m_connect},  {"Shutdown", m_shutdown},
    {"CloseIO", m_close_io}, {"Pause", m_pause},
    {"Resume", m_resume},    {"Stats", m_stats},
    {"Update", m_update},    {"ResizePty", m_resize_pty},
};

static void dispatch(server *s, int conn, const wb_ttrpc_frame *f) {
    wb_msg_ttrpc_request req = {0};
    wb_error err;
    if (wb_ttrpc_decode_request(f, &req, &err) < 0) {
        reply_error(conn, f->stream_id, WB_RPC_INVALID_ARGUMENT, err.msg);
        return;
    }
    bool task_service = !strcmp(nz(req.service), WB_MSG_TASK_SERVICE) ||
                        !strcmp(nz(req.service), WB_MSG_TASK_SERVICE_V3);
    const struct method *m = NULL;
    for (size_t i = 0; task_service && i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].name, nz(req.method))) m = &methods[i];
    if (m) {
        call c = {s, conn, f->stream_id, &req.payload};
        m->fn(&c);
    } else {
        char msg[300];
        snprintf(msg, sizeof msg, "%s/%s is not implemented by wasmbox's shim", nz(req.service),
                 nz(req.method));
        reply_error(conn, f->stream_id, WB_RPC_UNIMPLEMENTED, msg);
    }
    wb_pb_free(&wb_msg_ttrpc_request_table, &req);
}

/* ---- exits ---- */

/* /tasks/oom when the task's OOM kill count grew since it was last seen. */
static bool check_oom(server *s, task *t) {
    if (t->oom_fd < 0 || !wb_oci_oom_killed(s->cfg->state_root, t->id, &t->oom_kills)) return false;
    t->oom_recheck = 0;
    wb_msg_task_oom ev = {t->id};
    publish(s, WB_MSG_TOPIC_OOM, &wb_msg_task_oom_table, &ev);
    return true;
}

/* A terminal process ended: its relay copies what is left in the terminal, then ends (at most
 * 2 s), before the exit is told, so that whoever waits for the exit has all the output (ctr
 * stops reading once the task has exited). */
static void drain_tty(proc *p) {
    double until = wb_mono_seconds() + 2.0;
    while (p->relay > 0) {
        pid_t r = waitpid(p->relay, NULL, WNOHANG);
        if (r == p->relay || (r < 0 && errno != EINTR)) {
            p->relay = 0;
        } else if (wb_mono_seconds() > until) {
            kill(p->relay, SIGKILL);
            waitpid(p->relay, NULL, 0);
            p->relay = 0;
        } else {
            usleep(2000);
        }
    }
}

static void on_exit_of(server *s, pid_t pid, int status) {
    for (size_t i = 0; i < s->ntasks; i++) {
        task *t = &s->tasks[i];
        for (size_t k = 0; k < t->nprocs; k++) {
            proc *p = &t->procs[k];
            if (p->relay == pid) p->relay = 0;
            if (p->pid != pid || p->exited) continue;
            check_oom(s, t); /* an OOM kill is published before the exit it caused */
            drain_tty(p);
            p->exited = true;
            p->exit_status =
                (uint32_t)(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            now_ts(&p->exited_at);
            for (size_t w = 0; w < s->nwaiters;) {
                waiter *wt = &s->waiters[w];
                if (strcmp(wt->id, t->id) != 0 || strcmp(wt->exec_id, p->exec_id) != 0) {
                    w++;
                    continue;
                }
                answer_wait(wt->conn, wt->stream, p);
                free(wt->id);
                free(wt->exec_id);
                memmove(wt, wt + 1, (s->nwaiters - w - 1) * sizeof *wt);
                s->nwaiters--;
            }
            wb_msg_task_exit ev = {t->id, *p->exec_id ? p->exec_id : t->id, (uint32_t)pid,
                                   p->exit_status, &p->exited_at};
            publish(s, WB_MSG_TOPIC_EXIT, &wb_msg_task_exit_table, &ev);
            return;
        }
    }
}

/* A task's OOM descriptor fired: /tasks/oom when the OOM killer did act (not for the cgroup's
 * removal, which fires it too). */
static void on_oom(server *s, task *t) {
    uint64_t n;
    if (read(t->oom_fd, &n, sizeof n) != (ssize_t)sizeof n) return;
    if (!check_oom(s, t)) t->oom_recheck = wb_mono_seconds() + 2.0;
}

static void reap(server *s) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        on_exit_of(s, pid, status);
    }
}

/* ---- the loop ---- */

static void drop_conn(server *s, size_t i) {
    int fd = s->conns[i];
    for (size_t w = 0; w < s->nwaiters;) {
        if (s->waiters[w].conn != fd) {
            w++;
            continue;
        }
        free(s->waiters[w].id);
        free(s->waiters[w].exec_id);
        memmove(&s->waiters[w], &s->waiters[w + 1], (s->nwaiters - w - 1) * sizeof *s->waiters);
        s->nwaiters--;
    }
    close(fd);
    s->conns[i] = s->conns[--s->nconns];
}

int wb_shim_serve(const wb_shim_config *cfg, int listen_fd, wb_error *err) {
    server s = {.cfg = cfg};
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) return wb_error_sys(err, "signalfd");
    while (!s.shutdown) {
        struct pollfd p[MAX_CONNS + 2 + MAX_OOM_WATCHES];
        p[0] = (struct pollfd){listen_fd, POLLIN, 0};
        p[1] = (struct pollfd){sfd, POLLIN, 0};
        for (size_t i = 0; i < s.nconns; i++) p[2 + i] = (struct pollfd){s.conns[i], POLLIN, 0};
        size_t nfds = 2 + s.nconns;
        for (size_t i = 0; i < s.ntasks && nfds < 2 + MAX_CONNS + MAX_OOM_WATCHES; i++)
            if (s.tasks[i].oom_fd >= 0) p[nfds++] = (struct pollfd){s.tasks[i].oom_fd, POLLIN, 0};
        bool recheck = false;
        for (size_t i = 0; i < s.ntasks; i++) recheck = recheck || s.tasks[i].oom_recheck > 0;
        if (poll(p, nfds, recheck ? 20 : -1) < 0) {
            if (errno == EINTR) continue;
            return wb_error_sys(err, "poll");
        }
        for (size_t i = 0; recheck && i < s.ntasks; i++) {
            task *t = &s.tasks[i];
            if (t->oom_recheck > 0 && !check_oom(&s, t) && wb_mono_seconds() > t->oom_recheck)
                t->oom_recheck = 0; /* it fired for something else (the cgroup removed) */
        }
        for (size_t k = 2 + s.nconns; k < nfds; k++) /* before exits: Docker's order */
            for (size_t i = 0; (p[k].revents & POLLIN) && i < s.ntasks; i++)
                if (s.tasks[i].oom_fd == p[k].fd) on_oom(&s, &s.tasks[i]);
        if (p[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            }
            reap(&s);
        }
        if ((p[0].revents & POLLIN) && s.nconns < MAX_CONNS) {
            int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) s.conns[s.nconns++] = c;
        }
        for (size_t i = s.nconns; i-- > 0;) {
            if (!p[2 + i].revents || p[2 + i].fd != s.conns[i]) continue;
            wb_ttrpc_frame f = {0};
            wb_error ferr;
            int r = wb_ttrpc_read_frame(s.conns[i], &f, &ferr);
            if (r == 1 && f.type == WB_TTRPC_REQUEST)
                dispatch(&s, s.conns[i], &f);
            else if (r < 0 && ferr.code == EMSGSIZE)
                reply_error(s.conns[i], f.stream_id, WB_RPC_RESOURCE_EXHAUSTED, ferr.msg);
            else if (r <= 0)
                drop_conn(&s, i);
            wb_ttrpc_frame_release(&f);
        }
        reap(&s);
    }
    for (size_t i = 0; i < s.nconns; i++) close(s.conns[i]);
    free(s.waiters);
    while (s.ntasks) task_remove(&s, &s.tasks[0]);
    free(s.tasks);
    close(sfd);
    if (cfg->socket_path) unlink(cfg->socket_path);
    return 0;
}

void wb_shim_socket_path(const char *address, const char *ns, const char *id, char out[128]) {
    /* two 64-bit FNV-1a hashes (different offsets) of "ADDRESS/NS/ID" */
    uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
    const char *parts[] = {nz(address), "/", nz(ns), "/", nz(id)};
    for (size_t i = 0; i < 5; i++)
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
            h1 = (h1 ^ *p) * 0x100000001b3ULL;
            h2 = (h2 ^ *p) * 0x100000001b3ULL;
        }
    snprintf(out, 128, "/run/containerd/s/%016llx%016llx", (unsigned long long)h1,
             (unsigned long long)h2);
}
