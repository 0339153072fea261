/* Container records: ROOT/containers/<id>/container.json, and race-free names. */
#include "runtime/container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/network.h"

#define MAX_CONTAINER_JSON ((size_t)16 << 20)

static int random_id(char out[WB_CONTAINER_ID_LEN + 1], wb_error *err) {
    unsigned char b[32];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) return wb_error_sys(err, "getrandom");
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* Docker-style generated names: adjective_surname, 64 x 64 of them. A retry adds a random digit, as
 * Docker does; the caller falls back to the short ID when retries keep colliding. */
static void generate_name(char *buf, size_t size, int retry) {
    static const char *const left[64] = {
        "admiring",   "agile",     "amazing",    "awesome",  "blissful", "bold",      "brave",
        "busy",       "calm",      "charming",   "clever",   "cool",     "curious",   "dazzling",
        "determined", "eager",     "ecstatic",   "elastic",  "elegant",  "epic",      "exciting",
        "fervent",    "festive",   "focused",    "friendly", "gallant",  "gifted",    "gracious",
        "happy",      "hopeful",   "inspiring",  "jolly",    "jovial",   "keen",      "kind",
        "laughing",   "loving",    "lucid",      "magical",  "modest",   "musing",    "nice",
        "nifty",      "nostalgic", "optimistic", "peaceful", "pensive",  "practical", "priceless",
        "quirky",     "relaxed",   "romantic",   "serene",   "sharp",    "stoic",     "sweet",
        "tender",     "trusting",  "upbeat",     "vibrant",  "vigilant", "wizardly",  "youthful",
        "zealous"};
    static const char *const right[64] = {
        "agnesi",  "albattani",  "allen",    "archimedes", "babbage",  "bardeen",       "bell",
        "bhabha",  "boole",      "bose",     "brattain",   "cerf",     "chandrasekhar", "curie",
        "darwin",  "dijkstra",   "einstein", "euclid",     "euler",    "faraday",       "fermat",
        "fermi",   "feynman",    "franklin", "galileo",    "gauss",    "goldberg",      "hamilton",
        "hawking", "hodgkin",    "hopper",   "hypatia",    "jackson",  "johnson",       "kepler",
        "knuth",   "lamarr",     "leakey",   "liskov",     "lovelace", "mcclintock",    "meitner",
        "mendel",  "mirzakhani", "morse",    "newton",     "nobel",    "noether",       "pascal",
        "pasteur", "perlman",    "raman",    "ritchie",    "sammet",   "shannon",       "shockley",
        "tesla",   "thompson",   "torvalds", "turing",     "volhard",  "wirth",         "yonath",
        "zuse"};
    unsigned char r[3];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        unsigned p = (unsigned)getpid() * 2654435761u;
        r[0] = (unsigned char)p, r[1] = (unsigned char)(p >> 8), r[2] = (unsigned char)(p >> 16);
    }
    if (retry > 0)
        snprintf(buf, size, "%s_%s%d", left[r[0] % 64], right[r[1] % 64], r[2] % 10);
    else
        snprintf(buf, size, "%s_%s", left[r[0] % 64], right[r[1] % 64]);
}

static bool valid_name(const char *n) {
    /* Docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
    if (!isalnum((unsigned char)n[0]) || strlen(n) < 2 || strlen(n) > 200) return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-') return false;
    return true;
}

static json_t *strings(char *const *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *labels_object(char *const *labels, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(labels[i], '=');
        char *k = eq ? wb_strndup(labels[i], (size_t)(eq - labels[i])) : wb_strdup(labels[i]);
        json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
        free(k);
    }
    return o;
}

static char *record_text(const wb_container *c) {
    return json_dumps(c->doc, JSON_INDENT(2) | JSON_SORT_KEYS);
}

int wb_container_save(wb_container *c, wb_error *err) {
    char path[4096 + 128];
    if (wb_path_join(path, sizeof path, err, "%s/container.json", c->dir) < 0) return -1;
    char *text = record_text(c);
    if (!text) return wb_error_set(err, ENOMEM, "serialise container %s", c->id);
    /* container state is rewritten often and is not precious: rename is atomic, no fsync */
    int rc = wb_write_file_atomic(path, text, strlen(text), 0644, false, err);
    free(text);
    return rc;
}

