/* A Linux bundle's spec mapped onto linux_handler's job (runtime/oci_linux.h): which mounts are
 * binds, tmpfs (with only the options tmpfs takes) or left to the handler; capabilities,
 * rlimits, groups, namespaces; and the refusals with their messages. */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

#include "base/fsutil.h"
#include "runtime/oci_hooks.h"
#include "runtime/oci_linux.h"

/* A bundle directory with config.json = text; returns its path (free it, and remove it). */
static char *bundle_with(const char *text) {
    char *d = strdup("/tmp/wb-ocil-XXXXXX");
    ASSERT_TRUE(mkdtemp(d) != NULL);
    char path[4200];
    wb_error err;
    ASSERT_EQ(wb_path_join(path, sizeof path, &err, "%s/config.json", d), 0);
    ASSERT_EQ(wb_write_file_atomic(path, text, strlen(text), 0600, false, &err), 0);
    return d;
}

#define SPEC_HEAD                                                                                  \
    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\", \"readonly\": true},"            \
    " \"hostname\": \"h1\","

TEST(oci_linux_maps_the_spec) {
    char *dir = bundle_with(
        SPEC_HEAD
        " \"process\": {\"args\": [\"sh\"], \"env\": [\"A=1\"], \"cwd\": \"/w\","
        "  \"user\": {\"uid\": 7, \"gid\": 8, \"additionalGids\": [10, 20]},"
        "  \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"]},"
        "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 20}],"
        "  \"noNewPrivileges\": true},"
        " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "  {\"destination\": \"/dev/shm\", \"type\": \"bind\", \"source\": \"/tmp\"},"
        "  {\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"/etc/hosts\","
        "   \"options\": [\"rbind\", \"ro\", \"rprivate\"]},"
        "  {\"destination\": \"/run\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
        "   \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"rprivate\", \"size=1m\"]},"
        "  {\"destination\": \"/t2\", \"type\": \"tmpfs\", \"options\": [\"private\"]}],"
        " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}],"
        "  \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"},"
        "  \"maskedPaths\": [\"/proc/kcore\"], \"readonlyPaths\": [\"/proc/sys\"]}}");
    wb_oci_spec s;
    wb_error err;
    ASSERT_EQ(wb_oci_spec_load(dir, &s, &err), 0);
    wb_oci_linux l;
    ASSERT_EQ(wb_oci_linux_prepare(&s, &s, "/state/c1", &l, &err), 0);
    ASSERT_STR_EQ(l.job.argv[0], "sh");
    ASSERT_STR_EQ(l.job.env[0], "A=1");
    ASSERT_STR_EQ(l.job.workdir, "/w");
    ASSERT_STR_EQ(l.job.user, "7:8");
    ASSERT_TRUE(l.job.exact_groups);
    ASSERT_EQ(l.job.ngroups, 2);
    ASSERT_EQ(l.job.groups[1], 20);
    ASSERT_U64_EQ(l.job.caps, (1u << 5) | 1u); /* KILL, CHOWN */
    ASSERT_EQ(l.job.nulimits, 1);
    ASSERT_EQ(l.job.ulimits[0].resource, RLIMIT_NOFILE);
    ASSERT_EQ(l.job.ulimits[0].soft, 10);
    ASSERT_EQ(l.job.ulimits[0].hard, 20);
    ASSERT_TRUE(l.job.no_new_privileges);
    /* the spec's own profile, compiled (runtime/oci_seccomp.h), instead of Docker's */
    ASSERT_TRUE(!l.job.seccomp);
    ASSERT_TRUE(l.job.seccomp_filter != NULL);
    ASSERT_TRUE(l.job.read_only_root);
    ASSERT_STR_CONTAINS(l.job.root_dir, "/rootfs");
    ASSERT_STR_EQ(l.job.hostname, "h1");
    ASSERT_STR_EQ(l.job.dir, "/state/c1");
    ASSERT_TRUE(!l.job.host_network);
    ASSERT_EQ(l.job.netns_fd, -1);
    ASSERT_TRUE(l.job.no_cgroup_ns); /* none listed */
    /* proc and /dev/shm are the handler's; the hosts file is a read-only bind */
    ASSERT_EQ(l.job.nmounts, 1);
    ASSERT_STR_EQ(l.job.mounts[0].guest, "/etc/hosts");
    ASSERT_TRUE(l.job.mounts[0].read_only);
    ASSERT_EQ(l.job.ntmpfs, 2);
    ASSERT_STR_EQ(l.job.tmpfs[0], "/run:nosuid,mode=755,size=1m");
    ASSERT_STR_EQ(l.job.tmpfs[1], "/t2:rw");
    ASSERT_EQ(l.job.nmasked, 1);
    ASSERT_STR_EQ(l.job.masked[0], "/proc/kcore");
    ASSERT_EQ(l.job.nreadonly, 1);
    wb_oci_linux_free(&l);
    wb_oci_spec_free(&s);
    ASSERT_EQ(wb_remove_tree(dir, &err), 0);
    free(dir);
}

