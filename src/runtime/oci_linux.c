/* A Linux bundle's process as linux_handler.c runs it (see oci_linux.h). */
#include "runtime/oci_linux.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"

/* The process object: config.json's "process", or an exec's process spec itself. */
static const json_t *process_of(const wb_oci_spec *p) {
    const json_t *pr = json_object_get(p->doc, "process");
    return pr ? pr : p->doc;
}

static bool has_option(const wb_oci_mount *m, const char *name) {
    for (size_t k = 0; k < m->noptions; k++)
        if (!strcmp(m->options[k], name)) return true;
    return false;
}

/* Destinations linux_handler makes itself (Docker's defaults), whatever the spec says. */
static bool made_by_handler(const wb_oci_mount *m) {
    static const char *const types[] = {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (m->type && !strcmp(m->type, types[i])) return true;
    static const char *const trees[] = {"/proc", "/sys"}; /* and what is below them */
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(trees[i]);
        if (!strncmp(m->destination, trees[i], n) &&
            (m->destination[n] == 0 || m->destination[n] == '/'))
            return true;
    }
    return !strcmp(m->destination, "/dev") || !strcmp(m->destination, "/dev/shm");
}

/* "PATH:opt,opt" for linux_handler's tmpfs mounts: the flag words it knows and key=value
 * options (mode=, size=, uid=...); propagation words and the like are not tmpfs's business. */
static char *tmpfs_spec(const wb_oci_mount *m) {
    static const char *const words[] = {"ro",     "rw",   "noexec", "exec",
                                        "nosuid", "suid", "nodev",  "dev"};
    char *out = NULL;
    size_t len = 0;
    wb_appendf(&out, &len, "%s:", m->destination);
    bool first = true;
    for (size_t k = 0; k < m->noptions; k++) {
        const char *o = m->options[k];
        bool keep = strchr(o, '=') != NULL;
        for (size_t w = 0; w < sizeof words / sizeof words[0] && !keep; w++)
            keep = !strcmp(o, words[w]);
        if (!keep) continue;
        wb_appendf(&out, &len, "%s%s", first ? "" : ",", o);
        first = false;
    }
    if (first) wb_appendf(&out, &len, "rw"); /* the spec's defaults, not Docker's noexec,nosuid */
    return out;
}

static int load_mounts(const wb_oci_spec *s, wb_oci_linux *out, wb_error *err) {
    out->mounts = wb_calloc(s->nmounts + 1, sizeof *out->mounts);
    out->tmpfs = wb_calloc(s->nmounts + 1, sizeof *out->tmpfs);
    size_t nb = 0;
    for (size_t i = 0; i < s->nmounts; i++) {
        const wb_oci_mount *m = &s->mounts[i];
        if (m->destination[0] != '/')
            return wb_error_set(err, EINVAL,
                                "config.json: mounts[%zu].destination %s is not absolute", i,
                                m->destination);
        bool bind = (m->type && !strcmp(m->type, "bind")) || has_option(m, "bind") ||
                    has_option(m, "rbind");
        if (bind && strcmp(m->destination, "/dev/shm") != 0) {
            if (!m->source || m->source[0] != '/')
                return wb_error_set(err, EINVAL,
                                    "config.json: mounts[%zu]: a bind mount's source must be an "
                                    "absolute path",
                                    i);
            out->mounts[nb++] = (wb_mount){m->source, m->destination, has_option(m, "ro"), NULL};
            continue;
        }
        if (made_by_handler(m)) continue;
        if (m->type && !strcmp(m->type, "tmpfs")) {
            out->tmpfs[out->ntmpfs++] = tmpfs_spec(m);
            continue;
        }
        return wb_error_set(err, ENOTSUP,
                            "config.json: mounts[%zu]: a %s mount on %s is not supported", i,
                            m->type ? m->type : "(typeless)", m->destination);
    }
    out->job.mounts = out->mounts;
    out->job.nmounts = nb;
    out->job.tmpfs = out->tmpfs;
    out->job.ntmpfs = out->ntmpfs;
    return 0;
}

