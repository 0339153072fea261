/* Parallel blob downloads (curl multi, one thread): each blob streams into a store blob writer
 * that hashes as it writes; a stream longer than the descriptor says is cut at size + 1, a short
 * one or a wrong digest fails, and only a verified blob is committed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "registry/client.h"

#define DOWNLOAD_BUFFER (512L << 10)

typedef struct job {
    wb__reg_fetch *item;
    wb__reg_client *c;
    wb__progress *p;
    CURL *h;
    struct curl_slist *hdrs;
    wb_blob_writer *w;
    uint64_t got;
    long status;
    wb__reg_resp resp;          /* headers, and the body of an error answer */
    char why[WB_ERROR_MSG_MAX]; /* why the transfer was stopped from the callback */
    wb_error werr;
    bool write_failed;
    bool reauthed;
    char errbuf[CURL_ERROR_SIZE];
    char url[4096];
} job;

static size_t on_data(char *buf, size_t size, size_t nitems, void *userdata) {
    job *j = userdata;
    size_t len = size * nitems;
    if (!j->status) wb__reg_curl(j->c)->curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->status);
    if (j->status != 200) {
        /* an error answer: keep its body for the message */
        wb__reg_resp *r = &j->resp;
        size_t room = WB__REG_ERROR_BODY_MAX - r->len;
        size_t take = len < room ? len : room;
        r->body = wb_realloc(r->body, r->len + take + 1);
        memcpy(r->body + r->len, buf, take);
        r->len += take;
        r->body[r->len] = '\0';
        return take;
    }
    if (j->got + len > j->item->size) {
        snprintf(j->why, sizeof j->why,
                 "blob %s is longer than its declared %llu bytes: the registry sent more; "
                 "stopped there",
                 j->item->digest, (unsigned long long)j->item->size);
        return 0;
    }
    if (wb_blob_writer_write(j->w, buf, len, &j->werr) < 0) {
        j->write_failed = true;
        return 0;
    }
    j->got += len;
    wb__progress_set(j->p, j->item->row, "Downloading", j->got, j->item->size);
    return len;
}

static void job_release(job *j, CURLM *m) {
    const wb_libcurl *cu = wb__reg_curl(j->c);
    if (j->h) {
        cu->curl_multi_remove_handle(m, j->h);
        cu->curl_easy_cleanup(j->h);
        j->h = NULL;
    }
    cu->curl_slist_free_all(j->hdrs);
    j->hdrs = NULL;
    wb_blob_writer_abort(j->w);
    j->w = NULL;
    wb__reg_resp_release(&j->resp);
}

static int job_start(job *j, wb_images *s, CURLM *m, wb_error *err) {
    const wb_libcurl *cu = wb__reg_curl(j->c);
    wb__reg_fetch *it = j->item;
    if (wb_blob_writer_open(s, it->digest, (int64_t)it->size, &j->w, err) < 0) return -1;
    j->got = 0;
    j->status = 0;
    j->why[0] = '\0';
    j->write_failed = false;
    memset(&j->resp, 0, sizeof j->resp);
    j->resp.content_length = -1;
    char target[600];
    snprintf(target, sizeof target, "/v2/%s/blobs/%s", wb__reg_path(j->c), it->digest);
    wb__reg_url(j->c, target, j->url, sizeof j->url);
    j->h = cu->curl_easy_init();
    if (!j->h) return wb_error_set(err, ENOMEM, "curl_easy_init failed");
    wb__reg_common_opts(j->c, j->h, j->errbuf);
    cu->curl_easy_setopt(j->h, CURLOPT_URL, j->url);
    cu->curl_easy_setopt(j->h, CURLOPT_FOLLOWLOCATION, 1L);
    cu->curl_easy_setopt(j->h, CURLOPT_MAXREDIRS, 10L);
    cu->curl_easy_setopt(j->h, CURLOPT_BUFFERSIZE, DOWNLOAD_BUFFER);
    /* a Content-Length over the declared size is refused before any byte is read */
    cu->curl_easy_setopt(j->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)it->size);
    cu->curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_data);
    cu->curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
    cu->curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, wb__reg_on_header);
    cu->curl_easy_setopt(j->h, CURLOPT_HEADERDATA, &j->resp);
    cu->curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
    const char *auth = wb__reg_authorization(j->c);
    if (auth) j->hdrs = cu->curl_slist_append(j->hdrs, auth);
    cu->curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
    if (cu->curl_multi_add_handle(m, j->h) != CURLM_OK)
        return wb_error_set(err, ENOMEM, "curl_multi_add_handle failed");
    wb__progress_set(j->p, it->row, "Downloading", 0, it->size);
    return 0;
}

