/* Named volumes in the store: ROOT/volumes/<name>/{volume.json,_data}. */
#include "runtime/volume.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "runtime/container.h"
#include "runtime/rootpath.h"

#define MAX_VOLUME_JSON (1 << 20)

bool wb_volume_name_valid(const char *name) {
    size_t n = strlen(name);
    if (n < 2 || n > 255 || !isalnum((unsigned char)name[0])) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-') return false;
    return true;
}

static int volume_dir(const char *root, const char *name, const char *leaf, char *buf, size_t size,
                      wb_error *err) {
    return wb_path_join(buf, size, err, "%s/volumes/%s%s%s", root, name, leaf ? "/" : "",
                        leaf ? leaf : "");
}

int wb_volume_get(const char *root, const char *name, json_t **out, wb_error *err) {
    *out = NULL;
    if (!wb_volume_name_valid(name))
        return wb_error_set(err, EINVAL, "invalid volume name \"%s\"", name);
    char path[4200];
    if (volume_dir(root, name, "volume.json", path, sizeof path, err) < 0) return -1;
    uint8_t *data;
    size_t len;
    if (wb_read_file(path, MAX_VOLUME_JSON, &data, &len, err) < 0) {
        if (err && err->code == ENOENT) wb_error_set(err, ENOENT, "get %s: no such volume", name);
        return -1;
    }
    json_error_t jerr;
    *out = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return wb_error_set(err, EIO, "volume %s: corrupt volume.json: %s", name, jerr.text);
    }
    return 0;
}

int wb_volume_create(const char *root, const char *name, char *const *labels, size_t nlabels,
                     json_t **out, wb_error *err) {
    char generated[65];
    if (!name) {
        uint8_t r[32];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return wb_error_sys(err, "getrandom");
        for (int i = 0; i < 32; i++) snprintf(generated + 2 * i, 3, "%02x", r[i]);
        name = generated;
    }
    if (!wb_volume_name_valid(name))
        return wb_error_set(err, EINVAL,
                            "create %s: \"%s\" includes invalid characters for a local volume "
                            "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                            name, name);
    if (wb_volume_get(root, name, out, NULL) == 0) return 0; /* Docker: create is idempotent */
    char dir[4200], data[4200], rec[4200];
    if (volume_dir(root, name, NULL, dir, sizeof dir, err) < 0 ||
        volume_dir(root, name, "_data", data, sizeof data, err) < 0 ||
        volume_dir(root, name, "volume.json", rec, sizeof rec, err) < 0)
        return -1;
    if (wb_mkdir_p(data, 0755, err) < 0) return -1;
    char now[64];
    wb_time_now(now, sizeof now);
    json_t *lab = json_object();
    for (size_t i = 0; i < nlabels; i++) {
        const char *eq = strchr(labels[i], '=');
        char *k = eq ? wb_strndup(labels[i], (size_t)(eq - labels[i])) : wb_strdup(labels[i]);
        json_object_set_new(lab, k, json_string(eq ? eq + 1 : ""));
        free(k);
    }
    json_t *v =
        json_pack("{s:s, s:s, s:s, s:s, s:o, s:{}, s:s}", "CreatedAt", now, "Driver", "local",
                  "Mountpoint", data, "Name", name, "Labels", lab, "Options", "Scope", "local");
    char *text = json_dumps(v, JSON_INDENT(4) | JSON_SORT_KEYS);
    int rc = text ? wb_write_file_atomic(rec, text, strlen(text), 0644, true, err)
                  : wb_error_set(err, ENOMEM, "serialise the volume");
    free(text);
    if (rc < 0) {
        json_decref(v);
        return -1;
    }
    *out = v;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int wb_volume_list(const char *root, char ***names, size_t *n, wb_error *err) {
    *names = NULL;
    *n = 0;
    char dir[4200];
    if (wb_path_join(dir, sizeof dir, err, "%s/volumes", root) < 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : wb_error_sys(err, "list `%s`", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!wb_volume_name_valid(e->d_name)) continue;
        *names = wb_reallocarray(*names, *n + 1, sizeof **names);
        (*names)[(*n)++] = wb_strdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(*names, *n, sizeof **names, by_name);
    return 0;
}

bool wb_volume_in_use(const char *root, const char *name, char id[65]) {
    char **ids;
    size_t n;
    bool used = false;
    if (wb_containers_list(root, &ids, &n, NULL) < 0) return false;
    for (size_t i = 0; i < n; i++) {
        wb_container *c;
        if (!used && wb_container_open(root, ids[i], &c, NULL) == 0) {
            const json_t *ms = json_object_get(c->doc, "Mounts");
            for (size_t k = 0; k < json_array_size(ms) && !used; k++) {
                const char *vn = json_string_value(json_object_get(json_array_get(ms, k), "Name"));
                if (vn && !strcmp(vn, name)) {
                    used = true;
                    snprintf(id, 65, "%s", c->id);
                }
            }
            wb_container_free(c);
        }
        free(ids[i]);
    }
    free(ids);
    return used;
}

int wb_volume_remove(const char *root, const char *name, bool force, wb_error *err) {
    json_t *v;
    if (wb_volume_get(root, name, &v, err) < 0) return -1;
    json_decref(v);
    char id[65];
    if (!force && wb_volume_in_use(root, name, id))
        return wb_error_set(err, EBUSY, "remove %s: volume is in use - [%s]", name, id);
    char dir[4200];
    if (volume_dir(root, name, NULL, dir, sizeof dir, err) < 0) return -1;
    return wb_remove_tree(dir, err);
}

void wb_volumes_remove_anonymous(const char *root, const json_t *mounts) {
    for (size_t i = 0; i < json_array_size(mounts); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(mounts, i), "Name"));
        json_t *v;
        if (!name || wb_volume_get(root, name, &v, NULL) < 0) continue;
        bool anonymous =
            json_object_get(json_object_get(v, "Labels"), WB_VOLUME_ANONYMOUS_LABEL) != NULL;
        json_decref(v);
        if (anonymous) wb_volume_remove(root, name, false, NULL);
    }
}

static bool dir_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
    closedir(d);
    return empty;
}

typedef struct copy_up {
    const char *data_dir, *path;
} copy_up;

/* In the image's files seen merged at image_root. */
static int copy_from(const char *image_root, void *arg, wb_error *err) {
    const copy_up *cu = arg;
    const char *data_dir = cu->data_dir, *path = cu->path;
    int root = open(image_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return wb_error_sys(err, "open `%s`", image_root);
    int src = wb_root_open(root, path, WB_ROOT_DIR, false);
    close(root);
    if (src < 0) return 0; /* nothing there in the image */
    char from[64];
    snprintf(from, sizeof from, "/proc/self/fd/%d/.", src);
    pid_t pid = fork();
    if (pid < 0) {
        close(src);
        return wb_error_sys(err, "fork");
    }
    if (pid == 0) {
        /* the descriptor must survive into cp: it names the source */
        fcntl(src, F_SETFD, 0);
        execlp("cp", "cp", "-a", "--", from, data_dir, (char *)NULL);
        _exit(127);
    }
    close(src);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wb_error_set(err, EIO, "copy the image's %s into the volume (cp -a)", path);
    return 0;
}

int wb_volume_copy_up(const char *data_dir, const wb_lowers *image, const char *path,
                      wb_error *err) {
    if (!image->n || !dir_empty(data_dir)) return 0;
    int fd = wb_lowers_open(image, path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return 0; /* nothing there */
    close(fd);
    copy_up cu = {data_dir, path};
    return wb_lowers_with_view(image, copy_from, &cu, err);
}
