/* RUN's command line, its build container, and COPY --chown's owners (see build_run.h). */
#include "oci/build_run.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/linux_handler.h"
#include "runtime/linux_security.h"

/* ---- the command ---- */

static void push(wb_run_command *c, const char *s) {
    c->argv = wb_reallocarray(c->argv, c->argc + 2, sizeof *c->argv);
    c->argv[c->argc++] = wb_strdup(s);
    c->argv[c->argc] = NULL;
}

/* Is the text exactly one heredoc marker (`<<EOF`, `<<-EOF`, `<<"EOF"`)? */
static bool heredoc_only(const char *text) {
    while (*text == ' ' || *text == '\t') text++;
    if (strncmp(text, "<<", 2) != 0) return false;
    const char *p = text + 2;
    if (*p == '-') p++;
    char q = (*p == '"' || *p == '\'') ? *p++ : 0;
    if (!isalpha((unsigned char)*p) && *p != '_') return false;
    while (isalnum((unsigned char)*p) || *p == '_') p++;
    if (q && *p++ != q) return false;
    while (*p == ' ' || *p == '\t') p++;
    return *p == '\0';
}

void wb__run_command_make(const wb_df_instr *in, char *const *shell, size_t nshell,
                          wb_run_command *out) {
    memset(out, 0, sizeof *out);
    if (in->exec_form) {
        for (size_t i = 0; i < in->nargs; i++) push(out, in->args[i]);
        if (!out->argc) push(out, "");
    } else if (in->nheredocs == 1 && heredoc_only(in->args[0]) &&
               !strncmp(in->heredocs[0].body, "#!", 2)) {
        /* the interpreter of the `#!` line, as the kernel splits it: path and one argument */
        const char *body = in->heredocs[0].body;
        const char *eol = strchr(body, '\n');
        char *line = wb_strndup(body + 2, eol ? (size_t)(eol - body - 2) : strlen(body + 2));
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        char *interp = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (*p) *p++ = '\0';
        while (*p == ' ' || *p == '\t') p++;
        size_t l = strlen(p);
        while (l && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r')) p[--l] = '\0';
        push(out, interp);
        if (*p) push(out, p);
        push(out, "/dev/stdin");
        free(line);
        out->script = wb_strdup(body);
    } else {
        for (size_t i = 0; i < nshell; i++) push(out, shell[i]);
        if (in->nheredocs == 1 && heredoc_only(in->args[0])) {
            /* BuildKit's "fake" heredoc: the body is the shell's script */
            push(out, in->heredocs[0].body);
        } else if (in->nheredocs) {
            /* the shell reads the heredocs itself */
            size_t len = strlen(in->args[0]) + 2;
            for (size_t i = 0; i < in->nheredocs; i++)
                len += strlen(in->heredocs[i].body) + strlen(in->heredocs[i].name) + 2;
            char *full = wb_malloc(len);
            strcpy(full, in->args[0]);
            for (size_t i = 0; i < in->nheredocs; i++) {
                strcat(full, "\n");
                strcat(full, in->heredocs[i].body);
                strcat(full, in->heredocs[i].name);
            }
            push(out, full);
            free(full);
        } else {
            push(out, in->args[0]);
        }
    }
    size_t len = 1;
    for (size_t i = 0; i < out->argc; i++) len += strlen(out->argv[i]) + 1;
    out->shown = wb_malloc(len);
    out->shown[0] = '\0';
    for (size_t i = 0; i < out->argc; i++) {
        if (i) strcat(out->shown, " ");
        strcat(out->shown, out->argv[i]);
    }
}

void wb__run_command_release(wb_run_command *c) {
    for (size_t i = 0; i < c->argc; i++) free(c->argv[i]);
    free(c->argv);
    free(c->script);
    free(c->shown);
    memset(c, 0, sizeof *c);
}

/* ---- the container ---- */

static void close_pair(int p[2]) {
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0) close(p[i]);
    p[0] = p[1] = -1;
}

