/* Image commands: `images` / `image ls`, `image inspect` / `inspect`, `rmi` / `image rm`,
 * `tag`, `image prune` — with Docker's tables, JSON shape, messages and exit codes. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "oci/image.h"
#include "oci/reference.h"
#include "oci/store.h"
#include "runtime/container.h"

static wb_images *open_store(void) {
    wb_images *s;
    wb_error err;
    if (wb_images_open(wb_cli_root(), &s, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return NULL;
    }
    return s;
}

static void short_id(const char *digest, char out[13]) {
    snprintf(out, 13, "%s", wb_digest_valid(digest) ? wb_digest_hex(digest) : "<none>");
}

static void created_since(int64_t created, char *buf, size_t size) {
    if (!created) {
        snprintf(buf, size, "N/A");
        return;
    }
    char d[48];
    wb_cli_human_duration((int64_t)time(NULL) - created, d, sizeof d);
    snprintf(buf, size, "%.48s ago", d);
}

/* Split a stored "repo:tag" into familiar repository and tag. */
static void split_tag(const char *full, char *repo, size_t rsize, char *tag, size_t tsize) {
    char fam[WB_REF_MAX + 80];
    wb_ref_familiar(full, fam, sizeof fam);
    char *colon = strrchr(fam, ':');
    char *slash = strrchr(fam, '/');
    if (colon && (!slash || colon > slash)) {
        *colon = '\0';
        snprintf(tag, tsize, "%s", colon + 1);
    } else {
        snprintf(tag, tsize, "<none>");
    }
    snprintf(repo, rsize, "%s", fam);
}

/* ---- images / image ls ---- */

typedef struct row {
    char repo[WB_REF_MAX + 80], tag[160], id[80], digest[WB_DIGEST_MAX + 8], created[64], size[32];
    char created_at[64];
} row;

/* A row as Docker's images formatter has it (the fields of `--format json`, sorted); wasmbox
 * does not count containers or shared sizes: N/A, as Docker without --verbose data */
static json_t *row_json(const row *r) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "N/A",
                     "CreatedAt", r->created_at, "CreatedSince", r->created, "Digest", r->digest,
                     "ID", r->id, "Repository", r->repo, "SharedSize", "N/A", "Size", r->size,
                     "Tag", r->tag, "UniqueSize", "N/A", "VirtualSize", r->size);
}

static const wb_cli_column image_columns[] = {
    {"Containers", "CONTAINERS"},
    {"CreatedAt", "CREATED AT"},
    {"CreatedSince", "CREATED"},
    {"Digest", "DIGEST"},
    {"ID", "IMAGE ID"},
    {"Repository", "REPOSITORY"},
    {"SharedSize", "SHARED SIZE"},
    {"Size", "SIZE"},
    {"Tag", "TAG"},
    {"UniqueSize", "UNIQUE SIZE"},
    {"VirtualSize", "SIZE"},
};
#define IMAGES_TABLE "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
#define IMAGES_TABLE_DIGESTS                                                                       \
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

static const wb_cli_flag images_flags[] = {
    {'a', "all", NULL, "Show all images (default hides intermediate images)", false},
    {0, "digests", NULL, "Show digests", false},
    {'f', "filter", "filter",
     "Filter output based on conditions provided (dangling=true, "
     "reference=NAME)",
     false},
    {0, "format", "string", WB_CLI_LIST_FORMAT_HELP, false},
    {0, "no-trunc", NULL, "Don't truncate output", false},
    {'q', "quiet", NULL, "Only show image IDs", false},
    {0},
};
static const wb_cli_command images_cmd = {"images", "[OPTIONS] [REPOSITORY[:TAG]]", "List images",
                                          images_flags, false};
static const wb_cli_command image_ls_cmd = {"image ls", "[OPTIONS] [REPOSITORY[:TAG]]",
                                            "List images", images_flags, false};

static int by_created_desc(const void *a, const void *b) {
    const wb_image_record *x = a, *y = b;
    return (x->created < y->created) - (x->created > y->created);
}

