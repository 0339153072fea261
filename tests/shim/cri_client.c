/* A small CRI client for the tests (tests/linux/cri.sh): what the kubelet does to containerd's CRI
 * plugin, over its gRPC socket, to run a pod through a runtime handler (a RuntimeClass). gRPC is
 * HTTP/2 (libcurl, prior knowledge, over the unix socket) carrying length-prefixed protobuf
 * messages, written and read with the shim's own table-driven protobuf code (src/shim/pb.c);
 * the field numbers are those of k8s.io/cri-api's runtime/v1 api.proto. Test code: it prints what
 * the test compares and exits non-zero on any gRPC error, printing its status and message.
 *
 * Usage: cri-client SOCKET COMMAND ARGS...
 *   version                          runtime name, version and API version
 *   runp NAME HANDLER LOGDIR         a pod (host network) through runtime handler HANDLER;
 *                                    prints its id
 *   podstatus POD                    READY or NOTREADY
 *   create POD NAME LOGDIR IMAGE [CMD...]
 *                                    a container of IMAGE in pod POD (made by runp with NAME and
 *                                    LOGDIR), logging to LOGDIR/NAME.log; prints its id
 *   start ID | rm ID | stopp POD | rmp POD
 *   stop ID TIMEOUT
 *   status ID                        "STATE EXIT_CODE REASON" (CREATED, RUNNING, EXITED, UNKNOWN)
 *   exec ID CMD...                   ExecSync: the command's stdout and stderr, and its exit code
 *                                    as this program's
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "shim/pb.h"

#define FIELD(n, kind, type, member, name)                                                         \
    { n, kind, name, offsetof(type, member), 0, NULL }
#define STR(n, type, member) FIELD(n, WB_PB_STRING, type, member, #member)
#define MSG(n, type, member, sub)                                                                  \
    { n, WB_PB_MESSAGE, #member, offsetof(type, member), 0, &sub }
#define LIST(n, kind, type, member, count, sub)                                                    \
    { n, kind, #member, offsetof(type, member), offsetof(type, count), sub }
#define TABLE(table, proto, type, fields)                                                          \
    static const wb_pb_table table = {proto, sizeof(type), fields, sizeof fields / sizeof fields[0]}

/* ---- the messages (only the fields this client sets or reads) ---- */

typedef struct id_msg { /* every request and response made of one id: field 1 */
    char *id;
} id_msg;
static const wb_pb_field id_fields[] = {STR(1, id_msg, id)};
TABLE(id_table, "runtime.v1.(id)", id_msg, id_fields);

typedef struct version_resp {
    char *version, *runtime_name, *runtime_version, *runtime_api_version;
} version_resp;
static const wb_pb_field version_fields[] = {
    STR(1, version_resp, version),
    STR(2, version_resp, runtime_name),
    STR(3, version_resp, runtime_version),
    STR(4, version_resp, runtime_api_version),
};
TABLE(version_table, "runtime.v1.VersionResponse", version_resp, version_fields);

typedef struct pod_meta {
    char *name, *uid, *namespace_;
    uint32_t attempt;
} pod_meta;
static const wb_pb_field pod_meta_fields[] = {
    STR(1, pod_meta, name),
    STR(2, pod_meta, uid),
    STR(3, pod_meta, namespace_),
    FIELD(4, WB_PB_UINT32, pod_meta, attempt, "attempt"),
};
TABLE(pod_meta_table, "runtime.v1.PodSandboxMetadata", pod_meta, pod_meta_fields);

enum { NS_POD = 0, NS_CONTAINER = 1, NS_NODE = 2 };
typedef struct ns_option {
    int32_t network, pid, ipc;
} ns_option;
static const wb_pb_field ns_option_fields[] = {
    FIELD(1, WB_PB_INT32, ns_option, network, "network"),
    FIELD(2, WB_PB_INT32, ns_option, pid, "pid"),
    FIELD(3, WB_PB_INT32, ns_option, ipc, "ipc"),
};
TABLE(ns_option_table, "runtime.v1.NamespaceOption", ns_option, ns_option_fields);