/* The spec text's process and linux parts, refused with `want` in the message. */
static void refused(const char *process, const char *rest, const char *want) {
    char text[2048];
    snprintf(text, sizeof text, SPEC_HEAD " \"process\": %s%s}", process, rest);
    char *dir = bundle_with(text);
    wb_oci_spec s;
    wb_error err;
    ASSERT_EQ(wb_oci_spec_load(dir, &s, &err), 0);
    wb_oci_linux l;
    ASSERT_EQ(wb_oci_linux_prepare(&s, &s, "/state/c1", &l, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, want);
    ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
    wb_oci_linux_free(&l);
    wb_oci_spec_free(&s);
    ASSERT_EQ(wb_remove_tree(dir, &err), 0);
    free(dir);
}

TEST(oci_linux_refusals) {
    const char *p = "{\"args\": [\"sh\"]}";
    refused(p, ", \"linux\": {\"namespaces\": [{\"type\": \"user\"}]}",
            "user namespaces are not supported by wasmbox yet");
    refused(p,
            ", \"linux\": {\"namespaces\": [{\"type\": \"mount\", \"path\": \"/proc/1/ns/mnt\"}]}",
            "joining an existing mount namespace (/proc/1/ns/mnt)");
    refused(p, ", \"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/no/such\"}]}",
            "the network namespace /no/such");
    refused("{\"args\": [\"sh\"], \"capabilities\": {\"bounding\": [\"CAP_FLY\"]}}", "",
            "unknown capability: \"CAP_FLY\"");
    refused("{\"args\": [\"sh\"], \"rlimits\": [{\"type\": \"RLIMIT_WINGS\", \"soft\": 1}]}", "",
            "process.rlimits[0]: unknown type RLIMIT_WINGS");
    refused("{\"args\": [\"sh\"], \"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [-1]}}",
            "", "process.user.additionalGids[0] is not a group id");
    refused(p, ", \"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"rel\"}]",
            "a bind mount's source must be an absolute path");
    refused(p, ", \"mounts\": [{\"destination\": \"x\", \"type\": \"tmpfs\"}]",
            "mounts[0].destination x is not absolute");
    refused(p, ", \"mounts\": [{\"destination\": \"/n\", \"type\": \"nfs\", \"source\": \"s:/\"}]",
            "a nfs mount on /n is not supported");
    refused(p, ", \"linux\": {\"maskedPaths\": [\"rel\"]}",
            "linux.maskedPaths[0] is not an absolute path");
}

/* Hooks (runtime/oci_hooks.h): malformed entries and the kinds run inside the container refused
 * at create; unknown kinds ignored. */
static void hooks_verdict_for(const char *hooks, bool linux_container, const char *want) {
    char text[2048];
    snprintf(text, sizeof text, SPEC_HEAD " \"process\": {\"args\": [\"sh\"]}, \"hooks\": %s}",
             hooks);
    char *dir = bundle_with(text);
    wb_oci_spec s;
    wb_error err;
    ASSERT_EQ(wb_oci_spec_load(dir, &s, &err), 0);
    if (want) {
        ASSERT_EQ(wb_oci_hooks_check(&s, linux_container, &err), -1);
        ASSERT_STR_CONTAINS(err.msg, want);
    } else {
        ASSERT_EQ(wb_oci_hooks_check(&s, linux_container, &err), 0);
    }
    wb_oci_spec_free(&s);
    ASSERT_EQ(wb_remove_tree(dir, &err), 0);
    free(dir);
}

static void hooks_verdict(const char *hooks, const char *want) {
    hooks_verdict_for(hooks, true, want);
}

TEST(oci_hooks_check) {
    hooks_verdict(
        "{\"prestart\": [{\"path\": \"/bin/true\", \"args\": [\"true\"], \"timeout\": 3}],"
        " \"poststop\": [], \"somedayHook\": 1}",
        NULL);
    hooks_verdict("[]", "hooks must be an object");
    hooks_verdict("{\"prestart\": {}}", "hooks.prestart must be an array");
    hooks_verdict("{\"prestart\": [{\"path\": \"true\"}]}",
                  "hooks.prestart[0].path must be an absolute path");
    hooks_verdict("{\"poststart\": [{\"path\": \"/bin/true\", \"args\": [1]}]}",
                  "hooks.poststart[0].args must be strings");
    hooks_verdict("{\"poststop\": [{\"path\": \"/bin/true\", \"timeout\": 0}]}",
                  "hooks.poststop[0].timeout must be positive");
    /* in-container hooks: a Linux container's, not a Wasm workload's */
    hooks_verdict("{\"startContainer\": [{\"path\": \"/bin/true\"}],"
                  " \"createContainer\": [{\"path\": \"/bin/true\"}]}",
                  NULL);
    hooks_verdict("{\"createContainer\": [{\"path\": \"true\"}]}",
                  "hooks.createContainer[0].path must be an absolute path");
    hooks_verdict_for("{\"startContainer\": [{\"path\": \"/bin/true\"}]}", false,
                      "startContainer hooks run inside a Linux container's process");
}

TEST(oci_linux_joins_namespaces_by_path) {
    char *dir = bundle_with(SPEC_HEAD " \"process\": {\"args\": [\"sh\"]},"
                                      " \"linux\": {\"namespaces\": [{\"type\": \"pid\", \"path\":"
                                      " \"/proc/self/ns/pid\"}, {\"type\": \"uts\", \"path\":"
                                      " \"/proc/self/ns/uts\"}, {\"type\": \"ipc\"}]}}");
    wb_oci_spec s;
    wb_error err;
    ASSERT_EQ(wb_oci_spec_load(dir, &s, &err), 0);
    wb_oci_linux l;
    ASSERT_EQ(wb_oci_linux_prepare(&s, &s, "/state/c1", &l, &err), 0);
    ASSERT_TRUE(l.job.join_namespaces);
    ASSERT_GE(l.job.join_pid, 0);
    ASSERT_GE(l.job.join_uts, 0);
    ASSERT_EQ(l.job.join_ipc, -1);   /* a new one */
    ASSERT_TRUE(l.job.host_network); /* no network entry */
    wb_oci_linux_free(&l);
    ASSERT_EQ(l.job.join_pid, -1);
    wb_oci_spec_free(&s);
    ASSERT_EQ(wb_remove_tree(dir, &err), 0);
    free(dir);
}