static int load_namespaces(const wb_oci_spec *s, wb_oci_linux *out, wb_error *err) {
    out->job.netns_fd = -1;
    out->job.host_network = true; /* no network entry: the host's */
    static const char *const joinable[] = {"pid", "ipc", "uts"};
    int *join[] = {&out->job.join_pid, &out->job.join_ipc, &out->job.join_uts};
    for (size_t i = 0; i < s->nnamespaces; i++) {
        const wb_oci_namespace *n = &s->namespaces[i];
        size_t j = 0;
        while (j < 3 && strcmp(n->type, joinable[j]) != 0) j++;
        if (j < 3 && n->path) { /* another container's (a pod's, podman's --pid container:) */
            *join[j] = open(n->path, O_RDONLY | O_CLOEXEC);
            if (*join[j] < 0) return wb_error_sys(err, "the %s namespace %s", n->type, n->path);
            out->job.join_namespaces = true;
            continue;
        }
        if (!strcmp(n->type, "network")) {
            out->job.host_network = false;
            if (n->path) {
                out->job.netns_fd = open(n->path, O_RDONLY | O_CLOEXEC);
                if (out->job.netns_fd < 0)
                    return wb_error_sys(err, "the network namespace %s", n->path);
            }
        } else if (!strcmp(n->type, "user")) {
            return wb_error_set(err, ENOTSUP,
                                "config.json: user namespaces are not supported by wasmbox yet");
        } else if (n->path && strcmp(n->type, "cgroup") != 0) {
            return wb_error_set(err, ENOTSUP,
                                "config.json: joining an existing %s namespace (%s) is not "
                                "supported by wasmbox yet",
                                n->type, n->path);
        }
    }
    return 0;
}

static int load_process(const wb_oci_spec *proc, wb_oci_linux *out, wb_error *err) {
    const json_t *pr = process_of(proc);
    /* capabilities.bounding: the set (linux_security gives root the same permitted and
     * effective sets, and non-root users none, as Docker does) */
    const json_t *bounding = json_object_get(json_object_get(pr, "capabilities"), "bounding");
    size_t i;
    json_t *v;
    json_array_foreach(bounding, i, v) {
        const char *name = json_string_value(v);
        if (!name)
            return wb_error_set(
                err, EINVAL, "config.json: process.capabilities.bounding[%zu] is not a string", i);
        wb_caps one = 0;
        if (wb_caps_parse(name, &one, err) < 0) return -1;
        out->job.caps |= one;
    }
    const json_t *rl = json_object_get(pr, "rlimits");
    out->ulimits = wb_calloc(json_array_size(rl) + 1, sizeof *out->ulimits);
    json_array_foreach(rl, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        char name[32] = "";
        if (type && !strncmp(type, "RLIMIT_", 7) && strlen(type) < sizeof name + 7)
            for (size_t k = 0; type[7 + k]; k++)
                name[k] = (char)tolower((unsigned char)type[7 + k]);
        int res = name[0] ? wb_ulimit_resource(name) : -1;
        if (res < 0)
            return wb_error_set(err, EINVAL, "config.json: process.rlimits[%zu]: unknown type %s",
                                i, type ? type : "(none)");
        json_t *soft = json_object_get(v, "soft"), *hard = json_object_get(v, "hard");
        out->ulimits[out->job.nulimits++] =
            (wb_ulimit){res, json_is_integer(soft) ? json_integer_value(soft) : -1,
                        json_is_integer(hard) ? json_integer_value(hard) : -1};
    }
    out->job.ulimits = out->ulimits;
    out->job.no_new_privileges = json_is_true(json_object_get(pr, "noNewPrivileges"));
    snprintf(out->user, sizeof out->user, "%u:%u", proc->uid, proc->gid);
    const json_t *gids = json_object_get(json_object_get(pr, "user"), "additionalGids");
    out->groups = wb_calloc(json_array_size(gids) + 1, sizeof *out->groups);
    json_array_foreach(gids, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
            return wb_error_set(
                err, EINVAL, "config.json: process.user.additionalGids[%zu] is not a group id", i);
        out->groups[out->job.ngroups++] = (gid_t)json_integer_value(v);
    }
    out->job.groups = out->groups;
    out->job.exact_groups = true;
    out->job.user = out->user;
    out->job.argv = proc->args;
    out->job.argc = proc->nargs;
    out->job.env = proc->env;
    out->job.nenv = proc->nenv;
    out->job.workdir = proc->cwd;
    return 0;
}

