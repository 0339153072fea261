/* Names on user networks through aardvark-dns (see aardvark.h). */
#include "runtime/aardvark.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"

#define AARDVARK_DEFAULT "/usr/lib/podman/aardvark-dns"

static const char *aardvark_bin(void) {
    const char *v = getenv("WASMBOX_AARDVARK");
    return v && *v ? v : AARDVARK_DEFAULT;
}

static int config_dir(const char *root, char *buf, size_t size, wb_error *err) {
    return wb_path_join(buf, size, err, "%s/networks/.aardvark", root);
}

/* The running server's PID (0: none). */
static pid_t server_pid(const char *dir) {
    char path[4300], comm[64] = "";
    uint8_t *data;
    size_t len;
    if (wb_path_join(path, sizeof path, NULL, "%s/aardvark.pid", dir) < 0 ||
        wb_read_file(path, 64, &data, &len, NULL) < 0)
        return 0;
    pid_t pid = (pid_t)atoi((const char *)data);
    free(data);
    if (pid <= 0 || kill(pid, 0) != 0) return 0;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
        fclose(f);
    }
    return strncmp(comm, "aardvark-dns", 12) == 0 ? pid : 0;
}

/* aardvark-dns servers whose configuration directory is gone (a store root deleted while they
 * ran) would keep their gateway addresses' port 53, and a new server could not bind them:
 * stopped first. */
static void reap_orphans(void) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        char path[300], args[4200];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, args, sizeof args - 1);
        close(fd);
        if (n <= 0) continue;
        args[n] = '\0';
        const char *base = strrchr(args, '/');
        if (strcmp(base ? base + 1 : args, "aardvark-dns") != 0) continue;
        /* argv: aardvark-dns --config DIR ... */
        const char *a = args + strlen(args) + 1;
        if (a >= args + n || strcmp(a, "--config") != 0) continue;
        const char *cfg = a + strlen(a) + 1;
        if (cfg < args + n && strstr(cfg, "/networks/.aardvark") && access(cfg, F_OK) != 0)
            kill((pid_t)atoi(e->d_name), SIGTERM);
    }
    if (d) closedir(d);
}

/* Start aardvark-dns on `dir` (it daemonizes: its first process exits once it serves). */
static int server_start(const char *dir, wb_error *err) {
    reap_orphans();
    const char *bin = aardvark_bin();
    if (access(bin, X_OK) != 0)
        return wb_error_set(err, ENOENT,
                            "names on networks need aardvark-dns (%s not found; apt-get install "
                            "aardvark-dns)",
                            bin);
    pid_t pid = fork();
    if (pid < 0) return wb_error_sys(err, "fork");
    if (pid == 0) {
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        execl(bin, bin, "--config", dir, "-p", "53", "run", (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wb_error_set(err, EIO, "aardvark-dns did not start (exit status %d)",
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

/* Ask the server at gateway:53 for `name` until its answer shows it has read its new
 * configuration — an address when `present`, none when not — or AWAIT_LIMIT_NS passes (a loaded
 * machine can take more than a second to reload it). Each change is awaited before the command
 * returns: a reload rebinds the server's sockets, and a query that meets the rebind is refused
 * (a container's resolver then fails at once), so no reload may be left to run later. */
#define AWAIT_LIMIT_NS 5000000000LL
static void await_name(const char *gateway, const char *name, bool present) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, gateway, &to.sin_addr);
    uint8_t q[300];
    size_t n = 12;
    memset(q, 0, 12);
    q[0] = 0x57, q[1] = 0x42, q[2] = 0x01, q[5] = 1; /* ID, RD, one question */
    const char *p = name;
    while (*p && n < sizeof q - 8) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63 || n + len + 6 > sizeof q) break;
        q[n++] = (uint8_t)len;
        memcpy(q + n, p, len);
        n += len;
        p += len + (dot ? 1 : 0);
    }
    q[n++] = 0;
    q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1; /* A, IN */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec) >= AWAIT_LIMIT_NS)
            break;
        if (sendto(fd, q, n, 0, (struct sockaddr *)&to, sizeof to) < 0) {
            usleep(2000);
            continue;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 2) == 1) { /* (a query sent while it rebinds is lost: ask again soon) */
            uint8_t r[512];
            ssize_t k = recv(fd, r, sizeof r, 0);
            /* same ID; present: no error and an answer; gone: NXDOMAIN or no answer */
            bool answered = k >= 12 && (r[3] & 15) == 0 && (r[6] || r[7]);
            bool nx = k >= 12 && ((r[3] & 15) == 3 || ((r[3] & 15) == 0 && !r[6] && !r[7]));
            if (k >= 12 && r[0] == 0x57 && r[1] == 0x42 && (present ? answered : nx)) break;
            usleep(2000);
        }
    }
    close(fd);
}