/* The ID names/<name> holds into id ("" when there is none); true when it is a whole ID. */
static bool name_holder(const char *root, const char *name, char id[WB_CONTAINER_ID_LEN + 1]) {
    char path[4096 + 300];
    id[0] = '\0';
    if (wb_path_join(path, sizeof path, NULL, "%s/containers/names/%s", root, name) < 0)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, id, WB_CONTAINER_ID_LEN) : -1;
    if (fd >= 0) close(fd);
    id[n > 0 ? n : 0] = '\0';
    return n == WB_CONTAINER_ID_LEN;
}

/* The name is reserved by a hard link names/<name> -> the container's .name file, which holds its
 * ID: link() fails with EEXIST when the name is taken, and allocates no inode (see "spare
 * directories" below). */
__attribute__((noinline)) static int reserve_name(const char *root, const char *name,
                                                  const char *id_file, bool *taken, char *holder,
                                                  wb_error *err) {
    char dir[4096], path[4096 + 300];
    *taken = false;
    if (wb_path_join(dir, sizeof dir, err, "%s/containers/names", root) < 0) return -1;
    if (wb_path_join(path, sizeof path, err, "%s/%s", dir, name) < 0) return -1;
    int rc = link(id_file, path);
    if (rc != 0 && errno == ENOENT) { /* the first container: names/ itself */
        if (wb_mkdir_p(dir, 0755, err) < 0) return -1;
        rc = link(id_file, path);
    }
    if (rc == 0) return 0;
    if (errno != EEXIST) return wb_error_sys(err, "reserve the name `%s`", name);
    *taken = true;
    name_holder(root, name, holder);
    return 0;
}

static void release_name(const char *root, const char *name) {
    char path[4096 + 300];
    if (wb_path_join(path, sizeof path, NULL, "%s/containers/names/%s", root, name) < 0) return;
    unlink(path);
}

static void set_running(wb_container *c, int pid, int monitor_pid,
                        unsigned long long monitor_start);

/* ---- spare directories ----
 * This store's file system may be ext4 without a journal (as here), where allocating an inode
 * skips every inode freed in the last minutes: after thousands of containers, creating one file
 * took 1.6 ms. And creating and removing a directory costs far more than renaming one. So a
 * container's directory whose workload has ended is parked, not removed, as
 * ROOT/containers/.spare/N (N < SPARE_SLOTS), with its empty rootfs, its record's inode (.record)
 * and its name's (.name); the next create renames a spare into place, rewrites .name in place,
 * links its name to it and renames .record to container.json: no inode allocated or freed. Each
 * side checks the directory holds nothing else (a spare that does is removed), so no file of one
 * container can reach another. */
#define SPARE_SLOTS 4

static int spare_path(char *buf, size_t size, const char *root, int k) {
    return wb_path_join(buf, size, NULL, "%s/containers/.spare/%d", root, k);
}

/* Calls ok(dfd, name, d_type) for each entry of the directory `path` (relative to `at`) but .
 * and .., read straight with getdents64 into a small buffer (opendir would malloc 32 KiB each
 * time); false at the first entry refused, or when the directory cannot be read. */
static bool each_entry(int at, const char *path,
                       bool (*ok)(int dfd, const char *name, unsigned type)) {
    int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[1024] __attribute__((aligned(8)));
    bool good = true;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0) {
            good = good && n == 0;
            break;
        }
        for (long off = 0; good && off < n;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf + off);
            off += de->d_reclen;
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                good = ok(fd, de->d_name, de->d_type);
        }
        if (!good) break;
    }
    close(fd);
    return good;
}

static bool nothing_allowed(int dfd, const char *name, unsigned type) {
    (void)dfd, (void)name, (void)type;
    return false;
}