int wb_cmd_images(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(strcmp(argv[0], "images") ? &image_ls_cmd : &images_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    bool quiet = wb_cli_flag_set(&a, "quiet"), no_trunc = wb_cli_flag_set(&a, "no-trunc");
    bool digests = wb_cli_flag_set(&a, "digests"), dangling_only = false;
    const char *format = wb_cli_flag_value(&a, "format"), *filter_ref = NULL;
    for (int k = 0; wb_cli_flag_nth(&a, "filter", k); k++) {
        const char *f = wb_cli_flag_nth(&a, "filter", k);
        if (!strcmp(f, "dangling=true"))
            dangling_only = true;
        else if (!strncmp(f, "reference=", 10))
            filter_ref = f + 10;
        else {
            wb_cli_error("invalid filter '%s' (supported: dangling=true, reference=NAME)", f);
            wb_cli_args_release(&a);
            return 1;
        }
    }
    if (a.npos > 1) {
        wb_cli_error("\"wasmbox images\" requires at most 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    if (a.npos && !filter_ref) filter_ref = a.pos[0];
    wb_cli_args_release(&a);
    wb_images *s = open_store();
    if (!s) return 1;
    wb_image_record *recs;
    size_t n;
    wb_error err;
    if (wb_images_list(s, &recs, &n, &err) < 0) {
        wb_cli_error("%s", err.msg);
        wb_images_close(s);
        return 1;
    }
    if (n) qsort(recs, n, sizeof *recs, by_created_desc); /* recs is NULL when n is 0 */
    char filter_repo[WB_REF_MAX] = "", filter_tag[160] = "";
    if (filter_ref) {
        wb_ref r;
        if (wb_ref_parse(filter_ref, &r, NULL) == 0) {
            char full[WB_REF_MAX + 80];
            wb_ref_repo(&r, full, sizeof full);
            wb_ref_familiar(full, filter_repo, sizeof filter_repo);
            if (strchr(filter_ref, ':')) snprintf(filter_tag, sizeof filter_tag, "%s", r.tag);
        }
    }
    row *rows = NULL;
    size_t nrows = 0;
    for (size_t i = 0; i < n; i++) {
        size_t ntags = recs[i].ntags ? recs[i].ntags : 1;
        if (dangling_only && recs[i].ntags) continue;
        for (size_t t = 0; t < ntags; t++) {
            row r;
            memset(&r, 0, sizeof r);
            if (recs[i].ntags) {
                split_tag(recs[i].tags[t], r.repo, sizeof r.repo, r.tag, sizeof r.tag);
            } else {
                /* an image pulled by digest has a repository but no tag */
                snprintf(r.repo, sizeof r.repo, "<none>");
                snprintf(r.tag, sizeof r.tag, "<none>");
                if (recs[i].nrepo_digests) {
                    char fam[WB_REF_MAX + 80];
                    wb_ref_familiar(recs[i].repo_digests[0], fam, sizeof fam);
                    char *at = strchr(fam, '@');
                    if (at) *at = '\0';
                    snprintf(r.repo, sizeof r.repo, "%s", fam);
                }
            }
            if (filter_repo[0] && strcmp(r.repo, filter_repo) != 0) continue;
            if (filter_tag[0] && strcmp(r.tag, filter_tag) != 0) continue;
            if (no_trunc)
                snprintf(r.id, sizeof r.id, "%s", recs[i].config);
            else
                short_id(recs[i].config, r.id);
            snprintf(r.digest, sizeof r.digest, "%s", "<none>");
            for (size_t k = 0; k < recs[i].nrepo_digests; k++) {
                const char *at = strchr(recs[i].repo_digests[k], '@');
                if (at) snprintf(r.digest, sizeof r.digest, "%s", at + 1);
            }
            created_since(recs[i].created, r.created, sizeof r.created);
            wb_cli_go_time(recs[i].created, r.created_at, sizeof r.created_at);
            wb_cli_human_size(recs[i].size, r.size, sizeof r.size);
            rows = wb_reallocarray(rows, nrows + 1, sizeof *rows);
            rows[nrows++] = r;
        }
    }
    int rc = 0;
    if (quiet) {
        /* each image once */
        for (size_t i = 0; i < nrows; i++) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++) seen = !strcmp(rows[k].id, rows[i].id);
            if (!seen) puts(rows[i].id);
        }
    } else {
        /* --digests adds the column to a table (Docker: unless the format has it already) */
        char *fmt = NULL;
        if (format && digests && !strncmp(format, "table", 5) && !strstr(format, "{{.Digest}}")) {
            size_t len = strlen(format) + 16;
            fmt = wb_malloc(len);
            snprintf(fmt, len, "%s\t{{.Digest}}", format);
        }
        wb_cli_list list;
        wb_cli_list_init(&list, fmt ? fmt : format, digests ? IMAGES_TABLE_DIGESTS : IMAGES_TABLE,
                         image_columns, sizeof image_columns / sizeof *image_columns);
        for (size_t i = 0; i < nrows && rc == 0; i++) {
            json_t *j = row_json(&rows[i]);
            if (wb_cli_list_row(&list, j, &err) < 0) rc = 1;
            json_decref(j);
        }
        if (rc == 0 && wb_cli_list_print(&list, stdout, &err) < 0) rc = 1;
        if (rc) wb_cli_error("template parsing error: %s", err.msg);
        wb_cli_list_release(&list);
        free(fmt);
    }
    free(rows);
    wb_image_records_free(recs, n);
    wb_images_close(s);
    return rc;
}

/* ---- image inspect ---- */

static json_t *strings_json(char **v, size_t n, bool familiar) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char fam[WB_REF_MAX + 80];
        if (familiar) wb_ref_familiar(v[i], fam, sizeof fam);
        json_array_append_new(a, json_string(familiar ? fam : v[i]));
    }
    return a;
}