/* The network's file without cid's line: its text in *out (gateway line first). */
static char *read_without(const char *path, const char *cid, const char *gateway) {
    uint8_t *data = NULL;
    size_t len = 0;
    bool have = wb_read_file(path, 1 << 22, &data, &len, NULL) == 0;
    size_t cap = len + 64 + (gateway ? strlen(gateway) : 0), used = 0;
    char *out = wb_malloc(cap);
    out[0] = '\0';
    char *save = NULL, *line = have ? strtok_r((char *)data, "\n", &save) : NULL;
    if (gateway)
        used += (size_t)snprintf(out, cap, "%s\n", gateway);
    else if (line)
        used += (size_t)snprintf(out, cap, "%s\n", line);
    if (line) line = strtok_r(NULL, "\n", &save); /* past the old gateway line */
    size_t cl = strlen(cid);
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, cid, cl) && line[cl] == ' ') continue;
        used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
    }
    free(data);
    return out;
}

static int signal_server(const char *dir, wb_error *err) {
    pid_t pid = server_pid(dir);
    if (pid > 0) return kill(pid, SIGHUP) == 0 ? 0 : wb_error_sys(err, "signal aardvark-dns");
    return server_start(dir, err);
}

int wb_dns_add(const char *root, const char *net, const char *gateway, const char *cid,
               const char *ip, char *const *names, size_t nnames, wb_error *err) {
    char dir[4200], path[4400];
    if (config_dir(root, dir, sizeof dir, err) < 0 || wb_mkdir_p(dir, 0700, err) < 0 ||
        wb_path_join(path, sizeof path, err, "%s/%s", dir, net) < 0)
        return -1;
    char *text = read_without(path, cid, gateway);
    size_t need = strlen(text) + strlen(cid) + strlen(ip) + 8;
    for (size_t i = 0; i < nnames; i++) need += strlen(names[i]) + 1;
    text = wb_realloc(text, need);
    size_t used = strlen(text);
    used += (size_t)snprintf(text + used, need - used, "%s %s  ", cid, ip);
    for (size_t i = 0; i < nnames; i++)
        used += (size_t)snprintf(text + used, need - used, "%s%s", i ? "," : "", names[i]);
    snprintf(text + used, need - used, "\n");
    int rc = wb_write_file_atomic(path, text, strlen(text), 0644, false, err);
    free(text);
    if (rc < 0 || signal_server(dir, err) < 0) return -1;
    if (nnames) await_name(gateway, names[0], true);
    return 0;
}

void wb_dns_remove(const char *root, const char *net, const char *cid) {
    char dir[4200], path[4400];
    if (config_dir(root, dir, sizeof dir, NULL) < 0 ||
        wb_path_join(path, sizeof path, NULL, "%s/%s", dir, net) < 0 || access(path, F_OK) != 0)
        return;
    /* its first name and the network's gateway, to see the server drop it */
    char gateway[64] = "", name[256] = "";
    FILE *f = fopen(path, "re");
    if (f) {
        char line[1024];
        size_t cl = strlen(cid);
        if (fgets(line, sizeof line, f)) sscanf(line, "%63s", gateway);
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, cid, cl) && line[cl] == ' ') {
                char *names = strstr(line + cl, "  ");
                if (names) sscanf(names, " %255[^,\n]", name);
                break;
            }
        fclose(f);
    }
    char *text = read_without(path, cid, NULL);
    char *nl = strchr(text, '\n');
    bool last = !nl || !nl[1];
    if (last)
        unlink(path); /* only the gateway line left */
    else
        wb_write_file_atomic(path, text, strlen(text), 0644, false, NULL);
    free(text);
    /* no network left: the server goes */
    DIR *d = opendir(dir);
    bool any = false;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && strcmp(e->d_name, "aardvark.pid") != 0 &&
            !strstr(e->d_name, ".tmp"))
            any = true;
    if (d) closedir(d);
    pid_t pid = server_pid(dir);
    if (pid > 0) kill(pid, any ? SIGHUP : SIGTERM);
    /* (the network's last entry gone, the server stops listening on its gateway: nothing to
     * ask there) */
    if (pid > 0 && any && !last && gateway[0] && name[0]) await_name(gateway, name, false);
    if (!any && wb_path_join(path, sizeof path, NULL, "%s/aardvark.pid", dir) == 0) unlink(path);
}