typedef struct sandbox_security {
    ns_option *namespace_options;
} sandbox_security;
static const wb_pb_field sandbox_security_fields[] = {
    MSG(1, sandbox_security, namespace_options, ns_option_table),
};
TABLE(sandbox_security_table, "runtime.v1.LinuxSandboxSecurityContext", sandbox_security,
      sandbox_security_fields);

typedef struct linux_pod_config {
    char *cgroup_parent;
    sandbox_security *security_context;
} linux_pod_config;
static const wb_pb_field linux_pod_fields[] = {
    STR(1, linux_pod_config, cgroup_parent),
    MSG(2, linux_pod_config, security_context, sandbox_security_table),
};
TABLE(linux_pod_table, "runtime.v1.LinuxPodSandboxConfig", linux_pod_config, linux_pod_fields);

typedef struct pod_config {
    pod_meta *metadata;
    char *hostname, *log_directory;
    wb_pb_map_entry *labels;
    size_t nlabels;
    linux_pod_config *linux_;
} pod_config;
static const wb_pb_field pod_config_fields[] = {
    MSG(1, pod_config, metadata, pod_meta_table),
    STR(2, pod_config, hostname),
    STR(3, pod_config, log_directory),
    LIST(6, WB_PB_MAP_STRING, pod_config, labels, nlabels, NULL),
    MSG(8, pod_config, linux_, linux_pod_table),
};
TABLE(pod_config_table, "runtime.v1.PodSandboxConfig", pod_config, pod_config_fields);

typedef struct runp_req {
    pod_config *config;
    char *runtime_handler;
} runp_req;
static const wb_pb_field runp_fields[] = {
    MSG(1, runp_req, config, pod_config_table),
    STR(2, runp_req, runtime_handler),
};
TABLE(runp_table, "runtime.v1.RunPodSandboxRequest", runp_req, runp_fields);

typedef struct pod_status {
    char *id;
    pod_meta *metadata;
    int32_t state; /* SANDBOX_READY 0, SANDBOX_NOTREADY 1 */
} pod_status;
static const wb_pb_field pod_status_fields[] = {
    STR(1, pod_status, id),
    MSG(2, pod_status, metadata, pod_meta_table),
    FIELD(3, WB_PB_INT32, pod_status, state, "state"),
};
TABLE(pod_status_table, "runtime.v1.PodSandboxStatus", pod_status, pod_status_fields);
typedef struct pod_status_resp {
    pod_status *status;
} pod_status_resp;
static const wb_pb_field pod_status_resp_fields[] = {
    MSG(1, pod_status_resp, status, pod_status_table),
};
TABLE(pod_status_resp_table, "runtime.v1.PodSandboxStatusResponse", pod_status_resp,
      pod_status_resp_fields);

typedef struct ctr_meta {
    char *name;
    uint32_t attempt;
} ctr_meta;
static const wb_pb_field ctr_meta_fields[] = {
    STR(1, ctr_meta, name),
    FIELD(2, WB_PB_UINT32, ctr_meta, attempt, "attempt"),
};
TABLE(ctr_meta_table, "runtime.v1.ContainerMetadata", ctr_meta, ctr_meta_fields);

typedef struct image_spec {
    char *image;
} image_spec;
static const wb_pb_field image_spec_fields[] = {STR(1, image_spec, image)};
TABLE(image_spec_table, "runtime.v1.ImageSpec", image_spec, image_spec_fields);

typedef struct ctr_config {
    ctr_meta *metadata;
    image_spec *image;
    char **command;
    size_t ncommand;
    char *log_path;
} ctr_config;
static const wb_pb_field ctr_config_fields[] = {
    MSG(1, ctr_config, metadata, ctr_meta_table),
    MSG(2, ctr_config, image, image_spec_table),
    LIST(3, WB_PB_REPEATED_STRING, ctr_config, command, ncommand, NULL),
    STR(11, ctr_config, log_path),
};
TABLE(ctr_config_table, "runtime.v1.ContainerConfig", ctr_config, ctr_config_fields);