/* Docker's image inspect document, in its key order. */
static json_t *inspect_doc(wb_images *s, const wb_image_record *rec, wb_error *err) {
    wb_image *img;
    if (wb_image_load(s, rec->manifest, &img, err) < 0) return NULL;
    json_t *c = img->config;
    json_t *doc = json_object();
    json_object_set_new(doc, "Id", json_string(rec->config));
    json_object_set_new(doc, "RepoTags", strings_json(rec->tags, rec->ntags, true));
    json_object_set_new(doc, "RepoDigests",
                        strings_json(rec->repo_digests, rec->nrepo_digests, true));
    json_object_set_new(doc, "Parent", json_string(""));
    json_object_set_new(doc, "Comment", json_string(""));
    const char *created = json_string_value(json_object_get(c, "created"));
    json_object_set_new(doc, "Created", json_string(created ? created : ""));
    json_object_set_new(doc, "DockerVersion", json_string(""));
    const char *author = json_string_value(json_object_get(c, "author"));
    json_object_set_new(doc, "Author", json_string(author ? author : ""));
    json_t *cfg = json_object_get(c, "config");
    json_object_set_new(doc, "Config", cfg ? json_deep_copy(cfg) : json_null());
    bool artifact = wb_image_is_wasm_artifact(img->wasm);
    json_object_set_new(doc, "Architecture",
                        json_string(artifact && !img->arch[0] ? "wasm" : img->arch));
    if (img->variant[0]) json_object_set_new(doc, "Variant", json_string(img->variant));
    json_object_set_new(doc, "Os", json_string(artifact && !img->os[0] ? "wasi" : img->os));
    json_object_set_new(doc, "Size", json_integer((json_int_t)rec->size));
    json_object_set_new(doc, "GraphDriver", json_pack("{s:n, s:s}", "Data", "Name", "wasmbox-oci"));
    json_t *layers = json_array();
    json_t *diff_ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
    for (size_t i = 0; i < json_array_size(diff_ids); i++)
        json_array_append(layers, json_array_get(diff_ids, i));
    json_object_set_new(doc, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
    json_object_set_new(doc, "Metadata", json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
    wb_image_free(img);
    return doc;
}

json_t *wb_cli_image_inspect_doc(wb_images **store, const char *name, wb_error *err) {
    if (!*store && wb_images_open(wb_cli_root(), store, err) < 0) return NULL;
    wb_image_record rec;
    if (wb_images_resolve(*store, name, &rec, err) < 0) return NULL; /* "No such image: NAME" */
    json_t *doc = inspect_doc(*store, &rec, err);
    wb_image_record_release(&rec);
    return doc;
}

void wb_cli_image_store_close(wb_images *store) {
    if (store) wb_images_close(store);
}

static const wb_cli_flag image_inspect_flags[] = {
    {'f', "format", "string", WB_CLI_INSPECT_FORMAT_HELP, false},
    {0},
};
static const wb_cli_command image_inspect_cmd = {
    "image inspect", "[OPTIONS] IMAGE [IMAGE...]",
    "Display detailed information on one or more images", image_inspect_flags, false};

int wb_cmd_image_inspect(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&image_inspect_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    if (a.npos < 1) {
        wb_cli_error("\"wasmbox image inspect\" requires at least 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    wb_images *s = NULL;
    json_t *all = json_array();
    int rc = 0;
    wb_error err;
    for (int i = 0; i < a.npos; i++) {
        json_t *doc = wb_cli_image_inspect_doc(&s, a.pos[i], &err);
        if (!doc) {
            wb_cli_error("%s", err.msg);
            rc = 1;
            if (!s) break; /* no store */
            continue;
        }
        json_array_append_new(all, doc);
    }
    if (wb_cli_inspect_print(wb_cli_flag_value(&a, "format"), all, stdout, &err) < 0) {
        wb_cli_error("template parsing error: %s", err.msg);
        rc = 1;
    }
    json_decref(all);
    wb_cli_image_store_close(s);
    wb_cli_args_release(&a);
    return rc;
}

/* ---- rmi / image rm ---- */

static int remove_one(wb_images *s, const char *arg, bool force, uint64_t *freed) {
    wb_image_record rec;
    wb_error err;
    if (wb_images_resolve(s, arg, &rec, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    /* by name, with other names left: only untag */
    wb_ref r;
    char full[WB_REF_MAX + 80] = "";
    bool by_name = wb_ref_parse(arg, &r, NULL) == 0 && r.tag[0];
    if (by_name) wb_ref_full(&r, full, sizeof full);
    bool tagged_by_arg = false;
    for (size_t i = 0; i < rec.ntags; i++) tagged_by_arg |= !strcmp(rec.tags[i], full);
    int rc = 0;
    char fam[WB_REF_MAX + 80];
    if (tagged_by_arg && rec.ntags > 1) {
        if (wb_images_untag(s, full, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        } else {
            wb_ref_familiar(full, fam, sizeof fam);
            printf("Untagged: %s\n", fam);
        }
        wb_image_record_release(&rec);
        return rc;
    }
    char user[WB_CONTAINER_ID_LEN + 1];
    if (!force && wb_containers_using_image(wb_cli_root(), rec.config, user)) {
        char id[13];
        short_id(rec.config, id);
        wb_cli_error("conflict: unable to remove repository reference \"%s\" (must force) - "
                     "container %.12s is using its referenced image %s",
                     arg, user, id);
        wb_image_record_release(&rec);
        return 1;
    }
    if (!force && !tagged_by_arg && rec.ntags > 1) {
        char id[13];
        short_id(rec.config, id);
        wb_cli_error("conflict: unable to delete %s (must be forced) - image is referenced in "
                     "multiple repositories",
                     id);
        wb_image_record_release(&rec);
        return 1;
    }
    if (wb_images_remove(s, rec.manifest, &err) < 0) {
        wb_cli_error("%s", err.msg);
        wb_image_record_release(&rec);
        return 1;
    }
    for (size_t i = 0; i < rec.ntags; i++) {
        wb_ref_familiar(rec.tags[i], fam, sizeof fam);
        printf("Untagged: %s\n", fam);
    }
    for (size_t i = 0; i < rec.nrepo_digests; i++) {
        wb_ref_familiar(rec.repo_digests[i], fam, sizeof fam);
        printf("Untagged: %s\n", fam);
    }
    printf("Deleted: %s\n", rec.config);
    uint64_t f = 0;
    if (wb_images_gc(s, &f, &err) < 0) wb_cli_error("%s", err.msg);
    if (freed) *freed += f;
    wb_image_record_release(&rec);
    return 0;
}

static const wb_cli_flag rmi_flags[] = {
    {'f', "force", NULL, "Force removal of the image", false},
    {0, "no-prune", NULL, "Do not delete untagged parents", false},
    {0},
};
static const wb_cli_command rmi_cmd = {"rmi", "[OPTIONS] IMAGE [IMAGE...]",
                                       "Remove one or more images", rmi_flags, false};
static const wb_cli_command image_rm_cmd = {"image rm", "[OPTIONS] IMAGE [IMAGE...]",
                                            "Remove one or more images", rmi_flags, false};

/* Parse an image command's line. Returns 0 to go on; else the command is over (help, a flag
 * error, fewer than min_args arguments) with *rc its exit status. */
static int parse_command(const wb_cli_command *cmd, int argc, char **argv, int min_args,
                         wb_cli_args *a, int *rc) {
    int p = wb_cli_parse(cmd, argc, argv, a);
    if (p == 0 && a->npos < min_args) {
        wb_cli_error("\"wasmbox %s\" requires at least %d argument%s.", cmd->name, min_args,
                     min_args == 1 ? "" : "s");
        p = 2;
    }
    if (p == 0) return 0;
    *rc = p == 1 ? 0 : p < 0 ? WB_EXIT_ENGINE : 1;
    wb_cli_args_release(a);
    return -1;
}

int wb_cmd_rmi(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(strcmp(argv[0], "rmi") ? &image_rm_cmd : &rmi_cmd, argc, argv, 1, &a, &rc) <
        0)
        return rc;
    bool force = wb_cli_flag_set(&a, "force");
    rc = 0;
    wb_images *s = open_store();
    if (s)
        for (int i = 0; i < a.npos; i++) rc |= remove_one(s, a.pos[i], force, NULL);
    wb_images_close(s);
    wb_cli_args_release(&a);
    return s ? rc : 1;
}
/* ---- tag ---- */

static const wb_cli_flag no_flags[] = {{0}};
static const wb_cli_command tag_cmd = {"tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                                       no_flags, false};

int wb_cmd_tag(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&tag_cmd, argc, argv, 0, &a, &rc) < 0) return rc;
    int npos = a.npos;
    char *src = npos > 0 ? a.pos[0] : NULL, *dst = npos > 1 ? a.pos[1] : NULL;
    wb_cli_args_release(&a);
    if (npos != 2) {
        wb_cli_error("\"wasmbox tag\" requires exactly 2 arguments.");
        return 1;
    }
    wb_ref target;
    wb_error err;
    if (wb_ref_parse(dst, &target, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    if (!target.tag[0]) {
        wb_cli_error("refusing to create a tag with a digest reference");
        return 1;
    }
    wb_images *s = open_store();
    if (!s) return 1;
    wb_image_record rec;
    rc = 0;
    if (wb_images_resolve(s, src, &rec, &err) < 0) {
        wb_cli_error("%s", err.msg);
        rc = 1;
    } else {
        char full[WB_REF_MAX + 80];
        wb_ref_full(&target, full, sizeof full);
        if (wb_images_tag(s, rec.manifest, full, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        }
        wb_image_record_release(&rec);
    }
    wb_images_close(s);
    return rc;
}

/* ---- image prune ---- */

static const wb_cli_flag prune_flags[] = {
    {'a', "all", NULL, "Remove all unused images, not just dangling ones", false},
    {'f', "force", NULL, "Do not prompt for confirmation", false},
    {0},
};
static const wb_cli_command prune_cmd = {"image prune", "[OPTIONS]", "Remove unused images",
                                         prune_flags, false};

int wb_cmd_image_prune(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (parse_command(&prune_cmd, argc, argv, 0, &a, &rc) < 0) return rc;
    bool all = wb_cli_flag_set(&a, "all");
    wb_cli_args_release(&a);
    wb_images *s = open_store();
    if (!s) return 1;
    wb_image_record *recs;
    size_t n;
    wb_error err;
    if (wb_images_list(s, &recs, &n, &err) < 0) {
        wb_cli_error("%s", err.msg);
        wb_images_close(s);
        return 1;
    }
    bool header = false;
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].ntags && !all) continue;
        if (wb_containers_using_image(wb_cli_root(), recs[i].config, NULL)) continue;
        if (wb_images_remove(s, recs[i].manifest, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
            continue;
        }
        if (!header) puts("Deleted Images:");
        header = true;
        char fam[WB_REF_MAX + 80];
        for (size_t t = 0; t < recs[i].ntags; t++) {
            wb_ref_familiar(recs[i].tags[t], fam, sizeof fam);
            printf("untagged: %s\n", fam);
        }
        printf("deleted: %s\n", recs[i].config);
    }
    uint64_t freed = 0;
    if (wb_images_gc(s, &freed, &err) < 0) {
        wb_cli_error("%s", err.msg);
        rc = 1;
    }
    if (header) putchar('\n');
    char size[32];
    wb_cli_human_size(freed, size, sizeof size);
    printf("Total reclaimed space: %s\n", size);
    wb_image_records_free(recs, n);
    wb_images_close(s);
    return rc;
}
