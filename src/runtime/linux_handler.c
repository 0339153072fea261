/* The Linux handler: the container's process, cloned into its namespaces, sets up its root
 * (linux_mounts.c), becomes its user with its capabilities and seccomp filter
 * (linux_security.c) and execs the command as PID 1. */
#include "runtime/linux_handler.h"
#include "runtime/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/cgroup.h"
#include "runtime/linux_mounts.h"
#include "runtime/network.h"
#include <sys/wait.h>

/* ---- ulimits ---- */

static const struct {
    const char *name;
    int resource;
} ulimit_names[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int wb_ulimit_resource(const char *name) {
    for (size_t i = 0; i < sizeof ulimit_names / sizeof ulimit_names[0]; i++)
        if (!strcmp(name, ulimit_names[i].name)) return ulimit_names[i].resource;
    return -1;
}

int wb_ulimit_parse(const char *spec, wb_ulimit *out, char name[16], wb_error *err) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || eq - spec >= 16)
        return wb_error_set(err, EINVAL, "invalid ulimit argument: %s", spec);
    snprintf(name, 16, "%.*s", (int)(eq - spec), spec);
    out->resource = wb_ulimit_resource(name);
    if (out->resource < 0) return wb_error_set(err, EINVAL, "invalid ulimit type: %s", name);
    char *end;
    errno = 0;
    out->soft = strtoll(eq + 1, &end, 10);
    out->hard = out->soft;
    if (!errno && *end == ':') out->hard = strtoll(end + 1, &end, 10);
    if (errno || *end || end == eq + 1 || out->soft < -1 || out->hard < -1)
        return wb_error_set(err, EINVAL, "invalid ulimit argument: %s", spec);
    if (out->hard != -1 && (out->soft == -1 || out->soft > out->hard))
        return wb_error_set(err, EINVAL,
                            "ulimit soft limit must be less than or equal to hard limit: %lld > "
                            "%lld",
                            out->soft, out->hard);
    return 0;
}

/* ---- the etc files ---- */

static const char localhost_entries[] = "127.0.0.1\tlocalhost\n"
                                        "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                        "fe00::0\tip6-localnet\n"
                                        "ff00::0\tip6-mcastprefix\n"
                                        "ff02::1\tip6-allnodes\n"
                                        "ff02::2\tip6-allrouters\n";

int wb_linux_write_etc(const wb_linux_job *job, wb_error *err) {
    char path[4200];
    char *text = NULL;
    int rc = -1;
    /* hostname */
    size_t hlen = strlen(job->hostname) + 2;
    text = wb_malloc(hlen);
    snprintf(text, hlen, "%s\n", job->hostname);
    if (wb_path_join(path, sizeof path, err, "%s/hostname", job->dir) < 0 ||
        wb_write_file_atomic(path, text, strlen(text), 0644, false, err) < 0)
        goto out;
    free(text);
    /* hosts */
    if (job->host_network) {
        uint8_t *data;
        size_t len;
        if (wb_read_file("/etc/hosts", 1 << 20, &data, &len, NULL) < 0) {
            data = (uint8_t *)wb_strdup(localhost_entries);
            len = strlen(localhost_entries);
        }
        text = (char *)data;
        if (job->hosts_extra) { /* --add-host */
            size_t n = len + strlen(job->hosts_extra) + 2;
            text = wb_realloc(text, n);
            snprintf(text + len, n - len, "%s%s", len && text[len - 1] != '\n' ? "\n" : "",
                     job->hosts_extra);
        }
    } else {
        size_t n = sizeof localhost_entries + strlen(job->hostname) + 32 +
                   (job->hosts_extra ? strlen(job->hosts_extra) : 0);
        text = wb_malloc(n);
        if (job->hosts_extra) /* its addresses on its networks */
            snprintf(text, n, "%s%s", localhost_entries, job->hosts_extra);
        else /* no address of its own: the name resolves to loopback */
            snprintf(text, n, "%s127.0.1.1\t%s\n", localhost_entries, job->hostname);
    }
    if (wb_path_join(path, sizeof path, err, "%s/hosts", job->dir) < 0 ||
        wb_write_file_atomic(path, text, strlen(text), 0644, false, err) < 0)
        goto out;
    free(text);
    text = job->resolv ? wb_strdup(job->resolv) : wb_net_host_resolv(job->host_network);
    if (wb_path_join(path, sizeof path, err, "%s/resolv.conf", job->dir) < 0 ||
        wb_write_file_atomic(path, text, strlen(text), 0644, false, err) < 0)
        goto out;
    rc = 0;
out:
    free(text);
    return rc;
}