/* a spare's entries: an empty rootfs directory, .record, and a .name no name links to */
static bool spare_entry(int dfd, const char *name, unsigned type) {
    struct stat st;
    if (!strcmp(name, "rootfs")) {
        return type == DT_DIR && each_entry(dfd, "rootfs", nothing_allowed);
    }
    if (!strcmp(name, ".record")) return type == DT_REG;
    if (!strcmp(name, ".name"))
        return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
               st.st_nlink == 1;
    return false;
}

/* dir holds at most an empty rootfs directory, a .record file and a .name file that no name
 * links to */
static bool spare_clean(const char *dir) {
    return each_entry(AT_FDCWD, dir, spare_entry);
}

__attribute__((noinline)) static bool take_spare(const char *root, const char *dir) {
    char spare[4200];
    for (int k = 0; k < SPARE_SLOTS; k++) {
        if (spare_path(spare, sizeof spare, root, k) < 0) return false;
        if (wb_rename_noreplace(spare, dir) != 0) {
            if (errno == ENOENT) continue;
            return false;
        }
        if (spare_clean(dir)) return true;
        wb_remove_tree(dir, NULL); /* not a clean spare: a fresh directory instead */
        return false;
    }
    return false;
}

static bool park_spare(const wb_container *c) {
    if (!spare_clean(c->dir)) return false;
    char spare[4200];
    for (int k = 0; k < SPARE_SLOTS; k++) {
        if (spare_path(spare, sizeof spare, c->root, k) < 0) return false;
        if (wb_rename_noreplace(c->dir, spare) == 0) return true;
        if (errno == ENOENT && k == 0) { /* the first spare ever: .spare itself */
            char parent[4200];
            if (wb_path_join(parent, sizeof parent, NULL, "%s/containers/.spare", c->root) < 0)
                return false;
            if ((mkdir(parent, 0700) == 0 || errno == EEXIST) &&
                wb_rename_noreplace(c->dir, spare) == 0)
                return true;
        }
        if (errno != EEXIST) return false;
    }
    return false;
}

/* (take_spare, write_id_file, save_first and reserve_name are kept out of wb_container_create:
 * inlined, their path buffers made its frame 18 KiB, fresh stack pages at every start) */

/* The container's ID in its .name file: rewritten in place in a spare (it is always exactly
 * the ID's length), created in a fresh directory. */
__attribute__((noinline)) static int write_id_file(const wb_container *c, char *path, size_t size,
                                                   wb_error *err) {
    if (wb_path_join(path, size, err, "%s/.name", c->dir) < 0) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return wb_error_sys(err, "create `%s`", path);
    ssize_t w = pwrite(fd, c->id, WB_CONTAINER_ID_LEN, 0);
    close(fd);
    if (w != WB_CONTAINER_ID_LEN) return wb_error_sys(err, "write `%s`", path);
    return 0;
}

/* The first record: into a spare's .record, renamed to container.json (readers see it whole or
 * not at all); else as every later save. */
