/* Docker-style reference parsing and normalisation (the distribution/reference grammar). */
#include "oci/reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int invalid(wb_error *err, const char *s, const char *why) {
    if (why) return wb_error_set(err, EINVAL, "invalid reference format: %s: \"%s\"", why, s);
    return wb_error_set(err, EINVAL, "invalid reference format: \"%s\"", s);
}

/* path component: [a-z0-9]+ separated by '.', '_', '__' or '-'+ */
static bool valid_component(const char *c, size_t n) {
    if (n == 0 || (!islower((unsigned char)c[0]) && !isdigit((unsigned char)c[0]))) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if (islower((unsigned char)ch) || isdigit((unsigned char)ch)) continue;
        if (ch == '.' || ch == '_' || ch == '-') {
            if (i + 1 >= n) return false;
            if (ch == '.' && (c[i + 1] == '.' || c[i + 1] == '_' || c[i + 1] == '-')) return false;
            if (ch == '_' && c[i + 1] == '_') {
                if (i + 2 >= n ||
                    !(islower((unsigned char)c[i + 2]) || isdigit((unsigned char)c[i + 2])))
                    return false;
                i++;
            }
            continue;
        }
        return false;
    }
    return true;
}

static bool valid_tag(const char *t) {
    size_t n = strlen(t);
    if (n == 0 || n > 128) return false;
    if (!(isalnum((unsigned char)t[0]) || t[0] == '_')) return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
            return false;
    return true;
}

static bool valid_domain(const char *d) {
    size_t n = strlen(d);
    if (n == 0 || n >= 256) return false;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!(isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':' || c == '[' ||
              c == ']'))
            return false;
    }
    return true;
}

int wb_ref_parse(const char *s, wb_ref *out, wb_error *err) {
    char buf[WB_REF_MAX];
    memset(out, 0, sizeof *out);
    if (!s || !*s || strlen(s) >= sizeof buf) return invalid(err, s ? s : "", NULL);
    snprintf(buf, sizeof buf, "%s", s);

    char *at = strchr(buf, '@');
    if (at) {
        *at = '\0';
        if (!wb_digest_valid(at + 1)) return invalid(err, s, "invalid digest");
        snprintf(out->digest, sizeof out->digest, "%s", at + 1);
    }
    /* the tag follows the last ':' after the last '/' */
    char *slash = strrchr(buf, '/');
    char *colon = strrchr(slash ? slash : buf, ':');
    if (colon) {
        *colon = '\0';
        if (!valid_tag(colon + 1)) return invalid(err, s, NULL);
        snprintf(out->tag, sizeof out->tag, "%s", colon + 1);
    }
    /* the domain is the first component if it looks like a host */
    char *name = buf;
    char *first_slash = strchr(buf, '/');
    if (first_slash) {
        size_t fl = (size_t)(first_slash - buf);
        bool hostlike = memchr(buf, '.', fl) || memchr(buf, ':', fl) ||
                        (fl == 9 && !strncmp(buf, "localhost", 9)) || memchr(buf, '[', fl) != NULL;
        bool has_upper = false;
        for (size_t i = 0; i < fl; i++) has_upper |= isupper((unsigned char)buf[i]);
        if (hostlike || has_upper) {
            *first_slash = '\0';
            if (!valid_domain(buf)) return invalid(err, s, NULL);
            snprintf(out->domain, sizeof out->domain, "%s", buf);
            name = first_slash + 1;
        }
    }
    if (!out->domain[0]) snprintf(out->domain, sizeof out->domain, "docker.io");
    if (!strcmp(out->domain, "index.docker.io"))
        snprintf(out->domain, sizeof out->domain, "docker.io");
    /* path components */
    for (const char *c = name; *c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        for (size_t i = 0; i < n; i++)
            if (isupper((unsigned char)c[i]))
                return invalid(err, s, "repository name must be lowercase");
        if (!valid_component(c, n)) return invalid(err, s, NULL);
        if (!e) break;
        c = e + 1;
        if (!*c) return invalid(err, s, NULL);
    }
    if (!*name) return invalid(err, s, NULL);
    if (!strcmp(out->domain, "docker.io") && !strchr(name, '/'))
        snprintf(out->path, sizeof out->path, "library/%s", name);
    else if (snprintf(out->path, sizeof out->path, "%s", name) >= (int)sizeof out->path)
        return invalid(err, s, "repository name too long");
    if (!out->tag[0] && !out->digest[0]) snprintf(out->tag, sizeof out->tag, "latest");
    return 0;
}

void wb_ref_repo(const wb_ref *r, char *buf, size_t size) {
    snprintf(buf, size, "%s/%s", r->domain, r->path);
}

void wb_ref_full(const wb_ref *r, char *buf, size_t size) {
    if (r->tag[0])
        snprintf(buf, size, "%s/%s:%s", r->domain, r->path, r->tag);
    else
        snprintf(buf, size, "%s/%s@%s", r->domain, r->path, r->digest);
}

void wb_ref_familiar_repo(const wb_ref *r, char *buf, size_t size) {
    if (!strcmp(r->domain, "docker.io")) {
        const char *p = !strncmp(r->path, "library/", 8) ? r->path + 8 : r->path;
        snprintf(buf, size, "%s", p);
    } else {
        snprintf(buf, size, "%s/%s", r->domain, r->path);
    }
}

void wb_ref_familiar(const char *full, char *buf, size_t size) {
    const char *p = full;
    if (!strncmp(p, "docker.io/", 10)) {
        p += 10;
        if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/')) p += 8;
    }
    snprintf(buf, size, "%s", p);
}