/* ---- in the container's process ---- */

/* A failure before exec: one line to the parent, then exit with Docker's code. */
__attribute__((noreturn)) static void child_fail(int report_fd, int code, const char *msg) {
    dprintf(report_fd, "%d %s", code, msg);
    _exit(code);
}

/* The fields of a passwd or group line (name:x:id:...), split in place. */
static int split_fields(char *line, char **f, int max) {
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ':') {
            *p = '\0';
            f[n++] = p + 1;
        }
    char *nl = strchr(f[n - 1], '\n');
    if (nl) *nl = '\0';
    return n;
}

static bool parse_id(const char *s, unsigned *out) {
    if (!*s) return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > 0xfffffffeUL) return false;
    *out = (unsigned)v;
    return true;
}

typedef struct user_info {
    uid_t uid;
    gid_t gid;
    gid_t groups[64];
    size_t ngroups;
    char home[512];
} user_info;

/* -u USER[:GROUP] against the container's /etc/passwd and /etc/group, as podman 4.3 + runc
 * resolve it (tests/linux/reference/podman-id*.txt): names must exist; numbers need not (home
 * "/"); the supplementary groups are those naming the user, plus its primary group when -u
 * named it; a group given explicitly is the only one. */
static int resolve_user(const char *spec, user_info *u, wb_error *err) {
    char user[256] = "root", group[256] = "";
    if (spec && *spec) {
        const char *colon = strchr(spec, ':');
        snprintf(user, sizeof user, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
        if (colon) snprintf(group, sizeof group, "%s", colon + 1);
    }
    memset(u, 0, sizeof *u);
    snprintf(u->home, sizeof u->home, "/");
    unsigned id;
    bool numeric_user = parse_id(user, &id);
    bool found = false;
    char name[256] = "";
    FILE *f = fopen("/etc/passwd", "re");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *fl[8];
        if (split_fields(line, fl, 8) < 7) continue;
        unsigned uid, gid;
        if (!parse_id(fl[2], &uid) || !parse_id(fl[3], &gid)) continue;
        if (numeric_user ? uid == id : !strcmp(fl[0], user)) {
            u->uid = uid;
            u->gid = gid;
            snprintf(u->home, sizeof u->home, "%s", fl[5]);
            snprintf(name, sizeof name, "%s", fl[0]);
            found = true;
            break;
        }
    }
    if (f) fclose(f);
    if (!found) {
        if (!numeric_user)
            return wb_error_set(err, ENOENT,
                                "unable to find user %s: no matching entries in passwd file", user);
        u->uid = id;
        u->gid = 0;
    }
    bool numeric_group = group[0] && parse_id(group, &id);
    if (numeric_group) u->gid = id;
    bool group_found = !group[0] || numeric_group;
    f = fopen("/etc/group", "re");
    while (f && fgets(line, sizeof line, f)) {
        char *fl[5];
        if (split_fields(line, fl, 5) < 4) continue;
        unsigned gid;
        if (!parse_id(fl[2], &gid)) continue;
        if (group[0] && !numeric_group && !strcmp(fl[0], group)) {
            u->gid = gid;
            group_found = true;
        }
        if (group[0] || !name[0]) continue; /* an explicit group: only that one */
        for (char *save = NULL, *m = strtok_r(fl[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
            if (!strcmp(m, name) && u->ngroups < sizeof u->groups / sizeof u->groups[0])
                u->groups[u->ngroups++] = gid;
    }
    if (f) fclose(f);
    if (spec && *spec && u->ngroups < sizeof u->groups / sizeof u->groups[0]) {
        bool have = false;
        for (size_t i = 0; i < u->ngroups; i++) have |= u->groups[i] == u->gid;
        if (!have) u->groups[u->ngroups++] = u->gid;
    }
    if (!group_found)
        return wb_error_set(err, ENOENT,
                            "unable to find group %s: no matching entries in group file", group);
    return 0;
}

/* The value of NAME in a "K=V" list, or NULL. */
static const char *env_get(char *const *env, size_t n, const char *name) {
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (!strncmp(env[i], name, len) && env[i][len] == '=') return env[i] + len + 1;
    return NULL;
}

/* The command's file: a path as given, or the first executable match in the container's PATH.
 * Returns 0, or Docker's exit code (127 not found, 126 not executable) with msg set. */
static int find_command(const char *cmd, const char *path_env, char *out, size_t size, char *msg,
                        size_t msize) {
    if (strchr(cmd, '/')) {
        struct stat st;
        if (stat(cmd, &st) != 0) {
            snprintf(msg, msize, "exec: \"%s\": stat %s: no such file or directory", cmd, cmd);
            return 127;
        }
        if (S_ISDIR(st.st_mode) || access(cmd, X_OK) != 0) {
            snprintf(msg, msize, "exec: \"%s\": permission denied", cmd);
            return 126;
        }
        snprintf(out, size, "%s", cmd);
        return 0;
    }
    const char *p = path_env ? path_env : WB_LINUX_DEFAULT_PATH;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int n = snprintf(out, size, "%.*s/%s", (int)len, len ? p : ".", cmd);
        struct stat st;
        if (n > 0 && (size_t)n < size && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
            access(out, X_OK) == 0)
            return 0;
        p += len + (end ? 1 : 0);
    }
    snprintf(msg, msize, "exec: \"%s\": executable file not found in $PATH", cmd);
    return 127;
}

/* Every signal to its default action and none blocked, as a fresh process has them: the CLI's
 * handlers and ignored signals (SIGPIPE, and whatever its caller ignored) must not reach the
 * command. Through the system call itself: the C library refuses the real-time signals it
 * reserves (32 and 33), which a caller may have left ignored too. */
/* The stop signals that reach the container's PID 1 before its command runs. A namespace's init
 * ignores a signal it has no handler for, so a `stop` sent right after the start (`compose up`
 * then `down`) would be lost and wait out the grace period. The launcher blocks these before
 * the clone (blocked signals stay pending), the new PID 1 records them with a handler of its
 * own, and acts on them before the command starts: --init passes them on to the command, and
 * without it the container ends as the signal would have ended it. */
static const int early_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
static volatile sig_atomic_t early_pending[65];
static void early_record(int sig) {
    if (sig > 0 && sig < 65) early_pending[sig] = 1;
}

static void early_set(sigset_t *s) {
    sigemptyset(s);
    for (size_t i = 0; i < sizeof early_signals / sizeof early_signals[0]; i++)
        sigaddset(s, early_signals[i]);
}

/* In the new PID 1 (the early signals blocked since the clone): record them from now on. */
static void early_catch(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = early_record;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof early_signals / sizeof early_signals[0]; i++)
        sigaction(early_signals[i], &sa, NULL);
    sigset_t s;
    early_set(&s);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* Just before the command: the early signals back to their default action, with no moment in
 * which one could be lost; one recorded already ends the process as it would have. The caller
 * has them blocked; they are unblocked here (a pending one then acts by default). */
static void early_settle(void) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof early_signals / sizeof early_signals[0]; i++)
        sigaction(early_signals[i], &dfl, NULL);
    for (size_t i = 0; i < sizeof early_signals / sizeof early_signals[0]; i++)
        if (early_pending[early_signals[i]]) _exit(128 + early_signals[i]);
    sigset_t s;
    early_set(&s);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* Every handler back to SIG_DFL, and the mask to `blocked` (NULL: nothing blocked). */
static void reset_signals(const sigset_t *blocked) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, blocked ? blocked : &none, NULL);
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {0}; /* the kernel's struct sigaction: SIG_DFL, no flags, empty mask */
    for (int s = 1; s <= 64; s++) syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof dfl.mask);
}