__attribute__((noinline)) static int save_first(wb_container *c, wb_error *err) {
    char rec[4200], path[4200];
    if (wb_path_join(rec, sizeof rec, err, "%s/.record", c->dir) < 0 ||
        wb_path_join(path, sizeof path, err, "%s/container.json", c->dir) < 0)
        return -1;
    int fd = open(rec, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return wb_container_save(c, err);
    char *text = record_text(c);
    size_t len = text ? strlen(text) : 0;
    bool ok = text && pwrite(fd, text, len, 0) == (ssize_t)len && ftruncate(fd, (off_t)len) == 0;
    close(fd);
    free(text);
    if (ok && rename(rec, path) == 0) return 0;
    unlink(rec);
    return wb_container_save(c, err);
}

int wb_container_create(const char *root, const wb_container_spec *spec, wb_container **out,
                        wb_error *err) {
    *out = NULL;
    wb_container *c = wb_calloc(1, sizeof *c);
    if (wb_path_join(c->root, sizeof c->root, err, "%s", root) < 0) goto fail;
    if (random_id(c->id, err) < 0) goto fail;
    if (spec->name) {
        const char *n = spec->name[0] == '/' ? spec->name + 1 : spec->name;
        if (!valid_name(n)) {
            wb_error_set(err, EINVAL,
                         "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                         spec->name);
            goto fail;
        }
        snprintf(c->name, sizeof c->name, "%s", n);
    }
    /* the directory, then the name (a link to its .name file) */
    if (wb_path_join(c->dir, sizeof c->dir, err, "%s/containers/%s", root, c->id) < 0) goto fail;
    if (!take_spare(root, c->dir) && mkdir(c->dir, 0700) != 0) {
        char parent[4200];
        if (errno != ENOENT) {
            wb_error_sys(err, "create `%s`", c->dir);
            goto fail;
        }
        if (wb_path_join(parent, sizeof parent, err, "%s/containers", root) < 0) goto fail;
        if (wb_mkdir_p(parent, 0755, err) < 0 || mkdir(c->dir, 0700) != 0) {
            wb_error_sys(err, "create `%s`", c->dir);
            goto fail;
        }
    }
    char id_file[4200];
    if (write_id_file(c, id_file, sizeof id_file, err) < 0) goto fail_dir;
    for (int attempt = 0;; attempt++) {
        if (!spec->name) {
            if (attempt < 6)
                generate_name(c->name, sizeof c->name, attempt);
            else /* generated names keep colliding: the short ID is free unless a user took it */
                snprintf(c->name, sizeof c->name, "%.12s", c->id);
        }
        bool taken;
        char holder[WB_CONTAINER_ID_LEN + 1];
        if (reserve_name(root, c->name, id_file, &taken, holder, err) < 0) {
            c->name[0] = '\0';
            goto fail_dir;
        }
        if (!taken) break;
        if (spec->name || attempt >= 6) {
            wb_error_set(err, EEXIST,
                         "Conflict. The container name \"/%s\" is already in use by container "
                         "\"%s\". You have to remove (or rename) that container to be able to "
                         "reuse that name.",
                         c->name, holder);
            c->name[0] = '\0';
            goto fail_dir;
        }
    }

    char created[64];
    wb_time_now(created, sizeof created);
    json_t *mounts = json_array(), *binds = json_array();
    for (size_t i = 0; i < spec->nmounts; i++) {
        const wb_mount *m = &spec->mounts[i];
        json_t *mj =
            json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", m->volume ? "volume" : "bind",
                      "Source", m->host, "Destination", m->guest, "Mode", m->read_only ? "ro" : "",
                      "RW", !m->read_only, "Propagation", m->volume ? "" : "rprivate");
        if (m->volume) {
            json_object_set_new(mj, "Name", json_string(m->volume));
            json_object_set_new(mj, "Driver", json_string("local"));
        }
        json_array_append_new(mounts, mj);
        const char *src = m->volume ? m->volume : m->host;
        size_t blen = strlen(src) + strlen(m->guest) + 5;
        char *bind = wb_malloc(blen);
        snprintf(bind, blen, "%s:%s%s", src, m->guest, m->read_only ? ":ro" : "");
        json_array_append_new(binds, json_string(bind));
        free(bind);
    }
    const char *path = spec->nentrypoint ? spec->entrypoint[0] : spec->ncmd ? spec->cmd[0] : "";
    json_t *args = json_array();
    for (size_t i = spec->nentrypoint ? 1 : 0; i < spec->nentrypoint; i++)
        json_array_append_new(args, json_string(spec->entrypoint[i]));
    for (size_t i = spec->nentrypoint ? 0 : 1; i < spec->ncmd; i++)
        json_array_append_new(args, json_string(spec->cmd[i]));
    char name[260];
    snprintf(name, sizeof name, "/%s", c->name);
    c->doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:i, s:s, s:s,"
        " s:{s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:s},"
        " s:{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:o, s:b, s:b, s:b, s:b},"
        " s:{s:s, s:{s:s, s:i}, s:b, s:o, s:s, s:I, s:I}, s:o}",
        "Id", c->id, "Name", name, "Created", created, "Path", path, "Args", args, "Image",
        spec->image_id ? spec->image_id : "", "ImageManifest",
        spec->image_manifest ? spec->image_manifest : "", "RestartCount", 0, "Platform",
        spec->platform ? spec->platform : "wasi", "Driver", "wasmbox",
        /* State */
        "State", "Status", "created", "Running", 0, "Paused", 0, "Restarting", 0, "OOMKilled", 0,
        "Dead", 0, "Removing", 0, "Pid", 0, "ExitCode", 0, "Error", "", "StartedAt",
        "0001-01-01T00:00:00Z", "FinishedAt", "0001-01-01T00:00:00Z",
        /* Config */
        "Config", "Hostname", "", "Image", spec->image_ref ? spec->image_ref : "", "Env",
        strings(spec->env, spec->nenv), "Cmd", strings(spec->cmd, spec->ncmd), "Entrypoint",
        strings(spec->entrypoint, spec->nentrypoint), "WorkingDir",
        spec->workdir ? spec->workdir : "", "User", spec->user ? spec->user : "", "Labels",
        labels_object(spec->labels, spec->nlabels), "Tty", spec->tty, "OpenStdin",
        spec->interactive, "AttachStdout", 1, "AttachStderr", 1,
        /* HostConfig */
        "HostConfig", "Runtime", spec->runtime ? spec->runtime : "io.containerd.wasmedge.v1",
        "RestartPolicy", "Name", spec->restart ? spec->restart : "no", "MaximumRetryCount",
        spec->restart_max, "AutoRemove", spec->auto_remove, "Binds", binds, "NetworkMode",
        spec->network ? spec->network : "none", "Memory", (json_int_t)spec->memory, "NanoCpus",
        (json_int_t)spec->nano_cpus, "Mounts", mounts);
    if (c->doc)
        json_object_set_new(json_object_get(c->doc, "HostConfig"), "ReadonlyRootfs",
                            json_boolean(spec->read_only_root));
    if (c->doc) {
        json_t *hc = json_object_get(c->doc, "HostConfig");
        json_object_set_new(hc, "CapAdd", strings(spec->cap_add, spec->ncap_add));
        json_object_set_new(hc, "CapDrop", strings(spec->cap_drop, spec->ncap_drop));
        json_object_set_new(hc, "SecurityOpt", strings(spec->security_opt, spec->nsecurity_opt));
        json_object_set_new(hc, "Privileged", json_boolean(spec->privileged));
        json_object_set_new(hc, "WasmEngine", json_string(spec->engine ? spec->engine : "auto"));
        json_object_set_new(hc, "MemorySwap", json_integer(spec->memory_swap));
        json_object_set_new(hc, "CpuShares", json_integer(spec->cpu_shares));
        json_object_set_new(hc, "PidsLimit", json_integer(spec->pids_limit));
        json_t *tmpfs = json_object(); /* Docker's shape: {"/path": "options"} */
        for (size_t i = 0; i < spec->ntmpfs; i++) {
            const char *colon = strchr(spec->tmpfs[i], ':');
            char *tpath = colon ? wb_strndup(spec->tmpfs[i], (size_t)(colon - spec->tmpfs[i]))
                                : wb_strdup(spec->tmpfs[i]);
            json_object_set_new(tmpfs, tpath, json_string(colon ? colon + 1 : ""));
            free(tpath);
        }
        json_object_set_new(hc, "Tmpfs", tmpfs);
        json_object_set_new(hc, "ShmSize",
                            json_integer(spec->shm_size ? spec->shm_size : 67108864));
        json_object_set_new(hc, "Init", json_boolean(spec->init));
        json_object_set_new(hc, "PortBindings",
                            spec->port_bindings ? json_deep_copy(spec->port_bindings)
                                                : json_object());
        if (spec->endpoints)
            json_object_set_new(
                c->doc, "NetworkingConfig",
                json_pack("{s:o}", "EndpointsConfig", json_deep_copy(spec->endpoints)));
        json_object_set_new(hc, "Ulimits",
                            spec->ulimits ? json_deep_copy(spec->ulimits) : json_array());
        const char *hk;
        json_t *hv;
        json_object_foreach((json_t *)spec->host_extra, hk, hv)
            json_object_set_new(hc, hk, json_deep_copy(hv));
        char shortid[13];
        snprintf(shortid, sizeof shortid, "%.12s", c->id);
        /* --network host: the host's name, as Docker */
        char host_name[256] = "";
        if (!spec->hostname && spec->network && !strcmp(spec->network, "host") &&
            gethostname(host_name, sizeof host_name - 1) != 0)
            host_name[0] = '\0';
        json_object_set_new(json_object_get(c->doc, "Config"), "Hostname",
                            json_string(spec->hostname ? spec->hostname
                                        : host_name[0] ? host_name
                                                       : shortid));
    }
    if (c->doc && json_object_size(spec->exposed_ports))
        json_object_set_new(json_object_get(c->doc, "Config"), "ExposedPorts",
                            json_deep_copy(spec->exposed_ports));
    const char *ck;
    json_t *cv;
    if (c->doc)
        json_object_foreach((json_t *)spec->config_extra, ck, cv)
            json_object_set_new(json_object_get(c->doc, "Config"), ck, json_deep_copy(cv));
    if (c->doc && spec->stop_timeout >= 0)
        json_object_set_new(json_object_get(c->doc, "Config"), "StopTimeout",
                            json_integer(spec->stop_timeout));
    if (!c->doc) {
        wb_error_set(err, ENOMEM, "build the container record");
        goto fail_name;
    }
    if (spec->start_here) { /* one write: the record is born running */
        set_running(c, (int)getpid(), (int)getpid(), 0);
        c->running_recorded = true;
    }
    if (save_first(c, err) < 0) goto fail_name;
    *out = c;
    return 0;
fail_name:
    release_name(root, c->name);
fail_dir:
    wb_remove_tree(c->dir, NULL);
fail:
    wb_container_free(c);
    return -1;
}