typedef struct create_req {
    char *pod_sandbox_id;
    ctr_config *config;
    pod_config *sandbox_config;
} create_req;
static const wb_pb_field create_fields[] = {
    STR(1, create_req, pod_sandbox_id),
    MSG(2, create_req, config, ctr_config_table),
    MSG(3, create_req, sandbox_config, pod_config_table),
};
TABLE(create_table, "runtime.v1.CreateContainerRequest", create_req, create_fields);

typedef struct stop_req {
    char *container_id;
    int64_t timeout;
} stop_req;
static const wb_pb_field stop_fields[] = {
    STR(1, stop_req, container_id),
    FIELD(2, WB_PB_INT64, stop_req, timeout, "timeout"),
};
TABLE(stop_table, "runtime.v1.StopContainerRequest", stop_req, stop_fields);

typedef struct ctr_status {
    char *id;
    int32_t state;
    int32_t exit_code;
    char *reason, *message, *log_path;
} ctr_status;
static const wb_pb_field ctr_status_fields[] = {
    STR(1, ctr_status, id),
    FIELD(3, WB_PB_INT32, ctr_status, state, "state"),
    FIELD(7, WB_PB_INT32, ctr_status, exit_code, "exit_code"),
    STR(10, ctr_status, reason),
    STR(11, ctr_status, message),
    STR(15, ctr_status, log_path),
};
TABLE(ctr_status_table, "runtime.v1.ContainerStatus", ctr_status, ctr_status_fields);
typedef struct ctr_status_resp {
    ctr_status *status;
} ctr_status_resp;
static const wb_pb_field ctr_status_resp_fields[] = {
    MSG(1, ctr_status_resp, status, ctr_status_table),
};
TABLE(ctr_status_resp_table, "runtime.v1.ContainerStatusResponse", ctr_status_resp,
      ctr_status_resp_fields);

typedef struct exec_req {
    char *container_id;
    char **cmd;
    size_t ncmd;
    int64_t timeout;
} exec_req;
static const wb_pb_field exec_fields[] = {
    STR(1, exec_req, container_id),
    LIST(2, WB_PB_REPEATED_STRING, exec_req, cmd, ncmd, NULL),
    FIELD(3, WB_PB_INT64, exec_req, timeout, "timeout"),
};
TABLE(exec_table, "runtime.v1.ExecSyncRequest", exec_req, exec_fields);
typedef struct exec_resp {
    wb_pb_bytes out, err;
    int32_t exit_code;
} exec_resp;
static const wb_pb_field exec_resp_fields[] = {
    FIELD(1, WB_PB_BYTES, exec_resp, out, "stdout"),
    FIELD(2, WB_PB_BYTES, exec_resp, err, "stderr"),
    FIELD(3, WB_PB_INT32, exec_resp, exit_code, "exit_code"),
};
TABLE(exec_resp_table, "runtime.v1.ExecSyncResponse", exec_resp, exec_resp_fields);

static const wb_pb_table empty_table = {"runtime.v1.(empty)", sizeof(id_msg), NULL, 0};

/* ---- gRPC over HTTP/2 ---- */

typedef struct buf {
    uint8_t *data;
    size_t len;
} buf;

typedef struct grpc_reply {
    buf body;
    int status; /* grpc-status; -1 when absent */
    char message[512];
} grpc_reply;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    buf *b = arg;
    size_t len = size * n;
    if (b->len + len > WB_PB_MAX_SIZE + 5) return 0; /* aborts the transfer */
    b->data = wb_realloc(b->data, b->len + len);
    memcpy(b->data + b->len, p, len);
    b->len += len;
    return len;
}

/* grpc-status and grpc-message come as trailers (or as headers in a trailers-only reply). */
static size_t on_header(char *p, size_t size, size_t n, void *arg) {
    grpc_reply *r = arg;
    size_t len = size * n;
    char line[600];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, p, l);
    line[l] = 0;
    line[strcspn(line, "\r\n")] = 0;
    if (strncasecmp(line, "grpc-status:", 12) == 0)
        r->status = atoi(line + 12);
    else if (strncasecmp(line, "grpc-message:", 13) == 0)
        snprintf(r->message, sizeof r->message, "%s", line + 13 + strspn(line + 13, " "));
    return len;
}