/* In the container's process: signals as a fresh process has them, stdio as given, and with a
 * tty a session of its own with the pty as its controlling terminal. */
static void take_stdio(const wb_linux_job *job, const int stdio[3], int report_fd, int code,
                       const sigset_t *blocked) {
    reset_signals(blocked);
    for (int i = 0; i < 3; i++)
        if (stdio[i] != i && dup2(stdio[i], i) < 0) child_fail(report_fd, code, "dup2 stdio");
    if (job->tty) {
        setsid();
        ioctl(0, TIOCSCTTY, 0);
    }
}

void wb_linux_loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
}

__attribute__((noreturn)) static void exec_command(const wb_linux_job *job, int report_fd,
                                                   bool die_with_parent);

/* runc's console: a pty of the container's own devpts (/dev/ptmx, after pivot_root) becomes
 * stdio and the controlling terminal of a new session, /dev/console is bound to its slave, and
 * the master goes to whoever listens on the console socket (conmon, a shim) with SCM_RIGHTS. */
static int console_pty(int sock, bool bind_console, wb_error *err) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return wb_error_sys(err, "open /dev/ptmx");
    char name[64];
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) != 0 || ptsname_r(master, name, sizeof name) != 0) {
        close(master);
        return wb_error_sys(err, "the console's pty");
    }
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        close(master);
        return wb_error_sys(err, "open %s", name);
    }
    /* /dev/console: the terminal, as runc binds it (the container's own process only) */
    int c =
        bind_console ? open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600) : -2;
    if (c >= 0) close(c);
    if (c == -1 || (bind_console && mount(name, "/dev/console", NULL, MS_BIND, NULL) != 0)) {
        close(master);
        close(slave);
        return wb_error_sys(err, "bind /dev/console");
    }
    int sent = wb_pty_send_fd(sock, "/dev/ptmx", master, err);
    close(master);
    close(sock);
    if (sent < 0) {
        close(slave);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0) return wb_error_sys(err, "dup2 the console");
    close(slave);
    setsid();
    if (ioctl(0, TIOCSCTTY, 0) != 0)
        return wb_error_sys(err, "make the console the controlling terminal");
    return 0;
}