void wb_container_free(wb_container *c) {
    if (!c) return;
    json_decref(c->doc);
    free(c);
}

static int load(const char *root, const char *id, wb_container **out, wb_error *err) {
    wb_container *c = wb_calloc(1, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    char path[4096 + 128];
    uint8_t *data;
    size_t len;
    if (wb_path_join(c->root, sizeof c->root, err, "%s", root) < 0 ||
        wb_path_join(c->dir, sizeof c->dir, err, "%s/containers/%s", root, id) < 0 ||
        wb_path_join(path, sizeof path, err, "%s/container.json", c->dir) < 0 ||
        wb_read_file(path, MAX_CONTAINER_JSON, &data, &len, err) < 0) {
        wb_container_free(c);
        return -1;
    }
    json_error_t jerr;
    c->doc = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!json_is_object(c->doc)) {
        wb_error_set(err, EIO, "container %s: corrupt container.json: %s", id, jerr.text);
        wb_container_free(c);
        return -1;
    }
    const char *name = json_string_value(json_object_get(c->doc, "Name"));
    snprintf(c->name, sizeof c->name, "%s", name ? (name[0] == '/' ? name + 1 : name) : "");
    *out = c;
    return 0;
}

int wb_containers_list(const char *root, char ***ids, size_t *n, wb_error *err) {
    char dir[4096];
    *ids = NULL;
    *n = 0;
    if (wb_path_join(dir, sizeof dir, err, "%s/containers", root) < 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : wb_error_sys(err, "list `%s`", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strlen(de->d_name) != WB_CONTAINER_ID_LEN) continue;
        *ids = wb_reallocarray(*ids, *n + 1, sizeof **ids);
        (*ids)[(*n)++] = wb_strdup(de->d_name);
    }
    closedir(d);
    return 0;
}