/* A list of strings under linux.NAME, copied. */
static int string_list(const json_t *linux_obj, const char *name, char ***out, size_t *n,
                       wb_error *err) {
    const json_t *a = json_object_get(linux_obj, name);
    *out = wb_calloc(json_array_size(a) + 1, sizeof **out);
    *n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s || s[0] != '/')
            return wb_error_set(err, EINVAL, "config.json: linux.%s[%zu] is not an absolute path",
                                name, i);
        (*out)[(*n)++] = wb_strdup(s);
    }
    return 0;
}

int wb_oci_linux_prepare(const wb_oci_spec *s, const wb_oci_spec *proc, const char *dir,
                         wb_oci_linux *out, wb_error *err) {
    static const wb_lowers no_layers = {0};
    memset(out, 0, sizeof *out);
    out->job.netns_fd = out->job.join_pid = out->job.join_ipc = out->job.join_uts = -1;
    out->job.lowers = &no_layers;
    out->job.dir = dir;
    out->job.root_dir = s->root;
    out->job.read_only_root = s->root_readonly;
    if (s->hostname)
        snprintf(out->hostname, sizeof out->hostname, "%s", s->hostname);
    else if (gethostname(out->hostname, sizeof out->hostname - 1) != 0)
        out->hostname[0] = 0;
    out->job.hostname = out->hostname;
    const json_t *lin = json_object_get(s->doc, "linux");
    out->job.no_cgroup_ns = !wb_oci_spec_namespace(s, "cgroup");
    if (string_list(lin, "maskedPaths", &out->masked, &out->job.nmasked, err) < 0 ||
        string_list(lin, "readonlyPaths", &out->readonly, &out->job.nreadonly, err) < 0)
        return -1;
    out->job.masked = out->masked;
    out->job.readonly = out->readonly;
    if (load_namespaces(s, out, err) < 0 || load_mounts(s, out, err) < 0 ||
        load_process(proc, out, err) < 0)
        return -1;
    /* the bundle's own profile (an exec's too), instead of Docker's default one; last, being
     * the costly part (libseccomp) */
    const json_t *seccomp = json_object_get(lin, "seccomp");
    if (seccomp && !json_is_null(seccomp)) {
        out->seccomp = wb_calloc(1, sizeof *out->seccomp);
        if (wb_oci_seccomp_compile(seccomp, out->seccomp, err) < 0) return -1;
        if (out->seccomp->insns) out->job.seccomp_filter = out->seccomp;
    }
    return 0;
}

void wb_oci_linux_free(wb_oci_linux *l) {
    int fds[] = {l->job.netns_fd, l->job.join_pid, l->job.join_ipc, l->job.join_uts};
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0) close(fds[i]);
    for (size_t i = 0; i < l->ntmpfs; i++) free(l->tmpfs[i]);
    free(l->tmpfs);
    free(l->mounts);
    free(l->ulimits);
    free(l->groups);
    for (size_t i = 0; l->masked && l->masked[i]; i++) free(l->masked[i]);
    for (size_t i = 0; l->readonly && l->readonly[i]; i++) free(l->readonly[i]);
    free(l->masked);
    free(l->readonly);
    if (l->seccomp) wb_seccomp_prog_release(l->seccomp);
    free(l->seccomp);
    memset(l, 0, sizeof *l);
    l->job.netns_fd = l->job.join_pid = l->job.join_ipc = l->job.join_uts = -1;
}