__attribute__((noreturn)) static void container_main(const wb_linux_job *job, const int stdio[3],
                                                     int go_fd, int report_fd) {
    wb_error err;
    char msg[WB_ERROR_MSG_MAX + 64];
    /* the parent puts us in the cgroup and records us running, then says go */
    char g;
    ssize_t n;
    while ((n = read(go_fd, &g, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(125);
    if (!job->two_phase) close(go_fd);
    sigset_t early;
    early_set(&early);
    take_stdio(job, stdio, report_fd, 125, &early); /* still blocked (since the clone) */
    early_catch();
    if (!job->no_cgroup_ns && unshare(CLONE_NEWCGROUP) != 0) {
        snprintf(msg, sizeof msg, "unshare the cgroup namespace: %s", strerror(errno));
        child_fail(report_fd, 125, msg);
    }
    if (job->netns_fd >= 0 && setns(job->netns_fd, CLONE_NEWNET) != 0) {
        snprintf(msg, sizeof msg, "join the container's network namespace: %s", strerror(errno));
        child_fail(report_fd, 125, msg);
    }
    if (!job->host_network) wb_linux_loopback_up();
    bool own_uts = !(job->join_namespaces && job->join_uts >= 0);
    if (job->join_namespaces) {
        int fds[] = {job->join_ipc, job->join_uts};
        const char *names[] = {"IPC", "UTS"};
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0 && setns(fds[i], 0) != 0) {
                snprintf(msg, sizeof msg, "join the %s namespace: %s", names[i], strerror(errno));
                child_fail(report_fd, 125, msg);
            }
    }
    if (own_uts && sethostname(job->hostname, strlen(job->hostname)) != 0) {
        snprintf(msg, sizeof msg, "sethostname: %s", strerror(errno));
        child_fail(report_fd, 125, msg);
    }
    if (wb_linux_mount_root(job, &err) < 0) child_fail(report_fd, 125, err.msg);
    if (wb_linux_finish_root(job, &err) < 0) child_fail(report_fd, 125, err.msg);
    if (job->console && console_pty(job->console_fd, true, &err) < 0)
        child_fail(report_fd, 125, err.msg);
    if (job->two_phase) { /* ready; then wait for start */
        /* runc looks the command up before it says ready: a missing one fails create (a
         * relative path waits for the working directory, at start) */
        char file[PATH_MAX];
        int code = job->argv[0][0] == '/' || !strchr(job->argv[0], '/')
                       ? find_command(job->argv[0], env_get(job->env, job->nenv, "PATH"), file,
                                      sizeof file, msg, sizeof msg)
                       : 0;
        if (code) child_fail(report_fd, code, msg);
        if (write(job->ready_fd, "r", 1) != 1) _exit(125);
        close(job->ready_fd);
        while ((n = read(go_fd, &g, 1)) < 0 && errno == EINTR) {
        }
        if (n != 1) _exit(125);
        close(go_fd);
    }
    exec_command(job, report_fd, true);
}

/* --init: PID 1 stays this process (not dumpable: no container process may open its
 * /proc/1/exe, our binary), which forks the command, passes it every signal it gets, reaps every
 * orphan that ends up here, and exits as the command did (128 + N after signal N), as tini,
 * Docker's init, does. Returns only in the child, which then execs the command. Signal-handler
 * state: the command's pid. */
static volatile pid_t init_child;
static void init_forward(int sig) {
    if (init_child > 0) kill(init_child, sig);
}

static void run_init(const char *file, char *const *argv, char **env, int report_fd) {
    prctl(PR_SET_DUMPABLE, 0);
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = fork();
    if (child < 0) child_fail(report_fd, 125, "fork the command under --init");
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL); /* the early signals stay blocked (the caller's) */
        return;
    }
    /* the report pipe closes once the command is exec'ed (close-on-exec in the child); our copy
     * goes now, so that the launcher sees that */
    close(report_fd);
    init_child = child;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = init_forward;
    sigemptyset(&sa.sa_mask);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
    for (size_t i = 0; i < sizeof early_signals / sizeof early_signals[0]; i++)
        if (early_pending[early_signals[i]]) kill(child, early_signals[i]);
    sigset_t early;
    early_set(&early);
    sigprocmask(SIG_SETMASK, &old, NULL);
    sigprocmask(SIG_UNBLOCK, &early, NULL); /* blocked by the caller until now */
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) _exit(1);
        if (p != child) continue; /* an orphan, reaped */
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
}

