/* The shim binary's command line (containerd-shim-wasmbox-v1 and its links, design/shim.md
 * section 1): `start` binds the task's socket, leaves a detached server behind and prints its
 * address; `delete` cleans up after a task whose server is gone; `-info` describes the runtime
 * (containerd 2.x). The server is wb_shim_serve (service.h). */
#include "shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/oci_run.h"
#include "runtime/wasm_handler.h"
#include "shim/messages.h"
#include "shim/pb.h"
#include "shim/service.h"
#include "shim/ttrpc.h"

typedef struct shim_flags {
    const char *ns, *address, *id, *bundle, *publish_binary;
    const char *action; /* "start", "delete", "-info", or NULL (serve) */
    const char *self;   /* the binary's name (containerd-shim-RUNTIME-vN) */
    bool debug;
} shim_flags;

static int parse(int argc, char **argv, shim_flags *f) {
    memset(f, 0, sizeof f[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *name = a[0] == '-' ? (a[1] == '-' ? a + 2 : a + 1) : NULL;
        if (!name) {
            f->action = a;
            continue;
        }
        const char **slot = !strcmp(name, "namespace")        ? &f->ns
                            : !strcmp(name, "address")        ? &f->address
                            : !strcmp(name, "id")             ? &f->id
                            : !strcmp(name, "bundle")         ? &f->bundle
                            : !strcmp(name, "publish-binary") ? &f->publish_binary
                                                              : NULL;
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "flag needs an argument: -%s\n", name);
                return -1;
            }
            *slot = argv[++i];
        } else if (!strcmp(name, "debug")) {
            f->debug = true;
        } else if (!strcmp(name, "info") || !strcmp(name, "v") || !strcmp(name, "version")) {
            f->action = a;
        } else {
            fprintf(stderr, "flag provided but not defined: %s\n", a);
            return -1;
        }
    }
    return 0;
}

/* The state root of this namespace's tasks. */
static int state_root(const char *ns, char *out, size_t size, wb_error *err) {
    return wb_path_join(out, size, err, "/run/wasmbox-shim/%s", ns && *ns ? ns : "default");
}

/* A pod's shim is shared: the sandbox id names the socket (shim.md, "Pods"). */
static const char *grouping_id(const shim_flags *f) {
    static char sandbox[256];
    char path[PATH_MAX];
    if (wb_path_join(path, sizeof path, NULL, "%s/config.json", f->bundle ? f->bundle : ".") < 0)
        return f->id; /* as a bundle without the annotation */
    json_t *doc = json_load_file(path, 0, NULL);
    const char *s = json_string_value(
        json_object_get(json_object_get(doc, "annotations"), "io.kubernetes.cri.sandbox-id"));
    if (s) snprintf(sandbox, sizeof sandbox, "%s", s);
    json_decref(doc);
    return s ? sandbox : f->id;
}

static int listen_on(const char *path, int *fd, bool *existing, wb_error *err) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) return wb_error_set(err, ENAMETOOLONG, "%s", path);
    strcpy(sa.sun_path, path);
    char dir[PATH_MAX];
    if (wb_path_join(dir, sizeof dir, err, "%s", path) < 0) return -1;
    *strrchr(dir, '/') = '\0';
    if (wb_mkdir_p(dir, 0711, err) < 0) return -1;
    *existing = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) return wb_error_sys(err, "socket");
        if (bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(s, 64) == 0) {
            *fd = s;
            return 0;
        }
        int e = errno;
        close(s);
        if (e != EADDRINUSE) {
            errno = e;
            return wb_error_sys(err, "listen on %s", path);
        }
        /* a live server there (the pod's shim): use it; a dead one's socket: replace it */
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(s);
            *existing = true;
            return 0;
        }
        if (s >= 0) close(s);
        unlink(path);
    }
    return wb_error_set(err, EADDRINUSE, "listen on %s: address in use", path);
}

/* The application runtime a shim's name stands for (containerd-shim-spin-v2, -wws-v1), else
 * WB_RUNTIME_WASMEDGE (a WASI command). */
static int app_runtime(const char *self) {
    if (self && !strcmp(self, "containerd-shim-spin-v2")) return WB_RUNTIME_SPIN;
    if (self && !strcmp(self, "containerd-shim-wws-v1")) return WB_RUNTIME_WWS;
    if (self && !strcmp(self, "containerd-shim-slight-v1")) return WB_RUNTIME_SLIGHT;
    if (self && !strcmp(self, "containerd-shim-lunatic-v1")) return WB_RUNTIME_LUNATIC;
    return WB_RUNTIME_WASMEDGE;
}