/* One unary call: req (of table t) to /runtime.v1.SERVICE/METHOD, the reply decoded into out (of
 * table rt). Exits on any failure, printing it. */
static void call(const char *sock, const char *service, const char *method, const wb_pb_table *t,
                 const void *req, const wb_pb_table *rt, void *out) {
    wb_error err = {0};
    uint8_t *msg;
    size_t len;
    if (wb_pb_encode_alloc(t, req, &msg, &len, &err) < 0) {
        fprintf(stderr, "cri-client: encode %s: %s\n", t->name, err.msg);
        exit(2);
    }
    uint8_t *frame = wb_malloc(len + 5);
    frame[0] = 0; /* not compressed */
    frame[1] = (uint8_t)(len >> 24);
    frame[2] = (uint8_t)(len >> 16);
    frame[3] = (uint8_t)(len >> 8);
    frame[4] = (uint8_t)len;
    memcpy(frame + 5, msg, len);
    free(msg);

    char url[256];
    snprintf(url, sizeof url, "http://localhost/runtime.v1.%s/%s", service, method);
    grpc_reply r = {.status = -1};
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/grpc");
    h = curl_slist_append(h, "TE: trailers");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, frame);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(len + 5));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(frame);
    if (rc != CURLE_OK) {
        fprintf(stderr, "cri-client: %s: %s\n", method, curl_easy_strerror(rc));
        exit(2);
    }
    if (r.status != 0) {
        fprintf(stderr, "cri-client: %s: grpc-status %d: %s\n", method, r.status, r.message);
        exit(2);
    }
    size_t mlen = 0;
    if (r.body.len >= 5)
        mlen = (size_t)r.body.data[1] << 24 | (size_t)r.body.data[2] << 16 |
               (size_t)r.body.data[3] << 8 | r.body.data[4];
    if (r.body.len < 5 || r.body.data[0] != 0 || mlen != r.body.len - 5) {
        fprintf(stderr, "cri-client: %s: a malformed reply of %zu bytes\n", method, r.body.len);
        exit(2);
    }
    if (wb_pb_decode(rt, r.body.data + 5, mlen, out, &err) < 0) {
        fprintf(stderr, "cri-client: %s: %s\n", method, err.msg);
        exit(2);
    }
    free(r.body.data);
}

/* ---- commands ---- */

/* The pod's configuration, the same for runp and for create (which passes it again). */
static void pod_fill(pod_config *c, pod_meta *m, linux_pod_config *l, sandbox_security *s,
                     ns_option *ns, const char *name, const char *logdir) {
    *m = (pod_meta){.name = (char *)name, .uid = (char *)name, .namespace_ = "wbt"};
    *ns = (ns_option){.network = NS_NODE, .pid = NS_POD, .ipc = NS_POD};
    *s = (sandbox_security){.namespace_options = ns};
    *l = (linux_pod_config){.security_context = s};
    *c = (pod_config){.metadata = m, .log_directory = (char *)logdir, .linux_ = l};
}

static const char *const state_names[] = {"CREATED", "RUNNING", "EXITED", "UNKNOWN"};