/* The part of a container process's start that exec shares: limits, user, environment, command,
 * security, execve. Runs inside the container's root. */
__attribute__((noreturn)) static void exec_command(const wb_linux_job *job, int report_fd,
                                                   bool die_with_parent) {
    wb_error err;
    char msg[WB_ERROR_MSG_MAX + 64];
    for (size_t i = 0; i < job->nulimits; i++) {
        const wb_ulimit *l = &job->ulimits[i];
        struct rlimit rl = {l->soft < 0 ? RLIM_INFINITY : (rlim_t)l->soft,
                            l->hard < 0 ? RLIM_INFINITY : (rlim_t)l->hard};
        if (setrlimit(l->resource, &rl) != 0) {
            snprintf(msg, sizeof msg, "setrlimit %d: %s", l->resource, strerror(errno));
            child_fail(report_fd, 125, msg);
        }
    }
    user_info u;
    if (resolve_user(job->user, &u, &err) < 0) child_fail(report_fd, 126, err.msg);
    if (job->exact_groups) {
        u.ngroups = 0;
        for (size_t i = 0; i < job->ngroups && i < sizeof u.groups / sizeof u.groups[0]; i++)
            u.groups[u.ngroups++] = job->groups[i];
    }
    /* the environment: HOME from the user's entry unless the container sets it */
    char **env = wb_calloc(job->nenv + 2, sizeof *env);
    size_t ne = 0;
    for (size_t i = 0; i < job->nenv; i++) env[ne++] = job->env[i];
    char home[600];
    if (!env_get(job->env, job->nenv, "HOME")) {
        snprintf(home, sizeof home, "HOME=%s", u.home);
        env[ne++] = home;
    }
    char file[PATH_MAX];
    int code = find_command(job->argv[0], env_get(job->env, job->nenv, "PATH"), file, sizeof file,
                            msg, sizeof msg);
    if (code) child_fail(report_fd, code, msg);
    wb_linux_security sec = {
        .uid = u.uid,
        .gid = u.gid,
        .groups = u.groups,
        .ngroups = u.ngroups,
        .caps = job->caps,
        .no_new_privileges = job->no_new_privileges,
        .seccomp = job->seccomp,
        .filter = job->seccomp_filter,
    };
    /* no descriptor of the host's may reach the command (runc's CVE-2024-21626): everything
     * above 2 closes at exec, and the cwd is inside the root */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (wb_linux_security_apply(&sec, &err) < 0) child_fail(report_fd, 125, err.msg);
    if (die_with_parent && job->in_container_hook &&
        job->in_container_hook(job->hook_ctx, "startContainer", &err) < 0)
        child_fail(report_fd, 125, err.msg);
    /* a container's process dies with its monitor (or the foreground CLI), as a Wasm
     * container's workload does; set after the uid change, which clears it */
    if (die_with_parent) prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (die_with_parent) { /* a container's first process: the stop signals, settled */
        sigset_t early;
        early_set(&early);
        sigprocmask(SIG_BLOCK, &early, NULL);
        if (job->init) run_init(file, job->argv, env, report_fd);
        early_settle();
    }
    execve(file, job->argv, env);
    int e = errno;
    snprintf(msg, sizeof msg, "exec: \"%s\": %s", job->argv[0], strerror(e));
    child_fail(report_fd, e == ENOENT ? 127 : 126, msg);
}