static int cmd_start(const shim_flags *f) {
    char path[128], root[PATH_MAX];
    wb_error err;
    wb_shim_socket_path(f->address, f->ns, grouping_id(f), path);
    int fd = -1;
    bool existing;
    if (listen_on(path, &fd, &existing, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char address[160];
    snprintf(address, sizeof address, "unix://%s", path);
    if (existing) { /* the pod's shim serves this task too */
        printf("%s\n", address);
        return 0;
    }
    if (wb_write_file_atomic("address", address, strlen(address), 0644, false, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (state_root(f->ns, root, sizeof root, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        /* the server: its own session, no hold on containerd's output pipe (CombinedOutput);
         * its stderr is the bundle's log FIFO when there is one */
        setsid();
        int null_fd = open("/dev/null", O_RDWR);
        int log = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(log >= 0 ? log : null_fd, 2);
        if (log >= 0) fcntl(2, F_SETFL, fcntl(2, F_GETFL) & ~O_NONBLOCK);
        wb_shim_config cfg = {f->ns, f->id, getenv("TTRPC_ADDRESS"),
                              path,  root,  app_runtime(f->self)};
        int rc = wb_shim_serve(&cfg, fd, &err);
        if (rc < 0) fprintf(stderr, "wasmbox shim: %s\n", err.msg);
        _exit(rc < 0 ? 1 : 0);
    }
    close(fd);
    printf("%s\n", address);
    return 0;
}

/* After a dead server: the task killed and forgotten, its rootfs unmounted, and containerd's
 * DeleteResponse on stdout. */
static int cmd_delete(const shim_flags *f) {
    char root[PATH_MAX];
    wb_error err;
    if (state_root(f->ns, root, sizeof root, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    uint32_t pid = 0;
    json_t *st = f->id ? wb_oci_state(root, f->id, &err) : NULL;
    if (st) pid = (uint32_t)json_integer_value(json_object_get(st, "pid"));
    json_decref(st);
    if (f->id) wb_oci_delete(root, f->id, true, NULL);
    char rootfs[PATH_MAX];
    if (wb_path_join(rootfs, sizeof rootfs, NULL, "%s/rootfs", f->bundle ? f->bundle : ".") == 0)
        umount2(rootfs, MNT_DETACH);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    wb_msg_timestamp at = {ts.tv_sec, (int32_t)ts.tv_nsec};
    wb_msg_delete_response resp = {pid, 128 + 9, &at};
    uint8_t *buf;
    size_t len;
    if (wb_pb_encode_alloc(&wb_msg_delete_response_table, &resp, &buf, &len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    fwrite(buf, 1, len, stdout);
    free(buf);
    return 0;
}

static int cmd_info(const char *name) {
    wb_msg_runtime_version v = {(char *)WB_SHIM_VERSION, NULL};
    wb_msg_runtime_info info = {(char *)name, &v, NULL, NULL, NULL, 0};
    uint8_t *buf;
    size_t len;
    wb_error err;
    if (wb_pb_encode_alloc(&wb_msg_runtime_info_table, &info, &buf, &len, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    fwrite(buf, 1, len, stdout);
    free(buf);
    return 0;
}

int wb_shim_main(int argc, char **argv) {
    shim_flags f;
    if (parse(argc, argv, &f) < 0) return 1;
    const char *self = strrchr(argv[0], '/');
    self = self ? self + 1 : argv[0];
    f.self = self;
    if (f.action && (!strcmp(f.action, "-v") || !strcmp(f.action, "-version") ||
                     !strcmp(f.action, "--version"))) {
        printf("%s:\n  Version: %s\n", self, WB_SHIM_VERSION);
        return 0;
    }
    if (f.action && (!strcmp(f.action, "-info") || !strcmp(f.action, "--info")))
        return cmd_info(self);
    if (!f.action) {
        fprintf(stderr,
                "%s: a containerd shim v2: containerd runs it (`start`, `delete`); "
                "see docs/shim.md\n",
                self);
        return 1;
    }
    if (!strcmp(f.action, "start")) return cmd_start(&f);
    if (!strcmp(f.action, "delete")) return cmd_delete(&f);
    fprintf(stderr, "%s: unknown action %s\n", self, f.action);
    return 1;
}