static void free_ids(char **ids, size_t n) {
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

int wb_container_open(const char *root, const char *ref, wb_container **out, wb_error *err) {
    *out = NULL;
    /* a name */
    const char *name = ref[0] == '/' ? ref + 1 : ref;
    char id[WB_CONTAINER_ID_LEN + 1];
    if (!strchr(name, '/') && name_holder(root, name, id)) return load(root, id, out, err);
    /* an ID or a unique prefix */
    char **ids;
    size_t n;
    if (wb_containers_list(root, &ids, &n, err) < 0) return -1;
    const char *match = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < n; i++)
        if (*ref && !strncmp(ids[i], ref, strlen(ref))) {
            match = ids[i];
            matches++;
        }
    int rc;
    if (matches == 1)
        rc = load(root, match, out, err);
    else if (matches > 1)
        rc = wb_error_set(err, EINVAL, "Multiple IDs found with provided prefix: %s", ref);
    else
        rc = wb_error_set(err, ENOENT, "No such container: %s", ref);
    free_ids(ids, n);
    return rc;
}

unsigned long long wb_process_start_time(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    /* the command name may hold spaces and parentheses: fields resume after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    char state = p[2];
    if (state == 'Z' || state == 'X') return 0; /* a zombie has finished */
    unsigned long long start = 0;
    int field = 2;
    for (char *t = strtok(p + 1, " "); t; t = strtok(NULL, " ")) {
        if (++field == 22) {
            start = strtoull(t, NULL, 10);
            break;
        }
    }
    return start;
}