/* A finished transfer: 0 committed, 1 to be started again (after new auth), -1 failed. */
static int job_finish(job *j, CURLcode rc, wb_error *err) {
    wb__reg_fetch *it = j->item;
    const wb_libcurl *cu = wb__reg_curl(j->c);
    char short_id[16];
    snprintf(short_id, sizeof short_id, "%.12s", it->digest + 7);
    if (!j->status) cu->curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->status);
    if (j->why[0]) return wb_error_set(err, WB_REG_EPROTOCOL, "%s", j->why);
    if (j->write_failed) {
        *err = j->werr;
        return -1;
    }
    if (rc == CURLE_FILESIZE_EXCEEDED)
        return wb_error_set(err, WB_REG_EPROTOCOL,
                            "blob %s is longer than its declared %llu bytes (Content-Length %lld)",
                            it->digest, (unsigned long long)it->size,
                            (long long)j->resp.content_length);
    if (rc != CURLE_OK) {
        char got[32];
        wb__human_size(j->got, got, sizeof got);
        wb__reg_transport_error(j->c, rc, j->url, j->errbuf, err);
        return wb_error_wrap(err, "download %s (after %s)", it->digest, got);
    }
    if (j->status == 401 && !j->reauthed && j->resp.www_authenticate[0]) {
        j->reauthed = true;
        int a = wb__reg_reauthenticate(j->c, j->resp.www_authenticate, err);
        if (a < 0) return -1;
        if (a == 0) return 1;
    }
    if (j->status != 200) {
        char what[160];
        snprintf(what, sizeof what, "blob %s", it->digest);
        return wb__reg_fail(j->c, &j->resp, what, err);
    }
    if (j->got != it->size)
        return wb_error_set(err, WB_REG_EPROTOCOL,
                            "blob %s is truncated: got %llu bytes, expected %llu", it->digest,
                            (unsigned long long)j->got, (unsigned long long)it->size);
    wb__progress_set(j->p, it->row, "Verifying Checksum", it->size, 0);
    wb_blob_writer *w = j->w;
    j->w = NULL;
    if (wb_blob_writer_commit(w, NULL, err) < 0) return -1;
    wb__progress_set(j->p, it->row, "Download complete", it->size, 0);
    return 0;
}

int wb__reg_fetch_blobs(wb__reg_client *c, wb_images *s, wb__reg_fetch *items, size_t n,
                        int max_parallel, wb__progress *p, wb_error *err) {
    if (n == 0) return 0;
    const wb_libcurl *cu = wb__reg_curl(c);
    CURLM *m = cu->curl_multi_init();
    if (!m) return wb_error_set(err, ENOMEM, "curl_multi_init failed");
    if (max_parallel < 1) max_parallel = 3;
    job *jobs = wb_calloc(n, sizeof *jobs);
    size_t *queue = wb_calloc(n, sizeof *queue); /* indexes waiting to start */
    size_t qhead = 0, qtail = 0;
    for (size_t i = 0; i < n; i++) {
        jobs[i].item = &items[i];
        jobs[i].c = c;
        jobs[i].p = p;
        queue[qtail++] = i;
        if ((int)i >= max_parallel) wb__progress_set(p, items[i].row, "Waiting", 0, 0);
    }
    int rc = 0, active = 0;
    size_t done = 0;
    while (done < n) {
        while (active < max_parallel && qhead < qtail) {
            job *j = &jobs[queue[qhead++]];
            if (job_start(j, s, m, err) < 0) {
                rc = -1;
                goto out;
            }
            active++;
        }
        int running = 0;
        CURLMcode mc = cu->curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            rc = wb_error_set(err, EIO, "download: %s", cu->curl_multi_strerror(mc));
            goto out;
        }
        CURLMsg *msg;
        int left;
        while ((msg = cu->curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            job *j = NULL;
            cu->curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            CURLcode result = msg->data.result;
            int f = job_finish(j, result, err);
            job_release(j, m);
            active--;
            if (f < 0) {
                wb__progress_set(p, j->item->row, "Failed", 0, 0);
                rc = -1;
                goto out;
            }
            if (f == 1) {
                /* rare (a token that expired): the queue has room, each job is requeued once */
                queue[--qhead] = (size_t)(j - jobs);
                continue;
            }
            done++;
        }
        if (done < n && running) cu->curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
out:
    for (size_t i = 0; i < n; i++) job_release(&jobs[i], m);
    cu->curl_multi_cleanup(m);
    free(jobs);
    free(queue);
    return rc;
}
