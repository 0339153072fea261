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
#include "cli/gotemplate.h"
#include "cli/table.h"
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

static json_t *row_json(const row *r) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", r->repo, "Tag", r->tag,
                     "ID", r->id, "Digest", r->digest, "CreatedSince", r->created, "CreatedAt",
                     r->created_at, "Size", r->size);
}

static int by_created_desc(const void *a, const void *b) {
    const wb_image_record *x = a, *y = b;
    return (x->created < y->created) - (x->created > y->created);
}

int wb_cmd_images(int argc, char **argv) {
    bool quiet = false, all = false, no_trunc = false, digests = false, dangling_only = false;
    const char *format = NULL, *filter_ref = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            quiet = true;
        else if (!strcmp(a, "-a") || !strcmp(a, "--all"))
            all = true;
        else if (!strcmp(a, "--no-trunc"))
            no_trunc = true;
        else if (!strcmp(a, "--digests"))
            digests = true;
        else if (!strcmp(a, "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strncmp(a, "--format=", 9))
            format = a + 9;
        else if ((!strcmp(a, "-f") || !strcmp(a, "--filter")) && i + 1 < argc) {
            const char *f = argv[++i];
            if (!strcmp(f, "dangling=true"))
                dangling_only = true;
            else if (!strncmp(f, "reference=", 10))
                filter_ref = f + 10;
            else {
                wb_cli_error("invalid filter '%s' (supported: dangling=true, reference=NAME)", f);
                return 1;
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            puts(
                "Usage:  wasmbox images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\n"
                "Options:\n  -a, --all        Show all images\n      --digests    Show digests\n"
                "  -f, --filter     dangling=true or reference=NAME\n"
                "      --format     Format output using a Go template (or 'table TEMPLATE')\n"
                "      --no-trunc   Don't truncate output\n  -q, --quiet      Only show image IDs");
            return 0;
        } else if (a[0] != '-' && !filter_ref)
            filter_ref = a;
        else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
    (void)all;
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
            wb_time_format(recs[i].created, -1, r.created_at, sizeof r.created_at);
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
    } else if (format && strncmp(format, "table", 5) != 0) {
        for (size_t i = 0; i < nrows && rc == 0; i++) {
            json_t *j = row_json(&rows[i]);
            if (wb_gotemplate_render(format, j, stdout, &err) < 0) {
                wb_cli_error("%s", err.msg);
                rc = 1;
            }
            putchar('\n');
            json_decref(j);
        }
    } else {
        wb_table table;
        wb_table_init(&table, digests ? 6 : 5);
        const char *hdr[] = {"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"};
        const char *hdr_nd[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
        wb_table_add(&table, digests ? hdr : hdr_nd);
        for (size_t i = 0; i < nrows; i++) {
            const char *r[] = {rows[i].repo, rows[i].tag,     rows[i].digest,
                               rows[i].id,   rows[i].created, rows[i].size};
            const char *r_nd[] = {rows[i].repo, rows[i].tag, rows[i].id, rows[i].created,
                                  rows[i].size};
            wb_table_add(&table, digests ? r : r_nd);
        }
        wb_table_print(&table, stdout);
        wb_table_release(&table);
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
    bool artifact = img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI;
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

int wb_cmd_image_inspect(int argc, char **argv) {
    const char *format = NULL;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if ((!strcmp(a, "-f") || !strcmp(a, "--format")) && first + 1 < argc)
            format = argv[++first];
        else if (!strncmp(a, "--format=", 9))
            format = a + 9;
        else if (!strcmp(a, "--type") && first + 1 < argc) {
            if (strcmp(argv[++first], "image") != 0) {
                wb_cli_error("inspecting %s objects is not available yet", argv[first]);
                return 1;
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            puts("Usage:  wasmbox image inspect [OPTIONS] IMAGE [IMAGE...]\n\n"
                 "Display detailed information on one or more images\n\nOptions:\n"
                 "  -f, --format string   Format output using a Go template");
            return 0;
        } else {
            wb_cli_error("unknown flag: %s", a);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox image inspect\" requires at least 1 argument.");
        return 1;
    }
    wb_images *s = open_store();
    if (!s) return 1;
    json_t *all = json_array();
    int rc = 0;
    for (int i = first; i < argc; i++) {
        wb_image_record rec;
        wb_error err;
        if (wb_images_resolve(s, argv[i], &rec, &err) < 0) {
            wb_cli_error("%s", err.msg); /* "No such image: NAME", as Docker */
            rc = 1;
            continue;
        }
        json_t *doc = inspect_doc(s, &rec, &err);
        wb_image_record_release(&rec);
        if (!doc) {
            wb_cli_error("%s", err.msg);
            rc = 1;
            continue;
        }
        json_array_append_new(all, doc);
    }
    if (format) {
        for (size_t i = 0; i < json_array_size(all); i++) {
            wb_error err;
            if (wb_gotemplate_render(format, json_array_get(all, i), stdout, &err) < 0) {
                wb_cli_error("%s", err.msg);
                rc = 1;
                break;
            }
            putchar('\n');
        }
    } else {
        char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        puts(text ? text : "[]");
        free(text);
    }
    json_decref(all);
    wb_images_close(s);
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

int wb_cmd_rmi(int argc, char **argv) {
    bool force = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-f") || !strcmp(argv[first], "--force"))
            force = true;
        else if (!strcmp(argv[first], "--no-prune"))
            continue;
        else if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
            puts("Usage:  wasmbox rmi [OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images\n\n"
                 "Options:\n  -f, --force   Force removal of the image");
            return 0;
        } else {
            wb_cli_error("unknown flag: %s", argv[first]);
            return 1;
        }
    }
    if (first >= argc) {
        wb_cli_error("\"wasmbox rmi\" requires at least 1 argument.");
        return 1;
    }
    wb_images *s = open_store();
    if (!s) return 1;
    int rc = 0;
    for (int i = first; i < argc; i++) rc |= remove_one(s, argv[i], force, NULL);
    wb_images_close(s);
    return rc;
}

/* ---- tag ---- */

int wb_cmd_tag(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("Usage:  wasmbox tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]");
        return 0;
    }
    if (argc != 3) {
        wb_cli_error("\"wasmbox tag\" requires exactly 2 arguments.");
        return 1;
    }
    wb_ref target;
    wb_error err;
    if (wb_ref_parse(argv[2], &target, &err) < 0) {
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
    int rc = 0;
    if (wb_images_resolve(s, argv[1], &rec, &err) < 0) {
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

int wb_cmd_image_prune(int argc, char **argv) {
    bool all = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
            all = true;
        else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
            continue;
        else {
            wb_cli_error("unknown flag: %s", argv[i]);
            return 1;
        }
    }
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
    int rc = 0;
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