int wb_linux_exec_spawn(const wb_linux_job *job, pid_t target, const char *cgroup_id,
                        const int stdio[3], int report_fd, pid_t *pid, wb_error *err) {
    wb_linux_security want = {
        .caps = job->caps, .seccomp = job->seccomp, .filter = job->seccomp_filter};
    if (wb_linux_security_prepare(&want, err) < 0) return -1;
    static const char *const kinds[] = {"ipc", "uts", "net", "cgroup", "pid", "mnt"};
    enum { NKINDS = sizeof kinds / sizeof kinds[0] };
    int ns[NKINDS];
    for (int i = 0; i < NKINDS; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)target, kinds[i]);
        ns[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (ns[i] < 0) {
            int saved = errno;
            for (int k = 0; k < i; k++) close(ns[k]);
            errno = saved;
            return wb_error_sys(err, "open the container's %s namespace", kinds[i]);
        }
    }
    wb_cgroup *cg = NULL;
    if (cgroup_id) wb_cgroup_open(cgroup_id, &cg, NULL); /* none: it has no limits */
    /* the exec'd process must be our child (the caller waits for it), and entering a PID
     * namespace takes a fork after setns: this process becomes a subreaper, so the grandchild is
     * reparented to it when the intermediate child leaves */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int pidpipe[2];
    if (pipe2(pidpipe, O_CLOEXEC) != 0) {
        for (int i = 0; i < NKINDS; i++) close(ns[i]);
        wb_cgroup_free(cg);
        return wb_error_sys(err, "pipe");
    }
    fflush(stdout);
    fflush(stderr);
    pid_t mid = fork();
    if (mid < 0) {
        for (int i = 0; i < NKINDS; i++) close(ns[i]);
        close(pidpipe[0]);
        close(pidpipe[1]);
        wb_cgroup_free(cg);
        return wb_error_sys(err, "fork");
    }
    if (mid == 0) {
        char msg[WB_ERROR_MSG_MAX + 64];
        close(pidpipe[0]);
        /* not dumpable: a process of the container cannot open /proc/PID/exe (our binary) */
        prctl(PR_SET_DUMPABLE, 0);
        if (cg && wb_cgroup_add(cg, getpid(), NULL) < 0) {
        }
        for (int i = 0; i < NKINDS; i++)
            if (setns(ns[i], 0) != 0) {
                snprintf(msg, sizeof msg, "join the container's %s namespace: %s", kinds[i],
                         strerror(errno));
                child_fail(report_fd, 126, msg);
            }
        pid_t child = fork(); /* the first process of this one in the container's PID namespace */
        if (child < 0) child_fail(report_fd, 126, "fork into the container");
        if (child > 0) {
            ssize_t w = write(pidpipe[1], &child, sizeof child);
            (void)w;
            _exit(0);
        }
        close(pidpipe[1]);
        take_stdio(job, stdio, report_fd, 126, NULL);
        /* setns into the mount namespace made its root our root and cwd */
        const char *wd = job->workdir && *job->workdir ? job->workdir : "/";
        if (chdir(wd) != 0) {
            snprintf(msg, sizeof msg, "chdir to %s: %s", wd, strerror(errno));
            child_fail(report_fd, 126, msg);
        }
        wb_error cerr;
        if (job->console && console_pty(job->console_fd, false, &cerr) < 0)
            child_fail(report_fd, 126, cerr.msg);
        exec_command(job, report_fd, false);
    }
    close(pidpipe[1]);
    for (int i = 0; i < NKINDS; i++) close(ns[i]);
    wb_cgroup_free(cg);
    pid_t grandchild = -1;
    ssize_t n;
    while ((n = read(pidpipe[0], &grandchild, sizeof grandchild)) < 0 && errno == EINTR) {
    }
    close(pidpipe[0]);
    int status;
    while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof grandchild || grandchild <= 0) {
        /* the intermediate child failed before forking: its report says why */
        *pid = -1;
        return 0;
    }
    *pid = grandchild;
    return 0;
}

