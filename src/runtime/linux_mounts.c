/* A Linux container's file system, set up by its own process in its new mount namespace: the
 * overlay root, /proc, /sys, /dev, the etc files and bind mounts (every target resolved inside
 * the root), pivot_root, then Docker's masked and read-only paths. */
#include "runtime/linux_mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "runtime/rootpath.h"

/* Docker's defaults (moby's oci/defaults.go): hidden from the container (a file under /dev/null,
 * a directory under an empty read-only tmpfs) ... */
static const char *const masked_paths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
/* ... and read-only. */
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger"};

/* Mount onto `path` inside the root (made when missing, as `kind`). */
static int mount_at(int root, const char *path, enum wb_root_kind kind, const char *source,
                    const char *fstype, unsigned long flags, const char *data, wb_error *err) {
    int fd = wb_root_open(root, path, kind, true);
    if (fd < 0) return wb_error_sys(err, "create the mount point %s", path);
    char target[64];
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    int r = mount(source, target, fstype, flags, data);
    int saved = errno;
    close(fd);
    errno = saved;
    if (r != 0) return wb_error_sys(err, "mount %s on %s", fstype ? fstype : source, path);
    return 0;
}

/* Make the mount at `path` (already a mount point) read-only, keeping its other flags. */
static int remount_ro(const char *path, unsigned long keep, wb_error *err) {
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) != 0)
        return wb_error_sys(err, "remount %s read-only", path);
    return 0;
}

static int mount_root(const wb_linux_job *job, const char *root, wb_error *err) {
    char upper[4200], work[4200];
    if (job->root_dir) { /* an OCI bundle's root, as it is (runc binds it too) */
        if (mkdir(root, 0755) != 0 && errno != EEXIST)
            return wb_error_sys(err, "create `%s`", root);
        if (mount(job->root_dir, root, NULL, MS_BIND | MS_REC, NULL) != 0)
            return wb_error_sys(err, "bind the bundle's root %s", job->root_dir);
        return 0;
    }
    if (wb_path_join(upper, sizeof upper, err, "%s/upper", job->dir) < 0 ||
        wb_path_join(work, sizeof work, err, "%s/work", job->dir) < 0)
        return -1;
    if ((mkdir(upper, 0755) != 0 && errno != EEXIST) || (mkdir(work, 0755) != 0 && errno != EEXIST))
        return wb_error_sys(err, "create the container's layer in `%s`", job->dir);
    if (mkdir(root, 0755) != 0 && errno != EEXIST) return wb_error_sys(err, "create `%s`", root);
    if (!job->lowers->n) { /* no layers: the container's own directory is all there is */
        if (mount(upper, root, NULL, MS_BIND, NULL) != 0)
            return wb_error_sys(err, "bind the container's root");
        return 0;
    }
    if (wb_overlay_mount(root, job->lowers->dirs, job->lowers->n, upper, work, 0, NULL, err) < 0)
        return wb_error_wrap(err, "the container's root");
    return 0;
}

/* /sys: a new sysfs (read-only) shows the container's network namespace; without one of its own
 * (--network host) the kernel refuses a new sysfs, and the host's is bound read-only (as runc). */
