/* runtime/volume.h — named volumes, as Docker's `local` driver keeps them: a directory
 * ROOT/volumes/<name>/_data that containers mount (`-v NAME:/path`), and its record
 * ROOT/volumes/<name>/volume.json (Docker's `volume inspect` shape: Name, Driver, Mountpoint,
 * CreatedAt, Labels, Options, Scope). A volume mounted for the first time while empty gets the
 * image's files at its mount point (Docker's copy-up). */
#ifndef WB_RUNTIME_VOLUME_H
#define WB_RUNTIME_VOLUME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "oci/layers.h"

/* Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (one character is refused too). */
bool wb_volume_name_valid(const char *name);

/* Create the volume (a 64-hex name when name is NULL), or find it when it exists: *out gets its
 * record (the caller decrefs). labels: "K=V". */
int wb_volume_create(const char *root, const char *name, char *const *labels, size_t nlabels,
                     json_t **out, wb_error *err);
/* The record of an existing volume; ENOENT: `no such volume`. */
int wb_volume_get(const char *root, const char *name, json_t **out, wb_error *err);
/* The names of every volume, sorted (the caller frees each and the array). */
int wb_volume_list(const char *root, char ***names, size_t *n, wb_error *err);
/* The ID of a container (of any state) that mounts it, or false. */
bool wb_volume_in_use(const char *root, const char *name, char id[65]);
/* Remove it: refused while a container uses it (Docker's `volume is in use - [ID]`) unless
 * force. */
int wb_volume_remove(const char *root, const char *name, bool force, wb_error *err);
/* The label Docker gives an anonymous volume (`-v /path`): removed with its container by `rm -v`
 * and `run --rm`. */
#define WB_VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"
/* After a container was removed: remove the anonymous volumes among its record's Mounts (a copy
 * taken before the removal); named ones stay. */
void wb_volumes_remove_anonymous(const char *root, const json_t *mounts);

/* Fill an empty volume's directory with the image's files at `path` (resolved inside them),
 * owners and modes kept; nothing when the volume holds anything already or the image has nothing
 * there. */
int wb_volume_copy_up(const char *data_dir, const wb_lowers *image, const char *path,
                      wb_error *err);

#endif