int wb_container_reload(wb_container *c, wb_error *err) {
    char path[4096 + 128];
    if (wb_path_join(path, sizeof path, err, "%s/container.json", c->dir) < 0) return -1;
    uint8_t *data;
    size_t len;
    if (wb_read_file(path, MAX_CONTAINER_JSON, &data, &len, err) < 0) return -1;
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return wb_error_set(err, EIO, "container %s: corrupt container.json: %s", c->id, jerr.text);
    }
    json_decref(c->doc);
    c->doc = doc;
    return 0;
}

static void set_running(wb_container *c, int pid, int monitor_pid,
                        unsigned long long monitor_start) {
    json_t *st = json_object_get(c->doc, "State");
    char now[64];
    wb_time_now(now, sizeof now);
    json_object_set_new(st, "Status", json_string("running"));
    json_object_set_new(st, "Running", json_true());
    json_object_set_new(st, "Restarting", json_false());
    json_object_set_new(st, "Pid", json_integer(pid));
    json_object_set_new(st, "MonitorPid", json_integer(monitor_pid));
    if (!monitor_start) monitor_start = wb_process_start_time(monitor_pid);
    json_object_set_new(st, "MonitorStart", json_integer((json_int_t)monitor_start));
    json_object_set_new(st, "ExitCode", json_integer(0));
    json_object_set_new(st, "Error", json_string(""));
    json_object_set_new(st, "StartedAt", json_string(now));
}

int wb_container_mark_running(wb_container *c, int pid, int monitor_pid,
                              unsigned long long monitor_start, wb_error *err) {
    set_running(c, pid, monitor_pid, monitor_start);
    return wb_container_save(c, err);
}

static void set_exited(wb_container *c, int exit_code, const char *error) {
    json_t *st = json_object_get(c->doc, "State");
    char now[64];
    wb_time_now(now, sizeof now);
    json_object_set_new(st, "Status", json_string("exited"));
    json_object_set_new(st, "Running", json_false());
    json_object_set_new(st, "Restarting", json_false());
    json_object_set_new(st, "Pid", json_integer(0));
    json_object_set_new(st, "ExitCode", json_integer(exit_code));
    json_object_set_new(st, "Error", json_string(error ? error : ""));
    json_object_set_new(st, "FinishedAt", json_string(now));
}

int wb_container_mark_exited(wb_container *c, int exit_code, const char *error, wb_error *err) {
    set_exited(c, exit_code, error);
    return wb_container_save(c, err);
}

/* Does the record's State name the same run (status, monitor, start) in both documents? */
static bool same_run(const json_t *a, const json_t *b) {
    static const char *const keys[] = {"Status", "MonitorPid", "MonitorStart", "StartedAt"};
    const json_t *sa = json_object_get(a, "State"), *sb = json_object_get(b, "State");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_equal(json_object_get(sa, keys[i]), json_object_get(sb, keys[i]))) return false;
    return true;
}