static int usage(void) {
    fprintf(stderr, "usage: cri-client SOCKET version|runp|podstatus|create|start|stop|status|"
                    "exec|rm|stopp|rmp ARGS...\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *sock = argv[1], *cmd = argv[2];
    char **a = argv + 3;
    int n = argc - 3;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    id_msg idm = {0}, empty = {0};
    if (strcmp(cmd, "version") == 0) {
        version_resp v = {0};
        call(sock, "RuntimeService", "Version", &empty_table, &empty, &version_table, &v);
        printf("%s %s %s\n", v.runtime_name, v.runtime_version, v.runtime_api_version);
        wb_pb_free(&version_table, &v);
    } else if (strcmp(cmd, "runp") == 0 && n == 3) {
        pod_config c;
        pod_meta m;
        linux_pod_config l;
        sandbox_security s;
        ns_option ns;
        pod_fill(&c, &m, &l, &s, &ns, a[0], a[2]);
        runp_req req = {.config = &c, .runtime_handler = a[1]};
        call(sock, "RuntimeService", "RunPodSandbox", &runp_table, &req, &id_table, &idm);
        printf("%s\n", idm.id);
    } else if (strcmp(cmd, "podstatus") == 0 && n == 1) {
        pod_status_resp r = {0};
        idm.id = a[0];
        call(sock, "RuntimeService", "PodSandboxStatus", &id_table, &idm, &pod_status_resp_table,
             &r);
        printf("%s\n", r.status && r.status->state == 0 ? "READY" : "NOTREADY");
        wb_pb_free(&pod_status_resp_table, &r);
        return 0;
    } else if (strcmp(cmd, "create") == 0 && n >= 4) {
        pod_config pc;
        pod_meta m;
        linux_pod_config l;
        sandbox_security s;
        ns_option ns;
        pod_fill(&pc, &m, &l, &s, &ns, a[1], a[2]);
        char log[256];
        snprintf(log, sizeof log, "%s.log", a[1]);
        ctr_meta cm = {.name = a[1]};
        image_spec img = {.image = a[3]};
        ctr_config cc = {.metadata = &cm,
                         .image = &img,
                         .command = a + 4,
                         .ncommand = (size_t)(n - 4),
                         .log_path = log};
        create_req req = {.pod_sandbox_id = a[0], .config = &cc, .sandbox_config = &pc};
        call(sock, "RuntimeService", "CreateContainer", &create_table, &req, &id_table, &idm);
        printf("%s\n", idm.id);
    } else if ((strcmp(cmd, "start") == 0 || strcmp(cmd, "rm") == 0 || strcmp(cmd, "stopp") == 0 ||
                strcmp(cmd, "rmp") == 0) &&
               n == 1) {
        const char *method = strcmp(cmd, "start") == 0   ? "StartContainer"
                             : strcmp(cmd, "rm") == 0    ? "RemoveContainer"
                             : strcmp(cmd, "stopp") == 0 ? "StopPodSandbox"
                                                         : "RemovePodSandbox";
        id_msg req = {.id = a[0]};
        call(sock, "RuntimeService", method, &id_table, &req, &empty_table, &empty);
        return 0;
    } else if (strcmp(cmd, "stop") == 0 && n == 2) {
        stop_req req = {.container_id = a[0], .timeout = atoll(a[1])};
        call(sock, "RuntimeService", "StopContainer", &stop_table, &req, &empty_table, &empty);
        return 0;
    } else if (strcmp(cmd, "status") == 0 && n == 1) {
        ctr_status_resp r = {0};
        idm.id = a[0];
        call(sock, "RuntimeService", "ContainerStatus", &id_table, &idm, &ctr_status_resp_table,
             &r);
        ctr_status *st = r.status;
        if (!st) {
            fprintf(stderr, "cri-client: ContainerStatus: no status\n");
            return 2;
        }
        printf("%s %d %s\n", st->state >= 0 && st->state < 4 ? state_names[st->state] : "?",
               (int)st->exit_code, st->reason ? st->reason : "-");
        wb_pb_free(&ctr_status_resp_table, &r);
        return 0;
    } else if (strcmp(cmd, "exec") == 0 && n >= 2) {
        exec_req req = {.container_id = a[0], .cmd = a + 1, .ncmd = (size_t)(n - 1), .timeout = 60};
        exec_resp r = {0};
        call(sock, "RuntimeService", "ExecSync", &exec_table, &req, &exec_resp_table, &r);
        if (r.out.len) fwrite(r.out.data, 1, r.out.len, stdout);
        if (r.err.len) fwrite(r.err.data, 1, r.err.len, stderr);
        int code = r.exit_code;
        wb_pb_free(&exec_resp_table, &r);
        return code;
    } else {
        return usage();
    }
    free(idm.id);
    curl_global_cleanup();
    return 0;
}