int wb__run_container(const wb_run_job *job, int *exit_code, char *msg, size_t msgsize,
                      wb_error *err) {
    *exit_code = 125;
    msg[0] = '\0';
    wb_linux_job lj = {
        .argv = job->cmd->argv,
        .argc = job->cmd->argc,
        .env = job->env,
        .nenv = job->nenv,
        .lowers = job->lowers,
        .dir = job->dir,
        .workdir = job->workdir,
        .user = job->user,
        .hostname = job->hostname,
        .host_network = job->host_network,
        .netns_fd = -1,
        .caps = wb_caps_default(),
        .seccomp = true,
    };
    int in_fd = -1, null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0) return wb_error_sys(err, "open /dev/null");
    if (job->cmd->script) {
        char path[4200];
        if (wb_path_join(path, sizeof path, err, "%s/script", job->dir) < 0 ||
            wb_write_file_atomic(path, job->cmd->script, strlen(job->cmd->script), 0600, false,
                                 err) < 0) {
            close(null_fd);
            return -1;
        }
        in_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (in_fd < 0) {
            close(null_fd);
            return wb_error_sys(err, "open `%s`", path);
        }
    }
    int out = job->out_fd >= 0 ? job->out_fd : null_fd;
    int stdio[3] = {in_fd >= 0 ? in_fd : null_fd, out, out};
    int go[2] = {-1, -1}, rep[2] = {-1, -1};
    pid_t pid = -1;
    int rc = pipe2(go, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0
                 ? wb_error_sys(err, "pipe")
                 : wb_linux_spawn(&lj, stdio, go[0], rep[1], &pid, err);
    if (in_fd >= 0) close(in_fd);
    close(null_fd);
    if (rc < 0) {
        close_pair(go);
        close_pair(rep);
        return -1;
    }
    close(go[0]);
    close(rep[1]);
    ssize_t w = write(go[1], "g", 1);
    (void)w;
    close(go[1]);
    int code = 0;
    bool failed = wb_linux_read_report(rep[0], &code, msg, msgsize);
    close(rep[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (failed)
        *exit_code = code;
    else
        *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

/* ---- COPY --chown ---- */

static bool number(const char *s, unsigned long *out) {
    if (!*s) return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v > 0xfffffffeUL || !isdigit((unsigned char)*s)) return false;
    *out = v;
    return true;
}

/* The number in field 2 of the line whose field 0 is `name` (passwd and group share it). */
static bool lookup(const char *text, const char *name, unsigned long *id) {
    size_t nl = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (!strncmp(line, name, nl) && line[nl] == ':') {
            const char *f = strchr(line + nl + 1, ':'); /* past the password */
            if (f && (!eol || f < eol)) {
                char buf[32];
                size_t k = 0;
                for (f++; *f && *f != ':' && *f != '\n' && k < sizeof buf - 1; f++) buf[k++] = *f;
                buf[k] = '\0';
                if (number(buf, id)) return true;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

int wb__chown_parse(const char *spec, const char *passwd, const char *group, uid_t *uid, gid_t *gid,
                    wb_error *err) {
    const char *colon = strchr(spec, ':');
    char *user = colon ? wb_strndup(spec, (size_t)(colon - spec)) : wb_strdup(spec);
    const char *grp = colon ? colon + 1 : NULL;
    unsigned long u, g;
    int rc = 0;
    if (!*user || (grp && !*grp)) {
        rc = wb_error_set(err, EINVAL, "invalid --chown=%s (want USER[:GROUP])", spec);
    } else if (!number(user, &u) && !(passwd && lookup(passwd, user, &u))) {
        rc = wb_error_set(err, ENOENT,
                          "unable to convert uid/gid chown string to host mapping: can't find uid "
                          "for user %s: no such user: %s",
                          user, user);
    } else if (!grp) {
        g = u;
    } else if (!number(grp, &g) && !(group && lookup(group, grp, &g))) {
        rc = wb_error_set(err, ENOENT,
                          "unable to convert uid/gid chown string to host mapping: can't find gid "
                          "for group %s: no such group: %s",
                          grp, grp);
    }
    if (rc == 0) {
        *uid = (uid_t)u;
        *gid = (gid_t)g;
    }
    free(user);
    return rc;
}