int wb_linux_spawn(const wb_linux_job *job, const int stdio[3], int go_fd, int report_fd,
                   pid_t *pid, wb_error *err) {
    if (geteuid() != 0)
        return wb_error_set(err, EPERM,
                            "Linux containers need root (rootless Linux containers are not "
                            "built yet)");
    if (!job->root_dir && wb_linux_write_etc(job, err) < 0) return -1;
    /* libcap and libseccomp are loaded here, from the host: after pivot_root a dlopen would
     * search the image's files */
    wb_linux_security want = {
        .caps = job->caps, .seccomp = job->seccomp, .filter = job->seccomp_filter};
    if (wb_linux_security_prepare(&want, err) < 0) return -1;
    unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    int own_pid_ns = -1;
    if (job->join_namespaces) { /* joined instead of new; a PID namespace before the clone (it
                                 * is the children's), and ours back for later children */
        if (job->join_pid >= 0) {
            own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
            if (own_pid_ns < 0 || setns(job->join_pid, CLONE_NEWPID) != 0) {
                if (own_pid_ns >= 0) close(own_pid_ns);
                return wb_error_sys(err, "join the PID namespace");
            }
            flags &= ~(unsigned long)CLONE_NEWPID;
        }
        if (job->join_ipc >= 0) flags &= ~(unsigned long)CLONE_NEWIPC;
        if (job->join_uts >= 0) flags &= ~(unsigned long)CLONE_NEWUTS;
    }
    if (!job->host_network && job->netns_fd < 0) flags |= CLONE_NEWNET;
    fflush(stdout);
    fflush(stderr);
    sigset_t early, old;
    early_set(&early);
    sigprocmask(SIG_BLOCK, &early, &old); /* pending in the child until it records them */
    /* fork-like clone (no new stack): the child continues here as PID 1 of its namespace */
    long r = syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
    if (r == 0) container_main(job, stdio, go_fd, report_fd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (own_pid_ns >= 0) {
        setns(own_pid_ns, CLONE_NEWPID);
        close(own_pid_ns);
    }
    if (r < 0) return wb_error_sys(err, "clone the container's process");
    *pid = (pid_t)r;
    return 0;
}

bool wb_linux_read_report(int report_fd, int *exit_code, char *msg, size_t size) {
    char buf[WB_ERROR_MSG_MAX + 80];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(report_fd, buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got == sizeof buf - 1) break;
    }
    buf[got] = '\0';
    if (got == 0) return false;
    char *rest;
    long code = strtol(buf, &rest, 10);
    *exit_code = code > 0 && code < 256 ? (int)code : 125;
    snprintf(msg, size, "%s", *rest == ' ' ? rest + 1 : rest);
    return true;
}