json_t *wb_container_inspect_doc(const wb_container *c) {
    json_t *doc = json_deep_copy(c->doc);
    json_t *st = json_object_get(doc, "State");
    if (!json_is_object(st)) return doc;
    char tier[16] = "", path[4300];
    if (!wb_container_is_linux(c) &&
        wb_path_join(path, sizeof path, NULL, "%s/%s", c->dir, WB_CONTAINER_ENGINE_FILE) == 0) {
        FILE *f = fopen(path, "re");
        if (f) {
            if (!fgets(tier, sizeof tier, f)) tier[0] = 0;
            tier[strcspn(tier, "\n")] = 0;
            fclose(f);
        }
    }
    json_object_set_new(st, "WasmEngine", json_string(tier));
    return doc;
}

bool wb_container_is_linux(const wb_container *c) {
    const char *rt =
        json_string_value(json_object_get(json_object_get(c->doc, "HostConfig"), "Runtime"));
    return rt && !strcmp(rt, "runc");
}

int wb_container_mark_vanished(wb_container *c, wb_error *err) {
    json_t *seen = json_deep_copy(c->doc);
    if (wb_container_reload(c, err) < 0) {
        json_decref(c->doc);
        c->doc = seen;
        set_exited(c, 137, WB_CONTAINER_VANISHED);
        return -1;
    }
    bool same = same_run(seen, c->doc);
    json_decref(seen);
    if (!same) return 1; /* another process recorded something since: c holds it now */
    set_exited(c, 137, WB_CONTAINER_VANISHED);
    return wb_container_save(c, err);
}

/* The name, if it is still this container's. */
static void release_own_name(const wb_container *c) {
    char id[WB_CONTAINER_ID_LEN + 1];
    if (name_holder(c->root, c->name, id) && !strcmp(id, c->id)) release_name(c->root, c->name);
}

/* The usual container directory: its record, its .name and .record files and an empty rootfs
 * (a Wasm artifact's, or an unmounted overlay's mount point). Anything else is left to a full
 * tree walk. */
static bool remove_usual_dir(const wb_container *c) {
    static const char *const files[] = {"container.json", ".record", ".name",
                                        WB_CONTAINER_ENGINE_FILE};
    char path[4096 + 128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (wb_path_join(path, sizeof path, NULL, "%s/%s", c->dir, files[i]) < 0) return false;
        if (unlink(path) != 0 && errno != ENOENT) return false;
    }
    if (wb_path_join(path, sizeof path, NULL, "%s/rootfs", c->dir) < 0) return false;
    if (rmdir(path) != 0 && errno != ENOENT) return false;
    return rmdir(c->dir) == 0;
}

int wb_container_remove(wb_container *c, wb_error *err) {
    wb_net_detach(c); /* what a killed monitor left: its namespace, addresses and rules */
    if (c->workload_reaped) {
        /* out of `ps` first (the record becomes .record), then the name, then the directory
         * is parked: once parked, a create may rewrite its .name at once */
        char rec[4200], path[4200];
        if (wb_path_join(rec, sizeof rec, NULL, "%s/.record", c->dir) == 0 &&
            wb_path_join(path, sizeof path, NULL, "%s/container.json", c->dir) == 0 &&
            rename(path, rec) == 0) {
            /* the tier of its last start (a spare holds nothing of it) */
            if (wb_path_join(path, sizeof path, NULL, "%s/" WB_CONTAINER_ENGINE_FILE, c->dir) == 0)
                unlink(path);
            release_own_name(c);
            if (park_spare(c)) return 0;
        }
    }
    if (!remove_usual_dir(c) && wb_remove_tree(c->dir, err) < 0) return -1;
    /* the name goes last: while it exists, nobody else can take it */
    release_own_name(c);
    return 0;
}

bool wb_containers_using_image(const char *root, const char *image_id, char *container_id) {
    char **ids;
    size_t n;
    bool used = false;
    if (wb_containers_list(root, &ids, &n, NULL) < 0) return false;
    for (size_t i = 0; i < n && !used; i++) {
        wb_container *c;
        if (load(root, ids[i], &c, NULL) < 0) continue;
        const char *img = json_string_value(json_object_get(c->doc, "Image"));
        if (img && !strcmp(img, image_id)) {
            used = true;
            if (container_id) snprintf(container_id, WB_CONTAINER_ID_LEN + 1, "%s", c->id);
        }
        wb_container_free(c);
    }
    free_ids(ids, n);
    return used;
}