static int mount_sys(const wb_linux_job *job, int root, wb_error *err) {
    /* read-only, but for --privileged (Docker's rule) */
    unsigned long fl = (job->privileged ? 0 : MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (!job->host_network)
        return mount_at(root, "/sys", WB_ROOT_DIR, "sysfs", "sysfs", fl, NULL, err);
    if (mount_at(root, "/sys", WB_ROOT_DIR, "/sys", NULL, MS_BIND | MS_REC, NULL, err) < 0)
        return -1;
    int fd = wb_root_open(root, "/sys", WB_ROOT_DIR, false);
    if (fd < 0) return wb_error_sys(err, "open /sys");
    char target[64];
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    int rc = remount_ro(target, MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
    close(fd);
    return rc;
}

/* /sys/fs/cgroup, read-only, showing the container's own cgroup (it has a cgroup namespace): on
 * v2 the unified hierarchy; on v1 a tmpfs with one read-only mount per hierarchy this process
 * belongs to (as runc and Docker lay it out). */
static int mount_cgroups(int root, wb_error *err) {
    unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return wb_error_sys(err, "read /proc/self/cgroup");
    char line[512];
    bool v1 = false;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *controllers = c1 + 1;
        if (!*controllers) continue; /* the v2 line: on a v1 host, nothing to mount */
        if (!v1) {
            v1 = true;
            rc = mount_at(root, "/sys/fs/cgroup", WB_ROOT_DIR, "tmpfs", "tmpfs",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755", err);
            if (rc < 0) break;
        }
        const char *name = !strncmp(controllers, "name=", 5) ? controllers + 5 : controllers;
        char dir[300], data[300];
        rc = wb_path_join(dir, sizeof dir, err, "/sys/fs/cgroup/%s", name);
        if (rc < 0) break;
        snprintf(data, sizeof data, "%s%s", name != controllers ? "none," : "", controllers);
        rc = mount_at(root, dir, WB_ROOT_DIR, "cgroup", "cgroup", ro, data, err);
    }
    fclose(f);
    if (rc == 0 && !v1)
        rc = mount_at(root, "/sys/fs/cgroup", WB_ROOT_DIR, "cgroup2", "cgroup2", ro, NULL, err);
    return rc;
}

/* The etc files Docker writes per container, bound over the image's. */
static int mount_etc_files(const wb_linux_job *job, int root, wb_error *err) {
    static const char *const names[] = {"hostname", "hosts", "resolv.conf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char src[4200], dst[64];
        if (wb_path_join(src, sizeof src, err, "%s/%s", job->dir, names[i]) < 0) return -1;
        snprintf(dst, sizeof dst, "/etc/%s", names[i]);
        if (mount_at(root, dst, WB_ROOT_FILE, src, NULL, MS_BIND, NULL, err) < 0) return -1;
    }
    return 0;
}

/* --tmpfs PATH[:OPTIONS]: options as mount(8) takes them (ro, rw, noexec, exec, nosuid, suid,
 * nodev, dev, size=, mode=, uid=, gid=...); Docker's defaults are rw,noexec,nosuid. */
static int mount_tmpfs(const wb_linux_job *job, int root, wb_error *err) {
    static const struct {
        const char *name;
        unsigned long set, clear;
    } flag_words[] = {
        {"ro", MS_RDONLY, 0},   {"rw", 0, MS_RDONLY},     {"noexec", MS_NOEXEC, 0},
        {"exec", 0, MS_NOEXEC}, {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
        {"nodev", MS_NODEV, 0}, {"dev", 0, MS_NODEV},
    };
    for (size_t i = 0; i < job->ntmpfs; i++) {
        char spec[1024];
        snprintf(spec, sizeof spec, "%s", job->tmpfs[i]);
        char *colon = strchr(spec, ':');
        if (colon) *colon++ = '\0';
        if (spec[0] != '/')
            return wb_error_set(err, EINVAL, "invalid mount path for --tmpfs: %s (not absolute)",
                                spec);
        unsigned long flags = MS_NOEXEC | MS_NOSUID;
        char data[1024] = "";
        size_t used = 0;
        char *save = NULL;
        for (char *w = colon ? strtok_r(colon, ",", &save) : NULL; w;
             w = strtok_r(NULL, ",", &save)) {
            bool word = false;
            for (size_t k = 0; k < sizeof flag_words / sizeof flag_words[0]; k++)
                if (!strcmp(w, flag_words[k].name)) {
                    flags = (flags | flag_words[k].set) & ~flag_words[k].clear;
                    word = true;
                }
            if (!word)
                used +=
                    (size_t)snprintf(data + used, sizeof data - used, "%s%s", used ? "," : "", w);
            if (used >= sizeof data) return wb_error_set(err, EINVAL, "--tmpfs options too long");
        }
        if (mount_at(root, spec, WB_ROOT_DIR, "tmpfs", "tmpfs", flags, data[0] ? data : NULL, err) <
            0)
            return -1;
    }
    return 0;
}

static int mount_volumes(const wb_linux_job *job, int root, wb_error *err) {
    for (size_t i = 0; i < job->nmounts; i++) {
        const wb_mount *m = &job->mounts[i];
        struct stat st;
        if (stat(m->host, &st) != 0) return wb_error_sys(err, "bind source path `%s`", m->host);
        enum wb_root_kind kind = S_ISDIR(st.st_mode) ? WB_ROOT_DIR : WB_ROOT_FILE;
        int fd = wb_root_open(root, m->guest, kind, true);
        if (fd < 0) return wb_error_sys(err, "create the mount point %s", m->guest);
        char target[64];
        snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
        int rc = 0;
        if (mount(m->host, target, NULL, MS_BIND | MS_REC, NULL) != 0)
            rc = wb_error_sys(err, "bind `%s` on %s", m->host, m->guest);
        close(fd);
        if (rc < 0) return -1;
        if (m->read_only) {
            /* the new mount is on top of the O_PATH descriptor's: reopen the path */
            fd = wb_root_open(root, m->guest, WB_ROOT_ANY, false);
            if (fd < 0) return wb_error_sys(err, "open %s", m->guest);
            snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
            rc = remount_ro(target, MS_NOSUID | MS_NODEV, err);
            close(fd);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

/* The device nodes and links of a container's /dev (a tmpfs of its own). After pivot_root. */
/* --privileged: every device node of the host's /dev (its top level: host_dev, opened before
 * pivot_root) made again in the container's, as Docker gives a privileged container the host's
 * devices. */
static int copy_host_devices(int host_dev, wb_error *err) {
    int fd = fcntl(host_dev, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return wb_error_sys(err, "read the host's /dev");
    }
    struct dirent *e;
    int rc = 0;
    mode_t old = umask(0);
    while (rc == 0 && (e = readdir(d))) {
        struct stat st;
        if (fstatat(host_dev, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        if (mknod(path, st.st_mode, st.st_rdev) != 0) {
            if (errno != EEXIST) rc = wb_error_sys(err, "mknod %s", path);
            continue; /* one of ours (null, zero, ...) */
        }
        if (chown(path, st.st_uid, st.st_gid) != 0) {
            /* the node stays root's: still usable by a privileged container */
        }
    }
    umask(old);
    closedir(d);
    return rc;
}

static int populate_dev(const wb_linux_job *job, wb_error *err) {
    static const struct {
        const char *name;
        unsigned major, minor;
    } nodes[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                 {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
    mode_t old = umask(0);
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        if (mknod(nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) != 0) {
            umask(old);
            return wb_error_sys(err, "mknod %s", nodes[i].name);
        }
    umask(old);
    static const char *const links[][2] = {
        {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
        {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
        {"/proc/kcore", "/dev/core"},       {"pts/ptmx", "/dev/ptmx"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (!(links[i][0][0] == '/' && access(links[i][0], F_OK) != 0) && /* as runc: no dangling
                                                                           * /dev/core */
            symlink(links[i][0], links[i][1]) != 0)
            return wb_error_sys(err, "symlink %s", links[i][1]);
    char shm[64];
    snprintf(shm, sizeof shm, "mode=1777,size=%lldk",
             job->shm_size > 0 ? (job->shm_size + 1023) / 1024 : 65536LL);
    const struct {
        const char *dir, *fstype, *data;
        unsigned long flags;
    } mounts[] = {
        {"/dev/pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC},
        {"/dev/shm", "tmpfs", shm, MS_NOSUID | MS_NODEV | MS_NOEXEC},
        {"/dev/mqueue", "mqueue", NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC},
    };
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
        if (mkdir(mounts[i].dir, 0755) != 0) return wb_error_sys(err, "mkdir %s", mounts[i].dir);
        if (mount(mounts[i].fstype, mounts[i].dir, mounts[i].fstype, mounts[i].flags,
                  mounts[i].data) != 0)
            return wb_error_sys(err, "mount %s on %s", mounts[i].fstype, mounts[i].dir);
    }
    return 0;
}

static int mask_one(const char *p, wb_error *err) {
    struct stat st;
    if (lstat(p, &st) != 0) return 0;
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL)
                                : mount("/dev/null", p, NULL, MS_BIND, NULL);
    return r != 0 ? wb_error_sys(err, "mask %s", p) : 0;
}

/* Hide and protect what Docker hides and protects, and what a bundle's spec adds (paths the
 * kernel lacks are skipped). */
static int mask_paths(const wb_linux_job *job, wb_error *err) {
    for (size_t i = 0; i < sizeof masked_paths / sizeof masked_paths[0]; i++)
        if (mask_one(masked_paths[i], err) < 0) return -1;
    for (size_t i = 0; i < job->nmasked; i++) {
        bool done = false; /* a tmpfs over a tmpfs would be harmless, a second bind not needed */
        for (size_t k = 0; k < sizeof masked_paths / sizeof masked_paths[0]; k++)
            done = done || !strcmp(job->masked[i], masked_paths[k]);
        if (!done && mask_one(job->masked[i], err) < 0) return -1;
    }
    for (size_t i = 0; i < job->nreadonly; i++) {
        const char *p = job->readonly[i];
        bool done = false; /* Docker's, made read-only below */
        for (size_t k = 0; k < sizeof readonly_paths / sizeof readonly_paths[0]; k++)
            done = done || !strcmp(p, readonly_paths[k]);
        if (done || access(p, F_OK) != 0) continue;
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) return wb_error_sys(err, "bind %s", p);
        if (remount_ro(p, MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0) return -1;
    }
    for (size_t i = 0; i < sizeof readonly_paths / sizeof readonly_paths[0]; i++) {
        const char *p = readonly_paths[i];
        if (access(p, F_OK) != 0) continue;
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) return wb_error_sys(err, "bind %s", p);
        if (remount_ro(p, MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0) return -1;
    }
    return 0;
}

int wb_linux_mount_root(const wb_linux_job *job, wb_error *err) {
    /* nothing of this reaches the host: private below the new namespace's root */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return wb_error_sys(err, "make mounts private");
    char root[4200];
    if (wb_path_join(root, sizeof root, err, "%s/rootfs", job->dir) < 0) return -1;
    if (mount_root(job, root, err) < 0) return -1;
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) return wb_error_sys(err, "open the container's root");
    /* --privileged: the host's /dev, read after pivot_root through this descriptor */
    int host_dev = job->privileged ? open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    int rc = -1;
    if (mount_at(rfd, "/proc", WB_ROOT_DIR, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                 err) < 0 ||
        mount_sys(job, rfd, err) < 0 || mount_cgroups(rfd, err) < 0 ||
        mount_at(rfd, "/dev", WB_ROOT_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                 "mode=755,size=65536k", err) < 0 ||
        (!job->root_dir && mount_etc_files(job, rfd, err) < 0) ||
        mount_volumes(job, rfd, err) < 0 || mount_tmpfs(job, rfd, err) < 0)
        goto out;
    if (job->in_container_hook && job->in_container_hook(job->hook_ctx, "createContainer", err) < 0)
        goto out;
    /* the root becomes "/" and the host's tree is let go of */
    if (fchdir(rfd) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) {
        wb_error_sys(err, "pivot_root");
        goto out;
    }
    if (umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
        wb_error_sys(err, "detach the host's root");
        goto out;
    }
    if (populate_dev(job, err) < 0 || (host_dev >= 0 && copy_host_devices(host_dev, err) < 0) ||
        (!job->privileged && mask_paths(job, err) < 0))
        goto out;
    rc = 0;
out:
    if (host_dev >= 0) close(host_dev);
    close(rfd);
    return rc;
}

int wb_linux_finish_root(const wb_linux_job *job, wb_error *err) {
    const char *wd = job->workdir && *job->workdir ? job->workdir : "/";
    int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return wb_error_sys(err, "open /");
    int fd = wb_root_open(root, wd, WB_ROOT_DIR, true);
    int saved = errno;
    close(root);
    if (fd < 0) {
        errno = saved;
        return wb_error_sys(err, "mkdir %s", wd);
    }
    close(fd);
    if (job->read_only_root && remount_ro("/", 0, err) < 0) return -1;
    if (chdir(wd) != 0) return wb_error_sys(err, "chdir to the working directory %s", wd);
    return 0;
}
